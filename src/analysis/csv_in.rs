//! Reading the `animals.csv` layout (../shared/CONTRACT.md) into a [`Dataset`].
//!
//! Required columns: `animal_id`, `arm`, `day`, and either `volume_mm3` or both `length_mm`
//! and `width_mm` (volume = L·W²/2 when only calipers are given, NCI convention). Optional:
//! `cohort`, `body_weight_g`, and when `volume_mm3` is present, `length_mm`/`width_mm` are kept
//! too. Column names are matched case-insensitively; other columns are ignored. Empty cells and
//! `NA`, `NaN`, `.`, `-` are missing values. Any unreadable cell is reported with the file, the
//! line number (1-based, header = line 1) and the column name. Text cells written with a
//! leading `'` because they start like a formula (`'=x`, see `output::escape_cell`) are read
//! without it. A reading of one animal on one day given twice is an error naming both lines
//! when the two disagree, and is counted once (with a warning) when they are identical.

use super::AnalysisError;
use crate::data::{Dataset, Observation};
use crate::protocol::domain::VolumeFormula;
use std::path::Path;

/// Reads `path` (the `animals.csv` layout) into a dataset.
pub fn read_dataset(path: &Path) -> Result<Dataset, AnalysisError> {
    let bytes = std::fs::read(path).map_err(|e| AnalysisError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_dataset(&bytes, &path.display().to_string())
}

fn is_missing(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "na" | "nan" | "." | "-" | "n/a"
    )
}

/// Parses CSV bytes; `file` names the source in error messages. Warnings (identical repeated
/// readings, counted once) are dropped; [`parse_dataset_with_warnings`] returns them.
pub fn parse_dataset(bytes: &[u8], file: &str) -> Result<Dataset, AnalysisError> {
    parse_dataset_with_warnings(bytes, file).map(|(d, _)| d)
}

/// [`parse_dataset`] plus its warnings. A reading of one animal on one day given twice is an
/// error naming both lines when the two disagree, and a warning (the repeat dropped) when
/// they are identical ([`crate::data::dedup_readings`]).
pub fn parse_dataset_with_warnings(
    bytes: &[u8],
    file: &str,
) -> Result<(Dataset, Vec<String>), AnalysisError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let at = At { file };
    let headers = rdr
        .headers()
        .map_err(|e| at.err(1, "", format!("cannot read the header: {e}")))?
        .clone();
    let cols = Columns::of(&headers, at)?;
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            at.err(line, "", format!("unreadable row: {e}"))
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows.push(cols.observation(&rec, line, at)?);
        lines.push(line);
    }
    if rows.is_empty() {
        return Err(at.err(1, "", "the file has a header but no data rows".into()));
    }
    one_arm_per_animal(&rows, &lines, file)?;
    let dups =
        crate::data::dedup_readings(&mut rows, &mut lines, file).map_err(AnalysisError::Data)?;
    Ok((Dataset { rows }, dups.warnings))
}

/// Where a CSV error is: the file (with the line and column given per error).
#[derive(Clone, Copy)]
struct At<'a> {
    file: &'a str,
}

impl At<'_> {
    fn err(self, line: u64, column: &str, message: String) -> AnalysisError {
        AnalysisError::Csv {
            file: self.file.to_string(),
            line,
            column: column.to_string(),
            message,
        }
    }
}

/// Field index of each known column (header names case-insensitive, BOM ignored).
struct Columns {
    id: usize,
    arm: usize,
    day: usize,
    vol: Option<usize>,
    len: Option<usize>,
    wid: Option<usize>,
    cohort: Option<usize>,
    bw: Option<usize>,
}

