//! Chart 5: expected return against payout risk (P95), one point per design.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{money_full, money_short, percent, AxisFormat};
use super::{
    check_value, header, label, pad_range, series_colour, Axes, Axis, Chart, Mark, Occupied,
    OrDraw, Plot, PlotFrame, Theme, BUDGET, DEFAULT_SIZE, INK, MUTED,
};
use crate::error::{Error, Result};

/// What the vertical axis of a [`RiskReturn`] chart measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnMeasure {
    /// Expected ROI as a fraction (0.35 = 35%).
    Roi,
    /// Expected incremental margin, in the chart's currency.
    IncrementalMargin,
}

/// One design's position.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskReturnPoint {
    /// Design name (point label and colour key).
    pub design: String,
    /// The design's 95th-percentile total payout.
    pub p95_payout: f64,
    /// Expected ROI (fraction) or incremental margin (money), per [`RiskReturn::measure`].
    pub value: f64,
}

impl RiskReturnPoint {
    /// A design's P95 payout and expected return.
    pub fn new(design: impl Into<String>, p95_payout: f64, value: f64) -> Self {
        RiskReturnPoint {
            design: design.into(),
            p95_payout,
            value,
        }
    }
}

/// Scatter of expected return (ROI or incremental margin) against P95
/// payout, one labelled point per design (design `i` in
/// [`series_colour`]`(i)`), with the budget as a vertical line.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskReturn {
    /// Chart title.
    pub title: String,
    /// Line under the title; `None` explains how to read the chart.
    pub subtitle: Option<String>,
    /// ISO currency code shown in the axis titles.
    pub currency: String,
    /// What the vertical axis measures.
    pub measure: ReturnMeasure,
    /// One point per design, in the order designs appear everywhere.
    pub points: Vec<RiskReturnPoint>,
    /// The programme budget (vertical red line).
    pub budget: Option<f64>,
    /// The P95 payouts are before the budget's cut: after it, designs the budget holds
    /// would all sit at the budget (the axis title and point labels say which).
    pub before_budget: bool,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl RiskReturn {
    /// A risk/return chart of `points`.
    pub fn new(
        title: impl Into<String>,
        currency: impl Into<String>,
        measure: ReturnMeasure,
        points: Vec<RiskReturnPoint>,
    ) -> Self {
        RiskReturn {
            title: title.into(),
            subtitle: None,
            currency: currency.into(),
            measure,
            points,
            budget: None,
            before_budget: false,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("risk_return", budget);
}

const NAME: &str = "risk and return";

impl Chart for RiskReturn {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        if self.points.is_empty() {
            return Err(Error::Request(format!(
                "{NAME}: no designs to plot (points is empty)"
            )));
        }
        for (i, p) in self.points.iter().enumerate() {
            check_value(NAME, &format!("points[{i}].p95_payout"), p.p95_payout)?;
            check_value(NAME, &format!("points[{i}].value"), p.value)?;
        }
        if let Some(b) = self.budget {
            check_value(NAME, "budget", b)?;
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let cur = &self.currency;
        let (y_desc, value_text): (String, Box<dyn Fn(f64) -> String>) = match self.measure {
            ReturnMeasure::Roi => ("Expected ROI".to_string(), Box::new(|v| percent(v, 0))),
            ReturnMeasure::IncrementalMargin => (
                format!("Expected incremental margin ({cur})"),
                Box::new(money_short),
            ),
        };
        let body = self.draw_header(root, t)?;
        let ((x_lo, x_hi), (y_lo, y_hi)) = self.ranges();

        let x_fmt = AxisFormat::money(x_lo, x_hi, 8);
        let y_fmt = match self.measure {
            ReturnMeasure::Roi => AxisFormat::percent(y_lo, y_hi, 8),
            ReturnMeasure::IncrementalMargin => AxisFormat::money(y_lo, y_hi, 8),
        };
        let frame = PlotFrame {
            bottom: 8.0,
            ..PlotFrame::standard(t, t.px(48.0))
        };
        let mut chart = frame.build(&body, t, x_lo..x_hi, y_lo..y_hi)?;
        Axes {
            x: Axis::labelled(8, &x_fmt).titled(if self.before_budget {
                format!(
                    "P95 total payout before the budget cut ({cur}): exceeded in 1 scenario in 20"
                )
            } else {
                format!("P95 total payout ({cur}): payout exceeded in only 1 scenario in 20")
            }),
            y: Axis::labelled(8, &y_fmt).titled(y_desc),
        }
        .draw(&mut chart, t)?;

        if y_lo < 0.0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x_lo, 0.0), (x_hi, 0.0)],
                    t.line(INK, 1.0),
                )))
                .or_draw()?;
            let p = chart.backend_coord(&(x_lo, 0.0));
            label(
                root,
                "break-even",
                (p.0 + t.px(6.0), p.1 - t.px(3.0)),
                &t.text(12.0, MUTED),
                HPos::Left,
                VPos::Bottom,
            )?;
        }
        let mut taken = Occupied::default();
        if let Some(b) = self.budget {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(b, y_lo), (b, y_hi)],
                    t.px(10.0),
                    t.px(4.0),
                    t.line(BUDGET, 2.5),
                )))
                .or_draw()?;
            let p = chart.backend_coord(&(b, y_hi));
            let st = t.bold(13.0, BUDGET);
            let (tw, th) = root.estimate_text_size("Budget", &st).or_draw()?;
            label(
                root,
                "Budget",
                (p.0 + t.px(6.0), p.1 + t.px(4.0)),
                &st,
                HPos::Left,
                VPos::Top,
            )?;
            taken.take((
                p.0,
                p.1,
                p.0 + t.px(8.0) + tw as i32,
                p.1 + t.px(6.0) + th as i32,
            ));
        }

        self.draw_points(root, &chart, t, &mut taken, &*value_text)
    }
}

