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

/// Bliss independence of fractional inhibitions (Bliss 1939): I = 1 − Π(1 − I_j), adjusted by
/// `interaction` α when at least two agents act:
/// α > 0 (synergy) pushes I toward 1 by the fraction α of the remaining room, I + α·(1 − I);
/// α < 0 (antagonism) pulls I toward the strongest single agent, I + α·(I − max I_j).
/// α = 0 is pure Bliss independence. Inputs are clamped to [0, 1].
#[inline]
pub fn bliss(inhibitions: &[f64], interaction: f64) -> f64 {
    let mut surv = 1.0;
    let mut max_single: f64 = 0.0;
    let mut active = 0;
    for &i in inhibitions {
        let i = i.clamp(0.0, 1.0);
        if i > 0.0 {
            active += 1;
        }
        surv *= 1.0 - i;
        max_single = max_single.max(i);
    }
    let ind = 1.0 - surv;
    if active < 2 || interaction == 0.0 {
        return ind;
    }
    let a = interaction.clamp(-1.0, 1.0);
    if a > 0.0 {
        ind + a * (1.0 - ind)
    } else {
        ind + a * (ind - max_single)
    }
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
    fn bliss_independence_and_interaction() {
        assert!((bliss(&[0.5, 0.5], 0.0) - 0.75).abs() < 1e-12);
        assert!((bliss(&[0.5, 0.5], 0.5) - 0.875).abs() < 1e-12);
        assert!((bliss(&[0.5, 0.5], -1.0) - 0.5).abs() < 1e-12);
        // One agent: interaction does not apply.
        assert!((bliss(&[0.3, 0.0], 0.9) - 0.3).abs() < 1e-12);
    }
}
