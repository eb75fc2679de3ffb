//! Four-parameter logistic (4PL) dose-response fit by Levenberg–Marquardt.
//!
//! Model, on x = log10(dose):
//!
//! ```text
//! y = bottom + (top − bottom) / (1 + 10^(hill · (x − log10 IC50)))
//! ```
//!
//! (the "log(inhibitor) vs. response — variable slope" model of GraphPad Prism; `hill > 0`
//! means the response falls with dose). Parameters are estimated by nonlinear least squares
//! with the Levenberg–Marquardt algorithm (Marquardt 1963, SIAM J Appl Math 11:431; damping
//! λ·diag(JᵀJ) as in Moré 1978, the MINPACK `lmder` used by scipy's `curve_fit`), with simple
//! box bounds enforced by projection. Several Hill starting values are tried and the lowest
//! residual sum of squares kept.
//!
//! Uncertainty: the asymptotic covariance `s²·(JᵀJ)⁻¹` with `s² = SSR/(n − 4)` — exactly what
//! `scipy.optimize.curve_fit` returns with `absolute_sigma=False` (Seber & Wild 1989,
//! *Nonlinear Regression*, §5.1). The 95% CI of the IC50 is the Wald interval on log10 IC50,
//! `log10 IC50 ± t(0.975, n − 4)·SE`, back-transformed (hence asymmetric in IC50), as Prism
//! reports its "asymptotic" CI for logIC50. It is a covariance-based CI, not a profile CI.

// Index loops mirror the matrix formulas.
#![allow(clippy::needless_range_loop)]

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Number of 4PL parameters.
const NP: usize = 4;
/// Relative SSR change below which the iteration stops.
const REL_TOL: f64 = 1e-14;
/// Maximum LM iterations per start.
const MAX_ITER: usize = 500;

/// A fitted 4PL curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit4pl {
    /// Lower asymptote (response at infinite dose).
    pub bottom: f64,
    /// Upper asymptote (response at zero dose).
    pub top: f64,
    /// log10 of the IC50 (dose unit of the input).
    pub log_ic50: f64,
    /// Hill slope (> 0: response decreases with dose).
    pub hill: f64,
    /// Standard error of `log_ic50` from the asymptotic covariance.
    pub se_log_ic50: f64,
    /// Lower end of the 95% CI of the IC50.
    pub ic50_ci_low: f64,
    /// Upper end of the 95% CI of the IC50.
    pub ic50_ci_high: f64,
    /// Residual sum of squares.
    pub ssr: f64,
    /// Residual degrees of freedom (n − 4).
    pub df: usize,
    /// Covariance of (bottom, top, log_ic50, hill).
    pub covariance: [[f64; NP]; NP],
    /// True when a parameter ended on a bound (the CI is then unreliable).
    pub at_bound: bool,
}

impl Fit4pl {
    /// IC50 in the dose unit of the input.
    pub fn ic50(&self) -> f64 {
        10f64.powf(self.log_ic50)
    }
    /// Fitted response at dose `d` (> 0).
    pub fn predict(&self, d: f64) -> f64 {
        model(&self.params(), d.log10())
    }
    /// Parameters in the order (bottom, top, log_ic50, hill).
    pub fn params(&self) -> [f64; NP] {
        [self.bottom, self.top, self.log_ic50, self.hill]
    }
}

/// Why a fit could not be produced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Fewer than five points with positive dose, or fewer than three distinct doses.
    #[error(
        "4PL fit needs at least 5 wells at 3 distinct positive doses (got {points} wells, {doses} doses)"
    )]
    TooFewPoints {
        /// Usable points.
        points: usize,
        /// Distinct positive doses.
        doses: usize,
    },
    /// Non-finite input.
    #[error("4PL fit: non-finite dose or response")]
    NonFinite,
    /// JᵀJ was singular at the optimum.
    #[error("4PL fit: singular information matrix (flat or degenerate data)")]
    Singular,
}

/// Logistic 1/(1 + e^z), computed without overflow.
fn logistic_neg(z: f64) -> f64 {
    if z >= 0.0 {
        let e = (-z).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + z.exp())
    }
}

/// 4PL value at x = log10(dose).
pub fn model(p: &[f64; NP], x: f64) -> f64 {
    let [bottom, top, c, h] = *p;
    let s = logistic_neg(h * (x - c) * std::f64::consts::LN_10);
    bottom + (top - bottom) * s
}

/// Gradient of the model with respect to (bottom, top, c, h).
fn gradient(p: &[f64; NP], x: f64) -> [f64; NP] {
    let [bottom, top, c, h] = *p;
    let ln10 = std::f64::consts::LN_10;
    let s = logistic_neg(h * (x - c) * ln10);
    let ds = s * (1.0 - s); // −d s / d z
    [
        1.0 - s,
        s,
        (top - bottom) * h * ln10 * ds,
        -(top - bottom) * (x - c) * ln10 * ds,
    ]
}

