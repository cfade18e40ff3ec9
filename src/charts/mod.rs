//! Charts for a finance audience, drawn with plotters.
//!
//! Every chart is a plain data struct (fed by the engine, the forecast or the
//! Python layer; nothing here depends on the engine's types) implementing
//! [`Chart`]: it renders to an SVG string ([`Chart::render_svg`]), to PNG bytes
//! ([`Chart::render_png`]) or to a file chosen by extension ([`Chart::save`],
//! written atomically). PNG output uses the bundled DejaVu Sans font, so it
//! works on machines without any system font.
//!
//! | chart | struct |
//! | --- | --- |
//! | payout distribution of one run (histogram, mean/P50/P95/budget) | [`PayoutDistribution`] |
//! | payout distributions of several designs, with expected ROI | [`DesignComparison`] |
//! | expected partners per tier per segment, with intervals | [`TierAttainment`] |
//! | cumulative accrual and cash by month, fan of percentiles | [`AccrualFan`] |
//! | expected ROI (or margin) against P95 payout per design | [`RiskReturn`] |
//! | one-at-a-time sensitivity (tornado) | [`Tornado`] |
//!
//! Colours are a fixed palette indexed by order ([`series_colour`]): pass
//! designs and segments in the same order to every chart and each keeps its
//! colour throughout a report. Inputs are validated before drawing: empty
//! data, NaN or infinite values and mismatched lengths are
//! [`Error::Request`](crate::Error::Request) naming the chart and field;
//! degenerate but legitimate data (every scenario paying the same) still draws.
//!
//! ```
//! use rebatesim::charts::{Chart, PayoutDistribution};
//! let chart = PayoutDistribution::new("Rebate payout, 2027", "EUR", vec![90_000.0, 120_000.0, 150_000.0])
//!     .with_budget(140_000.0);
//! let svg = chart.render_svg().unwrap();
//! assert!(svg.starts_with("<svg"));
//! ```

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, RGBAColor};

use crate::error::{Error, Result};

mod attainment;
mod comparison;
mod distribution;
mod fan;
pub mod format;
mod raster;
mod risk_return;
mod size;
mod sensitivity;
mod tornado;

pub use attainment::{AttainmentSeries, TierAttainment};
pub use comparison::{DesignComparison, DesignDistribution};
pub use distribution::PayoutDistribution;
pub use fan::{AccrualFan, FanSeries};
pub use risk_return::{ReturnMeasure, RiskReturn, RiskReturnPoint};
pub use tornado::{Tornado, TornadoBar, ValueUnit};
pub use size::{check_size, HEIGHTS, WIDTHS};
use size::checked_size;

/// Default chart size in pixels (SVG user units; PNG pixels at scale 1).
pub const DEFAULT_SIZE: (u32, u32) = (960, 540);

/// The font family every chart uses. The bundled DejaVu Sans is registered
/// under this name for PNG rendering; in SVG it is a CSS font list, so a
/// browser without DejaVu falls back to a metrically similar sans-serif.
pub const FONT_FAMILY: &str = "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled font with plotters (once per process). Called by
/// every render method; public for callers drawing their own plotters charts
/// with [`FONT_FAMILY`].
pub fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "the bundled DejaVuSans.ttf could not be read".to_string())?;
            plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, DEJAVU_SANS_BOLD)
                .map_err(|_| "the bundled DejaVuSans-Bold.ttf could not be read".to_string())
        })
        .clone()
        .map_err(Error::Request)
}

/// The fixed categorical palette (Tableau 10, colour-blind aware), indexed by
/// the order of designs or segments.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7), // blue
    RGBColor(0xF2, 0x8E, 0x2B), // orange
    RGBColor(0x59, 0xA1, 0x4F), // green
    RGBColor(0xB0, 0x7A, 0xA1), // purple
    RGBColor(0x76, 0xB7, 0xB2), // teal
    RGBColor(0xED, 0xC9, 0x48), // yellow
    RGBColor(0x9C, 0x75, 0x5F), // brown
    RGBColor(0xFF, 0x9D, 0xA7), // pink
    RGBColor(0xE1, 0x57, 0x59), // red
    RGBColor(0xBA, 0xB0, 0xAC), // grey
];

