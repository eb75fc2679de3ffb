//! Kaplan–Meier estimator and the two-group log-rank test.

use crate::numeric::dist::chi2_1_sf;
use rand::RngExt;

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
    /// `p_value` is the exact permutation p-value ([`logrank_exact`]); false = χ²(1).
    pub exact: bool,
}

/// Log-rank (Mantel–Haenszel) test of group 1 vs group 2, as R's `survdiff` (rho = 0):
/// χ² = (O₁ − E₁)²/V with E₁ = Σ dⱼ·n₁ⱼ/nⱼ and V = Σ n₁ⱼn₂ⱼdⱼ(nⱼ−dⱼ)/(nⱼ²(nⱼ−1)) over the
/// distinct event times (Mantel 1966; Peto & Peto 1972). NaN when no event occurred.
pub fn logrank(group1: &[(f64, bool)], group2: &[(f64, bool)]) -> LogRank {
    let m = logrank_moments(group1, group2);
    let stat = if m.variance > 0.0 {
        (m.observed1 - m.expected1).powi(2) / m.variance
    } else {
        f64::NAN
    };
    LogRank {
        statistic: stat,
        p_value: chi2_1_sf(stat),
        observed1: m.observed1,
        expected1: m.expected1,
        observed2: m.observed2,
        expected2: m.expected2,
        exact: false,
    }
}

/// Observed and expected events of each group and the hypergeometric variance of O₁ − E₁,
/// summed over the distinct event times of one stratum (the terms of [`logrank`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct LogRankMoments {
    observed1: f64,
    expected1: f64,
    observed2: f64,
    expected2: f64,
    variance: f64,
}

fn logrank_moments(group1: &[(f64, bool)], group2: &[(f64, bool)]) -> LogRankMoments {
    let mut all: Vec<(f64, bool, bool)> = group1
        .iter()
        .map(|&(t, e)| (t, e, true))
        .chain(group2.iter().map(|&(t, e)| (t, e, false)))
        .filter(|p| p.0.is_finite())
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut n1 = all.iter().filter(|p| p.2).count() as f64;
    let mut n2 = all.len() as f64 - n1;
    let mut m = LogRankMoments::default();
    let mut i = 0;
    while i < all.len() {
        let t = all[i].0;
        let mut j = i;
        let (mut d1, mut d2, mut r1, mut r2) = (0.0, 0.0, 0.0, 0.0);
        while j < all.len() && all[j].0 == t {
            let (_, ev, g1) = all[j];
            if g1 {
                r1 += 1.0;
                d1 += ev as u8 as f64;
            } else {
                r2 += 1.0;
                d2 += ev as u8 as f64;
            }
            j += 1;
        }
        let d = d1 + d2;
        let n = n1 + n2;
        if d > 0.0 {
            m.observed1 += d1;
            m.observed2 += d2;
            m.expected1 += d * n1 / n;
            m.expected2 += d * n2 / n;
            if n > 1.0 {
                m.variance += n1 * n2 * d * (n - d) / (n * n * (n - 1.0));
            }
        }
        n1 -= r1;
        n2 -= r2;
        i = j;
    }
    m
}

/// Why a time-to-event statistic could not be computed from the data (a typed "not
/// computable": the analysis reports the reason instead of a number).
#[derive(Debug, Clone, PartialEq)]
pub enum TteError {
    /// No observation with a finite, positive time (or none in one of the groups).
    NoData(&'static str),
    /// No event was observed, so there is no information on the hazards.
    NoEvents,
    /// The data carry no information on a coefficient (e.g. a covariate constant within every
    /// stratum, or no stratum with both groups at risk at an event time).
    NoInformation(String),
    /// The likelihood is monotone: a coefficient's estimate is infinite (typically every event
    /// in one group). R's `coxph` warns "coefficient may be infinite" and prints a huge β.
    Monotone(String),
    /// An input is invalid (length mismatch, non-finite covariate, negative time).
    Invalid(String),
    /// Newton–Raphson did not converge within its iteration limit.
    NotConverged(usize),
}

impl std::fmt::Display for TteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TteError::NoData(what) => write!(f, "no usable observations ({what})"),
            TteError::NoEvents => write!(f, "no events observed"),
            TteError::NoInformation(why) => write!(f, "no information: {why}"),
            TteError::Monotone(why) => write!(f, "monotone likelihood, infinite estimate: {why}"),
            TteError::Invalid(why) => write!(f, "invalid input: {why}"),
            TteError::NotConverged(it) => {
                write!(f, "Newton-Raphson did not converge in {it} iterations")
            }
        }
    }
}

impl std::error::Error for TteError {}

