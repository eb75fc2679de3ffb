//! The tidy measurement table shared by the simulator, `analyze`, `power` and `fit`: one row
//! per animal per measurement, the `animals.csv` layout of ../shared/CONTRACT.md.

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
