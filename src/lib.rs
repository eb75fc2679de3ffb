//! xenoplan: plan, simulate, analyze and size preclinical cancer studies.
//!
//! Modules are named after the domain, lowest layer first:
//! - [`rng`]: the named, portable random generator and per-replicate streams;
//! - [`numeric`]: shared numerics (linear algebra, Nelder–Mead, quantiles, least squares);
//! - [`output`]: atomic file writing, number formats and `manifest.json`;
//! - [`data`]: the tidy measurement table (`animals.csv`) and its per-visit summaries;
//! - [`plot`]: SVG + PNG figures with a bundled font (draws what it is given);
//! - [`protocol`]: the TOML protocol format, its validation and the validated domain types;
//! - [`model`]: growth (exponential, logistic, Gompertz, Simeoni), PK and effect models;
//! - [`sim`]: the xenograft study engine (implantation to humane endpoints) for `simulate` and `power`;
//! - [`analysis`]: TGI, T/C, mRECIST, statistical tests, survival, mixed model, synergy;
//! - [`fit`]: growth-model parameters and between-animal variability from pilot data;
//! - [`power`]: Monte Carlo power, analytic cross-check, arm size and animals to implant;
//! - [`invitro`]: resistant-line derivation and dose-response assay simulation (4PL IC50);
//! - [`timeline`]: dated dry run (events, workload, resources, iCalendar, Gantt chart);
//! - [`estimate`]: run-size estimates printed before long runs;
//! - [`report`]: the self-contained HTML report page;
//! - [`study`]: the pipeline as library jobs (timeline, simulate, analyze, power, report)
//!   with typed results — what the CLI and `examples/pipeline.rs` call;
//! - [`cli`]: the command-line layer (clap stays here).

// `print!` panics on a closed pipe or a full device: the commands write through
// `cli::console` instead (tests may print).
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]
pub mod analysis;
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

/// The lower layers stay below the domain modules: `plot` draws what it is given (it reads
/// only `data` and `output`), `data` and `numeric` read no other module.
#[cfg(test)]
mod layering {
    /// `crate::` paths named in the non-comment code of every `.rs` file under `src/dir`.
    fn crate_paths(dir: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack = vec![
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src")
                .join(dir),
        ];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("src folder").flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let text = std::fs::read_to_string(&p).expect("source file");
                for line in text.lines() {
                    let code = line.split("//").next().unwrap_or("");
                    for part in code.split("crate::").skip(1) {
                        let m: String = part
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '{')
                            .collect();
                        out.push((p.display().to_string(), m));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn plot_data_and_numeric_import_no_domain_module() {
        for (dir, allowed) in [
            ("plot", &["plot", "data", "output"][..]),
            ("data", &["data"][..]),
            ("numeric", &["numeric"][..]),
        ] {
            for (file, m) in crate_paths(dir) {
                assert!(
                    allowed.contains(&m.as_str()),
                    "{file} names crate::{m}; `{dir}` may read only {allowed:?}"
                );
            }
        }
    }
}
