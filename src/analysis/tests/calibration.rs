//! Null calibration (issue 4, item 6): with all arms identical, every test rejects at rate α
//! within ±4 SE over many simulated studies (exact tests on discrete data — Fisher, and the
//! log-rank on visit-day-tied times — may only be conservative: ≤ α + 4 SE).
//!
//! The simulator is not used here on purpose: a minimal exponential-growth generator keeps the
//! check independent of the simulator's models. Each animal: V0 ~ log-normal(ln 150, 0.2),
//! growth rate r ~ N(0.03, 0.03²)/day, measured V = V0·exp(r·t)·exp(ε), ε ~ N(0, 0.1²), visits on
//! days 0, 3, 7, 10, 14, 17, 21, 24, 28; an animal leaves after its first visit at ≥ 4× its
//! measured baseline (the endpoint), as in a real study. Study s uses stream (seed, [s]).

use crate::analysis::pipeline::{AnalysisOptions, EndpointRule, analyze};
use crate::data::{Dataset, Observation};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

const DAYS: [f64; 9] = [0.0, 3.0, 7.0, 10.0, 14.0, 17.0, 21.0, 24.0, 28.0];

const ALPHA: f64 = 0.05;

fn null_study(seed: u64, s: u64, n_per_arm: usize) -> Dataset {
    let mut rng = crate::rng::stream(seed, &[s]);
    let z = Normal::new(0.0, 1.0).expect("valid normal");
    let mut rows = Vec::new();
    for arm in ["control", "treated"] {
        for k in 0..n_per_arm {
            let v0 = (150f64.ln() + 0.2 * z.sample(&mut rng)).exp();
            let r = 0.03 + 0.03 * z.sample(&mut rng);
            let mut base = f64::NAN;
            for &d in &DAYS {
                let v = v0 * (r * d).exp() * (0.1 * z.sample(&mut rng)).exp();
                if d == 0.0 {
                    base = v;
                }
                rows.push(Observation {
                    animal_id: format!("{arm}-{k}"),
                    cohort: String::new(),
                    arm: arm.into(),
                    day: d,
                    length_mm: None,
                    width_mm: None,
                    volume_mm3: Some(v),
                    body_weight_g: None,
                });
                if d > 0.0 && v >= 4.0 * base {
                    break;
                }
            }
            let _ = rng.next_u64(); // keep animals' streams aligned whatever the visit count
        }
    }
    Dataset { rows }
}

/// Rejection counts per test and the number of studies where the test was defined.
fn rejection_table(seed: u64, studies: u64, n_per_arm: usize) -> Vec<(&'static str, usize, usize)> {
    let mut opt = AnalysisOptions::new("control");
    opt.bootstrap_reps = 0;
    opt.endpoint = EndpointRule::FoldBaseline(4.0);
    let per_study: Vec<Vec<Option<bool>>> = (0..studies)
        .into_par_iter()
        .map(|s| {
            let r = analyze(&null_study(seed, s, n_per_arm), &opt).expect("null study analyzes");
            crate::analysis::hypotheses::default_tests()
                .iter()
                .map(|k| {
                    r.tests
                        .iter()
                        .find(|t| t.key == *k)
                        .and_then(|t| t.p_value.is_finite().then_some(t.p_value < ALPHA))
                })
                .collect()
        })
        .collect();
    crate::analysis::hypotheses::default_tests()
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let defined = per_study.iter().filter(|v| v[i].is_some()).count();
            let rejected = per_study.iter().filter(|v| v[i] == Some(true)).count();
            (k.as_str(), rejected, defined)
        })
        .collect()
}

fn check(table: &[(&'static str, usize, usize)], studies: u64) {
    let mut report = format!("null calibration, {studies} studies, alpha {ALPHA}\n");
    let mut failures = Vec::new();
    for &(k, rej, n) in table {
        let rate = rej as f64 / n as f64;
        let se = (ALPHA * (1.0 - ALPHA) / n as f64).sqrt();
        let conservative_ok = matches!(k, "response" | "logrank");
        report.push_str(&format!(
            "{k:<10} {rate:.4} ± {:.4} (SE of alpha {se:.4}; {n} studies with the test defined)\n",
            (rate * (1.0 - rate) / n as f64).sqrt()
        ));
        assert!(
            n as f64 >= 0.95 * studies as f64,
            "{k}: defined in only {n} of {studies} studies"
        );
        let hi = ALPHA + 4.0 * se;
        let lo = if conservative_ok {
            0.0
        } else {
            ALPHA - 4.0 * se
        };
        if rate < lo || rate > hi {
            failures.push(format!("{k}: {rate:.4} outside [{lo:.4}, {hi:.4}]"));
        }
    }
    eprintln!("{report}");
    assert!(failures.is_empty(), "{failures:?}\n{report}");
}

#[test]
fn null_type_one_error_is_calibrated_quick() {
    let studies = 600;
    check(&rejection_table(20_261_122, studies, 8), studies);
}

#[test]
#[ignore = "4000 studies; run with --release -- --ignored"]
fn null_type_one_error_is_calibrated_4000() {
    let studies = 4000;
    check(&rejection_table(4_000, studies, 8), studies);
}

/// Log-rank null rejection rate at `n_per_arm` (rejected, studies with the test defined).
fn logrank_rejections(seed: u64, studies: u64, n_per_arm: usize) -> (usize, usize) {
    let mut opt = AnalysisOptions::new("control");
    opt.bootstrap_reps = 0;
    opt.run_lmm = false;
    opt.endpoint = EndpointRule::FoldBaseline(4.0);
    let p: Vec<f64> = (0..studies)
        .into_par_iter()
        .map(|s| {
            let r = analyze(&null_study(seed, s, n_per_arm), &opt).expect("null study analyzes");
            r.tests
                .iter()
                .find(|t| t.key == crate::protocol::TestKey::Logrank)
                .map_or(f64::NAN, |t| t.p_value)
        })
        .collect();
    let defined = p.iter().filter(|p| p.is_finite()).count();
    (p.iter().filter(|&&p| p < ALPHA).count(), defined)
}

/// Issue 16: the exact permutation log-rank keeps type I ≤ α + 4 SE at n = 3, 5, 8 per arm
/// (the χ² version rejected 0.062–0.065 at n = 5 with visit-day ties).
#[test]
#[ignore = "3 x 4000 studies; run with --release -- --ignored --nocapture"]
fn logrank_type_one_error_small_n_4000() {
    let studies = 4000;
    let mut fails = Vec::new();
    for n in [3, 5, 8] {
        let (rej, def) = logrank_rejections(16_000 + n as u64, studies, n);
        let rate = rej as f64 / def as f64;
        let hi = ALPHA + 4.0 * (ALPHA * (1.0 - ALPHA) / def as f64).sqrt();
        eprintln!("log-rank n = {n}: type I {rate:.4} ({rej}/{def} studies), limit {hi:.4}");
        if rate > hi {
            fails.push(format!("n = {n}: {rate:.4} > {hi:.4}"));
        }
    }
    assert!(fails.is_empty(), "{fails:?}");
}
