//! The Gantt chart: phases (and activities, tasks) as bars, recurring events as ticks on one
//! row per series, uncertain windows of conditional phases shaded, weekends shaded on short
//! timelines.

use super::{SpanKind, Timeline};
use crate::plot::{FONT, Figure, PlotError, draw_err};
use jiff::civil::Date;
use plotters::coord::Shift;
use plotters::prelude::*;

/// (day, end day exclusive, weekend/holiday work).
type Tick = (i64, i64, bool);

enum RowContent {
    Bar {
        kind: SpanKind,
        start: i64,
        end: i64,
        uncertain: Option<(i64, i64)>,
    },
    Ticks(Vec<Tick>),
}

struct Row {
    label: String,
    content: RowContent,
}

/// A Gantt chart of a timeline (build with [`Gantt::new`], render with `plot::save`).
pub struct Gantt {
    title: String,
    start: Date,
    days: i64,
    rows: Vec<Row>,
    windows: Vec<(i64, i64)>,
    weekends: Vec<i64>,
    note: String,
}

const LABEL_W: u32 = 330;
const ROW_H: u32 = 24;

impl Gantt {
    /// The chart of `tl`.
    pub fn new(tl: &Timeline) -> Self {
        let mut rows: Vec<Row> = tl
            .spans
            .iter()
            .map(|s| Row {
                label: s.label.clone(),
                content: RowContent::Bar {
                    kind: s.kind,
                    start: s.start,
                    end: s.end,
                    uncertain: s.uncertain,
                },
            })
            .collect();
        let task_rows: Vec<String> = tl
            .spans
            .iter()
            .filter(|s| s.kind == SpanKind::Task)
            .map(|s| s.label.clone())
            .collect();
        let mut series: Vec<(String, Vec<Tick>)> = Vec::new();
        for e in &tl.events {
            if task_rows.contains(&e.series) {
                continue;
            }
            let tick = (e.day, e.end_day.unwrap_or(e.day + 1), e.flag.is_some());
            match series.iter_mut().find(|s| s.0 == e.series) {
                Some(s) => s.1.push(tick),
                None => series.push((e.series.clone(), vec![tick])),
            }
        }
        rows.extend(series.into_iter().map(|(label, ticks)| Row {
            label,
            content: RowContent::Ticks(ticks),
        }));
        let days = tl.last_day().max(1) + 1;
        let weekends = if days <= 150 {
            (0..days)
                .filter(|&d| tl.calendar.flag(d).is_some())
                .collect()
        } else {
            Vec::new()
        };
        let mut windows: Vec<(i64, i64)> = tl.spans.iter().filter_map(|s| s.uncertain).collect();
        windows.dedup();
        let n_flag = tl.events.iter().filter(|e| e.flag.is_some()).count();
        let shaded = !windows.is_empty();
        Gantt {
            title: format!("{} — timeline from {}", tl.title, tl.calendar.start),
            start: tl.calendar.start,
            days,
            rows,
            windows,
            weekends,
            note: format!(
                "bars: phases (blue), activities (green), tasks (pink); ticks: events, triangles: one-off events (red = weekend/holiday work, {n_flag}){}{}",
                if !shaded {
                    ""
                } else {
                    "; shaded orange: 5–95% range of the simulated enrollment day"
                },
                if days <= 150 {
                    "; grey: weekends/holidays"
                } else {
                    ""
                }
            ),
        }
    }

    /// Pixel size fitting the rows.
    pub fn size(&self) -> (u32, u32) {
        (1500, 130 + ROW_H * self.rows.len().max(1) as u32)
    }
}

fn bar_color(kind: SpanKind) -> RGBColor {
    match kind {
        SpanKind::Phase => RGBColor(0, 114, 178),
        SpanKind::Activity => RGBColor(0, 158, 115),
        SpanKind::Task => RGBColor(204, 121, 167),
    }
}

