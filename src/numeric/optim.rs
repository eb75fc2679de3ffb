//! Minimisation of the small smooth objectives of the statistics and fitting code (REML
//! deviance over 1–3 covariance parameters): derivative-free Nelder–Mead, and BFGS where an
//! analytic gradient exists.

#![allow(clippy::needless_range_loop)] // dense matrix code reads best with explicit indices

/// Result of a minimisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// Argument of the minimum.
    pub x: Vec<f64>,
    /// Objective value there.
    pub f: f64,
    /// Function evaluations used.
    pub evaluations: usize,
    /// Whether the simplex shrank below the tolerance before the evaluation budget ran out.
    pub converged: bool,
}

/// Nelder–Mead simplex minimisation (Nelder & Mead 1965, Comput J 7:308; adaptive coefficients
/// of Gao & Han 2012, Comput Optim Appl 51:259), restarted from the best point until a restart
/// no longer improves the value (a guard against premature collapse, as recommended by
/// Lagarias et al. 1998). `step` is the initial simplex edge per coordinate; stops when the
/// spread of values is below `ftol` (absolute) and the simplex diameter below `xtol`.
pub fn nelder_mead<F: FnMut(&[f64]) -> f64>(
    mut f: F,
    x0: &[f64],
    step: &[f64],
    ftol: f64,
    xtol: f64,
    max_eval: usize,
) -> Minimum {
    let n = x0.len();
    let nf = n as f64;
    // Gao & Han's coefficients reduce to the standard ones at n = 2; at n = 1 their shrink
    // factor 1 − 1/n is 0, which collapses the simplex onto one point at the first shrink (a
    // one-parameter REML fit stopped at θ = 0.125 from a start of 1), so n = 1 uses the
    // standard (1, 2, ½, ½).
    let (alpha, beta, gamma, delta) = if n < 2 {
        (1.0, 2.0, 0.5, 0.5)
    } else {
        (1.0, 1.0 + 2.0 / nf, 0.75 - 1.0 / (2.0 * nf), 1.0 - 1.0 / nf)
    };
    let mut evals = 0usize;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        let v = f(x);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let mut best_x = x0.to_vec();
    let mut best_f = eval(x0, &mut evals);
    let mut converged = false;
    let mut scale = 1.0;
    for _restart in 0..20 {
        let mut simplex: Vec<Vec<f64>> = vec![best_x.clone()];
        for i in 0..n {
            let mut p = best_x.clone();
            let s = step[i] * scale;
            p[i] += if s != 0.0 { s } else { 1e-3 };
            simplex.push(p);
        }
        let mut fv: Vec<f64> = simplex.iter().map(|p| eval(p, &mut evals)).collect();
        fv[0] = best_f;
        let mut local_conv = false;
        while evals < max_eval {
            let mut order: Vec<usize> = (0..=n).collect();
            order.sort_by(|&a, &b| fv[a].total_cmp(&fv[b]));
            simplex = order.iter().map(|&i| simplex[i].clone()).collect();
            fv = order.iter().map(|&i| fv[i]).collect();
            let diam = simplex[1..]
                .iter()
                .map(|p| {
                    p.iter()
                        .zip(&simplex[0])
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max)
                })
                .fold(0.0, f64::max);
            if (fv[n] - fv[0]).abs() <= ftol && diam <= xtol {
                local_conv = true;
                break;
            }
            let centroid: Vec<f64> = (0..n)
                .map(|j| simplex[..n].iter().map(|p| p[j]).sum::<f64>() / nf)
                .collect();
            let along = |t: f64| -> Vec<f64> {
                (0..n)
                    .map(|j| centroid[j] + t * (simplex[n][j] - centroid[j]))
                    .collect()
            };
            let xr = along(-alpha);
            let fr = eval(&xr, &mut evals);
            if fr < fv[0] {
                let xe = along(-alpha * beta);
                let fe = eval(&xe, &mut evals);
                if fe < fr {
                    simplex[n] = xe;
                    fv[n] = fe
                } else {
                    simplex[n] = xr;
                    fv[n] = fr
                }
            } else if fr < fv[n - 1] {
                simplex[n] = xr;
                fv[n] = fr;
            } else {
                let (xc, fc) = if fr < fv[n] {
                    let x = along(-alpha * gamma);
                    let v = eval(&x, &mut evals);
                    (x, v)
                } else {
                    let x = along(gamma);
                    let v = eval(&x, &mut evals);
                    (x, v)
                };
                if fc < fv[n].min(fr) {
                    simplex[n] = xc;
                    fv[n] = fc;
                } else {
                    for i in 1..=n {
                        for j in 0..n {
                            simplex[i][j] = simplex[0][j] + delta * (simplex[i][j] - simplex[0][j]);
                        }
                        fv[i] = eval(&simplex[i], &mut evals);
                    }
                }
            }
        }
        let (ib, _) = fv
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((0, &f64::INFINITY));
        let improved = fv[ib] < best_f - ftol;
        if fv[ib] <= best_f {
            best_f = fv[ib];
            best_x = simplex[ib].clone();
        }
        if !local_conv || evals >= max_eval {
            break;
        }
        if !improved {
            converged = true;
            break;
        }
        scale *= 0.5;
    }
    Minimum {
        x: best_x,
        f: best_f,
        evaluations: evals,
        converged,
    }
}

