//! Small multiples: several [`XyChart`]s in a grid under one title, with one shared legend in
//! its own column right of the panels and one footer note (e.g. power per comparison).

use super::xy::{Fonts, Strips, draw_legend_column, legend_column_width};
use super::{Figure, LegendEntry, PlotError, XyChart};
use plotters::coord::Shift;
use plotters::prelude::*;

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
        let f = Fonts::of(false);
        let (w, _) = root.dim_in_pixel();
        let strips = Strips::new(self.subtitle.as_deref(), self.note.as_deref(), w, f);
        let body = strips.draw(root, &self.title, f)?;
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
