//! Round-trip tests: simulate studies from known parameters with the same model equations
//! (log-normal random effects, additive normal for the exponential rate, log-normal residual
//! error, some animals leaving early), fit them, and count how often each 95% CI holds the
//! truth. The full 200-repetition table is `#[ignore]` (run with
//! `cargo test --release --lib fit::coverage -- --ignored --nocapture`); a cheaper version
//! always runs.

use super::{FitOptions, Method, Model, VariabilityKind, fit};
use crate::analysis::{Dataset, Observation};
use rand::RngExt;
use rand_distr::{Distribution, Normal};

/// True parameters of a simulated pilot arm.
#[derive(Debug, Clone, Copy)]
pub struct Truth {
    model: Model,
    v0: f64,
    v0_cv: f64,
    rate: f64,
    /// CV (log-normal) or, for the exponential rate, SD (normal).
    rate_var: f64,
    capacity: f64,
    capacity_cv: f64,
    sigma: f64,
}

fn sdlog(cv: f64) -> f64 {
    cv.mul_add(cv, 1.0).ln().sqrt()
}

/// Simulates `n` animals measured twice weekly for `days` days; each animal leaves early with
/// probability `p_leave` at a uniformly chosen visit after the third; readings at or below
/// `floor` are recorded as 0 (not palpable).
pub fn simulate(
    t: &Truth,
    n: usize,
    days: f64,
    p_leave: f64,
    floor: Option<f64>,
    seed: u64,
    rep: u64,
) -> Dataset {
    let mut rng = crate::rng::stream(seed, &[rep]);
    let z = Normal::new(0.0, 1.0).expect("unit normal");
    let visits: Vec<f64> = (0..)
        .map(|k| k as f64 * 3.5)
        .take_while(|d| *d <= days + 1e-9)
        .collect();
    let mut rows = Vec::new();
    for a in 0..n {
        let v0 = t.v0.ln() + sdlog(t.v0_cv) * z.sample(&mut rng);
        let rate = match t.model {
            Model::Exponential => t.rate + t.rate_var * z.sample(&mut rng),
            _ => t.rate.ln() + sdlog(t.rate_var) * z.sample(&mut rng),
        };
        let k = t.capacity.ln() + sdlog(t.capacity_cv) * z.sample(&mut rng);
        let phi = match t.model {
            Model::Exponential => vec![v0, rate],
            _ => vec![v0, rate, k],
        };
        let last = if rng.random_range(0.0..1.0) < p_leave {
            rng.random_range(3..visits.len())
        } else {
            visits.len() - 1
        };
        for &d in &visits[..=last] {
            let v = (t.model.ln_volume(&phi, d) + t.sigma * z.sample(&mut rng)).exp();
            let v = if floor.is_some_and(|f| v <= f) {
                0.0
            } else {
                v
            };
            rows.push(Observation {
                animal_id: format!("A{a:02}"),
                cohort: String::new(),
                arm: "vehicle".into(),
                day: d,
                length_mm: None,
                width_mm: None,
                volume_mm3: Some(v),
                body_weight_g: None,
            });
        }
    }
    Dataset { rows }
}

fn truth_values(t: &Truth) -> Vec<f64> {
    // Order of the fit's estimates: (typical, variability) per parameter, then σ.
    let mut v = vec![t.v0, t.v0_cv, t.rate, t.rate_var];
    if t.model != Model::Exponential {
        v.extend([t.capacity, t.capacity_cv]);
    }
    v.push(t.sigma);
    v
}

/// Runs `reps` round trips; returns (labels, hits per estimate, successful fits).
fn coverage(
    t: &Truth,
    method: Method,
    reps: u64,
    boot: usize,
    n: usize,
    floor: Option<f64>,
) -> (Vec<String>, Vec<usize>, usize) {
    let truth = truth_values(t);
    let mut hits = vec![0usize; truth.len()];
    let mut labels = Vec::new();
    let mut ok = 0;
    for rep in 0..reps {
        let data = simulate(t, n, 35.0, 0.2, floor, 2024, rep);
        let mut opts = FitOptions::new(t.model);
        opts.bootstrap_reps = boot;
        opts.seed = rep + 1;
        opts.method = method;
        let Ok(r) = fit(&data, &opts) else { continue };
        ok += 1;
        let mut ests = Vec::new();
        labels.clear();
        for p in &r.params {
            let var = if p.kind == VariabilityKind::NormalSd {
                "sd"
            } else {
                "cv"
            };
            labels.push(format!("{} typical", p.name));
            labels.push(format!("{} {var}", p.name));
            ests.push(p.typical);
            ests.push(p.variability);
        }
        labels.push("residual sd".into());
        ests.push(r.residual_sd);
        for (k, e) in ests.iter().enumerate() {
            if e.ci_low <= truth[k] && truth[k] <= e.ci_high {
                hits[k] += 1;
            }
        }
    }
    (labels, hits, ok)
}

fn exp_truth() -> Truth {
    // Bench P1 control growth: g = ln 2 / 7 per day with SD 0.25·g, V0 CV ~ 15%, ε SD 0.10.
    Truth {
        model: Model::Exponential,
        v0: 175.0,
        v0_cv: 0.15,
        rate: 2f64.ln() / 7.0,
        rate_var: 0.25 * 2f64.ln() / 7.0,
        capacity: 0.0,
        capacity_cv: 0.0,
        sigma: 0.10,
    }
}

