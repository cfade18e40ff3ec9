//! Chart 4: cumulative accrual (liability) and cash out by month, as fans.

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{money_full, money_short, quantile_sorted, AxisFormat};
use super::{
    check_finite, check_value, header, label, series_colour, Axes, Axis, Chart, Mark, Occupied,
    OrDraw, Plot, PlotFrame, Theme, BUDGET, DEFAULT_SIZE, INK, MUTED,
};
use crate::error::{Error, Result};

/// Percentiles of one cumulative quantity by month.
#[derive(Debug, Clone, PartialEq)]
pub struct FanSeries {
    /// E.g. "Accrued liability" or "Cash paid".
    pub name: String,
    /// 10th percentile per month.
    pub p10: Vec<f64>,
    /// 25th percentile per month.
    pub p25: Vec<f64>,
    /// Median per month.
    pub p50: Vec<f64>,
    /// 75th percentile per month.
    pub p75: Vec<f64>,
    /// 90th percentile per month.
    pub p90: Vec<f64>,
}

impl FanSeries {
    /// A series from its percentiles by month.
    pub fn new(
        name: impl Into<String>,
        p10: Vec<f64>,
        p25: Vec<f64>,
        p50: Vec<f64>,
        p75: Vec<f64>,
        p90: Vec<f64>,
    ) -> Self {
        FanSeries {
            name: name.into(),
            p10,
            p25,
            p50,
            p75,
            p90,
        }
    }

    /// A series from scenario paths: `paths[s][m]` is scenario `s`'s
    /// cumulative amount at the end of month `m`. Every path must have the
    /// same length and finite values.
    pub fn from_paths(name: impl Into<String>, paths: &[Vec<f64>]) -> Result<Self> {
        let name = name.into();
        let first = paths.first().ok_or_else(|| {
            Error::Request(format!(
                "fan series '{name}': no scenario paths (paths is empty)"
            ))
        })?;
        let months = first.len();
        let mut cols = vec![Vec::with_capacity(paths.len()); months];
        for (s, p) in paths.iter().enumerate() {
            if p.len() != months {
                return Err(Error::Request(format!(
                    "fan series '{name}': paths[{s}] has {} months, paths[0] has {months}",
                    p.len()
                )));
            }
            check_finite(&format!("fan series '{name}'"), &format!("paths[{s}]"), p)?;
            for (m, v) in p.iter().enumerate() {
                cols[m].push(*v);
            }
        }
        let mut q = [vec![], vec![], vec![], vec![], vec![]];
        for mut col in cols {
            col.sort_by(f64::total_cmp);
            for (k, p) in [0.10, 0.25, 0.50, 0.75, 0.90].iter().enumerate() {
                q[k].push(quantile_sorted(&col, *p));
            }
        }
        let [p10, p25, p50, p75, p90] = q;
        Ok(FanSeries {
            name,
            p10,
            p25,
            p50,
            p75,
            p90,
        })
    }
}

