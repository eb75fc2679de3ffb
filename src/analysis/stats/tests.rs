//! Checks every test against R / scipy reference values committed under
//! `tests/fixtures/analysis/` (scripts `make_reference_r.R`, `make_reference_scipy.py`).

#![allow(clippy::type_complexity)]

use super::lmm::{LmmGroup, fit_reml};
use super::*;

/// Relative tolerance for statistics and p-values (issue 4).
const REL_TOL: f64 = 1e-6;
/// Relative tolerance for the mixed model (issue 4).
const LMM_TOL: f64 = 1e-4;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan())
        || a == b
        || (a - b).abs() <= tol * b.abs().max(a.abs())
        || (a - b).abs() < 1e-300
}

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
        .collect()
}

fn num(s: &str) -> f64 {
    if s == "NaN" || s == "NA" {
        f64::NAN
    } else {
        s.parse().unwrap_or_else(|_| panic!("bad number {s}"))
    }
}

fn nums(s: &str) -> Vec<f64> {
    s.split_whitespace().map(num).collect()
}

#[test]
fn welch_matches_r_and_scipy() {
    for text in [
        include_str!("../../../tests/fixtures/analysis/welch_ref_r.csv"),
        include_str!("../../../tests/fixtures/analysis/welch_ref_scipy.csv"),
    ] {
        for r in rows(text) {
            let t = welch_t(&nums(&r[1]), &nums(&r[2]));
            assert!(
                close(t.statistic, num(&r[3]), REL_TOL),
                "case {}: t {} vs {}",
                r[0],
                t.statistic,
                r[3]
            );
            assert!(
                close(t.df, num(&r[4]), REL_TOL),
                "case {}: df {} vs {}",
                r[0],
                t.df,
                r[4]
            );
            assert!(
                close(t.p_value, num(&r[5]), REL_TOL),
                "case {}: p {} vs {}",
                r[0],
                t.p_value,
                r[5]
            );
        }
    }
}

#[test]
fn mann_whitney_matches_scipy() {
    for r in rows(include_str!("../../../tests/fixtures/analysis/mwu_ref.csv")) {
        let m = mann_whitney_u(&nums(&r[1]), &nums(&r[2]));
        assert!(
            close(m.statistic, num(&r[3]), REL_TOL),
            "case {}: U {} vs {}",
            r[0],
            m.statistic,
            r[3]
        );
        assert!(
            close(m.p_value, num(&r[4]), REL_TOL),
            "case {}: p {} vs {} ({:?})",
            r[0],
            m.p_value,
            r[4],
            m.method
        );
    }
}

#[test]
fn fisher_matches_r() {
    for r in rows(include_str!(
        "../../../tests/fixtures/analysis/fisher_ref.csv"
    )) {
        let c: Vec<u64> = r[..4].iter().map(|s| s.parse().unwrap()).collect();
        let f = fisher_exact_2x2(c[0], c[1], c[2], c[3]);
        assert!(
            close(f.p_value, num(&r[4]), REL_TOL),
            "{r:?}: {}",
            f.p_value
        );
    }
}

#[test]
fn holm_matches_r() {
    for r in rows(include_str!(
        "../../../tests/fixtures/analysis/holm_ref.csv"
    )) {
        let got = holm(&nums(&r[1]));
        for (g, w) in got.iter().zip(nums(&r[2])) {
            assert!(close(*g, w, 1e-12), "case {}: {got:?}", r[0]);
        }
    }
}

fn surv(t: &str, e: &str) -> Vec<(f64, bool)> {
    nums(t)
        .into_iter()
        .zip(nums(e))
        .map(|(t, e)| (t, e > 0.5))
        .collect()
}

#[test]
fn logrank_matches_r_survdiff() {
    for r in rows(include_str!(
        "../../../tests/fixtures/analysis/logrank_ref.csv"
    )) {
        let l = logrank(&surv(&r[1], &r[2]), &surv(&r[3], &r[4]));
        assert!(
            close(l.statistic, num(&r[5]), REL_TOL),
            "case {}: chi2 {} vs {}",
            r[0],
            l.statistic,
            r[5]
        );
        assert!(
            close(l.p_value, num(&r[6]), REL_TOL),
            "case {}: p {} vs {}",
            r[0],
            l.p_value,
            r[6]
        );
        assert!(
            close(l.observed1, num(&r[7]), 1e-12) && close(l.expected1, num(&r[8]), REL_TOL),
            "case {}",
            r[0]
        );
    }
}

#[test]
fn exact_logrank_matches_r_coin() {
    for r in rows(include_str!(
        "../../../tests/fixtures/analysis/exact_logrank_ref.csv"
    )) {
        let l = logrank_exact(&surv(&r[1], &r[2]), &surv(&r[3], &r[4]));
        assert!(l.exact, "case {}", r[0]);
        assert!(
            close(l.p_value, num(&r[5]), 1e-9),
            "case {}: exact p {} vs coin {}",
            r[0],
            l.p_value,
            r[5]
        );
    }
}

