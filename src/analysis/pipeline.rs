//! The one-call analysis: every table of `analyze` from a [`Dataset`].

use super::AnalysisError;
use super::stats::lmm::{LmmGroup, fit_reml};
use super::stats::{self, KmPoint};
use crate::data::Dataset;
pub use crate::data::{Animal, animals};
use rand::RngExt;
use std::collections::BTreeMap;

/// What counts as the time-to-endpoint event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EndpointRule {
    /// Volume at or above this many mm³ (the protocol's `event_volume_mm3`, `--endpoint-volume`).
    Volume(f64),
    /// Volume at or above this multiple of the animal's baseline volume.
    FoldBaseline(f64),
}

impl EndpointRule {
    /// Human-readable definition (written in `tests.csv` and the manifest).
    pub fn describe(&self) -> String {
        match self {
            EndpointRule::Volume(v) => format!("volume >= {v} mm3"),
            EndpointRule::FoldBaseline(f) => format!("volume >= {f} x baseline"),
        }
    }
}

/// Choices of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisOptions {
    /// Name of the control arm (in every cohort).
    pub control: String,
    /// Analysis day for the single-day tests; `None` = last day with ≥ `on_study_fraction` of
    /// the control animals measured (invivoSyn convention, ../shared/DOMAIN.md).
    pub analysis_day: Option<f64>,
    /// Fraction of control animals that must still be measured on the analysis day (0.8,
    /// invivoSyn convention, ../shared/DOMAIN.md).
    pub on_study_fraction: f64,
    /// Time-to-endpoint event.
    pub endpoint: EndpointRule,
    /// Bootstrap replicates for the TGI / T/C confidence intervals; 0 = no intervals (fast path
    /// for Monte Carlo).
    pub bootstrap_reps: usize,
    /// Seed of the bootstrap streams.
    pub seed: u64,
    /// Volumes below this (including 0 = not palpable) are set to it before taking logarithms,
    /// mm³ (assumed; 1 mm³ is below any caliper reading, so only non-palpable tumors move).
    pub log_floor_mm3: f64,
    /// mRECIST looks at days ≥ this many days after baseline (10, Gao et al. 2015 / Xeva).
    pub response_min_day: f64,
    /// Fit the linear mixed model (the slowest test; `power` may switch it off).
    pub run_lmm: bool,
    /// The hypotheses to test and their multiplicity families.
    pub plan: super::hypotheses::HypothesisPlan,
    /// Refit each synergy model at every reading day (`synergy.csv`; off inside `power`).
    pub synergy_time_course: bool,
    /// Compute the descriptive tables (summary, TGI and T/C, growth-rate T/C, mRECIST,
    /// time to endpoint, Kaplan–Meier) and their warnings. `power` reads only the tests and
    /// switches this off: the tables were half of its per-study CPU time (issue 19).
    pub descriptive_tables: bool,
    /// Humane tumor-burden limits: a reading at or above either ends the animal by euthanasia
    /// for tumor burden, which is the time-to-endpoint event, not a censoring (censoring it
    /// would bias the log-rank test against the arms with the largest tumors).
    pub burden: BurdenLimits,
    /// Humane body-weight loss limit from baseline, % (the protocol's `max-weight-loss-pct`);
    /// drawn on the body-weight figure. `None` = not given.
    pub max_weight_loss_pct: Option<f64>,
}

/// Humane tumor-burden limits applied as time-to-endpoint events ([`time_to_endpoint`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurdenLimits {
    /// Volume limit, mm³ (∞ = none).
    pub max_volume_mm3: f64,
    /// Mean caliper diameter limit (L + W)/2, mm (∞ = none; needs length and width readings).
    pub max_mean_diameter_mm: f64,
}

impl BurdenLimits {
    /// No limits.
    pub const NONE: BurdenLimits = BurdenLimits {
        max_volume_mm3: f64::INFINITY,
        max_mean_diameter_mm: f64::INFINITY,
    };
    /// Whether a reading (volume, mean diameter) is at or above a limit.
    fn reached(&self, volume: f64, mean_diameter: f64) -> bool {
        volume >= self.max_volume_mm3 || mean_diameter >= self.max_mean_diameter_mm
    }
    /// Text for tables and plot notes, e.g. "or mean diameter >= 12 mm".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.max_mean_diameter_mm.is_finite() {
            parts.push(format!("mean diameter >= {} mm", self.max_mean_diameter_mm));
        }
        if self.max_volume_mm3.is_finite() {
            parts.push(format!("volume >= {} mm3", self.max_volume_mm3));
        }
        parts.join(" or ")
    }
}

