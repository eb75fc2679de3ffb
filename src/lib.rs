//! xenoplan: plan, simulate, analyze and size preclinical cancer studies.
//!
//! Modules are named after the domain and layered: a module reads only modules of lower
//! layers, so the graph of `crate::` uses between top-level modules has no cycle
//! (`tests/cli/structure.rs` parses the non-test code and checks every edge against this list).
//! Layers, lowest first:
//!
//! 1. [`rng`] (the named, portable random generator, per-replicate streams, the ziggurat
//!    normal), [`numeric`] (linear algebra, Nelder–Mead, quantiles, least squares, distribution
//!    tails), [`data`] (the tidy measurement table `animals.csv` and its per-visit summaries);
//! 2. [`output`]: atomic file writing, number formats and `manifest.json`;
//! 3. [`plot`]: SVG + PNG figures with a bundled font (draws what it is given);
//! 4. [`model`]: growth (exponential, logistic, Gompertz, Simeoni), PK, effect, schedule and
//!    event-time models;
//! 5. [`protocol`]: the TOML protocol format, its validation and the validated domain types;
//! 6. [`sim`] (the xenograft study engine, implantation to humane endpoints, for `simulate`
//!    and `power`), [`invitro`] (resistant-line derivation and dose-response assay simulation);
//! 7. [`analysis`]: TGI, T/C, mRECIST, statistical tests, survival, mixed model, synergy;
//! 8. [`fit`] (growth-model parameters and between-animal variability from pilot data),
//!    [`power`] (Monte Carlo power, analytic cross-check, arm size, animals to implant),
//!    [`design_check`] (design warnings for `check`), [`timeline`] (dated dry run: events,
//!    workload, resources, iCalendar, Gantt chart);
//! 9. [`estimate`]: run-size estimates printed before long runs;
//! 10. [`report`]: the self-contained HTML report page;
//! 11. [`study`]: the pipeline as library jobs (timeline, simulate, analyze, power, report)
//!     with typed results — what the CLI and `examples/pipeline.rs` call;
//! 12. [`campaign`]: several protocols linked into one dated timeline (dates each with
//!     `study::timeline`);
//! 13. [`cli`]: the command-line layer (clap stays here).

// `print!` panics on a closed pipe or a full device: the commands write through
// `cli::console` instead (tests may print).
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]
pub mod analysis;
pub mod campaign;
pub mod cli;
pub mod data;
pub mod design_check;
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
