//! Writing results: atomic files (temp file + rename), output folders as transactions, and
//! `manifest.json`.
//!
//! An interrupted run must never leave a truncated CSV, so every output goes through
//! [`write_atomic`]: the bytes are written to a hidden temporary file in the same directory
//! (created with O_EXCL under an unpredictable name, so a planted symlink is never followed),
//! flushed, then renamed over the target (rename is atomic within one filesystem).
//!
//! A folder is a transaction ([`begin_run`]): the run takes an exclusive lock on
//! `DIR/.xenoplan.lock` (a second concurrent run into `DIR` is refused), removes the old
//! `manifest.json` first, cleans temp files left by killed runs, and writes the new manifest
//! last with `complete: true`. So a folder either has no manifest (a run was killed or failed)
//! or a manifest that describes the files of the run that wrote it.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors while writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file or directory could not be written.
    // The OS error is in the message and deliberately not a `source()`: the CLI prints
    // errors with `{:#}` (the whole chain), so a source would repeat it ("File exists (os
    // error 17): File exists (os error 17)").
    #[error("cannot write {}: {error}", path.display())]
    Io {
        /// Path that failed.
        path: PathBuf,
        /// Underlying error (in the message).
        error: std::io::Error,
    },
    /// Another run holds the folder's lock.
    #[error(
        "{} is in use by another xenoplan run (lock {}); wait for it to finish or choose another --out",
        dir.display(),
        dir.join(LOCK_NAME).display()
    )]
    Locked {
        /// The output folder.
        dir: PathBuf,
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
    move |error| OutputError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Creates `dir` (and parents) if needed.
pub fn ensure_dir(dir: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))
}

/// Name of the lock file inside an output folder.
pub const LOCK_NAME: &str = ".xenoplan.lock";
/// Suffix of [`write_atomic`]'s temp files (the stale-temp cleanup matches it).
const TMP_SUFFIX: &str = ".xenoplan-tmp";

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
    // tempfile opens with O_CREAT|O_EXCL under a random name: no clobbering, no symlink
    // following, no guessable path. The file is removed if anything below fails.
    let result = (|| {
        let mut f = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(TMP_SUFFIX)
            .tempfile_in(dir)?;
        f.write_all(bytes)?;
        f.as_file().sync_all()?;
        f.persist(path).map_err(|e| e.error)?;
        Ok(())
    })();
    result.map_err(|error| OutputError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Output folders locked by this process (so nested stages of `report` share the lock).
static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// The lock on an output folder for the duration of a run; see the module docs.
#[derive(Debug)]
pub struct RunLock {
    /// `Some` for the outermost holder in this process, which releases the lock on drop.
    held: Option<(PathBuf, std::fs::File)>,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        if let Some((dir, _file)) = self.held.take()
            && let Ok(mut held) = HELD.lock()
        {
            held.retain(|d| d != &dir);
        }
        // The OS releases the flock when `_file` closes; the lock file itself stays, because
        // removing it would let two later runs lock two different files.
    }
}

/// Starts a run writing into `dir`: creates it, takes its lock (refusing a concurrent run),
/// removes the previous `manifest.json` and cleans temp files left by killed runs.
/// Re-entrant within one process (the stages of `report`).
pub fn begin_run(dir: &Path) -> Result<RunLock, OutputError> {
    ensure_dir(dir)?;
    let key = std::fs::canonicalize(dir).map_err(io_err(dir))?;
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    let lock = if held.contains(&key) {
        RunLock { held: None }
    } else {
        let lock_path = dir.join(LOCK_NAME);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(OutputError::Locked {
                    dir: dir.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        held.push(key.clone());
        RunLock {
            held: Some((key, file)),
        }
    };
    drop(held);
    discard_manifest(dir)?;
    clean_stale_temps(dir)?;
    Ok(lock)
}

/// Removes `dir/manifest.json` if present, so the folder no longer claims to be complete.
pub fn discard_manifest(dir: &Path) -> Result<(), OutputError> {
    let m = dir.join("manifest.json");
    match std::fs::remove_file(&m) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&m)(e)),
        _ => Ok(()),
    }
}

/// Removes temp files of killed runs in `dir` and its direct subfolders (`plots/`): ours
/// (`.NAME.XXXXXX.xenoplan-tmp`) and the older `.NAME.tmp-PID` form. Only called under the
/// folder's lock, so no live run owns them.
fn clean_stale_temps(dir: &Path) -> Result<(), OutputError> {
    let is_temp = |n: &str| {
        n.starts_with('.')
            && (n.ends_with(TMP_SUFFIX)
                || n.rsplit_once(".tmp-").is_some_and(|(_, pid)| {
                    !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
                }))
    };
    let mut dirs = vec![dir.to_path_buf()];
    let mut depth = 0;
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            if ft.is_dir() && depth == 0 && !name.starts_with('.') {
                dirs.push(e.path());
            } else if (ft.is_file() || ft.is_symlink()) && is_temp(&name) {
                std::fs::remove_file(e.path()).map_err(io_err(&e.path()))?;
            }
        }
        depth = 1;
    }
    Ok(())
}

