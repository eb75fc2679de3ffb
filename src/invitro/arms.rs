//! Split pools: from a day (or the first IC50 check reaching the target shift) flasks of the
//! deriving culture continue as arms — `continue` (stay on drug), `holiday` (drug withdrawn,
//! optionally re-challenged), `escalate` (dose raised on a schedule) — each seeded with its
//! fraction of the cells of that day's record (binomial thinning per state) and simulated to the
//! end of the derivation ([`simulate_arm`]). The pool itself keeps the protocol's schedule
//! (`population.csv`, the final validation), so adding arms changes no other output.
//!
//! Each arm has its own IC50 checks: the protocol's check days after the split, run on the
//! arm's records exactly as the pool's ([`checks::checks_on`]). Random streams: arm `a` of
//! replicate `rep` grows on `rng::stream(seed, &[rep, ARM_STREAM, a])` and its check `k` plates
//! on `[rep, ARM_CHECK_STREAM, a, k]`.

use super::checks::{self, CheckResult};
use super::derivation::{DerivationRun, Outcome, simulate_arm};
use super::{InvitroError, sig};
use crate::output::{OutputError, fmt_f, write_csv_rows};
use crate::protocol::{Derivation, SplitAt};
use std::path::Path;

/// Stream id of a replicate's arms (below the replicate id; the arm index below it).
const ARM_STREAM: u64 = 3;
/// Stream id of the arms' IC50 checks (arm index, then check index below it).
const ARM_CHECK_STREAM: u64 = 4;

/// One arm of one replicate.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmResult {
    /// Arm name.
    pub name: String,
    /// `continue`, `holiday` or `escalate`.
    pub kind: &'static str,
    /// Day of the split (`None`: the milestone was not reached, or the culture had died out).
    pub split_day: Option<u32>,
    /// The arm's run from the split (day 0 of `days` is the split).
    pub run: Option<DerivationRun>,
    /// The arm's IC50 checks (check days after the split).
    pub checks: Vec<CheckResult>,
}

impl ArmResult {
    /// Resistant fraction at the end (NaN without a run or after extinction).
    pub fn final_resistant_fraction(&self) -> f64 {
        self.run
            .as_ref()
            .and_then(|r| r.last())
            .map_or(f64::NAN, |r| r.resistant_fraction())
    }
    /// The last check with an assay.
    pub fn last_check(&self) -> Option<&CheckResult> {
        self.checks.iter().rfind(|c| c.ic50.is_some())
    }
    /// First check after the split whose fold shift is below `target` (re-sensitized by the
    /// lab's criterion; a lower-bound shift never counts, its true value may be above).
    pub fn first_below(&self, target: f64) -> Option<u32> {
        self.checks
            .iter()
            .find(|c| {
                c.shift()
                    .is_some_and(|s| !s.lower_bound && s.value < target)
            })
            .map(|c| c.day)
    }
}

/// Day of the split in a replicate whose pool had `pool_checks`.
fn split_day(d: &Derivation, pool_checks: &[CheckResult]) -> Option<u32> {
    let sp = d.split.as_ref()?;
    match sp.at {
        SplitAt::Day(day) => Some(day),
        SplitAt::TargetShift => {
            let t = d.checks.as_ref()?.target_fold_shift?;
            checks::first_day_reaching(pool_checks, t)
        }
    }
}

