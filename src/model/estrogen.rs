//! Estrogen support before randomization: the one rule the simulator's pre-treatment growth
//! and `check`'s reachability of the enrollment window both use.

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
    }
}
