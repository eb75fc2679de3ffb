//! `report`: one self-contained HTML page for a protocol — protocol summary, timeline,
//! simulated study with its analysis, power and sample-size justification, methods.
//!
//! The report composes from the files each command writes (CSV tables, SVG figures) so it
//! depends only on the user-facing contract of ../shared/CONTRACT.md, not on module internals.

pub mod build;
pub mod campaign;
pub mod html;
pub mod methods;
pub mod summary;
