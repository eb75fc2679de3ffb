//! Fisher's exact test on a 2×2 table.

use statrs::function::factorial::ln_binomial;

/// Result of Fisher's exact test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FisherTest {
    /// Sample odds ratio a·d/(b·c) (infinite or NaN when a cell is zero).
    pub odds_ratio: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Fisher's exact test of the table [[a, b], [c, d]] (rows: groups; columns: outcome yes/no),
/// two-sided as R's `fisher.test`: the sum of the hypergeometric probabilities of all tables
/// with the same margins that are no more probable than the observed one, with R's relative
/// tolerance 1 + 10⁻⁷ on the comparison (R src/library/stats/R/fisher.test.R).
pub fn fisher_exact_2x2(a: u64, b: u64, c: u64, d: u64) -> FisherTest {
    let odds_ratio = (a as f64 * d as f64) / (b as f64 * c as f64);
    // R's parameterisation: x = a, m = a + c (first column), n = b + d, k = a + b (first row).
    let (m, n, k) = (a + c, b + d, a + b);
    if m + n == 0 {
        return FisherTest {
            odds_ratio,
            p_value: 1.0,
        };
    }
    let lo = k.saturating_sub(n);
    let hi = k.min(m);
    let ln_total = ln_binomial(m + n, k);
    let dens = |x: u64| (ln_binomial(m, x) + ln_binomial(n, k - x) - ln_total).exp();
    let d_obs = dens(a);
    let rel = 1.0 + 1e-7;
    let p: f64 = (lo..=hi).map(dens).filter(|&p| p <= d_obs * rel).sum();
    FisherTest {
        odds_ratio,
        p_value: p.min(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tea_tasting() {
        // R: fisher.test(matrix(c(3,1,1,3),2))$p.value = 0.4857143
        let r = fisher_exact_2x2(3, 1, 1, 3);
        assert!((r.p_value - 0.485_714_285_714_285_7).abs() < 1e-12);
        assert_eq!(fisher_exact_2x2(0, 0, 0, 0).p_value, 1.0);
    }
}
