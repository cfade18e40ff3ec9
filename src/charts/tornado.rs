//! Chart 6: one-at-a-time sensitivity (tornado).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{money_full, money_short, percent, thousands, AxisFormat};
use super::{
    check_value, header, label, pad_range, wrap2, Axes, Axis, Chart, Mark, OrDraw, Plot, PlotFrame,
    Theme, DEFAULT_SIZE, INK,
};
use crate::error::{Error, Result};

/// The unit of a tornado's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueUnit {
    /// Money in the given ISO currency.
    Money(String),
    /// A fraction shown as a percentage (0.35 = 35%), e.g. ROI.
    Percent,
    /// A plain number with an optional unit name, e.g. "partners".
    Number(String),
}

impl ValueUnit {
    fn short(&self, v: f64) -> String {
        match self {
            ValueUnit::Money(_) => money_short(v),
            ValueUnit::Percent => percent(v, 1),
            ValueUnit::Number(_) => {
                if v.abs() >= 100.0 {
                    thousands(v, 0)
                } else {
                    thousands(v, 2)
                }
            }
        }
    }

    fn full(&self, v: f64) -> String {
        match self {
            ValueUnit::Money(c) => format!("{} {c}", money_full(v)),
            ValueUnit::Percent => percent(v, 1),
            ValueUnit::Number(u) if !u.is_empty() => format!("{} {u}", self.short(v)),
            ValueUnit::Number(_) => self.short(v),
        }
    }

    fn axis(&self, lo: f64, hi: f64, ticks: usize) -> AxisFormat {
        match self {
            ValueUnit::Money(_) => AxisFormat::money(lo, hi, ticks),
            ValueUnit::Percent => AxisFormat::percent(lo, hi, ticks),
            ValueUnit::Number(_) => AxisFormat::count(lo, hi, ticks),
        }
    }
}

/// The output at the low and high setting of one assumption.
#[derive(Debug, Clone, PartialEq)]
pub struct TornadoBar {
    /// The assumption moved, e.g. "Price elasticity".
    pub assumption: String,
    /// How it was moved down, e.g. "-20%" or "0.8×".
    pub low_label: String,
    /// How it was moved up, e.g. "+20%".
    pub high_label: String,
    /// Output with the assumption at its low setting.
    pub low: f64,
    /// Output with the assumption at its high setting.
    pub high: f64,
    /// Standard error of `low` (of its difference from the base under common
    /// random numbers), drawn as a ±1.96 s.e. whisker.
    pub low_se: Option<f64>,
    /// Standard error of `high`, as for `low_se`.
    pub high_se: Option<f64>,
}

impl TornadoBar {
    /// One assumption's low and high outcomes, without standard errors.
    pub fn new(
        assumption: impl Into<String>,
        low_label: impl Into<String>,
        high_label: impl Into<String>,
        low: f64,
        high: f64,
    ) -> Self {
        TornadoBar {
            assumption: assumption.into(),
            low_label: low_label.into(),
            high_label: high_label.into(),
            low,
            high,
            low_se: None,
            high_se: None,
        }
    }

    /// Adds the standard errors of the low and high outcomes.
    pub fn with_se(mut self, low_se: f64, high_se: f64) -> Self {
        self.low_se = Some(low_se);
        self.high_se = Some(high_se);
        self
    }
}