/// Runs every arm of replicate `rep` from its pool `run` (empty without `[split]`).
pub(super) fn run_arms(
    d: &Derivation,
    run: &DerivationRun,
    pool_checks: &[CheckResult],
    seed: u64,
    rep: u32,
) -> Result<Vec<ArmResult>, InvitroError> {
    let Some(sp) = &d.split else {
        return Ok(Vec::new());
    };
    let day = split_day(d, pool_checks);
    let from = day.and_then(|s| run.days.get(s as usize).filter(|r| r.day == s));
    let mut out = Vec::with_capacity(sp.arms.len());
    for (a, arm) in sp.arms.iter().enumerate() {
        let mut rng = crate::rng::stream(seed, &[u64::from(rep), ARM_STREAM, a as u64]);
        let arm_run = from.and_then(|f| simulate_arm(d, arm, f, &mut rng));
        let days: Vec<u32> = match (&d.checks, day) {
            (Some(c), Some(s)) => c.days.iter().copied().filter(|&k| k > s).collect(),
            _ => Vec::new(),
        };
        let checks = match &arm_run {
            Some(r) => {
                let stream = [u64::from(rep), ARM_CHECK_STREAM, a as u64];
                checks::checks_on(d, r, &days, seed, &stream)?
            }
            None => Vec::new(),
        };
        out.push(ArmResult {
            name: arm.name.clone(),
            kind: arm.kind.as_str(),
            split_day: arm_run.as_ref().and(day),
            run: arm_run,
            checks,
        });
    }
    Ok(out)
}

/// `population_arms.csv`: replicate 0's arms day by day (the `population.csv` columns after
/// `arm`).
pub(super) fn write_population(dir: &Path, arms: &[ArmResult]) -> Result<(), OutputError> {
    let mut header = vec!["arm"];
    header.extend(super::POPULATION_HEADER);
    let mut rows = Vec::new();
    for a in arms {
        for r in a.run.iter().flat_map(|r| &r.days) {
            let mut row = vec![a.name.clone()];
            row.extend(super::population_row(r));
            rows.push(row);
        }
    }
    write_csv_rows(&dir.join("population_arms.csv"), &header, &rows)
}

