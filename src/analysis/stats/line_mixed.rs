//! Linear mixed model with one random intercept per line (cell line or PDX model),
//! y = Xβ + b_line + ε, b ~ N(0, τ²), ε ~ N(0, σ²), fitted by REML — the model of PDXpower's
//! `PowANOVA` (`nlme::lme(log(T) ~ Tx, random = ~1 | line)`).
//!
//! With γ = τ²/σ² the covariance of line g (n_g mice) is σ²(I + γJ), whose inverse is the
//! closed form (I − c_g J)/σ², c_g = γ/(1 + n_g γ), and |I + γJ| = 1 + n_g γ. So with the line
//! sums s_g = Σ x_i, t_g = Σ y_i precomputed once (O(N p)):
//!   XᵀV⁻¹X ∝ XᵀX − Σ_g c_g s_g s_gᵀ,  XᵀV⁻¹y ∝ Xᵀy − Σ_g c_g s_g t_g,  yᵀV⁻¹y ∝ yᵀy − Σ_g c_g t_g²,
//! and σ² is profiled out of the REML criterion (Pinheiro & Bates 2000, *Mixed-Effects Models
//! in S and S-PLUS*, §2.2.5):
//!   d(γ) = Σ_g log(1 + n_g γ) + log|XᵀV⁻¹X| + (N − p)·[1 + log(2π r²(γ)/(N − p))],
//! r² = yᵀV⁻¹y − β̂ᵀXᵀV⁻¹y. One evaluation is O(lines·p²) with no allocation; γ ≥ 0 is found
//! by a grid over log γ and golden-section refinement (a 1-D bounded problem, the boundary
//! γ = 0 included).
//!
//! Tests of fixed effects are Wald t tests with nlme's "containment" denominator degrees of
//! freedom (Pinheiro & Bates 2000, §2.4.2, eq. 2.41): a term that varies within lines
//! (e.g. treatment when each line has both arms) gets N − n_lines − p_within, a term constant
//! within every line gets n_lines − p_between, where the intercept counts among the between
//! terms but — as in `summary.lme` — is reported with the within-line df.

#![allow(clippy::needless_range_loop)] // dense matrix code reads best with explicit indices

use super::linalg::{chol_inverse, chol_logdet, chol_solve, cholesky_into};
use crate::numeric::dist::t_two_sided;

/// Errors of the line mixed-model fit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineMixedError {
    /// Slice lengths do not agree, or a line index is out of range.
    #[error("line mixed model: inconsistent input ({0})")]
    Dimensions(String),
    /// Too few observations or lines for the fixed effects and containment df.
    #[error(
        "line mixed model: {n} observations in {lines} lines leave no residual degrees of \
         freedom for {p} fixed effects; add mice or lines"
    )]
    TooFewObservations {
        /// Observations.
        n: usize,
        /// Lines.
        lines: usize,
        /// Fixed effects.
        p: usize,
    },
    /// XᵀX is singular (a fixed effect is not estimable).
    #[error("line mixed model: the fixed-effects design is rank deficient")]
    RankDeficient,
}

/// Sufficient statistics of a data set: global and per-line cross products.
#[derive(Debug, Clone)]
pub struct LineMixedData {
    p: usize,
    n: usize,
    xtx: Vec<f64>,
    xty: Vec<f64>,
    yty: f64,
    /// Per line: n_g.
    counts: Vec<f64>,
    /// Per line: Σ x (p values each), row-major lines×p.
    sx: Vec<f64>,
    /// Per line: Σ y.
    sy: Vec<f64>,
    /// Containment df of each fixed-effect column.
    df: Vec<f64>,
}

/// Scratch space of one evaluation (reused, so the optimiser never allocates).
#[derive(Debug, Clone)]
struct Work {
    a: Vec<f64>,
    l: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

/// A fitted line random-intercept model.
#[derive(Debug, Clone)]
pub struct LineMixedFit {
    /// Fixed-effect estimates β̂.
    pub beta: Vec<f64>,
    /// Standard errors of β̂.
    pub se: Vec<f64>,
    /// Covariance of β̂, p×p row-major.
    pub cov_beta: Vec<f64>,
    /// Containment denominator df of each fixed effect (nlme's rule).
    pub df: Vec<f64>,
    /// Residual variance σ̂².
    pub sigma2: f64,
    /// Between-line variance τ̂².
    pub tau2: f64,
    /// REML log-likelihood at the optimum (as `logLik(lme)`).
    pub reml_loglik: f64,
}

/// Wald t test of a contrast L'β.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineContrast {
    /// L'β̂.
    pub estimate: f64,
    /// Standard error √(L' Cov(β̂) L).
    pub se: f64,
    /// Denominator df: the smallest containment df among the columns L involves.
    pub df: f64,
    /// t statistic.
    pub statistic: f64,
    /// Two-sided p-value from t(df).
    pub p_value: f64,
}

