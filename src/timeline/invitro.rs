//! Expansion of in vitro protocols: the months-long derivation of a resistant line (passages,
//! medium changes, dose-escalation steps, single-cell cloning, validation assay) and stand-alone
//! dose-response assays.
//!
//! Passage dates come from a deterministic mean-field version of the derivation model (the
//! stochastic one is `simulate`'s job): sensitive and resistant cells grow at
//! r(f) = ln2/T_noE2 + f·(ln2/T_E2 − ln2/T_noE2) − δ·(1 − f) per day, where f = 1 − Cⁿ/(IC50ⁿ + Cⁿ)
//! is the fraction of estrogen still made under the aromatase inhibitor at concentration C
//! (the model of [`DerivationModel`], computed by [`crate::invitro::derivation::GrowthModel`],
//! the simulator's own); sensitive cells switch to resistance at the given rate
//! per division. The culture is passaged when it reaches the passage confluence and split by
//! the split ratio; growth stops at confluence.

use super::schedule::{Layout, occurrences};
use super::xenograft::fmt_num;
use super::{Calendar, EPOCH, Estimates, Event, Options, Span, SpanKind, Timeline, TimelineError};
use crate::invitro::derivation::GrowthModel as DerivationGrowth;
use crate::protocol::{
    Assay, AssayDesign, Cloning, Derivation, EscalationTrigger, EventKind, Protocol, SplitArm,
    SplitAt, WeekendPolicy,
};

/// Quantities accumulated while expanding an in vitro protocol (for `resources.csv`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InVitroTotals {
    /// Culture vessels used (a new vessel per passage per line), by vessel type.
    pub flasks: Vec<(String, u32)>,
    /// Multi-well plates (validation / assay / cloning).
    pub plates: Vec<(String, u32)>,
    /// Medium volume, mL.
    pub medium_ml: f64,
    /// PBS in assay edge wells left empty, mL.
    pub pbs_ml: f64,
    /// Drug amount, nmol.
    pub drug_nmol: f64,
    /// Drug name.
    pub drug: String,
    /// Explanations of each quantity.
    pub details: Vec<(String, String)>,
}

/// Longest interval without a passage, days: assumed; cultures that barely grow under drug are
/// still re-plated every 3 weeks so they do not age in one flask (common lab practice, n/f).
const MAX_PASSAGE_INTERVAL_DAYS: i64 = 21;
/// Medium per well, mL: assumed; 100 µL in 96-well and 25 µL in 384-well plates.
fn well_ml(plate_wells: u32) -> f64 {
    if plate_wells >= 384 { 0.025 } else { 0.1 }
}
/// Attachment time before drug is added to an assay plate, days: assumed; overnight (24 h).
const ATTACH_DAYS: i64 = 1;
/// Limiting dilution at 0.5 cells/well: P(one cell) = 0.5·e^−0.5 = 0.303 (Poisson); assumed
/// 50% of single-cell wells grow out into a colony.
const SINGLE_CELL_WELL_YIELD: f64 = 0.5 * 0.606_530_66 * 0.5;

struct Culture<'a> {
    label: std::borrow::Cow<'a, str>,
    /// Index of the `[split]` arm this flask is (`None`: the pool or the parental line).
    arm: Option<usize>,
    sensitive: f64,
    resistant: f64,
    last_feed: i64,
    last_passage: i64,
    passages: u32,
}

struct Emitter<'a> {
    cal: &'a Calendar,
    layout: &'a Layout,
    activity: String,
}

impl Emitter<'_> {
    fn event(
        &self,
        day: i64,
        kind: EventKind,
        label: String,
        details: String,
        series: &str,
    ) -> Event {
        let phase = if self.layout.phases.is_empty() {
            self.activity.clone()
        } else {
            self.layout.phase_at(day)
        };
        Event {
            day,
            date: EPOCH,
            time: None,
            end_day: None,
            study_day: day - self.layout.day0,
            phase,
            kind,
            label,
            cohort: None,
            arm: None,
            animals: None,
            details,
            flag: None,
            series: series.to_string(),
            hands_on_h: None,
            protocol: None,
        }
    }
    fn can_work(&self, d: i64) -> bool {
        self.cal.policy != WeekendPolicy::ShiftToNextWorkingDay || self.cal.is_working(d)
    }
}

