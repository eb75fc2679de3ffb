//! Domain types of an in vivo xenograft efficacy study.

use super::{Adjustment, Family, Hypothesis, Param, Schedule, Sourced, TestKey};

/// Most treatments combined in one arm: the simulator keeps fixed-size per-animal arrays of
/// this length so its hot loop never allocates, and `check` rejects a larger combination.
pub const MAX_TREATMENTS_PER_ARM: usize = 4;

/// An in vivo efficacy study: animals, cohorts (tumor models) with their arms, measurements,
/// enrollment, endpoints and the simulation model.
#[derive(Debug, Clone, PartialEq)]
pub struct Xenograft {
    /// Host animals.
    pub animals: Animals,
    /// Agents (drugs and vehicles) used by the arms, with PK where known.
    pub agents: Vec<Agent>,
    /// Tumor models studied side by side (e.g. MCF-7 and TamR-MCF-7), each with its arms.
    pub cohorts: Vec<Cohort>,
    /// Scheduled measurements (calipers, body weight).
    pub measurements: Vec<Measurement>,
    /// Enrollment window and randomization.
    pub enrollment: Enrollment,
    /// Humane endpoints (animal leaves the study) and the analysis endpoint volume.
    pub endpoints: Endpoints,
    /// Procedures at the end of the study (harvest for Western blot / IHC…).
    pub end_of_study: Vec<String>,
    /// Caliper measurement model.
    pub caliper: CaliperModel,
    /// Analysis choices.
    pub analysis: AnalysisPlan,
    /// Ordering and housing assumptions for resources.
    pub husbandry: Husbandry,
    /// A panel design: one treatment vs control pooled across lines (`[panel]`).
    pub panel: Option<Box<super::Panel>>,
    /// Dose holidays on body-weight loss (`[dose-modification]`).
    pub dose_modification: Option<super::DoseModification>,
    /// Early end on an arm's volume (`[study-stop]`).
    pub study_stop: Option<super::StudyStop>,
}

impl Xenograft {
    /// Agent by name.
    pub fn agent(&self, name: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.name == name)
    }
    /// Cohort by name.
    pub fn cohort(&self, name: &str) -> Option<&Cohort> {
        self.cohorts.iter().find(|c| c.name == name)
    }
    /// The caliper measurement (the one deciding enrollment and tumor endpoints), if any.
    pub fn caliper_measurement(&self) -> Option<&Measurement> {
        self.measurements
            .iter()
            .find(|m| m.kind == MeasurementKind::Caliper)
    }
}

/// Host animals and the body-weight model.
#[derive(Debug, Clone, PartialEq)]
pub struct Animals {
    /// e.g. "mouse".
    pub species: String,
    /// e.g. "BALB/c nude (Foxn1 nu/nu)".
    pub strain: String,
    /// "female" / "male".
    pub sex: String,
    /// Ovariectomized hosts (no endogenous estrogen).
    pub ovariectomized: bool,
    /// Age at arrival, weeks.
    pub age_weeks: Option<f64>,
    /// Body weight at randomization, g (typical value, CV between animals).
    pub body_weight_g: Param,
    /// Slow body-weight gain, g/day.
    pub weight_gain_g_per_day: Sourced,
    /// Day-to-day body-weight noise (CV of a proportional error).
    pub weight_noise_cv: Sourced,
    /// Recovery of a drug-induced body-weight deficit on days without a toxic dose, %/week
    /// (`None`: the loss stays after dosing stops).
    pub weight_recovery_pct_per_week: Option<Sourced>,
}

/// Tumor model type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TumorModelType {
    /// Established cell line (MCF-7, TamR-MCF-7…).
    CellLine,
    /// Patient-derived xenograft (fragments).
    Pdx,
}

