//! The in vitro power stage: replicate wells per condition of an `assay` protocol
//! ([`crate::power::assay`]), written to a folder as `power.csv`, `plots/power.{svg,png}` and
//! `manifest.json`.

use super::Observer;
use crate::output::{Manifest, begin_run};
use crate::power::assay::{
    self, Alternative, AssayPowerResult, AssaySettings, DEFAULT_ALPHA, DEFAULT_FOLD_SHIFT,
    DEFAULT_TARGET, run_assay_power,
};
use crate::power::assay_report::{ENGINE_KEY, assay_text, write_assay_outputs};
use crate::protocol::{Body, Loaded};
use std::path::PathBuf;

/// What to size; `None` fields take the defaults of [`crate::power::assay`].
#[derive(Debug, Clone)]
pub struct AssayPowerJob<'a> {
    /// The loaded assay protocol.
    pub protocol: &'a Loaded,
    /// Replicate wells per condition: `A..B`, `N` or a list (`None` = 2..8).
    pub n: Option<String>,
    /// Simulated experiments per n and line.
    pub reps: u64,
    /// Two-sided α (`None` = 0.05, assumed).
    pub alpha: Option<f64>,
    /// Target power (`None` = 0.8, assumed).
    pub target: Option<f64>,
    /// IC50 fold shift to detect (`None` = 10×).
    pub fold_shift: Option<f64>,
    /// Difference in maximal inhibition to detect (`None` = not sized).
    pub max_inhibition_diff: Option<f64>,
    /// Independent experiments per line: `A..B`, `K` or a list, each ≥ 2 (`None` = one
    /// experiment, Wald test within it).
    pub experiments: Option<String>,
    /// Seed of every stream.
    pub seed: u64,
    /// Worker threads (`None` = all cores); results do not depend on it.
    pub threads: Option<usize>,
    /// Output folder; `None` = `output/<protocol-id>/`.
    pub out: Option<PathBuf>,
}

impl<'a> AssayPowerJob<'a> {
    /// The defaults of `xenoplan power` on an assay protocol.
    pub fn new(protocol: &'a Loaded) -> Self {
        AssayPowerJob {
            protocol,
            n: None,
            reps: 1000,
            alpha: None,
            target: None,
            fold_shift: None,
            max_inhibition_diff: None,
            experiments: None,
            seed: 1,
            threads: None,
            out: None,
        }
    }

    /// Validated settings.
    pub fn settings(&self) -> anyhow::Result<AssaySettings> {
        let n = self.n.as_deref().unwrap_or(assay::DEFAULT_N);
        let alpha_source = match (self.alpha, self.target) {
            (Some(_), Some(_)) => "--alpha, --target".to_string(),
            (Some(_), None) => format!(
                "--alpha; target {DEFAULT_TARGET} assumed (conventional; assay protocols carry no analysis plan)"
            ),
            (None, Some(_)) => format!(
                "--target; α {DEFAULT_ALPHA} assumed (conventional; assay protocols carry no analysis plan)"
            ),
            (None, None) => {
                "assumed: conventional α and power; assay protocols carry no analysis plan"
                    .to_string()
            }
        };
        let s = AssaySettings {
            n_values: crate::power::parse_n_range(n)?,
            reps: self.reps,
            alpha: self.alpha.unwrap_or(DEFAULT_ALPHA),
            target: self.target.unwrap_or(DEFAULT_TARGET),
            alpha_source,
            seed: self.seed,
            threads: self
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            alternative: Alternative {
                fold_shift: self.fold_shift.unwrap_or(DEFAULT_FOLD_SHIFT),
                max_inhibition_diff: self.max_inhibition_diff,
            },
            experiments: self
                .experiments
                .as_deref()
                .map(crate::power::parse_n_range)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--experiments: {e}"))?,
        };
        s.validate()?;
        Ok(s)
    }
}

