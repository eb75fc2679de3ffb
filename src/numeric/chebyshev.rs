//! Chebyshev interpolation of a smooth function of one variable on an interval (Trefethen,
//! *Approximation Theory and Approximation Practice*, SIAM 2013, ch. 3–4 and 8): values at
//! the n + 1 Chebyshev points of the first kind, coefficients by the discrete cosine
//! transform, the series cut where the tail is below the tolerance, evaluated by Clenshaw's
//! recurrence. Analytic functions converge geometrically, so a few dozen terms replace a
//! sum of hundreds. The simulator uses it for the Hill-effect integral of one visit as a
//! function of ln(EC50 / dose scale) ([`crate::sim`]'s exposure quadrature).

/// A truncated Chebyshev series on [lo, hi].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chebyshev {
    lo: f64,
    hi: f64,
    coef: Vec<f64>,
}

impl Chebyshev {
    /// Interpolates `f` on [lo, hi] with at most `max_terms` terms so that the series is
    /// within `tol` (absolute) of `f` — checked at the midpoints between the interpolation
    /// points of a doubled grid, not just assumed from the coefficients. `None` when no series
    /// of that length reaches `tol` (the caller then evaluates `f` itself) or `f` is not
    /// finite on the grid.
    pub fn fit<F: FnMut(f64) -> f64>(
        mut f: F,
        (lo, hi): (f64, f64),
        max_terms: usize,
        tol: f64,
    ) -> Option<Chebyshev> {
        // NaN bounds fail the comparison too.
        if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) || max_terms == 0 {
            return None;
        }
        let n = max_terms;
        let pi = std::f64::consts::PI;
        let (m, h) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        let vals: Vec<f64> = (0..n)
            .map(|j| f(m + h * (pi * (j as f64 + 0.5) / n as f64).cos()))
            .collect();
        if vals.iter().any(|v| !v.is_finite()) {
            return None;
        }
        // cos(π·k·(j + ½)/n) = cos(π·m/(2n)) with m = k·(2j + 1) mod 4n: one table, no cos
        // in the O(n²) transform.
        let table: Vec<f64> = (0..4 * n)
            .map(|m| (pi * m as f64 / (2 * n) as f64).cos())
            .collect();
        let mut coef: Vec<f64> = (0..n)
            .map(|k| {
                let s: f64 = vals
                    .iter()
                    .enumerate()
                    .map(|(j, v)| v * table[(k * (2 * j + 1)) % (4 * n)])
                    .sum();
                s * 2.0 / n as f64
            })
            .collect();
        coef[0] *= 0.5;
        // Cut the tail whose absolute sum is below half the tolerance (round-off puts a floor
        // of ~1e-16·max|f| under every coefficient).
        let mut tail = 0.0;
        let mut keep = n;
        while keep > 1 && tail + coef[keep - 1].abs() < 0.5 * tol {
            tail += coef[keep - 1].abs();
            keep -= 1;
        }
        if keep == n {
            return None;
        }
        coef.truncate(keep);
        let c = Chebyshev { lo, hi, coef };
        // Verify between the interpolation points (where an interpolant errs most).
        let ok = (0..2 * n).all(|j| {
            let x = m + h * (pi * (j as f64 + 0.25) / n as f64).cos();
            (c.eval(x) - f(x)).abs() <= tol
        });
        ok.then_some(c)
    }

    /// The interval the series was fitted on.
    pub fn domain(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// Number of terms kept.
    pub fn terms(&self) -> usize {
        self.coef.len()
    }

    /// The series at `x` (Clenshaw). Outside the domain it extrapolates: check
    /// [`Chebyshev::domain`] first.
    #[inline]
    pub fn eval(&self, x: f64) -> f64 {
        let t = (2.0 * x - self.lo - self.hi) / (self.hi - self.lo);
        let (mut b1, mut b2) = (0.0, 0.0);
        for &c in self.coef[1..].iter().rev() {
            let b0 = c + 2.0 * t * b1 - b2;
            b2 = b1;
            b1 = b0;
        }
        self.coef[0] + t * b1 - b2
    }
}

#[cfg(test)]
mod tests {
    use super::Chebyshev;

    #[test]
    fn analytic_functions_converge_to_the_tolerance() {
        let c = Chebyshev::fit(f64::exp, (-1.0, 2.0), 40, 1e-13).unwrap();
        assert!(c.terms() < 30, "{} terms", c.terms());
        for i in 0..=300 {
            let x = -1.0 + 3.0 * i as f64 / 300.0;
            assert!((c.eval(x) - x.exp()).abs() <= 1e-13, "x = {x}");
        }
        // 1/(e^u + c): poles at u = ln c ± iπ, the Hill integrand in ln EC50.
        let g = |u: f64| 2.5 / (u.exp() + 2.5);
        let c = Chebyshev::fit(g, (-3.0, 3.0), 64, 1e-12).unwrap();
        for i in 0..=600 {
            let x = -3.0 + 6.0 * i as f64 / 600.0;
            assert!((c.eval(x) - g(x)).abs() <= 1e-12);
        }
    }

    #[test]
    fn refuses_what_it_cannot_represent() {
        // A kink needs far more terms than allowed.
        assert!(Chebyshev::fit(|x: f64| x.abs(), (-1.0, 1.0), 16, 1e-10).is_none());
        assert!(Chebyshev::fit(|x: f64| 1.0 / x, (-1.0, 1.0), 16, 1e-10).is_none());
        assert!(Chebyshev::fit(f64::exp, (1.0, 1.0), 16, 1e-10).is_none());
    }
}
