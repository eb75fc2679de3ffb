//! Cox proportional-hazards regression (Cox 1972, JRSS B 34:187), optionally stratified, with
//! Breslow or Efron handling of tied event times; checked against R's `survival::coxph`
//! (fixtures/tte.R).
//!
//! The partial likelihood is maximized by Newton–Raphson from β = 0 with step halving when the
//! log-likelihood falls (Therneau & Grambsch 2000, §3.2; as `coxph.fit`). Covariates are centred
//! before fitting, which leaves β unchanged and keeps exp(xβ) finite.
//!
//! A gamma frailty per tumor line (`coxph(... + frailty(line))`) is not implemented: R fits it
//! by penalized partial likelihood with the frailty variance chosen in an outer loop on an
//! approximate marginal likelihood (Therneau, Grambsch & Pankratz 2003, J Comput Graph Stat
//! 12:156), and without a validated port of that outer loop the variance (and so the SE of β)
//! could not be checked. The stratified Cox model here (a separate baseline hazard per line,
//! [`CoxData::strata`]) and the stratified log-rank test
//! ([`super::logrank_stratified_permutation`]) are the alternative: they remove the between-line
//! heterogeneity without modelling it.

#![allow(clippy::needless_range_loop)] // dense matrix code reads best with explicit indices

use super::linalg::{chol_inverse, chol_solve, cholesky};
use super::survival::{TteError, check_regression_data};
use crate::numeric::dist::{Z_975, chi2_sf, normal_two_sided};

/// Handling of tied event times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ties {
    /// Efron 1977 (JASA 72:557) approximation; R's default.
    #[default]
    Efron,
    /// Breslow 1974 (Biometrics 30:89) approximation.
    Breslow,
}

/// Survival data for a Cox model.
#[derive(Debug, Clone, Copy)]
pub struct CoxData<'a> {
    /// Event or censoring time per observation (finite, ≥ 0).
    pub time: &'a [f64],
    /// True = event, false = right-censored.
    pub event: &'a [bool],
    /// Covariates, row-major n × `p` (e.g. a 0/1 treatment indicator, then other covariates).
    pub x: &'a [f64],
    /// Covariates per observation.
    pub p: usize,
    /// Stratum per observation (a separate baseline hazard each, R's `strata()`); `None` = one.
    pub strata: Option<&'a [usize]>,
}

/// Fitting options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoxOptions {
    /// Tie handling.
    pub ties: Ties,
    /// Newton–Raphson iterations before giving up (a monotone likelihood is reported when
    /// the estimate runs off instead).
    pub max_iter: usize,
}

impl Default for CoxOptions {
    /// Efron ties (R's default), 60 iterations (assumed; regular fits converge in < 10, and a
    /// monotone likelihood needs the room to show |β| growing without bound).
    fn default() -> Self {
        CoxOptions {
            ties: Ties::Efron,
            max_iter: 60,
        }
    }
}

/// One coefficient of a fitted Cox model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoxCoef {
    /// Log hazard ratio β.
    pub estimate: f64,
    /// Standard error of β (inverse observed information).
    pub se: f64,
    /// Wald z = β / SE.
    pub z: f64,
    /// Two-sided Wald p-value.
    pub p_value: f64,
    /// Hazard ratio exp(β).
    pub hr: f64,
    /// Lower 95 % limit exp(β − 1.96 SE).
    pub hr_low: f64,
    /// Upper 95 % limit exp(β + 1.96 SE).
    pub hr_high: f64,
}

/// A fitted Cox model with its global tests (all with `p` degrees of freedom).
#[derive(Debug, Clone, PartialEq)]
pub struct CoxFit {
    /// Per-covariate estimates, in the order of the columns of [`CoxData::x`].
    pub coefs: Vec<CoxCoef>,
    /// Covariance matrix of β (row-major p × p).
    pub vcov: Vec<f64>,
    /// Log partial likelihood at β = 0.
    pub loglik_null: f64,
    /// Log partial likelihood at β̂.
    pub loglik: f64,
    /// Likelihood-ratio statistic 2(ℓ(β̂) − ℓ(0)).
    pub lr_statistic: f64,
    /// Its χ²(p) p-value.
    pub lr_p: f64,
    /// Score (log-rank for one binary covariate) statistic U(0)ᵀ I(0)⁻¹ U(0).
    pub score_statistic: f64,
    /// Its χ²(p) p-value.
    pub score_p: f64,
    /// Wald statistic β̂ᵀ I(β̂) β̂.
    pub wald_statistic: f64,
    /// Its χ²(p) p-value.
    pub wald_p: f64,
    /// Observations used.
    pub n: usize,
    /// Events.
    pub events: usize,
    /// Newton–Raphson iterations taken.
    pub iterations: usize,
}

