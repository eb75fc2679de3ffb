//! `fit`: growth-model parameters, between-animal variability and residual error from pilot
//! tumour-volume data, for pasting into a protocol.
//!
//! # Method
//! Every model is fitted on ln(volume) with a log-normal (proportional) residual error, the
//! error model of the simulator's `LogVolume` calipers.
//!
//! **Iterative two-stage (ITS)** (all models; the default for Gompertz and logistic): an
//! approximate nonlinear mixed-effects fit.
//! 1. *Per-animal fits* ([`curves`]): each animal is fitted by Levenberg–Marquardt ([`lm`]) on
//!    ln V, with readings at or below the detection floor entering through their censored
//!    likelihood Φ((ln L − μ)/σ) (Beal's M3), for a residual SD σ pooled over animals.
//!    Per-animal parameters are log-scale (ln V0, ln r, ln K; exponential: ln V0 and r), so
//!    their population distribution is the log-normal random effect of the protocol
//!    (`value·exp(η)`), while the exponential rate has an additive normal effect (the random
//!    slope of the LMM on ln V). These fits only start the population step: the global
//!    two-stage EM ([`population`]) gives the first μ, Ω.
//! 2. *Population EM* ([`its`]): every animal is refitted under the current population prior
//!    N(μ, Ω) (its conditional mode), its posterior mean and covariance are taken by adaptive
//!    Gauss–Hermite quadrature around that mode, and μ, Ω and σ are updated from them, until
//!    a fixed point (SQUAREM-accelerated). An animal that left early, or whose data do not
//!    identify a parameter, takes that parameter from the population instead of from an
//!    unconstrained fit.
//!
//! *Why this and not the plain two-stage or FOCE:* the plain (global) two-stage weights each
//! animal's unconstrained estimate by its local precision, which biased the logistic plateau
//! by −25% in the round-trip test (precision and estimate are correlated when K is weakly
//! identified); a mode-based (FOCE-like, Lindstrom & Bates 1990) E-step left −4%; posterior
//! means by quadrature leave −1 to −2% (mean −0.3%). It needs a few dozen per-animal refits
//! and 3ᵖ density evaluations per animal and iteration — cheap enough for a 1000-resample
//! bootstrap — and pilot arms of 8–40 animals with 6–15 readings each are the regime it was
//! checked in (`tests/coverage.rs`).
//!
//! **Uncertainty**: parametric bootstrap by default (`Bootstrap::Parametric`, as lme4's
//! `bootMer`): each resample simulates every animal anew from the fitted μ, Ω, σ on that
//! animal's own reading days (so with the same early exits and the same detection floor) and
//! refits it with the full estimator, warm-started. `Bootstrap::Animals` resamples animals
//! instead; with 24 animals it under-covers the variability parameters (85–89% for nominal
//! 95% in the first round-trip table), which is why it is not the default. Resample b uses
//! `xenoplan::rng::stream(seed, [b])`, so results do not depend on the thread count.
//! Intervals are BCa (Efron & Tibshirani 1993, §14.3, acceleration from the jackknife over
//! animals); SEs are the SD of the bootstrap replicates. Round-trip coverage: `tests/coverage.rs`.
//!
//! # Data
//! [`read`] accepts the tidy `animals.csv` layout and the wide `volumes_wide.csv` layout
//! (see there). Animals that left early are used with the readings they have; readings of 0
//! (not palpable) or at or below `detection_floor_mm3` are left-censored.

pub mod curves;
pub mod effects;
pub mod fragment;
pub mod its;
pub mod lm;
pub mod mixed;
pub mod plots;
pub mod population;
pub mod read;

#[cfg(test)]
mod tests;

/// Test data shared by the fit modules' unit tests.
#[cfg(test)]
pub(crate) mod testdata {
    use super::AnimalSeries;
    use rand_distr::{Distribution, StandardNormal};

