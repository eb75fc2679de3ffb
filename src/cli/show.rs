//! `xenoplan show FILE`: a readable summary of a protocol — phases, steps, arms and schedules,
//! and every model parameter with its source.

use crate::protocol::view::{ViewNode, ViewValue, protocol_view};
use crate::protocol::{self, *};
use crate::report::summary::{citation_text, cloning_text, dose_text, doses_text, escalation_text};
use std::fmt::Write;
use std::path::PathBuf;

/// Arguments of `xenoplan show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Protocol file.
    pub file: PathBuf,
}

/// Runs `xenoplan show`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let l = protocol::load(&args.file)?;
    for w in &l.warnings {
        diag!("{w}");
    }
    out!("{}", summary(&l));
    Ok(())
}

/// Number without trailing zeros noise.
use crate::output::fmt_value as num;

fn value(v: &ViewValue) -> String {
    let var = match v.variability {
        Variability::None => String::new(),
        Variability::LogNormal { cv } => format!(" (log-normal CV {})", num(cv)),
        Variability::Normal { sd } => format!(" (normal SD {})", num(sd)),
    };
    format!("{}{var}", num(v.value))
}

/// Renders view nodes at `indent`: a value as one [`line`] under its protocol key, a group as
/// its heading, its notes and its children two columns deeper.
fn nodes(o: &mut String, indent: usize, nodes: &[ViewNode]) {
    let pad = " ".repeat(indent);
    for n in nodes {
        match &n.value {
            Some(v) => line(o, indent, &n.key, value(v), &v.source),
            None => {
                let _ = writeln!(o, "{pad}{}", n.heading);
                for note in &n.notes {
                    let _ = writeln!(o, "{pad}  {note}");
                }
                self::nodes(o, indent + 2, &n.children);
            }
        }
    }
}

/// The values of the view's top-level group `key`, at `indent`.
fn group(o: &mut String, indent: usize, view: &[ViewNode], key: &str) {
    if let Some(g) = ViewNode::find(view, key) {
        nodes(o, indent, &g.children);
    }
}

/// One parameter line: name, value, source.
fn line(out: &mut String, indent: usize, name: &str, value: String, source: &str) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}{name:<26} {value:<28} [{source}]");
}

fn sched(s: &Schedule) -> String {
    let mut t = s.frequency.label();
    if s.frequency == Frequency::Once {
        t = format!("once, day {}", s.start_day);
    } else {
        let end = s
            .end_day
            .map(|e| e.to_string())
            .unwrap_or_else(|| "end".into());
        t.push_str(&format!(", days {}–{end}", s.start_day));
    }
    if !s.times.is_empty() {
        let times: Vec<String> = s
            .times
            .iter()
            .map(|x| x.strftime("%H:%M").to_string())
            .collect();
        t.push_str(&format!(" at {}", times.join(", ")));
    }
    t
}

/// The whole summary as text.
pub fn summary(l: &Loaded) -> String {
    let p = &l.protocol;
    let mut o = String::new();
    let _ = writeln!(o, "{} — {}", p.id, p.title);
    let _ = writeln!(
        o,
        "kind: {}   file: {}",
        p.kind().as_str(),
        l.path.display()
    );
    if !p.description.trim().is_empty() {
        let _ = writeln!(o, "\n{}", p.description.trim());
    }
    if !p.references.is_empty() {
        let _ = writeln!(o, "\nReferences");
        for r in &p.references {
            let url = r
                .url
                .as_ref()
                .map(|u| format!(" <{u}>"))
                .unwrap_or_default();
            let _ = writeln!(o, "  {}{url}", citation_text(r));
        }
    }
    let _ = writeln!(o, "\nPhases");
    for (i, ph) in p.phases.iter().enumerate() {
        let end = match &ph.end {
            PhaseEnd::Fixed { days } => format!("{days} days"),
            PhaseEnd::Until {
                measurement,
                min,
                max,
                max_wait_days,
            } => {
                format!(
                    "until `{measurement}` in {}–{} (max wait {max_wait_days} days)",
                    num(*min),
                    num(*max)
                )
            }
        };
        let d0 = if ph.day0 { "  ← study day 0" } else { "" };
        let _ = writeln!(o, "  {}. {:<20} {end}{d0}", i + 1, ph.name);
    }
    if !p.steps.is_empty() {
        let _ = writeln!(o, "\nSteps");
        for s in &p.steps {
            let scope = match &s.scope {
                Scope::All => String::new(),
                Scope::Cohort(c) => format!(" [cohort {c}]"),
                Scope::Arm { cohort, arm } => format!(" [{cohort} / {arm}]"),
            };
            let _ = writeln!(
                o,
                "  {:<26} {:<15} {}: {}{scope}",
                s.name,
                s.kind.as_str(),
                s.phase,
                sched(&s.schedule)
            );
        }
    }
    let _ = writeln!(
        o,
        "\nCalendar: weekends {:?}, {} holiday(s)",
        p.calendar.weekend,
        p.calendar.holidays.len()
    );
    let view = protocol_view(p);
    match &p.body {
        Body::Xenograft(x) => xeno(&mut o, x, &view),
        Body::Derivation(d) => derivation(&mut o, d, &view),
        Body::Assay(a) => assay(&mut o, a, &view),
        Body::Procedure(pr) => procedure(&mut o, pr),
    }
    o
}

