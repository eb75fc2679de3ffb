//! A general XY chart: lines, points, error bars, shaded bands, step lines, reference lines,
//! optional log-scale y axis, a y range that clips outliers to marked edge points, a legend
//! inside or beside the data, a subtitle and a footer note (the seed).
//!
//! Layout: title (and wrapped subtitle) on top, the footer note in its own strip at the
//! bottom, an outside legend in its own column on the right ([`XyChart::areas`]), so none of
//! them can cover the data or the axis titles.

use super::at_risk::AtRisk;
use super::text::{text_width, wrap};
use super::{Dash, FONT, Figure, PlotError, color, dash, draw_err};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
    /// Line pattern; `None` = [`dash`] of the palette index (or dashed when `dashed`).
    pub dash: Option<Dash>,
    /// Stroke width, px (`None` = 2, thin lines 1).
    pub width: Option<u32>,
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
            dash: None,
            width: None,
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
    /// Palette index, line pattern and stroke width of series number `i` of its chart.
    fn look(&self, i: usize) -> (usize, Dash, u32) {
        let ci = self.color.unwrap_or(i);
        let d = self
            .dash
            .unwrap_or(if self.dashed { Dash::Dashed } else { dash(ci) });
        let w = self.width.unwrap_or(match self.style {
            SeriesStyle::ThinLine => 1,
            _ => 2,
        });
        (ci, d, w)
    }
}

/// Where the series legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    /// Inside the data area, upper left (growth curves rise to the right).
    UpperLeft,
    /// Inside the data area, lower right.
    LowerRight,
    /// In its own column right of the data area (many or long labels).
    Outside,
    /// No legend (e.g. panels sharing one legend).
    Hidden,
}

/// One legend line: a sample in the series' colour and pattern, and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    /// Label.
    pub label: String,
    /// Palette index.
    pub color: usize,
    /// Line pattern.
    pub dash: Dash,
    /// Stroke width, px; 0 draws a filled box (a band).
    pub width: u32,
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
    /// One or two lines under the title saying how to read the figure (wrapped to fit).
    pub subtitle: Option<String>,
    /// Legend placement.
    pub legend: Legend,
    /// Largest y range shown (linear axis): values beyond are drawn at the edge with a
    /// triangle marker; see [`XyChart::clipped_points`].
    pub clip_y: Option<(f64, f64)>,
    /// Smaller fonts and margins, for panels of a [`super::PanelGrid`].
    pub compact: bool,
    /// Numbers at risk drawn under the x axis, aligned with its days.
    pub at_risk: Option<AtRisk>,
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
            subtitle: None,
            legend: Legend::UpperLeft,
            clip_y: None,
            compact: false,
            at_risk: None,
        }
    }

    /// Series points outside [`XyChart::clip_y`] (drawn as edge markers).
    pub fn clipped_points(&self) -> usize {
        let Some((lo, hi)) = self.clip_y else {
            return 0;
        };
        self.series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|p| p.1.is_finite() && (p.1 < lo || p.1 > hi))
            .count()
    }

    /// Legend lines: one per distinct series label, then labelled bands.
    pub fn legend_entries(&self) -> Vec<LegendEntry> {
        let mut out: Vec<LegendEntry> = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            if s.label.is_empty() || out.iter().any(|e| e.label == s.label) {
                continue;
            }
            let (c, d, w) = s.look(i);
            out.push(LegendEntry {
                label: s.label.clone(),
                color: c,
                dash: d,
                width: w.max(2),
            });
        }
        for b in &self.bands {
            if let Some(l) = &b.label {
                out.push(LegendEntry {
                    label: l.clone(),
                    color: b.color,
                    dash: Dash::Solid,
                    width: 0,
                });
            }
        }
        out
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
        let (y0, y1) = match self.clip_y {
            Some((lo, hi)) if !self.log_y => (y0.max(lo), y1.min(hi)),
            _ => (y0, y1),
        };
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

/// Font sizes (plotters sizes, 1.24 em) and margins of a chart, normal or compact.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fonts {
    pub title: u32,
    pub sub: u32,
    pub axis: u32,
    pub label: u32,
    pub legend: u32,
    pub note: u32,
    pub x_area: u32,
    pub y_area: u32,
    pub margin: u32,
}

