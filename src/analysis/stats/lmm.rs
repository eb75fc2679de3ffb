//! Linear mixed model y = Xβ + Zb + ε with independent groups (animals), b ~ N(0, G),
//! ε ~ N(0, σ²I), fitted by restricted maximum likelihood (REML), with Satterthwaite degrees of
//! freedom for linear contrasts of β.
//!
//! Formulation follows lme4 (Bates, Mächler, Bolker & Walker 2015, J Stat Softw 67(1), §3):
//! G = σ²ΛΛᵀ with Λ lower triangular (parameters θ = its entries), so that per group
//! H = I + ZΛΛᵀZᵀ, H⁻¹ = I − ZΛM⁻¹ΛᵀZᵀ and |H| = |M| with M = I + ΛᵀZᵀZΛ (Woodbury), and σ²
//! is profiled out of the REML criterion:
//!   d(θ) = Σᵢ log|Mᵢ| + log|XᵀH⁻¹X| + (N−p)·[1 + log(2π r²(θ)/(N−p))],
//! r² = the generalized residual sum of squares. Only the per-group cross products ZᵀZ, ZᵀX,
//! Zᵀy are needed, so a fit costs O(groups·q³) per evaluation whatever the visit count.
//!
//! The criterion is minimised by BFGS on its analytic gradient. With D_k = ∂(ΛΛᵀ)/∂θ_k,
//! P = H⁻¹ − H⁻¹X(XᵀH⁻¹X)⁻¹XᵀH⁻¹ and the standard REML derivatives (Harville 1977, J Am Stat
//! Assoc 72:320, eq. 4.5; Searle, Casella & McCulloch 1992, §6.8):
//!   ∂[log|H| + log|XᵀH⁻¹X|]/∂θ_k = tr(P·ZD_kZᵀ),   ∂r²/∂θ_k = −yᵀP·ZD_kZᵀ·Py,
//! and every trace reduces to q×q per-group matrices of the same cross products (see
//! [`LmmData::derivs`]), so a gradient costs about two criterion evaluations.
//!
//! Satterthwaite df for a contrast L'β follow lmerTest (Kuznetsova, Brockhoff & Christensen
//! 2017, J Stat Softw 82(13), eq. 5–7): df = 2·(L'ΦL)² / (gᵀAg) with Φ = Cov(β̂)(τ),
//! g = ∂(L'ΦL)/∂τ and A = 2·Hess⁻¹ of the REML deviance in τ = (θ, σ). g is analytic
//! (∂(XᵀH⁻¹X)⁻¹ = (XᵀH⁻¹X)⁻¹·XᵀH⁻¹ZDZᵀH⁻¹X·(XᵀH⁻¹X)⁻¹); the Hessian is the central
//! difference of the analytic gradient with one Richardson step.

#![allow(clippy::needless_range_loop)] // dense matrix code reads best with explicit indices

use super::linalg::{chol_inverse, chol_logdet, chol_solve, cholesky, cholesky_into, inverse};
use crate::numeric::dist::t_two_sided;
use crate::numeric::optim::{bfgs, nelder_mead};

/// One group (animal) of observations: row-major design matrices.
#[derive(Debug, Clone, Copy)]
pub struct LmmGroup<'a> {
    /// Fixed-effects design, n×p row-major.
    pub x: &'a [f64],
    /// Random-effects design, n×q row-major.
    pub z: &'a [f64],
    /// Responses, length n.
    pub y: &'a [f64],
}

/// Errors of the mixed-model fit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LmmError {
    /// Matrix sizes do not agree.
    #[error("mixed model: inconsistent dimensions ({0})")]
    Dimensions(String),
    /// Too few observations for the number of fixed effects.
    #[error("mixed model: {n} observations are too few for {p} fixed effects")]
    TooFewObservations {
        /// Observations.
        n: usize,
        /// Fixed effects.
        p: usize,
    },
    /// XᵀX is singular (a fixed effect is not estimable).
    #[error("mixed model: the fixed-effects design is rank deficient")]
    RankDeficient,
    /// The optimiser found no finite criterion.
    #[error("mixed model: REML optimisation failed")]
    NotConverged,
}

/// Sufficient statistics of one group.
#[derive(Debug, Clone)]
struct GroupStats {
    ztz: Vec<f64>,
    ztx: Vec<f64>,
    zty: Vec<f64>,
}

