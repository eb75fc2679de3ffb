//! Panel power: Monte Carlo over a grid of lines × mice per arm per line for the pooled tests
//! of a `[panel]` ([`crate::analysis::panel`]), with the closed form where one exists and the
//! recommendation that minimises the cost (animals + line cost × lines) at the target power.
//!
//! Two data models:
//! - **event time** (`[panel.event-time]`): PDXpower's `SimPDXdata` — per line
//!   α ~ N(0, τ²) (and a treatment deviation ~ N(0, ω²) when the effect varies by line), per
//!   mouse T = median_arm · e^{α (+ dev)} · e^{σε} (log-normal) or by inversion (Weibull,
//!   exponential) ([`crate::model::event_time`]), censored at the follow-up day if any;
//! - **simulated**: each line is one of the protocol's cohorts run through the whole-study
//!   simulator at m mice per arm; a panel of L < K lines draws its L cohorts without
//!   replacement per replicate (so the power averages over which lines a lab would pick).
//!
//! Streams: cell (L, m), replicate r uses `stream(seed, [PANEL_STREAM, L, m, r])` for event
//! times; simulated panels share one simulated study per (m, r) across L
//! (`stream(seed, [PANEL_STREAM, 0, m, r])`, the line draw from `[.., L, m, r]`). Tallies are
//! integers, so results do not depend on the thread count.

use super::engine::{self, Precision, PrecisionOutcome, ReplicateModel, Tally};
use super::fast::power_sim_options;
use super::nct::t_test_power;
use crate::analysis::AnalysisOptions;
use crate::analysis::panel::{
    AnimalOutcome, PanelArms, PanelSample, PanelScratch, fill_from_animals, panel_test,
};
use crate::analysis::stats::aft::AftDist;
use crate::model::event_time::EventTimeModel;
use crate::protocol::{EventTimePanel, Panel, PanelOutcome, Protocol};
use crate::rng::stream;
use crate::rng::zig::Ziggurat;
use crate::sim::{Engine, StudyBuffer};
use rand::RngExt;
use serde::Serialize;

/// First stream id of panel replicates ("panel" in ASCII), apart from every other stream.
pub const PANEL_STREAM: u64 = 0x70_61_6e_65_6c;

/// What a panel power run asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelSettings {
    /// Numbers of lines.
    pub lines: Vec<u32>,
    /// Mice per arm per line.
    pub mice: Vec<u32>,
    /// Replicates per cell (with `precision`: the first round).
    pub reps: u64,
    /// Two-sided α.
    pub alpha: f64,
    /// Target power.
    pub target: f64,
    /// Seed.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// Cost of one line in mice (overrides the protocol's `line-cost`).
    pub line_cost: Option<f64>,
    /// Replicates added until every Wilson half-width is at most this.
    pub precision: Option<Precision>,
    /// Calendar start of simulated studies.
    pub start: jiff::civil::Date,
}

/// Errors of a panel power run.
#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    /// The protocol declares no `[panel]`.
    #[error(
        "protocol `{0}` declares no [panel]; --lines/--mice size a panel (see the README, `power` on panels)"
    )]
    NoPanel(String),
    /// Settings out of range.
    #[error("invalid panel power settings: {0}")]
    Settings(String),
    /// The simulator could not compile the protocol.
    #[error("cannot simulate the panel: {0}")]
    Simulator(String),
    /// Worker threads could not start.
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

enum Generator {
    EventTime(EventTimePanel),
    Simulated {
        engine: Box<Engine>,
        cohorts: Vec<String>,
        options: Box<AnalysisOptions>,
    },
}

/// The panel's replicate model on a grid of cells.
pub struct PanelModel {
    panel: Panel,
    cells: Vec<(u32, u32)>,
    mice: Vec<u32>,
    generator: Generator,
    zig: Ziggurat,
    alpha: f64,
    seed: u64,
}

/// Per-worker buffers.
pub struct PanelWork {
    sample: PanelSample,
    sub: PanelSample,
    scratch: PanelScratch,
    buf: Option<StudyBuffer>,
    animals: Vec<crate::data::Animal>,
    readings: Vec<crate::data::Reading>,
    control: Vec<usize>,
    order: Vec<usize>,
    rejected: Vec<bool>,
    p: Vec<f64>,
    sizing: Vec<bool>,
}

