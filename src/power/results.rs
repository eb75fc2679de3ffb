//! From rejection counts to what a scientist reads: power with Wilson CIs, the analytic
//! cross-check, the recommended arm size, animals to implant and the ethics paragraph; and the
//! files `power.csv`, `plots/power.{svg,png}`.

use super::design::EngineChoice;
use super::design::{Endpoint, PowerError, Settings};
use super::engine::{self, Tally};
use super::fast::{Analytic, FastDesign, FastModel, Ineligible, power_sim_options};
use super::sim_path::SimModel;
use super::units::{Unit, UnitPlan};
use super::wilson::wilson95;
use crate::output::{OutputError, fmt_f, write_csv_rows};
use crate::plot::{
    Band, Dash, Legend, LegendEntry, PanelGrid, PlotError, RefLine, Series, XyChart, save,
};
use crate::protocol::{Adjustment, Protocol};
use crate::sim::Engine;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One row of `power.csv` (contract columns first) plus the closed form where it exists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerRow {
    /// Animals per arm.
    pub n_per_arm: u32,
    /// Comparison label.
    pub comparison: String,
    /// Endpoint name.
    pub endpoint: String,
    /// Rejections / reps.
    pub power: f64,
    /// Wilson 95% lower bound.
    pub ci_low: f64,
    /// Wilson 95% upper bound.
    pub ci_high: f64,
    /// Replicates.
    pub reps: u64,
    /// Rejection count.
    pub rejections: u64,
    /// Replicates where the test could not be computed (counted as not significant).
    pub not_computable: u64,
    /// Hypothesis name.
    pub hypothesis: String,
    /// Hypothesis kind.
    pub kind: String,
    /// `primary` or `secondary`.
    pub role: String,
    /// `two-sided`, `greater` or `less`.
    pub alternative: String,
    /// Whether this row sizes the study (a primary hypothesis on its first test).
    pub sizing: bool,
    /// Closed-form power of welch-log on designs with normal ln V, else `None`.
    pub analytic: Option<Analytic>,
    /// Closed-form power of a synergy test (SynergyLMM's `APrioriPwr` F test; exact baseline
    /// assumed), else `None`.
    pub analytic_synergy: Option<super::synergy::SynergyPower>,
}

/// Smallest n reaching the target for one comparison (or all jointly) and endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Comparison label, or "all comparisons jointly".
    pub comparison: String,
    /// Endpoint.
    pub endpoint: String,
    /// Smallest n of the grid whose simulated power ≥ target; `None` if none does.
    pub n_per_arm: Option<u32>,
    /// Power at that n.
    pub power: Option<f64>,
    /// Wilson CI at that n.
    pub ci: Option<(f64, f64)>,
    /// Whether it sizes the study (primary hypothesis, first test; or the joint one).
    pub sizing: bool,
}

pub use crate::sim::animals::{AnimalPlan, Losses, animal_plan};

/// Everything a power run produced.
#[derive(Debug, Clone, Serialize)]
pub struct PowerResult {
    /// Protocol id.
    pub protocol_id: String,
    /// Engine used ("tight path" or "full simulator").
    pub engine: String,
    /// Why the tight path was not used, when it was not.
    pub engine_note: String,
    /// Replicates whose simulation or analysis failed (counted as not significant), per n.
    pub failures: Vec<u64>,
    /// Settings echo.
    pub n_values: Vec<u32>,
    /// Replicates per n.
    pub reps: u64,
    /// How `--precision` ended (`None`: exactly `reps` replicates were asked).
    pub precision: Option<super::engine::PrecisionOutcome>,
    /// α.
    pub alpha: f64,
    /// Target power.
    pub target: f64,
    /// Seed.
    pub seed: u64,
    /// Multiplicity adjustment.
    pub adjust: String,
    /// Endpoints in order (first = primary).
    pub endpoints: Vec<String>,
    /// Whether common random numbers across n were used.
    pub common_random_numbers: bool,
    /// All rows, ordered by n, endpoint, comparison.
    pub rows: Vec<PowerRow>,
    /// Joint power rows (all comparisons of a cohort-free endpoint significant), if asked.
    pub joint_rows: Vec<PowerRow>,
    /// Per comparison × endpoint recommendations (+ joint ones when asked).
    pub recommendations: Vec<Recommendation>,
    /// Animals to implant per cohort at the recommended n (primary endpoint).
    pub animal_plans: Vec<AnimalPlan>,
    /// The ethics / IACUC sample-size justification paragraph.
    pub justification: String,
    /// The scenario the rows are for (`expected` = the protocol as written).
    pub scenario: super::scenario::Scenario,
    /// Robustness summaries, one per scenario run (empty unless several were asked).
    pub scenarios: Vec<super::scenario::ScenarioSummary>,
    /// What the settings left out of the protocol's plan (printed as warnings).
    pub warnings: Vec<String>,
    /// Distribution of the day each simulated study ended under `[study-stop]` (empty
    /// without the rule): per n and cohort, the studies ending on each day.
    pub stop_days: Vec<StopDays>,
}

