//! Expansion of an in vivo xenograft study: steps, measurements per cohort, dosing per arm,
//! hormone pellets, randomization and harvest, each cohort on its own enrollment date.

use super::schedule::{Layout, Occurrence, dose_occurrences, occurrences};
use super::{
    DoseRecord, EPOCH, Estimates, Event, Given, Options, Span, SpanKind, Timeline, TimelineError,
};
use crate::protocol::{
    Cohort, EventKind, HormoneKind, HormoneSupport, MeasurementKind, PelletRemoval, Protocol,
    Schedule, Scope, Step, Xenograft,
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
    /// Every cohort has the same layout: phases and `All`-scope steps are listed once.
    shared: bool,
}

/// What a generated event says, apart from its cohort and occurrence.
struct EventSpec<'a> {
    phase: &'a str,
    kind: EventKind,
    label: &'a str,
    arm: Option<&'a str>,
    animals: u32,
    details: &'a str,
    series: String,
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

    /// Adds the event `e` at `occ` for cohort `ci` (`None`: every cohort), with the details
    /// the calendar adds: dose of the day, moves to working days, phase uncertainty.
    fn push(&self, tl: &mut Timeline, ci: Option<usize>, occ: &Occurrence, e: &EventSpec) {
        let layout = &self.layouts[ci.unwrap_or(0)];
        let cal = &self.options.calendar;
        let mut det: Vec<String> = Vec::new();
        let details = e.details.trim().trim_end_matches('.');
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
            .find(|p| p.name == e.phase && p.start == occ.day && p.moved_from.is_some())
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
            phase: e.phase.to_string(),
            kind: e.kind.clone(),
            label: e.label.to_string(),
            cohort: ci.map(|i| self.x.cohorts[i].name.clone()),
            arm: e.arm.map(str::to_string),
            animals: Some(e.animals),
            details: det.join("; "),
            flag: None,
            series: e.series.clone(),
            hands_on_h: None,
            protocol: None,
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

    /// The protocol has a step of kind `k` for `cohort`: the generated event is then left
    /// to the step.
    fn has_step(&self, k: EventKind, cohort: &str) -> bool {
        self.protocol
            .steps
            .iter()
            .any(|s| s.kind == k && step_applies(s, cohort))
    }
}

/// The step's scope includes cohort `cohort` (every scope names at most one cohort).
fn step_applies(s: &Step, cohort: &str) -> bool {
    match &s.scope {
        Scope::All => true,
        Scope::Cohort(c) | Scope::Arm { cohort: c, .. } => c == cohort,
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
        shared,
    };
    phase_spans(&ctx, tl);
    protocol_steps(&mut ctx, tl);
    let names = PhaseNames {
        day0: protocol
            .phases
            .get(protocol.day0_phase())
            .map_or_else(String::new, |p| p.name.clone()),
        last: protocol
            .phases
            .last()
            .map_or_else(String::new, |p| p.name.clone()),
    };
    for ci in 0..x.cohorts.len() {
        cohort_events(&mut ctx, tl, ci, &names);
    }
    if ctx.merged > 0 {
        tl.notes.push(format!(
            "{} weekday occurrence(s) fell on a non-working day and were merged into the next scheduled one",
            ctx.merged
        ));
    }
    rule_notes(x, tl);
    Ok(())
}

/// What the in-study rules do to the dated plan: the dates above are the fixed plan; an
/// early end and dose holidays depend on the measurements, so they are ranges, not dates.
fn rule_notes(x: &Xenograft, tl: &mut Timeline) {
    if let Some(s) = &x.study_stop {
        let control = x
            .cohorts
            .first()
            .map_or("control", |c| c.control().name.as_str());
        tl.notes.push(format!(
            "[study-stop]: the end of study dated here is the fixed end; the study ends earlier on {} (a conditional end: a range of days, not a date; `simulate` gives one study's stop day, `power` the distribution in stop_days.csv); dosing, calipers and the harvest after that day do not happen",
            s.describe(control)
        ));
    }
    if let Some(m) = &x.dose_modification {
        tl.notes.push(format!(
            "[dose-modification]: dosing is dated as planned; an animal whose body weight falls {}% or more below its day-0 weight skips {} day(s) of dosing and resumes at {}% of the dose (at most {} holiday(s), then its dosing stops): per animal and not dated (`simulate` writes dose_modifications.csv); drug amounts in resources.csv are for the planned doses",
            crate::output::fmt_value(m.weight_loss_pct.value),
            m.holiday_days,
            crate::output::fmt_value(m.resume_dose_fraction * 100.0),
            m.max_holidays
        ));
    }
}

