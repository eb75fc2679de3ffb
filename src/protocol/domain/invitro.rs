//! Domain types of in vitro protocols: resistant-line derivation and dose-response assays.

use super::{Param, Sourced};

/// Long-term derivation of a resistant line (e.g. anastrozole-resistant MCF-7aro).
#[derive(Debug, Clone, PartialEq)]
pub struct Derivation {
    /// Parental line, e.g. "MCF-7aro".
    pub parental_line: String,
    /// Name of the derived line, e.g. "Res-Ana".
    pub derived_line: String,
    /// Culture conditions.
    pub culture: Culture,
    /// Selecting drug.
    pub drug: String,
    /// Starting concentration, nM (near the parental IC50).
    pub start_concentration_nm: Sourced,
    /// Planned concentration steps.
    pub escalation: Vec<EscalationStep>,
    /// Total duration of continuous exposure, days (6–12 months).
    pub duration_days: u32,
    /// Single-cell cloning at the end, if done.
    pub cloning: Option<Cloning>,
    /// Validation dose-response assay (derived vs parental).
    pub validation: Option<AssayDesign>,
    /// Repeated runs of the validation assay on the population during the derivation
    /// (`None`: only the final validation).
    pub checks: Option<ValidationChecks>,
    /// Split of the culture into arms (continue / holiday / escalate) from a day or milestone.
    pub split: Option<Split>,
    /// The time to resistance the literature reports for this derivation, to compare the
    /// simulated distribution with.
    pub expected_time_to_resistance: Option<DayRange>,
    /// Population model.
    pub model: DerivationModel,
}

/// A cited range of days (`{ min = 180, max = 365, source = "…" }`).
#[derive(Debug, Clone, PartialEq)]
pub struct DayRange {
    /// Shortest, days.
    pub min: f64,
    /// Longest, days.
    pub max: f64,
    /// Literature source, or "assumed; <why>".
    pub source: String,
}

/// `[split]`: from a day (or milestone) of the derivation, flasks of the culture continue as
/// arms, each from the same population state, to the end of the derivation.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// When the culture is split.
    pub at: SplitAt,
    /// The arms, in file order.
    pub arms: Vec<SplitArm>,
}

/// When the culture is split into arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitAt {
    /// On this day of the derivation (1 ≤ day < duration).
    Day(u32),
    /// At the first IC50 check whose fold shift reaches `[validation] target-fold-shift`
    /// (per replicate; no arms in a run that never reaches it).
    TargetShift,
}

/// One arm of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitArm {
    /// Name (unique), e.g. "holiday".
    pub name: String,
    /// Fraction of the culture's cells at the split seeded into this arm's flask, in (0, 1].
    pub fraction: f64,
    /// What happens to the drug in this arm.
    pub kind: ArmKind,
}

/// The drug schedule of an arm after the split.
#[derive(Debug, Clone, PartialEq)]
pub enum ArmKind {
    /// Stays on the concentration in force at the split.
    Continue,
    /// Drug withdrawn for `days` (`None`: to the end), then back at the split's concentration
    /// when `rechallenge`.
    Holiday {
        /// Days off drug.
        days: Option<u32>,
        /// Drug back after the holiday.
        rechallenge: bool,
    },
    /// Concentration raised every `every_days` days through `concentrations_nm`.
    Escalate {
        /// Interval between steps, days.
        every_days: u32,
        /// Successive concentrations, nM (increasing, above the split's).
        concentrations_nm: Vec<f64>,
    },
}

impl ArmKind {
    /// Name as written in files.
    pub fn as_str(&self) -> &'static str {
        match self {
            ArmKind::Continue => "continue",
            ArmKind::Holiday { .. } => "holiday",
            ArmKind::Escalate { .. } => "escalate",
        }
    }

    /// Drug concentration `days_after` days after the split (≥ 1), from `at_split` nM.
    pub fn concentration(&self, at_split: f64, days_after: u32) -> f64 {
        match self {
            ArmKind::Continue => at_split,
            ArmKind::Holiday { days, rechallenge } => match days {
                Some(h) if *rechallenge && days_after > *h => at_split,
                _ => 0.0,
            },
            ArmKind::Escalate {
                every_days,
                concentrations_nm,
            } => {
                // Step k (1-based) on day k·every_days; the last concentration is kept.
                let steps = (days_after / (*every_days).max(1)) as usize;
                steps
                    .checked_sub(1)
                    .and_then(|i| concentrations_nm.get(i).or(concentrations_nm.last()))
                    .copied()
                    .unwrap_or(at_split)
            }
        }
    }
}

