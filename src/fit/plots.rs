//! Goodness-of-fit figures: observed vs fitted curves (`fit`) and residuals over time
//! (`fit_residuals`). Individual curves use each animal's empirical-Bayes parameters, the
//! usual individual predictions of a mixed-effects fit.

use super::FitResult;
use crate::plot::{Marker, PlotError, RefLine, Series, XyChart, save};
use std::path::{Path, PathBuf};

fn grid(days: &[f64], n: usize) -> Vec<f64> {
    let lo = days.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = days.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    (0..=n)
        .map(|k| lo + (hi - lo) * k as f64 / n as f64)
        .collect()
}

/// Observed volumes (points; censored readings as `+` at the floor), each animal's fitted
/// curve and the typical curve, log-scale volume.
pub fn fit_chart(r: &FitResult, note: &str) -> XyChart {
    let title = if r.arm.is_empty() {
        format!("{} fit", r.model.name())
    } else {
        format!("{} fit, arm {}", r.model.name(), r.arm)
    };
    let mut c = XyChart::new(&title, "Study day", "Tumor volume (mm³)");
    c.log_y = true;
    c.note = Some(note.to_string());
    let all_days: Vec<f64> = r
        .series
        .iter()
        .flat_map(|s| s.days.iter().copied())
        .collect();
    let tgrid = grid(&all_days, 60);
    for (s, phi) in r.series.iter().zip(&r.individual) {
        let t = grid(&s.days, 40);
        c.series.push(
            Series::thin(
                "individual fit",
                t.iter()
                    .map(|&d| (d, r.model.ln_volume(phi, d).exp()))
                    .collect(),
            )
            .with_color(2),
        );
    }
    let mut obs = Series::points("observed", Vec::new()).with_color(1);
    for s in &r.series {
        for ((d, y), cens) in s.days.iter().zip(&s.ln_v).zip(&s.censored) {
            if *cens {
                obs.markers.push(Marker { x: *d, y: y.exp() });
            } else {
                obs.points.push((*d, y.exp()));
            }
        }
    }
    c.series.push(obs);
    let mut typ = Series::line(
        "typical (population)",
        tgrid
            .iter()
            .map(|&d| (d, r.model.ln_volume(&r.mean_phi, d).exp()))
            .collect(),
    )
    .with_color(0);
    typ.style = crate::plot::SeriesStyle::ThinLine;
    typ.dashed = true;
    c.series.push(typ);
    if let Some(f) = r.floor_mm3 {
        c.ref_lines.push(RefLine {
            at: f,
            horizontal: true,
            label: "detection floor (+ = censored)".into(),
        });
    }
    c
}

/// Residuals ln(observed) − ln(individual fit) against study day, with 0 and ±1.96σ lines.
pub fn residual_chart(r: &FitResult, note: &str) -> XyChart {
    let mut c = XyChart::new(
        "Residuals of the fit",
        "Study day",
        "ln(observed) − ln(fitted)",
    );
    c.note = Some(note.to_string());
    let mut pts = Vec::new();
    for (s, phi) in r.series.iter().zip(&r.individual) {
        for ((d, y), cens) in s.days.iter().zip(&s.ln_v).zip(&s.censored) {
            if !cens {
                pts.push((*d, y - r.model.ln_volume(phi, *d)));
            }
        }
    }
    c.series
        .push(Series::points("residual (readings above the floor)", pts).with_color(5));
    let s = r.residual_sd.value;
    c.ref_lines.push(RefLine {
        at: 0.0,
        horizontal: true,
        label: String::new(),
    });
    c.ref_lines.push(RefLine {
        at: 1.96 * s,
        horizontal: true,
        label: "+1.96 σ".into(),
    });
    c.ref_lines.push(RefLine {
        at: -1.96 * s,
        horizontal: true,
        label: "−1.96 σ".into(),
    });
    c
}

/// Writes `plots/fit.{svg,png}` and `plots/fit_residuals.{svg,png}` under `dir`.
pub fn write(r: &FitResult, dir: &Path, note: &str) -> Result<Vec<PathBuf>, PlotError> {
    let mut files = save(
        &fit_chart(r, note),
        &dir.join("plots").join("fit"),
        (900, 600),
    )?;
    files.extend(save(
        &residual_chart(r, note),
        &dir.join("plots").join("fit_residuals"),
        (900, 600),
    )?);
    Ok(files)
}