/// The colour of the `index`-th design or segment (cycles after ten).
pub fn series_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Body text colour.
pub(crate) const INK: RGBColor = RGBColor(0x21, 0x25, 0x29);
/// Secondary text (subtitles, notes).
pub(crate) const MUTED: RGBColor = RGBColor(0x5F, 0x66, 0x70);
/// Axis lines.
pub(crate) const AXIS: RGBColor = RGBColor(0x8A, 0x91, 0x99);
/// Grid lines.
pub(crate) const GRID: RGBColor = RGBColor(0xE6, 0xE8, 0xEB);
/// The budget line, everywhere.
pub(crate) const BUDGET: RGBColor = RGBColor(0xC8, 0x1E, 0x2D);

/// A chart: validated plain data that renders to SVG, PNG or a file.
pub trait Chart {
    /// The chart's title (drawn at the top left).
    fn title(&self) -> &str;

    /// Size in pixels (width, height).
    fn size(&self) -> (u32, u32);

    /// Checks the data: `Error::Request` naming the field for empty series,
    /// NaN or infinite values, mismatched lengths.
    fn validate(&self) -> Result<()>;

    /// Draws on a plotters area of [`Chart::size`] × `theme.scale` pixels.
    #[doc(hidden)]
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, theme: &Theme) -> Result<()>;

    /// The chart as a standalone SVG document.
    fn render_svg(&self) -> Result<String>
    where
        Self: Sized,
    {
        register_fonts()?;
        self.validate()?;
        let (w, h) = checked_size(self.size(), 1.0)?;
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
            root.fill(&WHITE).or_draw()?;
            self.draw(&root, &Theme { scale: 1.0 })?;
            root.present().or_draw()?;
        }
        Ok(out)
    }

    /// The chart as PNG bytes at its nominal size.
    fn render_png(&self) -> Result<Vec<u8>>
    where
        Self: Sized,
    {
        self.render_png_scaled(1.0)
    }

    /// The chart as PNG bytes at `scale` × its nominal size (2.0 for sharp
    /// images on high-density screens and in print), everything scaled alike.
    fn render_png_scaled(&self, scale: f64) -> Result<Vec<u8>>
    where
        Self: Sized,
    {
        if !(scale.is_finite() && (0.25..=8.0).contains(&scale)) {
            return Err(Error::Request(format!(
                "PNG scale must be between 0.25 and 8, got {scale}"
            )));
        }
        register_fonts()?;
        self.validate()?;
        let (w, h) = checked_size(self.size(), scale)?;
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = raster::GlyphBitmap::new(BitMapBackend::with_buffer(&mut rgb, (w, h)))
                .into_drawing_area();
            root.fill(&WHITE).or_draw()?;
            self.draw(&root, &Theme { scale })?;
            root.present().or_draw()?;
        }
        encode_png(&rgb, w, h)
    }

    /// Writes the chart to `path` as SVG (`.svg`) or PNG (`.png`), atomically:
    /// the file either keeps its old content or has the complete new one.
    fn save(&self, path: impl AsRef<Path>) -> Result<()>
    where
        Self: Sized,
    {
        self.save_scaled(path, 1.0)
    }

    /// As [`Chart::save`], with PNG output at `png_scale` × the nominal size
    /// (SVG is resolution-independent and ignores it).
    fn save_scaled(&self, path: impl AsRef<Path>, png_scale: f64) -> Result<()>
    where
        Self: Sized,
    {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let bytes = match ext.as_deref() {
            Some("svg") => self.render_svg()?.into_bytes(),
            Some("png") => self.render_png_scaled(png_scale)?,
            _ => {
                return Err(Error::Request(format!(
                    "cannot save a chart as '{}': the file name must end in .svg or .png",
                    path.display()
                )))
            }
        };
        write_atomic(path, &bytes)
    }
}

/// Any of the charts, for callers that handle charts generically (the Python
/// `Chart` object, the report writer).
#[derive(Debug, Clone, PartialEq)]
pub enum AnyChart {
    /// See [`PayoutDistribution`].
    PayoutDistribution(PayoutDistribution),
    /// See [`DesignComparison`].
    DesignComparison(DesignComparison),
    /// See [`TierAttainment`].
    TierAttainment(TierAttainment),
    /// See [`AccrualFan`].
    AccrualFan(AccrualFan),
    /// See [`RiskReturn`].
    RiskReturn(RiskReturn),
    /// See [`Tornado`].
    Tornado(Tornado),
}

