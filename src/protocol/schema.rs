//! The protocol FILE schema: serde structs mirroring the TOML layout (kebab-case keys).
//!
//! These types are deliberately loose (strings for enumerations, options everywhere a key may
//! be left out) so that every problem can be reported by validation with a position, instead of
//! failing at the first serde error. They are never handed to engines: the only way to a
//! domain value is `protocol::parse`, which validates and converts them (see `convert`).
//! The JSON Schema printed by `xenoplan schema` is generated from these structs.

use schemars::JsonSchema;
use serde::Deserialize;

/// A whole protocol file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(
    title = "xenoplan protocol",
    description = "A xenoplan protocol file (TOML)."
)]
pub struct FileProtocol {
    /// Identity of the protocol.
    pub protocol: FileHeader,
    /// Documents the protocol encodes (seed documents first).
    #[serde(default)]
    pub references: Vec<FileReference>,
    /// Weekend / holiday policy of the timeline.
    pub calendar: Option<FileCalendar>,
    /// Ordered phases, placed back to back by the timeline.
    #[serde(default)]
    pub phases: Vec<FilePhase>,
    /// One-off and recurring steps inside phases.
    #[serde(default)]
    pub steps: Vec<FileStep>,

    // ---- xenograft ----
    /// Host animals (xenograft).
    pub animals: Option<FileAnimals>,
    /// Drugs and vehicles (xenograft).
    #[serde(default)]
    pub agents: Vec<FileAgent>,
    /// Arms shared by every cohort that does not list its own `arms` (xenograft).
    #[serde(default)]
    pub arms: Vec<FileArm>,
    /// Tumor models, each with implantation, growth model, drug effects and arms (xenograft).
    #[serde(default)]
    pub cohorts: Vec<FileCohort>,
    /// Scheduled measurements: calipers, body weight (xenograft).
    #[serde(default)]
    pub measurements: Vec<FileMeasurement>,
    /// Enrollment window and randomization (xenograft).
    pub enrollment: Option<FileEnrollment>,
    /// Humane endpoints and the event volume (xenograft).
    pub endpoints: Option<FileEndpoints>,
    /// Procedures at the end of the study (xenograft).
    pub end_of_study: Option<FileEndOfStudy>,
    /// Caliper measurement model (xenograft).
    pub caliper: Option<FileCaliper>,
    /// Analysis choices (xenograft).
    pub analysis: Option<FileAnalysis>,
    /// Housing and ordering assumptions (xenograft).
    pub husbandry: Option<FileHusbandry>,
    /// A panel design: one treatment vs control pooled across lines (xenograft).
    pub panel: Option<FilePanel>,
    /// Dose holidays and dose reduction on body-weight loss, per animal (xenograft).
    pub dose_modification: Option<FileDoseModification>,
    /// The study ends early when an arm's mean or median volume reaches a limit (xenograft).
    pub study_stop: Option<FileStudyStop>,

    // ---- derivation ----
    /// Resistant-line derivation settings (derivation).
    pub derivation: Option<FileDerivation>,
    /// Culture conditions (derivation).
    pub culture: Option<FileCulture>,
    /// Planned dose-escalation steps (derivation).
    #[serde(default)]
    pub escalation: Vec<FileEscalation>,
    /// Single-cell cloning (derivation).
    pub cloning: Option<FileCloning>,
    /// Validation dose-response assay (derivation).
    pub validation: Option<FileAssayDesign>,
    /// Population model of the derivation (derivation).
    pub model: Option<FileDerivationModel>,
    /// Split of the culture into arms: continue, drug holiday, escalate (derivation).
    pub split: Option<FileSplit>,

    // ---- assay ----
    /// Assay medium (assay).
    pub assay: Option<FileAssay>,
    /// Cell lines tested (assay).
    #[serde(default)]
    pub lines: Vec<FileAssayLine>,
    /// Plate design (assay).
    pub design: Option<FileAssayDesign>,

    // ---- procedure ----
    /// Procedure settings (procedure).
    pub procedure: Option<FileProcedure>,
    /// Tasks with durations and dependencies (procedure).
    #[serde(default)]
    pub tasks: Vec<FileTask>,
}

/// `[protocol]`: identity.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileHeader {
    /// Stable kebab-case identifier (output folder name).
    pub id: String,
    /// One of `xenograft`, `derivation`, `assay`, `procedure`.
    pub kind: String,
    /// Human title.
    pub title: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// `[[references]]`: a cited document.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileReference {
    /// Short key used in `source` strings.
    pub id: String,
    /// Full citation.
    pub citation: String,
    /// DOI or URL.
    pub url: Option<String>,
}

/// `[calendar]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileCalendar {
    /// `allow`, `shift` (to the next working day) or `flag` (keep and flag; default).
    pub weekend: Option<String>,
    /// Holidays as quoted dates, "YYYY-MM-DD".
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// `{ value = …, source = "…" }`: a number with its source.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileSourced {
    /// The number.
    pub value: f64,
    /// Literature source, or "assumed; <why>".
    pub source: String,
}

/// `{ value = …, cv = …, source = "…" }` or `{ value = …, sd = …, source = "…" }`: a model
/// parameter with between-animal variability (cv: log-normal; sd: additive normal).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileParam {
    /// Typical value (median for log-normal variability, mean for normal).
    pub value: f64,
    /// Coefficient of variation of a log-normal random effect (≥ 0).
    pub cv: Option<f64>,
    /// Standard deviation of an additive normal random effect (≥ 0).
    pub sd: Option<f64>,
    /// Literature source, or "assumed; <why>".
    pub source: String,
}

