//! Command-line layer: clap parsing, one module per subcommand, errors mapped to exit codes.
//!
//! Exit codes (../shared/CONTRACT.md): 0 success, 1 invalid input or failed run, 2 usage error
//! (clap's default). The library never sees clap types; each command turns its `Args` into
//! library calls and prints results.

#[macro_use]
mod console;

mod analyze;
mod check;
mod fit;
mod list;
mod power;
mod report;
mod schema;
mod show;
mod simulate;
mod timeline;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Plan, simulate, analyze and size preclinical xenograft and in vitro cancer studies.
#[derive(Debug, Parser)]
#[command(name = "xenoplan", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "Examples:
  xenoplan report protocols/tamr_mcf7_xenograft.toml
  xenoplan check protocols/*.toml
  xenoplan timeline protocols/tamr_mcf7_xenograft.toml --start 2027-01-04
  xenoplan simulate protocols/tamr_mcf7_xenograft.toml --seed 1
  xenoplan power examples/p1_power.toml --n 3..15 --reps 20000
  xenoplan analyze output/tamr-mcf7-xenograft/animals.csv --control vehicle";

#[derive(Debug, Subcommand)]
enum Command {
    /// List the protocols in a folder (default: protocols/).
    List(list::Args),
    /// Parse and validate protocol files; report every problem.
    Check(check::Args),
    /// Print a readable summary of a protocol, every parameter with its source.
    Show(show::Args),
    /// Print the JSON Schema of the protocol file format.
    Schema(schema::Args),
    /// Dated dry run of a protocol: events, workload, resources, iCalendar, Gantt chart.
    Timeline(timeline::Args),
    /// Simulate one synthetic study (xenograft) or a derivation / assay run (in vitro).
    Simulate(simulate::Args),
    /// Analyze measured (or simulated) tumor volumes: TGI, T/C, mRECIST, tests, endpoints.
    Analyze(analyze::Args),
    /// Monte Carlo power per comparison and endpoint; recommended n per arm.
    Power(power::Args),
    /// Estimate growth-model parameters from pilot data; prints a protocol fragment.
    Fit(fit::Args),
    /// Timeline + simulation + analysis + power in one self-contained HTML report.
    Report(report::Args),
}

/// The commands' [`Observer`](crate::study::Observer): notes on stderr, a progress bar when
/// stderr is a terminal.
#[derive(Default)]
struct Console {
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl Console {
    fn with_bar(&self, f: impl FnOnce(&indicatif::ProgressBar)) {
        if let Ok(slot) = self.bar.lock()
            && let Some(pb) = slot.as_ref()
        {
            f(pb);
        }
    }
}

impl crate::study::Observer for Console {
    fn note(&self, line: &str) {
        diagln!("{line}");
    }
    fn progress_start(&self, label: &str, total: u64) {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return;
        }
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} {label} [{{bar:40}}] {{pos}}/{{len}} replicates ({{eta}})"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(pb);
        }
    }
    fn progress(&self, k: u64) {
        self.with_bar(|pb| pb.inc(k));
    }
    fn progress_end(&self) {
        self.with_bar(|pb| pb.finish_and_clear());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = None;
        }
    }
}

/// Largest `--reps` of `power` and `report` (README "Limits").
const MAX_REPS: u64 = 1_000_000;
/// Largest bootstrap size of `analyze --bootstrap-reps` and `fit --boot`.
const MAX_BOOT: usize = 100_000;
/// Largest `--threads`: beyond a few per core threads only add scheduling load.
const MAX_THREADS: usize = 256;
/// Earliest and latest `--start` year: the longest protocol (100 000 days) must still end
/// inside the calendar the timeline can represent.
const START_YEARS: std::ops::RangeInclusive<i16> = 1900..=2200;

/// `--threads` value: ≤ [`MAX_THREADS`] (0 is left to the command, which names it).
fn parse_threads(s: &str) -> Result<usize, String> {
    parse_bounded(s, 0, MAX_THREADS)
}

/// Bootstrap size: 0..=[`MAX_BOOT`].
fn parse_boot(s: &str) -> Result<usize, String> {
    parse_bounded(s, 0, MAX_BOOT)
}

fn parse_bounded(s: &str, min: usize, max: usize) -> Result<usize, String> {
    let v: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number"))?;
    if !(min..=max).contains(&v) {
        return Err(format!("{v} is not in {min}..={max}"));
    }
    Ok(v)
}

/// `--start` date, validated the same way by every command: YYYY-MM-DD with a year in
/// [`START_YEARS`].
fn parse_start(s: &str) -> Result<jiff::civil::Date, String> {
    let d = s
        .trim()
        .parse::<jiff::civil::Date>()
        .map_err(|e| format!("`{s}` is not a date YYYY-MM-DD ({e})"))?;
    if !START_YEARS.contains(&d.year()) {
        return Err(format!(
            "{d}: the start year must be between {} and {}",
            START_YEARS.start(),
            START_YEARS.end()
        ));
    }
    Ok(d)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            // A closed pipe (`--help | head -1`) is fine; a full device is a failed run.
            if let Err(w) = e.print()
                && w.kind() != std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::from(1);
            }
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let result = match cli.command {
        Command::List(a) => list::run(a),
        Command::Check(a) => check::run(a),
        Command::Show(a) => show::run(a),
        Command::Schema(a) => schema::run(a),
        Command::Timeline(a) => timeline::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Power(a) => power::run(a),
        Command::Fit(a) => fit::run(a),
        Command::Report(a) => report::run(a),
    };
    let failed = match result {
        Ok(()) => false,
        Err(e) => {
            diagln!("error: {e:#}");
            true
        }
    };
    // A write error on stdout/stderr (other than a closed pipe) fails an otherwise good run.
    if console::finish() || failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
