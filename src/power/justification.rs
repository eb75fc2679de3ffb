//! The sample-size justification paragraph for an ethics committee / IACUC: what was assumed
//! (every effect as TGI% at the analysis day with the parameter it comes from, the
//! variability, attrition), what was simulated (the n grid, the replicates), what was asked
//! (the primary hypothesis, the expected-null controls) and what it gives (n, animals).

use super::assumed::{ArmAssumption, arm_assumptions, effect_day};
use super::design::Settings;
use super::results::PowerResult;
use super::units::{Unit, UnitPlan};
use crate::output::fmt_value as fmt_sig;
use crate::protocol::{
    Adjustment, CaliperError, Cohort, DrugEffect, EffectMode, EffectTarget, Expectation,
    HypothesisKind, Param, Protocol, Variability, Xenograft,
};

/// The sample-size justification paragraph.
pub fn justification(
    protocol: &Protocol,
    settings: &Settings,
    units: &UnitPlan,
    r: &PowerResult,
) -> String {
    let Some(x) = protocol.xenograft() else {
        return String::new();
    };
    let assumed = effect_day(protocol)
        .map(|d| arm_assumptions(protocol, d))
        .unwrap_or_default();
    let model: Vec<String> = x
        .cohorts
        .iter()
        .map(|c| cohort_text(x, c, &assumed))
        .collect();
    let parts = [
        format!(
            "Sample-size justification. Group sizes were determined by Monte Carlo simulation with xenoplan {} (protocol \"{}\", id {}).",
            env!("CARGO_PKG_VERSION"),
            protocol.title,
            protocol.id
        ),
        effect_day_text(protocol),
        format!(
            "Tumor growth was simulated animal by animal — {}.",
            model.join(" | ")
        ),
        variability_text(x),
        format!(
            "Group sizes simulated: n = {} animals per arm; {} complete studies per n (seed {}; random streams xoshiro256++ per replicate).",
            n_grid_text(&settings.n_values),
            settings.reps,
            settings.seed
        ),
        format!(
            "{} at α = {}, {}. The target power was {}.",
            questions_text(x, settings, units),
            settings.alpha,
            families_text(units),
            settings.target
        ),
        expected_null_text(x, units, r, &assumed),
        format!("Results — {}.", findings_text(r).join("; ")),
        format!("{}.", plans_text(x, settings, r)),
        uncomputable_text(units, r),
        "Power estimates are proportions of significant simulated studies with Wilson 95% confidence intervals.".into(),
    ];
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A model parameter with its between-animal variability and source; a log-normal CV also
/// as the SD of ln (√ln(1 + CV²), the SD the simulator draws with).
pub(crate) fn param_text(name: &str, p: &Param) -> String {
    let var = match p.variability {
        Variability::None => String::new(),
        Variability::LogNormal { cv } => format!(
            ", log-normal between-animal CV {:.0}% (SD of ln {:.3})",
            cv * 100.0,
            (1.0 + cv * cv).ln().sqrt()
        ),
        Variability::Normal { sd } => format!(", between-animal SD {sd:.4}"),
    };
    format!("{name} {}{var} ({})", fmt_sig(p.value), p.source)
}

/// One cohort: its growth model, take rate and, per treated arm, the assumed effect.
fn cohort_text(x: &Xenograft, c: &Cohort, assumed: &[ArmAssumption]) -> String {
    let params: Vec<String> = c
        .growth
        .parameters()
        .into_iter()
        .map(|(name, unit, p)| param_text(&format!("{name} ({unit})"), p))
        .collect();
    let arms: Vec<String> = c
        .arms
        .iter()
        .filter(|a| !a.control)
        .map(|a| {
            let found = assumed
                .iter()
                .find(|s| s.cohort == c.name && s.arm == a.name);
            arm_text(x, c, a, found)
        })
        .collect();
    format!(
        "{}: {} growth with {}; take rate {} ({}); assumed effects vs `{}`: {}",
        c.name,
        c.growth.name(),
        params.join(", "),
        fmt_sig(c.take_rate.value),
        c.take_rate.source,
        c.control().name,
        if arms.is_empty() {
            "none".into()
        } else {
            arms.join("; ")
        }
    )
}

/// One arm: "arm: TGI 61% at day 28 (typical tumor), from agent: parameters, …".
fn arm_text(
    x: &Xenograft,
    c: &Cohort,
    a: &crate::protocol::Arm,
    s: Option<&ArmAssumption>,
) -> String {
    let sources: Vec<String> = a
        .treatments
        .iter()
        .filter_map(|t| c.effect(&t.agent).map(|e| effect_params(x, t, e)))
        .collect();
    let head = match s {
        Some(ArmAssumption {
            tgi_pct: Some(tgi),
            day,
            ..
        }) => format!("TGI {}% at day {}", fmt_sig(*tgi), fmt_sig(*day)),
        Some(ArmAssumption { note: Some(n), .. }) => n.clone(),
        _ => "TGI not computed (no fixed analysis day or end of treatment)".into(),
    };
    let mean = match s {
        Some(s) if s.exposure && s.tgi_pct.is_some() => format!(
            "; time-averaged growth-rate inhibition {} over days 0–{}",
            fmt_sig(s.inhibition),
            fmt_sig(s.day)
        ),
        _ => String::new(),
    };
    if sources.is_empty() {
        return format!("{}: no drug effect in the model", a.name);
    }
    format!("{}: {head}, from {}{mean}", a.name, sources.join(" and "))
}

/// The model parameters of one agent's effect in one arm.
fn effect_params(x: &Xenograft, t: &crate::protocol::Treatment, e: &DrugEffect) -> String {
    match &e.mode {
        EffectMode::Direct {
            inhibition,
            kill_rate_per_day,
        } => {
            let mut s = format!(
                "{} {}",
                e.agent,
                param_text("growth-rate inhibition", inhibition)
            );
            if kill_rate_per_day.value > 0.0 {
                s.push_str(&format!(
                    ", {}",
                    param_text("kill rate (1/day)", kill_rate_per_day)
                ));
            }
            s
        }
        EffectMode::Exposure {
            emax,
            ec50_ng_ml,
            hill,
            target,
        } => {
            let regimen = format!(
                "{} {} {} {}",
                fmt_sig(t.dose),
                t.unit.as_str(),
                t.route.as_str().to_uppercase(),
                t.schedule.frequency.label()
            );
            let pk = x
                .agent(&e.agent)
                .and_then(|a| a.pk.as_ref())
                .map_or(String::new(), |pk| {
                    format!(
                        " (PK: t½ {} h, V/F {} L/kg, F {})",
                        fmt_sig(pk.half_life_h.value),
                        fmt_sig(pk.volume_l_per_kg.value),
                        fmt_sig(pk.bioavailability.value)
                    )
                });
            match target {
                EffectTarget::Growth => format!(
                    "{} at {regimen}{pk}, exposure-driven: {}, {}, Hill {}",
                    e.agent,
                    param_text("Emax", emax),
                    param_text("EC50 (ng/mL)", ec50_ng_ml),
                    fmt_sig(*hill)
                ),
                EffectTarget::Kill { k2 } => format!(
                    "{} at {regimen}{pk}, exposure-driven Simeoni kill: {}",
                    e.agent,
                    param_text("k2 ((ng/mL)⁻¹/day)", k2)
                ),
            }
        }
    }
}

/// How the TGI of the assumed effects is defined and on which day.
fn effect_day_text(protocol: &Protocol) -> String {
    let Some(x) = protocol.xenograft() else {
        return String::new();
    };
    let Some(day) = effect_day(protocol) else {
        return String::new();
    };
    let which = if x.analysis.analysis_day.is_some() {
        format!("the analysis day {}", fmt_sig(day))
    } else {
        format!(
            "day {} (end of treatment; the analysis day itself is set from the data: the last day with ≥ 80% of control animals on study)",
            fmt_sig(day)
        )
    };
    format!(
        "Assumed effects are stated as TGI% = (1 − ΔT/ΔC)·100 of the cohort's typical tumor (every parameter at its typical value, Δ from randomization) at {which}; for exposure-driven agents through the typical animal's concentration over the arm's schedule."
    )
}

/// The assumed variability: between animals (the CVs above) and of the measurement.
fn variability_text(x: &Xenograft) -> String {
    let caliper = match &x.caliper.error {
        CaliperError::LogVolume { sd } => format!(
            "log-normal caliper error of the volume, SD of ln V {} ({})",
            fmt_sig(sd.value),
            sd.source
        ),
        CaliperError::Diameters { cv } => format!(
            "caliper error CV {} per diameter ({}), i.e. SD of ln V ≈ {} (√5·CV: V ∝ L·W²)",
            fmt_sig(cv.value),
            cv.source,
            fmt_sig(5f64.sqrt() * cv.value)
        ),
    };
    format!(
        "Variability assumed: between animals, the CVs above (and {}); measurement, {caliper}.",
        param_text("a width/length ratio", &x.caliper.width_ratio)
    )
}

/// The group sizes simulated, every one named: "4, 6, 8, 10, 12"; a contiguous run of more
/// than five as "3, 4, …, 15 (every n)".
pub(crate) fn n_grid_text(n: &[u32]) -> String {
    let all: Vec<String> = n.iter().map(|v| v.to_string()).collect();
    match n {
        [] => "none".into(),
        [a, b, .., z] if n.len() > 5 && n.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("{a}, {b}, …, {z} (every n)")
        }
        _ => all.join(", "),
    }
}

