//! What a power run asks for: endpoints, comparisons, the n grid and the Monte Carlo settings.

use crate::protocol::Adjustment;

/// Errors of the power library.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    /// The protocol is not a xenograft study.
    #[error("protocol `{0}` is not a xenograft study; power needs arms to compare")]
    NotXenograft(String),
    /// The protocol has no treatment arm to compare with a control.
    #[error("protocol `{0}` has no treatment arm besides the control")]
    NoComparison(String),
    /// An endpoint name is not known.
    #[error("unknown endpoint `{0}` (known: welch-log, mwu, slope, auc, lmm, logrank, response)")]
    UnknownEndpoint(String),
    /// Invalid settings (n range, reps, alpha…).
    #[error("invalid power settings: {0}")]
    Settings(String),
    /// The design or endpoint cannot be simulated by the available engine.
    #[error("cannot simulate this design for power: {0}")]
    Unsupported(String),
    /// `--engine tight` was asked for a design outside the tight path.
    #[error("the tight power path cannot run this design: {0} (use --engine full or auto)")]
    NotTight(super::fast::Ineligible),
}

/// Which power engine runs the replicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// The tight path when the compiled design is eligible, else the full simulator.
    #[default]
    Auto,
    /// The tight path (moment-based; an error when the design is not eligible).
    Tight,
    /// Whole simulated studies through the simulator and the analysis.
    Full,
}

impl EngineChoice {
    /// Parses `auto`, `tight` or `full`.
    pub fn parse(s: &str) -> Result<Self, PowerError> {
        match s {
            "auto" => Ok(EngineChoice::Auto),
            "tight" => Ok(EngineChoice::Tight),
            "full" => Ok(EngineChoice::Full),
            other => Err(PowerError::Settings(format!(
                "unknown engine `{other}` (expected auto, tight or full)"
            ))),
        }
    }
}

/// Tests power can size, named as on the command line and in `power.csv`: the one test
/// registry ([`crate::protocol::TestKey`]).
pub use crate::protocol::TestKey as Endpoint;

/// Parses a command-line / protocol test name.
pub fn parse_endpoint(s: &str) -> Result<Endpoint, PowerError> {
    Endpoint::parse(s).ok_or_else(|| PowerError::UnknownEndpoint(s.to_string()))
}

/// Settings of one power run (validated by [`Settings::validate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Arm sizes to evaluate (ascending, ≥ 2).
    pub n_values: Vec<u32>,
    /// Simulated studies per n.
    pub reps: u64,
    /// Two-sided significance level.
    pub alpha: f64,
    /// Target power for the recommendation.
    pub target: f64,
    /// Seed of every random stream.
    pub seed: u64,
    /// Worker threads (≥ 1).
    pub threads: usize,
    /// Endpoints to test; the first is the primary one for the recommendation.
    pub endpoints: Vec<Endpoint>,
    /// Multiplicity adjustment across the comparisons of one endpoint.
    pub adjust: Adjustment,
    /// Also size for all comparisons significant together.
    pub joint: bool,
    /// Common random numbers across n: replicate r at every n uses the same animals (the first
    /// n of each arm), so power curves are smooth. When false, every (n, replicate) has its
    /// own stream `stream(seed, [n, r])`.
    pub common_random_numbers: bool,
    /// Engine selection.
    pub engine: EngineChoice,
    /// Calendar date of the protocol's first day: weekday caliper schedules are placed on it
    /// (the simulator's and the timeline's `--start`).
    pub start: jiff::civil::Date,
    /// `--precision`: after `reps`, add replicates until every reported power's Wilson 95 %
    /// half-width reaches the target (`None` = exactly `reps`).
    pub precision: Option<super::engine::Precision>,
}

/// The Monte Carlo settings every power engine shares (xenograft and assay): replicates,
/// α, target power and threads; the first problem as a settings error.
pub fn monte_carlo_settings(
    reps: u64,
    alpha: f64,
    target: f64,
    threads: usize,
) -> Result<(), PowerError> {
    let bad = |m: String| Err(PowerError::Settings(m));
    if reps == 0 {
        return bad("--reps must be at least 1".into());
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return bad(format!("alpha must be in (0, 1), got {alpha}"));
    }
    if !(target > 0.0 && target < 1.0) {
        return bad(format!("target power must be in (0, 1), got {target}"));
    }
    if threads == 0 {
        return bad("--threads must be at least 1".into());
    }
    Ok(())
}

impl Settings {
    /// Checks ranges; returns the first problem.
    pub fn validate(&self) -> Result<(), PowerError> {
        let bad = |m: String| Err(PowerError::Settings(m));
        if self.n_values.is_empty() {
            return bad("the n range is empty".into());
        }
        if self.n_values.iter().any(|&n| n < 2) {
            return bad("every n per arm must be at least 2 (a variance needs two animals)".into());
        }
        if self.n_values.iter().any(|&n| n > 10_000) {
            return bad("n per arm above 10000 is not supported".into());
        }
        if self.n_values.windows(2).any(|w| w[0] >= w[1]) {
            return bad("n values must be strictly increasing".into());
        }
        monte_carlo_settings(self.reps, self.alpha, self.target, self.threads)?;
        if self.endpoints.is_empty() {
            return bad("no endpoint selected".into());
        }
        if let Some(p) = self.precision {
            p.validate(self.reps).map_err(PowerError::Settings)?;
        }
        Ok(())
    }
}

/// Largest n per arm (the protocol's own cap on `n`).
pub const MAX_N_PER_ARM: u32 = 10_000;

/// Parses an n range: `A..B` (inclusive, as in `--n 3..15`), `A..=B`, a single `N`, or a
/// comma list `4,6,8`.
pub fn parse_n_range(s: &str) -> Result<Vec<u32>, PowerError> {
    let err = || {
        PowerError::Settings(format!(
            "cannot read n range `{s}` (use e.g. 3..15, 8 or 4,6,8; each n at most {MAX_N_PER_ARM})"
        ))
    };
    // Capped like a protocol's `n` so `3..4000000000` cannot allocate gigabytes.
    let num = |t: &str| {
        t.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| n <= MAX_N_PER_ARM)
            .ok_or_else(err)
    };
    let s = s.trim();
    if let Some((a, b)) = s.split_once("..") {
        let b = b.strip_prefix('=').unwrap_or(b);
        let (a, b) = (num(a)?, num(b)?);
        if a > b {
            return Err(err());
        }
        return Ok((a..=b).collect());
    }
    let mut v: Vec<u32> = s.split(',').map(num).collect::<Result<_, _>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

#[cfg(test)]
mod tests;
