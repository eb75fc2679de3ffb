//! Figures of the in vitro simulator: the population over the derivation and the
//! dose-response curves.

use super::assay::{LineFit, Well};
use super::derivation::DerivationRun;
use crate::plot::{FONT, Figure, PlotError, RefLine, Series, XyChart, color, draw_err};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Three stacked panels: cells in the vessel (log), resistant fraction, drug concentration;
/// dose escalations marked by vertical dashed lines.
pub struct PopulationFigure {
    panels: [XyChart; 3],
}

impl PopulationFigure {
    /// Builds the figure from one run.
    pub fn new(run: &DerivationRun, title: &str, note: &str) -> Self {
        let x_max = run.days.last().map_or(1.0, |r| r.day as f64).max(1.0);
        let mut cells = XyChart::new(title, "Day", "Cells per vessel");
        cells.log_y = true;
        cells.series.push(
            Series::thin(
                "total",
                run.days
                    .iter()
                    .filter(|r| r.total() > 0)
                    .map(|r| (r.day as f64, r.total() as f64))
                    .collect(),
            )
            .with_color(0),
        );
        cells.series.push(
            Series::thin(
                "resistant",
                run.days
                    .iter()
                    .filter(|r| r.resistant > 0)
                    .map(|r| (r.day as f64, r.resistant as f64))
                    .collect(),
            )
            .with_color(4),
        );
        if run.days.iter().any(|r| r.adapting > 0) {
            cells.series.push(
                Series::thin(
                    "adapting",
                    run.days
                        .iter()
                        .filter(|r| r.adapting > 0)
                        .map(|r| (r.day as f64, r.adapting as f64))
                        .collect(),
                )
                .with_color(1),
            );
        }
        let mut frac = XyChart::new("", "Day", "Resistant fraction");
        frac.y_range = Some((0.0, 1.05));
        frac.series.push(
            Series::thin(
                "resistant fraction",
                run.days
                    .iter()
                    .filter(|r| r.total() > 0)
                    .map(|r| (r.day as f64, r.resistant_fraction()))
                    .collect(),
            )
            .with_color(4),
        );
        frac.ref_lines.push(RefLine {
            at: 0.5,
            horizontal: true,
            label: "50% resistant".into(),
        });
        let mut drug = XyChart::new("", "Day", "Drug (nM)");
        drug.series.push(
            Series::step(
                "drug concentration",
                run.days.iter().map(|r| (r.day as f64, r.drug_nm)).collect(),
            )
            .with_color(5),
        );
        drug.note = Some(note.to_string());
        // Dose-step labels (top panel only): steps closer than 6% of the axis share the first
        // one's label ("500 → 1000 nM"), which would otherwise print on top of each other.
        let mut labels = vec![String::new(); run.escalations.len()];
        let mut first = 0;
        for k in 0..run.escalations.len() {
            let close =
                k > 0 && f64::from(run.escalations[k].0 - run.escalations[first].0) < 0.06 * x_max;
            if !close {
                first = k;
            }
            let c = fmt_num(run.escalations[k].1);
            labels[first] = if close {
                format!("{} → {c} nM", labels[first].trim_end_matches(" nM"))
            } else {
                format!("{c} nM")
            };
        }
        for (i, p) in [&mut cells, &mut frac, &mut drug].into_iter().enumerate() {
            p.x_range = Some((0.0, x_max));
            for (&(day, _), label) in run.escalations.iter().zip(&labels) {
                p.ref_lines.push(RefLine {
                    at: day as f64,
                    horizontal: false,
                    label: if i == 0 { label.clone() } else { String::new() },
                });
            }
        }
        if let Some(t) = run.time_to_resistance_days {
            frac.ref_lines.push(RefLine {
                at: t as f64,
                horizontal: false,
                label: format!("day {t}: >50%"),
            });
        }
        PopulationFigure {
            panels: [cells, frac, drug],
        }
    }
}

impl Figure for PopulationFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let h = root.dim_in_pixel().1 as i32;
        let (top, rest) = root.split_vertically(h * 48 / 100);
        let (mid, bottom) = rest.split_vertically(h * 28 / 100);
        self.panels[0].draw(&top)?;
        self.panels[1].draw(&mid)?;
        self.panels[2].draw(&bottom)
    }
}

