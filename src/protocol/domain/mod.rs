//! Validated domain types. The only way to obtain a [`Protocol`] is through
//! `protocol::load` / `protocol::parse`, which validates the file; engines (timeline,
//! simulator, in vitro, power, report) consume these types and never see the file schema.
//!
//! Units are in the names (`_days`, `_mm3`, `_nm`, `_h`, `_g`); every model parameter is a
//! [`Param`] or [`Sourced`] value that carries where its number comes from.

mod common;
mod hypothesis;
mod invitro;
mod panel;
mod procedure;
mod rules;
mod xenograft;

pub use common::*;
pub use hypothesis::*;
pub use invitro::*;
pub use panel::*;
pub use procedure::*;
pub use rules::*;
pub use xenograft::*;
