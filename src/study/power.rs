//! The power stage: Monte Carlo power per comparison and endpoint, the recommended arm size,
//! animals to implant and a sample-size justification paragraph, written to a folder.

use super::Observer;
use crate::output::{Manifest, begin_run};
use crate::power::{self, Endpoint, PowerResult, Settings};
use crate::protocol::{Adjustment, Loaded, Protocol};
use std::path::{Path, PathBuf};

/// Default replicate cap of `--precision` (a Wilson half-width of 0.005 at power 0.5 needs
/// ≈ 38 400; assumed).
pub const DEFAULT_MAX_REPS: u64 = 100_000;

/// What to size and how; `None` fields take the protocol's analysis plan.
#[derive(Debug, Clone)]
pub struct PowerJob<'a> {
    /// The loaded xenograft protocol.
    pub protocol: &'a Loaded,
    /// Animals per arm to evaluate: `A..B` (inclusive), `N`, or a list `4,6,8`.
    pub n: String,
    /// Simulated studies per n (with `precision`: the first round).
    pub reps: u64,
    /// Target Wilson 95 % half-width of every reported power: replicates are added in
    /// deterministic rounds until it is reached or `max_reps` have run.
    pub precision: Option<f64>,
    /// Replicate cap of `precision`.
    pub max_reps: u64,
    /// Two-sided significance level.
    pub alpha: Option<f64>,
    /// Target power.
    pub target: Option<f64>,
    /// Seed of every random stream.
    pub seed: u64,
    /// Worker threads (`None` = all cores). Results do not depend on it.
    pub threads: Option<usize>,
    /// Endpoint keys, the first primary (empty = the protocol's plan).
    pub endpoints: Vec<String>,
    /// Adjustment of every family the protocol does not set (`holm`, `bonferroni`, `none`,
    /// `fixed-sequence`).
    pub adjust: Option<String>,
    /// Also size for every comparison significant in the same study.
    pub joint: bool,
    /// Common random numbers across n (else independent streams per (n, replicate)).
    pub common_random_numbers: bool,
    /// Power engine: `auto`, `tight` or `full`.
    pub engine: String,
    /// Calendar date of the protocol's first day; `None` = Monday 2027-01-04 (as `simulate`).
    pub start: Option<jiff::civil::Date>,
    /// Robustness scenario: `expected`, `optimistic`, `pessimistic` or `all`.
    pub scenario: String,
    /// Output folder; `None` = `output/<protocol-id>/`.
    pub out: Option<PathBuf>,
}

impl<'a> PowerJob<'a> {
    /// The defaults of `xenoplan power` for `protocol`.
    pub fn new(protocol: &'a Loaded) -> Self {
        PowerJob {
            protocol,
            n: "3..15".into(),
            reps: 1000,
            precision: None,
            max_reps: DEFAULT_MAX_REPS,
            alpha: None,
            target: None,
            seed: 1,
            threads: None,
            endpoints: Vec::new(),
            adjust: None,
            joint: false,
            common_random_numbers: true,
            engine: "auto".into(),
            start: None,
            scenario: "expected".into(),
            out: None,
        }
    }

    /// The job's values and the protocol's analysis plan as validated settings.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let protocol: &Protocol = &self.protocol.protocol;
        let x = protocol.xenograft().ok_or_else(|| not_sizable(protocol))?;
        let endpoints = if self.endpoints.is_empty() {
            power::results::default_endpoints(protocol)?
        } else {
            let mut v: Vec<Endpoint> = Vec::new();
            for e in &self.endpoints {
                let e = power::parse_endpoint(e)?;
                if !v.contains(&e) {
                    v.push(e);
                }
            }
            v
        };
        let adjust = match self.adjust.as_deref() {
            Some(a) => {
                Adjustment::parse(a).ok_or_else(|| anyhow::anyhow!("unknown adjustment `{a}`"))?
            }
            None => x.analysis.adjust,
        };
        let threads = self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let s = Settings {
            n_values: power::parse_n_range(&self.n)?,
            reps: self.reps,
            alpha: self.alpha.unwrap_or(x.analysis.alpha),
            target: self.target.unwrap_or(x.analysis.target_power),
            seed: self.seed,
            threads,
            endpoints,
            adjust,
            joint: self.joint,
            common_random_numbers: self.common_random_numbers,
            engine: power::EngineChoice::parse(&self.engine)?,
            start: self
                .start
                .unwrap_or_else(|| crate::sim::SimOptions::default().start),
            precision: self.precision.map(|half_width| power::engine::Precision {
                half_width,
                max_reps: self.max_reps,
            }),
        };
        s.validate()?;
        Ok(s)
    }
}

