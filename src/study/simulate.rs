//! The simulate stage: one synthetic xenograft study, animal by animal, analysed exactly as
//! `analyze` would; or a derivation / assay run for in vitro protocols. Both write a folder.

use super::Observer;
use crate::analysis::{self, AnalysisOptions, AnalysisResult};
use crate::invitro::{self, InvitroOptions, InvitroReport};
use crate::output::Manifest;
use crate::protocol::{Loaded, ProtocolKind, TestKey};
use crate::sim::{Engine, SimOptions, StudyBuffer, StudyInfo, summary_text, write_study};
use anyhow::Context;
use jiff::civil::Date;
use std::path::PathBuf;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimulateJob<'a> {
    /// The loaded protocol (xenograft, derivation or assay).
    pub protocol: &'a Loaded,
    /// Seed; the same seed gives byte-identical files.
    pub seed: u64,
    /// Animals per arm (overrides the protocol's `n`; implanted numbers are scaled).
    pub n_per_arm: Option<usize>,
    /// Output folder; `None` = `output/<protocol-id>/`.
    pub out: Option<PathBuf>,
    /// Calendar date of the protocol's first day; `None` = [`SimOptions`]' default.
    pub start: Option<Date>,
    /// Bootstrap replicates of the TGI and T/C confidence intervals (0 = none).
    pub bootstrap_reps: usize,
    /// Fit the linear mixed model in the analysis.
    pub lmm: bool,
    /// In vitro derivations: replicate runs.
    pub reps: u32,
    /// Worker threads for replicate runs (results do not depend on it).
    pub threads: Option<usize>,
}

impl<'a> SimulateJob<'a> {
    /// The defaults of `xenoplan simulate` for `protocol`, writing into `out`.
    pub fn new(protocol: &'a Loaded, seed: u64, out: PathBuf) -> Self {
        SimulateJob {
            protocol,
            seed,
            n_per_arm: None,
            out: Some(out),
            start: None,
            bootstrap_reps: 2000,
            lmm: true,
            reps: 1,
            threads: None,
        }
    }
}

/// A simulated xenograft study with its analysis.
#[derive(Debug, Clone)]
pub struct XenograftRun {
    /// Enrollment summary per cohort (implanted, takes, enrolled per arm…).
    pub enrollment: String,
    /// The analysis of the animals written.
    pub analysis: AnalysisResult,
    /// The control arm of every cohort.
    pub control: String,
    /// Folder written.
    pub out: PathBuf,
    /// Files written (relative to `out`), `manifest.json` last.
    pub files: Vec<String>,
}

/// The result of the simulate stage.
#[derive(Debug, Clone)]
pub enum SimulateRun {
    /// A xenograft study and its analysis.
    Xenograft(Box<XenograftRun>),
    /// A derivation or assay run (its report names the files written).
    InVitro(Box<InvitroReport>),
}

impl SimulateRun {
    /// What was simulated, without the list of files: enrollment and the protocol's Welch
    /// tests (xenograft), the run summary (in vitro).
    pub fn summary(&self) -> String {
        match self {
            SimulateRun::Xenograft(x) => x.summary(),
            SimulateRun::InVitro(r) => r.to_string(),
        }
    }

    /// The text `xenoplan simulate` prints.
    pub fn text(&self) -> String {
        match self {
            SimulateRun::Xenograft(x) => format!(
                "{}wrote {} files to {}\n",
                x.summary(),
                x.files.len(),
                x.out.display()
            ),
            SimulateRun::InVitro(r) => r.to_string(),
        }
    }
}

impl XenograftRun {
    /// Enrollment, then per cohort the family-adjusted Welch tests on ln V.
    fn summary(&self) -> String {
        let res = &self.analysis;
        let mut text = self.enrollment.clone();
        for c in &res.cohorts {
            let tests: Vec<_> = res
                .tests
                .iter()
                .filter(|t| {
                    t.cohort == c.name && t.key == TestKey::WelchLog && !t.family.is_empty()
                })
                .collect();
            if tests.is_empty() {
                continue;
            }
            text.push_str(&format!(
                "Welch t-test on ln V at day {} (control {}){}:\n",
                c.analysis_day,
                self.control,
                if c.name.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.name)
                }
            ));
            for t in tests {
                text.push_str(&format!(
                    "  {:<40} p = {:.3e}  adjusted p = {:.3e} ({}, family {})\n",
                    t.comparison, t.p_value, t.p_adjusted, t.adjustment, t.family
                ));
            }
        }
        let pooled: Vec<_> = res
            .tests
            .iter()
            .filter(|t| t.family == crate::analysis::panel::PANEL_FAMILY)
            .collect();
        if let Some(first) = pooled.first() {
            text.push_str(&format!(
                "Pooled across the panel ({}):
",
                first.comparison
            ));
            for t in pooled {
                text.push_str(&format!(
                    "  {:<40} p = {:.3e}  adjusted p = {:.3e} ({}, family {})
",
                    t.key.as_str(),
                    t.p_value,
                    t.p_adjusted,
                    t.adjustment,
                    t.family
                ));
            }
        }
        text
    }
}