macro_rules! any_chart {
    ($($variant:ident),*) => {
        $(impl From<$variant> for AnyChart {
            fn from(c: $variant) -> Self { AnyChart::$variant(c) }
        })*

        impl AnyChart {
            /// A short machine name of the chart kind, e.g. `"payout_distribution"`.
            pub fn kind(&self) -> &'static str {
                match self { $(AnyChart::$variant(c) => c.kind_name(),)* }
            }
        }

        impl Chart for AnyChart {
            fn title(&self) -> &str {
                match self { $(AnyChart::$variant(c) => c.title(),)* }
            }
            fn size(&self) -> (u32, u32) {
                match self { $(AnyChart::$variant(c) => c.size(),)* }
            }
            fn validate(&self) -> Result<()> {
                match self { $(AnyChart::$variant(c) => c.validate(),)* }
            }
            fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, theme: &Theme) -> Result<()> {
                match self { $(AnyChart::$variant(c) => c.draw(root, theme),)* }
            }
        }
    };
}
any_chart!(
    PayoutDistribution,
    DesignComparison,
    TierAttainment,
    AccrualFan,
    RiskReturn,
    Tornado
);

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        let mut writer = enc
            .write_header()
            .map_err(|e| Error::Request(format!("PNG encoding failed: {e}")))?;
        writer
            .write_image_data(rgb)
            .map_err(|e| Error::Request(format!("PNG encoding failed: {e}")))?;
    }
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a
/// rename, so readers never see a half-written file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .ok_or_else(|| Error::Request(format!("'{}' is not a file name", path.display())))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Pixel scale and text styles shared by the charts.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Multiplier from nominal to device pixels.
    pub scale: f64,
}

impl Theme {
    /// Nominal pixels to device pixels.
    pub(crate) fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }

    /// Nominal pixels to device pixels, at least 1.
    pub(crate) fn pxu(&self, v: f64) -> u32 {
        ((v * self.scale).round() as u32).max(1)
    }

    pub(crate) fn text(&self, size: f64, color: RGBColor) -> TextStyle<'static> {
        (FONT_FAMILY, size * self.scale).into_font().color(&color)
    }

    pub(crate) fn bold(&self, size: f64, color: RGBColor) -> TextStyle<'static> {
        (FONT_FAMILY, size * self.scale, FontStyle::Bold)
            .into_font()
            .color(&color)
    }

    pub(crate) fn line(&self, color: impl Into<RGBAColor>, width: f64) -> ShapeStyle {
        ShapeStyle {
            color: color.into(),
            filled: false,
            stroke_width: self.pxu(width),
        }
    }

    pub(crate) fn fill(&self, color: impl Into<RGBAColor>) -> ShapeStyle {
        ShapeStyle {
            color: color.into(),
            filled: true,
            stroke_width: 0,
        }
    }
}

/// Maps plotters drawing errors to [`Error`].
pub(crate) trait OrDraw<T> {
    fn or_draw(self) -> Result<T>;
}

impl<T, E: std::fmt::Debug> OrDraw<T> for std::result::Result<T, E> {
    fn or_draw(self) -> Result<T> {
        self.map_err(|e| Error::Request(format!("the chart could not be drawn: {e:?}")))
    }
}

/// How a legend entry is marked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    /// A filled square.
    Swatch(RGBAColor),
    /// A line, optionally dashed.
    Line(RGBAColor, f64, bool),
}

/// Draws the title, the subtitle and a (wrapping) legend row at the top of
/// `root`; returns the area below them for the plot.
pub(crate) fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    title: &str,
    subtitle: Option<&str>,
    legend: &[(String, Mark)],
) -> Result<DrawingArea<DB, Shift>> {
    let (w, _) = root.dim_in_pixel();
    let left = t.px(24.0);
    let mut y = t.px(14.0);
    let title_style = t.bold(22.0, INK);
    root.draw(&Text::new(
        title.to_string(),
        (left, y),
        title_style.clone(),
    ))
    .or_draw()?;
    y += t.px(30.0);
    if let Some(sub) = subtitle.filter(|s| !s.is_empty()) {
        root.draw(&Text::new(sub.to_string(), (left, y), t.text(15.0, MUTED)))
            .or_draw()?;
        y += t.px(24.0);
    }
    if !legend.is_empty() {
        y += t.px(2.0);
        let style = t.text(14.0, INK);
        let mark_w = t.px(22.0);
        let gap = t.px(8.0);
        let spacing = t.px(22.0);
        let row_h = t.px(22.0);
        let mut x = left;
        for (label, mark) in legend {
            let (tw, _) = root.estimate_text_size(label, &style).or_draw()?;
            let item_w = mark_w + gap + tw as i32;
            if x > left && x + item_w > w as i32 - t.px(16.0) {
                x = left;
                y += row_h;
            }
            let cy = y + t.px(8.0);
            draw_mark(root, t, *mark, (x, cy), mark_w)?;
            root.draw(&Text::new(
                label.clone(),
                (x + mark_w + gap, y),
                style.clone(),
            ))
            .or_draw()?;
            x += item_w + spacing;
        }
        y += row_h;
    }
    y += t.px(4.0);
    Ok(root.split_vertically(y).1)
}

