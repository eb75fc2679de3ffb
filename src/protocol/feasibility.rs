//! Semantic checks that a xenograft protocol can run: plausibility bounds on the measurement
//! model (each with its reason) and the reachability of the enrollment window by the typical
//! tumor, computed with the model's own growth function ([`effect_units::Curve`]).
//!
//! Without them a value such as `observer-bias = -1` (every reading 0 mm³) or `v0-mm3 = 1e-12`
//! passes `check` and the simulation enrolls no animal, failing without a position.

use super::convert::Ctx;
use super::diag::KeyPath;
use super::domain::*;
use crate::model::effect_units::{self, Curve};

/// Bounds on the measurement model (README "Limits"; stated in the schema descriptions).
pub mod bounds {
    /// Largest per-diameter caliper CV (and log-volume SD): at 1 a diameter reading is off by
    /// a factor e ≈ 2.7 at one SD (volume by ≈ 9×); published caliper errors are 0.03–0.2
    /// (Jensen et al. 2008: 14% volume CV), so a larger value is a unit slip (% for a fraction).
    pub const MAX_CALIPER_ERROR: f64 = 1.0;
    /// Observer bias is a fraction of the true volume, strictly above −1 (−1 reads every tumor
    /// as 0 mm³) and at most 1 (a reading twice the true volume is a wrong formula or unit,
    /// not an observer's bias).
    pub const OBSERVER_BIAS: (f64, f64) = (-1.0, 1.0);
    /// Largest day-to-day body-weight noise CV. A reading is weight × (1 + cv·z), z standard
    /// normal: negative when z < −1/cv, i.e. for 2.3% of the readings at cv = 0.5 but
    /// ≈ 10⁻²³ at cv = 0.1; scale and hydration noise of a mouse is 1–3%, and 0.1 (±2 g on a
    /// 20 g mouse) is already beyond any published value.
    pub const MAX_WEIGHT_NOISE_CV: f64 = 0.1;
}

/// Checks `value` against the closed bound `max` with a positioned error stating `why`.
pub(crate) fn at_most(cx: &mut Ctx<'_>, value: f64, max: f64, at: &KeyPath, name: &str, why: &str) {
    if value.is_finite() && value > max {
        cx.error(
            at,
            format!("`{name}` must be at most {max}, got {value}: {why}"),
        );
    }
}

/// Days from the first day of the protocol to the end of its last phase at the longest: fixed
/// durations plus the maximum wait of each conditional phase.
pub(crate) fn longest_study_days(phases: &[Phase]) -> f64 {
    phases
        .iter()
        .map(|p| match &p.end {
            PhaseEnd::Fixed { days } => f64::from(*days),
            PhaseEnd::Until { max_wait_days, .. } => f64::from(*max_wait_days),
        })
        .sum()
}

/// A negative weight gain must not take the typical mouse below half its starting weight
/// within the longest study (the simulated weight is bw0 + gain·t, which turns negative; a
/// 50% loss is far beyond any humane endpoint, usually 20%).
pub(crate) fn weight_gain(cx: &mut Ctx<'_>, gain: f64, bw0: f64, days: f64, at: &KeyPath) {
    if gain.is_finite()
        && bw0.is_finite()
        && bw0 > 0.0
        && gain < 0.0
        && bw0 + gain * days < 0.5 * bw0
    {
        cx.error(
            at,
            format!(
                "`weight-gain-g-per-day` = {gain} takes a {bw0} g mouse to {:.1} g by day {days} (the longest this protocol can run): below half its weight; a steady loss belongs in the agents' `weight-loss-pct-per-week`, and the baseline gain should be ≥ {:.4} g/day",
                bw0 + gain * days,
                -0.5 * bw0 / days.max(1.0)
            ),
        );
    }
}

/// Observer bias in (−1, 1].
pub(crate) fn observer_bias(cx: &mut Ctx<'_>, b: f64, at: &KeyPath) {
    let (lo, hi) = bounds::OBSERVER_BIAS;
    if b.is_finite() && !(b > lo && b <= hi) {
        cx.error(
            at,
            format!(
                "`observer-bias` must be > {lo} and ≤ {hi} (a fraction of the true volume), got {b}: \
                 −1 reads every tumor as 0 mm³, and a reading more than twice the true volume is a \
                 wrong formula or unit, not an observer's bias"
            ),
        );
    }
}

/// Tumor time (days after implantation) at which estrogen support ends before randomization
/// (the simulator's rule, `model::estrogen`).
pub(crate) fn pre_treatment_support_end(c: &Cohort, animals: &Animals) -> f64 {
    use crate::model::estrogen;
    estrogen::pre_treatment_support_end(
        animals.ovariectomized,
        c.hormone.as_ref().map(|h| h.exhausted_tumor()),
    )
}

