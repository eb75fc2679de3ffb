//! In vitro sizing: replicate wells per condition needed to detect an IC50 fold shift (and/or a
//! difference in maximal inhibition) between a reference line and a shifted line, by Monte
//! Carlo on the assay simulator with the same 4PL fit `simulate` reports.
//!
//! One simulated experiment, for a protocol line L and n replicate wells per condition:
//! 1. the protocol's design with `replicates = n` is laid out by its plate layout
//!    ([`crate::protocol::plate_layout`]) for two lines, L and L′ = L with its IC50 multiplied
//!    by the fold shift F (and its maximal inhibition lowered by Δ when asked);
//! 2. the plates are simulated by [`simulate_plate`] and each line fitted by [`fit_lines`]
//!    (the 1/ŷ²-weighted 4PL of `simulate`; no second simulator, no second fit);
//! 3. the test ([`AssayTest`]) is a Wald test on the difference of the two fitted quantities
//!    (log10 IC50, or the maximal inhibition 1 − bottom/top for a max-inhibition difference)
//!    with SE² = SE₁² + SE₂² from each fit's asymptotic covariance (delta method for the
//!    ratio) and Satterthwaite degrees of freedom
//!    (Satterthwaite 1946, Biometrics Bull. 2:110), two-sided at α. This is the "compare the
//!    best-fit values of two separate fits with a t test" approach of Motulsky & Christopoulos
//!    2004 (*Fitting Models to Biological Data using Linear and Nonlinear Regression*, Oxford
//!    UP, part "Comparing models"); the alternative there, an extra-sum-of-squares F test of a
//!    global fit with a shared IC50, would need a second (constrained) fit that `simulate` never
//!    runs, so the sized comparison would not be the one the scientist reads off `ic50.csv`.
//!
//! **Independent experiments** (`experiments = [k, …]`, `power --experiments 2..6`): a
//! simulated study runs k independent experiments of n wells per condition; in each, both
//! lines take that experiment's values ([`crate::invitro::assay::LineSpec::in_experiment`]: the
//! line's between-experiment SD of log10 IC50 and variability of the maximal inhibition, each
//! line drawn on its own), are plated and fitted exactly as above, and the test is Welch's
//! two-sample t test ([`crate::analysis::stats::welch_t`], Welch 1947, Biometrika 34:28) on
//! the k per-experiment estimates (log10 IC50, or 1 − bottom/top) of the two lines — the
//! experiment, not the well, is the unit of replication (Motulsky 2018, *Intuitive
//! Biostatistics* 4th ed., ch. "pseudoreplication"; Lazic 2010, BMC Neurosci 11:5). One
//! experiment cannot give a t test (no between-experiment variance), so k ≥ 2; without
//! `experiments` the single-experiment Wald test above runs, as before.
//!
//! An experiment whose fit fails (no fit, a parameter on its bound, no finite SE) or whose
//! IC50 of either line lies outside the tested positive doses (an extrapolation, reported
//! censored by `simulate`) counts as not significant and is counted in its row
//! (`fit_failed`, `outside_range`), never dropped. With k experiments a study with any such
//! experiment is not significant (and counted so); `failed_experiments` counts the
//! experiments themselves.
//!
//! Random streams: experiment `r` of line `l` at n wells draws from
//! `rng::stream(seed, &[ASSAY_POWER_STREAM, l, n, r])`; with k experiments, experiment e of
//! study r from `rng::stream(seed, &[ASSAY_POWER_STREAM, l, n, k, r, e])`. Every row is
//! byte-identical whatever the thread count (rows are tallied in replicate order from
//! independent streams).

use super::design::PowerError;
use super::design::monte_carlo_settings;
use super::wilson::wilson95;
use crate::invitro::assay::{LineModel, LineSpec, fit_lines, simulate_experiment, simulate_plate};
use crate::invitro::fit::Fit4pl;
use crate::protocol::plate_layout;
use crate::protocol::{Assay, AssayDesign};
use rayon::prelude::*;
use serde::Serialize;

