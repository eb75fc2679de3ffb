//! Derivative-free minimisation (Nelder–Mead) for the small smooth objectives of the
//! statistics and fitting code (REML deviance over 1–3 covariance parameters).

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
}
