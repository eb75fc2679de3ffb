//! `xenoplan show FILE`: a readable summary of a protocol — phases, steps, arms and schedules,
//! and every model parameter with its source.

use crate::protocol::{self, *};
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

fn param(p: &Param) -> String {
    let var = match p.variability {
        Variability::None => String::new(),
        Variability::LogNormal { cv } => format!(" (log-normal CV {})", num(cv)),
        Variability::Normal { sd } => format!(" (normal SD {})", num(sd)),
    };
    format!("{}{var}", num(p.value))
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
            let _ = writeln!(o, "  [{}] {}{url}", r.id, r.citation);
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
    match &p.body {
        Body::Xenograft(x) => xeno(&mut o, x),
        Body::Derivation(d) => derivation(&mut o, d),
        Body::Assay(a) => assay(&mut o, a),
        Body::Procedure(pr) => procedure(&mut o, pr),
    }
    o
}

fn xeno(o: &mut String, x: &Xenograft) {
    animals(o, x);
    agents(o, x);
    for c in &x.cohorts {
        cohort(o, c);
    }
    study_rules(o, x);
    analysis_plan(o, x);
    husbandry(o, x);
}

/// Species, strain and the body-weight model.
fn animals(o: &mut String, x: &Xenograft) {
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
    line(
        o,
        2,
        "body-weight-g",
        param(&a.body_weight_g),
        &a.body_weight_g.source,
    );
    line(
        o,
        2,
        "weight-gain-g-per-day",
        num(a.weight_gain_g_per_day.value),
        &a.weight_gain_g_per_day.source,
    );
    line(
        o,
        2,
        "weight-noise-cv",
        num(a.weight_noise_cv.value),
        &a.weight_noise_cv.source,
    );
}

/// Agents with their PK parameters.
fn agents(o: &mut String, x: &Xenograft) {
    let _ = writeln!(o, "\nAgents");
    for ag in &x.agents {
        let v = if ag.vehicle { " (vehicle)" } else { "" };
        let f = if ag.formulation.is_empty() {
            String::new()
        } else {
            format!(" — {}", ag.formulation)
        };
        let _ = writeln!(o, "  {}{v}: {}{f}", ag.name, ag.class);
        if let Some(pk) = &ag.pk {
            line(
                o,
                4,
                "pk.ka-per-h",
                num(pk.ka_per_h.value),
                &pk.ka_per_h.source,
            );
            line(
                o,
                4,
                "pk.half-life-h",
                num(pk.half_life_h.value),
                &pk.half_life_h.source,
            );
            line(
                o,
                4,
                "pk.volume-l-per-kg",
                num(pk.volume_l_per_kg.value),
                &pk.volume_l_per_kg.source,
            );
            line(
                o,
                4,
                "pk.bioavailability",
                num(pk.bioavailability.value),
                &pk.bioavailability.source,
            );
        }
        if let Some(w) = &ag.weight_loss_pct_per_week {
            line(o, 4, "weight-loss-pct-per-week", num(w.value), &w.source);
        }
    }
}

