//! `xenoplan power`: Monte Carlo power per comparison and endpoint, the recommended arm size,
//! animals to implant and a sample-size justification paragraph.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::output::{Manifest, begin_run};
use crate::power::{self, Endpoint, PowerResult, Settings};
use crate::protocol::{Adjustment, Protocol};

/// Arguments of `xenoplan power`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  xenoplan power examples/p1_power.toml --n 3..15 --reps 20000 --threads 2\n  xenoplan power examples/p1_power.toml --n 4..10 --reps 4000 --engine full   # whole simulated studies"
)]
pub struct Args {
    /// Protocol file (xenograft).
    pub file: PathBuf,
    /// Animals per arm to evaluate: `A..B` (inclusive), `N`, or a list `4,6,8`.
    #[arg(long = "n", default_value = "3..15")]
    pub n: String,
    /// Simulated studies per n (default 1000: Wilson CI half-width ≤ 3.1 points; assumed).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=super::MAX_REPS))]
    pub reps: u64,
    /// Two-sided significance level (default: the protocol's analysis plan).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Target power (default: the protocol's analysis plan).
    #[arg(long)]
    pub target: Option<f64>,
    /// Seed of every random stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = super::parse_threads)]
    pub threads: Option<usize>,
    /// Endpoints, comma-separated: welch-log, mwu, slope, auc, lmm, logrank, response (default:
    /// the protocol's analysis plan; the first is primary).
    #[arg(long, value_delimiter = ',')]
    pub endpoint: Vec<String>,
    /// Multiplicity adjustment of every family the protocol does not set (default: the
    /// protocol's `[analysis] adjust`).
    #[arg(long, value_parser = ["holm", "bonferroni", "none", "fixed-sequence"])]
    pub adjust: Option<String>,
    /// Also size for every comparison significant in the same study.
    #[arg(long)]
    pub joint: bool,
    /// Independent random streams per (n, replicate) instead of common random numbers across n.
    #[arg(long)]
    pub no_crn: bool,
    /// Power engine: `auto` (the tight path when the compiled design is eligible, else whole
    /// simulated studies), `tight` (error when not eligible) or `full`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "tight", "full"])]
    pub engine: String,
    /// Calendar date of the protocol's first day (YYYY-MM-DD), on which weekday caliper
    /// schedules are placed; default Monday 2027-01-04 (as `simulate`).
    #[arg(long)]
    pub start: Option<jiff::civil::Date>,
    /// Robustness scenario: `expected` (the protocol as written), `optimistic` (effects ×1.25,
    /// variability ×0.8), `pessimistic` (effects ×0.75, variability ×1.25) or `all` (expected,
    /// with the recommended n under the other two; factors assumed).
    #[arg(long, default_value = "expected", value_parser = ["expected", "optimistic", "pessimistic", "all"])]
    pub scenario: String,
    /// Print the JSON summary on stdout (instead of the text report).
    #[arg(long)]
    pub json: bool,
    /// Output folder (default `output/<protocol-id>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn load(path: &Path) -> anyhow::Result<(Protocol, Vec<u8>)> {
    let loaded = crate::protocol::load(path)?;
    for w in &loaded.warnings {
        diag!("{w}");
    }
    Ok((loaded.protocol, loaded.bytes))
}

/// Turns command-line values and the protocol's analysis plan into validated settings.
pub fn settings(args: &Args, protocol: &Protocol) -> anyhow::Result<Settings> {
    let x = protocol
        .xenograft()
        .ok_or_else(|| anyhow::anyhow!("{}: `power` needs a xenograft protocol", protocol.id))?;
    let endpoints = if args.endpoint.is_empty() {
        power::results::default_endpoints(protocol)?
    } else {
        let mut v: Vec<Endpoint> = Vec::new();
        for e in &args.endpoint {
            let e = power::parse_endpoint(e)?;
            if !v.contains(&e) {
                v.push(e);
            }
        }
        v
    };
    let adjust = match args.adjust.as_deref() {
        Some(a) => {
            Adjustment::parse(a).ok_or_else(|| anyhow::anyhow!("unknown adjustment `{a}`"))?
        }
        None => x.analysis.adjust,
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let s = Settings {
        n_values: power::parse_n_range(&args.n)?,
        reps: args.reps,
        alpha: args.alpha.unwrap_or(x.analysis.alpha),
        target: args.target.unwrap_or(x.analysis.target_power),
        seed: args.seed,
        threads,
        endpoints,
        adjust,
        joint: args.joint,
        common_random_numbers: !args.no_crn,
        engine: power::EngineChoice::parse(&args.engine)?,
        start: args
            .start
            .unwrap_or_else(|| crate::sim::SimOptions::default().start),
    };
    s.validate()?;
    Ok(s)
}

/// Runs `xenoplan power`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let (result, out_dir) = execute(&args)?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&summary_json(&result, &out_dir))?
        );
    } else {
        out!("{}", text_report(&result, &out_dir));
    }
    Ok(())
}

