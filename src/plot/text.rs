//! Text layout and rasterization for the figures, replacing plotters' `ab_glyph` text path.
//!
//! Why: plotters 0.3.7 (`style/font/ab_glyph.rs`) rasterizes each glyph at the origin and
//! pastes its bitmap at the integer pen position, ignoring the glyph's left side bearing
//! (`px_bounds().min.x`) and truncating the fractional pen position. Narrow glyphs with a
//! large side bearing ("l", "i", "1") are shifted left by it and the gap after them widens, so
//! "vehicle" read "vehide" ("c" touching "l") and "fulvestrant" read "ful vestrant" in the
//! PNGs. It also scales glyphs by `PxScale = size` (ascent − descent = size) while its SVG
//! backend writes `font-size = size / 1.24` (one em), so PNG text was 6% larger than SVG text
//! and the layout boxes did not match either.
//!
//! [`Typeset`] wraps any backend: it measures text with one layout ([`layout`]: advances,
//! kerning, em = size / 1.24 like the SVG) for both outputs and, on raster backends, draws
//! each glyph at its exact subpixel position (pen + side bearing), anchored like the SVG
//! `<text>` (start/middle/end; baseline 0.76 em below the top).

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle,
};
use std::sync::OnceLock;

/// plotters' font "size" is 1.24 em (its SVG backend writes `font-size = size / 1.24`).
const SIZE_PER_EM: f64 = 1.24;
/// Baseline below the top of a top-anchored line, em (plotters' SVG `dy = 0.76em`).
const TOP_BASELINE_EM: f32 = 0.76;

/// The bundled face of `style`. `None` only if the TTF bytes shipped by the `dejavu` crate
/// do not parse — a build defect that the test `bundled_fonts_parse` catches, never an input
/// error; like [`super::init_fonts`], text then does not render rather than panicking.
fn font(style: FontStyle) -> Option<&'static FontRef<'static>> {
    static FONTS: OnceLock<[Option<FontRef<'static>>; 3]> = OnceLock::new();
    let f = FONTS.get_or_init(|| {
        let parse = |b: &'static [u8]| FontRef::try_from_slice(b).ok();
        [
            parse(dejavu::sans::regular()),
            parse(dejavu::sans::bold()),
            parse(dejavu::sans::oblique()),
        ]
    });
    let i = match style {
        FontStyle::Bold => 1,
        FontStyle::Italic | FontStyle::Oblique => 2,
        FontStyle::Normal => 0,
    };
    f[i].as_ref()
}

/// One line of text laid out in pixels: glyphs with their pen x, the advance width and the
/// em size.
#[derive(Clone)]
pub struct Layout {
    /// (glyph, pen x in px from the start of the line).
    pub glyphs: Vec<(GlyphId, f32)>,
    /// Sum of advances and kerning, px.
    pub width: f32,
    /// Pixels per em.
    pub em: f32,
    scale: PxScale,
    style: FontStyle,
}

/// Lays out `text` at plotters font `size` (1.24 em) in `style`: pen positions from the
/// font's advances and kerning, never rounded (the one owner of text metrics for the figures).
pub fn layout(text: &str, size: f64, style: FontStyle) -> Layout {
    let em = (size / SIZE_PER_EM) as f32;
    let Some(f) = font(style) else {
        return Layout {
            glyphs: Vec::new(),
            width: 0.0,
            em,
            scale: PxScale::from(em),
            style,
        };
    };
    let scale = f
        .pt_to_px_scale(em * 72.0 / 96.0)
        .unwrap_or(PxScale::from(em));
    let sf = f.as_scaled(scale);
    let mut pen = 0f32;
    let mut prev: Option<GlyphId> = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            pen += sf.kern(p, id);
        }
        glyphs.push((id, pen));
        pen += sf.h_advance(id);
        prev = Some(id);
    }
    Layout {
        glyphs,
        width: pen,
        em,
        scale,
        style,
    }
}

/// Width of `text` in px at plotters font `size` (normal style): what legends and layouts
/// reserve for it.
pub fn text_width(text: &str, size: f64) -> f64 {
    f64::from(layout(text, size, FontStyle::Normal).width)
}

