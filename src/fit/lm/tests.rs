//! Unit tests of `src/fit/lm.rs`.

use super::*;

fn unbounded(p: usize) -> Bounds {
    Bounds {
        lo: vec![f64::NEG_INFINITY; p],
        hi: vec![f64::INFINITY; p],
    }
}

#[test]
fn rosenbrock_minimum() {
    // Rosenbrock as least squares: r = (10(y − x²), 1 − x); minimum at (1, 1).
    let f = |t: &[f64], r: &mut Vec<f64>| {
        r.clear();
        r.push(10.0 * (t[1] - t[0] * t[0]));
        r.push(1.0 - t[0]);
    };
    let res = minimize(f, &[-1.2, 1.0], &unbounded(2), 200).unwrap();
    assert!(res.converged);
    assert!(
        (res.theta[0] - 1.0).abs() < 1e-6 && (res.theta[1] - 1.0).abs() < 1e-6,
        "{:?}",
        res.theta
    );
}

#[test]
fn linear_fit_matches_normal_equations() {
    // y = 2 + 0.5 x with known residuals; LM must give the OLS solution.
    let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
    let ys = [2.1, 2.4, 3.05, 3.45, 4.0];
    let f = |t: &[f64], r: &mut Vec<f64>| {
        r.clear();
        r.extend(xs.iter().zip(&ys).map(|(x, y)| y - t[0] - t[1] * x));
    };
    let res = minimize(f, &[0.0, 0.0], &unbounded(2), 100).unwrap();
    let n = 5.0;
    let (sx, sy) = (xs.iter().sum::<f64>(), ys.iter().sum::<f64>());
    let sxx: f64 = xs.iter().map(|x| x * x).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| x * y).sum();
    let b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    let a = (sy - b * sx) / n;
    assert!((res.theta[0] - a).abs() < 1e-8 && (res.theta[1] - b).abs() < 1e-8);
    // JᵀJ of a linear model is XᵀX.
    assert!((res.jtj[0][0] - n).abs() < 1e-6 && (res.jtj[1][1] - sxx).abs() < 1e-6);
}

#[test]
fn bounds_are_respected_and_inverse_works() {
    let f = |t: &[f64], r: &mut Vec<f64>| {
        r.clear();
        r.push(t[0] - 5.0);
    };
    let b = Bounds {
        lo: vec![0.0],
        hi: vec![2.0],
    };
    let res = minimize(f, &[1.0], &b, 100).unwrap();
    assert!((res.theta[0] - 2.0).abs() < 1e-12);
    let b3 = vec![
        vec![4.0, 1.0, 0.5],
        vec![1.0, 3.0, -0.2],
        vec![0.5, -0.2, 2.0],
    ];
    let inv3 = inverse(&b3).unwrap();
    for j in 0..3 {
        let col: Vec<f64> = inv3.iter().map(|row| row[j]).collect();
        let e = mat_vec(&b3, &col);
        for (i, x) in e.iter().enumerate() {
            assert!((x - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12, "{e:?}");
        }
    }
    let a = vec![vec![4.0, 1.0], vec![1.0, 3.0]];
    let inv = inverse(&a).unwrap();
    let id = [
        mat_vec(&a, &[inv[0][0], inv[1][0]]),
        mat_vec(&a, &[inv[0][1], inv[1][1]]),
    ];
    assert!(
        (id[0][0] - 1.0).abs() < 1e-12 && id[0][1].abs() < 1e-12 && (id[1][1] - 1.0).abs() < 1e-12
    );
    assert!(solve(&[vec![1.0, 2.0], vec![2.0, 4.0]], &[1.0, 2.0]).is_none());
}
