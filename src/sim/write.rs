//! Study files of `simulate` (../shared/CONTRACT.md): `animals.csv`, `volumes_wide.csv`,
//! `enrollment.csv` and the growth / spaghetti plots. `summary.csv`, `tgi.csv`,
//! `endpoints.csv`… come from the analysis module and are written by the caller.

use super::{Engine, Fate, StudyBuffer};
use crate::data::Dataset;
use crate::output::{OutputError, fmt_f, write_csv_rows};
use crate::plot::{PlotError, growth, save};
use std::path::Path;

/// Errors while writing study files.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

/// What the files need besides the engine and the buffer.
#[derive(Debug, Clone)]
pub struct StudyInfo {
    /// Title used in plot headings of single-cohort studies (keep it short: the protocol id
    /// or title); multi-cohort studies use the cohort names.
    pub title: String,
    /// Seed, printed in the plot corner.
    pub seed: u64,
}

/// Status of visit `k` of an animal with `n` visits.
fn row_status(buf: &StudyBuffer, c: usize, a: usize, j: usize, k: usize) -> &'static str {
    if k + 1 == buf.visit_count(c, a, j) {
        buf.end_reason(c, a, j).status()
    } else {
        "on-study"
    }
}

/// Writes `animals.csv`, `volumes_wide.csv`, `enrollment.csv` (when there is a pre-treatment
/// phase) and the plots under `dir`; returns the written paths relative to `dir`.
///
/// `animals.csv`: one row per enrolled animal per treatment visit (study day ≥ 0), contract
/// columns plus `cohort`; `status` is `on-study`, and on the animal's last row
/// `end-of-study` or `humane-endpoint:volume|diameter|weight-loss`; volume 0 with empty
/// length/width = not palpable. `date` = the animal's study day 0 (protocol start date +
/// phases; rolling enrollment gives each animal its own day 0) + `day`.
pub fn write_study(
    engine: &Engine,
    buf: &StudyBuffer,
    info: &StudyInfo,
    dir: &Path,
) -> Result<Vec<String>, WriteError> {
    let mut files = Vec::new();
    let ds = buf.to_dataset(engine);
    write_animals_csv(engine, buf, dir)?;
    files.push("animals.csv".to_string());
    write_volumes_wide(engine, buf, dir)?;
    files.push("volumes_wide.csv".to_string());
    if write_enrollment_csv(engine, buf, dir)? {
        files.push("enrollment.csv".to_string());
    }
    if engine.has_dose_modification() {
        write_dose_modifications(engine, buf, dir)?;
        files.push("dose_modifications.csv".to_string());
    }
    if (0..engine.cohort_count()).any(|c| engine.stop_rule(c).is_some()) {
        write_study_stop(engine, buf, dir)?;
        files.push("study_stop.csv".to_string());
    }
    files.extend(write_growth_plots(engine, &ds, info, dir)?);
    Ok(files)
}

/// `animals.csv`: one row per enrolled animal per treatment visit (see [`write_study`]).
fn write_animals_csv(engine: &Engine, buf: &StudyBuffer, dir: &Path) -> Result<(), WriteError> {
    let header = [
        "animal_id",
        "arm",
        "day",
        "date",
        "length_mm",
        "width_mm",
        "volume_mm3",
        "body_weight_g",
        "status",
        "cohort",
    ];
    let mut rows = Vec::new();
    for c in 0..engine.cohort_count() {
        for a in 0..engine.arm_count(c) {
            for j in 0..buf.n_enrolled(c, a) {
                let id = buf.animal_id(engine, c, a, j);
                let (d, v, l, w, b) = (
                    buf.days(c, a, j),
                    buf.volumes(c, a, j),
                    buf.lengths(c, a, j),
                    buf.widths(c, a, j),
                    buf.body_weights(c, a, j),
                );
                let day0 = buf.day0_abs(c, a, j) as i64;
                for k in 0..buf.visit_count(c, a, j) {
                    let vol = if buf.log_volumes() { v[k].exp() } else { v[k] };
                    let get =
                        |x: &[f64], dec: usize| x.get(k).map_or(String::new(), |y| fmt_f(*y, dec));
                    rows.push(vec![
                        id.clone(),
                        engine.arm_name(c, a).to_string(),
                        fmt_f(d[k], 0),
                        engine.date_of(day0 + d[k] as i64).to_string(),
                        get(l, 2),
                        get(w, 2),
                        fmt_f(vol, 1),
                        get(b, 2),
                        row_status(buf, c, a, j, k).to_string(),
                        engine.cohort_name(c).to_string(),
                    ]);
                }
            }
        }
    }
    Ok(write_csv_rows(&dir.join("animals.csv"), &header, &rows)?)
}