/// How many simulated studies ended on each study day (`[study-stop]`), at one n, in one
/// cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StopDays {
    /// Animals per arm.
    pub n_per_arm: u32,
    /// Cohort name.
    pub cohort: String,
    /// The fixed end (the phases' last day): studies that never met the rule end here.
    pub fixed_end_day: u32,
    /// (study day, studies ending that day), days with at least one study, ascending.
    pub counts: Vec<(u32, u64)>,
}

impl StopDays {
    /// Studies counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.1).sum()
    }
    /// The day by which at least fraction `q` of the studies had ended.
    pub fn quantile(&self, q: f64) -> u32 {
        let need = (q * self.total() as f64).ceil().max(1.0) as u64;
        let mut acc = 0;
        for &(d, k) in &self.counts {
            acc += k;
            if acc >= need {
                return d;
            }
        }
        self.fixed_end_day
    }
    /// Studies that ran to the fixed end.
    pub fn at_fixed_end(&self) -> u64 {
        self.counts
            .iter()
            .filter(|c| c.0 == self.fixed_end_day)
            .map(|c| c.1)
            .sum()
    }
}

/// The stop-day histogram of a tally as rows per n and cohort.
fn stop_day_rows(protocol: &Protocol, settings: &Settings, t: &Tally) -> Vec<StopDays> {
    let Some(x) = protocol.xenograft() else {
        return Vec::new();
    };
    if t.stop_len == 0 {
        return Vec::new();
    }
    let cohorts = t.implanted.len();
    let mut out = Vec::new();
    for (ni, &n) in settings.n_values.iter().enumerate() {
        for (c, cohort) in x.cohorts.iter().enumerate().take(cohorts) {
            let base = (ni * cohorts + c) * t.stop_len;
            let counts = t.stop_days[base..base + t.stop_len]
                .iter()
                .enumerate()
                .filter(|(_, k)| **k > 0)
                .map(|(d, k)| (d as u32, *k))
                .collect();
            out.push(StopDays {
                n_per_arm: n,
                cohort: cohort.name.clone(),
                fixed_end_day: (t.stop_len - 1) as u32,
                counts,
            });
        }
    }
    out
}

/// Writes `stop_days.csv`: `n_per_arm,cohort,stop_day,studies,fraction,fixed_end_day`.
pub fn write_stop_days_csv(r: &PowerResult, path: &Path) -> Result<(), OutputError> {
    let header = [
        "n_per_arm",
        "cohort",
        "stop_day",
        "studies",
        "fraction",
        "fixed_end_day",
    ];
    let mut rows = Vec::new();
    for s in &r.stop_days {
        let total = s.total().max(1) as f64;
        for &(d, k) in &s.counts {
            rows.push(vec![
                s.n_per_arm.to_string(),
                s.cohort.clone(),
                d.to_string(),
                k.to_string(),
                crate::output::fmt_f(k as f64 / total, 4),
                s.fixed_end_day.to_string(),
            ]);
        }
    }
    crate::output::write_csv_rows(path, &header, &rows)
}

