//! Growth-curve equations on the log-volume scale and the per-animal (first-stage) fits,
//! with readings at or below the detection floor as left-censored observations.
//!
//! Measurement model (log-normal residual error, as the simulator's `LogVolume` caliper error):
//! ln Vᵢⱼ = ln f(tᵢⱼ; φᵢ) + εᵢⱼ, εᵢⱼ ~ N(0, σ²).
//! A reading at or below the floor L only says ln V ≤ ln L; its likelihood contribution is
//! Φ((ln L − μ)/σ) (Tobit / censored regression; Beal 2001 "M3", J Pharmacokinet
//! Pharmacodyn 28:481). Writing every contribution as a pseudo-residual
//! rᵢ = (yᵢ − μᵢ)/σ (observed) or rᵢ = √(−2 ln Φ((ln L − μᵢ)/σ)) (censored) makes Σ rᵢ² equal
//! to −2·log-likelihood up to a constant, so Levenberg–Marquardt maximises the censored
//! likelihood for fixed σ and JᵀJ is the Gauss–Newton observed information.

use super::lm::{Bounds, LmResult, minimize};
use statrs::function::erf::erfc;

/// Growth model fitted by `xenoplan fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// V(t) = V0·e^{rt}; per-animal parameters φ = (ln V0, r).
    Exponential,
    /// V' = rV ln(K/V): ln V(t) = ln K + (ln V0 − ln K)·e^{−rt}; φ = (ln V0, ln r, ln K).
    Gompertz,
    /// V' = rV(1 − V/K): V(t) = K / (1 + (K/V0 − 1)e^{−rt}); φ = (ln V0, ln r, ln K).
    Logistic,
}

impl Model {
    /// Name as written in protocols and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Model::Exponential => "exponential",
            Model::Gompertz => "gompertz",
            Model::Logistic => "logistic",
        }
    }

    /// Parses a command-line / protocol name.
    pub fn from_name(s: &str) -> Option<Model> {
        match s.to_ascii_lowercase().as_str() {
            "exponential" => Some(Model::Exponential),
            "gompertz" => Some(Model::Gompertz),
            "logistic" => Some(Model::Logistic),
            _ => None,
        }
    }

    /// Number of per-animal parameters.
    pub fn n_params(self) -> usize {
        match self {
            Model::Exponential => 2,
            _ => 3,
        }
    }

    /// Predicted ln V at time `t` (days) for per-animal parameters `phi`.
    pub fn ln_volume(self, phi: &[f64], t: f64) -> f64 {
        match self {
            Model::Exponential => phi[0] + phi[1] * t,
            Model::Gompertz => {
                let r = phi[1].exp();
                phi[2] + (phi[0] - phi[2]) * (-r * t).exp()
            }
            Model::Logistic => {
                let r = phi[1].exp();
                // ln K − ln(1 + (K/V0 − 1)e^{−rt}); K/V0 − 1 > −1 so the log argument is > 0.
                let c = (phi[2] - phi[0]).exp_m1();
                phi[2] - (c * (-r * t).exp()).ln_1p()
            }
        }
    }
}

/// One animal's log-volume readings, sorted by day.
#[derive(Debug, Clone, PartialEq)]
pub struct AnimalSeries {
    /// Animal identifier.
    pub id: String,
    /// Arm.
    pub arm: String,
    /// Days of the readings.
    pub days: Vec<f64>,
    /// ln(volume) for readings above the floor, ln(floor) for censored ones.
    pub ln_v: Vec<f64>,
    /// True when the reading was at or below the detection floor.
    pub censored: Vec<bool>,
}

impl AnimalSeries {
    /// Number of readings above the floor.
    pub fn n_observed(&self) -> usize {
        self.censored.iter().filter(|c| !**c).count()
    }
}

/// First-stage fit of one animal.
#[derive(Debug, Clone)]
pub struct AnimalFit {
    /// Estimated per-animal parameters φ̂.
    pub phi: Vec<f64>,
    /// Observed information JᵀJ (the inverse of the estimation covariance when regular).
    pub precision: Vec<Vec<f64>>,
    /// Σ (y − μ̂)² over readings above the floor.
    pub rss: f64,
    /// Readings above the floor.
    pub n_observed: usize,
    /// Whether LM reported convergence.
    pub converged: bool,
}

