//! A general XY chart: lines, points, error bars, shaded bands, step lines, reference lines,
//! optional log-scale y axis, legend and a corner note (the seed).

use super::{FONT, Figure, PlotError, color, draw_err};
use plotters::coord::Shift;
use plotters::prelude::*;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeriesStyle {
    /// Straight segments between points, with small markers.
    Line,
    /// Segments without markers (spaghetti plots).
    ThinLine,
    /// Markers only.
    Points,
    /// Horizontal-then-vertical steps (Kaplan–Meier curves).
    Step,
}

/// Point markers drawn on top of a series (e.g. censoring ticks on a survival curve).
#[derive(Debug, Clone)]
pub struct Marker {
    /// Position.
    pub x: f64,
    /// Position.
    pub y: f64,
}

/// One data series.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label; series sharing a label after the first are not repeated in the legend.
    pub label: String,
    /// Points (x, y), drawn in order.
    pub points: Vec<(f64, f64)>,
    /// Symmetric error (e.g. SEM) per point, drawn as error bars.
    pub errors: Option<Vec<f64>>,
    /// Drawing style.
    pub style: SeriesStyle,
    /// Palette index (defaults to the series' position).
    pub color: Option<usize>,
    /// Extra markers (drawn as `+`).
    pub markers: Vec<Marker>,
    /// Dashed line (used for reference curves such as analytic values).
    pub dashed: bool,
}

impl Series {
    fn new(label: &str, points: Vec<(f64, f64)>, style: SeriesStyle) -> Self {
        Series {
            label: label.to_string(),
            points,
            errors: None,
            style,
            color: None,
            markers: Vec::new(),
            dashed: false,
        }
    }
    /// A line series with markers.
    pub fn line(label: &str, points: Vec<(f64, f64)>) -> Self {
        Self::new(label, points, SeriesStyle::Line)
    }
    /// A thin line without markers.
    pub fn thin(label: &str, points: Vec<(f64, f64)>) -> Self {
        Self::new(label, points, SeriesStyle::ThinLine)
    }
    /// Points only.
    pub fn points(label: &str, points: Vec<(f64, f64)>) -> Self {
        Self::new(label, points, SeriesStyle::Points)
    }
    /// A step function.
    pub fn step(label: &str, points: Vec<(f64, f64)>) -> Self {
        Self::new(label, points, SeriesStyle::Step)
    }
    /// Adds symmetric error bars.
    pub fn with_errors(mut self, e: Vec<f64>) -> Self {
        self.errors = Some(e);
        self
    }
    /// Sets the palette index.
    pub fn with_color(mut self, i: usize) -> Self {
        self.color = Some(i);
        self
    }
}

/// A shaded band between two curves (e.g. a 95% CI), drawn under the series.
#[derive(Debug, Clone)]
pub struct Band {
    /// (x, low, high) triples.
    pub points: Vec<(f64, f64, f64)>,
    /// Palette index.
    pub color: usize,
    /// Optional legend label.
    pub label: Option<String>,
}

/// A horizontal (`horizontal = true`, at y) or vertical (at x) reference line with a label.
#[derive(Debug, Clone)]
pub struct RefLine {
    /// Position on the axis.
    pub at: f64,
    /// Horizontal line at y = at, else vertical at x = at.
    pub horizontal: bool,
    /// Text drawn beside the line.
    pub label: String,
}

/// A complete XY figure.
#[derive(Debug, Clone)]
pub struct XyChart {
    /// Title at the top.
    pub title: String,
    /// X axis label with unit.
    pub x_label: String,
    /// Y axis label with unit.
    pub y_label: String,
    /// Series in drawing order.
    pub series: Vec<Series>,
    /// Shaded bands.
    pub bands: Vec<Band>,
    /// Reference lines.
    pub ref_lines: Vec<RefLine>,
    /// Log-scale y axis (non-positive values are dropped).
    pub log_y: bool,
    /// Fixed y range; computed from the data when `None`.
    pub y_range: Option<(f64, f64)>,
    /// Fixed x range; computed from the data when `None`.
    pub x_range: Option<(f64, f64)>,
    /// Small text in the bottom-right corner (the seed, the data source).
    pub note: Option<String>,
    /// The x values are counts (mice, lines): ticks only at integers.
    pub integer_x: bool,
}

