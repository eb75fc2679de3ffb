//! The tight simulation path for designs specified at randomization (bench P1 and alike):
//! exponential growth, `AtBaseline` enrollment, direct drug effects, log-volume caliper error,
//! no attrition and no humane tumor endpoints.
//!
//! Per-animal model (the simulator's semantics for these designs, ../shared/bench/P1.md):
//! - ln V0 = ln(v0) + sdlog·z₀ for a log-normal V0 (sdlog = √ln(1+cv²)), or V0 = v0 + sd·z₀;
//! - on treatment the *typical* rate is scaled and the animal's random effect rides on top
//!   (src/sim/mod.rs §5): g = m·rate + sd·z₁ for an additive-normal rate (so bench P1's
//!   g ~ N(mult·g_ctrl, 0.25·g_ctrl) holds), g = m·rate·exp(sdlog·z₁) for a log-normal one,
//!   minus the summed kill rates k; m = h·(1 − I), with h the growth multiplier without
//!   estrogen when the pellet is removed at randomization (1 otherwise) and I the
//!   Bliss-combined inhibition of the arm's direct effects;
//! - true ln V(t) = ln V0 + g·t at every caliper visit; measured ln V = ln V(t) +
//!   ln(1 + observer bias) + ε, ε ~ N(0, sd²) independent per visit; a true volume below the
//!   detection floor reads 0 (not palpable); as in the analysis, volumes are floored at 1 mm³
//!   before taking logarithms.
//!
//! Every animal gets its full visit curve (all caliper days), drawn as z₀, z₁ and one ε per
//! visit (normals from the inlined ziggurat of [`crate::rng::zig`]) — a fixed count, so the study
//! at n is the first n animals of each arm for every parameter set. Nothing is
//! allocated per replicate: per-arm running moments (Welford 1962) of each endpoint's
//! per-animal value are snapshotted at every n of the grid, and Welch's test is computed from
//! the moments.

use super::critical::Thresholds;
use super::design::{Endpoint, PowerError, Settings};
use super::engine::{ReplicateModel, Tally};
use super::nct::{t_test_power, t_two_sided_p, welch_power_equal_n};
use super::units::UnitPlan;
use crate::model::effect::bliss;
use crate::model::window;
use crate::protocol::{EnrollmentMode, Protocol, Xenograft};
use crate::rng::zig::Ziggurat;
use crate::rng::{XRng, stream};
use crate::sim::plan::{
    CohortPlan, EffectPlan, ErrPlan, KinKind, MAX_TREAT, ModelPlan, Plan, RParam, Spread,
};
use crate::sim::{Engine, SimOptions};

/// ln of the analysis' log floor (1 mm³, `AnalysisOptions::log_floor_mm3`): volumes below it,
/// including not-palpable zeros, are set to it before taking logarithms.
pub const LN_LOG_FLOOR: f64 = 0.0;

/// Initial-volume distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum V0Draw {
    /// ln V0 = mu + sd·z.
    LogScale {
        /// Mean of ln V0.
        mu: f64,
        /// SD of ln V0.
        sd: f64,
    },
    /// V0 = mean + sd·z (floored at 1e-9 mm³, as the simulator).
    Linear {
        /// Mean.
        mean: f64,
        /// SD.
        sd: f64,
    },
}

/// Growth-rate distribution (before drug and hormone effects).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateDraw {
    /// g = mean + sd·z.
    Normal {
        /// Mean, 1/day.
        mean: f64,
        /// SD, 1/day.
        sd: f64,
    },
    /// g = median·exp(sdlog·z).
    LogNormal {
        /// Median, 1/day.
        median: f64,
        /// SD of ln g.
        sdlog: f64,
    },
}