impl Fonts {
    pub(crate) fn of(compact: bool) -> Self {
        if compact {
            Fonts {
                title: 15,
                sub: 12,
                axis: 13,
                label: 12,
                legend: 12,
                note: 11,
                x_area: 40,
                y_area: 56,
                margin: 8,
            }
        } else {
            Fonts {
                title: 22,
                sub: 13,
                axis: 17,
                label: 14,
                legend: 14,
                note: 13,
                x_area: 48,
                y_area: 78,
                margin: 14,
            }
        }
    }
}

/// The title strip (title + wrapped subtitle lines) and the footer strip (wrapped note
/// lines) of a figure: one owner of their sizes and drawing for charts and panel grids.
#[derive(Debug, Clone, PartialEq)]
pub struct Strips {
    /// Height of the title strip.
    pub header: u32,
    /// Subtitle lines.
    pub subtitle: Vec<String>,
    /// Height of the footer strip (0 without a note).
    pub footer: u32,
    /// Note lines.
    pub note: Vec<String>,
}

impl Strips {
    pub(crate) fn new(subtitle: Option<&str>, note: Option<&str>, w: u32, f: Fonts) -> Self {
        let lines = |t: Option<&str>, size: u32, margin: f64| {
            t.map(|t| wrap(t, f64::from(size), f64::from(w) - margin))
                .unwrap_or_default()
        };
        let subtitle = lines(subtitle, f.sub, 40.0);
        let note = lines(note, f.note, 16.0);
        Strips {
            header: f.title + 12 + subtitle.len() as u32 * (f.sub + 3),
            footer: if note.is_empty() {
                0
            } else {
                note.len() as u32 * (f.note + 3) + 6
            },
            subtitle,
            note,
        }
    }

    /// Draws the title, subtitle and the right-aligned note (in its own strip under the axis
    /// title, so the two never overlap); returns the area left between the strips.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        title: &str,
        f: Fonts,
    ) -> Result<DrawingArea<DB, Shift>, PlotError> {
        let e = draw_err(title);
        let (w, h) = root.dim_in_pixel();
        draw_header(root, title, &self.subtitle, f)?;
        let grey = RGBColor(110, 110, 110);
        for (k, line) in self.note.iter().enumerate() {
            let y = (h - self.footer) as i32 + 2 + k as i32 * (f.note as i32 + 3);
            let style = (FONT, f.note)
                .into_font()
                .color(&grey)
                .pos(Pos::new(HPos::Right, VPos::Top));
            root.draw(&Text::new(line.clone(), (w as i32 - 8, y), style))
                .map_err(&e)?;
        }
        Ok(root.margin(self.header, self.footer, 0, 0))
    }
}

/// Pixel layout of a chart: its [`Strips`] and the outside legend column; the data area is
/// what is left.
#[derive(Debug, Clone, PartialEq)]
pub struct Areas {
    /// Title and footer strips.
    pub strips: Strips,
    /// Width of the legend column right of the data (0 unless [`Legend::Outside`]).
    pub legend_width: u32,
}

/// Width of a legend column holding `entries` at font `size`, at most `max` px (longer labels
/// wrap).
pub(crate) fn legend_column_width(entries: &[LegendEntry], size: u32, max: u32) -> u32 {
    if entries.is_empty() {
        return 0;
    }
    let widest = entries
        .iter()
        .map(|e| text_width(&e.label, f64::from(size)))
        .fold(0.0, f64::max);
    ((widest + f64::from(LEGEND_TEXT_X) + 12.0).ceil() as u32).min(max)
}

/// Where legend text starts, right of the 24 px line sample.
const LEGEND_TEXT_X: u32 = 40;

/// Three segments (x from, x to) of a 24 px legend sample in pattern `d`.
fn sample_segments(d: Dash) -> [(i32, i32); 3] {
    match d {
        Dash::Solid => [(0, 8), (8, 16), (16, 24)],
        Dash::Dashed => [(0, 6), (9, 15), (18, 24)],
        Dash::Dotted => [(0, 2), (10, 12), (20, 22)],
        Dash::LongDash => [(0, 12), (16, 24), (16, 24)],
    }
}

