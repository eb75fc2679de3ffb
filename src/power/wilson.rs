//! Wilson score interval for a binomial proportion (Wilson 1927, JASA 22:209; recommended over
//! the Wald interval by Brown, Cai & DasGupta 2001, Stat. Sci. 16:101):
//!
//! (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).

/// Wilson 95% interval `(low, high)` for `successes` out of `trials`; `(NaN, NaN)` when
/// `trials` is 0.
pub fn wilson95(successes: u64, trials: u64) -> (f64, f64) {
    wilson(successes, trials, crate::numeric::dist::Z_975)
}

/// Wilson interval with normal quantile `z`.
pub fn wilson(successes: u64, trials: u64, z: f64) -> (f64, f64) {
    if trials == 0 {
        return (f64::NAN, f64::NAN);
    }
    let n = trials as f64;
    let p = (successes.min(trials)) as f64 / n;
    let z2 = z * z;
    let den = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / den;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / den;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests;
