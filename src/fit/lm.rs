//! A small Levenberg–Marquardt least-squares solver for 2–3 parameters, and the few dense
//! matrix routines the fits need (p ≤ 3, so clarity beats BLAS).
//!
//! Algorithm: Levenberg (1944) / Marquardt (1963) with Marquardt's diagonal scaling,
//! as described in Nocedal & Wright, *Numerical Optimization* 2nd ed., §10.3, and
//! Madsen, Nielsen & Tingleff, *Methods for non-linear least squares problems* (2004), §3.2
//! (damping update λ ← λ·max(1/3, 1 − (2ρ − 1)³) on success, λ ← λ·ν, ν ← 2ν on failure).
//! The Jacobian is by central differences, which is accurate enough for the smooth
//! growth curves and the censored-likelihood pseudo-residuals used here.

/// Result of a least-squares minimisation of Σ rᵢ(θ)².
#[derive(Debug, Clone)]
pub struct LmResult {
    /// Parameters at the minimum.
    pub theta: Vec<f64>,
    /// Σ rᵢ² at the minimum.
    pub ssq: f64,
    /// Jᵀ J at the minimum (Gauss–Newton approximation of ½·Hessian of Σ rᵢ²).
    pub jtj: Vec<Vec<f64>>,
    /// Iterations used.
    pub iterations: usize,
    /// True when a convergence criterion was met (not the iteration cap).
    pub converged: bool,
}

/// Box constraints applied by projection after each step (keeps log-parameters finite).
#[derive(Debug, Clone)]
pub struct Bounds {
    /// Lower bound per parameter.
    pub lo: Vec<f64>,
    /// Upper bound per parameter.
    pub hi: Vec<f64>,
}

impl Bounds {
    fn project(&self, theta: &mut [f64]) {
        for (j, t) in theta.iter_mut().enumerate() {
            *t = t.clamp(self.lo[j], self.hi[j]);
        }
    }
}

fn ssq(r: &[f64]) -> f64 {
    r.iter().map(|x| x * x).sum()
}

/// Central-difference Jacobian of the residual function.
fn jacobian<F: Fn(&[f64], &mut Vec<f64>)>(f: &F, theta: &[f64], m: usize) -> Vec<Vec<f64>> {
    let p = theta.len();
    let mut jac = vec![vec![0.0; p]; m];
    let mut tp = theta.to_vec();
    let mut rp = Vec::with_capacity(m);
    let mut rm = Vec::with_capacity(m);
    for j in 0..p {
        let h = 1e-6 * theta[j].abs().max(1.0);
        tp[j] = theta[j] + h;
        f(&tp, &mut rp);
        tp[j] = theta[j] - h;
        f(&tp, &mut rm);
        tp[j] = theta[j];
        for i in 0..m {
            jac[i][j] = (rp[i] - rm[i]) / (2.0 * h);
        }
    }
    jac
}

/// Minimises Σ rᵢ(θ)² from `start`; `f(θ, r)` fills the residual vector (fixed length).
/// Returns `None` when the residuals are not finite at the start.
pub fn minimize<F: Fn(&[f64], &mut Vec<f64>)>(
    f: F,
    start: &[f64],
    bounds: &Bounds,
    max_iter: usize,
) -> Option<LmResult> {
    let p = start.len();
    let mut theta = start.to_vec();
    bounds.project(&mut theta);
    let mut r = Vec::new();
    f(&theta, &mut r);
    let m = r.len();
    let mut s = ssq(&r);
    if !s.is_finite() {
        return None;
    }
    let mut lambda = 1e-3;
    let mut nu = 2.0;
    let mut converged = false;
    let mut it = 0;
    let mut jac = jacobian(&f, &theta, m);
    while it < max_iter {
        it += 1;
        let jtj = mat_tn(&jac);
        let g: Vec<f64> = (0..p)
            .map(|j| (0..m).map(|i| jac[i][j] * r[i]).sum())
            .collect();
        if g.iter().all(|x| x.abs() < 1e-12 * (1.0 + s)) {
            converged = true;
            break;
        }
        // Marquardt scaling: damp each direction in proportion to its curvature.
        let mut a = jtj.clone();
        for j in 0..p {
            a[j][j] += lambda * jtj[j][j].max(1e-12);
        }
        let neg_g: Vec<f64> = g.iter().map(|x| -x).collect();
        let Some(step) = solve(&a, &neg_g) else {
            lambda *= nu;
            nu *= 2.0;
            continue;
        };
        let mut cand: Vec<f64> = theta.iter().zip(&step).map(|(t, d)| t + d).collect();
        bounds.project(&mut cand);
        let actual: Vec<f64> = cand.iter().zip(&theta).map(|(c, t)| c - t).collect();
        let mut rc = Vec::with_capacity(m);
        f(&cand, &mut rc);
        let sc = ssq(&rc);
        // Predicted reduction of the linear model: −2 dᵀg − dᵀJᵀJ d.
        let jd: f64 = {
            let mut q = 0.0;
            for row in &jac {
                let v: f64 = row.iter().zip(&actual).map(|(a, b)| a * b).sum();
                q += v * v;
            }
            q
        };
        let pred = -2.0 * actual.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>() - jd;
        let rho = if pred > 0.0 { (s - sc) / pred } else { -1.0 };
        if sc.is_finite() && sc < s && rho > 0.0 {
            let small_step = actual
                .iter()
                .zip(&theta)
                .all(|(d, t)| d.abs() <= 1e-10 * (t.abs() + 1e-10));
            let rel = (s - sc) / s.max(1e-300);
            theta = cand;
            r = rc;
            s = sc;
            lambda *= (1.0f64 / 3.0).max(1.0 - (2.0 * rho - 1.0).powi(3));
            nu = 2.0;
            jac = jacobian(&f, &theta, m);
            if small_step || rel < 1e-12 {
                converged = true;
                break;
            }
        } else {
            lambda *= nu;
            nu *= 2.0;
            if lambda > 1e16 {
                // No descent possible from here: a (possibly constrained) minimum.
                converged = true;
                break;
            }
        }
    }
    let jtj = mat_tn(&jac);
    Some(LmResult {
        theta,
        ssq: s,
        jtj,
        iterations: it,
        converged,
    })
}