/// What the typical tumor reads during the enrollment wait.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reach {
    /// First reads inside the window on this growth-phase day.
    Enters { day: u32 },
    /// Never reads at or above the window's lower bound; the largest reading and its day.
    TooSmall { reading: f64, day: u32 },
    /// First reads at or above the lower bound above the upper bound (overgrown at once).
    Overgrown { reading: f64, day: u32 },
    /// Appears (latency) after the maximum wait.
    TooLate,
}

/// The typical tumor's reading on each day of the growth phase until the maximum wait: every
/// parameter at its median (latency, V0, rates), full growth while estrogen lasts, then the
/// cohort's growth without estrogen (or its resistant subclone's, whichever is larger), read
/// with the observer bias and censored below the detection floor. Daily readings are a
/// necessary condition (calipers are taken on some of these days only).
pub(crate) fn typical_reach(
    c: &Cohort,
    animals: &Animals,
    e: &Enrollment,
    caliper: &CaliperModel,
) -> Reach {
    let latency = c.latency_days.value.max(0.0);
    let wait = e.max_wait_days as f64;
    if latency > wait {
        return Reach::TooLate;
    }
    let shape = super::convert_xeno::growth_shape(c);
    let support_end = pre_treatment_support_end(c, animals);
    let without = c
        .resistant
        .as_ref()
        .map_or(c.growth_without_estrogen.value, |r| {
            r.growth_without_estrogen
                .value
                .max(c.growth_without_estrogen.value)
        });
    let bias = 1.0 + caliper.observer_bias.value;
    let floor = caliper.detection_floor_mm3.value;
    let read = |v: f64| {
        if v.is_nan() || v < floor || v <= 0.0 {
            0.0
        } else {
            v * bias
        }
    };
    let mut v = c.growth.v0().value;
    let mut t = latency;
    let mut best = (0.0f64, 0u32);
    let first = latency.ceil() as u32;
    for day in first..=e.max_wait_days {
        let d = day as f64;
        // Advance to `d`, splitting at the end of estrogen support.
        while t < d {
            let supported = t < support_end;
            let to = if supported { d.min(support_end) } else { d };
            let hormone = if supported { 1.0 } else { without };
            let curve = Curve {
                shape,
                v0: v,
                hormone,
                effect: effect_units::ALWAYS_ON,
            };
            v = curve.volumes(0.0, 0.0, &[to - t])[0];
            t = to;
        }
        let r = read(v);
        if r >= e.min_mm3 {
            return if r <= e.max_mm3 {
                Reach::Enters { day }
            } else {
                Reach::Overgrown { reading: r, day }
            };
        }
        if r > best.0 {
            best = (r, day);
        }
        // Stalled growth (no change over a day) cannot reach the window later: every model's
        // per-capita growth rate is non-increasing in the volume.
        if t >= support_end || support_end == f64::INFINITY {
            let next = Curve {
                shape,
                v0: v,
                hormone: if t < support_end { 1.0 } else { without },
                effect: effect_units::ALWAYS_ON,
            }
            .volumes(0.0, 0.0, &[1.0])[0];
            let g = (next / v).ln();
            let needed = ((e.min_mm3 / bias).max(floor) / v).ln();
            // NaN (V = 0) or no growth: stalled.
            if g.is_nan() || g <= 0.0 || g * (wait - d) < needed {
                break;
            }
        }
    }
    Reach::TooSmall {
        reading: best.0,
        day: best.1,
    }
}