/// Compact number for labels (1, 2.5, 100, 1e+04).
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 1e4 || x.abs() < 1e-2 {
        format!("{x:.1e}")
    } else {
        // Three significant digits.
        let mag = x.abs().log10().floor() as i32;
        let dec = (2 - mag).clamp(0, 4) as usize;
        let s = format!("{x:.dec$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// The frame both custom figures share: the note in the lower right corner, then a chart
/// builder with the title, the margin and the axis label areas.
fn framed<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &'b str,
    note: &str,
) -> Result<ChartBuilder<'a, 'b, DB>, PlotError> {
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(
        note.to_string(),
        (
            w as i32 - note.chars().count() as i32 * 7 - 8,
            h as i32 - 18,
        ),
        TextStyle::from((FONT, 13).into_font()).color(&RGBColor(110, 110, 110)),
    ))
    .map_err(draw_err(title))?;
    let mut b = ChartBuilder::on(root);
    b.caption(title, (FONT, 22, FontStyle::Bold))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(78);
    Ok(b)
}

/// Dose-response points and fitted 4PL curves on a log dose axis.
pub struct DoseResponseFigure {
    /// Title.
    pub title: String,
    /// Wells (vehicle wells are not drawn on the log axis; they define 100%).
    pub wells: Vec<Well>,
    /// Fits per line, in line order.
    pub fits: Vec<LineFit>,
    /// Corner note.
    pub note: String,
    /// Y axis label.
    pub y_label: String,
}

impl Figure for DoseResponseFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let e = draw_err(&self.title);
        let pos: Vec<f64> = self
            .wells
            .iter()
            .map(|w| w.dose_nm)
            .filter(|d| *d > 0.0 && d.is_finite())
            .collect();
        let (dmin, dmax) = pos
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &d| {
                (a.min(d), b.max(d))
            });
        let (dmin, dmax) = if dmin.is_finite() && dmax > dmin {
            (dmin / 2.0, dmax * 2.0)
        } else {
            (0.01, 1e4)
        };
        let ys: Vec<f64> = self
            .wells
            .iter()
            .filter(|w| w.dose_nm > 0.0)
            .map(|w| w.response_pct)
            .filter(|y| y.is_finite())
            .collect();
        let ymax = ys.iter().copied().fold(100.0f64, f64::max) * 1.08;
        let ymin = ys.iter().copied().fold(0.0f64, f64::min) - 5.0;
        let mut chart = framed(root, &self.title, &self.note)?
            .build_cartesian_2d((dmin..dmax).log_scale(), ymin..ymax)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("Dose (nM, log scale)")
            .y_desc(&self.y_label)
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 14))
            .x_label_formatter(&|v| fmt_num(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(&e)?;
        for (i, lf) in self.fits.iter().enumerate() {
            let c = color(if i == 0 { 0 } else { i + 3 });
            let pts: Vec<(f64, f64)> = self
                .wells
                .iter()
                .filter(|w| w.line == lf.line && w.dose_nm > 0.0 && w.response_pct.is_finite())
                .map(|w| (w.dose_nm, w.response_pct))
                .collect();
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.mix(0.7).filled())))
                .map_err(&e)?;
            let label = match &lf.fit {
                Ok(f) => format!(
                    "{}: IC50 {} nM [{}, {}]",
                    lf.line,
                    fmt_num(f.ic50()),
                    fmt_num(f.ic50_ci_low),
                    fmt_num(f.ic50_ci_high)
                ),
                Err(_) => format!("{}: no fit", lf.line),
            };
            if let Ok(f) = &lf.fit {
                let n = 200;
                let curve: Vec<(f64, f64)> = (0..=n)
                    .map(|k| {
                        let d = dmin * (dmax / dmin).powf(k as f64 / n as f64);
                        (d, f.predict(d))
                    })
                    .filter(|p| p.1 >= ymin && p.1 <= ymax)
                    .collect();
                chart
                    .draw_series(LineSeries::new(curve, c.stroke_width(2)))
                    .map_err(&e)?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                    });
                let ic = f.ic50();
                if ic > dmin && ic < dmax {
                    let style = ShapeStyle::from(&c.mix(0.6)).stroke_width(1);
                    chart
                        .draw_series(DashedLineSeries::new(
                            vec![(ic, ymin), (ic, f.predict(ic))],
                            5,
                            4,
                            style,
                        ))
                        .map_err(&e)?;
                }
            } else {
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                    .map_err(&e)?
                    .label(label)
                    .legend(move |(x, y)| Circle::new((x + 9, y), 4, c.filled()));
            }
        }
        crate::plot::draw_legend(&mut chart, SeriesLabelPosition::LowerLeft, &self.title)?;
        Ok(())
    }
}

