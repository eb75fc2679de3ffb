//! One-compartment pharmacokinetics with first-order absorption.
//!
//! Single extravascular dose D at time 0 (Bateman function; Gibaldi & Perrier,
//! *Pharmacokinetics*, 2nd ed., eq. 3.8):
//! C(t) = F·D·ka / (V·(ka − ke)) · (e^{−ke·t} − e^{−ka·t}), ke = ln 2 / t½;
//! IV bolus: C(t) = D/V·e^{−ke·t}. Multiple doses superpose (the model is linear).
//! The engine instead propagates the amounts in the gut and central compartments exactly
//! between events ([`PkState`]), which is the same solution computed incrementally.

/// One-compartment PK parameters for one animal (rates per day, volume in L).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OneCompartment {
    /// Absorption rate ka, 1/day (unused for IV).
    pub ka: f64,
    /// Elimination rate ke = ln 2 / t½, 1/day.
    pub ke: f64,
    /// Volume of distribution, L (per-kg volume × body weight).
    pub volume_l: f64,
    /// Bioavailability F (1 for IV).
    pub bioavailability: f64,
    /// Intravenous bolus (dose enters the central compartment directly).
    pub iv: bool,
}

impl OneCompartment {
    /// Concentration in ng/mL at time `t` after one dose of `dose_mg` (mg/L × 1000).
    pub fn single_dose(&self, dose_mg: f64, t: f64) -> f64 {
        if t < 0.0 {
            return 0.0;
        }
        let mg_per_l = if self.iv {
            dose_mg / self.volume_l * (-self.ke * t).exp()
        } else {
            let f = self.bioavailability * dose_mg / self.volume_l;
            if (self.ka - self.ke).abs() < 1e-9 * self.ka {
                // ka = ke limit: F·D/V·ka·t·e^{−ke t}.
                f * self.ka * t * (-self.ke * t).exp()
            } else {
                f * self.ka / (self.ka - self.ke) * ((-self.ke * t).exp() - (-self.ka * t).exp())
            }
        };
        mg_per_l * 1000.0
    }

    /// Concentration at `t` from doses `(time, mg)` by superposition.
    pub fn superposed(&self, doses: &[(f64, f64)], t: f64) -> f64 {
        doses
            .iter()
            .filter(|d| d.0 <= t)
            .map(|&(td, mg)| self.single_dose(mg, t - td))
            .sum()
    }
}

impl OneCompartment {
    /// Concentrations (ng/mL) at the sorted times `at` from 1 mg given at each of the sorted
    /// times `doses` (a dose at exactly a query time counts before it), by the exact
    /// step-wise propagation ([`PkState`]) in one pass. Doses scale linearly: an animal's
    /// curve is its dose (mg) times this unit curve, so a schedule's curve is computed once.
    pub fn unit_curve(&self, doses: &[f64], at: &[f64]) -> Vec<f64> {
        let (mut s, mut ts, mut di) = (PkState::default(), 0.0, 0);
        at.iter()
            .map(|&t| {
                while di < doses.len() && doses[di] <= t {
                    s = s.after(self, doses[di] - ts);
                    ts = doses[di];
                    s.dose(self, 1.0);
                    di += 1;
                }
                s.conc_after(self, t - ts)
            })
            .collect()
    }
}

/// Amounts (mg) in the absorption and central compartments.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PkState {
    /// Amount at the absorption site, mg.
    pub gut: f64,
    /// Amount in the central compartment, mg.
    pub central: f64,
}

impl PkState {
    /// Adds a dose (F·D to the gut, or D to the central compartment for IV).
    #[inline]
    pub fn dose(&mut self, pk: &OneCompartment, mg: f64) {
        if pk.iv {
            self.central += mg;
        } else {
            self.gut += pk.bioavailability * mg;
        }
    }

    /// Exact state after `dt` days without dosing.
    #[inline]
    pub fn after(&self, pk: &OneCompartment, dt: f64) -> PkState {
        let ea = (-pk.ka * dt).exp();
        let ee = (-pk.ke * dt).exp();
        let transfer = if (pk.ka - pk.ke).abs() < 1e-9 * pk.ka.max(1e-300) {
            pk.ka * dt * ee
        } else {
            pk.ka / (pk.ka - pk.ke) * (ee - ea)
        };
        PkState {
            gut: self.gut * ea,
            central: self.central * ee + self.gut * transfer,
        }
    }

    /// Concentration (ng/mL) `dt` days after this state.
    #[inline]
    pub fn conc_after(&self, pk: &OneCompartment, dt: f64) -> f64 {
        self.after(pk, dt).central / pk.volume_l * 1000.0
    }

    /// True when both compartments are (numerically) empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.gut <= 1e-300 && self.central <= 1e-300
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pk(iv: bool) -> OneCompartment {
        OneCompartment {
            ka: 1.0 * 24.0,
            ke: 2f64.ln() / 6.0 * 24.0,
            volume_l: 2.0 * 0.02,
            bioavailability: 0.6,
            iv,
        }
    }

    #[test]
    fn bateman_peak_time_and_auc() {
        let p = pk(false);
        // tmax = ln(ka/ke)/(ka − ke) (Gibaldi & Perrier eq. 3.14).
        let tmax = (p.ka / p.ke).ln() / (p.ka - p.ke);
        let c = |t: f64| p.single_dose(1.0, t);
        assert!(c(tmax) > c(tmax * 0.98) && c(tmax) > c(tmax * 1.02));
        // AUC0-∞ = F·D/(V·ke) (×1000 for ng/mL).
        let h = 1e-4;
        let auc: f64 = (0..200_000).map(|i| c((i as f64 + 0.5) * h) * h).sum();
        let exact = 0.6 * 1.0 / (0.04 * p.ke) * 1000.0;
        assert!((auc - exact).abs() / exact < 1e-3, "{auc} vs {exact}");
    }

    #[test]
    fn unit_curve_scales_to_superposition() {
        for iv in [false, true] {
            let p = pk(iv);
            let doses = [0.4, 0.9, 1.4, 3.0];
            let at = [0.0, 0.4, 0.41, 1.0, 2.5, 3.0, 3.7];
            let c = p.unit_curve(&doses, &at);
            for (&t, &ci) in at.iter().zip(&c) {
                let d: Vec<(f64, f64)> = doses.iter().map(|&x| (x, 0.7)).collect();
                let b = p.superposed(&d, t);
                assert!(
                    (0.7 * ci - b).abs() <= 1e-9 * b.max(1e-9),
                    "iv={iv} t={t}: {ci} vs {b}"
                );
            }
        }
    }

    #[test]
    fn stepwise_propagation_equals_superposition() {
        for iv in [false, true] {
            let p = pk(iv);
            // BID at 10:00 and 18:00 for 3 days, 0.5 mg each.
            let doses: Vec<(f64, f64)> = (0..3)
                .flat_map(|d| [(d as f64 + 10.0 / 24.0, 0.5), (d as f64 + 18.0 / 24.0, 0.5)])
                .collect();
            let mut s = PkState::default();
            let mut t = 0.0;
            for &(td, mg) in &doses {
                s = s.after(&p, td - t);
                s.dose(&p, mg);
                t = td;
            }
            for &tq in &[3.0, 3.2, 4.0] {
                let a = s.conc_after(&p, tq - t);
                let b = p.superposed(&doses, tq);
                assert!(
                    (a - b).abs() <= 1e-9 * b.max(1e-12),
                    "iv={iv} t={tq}: {a} vs {b}"
                );
            }
        }
    }
}
