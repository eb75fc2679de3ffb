//! xenoplan: plan, simulate, analyze and size preclinical cancer studies.
//!
//! Modules are named after the domain:
//! - [`protocol`]: the TOML protocol format, its validation and the validated domain types;
//! - [`rng`]: the named, portable random generator and per-replicate streams;
//! - [`output`]: atomic file writing and `manifest.json`;
//! - [`plot`]: SVG + PNG figures with a bundled font;
//! - [`fit`]: growth-model parameters and between-animal variability from pilot data;
//! - [`cli`]: the command-line layer (clap stays here).

pub mod analysis;
pub mod cli;
pub mod fit;
pub mod output;
pub mod plot;
pub mod protocol;
pub mod rng;