/// A schedule of IC50 checks during a derivation: on each day the current population and the
/// parental line are assayed with the validation design (same plate, same 4PL fit).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationChecks {
    /// Days of the derivation (≥ 1, ≤ its duration), strictly increasing.
    pub days: Vec<u32>,
    /// IC50 fold shift (derived / parental) the derivation aims for; the report names the first
    /// check that reaches it.
    pub target_fold_shift: Option<f64>,
}

/// Culture conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct Culture {
    /// e.g. "phenol red-free IMEM".
    pub medium: String,
    /// e.g. "10% charcoal-stripped FBS".
    pub serum: String,
    /// Androgen substrate for aromatase (name), if any.
    pub substrate: Option<String>,
    /// Substrate concentration, nM.
    pub substrate_nm: Option<f64>,
    /// Vessel, e.g. "T75".
    pub vessel: String,
    /// Medium volume per vessel, mL.
    pub medium_ml: f64,
    /// Cells seeded per vessel after a passage.
    pub seeding_cells: f64,
    /// Cells per vessel at confluence (carrying capacity).
    pub confluent_cells: f64,
    /// Passage when the culture reaches this fraction of confluence (e.g. 0.8).
    pub passage_at_confluence: f64,
    /// Split ratio at passage (e.g. 1:4 → 4).
    pub split_ratio: f64,
    /// Medium change interval, days.
    pub medium_change_days: u32,
}

/// When and how the drug concentration steps up.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationStep {
    /// New concentration, nM.
    pub concentration_nm: f64,
    /// Trigger.
    pub trigger: EscalationTrigger,
}

/// What triggers a dose-escalation step.
#[derive(Debug, Clone, PartialEq)]
pub enum EscalationTrigger {
    /// On a fixed day of the derivation.
    Day(u32),
    /// When the population doubling time under drug falls below this many hours
    /// ("growth recovered"), checked at passages.
    GrowthRecovered {
        /// Doubling time threshold, h.
        doubling_h: f64,
    },
}

/// Single-cell cloning.
#[derive(Debug, Clone, PartialEq)]
pub struct Cloning {
    /// Number of clones picked.
    pub clones: u32,
    /// Days to expand a clone before validation.
    pub expansion_days: u32,
}

/// Population model for a derivation. The aromatase inhibitor acts through estrogen made from
/// the androgen substrate: drug inhibits aromatase (Hill curve on concentration), the remaining
/// estrogen fraction sets the growth rate between `doubling_h_without_e2` and
/// `doubling_h_with_e2`; resistant cells grow estrogen-independently (or with a shifted IC50).
#[derive(Debug, Clone, PartialEq)]
pub struct DerivationModel {
    /// Doubling time with estrogen (Wiese 1992: 33 h).
    pub doubling_h_with_e2: Sourced,
    /// Doubling time without estrogen (Wiese 1992: 55 h).
    pub doubling_h_without_e2: Sourced,
    /// Basal death rate per day under full estrogen deprivation beyond stasis (≥ 0).
    pub death_rate_per_day: Sourced,
    /// Drug IC50 of sensitive cells, nM.
    pub ic50_sensitive_nm: Sourced,
    /// Drug IC50 of resistant cells, nM.
    pub ic50_resistant_nm: Sourced,
    /// Hill coefficient.
    pub hill: Sourced,
    /// Pre-existing resistant fraction at the start.
    pub resistant_fraction: Sourced,
    /// Probability per division that a sensitive cell switches to the adapting state.
    pub switch_rate_per_division: Sourced,
    /// Adapting (intermediate) state: IC50 multiplier relative to sensitive; `None` = no
    /// intermediate state.
    pub intermediate_ic50_factor: Option<Sourced>,
    /// Division rate of resistant (and adapting) cells relative to sensitive cells in medium
    /// without drug (fitness cost of resistance, ≤ 1); `None` = 1 (no cost).
    pub fitness_off_drug: Option<Sourced>,
    /// Probability per division that a resistant (or adapting) cell reverts to the sensitive
    /// state in medium without drug; `None` = 0.
    pub reversion_rate_per_division: Option<Sourced>,
}

/// Readout of an assay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readout {
    /// MTT absorbance.
    Mtt,
    /// Crystal violet absorbance.
    CrystalViolet,
    /// Sytox Green live/dead counts (imaging).
    SytoxGreen,
}