/// Checks regression survival data (Cox, AFT): matching lengths (`x` row-major n × `p`), at
/// least one observation, finite times (> 0 when `positive_times`, as log T needs; ≥ 0
/// otherwise), finite covariates and at least one event.
pub(crate) fn check_regression_data(
    time: &[f64],
    event: &[bool],
    x: &[f64],
    p: usize,
    positive_times: bool,
) -> Result<(), TteError> {
    let n = time.len();
    if event.len() != n || x.len() != n * p {
        return Err(TteError::Invalid(format!(
            "{n} times, {} event flags, {} covariate values for {p} covariates",
            event.len(),
            x.len()
        )));
    }
    if n == 0 {
        return Err(TteError::NoData("no observations"));
    }
    let bad_time = |t: f64| !t.is_finite() || t < 0.0 || (positive_times && t == 0.0);
    if let Some(i) = time.iter().position(|&t| bad_time(t)) {
        let need = if positive_times { "> 0" } else { "≥ 0" };
        return Err(TteError::Invalid(format!(
            "time {} of observation {} (must be {need})",
            time[i],
            i + 1
        )));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(TteError::Invalid(format!(
            "covariate {} of observation {} is {}",
            i % p.max(1) + 1,
            i / p.max(1) + 1,
            x[i]
        )));
    }
    if !event.iter().any(|&e| e) {
        return Err(TteError::NoEvents);
    }
    Ok(())
}

/// One stratum of a stratified two-group comparison: `(group 1, group 2)` `(time, event)` pairs.
pub type StratumPair<'a> = (&'a [(f64, bool)], &'a [(f64, bool)]);

/// Result of a stratified two-group log-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StratifiedLogRank {
    /// χ² statistic (1 df): (Σₛ O₁ₛ − E₁ₛ)² / Σₛ Vₛ.
    pub statistic: f64,
    /// χ²(1) p-value.
    pub p_value: f64,
    /// Observed events in group 1, summed over strata.
    pub observed1: f64,
    /// Expected events in group 1 under H₀, summed over strata.
    pub expected1: f64,
    /// Σₛ Vₛ, the variance of O₁ − E₁.
    pub variance: f64,
    /// Strata that contributed variance (both groups at risk at an event time).
    pub informative_strata: usize,
    /// How `p_value` was computed.
    pub reference: LogRankReference,
}

/// Reference distribution of a stratified log-rank p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRankReference {
    /// χ²(1) ([`logrank_stratified`]).
    ChiSquare,
    /// Exact: every within-stratum relabelling was enumerated (their number).
    Exact(u64),
    /// Monte Carlo: this many within-stratum relabellings were drawn (fewer than
    /// [`STRATIFIED_LOGRANK_DRAWS`] when the sequential stop applied).
    Resampled(u64),
}

