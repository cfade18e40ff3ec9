//! Chart 2: payout distributions of several designs side by side.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{mean, money_full, percent, quantile_sorted, AxisFormat};
use super::{
    check_finite, check_value, header, label, pad_range, series_colour, wrap2, Axes, Axis, Chart,
    Mark, OrDraw, Plot, PlotFrame, Theme, BUDGET, DEFAULT_SIZE, INK, MUTED,
};
use crate::error::{Error, Result};

/// One design's payout per scenario and its expected return.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignDistribution {
    /// Design name (x-axis label and colour key).
    pub name: String,
    /// Total payout of each scenario.
    pub payouts: Vec<f64>,
    /// Expected ROI as a fraction (0.35 = 35%): incremental margin earned per
    /// unit of rebate paid, net of the rebate. `None` leaves it out.
    pub expected_roi: Option<f64>,
}

impl DesignDistribution {
    /// A design's payouts, with its expected ROI (fraction) if known.
    pub fn new(name: impl Into<String>, payouts: Vec<f64>, expected_roi: Option<f64>) -> Self {
        DesignDistribution {
            name: name.into(),
            payouts,
            expected_roi,
        }
    }
}

/// Violin and box plots of the payout distribution of each design, side by
/// side in the palette's colours (design `i` gets [`series_colour`]`(i)`),
/// with each design's expected ROI under its name and the budget line.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignComparison {
    /// Chart title.
    pub title: String,
    /// Line under the title; `None` explains the box-plot marks.
    pub subtitle: Option<String>,
    /// ISO currency code shown in the axis title.
    pub currency: String,
    /// The designs, in the order they are compared everywhere.
    pub designs: Vec<DesignDistribution>,
    /// The programme budget (horizontal red line).
    pub budget: Option<f64>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl DesignComparison {
    /// A comparison of `designs` in `currency`.
    pub fn new(
        title: impl Into<String>,
        currency: impl Into<String>,
        designs: Vec<DesignDistribution>,
    ) -> Self {
        DesignComparison {
            title: title.into(),
            subtitle: None,
            currency: currency.into(),
            designs,
            budget: None,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("design_comparison", budget);
}

const NAME: &str = "design comparison";

struct Summary {
    sorted: Vec<f64>,
    mean: f64,
    q: [f64; 5], // P5, P25, P50, P75, P95
}

fn summarise(payouts: &[f64]) -> Summary {
    let mut sorted = payouts.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = [0.05, 0.25, 0.5, 0.75, 0.95].map(|p| quantile_sorted(&sorted, p));
    Summary {
        mean: mean(&sorted),
        q,
        sorted,
    }
}

/// Gaussian kernel density on `grid` points between the sample's extremes
/// (Silverman's bandwidth); `None` when the sample has no spread.
fn density(s: &Summary, grid: usize) -> Option<Vec<(f64, f64)>> {
    let n = s.sorted.len();
    // The shape spans P0.5–P99.5 so that a few extreme scenarios do not draw
    // hair-thin spikes; the whiskers and the axis still cover the data.
    let (lo, hi) = (
        quantile_sorted(&s.sorted, 0.005),
        quantile_sorted(&s.sorted, 0.995),
    );
    if n < 2 || hi <= lo {
        return None;
    }
    let var = s.sorted.iter().map(|v| (v - s.mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let iqr = (s.q[3] - s.q[1]) / 1.34;
    let spread = if iqr > 0.0 {
        var.sqrt().min(iqr)
    } else {
        var.sqrt()
    };
    let bw = 0.9 * spread * (n as f64).powf(-0.2);
    if bw.is_nan() || bw <= 0.0 {
        return None;
    }
    // Bin the sample first so that large runs stay cheap.
    let bins = 512;
    let step = (hi - lo) / bins as f64;
    let mut counts = vec![0f64; bins + 1];
    for v in &s.sorted {
        counts[(((v - lo) / step).round() as usize).min(bins)] += 1.0;
    }
    let pts: Vec<(f64, f64)> = (0..grid)
        .map(|g| {
            let y = lo + (hi - lo) * g as f64 / (grid - 1) as f64;
            let d: f64 = counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0.0)
                .map(|(i, c)| {
                    let z = (y - (lo + i as f64 * step)) / bw;
                    c * (-0.5 * z * z).exp()
                })
                .sum();
            (y, d)
        })
        .collect();
    let peak = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    (peak > 0.0).then(|| pts.into_iter().map(|(y, d)| (y, d / peak)).collect())
}

impl Chart for DesignComparison {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        if self.designs.is_empty() {
            return Err(Error::Request(format!(
                "{NAME}: no designs to compare (designs is empty)"
            )));
        }
        for (i, d) in self.designs.iter().enumerate() {
            if d.payouts.is_empty() {
                return Err(Error::Request(format!(
                    "{NAME}: design '{}' (designs[{i}]) has no scenarios (payouts is empty)",
                    d.name
                )));
            }
            check_finite(NAME, &format!("designs[{i}].payouts"), &d.payouts)?;
            if let Some(r) = d.expected_roi {
                check_value(NAME, &format!("designs[{i}].expected_roi"), r)?;
            }
        }
        if let Some(b) = self.budget {
            check_value(NAME, "budget", b)?;
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let sums: Vec<Summary> = self.designs.iter().map(|d| summarise(&d.payouts)).collect();
        let cur = &self.currency;
        let body = self.draw_header(root, t)?;

        let mut lo = sums
            .iter()
            .map(|s| quantile_sorted(&s.sorted, 0.005))
            .fold(f64::INFINITY, f64::min);
        let mut hi = sums
            .iter()
            .map(|s| quantile_sorted(&s.sorted, 0.995))
            .fold(f64::NEG_INFINITY, f64::max);
        if let Some(b) = self.budget {
            lo = lo.min(b);
            hi = hi.max(b);
        }
        let (lo, hi) = pad_range(lo, hi);
        let pad = (hi - lo) * 0.06;
        let y_lo = if lo >= 0.0 && lo - pad < 0.0 {
            0.0
        } else {
            lo - pad
        };
        let y_hi = hi + pad;
        let n = self.designs.len();
        // Labels under each design: its name (up to two lines), then its
        // expected ROI and mean (one line, or two when the slot is narrow).
        let name_style = t.bold(14.0, INK);
        let note_style = t.text(13.0, MUTED);
        let plot_w = body.dim_in_pixel().0 as i32 - t.px(12.0 + 28.0 + 76.0);
        let slot = (plot_w / n as i32).max(t.px(40.0));
        let mut captions = Vec::with_capacity(n);
        for (d, s) in self.designs.iter().zip(&sums) {
            let names = wrap2(
                root,
                &d.name,
                &name_style,
                (slot - t.px(10.0)).max(10) as u32,
            )?;
            let mean_note = format!("mean {}", super::format::money_short(s.mean));
            let mut notes = match d.expected_roi {
                Some(r) => vec![format!("ROI {} · {mean_note}", percent(r, 0))],
                None => vec![mean_note.clone()],
            };
            let fits = root.estimate_text_size(&notes[0], &note_style).or_draw()?.0 as i32
                <= slot - t.px(6.0);
            if !fits {
                if let Some(r) = d.expected_roi {
                    notes = vec![format!("ROI {}", percent(r, 0)), mean_note];
                }
            }
            if let Some(note) = held_at_maximum(&d.payouts) {
                notes.push(note);
            }
            captions.push((names, notes));
        }
        let name_rows = captions.iter().map(|c| c.0.len()).max().unwrap_or(1) as i32;
        let note_rows = captions.iter().map(|c| c.1.len()).max().unwrap_or(1) as i32;
        let caption_h = t.px(10.0) + name_rows * t.px(17.0) + note_rows * t.px(16.0) + t.px(6.0);

        let y_fmt = AxisFormat::money(y_lo, y_hi, 8);
        let mut chart = PlotFrame::standard(t, caption_h).build(
            &body,
            t,
            -0.5..(n as f64 - 0.5),
            y_lo..y_hi,
        )?;
        Axes {
            x: Axis::hidden(),
            y: Axis::labelled(8, &y_fmt).titled(format!("Total payout per scenario ({cur})")),
        }
        .draw(&mut chart, t)?;

        for (i, s) in sums.iter().enumerate() {
            draw_design(root, &mut chart, t, i, s)?;
        }

        if let Some(b) = self.budget {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(-0.5, b), (n as f64 - 0.5, b)],
                    t.px(10.0),
                    t.px(4.0),
                    t.line(BUDGET, 2.5),
                )))
                .or_draw()?;
        }

        let base_y = chart.backend_coord(&(0.0, y_lo)).1 + t.px(8.0);
        for (i, (names, notes)) in captions.iter().enumerate() {
            let cx = chart.backend_coord(&(i as f64, y_lo)).0;
            for (k, line) in names.iter().enumerate() {
                label(
                    root,
                    line,
                    (cx, base_y + k as i32 * t.px(17.0)),
                    &name_style,
                    HPos::Center,
                    VPos::Top,
                )?;
            }
            let note_y = base_y + name_rows * t.px(17.0) + t.px(2.0);
            for (k, line) in notes.iter().enumerate() {
                label(
                    root,
                    line,
                    (cx, note_y + k as i32 * t.px(16.0)),
                    &note_style,
                    HPos::Center,
                    VPos::Top,
                )?;
            }
        }
        Ok(())
    }
}

