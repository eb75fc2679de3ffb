//! Expansion of an in vivo xenograft study: steps, measurements per cohort, dosing per arm,
//! hormone pellets, randomization and harvest, each cohort on its own enrollment date.

use super::schedule::{Layout, Occurrence, dose_occurrences, occurrences};
use super::{
    DoseRecord, EPOCH, Estimates, Event, Options, Span, SpanKind, Timeline, TimelineError,
};
use crate::protocol::{
    EventKind, MeasurementKind, PelletRemoval, Protocol, Schedule, Scope, Xenograft,
};
use crate::sim::animals::{AnimalPlan, protocol_plans};

/// Animal numbers of one cohort, from its [`AnimalPlan`] (the one computation shared with
/// the simulator and `power`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CohortCounts {
    /// Animals randomized: Σ over arms of ⌈n ÷ (1 − attrition)⌉.
    pub enrolled: u32,
    /// Animals ordered and implanted, spares included.
    pub implanted: u32,
    /// Spares among them.
    pub spares: u32,
    /// Animals to order (= implanted: spares are implanted to absorb take/yield variation).
    pub ordered: u32,
}

/// Animal numbers of a cohort's plan.
pub fn cohort_counts(plan: &AnimalPlan) -> CohortCounts {
    CohortCounts {
        enrolled: plan.enrolled_total,
        implanted: plan.implant_total,
        spares: plan.spares(),
        ordered: plan.implant_total,
    }
}

struct Ctx<'a> {
    protocol: &'a Protocol,
    x: &'a Xenograft,
    options: &'a Options,
    layouts: Vec<Layout>,
    counts: Vec<CohortCounts>,
    /// Animals randomized per arm (cohort, arm), from the animal plans.
    arm_enrolled: Vec<Vec<u32>>,
    merged: usize,
}

impl Ctx<'_> {
    fn animals(&self, ci: usize, phase: &str, kind: &EventKind) -> u32 {
        let c = self.counts[ci];
        if *kind == EventKind::Arrival {
            return c.ordered;
        }
        let d0 = self.protocol.day0_phase();
        let idx = self.protocol.phases.iter().position(|p| p.name == phase);
        match idx {
            Some(i) if i < d0 => c.implanted,
            _ => c.enrolled,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &self,
        tl: &mut Timeline,
        ci: Option<usize>,
        occ: &Occurrence,
        phase: &str,
        kind: EventKind,
        label: &str,
        arm: Option<&str>,
        animals: u32,
        details: &str,
        series: String,
    ) {
        let layout = &self.layouts[ci.unwrap_or(0)];
        let cal = &self.options.calendar;
        let mut det: Vec<String> = Vec::new();
        let details = details.trim().trim_end_matches('.');
        if !details.is_empty() {
            det.push(details.to_string());
        }
        if let Some((i, n)) = occ.of_day {
            det.push(format!("dose {i} of {n} that day"));
        }
        if let Some(from) = occ.moved_from
            && let Some(d) = cal.date(from)
        {
            det.push(format!("moved from {d} ({})", flag_name(cal, from)));
        }
        if let Some(p) = layout
            .phases
            .iter()
            .find(|p| p.name == phase && p.start == occ.day && p.moved_from.is_some())
            && let Some(d) = p.moved_from.and_then(|m| cal.date(m))
        {
            det.push(format!("phase `{}` start moved from {d}", p.name));
        }
        if let Some(u) = layout.uncertainty(cal, occ.day) {
            det.push(u);
        }
        tl.events.push(Event {
            day: occ.day,
            date: EPOCH,
            time: occ.time,
            end_day: None,
            study_day: occ.day - layout.day0,
            phase: phase.to_string(),
            kind,
            label: label.to_string(),
            cohort: ci.map(|i| self.x.cohorts[i].name.clone()),
            arm: arm.map(str::to_string),
            animals: Some(animals),
            details: det.join("; "),
            flag: None,
            series,
            hands_on_h: None,
        });
    }

    /// Occurrences of a schedule in a phase of cohort `ci`'s layout.
    fn occ(&mut self, ci: usize, phase: &str, sched: &Schedule) -> Vec<Occurrence> {
        let Some(p) = self.layouts[ci].phase(phase) else {
            return Vec::new();
        };
        let (s, l) = (p.start, p.len);
        occurrences(&self.options.calendar, sched, s, l, &mut self.merged)
    }

    /// Dosing occurrences (at the simulator's dose times) in a phase of cohort `ci`'s layout.
    fn dose_occ(&mut self, ci: usize, phase: &str, sched: &Schedule) -> Vec<Occurrence> {
        let Some(p) = self.layouts[ci].phase(phase) else {
            return Vec::new();
        };
        let (s, l) = (p.start, p.len);
        dose_occurrences(&self.options.calendar, sched, s, l, &mut self.merged)
    }
}