/// Draws `entries` top-down in `area` (a column beside the data, or a grid's legend column).
pub(crate) fn draw_legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    size: u32,
    top: i32,
) -> Result<(), PlotError> {
    let e = draw_err("legend");
    let (w, _) = area.dim_in_pixel();
    let text_w = f64::from(w.saturating_sub(LEGEND_TEXT_X + 4));
    let line_h = size as i32 + 4;
    let mut y = top;
    for en in entries {
        let c = color(en.color);
        if en.width == 0 {
            area.draw(&Rectangle::new(
                [(8, y - 5), (32, y + 5)],
                c.mix(0.3).filled(),
            ))
            .map_err(&e)?;
        } else {
            for (a, b) in sample_segments(en.dash) {
                area.draw(&PathElement::new(
                    vec![(8 + a, y), (8 + b, y)],
                    c.stroke_width(en.width),
                ))
                .map_err(&e)?;
            }
        }
        for line in wrap(&en.label, f64::from(size), text_w) {
            let style =
                TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
            area.draw(&Text::new(line, (LEGEND_TEXT_X as i32, y), style))
                .map_err(&e)?;
            y += line_h;
        }
        y += 4;
    }
    Ok(())
}

/// Draws a centred bold title and grey subtitle lines from the top of `area`.
pub(crate) fn draw_header<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &[String],
    f: Fonts,
) -> Result<(), PlotError> {
    let e = draw_err(title);
    let (w, _) = area.dim_in_pixel();
    let cx = w as i32 / 2;
    let centre = Pos::new(HPos::Center, VPos::Top);
    let style = TextStyle::from((FONT, f.title, FontStyle::Bold).into_font()).pos(centre);
    area.draw(&Text::new(title.to_string(), (cx, 6), style))
        .map_err(&e)?;
    let grey = RGBColor(90, 90, 90);
    for (k, line) in subtitle.iter().enumerate() {
        let y = 10 + f.title as i32 + k as i32 * (f.sub as i32 + 3);
        let style = (FONT, f.sub).into_font().color(&grey).pos(centre);
        area.draw(&Text::new(line.clone(), (cx, y), style))
            .map_err(&e)?;
    }
    Ok(())
}

/// A label box in pixels: (left, top, right, bottom).
pub(crate) type PxRect = (i32, i32, i32, i32);

fn overlaps(a: PxRect, b: PxRect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Index of the first `candidates` box that overlaps no `taken` label and covers no `data`
/// pixel; when every box collides, the one with the fewest collisions (earliest on ties).
/// This is how reference-line labels avoid each other and the curves.
pub(crate) fn pick_label_box(
    candidates: &[PxRect],
    taken: &[PxRect],
    data: &[(i32, i32)],
) -> usize {
    let hits = |c: PxRect| {
        // A label on a label is worse than a label on a curve.
        10 * taken.iter().filter(|t| overlaps(c, **t)).count()
            + data
                .iter()
                .filter(|p| p.0 >= c.0 && p.0 <= c.2 && p.1 >= c.1 && p.1 <= c.3)
                .count()
    };
    let mut best = (usize::MAX, 0);
    for (i, c) in candidates.iter().enumerate() {
        let h = hits(*c);
        if h == 0 {
            return i;
        }
        if h < best.0 {
            best = (h, i);
        }
    }
    best.1
}

impl XyChart {
    /// The pixel layout of this chart at `size` (see [`Areas`]).
    pub fn areas(&self, (w, _h): (u32, u32)) -> Areas {
        let f = Fonts::of(self.compact);
        let legend_width = if self.legend == Legend::Outside {
            legend_column_width(&self.legend_entries(), f.legend, w * 2 / 5)
        } else {
            0
        };
        Areas {
            strips: Strips::new(self.subtitle.as_deref(), self.note.as_deref(), w, f),
            legend_width,
        }
    }
}

impl Figure for XyChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (w, h) = root.dim_in_pixel();
        let a = self.areas((w, h));
        let f = Fonts::of(self.compact);
        let body = a.strips.draw(root, &self.title, f)?;
        let plot = if a.legend_width > 0 {
            let (plot, legend) = body.split_horizontally(w - a.legend_width);
            let top = (f.margin + 8) as i32;
            draw_legend_column(&legend, &self.legend_entries(), f.legend, top)?;
            plot
        } else {
            body
        };
        let Some(table) = &self.at_risk else {
            return self.draw_chart(&plot, f).map(|_| ());
        };
        let (_, ph) = plot.dim_in_pixel();
        let (plot, strip) = plot.split_vertically(ph.saturating_sub(table.height(f)));
        let x = self.draw_chart(&plot, f)?;
        let base = strip.get_base_pixel().0;
        let px = |v: f64| x.pixel(v) - base;
        table.draw(&strip, &px, x.px.0 - base, f)
    }
}

