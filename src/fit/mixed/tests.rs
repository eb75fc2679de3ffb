//! Unit tests of `src/fit/mixed.rs`.

use super::*;

fn animals() -> Vec<AnimalSeries> {
    crate::fit::testdata::linear_animals(15, 17, 0.1, 5, 4)
}

#[test]
fn gls_reproduces_fit_reml_and_warm_refit_agrees() {
    let s = animals();
    let refs: Vec<&AnimalSeries> = s.iter().collect();
    let d = designs(&refs);
    let groups: Vec<LmmGroup<'_>> = d.iter().map(|(x, y)| LmmGroup { x, z: x, y }).collect();
    let f = fit_reml(&groups, 2, 2).unwrap();
    let g = gls_at(&d, &f.theta).unwrap();
    for i in 0..2 {
        assert!(
            (g.beta[i] - f.beta[i]).abs() < 1e-9,
            "{:?} {:?}",
            g.beta,
            f.beta
        );
    }
    assert!((g.sigma2 - f.sigma2).abs() < 1e-12 * f.sigma2.max(1.0));
    for i in 0..4 {
        assert!((g.g[i] - f.g[i]).abs() < 1e-9, "{:?} {:?}", g.g, f.g);
    }
    // A warm refit from a perturbed θ returns to the same optimum.
    let th: Vec<f64> = f.theta.iter().map(|t| t * 1.3 + 0.01).collect();
    let w = refit_from(&refs, &th).unwrap();
    assert!(
        (w.beta[1] - f.beta[1]).abs() < 1e-5
            && (w.g[3] - f.g[3]).abs() < 1e-3 * f.g[3].abs().max(1e-6),
        "{:?} {:?}",
        w.g,
        f.g
    );
    // BLUPs shrink per-animal OLS slopes toward β.
    let ols: Vec<f64> = s
        .iter()
        .map(|a| super::super::curves::ols(&a.days, &a.ln_v).unwrap().1)
        .collect();
    let spread = |v: &[f64]| v.iter().map(|x| (x - f.beta[1]).powi(2)).sum::<f64>();
    let blup: Vec<f64> = g.blups.iter().map(|b| b[1]).collect();
    assert!(spread(&blup) < spread(&ols));
}
