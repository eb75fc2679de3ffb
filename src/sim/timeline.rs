//! Enrollment dates for the timeline: how long the growth phase lasts, as a distribution.

use super::buffer::CohortOutcome;
use super::engine::{Engine, Scratch};
use super::{SimError, SimOptions};
use crate::protocol::Protocol;

/// For each of `n_sims` simulated cohorts, the day on which cohort `cohort` is enrolled,
/// counted from the start of the phase that ends on the enrollment condition (implantation):
/// single-day mode — the first caliper day when enough animals read inside the window for all
/// arms; rolling — the caliper day the last needed animal becomes eligible; `None` when the
/// cohort cannot be filled within the maximum wait. `AtBaseline` designs have no growth
/// phase: every entry is `Some(0.0)`.
///
/// Simulation `i` uses the stream `rng::stream(seed, &[cohort, i])`, so results do not depend
/// on `n_sims` or on threads; the protocol's arm sizes and implanted numbers are used.
/// `start` is the calendar date of the protocol's first day: it fixes on which weekdays the
/// caliper days fall, so the simulated enrollment days match the timeline's calendar.
pub fn enrollment_days(
    protocol: &Protocol,
    cohort: usize,
    n_sims: usize,
    seed: u64,
    start: jiff::civil::Date,
) -> Result<Vec<Option<f64>>, SimError> {
    let opts = SimOptions {
        body_weight: false,
        record_diameters: false,
        record_pre_treatment: false,
        start,
        ..SimOptions::default()
    };
    let engine = Engine::new(protocol, &opts)?;
    if cohort >= engine.cohort_count() {
        return Err(SimError::NoSuchCohort {
            index: cohort,
            count: engine.cohort_count(),
        });
    }
    if engine.plan.enroll.mode == crate::protocol::EnrollmentMode::AtBaseline {
        return Ok(vec![Some(0.0); n_sims]);
    }
    let mut out = Vec::with_capacity(n_sims);
    let mut o = CohortOutcome::default();
    let mut scratch = Scratch::default();
    for i in 0..n_sims {
        let mut rng = crate::rng::stream(seed, &[cohort as u64, i as u64]);
        engine.enroll(cohort, None, &mut rng, &mut o, &mut scratch);
        out.push(o.filled_day.map(f64::from));
    }
    Ok(out)
}
