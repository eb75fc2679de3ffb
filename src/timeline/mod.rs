//! Dated dry run of a protocol: every phase and step expanded into events on real dates, the
//! daily workload, the resources to order, and the exports (`timeline.csv`, `timeline.md`,
//! `timeline.ics`, `plots/gantt.{svg,png}`).
//!
//! The expansion is pure: [`expand`] takes a validated [`Protocol`], a [`Calendar`] (start date,
//! weekend policy, holidays) and, for phases that end on a condition, a [`ConditionEstimate`]
//! per (phase, cohort) computed beforehand by the simulator (the CLI does that). Nothing here is
//! random; the same inputs give the same events.

mod calendar;
mod export;
mod gantt;
mod invitro;
mod procedure;
mod resources;
mod schedule;
mod workload;
mod xenograft;

pub use calendar::{Calendar, DayFlag, days_between};
pub use export::{TIMELINE_CSV_HEADER, ics, markdown, timeline_csv_header, timeline_csv_rows};
pub use gantt::Gantt;
pub use resources::{ResourceRow, body_weight_g, cells_to_prepare, resources};
pub use workload::{DayLoad, workload};

use crate::protocol::{Body, EventKind, Protocol};
use jiff::civil::{Date, Time};
use std::collections::BTreeMap;

/// Errors of the timeline expansion.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    /// A phase ends on a condition and no simulator estimate was supplied for it.
    #[error("phase `{phase}` ends on a condition but no enrollment estimate was given for {who}")]
    MissingEstimate {
        /// Phase name.
        phase: String,
        /// Cohort (or "the protocol").
        who: String,
    },
    /// The simulator never filled the cohort within the maximum wait.
    #[error(
        "phase `{phase}`: no simulated cohort was filled within the maximum wait ({n_sims} simulations)"
    )]
    NeverFilled {
        /// Phase name.
        phase: String,
        /// Simulations run.
        n_sims: usize,
    },
    /// An event falls outside the civil calendar (year > 9999).
    #[error("day {day} after the start date is outside the calendar")]
    DateOutOfRange {
        /// Offset in days.
        day: i64,
    },
    /// Procedure tasks reference each other in a cycle or name unknown tasks.
    #[error("procedure tasks: {0}")]
    Tasks(String),
    /// An assay's plate layout cannot hold its design (the protocol check rejects it first).
    #[error("plate layout: {0}")]
    Layout(#[from] crate::protocol::plate_layout::LayoutError),
}

/// Simulated enrollment day of one conditional phase (days from the start of that phase):
/// median and 5–95% range over `n_sims` simulated cohorts, of which `n_failed` were not
/// filled within the maximum wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConditionEstimate {
    /// Median day (from the start of the conditional phase).
    pub median_day: f64,
    /// 5th percentile.
    pub p05: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Simulated cohorts.
    pub n_sims: usize,
    /// Cohorts not filled within the maximum wait (excluded from the quantiles).
    pub n_failed: usize,
}

impl ConditionEstimate {
    /// Median and 5–95% range of the filled cohorts. Quantiles use linear interpolation
    /// between order statistics (Hyndman & Fan 1996 type 7, R's default `quantile`).
    pub fn from_samples(phase: &str, samples: &[Option<f64>]) -> Result<Self, TimelineError> {
        let mut v: Vec<f64> = samples
            .iter()
            .flatten()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        if v.is_empty() {
            return Err(TimelineError::NeverFilled {
                phase: phase.to_string(),
                n_sims: samples.len(),
            });
        }
        v.sort_by(f64::total_cmp);
        Ok(ConditionEstimate {
            median_day: quantile7(&v, 0.5),
            p05: quantile7(&v, 0.05),
            p95: quantile7(&v, 0.95),
            n_sims: samples.len(),
            n_failed: samples.len() - v.len(),
        })
    }
}

