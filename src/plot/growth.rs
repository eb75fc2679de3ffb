//! Tumor growth figures drawn from a tidy [`Dataset`] (simulated or measured), so `simulate`
//! and `analyze` draw the same pictures:
//! - [`growth_chart`]: mean ± SEM per arm vs study day (Prism-style lines, markers and error
//!   bars; the per-visit statistics come from [`crate::data::visits`]);
//! - [`spaghetti_chart`]: every animal as a thin line colored by its arm, linear or log-scale
//!   y axis (on log scale non-palpable zero readings are dropped).

use super::{RefLine, Series, XyChart};
use crate::data::Dataset;
use crate::data::visits::{arm_mean_sem, arms_in_order, in_cohort};

/// Y-axis label of volume plots.
pub const VOLUME_LABEL: &str = "Tumor volume (mm³)";
/// X-axis label of study-day plots.
pub const DAY_LABEL: &str = "Study day (day 0 = randomization)";

/// Mean ± SEM growth curves, one series per arm (legend = arm name with its n at day 0).
pub fn growth_chart(
    ds: &Dataset,
    cohort: Option<&str>,
    title: &str,
    note: Option<&str>,
) -> XyChart {
    let mut chart = XyChart::new(title, DAY_LABEL, &format!("{VOLUME_LABEL}, mean ± SEM"));
    chart.note = note.map(str::to_string);
    for (i, arm) in arms_in_order(ds, cohort).iter().enumerate() {
        let stats = arm_mean_sem(ds, cohort, arm);
        let n0 = stats.first().map_or(0, |s| s.3);
        let pts = stats.iter().map(|s| (s.0, s.1)).collect();
        let errs = stats.iter().map(|s| s.2).collect();
        chart.series.push(
            Series::line(&format!("{arm} (n = {n0})"), pts)
                .with_errors(errs)
                .with_color(i),
        );
    }
    chart
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
}
