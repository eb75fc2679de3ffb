//! Tumor growth models (volume V in mm³, time t in days, rates per day).
//!
//! The perturbed forms add a constant first-order kill term κ (1/day), which is how the engine
//! applies a direct drug kill between dosing breakpoints:
//! - exponential: V' = r·V − κ·V → V(t) = V0·e^{(r−κ)t};
//! - logistic: V' = r·V·(1 − V/K) − κ·V = a·V − b·V², a = r − κ, b = r/K →
//!   V(t) = V0·e^{at} / (1 + b·V0·(e^{at} − 1)/a) (Bernoulli equation; a → 0 limit V0/(1 + b·V0·t));
//! - Gompertz: V' = r·V·ln(K/V) − κ·V; with u = ln V, u' = r·(ln K − u) − κ is linear →
//!   u(t) = u* + (u0 − u*)·e^{−rt}, u* = ln K − κ/r (Gompertz 1825; Laird 1964).

/// Kinetics of the proliferating volume (per-capita growth rate as a function of total volume).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kinetics {
    /// V' = r·V.
    Exponential,
    /// V' = r·V·(1 − W/K).
    Logistic {
        /// Carrying capacity K, mm³.
        capacity: f64,
    },
    /// V' = r·V·ln(K/W).
    Gompertz {
        /// Plateau K, mm³.
        capacity: f64,
    },
}

impl Kinetics {
    /// Per-capita growth factor h(W) multiplying the rate r: 1, (1 − W/K) or ln(K/W).
    #[inline]
    pub fn factor(self, total: f64) -> f64 {
        match self {
            Kinetics::Exponential => 1.0,
            Kinetics::Logistic { capacity } => 1.0 - total / capacity,
            Kinetics::Gompertz { capacity } => {
                if total > 0.0 {
                    (capacity / total).ln()
                } else {
                    0.0
                }
            }
        }
    }

    /// Closed-form volume after `dt` days from `v0`, growth rate `r` and kill rate `kill`
    /// (both constant over `dt`). Exact for a single population (see the module docs).
    #[inline]
    pub fn advance(self, v0: f64, r: f64, kill: f64, dt: f64) -> f64 {
        if v0 <= 0.0 || dt == 0.0 {
            return v0;
        }
        match self {
            Kinetics::Exponential => v0 * ((r - kill) * dt).exp(),
            Kinetics::Logistic { capacity } => {
                let a = r - kill;
                let b = r / capacity;
                let at = a * dt;
                // (e^{at} − 1)/a, with the a → 0 limit dt.
                let g = if at.abs() < 1e-12 {
                    dt
                } else {
                    at.exp_m1() / a
                };
                v0 * at.exp() / (1.0 + b * v0 * g)
            }
            Kinetics::Gompertz { capacity } => {
                let u0 = v0.ln();
                if r.abs() < 1e-14 {
                    return (u0 - kill * dt).exp();
                }
                let ustar = capacity.ln() - kill / r;
                (ustar + (u0 - ustar) * (-r * dt).exp()).exp()
            }
        }
    }
}

/// Exponential growth V0·e^{rt}.
pub fn exponential(v0: f64, r: f64, t: f64) -> f64 {
    v0 * (r * t).exp()
}

/// Logistic growth K·V0 / (V0 + (K − V0)·e^{−rt}) (Verhulst 1838).
pub fn logistic(v0: f64, r: f64, capacity: f64, t: f64) -> f64 {
    capacity * v0 / (v0 + (capacity - v0) * (-r * t).exp())
}

/// Gompertz growth K·exp(ln(V0/K)·e^{−rt}).
pub fn gompertz(v0: f64, r: f64, capacity: f64, t: f64) -> f64 {
    capacity * ((v0 / capacity).ln() * (-r * t).exp()).exp()
}

/// Simeoni et al. 2004 growth term λ0·x1 / [1 + (λ0/λ1·W)^ψ]^{1/ψ}: exponential (rate λ0) for
/// small tumors, linear (λ1 mm³/day) for large ones; ψ = 20 gives a sharp switch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simeoni {
    /// λ0, 1/day.
    pub lambda0: f64,
    /// λ1, mm³/day.
    pub lambda1: f64,
    /// Transit rate k1, 1/day.
    pub k1: f64,
    /// ψ (20 in the paper).
    pub psi: f64,
}

