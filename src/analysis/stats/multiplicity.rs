//! Multiplicity adjustment.

use crate::protocol::Adjustment;

/// Adjusted p-values of one family by `method`, `p` in the family's order (for the fixed
/// sequence: the testing order). NaN entries stay NaN and, for Holm and Bonferroni, do not
/// count towards m (R's `p.adjust`); in a fixed sequence a NaN (a test that could not be
/// computed) stops the sequence: it and every later hypothesis get NaN, never a rejection.
/// - Holm: [`holm`]; Bonferroni: min(1, m·p) (R `p.adjust(p, "bonferroni")`);
/// - fixed sequence: p̃ᵢ = max_{j≤i} pⱼ, so H_i is rejected at α exactly when it and every
///   hypothesis before it have p ≤ α (Maurer, Hothorn & Lehmacher 1995; Westfall & Krishen
///   2001, J Stat Plan Inference 99:25).
pub fn adjust(p: &[f64], method: Adjustment) -> Vec<f64> {
    match method {
        Adjustment::Holm => holm(p),
        Adjustment::None => p.to_vec(),
        Adjustment::Bonferroni => {
            let m = p.iter().filter(|x| !x.is_nan()).count() as f64;
            p.iter()
                .map(|&x| if x.is_nan() { x } else { (m * x).min(1.0) })
                .collect()
        }
        Adjustment::FixedSequence => {
            let mut running = 0.0f64;
            let mut broken = false;
            p.iter()
                .map(|&x| {
                    if broken || x.is_nan() {
                        broken = true;
                        return f64::NAN;
                    }
                    running = running.max(x);
                    running
                })
                .collect()
        }
    }
}

/// Holm's step-down adjusted p-values (Holm 1979, Scand J Stat 6:65), as R's
/// `p.adjust(p, "holm")`: sort ascending, p̃₍ᵢ₎ = max_{j≤i} min(1, (m − j + 1)·p₍ⱼ₎). NaN entries
/// are kept as NaN and do not count towards m (R's `na.rm` behaviour of `p.adjust`).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = idx.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (rank, &i) in idx.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

/// Holm decisions at level `alpha` without allocating, for the power engines' hot loop: the
/// family is `pvals`, pairs (p, comparison index); `out[c]` is set for every index of the
/// family and is true exactly when [`holm`]'s adjusted p is < `alpha` (same NaN rule: NaN is
/// never rejected and does not count towards m). Sorts `pvals`.
pub fn holm_reject_into(pvals: &mut [(f64, usize)], alpha: f64, out: &mut [bool]) {
    let key = |p: f64| if p.is_nan() { f64::INFINITY } else { p };
    pvals.sort_by(|a, b| key(a.0).total_cmp(&key(b.0)).then(a.1.cmp(&b.1)));
    let m = pvals.iter().filter(|(p, _)| !p.is_nan()).count();
    for &(_, c) in pvals.iter() {
        out[c] = false;
    }
    // Step-down: reject p₍ᵢ₎ while (m − i + 1)·p₍ᵢ₎ < α, i.e. the running maximum of the
    // adjusted values stays below α.
    for (i, &(p, c)) in pvals.iter().take(m).enumerate() {
        if ((m - i) as f64 * p).min(1.0) < alpha {
            out[c] = true;
        } else {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_matches_r_and_skips_nan() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
        let a = holm(&[0.01, 0.04, 0.03, 0.005]);
        for (x, y) in a.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert!((x - y).abs() < 1e-15, "{a:?}");
        }
        let b = holm(&[0.5, f64::NAN, 0.6]);
        assert!((b[0] - 1.0).abs() < 1e-15 && b[1].is_nan() && (b[2] - 1.0).abs() < 1e-15);
    }

    #[test]
    fn bonferroni_and_fixed_sequence_match_their_definitions() {
        // R: p.adjust(c(0.01, 0.04, NA, 0.3), "bonferroni") = 0.03 0.12 NA 0.9
        let b = adjust(&[0.01, 0.04, f64::NAN, 0.3], Adjustment::Bonferroni);
        assert!((b[0] - 0.03).abs() < 1e-15 && (b[1] - 0.12).abs() < 1e-15);
        assert!(b[2].is_nan() && (b[3] - 0.9).abs() < 1e-15);
        // Fixed sequence: running maximum; a large early p blocks later small ones.
        let f = adjust(&[0.01, 0.2, 0.001], Adjustment::FixedSequence);
        assert_eq!(f, vec![0.01, 0.2, 0.2]);
        let g = adjust(&[0.01, f64::NAN, 0.001], Adjustment::FixedSequence);
        assert!(g[0] == 0.01 && g[1].is_nan() && g[2].is_nan());
        assert_eq!(adjust(&[0.5, 0.01], Adjustment::None), vec![0.5, 0.01]);
    }

    #[test]
    fn reject_into_step_down_cases() {
        let mut d = vec![false; 3];
        // sorted 0.01 < 0.05/3, 0.03 < 0.05/2? no (0.025) → stop.
        holm_reject_into(&mut [(0.01, 0), (0.04, 1), (0.03, 2)], 0.05, &mut d);
        assert_eq!(d, vec![true, false, false]);
        holm_reject_into(&mut [(0.001, 0), (0.02, 1), (0.04, 2)], 0.05, &mut d);
        assert_eq!(d, vec![true, true, true]);
        // NaN: never rejected, not counted (m = 1).
        let mut d = vec![false; 2];
        holm_reject_into(&mut [(f64::NAN, 0), (0.04, 1)], 0.05, &mut d);
        assert_eq!(d, vec![false, true]);
    }

    proptest::proptest! {
        /// The allocation-free decisions are exactly `holm(p) < α` (NaN included).
        #[test]
        fn reject_into_equals_adjusted_below_alpha(
            p in proptest::collection::vec(
                proptest::prop_oneof![0.0..0.2f64, 0.0..1.0f64, proptest::strategy::Just(f64::NAN)],
                1..8,
            ),
            alpha in 0.001..0.2f64,
        ) {
            let adj = holm(&p);
            let mut fam: Vec<(f64, usize)> = p.iter().copied().zip(0..).collect();
            let mut out = vec![true; p.len()];
            holm_reject_into(&mut fam, alpha, &mut out);
            for i in 0..p.len() {
                proptest::prop_assert_eq!(out[i], adj[i] < alpha, "p={:?} α={}", p, alpha);
            }
        }
    }
}
