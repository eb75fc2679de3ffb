//! Kaplan–Meier estimator and the two-group log-rank test.

use super::dist::chi2_1_sf;

/// One step of a Kaplan–Meier curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmPoint {
    /// Time of the step (an event or censoring time).
    pub time: f64,
    /// Number at risk just before `time`.
    pub n_risk: usize,
    /// Events at `time`.
    pub n_event: usize,
    /// Censored at `time`.
    pub n_censor: usize,
    /// Survival probability just after `time`.
    pub survival: f64,
    /// Greenwood standard error of `survival`.
    pub std_err: f64,
}

/// Kaplan–Meier estimate (Kaplan & Meier 1958, JASA 53:457) from `(time, event)` pairs
/// (`event = true` for an event, false for censoring), one row per distinct time as R's
/// `survfit(Surv(time, event) ~ 1)`; Greenwood's variance Ŝ²·Σ dᵢ/(nᵢ(nᵢ−dᵢ)).
pub fn kaplan_meier(data: &[(f64, bool)]) -> Vec<KmPoint> {
    let mut d: Vec<(f64, bool)> = data.iter().copied().filter(|p| p.0.is_finite()).collect();
    d.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut out = Vec::new();
    let mut n_risk = d.len();
    let mut s = 1.0;
    let mut green = 0.0;
    let mut i = 0;
    while i < d.len() {
        let t = d[i].0;
        let mut j = i;
        let mut ev = 0;
        while j < d.len() && d[j].0 == t {
            ev += d[j].1 as usize;
            j += 1;
        }
        let cens = (j - i) - ev;
        if ev > 0 {
            s *= 1.0 - ev as f64 / n_risk as f64;
            if n_risk > ev {
                green += ev as f64 / (n_risk as f64 * (n_risk - ev) as f64);
            } else {
                green = f64::NAN;
            }
        }
        out.push(KmPoint {
            time: t,
            n_risk,
            n_event: ev,
            n_censor: cens,
            survival: s,
            std_err: s * green.sqrt(),
        });
        n_risk -= j - i;
        i = j;
    }
    out
}

/// Result of a two-group log-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRank {
    /// χ² statistic (1 df).
    pub statistic: f64,
    /// p-value.
    pub p_value: f64,
    /// Observed events in group 1.
    pub observed1: f64,
    /// Expected events in group 1 under H₀.
    pub expected1: f64,
    /// Observed events in group 2.
    pub observed2: f64,
    /// Expected events in group 2 under H₀.
    pub expected2: f64,
}

/// Log-rank (Mantel–Haenszel) test of group 1 vs group 2, as R's `survdiff` (rho = 0):
/// χ² = (O₁ − E₁)²/V with E₁ = Σ dⱼ·n₁ⱼ/nⱼ and V = Σ n₁ⱼn₂ⱼdⱼ(nⱼ−dⱼ)/(nⱼ²(nⱼ−1)) over the
/// distinct event times (Mantel 1966; Peto & Peto 1972). NaN when no event occurred.
pub fn logrank(group1: &[(f64, bool)], group2: &[(f64, bool)]) -> LogRank {
    let mut all: Vec<(f64, bool, bool)> = group1
        .iter()
        .map(|&(t, e)| (t, e, true))
        .chain(group2.iter().map(|&(t, e)| (t, e, false)))
        .filter(|p| p.0.is_finite())
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut n1 = all.iter().filter(|p| p.2).count() as f64;
    let mut n2 = all.len() as f64 - n1;
    let (mut o1, mut e1, mut o2, mut e2, mut v) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let t = all[i].0;
        let mut j = i;
        let (mut d1, mut d2, mut r1, mut r2) = (0.0, 0.0, 0.0, 0.0);
        while j < all.len() && all[j].0 == t {
            let (_, ev, g1) = all[j];
            if g1 {
                r1 += 1.0;
                if ev {
                    d1 += 1.0;
                }
            } else {
                r2 += 1.0;
                if ev {
                    d2 += 1.0;
                }
            }
            j += 1;
        }
        let d = d1 + d2;
        let n = n1 + n2;
        if d > 0.0 {
            o1 += d1;
            o2 += d2;
            e1 += d * n1 / n;
            e2 += d * n2 / n;
            if n > 1.0 {
                v += n1 * n2 * d * (n - d) / (n * n * (n - 1.0));
            }
        }
        n1 -= r1;
        n2 -= r2;
        i = j;
    }
    let stat = if v > 0.0 {
        (o1 - e1) * (o1 - e1) / v
    } else {
        f64::NAN
    };
    LogRank {
        statistic: stat,
        p_value: chi2_1_sf(stat),
        observed1: o1,
        expected1: e1,
        observed2: o2,
        expected2: e2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn km_simple() {
        let km = kaplan_meier(&[(1.0, true), (2.0, false), (3.0, true), (3.0, true)]);
        assert_eq!(km.len(), 3);
        assert!((km[0].survival - 0.75).abs() < 1e-15);
        assert!((km[1].survival - 0.75).abs() < 1e-15);
        assert_eq!(km[2].n_risk, 2);
        assert_eq!(km[2].survival, 0.0);
    }

    #[test]
    fn logrank_without_events_is_nan() {
        let r = logrank(&[(5.0, false)], &[(5.0, false)]);
        assert!(r.p_value.is_nan());
    }
}
