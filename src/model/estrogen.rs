//! When estrogen support ends: the one rule the simulator's pre-treatment and treatment
//! growth, `check`'s reachability of the enrollment window, the effect-unit solve and the
//! design check use. The supply itself (pellet, injections, drinking water) says when it runs
//! out and when it is stopped (`protocol::HormoneSupport`); these functions combine that with
//! the host.

/// Tumor time (days after the tumor implantation) at which a pellet implanted
/// `implant_offset_days` from the tumor implantation, releasing for `release_days`, runs out.
pub fn pellet_exhausted(implant_offset_days: i32, release_days: f64) -> f64 {
    f64::from(implant_offset_days) + release_days
}

/// Tumor time at which estrogen support ends before randomization: ∞ for a host with its own
/// estrogen (not ovariectomized), −∞ for an ovariectomized host without a pellet, else when
/// the pellet runs out (`pellet_exhausted`; a pellet is never removed before randomization).
pub fn pre_treatment_support_end(ovariectomized: bool, pellet_exhausted: Option<f64>) -> f64 {
    match (ovariectomized, pellet_exhausted) {
        (false, _) => f64::INFINITY,
        (true, None) => f64::NEG_INFINITY,
        (true, Some(t)) => t,
    }
}

/// Study time at which estrogen support ends for an animal whose study day 0 is tumor time
/// `tau0`: ∞ for a host with its own estrogen, −∞ for an ovariectomized host without a
/// supply, else the earlier of the supply's stop (`removal_study`) and its running out
/// (`exhausted_tumor − tau0`) — `supply` = (exhausted_tumor, removal_study).
pub fn support_end_study(ovariectomized: bool, supply: Option<(f64, f64)>, tau0: f64) -> f64 {
    match (ovariectomized, supply) {
        (false, _) => f64::INFINITY,
        (true, None) => f64::NEG_INFINITY,
        (true, Some((exhausted_tumor, removal_study))) => removal_study.min(exhausted_tumor - tau0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_ends_with_the_pellet_only_in_ovariectomized_hosts() {
        assert_eq!(pellet_exhausted(-1, 60.0), 59.0);
        assert_eq!(pre_treatment_support_end(false, None), f64::INFINITY);
        assert_eq!(pre_treatment_support_end(false, Some(59.0)), f64::INFINITY);
        assert_eq!(pre_treatment_support_end(true, None), f64::NEG_INFINITY);
        assert_eq!(pre_treatment_support_end(true, Some(59.0)), 59.0);
        // A 60-day pellet implanted the day before the cells, an animal randomized on tumor
        // day 40: support ends at randomization (removal 0) or study day 19 (never removed).
        assert_eq!(support_end_study(true, Some((59.0, 0.0)), 40.0), 0.0);
        assert_eq!(
            support_end_study(true, Some((59.0, f64::INFINITY)), 40.0),
            19.0
        );
        assert_eq!(support_end_study(true, None, 40.0), f64::NEG_INFINITY);
        assert_eq!(support_end_study(false, None, 40.0), f64::INFINITY);
    }
}
