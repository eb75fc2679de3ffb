//! Decisions without exact p-values on the tight path: a Welch t statistic is placed among
//! the p-value thresholds its family can compare it with, using tables of t critical values
//! at integer degrees of freedom (issue 19: the incomplete beta of exact p-values was 70% of
//! the tight path's time under Holm).
//!
//! Every multiplicity method of [`super::units::UnitPlan::decide`] compares a unit's p-value
//! only with thresholds α/k, k = 1..m (m = family size; fewer when some members are not
//! computable): Holm's step-down p₍ᵢ₎ < α/(m − i + 1) (Holm 1979, Scand J Stat 6:65),
//! Bonferroni's p < α/m', and α itself (no adjustment, fixed sequence). Which of these a
//! p-value is below therefore settles every decision, so a *decision-equivalent* p-value —
//! any value strictly between the same two thresholds — gives exactly the decisions of the
//! exact one. Exact p-values stay where they are printed (`analyze`, `tests.csv`).
//!
//! p < c ⇔ |t| > t_{1−c/2, ν} (two-sided) and, one-sided, p = p₂/2 in the direction of the
//! alternative (p ≥ ½ against it), so p < c ⇔ the effect points the alternative's way and
//! |t| > t_{1−c, ν}. Welch ν is not an integer: t_{1−a, ν} decreases in ν, so the tables at
//! ⌊ν⌋ and ⌈ν⌉ bracket it, and the exact p-value is computed only when |t| falls between
//! the two.

use super::nct::{t_quantile, t_two_sided_p};
use crate::protocol::Alternative;

/// The thresholds of one unit on the p scale, ascending, with their critical-value tables.
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// α/m, …, α/2, α (p scale, ascending).
    levels: Vec<f64>,
    /// Per level: |t| critical values for ν = 0..=max_df (index 0 unused, +∞).
    crit: Vec<Vec<f64>>,
    /// The unit's alternative.
    alternative: Alternative,
}

impl Thresholds {
    /// Thresholds α/k for k = 1..=`family_size` of a unit with `alternative`, with tables up
    /// to `max_df`; `None` when one-sided at α > ½ (a p-value against the alternative, 1 − p₂/2,
    /// could then be below a threshold: use exact p-values).
    pub fn new(
        alpha: f64,
        family_size: usize,
        alternative: Alternative,
        max_df: usize,
    ) -> Option<Thresholds> {
        let one_sided = alternative != Alternative::TwoSided;
        if one_sided && alpha > 0.5 {
            return None;
        }
        let levels: Vec<f64> = (1..=family_size.max(1))
            .rev()
            .map(|k| alpha / k as f64)
            .collect();
        let crit = levels
            .iter()
            .map(|&c| {
                // Upper-tail probability of |t| at which p = c.
                let tail = if one_sided { c } else { c / 2.0 };
                let mut q = vec![f64::INFINITY; max_df + 1];
                for (df, v) in q.iter_mut().enumerate().skip(1) {
                    *v = t_quantile(1.0 - tail, df as f64);
                }
                q
            })
            .collect();
        Some(Thresholds {
            levels,
            crit,
            alternative,
        })
    }

    /// A p-value that lies between the same two thresholds as the exact p-value of the Welch
    /// statistic `t` with `df` degrees of freedom (smaller values of every tight endpoint are
    /// the benefit, as in the exact path), or the exact p-value when the tables cannot tell.
    pub fn decision_p(&self, t: f64, df: f64) -> f64 {
        let exact = || self.alternative.p_from_two_sided(t_two_sided_p(t, df), -t);
        if !(t.is_finite() && df >= 1.0) {
            return exact();
        }
        let toward = match self.alternative {
            Alternative::TwoSided => true,
            Alternative::Greater => t < 0.0,
            Alternative::Less => t > 0.0,
        };
        if !toward {
            // p ≥ ½ ≥ α: above every threshold.
            return self.surrogate(self.levels.len());
        }
        let at = t.abs();
        let lo = df as usize;
        let hi = if (lo as f64) < df { lo + 1 } else { lo };
        if hi >= self.crit[0].len() {
            return exact();
        }
        // The first (smallest) threshold the p-value is below; once below, below all larger.
        for (i, q) in self.crit.iter().enumerate() {
            if at > q[lo] {
                return self.surrogate(i);
            }
            if at >= q[hi] {
                return exact();
            }
        }
        self.surrogate(self.levels.len())
    }

    /// A p-value strictly inside bucket `b`: below `levels[b]` and at or above `levels[b−1]`
    /// (midpoints, far from both thresholds).
    fn surrogate(&self, b: usize) -> f64 {
        let l = &self.levels;
        match b {
            0 => l[0] / 2.0,
            b if b < l.len() => 0.5 * (l[b - 1] + l[b]),
            _ => 0.5 * (l[l.len() - 1] + 1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::stats::adjust;
    use crate::protocol::Adjustment;
    use proptest::prelude::*;

    proptest! {
        /// Adjusted decisions from decision-equivalent p-values equal those from exact ones
        /// for every method, alternative and family size (Welch ν fractional and integer).
        #[test]
        fn decisions_equal_exact(
            stats in proptest::collection::vec((-8.0..8.0f64, 1.0..30.0f64, any::<bool>()), 1..6),
            m in 0usize..4,
            alt in 0usize..3,
            alpha in prop_oneof![Just(0.05), 0.001..0.5f64],
        ) {
            let alternative = [Alternative::TwoSided, Alternative::Greater, Alternative::Less][alt];
            let method = Adjustment::NAMES[m].1;
            let th = Thresholds::new(alpha, stats.len(), alternative, 40).unwrap();
            let mut exact = Vec::new();
            let mut fast = Vec::new();
            for &(t, df, int) in &stats {
                let df = if int { df.floor() } else { df };
                exact.push(alternative.p_from_two_sided(t_two_sided_p(t, df), -t));
                fast.push(th.decision_p(t, df));
            }
            let (ea, fa) = (adjust(&exact, method), adjust(&fast, method));
            for i in 0..stats.len() {
                prop_assert_eq!(ea[i] < alpha, fa[i] < alpha, "{:?} {:?} {:?}", stats, exact, fast);
            }
        }
    }

    #[test]
    fn thresholds_bracket_the_exact_p() {
        let th = Thresholds::new(0.05, 3, Alternative::TwoSided, 30).unwrap();
        // t = 2.2, ν = 10: p = 0.0522 ≥ α → above every threshold.
        assert!(th.decision_p(2.2, 10.0) > 0.05);
        // t = 2.5, ν = 10: p = 0.0314, between α/2 and α.
        let p = th.decision_p(2.5, 10.0);
        assert!((0.05 / 2.0..0.05).contains(&p), "{p}");
        // t = 6, ν = 10: p = 1.3e-4 < α/3.
        assert!(th.decision_p(6.0, 10.0) < 0.05 / 3.0);
        // One-sided against the alternative: never below a threshold.
        let g = Thresholds::new(0.05, 1, Alternative::Greater, 30).unwrap();
        assert!(g.decision_p(6.0, 10.0) > 0.05);
        assert!(g.decision_p(-2.0, 10.0) < 0.05); // p = 0.037
        assert!(Thresholds::new(0.6, 1, Alternative::Less, 30).is_none());
    }
}
