//! `fit`: growth-model parameters, between-animal variability and residual error from pilot
//! tumour-volume data, for pasting into a protocol.
//!
//! # Method
//! Every model is fitted on ln(volume) with a log-normal (proportional) residual error, the
//! error model of the simulator's `LogVolume` calipers.
//!
//! **Two-stage with global-two-stage (GTS) EM** (all models; the default for Gompertz and
//! logistic):
//! 1. *First stage* ([`curves`]): each animal is fitted by Levenberg–Marquardt ([`lm`]) on
//!    ln V, with readings at or below the detection floor entering through their censored
//!    likelihood Φ((ln L − μ)/σ) (Beal's M3), for a residual SD σ pooled over animals
//!    (σ² = Σ RSS / Σ (nᵢ − p) over readings above the floor; iterated with the fits when
//!    some readings are censored). Per-animal parameters are log-scale
//!    (ln V0, ln r, ln K; exponential: ln V0 and r), so their population distribution is the
//!    log-normal random effect of the protocol (`value·exp(η)`), while the exponential rate
//!    has an additive normal effect (the random slope of the LMM on ln V).
//! 2. *Second stage* ([`population`]): mean and covariance of the per-animal parameters,
//!    started from the standard two-stage moments with the mean squared SE subtracted from
//!    the between-animal variance, then refined by the GTS EM, which weights each animal by
//!    its own information and so handles animals that left early (few readings, possibly a
//!    parameter they do not identify) without a negative variance.
//!
//! *Why two-stage and not FOCE/Laplace:* pilot arms have 8–40 animals with 6–15 readings
//! each, which is the regime where two-stage estimates with an estimation-error correction
//! are close to NLME ones (Davidian & Giltinan 1995, §5.3; Sheiner & Beal 1981 found STS
//! biased mainly with sparse data), and it needs no numerical integration over random
//! effects; the bootstrap gives honest intervals for it. The price: animals with only 2–3
//! readings inform the population less than they would in a full NLME.
//!
//! **Uncertainty**: nonparametric bootstrap over animals (the unit of replication), seeded
//! with `xenoplan::rng::stream(seed, [b])` for resample b; each resample reruns the second
//! stage and the pooled σ on the resampled animals' first-stage fits (those depend only on
//! their own animal). Intervals are BCa (Efron & Tibshirani 1993, §14.3); SEs are the SD of
//! the bootstrap replicates.
//!
//! # Data
//! [`read`] accepts the tidy `animals.csv` layout and the wide `volumes_wide.csv` layout
//! (see there). Animals that left early are used with the readings they have; readings of 0
//! (not palpable) or at or below `detection_floor_mm3` are left-censored.

pub mod curves;
pub mod fragment;
pub mod lm;
pub mod mixed;
pub mod plots;
pub mod population;
pub mod read;

#[cfg(test)]
mod coverage;

pub use curves::{AnimalFit, AnimalSeries, Model};

use crate::analysis::Dataset;
use population::{Population, bca_interval, gts};

/// Population method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// REML LMM for the exponential model when no reading is censored, two-stage otherwise.
    Auto,
    /// Two-stage (per-animal fits with censored likelihood, then global two-stage EM).
    TwoStage,
    /// REML linear mixed model on ln V (exponential model, no censored readings).
    Lmm,
}
use std::collections::BTreeSet;

/// Errors of a fit (bad selection or data that cannot support the model).
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// `--arm` names an arm that is not in the data.
    #[error("no arm named `{arm}` in the data (arms: {available})")]
    UnknownArm {
        /// Requested arm.
        arm: String,
        /// Arms present.
        available: String,
    },
    /// `--cohort` names a cohort that is not in the data.
    #[error("no cohort named `{cohort}` in the data (cohorts: {available})")]
    UnknownCohort {
        /// Requested cohort.
        cohort: String,
        /// Cohorts present.
        available: String,
    },
    /// Several arms and none chosen: pooling treated and control animals would be wrong.
    #[error("the data has several arms ({available}); choose the one to fit with --arm")]
    ArmNeeded {
        /// Arms present.
        available: String,
    },
    /// Several cohorts and none chosen.
    #[error("the data has several cohorts ({available}); choose one with --cohort")]
    CohortNeeded {
        /// Cohorts present.
        available: String,
    },
    /// Not enough usable animals.
    #[error(
        "only {usable} animal(s) could be fitted ({detail}); at least 3 are needed to estimate between-animal variability"
    )]
    TooFewAnimals {
        /// Animals with a first-stage fit.
        usable: usize,
        /// Why the others were dropped.
        detail: String,
    },
    /// Invalid option value.
    #[error("invalid option: {0}")]
    Option(String),
    /// The second stage failed numerically.
    #[error("the population fit did not converge ({0})")]
    NoConvergence(String),
}

