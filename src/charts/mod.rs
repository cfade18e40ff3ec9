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
//! | calibration fit: seasonality per segment with 90% bands | [`SeasonalityFit`] |
//! | calibration fit: segment-month effects against seasonality + trend | [`TrendFit`] |
//! | calibration fit: QQ plot of log residuals | [`ResidualQq`] |
//! | calibration fit: annual partner volume, observed vs fitted | [`AnnualVolumeFit`] |
//! | calibration fit: churn curves, observed vs fitted | [`ChurnFit`] |
//! | calibration fit: bunching at tier thresholds with the counterfactual | [`BunchingFit`] |
//! | a design search's designs, objective against P95 payout, Pareto front | [`Pareto`] |
//!
//! Colours are a fixed palette indexed by order ([`series_colour`]): pass
//! designs and segments in the same order to every chart and each keeps its
//! colour throughout a report. Inputs are validated before drawing: empty
//! data, NaN or infinite values and mismatched lengths are
//! [`Error::Request`] naming the chart and field;
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
use plotters::prelude::*;

use plotters::style::FontStyle;

use crate::error::{Error, Result};

/// The builders every chart has, in its inherent `impl`: `with_subtitle`, `with_budget`
/// (`budget`: for a chart with a budget line) and `kind_name` (the machine name that
/// [`AnyChart::kind`] gives).
macro_rules! chart_builders {
    ($kind:literal, budget) => {
        /// Adds the budget line.
        pub fn with_budget(mut self, budget: f64) -> Self {
            self.budget = Some(budget);
            self
        }

        chart_builders!($kind);
    };
    ($kind:literal) => {
        /// Replaces the automatic subtitle.
        pub fn with_subtitle(mut self, subtitle: impl Into<String>) -> Self {
            self.subtitle = Some(subtitle.into());
            self
        }

        pub(crate) fn kind_name(&self) -> &'static str {
            $kind
        }
    };
}

/// [`Chart::title`] and [`Chart::size`] of a chart struct, from its `title` and `size`
/// fields, in its `impl Chart`.
macro_rules! frame_fields {
    () => {
        fn title(&self) -> &str {
            &self.title
        }

        fn size(&self) -> (u32, u32) {
            self.size
        }
    };
}

mod attainment;
mod calibration;
mod comparison;
mod distribution;
mod fan;
mod fit_bunching;
mod fit_churn;
mod fit_qq;
pub(crate) use fit_qq::normal_quantile;
mod fit_seasonality;
mod fit_trend;
mod fit_volume;
pub mod format;
mod frame;
mod pareto;
mod raster;
mod risk_return;
mod sensitivity;
mod size;
mod tornado;
mod xy;

pub use attainment::{AttainmentSeries, TierAttainment};
pub use calibration::FitCharts;
pub use comparison::{DesignComparison, DesignDistribution};
pub use distribution::PayoutDistribution;
pub use fan::{AccrualFan, FanSeries};
pub use fit_bunching::BunchingFit;
pub use fit_churn::{ChurnFit, ChurnSeries};
pub use fit_qq::ResidualQq;
pub use fit_seasonality::{SeasonalityBand, SeasonalityFit};
pub use fit_trend::{TrendFit, TrendSeries};
pub use fit_volume::AnnualVolumeFit;
pub use pareto::Pareto;
pub use risk_return::{ReturnMeasure, RiskReturn, RiskReturnPoint};
use size::checked_size;
pub use size::{check_size, HEIGHTS, WIDTHS};
pub use tornado::{Tornado, TornadoBar, ValueUnit};

#[doc(hidden)]
pub use frame::Theme;
pub(crate) use frame::{header, label, wrap2, Axes, Axis, Mark, Occupied, OrDraw, Plot, PlotFrame};

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
    /// See [`SeasonalityFit`].
    SeasonalityFit(SeasonalityFit),
    /// See [`TrendFit`].
    TrendFit(TrendFit),
    /// See [`ResidualQq`].
    ResidualQq(ResidualQq),
    /// See [`AnnualVolumeFit`].
    AnnualVolumeFit(AnnualVolumeFit),
    /// See [`ChurnFit`].
    ChurnFit(ChurnFit),
    /// See [`BunchingFit`].
    BunchingFit(BunchingFit),
    /// See [`Pareto`].
    Pareto(Pareto),
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

            /// Sets the chart's size in pixels after checking it ([`check_size`]); on an
            /// error the chart keeps its size.
            pub fn set_size(&mut self, size: (u32, u32)) -> Result<()> {
                check_size(size)?;
                match self { $(AnyChart::$variant(c) => c.size = size,)* }
                Ok(())
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
    Tornado,
    SeasonalityFit,
    TrendFit,
    ResidualQq,
    AnnualVolumeFit,
    ChurnFit,
    BunchingFit,
    Pareto
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
