//! Phase layout and schedule expansion shared by every protocol kind.

use super::{Calendar, ConditionEstimate, Estimates, TimelineError};
use crate::model::schedule;
use crate::protocol::{Frequency, Phase, PhaseEnd, Protocol, Schedule, WeekendPolicy};
use jiff::civil::Time;

/// One placed phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedPhase {
    /// Phase name.
    pub name: String,
    /// First day (offset from the timeline start).
    pub start: i64,
    /// Length in days (the median enrollment day, rounded, for conditional phases).
    pub len: i64,
    /// Day the phase would have started without the weekend shift.
    pub moved_from: Option<i64>,
    /// Estimate of a conditional end.
    pub estimate: Option<ConditionEstimate>,
}

impl PlacedPhase {
    /// Day after the last day of the phase.
    pub fn end(&self) -> i64 {
        self.start + self.len
    }
    /// 5–95% window of the conditional end, as absolute day offsets.
    pub fn uncertain(&self) -> Option<(i64, i64)> {
        self.estimate.map(|e| {
            (
                self.start + e.p05.floor() as i64,
                self.start + e.p95.ceil() as i64,
            )
        })
    }
}

/// Phases placed back to back for one cohort (or for the whole protocol).
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Placed phases in protocol order.
    pub phases: Vec<PlacedPhase>,
    /// Day offset of study day 0.
    pub day0: i64,
}

impl Layout {
    /// Places `protocol`'s phases from day `origin`. Under the `shift` policy each phase starts
    /// on the next working day (a randomization never falls on a Sunday).
    pub fn place(
        protocol: &Protocol,
        cal: &Calendar,
        estimates: &Estimates,
        cohort: &str,
        origin: i64,
    ) -> Result<Layout, TimelineError> {
        let mut t = origin;
        let mut phases = Vec::with_capacity(protocol.phases.len());
        for ph in &protocol.phases {
            let (start, moved_from) = if cal.policy == WeekendPolicy::ShiftToNextWorkingDay {
                let s = cal.next_working(t);
                (s, (s != t).then_some(t))
            } else {
                (t, None)
            };
            let (len, estimate) = phase_len(ph, estimates, cohort)?;
            phases.push(PlacedPhase {
                name: ph.name.clone(),
                start,
                len,
                moved_from,
                estimate,
            });
            t = start + len;
        }
        let day0 = phases
            .get(protocol.day0_phase())
            .map_or(origin, |p| p.start);
        Ok(Layout { phases, day0 })
    }

    /// Placed phase by name.
    pub fn phase(&self, name: &str) -> Option<&PlacedPhase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// Name of the phase containing day `d` (the last phase for days after the end, the first
    /// one for days before the start).
    pub fn phase_at(&self, d: i64) -> String {
        self.phases
            .iter()
            .find(|p| d >= p.start && d < p.end())
            .or_else(|| {
                if self.phases.first().is_some_and(|p| d < p.start) {
                    self.phases.first()
                } else {
                    self.phases.last()
                }
            })
            .map_or_else(String::new, |p| p.name.clone())
    }

    /// Uncertainty text for an event on day `d`: the 5–95% dates it would move to with the
    /// enrollment day of every conditional phase ending on or before `d`.
    pub fn uncertainty(&self, cal: &Calendar, d: i64) -> Option<String> {
        let (mut lo, mut hi) = (0i64, 0i64);
        let mut any = false;
        for p in &self.phases {
            if let Some((a, b)) = p.uncertain()
                && p.end() <= d
            {
                lo += a - p.end();
                hi += b - p.end();
                any = true;
            }
        }
        if !any {
            return None;
        }
        let a = cal.date(d + lo)?;
        let b = cal.date(d + hi)?;
        Some(format!("enrollment 5-95%: {a}..{b}"))
    }
}

fn phase_len(
    ph: &Phase,
    estimates: &Estimates,
    cohort: &str,
) -> Result<(i64, Option<ConditionEstimate>), TimelineError> {
    match &ph.end {
        PhaseEnd::Fixed { days } => Ok((i64::from(*days), None)),
        PhaseEnd::Until { .. } => {
            let e =
                estimates
                    .get(&ph.name, cohort)
                    .ok_or_else(|| TimelineError::MissingEstimate {
                        phase: ph.name.clone(),
                        who: if cohort.is_empty() {
                            "the protocol".into()
                        } else {
                            format!("cohort `{cohort}`")
                        },
                    })?;
            // Enrollment happens on the median day; the phase lasts until then (≥ 1 day).
            Ok(((e.median_day.round() as i64).max(1), Some(*e)))
        }
    }
}