/// Simulates `job` and writes every file and `manifest.json`.
pub fn run(job: &SimulateJob<'_>, obs: &dyn Observer) -> anyhow::Result<SimulateRun> {
    let loaded = job.protocol;
    let p = &loaded.protocol;
    let file = &loaded.path;
    let dir = job.out.clone().unwrap_or_else(|| super::default_out(&p.id));
    // A procedure has nothing to simulate: refuse before touching the folder's manifest.
    let _lock = match p.kind() {
        ProtocolKind::Procedure => None,
        _ => Some(crate::output::begin_run(&dir)?),
    };
    match p.kind() {
        ProtocolKind::Xenograft => {
            let run = xenograft(job, dir, obs)?;
            Ok(SimulateRun::Xenograft(Box::new(run)))
        }
        ProtocolKind::Derivation | ProtocolKind::Assay => {
            let opts = InvitroOptions {
                seed: job.seed,
                reps: job.reps,
                threads: job.threads,
                protocol_path: Some(file.clone()),
            };
            let report = invitro::simulate_to_dir(p, &opts, &dir)
                .with_context(|| file.display().to_string())?;
            Ok(SimulateRun::InVitro(Box::new(report)))
        }
        ProtocolKind::Procedure => anyhow::bail!(
            "{}: `{}` is a procedure (step schedule): nothing to simulate; use `xenoplan timeline`",
            file.display(),
            p.id
        ),
    }
}

/// The xenograft study: simulate, write the animals, analyze them as `analyze` would.
fn xenograft(
    job: &SimulateJob<'_>,
    dir: PathBuf,
    obs: &dyn Observer,
) -> anyhow::Result<XenograftRun> {
    let loaded = job.protocol;
    let p = &loaded.protocol;
    let file = &loaded.path;
    let mut opts = SimOptions::default();
    if let Some(d) = job.start {
        opts.start = d;
    }
    let engine = Engine::new(p, &opts).with_context(|| file.display().to_string())?;
    let size = crate::estimate::simulate(&engine, job.n_per_arm);
    if let Some(line) = crate::estimate::note("simulate", &size) {
        obs.note(&line);
    }
    let mut buf = StudyBuffer::new(&engine);
    // One stream per study: (seed, [0]); `power` uses (seed, [n, replicate]).
    engine.simulate(
        &mut crate::rng::stream(job.seed, &[0]),
        job.n_per_arm,
        &mut buf,
    )?;

    let info = StudyInfo {
        title: p.id.clone(),
        seed: job.seed,
    };
    let mut files = write_study(&engine, &buf, &info, &dir)?;

    // The analysis reads back the animals.csv just written, so `xenoplan analyze` on that file
    // (with the options recorded in the manifest) reproduces these tables byte for byte.
    let x = p.xenograft().context("xenograft body")?;
    let control = x
        .cohorts
        .first()
        .map(|c| c.control().name.clone())
        .unwrap_or_default();
    if let Some(c) = x.cohorts.iter().find(|c| c.control().name != control) {
        anyhow::bail!(
            "{}: cohort `{}` has control arm `{}` but the first cohort's is `{control}`; the analysis needs one control name for all cohorts",
            file.display(),
            c.name,
            c.control().name
        );
    }
    let animals = dir.join("animals.csv");
    let bytes = std::fs::read(&animals)
        .with_context(|| format!("cannot read back {}", animals.display()))?;
    let ds = analysis::parse_dataset(&bytes, &animals.display().to_string())?;
    let mut aopt = AnalysisOptions::new(&control);
    aopt.analysis_day = x.analysis.analysis_day;
    aopt.set_protocol_endpoints(&x.endpoints);
    // The protocol's hypotheses and families: the same tests.csv family `power` sized.
    aopt.plan = analysis::HypothesisPlan::from_protocol(x);
    aopt.bootstrap_reps = job.bootstrap_reps;
    aopt.seed = job.seed;
    aopt.run_lmm = job.lmm;
    let res = analysis::analyze(&ds, &aopt)?;
    for w in &res.warnings {
        obs.note(&format!("warning: {w}"));
    }
    files.extend(analysis::write_outputs(&res, &dir)?);
    files.extend(analysis::plots::write_plots_with(
        &ds, &res, &aopt, &dir, false,
    )?);

    let mut m = Manifest::new("simulate").with_input(file, &loaded.bytes);
    m.protocol_id = Some(p.id.clone());
    m.seed = Some(job.seed);
    let cohorts: Vec<serde_json::Value> = (0..engine.cohort_count())
        .map(|c| {
            let o = buf.cohort(c);
            serde_json::json!({
                "cohort": engine.cohort_name(c),
                "implanted": o.implanted,
                "takes": o.takes,
                "eligible": o.eligible,
                "enrolled": o.enrolled,
                "excluded_not_eligible": o.not_eligible,
                "excluded_overgrown": o.overgrown,
                "not_selected": o.not_selected,
                "filled_day_since_implantation": o.filled_day,
                "enrollment_day_since_implantation": o.enrollment_day,
                "arms": (0..engine.arm_count(c)).map(|a| serde_json::json!({"arm": engine.arm_name(c, a), "n": buf.n_enrolled(c, a)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    m.parameters = serde_json::json!({
        "n_per_arm": job.n_per_arm,
        "start_date": opts.start.to_string(),
        "rng_stream": [job.seed, 0],
        "rk4_step_days": opts.step_days,
        "rk4_exposure_step_days": opts.exposure_step_days,
        "cohorts": cohorts,
        "analysis": {
            "control": aopt.control,
            "analysis_day": aopt.analysis_day,
            "analysis_days_used": res.cohorts.iter().map(|c| serde_json::json!({"cohort": c.name, "day": c.analysis_day})).collect::<Vec<_>>(),
            "endpoint": aopt.endpoint.describe(),
            "bootstrap_reps": aopt.bootstrap_reps,
            "bootstrap_seed": aopt.seed,
            "lmm": aopt.run_lmm,
            "definitions": analysis::definitions(),
        },
    });
    files.push("manifest.json".into());
    m.files = files.clone();
    m.write(&dir)?;
    Ok(XenograftRun {
        enrollment: summary_text(&engine, &buf),
        analysis: res,
        control,
        out: dir,
        files,
    })
}