/// One tumor model with its own implantation, hormone support, growth, drug sensitivity and
/// arms. Every cohort has exactly one control arm.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    /// Unique name, e.g. "TamR-MCF-7".
    pub name: String,
    /// Cell line or PDX.
    pub model_type: TumorModelType,
    /// Line or PDX identifier and genotype notes (e.g. "HCI-013, ESR1 Y537S").
    pub line: String,
    /// How tumors are started.
    pub implantation: Implantation,
    /// Estrogen support, if any.
    pub hormone: Option<HormoneSupport>,
    /// Growth model and its parameters.
    pub growth: GrowthModel,
    /// Probability that an implanted animal grows a tumor.
    pub take_rate: Sourced,
    /// Days from implantation until the tumor starts growing (latency).
    pub latency_days: Param,
    /// Growth-rate multiplier when estrogen is absent (parental MCF-7: 0 = stasis without
    /// regression, Shafie & Grantham 1981; TamR lines: ~1).
    pub growth_without_estrogen: Sourced,
    /// Drug effects in this tumor model, one per agent that acts.
    pub effects: Vec<DrugEffect>,
    /// A resistant subpopulation present at implantation.
    pub resistant: Option<ResistantSubclone>,
    /// Arms (exactly one with `control = true`).
    pub arms: Vec<Arm>,
}

impl Cohort {
    /// The control arm (validation guarantees exactly one).
    pub fn control(&self) -> &Arm {
        self.arms
            .iter()
            .find(|a| a.control)
            .unwrap_or(&self.arms[0])
    }
    /// Effect of an agent in this cohort, if it acts.
    pub fn effect(&self, agent: &str) -> Option<&DrugEffect> {
        self.effects.iter().find(|e| e.agent == agent)
    }
}

/// Tumor implantation.
#[derive(Debug, Clone, PartialEq)]
pub struct Implantation {
    /// Cells per animal (cell lines); `None` for PDX fragments.
    pub cells: Option<f64>,
    /// Fraction of the injected volume that is Matrigel (0–1).
    pub matrigel_fraction: f64,
    /// Injection volume per animal, µL.
    pub volume_ul: f64,
    /// Site, e.g. "s.c., right flank" or "mammary fat pad".
    pub site: String,
    /// Animals to implant per cohort; `None` = computed from n per arm, take and yield.
    pub animals: Option<u32>,
}

/// Estrogen support of a cohort: what is given (a slow-release pellet, injections, or
/// hormone in the drinking water), from when, and when it stops.
///
/// The one owner of its dated items ([`HormoneSupport::items`]: implants, re-implants,
/// injections, bottle changes) and of when support ends ([`HormoneSupport::exhausted_tumor`],
/// [`HormoneSupport::removal_study`], combined by [`crate::model::estrogen`]): the simulator's
/// estrogen state, the timeline's events, `resources.csv`, `check`'s reachability of the
/// enrollment window and the design check all read these.
#[derive(Debug, Clone, PartialEq)]
pub struct HormoneSupport {
    /// Description, e.g. "17β-estradiol 0.72 mg 60-day release pellet".
    pub name: String,
    /// What is given.
    pub kind: HormoneKind,
    /// Day of the first pellet, injection or supplemented water relative to the tumor
    /// implantation (≤ 0: support is in place when the cells go in, as the simulator assumes).
    pub implant_offset_days: i32,
    /// When the supply stops: the pellet comes out, injections stop, plain water again.
    pub removal: PelletRemoval,
}

/// The kind of estrogen supply.
#[derive(Debug, Clone, PartialEq)]
pub enum HormoneKind {
    /// A slow-release pellet: support while it releases; with `reimplant_every_days` a fresh
    /// pellet goes in every N ≤ release days from the first, until the removal (or the end
    /// of the study), so support never lapses.
    Pellet {
        /// Hormone per pellet, mg.
        dose_mg: f64,
        /// Release duration, days.
        release_days: f64,
        /// A replacement pellet every N days (N ≤ `release_days`); `None` = one pellet.
        reimplant_every_days: Option<u32>,
    },
    /// Injections on a schedule from the first one (daily androstenedione 0.1 mg s.c. for
    /// MCF-7Ca, Long et al. 2002 Clin Cancer Res 8:2378): support while they continue.
    Injection {
        /// Hormone per injection, mg.
        dose_mg: f64,
        /// Route.
        route: Route,
        /// Recurrence from the first injection (qd, bid, tid, qid or q<N>d).
        schedule: Schedule,
    },
    /// Hormone in the drinking water: support while it is supplied.
    DrinkingWater {
        /// Hormone concentration, µg/mL.
        concentration_ug_per_ml: f64,
        /// Water drunk per mouse per day, mL.
        intake_ml_per_day: Sourced,
        /// Fresh bottles every N days.
        change_every_days: u32,
    },
}

impl HormoneKind {
    /// File spelling (`pellet`, `injection`, `drinking-water`).
    pub fn as_str(&self) -> &'static str {
        match self {
            HormoneKind::Pellet { .. } => "pellet",
            HormoneKind::Injection { .. } => "injection",
            HormoneKind::DrinkingWater { .. } => "drinking-water",
        }
    }
}

