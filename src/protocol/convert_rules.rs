//! Validation and conversion of the in-study rules: `[dose-modification]` and
//! `[study-stop]` (and the dose level of a dose-scaled toxicity).

use super::convert::{Ctx, NumRule as R, undefined};
use super::convert_xeno::UNITS;
use super::diag::KeyPath;
use super::domain::*;
use super::schema::*;

/// Spellings of the study-stop statistic (also the `enum` of the JSON Schema).
pub(crate) const STOP_STATISTICS: &[(&str, StopStatistic)] = &[
    ("mean", StopStatistic::Mean),
    ("median", StopStatistic::Median),
];

/// Converts a `{ dose, unit }` dose level at `at`.
pub(crate) fn dose_level(cx: &mut Ctx<'_>, d: &FileDoseLevel, at: &KeyPath) -> Option<DoseLevel> {
    let dose = cx.n(d.dose, &at.k("dose"), R::Pos);
    let unit = cx.pick(&d.unit, &at.k("unit"), "dose unit", UNITS)?;
    Some(DoseLevel { dose, unit })
}

/// Every arm name of the cohorts (for the "did you mean" of an unknown arm).
fn arm_names(cohorts: &[Cohort]) -> Vec<&str> {
    let mut names: Vec<&str> = cohorts
        .iter()
        .flat_map(|c| c.arms.iter().map(|a| a.name.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Converts `[dose-modification]`: a threshold below the humane weight-loss limit (else the
/// animal leaves the study before a holiday), at least one holiday day, a resume fraction in
/// (0, 1], and arms that exist.
pub(crate) fn dose_modification(
    f: &FileProtocol,
    cx: &mut Ctx<'_>,
    cohorts: &[Cohort],
    endpoints: Option<&Endpoints>,
) -> Option<DoseModification> {
    let d = f.dose_modification.as_ref()?;
    let at = KeyPath::root().k("dose-modification");
    let weight_loss_pct = cx.src(&d.weight_loss_pct, &at.k("weight-loss-pct"), R::Pos);
    if weight_loss_pct.value >= 100.0 {
        cx.error(
            &at.k("weight-loss-pct").k("value"),
            format!(
                "`weight-loss-pct` must be < 100, got {}",
                weight_loss_pct.value
            ),
        );
    }
    if let Some(limit) = endpoints.and_then(|e| e.max_weight_loss_pct.as_ref())
        && weight_loss_pct.value >= limit.value
    {
        cx.error(
            &at.k("weight-loss-pct").k("value"),
            format!(
                "`weight-loss-pct` = {} is not below the humane `[endpoints] max-weight-loss-pct` = {}: the animal leaves the study at that reading before any holiday",
                weight_loss_pct.value, limit.value
            ),
        );
    }
    let holiday_days = cx.count_max(d.holiday_days, &at.k("holiday-days"), 1, 365);
    let resume_dose_fraction = cx.n(
        d.resume_dose_fraction,
        &at.k("resume-dose-fraction"),
        R::PosProb,
    );
    let max_holidays = match d.max_holidays {
        Some(k) => cx.count_max(k, &at.k("max-holidays"), 0, i64::from(MAX_HOLIDAYS)),
        None => 1,
    };
    let defined = arm_names(cohorts);
    for (i, a) in d.arms.iter().enumerate() {
        if !defined.contains(&a.as_str()) {
            undefined(cx, &at.k("arms").i(i), "arm", a, &defined);
        }
    }
    Some(DoseModification {
        weight_loss_pct,
        holiday_days,
        resume_dose_fraction,
        max_holidays,
        arms: d.arms.clone(),
    })
}

/// Converts `[study-stop]`: a positive volume, a known statistic, and an arm present in
/// every cohort (each cohort stops on its own arm).
pub(crate) fn study_stop(
    f: &FileProtocol,
    cx: &mut Ctx<'_>,
    cohorts: &[Cohort],
) -> Option<StudyStop> {
    let s = f.study_stop.as_ref()?;
    let at = KeyPath::root().k("study-stop");
    let volume_mm3 = cx.n(s.volume_mm3, &at.k("volume-mm3"), R::Pos);
    // Every problem is reported: an unknown statistic does not hide an unknown arm.
    let statistic = match &s.statistic {
        Some(v) => cx.pick(v, &at.k("statistic"), "statistic", STOP_STATISTICS),
        None => Some(StopStatistic::Mean),
    };
    if let Some(arm) = &s.arm {
        let defined = arm_names(cohorts);
        for c in cohorts {
            if !c.arms.iter().any(|a| &a.name == arm) {
                if defined.contains(&arm.as_str()) {
                    cx.error(
                        &at.k("arm"),
                        format!(
                            "arm `{arm}` is not in cohort `{}`: every cohort stops on its own `{arm}` arm",
                            c.name
                        ),
                    );
                } else {
                    undefined(cx, &at.k("arm"), "arm", arm, &defined);
                }
                break;
            }
        }
    }
    Some(StudyStop {
        arm: s.arm.clone(),
        statistic: statistic?,
        volume_mm3,
    })
}
