//! Closed-form a-priori power of the synergy tests (`bliss-lmm`, `hsa-lmm`), as SynergyLMM's
//! `APrioriPwr` computes it (tests/fixtures/synergy/README.md quotes its code).
//!
//! Model: ln RTV_ij = b_g·t_j + u_i·t_j + ε_ij with the baseline reading exact (ln RTV = 0 at
//! t = 0), u_i ~ N(0, σ_u²), ε ~ N(0, σ²). For one animal the covariance over its days t is
//! V = σ²I + σ_u²·t tᵀ, so the information on its group's slope is
//! tᵀV⁻¹t = S / (σ² + σ_u²·S), S = Σ t² (Sherman–Morrison), and a group of n animals gives
//! I = n·tᵀV⁻¹t. For the contrast L·b (Bliss L = (−1, 1, 1, −1) on (C, A, B, AB): null minus
//! combination; HSA L = (0, 1, 0, −1) or (0, 0, 1, −1), the slower single agent):
//! F = (L·b)²·I / ΣL², noncentrality λ = F (1 numerator df), denominator df N − M − 3 with
//! N = 4·n·T observations (T days, the baseline day counted) and M = 4·n animals (SynergyLMM's
//! choice), power = P(F(1, ddf, λ) > F_{1−α}(1, ddf)) = the two-sided noncentral-t power with
//! δ = √λ. xenoplan's own test (t with Satterthwaite df) has df M − 4 when every animal is
//! read on the same days; its closed form uses that df ([`SynergyPower::power_satterthwaite`]).
//!
//! Units: xenoplan takes the random-slope SD σ_u in absolute units (/day); SynergyLMM's
//! `sd_ranef` is relative to the residual SD (σ_u = sd_ranef·σ). The baseline reading is
//! taken as exact by `APrioriPwr`: with caliper error on the baseline too, ln RTV carries −ε₀
//! at every day and power is lower; [`SynergyPower::power_satterthwaite`] includes that term
//! (checked against whole simulated studies of examples/synergy_power.toml).

use super::nct::t_test_power;
use crate::protocol::TestKey;

/// The design of one synergy comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct SynergyDesign {
    /// Typical growth rates of control, drug A, drug B and the combination, /day.
    pub rates: [f64; 4],
    /// Between-animal SD of the growth rate (absolute, /day), common to the four groups.
    pub slope_sd: f64,
    /// Residual SD of ln volume.
    pub sigma: f64,
    /// Reading days relative to baseline, the baseline (0) included.
    pub days: Vec<f64>,
    /// SD of the log error of the baseline reading that ln(V/V0) divides by (0 = exact, as
    /// `APrioriPwr` assumes; the caliper SD when calipers err on day 0 too).
    pub baseline_sd: f64,
}

/// The closed-form test at one group size.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SynergyPower {
    /// F statistic of the expected data (= λ).
    pub f: f64,
    /// Numerator df (1).
    pub ndf: f64,
    /// Denominator df N − M − 3 (SynergyLMM's).
    pub ddf: f64,
    /// Power at level α with SynergyLMM's ddf (`APrioriPwr`).
    pub power: f64,
    /// Power of xenoplan's test on this design: with every animal read on the same days the
    /// REML estimate is the mean of per-animal slopes through the origin, b̂ᵢ = Σ t·yᵢ / S,
    /// and the t test with Satterthwaite df is the one-way ANOVA contrast on them (df M − 4).
    /// Their variance is σ_u² + σ²/S + σ₀²·(Σt)²/S² — the last term from the baseline
    /// reading's error σ₀, which ln(V/V0) carries into every day.
    pub power_satterthwaite: f64,
}

impl SynergyDesign {
    /// The design of a synergy unit on the tight model: the four arms' typical rates
    /// (m·rate − kill), their common between-animal rate SD, the caliper log-volume SD as the
    /// residual SD and the visit days up to the analysis day. `None` when the rates are not
    /// normal with a common SD.
    pub fn from_fast(d: &super::fast::FastDesign, arms: [usize; 4]) -> Option<SynergyDesign> {
        let mut rates = [0.0; 4];
        let mut sd = None;
        for (k, &a) in arms.iter().enumerate() {
            let arm = &d.arms[a];
            let super::fast::RateDraw::Normal { mean, sd: s } = arm.rate else {
                return None;
            };
            rates[k] = mean * arm.mult - arm.kill;
            let s = s * arm.add_mult;
            match sd {
                None => sd = Some(s),
                Some(v) if (v - s).abs() <= 1e-12 * v.abs().max(1e-300) => {}
                Some(_) => return None,
            }
        }
        let t0 = d.visit_days[0];
        Some(SynergyDesign {
            rates,
            slope_sd: sd?,
            sigma: d.eps_sd,
            days: d.visit_days[..=d.analysis_visit]
                .iter()
                .map(|t| t - t0)
                .collect(),
            baseline_sd: d.eps_sd,
        })
    }
}