impl PanelModel {
    /// The model of `protocol`'s panel on the grid `lines × mice`.
    pub fn new(protocol: &Protocol, s: &PanelSettings) -> Result<PanelModel, PanelError> {
        let x = protocol
            .xenograft()
            .ok_or_else(|| PanelError::NoPanel(protocol.id.clone()))?;
        let panel = x
            .panel
            .clone()
            .ok_or_else(|| PanelError::NoPanel(protocol.id.clone()))?;
        validate(&panel, s)?;
        let generator = match &panel.outcome {
            PanelOutcome::EventTime(e) => Generator::EventTime(e.clone()),
            PanelOutcome::Simulated => {
                let engine = Engine::new(protocol, &power_sim_options(x, s.start))
                    .map_err(|e| PanelError::Simulator(e.to_string()))?;
                let mut options = AnalysisOptions::new(&panel.control);
                options.analysis_day = x.analysis.analysis_day;
                options.set_protocol_endpoints(&x.endpoints);
                options.bootstrap_reps = 0;
                options.descriptive_tables = false;
                Generator::Simulated {
                    engine: Box::new(engine),
                    cohorts: panel.cohorts.clone(),
                    options: Box::new(options),
                }
            }
        };
        let cells = s
            .lines
            .iter()
            .flat_map(|&l| s.mice.iter().map(move |&m| (l, m)))
            .collect();
        Ok(PanelModel {
            panel: *panel,
            cells,
            mice: s.mice.clone(),
            generator,
            zig: Ziggurat::new(),
            alpha: s.alpha,
            seed: s.seed,
        })
    }

    /// Cells (lines, mice per arm per line), in tally order.
    pub fn cells(&self) -> &[(u32, u32)] {
        &self.cells
    }
}

fn validate(panel: &Panel, s: &PanelSettings) -> Result<(), PanelError> {
    let bad = |m: String| Err(PanelError::Settings(m));
    if s.lines.is_empty() || s.mice.is_empty() {
        return bad("give at least one number of lines and of mice per line".into());
    }
    let max = crate::protocol::MAX_PANEL_GRID;
    if let Some(l) = s.lines.iter().find(|&&l| !(2..=max).contains(&l)) {
        return bad(format!("{l} lines: a panel has 2 to {max} lines"));
    }
    if let Some(m) = s.mice.iter().find(|&&m| !(1..=max).contains(&m)) {
        return bad(format!("{m} mice per line: give 1 to {max}"));
    }
    if panel.event_time().is_none() {
        let k = panel.cohorts.len() as u32;
        if let Some(l) = s.lines.iter().find(|&&l| l > k) {
            return bad(format!(
                "{l} lines asked but the panel simulates {k} cohorts ({}); add cohorts or use [panel.event-time] to draw lines",
                panel.cohorts.join(", ")
            ));
        }
    }
    let open_unit = |x: f64| x > 0.0 && x < 1.0;
    if !open_unit(s.alpha) || !open_unit(s.target) {
        return bad("α and the target power must lie in (0, 1)".into());
    }
    if s.reps == 0 || s.reps > 10_000_000 {
        return bad(format!("{} replicates: give 1 to 10 000 000", s.reps));
    }
    if s.threads == 0 {
        return bad("--threads must be at least 1".into());
    }
    if let Some(p) = s.precision {
        p.validate(s.reps).map_err(PanelError::Settings)?;
    }
    if s.line_cost.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
        return bad("--line-cost must be a finite number ≥ 0".into());
    }
    Ok(())
}

/// Draws one event-time panel of `lines` × `mice` per arm into `out`.
fn draw_event_panel(
    e: &EventTimePanel,
    zig: &Ziggurat,
    rng: &mut crate::rng::XRng,
    (lines, mice): (u32, u32),
    out: &mut PanelSample,
) {
    out.clear(lines as usize);
    out.aft = match e.model {
        EventTimeModel::Exponential => AftDist::Exponential,
        EventTimeModel::Weibull { .. } => AftDist::Weibull,
        EventTimeModel::LogNormal { .. } => AftDist::LogNormal,
    };
    let tau = e.line_variance.value.sqrt();
    let omega = e.treatment_by_line_sd.value;
    let (ctl, trt) = (e.control_median_days.value, e.treatment_median_days.value);
    for line in 0..lines as usize {
        let alpha = tau * zig.sample(rng);
        let dev = if omega > 0.0 {
            omega * zig.sample(rng)
        } else {
            0.0
        };
        for (treated, median, shift) in [(false, ctl, alpha), (true, trt, alpha + dev)] {
            for _ in 0..mice {
                let t = e.model.sample(zig, rng, median, shift, e.follow_up_days);
                out.push(
                    line,
                    treated,
                    AnimalOutcome {
                        log_outcome: if t.event { t.time.ln() } else { f64::NAN },
                        slope: f64::NAN,
                        time: t.time,
                        event: t.event,
                    },
                );
            }
        }
    }
}

