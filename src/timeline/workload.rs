//! Workload per date: procedures by type, animals handled, hands-on hours, peak days.

use super::{DayFlag, Timeline};
use std::collections::BTreeMap;

/// The work of one date.
#[derive(Debug, Clone, PartialEq)]
pub struct DayLoad {
    /// Day offset.
    pub day: i64,
    /// Procedures by event type: per-animal procedures for animal work (a caliper session on
    /// 40 mice = 40), one per event otherwise.
    pub by_kind: BTreeMap<String, u32>,
    /// Total procedures.
    pub procedures: u32,
    /// Distinct animals handled (per cohort: the larger of the cohort-wide events and the sum
    /// of the arm-level events, so one mouse dosed and weighed counts once; events without a
    /// cohort cover all cohorts).
    pub animals: u32,
    /// Hands-on hours (procedure tasks).
    pub hands_on_h: f64,
    /// Weekend / holiday.
    pub flag: Option<DayFlag>,
    /// In the top decile of working load (see [`workload`]).
    pub peak: bool,
}

/// Per-date workload of `tl`. Peak days: procedures ≥ the 90th percentile over the dates
/// with any event (nearest-rank), and more than one procedure.
pub fn workload(tl: &Timeline) -> Vec<DayLoad> {
    let mut days: BTreeMap<i64, DayLoad> = BTreeMap::new();
    // (day, cohort) → (max cohort-wide animals, Σ arm animals per arm max)
    let mut handled: BTreeMap<(i64, String), (u32, BTreeMap<String, u32>)> = BTreeMap::new();
    for e in &tl.events {
        let d = days.entry(e.day).or_insert_with(|| DayLoad {
            day: e.day,
            by_kind: BTreeMap::new(),
            procedures: 0,
            animals: 0,
            hands_on_h: 0.0,
            flag: tl.calendar.flag(e.day),
            peak: false,
        });
        let n = e.animals.unwrap_or(1).max(1);
        *d.by_kind.entry(e.kind.as_str().to_string()).or_default() += n;
        d.procedures += n;
        d.hands_on_h += e.hands_on_h.unwrap_or(0.0);
        if let Some(a) = e.animals {
            let h = handled
                .entry((e.day, e.cohort.clone().unwrap_or_default()))
                .or_default();
            match &e.arm {
                Some(arm) => {
                    let v = h.1.entry(arm.clone()).or_default();
                    *v = (*v).max(a);
                }
                None => h.0 = h.0.max(a),
            }
        }
    }
    // Events without a cohort cover every cohort: the day's count is the larger of those and
    // the sum over cohorts.
    let mut per_day: BTreeMap<i64, (u32, u32)> = BTreeMap::new();
    for ((day, cohort), (wide, arms)) in handled {
        let n = wide.max(arms.values().sum());
        let e = per_day.entry(day).or_default();
        if cohort.is_empty() {
            e.0 = e.0.max(n);
        } else {
            e.1 += n;
        }
    }
    for (day, (all, sum)) in per_day {
        if let Some(d) = days.get_mut(&day) {
            d.animals = all.max(sum);
        }
    }
    let mut loads: Vec<DayLoad> = days.into_values().collect();
    let mut v: Vec<u32> = loads.iter().map(|d| d.procedures).collect();
    v.sort_unstable();
    if !v.is_empty() {
        // Nearest-rank 90th percentile.
        let rank = ((0.9 * v.len() as f64).ceil() as usize).clamp(1, v.len());
        let p90 = v[rank - 1];
        for d in &mut loads {
            d.peak = d.procedures >= p90 && d.procedures > 1;
        }
    }
    loads
}
