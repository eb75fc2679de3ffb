//! What `power` counts: one decision unit per hypothesis, test and cohort — the rows of
//! `tests.csv` that belong to a multiplicity family — expanded by the analysis' own
//! [`HypothesisPlan::in_cohort`] so both power engines and `analyze` test the same family.

use super::design::{Endpoint, PowerError, Settings};
use crate::analysis::HypothesisPlan;
use crate::protocol::{Adjustment, Alternative, HypothesisKind, Protocol, Role, TestKey};

/// One decision of a simulated study.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Cohort index.
    pub cohort: usize,
    /// Cohort name.
    pub cohort_name: String,
    /// Hypothesis name (as in `tests.csv`).
    pub hypothesis: String,
    /// Label in `power.csv`: the hypothesis name, prefixed by the cohort name when the
    /// protocol has several cohorts.
    pub label: String,
    /// Kind.
    pub kind: HypothesisKind,
    /// Test.
    pub test: TestKey,
    /// Primary or secondary.
    pub role: Role,
    /// Alternative.
    pub alternative: Alternative,
    /// Index into [`UnitPlan::families`].
    pub family: usize,
    /// Whether the unit sizes the study: a primary hypothesis on its first test (defaults:
    /// on the primary endpoint).
    pub sizing: bool,
    /// Two-arm kinds: (first, reference) arm indices within the cohort, one pair per
    /// comparison; the unit's p-value is the largest of theirs (intersection–union).
    pub pairs: Vec<(usize, usize)>,
    /// The hypothesis' arms as indices within the cohort, in its order.
    pub arms: Vec<usize>,
    /// The cohort's control arm index.
    pub control: usize,
}

/// A multiplicity family in one cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitFamily {
    /// Family name.
    pub name: String,
    /// Cohort index.
    pub cohort: usize,
    /// Method.
    pub method: Adjustment,
    /// Member units in testing order (primary first, then unit order).
    pub members: Vec<usize>,
}

/// Every decision unit of a protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitPlan {
    /// The analysis plan the units were expanded from (the full engine analyzes with it).
    pub plan: HypothesisPlan,
    /// Units, in `power.csv` order.
    pub units: Vec<Unit>,
    /// Families.
    pub families: Vec<UnitFamily>,
    /// What the `--endpoint` selection left out (a selected test no declared hypothesis uses,
    /// a declared hypothesis none of whose tests was selected), for the run to print.
    pub notes: Vec<String>,
}

