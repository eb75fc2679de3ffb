//! Per-animal growth summaries.

/// Ordinary least-squares slope of `y` on `x` (e.g. ln volume on day: the exponential growth
/// rate, /day, Hather et al. 2014 Cancer Inform 13(S4):65). NaN with fewer than two distinct x.
pub fn slope(x: &[f64], y: &[f64]) -> f64 {
    crate::numeric::ols(x, y).map_or(f64::NAN, |(_, b)| b)
}

/// Area under ln(V(t)/V(t₀)) by the trapezoid rule from the first to the last point (the
/// animal's last visit), with `days` increasing and `volumes` > 0 (Wu 2010, "Statistical
/// inference for tumor growth inhibition T/C ratio", J Biopharm Stat 20:954, uses AUC of log
/// volume; here relative to baseline so initial size cancels). NaN with < 2 points.
pub fn auc_log_relative(days: &[f64], volumes: &[f64]) -> f64 {
    let n = days.len().min(volumes.len());
    if n < 2 || volumes[0].is_nan() || volumes[0] <= 0.0 {
        return f64::NAN;
    }
    let l0 = volumes[0].ln();
    let mut area = 0.0;
    for i in 1..n {
        let a = volumes[i - 1].ln() - l0;
        let b = volumes[i].ln() - l0;
        area += 0.5 * (a + b) * (days[i] - days[i - 1]);
    }
    area
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_and_auc_of_exact_exponential() {
        let d = [0.0, 3.0, 7.0, 10.0];
        let v: Vec<f64> = d.iter().map(|t| 100.0 * (0.1f64 * t).exp()).collect();
        let ln: Vec<f64> = v.iter().map(|x| x.ln()).collect();
        assert!((slope(&d, &ln) - 0.1).abs() < 1e-12);
        // ∫₀¹⁰ 0.1 t dt = 5 (trapezoid exact for a linear integrand).
        assert!((auc_log_relative(&d, &v) - 5.0).abs() < 1e-12);
    }
}