/// Runs the Monte Carlo power analysis of `protocol`. `progress` receives finished replicates.
pub fn run_power(
    protocol: &Protocol,
    settings: &Settings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PowerResult, PowerError> {
    settings.validate()?;
    let units = UnitPlan::new(protocol, settings)?;
    let threads_err = |e: rayon::ThreadPoolBuildError| {
        PowerError::Settings(format!(
            "cannot start {} worker threads: {e}",
            settings.threads
        ))
    };
    let x = protocol
        .xenograft()
        .ok_or_else(|| PowerError::NotXenograft(protocol.id.clone()))?;
    // One compiled plan for both engines: the tight path is read off it, so the two cannot
    // disagree about visits, effects or the analysis day.
    let engine = Engine::new(protocol, &power_sim_options(x, settings.start))
        .map_err(|e| PowerError::Unsupported(e.to_string()))?;
    // Animals to implant come from the engine's pilot yield (`sim::animals`), the number
    // `resources.csv` and `simulate` use too.
    let losses: Vec<Losses> = (0..engine.cohort_count())
        .map(|c| engine.losses(c).clone())
        .collect();
    let tight = match settings.engine {
        EngineChoice::Full => Err(Ineligible {
            reasons: vec!["--engine full".into()],
        }),
        _ => FastDesign::from_engine(&engine, &units),
    };
    // The compiled tight design, when eligible, also carries the closed forms (the synergy
    // F test) for a run that ends on the full engine.
    let closed_form = match &tight {
        Ok(d) => Some(d.clone()),
        Err(_) => FastDesign::from_engine(&engine, &units).ok(),
    };
    let tight = match tight {
        Ok(design) => match FastModel::new(design, &units, settings) {
            Ok(model) => Ok(model),
            Err(PowerError::Unsupported(why)) => Err(Ineligible { reasons: vec![why] }),
            Err(e) => return Err(e),
        },
        Err(why) => Err(why),
    };
    match tight {
        Ok(model) => {
            let (tally, precision) = run_tally(&model, settings, progress).map_err(threads_err)?;
            let settings = &ran(settings, &precision);
            let mut r = assemble(
                protocol,
                settings,
                &units,
                &EngineRun {
                    tally: &tally,
                    design: Some(&model.design),
                    closed_form: Some(&model.design),
                    losses: &losses,
                    engine: TIGHT_ENGINE,
                },
            );
            r.precision = precision;
            Ok(r)
        }
        Err(why) if settings.engine == EngineChoice::Tight => Err(PowerError::NotTight(why)),
        Err(why) => {
            let model = SimModel::new(protocol, engine, &units, settings)?;
            let (tally, precision) = run_tally(&model, settings, progress).map_err(threads_err)?;
            let mut settings = ran(settings, &precision);
            settings.common_random_numbers = false;
            let mut r = assemble(
                protocol,
                &settings,
                &units,
                &EngineRun {
                    tally: &tally,
                    design: None,
                    closed_form: closed_form.as_ref(),
                    losses: &losses,
                    engine: FULL_ENGINE,
                },
            );
            r.precision = precision;
            if settings.engine == EngineChoice::Auto {
                r.engine_note = format!("tight path not applicable: {why}");
            }
            Ok(r)
        }
    }
}

/// The replicates of one run: exactly `settings.reps`, or rounds to `settings.precision`.
fn run_tally<M: engine::ReplicateModel>(
    model: &M,
    settings: &Settings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Tally, Option<engine::PrecisionOutcome>), rayon::ThreadPoolBuildError> {
    match settings.precision {
        None => Ok((
            engine::run(model, settings.reps, settings.threads, progress)?,
            None,
        )),
        Some(p) => {
            let (t, o) = engine::run_to_precision(
                model,
                settings.reps,
                p,
                settings.joint,
                settings.threads,
                progress,
            )?;
            Ok((t, Some(o)))
        }
    }
}

/// `settings` with the replicates actually run.
fn ran(settings: &Settings, precision: &Option<engine::PrecisionOutcome>) -> Settings {
    let mut s = settings.clone();
    if let Some(o) = precision {
        s.reps = o.reps;
    }
    s
}

/// Name of the tight engine in `power.csv`, the manifest and the text report.
pub const TIGHT_ENGINE: &str = "tight path (exponential growth, at-baseline design; per-arm moments, common random numbers across n)";
/// Name of the whole-study engine.
pub const FULL_ENGINE: &str = "full simulator + analysis (whole studies)";

/// Label of the joint row: every sizing unit significant in the same study.
pub const JOINT_LABEL: &str = "all comparisons jointly";

/// What one engine run produced, for [`assemble`].
#[derive(Debug, Clone, Copy)]
pub struct EngineRun<'a> {
    /// Rejection counts.
    pub tally: &'a Tally,
    /// The tight design the run used (Welch closed form), `None` on the full engine.
    pub design: Option<&'a FastDesign>,
    /// A tight design for closed forms that do not depend on the engine (the synergy F test).
    pub closed_form: Option<&'a FastDesign>,
    /// Take, pilot-simulated yield, attrition and spares per cohort (the animal plan inputs).
    pub losses: &'a [Losses],
    /// Engine name.
    pub engine: &'a str,
}