/// One dated item of a hormone supply, from [`HormoneSupport::items`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SupplyItem {
    /// Day relative to the tumor implantation.
    pub day: i64,
    /// Clock time (injections).
    pub time: Option<jiff::civil::Time>,
    /// Days this item must cover: to the next item, or to the stop for the last one.
    pub covers_days: u32,
    /// The first item (a replacement pellet or a later injection otherwise).
    pub first: bool,
}

impl HormoneSupport {
    /// Recurrence of the supply's items from the first one: one pellet or a re-implant
    /// every N days, the injection schedule, or a bottle change every N days.
    pub fn schedule(&self) -> Schedule {
        let every = |n: u32| Schedule {
            frequency: crate::model::schedule::Frequency::EveryNDays { n: n.max(1) },
            start_day: 0,
            end_day: None,
            times: Vec::new(),
        };
        match &self.kind {
            HormoneKind::Pellet {
                reimplant_every_days: Some(n),
                ..
            } => every(*n),
            HormoneKind::Pellet { .. } => Schedule::once(0),
            HormoneKind::Injection { schedule, .. } => schedule.clone(),
            HormoneKind::DrinkingWater {
                change_every_days, ..
            } => every(*change_every_days),
        }
    }

    /// The dated items from the first one (day `implant_offset_days`) up to `stop` (days
    /// relative to the tumor implantation, exclusive; at least the first item is given):
    /// days from [`crate::model::schedule::planned_days`], injection clock times from
    /// [`crate::model::schedule::dose_times`] — the rules every dosing schedule follows.
    pub fn items(&self, stop: i64) -> Vec<SupplyItem> {
        use crate::model::schedule::{dose_times, planned_days};
        let start = i64::from(self.implant_offset_days);
        let len = u32::try_from((stop - start).max(1)).unwrap_or(u32::MAX);
        let sched = self.schedule();
        let days = planned_days(&sched, len, false, 0);
        let times: Vec<Option<jiff::civil::Time>> = match self.kind {
            HormoneKind::Injection { .. } => dose_times(&sched).into_iter().map(Some).collect(),
            _ => vec![None],
        };
        let mut out = Vec::with_capacity(days.len() * times.len());
        for (i, &d) in days.iter().enumerate() {
            let next = days.get(i + 1).copied().unwrap_or(len);
            for (j, &time) in times.iter().enumerate() {
                out.push(SupplyItem {
                    day: start + i64::from(d),
                    time,
                    covers_days: next - d,
                    first: i == 0 && j == 0,
                });
            }
        }
        out
    }

    /// Tumor time (days after the tumor implantation) at which support runs out if the
    /// supply is never stopped: the release end of a single pellet
    /// ([`crate::model::estrogen::pellet_exhausted`]); ∞ with re-implants, injections or
    /// drinking water (they continue until the removal).
    pub fn exhausted_tumor(&self) -> f64 {
        match &self.kind {
            HormoneKind::Pellet {
                release_days,
                reimplant_every_days: None,
                ..
            } => crate::model::estrogen::pellet_exhausted(self.implant_offset_days, *release_days),
            _ => f64::INFINITY,
        }
    }

    /// Study time at which the supply is stopped (0 at randomization, ∞ never).
    pub fn removal_study(&self) -> f64 {
        match self.removal {
            PelletRemoval::AtRandomization => 0.0,
            PelletRemoval::OnStudyDay(d) => f64::from(d.max(0)),
            PelletRemoval::Never => f64::INFINITY,
        }
    }

    /// What is given, in words (`show`, timeline details).
    pub fn describe(&self) -> String {
        let num = crate::output::fmt_value;
        let start = format!("from day {} vs the cells", self.implant_offset_days);
        match &self.kind {
            HormoneKind::Pellet {
                dose_mg,
                release_days,
                reimplant_every_days,
            } => format!(
                "pellet {} mg, {}-day release, implanted {start}{}",
                num(*dose_mg),
                num(*release_days),
                reimplant_every_days
                    .map(|n| format!(", re-implanted every {n} days"))
                    .unwrap_or_default()
            ),
            HormoneKind::Injection {
                dose_mg,
                route,
                schedule,
            } => format!(
                "injection {} mg {} {} {start}",
                num(*dose_mg),
                route.as_str(),
                schedule.frequency.label()
            ),
            HormoneKind::DrinkingWater {
                concentration_ug_per_ml,
                intake_ml_per_day,
                change_every_days,
            } => format!(
                "drinking water {} ug/mL ({} mL/day per mouse), fresh bottles every {change_every_days} days {start}",
                num(*concentration_ug_per_ml),
                num(intake_ml_per_day.value)
            ),
        }
    }
}

