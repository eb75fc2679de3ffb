//! Parametric accelerated-failure-time models with right censoring, as R's
//! `survreg(Surv(t, e) ~ x, dist = "weibull" | "lognormal" | "exponential")`
//! (Kalbfleisch & Prentice 2002, §3.5; checked in fixtures/tte.R).
//!
//! log T = xᵀβ + σW with W standard extreme-value (Weibull, exponential with σ = 1) or normal
//! (log-normal). Parameters θ = (β, log σ) are fitted by Newton–Raphson with analytic first and
//! second derivatives and step halving. With zᵢ = (log tᵢ − xᵢᵀβ)/σ and g = log f (event) or
//! log S (censored) of W: ∂ℓ/∂β = −g′x/σ, ∂ℓ/∂logσ = −g′z − δ, ∂²ℓ/∂β∂βᵀ = g″xxᵀ/σ²,
//! ∂²ℓ/∂β∂logσ = (g″z + g′)x/σ, ∂²ℓ/∂logσ² = z(g″z + g′).

#![allow(clippy::needless_range_loop)] // dense matrix code reads best with explicit indices

use super::linalg::{chol_inverse, chol_solve, cholesky};
use super::survival::{TteError, check_regression_data};
use crate::numeric::dist::normal_two_sided;
use statrs::function::erf::erfc;

/// Error distribution of log T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AftDist {
    /// Weibull T (extreme-value W), scale σ estimated.
    Weibull,
    /// Exponential T (Weibull with σ = 1).
    Exponential,
    /// Log-normal T (normal W); the default (PDXpower's log-normal time model).
    #[default]
    LogNormal,
}

/// Survival data for an AFT model.
#[derive(Debug, Clone, Copy)]
pub struct AftData<'a> {
    /// Event or censoring time per observation (finite, > 0).
    pub time: &'a [f64],
    /// True = event, false = right-censored.
    pub event: &'a [bool],
    /// Covariates without the intercept, row-major n × `p` (e.g. a 0/1 treatment indicator).
    pub x: &'a [f64],
    /// Covariates per observation (the intercept is added).
    pub p: usize,
}

/// One coefficient of a fitted AFT model (log-time scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AftCoef {
    /// Estimate (intercept first, then the covariates; a treatment coefficient > 0 = longer
    /// times, its exp the time ratio).
    pub estimate: f64,
    /// Standard error (inverse observed information).
    pub se: f64,
    /// Wald z.
    pub z: f64,
    /// Two-sided Wald p-value.
    pub p_value: f64,
}

/// A fitted AFT model.
#[derive(Debug, Clone, PartialEq)]
pub struct AftFit {
    /// Intercept, then one per covariate column.
    pub coefs: Vec<AftCoef>,
    /// Scale σ (1 for the exponential).
    pub scale: f64,
    /// Standard error of log σ (NaN for the exponential).
    pub log_scale_se: f64,
    /// Log-likelihood on the time scale (as R's `survreg` `loglik`, Jacobian −Σ log tᵢ of the
    /// events included).
    pub loglik: f64,
    /// Newton iterations taken.
    pub iterations: usize,
}

/// log of the standard-normal upper tail, accurate far into the tail (Mills-ratio series once
/// erfc underflows).
fn log_normal_sf(z: f64) -> f64 {
    let q = 0.5 * erfc(z / std::f64::consts::SQRT_2);
    if q > 1e-300 {
        return q.ln();
    }
    let z2 = z * z;
    -0.5 * z2 - (z * (2.0 * std::f64::consts::PI).sqrt()).ln()
        + (1.0 - 1.0 / z2 + 3.0 / (z2 * z2)).ln()
}

/// (g, g′, g″) of one observation at z.
fn g_terms(dist: AftDist, z: f64, event: bool) -> (f64, f64, f64) {
    match (dist, event) {
        (AftDist::LogNormal, true) => (
            -0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln(),
            -z,
            -1.0,
        ),
        (AftDist::LogNormal, false) => {
            let ls = log_normal_sf(z);
            let lam = (-0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln() - ls).exp();
            (ls, -lam, -lam * (lam - z))
        }
        (_, true) => {
            let e = z.exp();
            (z - e, 1.0 - e, -e)
        }
        (_, false) => {
            let e = z.exp();
            (-e, -e, -e)
        }
    }
}