/// Where the data x range lands in absolute pixels (linear x axis), for what is drawn
/// aligned with it outside the chart (the at-risk table).
#[derive(Debug, Clone, Copy)]
struct XPixels {
    x: (f64, f64),
    px: (i32, i32),
}

impl XPixels {
    fn pixel(&self, v: f64) -> i32 {
        let (a, b) = self.x;
        let t = if b > a { (v - a) / (b - a) } else { 0.0 };
        self.px.0 + (t * f64::from(self.px.1 - self.px.0)).round() as i32
    }
}

impl XyChart {
    fn draw_chart<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        f: Fonts,
    ) -> Result<XPixels, PlotError> {
        let ((x0, x1), (y0, y1)) = self.data_ranges();
        let e = draw_err(&self.title);
        let mut builder = ChartBuilder::on(area);
        builder
            .margin(f.margin)
            .margin_top(f.margin / 2)
            .x_label_area_size(f.x_area)
            .y_label_area_size(f.y_area);
        // Count axes: one tick per integer (at most 20) and no fractional labels.
        let x_ticks = if self.integer_x {
            ((x1 - x0).floor() as usize + 1).clamp(2, 20)
        } else if self.compact {
            6
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
        macro_rules! mesh {
            ($chart:expr, $yfmt:expr) => {
                $chart
                    .configure_mesh()
                    .x_desc(&self.x_label)
                    .y_desc(&self.y_label)
                    .axis_desc_style((FONT, f.axis))
                    .label_style((FONT, f.label))
                    .x_labels(x_ticks)
                    .y_labels(if self.compact { 6 } else { 10 })
                    .x_label_formatter(&x_fmt)
                    .y_label_formatter($yfmt)
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()
                    .map_err(&e)?
            };
        }
        if self.log_y {
            let mut chart = builder
                .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                .map_err(&e)?;
            mesh!(chart, &|v| log_tick_label(*v));
            self.draw_content(&mut chart, (x0, x1), (y0, y1))?;
            let px = (
                chart.backend_coord(&(x0, y1)).0,
                chart.backend_coord(&(x1, y1)).0,
            );
            Ok(XPixels { x: (x0, x1), px })
        } else {
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(&e)?;
            mesh!(chart, &|v| tick_label(*v));
            self.draw_content(&mut chart, (x0, x1), (y0, y1))?;
            let px = (
                chart.backend_coord(&(x0, y1)).0,
                chart.backend_coord(&(x1, y1)).0,
            );
            Ok(XPixels { x: (x0, x1), px })
        }
    }
}

type Chart<'a, DB, Y> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>;

/// The visible y range and whether values beyond it are clamped to its edge.
#[derive(Debug, Clone, Copy)]
struct View {
    x: (f64, f64),
    y: (f64, f64),
    log: bool,
    clip: bool,
}

impl View {
    fn ok(&self, y: f64) -> bool {
        y.is_finite() && (!self.log || y > 0.0)
    }
    /// y drawn for a value: clamped into the view when clipping.
    fn y(&self, y: f64) -> f64 {
        if self.clip {
            y.clamp(self.y.0, self.y.1)
        } else {
            y
        }
    }
}

