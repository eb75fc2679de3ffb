//! Repeated IC50 checks during a derivation (`[validation] check-every-days` / `check-days`).
//!
//! On each check day the scientist plates a sample of the culture as it is that day beside the
//! banked parental line and runs the validation assay. The simulator does the same: the
//! population's sensitive / adapting / resistant fractions on that day of the derivation run
//! (its daily record, after that day's handling) seed the derived line of one plate, the
//! parental line the other, and the plate is simulated and fitted exactly as the final
//! validation ([`simulate_plate`], [`fit_lines`]; IC50 censored above the top dose by
//! [`Ic50Row`]). The fold shift is that plate's derived / parental IC50.
//!
//! Random streams: check `k` of replicate `rep` draws from `rng::stream(seed, &[rep,
//! CHECK_STREAM, k])`, apart from the derivation's own stream (`[rep]`) and the final
//! validation's (`[rep, 1]`), so adding checks changes no other output and results do not
//! depend on the thread count.

use super::assay::{fit_lines, simulate_plate};
use super::derivation::{DerivationRun, subpop_ic50s};
use super::figures::{CheckPoint, Ic50OverTimeFigure};
use super::{FoldShift, Ic50Row, InvitroError, RepResult, sig, subpops_of, top_dose};
use crate::output::{OutputError, fmt_f};
use crate::protocol::{AssayDesign, Derivation, ValidationChecks};
use std::path::Path;

/// Stream id of a replicate's IC50 checks (below the replicate id; the check index below it).
const CHECK_STREAM: u64 = 2;

/// One IC50 check: the population of one day and the parental line, fitted from one plate.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// Day of the derivation.
    pub day: u32,
    /// Fractions of the culture assayed (sensitive, adapting, resistant); `None` when it had
    /// died out by that day (no check).
    pub fractions: Option<[f64; 3]>,
    /// Drug concentration in the culture that day, nM.
    pub drug_nm: f64,
    /// Parental and derived IC50 of the check's plate (`None` when not assayed).
    pub ic50: Option<[Ic50Row; 2]>,
}

impl CheckResult {
    /// Fold shift of the check, derived / parental on the same plate (a lower bound when the
    /// derived IC50 lies above the top dose).
    pub fn shift(&self) -> Option<FoldShift> {
        let [p, d] = self.ic50.as_ref()?;
        FoldShift::of(p.value, d.value)
    }
}

/// First check day whose fold shift reaches `target`. A lower-bound shift counts when its
/// bound does (the true shift is at least the bound); one below the target counts as not
/// reached, since the true shift could lie on either side.
pub fn first_day_reaching(checks: &[CheckResult], target: f64) -> Option<u32> {
    checks
        .iter()
        .find(|c| c.shift().is_some_and(|s| s.value >= target))
        .map(|c| c.day)
}

/// Runs the checks of one replicate on its finished derivation run.
pub(super) fn run_checks(
    d: &Derivation,
    run: &DerivationRun,
    seed: u64,
    rep: u32,
) -> Result<Vec<CheckResult>, InvitroError> {
    let Some(checks) = &d.checks else {
        return Ok(Vec::new());
    };
    let stream = [u64::from(rep), CHECK_STREAM];
    checks_on(d, run, &checks.days, seed, &stream)
}

/// The checks on `days` of `run` (a derivation or an arm: its records start on any day), check
/// `k` drawing from `rng::stream(seed, stream ++ [k])`.
pub(super) fn checks_on(
    d: &Derivation,
    run: &DerivationRun,
    days: &[u32],
    seed: u64,
    stream: &[u64],
) -> Result<Vec<CheckResult>, InvitroError> {
    let Some(design) = &d.validation else {
        return Ok(Vec::new());
    };
    let ic50s = subpop_ic50s(&d.model);
    let top = top_dose(design);
    let first = run.days.first().map_or(0, |r| r.day);
    let mut out = Vec::with_capacity(days.len());
    for (k, &day) in days.iter().enumerate() {
        // `days[i]` is day first + i until the culture dies out; later days have no record.
        let rec = day
            .checked_sub(first)
            .and_then(|i| run.days.get(i as usize))
            .filter(|r| r.day == day && r.total() > 0);
        let Some(rec) = rec else {
            out.push(CheckResult {
                day,
                fractions: None,
                drug_nm: f64::NAN,
                ic50: None,
            });
            continue;
        };
        let lines = super::validation_pair(d, subpops_of(rec, ic50s));
        let mut ids = stream.to_vec();
        ids.push(k as u64);
        let mut rng = crate::rng::stream(seed, &ids);
        let wells = simulate_plate(design, &lines, &mut rng)?;
        let fits = fit_lines(&wells, &lines);
        let t = rec.total() as f64;
        out.push(CheckResult {
            day,
            fractions: Some([
                rec.sensitive as f64 / t,
                rec.adapting as f64 / t,
                rec.resistant as f64 / t,
            ]),
            drug_nm: rec.drug_nm,
            ic50: Some([
                Ic50Row::from_fit(&fits[0], top),
                Ic50Row::from_fit(&fits[1], top),
            ]),
        });
    }
    Ok(out)
}

