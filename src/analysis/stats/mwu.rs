//! Wilcoxon–Mann–Whitney U test, two-sided, reproducing `scipy.stats.mannwhitneyu` (1.17,
//! `method="auto"`, `use_continuity=True`).

use crate::numeric::dist::normal_sf;

/// How the p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MwuMethod {
    /// Exact null distribution of U (no ties and min(n₁, n₂) ≤ 8).
    Exact,
    /// Normal approximation with tie and continuity correction.
    Asymptotic,
}

impl MwuMethod {
    /// Name written in `tests.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            MwuMethod::Exact => "exact",
            MwuMethod::Asymptotic => "normal approximation (tie + continuity corrected)",
        }
    }
}

/// Result of a Mann–Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U statistic of the first sample, U₁ = R₁ − n₁(n₁+1)/2 (scipy's convention).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Method used.
    pub method: MwuMethod,
}

/// Two-sided Mann–Whitney U test of `a` vs `b`. As scipy: the exact distribution is used when
/// there are no ties and either sample has ≤ 8 values (`_mwu_choose_method`), p = 2·P(U ≥
/// max(U₁, U₂)); otherwise z = (max(U₁,U₂) − n₁n₂/2 − ½)/σ with
/// σ² = n₁n₂/12·[(n+1) − Σ(t³−t)/(n(n−1))] (tie correction, Mann & Whitney 1947; Hollander &
/// Wolfe) and p = 2·P(Z ≥ z), clipped to 1. NaN when either sample is empty.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> MannWhitney {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 || a.iter().chain(b).any(|v| v.is_nan()) {
        return MannWhitney {
            statistic: f64::NAN,
            p_value: f64::NAN,
            method: MwuMethod::Asymptotic,
        };
    }
    // Average ranks of the pooled sample.
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = n1 + n2;
    let mut r1 = 0.0;
    let mut tie_term = 0.0;
    let mut ties = false;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        let t = (j - i) as f64;
        if j - i > 1 {
            ties = true;
            tie_term += t * t * t - t;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        r1 += avg_rank * pooled[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u1 = r1 - n1f * (n1f + 1.0) / 2.0;
    let u2 = n1f * n2f - u1;
    let u = u1.max(u2);
    let exact = !ties && (n1 <= 8 || n2 <= 8);
    let p = if exact {
        2.0 * exact_sf(u.round() as usize, n1, n2)
    } else {
        let s = (n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)))).sqrt();
        2.0 * normal_sf((u - n1f * n2f / 2.0 - 0.5) / s)
    };
    MannWhitney {
        statistic: u1,
        p_value: p.clamp(0.0, 1.0),
        method: if exact {
            MwuMethod::Exact
        } else {
            MwuMethod::Asymptotic
        },
    }
}

/// P(U ≥ u) under H₀ for sample sizes m, n without ties. The counts of U are the coefficients of
/// the Gaussian binomial [m+n choose m]_q = ∏ᵢ₌₁ᵐ (1 − q^{n+i})/(1 − q^i) (Andrews, The Theory of
/// Partitions, 3.3), built factor by factor; every intermediate is an integer below
/// C(m+n, m), exact in f64 while that is < 2⁵³.
fn exact_sf(u: usize, m: usize, n: usize) -> f64 {
    let (m, n) = if m <= n { (m, n) } else { (n, m) };
    let len = m * n + 1;
    let mut c = vec![0.0f64; len];
    c[0] = 1.0;
    for i in 1..=m {
        let mul = n + i;
        for k in (mul..len).rev() {
            c[k] -= c[k - mul];
        }
        for k in i..len {
            c[k] += c[k - i];
        }
    }
    let total: f64 = c.iter().sum();
    if u >= len {
        return 0.0;
    }
    c[u..].iter().sum::<f64>() / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_distribution_is_symmetric_and_sums_to_one() {
        // m = 3, n = 4: 35 arrangements; P(U ≥ 0) = 1, P(U ≥ 12) = 1/35.
        assert!((exact_sf(0, 3, 4) - 1.0).abs() < 1e-15);
        assert!((exact_sf(12, 3, 4) - 1.0 / 35.0).abs() < 1e-15);
        assert!((exact_sf(11, 3, 4) - 2.0 / 35.0).abs() < 1e-15);
    }

    #[test]
    fn complete_separation_small() {
        let r = mann_whitney_u(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]);
        assert_eq!(r.method, MwuMethod::Exact);
        assert_eq!(r.statistic, 0.0);
        assert!((r.p_value - 0.1).abs() < 1e-15);
    }
}
