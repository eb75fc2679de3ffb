//! In vitro simulation: deriving a drug-resistant line over months, and dose-response assays
//! with 4PL IC50 estimates.
//!
//! - [`derivation`]: the stochastic population simulator (sensitive / adapting / resistant
//!   cells, estrogen-mediated aromatase-inhibitor effect, passages, escalation, cloning) — the
//!   model is described in that module's docs;
//! - [`assay`]: the plate simulator (dose series × replicates × lines, readout noise, edge
//!   effects);
//! - [`fit`]: the four-parameter logistic fit (Levenberg–Marquardt) with a 95% CI of the IC50;
//! - [`figures`]: `plots/population` and `plots/dose_response`.
//!
//! [`simulate_to_dir`] runs a `derivation` or `assay` protocol and writes every file. For a
//! derivation, `reps` replicate runs (each with its own stream `rng::stream(seed, &[rep])`,
//! its validation assay with `rng::stream(seed, &[rep, 1])`) give the run-to-run variability;
//! replicate 0 is the run whose population and assay are written out. Results are collected in
//! replicate order, so they do not depend on the thread count. A derivation with IC50 checks
//! ([`checks`]) also writes `ic50_over_time.csv` and `plots/ic50_over_time`.

pub mod arms;
pub mod assay;
pub mod checks;
pub mod derivation;
pub mod figures;
pub mod fit;
#[doc(hidden)]
pub mod testutil;

use crate::output::{Manifest, OutputError, fmt_f, write_atomic, write_csv_rows};
use crate::plot::{PlotError, save};
use crate::protocol::plate_layout::LayoutError;
use crate::protocol::{Assay, AssayDesign, Body, Derivation, Protocol};
use assay::{
    ExperimentVariability, LineFit, LineModel, LineSpec, Well, WellRole, fit_lines, simulate_plate,
};
use checks::CheckResult;
use derivation::{
    DayRecord, DerivationRun, GrowthModel, Outcome, simulate_derivation, subpop_ic50s,
};
use figures::{DoseResponseFigure, PopulationFigure, fmt_num};
use rayon::prelude::*;
use std::fmt;
use std::path::{Path, PathBuf};

/// Stream id of a replicate's validation assay (below the replicate id).
const ASSAY_STREAM: u64 = 1;

/// Options of an in vitro simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitroOptions {
    /// Seed of every random stream.
    pub seed: u64,
    /// Replicate derivations (≥ 1); replicate 0 is written out in full.
    pub reps: u32,
    /// Worker threads for the replicates (`None` = rayon's global pool). Results do not
    /// depend on it.
    pub threads: Option<usize>,
    /// Protocol file, recorded with its SHA-256 in `manifest.json`.
    pub protocol_path: Option<PathBuf>,
}

impl Default for InvitroOptions {
    fn default() -> Self {
        InvitroOptions {
            seed: 1,
            reps: 1,
            threads: None,
            protocol_path: None,
        }
    }
}

/// Errors of the in vitro simulator.
#[derive(Debug, thiserror::Error)]
pub enum InvitroError {
    /// The protocol is neither a derivation nor an assay.
    #[error(
        "protocol '{id}' is a {kind} protocol; the in vitro simulator runs derivation and assay protocols"
    )]
    WrongKind {
        /// Protocol id.
        id: String,
        /// Its kind.
        kind: &'static str,
    },
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// Writing a file failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Drawing a figure failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The plate layout cannot hold the design (the protocol check rejects it first).
    #[error("plate layout: {0}")]
    Layout(#[from] LayoutError),
}

/// An IC50 as reported. A four-parameter logistic IC50 above the highest tested dose is an
/// extrapolation the plate cannot support, so it is reported censored ("> top dose", not
/// reached) and every fold shift built on it is a lower bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ic50 {
    /// Estimated within the tested range, nM.
    Reached(f64),
    /// Above the top tested dose.
    AboveTop {
        /// Top tested dose, nM: the IC50's lower bound.
        top_nm: f64,
        /// The fit's extrapolated IC50, nM (not a finding; shown for transparency).
        extrapolated_nm: f64,
    },
}

impl Ic50 {
    /// Classifies a fitted IC50 against the top dose of the plate it was fitted on.
    pub fn classify(estimate_nm: f64, top_nm: f64) -> Self {
        if estimate_nm > top_nm {
            Ic50::AboveTop {
                top_nm,
                extrapolated_nm: estimate_nm,
            }
        } else {
            Ic50::Reached(estimate_nm)
        }
    }
    /// The estimate, or the lower bound (top dose) when not reached.
    pub fn bound_nm(&self) -> f64 {
        match *self {
            Ic50::Reached(v) => v,
            Ic50::AboveTop { top_nm, .. } => top_nm,
        }
    }
    /// Whether the IC50 was reached within the tested doses.
    pub fn reached(&self) -> bool {
        matches!(self, Ic50::Reached(_))
    }
    /// CSV qualifier: `>` for a censored IC50, empty otherwise (Prism-style).
    pub fn qualifier(&self) -> &'static str {
        if self.reached() { "" } else { ">" }
    }
}

/// Fold shift of the IC50, derived / parental.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoldShift {
    /// The ratio (a lower bound when `lower_bound`).
    pub value: f64,
    /// The derived IC50 lies above the top dose, so the shift is at least `value`.
    pub lower_bound: bool,
}

impl FoldShift {
    /// `derived / parental`; `None` when the parental IC50 is missing or itself censored
    /// (the ratio would have no bound in either direction).
    pub fn of(parental: Option<Ic50>, derived: Option<Ic50>) -> Option<Self> {
        match (parental?, derived?) {
            (Ic50::Reached(p), d) if p > 0.0 => Some(FoldShift {
                value: d.bound_nm() / p,
                lower_bound: !d.reached(),
            }),
            _ => None,
        }
    }
    /// CSV qualifier: `>=` for a lower bound, empty otherwise.
    pub fn qualifier(&self) -> &'static str {
        if self.lower_bound { ">=" } else { "" }
    }
    /// `12x` or `≥ 1000x`.
    pub fn label(&self) -> String {
        if self.lower_bound {
            format!("≥ {}x", fmt_num(self.value))
        } else {
            format!("{}x", fmt_num(self.value))
        }
    }
}

