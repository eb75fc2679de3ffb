//! Concentration–effect and combination models.

/// Sigmoid Emax (Hill) model: E = Emax·C^h / (EC50^h + C^h) (Hill 1910; Holford & Sheiner
/// 1981). Returns a fractional effect in [0, Emax].
#[inline]
pub fn emax_hill(conc: f64, emax: f64, ec50: f64, hill: f64) -> f64 {
    if conc <= 0.0 {
        return 0.0;
    }
    if hill == 1.0 {
        return emax * conc / (ec50 + conc);
    }
    let r = (conc / ec50).powf(hill);
    emax * r / (1.0 + r)
}

/// Quadrature of the sigmoid Emax effect over a concentration curve: Σ wⱼ·E(scale·cⱼ) with
/// E = [`emax_hill`] (the one owner of the Hill model; this is its sum over the nodes of a
/// precomputed unit concentration curve, scaled to an animal's dose).
#[inline]
pub fn emax_hill_sum(w: &[f64], c: &[f64], scale: f64, emax: f64, ec50: f64, hill: f64) -> f64 {
    if hill == 1.0 {
        // The same formula as `emax_hill` (c = 0 gives 0), branch-free so it vectorizes.
        let e = ec50 / scale;
        return emax * w.iter().zip(c).map(|(&w, &c)| w * c / (e + c)).sum::<f64>();
    }
    w.iter()
        .zip(c)
        .map(|(&w, &c)| w * emax_hill(scale * c, emax, ec50, hill))
        .sum()
}

/// Combined growth-rate inhibition of agents given together: Bliss independence on
/// exponential growth rates, the null of the synergy tests (`bliss-lmm`; Demidenko & Miller,
/// PLoS One 2019; SynergyLMM, Nat Commun 2025). Each agent alone scales the control rate b_C
/// to b_j = (1 − I_j)·b_C; independent actions add on the log scale of volume, so the
/// combination's rate is b_AB = b_A + b_B − b_C, i.e. the inhibitions add: I = Σ I_j (> 1:
/// the combination shrinks the tumor). `interaction` is the further inhibition, as a fraction
/// of the control rate, beyond that null (b_AB = b_A + b_B − b_C − interaction·b_C): > 0
/// synergy, < 0 antagonism, 0 the test's null. It applies when at least two agents act
/// (`acting`: agents with a nonzero inhibition or kill at that time — a kill agent such as a
/// Simeoni k2 term acts on the rate too). Inputs are clamped to [0, 1].
///
/// This replaced the product rule 1 − Π(1 − I_j) (Bliss 1939 on fractional effects): for
/// exponential growth a combination that rule calls independent reads as antagonistic to the
/// growth-rate test (multipliers 0.8 and 0.6 give 0.48, the rate-Bliss null is 0.40).
#[inline]
pub fn bliss(inhibitions: &[f64], acting: usize, interaction: f64) -> f64 {
    let sum: f64 = inhibitions.iter().map(|i| i.clamp(0.0, 1.0)).sum();
    if acting < 2 { sum } else { sum + interaction }
}

/// The highest-single-agent (HSA) null of a combination: the larger single inhibition (the
/// slower single-agent rate, b_AB = min(b_A, b_B)), the null of the `hsa-lmm` test.
#[inline]
pub fn hsa(inhibitions: &[f64]) -> f64 {
    inhibitions
        .iter()
        .map(|i| i.clamp(0.0, 1.0))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hill_half_effect_at_ec50() {
        assert!((emax_hill(10.0, 0.8, 10.0, 2.0) - 0.4).abs() < 1e-12);
        assert!((emax_hill(10.0, 0.8, 10.0, 1.0) - 0.4).abs() < 1e-12);
        assert_eq!(emax_hill(0.0, 0.8, 10.0, 1.0), 0.0);
        // Steeper Hill: lower effect below EC50, higher above.
        assert!(emax_hill(5.0, 1.0, 10.0, 3.0) < emax_hill(5.0, 1.0, 10.0, 1.0));
        assert!(emax_hill(20.0, 1.0, 10.0, 3.0) > emax_hill(20.0, 1.0, 10.0, 1.0));
    }

    #[test]
    fn hill_sum_is_the_weighted_sum_of_emax_hill() {
        let (w, c) = ([0.1, 0.2, 0.3, 0.4], [0.0, 50.0, 200.0, 900.0]);
        for hill in [1.0, 2.5] {
            let direct: f64 = w
                .iter()
                .zip(&c)
                .map(|(w, c)| w * emax_hill(3.0 * c, 0.9, 400.0, hill))
                .sum();
            let s = emax_hill_sum(&w, &c, 3.0, 0.9, 400.0, hill);
            assert!((s - direct).abs() < 1e-14, "{s} vs {direct}");
        }
    }

    #[test]
    fn bliss_on_rates_is_the_synergy_tests_null() {
        // Multipliers 0.8 and 0.6 (I = 0.2, 0.4): b_AB = b_A + b_B − b_C → multiplier 0.40.
        let (bc, ia, ib) = (0.079, 0.2, 0.4);
        let i = bliss(&[ia, ib], 2, 0.0);
        let (ba, bb) = ((1.0 - ia) * bc, (1.0 - ib) * bc);
        assert!(((1.0 - i) * bc - (ba + bb - bc)).abs() < 1e-15);
        assert!((1.0 - i - 0.4).abs() < 1e-12);
        // Interaction is extra inhibition in units of the control rate.
        assert!((bliss(&[ia, ib], 2, 0.3) - (0.6 + 0.3)).abs() < 1e-12);
        // Strong agents together regress (I > 1).
        assert!(bliss(&[0.7, 0.6], 2, 0.0) > 1.0);
        // One agent acting: interaction does not apply; an inhibitor with a kill agent: it does.
        assert!((bliss(&[0.3, 0.0], 1, 0.9) - 0.3).abs() < 1e-12);
        assert!((bliss(&[0.3, 0.0], 2, 0.2) - 0.5).abs() < 1e-12);
        assert!((hsa(&[0.3, 0.5]) - 0.5).abs() < 1e-12);
    }
}
