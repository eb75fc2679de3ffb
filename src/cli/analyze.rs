//! `xenoplan analyze`: the same analysis as `simulate`, on a user's measured data
//! (`study::analyze`).

use crate::study::analyze::AnalyzeJob;
use std::path::PathBuf;

/// Arguments of `xenoplan analyze`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  xenoplan analyze output/sim/animals.csv --control vehicle --out output/analysis
  xenoplan analyze tests/fixtures/synergy/synergy_data.csv --control Control --synergy 'Combination=DrugA,DrugB'
  xenoplan analyze measured.csv --hypotheses protocols/amcenestrant_hci013_pdx.toml")]
pub struct Args {
    /// Measurements in the `animals.csv` layout (animal_id,arm,day,volume_mm3 or
    /// length_mm,width_mm; optional cohort column).
    pub data: PathBuf,
    /// Control arm (in every cohort). Default: an arm named `vehicle` or `control`.
    #[arg(long)]
    pub control: Option<String>,
    /// Output folder (default `output/<data-file-stem>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Day of the single-day tests (default: last day with ≥ 80% of control animals measured).
    #[arg(long)]
    pub day: Option<f64>,
    /// Time-to-endpoint event: volume ≥ V mm³ (default: 4 × the animal's baseline volume).
    #[arg(long, value_name = "V", conflicts_with = "endpoint_fold")]
    pub endpoint_volume: Option<f64>,
    /// Time-to-endpoint event: volume ≥ F × baseline volume.
    #[arg(long, value_name = "F")]
    pub endpoint_fold: Option<f64>,
    /// Humane tumor-burden limit counted as the endpoint event (euthanasia for tumor burden):
    /// mean caliper diameter (L + W)/2 ≥ D mm (needs length_mm, width_mm).
    #[arg(long, value_name = "D")]
    pub endpoint_diameter: Option<f64>,
    /// Bootstrap replicates for the TGI and T/C confidence intervals (0 = none).
    #[arg(long, default_value_t = 2000, value_parser = super::parse_boot)]
    pub bootstrap_reps: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Skip the linear mixed model.
    #[arg(long)]
    pub no_lmm: bool,
    /// Add Bliss and HSA synergy tests of a combination arm against its component arms and
    /// the control: `COMBINATION=A,B` (repeatable), e.g. `--synergy 'A+B=A,B'`.
    #[arg(long, value_name = "COMBO=A,B")]
    pub synergy: Vec<String>,
    /// Test the hypotheses (and families) declared in this protocol's `[analysis]` instead of
    /// each arm vs control, so measured data get the family the study was sized for.
    #[arg(long, value_name = "PROTOCOL.toml")]
    pub hypotheses: Option<PathBuf>,
}

/// Runs `xenoplan analyze`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let job = AnalyzeJob {
        data: args.data,
        control: args.control,
        out: args.out,
        day: args.day,
        endpoint_volume: args.endpoint_volume,
        endpoint_fold: args.endpoint_fold,
        endpoint_diameter: args.endpoint_diameter,
        bootstrap_reps: args.bootstrap_reps,
        seed: args.seed,
        lmm: !args.no_lmm,
        synergy: args.synergy,
        hypotheses: args.hypotheses,
    };
    let run = crate::study::analyze::run(&job, &super::Console::default())?;
    out!("{}", run.text());
    Ok(())
}
