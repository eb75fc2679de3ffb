//! Figures of the analysis: TGI% over time with bootstrap bands, a waterfall of best response
//! with mRECIST bands, Kaplan–Meier curves of time to endpoint with censor marks, and the
//! body-weight change per arm.

use super::pipeline::{AnalysisOptions, AnalysisResult, CohortInfo};
use crate::data::Dataset;
use crate::plot::{
    AtRisk, AtRiskRow, Band, FONT, Figure, Legend, Marker, PlotError, RefLine, Series, XyChart,
    color, draw_err,
};

/// Shown TGI range, %: beyond it values are drawn at the edge. Early visits, when the control
/// has barely grown, divide by a ΔC near zero and give TGIs of ±1 000% that would otherwise
/// stretch the axis and flatten the curves that matter (−100% = treated grew twice as much as
/// control; 200% = treated shrank by the control's gain).
pub const TGI_CLIP_PCT: (f64, f64) = (-100.0, 200.0);
use plotters::coord::Shift;
use plotters::prelude::*;

/// TGI% over time per treated arm of `cohort`, with the bootstrap 95% CI as a band.
pub fn tgi(res: &AnalysisResult, cohort: &CohortInfo, opt: &AnalysisOptions) -> XyChart {
    let suffix = if cohort.name.is_empty() {
        String::new()
    } else {
        format!(" — {}", cohort.name)
    };
    let mut c = XyChart::new(
        &format!("Tumor growth inhibition vs {}{suffix}", cohort.arms[0]),
        "Study day",
        "TGI % = (1 − ΔT/ΔC)·100",
    );
    for (ai, arm) in cohort.arms.iter().enumerate().skip(1) {
        let rows: Vec<_> = res
            .tgi
            .iter()
            .filter(|t| t.cohort == cohort.name && &t.arm == arm && t.tgi_pct.is_finite())
            .collect();
        c.series.push(
            Series::line(arm, rows.iter().map(|t| (t.day, t.tgi_pct)).collect()).with_color(ai),
        );
        let band: Vec<(f64, f64, f64)> = rows
            .iter()
            .filter(|t| t.tgi_ci.0.is_finite())
            .map(|t| (t.day, t.tgi_ci.0, t.tgi_ci.1))
            .collect();
        if band.len() >= 2 {
            c.bands.push(Band {
                points: band,
                color: ai,
                label: None,
            });
        }
    }
    c.ref_lines.push(RefLine {
        at: 0.0,
        horizontal: true,
        label: "no inhibition".into(),
    });
    c.ref_lines.push(RefLine {
        at: 100.0,
        horizontal: true,
        label: "stasis".into(),
    });
    c.ref_lines.push(RefLine {
        at: cohort.analysis_day,
        horizontal: false,
        label: format!("analysis day {}", cohort.analysis_day),
    });
    c.clip_y = Some(TGI_CLIP_PCT);
    c.legend = Legend::Outside;
    c.subtitle = Some(tgi_subtitle(&c));
    if c.series.iter().all(|s| s.points.is_empty()) {
        // No defined TGI: span the study days so the empty axis is not a 2-day window
        // around the analysis-day line.
        let days = res
            .tgi
            .iter()
            .filter(|t| t.cohort == cohort.name)
            .map(|t| t.day);
        let (d0, d1) = days.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), d| {
            (a.min(d), b.max(d))
        });
        if d0 < d1 {
            c.x_range = Some((d0, d1));
            c.y_range = Some(TGI_CLIP_PCT);
        }
        // Legend entries without lines would suggest curves hidden somewhere.
        c.legend = Legend::Hidden;
    }
    c.note = Some(if opt.bootstrap_reps > 0 {
        format!(
            "bands: bootstrap 95% CI, {} reps, seed {}",
            opt.bootstrap_reps, opt.seed
        )
    } else {
        "no bootstrap".to_string()
    });
    c
}

