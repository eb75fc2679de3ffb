//! Reading pilot data for `fit`: the tidy `animals.csv` layout and the wide
//! `volumes_wide.csv` layout, detected from the header.
//!
//! **Wide layout** (day rows, one column per animal, as pasted from Prism/Excel):
//! - the first column is `day` (or `study_day`), one row per measurement day;
//! - each other column is one animal. Its arm is found, in this order:
//!   1. from the header cell: `COHORT | ARM | ANIMAL` or `ARM | ANIMAL` (the layout
//!      `xenoplan simulate` writes), or `ARM:ANIMAL` (split at the last `:`), e.g. `vehicle:A01`;
//!   2. from a second header row: when the first cell of row 2 is not a number (typically
//!      empty or `animal`), row 1 holds the arm names and row 2 the animal ids; an empty arm
//!      cell repeats the arm to its left (merged or grouped header cells export that way);
//!   3. otherwise every animal is in one unnamed arm and the header is its id.
//! - cells: a volume in mm³ (`0` = not palpable); empty, `NA`, `NaN` or `.` = not measured.
//! - trailing columns with an empty header (spreadsheet exports add them) are ignored; a
//!   value under one is an error. A day row repeated for an animal is counted once when the
//!   readings are identical (a warning) and is an error naming both lines when they differ.
//!
//! The tidy layout is read by [`crate::analysis::parse_dataset`]. Both layouts name a bad row
//! by its line number and column.

use crate::data::{Dataset, Observation};
use std::path::{Path, PathBuf};

/// Errors while reading a data file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    // The cause is in the message, not a `source()` (the CLI's `{:#}` would repeat it).
    #[error("cannot read {}: {error}", path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause (in the message).
        error: std::io::Error,
    },
    /// Malformed CSV (quotes, encoding).
    #[error("{path}: line {line}: {message}")]
    Csv {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Cause.
        message: String,
    },
    /// Header problem (missing required column, duplicates).
    #[error("{path}: line 1: {message}")]
    Header {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The tidy reader's error (file, line, column).
    #[error(transparent)]
    Tidy(#[from] crate::analysis::AnalysisError),
    /// A cell that cannot be read.
    #[error("{path}: line {line}, column `{column}`: {message} (got `{value}`)")]
    Cell {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Column header.
        column: String,
        /// Cell text.
        value: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads `path` in either layout.
pub fn read_file(path: &Path) -> Result<Dataset, ReadError> {
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    read_bytes(path, &bytes)
}

/// Parses CSV bytes (`path` is used in messages only).
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Result<Dataset, ReadError> {
    read_bytes_with_warnings(path, bytes).map(|(d, _)| d)
}

/// [`read_bytes`] plus warnings (identical repeated readings of an animal on a day, counted
/// once; repeats that disagree are an error naming both lines).
pub fn read_bytes_with_warnings(
    path: &Path,
    bytes: &[u8],
) -> Result<(Dataset, Vec<String>), ReadError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut records: Vec<(u64, Vec<String>)> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ReadError::Csv {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let cells: Vec<String> = rec
            .iter()
            .map(|c| crate::output::unescape_cell(c.trim_start_matches('\u{feff}')).to_string())
            .collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        records.push((line, cells));
    }
    let Some((_, header)) = records.first() else {
        return Err(ReadError::Header {
            path: path.to_path_buf(),
            message: "the file is empty".into(),
        });
    };
    let lower: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    if lower.iter().any(|h| h == "animal_id") {
        // The tidy layout is the analysis module's reader (one definition for analyze and fit).
        Ok(crate::analysis::csv_in::parse_dataset_with_warnings(
            bytes,
            &path.display().to_string(),
        )?)
    } else if matches!(lower.first().map(String::as_str), Some("day" | "study_day")) {
        read_wide(path, &records)
    } else {
        Err(ReadError::Header {
            path: path.to_path_buf(),
            message: "unknown layout: expected a tidy header with `animal_id,arm,day,volume_mm3` (or `length_mm,width_mm`) or a wide header starting with `day`".into(),
        })
    }
}

fn is_missing(s: &str) -> bool {
    s.is_empty() || s.eq_ignore_ascii_case("na") || s.eq_ignore_ascii_case("nan") || s == "."
}

fn cell_err(path: &Path, line: u64, column: &str, value: &str, message: &str) -> ReadError {
    ReadError::Cell {
        path: path.to_path_buf(),
        line,
        column: column.to_string(),
        value: value.to_string(),
        message: message.to_string(),
    }
}

/// A non-negative finite number, or `None` for a missing cell.
fn measure(path: &Path, line: u64, column: &str, s: &str) -> Result<Option<f64>, ReadError> {
    if is_missing(s) {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        Ok(_) => Err(cell_err(
            path,
            line,
            column,
            s,
            "expected a finite number ≥ 0",
        )),
        Err(_) => Err(cell_err(path, line, column, s, "not a number")),
    }
}

fn day_value(path: &Path, line: u64, column: &str, s: &str) -> Result<f64, ReadError> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(cell_err(
            path,
            line,
            column,
            s,
            "expected the study day as a number",
        )),
    }
}