/// JᵀJ for an m×p matrix given as rows.
pub fn mat_tn(jac: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let p = jac.first().map_or(0, |r| r.len());
    let mut out = vec![vec![0.0; p]; p];
    for row in jac {
        for a in 0..p {
            for b in 0..p {
                out[a][b] += row[a] * row[b];
            }
        }
    }
    out
}

/// Solves A x = b by Gaussian elimination with partial pivoting; `None` if singular.
pub fn solve(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .zip(b)
        .map(|(row, bi)| row.iter().copied().chain(std::iter::once(*bi)).collect())
        .collect();
    let scale = a.iter().flatten().fold(0.0f64, |acc, x| acc.max(x.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return None;
    }
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[piv][col].abs() <= 1e-14 * scale {
            return None;
        }
        m.swap(col, piv);
        let pivot_row = m[col].clone();
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let factor = r[col] / pivot_row[col];
                for (x, pv) in r.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= factor * pv;
                }
            }
        }
    }
    Some((0..n).map(|i| m[i][n] / m[i][i]).collect())
}

/// Inverse of a small square matrix; `None` if singular. 1×1 to 3×3 by cofactors (the hot
/// path of the EM and the bootstrap), larger by elimination.
pub fn inverse(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let scale = a.iter().flatten().fold(0.0f64, |acc, x| acc.max(x.abs()));
    if !(scale > 0.0 && scale.is_finite()) {
        return None;
    }
    match n {
        1 => {
            return if a[0][0] != 0.0 {
                Some(vec![vec![1.0 / a[0][0]]])
            } else {
                None
            };
        }
        2 => {
            let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
            if det.abs() <= 1e-14 * scale * scale {
                return None;
            }
            return Some(vec![
                vec![a[1][1] / det, -a[0][1] / det],
                vec![-a[1][0] / det, a[0][0] / det],
            ]);
        }
        3 => {
            let c = |i: usize, j: usize| {
                let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
                let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
                a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]
            };
            let det = a[0][0] * c(0, 0) + a[0][1] * c(0, 1) + a[0][2] * c(0, 2);
            if det.abs() <= 1e-14 * scale * scale * scale {
                return None;
            }
            // inverse[j][i] = cofactor(i, j) / det (cyclic indices give the signs).
            return Some(
                (0..3)
                    .map(|j| (0..3).map(|i| c(i, j) / det).collect())
                    .collect(),
            );
        }
        _ => {}
    }
    let mut cols = Vec::with_capacity(n);
    for j in 0..n {
        let e: Vec<f64> = (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
        cols.push(solve(a, &e)?);
    }
    Some(
        (0..n)
            .map(|i| (0..n).map(|j| cols[j][i]).collect())
            .collect(),
    )
}

/// A·x for a square matrix.
pub fn mat_vec(a: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    a.iter()
        .map(|row| row.iter().zip(x).map(|(p, q)| p * q).sum())
        .collect()
}

/// Matrix product A·B.
pub fn mat_mul(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    a.iter()
        .map(|row| {
            (0..b[0].len())
                .map(|j| row.iter().zip(b).map(|(x, r)| x * r[j]).sum())
                .collect()
        })
        .collect()
}

/// Element-wise A + B.
pub fn mat_add(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    a.iter()
        .zip(b)
        .map(|(r, s)| r.iter().zip(s).map(|(x, y)| x + y).collect())
        .collect()
}

#[cfg(test)]
mod tests;