impl Readout {
    /// Name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Readout::Mtt => "mtt",
            Readout::CrystalViolet => "crystal-violet",
            Readout::SytoxGreen => "sytox-green",
        }
    }
}

/// Plate design of a dose-response assay.
#[derive(Debug, Clone, PartialEq)]
pub struct AssayDesign {
    /// Drug.
    pub drug: String,
    /// Concentrations, nM (0 = vehicle control allowed).
    pub doses_nm: Vec<f64>,
    /// Replicate wells per dose and line.
    pub replicates: u32,
    /// Assay duration, days.
    pub duration_days: f64,
    /// Cells seeded per well.
    pub seeding_cells: f64,
    /// Wells per plate (96 or 384).
    pub plate_wells: u32,
    /// Readout.
    pub readout: Readout,
    /// Readout noise (CV).
    pub noise_cv: Sourced,
    /// Edge-effect reduction of signal in outer wells (fraction, 0 = none).
    pub edge_effect: f64,
    /// Which wells hold what (edges, blanks, lines per plate).
    pub layout: PlateLayout,
}

/// What the outer ring of wells of each plate holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeWells {
    /// Samples in every well, edges included.
    Samples,
    /// Outer rows and columns filled with PBS (no samples): 96 → 60 inner wells.
    Pbs,
}

/// How lines share plates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrangement {
    /// Lines follow one another on the plates; a line continues on the next plate only at a
    /// replicate boundary (each plate holds whole dose series, so its own vehicle wells).
    Packed,
    /// Every line on its own plate(s), with all its wells on one plate.
    LinePerPlate,
}

/// Plate layout of a dose-response assay: the simulator places wells by it and the timeline
/// counts plates and medium from it (one owner: [`crate::protocol::plate_layout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlateLayout {
    /// Edge wells: samples or PBS.
    pub edges: EdgeWells,
    /// Medium-only blank wells on every plate (blank correction of absorbance readouts).
    pub blank_wells: u32,
    /// How lines share plates.
    pub arrangement: Arrangement,
}

impl Default for PlateLayout {
    /// The layout of files that state none: samples in every well, no blanks, packed.
    fn default() -> Self {
        PlateLayout {
            edges: EdgeWells::Samples,
            blank_wells: 0,
            arrangement: Arrangement::Packed,
        }
    }
}

/// A line tested in an assay.
#[derive(Debug, Clone, PartialEq)]
pub struct AssayLine {
    /// Name, e.g. "MCF7".
    pub name: String,
    /// True IC50, nM.
    pub ic50_nm: Sourced,
    /// Hill coefficient.
    pub hill: Sourced,
    /// Doubling time in assay medium, h.
    pub doubling_h: Sourced,
    /// Maximal inhibition (0–1): the fraction of growth removed at saturating dose. Its
    /// `cv`/`sd` is the variability of the maximal inhibition between independent experiments
    /// (an assay has no other unit it could vary over); used when several experiments are
    /// simulated (`power --experiments`), clamped to 0–1.
    pub max_inhibition: Param,
    /// SD of the line's log10 IC50 between independent experiments (normal, log10 units):
    /// each experiment's IC50 is the line's × 10^(sd·z). Used when several experiments are
    /// simulated; [`DEFAULT_BETWEEN_EXPERIMENT_LOG10_IC50_SD`] when the protocol omits it.
    pub between_experiment_log10_ic50_sd: Sourced,
}

/// Between-experiment SD of log10 IC50 when a line gives none: 0.2 (a 95% range of ×/÷ 2.5,
/// the 2–3-fold spread usual between independent MTT / CellTiter-Glo experiments).
pub const DEFAULT_BETWEEN_EXPERIMENT_LOG10_IC50_SD: f64 = 0.2;

/// Source of [`DEFAULT_BETWEEN_EXPERIMENT_LOG10_IC50_SD`].
pub const DEFAULT_BETWEEN_EXPERIMENT_SOURCE: &str = "assumed (default; the line gives no `between-experiment-log10-ic50-sd`): a 2-3-fold spread of IC50 between independent experiments; the minimum significant ratio MSR = 10^(2*sqrt(2)*s) of Eastwood et al. 2006 (J Biomol Screen 11:253) at the usual acceptance bound MSR <= 3 gives s = 0.17";

/// A dose-response / proliferation assay protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Assay {
    /// Medium and serum description.
    pub medium: String,
    /// Lines tested.
    pub lines: Vec<AssayLine>,
    /// Plate design.
    pub design: AssayDesign,
}
