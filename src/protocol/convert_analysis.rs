//! Validation and conversion of `[analysis]`: tests from the registry, declared hypotheses
//! checked against the cohorts' arms, and multiplicity families.

use super::convert::{Ctx, NumRule as R, undefined};
use super::diag::KeyPath;
use super::domain::*;
use super::schema::{FileAnalysis, FileHypothesis};

/// Spellings of the alternative (also the `enum` of the JSON Schema).
pub(crate) const ALTERNATIVES: &[(&str, Alternative)] = &[
    ("two-sided", Alternative::TwoSided),
    ("greater", Alternative::Greater),
    ("less", Alternative::Less),
];

/// Spellings of the role (also the `enum` of the JSON Schema).
pub(crate) const ROLES: &[(&str, Role)] =
    &[("primary", Role::Primary), ("secondary", Role::Secondary)];

/// Converts `[analysis]` once the cohorts are known (hypotheses name their arms).
pub(crate) fn analysis_plan(
    a: &FileAnalysis,
    cx: &mut Ctx<'_>,
    cohorts: &[Cohort],
    agents: &[Agent],
) -> Option<AnalysisPlan> {
    let at = KeyPath::root().k("analysis");
    let tests = test_list(cx, &a.tests, &at.k("tests"));
    for (i, t) in tests.iter().enumerate().filter(|(_, t)| t.is_panel()) {
        cx.error(
            &at.k("tests").i(i),
            format!(
                "`{}` is a pooled panel test; list it in `[panel] tests`",
                t.as_str()
            ),
        );
    }
    let adjust = cx.pick(&a.adjust, &at.k("adjust"), "adjustment", &Adjustment::NAMES);
    if let Some(d) = a.analysis_day {
        cx.n(d, &at.k("analysis-day"), R::NonNeg);
    }
    if tests.is_empty() && !a.tests.is_empty() {
        return None;
    }
    let mut hypotheses = Vec::new();
    let mut names = Vec::new();
    for (i, h) in a.hypotheses.iter().flatten().enumerate() {
        let hat = at.k("hypotheses").i(i);
        names.push((h.name.clone(), hat.k("name")));
        if let Some(h) = hypothesis(cx, h, &hat, (cohorts, agents), &tests) {
            hypotheses.push(h);
        }
    }
    cx.uniq(&names, "hypothesis");
    let mut families = Vec::new();
    for (name, method) in a.families.iter().flatten() {
        let fat = at.k("families").k(name);
        if !hypotheses.iter().any(|h| &h.family == name) {
            cx.error_key(
                &fat,
                format!(
                    "family `{name}` has no hypothesis; set `family = \"{name}\"` on a hypothesis or remove the entry"
                ),
            );
        }
        if let Some(m) = cx.pick(method, &fat, "adjustment", &Adjustment::NAMES) {
            families.push(Family {
                name: name.clone(),
                adjust: m,
            });
        }
    }
    if a.blinding.as_deref().is_some_and(|b| b.trim().is_empty()) {
        cx.error_key(
            &at.k("blinding"),
            "blinding is empty; say who is blinded to group allocation (e.g. \"calipers read by a technician blinded to group allocation\") or remove the key",
        );
    }
    Some(AnalysisPlan {
        tests,
        alpha: cx.n(a.alpha, &at.k("alpha"), R::Open01),
        adjust: adjust?,
        hypotheses,
        families,
        analysis_day: a.analysis_day,
        target_power: cx.n(a.target_power, &at.k("target-power"), R::Open01),
        blinding: a.blinding.clone(),
    })
}

pub(crate) fn test_list(cx: &mut Ctx<'_>, names: &[String], at: &KeyPath) -> Vec<TestKey> {
    let keys = TestKey::keys();
    let mut out = Vec::new();
    for (i, t) in names.iter().enumerate() {
        match TestKey::parse(t) {
            Some(k) if out.contains(&k) => {
                cx.error(&at.i(i), format!("test `{t}` is listed twice"))
            }
            Some(k) => out.push(k),
            None => undefined(cx, &at.i(i), "test", t, &keys),
        }
    }
    out
}

