//! Precomputation: protocol → plans the hot loop reads (no strings, no allocation there).

use super::{SimError, SimOptions};
use crate::model::growth::Kinetics;
use crate::protocol::{
    Agent, Arm, CaliperError, Cohort, DoseUnit, EffectMode, EffectTarget, EnrollmentMode,
    GrowthModel, Measurement, Param, PhaseEnd, Protocol, Randomization, Route, Schedule, Treatment,
    Variability, VolumeFormula, Xenograft, sdlog_from_cv,
};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

/// Length of the engine's per-animal treatment arrays: the protocol's limit
/// ([`crate::protocol::MAX_TREATMENTS_PER_ARM`], which `check` enforces).
pub(crate) const MAX_TREAT: usize = crate::protocol::MAX_TREATMENTS_PER_ARM;

/// A random parameter: typical value and between-animal variability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RParam {
    pub typ: f64,
    /// ln(typ), precomputed for the hot loop.
    ln_typ: f64,
    kind: RKind,
}

/// How a [`RParam`] varies between animals (the tight power path reads it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Spread {
    /// Identical in every animal.
    Fixed,
    /// Log-normal with this SD of the log.
    LogNormal(f64),
    /// Additive normal with this SD.
    Normal(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RKind {
    Fixed,
    /// sdlog = sqrt(ln(1 + cv²)) (log-normal with median `typ`).
    LogN(f64),
    Norm(f64),
}

impl RParam {
    pub fn from(p: &Param) -> Self {
        let kind = match p.variability {
            Variability::None => RKind::Fixed,
            Variability::LogNormal { cv } if cv > 0.0 => RKind::LogN(sdlog_from_cv(cv)),
            Variability::LogNormal { .. } => RKind::Fixed,
            Variability::Normal { sd } if sd > 0.0 => RKind::Norm(sd),
            Variability::Normal { .. } => RKind::Fixed,
        };
        RParam {
            typ: p.value,
            ln_typ: p.value.ln(),
            kind,
        }
    }
    /// Between-animal spread.
    pub fn spread(&self) -> Spread {
        match self.kind {
            RKind::Fixed => Spread::Fixed,
            RKind::LogN(s) => Spread::LogNormal(s),
            RKind::Norm(s) => Spread::Normal(s),
        }
    }
    /// One animal's value (consumes a normal only when the parameter varies).
    #[inline]
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self.kind {
            RKind::Fixed => self.typ,
            RKind::LogN(s) => self.typ * (s * rng.sample::<f64, _>(StandardNormal)).exp(),
            RKind::Norm(s) => self.typ + s * rng.sample::<f64, _>(StandardNormal),
        }
    }
    /// ln of one animal's value for log-normal / fixed parameters (saves an exp).
    #[inline]
    pub fn draw_ln<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self.kind {
            RKind::Fixed => self.ln_typ,
            RKind::LogN(s) => self.ln_typ + s * rng.sample::<f64, _>(StandardNormal),
            RKind::Norm(s) => (self.typ + s * rng.sample::<f64, _>(StandardNormal))
                .max(1e-9)
                .ln(),
        }
    }
    /// A rate split as (multiplicative base, additive part): log-normal → (typ·e^η, 0),
    /// normal → (typ, η). The effective rate under inhibition I is (1 − I)·base + add.
    #[inline]
    pub fn draw_rate<R: Rng + ?Sized>(&self, rng: &mut R) -> (f64, f64) {
        match self.kind {
            RKind::Fixed => (self.typ, 0.0),
            RKind::LogN(s) => (
                self.typ * (s * rng.sample::<f64, _>(StandardNormal)).exp(),
                0.0,
            ),
            RKind::Norm(s) => (self.typ, s * rng.sample::<f64, _>(StandardNormal)),
        }
    }
}

/// Growth model of a cohort with its random parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ModelPlan {
    Closed {
        kind: KinKind,
        rate: RParam,
        capacity: Option<RParam>,
    },
    Simeoni {
        lambda0: RParam,
        lambda1: RParam,
        k1: RParam,
        psi: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum KinKind {
    Exp,
    Logistic,
    Gompertz,
}

impl KinKind {
    pub fn kinetics(self, capacity: f64) -> Kinetics {
        match self {
            KinKind::Exp => Kinetics::Exponential,
            KinKind::Logistic => Kinetics::Logistic { capacity },
            KinKind::Gompertz => Kinetics::Gompertz { capacity },
        }
    }
}

/// Estrogen support of a cohort (times in days), from its supply
/// ([`crate::protocol::HormoneSupport`]: pellet, injections or drinking water).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EstrogenPlan {
    /// An estrogen supply is given (pellet, injections or drinking water).
    pub pellet: bool,
    /// Host without endogenous estrogen.
    pub ovx: bool,
    /// Supply runs out at this tumor time (days after implantation; ∞ with re-implants,
    /// injections or water).
    pub exhausted_tumor: f64,
    /// Supply stopped at this study time (∞ = never).
    pub removal_study: f64,
}

