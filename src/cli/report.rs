//! `xenoplan report`: timeline + simulation + analysis + power in one self-contained HTML page.
//!
//! Each stage runs through the same code as its own subcommand, writing into one folder; the
//! page is then assembled from those files (`report::build`). A failing stage is shown in the
//! report and makes the command exit with status 1 after the page is written.

use crate::cli::{power, simulate, timeline};
use crate::output::{Manifest, write_atomic};
use crate::protocol::{self, ProtocolKind};
use crate::report::build::{ReportInfo, build_page};
use anyhow::Context;
use jiff::civil::Date;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `xenoplan report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  xenoplan report protocols/tamr_mcf7_xenograft.toml
  xenoplan report protocols/amcenestrant_hci013_pdx.toml --seed 7 --reps 2000 --start 2027-03-01
  xenoplan report protocols/anastrozole_resistant_mcf7aro.toml --reps 200")]
pub struct Args {
    /// Protocol file (TOML).
    pub file: PathBuf,
    /// Seed of the simulation and power streams.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Replicates: simulated studies per n for power (xenograft), replicate derivations (in
    /// vitro). Default 500 for xenografts keeps the report to a few seconds (Wilson CI
    /// half-width ≤ 4.4 points); raise it for a final sizing.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=super::MAX_REPS))]
    pub reps: Option<u64>,
    /// Arm sizes evaluated by power: `A..B`, `N` or a list.
    #[arg(long = "n", default_value = "4,6,8,10,12")]
    pub n: String,
    /// Timeline start date (day 0 of the first phase), YYYY-MM-DD; default the next Monday.
    #[arg(long, value_parser = super::parse_start)]
    pub start: Option<Date>,
    /// Output folder (default `output/<protocol-id>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads for power and replicate runs (results do not depend on it).
    #[arg(long, value_parser = super::parse_threads)]
    pub threads: Option<usize>,
}

fn next_monday(today: Date) -> Date {
    let ahead = 7 - i64::from(today.weekday().to_monday_zero_offset());
    today
        .checked_add(jiff::Span::new().days(ahead))
        .unwrap_or(today)
}

/// Today's date, or the date of `SOURCE_DATE_EPOCH` when set (reproducible builds).
fn today() -> Date {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Reads a stage's `manifest.json` and removes it: until the report's own manifest is written
/// last, the folder must not carry a manifest that describes only one stage.
fn read_manifest(dir: &Path) -> anyhow::Result<serde_json::Value> {
    let v = std::fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    crate::output::discard_manifest(dir)?;
    Ok(v)
}

fn list_files(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            list_files(&p, base, out);
        } else if let Ok(rel) = p.strip_prefix(base) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if !rel.starts_with('.') && !rel.contains("/.") {
                out.push(rel);
            }
        }
    }
}

