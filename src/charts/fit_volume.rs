//! Calibration fit chart: the distribution of annual partner volume, observed against fitted
//! (histograms of log₁₀ volume).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::xy::{check_series, Series, Shape, XyPlot};
use super::{series_colour, Chart, Theme, DEFAULT_SIZE};
use crate::error::Result;

/// Observed and fitted annual volumes per partner.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnualVolumeFit {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: Option<String>,
    /// Observed annual volume per partner (positive values are plotted).
    pub observed: Vec<f64>,
    /// Fitted annual volume per partner.
    pub fitted: Vec<f64>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl AnnualVolumeFit {
    /// A chart of `observed` against `fitted` volumes.
    pub fn new(title: impl Into<String>, observed: Vec<f64>, fitted: Vec<f64>) -> Self {
        AnnualVolumeFit {
            title: title.into(),
            subtitle: None,
            observed,
            fitted,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("fit_volume");

    fn series(&self) -> Vec<Series> {
        let logs = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .filter(|x| **x > 0.0 && x.is_finite())
                .map(|x| x.log10())
                .collect()
        };
        let (o, f) = (logs(&self.observed), logs(&self.fitted));
        let lo = o.iter().chain(&f).copied().fold(f64::INFINITY, f64::min);
        let hi = o
            .iter()
            .chain(&f)
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        if hi <= lo {
            return vec![Series::new(
                "",
                series_colour(0),
                Shape::Points,
                o.clone(),
                o,
            )];
        }
        let bins = 30usize;
        let w = (hi - lo) / bins as f64;
        let hist = |v: &[f64]| -> Vec<f64> {
            let mut c = vec![0.0; bins];
            for x in v {
                c[(((x - lo) / w) as usize).min(bins - 1)] += 1.0;
            }
            let n = v.len().max(1) as f64;
            c.iter().map(|k| k / n).collect()
        };
        let x: Vec<f64> = (0..bins).map(|j| lo + (j as f64 + 0.5) * w).collect();
        vec![
            Series::new(
                "observed",
                series_colour(0),
                Shape::Bars { width: w * 0.9 },
                x.clone(),
                hist(&o),
            ),
            Series::new(
                "fitted",
                series_colour(1),
                Shape::Line {
                    dashed: false,
                    width: 2.5,
                },
                x,
                hist(&f),
            ),
        ]
    }
}

const NAME: &str = "annual volume fit";

impl Chart for AnnualVolumeFit {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        check_series(NAME, &self.series())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        XyPlot {
            title: &self.title,
            subtitle: Some(self.subtitle.as_deref().unwrap_or("Share of partners by annual purchases (log₁₀ scale), observed against the calibrated model's fit")),
            x_desc: "log₁₀ annual purchases".into(),
            y_desc: "Share of partners".into(),
            x_format: None,
            y_format: Some(super::format::AxisFormat::percent(0.0, 0.2, 8)),
            x_names: Vec::new(),
            series: self.series(),
        }
        .draw(root, t)
    }
}
