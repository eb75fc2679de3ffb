//! The fit stage: growth-model parameters and between-animal variability from pilot data,
//! rendered as a protocol fragment, with its tables, figures and `manifest.json`.

use super::Observer;
use crate::fit::effects::ArmEffect;
use crate::fit::{FitOptions, FitResult, Model};
use crate::output::{Manifest, fmt_f, write_atomic, write_csv_rows};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// What to fit.
#[derive(Debug, Clone)]
pub struct FitJob {
    /// Measurements: tidy `animals.csv` or wide `volumes_wide.csv` layout.
    pub data: PathBuf,
    /// Arm to fit (required when the data has several).
    pub arm: Option<String>,
    /// Control arm: growth is fitted on it, and every other arm gets its growth-rate
    /// inhibition (a `[[cohorts.effects]]` entry).
    pub control: Option<String>,
    /// Model, cohort, bootstrap, seed, detection floor and method (`arm` is set from the job).
    pub options: FitOptions,
    /// Date written in the sources; `None` = today (UTC).
    pub date: Option<jiff::civil::Date>,
}

impl FitJob {
    /// Fits `model` to `data` with the defaults of `xenoplan fit`.
    pub fn new(data: PathBuf, model: Model) -> Self {
        FitJob {
            data,
            arm: None,
            control: None,
            options: FitOptions::new(model),
            date: None,
        }
    }
}

/// A fit and its protocol fragment.
#[derive(Debug, Clone)]
pub struct FitRun {
    /// Population parameters, per-animal fits, warnings.
    pub result: FitResult,
    /// Treated arms' growth-rate inhibitions (with a control arm).
    pub effects: Vec<ArmEffect>,
    /// The TOML fragment to paste into a protocol (`fit.toml`).
    pub fragment: String,
    /// Data file name written in the sources.
    pub file_name: String,
    /// Date written in the sources.
    pub date: jiff::civil::Date,
    /// Bytes of the data file (its SHA-256 goes into `manifest.json`).
    pub bytes: Vec<u8>,
}

/// Reads `job.data` and fits the growth model (and the treated arms with a control).
pub fn run(job: &FitJob, obs: &dyn Observer) -> anyhow::Result<FitRun> {
    let bytes =
        std::fs::read(&job.data).with_context(|| format!("cannot read {}", job.data.display()))?;
    let (data, read_warnings) = crate::fit::read::read_bytes_with_warnings(&job.data, &bytes)?;
    for w in &read_warnings {
        obs.note(&format!("warning: {w}"));
    }
    if let (Some(a), Some(c)) = (&job.arm, &job.control)
        && a != c
    {
        anyhow::bail!(
            "--arm `{a}` and --control `{c}` differ: growth is fitted on the control; give one of them"
        );
    }
    let mut opts = job.options.clone();
    opts.arm = job.control.clone().or_else(|| job.arm.clone());
    let result =
        crate::fit::fit(&data, &opts).with_context(|| format!("fitting {}", job.data.display()))?;
    let date = job.date.unwrap_or_else(|| {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    });
    let file_name = job
        .data
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| job.data.display().to_string());
    let mut fragment = crate::fit::fragment::render(&result, &file_name, &date.to_string());
    let effects = match &job.control {
        Some(_) => {
            let e = crate::fit::effects::fit_effects(&data, &opts, &result)
                .with_context(|| format!("fitting the treated arms of {}", job.data.display()))?;
            fragment.push_str(&crate::fit::fragment::render_effects(
                &e,
                &result,
                &file_name,
                &date.to_string(),
            ));
            e
        }
        None => Vec::new(),
    };
    Ok(FitRun {
        result,
        effects,
        fragment,
        file_name,
        date,
        bytes,
    })
}

impl FitRun {
    /// The fit's warnings and each treated arm's, one line each.
    pub fn warnings(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .result
            .warnings
            .iter()
            .map(|w| format!("warning: {w}"))
            .collect();
        for e in &self.effects {
            v.extend(
                e.warnings
                    .iter()
                    .map(|w| format!("warning ({}): {w}", e.arm)),
            );
        }
        v
    }
}

/// Header of `fit_parameters.csv` (Prism/Excel/R friendly).
const PARAMETER_HEADER: [&str; 7] = [
    "parameter",
    "statistic",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "unit",
];

