//! `resources.csv`: what must be ordered or prepared, with the arithmetic in `details`.

use super::xenograft::{CohortCounts, cohort_counts, fmt_num};
use super::{DoseRecord, Given, Timeline};
use crate::protocol::{Body, Cohort, DoseUnit, EventKind, HormoneKind, Protocol, Route, Xenograft};
use crate::sim::animals::AnimalPlan;
use std::collections::{BTreeMap, BTreeSet};

/// One row of `resources.csv` (`item,quantity,unit,details`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResourceRow {
    /// What.
    pub item: String,
    /// How much (formatted; integers for counts).
    pub quantity: String,
    /// Unit.
    pub unit: String,
    /// How it was computed.
    pub details: String,
}

fn row(item: String, q: f64, decimals: usize, unit: &str, details: String) -> ResourceRow {
    ResourceRow {
        item,
        quantity: crate::output::fmt_f(q, decimals),
        unit: unit.to_string(),
        details,
    }
}

/// Extra cells and Matrigel prepared beyond the injected amount: assumed; 20% for syringe dead
/// volume and pipetting loss (common practice, n/f).
pub const PREP_OVERAGE: f64 = 0.2;
/// Oral dosing volume when the protocol gives none: 10 mL/kg (DOMAIN.md: institutional
/// guidelines, PO 10 mL/kg, max 50).
pub const DEFAULT_PO_ML_PER_KG: f64 = 10.0;
/// Drug stock concentration used to express in vitro drug needs as a volume: assumed; 10 mM in
/// DMSO is the usual stock.
pub const STOCK_MM: f64 = 10.0;

/// Resources of the expanded timeline `tl` of `protocol`.
pub fn resources(protocol: &Protocol, tl: &Timeline) -> Vec<ResourceRow> {
    match &protocol.body {
        Body::Xenograft(x) => xenograft(x, tl),
        Body::Procedure(p) => {
            let tasks = tl
                .events
                .iter()
                .filter(|e| e.kind == EventKind::Task)
                .count();
            let hours: f64 = p.tasks.iter().map(|t| t.hands_on_h).sum();
            let first = tl.events.iter().map(|e| e.day).min().unwrap_or(0);
            let last = tl
                .events
                .iter()
                .map(|e| e.end_day.unwrap_or(e.day + 1))
                .max()
                .unwrap_or(0);
            vec![
                row(
                    "samples".into(),
                    f64::from(p.samples),
                    0,
                    "samples",
                    "processed through every task".into(),
                ),
                row(
                    "tasks".into(),
                    tasks as f64,
                    0,
                    "tasks",
                    "scheduled from the dependency graph".into(),
                ),
                row(
                    "hands-on time".into(),
                    hours,
                    1,
                    "h",
                    "sum of hands-on hours per task".into(),
                ),
                row(
                    "calendar span".into(),
                    (last - first) as f64,
                    0,
                    "days",
                    "first task start to last task end, weekends and holidays included".into(),
                ),
            ]
        }
        Body::Derivation(_) | Body::Assay(_) => invitro(tl),
    }
}

fn invitro(tl: &Timeline) -> Vec<ResourceRow> {
    let Some(t) = &tl.invitro else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (v, n) in &t.flasks {
        out.push(row(
            format!("culture vessels ({v})"),
            f64::from(*n),
            0,
            "vessels",
            "one per culture at the start plus one per passage (derived and parental lines)".into(),
        ));
    }
    for (v, n) in &t.plates {
        out.push(row(
            format!("plates ({v})"),
            f64::from(*n),
            0,
            "plates",
            "cloning and assay plates".into(),
        ));
    }
    out.push(row(
        "culture medium".into(),
        t.medium_ml,
        0,
        "mL",
        "every seeding, passage and medium change at the vessel's volume; assay sample and blank wells at 100 uL (96) / 25 uL (384), twice".into(),
    ));
    if t.pbs_ml > 0.0 {
        out.push(row(
            "PBS (assay edge wells)".into(),
            t.pbs_ml,
            1,
            "mL",
            "outer-ring wells left as PBS against evaporation, one well volume each".into(),
        ));
    }
    out.push(row(
        format!("{} (drug)", t.drug),
        t.drug_nmol,
        3,
        "nmol",
        "concentration x medium volume of every drug-containing feed".into(),
    ));
    out.push(row(
        format!("{} stock at {} mM", t.drug, fmt_num(STOCK_MM)),
        t.drug_nmol / STOCK_MM,
        2,
        "uL",
        format!(
            "{} nmol / {} nmol/uL (stock concentration assumed)",
            crate::output::fmt_f(t.drug_nmol, 3),
            fmt_num(STOCK_MM)
        ),
    ));
    for (k, v) in &t.details {
        out.push(row(k.clone(), f64::NAN, 0, "", v.clone()));
    }
    out
}