/// A power analysis written to a folder.
#[derive(Debug, Clone)]
pub struct PowerRun {
    /// Every row, recommendation, animal plan, scenario and the justification paragraph.
    pub result: PowerResult,
    /// The design check run beside the power analysis (`design_check.csv`).
    pub design: crate::design_check::DesignCheck,
    /// Folder written.
    pub out: PathBuf,
}

/// Runs the power analysis of `job` and writes `power.csv`, its figure and `manifest.json`.
pub fn run(job: &PowerJob<'_>, obs: &dyn Observer) -> anyhow::Result<PowerRun> {
    let protocol = &job.protocol.protocol;
    let s = job.settings()?;
    if let Some(line) = crate::estimate::power_note(protocol, &s) {
        obs.note(&line);
    }
    let out_dir = job
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&protocol.id));
    let scenarios: Vec<power::scenario::Scenario> = match job.scenario.as_str() {
        "all" => ["expected", "optimistic", "pessimistic"]
            .iter()
            .filter_map(|n| power::scenario::Scenario::named(n))
            .collect(),
        name => power::scenario::Scenario::named(name).into_iter().collect(),
    };
    if scenarios.is_empty() {
        anyhow::bail!(
            "unknown scenario `{}` (expected, optimistic, pessimistic or all)",
            job.scenario
        );
    }
    let most = s.precision.map_or(s.reps, |p| p.max_reps);
    obs.progress_start("power", most * scenarios.len() as u64);
    let progress = |k: u64| obs.progress(k);
    let result = power::scenario::run_scenarios(protocol, &s, &scenarios, &progress);
    obs.progress_end();
    let result = result?;

    // A design that no n can power (a control that does not grow, …) is said before the
    // numbers, from a pilot study on the same seed.
    let design = crate::design_check::check_design(protocol, s.seed, Some(s.start))?;

    let _lock = begin_run(&out_dir)?;
    let mut files = power::results::write_outputs(&result, &out_dir)?;
    design.write_csv(&out_dir)?;
    files.push("design_check.csv".into());
    let mut manifest = Manifest::new("power").with_input(&job.protocol.path, &job.protocol.bytes);
    manifest.protocol_id = Some(protocol.id.clone());
    manifest.seed = Some(s.seed);
    manifest.parameters = serde_json::json!({
        "n_per_arm": s.n_values,
        "reps": result.reps,
        "reps_requested": s.reps,
        "precision": result.precision,
        "alpha": s.alpha,
        "target": s.target,
        "endpoints": result.endpoints,
        "adjust": result.adjust,
        "joint": s.joint,
        "common_random_numbers": s.common_random_numbers,
        "engine": result.engine,
        "engine_key": power::results::engine_key(&result.engine),
        "engine_requested": job.engine,
        "start_date": s.start.to_string(),
        "scenario": result.scenario,
        "scenarios": result.scenarios,
        "stream_ids": if s.common_random_numbers { "stream(seed, [0, replicate]); study at n = first n animals of each arm" } else { "stream(seed, [n, replicate])" },
    });
    files.push("manifest.json".into());
    manifest.files = files;
    manifest.write(&out_dir)?;
    Ok(PowerRun {
        result,
        design,
        out: out_dir,
    })
}

impl PowerRun {
    /// The `--json` summary.
    pub fn json(&self) -> serde_json::Value {
        let mut j = summary_json(&self.result, &self.out);
        j["design_check"] = self
            .design
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "level": f.level.as_str(),
                    "cohort": f.cohort,
                    "arm": f.arm,
                    "check": f.check,
                    "finding": f.finding,
                    "action": f.action,
                })
            })
            .collect();
        j
    }

    /// The text `xenoplan power` prints.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.design, text_report(&self.result, &self.out))
    }

    /// The recommended n per comparison, the animals to implant per cohort and the
    /// robustness scenarios (the report shows these beside `power.csv`).
    pub fn recommendations(&self) -> String {
        recommendations_text(&self.result)
    }
}

