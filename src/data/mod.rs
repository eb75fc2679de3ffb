//! The tidy measurement table shared by the simulator, `analyze`, `power` and `fit`: one row
//! per animal per measurement, the `animals.csv` layout of ../shared/CONTRACT.md, and its
//! per-visit summaries ([`visits`]). It sits below `sim`, `analysis`, `fit` and `plot`.

mod animal;
pub mod visits;

pub use animal::{Animal, Reading, animals, mean_diameter};

/// One measurement of one animal.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Animal identifier (unique within the dataset).
    pub animal_id: String,
    /// Cohort (tumor model); empty when the data has a single cohort.
    pub cohort: String,
    /// Arm name (unique within its cohort).
    pub arm: String,
    /// Study day (treatment day 0 = randomization; may be fractional).
    pub day: f64,
    /// Caliper length, mm, when recorded.
    pub length_mm: Option<f64>,
    /// Caliper width, mm, when recorded.
    pub width_mm: Option<f64>,
    /// Tumor volume, mm³; `None` = missing; `Some(0.0)` = not palpable.
    pub volume_mm3: Option<f64>,
    /// Body weight, g.
    pub body_weight_g: Option<f64>,
}

/// A set of observations, in file order (rows of one animal in increasing day).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// All rows.
    pub rows: Vec<Observation>,
}

/// Readings of one animal on one day found more than once while reading a file.
///
/// Returned by [`dedup_readings`]: identical repeats (the same row pasted twice) are dropped
/// with a warning; repeats that disagree are an error naming both lines, because averaging
/// them silently would hide a data-entry mistake.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicates {
    /// One warning per identical repeat (dropped from the rows).
    pub warnings: Vec<String>,
}

/// Checks `rows` (with their 1-based file `lines`) for repeated (animal, day) readings: drops
/// identical repeats (keeping the first, warning) and fails on conflicting ones with a message
/// naming both lines. `file` names the source. Linear in the number of rows.
pub fn dedup_readings(
    rows: &mut Vec<Observation>,
    lines: &mut Vec<u64>,
    file: &str,
) -> Result<Duplicates, String> {
    use std::collections::HashMap;
    debug_assert_eq!(rows.len(), lines.len());
    let mut first: HashMap<(&str, &str, u64), usize> = HashMap::with_capacity(rows.len());
    let mut drop = vec![false; rows.len()];
    let mut warnings = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        // Day 7 and 7.0 are one day; -0.0 and 0.0 too.
        let day = if r.day == 0.0 { 0u64 } else { r.day.to_bits() };
        match first.entry((r.animal_id.as_str(), r.cohort.as_str(), day)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                let j = *o.get();
                let a = &rows[j];
                let what = |o: &Observation| {
                    let v = |x: Option<f64>| x.map_or("missing".to_string(), |x| x.to_string());
                    let mut s = format!("volume {}", v(o.volume_mm3));
                    if o.length_mm.is_some() || o.width_mm.is_some() {
                        s.push_str(&format!(", L×W {}×{}", v(o.length_mm), v(o.width_mm)));
                    }
                    if o.body_weight_g.is_some() {
                        s.push_str(&format!(", body weight {}", v(o.body_weight_g)));
                    }
                    s
                };
                let same = a.volume_mm3 == r.volume_mm3
                    && a.length_mm == r.length_mm
                    && a.width_mm == r.width_mm
                    && a.body_weight_g == r.body_weight_g;
                if !same {
                    return Err(format!(
                        "{file}: animal `{}` has two different readings on day {}: line {} ({}) and line {} ({}); correct or remove one",
                        r.animal_id,
                        r.day,
                        lines[j],
                        what(a),
                        lines[i],
                        what(r)
                    ));
                }
                warnings.push(format!(
                    "{file}: line {} repeats line {} (animal `{}`, day {}, same values); counted once",
                    lines[i], lines[j], r.animal_id, r.day
                ));
                drop[i] = true;
            }
        }
    }
    if warnings.is_empty() {
        return Ok(Duplicates { warnings });
    }
    let mut k = 0;
    rows.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
    let mut k = 0;
    lines.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
    Ok(Duplicates { warnings })
}

/// A volume reading without cohort, diameters or weight (unit tests of the data consumers).
#[cfg(test)]
pub(crate) fn test_obs(id: &str, arm: &str, day: f64, v: f64) -> Observation {
    Observation {
        animal_id: id.into(),
        cohort: String::new(),
        arm: arm.into(),
        day,
        length_mm: None,
        width_mm: None,
        volume_mm3: Some(v),
        body_weight_g: None,
    }
}
