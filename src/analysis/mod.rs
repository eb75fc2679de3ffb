//! Analysis of tumor-volume measurements (simulated or real): summaries, TGI and T/C,
//! rate-based T/C, mRECIST, statistical tests and time to endpoint.
//!
//! [`analyze`] computes every table from a [`Dataset`] in one call (used by `analyze`,
//! `simulate` and, with `bootstrap_reps = 0`, inside `power`'s Monte Carlo loop);
//! [`write_outputs`] writes the CSV files, [`plots`] the figures.

pub mod compare;
pub mod csv_in;
pub mod hypotheses;
pub mod panel;
mod pipeline;
pub mod plots;
pub mod stats;
mod write;

pub use csv_in::{parse_dataset, read_dataset};
pub use hypotheses::HypothesisPlan;
pub use pipeline::*;
pub use write::{definitions, write_outputs};

/// Errors of the analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The data file could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// File.
        path: String,
        /// OS message.
        message: String,
    },
    /// A cell or row of the CSV is unreadable.
    #[error("{file}:{line}: column `{column}`: {message}")]
    Csv {
        /// File.
        file: String,
        /// 1-based line (header = 1).
        line: u64,
        /// Column name (empty when the whole row is unreadable).
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The data cannot be analyzed as asked (no control arm, no animals…).
    #[error("{0}")]
    Data(String),
    /// Writing outputs failed.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// Drawing a figure failed.
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
}

#[cfg(test)]
mod tests;