/// `until = { … }`: a phase ending when a measurement reaches a window.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileUntil {
    /// Name of the deciding measurement.
    pub measurement: String,
    /// Lower bound of the window.
    pub min: f64,
    /// Upper bound of the window.
    pub max: f64,
    /// Maximum wait, days.
    pub max_wait_days: i64,
}

/// `[[phases]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FilePhase {
    /// Unique name.
    pub name: String,
    /// Fixed duration, days (give this OR `until`).
    pub duration_days: Option<i64>,
    /// Ending condition (give this OR `duration-days`).
    pub until: Option<FileUntil>,
    /// This phase starts study day 0.
    #[serde(default)]
    pub day0: bool,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// `[[steps]]`: a one-off (`day = N`) or recurring (`frequency = …`) step.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileStep {
    /// Unique name.
    pub name: String,
    /// Event kind: arrival, pellet-implant, pellet-removal, implantation, randomization,
    /// dosing, caliper, body-weight, health-check, harvest, passage, medium-change,
    /// dose-escalation, cloning, assay, task. (In a xenograft protocol pellets are dated
    /// from `[cohorts.hormone]`, not by steps.)
    pub kind: String,
    /// Phase (day offsets are relative to its start).
    pub phase: String,
    /// One-off day offset.
    pub day: Option<i64>,
    /// once, qd, bid, tid, qid, q<N>d, qw, q2w, weekdays, or a dosing cycle <N>on<M>off
    /// (5on2off, 21on7off; counted from the first day, `-bid` for two a day).
    pub frequency: Option<String>,
    /// Days of the week for `frequency = "weekdays"` (mon…sun).
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// Clock times "HH:MM".
    #[serde(default)]
    pub times: Vec<String>,
    /// First day offset of a recurring step (default 0).
    pub start_day: Option<i64>,
    /// Last day offset included (default: end of phase).
    pub end_day: Option<i64>,
    /// Restrict to one cohort.
    pub cohort: Option<String>,
    /// Restrict to one arm (needs `cohort`).
    pub arm: Option<String>,
    /// Free text.
    #[serde(default)]
    pub details: String,
}

/// `[animals]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileAnimals {
    /// e.g. "mouse".
    pub species: String,
    /// e.g. "BALB/c nude".
    pub strain: String,
    /// "female" or "male".
    pub sex: String,
    /// Ovariectomized hosts.
    #[serde(default)]
    pub ovariectomized: bool,
    /// Age at arrival, weeks.
    pub age_weeks: Option<f64>,
    /// Body weight at randomization, g.
    pub body_weight_g: FileParam,
    /// Body-weight gain, g/day.
    pub weight_gain_g_per_day: FileSourced,
    /// Day-to-day proportional body-weight noise (CV): a reading is weight × (1 + cv·z).
    /// At most 0.1: beyond it readings turn negative (z < −1/cv; 2.3% of readings at 0.5),
    /// and a mouse's day-to-day scale and hydration noise is 1–3%.
    pub weight_noise_cv: FileSourced,
    /// Body-weight recovery on days without a toxic dose, %/week of the deficit's ln factor
    /// (ln weight rises by −ln(1 − r/100)/7 per day, up to the untreated weight). Default 0:
    /// a drug-induced loss stays after dosing stops.
    pub weight_recovery_pct_per_week: Option<FileSourced>,
}

/// `[agents.pk]`: one-compartment PK with first-order absorption.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FilePk {
    /// Absorption rate constant, 1/h.
    pub ka_per_h: FileSourced,
    /// Elimination half-life, h.
    pub half_life_h: FileSourced,
    /// Apparent volume of distribution, L/kg.
    pub volume_l_per_kg: FileSourced,
    /// Bioavailability (0–1].
    pub bioavailability: FileSourced,
}

/// `[[agents]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileAgent {
    /// Unique name.
    pub name: String,
    /// Pharmacological class.
    #[serde(default)]
    pub class: String,
    /// True for vehicles.
    #[serde(default)]
    pub vehicle: bool,
    /// Formulation.
    #[serde(default)]
    pub formulation: String,
    /// PK (needed by exposure-driven effects).
    pub pk: Option<FilePk>,
    /// Body-weight loss per week of dosing, %: the ln body-weight factor
    /// ln(1 − loss/100)/7 accrues on every dosing day, × dose / `weight-loss-reference-dose`
    /// when a reference dose is given (else at the treatment's own dose, whatever it is).
    pub weight_loss_pct_per_week: Option<FileSourced>,
    /// The dose at which `weight-loss-pct-per-week` was observed: the loss then scales with
    /// the dose given (dose / reference, both in mg per animal at the typical body weight).
    pub weight_loss_reference_dose: Option<FileDoseLevel>,
}

/// `{ dose = 30, unit = "mg/kg" }`: a dose level.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileDoseLevel {
    /// The dose, > 0.
    pub dose: f64,
    /// `mg/kg`, `ug/kg`, `mg` or `ug` (per animal).
    pub unit: String,
}