/// Expands protocol steps (any kind) on a single layout.
pub(super) fn expand_steps(
    protocol: &Protocol,
    layout: &Layout,
    cal: &Calendar,
    tl: &mut Timeline,
) {
    let mut merged = 0;
    for step in &protocol.steps {
        let Some(p) = layout.phase(&step.phase) else {
            continue;
        };
        for o in occurrences(cal, &step.schedule, p.start, p.len, &mut merged) {
            let mut det = step.details.trim().trim_end_matches('.').to_string();
            if let Some(from) = o.moved_from
                && let Some(d) = cal.date(from)
            {
                det = format!(
                    "{det}{}moved from {d}",
                    if det.is_empty() { "" } else { "; " }
                );
            }
            tl.events.push(Event {
                day: o.day,
                date: EPOCH,
                time: o.time,
                end_day: None,
                study_day: o.day - layout.day0,
                phase: step.phase.clone(),
                kind: step.kind.clone(),
                label: step.name.clone(),
                cohort: None,
                arm: None,
                animals: None,
                details: det,
                flag: None,
                series: step.name.clone(),
                hands_on_h: None,
                protocol: None,
            });
        }
    }
    if merged > 0 {
        tl.notes.push(format!(
            "{merged} weekday occurrence(s) merged into the next one"
        ));
    }
}

fn phase_spans(layout: &Layout, tl: &mut Timeline) {
    for p in &layout.phases {
        tl.spans.push(Span {
            label: p.name.clone(),
            kind: SpanKind::Phase,
            start: p.start,
            end: p.end(),
            uncertain: p.uncertain(),
        });
        if let Some(e) = p.estimate {
            tl.conditions
                .push((p.name.clone(), String::new(), e, p.start));
        }
    }
}

/// What the selection steps read: the protocol's derivation, the emitter and the
/// simulator's dose response.
struct DerivCx<'a> {
    d: &'a Derivation,
    em: Emitter<'a>,
    /// The derivation simulator's dose response (one owner: invitro::derivation).
    gm: DerivationGrowth,
    /// Cells at which a culture is passaged.
    threshold: f64,
    split: f64,
}

impl DerivCx<'_> {
    /// Net growth rate, 1/day, of cells with IC50 `ic50` at drug concentration `c_nm`
    /// (`resistant`: with the fitness cost off drug, the simulator's rule).
    fn growth_rate(&self, c_nm: f64, ic50: f64, resistant: bool) -> f64 {
        self.gm.subpop_rates(c_nm, ic50, resistant).net()
    }
    /// The arms of the protocol's `[split]` (empty without one).
    fn arms(&self) -> &[SplitArm] {
        self.d.split.as_ref().map_or(&[], |s| &s.arms)
    }
}

/// State of the selection, day by day: both cultures, the current concentration and the
/// consumables used so far.
struct Selection<'a> {
    /// The derived line under drug (index 0), the parental line in vehicle (index 1), then the
    /// arms of a `[split]` from the split day.
    cultures: Vec<Culture<'a>>,
    conc: f64,
    /// The day being expanded (arms' concentrations follow their schedule from the split).
    day: i64,
    /// Split day and the pool's concentration then, once split.
    split: Option<(i64, f64)>,
    /// Next escalation step (index into the protocol's escalation list).
    next_step: usize,
    medium_changes: u32,
    drug_nmol: f64,
    medium_ml: f64,
    flasks: u32,
}

impl Selection<'_> {
    /// Drug concentration of culture `i`, nM (the parental line gets vehicle).
    fn conc_of(&self, i: usize, arms: &[SplitArm]) -> f64 {
        match (self.cultures[i].arm, self.split) {
            (Some(a), Some((at, c))) => arms.get(a).map_or(0.0, |arm| {
                arm.kind.concentration(c, (self.day - at).max(0) as u32)
            }),
            _ if i == 0 => self.conc,
            _ => 0.0,
        }
    }

    /// Fresh medium of `ml` mL for culture `i`, drug-containing for the derived line.
    fn feed(&mut self, i: usize, ml: f64, arms: &[SplitArm]) {
        self.medium_ml += ml;
        self.drug_nmol += self.conc_of(i, arms) * ml * 1e-3;
    }
}