/// How to read the TGI axis: its clipping (with the count of values beyond it), or why there
/// is no curve.
fn tgi_subtitle(c: &XyChart) -> String {
    let (lo, hi) = TGI_CLIP_PCT;
    if c.series.iter().all(|s| s.points.is_empty()) {
        return "TGI is undefined at every day: the control arm did not grow from baseline, so there is no growth to inhibit".into();
    }
    let clipped = c.clipped_points();
    let beyond = match clipped {
        0 => "none beyond it".to_string(),
        1 => "1 value beyond it drawn as a triangle at the edge".to_string(),
        k => format!("{k} values beyond it drawn as triangles at the edge"),
    };
    format!("Axis limited to {lo}% … {hi}% ({beyond}); 100% = stasis, above = regression")
}

/// Kaplan–Meier curves of time to endpoint per arm, with censoring marks.
pub fn survival(res: &AnalysisResult, cohort: &CohortInfo, opt: &AnalysisOptions) -> XyChart {
    let suffix = if cohort.name.is_empty() {
        String::new()
    } else {
        format!(" — {}", cohort.name)
    };
    let mut c = XyChart::new(
        &format!("Time to endpoint{suffix}"),
        "Study day",
        "Fraction without endpoint",
    );
    let mut x_max: f64 = 0.0;
    for (ai, arm) in cohort.arms.iter().enumerate() {
        let Some(km) = res
            .km
            .iter()
            .find(|k| k.cohort == cohort.name && &k.arm == arm)
        else {
            continue;
        };
        let t0 = res
            .animals
            .iter()
            .filter(|a| a.cohort == cohort.name && &a.arm == arm)
            .map(|a| a.day0())
            .fold(f64::INFINITY, f64::min);
        let mut pts = vec![(if t0.is_finite() { t0.min(0.0) } else { 0.0 }, 1.0)];
        let mut marks = Vec::new();
        for p in &km.points {
            pts.push((p.time, p.survival));
            if p.n_censor > 0 {
                marks.push(Marker {
                    x: p.time,
                    y: p.survival,
                });
            }
            x_max = x_max.max(p.time);
        }
        let mut s = Series::step(arm, pts).with_color(ai);
        s.markers = marks;
        c.series.push(s);
    }
    c.y_range = Some((0.0, 1.05));
    c.note = Some(format!("event: {}; + = censored", opt.describe_endpoint()));
    c.at_risk = Some(km_at_risk(res, cohort, x_max));
    c
}

/// Numbers at risk under the Kaplan–Meier curves at round days 0, s, 2s, … ≤ `x_max` (s the
/// first of 1, 2, 5, 10, 20, 50, … giving at most 10 columns): at day t, the arm's animals
/// whose time to endpoint or censoring is ≥ t (the KM table's n at risk of its first step at
/// or after t; 0 after its last).
fn km_at_risk(res: &AnalysisResult, cohort: &CohortInfo, x_max: f64) -> AtRisk {
    let mut step = 1.0;
    while x_max / step > 10.0 {
        step *= if (step / 10f64.powf(step.log10().floor()) - 2.0).abs() < 1e-9 {
            2.5
        } else {
            2.0
        };
    }
    let columns: Vec<f64> = (0..=((x_max / step).floor() as usize))
        .map(|k| k as f64 * step)
        .collect();
    let rows = cohort
        .arms
        .iter()
        .enumerate()
        .filter_map(|(ai, arm)| {
            let km = res
                .km
                .iter()
                .find(|k| k.cohort == cohort.name && &k.arm == arm)?;
            let counts = columns
                .iter()
                .map(|&t| {
                    Some(
                        km.points
                            .iter()
                            .find(|p| p.time >= t - 1e-9)
                            .map_or(0, |p| p.n_risk),
                    )
                })
                .collect();
            Some(AtRiskRow { color: ai, counts })
        })
        .collect();
    AtRisk {
        title: "At risk".into(),
        columns,
        rows,
    }
}

/// Waterfall of best response (%) per animal, sorted, colored by arm, over the mRECIST zones
/// of the best-response criterion (mCR < −95, mPR < −50, mSD < 35, mPD above; the class also
/// needs the best average response, shown as the letter above each bar).
#[derive(Debug, Clone)]
pub struct Waterfall {
    /// Title.
    pub title: String,
    /// Bars: (animal, arm index, best response %, mRECIST label).
    pub bars: Vec<(String, usize, f64, String)>,
    /// Arm names (index = palette colour).
    pub arms: Vec<String>,
    /// Upper display limit of the y axis (taller bars are clipped and marked).
    pub y_cap: f64,
}