/// Keeps the animals of `chosen` lines of `full` (renumbered 0..) in `out`.
fn subset(full: &PanelSample, chosen: &[usize], out: &mut PanelSample) {
    out.clear(chosen.len());
    for (new, &old) in chosen.iter().enumerate() {
        for i in (0..full.len()).filter(|&i| full.line[i] == old) {
            out.push(
                new,
                full.treated[i],
                AnimalOutcome {
                    log_outcome: full.log_outcome[i],
                    slope: full.slope[i],
                    time: full.time[i],
                    event: full.event[i],
                },
            );
        }
    }
}

impl PanelModel {
    fn test_cell(&self, slot: usize, sample: &PanelSample, w: &mut PanelWork, tally: &mut Tally) {
        tally.reps[slot] += 1;
        for (u, &t) in self.panel.tests.iter().enumerate() {
            let p = panel_test(t, sample, &mut w.scratch).map_or(f64::NAN, |r| r.p_value);
            w.p[u] = p;
            w.rejected[u] = p <= self.alpha;
        }
        tally.record(slot, &w.rejected, &w.p, &w.sizing);
    }

    fn replicate_simulated(&self, rep: u64, w: &mut PanelWork, tally: &mut Tally) {
        let Generator::Simulated {
            engine,
            cohorts,
            options,
        } = &self.generator
        else {
            return;
        };
        let names: Vec<&str> = cohorts.iter().map(String::as_str).collect();
        for &m in &self.mice {
            let mut rng = stream(self.seed, &[PANEL_STREAM, 0, u64::from(m), rep]);
            let buf = w.buf.get_or_insert_with(|| StudyBuffer::new(engine));
            let ok = engine.simulate(&mut rng, Some(m as usize), buf).is_ok();
            if ok {
                buf.fill_animals(engine, &mut w.animals, &mut w.readings);
                let arms = PanelArms {
                    lines: &names,
                    treatment: &self.panel.treatment,
                    control: &self.panel.control,
                };
                fill_from_animals(&w.animals, arms, options, &mut w.sample, &mut w.control);
            }
            for (slot, &(l, cm)) in self.cells.iter().enumerate() {
                if cm != m {
                    continue;
                }
                if !ok {
                    tally.reps[slot] += 1;
                    tally.failures[slot] += 1;
                    continue;
                }
                // Which L of the K cohorts enter: a partial Fisher–Yates shuffle.
                let mut pick = stream(self.seed, &[PANEL_STREAM, u64::from(l), u64::from(m), rep]);
                w.order.clear();
                w.order.extend(0..names.len());
                for i in 0..l as usize {
                    let j = pick.random_range(i..names.len());
                    w.order.swap(i, j);
                }
                w.order.truncate(l as usize);
                w.order.sort_unstable();
                let mut sub = std::mem::take(&mut w.sub);
                subset(&w.sample, &w.order, &mut sub);
                self.test_cell(slot, &sub, w, tally);
                w.sub = sub;
            }
        }
    }
}

impl ReplicateModel for PanelModel {
    type Scratch = PanelWork;

    fn scratch(&self) -> PanelWork {
        let k = self.panel.tests.len();
        PanelWork {
            sample: PanelSample::default(),
            sub: PanelSample::default(),
            scratch: PanelScratch::default(),
            buf: None,
            animals: Vec::new(),
            readings: Vec::new(),
            control: Vec::new(),
            order: Vec::new(),
            rejected: vec![false; k],
            p: vec![f64::NAN; k],
            // The primary (first) test sizes the panel.
            sizing: (0..k).map(|u| u == 0).collect(),
        }
    }

    fn empty_tally(&self) -> Tally {
        Tally::new(self.cells.len(), self.panel.tests.len(), 0)
    }

    fn replicate(&self, rep: u64, w: &mut PanelWork, tally: &mut Tally) {
        match &self.generator {
            Generator::EventTime(e) => {
                for (slot, &(l, m)) in self.cells.iter().enumerate() {
                    let mut rng =
                        stream(self.seed, &[PANEL_STREAM, u64::from(l), u64::from(m), rep]);
                    let mut sample = std::mem::take(&mut w.sample);
                    draw_event_panel(e, &self.zig, &mut rng, (l, m), &mut sample);
                    self.test_cell(slot, &sample, w, tally);
                    w.sample = sample;
                }
            }
            Generator::Simulated { .. } => self.replicate_simulated(rep, w, tally),
        }
    }
}