pub(super) fn expand_derivation(
    protocol: &Protocol,
    d: &Derivation,
    options: &Options,
    estimates: &Estimates,
    tl: &mut Timeline,
) -> Result<(), TimelineError> {
    let cal = &options.calendar;
    let layout = Layout::place(protocol, cal, estimates, "", 0)?;
    phase_spans(&layout, tl);
    let first_step = tl.events.len();
    expand_steps(protocol, &layout, cal, tl);
    let n_steps = tl.events.len();
    let origin = layout.day0;
    let cu = &d.culture;
    let cx = DerivCx {
        d,
        em: Emitter {
            cal,
            layout: &layout,
            activity: format!("selection under {}", d.drug),
        },
        gm: DerivationGrowth::new(&d.model, cu),
        threshold: cu.passage_at_confluence * cu.confluent_cells,
        split: cu.split_ratio.max(1.0),
    };
    let mut totals = InVitroTotals {
        drug: d.drug.clone(),
        ..Default::default()
    };
    let end = origin + i64::from(d.duration_days);
    let mut st = run_selection(&cx, origin, end, tl);
    totals.details.push((
        "cultures".into(),
        format!(
            "{} passages of {}, {} of {}, {} medium-change days",
            st.cultures[0].passages,
            d.derived_line,
            st.cultures[1].passages,
            d.parental_line,
            st.medium_changes
        ),
    ));
    let (next, lines, cloning_plates) = match &d.cloning {
        Some(cl) => cloning(&cx, &mut st, cl, end, tl),
        None => (end, 2, 0),
    };
    let validation_day = match &d.cloning {
        Some(_) => None,
        None => Some(end),
    };
    // Each check plates the deriving pool beside the banked parental line, as simulated.
    let pair = crate::invitro::VALIDATION_PAIR_LINES;
    check_assays(&cx, origin, validation_day, pair, &mut st, &mut totals, tl)?;
    if let Some(v) = &d.validation {
        let used = assay_events(
            &cx.em,
            v,
            next,
            lines,
            &mut st.medium_ml,
            &mut st.drug_nmol,
            tl,
            "validation assay",
        )?;
        add_plates(&mut totals, &used.plate_type, used.plates);
        totals.pbs_ml += used.pbs_ml;
    }
    totals.flasks.push((cu.vessel.clone(), st.flasks));
    add_plates(&mut totals, "96-well plate", cloning_plates);
    totals.medium_ml = st.medium_ml;
    totals.drug_nmol = st.drug_nmol;
    tl.invitro = Some(totals);
    merge_into_steps(tl, first_step, n_steps);
    Ok(())
}

/// The selection from `origin` to `end` day by day (growth, fixed-day escalation,
/// passages, medium changes), with its span and a note per escalation never reached.
fn run_selection<'a>(cx: &DerivCx<'a>, origin: i64, end: i64, tl: &mut Timeline) -> Selection<'a> {
    let d = cx.d;
    let mut st = start_selection(cx, origin, tl);
    let split_day = deterministic_split_day(cx, tl).map(|s| origin + i64::from(s));
    for day in origin + 1..end {
        st.day = day;
        if Some(day) == split_day {
            split_cultures(cx, &mut st, day, tl);
        }
        arm_drug_changes(cx, &mut st, day, tl);
        grow_one_day(cx, &mut st);
        fixed_day_escalation(cx, &mut st, day, tl);
        for i in 0..st.cultures.len() {
            passage(cx, &mut st, i, day, tl);
        }
        medium_change(cx, &mut st, day, tl);
    }
    for step in &d.escalation[st.next_step.min(d.escalation.len())..] {
        tl.notes.push(format!(
            "dose escalation to {} nM not reached within the {} days of selection (deterministic model)",
            fmt_num(step.concentration_nm),
            d.duration_days
        ));
    }
    tl.spans.push(Span {
        label: cx.em.activity.clone(),
        kind: SpanKind::Activity,
        start: origin,
        end,
        uncertain: None,
    });
    st
}

/// Seeds the derived and parental cultures on day `origin` and emits the start event.
fn start_selection<'a>(cx: &DerivCx<'a>, origin: i64, tl: &mut Timeline) -> Selection<'a> {
    let d = cx.d;
    let cu = &d.culture;
    let r0 = d.model.resistant_fraction.value.clamp(0.0, 1.0);
    // The derived line under drug and the parental line in vehicle side by side: assumed; the
    // parental line is the comparator of the validation assay and must be kept in parallel.
    let cultures = vec![
        Culture {
            label: d.derived_line.as_str().into(),
            arm: None,
            sensitive: cu.seeding_cells * (1.0 - r0),
            resistant: cu.seeding_cells * r0,
            last_feed: origin,
            last_passage: origin,
            passages: 0,
        },
        Culture {
            label: d.parental_line.as_str().into(),
            arm: None,
            sensitive: cu.seeding_cells,
            resistant: 0.0,
            last_feed: origin,
            last_passage: origin,
            passages: 0,
        },
    ];
    let conc = d.start_concentration_nm.value;
    tl.events.push(cx.em.event(
        origin,
        EventKind::Passage,
        format!("start selection: {} at {} nM", d.drug, fmt_num(conc)),
        format!(
            "{} and {} seeded at {:.2e} cells/{} in {} + {}{}",
            d.derived_line,
            d.parental_line,
            cu.seeding_cells,
            cu.vessel,
            cu.medium,
            cu.serum,
            match (&cu.substrate, cu.substrate_nm) {
                (Some(s), Some(c)) => format!(" + {s} {} nM", fmt_num(c)),
                (Some(s), None) => format!(" + {s}"),
                _ => String::new(),
            }
        ),
        "passage",
    ));
    Selection {
        cultures,
        conc,
        day: origin,
        split: None,
        next_step: 0,
        medium_changes: 0,
        drug_nmol: conc * cu.medium_ml * 1e-3,
        medium_ml: 2.0 * cu.medium_ml,
        flasks: 2,
    }
}

