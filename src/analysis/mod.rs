//! Analysis of tumor-volume measurements (simulated or real): summaries, TGI and T/C,
//! mRECIST, statistical tests and time to endpoint.

pub mod data;
pub mod stats;

pub use data::{Dataset, Observation};