impl RiskReturn {
    /// Draws the title, subtitle and legend; returns the area below them.
    fn draw_header<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> Result<DrawingArea<DB, Shift>> {
        let cur = &self.currency;
        let mut legend = Vec::new();
        if let Some(b) = self.budget {
            legend.push((
                format!("Budget {} {cur}", money_full(b)),
                Mark::Line(BUDGET.to_rgba(), 2.5, true),
            ));
        }
        let subtitle = self.subtitle.clone().unwrap_or_else(|| {
            "One point per design: further right = more payout at risk (P95), higher = better expected return"
                .to_string()
        });
        header(root, t, &self.title, Some(&subtitle), &legend)
    }

    /// The x range (P95 payouts and the budget, 18% on each side, from 0 when they start
    /// near it) and the y range (the values and 0, 15% added).
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let mut x_lo = self
            .points
            .iter()
            .map(|p| p.p95_payout)
            .fold(f64::INFINITY, f64::min);
        let mut x_hi = self
            .points
            .iter()
            .map(|p| p.p95_payout)
            .fold(f64::NEG_INFINITY, f64::max);
        if let Some(b) = self.budget {
            x_lo = x_lo.min(b);
            x_hi = x_hi.max(b);
        }
        let (x_lo, x_hi) = pad_range(x_lo, x_hi);
        let xp = (x_hi - x_lo) * 0.18;
        let (x_lo, x_hi) = (
            if x_lo >= 0.0 && x_lo - xp < 0.0 {
                0.0
            } else {
                x_lo - xp
            },
            x_hi + xp,
        );
        let y_min = self
            .points
            .iter()
            .map(|p| p.value)
            .fold(f64::INFINITY, f64::min);
        let y_max = self
            .points
            .iter()
            .map(|p| p.value)
            .fold(f64::NEG_INFINITY, f64::max);
        let (y_lo, y_hi) = pad_range(y_min.min(0.0), y_max.max(0.0));
        let yp = (y_hi - y_lo) * 0.15;
        let (y_lo, y_hi) = (if y_lo >= 0.0 { y_lo } else { y_lo - yp }, y_hi + yp);