impl UnitPlan {
    /// The units of `protocol` under `settings`: its declared hypotheses, or each arm vs its
    /// cohort's control on `settings.endpoints` (endpoint-major order, the first endpoint
    /// sizing). `settings.adjust` is the method of every family the protocol does not set.
    pub fn new(protocol: &Protocol, settings: &Settings) -> Result<UnitPlan, PowerError> {
        let x = protocol
            .xenograft()
            .ok_or_else(|| PowerError::NotXenograft(protocol.id.clone()))?;
        let mut plan = HypothesisPlan::from_protocol(x);
        plan.adjust = settings.adjust;
        plan.default_tests = settings.endpoints.clone();
        // The pooled panel comparison is sized by `power --panel` (`power::panel`), not here.
        plan.panel = None;
        let several = x.cohorts.len() > 1;
        let mut units = Vec::new();
        let mut families: Vec<UnitFamily> = Vec::new();
        let mut notes = Vec::new();
        let mut left_out: Vec<String> = Vec::new();
        for (ci, c) in x.cohorts.iter().enumerate() {
            let control = c.arms.iter().position(|a| a.control).unwrap_or(0);
            let mut names: Vec<String> = vec![c.arms[control].name.clone()];
            names.extend(
                c.arms
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != control)
                    .map(|(_, a)| a.name.clone()),
            );
            let index = |n: &str| c.arms.iter().position(|a| a.name == n).unwrap_or(0);
            for mut h in plan.in_cohort(&c.name, &names, true) {
                // `--endpoint` selects which of a declared hypothesis' tests are sized.
                h.tests.retain(|t| settings.endpoints.contains(t));
                if h.tests.is_empty() && !left_out.contains(&h.name) {
                    left_out.push(h.name.clone());
                }
                let first = index(&h.arms[0]);
                let pairs = match h.kind {
                    HypothesisKind::VsControl => vec![(first, control)],
                    HypothesisKind::Pairwise => vec![(first, index(&h.arms[1]))],
                    HypothesisKind::CombinationVsComponents => {
                        h.arms[1..].iter().map(|a| (first, index(a))).collect()
                    }
                    _ => Vec::new(),
                };
                for (k, &t) in h.tests.iter().enumerate() {
                    let fam = match families
                        .iter()
                        .position(|f| f.cohort == ci && f.name == h.family)
                    {
                        Some(f) => f,
                        None => {
                            families.push(UnitFamily {
                                name: h.family.clone(),
                                cohort: ci,
                                method: plan.method(&h.family),
                                members: Vec::new(),
                            });
                            families.len() - 1
                        }
                    };
                    let sizing = h.role == Role::Primary
                        && if plan.defaults {
                            Some(&t) == settings.endpoints.first()
                        } else {
                            k == 0
                        };
                    units.push(Unit {
                        cohort: ci,
                        cohort_name: c.name.clone(),
                        hypothesis: h.name.clone(),
                        label: if several {
                            format!("{}: {}", c.name, h.name)
                        } else {
                            h.name.clone()
                        },
                        kind: h.kind,
                        test: t,
                        role: h.role,
                        alternative: h.alternative,
                        family: fam,
                        sizing,
                        pairs: pairs.clone(),
                        arms: h.arms.iter().map(|a| index(a)).collect(),
                        control,
                    });
                }
            }
        }
        if plan.defaults {
            // power.csv's order: endpoint, then comparison.
            let pos = |t: TestKey| settings.endpoints.iter().position(|&e| e == t);
            let mut order: Vec<usize> = (0..units.len()).collect();
            order.sort_by_key(|&i| (pos(units[i].test), i));
            units = order.iter().map(|&i| units[i].clone()).collect();
        }
        if !plan.defaults {
            selection_notes(x, settings, &left_out, &mut notes);
        }
        if units.is_empty() && !plan.defaults {
            let used: Vec<&str> = x
                .analysis
                .hypotheses
                .iter()
                .flat_map(|h| h.tests.iter().map(|t| t.as_str()))
                .collect();
            return Err(PowerError::Settings(format!(
                "none of the protocol's hypotheses uses the selected tests ({}); they use {}",
                settings
                    .endpoints
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                used.join(", ")
            )));
        }
        if units.is_empty() {
            return Err(PowerError::NoComparison(protocol.id.clone()));
        }
        for (i, u) in units.iter().enumerate() {
            families[u.family].members.push(i);
        }
        for f in &mut families {
            f.members
                .sort_by_key(|&i| (units[i].role == Role::Secondary, i));
        }
        Ok(UnitPlan {
            plan,
            units,
            families,
            notes,
        })
    }

    /// Tests the units use (each once, in unit order).
    pub fn tests(&self) -> Vec<Endpoint> {
        let mut v: Vec<Endpoint> = Vec::new();
        for u in &self.units {
            if !v.contains(&u.test) {
                v.push(u.test);
            }
        }
        v
    }

    /// Decisions of one replicate: `p[u]` is unit u's p-value (its alternative applied; NaN =
    /// not computable, never rejected); `out[u]` is set to whether its family's adjusted
    /// p-value is below `alpha` — exactly `stats::adjust(p, method) < alpha`, as `analyze`
    /// reports it — without allocating (`scratch` holds one family).
    pub fn decide(&self, p: &[f64], alpha: f64, scratch: &mut Vec<(f64, usize)>, out: &mut [bool]) {
        for f in &self.families {
            match f.method {
                Adjustment::Holm => {
                    scratch.clear();
                    scratch.extend(f.members.iter().map(|&u| (p[u], u)));
                    crate::analysis::stats::holm_reject_into(scratch, alpha, out);
                }
                Adjustment::None => {
                    for &u in &f.members {
                        out[u] = p[u] < alpha;
                    }
                }
                Adjustment::Bonferroni => {
                    let m = f.members.iter().filter(|&&u| !p[u].is_nan()).count() as f64;
                    for &u in &f.members {
                        out[u] = (m * p[u]).min(1.0) < alpha;
                    }
                }
                Adjustment::FixedSequence => {
                    let mut open = true;
                    for &u in &f.members {
                        open = open && p[u] < alpha;
                        out[u] = open;
                    }
                }
            }
        }
    }
}

/// Says what `--endpoint` left out of a protocol with declared hypotheses: selected tests that
/// no hypothesis declares (they are not sized) and hypotheses none of whose tests was selected.
fn selection_notes(
    x: &crate::protocol::Xenograft,
    settings: &Settings,
    left_out: &[String],
    notes: &mut Vec<String>,
) {
    for t in &settings.endpoints {
        let declared = x.analysis.hypotheses.iter().any(|h| h.tests.contains(t));
        if !declared {
            notes.push(format!(
                "--endpoint {}: no declared hypothesis uses this test, so it is not sized; add it to the `tests` of an [[analysis.hypotheses]] entry to size it",
                t.as_str()
            ));
        }
    }
    for h in left_out {
        notes.push(format!(
            "hypothesis `{h}` is not sized: none of its tests is among the selected --endpoint values"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The power engines' allocation-free decisions equal `analyze`'s adjusted p < α for
        /// every method (NaN: never rejected).
        #[test]
        fn decide_equals_adjusted_p_below_alpha(
            p in proptest::collection::vec(
                prop_oneof![0.0..0.1f64, 0.0..1.0f64, Just(f64::NAN)], 1..7),
            m in 0usize..4,
            alpha in 0.001..0.2f64,
        ) {
            let method = Adjustment::NAMES[m].1;
            let n = p.len();
            let plan = UnitPlan {
                plan: HypothesisPlan::default(),
                units: Vec::new(),
                families: vec![UnitFamily {
                    name: "f".into(),
                    cohort: 0,
                    method,
                    members: (0..n).collect(),
                }],
                notes: Vec::new(),
            };
            let mut out = vec![false; n];
            let mut scratch = Vec::new();
            plan.decide(&p, alpha, &mut scratch, &mut out);
            let adj = crate::analysis::stats::adjust(&p, method);
            for i in 0..n {
                prop_assert_eq!(out[i], adj[i] < alpha, "p={:?} {:?}", p, method);
            }
        }
    }
}