/// The data sorted for the risk-set sums: by stratum, then time descending.
struct Prepared {
    n: usize,
    p: usize,
    /// Centred covariates in sorted order, row-major.
    x: Vec<f64>,
    time: Vec<f64>,
    event: Vec<bool>,
    /// Start of each stratum in the sorted order (plus n at the end).
    bounds: Vec<usize>,
    /// Range max − min of each covariate (for the monotone-likelihood check).
    range: Vec<f64>,
}

fn prepare(d: &CoxData<'_>) -> Result<Prepared, TteError> {
    let (n, p) = (d.time.len(), d.p);
    if let Some(s) = d.strata.filter(|s| s.len() != n) {
        return Err(TteError::Invalid(format!(
            "{n} times but {} strata",
            s.len()
        )));
    }
    if p == 0 {
        return Err(TteError::Invalid("no covariates".into()));
    }
    check_regression_data(d.time, d.event, d.x, p, false)?;
    let stratum = |i: usize| d.strata.map_or(0, |s| s[i]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        stratum(a)
            .cmp(&stratum(b))
            .then(d.time[b].total_cmp(&d.time[a]))
    });
    let mut mean = vec![0.0; p];
    let mut range = vec![0.0; p];
    for j in 0..p {
        let col = (0..n).map(|i| d.x[i * p + j]);
        mean[j] = col.clone().sum::<f64>() / n as f64;
        let (lo, hi) = col.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        range[j] = hi - lo;
    }
    let mut x = Vec::with_capacity(n * p);
    let mut bounds = vec![0];
    for (k, &i) in order.iter().enumerate() {
        x.extend((0..p).map(|j| d.x[i * p + j] - mean[j]));
        if k > 0 && stratum(i) != stratum(order[k - 1]) {
            bounds.push(k);
        }
    }
    bounds.push(n);
    Ok(Prepared {
        n,
        p,
        x,
        time: order.iter().map(|&i| d.time[i]).collect(),
        event: order.iter().map(|&i| d.event[i]).collect(),
        bounds,
        range,
    })
}

/// Log partial likelihood at `beta`, writing its gradient (score U) and the observed
/// information I (row-major p × p). Efron: the d events tied at a time leave the risk set in
/// d equal steps, denominator S₀ − (r/d)·S₀ᴰ for r = 0..d−1 (Efron 1977; Therneau & Grambsch
/// 2000, §3.3); Breslow drops the (r/d) terms.
fn partial_lik(pr: &Prepared, beta: &[f64], ties: Ties, grad: &mut [f64], info: &mut [f64]) -> f64 {
    let p = pr.p;
    grad.iter_mut().for_each(|g| *g = 0.0);
    info.iter_mut().for_each(|v| *v = 0.0);
    let (mut s1, mut s2) = (vec![0.0; p], vec![0.0; p * p]);
    let (mut e1, mut e2) = (vec![0.0; p], vec![0.0; p * p]);
    let mut mean = vec![0.0; p];
    let mut ll = 0.0;
    for w in pr.bounds.windows(2) {
        let mut s0 = 0.0;
        s1.iter_mut().for_each(|v| *v = 0.0);
        s2.iter_mut().for_each(|v| *v = 0.0);
        let mut i = w[0];
        while i < w[1] {
            let t = pr.time[i];
            let (mut d, mut e0) = (0usize, 0.0);
            e1.iter_mut().for_each(|v| *v = 0.0);
            e2.iter_mut().for_each(|v| *v = 0.0);
            while i < w[1] && pr.time[i] == t {
                let xi = &pr.x[i * p..(i + 1) * p];
                let eta: f64 = xi.iter().zip(beta).map(|(a, b)| a * b).sum();
                let r = eta.exp();
                s0 += r;
                for a in 0..p {
                    s1[a] += r * xi[a];
                    for b in 0..p {
                        s2[a * p + b] += r * xi[a] * xi[b];
                    }
                }
                if pr.event[i] {
                    d += 1;
                    e0 += r;
                    ll += eta;
                    for a in 0..p {
                        grad[a] += xi[a];
                        e1[a] += r * xi[a];
                        for b in 0..p {
                            e2[a * p + b] += r * xi[a] * xi[b];
                        }
                    }
                }
                i += 1;
            }
            for r in 0..d {
                let f = match ties {
                    Ties::Efron => r as f64 / d as f64,
                    Ties::Breslow => 0.0,
                };
                let den = s0 - f * e0;
                ll -= den.ln();
                for a in 0..p {
                    mean[a] = (s1[a] - f * e1[a]) / den;
                    grad[a] -= mean[a];
                }
                for a in 0..p {
                    for b in 0..p {
                        info[a * p + b] +=
                            (s2[a * p + b] - f * e2[a * p + b]) / den - mean[a] * mean[b];
                    }
                }
            }
        }
    }
    ll
}