fn draw_mark<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    mark: Mark,
    (x, cy): (i32, i32),
    w: i32,
) -> Result<()> {
    match mark {
        Mark::Swatch(c) => {
            let h = t.px(6.0);
            root.draw(&Rectangle::new(
                [(x + t.px(3.0), cy - h), (x + w - t.px(3.0), cy + h)],
                t.fill(c),
            ))
            .or_draw()?;
        }
        Mark::Line(c, width, dashed) => {
            let style = t.line(c, width);
            if dashed {
                root.draw(&DashedPathElement::new(
                    vec![(x, cy), (x + w, cy)],
                    t.px(5.0),
                    t.px(3.0),
                    style,
                ))
                .or_draw()?;
            } else {
                root.draw(&PathElement::new(vec![(x, cy), (x + w, cy)], style))
                    .or_draw()?;
            }
        }
    }
    Ok(())
}

/// Draws `text` anchored at `pos` (device pixels) on `root`.
pub(crate) fn label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    pos: (i32, i32),
    style: &TextStyle<'_>,
    h: HPos,
    v: VPos,
) -> Result<()> {
    root.draw(&Text::new(text.to_string(), pos, style.pos(Pos::new(h, v))))
        .or_draw()
}

/// Axis label and grid styling shared by every chart.
macro_rules! mesh_style {
    ($mesh:expr, $t:expr) => {
        $mesh
            .axis_style($t.line(super::AXIS, 1.0))
            .bold_line_style($t.line(super::GRID, 1.0))
            .light_line_style(plotters::style::TRANSPARENT)
            .label_style($t.text(13.0, super::INK))
            .axis_desc_style($t.text(14.0, super::INK))
            .set_all_tick_mark_size($t.px(4.0))
    };
}
pub(crate) use mesh_style;

/// Pixel boxes already taken by labels, to place new labels without overlap.
#[derive(Debug, Default)]
pub(crate) struct Occupied {
    boxes: Vec<(i32, i32, i32, i32)>,
}

impl Occupied {
    pub(crate) fn free(&self, b: (i32, i32, i32, i32)) -> bool {
        self.boxes
            .iter()
            .all(|o| b.2 <= o.0 || b.0 >= o.2 || b.3 <= o.1 || b.1 >= o.3)
    }
    pub(crate) fn take(&mut self, b: (i32, i32, i32, i32)) {
        self.boxes.push(b);
    }
}

/// `Error::Request` unless every value is finite, naming the first bad one.
pub(crate) fn check_finite(chart: &str, field: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::Request(format!(
            "{chart}: {field}[{i}] is {}; expected a finite number",
            values[i]
        ))),
    }
}

/// `Error::Request` unless `value` is finite.
pub(crate) fn check_value(chart: &str, field: &str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::Request(format!(
            "{chart}: {field} is {value}; expected a finite number"
        )))
    }
}

/// Widens a degenerate range so that a single value still gets an axis.
pub(crate) fn pad_range(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        let pad = (lo.abs() * 0.1).max(1.0);
        (lo - pad, hi + pad)
    }
}

/// Splits `text` into at most two lines no wider than `max_w` pixels,
/// shortening the last with an ellipsis if needed.
pub(crate) fn wrap2<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle<'static>,
    max_w: u32,
) -> Result<Vec<String>> {
    let width = |s: &str| root.estimate_text_size(s, style).map(|d| d.0).or_draw();
    if width(text)? <= max_w {
        return Ok(vec![text.to_string()]);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut first = String::new();
    let mut rest_at = words.len();
    for (i, wd) in words.iter().enumerate() {
        let cand = if first.is_empty() {
            wd.to_string()
        } else {
            format!("{first} {wd}")
        };
        if width(&cand)? > max_w && !first.is_empty() {
            rest_at = i;
            break;
        }
        first = cand;
    }
    let mut lines = vec![first];
    if rest_at < words.len() {
        lines.push(words[rest_at..].join(" "));
    }
    for line in lines.iter_mut() {
        if width(line)? > max_w {
            let mut chars: Vec<char> = line.chars().collect();
            while !chars.is_empty()
                && width(&format!("{}…", chars.iter().collect::<String>()))? > max_w
            {
                chars.pop();
            }
            *line = format!("{}…", chars.iter().collect::<String>());
        }
    }
    Ok(lines)
}