/// Solves `a·x = b` (n×n) by Gaussian elimination with partial pivoting; `None` if singular.
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    let scale = a
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for col in 0..N {
        let piv = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() <= 1e-300 * scale || !a[piv][col].is_finite() {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..N {
            let f = a[r][col] / a[col][col];
            for k in col..N {
                a[r][k] -= f * a[col][k];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; N];
    for r in (0..N).rev() {
        let s: f64 = (r + 1..N).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Inverse of a symmetric positive definite matrix via column solves; `None` if singular.
fn invert<const N: usize>(a: [[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut inv = [[0.0; N]; N];
    for j in 0..N {
        let mut e = [0.0; N];
        e[j] = 1.0;
        let col = solve(a, e)?;
        for i in 0..N {
            inv[i][j] = col[i];
        }
    }
    Some(inv)
}

struct Problem<'a> {
    x: &'a [f64],
    y: &'a [f64],
    w: &'a [f64],
    lo: [f64; NP],
    hi: [f64; NP],
}

impl Problem<'_> {
    fn ssr(&self, p: &[f64; NP]) -> f64 {
        self.x
            .iter()
            .zip(self.y)
            .zip(self.w)
            .map(|((&x, &y), &w)| w * (y - model(p, x)).powi(2))
            .sum()
    }
    fn normal_eq(&self, p: &[f64; NP]) -> ([[f64; NP]; NP], [f64; NP]) {
        let mut jtj = [[0.0; NP]; NP];
        let mut jtr = [0.0; NP];
        for ((&x, &y), &w) in self.x.iter().zip(self.y).zip(self.w) {
            let g = gradient(p, x);
            let r = y - model(p, x);
            for i in 0..NP {
                jtr[i] += w * g[i] * r;
                for k in 0..NP {
                    jtj[i][k] += w * g[i] * g[k];
                }
            }
        }
        (jtj, jtr)
    }
    fn clamp(&self, p: &mut [f64; NP]) {
        for i in 0..NP {
            p[i] = p[i].clamp(self.lo[i], self.hi[i]);
        }
    }
    /// Levenberg–Marquardt from `p0`; returns the end point and its SSR.
    fn lm(&self, mut p: [f64; NP]) -> ([f64; NP], f64) {
        self.clamp(&mut p);
        let mut f = self.ssr(&p);
        let mut lambda = 1e-3;
        for _ in 0..MAX_ITER {
            let (jtj, jtr) = self.normal_eq(&p);
            let mut improved = false;
            // Increase damping until a step lowers the SSR (or damping explodes).
            while lambda < 1e16 {
                let mut a = jtj;
                for (i, row) in a.iter_mut().enumerate() {
                    row[i] += lambda * jtj[i][i].max(1e-12);
                }
                let Some(step) = solve(a, jtr) else {
                    lambda *= 10.0;
                    continue;
                };
                let mut q = p;
                for i in 0..NP {
                    q[i] += step[i];
                }
                self.clamp(&mut q);
                let fq = self.ssr(&q);
                if fq.is_finite() && fq <= f {
                    let rel = (f - fq) / f.max(f64::MIN_POSITIVE);
                    p = q;
                    f = fq;
                    lambda = (lambda / 10.0).max(1e-12);
                    improved = rel > REL_TOL && f > 0.0;
                    break;
                }
                lambda *= 10.0;
            }
            if !improved {
                break;
            }
        }
        (p, f)
    }
}

/// Fits a 4PL curve to `(dose, response)` pairs; doses ≤ 0 (vehicle) are ignored.
///
/// Starting values: top = mean response at the lowest dose, bottom = mean at the highest, log
/// IC50 = the dose where the response first crosses the midpoint (log-linear interpolation),
/// Hill ∈ {1, 0.5, 2, 4} (best SSR kept). Bounds (assumed; wide enough never to bind on
/// sensible data, tight enough to keep the iteration finite on flat data): Hill ∈ [0.05, 20],
/// log10 IC50 within 4 decades outside the tested range, top and bottom within two response
/// spans of the observed responses. Hill may be negative only if the data rise with dose —
/// then the bounds flip to [−20, −0.05].
pub fn fit_4pl(doses: &[f64], responses: &[f64]) -> Result<Fit4pl, FitError> {
    fit_4pl_weighted(doses, responses, &vec![1.0; doses.len()])
}

/// Weighted 4PL fit: minimizes Σ wᵢ·(yᵢ − f(xᵢ))², covariance s²·(JᵀWJ)⁻¹ with
/// s² = Σ wᵢ rᵢ² / (n − 4) — `curve_fit(sigma = 1/√w, absolute_sigma=False)`. Weights must be
/// positive and finite (others are treated as 1).
pub fn fit_4pl_weighted(
    doses: &[f64],
    responses: &[f64],
    weights: &[f64],
) -> Result<Fit4pl, FitError> {
    let mut pts: Vec<(f64, f64, f64)> = Vec::new();
    for ((&d, &y), &w) in doses
        .iter()
        .zip(responses)
        .zip(weights.iter().chain(std::iter::repeat(&1.0)))
    {
        if !d.is_finite() || !y.is_finite() {
            return Err(FitError::NonFinite);
        }
        if d > 0.0 {
            pts.push((d.log10(), y, if w.is_finite() && w > 0.0 { w } else { 1.0 }));
        }
    }
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut levels: Vec<(f64, f64, usize)> = Vec::new(); // (x, sum y, n)
    for &(x, y, _) in &pts {
        match levels.last_mut() {
            Some(l) if (l.0 - x).abs() < 1e-12 => {
                l.1 += y;
                l.2 += 1;
            }
            _ => levels.push((x, y, 1)),
        }
    }
    if pts.len() < NP + 1 || levels.len() < 3 {
        return Err(FitError::TooFewPoints {
            points: pts.len(),
            doses: levels.len(),
        });
    }
    let x: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let y: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let w: Vec<f64> = pts.iter().map(|p| p.2).collect();
    let means: Vec<(f64, f64)> = levels.iter().map(|l| (l.0, l.1 / l.2 as f64)).collect();
    let (xmin, xmax) = (means[0].0, means[means.len() - 1].0);
    let top0 = means[0].1;
    let bottom0 = means[means.len() - 1].1;
    let mid = 0.5 * (top0 + bottom0);
    let mut c0 = 0.5 * (xmin + xmax);
    for w in means.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.1 - mid) * (b.1 - mid) <= 0.0 && (a.1 - b.1).abs() > 0.0 {
            c0 = a.0 + (mid - a.1) / (b.1 - a.1) * (b.0 - a.0);
            break;
        }
    }
    let (ymin, ymax) = y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = (ymax - ymin).max(1e-9 * ymax.abs().max(1.0));
    let rising = top0 < bottom0;
    let (hlo, hhi) = if rising { (-20.0, -0.05) } else { (0.05, 20.0) };
    let prob = Problem {
        x: &x,
        y: &y,
        w: &w,
        lo: [ymin - 2.0 * span, ymin - 2.0 * span, xmin - 4.0, hlo],
        hi: [ymax + 2.0 * span, ymax + 2.0 * span, xmax + 4.0, hhi],
    };
    let sign = if rising { -1.0 } else { 1.0 };
    let mut best: Option<([f64; NP], f64)> = None;
    for h0 in [1.0, 0.5, 2.0, 4.0] {
        let (p, f) = prob.lm([bottom0, top0, c0, sign * h0]);
        if best.as_ref().is_none_or(|b| f < b.1) {
            best = Some((p, f));
        }
    }
    let Some((p, ssr)) = best else {
        return Err(FitError::Singular);
    };
    let df = x.len() - NP;
    let (jtj, _) = prob.normal_eq(&p);
    let inv = invert(jtj).ok_or(FitError::Singular)?;
    let s2 = ssr / df as f64;
    let mut cov = [[0.0; NP]; NP];
    for i in 0..NP {
        for k in 0..NP {
            cov[i][k] = s2 * inv[i][k];
        }
    }
    let se = cov[2][2].max(0.0).sqrt();
    let t = StudentsT::new(0.0, 1.0, df as f64)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(crate::numeric::dist::Z_975);
    let at_bound = (0..NP).any(|i| {
        let tol = 1e-9 * (prob.hi[i] - prob.lo[i]);
        (p[i] - prob.lo[i]).abs() < tol || (p[i] - prob.hi[i]).abs() < tol
    });
    Ok(Fit4pl {
        bottom: p[0],
        top: p[1],
        log_ic50: p[2],
        hill: p[3],
        se_log_ic50: se,
        ic50_ci_low: 10f64.powf(p[2] - t * se),
        ic50_ci_high: 10f64.powf(p[2] + t * se),
        ssr,
        df,
        covariance: cov,
        at_bound,
    })
}

/// Floor of the relative weights, as a fraction of the fitted top (assumed; keeps wells near
/// zero signal from dominating).
const REL_WEIGHT_FLOOR: f64 = 0.05;

/// 4PL fit for readouts whose noise is proportional to the signal (cell seeding, pipetting
/// and multiplicative readout noise): iteratively reweighted least squares with weights
/// 1/ŷ² from the previous fit (GraphPad Prism's "weighting by 1/Y²" with fitted Y; Motulsky &
/// Christopoulos 2004, *Fitting Models to Biological Data*, ch. 14), ŷ floored at 5% of the
/// fitted top. Three reweighting rounds after an unweighted start.
pub fn fit_4pl_relative(doses: &[f64], responses: &[f64]) -> Result<Fit4pl, FitError> {
    let mut fit = fit_4pl(doses, responses)?;
    for _ in 0..3 {
        let floor = REL_WEIGHT_FLOOR * fit.top.abs().max(fit.bottom.abs()).max(f64::MIN_POSITIVE);
        let w: Vec<f64> = doses
            .iter()
            .map(|&d| {
                if d > 0.0 {
                    1.0 / fit.predict(d).abs().max(floor).powi(2)
                } else {
                    1.0
                }
            })
            .collect();
        fit = fit_4pl_weighted(doses, responses, &w)?;
    }
    Ok(fit)
}

#[cfg(test)]
mod tests;
