//! Tumor growth figures drawn from a tidy [`Dataset`] (simulated or measured), so `simulate`
//! and `analyze` draw the same pictures:
//! - [`growth_chart`]: mean ± SEM per arm vs study day (Prism-style lines, markers and error
//!   bars; the per-visit statistics come from [`crate::data::visits`]);
//! - [`spaghetti_chart`]: every animal as a thin line colored by its arm, linear or log-scale
//!   y axis (on log scale non-palpable zero readings are dropped);
//! - [`body_weight_chart`]: mean ± SEM % body-weight change per arm with the protocol's
//!   weight-loss limit.
//!
//! Mean curves stop once fewer than half of an arm's animals are still measured
//! ([`MIN_AT_RISK`]): animals leave for tumor burden, so later means are of the survivors with
//! the smaller tumors and would show the control "shrinking".

use super::{AtRisk, RefLine, Series, XyChart};
use crate::data::Dataset;
use crate::data::visits::{
    arm_mean_sem, arm_weight_change, arms_in_order, has_body_weights, in_cohort,
};

/// Y-axis label of volume plots.
pub const VOLUME_LABEL: &str = "Tumor volume (mm³)";
/// X-axis label of study-day plots.
pub const DAY_LABEL: &str = "Study day (day 0 = randomization)";

/// A mean curve is drawn while at least this fraction of the arm's animals is measured.
pub const MIN_AT_RISK: f64 = 0.5;

/// What the figures say about [`MIN_AT_RISK`] and the legend's n.
pub const AT_RISK_NOTE: &str = "Each mean curve stops at the first visit where fewer than half of the arm's animals are still measured (later means would be of survivors only). Legend n: animals at the first visit → at the last point drawn; the table under the axis gives n at every visit.";

/// The mean ± SEM series of one arm from its per-visit (day, mean, SEM, n), cut at the first
/// visit below [`MIN_AT_RISK`] of the arm's largest n; the label shows n at the start and, if
/// it fell, at the last point drawn ("vehicle (n = 10→6)").
fn mean_series(arm: &str, stats: &[(f64, f64, f64, usize)], color: usize) -> Series {
    let n_max = stats.iter().map(|s| s.3).max().unwrap_or(0);
    let keep = stats
        .iter()
        .position(|s| (s.3 as f64) < MIN_AT_RISK * n_max as f64)
        .unwrap_or(stats.len());
    let kept = &stats[..keep];
    let n_first = kept.first().map_or(0, |s| s.3);
    let n_last = kept.last().map_or(0, |s| s.3);
    let label = if n_last == n_first {
        format!("{arm} (n = {n_first})")
    } else {
        format!("{arm} (n = {n_first}→{n_last})")
    };
    let pts = kept.iter().map(|s| (s.0, s.1)).collect();
    let errs = kept.iter().map(|s| s.2).collect();
    Series::line(&label, pts)
        .with_errors(errs)
        .with_color(color)
}

/// Mean ± SEM growth curves, one series per arm (legend = arm name with its n at risk),
/// each stopped by the [`MIN_AT_RISK`] rule, which the subtitle states.
pub fn growth_chart(
    ds: &Dataset,
    cohort: Option<&str>,
    title: &str,
    note: Option<&str>,
) -> XyChart {
    let mut chart = XyChart::new(title, DAY_LABEL, &format!("{VOLUME_LABEL}, mean ± SEM"));
    chart.note = note.map(str::to_string);
    chart.subtitle = Some(AT_RISK_NOTE.to_string());
    let mut counts = Vec::new();
    for (i, arm) in arms_in_order(ds, cohort).iter().enumerate() {
        let stats = arm_mean_sem(ds, cohort, arm);
        chart.series.push(mean_series(arm, &stats, i));
        counts.push((i, stats.iter().map(|s| (s.0, s.3)).collect()));
    }
    chart.at_risk = Some(AtRisk::from_series(AT_RISK_TITLE, &counts));
    chart
}

/// Header of the at-risk table under the mean curves.
pub const AT_RISK_TITLE: &str = "Animals measured";

/// Mean ± SEM % body-weight change from each animal's first weighing, one series per arm
/// (same at-risk rule as [`growth_chart`]), with a reference line at −`limit_pct` (the
/// protocol's humane weight-loss limit) when given; `None` when no body weight is recorded.
pub fn body_weight_chart(
    ds: &Dataset,
    cohort: Option<&str>,
    title: &str,
    limit_pct: Option<f64>,
) -> Option<XyChart> {
    if !has_body_weights(ds, cohort) {
        return None;
    }
    let mut chart = XyChart::new(
        title,
        DAY_LABEL,
        "Body weight change from baseline (%), mean ± SEM",
    );
    let mut counts = Vec::new();
    for (i, arm) in arms_in_order(ds, cohort).iter().enumerate() {
        let stats = arm_weight_change(ds, cohort, arm);
        if !stats.is_empty() {
            chart.series.push(mean_series(arm, &stats, i));
            counts.push((i, stats.iter().map(|s| (s.0, s.3)).collect()));
        }
    }
    chart.at_risk = Some(AtRisk::from_series(AT_RISK_TITLE, &counts));
    let limit = match limit_pct {
        Some(l) => {
            chart.ref_lines.push(RefLine {
                at: -l,
                horizontal: true,
                label: format!("humane limit: −{l}% body weight"),
            });
            format!("dashed line: the protocol's weight-loss limit (−{l}%)")
        }
        None => "no weight-loss limit given".to_string(),
    };
    chart.subtitle = Some(format!(
        "Baseline = each animal's first weighing; {limit}. {AT_RISK_NOTE}"
    ));
    chart.legend = super::Legend::LowerRight;
    Some(chart)
}

