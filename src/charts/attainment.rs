//! Chart 3: expected partners per tier per segment, with intervals.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{thousands, AxisFormat};
use super::{
    check_finite, header, label, series_colour, wrap2, Axes, Axis, Chart, Mark, OrDraw, Plot,
    PlotFrame, Theme, DEFAULT_SIZE, INK,
};
use crate::error::{Error, Result};

/// One segment's expected number of partners in each tier.
#[derive(Debug, Clone, PartialEq)]
pub struct AttainmentSeries {
    /// Segment name (legend entry and colour key).
    pub segment: String,
    /// Expected partners reaching each tier, in the order of [`TierAttainment::tiers`];
    /// NaN for a tier this segment's ladder does not have (no bar is drawn).
    pub expected: Vec<f64>,
    /// Optional (low, high) interval per tier, e.g. P5 and P95 over scenarios.
    pub interval: Option<Vec<(f64, f64)>>,
}

impl AttainmentSeries {
    /// A segment's expected partners per tier, with optional intervals.
    pub fn new(
        segment: impl Into<String>,
        expected: Vec<f64>,
        interval: Option<Vec<(f64, f64)>>,
    ) -> Self {
        AttainmentSeries {
            segment: segment.into(),
            expected,
            interval,
        }
    }
}

/// Grouped bars: one group per tier, one bar per segment (segment `i` in
/// [`series_colour`]`(i)`), whiskers for the interval.
#[derive(Debug, Clone, PartialEq)]
pub struct TierAttainment {
    /// Chart title.
    pub title: String,
    /// Line under the title; `None` states what the whiskers are.
    pub subtitle: Option<String>,
    /// Tier names, lowest first (e.g. "No tier", "Bronze", "Silver", "Gold").
    pub tiers: Vec<String>,
    /// One series per segment, in the order segments appear everywhere.
    pub series: Vec<AttainmentSeries>,
    /// What the intervals are, for the legend, e.g. "P5–P95 over scenarios".
    pub interval_label: String,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl TierAttainment {
    /// Tier attainment for `tiers` and one series per segment.
    pub fn new(
        title: impl Into<String>,
        tiers: Vec<String>,
        series: Vec<AttainmentSeries>,
    ) -> Self {
        TierAttainment {
            title: title.into(),
            subtitle: None,
            tiers,
            series,
            interval_label: "P5–P95 over scenarios".to_string(),
            size: DEFAULT_SIZE,
        }
    }

    /// Names what the intervals are (legend text).
    pub fn with_interval_label(mut self, label: impl Into<String>) -> Self {
        self.interval_label = label.into();
        self
    }

    chart_builders!("tier_attainment");
}

const NAME: &str = "tier attainment";

fn count_label(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.round() {
        thousands(v, 0)
    } else {
        thousands(v, 1)
    }
}

impl Chart for TierAttainment {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        if self.tiers.is_empty() {
            return Err(Error::Request(format!(
                "{NAME}: no tiers to plot (tiers is empty)"
            )));
        }
        if self.series.is_empty() {
            return Err(Error::Request(format!(
                "{NAME}: no segments to plot (series is empty)"
            )));
        }
        for (i, s) in self.series.iter().enumerate() {
            if s.expected.len() != self.tiers.len() {
                return Err(Error::Request(format!(
                    "{NAME}: series[{i}] ('{}') has {} expected values for {} tiers",
                    s.segment,
                    s.expected.len(),
                    self.tiers.len()
                )));
            }
            // NaN marks a tier the segment's ladder does not have (nothing is drawn)
            let defined: Vec<f64> = s.expected.iter().copied().filter(|v| !v.is_nan()).collect();
            check_finite(NAME, &format!("series[{i}].expected"), &defined)?;
            if defined.is_empty() {
                return Err(Error::Request(format!(
                    "{NAME}: series[{i}] ('{}') has no tier with a value (all NaN)",
                    s.segment
                )));
            }
            if let Some(j) = s.expected.iter().position(|v| *v < 0.0) {
                return Err(Error::Request(format!(
                    "{NAME}: series[{i}].expected[{j}] is {}; a number of partners cannot be negative",
                    s.expected[j]
                )));
            }
            if let Some(iv) = &s.interval {
                if iv.len() != self.tiers.len() {
                    return Err(Error::Request(format!(
                        "{NAME}: series[{i}] ('{}') has {} intervals for {} tiers",
                        s.segment,
                        iv.len(),
                        self.tiers.len()
                    )));
                }
                for (j, (lo, hi)) in iv.iter().enumerate() {
                    if s.expected[j].is_nan() {
                        continue;
                    }
                    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
                        return Err(Error::Request(format!(
                            "{NAME}: series[{i}].interval[{j}] is ({lo}, {hi}); expected finite low ≤ high"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let body = self.draw_header(root, t)?;

        let nt = self.tiers.len();
        let ns = self.series.len();
        let mut top = 0f64;
        for s in &self.series {
            top = s.expected.iter().cloned().fold(top, f64::max);
            if let Some(iv) = &s.interval {
                top = iv.iter().map(|p| p.1).fold(top, f64::max);
            }
        }
        let y_hi = if top > 0.0 { top * 1.14 } else { 1.0 };
        let y_fmt = AxisFormat::count(0.0, y_hi, 7);
        let mut chart = PlotFrame::standard(t, t.px(50.0)).build(
            &body,
            t,
            -0.5..(nt as f64 - 0.5),
            0.0..y_hi,
        )?;
        Axes {
            x: Axis::hidden(),
            y: Axis::labelled(7, &y_fmt).titled("Expected partners"),
        }
        .draw(&mut chart, t)?;

        let group = 0.8;
        let bw = group / ns as f64;
        let bar_px = chart.backend_coord(&(bw, 0.0)).0 - chart.backend_coord(&(0.0, 0.0)).0;
        let value_style = t.text(if bar_px >= t.px(40.0) { 12.0 } else { 11.0 }, INK);
        let mut labels = Vec::new();
        for (si, s) in self.series.iter().enumerate() {
            let c = series_colour(si);
            for (ti, v) in s.expected.iter().enumerate() {
                if v.is_nan() {
                    continue; // this segment's ladder has no such tier
                }
                let x0 = ti as f64 - group / 2.0 + si as f64 * bw;
                let (x1, x2) = (x0 + bw * 0.08, x0 + bw * 0.92);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x1, 0.0), (x2, *v)],
                        t.fill(c),
                    )))
                    .or_draw()?;
                let mut label_at = *v;
                if let Some(iv) = &s.interval {
                    let (lo, hi) = iv[ti];
                    let xm = x0 + bw / 2.0;
                    let cap = bw * 0.18;
                    let st = t.line(INK, 1.5);
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(xm, lo), (xm, hi)],
                            st,
                        )))
                        .or_draw()?;
                    for y in [lo, hi] {
                        chart
                            .draw_series(std::iter::once(PathElement::new(
                                vec![(xm - cap, y), (xm + cap, y)],
                                st,
                            )))
                            .or_draw()?;
                    }
                    label_at = label_at.max(hi);
                }
                labels.push((x0 + bw / 2.0, label_at, count_label(*v)));
            }
        }
        // Values above the bars when they fit.
        let fits = labels.iter().all(|(_, _, s)| {
            root.estimate_text_size(s, &value_style)
                .map(|d| (d.0 as i32) < bar_px + t.px(4.0))
                .unwrap_or(false)
        });
        if fits {
            for (x, y, s) in &labels {
                let p = chart.backend_coord(&(*x, *y));
                label(
                    root,
                    s,
                    (p.0, p.1 - t.px(5.0)),
                    &value_style,
                    HPos::Center,
                    VPos::Bottom,
                )?;
            }
        }

        self.draw_tier_names(root, &chart, t)
    }
}