impl AnalysisOptions {
    /// Defaults with the given control arm: endpoint 4 × baseline volume (Workman et al., BJC
    /// 2010;102:1555, humane endpoint), 2000 bootstrap replicates (assumed; percentile CIs are
    /// stable to ~0.5 percentage point at this count), seed 1.
    pub fn new(control: &str) -> Self {
        AnalysisOptions {
            control: control.to_string(),
            analysis_day: None,
            on_study_fraction: 0.8,
            endpoint: EndpointRule::FoldBaseline(4.0),
            bootstrap_reps: 2000,
            seed: 1,
            log_floor_mm3: 1.0,
            response_min_day: 10.0,
            run_lmm: true,
            plan: super::hypotheses::HypothesisPlan::default(),
            synergy_time_course: true,
            descriptive_tables: true,
            burden: BurdenLimits::NONE,
            max_weight_loss_pct: None,
        }
    }

    /// The protocol's endpoints: event at the event volume or at a humane tumor-burden limit.
    pub fn set_protocol_endpoints(&mut self, e: &crate::protocol::domain::Endpoints) {
        self.endpoint = EndpointRule::Volume(e.event_volume_mm3);
        let lim = |s: &Option<crate::protocol::domain::Sourced>| {
            s.as_ref().map_or(f64::INFINITY, |s| s.value)
        };
        // A volume cap above the event volume is already covered by the event volume itself.
        let cap = lim(&e.max_volume_mm3);
        self.burden = BurdenLimits {
            max_volume_mm3: if cap > e.event_volume_mm3 {
                f64::INFINITY
            } else {
                cap
            },
            max_mean_diameter_mm: lim(&e.max_diameter_mm),
        };
        self.max_weight_loss_pct = e.max_weight_loss_pct.as_ref().map(|s| s.value);
    }

    /// The applied event definition, e.g. "volume >= 700 mm3, or euthanasia for tumor burden
    /// (mean diameter >= 12 mm)".
    pub fn describe_endpoint(&self) -> String {
        let b = self.burden.describe();
        if b.is_empty() {
            self.endpoint.describe()
        } else {
            format!(
                "{}, or euthanasia for tumor burden ({b})",
                self.endpoint.describe()
            )
        }
    }
}

// The analysis-day window is a model rule (`model` sits above `data`), so this method of the
// shared `Animal` type lives here.
impl Animal {
    /// Volume standing for the analysis day (the reading on the day, or the last one at most
    /// [`crate::model::window::ANALYSIS_DAY_CARRY_BACK_DAYS`] before it; the window rule of
    /// [`crate::model::window`]).
    pub fn at_analysis_day(&self, day: f64) -> Option<f64> {
        crate::model::window::analysis_visit(&self.days, self.baseline, day)
            .map(|i| self.volumes[i])
    }
}

/// Per-arm, per-day summary (`summary.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Cohort.
    pub cohort: String,
    /// Arm.
    pub arm: String,
    /// Day.
    pub day: f64,
    /// Animals measured.
    pub n: usize,
    /// Mean volume.
    pub mean: f64,
    /// SD.
    pub sd: f64,
    /// SEM.
    pub sem: f64,
    /// Median.
    pub median: f64,
}

/// TGI% and T/C% of one arm on one day (`tgi.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct TgiRow {
    /// Cohort.
    pub cohort: String,
    /// Treated arm.
    pub arm: String,
    /// Day.
    pub day: f64,
    /// TGI% = (1 − ΔT/ΔC)·100 on arm means, Δ from the baseline means.
    pub tgi_pct: f64,
    /// Bootstrap 95% percentile interval of TGI%.
    pub tgi_ci: (f64, f64),
    /// T/C% = mean T / mean C · 100.
    pub tc_pct: f64,
    /// Bootstrap 95% percentile interval of T/C%.
    pub tc_ci: (f64, f64),
    /// Treated animals measured that day.
    pub n_treated: usize,
    /// Control animals measured that day.
    pub n_control: usize,
}

/// Rate-based T/C of one arm (Hather et al. 2014), `rate_tc.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateTcRow {
    /// Cohort.
    pub cohort: String,
    /// Treated arm.
    pub arm: String,
    /// Animals with a growth rate, treated.
    pub n_treated: usize,
    /// Animals with a growth rate, control.
    pub n_control: usize,
    /// Mean per-animal exponential growth rate, treated, /day.
    pub rate_treated: f64,
    /// Mean per-animal exponential growth rate, control, /day.
    pub rate_control: f64,
    /// Reference duration t, days (the analysis day minus baseline day 0).
    pub duration_days: f64,
    /// Rate-based T/C% = 100·exp((r̄_T − r̄_C)·t).
    pub tc_rate_pct: f64,
    /// Bootstrap 95% interval.
    pub tc_rate_ci: (f64, f64),
}

/// mRECIST classes (Gao et al., Nat Med 2015;21:1318, as coded in Bioconductor Xeva).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mrecist {
    /// Complete response.
    Cr,
    /// Partial response.
    Pr,
    /// Stable disease.
    Sd,
    /// Progressive disease.
    Pd,
}

