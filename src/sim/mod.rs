//! The xenograft study engine: a synthetic study, animal by animal, as it happens in a
//! vivarium.
//!
//! # What is simulated
//! 1. **Implantation and take** — each implanted animal takes with the cohort's `take_rate`;
//!    a taken tumor appears after its own latency at V0 and grows (growth model with
//!    log-normal or additive-normal random effects per animal) under the estrogen pellet.
//! 2. **Growth to the enrollment window** on the caliper days of the phase that ends on the
//!    enrollment condition (implantation = day 0 of that phase). Single-day enrollment: the
//!    first caliper day when enough animals read inside the window; those closest to the
//!    window's geometric middle are chosen. Rolling: each animal starts (its own study day 0)
//!    on the caliper day it first reads inside the window, until the arms are full. Animals
//!    never eligible within the maximum wait are excluded and counted; animals that jump over
//!    the window are counted as overgrown. `AtBaseline`: no pre-treatment phase, every animal
//!    starts at V0 on day 0 (bench designs, ../shared/bench/P1.md).
//! 3. **Randomization** — simple (a shuffled deck of arm labels) or volume-balanced (sort by
//!    volume and deal in blocks of one animal per arm, random order within each block);
//!    rolling enrollment uses permuted blocks in order of eligibility.
//! 4. **Estrogen** — a pellet supports growth until removed (at randomization, on a study day,
//!    or never) or exhausted (`release_days` after implant); without estrogen the growth rate
//!    is multiplied by the cohort's `growth_without_estrogen` (parental MCF-7: 0, stasis
//!    without regression, Shafie & Grantham 1981); the resistant subclone has its own factor.
//! 5. **Drugs** — direct effects (growth inhibition fraction, kill rate) act from the first
//!    dose until one dosing interval after the last; exposure-driven effects follow C(t) from
//!    one-compartment PK superposed over the actual dose times (BID ≠ QD ≠ QW), through
//!    Emax/Hill on the growth rate or as the Simeoni kill term k2·C(t). Several agents
//!    combine by Bliss independence with the arm's interaction term; the resistant subclone
//!    sees every effect multiplied by its sensitivity. Treatments modify the *typical* growth
//!    rate and the animal's random effect rides on top: log-normal r = (1 − I)·r_typ·e^η,
//!    additive-normal r = (1 − I)·r_typ + η (so bench P1's g ~ N(mult·g_ctrl, sd) holds).
//! 6. **Measurement** on caliper days only (at 00:00 of the study day, before dosing): L and W
//!    with proportional (log-normal) error per diameter, or a log-volume error (bench P1);
//!    optional observer bias; V = L·W²/2 or π/6·L·W²; below the detection floor the tumor
//!    reads 0 (not palpable). Body weight: slow gain, proportional noise, drug toxicity.
//! 7. **Humane endpoints** (volume, mean diameter, body-weight loss from day 0) on the
//!    measured values: the animal leaves at that visit; nothing is recorded afterwards.
//!
//! # Library use (no CLI)
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let protocol: xenoplan::protocol::Protocol = todo!();
//! use xenoplan::sim::{Engine, SimOptions, StudyBuffer};
//! let engine = Engine::new(&protocol, &SimOptions::default())?;
//! let mut buf = StudyBuffer::new(&engine);
//! let mut rng = xenoplan::rng::stream(1, &[0]);
//! engine.simulate(&mut rng, None, &mut buf)?;
//! for a in 0..engine.arm_count(0) {
//!     for j in 0..buf.n_enrolled(0, a) {
//!         let (days, vols) = (buf.days(0, a, j), buf.volumes(0, a, j));
//!         # let _ = (days, vols);
//!     }
//! }
//! let dataset = buf.to_dataset(&engine); // for xenoplan::analysis
//! # let _ = dataset; Ok(()) }
//! ```
//!
//! # Monte Carlo use (power)
//! [`Engine::new`] precomputes everything that does not depend on random draws: visit days
//! for each weekday of study day 0, dose-event tables per arm, toxicity tables, parameter
//! transforms. [`Engine::simulate`] then fills a reusable [`StudyBuffer`] with no allocation
//! once the buffer has reached its size and no string work: per (cohort, arm, animal, visit)
//! measured volumes (NaN = missing / off study; 0 = not palpable), the visit days, lengths,
//! widths and body weights (optional, see [`SimOptions`]), per-animal end reason, event time
//! and last day, and per-cohort take/eligibility/exclusion counts. Set
//! [`SimOptions::log_volumes`] to receive ln(volume) directly (saves an exp and a ln per
//! visit). Designs with `AtBaseline` enrollment, exponential growth, constant direct effects
//! and log-volume error (bench P1) run a closed-form loop: one ziggurat normal per visit.
//! Exposure-driven effects on exponential growth are integrated by quadrature over the arm's
//! precomputed concentration curve (one Hill sum per segment, no ODE steps; `exposure.rs`);
//! other growth models with exposure effects use fixed-step RK4.
//! Streams: pass one `rng::stream(seed, &[n, replicate])` per replicate.