impl XyChart {
    fn draw_content<'a, DB, Y>(
        &self,
        chart: &mut Chart<'a, DB, Y>,
        x: (f64, f64),
        y: (f64, f64),
    ) -> Result<(), PlotError>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64>,
    {
        let v = View {
            x,
            y,
            log: self.log_y,
            clip: self.clip_y.is_some() && !self.log_y,
        };
        let inside = matches!(self.legend, Legend::UpperLeft | Legend::LowerRight);
        self.draw_bands(chart, v, inside)?;
        self.draw_ref_lines(chart, v)?;
        let mut seen: Vec<&str> = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            let label = inside && !s.label.is_empty() && !seen.contains(&s.label.as_str());
            if label {
                seen.push(&s.label);
            }
            self.draw_series(chart, s, i, v, label)?;
        }
        if inside && (!seen.is_empty() || self.bands.iter().any(|b| b.label.is_some())) {
            let pos = if self.legend == Legend::LowerRight {
                SeriesLabelPosition::LowerRight
            } else {
                SeriesLabelPosition::UpperLeft
            };
            crate::plot::draw_legend(chart, pos, &self.title)?;
        }
        Ok(())
    }

    fn draw_bands<'a, DB, Y>(
        &self,
        chart: &mut Chart<'a, DB, Y>,
        v: View,
        legend: bool,
    ) -> Result<(), PlotError>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64>,
    {
        let e = draw_err(&self.title);
        for b in &self.bands {
            let c = color(b.color).mix(0.18);
            let keep = |p: &&(f64, f64, f64)| v.ok(p.1) && v.ok(p.2);
            let mut poly: Vec<(f64, f64)> = b
                .points
                .iter()
                .filter(keep)
                .map(|p| (p.0, v.y(p.2)))
                .collect();
            poly.extend(b.points.iter().rev().filter(keep).map(|p| (p.0, v.y(p.1))));
            if poly.len() < 3 {
                continue;
            }
            let a = chart
                .draw_series(std::iter::once(Polygon::new(poly, c.filled())))
                .map_err(&e)?;
            if let (true, Some(l)) = (legend, &b.label) {
                let cc = color(b.color).mix(0.3);
                a.label(l.clone()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 24, y + 5)], cc.filled())
                });
            }
        }
        Ok(())
    }

    fn draw_ref_lines<'a, DB, Y>(
        &self,
        chart: &mut Chart<'a, DB, Y>,
        v: View,
    ) -> Result<(), PlotError>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64>,
    {
        let e = draw_err(&self.title);
        let f = Fonts::of(self.compact);
        let (x0, x1) = v.x;
        let (y0, y1) = v.y;
        let in_view = |r: &&RefLine| {
            if r.horizontal {
                v.ok(r.at) && r.at >= y0.min(y1) && r.at <= y0.max(y1)
            } else {
                r.at >= x0 && r.at <= x1
            }
        };
        let data = self.data_pixels(chart, v);
        let mut taken: Vec<PxRect> = Vec::new();
        for r in self.ref_lines.iter().filter(in_view) {
            let style = ShapeStyle::from(&RGBColor(120, 120, 120)).stroke_width(1);
            let pts = if r.horizontal {
                vec![(x0, r.at), (x1, r.at)]
            } else {
                vec![(r.at, y0), (r.at, y1)]
            };
            chart
                .draw_series(DashedLineSeries::new(pts, 6, 4, style))
                .map_err(&e)?;
            let (rect, anchor, at, offset) = label_place(chart, r, v, f.note, &taken, &data);
            let font = (FONT, f.note).into_font().color(&RGBColor(90, 90, 90));
            let el = EmptyElement::at(at) + Text::new(r.label.clone(), offset, font.pos(anchor));
            chart.draw_series(std::iter::once(el)).map_err(&e)?;
            taken.push(rect);
        }
        Ok(())
    }

    /// Pixels along every series line (every 3 px), for label placement.
    fn data_pixels<'a, DB, Y>(&self, chart: &Chart<'a, DB, Y>, v: View) -> Vec<(i32, i32)>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64>,
    {
        let mut out = Vec::new();
        for s in &self.series {
            let px: Vec<(i32, i32)> = s
                .points
                .iter()
                .filter(|p| p.0.is_finite() && v.ok(p.1))
                .map(|p| chart.backend_coord(&(p.0, v.y(p.1))))
                .collect();
            out.extend(px.iter().copied());
            for w in px.windows(2) {
                let (a, b) = (w[0], w[1]);
                let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) / 3).max(1);
                for k in 1..steps {
                    let t = f64::from(k) / f64::from(steps);
                    let lerp = |p: i32, q: i32| p + (f64::from(q - p) * t).round() as i32;
                    out.push((lerp(a.0, b.0), lerp(a.1, b.1)));
                }
            }
        }
        out
    }
}

/// A label's pixel box, anchor, the data point it hangs from and its pixel offset from it.
type LabelSpot = (PxRect, Pos, (f64, f64), (i32, i32));