/// The questions tested: the default comparisons, or the primary hypotheses with their
/// sizing test and their other tests.
fn questions_text(x: &Xenograft, settings: &Settings, units: &UnitPlan) -> String {
    let day_text = match x.analysis.analysis_day {
        Some(d) => format!("day {d}"),
        None => "the last day with ≥ 80% of control animals on study".to_string(),
    };
    let describe = |u: &Unit| {
        u.test
            .test_description()
            .replace("the analysis day", &day_text)
    };
    if units.plan.defaults {
        return format!(
            "Each treatment arm was compared with its control by a {}",
            settings.endpoints[0]
                .test_description()
                .replace("the analysis day", &day_text)
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for u in units.units.iter().filter(|u| u.sizing) {
        let others: Vec<&str> = units
            .units
            .iter()
            .filter(|o| o.hypothesis == u.hypothesis && o.cohort == u.cohort && !o.sizing)
            .map(|o| o.test.as_str())
            .collect();
        let also = if others.is_empty() {
            String::new()
        } else {
            format!("; also tested, not sized on: {}", others.join(", "))
        };
        let text = format!(
            "{} ({}; {}: {}, {}{also})",
            u.hypothesis,
            u.kind.as_str(),
            comparison_words(x, u),
            describe(u),
            u.alternative.as_str()
        );
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    format!(
        "The primary hypothesis{} tested: {}",
        if seen.len() == 1 { " was" } else { "es were" },
        seen.join("; ")
    )
}

/// The arms a unit compares, in words ("TamR-MCF-7: tamoxifen vs vehicle").
fn comparison_words(x: &Xenograft, u: &Unit) -> String {
    let c = &x.cohorts[u.cohort];
    let name = |i: usize| c.arms.get(i).map_or("?", |a| a.name.as_str());
    let arms: Vec<&str> = u.arms.iter().map(|&i| name(i)).collect();
    let (head, rest) = match arms.split_first() {
        Some((h, r)) => (*h, r.join(" and ")),
        None => ("?", String::new()),
    };
    let what = match u.kind {
        HypothesisKind::VsControl => format!("{} vs {}", arms.join(", "), name(u.control)),
        HypothesisKind::Pairwise | HypothesisKind::CombinationVsComponents => {
            format!("{head} vs {rest}")
        }
        HypothesisKind::DoseTrend => format!("trend over {}", arms.join(" < ")),
        HypothesisKind::Synergy => format!("{head} over {rest}"),
        HypothesisKind::Panel => arms.join(" vs "),
    };
    format!("{}: {what}", c.name)
}

/// The expected-null controls (`expected = "null"`): named, with the effect the model still
/// gives them and how often they reject at the planned n.
fn expected_null_text(
    x: &Xenograft,
    units: &UnitPlan,
    r: &PowerResult,
    assumed: &[ArmAssumption],
) -> String {
    let null_units: Vec<&Unit> = units
        .units
        .iter()
        .filter(|u| {
            x.analysis
                .hypotheses
                .iter()
                .any(|h| h.name == u.hypothesis && h.expected == Expectation::Null)
        })
        .collect();
    if null_units.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = null_units
        .iter()
        .map(|u| null_unit_text(x, u, r, assumed))
        .collect();
    format!(
        "Expected-null control{} (reported, not sized on; a rejection rate above α means the model gives the arm an effect): {}.",
        if parts.len() == 1 { "" } else { "s" },
        parts.join("; ")
    )
}

/// One expected-null unit: its comparison, the model's effect for the first arm, the
/// rejection rate at the cohort's planned n (else the largest simulated n).
fn null_unit_text(x: &Xenograft, u: &Unit, r: &PowerResult, assumed: &[ArmAssumption]) -> String {
    let c = &x.cohorts[u.cohort];
    let first = u.arms.first().and_then(|&i| c.arms.get(i));
    let effect = first
        .and_then(|a| {
            assumed
                .iter()
                .find(|s| s.cohort == c.name && s.arm == a.name)
        })
        .and_then(|s| s.tgi_pct.map(|t| (t, s.day)))
        .map_or(String::new(), |(t, d)| {
            format!(
                "; the model assumes TGI {}% at day {} for `{}`",
                fmt_sig(t),
                fmt_sig(d),
                first.map_or("", |a| a.name.as_str())
            )
        });
    let n = r
        .animal_plans
        .iter()
        .find(|p| p.cohort == c.name)
        .map(|p| p.n_per_arm)
        .or_else(|| r.n_values.last().copied());
    let row_at = |n: Option<u32>| {
        r.rows.iter().find(|row| {
            row.comparison == u.label && row.endpoint == u.test.as_str() && Some(row.n_per_arm) == n
        })
    };
    let pct = |row: &super::results::PowerRow| {
        format!(
            "n = {} per arm in {:.1}% (95% CI {:.1}–{:.1}%)",
            row.n_per_arm,
            row.power * 100.0,
            row.ci_low * 100.0,
            row.ci_high * 100.0
        )
    };
    let mut at: Vec<String> = row_at(n).into_iter().map(pct).collect();
    let largest = r.n_values.last().copied();
    if largest != n {
        at.extend(row_at(largest).map(pct));
    }
    let rate = if at.is_empty() {
        String::new()
    } else {
        format!(
            "; {} rejects at {} of simulated studies",
            u.test.as_str(),
            at.join(" and at ")
        )
    };
    format!(
        "`{}` ({}) is expected not to differ{effect}{rate}",
        u.hypothesis,
        comparison_words(x, u)
    )
}

/// One finding per sizing recommendation: n and power, or the best the grid reached.
fn findings_text(r: &PowerResult) -> Vec<String> {
    r.recommendations
        .iter()
        .filter(|x| x.sizing)
        .map(|rec| match (rec.n_per_arm, rec.power, rec.ci) {
            (Some(n), Some(p), Some((lo, hi))) => format!(
                "{} ({}): n = {n} per arm gives a simulated power of {:.3} (95% CI {:.3}–{:.3})",
                rec.comparison, rec.endpoint, p, lo, hi
            ),
            _ => {
                let last = r
                    .rows
                    .iter()
                    .chain(&r.joint_rows)
                    .rfind(|row| row.comparison == rec.comparison && row.endpoint == rec.endpoint);
                match last {
                    Some(row) => format!(
                        "{} ({}): the target is not reached within n ≤ {} (power {:.3} at n = {}, 95% CI {:.3}–{:.3})",
                        rec.comparison, rec.endpoint, row.n_per_arm, row.power, row.n_per_arm, row.ci_low, row.ci_high
                    ),
                    None => format!("{}: no result", rec.comparison),
                }
            }
        })
        .collect()
}

/// Animals per cohort at the recommended n, with attrition (and its source), take, yield and
/// spares.
fn plans_text(x: &Xenograft, settings: &Settings, r: &PowerResult) -> String {
    let n_hi = settings.n_values.last().copied().unwrap_or(0);
    let attrition = &x.husbandry.attrition;
    let plans: Vec<String> = r
        .animal_plans
        .iter()
        .map(|p| {
            format!(
                "{}: {} arms × {} evaluable animals; allowing for a non-endpoint attrition of {:.0}% ({}; not simulated, covered by enrolling {} per arm, {} randomized), a take rate of {:.0}%, an enrollment yield of {:.0}% ({}) and a {:.0}% spare margin, {} animals will be implanted",
                p.cohort,
                p.arms,
                p.n_per_arm,
                p.attrition * 100.0,
                attrition.source,
                p.enrolled_per_arm,
                p.enrolled_total,
                p.take_rate * 100.0,
                p.enrollment_yield * 100.0,
                p.yield_source,
                p.spare_fraction * 100.0,
                p.implant_total
            ) + &if p.underpowered.is_empty() {
                String::new()
            } else {
                format!(
                    " (this n does not power {}, which would need more than {} per arm)",
                    p.underpowered.join(", "),
                    n_hi
                )
            }
        })
        .collect();
    if plans.is_empty() {
        "No cohort to size".into()
    } else {
        plans.join("; ")
    }
}

/// Units whose test could not be computed in some simulated studies.
fn uncomputable_text(units: &UnitPlan, r: &PowerResult) -> String {
    let parts: Vec<String> = units
        .units
        .iter()
        .filter_map(|u| {
            let worst = r
                .rows
                .iter()
                .filter(|row| row.comparison == u.label && row.endpoint == u.test.as_str())
                .map(|row| row.not_computable as f64 / row.reps.max(1) as f64)
                .fold(0.0, f64::max);
            (worst > 0.0).then(|| {
                format!(
                    "{} ({}) could not be computed in up to {:.1}% of simulated studies, counted as not significant",
                    u.label,
                    u.test.as_str(),
                    worst * 100.0
                )
            })
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("Note: {}.", parts.join("; "))
    }
}

/// The multiplicity families in words, e.g. "Holm-adjusted within family `welch-log` (3
/// tests)".
fn families_text(units: &UnitPlan) -> String {
    let method = |m: Adjustment| match m {
        Adjustment::Holm => "Holm-adjusted",
        Adjustment::Bonferroni => "Bonferroni-adjusted",
        Adjustment::None => "unadjusted",
        Adjustment::FixedSequence => "fixed-sequence (gatekeeping, primary first)",
    };
    let several_cohorts = units
        .families
        .iter()
        .any(|f| f.cohort != units.families[0].cohort);
    let parts: Vec<String> = units
        .families
        .iter()
        .map(|f| {
            let n = f.members.len();
            let cohort = if several_cohorts {
                format!("{}, ", units.units[f.members[0]].cohort_name)
            } else {
                String::new()
            };
            format!(
                "{} within family `{}` ({cohort}{n} test{})",
                method(f.method),
                f.name,
                if n == 1 { "" } else { "s" }
            )
        })
        .collect();
    parts.join("; ")
}
