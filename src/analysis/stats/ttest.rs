//! Welch's unequal-variance t-test.

use crate::numeric::dist::t_two_sided;

/// Result of a t-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// t statistic, (mean of `a` − mean of `b`) / SE.
    pub statistic: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Difference of means, `a` − `b`.
    pub estimate: f64,
    /// Standard error of the difference.
    pub se: f64,
}

impl TTest {
    const NAN: TTest = TTest {
        statistic: f64::NAN,
        df: f64::NAN,
        p_value: f64::NAN,
        estimate: f64::NAN,
        se: f64::NAN,
    };
}

/// Welch's t-test of `a` vs `b` (two-sided); NaN fields when either group has fewer than two
/// values or both variances are zero. Matches R `t.test(a, b)` and scipy
/// `ttest_ind(a, b, equal_var=False)`.
pub fn welch_t(a: &[f64], b: &[f64]) -> TTest {
    let (m1, v1) = mean_var(a);
    let (m2, v2) = mean_var(b);
    welch_from_moments(m1, v1, a.len(), m2, v2, b.len())
}

/// Welch's t statistic and Welch–Satterthwaite df from group means, sample variances and
/// sizes (formula below); `None` when a group has fewer than two values or the standard error
/// is zero or not finite. The power engines' hot loop calls this without the p-value.
#[inline]
pub fn welch_t_df(
    mean1: f64,
    var1: f64,
    n1: f64,
    mean2: f64,
    var2: f64,
    n2: f64,
) -> Option<(f64, f64)> {
    if n1 < 2.0 || n2 < 2.0 {
        return None;
    }
    let (s1, s2) = (var1 / n1, var2 / n2);
    let se2 = s1 + s2;
    if se2.is_nan() || se2 <= 0.0 || !se2.is_finite() {
        return None;
    }
    let t = (mean1 - mean2) / se2.sqrt();
    let df = se2 * se2 / (s1 * s1 / (n1 - 1.0) + s2 * s2 / (n2 - 1.0));
    Some((t, df))
}

/// Welch's t-test from group means, sample variances (n − 1 denominator) and sizes:
/// t = (m₁ − m₂)/√(v₁/n₁ + v₂/n₂), df = (v₁/n₁ + v₂/n₂)² / [(v₁/n₁)²/(n₁−1) + (v₂/n₂)²/(n₂−1)]
/// (Welch 1947, Biometrika 34:28; Satterthwaite 1946).
pub fn welch_from_moments(
    mean1: f64,
    var1: f64,
    n1: usize,
    mean2: f64,
    var2: f64,
    n2: usize,
) -> TTest {
    if n1 < 2 || n2 < 2 {
        return TTest::NAN;
    }
    let Some((t, df)) = welch_t_df(mean1, var1, n1 as f64, mean2, var2, n2 as f64) else {
        return TTest {
            estimate: mean1 - mean2,
            ..TTest::NAN
        };
    };
    let se = (var1 / n1 as f64 + var2 / n2 as f64).sqrt();
    TTest {
        statistic: t,
        df,
        p_value: t_two_sided(t, df),
        estimate: mean1 - mean2,
        se,
    }
}

/// Mean and sample variance (n − 1 denominator), two-pass for accuracy; NaN for empty input.
pub fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let m = x.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (m, f64::NAN);
    }
    let ss: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    (m, ss / (n as f64 - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_inputs_give_nan_not_panic() {
        assert!(welch_t(&[1.0], &[2.0, 3.0]).p_value.is_nan());
        assert!(welch_t(&[1.0, 1.0], &[1.0, 1.0]).p_value.is_nan());
        assert!(welch_t(&[], &[]).statistic.is_nan());
    }
}
