//! Round-trip tests: simulate studies from known parameters with the same model equations
//! (log-normal random effects, additive normal for the exponential rate, log-normal residual
//! error, some animals leaving early), fit them, and count how often each 95% CI holds the
//! truth. The full 200-repetition table is `#[ignore]` (run with
//! `cargo test --release --lib fit::tests::coverage::coverage_full -- --ignored --nocapture`); a
//! cheaper version always runs.
//!
//! Measured 2026-11-22 (200 repetitions × 24 animals, 20% leaving early, 1000 parametric
//! resamples; % of repetitions whose interval holds the truth):
//!
//! | model (method)                    | V0   | V0 CV | rate | rate CV/SD | K    | K CV | σ    |
//! |-----------------------------------|------|-------|------|------------|------|------|------|
//! | exponential (REML LMM)            | 94.5 | 98.0  | 96.5 | 93.0       | —    | —    | 96.0 |
//! | exponential, 30 mm³ floor (ITS)   | 95.0 | 97.5  | 96.5 | 93.5       | —    | —    | 97.0 |
//! | Gompertz (ITS)                    | 93.0 | 97.0  | 96.0 | 97.0       | 93.0 | 93.5 | 96.0 |
//! | logistic (ITS)                    | 93.5 | 97.0  | 97.0 | 95.0       | 93.5 | 96.0 | 96.5 |

use crate::data::{Dataset, Observation};
use crate::fit::{FitOptions, Method, Model, VariabilityKind, fit};
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

use crate::protocol::sdlog_from_cv as sdlog;

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

/// Runs `reps` round trips; returns (labels, hits per estimate, misses with the truth below the
/// interval, successful fits).
fn coverage(
    t: &Truth,
    method: Method,
    reps: u64,
    boot: usize,
    n: usize,
    floor: Option<f64>,
) -> (Vec<String>, Vec<usize>, Vec<usize>, usize) {
    let truth = truth_values(t);
    let mut hits = vec![0usize; truth.len()];
    let mut low = vec![0usize; truth.len()];
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
            if truth[k] < e.ci_low {
                low[k] += 1;
            } else if truth[k] <= e.ci_high {
                hits[k] += 1;
            }
        }
    }
    (labels, hits, low, ok)
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
    // Both curves reach ~85% of the plateau by day 35 (Gompertz 2107 of 2500 mm³, logistic
    // 1688 of 2000 mm³): a pilot arm followed into the bend, where K is identified. A logistic
    // arm stopped at half its plateau (r 0.08, K 2500) does not identify K (the EM drifts
    // along a V0–r–K ridge); `fit` warns about such data instead.
    match model {
        Model::Logistic => Truth {
            model,
            v0: 150.0,
            v0_cv: 0.2,
            rate: 0.12,
            rate_var: 0.25,
            capacity: 2000.0,
            capacity_cv: 0.3,
            sigma: 0.10,
        },
        _ => Truth {
            model,
            v0: 150.0,
            v0_cv: 0.2,
            rate: 0.08,
            rate_var: 0.25,
            capacity: 2500.0,
            capacity_cv: 0.3,
            sigma: 0.10,
        },
    }
}

fn report(t: &Truth, method: Method, reps: u64, boot: usize, floor: Option<f64>, min_cov: f64) {
    let (labels, hits, low, ok) = coverage(t, method, reps, boot, 24, floor);
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
    for ((l, h), lo) in labels.iter().zip(&hits).zip(&low) {
        let cov = *h as f64 / ok as f64;
        let above = ok - h - lo;
        println!(
            "coverage {name:<30} {l:<22} {:>5.1}% ({h}/{ok}; truth below CI {lo}, above {above})",
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
    // (the −25% plateau bias of the plain two-stage, animal resampling's narrow variance
    // intervals) fails here; the 90% criterion is the ignored full test's. 0.75 is ~4
    // binomial SE below 95% at 20 repetitions.
    report(&exp_truth(), Method::Lmm, 20, 100, None, 0.75);
    report(
        &nonlin_truth(Model::Logistic),
        Method::TwoStage,
        20,
        100,
        None,
        0.75,
    );
}

#[test]
#[ignore]
fn coverage_full() {
    // Every configuration is run and printed before any assertion fails. Environment
    // overrides for exploration: XP_COVERAGE_REPS, XP_COVERAGE_BOOT, XP_COVERAGE_ONLY
    // (comma-separated substrings of the configuration names, e.g. "gompertz,logistic").
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let reps = env("XP_COVERAGE_REPS", 200);
    let boot = env("XP_COVERAGE_BOOT", 1000) as usize;
    let only = std::env::var("XP_COVERAGE_ONLY").unwrap_or_default();
    let runs = [
        ("exponential/lmm", exp_truth(), Method::Lmm, None),
        // Not in the default list (its point estimates match the LMM's; 100 × 200 gave the
        // LMM's coverage to the repetition): XP_COVERAGE_ONLY=exponential/two-stage.
        ("exponential/two-stage", exp_truth(), Method::TwoStage, None),
        (
            "exponential/censored",
            censored_exp_truth(),
            Method::TwoStage,
            Some(30.0),
        ),
        (
            "gompertz",
            nonlin_truth(Model::Gompertz),
            Method::TwoStage,
            None,
        ),
        (
            "logistic",
            nonlin_truth(Model::Logistic),
            Method::TwoStage,
            None,
        ),
    ];
    let results: Vec<_> = runs
        .iter()
        .filter(|(name, ..)| {
            if only.is_empty() {
                *name != "exponential/two-stage"
            } else {
                only.split(',').any(|o| name.contains(o))
            }
        })
        .map(|(_, t, m, f)| std::panic::catch_unwind(|| report(t, *m, reps, boot, *f, 0.90)))
        .collect();
    assert!(results.iter().all(|r| r.is_ok()));
}

#[test]
#[ignore]
fn bias_table() {
    // Point-estimate bias over 60 round trips (no bootstrap), for the notes:
    // `cargo test --release --lib fit::tests::coverage::bias_table -- --ignored --nocapture`.
    for m in [Model::Gompertz, Model::Logistic] {
        let t = nonlin_truth(m);
        let truth = truth_values(&t);
        let mut all: Vec<Vec<f64>> = Vec::new();
        for rep in 0..60 {
            let data = simulate(&t, 24, 35.0, 0.2, None, 2024, rep);
            let mut opts = FitOptions::new(m);
            opts.bootstrap_reps = 0;
            opts.method = Method::TwoStage;
            let r = fit(&data, &opts).unwrap();
            let mut e = Vec::new();
            for p in &r.params {
                e.push(p.typical.value);
                e.push(p.variability.value);
            }
            e.push(r.residual_sd.value);
            all.push(e);
        }
        for (k, tk) in truth.iter().enumerate() {
            let mut v: Vec<f64> = all.iter().map(|e| e[k]).collect();
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            println!(
                "bias {m:?} #{k}: truth {tk:.4} mean {mean:.4} ({:+.1}%) median {:.4} ({:+.1}%)",
                100.0 * (mean / tk - 1.0),
                v[v.len() / 2],
                100.0 * (v[v.len() / 2] / tk - 1.0)
            );
        }
    }
}