/// Precomputed data of a mixed model.
#[derive(Debug, Clone)]
pub struct LmmData {
    p: usize,
    q: usize,
    n: usize,
    xtx: Vec<f64>,
    xty: Vec<f64>,
    yty: f64,
    groups: Vec<GroupStats>,
}

/// Quantities at a given θ.
struct Eval {
    logdet_m: f64,
    xthx: Vec<f64>,
    beta: Vec<f64>,
    r2: f64,
    chol_xthx: Vec<f64>,
}

/// Derivative pieces at θ, symmetric q×q sums over groups, such that for θ_k = Λ_ab
/// (`tr_d`): ∂[log|H| + log|XᵀH⁻¹X|]/∂θ_k = tr(D_k·ld), ∂r²/∂θ_k = −tr(D_k·r2) and
/// ∂[L'(XᵀH⁻¹X)⁻¹L]/∂θ_k = tr(D_k·v).
struct Derivs {
    ld: Vec<f64>,
    r2: Vec<f64>,
    v: Vec<f64>,
}

/// tr(D_k S) for symmetric S, D_k = E_kΛᵀ + ΛE_kᵀ and E_k the unit matrix at θ_k's entry
/// (a, b) of Λ: 2·(SΛ)_ab.
fn tr_d(s: &[f64], lam: &[f64], q: usize, k: usize) -> f64 {
    let (mut a, mut idx) = (0, k);
    while idx > a {
        idx -= a + 1;
        a += 1;
    }
    let b = idx;
    2.0 * (0..q).map(|c| s[a * q + c] * lam[c * q + b]).sum::<f64>()
}

/// M = I + ΛᵀZᵀZΛ of one group into `m` and its Cholesky factor into `lm` (false when M is
/// not positive definite).
fn factor_m(lam: &[f64], ztz: &[f64], q: usize, m: &mut [f64], lm: &mut [f64]) -> bool {
    for a in 0..q {
        for b in 0..q {
            let mut s = if a == b { 1.0 } else { 0.0 };
            for k in a..q {
                for l in b..q {
                    s += lam[k * q + a] * ztz[k * q + l] * lam[l * q + b];
                }
            }
            m[a * q + b] = s;
        }
    }
    cholesky_into(m, q, lm)
}

/// A fitted model.
#[derive(Debug, Clone)]
pub struct LmmFit {
    /// Fixed-effect estimates β̂.
    pub beta: Vec<f64>,
    /// Standard errors of β̂.
    pub se: Vec<f64>,
    /// Covariance of β̂, p×p row-major.
    pub cov_beta: Vec<f64>,
    /// Residual variance σ̂².
    pub sigma2: f64,
    /// Random-effects covariance Ĝ, q×q row-major.
    pub g: Vec<f64>,
    /// Relative covariance factor θ̂ (lower triangle of Λ, row by row).
    pub theta: Vec<f64>,
    /// REML deviance (−2 restricted log-likelihood) at the optimum.
    pub reml_deviance: f64,
    /// Number of observations.
    pub n_obs: usize,
    /// Number of groups.
    pub n_groups: usize,
    /// Whether the optimiser met its tolerance.
    pub converged: bool,
    data: LmmData,
}

/// Inference on a linear contrast L'β.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contrast {
    /// L'β̂.
    pub estimate: f64,
    /// Standard error √(L'ΦL).
    pub se: f64,
    /// Satterthwaite degrees of freedom.
    pub df: f64,
    /// t statistic.
    pub statistic: f64,
    /// Two-sided p-value from t(df).
    pub p_value: f64,
}