impl Mrecist {
    /// Label ("mCR"…).
    pub fn as_str(self) -> &'static str {
        match self {
            Mrecist::Cr => "mCR",
            Mrecist::Pr => "mPR",
            Mrecist::Sd => "mSD",
            Mrecist::Pd => "mPD",
        }
    }
    /// Classification from best response and best average response (%):
    /// mCR: BR < −95 and BAR < −40; mPR: BR < −50 and BAR < −20; mSD: BR < 35 and BAR < 30;
    /// else mPD (../shared/DOMAIN.md).
    pub fn classify(br: f64, bar: f64) -> Mrecist {
        if br < -95.0 && bar < -40.0 {
            Mrecist::Cr
        } else if br < -50.0 && bar < -20.0 {
            Mrecist::Pr
        } else if br < 35.0 && bar < 30.0 {
            Mrecist::Sd
        } else {
            Mrecist::Pd
        }
    }
}

/// Best response of one animal (`response.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRow {
    /// Cohort.
    pub cohort: String,
    /// Animal.
    pub animal_id: String,
    /// Arm.
    pub arm: String,
    /// BestResponse = min ΔVol_t over t ≥ 10 d, %.
    pub best_response_pct: f64,
    /// BestAvgResponse = min over t ≥ 10 d of the running mean of ΔVol from baseline to t, %.
    pub best_avg_response_pct: f64,
    /// Class; `None` when not evaluable (no measurement ≥ 10 d after baseline).
    pub mrecist: Option<Mrecist>,
}

/// Counts of mRECIST classes per arm (`response_summary.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseCount {
    /// Cohort.
    pub cohort: String,
    /// Arm.
    pub arm: String,
    /// mCR, mPR, mSD, mPD counts.
    pub counts: [usize; 4],
    /// Not evaluable.
    pub not_evaluable: usize,
}

impl ResponseCount {
    /// Evaluable animals.
    pub fn evaluable(&self) -> usize {
        self.counts.iter().sum()
    }
    /// Objective response rate, %: (mCR + mPR) / evaluable (Gao et al. 2015: stable disease is
    /// not a response); NaN when none is evaluable.
    pub fn response_rate_pct(&self) -> f64 {
        self.rate_pct(self.counts[0] + self.counts[1])
    }
    /// Disease control rate, %: (mCR + mPR + mSD) / evaluable, reported beside the response rate.
    pub fn disease_control_pct(&self) -> f64 {
        self.rate_pct(self.counts[0] + self.counts[1] + self.counts[2])
    }
    fn rate_pct(&self, k: usize) -> f64 {
        let n = self.evaluable();
        if n > 0 {
            100.0 * k as f64 / n as f64
        } else {
            f64::NAN
        }
    }
}

/// Time to endpoint of one animal (`endpoints.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRow {
    /// Cohort.
    pub cohort: String,
    /// Animal.
    pub animal_id: String,
    /// Arm.
    pub arm: String,
    /// Study day of the event, or of the last measurement when censored.
    pub time_days: f64,
    /// Reached the endpoint.
    pub event: bool,
}

/// Kaplan–Meier curve of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct KmCurve {
    /// Cohort.
    pub cohort: String,
    /// Arm.
    pub arm: String,
    /// Steps.
    pub points: Vec<KmPoint>,
}

/// One test of one hypothesis in one cohort (`tests.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct TestRow {
    /// Cohort.
    pub cohort: String,
    /// Hypothesis name ("<arm> vs <control>" for the default ones).
    pub hypothesis: String,
    /// Hypothesis kind (`vs-control`, …; "… (component)" for the component rows of a
    /// combination-vs-components hypothesis).
    pub kind: String,
    /// Primary or secondary.
    pub role: crate::protocol::Role,
    /// `two-sided`, `greater` or `less` (benefit of the first arm).
    pub alternative: &'static str,
    /// Multiplicity family (empty: not a member of any family, e.g. component rows).
    pub family: String,
    /// What is compared, e.g. "arm vs control".
    pub comparison: String,
    /// First arm of the hypothesis (the treated arm for vs-control).
    pub arm: String,
    /// What is compared (e.g. "ln(volume) at day 21").
    pub endpoint: String,
    /// Test from the registry.
    pub key: crate::protocol::TestKey,
    /// Test name.
    pub test: String,
    /// Test statistic.
    pub statistic: f64,
    /// p-value for the hypothesis' alternative (two-sided unless declared one-sided).
    pub p_value: f64,
    /// Adjusted p-value within the row's family in this cohort (NaN for non-members).
    pub p_adjusted: f64,
    /// The family's method (`holm`, `bonferroni`, `none`, `fixed-sequence`; empty for
    /// non-members).
    pub adjustment: &'static str,
    /// Degrees of freedom (t tests, χ²), NaN otherwise.
    pub df: f64,
    /// Effect estimate (treated − control, or odds ratio for Fisher).
    pub estimate: f64,
    /// Standard error of the estimate, when defined.
    pub se: f64,
    /// Treated animals used.
    pub n_treated: usize,
    /// Control animals used.
    pub n_control: usize,
}