impl LineMixedData {
    /// Builds the cross products. `x`: N×p row-major fixed-effects design; `y`: N responses;
    /// `line`: the line index (0..n_lines) of each observation.
    pub fn new(
        x: &[f64],
        y: &[f64],
        line: &[usize],
        n_lines: usize,
    ) -> Result<Self, LineMixedError> {
        let n = y.len();
        if n == 0 || line.len() != n || !x.len().is_multiple_of(n) {
            return Err(LineMixedError::Dimensions(format!(
                "{} responses, {} line labels, {} design entries",
                n,
                line.len(),
                x.len()
            )));
        }
        let p = x.len() / n;
        if let Some(&bad) = line.iter().find(|&&g| g >= n_lines) {
            return Err(LineMixedError::Dimensions(format!(
                "line index {bad} with {n_lines} lines"
            )));
        }
        let mut d = LineMixedData {
            p,
            n,
            xtx: vec![0.0; p * p],
            xty: vec![0.0; p],
            yty: 0.0,
            counts: vec![0.0; n_lines],
            sx: vec![0.0; n_lines * p],
            sy: vec![0.0; n_lines],
            df: vec![0.0; p],
        };
        for i in 0..n {
            let row = &x[i * p..(i + 1) * p];
            let g = line[i];
            for a in 0..p {
                for b in 0..p {
                    d.xtx[a * p + b] += row[a] * row[b];
                }
                d.xty[a] += row[a] * y[i];
                d.sx[g * p + a] += row[a];
            }
            d.yty += y[i] * y[i];
            d.counts[g] += 1.0;
            d.sy[g] += y[i];
        }
        // Lines without observations carry no information: drop them from the line count.
        let lines = d.counts.iter().filter(|&&c| c > 0.0).count();
        d.df = containment_df(x, line, n_lines, p, lines)?;
        let mut l = vec![0.0; p * p];
        if !cholesky_into(&d.xtx, p, &mut l) {
            return Err(LineMixedError::RankDeficient);
        }
        Ok(d)
    }

    fn work(&self) -> Work {
        Work {
            a: vec![0.0; self.p * self.p],
            l: vec![0.0; self.p * self.p],
            b: vec![0.0; self.p],
            c: vec![0.0; self.p],
        }
    }

    /// Fills XᵀV⁻¹X (into `w.a`, factor in `w.l`), β̂ (`w.b`); returns (log|XᵀV⁻¹X|, r²,
    /// Σ log(1+n_gγ)) in σ² units, or None when XᵀV⁻¹X is not positive definite.
    fn eval(&self, gamma: f64, w: &mut Work) -> Option<(f64, f64, f64)> {
        let p = self.p;
        w.a.copy_from_slice(&self.xtx);
        w.b.copy_from_slice(&self.xty);
        let mut yvy = self.yty;
        let mut logdet_v = 0.0;
        for (g, &ng) in self.counts.iter().enumerate() {
            if ng == 0.0 {
                continue;
            }
            let c = gamma / (1.0 + ng * gamma);
            logdet_v += (ng * gamma).ln_1p();
            let s = &self.sx[g * p..(g + 1) * p];
            let t = self.sy[g];
            for a in 0..p {
                for b in 0..p {
                    w.a[a * p + b] -= c * s[a] * s[b];
                }
                w.b[a] -= c * s[a] * t;
            }
            yvy -= c * t * t;
        }
        if !cholesky_into(&w.a, p, &mut w.l) {
            return None;
        }
        w.c.copy_from_slice(&w.b);
        chol_solve(&w.l, p, &mut w.b);
        let bxvy: f64 = w.b.iter().zip(&w.c).map(|(a, b)| a * b).sum();
        let r2 = yvy - bxvy;
        Some((chol_logdet(&w.l, p), r2.max(0.0), logdet_v))
    }
}

/// nlme's containment df of each column (module docs): a column constant within every line
/// is a between-line term (the intercept among them, reported with the within-line df as
/// `summary.lme` does); any other column is a within-line term.
fn containment_df(
    x: &[f64],
    line: &[usize],
    n_lines: usize,
    p: usize,
    lines: usize,
) -> Result<Vec<f64>, LineMixedError> {
    let n = line.len();
    let mut first = vec![f64::NAN; n_lines];
    let mut between = vec![true; p];
    let mut intercept = vec![true; p];
    for a in 0..p {
        first.iter_mut().for_each(|v| *v = f64::NAN);
        for i in 0..n {
            let v = x[i * p + a];
            let f = &mut first[line[i]];
            if f.is_nan() {
                *f = v;
            } else if *f != v {
                between[a] = false;
            }
            intercept[a] &= v == x[a];
        }
    }
    let p_between = between.iter().filter(|&&b| b).count();
    let p_within = p - p_between;
    let too_few = || LineMixedError::TooFewObservations { n, lines, p };
    let df_within = n as f64 - lines as f64 - p_within as f64;
    let df_between = lines as f64 - p_between as f64;
    if df_within < 1.0 {
        return Err(too_few());
    }
    let has_between_term = (0..p).any(|a| between[a] && !intercept[a]);
    if has_between_term && df_between < 1.0 {
        return Err(too_few());
    }
    Ok((0..p)
        .map(|a| {
            if between[a] && !intercept[a] {
                df_between
            } else {
                df_within
            }
        })
        .collect())
}