impl Figure for Gantt {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let e = draw_err("gantt");
        let n = self.rows.len().max(1) as f64;
        let start = self.start;
        let fmt_x = move |x: &f64| {
            start
                .checked_add(jiff::Span::new().days(x.round() as i64))
                .map(|d| d.strftime("%b %d %Y").to_string())
                .unwrap_or_default()
        };
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 20, FontStyle::Bold))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(LABEL_W)
            .build_cartesian_2d(0f64..self.days as f64, 0f64..n)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(10)
            .x_label_formatter(&fmt_x)
            .label_style((FONT, 13))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(&e)?;
        let grey = RGBColor(225, 225, 225);
        chart
            .draw_series(self.weekends.iter().map(|&d| {
                Rectangle::new(
                    [(d as f64, 0.0), (d as f64 + 1.0, n)],
                    grey.mix(0.6).filled(),
                )
            }))
            .map_err(&e)?;
        let orange = RGBColor(230, 159, 0);
        chart
            .draw_series(self.windows.iter().map(|&(a, b)| {
                Rectangle::new(
                    [(a as f64, 0.0), (b as f64 + 1.0, n)],
                    orange.mix(0.22).filled(),
                )
            }))
            .map_err(&e)?;
        for (i, row) in self.rows.iter().enumerate() {
            let top = n - i as f64;
            let (y0, y1) = (top - 0.8, top - 0.2);
            if i % 2 == 1 {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(0.0, top - 1.0), (self.days as f64, top)],
                        RGBColor(246, 246, 250).mix(0.5).filled(),
                    )))
                    .map_err(&e)?;
            }
            match &row.content {
                RowContent::Bar {
                    kind,
                    start,
                    end,
                    uncertain,
                } => {
                    let c = bar_color(*kind);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(*start as f64, y0), (*end as f64, y1)],
                            c.filled(),
                        )))
                        .map_err(&e)?;
                    if let Some((a, b)) = uncertain {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(*a as f64, y0), (*b as f64 + 1.0, y1)],
                                orange.mix(0.7).filled(),
                            )))
                            .map_err(&e)?;
                    }
                }
                RowContent::Ticks(ticks) => {
                    let single = ticks.len() == 1;
                    for &(d, end, flagged) in ticks {
                        let c = if flagged {
                            RGBColor(213, 40, 0)
                        } else {
                            RGBColor(40, 40, 40)
                        };
                        if end - d > 1 {
                            chart
                                .draw_series(std::iter::once(Rectangle::new(
                                    [(d as f64, y0), (end as f64, y1)],
                                    c.mix(0.6).filled(),
                                )))
                                .map_err(&e)?;
                        } else if single {
                            chart
                                .draw_series(std::iter::once(TriangleMarker::new(
                                    (d as f64 + 0.5, top - 0.5),
                                    6,
                                    c.filled(),
                                )))
                                .map_err(&e)?;
                        } else {
                            chart
                                .draw_series(std::iter::once(PathElement::new(
                                    vec![(d as f64 + 0.5, y0), (d as f64 + 0.5, y1)],
                                    c.stroke_width(2),
                                )))
                                .map_err(&e)?;
                        }
                    }
                }
            }
            // Row label in the left margin, right-aligned against the plot area.
            let (px, py) = chart.backend_coord(&(0.0, top - 0.5));
            let mut label = row.label.clone();
            if label.chars().count() > 46 {
                label = label.chars().take(45).collect::<String>() + "…";
            }
            let style = TextStyle::from((FONT, 13).into_font())
                .color(&RGBColor(30, 30, 30))
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Right,
                    plotters::style::text_anchor::VPos::Center,
                ));
            root.draw(&Text::new(label, (px - 8, py), style))
                .map_err(&e)?;
        }
        let (_, h) = root.dim_in_pixel();
        let style = TextStyle::from((FONT, 12).into_font()).color(&RGBColor(110, 110, 110));
        root.draw(&Text::new(self.note.clone(), (14, h as i32 - 16), style))
            .map_err(&e)?;
        Ok(())
    }
}
