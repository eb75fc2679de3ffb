//! `xenoplan analyze`: the same analysis as `simulate`, on a user's measured data.

use crate::analysis::{self, AnalysisOptions, EndpointRule};
use crate::output::{Manifest, begin_run};
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `xenoplan analyze`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  xenoplan analyze output/sim/animals.csv --control vehicle --out output/analysis
  xenoplan analyze tests/fixtures/synergy/synergy_data.csv --control Control --synergy 'Combination=DrugA,DrugB'
  xenoplan analyze measured.csv --hypotheses protocols/amcenestrant_hci013_pdx.toml")]
pub struct Args {
    /// Measurements in the `animals.csv` layout (animal_id,arm,day,volume_mm3 or
    /// length_mm,width_mm; optional cohort column).
    pub data: PathBuf,
    /// Control arm (in every cohort). Default: an arm named `vehicle` or `control`.
    #[arg(long)]
    pub control: Option<String>,
    /// Output folder (default `output/<data-file-stem>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Day of the single-day tests (default: last day with ≥ 80% of control animals measured).
    #[arg(long)]
    pub day: Option<f64>,
    /// Time-to-endpoint event: volume ≥ V mm³ (default: 4 × the animal's baseline volume).
    #[arg(long, value_name = "V", conflicts_with = "endpoint_fold")]
    pub endpoint_volume: Option<f64>,
    /// Time-to-endpoint event: volume ≥ F × baseline volume.
    #[arg(long, value_name = "F")]
    pub endpoint_fold: Option<f64>,
    /// Humane tumor-burden limit counted as the endpoint event (euthanasia for tumor burden):
    /// mean caliper diameter (L + W)/2 ≥ D mm (needs length_mm, width_mm).
    #[arg(long, value_name = "D")]
    pub endpoint_diameter: Option<f64>,
    /// Bootstrap replicates for the TGI and T/C confidence intervals (0 = none).
    #[arg(long, default_value_t = 2000, value_parser = super::parse_boot)]
    pub bootstrap_reps: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Skip the linear mixed model.
    #[arg(long)]
    pub no_lmm: bool,
    /// Add Bliss and HSA synergy tests of a combination arm against its component arms and
    /// the control: `COMBINATION=A,B` (repeatable), e.g. `--synergy 'A+B=A,B'`.
    #[arg(long, value_name = "COMBO=A,B")]
    pub synergy: Vec<String>,
    /// Test the hypotheses (and families) declared in this protocol's `[analysis]` instead of
    /// each arm vs control, so measured data get the family the study was sized for.
    #[arg(long, value_name = "PROTOCOL.toml")]
    pub hypotheses: Option<PathBuf>,
}

/// The analysis plan from `--hypotheses` and `--synergy`.
fn plan(args: &Args) -> anyhow::Result<analysis::HypothesisPlan> {
    let mut plan = match &args.hypotheses {
        None => analysis::HypothesisPlan::default(),
        Some(path) => {
            let loaded = crate::protocol::load(path)?;
            for w in &loaded.warnings {
                diag!("{w}");
            }
            let x = loaded.protocol.xenograft().with_context(|| {
                format!(
                    "{}: --hypotheses needs a xenograft protocol",
                    path.display()
                )
            })?;
            analysis::HypothesisPlan::from_protocol(x)
        }
    };
    for s in &args.synergy {
        let h = analysis::hypotheses::synergy_hypothesis(s).map_err(anyhow::Error::msg)?;
        plan.hypotheses.push(h);
    }
    Ok(plan)
}

