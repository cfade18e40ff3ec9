//! Calibration fit chart: seasonality per segment, the estimated monthly factor with its 90%
//! band.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::xy::{check_series, Series, Shape, XyPlot};
use super::{series_colour, Chart, Theme, DEFAULT_SIZE};
use crate::error::Result;

/// One segment's seasonal factors (12, January first) and their 90% band.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalityBand {
    /// Segment name (legend).
    pub name: String,
    /// Factor per calendar month (1 = an average month).
    pub factor: Vec<f64>,
    /// Lower end of the 90% interval per month.
    pub lo: Vec<f64>,
    /// Upper end.
    pub hi: Vec<f64>,
}

/// Seasonality per segment with bands (segment `i` in [`series_colour`]`(i)`).
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalityFit {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: Option<String>,
    /// One band per segment.
    pub segments: Vec<SeasonalityBand>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl SeasonalityFit {
    /// A seasonality chart of `segments`.
    pub fn new(title: impl Into<String>, segments: Vec<SeasonalityBand>) -> Self {
        SeasonalityFit {
            title: title.into(),
            subtitle: None,
            segments,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("fit_seasonality");

    fn series(&self) -> Vec<Series> {
        let x: Vec<f64> = (0..12).map(|c| c as f64).collect();
        let mut out = Vec::new();
        for (i, s) in self.segments.iter().enumerate() {
            let mut band = Series::new("", series_colour(i), Shape::Band, x.clone(), s.lo.clone());
            band.y2 = s.hi.clone();
            out.push(band);
        }
        for (i, s) in self.segments.iter().enumerate() {
            out.push(Series::new(
                s.name.clone(),
                series_colour(i),
                Shape::Line {
                    dashed: false,
                    width: 2.5,
                },
                x.clone(),
                s.factor.clone(),
            ));
        }
        out
    }
}

const NAME: &str = "seasonality fit";
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Chart for SeasonalityFit {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        for s in &self.segments {
            if s.factor.len() != 12 {
                return Err(crate::error::Error::Request(format!(
                    "{NAME}: segment '{}' has {} factors; expected 12",
                    s.name,
                    s.factor.len()
                )));
            }
        }
        check_series(NAME, &self.series())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        XyPlot {
            title: &self.title,
            subtitle: Some(self.subtitle.as_deref().unwrap_or(
                "Monthly factor (1 = an average month) with its 90% interval, per segment",
            )),
            x_desc: "Calendar month".into(),
            y_desc: "Seasonal factor".into(),
            x_format: None,
            y_format: None,
            x_names: MONTHS.iter().map(|m| m.to_string()).collect(),
            series: self.series(),
        }
        .draw(root, t)
    }
}