/// First stream id of the assay power streams (ASCII "ASPW"; keeps them apart from
/// `simulate`'s `stream(seed, [0])`).
pub const ASSAY_POWER_STREAM: u64 = 0x4153_5057;
/// Default IC50 fold shift to detect: the "10× IC50 shift" of issue 21 (assumed decision
/// threshold; published shifts of resistant lines are 100–1000× for fulvestrant resistance,
/// Lykkesfeldt 1995, n/f for AI resistance).
pub const DEFAULT_FOLD_SHIFT: f64 = 10.0;
/// Default two-sided α: assay protocols carry no analysis plan (assumed; conventional 0.05).
pub const DEFAULT_ALPHA: f64 = 0.05;
/// Default target power: assay protocols carry no analysis plan (assumed; conventional 0.8).
pub const DEFAULT_TARGET: f64 = 0.8;
/// Default replicate wells per condition evaluated.
pub const DEFAULT_N: &str = "2..8";
/// Largest number of independent experiments sized (a lab repeats an assay a handful of
/// times; the cap keeps a run bounded).
pub const MAX_EXPERIMENTS: u32 = 100;

/// The test of one sized comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AssayTest {
    /// Wald test of log10 IC50 (line′ − line).
    LogIc50,
    /// Wald test of the maximal inhibition 1 − bottom/top of the fitted curve. A ratio of the
    /// asymptotes, not the bottom alone: the response is normalized to the plate's vehicle
    /// wells, which the fit does not see, so the bottom carries that normalization error
    /// beyond its SE (the bottom alone rejected 15–20% of null experiments at α = 0.05 on the
    /// bundled camizestrant assay); the ratio is free of the scale.
    MaxInhibition,
}

impl AssayTest {
    /// Name in `power.csv` and the text of the single-experiment Wald test.
    pub fn key(self) -> &'static str {
        match self {
            AssayTest::LogIc50 => "log-ic50-wald",
            AssayTest::MaxInhibition => "max-inhibition-wald",
        }
    }
    /// Name of the test over `k` independent experiments: the Wald key for one experiment,
    /// the Welch t test on the per-experiment estimates for several.
    pub fn key_for(self, k: u32) -> &'static str {
        match (self, k) {
            (_, 0 | 1) => self.key(),
            (AssayTest::LogIc50, _) => "log-ic50-welch",
            (AssayTest::MaxInhibition, _) => "max-inhibition-welch",
        }
    }
    /// The fitted quantity and its asymptotic variance; `None` when not estimable (a top
    /// that is not positive).
    fn estimate(self, f: &Fit4pl) -> Option<(f64, f64)> {
        let v = &f.covariance;
        match self {
            AssayTest::LogIc50 => Some((f.log_ic50, v[2][2])),
            AssayTest::MaxInhibition => {
                // Delta method (Seber & Wild 1989, §5.1 / Casella & Berger 2002, 5.5.4) for
                // r = bottom/top: Var r = (V_bb − 2r·V_bt + r²·V_tt)/top².
                let t = f.top;
                if t.is_nan() || t <= 0.0 {
                    return None;
                }
                let r = f.bottom / t;
                let var = (v[0][0] - 2.0 * r * v[0][1] + r * r * v[1][1]) / (t * t);
                Some((1.0 - r, var))
            }
        }
    }
}

/// What the shifted line differs by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Alternative {
    /// IC50 of the shifted line / IC50 of the reference (1 = the null).
    pub fold_shift: f64,
    /// Maximal inhibition of the reference minus that of the shifted line (0–1); `None` =
    /// not sized.
    pub max_inhibition_diff: Option<f64>,
}

/// Settings of an in vitro sizing run.
#[derive(Debug, Clone, PartialEq)]
pub struct AssaySettings {
    /// Replicate wells per condition to evaluate (ascending, ≥ 1).
    pub n_values: Vec<u32>,
    /// Simulated experiments per n and line.
    pub reps: u64,
    /// Two-sided α.
    pub alpha: f64,
    /// Target power.
    pub target: f64,
    /// Where α and the target come from (the option, or "assumed; …").
    pub alpha_source: String,
    /// Seed of every stream.
    pub seed: u64,
    /// Worker threads (≥ 1); results do not depend on it.
    pub threads: usize,
    /// The effect to detect.
    pub alternative: Alternative,
    /// Independent experiments per line to evaluate (ascending, each ≥ 2: Welch t test on the
    /// per-experiment estimates); `None` = one experiment, Wald test within it.
    pub experiments: Option<Vec<u32>>,
}

