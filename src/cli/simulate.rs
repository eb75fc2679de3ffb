//! `xenoplan simulate FILE [--seed N] [--n-per-arm N] [--out DIR] [--start DATE]`: one
//! synthetic study, animal by animal, analysed exactly as `analyze` would (xenograft
//! protocols); a derivation or assay run for in vitro protocols.

use crate::analysis::{self, AnalysisOptions};
use crate::invitro::{self, InvitroOptions};
use crate::output::Manifest;
use crate::protocol::{self, Loaded, ProtocolKind};
use crate::sim::{Engine, SimOptions, StudyBuffer, StudyInfo, summary_text, write_study};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `xenoplan simulate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  xenoplan simulate protocols/tamr_mcf7_xenograft.toml --seed 1 --out output/sim
  xenoplan simulate protocols/anastrozole_resistant_mcf7aro.toml --seed 1 --reps 200")]
pub struct Args {
    /// Protocol file (TOML).
    pub file: PathBuf,
    /// Random seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Animals per arm (overrides the protocol's `n`; implanted numbers are scaled).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub n_per_arm: Option<u32>,
    /// Output folder (default `output/<protocol-id>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Calendar date of the protocol's first day (YYYY-MM-DD); default Monday 2027-01-04.
    #[arg(long, value_parser = super::parse_start)]
    pub start: Option<jiff::civil::Date>,
    /// Bootstrap replicates for the TGI and T/C confidence intervals (0 = none).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub bootstrap_reps: u64,
    /// Skip the linear mixed model in the analysis.
    #[arg(long)]
    pub no_lmm: bool,
    /// In vitro derivations: number of replicate runs (time-to-resistance distribution).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub reps: u32,
    /// Worker threads for replicate runs (results do not depend on it).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
}

impl Args {
    /// Default arguments for `file` (used by `report`).
    pub fn for_file(file: PathBuf, seed: u64, out: PathBuf) -> Self {
        Args {
            file,
            seed,
            n_per_arm: None,
            out: Some(out),
            start: None,
            bootstrap_reps: 2000,
            no_lmm: false,
            reps: 1,
            threads: None,
        }
    }
}

/// Runs `xenoplan simulate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = protocol::load(&args.file)?;
    for w in &loaded.warnings {
        diag!("{w}");
    }
    let text = execute(&args, &loaded)?;
    // A closed stdout (e.g. `| head`) must not panic: the files are already written.
    let _ = write!(std::io::stdout().lock(), "{text}");
    Ok(())
}