/// `dose_modifications.csv`: one row per enrolled animal of an arm under
/// `[dose-modification]`: `animal_id,arm,cohort,holidays,holiday_days,dosing_stopped_day`
/// (holiday start days `;`-separated; the stop day empty when dosing never stopped).
fn write_dose_modifications(
    engine: &Engine,
    buf: &StudyBuffer,
    dir: &Path,
) -> Result<(), WriteError> {
    let header = [
        "animal_id",
        "arm",
        "cohort",
        "holidays",
        "holiday_days",
        "dosing_stopped_day",
    ];
    let mut rows = Vec::new();
    for c in 0..engine.cohort_count() {
        for a in (0..engine.arm_count(c)).filter(|&a| engine.dose_modified(c, a)) {
            for j in 0..buf.n_enrolled(c, a) {
                let days = buf.holiday_days(c, a, j);
                rows.push(vec![
                    buf.animal_id(engine, c, a, j),
                    engine.arm_name(c, a).to_string(),
                    engine.cohort_name(c).to_string(),
                    days.len().to_string(),
                    days.iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(";"),
                    buf.dosing_stopped(c, a, j)
                        .map_or(String::new(), |d| d.to_string()),
                ]);
            }
        }
    }
    Ok(write_csv_rows(
        &dir.join("dose_modifications.csv"),
        &header,
        &rows,
    )?)
}

/// `study_stop.csv`: per cohort, the `[study-stop]` rule, the fixed end and the day the
/// study actually ended (`cohort,rule,fixed_end_day,stop_day,stopped_early`).
fn write_study_stop(engine: &Engine, buf: &StudyBuffer, dir: &Path) -> Result<(), WriteError> {
    let header = [
        "cohort",
        "rule",
        "fixed_end_day",
        "stop_day",
        "stopped_early",
    ];
    let horizon = engine.horizon_days();
    let rows: Vec<Vec<String>> = (0..engine.cohort_count())
        .filter_map(|c| {
            let (arm, stat, v) = engine.stop_rule(c)?;
            let stop = buf.cohort(c).stop_day;
            Some(vec![
                engine.cohort_name(c).to_string(),
                format!("{arm} {stat} volume >= {} mm3", fmt_f(v, 0)),
                horizon.to_string(),
                stop.unwrap_or(horizon).to_string(),
                stop.is_some().to_string(),
            ])
        })
        .collect();
    Ok(write_csv_rows(&dir.join("study_stop.csv"), &header, &rows)?)
}

/// `volumes_wide.csv`: day rows; columns "cohort | arm | animal" grouped by cohort and arm
/// (pastes into Prism's grouped tables).
fn write_volumes_wide(engine: &Engine, buf: &StudyBuffer, dir: &Path) -> Result<(), WriteError> {
    let mut cols: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for c in 0..engine.cohort_count() {
        for a in 0..engine.arm_count(c) {
            for j in 0..buf.n_enrolled(c, a) {
                let name = format!(
                    "{} | {} | {}",
                    engine.cohort_name(c),
                    engine.arm_name(c, a),
                    buf.animal_id(engine, c, a, j)
                );
                let n = buf.visit_count(c, a, j);
                let vals = buf.days(c, a, j)[..n]
                    .iter()
                    .zip(&buf.volumes(c, a, j)[..n])
                    .map(|(&d, &v)| (d, if buf.log_volumes() { v.exp() } else { v }))
                    .collect();
                cols.push((name, vals));
            }
        }
    }
    let mut days: Vec<f64> = cols.iter().flat_map(|c| c.1.iter().map(|p| p.0)).collect();
    days.sort_by(f64::total_cmp);
    days.dedup();
    let header: Vec<String> = std::iter::once("day".to_string())
        .chain(cols.iter().map(|c| c.0.clone()))
        .collect();
    let rows: Vec<Vec<String>> = days
        .iter()
        .map(|&d| {
            std::iter::once(fmt_f(d, 0))
                .chain(cols.iter().map(|c| {
                    c.1.iter()
                        .find(|p| p.0 == d)
                        .map_or(String::new(), |p| fmt_f(p.1, 1))
                }))
                .collect()
        })
        .collect();
    Ok(write_csv_rows(
        &dir.join("volumes_wide.csv"),
        &header,
        &rows,
    )?)
}

