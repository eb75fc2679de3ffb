//! The protocol summary section: what is studied, how, and every parameter with its source.

use super::html::{Block, Table};
use crate::protocol::view::{ViewNode, protocol_view};
use crate::protocol::{
    Assay, AssayDesign, Body, Cloning, Derivation, EscalationStep, EscalationTrigger, PhaseEnd,
    Procedure, Protocol, Reference, Treatment, Variability, Xenograft,
};

/// One row of the parameter table.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamRow {
    /// Where the parameter lives (e.g. "TamR-MCF-7 · growth rate").
    pub name: String,
    /// Value with unit.
    pub value: String,
    /// Between-animal variability ("CV 25%", "SD 0.02", "—").
    pub variability: String,
    /// Source text.
    pub source: String,
}

fn variability(v: Variability) -> String {
    match v {
        Variability::None => "—".into(),
        Variability::LogNormal { cv } => format!("log-normal, CV {:.0}%", cv * 100.0),
        Variability::Normal { sd } => format!("normal, SD {}", fmt(sd)),
    }
}

use crate::output::fmt_value as fmt;

/// Every model parameter of the protocol with value, variability and source: the leaves of
/// the protocol view ([`protocol_view`], the tree `show` prints too), each named by the labels
/// of its path ("MCF-7 · take rate").
pub fn parameter_rows(p: &Protocol) -> Vec<ParamRow> {
    let view = protocol_view(p);
    ViewNode::leaves(&view)
        .into_iter()
        .filter_map(|(path, n)| {
            let v = n.value.as_ref()?;
            Some(ParamRow {
                name: path.join(" · "),
                value: format!("{} {}", fmt(v.value), v.unit).trim().to_string(),
                variability: variability(v.variability),
                source: v.source.clone(),
            })
        })
        .collect()
}

// Lines that `show` (text) and the report (HTML) both print, owned here so the two say the
// same thing.

/// A treatment's dose: "tamoxifen 5 mg/kg PO" (agent, dose, unit, route).
pub fn dose_text(t: &Treatment) -> String {
    format!(
        "{} {} {} {}",
        t.agent,
        fmt(t.dose),
        t.unit.as_str(),
        t.route.as_str().to_uppercase()
    )
}

/// One dose escalation: "100 nM on day 14" or "100 nM when doubling < 48 h".
pub fn escalation_text(s: &EscalationStep) -> String {
    let when = match s.trigger {
        EscalationTrigger::Day(day) => format!("on day {day}"),
        EscalationTrigger::GrowthRecovered { doubling_h } => {
            format!("when doubling < {} h", fmt(doubling_h))
        }
    };
    format!("{} nM {when}", fmt(s.concentration_nm))
}

/// Single-cell cloning: "24 clones, 21 days expansion".
pub fn cloning_text(k: &Cloning) -> String {
    format!("{} clones, {} days expansion", k.clones, k.expansion_days)
}

/// A reference without its link: "[id] citation".
pub fn citation_text(r: &Reference) -> String {
    format!("[{}] {}", r.id, r.citation)
}

/// The doses of a plate design, nM: "0.1, 1, 10".
pub fn doses_text(d: &AssayDesign) -> String {
    d.doses_nm
        .iter()
        .map(|x| fmt(*x))
        .collect::<Vec<_>>()
        .join(", ")
}

fn phase_table(p: &Protocol) -> Table {
    let rows = p
        .phases
        .iter()
        .map(|ph| {
            let end = match &ph.end {
                PhaseEnd::Fixed { days } => format!("{days} days"),
                PhaseEnd::Until {
                    measurement,
                    min,
                    max,
                    max_wait_days,
                } => {
                    format!(
                        "until {measurement} in {}–{} (max {max_wait_days} days)",
                        fmt(*min),
                        fmt(*max)
                    )
                }
            };
            vec![
                ph.name.clone(),
                end,
                if ph.day0 {
                    "day 0".into()
                } else {
                    String::new()
                },
                ph.description.clone(),
            ]
        })
        .collect();
    Table {
        caption: "Phases".into(),
        header: vec![
            "phase".into(),
            "ends".into(),
            "".into(),
            "description".into(),
        ],
        rows,
    }
}

