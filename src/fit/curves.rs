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

use super::lm::{Bounds, LmResult, inverse, minimize};
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

pub use crate::numeric::ols;

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

/// Fills `r` with the data pseudo-residuals of `s` at `phi` (module docs): (y − μ)/σ above the
/// floor, √(−2 ln Φ((ln L − μ)/σ)) for censored readings.
fn data_residuals(model: Model, s: &AnimalSeries, sigma: f64, phi: &[f64], r: &mut Vec<f64>) {
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
}

/// Σ (y − μ̂)² over the readings above the floor.
fn observed_rss(model: Model, s: &AnimalSeries, phi: &[f64]) -> f64 {
    s.days
        .iter()
        .zip(&s.ln_v)
        .zip(&s.censored)
        .filter(|(_, c)| !**c)
        .map(|((t, y), _)| (y - model.ln_volume(phi, *t)).powi(2))
        .sum()
}

/// Fits one animal for a given residual SD σ (log scale). `None` when the animal has too few
/// readings (< 2 in total or none above the floor) or the fit fails numerically.
pub fn fit_animal(model: Model, s: &AnimalSeries, sigma: f64) -> Option<AnimalFit> {
    if s.days.len() < 2 || s.n_observed() == 0 || sigma <= 0.0 {
        return None;
    }
    let resid = |phi: &[f64], r: &mut Vec<f64>| data_residuals(model, s, sigma, phi, r);
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
    Some(AnimalFit {
        rss: observed_rss(model, s, &best.theta),
        phi: best.theta,
        precision: best.jtj,
        n_observed: s.n_observed(),
        converged: best.converged,
    })
}

/// The population distribution φ ~ N(μ, Ω) used as a prior on one animal's parameters,
/// stored as μ and the lower Cholesky factor L of Ω⁻¹ = LLᵀ, so that the prior's −2 log
/// density is ‖Lᵀ(φ − μ)‖² + const: p extra least-squares residuals.
#[derive(Debug, Clone)]
pub struct Prior {
    mean: Vec<f64>,
    l: Vec<Vec<f64>>,
}

impl Prior {
    /// `None` when Ω is not positive definite.
    pub fn new(mean: &[f64], omega: &[Vec<f64>]) -> Option<Prior> {
        let l = cholesky(&inverse(omega)?)?;
        Some(Prior {
            mean: mean.to_vec(),
            l,
        })
    }

    fn residuals(&self, phi: &[f64], r: &mut Vec<f64>) {
        let p = phi.len();
        // (Lᵀ d)ₐ = Σ_{b ≥ a} L[b][a]·d_b.
        for a in 0..p {
            r.push((a..p).map(|b| self.l[b][a] * (phi[b] - self.mean[b])).sum());
        }
    }
}

/// Lower Cholesky factor of a symmetric positive-definite matrix given as rows; `None`
/// otherwise ([`crate::numeric::linalg::cholesky`] on the row-major copy).
pub fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let flat: Vec<f64> = a.iter().flatten().copied().collect();
    if flat.len() != n * n {
        return None;
    }
    let l = crate::numeric::linalg::cholesky(&flat, n)?;
    Some(l.chunks(n).map(<[f64]>::to_vec).collect())
}

/// One animal's conditional mode under the population prior (the E-step of the iterative
/// two-stage method, [`super::its`]).
#[derive(Debug, Clone)]
pub struct ModeFit {
    /// Conditional mode m = argmax p(y | φ)·p(φ | μ, Ω).
    pub phi: Vec<f64>,
    /// Readings above the floor.
    pub n_observed: usize,
    /// Posterior mean E[φ | y] by adaptive Gauss–Hermite quadrature around the mode.
    pub post_mean: Vec<f64>,
    /// Posterior covariance Cov[φ | y] (same quadrature).
    pub post_cov: Vec<Vec<f64>>,
    /// Posterior mean of Σ (y − μ)² over readings above the floor (same quadrature).
    pub post_rss: f64,
}

/// Gauss–Hermite rule for ∫ e^{−x²} f(x) dx, 3 nodes (exact to degree 5): ±√(3/2), 0 with
/// weights √π/6, 2√π/3 (Abramowitz & Stegun 25.4.46).
const GH_NODES: [f64; 3] = [-1.224_744_871_391_589, 0.0, 1.224_744_871_391_589];
const GH_WEIGHTS: [f64; 3] = [
    0.295_408_975_150_919_3,
    1.181_635_900_603_677_2,
    0.295_408_975_150_919_3,
];