/// Quasi-Newton minimisation with an analytic gradient: BFGS with the inverse-Hessian update
/// and a backtracking Armijo line search (Nocedal & Wright 2006, Numerical Optimization, 2nd
/// ed., Algorithm 6.1 and eq. 6.17; initial scaling eq. 6.20). `fg(x, g)` returns f(x) and
/// writes ∇f(x) into `g`; a non-finite value marks x as outside the domain and the line search
/// backs off. Converged when ‖∇f‖∞ ≤ `gtol`, or when a step no longer changes f beyond
/// `ftol` (absolute) at a point whose gradient is below √`gtol` (rounding floor of f reached).
pub fn bfgs<F: FnMut(&[f64], &mut [f64]) -> f64>(
    mut fg: F,
    x0: &[f64],
    gtol: f64,
    ftol: f64,
    max_iter: usize,
) -> Minimum {
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut evals = 1usize;
    let mut f = fg(&x, &mut g);
    let fail = |x: Vec<f64>, f: f64, evaluations| Minimum {
        x,
        f,
        evaluations,
        converged: false,
    };
    if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return fail(x, f64::INFINITY, evals);
    }
    // Inverse Hessian approximation, row-major; identity until the first curvature pair.
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        h[i * n + i] = 1.0;
    }
    let mut first = true;
    let (mut xn, mut gn, mut d, mut s, mut y) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    let gmax = |g: &[f64]| g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for _ in 0..max_iter {
        if gmax(&g) <= gtol {
            return Minimum {
                x,
                f,
                evaluations: evals,
                converged: true,
            };
        }
        for i in 0..n {
            d[i] = -(0..n).map(|j| h[i * n + j] * g[j]).sum::<f64>();
        }
        let mut slope: f64 = d.iter().zip(&g).map(|(a, b)| a * b).sum();
        if slope >= 0.0 {
            // Lost descent (rounding in H): restart from steepest descent.
            for i in 0..n {
                for j in 0..n {
                    h[i * n + j] = if i == j { 1.0 } else { 0.0 };
                }
                d[i] = -g[i];
            }
            first = true;
            slope = -g.iter().map(|v| v * v).sum::<f64>();
        }
        // Without curvature the first step moves at most ½ in the largest coordinate (a
        // unit step from a unit start can land exactly on a symmetric stationary point, e.g.
        // θ = 0 of a REML criterion that is even in θ).
        let mut step = if first { 0.5 / gmax(&d).max(1.0) } else { 1.0 };
        let mut accepted = None;
        for _ in 0..60 {
            for i in 0..n {
                xn[i] = x[i] + step * d[i];
            }
            evals += 1;
            let fnew = fg(&xn, &mut gn);
            if fnew.is_finite()
                && gn.iter().all(|v| v.is_finite())
                && fnew <= f + 1e-4 * step * slope
            {
                accepted = Some(fnew);
                break;
            }
            step *= 0.5;
        }
        let Some(fnew) = accepted else {
            // No decrease along a descent direction: f is at its rounding floor.
            let converged = gmax(&g) <= gtol.sqrt();
            return Minimum {
                x,
                f,
                evaluations: evals,
                converged,
            };
        };
        for i in 0..n {
            s[i] = xn[i] - x[i];
            y[i] = gn[i] - g[i];
        }
        let stalled = (f - fnew).abs() <= ftol;
        std::mem::swap(&mut x, &mut xn);
        std::mem::swap(&mut g, &mut gn);
        f = fnew;
        if stalled && gmax(&g) <= gtol.sqrt() {
            return Minimum {
                x,
                f,
                evaluations: evals,
                converged: true,
            };
        }
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        let yy: f64 = y.iter().map(|v| v * v).sum();
        if sy > 1e-12 * yy.sqrt() * s.iter().map(|v| v * v).sum::<f64>().sqrt() {
            if first {
                // Nocedal & Wright eq. 6.20: scale the identity before the first update.
                let scale = sy / yy;
                for v in h.iter_mut() {
                    *v *= scale;
                }
                first = false;
            }
            let rho = 1.0 / sy;
            // H ← (I − ρsyᵀ) H (I − ρysᵀ) + ρssᵀ, written with hy = H·y.
            let hy: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| h[i * n + j] * y[j]).sum())
                .collect();
            let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
            for i in 0..n {
                for j in 0..n {
                    h[i * n + j] += -rho * (s[i] * hy[j] + hy[i] * s[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
    }
    fail(x, f, evals)
}

/// Golden-section minimum of a unimodal `f` on [a, b], to a bracket of 1e-13·(1 + |x|)
/// (Kiefer 1953; Press et al., Numerical Recipes §10.2), at most 200 steps.
pub fn golden_section<F: FnMut(f64) -> f64>(mut f: F, mut a: f64, mut b: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - r * (b - a);
    let mut d = a + r * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..200 {
        if (b - a).abs() <= 1e-13 * (1.0 + c.abs()) {
            break;
        }
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    if fc <= fd { c } else { d }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rosenbrock() {
        let m = nelder_mead(
            |x| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2),
            &[-1.2, 1.0],
            &[0.5, 0.5],
            1e-14,
            1e-9,
            20_000,
        );
        assert!(m.converged);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{m:?}"
        );
    }

    #[test]
    fn bfgs_rosenbrock_and_domain_edge() {
        let rosen = |x: &[f64], g: &mut [f64]| {
            g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = 200.0 * (x[1] - x[0] * x[0]);
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        };
        let m = bfgs(rosen, &[-1.2, 1.0], 1e-9, 0.0, 500);
        assert!(m.converged, "{m:?}");
        assert!((m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6);
        // f = x − ln x on x > 0 (infinite outside): the line search must back off the edge.
        let m = bfgs(
            |x: &[f64], g: &mut [f64]| {
                g[0] = 1.0 - 1.0 / x[0];
                if x[0] > 0.0 {
                    x[0] - x[0].ln()
                } else {
                    f64::INFINITY
                }
            },
            &[5.0],
            1e-10,
            0.0,
            200,
        );
        assert!(m.converged && (m.x[0] - 1.0).abs() < 1e-8, "{m:?}");
    }

    #[test]
    fn golden_section_finds_the_minimum_of_a_parabola() {
        let x = super::golden_section(|x| (x - 0.3).powi(2) + 1.0, -2.0, 5.0);
        assert!((x - 0.3).abs() < 1e-7, "{x}");
    }
}