/// Every animal's measured volumes, colored by arm; `log_y` for the log-scale variant.
/// `limit` adds a dashed reference line (e.g. the humane volume limit).
pub fn spaghetti_chart(
    ds: &Dataset,
    cohort: Option<&str>,
    title: &str,
    note: Option<&str>,
    log_y: bool,
    limit: Option<(f64, &str)>,
) -> XyChart {
    let y = if log_y {
        format!("{VOLUME_LABEL}, log scale")
    } else {
        VOLUME_LABEL.to_string()
    };
    let mut chart = XyChart::new(title, DAY_LABEL, &y);
    chart.note = note.map(str::to_string);
    chart.log_y = log_y;
    let arms = arms_in_order(ds, cohort);
    let mut current: Option<(String, usize)> = None;
    let mut pts: Vec<(f64, f64)> = Vec::new();
    let flush = |chart: &mut XyChart, cur: &Option<(String, usize)>, pts: &mut Vec<(f64, f64)>| {
        if let Some((_, ai)) = cur
            && !pts.is_empty()
        {
            let s = Series::thin(&arms[*ai], std::mem::take(pts)).with_color(*ai);
            chart.series.push(s);
        }
        pts.clear();
    };
    for r in in_cohort(ds, cohort) {
        let key = format!("{}\u{1f}{}", r.arm, r.animal_id);
        if current.as_ref().is_none_or(|(k, _)| *k != key) {
            flush(&mut chart, &current, &mut pts);
            let ai = arms.iter().position(|a| *a == r.arm).unwrap_or(0);
            current = Some((key, ai));
        }
        if let Some(v) = r
            .volume_mm3
            .filter(|v| v.is_finite() && (!log_y || *v > 0.0))
        {
            pts.push((r.day, v));
        }
    }
    flush(&mut chart, &current, &mut pts);
    if let Some((at, label)) = limit {
        chart.ref_lines.push(RefLine {
            at,
            horizontal: true,
            label: label.to_string(),
        });
    }
    chart
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_obs as obs;

    #[test]
    fn one_mean_series_per_arm_and_one_thin_series_per_animal() {
        let ds = Dataset {
            rows: vec![
                obs("a1", "vehicle", 0.0, 100.0),
                obs("a1", "vehicle", 3.0, 200.0),
                obs("a2", "vehicle", 0.0, 200.0),
                obs("a2", "vehicle", 3.0, 400.0),
                obs("b1", "drug", 0.0, 150.0),
                obs("b1", "drug", 3.0, 0.0),
            ],
        };
        let g = growth_chart(&ds, None, "t", Some("seed 1"));
        assert_eq!(g.series.len(), 2);
        assert_eq!(g.series[0].label, "vehicle (n = 2)");
        assert_eq!(g.series[0].points[0], (0.0, 150.0));
        let sp = spaghetti_chart(&ds, None, "t", None, false, None);
        assert_eq!(sp.series.len(), 3);
        let lg = spaghetti_chart(&ds, None, "t", None, true, Some((2000.0, "limit")));
        assert_eq!(
            lg.series[2].points.len(),
            1,
            "zero reading dropped on log scale"
        );
        assert_eq!(lg.ref_lines.len(), 1);
    }

    #[test]
    fn mean_curve_stops_when_fewer_than_half_remain() {
        // Four vehicle animals on day 0, two left on day 7 (half: kept), one on day 14 (stop),
        // and day 21 has two again (a curve never resumes after stopping).
        let mut rows = Vec::new();
        for (id, days) in [
            ("a1", &[0.0, 7.0, 14.0, 21.0][..]),
            ("a2", &[0.0, 7.0, 21.0][..]),
            ("a3", &[0.0][..]),
            ("a4", &[0.0][..]),
        ] {
            for &d in days {
                rows.push(obs(id, "vehicle", d, 100.0 + 10.0 * d));
            }
        }
        let g = growth_chart(&Dataset { rows }, None, "t", None);
        let s = &g.series[0];
        assert_eq!(s.points.last().map(|p| p.0), Some(7.0), "{:?}", s.points);
        assert_eq!(s.label, "vehicle (n = 4→2)");
        assert!(g.subtitle.as_deref().unwrap().contains("fewer than half"));
    }

    #[test]
    fn body_weight_chart_has_the_limit_line_and_needs_weights() {
        let w = |id: &str, day: f64, g: f64| crate::data::Observation {
            body_weight_g: Some(g),
            ..obs(id, "vehicle", day, 100.0)
        };
        let ds = Dataset {
            rows: vec![
                w("a", 0.0, 20.0),
                w("a", 7.0, 19.0),
                w("b", 0.0, 20.0),
                w("b", 7.0, 17.0),
            ],
        };
        let c = body_weight_chart(&ds, None, "t", Some(20.0)).unwrap();
        assert_eq!(c.series.len(), 1);
        assert!((c.series[0].points[1].1 + 10.0).abs() < 1e-9);
        assert_eq!(c.ref_lines[0].at, -20.0);
        let plain = Dataset {
            rows: vec![obs("a", "vehicle", 0.0, 100.0)],
        };
        assert!(body_weight_chart(&plain, None, "t", Some(20.0)).is_none());
    }
}
