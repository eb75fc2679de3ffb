//! The animal plan: how many mice a cohort orders and implants for a number of evaluable
//! animals per arm. One computation for every consumer — `resources.csv` and the timeline's
//! arrival and implantation counts, the simulator's implanted pool, `power`'s plan at the
//! recommended n and the sample-size justification — so the page prints one mouse total.
//!
//! ```text
//! enrolled per arm  = ⌈n / (1 − attrition)⌉           (non-endpoint losses after enrollment)
//! randomized        = Σ over arms of enrolled per arm
//! implant needed    = ⌈randomized / (take × yield)⌉   (yield: takes reaching the window in time)
//! implant (order)   = ⌈implant needed × (1 + spare)⌉  (spares are implanted: they absorb
//!                                                      pool-to-pool variation of takes/yield)
//! ```
//! A protocol's explicit `implantation.animals` replaces the computed number (never below
//! the randomized count). The enrollment yield comes from the engine's pilot simulation
//! ([`crate::sim::Engine::enrollment_yield`]) unless the user gives one.

use crate::protocol::EnrollmentMode;
use serde::Serialize;

/// Losses between implantation and analysis, and the spare margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Losses {
    /// Probability that an implanted tumor takes.
    pub take_rate: f64,
    /// Fraction of takes reaching the enrollment window in time.
    pub enrollment_yield: f64,
    /// Where the yield comes from.
    pub yield_source: String,
    /// Fraction of enrolled animals lost for reasons other than endpoints.
    pub attrition: f64,
    /// Spare animals as a fraction of the implant number.
    pub spare_fraction: f64,
}

/// Animals to order and implant for one cohort at given arm sizes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnimalPlan {
    /// Cohort name.
    pub cohort: String,
    /// Arms in the cohort.
    pub arms: u32,
    /// Evaluable animals wanted in the largest arm (all arms when equal).
    pub n_per_arm: u32,
    /// Evaluable animals wanted per arm, in arm order.
    pub arm_n: Vec<u32>,
    /// Take rate used.
    pub take_rate: f64,
    /// Enrollment yield (fraction of takes reaching the window in time).
    pub enrollment_yield: f64,
    /// How the yield was obtained.
    pub yield_source: String,
    /// Attrition fraction (lost after enrollment for other reasons).
    pub attrition: f64,
    /// Spare margin fraction.
    pub spare_fraction: f64,
    /// Animals to enroll in the largest arm: ⌈n / (1 − attrition)⌉.
    pub enrolled_per_arm: u32,
    /// Animals to enroll (randomize) per arm, in arm order: ⌈n / (1 − attrition)⌉.
    pub arm_enrolled: Vec<u32>,
    /// Animals to randomize: Σ over arms of ⌈n / (1 − attrition)⌉.
    pub enrolled_total: u32,
    /// Animals to implant before spares: ⌈randomized / (take · yield)⌉.
    pub implant_needed: u32,
    /// Animals to order and implant: ⌈needed · (1 + spare)⌉, or the protocol's number.
    pub implant_total: u32,
    /// The protocol's explicit number of animals to implant, when it gives one.
    pub protocol_animals: Option<u32>,
    /// Comparisons of the cohort that do not reach the target within the n grid (not
    /// covered by this plan; filled by `power`).
    pub underpowered: Vec<String>,
}

/// Default enrollment yield per take when no pilot simulation gives one (the protocol cannot
/// be simulated, or the pilot never reached the window). Assumed (no published value;
/// DOMAIN.md lists the time to reach 150–200 mm³ as n/f): single-day 0.4, rolling 0.8,
/// at-baseline 1.
pub fn default_yield(mode: EnrollmentMode) -> f64 {
    match mode {
        EnrollmentMode::SingleDay => 0.4,
        EnrollmentMode::Rolling => 0.8,
        EnrollmentMode::AtBaseline => 1.0,
    }
}

/// ⌈x⌉ robust to floating-point noise just above an integer (e.g. 10/(1−0.0) computed as
/// 10.000000000000002 must stay 10).
fn ceil_u32(x: f64) -> u32 {
    if !x.is_finite() || x <= 0.0 {
        return 0;
    }
    (x - 1e-9).ceil().max(0.0) as u32
}

/// The plan for equal arms of `n_per_arm` (checked by hand in the tests).
pub fn animal_plan(cohort: &str, arms: u32, n_per_arm: u32, l: &Losses) -> AnimalPlan {
    plan_for_arms(cohort, &vec![n_per_arm; arms as usize], None, l)
}

/// The plan for arms of sizes `arm_n`; `protocol_animals` (the protocol's explicit implant
/// number) replaces the computed total, never below the randomized count.
pub fn plan_for_arms(
    cohort: &str,
    arm_n: &[u32],
    protocol_animals: Option<u32>,
    l: &Losses,
) -> AnimalPlan {
    let keep = 1.0 - l.attrition.clamp(0.0, 0.99);
    let enrolled = |n: u32| ceil_u32(f64::from(n) / keep);
    let n_per_arm = arm_n.iter().copied().max().unwrap_or(0);
    let arm_enrolled: Vec<u32> = arm_n.iter().map(|&n| enrolled(n)).collect();
    let enrolled_total: u32 = arm_enrolled.iter().sum();
    let p = (l.take_rate * l.enrollment_yield).clamp(1e-6, 1.0);
    let implant_needed = ceil_u32(f64::from(enrolled_total) / p);
    let computed = ceil_u32(f64::from(implant_needed) * (1.0 + l.spare_fraction.max(0.0)));
    AnimalPlan {
        cohort: cohort.to_string(),
        arms: arm_n.len() as u32,
        n_per_arm,
        arm_n: arm_n.to_vec(),
        take_rate: l.take_rate,
        enrollment_yield: l.enrollment_yield,
        yield_source: l.yield_source.clone(),
        attrition: l.attrition,
        spare_fraction: l.spare_fraction,
        enrolled_per_arm: enrolled(n_per_arm),
        arm_enrolled,
        enrolled_total,
        implant_needed,
        implant_total: protocol_animals.map_or(computed, |k| k.max(enrolled_total)),
        protocol_animals,
        underpowered: Vec::new(),
    }
}