/// Gantt bars of the phases (once when the layouts are shared, else per cohort) and the
/// conditional phases with their estimates (per cohort).
fn phase_spans(ctx: &Ctx, tl: &mut Timeline) {
    let x = ctx.x;
    for (ci, layout) in ctx.layouts.iter().enumerate() {
        if ctx.shared && ci > 0 {
            break;
        }
        let cname = x.cohorts.get(ci).map_or("", |c| c.name.as_str());
        for p in &layout.phases {
            let label = if ctx.shared || cname.is_empty() {
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
}

/// The protocol's own steps, step by step and cohort by cohort: `All`-scope steps once for
/// shared layouts (with every cohort's animals), else per cohort; arm steps with the arm's n.
fn protocol_steps(ctx: &mut Ctx, tl: &mut Timeline) {
    let (protocol, x, shared) = (ctx.protocol, ctx.x, ctx.shared);
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
            let spec = EventSpec {
                phase: &step.phase,
                kind: step.kind.clone(),
                label: &step.name,
                arm: arm.as_deref(),
                animals,
                details: &step.details,
                series,
            };
            for o in ctx.occ(ci, &step.phase, &step.schedule) {
                ctx.push(tl, cohort_of_event, &o, &spec);
            }
        }
    }
}

/// Names of the day-0 phase and of the last phase (empty when absent).
struct PhaseNames {
    day0: String,
    last: String,
}

/// One cohort as its generated events read it.
struct CohortCx<'a> {
    ci: usize,
    cohort: &'a Cohort,
    layout: Layout,
    counts: CohortCounts,
    /// Several cohorts: series names carry the cohort.
    multi: bool,
}

impl CohortCx<'_> {
    /// Series name `s`, with the cohort when there are several.
    fn tag(&self, s: &str) -> String {
        if self.multi {
            format!("{s} · {}", self.cohort.name)
        } else {
            s.to_string()
        }
    }
}

/// The events generated for cohort `ci` (unless a protocol step covers them), in this order:
/// implantation, hormone pellet, randomization, measurements, dosing, end of study.
fn cohort_events(ctx: &mut Ctx, tl: &mut Timeline, ci: usize, names: &PhaseNames) {
    let x = ctx.x;
    let cc = CohortCx {
        ci,
        cohort: &x.cohorts[ci],
        layout: ctx.layouts[ci].clone(),
        counts: ctx.counts[ci],
        multi: x.cohorts.len() > 1,
    };
    let implant_day = implantation(ctx, tl, &cc);
    if let Some(h) = &cc.cohort.hormone {
        hormone_events(ctx, tl, &cc, h, implant_day);
    }
    if !ctx.has_step(EventKind::Randomization, &cc.cohort.name) {
        randomization(ctx, tl, &cc, &names.day0);
    }
    measurements(ctx, tl, &cc);
    dosing(ctx, tl, &cc);
    if !ctx.has_step(EventKind::Harvest, &cc.cohort.name)
        && let Some(p) = cc.layout.phases.last()
    {
        let o = once_shifted(&ctx.options.calendar, p.end() - 1);
        let what = if x.end_of_study.is_empty() {
            "necropsy".to_string()
        } else {
            x.end_of_study.join("; ")
        };
        let spec = EventSpec {
            phase: &names.last,
            kind: EventKind::Harvest,
            label: "end of study: harvest",
            arm: None,
            animals: cc.counts.enrolled,
            details: &what,
            series: cc.tag("harvest"),
        };
        ctx.push(tl, Some(ci), &o, &spec);
    }
}

/// Implantation day of the cohort: its implantation step's first occurrence, else a
/// generated implantation at the start of the phase before the day-0 phase.
fn implantation(ctx: &mut Ctx, tl: &mut Timeline, cc: &CohortCx) -> i64 {
    let protocol = ctx.protocol;
    let implant_step = protocol
        .steps
        .iter()
        .find(|s| s.kind == EventKind::Implantation && step_applies(s, &cc.cohort.name));
    if let Some(s) = implant_step {
        return ctx
            .occ(cc.ci, &s.phase, &s.schedule)
            .first()
            .map_or(0, |o| o.day);
    }
    let d0 = protocol.day0_phase();
    let ph = cc
        .layout
        .phases
        .get(d0.saturating_sub(1))
        .or(cc.layout.phases.first());
    let (day, name) = ph.map_or((0, String::new()), |p| (p.start, p.name.clone()));
    let imp = &cc.cohort.implantation;
    let cells = imp
        .cells
        .map_or("PDX fragment".to_string(), |c| format!("{c:.2e} cells"));
    let o = once_shifted(&ctx.options.calendar, day);
    let details = format!(
        "{} {}, {} uL ({:.0}% Matrigel), {}",
        cc.cohort.line,
        cells,
        imp.volume_ul,
        imp.matrigel_fraction * 100.0,
        imp.site
    );
    let spec = EventSpec {
        phase: &name,
        kind: EventKind::Implantation,
        label: "tumor implantation",
        arm: None,
        animals: cc.counts.implanted,
        details: &details,
        series: cc.tag("implantation"),
    };
    ctx.push(tl, Some(cc.ci), &o, &spec);
    o.day
}

