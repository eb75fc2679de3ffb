//! Robustness scenarios for sizing: the protocol with its drug effects and its variability
//! scaled, so a justification can say what n the study needs if the effect is smaller or the
//! animals more variable than assumed (as MCPower's optimistic / realistic / pessimistic
//! scenarios; Kaplan, MCPower).
//!
//! A scenario multiplies every drug effect — direct inhibitions and kill rates, exposure Emax
//! and Simeoni k2, and combination interactions (inhibitions and Emax capped at 1) — by
//! `effect_scale`, and every between-animal SD or CV (growth parameters, initial volume, drug
//! effects) and the caliper error by `variability_scale`. The built-in factors are assumed
//! (a ±25% effect and variability band): optimistic 1.25 / 0.8, pessimistic 0.75 / 1.25.

use super::design::{PowerError, Settings};
use super::results::{PowerResult, Recommendation, run_power};
use crate::protocol::{
    CaliperError, EffectMode, EffectTarget, GrowthModel, Param, Protocol, Variability,
};

/// What sizing gives under one scenario (beside the main result).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScenarioSummary {
    /// The scenario.
    pub scenario: Scenario,
    /// Recommendations of the sizing hypotheses.
    pub recommendations: Vec<Recommendation>,
    /// Animals to implant per cohort (cohort, animals).
    pub implant: Vec<(String, u32)>,
}

impl ScenarioSummary {
    /// "<hypothesis> (<test>) n = 6" or "… not reached" per sizing recommendation, joined.
    pub fn recommendations_text(&self, sep: &str) -> String {
        let recs: Vec<String> = self
            .recommendations
            .iter()
            .map(|x| match x.n_per_arm {
                Some(n) => format!("{} ({}) n = {n}", x.comparison, x.endpoint),
                None => format!("{} ({}) not reached", x.comparison, x.endpoint),
            })
            .collect();
        recs.join(sep)
    }
}

/// Runs `power` on `scenarios[0]` (the main result, its files and paragraph) and on every
/// other scenario for the robustness summary, which is attached to the main result and
/// appended to its justification.
pub fn run_scenarios(
    protocol: &Protocol,
    settings: &Settings,
    scenarios: &[Scenario],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PowerResult, PowerError> {
    let main = scenarios
        .first()
        .cloned()
        .unwrap_or_else(Scenario::expected);
    let mut r = run_power(&main.apply(protocol), settings, progress)?;
    r.scenario = main.clone();
    let summary = |sc: &Scenario, r: &PowerResult| ScenarioSummary {
        scenario: sc.clone(),
        recommendations: r
            .recommendations
            .iter()
            .filter(|x| x.sizing)
            .cloned()
            .collect(),
        implant: r
            .animal_plans
            .iter()
            .map(|p| (p.cohort.clone(), p.implant_total))
            .collect(),
    };
    if scenarios.len() < 2 {
        return Ok(r);
    }
    let mut all = vec![summary(&main, &r)];
    for sc in &scenarios[1..] {
        let other = run_power(&sc.apply(protocol), settings, progress)?;
        all.push(summary(sc, &other));
    }
    let text: Vec<String> = all
        .iter()
        .map(|s| {
            format!(
                "{} (effects ×{}, variability ×{}): {}",
                s.scenario.name,
                s.scenario.effect_scale,
                s.scenario.variability_scale,
                s.recommendations_text(", ")
            )
        })
        .collect();
    r.justification.push_str(&format!(
        " Robustness (scenario factors assumed): {}.",
        text.join("; ")
    ));
    r.scenarios = all;
    Ok(r)
}

/// A named pair of scale factors.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scenario {
    /// Name in the report and the manifest.
    pub name: String,
    /// Factor on every drug effect.
    pub effect_scale: f64,
    /// Factor on every between-animal SD/CV and on the caliper error.
    pub variability_scale: f64,
}

impl Scenario {
    /// The protocol as written.
    pub fn expected() -> Scenario {
        Scenario::new("expected", 1.0, 1.0)
    }

    /// A scenario from its factors.
    pub fn new(name: &str, effect_scale: f64, variability_scale: f64) -> Scenario {
        Scenario {
            name: name.into(),
            effect_scale,
            variability_scale,
        }
    }