/// What the xenograft resource steps read.
struct ResCx<'a> {
    x: &'a Xenograft,
    tl: &'a Timeline,
}

fn xenograft(x: &Xenograft, tl: &Timeline) -> Vec<ResourceRow> {
    let cx = ResCx { x, tl };
    let mut out = Vec::new();
    let mut total_ordered = 0u32;
    for (c, plan) in x.cohorts.iter().zip(&tl.animals) {
        let k = cohort_counts(plan);
        total_ordered += k.ordered;
        animal_rows(&cx, c, plan, &mut out);
        hormone_rows(&cx, c, &mut out);
        implantation_rows(c, k, &mut out);
    }
    if x.cohorts.len() > 1 {
        out.push(row(
            "mice to order (total)".into(),
            f64::from(total_ordered),
            0,
            "mice",
            "sum over cohorts".into(),
        ));
    }
    drug_rows(&cx, &mut out);
    session_rows(tl, &mut out);
    out
}

/// Mice to order (the animal plan and its arithmetic) and cages before and after
/// randomization for cohort `c`.
fn animal_rows(cx: &ResCx, c: &Cohort, plan: &AnimalPlan, out: &mut Vec<ResourceRow>) {
    let x = cx.x;
    let k = cohort_counts(plan);
    let per_cage = x.husbandry.per_cage.max(1);
    out.push(row(
        format!("mice to order · {}", c.name),
        f64::from(k.ordered),
        0,
        "mice",
        format!(
            "{}; yield: {}; {} {}{}",
            plan.arithmetic(),
            plan.yield_source,
            x.animals.sex,
            x.animals.strain,
            if x.animals.ovariectomized {
                ", ovariectomized"
            } else {
                ""
            }
        ),
    ));
    out.push(row(
        format!("cages before randomization · {}", c.name),
        f64::from(k.ordered.div_ceil(per_cage)),
        0,
        "cages",
        format!("{} mice at <= {per_cage} per cage", k.ordered),
    ));
    let after: u32 = plan.arm_enrolled.iter().map(|n| n.div_ceil(per_cage)).sum();
    out.push(row(
        format!("cages after randomization · {}", c.name),
        f64::from(after),
        0,
        "cages",
        format!("one arm per cage group, <= {per_cage} per cage"),
    ));
}