impl LmmData {
    /// Builds the cross products from groups with `p` fixed and `q` random effects.
    pub fn new(groups: &[LmmGroup<'_>], p: usize, q: usize) -> Result<Self, LmmError> {
        let mut d = LmmData {
            p,
            q,
            n: 0,
            xtx: vec![0.0; p * p],
            xty: vec![0.0; p],
            yty: 0.0,
            groups: Vec::with_capacity(groups.len()),
        };
        for (gi, g) in groups.iter().enumerate() {
            let n = g.y.len();
            if g.x.len() != n * p || g.z.len() != n * q {
                return Err(LmmError::Dimensions(format!(
                    "group {gi}: {n} responses, x has {}, z has {} entries",
                    g.x.len(),
                    g.z.len()
                )));
            }
            if n == 0 {
                continue;
            }
            let mut s = GroupStats {
                ztz: vec![0.0; q * q],
                ztx: vec![0.0; q * p],
                zty: vec![0.0; q],
            };
            for r in 0..n {
                let xr = &g.x[r * p..(r + 1) * p];
                let zr = &g.z[r * q..(r + 1) * q];
                let y = g.y[r];
                for a in 0..p {
                    for b in 0..p {
                        d.xtx[a * p + b] += xr[a] * xr[b];
                    }
                    d.xty[a] += xr[a] * y;
                }
                for a in 0..q {
                    for b in 0..q {
                        s.ztz[a * q + b] += zr[a] * zr[b];
                    }
                    for b in 0..p {
                        s.ztx[a * p + b] += zr[a] * xr[b];
                    }
                    s.zty[a] += zr[a] * y;
                }
                d.yty += y * y;
            }
            d.n += n;
            d.groups.push(s);
        }
        if d.n <= p {
            return Err(LmmError::TooFewObservations { n: d.n, p });
        }
        if cholesky(&d.xtx, p).is_none() {
            return Err(LmmError::RankDeficient);
        }
        Ok(d)
    }

    fn n_theta(&self) -> usize {
        self.q * (self.q + 1) / 2
    }

    fn lambda(&self, theta: &[f64]) -> Vec<f64> {
        let q = self.q;
        let mut l = vec![0.0; q * q];
        let mut k = 0;
        for i in 0..q {
            for j in 0..=i {
                l[i * q + j] = theta[k];
                k += 1;
            }
        }
        l
    }

    /// Generalized least squares at θ.
    fn eval(&self, theta: &[f64]) -> Option<Eval> {
        let (p, q) = (self.p, self.q);
        let lam = self.lambda(theta);
        let mut xthx = self.xtx.clone();
        let mut xthy = self.xty.clone();
        let mut ythy = self.yty;
        let mut logdet_m = 0.0;
        // Scratch buffers reused across groups (no allocation in the loop): ΛᵀZᵀ[X y] as
        // q×(p+1), its solve with M, and M = I + ΛᵀZᵀZΛ with its Cholesky factor.
        let w = p + 1;
        let mut lt = vec![0.0; q * w];
        let mut sol = vec![0.0; q * w];
        let mut m = vec![0.0; q * q];
        let mut lm = vec![0.0; q * q];
        let mut col = vec![0.0; q];
        for g in &self.groups {
            for a in 0..q {
                for b in 0..p {
                    lt[a * w + b] = (a..q).map(|k| lam[k * q + a] * g.ztx[k * p + b]).sum();
                }
                lt[a * w + p] = (a..q).map(|k| lam[k * q + a] * g.zty[k]).sum();
            }
            if !factor_m(&lam, &g.ztz, q, &mut m, &mut lm) {
                return None;
            }
            logdet_m += chol_logdet(&lm, q);
            for b in 0..w {
                for a in 0..q {
                    col[a] = lt[a * w + b];
                }
                chol_solve(&lm, q, &mut col);
                for a in 0..q {
                    sol[a * w + b] = col[a];
                }
            }
            // Woodbury: [X y]'H⁻¹[X y] = [X y]'[X y] − (ΛᵀZᵀ[X y])' M⁻¹ (ΛᵀZᵀ[X y]).
            for b in 0..p {
                for c in 0..p {
                    xthx[c * p + b] -= (0..q).map(|a| lt[a * w + c] * sol[a * w + b]).sum::<f64>();
                }
                xthy[b] -= (0..q).map(|a| lt[a * w + b] * sol[a * w + p]).sum::<f64>();
            }
            ythy -= (0..q).map(|a| lt[a * w + p] * sol[a * w + p]).sum::<f64>();
        }
        let lx = cholesky(&xthx, p)?;
        let mut beta = xthy.clone();
        chol_solve(&lx, p, &mut beta);
        let r2 = ythy - beta.iter().zip(&xthy).map(|(b, v)| b * v).sum::<f64>();
        if r2.is_nan() || r2 <= 0.0 {
            return None;
        }
        Some(Eval {
            logdet_m,
            xthx,
            beta,
            r2,
            chol_xthx: lx,
        })
    }

    /// The per-group pieces of the REML derivatives at θ (`e` = `eval(θ)`; `l` the contrast
    /// whose variance derivative is wanted). With K = ΛM⁻¹Λᵀ and G = I − ZᵀZ·K per group:
    /// ZᵀH⁻¹Z = G·ZᵀZ, ZᵀH⁻¹X = G·ZᵀX =: F and ZᵀH⁻¹(y − Xβ̂) = G·(Zᵀy − ZᵀXβ̂) =: u, so
    /// tr(P·ZDZᵀ) = tr(D·Σ(G·ZᵀZ − F(XᵀH⁻¹X)⁻¹Fᵀ)), yᵀP·ZDZᵀ·Py = tr(D·Σuuᵀ) and
    /// L'(XᵀH⁻¹X)⁻¹·XᵀH⁻¹ZDZᵀH⁻¹X·(XᵀH⁻¹X)⁻¹L = tr(D·Σ(Fw)(Fw)ᵀ), w = (XᵀH⁻¹X)⁻¹L.
    fn derivs(&self, lam: &[f64], e: &Eval, l: Option<&[f64]>) -> Option<Derivs> {
        let (p, q) = (self.p, self.q);
        let cinv = chol_inverse(&e.chol_xthx, p);
        let w: Option<Vec<f64>> = l.map(|l| {
            let mut w = l.to_vec();
            chol_solve(&e.chol_xthx, p, &mut w);
            w
        });
        let mut d = Derivs {
            ld: vec![0.0; q * q],
            r2: vec![0.0; q * q],
            v: vec![0.0; q * q],
        };
        let (mut m, mut lm, mut x, mut col) = (
            vec![0.0; q * q],
            vec![0.0; q * q],
            vec![0.0; q * q],
            vec![0.0; q],
        );
        let (mut gm, mut kk, mut u, mut fw) = (
            vec![0.0; q * q],
            vec![0.0; q * q],
            vec![0.0; q],
            vec![0.0; q],
        );
        let (mut f, mut fc) = (vec![0.0; q * p], vec![0.0; q * p]);
        // (ZᵀX·β̂)_c of a group.
        let zxb = |g: &GroupStats, c: usize| -> f64 {
            g.ztx[c * p..(c + 1) * p]
                .iter()
                .zip(&e.beta)
                .map(|(x, b)| x * b)
                .sum()
        };
        for g in &self.groups {
            if !factor_m(lam, &g.ztz, q, &mut m, &mut lm) {
                return None;
            }
            // x = M⁻¹Λᵀ column by column, K = Λ·x, then G = I − ZᵀZ·K.
            for j in 0..q {
                for a in 0..q {
                    col[a] = lam[j * q + a];
                }
                chol_solve(&lm, q, &mut col);
                for a in 0..q {
                    x[a * q + j] = col[a];
                }
            }
            for a in 0..q {
                for b in 0..q {
                    kk[a * q + b] = (0..=a).map(|t| lam[a * q + t] * x[t * q + b]).sum();
                }
            }
            for a in 0..q {
                for b in 0..q {
                    let s: f64 = (0..q).map(|c| g.ztz[a * q + c] * kk[c * q + b]).sum();
                    gm[a * q + b] = if a == b { 1.0 } else { 0.0 } - s;
                }
            }
            for a in 0..q {
                let ga = &gm[a * q..(a + 1) * q];
                for b in 0..p {
                    f[a * p + b] = (0..q).map(|c| ga[c] * g.ztx[c * p + b]).sum();
                }
                let fa = &f[a * p..(a + 1) * p];
                for j in 0..p {
                    fc[a * p + j] = (0..p).map(|i| fa[i] * cinv[i * p + j]).sum();
                }
                u[a] = (0..q).map(|c| ga[c] * (g.zty[c] - zxb(g, c))).sum();
                if let Some(w) = &w {
                    fw[a] = fa.iter().zip(w).map(|(x, y)| x * y).sum();
                }
            }
            for a in 0..q {
                let ga = &gm[a * q..(a + 1) * q];
                let fca = &fc[a * p..(a + 1) * p];
                for b in 0..q {
                    let zhz: f64 = (0..q).map(|c| ga[c] * g.ztz[c * q + b]).sum();
                    let fcf: f64 = fca
                        .iter()
                        .zip(&f[b * p..(b + 1) * p])
                        .map(|(x, y)| x * y)
                        .sum();
                    d.ld[a * q + b] += zhz - fcf;
                    d.r2[a * q + b] += u[a] * u[b];
                    d.v[a * q + b] += fw[a] * fw[b];
                }
            }
        }
        Some(d)
    }

    /// Profiled REML deviance d(θ) and its gradient (written into `grad`); infinite where the
    /// criterion is undefined.
    fn reml_profiled_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let nmp = (self.n - self.p) as f64;
        let lam = self.lambda(theta);
        let Some(e) = self.eval(theta) else {
            return f64::INFINITY;
        };
        let Some(d) = self.derivs(&lam, &e, None) else {
            return f64::INFINITY;
        };
        for (k, gk) in grad.iter_mut().enumerate() {
            *gk = tr_d(&d.ld, &lam, self.q, k) - nmp / e.r2 * tr_d(&d.r2, &lam, self.q, k);
        }
        e.logdet_m
            + chol_logdet(&e.chol_xthx, self.p)
            + nmp * (1.0 + (2.0 * std::f64::consts::PI * e.r2 / nmp).ln())
    }

