//! Figures: every plot is written as SVG (for papers) and PNG (for slides), atomically.
//!
//! Fonts come from the bundled DejaVu Sans (`dejavu` crate) registered with plotters'
//! `ab_glyph` backend, so no system fonts or fontconfig are needed. PNG bytes are encoded by
//! the `png` crate from plotters' RGB buffer.
//!
//! A figure is any type implementing [`Figure`]; [`XyChart`] covers line/point/error-bar/band
//! charts (growth curves, spaghetti, TGI, power, survival, population), and domain modules add
//! their own figures (waterfall, Gantt) on the same [`save`] path.

mod at_risk;
pub mod growth;
mod panels;
pub mod text;
mod xy;

pub use at_risk::{AtRisk, AtRiskRow};
pub use panels::PanelGrid;
pub use xy::{
    Band, Legend, LegendEntry, Marker, RefLine, Series, SeriesStyle, XyChart, tick_label,
};

use crate::output::{OutputError, write_atomic};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Font family registered for all figures; SVG files name it as a CSS font list, so a
/// browser with DejaVu Sans shows the same metrics as the PNG.
pub const FONT: &str = "DejaVu Sans, sans-serif";

/// Colour-blind-safe palette, first colour black for the control arm: the eight colours of
/// Okabe & Ito (2008, "Color Universal Design", jfly.uni-koeln.de/color) in their order, then
/// three of Paul Tol's "muted" scheme (Tol 2021, "Colour Schemes", SRON/EPS/TN/09-002,
/// personal.sron.nl/~pault) that differ in hue or lightness from all eight for the common
/// colour-vision deficiencies: indigo #332288, wine #882255, olive #999933. Eleven colours, so
/// a ten-arm study repeats none; beyond that [`dash`] changes the line style.
pub const PALETTE: [RGBColor; 11] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
    RGBColor(51, 34, 136),
    RGBColor(136, 34, 85),
    RGBColor(153, 153, 51),
];

/// Colour `i` of the palette (cycles; [`dash`] tells the cycles apart).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Line pattern of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// Continuous line.
    Solid,
    /// 8 px dashes, 5 px gaps.
    Dashed,
    /// 2 px dots, 4 px gaps.
    Dotted,
    /// 14 px dashes, 5 px gaps.
    LongDash,
}

impl Dash {
    /// All patterns, in the order series cycles use them.
    pub const ALL: [Dash; 4] = [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::LongDash];

    /// (dash, gap) in px; `None` for a solid line.
    pub fn pattern(self) -> Option<(u32, u32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((8, 5)),
            Dash::Dotted => Some((2, 4)),
            Dash::LongDash => Some((14, 5)),
        }
    }
}

/// Line pattern of palette index `i`: solid for the first [`PALETTE`] series, then the next
/// pattern each time the colours repeat, so no two of the first 44 series look the same.
pub fn dash(i: usize) -> Dash {
    Dash::ALL[(i / PALETTE.len()) % Dash::ALL.len()]
}

/// Lowercase ASCII slug used in file names and animal ids ("TamR-MCF-7" → "tamr-mcf-7"), so
/// every figure of one cohort carries the same suffix whichever module wrote it.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "cohort".into() } else { out }
}

/// Errors while drawing or writing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// plotters reported a drawing error.
    #[error("drawing {what}: {message}")]
    Draw {
        /// Figure being drawn.
        what: String,
        /// plotters' message.
        message: String,
    },
    /// Writing the file failed.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Maps any plotters error into a [`PlotError`] (plotters' error types are generic over the
/// backend, so figures convert with `.map_err(draw_err("growth"))`).
pub fn draw_err<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> PlotError + '_ {
    move |e| PlotError::Draw {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// Draws a chart's series legend in the house style (white, slightly transparent box with a
/// light grey border, 14 px labels) at `position`.
pub fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    what: &str,
) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT, 14))
        .draw()
        .map_err(draw_err(what))
}

static FONTS: Once = Once::new();

/// Registers the bundled DejaVu fonts once per process.
pub fn init_fonts() {
    FONTS.call_once(|| {
        // The bytes are valid TTF shipped by the `dejavu` crate; a failure would be a build
        // defect, and then text simply does not render (no panic).
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
        let _ = plotters::style::register_font(FONT, FontStyle::Italic, dejavu::sans::oblique());
    });
}

/// Something that can draw itself on any plotters backend.
pub trait Figure {
    /// Draws the whole figure into `root` (already sized).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Renders `fig` to `<stem>.svg` and `<stem>.png` (size in pixels) and returns both paths.
pub fn save<F: Figure>(fig: &F, stem: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>, PlotError> {
    init_fonts();
    let svg_path = stem.with_extension("svg");
    let png_path = stem.with_extension("png");
    let mut svg = String::new();
    {
        // Both outputs measure text with the same layout; only the PNG rasterizes it here
        // (see `text` for why plotters' own glyph placement is not used).
        let root = text::Typeset {
            inner: SVGBackend::with_string(&mut svg, size),
            raster: false,
        }
        .into_drawing_area();
        root.fill(&WHITE).map_err(draw_err("svg background"))?;
        fig.draw(&root)?;
        root.present().map_err(draw_err("svg"))?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    let (w, h) = size;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = text::Typeset {
            inner: BitMapBackend::with_buffer(&mut buf, size),
            raster: true,
        }
        .into_drawing_area();
        root.fill(&WHITE).map_err(draw_err("png background"))?;
        fig.draw(&root)?;
        root.present().map_err(draw_err("png"))?;
    }
    let png_bytes = encode_png(&buf, w, h).map_err(draw_err("png encoding"))?;
    write_atomic(&png_path, &png_bytes)?;
    Ok(vec![svg_path, png_path])
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // fdeflate's fast mode: several times faster than the default for chart images (large
        // flat areas) at a modestly larger file; encoding was most of `simulate`'s CPU time.
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
