//! Unit tests of `src/fit/curves.rs`.

use super::*;

#[test]
fn curves_match_their_odes_and_limits() {
    let (v0, r, k) = (100.0f64, 0.1f64, 2000.0f64);
    let phi = [v0.ln(), r.ln(), k.ln()];
    for m in [Model::Gompertz, Model::Logistic] {
        assert!((m.ln_volume(&phi, 0.0) - v0.ln()).abs() < 1e-12);
        assert!((m.ln_volume(&phi, 1e4) - k.ln()).abs() < 1e-9);
        // dV/dt by central differences against the ODE right-hand side.
        let t = 12.0;
        let v = |t: f64| m.ln_volume(&phi, t).exp();
        let h = 1e-4;
        let dv = (v(t + h) - v(t - h)) / (2.0 * h);
        let rhs = match m {
            Model::Gompertz => r * v(t) * (k / v(t)).ln(),
            _ => r * v(t) * (1.0 - v(t) / k),
        };
        assert!((dv - rhs).abs() < 1e-5 * rhs.abs(), "{m:?}: {dv} vs {rhs}");
    }
    assert!((Model::Exponential.ln_volume(&[v0.ln(), r], 10.0) - (v0.ln() + 1.0)).abs() < 1e-12);
}

#[test]
fn ln_norm_cdf_tail_is_continuous() {
    // Reference: scipy.stats.norm.logcdf(-5) = -15.064998393988725
    assert!((ln_norm_cdf(-5.0) + 15.064998393988725).abs() < 1e-10);
    let a = ln_norm_cdf(-30.0 + 1e-9);
    let b = ln_norm_cdf(-30.0 - 1e-9);
    assert!((a - b).abs() / a.abs() < 1e-6, "{a} {b}");
    assert!(ln_norm_cdf(40.0) == 0.0 || ln_norm_cdf(40.0).abs() < 1e-300);
}

#[test]
fn noiseless_gompertz_and_logistic_are_recovered() {
    for m in [Model::Gompertz, Model::Logistic] {
        let phi = [150f64.ln(), 0.08f64.ln(), 3000f64.ln()];
        let days: Vec<f64> = (0..15).map(|i| i as f64 * 3.5).collect();
        let ln_v: Vec<f64> = days.iter().map(|t| m.ln_volume(&phi, *t)).collect();
        let s = AnimalSeries {
            id: "a".into(),
            arm: "x".into(),
            censored: vec![false; days.len()],
            days,
            ln_v,
        };
        let f = fit_animal(m, &s, 0.1).unwrap();
        for (est, truth) in f.phi.iter().zip(&phi) {
            assert!((est - truth).abs() < 1e-4, "{m:?}: {:?}", f.phi);
        }
    }
}

#[test]
fn censored_readings_pull_the_fit_below_the_floor() {
    // Exponential animal: true ln V = ln 20 + 0.15 t; floor 40 mm³ censors days 0 and 3.
    let days = vec![0.0, 3.0, 6.0, 9.0, 12.0, 15.0];
    let truth = |t: f64| 20f64.ln() + 0.15 * t;
    let floor = 40f64.ln();
    let censored: Vec<bool> = days.iter().map(|t| truth(*t) <= floor).collect();
    assert_eq!(censored, vec![true, true, false, false, false, false]);
    let ln_v: Vec<f64> = days
        .iter()
        .zip(&censored)
        .map(|(t, c)| if *c { floor } else { truth(*t) })
        .collect();
    let s = AnimalSeries {
        id: "a".into(),
        arm: "x".into(),
        days,
        ln_v,
        censored,
    };
    let f = fit_animal(Model::Exponential, &s, 0.05).unwrap();
    assert!(
        (f.phi[1] - 0.15).abs() < 1e-3 && (f.phi[0] - 20f64.ln()).abs() < 1e-2,
        "{:?}",
        f.phi
    );
    assert_eq!(f.n_observed, 4);
}