/// One line's IC50 estimate as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Ic50Row {
    /// Line name.
    pub line: String,
    /// IC50, nM (NaN when the fit failed).
    pub ic50: f64,
    /// 95% CI low, nM.
    pub ci_low: f64,
    /// 95% CI high, nM.
    pub ci_high: f64,
    /// Hill slope.
    pub hill: f64,
    /// Top asymptote, % of vehicle.
    pub top: f64,
    /// Bottom asymptote, % of vehicle.
    pub bottom: f64,
    /// Why the fit failed, or a caveat (parameter on a bound, IC50 above the top dose).
    pub note: String,
    /// Highest dose tested, nM.
    pub top_dose_nm: f64,
    /// The IC50 as reported (`None` when the fit failed).
    pub value: Option<Ic50>,
}

impl Ic50Row {
    fn from_fit(lf: &LineFit, top_dose_nm: f64) -> Self {
        match &lf.fit {
            Ok(f) => {
                let value = Ic50::classify(f.ic50(), top_dose_nm);
                let mut notes = Vec::new();
                if f.at_bound {
                    notes.push("a parameter is at its bound; CI unreliable".to_string());
                }
                if !value.reached() {
                    notes.push(format!(
                        "IC50 not reached: the 4PL estimate {} nM lies above the top dose {} nM, so the IC50 is reported as > {} nM; extend the dose range to estimate it",
                        fmt_num(f.ic50()),
                        fmt_num(top_dose_nm),
                        fmt_num(top_dose_nm)
                    ));
                }
                let (ci_low, ci_high) = if value.reached() {
                    (f.ic50_ci_low, f.ic50_ci_high)
                } else {
                    (f64::NAN, f64::NAN)
                };
                Ic50Row {
                    line: lf.line.clone(),
                    ic50: value.bound_nm(),
                    ci_low,
                    ci_high,
                    hill: f.hill,
                    top: f.top,
                    bottom: f.bottom,
                    note: notes.join("; "),
                    top_dose_nm,
                    value: Some(value),
                }
            }
            Err(e) => Ic50Row {
                line: lf.line.clone(),
                ic50: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
                hill: f64::NAN,
                top: f64::NAN,
                bottom: f64::NAN,
                note: e.to_string(),
                top_dose_nm,
                value: None,
            },
        }
    }
}

/// Summary of one assay (a protocol's plate or a derivation's validation).
#[derive(Debug, Clone, PartialEq)]
pub struct AssaySummary {
    /// Readout name.
    pub readout: &'static str,
    /// Assay duration, days.
    pub duration_days: f64,
    /// Sample wells simulated.
    pub wells: usize,
    /// Blank wells.
    pub blanks: usize,
    /// Plates used.
    pub plates: u32,
    /// Per-line estimates.
    pub lines: Vec<Ic50Row>,
}

/// Result of one replicate derivation.
#[derive(Debug, Clone, PartialEq)]
pub struct RepResult {
    /// Replicate index (0-based).
    pub rep: u32,
    /// Outcome.
    pub outcome: Outcome,
    /// Day the resistant fraction first exceeded 50%.
    pub time_to_resistance_days: Option<u32>,
    /// Passages.
    pub passages: u32,
    /// Resistant fraction at the end (NaN after extinction).
    pub final_resistant_fraction: f64,
    /// Clones picked and resistant clones.
    pub clones: Option<(u32, u32)>,
    /// Days and concentrations of the escalation steps.
    pub escalations: Vec<(u32, f64)>,
    /// Fitted parental IC50 (censored above the top dose).
    pub ic50_parental: Option<Ic50>,
    /// Fitted derived IC50 (censored above the top dose).
    pub ic50_derived: Option<Ic50>,
    /// IC50 checks during the derivation, in day order (empty without a check schedule).
    pub checks: Vec<CheckResult>,
    /// The arms of a `[split]`, in file order (empty without one).
    pub arms: Vec<arms::ArmResult>,
}

impl RepResult {
    /// Fold shift of the IC50, derived / parental (a lower bound when the derived IC50 was
    /// not reached).
    pub fn shift(&self) -> Option<FoldShift> {
        FoldShift::of(self.ic50_parental, self.ic50_derived)
    }
}

/// Median and 90% interval (5th and 95th percentiles) of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Median.
    pub median: f64,
    /// 5th percentile.
    pub low: f64,
    /// 95th percentile.
    pub high: f64,
    /// Values summarized.
    pub n: usize,
    /// Of those, values only known as lower bounds (ranked above every exact value; a
    /// percentile among them is +∞, printed "not reached").
    pub censored: usize,
}

pub use crate::numeric::quantile7 as quantile;

impl Interval {
    /// Median and 90% interval of `values` (non-finite values dropped); `None` if empty.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Interval {
            median: quantile(&v, 0.5),
            low: quantile(&v, 0.05),
            high: quantile(&v, 0.95),
            n: v.len(),
            censored: 0,
        })
    }

    /// Median and 90% interval of fold shifts where some are lower bounds: those rank above
    /// every exact value (the "not reached" convention of a median survival), so a percentile
    /// that falls among them is +∞. `None` if empty.
    pub fn of_shifts(values: impl IntoIterator<Item = FoldShift>) -> Option<Self> {
        let mut v: Vec<f64> = values
            .into_iter()
            .filter(|s| s.value.is_finite())
            .map(|s| {
                if s.lower_bound {
                    f64::INFINITY
                } else {
                    s.value
                }
            })
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            // Type-7 quantile; any interpolation towards a censored value is censored.
            let h = (v.len() - 1) as f64 * p;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(v.len() - 1);
            if h == lo as f64 {
                v[lo]
            } else if v[hi].is_infinite() {
                f64::INFINITY
            } else {
                quantile(&v, p)
            }
        };
        Some(Interval {
            median: q(0.5),
            low: q(0.05),
            high: q(0.95),
            n: v.len(),
            censored: v.iter().filter(|x| x.is_infinite()).count(),
        })
    }
}

/// Run-to-run variability over replicate derivations.
#[derive(Debug, Clone, PartialEq)]
pub struct Variability {
    /// Replicates run.
    pub reps: u32,
    /// Time to resistance among runs that reached it.
    pub time_to_resistance: Option<Interval>,
    /// Passages over all runs.
    pub passages: Option<Interval>,
    /// IC50 fold shift among runs with both fits.
    pub ic50_shift: Option<Interval>,
    /// IC50 fold shift among runs that ended resistant.
    pub ic50_shift_resistant: Option<Interval>,
    /// Fraction of runs that died out.
    pub extinct_fraction: f64,
    /// Fraction of runs with ≤ 50% resistant cells at the end.
    pub not_resistant_fraction: f64,
    /// First check day reaching the target fold shift, among runs that reached it (`None`
    /// without checks, target or any run reaching it).
    pub first_check_at_target: Option<Interval>,
    /// Quartiles (25%, 50%, 75%) of the time to resistance over all runs, a run that never
    /// reached it counting as +∞ (after every other; "not reached").
    pub time_to_resistance_quartiles: Option<[f64; 3]>,
}

