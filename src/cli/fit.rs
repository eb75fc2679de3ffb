//! `xenoplan fit`: growth parameters from pilot data, printed as a protocol fragment
//! (`study::fit`).

use crate::fit::{Bootstrap, Method, Model};
use crate::study::fit::FitJob;
use std::path::PathBuf;

/// Growth models `fit` can estimate.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModelArg {
    /// V' = rV (linear on ln V).
    Exponential,
    /// V' = rV ln(K/V).
    Gompertz,
    /// V' = rV (1 − V/K).
    Logistic,
}

/// Population methods.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MethodArg {
    /// REML LMM for the exponential model without censored readings, else iterative two-stage.
    Auto,
    /// Iterative two-stage: per-animal fits under the population prior (censored likelihood).
    TwoStage,
    /// REML linear mixed model on ln V (exponential only).
    Lmm,
}

/// How bootstrap data sets are drawn.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BootstrapArg {
    /// New animals simulated from the fitted model on each animal's own reading days.
    Parametric,
    /// Animals resampled with replacement.
    Animals,
}

/// Arguments of `xenoplan fit`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  xenoplan simulate protocols/tamr_mcf7_xenograft.toml --seed 1 --out output/sim
  xenoplan fit output/sim/animals.csv --cohort TamR-MCF-7 --arm vehicle --out output/fit
  xenoplan fit output/sim/animals.csv --cohort TamR-MCF-7 --control vehicle --boot 500
  xenoplan fit pilot_wide.csv --model gompertz --detection-floor 30 --boot 2000")]
pub struct Args {
    /// Measurements: tidy `animals.csv` layout or wide `volumes_wide.csv` layout.
    pub data: PathBuf,
    /// Growth model.
    #[arg(long, value_enum, default_value = "exponential")]
    pub model: ModelArg,
    /// Population method.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
    /// Arm to fit (required when the data has several; usually the vehicle arm).
    #[arg(long)]
    pub arm: Option<String>,
    /// Cohort to fit (required when the data has several).
    #[arg(long)]
    pub cohort: Option<String>,
    /// Control arm: growth is fitted on it (as `--arm`), and every other arm of the cohort
    /// gets a `[[cohorts.effects]]` entry with its growth-rate inhibition 1 − r_T/r_C
    /// (exponential model).
    #[arg(long, value_name = "ARM")]
    pub control: Option<String>,
    /// Folder for plots, tables, the fragment and manifest.json (nothing is written without it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Bootstrap resamples (0 = point estimates only).
    #[arg(long, default_value_t = 1000, value_parser = super::parse_boot)]
    pub boot: usize,
    /// How bootstrap data sets are drawn: `parametric` (default; calibrated for 10–40
    /// animals) or `animals` (resampling, robust to a non-log-normal spread between animals).
    #[arg(long, value_enum, default_value = "parametric")]
    pub bootstrap: BootstrapArg,
    /// Detection floor, mm³: readings at or below it are left-censored (default: the smallest
    /// positive reading when some readings are 0, else none).
    #[arg(long)]
    pub detection_floor: Option<f64>,
    /// Date written in the sources (YYYY-MM-DD; default: today, UTC).
    #[arg(long)]
    pub date: Option<jiff::civil::Date>,
}

/// Runs `xenoplan fit`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let model = match args.model {
        ModelArg::Exponential => Model::Exponential,
        ModelArg::Gompertz => Model::Gompertz,
        ModelArg::Logistic => Model::Logistic,
    };
    let mut job = FitJob::new(args.data, model);
    job.arm = args.arm;
    job.control = args.control;
    job.date = args.date;
    let opts = &mut job.options;
    opts.cohort = args.cohort;
    opts.seed = args.seed;
    opts.bootstrap_reps = args.boot;
    opts.detection_floor_mm3 = args.detection_floor;
    opts.bootstrap = match args.bootstrap {
        BootstrapArg::Parametric => Bootstrap::Parametric,
        BootstrapArg::Animals => Bootstrap::Animals,
    };
    opts.method = match args.method {
        MethodArg::Auto => Method::Auto,
        MethodArg::TwoStage => Method::TwoStage,
        MethodArg::Lmm => Method::Lmm,
    };
    let run = crate::study::fit::run(&job, &super::Console::default())?;
    out!("{}", run.fragment);
    for w in run.warnings() {
        diagln!("{w}");
    }
    if let Some(dir) = &args.out {
        let files = crate::study::fit::write(&job, &run, dir)?;
        diagln!("wrote {} files to {}", files.len(), dir.display());
    }
    Ok(())
}
