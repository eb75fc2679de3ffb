//! Per-visit summaries of a [`Dataset`] shared by the figures of `simulate`, `analyze` and
//! `fit`: arms in order, visit windows (weekday subsets pooled into one visit) and mean ± SEM
//! per arm and visit.

use super::{Dataset, Observation};

/// Rows of `cohort` (all rows when `None`).
pub fn in_cohort<'a>(
    ds: &'a Dataset,
    cohort: Option<&'a str>,
) -> impl Iterator<Item = &'a Observation> + 'a {
    ds.rows
        .iter()
        .filter(move |r| cohort.is_none_or(|c| r.cohort == c))
}

/// Arms of `cohort` (all rows when `None`) in order of first appearance (control first when
/// the data lists it first, as the simulator does).
pub fn arms_in_order(ds: &Dataset, cohort: Option<&str>) -> Vec<String> {
    let mut arms: Vec<String> = Vec::new();
    for r in in_cohort(ds, cohort) {
        if !arms.contains(&r.arm) {
            arms.push(r.arm.clone());
        }
    }
    arms
}

/// Visit windows of a cohort: each measured study day mapped to the visit it belongs to.
///
/// Neighbouring days at most one day apart are pooled into one visit (plotted at their
/// count-weighted mean day) as long as no animal was measured on both — e.g. days 3 and 4
/// when rolling enrollment starts some animals on a Monday and others on a Thursday with
/// Mon/Thu calipers. Without this, each weekday subset would make its own point and the mean
/// curve would zigzag between subsets. Daily measurements of one animal are never pooled.
pub fn visit_windows(ds: &Dataset, cohort: Option<&str>) -> Vec<(f64, f64)> {
    let mut days: Vec<(f64, Vec<&str>)> = Vec::new();
    // Day → index in `days` (measured data may have thousands of distinct fractional days).
    let mut index: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for r in in_cohort(ds, cohort) {
        if r.volume_mm3.is_none_or(|v| !v.is_finite()) {
            continue;
        }
        let key = if r.day == 0.0 { 0 } else { r.day.to_bits() };
        match index.get(&key) {
            Some(&k) => days[k].1.push(r.animal_id.as_str()),
            None => {
                index.insert(key, days.len());
                days.push((r.day, vec![r.animal_id.as_str()]));
            }
        }
    }
    days.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::with_capacity(days.len());
    let mut i = 0;
    while i < days.len() {
        // A set, not a Vec: with thousands of animals per visit `contains` on a Vec made this
        // quadratic (minutes at `--n-per-arm 10000`).
        let mut members: std::collections::HashSet<&str> = days[i].1.iter().copied().collect();
        let mut j = i + 1;
        while j < days.len()
            && days[j].0 - days[i].0 <= 1.0
            && !days[j].1.iter().any(|id| members.contains(id))
        {
            members.extend(days[j].1.iter().copied());
            j += 1;
        }
        let total: f64 = days[i..j].iter().map(|(_, ids)| ids.len() as f64).sum();
        let pos = days[i..j]
            .iter()
            .map(|(d, ids)| d * ids.len() as f64)
            .sum::<f64>()
            / total;
        out.extend(days[i..j].iter().map(|(d, _)| (*d, pos)));
        i = j;
    }
    out
}

/// Per-visit (day, mean, SEM, n) of the recorded volumes of `arm`, visits as in
/// [`visit_windows`] (computed over the whole cohort so every arm shares the same visits).
pub fn arm_mean_sem(ds: &Dataset, cohort: Option<&str>, arm: &str) -> Vec<(f64, f64, f64, usize)> {
    arm_visit_stats(ds, cohort, arm, |r| r.volume_mm3)
}

/// Whether any row of `cohort` has a body weight.
pub fn has_body_weights(ds: &Dataset, cohort: Option<&str>) -> bool {
    in_cohort(ds, cohort).any(|r| r.body_weight_g.is_some_and(|w| w.is_finite() && w > 0.0))
}

/// Per-visit (day, mean, SEM, n) of the body-weight change of `arm`, % of each animal's
/// baseline (its earliest recorded weight), visits as in [`arm_mean_sem`].
pub fn arm_weight_change(
    ds: &Dataset,
    cohort: Option<&str>,
    arm: &str,
) -> Vec<(f64, f64, f64, usize)> {
    let mut base: std::collections::HashMap<&str, (f64, f64)> = std::collections::HashMap::new();
    for r in in_cohort(ds, cohort).filter(|r| r.arm == arm) {
        let Some(w) = r.body_weight_g.filter(|w| w.is_finite() && *w > 0.0) else {
            continue;
        };
        let b = base.entry(r.animal_id.as_str()).or_insert((r.day, w));
        if r.day < b.0 {
            *b = (r.day, w);
        }
    }
    arm_visit_stats(ds, cohort, arm, |r| {
        let w = r.body_weight_g.filter(|w| w.is_finite())?;
        let (_, b) = base.get(r.animal_id.as_str())?;
        Some(100.0 * (w / b - 1.0))
    })
}

