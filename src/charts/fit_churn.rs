//! Calibration fit chart: the churn curve per segment, observed (share of partners whose last
//! purchase is at or after the month) against the fitted incidence and hazard.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::xy::{check_series, Series, Shape, XyPlot};
use super::{series_colour, Chart, Theme, DEFAULT_SIZE};
use crate::error::Result;

/// One segment's observed and fitted churn curves.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnSeries {
    /// Segment name (legend).
    pub name: String,
    /// Observed share per month.
    pub observed: Vec<f64>,
    /// Fitted share per month.
    pub fitted: Vec<f64>,
}

/// Churn curves per segment.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnFit {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: Option<String>,
    /// Month labels.
    pub months: Vec<String>,
    /// One series per segment.
    pub segments: Vec<ChurnSeries>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl ChurnFit {
    /// A churn chart over `months`.
    pub fn new(title: impl Into<String>, months: Vec<String>, segments: Vec<ChurnSeries>) -> Self {
        ChurnFit {
            title: title.into(),
            subtitle: None,
            months,
            segments,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("fit_churn");

    fn series(&self) -> Vec<Series> {
        let mut out = Vec::new();
        for (i, s) in self.segments.iter().enumerate() {
            let x: Vec<f64> = (0..s.observed.len()).map(|t| t as f64).collect();
            out.push(Series::new(
                format!("{} observed", s.name),
                series_colour(i),
                Shape::Line {
                    dashed: false,
                    width: 2.5,
                },
                x.clone(),
                s.observed.clone(),
            ));
            let x: Vec<f64> = (0..s.fitted.len()).map(|t| t as f64).collect();
            out.push(Series::new(
                format!("{} fitted", s.name),
                series_colour(i),
                Shape::Line {
                    dashed: true,
                    width: 2.0,
                },
                x,
                s.fitted.clone(),
            ));
        }
        out
    }
}

const NAME: &str = "churn fit";

impl Chart for ChurnFit {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        check_series(NAME, &self.series())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let step = (self.months.len() / 8).max(1);
        XyPlot {
            title: &self.title,
            subtitle: Some(self.subtitle.as_deref().unwrap_or("Share of partners present from the start whose last purchase is at or after the month: observed (solid) and fitted (dashed)")),
            x_desc: "Month".into(),
            y_desc: "Still buying".into(),
            x_format: None,
            y_format: Some(super::format::AxisFormat::percent(0.0, 1.0, 8)),
            x_names: self.months.iter().enumerate().map(|(t, m)| if t % step == 0 { m.clone() } else { String::new() }).collect(),
            series: self.series(),
        }
        .draw(root, t)
    }
}