/// One day of growth of both cultures: sensitive cells switch to resistance per division,
/// and growth stops at confluence.
fn grow_one_day(cx: &DerivCx, st: &mut Selection) {
    let (m, cu) = (&cx.d.model, &cx.d.culture);
    for i in 0..st.cultures.len() {
        let c_nm = st.conc_of(i, cx.arms());
        let c = &mut st.cultures[i];
        let rs = cx.growth_rate(c_nm, m.ic50_sensitive_nm.value, false);
        let rr = cx.growth_rate(c_nm, m.ic50_resistant_nm.value, true);
        let divisions = rs.max(0.0) / std::f64::consts::LN_2;
        let switched = c.sensitive * divisions * m.switch_rate_per_division.value.max(0.0);
        // Off drug, resistant cells revert per division (the simulator's rule).
        let reverted = if c_nm <= 0.0 {
            c.resistant * rr.max(0.0) / std::f64::consts::LN_2 * cx.gm.reversion
        } else {
            0.0
        };
        let mut s = c.sensitive * rs.exp() - switched + reverted;
        let mut r = c.resistant * rr.exp() + switched - reverted;
        let total = s + r;
        if total > cu.confluent_cells && total > 0.0 {
            let k = cu.confluent_cells / total;
            s *= k;
            r *= k;
        }
        c.sensitive = s.max(0.0);
        c.resistant = r.max(0.0);
    }
}

/// Dose escalation on a fixed day (with a medium change at the new concentration).
fn fixed_day_escalation(cx: &DerivCx, st: &mut Selection, day: i64, tl: &mut Timeline) {
    let (d, em) = (cx.d, &cx.em);
    let origin = em.layout.day0;
    if let Some(step) = d.escalation.get(st.next_step)
        && let EscalationTrigger::Day(t) = step.trigger
        && day >= origin + i64::from(t)
        && em.can_work(day)
    {
        tl.events.push(em.event(
            day,
            EventKind::DoseEscalation,
            format!("dose escalation: {} nM", fmt_num(step.concentration_nm)),
            format!("from {} nM (planned day {t})", fmt_num(st.conc)),
            "dose escalation",
        ));
        st.conc = step.concentration_nm;
        st.next_step += 1;
        st.cultures[0].last_feed = day;
        st.feed(0, d.culture.medium_ml, cx.arms());
    }
}

/// Passage of culture `i` on `day` when it reached the passage confluence or has not been
/// passaged for [`MAX_PASSAGE_INTERVAL_DAYS`]; then checks a growth-recovered escalation.
fn passage(cx: &DerivCx, st: &mut Selection, i: usize, day: i64, tl: &mut Timeline) {
    let (d, em) = (cx.d, &cx.em);
    let m = &d.model;
    let c_nm = st.conc_of(i, cx.arms());
    let c = &mut st.cultures[i];
    let total = c.sensitive + c.resistant;
    let due = total >= cx.threshold || day - c.last_passage >= MAX_PASSAGE_INTERVAL_DAYS;
    if !(due && em.can_work(day)) {
        return;
    }
    let rate = if total > 0.0 {
        (c.sensitive * cx.growth_rate(c_nm, m.ic50_sensitive_nm.value, false)
            + c.resistant * cx.growth_rate(c_nm, m.ic50_resistant_nm.value, true))
            / total
    } else {
        0.0
    };
    let doubling_h = if rate > 0.0 {
        std::f64::consts::LN_2 / rate * 24.0
    } else {
        f64::INFINITY
    };
    c.passages += 1;
    let frac_r = if total > 0.0 {
        c.resistant / total
    } else {
        0.0
    };
    c.sensitive /= cx.split;
    c.resistant /= cx.split;
    c.last_passage = day;
    c.last_feed = day;
    let label = format!(
        "passage {} #{} (1:{})",
        c.label,
        c.passages,
        fmt_num(cx.split)
    );
    st.flasks += 1;
    st.feed(i, d.culture.medium_ml, cx.arms());
    let dt = doubling_text(doubling_h);
    let detail = if i != 1 {
        format!(
            "{} nM {}; model doubling {dt}, resistant fraction {:.1}%",
            fmt_num(c_nm),
            d.drug,
            frac_r * 100.0
        )
    } else {
        format!("vehicle control; model doubling {dt}")
    };
    tl.events
        .push(em.event(day, EventKind::Passage, label, detail, "passage"));
    // Escalation triggered by recovered growth, checked at passages.
    if i == 0 {
        recovered_escalation(cx, st, day, doubling_h, tl);
    }
}