/// The cohort's hormone supply, dated from its one owner ([`HormoneSupport::items`]): the
/// first pellet and its re-implants, every injection, or each bottle change, from the day
/// `implant-offset-days` after the tumor implantation until the supply stops (the removal
/// day, or the end of the cohort's study), each with its dose record for resources; then the
/// pellet removal (or the switch back to plain water). A single pellet that must support
/// longer than it releases is noted.
fn hormone_events(
    ctx: &mut Ctx,
    tl: &mut Timeline,
    cc: &CohortCx,
    h: &HormoneSupport,
    implant_day: i64,
) {
    let layout = &cc.layout;
    let end = layout.phases.last().map_or(layout.day0, |p| p.end());
    let stop_day = match h.removal {
        PelletRemoval::AtRandomization => Some(layout.day0),
        PelletRemoval::OnStudyDay(s) => Some(layout.day0 + i64::from(s)),
        PelletRemoval::Never => None,
    };
    let stop = stop_day.unwrap_or(end).min(end);
    let cal = &ctx.options.calendar;
    for item in h.items(stop - implant_day) {
        let planned = implant_day + item.day;
        // Pellets and bottles are one-off procedures (moved to a working day under `shift`);
        // injections keep their schedule, as daily dosing does.
        let o = match (&h.kind, item.time) {
            (HormoneKind::Injection { .. }, time) => Occurrence {
                time,
                ..once(planned)
            },
            _ => once_shifted(cal, planned),
        };
        let phase = layout.phase_at(o.day);
        let (kind, label, given) = match &h.kind {
            HormoneKind::Pellet {
                dose_mg,
                release_days,
                ..
            } => (
                EventKind::PelletImplant,
                if item.first {
                    "hormone pellet implant"
                } else {
                    "hormone pellet re-implant"
                },
                Given::Pellet {
                    dose_mg: *dose_mg,
                    release_days: *release_days,
                    needed_days: item.covers_days,
                    replacement: !item.first,
                },
            ),
            HormoneKind::Injection { dose_mg, .. } => (
                EventKind::HormoneSupply,
                "hormone injection",
                Given::Injection { dose_mg: *dose_mg },
            ),
            HormoneKind::DrinkingWater {
                concentration_ug_per_ml,
                intake_ml_per_day,
                ..
            } => (
                EventKind::HormoneSupply,
                if item.first {
                    "hormone drinking water: start"
                } else {
                    "hormone drinking water: fresh bottles"
                },
                Given::Water {
                    days: item.covers_days,
                    concentration_ug_per_ml: *concentration_ug_per_ml,
                    intake_ml_per_day: intake_ml_per_day.value,
                },
            ),
        };
        let animals = ctx.animals(cc.ci, &phase, &kind);
        let details = format!("{}: {}", h.name, h.describe());
        let spec = EventSpec {
            phase: &phase,
            kind: kind.clone(),
            label,
            arm: None,
            animals,
            details: &details,
            series: cc.tag("hormone"),
        };
        tl.doses.push(DoseRecord {
            cohort: cc.cohort.name.clone(),
            arm: String::new(),
            agent: h.name.clone(),
            study_day: o.day - layout.day0,
            animals,
            given,
        });
        ctx.push(tl, Some(cc.ci), &o, &spec);
    }
    note_pellet_running_out(
        tl,
        cc,
        h,
        implant_day,
        (stop, stop_day.is_some_and(|d| d <= end)),
    );
    if let Some(d) = stop_day
        && !matches!(h.kind, HormoneKind::Injection { .. })
    {
        let o = once_shifted(cal, d);
        let phase = layout.phase_at(o.day);
        let (kind, label) = match h.kind {
            HormoneKind::DrinkingWater { .. } => {
                (EventKind::HormoneSupply, "hormone drinking water: stop")
            }
            _ => (EventKind::PelletRemoval, "hormone pellet removal"),
        };
        let spec = EventSpec {
            phase: &phase,
            kind,
            label,
            arm: None,
            animals: cc.counts.enrolled,
            details: &h.name,
            series: cc.tag("hormone"),
        };
        ctx.push(tl, Some(cc.ci), &o, &spec);
    }
}