/// Simulates `loaded` with `args`, writes every file and returns the text `simulate` prints.
pub fn execute(args: &Args, loaded: &Loaded) -> anyhow::Result<String> {
    let p = &loaded.protocol;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&p.id));
    // A procedure has nothing to simulate: refuse before touching the folder's manifest.
    let _lock = match p.kind() {
        ProtocolKind::Procedure => None,
        _ => Some(crate::output::begin_run(&dir)?),
    };
    match p.kind() {
        ProtocolKind::Xenograft => {}
        ProtocolKind::Derivation | ProtocolKind::Assay => {
            let opts = InvitroOptions {
                seed: args.seed,
                reps: args.reps,
                threads: args.threads.map(|t| t as usize),
                protocol_path: Some(args.file.clone()),
            };
            let report = invitro::simulate_to_dir(p, &opts, &dir)
                .with_context(|| args.file.display().to_string())?;
            return Ok(format!("{report}"));
        }
        ProtocolKind::Procedure => anyhow::bail!(
            "{}: `{}` is a procedure (step schedule): nothing to simulate; use `xenoplan timeline`",
            args.file.display(),
            p.id
        ),
    }
    let mut opts = SimOptions::default();
    if let Some(d) = args.start {
        opts.start = d;
    }
    let engine = Engine::new(p, &opts).with_context(|| args.file.display().to_string())?;
    let size = crate::estimate::simulate(&engine, args.n_per_arm.map(|n| n as usize));
    if let Some(line) = crate::estimate::note("simulate", &size) {
        diagln!("{line}");
    }
    let mut buf = StudyBuffer::new(&engine);
    let n = args.n_per_arm.map(|n| n as usize);
    // One stream per study: (seed, [0]); `power` uses (seed, [n, replicate]).
    engine.simulate(&mut crate::rng::stream(args.seed, &[0]), n, &mut buf)?;

    let info = StudyInfo {
        title: p.id.clone(),
        seed: args.seed,
    };
    let mut files = write_study(&engine, &buf, &info, &dir)?;

    // The analysis reads back the animals.csv just written, so `xenoplan analyze` on that file
    // (with the options recorded in the manifest) reproduces these tables byte for byte.
    let x = p.xenograft().context("xenograft body")?;
    let control = x
        .cohorts
        .first()
        .map(|c| c.control().name.clone())
        .unwrap_or_default();
    if let Some(c) = x.cohorts.iter().find(|c| c.control().name != control) {
        anyhow::bail!(
            "{}: cohort `{}` has control arm `{}` but the first cohort's is `{control}`; the analysis needs one control name for all cohorts",
            args.file.display(),
            c.name,
            c.control().name
        );
    }
    let animals = dir.join("animals.csv");
    let bytes = std::fs::read(&animals)
        .with_context(|| format!("cannot read back {}", animals.display()))?;
    let ds = analysis::parse_dataset(&bytes, &animals.display().to_string())?;
    let mut aopt = AnalysisOptions::new(&control);
    aopt.analysis_day = x.analysis.analysis_day;
    aopt.set_protocol_endpoints(&x.endpoints);
    // The protocol's hypotheses and families: the same tests.csv family `power` sized.
    aopt.plan = analysis::HypothesisPlan::from_protocol(x);
    aopt.bootstrap_reps = args.bootstrap_reps as usize;
    aopt.seed = args.seed;
    aopt.run_lmm = !args.no_lmm;
    let res = analysis::analyze(&ds, &aopt)?;
    for w in &res.warnings {
        diagln!("warning: {w}");
    }
    files.extend(analysis::write_outputs(&res, &dir)?);
    files.extend(analysis::plots::write_plots_with(
        &ds, &res, &aopt, &dir, false,
    )?);

    let mut m = Manifest::new("simulate").with_input(&args.file, &loaded.bytes);
    m.protocol_id = Some(p.id.clone());
    m.seed = Some(args.seed);
    let cohorts: Vec<serde_json::Value> = (0..engine.cohort_count())
        .map(|c| {
            let o = buf.cohort(c);
            serde_json::json!({
                "cohort": engine.cohort_name(c),
                "implanted": o.implanted,
                "takes": o.takes,
                "eligible": o.eligible,
                "enrolled": o.enrolled,
                "excluded_not_eligible": o.not_eligible,
                "excluded_overgrown": o.overgrown,
                "not_selected": o.not_selected,
                "filled_day_since_implantation": o.filled_day,
                "enrollment_day_since_implantation": o.enrollment_day,
                "arms": (0..engine.arm_count(c)).map(|a| serde_json::json!({"arm": engine.arm_name(c, a), "n": buf.n_enrolled(c, a)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    m.parameters = serde_json::json!({
        "n_per_arm": args.n_per_arm,
        "start_date": opts.start.to_string(),
        "rng_stream": [args.seed, 0],
        "rk4_step_days": opts.step_days,
        "rk4_exposure_step_days": opts.exposure_step_days,
        "cohorts": cohorts,
        "analysis": {
            "control": aopt.control,
            "analysis_day": aopt.analysis_day,
            "analysis_days_used": res.cohorts.iter().map(|c| serde_json::json!({"cohort": c.name, "day": c.analysis_day})).collect::<Vec<_>>(),
            "endpoint": aopt.endpoint.describe(),
            "bootstrap_reps": aopt.bootstrap_reps,
            "bootstrap_seed": aopt.seed,
            "lmm": aopt.run_lmm,
            "definitions": analysis::definitions(),
        },
    });
    files.push("manifest.json".into());
    m.files = files.clone();
    m.write(&dir)?;

    let mut text = summary_text(&engine, &buf);
    for c in &res.cohorts {
        let tests: Vec<_> = res
            .tests
            .iter()
            .filter(|t| {
                t.cohort == c.name
                    && t.key == crate::protocol::TestKey::WelchLog
                    && !t.family.is_empty()
            })
            .collect();
        if !tests.is_empty() {
            text.push_str(&format!(
                "Welch t-test on ln V at day {} (control {}){}:\n",
                c.analysis_day,
                control,
                if c.name.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.name)
                }
            ));
            for t in tests {
                text.push_str(&format!(
                    "  {:<40} p = {:.3e}  adjusted p = {:.3e} ({}, family {})\n",
                    t.comparison, t.p_value, t.p_adjusted, t.adjustment, t.family
                ));
            }
        }
    }
    text.push_str(&format!(
        "wrote {} files to {}\n",
        files.len(),
        dir.display()
    ));
    Ok(text)
}