/// When the estrogen supply stops (the pellet comes out, injections or supplemented water
/// stop).
#[derive(Debug, Clone, PartialEq)]
pub enum PelletRemoval {
    /// At randomization (start of the day-0 phase).
    AtRandomization,
    /// On a given study day.
    OnStudyDay(i32),
    /// Never (support throughout).
    Never,
}

impl PelletRemoval {
    /// When the supply stops, in words (`show` and the report print it).
    pub fn describe(&self) -> String {
        match self {
            PelletRemoval::AtRandomization => "removed at randomization".into(),
            PelletRemoval::OnStudyDay(d) => format!("removed on study day {d}"),
            PelletRemoval::Never => "not removed".into(),
        }
    }
}

/// Growth model of the unperturbed tumor (volume in mm³, time in days). Rates are per day.
#[derive(Debug, Clone, PartialEq)]
pub enum GrowthModel {
    /// V' = r·V.
    Exponential {
        /// Initial volume after latency, mm³.
        v0_mm3: Param,
        /// Growth rate r, 1/day.
        rate: Param,
    },
    /// V' = r·V·(1 − V/K).
    Logistic {
        /// Initial volume, mm³.
        v0_mm3: Param,
        /// Rate r, 1/day.
        rate: Param,
        /// Carrying capacity K, mm³.
        capacity_mm3: Param,
    },
    /// V' = r·V·ln(K/V).
    Gompertz {
        /// Initial volume, mm³.
        v0_mm3: Param,
        /// Rate r, 1/day.
        rate: Param,
        /// Plateau K, mm³.
        capacity_mm3: Param,
    },
    /// Simeoni et al. 2004 (Cancer Res 64:1094): exponential λ0 switching to linear λ1
    /// (ψ = 20) and three transit compartments of damaged cells (rate k1).
    Simeoni {
        /// Initial volume, mm³.
        v0_mm3: Param,
        /// λ0, 1/day.
        lambda0: Param,
        /// λ1, mm³/day.
        lambda1: Param,
        /// k1, 1/day.
        k1: Param,
        /// ψ (20 in the paper).
        psi: f64,
    },
}

impl GrowthModel {
    /// Model name as written in files.
    pub fn name(&self) -> &'static str {
        match self {
            GrowthModel::Exponential { .. } => "exponential",
            GrowthModel::Logistic { .. } => "logistic",
            GrowthModel::Gompertz { .. } => "gompertz",
            GrowthModel::Simeoni { .. } => "simeoni",
        }
    }
    /// Every parameter of the model as (name, unit, value), in a fixed order — the one list
    /// that `show`, the report and the power justification print.
    pub fn parameters(&self) -> Vec<(&'static str, &'static str, &Param)> {
        match self {
            GrowthModel::Exponential { v0_mm3, rate } => {
                vec![("V0", "mm³", v0_mm3), ("growth rate", "1/day", rate)]
            }
            GrowthModel::Logistic {
                v0_mm3,
                rate,
                capacity_mm3,
            }
            | GrowthModel::Gompertz {
                v0_mm3,
                rate,
                capacity_mm3,
            } => vec![
                ("V0", "mm³", v0_mm3),
                ("growth rate", "1/day", rate),
                ("capacity K", "mm³", capacity_mm3),
            ],
            GrowthModel::Simeoni {
                v0_mm3,
                lambda0,
                lambda1,
                k1,
                ..
            } => vec![
                ("V0", "mm³", v0_mm3),
                ("λ0", "1/day", lambda0),
                ("λ1", "mm³/day", lambda1),
                ("k1", "1/day", k1),
            ],
        }
    }

    /// Initial volume parameter.
    pub fn v0(&self) -> &Param {
        match self {
            GrowthModel::Exponential { v0_mm3, .. }
            | GrowthModel::Logistic { v0_mm3, .. }
            | GrowthModel::Gompertz { v0_mm3, .. }
            | GrowthModel::Simeoni { v0_mm3, .. } => v0_mm3,
        }
    }
}