/// ln Φ(z), accurate in the far lower tail (asymptotic Mills-ratio expansion below −30,
/// Abramowitz & Stegun 26.2.12).
pub fn ln_norm_cdf(z: f64) -> f64 {
    if z < -30.0 {
        let z2 = z * z;
        -0.5 * z2 - (-z).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
            + (1.0 - 1.0 / z2 + 3.0 / (z2 * z2)).ln()
    } else {
        (0.5 * erfc(-z / std::f64::consts::SQRT_2)).ln()
    }
}

/// Bounds on φ that keep the fit away from absurd values (a tumour growing 10-fold a day, a
/// plateau 10⁴-fold above the largest reading): they only bind for animals whose data do not
/// identify a parameter, and those get almost no weight in the second stage anyway.
fn bounds(model: Model, s: &AnimalSeries) -> Bounds {
    let ymax = s.ln_v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ymin = s.ln_v.iter().copied().fold(f64::INFINITY, f64::min);
    match model {
        Model::Exponential => Bounds {
            lo: vec![ymin - 10.0, -5.0],
            hi: vec![ymax + 10.0, 5.0],
        },
        _ => Bounds {
            lo: vec![ymin - 10.0, (1e-4f64).ln(), ymin - 1.0],
            hi: vec![ymax + 10.0, (10.0f64).ln(), ymax + (1e4f64).ln()],
        },
    }
}

