//! `xenoplan simulate FILE [--seed N] [--n-per-arm N] [--out DIR] [--start DATE]`: one
//! synthetic study analysed as `analyze` would (xenograft), a derivation or assay run (in
//! vitro); see `study::simulate`.

use crate::protocol;
use crate::study::simulate::SimulateJob;
use std::path::PathBuf;

/// Arguments of `xenoplan simulate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  xenoplan simulate protocols/tamr_mcf7_xenograft.toml --seed 1 --out output/sim
  xenoplan simulate protocols/anastrozole_resistant_mcf7aro.toml --seed 1 --reps 200")]
pub struct Args {
    /// Protocol file (TOML).
    pub file: PathBuf,
    /// Random seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Animals per arm (overrides the protocol's `n`; implanted numbers are scaled).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub n_per_arm: Option<u32>,
    /// Output folder (default `output/<protocol-id>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Calendar date of the protocol's first day (YYYY-MM-DD); default Monday 2027-01-04.
    #[arg(long, value_parser = super::parse_start)]
    pub start: Option<jiff::civil::Date>,
    /// Bootstrap replicates for the TGI and T/C confidence intervals (0 = none).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub bootstrap_reps: u64,
    /// Skip the linear mixed model in the analysis.
    #[arg(long)]
    pub no_lmm: bool,
    /// In vitro derivations: number of replicate runs (time-to-resistance distribution).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub reps: u32,
    /// Worker threads for replicate runs (results do not depend on it).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
}

/// Runs `xenoplan simulate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = protocol::load(&args.file)?;
    for w in &loaded.warnings {
        diag!("{w}");
    }
    let job = SimulateJob {
        protocol: &loaded,
        seed: args.seed,
        n_per_arm: args.n_per_arm.map(|n| n as usize),
        out: args.out,
        start: args.start,
        bootstrap_reps: args.bootstrap_reps as usize,
        lmm: !args.no_lmm,
        reps: args.reps,
        threads: args.threads.map(|t| t as usize),
    };
    let run = crate::study::simulate::run(&job, &super::Console::default())?;
    // A closed stdout (e.g. `| head`) must not panic: the files are already written.
    out!("{}", run.text());
    Ok(())
}