/// The `--json` summary: settings, recommendations, animal plans, paragraph, every row.
fn summary_json(r: &PowerResult, out_dir: &Path) -> serde_json::Value {
    serde_json::json!({
        "protocol_id": r.protocol_id,
        "engine": r.engine,
        "engine_note": r.engine_note,
        "failures": r.failures,
        "n_per_arm": r.n_values,
        "reps": r.reps,
        "alpha": r.alpha,
        "target": r.target,
        "seed": r.seed,
        "adjust": r.adjust,
        "endpoints": r.endpoints,
        "common_random_numbers": r.common_random_numbers,
        "recommendations": r.recommendations,
        "animal_plans": r.animal_plans,
        "justification": r.justification,
        "scenario": r.scenario,
        "scenarios": r.scenarios,
        "precision": r.precision,
        "rows": r.rows.iter().chain(&r.joint_rows).collect::<Vec<_>>(),
        "stop_days": r.stop_days,
        "output_dir": out_dir.display().to_string(),
    })
}

/// The text report: settings, the power table with its notes, the recommendations, the
/// justification paragraph and the files written.
fn text_report(r: &PowerResult, out_dir: &Path) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "power: {} — {} reps per n, α = {}, target {}, seed {}, adjust {}, engine: {}",
        r.protocol_id, r.reps, r.alpha, r.target, r.seed, r.adjust, r.engine
    );
    if let Some(p) = &r.precision {
        let _ = if p.reached {
            writeln!(
                o,
                "precision: every Wilson 95% half-width <= {} after {} replicates per n ({} rounds; widest {:.4})",
                p.half_width_target, p.reps, p.rounds, p.widest_half_width
            )
        } else {
            writeln!(
                o,
                "warning: --precision {} not reached: widest Wilson 95% half-width {:.4} after the cap of {} replicates per n; raise --max-reps",
                p.half_width_target, p.widest_half_width, p.reps
            )
        };
    }
    let w = comparison_width(r);
    if !r.engine_note.is_empty() {
        let _ = writeln!(o, "({})", r.engine_note);
    }
    let failed: u64 = r.failures.iter().sum();
    if failed > 0 {
        let _ = writeln!(
            o,
            "warning: {failed} simulated studies could not be simulated or analyzed; they count as not significant"
        );
    }
    let f_col = r.rows.iter().any(|x| x.analytic_synergy.is_some());
    let _ = writeln!(
        o,
        "\n{:>3}  {:<w$} {:<9} {:>7}  {:<17} {:>9} {:>9}{}",
        "n",
        "comparison",
        "endpoint",
        "power",
        "95% CI (Wilson)",
        "t (nct)",
        "Welch",
        if f_col { "     LMM F" } else { "" }
    );
    for row in r.rows.iter().chain(&r.joint_rows) {
        let (a_t, a_w) = match row.analytic {
            Some(a) => (
                format!("{:.4}", a.pooled_t),
                format!("{:.4}{}", a.welch, if a.welch_exact { "" } else { "~" }),
            ),
            None => (String::new(), String::new()),
        };
        let a_f = match (f_col, row.analytic_synergy) {
            (true, Some(a)) => format!(" {:>9.4}", a.power_satterthwaite),
            (true, None) => " ".repeat(10),
            _ => String::new(),
        };
        let _ = writeln!(
            o,
            "{:>3}  {:<w$} {:<9} {:>7.4}  [{:.4}, {:.4}] {:>9} {:>9}{a_f}",
            row.n_per_arm,
            row.comparison,
            row.endpoint,
            row.power,
            row.ci_low,
            row.ci_high,
            a_t,
            a_w
        );
    }
    if f_col {
        let _ = writeln!(
            o,
            "LMM F: closed-form power of the synergy test on this design (per-animal slope variance including the baseline reading's caliper error; t with df M − 4). SynergyLMM's APrioriPwr (baseline taken as exact, ddf N − M − 3) is in power.csv, synergylmm_apriori_power."
        );
    }
    for w in &r.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    for sd in &r.stop_days {
        let total = sd.total().max(1);
        let _ = writeln!(
            o,
            "study stop day ([study-stop]), {}, n = {}: median day {}, 5-95% days {}-{}, {:.1}% of studies ran to the fixed end (day {}); stop_days.csv",
            sd.cohort,
            sd.n_per_arm,
            sd.quantile(0.5),
            sd.quantile(0.05),
            sd.quantile(0.95),
            100.0 * sd.at_fixed_end() as f64 / total as f64,
            sd.fixed_end_day
        );
    }
    for row in r.rows.iter().filter(|x| x.not_computable > 0) {
        let _ = writeln!(
            o,
            "warning: {} ({}) could not be computed in {} of {} simulated studies at n = {} ({:.1}%); they count as not significant",
            row.comparison,
            row.endpoint,
            row.not_computable,
            row.reps,
            row.n_per_arm,
            100.0 * row.not_computable as f64 / row.reps.max(1) as f64
        );
    }
    if r.rows.iter().any(|x| x.analytic.is_some()) {
        let _ = writeln!(
            o,
            "t (nct): two-sample t power from the noncentral t, df = 2n−2; Welch: exact Welch power (equal variances), ~ = Welch–Satterthwaite approximation."
        );
    }
    o.push('\n');
    o.push_str(&recommendations_text(r));
    let _ = writeln!(o, "\n{}\n", r.justification);
    let _ = writeln!(
        o,
        "Wrote {}/power.csv, {}plots/power.svg, plots/power.png, manifest.json",
        out_dir.display(),
        if r.stop_days.is_empty() {
            ""
        } else {
            "stop_days.csv, "
        }
    );
    o
}