impl Simeoni {
    /// Growth of the proliferating compartment x1 when the total volume is `w`, with the
    /// exponential rate multiplied by `mult` (drug inhibition, estrogen).
    #[inline]
    pub fn growth(&self, x1: f64, w: f64, mult: f64) -> f64 {
        let l0 = self.lambda0 * mult;
        if l0 <= 0.0 || x1 <= 0.0 {
            return 0.0;
        }
        let z = l0 / self.lambda1 * w;
        // [1 + z^ψ]^{1/ψ}, computed without overflow for large z.
        let denom = if z > 1.0 {
            z * (1.0 + z.powf(-self.psi)).powf(1.0 / self.psi)
        } else {
            (1.0 + z.powf(self.psi)).powf(1.0 / self.psi)
        };
        l0 * x1 / denom
    }

    /// Right-hand side of the four-compartment model with kill rate `kill` = k2·C(t):
    /// x1' = growth − kill·x1; x2' = kill·x1 − k1·x2; x3' = k1·(x2 − x3); x4' = k1·(x3 − x4).
    #[inline]
    pub fn rhs(&self, x: &[f64; 4], mult: f64, kill: f64) -> [f64; 4] {
        let w = x[0] + x[1] + x[2] + x[3];
        [
            self.growth(x[0], w, mult) - kill * x[0],
            kill * x[0] - self.k1 * x[1],
            self.k1 * (x[1] - x[2]),
            self.k1 * (x[2] - x[3]),
        ]
    }
}

