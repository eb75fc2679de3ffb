//! Preallocated study results, reused across Monte Carlo replicates.

use super::engine::Engine;
use crate::data::{Animal, Dataset, Observation, Reading, mean_diameter};

/// Why an enrolled animal's record ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndReason {
    /// Followed to the end of the study.
    #[default]
    Completed,
    /// Humane endpoint: tumor volume limit.
    HumaneVolume,
    /// Humane endpoint: mean diameter limit.
    HumaneDiameter,
    /// Humane endpoint: body-weight loss limit.
    HumaneWeightLoss,
}

impl EndReason {
    /// Status string used in `animals.csv` for the last row of the animal.
    pub fn status(self) -> &'static str {
        match self {
            EndReason::Completed => "end-of-study",
            EndReason::HumaneVolume => "humane-endpoint:volume",
            EndReason::HumaneDiameter => "humane-endpoint:diameter",
            EndReason::HumaneWeightLoss => "humane-endpoint:weight-loss",
        }
    }
}

/// What happened to an implanted animal before randomization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fate {
    /// No tumor grew.
    #[default]
    NoTake,
    /// Tumor never read inside the window on a caliper day within the maximum wait.
    NotEligible,
    /// Tumor jumped over the window (first reading ≥ min was above max).
    Overgrown,
    /// Eligible but not needed (arms already full).
    NotSelected,
    /// Randomized.
    Enrolled,
}

impl Fate {
    /// Status string used in `enrollment.csv`.
    pub fn status(self) -> &'static str {
        match self {
            Fate::NoTake => "no-take",
            Fate::NotEligible => "excluded:not-eligible",
            Fate::Overgrown => "excluded:overgrown",
            Fate::NotSelected => "not-selected",
            Fate::Enrolled => "enrolled",
        }
    }
}

/// Per-cohort outcome of implantation and enrollment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CohortOutcome {
    /// Animals implanted (= enrolled for `AtBaseline`).
    pub implanted: usize,
    /// Tumors that took.
    pub takes: usize,
    /// Animals eligible (inside the window) at enrollment (single-day: on the enrollment
    /// day; rolling: ever within the maximum wait).
    pub eligible: usize,
    /// Animals randomized.
    pub enrolled: usize,
    /// Taken tumors never eligible within the maximum wait.
    pub not_eligible: usize,
    /// Taken tumors that jumped over the window.
    pub overgrown: usize,
    /// Eligible animals not needed.
    pub not_selected: usize,
    /// Day (since implantation) on which the cohort was filled (single-day: the enrollment
    /// caliper day; rolling: the day the last needed animal became eligible); `None` when it
    /// could not be filled within the maximum wait (the study then runs with fewer animals).
    pub filled_day: Option<u32>,
    /// Enrollment caliper day actually used (single-day; the fullest day when not filled).
    pub enrollment_day: Option<u32>,
    /// Fate of each implanted animal (index = implant number − 1).
    pub fates: Vec<Fate>,
    /// Arm index of each implanted animal (`u16::MAX` = not enrolled).
    pub arm_of: Vec<u16>,
    /// Pre-treatment measured volumes, implanted × pre-visit (NaN = not measured).
    pub pre_volumes: Vec<f64>,
    /// Pre-treatment measured lengths (mm), same layout.
    pub pre_lengths: Vec<f64>,
    /// Pre-treatment measured widths (mm), same layout.
    pub pre_widths: Vec<f64>,
    /// Study day on which the `[study-stop]` rule ended this cohort's study before its fixed
    /// end (`None`: it ran to the fixed end, or there is no rule).
    pub stop_day: Option<u32>,
}

/// Metadata of one enrolled animal.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Slot {
    pub implant_no: u32,
    pub day0_abs: u32,
    pub tau0: f64,
    pub n_visits: u16,
    pub end: EndReason,
    pub event_day: f64,
    pub last_day: f64,
    /// Dose holidays taken (`[dose-modification]`) and the study day each started on.
    pub holidays: u8,
    pub holiday_days: [u16; MAX_HOLIDAYS],
    /// Study day from which the animal's dosing stopped for good (after its last holiday).
    pub dosing_stopped: Option<u16>,
}

