//! Calibration fit chart: the bunching histogram of period volume relative to the nearest
//! tier threshold, with the polynomial counterfactual and the excluded window.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::xy::{check_series, Series, Shape, XyPlot};
use super::{series_colour, Chart, Theme, DEFAULT_SIZE};
use crate::error::Result;

/// Histogram of `volume / threshold − 1` with its counterfactual.
#[derive(Debug, Clone, PartialEq)]
pub struct BunchingFit {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: Option<String>,
    /// Bin centres.
    pub centres: Vec<f64>,
    /// Observed partner-periods per bin.
    pub counts: Vec<f64>,
    /// Counterfactual per bin.
    pub fitted: Vec<f64>,
    /// Excluded window below and above the threshold.
    pub window: (f64, f64),
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl BunchingFit {
    /// A bunching chart.
    pub fn new(
        title: impl Into<String>,
        centres: Vec<f64>,
        counts: Vec<f64>,
        fitted: Vec<f64>,
        window: (f64, f64),
    ) -> Self {
        BunchingFit {
            title: title.into(),
            subtitle: None,
            centres,
            counts,
            fitted,
            window,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("fit_bunching");

    fn series(&self) -> Vec<Series> {
        let w = if self.centres.len() > 1 {
            (self.centres[1] - self.centres[0]).abs()
        } else {
            0.01
        };
        let top = self
            .counts
            .iter()
            .chain(&self.fitted)
            .copied()
            .fold(0.0, f64::max);
        vec![
            Series::new(
                "partner-periods",
                series_colour(0),
                Shape::Bars { width: w * 0.9 },
                self.centres.clone(),
                self.counts.clone(),
            ),
            Series::new(
                "counterfactual (polynomial outside the window)",
                series_colour(1),
                Shape::Line {
                    dashed: false,
                    width: 2.5,
                },
                self.centres.clone(),
                self.fitted.clone(),
            ),
            Series::new(
                "excluded window",
                series_colour(8),
                Shape::Line {
                    dashed: true,
                    width: 1.5,
                },
                vec![-self.window.0, -self.window.0],
                vec![0.0, top],
            ),
            Series::new(
                "",
                series_colour(8),
                Shape::Line {
                    dashed: true,
                    width: 1.5,
                },
                vec![self.window.1, self.window.1],
                vec![0.0, top],
            ),
            Series::new(
                "threshold",
                super::INK,
                Shape::Line {
                    dashed: false,
                    width: 1.5,
                },
                vec![0.0, 0.0],
                vec![0.0, top],
            ),
        ]
    }
}

const NAME: &str = "bunching fit";

impl Chart for BunchingFit {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        if self.counts.len() != self.centres.len() || self.fitted.len() != self.centres.len() {
            return Err(crate::error::Error::Request(format!(
                "{NAME}: centres, counts and fitted must have the same length"
            )));
        }
        check_series(NAME, &self.series())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let lo = self.centres.first().copied().unwrap_or(-0.5);
        let hi = self.centres.last().copied().unwrap_or(0.5);
        XyPlot {
            title: &self.title,
            subtitle: Some(self.subtitle.as_deref().unwrap_or("Period volume relative to the nearest tier threshold: mass missing just below and bunched just above it is the stretch")),
            x_desc: "Volume / threshold − 1".into(),
            y_desc: "Partner-periods".into(),
            x_format: Some(super::format::AxisFormat::percent(lo, hi, 10)),
            y_format: None,
            x_names: Vec::new(),
            series: self.series(),
        }
        .draw(root, t)
    }
}
