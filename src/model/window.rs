//! Endpoint windows: which of an animal's visits an endpoint reads, given the analysis day.
//! One rule for the analysis of measured or simulated data and for the tight power path, so
//! the two power engines cannot disagree about the endpoint.
//!
//! - *At the analysis day* (Welch on ln V, Mann–Whitney, TGI on measured data): the reading
//!   on the analysis day, or else the last one before it within
//!   [`ANALYSIS_DAY_CARRY_BACK_DAYS`]. A requested analysis day that is not a caliper day
//!   (Monday day 28 with Tue/Fri calipers) then reads the Friday visit instead of nothing.
//! - *Over time* (per-animal slope of ln V, AUC of ln(V/V0)): every reading from the baseline
//!   up to and including the analysis day — the same visits that end at the analysis-day
//!   reading, so the three endpoints describe one period of the study.

/// How many days before the analysis day a reading may be and still stand for it (assumed:
/// 3 days covers any twice-weekly caliper grid, whose gaps are 3 and 4 days; a longer
/// carry-back would read an animal removed well before the day as if it were on study).
pub const ANALYSIS_DAY_CARRY_BACK_DAYS: f64 = 3.0;

/// Tolerance on day comparisons (days are whole or from clock times; never closer than this).
const EPS: f64 = 1e-9;

/// Index into `days` (ascending) of the reading that stands for `analysis_day`, among
/// indices ≥ `from` (the baseline); `None` when the animal has none in the window.
pub fn analysis_visit(days: &[f64], from: usize, analysis_day: f64) -> Option<usize> {
    let k = days.iter().rposition(|&d| d <= analysis_day + EPS)?;
    (k >= from && analysis_day - days[k] <= ANALYSIS_DAY_CARRY_BACK_DAYS + EPS).then_some(k)
}

/// Whether a reading on `day` belongs to the over-time endpoints (slope, AUC) ending at
/// `analysis_day`.
#[inline]
pub fn in_time_window(day: f64, analysis_day: f64) -> bool {
    day <= analysis_day + EPS
}

/// Number of leading visits of `days` (ascending) in the over-time window.
pub fn time_window_len(days: &[f64], analysis_day: f64) -> usize {
    days.iter()
        .take_while(|&&d| in_time_window(d, analysis_day))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_visit_carries_back_at_most_three_days() {
        let tue_fri = [1.0, 4.0, 8.0, 11.0, 15.0, 18.0, 22.0, 25.0];
        assert_eq!(analysis_visit(&tue_fri, 0, 28.0), Some(7));
        assert_eq!(analysis_visit(&tue_fri, 0, 25.0), Some(7));
        assert_eq!(analysis_visit(&tue_fri, 0, 24.0), Some(6));
        // Four days after the last reading: no value.
        assert_eq!(analysis_visit(&tue_fri, 0, 29.0), None);
        // Before the baseline: no value.
        assert_eq!(analysis_visit(&tue_fri, 2, 4.0), None);
        assert_eq!(analysis_visit(&tue_fri, 0, 0.0), None);
    }

    #[test]
    fn time_window_ends_at_the_analysis_day() {
        let d = [0.0, 3.0, 7.0, 10.0, 14.0];
        assert_eq!(time_window_len(&d, 10.0), 4);
        assert_eq!(time_window_len(&d, 9.0), 3);
        assert_eq!(time_window_len(&d, 100.0), 5);
        assert!(in_time_window(10.0, 10.0));
    }
}