/// One cohort: implantation, hormone, growth, effects, resistant subclone, arms.
fn cohort(o: &mut String, c: &Cohort) {
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
        let rem = match &h.removal {
            PelletRemoval::AtRandomization => "removed at randomization".to_string(),
            PelletRemoval::OnStudyDay(d) => format!("removed on study day {d}"),
            PelletRemoval::Never => "not removed".to_string(),
        };
        let _ = writeln!(
            o,
            "  hormone: {} ({} mg, {} days, implanted day {} vs cells), {rem}",
            h.name,
            num(h.dose_mg),
            num(h.release_days),
            h.implant_offset_days
        );
    }
    line(
        o,
        2,
        "take-rate",
        num(c.take_rate.value),
        &c.take_rate.source,
    );
    line(
        o,
        2,
        "latency-days",
        param(&c.latency_days),
        &c.latency_days.source,
    );
    line(
        o,
        2,
        "growth-without-estrogen",
        num(c.growth_without_estrogen.value),
        &c.growth_without_estrogen.source,
    );
    let _ = writeln!(o, "  growth model: {}", c.growth.name());
    for (name, unit, p) in c.growth.parameters() {
        line(o, 4, &format!("{name} ({unit})"), param(p), &p.source);
    }
    if let GrowthModel::Simeoni { psi, .. } = &c.growth {
        line(o, 4, "psi", num(*psi), "Simeoni et al. 2004");
    }
    for e in &c.effects {
        effect(o, e);
    }
    if let Some(r) = &c.resistant {
        let _ = writeln!(o, "  resistant subclone");
        line(o, 4, "fraction", param(&r.fraction), &r.fraction.source);
        line(
            o,
            4,
            "sensitivity",
            num(r.sensitivity.value),
            &r.sensitivity.source,
        );
        line(
            o,
            4,
            "growth-without-estrogen",
            num(r.growth_without_estrogen.value),
            &r.growth_without_estrogen.source,
        );
    }
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
                "      {} {} {} {} {} ({}){vol}",
                t.agent,
                num(t.dose),
                t.unit.as_str(),
                t.route.as_str().to_uppercase(),
                sched(&t.schedule),
                t.phase
            );
        }
    }
}

/// One drug effect of a cohort (direct or exposure-driven, with user units when given).
fn effect(o: &mut String, e: &DrugEffect) {
    let _ = writeln!(o, "  effect of {} [{}]", e.agent, e.source);
    match &e.mode {
        EffectMode::Direct {
            inhibition,
            kill_rate_per_day,
        } => {
            if let Some(u) = &e.specified_as {
                // The user's number, then the model parameter it was solved to.
                let _ = writeln!(
                    o,
                    "    expected {} {}% at day {} → inhibition {} ({}) [{}]",
                    u.unit.label(),
                    num(u.value),
                    num(u.day),
                    crate::output::fmt_sig_real(inhibition.value, 3),
                    u.solved_for,
                    u.source
                );
            }
            line(o, 4, "inhibition", param(inhibition), &inhibition.source);
            line(
                o,
                4,
                "kill-rate-per-day",
                param(kill_rate_per_day),
                &kill_rate_per_day.source,
            );
        }
        EffectMode::Exposure {
            emax,
            ec50_ng_ml,
            hill,
            target,
        } => match target {
            EffectTarget::Growth => {
                line(o, 4, "emax", param(emax), &emax.source);
                line(o, 4, "ec50-ng-ml", param(ec50_ng_ml), &ec50_ng_ml.source);
                line(o, 4, "hill", num(*hill), &e.source);
            }
            EffectTarget::Kill { k2 } => line(o, 4, "k2 (per ng/mL/day)", param(k2), &k2.source),
        },
    }
}