/// Type-7 quantiles `ps` of `v` where +∞ marks a value only known to lie above every finite
/// one: a quantile interpolating towards it is +∞. `None` when empty.
fn censored_quantiles<const N: usize>(mut v: Vec<f64>, ps: [f64; N]) -> Option<[f64; N]> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = (v.len() - 1) as f64 * p;
        let (lo, hi) = (
            h.floor() as usize,
            (h.floor() as usize + 1).min(v.len() - 1),
        );
        if v[hi].is_infinite() && h > lo as f64 || v[lo].is_infinite() {
            f64::INFINITY
        } else {
            v[lo] + (h - lo as f64) * (v[hi] - v[lo])
        }
    };
    Some(ps.map(q))
}

impl Variability {
    /// Summarizes replicate results; `target` is the checks' target fold shift.
    pub fn of(results: &[RepResult], target: Option<f64>) -> Self {
        let n = results.len().max(1) as f64;
        Variability {
            first_check_at_target: target.and_then(|t| {
                Interval::of(
                    results
                        .iter()
                        .filter_map(|r| checks::first_day_reaching(&r.checks, t).map(f64::from)),
                )
            }),
            time_to_resistance_quartiles: censored_quantiles(
                results
                    .iter()
                    .map(|r| r.time_to_resistance_days.map_or(f64::INFINITY, f64::from))
                    .collect(),
                [0.25, 0.5, 0.75],
            ),
            reps: results.len() as u32,
            time_to_resistance: Interval::of(
                results
                    .iter()
                    .filter_map(|r| r.time_to_resistance_days.map(f64::from)),
            ),
            passages: Interval::of(results.iter().map(|r| f64::from(r.passages))),
            ic50_shift: Interval::of_shifts(results.iter().filter_map(|r| r.shift())),
            ic50_shift_resistant: Interval::of_shifts(
                results
                    .iter()
                    .filter(|r| r.outcome == Outcome::Resistant)
                    .filter_map(|r| r.shift()),
            ),
            extinct_fraction: results
                .iter()
                .filter(|r| r.outcome == Outcome::Extinct)
                .count() as f64
                / n,
            not_resistant_fraction: results
                .iter()
                .filter(|r| r.outcome == Outcome::NotResistant)
                .count() as f64
                / n,
        }
    }
    /// Fraction of failed runs (extinction or no resistance by the end).
    pub fn failed_fraction(&self) -> f64 {
        self.extinct_fraction + self.not_resistant_fraction
    }
}

/// Summary of a derivation simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivationSummary {
    /// Parental line.
    pub parental: String,
    /// Derived line.
    pub derived: String,
    /// Drug.
    pub drug: String,
    /// Days of exposure.
    pub duration_days: u32,
    /// Replicate 0.
    pub first: RepResult,
    /// Replicate 0's validation assay.
    pub validation: Option<AssaySummary>,
    /// The IC50 check schedule (replicate 0's results are in `first.checks`).
    pub checks: Option<crate::protocol::ValidationChecks>,
    /// Over all replicates (when reps > 1).
    pub variability: Option<Variability>,
    /// Over all replicates, one line per arm of a `[split]` (empty without one or with one
    /// replicate).
    pub arms_over_runs: String,
    /// The cited time to resistance, when the protocol gives one.
    pub expected_time_to_resistance: Option<crate::protocol::DayRange>,
}

/// What was simulated.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportBody {
    /// A derivation.
    Derivation(Box<DerivationSummary>),
    /// An assay protocol.
    Assay(AssaySummary),
}

/// Result of [`simulate_to_dir`]; its `Display` is the text `simulate` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitroReport {
    /// Protocol id.
    pub protocol_id: String,
    /// Protocol title.
    pub title: String,
    /// Seed.
    pub seed: u64,
    /// Output directory.
    pub out_dir: PathBuf,
    /// Files written, relative to `out_dir`.
    pub files: Vec<String>,
    /// Results.
    pub body: ReportBody,
}

fn fmt_ic(r: &Ic50Row) -> String {
    format!("{} {}", r.line, fmt_ic_value(r))
}

/// An IC50 as printed, without the line name: `12.3 nM (95% CI 8.1–18.7)`, `> 1000 nM (not
/// reached: above the top tested dose)` (censored, never the extrapolated number), or why it
/// is not estimable. The one rule of the text, the report's table and `summary.txt`.
pub fn fmt_ic_value(r: &Ic50Row) -> String {
    if let Some(Ic50::AboveTop { top_nm, .. }) = r.value {
        format!(
            "> {} nM (not reached: above the top tested dose)",
            fmt_num(top_nm)
        )
    } else if r.ic50.is_finite() && !(r.ci_low > 0.0 && r.ci_high.is_finite()) {
        // A flat curve can leave the Wald CI without a finite bound: say so, never "0–inf".
        format!("{} nM (95% CI not estimable)", fmt_num(r.ic50))
    } else if r.ic50.is_finite() {
        format!(
            "{} nM (95% CI {}–{})",
            fmt_num(r.ic50),
            fmt_num(r.ci_low),
            fmt_num(r.ci_high)
        )
    } else {
        format!("not estimable ({})", r.note)
    }
}

fn fmt_interval(i: &Interval, unit: &str, digits: usize) -> String {
    let v = |x: f64, u: &str| {
        if x.is_infinite() {
            "not reached".to_string()
        } else {
            format!("{x:.digits$}{u}")
        }
    };
    format!(
        "median {} (90% interval {}–{})",
        v(i.median, unit),
        v(i.low, ""),
        v(i.high, unit)
    )
}

