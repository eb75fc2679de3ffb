//! Unit tests of `src/fit/its.rs`.

use super::*;
use crate::fit::mixed;

fn linear_animals(n: usize, seed: u64) -> Vec<AnimalSeries> {
    crate::fit::testdata::linear_animals(n, seed, 0.1, 4, 6)
}

fn start(series: &[&AnimalSeries], mean: [f64; 2], var: [f64; 2], sigma: f64) -> ItsState {
    ItsState {
        mean: mean.to_vec(),
        omega: vec![vec![var[0], 0.0], vec![0.0, var[1]]],
        sigma,
        modes: series.iter().map(|_| mean.to_vec()).collect(),
    }
}

#[test]
fn linear_case_agrees_with_reml_and_does_not_depend_on_the_start() {
    // In the linear-Gaussian case the Laplace E-step is exact, so ITS is an EM for the
    // LMM; with the n − 1 scatter it lands close to (not exactly on) REML.
    let s = linear_animals(40, 11);
    let refs: Vec<&AnimalSeries> = s.iter().collect();
    let reml = mixed::fit(&refs).unwrap();
    let a = its(
        Model::Exponential,
        &refs,
        &start(&refs, [4.0, 0.05], [1.0, 0.01], 0.3),
        1e-10,
        5000,
    )
    .unwrap();
    assert!(a.converged, "{} iterations", a.iterations);
    let st = &a.state;
    assert!((st.mean[0] - reml.beta[0]).abs() < 2e-3, "{st:?} {reml:?}");
    assert!((st.mean[1] - reml.beta[1]).abs() < 2e-4, "{st:?} {reml:?}");
    assert!((st.sigma - reml.sigma2.sqrt()).abs() / reml.sigma2.sqrt() < 0.03);
    for (j, g) in [reml.g[0], reml.g[3]].into_iter().enumerate() {
        assert!(
            (st.omega[j][j] - g).abs() / g < 0.10,
            "ω²[{j}] {} vs REML {g}",
            st.omega[j][j]
        );
    }
    // Another start reaches the same fixed point.
    let b = its(
        Model::Exponential,
        &refs,
        &start(&refs, [6.0, 0.2], [0.01, 1e-4], 0.05),
        1e-10,
        5000,
    )
    .unwrap();
    for j in 0..2 {
        assert!((a.state.mean[j] - b.state.mean[j]).abs() < 1e-6);
        assert!((a.state.omega[j][j] - b.state.omega[j][j]).abs() < 1e-5 * a.state.omega[j][j]);
    }
}

#[test]
fn squarem_reaches_the_plain_em_fixed_point_in_fewer_steps() {
    // Four readings each and noise 0.3: the slope variance is weakly identified, where
    // plain EM crawls.
    let s = crate::fit::testdata::linear_animals(12, 3, 0.3, 4, 1);
    let refs: Vec<&AnimalSeries> = s.iter().collect();
    let st0 = start(&refs, [5.0, 0.1], [0.04, 4e-4], 0.1);
    let mut plain = st0.clone();
    let mut plain_steps = 0;
    loop {
        let next = em_step(Model::Exponential, &refs, &plain).unwrap();
        plain_steps += 1;
        let done = change(&plain, &next) < 1e-9;
        plain = next;
        if done || plain_steps == 20000 {
            break;
        }
    }
    let f = its(Model::Exponential, &refs, &st0, 1e-9, 20000).unwrap();
    assert!(f.converged);
    assert!(
        f.iterations * 2 < plain_steps,
        "SQUAREM {} vs plain {plain_steps}",
        f.iterations
    );
    for j in 0..2 {
        assert!((f.state.mean[j] - plain.mean[j]).abs() < 1e-5);
    }
}

#[test]
fn gompertz_fit_agrees_with_nlme() {
    // 24 simulated animals (20% leaving early) fitted by R's nlme (Lindstrom–Bates, pdSymm);
    // script and data in tests/fixtures/fit/. ITS with the quadrature E-step is a different
    // approximation of the same likelihood, with a REML-type n − 1: means within 0.02 on the
    // log scale, variances within 15% of nlme's REML, σ within 3%.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fit/");
    let path = std::path::PathBuf::from(format!("{dir}gompertz_wide.csv"));
    let bytes = std::fs::read(&path).unwrap();
    let data = crate::fit::read::read_bytes(&path, &bytes).unwrap();
    let mut opts = crate::fit::FitOptions::new(Model::Gompertz);
    opts.bootstrap_reps = 0;
    let r = crate::fit::fit(&data, &opts).unwrap();
    let reference = std::fs::read_to_string(format!("{dir}gompertz_nlme.csv")).unwrap();
    let get = |method: &str, name: &str| -> f64 {
        reference
            .lines()
            .find(|l| l.starts_with(&format!("{method},{name},")))
            .and_then(|l| l.rsplit(',').next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let om: Vec<f64> = r
        .params
        .iter()
        .map(|p| p.variability.value.powi(2).ln_1p())
        .collect();
    for (j, name) in ["lnV0", "lnr", "lnK"].iter().enumerate() {
        let mu = get("ML", &format!("mu_{name}"));
        assert!(
            (r.mean_phi[j] - mu).abs() < 0.02,
            "{name}: {} vs nlme {mu}",
            r.mean_phi[j]
        );
        let var = get("REML", &format!("var_{name}"));
        println!(
            "{name}: μ {:.4} (nlme {mu:.4}), ω² {:.4} (nlme REML {var:.4})",
            r.mean_phi[j], om[j]
        );
        assert!(
            (om[j] - var).abs() < 0.15 * var,
            "{name}: ω² {} vs nlme {var}",
            om[j]
        );
    }
    let s = get("REML", "sigma");
    println!("σ {:.4} (nlme REML {s:.4})", r.residual_sd.value);
    assert!(
        (r.residual_sd.value - s).abs() < 0.03 * s,
        "σ {} vs {s}",
        r.residual_sd.value
    );
}
