//! xenoplan: plan, simulate, analyze and size preclinical cancer studies.
//!
//! Modules are named after the domain:
//! - [`protocol`]: the TOML protocol format, its validation and the validated domain types;
//! - [`rng`]: the named, portable random generator and per-replicate streams;
//! - [`output`]: atomic file writing and `manifest.json`;
//! - [`plot`]: SVG + PNG figures with a bundled font;
//! - [`invitro`]: resistant-line derivation and dose-response assay simulation (4PL IC50);
//! - [`timeline`]: dated dry run (events, workload, resources, iCalendar, Gantt chart);
//! - [`fit`]: growth-model parameters and between-animal variability from pilot data;
//! - [`model`]: growth (exponential, logistic, Gompertz, Simeoni), PK and effect models;
//! - [`sim`]: the xenograft study engine (implantation to humane endpoints) for `simulate` and `power`;
//! - [`power`]: Monte Carlo power, analytic cross-check, arm size and animals to implant;
//! - [`cli`]: the command-line layer (clap stays here).

// `print!` panics on a closed pipe or a full device: the commands write through
// `cli::console` instead (tests may print).
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]
pub mod analysis;
pub mod cli;
pub mod estimate;
pub mod fit;
pub mod invitro;
pub mod model;
pub mod numeric;
pub mod output;
pub mod plot;
pub mod power;
pub mod protocol;
pub mod report;
pub mod rng;
pub mod sim;
pub mod study;
pub mod timeline;