/// Day of the `[split]` in the deterministic model: its `day`, or for the target-shift
/// milestone the first check day on which the model's pool is more than half resistant (the
/// IC50 checks themselves are simulated by `simulate`; a note says so).
fn deterministic_split_day(cx: &DerivCx, tl: &mut Timeline) -> Option<u32> {
    let sp = cx.d.split.as_ref()?;
    match sp.at {
        SplitAt::Day(day) => Some(day),
        SplitAt::TargetShift => {
            let day = split_milestone_day(cx, &tl.calendar)?;
            tl.notes.push(format!(
                "split dated on day {day}: the first IC50 check with a > 50% resistant pool in the deterministic model (the simulated split day varies by run, see `simulate`)"
            ));
            Some(day)
        }
    }
}

/// First check day with a > 50% resistant pool in a dry run of the deterministic model.
fn split_milestone_day(cx: &DerivCx, calendar: &Calendar) -> Option<u32> {
    let checks = cx.d.checks.as_ref()?;
    let mut dry = Timeline::empty(String::new(), String::new(), calendar.clone());
    let mut st = start_selection(cx, 0, &mut dry);
    for day in 1..i64::from(cx.d.duration_days) {
        st.day = day;
        grow_one_day(cx, &mut st);
        fixed_day_escalation(cx, &mut st, day, &mut dry);
        passage(cx, &mut st, 0, day, &mut dry);
        let c = &st.cultures[0];
        let frac = c.resistant / (c.sensitive + c.resistant).max(f64::MIN_POSITIVE);
        if checks.days.contains(&(day as u32)) && frac > 0.5 {
            return Some(day as u32);
        }
    }
    None
}

/// Seeds one flask per arm from the pool on `day` (its fraction of the cells).
fn split_cultures(cx: &DerivCx, st: &mut Selection, day: i64, tl: &mut Timeline) {
    let d = cx.d;
    st.split = Some((day, st.conc));
    let (s, r) = (st.cultures[0].sensitive, st.cultures[0].resistant);
    for (a, arm) in cx.arms().iter().enumerate() {
        st.cultures.push(Culture {
            label: format!("{} {} arm", d.derived_line, arm.name).into(),
            arm: Some(a),
            sensitive: s * arm.fraction,
            resistant: r * arm.fraction,
            last_feed: day,
            last_passage: day,
            passages: 0,
        });
        st.flasks += 1;
        st.feed(st.cultures.len() - 1, d.culture.medium_ml, cx.arms());
    }
    let names: Vec<String> = cx
        .arms()
        .iter()
        .map(|a| {
            format!(
                "{} ({}, {:.0}%)",
                a.name,
                a.kind.as_str(),
                100.0 * a.fraction
            )
        })
        .collect();
    tl.events.push(cx.em.event(
        day,
        EventKind::Passage,
        format!("split {} into arms", d.derived_line),
        format!("one flask per arm: {}", names.join(", ")),
        "split",
    ));
}

/// An arm's concentration change on `day` (holiday start, re-challenge, escalation step), done
/// with fresh medium.
fn arm_drug_changes(cx: &DerivCx, st: &mut Selection, day: i64, tl: &mut Timeline) {
    let Some((at, c0)) = st.split else { return };
    for i in 2..st.cultures.len() {
        let Some(arm) = st.cultures[i].arm.and_then(|a| cx.arms().get(a)) else {
            continue;
        };
        // The split day's flask gets the medium of the arm's first day.
        let before = if day <= at {
            c0
        } else {
            arm.kind.concentration(c0, (day - 1 - at).max(1) as u32)
        };
        let now = arm.kind.concentration(c0, (day - at).max(1) as u32);
        if before == now {
            continue;
        }
        let what = if now <= 0.0 {
            "drug holiday: medium without drug".to_string()
        } else if before <= 0.0 {
            format!("re-challenge: {} nM", fmt_num(now))
        } else {
            format!("dose escalation: {} nM", fmt_num(now))
        };
        st.cultures[i].last_feed = day;
        st.feed(i, cx.d.culture.medium_ml, cx.arms());
        tl.events.push(cx.em.event(
            day,
            EventKind::DoseEscalation,
            format!("{what} ({})", st.cultures[i].label),
            format!(
                "arm {} ({}), day {} after the split",
                arm.name,
                arm.kind.as_str(),
                day - at
            ),
            "arm drug change",
        ));
    }
}

/// Model doubling time for event details.
fn doubling_text(doubling_h: f64) -> String {
    if doubling_h.is_finite() {
        format!("{doubling_h:.0} h")
    } else {
        "no net growth".to_string()
    }
}