impl LineMixedData {
    /// Profiled REML deviance d(γ) (module docs); +∞ where XᵀV⁻¹X is not positive definite.
    fn deviance(&self, gamma: f64, w: &mut Work) -> f64 {
        let nmp = (self.n - self.p) as f64;
        match self.eval(gamma, w) {
            Some((logdet_a, r2, logdet_v)) if r2 > 0.0 => {
                logdet_v + logdet_a + nmp * (1.0 + (2.0 * std::f64::consts::PI * r2 / nmp).ln())
            }
            _ => f64::INFINITY,
        }
    }

    /// The REML optimum γ̂ ≥ 0: the best of γ = 0 and a grid over log γ ∈ [−18, 12], then
    /// golden-section refinement in the bracket around it (in γ itself next to the boundary).
    fn optimum(&self, w: &mut Work) -> f64 {
        const LO: f64 = -18.0;
        const HI: f64 = 12.0;
        const STEPS: usize = 60;
        let at = |k: usize| (LO + (HI - LO) * k as f64 / STEPS as f64).exp();
        let mut best = (f64::INFINITY, usize::MAX); // (deviance, grid index; MAX = γ = 0)
        let d0 = self.deviance(0.0, w);
        if d0.is_finite() {
            best = (d0, usize::MAX);
        }
        for k in 0..=STEPS {
            let d = self.deviance(at(k), w);
            if d < best.0 {
                best = (d, k);
            }
        }
        let (lo, hi, log_scale) = match best.1 {
            usize::MAX | 0 => (0.0, at(1), false),
            k if k == STEPS => (HI - (HI - LO) / STEPS as f64, HI, true),
            k => (at(k - 1).ln(), at(k + 1).ln(), true),
        };
        let map = |u: f64| if log_scale { u.exp() } else { u };
        let g = crate::numeric::optim::golden_section(|u| self.deviance(map(u), w), lo, hi);
        let cand = map(g);
        // Keep the boundary if refinement did not beat it.
        if d0 <= self.deviance(cand, w) {
            0.0
        } else {
            cand
        }
    }
}

/// Fits y = Xβ + b_line + ε by REML (module docs). `x`: N×p row-major; `line`: the line index
/// (0..`n_lines`) of each row.
pub fn fit_line_mixed(
    x: &[f64],
    y: &[f64],
    line: &[usize],
    n_lines: usize,
) -> Result<LineMixedFit, LineMixedError> {
    let data = LineMixedData::new(x, y, line, n_lines)?;
    data.fit()
}

impl LineMixedData {
    /// Fits the model to these statistics.
    pub fn fit(&self) -> Result<LineMixedFit, LineMixedError> {
        let p = self.p;
        let mut w = self.work();
        let gamma = self.optimum(&mut w);
        let dev = self.deviance(gamma, &mut w);
        let (_, r2, _) = self
            .eval(gamma, &mut w)
            .ok_or(LineMixedError::RankDeficient)?;
        let sigma2 = r2 / (self.n - p) as f64;
        let cov_beta: Vec<f64> = chol_inverse(&w.l, p)
            .into_iter()
            .map(|v| v * sigma2)
            .collect();
        Ok(LineMixedFit {
            beta: w.b.clone(),
            se: (0..p).map(|i| cov_beta[i * p + i].sqrt()).collect(),
            cov_beta,
            df: self.df.clone(),
            sigma2,
            tau2: gamma * sigma2,
            reml_loglik: -0.5 * dev,
        })
    }
}

impl LineMixedFit {
    /// Wald t test of L'β (`l` of length p) with the containment df of the columns it uses.
    pub fn contrast(&self, l: &[f64]) -> LineContrast {
        let p = self.beta.len();
        let estimate: f64 = l.iter().zip(&self.beta).map(|(a, b)| a * b).sum();
        let mut var = 0.0;
        for a in 0..p {
            for b in 0..p {
                var += l[a] * self.cov_beta[a * p + b] * l[b];
            }
        }
        let df = (0..p)
            .filter(|&a| l[a] != 0.0)
            .map(|a| self.df[a])
            .fold(f64::INFINITY, f64::min);
        let se = var.sqrt();
        let statistic = estimate / se;
        LineContrast {
            estimate,
            se,
            df,
            statistic,
            p_value: t_two_sided(statistic, df),
        }
    }
}

#[cfg(test)]
mod tests;
