//! `check` accepts exactly what the run commands can run: the structural constraints that
//! `simulate`, `timeline` (whose conditional phases are simulated) and `power` enforce when
//! they plan a xenograft study (`sim::plan::Plan::new`, `power::sim_path`), checked here with
//! a position. The limits are the run-time code's own constants, never copies.

use super::convert::Ctx;
use super::diag::KeyPath;
use super::domain::*;
use super::schema::FileProtocol;
use crate::model::schedule::planned_days;

/// Checks a converted xenograft (called only on a file without other errors, so domain and
/// file indices agree).
pub(crate) fn xenograft(cx: &mut Ctx<'_>, f: &FileProtocol, phases: &[Phase], x: &Xenograft) {
    let root = KeyPath::root();
    let pat = |i: usize| root.k("phases").i(i);
    let day0 = phases.iter().position(|p| p.day0).unwrap_or(0);
    let untils: Vec<usize> = (0..phases.len())
        .filter(|&i| matches!(phases[i].end, PhaseEnd::Until { .. }))
        .collect();
    if let Some(&second) = untils.get(1) {
        cx.error_key(
            &pat(second).k("until"),
            format!(
                "phase `{}` is a second phase ending on a condition; the simulator handles one (the growth phase ending on the enrollment window, before the day-0 phase): give this phase `duration-days`",
                phases[second].name
            ),
        );
    }
    if matches!(phases[day0].end, PhaseEnd::Until { .. }) {
        cx.error_key(
            &pat(day0).k("until"),
            format!(
                "the day-0 phase `{}` ends on a condition; treatment is simulated over fixed days from study day 0: give it `duration-days` (and end the growth phase before it on the window)",
                phases[day0].name
            ),
        );
        return;
    }
    let cal = x.caliper_measurement();
    let cal_at = cal.and_then(|c| x.measurements.iter().position(|m| m.name == c.name));
    let mat = |i: usize| root.k("measurements").i(i);
    let until = untils.first().copied();
    if x.enrollment.mode != EnrollmentMode::AtBaseline {
        match until {
            Some(u) if u < day0 => {
                if let (Some(c), Some(ci)) = (cal, cal_at) {
                    if !c.phases.iter().any(|p| *p == phases[u].name) {
                        cx.error(
                            &mat(ci).k("phases"),
                            format!(
                                "calipers are not taken during phase `{}`, which ends on the enrollment window: add it to `phases`",
                                phases[u].name
                            ),
                        );
                    } else if (0..7).any(|wd| {
                        planned_days(&c.schedule, x.enrollment.max_wait_days, true, wd).is_empty()
                    }) {
                        cx.error(
                            &mat(ci).k("frequency"),
                            format!(
                                "no caliper day within the maximum wait of {} days for some start weekday: the enrollment window can never be read",
                                x.enrollment.max_wait_days
                            ),
                        );
                    }
                }
            }
            _ => cx.error(
                &root.k("enrollment").k("mode"),
                "single-day or rolling enrollment needs a phase ending on the enrollment window (`until`) before the day-0 phase; use mode = \"at-baseline\" or add that phase",
            ),
        }
    }
    // Treatment phases: the day-0 phase and the fixed phases after it, up to a conditional one.
    let mut tphases: Vec<(&str, u32, u32)> = Vec::new();
    let mut off = 0;
    for p in &phases[day0..] {
        let PhaseEnd::Fixed { days } = p.end else {
            break;
        };
        tphases.push((p.name.as_str(), off, days));
        off += days;
    }
    if let (Some(c), Some(ci)) = (cal, cal_at) {
        let no_day = (0..7u32).any(|wd0| {
            tphases.iter().enumerate().all(|(i, (name, o, len))| {
                !c.phases.iter().any(|n| n == name)
                    || planned_days(&c.schedule, *len, i + 1 == tphases.len(), (wd0 + o) % 7)
                        .is_empty()
            })
        });
        if no_day {
            cx.error(
                &mat(ci).k("phases"),
                "no caliper day during the treatment phases (the day-0 phase and the fixed phases after it) for some start weekday: list a treatment phase in `phases` with a schedule that falls in it",
            );
        }
    }
    arms(cx, f, &tphases, x);
}

/// Per-arm constraints: treatments per arm, dosing phases, one control-arm name.
fn arms(cx: &mut Ctx<'_>, f: &FileProtocol, tphases: &[(&str, u32, u32)], x: &Xenograft) {
    let root = KeyPath::root();
    let control = x.cohorts.first().map(|c| c.control().name.clone());
    for (ci, c) in x.cohorts.iter().enumerate() {
        let own = f.cohorts.get(ci).is_some_and(|fc| fc.arms.is_some());
        let aat = if own {
            root.k("cohorts").i(ci).k("arms")
        } else {
            root.k("arms")
        };
        for (ai, a) in c.arms.iter().enumerate() {
            let at = aat.i(ai);
            if a.treatments.len() > MAX_TREATMENTS_PER_ARM {
                cx.error_key(
                    &at.k("treatments"),
                    format!(
                        "arm `{}` has {} treatments; at most {MAX_TREATMENTS_PER_ARM} per arm are simulated",
                        a.name,
                        a.treatments.len()
                    ),
                );
            }
            for (ti, t) in a.treatments.iter().enumerate() {
                if !tphases.iter().any(|(n, _, _)| *n == t.phase) {
                    let tat = at.k("treatments").i(ti);
                    let key = if cx.path_exists(&tat.k("phase")) {
                        tat.k("phase")
                    } else {
                        tat
                    };
                    cx.error(
                        &key,
                        format!(
                            "dosing phase `{}` of arm `{}` is not a treatment phase (the day-0 phase or a fixed phase after it)",
                            t.phase, a.name
                        ),
                    );
                }
            }
            if a.control && control.as_deref() != Some(a.name.as_str()) && ci > 0 {
                cx.error(
                    &at.k("name"),
                    format!(
                        "control arm `{}` of cohort `{}` is named differently from the first cohort's control `{}`; the analysis compares every cohort with one control name",
                        a.name,
                        c.name,
                        control.as_deref().unwrap_or("")
                    ),
                );
            }
        }
    }
}