/// Fits the Cox model to `data`. Errors ([`TteError`]) when nothing can be estimated: no
/// events, a covariate without information (constant within every stratum), or a monotone
/// likelihood (|β| · range of the covariate above 20, i.e. a hazard ratio beyond e²⁰ across
/// the data, typically every event in one group: R's `coxph` prints a huge β with a warning).
pub fn cox_fit(data: &CoxData<'_>, opt: &CoxOptions) -> Result<CoxFit, TteError> {
    let pr = prepare(data)?;
    let p = pr.p;
    let mut beta = vec![0.0; p];
    let (mut grad, mut info) = (vec![0.0; p], vec![0.0; p * p]);
    let ll0 = partial_lik(&pr, &beta, opt.ties, &mut grad, &mut info);
    let no_info = || {
        TteError::NoInformation(
            "the information matrix is singular (a covariate constant within every stratum, \
             collinear covariates, or no comparison at risk at any event time)"
                .into(),
        )
    };
    let l0 = cholesky(&info, p).ok_or_else(no_info)?;
    let mut step = grad.clone();
    chol_solve(&l0, p, &mut step);
    let score: f64 = grad.iter().zip(&step).map(|(a, b)| a * b).sum();
    let monotone = |b: &[f64]| (0..p).find(|&j| b[j].abs() * pr.range[j] > 20.0);
    let mut ll = ll0;
    let mut iterations = 0;
    let (mut g_new, mut i_new) = (vec![0.0; p], vec![0.0; p * p]);
    let mut converged = false;
    while iterations < opt.max_iter {
        iterations += 1;
        let mut trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + s).collect();
        let mut ll_new = partial_lik(&pr, &trial, opt.ties, &mut g_new, &mut i_new);
        let mut halvings = 0;
        // Step halving (as coxph.fit): a step that lowers the likelihood is cut back.
        while !(ll_new.is_finite() && ll_new >= ll - 1e-12 * ll.abs()) && halvings < 40 {
            for j in 0..p {
                trial[j] = 0.5 * (trial[j] + beta[j]);
            }
            ll_new = partial_lik(&pr, &trial, opt.ties, &mut g_new, &mut i_new);
            halvings += 1;
        }
        if !ll_new.is_finite() {
            return Err(match monotone(&trial) {
                Some(j) => monotone_error(j),
                None => TteError::NotConverged(iterations),
            });
        }
        let moved = (0..p).all(|j| (trial[j] - beta[j]).abs() <= 1e-10 * (1.0 + beta[j].abs()));
        beta = trial;
        ll = ll_new;
        std::mem::swap(&mut grad, &mut g_new);
        std::mem::swap(&mut info, &mut i_new);
        if moved {
            converged = true;
            break;
        }
        let Some(l) = cholesky(&info, p) else {
            return Err(monotone(&beta).map_or_else(no_info, monotone_error));
        };
        step.copy_from_slice(&grad);
        chol_solve(&l, p, &mut step);
    }
    if let Some(j) = monotone(&beta) {
        return Err(monotone_error(j));
    }
    if !converged {
        return Err(TteError::NotConverged(iterations));
    }
    let l = cholesky(&info, p).ok_or_else(no_info)?;
    let vcov = chol_inverse(&l, p);
    let wald: f64 = (0..p)
        .map(|a| {
            (0..p)
                .map(|b| beta[a] * info[a * p + b] * beta[b])
                .sum::<f64>()
        })
        .sum();
    let coefs = (0..p)
        .map(|j| {
            let se = vcov[j * p + j].sqrt();
            let z = beta[j] / se;
            CoxCoef {
                estimate: beta[j],
                se,
                z,
                p_value: normal_two_sided(z),
                hr: beta[j].exp(),
                hr_low: (beta[j] - Z_975 * se).exp(),
                hr_high: (beta[j] + Z_975 * se).exp(),
            }
        })
        .collect();
    let df = p as f64;
    let lr = 2.0 * (ll - ll0);
    Ok(CoxFit {
        coefs,
        vcov,
        loglik_null: ll0,
        loglik: ll,
        lr_statistic: lr,
        lr_p: chi2_sf(lr, df),
        score_statistic: score,
        score_p: chi2_sf(score, df),
        wald_statistic: wald,
        wald_p: chi2_sf(wald, df),
        n: pr.n,
        events: pr.event.iter().filter(|&&e| e).count(),
        iterations,
    })
}

fn monotone_error(j: usize) -> TteError {
    TteError::Monotone(format!(
        "coefficient {} runs off to infinity (e.g. every event in one group)",
        j + 1
    ))
}

#[cfg(test)]
pub(crate) mod tests;