/// Measurements, enrollment, end of study and calipers.
fn study_rules(o: &mut String, x: &Xenograft) {
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
    for (n, v) in [
        ("max-volume-mm3", &x.endpoints.max_volume_mm3),
        ("max-diameter-mm", &x.endpoints.max_diameter_mm),
        ("max-weight-loss-pct", &x.endpoints.max_weight_loss_pct),
    ] {
        if let Some(v) = v {
            line(o, 2, n, num(v.value), &v.source);
        }
    }
    if !x.end_of_study.is_empty() {
        let _ = writeln!(o, "\nEnd of study");
        for s in &x.end_of_study {
            let _ = writeln!(o, "  - {s}");
        }
    }
    let c = &x.caliper;
    let _ = writeln!(o, "\nCalipers: {:?}", c.formula);
    match &c.error {
        CaliperError::Diameters { cv } => {
            line(o, 2, "error: diameter CV", num(cv.value), &cv.source)
        }
        CaliperError::LogVolume { sd } => {
            line(o, 2, "error: log-volume SD", num(sd.value), &sd.source)
        }
    }
    line(
        o,
        2,
        "observer-bias",
        num(c.observer_bias.value),
        &c.observer_bias.source,
    );
    line(
        o,
        2,
        "detection-floor-mm3",
        num(c.detection_floor_mm3.value),
        &c.detection_floor_mm3.source,
    );
    line(
        o,
        2,
        "width-ratio",
        param(&c.width_ratio),
        &c.width_ratio.source,
    );
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
fn husbandry(o: &mut String, x: &Xenograft) {
    let h = &x.husbandry;
    let _ = writeln!(
        o,
        "\nHusbandry: {} per cage, {}% spare animals, {}% drug overage",
        h.per_cage,
        num(h.spare_fraction * 100.0),
        num(h.drug_overage_fraction * 100.0)
    );
    line(
        o,
        2,
        "attrition",
        num(h.attrition.value),
        &h.attrition.source,
    );
}

fn design(o: &mut String, d: &AssayDesign) {
    let doses: Vec<String> = d.doses_nm.iter().map(|x| num(*x)).collect();
    let _ = writeln!(
        o,
        "  {} at {} nM; {} replicates; {} days; {} cells/well; {}-well plates (edge wells {}, {} blanks/plate, {}); readout {}; edge effect {}",
        d.drug,
        doses.join(", "),
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
    line(o, 2, "noise-cv", num(d.noise_cv.value), &d.noise_cv.source);
}

fn derivation(o: &mut String, d: &Derivation) {
    let _ = writeln!(
        o,
        "\nDerivation: {} → {} under {} for {} days",
        d.parental_line, d.derived_line, d.drug, d.duration_days
    );
    line(
        o,
        2,
        "start-concentration-nm",
        num(d.start_concentration_nm.value),
        &d.start_concentration_nm.source,
    );
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
        let t = match e.trigger {
            EscalationTrigger::Day(day) => format!("on day {day}"),
            EscalationTrigger::GrowthRecovered { doubling_h } => {
                format!("when doubling < {} h", num(doubling_h))
            }
        };
        let _ = writeln!(o, "  escalate to {} nM {t}", num(e.concentration_nm));
    }
    if let Some(cl) = &d.cloning {
        let _ = writeln!(
            o,
            "  single-cell cloning: {} clones, {} days expansion",
            cl.clones, cl.expansion_days
        );
    }
    if let Some(v) = &d.validation {
        let _ = writeln!(o, "  validation assay:");
        design(o, v);
    }
    let m = &d.model;
    let _ = writeln!(o, "  model");
    for (n, s) in [
        ("doubling-h-with-e2", &m.doubling_h_with_e2),
        ("doubling-h-without-e2", &m.doubling_h_without_e2),
        ("death-rate-per-day", &m.death_rate_per_day),
        ("ic50-sensitive-nm", &m.ic50_sensitive_nm),
        ("ic50-resistant-nm", &m.ic50_resistant_nm),
        ("hill", &m.hill),
        ("resistant-fraction", &m.resistant_fraction),
        ("switch-rate-per-division", &m.switch_rate_per_division),
    ] {
        line(o, 4, n, num(s.value), &s.source);
    }
    if let Some(f) = &m.intermediate_ic50_factor {
        line(o, 4, "intermediate-ic50-factor", num(f.value), &f.source);
    }
}

fn assay(o: &mut String, a: &Assay) {
    let _ = writeln!(o, "\nAssay medium: {}", a.medium);
    for l in &a.lines {
        let _ = writeln!(o, "  line {}", l.name);
        line(o, 4, "ic50-nm", num(l.ic50_nm.value), &l.ic50_nm.source);
        line(o, 4, "hill", num(l.hill.value), &l.hill.source);
        line(
            o,
            4,
            "doubling-h",
            num(l.doubling_h.value),
            &l.doubling_h.source,
        );
        line(
            o,
            4,
            "max-inhibition",
            param(&l.max_inhibition),
            &l.max_inhibition.source,
        );
    }
    let _ = writeln!(o, "  design:");
    design(o, &a.design);
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