impl fmt::Display for InvitroReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ({}), seed {}",
            self.title, self.protocol_id, self.seed
        )?;
        match &self.body {
            ReportBody::Assay(a) => {
                writeln!(
                    f,
                    "Assay: {} readout, {} days, {} sample wells{} on {} plate(s)",
                    a.readout,
                    fmt_num(a.duration_days),
                    a.wells,
                    if a.blanks > 0 {
                        format!(" + {} blanks", a.blanks)
                    } else {
                        String::new()
                    },
                    a.plates
                )?;
                for r in &a.lines {
                    writeln!(f, "  IC50 {}", fmt_ic(r))?;
                }
            }
            ReportBody::Derivation(d) => fmt_derivation(f, d)?,
        }
        write!(
            f,
            "Files in {}: {}",
            self.out_dir.display(),
            self.files.join(", ")
        )
    }
}

/// The derivation part of the `simulate` summary: replicate 0, its checks and arms, then the
/// distribution over runs.
fn fmt_derivation(f: &mut fmt::Formatter<'_>, d: &DerivationSummary) -> fmt::Result {
    let r = &d.first;
    writeln!(
        f,
        "Derivation of {} from {} under {}, {} days",
        d.derived, d.parental, d.drug, d.duration_days
    )?;
    let ttr = match r.time_to_resistance_days {
        Some(t) => format!("resistant fraction > 50% on day {t}"),
        None => "resistant fraction never exceeded 50%".to_string(),
    };
    writeln!(
        f,
        "  Run 1: {ttr}; {} passages; outcome {}; final resistant fraction {}",
        r.passages,
        r.outcome.as_str(),
        fmt_f(100.0 * r.final_resistant_fraction, 1) + "%"
    )?;
    if !r.escalations.is_empty() {
        let steps: Vec<String> = r
            .escalations
            .iter()
            .map(|(day, c)| format!("day {day} → {} nM", fmt_num(*c)))
            .collect();
        writeln!(f, "  Dose steps: {}", steps.join(", "))?;
    }
    if let Some((n, k)) = r.clones {
        writeln!(f, "  Cloning: {k} of {n} clones resistant")?;
    }
    match &d.validation {
        Some(a) => {
            let lines: Vec<String> = a.lines.iter().map(fmt_ic).collect();
            writeln!(
                f,
                "  Validation ({}, {} days): IC50 {}",
                a.readout,
                fmt_num(a.duration_days),
                lines.join("; ")
            )?;
            match r.shift() {
                Some(s) => writeln!(
                    f,
                    "  IC50 fold shift ({} / {}): {}{}",
                    d.derived,
                    d.parental,
                    s.label(),
                    if s.lower_bound {
                        " (lower bound: the derived IC50 lies above the top dose)"
                    } else {
                        ""
                    }
                )?,
                None => writeln!(f, "  IC50 fold shift: not estimable")?,
            }
        }
        None if r.outcome == Outcome::Extinct => {
            writeln!(f, "  No validation assay: the culture died out")?
        }
        None => writeln!(f, "  No validation assay in the protocol")?,
    }
    fmt_checks(f, d)?;
    let target = d.checks.as_ref().and_then(|c| c.target_fold_shift);
    arms::fmt_first(f, target, &d.first.arms)?;
    if let Some(v) = &d.variability {
        fmt_over_runs(f, d, v)?;
    }
    Ok(())
}

/// Time to resistance, passages, IC50 shifts and failures over the replicate runs.
fn fmt_over_runs(
    f: &mut fmt::Formatter<'_>,
    d: &DerivationSummary,
    v: &Variability,
) -> fmt::Result {
    writeln!(f, "Over {} runs:", v.reps)?;
    match &v.time_to_resistance {
        Some(i) => writeln!(
            f,
            "  time to resistance (>50% resistant): {} ({} of {} runs reached it)",
            fmt_interval(i, " d", 0),
            i.n,
            v.reps
        )?,
        None => writeln!(
            f,
            "  time to resistance: no run reached 50% resistant cells"
        )?,
    }
    fmt_expected_ttr(f, d, v)?;
    if let Some(i) = &v.passages {
        writeln!(f, "  passages: {}", fmt_interval(i, "", 0))?;
    }
    match &v.ic50_shift {
        Some(i) => {
            writeln!(
                f,
                "  IC50 fold shift: {} over {} runs with both fits",
                fmt_interval(i, "x", 1),
                i.n
            )?;
            if i.censored > 0 {
                writeln!(
                    f,
                    "  derived IC50 not reached (above the top tested dose) in {} of {} runs: their fold shifts are lower bounds, ranked above the others",
                    i.censored, i.n
                )?;
            }
        }
        None => writeln!(f, "  IC50 fold shift: not estimable")?,
    }
    if let Some(i) = &v.ic50_shift_resistant {
        writeln!(
            f,
            "  IC50 fold shift, runs that ended resistant: {} ({} runs)",
            fmt_interval(i, "x", 1),
            i.n
        )?;
    }
    fmt_target_over_runs(f, d, v)?;
    f.write_str(&d.arms_over_runs)?;
    writeln!(
        f,
        "  failed runs: {:.1}% (extinct {:.1}%, not resistant by day {} {:.1}%)",
        100.0 * v.failed_fraction(),
        100.0 * v.extinct_fraction,
        d.duration_days,
        100.0 * v.not_resistant_fraction
    )?;
    Ok(())
}

/// Replicate 0's IC50 checks, one line per check (day: IC50 (CI) or "> top dose", fold shift),
/// and the first check reaching the target shift.
fn fmt_checks(f: &mut fmt::Formatter<'_>, d: &DerivationSummary) -> fmt::Result {
    let Some(schedule) = &d.checks else {
        return Ok(());
    };
    writeln!(
        f,
        "  IC50 checks, run 1 ({} population beside {} on each plate):",
        d.derived, d.parental
    )?;
    for c in &d.first.checks {
        match &c.ic50 {
            Some([_, derived]) => {
                let shift = c
                    .shift()
                    .map_or_else(|| "not estimable".to_string(), |s| s.label());
                writeln!(f, "    day {}: {}; shift {shift}", c.day, fmt_ic(derived))?
            }
            None => writeln!(f, "    day {}: no check, the culture had died out", c.day)?,
        }
    }
    if let Some(t) = schedule.target_fold_shift {
        match checks::first_day_reaching(&d.first.checks, t) {
            Some(day) => writeln!(
                f,
                "  Target IC50 shift {}x first reached at the day-{day} check",
                fmt_num(t)
            )?,
            None => writeln!(
                f,
                "  Target IC50 shift {}x not reached by the last check (day {})",
                fmt_num(t),
                schedule.days.last().copied().unwrap_or(0)
            )?,
        }
    }
    Ok(())
}

