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
    Assay, AssayDesign, Derivation, EscalationTrigger, EventKind, Protocol, WeekendPolicy,
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
    label: &'a str,
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
    let em = Emitter {
        cal,
        layout: &layout,
        activity: format!("selection under {}", d.drug),
    };
    let cu = &d.culture;
    // The derivation simulator's dose response (one owner: invitro::derivation).
    let m = &d.model;
    let gm = DerivationGrowth::new(m, cu);
    let growth_rate = |c_nm: f64, ic50: f64| gm.rates(c_nm, ic50).net();
    let mut totals = InVitroTotals {
        drug: d.drug.clone(),
        ..Default::default()
    };
    let threshold = cu.passage_at_confluence * cu.confluent_cells;
    let split = cu.split_ratio.max(1.0);
    let r0 = m.resistant_fraction.value.clamp(0.0, 1.0);
    // The derived line under drug and the parental line in vehicle side by side: assumed; the
    // parental line is the comparator of the validation assay and must be kept in parallel.
    let mut cultures = [
        Culture {
            label: &d.derived_line,
            sensitive: cu.seeding_cells * (1.0 - r0),
            resistant: cu.seeding_cells * r0,
            last_feed: origin,
            last_passage: origin,
            passages: 0,
        },
        Culture {
            label: &d.parental_line,
            sensitive: cu.seeding_cells,
            resistant: 0.0,
            last_feed: origin,
            last_passage: origin,
            passages: 0,
        },
    ];
    let mut conc = d.start_concentration_nm.value;
    let mut next_step = 0usize;
    let end = origin + i64::from(d.duration_days);
    let mut medium_changes = 0u32;
    tl.events.push(em.event(
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
    let mut drug_nmol = conc * cu.medium_ml * 1e-3;
    let mut medium_ml = 2.0 * cu.medium_ml;
    let mut flasks = 2u32;
    for day in origin + 1..end {
        // Grow one day.
        for (i, c) in cultures.iter_mut().enumerate() {
            let c_nm = if i == 0 { conc } else { 0.0 };
            let rs = growth_rate(c_nm, m.ic50_sensitive_nm.value);
            let rr = growth_rate(c_nm, m.ic50_resistant_nm.value);
            let divisions = rs.max(0.0) / std::f64::consts::LN_2;
            let switched = c.sensitive * divisions * m.switch_rate_per_division.value.max(0.0);
            let mut s = c.sensitive * rs.exp() - switched;
            let mut r = c.resistant * rr.exp() + switched;
            let total = s + r;
            if total > cu.confluent_cells && total > 0.0 {
                let k = cu.confluent_cells / total;
                s *= k;
                r *= k;
            }
            c.sensitive = s.max(0.0);
            c.resistant = r.max(0.0);
        }
        // Dose escalation on a fixed day (with a medium change at the new concentration).
        if let Some(step) = d.escalation.get(next_step)
            && let EscalationTrigger::Day(t) = step.trigger
            && day >= origin + i64::from(t)
            && em.can_work(day)
        {
            tl.events.push(em.event(
                day,
                EventKind::DoseEscalation,
                format!("dose escalation: {} nM", fmt_num(step.concentration_nm)),
                format!("from {} nM (planned day {t})", fmt_num(conc)),
                "dose escalation",
            ));
            conc = step.concentration_nm;
            next_step += 1;
            cultures[0].last_feed = day;
            drug_nmol += conc * cu.medium_ml * 1e-3;
            medium_ml += cu.medium_ml;
        }
        for (i, c) in cultures.iter_mut().enumerate() {
            let total = c.sensitive + c.resistant;
            let due = total >= threshold || day - c.last_passage >= MAX_PASSAGE_INTERVAL_DAYS;
            if due && em.can_work(day) {
                let c_nm = if i == 0 { conc } else { 0.0 };
                let rate = if total > 0.0 {
                    (c.sensitive * growth_rate(c_nm, m.ic50_sensitive_nm.value)
                        + c.resistant * growth_rate(c_nm, m.ic50_resistant_nm.value))
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
                c.sensitive /= split;
                c.resistant /= split;
                c.last_passage = day;
                c.last_feed = day;
                flasks += 1;
                medium_ml += cu.medium_ml;
                if i == 0 {
                    drug_nmol += conc * cu.medium_ml * 1e-3;
                }
                let dt = if doubling_h.is_finite() {
                    format!("{doubling_h:.0} h")
                } else {
                    "no net growth".to_string()
                };
                let label = format!("passage {} #{} (1:{})", c.label, c.passages, fmt_num(split));
                let detail = if i == 0 {
                    format!(
                        "{} nM {}; model doubling {dt}, resistant fraction {:.1}%",
                        fmt_num(conc),
                        d.drug,
                        frac_r * 100.0
                    )
                } else {
                    format!("vehicle control; model doubling {dt}")
                };
                tl.events
                    .push(em.event(day, EventKind::Passage, label, detail, "passage"));
                // Escalation triggered by recovered growth, checked at passages.
                if i == 0
                    && let Some(step) = d.escalation.get(next_step)
                    && let EscalationTrigger::GrowthRecovered { doubling_h: thr } = step.trigger
                    && doubling_h < thr
                {
                    tl.events.push(em.event(
                        day,
                        EventKind::DoseEscalation,
                        format!("dose escalation: {} nM", fmt_num(step.concentration_nm)),
                        format!(
                            "from {} nM: model doubling {dt} < {} h",
                            fmt_num(conc),
                            fmt_num(thr)
                        ),
                        "dose escalation",
                    ));
                    // The fresh medium of this passage was counted at the old concentration.
                    drug_nmol += (step.concentration_nm - conc) * cu.medium_ml * 1e-3;
                    conc = step.concentration_nm;
                    next_step += 1;
                }
            }
        }
        // Medium changes.
        let interval = i64::from(cu.medium_change_days.max(1));
        let due: Vec<usize> = (0..cultures.len())
            .filter(|&i| day - cultures[i].last_feed >= interval)
            .collect();
        if !due.is_empty() && em.can_work(day) {
            for &i in &due {
                cultures[i].last_feed = day;
                medium_ml += cu.medium_ml;
                if i == 0 {
                    drug_nmol += conc * cu.medium_ml * 1e-3;
                }
            }
            medium_changes += 1;
            let names: Vec<&str> = due.iter().map(|&i| cultures[i].label).collect();
            tl.events.push(em.event(
                day,
                EventKind::MediumChange,
                format!("medium change ({})", names.join(", ")),
                format!(
                    "{} mL/{}; {} at {} nM",
                    fmt_num(cu.medium_ml),
                    cu.vessel,
                    d.drug,
                    fmt_num(conc)
                ),
                "medium change",
            ));
        }
    }
    for step in &d.escalation[next_step.min(d.escalation.len())..] {
        tl.notes.push(format!(
            "dose escalation to {} nM not reached within the {} days of selection (deterministic model)",
            fmt_num(step.concentration_nm),
            d.duration_days
        ));
    }
    tl.spans.push(Span {
        label: em.activity.clone(),
        kind: SpanKind::Activity,
        start: origin,
        end,
        uncertain: None,
    });
    totals.details.push((
        "cultures".into(),
        format!(
            "{} passages of {}, {} of {}, {} medium-change days",
            cultures[0].passages,
            d.derived_line,
            cultures[1].passages,
            d.parental_line,
            medium_changes
        ),
    ));

    // Cloning.
    let mut next = end;
    let mut lines = 2u32;
    let mut cloning_plates = 0u32;
    if let Some(cl) = &d.cloning {
        let day = if em.can_work(next) {
            next
        } else {
            cal.next_working(next)
        };
        cloning_plates = (f64::from(cl.clones) / (96.0 * SINGLE_CELL_WELL_YIELD)).ceil() as u32;
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
        let interval = i64::from(cu.medium_change_days.max(1));
        for dd in day + 1..exp_end {
            if dd - last >= interval && em.can_work(dd) {
                last = dd;
                medium_ml += f64::from(cl.clones) * 0.2; // 200 µL per clone well: assumed
                drug_nmol += conc * f64::from(cl.clones) * 0.2 * 1e-3;
                tl.events.push(em.event(
                    dd,
                    EventKind::MediumChange,
                    format!("medium change ({} clones)", cl.clones),
                    format!("{} at {} nM", d.drug, fmt_num(conc)),
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
        lines = 1 + cl.clones.max(1);
        next = exp_end;
    }

    // Validation assay.
    if let Some(v) = &d.validation {
        let used = assay_events(
            &em,
            v,
            next,
            lines,
            &mut medium_ml,
            &mut drug_nmol,
            tl,
            "validation assay",
        )?;
        add_plates(&mut totals, &used.plate_type, used.plates);
        totals.pbs_ml += used.pbs_ml;
    }
    totals.flasks.push((cu.vessel.clone(), flasks));
    add_plates(&mut totals, "96-well plate", cloning_plates);
    totals.medium_ml = medium_ml;
    totals.drug_nmol = drug_nmol;
    tl.invitro = Some(totals);
    merge_into_steps(tl, first_step, n_steps);
    Ok(())
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

/// Plates of one dose-response assay, from its layout.
struct AssayUse {
    /// Plates used.
    plates: u32,
    /// e.g. "96-well plate".
    plate_type: String,
    /// PBS in the edge wells left empty, mL.
    pbs_ml: f64,
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
    let map = crate::protocol::plate_layout::plan(a, lines as usize)?;
    let plates = map.plates;
    let filled = (map.samples.len() + map.blanks.len()) as f64;
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
    let wml = well_ml(a.plate_wells);
    *medium_ml += filled * wml * 2.0; // seeding + drug medium
    *drug_nmol += f64::from(lines * a.replicates) * a.doses_nm.iter().sum::<f64>() * wml * 1e-3;
    let plate_type = format!("{}-well plate", a.plate_wells);
    tl.events.push(em.event(
        seed,
        EventKind::Assay,
        format!("{activity}: seed plates"),
        format!(
            "{lines} line(s) x {} doses x {} replicates = {} wells{} on {plates} {plate_type}(s){}, {:.0} cells/well",
            a.doses_nm.len(),
            a.replicates,
            map.samples.len(),
            if map.blanks.is_empty() {
                String::new()
            } else {
                format!(" + {} blanks", map.blanks.len())
            },
            if map.pbs_wells > 0 {
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
    Ok(AssayUse {
        plates,
        plate_type,
        pbs_ml: f64::from(map.pbs_wells) * wml,
    })
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
