//! The plot of the calibration's fit charts: lines, bands, points and bars on two
//! continuous axes in the shared frame (header with legend, styled axes), so each fit chart
//! only says what it draws.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::format::AxisFormat;
use super::{check_finite, header, pad_range, Axes, Axis, Mark, OrDraw, Plot, PlotFrame, Theme};
use crate::error::{Error, Result};

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    /// A line through the points (dashed or solid), `width` nominal pixels.
    Line { dashed: bool, width: f64 },
    /// A shaded band between `y` and `y2`.
    Band,
    /// Dots.
    Points,
    /// Bars of `width` data units centred on `x`, from 0 to `y`.
    Bars { width: f64 },
}

/// One series of a plot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// Legend entry (empty: not in the legend).
    pub name: String,
    pub colour: RGBColor,
    pub shape: Shape,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Upper edge of a band.
    pub y2: Vec<f64>,
}

impl Series {
    pub(crate) fn new(
        name: impl Into<String>,
        colour: RGBColor,
        shape: Shape,
        x: Vec<f64>,
        y: Vec<f64>,
    ) -> Series {
        Series {
            name: name.into(),
            colour,
            shape,
            x,
            y,
            y2: Vec::new(),
        }
    }
}

/// What a fit chart draws: title, subtitle, axis titles and formats, series (in drawing order).
pub(crate) struct XyPlot<'a> {
    pub title: &'a str,
    pub subtitle: Option<&'a str>,
    pub x_desc: String,
    pub y_desc: String,
    pub x_format: Option<AxisFormat>,
    pub y_format: Option<AxisFormat>,
    /// Labels of x at integer positions (month names), instead of numbers.
    pub x_names: Vec<String>,
    pub series: Vec<Series>,
}

/// `Error::Request` unless the series are non-empty, of equal lengths and finite.
pub(crate) fn check_series(chart: &str, series: &[Series]) -> Result<()> {
    if series.iter().all(|s| s.x.is_empty()) {
        return Err(Error::Request(format!("{chart}: nothing to plot")));
    }
    for s in series {
        if s.x.len() != s.y.len() || (s.shape == Shape::Band && s.y2.len() != s.x.len()) {
            return Err(Error::Request(format!(
                "{chart}: series '{}' has {} x values and {} y values",
                s.name,
                s.x.len(),
                s.y.len()
            )));
        }
        check_finite(chart, &format!("{}.x", s.name), &s.x)?;
        check_finite(chart, &format!("{}.y", s.name), &s.y)?;
        check_finite(chart, &format!("{}.y2", s.name), &s.y2)?;
    }
    Ok(())
}

impl XyPlot<'_> {
    /// Draws the plot on `root`.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> Result<()> {
        let legend: Vec<(String, Mark)> = self
            .series
            .iter()
            .filter(|s| !s.name.is_empty())
            .map(|s| {
                let mark = match s.shape {
                    Shape::Line { dashed, width } => Mark::Line(s.colour.to_rgba(), width, dashed),
                    Shape::Band => Mark::Swatch(s.colour.mix(0.25)),
                    Shape::Points | Shape::Bars { .. } => Mark::Swatch(s.colour.to_rgba()),
                };
                (s.name.clone(), mark)
            })
            .collect();
        let body = header(root, t, self.title, self.subtitle, &legend)?;
        let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for s in &self.series {
            let half = match s.shape {
                Shape::Bars { width } => width / 2.0,
                _ => 0.0,
            };
            for &x in &s.x {
                x_lo = x_lo.min(x - half);
                x_hi = x_hi.max(x + half);
            }
            for &y in s.y.iter().chain(&s.y2) {
                y_lo = y_lo.min(y);
                y_hi = y_hi.max(y);
            }
            if matches!(s.shape, Shape::Bars { .. }) {
                y_lo = y_lo.min(0.0);
            }
        }
        let (x_lo, x_hi) = pad_range(x_lo, x_hi);
        let (y_lo, y_hi) = pad_range(y_lo, y_hi);
        let pad = (y_hi - y_lo) * 0.06;
        let (y_lo, y_hi) = (if y_lo == 0.0 { 0.0 } else { y_lo - pad }, y_hi + pad);
        let x_fmt = self.x_format.unwrap_or(AxisFormat::count(x_lo, x_hi, 8));
        let y_fmt = self.y_format.unwrap_or(AxisFormat::count(y_lo, y_hi, 8));
        let frame = PlotFrame::standard(t, t.px(48.0));
        let mut chart = frame.build(&body, t, x_lo..x_hi, y_lo..y_hi)?;
        if self.x_names.is_empty() {
            Axes {
                x: Axis::labelled(8, &x_fmt).titled(self.x_desc.clone()),
                y: Axis::labelled(8, &y_fmt).titled(self.y_desc.clone()),
            }
            .draw(&mut chart, t)?;
        } else {
            Axes {
                x: Axis::hidden().titled(self.x_desc.clone()),
                y: Axis::labelled(8, &y_fmt).titled(self.y_desc.clone()),
            }
            .draw(&mut chart, t)?;
            for (i, name) in self.x_names.iter().enumerate() {
                let p = chart.backend_coord(&(i as f64, y_lo));
                let st = t.text(12.0, super::INK);
                super::label(
                    root,
                    name,
                    (p.0, p.1 + t.px(6.0)),
                    &st,
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Top,
                )?;
            }
        }
        self.draw_series(&mut chart, t)
    }

    /// Draws every series on the plot's `chart` (bands, lines, points and bars).
    fn draw_series<DB: DrawingBackend>(&self, chart: &mut Plot<'_, DB>, t: &Theme) -> Result<()> {
        for s in &self.series {
            match s.shape {
                Shape::Band => {
                    let mut poly: Vec<(f64, f64)> =
                        s.x.iter().copied().zip(s.y.iter().copied()).collect();
                    poly.extend(s.x.iter().copied().zip(s.y2.iter().copied()).rev());
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            poly,
                            t.fill(s.colour.mix(0.2)),
                        )))
                        .or_draw()?;
                }
                Shape::Line { dashed, width } => {
                    let pts: Vec<(f64, f64)> =
                        s.x.iter().copied().zip(s.y.iter().copied()).collect();
                    if dashed {
                        chart
                            .draw_series(std::iter::once(DashedPathElement::new(
                                pts,
                                t.px(6.0),
                                t.px(4.0),
                                t.line(s.colour, width),
                            )))
                            .or_draw()?;
                    } else {
                        chart
                            .draw_series(std::iter::once(PathElement::new(
                                pts,
                                t.line(s.colour, width),
                            )))
                            .or_draw()?;
                    }
                }
                Shape::Points => {
                    let r = t.px(2.5);
                    chart
                        .draw_series(
                            s.x.iter()
                                .zip(&s.y)
                                .map(|(&x, &y)| Circle::new((x, y), r, t.fill(s.colour.mix(0.7)))),
                        )
                        .or_draw()?;
                }
                Shape::Bars { width } => {
                    chart
                        .draw_series(s.x.iter().zip(&s.y).map(|(&x, &y)| {
                            Rectangle::new(
                                [(x - width / 2.0, 0.0), (x + width / 2.0, y)],
                                t.fill(s.colour.mix(0.75)),
                            )
                        }))
                        .or_draw()?;
                }
            }
        }
        Ok(())
    }
}