/// One row of a panel `power.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelRow {
    /// Lines.
    pub n_lines: u32,
    /// Mice per arm per line.
    pub mice_per_line: u32,
    /// Animals per arm over the panel (lines × mice).
    pub n_per_arm: u32,
    /// Animals in the panel's two arms.
    pub total_animals: u32,
    /// Pooled comparison.
    pub comparison: String,
    /// Test key.
    pub endpoint: String,
    /// Monte Carlo power.
    pub power: f64,
    /// Wilson 95 % lower limit.
    pub ci_low: f64,
    /// Wilson 95 % upper limit.
    pub ci_high: f64,
    /// Replicates.
    pub reps: u64,
    /// Rejections.
    pub rejections: u64,
    /// Replicates where the test could not be computed (not a rejection).
    pub not_computable: u64,
    /// Replicates whose simulation failed (not a rejection).
    pub failures: u64,
    /// Closed-form power where one exists (module docs).
    pub analytic_power: Option<f64>,
}

/// The recommended panel size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelRecommendation {
    /// Lines.
    pub n_lines: u32,
    /// Mice per arm per line.
    pub mice_per_line: u32,
    /// Animals in the two arms.
    pub total_animals: u32,
    /// Cost (animals + line cost × lines).
    pub cost: f64,
    /// Its simulated power and Wilson 95 % interval.
    pub power: f64,
    /// Wilson 95 % interval.
    pub ci: (f64, f64),
}

/// A panel power analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelPowerResult {
    /// Protocol id.
    pub protocol_id: String,
    /// Pooled comparison.
    pub comparison: String,
    /// Data model in words.
    pub model: String,
    /// Tests, the first primary.
    pub tests: Vec<String>,
    /// Grid.
    pub lines: Vec<u32>,
    /// Grid.
    pub mice: Vec<u32>,
    /// Replicates per cell.
    pub reps: u64,
    /// How `--precision` ended.
    pub precision: Option<PrecisionOutcome>,
    /// α.
    pub alpha: f64,
    /// Target power.
    pub target: f64,
    /// Seed.
    pub seed: u64,
    /// Cost of a line in mice, and where that number comes from.
    pub line_cost: (f64, String),
    /// Every cell × test.
    pub rows: Vec<PanelRow>,
    /// Cheapest cell reaching the target on the primary test.
    pub recommendation: Option<PanelRecommendation>,
    /// Warnings (censoring with the event-time line model, failures…).
    pub warnings: Vec<String>,
    /// Sample-size justification.
    pub justification: String,
}

/// Runs the panel power of `protocol` (its `[panel]`) over `s`'s grid.
pub fn run_panel_power(
    protocol: &Protocol,
    s: &PanelSettings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PanelPowerResult, PanelError> {
    let model = PanelModel::new(protocol, s)?;
    let threads = |e: rayon::ThreadPoolBuildError| PanelError::Threads(e.to_string());
    let (tally, precision) = match s.precision {
        Some(p) => {
            let (t, o) = engine::run_to_precision(&model, s.reps, p, false, s.threads, progress)
                .map_err(threads)?;
            (t, Some(o))
        }
        None => (
            engine::run(&model, s.reps, s.threads, progress).map_err(threads)?,
            None,
        ),
    };
    Ok(super::panel_report::assemble(
        protocol,
        &model.panel,
        s,
        &tally,
        precision,
    ))
}

/// Closed-form power of `panel-lme` where it exists: a log-normal event-time panel with a
/// common effect and no censoring. Each line holds m treated and m control mice, so the GLS
/// estimate of the effect is the within-line mean difference whatever τ² is:
/// Var = 2σ²/(L·m), and the Wald t has the containment df 2Lm − L − 1 (Pinheiro & Bates 2000
/// §2.4.2): power from the noncentral t with δ = |β| / √(2σ²/(Lm)).
pub fn analytic_lme_power(panel: &Panel, lines: u32, mice: u32, alpha: f64) -> Option<f64> {
    let e = panel.event_time()?;
    let EventTimeModel::LogNormal { log_sd } = e.model else {
        return None;
    };
    if e.follow_up_days.is_some() || e.treatment_by_line_sd.value > 0.0 {
        return None;
    }
    let lm = f64::from(lines) * f64::from(mice);
    let df = 2.0 * lm - f64::from(lines) - 1.0;
    if df < 1.0 {
        return None;
    }
    let delta = e.log_effect().abs() / (log_sd * (2.0 / lm).sqrt());
    Some(t_test_power(delta, df, alpha))
}

#[cfg(test)]
mod tests;
