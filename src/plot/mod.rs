//! Figures: every plot is written as SVG (for papers) and PNG (for slides), atomically.
//!
//! Fonts come from the bundled DejaVu Sans (`dejavu` crate) registered with plotters'
//! `ab_glyph` backend, so no system fonts or fontconfig are needed. PNG bytes are encoded by
//! the `png` crate from plotters' RGB buffer.
//!
//! A figure is any type implementing [`Figure`]; [`XyChart`] covers line/point/error-bar/band
//! charts (growth curves, spaghetti, TGI, power, survival, population), and domain modules add
//! their own figures (waterfall, Gantt) on the same [`save`] path.

pub mod growth;
mod xy;

pub use xy::{Band, Marker, RefLine, Series, SeriesStyle, XyChart, tick_label};

use crate::output::{OutputError, write_atomic};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Font family name registered for all figures.
pub const FONT: &str = "sans-serif";

/// Colour-blind-safe palette (Okabe & Ito 2008), first colour black for the control arm.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
];

/// Colour `i` of the palette (cycles).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
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
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err("svg background"))?;
        fig.draw(&root)?;
        root.present().map_err(draw_err("svg"))?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    let (w, h) = size;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
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