/// Fan chart of cumulative amounts by month: median line, P25–P75 and
/// P10–P90 bands per series (series `i` in [`series_colour`]`(i)`), and the
/// budget as a horizontal line.
#[derive(Debug, Clone, PartialEq)]
pub struct AccrualFan {
    /// Chart title.
    pub title: String,
    /// Line under the title; `None` explains the bands.
    pub subtitle: Option<String>,
    /// ISO currency code shown in the axis title.
    pub currency: String,
    /// The month of each point (any day in the month; labelled "Jan 2027").
    pub months: Vec<NaiveDate>,
    /// The quantities shown, e.g. accrued liability and cash paid.
    pub series: Vec<FanSeries>,
    /// The programme budget (horizontal red line).
    pub budget: Option<f64>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl AccrualFan {
    /// A fan chart over `months` in `currency`.
    pub fn new(
        title: impl Into<String>,
        currency: impl Into<String>,
        months: Vec<NaiveDate>,
        series: Vec<FanSeries>,
    ) -> Self {
        AccrualFan {
            title: title.into(),
            subtitle: None,
            currency: currency.into(),
            months,
            series,
            budget: None,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("accrual_fan", budget);
}

const NAME: &str = "accrual fan";

impl Chart for AccrualFan {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        if self.months.is_empty() {
            return Err(Error::Request(format!(
                "{NAME}: no months to plot (months is empty)"
            )));
        }
        if self.series.is_empty() {
            return Err(Error::Request(format!(
                "{NAME}: no series to plot (series is empty)"
            )));
        }
        let n = self.months.len();
        for (i, s) in self.series.iter().enumerate() {
            for (q, v) in [
                ("p10", &s.p10),
                ("p25", &s.p25),
                ("p50", &s.p50),
                ("p75", &s.p75),
                ("p90", &s.p90),
            ] {
                if v.len() != n {
                    return Err(Error::Request(format!(
                        "{NAME}: series[{i}].{q} ('{}') has {} values for {n} months",
                        s.name,
                        v.len()
                    )));
                }
                check_finite(NAME, &format!("series[{i}].{q}"), v)?;
            }
            for m in 0..n {
                let q = [s.p10[m], s.p25[m], s.p50[m], s.p75[m], s.p90[m]];
                let tol = 1e-9 * q.iter().fold(1.0f64, |a, v| a.max(v.abs()));
                if q.windows(2).any(|w| w[0] > w[1] + tol) {
                    return Err(Error::Request(format!(
                        "{NAME}: series[{i}] ('{}') month {m}: percentiles must satisfy p10 ≤ p25 ≤ p50 ≤ p75 ≤ p90, got {q:?}",
                        s.name
                    )));
                }
            }
        }
        if let Some(b) = self.budget {
            check_value(NAME, "budget", b)?;
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let cur = &self.currency;
        let n = self.months.len();
        let body = self.draw_header(root, t)?;
        let (y_lo, y_hi) = self.y_range();
        let x_lo = -0.4;
        let x_hi = (n as f64 - 1.0).max(0.0) + 0.4;
        let y_fmt = AxisFormat::money(y_lo, y_hi, 8);
        let frame = PlotFrame {
            right: 70.0,
            ..PlotFrame::standard(t, t.px(34.0))
        };
        let mut chart = frame.build(&body, t, x_lo..x_hi, y_lo..y_hi)?;
        Axes {
            x: Axis::hidden(),
            y: Axis::labelled(8, &y_fmt).titled(format!("Cumulative amount ({cur})")),
        }
        .draw(&mut chart, t)?;

        let xs: Vec<f64> = (0..n).map(|m| m as f64).collect();
        let band = |lo: &[f64], hi: &[f64]| -> Vec<(f64, f64)> {
            let mut p: Vec<(f64, f64)> = xs.iter().zip(hi).map(|(x, y)| (*x, *y)).collect();
            p.extend(xs.iter().zip(lo).rev().map(|(x, y)| (*x, *y)));
            p
        };
        // several series: only the P25–P75 band shaded, P10 and P90 as thin dashed lines in the
        // series' colour (overlapping P10–P90 bands of several series blur into one grey area)
        let several = self.series.len() > 1;
        for (i, s) in self.series.iter().enumerate() {
            let c = series_colour(i);
            if n > 1 && several {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band(&s.p25, &s.p75),
                        t.fill(c.mix(0.22)),
                    )))
                    .or_draw()?;
                for edge in [&s.p10, &s.p90] {
                    chart
                        .draw_series(std::iter::once(DashedPathElement::new(
                            xs.iter()
                                .zip(edge.iter())
                                .map(|(x, y)| (*x, *y))
                                .collect::<Vec<_>>(),
                            t.px(5.0),
                            t.px(4.0),
                            t.line(c.mix(0.8), 1.2),
                        )))
                        .or_draw()?;
                }
            } else if n > 1 {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band(&s.p10, &s.p90),
                        t.fill(c.mix(0.16)),
                    )))
                    .or_draw()?;
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band(&s.p25, &s.p75),
                        t.fill(c.mix(0.30)),
                    )))
                    .or_draw()?;
            } else {
                let w = 0.12;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(-w, s.p10[0]), (w, s.p90[0])],
                        t.fill(c.mix(0.16)),
                    )))
                    .or_draw()?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(-w, s.p25[0]), (w, s.p75[0])],
                        t.fill(c.mix(0.30)),
                    )))
                    .or_draw()?;
            }
        }
        for (i, s) in self.series.iter().enumerate() {
            let c = series_colour(i);
            let pts: Vec<(f64, f64)> = xs.iter().zip(&s.p50).map(|(x, y)| (*x, *y)).collect();
            chart
                .draw_series(std::iter::once(PathElement::new(
                    pts.clone(),
                    t.line(c, 2.5),
                )))
                .or_draw()?;
            if n <= 24 {
                chart
                    .draw_series(pts.iter().map(|p| Circle::new(*p, t.px(2.5), t.fill(c))))
                    .or_draw()?;
            }
        }
        if let Some(b) = self.budget {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(x_lo, b), (x_hi, b)],
                    t.px(10.0),
                    t.px(4.0),
                    t.line(BUDGET, 2.5),
                )))
                .or_draw()?;
        }

        self.draw_end_values(root, &chart, t)?;
        self.draw_month_labels(root, &chart, t)
    }
}