/// Builds the waterfall of `cohort` (animals without an evaluable response are left out).
pub fn waterfall(res: &AnalysisResult, cohort: &CohortInfo) -> Waterfall {
    let suffix = if cohort.name.is_empty() {
        String::new()
    } else {
        format!(" — {}", cohort.name)
    };
    let mut bars: Vec<(String, usize, f64, String)> = res
        .response
        .iter()
        .filter(|r| r.cohort == cohort.name && r.best_response_pct.is_finite())
        .map(|r| {
            let ai = cohort.arms.iter().position(|a| a == &r.arm).unwrap_or(0);
            (
                r.animal_id.clone(),
                ai,
                r.best_response_pct,
                r.mrecist
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    bars.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
    let max = bars.iter().map(|b| b.2).fold(50.0, f64::max);
    Waterfall {
        title: format!("Best response per animal (mRECIST){suffix}"),
        bars,
        arms: cohort.arms.clone(),
        y_cap: max.min(400.0),
    }
}

impl Figure for Waterfall {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let e = draw_err(&self.title);
        let n = self.bars.len().max(1) as f64;
        // Room right of the bars for the zone labels.
        let x1 = n + 1.0 + 0.06 * n;
        let y0 = -105.0;
        let y1 = self.y_cap * 1.08;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 22, FontStyle::Bold))
            .margin(14)
            .x_label_area_size(30)
            .y_label_area_size(78)
            .build_cartesian_2d(0.0..x1, y0..y1)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_desc("Best response, % change from baseline")
            .x_desc("Animals, sorted")
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 14))
            .y_label_formatter(&|v| crate::plot::tick_label(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(&e)?;
        // mRECIST zones of the best-response criterion.
        let zones = [
            (y0, -95.0, RGBColor(0, 120, 60), "mCR"),
            (-95.0, -50.0, RGBColor(90, 170, 90), "mPR"),
            (-50.0, 35.0, RGBColor(150, 140, 40), "mSD"),
            (35.0, y1, RGBColor(220, 120, 110), "mPD"),
        ];
        for (lo, hi, c, label) in zones {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, lo), (x1, hi)],
                    c.mix(0.12).filled(),
                )))
                .map_err(&e)?;
            let y = if hi > 100.0 {
                35.0 + 0.08 * (y1 - 35.0)
            } else {
                0.5 * (lo + hi) + 0.02 * (y1 - y0)
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    label.to_string(),
                    (n + 0.3, y),
                    (FONT, 14).into_font().color(&c),
                )))
                .map_err(&e)?;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (x1, 0.0)],
                RGBColor(80, 80, 80).stroke_width(1),
            )))
            .map_err(&e)?;
        for (ai, arm) in self.arms.iter().enumerate() {
            let c = color(ai);
            let bars: Vec<_> = self
                .bars
                .iter()
                .enumerate()
                .filter(|(_, b)| b.1 == ai)
                .map(|(i, b)| {
                    Rectangle::new(
                        [
                            (i as f64 + 0.12, 0.0),
                            (i as f64 + 0.88, b.2.min(self.y_cap)),
                        ],
                        c.filled(),
                    )
                })
                .collect();
            if bars.is_empty() {
                continue;
            }
            chart
                .draw_series(bars)
                .map_err(&e)?
                .label(arm.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
        }
        // Clipped bars get their value printed.
        let clipped: Vec<_> = self
            .bars
            .iter()
            .enumerate()
            .filter(|(_, b)| b.2 > self.y_cap)
            .map(|(i, b)| {
                Text::new(
                    format!("{:.0}", b.2),
                    (i as f64 + 0.1, self.y_cap * 1.02),
                    (FONT, 11).into_font(),
                )
            })
            .collect();
        chart.draw_series(clipped).map_err(&e)?;
        crate::plot::draw_legend(&mut chart, SeriesLabelPosition::UpperRight, &self.title)?;
        Ok(())
    }
}

