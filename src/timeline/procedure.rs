//! Expansion of a procedure (NGS, proteomics…): tasks scheduled from their dependency DAG on
//! working days (earliest start = latest finish of the tasks it depends on).

use super::invitro::expand_steps;
use super::schedule::Layout;
use super::xenograft::fmt_num;
use super::{EPOCH, Estimates, Event, Options, Span, SpanKind, Timeline, TimelineError};
use crate::protocol::{EventKind, Procedure, Protocol};

/// Start and finish of every task in working days from the procedure start (fractional: a
/// half-day task lets its successor start the same afternoon), in file order.
pub fn schedule_tasks(p: &Procedure) -> Result<Vec<(f64, f64)>, TimelineError> {
    let n = p.tasks.len();
    let index = |name: &str| p.tasks.iter().position(|t| t.name == name);
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(n);
    for t in &p.tasks {
        let mut v = Vec::new();
        for a in &t.after {
            v.push(index(a).ok_or_else(|| {
                TimelineError::Tasks(format!("task `{}` depends on unknown task `{a}`", t.name))
            })?);
        }
        deps.push(v);
    }
    // Kahn's algorithm, taking ready tasks in file order.
    let mut done: Vec<Option<(f64, f64)>> = vec![None; n];
    for _ in 0..n {
        let next =
            (0..n).find(|&i| done[i].is_none() && deps[i].iter().all(|&d| done[d].is_some()));
        let Some(i) = next else {
            return Err(TimelineError::Tasks("dependencies form a cycle".into()));
        };
        let start = deps[i]
            .iter()
            .filter_map(|&d| done[d].map(|x| x.1))
            .fold(0.0, f64::max);
        done[i] = Some((start, start + p.tasks[i].duration_days.max(0.0)));
    }
    Ok(done.into_iter().map(|x| x.unwrap_or((0.0, 0.0))).collect())
}

pub(super) fn expand(
    protocol: &Protocol,
    p: &Procedure,
    options: &Options,
    estimates: &Estimates,
    tl: &mut Timeline,
) -> Result<(), TimelineError> {
    let cal = &options.calendar;
    let layout = Layout::place(protocol, cal, estimates, "", 0)?;
    for ph in &layout.phases {
        tl.spans.push(Span {
            label: ph.name.clone(),
            kind: SpanKind::Phase,
            start: ph.start,
            end: ph.end(),
            uncertain: ph.uncertain(),
        });
    }
    expand_steps(protocol, &layout, cal, tl);
    let origin = layout.day0;
    let times = schedule_tasks(p)?;
    const EPS: f64 = 1e-9;
    for (t, &(s, f)) in p.tasks.iter().zip(&times) {
        let first = (s + EPS).floor() as i64;
        let last = if f > s {
            ((f - EPS).ceil() as i64 - 1).max(first)
        } else {
            first
        };
        let day = cal.working_day(origin, first);
        let last_day = cal.working_day(origin, last);
        let end_date = cal
            .date(last_day)
            .map(|d| d.to_string())
            .unwrap_or_default();
        let mut det = Vec::new();
        let own = t.details.trim().trim_end_matches('.');
        if !own.is_empty() {
            det.push(own.to_string());
        }
        det.push(format!("{} samples", p.samples));
        if t.duration_days > 0.0 {
            det.push(format!(
                "{} working day(s), ends {end_date}",
                fmt_num(t.duration_days)
            ));
        } else {
            det.push("milestone".into());
        }
        det.push(format!("hands-on {} h", fmt_num(t.hands_on_h)));
        if !t.after.is_empty() {
            det.push(format!("after {}", t.after.join(", ")));
        }
        tl.events.push(Event {
            day,
            date: EPOCH,
            time: None,
            end_day: (last_day > day).then_some(last_day + 1),
            study_day: day - origin,
            phase: if layout.phases.is_empty() {
                "procedure".into()
            } else {
                layout.phase_at(day)
            },
            kind: EventKind::Task,
            label: t.name.clone(),
            cohort: None,
            arm: None,
            animals: None,
            details: det.join("; "),
            flag: None,
            series: t.name.clone(),
            hands_on_h: Some(t.hands_on_h),
            protocol: None,
        });
        tl.spans.push(Span {
            label: t.name.clone(),
            kind: SpanKind::Task,
            start: day,
            end: last_day + 1,
            uncertain: None,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