/// Administration route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Oral gavage.
    Po,
    /// Subcutaneous.
    Sc,
    /// Intraperitoneal.
    Ip,
    /// Intravenous.
    Iv,
    /// Intramuscular.
    Im,
    /// Slow-release pellet.
    Pellet,
}

impl Route {
    /// Lowercase abbreviation.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Po => "po",
            Route::Sc => "sc",
            Route::Ip => "ip",
            Route::Iv => "iv",
            Route::Im => "im",
            Route::Pellet => "pellet",
        }
    }
}

/// Dose unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoseUnit {
    /// mg per kg body weight.
    MgPerKg,
    /// µg per kg body weight.
    UgPerKg,
    /// mg per animal.
    MgPerAnimal,
    /// µg per animal.
    UgPerAnimal,
}

impl DoseUnit {
    /// Unit as written in files ("mg/kg", "ug/kg", "mg", "ug").
    pub fn as_str(self) -> &'static str {
        match self {
            DoseUnit::MgPerKg => "mg/kg",
            DoseUnit::UgPerKg => "ug/kg",
            DoseUnit::MgPerAnimal => "mg",
            DoseUnit::UgPerAnimal => "ug",
        }
    }
    /// True for doses per kg of body weight (scaled by each animal's weight on the day);
    /// false for flat per-animal doses.
    pub fn per_kg(self) -> bool {
        matches!(self, DoseUnit::MgPerKg | DoseUnit::UgPerKg)
    }
    /// Amount in mg given to an animal of `body_weight_g` grams per administration.
    pub fn mg_per_animal(self, dose: f64, body_weight_g: f64) -> f64 {
        match self {
            DoseUnit::MgPerKg => dose * body_weight_g / 1000.0,
            DoseUnit::UgPerKg => dose * body_weight_g / 1000.0 / 1000.0,
            DoseUnit::MgPerAnimal => dose,
            DoseUnit::UgPerAnimal => dose / 1000.0,
        }
    }
}

/// A drug or vehicle.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// Unique name, e.g. "taragarestrant".
    pub name: String,
    /// Pharmacological class ("SERD", "SERM", "CDK4/6 inhibitor", "vehicle").
    pub class: String,
    /// True for vehicles (no pharmacological effect).
    pub vehicle: bool,
    /// Formulation / vehicle description, e.g. "0.5% methylcellulose".
    pub formulation: String,
    /// One-compartment PK, if exposure-driven effects use it.
    pub pk: Option<Pk>,
    /// Body-weight loss caused per week of dosing, % (toxicity), if any: at
    /// `weight_loss_reference` when given (scaled by dose / reference), else at whatever dose
    /// a treatment gives.
    pub weight_loss_pct_per_week: Option<Sourced>,
    /// The dose at which `weight_loss_pct_per_week` holds.
    pub weight_loss_reference: Option<super::DoseLevel>,
}

/// One-compartment PK with first-order absorption (Bateman function), superposed per dose.
#[derive(Debug, Clone, PartialEq)]
pub struct Pk {
    /// Absorption rate constant, 1/h (ignored for IV bolus).
    pub ka_per_h: Sourced,
    /// Elimination half-life, h.
    pub half_life_h: Sourced,
    /// Apparent volume of distribution, L/kg.
    pub volume_l_per_kg: Sourced,
    /// Bioavailability (0–1] for extravascular routes.
    pub bioavailability: Sourced,
}

/// A treatment given in an arm.
#[derive(Debug, Clone, PartialEq)]
pub struct Treatment {
    /// Agent name (must be defined).
    pub agent: String,
    /// Dose amount (> 0 for non-vehicle agents).
    pub dose: f64,
    /// Dose unit.
    pub unit: DoseUnit,
    /// Route.
    pub route: Route,
    /// Dosing schedule, relative to the phase `phase`.
    pub schedule: Schedule,
    /// Phase in which the schedule runs (default: the day-0 phase).
    pub phase: String,
    /// Dosing volume, mL/kg (PO 10 mL/kg typical).
    pub volume_ml_per_kg: Option<f64>,
}