/// `arms.csv`: one row per replicate and arm — the split, the outcome at the end, and the last
/// IC50 check (censored as in `ic50_over_time.csv`).
pub(super) fn write_summary(
    dir: &Path,
    d: &Derivation,
    results: &[super::RepResult],
) -> Result<(), OutputError> {
    let header = [
        "rep",
        "arm",
        "kind",
        "fraction",
        "split_day",
        "outcome",
        "time_to_resistance_days",
        "passages",
        "final_resistant_fraction",
        "last_check_day",
        "last_check_ic50_nM",
        "last_check_qualifier",
        "last_check_fold_shift",
        "last_check_fold_shift_qualifier",
        "first_check_below_target_day",
    ];
    let target = d.checks.as_ref().and_then(|c| c.target_fold_shift);
    let fractions: Vec<f64> = d
        .split
        .as_ref()
        .map_or(Vec::new(), |s| s.arms.iter().map(|a| a.fraction).collect());
    let mut rows = Vec::new();
    for r in results {
        for (i, a) in r.arms.iter().enumerate() {
            let last = a.last_check();
            let derived = last.and_then(|c| c.ic50.as_ref()).map(|[_, dv]| dv);
            let shift = last.and_then(|c| c.shift());
            let run = a.run.as_ref();
            rows.push(vec![
                (r.rep + 1).to_string(),
                a.name.clone(),
                a.kind.to_string(),
                fractions.get(i).map(|f| sig(*f)).unwrap_or_default(),
                opt(a.split_day),
                run.map_or("not-split", |r| r.outcome.as_str()).to_string(),
                opt(run.and_then(|r| r.time_to_resistance_days)),
                opt(run.map(|r| r.passages)),
                fmt_f(a.final_resistant_fraction(), 6),
                opt(last.map(|c| c.day)),
                derived.map(|x| sig(x.ic50)).unwrap_or_default(),
                derived
                    .and_then(|x| x.value)
                    .map_or("", |v| v.qualifier())
                    .to_string(),
                shift.map(|s| sig(s.value)).unwrap_or_default(),
                shift.map_or("", |s| s.qualifier()).to_string(),
                opt(target.and_then(|t| a.first_below(t))),
            ]);
        }
    }
    write_csv_rows(&dir.join("arms.csv"), &header, &rows)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Over replicates, per arm: runs split, resistant at the end, median final resistant fraction
/// and how many runs fell below the target shift by the last check.
pub(super) fn over_runs_text(d: &Derivation, results: &[super::RepResult]) -> String {
    let mut s = String::new();
    let _ = fmt_over_runs(&mut s, d, results);
    s
}

fn fmt_over_runs(f: &mut String, d: &Derivation, results: &[super::RepResult]) -> std::fmt::Result {
    use std::fmt::Write as _;
    let Some(sp) = &d.split else {
        return Ok(());
    };
    let target = d.checks.as_ref().and_then(|c| c.target_fold_shift);
    for (i, arm) in sp.arms.iter().enumerate() {
        let arms: Vec<&ArmResult> = results.iter().filter_map(|r| r.arms.get(i)).collect();
        let split: Vec<&&ArmResult> = arms.iter().filter(|a| a.run.is_some()).collect();
        let resistant = split
            .iter()
            .filter(|a| {
                a.run
                    .as_ref()
                    .is_some_and(|r| r.outcome == Outcome::Resistant)
            })
            .count();
        let frac = super::Interval::of(split.iter().map(|a| a.final_resistant_fraction()));
        write!(
            f,
            "  arm {} ({}): split in {} of {} runs; resistant at the end in {resistant}",
            arm.name,
            arm.kind.as_str(),
            split.len(),
            arms.len()
        )?;
        if let Some(i) = frac {
            write!(
                f,
                "; final resistant fraction median {:.1}% (90% interval {:.1}–{:.1}%)",
                100.0 * i.median,
                100.0 * i.low,
                100.0 * i.high
            )?;
        }
        if let Some(t) = target {
            let below = split.iter().filter(|a| a.first_below(t).is_some()).count();
            write!(
                f,
                "; IC50 shift back below {}x in {below}",
                super::figures::fmt_num(t)
            )?;
        }
        writeln!(f)?;
    }
    Ok(())
}

/// Replicate 0's arms: the split, each check after it, the end state.
pub(super) fn fmt_first(
    f: &mut std::fmt::Formatter<'_>,
    target: Option<f64>,
    arms: &[ArmResult],
) -> std::fmt::Result {
    if arms.is_empty() {
        return Ok(());
    }
    match arms.iter().find_map(|a| a.split_day) {
        Some(day) => writeln!(f, "  Split, run 1: day {day} into {} arm(s)", arms.len())?,
        None => {
            return writeln!(
                f,
                "  Split, run 1: not done (the milestone was not reached or the culture had died out)"
            );
        }
    }
    for a in arms {
        let Some(run) = &a.run else { continue };
        writeln!(
            f,
            "    arm {} ({}): outcome {}, final resistant fraction {}",
            a.name,
            a.kind,
            run.outcome.as_str(),
            fmt_f(100.0 * a.final_resistant_fraction(), 1) + "%"
        )?;
        for c in &a.checks {
            if let Some([_, derived]) = &c.ic50 {
                let shift = c
                    .shift()
                    .map_or_else(|| "not estimable".to_string(), |s| s.label());
                writeln!(
                    f,
                    "      day {}: {}; shift {shift}",
                    c.day,
                    super::fmt_ic_value(derived)
                )?;
            }
        }
        if let Some(t) = target
            && let Some(day) = a.first_below(t)
        {
            writeln!(
                f,
                "      IC50 shift back below {}x at the day-{day} check",
                super::figures::fmt_num(t)
            )?;
        }
    }
    Ok(())
}

/// Manifest entry of the split.
pub(super) fn parameters(d: &Derivation) -> Option<serde_json::Value> {
    let sp = d.split.as_ref()?;
    Some(serde_json::json!({
        "at": match sp.at { SplitAt::Day(day) => serde_json::json!({ "day": day }), SplitAt::TargetShift => serde_json::json!("target-fold-shift") },
        "arms": sp.arms.iter().map(|a| serde_json::json!({
            "name": a.name, "kind": a.kind.as_str(), "fraction": a.fraction,
            "detail": format!("{:?}", a.kind),
        })).collect::<Vec<_>>(),
        "streams": "arm a of replicate r: (seed, r, 3, a); its check k: (seed, r, 4, a, k)",
    }))
}

#[cfg(test)]
mod tests;