/// Options of a fit.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Growth model.
    pub model: Model,
    /// Arm to fit (required when the data has several).
    pub arm: Option<String>,
    /// Cohort to fit (required when the data has several).
    pub cohort: Option<String>,
    /// Detection floor, mm³: readings at or below are left-censored. `None`: the smallest
    /// positive reading in the selected data when some readings are 0 (assumed; a tumour read
    /// as not palpable was smaller than every tumour that was read), else no censoring.
    pub detection_floor_mm3: Option<f64>,
    /// Bootstrap resamples (0 = no intervals).
    pub bootstrap_reps: usize,
    /// Seed of the bootstrap streams.
    pub seed: u64,
    /// Confidence level of the intervals.
    pub level: f64,
    /// Population method.
    pub method: Method,
}

impl FitOptions {
    /// Defaults: 1000 resamples (assumed; BCa endpoints need ~1000, Efron & Tibshirani 1993
    /// §19.3), seed 1, 95% intervals.
    pub fn new(model: Model) -> Self {
        FitOptions {
            model,
            arm: None,
            cohort: None,
            detection_floor_mm3: None,
            bootstrap_reps: 1000,
            seed: 1,
            level: 0.95,
            method: Method::Auto,
        }
    }
}

/// A point estimate with its bootstrap SE and confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Point estimate.
    pub value: f64,
    /// Bootstrap standard error (NaN without bootstrap).
    pub se: f64,
    /// Lower confidence limit.
    pub ci_low: f64,
    /// Upper confidence limit.
    pub ci_high: f64,
}

/// How a parameter varies between animals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariabilityKind {
    /// value·exp(η): reported as the CV sqrt(exp(ω²) − 1).
    LogNormalCv,
    /// value + η: reported as the SD ω.
    NormalSd,
}

/// One growth parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamEstimate {
    /// Field name in the protocol (`v0_mm3`, `rate`, `capacity_mm3`).
    pub name: &'static str,
    /// Unit for display.
    pub unit: &'static str,
    /// Typical value (median of a log-normal effect, mean of a normal one).
    pub typical: Estimate,
    /// Kind of between-animal variability.
    pub kind: VariabilityKind,
    /// CV or SD of the between-animal variability.
    pub variability: Estimate,
}

/// Everything a fit produces.
#[derive(Debug, Clone)]
pub struct FitResult {
    /// Model fitted.
    pub model: Model,
    /// Method description (for the fragment and the manifest).
    pub method: String,
    /// Parameters in model order.
    pub params: Vec<ParamEstimate>,
    /// SD of the residual error on ln V.
    pub residual_sd: Estimate,
    /// Correlation matrix of the random effects (on the φ scale).
    pub correlation: Vec<Vec<f64>>,
    /// Arm and cohort fitted (empty when the data has none).
    pub arm: String,
    /// Cohort fitted.
    pub cohort: String,
    /// Animals used.
    pub series: Vec<AnimalSeries>,
    /// Their first-stage fits.
    pub fits: Vec<AnimalFit>,
    /// Their individual (empirical-Bayes) parameters.
    pub individual: Vec<Vec<f64>>,
    /// Population mean of φ.
    pub mean_phi: Vec<f64>,
    /// Animals left out, with the reason.
    pub excluded: Vec<(String, String)>,
    /// Readings used (observed + censored).
    pub n_readings: usize,
    /// Readings treated as left-censored.
    pub n_censored: usize,
    /// Missing readings skipped.
    pub n_missing: usize,
    /// Detection floor used, mm³.
    pub floor_mm3: Option<f64>,
    /// Animals that left before the last study day of the data.
    pub n_left_early: usize,
    /// Bootstrap resamples used.
    pub bootstrap_reps: usize,
    /// Seed.
    pub seed: u64,
    /// Confidence level.
    pub level: f64,
}