impl DesignComparison {
    /// Draws the title, subtitle and legend; returns the area below them.
    fn draw_header<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
    ) -> Result<DrawingArea<DB, Shift>> {
        let cur = &self.currency;
        let subtitle = self.subtitle.clone().unwrap_or_else(|| {
            "Shape: spread of scenarios (P0.5–P99.5) · box: P25–P75 · line: median · whiskers: P5–P95 · dot: mean"
                .to_string()
        });
        let mut legend = Vec::new();
        if let Some(b) = self.budget {
            legend.push((
                format!("Budget {} {cur}", money_full(b)),
                Mark::Line(BUDGET.to_rgba(), 2.5, true),
            ));
        }
        header(root, t, &self.title, Some(&subtitle), &legend)
    }
}

/// Draws design `i`'s shape (its density), whiskers (P5–P95), box (P25–P75), median and mean.
fn draw_design<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut Plot<'_, DB>,
    t: &Theme,
    i: usize,
    s: &Summary,
) -> Result<()> {
    let half = 0.38;
    let c = series_colour(i);
    let x = i as f64;
    if let Some(pts) = density(s, 96) {
        let mut poly: Vec<(f64, f64)> = pts.iter().map(|(y, w)| (x - half * w, *y)).collect();
        poly.extend(pts.iter().rev().map(|(y, w)| (x + half * w, *y)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly.clone(),
                t.fill(c.mix(0.28)),
            )))
            .or_draw()?;
        poly.push(poly[0]);
        chart
            .draw_series(std::iter::once(PathElement::new(poly, t.line(c, 1.5))))
            .or_draw()?;
    }
    let bw = 0.07;
    // whiskers P5–P95
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x, s.q[0]), (x, s.q[4])],
            t.line(INK, 1.5),
        )))
        .or_draw()?;
    for q in [s.q[0], s.q[4]] {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x - bw * 0.6, q), (x + bw * 0.6, q)],
                t.line(INK, 1.5),
            )))
            .or_draw()?;
    }
    // box P25–P75 and median
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(x - bw, s.q[1]), (x + bw, s.q[3])],
            t.fill(c),
        )))
        .or_draw()?;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(x - bw, s.q[1]), (x + bw, s.q[3])],
            t.line(INK, 1.0),
        )))
        .or_draw()?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x - bw, s.q[2]), (x + bw, s.q[2])],
            t.line(WHITE, 2.5),
        )))
        .or_draw()?;
    let m = chart.backend_coord(&(x, s.mean));
    root.draw(&Circle::new(m, t.px(4.5), t.fill(WHITE)))
        .or_draw()?;
    root.draw(&Circle::new(m, t.px(4.5), t.line(INK, 1.5)))
        .or_draw()?;
    Ok(())
}

/// "38% at 16M": the share of scenarios paying exactly the design's largest payout, when at
/// least 5% and two (and not all) do — a payout held at a binding budget, which the violin draws as a
/// flat line.
fn held_at_maximum(payouts: &[f64]) -> Option<String> {
    let max = payouts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let at = payouts.iter().filter(|&&p| p == max).count();
    let share = at as f64 / payouts.len().max(1) as f64;
    (at >= 2 && share >= 0.05 && at < payouts.len()).then(|| {
        format!(
            "{} at {}",
            percent(share, 0),
            super::format::money_short(max)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::held_at_maximum;

    #[test]
    fn a_payout_held_at_its_maximum_is_named_with_its_share() {
        // 3 of 8 scenarios at the budget of 16,000,000
        let p = [15.1e6, 16e6, 14.2e6, 16e6, 15.9e6, 16e6, 13e6, 15e6];
        assert_eq!(held_at_maximum(&p).as_deref(), Some("38% at 16M"));
        // no atom, or every scenario the same: nothing to say
        assert_eq!(held_at_maximum(&[1.0, 2.0, 3.0, 4.0, 5.0]), None);
        assert_eq!(held_at_maximum(&[7.0; 4]), None);
    }
}