/// Builds rows, recommendations, animal plans and the paragraph from a tally.
pub fn assemble(
    protocol: &Protocol,
    settings: &Settings,
    units: &UnitPlan,
    run: &EngineRun<'_>,
) -> PowerResult {
    let a = Assembly {
        settings,
        units,
        run,
        joint: settings.joint && units.units.iter().filter(|u| u.sizing).count() > 1,
    };
    let (rows, joint_rows) = a.rows();
    let recommendations = a.recommendations(&rows, &joint_rows);
    let animal_plans = a.animal_plans(protocol, &recommendations);
    let mut result = PowerResult {
        protocol_id: protocol.id.clone(),
        engine: run.engine.into(),
        engine_note: String::new(),
        failures: run.tally.failures.clone(),
        n_values: settings.n_values.clone(),
        reps: settings.reps,
        precision: None,
        alpha: settings.alpha,
        target: settings.target,
        seed: settings.seed,
        adjust: settings.adjust.as_str().into(),
        endpoints: units
            .tests()
            .iter()
            .map(|e| e.as_str().to_string())
            .collect(),
        common_random_numbers: settings.common_random_numbers,
        rows,
        joint_rows,
        recommendations,
        animal_plans,
        justification: String::new(),
        scenario: super::scenario::Scenario::expected(),
        scenarios: Vec::new(),
        warnings: units.notes.clone(),
        stop_days: stop_day_rows(protocol, settings, run.tally),
    };
    result.warnings.extend(exact_floor_warnings(
        &units.tests(),
        &settings.n_values,
        settings.alpha,
    ));
    result.justification = justification(protocol, settings, units, &result);
    result
}

/// What [`assemble`] reads: the settings, the sizing units and one engine run.
struct Assembly<'a> {
    settings: &'a Settings,
    units: &'a UnitPlan,
    run: &'a EngineRun<'a>,
    /// Whether a joint row is reported (asked, and more than one sizing unit).
    joint: bool,
}