/// Horizontal bars of the swing of one output around its base value when
/// each assumption moves alone, largest swing on top, with ±1.96 s.e.
/// whiskers.
#[derive(Debug, Clone, PartialEq)]
pub struct Tornado {
    /// Chart title.
    pub title: String,
    /// Line under the title; `None` states the base value and the reading.
    pub subtitle: Option<String>,
    /// The output's name, e.g. "Expected payout".
    pub output: String,
    /// The output's unit.
    pub unit: ValueUnit,
    /// The output with every assumption at its base setting.
    pub base: f64,
    /// One bar per assumption, in any order (drawn sorted by swing).
    pub bars: Vec<TornadoBar>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl Tornado {
    /// A tornado of `output` (in `unit`) around `base`.
    pub fn new(
        title: impl Into<String>,
        output: impl Into<String>,
        unit: ValueUnit,
        base: f64,
        bars: Vec<TornadoBar>,
    ) -> Self {
        Tornado {
            title: title.into(),
            subtitle: None,
            output: output.into(),
            unit,
            base,
            bars,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("tornado");

    /// The bars sorted by swing |high − low|, largest first (ties keep input order).
    pub fn sorted_bars(&self) -> Vec<&TornadoBar> {
        let mut bars: Vec<&TornadoBar> = self.bars.iter().collect();
        bars.sort_by(|a, b| (b.high - b.low).abs().total_cmp(&(a.high - a.low).abs()));
        bars
    }
}

const NAME: &str = "sensitivity tornado";
const LOW: RGBColor = RGBColor(0x4E, 0x79, 0xA7);
const HIGH: RGBColor = RGBColor(0xF2, 0x8E, 0x2B);

impl Chart for Tornado {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        if self.bars.is_empty() {
            return Err(Error::Request(format!(
                "{NAME}: no assumptions to plot (bars is empty)"
            )));
        }
        check_value(NAME, "base", self.base)?;
        for (i, b) in self.bars.iter().enumerate() {
            check_value(NAME, &format!("bars[{i}].low"), b.low)?;
            check_value(NAME, &format!("bars[{i}].high"), b.high)?;
            for (f, se) in [("low_se", b.low_se), ("high_se", b.high_se)] {
                if let Some(se) = se {
                    if !(se.is_finite() && se >= 0.0) {
                        return Err(Error::Request(format!(
                            "{NAME}: bars[{i}].{f} is {se}; a standard error must be finite and ≥ 0"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let bars = self.sorted_bars();
        let n = bars.len();
        let body = self.draw_header(root, t, &bars)?;

        // Horizontal extent, including whiskers and room for end labels.
        let mut lo = self.base;
        let mut hi = self.base;
        for b in &bars {
            for (v, se) in [(b.low, b.low_se), (b.high, b.high_se)] {
                let e = 1.96 * se.unwrap_or(0.0);
                lo = lo.min(v - e);
                hi = hi.max(v + e);
            }
        }
        let (lo, hi) = pad_range(lo, hi);
        let span = hi - lo;
        let (x_lo, x_hi) = (lo - span * 0.28, hi + span * 0.28);

        // Room for the assumption names at the left.
        let name_style = t.text(14.0, INK);
        let (w, _) = body.dim_in_pixel();
        let max_name = (w as f64 * 0.28) as u32;
        let mut widest = 0u32;
        for b in &bars {
            widest = widest.max(
                root.estimate_text_size(&b.assumption, &name_style)
                    .or_draw()?
                    .0
                    .min(max_name),
            );
        }
        let y_area = widest as i32 + t.px(18.0);

        let x_fmt = self.unit.axis(x_lo, x_hi, 8);
        let x_desc = match &self.unit {
            ValueUnit::Money(c) => format!("{} ({c})", self.output),
            ValueUnit::Number(u) if !u.is_empty() => format!("{} ({u})", self.output),
            _ => self.output.clone(),
        };
        let frame = PlotFrame {
            left: 12.0,
            right: 24.0,
            top: 24.0,
            bottom: 8.0,
            x_label_area: t.px(48.0),
            y_label_area: y_area,
        };
        let mut chart = frame.build(&body, t, x_lo..x_hi, -0.5..(n as f64 - 0.5))?;
        Axes {
            x: Axis::labelled(8, &x_fmt).titled(x_desc),
            y: Axis::hidden(),
        }
        .draw(&mut chart, t)?;

        for (k, b) in bars.iter().enumerate() {
            self.draw_bar(root, &mut chart, t, b, (n - 1 - k) as f64, widest)?;
        }

        // The base line, labelled above the plot.
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(self.base, -0.5), (self.base, n as f64 - 0.5)],
                t.line(INK, 2.0),
            )))
            .or_draw()?;
        let p = chart.backend_coord(&(self.base, n as f64 - 0.5));
        label(
            root,
            &format!("Base {}", self.unit.short(self.base)),
            (p.0, p.1 - t.px(4.0)),
            &t.bold(13.0, INK),
            HPos::Center,
            VPos::Bottom,
        )?;
        Ok(())
    }
}

impl Tornado {
    /// Draws the title, subtitle and legend; returns the area below them.
    fn draw_header<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
        bars: &[&TornadoBar],
    ) -> Result<DrawingArea<DB, Shift>> {
        let has_se = bars
            .iter()
            .any(|b| b.low_se.is_some() || b.high_se.is_some());
        let mut legend = vec![
            ("Low setting".to_string(), Mark::Swatch(LOW.to_rgba())),
            ("High setting".to_string(), Mark::Swatch(HIGH.to_rgba())),
        ];
        if has_se {
            legend.push((
                "±1.96 s.e. (95% interval)".to_string(),
                Mark::Line(INK.to_rgba(), 1.5, false),
            ));
        }
        let subtitle = self.subtitle.clone().unwrap_or_else(|| {
            format!(
                "{} when one assumption moves at a time (base {}), largest swing first",
                self.output,
                self.unit.full(self.base)
            )
        });
        header(root, t, &self.title, Some(&subtitle), &legend)
    }

    /// Draws bar `b` centred at `yc`: the low and high settings' bars from the base with
    /// their intervals and values, and the assumption's name (at most `widest` pixels wide)
    /// right-aligned before the axis.
    fn draw_bar<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &mut Plot<'_, DB>,
        t: &Theme,
        b: &TornadoBar,
        yc: f64,
        widest: u32,
    ) -> Result<()> {
        let x_lo = chart.x_range().start;
        let name_style = t.text(14.0, INK);
        let value_style = t.text(12.0, INK);
        let half = 0.34;
        for (upper, (setting, v, se, c)) in [
            (true, (&b.low_label, b.low, b.low_se, LOW)),
            (false, (&b.high_label, b.high, b.high_se, HIGH)),
        ] {
            let (y0, y1) = if upper {
                (yc, yc + half)
            } else {
                (yc - half, yc)
            };
            let (y0, y1) = (y0 + 0.02, y1 - 0.02);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(self.base, y0), (v, y1)],
                    t.fill(c),
                )))
                .or_draw()?;
            let ym = (y0 + y1) / 2.0;
            let mut end = v;
            if let Some(se) = se.filter(|s| *s > 0.0) {
                let e = 1.96 * se;
                let st = t.line(INK, 1.5);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(v - e, ym), (v + e, ym)],
                        st,
                    )))
                    .or_draw()?;
                for x in [v - e, v + e] {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x, ym - 0.07), (x, ym + 0.07)],
                            st,
                        )))
                        .or_draw()?;
                }
                end = if v >= self.base { v + e } else { v - e };
            }
            let text = format!("{setting}: {}", self.unit.short(v));
            let p = chart.backend_coord(&(end, ym));
            if v >= self.base {
                label(
                    root,
                    &text,
                    (p.0 + t.px(5.0), p.1),
                    &value_style,
                    HPos::Left,
                    VPos::Center,
                )?;
            } else {
                label(
                    root,
                    &text,
                    (p.0 - t.px(5.0), p.1),
                    &value_style,
                    HPos::Right,
                    VPos::Center,
                )?;
            }
        }
        // The assumption's name, right-aligned before the axis.
        let p = chart.backend_coord(&(x_lo, yc));
        let lines = wrap2(root, &b.assumption, &name_style, widest.max(10))?;
        let lh = t.px(17.0);
        let top = p.1 - (lines.len() as i32 * lh) / 2 + lh / 2;
        for (j, line) in lines.iter().enumerate() {
            label(
                root,
                line,
                (p.0 - t.px(10.0), top + j as i32 * lh),
                &name_style,
                HPos::Right,
                VPos::Center,
            )?;
        }
        Ok(())
    }
}