/// Everything `analyze` computes.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisResult {
    /// Animals (with their sorted measurements).
    pub animals: Vec<Animal>,
    /// Cohorts with their arms (control first) and analysis day.
    pub cohorts: Vec<CohortInfo>,
    /// `summary.csv`.
    pub summary: Vec<SummaryRow>,
    /// `tgi.csv`.
    pub tgi: Vec<TgiRow>,
    /// `rate_tc.csv`.
    pub rate_tc: Vec<RateTcRow>,
    /// `response.csv`.
    pub response: Vec<ResponseRow>,
    /// `response_summary.csv`.
    pub response_counts: Vec<ResponseCount>,
    /// `endpoints.csv`.
    pub endpoints: Vec<EndpointRow>,
    /// Kaplan–Meier curves (`km.csv`).
    pub km: Vec<KmCurve>,
    /// `tests.csv`.
    pub tests: Vec<TestRow>,
    /// `synergy.csv`: the synergy hypotheses' time courses.
    pub synergy: Vec<super::hypotheses::SynergyRow>,
    /// Numbers not computed and why, each with what to do (printed by the commands).
    pub warnings: Vec<String>,
}

/// A cohort and its analysis day.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortInfo {
    /// Name ("" if the data has no cohort column).
    pub name: String,
    /// Arms, control first, then in order of appearance.
    pub arms: Vec<String>,
    /// Day of the single-day tests.
    pub analysis_day: f64,
    /// Control animals.
    pub n_control: usize,
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        f64::NAN
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