    /// `n` exponential animals: ln V = a + r·t + ε with a ~ N(5, 0.2²), r ~ N(0.1, 0.02²),
    /// ε ~ N(0, noise²), read every 3.5 days, animal i with `min + i % spread` readings
    /// (early exits).
    pub fn linear_animals(
        n: usize,
        seed: u64,
        noise: f64,
        min: usize,
        spread: usize,
    ) -> Vec<AnimalSeries> {
        let mut rng = crate::rng::stream(seed, &[]);
        let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
        (0..n)
            .map(|a| {
                let (v0, r) = (5.0 + 0.2 * z(), 0.1 + 0.02 * z());
                let days: Vec<f64> = (0..(min + a % spread)).map(|k| k as f64 * 3.5).collect();
                let ln_v = days.iter().map(|t| v0 + r * t + noise * z()).collect();
                AnimalSeries {
                    id: format!("a{a}"),
                    arm: "v".into(),
                    censored: vec![false; days.len()],
                    days,
                    ln_v,
                }
            })
            .collect()
    }
}

pub use curves::{AnimalFit, AnimalSeries, Model};

use crate::data::Dataset;
use its::ItsState;
use population::{bca_interval, gts};

/// Population method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// REML LMM for the exponential model when no reading is censored, iterative two-stage
    /// otherwise.
    Auto,
    /// Iterative two-stage (per-animal conditional modes under the population prior, with
    /// censored likelihood; see the module docs).
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
    /// How bootstrap data sets are drawn.
    pub bootstrap: Bootstrap,
}

/// How bootstrap data sets are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrap {
    /// Simulate new animals from the fitted model on each animal's own reading days (the
    /// default: lme4's `bootMer`/`confint(method = "boot")` default; it keeps the
    /// small-sample distribution of the variance estimates, which resampling 10–30 animals
    /// understates).
    Parametric,
    /// Resample animals with replacement (robust to a wrong random-effect distribution, but
    /// its variance intervals are too narrow with few animals).
    Animals,
}

impl Bootstrap {
    /// Name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Bootstrap::Parametric => "parametric",
            Bootstrap::Animals => "animals",
        }
    }
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
            bootstrap: Bootstrap::Parametric,
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
    /// How they were drawn.
    pub bootstrap: Bootstrap,
    /// Resamples whose refit failed (left out of the intervals).
    pub bootstrap_failed: usize,
    /// EM iterations of the full-data ITS fit (0 for the LMM).
    pub iterations: usize,
    /// Caveats the user must see (poorly identified plateau, unconverged EM, failed
    /// resamples), in plain sentences.
    pub warnings: Vec<String>,
    /// Seed.
    pub seed: u64,
    /// Confidence level.
    pub level: f64,
    /// Bootstrap replicates of the statistics (per parameter typical, variability, then
    /// σ), one entry per successful resample, aligned across statistics.
    pub boot: Vec<Vec<f64>>,
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
    let volume = |r: &crate::data::Observation| -> Option<f64> {
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
    let stage = converged_first_stage(model, &sel.series);
    if stage.fits.len() < 3 {
        return Err(too_few_animals(&stage));
    }
    let FirstStage {
        sigma,
        fits,
        kept,
        excluded,
    } = stage;
    let n_censored: usize = kept
        .iter()
        .map(|s| s.censored.iter().filter(|c| **c).count())
        .sum();
    let engine = choose_engine(opts, n_censored)?;
    let use_lmm = matches!(engine, Engine::Lmm);
    let full = full_fit(engine, model, &fits, &kept, sigma)?;
    let cx = FitCx {
        model,
        engine,
        kept: &kept,
        full: &full,
        opts,
        floor: sel.floor,
    };
    let (boot, bootstrap_failed) = bootstrap(&cx);
    let ci = Intervals {
        est: full.stats(model),
        jack: jackknife(&cx),
        boot: &boot,
        level: opts.level,
        n: fits.len(),
    };
    let n_readings = kept.iter().map(|s| s.days.len()).sum();
    let warnings = fit_warnings(model, &kept, &full, opts.bootstrap_reps, bootstrap_failed);
    Ok(FitResult {
        model,
        method: method_text(use_lmm, opts),
        params: ci.params(model),
        residual_sd: ci.estimate(2 * p),
        correlation: correlation(&full.omega, p),
        arm: sel.arm,
        cohort: sel.cohort,
        n_left_early: left_early(&kept),
        series: kept,
        fits,
        individual: full.individual.clone(),
        mean_phi: full.mean.clone(),
        excluded,
        n_readings,
        n_censored,
        n_missing: sel.n_missing,
        floor_mm3: sel.floor,
        bootstrap_reps: opts.bootstrap_reps,
        bootstrap: opts.bootstrap,
        bootstrap_failed,
        iterations: full.iterations,
        warnings,
        seed: opts.seed,
        level: opts.level,
        boot,
    })
}

