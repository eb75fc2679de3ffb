//! Hypotheses of an analysis: the declared ones of a protocol (`[[analysis.hypotheses]]`) or,
//! when none are declared, each treated arm against its cohort's control on every test; each
//! evaluated in every cohort that has its arms, then adjusted within its multiplicity family.

use super::compare::{self, ArmValues, Outcome, SynergyArms};
use super::pipeline::{AnalysisOptions, AnalysisResult, Animal, TestRow};
use super::stats;
use crate::protocol::{
    Adjustment, AnalysisPlan, Family, Hypothesis, HypothesisKind, Role, TestKey, Xenograft,
};

/// What an analysis tests.
#[derive(Debug, Clone, PartialEq)]
pub struct HypothesisPlan {
    /// Declared hypotheses, tested in addition to (or, when `defaults` is false, instead of)
    /// the default vs-control ones.
    pub hypotheses: Vec<Hypothesis>,
    /// Test each treated arm against the control on `default_tests` (the default when no
    /// hypothesis is declared).
    pub defaults: bool,
    /// Tests of the default vs-control hypotheses.
    pub default_tests: Vec<TestKey>,
    /// Method of every family not in `families`.
    pub adjust: Adjustment,
    /// Families with their own method.
    pub families: Vec<Family>,
    /// The pooled panel comparison (`[panel]` with cohorts as lines); `None` otherwise.
    pub panel: Option<super::panel::PanelPlan>,
}

/// The tests `analyze` runs on measured data by default: every registered test that can
/// compare an arm with its control, in registry order.
pub fn default_tests() -> Vec<TestKey> {
    TestKey::ALL
        .into_iter()
        .filter(|t| t.info().kinds.contains(&HypothesisKind::VsControl))
        .collect()
}

impl Default for HypothesisPlan {
    fn default() -> Self {
        HypothesisPlan {
            hypotheses: Vec::new(),
            defaults: true,
            default_tests: default_tests(),
            adjust: Adjustment::Holm,
            families: Vec::new(),
            panel: None,
        }
    }
}

impl HypothesisPlan {
    /// The analysis plan of a protocol: its declared hypotheses (dose-trend doses read from
    /// the arms where not given) or, if none, every arm vs control on the default tests
    /// (measured-data analysis runs all of them; `[analysis] tests` only selects what `power`
    /// sizes). Families and methods as declared.
    pub fn from_protocol(x: &Xenograft) -> Self {
        let a: &AnalysisPlan = &x.analysis;
        let hypotheses: Vec<Hypothesis> = a
            .hypotheses
            .iter()
            .map(|h| {
                let mut h = h.clone();
                if h.kind == HypothesisKind::DoseTrend && h.doses.is_none() {
                    h.doses = x
                        .cohorts
                        .iter()
                        .find_map(|c| crate::protocol::arm_doses(c, &x.agents, &h.arms));
                }
                h
            })
            .collect();
        HypothesisPlan {
            defaults: hypotheses.is_empty(),
            hypotheses,
            default_tests: default_tests(),
            adjust: a.adjust,
            families: a.families.clone(),
            panel: x.panel.as_deref().and_then(super::panel::PanelPlan::of),
        }
    }

    /// The method of `family`.
    pub fn method(&self, family: &str) -> Adjustment {
        self.families
            .iter()
            .find(|f| f.name == family)
            .map_or(self.adjust, |f| f.adjust)
    }

    /// The hypotheses tested in a cohort named `cohort` whose arms are `arms` (control
    /// first): the default ones (one per treated arm and test, family = the test key, so
    /// Holm runs over a cohort's comparisons of one test) then the declared ones whose arms
    /// the cohort has.
    /// `run_lmm = false` leaves the mixed model out of the defaults.
    pub fn in_cohort(&self, cohort: &str, arms: &[String], run_lmm: bool) -> Vec<Hypothesis> {
        let mut out = Vec::new();
        if self.defaults {
            for arm in &arms[1..] {
                for &t in &self.default_tests {
                    if t == TestKey::Lmm && !run_lmm {
                        continue;
                    }
                    out.push(Hypothesis {
                        name: format!("{arm} vs {}", arms[0]),
                        kind: HypothesisKind::VsControl,
                        cohort: None,
                        arms: vec![arm.clone()],
                        doses: None,
                        tests: vec![t],
                        alternative: crate::protocol::Alternative::TwoSided,
                        role: Role::Primary,
                        family: t.as_str().into(),
                        expected: Default::default(),
                    });
                }
            }
        }
        for h in &self.hypotheses {
            let here = h.cohort.as_deref().is_none_or(|c| c == cohort);
            if here && h.arms.iter().all(|a| arms.contains(a)) {
                out.push(h.clone());
            }
        }
        out
    }
}