fn xeno(o: &mut String, x: &Xenograft, view: &[ViewNode]) {
    animals(o, x, view);
    agents(o, x, view);
    for c in &x.cohorts {
        cohort(o, c, view);
    }
    study_rules(o, x, view);
    analysis_plan(o, x);
    husbandry(o, x, view);
}

/// Species, strain and the body-weight model.
fn animals(o: &mut String, x: &Xenograft, view: &[ViewNode]) {
    let a = &x.animals;
    let _ = writeln!(
        o,
        "\nAnimals: {} {}, {}{}{}",
        a.species,
        a.strain,
        a.sex,
        if a.ovariectomized {
            ", ovariectomized"
        } else {
            ""
        },
        a.age_weeks
            .map(|w| format!(", {} weeks", num(w)))
            .unwrap_or_default()
    );
    group(o, 2, view, "animals");
}

/// Agents with their PK parameters.
fn agents(o: &mut String, x: &Xenograft, view: &[ViewNode]) {
    let _ = writeln!(o, "\nAgents");
    for ag in &x.agents {
        let v = if ag.vehicle { " (vehicle)" } else { "" };
        let f = if ag.formulation.is_empty() {
            String::new()
        } else {
            format!(" — {}", ag.formulation)
        };
        let _ = writeln!(o, "  {}{v}: {}{f}", ag.name, ag.class);
        group(o, 4, view, &format!("agents.{}", ag.name));
        if let (Some(_), Some(r)) = (&ag.weight_loss_pct_per_week, &ag.weight_loss_reference) {
            let _ = writeln!(
                o,
                "    body-weight loss holds at {} {} and scales with dose / {} {} (ln weight falls by ln(1 − loss/100)/7 × dose/reference per dosing day)",
                num(r.dose),
                r.unit.as_str(),
                num(r.dose),
                r.unit.as_str()
            );
        }
    }
}

/// One cohort: implantation, hormone, growth, effects, resistant subclone, arms.
fn cohort(o: &mut String, c: &Cohort, view: &[ViewNode]) {
    let mt = match c.model_type {
        TumorModelType::CellLine => "cell line",
        TumorModelType::Pdx => "PDX",
    };
    let _ = writeln!(o, "\nCohort {} ({mt}: {})", c.name, c.line);
    let im = &c.implantation;
    let cells = im
        .cells
        .map(|n| format!("{} cells, ", num(n)))
        .unwrap_or_else(|| "fragment, ".into());
    let _ = writeln!(
        o,
        "  implantation: {cells}{}% Matrigel, {} µL, {}{}",
        num(im.matrigel_fraction * 100.0),
        num(im.volume_ul),
        im.site,
        im.animals
            .map(|n| format!(", {n} animals"))
            .unwrap_or_default()
    );
    if let Some(h) = &c.hormone {
        let rem = match (&h.kind, &h.removal) {
            (HormoneKind::Pellet { .. }, r) => r.describe(),
            (_, PelletRemoval::AtRandomization) => "stopped at randomization".into(),
            (_, PelletRemoval::OnStudyDay(d)) => format!("stopped on study day {d}"),
            (_, PelletRemoval::Never) => "until the end of the study".into(),
        };
        let _ = writeln!(o, "  hormone: {} ({}), {rem}", h.name, h.describe());
    }
    group(o, 2, view, &format!("cohorts.{}", c.name));
    let _ = writeln!(o, "  arms");
    for a in &c.arms {
        let ctl = if a.control { " [control]" } else { "" };
        let inter = if a.interaction != 0.0 {
            format!(
                ", interaction {} beyond Bliss on rates (combined rate b_A + b_B − b_C − interaction·b_C)",
                num(a.interaction)
            )
        } else {
            String::new()
        };
        let _ = writeln!(o, "    {}{ctl}: n = {}{inter}", a.name, a.n);
        for t in &a.treatments {
            let vol = t
                .volume_ml_per_kg
                .map(|v| format!(", {} mL/kg", num(v)))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "      {} {} ({}){vol}",
                dose_text(t),
                sched(&t.schedule),
                t.phase
            );
        }
    }
}