/// Width of the comparison column, shared by the table and the recommendations.
fn comparison_width(r: &PowerResult) -> usize {
    r.rows
        .iter()
        .chain(&r.joint_rows)
        .map(|x| x.comparison.chars().count())
        .max()
        .unwrap_or(10)
        .max(10)
}

/// Recommended n per comparison, animal plans and robustness scenarios.
fn recommendations_text(r: &PowerResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let w = comparison_width(r);
    let _ = writeln!(
        o,
        "Recommended n per arm (smallest n with simulated power ≥ {}):",
        r.target
    );
    for rec in &r.recommendations {
        match (rec.n_per_arm, rec.power, rec.ci) {
            (Some(n), Some(p), Some((lo, hi))) => {
                let _ = writeln!(
                    o,
                    "  {:<w$} {:<9} n = {n:<3} power {p:.3} [{lo:.3}, {hi:.3}]",
                    rec.comparison, rec.endpoint
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "  {:<w$} {:<9} not reached within the n range",
                    rec.comparison, rec.endpoint
                );
            }
        }
    }
    for p in &r.animal_plans {
        let _ = writeln!(
            o,
            "\nAnimals for cohort {} at n = {} per arm: {} to order and implant ({}; yield: {}).{}",
            p.cohort,
            p.n_per_arm,
            p.implant_total,
            p.arithmetic(),
            p.yield_source,
            if p.underpowered.is_empty() {
                String::new()
            } else {
                format!(" Not powered at this n: {}.", p.underpowered.join(", "))
            }
        );
    }
    if !r.scenarios.is_empty() {
        let _ = writeln!(
            o,
            "\nRobustness (recommended n per arm; scenario factors assumed):"
        );
        for sc in &r.scenarios {
            let _ = writeln!(
                o,
                "  {:<12} effects ×{:<5} variability ×{:<5} {}",
                sc.scenario.name,
                sc.scenario.effect_scale,
                sc.scenario.variability_scale,
                sc.recommendations_text("; ")
            );
        }
    }
    o
}

/// Why `power` cannot size a protocol of this kind, and what it can size instead: the one
/// message of every power entry point (xenograft per-arm, panel) given a protocol that is
/// not a xenograft.
pub fn not_sizable(p: &Protocol) -> anyhow::Error {
    use crate::protocol::ProtocolKind;
    let what = match p.kind() {
        ProtocolKind::Derivation => {
            "a derivation protocol has no comparison of groups to size: its replicate runs (`xenoplan simulate FILE --reps N`) give the distribution of time to resistance and IC50 shift, per arm when it has arms. To size the IC50 check that confirms the derived line, write that check as an assay protocol (the parental and the derived line as `[[lines]]`, like protocols/camizestrant_proliferation_assay.toml) and run `xenoplan power` on it"
        }
        ProtocolKind::Procedure => {
            "a procedure protocol schedules steps (`xenoplan timeline`) and has no comparison of groups to size"
        }
        ProtocolKind::Assay => {
            "an assay protocol is sized by `xenoplan power` itself (replicate wells per condition), not by the xenograft engines"
        }
        ProtocolKind::Xenograft => "this one is a xenograft protocol",
    };
    anyhow::anyhow!(
        "{}: `power` sizes xenograft protocols (animals per arm, or lines x mice of a [panel]) and assay protocols (replicate wells per condition, and with --experiments independent experiments); {what}",
        p.id
    )
}