/// One classical fourth-order Runge–Kutta step of y' = f(t, y) for a fixed-size state.
#[inline]
pub fn rk4_step<const N: usize>(
    t: f64,
    y: &[f64; N],
    h: f64,
    f: &mut impl FnMut(f64, &[f64; N]) -> [f64; N],
) -> [f64; N] {
    let add = |a: &[f64; N], b: &[f64; N], s: f64| -> [f64; N] {
        let mut o = *a;
        for i in 0..N {
            o[i] += s * b[i];
        }
        o
    };
    let k1 = f(t, y);
    let k2 = f(t + 0.5 * h, &add(y, &k1, 0.5 * h));
    let k3 = f(t + 0.5 * h, &add(y, &k2, 0.5 * h));
    let k4 = f(t + h, &add(y, &k3, h));
    let mut o = *y;
    for i in 0..N {
        o[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
    o
}

/// Integrates y' = f(t, y) from `t0` over `dt` with RK4 steps no longer than `h_max`.
pub fn rk4<const N: usize>(
    t0: f64,
    y: [f64; N],
    dt: f64,
    h_max: f64,
    f: &mut impl FnMut(f64, &[f64; N]) -> [f64; N],
) -> [f64; N] {
    if dt <= 0.0 {
        return y;
    }
    let n = (dt / h_max).ceil().max(1.0) as usize;
    let h = dt / n as f64;
    let mut y = y;
    for i in 0..n {
        y = rk4_step(t0 + i as f64 * h, &y, h, f);
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative tolerance of the closed-form/ODE comparisons.
    const REL: f64 = 1e-7;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-12)
    }

    #[test]
    fn closed_forms_match_their_odes() {
        for (kin, cap) in [
            (Kinetics::Exponential, 0.0),
            (Kinetics::Logistic { capacity: 3000.0 }, 3000.0),
            (Kinetics::Gompertz { capacity: 3000.0 }, 3000.0),
        ] {
            let _ = cap;
            for &(r, kill) in &[(0.15, 0.0), (0.15, 0.05), (0.1, 0.3), (0.2, 0.2)] {
                let v0 = 120.0;
                let mut f = |_t: f64, y: &[f64; 1]| [r * kin.factor(y[0]) * y[0] - kill * y[0]];
                for &t in &[0.5, 7.0, 28.0] {
                    let num = rk4(0.0, [v0], t, 0.01, &mut f)[0];
                    let exact = kin.advance(v0, r, kill, t);
                    assert!(
                        close(exact, num, REL),
                        "{kin:?} r={r} kill={kill} t={t}: {exact} vs {num}"
                    );
                }
            }
        }
    }

    #[test]
    fn textbook_closed_forms() {
        assert!(close(
            exponential(100.0, 0.1, 10.0),
            100.0 * 1f64.exp(),
            1e-12
        ));
        // Logistic half-way point: V0 = K/2 stays symmetric: V(t) at t = ln 3 / r from K/4 is K/2.
        assert!(close(
            logistic(250.0, 0.2, 1000.0, 3f64.ln() / 0.2),
            500.0,
            1e-12
        ));
        // Gompertz: ln(V/K) decays by e^{-rt}.
        let v = gompertz(10.0, 0.1, 1000.0, 10.0);
        assert!(close(
            (v / 1000.0).ln(),
            (0.01f64).ln() * (-1f64).exp(),
            1e-12
        ));
        // Kinetics::advance without kill equals the textbook forms.
        assert!(close(
            Kinetics::Logistic { capacity: 1000.0 }.advance(250.0, 0.2, 0.0, 5.0),
            logistic(250.0, 0.2, 1000.0, 5.0),
            1e-12
        ));
        assert!(close(
            Kinetics::Gompertz { capacity: 1000.0 }.advance(10.0, 0.1, 0.0, 10.0),
            v,
            1e-12
        ));
    }

    #[test]
    fn simeoni_limits_exponential_and_linear() {
        // Paclitaxel experiment 1 (Simeoni 2004 via nlmixr2lib), λ1 in mm³/day (1 g ≈ 1000 mm³).
        let m = Simeoni {
            lambda0: 0.273,
            lambda1: 814.0,
            k1: 0.968,
            psi: 20.0,
        };
        // Small tumor: exponential at λ0 (the switch is at W = λ1/λ0 ≈ 2982 mm³).
        let mut f = |_t: f64, y: &[f64; 4]| m.rhs(y, 1.0, 0.0);
        let x = rk4(0.0, [10.0, 0.0, 0.0, 0.0], 5.0, 0.01, &mut f);
        assert!(close(x[0], 10.0 * (0.273f64 * 5.0).exp(), 1e-6), "{}", x[0]);
        // Large tumor: linear at λ1.
        let x0 = 20000.0;
        let x = rk4(0.0, [x0, 0.0, 0.0, 0.0], 2.0, 0.01, &mut f);
        assert!(close(x[0], x0 + 2.0 * 814.0, 1e-4), "{}", x[0]);
    }

    #[test]
    fn simeoni_transit_chain_matches_independent_solution() {
        // Growth switched off (mult = 0) and a constant kill: x1 = x0·e^{−κt}; the chain
        // x2..x4 is a linear cascade whose exact solution (Bateman 1910) we compare against.
        let m = Simeoni {
            lambda0: 0.3,
            lambda1: 800.0,
            k1: 0.5,
            psi: 20.0,
        };
        let kappa = 0.2;
        let mut f = |_t: f64, y: &[f64; 4]| m.rhs(y, 0.0, kappa);
        let t = 6.0;
        let x = rk4(0.0, [100.0, 0.0, 0.0, 0.0], t, 0.005, &mut f);
        let (a, k) = (kappa, 0.5f64);
        let e = |r: f64| (-r * t).exp();
        let x1 = 100.0 * e(a);
        // x2 = 100·a/(k−a)·(e^{−at} − e^{−kt})
        let x2 = 100.0 * a / (k - a) * (e(a) - e(k));
        assert!(
            close(x[0], x1, 1e-9) && close(x[1], x2, 1e-8),
            "{x:?} vs {x1} {x2}"
        );
        // x3 via its convolution: x3 = 100·a·k·[e^{−at}/(k−a)² − e^{−kt}/(k−a)² − t·e^{−kt}/(k−a)]
        let x3 =
            100.0 * a * k * (e(a) / (k - a).powi(2) - e(k) / (k - a).powi(2) - t * e(k) / (k - a));
        assert!(close(x[2], x3, 1e-7), "{} vs {x3}", x[2]);
        // Mass balance: what left x4 is k·∫x4; total decays monotonically.
        assert!(x.iter().sum::<f64>() < 100.0);
    }
}
