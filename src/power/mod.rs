//! Sample-size planning: Monte Carlo power per comparison and endpoint, its closed-form
//! cross-check, the recommended arm size and the number of animals to implant.

pub mod assay;
pub mod assay_report;
pub mod assumed;
pub mod critical;
pub mod design;
pub mod engine;
pub mod fast;
pub mod justification;
pub mod nct;
pub mod panel;
pub mod panel_report;
#[cfg(test)]
pub mod testkit;
pub mod wilson;

pub use design::{Endpoint, EngineChoice, PowerError, Settings, parse_endpoint, parse_n_range};
pub use engine::{ReplicateModel, Tally};
pub use fast::{FastDesign, FastModel, Ineligible};
pub use units::{Unit, UnitPlan};
pub mod results;
pub mod scenario;
pub mod sim_path;
pub mod synergy;
pub mod units;

pub use results::{
    AnimalPlan, Losses, PowerResult, PowerRow, Recommendation, animal_plan, run_power,
};
#[cfg(test)]
pub(crate) mod tests;
