//! Sample-size planning: Monte Carlo power per comparison and endpoint, its closed-form
//! cross-check, the recommended arm size and the number of animals to implant.

pub mod nct;
pub mod wilson;
