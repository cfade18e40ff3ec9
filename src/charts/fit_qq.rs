//! Calibration fit chart: normal QQ plot of the log residuals of partner-months.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::xy::{check_series, Series, Shape, XyPlot};
use super::{series_colour, Chart, Theme, DEFAULT_SIZE};
use crate::error::Result;

/// QQ plot of log residuals against the normal distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualQq {
    /// Chart title.
    pub title: String,
    /// Line under the title.
    pub subtitle: Option<String>,
    /// The residuals (any order).
    pub residuals: Vec<f64>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl ResidualQq {
    /// A QQ plot of `residuals`.
    pub fn new(title: impl Into<String>, residuals: Vec<f64>) -> Self {
        ResidualQq {
            title: title.into(),
            subtitle: None,
            residuals,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("fit_qq");

    fn series(&self) -> Vec<Series> {
        let mut r: Vec<f64> = self.residuals.clone();
        r.sort_by(f64::total_cmp);
        let n = r.len();
        if n == 0 {
            return vec![Series::new(
                "",
                series_colour(0),
                Shape::Points,
                vec![],
                vec![],
            )];
        }
        // at most 1,500 points, evenly spread over the ranks
        let step = (n / 1500).max(1);
        let idx: Vec<usize> = (0..n).step_by(step).chain(std::iter::once(n - 1)).collect();
        let x: Vec<f64> = idx
            .iter()
            .map(|&i| normal_quantile((i as f64 + 0.5) / n as f64))
            .collect();
        let y: Vec<f64> = idx.iter().map(|&i| r[i]).collect();
        let mean = r.iter().sum::<f64>() / n as f64;
        let sd =
            (r.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n.max(2) - 1) as f64).sqrt();
        let (x0, x1) = (x[0], x[x.len() - 1]);
        vec![
            Series::new("residuals", series_colour(0), Shape::Points, x, y),
            Series::new(
                "normal with the residuals' mean and sd",
                series_colour(8),
                Shape::Line {
                    dashed: true,
                    width: 2.0,
                },
                vec![x0, x1],
                vec![mean + sd * x0, mean + sd * x1],
            ),
        ]
    }
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let pl = 0.02425;
    if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

const NAME: &str = "residual QQ plot";

impl Chart for ResidualQq {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        check_series(NAME, &self.series())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        XyPlot {
            title: &self.title,
            subtitle: Some(self.subtitle.as_deref().unwrap_or("Log residuals of partner-months against normal quantiles: on the line if the lognormal noise fits")),
            x_desc: "Normal quantile".into(),
            y_desc: "Log residual".into(),
            x_format: None,
            y_format: None,
            x_names: Vec::new(),
            series: self.series(),
        }
        .draw(root, t)
    }
}
