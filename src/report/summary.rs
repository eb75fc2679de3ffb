//! The protocol summary section: what is studied, how, and every parameter with its source.

use super::html::{Block, Table};
use crate::protocol::{
    Assay, Body, CaliperError, Derivation, DrugEffect, EffectMode, EffectTarget, EscalationTrigger,
    GrowthModel, Param, PhaseEnd, Procedure, Protocol, Sourced, Variability, Xenograft,
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

fn variability(p: &Param) -> String {
    match p.variability {
        Variability::None => "—".into(),
        Variability::LogNormal { cv } => format!("log-normal, CV {:.0}%", cv * 100.0),
        Variability::Normal { sd } => format!("normal, SD {}", fmt(sd)),
    }
}

use crate::output::fmt_value as fmt;

struct Rows(Vec<ParamRow>);

impl Rows {
    fn param(&mut self, name: String, unit: &str, p: &Param) {
        self.0.push(ParamRow {
            name,
            value: format!("{} {unit}", fmt(p.value)).trim().to_string(),
            variability: variability(p),
            source: p.source.clone(),
        });
    }
    fn sourced(&mut self, name: String, unit: &str, s: &Sourced) {
        self.0.push(ParamRow {
            name,
            value: format!("{} {unit}", fmt(s.value)).trim().to_string(),
            variability: "—".into(),
            source: s.source.clone(),
        });
    }
    fn effect(&mut self, cohort: &str, e: &DrugEffect) {
        let base = format!("{cohort} · {}", e.agent);
        match &e.mode {
            EffectMode::Direct {
                inhibition,
                kill_rate_per_day,
            } => {
                self.param(
                    format!("{base} · growth inhibition"),
                    "",
                    &Param {
                        source: e.source.clone(),
                        ..inhibition.clone()
                    },
                );
                self.param(
                    format!("{base} · kill rate"),
                    "1/day",
                    &Param {
                        source: e.source.clone(),
                        ..kill_rate_per_day.clone()
                    },
                );
            }
            EffectMode::Exposure {
                emax,
                ec50_ng_ml,
                hill,
                target,
            } => {
                self.param(
                    format!("{base} · Emax"),
                    "",
                    &Param {
                        source: e.source.clone(),
                        ..emax.clone()
                    },
                );
                self.param(
                    format!("{base} · EC50"),
                    "ng/mL",
                    &Param {
                        source: e.source.clone(),
                        ..ec50_ng_ml.clone()
                    },
                );
                self.0.push(ParamRow {
                    name: format!("{base} · Hill"),
                    value: fmt(*hill),
                    variability: "—".into(),
                    source: e.source.clone(),
                });
                if let EffectTarget::Kill { k2 } = target {
                    self.param(format!("{base} · k2 (Simeoni kill)"), "(ng/mL)⁻¹/day", k2);
                }
            }
        }
    }
}

/// Every model parameter of the protocol with value, variability and source.
pub fn parameter_rows(p: &Protocol) -> Vec<ParamRow> {
    let mut r = Rows(Vec::new());
    match &p.body {
        Body::Xenograft(x) => {
            r.param(
                "animals · body weight".into(),
                "g",
                &x.animals.body_weight_g,
            );
            r.sourced(
                "animals · weight gain".into(),
                "g/day",
                &x.animals.weight_gain_g_per_day,
            );
            r.sourced(
                "animals · weight noise CV".into(),
                "",
                &x.animals.weight_noise_cv,
            );
            for c in &x.cohorts {
                let n = &c.name;
                for (name, unit, p) in c.growth.parameters() {
                    r.param(format!("{n} · {name} ({})", c.growth.name()), unit, p);
                }
                if let GrowthModel::Simeoni { psi, .. } = &c.growth {
                    r.0.push(ParamRow {
                        name: format!("{n} · ψ"),
                        value: fmt(*psi),
                        variability: "—".into(),
                        source: "Simeoni et al. 2004".into(),
                    });
                }
                r.sourced(format!("{n} · take rate"), "", &c.take_rate);
                r.param(format!("{n} · latency"), "days", &c.latency_days);
                r.sourced(
                    format!("{n} · growth without estrogen (multiplier)"),
                    "",
                    &c.growth_without_estrogen,
                );
                for e in &c.effects {
                    r.effect(n, e);
                }
                if let Some(res) = &c.resistant {
                    r.param(format!("{n} · resistant fraction"), "", &res.fraction);
                    r.sourced(format!("{n} · resistant sensitivity"), "", &res.sensitivity);
                    r.sourced(
                        format!("{n} · resistant growth without estrogen"),
                        "",
                        &res.growth_without_estrogen,
                    );
                }
            }
            for a in &x.agents {
                if let Some(pk) = &a.pk {
                    r.sourced(format!("{} · PK ka", a.name), "1/h", &pk.ka_per_h);
                    r.sourced(format!("{} · PK half-life", a.name), "h", &pk.half_life_h);
                    r.sourced(format!("{} · PK V/F", a.name), "L/kg", &pk.volume_l_per_kg);
                    r.sourced(
                        format!("{} · PK bioavailability", a.name),
                        "",
                        &pk.bioavailability,
                    );
                }
                if let Some(t) = &a.weight_loss_pct_per_week {
                    r.sourced(format!("{} · body-weight loss", a.name), "%/week", t);
                }
            }
            match &x.caliper.error {
                CaliperError::Diameters { cv } => {
                    r.sourced("calipers · diameter error CV".into(), "", cv)
                }
                CaliperError::LogVolume { sd } => {
                    r.sourced("calipers · log-volume error SD".into(), "", sd)
                }
            }
            r.sourced(
                "calipers · observer bias".into(),
                "",
                &x.caliper.observer_bias,
            );
            r.sourced(
                "calipers · detection floor".into(),
                "mm³",
                &x.caliper.detection_floor_mm3,
            );
            r.param(
                "calipers · width/length ratio".into(),
                "",
                &x.caliper.width_ratio,
            );
            for (name, s) in [
                ("volume", &x.endpoints.max_volume_mm3),
                ("diameter", &x.endpoints.max_diameter_mm),
                ("weight loss", &x.endpoints.max_weight_loss_pct),
            ] {
                if let Some(s) = s {
                    let unit = match name {
                        "volume" => "mm³",
                        "diameter" => "mm",
                        _ => "%",
                    };
                    r.sourced(format!("humane endpoint · {name}"), unit, s);
                }
            }
            r.sourced("attrition".into(), "", &x.husbandry.attrition);
        }
        Body::Derivation(d) => {
            let m = &d.model;
            r.sourced(
                "start concentration".into(),
                "nM",
                &d.start_concentration_nm,
            );
            r.sourced("doubling with E2".into(), "h", &m.doubling_h_with_e2);
            r.sourced("doubling without E2".into(), "h", &m.doubling_h_without_e2);
            r.sourced("death rate".into(), "1/day", &m.death_rate_per_day);
            r.sourced("IC50 sensitive".into(), "nM", &m.ic50_sensitive_nm);
            r.sourced("IC50 resistant".into(), "nM", &m.ic50_resistant_nm);
            r.sourced("Hill".into(), "", &m.hill);
            r.sourced(
                "pre-existing resistant fraction".into(),
                "",
                &m.resistant_fraction,
            );
            r.sourced(
                "switch rate per division".into(),
                "",
                &m.switch_rate_per_division,
            );
            if let Some(f) = &m.intermediate_ic50_factor {
                r.sourced("adapting state IC50 factor".into(), "", f);
            }
            if let Some(v) = &d.validation {
                r.sourced("validation readout noise CV".into(), "", &v.noise_cv);
            }
        }
        Body::Assay(a) => {
            for l in &a.lines {
                r.sourced(format!("{} · IC50", l.name), "nM", &l.ic50_nm);
                r.sourced(format!("{} · Hill", l.name), "", &l.hill);
                r.sourced(format!("{} · doubling", l.name), "h", &l.doubling_h);
                r.param(
                    format!("{} · max inhibition", l.name),
                    "",
                    &l.max_inhibition,
                );
            }
            r.sourced("readout noise CV".into(), "", &a.design.noise_cv);
        }
        Body::Procedure(_) => {}
    }
    r.0
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
                .map(|h| {
                    format!(
                        "{} ({})",
                        h.name,
                        match h.removal {
                            crate::protocol::PelletRemoval::AtRandomization =>
                                "removed at randomization".to_string(),
                            crate::protocol::PelletRemoval::OnStudyDay(d) =>
                                format!("removed on study day {d}"),
                            crate::protocol::PelletRemoval::Never => "not removed".to_string(),
                        }
                    )
                })
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
                .map(|t| {
                    format!(
                        "{} {} {} {} {}",
                        t.agent,
                        fmt(t.dose),
                        t.unit.as_str(),
                        t.route.as_str().to_uppercase(),
                        t.schedule.frequency.label()
                    )
                })
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
        .map(|s| match s.trigger {
            EscalationTrigger::Day(day) => {
                format!("{} nM on day {day}", fmt(s.concentration_nm))
            }
            EscalationTrigger::GrowthRecovered { doubling_h } => format!(
                "{} nM when doubling < {} h",
                fmt(s.concentration_nm),
                fmt(doubling_h)
            ),
        })
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
                .map(|k| format!("{} clones, {} days expansion", k.clones, k.expansion_days))
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
            format!(
                "{}: {} nM",
                d.drug,
                d.doses_nm
                    .iter()
                    .map(|x| fmt(*x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
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
                        "[{}] {}{}",
                        r.id,
                        r.citation,
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
