//! The engine: per-animal dynamics, measurement, enrollment and randomization.

use super::animals::{AnimalPlan, Losses, plan_for_arms};
use super::buffer::{CohortOutcome, EndReason, Fate, Slot, StudyBuffer};
use super::exposure::{AnimalDrugs, Rates};
use super::plan::{
    ArmPlan, CohortPlan, EffectPlan, ErrPlan, EvKind, KinKind, MAX_TREAT, Meas, ModelPlan, Plan,
    Ratio, u01, z,
};
use super::rules::DoseState;
use super::{SimError, SimOptions};
use crate::model::effect::{bliss, emax_hill};
use crate::model::growth::{Simeoni, rk4};
use crate::model::pk::{OneCompartment, PkState};
use crate::protocol::{EnrollmentMode, Protocol, Randomization};
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

/// State vector: closed-form models use [sensitive, resistant]; Simeoni uses
/// [x1..x4 sensitive, x1..x4 resistant].
type State = [f64; 8];

/// One animal's drawn parameters.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Animal {
    v0: f64,
    r_base: f64,
    r_add: f64,
    cap: f64,
    l1: f64,
    k1: f64,
    latency: f64,
    frac: f64,
    rho: Ratio,
    bw0: f64,
    pub(super) inh: [f64; MAX_TREAT],
    pub(super) kill: [f64; MAX_TREAT],
    emax: [f64; MAX_TREAT],
    ec50: [f64; MAX_TREAT],
    k2: [f64; MAX_TREAT],
    pk: [OneCompartment; MAX_TREAT],
    pub(super) dose_mg: [f64; MAX_TREAT],
}

/// Drug state during a segment without events.
#[derive(Debug, Clone, Copy)]
struct Drug {
    on: u8,
    /// Direct effects allowed to act (all but during a dose holiday or after dosing stops).
    mask: u8,
    pk: [PkState; MAX_TREAT],
    pk_t: f64,
}

const NO_DRUG: Drug = Drug {
    on: 0,
    mask: u8::MAX,
    pk: [PkState {
        gut: 0.0,
        central: 0.0,
    }; MAX_TREAT],
    pk_t: 0.0,
};

/// v[k] = a + b·t[k] + sd·N(0, 1): the bench-P1 visit loop. Kept small and out of line so
/// that the ziggurat sampler is inlined into it (inside the large `simulate` body LLVM
/// leaves it as a call, which costs ~2× here).
#[inline(never)]
fn fill_linear_plus_noise<R: Rng + ?Sized>(
    rng: &mut R,
    t: &[f64],
    v: &mut [f64],
    a: f64,
    b: f64,
    sd: f64,
) {
    for (&t, v) in t.iter().zip(v.iter_mut()) {
        let e: f64 = rng.sample(rand_distr::StandardNormal);
        *v = a + b * t + sd * e;
    }
}

/// One implanted animal's pre-treatment growth in progress.
#[derive(Debug, Clone)]
struct PreGrowth {
    /// The animal's own random stream.
    stream: crate::rng::XRng,
    /// Tumor state at time `t` (general path).
    y: State,
    t: f64,
    /// ln V0 (closed-form path).
    ln_v0: f64,
}

/// Scratch space reused between replicates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    animals: Vec<Animal>,
    /// Per implanted animal during pre-treatment growth: its own random stream, tumor
    /// state and the time of that state (None: no take).
    pre: Vec<Option<PreGrowth>>,
    order: Vec<(f64, u32)>,
    deck: Vec<u16>,
    left: Vec<usize>,
    /// `[study-stop]` scratch: candidate days and one day's volumes.
    stop_days: Vec<f64>,
    stop_vals: Vec<f64>,
}

/// A reusable simulation engine for one protocol (see the module docs of [`crate::sim`]).
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) plan: Plan,
    opts: SimOptions,
    /// Exposure effects on exponential growth by quadrature ([`super::exposure`]); false
    /// runs the fixed-step RK4 reference (tests).
    quadrature: bool,
    /// Per cohort: take, pilot-simulated enrollment yield, attrition and spares — the inputs
    /// of [`super::animals::plan_for_arms`].
    losses: Vec<Losses>,
}

impl Engine {
    /// Validates that the protocol can be simulated and precomputes visit days, dose-event
    /// tables, toxicity tables and parameter transforms.
    pub fn new(protocol: &Protocol, opts: &SimOptions) -> Result<Engine, SimError> {
        let mut e = Engine {
            plan: Plan::new(protocol, opts)?,
            opts: opts.clone(),
            quadrature: true,
            losses: Vec::new(),
        };
        e.estimate_yields(protocol);
        Ok(e)
    }

    /// Pilot simulation of a pool of implanted animals per cohort (fixed internal stream,
    /// independent of the run seed) to estimate the enrollment yield — eligible animals per
    /// take — that sizes the default number of animals to implant ([`Engine::animal_plan`]).
    fn estimate_yields(&mut self, protocol: &Protocol) {
        const POOL: usize = 1000;
        let (attrition, spare_fraction) = protocol.xenograft().map_or((0.0, 0.0), |x| {
            (x.husbandry.attrition.value, x.husbandry.spare_fraction)
        });
        let mut scratch = Scratch::default();
        let mut o = CohortOutcome::default();
        self.losses.clear();
        for c in 0..self.plan.cohorts.len() {
            let take_rate = self.plan.cohorts[c].take;
            let (enrollment_yield, yield_source) =
                if self.plan.enroll.mode == EnrollmentMode::AtBaseline {
                    (
                        1.0,
                        "at-baseline design: every take is enrolled as drawn".to_string(),
                    )
                } else {
                    let mut rng = crate::rng::stream(0x005E_ED0F_9001, &[c as u64]);
                    self.enroll_pool(c, Some(POOL), POOL, &mut rng, &mut o, &mut scratch);
                    self.pilot_yield(&o, POOL)
                };
            self.plan.cohorts[c].yield_est = take_rate * enrollment_yield;
            self.losses.push(Losses {
                take_rate,
                enrollment_yield,
                yield_source,
                attrition,
                spare_fraction,
            });
        }
    }

