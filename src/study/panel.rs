//! The panel power stage: a `[panel]` sized over lines × mice per arm per line
//! ([`crate::power::panel`]), written to a folder as `power.csv` (contract columns plus
//! `n_lines,mice_per_line`), `plots/power.{svg,png}` and `manifest.json`.

use super::Observer;
use crate::output::{Manifest, begin_run};
use crate::power::engine::Precision;
use crate::power::panel::{PanelPowerResult, PanelSettings, run_panel_power};
use crate::power::panel_report::{engine_key, panel_text, write_panel_outputs};
use crate::protocol::Loaded;
use std::path::PathBuf;

/// What to size; `None` fields take the protocol's `[panel]` and analysis plan.
#[derive(Debug, Clone)]
pub struct PanelJob<'a> {
    /// The loaded xenograft protocol with a `[panel]`.
    pub protocol: &'a Loaded,
    /// Numbers of lines (empty = the panel's `lines`).
    pub lines: Vec<u32>,
    /// Mice per arm per line (empty = the panel's `mice`).
    pub mice: Vec<u32>,
    /// Simulated panels per cell.
    pub reps: u64,
    /// Target Wilson half-width (`--precision`) and its cap.
    pub precision: Option<Precision>,
    /// Two-sided α.
    pub alpha: Option<f64>,
    /// Target power.
    pub target: Option<f64>,
    /// Cost of a line in mice (`None` = the panel's `line-cost`).
    pub line_cost: Option<f64>,
    /// Seed.
    pub seed: u64,
    /// Worker threads (`None` = all cores).
    pub threads: Option<usize>,
    /// Calendar date of day 0 of simulated studies (`None` = the simulator's default).
    pub start: Option<jiff::civil::Date>,
    /// Output folder; `None` = `output/<protocol-id>/`.
    pub out: Option<PathBuf>,
}

impl<'a> PanelJob<'a> {
    /// The defaults for `protocol`: its panel's grid, 1000 panels per cell, seed 1.
    pub fn new(protocol: &'a Loaded) -> Self {
        PanelJob {
            protocol,
            lines: Vec::new(),
            mice: Vec::new(),
            reps: 1000,
            precision: None,
            alpha: None,
            target: None,
            line_cost: None,
            seed: 1,
            threads: None,
            start: None,
            out: None,
        }
    }

    /// Validated settings.
    pub fn settings(&self) -> anyhow::Result<PanelSettings> {
        let p = &self.protocol.protocol;
        let x = p.xenograft().ok_or_else(|| super::power::not_sizable(p))?;
        let panel = x
            .panel
            .as_ref()
            .ok_or_else(|| crate::power::panel::PanelError::NoPanel(p.id.clone()))?;
        let or = |v: &Vec<u32>, d: &Vec<u32>| if v.is_empty() { d.clone() } else { v.clone() };
        Ok(PanelSettings {
            lines: or(&self.lines, &panel.lines),
            mice: or(&self.mice, &panel.mice),
            reps: self.reps,
            alpha: self.alpha.unwrap_or(x.analysis.alpha),
            target: self.target.unwrap_or(x.analysis.target_power),
            seed: self.seed,
            threads: self
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            line_cost: self.line_cost,
            precision: self.precision,
            start: self
                .start
                .unwrap_or_else(|| crate::sim::SimOptions::default().start),
        })
    }
}

/// A panel power analysis written to a folder.
#[derive(Debug, Clone)]
pub struct PanelRun {
    /// Rows, recommendation, warnings and justification.
    pub result: PanelPowerResult,
    /// Folder written.
    pub out: PathBuf,
}

impl PanelRun {
    /// The text `xenoplan power --lines … --mice …` prints.
    pub fn text(&self) -> String {
        format!(
            "{}\nWrote {}/power.csv, plots/power.svg, plots/power.png, manifest.json\n",
            panel_text(&self.result),
            self.out.display()
        )
    }

    /// The `--json` summary.
    pub fn json(&self) -> serde_json::Value {
        let mut j = serde_json::to_value(&self.result).unwrap_or_default();
        j["output_dir"] = self.out.display().to_string().into();
        j
    }
}

/// Runs the panel power of `job` and writes its files.
pub fn run(job: &PanelJob<'_>, obs: &dyn Observer) -> anyhow::Result<PanelRun> {
    let protocol = &job.protocol.protocol;
    let s = job.settings()?;
    let out = job
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&protocol.id));
    let most = s.precision.map_or(s.reps, |p| p.max_reps);
    obs.progress_start("panel power", most);
    let result = run_panel_power(protocol, &s, &|k| obs.progress(k));
    obs.progress_end();
    // Warnings are part of the result's text (and of the report), printed once there.
    let result = result?;
    let _lock = begin_run(&out)?;
    let mut files = write_panel_outputs(&result, &out)?;
    let mut manifest = Manifest::new("power").with_input(&job.protocol.path, &job.protocol.bytes);
    manifest.protocol_id = Some(protocol.id.clone());
    manifest.seed = Some(s.seed);
    manifest.parameters = serde_json::json!({
        "panel": result.comparison,
        "n_lines": s.lines,
        "mice_per_line": s.mice,
        "reps": result.reps,
        "reps_requested": s.reps,
        "precision": result.precision,
        "alpha": s.alpha,
        "target": s.target,
        "tests": result.tests,
        "line_cost": result.line_cost.0,
        "engine": engine_key(&result),
        "start_date": s.start.to_string(),
        "stream_ids": "event times: stream(seed, [PANEL, lines, mice, replicate]); simulated: study stream(seed, [PANEL, 0, mice, replicate]), line draw stream(seed, [PANEL, lines, mice, replicate])",
    });
    files.push("manifest.json".into());
    manifest.files = files;
    manifest.write(&out)?;
    Ok(PanelRun { result, out })
}