impl AnimalPlan {
    /// Spare animals included in [`AnimalPlan::implant_total`].
    pub fn spares(&self) -> u32 {
        self.implant_total.saturating_sub(self.implant_needed)
    }

    /// The arithmetic in one line, as `resources.csv` and `power` print it, e.g.
    /// "10+10 per arm / (1 − attrition 5%) = 22 randomized / (take 90% × yield 82%) = 30
    /// + 3 spares (10%) = 33".
    pub fn arithmetic(&self) -> String {
        // Percent to 0.1, trailing zeros trimmed (5, 82.2, 100).
        let pct = |x: f64| crate::output::fmt_value((x * 1000.0).round() / 10.0);
        let arms: Vec<String> = self.arm_n.iter().map(u32::to_string).collect();
        let head = format!(
            "{} per arm / (1 − attrition {}%) = {} randomized",
            arms.join("+"),
            pct(self.attrition),
            self.enrolled_total
        );
        match self.protocol_animals {
            Some(k) => format!(
                "{head}; the protocol implants {k}{}",
                if self.implant_total > k {
                    format!(", raised to the {} randomized", self.implant_total)
                } else {
                    String::new()
                }
            ),
            None => format!(
                "{head} / (take {}% × enrollment yield {}%) = {} + {} spares ({}%) = {}",
                pct(self.take_rate),
                pct(self.enrollment_yield),
                self.implant_needed,
                self.spares(),
                pct(self.spare_fraction),
                self.implant_total
            ),
        }
    }
}

/// The animal plan of every cohort of a xenograft protocol at its own arm sizes (empty for
/// other kinds): the engine's pilot-simulated yield, or `yield_override` (e.g.
/// `timeline --enrollment-yield`). A protocol the engine cannot simulate gets the assumed
/// default yield of its enrollment mode, with the reason in the yield source.
pub fn protocol_plans(
    protocol: &crate::protocol::Protocol,
    yield_override: Option<f64>,
) -> Vec<AnimalPlan> {
    let Some(x) = protocol.xenograft() else {
        return Vec::new();
    };
    let opts = super::SimOptions {
        body_weight: false,
        record_diameters: false,
        record_pre_treatment: false,
        ..super::SimOptions::default()
    };
    let engine = super::Engine::new(protocol, &opts);
    x.cohorts
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let mut l = match &engine {
                Ok(e) => e.losses(ci).clone(),
                Err(err) => {
                    let y = default_yield(x.enrollment.mode);
                    Losses {
                        take_rate: c.take_rate.value,
                        enrollment_yield: y,
                        yield_source: format!(
                            "assumed {}% (the protocol cannot be simulated: {err})",
                            crate::output::fmt_value(y * 100.0)
                        ),
                        attrition: x.husbandry.attrition.value,
                        spare_fraction: x.husbandry.spare_fraction,
                    }
                }
            };
            if let Some(y) = yield_override {
                l.enrollment_yield = y;
                l.yield_source = "given by the user (--enrollment-yield)".into();
            }
            let arm_n: Vec<u32> = c.arms.iter().map(|a| a.n).collect();
            plan_for_arms(&c.name, &arm_n, c.implantation.animals, &l)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn losses(take_rate: f64, enrollment_yield: f64, attrition: f64, spare: f64) -> Losses {
        Losses {
            take_rate,
            enrollment_yield,
            yield_source: "test".into(),
            attrition,
            spare_fraction: spare,
        }
    }

    #[test]
    fn unequal_arms_sum_their_own_attrition_rounding() {
        // 10 → ⌈10/0.95⌉ = 11, 6 → ⌈6/0.95⌉ = 7: 18 randomized; /(0.9·0.8) = 25; ×1.1 → 28.
        let p = plan_for_arms("c", &[10, 6], None, &losses(0.9, 0.8, 0.05, 0.10));
        assert_eq!(
            (p.enrolled_total, p.implant_needed, p.implant_total),
            (18, 25, 28)
        );
        assert_eq!(p.spares(), 3);
        assert_eq!(
            p.arithmetic(),
            "10+6 per arm / (1 − attrition 5%) = 18 randomized / (take 90% × enrollment yield 80%) = 25 + 3 spares (10%) = 28"
        );
    }

    #[test]
    fn protocol_number_replaces_the_computation_but_not_below_randomized() {
        let l = losses(0.5, 0.5, 0.0, 0.1);
        let p = plan_for_arms("c", &[5, 5], Some(40), &l);
        assert_eq!(p.implant_total, 40);
        let q = plan_for_arms("c", &[5, 5], Some(6), &l);
        assert_eq!(q.implant_total, 10);
        assert!(
            q.arithmetic()
                .ends_with("the protocol implants 6, raised to the 10 randomized")
        );
    }
}