impl Columns {
    fn of(headers: &csv::StringRecord, at: At<'_>) -> Result<Columns, AnalysisError> {
        let find = |name: &str| {
            headers.iter().position(|h| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(name)
            })
        };
        let need = |name: &str| {
            find(name).ok_or_else(|| {
                at.err(
                    1,
                    name,
                    format!(
                        "required column `{name}` is missing (header: {})",
                        headers.iter().collect::<Vec<_>>().join(",")
                    ),
                )
            })
        };
        let cols = Columns {
            id: need("animal_id")?,
            arm: need("arm")?,
            day: need("day")?,
            vol: find("volume_mm3"),
            len: find("length_mm"),
            wid: find("width_mm"),
            cohort: find("cohort"),
            bw: find("body_weight_g"),
        };
        if cols.vol.is_none() && (cols.len.is_none() || cols.wid.is_none()) {
            return Err(at.err(
                1,
                "volume_mm3",
                "needs a `volume_mm3` column, or both `length_mm` and `width_mm`".into(),
            ));
        }
        Ok(cols)
    }

    /// One data row (on file line `line`) as an observation; the volume from ½·L·W² when
    /// the file gives diameters only.
    fn observation(
        &self,
        rec: &csv::StringRecord,
        line: u64,
        at: At<'_>,
    ) -> Result<Observation, AnalysisError> {
        let cell = |c: usize, name: &str| -> Result<&str, AnalysisError> {
            rec.get(c).ok_or_else(|| {
                at.err(
                    line,
                    name,
                    format!(
                        "the row has {} fields; column `{name}` is field {}",
                        rec.len(),
                        c + 1
                    ),
                )
            })
        };
        let text = |c: usize, name: &str| -> Result<String, AnalysisError> {
            let s = cell(c, name)?;
            if is_missing(s) {
                Err(at.err(line, name, "value is missing (required)".into()))
            } else {
                // `'=x` is how xenoplan writes a text cell that starts like a formula.
                Ok(crate::output::unescape_cell(s).to_string())
            }
        };
        let number =
            |c: Option<usize>, name: &str, nonneg: bool| -> Result<Option<f64>, AnalysisError> {
                let Some(s) = c.and_then(|c| rec.get(c)) else {
                    return Ok(None);
                };
                if is_missing(s) {
                    return Ok(None);
                }
                let v: f64 = s
                    .parse()
                    .map_err(|_| at.err(line, name, format!("`{s}` is not a number")))?;
                if !v.is_finite() {
                    return Err(at.err(line, name, format!("`{s}` is not a finite number")));
                }
                if nonneg && v < 0.0 {
                    return Err(at.err(line, name, format!("`{s}` is negative")));
                }
                Ok(Some(v))
            };
        let animal_id = text(self.id, "animal_id")?;
        let arm = text(self.arm, "arm")?;
        let day_s = text(self.day, "day")?;
        let day: f64 = day_s
            .parse()
            .map_err(|_| at.err(line, "day", format!("`{day_s}` is not a number")))?;
        if !day.is_finite() {
            return Err(at.err(line, "day", format!("`{day_s}` is not a finite number")));
        }
        let length_mm = number(self.len, "length_mm", true)?;
        let width_mm = number(self.wid, "width_mm", true)?;
        let mut volume_mm3 = number(self.vol, "volume_mm3", true)?;
        if volume_mm3.is_none()
            && let (Some(l), Some(w)) = (length_mm, width_mm)
        {
            volume_mm3 = Some(VolumeFormula::HalfLw2.volume(l, w));
        }
        let cohort = match self.cohort.and_then(|c| rec.get(c)) {
            Some(s) if !is_missing(s) => crate::output::unescape_cell(s).to_string(),
            _ => String::new(),
        };
        Ok(Observation {
            animal_id,
            cohort,
            arm,
            day,
            length_mm,
            width_mm,
            volume_mm3,
            body_weight_g: number(self.bw, "body_weight_g", true)?,
        })
    }
}

/// One animal must stay in one arm and cohort: the first row that moves it is an error
/// naming both lines.
fn one_arm_per_animal(
    rows: &[Observation],
    lines: &[u64],
    file: &str,
) -> Result<(), AnalysisError> {
    let cohort_note = |c: &str| {
        if c.is_empty() {
            String::new()
        } else {
            format!(" (cohort `{c}`)")
        }
    };
    let mut seen: std::collections::HashMap<&str, (&str, &str, usize)> =
        std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(&(arm, cohort, first)) = seen.get(r.animal_id.as_str()) {
            if arm != r.arm || cohort != r.cohort {
                return Err(AnalysisError::Data(format!(
                    "{file}: animal `{}` is in arm `{arm}`{} on line {} but in arm `{}`{} on line {}",
                    r.animal_id,
                    cohort_note(cohort),
                    lines[first],
                    r.arm,
                    cohort_note(&r.cohort),
                    lines[i]
                )));
            }
        } else {
            seen.insert(&r.animal_id, (&r.arm, &r.cohort, i));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
