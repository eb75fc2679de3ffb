//! `resources.csv`: what must be ordered or prepared, with the arithmetic in `details`.

use super::Timeline;
use super::xenograft::{CohortCounts, cohort_counts, fmt_num};
use crate::protocol::{
    Body, Cohort, EventKind, HormoneSupport, PelletRemoval, Protocol, Route, Xenograft,
};
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
        if let Some(h) = &c.hormone {
            out.push(pellet_row(&cx, c, h, k));
        }
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

/// Day of the first `kind` event of cohort `cohort` (or of every cohort) in the timeline.
fn cohort_event_day(tl: &Timeline, kind: EventKind, cohort: &str) -> Option<i64> {
    tl.events
        .iter()
        .find(|e| e.kind == kind && e.cohort.as_deref().is_none_or(|n| n == cohort))
        .map(|e| e.day)
}

/// Estrogen pellets of cohort `c`: enough per animal to cover implant to removal.
fn pellet_row(cx: &ResCx, c: &Cohort, h: &HormoneSupport, k: CohortCounts) -> ResourceRow {
    let tl = cx.tl;
    // Days the pellet must release: from implant to removal (or the end of the study).
    let implant = cohort_event_day(tl, EventKind::PelletImplant, &c.name);
    let removal = match h.removal {
        PelletRemoval::Never => None,
        _ => cohort_event_day(tl, EventKind::PelletRemoval, &c.name),
    };
    let end = removal.unwrap_or_else(|| tl.last_day());
    let days = implant.map_or(0, |i| (end - i).max(0));
    let per_animal = ((days as f64 / h.release_days.max(1.0)).ceil() as u32).max(1);
    row(
        format!("estrogen pellets · {}", c.name),
        f64::from(k.implanted * per_animal),
        0,
        "pellets",
        format!(
            "{} implanted x {per_animal} pellet(s) each ({} days of support / {}-day release); {}",
            k.implanted,
            days,
            fmt_num(h.release_days),
            h.name
        ),
    )
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

/// One agent's use summed over every administration of the timeline.
#[derive(Default)]
struct AgentUse {
    mg: f64,
    ml: f64,
    administrations: u64,
    /// Dosing volumes, as `"{mL/kg} mL/kg {route}"`.
    volumes: BTreeSet<String>,
}

/// Drug and dosing-solution use per agent (by name) from every dose record on the
/// body-weight trajectory, and the administrations without a dosing volume.
fn agent_use(x: &Xenograft, tl: &Timeline) -> (BTreeMap<String, AgentUse>, BTreeSet<String>) {
    let bw0 = x.animals.body_weight_g.value;
    let gain = x.animals.weight_gain_g_per_day.value;
    let mut per_agent: BTreeMap<String, AgentUse> = BTreeMap::new();
    let mut no_volume: BTreeSet<String> = BTreeSet::new();
    for d in &tl.doses {
        let Some(t) = x
            .cohort(&d.cohort)
            .and_then(|c| c.arms.iter().find(|a| a.name == d.arm))
            .and_then(|a| a.treatments.iter().find(|t| t.agent == d.agent))
        else {
            continue;
        };
        let bw = (bw0 + gain * d.study_day as f64).max(1.0);
        let mg = t.unit.mg_per_animal(t.dose, bw) * f64::from(d.animals);
        let ml_per_kg = t
            .volume_ml_per_kg
            .or((t.route == Route::Po).then_some(DEFAULT_PO_ML_PER_KG));
        let e = per_agent.entry(d.agent.clone()).or_default();
        e.mg += mg;
        e.administrations += u64::from(d.animals);
        if let Some(v) = ml_per_kg {
            e.ml += v * bw / 1000.0 * f64::from(d.animals);
            e.volumes
                .insert(format!("{} mL/kg {}", fmt_num(v), t.route.as_str()));
        } else {
            no_volume.insert(format!("{} ({})", d.agent, t.route.as_str()));
        }
    }
    (per_agent, no_volume)
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
            out.push(row(
                format!("{agent} (drug)"),
                mg * overage,
                1,
                "mg",
                format!(
                    "{} administrations, dose x {traj}: {} mg x {} (overage {}%)",
                    n,
                    crate::output::fmt_f(mg, 1),
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