    /// Gradient of the full REML deviance (`reml_full`) in τ = (θ, σ).
    fn reml_full_grad(&self, tau: &[f64]) -> Option<Vec<f64>> {
        let k = self.n_theta();
        let sigma = tau[k];
        let nmp = (self.n - self.p) as f64;
        let lam = self.lambda(&tau[..k]);
        let e = self.eval(&tau[..k])?;
        let d = self.derivs(&lam, &e, None)?;
        let s2 = sigma * sigma;
        let mut g: Vec<f64> = (0..k)
            .map(|i| tr_d(&d.ld, &lam, self.q, i) - tr_d(&d.r2, &lam, self.q, i) / s2)
            .collect();
        g.push(2.0 * nmp / sigma - 2.0 * e.r2 / (s2 * sigma));
        Some(g)
    }

    /// Profiled REML deviance d(θ).
    pub fn reml_profiled(&self, theta: &[f64]) -> f64 {
        let nmp = (self.n - self.p) as f64;
        match self.eval(theta) {
            Some(e) => {
                e.logdet_m
                    + chol_logdet(&e.chol_xthx, self.p)
                    + nmp * (1.0 + (2.0 * std::f64::consts::PI * e.r2 / nmp).ln())
            }
            None => f64::INFINITY,
        }
    }