/// Stratified log-rank test of group 1 vs group 2 (one `(group1, group2)` pair per stratum,
/// e.g. per tumor line): per-stratum O₁ − E₁ and hypergeometric variances summed,
/// χ² = (Σ(O₁ − E₁))² / ΣV (Kalbfleisch & Prentice 2002, §7.2.3; as R's
/// `survdiff(Surv(t, e) ~ g + strata(s))`). A single stratum gives [`logrank`]. Errors when no
/// event occurred or no stratum has both groups at risk at an event time.
pub fn logrank_stratified(strata: &[StratumPair<'_>]) -> Result<StratifiedLogRank, TteError> {
    let (mut o1, mut e1, mut v, mut events, mut informative) = (0.0, 0.0, 0.0, 0.0, 0);
    for (g1, g2) in strata {
        let m = logrank_moments(g1, g2);
        o1 += m.observed1;
        e1 += m.expected1;
        events += m.observed1 + m.observed2;
        v += m.variance;
        informative += (m.variance > 0.0) as usize;
    }
    if events == 0.0 {
        return Err(TteError::NoEvents);
    }
    if v <= 0.0 {
        return Err(TteError::NoInformation(
            "no stratum has both groups at risk at an event time".into(),
        ));
    }
    let statistic = (o1 - e1) * (o1 - e1) / v;
    Ok(StratifiedLogRank {
        statistic,
        p_value: chi2_1_sf(statistic),
        observed1: o1,
        expected1: e1,
        variance: v,
        informative_strata: informative,
        reference: LogRankReference::ChiSquare,
    })
}

/// Most within-stratum relabellings drawn by [`logrank_stratified_permutation`] when there are
/// more than [`EXACT_LOGRANK_MAX_ASSIGNMENTS`]: p = (hits + 1)/(B + 1) is then within ±0.01
/// (2 SE at p = 0.05) of the exact one.
pub const STRATIFIED_LOGRANK_DRAWS: u64 = 1_999;

/// Sequential stop of the Monte Carlo p-value (Besag & Clifford 1991, Biometrika 78:301):
/// drawing stops at the `h`-th relabelling at least as extreme as the data, after L draws, with
/// p = h/L — still a valid p-value, and a clearly non-significant one costs ~h/p draws instead
/// of B (the panel power loop spent 95% of its time on them).
pub const STRATIFIED_LOGRANK_STOP_HITS: u64 = 20;

/// Stratified log-rank test with a permutation p-value: labels are permuted *within* each
/// stratum (e.g. each tumor line), which is exact under H₀ whatever the line effects.
///
/// Why: with a few mice per line the χ²(1) reference of [`logrank_stratified`] is
/// anti-conservative (3 lines × 2 mice: null rejection 0.067 at α = 0.05 on PDXpower's
/// log-normal example). The statistic is T = Σₛ Σ_{i ∈ group 1 of s} aᵢ with the logrank
/// scores aᵢ of [`logrank_scores`] computed within stratum s (T = Σ(O₁ − E₁)); the p-value is
/// the share of relabellings with |T| ≥ |T_obs| — R's coin `independence_test(Surv(t, e) ~ g |
/// line)` with logrank scores computed per line (`trafo(..., block = line)`; Hothorn et al.
/// 2006; coin's `logrank_test(... | line)` scores the pooled data, a different statistic),
/// checked against coin and a brute-force enumeration in
/// tests/fixtures/analysis/make_stratified_logrank_r.R. All Π C(Nₛ, n₁ₛ) relabellings are
/// enumerated when there are at most [`EXACT_LOGRANK_MAX_ASSIGNMENTS`]; otherwise
/// up to [`STRATIFIED_LOGRANK_DRAWS`] are drawn from a stream seeded by the data themselves (so
/// the p-value is a deterministic function of the data), with p = (hits + 1)/(B + 1) (Phipson &
/// Smyth 2010), or the sequential p of [`STRATIFIED_LOGRANK_STOP_HITS`]. χ², O − E and variance are those of [`logrank_stratified`].
pub fn logrank_stratified_permutation(
    strata: &[StratumPair<'_>],
) -> Result<StratifiedLogRank, TteError> {
    let mut r = logrank_stratified(strata)?;
    let mut blocks: Vec<(Vec<f64>, usize)> = Vec::with_capacity(strata.len());
    let (mut observed, mut total) = (0.0, 1u64);
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for (g1, g2) in strata {
        let finite = |p: &&(f64, bool)| p.0.is_finite();
        let pooled: Vec<(f64, bool)> = g1
            .iter()
            .filter(finite)
            .chain(g2.iter().filter(finite))
            .copied()
            .collect();
        let n1 = g1.iter().filter(finite).count();
        for &(t, e) in &pooled {
            // FNV-1a over the data: the Monte Carlo stream is a function of the data alone.
            for w in [t.to_bits(), e as u64] {
                hash = (hash ^ w).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        if n1 == 0 || n1 == pooled.len() {
            continue; // one group only: its score sum is constant (0 or Σaᵢ = 0)
        }
        let a = logrank_scores(&pooled);
        observed += a[..n1].iter().sum::<f64>();
        total = total.saturating_mul(binomial(pooled.len(), n1));
        blocks.push((a, n1));
    }
    let observed = observed.abs();
    // Scores are sums of fractions: relabellings with the observed statistic count as ties.
    let tol = 1e-9 * (1.0 + observed);
    if total <= EXACT_LOGRANK_MAX_ASSIGNMENTS {
        let mut sums = vec![0.0];
        for (a, n1) in &blocks {
            let block = combination_sums(a, *n1);
            sums = sums
                .iter()
                .flat_map(|s| block.iter().map(move |b| s + b))
                .collect();
        }
        let hits = sums.iter().filter(|s| s.abs() >= observed - tol).count();
        r.p_value = hits as f64 / sums.len() as f64;
        r.reference = LogRankReference::Exact(sums.len() as u64);
        return Ok(r);
    }
    let mut rng = crate::rng::stream(hash, &[0x4c52]);
    let mut idx: Vec<Vec<usize>> = blocks.iter().map(|(a, _)| (0..a.len()).collect()).collect();
    let mut hits = 0u64;
    for draw in 1..=STRATIFIED_LOGRANK_DRAWS {
        let mut t = 0.0;
        for ((a, n1), ix) in blocks.iter().zip(&mut idx) {
            for i in 0..*n1 {
                let j = rng.random_range(i..ix.len());
                ix.swap(i, j);
                t += a[ix[i]];
            }
        }
        hits += (t.abs() >= observed - tol) as u64;
        if hits == STRATIFIED_LOGRANK_STOP_HITS {
            r.p_value = hits as f64 / draw as f64;
            r.reference = LogRankReference::Resampled(draw);
            return Ok(r);
        }
    }
    r.p_value = (hits + 1) as f64 / (STRATIFIED_LOGRANK_DRAWS + 1) as f64;
    r.reference = LogRankReference::Resampled(STRATIFIED_LOGRANK_DRAWS);
    Ok(r)
}

/// The score sum of every `k`-subset of `a` (C(|a|, k) values, lexicographic order).
fn combination_sums(a: &[f64], k: usize) -> Vec<f64> {
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(idx.iter().map(|&i| a[i]).sum());
        if !next_combination(&mut idx, a.len()) {
            return out;
        }
    }
}

/// Most label assignments [`logrank_exact`] enumerates (C(16, 8) = 12 870 fits: n ≤ 8 per arm).
pub const EXACT_LOGRANK_MAX_ASSIGNMENTS: u64 = 20_000;

/// Log-rank test with the exact permutation p-value when the groups are small.
///
/// At small n with visit-day ties the χ²(1) approximation is anti-conservative (null rejection
/// 0.062–0.065 at n = 5 per arm, issue 16). Conditional on the pooled data, every split of the
/// animals into groups of the observed sizes is equally likely under H₀ (equal censoring
/// distributions assumed), so the p-value is the share of the C(N, n₁) splits whose
/// |Σ logrank scores of group 1| = |O₁ − E₁| is at least the observed one; logrank scores
/// aᵢ = δᵢ − Σ_{tⱼ ≤ tᵢ} dⱼ/nⱼ on the pooled data (Peto & Peto 1972). This is the
/// exact log-rank test of R's coin (`logrank_test(..., distribution = "exact")`, Hothorn et al.
/// 2006; Heinze et al. 2003, Biometrics 59:1151), checked against it in
/// tests/fixtures/analysis/make_exact_logrank_r.R. Above [`EXACT_LOGRANK_MAX_ASSIGNMENTS`] splits
/// the χ² p-value of [`logrank`] is returned (`exact = false`).
pub fn logrank_exact(group1: &[(f64, bool)], group2: &[(f64, bool)]) -> LogRank {
    let mut asym = logrank(group1, group2);
    let g1: Vec<(f64, bool)> = group1.iter().copied().filter(|p| p.0.is_finite()).collect();
    let g2: Vec<(f64, bool)> = group2.iter().copied().filter(|p| p.0.is_finite()).collect();
    let (n1, n) = (g1.len(), g1.len() + g2.len());
    if !asym.statistic.is_finite() || n > 63 || binomial(n, n1) > EXACT_LOGRANK_MAX_ASSIGNMENTS {
        return asym;
    }
    let pooled: Vec<(f64, bool)> = g1.iter().chain(&g2).copied().collect();
    let a = logrank_scores(&pooled);
    let observed: f64 = a[..n1].iter().sum::<f64>().abs();
    // Scores are sums of fractions: compare with a relative tolerance so that splits with the
    // same statistic as the observed one (ties) count as "at least as extreme".
    let tol = 1e-9 * (1.0 + observed);
    // Splits are enumerated over the distinct score values (tied times share a score), each
    // choice of counts weighted by the number of splits it stands for: the same count of
    // splits as listing every subset, far fewer steps when visit days tie.
    let mut sorted = a.clone();
    sorted.sort_by(f64::total_cmp);
    let mut groups: Vec<(f64, usize)> = Vec::new();
    for v in sorted {
        match groups.last_mut() {
            Some(g) if g.0 == v => g.1 += 1,
            _ => groups.push((v, 1)),
        }
    }
    let mut hits = 0u64;
    let mut split = SplitCount {
        groups: &groups,
        threshold: observed - tol,
        hits: &mut hits,
    };
    split.visit(0, n1, n, 0.0, 1);
    let total = binomial(n, n1);
    asym.p_value = hits as f64 / total as f64;
    asym.exact = true;
    asym
}

/// Depth-first count of the splits of grouped scores whose |score sum| reaches a threshold.
struct SplitCount<'a> {
    /// Distinct score values and how many animals have each.
    groups: &'a [(f64, usize)],
    /// |Σ scores| at or above this counts as at least as extreme as observed.
    threshold: f64,
    /// Splits (weighted) reaching the threshold.
    hits: &'a mut u64,
}

impl SplitCount<'_> {
    /// Chooses how many of group `j`'s animals join group 1 (`k` still to place, `left`
    /// animals in groups `j..`), `weight` the number of splits the choices so far stand for.
    fn visit(&mut self, j: usize, k: usize, left: usize, sum: f64, weight: u64) {
        let Some(&(v, m)) = self.groups.get(j) else {
            if k == 0 && sum.abs() >= self.threshold {
                *self.hits += weight;
            }
            return;
        };
        let rest = left - m;
        for c in k.saturating_sub(rest)..=k.min(m) {
            self.visit(
                j + 1,
                k - c,
                rest,
                sum + c as f64 * v,
                weight * binomial(m, c),
            );
        }
    }
}

/// Logrank scores δᵢ − Ĥ(tᵢ) of pooled `(time, event)` pairs, Ĥ the Nelson–Aalen cumulative
/// hazard including the events tied at tᵢ (the scores sum to 0).
fn logrank_scores(pooled: &[(f64, bool)]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&x, &y| pooled[x].0.total_cmp(&pooled[y].0));
    let mut a = vec![0.0; pooled.len()];
    let (mut at_risk, mut h, mut i) = (pooled.len(), 0.0, 0);
    while i < order.len() {
        let t = pooled[order[i]].0;
        let mut j = i;
        while j < order.len() && pooled[order[j]].0 == t {
            j += 1;
        }
        let d = order[i..j].iter().filter(|&&k| pooled[k].1).count();
        h += d as f64 / at_risk as f64;
        for &k in &order[i..j] {
            a[k] = pooled[k].1 as u8 as f64 - h;
        }
        at_risk -= j - i;
        i = j;
    }
    a
}