fn median(x: &mut [f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.sort_by(|a, b| a.total_cmp(b));
    let n = x.len();
    if n % 2 == 1 {
        x[n / 2]
    } else {
        0.5 * (x[n / 2 - 1] + x[n / 2])
    }
}

use crate::numeric::quantile7 as quantile_sorted;

/// 95% percentile interval of bootstrap values (non-finite replicates dropped; NaN when fewer
/// than half the replicates are finite).
fn percentile_ci(mut v: Vec<f64>, reps: usize) -> (f64, f64) {
    v.retain(|x| x.is_finite());
    if reps == 0 || v.len() * 2 < reps {
        return (f64::NAN, f64::NAN);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    (quantile_sorted(&v, 0.025), quantile_sorted(&v, 0.975))
}

/// Per-animal slope of ln volume on day from baseline to the analysis day `until` (volumes
/// floored at `floor`; the over-time window of [`crate::model::window`]).
pub fn animal_slope(a: &Animal, floor: f64, until: f64) -> f64 {
    let d = &a.days[a.baseline..];
    let d = &d[..crate::model::window::time_window_len(d, until)];
    let v = &a.volumes[a.baseline..a.baseline + d.len()];
    // Power analyzes thousands of studies: the log volumes go to a stack buffer, not a Vec.
    with_scratch(v.len(), |l| {
        for (o, v) in l.iter_mut().zip(v) {
            *o = v.max(floor).ln();
        }
        stats::slope(d, l)
    })
}

/// Per-animal AUC of ln(V/V0) from baseline to the analysis day `until` (volumes floored at
/// `floor`; the over-time window of [`crate::model::window`]).
pub fn animal_auc(a: &Animal, floor: f64, until: f64) -> f64 {
    let d = &a.days[a.baseline..];
    let d = &d[..crate::model::window::time_window_len(d, until)];
    let v = &a.volumes[a.baseline..a.baseline + d.len()];
    with_scratch(v.len(), |f| {
        for (o, v) in f.iter_mut().zip(v) {
            *o = v.max(floor);
        }
        stats::auc_log_relative(d, f)
    })
}

/// Runs `f` on a zeroed scratch slice of length `n`: on the stack up to 64 visits (every
/// bundled protocol), on the heap beyond.
fn with_scratch<R>(n: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    const STACK: usize = 64;
    if n <= STACK {
        let mut buf = [0.0; STACK];
        f(&mut buf[..n])
    } else {
        f(&mut vec![0.0; n])
    }
}

/// Best response, best average response (%) and mRECIST class of one animal (Xeva's
/// `.computeBestResponse` / `.computeBestAverageResponse`: ΔVol_t = 100·(V_t − V0)/V0 from the
/// baseline on, running mean from the baseline, minima over t ≥ `min_day` after baseline).
pub fn mrecist(a: &Animal, min_day: f64) -> (f64, f64, Option<Mrecist>) {
    let v0 = a.v0();
    if v0 <= 0.0 {
        return (f64::NAN, f64::NAN, None);
    }
    let (mut br, mut bar) = (f64::INFINITY, f64::INFINITY);
    let mut sum = 0.0;
    for (k, i) in (a.baseline..a.days.len()).enumerate() {
        let dv = 100.0 * (a.volumes[i] - v0) / v0;
        sum += dv;
        if a.days[i] - a.day0() >= min_day {
            br = br.min(dv);
            bar = bar.min(sum / (k + 1) as f64);
        }
    }
    if br.is_finite() {
        (br, bar, Some(Mrecist::classify(br, bar)))
    } else {
        (f64::NAN, f64::NAN, None)
    }
}

/// Time to endpoint of one animal: first study day after baseline with volume at or above the
/// event threshold or a reading at a humane tumor-burden limit (euthanasia for tumor burden is
/// the endpoint), else censored at the last measurement (end of study and other removals).
pub fn time_to_endpoint(a: &Animal, rule: EndpointRule, burden: BurdenLimits) -> (f64, bool) {
    let thr = match rule {
        EndpointRule::Volume(v) => v,
        EndpointRule::FoldBaseline(f) => f * a.v0(),
    };
    for i in a.baseline + 1..a.days.len() {
        let d = a.mean_diameters.get(i).copied().unwrap_or(f64::NAN);
        if a.volumes[i] >= thr || burden.reached(a.volumes[i], d) {
            return (a.days[i], true);
        }
    }
    (a.days[a.days.len() - 1], false)
}

/// The default analysis day: the last day on which at least `fraction` of the control animals
/// were measured (days after baseline); the latest baseline day if there is none.
pub fn default_analysis_day(control: &[&Animal], fraction: f64) -> f64 {
    let mut counts: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for a in control {
        for &d in &a.days[a.baseline + 1..] {
            let e = counts.entry((d * 1e6).round() as i64).or_insert((d, 0));
            e.1 += 1;
        }
    }
    let need = fraction * control.len() as f64 - 1e-9;
    counts
        .values()
        .rev()
        .find(|(_, c)| *c as f64 >= need)
        .map(|(d, _)| *d)
        .unwrap_or_else(|| {
            control
                .iter()
                .map(|a| a.day0())
                .fold(f64::NEG_INFINITY, f64::max)
        })
}

pub use crate::model::effect_units::MIN_CONTROL_GROWTH_FOR_TGI;

/// Warns when TGI could not be computed in `cohort` because its control did not grow, naming
/// whether the analysis day is affected and what to use instead.
fn tgi_warning(res: &mut AnalysisResult, cohort: &str, day: f64) {
    let rows: Vec<&TgiRow> = res.tgi.iter().filter(|t| t.cohort == cohort).collect();
    let blank: Vec<f64> = rows
        .iter()
        .filter(|t| t.tgi_pct.is_nan() && t.tc_pct.is_finite())
        .map(|t| t.day)
        .collect();
    if blank.is_empty() {
        return;
    }
    // Early days where the control has not grown yet are only blank cells (documented in
    // the tgi.csv definitions); the analysis day is the number users read.
    if !blank.iter().any(|&d| (d - day).abs() < 1e-9) {
        return;
    }
    let who = if cohort.is_empty() {
        String::new()
    } else {
        format!("cohort `{cohort}`: ")
    };
    res.warnings.push(format!(
        "{who}TGI not computed at the analysis day {} (and {} day(s) in all): the control mean grew by less than {:.0}% of its baseline (TGI = 1 − ΔT/ΔC divides by that growth), so the cells are empty. Compare volumes instead (T/C, Welch on ln V), or check the model: a control that does not grow cannot show an inhibition",
        crate::output::fmt_value(day),
        blank.len(),
        MIN_CONTROL_GROWTH_FOR_TGI * 100.0,
    ));
}

/// TGI% and T/C% from baseline means and means on the day; TGI is NaN (an empty cell, with a
/// warning in [`AnalysisResult::warnings`]) when the control mean grew by less than
/// [`MIN_CONTROL_GROWTH_FOR_TGI`] of its baseline.
pub(crate) fn tgi_tc(t0: f64, tt: f64, c0: f64, ct: f64) -> (f64, f64) {
    let tgi = if ct - c0 >= MIN_CONTROL_GROWTH_FOR_TGI * c0 {
        (1.0 - (tt - t0) / (ct - c0)) * 100.0
    } else {
        f64::NAN
    };
    (tgi, tt / ct * 100.0)
}

/// Runs the whole analysis.
pub fn analyze(ds: &Dataset, opt: &AnalysisOptions) -> Result<AnalysisResult, AnalysisError> {
    let animals = animals(ds);
    let mut res = analyze_animals(&animals, opt)?;
    res.animals = animals;
    Ok(res)
}

/// [`analyze`] on animals already grouped (`power` fills them from the simulator's buffers
/// without a [`Dataset`]); the result's `animals` table is left empty.
pub fn analyze_animals(
    animals: &[Animal],
    opt: &AnalysisOptions,
) -> Result<AnalysisResult, AnalysisError> {
    if animals.is_empty() {
        return Err(AnalysisError::Data(
            "the data has no animal with a tumor volume".into(),
        ));
    }
    let mut res = AnalysisResult {
        animals: Vec::new(),
        cohorts: Vec::new(),
        summary: Vec::new(),
        tgi: Vec::new(),
        rate_tc: Vec::new(),
        response: Vec::new(),
        response_counts: Vec::new(),
        endpoints: Vec::new(),
        km: Vec::new(),
        tests: Vec::new(),
        synergy: Vec::new(),
        warnings: Vec::new(),
    };
    let mut cohort_names: Vec<String> = Vec::new();
    for a in animals {
        if !cohort_names.contains(&a.cohort) {
            cohort_names.push(a.cohort.clone());
        }
    }
    for (ci, cname) in cohort_names.iter().enumerate() {
        let in_cohort: Vec<&Animal> = animals.iter().filter(|a| &a.cohort == cname).collect();
        let mut arms: Vec<String> = Vec::new();
        for a in &in_cohort {
            if !arms.contains(&a.arm) {
                arms.push(a.arm.clone());
            }
        }
        let Some(pos) = arms.iter().position(|a| a == &opt.control) else {
            let what = if cname.is_empty() {
                String::new()
            } else {
                format!(" in cohort `{cname}`")
            };
            return Err(AnalysisError::Data(format!(
                "no control arm named `{}`{what}; arms: {}",
                opt.control,
                arms.join(", ")
            )));
        };
        let ctrl = arms.remove(pos);
        arms.insert(0, ctrl);
        let by_arm: Vec<Vec<&Animal>> = arms
            .iter()
            .map(|arm| {
                in_cohort
                    .iter()
                    .copied()
                    .filter(|a| &a.arm == arm)
                    .collect()
            })
            .collect();
        let control = &by_arm[0];
        let day = opt
            .analysis_day
            .unwrap_or_else(|| default_analysis_day(control, opt.on_study_fraction));
        res.cohorts.push(CohortInfo {
            name: cname.clone(),
            arms: arms.clone(),
            analysis_day: day,
            n_control: control.len(),
        });
        let cv = CohortView {
            index: ci as u64,
            name: cname,
            arms: &arms,
            by_arm: &by_arm,
            day,
        };
        cohort_tables(&mut res, &cv, opt);
    }
    if let Some(panel) = &opt.plan.panel {
        let method = opt.plan.method(super::panel::PANEL_FAMILY);
        super::panel::panel_rows(animals, panel, opt, method, &mut res);
    }
    if let Some(msg) = super::hypotheses::untested(&opt.plan, &res) {
        return Err(AnalysisError::Data(msg));
    }
    Ok(res)
}

/// One cohort as the tables see it: its animals by arm (control first) and analysis day.
struct CohortView<'a> {
    /// Position among the cohorts (the bootstrap stream id).
    index: u64,
    /// Name ("" without a cohort column).
    name: &'a str,
    /// Arms, control first.
    arms: &'a [String],
    /// Animals of each arm of `arms`.
    by_arm: &'a [Vec<&'a Animal>],
    /// Day of the single-day tests.
    day: f64,
}