/// Most dose holidays an animal can take (`check` caps `max-holidays` at this).
pub const MAX_HOLIDAYS: usize = crate::protocol::MAX_HOLIDAYS as usize;

/// Results of one simulated study, laid out per (cohort, arm, animal, visit) with a fixed
/// visit stride. Reused across replicates: [`super::Engine::simulate`] only grows it.
#[derive(Debug, Clone, Default)]
pub struct StudyBuffer {
    pub(crate) stride: usize,
    /// Slot base per (cohort, arm), flattened; and enrolled count.
    pub(crate) arm_base: Vec<usize>,
    pub(crate) arm_cap: Vec<usize>,
    pub(crate) arm_n: Vec<usize>,
    pub(crate) cohort_arm0: Vec<usize>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) vol: Vec<f64>,
    pub(crate) day: Vec<f64>,
    pub(crate) len: Vec<f64>,
    pub(crate) wid: Vec<f64>,
    pub(crate) bw: Vec<f64>,
    pub(crate) cohorts: Vec<CohortOutcome>,
    pub(crate) log_volumes: bool,
    pub(crate) scratch: super::engine::Scratch,
}

impl StudyBuffer {
    /// An empty buffer sized on first use.
    pub fn new(engine: &Engine) -> Self {
        StudyBuffer {
            log_volumes: engine.options().log_volumes,
            ..Default::default()
        }
    }

    #[inline]
    fn slot(&self, c: usize, a: usize, j: usize) -> usize {
        self.arm_base[self.cohort_arm0[c] + a] + j
    }

    /// Animals enrolled in arm `a` of cohort `c`.
    pub fn n_enrolled(&self, c: usize, a: usize) -> usize {
        self.arm_n[self.cohort_arm0[c] + a]
    }

    /// Measured volumes (mm³, or ln mm³ with [`super::SimOptions::log_volumes`]) of animal
    /// `j` of arm `a` in cohort `c`, one per visit slot: NaN = off study / no such visit,
    /// 0 (or −∞) = not palpable. Visits after a humane endpoint are NaN.
    pub fn volumes(&self, c: usize, a: usize, j: usize) -> &[f64] {
        let s = self.slot(c, a, j);
        &self.vol[s * self.stride..(s + 1) * self.stride]
    }

    /// Study days of the visit slots of that animal (NaN past its last possible visit).
    pub fn days(&self, c: usize, a: usize, j: usize) -> &[f64] {
        let s = self.slot(c, a, j);
        &self.day[s * self.stride..(s + 1) * self.stride]
    }

    /// Measured lengths (mm), when recorded.
    pub fn lengths(&self, c: usize, a: usize, j: usize) -> &[f64] {
        let s = self.slot(c, a, j);
        if self.len.is_empty() {
            &[]
        } else {
            &self.len[s * self.stride..(s + 1) * self.stride]
        }
    }

    /// Measured widths (mm), when recorded.
    pub fn widths(&self, c: usize, a: usize, j: usize) -> &[f64] {
        let s = self.slot(c, a, j);
        if self.wid.is_empty() {
            &[]
        } else {
            &self.wid[s * self.stride..(s + 1) * self.stride]
        }
    }

    /// Measured body weights (g), when simulated.
    pub fn body_weights(&self, c: usize, a: usize, j: usize) -> &[f64] {
        let s = self.slot(c, a, j);
        if self.bw.is_empty() {
            &[]
        } else {
            &self.bw[s * self.stride..(s + 1) * self.stride]
        }
    }

    /// Number of recorded visits (the rest of the slots are NaN).
    pub fn visit_count(&self, c: usize, a: usize, j: usize) -> usize {
        self.slots[self.slot(c, a, j)].n_visits as usize
    }