/// Over replicates: the time to resistance (median, IQR over every run) against the cited
/// range, with a warning and what to recalibrate when the median lies outside it.
fn fmt_expected_ttr(
    f: &mut fmt::Formatter<'_>,
    d: &DerivationSummary,
    v: &Variability,
) -> fmt::Result {
    let (Some(range), Some([q1, med, q3])) = (
        &d.expected_time_to_resistance,
        v.time_to_resistance_quartiles,
    ) else {
        return Ok(());
    };
    let days = |x: f64| {
        if x.is_finite() {
            format!("{x:.0} d")
        } else {
            "not reached".to_string()
        }
    };
    writeln!(
        f,
        "  time to resistance vs the cited range: median {} (IQR {}–{}, all {} runs) vs {}–{} d ({})",
        days(med),
        days(q1),
        days(q3),
        v.reps,
        fmt_num(range.min),
        fmt_num(range.max),
        range.source
    )?;
    if !(range.min..=range.max).contains(&med) {
        let side = if med < range.min { "faster" } else { "slower" };
        writeln!(
            f,
            "  WARNING: the simulated median time to resistance ({}) lies outside the cited {}–{} d: resistance emerges {side} than reported. Recalibrate [model] resistant-fraction (pre-existing clone), switch-rate-per-division and ic50-resistant-nm (and the start concentration), or cite the range the protocol follows.",
            days(med),
            fmt_num(range.min),
            fmt_num(range.max)
        )?;
    }
    Ok(())
}

/// Over replicates: the first check day reaching the target shift, or that no run reached it.
fn fmt_target_over_runs(
    f: &mut fmt::Formatter<'_>,
    d: &DerivationSummary,
    v: &Variability,
) -> fmt::Result {
    let Some((t, last)) = d
        .checks
        .as_ref()
        .and_then(|c| Some((c.target_fold_shift?, c.days.last().copied().unwrap_or(0))))
    else {
        return Ok(());
    };
    match &v.first_check_at_target {
        Some(i) => writeln!(
            f,
            "  first check with IC50 shift ≥ {}x: {} ({} of {} runs reached it by day {last})",
            fmt_num(t),
            fmt_interval(i, " d", 0),
            i.n,
            v.reps
        ),
        None => writeln!(
            f,
            "  IC50 shift ≥ {}x: not reached by the last check (day {last}) in any of {} runs",
            fmt_num(t),
            v.reps
        ),
    }
}

/// Everything one replicate derivation produces.
struct RepOutput {
    run: DerivationRun,
    assay: Option<(Vec<Well>, Vec<LineFit>)>,
    result: RepResult,
}

/// The subpopulations (fraction, IC50 nM) of the cells in `rec` (a non-empty culture).
fn subpops_of(rec: &DayRecord, [s, a, r]: [f64; 3]) -> Vec<(f64, f64)> {
    let t = rec.total() as f64;
    [
        (rec.sensitive as f64 / t, s),
        (rec.adapting as f64 / t, a),
        (rec.resistant as f64 / t, r),
    ]
    .into_iter()
    .filter(|p| p.0 > 0.0)
    .collect()
}

/// The two lines of every validation plate: the parental (all sensitive) line and the derived
/// line made of `subpops`.
/// Lines on the plate of each IC50 check and of a derivation's final validation without
/// cloning: the parental line and the derived population ([`validation_pair`]); the timeline
/// counts check plates with it.
pub const VALIDATION_PAIR_LINES: u32 = 2;

fn validation_pair(d: &Derivation, subpops: Vec<(f64, f64)>) -> Vec<LineSpec> {
    let growth = GrowthModel::new(&d.model, &d.culture);
    let [s, _, _] = subpop_ic50s(&d.model);
    vec![
        LineSpec {
            name: d.parental_line.clone(),
            model: LineModel::Mechanistic {
                growth: growth.clone(),
                subpops: vec![(1.0, s)],
            },
            between: ExperimentVariability::NONE,
        },
        LineSpec {
            name: d.derived_line.clone(),
            model: LineModel::Mechanistic { growth, subpops },
            between: ExperimentVariability::NONE,
        },
    ]
}

/// The validation lines of a finished run: parental, and the derived clone or population.
fn validation_lines(d: &Derivation, run: &DerivationRun) -> Option<Vec<LineSpec>> {
    let last = run.last()?;
    if last.total() == 0 {
        return None;
    }
    let ic50s = subpop_ic50s(&d.model);
    let [s, a, r] = ic50s;
    let subpops = match run.clones {
        // The scientist validates a resistant clone when any was found; otherwise the most
        // common non-resistant state.
        Some((_, k)) if k > 0 => vec![(1.0, r)],
        Some(_) => vec![(1.0, if last.adapting > last.sensitive { a } else { s })],
        None => subpops_of(last, ic50s),
    };
    Some(validation_pair(d, subpops))
}

fn run_rep(d: &Derivation, seed: u64, rep: u32) -> Result<RepOutput, InvitroError> {
    let mut rng = crate::rng::stream(seed, &[u64::from(rep)]);
    let run = simulate_derivation(d, &mut rng);
    let assay = match (&d.validation, validation_lines(d, &run)) {
        (Some(design), Some(lines)) => {
            let mut arng = crate::rng::stream(seed, &[u64::from(rep), ASSAY_STREAM]);
            let wells = simulate_plate(design, &lines, &mut arng)?;
            let fits = fit_lines(&wells, &lines);
            Some((wells, fits))
        }
        _ => None,
    };
    let top = d.validation.as_ref().map_or(f64::NAN, top_dose);
    let ic = |i: usize| {
        assay
            .as_ref()
            .and_then(|(_, f)| f.get(i))
            .and_then(|lf| lf.fit.as_ref().ok())
            .map(|f| Ic50::classify(f.ic50(), top))
    };
    let checks = checks::run_checks(d, &run, seed, rep)?;
    let arms = arms::run_arms(d, &run, &checks, seed, rep)?;
    let result = RepResult {
        rep,
        outcome: run.outcome,
        time_to_resistance_days: run.time_to_resistance_days,
        passages: run.passages,
        final_resistant_fraction: run.last().map_or(f64::NAN, |r| r.resistant_fraction()),
        clones: run.clones,
        escalations: run.escalations.clone(),
        ic50_parental: ic(0),
        ic50_derived: ic(1),
        checks,
        arms,
    };
    Ok(RepOutput { run, assay, result })
}