/// An in vitro power analysis written to a folder.
#[derive(Debug, Clone)]
pub struct AssayPowerRun {
    /// Rows, recommendations, warnings.
    pub result: AssayPowerResult,
    /// Folder written.
    pub out: PathBuf,
}

impl AssayPowerRun {
    /// The text `xenoplan power` prints for an assay protocol.
    pub fn text(&self) -> String {
        format!(
            "{}\nWrote {}/power.csv, plots/power.svg, plots/power.png, manifest.json\n",
            assay_text(&self.result),
            self.out.display()
        )
    }

    /// The `--json` summary.
    pub fn json(&self) -> serde_json::Value {
        let mut j = serde_json::to_value(&self.result).unwrap_or_default();
        j["justification"] = crate::power::assay_report::justification(&self.result).into();
        j["output_dir"] = self.out.display().to_string().into();
        j
    }
}

/// Runs the in vitro sizing of `job` and writes its files.
pub fn run(job: &AssayPowerJob<'_>, obs: &dyn Observer) -> anyhow::Result<AssayPowerRun> {
    let protocol = &job.protocol.protocol;
    let Body::Assay(a) = &protocol.body else {
        anyhow::bail!(
            "{}: in vitro sizing needs an assay protocol (this is a {} protocol)",
            protocol.id,
            protocol.kind().as_str()
        );
    };
    let s = job.settings()?;
    let out = job
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&protocol.id));
    let cells = s.n_values.len() as u64
        * a.lines.len() as u64
        * s.experiments.as_ref().map_or(1, |k| k.len() as u64);
    obs.progress_start("assay power", s.reps * cells);
    let result = run_assay_power(&protocol.id, a, &s, &|k| obs.progress(k));
    obs.progress_end();
    let result = result?;
    let _lock = begin_run(&out)?;
    let mut files = write_assay_outputs(&result, &out)?;
    let mut manifest = Manifest::new("power").with_input(&job.protocol.path, &job.protocol.bytes);
    manifest.protocol_id = Some(protocol.id.clone());
    manifest.seed = Some(s.seed);
    manifest.parameters = serde_json::json!({
        "kind": "assay",
        "engine": ENGINE_KEY,
        "wells_per_condition": result.n_values,
        "skipped_n": result.skipped,
        "reps": s.reps,
        "alpha": s.alpha,
        "target": s.target,
        "alpha_source": s.alpha_source,
        "fold_shift": s.alternative.fold_shift,
        "max_inhibition_diff": s.alternative.max_inhibition_diff,
        "tests": result.tests,
        "experiments": result.experiments,
        "between_experiment_log10_ic50_sd": a.lines.iter().map(|l| serde_json::json!({
            "line": l.name,
            "value": l.between_experiment_log10_ic50_sd.value,
            "source": l.between_experiment_log10_ic50_sd.source,
        })).collect::<Vec<_>>(),
        "test": if s.experiments.is_some() {
            "Welch two-sample t test (Welch 1947) on the k per-experiment fitted log10 IC50 (max-inhibition-welch: 1 − bottom/top) of the two lines, each experiment fitted separately; two-sided"
        } else {
            "Wald test of the difference of fitted log10 IC50 (max-inhibition-wald: 1 − bottom/top, delta-method SE), SE² = SE₁² + SE₂² from each 4PL fit's asymptotic covariance, Satterthwaite df, two-sided"
        },
        "fit": "4PL, IRLS with 1/ŷ² weights (invitro::fit::fit_4pl_relative), as simulate",
        "not_significant": "fit failed or a parameter on its bound; IC50 of either line outside the tested positive doses",
        "stream_ids": if s.experiments.is_some() {
            format!("stream(seed, [{}, line index, n, k, study, experiment])", assay::ASSAY_POWER_STREAM)
        } else {
            format!("stream(seed, [{}, line index, n, experiment])", assay::ASSAY_POWER_STREAM)
        },
    });
    files.push("manifest.json".into());
    manifest.files = files;
    manifest.write(&out)?;
    Ok(AssayPowerRun { result, out })
}