/// First characters that make a spreadsheet read a cell as a formula (OWASP "CSV
/// injection"): `=`, `+`, `-`, `@`, tab and carriage return.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// A CSV cell made safe to open in a spreadsheet: a text cell starting with `=`, `+`, `-`,
/// `@`, tab or CR gets a leading `'` (the OWASP recommendation), so Excel / LibreOffice show
/// it as text instead of evaluating it (`=HYPERLINK(…)` in an arm name). Cells that are
/// numbers (`-12.5`, `-1e-3`, `-inf`) are never changed, so Prism, R and pandas still read
/// them as numbers. xenoplan's CSV readers remove the quote again ([`unescape_cell`]).
pub fn escape_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_START) && cell.parse::<f64>().is_err() {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The inverse of [`escape_cell`] for text cells read back (`'=x` → `=x`); other cells are
/// returned unchanged.
pub fn unescape_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) && rest.parse::<f64>().is_err() => rest,
        _ => cell,
    }
}

/// CSV bytes with every cell passed through [`escape_cell`] (our own, well-formed output is
/// re-read record by record; nothing is re-written when no cell needs it).
fn escape_csv(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, OutputError> {
    let csv_err = |e: csv::Error| OutputError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut records = Vec::new();
    let mut changed = false;
    for rec in rdr.records() {
        let rec = rec.map_err(csv_err)?;
        changed |= rec
            .iter()
            .any(|c| matches!(escape_cell(c), std::borrow::Cow::Owned(_)));
        records.push(rec);
    }
    if !changed {
        return Ok(bytes);
    }
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::with_capacity(bytes.len() + 16));
    for rec in &records {
        w.write_record(rec.iter().map(|c| escape_cell(c).into_owned()))
            .map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| OutputError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Serializes rows into CSV bytes (header from the struct's field names) and writes them
/// atomically. Floats are written by `csv`/`serde` with `.` as decimal separator; text cells
/// that a spreadsheet would run as a formula are quoted ([`escape_cell`]).
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
    write_atomic(path, &escape_csv(path, bytes)?)
}

/// Writes a CSV from an explicit header and string rows (for layouts with dynamic columns such
/// as `volumes_wide.csv`); cells pass through [`escape_cell`].
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
    w.write_record(header.iter().map(|h| escape_cell(h.as_ref()).into_owned()))
        .map_err(csv_err)?;
    for r in rows {
        w.write_record(r.iter().map(|c| escape_cell(c).into_owned()))
            .map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| OutputError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

/// A folder name derived from `path`'s file stem that is safe to join under `output/`:
/// letters, digits, `-`, `_` and `.` kept, anything else (separators, spaces, control
/// characters) replaced by `_`, leading dots removed (so `..csv` or `...csv` can never name
/// the current or parent folder), at most 100 characters; `fallback` when nothing is left.
pub fn sanitized_stem(path: &Path, fallback: &str) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned: String = cleaned.trim_start_matches('.').chars().take(100).collect();
    if cleaned.is_empty() {
        fallback.to_string()
    } else {
        cleaned
    }
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

/// `x` rounded to `digits` significant digits as a plain decimal (`.` separator, no
/// exponent, trailing zeros kept: 0.0990, 5.00, 123457), at most 12 decimals; "0" for zero and
/// an empty cell for a non-finite value (as [`fmt_f`]). The one significant-digit format: the
/// in vitro CSVs call it directly, [`fmt_sig_real`] builds on it.
pub fn fmt_sig(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return String::new();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - mag).clamp(0, 12) as usize;
    format!("{x:.decimals$}")
}

/// [`fmt_sig`] that always reads as a real number: a decimal point is kept (175.0, 0.0) and a
/// non-finite value is spelled "nan" — a valid TOML float, used by the `fit` fragment and by
/// the protocol messages that quote values in the same form.
pub fn fmt_sig_real(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "nan".into();
    }
    let s = fmt_sig(x, digits);
    if s.contains('.') { s } else { format!("{s}.0") }
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
    /// `true` once the run finished writing: the manifest is written last (see the module
    /// docs), so a folder with this manifest holds exactly the run it describes.
    pub complete: bool,
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
            complete: false,
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
            complete: true,
            ..self.clone()
        };
        let json = serde_json::to_string_pretty(&m).unwrap_or_else(|_| "{}".into());
        write_atomic(&dir.join("manifest.json"), format!("{json}\n").as_bytes())
    }
}

#[cfg(test)]
mod tests;