impl Assembly<'_> {
    /// The tests of the sizing units, each once, joined by `+` (the joint row's endpoint).
    fn joint_endpoint(&self) -> String {
        let mut t: Vec<&str> = Vec::new();
        for u in self.units.units.iter().filter(|u| u.sizing) {
            if !t.contains(&u.test.as_str()) {
                t.push(u.test.as_str());
            }
        }
        t.join("+")
    }

    /// One row per n and unit (n-major), and the joint rows when reported.
    fn rows(&self) -> (Vec<PowerRow>, Vec<PowerRow>) {
        let tally = self.run.tally;
        let joint_endpoint = self.joint_endpoint();
        let mut rows = Vec::new();
        let mut joint_rows = Vec::new();
        for (ni, &n) in self.settings.n_values.iter().enumerate() {
            for (ui, u) in self.units.units.iter().enumerate() {
                rows.push(self.unit_row(ni, n, ui, u));
            }
            if self.joint {
                let k = tally.joint[ni];
                joint_rows.push(PowerRow {
                    comparison: JOINT_LABEL.into(),
                    endpoint: joint_endpoint.clone(),
                    hypothesis: JOINT_LABEL.into(),
                    kind: "joint".into(),
                    role: "primary".into(),
                    sizing: true,
                    ..counted(n, k, tally.reps[ni])
                });
            }
        }
        (rows, joint_rows)
    }

    /// The row of unit `u` (index `ui`) at the `ni`-th arm size `n`.
    fn unit_row(&self, ni: usize, n: u32, ui: usize, u: &Unit) -> PowerRow {
        let tally = self.run.tally;
        let i = tally.idx(ni, ui);
        PowerRow {
            comparison: u.label.clone(),
            endpoint: u.test.as_str().into(),
            not_computable: tally.not_computable[i],
            hypothesis: u.hypothesis.clone(),
            kind: u.kind.as_str().into(),
            role: u.role.as_str().into(),
            alternative: u.alternative.as_str().into(),
            sizing: u.sizing,
            analytic: self.analytic_welch_log(ui, u, n),
            analytic_synergy: self.analytic_synergy(u, n),
            ..counted(n, tally.rejections[i], tally.reps[ni])
        }
    }

    /// The Welch closed form, on the tight engine, for a two-sided welch-log unit of one pair
    /// that no adjustment changes.
    fn analytic_welch_log(&self, ui: usize, u: &Unit, n: u32) -> Option<Analytic> {
        let d = self.run.design?;
        let fam = &self.units.families[u.family];
        let applies = u.test == Endpoint::WelchLog
            && d.unit_pairs[ui].len() == 1
            && u.alternative == crate::protocol::Alternative::TwoSided
            && (fam.method == Adjustment::None || fam.members.len() == 1);
        if !applies {
            return None;
        }
        d.analytic_welch_log(d.unit_pairs[ui][0], n, self.settings.alpha)
    }

    /// SynergyLMM's a-priori F-test power for a synergy unit (combination and two components).
    fn analytic_synergy(&self, u: &Unit, n: u32) -> Option<super::synergy::SynergyPower> {
        let d = self.run.closed_form?;
        if u.kind != crate::protocol::HypothesisKind::Synergy || u.arms.len() != 3 {
            return None;
        }
        let g = |i: usize| d.first_arm[u.cohort] + i;
        let arms = [g(u.control), g(u.arms[1]), g(u.arms[2]), g(u.arms[0])];
        let sd = super::synergy::SynergyDesign::from_fast(d, arms)?;
        super::synergy::apriori_power(&sd, u.test, n, self.settings.alpha)
    }

    /// Recommendations in power.csv order (defaults: endpoint-major), then the joint one.
    fn recommendations(&self, rows: &[PowerRow], joint_rows: &[PowerRow]) -> Vec<Recommendation> {
        let target = self.settings.target;
        let mut recommendations: Vec<Recommendation> = self
            .units
            .units
            .iter()
            .map(|u| recommend(&u.label, u.test.as_str(), u.sizing, rows, target))
            .collect();
        if self.joint {
            let endpoint = self.joint_endpoint();
            recommendations.push(recommend(JOINT_LABEL, &endpoint, true, joint_rows, target));
        }
        recommendations
    }

    /// Animals to implant per cohort, at the smallest n that powers every sizing unit of the
    /// cohort that reaches the target (and all of them jointly when asked). Units that never
    /// reach it within the grid are listed as underpowered rather than silently sized at the
    /// largest n; when none reaches it the largest n is used. Cohorts without a sizing unit
    /// get no plan.
    fn animal_plans(&self, protocol: &Protocol, recs: &[Recommendation]) -> Vec<AnimalPlan> {
        let Some(x) = protocol.xenograft() else {
            return Vec::new();
        };
        let n_max = self.settings.n_values.last().copied().unwrap_or(0);
        let mut animal_plans = Vec::new();
        for (ci, cohort) in x.cohorts.iter().enumerate() {
            let mut n_needed = 0u32;
            let mut underpowered = Vec::new();
            let mut any = false;
            for (k, u) in self.units.units.iter().enumerate() {
                if u.cohort != ci || !u.sizing {
                    continue;
                }
                any = true;
                match recs[k].n_per_arm {
                    Some(n) => n_needed = n_needed.max(n),
                    None => underpowered.push(u.label.clone()),
                }
            }
            if self.joint
                && let Some(r) = recs.iter().find(|r| r.comparison == JOINT_LABEL)
            {
                match r.n_per_arm {
                    Some(n) => n_needed = n_needed.max(n),
                    None => underpowered.push(r.comparison.clone()),
                }
            }
            if !any {
                continue;
            }
            if n_needed == 0 {
                n_needed = n_max;
            }
            let arms = cohort.arms.len() as u32;
            let mut plan = animal_plan(&cohort.name, arms, n_needed, &self.run.losses[ci]);
            plan.underpowered = underpowered;
            animal_plans.push(plan);
        }
        animal_plans
    }
}

/// A row's counts at arm size `n`: `k` rejections of `reps`, power and its Wilson interval
/// (labels left empty for the caller to fill).
fn counted(n: u32, k: u64, reps: u64) -> PowerRow {
    let (lo, hi) = wilson95(k, reps);
    PowerRow {
        n_per_arm: n,
        comparison: String::new(),
        endpoint: String::new(),
        power: k as f64 / reps.max(1) as f64,
        ci_low: lo,
        ci_high: hi,
        reps,
        rejections: k,
        not_computable: 0,
        hypothesis: String::new(),
        kind: String::new(),
        role: String::new(),
        alternative: String::new(),
        sizing: false,
        analytic: None,
        analytic_synergy: None,
    }
}

/// The smallest n of `pool` whose power for `label` × `endpoint` reaches `target`.
fn recommend(
    label: &str,
    endpoint: &str,
    sizing: bool,
    pool: &[PowerRow],
    target: f64,
) -> Recommendation {
    let hit = pool
        .iter()
        .filter(|r| r.comparison == label && r.endpoint == endpoint)
        .find(|r| r.power >= target);
    Recommendation {
        comparison: label.to_string(),
        endpoint: endpoint.into(),
        n_per_arm: hit.map(|r| r.n_per_arm),
        power: hit.map(|r| r.power),
        ci: hit.map(|r| (r.ci_low, r.ci_high)),
        sizing,
    }
}