    /// `optimistic`, `expected` or `pessimistic` (see the module documentation).
    pub fn named(name: &str) -> Option<Scenario> {
        match name.trim() {
            "optimistic" => Some(Scenario::new("optimistic", 1.25, 0.8)),
            "expected" => Some(Scenario::expected()),
            "pessimistic" => Some(Scenario::new("pessimistic", 0.75, 1.25)),
            _ => None,
        }
    }

    /// Whether the scenario changes nothing.
    pub fn is_identity(&self) -> bool {
        self.effect_scale == 1.0 && self.variability_scale == 1.0
    }

    /// `protocol` with this scenario's scaling applied (a copy; the original is untouched).
    pub fn apply(&self, protocol: &Protocol) -> Protocol {
        let mut p = protocol.clone();
        if self.is_identity() {
            return p;
        }
        let (e, v) = (self.effect_scale, self.variability_scale);
        if let Some(x) = p.xenograft_mut() {
            for c in &mut x.cohorts {
                for param in growth_params(&mut c.growth) {
                    scale_variability(param, v);
                }
                for eff in &mut c.effects {
                    match &mut eff.mode {
                        EffectMode::Direct {
                            inhibition,
                            kill_rate_per_day,
                        } => {
                            inhibition.value = (inhibition.value * e).min(1.0);
                            kill_rate_per_day.value *= e;
                            scale_variability(inhibition, v);
                            scale_variability(kill_rate_per_day, v);
                        }
                        EffectMode::Exposure {
                            emax,
                            ec50_ng_ml,
                            target,
                            ..
                        } => {
                            emax.value = (emax.value * e).min(1.0);
                            scale_variability(emax, v);
                            scale_variability(ec50_ng_ml, v);
                            if let EffectTarget::Kill { k2 } = target {
                                k2.value *= e;
                                scale_variability(k2, v);
                            }
                        }
                    }
                }
                for a in &mut c.arms {
                    a.interaction *= e;
                }
            }
            match &mut x.caliper.error {
                CaliperError::Diameters { cv } => cv.value *= v,
                CaliperError::LogVolume { sd } => sd.value *= v,
            }
        }
        p
    }
}

fn growth_params(g: &mut GrowthModel) -> Vec<&mut Param> {
    match g {
        GrowthModel::Exponential { v0_mm3, rate } => vec![v0_mm3, rate],
        GrowthModel::Logistic {
            v0_mm3,
            rate,
            capacity_mm3,
        }
        | GrowthModel::Gompertz {
            v0_mm3,
            rate,
            capacity_mm3,
        } => vec![v0_mm3, rate, capacity_mm3],
        GrowthModel::Simeoni {
            v0_mm3,
            lambda0,
            lambda1,
            k1,
            ..
        } => vec![v0_mm3, lambda0, lambda1, k1],
    }
}

fn scale_variability(p: &mut Param, s: f64) {
    match &mut p.variability {
        Variability::None => {}
        Variability::LogNormal { cv } => *cv *= s,
        Variability::Normal { sd } => *sd *= s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pessimistic_scales_effects_and_variability() {
        let p = crate::power::testkit::p1_protocol(&[0.8, 0.6]);
        let s = Scenario::named("pessimistic").expect("built in");
        let q = s.apply(&p);
        let (x, y) = (p.xenograft().expect("x"), q.xenograft().expect("x"));
        let inh = |x: &crate::protocol::Xenograft| match &x.cohorts[0].effects[0].mode {
            EffectMode::Direct { inhibition, .. } => inhibition.value,
            _ => f64::NAN,
        };
        assert!((inh(y) - 0.75 * inh(x)).abs() < 1e-12);
        let sd = |x: &crate::protocol::Xenograft| match &x.caliper.error {
            CaliperError::LogVolume { sd } => sd.value,
            CaliperError::Diameters { cv } => cv.value,
        };
        assert!((sd(y) - 1.25 * sd(x)).abs() < 1e-12);
        assert_eq!(Scenario::expected().apply(&p), p);
        assert!(Scenario::named("doomer").is_none());
        // A smaller effect lowers power on the tight path (same seed).
        let mut settings = crate::power::tests::settings(vec![6], 2000, 1);
        settings.endpoints = vec![crate::protocol::TestKey::WelchLog];
        let power = |p: &Protocol| {
            let r = crate::power::run_power(p, &settings, &|_| {}).expect("runs");
            r.rows[0].power
        };
        assert!(power(&q) < power(&p));
    }
}
