//! The report stage: timeline + simulation + analysis + power in one self-contained HTML page.
//!
//! Each stage runs the same job as its own subcommand, writing into one folder; the page is
//! then assembled from those files and the stages' typed results (`report::build`). A failing
//! stage is shown in the report and listed in [`ReportRun::failures`] after the page is
//! written.

use super::Observer;
use super::power::PowerJob;
use super::simulate::SimulateJob;
use super::timeline::TimelineJob;
use crate::output::{Manifest, write_atomic};
use crate::protocol::{Loaded, ProtocolKind};
use crate::report::build::{ReportInfo, build_page};
use anyhow::Context;
use jiff::civil::Date;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arm sizes the report's xenograft power evaluates by default.
pub const XENOGRAFT_N: &str = "4,6,8,10,12";

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportJob<'a> {
    /// The loaded protocol.
    pub protocol: &'a Loaded,
    /// Seed of the simulation and power streams.
    pub seed: u64,
    /// Replicates: simulated studies per n for power (default 500), replicate derivations
    /// (default 100).
    pub reps: Option<u64>,
    /// Arm sizes evaluated by power: `A..B`, `N` or a list (`None`: 4,6,8,10,12 per arm for a
    /// xenograft, 2..8 replicate wells per condition for an assay).
    pub n: Option<String>,
    /// Timeline start date; `None` = the next Monday after today (or `SOURCE_DATE_EPOCH`).
    pub start: Option<Date>,
    /// Output folder; `None` = `output/<protocol-id>/`.
    pub out: Option<PathBuf>,
    /// Worker threads for power and replicate runs (results do not depend on it).
    pub threads: Option<usize>,
}

impl<'a> ReportJob<'a> {
    /// The defaults of `xenoplan report` for `protocol`.
    pub fn new(protocol: &'a Loaded) -> Self {
        ReportJob {
            protocol,
            seed: 1,
            reps: None,
            n: None,
            start: None,
            out: None,
            threads: None,
        }
    }
}

/// A written report.
#[derive(Debug, Clone)]
pub struct ReportRun {
    /// `index.html`.
    pub index: PathBuf,
    /// Stages that failed, with their error (shown in the page too).
    pub failures: Vec<(String, String)>,
    /// Wall time per stage, seconds (not written into the page or the manifest: two runs
    /// with the same seed give byte-identical files).
    pub timings: Vec<(String, f64)>,
}

/// The next Monday strictly after `today`.
fn next_monday(today: Date) -> Date {
    let ahead = 7 - i64::from(today.weekday().to_monday_zero_offset());
    today
        .checked_add(jiff::Span::new().days(ahead))
        .unwrap_or(today)
}

/// Reads a stage's `manifest.json` and removes it: until the report's own manifest is written
/// last, the folder must not carry a manifest that describes only one stage.
fn take_manifest(dir: &Path) -> anyhow::Result<serde_json::Value> {
    let v = std::fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    crate::output::discard_manifest(dir)?;
    Ok(v)
}

fn list_files(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            list_files(&p, base, out);
        } else if let Ok(rel) = p.strip_prefix(base) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if !rel.starts_with('.') && !rel.contains("/.") {
                out.push(rel);
            }
        }
    }
}

/// The stages' outcomes while the report is assembled.
struct Stages<'o> {
    dir: PathBuf,
    info: ReportInfo,
    manifests: serde_json::Map<String, serde_json::Value>,
    timings: Vec<(String, f64)>,
    obs: &'o dyn Observer,
}

impl Stages<'_> {
    /// Runs one stage: its manifest is kept on success, its error on failure, its time always.
    fn stage<T>(
        &mut self,
        name: &str,
        timing: &str,
        f: impl FnOnce(&dyn Observer) -> anyhow::Result<T>,
    ) -> anyhow::Result<Option<T>> {
        let t = Instant::now();
        let out = match f(self.obs) {
            Ok(v) => {
                self.manifests
                    .insert(name.into(), take_manifest(&self.dir)?);
                Some(v)
            }
            Err(e) => {
                self.info.failures.push((name.into(), format!("{e:#}")));
                None
            }
        };
        self.timings
            .push((timing.into(), t.elapsed().as_secs_f64()));
        Ok(out)
    }
}

