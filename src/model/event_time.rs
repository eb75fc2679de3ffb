//! Event-time models for time-to-event endpoints (time to a volume, survival): exponential,
//! Weibull and log-normal, each parameterised by its **median** (what a study plan states),
//! with a between-line random effect on log time and administrative censoring at study end.
//!
//! All three are accelerated-failure-time models on the log scale,
//! `log T = log(median) + α_line + σ·ε` (Kalbfleisch & Prentice 2002, *The Statistical Analysis
//! of Failure Time Data*, §2.3), with ε standard normal (log-normal) or standard minimum
//! extreme value shifted so that its median is 0 (Weibull, exponential = Weibull of shape 1).
//! The line effect `α ~ N(0, τ²)` is the data generation of PDXpower's `SimPDXdata`
//! (Li et al., <https://github.com/shanpengli/PDXpower>, `R/SimPDXdata.R`:
//! `log Y = β·Tx + α_i + ε`, `α_i ~ N(0, τ²)`, `ε ~ N(0, σ²)`); Weibull times are drawn by
//! inversion `T = median · (−ln U / ln 2)^{1/k}` as that file does (`(−log U/λ/f)^{1/ν}`).

use crate::rng::XRng;
use crate::rng::zig::Ziggurat;
use rand::RngExt;

/// The distribution of event times of one arm (given its median).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventTimeModel {
    /// Constant hazard `ln 2 / median`.
    Exponential,
    /// Weibull with shape `k` (> 0); hazard increases with time when `k > 1`.
    Weibull {
        /// Shape parameter k.
        shape: f64,
    },
    /// Log-normal: `log T ~ N(log median, sd²)`.
    LogNormal {
        /// Standard deviation of log time (σ).
        log_sd: f64,
    },
}

/// One drawn event time, possibly censored at the study end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventTime {
    /// Observed time (the event time, or the censoring time).
    pub time: f64,
    /// True when the event was observed; false when censored at study end.
    pub event: bool,
}

impl EventTimeModel {
    /// Checks the shape parameters: finite and positive.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            EventTimeModel::Exponential => Ok(()),
            EventTimeModel::Weibull { shape } if shape.is_finite() && shape > 0.0 => Ok(()),
            EventTimeModel::Weibull { shape } => {
                Err(format!("Weibull shape must be finite and > 0, got {shape}"))
            }
            EventTimeModel::LogNormal { log_sd } if log_sd.is_finite() && log_sd > 0.0 => Ok(()),
            EventTimeModel::LogNormal { log_sd } => Err(format!(
                "log-normal log-scale SD must be finite and > 0, got {log_sd}"
            )),
        }
    }

    /// Survival function S(t) of an arm with median `median` (no line effect).
    pub fn survival(&self, median: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        match *self {
            EventTimeModel::Exponential => (-std::f64::consts::LN_2 * t / median).exp(),
            EventTimeModel::Weibull { shape } => {
                (-std::f64::consts::LN_2 * (t / median).powf(shape)).exp()
            }
            EventTimeModel::LogNormal { log_sd } => {
                crate::numeric::dist::normal_sf((t / median).ln() / log_sd)
            }
        }
    }

    /// Event time from a uniform `u` in (0, 1) (Weibull/exponential, by inversion of S) or a
    /// standard normal `z` (log-normal), for an arm of median `median` shifted by the line
    /// effect `alpha` on log time.
    pub fn time_from(&self, median: f64, alpha: f64, u: f64, z: f64) -> f64 {
        let m = median * alpha.exp();
        match *self {
            EventTimeModel::Exponential => m * (-u.ln() / std::f64::consts::LN_2),
            EventTimeModel::Weibull { shape } => {
                m * (-u.ln() / std::f64::consts::LN_2).powf(1.0 / shape)
            }
            EventTimeModel::LogNormal { log_sd } => m * (log_sd * z).exp(),
        }
    }

    /// Draws one event time (line effect `alpha` on log time), censored at `study_end` if given.
    /// Uses one normal deviate for the log-normal, one uniform otherwise.
    pub fn sample(
        &self,
        zig: &Ziggurat,
        rng: &mut XRng,
        median: f64,
        alpha: f64,
        study_end: Option<f64>,
    ) -> EventTime {
        let t = match self {
            EventTimeModel::LogNormal { .. } => self.time_from(median, alpha, 0.5, zig.sample(rng)),
            _ => {
                // (0, 1]: 1 − U with U in [0, 1) so ln never sees 0.
                let u = 1.0 - rng.random::<f64>();
                self.time_from(median, alpha, u, 0.0)
            }
        };
        match study_end {
            Some(end) if t > end => EventTime {
                time: end,
                event: false,
            },
            _ => EventTime {
                time: t,
                event: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn medians_are_the_stated_medians() {
        for m in [
            EventTimeModel::Exponential,
            EventTimeModel::Weibull { shape: 2.5 },
            EventTimeModel::LogNormal { log_sd: 0.7 },
        ] {
            assert!((m.survival(4.8, 4.8) - 0.5).abs() < 1e-12, "{m:?}");
            assert!(
                (m.time_from(4.8, 0.0, 0.5, 0.0) - 4.8).abs() < 1e-12,
                "{m:?}"
            );
        }
        // Exponential S(t) = exp(-λ t) with λ = ln2/median (R: pexp(3, log(2)/2.4, lower=FALSE)).
        let s = EventTimeModel::Exponential.survival(2.4, 3.0);
        assert!((s - 0.420_448_207_626_856_9).abs() < 1e-12, "{s}");
        // Weibull shape 2, median 2: R pweibull(3, 2, 2/sqrt(log(2)), lower=FALSE) = 0.2102241.
        let s = EventTimeModel::Weibull { shape: 2.0 }.survival(2.0, 3.0);
        assert!((s - 0.210_224_103_813_429_1).abs() < 1e-9, "{s}");
        assert!(EventTimeModel::Weibull { shape: 0.0 }.validate().is_err());
        assert!(
            EventTimeModel::LogNormal { log_sd: f64::NAN }
                .validate()
                .is_err()
        );
    }

    #[test]
    fn sampled_median_and_censoring_fraction_match_the_model() {
        let zig = Ziggurat::new();
        let n = 40_000;
        for model in [
            EventTimeModel::Exponential,
            EventTimeModel::Weibull { shape: 2.0 },
            EventTimeModel::LogNormal { log_sd: 1.0 },
        ] {
            let mut rng = stream(7, &[1]);
            let end = 5.0;
            let mut below = 0u32;
            let mut censored = 0u32;
            for _ in 0..n {
                let e = model.sample(&zig, &mut rng, 2.4, 0.0, Some(end));
                below += u32::from(e.event && e.time <= 2.4);
                censored += u32::from(!e.event);
                assert!(e.time <= end);
            }
            let se = (0.25 / f64::from(n)).sqrt();
            let p = f64::from(below) / f64::from(n);
            assert!((p - 0.5).abs() < 4.5 * se, "{model:?}: P(T<=median) {p}");
            let pc = f64::from(censored) / f64::from(n);
            let want = model.survival(2.4, end);
            let se = (want * (1.0 - want) / f64::from(n)).sqrt();
            assert!(
                (pc - want).abs() < 4.5 * se,
                "{model:?}: censored {pc} vs {want}"
            );
        }
    }
}