/// Blocks of the study design: animals, agents, cohorts, arms, enrollment, endpoints and analysis plan.
fn xenograft_blocks(out: &mut Vec<Block>, x: &Xenograft) {
    let a = &x.animals;
    out.push(Block::Facts(vec![
        (
            "animals".into(),
            format!(
                "{} {}, {}{}",
                a.species,
                a.strain,
                a.sex,
                if a.ovariectomized {
                    ", ovariectomized"
                } else {
                    ""
                }
            ),
        ),
        (
            "enrollment".into(),
            format!(
                "{}–{} mm³, max wait {} days, {} randomization, {} enrollment",
                fmt(x.enrollment.min_mm3),
                fmt(x.enrollment.max_mm3),
                x.enrollment.max_wait_days,
                match x.enrollment.randomization {
                    crate::protocol::Randomization::Simple => "simple",
                    crate::protocol::Randomization::VolumeBalanced => "volume-balanced",
                },
                match x.enrollment.mode {
                    crate::protocol::EnrollmentMode::SingleDay => "single-day",
                    crate::protocol::EnrollmentMode::Rolling => "rolling",
                    crate::protocol::EnrollmentMode::AtBaseline => "at-baseline",
                }
            ),
        ),
        (
            "measurements".into(),
            x.measurements
                .iter()
                .map(|m| format!("{} ({})", m.name, m.schedule.frequency.label()))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "event volume".into(),
            format!(
                "{} mm³ (time-to-endpoint analysis)",
                fmt(x.endpoints.event_volume_mm3)
            ),
        ),
        ("end of study".into(), x.end_of_study.join("; ")),
    ]));
    let cohorts = x
        .cohorts
        .iter()
        .map(|c| {
            let hormone = c
                .hormone
                .as_ref()
                .map(|h| format!("{} ({})", h.name, h.removal.describe()))
                .unwrap_or_else(|| "none".into());
            let cells = c
                .implantation
                .cells
                .map(|n| format!("{n:.1e} cells"))
                .unwrap_or_else(|| "fragment".into());
            vec![
                c.name.clone(),
                c.line.clone(),
                format!("{cells}, {}", c.implantation.site),
                hormone,
                c.growth.name().into(),
            ]
        })
        .collect();
    out.push(Block::Table(Table {
        caption: "Cohorts (tumor models)".into(),
        header: vec![
            "cohort".into(),
            "line / model".into(),
            "implantation".into(),
            "hormone support".into(),
            "growth model".into(),
        ],
        rows: cohorts,
    }));
    let mut arms = Vec::new();
    for c in &x.cohorts {
        for arm in &c.arms {
            let tx = arm
                .treatments
                .iter()
                .map(|t| format!("{} {}", dose_text(t), t.schedule.frequency.label()))
                .collect::<Vec<_>>()
                .join(" + ");
            arms.push(vec![
                c.name.clone(),
                arm.name.clone(),
                if arm.control {
                    "control".into()
                } else {
                    String::new()
                },
                tx,
                arm.n.to_string(),
            ]);
        }
    }
    out.push(Block::Table(Table {
        caption: "Arms and dosing".into(),
        header: vec![
            "cohort".into(),
            "arm".into(),
            "".into(),
            "treatment".into(),
            "n".into(),
        ],
        rows: arms,
    }));
}

