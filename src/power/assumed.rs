//! The effects a power run assumes, in the unit a reader checks them in: for every treated
//! arm, the TGI% of its cohort's typical tumor at the analysis day, and the time-averaged
//! growth-rate inhibition (and kill) it comes from.
//!
//! The typical animal: every parameter at its typical value, the cohort's typical growth curve
//! from randomization ([`crate::protocol::typical_curve`], the one `expected-tgi-pct` is solved
//! on) and the arm's real schedule. A direct effect is on from its first administration to
//! its last plus one dosing interval, as the simulator switches it. An exposure-driven effect
//! follows the one-compartment concentration of every administration (typical body weight;
//! per-kg doses cancel it) through the Hill model, integrated on a [`STEP_DAYS`] grid. The
//! treated arm's rate is m·(1 − Ī)·r − κ̄ with Ī the Bliss sum of the agents' time-averaged
//! inhibitions ([`crate::model::effect::bliss`]) and κ̄ the time-averaged kill: exact for
//! exponential growth (ln V moves by the integral of the rate), an approximation for
//! saturating curves. Schedules on weekdays are averaged over the seven weekdays of study
//! day 0 (rolling enrollment randomizes on any of them).
//!
//! The dosing days follow the simulator's rule: the treatment phases of
//! [`Protocol::treatment_phases`] and, within each, the days and times of
//! `model::schedule` — the owners both read.

use crate::model::effect::{bliss, emax_hill};
use crate::model::effect_units::{EffectUnit, MIN_CONTROL_GROWTH_FOR_TGI, measure};
use crate::model::pk::OneCompartment;
use crate::model::schedule::{administration_times, direct_effect_window, weekday_variants};
use crate::protocol::{
    Arm, Cohort, DrugEffect, EffectMode, EffectTarget, PhaseEnd, Protocol, Route, Treatment,
    Xenograft,
};

/// Step of the concentration grid, days (1 minute: with ka = 1/h the trapezoid rule's error
/// on the time-averaged inhibition is ~3e-6, below the four digits the paragraph prints).
pub const STEP_DAYS: f64 = 1.0 / 1440.0;

/// What one treated arm is assumed to do to its cohort's typical tumor.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmAssumption {
    /// Cohort name.
    pub cohort: String,
    /// Arm name.
    pub arm: String,
    /// Study day the TGI is evaluated at.
    pub day: f64,
    /// Time-averaged combined growth-rate inhibition over [0, day] (Bliss sum).
    pub inhibition: f64,
    /// Time-averaged kill rate over [0, day], 1/day.
    pub kill: f64,
    /// Whether an agent of the arm is exposure-driven (the inhibition is then an average).
    pub exposure: bool,
    /// TGI% of the typical tumor at `day`; `None` with the reason in `note`.
    pub tgi_pct: Option<f64>,
    /// Why there is no TGI (the control does not grow, dosing outside the treatment phases).
    pub note: Option<String>,
}

/// The day assumed effects are stated at: `[analysis] analysis-day`, else the end of the
/// day-0 phase when it has a fixed length.
pub fn effect_day(protocol: &Protocol) -> Option<f64> {
    let x = protocol.xenograft()?;
    x.analysis.analysis_day.or_else(|| {
        protocol
            .phases
            .iter()
            .find(|p| p.day0)
            .and_then(|p| match p.end {
                PhaseEnd::Fixed { days } => Some(f64::from(days)),
                PhaseEnd::Until { .. } => None,
            })
    })
}

