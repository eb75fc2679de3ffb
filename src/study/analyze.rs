//! The analyze stage: the analysis `simulate` runs, on a user's measured data.

use super::Observer;
use crate::analysis::{self, AnalysisOptions, AnalysisResult, EndpointRule};
use crate::output::{Manifest, begin_run};
use anyhow::Context;
use std::path::PathBuf;

/// What to analyze and how. The option checks name the `xenoplan analyze` flags.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeJob {
    /// Measurements in the `animals.csv` layout.
    pub data: PathBuf,
    /// Control arm of every cohort; `None` = an arm named `vehicle` or `control`.
    pub control: Option<String>,
    /// Output folder; `None` = `output/<data-file-stem>/`.
    pub out: Option<PathBuf>,
    /// Day of the single-day tests; `None` = last day with ≥ 80% of control animals measured.
    pub day: Option<f64>,
    /// Time-to-endpoint event: volume ≥ V mm³ (else 4 × the animal's baseline).
    pub endpoint_volume: Option<f64>,
    /// Time-to-endpoint event: volume ≥ F × baseline.
    pub endpoint_fold: Option<f64>,
    /// Humane limit counted as the endpoint event: mean caliper diameter ≥ D mm.
    pub endpoint_diameter: Option<f64>,
    /// Bootstrap replicates of the TGI and T/C confidence intervals (0 = none).
    pub bootstrap_reps: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Fit the linear mixed model.
    pub lmm: bool,
    /// Synergy hypotheses `COMBINATION=A,B`.
    pub synergy: Vec<String>,
    /// Test the hypotheses (and families) of this xenograft protocol instead of each arm vs
    /// control.
    pub hypotheses: Option<PathBuf>,
}

/// An analysis written to a folder.
#[derive(Debug, Clone)]
pub struct AnalyzeRun {
    /// Every table, test and warning.
    pub result: AnalysisResult,
    /// Folder written.
    pub out: PathBuf,
    /// Files written (relative to `out`), without `manifest.json`.
    pub files: Vec<String>,
}

/// The analysis plan from `hypotheses` and `synergy`.
fn plan(job: &AnalyzeJob, obs: &dyn Observer) -> anyhow::Result<analysis::HypothesisPlan> {
    let mut plan = match &job.hypotheses {
        None => analysis::HypothesisPlan::default(),
        Some(path) => {
            let loaded = crate::protocol::load(path)?;
            for w in &loaded.warnings {
                let w = w.to_string();
                obs.note(w.strip_suffix('\n').unwrap_or(&w));
            }
            let x = loaded.protocol.xenograft().with_context(|| {
                format!(
                    "{}: --hypotheses needs a xenograft protocol",
                    path.display()
                )
            })?;
            analysis::HypothesisPlan::from_protocol(x)
        }
    };
    for s in &job.synergy {
        let h = analysis::hypotheses::synergy_hypothesis(s).map_err(anyhow::Error::msg)?;
        plan.hypotheses.push(h);
    }
    Ok(plan)
}

/// The control arm: the job's, or the one arm named `vehicle` or `control`.
fn control_arm(job: &AnalyzeJob, ds: &crate::data::Dataset, file: &str) -> anyhow::Result<String> {
    if let Some(c) = &job.control {
        return Ok(c.clone());
    }
    let mut arms: Vec<&str> = ds.rows.iter().map(|r| r.arm.as_str()).collect();
    arms.sort_unstable();
    arms.dedup();
    arms.iter()
        .find(|a| a.eq_ignore_ascii_case("vehicle") || a.eq_ignore_ascii_case("control"))
        .map(|a| a.to_string())
        .with_context(|| format!("no arm named `vehicle` or `control` in {file}; name the control arm with --control (arms: {})", arms.join(", ")))
}

/// The analysis options of `job` (after its values are checked).
fn options(job: &AnalyzeJob, control: &str, obs: &dyn Observer) -> anyhow::Result<AnalysisOptions> {
    for (name, v) in [
        ("--day", job.day),
        ("--endpoint-volume", job.endpoint_volume),
        ("--endpoint-fold", job.endpoint_fold),
        ("--endpoint-diameter", job.endpoint_diameter),
    ] {
        if let Some(v) = v
            && (!v.is_finite() || (name != "--day" && v <= 0.0))
        {
            anyhow::bail!("{name} must be a positive finite number, got {v}");
        }
    }
    if job.endpoint_volume.is_some() && job.endpoint_fold.is_some() {
        anyhow::bail!("--endpoint-volume and --endpoint-fold are alternatives; give one");
    }
    // Bootstrap values are kept per arm and day for the percentile intervals.
    if job.bootstrap_reps > 1_000_000 {
        anyhow::bail!(
            "--bootstrap-reps {} is more than 1000000 (percentile CIs are stable long before)",
            job.bootstrap_reps
        );
    }
    let mut opt = AnalysisOptions::new(control);
    opt.analysis_day = job.day;
    opt.bootstrap_reps = job.bootstrap_reps;
    opt.seed = job.seed;
    opt.run_lmm = job.lmm;
    opt.plan = plan(job, obs)?;
    if let Some(v) = job.endpoint_volume {
        opt.endpoint = EndpointRule::Volume(v);
    } else if let Some(f) = job.endpoint_fold {
        opt.endpoint = EndpointRule::FoldBaseline(f);
    }
    if let Some(d) = job.endpoint_diameter {
        opt.burden.max_mean_diameter_mm = d;
    }
    Ok(opt)
}