/// Per-visit (day, mean, SEM, n) of `value` over the rows of `arm` (one owner of the
/// visit pooling and the SEM for every per-visit curve).
fn arm_visit_stats(
    ds: &Dataset,
    cohort: Option<&str>,
    arm: &str,
    value: impl Fn(&Observation) -> Option<f64>,
) -> Vec<(f64, f64, f64, usize)> {
    let windows = visit_windows(ds, cohort);
    let visit = |day: f64| windows.iter().find(|(d, _)| *d == day).map_or(day, |w| w.1);
    let mut by_day: Vec<(f64, Vec<f64>)> = Vec::new();
    for r in in_cohort(ds, cohort).filter(|r| r.arm == arm) {
        let Some(v) = value(r).filter(|v| v.is_finite()) else {
            continue;
        };
        let day = visit(r.day);
        match by_day.iter_mut().find(|(d, _)| *d == day) {
            Some((_, vs)) => vs.push(v),
            None => by_day.push((day, vec![v])),
        }
    }
    by_day.sort_by(|a, b| a.0.total_cmp(&b.0));
    by_day
        .into_iter()
        .map(|(d, vs)| {
            let n = vs.len();
            let m = vs.iter().sum::<f64>() / n as f64;
            let sem = if n > 1 {
                (vs.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
                    / (n as f64).sqrt()
            } else {
                f64::NAN
            };
            (d, m, sem, n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_obs as obs;

    #[test]
    fn mean_sem_per_arm_in_order() {
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
        assert_eq!(arms_in_order(&ds, None), vec!["vehicle", "drug"]);
        let s = arm_mean_sem(&ds, None, "vehicle");
        assert_eq!(s[0].1, 150.0);
        // SD of {100, 200} = 70.71; SEM = 50.
        assert!((s[0].2 - 50.0).abs() < 1e-9);
    }

    #[test]
    fn visit_windows_pool_weekday_subsets_but_not_daily_series() {
        let obs = |id: &str, day: f64| obs(id, "vehicle", day, 100.0 + day);
        // Monday starter (0, 3, 7) and Thursday starter (0, 4, 7): days 3 and 4 are one visit.
        let ds = Dataset {
            rows: vec![
                obs("a", 0.0),
                obs("a", 3.0),
                obs("a", 7.0),
                obs("b", 0.0),
                obs("b", 4.0),
                obs("b", 7.0),
            ],
        };
        let s = arm_mean_sem(&ds, None, "vehicle");
        assert_eq!(
            s.iter().map(|x| (x.0, x.3)).collect::<Vec<_>>(),
            vec![(0.0, 2), (3.5, 2), (7.0, 2)]
        );
        assert!((s[1].1 - 103.5).abs() < 1e-12);
        // One animal measured daily: days stay apart.
        let daily = Dataset {
            rows: vec![obs("a", 0.0), obs("a", 1.0), obs("a", 2.0)],
        };
        assert_eq!(arm_mean_sem(&daily, None, "vehicle").len(), 3);
    }

    #[test]
    fn weight_change_is_percent_of_each_animals_first_weight() {
        let w = |id: &str, day: f64, g: f64| Observation {
            body_weight_g: Some(g),
            ..obs(id, "vehicle", day, 100.0)
        };
        let ds = Dataset {
            rows: vec![
                w("a", 0.0, 20.0),
                w("a", 7.0, 18.0),
                w("b", 0.0, 25.0),
                w("b", 7.0, 25.0),
            ],
        };
        assert!(has_body_weights(&ds, None));
        let s = arm_weight_change(&ds, None, "vehicle");
        assert_eq!((s[0].1, s[0].3), (0.0, 2));
        // a: −10%, b: 0% → mean −5%.
        assert!((s[1].1 + 5.0).abs() < 1e-12, "{s:?}");
        let none = Dataset {
            rows: vec![obs("a", "vehicle", 0.0, 100.0)],
        };
        assert!(!has_body_weights(&none, None));
    }
}