impl TierAttainment {
    /// Draws the title, subtitle and legend; returns the area below them.
    fn draw_header<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> Result<DrawingArea<DB, Shift>> {
        let has_interval = self.series.iter().any(|s| s.interval.is_some());
        let mut legend: Vec<(String, Mark)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.segment.clone(), Mark::Swatch(series_colour(i).to_rgba())))
            .collect();
        if has_interval {
            legend.push((
                format!("Interval: {}", self.interval_label),
                Mark::Line(INK.to_rgba(), 1.5, false),
            ));
        }
        let subtitle = self.subtitle.clone().unwrap_or_else(|| {
            "Expected number of partners reaching each tier, by segment (mean over scenarios)"
                .to_string()
        });
        header(root, t, &self.title, Some(&subtitle), &legend)
    }

    /// Draws the tier names under their groups of bars, on at most two lines each.
    fn draw_tier_names<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &Plot<'_, DB>,
        t: &Theme,
    ) -> Result<()> {
        let slot = chart.backend_coord(&(1.0, 0.0)).0 - chart.backend_coord(&(0.0, 0.0)).0;
        let name_style = t.bold(14.0, INK);
        let base_y = chart.backend_coord(&(0.0, 0.0)).1 + t.px(8.0);
        for (ti, name) in self.tiers.iter().enumerate() {
            let cx = chart.backend_coord(&(ti as f64, 0.0)).0;
            for (k, line) in wrap2(root, name, &name_style, (slot - t.px(8.0)).max(10) as u32)?
                .iter()
                .enumerate()
            {
                label(
                    root,
                    line,
                    (cx, base_y + k as i32 * t.px(17.0)),
                    &name_style,
                    HPos::Center,
                    VPos::Top,
                )?;
            }
        }
        Ok(())
    }
}
