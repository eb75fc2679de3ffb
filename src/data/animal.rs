//! One animal's series as every analysis reads it (sorted by day, repeats on a day averaged,
//! missing volumes dropped), built from a [`Dataset`] ([`animals`]) or straight from the
//! simulator's buffers inside `power` ([`crate::sim::StudyBuffer::fill_animals`]); both go
//! through [`Animal::set_readings`], the one owner of that rule.

use super::Dataset;
use std::collections::BTreeMap;

/// One reading: (day, volume mm³, mean caliper diameter mm or NaN).
pub type Reading = (f64, f64, f64);

/// One animal's measurements, sorted by day (duplicates on a day averaged, missing dropped).
#[derive(Debug, Clone, PartialEq)]
pub struct Animal {
    /// Identifier.
    pub id: String,
    /// Cohort ("" if none).
    pub cohort: String,
    /// Arm.
    pub arm: String,
    /// Days with a volume.
    pub days: Vec<f64>,
    /// Volumes, mm³.
    pub volumes: Vec<f64>,
    /// Index of the baseline measurement (last at day ≤ 0, else the first).
    pub baseline: usize,
    /// Mean caliper diameter (L + W)/2 per day, mm; NaN where not recorded.
    pub mean_diameters: Vec<f64>,
}

impl Animal {
    /// An animal with no readings (to be filled by [`Animal::set_readings`]).
    pub fn empty() -> Animal {
        Animal {
            id: String::new(),
            cohort: String::new(),
            arm: String::new(),
            days: Vec::new(),
            volumes: Vec::new(),
            baseline: 0,
            mean_diameters: Vec::new(),
        }
    }

    /// Replaces the series by `readings`: readings whose volume is not a finite number ≥ 0
    /// are dropped, the rest sorted by day and the readings of one day averaged; the
    /// baseline is the last reading at day ≤ 0, else the first. Returns false (series left
    /// empty) when no reading remains. Reuses the vectors' memory (no allocation once warm).
    pub fn set_readings(&mut self, readings: &mut Vec<Reading>) -> bool {
        readings.retain(|r| r.1.is_finite() && r.1 >= 0.0);
        readings.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.days.clear();
        self.volumes.clear();
        self.mean_diameters.clear();
        let mut i = 0;
        while i < readings.len() {
            let mut j = i;
            let (mut s, mut sd) = (0.0, 0.0);
            while j < readings.len() && readings[j].0 == readings[i].0 {
                s += readings[j].1;
                sd += readings[j].2;
                j += 1;
            }
            self.days.push(readings[i].0);
            self.volumes.push(s / (j - i) as f64);
            self.mean_diameters.push(sd / (j - i) as f64);
            i = j;
        }
        self.baseline = self.days.iter().rposition(|&d| d <= 0.0).unwrap_or(0);
        !self.days.is_empty()
    }

    /// Baseline volume.
    pub fn v0(&self) -> f64 {
        self.volumes[self.baseline]
    }
    /// Baseline day.
    pub fn day0(&self) -> f64 {
        self.days[self.baseline]
    }
    /// Volume on `day`, if measured.
    pub fn at(&self, day: f64) -> Option<f64> {
        self.days
            .iter()
            .position(|&d| d == day)
            .map(|i| self.volumes[i])
    }
}

/// Groups rows into animals in order of first appearance (see [`Animal::set_readings`]).
pub fn animals(ds: &Dataset) -> Vec<Animal> {
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut obs_of: Vec<Vec<Reading>> = Vec::new();
    let mut map: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut last: Option<usize> = None;
    for r in &ds.rows {
        // Rows of one animal are usually consecutive (simulated studies, most files): the
        // previous row's animal is found without building a key.
        let idx = match last {
            Some(i) if order[i].0 == r.cohort && order[i].1 == r.animal_id => i,
            _ => *map
                .entry((r.cohort.clone(), r.animal_id.clone()))
                .or_insert_with(|| {
                    order.push((r.cohort.clone(), r.animal_id.clone(), r.arm.clone()));
                    obs_of.push(Vec::new());
                    order.len() - 1
                }),
        };
        last = Some(idx);
        if let Some(v) = r.volume_mm3 {
            obs_of[idx].push((r.day, v, mean_diameter(r.length_mm, r.width_mm)));
        }
    }
    let mut out = Vec::new();
    for ((cohort, id, arm), mut obs) in order.into_iter().zip(obs_of) {
        let mut a = Animal {
            id,
            cohort,
            arm,
            ..Animal::empty()
        };
        if a.set_readings(&mut obs) {
            out.push(a);
        }
    }
    out
}

/// Mean caliper diameter (L + W)/2, mm; NaN unless both are recorded.
pub fn mean_diameter(length_mm: Option<f64>, width_mm: Option<f64>) -> f64 {
    match (length_mm, width_mm) {
        (Some(l), Some(w)) => 0.5 * (l + w),
        _ => f64::NAN,
    }
}