impl AssaySettings {
    /// Checks ranges; returns the first problem.
    pub fn validate(&self) -> Result<(), PowerError> {
        let bad = |m: String| Err(PowerError::Settings(m));
        if self.n_values.is_empty() {
            return bad("the n range is empty".into());
        }
        if self.n_values.contains(&0) {
            return bad("every n (replicate wells per condition) must be at least 1".into());
        }
        monte_carlo_settings(self.reps, self.alpha, self.target, self.threads)?;
        if let Some(k) = &self.experiments {
            if k.is_empty() {
                return bad("the --experiments range is empty".into());
            }
            if let Some(one) = k.iter().find(|&&k| k < 2) {
                return bad(format!(
                    "--experiments {one}: the Welch t test on per-experiment IC50s needs at least 2 independent experiments per line (one experiment has no between-experiment variance); omit --experiments for the single-experiment Wald test"
                ));
            }
            if let Some(big) = k.iter().find(|&&k| k > MAX_EXPERIMENTS) {
                return bad(format!(
                    "--experiments {big}: at most {MAX_EXPERIMENTS} independent experiments are sized"
                ));
            }
        }
        let f = self.alternative.fold_shift;
        if !(f.is_finite() && f > 0.0) {
            return bad(format!("--fold-shift must be a positive number, got {f}"));
        }
        if let Some(d) = self.alternative.max_inhibition_diff
            && !(d.is_finite() && d > -1.0 && d < 1.0)
        {
            return bad(format!(
                "--max-inhibition-diff must lie in (-1, 1) (a difference of fractions), got {d}"
            ));
        }
        Ok(())
    }

    /// The tests sized: log IC50 always (at F = 1 it is the null check), the maximal
    /// inhibition when a maximal-inhibition difference is asked. The first is primary.
    pub fn tests(&self) -> Vec<AssayTest> {
        match self.alternative.max_inhibition_diff {
            Some(_) if self.alternative.fold_shift == 1.0 => {
                vec![AssayTest::MaxInhibition, AssayTest::LogIc50]
            }
            Some(_) => vec![AssayTest::LogIc50, AssayTest::MaxInhibition],
            None => vec![AssayTest::LogIc50],
        }
    }
}

/// One row of `power.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssayPowerRow {
    /// Replicate wells per condition (line × dose); the contract's `n_per_arm` column.
    pub n_per_arm: u32,
    /// e.g. `MCF7 IC50 x10 vs MCF7`.
    pub comparison: String,
    /// Test key.
    pub endpoint: String,
    /// Rejections / experiments.
    pub power: f64,
    /// Wilson 95% CI.
    pub ci_low: f64,
    /// Wilson 95% CI.
    pub ci_high: f64,
    /// Simulated experiments.
    pub reps: u64,
    /// Significant experiments.
    pub rejections: u64,
    /// Experiments whose fit failed (counted as not significant).
    pub fit_failed: u64,
    /// Experiments with an IC50 outside the tested doses (counted as not significant).
    pub outside_range: u64,
    /// Sample wells per line.
    pub wells_per_line: u32,
    /// Plates per experiment (both lines).
    pub plates: u32,
    /// Reference line.
    pub line: String,
    /// Independent experiments per line in each simulated study (1 = the Wald test within
    /// one experiment).
    pub experiments: u32,
    /// Experiments (of `reps` × `experiments`) whose fit failed or whose IC50 lay outside the
    /// tested doses.
    pub failed_experiments: u64,
}

/// The smallest n reaching the target, per comparison and test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssayRecommendation {
    /// Comparison.
    pub comparison: String,
    /// Test key.
    pub endpoint: String,
    /// Replicate wells per condition (`None`: not reached on the grid).
    pub n: Option<u32>,
    /// Independent experiments per line (1 without `experiments`; `None`: not reached).
    pub experiments: Option<u32>,
    /// Its power.
    pub power: Option<f64>,
    /// Its Wilson 95% CI.
    pub ci: Option<(f64, f64)>,
}

/// An n of the grid the protocol's plate layout cannot hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedN {
    /// Replicate wells per condition.
    pub n: u32,
    /// The layout's reason.
    pub reason: String,
}

