//! The exponential model as a linear mixed model on ln V (random intercept and slope per
//! animal), fitted by REML with the analysis module's implementation
//! ([`crate::analysis::stats::lmm`]: lme4's profiled REML criterion and its optimiser).
//!
//! Bootstrap resamples need hundreds of refits, so they reuse that criterion
//! (`LmmData::reml_profiled`) and optimiser, warm-started at the full-data θ̂ with a looser
//! tolerance, and recover β, σ² and G at the optimum by generalized least squares — the same
//! closed forms as lme4 (Bates et al. 2015, J Stat Softw 67(1), §3.2–3.4), written here for
//! X = Z = [1, t] with Λ the 2×2 lower-triangular factor (G = σ²ΛΛᵀ):
//!   Mᵢ = I + ΛᵀSᵢΛ with Sᵢ = ZᵢᵀZᵢ, uᵢ = Zᵢᵀyᵢ,
//!   XᵢᵀHᵢ⁻¹Xᵢ = Sᵢ − SᵢΛMᵢ⁻¹ΛᵀSᵢ, XᵢᵀHᵢ⁻¹yᵢ = uᵢ − SᵢΛMᵢ⁻¹Λᵀuᵢ,
//!   β = (Σ XᵀH⁻¹X)⁻¹ Σ XᵀH⁻¹y, r² = Σ yᵀH⁻¹y − βᵀ Σ XᵀH⁻¹y, σ² = r²/(N − 2),
//!   BLUP bᵢ = ΛMᵢ⁻¹ΛᵀZᵢᵀ(yᵢ − Xᵢβ).
//! A unit test checks that these reproduce `fit_reml`'s β, σ² and G at its θ̂.

use super::curves::AnimalSeries;
use super::lm::{inverse, mat_mul, mat_vec};
use crate::analysis::stats::lmm::{LmmData, LmmGroup, fit_reml};
use crate::numeric::optim::nelder_mead;

/// A fitted random-intercept-and-slope model on ln V.
#[derive(Debug, Clone)]
pub struct MixedFit {
    /// (mean ln V0, mean rate).
    pub beta: [f64; 2],
    /// Residual variance of ln V.
    pub sigma2: f64,
    /// Random-effects covariance, row-major 2×2.
    pub g: [f64; 4],
    /// Relative covariance factor (Λ's lower triangle by rows).
    pub theta: Vec<f64>,
    /// Individual (ln V0, rate) = β + BLUP, per animal.
    pub blups: Vec<[f64; 2]>,
}

impl MixedFit {
    /// G as nested vectors.
    pub fn omega(&self) -> Vec<Vec<f64>> {
        vec![vec![self.g[0], self.g[1]], vec![self.g[2], self.g[3]]]
    }
}

/// Design rows [1, t] and responses of the readings above the floor.
fn designs(series: &[&AnimalSeries]) -> Vec<(Vec<f64>, Vec<f64>)> {
    series
        .iter()
        .map(|s| {
            let mut x = Vec::with_capacity(2 * s.days.len());
            let mut y = Vec::with_capacity(s.days.len());
            for ((t, v), c) in s.days.iter().zip(&s.ln_v).zip(&s.censored) {
                if !c {
                    x.extend([1.0, *t]);
                    y.push(*v);
                }
            }
            (x, y)
        })
        .collect()
}

/// GLS quantities at θ (closed forms in the module docs).
fn gls_at(d: &[(Vec<f64>, Vec<f64>)], theta: &[f64]) -> Option<MixedFit> {
    let lam = vec![vec![theta[0], 0.0], vec![theta[1], theta[2]]];
    let lam_t = vec![vec![theta[0], theta[1]], vec![0.0, theta[2]]];
    let mut a = vec![vec![0.0; 2]; 2];
    let mut b = [0.0; 2];
    let mut yhy = 0.0;
    let mut n = 0usize;
    let mut per = Vec::with_capacity(d.len());
    for (x, y) in d {
        let mut s = vec![vec![0.0; 2]; 2];
        let mut u = [0.0; 2];
        let mut yy = 0.0;
        for (row, yv) in x.chunks(2).zip(y) {
            for i in 0..2 {
                u[i] += row[i] * yv;
                for j in 0..2 {
                    s[i][j] += row[i] * row[j];
                }
            }
            yy += yv * yv;
        }
        n += y.len();
        let mut m = mat_mul(&lam_t, &mat_mul(&s, &lam));
        m[0][0] += 1.0;
        m[1][1] += 1.0;
        let minv = inverse(&m)?;
        // K = Λ M⁻¹ Λᵀ (2×2, symmetric).
        let k = mat_mul(&lam, &mat_mul(&minv, &lam_t));
        let sk = mat_mul(&s, &k);
        let sks = mat_mul(&sk, &s);
        let ku = mat_vec(&k, &u);
        let sku = mat_vec(&s, &ku);
        for i in 0..2 {
            b[i] += u[i] - sku[i];
            for j in 0..2 {
                a[i][j] += s[i][j] - sks[i][j];
            }
        }
        yhy += yy - u[0] * ku[0] - u[1] * ku[1];
        per.push((s, u, k));
    }
    if n <= 2 {
        return None;
    }
    let beta = super::lm::solve(&a, &b)?;
    let r2 = yhy - beta[0] * b[0] - beta[1] * b[1];
    let sigma2 = (r2 / (n - 2) as f64).max(0.0);
    let ll = mat_mul(&lam, &lam_t);
    let g = [
        sigma2 * ll[0][0],
        sigma2 * ll[0][1],
        sigma2 * ll[1][0],
        sigma2 * ll[1][1],
    ];
    let blups = per
        .iter()
        .map(|(s, u, k)| {
            // Zᵀ(y − Xβ) = u − Sβ.
            let sb = mat_vec(s, &beta);
            let zr = [u[0] - sb[0], u[1] - sb[1]];
            let bi = mat_vec(k, &zr);
            [beta[0] + bi[0], beta[1] + bi[1]]
        })
        .collect();
    Some(MixedFit {
        beta: [beta[0], beta[1]],
        sigma2,
        g,
        theta: theta.to_vec(),
        blups,
    })
}

/// Full REML fit with the analysis module's `fit_reml`.
pub fn fit(series: &[&AnimalSeries]) -> Option<MixedFit> {
    let d = designs(series);
    let groups: Vec<LmmGroup<'_>> = d.iter().map(|(x, y)| LmmGroup { x, z: x, y }).collect();
    let f = fit_reml(&groups, 2, 2).ok()?;
    let mut m = gls_at(&d, &f.theta)?;
    // Report fit_reml's own numbers (gls_at reproduces them; see the unit test).
    m.beta = [f.beta[0], f.beta[1]];
    m.sigma2 = f.sigma2;
    m.g = [f.g[0], f.g[1], f.g[2], f.g[3]];
    Some(m)
}

/// REML refit warm-started at `theta0` (bootstrap resamples).
pub fn refit_from(series: &[&AnimalSeries], theta0: &[f64]) -> Option<MixedFit> {
    let d = designs(series);
    let groups: Vec<LmmGroup<'_>> = d.iter().map(|(x, y)| LmmGroup { x, z: x, y }).collect();
    let data = LmmData::new(&groups, 2, 2).ok()?;
    let step: Vec<f64> = theta0.iter().map(|t| 0.2 * t.abs() + 0.02).collect();
    let m = nelder_mead(|t| data.reml_profiled(t), theta0, &step, 1e-9, 1e-6, 4000);
    if !m.f.is_finite() {
        return None;
    }
    gls_at(&d, &m.x)
}

#[cfg(test)]
mod tests;