/// Escalation of the derived line at a passage on `day` when its model doubling time
/// `doubling_h` fell below the next step's growth-recovered threshold.
fn recovered_escalation(
    cx: &DerivCx,
    st: &mut Selection,
    day: i64,
    doubling_h: f64,
    tl: &mut Timeline,
) {
    let (d, em) = (cx.d, &cx.em);
    let dt = doubling_text(doubling_h);
    if let Some(step) = d.escalation.get(st.next_step)
        && let EscalationTrigger::GrowthRecovered { doubling_h: thr } = step.trigger
        && doubling_h < thr
    {
        tl.events.push(em.event(
            day,
            EventKind::DoseEscalation,
            format!("dose escalation: {} nM", fmt_num(step.concentration_nm)),
            format!(
                "from {} nM: model doubling {dt} < {} h",
                fmt_num(st.conc),
                fmt_num(thr)
            ),
            "dose escalation",
        ));
        // The fresh medium of this passage was counted at the old concentration.
        st.drug_nmol += (step.concentration_nm - st.conc) * d.culture.medium_ml * 1e-3;
        st.conc = step.concentration_nm;
        st.next_step += 1;
    }
}

/// Medium change of every culture not fed for the medium-change interval (one event).
fn medium_change(cx: &DerivCx, st: &mut Selection, day: i64, tl: &mut Timeline) {
    let (d, em) = (cx.d, &cx.em);
    let cu = &d.culture;
    let interval = i64::from(cu.medium_change_days.max(1));
    let due: Vec<usize> = (0..st.cultures.len())
        .filter(|&i| day - st.cultures[i].last_feed >= interval)
        .collect();
    if due.is_empty() || !em.can_work(day) {
        return;
    }
    for &i in &due {
        st.cultures[i].last_feed = day;
        st.feed(i, cu.medium_ml, cx.arms());
    }
    st.medium_changes += 1;
    let names: Vec<&str> = due.iter().map(|&i| &*st.cultures[i].label).collect();
    tl.events.push(em.event(
        day,
        EventKind::MediumChange,
        format!("medium change ({})", names.join(", ")),
        format!(
            "{} mL/{}; {} at {} nM",
            fmt_num(cu.medium_ml),
            cu.vessel,
            d.drug,
            fmt_num(st.conc)
        ),
        "medium change",
    ));
}

/// Single-cell cloning of the derived line from day `start` (next working day), with the
/// clone expansion and its medium changes; returns (end of expansion, lines to validate,
/// cloning plates).
fn cloning(
    cx: &DerivCx,
    st: &mut Selection,
    cl: &Cloning,
    start: i64,
    tl: &mut Timeline,
) -> (i64, u32, u32) {
    let (d, em) = (cx.d, &cx.em);
    let day = if em.can_work(start) {
        start
    } else {
        em.cal.next_working(start)
    };
    let cloning_plates = (f64::from(cl.clones) / (96.0 * SINGLE_CELL_WELL_YIELD)).ceil() as u32;
    tl.events.push(em.event(
        day,
        EventKind::Cloning,
        format!("single-cell cloning of {}", d.derived_line),
        format!(
            "limiting dilution at 0.5 cells/well into {cloning_plates} 96-well plate(s); pick {} clones",
            cl.clones
        ),
        "cloning",
    ));
    let exp_end = day + i64::from(cl.expansion_days);
    let mut last = day;
    let interval = i64::from(d.culture.medium_change_days.max(1));
    for dd in day + 1..exp_end {
        if dd - last >= interval && em.can_work(dd) {
            last = dd;
            st.medium_ml += f64::from(cl.clones) * 0.2; // 200 µL per clone well: assumed
            st.drug_nmol += st.conc * f64::from(cl.clones) * 0.2 * 1e-3;
            tl.events.push(em.event(
                dd,
                EventKind::MediumChange,
                format!("medium change ({} clones)", cl.clones),
                format!("{} at {} nM", d.drug, fmt_num(st.conc)),
                "medium change",
            ));
        }
    }
    tl.events.push(em.event(
        exp_end,
        EventKind::Cloning,
        "clones expanded: bank and start validation".into(),
        format!("{} clones after {} days", cl.clones, cl.expansion_days),
        "cloning",
    ));
    tl.spans.push(Span {
        label: "clone expansion".into(),
        kind: SpanKind::Activity,
        start: day,
        end: exp_end,
        uncertain: None,
    });
    (exp_end, 1 + cl.clones.max(1), cloning_plates)
}