/// `[dose-modification]`: dose holidays on body-weight loss, simulated animal by animal.
/// On a body-weight day where the animal's loss from its day-0 weight is at least
/// `weight-loss-pct`, its dosing pauses for `holiday-days` days (doses skipped, direct effects
/// off, toxicity stops and the weight recovers at `[animals] weight-recovery-pct-per-week`),
/// then resumes at `resume-dose-fraction` × the protocol dose; when the threshold is reached
/// again after `max-holidays` holidays, dosing stops for good. A loss read after the arm's last
/// planned dose (a follow-up off treatment) starts nothing.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileDoseModification {
    /// Body-weight loss from the day-0 weight that starts a holiday, % (below the humane
    /// `max-weight-loss-pct`, else the animal leaves first).
    pub weight_loss_pct: FileSourced,
    /// Days without dosing from the body-weight day that triggers the holiday (≥ 1).
    pub holiday_days: i64,
    /// Fraction of the protocol dose given after a holiday, in (0, 1].
    pub resume_dose_fraction: f64,
    /// Holidays an animal may take; the next trigger stops its dosing (default 1).
    pub max_holidays: Option<i64>,
    /// Arms the rule applies to (default: every arm with a drug).
    #[serde(default)]
    pub arms: Vec<String>,
}

/// `[study-stop]`: the study ends at the end of its phases (the fixed end) or on the first
/// caliper day when `arm`'s `statistic` of the measured volumes of its animals reaches
/// `volume-mm3`, whichever comes first (per cohort, per simulated study). Animals that left
/// the arm earlier on a humane endpoint count with their last reading.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileStudyStop {
    /// The arm whose volumes decide (default: the cohort's control arm).
    pub arm: Option<String>,
    /// `mean` (default) or `median`.
    pub statistic: Option<String>,
    /// The volume that ends the study, mm³.
    pub volume_mm3: f64,
}

/// `[cohorts.implantation]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileImplantation {
    /// Cells per animal (cell lines).
    pub cells: Option<f64>,
    /// Matrigel fraction of the injected volume (0–1).
    #[serde(default)]
    pub matrigel_fraction: f64,
    /// Injection volume, µL.
    pub volume_ul: f64,
    /// Site.
    pub site: String,
    /// Animals to implant (default: computed).
    pub animals: Option<i64>,
}

/// `[cohorts.hormone]`: the estrogen supply — a slow-release pellet (optionally re-implanted),
/// injections (e.g. androstenedione for aromatase-expressing MCF-7Ca) or hormone in the
/// drinking water. Its items are dated by the timeline, counted by `resources.csv`, and the
/// simulated tumors have estrogen while it is supplied and not after.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileHormone {
    /// `pellet` (default), `injection` or `drinking-water`.
    pub kind: Option<String>,
    /// Description (shown on the timeline and in resources).
    pub name: String,
    /// Hormone per pellet (pellet) or per injection (injection), mg.
    pub dose_mg: Option<f64>,
    /// Pellet: release duration, days.
    pub release_days: Option<f64>,
    /// Pellet: a fresh pellet every N days from the first (N ≤ `release-days`, so support
    /// never lapses) until the removal or the end of the study.
    pub reimplant_every_days: Option<i64>,
    /// Injection: `qd` (default), `bid`, `tid`, `qid` or `q<N>d`, counted from the first
    /// injection.
    pub frequency: Option<String>,
    /// Injection: clock times ("HH:MM", one per injection of the day).
    #[serde(default)]
    pub times: Vec<String>,
    /// Injection: route (default `sc`).
    pub route: Option<String>,
    /// Drinking water: hormone concentration, µg/mL.
    pub concentration_ug_per_ml: Option<f64>,
    /// Drinking water: water drunk per mouse per day, mL, with its source.
    pub intake_ml_per_day: Option<FileSourced>,
    /// Drinking water: fresh bottles every N days.
    pub change_every_days: Option<i64>,
    /// Day of the first pellet, injection or supplemented water relative to the tumor
    /// implantation (≤ 0, e.g. -1).
    #[serde(default)]
    pub implant_offset_days: i64,
    /// When the supply stops: `at-randomization`, `never` or `on-study-day` (with
    /// `removal-day`).
    pub removal: String,
    /// Study day of removal for `removal = "on-study-day"`.
    pub removal_day: Option<i64>,
}

/// `[cohorts.growth]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileGrowth {
    /// exponential, logistic, gompertz or simeoni.
    pub model: String,
    /// Initial volume after latency, mm³.
    pub v0_mm3: FileParam,
    /// Growth rate, 1/day (exponential, logistic, gompertz).
    pub rate: Option<FileParam>,
    /// Carrying capacity / plateau, mm³ (logistic, gompertz).
    pub capacity_mm3: Option<FileParam>,
    /// λ0, 1/day (simeoni).
    pub lambda0: Option<FileParam>,
    /// λ1, mm³/day (simeoni).
    pub lambda1: Option<FileParam>,
    /// k1, 1/day (simeoni).
    pub k1: Option<FileParam>,
    /// ψ (simeoni; default 20 as in Simeoni et al. 2004).
    pub psi: Option<f64>,
}

