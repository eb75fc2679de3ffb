//! Shared numerics, below every domain module: dense linear algebra for the small systems of
//! the statistics and fitting code ([`linalg`]), Nelder–Mead minimisation ([`optim`]), the
//! sample quantile every summary uses, the ordinary least-squares line and the tail
//! probabilities of the reference distributions ([`dist`]) and Chebyshev interpolation
//! ([`Chebyshev`]). Each lives here once and is tested
//! once.

pub mod chebyshev;
pub mod dist;
pub mod linalg;
pub mod optim;

pub use chebyshev::Chebyshev;

/// Sample quantile of sorted values, Hyndman & Fan (1996, Am Stat 50:361) type 7 — R's and
/// numpy's default: h = (n − 1)·p, Q = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎). `p` is clamped to
/// [0, 1]; NaN for empty input.
pub fn quantile7(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Ordinary least-squares line of `y` on `x` (the first min(len) points): (intercept, slope),
/// or `None` with fewer than two points or no spread in `x`.
pub fn ols(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for i in 0..n {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    if sxx > 0.0 {
        let b = sxy / sxx;
        Some((my - b * mx, b))
    } else {
        None
    }
}

/// Five-point Gauss–Legendre rule on [−1, 1] (Abramowitz & Stegun 25.4.29): nodes and
/// weights; exact for polynomials of degree ≤ 9.
pub const GAUSS_LEGENDRE_5: [(f64, f64); 5] = [
    (-0.906_179_845_938_664, 0.236_926_885_056_189_1),
    (-0.538_469_310_105_683_1, 0.478_628_670_499_366_5),
    (0.0, 0.568_888_888_888_888_9),
    (0.538_469_310_105_683_1, 0.478_628_670_499_366_5),
    (0.906_179_845_938_664, 0.236_926_885_056_189_1),
];

/// The [`GAUSS_LEGENDRE_5`] nodes and weights mapped onto [a, b], appended to `t` and `w`.
pub fn gauss_legendre_5(a: f64, b: f64, t: &mut Vec<f64>, w: &mut Vec<f64>) {
    let (m, h) = (0.5 * (a + b), 0.5 * (b - a));
    for &(x, wx) in &GAUSS_LEGENDRE_5 {
        t.push(m + h * x);
        w.push(h * wx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile7_matches_r() {
        // R: quantile(c(1, 2, 3, 4, 10), c(0.05, 0.5, 0.95)) → 1.2, 3, 8.8
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((quantile7(&v, 0.05) - 1.2).abs() < 1e-12);
        assert!((quantile7(&v, 0.5) - 3.0).abs() < 1e-12);
        assert!((quantile7(&v, 0.95) - 8.8).abs() < 1e-12);
        // R: quantile(1:10, c(.05, .5, .95)) = 1.45 5.5 9.55
        let w: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((quantile7(&w, 0.05) - 1.45).abs() < 1e-12);
        assert!((quantile7(&w, 0.95) - 9.55).abs() < 1e-12);
        assert!(quantile7(&[], 0.5).is_nan());
        assert_eq!(quantile7(&[7.0], 0.9), 7.0);
    }

    #[test]
    fn ols_line() {
        let (a, b) = ols(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]).unwrap();
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        assert!(ols(&[1.0, 1.0], &[0.0, 1.0]).is_none());
        assert!(ols(&[1.0], &[0.0]).is_none());
    }

    #[test]
    fn gauss_legendre_5_is_exact_to_degree_9() {
        let (mut t, mut w) = (Vec::new(), Vec::new());
        gauss_legendre_5(1.0, 3.0, &mut t, &mut w);
        for k in 0..=9 {
            let q: f64 = t.iter().zip(&w).map(|(t, w)| w * t.powi(k)).sum();
            let exact = (3f64.powi(k + 1) - 1.0) / f64::from(k + 1);
            assert!(
                (q - exact).abs() < 1e-12 * exact,
                "degree {k}: {q} vs {exact}"
            );
        }
        // Degree 10 is not exact.
        let q: f64 = t.iter().zip(&w).map(|(t, w)| w * t.powi(10)).sum();
        assert!((q - (3f64.powi(11) - 1.0) / 11.0).abs() > 1e-6);
    }
}