impl ConditionEstimate {
    /// The estimate when no simulated cohort was filled: the phase lasts its maximum wait.
    pub fn unfilled(max_wait_days: u32, n_sims: usize) -> Self {
        let d = f64::from(max_wait_days);
        ConditionEstimate {
            median_day: d,
            p05: d,
            p95: d,
            n_sims,
            n_failed: n_sims,
        }
    }
}

use crate::numeric::quantile7;

/// Estimates per (phase name, cohort name); the cohort is `""` for protocols without cohorts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimates {
    map: BTreeMap<(String, String), ConditionEstimate>,
}

impl Estimates {
    /// Records the estimate of `phase` for `cohort`.
    pub fn insert(&mut self, phase: &str, cohort: &str, e: ConditionEstimate) {
        self.map.insert((phase.to_string(), cohort.to_string()), e);
    }
    /// The estimate of `phase` for `cohort`.
    pub fn get(&self, phase: &str, cohort: &str) -> Option<&ConditionEstimate> {
        self.map.get(&(phase.to_string(), cohort.to_string()))
    }
    /// Every estimate, ordered by (phase, cohort).
    pub fn iter(&self) -> impl Iterator<Item = (&(String, String), &ConditionEstimate)> {
        self.map.iter()
    }
}

/// Settings of one expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Start date, weekend policy, holidays.
    pub calendar: Calendar,
    /// Animals to order and implant per cohort ([`crate::sim::animals::protocol_plans`]),
    /// in cohort order; left empty, a xenograft expansion computes them with the pilot yield.
    pub animals: Vec<crate::sim::animals::AnimalPlan>,
}

/// One dated event (one row of `timeline.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Day offset from the start date.
    pub day: i64,
    /// Civil date.
    pub date: Date,
    /// Clock time for timed events (BID doses).
    pub time: Option<Time>,
    /// Exclusive end day offset for events lasting several days (procedure tasks).
    pub end_day: Option<i64>,
    /// Day relative to the day-0 phase of the event's cohort.
    pub study_day: i64,
    /// Phase (or activity) the event belongs to.
    pub phase: String,
    /// Event type.
    pub kind: EventKind,
    /// Short label (the `event` column).
    pub label: String,
    /// Cohort (tumour model), when the event is cohort-specific.
    pub cohort: Option<String>,
    /// Arm, when the event is arm-specific (dosing).
    pub arm: Option<String>,
    /// Animals handled by the event (xenograft only).
    pub animals: Option<u32>,
    /// Free text: doses, counts, shifts, uncertainty range.
    pub details: String,
    /// Weekend / holiday work (policy `flag`, or daily events under `shift`).
    pub flag: Option<DayFlag>,
    /// Gantt row this event is drawn on.
    pub series: String,
    /// Hands-on hours (procedure tasks).
    pub hands_on_h: Option<f64>,
    /// Protocol id of the event in a campaign timeline ([`crate::campaign`]); `None` in a
    /// single protocol's timeline.
    pub protocol: Option<String>,
}

/// Kind of a bar on the Gantt chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// A protocol phase.
    Phase,
    /// A derived activity (selection, clone expansion, validation assay).
    Activity,
    /// A procedure task.
    Task,
}

/// A bar on the Gantt chart: [start, end) in day offsets.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Label (phase name, with the cohort when phases differ between cohorts).
    pub label: String,
    /// Kind.
    pub kind: SpanKind,
    /// First day.
    pub start: i64,
    /// Day after the last day.
    pub end: i64,
    /// 5–95% window of a conditional end (shaded).
    pub uncertain: Option<(i64, i64)>,
}

/// One dated administration — a treatment's dose or an item of a cohort's hormone supply —
/// with what was given then. The timeline's dosing and hormone events are made from the same
/// occurrences ([`crate::model::schedule`] days and clock times), and `resources.csv` sums
/// exactly these records: drug amounts are Σ over them, never re-derived from the arms.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseRecord {
    /// Cohort.
    pub cohort: String,
    /// Arm ("" for a cohort's hormone supply).
    pub arm: String,
    /// Agent name (the hormone supply's name for hormone items).
    pub agent: String,
    /// Study day of the administration.
    pub study_day: i64,
    /// Animals dosed.
    pub animals: u32,
    /// What each animal was given.
    pub given: Given,
}