/// Volumes on the cohort's grid of measurement days: `vol[arm][animal][day index]`.
struct VolumeGrid {
    days: Vec<f64>,
    vol: Vec<Vec<Vec<Option<f64>>>>,
}

impl VolumeGrid {
    fn new(by_arm: &[Vec<&Animal>]) -> Self {
        let mut days: Vec<f64> = by_arm
            .iter()
            .flatten()
            .flat_map(|a| a.days.iter().copied())
            .collect();
        days.sort_by(|a, b| a.total_cmp(b));
        days.dedup();
        let vol = by_arm
            .iter()
            .map(|an| {
                an.iter()
                    .map(|a| days.iter().map(|&d| a.at(d)).collect())
                    .collect()
            })
            .collect();
        VolumeGrid { days, vol }
    }
}

/// Every table of one cohort, in `tests.csv`'s order of computation.
fn cohort_tables(res: &mut AnalysisResult, cv: &CohortView<'_>, opt: &AnalysisOptions) {
    if opt.descriptive_tables {
        let grid = VolumeGrid::new(cv.by_arm);
        summary_rows(res, cv, &grid);
        tgi_and_rate_rows(res, cv, &grid, opt);
        tgi_warning(res, cv.name, cv.day);
        response_rows(res, cv, opt);
        endpoint_rows(res, cv, opt);
    }
    // Tests: every hypothesis of the plan that this cohort's arms allow.
    let data = super::hypotheses::CohortData {
        name: cv.name,
        arms: cv.arms,
        by_arm: cv.by_arm,
        day: cv.day,
    };
    super::hypotheses::evaluate(&opt.plan, &data, opt, res);
}