/// A generated event on the same day and of the same kind as one of the protocol's own steps
/// (events `first..n_steps`) is folded into that step's details instead of being listed twice
/// (e.g. the protocol's "limiting dilution" step and the generated cloning event).
fn merge_into_steps(tl: &mut Timeline, first: usize, n_steps: usize) {
    let mut used = vec![false; n_steps];
    let mut keep = vec![true; tl.events.len()];
    for (g, kg) in keep.iter_mut().enumerate().skip(n_steps) {
        let hit = (first..n_steps).find(|&i| {
            !used[i]
                && tl.events[i].day == tl.events[g].day
                && tl.events[i].kind == tl.events[g].kind
        });
        if let Some(i) = hit {
            used[i] = true;
            *kg = false;
            let add = format!("{}: {}", tl.events[g].label, tl.events[g].details);
            let d = &mut tl.events[i].details;
            let base = d.trim().trim_end_matches('.').to_string();
            *d = if base.is_empty() {
                add
            } else {
                format!("{base}; {add}")
            };
        }
    }
    let mut k = keep.into_iter();
    tl.events.retain(|_| k.next().unwrap_or(true));
}

/// Consumables of one dose-response assay, from its plate layout.
struct AssayUse {
    /// Plates used.
    plates: u32,
    /// e.g. "96-well plate".
    plate_type: String,
    /// PBS in the edge wells left empty, mL.
    pbs_ml: f64,
    /// Medium of the sample and blank wells (seeding + drug medium), mL.
    medium_ml: f64,
    /// Drug in the dosed wells, nmol.
    drug_nmol: f64,
    /// Sample wells.
    samples: usize,
    /// Blank wells.
    blanks: usize,
}

/// Plates, medium, drug and PBS of one run of assay design `a` on `lines` lines; the wells
/// come from the plate layout owner ([`crate::protocol::plate_layout::plan`]).
fn assay_use(a: &AssayDesign, lines: u32) -> Result<AssayUse, TimelineError> {
    let map = crate::protocol::plate_layout::plan(a, lines as usize)?;
    let filled = (map.samples.len() + map.blanks.len()) as f64;
    let wml = well_ml(a.plate_wells);
    Ok(AssayUse {
        plates: map.plates,
        plate_type: format!("{}-well plate", a.plate_wells),
        pbs_ml: f64::from(map.pbs_wells) * wml,
        // Seeding medium, then the drug medium.
        medium_ml: filled * wml * 2.0,
        drug_nmol: f64::from(lines * a.replicates) * a.doses_nm.iter().sum::<f64>() * wml * 1e-3,
        samples: map.samples.len(),
        blanks: map.blanks.len(),
    })
}

/// The repeated IC50 checks of `[validation] check-every-days` / `check-days`: one seeding
/// event per check day (folded into the protocol's own assay step of that day when there is
/// one) and each check's plates, medium, drug and PBS in the totals. A check on the final
/// validation's seeding day (`validation_day`) is that assay's plates, counted once there.
fn check_assays(
    cx: &DerivCx,
    origin: i64,
    validation_day: Option<i64>,
    lines: u32,
    st: &mut Selection,
    totals: &mut InVitroTotals,
    tl: &mut Timeline,
) -> Result<(), TimelineError> {
    let (Some(v), Some(checks)) = (&cx.d.validation, &cx.d.checks) else {
        return Ok(());
    };
    let em = &cx.em;
    let mut n = 0u32;
    let mut plates = 0u32;
    for &k in &checks.days {
        let planned = origin + i64::from(k);
        let day = if em.can_work(planned) {
            planned
        } else {
            em.cal.next_working(planned)
        };
        // The pool's check on the final validation day is that assay; after the split every
        // arm is checked too, each on its own plates.
        let mut flasks = Vec::new();
        if Some(planned) != validation_day {
            flasks.push(String::new());
        }
        if st.split.is_some_and(|(at, _)| planned > at) {
            flasks.extend(cx.arms().iter().map(|a| format!(", {} arm", a.name)));
        }
        for which in flasks {
            let used = assay_use(v, lines)?;
            st.medium_ml += used.medium_ml;
            st.drug_nmol += used.drug_nmol;
            totals.pbs_ml += used.pbs_ml;
            add_plates(totals, &used.plate_type, used.plates);
            n += 1;
            plates += used.plates;
            tl.events
                .push(check_event(em, v, (k, day), &which, lines, &used));
        }
    }
    if n > 0 {
        totals.details.push((
            "IC50 checks".into(),
            format!(
                "{n} check assay(s) before the final validation, {plates} plate(s) in the plate and medium totals{}",
                if checks.days.iter().any(|&k| Some(origin + i64::from(k)) == validation_day) {
                    "; the check on the last day of selection is the final validation assay, counted once"
                } else {
                    ""
                }
            ),
        ));
    }
    Ok(())
}