/// What one administration gives each animal.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// Treatment `index` of the arm at its dose: per kg of that day's body weight, or flat
    /// per animal (the dose unit says which).
    Treatment {
        /// Index of the treatment in its arm (a dose change is two treatments).
        index: usize,
        /// Dose per administration, in `unit`.
        dose: f64,
        /// Dose unit (per kg or per animal).
        unit: crate::protocol::DoseUnit,
        /// Route.
        route: crate::protocol::Route,
        /// Dosing volume, mL/kg (None: PO gets the default volume, other routes none).
        volume_ml_per_kg: Option<f64>,
    },
    /// A hormone pellet (the first or a replacement).
    Pellet {
        /// Hormone per pellet, mg.
        dose_mg: f64,
        /// Release duration, days.
        release_days: f64,
        /// Days it must support: to the next pellet, or to the removal / end of the study.
        needed_days: u32,
        /// A replacement (re-implant) rather than the first pellet.
        replacement: bool,
    },
    /// A hormone injection.
    Injection {
        /// Hormone per injection, mg.
        dose_mg: f64,
    },
    /// Fresh bottles of hormone-supplemented drinking water for `days` days.
    Water {
        /// Days until the next bottle change (or the stop).
        days: u32,
        /// Hormone concentration, µg/mL.
        concentration_ug_per_ml: f64,
        /// Water drunk per mouse per day, mL.
        intake_ml_per_day: f64,
    },
}

/// The expanded timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Protocol id.
    pub protocol_id: String,
    /// Protocol title.
    pub title: String,
    /// Calendar used.
    pub calendar: Calendar,
    /// Events sorted by (day, time, insertion order).
    pub events: Vec<Event>,
    /// Gantt bars.
    pub spans: Vec<Span>,
    /// Conditional phases: (phase, cohort, estimate, phase start day).
    pub conditions: Vec<(String, String, ConditionEstimate, i64)>,
    /// Administrations (xenograft), for resources.
    pub doses: Vec<DoseRecord>,
    /// Things the user should know (merged occurrences, escalation steps not reached…).
    pub notes: Vec<String>,
    /// In vitro quantities accumulated during expansion (resources).
    pub invitro: Option<invitro::InVitroTotals>,
    /// Animals to order and implant per cohort (xenograft), as in [`Options::animals`].
    pub animals: Vec<crate::sim::animals::AnimalPlan>,
}

impl Timeline {
    /// A timeline with no events yet.
    pub fn empty(protocol_id: String, title: String, calendar: Calendar) -> Timeline {
        Timeline {
            protocol_id,
            title,
            calendar,
            events: Vec::new(),
            spans: Vec::new(),
            conditions: Vec::new(),
            doses: Vec::new(),
            notes: Vec::new(),
            invitro: None,
            animals: Vec::new(),
        }
    }

    /// Last day offset covered by events or bars.
    pub fn last_day(&self) -> i64 {
        let e = self.events.iter().map(|e| e.end_day.unwrap_or(e.day + 1));
        let s = self
            .spans
            .iter()
            .map(|s| s.end.max(s.uncertain.map_or(0, |u| u.1 + 1)));
        e.chain(s).max().unwrap_or(1)
    }
}

