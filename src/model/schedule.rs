//! Schedule expansion: the one rule, shared by the timeline, the simulator and the tight power
//! path, for which days of a phase a [`Schedule`] fires on and at which clock times.
//!
//! Days are counted from the phase's first day; weekday schedules are anchored on the real
//! calendar through the weekday of that first day (Monday = 0), which the caller derives from
//! `--start` and the phases before. The timeline applies its weekend / holiday policy on top
//! of these planned days (a calendar concern); the simulator doses on the planned days.

use jiff::civil::{Time, Weekday};

/// When a step or a dosing regimen happens, relative to the start of its phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// How often.
    pub frequency: Frequency,
    /// First day (offset from the phase start, ≥ 0).
    pub start_day: u32,
    /// Last day included (offset from the phase start); `None` = until the phase ends.
    pub end_day: Option<u32>,
    /// Clock times for multiple daily administrations (BID: two times) or timed events.
    pub times: Vec<Time>,
}

impl Schedule {
    /// A single event on `day` of the phase.
    pub fn once(day: u32) -> Self {
        Schedule {
            frequency: Frequency::Once,
            start_day: day,
            end_day: Some(day),
            times: Vec::new(),
        }
    }
}

/// Recurrence of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frequency {
    /// A single occurrence on `start_day`.
    Once,
    /// `per_day` administrations every day (QD = 1, BID = 2, TID = 3).
    Daily {
        /// Administrations per day (1–4).
        per_day: u8,
    },
    /// Every `n` days from `start_day` (Q3D = 3, QW = 7, Q2W = 14).
    EveryNDays {
        /// Interval in days (≥ 1).
        n: u32,
    },
    /// On named weekdays (e.g. calipers Monday and Thursday).
    Weekdays {
        /// Days of the week (non-empty, no duplicates).
        days: Vec<Weekday>,
    },
    /// A dosing cycle counted from the schedule's first day (the animal's first dose), not
    /// from the calendar: `on` dosing days then `off` days without, repeated (5on2off,
    /// 4on3off, 21on7off = "3 weeks on, 1 off"), `per_day` administrations on each dosing day.
    Cycle {
        /// Dosing days per cycle (≥ 1).
        on: u32,
        /// Days without dosing per cycle (≥ 1).
        off: u32,
        /// Administrations per dosing day (1–4).
        per_day: u8,
    },
}

impl Frequency {
    /// Administrations per dosing day.
    pub fn per_day(&self) -> u8 {
        match self {
            Frequency::Daily { per_day } | Frequency::Cycle { per_day, .. } => *per_day,
            _ => 1,
        }
    }
    /// Conventional abbreviation (QD, BID, TID, Q3D, QW, Mon/Thu, once).
    pub fn label(&self) -> String {
        match self {
            Frequency::Once => "once".into(),
            Frequency::Daily { per_day: 1 } => "QD".into(),
            Frequency::Daily { per_day: 2 } => "BID".into(),
            Frequency::Daily { per_day: 3 } => "TID".into(),
            Frequency::Daily { per_day } => format!("{per_day}x daily"),
            Frequency::EveryNDays { n: 7 } => "QW".into(),
            Frequency::EveryNDays { n: 14 } => "Q2W".into(),
            Frequency::EveryNDays { n } => format!("Q{n}D"),
            Frequency::Weekdays { days } => days
                .iter()
                .map(|d| weekday_abbrev(*d))
                .collect::<Vec<_>>()
                .join("/"),
            Frequency::Cycle { on, off, per_day } => match per_day {
                1 => format!("{on}on{off}off"),
                2 => format!("{on}on{off}off BID"),
                3 => format!("{on}on{off}off TID"),
                n => format!("{on}on{off}off {n}x daily"),
            },
        }
    }
}