/// `[[cohorts.effects]]`: how an agent acts on this tumor model.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileEffect {
    /// Agent name.
    pub agent: String,
    /// `direct` or `exposure`.
    pub mode: String,
    /// Growth-rate inhibition fraction (direct). Exactly one of `inhibition`,
    /// `expected-tgi-pct`, `expected-tc-pct` and `expected-rate-tc`.
    pub inhibition: Option<FileParam>,
    /// Expected TGI% at a day (direct), solved to `inhibition` for the cohort's growth.
    pub expected_tgi_pct: Option<FileUserEffect>,
    /// Expected T/C% (treated/control mean volume) at a day (direct), solved to `inhibition`.
    pub expected_tc_pct: Option<FileUserEffect>,
    /// Expected rate-based T/C% (Hather et al. 2014) at a day (direct), solved to `inhibition`.
    pub expected_rate_tc: Option<FileUserEffect>,
    /// Kill rate, 1/day (direct; default 0).
    pub kill_rate_per_day: Option<FileParam>,
    /// Maximal inhibition (exposure).
    pub emax: Option<FileParam>,
    /// EC50, ng/mL (exposure).
    pub ec50_ng_ml: Option<FileParam>,
    /// Hill coefficient (exposure; default 1).
    pub hill: Option<f64>,
    /// `growth` (default) or `kill` (exposure).
    pub target: Option<String>,
    /// Simeoni k2, (ng/mL)⁻¹/day (exposure, target kill).
    pub k2: Option<FileParam>,
    /// Source of the numbers.
    pub source: String,
}

/// `{ value = …, day = …, source = "…" }`: an effect in user units (TGI%, T/C%, rate T/C%)
/// at a study day, optionally with the between-animal variability of the solved inhibition.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileUserEffect {
    /// The number, % (e.g. 70 for 70% TGI).
    pub value: f64,
    /// Study day at which it holds (default: `[analysis] analysis-day`).
    pub day: Option<f64>,
    /// CV of a log-normal random effect on the solved inhibition (≥ 0).
    pub cv: Option<f64>,
    /// SD of an additive normal random effect on the solved inhibition (≥ 0).
    pub sd: Option<f64>,
    /// Literature source, or "assumed; <why>".
    pub source: String,
}

/// `[cohorts.resistant]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileResistant {
    /// Initial fraction (0–1).
    pub fraction: FileParam,
    /// Drug-effect multiplier for resistant cells (0–1).
    pub sensitivity: FileSourced,
    /// Growth multiplier without estrogen for resistant cells.
    pub growth_without_estrogen: FileSourced,
}

/// `[[cohorts]]`: one tumor model.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileCohort {
    /// Unique name.
    pub name: String,
    /// `cell-line` or `pdx`.
    pub model: String,
    /// Line / PDX identifier and genotype.
    pub line: String,
    /// Take probability (0–1).
    pub take_rate: FileSourced,
    /// Latency, days.
    pub latency_days: FileParam,
    /// Growth multiplier without estrogen.
    pub growth_without_estrogen: FileSourced,
    /// Implantation.
    pub implantation: FileImplantation,
    /// Estrogen pellet.
    pub hormone: Option<FileHormone>,
    /// Growth model.
    pub growth: FileGrowth,
    /// Drug effects.
    #[serde(default)]
    pub effects: Vec<FileEffect>,
    /// Resistant subclone.
    pub resistant: Option<FileResistant>,
    /// Arms of this cohort (default: the top-level `[[arms]]`).
    pub arms: Option<Vec<FileArm>>,
}

/// A treatment in an arm.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileTreatment {
    /// Agent name.
    pub agent: String,
    /// Dose amount.
    pub dose: f64,
    /// mg/kg, ug/kg, mg, ug.
    pub unit: String,
    /// po, sc, ip, iv, im, pellet.
    pub route: String,
    /// once, qd, bid, tid, qid, q<N>d, qw, q2w, weekdays, or a dosing cycle <N>on<M>off
    /// (5on2off, 21on7off; counted from the first day, `-bid` for two a day).
    pub frequency: String,
    /// Days of the week for `frequency = "weekdays"`.
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// Clock times "HH:MM".
    #[serde(default)]
    pub times: Vec<String>,
    /// First day offset (default 0).
    pub start_day: Option<i64>,
    /// Last day offset included (default: end of phase).
    pub end_day: Option<i64>,
    /// Phase of the schedule (default: the day-0 phase).
    pub phase: Option<String>,
    /// Dosing volume, mL/kg.
    pub volume_ml_per_kg: Option<f64>,
}

/// `[[arms]]` / `[[cohorts.arms]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileArm {
    /// Name unique within the cohort.
    pub name: String,
    /// The control arm.
    #[serde(default)]
    pub control: bool,
    /// Animals per arm.
    pub n: i64,
    /// Interaction ∈ [−1, 1] of a combination beyond Bliss independence on growth rates, in
    /// units of the control growth rate: the combination grows at b_A + b_B − b_C −
    /// interaction·b_C (0 = independence, the `bliss-lmm` null; > 0 synergy; < 0 antagonism).
    #[serde(default)]
    pub interaction: f64,
    /// Treatments (several = combination).
    #[serde(default)]
    pub treatments: Vec<FileTreatment>,
}

