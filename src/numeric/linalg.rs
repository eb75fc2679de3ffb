//! Tiny dense linear algebra for the small symmetric systems of the statistics code (a few
//! fixed effects, two random effects): row-major `Vec<f64>`, Cholesky factorisation, solves and
//! inverses. Kept here instead of a matrix crate because the sizes are tiny and the Monte Carlo
//! loops of `power` call it millions of times.

#![allow(clippy::needless_range_loop)] // dense matrix code reads best with explicit indices

/// Cholesky factor `L` (row-major, lower triangular) of the symmetric positive-definite `a`
/// (n×n, row-major); `None` when `a` is not numerically positive definite.
pub fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    cholesky_into(a, n, &mut l).then_some(l)
}

/// Cholesky factor of `a` written into `l` (length n², no allocation); false when `a` is not
/// numerically positive definite.
pub fn cholesky_into(a: &[f64], n: usize, l: &mut [f64]) -> bool {
    l.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 || !s.is_finite() {
                    return false;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    true
}

/// log-determinant of `a` from its Cholesky factor.
pub fn chol_logdet(l: &[f64], n: usize) -> f64 {
    (0..n).map(|i| 2.0 * l[i * n + i].ln()).sum()
}

/// Solves `L Lᵀ x = b` in place.
pub fn chol_solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Inverse of the SPD matrix whose Cholesky factor is `l`.
pub fn chol_inverse(l: &[f64], n: usize) -> Vec<f64> {
    let mut inv = vec![0.0; n * n];
    let mut col = vec![0.0; n];
    for j in 0..n {
        col.iter_mut().for_each(|c| *c = 0.0);
        col[j] = 1.0;
        chol_solve(l, n, &mut col);
        for i in 0..n {
            inv[i * n + j] = col[i];
        }
    }
    inv
}

/// Inverse of a symmetric positive-definite matrix; `None` if singular.
pub fn spd_inverse(a: &[f64], n: usize) -> Option<Vec<f64>> {
    cholesky(a, n).map(|l| chol_inverse(&l, n))
}

/// Inverse of a general (symmetric, possibly indefinite) matrix by Gauss–Jordan elimination
/// with partial pivoting; `None` if singular.
pub fn inverse(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for c in 0..n {
        let p = (c..n).max_by(|&x, &y| m[x * n + c].abs().total_cmp(&m[y * n + c].abs()))?;
        if m[p * n + c].abs() < 1e-300 || !m[p * n + c].is_finite() {
            return None;
        }
        if p != c {
            for k in 0..n {
                m.swap(p * n + k, c * n + k);
                inv.swap(p * n + k, c * n + k);
            }
        }
        let d = m[c * n + c];
        for k in 0..n {
            m[c * n + k] /= d;
            inv[c * n + k] /= d;
        }
        for r in 0..n {
            if r != c {
                let f = m[r * n + c];
                if f != 0.0 {
                    for k in 0..n {
                        m[r * n + k] -= f * m[c * n + k];
                        inv[r * n + k] -= f * inv[c * n + k];
                    }
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests;
