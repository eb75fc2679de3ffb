//! Trend tests across ordered groups.

/// Jonckheere–Terpstra statistic and its normal approximation with the tie-corrected null
/// variance (Hollander & Wolfe 1999, eq. 6.19; as R's `PMCMRplus::jonckheereTest` and
/// `clinfun::jonckheere.test` without the exact option): J = Σ_{i<j} #{(x ∈ arm i, y ∈ arm j):
/// y > x} + ½·#ties, arms ordered by increasing dose. Returns (J, z, two-sided p); `z > 0`
/// means values increase with dose.
pub fn jonckheere(groups: &[&[f64]]) -> (f64, f64, f64) {
    let mut j = 0.0;
    for a in 0..groups.len() {
        for b in a + 1..groups.len() {
            for &x in groups[a] {
                for &y in groups[b] {
                    j += if y > x {
                        1.0
                    } else if y == x {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
    }
    let n: Vec<f64> = groups.iter().map(|g| g.len() as f64).collect();
    let big_n: f64 = n.iter().sum();
    let mean = (big_n * big_n - n.iter().map(|x| x * x).sum::<f64>()) / 4.0;
    // Tie groups of the pooled sample.
    let mut pooled: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    pooled.sort_by(f64::total_cmp);
    let mut ties = Vec::new();
    let mut i = 0;
    while i < pooled.len() {
        let mut k = i;
        while k < pooled.len() && pooled[k] == pooled[i] {
            k += 1;
        }
        ties.push((k - i) as f64);
        i = k;
    }
    let f = |x: f64| x * (x - 1.0) * (2.0 * x + 5.0);
    let s1 =
        f(big_n) - n.iter().map(|&x| f(x)).sum::<f64>() - ties.iter().map(|&x| f(x)).sum::<f64>();
    let g = |x: f64| x * (x - 1.0) * (x - 2.0);
    let h = |x: f64| x * (x - 1.0);
    let s2 = n.iter().map(|&x| g(x)).sum::<f64>() * ties.iter().map(|&x| g(x)).sum::<f64>()
        / (36.0 * g(big_n));
    let s3 = n.iter().map(|&x| h(x)).sum::<f64>() * ties.iter().map(|&x| h(x)).sum::<f64>()
        / (8.0 * h(big_n));
    let var = s1 / 72.0 + s2 + s3;
    if var.is_nan() || var <= 0.0 {
        return (j, f64::NAN, f64::NAN);
    }
    let z = (j - mean) / var.sqrt();
    (j, z, crate::numeric::dist::normal_two_sided(z))
}

/// Result of the OLS slope t-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlopeTest {
    /// OLS slope of y on x.
    pub slope: f64,
    /// Its standard error, √(s²/Sxx) with s² = RSS/(n − 2).
    pub se: f64,
    /// slope / se.
    pub t: f64,
    /// n − 2.
    pub df: f64,
    /// Two-sided p-value from t(n − 2).
    pub p_value: f64,
}

/// Simple linear regression of `y` on `x` with the t-test of the slope (as R's
/// `summary(lm(y ~ x))`); NaN fields when n < 3 or x has no spread.
pub fn ols_slope_test(x: &[f64], y: &[f64]) -> SlopeTest {
    let n = x.len().min(y.len());
    let nan = SlopeTest {
        slope: f64::NAN,
        se: f64::NAN,
        t: f64::NAN,
        df: f64::NAN,
        p_value: f64::NAN,
    };
    let Some((b0, b1)) = crate::numeric::ols(x, y) else {
        return nan;
    };
    if n < 3 {
        return nan;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let sxx: f64 = x[..n].iter().map(|v| (v - mx) * (v - mx)).sum();
    let rss: f64 = (0..n).map(|i| (y[i] - b0 - b1 * x[i]).powi(2)).sum();
    let df = (n - 2) as f64;
    let se = (rss / df / sxx).sqrt();
    let t = b1 / se;
    SlopeTest {
        slope: b1,
        se,
        t,
        df,
        p_value: crate::numeric::dist::t_two_sided(t, df),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str) -> Vec<Vec<f64>> {
        let path = format!("{}/tests/fixtures/trend/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut r = csv::Reader::from_path(path).expect("fixture");
        r.records()
            .map(|rec| {
                rec.expect("row")
                    .iter()
                    .map(|v| v.parse().expect("number"))
                    .collect()
            })
            .collect()
    }

    /// tests/fixtures/trend/trend_ref.R: R's Kendall test against the ordered group index
    /// (the tie-corrected JT normal approximation) and `summary(lm(y ~ log-dose score))`.
    #[test]
    fn jonckheere_and_log_dose_trend_match_r() {
        let data = read("trend_data.csv"); // case, group, dose, y
        let refs = read("trend_ref.csv"); // case, jt, z, p_jt, slope, se, t, p_slope
        for r in &refs {
            let rows: Vec<&Vec<f64>> = data.iter().filter(|d| d[0] == r[0]).collect();
            let k = rows.iter().map(|d| d[1] as usize).max().expect("groups");
            let groups: Vec<Vec<f64>> = (1..=k)
                .map(|g| {
                    rows.iter()
                        .filter(|d| d[1] as usize == g)
                        .map(|d| d[3])
                        .collect()
                })
                .collect();
            let slices: Vec<&[f64]> = groups.iter().map(|g| g.as_slice()).collect();
            let (j, z, p) = jonckheere(&slices);
            assert!((j - r[1]).abs() < 1e-9, "case {}: J {j} vs {}", r[0], r[1]);
            assert!((z - r[2]).abs() < 1e-9, "case {}: z {z} vs {}", r[0], r[2]);
            assert!((p - r[3]).abs() < 1e-9, "case {}: p {p} vs {}", r[0], r[3]);
            let doses: Vec<f64> = rows.iter().map(|d| d[2]).collect();
            let x = crate::analysis::compare::log_dose_scores(&doses);
            let y: Vec<f64> = rows.iter().map(|d| d[3]).collect();
            let s = ols_slope_test(&x, &y);
            for (got, want) in [
                (s.slope, r[4]),
                (s.se, r[5]),
                (s.t, r[6]),
                (s.p_value, r[7]),
            ] {
                assert!(
                    (got - want).abs() < 1e-9 * want.abs().max(1.0),
                    "case {}: {got} vs {want}",
                    r[0]
                );
            }
        }
    }
}