/// `[[measurements]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileMeasurement {
    /// Unique name.
    pub name: String,
    /// `caliper` or `body-weight`.
    pub kind: String,
    /// once, qd, q<N>d, qw, weekdays…
    pub frequency: String,
    /// Days of the week for `frequency = "weekdays"`.
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// Clock times "HH:MM".
    #[serde(default)]
    pub times: Vec<String>,
    /// First day offset (default 0).
    pub start_day: Option<i64>,
    /// Last day offset (default: end of phase).
    pub end_day: Option<i64>,
    /// Phases in which it is taken.
    pub phases: Vec<String>,
}

/// `[enrollment]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileEnrollment {
    /// Lower bound, mm³ (default: from the `until` phase).
    pub min_mm3: Option<f64>,
    /// Upper bound, mm³ (default: from the `until` phase).
    pub max_mm3: Option<f64>,
    /// Maximum wait, days (default: from the `until` phase).
    pub max_wait_days: Option<i64>,
    /// `simple` or `volume-balanced`.
    pub randomization: String,
    /// `single-day`, `rolling` or `at-baseline`.
    pub mode: String,
}

/// `[endpoints]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileEndpoints {
    /// Humane volume limit, mm³.
    pub max_volume_mm3: Option<FileSourced>,
    /// Humane mean-diameter limit, mm.
    pub max_diameter_mm: Option<FileSourced>,
    /// Humane body-weight-loss limit, %.
    pub max_weight_loss_pct: Option<FileSourced>,
    /// Event volume for time-to-endpoint analysis, mm³.
    pub event_volume_mm3: f64,
}

/// `[end-of-study]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileEndOfStudy {
    /// Procedures in order (harvest for Western blot, IHC…).
    pub procedures: Vec<String>,
}

/// `[caliper.error]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileCaliperError {
    /// `diameters` (with `cv`) or `log-volume` (with `sd`).
    pub model: String,
    /// CV of each diameter reading, a fraction ≤ 1 (published 0.03–0.2; Jensen et al. 2008).
    pub cv: Option<FileSourced>,
    /// SD of the log-volume error, ≤ 1 (a factor e at one SD).
    pub sd: Option<FileSourced>,
}

/// `[caliper]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileCaliper {
    /// `half-lw2` (L·W²/2) or `pi-over-6-lw2`.
    pub formula: String,
    /// Error model.
    pub error: FileCaliperError,
    /// Systematic observer bias, a fraction of the true volume in (−1, 1]: a reading is
    /// (1 + bias) × the volume (−1 would read every tumor as 0 mm³; more than twice the true
    /// volume is a wrong formula or unit).
    pub observer_bias: FileSourced,
    /// Detection floor, mm³: smaller tumors read 0 mm³. Below the enrollment window's upper
    /// bound; with single-day or rolling enrollment `check` also requires that the typical
    /// tumor (every parameter at its median) reads inside the window before the maximum wait.
    pub detection_floor_mm3: FileSourced,
    /// Width/length ratio.
    pub width_ratio: FileParam,
}

/// `[analysis]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileAnalysis {
    /// welch-log, mwu, slope, auc, lmm, logrank, response.
    pub tests: Vec<String>,
    /// Two-sided α.
    pub alpha: f64,
    /// Default multiplicity method: `holm`, `bonferroni`, `none` or `fixed-sequence`.
    pub adjust: String,
    /// Fixed analysis day (default: last day with ≥ 80% of controls).
    pub analysis_day: Option<f64>,
    /// Target power.
    pub target_power: f64,
    /// Declared hypotheses; none = each arm vs its cohort's control on every test.
    pub hypotheses: Option<Vec<FileHypothesis>>,
    /// Multiplicity method per family name (`holm`, `bonferroni`, `none`, `fixed-sequence`);
    /// families not listed use `adjust`.
    pub families: Option<std::collections::BTreeMap<String, String>>,
    /// Who is blinded to group allocation and when (ARRIVE 2.0 item 5), e.g. "calipers read
    /// by a technician blinded to group allocation". Absent: the report says it is not
    /// stated.
    pub blinding: Option<String>,
}

/// `[panel]`: one treatment compared with its control across several tumor models (cell or
/// PDX lines), pooled with a line random effect; sized over lines × mice per line.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FilePanel {
    /// Name of the pooled comparison (default "<treatment> vs <control> across the panel").
    pub name: Option<String>,
    /// Treated arm, present in every panel cohort.
    pub treatment: String,
    /// Control arm, present in every panel cohort.
    pub control: String,
    /// The lines: cohort names (default: every cohort). With `[panel.event-time]`, exactly one
    /// cohort, the template of a line (its arms, implantation and schedule).
    #[serde(default)]
    pub cohorts: Vec<String>,
    /// Pooled tests, the first primary: `panel-lme`, `panel-slope`, `panel-logrank`,
    /// `panel-cox` (default `["panel-lme"]`).
    #[serde(default)]
    pub tests: Vec<String>,
    /// Default numbers of lines to size (`power --lines` overrides; default: the cohorts'
    /// count, or 3, 5, 10 for an event-time panel).
    #[serde(default)]
    pub lines: Vec<i64>,
    /// Default mice per arm per line to size (`power --mice` overrides; default 2, 3, 4).
    #[serde(default)]
    pub mice: Vec<i64>,
    /// Cost of one more line, counted in mice (default 0: the recommendation minimises total
    /// animals).
    pub line_cost: Option<FileSourced>,
    /// Event times drawn from a parametric model instead of the growth simulator.
    pub event_time: Option<FilePanelEventTime>,
}