/// Log-likelihood, gradient and negative Hessian at θ = (β, log σ) (log σ absent for the
/// exponential); `k` parameters.
fn loglik(d: &AftData<'_>, dist: AftDist, th: &[f64], grad: &mut [f64], nh: &mut [f64]) -> f64 {
    let q = d.p + 1;
    let k = th.len();
    let (ls, sig) = if k > q {
        (th[q], th[q].exp())
    } else {
        (0.0, 1.0)
    };
    grad.iter_mut().for_each(|v| *v = 0.0);
    nh.iter_mut().for_each(|v| *v = 0.0);
    let mut xi = vec![0.0; q];
    let mut ll = 0.0;
    for i in 0..d.time.len() {
        xi[0] = 1.0;
        xi[1..].copy_from_slice(&d.x[i * d.p..(i + 1) * d.p]);
        let y = d.time[i].ln();
        let eta: f64 = xi.iter().zip(th).map(|(a, b)| a * b).sum();
        let z = (y - eta) / sig;
        let ev = d.event[i];
        let (g, g1, g2) = g_terms(dist, z, ev);
        let delta = ev as u8 as f64;
        ll += g - delta * (ls + y);
        for a in 0..q {
            grad[a] -= g1 * xi[a] / sig;
            for b in 0..q {
                nh[a * k + b] -= g2 * xi[a] * xi[b] / (sig * sig);
            }
        }
        if k > q {
            grad[q] += -g1 * z - delta;
            let c = g2 * z + g1;
            for a in 0..q {
                nh[a * k + q] -= c * xi[a] / sig;
                nh[q * k + a] -= c * xi[a] / sig;
            }
            nh[q * k + q] -= z * c;
        }
    }
    ll
}

/// Fits the AFT model by maximum likelihood. Errors when there are no events, the data are
/// invalid, the information is singular (e.g. a constant covariate) or Newton does not
/// converge (a monotone likelihood: every event in one group with heavy censoring).
pub fn aft_fit(d: &AftData<'_>, dist: AftDist) -> Result<AftFit, TteError> {
    let n = d.time.len();
    check_regression_data(d.time, d.event, d.x, d.p, true)?;
    let q = d.p + 1;
    let k = if dist == AftDist::Exponential {
        q
    } else {
        q + 1
    };
    // Start: intercept = mean log time, covariates 0, σ = SD of log time (or 1).
    let logs: Vec<f64> = d.time.iter().map(|t| t.ln()).collect();
    let m = logs.iter().sum::<f64>() / n as f64;
    let sd = (logs.iter().map(|y| (y - m) * (y - m)).sum::<f64>() / n as f64).sqrt();
    let mut th = vec![0.0; k];
    th[0] = m;
    if k > q {
        th[q] = if sd > 1e-8 { sd.ln() } else { 0.0 };
    }
    let (mut grad, mut nh) = (vec![0.0; k], vec![0.0; k * k]);
    let (mut g_new, mut h_new) = (vec![0.0; k], vec![0.0; k * k]);
    let mut ll = loglik(d, dist, &th, &mut grad, &mut nh);
    let no_info = || {
        TteError::NoInformation("the information matrix is singular (a constant covariate?)".into())
    };
    for it in 1..=200 {
        // Newton direction; a ridge keeps it an ascent direction far from the optimum.
        let mut step = grad.clone();
        let mut h = nh.clone();
        let mut ridge = 0.0;
        let l = loop {
            if let Some(l) = cholesky(&h, k) {
                break l;
            }
            ridge = if ridge == 0.0 { 1e-6 } else { ridge * 10.0 };
            if ridge > 1e8 {
                return Err(no_info());
            }
            for j in 0..k {
                h[j * k + j] = nh[j * k + j] + ridge * (1.0 + nh[j * k + j].abs());
            }
        };
        chol_solve(&l, k, &mut step);
        let mut trial: Vec<f64> = th.iter().zip(&step).map(|(a, b)| a + b).collect();
        let mut ll_new = loglik(d, dist, &trial, &mut g_new, &mut h_new);
        let mut halvings = 0;
        while !(ll_new.is_finite() && ll_new >= ll - 1e-12 * ll.abs()) && halvings < 40 {
            for j in 0..k {
                trial[j] = 0.5 * (trial[j] + th[j]);
            }
            ll_new = loglik(d, dist, &trial, &mut g_new, &mut h_new);
            halvings += 1;
        }
        if !ll_new.is_finite() {
            return Err(TteError::NotConverged(it));
        }
        let moved = (0..k).all(|j| (trial[j] - th[j]).abs() <= 1e-10 * (1.0 + th[j].abs()));
        th = trial;
        ll = ll_new;
        std::mem::swap(&mut grad, &mut g_new);
        std::mem::swap(&mut nh, &mut h_new);
        if moved && ridge == 0.0 {
            let l = cholesky(&nh, k).ok_or_else(no_info)?;
            let v = chol_inverse(&l, k);
            if th.iter().any(|t| t.abs() > 50.0) {
                return Err(TteError::Monotone(
                    "an estimate runs off (every event in one group?)".into(),
                ));
            }
            let coefs = (0..q)
                .map(|j| {
                    let se = v[j * k + j].sqrt();
                    let z = th[j] / se;
                    AftCoef {
                        estimate: th[j],
                        se,
                        z,
                        p_value: normal_two_sided(z),
                    }
                })
                .collect();
            return Ok(AftFit {
                coefs,
                scale: if k > q { th[q].exp() } else { 1.0 },
                log_scale_se: if k > q { v[q * k + q].sqrt() } else { f64::NAN },
                loglik: ll,
                iterations: it,
            });
        }
    }
    Err(TteError::NotConverged(200))
}

#[cfg(test)]
mod tests;