/// Reads `job.data`, analyzes it and writes the tables, figures and `manifest.json`.
pub fn run(job: &AnalyzeJob, obs: &dyn Observer) -> anyhow::Result<AnalyzeRun> {
    let bytes =
        std::fs::read(&job.data).with_context(|| format!("cannot read {}", job.data.display()))?;
    let file = job.data.display().to_string();
    let (ds, read_warnings) = analysis::csv_in::parse_dataset_with_warnings(&bytes, &file)?;
    for w in &read_warnings {
        obs.note(&format!("warning: {w}"));
    }
    let control = control_arm(job, &ds, &file)?;
    let opt = options(job, &control, obs)?;
    let res = analysis::analyze(&ds, &opt)?;
    for w in &res.warnings {
        obs.note(&format!("warning: {w}"));
    }
    let out = job.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(crate::output::sanitized_stem(&job.data, "analysis"))
    });
    let _lock = begin_run(&out)?;
    let mut files = analysis::write_outputs(&res, &out)?;
    files.extend(analysis::plots::write_plots(&ds, &res, &opt, &out)?);
    let mut m = Manifest::new("analyze").with_input(&job.data, &bytes);
    m.seed = Some(opt.seed);
    m.parameters = serde_json::json!({
        "control": opt.control,
        "analysis_day": opt.analysis_day,
        "analysis_days_used": res.cohorts.iter().map(|c| serde_json::json!({"cohort": c.name, "day": c.analysis_day, "arms": c.arms, "n_control": c.n_control})).collect::<Vec<_>>(),
        "on_study_fraction": opt.on_study_fraction,
        "endpoint": opt.endpoint.describe(),
        "bootstrap_reps": opt.bootstrap_reps,
        "log_floor_mm3": opt.log_floor_mm3,
        "response_min_day": opt.response_min_day,
        "lmm": opt.run_lmm,
        "definitions": analysis::definitions(),
    });
    m.files = files.clone();
    m.write(&out)?;
    for line in undefined_test_warnings(&res) {
        obs.note(&line);
    }
    Ok(AnalyzeRun {
        result: res,
        out,
        files,
    })
}

/// One warning per cohort with fewer than two control animals measured on its analysis day.
fn undefined_test_warnings(res: &AnalysisResult) -> Vec<String> {
    let mut v = Vec::new();
    for c in &res.cohorts {
        let measured = res
            .animals
            .iter()
            .filter(|a| {
                a.cohort == c.name
                    && a.arm == c.arms[0]
                    && a.at_analysis_day(c.analysis_day).is_some()
            })
            .count();
        if measured < 2 {
            v.push(format!(
                "warning: {measured} control animal(s){} measured on day {}; the single-day tests are undefined (choose a measurement day with --day)",
                if c.name.is_empty() {
                    String::new()
                } else {
                    format!(" of cohort {}", c.name)
                },
                c.analysis_day
            ));
        }
    }
    v
}

impl AnalyzeRun {
    /// The text `xenoplan analyze` prints: per cohort its arms, day and every test's p-values.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let res = &self.result;
        let mut o = String::new();
        for c in &res.cohorts {
            let label = if c.name.is_empty() {
                String::new()
            } else {
                format!("cohort {}: ", c.name)
            };
            let n: usize = res.animals.iter().filter(|a| a.cohort == c.name).count();
            let _ = writeln!(
                o,
                "{label}{n} animals, arms {} (control {}), analysis day {}",
                c.arms.join(", "),
                c.arms[0],
                c.analysis_day
            );
            let tests: Vec<_> = res.tests.iter().filter(|t| t.cohort == c.name).collect();
            let w = tests
                .iter()
                .map(|t| t.comparison.chars().count())
                .max()
                .unwrap_or(0);
            for t in tests {
                let _ = writeln!(
                    o,
                    "  {:<w$}  {:<10} p = {:<10} p_adj = {}",
                    t.comparison,
                    t.key.as_str(),
                    fmt_p(t.p_value),
                    fmt_p(t.p_adjusted)
                );
            }
        }
        for t in res
            .tests
            .iter()
            .filter(|t| t.family == crate::analysis::panel::PANEL_FAMILY)
        {
            let _ = writeln!(
                o,
                "{}: {:<13} p = {:<10} p_adj = {}",
                t.comparison,
                t.key.as_str(),
                fmt_p(t.p_value),
                fmt_p(t.p_adjusted)
            );
        }
        let _ = writeln!(
            o,
            "wrote {} files to {}",
            self.files.len() + 1,
            self.out.display()
        );
        o
    }
}

fn fmt_p(p: f64) -> String {
    if !p.is_finite() {
        "NA".into()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}