/// C(n, k), saturating at `u64::MAX`.
pub(super) fn binomial(n: usize, k: usize) -> u64 {
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c * (n - i) as u128 / (i + 1) as u128;
        if c > u64::MAX as u128 {
            return u64::MAX;
        }
    }
    c as u64
}

/// Advances `idx` (strictly increasing indices < n) to the next k-combination in lexicographic
/// order; false after the last one.
fn next_combination(idx: &mut [usize], n: usize) -> bool {
    let k = idx.len();
    let Some(i) = (0..k).rev().find(|&i| idx[i] < n - k + i) else {
        return false;
    };
    idx[i] += 1;
    for j in i + 1..k {
        idx[j] = idx[j - 1] + 1;
    }
    true
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
    fn exact_logrank_counts_every_split() {
        // 3 vs 3, all events, distinct times: |O1 - E1| is largest for the two extreme splits,
        // so the completely separated groups give p = 2 / C(6, 3) = 0.1.
        let g1 = [(1.0, true), (2.0, true), (3.0, true)];
        let g2 = [(4.0, true), (5.0, true), (6.0, true)];
        let r = logrank_exact(&g1, &g2);
        assert!(r.exact);
        assert!((r.p_value - 0.1).abs() < 1e-12, "{}", r.p_value);
        assert!(r.p_value > logrank(&g1, &g2).p_value);
        let s = logrank_scores(&[(1.0, true), (2.0, false), (2.0, true), (3.0, true)]);
        assert!(s.iter().sum::<f64>().abs() < 1e-12);
    }

    #[test]
    fn grouped_enumeration_equals_listing_every_split() {
        // Brute force over every subset, as the test was first written, on tied data.
        let brute = |g1: &[(f64, bool)], g2: &[(f64, bool)]| {
            let pooled: Vec<(f64, bool)> = g1.iter().chain(g2).copied().collect();
            let a = logrank_scores(&pooled);
            let obs = a[..g1.len()].iter().sum::<f64>().abs();
            let tol = 1e-9 * (1.0 + obs);
            let sums = combination_sums(&a, g1.len());
            let hits = sums.iter().filter(|t| t.abs() >= obs - tol).count();
            hits as f64 / sums.len() as f64
        };
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for case in 0..200 {
            let (n1, n2) = (1 + case % 7, 1 + (case / 7) % 8);
            let mut draw = |n: usize| -> Vec<(f64, bool)> {
                (0..n)
                    .map(|_| ((3 + next() % 6) as f64, next() % 3 != 0))
                    .collect()
            };
            let (g1, g2) = (draw(n1), draw(n2));
            let r = logrank_exact(&g1, &g2);
            if r.exact {
                assert_eq!(r.p_value, brute(&g1, &g2), "case {case}: {g1:?} {g2:?}");
            }
        }
    }

    #[test]
    fn logrank_without_events_is_nan() {
        let r = logrank(&[(5.0, false)], &[(5.0, false)]);
        assert!(r.p_value.is_nan());
    }
}