/// `summary.csv`: n, mean, SD, SEM and median volume per arm and measurement day.
fn summary_rows(res: &mut AnalysisResult, cv: &CohortView<'_>, grid: &VolumeGrid) {
    for (ai, arm) in cv.arms.iter().enumerate() {
        for (di, &d) in grid.days.iter().enumerate() {
            let mut v: Vec<f64> = grid.vol[ai].iter().filter_map(|x| x[di]).collect();
            if v.is_empty() {
                continue;
            }
            let (m, var) = stats_mean_var(&v);
            let n = v.len();
            res.summary.push(SummaryRow {
                cohort: cv.name.into(),
                arm: arm.clone(),
                day: d,
                n,
                mean: m,
                sd: var.sqrt(),
                sem: (var / n as f64).sqrt(),
                median: median(&mut v),
            });
        }
    }
}

/// `tgi.csv` (TGI and T/C per treated arm and day) and `rate_tc.csv` (growth-rate T/C), with
/// bootstrap percentile CIs over animals within arm. Both tables come from the same draws:
/// replicate b uses stream (seed, [cohort, b]), control resampled first, then each arm in
/// order, so results do not depend on threads or on which rows are printed.
fn tgi_and_rate_rows(
    res: &mut AnalysisResult,
    cv: &CohortView<'_>,
    grid: &VolumeGrid,
    opt: &AnalysisOptions,
) {
    let (by_arm, arms, vol) = (cv.by_arm, cv.arms, &grid.vol);
    let floor = opt.log_floor_mm3;
    let base: Vec<Vec<f64>> = by_arm
        .iter()
        .map(|an| an.iter().map(|a| a.v0()).collect())
        .collect();
    let day_idx: Vec<Vec<usize>> = (0..arms.len())
        .map(|ai| {
            (0..grid.days.len())
                .filter(|&di| {
                    vol[ai].iter().any(|x| x[di].is_some())
                        && vol[0].iter().any(|x| x[di].is_some())
                })
                .collect()
        })
        .collect();
    let means = |ai: usize, pick: &[usize], di: usize| -> f64 {
        let (mut s, mut n) = (0.0, 0usize);
        for &k in pick {
            if let Some(v) = vol[ai][k][di] {
                s += v;
                n += 1;
            }
        }
        if n == 0 { f64::NAN } else { s / n as f64 }
    };
    let base_mean =
        |ai: usize, pick: &[usize]| mean(&pick.iter().map(|&k| base[ai][k]).collect::<Vec<_>>());
    let slopes: Vec<Vec<f64>> = by_arm
        .iter()
        .map(|an| an.iter().map(|a| animal_slope(a, floor, cv.day)).collect())
        .collect();
    let mean_finite = |ai: usize, pick: &[usize]| {
        let v: Vec<f64> = pick
            .iter()
            .map(|&k| slopes[ai][k])
            .filter(|x| x.is_finite())
            .collect();
        mean(&v)
    };
    let all: Vec<Vec<usize>> = by_arm.iter().map(|an| (0..an.len()).collect()).collect();
    let reps = opt.bootstrap_reps;
    let n_arms = arms.len();
    let mut boot_tgi: Vec<Vec<Vec<f64>>> = (0..n_arms)
        .map(|ai| vec![Vec::with_capacity(reps); day_idx[ai].len()])
        .collect();
    let mut boot_tc = boot_tgi.clone();
    let mut boot_rate: Vec<Vec<f64>> = vec![Vec::with_capacity(reps); n_arms];
    let duration = cv.day;
    for b in 0..reps {
        let mut rng = crate::rng::stream(opt.seed, &[cv.index, b as u64]);
        let picks: Vec<Vec<usize>> = by_arm
            .iter()
            .map(|an| {
                (0..an.len())
                    .map(|_| rng.random_range(0..an.len()))
                    .collect()
            })
            .collect();
        let c0 = base_mean(0, &picks[0]);
        let rc = mean_finite(0, &picks[0]);
        for ai in 1..n_arms {
            let t0 = base_mean(ai, &picks[ai]);
            for (k, &di) in day_idx[ai].iter().enumerate() {
                let (g, t) = tgi_tc(t0, means(ai, &picks[ai], di), c0, means(0, &picks[0], di));
                boot_tgi[ai][k].push(g);
                boot_tc[ai][k].push(t);
            }
            boot_rate[ai].push(100.0 * ((mean_finite(ai, &picks[ai]) - rc) * duration).exp());
        }
    }
    let c0 = base_mean(0, &all[0]);
    for ai in 1..n_arms {
        let t0 = base_mean(ai, &all[ai]);
        for (k, &di) in day_idx[ai].iter().enumerate() {
            let (g, t) = tgi_tc(t0, means(ai, &all[ai], di), c0, means(0, &all[0], di));
            res.tgi.push(TgiRow {
                cohort: cv.name.into(),
                arm: arms[ai].clone(),
                day: grid.days[di],
                tgi_pct: g,
                tgi_ci: percentile_ci(std::mem::take(&mut boot_tgi[ai][k]), reps),
                tc_pct: t,
                tc_ci: percentile_ci(std::mem::take(&mut boot_tc[ai][k]), reps),
                n_treated: vol[ai].iter().filter(|x| x[di].is_some()).count(),
                n_control: vol[0].iter().filter(|x| x[di].is_some()).count(),
            });
        }
        let (rt, rc) = (mean_finite(ai, &all[ai]), mean_finite(0, &all[0]));
        res.rate_tc.push(RateTcRow {
            cohort: cv.name.into(),
            arm: arms[ai].clone(),
            n_treated: slopes[ai].iter().filter(|x| x.is_finite()).count(),
            n_control: slopes[0].iter().filter(|x| x.is_finite()).count(),
            rate_treated: rt,
            rate_control: rc,
            duration_days: duration,
            tc_rate_pct: 100.0 * ((rt - rc) * duration).exp(),
            tc_rate_ci: percentile_ci(std::mem::take(&mut boot_rate[ai]), reps),
        });
    }
}

