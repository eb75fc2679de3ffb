//! The study pipeline as a library: one typed job per stage — [`timeline`], [`simulate`]
//! (xenograft and in vitro), [`analyze`], [`power`] and [`report`] — each run from Rust with
//! a config struct and returning a typed result.
//!
//! The CLI (`crate::cli`) only turns its arguments into these jobs and prints the results'
//! texts; the report runs the same jobs and renders their results, so no stage parses
//! another's printed output. Warnings and progress while a stage runs go to an [`Observer`]
//! (the CLI prints them on stderr; [`Quiet`] drops them).
//!
//! ```no_run
//! use xenoplan::study::{self, Quiet};
//! let loaded = xenoplan::protocol::load("protocols/tamr_mcf7_xenograft.toml".as_ref())?;
//! let job = study::simulate::SimulateJob::new(&loaded, 1, "output/sim".into());
//! let run = study::simulate::run(&job, &Quiet)?;
//! print!("{}", run.text());
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod analyze;
pub mod assay_power;
pub mod fit;
pub mod panel;
pub mod power;
pub mod report;
pub mod simulate;
pub mod timeline;

use std::path::PathBuf;

/// Receives what a running stage has to say before it returns: warnings and notes (one line
/// each, without the trailing newline) and replicate progress.
///
/// Lines are reported as they arise so a long run's size estimate is seen before the run,
/// not after it.
pub trait Observer: Sync {
    /// A warning or note line (the CLI prints it on stderr).
    fn note(&self, line: &str);
    /// Stage `label` is about to run `total` replicates.
    fn progress_start(&self, _label: &str, _total: u64) {}
    /// `k` more replicates are done.
    fn progress(&self, _k: u64) {}
    /// The replicates are done.
    fn progress_end(&self) {}
}

/// An [`Observer`] that drops every note (library use, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn note(&self, _line: &str) {}
}

/// `output/<id>/`, the default folder of every stage.
pub fn default_out(id: &str) -> PathBuf {
    PathBuf::from("output").join(id)
}

/// The time of `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
pub fn source_timestamp() -> jiff::Timestamp {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now)
}