/// The rows of one cohort ordered control first, then the other arms as in `cohort.arms`, each
/// animal's rows together by day, so the growth figures (colour = arm position) use the same
/// colours as the analysis figures.
fn cohort_dataset(ds: &Dataset, cohort: &CohortInfo) -> Dataset {
    let mut first: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, r) in ds.rows.iter().enumerate() {
        first.entry(r.animal_id.as_str()).or_insert(i);
    }
    let mut rows: Vec<_> = ds
        .rows
        .iter()
        .filter(|r| r.cohort == cohort.name)
        .cloned()
        .collect();
    rows.sort_by(|a, b| {
        let ai = cohort
            .arms
            .iter()
            .position(|x| x == &a.arm)
            .unwrap_or(usize::MAX);
        let bi = cohort
            .arms
            .iter()
            .position(|x| x == &b.arm)
            .unwrap_or(usize::MAX);
        let fa = first.get(a.animal_id.as_str()).copied().unwrap_or(0);
        let fb = first.get(b.animal_id.as_str()).copied().unwrap_or(0);
        ai.cmp(&bi).then(fa.cmp(&fb)).then(a.day.total_cmp(&b.day))
    });
    Dataset { rows }
}

/// Writes `plots/growth` (mean ± SEM), `plots/spaghetti` (every animal, log scale) — both drawn
/// by [`crate::plot::growth`], shared with `simulate` — and `plots/body_weight` (when body
/// weights are recorded), `plots/tgi`, `plots/waterfall`, `plots/survival` (SVG + PNG) per
/// cohort (file names get `_<cohort>` when the data has
/// cohorts); returns the paths relative to `dir`.
pub fn write_plots(
    ds: &Dataset,
    res: &AnalysisResult,
    opt: &AnalysisOptions,
    dir: &std::path::Path,
) -> Result<Vec<String>, PlotError> {
    write_plots_with(ds, res, opt, dir, true)
}

/// Like [`write_plots`]; `with_growth = false` leaves out the growth and spaghetti figures
/// (used by `simulate`, whose own versions carry the seed and the simulated cohort details).
pub fn write_plots_with(
    ds: &Dataset,
    res: &AnalysisResult,
    opt: &AnalysisOptions,
    dir: &std::path::Path,
    with_growth: bool,
) -> Result<Vec<String>, PlotError> {
    let mut files = Vec::new();
    let plots = dir.join("plots");
    for c in &res.cohorts {
        // Same rule as the simulator's figures: a suffix only when there are several cohorts.
        let suffix = if res.cohorts.len() < 2 {
            String::new()
        } else {
            format!("_{}", crate::plot::slug(&c.name))
        };
        let mut rel = |stem: &str, written: Vec<std::path::PathBuf>| {
            for p in written {
                if let Some(name) = p.file_name() {
                    files.push(format!("plots/{}", name.to_string_lossy()));
                }
            }
            let _ = stem;
        };
        let cds = cohort_dataset(ds, c);
        let title_suffix = if c.name.is_empty() {
            String::new()
        } else {
            format!(" — {}", c.name)
        };
        if with_growth {
            let s = format!("growth{suffix}");
            let chart = crate::plot::growth::growth_chart(
                &cds,
                None,
                &format!("Tumor growth{title_suffix}"),
                None,
            );
            rel(&s, crate::plot::save(&chart, &plots.join(&s), (900, 600))?);
            let s = format!("spaghetti{suffix}");
            let chart = crate::plot::growth::spaghetti_chart(
                &cds,
                None,
                &format!("Individual tumors{title_suffix}"),
                None,
                true,
                None,
            );
            rel(&s, crate::plot::save(&chart, &plots.join(&s), (900, 600))?);
        }
        let bw_title = format!("Body weight{title_suffix}");
        if let Some(chart) =
            crate::plot::growth::body_weight_chart(&cds, None, &bw_title, opt.max_weight_loss_pct)
        {
            let s = format!("body_weight{suffix}");
            rel(&s, crate::plot::save(&chart, &plots.join(&s), (900, 600))?);
        }
        if c.arms.len() > 1 {
            let s = format!("tgi{suffix}");
            rel(
                &s,
                crate::plot::save(&tgi(res, c, opt), &plots.join(&s), (900, 600))?,
            );
        }
        let s = format!("waterfall{suffix}");
        rel(
            &s,
            crate::plot::save(&waterfall(res, c), &plots.join(&s), (1000, 600))?,
        );
        let s = format!("survival{suffix}");
        rel(
            &s,
            crate::plot::save(&survival(res, c, opt), &plots.join(&s), (900, 600))?,
        );
    }
    Ok(files)
}