/// Header of `ic50_over_time.csv`: one row per replicate, check day and line (parental, then
/// derived); `ic50_nM` holds the estimate, or the top dose when `qualifier` is `>`; `arm` is
/// empty for the pool and names the arm of a `[split]` otherwise.
const HEADER: [&str; 15] = [
    "rep",
    "day",
    "line",
    "ic50_nM",
    "ci_low_nM",
    "ci_high_nM",
    "qualifier",
    "fold_shift",
    "fold_shift_qualifier",
    "resistant_fraction",
    "adapting_fraction",
    "drug_nM",
    "top_dose_nM",
    "note",
    "arm",
];

/// Writes `ic50_over_time.csv` for every replicate (rows in replicate, then pool before arms,
/// day, line order).
pub(super) fn write_csv(
    dir: &Path,
    d: &Derivation,
    design: &AssayDesign,
    results: &[RepResult],
) -> Result<(), OutputError> {
    let top = sig(top_dose(design));
    let mut rows = Vec::new();
    for r in results {
        let pool = r.checks.iter().map(|c| (c, ""));
        let arms = r
            .arms
            .iter()
            .flat_map(|a| a.checks.iter().map(move |c| (c, a.name.as_str())));
        for (c, arm) in pool.chain(arms) {
            rows.extend(check_rows(d, r.rep, c, &top, arm));
        }
    }
    crate::output::write_csv_rows(&dir.join("ic50_over_time.csv"), &HEADER, &rows)
}

/// The rows of one check: parental then derived, or one row when the culture had died out.
fn check_rows(d: &Derivation, rep: u32, c: &CheckResult, top: &str, arm: &str) -> Vec<Vec<String>> {
    let head = [(rep + 1).to_string(), c.day.to_string()];
    let Some([p, dv]) = &c.ic50 else {
        let mut row: Vec<String> = head.to_vec();
        row.push(d.derived_line.clone());
        row.extend((0..HEADER.len() - 5).map(|_| String::new()));
        row.push("the culture had died out before this check".into());
        row.push(arm.to_string());
        return vec![row];
    };
    let [_, a, res] = c.fractions.unwrap_or([f64::NAN; 3]);
    let population = [fmt_f(res, 6), fmt_f(a, 6), sig(c.drug_nm)];
    // The parental line is the banked sensitive stock, not the culture.
    let parental = [fmt_f(0.0, 6), fmt_f(0.0, 6), String::new()];
    let shift = c.shift();
    let shift_cells = [
        shift.map(|s| sig(s.value)).unwrap_or_default(),
        shift.map_or("", |s| s.qualifier()).to_string(),
    ];
    let mut rows = Vec::new();
    for (row_ic, extra, shift) in [
        (p, &parental, [String::new(), String::new()]),
        (dv, &population, shift_cells),
    ] {
        let mut row: Vec<String> = head.to_vec();
        row.extend([
            row_ic.line.clone(),
            sig(row_ic.ic50),
            sig(row_ic.ci_low),
            sig(row_ic.ci_high),
            row_ic.value.map_or("", |v| v.qualifier()).to_string(),
        ]);
        row.extend(shift);
        row.extend(extra.iter().cloned());
        row.extend([top.to_string(), row_ic.note.clone(), arm.to_string()]);
        rows.push(row);
    }
    rows
}

