//! Working days, weekends and holidays, on day offsets from the timeline start.
//!
//! All timeline arithmetic is done on integer day offsets from `--start` (day 0 = the start
//! date); dates are produced only at the end. This keeps the calendar logic exact and free of
//! time-zone questions (a lab day is a civil date).

use crate::protocol::WeekendPolicy;
use jiff::civil::{Date, Weekday};
use std::collections::BTreeSet;

/// Why a date is not a normal working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DayFlag {
    /// Saturday or Sunday.
    Weekend,
    /// A listed holiday.
    Holiday,
}

impl DayFlag {
    /// Lowercase name written in `timeline.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            DayFlag::Weekend => "weekend",
            DayFlag::Holiday => "holiday",
        }
    }
}

/// The calendar of one timeline: start date, weekend policy and holidays.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// Day 0.
    pub start: Date,
    /// Weekend / holiday handling.
    pub policy: WeekendPolicy,
    /// Holidays as day offsets from `start`.
    holidays: BTreeSet<i64>,
}

impl Calendar {
    /// A calendar starting on `start` with the given policy and holiday dates (dates before the
    /// start are irrelevant and ignored).
    pub fn new(start: Date, policy: WeekendPolicy, holidays: &[Date]) -> Self {
        let holidays = holidays
            .iter()
            .filter_map(|h| days_between(start, *h))
            .collect();
        Calendar {
            start,
            policy,
            holidays,
        }
    }

    /// Weekday of day offset `d`.
    pub fn weekday(&self, d: i64) -> Weekday {
        self.start.weekday().wrapping_add(d)
    }

    /// The flag of day `d`, if it is not a working day (holiday wins over weekend).
    pub fn flag(&self, d: i64) -> Option<DayFlag> {
        if self.holidays.contains(&d) {
            Some(DayFlag::Holiday)
        } else if matches!(self.weekday(d), Weekday::Saturday | Weekday::Sunday) {
            Some(DayFlag::Weekend)
        } else {
            None
        }
    }

    /// True when `d` is a working day.
    pub fn is_working(&self, d: i64) -> bool {
        self.flag(d).is_none()
    }

    /// The first working day on or after `d`.
    pub fn next_working(&self, d: i64) -> i64 {
        let mut x = d;
        // At most 7 + (number of holidays) iterations: a week always has working days unless
        // every weekday is a holiday, which the holiday set cannot cover indefinitely.
        while !self.is_working(x) {
            x += 1;
        }
        x
    }

    /// The date of day offset `d` (`None` beyond the civil calendar's range).
    pub fn date(&self, d: i64) -> Option<Date> {
        self.start.checked_add(jiff::Span::new().days(d)).ok()
    }

    /// Day offset of the `k`-th working day counting from `from` (k = 0 → first working day on
    /// or after `from`).
    pub fn working_day(&self, from: i64, k: i64) -> i64 {
        let mut d = self.next_working(from);
        for _ in 0..k {
            d = self.next_working(d + 1);
        }
        d
    }
}

/// Whole days from `a` to `b` (negative when `b` is earlier).
pub fn days_between(a: Date, b: Date) -> Option<i64> {
    let span = a.until((jiff::Unit::Day, b)).ok()?;
    Some(i64::from(span.get_days()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn weekends_holidays_and_next_working_day() {
        // 2027-01-04 is a Monday.
        let cal = Calendar::new(
            date(2027, 1, 4),
            WeekendPolicy::ShiftToNextWorkingDay,
            &[date(2027, 1, 11)],
        );
        assert_eq!(cal.weekday(0), Weekday::Monday);
        assert_eq!(cal.flag(5), Some(DayFlag::Weekend));
        assert_eq!(cal.flag(6), Some(DayFlag::Weekend));
        assert_eq!(cal.flag(7), Some(DayFlag::Holiday));
        assert_eq!(cal.next_working(5), 8);
        assert_eq!(cal.working_day(0, 5), 8);
        assert_eq!(cal.date(28), Some(date(2027, 2, 1)));
        assert_eq!(days_between(date(2027, 1, 4), date(2026, 12, 31)), Some(-4));
    }
}