/// Runs the power analysis for `args` and writes its files; returns the result and the
/// output folder.
pub fn execute(args: &Args) -> anyhow::Result<(PowerResult, PathBuf)> {
    let (protocol, bytes) = load(&args.file)?;
    let s = settings(args, &protocol)?;
    if let Some(line) = crate::estimate::power_note(&protocol, &s) {
        diagln!("{line}");
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&protocol.id));

    let runs = if args.scenario == "all" { 3 } else { 1 };
    let total = s.reps * runs;
    let bar = if std::io::stderr().is_terminal() {
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} power [{bar:40}] {pos}/{len} replicates ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Some(pb)
    } else {
        None
    };
    let progress = |k: u64| {
        if let Some(pb) = &bar {
            pb.inc(k);
        }
    };
    let scenarios: Vec<power::scenario::Scenario> = match args.scenario.as_str() {
        "all" => ["expected", "optimistic", "pessimistic"]
            .iter()
            .filter_map(|n| power::scenario::Scenario::named(n))
            .collect(),
        name => power::scenario::Scenario::named(name).into_iter().collect(),
    };
    let result = power::scenario::run_scenarios(&protocol, &s, &scenarios, &progress)?;
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }

    let _lock = begin_run(&out_dir)?;
    let mut files = power::results::write_outputs(&result, &out_dir)?;
    let mut manifest = Manifest::new("power").with_input(&args.file, &bytes);
    manifest.protocol_id = Some(protocol.id.clone());
    manifest.seed = Some(s.seed);
    manifest.parameters = serde_json::json!({
        "n_per_arm": s.n_values,
        "reps": s.reps,
        "alpha": s.alpha,
        "target": s.target,
        "endpoints": result.endpoints,
        "adjust": result.adjust,
        "joint": s.joint,
        "common_random_numbers": s.common_random_numbers,
        "engine": result.engine,
        "engine_key": power::results::engine_key(&result.engine),
        "engine_requested": args.engine,
        "start_date": s.start.to_string(),
        "scenario": result.scenario,
        "scenarios": result.scenarios,
        "stream_ids": if s.common_random_numbers { "stream(seed, [0, replicate]); study at n = first n animals of each arm" } else { "stream(seed, [n, replicate])" },
    });
    files.push("manifest.json".into());
    manifest.files = files;
    manifest.write(&out_dir)?;
    Ok((result, out_dir))
}

/// The `--json` summary: settings, recommendations, animal plans, paragraph, every row.
pub fn summary_json(r: &PowerResult, out_dir: &Path) -> serde_json::Value {
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
        "rows": r.rows.iter().chain(&r.joint_rows).collect::<Vec<_>>(),
        "output_dir": out_dir.display().to_string(),
    })
}

/// The text report on stdout.
pub fn text_report(r: &PowerResult, out_dir: &Path) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "power: {} — {} reps per n, α = {}, target {}, seed {}, adjust {}, engine: {}",
        r.protocol_id, r.reps, r.alpha, r.target, r.seed, r.adjust, r.engine
    );
    let w = r
        .rows
        .iter()
        .chain(&r.joint_rows)
        .map(|x| x.comparison.chars().count())
        .max()
        .unwrap_or(10)
        .max(10);
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
    let _ = writeln!(
        o,
        "\nRecommended n per arm (smallest n with simulated power ≥ {}):",
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
            "\nAnimals for cohort {}: {} arms × n = {} → {} enrolled per arm (attrition {:.0}%), {} randomized; take {:.0}% × yield {:.1}% → {} to implant; +{:.0}% spare → implant {}.{}",
            p.cohort,
            p.arms,
            p.n_per_arm,
            p.enrolled_per_arm,
            p.attrition * 100.0,
            p.enrolled_total,
            p.take_rate * 100.0,
            p.enrollment_yield * 100.0,
            p.implant_needed,
            p.spare_fraction * 100.0,
            p.implant_total,
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
    let _ = writeln!(o, "\n{}\n", r.justification);
    let _ = writeln!(
        o,
        "Wrote {}/power.csv, plots/power.svg, plots/power.png, manifest.json",
        out_dir.display()
    );
    o
}