/// Measurements, enrollment, end of study and calipers.
fn study_rules(o: &mut String, x: &Xenograft, view: &[ViewNode]) {
    let _ = writeln!(o, "\nMeasurements");
    for m in &x.measurements {
        let _ = writeln!(
            o,
            "  {} ({:?}): {} in {}",
            m.name,
            m.kind,
            sched(&m.schedule),
            m.phases.join(", ")
        );
    }
    let e = &x.enrollment;
    let max = if e.max_mm3 >= f64::MAX {
        "∞".to_string()
    } else {
        num(e.max_mm3)
    };
    let _ = writeln!(
        o,
        "\nEnrollment: {}–{max} mm³, max wait {} days, {:?} randomization, {:?}",
        num(e.min_mm3),
        e.max_wait_days,
        e.randomization,
        e.mode
    );
    let _ = writeln!(
        o,
        "\nEndpoints (event volume {} mm³)",
        num(x.endpoints.event_volume_mm3)
    );
    group(o, 2, view, "endpoints");
    if !x.end_of_study.is_empty() {
        let _ = writeln!(o, "\nEnd of study");
        for s in &x.end_of_study {
            let _ = writeln!(o, "  - {s}");
        }
    }
    if let Some(r) = &x.study_stop {
        let control = x
            .cohorts
            .first()
            .map_or("control", |c| c.control().name.as_str());
        let _ = writeln!(
            o,
            "\nStudy stop: the fixed end of the phases or {}, whichever comes first (per cohort; each cohort's own `{}` arm)",
            r.describe(control),
            r.arm.as_deref().unwrap_or("control")
        );
    }
    if let Some(m) = &x.dose_modification {
        let _ = writeln!(
            o,
            "\nDose modification ({}): loss ≥ {}% from day 0 → {}-day dosing holiday, then {}% of the dose; at most {} holiday(s), then dosing stops",
            if m.arms.is_empty() {
                "every arm with a drug".to_string()
            } else {
                m.arms.join(", ")
            },
            num(m.weight_loss_pct.value),
            m.holiday_days,
            num(m.resume_dose_fraction * 100.0),
            m.max_holidays
        );
        group(o, 2, view, "dose-modification");
    }
    let c = &x.caliper;
    let _ = writeln!(o, "\nCalipers: {:?}", c.formula);
    group(o, 2, view, "caliper");
}

/// Tests, α, target power and the declared hypotheses.
fn analysis_plan(o: &mut String, x: &Xenograft) {
    let an = &x.analysis;
    let _ = writeln!(
        o,
        "\nAnalysis: tests {}; alpha {}; adjustment {}; analysis day {}; target power {}",
        an.tests
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        num(an.alpha),
        an.adjust.as_str(),
        an.analysis_day
            .map(num)
            .unwrap_or_else(|| "last day with ≥ 80% of controls".into()),
        num(an.target_power)
    );
    if an.hypotheses.is_empty() {
        let _ = writeln!(
            o,
            "  hypotheses: none declared — each arm vs its cohort's control on every test, Holm within each cohort and test"
        );
    }
    for h in &an.hypotheses {
        let method = an
            .families
            .iter()
            .find(|f| f.name == h.family)
            .map_or(an.adjust, |f| f.adjust);
        let _ = writeln!(
            o,
            "  hypothesis `{}`: {} [{}]{}; tests {}; alternative {}; {}; family `{}` ({})",
            h.name,
            h.kind.as_str(),
            h.arms.join(", "),
            h.cohort
                .as_ref()
                .map(|c| format!(" in cohort {c}"))
                .unwrap_or_default(),
            h.tests
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            match h.alternative {
                crate::protocol::Alternative::TwoSided => "two-sided",
                crate::protocol::Alternative::Greater => "greater benefit of the first arm",
                crate::protocol::Alternative::Less => "less benefit of the first arm",
            },
            h.role.as_str(),
            h.family,
            method.as_str()
        );
    }
}

/// Cages and attrition.
fn husbandry(o: &mut String, x: &Xenograft, view: &[ViewNode]) {
    let h = &x.husbandry;
    let _ = writeln!(
        o,
        "\nHusbandry: {} per cage, {}% spare animals, {}% drug overage",
        h.per_cage,
        num(h.spare_fraction * 100.0),
        num(h.drug_overage_fraction * 100.0)
    );
    group(o, 2, view, "husbandry");
}