fn hypothesis(
    cx: &mut Ctx<'_>,
    h: &FileHypothesis,
    at: &KeyPath,
    (cohorts, agents): (&[Cohort], &[Agent]),
    default_tests: &[TestKey],
) -> Option<Hypothesis> {
    let kinds: Vec<(&str, HypothesisKind)> = HypothesisKind::ALL
        .iter()
        .map(|k| (k.as_str(), *k))
        .collect();
    let kind = cx.pick(&h.kind, &at.k("kind"), "hypothesis kind", &kinds)?;
    let alternative = match &h.alternative {
        None => Some(Alternative::TwoSided),
        Some(s) => cx.pick(s, &at.k("alternative"), "alternative", ALTERNATIVES),
    };
    let expected = match &h.expected {
        None => Some(Expectation::Effect),
        Some(s) => cx.pick(s, &at.k("expected"), "expectation", &Expectation::NAMES),
    };
    let role = match &h.role {
        // An expected-null control is reported, never sized on.
        None if expected == Some(Expectation::Null) => Some(Role::Secondary),
        None => Some(Role::Primary),
        Some(s) => cx.pick(s, &at.k("role"), "role", ROLES),
    };
    if expected == Some(Expectation::Null) && role == Some(Role::Primary) {
        cx.error(
            &at.k("role"),
            format!(
                "hypothesis `{}` is an expected-null control (expected = \"null\"): it cannot size the study; set role = \"secondary\" or remove `expected`",
                h.name
            ),
        );
    }
    let tests = match &h.tests {
        Some(t) => test_list(cx, t, &at.k("tests")),
        None => match kind {
            HypothesisKind::Synergy => vec![TestKey::BlissLmm],
            HypothesisKind::DoseTrend => vec![TestKey::Jonckheere],
            _ => default_tests
                .iter()
                .copied()
                .filter(|t| t.info().kinds.contains(&kind))
                .collect(),
        },
    };
    for (i, t) in tests.iter().enumerate() {
        if !t.info().kinds.contains(&kind) {
            let fits: Vec<&str> = TestKey::ALL
                .iter()
                .filter(|k| k.info().kinds.contains(&kind))
                .map(|k| k.as_str())
                .collect();
            cx.error(
                &at.k("tests").i(i),
                format!(
                    "test `{}` cannot test a `{}` hypothesis; use one of {}",
                    t.as_str(),
                    kind.as_str(),
                    fits.join(", ")
                ),
            );
        }
    }
    if tests.is_empty() {
        cx.error(
            &at.k("kind"),
            format!("hypothesis `{}` has no test; add `tests = [\"…\"]`", h.name),
        );
    }
    check_arms(cx, h, kind, at, cohorts);
    if let Some(d) = &h.doses {
        if kind != HypothesisKind::DoseTrend {
            cx.error_key(
                &at.k("doses"),
                "`doses` only applies to kind = \"dose-trend\"",
            );
        } else if d.len() != h.arms.len() {
            cx.error(
                &at.k("doses"),
                format!(
                    "{} doses for {} arms; give one dose per arm",
                    d.len(),
                    h.arms.len()
                ),
            );
        }
        for (i, &v) in d.iter().enumerate() {
            cx.n(v, &at.k("doses").i(i), R::NonNeg);
        }
    } else if kind == HypothesisKind::DoseTrend
        && tests.contains(&TestKey::TrendSlope)
        && let Some(c) = cohorts.iter().find(|c| has_arms(c, &h.arms))
        && arm_doses(c, agents, &h.arms).is_none()
    {
        cx.error(
            &at.k("arms"),
            "cannot read one dose per arm (the arms must differ in the dose of one agent); give `doses = [...]`",
        );
    }
    Some(Hypothesis {
        name: h.name.clone(),
        kind,
        cohort: h.cohort.clone(),
        arms: h.arms.clone(),
        doses: h.doses.clone(),
        tests,
        alternative: alternative?,
        role: role?,
        family: h
            .family
            .clone()
            .unwrap_or_else(|| role.map_or("primary", |r| r.as_str()).to_string()),
        expected: expected?,
    })
}