/// The seeding event of one IC50 check (`which`: "" for the pool, ", <name> arm" for an arm).
fn check_event(
    em: &Emitter,
    v: &AssayDesign,
    (k, day): (u32, i64),
    which: &str,
    lines: u32,
    used: &AssayUse,
) -> Event {
    em.event(
        day,
        EventKind::Assay,
        format!("IC50 check (day {k}{which}): seed plates"),
        format!(
            "{lines} line(s) x {} doses x {} replicates = {} wells{} on {} {}(s); {} read-out {} days after the drug",
            v.doses_nm.len(),
            v.replicates,
            used.samples,
            if used.blanks == 0 {
                String::new()
            } else {
                format!(" + {} blanks", used.blanks)
            },
            used.plates,
            used.plate_type,
            v.readout.as_str(),
            fmt_num(v.duration_days)
        ),
        "IC50 check",
    )
}

/// Adds `n` plates of type `kind` to the totals (one row per plate type).
fn add_plates(totals: &mut InVitroTotals, kind: &str, n: u32) {
    if n == 0 {
        return;
    }
    match totals.plates.iter_mut().find(|(k, _)| k == kind) {
        Some((_, m)) => *m += n,
        None => totals.plates.push((kind.to_string(), n)),
    }
}

/// Seeding, drug addition and read-out of a dose-response assay starting on `day`; plates,
/// medium (sample and blank wells, seeding + drug medium) and PBS follow the design's plate
/// layout ([`crate::protocol::plate_layout::plan`]).
#[allow(clippy::too_many_arguments)]
fn assay_events(
    em: &Emitter,
    a: &AssayDesign,
    day: i64,
    lines: u32,
    medium_ml: &mut f64,
    drug_nmol: &mut f64,
    tl: &mut Timeline,
    activity: &str,
) -> Result<AssayUse, TimelineError> {
    let cal = em.cal;
    let seed = if em.can_work(day) {
        day
    } else {
        cal.next_working(day)
    };
    let used = assay_use(a, lines)?;
    let plates = used.plates;
    let drug_day = seed + ATTACH_DAYS;
    let drug_day = if em.can_work(drug_day) {
        drug_day
    } else {
        cal.next_working(drug_day)
    };
    let read = drug_day + a.duration_days.ceil() as i64;
    let read = if em.can_work(read) {
        read
    } else {
        cal.next_working(read)
    };
    *medium_ml += used.medium_ml;
    *drug_nmol += used.drug_nmol;
    let plate_type = used.plate_type.clone();
    tl.events.push(em.event(
        seed,
        EventKind::Assay,
        format!("{activity}: seed plates"),
        format!(
            "{lines} line(s) x {} doses x {} replicates = {} wells{} on {plates} {plate_type}(s){}, {:.0} cells/well",
            a.doses_nm.len(),
            a.replicates,
            used.samples,
            if used.blanks == 0 {
                String::new()
            } else {
                format!(" + {} blanks", used.blanks)
            },
            if used.pbs_ml > 0.0 {
                " (edge wells PBS)"
            } else {
                ""
            },
            a.seeding_cells
        ),
        activity,
    ));
    tl.events.push(em.event(
        drug_day,
        EventKind::Assay,
        format!("{activity}: add {}", a.drug),
        format!(
            "{} nM",
            a.doses_nm.iter().map(|d| fmt_num(*d)).collect::<Vec<_>>().join(", ")
        ),
        activity,
    ));
    tl.events.push(em.event(
        read,
        EventKind::Assay,
        format!("{activity}: {} read-out", a.readout.as_str()),
        format!("after {} days of drug", fmt_num(a.duration_days)),
        activity,
    ));
    tl.spans.push(Span {
        label: activity.to_string(),
        kind: SpanKind::Activity,
        start: seed,
        end: read + 1,
        uncertain: None,
    });
    Ok(used)
}

pub(super) fn expand_assay(
    protocol: &Protocol,
    a: &Assay,
    options: &Options,
    estimates: &Estimates,
    tl: &mut Timeline,
) -> Result<(), TimelineError> {
    let cal = &options.calendar;
    let layout = Layout::place(protocol, cal, estimates, "", 0)?;
    phase_spans(&layout, tl);
    let first_step = tl.events.len();
    expand_steps(protocol, &layout, cal, tl);
    let n_steps = tl.events.len();
    let em = Emitter {
        cal,
        layout: &layout,
        activity: "assay".into(),
    };
    let mut medium_ml = 0.0;
    let mut drug_nmol = 0.0;
    let lines = a.lines.len().max(1) as u32;
    let used = assay_events(
        &em,
        &a.design,
        layout.day0,
        lines,
        &mut medium_ml,
        &mut drug_nmol,
        tl,
        "assay",
    )?;
    tl.invitro = Some(InVitroTotals {
        flasks: Vec::new(),
        plates: vec![(used.plate_type, used.plates)],
        medium_ml,
        drug_nmol,
        pbs_ml: used.pbs_ml,
        drug: a.design.drug.clone(),
        details: vec![("medium".into(), a.medium.clone())],
    });
    merge_into_steps(tl, first_step, n_steps);
    Ok(())
}