/// Runs `reps` replicate derivations in parallel; results in replicate order.
pub fn run_replicates(
    d: &Derivation,
    seed: u64,
    reps: u32,
    threads: Option<usize>,
) -> Result<Vec<RepResult>, InvitroError> {
    let go = || {
        (0..reps)
            .into_par_iter()
            .map(|r| run_rep(d, seed, r).map(|o| o.result))
            .collect::<Result<Vec<_>, _>>()
    };
    match threads {
        Some(t) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| InvitroError::InvalidOption(format!("thread pool: {e}")))?;
            pool.install(go)
        }
        None => go(),
    }
}

/// Six significant digits for the CSVs ([`crate::output::fmt_sig`]; empty if missing).
fn sig(x: f64) -> String {
    crate::output::fmt_sig(x, 6)
}

/// Columns of `population.csv` (and of `population_arms.csv` after its `arm` column).
const POPULATION_HEADER: [&str; 10] = [
    "day",
    "total_cells",
    "resistant_fraction",
    "drug_nM",
    "passage",
    "sensitive_cells",
    "adapting_cells",
    "resistant_cells",
    "event",
    "cumulative_doublings",
];

/// One day of a culture as a [`POPULATION_HEADER`] row.
fn population_row(r: &DayRecord) -> Vec<String> {
    vec![
        r.day.to_string(),
        r.total().to_string(),
        fmt_f(r.resistant_fraction(), 6),
        sig(r.drug_nm),
        r.passage.to_string(),
        r.sensitive.to_string(),
        r.adapting.to_string(),
        r.resistant.to_string(),
        r.event.as_str().to_string(),
        fmt_f(r.cumulative_doublings, 3),
    ]
}

fn write_population(dir: &Path, run: &DerivationRun) -> Result<(), OutputError> {
    let rows: Vec<Vec<String>> = run.days.iter().map(population_row).collect();
    write_csv_rows(&dir.join("population.csv"), &POPULATION_HEADER, &rows)
}

fn write_assay(dir: &Path, wells: &[Well]) -> Result<(), OutputError> {
    let header = [
        "role",
        "line",
        "plate",
        "well",
        "dose_nM",
        "replicate",
        "edge",
        "seeded_cells",
        "expected_cells",
        "signal",
        "dead_count",
        "response_pct",
    ];
    let rows: Vec<Vec<String>> = wells
        .iter()
        .map(|w| {
            let blank = w.role == WellRole::Blank;
            vec![
                w.role.as_str().to_string(),
                w.line.clone(),
                w.plate.to_string(),
                w.well.clone(),
                if blank { String::new() } else { sig(w.dose_nm) },
                if blank {
                    String::new()
                } else {
                    w.replicate.to_string()
                },
                w.edge.to_string(),
                w.seeded.to_string(),
                fmt_f(w.cells, 1),
                if w.signal.fract() == 0.0 {
                    format!("{}", w.signal)
                } else {
                    fmt_f(w.signal, 4)
                },
                w.dead_count.map(|d| d.to_string()).unwrap_or_default(),
                fmt_f(w.response_pct, 3),
            ]
        })
        .collect();
    write_csv_rows(&dir.join("assay.csv"), &header, &rows)
}

/// Highest dose of an assay design, nM.
fn top_dose(design: &AssayDesign) -> f64 {
    design.doses_nm.iter().copied().fold(f64::NAN, f64::max)
}

fn write_ic50(dir: &Path, rows: &[Ic50Row]) -> Result<(), OutputError> {
    // `ic50` holds the estimate, or the top dose when `qualifier` is `>` (not reached).
    let header = [
        "line",
        "ic50",
        "ci_low",
        "ci_high",
        "hill",
        "top",
        "bottom",
        "note",
        "qualifier",
        "top_dose_nM",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.line.clone(),
                sig(r.ic50),
                sig(r.ci_low),
                sig(r.ci_high),
                fmt_f(r.hill, 4),
                fmt_f(r.top, 3),
                fmt_f(r.bottom, 3),
                r.note.clone(),
                r.value.map_or("", |v| v.qualifier()).to_string(),
                sig(r.top_dose_nm),
            ]
        })
        .collect();
    write_csv_rows(&dir.join("ic50.csv"), &header, &body)
}

fn write_replicates(dir: &Path, results: &[RepResult]) -> Result<(), OutputError> {
    let header = [
        "rep",
        "outcome",
        "time_to_resistance_days",
        "passages",
        "final_resistant_fraction",
        "clones",
        "resistant_clones",
        "ic50_parental_nM",
        "ic50_derived_nM",
        "ic50_shift",
        "ic50_parental_qualifier",
        "ic50_derived_qualifier",
        "ic50_shift_qualifier",
    ];
    let body: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                (r.rep + 1).to_string(),
                r.outcome.as_str().to_string(),
                r.time_to_resistance_days
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                r.passages.to_string(),
                fmt_f(r.final_resistant_fraction, 6),
                r.clones.map(|c| c.0.to_string()).unwrap_or_default(),
                r.clones.map(|c| c.1.to_string()).unwrap_or_default(),
                r.ic50_parental
                    .map(|v| sig(v.bound_nm()))
                    .unwrap_or_default(),
                r.ic50_derived
                    .map(|v| sig(v.bound_nm()))
                    .unwrap_or_default(),
                r.shift().map(|s| sig(s.value)).unwrap_or_default(),
                r.ic50_parental.map_or("", |v| v.qualifier()).to_string(),
                r.ic50_derived.map_or("", |v| v.qualifier()).to_string(),
                r.shift().map_or("", |s| s.qualifier()).to_string(),
            ]
        })
        .collect();
    write_csv_rows(&dir.join("replicates.csv"), &header, &body)
}

fn y_label(design: &AssayDesign) -> String {
    let what = match design.readout {
        crate::protocol::Readout::Mtt => "MTT absorbance",
        crate::protocol::Readout::CrystalViolet => "Crystal violet absorbance",
        crate::protocol::Readout::SytoxGreen => "Live cells (Sytox Green)",
    };
    format!("{what}, % of vehicle")
}