pub use super::justification::justification;

/// Short name of an engine for `power.csv` (`tight` or `full`).
pub fn engine_key(engine: &str) -> &'static str {
    if engine == TIGHT_ENGINE {
        "tight"
    } else {
        "full"
    }
}

/// Writes `power.csv` (contract columns, then the closed form and the engine) atomically.
pub fn write_power_csv(r: &PowerResult, path: &Path) -> Result<(), OutputError> {
    let header = [
        "n_per_arm",
        "comparison",
        "endpoint",
        "power",
        "ci_low",
        "ci_high",
        "reps",
        "analytic_t_power",
        "analytic_welch_power",
        "engine",
        "analytic_synergy_power",
        "synergylmm_apriori_power",
        "hypothesis",
        "kind",
        "role",
        "alternative",
        "not_computable",
        "sizing",
    ];
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .chain(&r.joint_rows)
        .map(|row| {
            vec![
                row.n_per_arm.to_string(),
                row.comparison.clone(),
                row.endpoint.clone(),
                fmt_f(row.power, 6),
                fmt_f(row.ci_low, 6),
                fmt_f(row.ci_high, 6),
                row.reps.to_string(),
                row.analytic
                    .map(|a| fmt_f(a.pooled_t, 6))
                    .unwrap_or_default(),
                row.analytic.map(|a| fmt_f(a.welch, 6)).unwrap_or_default(),
                engine_key(&r.engine).to_string(),
                row.analytic_synergy
                    .map(|a| fmt_f(a.power_satterthwaite, 6))
                    .unwrap_or_default(),
                row.analytic_synergy
                    .map(|a| fmt_f(a.power, 6))
                    .unwrap_or_default(),
                row.hypothesis.clone(),
                row.kind.clone(),
                row.role.clone(),
                row.alternative.clone(),
                row.not_computable.to_string(),
                row.sizing.to_string(),
            ]
        })
        .collect();
    write_csv_rows(path, &header, &rows)
}

/// Draws `plots/power.{svg,png}` as small multiples: one panel of power vs n per comparison
/// (in the order of `power.csv`), each test of the comparison a line with its own colour and
/// pattern (legend beside the panels); the test that sizes the study (primary hypothesis,
/// first test) thick with its Wilson 95% band; the target a labelled line in every panel.
pub fn power_chart(r: &PowerResult) -> PanelGrid {
    let all: Vec<&PowerRow> = r.rows.iter().chain(&r.joint_rows).collect();
    let mut labels: Vec<&str> = Vec::new();
    for row in &all {
        if !labels.contains(&row.comparison.as_str()) {
            labels.push(&row.comparison);
        }
    }
    // One cohort for every comparison: name it once in the title, not in every panel.
    let prefix = common_cohort_prefix(&labels);
    let panels: Vec<XyChart> = labels
        .iter()
        .map(|label| {
            let rows: Vec<&PowerRow> = all
                .iter()
                .copied()
                .filter(|x| x.comparison == *label)
                .collect();
            let title = label.strip_prefix(prefix.as_str()).unwrap_or(label);
            power_panel(title, &rows, &r.endpoints, r.target)
        })
        .collect();
    let cohort = prefix.trim_end_matches(": ");
    let adjust = if r.adjust == "holm" {
        "Holm-adjusted"
    } else {
        "unadjusted"
    };
    PanelGrid {
        title: if cohort.is_empty() {
            format!("Power by arm size — {}", r.protocol_id)
        } else {
            format!("Power by arm size — {}, {cohort}", r.protocol_id)
        },
        subtitle: Some(format!(
            "One panel per comparison, α = {} ({adjust}). Thick line with band: the test that sizes the study (primary hypothesis, its first test) with its Wilson 95% CI; thin lines: the comparison's other tests.",
            r.alpha
        )),
        note: Some(format!(
            "{} simulated studies per n · seed {}",
            r.reps, r.seed
        )),
        columns: if panels.len() > 4 { 3 } else { 2 },
        legend: r
            .endpoints
            .iter()
            .enumerate()
            .map(|(ei, e)| {
                let (color, dash) = endpoint_look(ei);
                LegendEntry {
                    label: e.clone(),
                    color,
                    dash,
                    width: 2,
                }
            })
            .collect(),
        panels,
    }
}