/// Expands `protocol` into dated events.
pub fn expand(
    protocol: &Protocol,
    options: &Options,
    estimates: &Estimates,
) -> Result<Timeline, TimelineError> {
    let mut tl = Timeline::empty(
        protocol.id.clone(),
        protocol.title.clone(),
        options.calendar.clone(),
    );
    match &protocol.body {
        Body::Xenograft(x) => xenograft::expand(protocol, x, options, estimates, &mut tl)?,
        Body::Derivation(d) => {
            invitro::expand_derivation(protocol, d, options, estimates, &mut tl)?
        }
        Body::Assay(a) => invitro::expand_assay(protocol, a, options, estimates, &mut tl)?,
        Body::Procedure(p) => procedure::expand(protocol, p, options, estimates, &mut tl)?,
    }
    finish(&mut tl)?;
    Ok(tl)
}

/// Fills dates and flags, sorts events stably by (day, time).
fn finish(tl: &mut Timeline) -> Result<(), TimelineError> {
    let cal = tl.calendar.clone();
    for e in &mut tl.events {
        e.date = cal
            .date(e.day)
            .ok_or(TimelineError::DateOutOfRange { day: e.day })?;
        if cal.policy != crate::protocol::WeekendPolicy::Allow {
            e.flag = cal.flag(e.day);
        }
    }
    tl.events.sort_by_key(|e| (e.day, e.time));
    Ok(())
}

/// A placeholder date used while events are built; replaced by [`finish`].
pub(crate) const EPOCH: Date = jiff::civil::date(1970, 1, 1);

#[cfg(test)]
mod tests;

/// Errors while writing the timeline files.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file could not be written.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// The Gantt chart could not be drawn.
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
}

/// Writes `timeline.csv`, `timeline.md`, `timeline.ics`, `resources.csv`, `workload.csv` and
/// `plots/gantt.{svg,png}` into `dir`; returns the written paths relative to `dir`.
/// `dtstamp` is the iCalendar creation stamp (the only non-reproducible byte, by RFC 5545).
pub fn write_all(
    protocol: &Protocol,
    tl: &Timeline,
    dir: &std::path::Path,
    dtstamp: jiff::Timestamp,
) -> Result<Vec<String>, WriteError> {
    use crate::output::write_csv;
    write_csv(&dir.join("resources.csv"), &resources(protocol, tl))?;
    write_files(tl, dir, dtstamp)
}

/// Writes every file of [`write_all`] except `resources.csv` (a campaign writes its own, with
/// a protocol column); returns the paths relative to `dir`, `resources.csv` included.
pub fn write_files(
    tl: &Timeline,
    dir: &std::path::Path,
    dtstamp: jiff::Timestamp,
) -> Result<Vec<String>, WriteError> {
    use crate::output::{write_atomic, write_csv_rows};
    write_csv_rows(
        &dir.join("timeline.csv"),
        &timeline_csv_header(tl),
        &timeline_csv_rows(tl),
    )?;
    write_atomic(&dir.join("timeline.md"), markdown(tl).as_bytes())?;
    write_atomic(&dir.join("timeline.ics"), ics(tl, dtstamp).as_bytes())?;
    let wl_header: Vec<String> = [
        "date",
        "procedures",
        "animals_handled",
        "hands_on_h",
        "by_kind",
        "flag",
        "peak",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let wl_rows: Vec<Vec<String>> = workload(tl)
        .iter()
        .map(|l| {
            vec![
                tl.calendar
                    .date(l.day)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                l.procedures.to_string(),
                l.animals.to_string(),
                crate::output::fmt_f(l.hands_on_h, 1),
                l.by_kind
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                l.flag.map(|f| f.as_str().to_string()).unwrap_or_default(),
                if l.peak { "1".into() } else { "0".into() },
            ]
        })
        .collect();
    write_csv_rows(&dir.join("workload.csv"), &wl_header, &wl_rows)?;
    let g = Gantt::new(tl);
    crate::plot::save(&g, &dir.join("plots").join("gantt"), g.size())?;
    Ok([
        "timeline.csv",
        "timeline.md",
        "timeline.ics",
        "resources.csv",
        "workload.csv",
        "plots/gantt.svg",
        "plots/gantt.png",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect())
}
