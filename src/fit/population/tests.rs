//! Unit tests of `src/fit/population.rs`.

use super::*;
use rand::RngExt;
use rand_distr::{Distribution, Normal};

#[test]
fn gts_with_equal_precision_matches_moments() {
    // Equal, known estimation variance c: the solution is mean = x̄ and
    // ω² = max(s² − c, 0) with s² the 1/(n − 1) variance (REML of the balanced model).
    let mut rng = crate::rng::stream(7, &[1]);
    let nd = Normal::new(0.0, 1.0).unwrap();
    let c: f64 = 0.25;
    let phi: Vec<Vec<f64>> = (0..40)
        .map(|_| vec![2.0 + nd.sample(&mut rng) * 0.8 + nd.sample(&mut rng) * c.sqrt()])
        .collect();
    let prec = vec![vec![vec![1.0 / c]]; 40];
    let pop = gts(&phi, &prec, None, 1e-10, 5000).unwrap();
    let mean = phi.iter().map(|x| x[0]).sum::<f64>() / 40.0;
    let s2 = phi.iter().map(|x| (x[0] - mean).powi(2)).sum::<f64>() / 39.0;
    assert!(
        (pop.mean[0] - mean).abs() < 1e-6,
        "{} {}",
        pop.mean[0],
        mean
    );
    assert!(
        (pop.omega[0][0] - (s2 - c)).abs() < 1e-5,
        "{} {}",
        pop.omega[0][0],
        s2 - c
    );
    // Shrinkage: EB estimates are pulled toward the mean by ω²/(ω² + c).
    let k = pop.omega[0][0] / (pop.omega[0][0] + c);
    assert!((pop.individual[3][0] - (mean + k * (phi[3][0] - mean))).abs() < 1e-5);
}

#[test]
fn gts_ignores_unidentified_directions() {
    // Animal 0 carries no information about parameter 1 (singular precision): the mean of
    // parameter 1 comes from the others.
    let mut phi = vec![vec![1.0, 100.0]];
    let mut prec = vec![vec![vec![100.0, 0.0], vec![0.0, 0.0]]];
    let mut rng = crate::rng::stream(3, &[]);
    for _ in 0..30 {
        phi.push(vec![
            1.0 + 0.1 * rng.random_range(-1.0..1.0),
            5.0 + rng.random_range(-1.0..1.0),
        ]);
        prec.push(vec![vec![100.0, 0.0], vec![0.0, 100.0]]);
    }
    let pop = gts(&phi, &prec, None, 1e-10, 5000).unwrap();
    assert!((pop.mean[1] - 5.0).abs() < 0.3, "{:?}", pop.mean);
}

#[test]
fn bca_reduces_to_percentile_without_bias_or_skew() {
    let boot: Vec<f64> = (0..1001).map(|i| i as f64 / 1000.0).collect();
    let jack = vec![1.0, 2.0, 3.0];
    let (lo, hi) = bca_interval(0.5, &boot, &jack, 0.95, None);
    assert!(
        (lo - 0.025).abs() < 1e-3 && (hi - 0.975).abs() < 1e-3,
        "{lo} {hi}"
    );
    let (lo, hi) = bca_interval(2.0, &boot, &jack, 0.95, None);
    assert!((lo - 0.025).abs() < 1e-9 && (hi - 0.975).abs() < 1e-9);
    // Expanded with t₁₀: levels Φ(∓2.228139) = 0.01294 / 0.98706 (scipy.stats.t.ppf).
    let (lo, hi) = bca_interval(0.5, &boot, &jack, 0.95, Some(10.0));
    assert!(
        (lo - 0.01294).abs() < 2e-3 && (hi - 0.98706).abs() < 2e-3,
        "{lo} {hi}"
    );
}