/// Colour and pattern of test `ei` of the endpoint list: the same in every panel and in the
/// legend (palette from 1: black is kept for control arms).
fn endpoint_look(ei: usize) -> (usize, Dash) {
    (ei + 1, Dash::ALL[ei % Dash::ALL.len()])
}

/// "Cohort: " when every label starts with the same one, else "".
fn common_cohort_prefix(labels: &[&str]) -> String {
    let first = labels
        .first()
        .and_then(|l| l.split_once(": "))
        .map(|(c, _)| format!("{c}: "));
    match first {
        Some(p) if labels.iter().all(|l| l.starts_with(p.as_str())) => p,
        _ => String::new(),
    }
}

/// One comparison's panel: a line per test in `endpoints` order; the sizing test thick with
/// its Wilson band; the labelled target line.
fn power_panel(title: &str, rows: &[&PowerRow], endpoints: &[String], target: f64) -> XyChart {
    let mut chart = XyChart::new(title, "Animals per arm (n)", "Power");
    chart.compact = true;
    chart.legend = Legend::Hidden;
    chart.y_range = Some((0.0, 1.0));
    chart.integer_x = true;
    for (ei, e) in endpoints.iter().enumerate() {
        let pts: Vec<&&PowerRow> = rows.iter().filter(|x| &x.endpoint == e).collect();
        if pts.is_empty() {
            continue;
        }
        let (color, dash) = endpoint_look(ei);
        let sizing = pts.iter().any(|p| p.sizing);
        if sizing {
            chart.bands.push(Band {
                points: pts
                    .iter()
                    .map(|p| (f64::from(p.n_per_arm), p.ci_low, p.ci_high))
                    .collect(),
                color,
                label: None,
            });
        }
        let mut s = Series::line(
            e,
            pts.iter()
                .map(|p| (f64::from(p.n_per_arm), p.power))
                .collect(),
        )
        .with_color(color);
        s.dash = Some(dash);
        s.width = Some(if sizing { 4 } else { 2 });
        chart.series.push(s);
    }
    chart.ref_lines.push(RefLine {
        at: target,
        horizontal: true,
        label: format!("target {target}"),
    });
    chart
}

/// Writes `power.csv` and `plots/power.{svg,png}` into `dir`; returns the relative paths.
pub fn write_outputs(r: &PowerResult, dir: &Path) -> Result<Vec<String>, PlotError> {
    write_power_csv(r, &dir.join("power.csv"))?;
    let chart = power_chart(r);
    let files: Vec<PathBuf> = save(
        &chart,
        &dir.join("plots").join("power"),
        chart.size((400, 300)),
    )?;
    let mut out = vec!["power.csv".to_string()];
    if !r.stop_days.is_empty() {
        write_stop_days_csv(r, &dir.join("stop_days.csv"))?;
        out.push("stop_days.csv".to_string());
    }
    for f in files {
        if let Ok(rel) = f.strip_prefix(dir) {
            out.push(rel.display().to_string());
        }
    }
    Ok(out)
}

/// Settings from the protocol's analysis plan (command-line values override them): the tests
/// of its declared hypotheses (each once, in order), else its `[analysis] tests`, else
/// welch-log.
pub fn default_endpoints(protocol: &Protocol) -> Result<Vec<Endpoint>, PowerError> {
    let x = protocol
        .xenograft()
        .ok_or_else(|| PowerError::NotXenograft(protocol.id.clone()))?;
    let mut v: Vec<Endpoint> = Vec::new();
    for h in &x.analysis.hypotheses {
        for &t in &h.tests {
            if !v.contains(&t) {
                v.push(t);
            }
        }
    }
    if v.is_empty() {
        v = x.analysis.tests.clone();
    }
    if v.is_empty() {
        v.push(Endpoint::WelchLog);
    }
    Ok(v)
}

