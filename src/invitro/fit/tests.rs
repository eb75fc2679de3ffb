//! Unit tests of `src/invitro/fit.rs`.

use super::*;
use rand_distr::{Distribution, Normal};

/// Tolerance for exact recovery from noise-free data.
const EXACT_TOL: f64 = 1e-6;

fn doses() -> Vec<f64> {
    let base = [
        0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0,
    ];
    base.iter().flat_map(|&d| [d, d, d]).collect()
}

#[test]
fn recovers_parameters_from_noise_free_data() {
    for truth in [
        [10.0, 100.0, 1.0, 1.0],
        [0.0, 95.0, -0.5, 2.5],
        [30.0, 100.0, 2.5, 0.6],
        [0.1, 1.3, 0.2, 1.4],
    ] {
        let d = doses();
        let y: Vec<f64> = d.iter().map(|&x| model(&truth, x.log10())).collect();
        let f = fit_4pl(&d, &y).unwrap();
        for (est, tru) in f.params().iter().zip(truth) {
            assert!(
                (est - tru).abs() < EXACT_TOL * (1.0 + tru.abs()),
                "{:?} vs {truth:?}",
                f.params()
            );
        }
        assert!(f.ssr < 1e-12);
        assert!(
            (f.ic50_ci_low / f.ic50() - 1.0).abs() < 1e-5
                && (f.ic50_ci_high / f.ic50() - 1.0).abs() < 1e-5
        );
    }
}

#[test]
fn matches_scipy_curve_fit_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invitro");
    let data = std::fs::read_to_string(dir.join("fit_data.csv")).unwrap();
    let refs = std::fs::read_to_string(dir.join("fit_reference.csv")).unwrap();
    let mut checked = 0;
    for line in refs.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let v: Vec<f64> = c[1..].iter().map(|s| s.parse().unwrap()).collect();
        let (d, y): (Vec<f64>, Vec<f64>) = data
            .lines()
            .skip(1)
            .filter_map(|l| {
                let p: Vec<&str> = l.split(',').collect();
                (p[0] == c[0]).then(|| (p[1].parse::<f64>().unwrap(), p[2].parse::<f64>().unwrap()))
            })
            .unzip();
        let f = fit_4pl(&d, &y).unwrap();
        let est = f.params();
        for i in 0..4 {
            // Both optimizers stop at tight tolerances: agree to 1e-4 of a standard error.
            assert!(
                (est[i] - v[i]).abs() < 1e-4 * v[4 + i].max(1e-3),
                "{}: param {i}: {} vs scipy {}",
                c[0],
                est[i],
                v[i]
            );
            let se = f.covariance[i][i].sqrt();
            assert!(
                (se / v[4 + i] - 1.0).abs() < 1e-3,
                "{}: se {i}: {se} vs scipy {}",
                c[0],
                v[4 + i]
            );
        }
        assert!(
            (f.ssr / v[8] - 1.0).abs() < 1e-8,
            "{}: ssr {} vs {}",
            c[0],
            f.ssr,
            v[8]
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}

/// Coverage of the 95% Wald CI of the IC50 over seeded repetitions; printed for the
/// report (`cargo test --lib invitro::fit -- --nocapture`).
#[test]
fn ic50_ci_has_nominal_coverage() {
    let truth = [10.0, 100.0, 1.0, 1.0];
    let reps = 2000;
    let d = doses();
    let noise = Normal::new(0.0, 6.0).unwrap();
    let mut covered = 0;
    for r in 0..reps {
        let mut rng = crate::rng::stream(7, &[r]);
        let y: Vec<f64> = d
            .iter()
            .map(|&x| model(&truth, x.log10()) + noise.sample(&mut rng))
            .collect();
        let f = fit_4pl(&d, &y).unwrap();
        if f.ic50_ci_low <= 10.0 && 10.0 <= f.ic50_ci_high {
            covered += 1;
        }
    }
    let rate = covered as f64 / reps as f64;
    let se = (0.95f64 * 0.05 / reps as f64).sqrt();
    println!(
        "4PL IC50 95% CI coverage: {rate:.4} over {reps} seeded repetitions (±4 SE = {:.4})",
        4.0 * se
    );
    assert!((rate - 0.95).abs() < 4.0 * se, "coverage {rate}");
}

#[test]
fn weighted_fit_is_scale_invariant_and_relative_fit_runs() {
    let d: Vec<f64> = doses();
    let y: Vec<f64> = d
        .iter()
        .enumerate()
        .map(|(i, &x)| model(&[10.0, 100.0, 1.0, 1.0], x.log10()) + [1.0, -2.0, 1.5][i % 3])
        .collect();
    let a = fit_4pl(&d, &y).unwrap();
    let b = fit_4pl_weighted(&d, &y, &vec![0.01; d.len()]).unwrap();
    assert!(
        (a.log_ic50 - b.log_ic50).abs() < 1e-9
            && (a.se_log_ic50 / b.se_log_ic50 - 1.0).abs() < 1e-6
    );
    let c = fit_4pl_relative(&d, &y).unwrap();
    assert!((c.log_ic50 - 1.0).abs() < 0.1);
}

#[test]
fn rejects_too_few_points_and_non_finite() {
    assert!(matches!(
        fit_4pl(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]),
        Err(FitError::TooFewPoints { .. })
    ));
    assert!(matches!(
        fit_4pl(&[0.0, 0.0, 1.0, 1.0, 1.0, 1.0], &[1.0; 6]),
        Err(FitError::TooFewPoints { .. })
    ));
    assert_eq!(
        fit_4pl(&[1.0, 2.0, f64::NAN, 4.0, 5.0], &[1.0; 5]),
        Err(FitError::NonFinite)
    );
}

#[test]
fn flat_or_rising_data_do_not_panic() {
    let d = doses();
    let flat = vec![50.0; d.len()];
    let _ = fit_4pl(&d, &flat);
    let rising: Vec<f64> = d
        .iter()
        .map(|&x| model(&[100.0, 0.0, 1.0, 1.0], x.log10()))
        .collect();
    let f = fit_4pl(&d, &rising).unwrap();
    // The same curve written with top/bottom swapped or a negative slope: same IC50.
    assert!((f.log_ic50 - 1.0).abs() < 1e-6, "{f:?}");
}
