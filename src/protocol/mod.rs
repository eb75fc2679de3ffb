//! Protocols: the TOML file format ([`schema`]), validation with positioned diagnostics, and
//! the validated [`domain`] types every engine consumes.
//!
//! `load(path)` → `Result<Loaded, Diagnostics>`: parse the TOML, convert the file schema into
//! domain values while collecting every error and warning (each with `path:line:col`, the
//! source line and a caret), then fail once if any error was found.

pub mod domain;

pub use domain::*;