/// One occurrence of a schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occurrence {
    /// Day offset.
    pub day: i64,
    /// Clock time (multiple daily administrations or timed steps).
    pub time: Option<Time>,
    /// Planned day when the weekend policy moved the occurrence.
    pub moved_from: Option<i64>,
    /// (index, per day) for multiple daily administrations: (1, 2) = first of two.
    pub of_day: Option<(u8, u8)>,
}

/// Occurrences of `sched` inside a phase starting on `phase_start` and lasting `phase_len`
/// days.
///
/// Weekend policy: daily schedules and dosing cycles never move (daily dosing stays daily, a
/// 5on2off cycle keeps counting from the first dose; the events are flagged). Under `shift`,
/// one-off events move to the next working day; every-N-day series roll forward so the next
/// occurrence is N days after the one actually done (spacing is kept, e.g. Q3D calipers never
/// come closer than 3 days); named-weekday series move single occurrences to the next working
/// day and drop one that would reach the next scheduled occurrence (reported in `merged`).
pub fn occurrences(
    cal: &Calendar,
    sched: &Schedule,
    phase_start: i64,
    phase_len: i64,
    merged: &mut usize,
) -> Vec<Occurrence> {
    // Steps keep their own times; several a day without times get the default dose times.
    let times = if sched.times.is_empty() && sched.frequency.per_day() > 1 {
        schedule::default_dose_times(sched.frequency.per_day())
    } else {
        sched.times.clone()
    };
    placed(cal, sched, phase_start, phase_len, merged, &times)
}

/// Occurrences of a dosing schedule: as [`occurrences`], each at the clock time the
/// simulator's PK model doses at ([`schedule::dose_times`]; once daily at 10:00 by default).
pub fn dose_occurrences(
    cal: &Calendar,
    sched: &Schedule,
    phase_start: i64,
    phase_len: i64,
    merged: &mut usize,
) -> Vec<Occurrence> {
    let times = schedule::dose_times(sched);
    placed(cal, sched, phase_start, phase_len, merged, &times)
}

