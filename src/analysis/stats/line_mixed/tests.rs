//! Line random-intercept model vs nlme 3.1 (fixtures/line_mixed.R → line_mixed.json), and vs
//! the general REML engine `lmm::fit_reml` (q = 1, groups = lines) on random data.

use super::*;
use crate::analysis::stats::lmm::{LmmGroup, fit_reml};
use crate::rng::stream;
use rand::RngExt;
use serde_json::Value;

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn matches_nlme_lme_on_the_fixture() {
    let v: Value = serde_json::from_str(include_str!("../fixtures/line_mixed.json")).unwrap();
    let cases = [
        ("balanced", "tx", false),
        ("unbalanced", "tx", false),
        ("unbalanced", "tx_z", true),
        ("tau_zero", "tx", false),
    ];
    for (set, model, with_z) in cases {
        let d = &v[set]["data"];
        let y = nums(&d["y"]);
        let tx = nums(&d["tx"]);
        let z = nums(&d["z"]);
        let line: Vec<usize> = nums(&d["line"]).iter().map(|&g| g as usize - 1).collect();
        let n_lines = line.iter().max().unwrap() + 1;
        let p = if with_z { 3 } else { 2 };
        let mut x = Vec::new();
        for i in 0..y.len() {
            x.extend_from_slice(&[1.0, tx[i]]);
            if with_z {
                x.push(z[i]);
            }
        }
        let f = fit_line_mixed(&x, &y, &line, n_lines).unwrap();
        let r = &v[set][model];
        let (coef, se, df, pv) = (
            nums(&r["coef"]),
            nums(&r["se"]),
            nums(&r["df"]),
            nums(&r["p"]),
        );
        let tau2 = r["tau2"].as_f64().unwrap();
        let sigma2 = r["sigma2"].as_f64().unwrap();
        for j in 0..p {
            assert!(
                rel(f.beta[j], coef[j]) < 1e-4,
                "{set}/{model} beta{j} {} vs {}",
                f.beta[j],
                coef[j]
            );
            assert!(
                rel(f.se[j], se[j]) < 1e-4,
                "{set}/{model} se{j} {} vs {}",
                f.se[j],
                se[j]
            );
            assert_eq!(f.df[j], df[j], "{set}/{model} df{j}");
            let mut l = vec![0.0; p];
            l[j] = 1.0;
            let c = f.contrast(&l);
            assert!(
                rel(c.p_value, pv[j]) < 1e-3,
                "{set}/{model} p{j} {} vs {}",
                c.p_value,
                pv[j]
            );
        }
        assert!(
            rel(f.sigma2, sigma2) < 1e-4,
            "{set}/{model} sigma2 {} vs {sigma2}",
            f.sigma2
        );
        if set == "tau_zero" {
            // nlme works on log τ and stops next to the boundary; ours reaches it.
            assert!(
                f.tau2 < 1e-6 * f.sigma2 && tau2 < 1e-4 * sigma2,
                "{} vs {tau2}",
                f.tau2
            );
        } else {
            assert!(
                rel(f.tau2, tau2) < 1e-4,
                "{set}/{model} tau2 {} vs {tau2}",
                f.tau2
            );
            let ll = r["loglik"].as_f64().unwrap();
            assert!(
                (f.reml_loglik - ll).abs() < 1e-6 * ll.abs().max(1.0),
                "{set} loglik {} vs {ll}",
                f.reml_loglik
            );
        }
    }
}

#[test]
fn agrees_with_the_general_reml_engine_on_random_panels() {
    for case in 0..40u64 {
        let mut rng = stream(2026, &[case]);
        let n_lines = 2 + (case % 7) as usize;
        let tau = [0.0, 0.2, 0.7, 1.5][(case % 4) as usize];
        let (mut x, mut y, mut line) = (Vec::new(), Vec::new(), Vec::new());
        for g in 0..n_lines {
            let a = tau * (rng.random::<f64>() - 0.5) * 3.4;
            for arm in 0..2 {
                let m = 1 + rng.random_range(0..4usize);
                for _ in 0..m {
                    let e: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                    x.extend_from_slice(&[1.0, arm as f64]);
                    y.push(0.9 + 0.6 * arm as f64 + a + e);
                    line.push(g);
                }
            }
        }
        let f = fit_line_mixed(&x, &y, &line, n_lines).unwrap();
        let ones = vec![1.0; y.len()];
        let mut groups = Vec::new();
        let mut start = 0;
        for g in 0..n_lines {
            let end = start + line[start..].iter().take_while(|&&l| l == g).count();
            groups.push(LmmGroup {
                x: &x[2 * start..2 * end],
                z: &ones[start..end],
                y: &y[start..end],
            });
            start = end;
        }
        let r = fit_reml(&groups, 2, 1).unwrap();
        // Same criterion: our optimum is never worse than the general engine's.
        assert!(
            f.reml_loglik >= -0.5 * r.reml_deviance - 1e-7,
            "case {case}"
        );
        let scale = f.sigma2 + f.tau2;
        assert!(
            (f.tau2 - r.g[0]).abs() < 1e-4 * scale,
            "case {case}: tau2 {} vs {}",
            f.tau2,
            r.g[0]
        );
        assert!(
            rel(f.sigma2, r.sigma2) < 1e-4,
            "case {case}: sigma2 {} vs {}",
            f.sigma2,
            r.sigma2
        );
        for j in 0..2 {
            assert!(
                (f.beta[j] - r.beta[j]).abs() < 1e-4 * (1.0 + r.beta[j].abs()),
                "case {case} beta{j}"
            );
            assert!(
                rel(f.se[j], r.se[j]) < 1e-3,
                "case {case} se{j} {} vs {}",
                f.se[j],
                r.se[j]
            );
        }
    }
}

#[test]
fn containment_df_follows_nlme_and_bad_input_is_an_error() {
    // 4 lines × 3 mice; treatment within lines, a line covariate between lines.
    let (mut x, mut y, mut line) = (Vec::new(), Vec::new(), Vec::new());
    for g in 0..4 {
        for i in 0..3 {
            x.extend_from_slice(&[1.0, f64::from(u8::from(i > 0)), g as f64 * 0.5]);
            y.push(g as f64 * 0.3 + i as f64 * 0.7 + ((g * 3 + i) as f64).sin());
            line.push(g);
        }
    }
    let f = fit_line_mixed(&x, &y, &line, 4).unwrap();
    // within: N − lines − p_within = 12 − 4 − 1; between: lines − p_between = 4 − 2.
    assert_eq!(f.df, vec![7.0, 7.0, 2.0]);
    assert_eq!(f.contrast(&[0.0, 1.0, 1.0]).df, 2.0);
    assert!(matches!(
        fit_line_mixed(&x, &y[..5], &line, 4),
        Err(LineMixedError::Dimensions(_))
    ));
    assert!(matches!(
        fit_line_mixed(&x, &y, &line, 2),
        Err(LineMixedError::Dimensions(_))
    ));
    // One mouse per line: no within-line df.
    let x1 = [1.0, 0.0, 1.0, 1.0];
    assert!(matches!(
        fit_line_mixed(&x1, &[1.0, 2.0], &[0, 1], 2),
        Err(LineMixedError::TooFewObservations { .. })
    ));
}