/// Where a reference-line label goes: a horizontal line's label above or below it at either
/// end, a vertical line's label at the top on either side (or low on its left) — the first
/// spot free of other labels and of the curves ([`pick_label_box`]).
fn label_place<'a, DB, Y>(
    chart: &Chart<'a, DB, Y>,
    r: &RefLine,
    v: View,
    size: u32,
    taken: &[PxRect],
    data: &[(i32, i32)],
) -> LabelSpot
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    let tw = text_width(&r.label, f64::from(size)).ceil() as i32;
    let th = (f64::from(size) / 1.24).ceil() as i32 + 2;
    let (l, t) = chart.backend_coord(&(v.x.0, v.y.1));
    let (rt, b) = chart.backend_coord(&(v.x.1, v.y.0));
    let mut c: Vec<LabelSpot> = Vec::new();
    if r.horizontal {
        let y = chart.backend_coord(&(v.x.0, r.at)).1;
        let (left, right) = ((v.x.0, r.at), (v.x.1, r.at));
        let above = |x0: i32| (x0, y - th - 1, x0 + tw, y - 1);
        let below = |x0: i32| (x0, y + 2, x0 + tw, y + th + 2);
        let (lb, rb) = (
            Pos::new(HPos::Left, VPos::Bottom),
            Pos::new(HPos::Right, VPos::Bottom),
        );
        let (lt, rtp) = (
            Pos::new(HPos::Left, VPos::Top),
            Pos::new(HPos::Right, VPos::Top),
        );
        c.push((above(l + 4), lb, left, (4, -2)));
        c.push((above(rt - 4 - tw), rb, right, (-4, -2)));
        c.push((below(rt - 4 - tw), rtp, right, (-4, 3)));
        c.push((below(l + 4), lt, left, (4, 3)));
    } else {
        let x = chart.backend_coord(&(r.at, v.y.1)).0;
        let (top, low) = ((r.at, v.y.1), (r.at, v.y.0));
        let (lp, rp) = (
            Pos::new(HPos::Left, VPos::Top),
            Pos::new(HPos::Right, VPos::Top),
        );
        if x + 4 + tw <= rt {
            c.push(((x + 4, t + 2, x + 4 + tw, t + 2 + th), lp, top, (4, 2)));
        }
        c.push(((x - 4 - tw, t + 2, x - 4, t + 2 + th), rp, top, (-4, 2)));
        c.push((
            (x - 4 - tw, b - th - 2, x - 4, b - 2),
            rp,
            low,
            (-4, -th - 2),
        ));
    }
    let boxes: Vec<PxRect> = c.iter().map(|s| s.0).collect();
    c[pick_label_box(&boxes, taken, data)]
}