/// The hypothesis of `analyze --synergy 'COMBO=A,B'`: Bliss and HSA synergy of the
/// combination arm over its two component arms (control: the analysis' control), family
/// `synergy`.
pub fn synergy_hypothesis(spec: &str) -> Result<Hypothesis, String> {
    let bad = || {
        format!(
            "cannot read --synergy `{spec}`: expected COMBINATION=A,B (the combination arm, then its two component arms), e.g. 'A+B=A,B'"
        )
    };
    let (combo, parts) = spec.split_once('=').ok_or_else(bad)?;
    let parts: Vec<&str> = parts.split(',').map(str::trim).collect();
    let combo = combo.trim();
    if combo.is_empty() || parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    Ok(Hypothesis {
        name: format!("synergy of {combo}"),
        kind: HypothesisKind::Synergy,
        cohort: None,
        arms: vec![combo.into(), parts[0].into(), parts[1].into()],
        doses: None,
        tests: vec![TestKey::BlissLmm, TestKey::HsaLmm],
        alternative: crate::protocol::Alternative::TwoSided,
        role: Role::Primary,
        family: "synergy".into(),
        expected: Default::default(),
    })
}

/// Declared hypotheses that no cohort could test (an arm missing from the data), as an error
/// message naming the arms the data has; `None` when every one was tested.
pub(crate) fn untested(plan: &HypothesisPlan, res: &AnalysisResult) -> Option<String> {
    let missing: Vec<String> = plan
        .hypotheses
        .iter()
        .filter(|h| !res.tests.iter().any(|t| t.hypothesis == h.name))
        .map(|h| format!("`{}` (arms {})", h.name, h.arms.join(", ")))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut arms: Vec<&str> = res
        .cohorts
        .iter()
        .flat_map(|c| c.arms.iter().map(|a| a.as_str()))
        .collect();
    arms.sort_unstable();
    arms.dedup();
    Some(format!(
        "hypothesis {} cannot be tested: no cohort of the data has all its arms (the data's arms: {})",
        missing.join(", "),
        arms.join(", ")
    ))
}

/// The animals and analysis day of one cohort.
pub(crate) struct CohortData<'s, 'a> {
    /// Cohort name.
    pub name: &'s str,
    /// Arm names, control first.
    pub arms: &'s [String],
    /// Animals per arm (same order).
    pub by_arm: &'s [Vec<&'a Animal>],
    /// Analysis day.
    pub day: f64,
}

/// One day of a synergy hypothesis' time course (`synergy.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct SynergyRow {
    /// Cohort.
    pub cohort: String,
    /// Hypothesis.
    pub hypothesis: String,
    /// `bliss-lmm` or `hsa-lmm`.
    pub key: TestKey,
    /// The fit up to that day.
    pub point: compare::SynergyPoint,
}

/// Evaluates the plan in one cohort: appends its rows to `res.tests` (adjusted within
/// families) and, when `opt.synergy_time_course`, the synergy time courses to `res.synergy`.
pub(crate) fn evaluate(
    plan: &HypothesisPlan,
    c: &CohortData<'_, '_>,
    opt: &AnalysisOptions,
    res: &mut AnalysisResult,
) {
    let out = &mut res.tests;
    let hypotheses = plan.in_cohort(c.name, c.arms, opt.run_lmm);
    let needs = compare::Needs::of(hypotheses.iter().flat_map(|h| h.tests.iter().copied()));
    let values: Vec<ArmValues> = c
        .by_arm
        .iter()
        .map(|an| ArmValues::new(an, c.day, opt, needs))
        .collect();
    let idx = |name: &str| c.arms.iter().position(|a| a == name);
    let start = out.len();
    let mut courses = Vec::new();
    for h in hypotheses {
        let Some(ix) = h
            .arms
            .iter()
            .map(|a| idx(a))
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        for &t in &h.tests {
            rows_of(&h, t, &ix, (c, &values), opt, out);
        }
        if opt.synergy_time_course && h.kind == HypothesisKind::Synergy {
            let arms4 = SynergyArms {
                control: &c.by_arm[0],
                a: &c.by_arm[ix[1]],
                b: &c.by_arm[ix[2]],
                ab: &c.by_arm[ix[0]],
            };
            for &t in &h.tests {
                for point in compare::synergy_over_time(t, arms4, opt.log_floor_mm3) {
                    courses.push(SynergyRow {
                        cohort: c.name.into(),
                        hypothesis: h.name.clone(),
                        key: t,
                        point,
                    });
                }
            }
        }
    }
    adjust_families(plan, &mut out[start..]);
    res.synergy.extend(courses);
}

fn row(
    h: &Hypothesis,
    key: TestKey,
    c: &CohortData<'_, '_>,
    comparison: String,
    o: Outcome,
) -> TestRow {
    TestRow {
        cohort: c.name.into(),
        hypothesis: h.name.clone(),
        kind: h.kind.as_str().into(),
        role: h.role,
        alternative: h.alternative.as_str(),
        family: h.family.clone(),
        comparison,
        arm: h.arms[0].clone(),
        endpoint: o.endpoint,
        key,
        test: o.test,
        statistic: o.statistic,
        p_value: h.alternative.p_from_two_sided(o.p_two, o.benefit),
        p_adjusted: f64::NAN,
        adjustment: "",
        df: o.df,
        estimate: o.estimate,
        se: o.se,
        n_treated: o.n_first,
        n_control: o.n_reference,
    }
}