/// One IC50 of a check, as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckPoint {
    /// Day of the derivation.
    pub day: f64,
    /// The IC50 (a censored one is drawn at the top dose).
    pub ic50: super::Ic50,
    /// 95% CI, nM (`None` when censored or not estimable).
    pub ci: Option<(f64, f64)>,
}

/// IC50 (log scale) against the day of the derivation: replicate 0's derived population with
/// 95% CI error bars, the parental line of the same plates, the other replicates as thin
/// lines, the tested dose range shaded between dashed lines at the lowest and top dose, and
/// IC50s above the top dose as open triangles at the top dose.
pub struct Ic50OverTimeFigure {
    /// Title.
    pub title: String,
    /// Corner note.
    pub note: String,
    /// Last day of the derivation (x axis end).
    pub x_max: f64,
    /// Lowest positive and top tested dose, nM.
    pub dose_range: (f64, f64),
    /// Legend label of the parental points.
    pub parental_label: String,
    /// Legend label of replicate 0's derived points.
    pub derived_label: String,
    /// Parental IC50 per check (replicate 0).
    pub parental: Vec<CheckPoint>,
    /// Derived IC50 per check (replicate 0).
    pub derived: Vec<CheckPoint>,
    /// Other replicates: (day, IC50 or its top-dose bound); points more than a decade outside
    /// the tested doses are left out.
    pub others: Vec<Vec<(f64, f64)>>,
    /// Replicate 0's arms after a split: legend label and the arm's derived IC50 per check,
    /// one joined curve each.
    pub arms: Vec<(String, Vec<CheckPoint>)>,
}

impl Ic50OverTimeFigure {
    /// The y range: the tested doses and every drawn CI, with room for the markers.
    fn y_range(&self) -> (f64, f64) {
        let (lo, hi) = self.dose_range;
        let cis = self
            .parental
            .iter()
            .chain(&self.derived)
            .filter_map(|p| p.ci);
        let (a, b) = cis.fold((lo, hi), |(a, b), (l, h)| (a.min(l), b.max(h)));
        // At most a decade beyond the tested doses: wider Wald bounds and extrapolated fits
        // of other runs would squeeze the tested range (their lines skip such points).
        (a.max(lo / 10.0) / 1.5, b.min(hi * 10.0) * 2.0)
    }
}

impl Figure for Ic50OverTimeFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let e = draw_err(&self.title);
        let (y0, y1) = self.y_range();
        let mut chart = framed(root, &self.title, &self.note)?
            // 3% beyond the last day, so a check on it is not cut in half by the frame.
            .build_cartesian_2d(0.0..self.x_max * 1.03, (y0..y1).log_scale())
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("Day of derivation")
            .y_desc("IC50 (nM, log scale)")
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(&e)?;
        self.draw_dose_range(&mut chart, (y0, y1))?;
        let grey = RGBColor(150, 150, 150);
        for (k, run) in self.others.iter().enumerate() {
            let shown = run.iter().copied().filter(|p| (y0..=y1).contains(&p.1));
            let a = chart
                .draw_series(LineSeries::new(shown, grey.mix(0.45).stroke_width(1)))
                .map_err(&e)?;
            if k == 0 {
                let label = format!("runs 2–{} (IC50 or top dose)", self.others.len() + 1);
                a.label(label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], grey.stroke_width(2))
                });
            }
        }
        let parental = color(0);
        self.draw_points(
            &mut chart,
            &self.parental,
            parental,
            &self.parental_label,
            false,
        )?;
        let derived = color(5);
        self.draw_points(
            &mut chart,
            &self.derived,
            derived,
            &self.derived_label,
            true,
        )?;
        for (k, (label, pts)) in self.arms.iter().enumerate() {
            // Colors after the parental (0), the censored marker (4) and the pool (5).
            let c = color([1, 2, 3, 6, 7][k % 5]);
            self.draw_points(&mut chart, pts, c, label, true)?;
        }
        crate::plot::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, &self.title)
    }
}

type LogChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::combinators::LogCoord<f64>,
    >,
>;

impl Ic50OverTimeFigure {
    /// Shaded band between the lowest and the top tested dose, with labelled dashed lines.
    fn draw_dose_range<DB: DrawingBackend>(
        &self,
        chart: &mut LogChart<'_, DB>,
        (y0, y1): (f64, f64),
    ) -> Result<(), PlotError> {
        let e = draw_err(&self.title);
        let (lo, hi) = self.dose_range;
        let shade = RGBColor(86, 180, 233).mix(0.12);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, lo.max(y0)), (self.x_max, hi.min(y1))],
                shade.filled(),
            )))
            .map_err(&e)?
            .label(format!("tested doses {}–{} nM", fmt_num(lo), fmt_num(hi)))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], shade.filled()));
        let style = ShapeStyle::from(&RGBColor(110, 110, 110)).stroke_width(1);
        for (at, label) in [(hi, "top dose"), (lo, "lowest dose")] {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, at), (self.x_max, at)],
                    6,
                    4,
                    style,
                ))
                .map_err(&e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{label} {} nM", fmt_num(at)),
                    (self.x_max * 0.80, at * 1.15),
                    (FONT, 14).into_font().color(&RGBColor(80, 80, 80)),
                )))
                .map_err(&e)?;
        }
        Ok(())
    }

    /// Points with 95% CI bars, joined by a line when `joined`; censored IC50s as open
    /// triangles at the top dose (one legend entry for them).
    fn draw_points<DB: DrawingBackend>(
        &self,
        chart: &mut LogChart<'_, DB>,
        pts: &[CheckPoint],
        c: RGBColor,
        label: &str,
        joined: bool,
    ) -> Result<(), PlotError> {
        let e = draw_err(&self.title);
        let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.day, p.ic50.bound_nm())).collect();
        if joined {
            chart
                .draw_series(LineSeries::new(xy.clone(), c.mix(0.6).stroke_width(2)))
                .map_err(&e)?;
        }
        let (y0, y1) = self.y_range();
        let bars = pts.iter().filter_map(|p| {
            let (l, h) = p.ci?;
            let y = p.ic50.bound_nm();
            Some(ErrorBar::new_vertical(
                p.day,
                l.max(y0),
                y,
                h.min(y1),
                c.stroke_width(2),
                10,
            ))
        });
        chart.draw_series(bars).map_err(&e)?;
        let reached = pts.iter().filter(|p| p.ic50.reached());
        let style = if joined {
            c.filled()
        } else {
            c.stroke_width(2)
        };
        chart
            .draw_series(reached.map(|p| Circle::new((p.day, p.ic50.bound_nm()), 5, style)))
            .map_err(&e)?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 9, y), 5, style));
        let censored: Vec<&CheckPoint> = pts.iter().filter(|p| !p.ic50.reached()).collect();
        if !censored.is_empty() {
            let warn = color(4);
            chart
                .draw_series(censored.iter().map(|p| {
                    TriangleMarker::new((p.day, p.ic50.bound_nm()), 9, warn.stroke_width(2))
                }))
                .map_err(&e)?
                .label(format!("{}: IC50 > top dose (not reached)", short(label)))
                .legend(move |(x, y)| TriangleMarker::new((x + 9, y), 8, warn.stroke_width(2)));
        }
        Ok(())
    }
}

/// The line name at the start of a legend label ("Res-Ana population, run 1 …" → "Res-Ana").
fn short(label: &str) -> &str {
    label.split(' ').next().unwrap_or(label)
}