/// Group sizes at which an exact test cannot reach p ≤ α whatever the effect: with n animals
/// per arm the exact Mann–Whitney U (n ≤ 8, no ties), the exact log-rank (n ≤ 8) and Fisher's
/// exact test on response have C(2n, n) equally likely label splits, so the smallest two-sided
/// p-value is 2/C(2n, n) (the two most extreme splits; ties only raise it) — 0.1 at n = 3.
/// Power there is 0 by construction, not for lack of effect; the warning says so.
pub fn exact_floor_warnings(
    tests: &[super::Endpoint],
    n_values: &[u32],
    alpha: f64,
) -> Vec<String> {
    use super::Endpoint as E;
    let mut out = Vec::new();
    for t in tests {
        if !matches!(t, E::Mwu | E::Logrank | E::Response) {
            continue;
        }
        let blocked: Vec<String> = n_values
            .iter()
            .filter(|&&n| n <= 8 && min_exact_p(n) > alpha)
            .map(|n| format!("{n} ({:.3})", min_exact_p(*n)))
            .collect();
        if !blocked.is_empty() {
            out.push(format!(
                "{}: the exact test cannot reach p ≤ {alpha} at n = {} per arm (smallest attainable two-sided p in brackets), so its power there is 0 whatever the effect; use larger n or a parametric test",
                t.as_str(),
                blocked.join(", ")
            ));
        }
    }
    out
}

/// Smallest two-sided p-value of an exact two-sample permutation test with `n` per arm:
/// 2/C(2n, n), capped at 1.
fn min_exact_p(n: u32) -> f64 {
    let mut c = 1.0f64;
    for k in 1..=u64::from(n) {
        c = c * (u64::from(n) + k) as f64 / k as f64;
    }
    (2.0 / c).min(1.0)
}

#[cfg(test)]
mod chart_tests {
    use super::*;

    fn row(n: u32, comparison: &str, endpoint: &str, power: f64, sizing: bool) -> PowerRow {
        PowerRow {
            n_per_arm: n,
            comparison: comparison.into(),
            endpoint: endpoint.into(),
            power,
            ci_low: power - 0.05,
            ci_high: power + 0.05,
            reps: 500,
            rejections: (power * 500.0) as u64,
            not_computable: 0,
            hypothesis: comparison.into(),
            kind: "vs-control".into(),
            role: if sizing { "primary" } else { "secondary" }.into(),
            alternative: "greater".into(),
            sizing,
            analytic: None,
            analytic_synergy: None,
        }
    }

    #[test]
    fn sizing_test_is_thick_with_a_band_and_tests_look_different() {
        let endpoints = vec!["welch-log".to_string(), "slope".to_string()];
        let rows = [
            row(4, "C: a vs vehicle", "welch-log", 0.6, true),
            row(8, "C: a vs vehicle", "welch-log", 0.9, true),
            row(4, "C: a vs vehicle", "slope", 0.7, false),
            row(8, "C: a vs vehicle", "slope", 0.95, false),
        ];
        let refs: Vec<&PowerRow> = rows.iter().collect();
        let p = power_panel("a vs vehicle", &refs, &endpoints, 0.8);
        assert_eq!(p.series.len(), 2);
        assert_eq!(p.series[0].width, Some(4));
        assert_eq!(p.series[1].width, Some(2));
        assert_eq!(p.bands.len(), 1, "only the sizing test has a band");
        assert_ne!(
            (p.series[0].color, p.series[0].dash),
            (p.series[1].color, p.series[1].dash)
        );
        assert_eq!(p.ref_lines[0].label, "target 0.8");
        assert_eq!(p.legend, Legend::Hidden, "the grid draws one shared legend");
        assert_eq!(common_cohort_prefix(&["C: a", "C: b"]), "C: ");
        assert_eq!(common_cohort_prefix(&["C: a", "D: b"]), "");
    }
}

#[cfg(test)]
mod exact_floor_tests {
    use super::{exact_floor_warnings, min_exact_p};
    use crate::power::Endpoint;

    #[test]
    fn smallest_exact_p_is_two_over_the_number_of_splits() {
        assert!((min_exact_p(3) - 0.1).abs() < 1e-15);
        assert!((min_exact_p(4) - 2.0 / 70.0).abs() < 1e-15);
        assert_eq!(min_exact_p(1), 1.0);
    }

    #[test]
    fn exact_tests_warn_where_no_effect_can_reject() {
        let w = exact_floor_warnings(
            &[Endpoint::WelchLog, Endpoint::Mwu, Endpoint::Logrank],
            &[2, 3, 4, 10],
            0.05,
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("mwu:") && w[0].contains("n = 2 (0.333), 3 (0.100) per arm"));
        assert!(w[1].starts_with("logrank:") && !w[1].contains(" 4 ("));
        // A stricter α blocks n = 4 too (2/70 = 0.029 > 0.01).
        let strict = exact_floor_warnings(&[Endpoint::Response], &[4, 5], 0.01);
        assert!(strict[0].contains("n = 4 (0.029) per arm"), "{strict:?}");
    }
}