/// The first stage at its fixed point in σ: fits, kept series and exclusions at `sigma`.
struct FirstStage {
    sigma: f64,
    fits: Vec<AnimalFit>,
    kept: Vec<AnimalSeries>,
    excluded: Vec<(String, String)>,
}

/// Per-animal fits with the pooled residual SD they imply.
fn converged_first_stage(model: Model, series: &[AnimalSeries]) -> FirstStage {
    let p = model.n_params();
    // σ and the censored fits depend on each other; iterate to a fixed point. Without
    // censoring the point estimates do not depend on σ and this stops after two passes.
    let mut sigma = 0.1; // assumed starting value only (caliper CV ~10–15%, Jensen 2008)
    let (mut fits, mut kept, mut excluded) = first_stage(model, series, sigma);
    for _ in 0..30 {
        let refs: Vec<&AnimalFit> = fits.iter().collect();
        let Some(s_new) = pooled_sigma(&refs, p) else {
            break;
        };
        let done = (s_new - sigma).abs() <= 1e-6 * sigma;
        sigma = s_new.max(1e-6);
        (fits, kept, excluded) = first_stage(model, series, sigma);
        if done {
            break;
        }
    }
    FirstStage {
        sigma,
        fits,
        kept,
        excluded,
    }
}

/// The error for fewer than 3 usable animals, with every exclusion and its reason.
fn too_few_animals(stage: &FirstStage) -> FitError {
    let detail = if stage.excluded.is_empty() {
        "no animals in the selection".to_string()
    } else {
        stage
            .excluded
            .iter()
            .map(|(a, r)| format!("{a}: {r}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    FitError::TooFewAnimals {
        usable: stage.fits.len(),
        detail,
    }
}

/// The population engine of `opts.method`: the LMM for the exponential model without
/// censored readings (`auto` or `lmm`), else ITS; `lmm` where it cannot apply is an error.
fn choose_engine(opts: &FitOptions, n_censored: usize) -> Result<Engine, FitError> {
    let model = opts.model;
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
    Ok(if use_lmm { Engine::Lmm } else { Engine::Its })
}

/// The full-data population fit; ITS starts from the global two-stage estimate on the
/// first-stage fits.
fn full_fit(
    engine: Engine,
    model: Model,
    fits: &[AnimalFit],
    kept: &[AnimalSeries],
    sigma: f64,
) -> Result<PopFit, FitError> {
    let refs: Vec<&AnimalSeries> = kept.iter().collect();
    match engine {
        Engine::Lmm => mixed::fit(&refs).map(PopFit::from_mixed),
        Engine::Its => {
            let phi: Vec<Vec<f64>> = fits.iter().map(|f| f.phi.clone()).collect();
            let prec: Vec<Vec<Vec<f64>>> = fits.iter().map(|f| f.precision.clone()).collect();
            gts(&phi, &prec, None, 1e-9, 5000).and_then(|g| {
                let start = ItsState {
                    mean: g.mean,
                    omega: g.omega,
                    sigma,
                    modes: g.individual,
                };
                its::its(model, &refs, &start, FULL_TOL, FULL_MAX_ITER).map(PopFit::from_its)
            })
        }
    }
    .ok_or_else(|| {
        FitError::NoConvergence(
            "singular between-animal covariance, failed REML or failed conditional modes".into(),
        )
    })
}

/// What the bootstrap and the jackknife refit from.
struct FitCx<'a> {
    model: Model,
    engine: Engine,
    kept: &'a [AnimalSeries],
    full: &'a PopFit,
    opts: &'a FitOptions,
    floor: Option<f64>,
}

/// Bootstrap replicates of the statistics, one column per statistic (successful resamples
/// only, aligned), and the number of failed resamples. Resample b has its own stream, so
/// the result does not depend on the thread count.
fn bootstrap(cx: &FitCx) -> (Vec<Vec<f64>>, usize) {
    let (model, opts, n) = (cx.model, cx.opts, cx.kept.len());
    let replicate = |b: usize| -> Option<Vec<f64>> {
        let mut rng = crate::rng::stream(opts.seed, &[b as u64]);
        match opts.bootstrap {
            Bootstrap::Parametric => {
                let (sim, phi) = simulate_like(model, cx.kept, cx.full, cx.floor, &mut rng)?;
                let sim_refs: Vec<&AnimalSeries> = sim.iter().collect();
                cx.engine.refit(model, &sim_refs, cx.full, phi)
            }
            Bootstrap::Animals => {
                use rand::RngExt;
                let idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
                cx.engine.refit_subset(model, cx.kept, cx.full, &idx)
            }
        }
        .map(|r| r.stats(model))
    };
    let replicates: Vec<Option<Vec<f64>>> = {
        use rayon::prelude::*;
        (0..opts.bootstrap_reps)
            .into_par_iter()
            .map(replicate)
            .collect()
    };
    let failed = replicates.iter().filter(|r| r.is_none()).count();
    let mut boot: Vec<Vec<f64>> =
        vec![Vec::with_capacity(opts.bootstrap_reps); PopFit::n_stats(model)];
    for r in replicates.into_iter().flatten() {
        for (k, v) in r.into_iter().enumerate() {
            boot[k].push(v);
        }
    }
    (boot, failed)
}

/// Leave-one-animal-out statistics for the BCa acceleration, one column per statistic
/// (none without bootstrap).
fn jackknife(cx: &FitCx) -> Vec<Vec<f64>> {
    let (model, n) = (cx.model, cx.kept.len());
    let jack_fits: Vec<Option<Vec<f64>>> = if cx.opts.bootstrap_reps > 0 {
        use rayon::prelude::*;
        (0..n)
            .into_par_iter()
            .map(|leave| {
                let idx: Vec<usize> = (0..n).filter(|i| *i != leave).collect();
                cx.engine
                    .refit_subset(model, cx.kept, cx.full, &idx)
                    .map(|r| r.stats(model))
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut jack: Vec<Vec<f64>> = vec![Vec::with_capacity(n); PopFit::n_stats(model)];
    for r in jack_fits.into_iter().flatten() {
        for (k, v) in r.into_iter().enumerate() {
            jack[k].push(v);
        }
    }
    jack
}

/// Point estimates with their bootstrap and jackknife replicates.
struct Intervals<'a> {
    est: Vec<f64>,
    boot: &'a [Vec<f64>],
    jack: Vec<Vec<f64>>,
    level: f64,
    /// Animals fitted.
    n: usize,
}

impl Intervals<'_> {
    /// Every growth parameter in model order: typical value and variability (statistics
    /// 2j and 2j + 1, the layout of [`PopFit::stats`]).
    fn params(&self, model: Model) -> Vec<ParamEstimate> {
        (0..model.n_params())
            .map(|j| {
                let (name, unit, kind) = param_meta(model, j);
                ParamEstimate {
                    name,
                    unit,
                    typical: self.estimate(2 * j),
                    kind,
                    variability: self.estimate(2 * j + 1),
                }
            })
            .collect()
    }

    /// Statistic `k` with its bootstrap SE and expanded BCa interval (Student t, n − 1 df),
    /// widened to contain the estimate; NaN without at least 2 resamples.
    fn estimate(&self, k: usize) -> Estimate {
        let v = self.est[k];
        let boot = &self.boot[k];
        if boot.len() < 2 {
            return Estimate {
                value: v,
                se: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
            };
        }
        let m = boot.iter().sum::<f64>() / boot.len() as f64;
        let se =
            (boot.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (boot.len() - 1) as f64).sqrt();
        let (lo, hi) = bca_interval(
            v,
            boot,
            &self.jack[k],
            self.level,
            Some((self.n - 1) as f64),
        );
        Estimate {
            value: v,
            se,
            ci_low: lo.min(v),
            ci_high: hi.max(v),
        }
    }
}

/// Correlation matrix of the random effects from their covariance `omega` (p × p).
fn correlation(omega: &[Vec<f64>], p: usize) -> Vec<Vec<f64>> {
    (0..p)
        .map(|a| {
            (0..p)
                .map(|b| omega[a][b] / (omega[a][a] * omega[b][b]).sqrt())
                .collect()
        })
        .collect()
}

/// Animals whose last reading is before the last reading day of the data.
fn left_early(kept: &[AnimalSeries]) -> usize {
    let last_day = kept
        .iter()
        .filter_map(|s| s.days.last())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    kept.iter()
        .filter(|s| s.days.last().is_some_and(|d| *d < last_day))
        .count()
}

/// The method sentence of the fragment and the manifest.
fn method_text(use_lmm: bool, opts: &FitOptions) -> String {
    format!(
        "{}; {} bootstrap resamples ({}), expanded BCa {:.0}% CIs (Student t, n - 1 df)",
        if use_lmm {
            "linear mixed model on ln V (random intercept and slope per animal, REML)"
        } else {
            "iterative two-stage EM for the nonlinear mixed-effects model on ln V: each animal's posterior under the population prior by adaptive Gauss-Hermite quadrature around its conditional mode (censored likelihood below the floor), started from per-animal fits"
        },
        opts.bootstrap_reps,
        match opts.bootstrap {
            Bootstrap::Parametric =>
                "parametric: animals simulated from the fit on their own reading days",
            Bootstrap::Animals => "animals resampled with replacement",
        },
        opts.level * 100.0
    )
}

/// Share of the plateau below which K counts as extrapolated (assumed: at half the plateau
/// the logistic is at its inflection, and the round-trip test shows K unidentified there).
const PLATEAU_REACHED: f64 = 0.5;

/// Plain-language caveats of a fit.
fn fit_warnings(
    model: Model,
    series: &[AnimalSeries],
    full: &PopFit,
    reps: usize,
    failed: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    if model != Model::Exponential {
        // Median over animals of the largest reading above the floor, against the typical K.
        let mut top: Vec<f64> = series
            .iter()
            .filter_map(|s| {
                s.ln_v
                    .iter()
                    .zip(&s.censored)
                    .filter(|(_, c)| !**c)
                    .map(|(v, _)| *v)
                    .reduce(f64::max)
            })
            .collect();
        top.sort_by(f64::total_cmp);
        if !top.is_empty() {
            let median = top[top.len() / 2].exp();
            let k = full.mean[2].exp();
            if median < PLATEAU_REACHED * k {
                out.push(format!(
                    "the readings stay below half the fitted plateau (median largest reading {:.0} mm³, typical K {:.0} mm³): K and its variability are extrapolated and their intervals may not cover; follow the arm longer or use the exponential model",
                    median, k
                ));
            }
        }
    }
    if full.converged == Some(false) {
        out.push(format!(
            "the population EM stopped after {} iterations without converging: the data do not pin down every parameter (estimates drift along a ridge); treat the interval of the least identified parameter as a lower bound on the uncertainty",
            full.iterations
        ));
    }
    if reps > 0 && failed * 20 > reps {
        out.push(format!(
            "{failed} of {reps} bootstrap resamples failed to fit and were left out of the intervals"
        ));
    }
    out
}

/// Tolerance of the full-data ITS (see [`its::its`]); bootstrap refits use [`BOOT_TOL`],
/// 100× looser, which moves an interval endpoint by far less than its Monte Carlo error.
const FULL_TOL: f64 = 1e-7;
/// Tolerance of bootstrap and jackknife refits.
const BOOT_TOL: f64 = 1e-5;
/// EM iteration caps (SQUAREM-accelerated fits of identified models take 10–100).
const FULL_MAX_ITER: usize = 1000;
const BOOT_MAX_ITER: usize = 300;

/// Population estimates of one fit (full data, a bootstrap replicate or a jackknife subset).
struct PopFit {
    /// Mean of φ.
    mean: Vec<f64>,
    /// Between-animal covariance of φ.
    omega: Vec<Vec<f64>>,
    /// Residual SD on ln V.
    sigma: f64,
    /// Individual φ (conditional modes / BLUPs), one per animal.
    individual: Vec<Vec<f64>>,
    /// Relative covariance factor of the LMM (warm start of refits; empty for ITS).
    theta: Vec<f64>,
    /// ITS iterations (0 for the LMM).
    iterations: usize,
    /// Whether ITS converged (`None` for the LMM).
    converged: Option<bool>,
}

impl PopFit {
    fn from_its(f: its::ItsFit) -> PopFit {
        PopFit {
            mean: f.state.mean,
            omega: f.state.omega,
            sigma: f.state.sigma,
            individual: f.state.modes,
            theta: Vec::new(),
            iterations: f.iterations,
            converged: Some(f.converged),
        }
    }

    fn from_mixed(m: mixed::MixedFit) -> PopFit {
        PopFit {
            mean: m.beta.to_vec(),
            omega: m.omega(),
            sigma: m.sigma2.sqrt(),
            individual: m.blups.iter().map(|b| b.to_vec()).collect(),
            theta: m.theta.clone(),
            iterations: 0,
            converged: None,
        }
    }

    /// Length of [`PopFit::stats`]: two per parameter, then σ.
    fn n_stats(model: Model) -> usize {
        2 * model.n_params() + 1
    }

    /// The bootstrapped statistics: per parameter (typical, variability), then σ.
    fn stats(&self, model: Model) -> Vec<f64> {
        let mut out = Vec::new();
        for j in 0..model.n_params() {
            let (typ, var) = param_scale(model, j, self.mean[j], self.omega[j][j]);
            out.push(typ);
            out.push(var);
        }
        out.push(self.sigma);
        out
    }
}

/// The population engine.
#[derive(Clone, Copy)]
enum Engine {
    /// Iterative two-stage EM (conditional modes under the population prior).
    Its,
    /// REML linear mixed model (analysis::stats::lmm) on ln V, exponential model only.
    Lmm,
}

impl Engine {
    /// Refit on `series`, warm-started from `warm` with `modes` as the per-animal starts.
    fn refit(
        self,
        model: Model,
        series: &[&AnimalSeries],
        warm: &PopFit,
        modes: Vec<Vec<f64>>,
    ) -> Option<PopFit> {
        match self {
            Engine::Its => {
                let start = ItsState {
                    mean: warm.mean.clone(),
                    omega: warm.omega.clone(),
                    sigma: warm.sigma,
                    modes,
                };
                its::its(model, series, &start, BOOT_TOL, BOOT_MAX_ITER).map(PopFit::from_its)
            }
            Engine::Lmm => mixed::refit_from(series, &warm.theta).map(PopFit::from_mixed),
        }
    }

    /// Refit on the animals `idx` of `series` (with repeats for a resample).
    fn refit_subset(
        self,
        model: Model,
        series: &[AnimalSeries],
        warm: &PopFit,
        idx: &[usize],
    ) -> Option<PopFit> {
        let sel: Vec<&AnimalSeries> = idx.iter().map(|&i| &series[i]).collect();
        let modes = idx.iter().map(|&i| warm.individual[i].clone()).collect();
        self.refit(model, &sel, warm, modes)
    }
}

/// A parametric-bootstrap data set: every animal keeps its reading days (so its early exit)
/// and gets φ ~ N(μ̂, Ω̂) and readings ln f(t; φ) + σ̂ε, censored at the same floor. Returns
/// the series and the φ drawn (the refit's starting modes).
fn simulate_like(
    model: Model,
    series: &[AnimalSeries],
    fit: &PopFit,
    floor: Option<f64>,
    rng: &mut crate::rng::XRng,
) -> Option<(Vec<AnimalSeries>, Vec<Vec<f64>>)> {
    use rand_distr::{Distribution, StandardNormal};
    let l = curves::cholesky(&fit.omega)?;
    let p = fit.mean.len();
    let ln_floor = floor.map(f64::ln);
    let mut out = Vec::with_capacity(series.len());
    let mut phis = Vec::with_capacity(series.len());
    for s in series {
        let z: Vec<f64> = (0..p).map(|_| StandardNormal.sample(rng)).collect();
        let phi: Vec<f64> = (0..p)
            .map(|a| fit.mean[a] + (0..=a).map(|b| l[a][b] * z[b]).sum::<f64>())
            .collect();
        let mut sim = AnimalSeries {
            id: s.id.clone(),
            arm: s.arm.clone(),
            days: s.days.clone(),
            ln_v: Vec::with_capacity(s.days.len()),
            censored: Vec::with_capacity(s.days.len()),
        };
        for &t in &s.days {
            let e: f64 = StandardNormal.sample(rng);
            let y = model.ln_volume(&phi, t) + fit.sigma * e;
            match ln_floor {
                Some(f) if y <= f => {
                    sim.ln_v.push(f);
                    sim.censored.push(true);
                }
                _ => {
                    sim.ln_v.push(y);
                    sim.censored.push(false);
                }
            }
        }
        out.push(sim);
        phis.push(phi);
    }
    Some((out, phis))
}