/// `[panel.event-time]`: `log T = log(median) + α_line + σ·ε`, α ~ N(0, τ²) (PDXpower's
/// `SimPDXdata`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FilePanelEventTime {
    /// `log-normal`, `weibull` or `exponential`.
    pub distribution: String,
    /// Median event time of the control arm, days.
    pub control_median_days: FileSourced,
    /// Median event time of the treated arm, days.
    pub treatment_median_days: FileSourced,
    /// SD of log time within a line, σ (log-normal only; σ² is PDXpower's `sigma2`).
    pub log_sd: Option<FileSourced>,
    /// Weibull shape k (weibull only).
    pub shape: Option<FileSourced>,
    /// Between-line variance τ² of log time (PDXpower's `tau2`).
    pub line_variance: FileSourced,
    /// SD across lines of the treatment effect on log time (random treatment × line;
    /// default 0 = a common effect).
    pub treatment_by_line_sd: Option<FileSourced>,
    /// Censoring at this day (default: none, every event observed).
    pub follow_up_days: Option<f64>,
}

/// `[[analysis.hypotheses]]`: one question of the study.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileHypothesis {
    /// Unique name (the `hypothesis` column of `tests.csv`).
    pub name: String,
    /// `vs-control`, `pairwise`, `combination-vs-components`, `dose-trend` or `synergy`.
    pub kind: String,
    /// Cohort (required when the protocol has several cohorts and the arms are not in all).
    pub cohort: Option<String>,
    /// Arms: vs-control [treated]; pairwise [arm, reference]; combination-vs-components
    /// [combination, component, …]; dose-trend [lowest, …, highest dose]; synergy
    /// [combination, drug A, drug B] (the control is the cohort's control).
    pub arms: Vec<String>,
    /// dose-trend: the arms' doses (same unit, 0 = vehicle); default read from the arms.
    pub doses: Option<Vec<f64>>,
    /// Tests from the registry (`xenoplan schema` lists them); default: `[analysis] tests`
    /// (synergy: `bliss-lmm`; dose-trend: `jonckheere`).
    pub tests: Option<Vec<String>>,
    /// `two-sided` (default), `greater` or `less` benefit of the first arm.
    pub alternative: Option<String>,
    /// `primary` (default) or `secondary`.
    pub role: Option<String>,
    /// Multiplicity family (default: the role).
    pub family: Option<String>,
    /// `effect` (default) or `null`: an expected-null control (e.g. tamoxifen vs vehicle in a
    /// tamoxifen-resistant model), reported and named in the sample-size justification,
    /// never sized on (its role defaults to `secondary`; `primary` is an error).
    pub expected: Option<String>,
}

/// `[husbandry]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileHusbandry {
    /// Animals per cage.
    pub per_cage: i64,
    /// Spare animals fraction.
    pub spare_fraction: f64,
    /// Drug overage fraction.
    pub drug_overage_fraction: f64,
    /// Attrition fraction.
    pub attrition: FileSourced,
}

/// `[derivation]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileDerivation {
    /// Parental line.
    pub parental_line: String,
    /// Derived line name.
    pub derived_line: String,
    /// Selecting drug.
    pub drug: String,
    /// Starting concentration, nM.
    pub start_concentration_nm: FileSourced,
    /// Duration of continuous exposure, days.
    pub duration_days: i64,
    /// Time to resistance reported in the literature; the summary compares the simulated
    /// distribution with it.
    pub expected_time_to_resistance_days: Option<FileDayRange>,
}

/// `{ min = …, max = …, source = "…" }`: a cited range of days.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileDayRange {
    /// Shortest, days.
    pub min: f64,
    /// Longest, days.
    pub max: f64,
    /// Literature source, or "assumed; <why>".
    pub source: String,
}

/// `[split]` of a derivation: give `day` OR `at`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileSplit {
    /// Day of the derivation on which the culture is split.
    pub day: Option<i64>,
    /// Milestone: `target-fold-shift` (the first IC50 check reaching the target).
    pub at: Option<String>,
    /// The arms.
    #[serde(default)]
    pub arms: Vec<FileSplitArm>,
}

/// `[[split.arms]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileSplitArm {
    /// Unique name.
    pub name: String,
    /// `continue`, `holiday` or `escalate`.
    pub kind: String,
    /// Fraction of the cells at the split seeded into this arm (default: equal shares).
    pub fraction: Option<f64>,
    /// Holiday: days off drug (default: to the end).
    pub holiday_days: Option<i64>,
    /// Holiday: drug back at the split's concentration after the holiday.
    pub rechallenge: Option<bool>,
    /// Escalate: days between steps.
    pub every_days: Option<i64>,
    /// Escalate: successive concentrations, nM.
    pub concentrations_nm: Option<Vec<f64>>,
}

/// `[culture]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileCulture {
    /// Medium.
    pub medium: String,
    /// Serum.
    pub serum: String,
    /// Androgen substrate.
    pub substrate: Option<String>,
    /// Substrate concentration, nM.
    pub substrate_nm: Option<f64>,
    /// Vessel.
    pub vessel: String,
    /// Medium volume, mL.
    pub medium_ml: f64,
    /// Cells seeded per vessel.
    pub seeding_cells: f64,
    /// Cells at confluence.
    pub confluent_cells: f64,
    /// Passage at this fraction of confluence.
    pub passage_at_confluence: f64,
    /// Split ratio.
    pub split_ratio: f64,
    /// Medium change interval, days.
    pub medium_change_days: i64,
}

