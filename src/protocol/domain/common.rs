//! Types shared by all protocol kinds: identity, references, phases, steps and schedules.

/// The schedule types are the model's ([`crate::model::schedule`], where the firing rule
/// lives); the protocol's steps and regimens carry them.
pub use crate::model::schedule::{Frequency, Schedule, weekday_abbrev};

/// A validated protocol of any kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    /// Stable identifier (kebab-case), used for output folders: `output/<id>/`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Free-text description.
    pub description: String,
    /// Documents the protocol encodes (seed documents first).
    pub references: Vec<Reference>,
    /// Ordered phases; the timeline places them back to back.
    pub phases: Vec<Phase>,
    /// One-off and recurring steps placed inside phases.
    pub steps: Vec<Step>,
    /// Weekend / holiday policy for the timeline.
    pub calendar: CalendarPolicy,
    /// Kind-specific content.
    pub body: Body,
}

impl Protocol {
    /// The protocol kind.
    pub fn kind(&self) -> ProtocolKind {
        match &self.body {
            Body::Xenograft(_) => ProtocolKind::Xenograft,
            Body::Derivation(_) => ProtocolKind::Derivation,
            Body::Assay(_) => ProtocolKind::Assay,
            Body::Procedure(_) => ProtocolKind::Procedure,
        }
    }

    /// Index of the phase whose start is study day 0 (e.g. randomization); the first phase
    /// when none is marked.
    pub fn day0_phase(&self) -> usize {
        day0_phase(&self.phases)
    }

    /// The treatment phases as (name, offset from study day 0, length in days): the day-0
    /// phase and the fixed phases after it, up to the first conditional one. Their total is
    /// the simulator's treatment horizon; the assumed-effect statement reads the same list.
    pub fn treatment_phases(&self) -> Vec<(String, u32, u32)> {
        treatment_phases(&self.phases, self.day0_phase())
    }

    /// Phase by name.
    pub fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// The xenograft body, if this is a xenograft protocol.
    pub fn xenograft(&self) -> Option<&super::Xenograft> {
        match &self.body {
            Body::Xenograft(x) => Some(x),
            _ => None,
        }
    }

    /// The xenograft body, mutable (robustness scenarios scale a validated copy).
    pub fn xenograft_mut(&mut self) -> Option<&mut super::Xenograft> {
        match &mut self.body {
            Body::Xenograft(x) => Some(x),
            _ => None,
        }
    }
}

/// Index of the phase of `phases` that starts study day 0: see [`Protocol::day0_phase`].
pub fn day0_phase(phases: &[Phase]) -> usize {
    phases.iter().position(|p| p.day0).unwrap_or(0)
}

/// The treatment phases of `phases` whose phase `day0` starts study day 0, as (name, offset
/// from study day 0, length in days): see [`Protocol::treatment_phases`] (also read while the
/// protocol is converted, before a [`Protocol`] exists).
pub fn treatment_phases(phases: &[Phase], day0: usize) -> Vec<(String, u32, u32)> {
    let mut out = Vec::new();
    let mut off = 0;
    for ph in phases.get(day0..).unwrap_or(&[]) {
        match ph.end {
            super::PhaseEnd::Fixed { days } => {
                out.push((ph.name.clone(), off, days));
                off += days;
            }
            super::PhaseEnd::Until { .. } => break,
        }
    }
    out
}

/// The four protocol kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolKind {
    /// In vivo efficacy study.
    Xenograft,
    /// Long-term in vitro resistant-line derivation.
    Derivation,
    /// In vitro dose-response / proliferation assay.
    Assay,
    /// Pure step schedule (NGS, proteomics…): timeline only.
    Procedure,
}

impl ProtocolKind {
    /// Lowercase name as written in protocol files.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolKind::Xenograft => "xenograft",
            ProtocolKind::Derivation => "derivation",
            ProtocolKind::Assay => "assay",
            ProtocolKind::Procedure => "procedure",
        }
    }
}

/// Kind-specific content.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// In vivo study.
    Xenograft(super::Xenograft),
    /// Resistant-line derivation.
    Derivation(super::Derivation),
    /// Dose-response assay.
    Assay(super::Assay),
    /// Step schedule.
    Procedure(super::Procedure),
}

/// A cited document.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Short key used in `source` strings (e.g. `shafie1981`).
    pub id: String,
    /// Full citation.
    pub citation: String,
    /// DOI or URL, if any.
    pub url: Option<String>,
}

/// A number together with where it comes from ("Shafie & Grantham 1981", "assumed; …").
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced {
    /// The value, in the unit named by the field holding it.
    pub value: f64,
    /// Literature source, or `assumed; <why>`.
    pub source: String,
}

impl Sourced {
    /// Convenience constructor.
    pub fn new(value: f64, source: &str) -> Self {
        Sourced {
            value,
            source: source.to_string(),
        }
    }
    /// True when the source marks the value as an assumption rather than a literature value.
    pub fn is_assumed(&self) -> bool {
        self.source
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("assumed")
    }
}

/// SD of ln X for a log-normal X with coefficient of variation `cv`: √ln(1 + cv²) (the one
/// conversion every consumer of [`Variability::LogNormal`] uses).
pub fn sdlog_from_cv(cv: f64) -> f64 {
    cv.mul_add(cv, 1.0).ln().sqrt()
}

/// Between-animal variability of a model parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Variability {
    /// Identical in every animal.
    None,
    /// Log-normal random effect: value·exp(η), η ~ N(0, sdlog²), sdlog = sqrt(ln(1 + cv²)).
    LogNormal {
        /// Coefficient of variation (≥ 0).
        cv: f64,
    },
    /// Additive normal random effect: value + η, η ~ N(0, sd²) (e.g. bench P1 growth rates).
    Normal {
        /// Standard deviation in the parameter's unit (≥ 0).
        sd: f64,
    },
}