    /// Eligible animals per take in a pilot pool of `pool` implanted animals (single-day: on
    /// the fullest caliper day; rolling: ever inside the window within the maximum wait), and
    /// where the number comes from. A pilot that never reaches the window falls back to the
    /// assumed default of the enrollment mode and says so.
    fn pilot_yield(&self, o: &CohortOutcome, pool: usize) -> (f64, String) {
        let npre = self.plan.pre_visits.len();
        let (lo, hi) = (self.plan.enroll.min, self.plan.enroll.max);
        let eligible = match self.plan.enroll.mode {
            EnrollmentMode::SingleDay => (0..npre)
                .map(|vi| {
                    (0..pool)
                        .filter(|&k| (lo..=hi).contains(&o.pre_volumes[k * npre + vi]))
                        .count()
                })
                .max()
                .unwrap_or(0),
            _ => o.eligible,
        };
        if eligible == 0 || o.takes == 0 {
            let y = super::animals::default_yield(self.plan.enroll.mode);
            return (
                y,
                format!(
                    "assumed {}%: none of {pool} pilot-simulated implants reached the enrollment window in time",
                    crate::output::fmt_value(y * 100.0)
                ),
            );
        }
        (
            eligible as f64 / o.takes as f64,
            format!(
                "pilot simulation: {eligible} of {} takes among {pool} implanted animals were inside the enrollment window in time",
                o.takes
            ),
        )
    }

    /// The engine integrating exposure effects with fixed-step RK4 everywhere (the reference
    /// the quadrature is tested against).
    #[cfg(test)]
    pub(crate) fn with_rk4_exposure(mut self) -> Self {
        self.quadrature = false;
        self
    }

    /// The options the engine was built with.
    pub fn options(&self) -> &SimOptions {
        &self.opts
    }
    /// Protocol id.
    pub fn protocol_id(&self) -> &str {
        &self.plan.protocol_id
    }
    /// Number of cohorts.
    pub fn cohort_count(&self) -> usize {
        self.plan.cohorts.len()
    }
    /// Cohort name.
    pub fn cohort_name(&self, c: usize) -> &str {
        &self.plan.cohorts[c].name
    }
    /// Number of arms in cohort `c`.
    pub fn arm_count(&self, c: usize) -> usize {
        self.plan.cohorts[c].arms.len()
    }
    /// Arm name.
    pub fn arm_name(&self, c: usize, a: usize) -> &str {
        &self.plan.cohorts[c].arms[a].name
    }
    /// Whether arm `a` is the cohort's control.
    pub fn is_control(&self, c: usize, a: usize) -> bool {
        self.plan.cohorts[c].arms[a].control
    }
    /// Index of the control arm of cohort `c`.
    pub fn control_arm(&self, c: usize) -> usize {
        self.plan.cohorts[c]
            .arms
            .iter()
            .position(|a| a.control)
            .unwrap_or(0)
    }
    /// Animals per arm in the protocol.
    pub fn protocol_n(&self, c: usize, a: usize) -> usize {
        self.plan.cohorts[c].arms[a].n
    }
    /// Caliper days of the pre-treatment phase (days since implantation).
    pub fn pre_visit_days(&self) -> &[u32] {
        &self.plan.pre_visits
    }
    /// Treatment caliper days (study days) when study day 0 falls on the protocol's
    /// day-0 weekday without a pre-treatment phase (`AtBaseline`), i.e. the common grid of
    /// every animal in such designs.
    pub fn baseline_visit_days(&self) -> &[u32] {
        &self.plan.visits[self.plan.baseline_wd0()]
    }
    /// The protocol's fixed analysis day, if any.
    pub fn analysis_day(&self) -> Option<f64> {
        self.plan.analysis_day
    }
    /// Largest number of treatment visits of an animal (the buffer's visit stride).
    pub fn max_visits(&self) -> usize {
        self.plan.max_visits
    }
    /// Length of the treatment part, days.
    pub fn horizon_days(&self) -> u32 {
        self.plan.horizon
    }
    /// Calendar date of an absolute protocol day (day 0 = first day of the first phase).
    pub fn date_of(&self, abs_day: i64) -> jiff::civil::Date {
        self.opts
            .start
            .checked_add(jiff::Span::new().days(abs_day))
            .unwrap_or(self.opts.start)
    }
    /// True when cohort `c` runs the closed-form bench loop.
    pub fn is_fast_path(&self, c: usize) -> bool {
        self.plan.cohorts[c].fast
    }
    /// Slug of the cohort name used in animal ids and file names.
    pub fn cohort_slug(&self, c: usize) -> &str {
        &self.plan.cohorts[c].slug
    }
    /// Absolute day (from the protocol start) of implantation (start of the phase ending on
    /// the enrollment window), or of study day 0 without such a phase.
    pub fn implantation_abs_day(&self) -> u32 {
        self.plan.pre_start_abs
    }
    /// The humane volume limit, if any (mm³).
    pub fn humane_volume_limit(&self) -> Option<f64> {
        Some(self.plan.endpoints.max_volume).filter(|v| v.is_finite())
    }
    /// The time-to-endpoint event line for growth plots: the event volume (mm³) and its label,
    /// naming the humane mean-diameter limit that also counts as the event when there is one.
    pub fn event_line(&self) -> (f64, String) {
        let ep = &self.plan.endpoints;
        let mut label = format!("endpoint event {:.0} mm³", ep.event_volume);
        if ep.max_diameter.is_finite() {
            label.push_str(&format!(" or diameter {:.0} mm", ep.max_diameter));
        }
        (ep.event_volume.min(ep.max_volume), label)
    }
    /// Whether arm `a` of cohort `c` follows the `[dose-modification]` rule.
    pub fn dose_modified(&self, c: usize, a: usize) -> bool {
        self.plan.cohorts[c].arms[a].dose_mod.is_some()
    }
    /// Whether any arm follows the `[dose-modification]` rule.
    pub fn has_dose_modification(&self) -> bool {
        self.plan
            .cohorts
            .iter()
            .any(|c| c.arms.iter().any(|a| a.dose_mod.is_some()))
    }
    /// Cohort `c`'s `[study-stop]` rule as (deciding arm, statistic, volume mm³), if any.
    pub fn stop_rule(&self, c: usize) -> Option<(&str, &'static str, f64)> {
        let cp = &self.plan.cohorts[c];
        cp.stop.map(|s| {
            (
                cp.arms[s.arm].name.as_str(),
                if s.median { "median" } else { "mean" },
                s.volume,
            )
        })
    }
    /// The protocol's enrollment window (min, max) in mm³.
    pub fn window(&self) -> (f64, f64) {
        (self.plan.enroll.min, self.plan.enroll.max)
    }