/// Result of [`run_assay_power`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssayPowerResult {
    /// Protocol id.
    pub protocol_id: String,
    /// n values evaluated (after skipping those the layout cannot hold).
    pub n_values: Vec<u32>,
    /// n values skipped, with the reason.
    pub skipped: Vec<SkippedN>,
    /// Independent experiments per line evaluated (`[1]` without `experiments`: Wald test).
    pub experiments: Vec<u32>,
    /// Experiments per n and line.
    pub reps: u64,
    /// α.
    pub alpha: f64,
    /// Target.
    pub target: f64,
    /// Source of α / target.
    pub alpha_source: String,
    /// Seed.
    pub seed: u64,
    /// The effect sized.
    pub alternative: Alternative,
    /// Test keys, primary first.
    pub tests: Vec<String>,
    /// Rows in line, n, test order.
    pub rows: Vec<AssayPowerRow>,
    /// Per comparison and test.
    pub recommendations: Vec<AssayRecommendation>,
    /// Warnings (fits failing, shifted IC50 outside the doses, …).
    pub warnings: Vec<String>,
}

/// What one simulated experiment gives one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Reject,
    Accept,
    FitFailed,
    OutsideRange,
}

/// The positive tested dose range, nM.
fn dose_range(design: &AssayDesign) -> (f64, f64) {
    design
        .doses_nm
        .iter()
        .copied()
        .filter(|d| *d > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), d| {
            (lo.min(d), hi.max(d))
        })
}

/// Wald test of one fitted quantity between two fits (Satterthwaite df).
fn wald(test: AssayTest, reference: &Fit4pl, shifted: &Fit4pl, alpha: f64) -> Outcome {
    let (Some((e1, v1)), Some((e2, v2))) = (test.estimate(reference), test.estimate(shifted))
    else {
        return Outcome::FitFailed;
    };
    let (d1, d2) = (reference.df as f64, shifted.df as f64);
    // `welch_t_df` is the one owner of the Satterthwaite formula; it takes (var, n) with
    // SE² = var/n and df = n − 1, so each fit passes var = SE²·(df + 1), n = df + 1.
    let t = crate::analysis::stats::welch_t_df(
        e2,
        v2 * (d2 + 1.0),
        d2 + 1.0,
        e1,
        v1 * (d1 + 1.0),
        d1 + 1.0,
    );
    match t {
        Some((t, df)) if crate::numeric::dist::t_two_sided(t, df) < alpha => Outcome::Reject,
        Some(_) => Outcome::Accept,
        None => Outcome::FitFailed,
    }
}

/// What one simulated study gives each test, and how many of its experiments were not
/// testable.
#[derive(Debug, Clone, Copy)]
struct Trial {
    outcomes: [Outcome; 2],
    failed_experiments: u64,
}

impl Trial {
    fn all(o: Outcome, failed_experiments: u64) -> Trial {
        Trial {
            outcomes: [o; 2],
            failed_experiments,
        }
    }
}

/// Which cell a study belongs to: the ids of its random streams.
#[derive(Debug, Clone, Copy)]
struct CellId {
    seed: u64,
    line: usize,
    n: u32,
    /// Independent experiments per study (1 = single experiment, Wald test).
    k: u32,
}

/// What a plate pair gives each test.
struct Experiment<'a> {
    design: &'a AssayDesign,
    pair: &'a [LineSpec; 2],
    tests: &'a [AssayTest],
    alpha: f64,
    range: (f64, f64),
}