/// `enrollment.csv`: every implanted animal's pre-treatment readings and fate; false (no
/// file) when the protocol has no pre-treatment phase.
fn write_enrollment_csv(
    engine: &Engine,
    buf: &StudyBuffer,
    dir: &Path,
) -> Result<bool, WriteError> {
    let pre = engine.pre_visit_days();
    if pre.is_empty() {
        return Ok(false);
    }
    let header = [
        "animal_id",
        "cohort",
        "day_since_implantation",
        "date",
        "length_mm",
        "width_mm",
        "volume_mm3",
        "fate",
        "arm",
    ];
    let mut rows = Vec::new();
    for c in 0..engine.cohort_count() {
        let o = buf.cohort(c);
        let np = pre.len();
        for k in 0..o.implanted {
            let id = buf.implant_id(engine, c, k as u32 + 1);
            let arm = match o.arm_of.get(k) {
                Some(&a) if a != u16::MAX => engine.arm_name(c, a as usize).to_string(),
                _ => String::new(),
            };
            let fate: Fate = o.fates[k];
            for (vi, &d) in pre.iter().enumerate() {
                let v = o.pre_volumes[k * np + vi];
                if v.is_nan() {
                    continue;
                }
                rows.push(vec![
                    id.clone(),
                    engine.cohort_name(c).to_string(),
                    d.to_string(),
                    engine
                        .date_of(engine.implantation_abs_day() as i64 + d as i64)
                        .to_string(),
                    fmt_f(o.pre_lengths[k * np + vi], 2),
                    fmt_f(o.pre_widths[k * np + vi], 2),
                    fmt_f(v, 1),
                    fate.status().to_string(),
                    arm.clone(),
                ]);
            }
        }
    }
    write_csv_rows(&dir.join("enrollment.csv"), &header, &rows)?;
    Ok(true)
}

/// Growth, spaghetti and log-spaghetti plots per cohort (`plots/growth` for one cohort,
/// `plots/growth_<cohort>` for several).
pub fn write_growth_plots(
    engine: &Engine,
    ds: &Dataset,
    info: &StudyInfo,
    dir: &Path,
) -> Result<Vec<String>, WriteError> {
    let mut files = Vec::new();
    let note = format!("{} · seed {}", engine.protocol_id(), info.seed);
    // The line drawn is the event threshold the time-to-endpoint analysis applies, not the
    // (higher) absolute volume cap that is rarely the limit reached first.
    let limit = Some(engine.event_line());
    let several = engine.cohort_count() > 1;
    for c in 0..engine.cohort_count() {
        // Short titles (protocol titles are often sentences): the cohort name, or for a
        // single cohort `info.title`.
        let (filter, suffix, label) = if several {
            (
                Some(engine.cohort_name(c)),
                format!("_{}", engine.cohort_slug(c)),
                engine.cohort_name(c).to_string(),
            )
        } else {
            (None, String::new(), info.title.clone())
        };
        let charts = [
            (
                "growth",
                growth::growth_chart(ds, filter, &format!("{label}: tumor growth"), Some(&note)),
            ),
            (
                "spaghetti",
                growth::spaghetti_chart(
                    ds,
                    filter,
                    &format!("{label}: individual tumors"),
                    Some(&note),
                    false,
                    limit.as_ref().map(|(v, l)| (*v, l.as_str())),
                ),
            ),
            (
                "spaghetti_log",
                growth::spaghetti_chart(
                    ds,
                    filter,
                    &format!("{label}: individual tumors (log scale)"),
                    Some(&note),
                    true,
                    limit.as_ref().map(|(v, l)| (*v, l.as_str())),
                ),
            ),
        ];
        for (stem, chart) in charts {
            let name = format!("plots/{stem}{suffix}");
            save(&chart, &dir.join(&name), (1000, 650))?;
            files.push(format!("{name}.svg"));
            files.push(format!("{name}.png"));
        }
    }
    Ok(files)
}

