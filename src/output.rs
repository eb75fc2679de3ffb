//! Writing results: atomic files (temp file + rename) and `manifest.json`.
//!
//! An interrupted run must never leave a truncated CSV, so every output goes through
//! [`write_atomic`]: the bytes are written to a hidden temporary file in the same directory,
//! flushed, then renamed over the target (rename is atomic within one filesystem).

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors while writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Path that failed.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A CSV record could not be serialized.
    #[error("cannot format CSV for {path}: {message}")]
    Csv {
        /// Path being written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and parents) if needed.
pub fn ensure_dir(dir: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))
}

/// Writes `bytes` to `path` atomically, creating parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(OutputError::Io {
            path: path.to_path_buf(),
            source: e,
        });
    }
    Ok(())
}

/// Serializes rows into CSV bytes (header from the struct's field names) and writes them
/// atomically. Floats are written by `csv`/`serde` with `.` as decimal separator.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), OutputError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| OutputError::Csv {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    let bytes = w.into_inner().map_err(|e| OutputError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

/// Writes a CSV from an explicit header and string rows (for layouts with dynamic columns such
/// as `volumes_wide.csv`).
pub fn write_csv_rows<H: AsRef<str>>(
    path: &Path,
    header: &[H],
    rows: &[Vec<String>],
) -> Result<(), OutputError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| OutputError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    w.write_record(header.iter().map(|h| h.as_ref()))
        .map_err(csv_err)?;
    for r in rows {
        w.write_record(r).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| OutputError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

/// Formats a float for CSV with a fixed number of decimals; non-finite values become empty
/// cells (Prism, Excel, R and pandas all read an empty cell as missing).
pub fn fmt_f(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        String::new()
    }
}

/// A value for people to read (protocol summaries in `show` and the report, the sample-size
/// justification, timeline labels): four significant digits with trailing zeros trimmed
/// (175, 0.09902, 12346), scientific notation outside [1e-3, 1e5) with a trimmed mantissa
/// (5e6, 1.235e-4); "0" for zero; "NaN" / "inf" spelled out. CSV cells use [`fmt_f`].
pub fn fmt_value(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if x == 0.0 {
        return "0".into();
    }
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    let a = x.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{x:.3e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{exp}", trim(mantissa.to_string()));
    }
    let mag = a.log10().floor() as i32;
    let dec = (3 - mag).max(0) as usize;
    let s = trim(format!("{x:.dec$}"));
    if s == "-0" { "0".into() } else { s }
}

/// Lowercase hex SHA-256 of bytes (recorded in manifests for protocol files).
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `manifest.json` written beside every output (../shared/CONTRACT.md): tool version,
/// protocol id and sha256, seed, RNG algorithm, the full command line and the parameters used.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// `xenoplan` version.
    pub tool_version: String,
    /// Subcommand that produced the outputs.
    pub command: String,
    /// Full command line as invoked.
    pub command_line: Vec<String>,
    /// Protocol id, when a protocol was read.
    pub protocol_id: Option<String>,
    /// Protocol file path as given.
    pub protocol_path: Option<String>,
    /// SHA-256 of the protocol (or input data) file bytes.
    pub input_sha256: Option<String>,
    /// Seed used, if the command is random.
    pub seed: Option<u64>,
    /// Generator name and seeding scheme.
    pub rng_algorithm: String,
    /// Parameters actually used (command-specific JSON).
    pub parameters: serde_json::Value,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
}

impl Manifest {
    /// A manifest for `command`, with tool version, command line and RNG name filled in.
    pub fn new(command: &str) -> Self {
        Manifest {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            command: command.to_string(),
            command_line: std::env::args().collect(),
            protocol_id: None,
            protocol_path: None,
            input_sha256: None,
            seed: None,
            rng_algorithm: crate::rng::RNG_ALGORITHM.to_string(),
            parameters: serde_json::Value::Null,
            files: Vec::new(),
        }
    }

    /// Records the input file and its hash.
    pub fn with_input(mut self, path: &Path, bytes: &[u8]) -> Self {
        self.protocol_path = Some(path.display().to_string());
        self.input_sha256 = Some(sha256_hex(bytes));
        self
    }

    /// Writes `manifest.json` into `dir` atomically.
    ///
    /// The command line is excluded from byte-identity checks by design: it is the only field
    /// that legitimately differs between two runs with the same seed (e.g. `--threads`).
    pub fn write(&self, dir: &Path) -> Result<(), OutputError> {
        let mut files = self.files.clone();
        files.sort();
        let m = Manifest {
            files,
            ..self.clone()
        };
        let json = serde_json::to_string_pretty(&m).unwrap_or_else(|_| "{}".into());
        write_atomic(&dir.join("manifest.json"), format!("{json}\n").as_bytes())
    }
}

#[cfg(test)]
#[path = "tests/output.rs"]
mod tests;