impl Experiment<'_> {
    /// The two fits of one experiment when both are testable (fitted, off their bounds, with
    /// a finite SE, IC50 inside the tested doses), else why not.
    fn testable<'f>(
        &self,
        fits: &'f [crate::invitro::assay::LineFit],
    ) -> Result<[&'f Fit4pl; 2], Outcome> {
        let ok = |i: usize| {
            fits.get(i)
                .and_then(|f| f.fit.as_ref().ok())
                .filter(|f| !f.at_bound && f.se_log_ic50.is_finite())
        };
        let (Some(r), Some(s)) = (ok(0), ok(1)) else {
            return Err(Outcome::FitFailed);
        };
        let (lo, hi) = self.range;
        // Relative tolerance: a fit exactly on the top dose is not an extrapolation.
        let inside = |f: &Fit4pl| {
            let ic = f.ic50();
            ic >= lo * (1.0 - 1e-9) && ic <= hi * (1.0 + 1e-9)
        };
        if !(inside(r) && inside(s)) {
            return Err(Outcome::OutsideRange);
        }
        Ok([r, s])
    }

    /// Simulates and tests one experiment (at most two tests), Wald test within it.
    fn run(&self, rng: &mut crate::rng::XRng) -> Result<Trial, PowerError> {
        let wells = simulate_plate(self.design, self.pair, rng)
            .map_err(|e| PowerError::Unsupported(format!("plate layout: {e}")))?;
        let fits = fit_lines(&wells, self.pair);
        let [r, s] = match self.testable(&fits) {
            Ok(f) => f,
            Err(o) => return Ok(Trial::all(o, 1)),
        };
        let mut out = [Outcome::Accept; 2];
        for (o, &t) in out.iter_mut().zip(self.tests) {
            *o = wald(t, r, s, self.alpha);
        }
        Ok(Trial {
            outcomes: out,
            failed_experiments: 0,
        })
    }

    /// Simulates study `rep` of `cell.k` independent experiments (each on its own stream,
    /// each line with its own between-experiment draw) and tests each quantity with Welch's t
    /// on the k per-experiment estimates of the two lines. A study with an untestable
    /// experiment is not significant (its first failure names the outcome).
    fn run_series(&self, cell: CellId, rep: u64) -> Result<Trial, PowerError> {
        // est[test][line]: the per-experiment estimates.
        let mut est: [[Vec<f64>; 2]; 2] = Default::default();
        let mut missing = [false; 2];
        let mut first_bad = None;
        let mut failed = 0;
        for e in 0..cell.k {
            let mut rng = crate::rng::stream(
                cell.seed,
                &[
                    ASSAY_POWER_STREAM,
                    cell.line as u64,
                    u64::from(cell.n),
                    u64::from(cell.k),
                    rep,
                    u64::from(e),
                ],
            );
            let (wells, run) = simulate_experiment(self.design, self.pair, &mut rng)
                .map_err(|e| PowerError::Unsupported(format!("plate layout: {e}")))?;
            match self.testable(&fit_lines(&wells, &run)) {
                Err(o) => {
                    failed += 1;
                    first_bad.get_or_insert(o);
                }
                Ok([r, s]) => {
                    for (ti, t) in self.tests.iter().enumerate() {
                        match (t.estimate(r), t.estimate(s)) {
                            (Some((a, _)), Some((b, _))) => {
                                est[ti][0].push(a);
                                est[ti][1].push(b);
                            }
                            _ => missing[ti] = true,
                        }
                    }
                }
            }
        }
        if let Some(o) = first_bad {
            return Ok(Trial::all(o, failed));
        }
        let mut out = [Outcome::Accept; 2];
        for (ti, o) in out.iter_mut().enumerate().take(self.tests.len()) {
            let t = crate::analysis::stats::welch_t(&est[ti][1], &est[ti][0]);
            *o = if missing[ti] || t.p_value.is_nan() {
                Outcome::FitFailed
            } else if t.p_value < self.alpha {
                Outcome::Reject
            } else {
                Outcome::Accept
            };
        }
        Ok(Trial {
            outcomes: out,
            failed_experiments: 0,
        })
    }
}

/// The reference line of the protocol and its shifted twin.
fn pair_of(a: &Assay, line: usize, alt: Alternative) -> [LineSpec; 2] {
    let reference = LineSpec::from_assay_line(&a.lines[line]);
    let mut shifted = reference.clone();
    shifted.name = format!("{}′", reference.name);
    if let LineModel::Endpoint {
        ic50,
        max_inhibition,
        ..
    } = &mut shifted.model
    {
        *ic50 *= alt.fold_shift;
        if let Some(d) = alt.max_inhibition_diff {
            *max_inhibition = (*max_inhibition - d).clamp(0.0, 1.0);
        }
    }
    [reference, shifted]
}

/// `MCF7 IC50 x10 vs MCF7` (with `, max inhibition −0.2` when asked).
fn comparison_label(line: &str, alt: Alternative) -> String {
    let f = crate::invitro::figures::fmt_num(alt.fold_shift);
    match alt.max_inhibition_diff {
        Some(d) => format!(
            "{line} IC50 x{f} max inhibition -{} vs {line}",
            crate::invitro::figures::fmt_num(d)
        ),
        None => format!("{line} IC50 x{f} vs {line}"),
    }
}

/// Tally of one (line, n, k) cell, one entry per test.
#[derive(Debug, Clone, Copy, Default)]
struct Count {
    rejected: u64,
    fit_failed: u64,
    outside: u64,
}