impl XyChart {
    /// An empty chart with title and axis labels.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        XyChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            bands: Vec::new(),
            ref_lines: Vec::new(),
            log_y: false,
            y_range: None,
            x_range: None,
            note: None,
            integer_x: false,
        }
    }

    fn data_ranges(&self) -> ((f64, f64), (f64, f64)) {
        let mut xs: Vec<f64> = Vec::new();
        let mut ys: Vec<f64> = Vec::new();
        for s in &self.series {
            for (i, &(x, y)) in s.points.iter().enumerate() {
                let e = s
                    .errors
                    .as_ref()
                    .and_then(|e| e.get(i))
                    .copied()
                    .unwrap_or(0.0);
                xs.push(x);
                ys.push(y + e.abs());
                ys.push(y - e.abs());
            }
        }
        for b in &self.bands {
            for &(x, lo, hi) in &b.points {
                xs.push(x);
                ys.push(lo);
                ys.push(hi);
            }
        }
        for r in &self.ref_lines {
            if r.horizontal {
                ys.push(r.at)
            } else {
                xs.push(r.at)
            }
        }
        let finite = |v: &Vec<f64>, log: bool| -> (f64, f64) {
            let it = v
                .iter()
                .copied()
                .filter(|x| x.is_finite() && (!log || *x > 0.0));
            let (lo, hi) = it.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
            if !lo.is_finite() {
                return if log { (1.0, 10.0) } else { (0.0, 1.0) };
            }
            if (hi - lo).abs() < 1e-12 {
                return if log {
                    (lo / 2.0, hi * 2.0)
                } else {
                    (lo - 1.0, hi + 1.0)
                };
            }
            (lo, hi)
        };
        let (x0, x1) = self.x_range.unwrap_or_else(|| finite(&xs, false));
        let (y0, y1) = self.y_range.unwrap_or_else(|| {
            let (a, b) = finite(&ys, self.log_y);
            if self.log_y {
                (a / 1.3, b * 1.3)
            } else {
                let pad = 0.05 * (b - a);
                (
                    if a >= 0.0 {
                        (a - pad).max(0.0)
                    } else {
                        a - pad
                    },
                    b + pad,
                )
            }
        });
        let xpad = if self.x_range.is_some() {
            0.0
        } else {
            0.02 * (x1 - x0)
        };
        ((x0 - xpad, x1 + xpad), (y0, y1))
    }
}

/// Axis tick text: integers without decimals ("4", "1000"), large or tiny values in
/// scientific notation ("1e6", "2.5e-4"), otherwise up to three significant decimals.
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else if (v - v.round()).abs() < 1e-9 * a.max(1.0) {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Label of a log-axis tick: only 1, 2 and 5 × 10ᵏ are labelled (plotters puts a key point at
/// every integer mantissa, whose labels overlap near the top of each decade); the other
/// ticks keep their grid line.
pub fn log_tick_label(v: f64) -> String {
    if !(v > 0.0 && v.is_finite()) {
        return String::new();
    }
    let m = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|k| (m - k).abs() < 1e-6 * k)
    {
        tick_label(v)
    } else {
        String::new()
    }
}

impl Figure for XyChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let ((x0, x1), (y0, y1)) = self.data_ranges();
        if let Some(note) = &self.note {
            let (w, h) = root.dim_in_pixel();
            let style = TextStyle::from((FONT, 13).into_font()).color(&RGBColor(110, 110, 110));
            let tw = note.chars().count() as i32 * 7;
            root.draw(&Text::new(
                note.clone(),
                (w as i32 - tw - 8, h as i32 - 18),
                style,
            ))
            .map_err(draw_err(&self.title))?;
        }
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, (FONT, 22, FontStyle::Bold))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(78);
        // Count axes: one tick per integer (at most 20) and no fractional labels.
        let x_ticks = if self.integer_x {
            ((x1 - x0).floor() as usize + 1).clamp(2, 20)
        } else {
            10
        };
        let integer_x = self.integer_x;
        let x_fmt = move |v: &f64| {
            if integer_x && (v - v.round()).abs() > 1e-9 {
                String::new()
            } else {
                tick_label(*v)
            }
        };
        if self.log_y {
            let mut chart = builder
                .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                .map_err(draw_err(&self.title))?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .axis_desc_style((FONT, 17))
                .label_style((FONT, 14))
                .x_labels(x_ticks)
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&|v| log_tick_label(*v))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(draw_err(&self.title))?;
            self.draw_content(&mut chart, (x0, x1), (y0, y1))
        } else {
            let mut chart = builder
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(draw_err(&self.title))?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .axis_desc_style((FONT, 17))
                .label_style((FONT, 14))
                .x_labels(x_ticks)
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&|v| tick_label(*v))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(draw_err(&self.title))?;
            self.draw_content(&mut chart, (x0, x1), (y0, y1))
        }
    }
}