/// Human summary printed by `simulate`: per cohort implantation and enrollment counts, per
/// arm the measured volume mean and SD at treatment day 0.
pub fn summary_text(engine: &Engine, buf: &StudyBuffer) -> String {
    let mut s = String::new();
    for c in 0..engine.cohort_count() {
        let o = buf.cohort(c);
        s.push_str(&format!("cohort {}:\n", engine.cohort_name(c)));
        if engine.pre_visit_days().is_empty() {
            s.push_str(&format!("  enrolled at baseline: {}\n", o.enrolled));
        } else {
            s.push_str(&format!(
                "  implanted {}, takes {}, eligible {}, enrolled {}; excluded: not eligible {}, overgrown {}; not selected {}\n",
                o.implanted, o.takes, o.eligible, o.enrolled, o.not_eligible, o.overgrown, o.not_selected
            ));
            match (o.filled_day, o.enrollment_day) {
                (Some(d), _) => s.push_str(&format!("  enrollment filled on day {d} after implantation ({})\n", engine.date_of(engine.implantation_abs_day() as i64 + d as i64))),
                (None, Some(d)) => s.push_str(&format!("  NOT filled within the maximum wait: enrolled the {} eligible animals of day {d}\n", o.enrolled)),
                (None, None) => s.push_str("  NOT filled within the maximum wait\n"),
            }
        }
        for a in 0..engine.arm_count(c) {
            let n = buf.n_enrolled(c, a);
            let v0: Vec<f64> = (0..n)
                .filter_map(|j| {
                    let (d, v) = (buf.days(c, a, j), buf.volumes(c, a, j));
                    (d[0] == 0.0).then(|| if buf.log_volumes() { v[0].exp() } else { v[0] })
                })
                .collect();
            let m = v0.iter().sum::<f64>() / v0.len().max(1) as f64;
            let sd = if v0.len() > 1 {
                (v0.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v0.len() - 1) as f64).sqrt()
            } else {
                f64::NAN
            };
            s.push_str(&format!(
                "  arm {:<32} n = {:>3}  day-0 volume {} ± {} mm³ (mean ± SD)\n",
                engine.arm_name(c, a),
                n,
                fmt_f(m, 1),
                fmt_f(sd, 1)
            ));
            if engine.dose_modified(c, a) {
                s.push_str(&holiday_line(buf, c, a));
            }
        }
        if let Some((arm, stat, v)) = engine.stop_rule(c) {
            let h = engine.horizon_days();
            s.push_str(&match buf.cohort(c).stop_day {
                Some(d) => format!(
                    "  study stopped on day {d} (fixed end day {h}): the `{arm}` {stat} volume reached {} mm³\n",
                    fmt_f(v, 0)
                ),
                None => format!(
                    "  study ran to its fixed end, day {h}: the `{arm}` {stat} volume stayed below {} mm³\n",
                    fmt_f(v, 0)
                ),
            });
        }
    }
    s
}

/// "    dose holidays: 5 in 4 of 10 animals (days 7, 9, 11, 14, 18); dosing stopped in 1".
fn holiday_line(buf: &StudyBuffer, c: usize, a: usize) -> String {
    let n = buf.n_enrolled(c, a);
    let mut days: Vec<u16> = Vec::new();
    let mut animals = 0;
    for j in 0..n {
        let h = buf.holiday_days(c, a, j);
        animals += usize::from(!h.is_empty());
        days.extend_from_slice(h);
    }
    days.sort_unstable();
    let stopped = (0..n)
        .filter(|&j| buf.dosing_stopped(c, a, j).is_some())
        .count();
    let list: Vec<String> = days.iter().map(|d| d.to_string()).collect();
    format!(
        "      dose holidays: {} in {animals} of {n} animals{}; dosing stopped in {stopped}\n",
        days.len(),
        if list.is_empty() {
            String::new()
        } else {
            format!(" (days {})", list.join(", "))
        }
    )
}