/// One arm in the tight model.
#[derive(Debug, Clone, PartialEq)]
pub struct FastArm {
    /// Arm name.
    pub name: String,
    /// Cohort index.
    pub cohort: usize,
    /// Initial volume.
    pub v0: V0Draw,
    /// Growth rate.
    pub rate: RateDraw,
    /// Multiplier on the typical rate: hormone × (1 − Bliss-combined inhibition).
    pub mult: f64,
    /// Multiplier on an additive-normal random rate effect: the hormone factor (the
    /// simulator's rule g = m_E·((1 − I)·r_base + r_add) − κ).
    pub add_mult: f64,
    /// Kill rate subtracted from g, 1/day.
    pub kill: f64,
    /// Study day the arm's direct effects switch on (first dose, the simulator's
    /// `direct_onset` on the baseline weekday): the tumor grows at the control rate g_c until
    /// then, ln V(t) = ln V0 + g·t + (g_c − g)·min(t, onset).
    pub onset: f64,
}

/// Measurement and schedule shared by all arms.
#[derive(Debug, Clone, PartialEq)]
pub struct FastDesign {
    /// Arms (all cohorts, in protocol order).
    pub arms: Vec<FastArm>,
    /// Distinct (first arm, reference arm) pairs the units compare, into `arms`.
    pub pairs: Vec<(usize, usize)>,
    /// Per unit of the [`UnitPlan`]: its pairs (indices into `pairs`; the unit's p-value is
    /// the largest of theirs, intersection–union; empty for kinds the tight path cannot test).
    pub unit_pairs: Vec<Vec<usize>>,
    /// Number of cohorts.
    pub cohorts: usize,
    /// Index in `arms` of each cohort's first arm.
    pub first_arm: Vec<usize>,
    /// Caliper visit days (study days, ascending): the simulator's grid for study day 0 on
    /// the calendar weekday it falls on (from `--start`).
    pub visit_days: Vec<f64>,
    /// Index of the analysis visit in `visit_days` ([`crate::model::window::analysis_visit`]).
    pub analysis_visit: usize,
    /// ln(1 + observer bias).
    pub ln_bias: f64,
    /// SD of the log-volume caliper error.
    pub eps_sd: f64,
    /// ln(detection floor), −∞ when there is none.
    pub ln_floor: f64,
}

/// Why a design cannot run on the tight path: every reason found, each a sentence naming
/// what the full simulator models and the tight path does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ineligible {
    /// The reasons, in protocol order.
    pub reasons: Vec<String>,
}

impl std::fmt::Display for Ineligible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reasons.join("; "))
    }
}

fn v0_draw(p: &RParam) -> V0Draw {
    match p.spread() {
        Spread::Fixed => V0Draw::LogScale {
            mu: p.typ.ln(),
            sd: 0.0,
        },
        Spread::LogNormal(sdlog) => V0Draw::LogScale {
            mu: p.typ.ln(),
            sd: sdlog,
        },
        Spread::Normal(sd) => V0Draw::Linear { mean: p.typ, sd },
    }
}

fn rate_draw(p: &RParam) -> RateDraw {
    match p.spread() {
        Spread::Fixed => RateDraw::Normal {
            mean: p.typ,
            sd: 0.0,
        },
        Spread::Normal(sd) => RateDraw::Normal { mean: p.typ, sd },
        Spread::LogNormal(sdlog) => RateDraw::LogNormal {
            median: p.typ,
            sdlog,
        },
    }
}

/// The simulator options the power engines compile a protocol with: volumes only (the
/// analysis takes its own logarithms), body weight and diameters only when an endpoint needs
/// them, study day 0 placed on the calendar from `start`.
pub fn power_sim_options(x: &Xenograft, start: jiff::civil::Date) -> SimOptions {
    SimOptions {
        start,
        body_weight: x.endpoints.max_weight_loss_pct.is_some(),
        record_diameters: x.endpoints.max_diameter_mm.is_some(),
        log_volumes: false,
        ..SimOptions::lean()
    }
}

impl FastDesign {
    /// Compiles `protocol` with the power engines' simulator options and asks whether the
    /// plan is eligible for the tight path ([`FastDesign::from_engine`]).
    pub fn from_protocol(
        protocol: &Protocol,
        units: &UnitPlan,
        start: jiff::civil::Date,
    ) -> Result<FastDesign, PowerError> {
        let x = protocol
            .xenograft()
            .ok_or_else(|| PowerError::NotXenograft(protocol.id.clone()))?;
        let engine = Engine::new(protocol, &power_sim_options(x, start))
            .map_err(|e| PowerError::Unsupported(e.to_string()))?;
        Self::from_engine(&engine, units).map_err(PowerError::NotTight)
    }

