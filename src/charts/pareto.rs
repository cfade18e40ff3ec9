//! Chart 7: a design search's Pareto chart: every evaluated design as a point (objective
//! against P95 payout before the budget), the Pareto front highlighted and joined, the
//! current design and the chosen one marked.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{money_full, AxisFormat};
use super::{
    check_value, header, label, pad_range, series_colour, Axes, Axis, Chart, Mark, OrDraw,
    PlotFrame, Theme, BUDGET, DEFAULT_SIZE, INK, MUTED,
};
use crate::error::{Error, Result};

/// Scatter of the designs a search evaluated, with its Pareto front.
#[derive(Debug, Clone, PartialEq)]
pub struct Pareto {
    /// Chart title.
    pub title: String,
    /// Line under the title; `None` explains how to read the chart.
    pub subtitle: Option<String>,
    /// ISO currency code shown in the axis titles.
    pub currency: String,
    /// The objective's name (vertical axis title).
    pub objective: String,
    /// Whether the objective is an amount of money (else a ratio shown as a percentage).
    pub money: bool,
    /// P95 payout before the budget of each design (horizontal).
    pub risk: Vec<f64>,
    /// Objective of each design (vertical).
    pub value: Vec<f64>,
    /// Whether each design is on the Pareto front.
    pub front: Vec<bool>,
    /// The current design (risk, objective).
    pub current: Option<(f64, f64)>,
    /// The chosen design (risk, objective).
    pub chosen: Option<(f64, f64)>,
    /// The programme budget (vertical red line).
    pub budget: Option<f64>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl Pareto {
    /// A Pareto chart of designs at (`risk`, `value`), `front` marking the front.
    pub fn new(
        title: impl Into<String>,
        currency: impl Into<String>,
        objective: impl Into<String>,
        money: bool,
        risk: Vec<f64>,
        value: Vec<f64>,
        front: Vec<bool>,
    ) -> Self {
        Pareto {
            title: title.into(),
            subtitle: None,
            currency: currency.into(),
            objective: objective.into(),
            money,
            risk,
            value,
            front,
            current: None,
            chosen: None,
            budget: None,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("pareto", budget);
}

impl Pareto {
    /// The legend: designs, the front, the current and chosen designs and the budget when
    /// shown.
    fn legend(&self, front_colour: RGBColor, chosen_colour: RGBColor) -> Vec<(String, Mark)> {
        let cur = &self.currency;
        let mut legend = vec![
            ("Design".to_string(), Mark::Swatch(MUTED.mix(0.45))),
            (
                "Pareto front".to_string(),
                Mark::Line(front_colour.to_rgba(), 2.5, false),
            ),
        ];
        if self.current.is_some() {
            legend.push(("Current design".to_string(), Mark::Swatch(INK.to_rgba())));
        }
        if self.chosen.is_some() {
            legend.push((
                "Chosen design".to_string(),
                Mark::Swatch(chosen_colour.to_rgba()),
            ));
        }
        if let Some(b) = self.budget {
            legend.push((
                format!("Budget {} {cur}", money_full(b)),
                Mark::Line(BUDGET.to_rgba(), 2.5, true),
            ));
        }
        legend
    }

    /// The axes' ranges: every point shown (and the budget line), padded by 8% each side.
    fn plot_ranges(&self) -> ((f64, f64), (f64, f64)) {
        let mut xs: Vec<f64> = self.risk.clone();
        let mut ys: Vec<f64> = self.value.clone();
        for (x, y) in self.current.iter().chain(self.chosen.iter()) {
            xs.push(*x);
            ys.push(*y);
        }
        xs.extend(self.budget);
        let lo_hi = |v: &[f64]| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (lo, hi) = pad_range(lo, hi);
            let p = (hi - lo) * 0.08;
            (lo - p, hi + p)
        };
        (lo_hi(&xs), lo_hi(&ys))
    }
}

const NAME: &str = "pareto";

impl Chart for Pareto {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        if self.risk.is_empty() {
            return Err(Error::Request(format!("{NAME}: no designs to plot")));
        }
        if self.value.len() != self.risk.len() || self.front.len() != self.risk.len() {
            return Err(Error::Request(format!(
                "{NAME}: {} risks, {} values and {} front marks: expected one of each per design",
                self.risk.len(),
                self.value.len(),
                self.front.len()
            )));
        }
        for (i, (r, v)) in self.risk.iter().zip(&self.value).enumerate() {
            check_value(NAME, &format!("risk[{i}]"), *r)?;
            check_value(NAME, &format!("value[{i}]"), *v)?;
        }
        for (what, p) in [("current", self.current), ("chosen", self.chosen)] {
            if let Some((r, v)) = p {
                check_value(NAME, what, r)?;
                check_value(NAME, what, v)?;
            }
        }
        if let Some(b) = self.budget {
            check_value(NAME, "budget", b)?;
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let cur = &self.currency;
        let front_colour = series_colour(0);
        let chosen_colour = series_colour(2);
        let legend = self.legend(front_colour, chosen_colour);
        let subtitle = self.subtitle.clone().unwrap_or_else(|| {
            "Each point a design on the same scenarios: further right = more payout at risk, higher = better".to_string()
        });
        let body = header(root, t, &self.title, Some(&subtitle), &legend)?;
        let ((x_lo, x_hi), (y_lo, y_hi)) = self.plot_ranges();
        let x_fmt = AxisFormat::money(x_lo, x_hi, 8);
        let y_fmt = if self.money {
            AxisFormat::money(y_lo, y_hi, 8)
        } else {
            AxisFormat::percent(y_lo, y_hi, 8)
        };
        let frame = PlotFrame {
            bottom: 8.0,
            ..PlotFrame::standard(t, t.px(48.0))
        };
        let mut chart = frame.build(&body, t, x_lo..x_hi, y_lo..y_hi)?;
        let y_title = if self.money {
            format!("{} ({cur})", self.objective)
        } else {
            self.objective.clone()
        };
        Axes {
            x: Axis::labelled(8, &x_fmt).titled(format!("P95 payout before the budget ({cur})")),
            y: Axis::labelled(8, &y_fmt).titled(y_title),
        }
        .draw(&mut chart, t)?;
        if let Some(b) = self.budget {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(b, y_lo), (b, y_hi)],
                    t.px(10.0),
                    t.px(4.0),
                    t.line(BUDGET, 2.5),
                )))
                .or_draw()?;
        }
        let r = t.px(4.0);
        for (x, y) in self.risk.iter().zip(&self.value) {
            let c = chart.backend_coord(&(*x, *y));
            root.draw(&Circle::new(c, r, t.fill(MUTED.mix(0.45))))
                .or_draw()?;
        }
        let mut front: Vec<(f64, f64)> = self
            .risk
            .iter()
            .zip(&self.value)
            .zip(&self.front)
            .filter(|(_, &f)| f)
            .map(|((x, y), _)| (*x, *y))
            .collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(std::iter::once(PathElement::new(
                front.clone(),
                t.line(front_colour, 2.5),
            )))
            .or_draw()?;
        for p in &front {
            let c = chart.backend_coord(p);
            root.draw(&Circle::new(c, t.px(5.5), t.fill(front_colour)))
                .or_draw()?;
        }
        for (p, colour, text) in [
            (self.current, INK, "current"),
            (self.chosen, chosen_colour, "chosen"),
        ] {
            if let Some(p) = p {
                let c = chart.backend_coord(&p);
                let s = t.px(8.0);
                root.draw(&Rectangle::new(
                    [(c.0 - s, c.1 - s), (c.0 + s, c.1 + s)],
                    t.line(colour, 3.0),
                ))
                .or_draw()?;
                label(
                    root,
                    text,
                    (c.0 + s + t.px(4.0), c.1 - s),
                    &t.bold(13.0, colour),
                    HPos::Left,
                    VPos::Bottom,
                )?;
            }
        }
        Ok(())
    }
}