/// The hormone supply of cohort `c`, counted from its dated items on the timeline (the dose
/// records of [`super::xenograft`], made from the supply's one owner
/// [`crate::protocol::HormoneSupport::items`]): pellets implanted and re-implanted, injections
/// and the hormone they hold, or supplemented drinking water and its hormone.
fn hormone_rows(cx: &ResCx, c: &Cohort, out: &mut Vec<ResourceRow>) {
    let Some(h) = &c.hormone else { return };
    let x = cx.x;
    let overage = 1.0 + x.husbandry.drug_overage_fraction.max(0.0);
    let pct = fmt_num(x.husbandry.drug_overage_fraction.max(0.0) * 100.0);
    let items: Vec<&DoseRecord> = cx
        .tl
        .doses
        .iter()
        .filter(|d| d.cohort == c.name && d.arm.is_empty())
        .collect();
    let total: u64 = items.iter().map(|d| u64::from(d.animals)).sum();
    match &h.kind {
        HormoneKind::Pellet {
            release_days,
            reimplant_every_days,
            ..
        } => {
            let mut first = 0u64;
            let mut repl = 0u64;
            let mut need = 0u32;
            for d in &items {
                if let Given::Pellet {
                    replacement,
                    needed_days,
                    ..
                } = d.given
                {
                    if replacement {
                        repl += u64::from(d.animals);
                    } else {
                        first += u64::from(d.animals);
                    }
                    need = need.max(needed_days);
                }
            }
            let replacements = match reimplant_every_days {
                Some(n) => format!(" + {repl} re-implants (every {n} days)"),
                None => String::new(),
            };
            let cover = if f64::from(need) > *release_days {
                format!(
                    "the {}-day release covers {} of the {need} days it must support and no re-implant is scheduled (timeline note)",
                    fmt_num(*release_days),
                    fmt_num(*release_days)
                )
            } else {
                format!(
                    "each releases {} days, covering the longest stretch of {need} days to the next pellet or the end of support",
                    fmt_num(*release_days)
                )
            };
            out.push(row(
                format!("hormone pellets · {}", c.name),
                total as f64,
                0,
                "pellets",
                format!(
                    "{first} implanted{replacements}, counted on the dated timeline; {cover}; {}",
                    h.name
                ),
            ));
        }
        HormoneKind::Injection { dose_mg, .. } => {
            let mg: f64 = items.iter().map(|d| dose_mg * f64::from(d.animals)).sum();
            out.push(row(
                format!("hormone injections · {}", c.name),
                total as f64,
                0,
                "injections",
                format!(
                    "{} dated injection occasions x the animals on study that day; {}",
                    items.len(),
                    h.describe()
                ),
            ));
            out.push(row(
                format!("{} (hormone) · {}", h.name, c.name),
                mg * overage,
                1,
                "mg",
                format!(
                    "{total} injections x {} mg (flat per mouse) = {} mg x {} (overage {pct}%)",
                    fmt_num(*dose_mg),
                    crate::output::fmt_f(mg, 1),
                    fmt_num(overage)
                ),
            ));
        }
        HormoneKind::DrinkingWater {
            concentration_ug_per_ml,
            intake_ml_per_day,
            ..
        } => {
            let animal_days: u64 = items
                .iter()
                .map(|d| match d.given {
                    Given::Water { days, .. } => u64::from(days) * u64::from(d.animals),
                    _ => 0,
                })
                .sum();
            let ml = animal_days as f64 * intake_ml_per_day.value;
            out.push(row(
                format!("hormone drinking water · {}", c.name),
                ml * overage,
                0,
                "mL",
                format!(
                    "{animal_days} mouse-days over {} dated bottle changes x {} mL/day ({}) = {} mL x {} (overage {pct}%); {}",
                    items.len(),
                    fmt_num(intake_ml_per_day.value),
                    intake_ml_per_day.source,
                    crate::output::fmt_f(ml, 0),
                    fmt_num(overage),
                    h.name
                ),
            ));
            out.push(row(
                format!("{} (hormone) · {}", h.name, c.name),
                ml * overage * concentration_ug_per_ml / 1000.0,
                1,
                "mg",
                format!(
                    "{} mL x {} ug/mL",
                    crate::output::fmt_f(ml * overage, 0),
                    fmt_num(*concentration_ug_per_ml)
                ),
            ));
        }
    }
}

/// Cells to prepare for implanting `implanted` animals of cohort `c` (cells per animal ×
/// animals × (1 + [`PREP_OVERAGE`])); `None` when the protocol gives no cell count.
pub fn cells_to_prepare(c: &Cohort, implanted: u32) -> Option<f64> {
    let cells = c.implantation.cells?;
    Some(f64::from(implanted) * cells * (1.0 + PREP_OVERAGE))
}