/// Rows selected for a fit, grouped per animal.
struct Selected {
    series: Vec<AnimalSeries>,
    arm: String,
    cohort: String,
    n_missing: usize,
    floor: Option<f64>,
}

fn join_names(set: &BTreeSet<String>) -> String {
    set.iter()
        .map(|s| {
            if s.is_empty() {
                "(none)".to_string()
            } else {
                s.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn select(data: &Dataset, opts: &FitOptions) -> Result<Selected, FitError> {
    let cohorts: BTreeSet<String> = data.rows.iter().map(|r| r.cohort.clone()).collect();
    let cohort = match &opts.cohort {
        Some(c) if cohorts.contains(c) => c.clone(),
        Some(c) => {
            return Err(FitError::UnknownCohort {
                cohort: c.clone(),
                available: join_names(&cohorts),
            });
        }
        None if cohorts.len() > 1 => {
            return Err(FitError::CohortNeeded {
                available: join_names(&cohorts),
            });
        }
        None => cohorts.iter().next().cloned().unwrap_or_default(),
    };
    let arms: BTreeSet<String> = data
        .rows
        .iter()
        .filter(|r| r.cohort == cohort)
        .map(|r| r.arm.clone())
        .collect();
    let arm = match &opts.arm {
        Some(a) if arms.contains(a) => a.clone(),
        Some(a) => {
            return Err(FitError::UnknownArm {
                arm: a.clone(),
                available: join_names(&arms),
            });
        }
        None if arms.len() > 1 => {
            return Err(FitError::ArmNeeded {
                available: join_names(&arms),
            });
        }
        None => arms.iter().next().cloned().unwrap_or_default(),
    };
    let rows: Vec<_> = data
        .rows
        .iter()
        .filter(|r| r.cohort == cohort && r.arm == arm)
        .collect();
    let volume = |r: &crate::analysis::Observation| -> Option<f64> {
        // NCI convention V = L·W²/2 (DOMAIN.md) when only diameters are given.
        r.volume_mm3
            .or(r.length_mm.zip(r.width_mm).map(|(l, w)| 0.5 * l * w * w))
    };
    let floor = match opts.detection_floor_mm3 {
        Some(f) if f.is_finite() && f > 0.0 => Some(f),
        Some(f) => {
            return Err(FitError::Option(format!(
                "--detection-floor must be > 0 mm³, got {f}"
            )));
        }
        None => {
            let vols: Vec<f64> = rows.iter().filter_map(|r| volume(r)).collect();
            if vols.iter().any(|v| *v <= 0.0) {
                vols.iter()
                    .copied()
                    .filter(|v| *v > 0.0)
                    .min_by(f64::total_cmp)
            } else {
                None
            }
        }
    };
    let mut order: Vec<String> = Vec::new();
    let mut by_animal: std::collections::HashMap<String, Vec<(f64, Option<f64>)>> =
        Default::default();
    for r in &rows {
        if !by_animal.contains_key(&r.animal_id) {
            order.push(r.animal_id.clone());
        }
        by_animal
            .entry(r.animal_id.clone())
            .or_default()
            .push((r.day, volume(r)));
    }
    let mut n_missing = 0;
    let mut series = Vec::new();
    for id in order {
        let mut obs = by_animal.remove(&id).unwrap_or_default();
        obs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut s = AnimalSeries {
            id,
            arm: arm.clone(),
            days: Vec::new(),
            ln_v: Vec::new(),
            censored: Vec::new(),
        };
        for (day, v) in obs {
            match v {
                Some(v) if v.is_finite() && v >= 0.0 && day.is_finite() => {
                    let cens = v <= 0.0 || floor.is_some_and(|f| v <= f);
                    if cens {
                        // A 0 with no floor at all cannot happen: a 0 sets the floor above.
                        let Some(f) = floor else { continue };
                        s.ln_v.push(f.ln());
                    } else {
                        s.ln_v.push(v.ln());
                    }
                    s.days.push(day);
                    s.censored.push(cens);
                }
                _ => n_missing += 1,
            }
        }
        series.push(s);
    }
    Ok(Selected {
        series,
        arm,
        cohort,
        n_missing,
        floor,
    })
}

/// First stage for all animals at σ; returns (fits, kept series, excluded).
fn first_stage(
    model: Model,
    series: &[AnimalSeries],
    sigma: f64,
) -> (Vec<AnimalFit>, Vec<AnimalSeries>, Vec<(String, String)>) {
    let mut fits = Vec::new();
    let mut kept = Vec::new();
    let mut excluded = Vec::new();
    for s in series {
        if s.days.len() < 2 {
            excluded.push((
                s.id.clone(),
                format!("{} reading(s); at least 2 are needed", s.days.len()),
            ));
            continue;
        }
        if s.n_observed() == 0 {
            excluded.push((
                s.id.clone(),
                "every reading at or below the detection floor".into(),
            ));
            continue;
        }
        match curves::fit_animal(model, s, sigma) {
            Some(f) => {
                fits.push(f);
                kept.push(s.clone());
            }
            None => excluded.push((s.id.clone(), "per-animal fit failed numerically".into())),
        }
    }
    (fits, kept, excluded)
}

/// Pooled residual SD over readings above the floor: sqrt(Σ RSSᵢ / Σ (nᵢ − p)), animals with
/// nᵢ ≤ p contributing nothing (their residuals are 0 by construction).
fn pooled_sigma(fits: &[&AnimalFit], p: usize) -> Option<f64> {
    let (rss, dof) = fits
        .iter()
        .filter(|f| f.n_observed > p)
        .fold((0.0, 0usize), |(r, d), f| (r + f.rss, d + f.n_observed - p));
    if dof == 0 {
        None
    } else {
        Some((rss / dof as f64).sqrt())
    }
}

/// The scalar statistics bootstrapped: per parameter (typical, variability), then σ.
fn statistics(model: Model, pop: &Population, sigma: f64) -> Vec<f64> {
    let mut out = Vec::new();
    for j in 0..model.n_params() {
        let (typ, var) = param_scale(model, j, pop.mean[j], pop.omega[j][j]);
        out.push(typ);
        out.push(var);
    }
    out.push(sigma);
    out
}

/// Converts (μⱼ, ωⱼ²) to (typical value, CV or SD) for parameter j.
fn param_scale(model: Model, j: usize, mu: f64, omega2: f64) -> (f64, f64) {
    // ω² at the EM floor means "no detectable variability": report exactly 0.
    let w2 = if omega2 <= 1.0001e-6 { 0.0 } else { omega2 };
    if model == Model::Exponential && j == 1 {
        (mu, w2.sqrt())
    } else {
        (mu.exp(), w2.exp_m1().sqrt())
    }
}

fn param_meta(model: Model, j: usize) -> (&'static str, &'static str, VariabilityKind) {
    match (model, j) {
        (_, 0) => ("v0_mm3", "mm³", VariabilityKind::LogNormalCv),
        (Model::Exponential, _) => ("rate", "1/day", VariabilityKind::NormalSd),
        (_, 1) => ("rate", "1/day", VariabilityKind::LogNormalCv),
        _ => ("capacity_mm3", "mm³", VariabilityKind::LogNormalCv),
    }
}

/// Fits `opts.model` to the selected animals of `data`.
pub fn fit(data: &Dataset, opts: &FitOptions) -> Result<FitResult, FitError> {
    if !(opts.level > 0.0 && opts.level < 1.0) {
        return Err(FitError::Option(format!(
            "confidence level must be in (0, 1), got {}",
            opts.level
        )));
    }
    let model = opts.model;
    let p = model.n_params();
    let sel = select(data, opts)?;
    // σ and the censored fits depend on each other; iterate to a fixed point. Without
    // censoring the point estimates do not depend on σ and this stops after two passes.
    let mut sigma = 0.1; // assumed starting value only (caliper CV ~10–15%, Jensen 2008)
    let (mut fits, mut kept, mut excluded) = first_stage(model, &sel.series, sigma);
    for _ in 0..30 {
        let refs: Vec<&AnimalFit> = fits.iter().collect();
        let Some(s_new) = pooled_sigma(&refs, p) else {
            break;
        };
        let done = (s_new - sigma).abs() <= 1e-6 * sigma;
        sigma = s_new.max(1e-6);
        (fits, kept, excluded) = first_stage(model, &sel.series, sigma);
        if done {
            break;
        }
    }
    if fits.len() < 3 {
        let detail = if excluded.is_empty() {
            "no animals in the selection".to_string()
        } else {
            excluded
                .iter()
                .map(|(a, r)| format!("{a}: {r}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Err(FitError::TooFewAnimals {
            usable: fits.len(),
            detail,
        });
    }
    let n_censored: usize = kept
        .iter()
        .map(|s| s.censored.iter().filter(|c| **c).count())
        .sum();
    let use_lmm = match opts.method {
        Method::Lmm | Method::Auto if model == Model::Exponential && n_censored == 0 => true,
        Method::Lmm => {
            return Err(FitError::Option(if model == Model::Exponential {
                format!(
                    "--method lmm cannot use the {n_censored} readings at or below the detection floor; use --method two-stage (censored likelihood)"
                )
            } else {
                "--method lmm is for the exponential model (linear on ln V)".to_string()
            }));
        }
        _ => false,
    };
    let engine = if use_lmm {
        Engine::Lmm { series: &kept }
    } else {
        Engine::TwoStage { fits: &fits }
    };
    let n = fits.len();
    let all: Vec<usize> = (0..n).collect();
    let full = engine.fit(model, &all, None).ok_or_else(|| {
        FitError::NoConvergence("singular between-animal covariance or failed REML".into())
    })?;
    let est = full.stats.clone();

    // Bootstrap over animals, and the jackknife for the BCa acceleration.
    let mut boot: Vec<Vec<f64>> = vec![Vec::with_capacity(opts.bootstrap_reps); est.len()];
    for b in 0..opts.bootstrap_reps {
        use rand::RngExt;
        let mut rng = crate::rng::stream(opts.seed, &[b as u64]);
        let idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        if let Some(r) = engine.fit(model, &idx, Some(&full)) {
            for (k, v) in r.stats.into_iter().enumerate() {
                boot[k].push(v);
            }
        }
    }
    let mut jack: Vec<Vec<f64>> = vec![Vec::with_capacity(n); est.len()];
    if opts.bootstrap_reps > 0 {
        for leave in 0..n {
            let idx: Vec<usize> = (0..n).filter(|i| *i != leave).collect();
            if let Some(r) = engine.fit(model, &idx, Some(&full)) {
                for (k, v) in r.stats.into_iter().enumerate() {
                    jack[k].push(v);
                }
            }
        }
    }
    let make = |k: usize| -> Estimate {
        let v = est[k];
        if boot[k].len() < 2 {
            return Estimate {
                value: v,
                se: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
            };
        }
        let m = boot[k].iter().sum::<f64>() / boot[k].len() as f64;
        let se = (boot[k].iter().map(|x| (x - m).powi(2)).sum::<f64>()
            / (boot[k].len() - 1) as f64)
            .sqrt();
        let (lo, hi) = bca_interval(v, &boot[k], &jack[k], opts.level);
        Estimate {
            value: v,
            se,
            ci_low: lo.min(v),
            ci_high: hi.max(v),
        }
    };
    let params = (0..p)
        .map(|j| {
            let (name, unit, kind) = param_meta(model, j);
            ParamEstimate {
                name,
                unit,
                typical: make(2 * j),
                kind,
                variability: make(2 * j + 1),
            }
        })
        .collect();
    let residual_sd = make(2 * p);
    let correlation = (0..p)
        .map(|a| {
            (0..p)
                .map(|b| full.omega[a][b] / (full.omega[a][a] * full.omega[b][b]).sqrt())
                .collect()
        })
        .collect();
    let last_day = kept
        .iter()
        .filter_map(|s| s.days.last())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let n_left_early = kept
        .iter()
        .filter(|s| s.days.last().is_some_and(|d| *d < last_day))
        .count();
    let n_readings = kept.iter().map(|s| s.days.len()).sum();
    Ok(FitResult {
        model,
        method: format!(
            "{}; {} bootstrap resamples of animals, BCa {:.0}% CIs",
            if use_lmm {
                "linear mixed model on ln V (random intercept and slope per animal, REML)"
            } else {
                "two-stage: per-animal Levenberg-Marquardt on ln V (censored likelihood below the floor), global two-stage EM for the population"
            },
            opts.bootstrap_reps,
            opts.level * 100.0
        ),
        params,
        residual_sd,
        correlation,
        arm: sel.arm,
        cohort: sel.cohort,
        series: kept,
        fits,
        individual: full.individual.clone(),
        mean_phi: full.mean.clone(),
        excluded,
        n_readings,
        n_censored,
        n_missing: sel.n_missing,
        floor_mm3: sel.floor,
        n_left_early,
        bootstrap_reps: opts.bootstrap_reps,
        seed: opts.seed,
        level: opts.level,
    })
}

/// Population estimates for a set of animals (indices, with repeats for bootstrap resamples).
struct PopFit {
    /// Bootstrapped statistics: (typical, variability) per parameter, then σ.
    stats: Vec<f64>,
    /// Mean of φ.
    mean: Vec<f64>,
    /// Between-animal covariance of φ.
    omega: Vec<Vec<f64>>,
    /// Individual φ (empirical Bayes / BLUP) per index.
    individual: Vec<Vec<f64>>,
    /// Relative covariance factor of the LMM (warm start of resamples; empty for two-stage).
    theta: Vec<f64>,
}

/// The population engine.
enum Engine<'a> {
    /// Global two-stage EM on the first-stage fits, σ pooled from their residuals.
    TwoStage { fits: &'a [AnimalFit] },
    /// REML linear mixed model (analysis::stats::lmm) on ln V, exponential model only.
    Lmm { series: &'a [AnimalSeries] },
}

impl Engine<'_> {
    fn fit(&self, model: Model, idx: &[usize], warm: Option<&PopFit>) -> Option<PopFit> {
        match self {
            Engine::TwoStage { fits } => {
                let phi: Vec<Vec<f64>> = idx.iter().map(|&i| fits[i].phi.clone()).collect();
                let prec: Vec<Vec<Vec<f64>>> =
                    idx.iter().map(|&i| fits[i].precision.clone()).collect();
                let pop = match warm {
                    Some(w) => gts(&phi, &prec, Some((&w.mean, &w.omega)), 1e-6, 1000)?,
                    None => gts(&phi, &prec, None, 1e-9, 5000)?,
                };
                let refs: Vec<&AnimalFit> = idx.iter().map(|&i| &fits[i]).collect();
                let sigma = pooled_sigma(&refs, model.n_params())?;
                Some(PopFit {
                    stats: statistics(model, &pop, sigma),
                    mean: pop.mean,
                    omega: pop.omega,
                    individual: pop.individual,
                    theta: Vec::new(),
                })
            }
            Engine::Lmm { series } => lmm_fit(series, idx, warm),
        }
    }
}

/// Exponential model as a linear mixed model (see [`mixed`]); the full-data fit is the
/// analysis module's `fit_reml`, resamples are warm-started from it.
fn lmm_fit(series: &[AnimalSeries], idx: &[usize], warm: Option<&PopFit>) -> Option<PopFit> {
    let sel: Vec<&AnimalSeries> = idx.iter().map(|&i| &series[i]).collect();
    let m = match warm {
        Some(w) => mixed::refit_from(&sel, &w.theta)?,
        None => mixed::fit(&sel)?,
    };
    let pop = Population {
        mean: m.beta.to_vec(),
        omega: m.omega(),
        individual: Vec::new(),
        iterations: 0,
    };
    Some(PopFit {
        stats: statistics(Model::Exponential, &pop, m.sigma2.sqrt()),
        mean: pop.mean.clone(),
        omega: pop.omega,
        individual: m.blups.iter().map(|b| b.to_vec()).collect(),
        theta: m.theta.clone(),
    })
}