/// Runs `xenoplan analyze`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.data)
        .with_context(|| format!("cannot read {}", args.data.display()))?;
    let file = args.data.display().to_string();
    let (ds, read_warnings) = analysis::csv_in::parse_dataset_with_warnings(&bytes, &file)?;
    for w in &read_warnings {
        diagln!("warning: {w}");
    }
    let control = match &args.control {
        Some(c) => c.clone(),
        None => {
            let mut arms: Vec<&str> = ds.rows.iter().map(|r| r.arm.as_str()).collect();
            arms.sort_unstable();
            arms.dedup();
            arms.iter()
                .find(|a| a.eq_ignore_ascii_case("vehicle") || a.eq_ignore_ascii_case("control"))
                .map(|a| a.to_string())
                .with_context(|| format!("no arm named `vehicle` or `control` in {file}; name the control arm with --control (arms: {})", arms.join(", ")))?
        }
    };
    for (name, v) in [
        ("--day", args.day),
        ("--endpoint-volume", args.endpoint_volume),
        ("--endpoint-fold", args.endpoint_fold),
        ("--endpoint-diameter", args.endpoint_diameter),
    ] {
        if let Some(v) = v
            && (!v.is_finite() || (name != "--day" && v <= 0.0))
        {
            anyhow::bail!("{name} must be a positive finite number, got {v}");
        }
    }
    // Bootstrap values are kept per arm and day for the percentile intervals.
    if args.bootstrap_reps > 1_000_000 {
        anyhow::bail!(
            "--bootstrap-reps {} is more than 1000000 (percentile CIs are stable long before)",
            args.bootstrap_reps
        );
    }
    let mut opt = AnalysisOptions::new(&control);
    opt.analysis_day = args.day;
    opt.bootstrap_reps = args.bootstrap_reps;
    opt.seed = args.seed;
    opt.run_lmm = !args.no_lmm;
    opt.plan = plan(&args)?;
    if let Some(v) = args.endpoint_volume {
        opt.endpoint = EndpointRule::Volume(v);
    } else if let Some(f) = args.endpoint_fold {
        opt.endpoint = EndpointRule::FoldBaseline(f);
    }
    if let Some(d) = args.endpoint_diameter {
        opt.burden.max_mean_diameter_mm = d;
    }
    let res = analysis::analyze(&ds, &opt)?;
    for w in &res.warnings {
        diagln!("warning: {w}");
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(crate::output::sanitized_stem(&args.data, "analysis"))
    });
    let _lock = begin_run(&out)?;
    let mut files = analysis::write_outputs(&res, &out)?;
    files.extend(analysis::plots::write_plots(&ds, &res, &opt, &out)?);
    let mut m = Manifest::new("analyze").with_input(&args.data, &bytes);
    m.seed = Some(opt.seed);
    m.parameters = serde_json::json!({
        "control": opt.control,
        "analysis_day": opt.analysis_day,
        "analysis_days_used": res.cohorts.iter().map(|c| serde_json::json!({"cohort": c.name, "day": c.analysis_day, "arms": c.arms, "n_control": c.n_control})).collect::<Vec<_>>(),
        "on_study_fraction": opt.on_study_fraction,
        "endpoint": opt.endpoint.describe(),
        "bootstrap_reps": opt.bootstrap_reps,
        "log_floor_mm3": opt.log_floor_mm3,
        "response_min_day": opt.response_min_day,
        "lmm": opt.run_lmm,
        "definitions": analysis::definitions(),
    });
    m.files = files.clone();
    m.write(&out)?;
    for c in &res.cohorts {
        let measured = res
            .animals
            .iter()
            .filter(|a| {
                a.cohort == c.name
                    && a.arm == c.arms[0]
                    && a.at_analysis_day(c.analysis_day).is_some()
            })
            .count();
        if measured < 2 {
            diagln!(
                "warning: {measured} control animal(s){} measured on day {}; the single-day tests are undefined (choose a measurement day with --day)",
                if c.name.is_empty() {
                    String::new()
                } else {
                    format!(" of cohort {}", c.name)
                },
                c.analysis_day
            );
        }
        let label = if c.name.is_empty() {
            String::new()
        } else {
            format!("cohort {}: ", c.name)
        };
        let n: usize = res.animals.iter().filter(|a| a.cohort == c.name).count();
        outln!(
            "{label}{n} animals, arms {} (control {}), analysis day {}",
            c.arms.join(", "),
            c.arms[0],
            c.analysis_day
        );
        let tests: Vec<_> = res.tests.iter().filter(|t| t.cohort == c.name).collect();
        let w = tests
            .iter()
            .map(|t| t.comparison.chars().count())
            .max()
            .unwrap_or(0);
        for t in tests {
            outln!(
                "  {:<w$}  {:<10} p = {:<10} p_adj = {}",
                t.comparison,
                t.key.as_str(),
                fmt_p(t.p_value),
                fmt_p(t.p_adjusted)
            );
        }
    }
    outln!("wrote {} files to {}", files.len() + 1, out.display());
    Ok(())
}

fn fmt_p(p: f64) -> String {
    if !p.is_finite() {
        "NA".into()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}