/// Header of `fit_effects.csv`.
const EFFECT_HEADER: [&str; 11] = [
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

/// `fit_parameters.csv` rows: typical value and variability of every parameter, residual SD.
fn parameter_rows(run: &FitRun) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let row = |p: &str, stat: &str, e: &crate::fit::Estimate, unit: &str| {
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
    for p in &run.result.params {
        rows.push(row(p.name, "typical", &p.typical, p.unit));
        let (stat, unit) = match p.kind {
            crate::fit::VariabilityKind::LogNormalCv => ("cv", ""),
            crate::fit::VariabilityKind::NormalSd => ("sd", p.unit),
        };
        rows.push(row(p.name, stat, &p.variability, unit));
    }
    rows.push(row("residual_ln_volume", "sd", &run.result.residual_sd, ""));
    rows
}

/// `fit_effects.csv` rows: each treated arm's growth-rate inhibition.
fn effect_rows(run: &FitRun) -> Vec<Vec<String>> {
    run.effects
        .iter()
        .map(|e| {
            vec![
                e.arm.clone(),
                run.result.arm.clone(),
                e.n_treated.to_string(),
                run.result.series.len().to_string(),
                fmt_f(e.rate_treated, 6),
                fmt_f(e.rate_control, 6),
                fmt_f(e.inhibition.value, 6),
                fmt_f(e.inhibition.se, 6),
                fmt_f(e.inhibition.ci_low, 6),
                fmt_f(e.inhibition.ci_high, 6),
                e.pairs.to_string(),
            ]
        })
        .collect()
}

/// `fit_animals.csv`: per-animal estimates, first stage and empirical Bayes, natural scale.
fn animal_table(run: &FitRun, model: Model) -> (Vec<String>, Vec<Vec<String>>) {
    let names: Vec<&str> = run.result.params.iter().map(|p| p.name).collect();
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
    let rows = run
        .result
        .series
        .iter()
        .zip(&run.result.fits)
        .zip(&run.result.individual)
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
    (header, rows)
}

/// Writes `fit.toml`, the tables, the figures and `manifest.json` into `dir`; returns the
/// files written (relative to `dir`), `manifest.json` last.
pub fn write(job: &FitJob, run: &FitRun, dir: &Path) -> anyhow::Result<Vec<String>> {
    let _lock = crate::output::begin_run(dir)?;
    let mut files = Vec::new();
    write_atomic(&dir.join("fit.toml"), run.fragment.as_bytes())?;
    files.push("fit.toml".to_string());
    write_csv_rows(
        &dir.join("fit_parameters.csv"),
        &PARAMETER_HEADER,
        &parameter_rows(run),
    )?;
    files.push("fit_parameters.csv".into());
    if !run.effects.is_empty() {
        write_csv_rows(
            &dir.join("fit_effects.csv"),
            &EFFECT_HEADER,
            &effect_rows(run),
        )?;
        files.push("fit_effects.csv".into());
    }
    let (header, rows) = animal_table(run, job.options.model);
    write_csv_rows(&dir.join("fit_animals.csv"), &header, &rows)?;
    files.push("fit_animals.csv".into());
    let note = format!(
        "{}, {} animals, seed {}",
        run.file_name,
        run.result.series.len(),
        job.options.seed
    );
    for p in crate::fit::plots::write(&run.result, dir, &note)? {
        files.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
    }
    let mut m = Manifest::new("fit").with_input(&job.data, &run.bytes);
    m.seed = Some(job.options.seed);
    m.files = files;
    m.parameters = serde_json::json!({
        "model": job.options.model.name(),
        "method": run.result.method,
        "arm": run.result.arm,
        "control": job.control,
        "treated_arms": run.effects.iter().map(|e| e.arm.clone()).collect::<Vec<_>>(),
        "cohort": run.result.cohort,
        "bootstrap_reps": job.options.bootstrap_reps,
        "bootstrap": run.result.bootstrap.name(),
        "bootstrap_failed": run.result.bootstrap_failed,
        "em_iterations": run.result.iterations,
        "warnings": run.result.warnings,
        "confidence_level": run.result.level,
        "detection_floor_mm3": run.result.floor_mm3,
        "animals": run.result.series.len(),
        "excluded_animals": run.result.excluded.iter().map(|(a, r)| serde_json::json!({"animal_id": a, "reason": r})).collect::<Vec<_>>(),
        "readings": run.result.n_readings,
        "censored_readings": run.result.n_censored,
        "date": run.date.to_string(),
    });
    m.write(dir)?;
    let mut files = m.files;
    files.push("manifest.json".into());
    Ok(files)
}
