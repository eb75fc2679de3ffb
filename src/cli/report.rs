//! `xenoplan report`: timeline + simulation + analysis + power in one self-contained HTML page
//! (`study::report`). A failing stage is shown in the report and makes the command exit with
//! status 1 after the page is written.

use crate::protocol;
use crate::study::report::ReportJob;
use jiff::civil::Date;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `xenoplan report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  xenoplan report protocols/tamr_mcf7_xenograft.toml
  xenoplan report protocols/amcenestrant_hci013_pdx.toml --seed 7 --reps 2000 --start 2027-03-01
  xenoplan report protocols/anastrozole_resistant_mcf7aro.toml --reps 200")]
pub struct Args {
    /// Protocol file (TOML), or a campaign file (one page linking each protocol's report).
    pub file: PathBuf,
    /// Seed of the simulation and power streams.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Replicates: simulated studies per n for power (xenograft), replicate derivations (in
    /// vitro). Default 500 for xenografts keeps the report to a few seconds (Wilson CI
    /// half-width ≤ 4.4 points); raise it for a final sizing.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=super::MAX_REPS))]
    pub reps: Option<u64>,
    /// Arm sizes evaluated by power: `A..B`, `N` or a list (default 4,6,8,10,12 per arm for
    /// xenografts; 2..8 replicate wells per condition for assays).
    #[arg(long = "n")]
    pub n: Option<String>,
    /// Timeline start date (day 0 of the first phase), YYYY-MM-DD; default the next Monday.
    #[arg(long, value_parser = super::parse_start)]
    pub start: Option<Date>,
    /// Output folder (default `output/<protocol-id>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads for power and replicate runs (results do not depend on it).
    #[arg(long, value_parser = super::parse_threads)]
    pub threads: Option<usize>,
}

/// Runs `xenoplan report`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let t_all = Instant::now();
    if crate::campaign::is_campaign(&args.file) {
        return campaign(&args, t_all);
    }
    let loaded = protocol::load(&args.file)?;
    for w in &loaded.warnings {
        diag!("{w}");
    }
    let job = ReportJob {
        protocol: &loaded,
        seed: args.seed,
        reps: args.reps,
        n: args.n,
        start: args.start,
        out: args.out,
        threads: args.threads,
    };
    let run = crate::study::report::run(&job, &super::Console::default())?;
    outln!(
        "wrote {} ({:.1} s)",
        run.index.display(),
        t_all.elapsed().as_secs_f64()
    );
    failed(
        &run.failures,
        "the report was written, but some stages failed",
    )
}

/// `xenoplan report CAMPAIGN.toml`: the campaign page and one report per linked protocol.
fn campaign(args: &Args, t_all: Instant) -> anyhow::Result<()> {
    let c = crate::campaign::load(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(first) = c.first_protocol() else {
        anyhow::bail!("{}: the campaign links no protocol", args.file.display());
    };
    let mut each = crate::study::timeline::TimelineJob::new(first);
    each.start = args.start;
    each.out = args.out.clone();
    each.seed = args.seed;
    let job = crate::campaign::report::CampaignReportJob {
        timeline: crate::campaign::CampaignJob { campaign: &c, each },
        seed: args.seed,
        reps: args.reps,
        threads: args.threads,
    };
    let run = crate::campaign::report::run(&job, &super::Console::default())?;
    outln!(
        "wrote {} ({:.1} s)",
        run.index.display(),
        t_all.elapsed().as_secs_f64()
    );
    failed(
        &run.failures,
        "the campaign report was written, but some stage reports failed",
    )
}

/// Exit 1 naming every failed stage (the page shows them too).
fn failed(failures: &[(String, String)], what: &str) -> anyhow::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = failures.iter().map(|(s, e)| format!("{s}: {e}")).collect();
    anyhow::bail!("{what}: {}", list.join("; "))
}
