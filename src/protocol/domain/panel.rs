//! A panel design (`[panel]`): one treatment compared with its control across several tumor
//! models (cell lines or PDX lines) with few mice per model, and the pooled "effect across the
//! panel" — the design PDXpower sizes as n lines × m mice per line per arm (Li et al.,
//! <https://github.com/shanpengli/PDXpower>).

use super::{Sourced, TestKey};
use crate::model::event_time::EventTimeModel;

/// A validated `[panel]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Name of the pooled comparison (`comparison` column of `power.csv`).
    pub name: String,
    /// Treated arm (present in every panel cohort).
    pub treatment: String,
    /// Control arm (present in every panel cohort).
    pub control: String,
    /// The lines: cohort names (simulated panels), or the single template cohort of an
    /// event-time panel.
    pub cohorts: Vec<String>,
    /// Pooled tests, the first primary.
    pub tests: Vec<TestKey>,
    /// Default grid of lines for `power` (`--lines` overrides).
    pub lines: Vec<u32>,
    /// Default grid of mice per arm per line (`--mice` overrides).
    pub mice: Vec<u32>,
    /// Cost of adding one line, in mice (the recommendation minimises
    /// `arms · lines · mice + line_cost · lines`).
    pub line_cost: Sourced,
    /// Where the panel's outcomes come from.
    pub outcome: PanelOutcome,
}

/// The data-generating model of a panel.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelOutcome {
    /// Each line is a protocol cohort simulated by the whole-study simulator (growth, dosing,
    /// calipers, endpoints); a replicate with fewer lines than cohorts draws which lines enter.
    Simulated,
    /// Event times drawn directly from a parametric model with a line random effect
    /// (PDXpower's `SimPDXdata`): lines are drawn, so any number of lines can be sized.
    EventTime(EventTimePanel),
}

/// An event-time panel: `log T = log(median_arm) + α_line + (β_line − β) + σ·ε`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTimePanel {
    /// Distribution of ε (and so of T given the line).
    pub model: EventTimeModel,
    /// The σ (log-normal) or shape (Weibull) of `model` as written, with its source; `None`
    /// for the exponential.
    pub spread: Option<Sourced>,
    /// Median event time of the control arm, days.
    pub control_median_days: Sourced,
    /// Median event time of the treated arm, days.
    pub treatment_median_days: Sourced,
    /// Between-line variance τ² of log time (α_line ~ N(0, τ²)).
    pub line_variance: Sourced,
    /// SD of the treatment effect across lines on log time (random treatment × line);
    /// 0 = a common effect.
    pub treatment_by_line_sd: Sourced,
    /// Administrative censoring at this day (`None` = every event observed).
    pub follow_up_days: Option<f64>,
}

impl EventTimePanel {
    /// The treatment effect on log time, ln(median treated / median control).
    pub fn log_effect(&self) -> f64 {
        (self.treatment_median_days.value / self.control_median_days.value).ln()
    }
}

impl Panel {
    /// The event-time model, if the panel draws event times directly.
    pub fn event_time(&self) -> Option<&EventTimePanel> {
        match &self.outcome {
            PanelOutcome::EventTime(e) => Some(e),
            PanelOutcome::Simulated => None,
        }
    }
}
