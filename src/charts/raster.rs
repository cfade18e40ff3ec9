//! PNG text rendering with even glyph spacing.
//!
//! plotters' ab_glyph text drawing places each glyph at the pen position truncated to a
//! whole pixel and ignores the glyph's left side bearing, so at 1× the spacing between
//! letters wobbles ("16,727,04 1", "Part ner"). [`GlyphBitmap`] wraps the bitmap backend
//! and draws text itself: each glyph is rasterised at its exact sub-pixel pen position
//! (advance plus kerning, as plotters measures text, so layouts are unchanged), with its
//! bearing, at the same baseline as plotters. Everything else is delegated.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
};

use super::{DEJAVU_SANS, DEJAVU_SANS_BOLD};

fn fonts() -> Option<&'static (FontRef<'static>, FontRef<'static>)> {
    static FONTS: OnceLock<Option<(FontRef<'static>, FontRef<'static>)>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some((
                FontRef::try_from_slice(DEJAVU_SANS).ok()?,
                FontRef::try_from_slice(DEJAVU_SANS_BOLD).ok()?,
            ))
        })
        .as_ref()
}

/// A bitmap backend whose text has exact glyph positions (see the module documentation).
pub(crate) struct GlyphBitmap<'a> {
    inner: BitMapBackend<'a>,
}

impl<'a> GlyphBitmap<'a> {
    pub(crate) fn new(inner: BitMapBackend<'a>) -> Self {
        GlyphBitmap { inner }
    }
}

type Err<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> DrawingBackend for GlyphBitmap<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), Err<'a>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), Err<'a>> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Err<'a>> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Err<'a>> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Err<'a>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Err<'a>> {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Err<'a>> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Err<'a>> {
        self.inner.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Err<'a>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), Err<'a>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let Some((regular, bold)) = fonts() else {
            return self.inner.draw_text(text, style, pos);
        };
        let font_ref = if matches!(style.style(), FontStyle::Bold) {
            bold
        } else {
            regular
        };
        let size = style.size() as f32;
        let font = font_ref.as_scaled(PxScale::from(size));
        // The box plotters lays text out in: width = advances + kerning, height = size / 1.24.
        let mut width = 0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            prev = Some(id);
        }
        let (w, h) = (width as i32, (style.size() / 1.24) as i32);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Right => -w,
            HPos::Center => -w / 2,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let trans = style.transform();
        let (bw, bh) = self.get_size();
        // plotters puts the baseline at half the font size below the top of the box
        let baseline = size / 2.0;
        let mut pen = 0f32;
        let mut prev = None;
        let mut failed: Option<Err<'a>> = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                pen += font.kern(p, id);
            }
            prev = Some(id);
            let glyph =
                id.with_scale_and_position(PxScale::from(size), ab_glyph::point(pen, baseline));
            pen += font.h_advance(id);
            let Some(outline) = font_ref.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            let (ox, oy) = (b.min.x as i32, b.min.y as i32);
            let inner = &mut self.inner;
            outline.draw(|x, y, cov| {
                if failed.is_some() || cov <= 0.0 {
                    return;
                }
                let (x, y) = trans.transform(ox + x as i32 + dx, oy + y as i32 + dy);
                let (x, y) = (pos.0 + x, pos.1 + y);
                if x >= 0 && y >= 0 && (x as u32) < bw && (y as u32) < bh {
                    if let Err(e) = inner.draw_pixel((x, y), color.mix(cov.min(1.0) as f64)) {
                        failed = Some(e);
                    }
                }
            });
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::{register_fonts, FONT_FAMILY};

    /// Left edges of the ink runs along the columns of an RGB buffer.
    fn glyph_starts(rgb: &[u8], w: usize, h: usize) -> Vec<usize> {
        let inked: Vec<bool> = (0..w)
            .map(|x| (0..h).any(|y| rgb[(y * w + x) * 3] < 160))
            .collect();
        (0..w)
            .filter(|&x| inked[x] && (x == 0 || !inked[x - 1]))
            .collect()
    }

    #[test]
    fn glyphs_are_evenly_spaced_at_1x() {
        register_fonts().unwrap();
        let (w, h) = (400usize, 40usize);
        let mut rgb = vec![255u8; w * h * 3];
        {
            let root = GlyphBitmap::new(BitMapBackend::with_buffer(&mut rgb, (w as u32, h as u32)))
                .into_drawing_area();
            let style = (FONT_FAMILY, 13.0).into_font().color(&BLACK);
            root.draw(&Text::new("1111111111", (10, 10), style))
                .unwrap();
            root.present().unwrap();
        }
        let starts = glyph_starts(&rgb, w, h);
        assert_eq!(starts.len(), 10, "{starts:?}");
        let gaps: Vec<usize> = starts.windows(2).map(|p| p[1] - p[0]).collect();
        let (lo, hi) = (gaps.iter().min().unwrap(), gaps.iter().max().unwrap());
        assert!(hi - lo <= 1, "uneven glyph advances {gaps:?}");
        // and the advance is the font's (the width plotters measures for layout)
        let (regular, _) = fonts().unwrap();
        let font = regular.as_scaled(PxScale::from(13.0));
        let advance = font.h_advance(font.glyph_id('1')) as f64;
        let mean = (starts[9] - starts[0]) as f64 / 9.0;
        assert!((mean - advance).abs() < 0.2, "{mean} vs {advance}");
    }

    #[test]
    fn bold_and_rotated_text_draws() {
        register_fonts().unwrap();
        let (w, h) = (100usize, 200usize);
        let mut rgb = vec![255u8; w * h * 3];
        {
            let root = GlyphBitmap::new(BitMapBackend::with_buffer(&mut rgb, (w as u32, h as u32)))
                .into_drawing_area();
            let style = (FONT_FAMILY, 14.0, FontStyle::Bold)
                .into_font()
                .transform(plotters::style::FontTransform::Rotate270)
                .color(&BLACK);
            root.draw(&Text::new("Expected partners", (50, 180), style))
                .unwrap();
            root.present().unwrap();
        }
        // rotated: the ink spans far more rows than columns
        let rows = (0..h)
            .filter(|&y| (0..w).any(|x| rgb[(y * w + x) * 3] < 160))
            .count();
        let cols = (0..w)
            .filter(|&x| (0..h).any(|y| rgb[(y * w + x) * 3] < 160))
            .count();
        assert!(rows > 100 && cols < 25, "rows {rows}, cols {cols}");
    }
}