    /// The tight model read off the simulator's compiled plan — the same visit grid, rate
    /// rule, Bliss combination and caliper model as a whole simulated study — or every reason
    /// the plan needs the full simulator.
    pub fn from_engine(engine: &Engine, units: &UnitPlan) -> Result<FastDesign, Ineligible> {
        let p = &engine.plan;
        let mut why: Vec<String> = Vec::new();
        let mut no = |m: String| {
            if !why.contains(&m) {
                why.push(m);
            }
        };
        if p.enroll.mode != EnrollmentMode::AtBaseline {
            no("enrollment from an implanted pool (take, latency, window) needs the full simulator".into());
        }
        if p.endpoints.max_volume.is_finite() || p.endpoints.max_diameter.is_finite() {
            no("humane tumor endpoints need the full simulator".into());
        }
        if p.cohorts.iter().any(|c| c.stop.is_some()) {
            no("a [study-stop] rule (the study ends when an arm's volume reaches a limit) needs the full simulator".into());
        }
        let eps_sd = match p.caliper.error {
            ErrPlan::LogVolume { sd } => sd,
            ErrPlan::Diameters { .. } => {
                no("diameter-wise caliper error needs the full simulator".into());
                0.0
            }
        };
        let mut arms = Vec::new();
        let mut first_arm = Vec::new();
        for (ci, c) in p.cohorts.iter().enumerate() {
            first_arm.push(arms.len());
            cohort_arms(p, ci, c, &mut arms, &mut no);
        }
        let visit_days: Vec<f64> = engine
            .baseline_visit_days()
            .iter()
            .map(|&d| f64::from(d))
            .collect();
        // Analysis day: fixed, or the last day with ≥ 80% of control animals on study — the
        // last visit here, since nobody leaves (invivoSyn convention, ../shared/DOMAIN.md).
        let analysis_visit = match engine.analysis_day() {
            Some(d) => window::analysis_visit(&visit_days, 0, d),
            None => visit_days.len().checked_sub(1),
        };
        let Some(analysis_visit) = analysis_visit else {
            no("no caliper reading stands for the analysis day".into());
            return Err(Ineligible { reasons: why });
        };
        if !why.is_empty() {
            return Err(Ineligible { reasons: why });
        }
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let unit_pairs = units
            .units
            .iter()
            .map(|u| {
                u.pairs
                    .iter()
                    .map(|&(a, b)| {
                        let g = (first_arm[u.cohort] + a, first_arm[u.cohort] + b);
                        pairs.iter().position(|&q| q == g).unwrap_or_else(|| {
                            pairs.push(g);
                            pairs.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let floor = p.caliper.floor;
        Ok(FastDesign {
            arms,
            pairs,
            unit_pairs,
            cohorts: p.cohorts.len(),
            first_arm,
            visit_days,
            analysis_visit,
            ln_bias: p.caliper.bias.ln(),
            eps_sd,
            ln_floor: if floor > 0.0 {
                floor.ln()
            } else {
                f64::NEG_INFINITY
            },
        })
    }

    /// Mean and variance of measured ln V at the analysis day in arm `a`, when ln V is exactly
    /// normal (log-normal V0, normal or fixed rate); `None` otherwise.
    pub fn log_volume_moments(&self, a: usize) -> Option<(f64, f64)> {
        let arm = &self.arms[a];
        let t = self.visit_days[self.analysis_visit];
        let V0Draw::LogScale { mu, sd: sd0 } = arm.v0 else {
            return None;
        };
        let RateDraw::Normal { mean, sd } = arm.rate else {
            return None;
        };
        let g_mean = mean * arm.mult - arm.kill;
        let g_sd = sd * arm.add_mult;
        // g_c − g is not random for a normal rate: mean·(m_E − mult) + κ.
        let lag = mean * (arm.add_mult - arm.mult) + arm.kill;
        Some((
            mu + g_mean * t + lag * t.min(arm.onset) + self.ln_bias,
            sd0 * sd0 + g_sd * g_sd * t * t + self.eps_sd * self.eps_sd,
        ))
    }

    /// Closed-form two-sided power of the Welch-log comparison of pair `c` at `n` per arm, or
    /// `None` when ln V is not normal or a floor (detection, or the analysis' 1 mm³ log floor)
    /// could bind.
    pub fn analytic_welch_log(&self, c: usize, n: u32, alpha: f64) -> Option<Analytic> {
        let (t, ctl) = self.pairs[c];
        let (m1, v1) = self.log_volume_moments(t)?;
        let (m2, v2) = self.log_volume_moments(ctl)?;
        // A floor far below the volumes does not matter; require 8 SD of margin.
        let floor = self.ln_floor.max(LN_LOG_FLOOR);
        if m1 - 8.0 * v1.sqrt() < floor || m2 - 8.0 * v2.sqrt() < floor {
            return None;
        }
        let nf = f64::from(n);
        let (s1, s2) = (v1 / nf, v2 / nf);
        if s1 + s2 <= 0.0 || n < 2 {
            return None;
        }
        let delta = (m1 - m2) / (s1 + s2).sqrt();
        let df_pooled = 2.0 * nf - 2.0;
        let pooled_t = t_test_power(delta, df_pooled, alpha);
        let equal = (v1 - v2).abs() <= 1e-12 * v1.max(v2);
        let welch = if equal {
            welch_power_equal_n(delta, n, alpha)
        } else {
            // Unequal variances: noncentral t with the Welch–Satterthwaite df of the true
            // variances (an approximation).
            let df = (s1 + s2).powi(2) / (s1 * s1 / (nf - 1.0) + s2 * s2 / (nf - 1.0));
            t_test_power(delta, df, alpha)
        };
        Some(Analytic {
            pooled_t,
            welch,
            welch_exact: equal,
        })
    }
}

/// The arms of cohort `ci` in the tight model (pushed onto `arms`), or the reasons `no`
/// receives when the cohort's plan is outside it.
fn cohort_arms(
    p: &Plan,
    ci: usize,
    c: &CohortPlan,
    arms: &mut Vec<FastArm>,
    no: &mut impl FnMut(String),
) {
    let ModelPlan::Closed {
        kind: KinKind::Exp,
        rate,
        ..
    } = &c.model
    else {
        no(format!(
            "cohort `{}`: growth other than exponential needs the full simulator",
            c.name
        ));
        return;
    };
    if c.resistant.is_some() {
        no(format!(
            "cohort `{}`: a resistant subclone needs the full simulator",
            c.name
        ));
    }
    if !c.fast {
        // The simulator's own closed-form eligibility (constant hormone support, direct
        // effects on from day 0 to the end, log-volume caliper error).
        no(format!(
            "cohort `{}`: effects or hormone support change during treatment (exposure-driven effects, dosing not from day 0 to the end, or pellet removal during treatment) and need the full simulator",
            c.name
        ));
    }
    // The hormone factor of the simulator's closed-form loop (sim::Engine::fast_animal).
    let m_e = c.closed_form_hormone_factor();
    for a in &c.arms {
        let mut inh = [0.0; MAX_TREAT];
        let mut kill = 0.0;
        let mut acting = 0;
        for (k, t) in a.treats.iter().enumerate() {
            if let EffectPlan::Direct {
                inhibition,
                kill: kp,
            } = t.effect
            {
                if inhibition.spread() != Spread::Fixed || kp.spread() != Spread::Fixed {
                    no(format!(
                        "arm `{}`: a drug effect with between-animal variability needs the full simulator",
                        a.name
                    ));
                }
                inh[k] = inhibition.typ.clamp(0.0, 1.0);
                kill += kp.typ.max(0.0);
                if inh[k] > 0.0 || kp.typ > 0.0 {
                    acting += 1;
                }
            }
        }
        if a.dose_mod.is_some() {
            no(format!(
                "arm `{}`: [dose-modification] holidays are decided animal by animal on body weight and need the full simulator",
                a.name
            ));
        }
        if p.endpoints.max_loss_pct.is_finite() && a.tox.iter().flatten().any(|&f| f != 0.0) {
            no(format!(
                "arm `{}`: body-weight toxicity with a weight-loss endpoint needs the full simulator",
                a.name
            ));
        }
        let i = bliss(&inh[..a.treats.len()], acting, a.interaction);
        arms.push(FastArm {
            name: a.name.clone(),
            cohort: ci,
            v0: v0_draw(&c.v0),
            rate: rate_draw(rate),
            mult: m_e * (1.0 - i),
            add_mult: m_e,
            kill,
            onset: a.direct_onset[p.baseline_wd0()],
        });
    }
}

/// Closed-form power of one comparison at one n.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Analytic {
    /// Two-sample t-test power from the noncentral t, df = 2n − 2 (bench P1's reference).
    pub pooled_t: f64,
    /// Power of Welch's test: exact for equal variances ([`welch_power_equal_n`]), else the
    /// Welch–Satterthwaite noncentral-t approximation.
    pub welch: f64,
    /// Whether `welch` is exact.
    pub welch_exact: bool,
}

/// Running moments (Welford 1962): count, mean, sum of squared deviations.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// Count.
    pub n: f64,
    /// Mean.
    pub mean: f64,
    /// Σ (x − mean)².
    pub m2: f64,
}

impl Moments {
    /// Adds one value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }
    /// Sample variance (n − 1 denominator).
    #[inline]
    pub fn var(&self) -> f64 {
        self.m2 / (self.n - 1.0)
    }
}

/// Welch's t statistic and Welch–Satterthwaite df from two samples' moments (Welch 1947,
/// Biometrika 34:28). `None` when a sample has fewer than two values or both variances are 0.
#[inline]
pub fn welch_from_moments(a: &Moments, b: &Moments) -> Option<(f64, f64)> {
    crate::analysis::stats::welch_t_df(a.mean, a.var(), a.n, b.mean, b.var(), b.n)
}

/// The tight model ready to run: design + settings + precomputed critical values.
#[derive(Debug, Clone)]
pub struct FastModel {
    /// The design.
    pub design: FastDesign,
    /// Endpoints (each one of welch-log, slope, auc).
    endpoints: Vec<Endpoint>,
    /// The decision units and their families.
    units: UnitPlan,
    /// Per unit: index of its test in `endpoints`.
    unit_endpoint: Vec<usize>,
    /// Per unit: the p-value thresholds of its family with their critical-value tables
    /// (decision-equivalent p-values, [`super::critical`]); `None` = exact p-values (rank
    /// test, or one-sided at α > ½).
    thresholds: Vec<Option<Thresholds>>,
    /// Per unit: sizes the study (joint count).
    sizing: Vec<bool>,
    n_values: Vec<u32>,
    /// Largest n of the grid.
    n_max: usize,
    seed: u64,
    crn: bool,
    alpha: f64,
    /// Per-visit weights of the OLS slope over visits 0..=analysis.
    slope_w: Vec<f64>,
    /// Per-visit weights of the AUC of ln(V/V_first) over visits 0..=analysis (trapezoid).
    auc_w: Vec<f64>,
    /// Normal generator tables.
    zig: Ziggurat,
}

/// Per-worker buffers of [`FastModel`].
#[derive(Debug, Clone)]
pub struct FastScratch {
    /// Measured ln V of the current animal per visit (NaN = not palpable).
    y: Vec<f64>,
    /// Snapshots `[n][arm][endpoint]`.
    snaps: Vec<Moments>,
    /// Running moments of the current arm per endpoint.
    run: Vec<Moments>,
    /// Decisions, one per unit.
    decisions: Vec<bool>,
    /// p-values, one per unit (NaN = not computable).
    p: Vec<f64>,
    /// One family (scratch of [`UnitPlan::decide`]).
    family: Vec<(f64, usize)>,
    /// Measured ln V at the analysis visit, `[arm][animal]` (stride n_max; NaN = missing), for
    /// the rank test.
    at_day: Vec<f64>,
    /// Rank-test sample buffers (reused).
    buf_a: Vec<f64>,
    buf_b: Vec<f64>,
}

impl FastModel {
    /// Builds the model for the units of `units` (two-arm hypotheses on welch-log, mwu,
    /// slope and auc; others are refused).
    pub fn new(
        design: FastDesign,
        units: &UnitPlan,
        settings: &Settings,
    ) -> Result<FastModel, PowerError> {
        settings.validate()?;
        let endpoints = units.tests();
        for u in &units.units {
            if u.pairs.is_empty() {
                return Err(PowerError::Unsupported(format!(
                    "hypothesis `{}` ({}) needs the full simulator and analysis",
                    u.hypothesis,
                    u.kind.as_str()
                )));
            }
        }
        for e in &endpoints {
            if !e.info().tight {
                return Err(PowerError::Unsupported(format!(
                    "endpoint `{}` needs the full simulator and analysis engine",
                    e.as_str()
                )));
            }
        }
        let unit_endpoint: Vec<usize> = units
            .units
            .iter()
            .map(|u| endpoints.iter().position(|&e| e == u.test).unwrap_or(0))
            .collect();
        let n_max = settings.n_values.iter().copied().max().unwrap_or(2);
        // Welch ν ≤ n_a + n_b − 2 < 2·n_max.
        let max_df = 2 * n_max as usize;
        let thresholds = units
            .units
            .iter()
            .map(|u| {
                let m = units.families[u.family].members.len();
                (u.test != Endpoint::Mwu)
                    .then(|| Thresholds::new(settings.alpha, m, u.alternative, max_df))
                    .flatten()
            })
            .collect();
        let a = design.analysis_visit;
        let t = &design.visit_days[..=a];
        let mut slope_w = vec![0.0; design.visit_days.len()];
        let mut auc_w = vec![0.0; design.visit_days.len()];
        if a >= 1 {
            let tbar = t.iter().sum::<f64>() / t.len() as f64;
            let sxx: f64 = t.iter().map(|x| (x - tbar).powi(2)).sum();
            for k in 0..=a {
                slope_w[k] = (t[k] - tbar) / sxx;
            }
            // AUC of (y_k − y_0) by trapezoid = Σ_k w_k·y_k with Σ w_k = 0.
            for k in 0..a {
                let h = (t[k + 1] - t[k]) / 2.0;
                auc_w[k] += h;
                auc_w[k + 1] += h;
            }
            let total: f64 = auc_w.iter().sum();
            auc_w[0] -= total;
        }
        Ok(FastModel {
            design,
            endpoints,
            sizing: units.units.iter().map(|u| u.sizing).collect(),
            units: units.clone(),
            unit_endpoint,
            thresholds,
            n_values: settings.n_values.clone(),
            n_max: n_max as usize,
            seed: settings.seed,
            crn: settings.common_random_numbers,
            alpha: settings.alpha,
            slope_w,
            auc_w,
            zig: Ziggurat::new(),
        })
    }

    /// Per-animal endpoint value from its (floored) visit curve.
    #[inline]
    fn endpoint_value(&self, e: Endpoint, y: &[f64]) -> f64 {
        let a = self.design.analysis_visit;
        match e {
            Endpoint::WelchLog => y[a],
            Endpoint::Slope | Endpoint::Auc => {
                let w = if e == Endpoint::Slope {
                    &self.slope_w
                } else {
                    &self.auc_w
                };
                let mut s = 0.0;
                for k in 0..=a {
                    s += w[k] * y[k];
                }
                s
            }
            _ => f64::NAN,
        }
    }

    /// Simulates `n_animals` per arm from `rng`; at each `(n, slot)` of `snapshot_at` stores the
    /// per-arm moments of the first n animals into `scratch.snaps[slot]`.
    fn simulate(
        &self,
        rng: &mut XRng,
        n_animals: u32,
        snapshot_at: &[(u32, usize)],
        s: &mut FastScratch,
    ) {
        let d = &self.design;
        let n_arms = d.arms.len();
        let n_end = self.endpoints.len();
        let has_floor = d.ln_floor.is_finite();
        for (ai, arm) in d.arms.iter().enumerate() {
            s.run.iter_mut().for_each(|m| *m = Moments::default());
            let mut next = 0;
            for i in 0..n_animals {
                let z0 = self.zig.sample(rng);
                let z1 = self.zig.sample(rng);
                let ln_v0 = match arm.v0 {
                    V0Draw::LogScale { mu, sd } => mu + sd * z0,
                    V0Draw::Linear { mean, sd } => (mean + sd * z0).max(1e-9).ln(),
                };
                // The treatment scales the typical rate and the animal's random effect rides
                // on top (the simulator's rule, src/sim/mod.rs §5).
                let (g_eff, g_ctl) = match arm.rate {
                    RateDraw::Normal { mean, sd } => (
                        mean * arm.mult + arm.add_mult * sd * z1,
                        (mean + sd * z1) * arm.add_mult,
                    ),
                    RateDraw::LogNormal { median, sdlog } => {
                        let r = median * (sdlog * z1).exp();
                        (r * arm.mult, r * arm.add_mult)
                    }
                };
                let g_eff = g_eff - arm.kill;
                // Control growth until the first dose (the simulator's fast path).
                let lag = g_ctl - g_eff;
                let base = ln_v0 + d.ln_bias;
                if has_floor {
                    for (k, &t) in d.visit_days.iter().enumerate() {
                        let eps = self.zig.sample(rng);
                        let drift = g_eff * t + lag * t.min(arm.onset);
                        let ln_true = ln_v0 + drift;
                        // Not palpable reads 0 mm³, which the analysis floors at 1 mm³ before the
                        // logarithm (AnalysisOptions::log_floor_mm3): ln 1 = 0.
                        s.y[k] = if ln_true >= d.ln_floor {
                            (base + drift + d.eps_sd * eps).max(LN_LOG_FLOOR)
                        } else {
                            LN_LOG_FLOOR
                        };
                    }
                } else {
                    for (y, &t) in s.y.iter_mut().zip(&d.visit_days) {
                        *y = (base
                            + g_eff * t
                            + lag * t.min(arm.onset)
                            + d.eps_sd * self.zig.sample(rng))
                        .max(LN_LOG_FLOOR);
                    }
                }
                s.at_day[ai * self.n_max + i as usize] = s.y[d.analysis_visit];
                for (ei, &e) in self.endpoints.iter().enumerate() {
                    s.run[ei].push(self.endpoint_value(e, &s.y));
                }
                while next < snapshot_at.len() && snapshot_at[next].0 == i + 1 {
                    let slot = snapshot_at[next].1;
                    let off = (slot * n_arms + ai) * n_end;
                    s.snaps[off..off + n_end].copy_from_slice(&s.run);
                    next += 1;
                }
            }
        }
    }

    /// Mann–Whitney U two-sided p-value of arms `t` vs `ctl` on the first `n` animals (ranks
    /// of ln V are those of V) and the sign of the effect in the benefit direction (> 0: arm
    /// `t` ranks lower). Uses the analysis module's scipy-exact implementation.
    fn mwu_p(&self, t: usize, ctl: usize, n: usize, s: &mut FastScratch) -> (f64, f64) {
        s.buf_a.clear();
        s.buf_b.clear();
        let (oa, ob) = (t * self.n_max, ctl * self.n_max);
        s.buf_a
            .extend(s.at_day[oa..oa + n].iter().copied().filter(|v| !v.is_nan()));
        s.buf_b
            .extend(s.at_day[ob..ob + n].iter().copied().filter(|v| !v.is_nan()));
        let m = crate::analysis::stats::mann_whitney_u(&s.buf_a, &s.buf_b);
        let centre = (s.buf_a.len() * s.buf_b.len()) as f64 / 2.0;
        (m.p_value, centre - m.statistic)
    }

    /// p-value of unit `u` at grid slot `slot` (its alternative applied; the largest over its
    /// pairs; NaN when a pair's test is not computable). Welch units return a
    /// decision-equivalent p-value ([`super::critical`]): the same decisions, no incomplete beta.
    fn unit_p(&self, u: usize, slot: usize, n: usize, s: &mut FastScratch) -> f64 {
        let ei = self.unit_endpoint[u];
        let e = self.endpoints[ei];
        let alt = self.units.units[u].alternative;
        let n_arms = self.design.arms.len();
        let n_end = self.endpoints.len();
        let mut worst = 0.0f64;
        for k in 0..self.design.unit_pairs[u].len() {
            let (t, ctl) = self.design.pairs[self.design.unit_pairs[u][k]];
            let p = if e == Endpoint::Mwu {
                let (p2, benefit) = self.mwu_p(t, ctl, n, s);
                alt.p_from_two_sided(p2, benefit)
            } else {
                let m = |arm: usize| s.snaps[(slot * n_arms + arm) * n_end + ei];
                match (welch_from_moments(&m(t), &m(ctl)), &self.thresholds[u]) {
                    (None, _) => f64::NAN,
                    (Some((tt, df)), Some(th)) => th.decision_p(tt, df),
                    // Smaller values of every tight endpoint are the benefit.
                    (Some((tt, df)), None) => alt.p_from_two_sided(t_two_sided_p(tt, df), -tt),
                }
            };
            if p.is_nan() {
                return f64::NAN;
            }
            worst = worst.max(p);
        }
        worst
    }

    fn test_all(&self, slot: usize, n: usize, s: &mut FastScratch, tally: &mut Tally) {
        for u in 0..self.units.units.len() {
            s.p[u] = self.unit_p(u, slot, n, s);
        }
        self.units
            .decide(&s.p, self.alpha, &mut s.family, &mut s.decisions);
        tally.record(slot, &s.decisions, &s.p, &self.sizing);
        tally.reps[slot] += 1;
    }
}

impl ReplicateModel for FastModel {
    type Scratch = FastScratch;

    fn scratch(&self) -> FastScratch {
        let n_arms = self.design.arms.len();
        let n_end = self.endpoints.len();
        FastScratch {
            y: vec![0.0; self.design.visit_days.len()],
            snaps: vec![Moments::default(); self.n_values.len() * n_arms * n_end],
            run: vec![Moments::default(); n_end],
            decisions: vec![false; self.units.units.len()],
            p: vec![f64::NAN; self.units.units.len()],
            family: Vec::with_capacity(self.units.units.len()),
            at_day: vec![f64::NAN; n_arms * self.n_max],
            buf_a: Vec::with_capacity(self.n_max),
            buf_b: Vec::with_capacity(self.n_max),
        }
    }

    fn empty_tally(&self) -> Tally {
        Tally::new(
            self.n_values.len(),
            self.units.units.len(),
            self.design.cohorts,
        )
    }

    fn replicate(&self, rep: u64, s: &mut FastScratch, tally: &mut Tally) {
        if self.crn {
            // Stream id 0 in the n position marks "all n" (n ≥ 2 otherwise): the first n animals
            // of each arm form the study at n, for every n of the grid.
            let mut rng = stream(self.seed, &[0, rep]);
            let n_max = self.n_values.iter().copied().max().unwrap_or(0);
            self.simulate_grid(&mut rng, n_max, s);
            for (slot, &n) in self.n_values.iter().enumerate() {
                self.test_all(slot, n as usize, s, tally);
            }
        } else {
            for (slot, &n) in self.n_values.iter().enumerate() {
                let mut rng = stream(self.seed, &[u64::from(n), rep]);
                self.simulate(&mut rng, n, &[(n, slot)], s);
                self.test_all(slot, n as usize, s, tally);
            }
        }
    }
}

impl FastModel {
    fn simulate_grid(&self, rng: &mut XRng, n_max: u32, s: &mut FastScratch) {
        // The grid is small (≤ a few dozen n): a stack array of (n, slot) pairs.
        let mut buf = [(0u32, 0usize); 64];
        if self.n_values.len() <= buf.len() {
            for (slot, &n) in self.n_values.iter().enumerate() {
                buf[slot] = (n, slot);
            }
            self.simulate(rng, n_max, &buf[..self.n_values.len()], s);
        } else {
            let at: Vec<(u32, usize)> = self
                .n_values
                .iter()
                .enumerate()
                .map(|(i, &n)| (n, i))
                .collect();
            self.simulate(rng, n_max, &at, s);
        }
    }
}