/// `[[escalation]]`: give `day` OR `until-doubling-h`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileEscalation {
    /// New concentration, nM.
    pub concentration_nm: f64,
    /// On this derivation day.
    pub day: Option<i64>,
    /// When the doubling time under drug falls below this, h.
    pub until_doubling_h: Option<f64>,
}

/// `[cloning]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileCloning {
    /// Clones picked.
    pub clones: i64,
    /// Expansion days.
    pub expansion_days: i64,
}

/// `[model]` of a derivation.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileDerivationModel {
    /// Doubling time with estrogen, h.
    pub doubling_h_with_e2: FileSourced,
    /// Doubling time without estrogen, h.
    pub doubling_h_without_e2: FileSourced,
    /// Death rate per day under deprivation.
    pub death_rate_per_day: FileSourced,
    /// IC50 of sensitive cells, nM.
    pub ic50_sensitive_nm: FileSourced,
    /// IC50 of resistant cells, nM.
    pub ic50_resistant_nm: FileSourced,
    /// Hill coefficient.
    pub hill: FileSourced,
    /// Pre-existing resistant fraction.
    pub resistant_fraction: FileSourced,
    /// Switch probability per division.
    pub switch_rate_per_division: FileSourced,
    /// IC50 factor of the adapting state.
    pub intermediate_ic50_factor: Option<FileSourced>,
    /// Division rate of resistant cells relative to sensitive ones without drug (≤ 1).
    pub fitness_off_drug: Option<FileSourced>,
    /// Reversion probability per division of resistant cells without drug.
    pub reversion_rate_per_division: Option<FileSourced>,
}

/// Plate design (`[design]` of an assay, `[validation]` of a derivation).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileAssayDesign {
    /// Drug.
    pub drug: String,
    /// Concentrations, nM (0 = vehicle).
    pub doses_nm: Vec<f64>,
    /// Replicate wells per dose and line.
    pub replicates: i64,
    /// Duration, days.
    pub duration_days: f64,
    /// Cells per well.
    pub seeding_cells: f64,
    /// Wells per plate (96 or 384).
    pub plate_wells: i64,
    /// `mtt`, `crystal-violet` or `sytox-green`.
    pub readout: String,
    /// Readout noise CV.
    pub noise_cv: FileSourced,
    /// Edge-effect signal reduction in outer wells (0–1).
    #[serde(default)]
    pub edge_effect: f64,
    /// `samples` (default) or `pbs`: outer ring of wells left as PBS.
    pub edge_wells: Option<String>,
    /// Medium-only blank wells per plate (default 0).
    pub blank_wells: Option<i64>,
    /// `packed` (default) or `line-per-plate`.
    pub arrangement: Option<String>,
    /// Derivation `[validation]` only: run the assay on the current population every N days
    /// of the derivation (days N, 2N, … up to its duration).
    pub check_every_days: Option<i64>,
    /// Derivation `[validation]` only: days of the derivation on which the assay is run on the
    /// current population (strictly increasing; merged with `check-every-days`).
    pub check_days: Option<Vec<i64>>,
    /// Derivation `[validation]` only: IC50 fold shift (derived / parental, > 1) aimed for;
    /// the summary names the first check that reaches it.
    pub target_fold_shift: Option<f64>,
}

/// `[assay]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileAssay {
    /// Medium and serum.
    pub medium: String,
}

/// `[[lines]]` of an assay.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileAssayLine {
    /// Name.
    pub name: String,
    /// IC50, nM.
    pub ic50_nm: FileSourced,
    /// Hill coefficient.
    pub hill: FileSourced,
    /// Doubling time, h.
    pub doubling_h: FileSourced,
    /// Maximal inhibition (0–1); `cv`/`sd`: its variability between independent experiments.
    pub max_inhibition: FileParam,
    /// SD of log10 IC50 between independent experiments (default 0.2, assumed).
    pub between_experiment_log10_ic50_sd: Option<FileSourced>,
}

/// `[procedure]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileProcedure {
    /// Samples processed.
    pub samples: i64,
}

/// `[[tasks]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileTask {
    /// Unique name.
    pub name: String,
    /// Working days (0 = milestone).
    pub duration_days: f64,
    /// Tasks that must finish first.
    #[serde(default)]
    pub after: Vec<String>,
    /// Hands-on hours.
    #[serde(default)]
    pub hands_on_h: f64,
    /// Free text.
    #[serde(default)]
    pub details: String,
}

/// The JSON Schema of the protocol file format: every table closed
/// (`additionalProperties: false`, as `check` rejects unknown keys) and every closed value set
/// an `enum` (or a `pattern`), taken from the lists the converter accepts, so an editor
/// (taplo, VS Code) flags a misspelled key or value as `check` does. Spellings are the
/// canonical lowercase ones (`check` also accepts other cases).
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(FileProtocol);
    let mut v = serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null);
    close_tables(&mut v);
    for (def, prop, set) in closed_value_sets() {
        let target = if def.is_empty() {
            v.get_mut("properties")
        } else {
            v.get_mut("$defs")
                .and_then(|d| d.get_mut(def))
                .and_then(|d| d.get_mut("properties"))
        };
        let Some(slot) = target.and_then(|p| p.get_mut(prop)) else {
            continue;
        };
        // Arrays constrain their items; maps their values.
        let slot = if slot.get("items").is_some() {
            &mut slot["items"]
        } else if slot
            .get("additionalProperties")
            .is_some_and(|a| a.is_object())
        {
            &mut slot["additionalProperties"]
        } else {
            slot
        };
        match set {
            ValueSet::Enum(names) => slot["enum"] = serde_json::json!(names),
            ValueSet::Pattern(p) => slot["pattern"] = serde_json::json!(p),
        }
    }
    v
}