/// Ordinary least-squares slope and intercept of (x, y).
pub fn ols(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len() as f64;
    if x.len() < 2 {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

/// Starting points for LM: a log-linear fit for V0 and the early rate, and several plateaus.
fn starts(model: Model, s: &AnimalSeries) -> Vec<Vec<f64>> {
    let (x, y): (Vec<f64>, Vec<f64>) = s
        .days
        .iter()
        .zip(&s.ln_v)
        .zip(&s.censored)
        .filter(|(_, c)| !**c)
        .map(|((d, v), _)| (*d, *v))
        .unzip();
    let (a0, slope) = ols(&x, &y).unwrap_or((y.first().copied().unwrap_or(0.0), 0.05));
    if model == Model::Exponential {
        return vec![vec![a0, slope]];
    }
    let ymax = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let g = slope.max(0.01);
    let mut out = Vec::new();
    for dk in [0.2, 0.7, 1.5, 3.0] {
        let k = ymax + dk;
        let r = match model {
            // Early growth of ln V: Gompertz r(ln K − ln V0); logistic r(1 − V0/K).
            Model::Gompertz => g / (k - a0).max(0.1),
            _ => g / (1.0 - (a0 - k).exp()).max(0.05),
        };
        out.push(vec![a0, r.max(1e-4).ln(), k]);
    }
    out
}

/// Fits one animal for a given residual SD σ (log scale). `None` when the animal has too few
/// readings (< 2 in total or none above the floor) or the fit fails numerically.
pub fn fit_animal(model: Model, s: &AnimalSeries, sigma: f64) -> Option<AnimalFit> {
    if s.days.len() < 2 || s.n_observed() == 0 || sigma <= 0.0 {
        return None;
    }
    let resid = |phi: &[f64], r: &mut Vec<f64>| {
        r.clear();
        for ((t, y), c) in s.days.iter().zip(&s.ln_v).zip(&s.censored) {
            let mu = model.ln_volume(phi, *t);
            if *c {
                let z = (y - mu) / sigma;
                r.push((-2.0 * ln_norm_cdf(z)).max(0.0).sqrt());
            } else {
                r.push((y - mu) / sigma);
            }
        }
    };
    let b = bounds(model, s);
    let mut best: Option<LmResult> = None;
    for st in starts(model, s) {
        if let Some(res) = minimize(resid, &st, &b, 300)
            && best.as_ref().is_none_or(|bb| res.ssq < bb.ssq)
        {
            best = Some(res);
        }
    }
    let best = best?;
    if !best.theta.iter().all(|x| x.is_finite()) {
        return None;
    }
    let rss = s
        .days
        .iter()
        .zip(&s.ln_v)
        .zip(&s.censored)
        .filter(|(_, c)| !**c)
        .map(|((t, y), _)| (y - model.ln_volume(&best.theta, *t)).powi(2))
        .sum();
    Some(AnimalFit {
        phi: best.theta,
        precision: best.jtj,
        rss,
        n_observed: s.n_observed(),
        converged: best.converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_match_their_odes_and_limits() {
        let (v0, r, k) = (100.0f64, 0.1f64, 2000.0f64);
        let phi = [v0.ln(), r.ln(), k.ln()];
        for m in [Model::Gompertz, Model::Logistic] {
            assert!((m.ln_volume(&phi, 0.0) - v0.ln()).abs() < 1e-12);
            assert!((m.ln_volume(&phi, 1e4) - k.ln()).abs() < 1e-9);
            // dV/dt by central differences against the ODE right-hand side.
            let t = 12.0;
            let v = |t: f64| m.ln_volume(&phi, t).exp();
            let h = 1e-4;
            let dv = (v(t + h) - v(t - h)) / (2.0 * h);
            let rhs = match m {
                Model::Gompertz => r * v(t) * (k / v(t)).ln(),
                _ => r * v(t) * (1.0 - v(t) / k),
            };
            assert!((dv - rhs).abs() < 1e-5 * rhs.abs(), "{m:?}: {dv} vs {rhs}");
        }
        assert!(
            (Model::Exponential.ln_volume(&[v0.ln(), r], 10.0) - (v0.ln() + 1.0)).abs() < 1e-12
        );
    }

    #[test]
    fn ln_norm_cdf_tail_is_continuous() {
        // Reference: scipy.stats.norm.logcdf(-5) = -15.064998393988725
        assert!((ln_norm_cdf(-5.0) + 15.064998393988725).abs() < 1e-10);
        let a = ln_norm_cdf(-30.0 + 1e-9);
        let b = ln_norm_cdf(-30.0 - 1e-9);
        assert!((a - b).abs() / a.abs() < 1e-6, "{a} {b}");
        assert!(ln_norm_cdf(40.0) == 0.0 || ln_norm_cdf(40.0).abs() < 1e-300);
    }

    #[test]
    fn noiseless_gompertz_and_logistic_are_recovered() {
        for m in [Model::Gompertz, Model::Logistic] {
            let phi = [150f64.ln(), 0.08f64.ln(), 3000f64.ln()];
            let days: Vec<f64> = (0..15).map(|i| i as f64 * 3.5).collect();
            let ln_v: Vec<f64> = days.iter().map(|t| m.ln_volume(&phi, *t)).collect();
            let s = AnimalSeries {
                id: "a".into(),
                arm: "x".into(),
                censored: vec![false; days.len()],
                days,
                ln_v,
            };
            let f = fit_animal(m, &s, 0.1).unwrap();
            for (est, truth) in f.phi.iter().zip(&phi) {
                assert!((est - truth).abs() < 1e-4, "{m:?}: {:?}", f.phi);
            }
        }
    }

    #[test]
    fn censored_readings_pull_the_fit_below_the_floor() {
        // Exponential animal: true ln V = ln 20 + 0.15 t; floor 40 mm³ censors days 0 and 3.
        let days = vec![0.0, 3.0, 6.0, 9.0, 12.0, 15.0];
        let truth = |t: f64| 20f64.ln() + 0.15 * t;
        let floor = 40f64.ln();
        let censored: Vec<bool> = days.iter().map(|t| truth(*t) <= floor).collect();
        assert_eq!(censored, vec![true, true, false, false, false, false]);
        let ln_v: Vec<f64> = days
            .iter()
            .zip(&censored)
            .map(|(t, c)| if *c { floor } else { truth(*t) })
            .collect();
        let s = AnimalSeries {
            id: "a".into(),
            arm: "x".into(),
            days,
            ln_v,
            censored,
        };
        let f = fit_animal(Model::Exponential, &s, 0.05).unwrap();
        assert!(
            (f.phi[1] - 0.15).abs() < 1e-3 && (f.phi[0] - 20f64.ln()).abs() < 1e-2,
            "{:?}",
            f.phi
        );
        assert_eq!(f.n_observed, 4);
    }
}