/// Matrigel and cells to prepare for implanting cohort `c`, with the prep overage.
fn implantation_rows(c: &Cohort, k: CohortCounts, out: &mut Vec<ResourceRow>) {
    let imp = &c.implantation;
    let inj_ml = f64::from(k.implanted) * imp.volume_ul / 1000.0;
    if imp.matrigel_fraction > 0.0 {
        out.push(row(
            format!("Matrigel · {}", c.name),
            inj_ml * imp.matrigel_fraction * (1.0 + PREP_OVERAGE),
            2,
            "mL",
            format!(
                "{} animals x {} uL x {}% Matrigel x {} (prep overage {}%, assumed)",
                k.implanted,
                fmt_num(imp.volume_ul),
                fmt_num(imp.matrigel_fraction * 100.0),
                fmt_num(1.0 + PREP_OVERAGE),
                fmt_num(PREP_OVERAGE * 100.0)
            ),
        ));
    }
    if let (Some(cells), Some(total)) = (imp.cells, cells_to_prepare(c, k.implanted)) {
        out.push(row(
            format!("cells to expand · {}", c.name),
            total,
            0,
            "cells",
            format!(
                "{} animals x {cells:.3e} cells x {} (prep overage, assumed); {}",
                k.implanted,
                fmt_num(1.0 + PREP_OVERAGE),
                c.line
            ),
        ));
    }
}

/// Body weight (g) on study day `study_day` of the planning trajectory — the typical weight
/// at randomization plus the daily gain (at least 1 g) — on which per-kg doses and dosing
/// volumes are computed.
pub fn body_weight_g(x: &Xenograft, study_day: i64) -> f64 {
    (x.animals.body_weight_g.value + x.animals.weight_gain_g_per_day.value * study_day as f64)
        .max(1.0)
}

/// Administrations of one agent at one dose (a dose change makes two levels).
struct DoseLevel {
    dose: f64,
    unit: DoseUnit,
    administrations: u64,
    mg: f64,
}

/// One agent's use summed over every dated administration of the timeline.
#[derive(Default)]
struct AgentUse {
    mg: f64,
    ml: f64,
    administrations: u64,
    /// Its doses in order of first use.
    levels: Vec<DoseLevel>,
    /// Dosing volumes, as `"{mL/kg} mL/kg {route}"`.
    volumes: BTreeSet<String>,
}

/// Drug and dosing-solution use per agent (by name): Σ over the timeline's dose records of
/// the dose given in that administration — per kg × the body weight on its study day
/// ([`body_weight_g`]), or flat per animal — × the animals dosed; and the administrations
/// without a dosing volume.
fn agent_use(x: &Xenograft, tl: &Timeline) -> (BTreeMap<String, AgentUse>, BTreeSet<String>) {
    let mut per_agent: BTreeMap<String, AgentUse> = BTreeMap::new();
    let mut no_volume: BTreeSet<String> = BTreeSet::new();
    for d in &tl.doses {
        let Given::Treatment {
            dose,
            unit,
            route,
            volume_ml_per_kg,
            ..
        } = d.given
        else {
            continue;
        };
        let bw = body_weight_g(x, d.study_day);
        let n = f64::from(d.animals);
        let mg = unit.mg_per_animal(dose, bw) * n;
        let ml_per_kg = volume_ml_per_kg.or((route == Route::Po).then_some(DEFAULT_PO_ML_PER_KG));
        let e = per_agent.entry(d.agent.clone()).or_default();
        e.mg += mg;
        e.administrations += u64::from(d.animals);
        match e
            .levels
            .iter_mut()
            .find(|l| l.dose == dose && l.unit == unit)
        {
            Some(l) => {
                l.administrations += u64::from(d.animals);
                l.mg += mg;
            }
            None => e.levels.push(DoseLevel {
                dose,
                unit,
                administrations: u64::from(d.animals),
                mg,
            }),
        }
        if let Some(v) = ml_per_kg {
            e.ml += v * bw / 1000.0 * n;
            e.volumes
                .insert(format!("{} mL/kg {}", fmt_num(v), route.as_str()));
        } else {
            no_volume.insert(format!("{} ({})", d.agent, route.as_str()));
        }
    }
    (per_agent, no_volume)
}