fn flag_name(cal: &super::Calendar, d: i64) -> &'static str {
    cal.flag(d).map_or("working day", |f| f.as_str())
}

fn once(day: i64) -> Occurrence {
    Occurrence {
        day,
        time: None,
        moved_from: None,
        of_day: None,
    }
}

/// Shifts a one-off generated event to a working day under the `shift` policy.
fn once_shifted(cal: &super::Calendar, day: i64) -> Occurrence {
    if cal.policy == crate::protocol::WeekendPolicy::ShiftToNextWorkingDay && !cal.is_working(day) {
        Occurrence {
            day: cal.next_working(day),
            time: None,
            moved_from: Some(day),
            of_day: None,
        }
    } else {
        once(day)
    }
}

pub(super) fn expand(
    protocol: &Protocol,
    x: &Xenograft,
    options: &Options,
    estimates: &Estimates,
    tl: &mut Timeline,
) -> Result<(), TimelineError> {
    let cal = &options.calendar;
    let mut layouts = Vec::new();
    for c in &x.cohorts {
        layouts.push(Layout::place(protocol, cal, estimates, &c.name, 0)?);
    }
    if layouts.is_empty() {
        layouts.push(Layout::place(protocol, cal, estimates, "", 0)?);
    }
    tl.animals = if options.animals.is_empty() {
        protocol_plans(protocol, None)
    } else {
        options.animals.clone()
    };
    let counts: Vec<CohortCounts> = tl.animals.iter().map(cohort_counts).collect();
    let arm_enrolled = tl.animals.iter().map(|p| p.arm_enrolled.clone()).collect();
    let shared = layouts.windows(2).all(|w| w[0] == w[1]);
    let mut ctx = Ctx {
        protocol,
        x,
        options,
        layouts,
        counts,
        arm_enrolled,
        merged: 0,
    };

    // Gantt bars and conditional phases.
    for (ci, layout) in ctx.layouts.iter().enumerate() {
        if shared && ci > 0 {
            break;
        }
        let cname = x.cohorts.get(ci).map_or("", |c| c.name.as_str());
        for p in &layout.phases {
            let label = if shared || cname.is_empty() {
                p.name.clone()
            } else {
                format!("{} · {cname}", p.name)
            };
            tl.spans.push(Span {
                label,
                kind: SpanKind::Phase,
                start: p.start,
                end: p.end(),
                uncertain: p.uncertain(),
            });
        }
    }
    for (ci, layout) in ctx.layouts.iter().enumerate() {
        let cname = x.cohorts.get(ci).map_or("", |c| c.name.as_str());
        for p in &layout.phases {
            if let Some(e) = p.estimate {
                tl.conditions
                    .push((p.name.clone(), cname.to_string(), e, p.start));
            }
        }
    }

    // Protocol steps.
    let has_kind = |k: EventKind, cohort: &str| {
        protocol.steps.iter().any(|s| {
            s.kind == k
                && match &s.scope {
                    Scope::All => true,
                    Scope::Cohort(c) | Scope::Arm { cohort: c, .. } => c == cohort,
                }
        })
    };
    for step in &protocol.steps {
        for (ci, cohort) in x.cohorts.iter().enumerate() {
            let (arm, animals) = match &step.scope {
                Scope::All if shared && ci > 0 => continue,
                Scope::All if shared => {
                    let total: u32 = (0..x.cohorts.len())
                        .map(|i| ctx.animals(i, &step.phase, &step.kind))
                        .sum();
                    (None, total)
                }
                Scope::All => (None, ctx.animals(ci, &step.phase, &step.kind)),
                Scope::Cohort(c) if *c != cohort.name => continue,
                Scope::Cohort(_) => (None, ctx.animals(ci, &step.phase, &step.kind)),
                Scope::Arm { cohort: c, arm } => {
                    if *c != cohort.name {
                        continue;
                    }
                    let n = cohort
                        .arms
                        .iter()
                        .position(|a| a.name == *arm)
                        .map_or(0, |ai| ctx.arm_enrolled[ci][ai]);
                    (Some(arm.clone()), n)
                }
            };
            let cohort_of_event = match (&step.scope, shared) {
                (Scope::All, true) => None,
                _ => Some(ci),
            };
            let series = match cohort_of_event {
                Some(i) if x.cohorts.len() > 1 => format!("{} · {}", step.name, x.cohorts[i].name),
                _ => step.name.clone(),
            };
            for o in ctx.occ(ci, &step.phase, &step.schedule) {
                ctx.push(
                    tl,
                    cohort_of_event,
                    &o,
                    &step.phase,
                    step.kind.clone(),
                    &step.name,
                    arm.as_deref(),
                    animals,
                    &step.details,
                    series.clone(),
                );
            }
        }
    }

    let day0_name = protocol
        .phases
        .get(protocol.day0_phase())
        .map_or_else(String::new, |p| p.name.clone());
    let last_phase = protocol
        .phases
        .last()
        .map_or_else(String::new, |p| p.name.clone());

    for (ci, cohort) in x.cohorts.iter().enumerate() {
        let multi = x.cohorts.len() > 1;
        let tag = |s: &str| {
            if multi {
                format!("{s} · {}", cohort.name)
            } else {
                s.to_string()
            }
        };
        let layout = ctx.layouts[ci].clone();
        let counts = ctx.counts[ci];

        // Implantation day: the cohort's implantation step, else generated at the start of the
        // phase before the day-0 phase.
        let implant_step = protocol.steps.iter().find(|s| {
            s.kind == EventKind::Implantation
                && match &s.scope {
                    Scope::All => true,
                    Scope::Cohort(c) | Scope::Arm { cohort: c, .. } => *c == cohort.name,
                }
        });
        let implant_day = match implant_step {
            Some(s) => ctx
                .occ(ci, &s.phase, &s.schedule)
                .first()
                .map_or(0, |o| o.day),
            None => {
                let d0 = protocol.day0_phase();
                let ph = layout
                    .phases
                    .get(d0.saturating_sub(1))
                    .or(layout.phases.first());
                let (day, name) = ph.map_or((0, String::new()), |p| (p.start, p.name.clone()));
                let imp = &cohort.implantation;
                let cells = imp
                    .cells
                    .map_or("PDX fragment".to_string(), |c| format!("{c:.2e} cells"));
                let o = once_shifted(&ctx.options.calendar, day);
                ctx.push(
                    tl,
                    Some(ci),
                    &o,
                    &name,
                    EventKind::Implantation,
                    "tumor implantation",
                    None,
                    counts.implanted,
                    &format!(
                        "{} {}, {} uL ({:.0}% Matrigel), {}",
                        cohort.line,
                        cells,
                        imp.volume_ul,
                        imp.matrigel_fraction * 100.0,
                        imp.site
                    ),
                    tag("implantation"),
                );
                o.day
            }
        };

        // Hormone pellet.
        if let Some(h) = &cohort.hormone {
            if !has_kind(EventKind::PelletImplant, &cohort.name) {
                let d = implant_day + i64::from(h.implant_offset_days);
                let o = once_shifted(&ctx.options.calendar, d);
                let phase = layout.phase_at(o.day);
                ctx.push(
                    tl,
                    Some(ci),
                    &o,
                    &phase,
                    EventKind::PelletImplant,
                    "estrogen pellet implant",
                    None,
                    counts.implanted,
                    &format!(
                        "{} ({} mg, {}-day release)",
                        h.name, h.dose_mg, h.release_days
                    ),
                    tag("pellet"),
                );
            }
            if !has_kind(EventKind::PelletRemoval, &cohort.name) {
                let d = match h.removal {
                    PelletRemoval::AtRandomization => Some(layout.day0),
                    PelletRemoval::OnStudyDay(s) => Some(layout.day0 + i64::from(s)),
                    PelletRemoval::Never => None,
                };
                if let Some(d) = d {
                    let o = once_shifted(&ctx.options.calendar, d);
                    let phase = layout.phase_at(o.day);
                    ctx.push(
                        tl,
                        Some(ci),
                        &o,
                        &phase,
                        EventKind::PelletRemoval,
                        "estrogen pellet removal",
                        None,
                        counts.enrolled,
                        &h.name,
                        tag("pellet"),
                    );
                }
            }
        }

        // Randomization.
        if !has_kind(EventKind::Randomization, &cohort.name) {
            let o = once(layout.day0);
            let e = &x.enrollment;
            let arms: Vec<String> = cohort
                .arms
                .iter()
                .zip(&ctx.arm_enrolled[ci])
                .map(|(a, n)| format!("{} n={n}", a.name))
                .collect();
            ctx.push(
                tl,
                Some(ci),
                &o,
                &day0_name,
                EventKind::Randomization,
                "randomization",
                None,
                counts.enrolled,
                &format!(
                    "window {}-{} mm3 ({:?}, {:?}); arms: {}",
                    e.min_mm3,
                    e.max_mm3,
                    e.randomization,
                    e.mode,
                    arms.join(", ")
                ),
                tag("randomization"),
            );
        }

        // Measurements.
        for m in &x.measurements {
            let kind = match m.kind {
                MeasurementKind::Caliper => EventKind::Caliper,
                MeasurementKind::BodyWeight => EventKind::BodyWeight,
            };
            for ph in &m.phases {
                let animals = ctx.animals(ci, ph, &kind);
                for o in ctx.occ(ci, ph, &m.schedule) {
                    ctx.push(
                        tl,
                        Some(ci),
                        &o,
                        ph,
                        kind.clone(),
                        &m.name,
                        None,
                        animals,
                        &format!("{} ({})", m.name, m.schedule.frequency.label()),
                        tag(&m.name),
                    );
                }
            }
        }

        // Dosing per arm.
        for (ai, arm) in cohort.arms.iter().enumerate() {
            for t in &arm.treatments {
                let label = if x.agent(&t.agent).is_some_and(|a| a.vehicle) || t.dose <= 0.0 {
                    format!("dosing: {} {}", t.agent, t.route.as_str())
                } else {
                    format!(
                        "dosing: {} {} {} {}",
                        t.agent,
                        fmt_num(t.dose),
                        t.unit.as_str(),
                        t.route.as_str()
                    )
                };
                let formulation = x.agent(&t.agent).map_or("", |a| a.formulation.as_str());
                let details = format!(
                    "{}{}{}",
                    t.schedule.frequency.label(),
                    if formulation.is_empty() { "" } else { "; " },
                    formulation
                );
                let mut series = format!("dosing · {}", arm.name);
                if arm.treatments.len() > 1 {
                    series = format!("{series} · {}", t.agent);
                }
                if multi {
                    series = format!("{series} · {}", cohort.name);
                }
                for o in ctx.dose_occ(ci, &t.phase, &t.schedule) {
                    tl.doses.push(DoseRecord {
                        cohort: cohort.name.clone(),
                        arm: arm.name.clone(),
                        agent: t.agent.clone(),
                        study_day: o.day - layout.day0,
                        animals: ctx.arm_enrolled[ci][ai],
                    });
                    ctx.push(
                        tl,
                        Some(ci),
                        &o,
                        &t.phase,
                        EventKind::Dosing,
                        &label,
                        Some(&arm.name),
                        ctx.arm_enrolled[ci][ai],
                        &details,
                        series.clone(),
                    );
                }
            }
        }

        // End of study.
        if !has_kind(EventKind::Harvest, &cohort.name)
            && let Some(p) = layout.phases.last()
        {
            let o = once_shifted(&ctx.options.calendar, p.end() - 1);
            let what = if x.end_of_study.is_empty() {
                "necropsy".to_string()
            } else {
                x.end_of_study.join("; ")
            };
            ctx.push(
                tl,
                Some(ci),
                &o,
                &last_phase,
                EventKind::Harvest,
                "end of study: harvest",
                None,
                counts.enrolled,
                &what,
                tag("harvest"),
            );
        }
    }
    if ctx.merged > 0 {
        tl.notes.push(format!(
            "{} weekday occurrence(s) fell on a non-working day and were merged into the next scheduled one",
            ctx.merged
        ));
    }
    Ok(())
}

pub(super) use crate::output::fmt_value as fmt_num;