fn censored_exp_truth() -> Truth {
    // Small tumours under a 30 mm³ floor: about a quarter of the day-0 readings are censored.
    Truth {
        v0: 40.0,
        v0_cv: 0.4,
        ..exp_truth()
    }
}

fn nonlin_truth(model: Model) -> Truth {
    Truth {
        model,
        v0: 150.0,
        v0_cv: 0.2,
        rate: 0.08,
        rate_var: 0.25,
        capacity: 2500.0,
        capacity_cv: 0.3,
        sigma: 0.10,
    }
}

fn report(t: &Truth, method: Method, reps: u64, boot: usize, floor: Option<f64>, min_cov: f64) {
    let (labels, hits, ok) = coverage(t, method, reps, boot, 24, floor);
    let name = format!(
        "{}/{}{}",
        t.model.name(),
        match method {
            Method::Lmm => "lmm",
            Method::TwoStage => "two-stage",
            Method::Auto => "auto",
        },
        if floor.is_some() { "/censored" } else { "" }
    );
    assert!(
        ok as u64 >= reps * 95 / 100,
        "{name}: only {ok}/{reps} fits succeeded"
    );
    let mut failures = Vec::new();
    for (l, h) in labels.iter().zip(&hits) {
        let cov = *h as f64 / ok as f64;
        println!(
            "coverage {name:<30} {l:<22} {:>5.1}% ({h}/{ok})",
            cov * 100.0
        );
        if cov < min_cov {
            failures.push(format!("{l}: {:.1}%", cov * 100.0));
        }
    }
    assert!(
        failures.is_empty(),
        "{name} coverage below {min_cov}: {failures:?}"
    );
}

#[test]
fn round_trip_point_estimates_are_close() {
    // One large study: the estimates land near the truth (tolerances ~4 SE for 60 animals).
    let t = nonlin_truth(Model::Gompertz);
    let data = simulate(&t, 60, 42.0, 0.2, None, 99, 0);
    let mut opts = FitOptions::new(Model::Gompertz);
    opts.bootstrap_reps = 0;
    let r = fit(&data, &opts).unwrap();
    let rel = |e: f64, t: f64| (e - t).abs() / t;
    assert!(
        rel(r.params[0].typical.value, t.v0) < 0.12,
        "{:?}",
        r.params[0]
    );
    assert!(
        rel(r.params[1].typical.value, t.rate) < 0.15,
        "{:?}",
        r.params[1]
    );
    assert!(
        rel(r.params[2].typical.value, t.capacity) < 0.25,
        "{:?}",
        r.params[2]
    );
    assert!(
        rel(r.residual_sd.value, t.sigma) < 0.12,
        "{:?}",
        r.residual_sd
    );
}

#[test]
fn censored_floor_does_not_bias_the_rate() {
    // Small tumours (V0 40 mm³) under a 30 mm³ floor: ~25% of day-0 readings censored.
    let t = censored_exp_truth();
    let data = simulate(&t, 80, 28.0, 0.0, Some(30.0), 5, 0);
    let mut opts = FitOptions::new(Model::Exponential);
    opts.bootstrap_reps = 0;
    let r = fit(&data, &opts).unwrap();
    assert!(r.n_censored > 5, "{}", r.n_censored);
    assert!(
        (r.params[0].typical.value - 40.0).abs() / 40.0 < 0.12,
        "{:?}",
        r.params[0]
    );
    assert!(
        (r.params[1].typical.value - t.rate).abs() < 0.01,
        "{:?}",
        r.params[1]
    );
}

#[test]
fn coverage_quick() {
    // 20 repetitions × 100 resamples (fixed seeds, so deterministic): a gross miscalibration
    // fails here; the 90% criterion is the ignored full test's. The Gompertz floor is lower
    // because its between-animal CV of the rate under-covers (65% here, 80% at 30 × 200; see
    // the full table): a known limitation of the two-stage method with 3 correlated
    // per-animal parameters and 20% early leavers, kept visible rather than hidden.
    report(&exp_truth(), Method::Lmm, 20, 100, None, 0.70);
    report(
        &nonlin_truth(Model::Gompertz),
        Method::TwoStage,
        20,
        100,
        None,
        0.60,
    );
}

#[test]
#[ignore]
fn coverage_full() {
    // Every configuration is run and printed before any assertion fails.
    let runs = [
        (exp_truth(), Method::Lmm, None),
        (exp_truth(), Method::TwoStage, None),
        (censored_exp_truth(), Method::TwoStage, Some(30.0)),
        (nonlin_truth(Model::Gompertz), Method::TwoStage, None),
        (nonlin_truth(Model::Logistic), Method::TwoStage, None),
    ];
    let results: Vec<_> = runs
        .iter()
        .map(|(t, m, f)| std::panic::catch_unwind(|| report(t, *m, 200, 1000, *f, 0.90)))
        .collect();
    assert!(results.iter().all(|r| r.is_ok()));
}