/// `response.csv` (best response and mRECIST per animal) and `response_summary.csv` (counts
/// per arm).
fn response_rows(res: &mut AnalysisResult, cv: &CohortView<'_>, opt: &AnalysisOptions) {
    for (arm, an) in cv.arms.iter().zip(cv.by_arm) {
        let mut counts = [0usize; 4];
        let mut ne = 0;
        for a in an {
            let (br, bar, m) = mrecist(a, opt.response_min_day);
            match m {
                Some(c) => counts[c as usize] += 1,
                None => ne += 1,
            }
            res.response.push(ResponseRow {
                cohort: cv.name.into(),
                animal_id: a.id.clone(),
                arm: arm.clone(),
                best_response_pct: br,
                best_avg_response_pct: bar,
                mrecist: m,
            });
        }
        res.response_counts.push(ResponseCount {
            cohort: cv.name.into(),
            arm: arm.clone(),
            counts,
            not_evaluable: ne,
        });
    }
}

/// `endpoints.csv` (time to endpoint per animal) and `km.csv` (Kaplan–Meier per arm).
fn endpoint_rows(res: &mut AnalysisResult, cv: &CohortView<'_>, opt: &AnalysisOptions) {
    for (arm, an) in cv.arms.iter().zip(cv.by_arm) {
        let mut ev = Vec::with_capacity(an.len());
        for a in an {
            let (t, e) = time_to_endpoint(a, opt.endpoint, opt.burden);
            ev.push((t, e));
            res.endpoints.push(EndpointRow {
                cohort: cv.name.into(),
                animal_id: a.id.clone(),
                arm: arm.clone(),
                time_days: t,
                event: e,
            });
        }
        res.km.push(KmCurve {
            cohort: cv.name.into(),
            arm: arm.clone(),
            points: stats::kaplan_meier(&ev),
        });
    }
}

fn stats_mean_var(v: &[f64]) -> (f64, f64) {
    stats::mean_var(v)
}

/// Linear mixed model on ln(volume) of a treated and a control arm: fixed effects intercept,
/// treatment, day, treatment × day; random intercept and slope per animal (REML); returns the
/// treatment × day contrast (difference of growth rates, /day) with Satterthwaite df. Uses the
/// observations from each animal's baseline up to `until`.
pub fn lmm_interaction(
    treated: &[&Animal],
    control: &[&Animal],
    floor: f64,
    until: f64,
) -> stats::lmm::Contrast {
    let mut store: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = Vec::new();
    for (trt, group) in [(1.0, treated), (0.0, control)] {
        for a in group {
            let (mut x, mut z, mut y) = (Vec::new(), Vec::new(), Vec::new());
            for i in a.baseline..a.days.len() {
                let d = a.days[i];
                if d > until {
                    break;
                }
                x.extend([1.0, trt, d, trt * d]);
                z.extend([1.0, d]);
                y.push(a.volumes[i].max(floor).ln());
            }
            if !y.is_empty() {
                store.push((x, z, y));
            }
        }
    }
    let groups: Vec<LmmGroup> = store.iter().map(|(x, z, y)| LmmGroup { x, z, y }).collect();
    match fit_reml(&groups, 4, 2) {
        Ok(fit) => fit.contrast(&[0.0, 0.0, 0.0, 1.0]),
        Err(_) => stats::lmm::Contrast {
            estimate: f64::NAN,
            se: f64::NAN,
            df: f64::NAN,
            statistic: f64::NAN,
            p_value: f64::NAN,
        },
    }
}