pub mod animals;
mod buffer;
mod engine;
mod exposure;
pub mod fixture;
pub(crate) mod plan;
mod rules;
mod timeline;
mod write;

#[cfg(test)]
mod tests;

pub use buffer::{CohortOutcome, EndReason, Fate, StudyBuffer};
pub use engine::Engine;
pub use timeline::enrollment_days;
pub use write::{StudyInfo, WriteError, summary_text, write_growth_plots, write_study};

/// Errors from building or running the engine.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The protocol is not a xenograft study.
    #[error("protocol `{0}` is not a xenograft study (kind {1})")]
    NotXenograft(String, &'static str),
    /// Cohort index out of range.
    #[error("cohort index {index} out of range ({count} cohorts)")]
    NoSuchCohort {
        /// Requested index.
        index: usize,
        /// Number of cohorts.
        count: usize,
    },
    /// The protocol lacks something the simulator needs, or uses a combination it cannot
    /// simulate; the message says what.
    #[error("cannot simulate protocol `{protocol}`: {message}")]
    Unsupported {
        /// Protocol id.
        protocol: String,
        /// What is missing or unsupported.
        message: String,
    },
}

/// Run options that are not part of the protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Calendar date of the protocol's first day (phase 0). Weekday schedules (calipers
    /// Mon/Thu) are placed on this calendar. Default: Monday 2027-01-04 (assumed; any Monday
    /// gives the same study days).
    pub start: jiff::civil::Date,
    /// Store ln(measured volume) instead of the volume in the buffer (−∞ = not palpable).
    pub log_volumes: bool,
    /// Fill lengths and widths (needed for CSV output and diameter endpoints).
    pub record_diameters: bool,
    /// Simulate and record body weights (draws one normal per visit).
    pub body_weight: bool,
    /// Record every pre-treatment reading up to the cohort's last enrollment day (the
    /// implantation-phase table of `simulate`). False stops each animal's pre-treatment
    /// simulation at the caliper reading that decides its eligibility (rolling enrollment),
    /// which is all the enrollment and the analysis read; every implanted animal has its own
    /// random stream, so the study is the same either way.
    pub record_pre_treatment: bool,
    /// Largest RK4 step (days) while a drug concentration is non-zero (exposure effects).
    pub exposure_step_days: f64,
    /// Largest RK4 step (days) otherwise (Simeoni, logistic/Gompertz with a subclone).
    pub step_days: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            start: jiff::civil::date(2027, 1, 4),
            log_volumes: false,
            record_diameters: true,
            body_weight: true,
            record_pre_treatment: true,
            // 2 h steps: the absorption phase of an oral dose (ka ~ 1/h) spans several hours;
            // the RK4 error at this step is < 1e-4 relative in the tests.
            exposure_step_days: 1.0 / 12.0,
            step_days: 0.25,
        }
    }
}

/// Options for Monte Carlo use: no diameters, no body weight unless a weight endpoint needs
/// them.
impl SimOptions {
    /// Lean options for `power`: log volumes, no diameters or body weights.
    pub fn lean() -> Self {
        SimOptions {
            log_volumes: true,
            record_diameters: false,
            body_weight: false,
            record_pre_treatment: false,
            ..SimOptions::default()
        }
    }
}