/// Runs `reps` studies of one (line, n, k) cell on the current rayon pool; returns the
/// per-test tallies and the untestable experiments.
fn run_cell(
    exp: &Experiment<'_>,
    cell: CellId,
    reps: u64,
) -> Result<([Count; 2], u64), PowerError> {
    let trials = (0..reps)
        .into_par_iter()
        .map(|r| {
            if cell.k <= 1 {
                let mut rng = crate::rng::stream(
                    cell.seed,
                    &[ASSAY_POWER_STREAM, cell.line as u64, u64::from(cell.n), r],
                );
                exp.run(&mut rng)
            } else {
                exp.run_series(cell, r)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut c = [Count::default(); 2];
    let mut failed = 0;
    for t in &trials {
        failed += t.failed_experiments;
        for (ci, oi) in c.iter_mut().zip(&t.outcomes) {
            match oi {
                Outcome::Reject => ci.rejected += 1,
                Outcome::Accept => {}
                Outcome::FitFailed => ci.fit_failed += 1,
                Outcome::OutsideRange => ci.outside += 1,
            }
        }
    }
    Ok((c, failed))
}

/// Splits the grid into the n the layout holds and those it cannot.
fn fit_grid(
    design: &AssayDesign,
    n_values: &[u32],
) -> (Vec<(u32, AssayDesign, u32)>, Vec<SkippedN>) {
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for &n in n_values {
        let mut d = design.clone();
        d.replicates = n;
        match plate_layout::plan(&d, 2) {
            Ok(map) => ok.push((n, d, map.plates)),
            Err(e) => skipped.push(SkippedN {
                n,
                reason: e.to_string(),
            }),
        }
    }
    (ok, skipped)
}

/// Sizes every line of assay protocol `a` (id `protocol_id`): power per (line, n, test).
/// `progress(k)` is called with the number of experiments just finished.
pub fn run_assay_power(
    protocol_id: &str,
    a: &Assay,
    s: &AssaySettings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<AssayPowerResult, PowerError> {
    s.validate()?;
    let (grid, skipped) = fit_grid(&a.design, &s.n_values);
    if grid.is_empty() {
        return Err(PowerError::Settings(format!(
            "no n of the grid fits the protocol's plate layout: {}",
            skipped
                .iter()
                .map(|k| format!("n = {}: {}", k.n, k.reason))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let tests = s.tests();
    let range = dose_range(&a.design);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.threads)
        .build()
        .map_err(|e| PowerError::Settings(format!("thread pool: {e}")))?;
    let ks = s.experiments.clone().unwrap_or_else(|| vec![1]);
    let mut rows = Vec::new();
    for (li, line) in a.lines.iter().enumerate() {
        let pair = pair_of(a, li, s.alternative);
        let comparison = comparison_label(&line.name, s.alternative);
        for &k in &ks {
            for (n, design, plates) in &grid {
                let exp = Experiment {
                    design,
                    pair: &pair,
                    tests: &tests,
                    alpha: s.alpha,
                    range,
                };
                let cell = CellId {
                    seed: s.seed,
                    line: li,
                    n: *n,
                    k,
                };
                let (counts, failed) = pool.install(|| run_cell(&exp, cell, s.reps))?;
                progress(s.reps);
                for (t, c) in tests.iter().zip(counts) {
                    let (lo, hi) = wilson95(c.rejected, s.reps);
                    rows.push(AssayPowerRow {
                        n_per_arm: *n,
                        comparison: comparison.clone(),
                        endpoint: t.key_for(k).to_string(),
                        power: c.rejected as f64 / s.reps as f64,
                        ci_low: lo,
                        ci_high: hi,
                        reps: s.reps,
                        rejections: c.rejected,
                        fit_failed: c.fit_failed,
                        outside_range: c.outside,
                        wells_per_line: design.doses_nm.len() as u32 * n,
                        plates: *plates,
                        line: line.name.clone(),
                        experiments: k,
                        failed_experiments: failed,
                    });
                }
            }
        }
    }
    let recommendations = recommend(&rows, s.target);
    let warnings = warnings(a, s, &rows, &skipped, range);
    Ok(AssayPowerResult {
        protocol_id: protocol_id.to_string(),
        n_values: grid.iter().map(|g| g.0).collect(),
        skipped,
        experiments: ks,
        reps: s.reps,
        alpha: s.alpha,
        target: s.target,
        alpha_source: s.alpha_source.clone(),
        seed: s.seed,
        alternative: s.alternative,
        tests: tests
            .iter()
            .map(|t| {
                t.key_for(s.experiments.as_ref().map_or(1, |_| 2))
                    .to_string()
            })
            .collect(),
        rows,
        recommendations,
        warnings,
    })
}

/// Per (comparison, test) in row order: the fewest independent experiments k at which some
/// n reaches the target, and the smallest such n at that k. Experiments first because an
/// independent experiment (a new passage, a new week) costs far more than another replicate
/// well, and beyond the within-experiment noise more wells cannot buy what more experiments
/// do (assumed ordering of costs).
fn recommend(rows: &[AssayPowerRow], target: f64) -> Vec<AssayRecommendation> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for r in rows {
        if !keys.contains(&(r.comparison.as_str(), r.endpoint.as_str())) {
            keys.push((&r.comparison, &r.endpoint));
        }
    }
    keys.into_iter()
        .map(|(c, e)| {
            let hit = rows
                .iter()
                .filter(|r| r.comparison == c && r.endpoint == e && r.power >= target)
                .min_by_key(|r| (r.experiments, r.n_per_arm));
            AssayRecommendation {
                comparison: c.to_string(),
                endpoint: e.to_string(),
                n: hit.map(|r| r.n_per_arm),
                experiments: hit.map(|r| r.experiments),
                power: hit.map(|r| r.power),
                ci: hit.map(|r| (r.ci_low, r.ci_high)),
            }
        })
        .collect()
}

/// Warnings: skipped n, shifted IC50 outside the doses, experiments not testable (one line
/// each, naming every n concerned).
fn warnings(
    a: &Assay,
    s: &AssaySettings,
    rows: &[AssayPowerRow],
    skipped: &[SkippedN],
    (lo, hi): (f64, f64),
) -> Vec<String> {
    let mut w = Vec::new();
    if let Some(first) = skipped.first() {
        w.push(format!(
            "n = {} replicate wells per condition skipped: the protocol's plate layout cannot hold {} ({})",
            skipped
                .iter()
                .map(|k| k.n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if skipped.len() == 1 { "it" } else { "them" },
            first.reason
        ));
    }
    let fmt_num = crate::invitro::figures::fmt_num;
    if s.experiments.is_some() {
        for l in &a.lines {
            let sd = &l.between_experiment_log10_ic50_sd;
            if sd.source == crate::protocol::DEFAULT_BETWEEN_EXPERIMENT_SOURCE {
                w.push(format!(
                    "{}: no `between-experiment-log10-ic50-sd` in the protocol; {} assumed (a 2-3-fold spread of IC50 between experiments) — give the SD of log10 IC50 over your own repeated experiments under the line",
                    l.name,
                    fmt_num(sd.value)
                ));
            }
        }
    }
    for l in &a.lines {
        let shifted = l.ic50_nm.value * s.alternative.fold_shift;
        if !(lo..=hi).contains(&shifted) {
            w.push(format!(
                "{}: the shifted IC50 {} nM lies outside the tested doses {}–{} nM, so its fits are extrapolations and count as not significant; widen the dose series",
                l.name,
                fmt_num(shifted),
                fmt_num(lo),
                fmt_num(hi)
            ));
        }
    }
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for r in rows.iter().filter(|r| r.fit_failed + r.outside_range > 0) {
        if !keys.contains(&(r.comparison.as_str(), r.endpoint.as_str())) {
            keys.push((&r.comparison, &r.endpoint));
        }
    }
    for (c, e) in keys {
        let cells: Vec<String> = rows
            .iter()
            .filter(|r| r.comparison == c && r.endpoint == e && r.fit_failed + r.outside_range > 0)
            .map(|r| {
                if r.experiments <= 1 {
                    format!(
                        "n = {}: {} of {} ({} fit failed or on a bound, {} IC50 outside the tested doses)",
                        r.n_per_arm,
                        r.fit_failed + r.outside_range,
                        r.reps,
                        r.fit_failed,
                        r.outside_range
                    )
                } else {
                    format!(
                        "n = {} x k = {}: {} of {} studies ({} with a fit failed or on a bound, {} with an IC50 outside the tested doses; {} of {} experiments)",
                        r.n_per_arm,
                        r.experiments,
                        r.fit_failed + r.outside_range,
                        r.reps,
                        r.fit_failed,
                        r.outside_range,
                        r.failed_experiments,
                        r.reps * u64::from(r.experiments)
                    )
                }
            })
            .collect();
        w.push(format!(
            "{c} ({e}): experiments not testable, counted as not significant — {}",
            cells.join("; ")
        ));
    }
    w
}

#[cfg(test)]
mod tests;