    /// Why the animal's record ends.
    pub fn end_reason(&self, c: usize, a: usize, j: usize) -> EndReason {
        self.slots[self.slot(c, a, j)].end
    }

    /// First study day the measured volume reached the protocol's event volume (NaN = never:
    /// censored at [`Self::last_day`]).
    pub fn event_day(&self, c: usize, a: usize, j: usize) -> f64 {
        self.slots[self.slot(c, a, j)].event_day
    }

    /// Study day of the animal's last recorded visit.
    pub fn last_day(&self, c: usize, a: usize, j: usize) -> f64 {
        self.slots[self.slot(c, a, j)].last_day
    }

    /// Study days on which the animal's dose holidays started (`[dose-modification]`).
    pub fn holiday_days(&self, c: usize, a: usize, j: usize) -> &[u16] {
        let s = &self.slots[self.slot(c, a, j)];
        &s.holiday_days[..s.holidays as usize]
    }

    /// Study day from which the animal's dosing stopped for good, if it did.
    pub fn dosing_stopped(&self, c: usize, a: usize, j: usize) -> Option<u16> {
        self.slots[self.slot(c, a, j)].dosing_stopped
    }

    /// Implant number (1-based, per cohort) of the animal: its ear tag.
    pub fn implant_no(&self, c: usize, a: usize, j: usize) -> u32 {
        self.slots[self.slot(c, a, j)].implant_no
    }

    /// Day (from the protocol start) that is this animal's study day 0.
    pub fn day0_abs(&self, c: usize, a: usize, j: usize) -> u32 {
        self.slots[self.slot(c, a, j)].day0_abs
    }

    /// Implantation/enrollment outcome of cohort `c`.
    pub fn cohort(&self, c: usize) -> &CohortOutcome {
        &self.cohorts[c]
    }

    /// Whether the buffer holds ln volumes.
    pub fn log_volumes(&self) -> bool {
        self.log_volumes
    }

    /// Animal identifier used in outputs: `<cohort-slug>-<implant number, 3 digits>`.
    pub fn animal_id(&self, engine: &Engine, c: usize, a: usize, j: usize) -> String {
        let mut s = String::new();
        self.write_animal_id(engine, (c, a, j), &mut s);
        s
    }

    /// [`Self::animal_id`] into `out` (cleared first; reuses its storage).
    fn write_animal_id(&self, engine: &Engine, (c, a, j): (usize, usize, usize), out: &mut String) {
        write_implant_id(engine, c, self.implant_no(c, a, j), out);
    }

    /// The id of cohort `c`'s animal implanted `implant_no`-th (1-based): `<slug>-007`.
    pub fn implant_id(&self, engine: &Engine, c: usize, implant_no: u32) -> String {
        let mut s = String::new();
        write_implant_id(engine, c, implant_no, &mut s);
        s
    }

    /// A stored volume in mm³ (the buffer may hold log volumes).
    fn volume_of(&self, stored: f64) -> f64 {
        if self.log_volumes {
            stored.exp()
        } else {
            stored
        }
    }