/// Power of `key` (`bliss-lmm` or `hsa-lmm`) with `npg` animals per group at two-sided level
/// `alpha`; `None` for other tests or a degenerate design.
pub fn apriori_power(
    d: &SynergyDesign,
    key: TestKey,
    npg: u32,
    alpha: f64,
) -> Option<SynergyPower> {
    let [c, a, b, ab] = d.rates;
    let (l, sum_l2) = match key {
        TestKey::BlissLmm => (a + b - c - ab, 4.0),
        TestKey::HsaLmm => (a.min(b) - ab, 2.0),
        _ => return None,
    };
    let s: f64 = d.days.iter().map(|t| t * t).sum();
    let var_e = d.sigma * d.sigma;
    if s <= 0.0 || var_e <= 0.0 || npg == 0 {
        return None;
    }
    let info_one = s / (var_e + d.slope_sd * d.slope_sd * s);
    let n = f64::from(npg);
    let f = l * l * n * info_one / sum_l2;
    let ddf = 4.0 * n * d.days.len() as f64 - 4.0 * n - 3.0;
    if ddf <= 0.0 {
        return None;
    }
    let df_animals = 4.0 * n - 4.0;
    let sum_t: f64 = d.days.iter().sum();
    let v_slope = 1.0 / info_one + d.baseline_sd * d.baseline_sd * sum_t * sum_t / (s * s);
    let f_ours = l * l * n / v_slope / sum_l2;
    Some(SynergyPower {
        f,
        ndf: 1.0,
        ddf,
        power: t_test_power(f.sqrt(), ddf, alpha),
        power_satterthwaite: if df_animals > 0.0 {
            t_test_power(f_ours.sqrt(), df_animals, alpha)
        } else {
            f64::NAN
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> SynergyDesign {
        // SynergyLMM's documented example: rates 0.079/0.075/0.063/0.035, sd_ranef 0.039
        // relative to the residual SD 0.215, days 0..30 every 3.
        SynergyDesign {
            rates: [0.079, 0.075, 0.063, 0.035],
            slope_sd: 0.039 * 0.215,
            sigma: 0.215,
            days: (0..=10).map(|k| 3.0 * f64::from(k)).collect(),
            baseline_sd: 0.0,
        }
    }

    /// tests/fixtures/synergy/apriori.csv (APrioriPwr, R): F, ddf and power for n = 1..10.
    #[test]
    fn matches_synergylmm_apriori_power() {
        let path = format!(
            "{}/tests/fixtures/synergy/apriori.csv",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut r = csv::Reader::from_path(path).expect("fixture");
        let mut rows = 0;
        for rec in r.records() {
            let rec = rec.expect("row");
            let npg: u32 = rec[0].parse().expect("npg");
            let key = match &rec[1] {
                "Bliss" => TestKey::BlissLmm,
                _ => TestKey::HsaLmm,
            };
            let (f, ddf, power): (f64, f64, f64) = (
                rec[2].parse().expect("F"),
                rec[4].parse().expect("ddf"),
                rec[5].parse().expect("power"),
            );
            let got = apriori_power(&example(), key, npg, 0.05).expect("defined");
            assert!(
                (got.f - f).abs() < 1e-4 * f,
                "n={npg} {key:?}: F {} vs {f}",
                got.f
            );
            assert_eq!(got.ddf, ddf, "n={npg}");
            assert!(
                (got.power - power).abs() < 1e-4,
                "n={npg} {key:?}: power {} vs {power}",
                got.power
            );
            rows += 1;
        }
        assert_eq!(rows, 20);
        let p8 = apriori_power(&example(), TestKey::BlissLmm, 8, 0.05).expect("defined");
        assert!((p8.f - 13.77187).abs() < 1e-4 && p8.ddf == 317.0);
        assert!((p8.power - 0.9590544).abs() < 1e-6, "{}", p8.power);
    }

    /// Monte Carlo of the `bliss-lmm` test of the analysis on data from APrioriPwr's own model
    /// (exact baseline, random slopes, independent residuals): rejection rate within 4.5 SE
    /// of the closed form with the test's df at n = 4 and 8 per group (2000 studies each, fixed
    /// seed).
    #[test]
    fn monte_carlo_of_the_analysis_test_agrees_with_the_closed_form() {
        use crate::analysis::Animal;
        use crate::analysis::compare::{SynergyArms, synergy};
        use rand_distr::{Distribution, Normal};
        let d = example();
        let z = Normal::new(0.0, 1.0).expect("normal");
        for npg in [4u32, 8] {
            let reps = 2000u64;
            let mut hits = 0u64;
            for r in 0..reps {
                let mut rng = crate::rng::stream(20261202, &[u64::from(npg), r]);
                let groups: Vec<Vec<Animal>> = (0..4)
                    .map(|g| {
                        (0..npg)
                            .map(|i| {
                                let slope = d.rates[g] + d.slope_sd * z.sample(&mut rng);
                                let volumes = d
                                    .days
                                    .iter()
                                    .map(|&t| {
                                        let e = if t == 0.0 {
                                            0.0
                                        } else {
                                            d.sigma * z.sample(&mut rng)
                                        };
                                        (100f64.ln() + slope * t + e).exp()
                                    })
                                    .collect();
                                Animal {
                                    id: format!("{g}-{i}"),
                                    cohort: String::new(),
                                    arm: g.to_string(),
                                    days: d.days.clone(),
                                    volumes,
                                    baseline: 0,
                                    mean_diameters: vec![f64::NAN; d.days.len()],
                                }
                            })
                            .collect()
                    })
                    .collect();
                let refs: Vec<Vec<&Animal>> = groups.iter().map(|g| g.iter().collect()).collect();
                let arms = SynergyArms {
                    control: &refs[0],
                    a: &refs[1],
                    b: &refs[2],
                    ab: &refs[3],
                };
                if synergy(TestKey::BlissLmm, arms, 1e-9, 30.0).p_two < 0.05 {
                    hits += 1;
                }
            }
            let expected = apriori_power(&d, TestKey::BlissLmm, npg, 0.05)
                .expect("defined")
                .power_satterthwaite;
            let mc = hits as f64 / reps as f64;
            let se = (expected * (1.0 - expected) / reps as f64).sqrt();
            eprintln!("bliss-lmm n = {npg}: Monte Carlo {mc} vs closed form {expected}");
            assert!(
                (mc - expected).abs() < 4.5 * se,
                "n = {npg}: Monte Carlo {mc} vs closed form {expected} (SE {se})"
            );
        }
    }

    /// Whole simulated studies of examples/synergy_power.toml (calipers err on the baseline
    /// day too) agree with the closed form that includes the baseline error, within 4.5 SE at
    /// n = 8, while SynergyLMM's exact-baseline formula is far above them.
    #[test]
    fn protocol_monte_carlo_matches_the_closed_form_with_baseline_error() {
        let path = format!("{}/examples/synergy_power.toml", env!("CARGO_MANIFEST_DIR"));
        let p = crate::protocol::load(std::path::Path::new(&path))
            .expect("loads")
            .protocol;
        let mut s = crate::power::tests::settings(vec![8], 1000, 2);
        s.endpoints = vec![TestKey::BlissLmm];
        s.engine = crate::power::EngineChoice::Full;
        let r = crate::power::run_power(&p, &s, &|_| {}).expect("runs");
        let row = r
            .rows
            .iter()
            .find(|x| x.endpoint == "bliss-lmm")
            .expect("row");
        let a = row.analytic_synergy.expect("closed form");
        let se = (a.power_satterthwaite * (1.0 - a.power_satterthwaite) / 1000.0).sqrt();
        eprintln!(
            "synergy_power.toml n = 8: simulated {} vs closed form {} (SynergyLMM {})",
            row.power, a.power_satterthwaite, a.power
        );
        assert!((row.power - a.power_satterthwaite).abs() < 4.5 * se);
        assert!(a.power - row.power > 0.15);
    }
}