/// The planned days of [`schedule::planned_days`] moved by the calendar's weekend policy, at
/// `times` (none = untimed).
fn placed(
    cal: &Calendar,
    sched: &Schedule,
    phase_start: i64,
    phase_len: i64,
    merged: &mut usize,
    times: &[Time],
) -> Vec<Occurrence> {
    let shift = cal.policy == WeekendPolicy::ShiftToNextWorkingDay;
    let len = u32::try_from(phase_len.max(0)).unwrap_or(u32::MAX);
    let wd0 = cal.weekday(phase_start).to_monday_zero_offset() as u32;
    // A one-off step may fall on the phase's closing day (harvest on day 28 of a 28-day
    // treatment phase); series run over the phase's days 0..len.
    let once = matches!(sched.frequency, Frequency::Once);
    let planned: Vec<i64> = schedule::planned_days(sched, len, once, wd0)
        .into_iter()
        .map(|d| phase_start + i64::from(d))
        .collect();
    let mut days: Vec<(i64, Option<i64>)> = Vec::with_capacity(planned.len());
    let mv = |d: i64| -> (i64, Option<i64>) {
        if shift && !cal.is_working(d) {
            (cal.next_working(d), Some(d))
        } else {
            (d, None)
        }
    };
    match &sched.frequency {
        Frequency::Once => days.extend(planned.iter().map(|&d| mv(d))),
        // Daily dosing and dosing cycles (counted from the first dose) never move.
        Frequency::Daily { .. } | Frequency::Cycle { .. } | Frequency::EveryNDays { n: 0 | 1 } => {
            days.extend(planned.iter().map(|&d| (d, None)));
        }
        Frequency::EveryNDays { n } => {
            // Under `shift` the series rolls: the next occurrence is N days after the one
            // actually done (without a shift this is exactly the planned series).
            let last = schedule::last_day(sched, len, false).map_or(-1, i64::from) + phase_start;
            let mut d = planned.first().copied().unwrap_or(last + 1);
            while d <= last {
                let (actual, from) = mv(d);
                days.push((actual, from));
                d = actual + i64::from(*n);
            }
        }
        Frequency::Weekdays { .. } => {
            for (i, &d) in planned.iter().enumerate() {
                let (actual, from) = mv(d);
                if from.is_some() && planned.get(i + 1).is_some_and(|&next| actual >= next) {
                    *merged += 1;
                    continue;
                }
                days.push((actual, from));
            }
        }
    }
    let n_times = times.len();
    let mut out = Vec::with_capacity(days.len() * n_times.max(1));
    for (day, moved_from) in days {
        if times.is_empty() {
            out.push(Occurrence {
                day,
                time: None,
                moved_from,
                of_day: None,
            });
        } else {
            for (i, t) in times.iter().enumerate() {
                out.push(Occurrence {
                    day,
                    time: Some(*t),
                    moved_from,
                    of_day: (n_times > 1).then_some(((i + 1) as u8, n_times as u8)),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Weekday, date};

    fn cal(policy: WeekendPolicy) -> Calendar {
        Calendar::new(date(2027, 1, 4), policy, &[])
    }

    fn sched(frequency: Frequency, start: u32, end: Option<u32>) -> Schedule {
        Schedule {
            frequency,
            start_day: start,
            end_day: end,
            times: vec![],
        }
    }

    #[test]
    fn bid_over_28_days_is_56_doses() {
        let c = cal(WeekendPolicy::ShiftToNextWorkingDay);
        let mut m = 0;
        let occ = occurrences(
            &c,
            &sched(Frequency::Daily { per_day: 2 }, 0, None),
            0,
            28,
            &mut m,
        );
        assert_eq!(occ.len(), 56);
        // Daily dosing stays daily: weekends are kept.
        assert!(occ.iter().any(|o| o.day == 5));
        assert!(
            occ.iter()
                .all(|o| o.moved_from.is_none() && o.time.is_some())
        );
        assert_eq!(occ[0].time, Some(Time::constant(8, 0, 0, 0)));
        assert_eq!(occ[1].time, Some(Time::constant(16, 0, 0, 0)));
        assert_eq!(occ[1].of_day, Some((2, 2)));
    }

    #[test]
    fn every_3_days_keeps_spacing_when_shifted() {
        let c = cal(WeekendPolicy::ShiftToNextWorkingDay);
        let mut m = 0;
        let occ = occurrences(
            &c,
            &sched(Frequency::EveryNDays { n: 3 }, 0, None),
            0,
            21,
            &mut m,
        );
        let days: Vec<i64> = occ.iter().map(|o| o.day).collect();
        // Mon 0, Thu 3, Sun 6 → Mon 7, Thu 10, Sun 13 → Mon 14, Thu 17, Sun 20 → Mon 21.
        assert_eq!(days, vec![0, 3, 7, 10, 14, 17, 21]);
        assert!(days.windows(2).all(|w| w[1] - w[0] >= 3));
        assert!(days.iter().all(|&d| c.is_working(d)));
        let allow = cal(WeekendPolicy::Allow);
        let occ = occurrences(
            &allow,
            &sched(Frequency::EveryNDays { n: 3 }, 0, None),
            0,
            21,
            &mut m,
        );
        assert_eq!(occ.len(), 7);
        assert_eq!(occ[2].day, 6);
    }

    #[test]
    fn weekday_holiday_moves_or_merges() {
        // Monday 2027-01-11 holiday: the Monday caliper moves to Tuesday.
        let c = Calendar::new(
            date(2027, 1, 4),
            WeekendPolicy::ShiftToNextWorkingDay,
            &[date(2027, 1, 11), date(2027, 1, 14), date(2027, 1, 15)],
        );
        let mut m = 0;
        let s = sched(
            Frequency::Weekdays {
                days: vec![Weekday::Monday, Weekday::Thursday],
            },
            0,
            Some(20),
        );
        let occ = occurrences(&c, &s, 0, 21, &mut m);
        let days: Vec<i64> = occ.iter().map(|o| o.day).collect();
        // 0 Mon, 3 Thu, 7 Mon(hol)→8, 10 Thu(hol, Fri hol too)→14 = next Monday → merged, 14, 17.
        assert_eq!(days, vec![0, 3, 8, 14, 17]);
        assert_eq!(m, 1);
        assert_eq!(occ[2].moved_from, Some(7));
    }

    #[test]
    fn once_on_saturday_shifts_to_monday() {
        let c = cal(WeekendPolicy::ShiftToNextWorkingDay);
        let mut m = 0;
        let occ = occurrences(&c, &Schedule::once(5), 0, 10, &mut m);
        assert_eq!(occ[0].day, 7);
        assert_eq!(occ[0].moved_from, Some(5));
        let occ = occurrences(
            &cal(WeekendPolicy::KeepAndFlag),
            &Schedule::once(5),
            0,
            10,
            &mut m,
        );
        assert_eq!(occ[0].day, 5);
    }
}