    /// REML deviance with σ not profiled out (the gradient checks' reference), τ = (θ, σ):
    /// (N−p)·log σ² + Σ log|Mᵢ| + log|XᵀH⁻¹X| + r²/σ² + (N−p)·log 2π.
    #[cfg(test)]
    fn reml_full(&self, tau: &[f64]) -> f64 {
        let k = self.n_theta();
        let sigma = tau[k];
        let nmp = (self.n - self.p) as f64;
        match self.eval(&tau[..k]) {
            Some(e) => {
                let s2 = sigma * sigma;
                nmp * s2.ln()
                    + e.logdet_m
                    + chol_logdet(&e.chol_xthx, self.p)
                    + e.r2 / s2
                    + nmp * (2.0 * std::f64::consts::PI).ln()
            }
            None => f64::INFINITY,
        }
    }

    /// L'Cov(β̂)L at τ = (θ, σ): σ²·L'(XᵀH⁻¹X)⁻¹L.
    #[cfg(test)]
    fn contrast_var(&self, tau: &[f64], l: &[f64]) -> f64 {
        let k = self.n_theta();
        match self.eval(&tau[..k]) {
            Some(e) => {
                let mut w = l.to_vec();
                chol_solve(&e.chol_xthx, self.p, &mut w);
                tau[k] * tau[k] * l.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
            }
            None => f64::NAN,
        }
    }
}