/// Blocks of the derivation: parental line, drug, dose steps, passaging, cloning and validation.
fn derivation_blocks(out: &mut Vec<Block>, d: &Derivation) {
    let c = &d.culture;
    let esc = d
        .escalation
        .iter()
        .map(escalation_text)
        .collect::<Vec<_>>()
        .join("; ");
    out.push(Block::Facts(vec![
        (
            "lines".into(),
            format!("{} → {}", d.parental_line, d.derived_line),
        ),
        (
            "culture".into(),
            format!(
                "{}, {}{}",
                c.medium,
                c.serum,
                c.substrate
                    .as_ref()
                    .map(|s| format!(", {s} {} nM", c.substrate_nm.map(fmt).unwrap_or_default()))
                    .unwrap_or_default()
            ),
        ),
        (
            "drug".into(),
            format!(
                "{} from {} nM, {} days",
                d.drug,
                fmt(d.start_concentration_nm.value),
                d.duration_days
            ),
        ),
        (
            "escalation".into(),
            if esc.is_empty() { "none".into() } else { esc },
        ),
        (
            "passaging".into(),
            format!(
                "{} seeded per {}, split 1:{} at {:.0}% confluence; medium every {} days",
                fmt(c.seeding_cells),
                c.vessel,
                fmt(c.split_ratio),
                c.passage_at_confluence * 100.0,
                c.medium_change_days
            ),
        ),
        (
            "cloning".into(),
            d.cloning
                .as_ref()
                .map(cloning_text)
                .unwrap_or_else(|| "none".into()),
        ),
    ]));
}

/// Blocks of the assay: lines, plate layout, doses and readout.
fn assay_blocks(out: &mut Vec<Block>, a: &Assay) {
    let d = &a.design;
    out.push(Block::Facts(vec![
        ("medium".into(), a.medium.clone()),
        (
            "lines".into(),
            a.lines
                .iter()
                .map(|l| l.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "drug and doses".into(),
            format!("{}: {} nM", d.drug, doses_text(d)),
        ),
        (
            "design".into(),
            format!(
                "{} replicates, {} wells/plate, {} cells/well, {} days, readout {}",
                d.replicates,
                d.plate_wells,
                fmt(d.seeding_cells),
                fmt(d.duration_days),
                d.readout.as_str()
            ),
        ),
    ]));
}

/// Blocks of the procedure: tasks and their dependencies.
fn procedure_blocks(out: &mut Vec<Block>, pr: &Procedure) {
    let rows = pr
        .tasks
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                fmt(t.duration_days),
                t.after.join(", "),
                fmt(t.hands_on_h),
                t.details.clone(),
            ]
        })
        .collect();
    out.push(Block::Table(Table {
        caption: format!("Tasks ({} samples)", pr.samples),
        header: vec![
            "task".into(),
            "days".into(),
            "after".into(),
            "hands-on h".into(),
            "details".into(),
        ],
        rows,
    }));
}

/// Blocks describing the protocol (kind-specific tables, phases, parameters with sources).
pub fn protocol_blocks(p: &Protocol) -> Vec<Block> {
    let mut out = Vec::new();
    if !p.description.is_empty() {
        out.push(Block::Para(p.description.clone()));
    }
    match &p.body {
        Body::Xenograft(x) => xenograft_blocks(&mut out, x),
        Body::Derivation(d) => derivation_blocks(&mut out, d),
        Body::Assay(a) => assay_blocks(&mut out, a),
        Body::Procedure(pr) => procedure_blocks(&mut out, pr),
    }
    if !p.phases.is_empty() {
        out.push(Block::Table(phase_table(p)));
    }
    let params = parameter_rows(p);
    if !params.is_empty() {
        let rows = params
            .into_iter()
            .map(|r| vec![r.name, r.value, r.variability, r.source])
            .collect();
        out.push(Block::Table(Table {
            caption: "Model parameters and their sources".into(),
            header: vec![
                "parameter".into(),
                "value".into(),
                "between-animal variability".into(),
                "source".into(),
            ],
            rows,
        }));
    }
    if !p.references.is_empty() {
        out.push(Block::List(
            p.references
                .iter()
                .map(|r| {
                    format!(
                        "{}{}",
                        citation_text(r),
                        r.url
                            .as_ref()
                            .map(|u| format!(" — {u}"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        ));
    }
    out
}
