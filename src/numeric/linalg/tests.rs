//! Unit tests of `src/numeric/linalg.rs`.

use super::*;

#[test]
fn cholesky_solve_and_inverse_roundtrip() {
    let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
    let l = cholesky(&a, 3).unwrap();
    let inv = chol_inverse(&l, 3);
    let inv2 = inverse(&a, 3).unwrap();
    for i in 0..3 {
        for j in 0..3 {
            let mut s = 0.0;
            for k in 0..3 {
                s += a[i * 3 + k] * inv[k * 3 + j];
            }
            assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            assert!((inv[i * 3 + j] - inv2[i * 3 + j]).abs() < 1e-12);
        }
    }
    // det = 4*(15-1) - 2*(6-0.6) + 0.6*(2-3) = 56 - 10.8 - 0.6 = 44.6
    assert!((chol_logdet(&l, 3) - 44.6f64.ln()).abs() < 1e-12);
    assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
}