fn read_wide(
    path: &Path,
    records: &[(u64, Vec<String>)],
) -> Result<(Dataset, Vec<String>), ReadError> {
    let header = &records[0].1;
    let two_rows_guess = records
        .get(1)
        .is_some_and(|(_, r)| r.first().is_none_or(|c| c.parse::<f64>().is_err()));
    // Trailing columns with no header (Excel exports a few empty columns past the data) are
    // not animals; a value under such a column is an error below.
    let mut ncol = header.len();
    while ncol > 1
        && header[ncol - 1].is_empty()
        && (!two_rows_guess || records[1].1.get(ncol - 1).is_none_or(|c| c.is_empty()))
    {
        ncol -= 1;
    }
    let header = &header[..ncol];
    if ncol < 2 {
        return Err(ReadError::Header {
            path: path.to_path_buf(),
            message: "the wide layout needs a `day` column and at least one animal column".into(),
        });
    }
    let two_rows = two_rows_guess;
    // (cohort, arm, animal id) per animal column.
    let mut animals: Vec<(String, String, String)> = Vec::with_capacity(ncol - 1);
    let mut current_arm = String::new();
    for (j, h) in header.iter().enumerate().skip(1) {
        let parts: Vec<&str> = h.split(" | ").map(str::trim).collect();
        let (cohort, arm, id) = if two_rows {
            if !h.is_empty() {
                current_arm = h.clone();
            }
            let id = records[1].1.get(j).cloned().unwrap_or_default();
            (String::new(), current_arm.clone(), id)
        } else if let [c, a, i] = parts[..] {
            (c.to_string(), a.to_string(), i.to_string())
        } else if let [a, i] = parts[..] {
            (String::new(), a.to_string(), i.to_string())
        } else if let Some((a, i)) = h.rsplit_once(':') {
            (String::new(), a.trim().to_string(), i.trim().to_string())
        } else {
            (String::new(), String::new(), h.clone())
        };
        if id.is_empty() {
            let line = if two_rows { records[1].0 } else { records[0].0 };
            return Err(ReadError::Header {
                path: path.to_path_buf(),
                message: format!("line {line}: column {} has no animal id", j + 1),
            });
        }
        if animals.iter().any(|(_, _, i)| *i == id) {
            return Err(ReadError::Header {
                path: path.to_path_buf(),
                message: format!("animal `{id}` appears in two columns"),
            });
        }
        animals.push((cohort, arm, id));
    }
    let body = if two_rows {
        &records[2..]
    } else {
        &records[1..]
    };
    let mut rows: Vec<(usize, u64, Observation)> = Vec::new();
    for (line, cells) in body {
        if let Some(extra) = cells.iter().skip(ncol).position(|c| !c.is_empty()) {
            return Err(ReadError::Csv {
                path: path.to_path_buf(),
                line: *line,
                message: format!(
                    "a value in column {} but the header has {ncol} columns",
                    ncol + extra + 1
                ),
            });
        }
        let day = day_value(path, *line, &header[0], &cells[0])?;
        for (j, (cohort, arm, id)) in animals.iter().enumerate() {
            let raw = cells.get(j + 1).map(String::as_str).unwrap_or("");
            let col = &header[j + 1];
            let column = if col.is_empty() || two_rows {
                id.as_str()
            } else {
                col.as_str()
            };
            let v = measure(path, *line, column, raw)?;
            rows.push((
                j,
                *line,
                Observation {
                    animal_id: id.clone(),
                    cohort: cohort.clone(),
                    arm: arm.clone(),
                    day,
                    length_mm: None,
                    width_mm: None,
                    volume_mm3: v,
                    body_weight_g: None,
                },
            ));
        }
    }
    // Rows of one animal together, in increasing day (the Dataset convention).
    rows.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.2.day.total_cmp(&b.2.day))
            .then(a.1.cmp(&b.1))
    });
    let mut lines: Vec<u64> = rows.iter().map(|r| r.1).collect();
    let mut rows: Vec<Observation> = rows.into_iter().map(|(_, _, o)| o).collect();
    let dups = crate::data::dedup_readings(&mut rows, &mut lines, &path.display().to_string())
        .map_err(|m| ReadError::Tidy(crate::analysis::AnalysisError::Data(m)))?;
    Ok((Dataset { rows }, dups.warnings))
}

#[cfg(test)]
mod tests;
