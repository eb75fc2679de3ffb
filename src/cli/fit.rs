//! `xenoplan fit`: growth parameters from pilot data, printed as a protocol fragment.

use anyhow::Context;
use std::path::PathBuf;
use xenoplan_fit::{FitOptions, Model};

use crate::fit as xenoplan_fit;
use crate::output::{Manifest, fmt_f, write_atomic, write_csv_rows};

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
    let bytes = std::fs::read(&args.data)
        .with_context(|| format!("cannot read {}", args.data.display()))?;
    let (data, read_warnings) = xenoplan_fit::read::read_bytes_with_warnings(&args.data, &bytes)?;
    for w in &read_warnings {
        diagln!("warning: {w}");
    }
    if let (Some(a), Some(c)) = (&args.arm, &args.control)
        && a != c
    {
        anyhow::bail!(
            "--arm `{a}` and --control `{c}` differ: growth is fitted on the control; give one of them"
        );
    }
    let mut opts = FitOptions::new(model);
    opts.arm = args.control.clone().or_else(|| args.arm.clone());
    opts.cohort = args.cohort.clone();
    opts.seed = args.seed;
    opts.bootstrap_reps = args.boot;
    opts.detection_floor_mm3 = args.detection_floor;
    opts.bootstrap = match args.bootstrap {
        BootstrapArg::Parametric => xenoplan_fit::Bootstrap::Parametric,
        BootstrapArg::Animals => xenoplan_fit::Bootstrap::Animals,
    };
    opts.method = match args.method {
        MethodArg::Auto => xenoplan_fit::Method::Auto,
        MethodArg::TwoStage => xenoplan_fit::Method::TwoStage,
        MethodArg::Lmm => xenoplan_fit::Method::Lmm,
    };
    let result = xenoplan_fit::fit(&data, &opts)
        .with_context(|| format!("fitting {}", args.data.display()))?;
    let date = args.date.unwrap_or_else(|| {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    });
    let file_name = args
        .data
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.data.display().to_string());
    let mut fragment = xenoplan_fit::fragment::render(&result, &file_name, &date.to_string());
    let effects = match &args.control {
        Some(_) => {
            let e = xenoplan_fit::effects::fit_effects(&data, &opts, &result)
                .with_context(|| format!("fitting the treated arms of {}", args.data.display()))?;
            fragment.push_str(&xenoplan_fit::fragment::render_effects(
                &e,
                &result,
                &file_name,
                &date.to_string(),
            ));
            e
        }
        None => Vec::new(),
    };
    out!("{fragment}");
    for w in &result.warnings {
        diagln!("warning: {w}");
    }
    for e in &effects {
        for w in &e.warnings {
            diagln!("warning ({}): {w}", e.arm);
        }
    }

    if let Some(dir) = &args.out {
        let _lock = crate::output::begin_run(dir)?;
        let mut files = Vec::new();
        write_atomic(&dir.join("fit.toml"), fragment.as_bytes())?;
        files.push("fit.toml".to_string());
        // Parameter table (Prism/Excel/R friendly).
        let header = [
            "parameter",
            "statistic",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "unit",
        ];
        let mut rows = Vec::new();
        let row = |p: &str, stat: &str, e: &xenoplan_fit::Estimate, unit: &str| {
            vec![
                p.to_string(),
                stat.to_string(),
                fmt_f(e.value, 6),
                fmt_f(e.se, 6),
                fmt_f(e.ci_low, 6),
                fmt_f(e.ci_high, 6),
                unit.to_string(),
            ]
        };
        for p in &result.params {
            rows.push(row(p.name, "typical", &p.typical, p.unit));
            let (stat, unit) = match p.kind {
                xenoplan_fit::VariabilityKind::LogNormalCv => ("cv", ""),
                xenoplan_fit::VariabilityKind::NormalSd => ("sd", p.unit),
            };
            rows.push(row(p.name, stat, &p.variability, unit));
        }
        rows.push(row("residual_ln_volume", "sd", &result.residual_sd, ""));
        write_csv_rows(&dir.join("fit_parameters.csv"), &header, &rows)?;
        files.push("fit_parameters.csv".into());
        if !effects.is_empty() {
            let header = [
                "arm",
                "control",
                "n_treated",
                "n_control",
                "rate_treated",
                "rate_control",
                "inhibition",
                "se",
                "ci_low",
                "ci_high",
                "paired_resamples",
            ];
            let rows: Vec<Vec<String>> = effects
                .iter()
                .map(|e| {
                    vec![
                        e.arm.clone(),
                        result.arm.clone(),
                        e.n_treated.to_string(),
                        result.series.len().to_string(),
                        fmt_f(e.rate_treated, 6),
                        fmt_f(e.rate_control, 6),
                        fmt_f(e.inhibition.value, 6),
                        fmt_f(e.inhibition.se, 6),
                        fmt_f(e.inhibition.ci_low, 6),
                        fmt_f(e.inhibition.ci_high, 6),
                        e.pairs.to_string(),
                    ]
                })
                .collect();
            write_csv_rows(&dir.join("fit_effects.csv"), &header, &rows)?;
            files.push("fit_effects.csv".into());
        }
        // Per-animal estimates: first stage and empirical Bayes, natural scale.
        let names: Vec<&str> = result.params.iter().map(|p| p.name).collect();
        let mut header = vec![
            "animal_id".to_string(),
            "arm".into(),
            "readings".into(),
            "censored".into(),
            "last_day".into(),
        ];
        header.extend(names.iter().map(|n| format!("{n}_fit")));
        header.extend(names.iter().map(|n| format!("{n}_individual")));
        let natural = |j: usize, x: f64| {
            if model == Model::Exponential && j == 1 {
                x
            } else {
                x.exp()
            }
        };
        let rows: Vec<Vec<String>> = result
            .series
            .iter()
            .zip(&result.fits)
            .zip(&result.individual)
            .map(|((s, f), ind)| {
                let mut r = vec![
                    s.id.clone(),
                    s.arm.clone(),
                    s.days.len().to_string(),
                    s.censored.iter().filter(|c| **c).count().to_string(),
                    s.days.last().map(|d| fmt_f(*d, 2)).unwrap_or_default(),
                ];
                r.extend(
                    f.phi
                        .iter()
                        .enumerate()
                        .map(|(j, x)| fmt_f(natural(j, *x), 6)),
                );
                r.extend(
                    ind.iter()
                        .enumerate()
                        .map(|(j, x)| fmt_f(natural(j, *x), 6)),
                );
                r
            })
            .collect();
        write_csv_rows(&dir.join("fit_animals.csv"), &header, &rows)?;
        files.push("fit_animals.csv".into());
        let note = format!(
            "{file_name}, {} animals, seed {}",
            result.series.len(),
            args.seed
        );
        for p in xenoplan_fit::plots::write(&result, dir, &note)? {
            files.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
        }
        let mut m = Manifest::new("fit").with_input(&args.data, &bytes);
        m.seed = Some(args.seed);
        m.files = files;
        m.parameters = serde_json::json!({
            "model": model.name(),
            "method": result.method,
            "arm": result.arm,
            "control": args.control,
            "treated_arms": effects.iter().map(|e| e.arm.clone()).collect::<Vec<_>>(),
            "cohort": result.cohort,
            "bootstrap_reps": args.boot,
            "bootstrap": result.bootstrap.name(),
            "bootstrap_failed": result.bootstrap_failed,
            "em_iterations": result.iterations,
            "warnings": result.warnings,
            "confidence_level": result.level,
            "detection_floor_mm3": result.floor_mm3,
            "animals": result.series.len(),
            "excluded_animals": result.excluded.iter().map(|(a, r)| serde_json::json!({"animal_id": a, "reason": r})).collect::<Vec<_>>(),
            "readings": result.n_readings,
            "censored_readings": result.n_censored,
            "date": date.to_string(),
        });
        m.write(dir)?;
        diagln!("wrote {} files to {}", m.files.len() + 1, dir.display());
    }
    Ok(())
}