/// A closed set of string values.
enum ValueSet {
    /// Exactly these spellings.
    Enum(Vec<&'static str>),
    /// Strings matching this regular expression.
    Pattern(&'static str),
}

/// Every string field with a closed value set: (`$defs` name or "" for the root, property,
/// the set), from the converter's own lists.
fn closed_value_sets() -> Vec<(&'static str, &'static str, ValueSet)> {
    use super::convert::{
        ARM_KINDS, ARRANGEMENTS, EDGE_WELLS, EVENT_KINDS, PROTOCOL_KINDS, READOUTS,
        SPLIT_MILESTONES, WEEKEND_POLICIES,
    };
    use super::convert_analysis::{ALTERNATIVES, ROLES};
    use super::convert_rules::STOP_STATISTICS;
    use super::convert_xeno::*;
    use super::domain::{Adjustment, Expectation, HypothesisKind, TestKey};
    use ValueSet::{Enum, Pattern};
    fn names<T>(list: &[(&'static str, T)]) -> ValueSet {
        ValueSet::Enum(list.iter().map(|(k, _)| *k).collect())
    }
    let freq = super::convert::FREQUENCY_PATTERN;
    let weekday = super::convert::WEEKDAY_PATTERN;
    let time = "^[0-9]{1,2}:[0-9]{2}$";
    let tests = || Enum(TestKey::ALL.iter().map(|t| t.as_str()).collect());
    let adjust = || names(&Adjustment::NAMES);
    vec![
        ("FileHeader", "kind", names(PROTOCOL_KINDS)),
        ("FileCalendar", "weekend", names(WEEKEND_POLICIES)),
        ("FileStep", "kind", names(EVENT_KINDS)),
        ("FileStep", "frequency", Pattern(freq)),
        ("FileStep", "weekdays", Pattern(weekday)),
        ("FileStep", "times", Pattern(time)),
        ("FileTreatment", "frequency", Pattern(freq)),
        ("FileTreatment", "weekdays", Pattern(weekday)),
        ("FileTreatment", "times", Pattern(time)),
        ("FileTreatment", "unit", names(UNITS)),
        ("FileDoseLevel", "unit", names(UNITS)),
        ("FileStudyStop", "statistic", names(STOP_STATISTICS)),
        ("FileTreatment", "route", names(ROUTES)),
        ("FileMeasurement", "kind", names(MEASUREMENT_KINDS)),
        ("FileMeasurement", "frequency", Pattern(freq)),
        ("FileMeasurement", "weekdays", Pattern(weekday)),
        ("FileMeasurement", "times", Pattern(time)),
        ("FileCohort", "model", names(TUMOR_MODEL_TYPES)),
        ("FileHormone", "removal", names(PELLET_REMOVALS)),
        ("FileHormone", "kind", names(HORMONE_KINDS)),
        ("FileHormone", "frequency", Pattern(freq)),
        ("FileHormone", "times", Pattern(time)),
        ("FileHormone", "route", names(ROUTES)),
        ("FileGrowth", "model", names(GROWTH_MODELS)),
        ("FileEffect", "mode", names(EFFECT_MODES)),
        ("FileEffect", "target", names(EFFECT_TARGETS)),
        ("FileEnrollment", "randomization", names(RANDOMIZATIONS)),
        ("FileEnrollment", "mode", names(ENROLLMENT_MODES)),
        ("FileCaliper", "formula", names(VOLUME_FORMULAS)),
        ("FileCaliperError", "model", names(CALIPER_ERROR_MODELS)),
        ("FileAssayDesign", "readout", names(READOUTS)),
        ("FileAssayDesign", "edge-wells", names(EDGE_WELLS)),
        ("FileAssayDesign", "arrangement", names(ARRANGEMENTS)),
        ("FileSplit", "at", names(SPLIT_MILESTONES)),
        ("FileSplitArm", "kind", Enum(ARM_KINDS.to_vec())),
        ("FileAnalysis", "tests", tests()),
        ("FileAnalysis", "adjust", adjust()),
        ("FileAnalysis", "families", adjust()),
        (
            "FileHypothesis",
            "kind",
            Enum(HypothesisKind::ALL.iter().map(|k| k.as_str()).collect()),
        ),
        ("FileHypothesis", "tests", tests()),
        ("FileHypothesis", "alternative", names(ALTERNATIVES)),
        ("FileHypothesis", "role", names(ROLES)),
        ("FileHypothesis", "expected", names(&Expectation::NAMES)),
    ]
}

/// Sets `additionalProperties: false` on every object schema with `properties`.
fn close_tables(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            if o.contains_key("properties") && !o.contains_key("additionalProperties") {
                o.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
            }
            for (_, x) in o.iter_mut() {
                close_tables(x);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(close_tables),
        _ => {}
    }
}