/// Posterior moments of φ by adaptive Gauss–Hermite quadrature (Pinheiro & Bates 1995,
/// J Comput Graph Stat 4:12): the product rule of [`GH_NODES`] in p dimensions, centred on
/// the mode m and scaled by the Cholesky factor L of the Laplace covariance, φₖ = m + √2·L·xₖ;
/// node weights wₖ·e^{‖xₖ‖²}·p(y, φₖ), normalised. 3ᵖ nodes (27 for p = 3) are enough to
/// carry the skewness of a weakly identified plateau into the mean, which the mode misses.
fn posterior_moments(
    model: Model,
    s: &AnimalSeries,
    mode: &[f64],
    cov: &[Vec<f64>],
    neg2_log_joint: &dyn Fn(&[f64]) -> f64,
) -> Option<(Vec<f64>, Vec<Vec<f64>>, f64)> {
    let p = mode.len();
    let l = cholesky(cov)?;
    let n_nodes = GH_NODES.len().pow(p as u32);
    let mut nodes = Vec::with_capacity(n_nodes);
    let mut log_w = Vec::with_capacity(n_nodes);
    let mut x = vec![0.0; p];
    for k in 0..n_nodes {
        let mut rest = k;
        let mut lw = 0.0;
        for xj in x.iter_mut() {
            let i = rest % GH_NODES.len();
            rest /= GH_NODES.len();
            *xj = GH_NODES[i];
            lw += GH_WEIGHTS[i].ln() + GH_NODES[i] * GH_NODES[i];
        }
        let phi: Vec<f64> = (0..p)
            .map(|a| {
                mode[a] + std::f64::consts::SQRT_2 * (0..=a).map(|b| l[a][b] * x[b]).sum::<f64>()
            })
            .collect();
        let ll = -0.5 * neg2_log_joint(&phi);
        if ll.is_finite() {
            log_w.push(lw + ll);
            nodes.push(phi);
        }
    }
    let top = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return None;
    }
    let w: Vec<f64> = log_w.iter().map(|v| (v - top).exp()).collect();
    let total: f64 = w.iter().sum();
    let mut mean = vec![0.0; p];
    let mut rss = 0.0;
    for (phi, wk) in nodes.iter().zip(&w) {
        for a in 0..p {
            mean[a] += wk * phi[a] / total;
        }
        rss += wk * observed_rss(model, s, phi) / total;
    }
    let mut c = vec![vec![0.0; p]; p];
    for (phi, wk) in nodes.iter().zip(&w) {
        for a in 0..p {
            for b in 0..p {
                c[a][b] += wk * (phi[a] - mean[a]) * (phi[b] - mean[b]) / total;
            }
        }
    }
    Some((mean, c, rss))
}

/// Conditional mode of animal `s` under `prior` for residual SD σ, started at `start`.
/// Unlike [`fit_animal`] it is defined for every animal with at least one reading: the prior
/// identifies what the readings do not (an animal with 2 readings gets the population
/// plateau). `None` when the fit fails numerically.
pub fn conditional_mode(
    model: Model,
    s: &AnimalSeries,
    sigma: f64,
    prior: &Prior,
    start: &[f64],
    max_iter: usize,
) -> Option<ModeFit> {
    if s.days.is_empty() || sigma <= 0.0 {
        return None;
    }
    let resid = |phi: &[f64], r: &mut Vec<f64>| {
        data_residuals(model, s, sigma, phi, r);
        prior.residuals(phi, r);
    };
    let res = minimize(resid, start, &bounds(model, s), max_iter)?;
    if !res.theta.iter().all(|x| x.is_finite()) {
        return None;
    }
    // JᵀJ of the augmented residuals is P + Ω⁻¹ (the prior rows are linear); its inverse, the
    // Laplace covariance, scales the quadrature.
    let cov = inverse(&res.jtj)?;
    let p = res.theta.len();
    // −2 log p(y, φ) up to a constant: the augmented sum of squares LM minimised.
    let neg2 = |phi: &[f64]| -> f64 {
        let mut r = Vec::with_capacity(s.days.len() + p);
        data_residuals(model, s, sigma, phi, &mut r);
        prior.residuals(phi, &mut r);
        r.iter().map(|v| v * v).sum()
    };
    let (post_mean, post_cov, post_rss) = posterior_moments(model, s, &res.theta, &cov, &neg2)?;
    Some(ModeFit {
        phi: res.theta,
        n_observed: s.n_observed(),
        post_mean,
        post_cov,
        post_rss,
    })
}

#[cfg(test)]
mod tests;