/// Fits the model by REML. `p`, `q`: numbers of fixed and random effects (columns of x, z).
/// θ starts at the identity (lme4's default start) and is optimised by BFGS on the analytic
/// gradient (stopping at ‖∇d‖∞ ≤ 1e-6, or when a step no longer changes d beyond 1e-10 —
/// the rounding noise of the criterion, from the normal-equation form
/// r² = y'H⁻¹y − β̂'X'H⁻¹y — at ‖∇d‖∞ ≤ 1e-3);
/// Nelder–Mead with restarts takes over if BFGS stalls.
pub fn fit_reml(groups: &[LmmGroup<'_>], p: usize, q: usize) -> Result<LmmFit, LmmError> {
    let data = LmmData::new(groups, p, q)?;
    let k = data.n_theta();
    let mut theta0 = vec![0.0; k];
    let mut idx = 0;
    for i in 0..q {
        for j in 0..=i {
            theta0[idx] = if i == j { 1.0 } else { 0.0 };
            idx += 1;
        }
    }
    let mut best = bfgs(
        |t, g| data.reml_profiled_grad(t, g),
        &theta0,
        1e-6,
        1e-10,
        200,
    );
    // The criterion is even in each column of Λ, so a zero diagonal is always a stationary
    // point: confirm a boundary optimum (or a stalled path) with Nelder–Mead from the start.
    let on_boundary = (0..q).any(|i| best.x[i * (i + 1) / 2 + i].abs() < 1e-4);
    if !best.converged || on_boundary {
        // Nelder–Mead with restarts as the fallback for a gradient path that stalled.
        let step = vec![0.5; k];
        let m = nelder_mead(|t| data.reml_profiled(t), &theta0, &step, 1e-8, 1e-6, 4_000);
        if m.f <= best.f || !best.f.is_finite() {
            best = m;
        }
    }
    if !best.f.is_finite() {
        return Err(LmmError::NotConverged);
    }
    // ΛΛᵀ does not change when a column of Λ changes sign: report the factor with a
    // non-negative diagonal, as lme4's bounded optimiser does.
    let mut lam_sign = data.lambda(&best.x);
    for c in 0..q {
        if lam_sign[c * q + c] < 0.0 {
            for r in c..q {
                lam_sign[r * q + c] = -lam_sign[r * q + c];
            }
        }
    }
    let mut idx = 0;
    for i in 0..q {
        for j in 0..=i {
            best.x[idx] = lam_sign[i * q + j];
            idx += 1;
        }
    }
    let e = data.eval(&best.x).ok_or(LmmError::NotConverged)?;
    let sigma2 = e.r2 / (data.n - p) as f64;
    let inv = chol_inverse(&e.chol_xthx, p);
    let cov_beta: Vec<f64> = inv.iter().map(|v| v * sigma2).collect();
    let se = (0..p).map(|i| cov_beta[i * p + i].sqrt()).collect();
    let lam = data.lambda(&best.x);
    let mut g = vec![0.0; q * q];
    for a in 0..q {
        for b in 0..q {
            g[a * q + b] = sigma2 * (0..q).map(|c| lam[a * q + c] * lam[b * q + c]).sum::<f64>();
        }
    }
    let _ = &e.xthx;
    Ok(LmmFit {
        beta: e.beta,
        se,
        cov_beta,
        sigma2,
        g,
        theta: best.x,
        reml_deviance: best.f,
        n_obs: data.n,
        n_groups: data.groups.len(),
        converged: best.converged,
        data,
    })
}

impl LmmFit {
    /// Estimate, SE, Satterthwaite df and p-value of the contrast L'β (`l` has length p).
    pub fn contrast(&self, l: &[f64]) -> Contrast {
        let d = &self.data;
        let k = d.n_theta();
        let est: f64 = l.iter().zip(&self.beta).map(|(a, b)| a * b).sum();
        let mut tau = self.theta.clone();
        let sigma = self.sigma2.sqrt();
        tau.push(sigma);
        let nt = k + 1;
        let lam = d.lambda(&self.theta);
        let pieces = d
            .eval(&self.theta)
            .and_then(|e| d.derivs(&lam, &e, Some(l)).map(|p| (e, p)));
        let Some((e, pieces)) = pieces else {
            return Contrast {
                estimate: est,
                se: f64::NAN,
                df: f64::NAN,
                statistic: f64::NAN,
                p_value: f64::NAN,
            };
        };
        let mut w = l.to_vec();
        chol_solve(&e.chol_xthx, d.p, &mut w);
        let lcl: f64 = l.iter().zip(&w).map(|(a, b)| a * b).sum();
        let f0 = self.sigma2 * lcl;
        let se = f0.sqrt();
        // Gradient of L'ΦL = σ²·L'(XᵀH⁻¹X)⁻¹L in τ (module docs).
        let mut grad: Vec<f64> = (0..k)
            .map(|i| self.sigma2 * tr_d(&pieces.v, &lam, d.q, i))
            .collect();
        grad.push(2.0 * sigma * lcl);
        // Hessian of the REML deviance in τ = (θ, σ). The σ row is exact: with
        // ∂d/∂σ = 2(N−p)/σ − 2r²/σ³, ∂²d/∂σ² = −2(N−p)/σ² + 6r²/σ⁴ and
        // ∂²d/∂σ∂θ_k = −2·(∂r²/∂θ_k)/σ³ = 2·tr(D_k·r2)/σ³. The θ block is the central
        // difference of the analytic θ gradient at steps h and h/2 (0.1% and 0.05% of each
        // parameter) combined by one Richardson step, which removes the O(h²) truncation
        // error; checked against lmerTest (numDeriv::hessian) in
        // tests/fixtures/analysis/lmm_ref.csv.
        let nmp = (d.n - d.p) as f64;
        let column = |i: usize, h: f64| -> Option<Vec<f64>> {
            let mut a = tau.clone();
            let mut b = tau.clone();
            a[i] += h;
            b[i] -= h;
            let (ga, gb) = (d.reml_full_grad(&a)?, d.reml_full_grad(&b)?);
            Some(
                ga.iter()
                    .zip(&gb)
                    .map(|(x, y)| (x - y) / (2.0 * h))
                    .collect(),
            )
        };
        let mut hess = vec![f64::NAN; nt * nt];
        for i in 0..k {
            let h = 1e-3 * tau[i].abs().max(1e-2);
            if let (Some(c1), Some(c2)) = (column(i, h), column(i, h / 2.0)) {
                for j in 0..k {
                    hess[j * nt + i] = (4.0 * c2[j] - c1[j]) / 3.0;
                }
            }
        }
        for i in 0..k {
            for j in i + 1..k {
                let v = 0.5 * (hess[i * nt + j] + hess[j * nt + i]);
                hess[i * nt + j] = v;
                hess[j * nt + i] = v;
            }
        }
        let s2 = self.sigma2;
        hess[k * nt + k] = -2.0 * nmp / s2 + 6.0 * e.r2 / (s2 * s2);
        for i in 0..k {
            let v = 2.0 * tr_d(&pieces.r2, &lam, d.q, i) / (s2 * sigma);
            hess[i * nt + k] = v;
            hess[k * nt + i] = v;
        }
        let df = match inverse(&hess, nt) {
            Some(hinv) => {
                let mut q = 0.0;
                for i in 0..nt {
                    for j in 0..nt {
                        q += grad[i] * 2.0 * hinv[i * nt + j] * grad[j];
                    }
                }
                2.0 * f0 * f0 / q
            }
            None => f64::NAN,
        };
        let df = if df.is_finite() && df > 0.0 {
            df
        } else {
            f64::NAN
        };
        let t = est / se;
        Contrast {
            estimate: est,
            se,
            df,
            statistic: t,
            p_value: t_two_sided(t, df),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_fixed_effects_of_noise_free_lines() {
        // Two groups of exact lines y = 1 + 0.5 t + small deterministic wiggle: β ≈ (1, 0.5).
        let t = [0.0, 1.0, 2.0, 3.0, 4.0];
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for g in 0..6 {
            let mut x = Vec::new();
            let mut y = Vec::new();
            for (i, &ti) in t.iter().enumerate() {
                x.extend([1.0, ti]);
                let w = [0.01, -0.02, 0.015, -0.005, 0.0][(i + g) % 5];
                y.push(1.0 + 0.1 * (g as f64 - 2.5) + (0.5 + 0.01 * (g as f64 - 2.5)) * ti + w);
            }
            xs.push(x);
            ys.push(y);
        }
        let groups: Vec<LmmGroup> = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| LmmGroup { x, z: x, y })
            .collect();
        let fit = fit_reml(&groups, 2, 2).unwrap();
        assert!(
            (fit.beta[0] - 1.0).abs() < 0.05 && (fit.beta[1] - 0.5).abs() < 0.01,
            "{:?}",
            fit.beta
        );
        let c = fit.contrast(&[0.0, 1.0]);
        assert!(c.df > 1.0 && c.p_value < 1e-6, "{c:?}");
    }

    /// The analytic derivatives agree with central differences of the criteria they
    /// differentiate, at a point away from the optimum (q = 2, p = 2, unbalanced groups).
    #[test]
    fn analytic_gradients_match_finite_differences() {
        let mut xs = Vec::new();
        let mut zs = Vec::new();
        let mut ys = Vec::new();
        for g in 0..7usize {
            let (mut x, mut z, mut y) = (Vec::new(), Vec::new(), Vec::new());
            for i in 0..(3 + g % 3) {
                let t = i as f64 * 1.5;
                let trt = (g % 2) as f64;
                x.extend([1.0, trt * t]);
                z.extend([1.0, t]);
                let noise = ((g * 7 + i * 13) % 11) as f64 / 11.0 - 0.5;
                y.push(0.3 * g as f64 + (0.2 + 0.05 * g as f64) * t + noise);
            }
            xs.push(x);
            zs.push(z);
            ys.push(y);
        }
        let groups: Vec<LmmGroup> = (0..xs.len())
            .map(|i| LmmGroup {
                x: &xs[i],
                z: &zs[i],
                y: &ys[i],
            })
            .collect();
        let d = LmmData::new(&groups, 2, 2).unwrap();
        let theta = [0.8, -0.3, 0.4];
        let mut g = [0.0; 3];
        d.reml_profiled_grad(&theta, &mut g);
        for k in 0..3 {
            let h = 1e-5;
            let (mut a, mut b) = (theta, theta);
            a[k] += h;
            b[k] -= h;
            let fd = (d.reml_profiled(&a) - d.reml_profiled(&b)) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() < 1e-6 * (1.0 + fd.abs()),
                "θ{k}: {fd} vs {}",
                g[k]
            );
        }
        let tau = [0.8, -0.3, 0.4, 0.7];
        let gf = d.reml_full_grad(&tau).unwrap();
        let l = [0.0, 1.0];
        let lam = d.lambda(&tau[..3]);
        let e = d.eval(&tau[..3]).unwrap();
        let pieces = d.derivs(&lam, &e, Some(&l)).unwrap();
        for k in 0..4 {
            let h = 1e-5;
            let (mut a, mut b) = (tau, tau);
            a[k] += h;
            b[k] -= h;
            let fd = (d.reml_full(&a) - d.reml_full(&b)) / (2.0 * h);
            assert!(
                (fd - gf[k]).abs() < 1e-6 * (1.0 + fd.abs()),
                "τ{k}: {fd} vs {}",
                gf[k]
            );
            if k < 3 {
                let fdv = (d.contrast_var(&a, &l) - d.contrast_var(&b, &l)) / (2.0 * h);
                let an = tau[3] * tau[3] * tr_d(&pieces.v, &lam, 2, k);
                assert!(
                    (fdv - an).abs() < 1e-7 * (1.0 + fdv.abs()),
                    "v{k}: {fdv} vs {an}"
                );
            }
        }
    }
}
#[cfg(test)]
mod timing {
    /// Time per fit + contrast on fixture data set a (16 animals, 112 rows):
    /// `cargo test --release --lib lmm_fit_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing only"]
    #[allow(clippy::type_complexity)]
    fn lmm_fit_timing() {
        let text = include_str!("../../../tests/fixtures/analysis/lmm_data_a.csv");
        let mut groups: Vec<(String, Vec<f64>, Vec<f64>, Vec<f64>)> = Vec::new();
        for l in text.lines().skip(1) {
            let r: Vec<&str> = l.split(',').collect();
            let (trt, day, y): (f64, f64, f64) = (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
            );
            if groups.last().map(|g| g.0 != r[0]).unwrap_or(true) {
                groups.push((r[0].to_string(), vec![], vec![], vec![]));
            }
            let g = groups.last_mut().unwrap();
            g.1.extend([1.0, trt, day, trt * day]);
            g.2.extend([1.0, day]);
            g.3.push(y);
        }
        let lg: Vec<super::LmmGroup> = groups
            .iter()
            .map(|g| super::LmmGroup {
                x: &g.1,
                z: &g.2,
                y: &g.3,
            })
            .collect();
        let t = std::time::Instant::now();
        for _ in 0..20 {
            let f = super::fit_reml(&lg, 4, 2).unwrap();
            let _ = f.contrast(&[0.0, 0.0, 0.0, 1.0]);
        }
        eprintln!("per fit+contrast: {:?}", t.elapsed() / 20);
    }
}