#[test]
fn stratified_permutation_logrank_matches_r() {
    for r in rows(include_str!(
        "../../../tests/fixtures/analysis/stratified_logrank_ref.csv"
    )) {
        let blocks: Vec<(Vec<(f64, bool)>, Vec<(f64, bool)>)> = r[1]
            .split(';')
            .map(|b| {
                let f: Vec<&str> = b.split('|').collect();
                (surv(f[0], f[1]), surv(f[2], f[3]))
            })
            .collect();
        let pairs: Vec<StratumPair<'_>> = blocks.iter().map(|(a, b)| (&a[..], &b[..])).collect();
        let l = logrank_stratified_permutation(&pairs).unwrap();
        let asym = logrank_stratified(&pairs).unwrap();
        assert!(close(l.statistic, num(&r[2]), REL_TOL), "case {}", r[0]);
        assert_eq!((l.statistic, l.observed1), (asym.statistic, asym.observed1));
        let (coin, exact) = (num(&r[4]), num(&r[3]));
        match l.reference {
            LogRankReference::Exact(n) => {
                assert!(
                    close(l.p_value, exact, 1e-9),
                    "case {}: {} vs {exact}",
                    r[0],
                    l.p_value
                );
                assert_eq!(
                    n,
                    blocks
                        .iter()
                        .map(|(a, b)| super::survival::binomial(a.len() + b.len(), a.len()))
                        .product::<u64>()
                );
            }
            LogRankReference::Resampled(draws) => {
                assert!(draws <= STRATIFIED_LOGRANK_DRAWS);
                // Sequential stop at h hits: p = h/L, relative SE ≈ 1/√h (negative binomial);
                // full runs: binomial SE of B draws. coin's 10⁶ draws add little.
                let se = if draws < STRATIFIED_LOGRANK_DRAWS {
                    coin / (STRATIFIED_LOGRANK_STOP_HITS as f64).sqrt()
                } else {
                    (coin * (1.0 - coin) / STRATIFIED_LOGRANK_DRAWS as f64).sqrt()
                };
                assert!(
                    (l.p_value - coin).abs() <= 4.5 * se,
                    "case {}: {} vs coin {coin}",
                    r[0],
                    l.p_value
                );
            }
            LogRankReference::ChiSquare => panic!("case {}: no permutation p-value", r[0]),
        }
        // coin's Monte Carlo agrees with the exact enumeration too.
        if exact.is_finite() {
            assert!(
                (coin - exact).abs() <= 4.5 * (exact * (1.0 - exact) / 1e6).sqrt(),
                "case {}",
                r[0]
            );
        }
    }
    // One stratum: the exact test of logrank_exact.
    let g1 = [(3.0, true), (7.0, true), (10.0, false)];
    let g2 = [(7.0, true), (12.0, true), (14.0, false)];
    let one = logrank_stratified_permutation(&[(&g1, &g2)]).unwrap();
    assert_eq!(one.p_value, logrank_exact(&g1, &g2).p_value);
}

#[test]
fn kaplan_meier_matches_r_survfit() {
    let lr = rows(include_str!(
        "../../../tests/fixtures/analysis/logrank_ref.csv"
    ));
    for (r, l) in rows(include_str!("../../../tests/fixtures/analysis/km_ref.csv"))
        .iter()
        .zip(&lr)
    {
        let km = kaplan_meier(&surv(&l[1], &l[2]));
        let (times, risk, s, se) = (nums(&r[1]), nums(&r[2]), nums(&r[3]), nums(&r[4]));
        assert_eq!(km.len(), times.len(), "case {}", r[0]);
        for (i, k) in km.iter().enumerate() {
            assert!(
                close(k.time, times[i], 1e-12) && k.n_risk as f64 == risk[i],
                "case {} row {i}",
                r[0]
            );
            assert!(
                close(k.survival, s[i], 1e-12),
                "case {} row {i}: S {} vs {}",
                r[0],
                k.survival,
                s[i]
            );
            assert!(
                close(k.std_err, se[i], REL_TOL),
                "case {} row {i}: se {} vs {}",
                r[0],
                k.std_err,
                se[i]
            );
        }
    }
}

