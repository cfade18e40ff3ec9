//! The fit report's charts of a calibration: the calibration's diagnostics turned into the
//! fit charts, so that the calibration itself does not depend on rendering.

use super::{
    AnnualVolumeFit, BunchingFit, Chart, ChurnFit, ChurnSeries, ResidualQq, SeasonalityBand,
    SeasonalityFit, TrendFit, TrendSeries,
};
use crate::calibrate::Calibration;
use crate::error::Result;

/// The 90% normal quantile used for the seasonality bands.
const Z95: f64 = 1.644_853_626_951_472_2;

/// The charts of a calibration's fit report.
#[derive(Debug, Clone, PartialEq)]
pub struct FitCharts {
    /// Seasonality per segment with 90% bands.
    pub seasonality: SeasonalityFit,
    /// Segment-month effects against seasonality + trend.
    pub trend: TrendFit,
    /// QQ plot of the log residuals.
    pub qq: ResidualQq,
    /// Annual partner volume, observed against fitted.
    pub volume: AnnualVolumeFit,
    /// Churn curves.
    pub churn: ChurnFit,
    /// Bunching at the past programme's thresholds (with a programme whose thresholds the
    /// history approaches).
    pub bunching: Option<BunchingFit>,
}

impl FitCharts {
    /// The charts of `c`.
    pub fn of(c: &Calibration) -> FitCharts {
        let seg_label = |g: usize| {
            if c.segments[g].is_empty() {
                "all partners".to_string()
            } else {
                c.segments[g].clone()
            }
        };
        let season_of = |g: usize| -> SeasonalityBand {
            let name = &c.segments[g];
            let (factors, prefix) = match c.model.seasonality.segments.get(name) {
                Some(f) => (f.clone(), format!("seasonality.segments.{name}.")),
                None => (
                    c.model.seasonality.factors.clone(),
                    "seasonality.".to_string(),
                ),
            };
            let mean = factors.iter().sum::<f64>() / factors.len().max(1) as f64;
            let factor: Vec<f64> = factors.iter().map(|f| f / mean).collect();
            let se: Vec<f64> = (0..12)
                .map(|m| {
                    c.estimate(&format!("{prefix}log_effect[{m}]"))
                        .map(|e| e.se)
                        .filter(|s| s.is_finite())
                        .unwrap_or(0.0)
                })
                .collect();
            SeasonalityBand {
                name: seg_label(g),
                lo: factor
                    .iter()
                    .zip(&se)
                    .map(|(f, s)| f * (-Z95 * s).exp())
                    .collect(),
                hi: factor
                    .iter()
                    .zip(&se)
                    .map(|(f, s)| f * (Z95 * s).exp())
                    .collect(),
                factor,
            }
        };
        let d = &c.diagnostics;
        let g_len = c.segments.len();
        let bunching = c.behaviour.as_ref().map(|b| {
            let centres: Vec<f64> = (0..b.counts.len())
                .map(|j| -b.range + (j as f64 + 0.5) * b.bin_width)
                .collect();
            BunchingFit::new(
                format!("Bunching at the tier thresholds of {}", b.programme),
                centres,
                b.counts.clone(),
                b.fitted.clone(),
                (b.below, b.above),
            )
            .with_subtitle(format!(
                "{} partner-periods; stretch share in the window below {:.1}% ± {:.1}%",
                super::format::thousands(b.observations as f64, 0),
                100.0 * b.share,
                100.0 * b.share_se
            ))
        });
        FitCharts {
            seasonality: SeasonalityFit::new(
                "Seasonality per segment",
                (0..g_len).map(season_of).collect(),
            ),
            trend: TrendFit::new(
                "Monthly effects, trend and seasonality",
                d.months.clone(),
                (0..g_len)
                    .map(|g| TrendSeries {
                        name: seg_label(g),
                        observed: d.segment_effect[g].clone(),
                        fitted: d.segment_fitted[g].clone(),
                    })
                    .collect(),
            ),
            qq: ResidualQq::new("Residuals against the normal", d.residual_sample.clone()),
            volume: AnnualVolumeFit::new(
                "Annual purchases per partner",
                d.annual_observed.clone(),
                d.annual_fitted.clone(),
            ),
            churn: ChurnFit::new(
                "Churn: partners still buying",
                d.months.clone(),
                (0..g_len)
                    .map(|g| ChurnSeries {
                        name: seg_label(g),
                        observed: d.churn_observed[g].clone(),
                        fitted: d.churn_fitted[g].clone(),
                    })
                    .collect(),
            ),
            bunching,
        }
    }

    /// Each chart as (file stem, SVG document), in report order.
    pub fn svgs(&self) -> Result<Vec<(&'static str, String)>> {
        let mut out = vec![
            ("seasonality", self.seasonality.render_svg()?),
            ("trend", self.trend.render_svg()?),
            ("residual_qq", self.qq.render_svg()?),
            ("annual_volume", self.volume.render_svg()?),
            ("churn", self.churn.render_svg()?),
        ];
        if let Some(b) = &self.bunching {
            out.push(("bunching", b.render_svg()?));
        }
        Ok(out)
    }

    /// Each chart as (file stem, PNG bytes at `scale`), in report order.
    pub fn pngs(&self, scale: f64) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let mut out = vec![
            ("seasonality", self.seasonality.render_png_scaled(scale)?),
            ("trend", self.trend.render_png_scaled(scale)?),
            ("residual_qq", self.qq.render_png_scaled(scale)?),
            ("annual_volume", self.volume.render_png_scaled(scale)?),
            ("churn", self.churn.render_png_scaled(scale)?),
        ];
        if let Some(b) = &self.bunching {
            out.push(("bunching", b.render_png_scaled(scale)?));
        }
        Ok(out)
    }
}