impl XyChart {
    fn draw_series<'a, DB, Y>(
        &self,
        chart: &mut Chart<'a, DB, Y>,
        s: &Series,
        i: usize,
        v: View,
        label: bool,
    ) -> Result<(), PlotError>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64>,
    {
        let e = draw_err(&self.title);
        let (ci, d, width) = s.look(i);
        let c = color(ci);
        let raw: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && v.ok(p.1))
            .collect();
        let pts: Vec<(f64, f64)> = raw.iter().map(|&(x, y)| (x, v.y(y))).collect();
        let stroke = ShapeStyle::from(&c).stroke_width(width);
        // Solid and patterned lines give the same annotation type, so one match labels both.
        macro_rules! line {
            ($pts:expr, $st:expr) => {
                match d.pattern() {
                    None => chart.draw_series(LineSeries::new($pts, $st)).map_err(&e)?,
                    Some((on, off)) => chart
                        .draw_series(DashedLineSeries::new($pts, on, off, $st))
                        .map_err(&e)?,
                }
            };
        }
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
                line!(st, stroke)
            }
            SeriesStyle::Line => {
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                    .map_err(&e)?;
                line!(pts.clone(), stroke)
            }
            SeriesStyle::ThinLine => line!(pts.clone(), c.mix(0.75).stroke_width(width)),
        };
        if label {
            anno.label(s.label.clone()).legend(move |(x, y)| {
                let g = sample_segments(d);
                let st = c.stroke_width(width.max(2));
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(g[0].0, 0), (g[0].1, 0)], st)
                    + PathElement::new(vec![(g[1].0, 0), (g[1].1, 0)], st)
                    + PathElement::new(vec![(g[2].0, 0), (g[2].1, 0)], st)
            });
        }
        self.draw_extras(chart, s, c, v, &raw)
    }

    /// Error bars, extra markers and the edge markers of clipped points.
    fn draw_extras<'a, DB, Y>(
        &self,
        chart: &mut Chart<'a, DB, Y>,
        s: &Series,
        c: RGBColor,
        v: View,
        raw: &[(f64, f64)],
    ) -> Result<(), PlotError>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64>,
    {
        let e = draw_err(&self.title);
        if let Some(errs) = &s.errors {
            let bars: Vec<_> = s
                .points
                .iter()
                .zip(errs)
                .filter(|(p, d)| d.is_finite() && v.ok(p.1 - d.abs()) && v.ok(p.1 + d.abs()))
                .map(|(&(x, y), d)| {
                    let (lo, mid, hi) = (v.y(y - d.abs()), v.y(y), v.y(y + d.abs()));
                    ErrorBar::new_vertical(x, lo, mid, hi, c.stroke_width(1), 6)
                })
                .collect();
            chart.draw_series(bars).map_err(&e)?;
        }
        if !s.markers.is_empty() {
            chart
                .draw_series(s.markers.iter().filter(|m| v.ok(m.y)).map(|m| {
                    // A "+" (what the footers say), not plotters' diagonal cross.
                    let st = c.stroke_width(1);
                    EmptyElement::at((m.x, v.y(m.y)))
                        + PathElement::new(vec![(-4, 0), (4, 0)], st)
                        + PathElement::new(vec![(0, -4), (0, 4)], st)
                }))
                .map_err(&e)?;
        }
        if v.clip {
            // A value beyond the shown range: a triangle at the edge pointing the way out.
            let edge: Vec<_> = raw
                .iter()
                .filter(|p| p.1 > v.y.1 || p.1 < v.y.0)
                .map(|&(x, y)| {
                    let up = y > v.y.1;
                    let tri = if up {
                        vec![(-5, 5), (5, 5), (0, -4)]
                    } else {
                        vec![(-5, -5), (5, -5), (0, 4)]
                    };
                    EmptyElement::at((x, v.y(y))) + Polygon::new(tri, c.filled())
                })
                .collect();
            chart.draw_series(edge).map_err(&e)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_avoid_each_other_and_the_curves() {
        let cands = [(0, 0, 50, 12), (100, 0, 150, 12), (100, 20, 150, 32)];
        assert_eq!(pick_label_box(&cands, &[], &[]), 0);
        // A label already there: the next free spot.
        assert_eq!(pick_label_box(&cands, &[(10, 5, 60, 17)], &[]), 1);
        // A curve through the second spot too: the third.
        assert_eq!(pick_label_box(&cands, &[(10, 5, 60, 17)], &[(120, 6)]), 2);
        // Nowhere free: a curve is better than another label.
        let all = [(0, 0, 50, 12), (100, 0, 150, 12)];
        assert_eq!(pick_label_box(&all, &[(10, 5, 60, 17)], &[(120, 6)]), 1);
    }

    #[test]
    fn outside_legend_leaves_the_data_area_and_fits_long_labels() {
        let mut c = XyChart::new("t", "x", "y");
        c.series.push(Series::line(
            "TamR-MCF-7: taragarestrant 30 vs fulvestrant",
            vec![(0.0, 0.0), (1.0, 1.0)],
        ));
        c.legend = Legend::Outside;
        c.note = Some("a long note ".repeat(20));
        let a = c.areas((1000, 650));
        let label_w = text_width(&c.series[0].label, 14.0) as u32;
        assert!(a.legend_width > label_w && a.legend_width <= 400, "{a:?}");
        assert!(
            a.strips.note.len() >= 2,
            "long note wraps into its own strip"
        );
        assert!(a.strips.footer >= 2 * 13);
        c.legend = Legend::UpperLeft;
        assert_eq!(c.areas((1000, 650)).legend_width, 0);
    }

    #[test]
    fn clip_range_limits_the_axis_and_counts_points_beyond() {
        let mut c = XyChart::new("t", "x", "y");
        c.series.push(Series::line(
            "a",
            vec![(0.0, -1300.0), (1.0, 50.0), (2.0, 1100.0), (3.0, 90.0)],
        ));
        c.clip_y = Some((-100.0, 200.0));
        assert_eq!(c.clipped_points(), 2);
        let (_, (y0, y1)) = c.data_ranges();
        assert_eq!((y0, y1), (-100.0, 200.0));
        c.clip_y = None;
        assert_eq!(c.clipped_points(), 0);
    }
}