/// The plate design line, then its sourced values (the view group `key`).
fn design(o: &mut String, d: &AssayDesign, view: &[ViewNode], key: &str) {
    let _ = writeln!(
        o,
        "  {} at {} nM; {} replicates; {} days; {} cells/well; {}-well plates (edge wells {}, {} blanks/plate, {}); readout {}; edge effect {}",
        d.drug,
        doses_text(d),
        d.replicates,
        num(d.duration_days),
        num(d.seeding_cells),
        d.plate_wells,
        match d.layout.edges {
            EdgeWells::Samples => "samples",
            EdgeWells::Pbs => "PBS",
        },
        d.layout.blank_wells,
        match d.layout.arrangement {
            Arrangement::Packed => "packed",
            Arrangement::LinePerPlate => "one line per plate",
        },
        d.readout.as_str(),
        num(d.edge_effect)
    );
    group(o, 2, view, key);
}

fn derivation(o: &mut String, d: &Derivation, view: &[ViewNode]) {
    let _ = writeln!(
        o,
        "\nDerivation: {} → {} under {} for {} days",
        d.parental_line, d.derived_line, d.drug, d.duration_days
    );
    group(o, 2, view, "derivation");
    let c = &d.culture;
    let sub = match (&c.substrate, c.substrate_nm) {
        (Some(s), Some(n)) => format!(" + {} {} nM", s, num(n)),
        (Some(s), None) => format!(" + {s}"),
        _ => String::new(),
    };
    let _ = writeln!(o, "  culture: {} + {}{sub}", c.medium, c.serum);
    let _ = writeln!(
        o,
        "  {} with {} mL; seed {} cells, confluent at {}; passage at {}% confluence, split 1:{}; medium change every {} days",
        c.vessel,
        num(c.medium_ml),
        num(c.seeding_cells),
        num(c.confluent_cells),
        num(c.passage_at_confluence * 100.0),
        num(c.split_ratio),
        c.medium_change_days
    );
    for e in &d.escalation {
        let _ = writeln!(o, "  escalate to {}", escalation_text(e));
    }
    if let Some(cl) = &d.cloning {
        let _ = writeln!(o, "  single-cell cloning: {}", cloning_text(cl));
    }
    if let Some(v) = &d.validation {
        let _ = writeln!(o, "  validation assay:");
        design(o, v, view, "derivation.validation");
    }
    if let Some(ch) = &d.checks {
        let days: Vec<String> = ch.days.iter().map(u32::to_string).collect();
        let target = ch
            .target_fold_shift
            .map(|t| format!("; target fold shift {}x", num(t)))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  IC50 checks (validation assay on the current population) on days {}{target}",
            days.join(", ")
        );
    }
    let _ = writeln!(o, "  model");
    group(o, 4, view, "derivation.model");
}

fn assay(o: &mut String, a: &Assay, view: &[ViewNode]) {
    let _ = writeln!(o, "\nAssay medium: {}", a.medium);
    for l in &a.lines {
        let _ = writeln!(o, "  line {}", l.name);
        group(o, 4, view, &format!("lines.{}", l.name));
    }
    let _ = writeln!(o, "  design:");
    design(o, &a.design, view, "design");
}

fn procedure(o: &mut String, p: &Procedure) {
    let _ = writeln!(o, "\nProcedure: {} samples", p.samples);
    for t in &p.tasks {
        let after = if t.after.is_empty() {
            String::new()
        } else {
            format!(" after {}", t.after.join(", "))
        };
        let _ = writeln!(
            o,
            "  {:<24} {} d, {} h hands-on{after}",
            t.name,
            num(t.duration_days),
            num(t.hands_on_h)
        );
        if !t.details.is_empty() {
            let _ = writeln!(o, "      {}", t.details);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `show` and the report's parameter table render the same view: on every bundled
    /// protocol each value of the view is one `show` line (key, value, source) and one report
    /// row with the same number and source.
    #[test]
    fn show_and_report_print_every_value_of_the_view() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols");
        let mut checked = 0;
        for e in std::fs::read_dir(dir).expect("protocols/").flatten() {
            let path = e.path();
            if path.extension().and_then(|s| s.to_str()) != Some("toml") {
                continue;
            }
            let l = protocol::load(&path).expect("bundled protocol loads");
            let text = summary(&l);
            let rows = crate::report::summary::parameter_rows(&l.protocol);
            let view = protocol_view(&l.protocol);
            let leaves = ViewNode::leaves(&view);
            assert_eq!(rows.len(), leaves.len(), "{}", path.display());
            for ((labels, n), row) in leaves.iter().zip(&rows) {
                let v = n.value.as_ref().expect("leaf");
                let mut shown = String::new();
                line(&mut shown, 0, &n.key, value(v), &v.source);
                assert!(
                    text.contains(shown.trim_end()),
                    "{}: show lacks {shown:?}",
                    path.display()
                );
                assert_eq!(row.name, labels.join(" · "));
                assert!(row.value.starts_with(&num(v.value)), "{row:?}");
                assert_eq!(row.source, v.source);
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} values checked");
    }
}