/// How an agent's amount was summed, level by level: which rule applied (per kg × the body
/// weight on the day, or a flat per-mouse dose), the administrations and the amount of each.
fn amount_rule(u: &AgentUse, traj: &str) -> String {
    let levels: Vec<String> = u
        .levels
        .iter()
        .map(|l| {
            let rule = if l.unit.per_kg() {
                format!("x body weight on the day ({traj})")
            } else {
                "per mouse (flat dose, not scaled by body weight)".to_string()
            };
            format!(
                "{} x {} {} {rule} = {} mg",
                l.administrations,
                fmt_num(l.dose),
                l.unit.as_str(),
                crate::output::fmt_f(l.mg, 1)
            )
        })
        .collect();
    levels.join(" + ")
}

/// Drugs, dosing solutions and the total vehicle volume, with the drug overage.
fn drug_rows(cx: &ResCx, out: &mut Vec<ResourceRow>) {
    let x = cx.x;
    let bw0 = x.animals.body_weight_g.value;
    let gain = x.animals.weight_gain_g_per_day.value;
    let overage = 1.0 + x.husbandry.drug_overage_fraction.max(0.0);
    let (per_agent, no_volume) = agent_use(x, cx.tl);
    let traj = format!(
        "body weight {} g at day 0 + {} g/day",
        fmt_num(bw0),
        fmt_num(gain)
    );
    let mut vehicle_ml = 0.0;
    for (agent, u) in &per_agent {
        let (mg, ml, n) = (u.mg, u.ml, u.administrations);
        let is_vehicle = x.agent(agent).is_some_and(|a| a.vehicle);
        if !is_vehicle && mg > 0.0 {
            let sum = if u.levels.len() > 1 {
                format!("; sum {} mg", crate::output::fmt_f(mg, 1))
            } else {
                String::new()
            };
            out.push(row(
                format!("{agent} (drug)"),
                mg * overage,
                1,
                "mg",
                format!(
                    "{n} dated administrations: {}{sum}; x {} (overage {}%)",
                    amount_rule(
                        u,
                        &format!("{} g at day 0 + {} g/day", fmt_num(bw0), fmt_num(gain))
                    ),
                    fmt_num(overage),
                    fmt_num(x.husbandry.drug_overage_fraction * 100.0)
                ),
            ));
        }
        if ml > 0.0 {
            vehicle_ml += ml * overage;
            let formulation = x.agent(agent).map_or("", |a| a.formulation.as_str());
            out.push(row(
                format!("dosing solution · {agent}"),
                ml * overage,
                1,
                "mL",
                format!(
                    "{n} administrations at {} on the {traj}, x {} overage; {formulation}",
                    u.volumes.iter().cloned().collect::<Vec<_>>().join(", "),
                    fmt_num(overage)
                ),
            ));
        }
    }
    if vehicle_ml > 0.0 {
        out.push(row(
            "vehicle volume (total)".into(),
            vehicle_ml,
            1,
            "mL",
            if no_volume.is_empty() {
                "all dosing solutions together".into()
            } else {
                format!(
                    "all dosing solutions together; no dosing volume for {}",
                    no_volume.into_iter().collect::<Vec<_>>().join(", ")
                )
            },
        ));
    }
}

/// Caliper and body-weight sessions (one per cohort per date) with their animal counts.
fn session_rows(tl: &Timeline, out: &mut Vec<ResourceRow>) {
    for (kind, name) in [
        (EventKind::Caliper, "caliper"),
        (EventKind::BodyWeight, "body-weight"),
    ] {
        let ev: Vec<_> = tl.events.iter().filter(|e| e.kind == kind).collect();
        if ev.is_empty() {
            continue;
        }
        let sessions: BTreeSet<(i64, Option<String>)> =
            ev.iter().map(|e| (e.day, e.cohort.clone())).collect();
        let dates: BTreeSet<i64> = ev.iter().map(|e| e.day).collect();
        let animals: u32 = ev.iter().filter_map(|e| e.animals).sum();
        out.push(row(
            format!("{name} sessions"),
            sessions.len() as f64,
            0,
            "sessions",
            format!(
                "{} dates, {} animal measurements (per cohort per date)",
                dates.len(),
                animals
            ),
        ));
    }
}
