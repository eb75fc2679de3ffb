//! `xenoplan simulate FILE [--seed N] [--n-per-arm N] [--out DIR] [--start DATE]`: one
//! synthetic study, animal by animal (xenograft protocols; in vitro kinds are handled by the
//! in vitro module).

use crate::output::Manifest;
use crate::protocol::{self, ProtocolKind};
use crate::sim::{Engine, SimOptions, StudyBuffer, StudyInfo, summary_text, write_study};
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `xenoplan simulate`.
#[derive(Debug, clap::Args)]
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
    #[arg(long)]
    pub start: Option<jiff::civil::Date>,
}

/// Runs `xenoplan simulate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = protocol::load(&args.file)?;
    for w in &loaded.warnings {
        eprint!("{w}");
    }
    let p = &loaded.protocol;
    match p.kind() {
        ProtocolKind::Xenograft => {}
        // Wired by the lead to the in vitro module.
        ProtocolKind::Derivation | ProtocolKind::Assay => anyhow::bail!(
            "{}: in vitro simulation: see invitro module",
            args.file.display()
        ),
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
    let mut buf = StudyBuffer::new(&engine);
    let n = args.n_per_arm.map(|n| n as usize);
    // One stream per study: (seed, [0]); `power` uses (seed, [n, replicate]).
    engine.simulate(&mut crate::rng::stream(args.seed, &[0]), n, &mut buf)?;

    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&p.id));
    let info = StudyInfo {
        title: p.title.clone(),
        seed: args.seed,
    };
    let mut files = write_study(&engine, &buf, &info, &dir)?;

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
    });
    files.push("manifest.json".into());
    m.files = files.clone();
    m.write(&dir)?;

    print!("{}", summary_text(&engine, &buf));
    println!("wrote {} files to {}", files.len(), dir.display());
    Ok(())
}
