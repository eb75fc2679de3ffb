//! A numbers-at-risk table under an XY chart: one row per arm (its colour's line sample, then
//! a count under each column's x), as Kaplan–Meier figures print it (Pocock, Clayton & Altman
//! 2002, "Survival plots of time-to-event outcomes in clinical trials", Lancet 359:1686, which
//! asks for the numbers at risk under the time axis) and as growth figures need it to show
//! how many animals each mean is of.
//!
//! The chart gives the data; the table only draws it. Columns closer than one count's width
//! in pixels are thinned (the first of a crowded run is kept), so daily visits stay legible.

use super::xy::Fonts;
use super::{FONT, PlotError, color, draw_err};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Numbers at risk per arm at common x positions.
#[derive(Debug, Clone, PartialEq)]
pub struct AtRisk {
    /// Row header drawn above the counts (e.g. "Animals measured").
    pub title: String,
    /// x positions (data units, ascending) of the columns.
    pub columns: Vec<f64>,
    /// One row per arm.
    pub rows: Vec<AtRiskRow>,
}

/// One arm's counts, one per column (`None`: nothing to count there, left blank).
#[derive(Debug, Clone, PartialEq)]
pub struct AtRiskRow {
    /// Palette index of the arm (the same as its series).
    pub color: usize,
    /// Count per column.
    pub counts: Vec<Option<usize>>,
}

impl AtRisk {
    /// A table from each arm's (x, n) series (e.g. per-visit n): the columns are every x of
    /// any arm; a row's count at a column is its n at its last x at or before the column
    /// (blank before its first).
    pub fn from_series(title: &str, rows: &[(usize, Vec<(f64, usize)>)]) -> Self {
        let mut columns: Vec<f64> = rows
            .iter()
            .flat_map(|r| r.1.iter().map(|p| p.0))
            .filter(|x| x.is_finite())
            .collect();
        columns.sort_by(f64::total_cmp);
        columns.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        let rows = rows
            .iter()
            .map(|(c, pts)| AtRiskRow {
                color: *c,
                counts: columns
                    .iter()
                    .map(|&x| pts.iter().rev().find(|p| p.0 <= x + 1e-9).map(|p| p.1))
                    .collect(),
            })
            .collect();
        AtRisk {
            title: title.into(),
            columns,
            rows,
        }
    }

    /// Height of the table strip at fonts `f`, px.
    pub(crate) fn height(&self, f: Fonts) -> u32 {
        (self.rows.len() as u32 + 1) * row_height(f) + 6
    }

    /// Draws the table in `area` (as wide as the chart's drawing area) with `px` mapping a
    /// data x to a pixel x relative to `area`; `left` is the pixel x where the data area
    /// starts (row samples go left of it).
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        px: &dyn Fn(f64) -> i32,
        left: i32,
        f: Fonts,
    ) -> Result<(), PlotError> {
        let e = draw_err(&self.title);
        let rh = row_height(f) as i32;
        let grey = RGBColor(70, 70, 70);
        let head = (FONT, f.label)
            .into_font()
            .color(&grey)
            .pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(self.title.clone(), (8, rh / 2 + 2), head))
            .map_err(&e)?;
        let shown = self.shown_columns(px, f);
        for (r, row) in self.rows.iter().enumerate() {
            let y = rh * (r as i32 + 1) + rh / 2 + 2;
            let c = color(row.color);
            let x0 = (left - 34).max(4);
            area.draw(&PathElement::new(
                vec![(x0, y), (x0 + 24, y)],
                c.stroke_width(3),
            ))
            .map_err(&e)?;
            let style = (FONT, f.label)
                .into_font()
                .color(&c)
                .pos(Pos::new(HPos::Center, VPos::Center));
            for &k in &shown {
                if let Some(n) = row.counts.get(k).copied().flatten() {
                    area.draw(&Text::new(
                        n.to_string(),
                        (px(self.columns[k]), y),
                        style.clone(),
                    ))
                    .map_err(&e)?;
                }
            }
        }
        Ok(())
    }

    /// Indices of the columns drawn: left to right, each at least one count's width (plus a
    /// gap) right of the previous one drawn.
    fn shown_columns(&self, px: &dyn Fn(f64) -> i32, f: Fonts) -> Vec<usize> {
        let widest = self
            .rows
            .iter()
            .flat_map(|r| r.counts.iter().flatten())
            .map(|n| super::text::text_width(&n.to_string(), f64::from(f.label)))
            .fold(0.0, f64::max);
        let gap = widest.ceil() as i32 + 8;
        let mut out = Vec::new();
        let mut last = i32::MIN / 2;
        for (k, &x) in self.columns.iter().enumerate() {
            let p = px(x);
            if p - last >= gap {
                out.push(k);
                last = p;
            }
        }
        out
    }
}

fn row_height(f: Fonts) -> u32 {
    f.label + 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_carry_forward_from_each_arms_last_visit() {
        let t = AtRisk::from_series(
            "n",
            &[
                (0, vec![(0.0, 10), (3.5, 9), (7.0, 7)]),
                (1, vec![(0.0, 10), (4.0, 10)]),
            ],
        );
        assert_eq!(t.columns, vec![0.0, 3.5, 4.0, 7.0]);
        assert_eq!(t.rows[0].counts, vec![Some(10), Some(9), Some(9), Some(7)]);
        assert_eq!(
            t.rows[1].counts,
            vec![Some(10), Some(10), Some(10), Some(10)]
        );
    }

    #[test]
    fn crowded_columns_are_thinned_not_overprinted() {
        let t = AtRisk::from_series("n", &[(0, (0..50).map(|d| (f64::from(d), 10)).collect())]);
        // 50 daily columns over 250 px: 5 px apart, two-digit counts need ~25 px.
        let shown = t.shown_columns(&|x| (x * 5.0) as i32, Fonts::of(false));
        assert!(shown.len() > 5 && shown.len() < 15, "{shown:?}");
        assert!(shown.windows(2).all(|w| (w[1] - w[0]) * 5 >= 20));
    }
}