/// Greedy word wrap of `text` into lines no wider than `max_width` px at `size` (a word
/// longer than the line stays whole).
pub fn wrap(text: &str, size: f64, max_width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let cand = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if !cur.is_empty() && text_width(&cand, size) > max_width {
            lines.push(std::mem::replace(&mut cur, word.to_string()));
        } else {
            cur = cand;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

impl Layout {
    /// Ink pixels of the line with its pen start at `(x0, baseline)`: (x, y, coverage 0..1),
    /// each glyph rasterized at its exact subpixel position.
    pub fn pixels(&self, (x0, baseline): (f32, f32)) -> Vec<(i32, i32, f32)> {
        let mut out = Vec::new();
        let Some(f) = font(self.style) else {
            return out;
        };
        for &(id, x) in &self.glyphs {
            let g = id.with_scale_and_position(self.scale, point(x0 + x, baseline));
            if let Some(o) = f.outline_glyph(g) {
                let b = o.px_bounds();
                let (bx, by) = (b.min.x as i32, b.min.y as i32);
                o.draw(|px, py, c| out.push((bx + px as i32, by + py as i32, c)));
            }
        }
        out
    }

    /// Offset of the line's start and baseline from the anchor point, as the SVG backend
    /// places `<text>` (`text-anchor`, `dy` 0.76 em / 0.5 ex / −0.5 ex).
    fn anchor_offset(&self, h: HPos, v: VPos) -> (f32, f32) {
        let dx = match h {
            HPos::Left => 0.0,
            HPos::Center => -self.width / 2.0,
            HPos::Right => -self.width,
        };
        // x-height from the font's own "x" (SVG's `ex`).
        let ex = font(self.style)
            .and_then(|f| {
                let x = f
                    .glyph_id('x')
                    .with_scale_and_position(self.scale, point(0.0, 0.0));
                f.outline_glyph(x)
            })
            .map_or(0.55 * self.em, |o| -o.px_bounds().min.y);
        let dy = match v {
            VPos::Top => TOP_BASELINE_EM * self.em,
            VPos::Center => 0.5 * ex,
            VPos::Bottom => -0.5 * ex,
        };
        (dx, dy)
    }
}

/// A backend wrapper that measures text with [`layout`] and, when `raster`, draws it with
/// correctly positioned glyphs (see the module comment); everything else is passed through.
pub struct Typeset<B> {
    /// The wrapped backend.
    pub inner: B,
    /// Rasterize text here (bitmap backends); `false` lets the inner backend write it
    /// (SVG `<text>` elements stay text).
    pub raster: bool,
}

type Res<B> = Result<(), DrawingErrorKind<<B as DrawingBackend>::ErrorType>>;

impl<B: DrawingBackend> DrawingBackend for Typeset<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Res<B> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Res<B> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Res<B> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        s: &S,
    ) -> Res<B> {
        self.inner.draw_line(from, to, s)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        s: &S,
        fill: bool,
    ) -> Res<B> {
        self.inner.draw_rect(ul, br, s, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> Res<B> {
        self.inner.draw_path(path, s)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        s: &S,
        fill: bool,
    ) -> Res<B> {
        self.inner.draw_circle(c, r, s, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        s: &S,
    ) -> Res<B> {
        self.inner.fill_polygon(vert, s)
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Res<B> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let l = layout(text, style.size(), style.style());
        // Height as plotters reports it (one em), so label areas keep their proportions.
        Ok((l.width.ceil() as u32, l.em.round() as u32))
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Res<B> {
        if !self.raster {
            return self.inner.draw_text(text, style, pos);
        }
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let l = layout(text, style.size(), style.style());
        let anchor = style.anchor();
        let (dx, dy) = l.anchor_offset(anchor.h_pos, anchor.v_pos);
        let trans = style.transform();
        let (w, h) = self.inner.get_size();
        for (x, y, cov) in l.pixels((dx, dy)) {
            let (tx, ty) = trans.transform(x, y);
            let (px, py) = (pos.0 + tx, pos.1 + ty);
            if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h && cov > 0.0 {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(cov.min(1.0)),
                    rgb: color.rgb,
                };
                self.inner.draw_pixel((px, py), c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ink column ranges of each glyph of `text` at `size`.
    fn glyph_ink(text: &str, size: f64) -> Vec<(i32, i32)> {
        let l = layout(text, size, FontStyle::Normal);
        let f = font(FontStyle::Normal).unwrap();
        l.glyphs
            .iter()
            .filter_map(|&(id, x)| {
                let g = id.with_scale_and_position(l.scale, point(x, 10.0));
                f.outline_glyph(g).map(|o| {
                    let b = o.px_bounds();
                    (b.min.x.floor() as i32, b.max.x.ceil() as i32)
                })
            })
            .collect()
    }

    #[test]
    fn glyphs_keep_their_side_bearings_so_cl_does_not_read_d() {
        // Legend size (14): the "c" and "l" of "vehicle" must not touch; the old path put
        // the "l" at the pen position minus its side bearing.
        let ink = glyph_ink("vehicle", 14.0);
        assert_eq!(ink.len(), 7);
        let (c, l) = (ink[4], ink[5]);
        assert!(l.0 >= c.1 - 1, "c {c:?} and l {l:?} overlap");
        // The "l" ink starts its side bearing (≈ 1.2 px at this size) right of its pen
        // position; the old path put it at the pen position itself.
        let lay = layout("vehicle", 14.0, FontStyle::Normal);
        let (id, pen_l) = lay.glyphs[5];
        let lsb = font(FontStyle::Normal)
            .unwrap()
            .as_scaled(lay.scale)
            .h_side_bearing(id);
        assert!(lsb >= 1.0, "{lsb}");
        assert!(
            l.0 as f32 >= (pen_l + lsb).floor(),
            "l ink {l:?}, pen {pen_l} + {lsb}"
        );
    }

    #[test]
    fn bundled_fonts_parse() {
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic] {
            assert!(font(style).is_some(), "{}", style.as_str());
        }
    }

    #[test]
    fn width_matches_the_svg_em_and_is_additive() {
        // DejaVu Sans "m" advance is 1995/2048 em; at size 12.4 the em is 10 px.
        let m = text_width("m", 12.4);
        assert!((m - 9.74).abs() < 0.05, "{m}");
        let a = text_width("vehicle", 14.0);
        let b = text_width("vehicle vehicle", 14.0);
        assert!(b > 2.0 * a && b < 2.0 * a + 14.0 / 1.24);
    }

    #[test]
    fn wrap_keeps_lines_inside_the_width() {
        let t = "mean curves stop when fewer than half of the arm's animals remain on study";
        let lines = wrap(t, 13.0, 200.0);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| text_width(l, 13.0) <= 200.0));
        assert_eq!(lines.join(" "), t);
    }

    #[test]
    fn rasterized_text_has_ink_inside_its_layout_box() {
        let l = layout("fulvestrant", 14.0, FontStyle::Normal);
        let px = l.pixels((0.0, 10.0));
        assert!(!px.is_empty());
        let max_x = px.iter().map(|p| p.0).max().unwrap();
        let min_x = px.iter().map(|p| p.0).min().unwrap();
        assert!(
            min_x >= 0 && (max_x as f32) <= l.width.ceil(),
            "{min_x}..{max_x} vs {}",
            l.width
        );
    }
}