/// Three-letter English weekday abbreviation.
pub fn weekday_abbrev(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

/// Planned days (offsets from the phase start) on which `s` fires within a phase of `len`
/// days whose first day has weekday `wd0` (Monday = 0). `include_end` also allows day `len`
/// (the closing caliper reading of the last treatment phase); otherwise days run 0..len.
/// A schedule's `end-day` past the phase is clipped to the phase.
pub fn planned_days(s: &Schedule, len: u32, include_end: bool, wd0: u32) -> Vec<u32> {
    let Some(last) = last_day(s, len, include_end) else {
        return Vec::new();
    };
    let range = s.start_day..=last;
    match &s.frequency {
        Frequency::Once => vec![s.start_day],
        Frequency::Daily { .. } => range.collect(),
        Frequency::EveryNDays { n } => range.step_by((*n).max(1) as usize).collect(),
        Frequency::Weekdays { days } => range
            .filter(|d| {
                days.iter()
                    .any(|w| w.to_monday_zero_offset() as u32 == (wd0 + d) % 7)
            })
            .collect(),
        // Counted from the first dose (`start_day`): the weekday of the phase plays no part.
        Frequency::Cycle { on, off, .. } => range
            .filter(|d| (d - s.start_day) % (on + off).max(1) < *on)
            .collect(),
    }
}

/// Last phase day `s` may fire on (its `end-day` clipped to the phase; day `len` itself only
/// with `include_end`), or `None` when the schedule starts after it.
pub fn last_day(s: &Schedule, len: u32, include_end: bool) -> Option<u32> {
    if !include_end && len == 0 {
        return None;
    }
    let last_in_phase = if include_end { len } else { len - 1 };
    let last = s.end_day.unwrap_or(last_in_phase).min(last_in_phase);
    (s.start_day <= last).then_some(last)
}

/// Default clock times of administrations when a dosing schedule gives none (assumed: dosing
/// within a working day after the morning caliper reading; once daily at 10:00, BID 8 h apart
/// at 08:00/16:00, three or more spread evenly over 08:00–18:00, e.g. QID
/// 08:00/11:20/14:40/18:00). The simulator's PK model and the timeline's `.ics` both read
/// these, so the calendar tells the lab the times the model assumes.
pub fn default_dose_times(per_day: u8) -> Vec<Time> {
    let per_day = per_day.max(1);
    if per_day == 1 {
        return vec![Time::constant(10, 0, 0, 0)];
    }
    let span_min: i32 = if per_day == 2 { 8 * 60 } else { 10 * 60 };
    (0..per_day)
        .map(|i| {
            let m = 8 * 60 + span_min * i32::from(i) / i32::from(per_day - 1);
            Time::new((m / 60) as i8, (m % 60) as i8, 0, 0).unwrap_or(Time::midnight())
        })
        .collect()
}

/// Clock times of a dosing schedule: its own `times`, else [`default_dose_times`].
pub fn dose_times(s: &Schedule) -> Vec<Time> {
    if s.times.is_empty() {
        default_dose_times(s.frequency.per_day())
    } else {
        s.times.clone()
    }
}

/// A clock time as a fraction of a day.
pub fn day_fraction(t: Time) -> f64 {
    (f64::from(t.hour()) + f64::from(t.minute()) / 60.0 + f64::from(t.second()) / 3600.0) / 24.0
}

/// Typical interval (days) between administrations of a schedule: how long a direct effect
/// lasts after the last dose (∞ for a single administration).
pub fn interval_days(s: &Schedule) -> f64 {
    match &s.frequency {
        Frequency::Once => f64::INFINITY,
        Frequency::Daily { per_day } => 1.0 / f64::from((*per_day).max(1)),
        Frequency::EveryNDays { n } => f64::from((*n).max(1)),
        Frequency::Weekdays { days } => 7.0 / days.len().max(1) as f64,
        // Within a dosing block; a direct effect stays on over the off days, as over the
        // weekend of a Mon–Fri schedule.
        Frequency::Cycle { per_day, .. } => 1.0 / f64::from((*per_day).max(1)),
    }
}

/// How many weekdays of study day 0 give `s` different dosing days: 7 for a weekday
/// schedule, 1 otherwise (every other schedule counts from its first day). Averages over
/// rolling enrollment, which randomizes on any weekday, loop over these.
pub fn weekday_variants(s: &Schedule) -> u32 {
    if matches!(s.frequency, Frequency::Weekdays { .. }) {
        7
    } else {
        1
    }
}

/// First and last of [`planned_days`] without listing them (O(1) in the phase length, so a
/// protocol with a huge phase cannot make its validation allocate per day).
pub fn planned_span(s: &Schedule, len: u32, include_end: bool, wd0: u32) -> Option<(u32, u32)> {
    let last = last_day(s, len, include_end)?;
    let start = s.start_day;
    let fires = |d: u32| match &s.frequency {
        Frequency::Weekdays { days } => days
            .iter()
            .any(|w| w.to_monday_zero_offset() as u32 == (wd0 + d) % 7),
        _ => true,
    };
    match &s.frequency {
        Frequency::Once => Some((start, start)),
        Frequency::Daily { .. } => Some((start, last)),
        Frequency::EveryNDays { n } => {
            let n = (*n).max(1);
            Some((start, start + (last - start) / n * n))
        }
        Frequency::Weekdays { .. } => {
            let first = (start..=last.min(start.saturating_add(6))).find(|&d| fires(d))?;
            let latest = (last.saturating_sub(6).max(start)..=last)
                .rev()
                .find(|&d| fires(d))?;
            Some((first, latest))
        }
        Frequency::Cycle { on, off, .. } => {
            let period = (on + off).max(1);
            let k = (last - start) % period;
            Some((start, if k < *on { last } else { last - (k + 1 - on) }))
        }
    }
}

/// First and last administration times (study days) of `s` in a treatment phase that starts
/// on study day `off` and lasts `len` days, for weekday `wd0` of study day 0: the ends of
/// [`administration_times`], computed without listing them.
pub fn administration_span(s: &Schedule, off: u32, len: u32, wd0: u32) -> Option<(f64, f64)> {
    let (a, b) = planned_span(s, len, false, (wd0 + off) % 7)?;
    let hours: Vec<f64> = dose_times(s).into_iter().map(day_fraction).collect();
    let lo = hours.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = hours.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((f64::from(a + off) + lo, f64::from(b + off) + hi))
}

/// Administration times (study days, ascending) of `s` in a treatment phase that starts on
/// study day `off` and lasts `len` days, for weekday `wd0` (Monday = 0) of study day 0: the
/// days of [`planned_days`] (0..len: the closing day is a caliper day, not a dosing day) at the
/// clock times of [`dose_times`]. The simulator, the assumed-effect statement and the
/// effect-unit solve all read these.
pub fn administration_times(s: &Schedule, off: u32, len: u32, wd0: u32) -> Vec<f64> {
    let hours: Vec<f64> = dose_times(s).into_iter().map(day_fraction).collect();
    let mut v: Vec<f64> = planned_days(s, len, false, (wd0 + off) % 7)
        .into_iter()
        .flat_map(|d| hours.iter().map(move |h| f64::from(d + off) + h))
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// When a direct (concentration-independent) effect acts: from the first administration to
/// the last plus one dosing interval ([`interval_days`]; ∞ for a single administration), or
/// `None` without administrations. The simulator switches direct effects on and off at
/// these times; the effect-unit solve and the assumed-effect statement integrate over them.
pub fn direct_effect_window(times: &[f64], s: &Schedule) -> Option<(f64, f64)> {
    let (&first, &last) = (times.first()?, times.last()?);
    Some((first, last + interval_days(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Weekday;
    use proptest::prelude::*;

    proptest! {
        /// The O(1) span equals the ends of the listed days and administration times.
        #[test]
        fn span_is_the_ends_of_the_listed_days(
            kind in 0u8..5, n in 1u32..9, on in 1u32..6, off in 1u32..6,
            start in 0u32..10, end in proptest::option::of(0u32..40), len in 0u32..40,
            include_end: bool, wd0 in 0u32..7, mask in 1u8..128,
        ) {
            let frequency = match kind {
                0 => Frequency::Once,
                1 => Frequency::Daily { per_day: 2 },
                2 => Frequency::EveryNDays { n },
                3 => Frequency::Weekdays {
                    days: (0..7)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| Weekday::Monday.wrapping_add(i64::from(i)))
                        .collect(),
                },
                _ => Frequency::Cycle { on, off, per_day: 1 },
            };
            let s = Schedule { frequency, start_day: start, end_day: end, times: vec![] };
            let days = planned_days(&s, len, include_end, wd0);
            let want = days.first().zip(days.last()).map(|(a, b)| (*a, *b));
            prop_assert_eq!(planned_span(&s, len, include_end, wd0), want);
            let t = administration_times(&s, 3, len, wd0);
            let want = t.first().zip(t.last()).map(|(a, b)| (*a, *b));
            prop_assert_eq!(administration_span(&s, 3, len, wd0), want);
        }
    }

    fn sched(frequency: Frequency, end: Option<u32>) -> Schedule {
        Schedule {
            frequency,
            start_day: 0,
            end_day: end,
            times: vec![],
        }
    }

    #[test]
    fn weekdays_follow_the_phase_start_weekday() {
        let tue_fri = sched(
            Frequency::Weekdays {
                days: vec![Weekday::Tuesday, Weekday::Friday],
            },
            None,
        );
        // Phase starting on a Monday: Tue = day 1, Fri = day 4.
        assert_eq!(planned_days(&tue_fri, 14, true, 0), vec![1, 4, 8, 11]);
        // Starting on a Tuesday: day 0 is a caliper day.
        assert_eq!(planned_days(&tue_fri, 14, true, 1), vec![0, 3, 7, 10, 14]);
        // Starting on a Sunday (6): Tue = day 2.
        assert_eq!(planned_days(&tue_fri, 7, false, 6), vec![2, 5]);
    }

    #[test]
    fn end_day_is_clipped_and_end_included_on_request() {
        let qd = sched(Frequency::Daily { per_day: 1 }, Some(100));
        assert_eq!(planned_days(&qd, 5, false, 0), vec![0, 1, 2, 3, 4]);
        assert_eq!(planned_days(&qd, 5, true, 0), vec![0, 1, 2, 3, 4, 5]);
        assert!(planned_days(&qd, 0, false, 0).is_empty());
        let q3d = sched(Frequency::EveryNDays { n: 3 }, None);
        assert_eq!(planned_days(&q3d, 10, false, 3), vec![0, 3, 6, 9]);
    }

    /// 5on2off counts from the first dose: 15 dosing days in 21 days (days 0–4, 7–11, 14–18)
    /// whatever weekday the phase starts on, where a Mon–Fri `weekdays` schedule started on a
    /// Wednesday gives a first block of 3 days (Wed–Fri) and shifts every block.
    #[test]
    fn five_on_two_off_counts_from_the_first_dose_on_every_weekday() {
        let cycle = sched(
            Frequency::Cycle {
                on: 5,
                off: 2,
                per_day: 1,
            },
            None,
        );
        let want: Vec<u32> = (0..21u32).filter(|d| d % 7 < 5).collect();
        assert_eq!(
            want,
            vec![0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18]
        );
        for wd0 in 0..7 {
            let days = planned_days(&cycle, 21, false, wd0);
            assert_eq!(days.len(), 15, "start weekday {wd0}");
            assert_eq!(days, want, "start weekday {wd0}");
            // The first block is 5 days on every start weekday; over 4 days it doses 4 times.
            assert_eq!(planned_days(&cycle, 4, false, wd0).len(), 4);
        }
        let mon_fri = sched(
            Frequency::Weekdays {
                days: vec![
                    Weekday::Monday,
                    Weekday::Tuesday,
                    Weekday::Wednesday,
                    Weekday::Thursday,
                    Weekday::Friday,
                ],
            },
            None,
        );
        // From a Wednesday (2): Wed Thu Fri, then Mon… — a 3-day first block.
        assert_eq!(planned_days(&mon_fri, 7, false, 2), vec![0, 1, 2, 5, 6]);
        // From a Friday (4) over 4 days: Fri and Mon only, where the cycle doses 4 days.
        assert_eq!(planned_days(&mon_fri, 4, false, 4).len(), 2);
        // A cycle starting on day 3 of its phase counts from day 3; BID doubles the doses.
        let late = Schedule {
            start_day: 3,
            ..sched(
                Frequency::Cycle {
                    on: 21,
                    off: 7,
                    per_day: 2,
                },
                None,
            )
        };
        let d = planned_days(&late, 60, false, 5);
        assert_eq!(d.first(), Some(&3));
        // Days 3–23, 31–51 and 59 of the 60-day phase.
        assert_eq!(d.len(), 21 + 21 + 1);
        assert!(!d.contains(&24) && d.contains(&23) && d.contains(&31));
        assert_eq!(dose_times(&late).len(), 2);
        assert_eq!(late.frequency.label(), "21on7off BID");
    }

    #[test]
    fn default_times_bid_qid() {
        let t = |h, m| Time::constant(h, m, 0, 0);
        assert_eq!(default_dose_times(1), vec![t(10, 0)]);
        assert_eq!(default_dose_times(2), vec![t(8, 0), t(16, 0)]);
        assert_eq!(
            default_dose_times(4),
            vec![t(8, 0), t(11, 20), t(14, 40), t(18, 0)]
        );
        assert!((day_fraction(t(18, 0)) - 0.75).abs() < 1e-15);
    }
}