fn has_arms(c: &Cohort, arms: &[String]) -> bool {
    arms.iter().all(|a| c.arms.iter().any(|x| &x.name == a))
}

fn check_arms(
    cx: &mut Ctx<'_>,
    h: &FileHypothesis,
    kind: HypothesisKind,
    at: &KeyPath,
    cohorts: &[Cohort],
) {
    let (count, exact, shape) = kind.arm_rule();
    let n = h.arms.len();
    if (exact && n != count) || n < count {
        cx.error(
            &at.k("arms"),
            format!(
                "a `{}` hypothesis lists {}{count} arm{}: {shape}; found {n}",
                kind.as_str(),
                if exact { "" } else { "at least " },
                if count == 1 { "" } else { "s" }
            ),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (i, a) in h.arms.iter().enumerate() {
        if !seen.insert(a) {
            cx.error(&at.k("arms").i(i), format!("arm `{a}` is listed twice"));
        }
    }
    let scope: Vec<&Cohort> = match &h.cohort {
        Some(name) => match cohorts.iter().find(|c| &c.name == name) {
            Some(c) => vec![c],
            None => {
                let names: Vec<&str> = cohorts.iter().map(|c| c.name.as_str()).collect();
                undefined(cx, &at.k("cohort"), "cohort", name, &names);
                return;
            }
        },
        None => cohorts.iter().collect(),
    };
    if scope.iter().any(|c| has_arms(c, &h.arms)) {
        for c in scope.iter().filter(|c| has_arms(c, &h.arms)) {
            let control = &c.control().name;
            if kind != HypothesisKind::Pairwise
                && kind != HypothesisKind::DoseTrend
                && let Some(i) = h.arms.iter().position(|a| a == control)
            {
                cx.error(
                    &at.k("arms").i(i),
                    format!(
                        "`{control}` is the control of cohort `{}`; a `{}` hypothesis compares against it implicitly — list the treated arms only",
                        c.name,
                        kind.as_str()
                    ),
                );
            }
        }
        return;
    }
    // No cohort has every arm: name the first missing arm of the best cohort.
    for (i, a) in h.arms.iter().enumerate() {
        if !scope.iter().any(|c| c.arms.iter().any(|x| &x.name == a)) {
            let defined: Vec<&str> = scope
                .iter()
                .flat_map(|c| c.arms.iter().map(|x| x.name.as_str()))
                .collect();
            undefined(cx, &at.k("arms").i(i), "arm", a, &defined);
            return;
        }
    }
    cx.error(
        &at.k("arms"),
        "no cohort has all these arms; set `cohort = \"…\"` or list arms of one cohort",
    );
}

/// One dose per arm for a dose-trend hypothesis: across the arms exactly one non-vehicle agent
/// changes dose (arms without it, such as the vehicle control, have dose 0); any other agent
/// is a backbone given at one dose in every arm. `None` when the arms do not have that shape
/// or two arms share a dose.
pub fn arm_doses(c: &Cohort, agents: &[Agent], arms: &[String]) -> Option<Vec<f64>> {
    let find = |name: &String| c.arms.iter().find(|a| &a.name == name);
    let arms: Vec<&Arm> = arms.iter().map(find).collect::<Option<_>>()?;
    let vehicle = |name: &str| agents.iter().any(|a| a.name == name && a.vehicle);
    let dose_of = |a: &Arm, agent: &str| {
        a.treatments
            .iter()
            .find(|t| t.agent == agent)
            .map_or(0.0, |t| t.dose)
    };
    let mut varying: Option<Vec<f64>> = None;
    let mut names: Vec<&str> = arms
        .iter()
        .flat_map(|a| a.treatments.iter().map(|t| t.agent.as_str()))
        .filter(|n| !vehicle(n))
        .collect();
    names.sort_unstable();
    names.dedup();
    for agent in names {
        let d: Vec<f64> = arms.iter().map(|a| dose_of(a, agent)).collect();
        if d.iter().all(|&x| x == d[0]) {
            continue;
        }
        if varying.is_some() {
            return None;
        }
        varying = Some(d);
    }
    let doses = varying?;
    let mut sorted = doses.clone();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    (sorted.len() == doses.len()).then_some(doses)
}