/// One arm of a cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// Name unique within the cohort, e.g. "taragarestrant 10 mg/kg".
    pub name: String,
    /// The cohort's control arm.
    pub control: bool,
    /// Treatments (several = combination).
    pub treatments: Vec<Treatment>,
    /// Animals per arm at randomization.
    pub n: u32,
    /// Interaction ∈ [−1, 1] of a combination beyond Bliss independence on growth rates
    /// ([`crate::model::effect::bliss`], the one formula every engine uses and the null of the
    /// `bliss-lmm` test): the combined inhibition is Σ Iⱼ + interaction, i.e. the combination's
    /// rate is b_A + b_B − b_C − interaction·b_C; 0 = independence, > 0 synergy, < 0
    /// antagonism.
    pub interaction: f64,
}

/// How an agent acts on a tumor model.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugEffect {
    /// Agent name.
    pub agent: String,
    /// Direct or exposure-driven effect.
    pub mode: EffectMode,
    /// Source of the numbers.
    pub source: String,
    /// The user's number when the effect was given in user units (`expected-tgi-pct`…)
    /// and solved to the growth-rate inhibition of [`EffectMode::Direct`]; `None` when
    /// `inhibition` was written directly.
    pub specified_as: Option<UserEffect>,
}

/// An effect as the user gave it — TGI%, T/C% or rate-based T/C% at a study day — and how it
/// was solved ([`crate::model::effect_units`]).
#[derive(Debug, Clone, PartialEq)]
pub struct UserEffect {
    /// Unit of `value`.
    pub unit: crate::model::effect_units::EffectUnit,
    /// The number, % (e.g. 70 for "70% TGI").
    pub value: f64,
    /// Study day at which it holds.
    pub day: f64,
    /// Source of the number.
    pub source: String,
    /// How it was solved: model, typical on-treatment rate, baseline volume, kill.
    pub solved_for: String,
}

/// Drug effect model.
#[derive(Debug, Clone, PartialEq)]
pub enum EffectMode {
    /// Constant effect while on treatment: growth-rate inhibition fraction (0–1, at the arm's
    /// dose, between-animal CV allowed) and a first-order kill rate (1/day).
    Direct {
        /// Fractional inhibition of the growth rate (0 = none, 1 = full stop).
        inhibition: Param,
        /// Kill rate, 1/day (≥ 0): regression when it exceeds growth.
        kill_rate_per_day: Param,
    },
    /// Concentration-driven: C(t) from [`Pk`] over the real schedule; E = Emax·C^h/(EC50^h+C^h)
    /// inhibits growth, or C acts as the Simeoni kill term k2·C.
    Exposure {
        /// Maximal fractional inhibition (0–1) or, for `Kill`, unused (k2 is used).
        emax: Param,
        /// Concentration for half effect, ng/mL.
        ec50_ng_ml: Param,
        /// Hill coefficient.
        hill: f64,
        /// What the concentration acts on.
        target: EffectTarget,
    },
}

/// Target of an exposure-driven effect.
#[derive(Debug, Clone, PartialEq)]
pub enum EffectTarget {
    /// Inhibits the growth rate.
    Growth,
    /// Simeoni kill term k2·C(t) (k2 in (ng/mL)⁻¹/day).
    Kill {
        /// k2.
        k2: Param,
    },
}

/// A pre-existing resistant subpopulation (e.g. ESR1 Y537S clones).
#[derive(Debug, Clone, PartialEq)]
pub struct ResistantSubclone {
    /// Initial fraction of the tumor (0–1), between-animal CV allowed.
    pub fraction: Param,
    /// Drug effect multiplier for resistant cells (0 = fully resistant, 1 = as sensitive).
    pub sensitivity: Sourced,
    /// Growth multiplier without estrogen for resistant cells.
    pub growth_without_estrogen: Sourced,
}

/// Kind of scheduled measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasurementKind {
    /// Calipers (length and width) → volume.
    Caliper,
    /// Body weight.
    BodyWeight,
}

/// A scheduled measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Unique name, e.g. "calipers".
    pub name: String,
    /// Kind.
    pub kind: MeasurementKind,
    /// Schedule (applies in every phase listed).
    pub schedule: Schedule,
    /// Phases during which it is taken.
    pub phases: Vec<String>,
}

/// Randomization method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Randomization {
    /// Simple random assignment.
    Simple,
    /// Sort by volume, deal in blocks of (number of arms) at random within each block.
    VolumeBalanced,
}