/// Runs every stage of `job` into one folder, then writes `index.html` and `manifest.json`.
pub fn run(job: &ReportJob<'_>, obs: &dyn Observer) -> anyhow::Result<ReportRun> {
    let t_all = Instant::now();
    let loaded = job.protocol;
    let p = &loaded.protocol;
    let kind = p.kind();
    let dir = job.out.clone().unwrap_or_else(|| super::default_out(&p.id));
    let date = super::source_timestamp()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let start = job.start.unwrap_or_else(|| next_monday(date));
    // Held across the stages (which re-enter it): a concurrent run into `dir` is refused.
    let _lock = crate::output::begin_run(&dir)?;
    let mut st = Stages {
        dir: dir.clone(),
        info: ReportInfo {
            seed: job.seed,
            start: start.to_string(),
            date: date.to_string(),
            ..Default::default()
        },
        manifests: serde_json::Map::new(),
        timings: Vec::new(),
        obs,
    };

    // 1. Timeline (every kind).
    let mut tjob = TimelineJob::new(loaded);
    tjob.start = Some(start);
    tjob.out = Some(dir.clone());
    tjob.seed = job.seed;
    if let Some(tl) = st.stage("timeline", "timeline", |o| super::timeline::run(&tjob, o))? {
        st.info.animal_plans = tl.timeline.animals;
    }

    // 2. Simulation and analysis (xenograft, derivation, assay).
    if kind != ProtocolKind::Procedure {
        let mut sjob = SimulateJob::new(loaded, job.seed, dir.clone());
        sjob.start = Some(start);
        sjob.threads = job.threads;
        if kind == ProtocolKind::Derivation {
            sjob.reps = u32::try_from(job.reps.unwrap_or(100))
                .unwrap_or(u32::MAX)
                .max(1);
        }
        let sim = st.stage("simulate", "simulation and analysis", |o| {
            super::simulate::run(&sjob, o)
        })?;
        if let Some(sim) = sim {
            let text = sim.summary();
            st.info.simulate_text = text.strip_suffix('\n').unwrap_or(&text).to_string();
        }
    }

    // 3. Power (xenograft).
    if kind == ProtocolKind::Xenograft {
        let reps = job.reps.unwrap_or(500);
        st.info.power_reps = reps as usize;
        let mut pjob = PowerJob::new(loaded);
        pjob.n = job.n.clone().unwrap_or_else(|| XENOGRAFT_N.into());
        pjob.reps = reps;
        pjob.seed = job.seed;
        pjob.threads = job.threads;
        pjob.start = Some(start);
        pjob.out = Some(dir.clone());
        if let Some(pw) = st.stage("power", "power", |o| super::power::run(&pjob, o))? {
            st.info.power_summary = pw.recommendations().trim().to_string();
            st.info.justification = pw.result.justification.clone();
            st.info.power_animal_plans = pw.result.animal_plans.clone();
        }
        // 3b. The panel's lines × mice grid, in its own folder (power.csv of a panel has
        // the panel columns; one folder never mixes two runs).
        if p.xenograft().is_some_and(|x| x.panel.is_some()) {
            let mut panel = super::panel::PanelJob::new(loaded);
            panel.reps = reps;
            panel.seed = job.seed;
            panel.threads = job.threads;
            panel.start = Some(start);
            panel.out = Some(dir.join("panel"));
            if let Some(run) = st.stage("panel", "panel power", |o| super::panel::run(&panel, o))? {
                st.info.panel_summary = crate::power::panel_report::summary_text(&run.result);
                st.info.panel_justification = run.result.justification.clone();
            }
        }
    }

    // 3c. In vitro sizing (assay): replicate wells per condition for the default shift.
    if kind == ProtocolKind::Assay {
        let mut ajob = super::assay_power::AssayPowerJob::new(loaded);
        ajob.n = job.n.clone();
        ajob.reps = job.reps.unwrap_or(500);
        ajob.seed = job.seed;
        ajob.threads = job.threads;
        ajob.out = Some(dir.clone());
        st.info.power_reps = ajob.reps as usize;
        if let Some(run) = st.stage("power", "assay power", |o| {
            super::assay_power::run(&ajob, o)
        })? {
            let text = crate::power::assay_report::summary_text(&run.result);
            st.info.power_summary = text.trim().to_string();
            st.info.justification = crate::power::assay_report::justification(&run.result);
        }
    }

    st.timings.push((
        "total before page assembly".into(),
        t_all.elapsed().as_secs_f64(),
    ));
    for (stage, secs) in &st.timings {
        obs.note(&format!("timing: {stage}: {secs:.2} s"));
    }
    let page = build_page(p, &dir, &st.info);
    let index = dir.join("index.html");
    write_atomic(&index, page.render().as_bytes())
        .with_context(|| format!("writing {}", index.display()))?;

    let mut m = Manifest::new("report").with_input(&loaded.path, &loaded.bytes);
    m.protocol_id = Some(p.id.clone());
    m.seed = Some(job.seed);
    m.parameters = serde_json::json!({
        "start": start.to_string(),
        "reps": job.reps,
        "n": job.n,
        "stages": st.manifests,
        "failures": st.info.failures.iter().map(|(s, e)| serde_json::json!({"stage": s, "error": e})).collect::<Vec<_>>(),
    });
    let mut files = Vec::new();
    list_files(&dir, &dir, &mut files);
    files.retain(|f| f != "manifest.json");
    files.push("manifest.json".into());
    m.files = files;
    m.write(&dir)?;
    Ok(ReportRun {
        index,
        failures: st.info.failures,
        timings: st.timings,
    })
}
