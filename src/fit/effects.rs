//! Drug effects from pilot data with a control and treated arms: each treated arm's
//! growth-rate inhibition I = 1 − r_T/r_C (the protocol's `inhibition` of a direct effect),
//! from the typical exponential rates of separate population fits of the treated arm and of
//! the control (same method and options), with a percentile interval over paired bootstrap
//! replicates of both fits (treated arm k is resampled with seed + k, independent of the
//! control's streams).

use super::{Estimate, FitError, FitOptions, FitResult, Model, fit};
use crate::data::Dataset;

/// The effect of one treated arm.
#[derive(Debug, Clone)]
pub struct ArmEffect {
    /// Treated arm.
    pub arm: String,
    /// Animals in the treated fit.
    pub n_treated: usize,
    /// Typical exponential rate of the treated arm, 1/day.
    pub rate_treated: f64,
    /// Typical exponential rate of the control, 1/day.
    pub rate_control: f64,
    /// I = 1 − r_T/r_C with its bootstrap SE and percentile interval.
    pub inhibition: Estimate,
    /// Paired resamples behind the interval.
    pub pairs: usize,
    /// Caveats for the fragment.
    pub warnings: Vec<String>,
}

/// Index of the typical rate among the bootstrapped statistics of an exponential fit.
const RATE_TYPICAL: usize = 2;

/// Fits every arm of the control's cohort other than the control and returns its effect.
/// `control` is the (exponential) fit of the control arm with `opts`.
pub fn fit_effects(
    data: &Dataset,
    opts: &FitOptions,
    control: &FitResult,
) -> Result<Vec<ArmEffect>, FitError> {
    if control.model != Model::Exponential {
        return Err(FitError::Option(
            "drug effects are estimated with the exponential model (I = 1 − r_T/r_C); use --model exponential with --control".into(),
        ));
    }
    let mut arms: Vec<String> = Vec::new();
    for r in &data.rows {
        if r.cohort == control.cohort && r.arm != control.arm && !arms.contains(&r.arm) {
            arms.push(r.arm.clone());
        }
    }
    if arms.is_empty() {
        return Err(FitError::Option(format!(
            "--control `{}`: the data has no other arm in this cohort to estimate an effect for",
            control.arm
        )));
    }
    let rc = control.params[1].typical.value;
    let boot_c = control.boot.get(RATE_TYPICAL).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (k, arm) in arms.iter().enumerate() {
        let mut o = opts.clone();
        o.arm = Some(arm.clone());
        o.cohort = Some(control.cohort.clone()).filter(|c| !c.is_empty());
        o.seed = opts.seed.wrapping_add(k as u64 + 1);
        let t = fit(data, &o).map_err(|e| FitError::Option(format!("arm `{arm}`: {e}")))?;
        let rt = t.params[1].typical.value;
        let boot_t = t.boot.get(RATE_TYPICAL).cloned().unwrap_or_default();
        let mut reps: Vec<f64> = boot_c
            .iter()
            .zip(&boot_t)
            .map(|(c, t)| 1.0 - t / c)
            .filter(|x| x.is_finite())
            .collect();
        reps.sort_by(f64::total_cmp);
        let value = 1.0 - rt / rc;
        let inhibition = if reps.len() >= 2 {
            let m = reps.iter().sum::<f64>() / reps.len() as f64;
            let se = (reps.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (reps.len() - 1) as f64)
                .sqrt();
            let q = |p: f64| {
                let h = p * (reps.len() - 1) as f64;
                let (i, f) = (h.floor() as usize, h - h.floor());
                reps[i] + f * (reps[(i + 1).min(reps.len() - 1)] - reps[i])
            };
            let a = (1.0 - opts.level) / 2.0;
            Estimate {
                value,
                se,
                ci_low: q(a),
                ci_high: q(1.0 - a),
            }
        } else {
            Estimate {
                value,
                se: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
            }
        };
        let mut warnings = t.warnings.clone();
        if rc.is_nan() || rc <= 0.0 {
            warnings.push(format!(
                "the control's typical rate is {rc}/day: an inhibition is not defined"
            ));
        } else if value < 0.0 {
            warnings.push(format!(
                "arm `{arm}` grows faster than the control (I = {value:.3}); written as 0"
            ));
        } else if value > 1.0 {
            warnings.push(format!(
                "arm `{arm}` regresses (I = {value:.3}): a growth-rate inhibition stops at 1, so it is written as 1 — give the rest as `kill-rate-per-day` ≈ {:.4}/day",
                -rt
            ));
        }
        out.push(ArmEffect {
            arm: arm.clone(),
            n_treated: t.series.len(),
            rate_treated: rt,
            rate_control: rc,
            inhibition,
            pairs: reps.len(),
            warnings,
        });
    }
    Ok(out)
}