fn rows_of(
    h: &Hypothesis,
    t: TestKey,
    ix: &[usize],
    (c, values): (&CohortData<'_, '_>, &[ArmValues<'_>]),
    opt: &AnalysisOptions,
    out: &mut Vec<TestRow>,
) {
    let arms = c.arms;
    match h.kind {
        HypothesisKind::VsControl => {
            let o = compare::two_arm(t, &values[ix[0]], &values[0], c.day, opt);
            out.push(row(h, t, c, format!("{} vs {}", arms[ix[0]], arms[0]), o));
        }
        HypothesisKind::Pairwise => {
            let o = compare::two_arm(t, &values[ix[0]], &values[ix[1]], c.day, opt);
            out.push(row(
                h,
                t,
                c,
                format!("{} vs {}", arms[ix[0]], arms[ix[1]]),
                o,
            ));
        }
        HypothesisKind::CombinationVsComponents => {
            // Intersection–union (Berger 1982): the combination beats every component when
            // each component test rejects; its p-value is the largest component p-value.
            let mut worst: Option<TestRow> = None;
            for &k in &ix[1..] {
                let o = compare::two_arm(t, &values[ix[0]], &values[k], c.day, opt);
                let mut r = row(h, t, c, format!("{} vs {}", arms[ix[0]], arms[k]), o);
                r.kind = format!("{} (component)", h.kind.as_str());
                r.family = String::new();
                let p = r.p_value;
                let replace = match &worst {
                    None => true,
                    Some(w) => p.is_nan() || (!w.p_value.is_nan() && p > w.p_value),
                };
                if replace {
                    worst = Some(r.clone());
                }
                out.push(r);
            }
            if let Some(mut w) = worst {
                let names: Vec<&str> = ix[1..].iter().map(|&k| arms[k].as_str()).collect();
                w.kind = h.kind.as_str().into();
                w.family = h.family.clone();
                w.comparison = format!("{} vs each of {}", arms[ix[0]], names.join(", "));
                w.test = format!("intersection-union (largest p) of {}", w.test);
                w.n_control = ix[1..].iter().map(|&k| values[k].animals.len()).sum();
                out.push(w);
            }
        }
        HypothesisKind::DoseTrend => {
            let group: Vec<ArmValues> = ix.iter().map(|&k| values[k].clone()).collect();
            let names: Vec<&str> = ix.iter().map(|&k| arms[k].as_str()).collect();
            let comparison = format!("trend across {}", names.join(" < "));
            let o = match &h.doses {
                Some(d) => compare::dose_trend(t, &group, d, c.day),
                None => Outcome::not_computable(
                    "no dose per arm (give `doses = [...]` in the hypothesis)",
                ),
            };
            out.push(row(h, t, c, comparison, o));
        }
        HypothesisKind::Synergy => {
            let arms4 = SynergyArms {
                control: &c.by_arm[0],
                a: &c.by_arm[ix[1]],
                b: &c.by_arm[ix[2]],
                ab: &c.by_arm[ix[0]],
            };
            let o = compare::synergy(t, arms4, opt.log_floor_mm3, c.day);
            let comparison = format!(
                "{} vs {} of {}, {} (control {})",
                arms[ix[0]],
                if t == TestKey::HsaLmm { "HSA" } else { "Bliss" },
                arms[ix[1]],
                arms[ix[2]],
                arms[0]
            );
            out.push(row(h, t, c, comparison, o));
        }
        HypothesisKind::Panel => {
            // Pooled across cohorts by `analysis::panel`; never a per-cohort hypothesis
            // (validation keeps it out of `[[analysis.hypotheses]]`).
            let o = Outcome::not_computable("a panel test pools cohorts; see [panel]");
            out.push(row(h, t, c, h.name.clone(), o));
        }
    }
}

/// Adjusts each family of `rows` (one cohort; rows with an empty family are not members) by
/// its method; fixed sequence tests primaries before secondaries, then in row order.
fn adjust_families(plan: &HypothesisPlan, rows: &mut [TestRow]) {
    let mut done: Vec<String> = Vec::new();
    for i in 0..rows.len() {
        let fam = rows[i].family.clone();
        if fam.is_empty() || done.contains(&fam) {
            continue;
        }
        let mut members: Vec<usize> = (i..rows.len()).filter(|&k| rows[k].family == fam).collect();
        members.sort_by_key(|&k| (rows[k].role == Role::Secondary, k));
        let p: Vec<f64> = members.iter().map(|&k| rows[k].p_value).collect();
        let method = plan.method(&fam);
        let adj = stats::adjust(&p, method);
        for (k, a) in members.into_iter().zip(adj) {
            rows[k].p_adjusted = a;
            rows[k].adjustment = method.as_str();
        }
        done.push(fam);
    }
}