/// A single pellet (no re-implant) that runs out before `stop` (the removal when `removed`,
/// else the end of the study) is noted: the simulated tumors lose estrogen then.
fn note_pellet_running_out(
    tl: &mut Timeline,
    cc: &CohortCx,
    h: &HormoneSupport,
    implant_day: i64,
    (stop, removed): (i64, bool),
) {
    let HormoneKind::Pellet {
        release_days,
        reimplant_every_days: None,
        ..
    } = &h.kind
    else {
        return;
    };
    let runs_out = implant_day as f64 + h.exhausted_tumor();
    if runs_out < stop as f64 {
        let what = if removed {
            "its removal"
        } else {
            "the end of the study"
        };
        tl.notes.push(format!(
            "cohort `{}`: the {}-day pellet ({}) runs out on study day {} ({} days before {what}) and no re-implant is scheduled: growth without estrogen follows (set `reimplant-every-days` in [cohorts.hormone]; the design check weighs it against the cohort's growth without estrogen)",
            cc.cohort.name,
            fmt_num(*release_days),
            h.name,
            fmt_num((runs_out - cc.layout.day0 as f64).floor()),
            fmt_num((stop as f64 - runs_out).ceil())
        ));
    }
}

/// Randomization on study day 0 (never shifted: it defines day 0), with the window and arms.
fn randomization(ctx: &Ctx, tl: &mut Timeline, cc: &CohortCx, day0_name: &str) {
    let o = once(cc.layout.day0);
    let e = &ctx.x.enrollment;
    let arms: Vec<String> = cc
        .cohort
        .arms
        .iter()
        .zip(&ctx.arm_enrolled[cc.ci])
        .map(|(a, n)| format!("{} n={n}", a.name))
        .collect();
    let details = format!(
        "window {}-{} mm3 ({:?}, {:?}); arms: {}",
        e.min_mm3,
        e.max_mm3,
        e.randomization,
        e.mode,
        arms.join(", ")
    );
    let spec = EventSpec {
        phase: day0_name,
        kind: EventKind::Randomization,
        label: "randomization",
        arm: None,
        animals: cc.counts.enrolled,
        details: &details,
        series: cc.tag("randomization"),
    };
    ctx.push(tl, Some(cc.ci), &o, &spec);
}

/// Caliper and body-weight readings in each of their phases.
fn measurements(ctx: &mut Ctx, tl: &mut Timeline, cc: &CohortCx) {
    let x = ctx.x;
    for m in &x.measurements {
        let kind = match m.kind {
            MeasurementKind::Caliper => EventKind::Caliper,
            MeasurementKind::BodyWeight => EventKind::BodyWeight,
        };
        let details = format!("{} ({})", m.name, m.schedule.frequency.label());
        for ph in &m.phases {
            let spec = EventSpec {
                phase: ph,
                kind: kind.clone(),
                label: &m.name,
                arm: None,
                animals: ctx.animals(cc.ci, ph, &kind),
                details: &details,
                series: cc.tag(&m.name),
            };
            for o in ctx.occ(cc.ci, ph, &m.schedule) {
                ctx.push(tl, Some(cc.ci), &o, &spec);
            }
        }
    }
}

/// Dosing events per arm and treatment, each with its dose record.
fn dosing(ctx: &mut Ctx, tl: &mut Timeline, cc: &CohortCx) {
    let x = ctx.x;
    for (ai, arm) in cc.cohort.arms.iter().enumerate() {
        // Randomized animals (n ÷ (1 − attrition)) are dosed.
        let animals = ctx.arm_enrolled[cc.ci][ai];
        for (index, t) in arm.treatments.iter().enumerate() {
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
            if cc.multi {
                series = format!("{series} · {}", cc.cohort.name);
            }
            let spec = EventSpec {
                phase: &t.phase,
                kind: EventKind::Dosing,
                label: &label,
                arm: Some(&arm.name),
                animals,
                details: &details,
                series,
            };
            for o in ctx.dose_occ(cc.ci, &t.phase, &t.schedule) {
                tl.doses.push(DoseRecord {
                    cohort: cc.cohort.name.clone(),
                    arm: arm.name.clone(),
                    agent: t.agent.clone(),
                    study_day: o.day - cc.layout.day0,
                    animals,
                    given: Given::Treatment {
                        index,
                        dose: t.dose,
                        unit: t.unit,
                        route: t.route,
                        volume_ml_per_kg: t.volume_ml_per_kg,
                    },
                });
                ctx.push(tl, Some(cc.ci), &o, &spec);
            }
        }
    }
}

pub(super) use crate::output::fmt_value as fmt_num;