/// Every cohort's typical tumor reads inside the enrollment window before the maximum wait
/// (single-day and rolling enrollment; `at-baseline` enrolls every take at once), else no or
/// almost no animal is enrolled. Errors at the cohort's `[cohorts.growth]`.
pub(crate) fn enrollment_reachable(
    cx: &mut Ctx<'_>,
    cohorts: &[(KeyPath, &Cohort)],
    animals: &Animals,
    e: &Enrollment,
    caliper: &CaliperModel,
) {
    if e.mode == EnrollmentMode::AtBaseline {
        return;
    }
    let bias = 1.0 + caliper.observer_bias.value;
    let floor = caliper.detection_floor_mm3.value;
    if floor * bias > e.max_mm3 {
        let read_as = if bias == 1.0 {
            String::new()
        } else {
            format!(
                " (read as {} mm³ with the observer bias)",
                sig(floor * bias)
            )
        };
        cx.error(
            &KeyPath::root()
                .k("caliper")
                .k("detection-floor-mm3")
                .k("value"),
            format!(
                "detection floor {floor} mm³{read_as} is above the enrollment window's upper bound {} mm³: readings below the floor are 0 mm³, so no tumor small enough to enrol is ever read; expected a floor below the window",
                e.max_mm3
            ),
        );
        return;
    }
    for (at, c) in cohorts {
        let why = match typical_reach(c, animals, e, caliper) {
            Reach::Enters { .. } => continue,
            Reach::TooLate => format!(
                "its latency ({} days) is longer than the maximum wait ({} days)",
                sig(c.latency_days.value),
                e.max_wait_days
            ),
            Reach::TooSmall { reading: 0.0, .. } => {
                format!("it stays below the detection floor ({floor} mm³) throughout")
            }
            Reach::TooSmall { reading, day } => format!(
                "it reads at most {} mm³ (reached on day {day}), below the window's lower bound",
                sig(reading)
            ),
            Reach::Overgrown { reading, day } => format!(
                "it first reads {} mm³ on day {day}, already above the window's upper bound (every tumor would be overgrown)",
                sig(reading)
            ),
        };
        cx.error_key(
            &at.k("growth"),
            format!(
                "cohort `{}`: the typical tumor (every parameter at its median, {} growth, V0 {} mm³ after {} days latency; caliper bias {:+}, detection floor {floor} mm³) never reads inside the enrollment window {}–{} mm³ within the maximum wait of {} days: {why}; expected growth, caliper and window under which the typical tumor enters the window before the wait ends",
                c.name,
                effect_units::Curve {
                    shape: super::convert_xeno::growth_shape(c),
                    v0: 1.0,
                    hormone: 1.0,
                    effect: effect_units::ALWAYS_ON,
                }
                .model_name(),
                sig(c.growth.v0().value),
                sig(c.latency_days.value),
                caliper.observer_bias.value,
                e.min_mm3,
                e.max_mm3,
                e.max_wait_days,
            ),
        );
    }
}

/// Three significant digits; scientific notation for very small or large values.
fn sig(v: f64) -> String {
    if v != 0.0 && (v.abs() < 0.01 || v.abs() >= 1e6) {
        format!("{v:.3e}")
    } else {
        crate::output::fmt_sig_real(v, 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tamr() -> Xenograft {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("protocols/tamr_mcf7_xenograft.toml");
        let l = crate::protocol::load(&p).unwrap_or_else(|e| panic!("{e}"));
        l.protocol.xenograft().expect("xenograft").clone()
    }

    #[test]
    fn typical_tamr_tumor_enters_the_window_on_the_documented_day() {
        let x = tamr();
        let c = &x.cohorts[0];
        // 40 mm³ after 5 days latency, doubling 10 days: 150 mm³ at 5 + ln(150/40)/0.0693.
        let want = (5.0 + (150.0f64 / 40.0).ln() / 0.0693).ceil() as u32;
        assert_eq!(
            typical_reach(c, &x.animals, &x.enrollment, &x.caliper),
            Reach::Enters { day: want }
        );
        // The observer bias scales the reading: +50% reads 150 mm³ at a true 100 mm³.
        let mut cal = x.caliper.clone();
        cal.observer_bias.value = 0.5;
        let want = (5.0 + (100.0f64 / 40.0).ln() / 0.0693).ceil() as u32;
        assert_eq!(
            typical_reach(c, &x.animals, &x.enrollment, &cal),
            Reach::Enters { day: want }
        );
    }

    #[test]
    fn stalled_or_late_or_overgrown_tumors_are_found() {
        let mut x = tamr();
        let mut c = x.cohorts[0].clone();
        // No estrogen before randomization and no growth without it: stays at V0.
        x.animals.ovariectomized = true;
        c.hormone = None;
        c.growth_without_estrogen.value = 0.0;
        assert_eq!(
            typical_reach(&c, &x.animals, &x.enrollment, &x.caliper),
            Reach::TooSmall {
                reading: 40.0,
                day: 5
            }
        );
        let mut c = x.cohorts[0].clone();
        c.latency_days.value = 71.0;
        assert_eq!(
            typical_reach(&c, &x.animals, &x.enrollment, &x.caliper),
            Reach::TooLate
        );
        let mut c = x.cohorts[0].clone();
        if let GrowthModel::Exponential { v0_mm3, .. } = &mut c.growth {
            v0_mm3.value = 300.0;
        }
        assert_eq!(
            typical_reach(&c, &x.animals, &x.enrollment, &x.caliper),
            Reach::Overgrown {
                reading: 300.0,
                day: 5
            }
        );
    }
}