/// Run 1 of `ic50_over_time.csv` in `dir` as report rows (the reader of the file this module
/// writes): day, line, IC50 with its 95% CI ([`super::fmt_ic_value`]: an IC50 above the top
/// dose is "> top dose", never a number), fold shift over the same plate's parental line
/// ([`FoldShift::label`]: "≥ …x" when censored), resistant fraction of the pool. `None` when
/// the file is missing or unreadable.
pub fn trajectory_rows(dir: &Path) -> Option<Vec<[String; 5]>> {
    let mut rdr = csv::Reader::from_path(dir.join("ic50_over_time.csv")).ok()?;
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.ok()?;
        let cell = |i: usize| rec.get(i).unwrap_or("");
        if cell(0) != "1" {
            continue;
        }
        let arm = cell(14);
        let (ic50, top) = (num(cell(3)), num(cell(12)));
        let value = match cell(6) {
            ">" => Some(super::Ic50::AboveTop {
                top_nm: top,
                extrapolated_nm: f64::NAN,
            }),
            _ if ic50.is_finite() => Some(super::Ic50::Reached(ic50)),
            _ => None,
        };
        let row = Ic50Row {
            line: cell(2).to_string(),
            ic50,
            ci_low: num(cell(4)),
            ci_high: num(cell(5)),
            hill: f64::NAN,
            top: f64::NAN,
            bottom: f64::NAN,
            note: cell(13).to_string(),
            top_dose_nm: top,
            value,
        };
        let ic = if value.is_none() && cell(3).is_empty() {
            format!("no check ({})", row.note)
        } else {
            super::fmt_ic_value(&row)
        };
        let shift = match num(cell(7)) {
            v if v.is_finite() => FoldShift {
                value: v,
                lower_bound: cell(8) == ">=",
            }
            .label(),
            _ => String::new(),
        };
        let resistant = match num(cell(9)) {
            f if f.is_finite() && !cell(11).is_empty() => format!("{:.1}%", 100.0 * f),
            _ => String::new(),
        };
        let line = if arm.is_empty() {
            row.line.clone()
        } else {
            format!("{} (arm {arm})", row.line)
        };
        rows.push([cell(1).to_string(), line, ic, shift, resistant]);
    }
    Some(rows)
}

/// A point of the figure from one row of a check.
fn point(day: u32, row: &Ic50Row) -> Option<CheckPoint> {
    let value = row.value?;
    Some(CheckPoint {
        day: f64::from(day),
        ic50: value,
        ci: (row.ci_low.is_finite() && row.ci_high.is_finite())
            .then_some((row.ci_low, row.ci_high)),
    })
}

/// The figure `plots/ic50_over_time`: replicate 0 in full, other replicates as thin lines.
pub(super) fn figure(
    d: &Derivation,
    design: &AssayDesign,
    results: &[RepResult],
    note: &str,
) -> Ic50OverTimeFigure {
    let lowest = design
        .doses_nm
        .iter()
        .copied()
        .filter(|x| *x > 0.0)
        .fold(f64::INFINITY, f64::min);
    let pick = |r: &RepResult, i: usize| -> Vec<CheckPoint> {
        r.checks
            .iter()
            .filter_map(|c| c.ic50.as_ref().and_then(|rows| point(c.day, &rows[i])))
            .collect()
    };
    let (parental, derived) = results
        .first()
        .map_or((Vec::new(), Vec::new()), |r| (pick(r, 0), pick(r, 1)));
    let others = results
        .iter()
        .skip(1)
        .map(|r| {
            pick(r, 1)
                .iter()
                .map(|p| (p.day, p.ic50.bound_nm()))
                .collect()
        })
        .collect();
    let arms = results.first().map_or(Vec::new(), |r| {
        r.arms
            .iter()
            .filter(|a| !a.checks.is_empty())
            .map(|a| {
                let pts = a
                    .checks
                    .iter()
                    .filter_map(|c| c.ic50.as_ref().and_then(|rows| point(c.day, &rows[1])))
                    .collect();
                (format!("{} arm ({}), run 1", a.name, a.kind), pts)
            })
            .collect()
    });
    Ic50OverTimeFigure {
        arms,
        title: format!(
            "IC50 checks: {} vs {} ({})",
            d.derived_line, d.parental_line, d.drug
        ),
        note: note.to_string(),
        x_max: f64::from(d.duration_days),
        dose_range: (lowest, top_dose(design)),
        parental_label: format!("{} (same plate)", d.parental_line),
        derived_label: format!("{} population, run 1 (95% CI)", d.derived_line),
        parental,
        derived,
        others,
    }
}

/// The checks' settings for `manifest.json`.
pub(super) fn parameters(c: &ValidationChecks) -> serde_json::Value {
    serde_json::json!({ "days": c.days, "target_fold_shift": c.target_fold_shift })
}

#[cfg(test)]
mod tests;