fn assay_outputs(
    dir: &Path,
    title: &str,
    note: &str,
    design: &AssayDesign,
    wells: Vec<Well>,
    fits: Vec<LineFit>,
    files: &mut Vec<String>,
) -> Result<AssaySummary, InvitroError> {
    write_assay(dir, &wells)?;
    files.push("assay.csv".into());
    let top = top_dose(design);
    let rows: Vec<Ic50Row> = fits.iter().map(|f| Ic50Row::from_fit(f, top)).collect();
    write_ic50(dir, &rows)?;
    files.push("ic50.csv".into());
    let n = wells.iter().filter(|w| w.role == WellRole::Sample).count();
    let blanks = wells.len() - n;
    let plates = wells.iter().map(|w| w.plate).max().unwrap_or(0);
    let fig = DoseResponseFigure {
        title: title.to_string(),
        wells,
        fits,
        note: note.to_string(),
        y_label: y_label(design),
    };
    save(&fig, &dir.join("plots").join("dose_response"), (900, 620))?;
    files.extend([
        "plots/dose_response.svg".to_string(),
        "plots/dose_response.png".to_string(),
    ]);
    Ok(AssaySummary {
        readout: design.readout.as_str(),
        duration_days: design.duration_days,
        wells: n,
        blanks,
        plates,
        lines: rows,
    })
}

fn manifest(
    protocol: &Protocol,
    opts: &InvitroOptions,
    parameters: serde_json::Value,
    files: &[String],
) -> Manifest {
    let mut m = Manifest::new("simulate");
    if let Some(p) = &opts.protocol_path
        && let Ok(bytes) = std::fs::read(p)
    {
        m = m.with_input(p, &bytes);
    }
    m.protocol_id = Some(protocol.id.clone());
    m.seed = Some(opts.seed);
    m.parameters = parameters;
    m.files = files.to_vec();
    m
}

fn derivation_parameters(d: &Derivation, opts: &InvitroOptions) -> serde_json::Value {
    let mut v = derivation_parameters_base(d, opts);
    // Only with checks, so the manifest of a protocol without them is unchanged.
    if let (Some(c), Some(map)) = (&d.checks, v.as_object_mut()) {
        map.insert("checks".into(), checks::parameters(c));
    }
    // Likewise only when given.
    let m = &d.model;
    let sourced =
        |s: &crate::protocol::Sourced| serde_json::json!({ "value": s.value, "source": s.source });
    if let Some(map) = v.as_object_mut() {
        if let Some(sp) = arms::parameters(d) {
            map.insert("split".into(), sp);
        }
        if let Some(r) = &d.expected_time_to_resistance {
            map.insert(
                "expected_time_to_resistance_days".into(),
                serde_json::json!({ "min": r.min, "max": r.max, "source": r.source }),
            );
        }
        if let Some(model) = map.get_mut("model").and_then(|x| x.as_object_mut()) {
            for (k, p) in [
                ("fitness_off_drug", &m.fitness_off_drug),
                (
                    "reversion_rate_per_division",
                    &m.reversion_rate_per_division,
                ),
            ] {
                if let Some(p) = p {
                    model.insert(k.into(), sourced(p));
                }
            }
        }
    }
    v
}

fn derivation_parameters_base(d: &Derivation, opts: &InvitroOptions) -> serde_json::Value {
    let m = &d.model;
    let sourced =
        |s: &crate::protocol::Sourced| serde_json::json!({ "value": s.value, "source": s.source });
    serde_json::json!({
        "kind": "derivation",
        "reps": opts.reps,
        "drug": d.drug,
        "start_concentration_nm": sourced(&d.start_concentration_nm),
        "escalation": d.escalation.iter().map(|s| serde_json::json!({
            "concentration_nm": s.concentration_nm,
            "trigger": match s.trigger {
                crate::protocol::EscalationTrigger::Day(day) => serde_json::json!({ "day": day }),
                crate::protocol::EscalationTrigger::GrowthRecovered { doubling_h } => serde_json::json!({ "growth_recovered_doubling_h": doubling_h }),
            }
        })).collect::<Vec<_>>(),
        "duration_days": d.duration_days,
        "culture": {
            "substrate": d.culture.substrate, "substrate_nm": d.culture.substrate_nm,
            "seeding_cells": d.culture.seeding_cells, "confluent_cells": d.culture.confluent_cells,
            "passage_at_confluence": d.culture.passage_at_confluence, "split_ratio": d.culture.split_ratio,
            "medium_change_days": d.culture.medium_change_days,
        },
        "model": {
            "doubling_h_with_e2": sourced(&m.doubling_h_with_e2),
            "doubling_h_without_e2": sourced(&m.doubling_h_without_e2),
            "death_rate_per_day": sourced(&m.death_rate_per_day),
            "ic50_sensitive_nm": sourced(&m.ic50_sensitive_nm),
            "ic50_resistant_nm": sourced(&m.ic50_resistant_nm),
            "hill": sourced(&m.hill),
            "resistant_fraction": sourced(&m.resistant_fraction),
            "switch_rate_per_division": sourced(&m.switch_rate_per_division),
            "intermediate_ic50_factor": m.intermediate_ic50_factor.as_ref().map(sourced),
        },
        "cloning": d.cloning.as_ref().map(|c| serde_json::json!({ "clones": c.clones, "expansion_days": c.expansion_days })),
        "validation": d.validation.as_ref().map(design_json),
        "assay_readout_constants": "MTT blank 0.06 OD + 1.5e-5 OD/cell; crystal violet 0.05 + 1.0e-5; reader SD 0.003 OD; Sytox dead background 5% (assumed)",
        "ci_method": "Wald CI on log10 IC50 from the asymptotic covariance s²(JᵀJ)⁻¹, t(n−4) quantile",
    })
}

fn design_json(a: &AssayDesign) -> serde_json::Value {
    serde_json::json!({
        "drug": a.drug, "doses_nm": a.doses_nm, "replicates": a.replicates, "duration_days": a.duration_days,
        "seeding_cells": a.seeding_cells, "plate_wells": a.plate_wells, "readout": a.readout.as_str(),
        "noise_cv": { "value": a.noise_cv.value, "source": a.noise_cv.source }, "edge_effect": a.edge_effect,
    })
}