#[test]
fn lmm_matches_lmertest() {
    let refs = rows(include_str!("../../../tests/fixtures/analysis/lmm_ref.csv"));
    let datasets = [
        (
            "a",
            include_str!("../../../tests/fixtures/analysis/lmm_data_a.csv"),
        ),
        (
            "b",
            include_str!("../../../tests/fixtures/analysis/lmm_data_b.csv"),
        ),
        (
            "c",
            include_str!("../../../tests/fixtures/analysis/lmm_data_c.csv"),
        ),
    ];
    for (name, text) in datasets {
        // animal,trt,day,y — rows of one animal are contiguous.
        let mut groups: Vec<(String, Vec<f64>, Vec<f64>, Vec<f64>)> = Vec::new();
        for r in rows(text) {
            let (trt, day, y) = (num(&r[1]), num(&r[2]), num(&r[3]));
            if groups.last().map(|g| g.0 != r[0]).unwrap_or(true) {
                groups.push((r[0].clone(), Vec::new(), Vec::new(), Vec::new()));
            }
            let g = groups.last_mut().unwrap();
            g.1.extend([1.0, trt, day, trt * day]);
            g.2.extend([1.0, day]);
            g.3.push(y);
        }
        let lg: Vec<LmmGroup> = groups
            .iter()
            .map(|g| LmmGroup {
                x: &g.1,
                z: &g.2,
                y: &g.3,
            })
            .collect();
        let fit = fit_reml(&lg, 4, 2).unwrap();
        let mine: Vec<&Vec<String>> = refs.iter().filter(|r| r[0] == name).collect();
        assert_eq!(mine.len(), 4);
        let r0 = mine[0];
        assert!(
            close(fit.reml_deviance, num(&r0[11]), 1e-6),
            "{name}: deviance {} vs {}",
            fit.reml_deviance,
            r0[11]
        );
        assert!(
            close(fit.sigma2, num(&r0[7]), LMM_TOL),
            "{name}: sigma2 {} vs {}",
            fit.sigma2,
            r0[7]
        );
        assert!(
            close(fit.g[0], num(&r0[8]), LMM_TOL),
            "{name}: g11 {} vs {}",
            fit.g[0],
            r0[8]
        );
        assert!(
            close(fit.g[3], num(&r0[9]), LMM_TOL),
            "{name}: g22 {} vs {}",
            fit.g[3],
            r0[9]
        );
        assert!(
            close(fit.g[1], num(&r0[10]), LMM_TOL),
            "{name}: g12 {} vs {}",
            fit.g[1],
            r0[10]
        );
        for (k, r) in mine.iter().enumerate() {
            let mut l = [0.0; 4];
            l[k] = 1.0;
            let c = fit.contrast(&l);
            assert!(
                close(c.estimate, num(&r[2]), LMM_TOL),
                "{name} {}: est {} vs {}",
                r[1],
                c.estimate,
                r[2]
            );
            assert!(
                close(c.se, num(&r[3]), LMM_TOL),
                "{name} {}: se {} vs {}",
                r[1],
                c.se,
                r[3]
            );
            assert!(
                close(c.df, num(&r[4]), LMM_TOL),
                "{name} {}: df {} vs {}",
                r[1],
                c.df,
                r[4]
            );
            assert!(
                close(c.statistic, num(&r[5]), LMM_TOL),
                "{name} {}: t {} vs {}",
                r[1],
                c.statistic,
                r[5]
            );
            // Tail p-values below 1e-10 move by more than 1e-4 relative for a 1e-7 change of df
            // (lmerTest's own numerical-derivative noise), so they are compared absolutely.
            let p_ok =
                close(c.p_value, num(&r[6]), LMM_TOL) || (c.p_value - num(&r[6])).abs() < 1e-12;
            assert!(p_ok, "{name} {}: p {} vs {}", r[1], c.p_value, r[6]);
        }
    }
}

#[test]
fn lmm_random_intercept_matches_lmertest() {
    let text = include_str!("../../../tests/fixtures/analysis/lmm_data_b.csv");
    let mut groups: Vec<(String, Vec<f64>, Vec<f64>, Vec<f64>)> = Vec::new();
    for r in rows(text) {
        let (trt, day, y) = (num(&r[1]), num(&r[2]), num(&r[3]));
        if groups.last().map(|g| g.0 != r[0]).unwrap_or(true) {
            groups.push((r[0].clone(), Vec::new(), Vec::new(), Vec::new()));
        }
        let g = groups.last_mut().unwrap();
        g.1.extend([1.0, trt, day, trt * day]);
        g.2.push(1.0);
        g.3.push(y);
    }
    let lg: Vec<LmmGroup> = groups
        .iter()
        .map(|g| LmmGroup {
            x: &g.1,
            z: &g.2,
            y: &g.3,
        })
        .collect();
    let fit = fit_reml(&lg, 4, 1).unwrap();
    let refs = rows(include_str!(
        "../../../tests/fixtures/analysis/lmm_ri_ref.csv"
    ));
    assert!(
        close(fit.reml_deviance, num(&refs[0][9]), 1e-6),
        "deviance {} vs {}",
        fit.reml_deviance,
        refs[0][9]
    );
    assert!(
        close(fit.sigma2, num(&refs[0][7]), LMM_TOL) && close(fit.g[0], num(&refs[0][8]), LMM_TOL)
    );
    for (k, r) in refs.iter().enumerate() {
        let mut l = [0.0; 4];
        l[k] = 1.0;
        let c = fit.contrast(&l);
        for (got, col) in [(c.estimate, 2), (c.se, 3), (c.df, 4), (c.statistic, 5)] {
            assert!(
                close(got, num(&r[col]), LMM_TOL),
                "{} col {col}: {got} vs {}",
                r[1],
                r[col]
            );
        }
        let p_ok = close(c.p_value, num(&r[6]), LMM_TOL) || (c.p_value - num(&r[6])).abs() < 1e-12;
        assert!(p_ok, "{}: p {} vs {}", r[1], c.p_value, r[6]);
    }
}