        ((x_lo, x_hi), (y_lo, y_hi))
    }

    /// Draws a dot per design and its name and values beside it, in the first place around
    /// the dot that is inside the plot and not `taken`.
    fn draw_points<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &Plot<'_, DB>,
        t: &Theme,
        taken: &mut Occupied,
        value_text: &dyn Fn(f64) -> String,
    ) -> Result<()> {
        let r = t.px(7.0);
        let centres: Vec<(i32, i32)> = self
            .points
            .iter()
            .map(|p| chart.backend_coord(&(p.p95_payout, p.value)))
            .collect();
        for c in &centres {
            taken.take((c.0 - r, c.1 - r, c.0 + r, c.1 + r));
        }
        for (i, (p, c)) in self.points.iter().zip(&centres).enumerate() {
            root.draw(&Circle::new(*c, r, t.fill(series_colour(i))))
                .or_draw()?;
            root.draw(&Circle::new(*c, r, t.line(INK, 1.0))).or_draw()?;
            let _ = p;
        }
        let (pa_x, pa_y) = chart.plotting_area().get_pixel_range();
        let name_style = t.bold(14.0, INK);
        let value_style = t.text(12.0, MUTED);
        for (p, c) in self.points.iter().zip(&centres) {
            let value = format!(
                "{} · P95 {}{}",
                value_text(p.value),
                money_short(p.p95_payout),
                if self.before_budget {
                    " before budget"
                } else {
                    ""
                }
            );
            let (nw, nh) = root.estimate_text_size(&p.design, &name_style).or_draw()?;
            let (vw, vh) = root.estimate_text_size(&value, &value_style).or_draw()?;
            let (w, h) = (nw.max(vw) as i32, (nh + vh) as i32 + t.px(2.0));
            let gap = r + t.px(5.0);
            // Candidate boxes: right, left, above, below, and diagonals.
            let cands = [
                (c.0 + gap, c.1 - h / 2),
                (c.0 - gap - w, c.1 - h / 2),
                (c.0 - w / 2, c.1 - gap - h),
                (c.0 - w / 2, c.1 + gap),
                (c.0 + gap, c.1 - gap - h + t.px(4.0)),
                (c.0 + gap, c.1 + gap - t.px(4.0)),
                (c.0 - gap - w, c.1 - gap - h + t.px(4.0)),
                (c.0 - gap - w, c.1 + gap - t.px(4.0)),
            ];
            let inside = |b: &(i32, i32, i32, i32)| {
                b.0 >= pa_x.start && b.2 <= pa_x.end && b.1 >= pa_y.start && b.3 <= pa_y.end
            };
            let boxes: Vec<(i32, i32, i32, i32)> =
                cands.iter().map(|(x, y)| (*x, *y, x + w, y + h)).collect();
            let b = boxes
                .iter()
                .find(|b| inside(b) && taken.free(**b))
                .or_else(|| boxes.iter().find(|b| inside(b)))
                .copied()
                .unwrap_or(boxes[0]);
            taken.take(b);
            let centre_x = b.0 + w / 2;
            let align_left = b.0 > c.0;
            let align_right = b.2 < c.0;
            let (hx, hp) = if align_left {
                (b.0, HPos::Left)
            } else if align_right {
                (b.2, HPos::Right)
            } else {
                (centre_x, HPos::Center)
            };
            label(root, &p.design, (hx, b.1), &name_style, hp, VPos::Top)?;
            label(
                root,
                &value,
                (hx, b.1 + nh as i32 + t.px(2.0)),
                &value_style,
                hp,
                VPos::Top,
            )?;
        }
        Ok(())
    }
}
