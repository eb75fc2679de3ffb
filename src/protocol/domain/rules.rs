//! In-study rules: decisions taken during a xenograft study from what is measured in it
//! (dose holidays on body-weight loss, an early end on tumor volume).

use super::{DoseUnit, Sourced};

/// A dose level in a unit (the reference of a dose-scaled toxicity).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseLevel {
    /// The dose, > 0.
    pub dose: f64,
    /// Its unit.
    pub unit: DoseUnit,
}

/// Most dose holidays per animal (`max-holidays`): the simulator records each holiday's day
/// in a fixed-size array.
pub const MAX_HOLIDAYS: u32 = 8;

/// `[dose-modification]`: dose holidays and reduction on body-weight loss, per animal.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseModification {
    /// Loss from the day-0 body weight that starts a holiday, %.
    pub weight_loss_pct: Sourced,
    /// Days without dosing from the triggering body-weight day.
    pub holiday_days: u32,
    /// Fraction of the protocol dose given after a holiday, (0, 1].
    pub resume_dose_fraction: f64,
    /// Holidays an animal may take; the next trigger stops its dosing for good.
    pub max_holidays: u32,
    /// Arms the rule applies to (empty: every arm with a drug).
    pub arms: Vec<String>,
}

impl DoseModification {
    /// Whether the rule applies to arm `name`.
    pub fn applies_to(&self, name: &str) -> bool {
        self.arms.is_empty() || self.arms.iter().any(|a| a == name)
    }
}

/// Which summary of an arm's volumes a [`StudyStop`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopStatistic {
    /// Arithmetic mean of the measured volumes of the animals on study that day.
    Mean,
    /// Median of the same.
    Median,
}

impl StopStatistic {
    /// The spelling in the protocol file.
    pub fn as_str(self) -> &'static str {
        match self {
            StopStatistic::Mean => "mean",
            StopStatistic::Median => "median",
        }
    }
}

/// `[study-stop]`: the study ends at its fixed end or on the first caliper day when the
/// arm's statistic reaches the volume, whichever comes first.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyStop {
    /// The deciding arm (`None`: each cohort's control arm).
    pub arm: Option<String>,
    /// Mean or median.
    pub statistic: StopStatistic,
    /// Volume that ends the study, mm³.
    pub volume_mm3: f64,
}

impl StudyStop {
    /// The rule in words, e.g. "the first caliper day when the `vehicle` mean volume reaches
    /// 1500 mm³".
    pub fn describe(&self, control: &str) -> String {
        format!(
            "the first caliper day when the `{}` {} volume reaches {} mm³",
            self.arm.as_deref().unwrap_or(control),
            self.statistic.as_str(),
            crate::output::fmt_value(self.volume_mm3)
        )
    }
}