/// Every treated arm of every cohort at `day`, in protocol order.
pub fn arm_assumptions(protocol: &Protocol, day: f64) -> Vec<ArmAssumption> {
    let Some(x) = protocol.xenograft() else {
        return Vec::new();
    };
    let phases = protocol.treatment_phases();
    x.cohorts
        .iter()
        .flat_map(|c| {
            c.arms
                .iter()
                .filter(|a| !a.control)
                .map(|a| arm_assumption(x, c, a, &phases, day))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One arm: the agents' averaged effects, combined, and the TGI of the typical tumor.
fn arm_assumption(
    x: &Xenograft,
    c: &Cohort,
    a: &Arm,
    phases: &[(String, u32, u32)],
    day: f64,
) -> ArmAssumption {
    let mut out = ArmAssumption {
        cohort: c.name.clone(),
        arm: a.name.clone(),
        day,
        inhibition: 0.0,
        kill: 0.0,
        exposure: false,
        tgi_pct: None,
        note: None,
    };
    let (mut inhs, mut kill, mut acting) = (Vec::new(), 0.0, 0);
    for t in &a.treatments {
        let Some(e) = c.effect(&t.agent) else {
            continue;
        };
        out.exposure |= matches!(e.mode, EffectMode::Exposure { .. });
        match averaged_effect(x, t, e, phases, day) {
            Ok((i, k)) => {
                acting += usize::from(i != 0.0 || k != 0.0);
                inhs.push(i);
                kill += k;
            }
            Err(why) => {
                out.note = Some(why);
                return out;
            }
        }
    }
    out.inhibition = bliss(&inhs, acting, a.interaction);
    out.kill = kill;
    let curve = crate::protocol::typical_curve(c, &x.animals, &x.enrollment);
    let control = curve.volumes(0.0, 0.0, &[day])[0];
    let tgi = measure(EffectUnit::TgiPct, &curve, out.inhibition, kill, day);
    if control < (1.0 + MIN_CONTROL_GROWTH_FOR_TGI) * curve.v0 || !tgi.is_finite() {
        out.note = Some(format!(
            "TGI undefined at day {}: the typical control tumor does not grow",
            crate::output::fmt_value(day)
        ));
    } else {
        out.tgi_pct = Some(tgi);
    }
    out
}

/// One treatment's (inhibition, kill) averaged over [0, day] and over the weekdays of day 0.
fn averaged_effect(
    x: &Xenograft,
    t: &Treatment,
    e: &DrugEffect,
    phases: &[(String, u32, u32)],
    day: f64,
) -> Result<(f64, f64), String> {
    let &(_, off, len) = phases.iter().find(|p| p.0 == t.phase).ok_or_else(|| {
        format!(
            "TGI not computed: `{}` is dosed in phase `{}`, not a treatment phase",
            t.agent, t.phase
        )
    })?;
    let (mut inh, mut kill) = (0.0, 0.0);
    let weekdays = weekday_variants(&t.schedule);
    for wd0 in 0..weekdays {
        let doses = administration_times(&t.schedule, off, len, wd0);
        let (i, k) = match &e.mode {
            EffectMode::Direct {
                inhibition,
                kill_rate_per_day,
            } => {
                let on = on_fraction(direct_effect_window(&doses, &t.schedule), day);
                (inhibition.value * on, kill_rate_per_day.value * on)
            }
            EffectMode::Exposure {
                emax,
                ec50_ng_ml,
                hill,
                target,
            } => {
                let c = concentrations(x, t, &doses, day)?;
                match target {
                    EffectTarget::Growth => (
                        mean(&c, |v| emax_hill(v, emax.value, ec50_ng_ml.value, *hill)),
                        0.0,
                    ),
                    EffectTarget::Kill { k2 } => (0.0, k2.value * mean(&c, |v| v)),
                }
            }
        };
        inh += i / f64::from(weekdays);
        kill += k / f64::from(weekdays);
    }
    Ok((inh, kill))
}

/// Share of [0, day] covered by the direct-effect window `w`
/// ([`direct_effect_window`]).
fn on_fraction(w: Option<(f64, f64)>, day: f64) -> f64 {
    let Some((first, end)) = w else {
        return 0.0;
    };
    let (lo, hi) = (first.clamp(0.0, day), end.clamp(0.0, day));
    if day > 0.0 { (hi - lo) / day } else { 0.0 }
}

/// The typical animal's concentration (ng/mL) on the grid 0, h, …, day.
fn concentrations(
    x: &Xenograft,
    t: &Treatment,
    doses: &[f64],
    day: f64,
) -> Result<Vec<f64>, String> {
    let pk = x
        .agent(&t.agent)
        .and_then(|a| a.pk.as_ref())
        .ok_or_else(|| format!("TGI not computed: `{}` has no PK", t.agent))?;
    let iv = t.route == Route::Iv;
    let model = OneCompartment {
        ka: pk.ka_per_h.value * 24.0,
        ke: std::f64::consts::LN_2 / pk.half_life_h.value * 24.0,
        volume_l: 1.0,
        bioavailability: if iv { 1.0 } else { pk.bioavailability.value },
        iv,
    };
    let bw = x.animals.body_weight_g.value;
    let scale = t.unit.mg_per_animal(t.dose, bw) / (pk.volume_l_per_kg.value * bw / 1000.0);
    let steps = (day / STEP_DAYS).ceil().max(1.0) as usize;
    let grid: Vec<f64> = (0..=steps).map(|k| day * k as f64 / steps as f64).collect();
    Ok(model
        .unit_curve(doses, &grid)
        .into_iter()
        .map(|c| c * scale)
        .collect())
}

/// Trapezoid mean of `f(c)` over a uniform grid.
fn mean(c: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let y: Vec<f64> = c.iter().map(|&v| f(v)).collect();
    let n = y.len().saturating_sub(1);
    if n == 0 {
        return y.first().copied().unwrap_or(0.0);
    }
    (y.iter().sum::<f64>() - 0.5 * (y[0] + y[n])) / n as f64
}