fn simulate_derivation_dir(
    protocol: &Protocol,
    d: &Derivation,
    opts: &InvitroOptions,
    dir: &Path,
) -> Result<InvitroReport, InvitroError> {
    let mut files = Vec::new();
    let first = run_rep(d, opts.seed, 0)?;
    write_population(dir, &first.run)?;
    files.push("population.csv".into());
    let note = format!("xenoplan · seed {} · run 1", opts.seed);
    let fig = PopulationFigure::new(
        &first.run,
        &format!("{}: {} under {}", d.derived_line, d.parental_line, d.drug),
        &note,
    );
    save(&fig, &dir.join("plots").join("population"), (1000, 860))?;
    files.extend([
        "plots/population.svg".to_string(),
        "plots/population.png".to_string(),
    ]);
    let validation = match (&d.validation, first.assay) {
        (Some(design), Some((wells, fits))) => {
            let title = format!(
                "Validation: {} vs {} ({})",
                d.derived_line, d.parental_line, design.drug
            );
            Some(assay_outputs(
                dir, &title, &note, design, wells, fits, &mut files,
            )?)
        }
        _ => None,
    };
    let results = if opts.reps > 1 {
        run_replicates(d, opts.seed, opts.reps, opts.threads)?
    } else {
        vec![first.result.clone()]
    };
    write_replicates(dir, &results)?;
    files.push("replicates.csv".into());
    let target = d.checks.as_ref().and_then(|c| c.target_fold_shift);
    let variability = (opts.reps > 1).then(|| Variability::of(&results, target));
    if let (Some(design), Some(_)) = (&d.validation, &d.checks) {
        checks::write_csv(dir, d, design, &results)?;
        files.push("ic50_over_time.csv".into());
        let fig = checks::figure(d, design, &results, &note);
        save(&fig, &dir.join("plots").join("ic50_over_time"), (1000, 640))?;
        files.extend([
            "plots/ic50_over_time.svg".to_string(),
            "plots/ic50_over_time.png".to_string(),
        ]);
    }
    if d.split.is_some() {
        arms::write_population(dir, &first.result.arms)?;
        arms::write_summary(dir, d, &results)?;
        files.extend(["population_arms.csv".to_string(), "arms.csv".to_string()]);
    }
    let report = InvitroReport {
        protocol_id: protocol.id.clone(),
        title: protocol.title.clone(),
        seed: opts.seed,
        out_dir: dir.to_path_buf(),
        files: Vec::new(),
        body: ReportBody::Derivation(Box::new(DerivationSummary {
            parental: d.parental_line.clone(),
            derived: d.derived_line.clone(),
            drug: d.drug.clone(),
            duration_days: d.duration_days,
            first: first.result,
            validation,
            checks: d.checks.clone(),
            variability,
            arms_over_runs: if opts.reps > 1 {
                arms::over_runs_text(d, &results)
            } else {
                String::new()
            },
            expected_time_to_resistance: d.expected_time_to_resistance.clone(),
        })),
    };
    finish(
        protocol,
        opts,
        dir,
        derivation_parameters(d, opts),
        files,
        report,
    )
}

fn simulate_assay_dir(
    protocol: &Protocol,
    a: &Assay,
    opts: &InvitroOptions,
    dir: &Path,
) -> Result<InvitroReport, InvitroError> {
    let mut files = Vec::new();
    let lines: Vec<LineSpec> = a.lines.iter().map(LineSpec::from_assay_line).collect();
    let mut rng = crate::rng::stream(opts.seed, &[0]);
    let wells = simulate_plate(&a.design, &lines, &mut rng)?;
    let fits = fit_lines(&wells, &lines);
    let note = format!("xenoplan · seed {}", opts.seed);
    let title = format!(
        "{} dose response ({} readout)",
        a.design.drug,
        a.design.readout.as_str()
    );
    let summary = assay_outputs(dir, &title, &note, &a.design, wells, fits, &mut files)?;
    let params = serde_json::json!({
        "kind": "assay",
        "medium": a.medium,
        "design": design_json(&a.design),
        "lines": a.lines.iter().map(|l| serde_json::json!({
            "name": l.name,
            "ic50_nm": { "value": l.ic50_nm.value, "source": l.ic50_nm.source },
            "hill": { "value": l.hill.value, "source": l.hill.source },
            "doubling_h": { "value": l.doubling_h.value, "source": l.doubling_h.source },
            "max_inhibition": { "value": l.max_inhibition.value, "source": l.max_inhibition.source },
        })).collect::<Vec<_>>(),
        "ci_method": "Wald CI on log10 IC50 from the asymptotic covariance s²(JᵀJ)⁻¹, t(n−4) quantile",
    });
    let report = InvitroReport {
        protocol_id: protocol.id.clone(),
        title: protocol.title.clone(),
        seed: opts.seed,
        out_dir: dir.to_path_buf(),
        files: Vec::new(),
        body: ReportBody::Assay(summary),
    };
    finish(protocol, opts, dir, params, files, report)
}

fn finish(
    protocol: &Protocol,
    opts: &InvitroOptions,
    dir: &Path,
    params: serde_json::Value,
    mut files: Vec<String>,
    mut report: InvitroReport,
) -> Result<InvitroReport, InvitroError> {
    write_atomic(
        &dir.join("summary.txt"),
        format!("{}\n", SummaryText(&report)).as_bytes(),
    )?;
    files.push("summary.txt".into());
    files.push("manifest.json".into());
    manifest(protocol, opts, params, &files).write(dir)?;
    report.files = files;
    Ok(report)
}

/// The report text without the file list (written to `summary.txt`).
struct SummaryText<'a>(&'a InvitroReport);

impl fmt::Display for SummaryText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = self.0.to_string();
        let text = full
            .rsplit_once("\nFiles in ")
            .map_or(full.as_str(), |(a, _)| a);
        f.write_str(text)
    }
}

/// Runs a `derivation` or `assay` protocol and writes every output into `out_dir`:
/// derivation → `population.csv`, `plots/population.{svg,png}`, `replicates.csv` and, with a
/// validation assay, `assay.csv`, `ic50.csv`, `plots/dose_response.{svg,png}`; assay →
/// `assay.csv`, `ic50.csv`, `plots/dose_response.{svg,png}`; always `summary.txt` and
/// `manifest.json`.
pub fn simulate_to_dir(
    protocol: &Protocol,
    opts: &InvitroOptions,
    out_dir: &Path,
) -> Result<InvitroReport, InvitroError> {
    if opts.reps == 0 {
        return Err(InvitroError::InvalidOption(
            "--reps must be at least 1".into(),
        ));
    }
    if opts.threads == Some(0) {
        return Err(InvitroError::InvalidOption(
            "--threads must be at least 1".into(),
        ));
    }
    match &protocol.body {
        Body::Derivation(d) => simulate_derivation_dir(protocol, d, opts, out_dir),
        Body::Assay(a) => simulate_assay_dir(protocol, a, opts, out_dir),
        _ => Err(InvitroError::WrongKind {
            id: protocol.id.clone(),
            kind: protocol.kind().as_str(),
        }),
    }
}

#[cfg(test)]
mod tests;