impl XyChart {
    fn draw_content<'a, DB, Y>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
        (x0, x1): (f64, f64),
        (y0, y1): (f64, f64),
    ) -> Result<(), PlotError>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64>,
    {
        let e = draw_err(&self.title);
        let ok = |y: f64| y.is_finite() && (!self.log_y || y > 0.0);
        for b in &self.bands {
            let c = color(b.color).mix(0.18);
            let mut poly: Vec<(f64, f64)> = b
                .points
                .iter()
                .filter(|p| ok(p.1) && ok(p.2))
                .map(|p| (p.0, p.2))
                .collect();
            poly.extend(
                b.points
                    .iter()
                    .rev()
                    .filter(|p| ok(p.1) && ok(p.2))
                    .map(|p| (p.0, p.1)),
            );
            if poly.len() >= 3 {
                let a = chart
                    .draw_series(std::iter::once(Polygon::new(poly, c.filled())))
                    .map_err(&e)?;
                if let Some(l) = &b.label {
                    let cc = color(b.color).mix(0.3);
                    a.label(l.clone()).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 18, y + 5)], cc.filled())
                    });
                }
            }
        }
        for r in &self.ref_lines {
            let style = ShapeStyle::from(&RGBColor(120, 120, 120)).stroke_width(1);
            let pts = if r.horizontal {
                vec![(x0, r.at), (x1, r.at)]
            } else {
                vec![(r.at, y0), (r.at, y1)]
            };
            if pts.iter().all(|p| ok(p.1)) {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 6, 4, style))
                    .map_err(&e)?;
                let pos = if r.horizontal {
                    (x0 + 0.01 * (x1 - x0), r.at)
                } else {
                    (r.at, y1)
                };
                chart
                    .draw_series(std::iter::once(Text::new(
                        r.label.clone(),
                        pos,
                        (FONT, 13).into_font().color(&RGBColor(90, 90, 90)),
                    )))
                    .map_err(&e)?;
            }
        }
        let mut seen_labels: Vec<&str> = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            let c = color(s.color.unwrap_or(i));
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && ok(p.1))
                .collect();
            let width = match s.style {
                SeriesStyle::ThinLine => 1,
                _ => 2,
            };
            let stroke = ShapeStyle::from(&c).stroke_width(width);
            let anno = match s.style {
                SeriesStyle::Points => chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                    .map_err(&e)?,
                SeriesStyle::Step => {
                    let mut st = Vec::with_capacity(pts.len() * 2);
                    for (k, &p) in pts.iter().enumerate() {
                        if k > 0 {
                            st.push((p.0, pts[k - 1].1));
                        }
                        st.push(p);
                    }
                    chart.draw_series(LineSeries::new(st, stroke)).map_err(&e)?
                }
                _ if s.dashed => chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 8, 5, stroke))
                    .map_err(&e)?,
                SeriesStyle::Line => {
                    chart
                        .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                        .map_err(&e)?;
                    chart
                        .draw_series(LineSeries::new(pts.clone(), stroke))
                        .map_err(&e)?
                }
                SeriesStyle::ThinLine => chart
                    .draw_series(LineSeries::new(
                        pts.clone(),
                        stroke.color.mix(0.75).stroke_width(1),
                    ))
                    .map_err(&e)?,
            };
            if !s.label.is_empty() && !seen_labels.contains(&s.label.as_str()) {
                seen_labels.push(&s.label);
                anno.label(s.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                });
            }
            if let Some(errs) = &s.errors {
                let bars: Vec<_> = s
                    .points
                    .iter()
                    .zip(errs)
                    .filter(|(p, d)| d.is_finite() && ok(p.1 - d.abs()) && ok(p.1 + d.abs()))
                    .map(|(&(x, y), d)| {
                        ErrorBar::new_vertical(x, y - d.abs(), y, y + d.abs(), c.stroke_width(1), 6)
                    })
                    .collect();
                chart.draw_series(bars).map_err(&e)?;
            }
            if !s.markers.is_empty() {
                chart
                    .draw_series(
                        s.markers
                            .iter()
                            .filter(|m| ok(m.y))
                            .map(|m| Cross::new((m.x, m.y), 4, c.stroke_width(1))),
                    )
                    .map_err(&e)?;
            }
        }
        if !seen_labels.is_empty() || self.bands.iter().any(|b| b.label.is_some()) {
            crate::plot::draw_legend(chart, SeriesLabelPosition::UpperLeft, &self.title)?;
        }
        Ok(())
    }
}