    /// The enrolled animals in output order (cohort, arm, enrollment) with their labels.
    fn enrolled<'e>(&'e self, engine: &'e Engine) -> impl Iterator<Item = Enrolled<'e>> + 'e {
        let several = engine.plan.cohorts.len() > 1;
        engine
            .plan
            .cohorts
            .iter()
            .enumerate()
            .flat_map(move |(c, cp)| {
                cp.arms.iter().enumerate().flat_map(move |(a, arm)| {
                    (0..self.n_enrolled(c, a)).map(move |j| Enrolled {
                        key: (c, a, j),
                        cohort: if several { &cp.name } else { "" },
                        arm: &arm.name,
                    })
                })
            })
    }

    /// Writes `e`'s identifier, cohort and arm labels into reused strings.
    fn write_labels(&self, engine: &Engine, e: &Enrolled<'_>, labels: [&mut String; 3]) {
        let [id, cohort, arm] = labels;
        self.write_animal_id(engine, e.key, id);
        cohort.clear();
        cohort.push_str(e.cohort);
        arm.clear();
        arm.push_str(e.arm);
    }

    /// The enrolled animals as `analysis` groups them — equal to
    /// `crate::data::animals(&self.to_dataset(engine))` — straight from the buffers, reusing
    /// the animals in `out` and the `readings` scratch (`power`'s per-study path: no dataset,
    /// no per-reading strings).
    pub fn fill_animals(
        &self,
        engine: &Engine,
        out: &mut Vec<Animal>,
        readings: &mut Vec<Reading>,
    ) {
        let mut n = 0;
        for e in self.enrolled(engine) {
            let (c, a, j) = e.key;
            let (d, v, l, w) = (
                self.days(c, a, j),
                self.volumes(c, a, j),
                self.lengths(c, a, j),
                self.widths(c, a, j),
            );
            readings.clear();
            for k in 0..self.visit_count(c, a, j) {
                let opt = |x: &[f64]| x.get(k).copied().filter(|y| y.is_finite());
                readings.push((d[k], self.volume_of(v[k]), mean_diameter(opt(l), opt(w))));
            }
            if n == out.len() {
                out.push(Animal::empty());
            }
            let an = &mut out[n];
            if !an.set_readings(readings) {
                continue;
            }
            n += 1;
            self.write_labels(engine, &e, [&mut an.id, &mut an.cohort, &mut an.arm]);
        }
        out.truncate(n);
    }

    /// The tidy dataset of the enrolled animals (study day ≥ 0) for `analysis`.
    /// Volumes: `Some(0.0)` = not palpable, `None` never appears for a recorded visit.
    pub fn to_dataset(&self, engine: &Engine) -> Dataset {
        let mut ds = Dataset { rows: Vec::new() };
        self.fill_dataset(engine, &mut ds);
        ds
    }

    /// [`Self::to_dataset`] into `ds`, reusing its rows and their strings' storage (the power
    /// loop keeps one dataset per worker: no allocation once it has reached its size).
    pub fn fill_dataset(&self, engine: &Engine, ds: &mut Dataset) {
        let mut r = 0;
        for e in self.enrolled(engine) {
            let (c, a, j) = e.key;
            let (d, v, l, w, b) = (
                self.days(c, a, j),
                self.volumes(c, a, j),
                self.lengths(c, a, j),
                self.widths(c, a, j),
                self.body_weights(c, a, j),
            );
            for k in 0..self.visit_count(c, a, j) {
                if r == ds.rows.len() {
                    ds.rows.push(Observation {
                        animal_id: String::new(),
                        cohort: String::new(),
                        arm: String::new(),
                        day: 0.0,
                        length_mm: None,
                        width_mm: None,
                        volume_mm3: None,
                        body_weight_g: None,
                    });
                }
                let o = &mut ds.rows[r];
                r += 1;
                self.write_labels(engine, &e, [&mut o.animal_id, &mut o.cohort, &mut o.arm]);
                let vol = self.volume_of(v[k]);
                let opt = |x: &[f64]| x.get(k).copied().filter(|y| y.is_finite());
                o.day = d[k];
                o.length_mm = opt(l);
                o.width_mm = opt(w);
                o.volume_mm3 = Some(vol).filter(|x| x.is_finite());
                o.body_weight_g = opt(b);
            }
        }
        ds.rows.truncate(r);
    }
}

/// One enrolled animal: its buffer key (cohort, arm, enrollment index) and its output labels.
struct Enrolled<'e> {
    key: (usize, usize, usize),
    /// Cohort name ("" when the study has one cohort, as in `animals.csv`).
    cohort: &'e str,
    arm: &'e str,
}

/// Animal ids have one format: cohort slug, dash, implant number on three digits.
fn write_implant_id(engine: &Engine, c: usize, implant_no: u32, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    // Writing into a String cannot fail.
    let _ = write!(out, "{}-{:03}", engine.plan.cohorts[c].slug, implant_no);
}