impl AccrualFan {
    /// Draws the title, subtitle and legend; returns the area below them.
    fn draw_header<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> Result<DrawingArea<DB, Shift>> {
        let cur = &self.currency;
        let mut legend: Vec<(String, Mark)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    format!("{} (median)", s.name),
                    Mark::Line(series_colour(i).to_rgba(), 2.5, false),
                )
            })
            .collect();
        if self.series.len() > 1 {
            // each series' band in its own colour: say which, in the series' colours
            for (i, s) in self.series.iter().enumerate() {
                legend.push((
                    format!("{}: P25–P75", s.name),
                    Mark::Swatch(series_colour(i).mix(0.22)),
                ));
            }
            legend.push((
                "P10 and P90".to_string(),
                Mark::Line(MUTED.to_rgba(), 1.2, true),
            ));
        } else {
            let c = series_colour(0);
            legend.push(("P25–P75".to_string(), Mark::Swatch(c.mix(0.30))));
            legend.push(("P10–P90".to_string(), Mark::Swatch(c.mix(0.16))));
        }
        if let Some(b) = self.budget {
            legend.push((
                format!("Budget {} {cur}", money_full(b)),
                Mark::Line(BUDGET.to_rgba(), 2.5, true),
            ));
        }
        let subtitle = self.subtitle.clone().unwrap_or_else(|| {
            "Cumulative amounts at each month end: median line; bands hold the middle 50% and 80% of scenarios"
                .to_string()
        });
        header(root, t, &self.title, Some(&subtitle), &legend)
    }

    /// The y range: every series' P10 to P90 and the budget, with room above (and below
    /// negative amounts).
    fn y_range(&self) -> (f64, f64) {
        let mut top = self
            .series
            .iter()
            .flat_map(|s| s.p90.iter())
            .cloned()
            .fold(0.0, f64::max);
        let bottom = self
            .series
            .iter()
            .flat_map(|s| s.p10.iter())
            .cloned()
            .fold(0.0, f64::min);
        if let Some(b) = self.budget {
            top = top.max(b);
        }
        if top <= bottom {
            top = bottom + 1.0;
        }
        let y_lo = bottom
            - if bottom < 0.0 {
                (top - bottom) * 0.05
            } else {
                0.0
            };
        let y_hi = top + (top - y_lo) * 0.08;
        (y_lo, y_hi)
    }

    /// Draws each series' final median at the right end of its line, moved up or down
    /// where labels would overlap.
    fn draw_end_values<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &Plot<'_, DB>,
        t: &Theme,
    ) -> Result<()> {
        let n = self.months.len();
        let x_hi = chart.x_range().end;
        // Final median values at the right end of each line.
        let style = t.bold(13.0, INK);
        let mut taken = Occupied::default();
        for (i, s) in self.series.iter().enumerate() {
            let text = money_short(s.p50[n - 1]);
            let (tw, th) = root.estimate_text_size(&text, &style).or_draw()?;
            let p = chart.backend_coord(&(x_hi, s.p50[n - 1]));
            let mut y = p.1;
            for k in 0..8 {
                let dy = (k + 1) / 2 * (th as i32 + t.px(2.0)) * if k % 2 == 1 { -1 } else { 1 };
                let b = (
                    p.0 + t.px(6.0),
                    p.1 + dy - th as i32 / 2,
                    p.0 + t.px(6.0) + tw as i32,
                    p.1 + dy + th as i32 / 2,
                );
                if taken.free(b) {
                    taken.take(b);
                    y = p.1 + dy;
                    break;
                }
            }
            label(
                root,
                &text,
                (p.0 + t.px(6.0), y),
                &style.color(&series_colour(i)),
                HPos::Left,
                VPos::Center,
            )?;
        }
        Ok(())
    }

    /// Draws the month ticks and labels, thinned so that they never collide.
    fn draw_month_labels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &Plot<'_, DB>,
        t: &Theme,
    ) -> Result<()> {
        let n = self.months.len();
        let y_lo = chart.y_range().start;
        // Month labels, thinned so that they never collide.
        let month_style = t.text(13.0, INK);
        let labels: Vec<String> = self
            .months
            .iter()
            .map(|d| d.format("%b %Y").to_string())
            .collect();
        let widest = labels
            .iter()
            .map(|l| {
                root.estimate_text_size(l, &month_style)
                    .map(|d| d.0 as i32)
                    .unwrap_or(60)
            })
            .max()
            .unwrap_or(60);
        let step_px = if n > 1 {
            (chart.backend_coord(&(1.0, 0.0)).0 - chart.backend_coord(&(0.0, 0.0)).0).max(1)
        } else {
            widest
        };
        let every = ((widest + t.px(14.0)) as f64 / step_px as f64)
            .ceil()
            .max(1.0) as usize;
        let every = [1usize, 2, 3, 4, 6, 12, 24, 36, 60]
            .into_iter()
            .find(|e| *e >= every)
            .unwrap_or(every);
        let y0 = chart.backend_coord(&(0.0, y_lo)).1;
        for (m, l) in labels.iter().enumerate() {
            let p = chart.backend_coord(&(m as f64, y_lo));
            root.draw(&PathElement::new(
                vec![(p.0, y0), (p.0, y0 + t.px(4.0))],
                t.line(super::AXIS, 1.0),
            ))
            .or_draw()?;
            if m % every == 0 {
                label(
                    root,
                    l,
                    (p.0, y0 + t.px(7.0)),
                    &month_style,
                    HPos::Center,
                    VPos::Top,
                )?;
            }
        }
        Ok(())
    }
}