/// Enrollment mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentMode {
    /// All arms start on one day, the first caliper day when enough animals are eligible.
    SingleDay,
    /// Each animal starts (its own study day 0) on the caliper day it becomes eligible.
    Rolling,
    /// No pre-treatment growth is simulated: each tumor is V0 on study day 0 and every animal
    /// is enrolled as drawn (designs specified at randomization, e.g. ../shared/bench/P1.md).
    AtBaseline,
}

/// Enrollment window and randomization.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrollment {
    /// Lower bound of the window, mm³.
    pub min_mm3: f64,
    /// Upper bound of the window, mm³.
    pub max_mm3: f64,
    /// Maximum wait after implantation, days; animals not eligible by then are excluded.
    pub max_wait_days: u32,
    /// Randomization method.
    pub randomization: Randomization,
    /// Single-day or rolling enrollment.
    pub mode: EnrollmentMode,
}

/// Endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoints {
    /// Humane limit on tumor volume, mm³.
    pub max_volume_mm3: Option<Sourced>,
    /// Humane limit on mean diameter, mm.
    pub max_diameter_mm: Option<Sourced>,
    /// Humane limit on body-weight loss from baseline, %.
    pub max_weight_loss_pct: Option<Sourced>,
    /// Volume defining "event" for time-to-endpoint analysis, mm³.
    pub event_volume_mm3: f64,
}

/// Volume formula from calipers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeFormula {
    /// V = L·W²/2 (NCI convention).
    HalfLw2,
    /// V = π/6·L·W².
    PiOver6Lw2,
}

impl VolumeFormula {
    /// Volume from length and width (mm → mm³).
    pub fn volume(self, length_mm: f64, width_mm: f64) -> f64 {
        match self {
            VolumeFormula::HalfLw2 => 0.5 * length_mm * width_mm * width_mm,
            VolumeFormula::PiOver6Lw2 => {
                std::f64::consts::PI / 6.0 * length_mm * width_mm * width_mm
            }
        }
    }
}

/// How calipers read a tumor.
#[derive(Debug, Clone, PartialEq)]
pub struct CaliperModel {
    /// Formula.
    pub formula: VolumeFormula,
    /// Measurement error model.
    pub error: CaliperError,
    /// Systematic observer bias (fraction, e.g. 0.05 = reads 5% large).
    pub observer_bias: Sourced,
    /// Below this true volume the tumor is "not palpable" (recorded as 0 / missing).
    pub detection_floor_mm3: Sourced,
    /// Width/length ratio of the ellipsoid (typical value, between-animal CV).
    pub width_ratio: Param,
}

/// Caliper measurement error.
#[derive(Debug, Clone, PartialEq)]
pub enum CaliperError {
    /// Each diameter (length, width) read with independent proportional error of this CV
    /// (Jensen 2008: caliper intra-observer CV 14% of volume).
    Diameters {
        /// CV of each diameter reading.
        cv: Sourced,
    },
    /// Measured volume = true volume·exp(ε), ε ~ N(0, sd²) (bench P1: sd = 0.10); length and
    /// width are then derived from the volume with the width ratio.
    LogVolume {
        /// SD of the log-volume error.
        sd: Sourced,
    },
}

/// Analysis choices.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisPlan {
    /// Tests of the default vs-control hypotheses (and of declared hypotheses that name
    /// none); the first is the primary one.
    pub tests: Vec<TestKey>,
    /// Two-sided significance level.
    pub alpha: f64,
    /// Default multiplicity adjustment of every family.
    pub adjust: Adjustment,
    /// Declared hypotheses; empty = each arm vs its cohort's control on every test.
    pub hypotheses: Vec<Hypothesis>,
    /// Families whose method differs from `adjust`.
    pub families: Vec<Family>,
    /// Fixed analysis day; `None` = last day with ≥ 80% of control animals on study.
    pub analysis_day: Option<f64>,
    /// Target power for sizing.
    pub target_power: f64,
    /// Blinding statement (ARRIVE 2.0 item 5); `None` = not stated in the protocol.
    pub blinding: Option<String>,
}

/// Housing and ordering assumptions (resources).
#[derive(Debug, Clone, PartialEq)]
pub struct Husbandry {
    /// Animals per cage.
    pub per_cage: u32,
    /// Spare animals as a fraction of the computed order.
    pub spare_fraction: f64,
    /// Drug overage fraction when preparing doses.
    pub drug_overage_fraction: f64,
    /// Fraction of enrolled animals lost for reasons other than endpoints (attrition).
    pub attrition: Sourced,
}
