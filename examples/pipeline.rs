//! The whole study pipeline from Rust, without the CLI:
//! `cargo run --release --example pipeline [PROTOCOL] [OUT]`.
//!
//! Loads a bundled protocol (default `protocols/tamr_mcf7_xenograft.toml`), then runs the
//! library stages the subcommands run — timeline, simulate (with its analysis), analyze (the
//! simulated animals read back, as a user's measurements would be), power and the report —
//! each from a config struct, and prints figures taken from the typed results.
use std::path::PathBuf;
use xenoplan::study::{self, Observer};

/// Prints the stages' warnings and notes on stderr.
struct Stderr;

impl Observer for Stderr {
    fn note(&self, line: &str) {
        eprintln!("{line}");
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "protocols/tamr_mcf7_xenograft.toml".into()),
    );
    let out = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "output/example-pipeline".into()),
    );
    let loaded = xenoplan::protocol::load(&file)?;
    for w in &loaded.warnings {
        eprint!("{w}");
    }
    let start = "2027-01-04".parse()?;

    // 1. Timeline: dated events, workload, resources.
    let mut tl = study::timeline::TimelineJob::new(&loaded);
    tl.start = Some(start);
    tl.out = Some(out.join("timeline"));
    let tl = study::timeline::run(&tl, &Stderr)?;
    println!(
        "timeline: {} events over {} days",
        tl.timeline.events.len(),
        tl.timeline.last_day()
    );

    // 2. Simulate one study (xenograft: analysed as `analyze` would; in vitro: a run).
    let mut sim = study::simulate::SimulateJob::new(&loaded, 1, out.join("simulate"));
    sim.bootstrap_reps = 200;
    let sim = study::simulate::run(&sim, &Stderr)?;
    print!("{}", sim.summary());
    let study::simulate::SimulateRun::Xenograft(x) = &sim else {
        println!("(in vitro protocol: no animals to analyze or size)");
        return Ok(());
    };

    // 3. Analyze the simulated animals as measured data.
    let an = study::analyze::AnalyzeJob {
        data: x.out.join("animals.csv"),
        control: Some(x.control.clone()),
        out: Some(out.join("analyze")),
        bootstrap_reps: 200,
        seed: 1,
        lmm: true,
        ..Default::default()
    };
    let an = study::analyze::run(&an, &Stderr)?;
    let smallest = an
        .result
        .tests
        .iter()
        .filter(|t| t.p_value.is_finite())
        .min_by(|a, b| a.p_value.total_cmp(&b.p_value));
    if let Some(t) = smallest {
        println!(
            "analyze: {} tests; smallest p = {:.3e} ({}, {})",
            an.result.tests.len(),
            t.p_value,
            t.comparison,
            t.key.as_str()
        );
    }

    // 4. Power: recommended n per arm (few replicates: a quick look, not a final sizing).
    let mut pw = study::power::PowerJob::new(&loaded);
    pw.n = "4,8,12".into();
    pw.reps = 200;
    pw.out = Some(out.join("power"));
    let pw = study::power::run(&pw, &Stderr)?;
    for r in &pw.result.recommendations {
        match r.n_per_arm {
            Some(n) => println!("power: {} ({}): n = {n} per arm", r.comparison, r.endpoint),
            None => println!("power: {} ({}): not reached", r.comparison, r.endpoint),
        }
    }

    // 5. The report runs every stage into one folder and renders their results.
    let mut rep = study::report::ReportJob::new(&loaded);
    rep.reps = Some(100);
    rep.n = Some("4,8".into());
    rep.start = Some(start);
    rep.out = Some(out.join("report"));
    let rep = study::report::run(&rep, &Stderr)?;
    println!("report: {}", rep.index.display());
    for (stage, e) in &rep.failures {
        println!("  {stage} failed: {e}");
    }
    Ok(())
}