impl EstrogenPlan {
    /// Study time at which estrogen support ends for an animal whose study day 0 is at tumor
    /// time `tau0` (∞ when it never changes; −∞ when absent from the start): the rule of
    /// [`crate::model::estrogen::support_end_study`].
    pub fn end_study(&self, tau0: f64) -> f64 {
        crate::model::estrogen::support_end_study(
            self.ovx,
            self.pellet
                .then_some((self.exhausted_tumor, self.removal_study)),
            tau0,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ResPlan {
    pub fraction: RParam,
    pub sensitivity: f64,
    pub gwe: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum EffectPlan {
    None,
    Direct {
        inhibition: RParam,
        kill: RParam,
    },
    Exposure {
        emax: RParam,
        ec50: RParam,
        hill: f64,
        k2: Option<RParam>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PkPlan {
    pub ka: f64,
    pub ke: f64,
    pub v_l_per_kg: f64,
    pub f: f64,
    pub iv: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TreatPlan {
    pub effect: EffectPlan,
    pub pk: Option<PkPlan>,
    pub dose: f64,
    pub unit: DoseUnit,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum EvKind {
    Dose(u8),
    On(u8),
    Off(u8),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ev {
    pub t: f64,
    pub kind: EvKind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArmPlan {
    pub name: String,
    pub control: bool,
    pub n: usize,
    pub interaction: f64,
    pub treats: Vec<TreatPlan>,
    /// Events by weekday (Mon = 0) of study day 0, sorted by time.
    pub events: [Vec<Ev>; 7],
    /// Cumulative ln body-weight factor from toxicity at each treatment visit, by weekday.
    pub tox: [Vec<f64>; 7],
    /// ln body-weight factor each study day's toxic doses add (0: no toxic dose that day),
    /// days 0..horizon, by weekday: what [`tox_day_step`] reads where the deficit recovers
    /// or an animal's dosing is modified.
    pub tox_day: [Vec<f64>; 7],
    /// The `[dose-modification]` rule when it applies to this arm.
    pub dose_mod: Option<DoseModPlan>,
    /// Time of the arm's last planned dose, by weekday (−∞ without doses): a weight loss
    /// read after it starts no holiday (there is no dosing left to pause).
    pub last_dose: [f64; 7],
    /// True when some treatment is exposure-driven.
    pub exposure: bool,
    /// Direct effects switch on at one time (by day 1) and stay on past the horizon (fast
    /// path).
    pub direct_always_on: bool,
    /// When the arm's direct effects switch on (their first administration,
    /// [`crate::model::schedule::direct_effect_window`]), by weekday of study day 0; 0 without
    /// direct effects. The fast path grows the tumor at the control rate until then.
    pub direct_onset: [f64; 7],
    /// Exposure quadrature tables by weekday of study day 0 (exponential growth with an
    /// exposure-driven effect; empty otherwise): [`super::exposure`].
    pub expo: Vec<super::exposure::ExposureTable>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CohortPlan {
    pub name: String,
    pub slug: String,
    pub model: ModelPlan,
    pub v0: RParam,
    pub take: f64,
    pub latency: RParam,
    pub estrogen: EstrogenPlan,
    pub gwe: f64,
    pub resistant: Option<ResPlan>,
    pub arms: Vec<ArmPlan>,
    pub implanted: Option<u32>,
    /// Enrolled animals per implanted animal, estimated at engine construction by a pilot
    /// simulation (single-day: best caliper day; rolling: within the wait); NaN = unknown.
    pub yield_est: f64,
    /// The state needs RK4 outside drug exposure (Simeoni, or a subclone sharing a capacity).
    pub needs_ode: bool,
    /// Bench-style closed-form loop applies.
    pub fast: bool,
    /// The `[study-stop]` rule with this cohort's deciding arm.
    pub stop: Option<StopPlan>,
}

impl CohortPlan {
    /// Growth multiplier from hormone support in the closed-form loop (constant support:
    /// 1 while estrogen lasts past day 0, else the growth without estrogen). One rule for
    /// the simulator's closed-form animals and the tight power path.
    pub fn closed_form_hormone_factor(&self) -> f64 {
        if self.estrogen.end_study(0.0) > 0.0 {
            1.0
        } else {
            self.gwe
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ErrPlan {
    Diameters { cv: f64 },
    LogVolume { sd: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CaliperPlan {
    /// V = factor·L·W².
    pub factor: f64,
    pub error: ErrPlan,
    /// ln factor.
    pub ln_factor: f64,
    /// Multiplicative observer bias on volume (1 + b).
    pub bias: f64,
    /// ln(1 + b).
    pub ln_bias: f64,
    /// ln of the bias of each diameter, ln(1 + b)/3.
    pub ln_bias_cbrt: f64,
    pub floor: f64,
    /// ln floor (−∞ for no floor).
    pub ln_floor: f64,
    pub width_ratio: RParam,
}

/// A tumor's width/length ratio ρ and its logarithm (the caliper model works in logs).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ratio {
    pub v: f64,
    pub ln: f64,
}

impl Ratio {
    pub fn new(v: f64) -> Ratio {
        Ratio { v, ln: v.ln() }
    }
}

/// One caliper reading: measured volume (0 = not palpable) and diameters (NaN when not
/// palpable).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meas {
    pub v: f64,
    pub l: f64,
    pub w: f64,
}

impl CaliperPlan {
    /// Length and width of a tumor of volume e^`ln_v` (−∞: none, NaN diameters) at the
    /// width/length ratio `rho`: l = ∛(V/(factor·ρ²)) = e^{(ln V − ln factor − 2 ln ρ)/3}, w = ρ·l.
    #[inline]
    pub fn diameters(&self, ln_v: f64, rho: Ratio) -> (f64, f64) {
        if ln_v == f64::NEG_INFINITY {
            return (f64::NAN, f64::NAN);
        }
        let l = ((ln_v - self.ln_factor - 2.0 * rho.ln) / 3.0).exp();
        (l, rho.v * l)
    }

    /// A reading of a tumor of true volume e^`ln_v` and width/length ratio `rho`.
    ///
    /// Diameter error: true length l = ∛(V/(factor·ρ²)), width ρ·l; each diameter is read as
    /// d·b·e^{cv·z} (b the diameter bias), the longer reading is the length, V = factor·L·W².
    /// In logs, with c = ln l + ln b, A = cv·z₁ and B = ln ρ + cv·z₂, L = e^{c+max(A,B)} and
    /// W = e^{c+min(A,B)}: two exponentials and no cube root. Log-volume error:
    /// V = V·(1+bias)·e^{sd·z}, diameters (when recorded) from V at the true ratio.
    /// Random draws per palpable reading: z₁ then z₂ (diameters) or one z (log volume).
    #[inline]
    pub fn read<R: Rng + ?Sized>(
        &self,
        ln_v: f64,
        rho: Ratio,
        diameters: bool,
        rng: &mut R,
    ) -> Meas {
        let ln_rho = rho.ln;
        // Not palpable below the floor; NaN and V = 0 (ln −∞) read as 0 whatever the floor.
        if !(ln_v >= self.ln_floor && ln_v > f64::NEG_INFINITY) {
            return Meas {
                v: 0.0,
                l: f64::NAN,
                w: f64::NAN,
            };
        }
        match self.error {
            ErrPlan::Diameters { cv } => {
                let c = (ln_v - self.ln_factor - 2.0 * ln_rho) / 3.0 + self.ln_bias_cbrt;
                let a = cv * z(rng);
                let b = ln_rho + cv * z(rng);
                let l = (c + a.max(b)).exp();
                let w = (c + a.min(b)).exp();
                Meas {
                    v: self.factor * l * w * w,
                    l,
                    w,
                }
            }
            ErrPlan::LogVolume { sd } => {
                let ln_vm = ln_v + self.ln_bias + sd * z(rng);
                let (l, w) = if diameters {
                    self.diameters(ln_vm, rho)
                } else {
                    (f64::NAN, f64::NAN)
                };
                Meas {
                    v: ln_vm.exp(),
                    l,
                    w,
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EndpointPlan {
    pub max_volume: f64,
    pub max_diameter: f64,
    pub max_loss_pct: f64,
    pub event_volume: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BodyPlan {
    pub bw: RParam,
    pub gain: f64,
    pub noise_cv: f64,
    /// Recovery of the toxic deficit per day without a toxic dose, ln units (≥ 0).
    pub recovery: f64,
}

/// `[dose-modification]` as the engine reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DoseModPlan {
    /// Loss from the day-0 weight that starts a holiday, %.
    pub threshold_pct: f64,
    /// Holiday length, days.
    pub holiday_days: u32,
    /// Dose fraction after a holiday.
    pub resume: f64,
    /// Holidays allowed before dosing stops.
    pub max_holidays: u32,
}

/// Study stop rule as the engine reads it (per cohort: the deciding arm's index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StopPlan {
    pub arm: usize,
    pub median: bool,
    pub volume: f64,
}

/// One day of the drug-induced body-weight deficit (a ln factor ≤ 0): a day with toxic doses
/// adds their `inc` (< 0); a day without one recovers `rec` (≥ 0), up to no deficit. The one
/// rule of the plan's recovering tables and of animals whose dosing is modified.
#[inline]
pub(crate) fn tox_day_step(l: f64, inc: f64, rec: f64) -> f64 {
    if inc != 0.0 {
        l + inc
    } else {
        (l + rec).min(0.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EnrollPlan {
    pub min: f64,
    pub max: f64,
    pub max_wait: u32,
    pub randomization: Randomization,
    pub mode: EnrollmentMode,
}

/// Everything precomputed from a protocol.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub protocol_id: String,
    pub cohorts: Vec<CohortPlan>,
    pub caliper: CaliperPlan,
    pub endpoints: EndpointPlan,
    pub body: BodyPlan,
    pub enroll: EnrollPlan,
    /// Caliper days of the implantation phase (days since implantation), ≤ max wait.
    pub pre_visits: Vec<u32>,
    /// Absolute day (from the protocol start) of the implantation phase start, or of study
    /// day 0 for `AtBaseline`.
    pub pre_start_abs: u32,
    /// Days between the enrollment caliper day and study day 0 (fixed phases in between).
    pub gap: u32,
    /// Length of the treatment part (day-0 phase and the fixed phases after it), days.
    pub horizon: u32,
    /// Treatment caliper days by weekday of study day 0.
    pub visits: [Vec<u32>; 7],
    /// The same days as f64 (the hot loop avoids int → float conversions).
    pub visits_f: [Vec<f64>; 7],
    pub max_visits: usize,
    pub start_wd: u32,
    pub body_weight: bool,
    pub diameters: bool,
    /// The protocol's fixed analysis day (study day), if any.
    pub analysis_day: Option<f64>,
    /// Logs precomputed for the closed-form loop.
    pub fast: FastLogs,
}

/// ln of thresholds used by the closed-form loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FastLogs {
    pub ln_bias: f64,
    pub ln_floor: f64,
    pub ln_max: f64,
    pub ln_event: f64,
}

fn unsupported(p: &Protocol, message: impl Into<String>) -> SimError {
    SimError::Unsupported {
        protocol: p.id.clone(),
        message: message.into(),
    }
}

use crate::model::schedule::{
    administration_times, day_fraction, direct_effect_window, dose_times,
    planned_days as schedule_days,
};

/// A treatment phase: the day-0 phase or a fixed phase after it, as (name, offset from study
/// day 0, length), days.
type TreatPhase = (String, u32, u32);

/// What every cohort and arm step reads: the protocol, its timing and the shared plans.
struct PlanCx<'a> {
    p: &'a Protocol,
    x: &'a Xenograft,
    mode: EnrollmentMode,
    tphases: Vec<TreatPhase>,
    horizon: u32,
    visits: &'a [Vec<u32>; 7],
    caliper: &'a CaliperPlan,
    body: &'a BodyPlan,
}

impl Plan {
    /// Weekday (Monday = 0) of study day 0 for animals randomized at baseline (the fixed
    /// grid of at-baseline enrollment and of the power fast engine).
    pub fn baseline_wd0(&self) -> usize {
        ((self.start_wd + self.pre_start_abs) % 7) as usize
    }

    pub fn new(p: &Protocol, opts: &SimOptions) -> Result<Plan, SimError> {
        let x: &Xenograft = p
            .xenograft()
            .ok_or_else(|| SimError::NotXenograft(p.id.clone(), p.kind().as_str()))?;
        if x.cohorts.is_empty() {
            return Err(unsupported(p, "no cohorts"));
        }
        let cal = x
            .caliper_measurement()
            .ok_or_else(|| unsupported(p, "no caliper measurement"))?;
        let mode = x.enrollment.mode;
        let (pre_start_abs, gap, pre_visits) = pre_enrollment(p, x, cal, opts)?;
        let tphases = p.treatment_phases();
        let horizon: u32 = tphases.iter().map(|t| t.2).sum();
        if horizon == 0 {
            return Err(unsupported(p, "the day-0 phase has no fixed duration"));
        }
        let visits = treatment_visits(cal, &tphases);
        if visits.iter().any(|v| v.is_empty()) {
            return Err(unsupported(p, "no caliper day during the treatment phases"));
        }
        let max_visits = visits.iter().map(Vec::len).max().unwrap_or(0);
        let caliper = caliper_plan(x);
        let endpoints = endpoint_plan(x);
        let body = BodyPlan {
            bw: RParam::from(&x.animals.body_weight_g),
            gain: x.animals.weight_gain_g_per_day.value,
            noise_cv: x.animals.weight_noise_cv.value,
            recovery: x
                .animals
                .weight_recovery_pct_per_week
                .as_ref()
                .map_or(0.0, |r| -(1.0 - r.value / 100.0).ln() / 7.0),
        };
        let enroll = EnrollPlan {
            min: x.enrollment.min_mm3,
            max: x.enrollment.max_mm3,
            max_wait: x.enrollment.max_wait_days,
            randomization: x.enrollment.randomization,
            mode,
        };
        let start_wd = opts.start.weekday().to_monday_zero_offset() as u32;
        let cx = PlanCx {
            p,
            x,
            mode,
            tphases,
            horizon,
            visits: &visits,
            caliper: &caliper,
            body: &body,
        };
        let cohorts = x
            .cohorts
            .iter()
            .map(|c| cohort_plan(&cx, c))
            .collect::<Result<Vec<_>, _>>()?;
        let weight_endpoint = endpoints.max_loss_pct.is_finite();
        Ok(Plan {
            protocol_id: p.id.clone(),
            cohorts,
            caliper,
            endpoints,
            body,
            enroll,
            pre_visits,
            pre_start_abs,
            gap,
            horizon,
            visits_f: std::array::from_fn(|i| visits[i].iter().map(|&d| d as f64).collect()),
            visits,
            max_visits,
            start_wd,
            fast: FastLogs {
                ln_bias: caliper.bias.ln(),
                ln_floor: caliper.floor.ln(),
                ln_max: endpoints.max_volume.ln(),
                ln_event: endpoints.event_volume.ln(),
            },
            analysis_day: x.analysis.analysis_day,
            // Holidays are decided on the measured weight.
            body_weight: opts.body_weight || weight_endpoint || x.dose_modification.is_some(),
            diameters: opts.record_diameters || endpoints.max_diameter.is_finite(),
        })
    }
}

/// The implantation phase as (absolute start day, days between the enrollment caliper day
/// and study day 0, caliper days of the enrollment window); `AtBaseline` has no window.
fn pre_enrollment(
    p: &Protocol,
    x: &Xenograft,
    cal: &Measurement,
    opts: &SimOptions,
) -> Result<(u32, u32, Vec<u32>), SimError> {
    let day0 = p.day0_phase();
    let until = p
        .phases
        .iter()
        .position(|ph| matches!(ph.end, PhaseEnd::Until { .. }));
    let fixed_len = |i: usize| match p.phases[i].end {
        PhaseEnd::Fixed { days } => days,
        PhaseEnd::Until { .. } => 0,
    };
    match (x.enrollment.mode, until) {
        (EnrollmentMode::AtBaseline, _) => Ok(((0..day0).map(fixed_len).sum(), 0, Vec::new())),
        (_, Some(u)) if u < day0 => {
            let start: u32 = (0..u).map(fixed_len).sum();
            let gap = (u + 1..day0).map(fixed_len).sum();
            if !cal.phases.iter().any(|n| *n == p.phases[u].name) {
                return Err(unsupported(
                    p,
                    format!(
                        "calipers are not taken during phase `{}`, which ends on the enrollment window",
                        p.phases[u].name
                    ),
                ));
            }
            let wd = (opts.start.weekday().to_monday_zero_offset() as u32 + start) % 7;
            let v = schedule_days(&cal.schedule, x.enrollment.max_wait_days, true, wd);
            if v.is_empty() {
                return Err(unsupported(p, "no caliper day before the maximum wait"));
            }
            Ok((start, gap, v))
        }
        _ => Err(unsupported(
            p,
            "single-day or rolling enrollment needs a phase ending on the enrollment window before the day-0 phase",
        )),
    }
}

/// Treatment caliper days (study days, sorted, distinct) for each weekday of study day 0;
/// only the last treatment phase includes its closing day.
fn treatment_visits(cal: &Measurement, tphases: &[TreatPhase]) -> [Vec<u32>; 7] {
    let mut visits: [Vec<u32>; 7] = Default::default();
    for (wd0, v) in visits.iter_mut().enumerate() {
        for (i, (name, o, len)) in tphases.iter().enumerate() {
            if cal.phases.iter().any(|n| n == name) {
                let last = i + 1 == tphases.len();
                v.extend(
                    schedule_days(&cal.schedule, *len, last, (wd0 as u32 + o) % 7)
                        .into_iter()
                        .map(|d| d + o),
                );
            }
        }
        v.sort_unstable();
        v.dedup();
    }
    visits
}

/// The caliper model: volume formula, measurement error, observer bias, detection floor.
fn caliper_plan(x: &Xenograft) -> CaliperPlan {
    let factor = match x.caliper.formula {
        VolumeFormula::HalfLw2 => 0.5,
        VolumeFormula::PiOver6Lw2 => std::f64::consts::PI / 6.0,
    };
    let bias = 1.0 + x.caliper.observer_bias.value;
    let floor = x.caliper.detection_floor_mm3.value;
    CaliperPlan {
        factor,
        ln_factor: factor.ln(),
        error: match &x.caliper.error {
            CaliperError::Diameters { cv } => ErrPlan::Diameters { cv: cv.value },
            CaliperError::LogVolume { sd } => ErrPlan::LogVolume { sd: sd.value },
        },
        bias,
        ln_bias: bias.ln(),
        ln_bias_cbrt: bias.ln() / 3.0,
        floor,
        ln_floor: floor.ln(),
        width_ratio: RParam::from(&x.caliper.width_ratio),
    }
}

/// Humane and event endpoints; an absent limit is ∞ (never reached).
fn endpoint_plan(x: &Xenograft) -> EndpointPlan {
    let e = &x.endpoints;
    EndpointPlan {
        max_volume: e.max_volume_mm3.as_ref().map_or(f64::INFINITY, |s| s.value),
        max_diameter: e
            .max_diameter_mm
            .as_ref()
            .map_or(f64::INFINITY, |s| s.value),
        max_loss_pct: e
            .max_weight_loss_pct
            .as_ref()
            .map_or(f64::INFINITY, |s| s.value),
        event_volume: e.event_volume_mm3,
    }
}

/// One cohort: growth model, estrogen support, resistant subclone, arms, and the flags that
/// pick the engine's loop (ODE or closed form).
fn cohort_plan(cx: &PlanCx, c: &Cohort) -> Result<CohortPlan, SimError> {
    let model = model_plan(&c.growth);
    let estrogen = estrogen_plan(cx.x, c);
    let resistant = c.resistant.as_ref().map(|r| ResPlan {
        fraction: RParam::from(&r.fraction),
        sensitivity: r.sensitivity.value,
        gwe: r.growth_without_estrogen.value,
    });
    let mut arms = c
        .arms
        .iter()
        .map(|a| arm_plan(cx, c, a))
        .collect::<Result<Vec<_>, _>>()?;
    let exp = matches!(
        model,
        ModelPlan::Closed {
            kind: KinKind::Exp,
            ..
        }
    );
    // Quadrature tables exist for exponential growth only (see `ArmPlan::expo`).
    if exp {
        for arm in arms.iter_mut().filter(|a| a.exposure) {
            arm.expo = exposure_tables(arm, cx.visits, cx.body.bw.typ);
        }
    }
    let simeoni = matches!(model, ModelPlan::Simeoni { .. });
    let needs_ode = simeoni || (resistant.is_some() && !exp);
    let est_const = {
        let e = estrogen.end_study(0.0);
        e <= 0.0 || e >= cx.horizon as f64
    };
    let fast = cx.mode == EnrollmentMode::AtBaseline
        && exp
        && resistant.is_none()
        && est_const
        && matches!(cx.caliper.error, ErrPlan::LogVolume { .. })
        && arms.iter().all(|a| {
            !a.exposure
                && a.dose_mod.is_none()
                && (a.direct_always_on || a.treats.iter().all(|t| t.effect == EffectPlan::None))
        });
    let stop = match &cx.x.study_stop {
        None => None,
        Some(r) => {
            let name = r.arm.as_deref().unwrap_or(c.control().name.as_str());
            let arm = c.arms.iter().position(|a| a.name == name).ok_or_else(|| {
                unsupported(
                    cx.p,
                    format!("[study-stop] arm `{name}` is not in cohort `{}`", c.name),
                )
            })?;
            Some(StopPlan {
                arm,
                median: r.statistic == crate::protocol::StopStatistic::Median,
                volume: r.volume_mm3,
            })
        }
    };
    Ok(CohortPlan {
        name: c.name.clone(),
        slug: slug(&c.name),
        model,
        v0: RParam::from(c.growth.v0()),
        take: c.take_rate.value.clamp(0.0, 1.0),
        latency: RParam::from(&c.latency_days),
        estrogen,
        gwe: c.growth_without_estrogen.value,
        resistant,
        arms,
        implanted: c.implantation.animals,
        yield_est: f64::NAN,
        needs_ode,
        fast,
        stop,
    })
}

/// The growth model with its random parameters.
fn model_plan(growth: &GrowthModel) -> ModelPlan {
    match growth {
        GrowthModel::Exponential { rate, .. } => ModelPlan::Closed {
            kind: KinKind::Exp,
            rate: RParam::from(rate),
            capacity: None,
        },
        GrowthModel::Logistic {
            rate, capacity_mm3, ..
        } => ModelPlan::Closed {
            kind: KinKind::Logistic,
            rate: RParam::from(rate),
            capacity: Some(RParam::from(capacity_mm3)),
        },
        GrowthModel::Gompertz {
            rate, capacity_mm3, ..
        } => ModelPlan::Closed {
            kind: KinKind::Gompertz,
            rate: RParam::from(rate),
            capacity: Some(RParam::from(capacity_mm3)),
        },
        GrowthModel::Simeoni {
            lambda0,
            lambda1,
            k1,
            psi,
            ..
        } => ModelPlan::Simeoni {
            lambda0: RParam::from(lambda0),
            lambda1: RParam::from(lambda1),
            k1: RParam::from(k1),
            psi: *psi,
        },
    }
}

/// Estrogen support of the cohort: host ovariectomy, and when its supply runs out and is
/// stopped (the supply's own rule, [`crate::protocol::HormoneSupport`]).
fn estrogen_plan(x: &Xenograft, c: &Cohort) -> EstrogenPlan {
    EstrogenPlan {
        pellet: c.hormone.is_some(),
        ovx: x.animals.ovariectomized,
        exhausted_tumor: c
            .hormone
            .as_ref()
            .map_or(f64::INFINITY, |h| h.exhausted_tumor()),
        removal_study: c
            .hormone
            .as_ref()
            .map_or(f64::INFINITY, |h| h.removal_study()),
    }
}

/// Per-weekday event lists and toxicity of an arm, filled treatment by treatment.
struct ArmEvents {
    events: [Vec<Ev>; 7],
    tox: [Vec<f64>; 7],
    tox_day: [Vec<f64>; 7],
    last_dose: [f64; 7],
    /// Some treatment is exposure-driven.
    exposure: bool,
    /// Every direct effect switches on at one time by day 1 and stays on.
    always_on: bool,
    /// First administration of the direct effects, by weekday of study day 0.
    onset: [Option<f64>; 7],
}

/// One treatment's dosing as the weekday step reads it.
struct Dosing<'a> {
    /// Index of the treatment in its arm.
    k: u8,
    schedule: &'a Schedule,
    effect: EffectPlan,
    /// Offset and length of the dosing phase within the treatment part, days.
    off: u32,
    len: u32,
    /// ln body-weight factor per dosing day (0 = no toxicity).
    tox_rate: f64,
}

/// One arm: its treatments with their effects and PK, and the dosing events and toxicity
/// for each weekday of study day 0.
fn arm_plan(cx: &PlanCx, c: &Cohort, a: &Arm) -> Result<ArmPlan, SimError> {
    let p = cx.p;
    if a.treatments.len() > MAX_TREAT {
        return Err(unsupported(
            p,
            format!(
                "arm `{}` has {} treatments; at most {MAX_TREAT} are simulated",
                a.name,
                a.treatments.len()
            ),
        ));
    }
    let mut treats = Vec::new();
    let mut acc = ArmEvents {
        events: Default::default(),
        tox: Default::default(),
        tox_day: std::array::from_fn(|_| vec![0.0; cx.horizon as usize]),
        last_dose: [f64::NEG_INFINITY; 7],
        exposure: false,
        always_on: true,
        onset: [None; 7],
    };
    for (k, t) in a.treatments.iter().enumerate() {
        treats.push(treatment_plan(cx, c, a, (k, t), &mut acc)?);
    }
    for (wd0, ev) in acc.events.iter_mut().enumerate() {
        ev.sort_by(|a, b| a.t.total_cmp(&b.t));
        if acc.tox[wd0].is_empty() {
            acc.tox[wd0].resize(cx.visits[wd0].len(), 0.0);
        }
        if cx.body.recovery > 0.0 {
            // A recovering deficit is not a sum of dosing days: step the days.
            recovering_tox(
                &acc.tox_day[wd0],
                &cx.visits[wd0],
                cx.body.recovery,
                &mut acc.tox[wd0],
            );
        }
    }
    let dose_mod = cx.x.dose_modification.as_ref().and_then(|m| {
        let drug = a
            .treatments
            .iter()
            .any(|t| cx.x.agent(&t.agent).is_some_and(|g| !g.vehicle));
        (drug && m.applies_to(&a.name)).then_some(DoseModPlan {
            threshold_pct: m.weight_loss_pct.value,
            holiday_days: m.holiday_days,
            resume: m.resume_dose_fraction,
            max_holidays: m.max_holidays,
        })
    });
    Ok(ArmPlan {
        name: a.name.clone(),
        control: a.control,
        n: a.n as usize,
        interaction: a.interaction,
        treats,
        events: acc.events,
        tox: acc.tox,
        tox_day: acc.tox_day,
        dose_mod,
        last_dose: acc.last_dose,
        exposure: acc.exposure,
        direct_always_on: acc.always_on,
        direct_onset: acc.onset.map(|o| o.unwrap_or(0.0)),
        expo: Vec::new(),
    })
}

/// Treatment `k` of arm `a`: its effect and PK, with its dosing events and toxicity added
/// to `acc` for every weekday of study day 0.
fn treatment_plan(
    cx: &PlanCx,
    c: &Cohort,
    a: &Arm,
    (k, t): (usize, &Treatment),
    acc: &mut ArmEvents,
) -> Result<TreatPlan, SimError> {
    let p = cx.p;
    let agent =
        cx.x.agent(&t.agent)
            .ok_or_else(|| unsupported(p, format!("unknown agent `{}`", t.agent)))?;
    let effect = effect_plan(agent, c, t);
    let pk = pk_plan(agent, t);
    if matches!(effect, EffectPlan::Exposure { .. }) {
        if pk.is_none() {
            return Err(unsupported(
                p,
                format!(
                    "agent `{}` has an exposure-driven effect but no PK",
                    t.agent
                ),
            ));
        }
        acc.exposure = true;
    }
    // Phase of the schedule: offset within the treatment part.
    let (_, off, len) = cx
        .tphases
        .iter()
        .find(|(n, _, _)| *n == t.phase)
        .ok_or_else(|| {
            unsupported(
                p,
                format!(
                    "arm `{}`: dosing phase `{}` is not a treatment phase (day-0 phase or later)",
                    a.name, t.phase
                ),
            )
        })?;
    let loss = agent
        .weight_loss_pct_per_week
        .as_ref()
        .map_or(0.0, |s| s.value);
    let mut tox_rate = if loss > 0.0 && loss < 100.0 {
        (1.0 - loss / 100.0).ln() / 7.0
    } else {
        0.0
    };
    // Exposure-driven toxicity: the loss holds at the reference dose and scales with the
    // dose given (mg per animal at the typical weight, so per-kg and flat doses compare).
    if let Some(r) = agent.weight_loss_reference {
        let bw = cx.body.bw.typ;
        let reference = r.unit.mg_per_animal(r.dose, bw);
        if reference > 0.0 {
            tox_rate *= t.unit.mg_per_animal(t.dose, bw) / reference;
        }
    }
    let dosing = Dosing {
        k: k as u8,
        schedule: &t.schedule,
        effect,
        off: *off,
        len: *len,
        tox_rate,
    };
    for wd0 in 0..7u32 {
        dosing_weekday(cx, &dosing, wd0, acc);
    }
    Ok(TreatPlan {
        effect,
        pk,
        dose: t.dose,
        unit: t.unit,
    })
}

/// The agent's effect in this cohort (none for a vehicle or an agent without an effect).
fn effect_plan(agent: &Agent, c: &Cohort, t: &Treatment) -> EffectPlan {
    match (agent.vehicle, c.effect(&t.agent)) {
        (true, _) | (_, None) => EffectPlan::None,
        (false, Some(eff)) => match &eff.mode {
            EffectMode::Direct {
                inhibition,
                kill_rate_per_day,
            } => EffectPlan::Direct {
                inhibition: RParam::from(inhibition),
                kill: RParam::from(kill_rate_per_day),
            },
            EffectMode::Exposure {
                emax,
                ec50_ng_ml,
                hill,
                target,
            } => EffectPlan::Exposure {
                emax: RParam::from(emax),
                ec50: RParam::from(ec50_ng_ml),
                hill: *hill,
                k2: match target {
                    EffectTarget::Growth => None,
                    EffectTarget::Kill { k2 } => Some(RParam::from(k2)),
                },
            },
        },
    }
}

/// The agent's PK in days (IV: complete bioavailability).
fn pk_plan(agent: &Agent, t: &Treatment) -> Option<PkPlan> {
    agent.pk.as_ref().map(|pk| PkPlan {
        ka: pk.ka_per_h.value * 24.0,
        ke: std::f64::consts::LN_2 / pk.half_life_h.value * 24.0,
        v_l_per_kg: pk.volume_l_per_kg.value,
        f: if t.route == Route::Iv {
            1.0
        } else {
            pk.bioavailability.value
        },
        iv: t.route == Route::Iv,
    })
}

/// Adds one treatment's events (doses for exposure effects, on/off for direct ones) and
/// toxicity for weekday `wd0` of study day 0 to `acc`.
fn dosing_weekday(cx: &PlanCx, d: &Dosing, wd0: u32, acc: &mut ArmEvents) {
    let days: Vec<u32> =
        // Doses run 0..len: the closing day of the study is a caliper day, not a
        // dosing day (the timeline's rule, model::schedule).
        schedule_days(d.schedule, d.len, false, (wd0 + d.off) % 7)
            .into_iter()
            .map(|day| day + d.off)
            .collect();
    let hours: Vec<f64> = dose_times(d.schedule)
        .into_iter()
        .map(|tm| 24.0 * day_fraction(tm))
        .collect();
    let ev = &mut acc.events[wd0 as usize];
    let k = d.k;
    let times = administration_times(d.schedule, d.off, d.len, wd0);
    if let Some(&l) = times.last() {
        let slot = &mut acc.last_dose[wd0 as usize];
        *slot = slot.max(l);
    }
    match d.effect {
        EffectPlan::Exposure { .. } => {
            for &day in &days {
                for h in &hours {
                    ev.push(Ev {
                        t: day as f64 + h / 24.0,
                        kind: EvKind::Dose(k),
                    });
                }
            }
        }
        EffectPlan::Direct { .. } => {
            if let Some((f0, off_t)) = direct_effect_window(&times, d.schedule) {
                ev.push(Ev {
                    t: f0,
                    kind: EvKind::On(k),
                });
                if off_t.is_finite() {
                    ev.push(Ev {
                        t: off_t,
                        kind: EvKind::Off(k),
                    });
                }
                // "Always on" for the fast path: every direct effect of the arm starts at
                // one time by day 1 (the day-0 reading is pre-dose) and lasts past the
                // horizon.
                let onset = &mut acc.onset[wd0 as usize];
                if f0 >= 1.0
                    || off_t < cx.horizon as f64
                    || onset.is_some_and(|o| (o - f0).abs() > 1e-12)
                {
                    acc.always_on = false;
                }
                *onset = Some(f0);
            } else {
                acc.always_on = false;
            }
        }
        EffectPlan::None => {}
    }
    // Toxicity: ln factor accumulates per dosing day before each visit.
    let visits = &cx.visits[wd0 as usize];
    let tv = &mut acc.tox[wd0 as usize];
    if tv.is_empty() {
        tv.resize(visits.len(), 0.0);
    }
    if d.tox_rate != 0.0 {
        for (vi, &vd) in visits.iter().enumerate() {
            let n = days.iter().filter(|&&day| day < vd).count();
            tv[vi] += d.tox_rate * n as f64;
        }
        let td = &mut acc.tox_day[wd0 as usize];
        for &day in &days {
            if let Some(v) = td.get_mut(day as usize) {
                *v += d.tox_rate;
            }
        }
    }
}

/// The deficit at each visit of a recovering arm: [`tox_day_step`] over the days before it.
fn recovering_tox(tox_day: &[f64], visits: &[u32], rec: f64, out: &mut [f64]) {
    let mut l = 0.0;
    let mut day = 0usize;
    for (vi, &vd) in visits.iter().enumerate() {
        while day < vd as usize {
            l = tox_day_step(l, tox_day.get(day).copied().unwrap_or(0.0), rec);
            day += 1;
        }
        out[vi] = l;
    }
}

/// The exposure quadrature tables of `arm` for each weekday of study day 0, for the typical
/// body weight `bw` (g), which places the nodes (the animal's own dose/volume scales the
/// curve).
fn exposure_tables(
    arm: &ArmPlan,
    visits: &[Vec<u32>; 7],
    bw: f64,
) -> Vec<super::exposure::ExposureTable> {
    let scale: Vec<f64> = arm
        .treats
        .iter()
        .map(|t| {
            t.pk.map_or(0.0, |pk| {
                t.unit.mg_per_animal(t.dose, bw) / (pk.v_l_per_kg * bw / 1000.0)
            })
        })
        .collect();
    (0..7)
        .map(|wd0| super::exposure::ExposureTable::build(arm, wd0, &visits[wd0], &scale))
        .collect()
}

pub(crate) use crate::plot::slug;

/// Draws a standard normal (ziggurat, rand_distr).
#[inline]
pub(crate) fn z<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.sample(StandardNormal)
}

/// Uniform in [0, 1).
#[inline]
pub(crate) fn u01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.random::<f64>()
}

#[cfg(test)]
mod caliper_tests {
    use super::*;
    use crate::rng::stream;

    fn caliper(error: ErrPlan, floor: f64) -> CaliperPlan {
        let (factor, bias) = (0.5, 1.07);
        CaliperPlan {
            factor,
            ln_factor: factor.ln(),
            error,
            bias,
            ln_bias: bias.ln(),
            ln_bias_cbrt: bias.ln() / 3.0,
            floor,
            ln_floor: floor.ln(),
            width_ratio: RParam {
                typ: 0.7,
                ln_typ: 0.7f64.ln(),
                kind: RKind::Fixed,
            },
        }
    }

    /// The reading in logs equals the direct formula (∛, each diameter × b^{1/3}·e^{cv·z},
    /// the longer one the length, V = factor·L·W²) on the same draws, to rounding.
    #[test]
    fn reading_in_logs_equals_the_direct_caliper_formula() {
        let cv = 0.12;
        let c = caliper(ErrPlan::Diameters { cv }, 10.0);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * b.abs();
        let mut swapped = 0;
        for s in 0..2000u64 {
            let mut r = stream(s, &[1]);
            let v = 10.0 + (r.random::<f64>() * 8.0).exp();
            let rho = 0.3 + 0.7 * r.random::<f64>();
            let mut ra = stream(s, &[2]);
            let mut rb = ra.clone();
            let m = c.read(v.ln(), Ratio::new(rho), true, &mut ra);
            let l = (v / (0.5 * rho * rho)).cbrt();
            let b3 = 1.07f64.cbrt();
            let mut lm = l * b3 * (cv * z(&mut rb)).exp();
            let mut wm = rho * l * b3 * (cv * z(&mut rb)).exp();
            if wm > lm {
                std::mem::swap(&mut lm, &mut wm);
                swapped += 1;
            }
            assert!(
                close(m.l, lm) && close(m.w, wm),
                "seed {s}: {m:?} vs {lm} {wm}"
            );
            assert!(close(m.v, 0.5 * lm * wm * wm), "seed {s}");
            // Same number of draws: the streams stay in step.
            assert_eq!(ra.random::<u64>(), rb.random::<u64>());
        }
        // Both orders occur (the max/min form is exercised on both sides).
        assert!(swapped > 20 && swapped < 1980, "{swapped}");
    }

    #[test]
    fn log_volume_reading_and_floor() {
        let sd = 0.1;
        let c = caliper(ErrPlan::LogVolume { sd }, 20.0);
        for s in 0..500u64 {
            let (v, rho) = (30.0 + s as f64, 0.6);
            let mut ra = stream(s, &[3]);
            let mut rb = ra.clone();
            let m = c.read(v.ln(), Ratio::new(rho), true, &mut ra);
            let vm = v * 1.07 * (sd * z(&mut rb)).exp();
            let l = (vm / (0.5 * rho * rho)).cbrt();
            assert!((m.v - vm).abs() <= 1e-13 * vm);
            assert!((m.l - l).abs() <= 1e-13 * l && (m.w - rho * l).abs() <= 1e-13 * l);
        }
        // Below the floor, zero and NaN: not palpable, no draw.
        for v in [19.9, 0.0, f64::NAN] {
            let mut ra = stream(9, &[4]);
            let mut rb = ra.clone();
            let m = c.read(v.ln(), Ratio::new(0.6), true, &mut ra);
            assert_eq!(m.v, 0.0);
            assert!(m.l.is_nan() && m.w.is_nan());
            assert_eq!(ra.random::<u64>(), rb.random::<u64>());
        }
        // Without a floor a zero volume is still not palpable.
        let c0 = caliper(ErrPlan::LogVolume { sd }, 0.0);
        assert_eq!(
            c0.read(0.0f64.ln(), Ratio::new(0.6), false, &mut stream(1, &[]))
                .v,
            0.0
        );
    }
}