/// Runs `xenoplan report`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let t_all = Instant::now();
    let loaded = protocol::load(&args.file)?;
    for w in &loaded.warnings {
        diag!("{w}");
    }
    let p = &loaded.protocol;
    let kind = p.kind();
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&p.id));
    let date = today();
    let start = args.start.unwrap_or_else(|| next_monday(date));
    let mut info = ReportInfo {
        seed: args.seed,
        start: start.to_string(),
        date: date.to_string(),
        ..Default::default()
    };
    // Held across the stages (which re-enter it): a concurrent run into `dir` is refused.
    let _lock = crate::output::begin_run(&dir)?;
    let mut stage_manifests = serde_json::Map::new();
    // Wall-clock stage timings go to stderr, not into index.html or the manifest: two runs
    // with the same seed must give byte-identical files.
    let mut timings: Vec<(String, f64)> = Vec::new();

    // 1. Timeline (every kind).
    let t = Instant::now();
    let targs = timeline::Args {
        file: args.file.clone(),
        start: Some(start),
        out: Some(dir.clone()),
        holidays: Vec::new(),
        holidays_file: None,
        weekend: None,
        seed: args.seed,
        sims: 400,
        enrollment_yield: None,
    };
    match timeline::execute(&targs) {
        Ok(_) => {
            stage_manifests.insert("timeline".into(), read_manifest(&dir)?);
        }
        Err(e) => info.failures.push(("timeline".into(), format!("{e:#}"))),
    }
    timings.push(("timeline".into(), t.elapsed().as_secs_f64()));

    // 2. Simulation and analysis (xenograft, derivation, assay).
    if kind != ProtocolKind::Procedure {
        let t = Instant::now();
        let mut sargs = simulate::Args::for_file(args.file.clone(), args.seed, dir.clone());
        sargs.start = Some(start);
        sargs.threads = args.threads.map(|t| t as u64);
        if kind == ProtocolKind::Derivation {
            sargs.reps = u32::try_from(args.reps.unwrap_or(100))
                .unwrap_or(u32::MAX)
                .max(1);
        }
        match simulate::execute(&sargs, &loaded) {
            Ok(text) => {
                info.simulate_text = text
                    .lines()
                    .filter(|l| !l.starts_with("wrote "))
                    .collect::<Vec<_>>()
                    .join("\n");
                stage_manifests.insert("simulate".into(), read_manifest(&dir)?);
            }
            Err(e) => info.failures.push(("simulate".into(), format!("{e:#}"))),
        }
        timings.push(("simulation and analysis".into(), t.elapsed().as_secs_f64()));
    }

    // 3. Power (xenograft).
    if kind == ProtocolKind::Xenograft {
        let t = Instant::now();
        let reps = args.reps.unwrap_or(500);
        info.power_reps = reps as usize;
        let pargs = power::Args {
            file: args.file.clone(),
            n: args.n.clone(),
            reps,
            alpha: None,
            target: None,
            seed: args.seed,
            threads: args.threads,
            endpoint: Vec::new(),
            adjust: None,
            joint: false,
            no_crn: false,
            engine: "auto".into(),
            scenario: "expected".into(),
            start: Some(start),
            json: false,
            out: Some(dir.clone()),
        };
        match power::execute(&pargs) {
            Ok((result, out_dir)) => {
                let text = power::text_report(&result, &out_dir);
                // The recommendation and animal plan, without the per-n table (shown as CSV).
                let from = text.find("Recommended n per arm").unwrap_or(0);
                let summary: String = text[from..].replace(&result.justification, "");
                info.power_summary = summary
                    .lines()
                    .filter(|l| !l.starts_with("Wrote "))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .trim()
                    .to_string();
                info.justification = result.justification.clone();
                stage_manifests.insert("power".into(), read_manifest(&dir)?);
            }
            Err(e) => info.failures.push(("power".into(), format!("{e:#}"))),
        }
        timings.push(("power".into(), t.elapsed().as_secs_f64()));
    }

    timings.push((
        "total before page assembly".into(),
        t_all.elapsed().as_secs_f64(),
    ));
    for (stage, secs) in &timings {
        diagln!("timing: {stage}: {secs:.2} s");
    }
    let page = build_page(p, &dir, &info);
    let index = dir.join("index.html");
    write_atomic(&index, page.render().as_bytes())
        .with_context(|| format!("writing {}", index.display()))?;

    let mut m = Manifest::new("report").with_input(&args.file, &loaded.bytes);
    m.protocol_id = Some(p.id.clone());
    m.seed = Some(args.seed);
    m.parameters = serde_json::json!({
        "start": start.to_string(),
        "reps": args.reps,
        "n": args.n,
        "stages": stage_manifests,
        "failures": info.failures.iter().map(|(s, e)| serde_json::json!({"stage": s, "error": e})).collect::<Vec<_>>(),
    });
    let mut files = Vec::new();
    list_files(&dir, &dir, &mut files);
    files.retain(|f| f != "manifest.json");
    files.push("manifest.json".into());
    m.files = files;
    m.write(&dir)?;

    outln!(
        "wrote {} ({:.1} s)",
        index.display(),
        t_all.elapsed().as_secs_f64()
    );
    if !info.failures.is_empty() {
        let list = info
            .failures
            .iter()
            .map(|(s, e)| format!("{s}: {e}"))
            .collect::<Vec<_>>()
            .join("; ");
        anyhow::bail!("the report was written, but some stages failed: {list}");
    }
    Ok(())
}
