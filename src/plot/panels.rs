//! Small multiples: several [`XyChart`]s in a grid under one title, with one shared legend in
//! its own column right of the panels and one footer note (e.g. power per comparison).

use super::xy::{Fonts, draw_header, draw_legend_column, legend_column_width};
use super::{FONT, Figure, LegendEntry, PlotError, XyChart, draw_err};
use crate::plot::text::wrap;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A grid of panels with a shared legend (panels draw no legend of their own).
#[derive(Debug, Clone)]
pub struct PanelGrid {
    /// Title over the grid.
    pub title: String,
    /// How to read the figure, under the title (wrapped).
    pub subtitle: Option<String>,
    /// Footer note (reps, seed), in its own strip.
    pub note: Option<String>,
    /// Panels, filled row by row.
    pub panels: Vec<XyChart>,
    /// Panels per row.
    pub columns: usize,
    /// The shared legend.
    pub legend: Vec<LegendEntry>,
}

impl PanelGrid {
    /// Rows of the grid.
    pub fn rows(&self) -> usize {
        self.panels.len().div_ceil(self.columns.max(1)).max(1)
    }

    /// Figure size for panels of about `panel` px (width, height) plus legend and strips.
    pub fn size(&self, panel: (u32, u32)) -> (u32, u32) {
        let f = Fonts::of(false);
        let cols = self.columns.clamp(1, self.panels.len().max(1)) as u32;
        let legend = legend_column_width(&self.legend, f.legend, 320);
        let w = cols * panel.0 + legend;
        (w, self.rows() as u32 * panel.1 + 110)
    }
}

impl Figure for PanelGrid {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let e = draw_err(&self.title);
        let f = Fonts::of(false);
        let (w, h) = root.dim_in_pixel();
        let sub: Vec<String> = self
            .subtitle
            .as_deref()
            .map(|t| wrap(t, f64::from(f.sub), f64::from(w) - 40.0))
            .unwrap_or_default();
        draw_header(root, &self.title, &sub, f)?;
        let note: Vec<String> = self
            .note
            .as_deref()
            .map(|t| wrap(t, f64::from(f.note), f64::from(w) - 16.0))
            .unwrap_or_default();
        let footer = if note.is_empty() {
            0
        } else {
            note.len() as u32 * (f.note + 3) + 6
        };
        for (k, line) in note.iter().enumerate() {
            let y = (h - footer) as i32 + 2 + k as i32 * (f.note as i32 + 3);
            let style = (FONT, f.note)
                .into_font()
                .color(&RGBColor(110, 110, 110))
                .pos(Pos::new(HPos::Right, VPos::Top));
            root.draw(&Text::new(line.clone(), (w as i32 - 8, y), style))
                .map_err(&e)?;
        }
        let header = f.title + 12 + sub.len() as u32 * (f.sub + 3);
        let body = root.margin(header, footer, 0, 0);
        let legend_w = legend_column_width(&self.legend, f.legend, w / 3);
        let (grid, legend) = body.split_horizontally(w - legend_w);
        draw_legend_column(&legend, &self.legend, f.legend, 16)?;
        let cols = self.columns.clamp(1, self.panels.len().max(1));
        let cells = grid.split_evenly((self.rows(), cols));
        for (p, cell) in self.panels.iter().zip(&cells) {
            p.draw(cell)?;
        }
        Ok(())
    }
}