    /// Animals per arm for this run.
    fn sizes(&self, c: usize, n_per_arm: Option<usize>) -> impl Iterator<Item = usize> + '_ {
        self.plan.cohorts[c]
            .arms
            .iter()
            .map(move |a| n_per_arm.unwrap_or(a.n))
    }

    /// The animal plan of cohort `c` ([`super::animals`]): the protocol's arm sizes (or
    /// `n_per_arm` in every arm), its take, attrition and spares, and the pilot-simulated
    /// enrollment yield. `resources.csv`, `power` and the simulated pool all use it.
    pub fn animal_plan(&self, c: usize, n_per_arm: Option<usize>) -> AnimalPlan {
        let cp = &self.plan.cohorts[c];
        let arm_n: Vec<u32> = self.sizes(c, n_per_arm).map(|n| n as u32).collect();
        // An explicit protocol number is for the protocol's own arm sizes.
        let explicit = cp.implanted.filter(|_| n_per_arm.is_none());
        plan_for_arms(&cp.name, &arm_n, explicit, &self.losses[c])
    }

    /// The losses (take, yield and its source, attrition, spares) of cohort `c`.
    pub fn losses(&self, c: usize) -> &Losses {
        &self.losses[c]
    }

    /// Animals implanted in cohort `c`: [`Engine::animal_plan`]'s total (spares are
    /// implanted too; at-baseline designs implant exactly the arms).
    pub fn implanted(&self, c: usize, n_per_arm: Option<usize>) -> usize {
        if self.plan.enroll.mode == EnrollmentMode::AtBaseline {
            return self.sizes(c, n_per_arm).sum();
        }
        self.animal_plan(c, n_per_arm).implant_total as usize
    }

    fn prepare(&self, n_per_arm: Option<usize>, buf: &mut StudyBuffer) {
        let p = &self.plan;
        buf.stride = p.max_visits;
        buf.log_volumes = self.opts.log_volumes;
        buf.arm_base.clear();
        buf.arm_cap.clear();
        buf.arm_n.clear();
        buf.cohort_arm0.clear();
        let mut total = 0;
        for c in 0..p.cohorts.len() {
            buf.cohort_arm0.push(buf.arm_base.len());
            for n in self.sizes(c, n_per_arm) {
                buf.arm_base.push(total);
                buf.arm_cap.push(n);
                buf.arm_n.push(0);
                total += n;
            }
        }
        let cells = total * p.max_visits;
        if buf.slots.len() < total {
            buf.slots.resize(total, Slot::default());
        }
        for v in [&mut buf.vol, &mut buf.day] {
            if v.len() < cells {
                v.resize(cells, f64::NAN);
            }
        }
        if self.plan.diameters {
            for v in [&mut buf.len, &mut buf.wid] {
                if v.len() < cells {
                    v.resize(cells, f64::NAN);
                }
            }
        }
        if self.plan.body_weight && buf.bw.len() < cells {
            buf.bw.resize(cells, f64::NAN);
        }
        if buf.cohorts.len() != p.cohorts.len() {
            buf.cohorts
                .resize(p.cohorts.len(), CohortOutcome::default());
        }
    }

    /// Simulates one study into `buf`: implantation, growth to the window, enrollment and
    /// randomization, treatment, measurement and endpoints for every cohort. `n_per_arm`
    /// overrides the protocol's arm sizes. All randomness comes from `rng`, consumed in a
    /// fixed order, so the same stream gives the same study.
    pub fn simulate<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        n_per_arm: Option<usize>,
        buf: &mut StudyBuffer,
    ) -> Result<(), SimError> {
        self.prepare(n_per_arm, buf);
        let mut scratch = std::mem::take(&mut buf.scratch);
        for c in 0..self.plan.cohorts.len() {
            match self.plan.enroll.mode {
                EnrollmentMode::AtBaseline => self.at_baseline(c, rng, buf),
                _ => self.with_enrollment(c, n_per_arm, rng, buf, &mut scratch),
            }
            // Every animal's record is causal, so ending the study later cuts it exactly.
            self.study_stop(c, buf, &mut scratch.stop_days, &mut scratch.stop_vals);
        }
        buf.scratch = scratch;
        Ok(())
    }

    // ---------------------------------------------------------------- animals and dynamics

    fn draw_animal<R: Rng + ?Sized>(&self, cp: &CohortPlan, rng: &mut R) -> Animal {
        let mut an = Animal {
            v0: cp.v0.draw(rng).max(1e-6),
            ..Animal::default()
        };
        match &cp.model {
            ModelPlan::Closed { rate, capacity, .. } => {
                (an.r_base, an.r_add) = rate.draw_rate(rng);
                an.cap = capacity.map_or(f64::INFINITY, |k| k.draw(rng).max(1e-6));
            }
            ModelPlan::Simeoni {
                lambda0,
                lambda1,
                k1,
                ..
            } => {
                (an.r_base, an.r_add) = lambda0.draw_rate(rng);
                an.l1 = lambda1.draw(rng).max(1e-9);
                an.k1 = k1.draw(rng).max(0.0);
            }
        }
        an.latency = cp.latency.draw(rng).max(0.0);
        an.frac = cp
            .resistant
            .map_or(0.0, |r| r.fraction.draw(rng).clamp(0.0, 1.0));
        an.rho = Ratio::new(self.plan.caliper.width_ratio.draw(rng).clamp(0.2, 1.0));
        an.bw0 = self.plan.body.bw.draw(rng).max(1.0);
        an
    }

    fn draw_drugs<R: Rng + ?Sized>(&self, arm: &ArmPlan, an: &mut Animal, rng: &mut R) {
        for (k, t) in arm.treats.iter().enumerate() {
            match t.effect {
                EffectPlan::None => {}
                EffectPlan::Direct { inhibition, kill } => {
                    an.inh[k] = inhibition.draw(rng).clamp(0.0, 1.0);
                    an.kill[k] = kill.draw(rng).max(0.0);
                }
                EffectPlan::Exposure { emax, ec50, k2, .. } => {
                    an.emax[k] = emax.draw(rng).clamp(0.0, 1.0);
                    an.ec50[k] = ec50.draw(rng).max(1e-12);
                    an.k2[k] = k2.map_or(0.0, |p| p.draw(rng).max(0.0));
                }
            }
            if let Some(pk) = t.pk {
                an.pk[k] = OneCompartment {
                    ka: pk.ka,
                    ke: pk.ke,
                    volume_l: pk.v_l_per_kg * an.bw0 / 1000.0,
                    bioavailability: pk.f,
                    iv: pk.iv,
                };
            }
            an.dose_mg[k] = t.unit.mg_per_animal(t.dose, an.bw0);
        }
    }

    fn init_state(cp: &CohortPlan, an: &Animal) -> State {
        let mut y = [0.0; 8];
        let r = if matches!(cp.model, ModelPlan::Simeoni { .. }) {
            4
        } else {
            1
        };
        y[0] = (1.0 - an.frac) * an.v0;
        y[r] = an.frac * an.v0;
        y
    }

    /// (inhibition, kill) of the sensitive and resistant populations at time `t`.
    #[inline]
    fn effects(
        cp: &CohortPlan,
        arm: Option<&ArmPlan>,
        an: &Animal,
        d: &Drug,
        t: f64,
    ) -> (f64, f64, f64, f64) {
        let Some(arm) = arm else {
            return (0.0, 0.0, 0.0, 0.0);
        };
        let mut inh = [0.0; MAX_TREAT];
        let mut kill = 0.0;
        // Agents acting now (an inhibition or a kill): the interaction needs two.
        let mut acting = 0;
        for (k, tp) in arm.treats.iter().enumerate() {
            let before = kill;
            match tp.effect {
                EffectPlan::None => {}
                EffectPlan::Direct { .. } => {
                    if d.on & d.mask & (1 << k) != 0 {
                        inh[k] = an.inh[k];
                        kill += an.kill[k];
                    }
                }
                EffectPlan::Exposure { hill, k2, .. } => {
                    if !d.pk[k].is_empty() {
                        let c = d.pk[k].conc_after(&an.pk[k], t - d.pk_t);
                        if k2.is_some() {
                            kill += an.k2[k] * c;
                        } else {
                            inh[k] = emax_hill(c, an.emax[k], an.ec50[k], hill);
                        }
                    }
                }
            }
            if inh[k] > 0.0 || kill > before {
                acting += 1;
            }
        }
        let n = arm.treats.len();
        let is = bliss(&inh[..n], acting, arm.interaction);
        match cp.resistant {
            None => (is, kill, 0.0, 0.0),
            Some(r) => {
                let mut ir = inh;
                for v in ir[..n].iter_mut() {
                    *v *= r.sensitivity;
                }
                (
                    is,
                    kill,
                    bliss(&ir[..n], acting, arm.interaction),
                    kill * r.sensitivity,
                )
            }
        }
    }

    #[inline]
    fn rhs(
        cp: &CohortPlan,
        an: &Animal,
        y: &State,
        ms: f64,
        mr: f64,
        e: (f64, f64, f64, f64),
    ) -> State {
        let (is, ks, ir, kr) = e;
        let rs = ms * ((1.0 - is) * an.r_base + an.r_add);
        let rr = mr * ((1.0 - ir) * an.r_base + an.r_add);
        let mut o = [0.0; 8];
        match &cp.model {
            ModelPlan::Closed { kind, .. } => {
                let h = kind.kinetics(an.cap).factor(y[0] + y[1]);
                o[0] = (rs * h - ks) * y[0];
                o[1] = (rr * h - kr) * y[1];
            }
            ModelPlan::Simeoni { psi, .. } => {
                let w: f64 = y.iter().sum();
                let r_tot = an.r_base + an.r_add;
                let m = Simeoni {
                    lambda0: r_tot,
                    lambda1: an.l1,
                    k1: an.k1,
                    psi: *psi,
                };
                let mult = |r: f64| if r_tot > 0.0 { r / r_tot } else { 0.0 };
                for (base, rate, kill) in [(0usize, rs, ks), (4, rr, kr)] {
                    let x = &y[base..base + 4];
                    o[base] = m.growth(x[0], w, mult(rate)) - kill * x[0];
                    o[base + 1] = kill * x[0] - an.k1 * x[1];
                    o[base + 2] = an.k1 * (x[1] - x[2]);
                    o[base + 3] = an.k1 * (x[2] - x[3]);
                }
            }
        }
        o
    }

    /// Advances the tumor from `t0` to `t1` with no dosing event in between; estrogen
    /// support ends at `e_end` (same time axis).
    #[allow(clippy::too_many_arguments)]
    fn advance(
        &self,
        cp: &CohortPlan,
        arm: Option<&ArmPlan>,
        an: &Animal,
        d: &Drug,
        mut y: State,
        t0: f64,
        t1: f64,
        e_end: f64,
    ) -> State {
        let mut t = t0;
        while t < t1 {
            let seg_end = if e_end > t && e_end < t1 { e_end } else { t1 };
            let present = t < e_end;
            let ms = if present { 1.0 } else { cp.gwe };
            let mr = if present {
                1.0
            } else {
                cp.resistant.map_or(cp.gwe, |r| r.gwe)
            };
            let exposure = arm.is_some_and(|a| {
                a.exposure
                    && a.treats.iter().enumerate().any(|(k, tp)| {
                        matches!(tp.effect, EffectPlan::Exposure { .. }) && !d.pk[k].is_empty()
                    })
            });
            let dt = seg_end - t;
            if !exposure && !cp.needs_ode {
                let (is, ks, ir, kr) = Self::effects(cp, arm, an, d, t);
                if let ModelPlan::Closed { kind, .. } = &cp.model {
                    let kin = kind.kinetics(an.cap);
                    let rs = ms * ((1.0 - is) * an.r_base + an.r_add);
                    y[0] = kin.advance(y[0], rs, ks, dt);
                    if y[1] > 0.0 {
                        // Only reached for exponential growth (independent populations).
                        let rr = mr * ((1.0 - ir) * an.r_base + an.r_add);
                        y[1] = kin.advance(y[1], rr, kr, dt);
                    }
                }
            } else {
                let h = if exposure {
                    self.opts.exposure_step_days
                } else {
                    self.opts.step_days
                };
                let fixed = if exposure {
                    None
                } else {
                    Some(Self::effects(cp, arm, an, d, t))
                };
                let mut f = |tt: f64, yy: &State| {
                    let e = fixed.unwrap_or_else(|| Self::effects(cp, arm, an, d, tt));
                    Self::rhs(cp, an, yy, ms, mr, e)
                };
                y = rk4(t, y, dt, h, &mut f);
                for v in y.iter_mut() {
                    *v = v.max(0.0);
                }
            }
            t = seg_end;
        }
        y
    }

    /// Tumor time at which estrogen support ends before randomization (the pellet is not
    /// removed before randomization; it may run out).
    fn pre_e_end(cp: &CohortPlan) -> f64 {
        crate::model::estrogen::pre_treatment_support_end(
            cp.estrogen.ovx,
            cp.estrogen.pellet.then_some(cp.estrogen.exhausted_tumor),
        )
    }

    /// Tumor state at tumor time `tau` (days since implantation), before any treatment.
    fn pre_state(&self, cp: &CohortPlan, an: &Animal, tau: f64) -> State {
        let y0 = Self::init_state(cp, an);
        if tau <= an.latency {
            return if tau < an.latency { [0.0; 8] } else { y0 };
        }
        let e_end = Self::pre_e_end(cp);
        self.advance(cp, None, an, &NO_DRUG, y0, an.latency, tau, e_end)
    }

    /// A caliper reading of true volume `v` ([`CaliperPlan::read`]).
    #[inline]
    fn measure<R: Rng + ?Sized>(&self, v: f64, an: &Animal, rng: &mut R) -> Meas {
        self.plan
            .caliper
            .read(v.ln(), an.rho, self.plan.diameters, rng)
    }

    /// Runs one enrolled animal through the treatment phase into slot `s`.
    #[allow(clippy::too_many_arguments)]
    fn run_animal<R: Rng + ?Sized>(
        &self,
        cp: &CohortPlan,
        arm: &ArmPlan,
        wd0: usize,
        an: &Animal,
        y0: State,
        tau0: f64,
        baseline: Option<Meas>,
        rng: &mut R,
        buf: &mut StudyBuffer,
        s: usize,
    ) {
        let p = &self.plan;
        // The animal's own copy: a dose holiday lowers its doses (`[dose-modification]`).
        let orig = an;
        let mut own = *an;
        let an = &mut own;
        let dm = arm.dose_mod;
        let mut ds = DoseState::new();
        let visits = &p.visits[wd0];
        let tox = &arm.tox[wd0];
        let events = &arm.events[wd0];
        let e_end = cp.estrogen.end_study(tau0);
        let base = s * buf.stride;
        let mut d = NO_DRUG;
        let (mut t, mut y, mut ei) = (0.0, y0, 0);
        let mut baseline = baseline;
        let mut bw_base = f64::NAN;
        let ep = &p.endpoints;
        let mut slot = Slot {
            event_day: f64::NAN,
            tau0,
            ..buf.slots[s]
        };
        let mut n = 0;
        let last_visit = visits.last().map_or(0.0, |&v| v as f64);
        let table = arm.expo.get(wd0).filter(|_| {
            // Per-animal holidays change the dosing the tables were built for.
            self.quadrature && dm.is_none() && (e_end <= 0.0 || e_end >= last_visit)
        });
        let (drugs, rates) = Self::quadrature_inputs(cp, an, e_end);
        for (vi, &vd) in visits.iter().enumerate() {
            let tv = vd as f64;
            if let Some(tab) = table {
                let (ds, dr) = tab.delta_ln(vi, arm, &drugs, &rates);
                y[0] *= ds.exp();
                if y[1] > 0.0 {
                    y[1] *= dr.exp();
                }
                t = tv;
                ei = events.len();
            }
            while ei < events.len() && events[ei].t < tv {
                let ev = events[ei];
                if ds.resume_due(ev.t) {
                    y = self.advance(cp, Some(arm), an, &d, y, t, ds.resume_t, e_end);
                    t = ds.resume_t;
                    d.mask = u8::MAX;
                }
                y = self.advance(cp, Some(arm), an, &d, y, t, ev.t, e_end);
                t = ev.t;
                for k in 0..arm.treats.len() {
                    d.pk[k] = d.pk[k].after(&an.pk[k], t - d.pk_t);
                }
                d.pk_t = t;
                match ev.kind {
                    // Doses in a holiday or after dosing stopped are not given.
                    EvKind::Dose(k) if ds.gives(t) => {
                        d.pk[k as usize].dose(&an.pk[k as usize], an.dose_mg[k as usize])
                    }
                    EvKind::Dose(_) => {}
                    EvKind::On(k) => d.on |= 1 << k,
                    EvKind::Off(k) => d.on &= !(1 << k),
                }
                ei += 1;
            }
            if ds.resume_due(tv) {
                y = self.advance(cp, Some(arm), an, &d, y, t, ds.resume_t, e_end);
                t = ds.resume_t;
                d.mask = u8::MAX;
            }
            y = self.advance(cp, Some(arm), an, &d, y, t, tv, e_end);
            t = tv;
            let v_true: f64 = y.iter().sum();
            let m = match baseline.take() {
                Some(m) if vd == 0 => m,
                _ => self.measure(v_true, an, rng),
            };
            let i = base + vi;
            buf.vol[i] = if buf.log_volumes { m.v.ln() } else { m.v };
            buf.day[i] = tv;
            if p.diameters {
                buf.len[i] = m.l;
                buf.wid[i] = m.w;
            }
            let mut end = None;
            if p.body_weight {
                let deficit = match dm {
                    Some(_) => ds.deficit(&arm.tox_day[wd0], p.body.recovery, vd),
                    None => tox[vi],
                };
                let bw =
                    (an.bw0 + p.body.gain * tv) * deficit.exp() * (1.0 + p.body.noise_cv * z(rng));
                buf.bw[i] = bw;
                if vi == 0 {
                    bw_base = bw;
                } else {
                    let loss = (1.0 - bw / bw_base) * 100.0;
                    if loss >= ep.max_loss_pct {
                        end = Some(EndReason::HumaneWeightLoss);
                    } else if let Some(m) = &dm
                        && loss >= m.threshold_pct
                        && tv <= arm.last_dose[wd0]
                        && ds.can_pause(tv)
                    {
                        ds.pause(m, vd, &mut slot);
                        // The next doses (and direct effects) resume at the reduced dose.
                        d.mask = 0;
                        ds.reduce(m, arm, orig, an);
                    }
                }
            }
            n = vi + 1;
            if m.v >= ep.event_volume && slot.event_day.is_nan() {
                slot.event_day = tv;
            }
            if m.v >= ep.max_volume {
                end = Some(EndReason::HumaneVolume);
            } else if 0.5 * (m.l + m.w) >= ep.max_diameter {
                end = Some(EndReason::HumaneDiameter);
            }
            if let Some(e) = end {
                slot.end = e;
                break;
            }
        }
        slot.n_visits = n as u16;
        slot.last_day = visits.get(n.saturating_sub(1)).map_or(0.0, |&d| d as f64);
        buf.slots[s] = slot;
        self.clear_tail(buf, s, n);
    }

    /// The animal's drugs and rates as the exposure quadrature reads them; the estrogen
    /// factors hold for a treatment period that `e_end` does not split.
    fn quadrature_inputs(cp: &CohortPlan, an: &Animal, e_end: f64) -> (AnimalDrugs, Rates) {
        let present = e_end > 0.0;
        let scale: [f64; MAX_TREAT] = std::array::from_fn(|k| {
            let v = an.pk[k].volume_l;
            if v > 0.0 { an.dose_mg[k] / v } else { 0.0 }
        });
        let drugs = AnimalDrugs {
            inh: an.inh,
            kill: an.kill,
            emax: an.emax,
            ec50: an.ec50,
            k2: an.k2,
            scale,
            ln_e: std::array::from_fn(|k| {
                if scale[k] > 0.0 {
                    (an.ec50[k] / scale[k]).ln()
                } else {
                    f64::NAN
                }
            }),
        };
        let rates = Rates {
            r_base: an.r_base,
            r_add: an.r_add,
            ms: if present { 1.0 } else { cp.gwe },
            mr: if present {
                1.0
            } else {
                cp.resistant.map_or(cp.gwe, |r| r.gwe)
            },
            sens: cp.resistant.map(|r| r.sensitivity),
        };
        (drugs, rates)
    }

    pub(super) fn clear_tail(&self, buf: &mut StudyBuffer, s: usize, from: usize) {
        let (a, b) = (s * buf.stride + from, (s + 1) * buf.stride);
        buf.vol[a..b].fill(f64::NAN);
        buf.day[a..b].fill(f64::NAN);
        if self.plan.diameters {
            buf.len[a..b].fill(f64::NAN);
            buf.wid[a..b].fill(f64::NAN);
        }
        if self.plan.body_weight {
            buf.bw[a..b].fill(f64::NAN);
        }
    }

    // ------------------------------------------------------------------ AtBaseline designs

    fn at_baseline<R: Rng + ?Sized>(&self, c: usize, rng: &mut R, buf: &mut StudyBuffer) {
        let cp = &self.plan.cohorts[c];
        let day0_abs = self.plan.pre_start_abs;
        let wd0 = self.plan.baseline_wd0();
        let arm0 = buf.cohort_arm0[c];
        let mut implant_no = 0u32;
        let mut total = 0;
        for (a, arm) in cp.arms.iter().enumerate() {
            let cap = buf.arm_cap[arm0 + a];
            for j in 0..cap {
                implant_no += 1;
                let s = buf.arm_base[arm0 + a] + j;
                buf.slots[s] = Slot {
                    implant_no,
                    day0_abs,
                    ..Slot::default()
                };
                if cp.fast {
                    self.fast_animal(cp, arm, wd0, rng, buf, s);
                } else {
                    let mut an = self.draw_animal(cp, rng);
                    self.draw_drugs(arm, &mut an, rng);
                    let y0 = Self::init_state(cp, &an);
                    self.run_animal(cp, arm, wd0, &an, y0, 0.0, None, rng, buf, s);
                }
            }
            buf.arm_n[arm0 + a] = cap;
            total += cap;
        }
        let o = &mut buf.cohorts[c];
        o.implanted = total;
        o.takes = total;
        o.eligible = total;
        o.enrolled = total;
        o.not_eligible = 0;
        o.overgrown = 0;
        o.not_selected = 0;
        o.filled_day = Some(0);
        o.enrollment_day = Some(0);
        o.fates.clear();
        o.arm_of.clear();
        o.pre_volumes.clear();
        o.pre_lengths.clear();
        o.pre_widths.clear();
    }

    /// Closed-form loop for exponential growth with constant effects and log-volume error:
    /// ln V_m(t) = ln V0 + g·t + ln(1 + bias) + ε, g = m_E·((1 − I)·r_base + r_add) − κ.
    fn fast_animal<R: Rng + ?Sized>(
        &self,
        cp: &CohortPlan,
        arm: &ArmPlan,
        wd0: usize,
        rng: &mut R,
        buf: &mut StudyBuffer,
        s: usize,
    ) {
        let p = &self.plan;
        let ErrPlan::LogVolume { sd } = p.caliper.error else {
            return;
        };
        let ModelPlan::Closed { rate, .. } = &cp.model else {
            return;
        };
        let lnv0 = cp.v0.draw_ln(rng);
        let (rb, ra) = rate.draw_rate(rng);
        let rho = Ratio::new(if p.diameters {
            p.caliper.width_ratio.draw(rng).clamp(0.2, 1.0)
        } else {
            1.0
        });
        let bw0 = if p.body_weight {
            p.body.bw.draw(rng).max(1.0)
        } else {
            0.0
        };
        let mut inh = [0.0; MAX_TREAT];
        let mut kill = 0.0;
        let mut acting = 0;
        for (k, t) in arm.treats.iter().enumerate() {
            if let EffectPlan::Direct {
                inhibition,
                kill: kp,
            } = t.effect
            {
                inh[k] = inhibition.draw(rng).clamp(0.0, 1.0);
                let kk = kp.draw(rng).max(0.0);
                kill += kk;
                if inh[k] > 0.0 || kk > 0.0 {
                    acting += 1;
                }
            }
        }
        let i_comb = bliss(&inh[..arm.treats.len()], acting, arm.interaction);
        let m_e = cp.closed_form_hormone_factor();
        let g = m_e * ((1.0 - i_comb) * rb + ra) - kill;
        // Control growth until the effects switch on at the first dose (as the event path
        // switches them): ln V(t) = ln V0 + g·t + lag·min(t, onset), lag = g_control − g.
        let onset = arm.direct_onset[wd0];
        let lag = m_e * i_comb * rb + kill;
        let f = &p.fast;
        let ep = &p.endpoints;
        let visits = &p.visits[wd0];
        let tox = &arm.tox[wd0];
        let base = s * buf.stride;
        let mut slot = Slot {
            event_day: f64::NAN,
            ..buf.slots[s]
        };
        let mut n = visits.len();
        let log = buf.log_volumes;
        let lnv0b = lnv0 + f.ln_bias;
        if !p.diameters && !p.body_weight && !f.ln_max.is_finite() && !f.ln_floor.is_finite() {
            // Tightest loop (bench P1 / power): one normal and one store per visit.
            let tf = &p.visits_f[wd0];
            let vol = &mut buf.vol[base..base + tf.len()];
            let day = &mut buf.day[base..base + tf.len()];
            day.copy_from_slice(tf);
            // Two loops: with the branch inside, LLVM computes the (speculatable) exp on
            // every visit and selects, which doubles the cost of the log-volume path.
            fill_linear_plus_noise(rng, tf, vol, lnv0b + lag * onset, g, sd);
            for (v, &t) in vol.iter_mut().zip(tf).take_while(|(_, t)| **t < onset) {
                *v += lag * (t - onset);
            }
            if let Some(k) = vol.iter().position(|&lv| lv >= f.ln_event) {
                slot.event_day = day[k];
            }
            if !log {
                for v in vol.iter_mut() {
                    *v = v.exp();
                }
            }
        } else {
            let mut bw_base = f64::NAN;
            for (vi, &vd) in visits.iter().enumerate() {
                let t = vd as f64;
                let ln_true = lnv0 + g * t + lag * t.min(onset);
                let lv = if ln_true < f.ln_floor {
                    f64::NEG_INFINITY
                } else {
                    ln_true + f.ln_bias + sd * z(rng)
                };
                let i = base + vi;
                buf.vol[i] = if log { lv } else { lv.exp() };
                buf.day[i] = t;
                let mut end = None;
                if p.diameters {
                    let (l, w) = p.caliper.diameters(lv, rho);
                    buf.len[i] = l;
                    buf.wid[i] = w;
                    if 0.5 * (l + w) >= ep.max_diameter {
                        end = Some(EndReason::HumaneDiameter);
                    }
                }
                if p.body_weight {
                    let bw =
                        (bw0 + p.body.gain * t) * tox[vi].exp() * (1.0 + p.body.noise_cv * z(rng));
                    buf.bw[i] = bw;
                    if vi == 0 {
                        bw_base = bw;
                    } else if (1.0 - bw / bw_base) * 100.0 >= ep.max_loss_pct {
                        end = Some(EndReason::HumaneWeightLoss);
                    }
                }
                if lv >= f.ln_event && slot.event_day.is_nan() {
                    slot.event_day = t;
                }
                if lv >= f.ln_max {
                    end = Some(EndReason::HumaneVolume);
                }
                if let Some(e) = end {
                    slot.end = e;
                    n = vi + 1;
                    break;
                }
            }
        }
        slot.n_visits = n as u16;
        slot.last_day = visits.get(n.saturating_sub(1)).map_or(0.0, |&d| d as f64);
        buf.slots[s] = slot;
        if n < buf.stride {
            self.clear_tail(buf, s, n);
        }
    }

    // ------------------------------------------------- implantation, enrollment, randomization

    /// Simulates implantation and growth to the window for cohort `c`; fills the outcome
    /// (fates, pre-treatment readings) and `scratch.order` with the selected animals as
    /// (enrollment day, implant index) in randomization order. Returns the drawn animals in
    /// `scratch.animals`.
    pub(crate) fn enroll<R: Rng + ?Sized>(
        &self,
        c: usize,
        n_per_arm: Option<usize>,
        rng: &mut R,
        o: &mut CohortOutcome,
        scratch: &mut Scratch,
    ) {
        let n_impl = self.implanted(c, n_per_arm);
        self.enroll_pool(c, n_per_arm, n_impl, rng, o, scratch);
    }

    /// [`Self::enroll`] with an explicit number of implanted animals.
    fn enroll_pool<R: Rng + ?Sized>(
        &self,
        c: usize,
        n_per_arm: Option<usize>,
        n_impl: usize,
        rng: &mut R,
        o: &mut CohortOutcome,
        scratch: &mut Scratch,
    ) {
        let p = &self.plan;
        let cp = &p.cohorts[c];
        let n_total: usize = self.sizes(c, n_per_arm).sum();
        let npre = p.pre_visits.len();
        let (lo, hi) = (p.enroll.min, p.enroll.max);
        o.implanted = n_impl;
        o.fates.clear();
        o.fates.resize(n_impl, Fate::NoTake);
        o.arm_of.clear();
        o.arm_of.resize(n_impl, u16::MAX);
        for v in [&mut o.pre_volumes, &mut o.pre_lengths, &mut o.pre_widths] {
            v.clear();
            v.resize(n_impl * npre, f64::NAN);
        }
        o.takes = self.pre_treatment_readings(cp, n_total, n_impl, rng, o, scratch);
        scratch.order.clear();
        let inside = |v: f64| v >= lo && v <= hi;
        match p.enroll.mode {
            EnrollmentMode::Rolling => {
                // (eligibility visit + random tie-break, implant index)
                let mut eligible = 0;
                for k in 0..n_impl {
                    if o.fates[k] == Fate::NoTake {
                        continue;
                    }
                    let row = &o.pre_volumes[k * npre..(k + 1) * npre];
                    if let Some(vi) = row.iter().position(|&v| v >= lo) {
                        if inside(row[vi]) {
                            eligible += 1;
                            o.fates[k] = Fate::NotSelected;
                            scratch.order.push((vi as f64 + 0.5 * u01(rng), k as u32));
                        } else {
                            o.fates[k] = Fate::Overgrown;
                        }
                    }
                }
                scratch.order.sort_by(|a, b| a.0.total_cmp(&b.0));
                scratch.order.truncate(n_total);
                o.eligible = eligible;
                o.filled_day = if scratch.order.len() == n_total && n_total > 0 {
                    scratch.order.last().map(|x| p.pre_visits[x.0 as usize])
                } else {
                    None
                };
                o.enrollment_day = o.filled_day;
                // Convert the order key to the enrollment visit index.
                for e in scratch.order.iter_mut() {
                    e.0 = e.0.floor();
                }
            }
            _ => {
                let count = |vi: usize| {
                    (0..n_impl)
                        .filter(|&k| inside(o.pre_volumes[k * npre + vi]))
                        .count()
                };
                let mut best = (0, 0);
                let mut filled = None;
                for vi in 0..npre {
                    let n = count(vi);
                    if n >= n_total {
                        filled = Some(vi);
                        best = (vi, n);
                        break;
                    }
                    if n > best.1 {
                        best = (vi, n);
                    }
                }
                let vi = best.0;
                o.filled_day = filled.map(|v| p.pre_visits[v]);
                o.enrollment_day = Some(p.pre_visits[vi]);
                let mid = (lo * hi).sqrt().ln();
                let mut eligible = 0;
                for k in 0..n_impl {
                    if o.fates[k] == Fate::NoTake {
                        continue;
                    }
                    let v = o.pre_volumes[k * npre + vi];
                    if inside(v) {
                        eligible += 1;
                        o.fates[k] = Fate::NotSelected;
                        scratch.order.push(((v.ln() - mid).abs(), k as u32));
                    } else if v > hi {
                        o.fates[k] = Fate::Overgrown;
                    }
                }
                o.eligible = eligible;
                // Closest to the window's geometric middle first.
                scratch
                    .order
                    .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                scratch.order.truncate(n_total);
                for e in scratch.order.iter_mut() {
                    e.0 = vi as f64;
                }
                if p.enroll.randomization == Randomization::VolumeBalanced {
                    // Deal from the smallest to the largest tumor.
                    scratch.order.sort_by(|a, b| {
                        o.pre_volumes[a.1 as usize * npre + vi]
                            .total_cmp(&o.pre_volumes[b.1 as usize * npre + vi])
                            .then(a.1.cmp(&b.1))
                    });
                } else {
                    scratch.order.sort_by_key(|e| e.1);
                }
            }
        }
        for &(_, k) in &scratch.order {
            o.fates[k as usize] = Fate::Enrolled;
        }
        o.enrolled = scratch.order.len();
        o.not_eligible = o.fates.iter().filter(|f| **f == Fate::NotEligible).count();
        o.overgrown = o.fates.iter().filter(|f| **f == Fate::Overgrown).count();
        o.not_selected = o.fates.iter().filter(|f| **f == Fate::NotSelected).count();
        // Readings after the animal's enrollment (or after the cohort's last enrollment day
        // for animals not enrolled) are not taken.
        let last_vi = scratch
            .order
            .iter()
            .map(|e| e.0 as usize)
            .max()
            .unwrap_or(npre.saturating_sub(1));
        for k in 0..n_impl {
            let cut = scratch
                .order
                .iter()
                .find(|e| e.1 as usize == k)
                .map_or(last_vi, |e| e.0 as usize);
            for vi in cut + 1..npre {
                o.pre_volumes[k * npre + vi] = f64::NAN;
                o.pre_lengths[k * npre + vi] = f64::NAN;
                o.pre_widths[k * npre + vi] = f64::NAN;
            }
        }
    }

    /// Implants `n_impl` animals and takes their pre-treatment readings into `o`; returns the
    /// number of takes. The drawn animals go to `scratch.animals`.
    ///
    /// Readings go visit by visit over the whole pool so that a fixed-day enrollment stops at
    /// the first visit that fills the cohort (later readings are discarded anyway) and a
    /// rolling enrollment stops each animal at its first reading at or above the window's
    /// lower bound (inside: eligible; above: overgrown). Each animal draws from its own stream
    /// (one draw of the cohort's), so where its readings stop changes no other number.
    fn pre_treatment_readings<R: Rng + ?Sized>(
        &self,
        cp: &CohortPlan,
        n_total: usize,
        n_impl: usize,
        rng: &mut R,
        o: &mut CohortOutcome,
        scratch: &mut Scratch,
    ) -> usize {
        let p = &self.plan;
        let npre = p.pre_visits.len();
        let (lo, hi) = (p.enroll.min, p.enroll.max);
        let stop = !self.opts.record_pre_treatment;
        let rolling = p.enroll.mode == EnrollmentMode::Rolling;
        let e_end = Self::pre_e_end(cp);
        scratch.animals.clear();
        scratch.pre.clear();
        // Exponential growth with estrogen support: ln V = ln V0 + r·(τ − latency) for the
        // sensitive and resistant cells alike (no treatment yet), no state to advance.
        let closed_exp = !cp.needs_ode
            && matches!(
                cp.model,
                ModelPlan::Closed {
                    kind: KinKind::Exp,
                    ..
                }
            );
        let mut takes = 0;
        for k in 0..n_impl {
            let mut stream = crate::rng::stream(rng.random::<u64>(), &[]);
            if u01(&mut stream) < cp.take {
                takes += 1;
                o.fates[k] = Fate::NotEligible;
                let an = self.draw_animal(cp, &mut stream);
                scratch.pre.push(Some(PreGrowth {
                    stream,
                    y: Self::init_state(cp, &an),
                    t: an.latency,
                    ln_v0: an.v0.ln(),
                }));
                scratch.animals.push(an);
            } else {
                // No tumor: every reading is "not palpable".
                o.pre_volumes[k * npre..(k + 1) * npre].fill(0.0);
                scratch.pre.push(None);
                scratch.animals.push(Animal::default());
            }
        }
        for (vi, &d) in p.pre_visits.iter().enumerate() {
            let tau = d as f64;
            let mut inside = 0;
            for (k, (slot, an)) in scratch.pre.iter_mut().zip(&scratch.animals).enumerate() {
                let Some(g) = slot else { continue };
                let ln_v = if tau < an.latency {
                    f64::NEG_INFINITY
                } else if closed_exp && tau <= e_end {
                    g.ln_v0 + (an.r_base + an.r_add) * (tau - an.latency)
                } else {
                    g.y = self.advance(cp, None, an, &NO_DRUG, g.y, g.t, tau, e_end);
                    g.t = tau;
                    g.y.iter().sum::<f64>().ln()
                };
                let m = p.caliper.read(ln_v, an.rho, p.diameters, &mut g.stream);
                let i = k * npre + vi;
                o.pre_volumes[i] = m.v;
                o.pre_lengths[i] = m.l;
                o.pre_widths[i] = m.w;
                inside += usize::from(m.v >= lo && m.v <= hi);
                if stop && rolling && m.v >= lo {
                    *slot = None;
                }
            }
            if stop && !rolling && inside >= n_total {
                break;
            }
        }
        takes
    }

    /// Arm labels in dealing order: simple = shuffled deck; volume-balanced / rolling =
    /// permuted blocks of one animal per arm with room left.
    fn deck<R: Rng + ?Sized>(
        &self,
        sizes: &[usize],
        rng: &mut R,
        deck: &mut Vec<u16>,
        left: &mut Vec<usize>,
    ) {
        deck.clear();
        let total: usize = sizes.iter().sum();
        let blocks = self.plan.enroll.randomization == Randomization::VolumeBalanced
            || self.plan.enroll.mode == EnrollmentMode::Rolling;
        if !blocks {
            for (a, &n) in sizes.iter().enumerate() {
                deck.extend(std::iter::repeat_n(a as u16, n));
            }
            deck.shuffle(rng);
            return;
        }
        left.clear();
        left.extend_from_slice(sizes);
        while deck.len() < total {
            let start = deck.len();
            for (a, l) in left.iter_mut().enumerate() {
                if *l > 0 {
                    *l -= 1;
                    deck.push(a as u16);
                }
            }
            deck[start..].shuffle(rng);
        }
    }

    fn with_enrollment<R: Rng + ?Sized>(
        &self,
        c: usize,
        n_per_arm: Option<usize>,
        rng: &mut R,
        buf: &mut StudyBuffer,
        scratch: &mut Scratch,
    ) {
        let p = &self.plan;
        let cp = &p.cohorts[c];
        let mut o = std::mem::take(&mut buf.cohorts[c]);
        self.enroll(c, n_per_arm, rng, &mut o, scratch);
        let arm0 = buf.cohort_arm0[c];
        let mut deck = std::mem::take(&mut scratch.deck);
        let mut left = std::mem::take(&mut scratch.left);
        self.deck(
            &buf.arm_cap[arm0..arm0 + cp.arms.len()],
            rng,
            &mut deck,
            &mut left,
        );
        scratch.left = left;
        let npre = p.pre_visits.len();
        for (i, &(vi, k)) in scratch.order.iter().enumerate() {
            let a = deck[i] as usize;
            let j = buf.arm_n[arm0 + a];
            buf.arm_n[arm0 + a] += 1;
            o.arm_of[k as usize] = a as u16;
            let s = buf.arm_base[arm0 + a] + j;
            let vi = vi as usize;
            let enroll_day = p.pre_visits[vi];
            let day0_abs = p.pre_start_abs + enroll_day + p.gap;
            let tau0 = (enroll_day + p.gap) as f64;
            let wd0 = ((p.start_wd + day0_abs) % 7) as usize;
            buf.slots[s] = Slot {
                implant_no: k + 1,
                day0_abs,
                ..Slot::default()
            };
            let mut an = scratch.animals[k as usize];
            self.draw_drugs(&cp.arms[a], &mut an, rng);
            let y0 = self.pre_state(cp, &an, tau0);
            let idx = k as usize * npre + vi;
            let baseline = if p.gap == 0 {
                Some(Meas {
                    v: o.pre_volumes[idx],
                    l: o.pre_lengths[idx],
                    w: o.pre_widths[idx],
                })
            } else {
                None
            };
            self.run_animal(cp, &cp.arms[a], wd0, &an, y0, tau0, baseline, rng, buf, s);
        }
        scratch.deck = deck;
        buf.cohorts[c] = o;
    }
}
