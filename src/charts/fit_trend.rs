//! Calibration fit chart: each segment's monthly effect (log purchases, net of who buys)
//! observed and its seasonal + trend fit, month by month over the history.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::xy::{check_series, Series, Shape, XyPlot};
use super::{series_colour, Chart, Theme, DEFAULT_SIZE};
use crate::error::Result;

/// One segment's observed monthly effect (NaN: no buying partner that month) and its fit.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendSeries {
    /// Segment name (legend).
    pub name: String,
    /// Observed effect per month (log scale).
    pub observed: Vec<f64>,
    /// Seasonality + trend per month.
    pub fitted: Vec<f64>,
}

/// Trend and seasonality per segment against the observed monthly effects.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendFit {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: Option<String>,
    /// Month labels (`YYYY-MM`).
    pub months: Vec<String>,
    /// One series per segment.
    pub segments: Vec<TrendSeries>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl TrendFit {
    /// A trend chart over `months`.
    pub fn new(title: impl Into<String>, months: Vec<String>, segments: Vec<TrendSeries>) -> Self {
        TrendFit {
            title: title.into(),
            subtitle: None,
            months,
            segments,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("fit_trend");

    fn series(&self) -> Vec<Series> {
        let mut out = Vec::new();
        for (i, s) in self.segments.iter().enumerate() {
            let (x, y): (Vec<f64>, Vec<f64>) = s
                .observed
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(t, v)| (t as f64, *v))
                .unzip();
            out.push(Series::new(
                format!("{} observed", s.name),
                series_colour(i),
                Shape::Points,
                x,
                y,
            ));
            let (x, y): (Vec<f64>, Vec<f64>) = s
                .fitted
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(t, v)| (t as f64, *v))
                .unzip();
            out.push(Series::new(
                format!("{} fit", s.name),
                series_colour(i),
                Shape::Line {
                    dashed: false,
                    width: 2.0,
                },
                x,
                y,
            ));
        }
        out
    }
}

const NAME: &str = "trend fit";

impl Chart for TrendFit {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        check_series(NAME, &self.series())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let step = (self.months.len() / 8).max(1);
        XyPlot {
            title: &self.title,
            subtitle: Some(self.subtitle.as_deref().unwrap_or("Segment-month effect of log purchases (dots) and its seasonality + growth fit (line); the gap is the market")),
            x_desc: "Month".into(),
            y_desc: "Log effect".into(),
            x_format: None,
            y_format: None,
            x_names: self.months.iter().enumerate().map(|(t, m)| if t % step == 0 { m.clone() } else { String::new() }).collect(),
            series: self.series(),
        }
        .draw(root, t)
    }
}