/// A model parameter: population (typical) value, its between-animal variability, and its
/// source.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Typical value (the median for log-normal variability, the mean for normal).
    pub value: f64,
    /// Between-animal variability.
    pub variability: Variability,
    /// Source of the value (and of the variability).
    pub source: String,
}

impl Param {
    /// A parameter with log-normal variability of coefficient `cv` (0 = none).
    pub fn new(value: f64, cv: f64, source: &str) -> Self {
        let variability = if cv > 0.0 {
            Variability::LogNormal { cv }
        } else {
            Variability::None
        };
        Param {
            value,
            variability,
            source: source.to_string(),
        }
    }
    /// A parameter identical in every animal.
    pub fn fixed(value: f64, source: &str) -> Self {
        Param {
            value,
            variability: Variability::None,
            source: source.to_string(),
        }
    }
}

/// An ordered phase of the protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Unique name (referenced by steps and measurements).
    pub name: String,
    /// How the phase ends.
    pub end: PhaseEnd,
    /// This phase's first day is study day 0 (e.g. randomization / start of treatment).
    pub day0: bool,
    /// Free text.
    pub description: String,
}

/// How a phase ends.
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseEnd {
    /// After a fixed number of days (> 0).
    Fixed {
        /// Duration in days.
        days: u32,
    },
    /// When a measured quantity reaches a window (e.g. tumors 150–200 mm³), at most
    /// `max_wait_days` after the phase starts. The timeline asks the simulator for the date.
    Until {
        /// Name of the measurement that decides (must exist).
        measurement: String,
        /// Lower bound of the window (e.g. mm³).
        min: f64,
        /// Upper bound of the window.
        max: f64,
        /// Maximum wait in days; animals not eligible by then are excluded.
        max_wait_days: u32,
    },
}

impl PhaseEnd {
    /// Planned duration: the fixed days, or the maximum wait for conditional phases.
    pub fn max_days(&self) -> u32 {
        match self {
            PhaseEnd::Fixed { days } => *days,
            PhaseEnd::Until { max_wait_days, .. } => *max_wait_days,
        }
    }
}

/// What kind of event a step is (drives timeline labels, workload and resources).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Animal arrival / acclimation.
    Arrival,
    /// Estrogen (or other hormone) pellet implantation.
    PelletImplant,
    /// Pellet removal.
    PelletRemoval,
    /// A hormone injection or a bottle of hormone-supplemented drinking water (generated from
    /// a cohort's hormone supply; not a step kind).
    HormoneSupply,
    /// Tumor cell / fragment implantation.
    Implantation,
    /// Randomization into arms.
    Randomization,
    /// Drug or vehicle administration (generated from arms).
    Dosing,
    /// Caliper measurement (generated from measurements).
    Caliper,
    /// Body-weight measurement (generated from measurements).
    BodyWeight,
    /// Health check.
    HealthCheck,
    /// Necropsy / tissue harvest.
    Harvest,
    /// Cell passage (in vitro).
    Passage,
    /// Medium change (in vitro).
    MediumChange,
    /// Drug concentration step-up (in vitro).
    DoseEscalation,
    /// Single-cell cloning.
    Cloning,
    /// Assay (plate) set-up or read-out.
    Assay,
    /// Any other task (procedures).
    Task,
}

impl EventKind {
    /// kebab-case name used in files and CSV outputs.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Arrival => "arrival",
            EventKind::PelletImplant => "pellet-implant",
            EventKind::PelletRemoval => "pellet-removal",
            EventKind::HormoneSupply => "hormone-supply",
            EventKind::Implantation => "implantation",
            EventKind::Randomization => "randomization",
            EventKind::Dosing => "dosing",
            EventKind::Caliper => "caliper",
            EventKind::BodyWeight => "body-weight",
            EventKind::HealthCheck => "health-check",
            EventKind::Harvest => "harvest",
            EventKind::Passage => "passage",
            EventKind::MediumChange => "medium-change",
            EventKind::DoseEscalation => "dose-escalation",
            EventKind::Cloning => "cloning",
            EventKind::Assay => "assay",
            EventKind::Task => "task",
        }
    }
}

/// Which animals / cultures a step applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything in the study.
    All,
    /// One cohort (tumor model) by name.
    Cohort(String),
    /// One arm of one cohort.
    Arm {
        /// Cohort name.
        cohort: String,
        /// Arm name.
        arm: String,
    },
}

/// A one-off or recurring step inside a phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Unique name.
    pub name: String,
    /// Event type.
    pub kind: EventKind,
    /// Phase the step belongs to (its day offsets are relative to the phase start).
    pub phase: String,
    /// When it happens.
    pub schedule: Schedule,
    /// Who it applies to.
    pub scope: Scope,
    /// Free text shown in timeline details.
    pub details: String,
}

/// What the timeline does with events falling on weekends or holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeekendPolicy {
    /// Keep the date; no flag.
    Allow,
    /// Move one-off and sparse recurring events to the next working day (daily dosing stays).
    ShiftToNextWorkingDay,
    /// Keep the date and flag it as weekend/holiday work.
    #[default]
    KeepAndFlag,
}

/// Calendar settings of a protocol (may be overridden on the command line).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CalendarPolicy {
    /// Weekend handling.
    pub weekend: WeekendPolicy,
    /// Holidays (dates) listed in the protocol.
    pub holidays: Vec<jiff::civil::Date>,
}
