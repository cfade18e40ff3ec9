//! Chart 1: the payout distribution of one run.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{mean, money_full, percent, quantile_sorted, AxisFormat};
use super::{
    check_finite, check_value, header, label, pad_range, series_colour, Axes, Axis, Chart, Mark,
    OrDraw, Plot, PlotFrame, Theme, BUDGET, DEFAULT_SIZE, INK,
};
use crate::error::{Error, Result};

/// Histogram of the total payout per scenario of one run, with vertical lines
/// for the mean, P50, P95 and (optionally) the budget.
///
/// With a budget, the scenarios whose payout is held exactly at it (the budget binds, the
/// payout is cut to the budget) are a bar of their own, half a bin wide, standing against the
/// budget line on its right (centred on it when other payouts exceed the budget), in the
/// budget's colour and labelled "budget binds: X%"; the histogram's bars, on bins with an edge
/// at the budget, cover the other scenarios, so all bar heights add up to 100%.
#[derive(Debug, Clone, PartialEq)]
pub struct PayoutDistribution {
    /// Chart title.
    pub title: String,
    /// Line under the title; `None` writes the scenario count and, with a
    /// budget, the share of scenarios over it.
    pub subtitle: Option<String>,
    /// ISO currency code shown in the axis title, e.g. `"EUR"`.
    pub currency: String,
    /// Total payout of each scenario.
    pub payouts: Vec<f64>,
    /// The programme budget, drawn as a red line.
    pub budget: Option<f64>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl PayoutDistribution {
    /// A chart of `payouts` (one total per scenario) in `currency`.
    pub fn new(title: impl Into<String>, currency: impl Into<String>, payouts: Vec<f64>) -> Self {
        PayoutDistribution {
            title: title.into(),
            subtitle: None,
            currency: currency.into(),
            payouts,
            budget: None,
            size: DEFAULT_SIZE,
        }
    }

    chart_builders!("payout_distribution", budget);
}

const NAME: &str = "payout distribution";

impl Chart for PayoutDistribution {
    frame_fields!();

    fn validate(&self) -> Result<()> {
        if self.payouts.is_empty() {
            return Err(Error::Request(format!(
                "{NAME}: no scenarios to plot (payouts is empty)"
            )));
        }
        check_finite(NAME, "payouts", &self.payouts)?;
        if let Some(b) = self.budget {
            check_value(NAME, "budget", b)?;
        }
        Ok(())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Result<()> {
        let mut sorted = self.payouts.clone();
        sorted.sort_by(f64::total_cmp);
        let refs = self.reference_lines(&sorted);
        let hist = Histogram::of(&sorted, self.budget);
        let spike = hist.spike.map(|(b, share)| (b, share, spike_label(share)));
        let subtitle = self.subtitle(&sorted, hist.spike.map(|(_, share)| share));
        let bar = series_colour(0);
        let mut legend = vec![(
            if spike.is_some() {
                "Share of scenarios below the budget".to_string()
            } else {
                "Share of scenarios".to_string()
            },
            Mark::Swatch(bar.mix(0.8)),
        )];
        if spike.is_some() {
            legend.push((
                "Held at the budget".to_string(),
                Mark::Swatch(BUDGET.mix(SPIKE_ALPHA)),
            ));
        }
        for (_, long, _, c, w, dashed) in &refs {
            legend.push((long.clone(), Mark::Line(c.to_rgba(), *w, *dashed)));
        }
        let body = header(root, t, &self.title, Some(&subtitle), &legend)?;

        let (start, width) = (hist.start, hist.width);
        let shares = &hist.shares;
        let tallest = shares
            .iter()
            .cloned()
            .chain(spike.iter().map(|(_, s, _)| *s))
            .fold(0.0, f64::max);
        // room above the tallest bar for the spike's label
        let y_max = tallest * if spike.is_some() { 1.18 } else { 1.12 };
        let (x_lo, x_hi) = self.x_range(&sorted, &hist);

        let cur = &self.currency;
        let x_fmt = AxisFormat::money(x_lo, x_hi, 10);
        let y_fmt = AxisFormat::percent(0.0, y_max, 6);
        let frame = PlotFrame {
            top: 44.0,
            bottom: 8.0,
            ..PlotFrame::standard(t, t.px(42.0))
        };
        let mut chart = frame.build(&body, t, x_lo..x_hi, 0.0..y_max)?;
        Axes {
            x: Axis::labelled(10, &x_fmt)
                .titled(format!("Total payout per scenario ({cur})"))
                .without_grid(),
            y: Axis::labelled(6, &y_fmt).titled("Share of scenarios"),
        }
        .draw(&mut chart, t)?;

        chart
            .draw_series(
                shares
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s > 0.0)
                    .map(|(i, s)| {
                        let x0 = start + i as f64 * width;
                        Rectangle::new([(x0, 0.0), (x0 + width, *s)], t.fill(bar.mix(0.8)))
                    }),
            )
            .or_draw()?;
        chart
            .draw_series(
                shares
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s > 0.0)
                    .map(|(i, s)| {
                        let x0 = start + i as f64 * width;
                        Rectangle::new([(x0, 0.0), (x0 + width, *s)], t.line(WHITE, 1.0))
                    }),
            )
            .or_draw()?;

        // The scenarios held at the budget: a bar of half a bin's width standing against the
        // budget line on its right (centred on it when some payouts exceed the budget).
        if let Some((b, share, _)) = &spike {
            let (x0, x1) = spike_span(&hist, *b);
            chart
                .draw_series([
                    Rectangle::new([(x0, 0.0), (x1, *share)], t.fill(BUDGET.mix(SPIKE_ALPHA))),
                    Rectangle::new([(x0, 0.0), (x1, *share)], t.line(WHITE, 1.0)),
                ])
                .or_draw()?;
        }

        for (_, _, v, c, w, dashed) in &refs {
            let style = t.line(*c, *w);
            if *dashed {
                chart
                    .draw_series(std::iter::once(DashedPathElement::new(
                        vec![(*v, 0.0), (*v, y_max)],
                        t.px(7.0),
                        t.px(4.0),
                        style,
                    )))
                    .or_draw()?;
            } else {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(*v, 0.0), (*v, y_max)],
                        style,
                    )))
                    .or_draw()?;
            }
        }

        draw_labels(root, &chart, t, &hist, spike.as_ref(), &refs)
    }
}

/// A reference line: (short label, legend label, value, colour, width, dashed).
type RefLine = (&'static str, String, f64, RGBColor, f64, bool);

impl PayoutDistribution {
    /// The mean, P50, P95 and (with a budget) budget lines of the sorted payouts.
    fn reference_lines(&self, sorted: &[f64]) -> Vec<RefLine> {
        let avg = mean(sorted);
        let p50 = quantile_sorted(sorted, 0.5);
        let p95 = quantile_sorted(sorted, 0.95);
        let cur = &self.currency;
        let mut refs: Vec<RefLine> = vec![
            (
                "Mean",
                format!("Mean {} {cur}", money_full(avg)),
                avg,
                INK,
                2.0,
                false,
            ),
            (
                "P50",
                format!("P50 {} {cur}", money_full(p50)),
                p50,
                RGBColor(0x1F, 0x3A, 0x60),
                2.0,
                true,
            ),
            (
                "P95",
                format!("P95 {} {cur}", money_full(p95)),
                p95,
                RGBColor(0xD9, 0x6A, 0x0B),
                2.0,
                true,
            ),
        ];
        if let Some(b) = self.budget {
            refs.push((
                "Budget",
                format!("Budget {} {cur}", money_full(b)),
                b,
                BUDGET,
                2.5,
                false,
            ));
        }

        refs
    }

    /// The subtitle given, or the scenario count and the shares over and held at the budget.
    fn subtitle(&self, sorted: &[f64], spike_share: Option<f64>) -> String {
        let n = sorted.len();
        match &self.subtitle {
            Some(s) => s.clone(),
            None => {
                let mut s = format!("{} scenarios", super::format::thousands(n as f64, 0));
                if let Some(b) = self.budget {
                    let over = sorted.iter().filter(|v| **v > b).count() as f64 / n as f64;
                    if over > 0.0 || spike_share.is_none() {
                        s.push_str(&format!(
                            " · payout exceeds the budget in {} of scenarios",
                            percent(over, 1)
                        ));
                    }
                    if let Some(share) = spike_share {
                        s.push_str(&format!(
                            " · the budget binds in {} of scenarios (payout held at the budget)",
                            percent(share, 1)
                        ));
                    }
                }
                s
            }
        }
    }

    /// The x range: the payouts, the budget, every bin and the spike, with 3% on each side
    /// (from 0 when the payouts start near it).
    fn x_range(&self, sorted: &[f64], hist: &Histogram) -> (f64, f64) {
        let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
        let (start, width, shares) = (hist.start, hist.width, &hist.shares);
        let mut lo = min;
        let mut hi = max;
        if let Some(b) = self.budget {
            lo = lo.min(b);
            hi = hi.max(b);
        }
        lo = lo.min(start);
        hi = hi.max(start + shares.len() as f64 * width);
        if let Some((b, _)) = &hist.spike {
            lo = lo.min(b - width);
            hi = hi.max(b + width * 0.6);
            if shares.is_empty() {
                // the spike alone: the range its width was chosen for (±10% of the budget)
                let (a, c) = pad_range(*b, *b);
                lo = lo.min(a);
                hi = hi.max(c);
            }
        }
        let pad = (hi - lo) * 0.03;
        let x_lo = if lo >= 0.0 && lo - pad < 0.0 {
            0.0
        } else {
            lo - pad
        };
        let x_hi = hi + pad;

        (x_lo, x_hi)
    }
}

/// Where the spike's bar stands: half a bin wide against the budget `b` on its right
/// (centred on it when some payouts exceed the budget).
fn spike_span(hist: &Histogram, b: f64) -> (f64, f64) {
    let width = hist.width;
    if hist.above {
        (b - width / 4.0, b + width / 4.0)
    } else {
        (b, b + width / 2.0)
    }
}

/// The labels above the plot: the spike's, just above it, and the reference lines' short
/// labels, staggered over rows when close.
fn draw_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Plot<'_, DB>,
    t: &Theme,
    hist: &Histogram,
    spike: Option<&(f64, f64, String)>,
    refs: &[RefLine],
) -> Result<()> {
    let (start, width, shares) = (hist.start, hist.width, &hist.shares);
    let (x_lo, x_hi) = (chart.x_range().start, chart.x_range().end);
    let y_max = chart.y_range().end;
    // Short labels above the plot, staggered over two rows when close.
    let root_area = root;
    let style = t.bold(13.0, INK);
    let top = chart.backend_coord(&(x_lo, y_max)).1;
    let (px_lo, px_hi) = (
        chart.backend_coord(&(x_lo, 0.0)).0,
        chart.backend_coord(&(x_hi, 0.0)).0,
    );

    // The spike's label just above it, kept inside the plot, on white over the lines.
    if let Some((b, share, text)) = &spike {
        let (tw, th) = root_area.estimate_text_size(text, &style).or_draw()?;
        let (tw, th) = (tw as i32, th as i32);
        let pad = t.px(3.0);
        let (x0, x1) = spike_span(hist, *b);
        let (x, y) = chart.backend_coord(&((x0 + x1) / 2.0, *share));
        let x = x.clamp(px_lo + tw / 2 + pad, px_hi - tw / 2 - pad);
        // above the spike, and above any bar under the label (never hiding one)
        let y = shares
            .iter()
            .enumerate()
            .filter(|(_, s)| **s > 0.0)
            .filter_map(|(i, s)| {
                let x0 = start + i as f64 * width;
                let (l, top) = chart.backend_coord(&(x0, *s));
                let r = chart.backend_coord(&(x0 + width, *s)).0;
                (r > x - tw / 2 - pad && l < x + tw / 2 + pad).then_some(top)
            })
            .fold(y, i32::min)
            - t.px(5.0);
        root_area
            .draw(&Rectangle::new(
                [
                    (x - tw / 2 - pad, y - th - pad / 2),
                    (x + tw / 2 + pad, y + pad / 2),
                ],
                t.fill(WHITE),
            ))
            .or_draw()?;
        label(
            root_area,
            text,
            (x, y),
            &style.color(&BUDGET),
            HPos::Center,
            VPos::Bottom,
        )?;
    }
    let mut order: Vec<usize> = (0..refs.len()).collect();
    order.sort_by(|a, b| refs[*a].2.total_cmp(&refs[*b].2));
    let mut taken = super::Occupied::default();
    for i in order {
        let (short, _, v, c, _, _) = &refs[i];
        let (tw, th) = root_area.estimate_text_size(short, &style).or_draw()?;
        let (tw, th) = (tw as i32, th as i32);
        let x = chart
            .backend_coord(&(*v, 0.0))
            .0
            .clamp(px_lo + tw / 2, px_hi - tw / 2);
        for row in 0..3 {
            let y = top - t.px(6.0) - row * (th + t.px(3.0));
            let b = (x - tw / 2 - t.px(3.0), y - th, x + tw / 2 + t.px(3.0), y);
            if taken.free(b) || row == 2 {
                taken.take(b);
                label(
                    root_area,
                    short,
                    (x, y),
                    &style.color(c),
                    HPos::Center,
                    VPos::Bottom,
                )?;
                break;
            }
        }
    }
    Ok(())
}

/// Opacity of the bar of the scenarios held at the budget.
const SPIKE_ALPHA: f64 = 0.85;

/// "budget binds: 24%": the share of scenarios held at the budget, whole percents unless
/// under 1% or over 99% (then one decimal, so that neither reads 0% or 100%).
fn spike_label(share: f64) -> String {
    let decimals = if (0.01..=0.99).contains(&share) || share == 1.0 {
        0
    } else {
        1
    };
    format!("budget binds: {}", percent(share, decimals))
}

/// The bars of the chart: shares of all scenarios, adding up to 1 with the spike.
#[derive(Debug, Clone, PartialEq)]
struct Histogram {
    /// Left edge of the first bin.
    start: f64,
    /// Bin width.
    width: f64,
    /// Share of all scenarios in each bin (the scenarios held at the budget left out).
    shares: Vec<f64>,
    /// The budget and the share of scenarios whose payout is held exactly at it (within
    /// floating-point noise, 10⁻⁹ relative), when there are any.
    spike: Option<(f64, f64)>,
    /// Whether there are bins above the budget (payouts before the budget's cut).
    above: bool,
}

impl Histogram {
    /// The histogram of ascending, non-empty, finite `sorted` payouts with an optional budget.
    fn of(sorted: &[f64], budget: Option<f64>) -> Self {
        let n = sorted.len();
        let at = |v: f64, b: f64| (v - b).abs() <= 1e-9 * b.abs().max(1.0);
        let spike_at = budget.filter(|b| sorted.iter().any(|v| at(*v, *b)));
        let rest: Vec<f64> = match spike_at {
            Some(b) => sorted.iter().copied().filter(|v| !at(*v, b)).collect(),
            None => sorted.to_vec(),
        };
        let spike = spike_at.map(|b| (b, (n - rest.len()) as f64 / n as f64));
        if rest.is_empty() {
            // every scenario at the budget: the spike alone, its width from the budget's size
            let b = spike_at.expect("a spike");
            let (a, c) = pad_range(b, b);
            return Histogram {
                start: b,
                width: super::format::nice_step((c - a) / 40.0),
                shares: Vec::new(),
                spike,
                above: false,
            };
        }
        let (min, max) = (rest[0], rest[rest.len() - 1]);
        // bins below the budget edge, when the grid is aligned on the budget
        let (start, width, bins, below) = if let Some(b) = spike_at {
            let (start, width, bins, below) = bins_around(min, max, b, rest.len());
            (start, width, bins, Some(below))
        } else if max > min {
            let (start, width, bins) = histogram_bins(min, max, rest.len());
            (start, width, bins, None)
        } else {
            // Every scenario pays the same: one visible bar centred on it.
            let (a, c) = match budget {
                Some(b) => pad_range(min.min(b), max.max(b)),
                None => pad_range(min, max),
            };
            let width = super::format::nice_step((c - a) / 40.0);
            (min - width / 2.0, width, 1, None)
        };
        let mut counts = vec![0usize; bins];
        for v in &rest {
            let mut i = (((v - start) / width).floor().max(0.0) as usize).min(bins - 1);
            if let (Some(k), Some(b)) = (below, spike_at) {
                // rounding never moves a payout across the budget
                i = if *v < b { i.min(k - 1) } else { i.max(k) };
            }
            counts[i] += 1;
        }
        Histogram {
            start,
            width,
            shares: counts.iter().map(|c| *c as f64 / n as f64).collect(),
            spike,
            above: below.is_some_and(|k| k < bins),
        }
    }
}

/// Bins of a nice width on a grid with an edge at `b`, covering `[min, max]` (`min ≤ max`,
/// neither equal to `b`): (start, width, count, bins below `b`).
fn bins_around(min: f64, max: f64, b: f64, n: usize) -> (f64, f64, usize, usize) {
    let target_bins = ((2.0 * (n as f64).cbrt()).round() as usize).clamp(8, 50);
    let span = max.max(b) - min.min(b);
    let width = super::format::nice_step(span / target_bins as f64);
    let below = if min < b {
        (((b - min) / width).ceil() as usize).max(1)
    } else {
        0
    };
    let above = if max > b {
        (((max - b) / width).ceil() as usize).max(1)
    } else {
        0
    };
    (b - below as f64 * width, width, below + above, below)
}

/// Bins aligned on a nice width covering `[min, max]` (`max > min`): (start, width, count).
/// The last bin is closed on the right: a payout exactly at the top edge is counted below it,
/// so no bar suggests payouts above it. (Payouts held at a budget are a bar of their own, see
/// [`Histogram::of`].)
fn histogram_bins(min: f64, max: f64, n: usize) -> (f64, f64, usize) {
    let target_bins = ((2.0 * (n as f64).cbrt()).round() as usize).clamp(8, 50);
    let width = super::format::nice_step((max - min) / target_bins as f64);
    let start = (min / width).floor() * width;
    (
        start,
        width,
        (((max - start) / width).ceil() as usize).max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::{histogram_bins, spike_label, Histogram};

    /// 100 payouts: 76 spread below a 2.3M budget, 24 held at it.
    fn capped() -> Vec<f64> {
        let mut v: Vec<f64> = (0..76).map(|i| 1_500_000.0 + 10_000.0 * i as f64).collect();
        v.extend([2_300_000.0; 24]);
        v
    }

    #[test]
    fn the_payouts_held_at_the_budget_are_a_bar_of_their_own() {
        let h = Histogram::of(&capped(), Some(2_300_000.0));
        assert_eq!((h.spike, h.above), (Some((2_300_000.0, 0.24)), false));
        let below: f64 = h.shares.iter().sum();
        assert!((below - 0.76).abs() < 1e-12, "{below}");
        // the bins end at the budget: none reaches past it
        let end = h.start + h.shares.len() as f64 * h.width;
        assert!((end - 2_300_000.0).abs() < 1e-6, "{end}");
        assert!(h.shares.last().unwrap() < &0.24);
        assert_eq!(spike_label(0.24), "budget binds: 24%");
        assert_eq!(spike_label(0.004), "budget binds: 0.4%");
        assert_eq!(spike_label(0.996), "budget binds: 99.6%");
        // floating-point noise in a total held at the budget is still the budget
        let mut noisy = capped();
        noisy[80] = 2_299_999.999_999_999_5;
        noisy[81] = 2_300_000.000_000_000_5;
        assert_eq!(
            Histogram::of(&noisy, Some(2_300_000.0)).spike,
            Some((2_300_000.0, 0.24))
        );
    }

    #[test]
    fn no_spike_without_payouts_at_the_budget() {
        // payouts before the cut: some above the budget, none at it
        let v: Vec<f64> = (0..100)
            .map(|i| 1_500_000.0 + 10_000.0 * i as f64)
            .collect();
        let h = Histogram::of(&v, Some(2_305_000.0));
        assert_eq!((h.spike, h.above), (None, false));
        assert!((h.shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(
            Histogram::of(&v, None),
            Histogram {
                spike: None,
                ..h.clone()
            }
        );
        // every scenario at the budget: the spike alone
        let all = Histogram::of(&[5.0e6; 10], Some(5.0e6));
        assert_eq!(all.spike, Some((5.0e6, 1.0)));
        assert!(all.shares.is_empty() && all.width > 0.0);
        // a spike with payouts on both sides (a budget some payouts exceed, a few held at it)
        let mut v = v;
        v.extend([2_005_000.0; 5]);
        v.sort_by(f64::total_cmp);
        let h = Histogram::of(&v, Some(2_005_000.0));
        let (b, share) = h.spike.unwrap();
        assert_eq!((b, share), (2_005_000.0, 5.0 / 105.0));
        assert!(h.above);
        assert!((share + h.shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let k = ((b - h.start) / h.width).round() as usize;
        assert!(
            (h.start + k as f64 * h.width - b).abs() < 1e-6,
            "an edge at the budget"
        );
        let below: f64 = h.shares[..k].iter().sum();
        assert!((below - 51.0 / 105.0).abs() < 1e-12, "{below}");
    }

    #[test]
    fn bins_end_at_a_maximum_on_an_edge() {
        // payouts capped at an 18M budget: the top bin ends at 18M, not 19M
        let (start, width, bins) = histogram_bins(13_100_000.0, 18_000_000.0, 100);
        assert_eq!(start + bins as f64 * width, 18_000_000.0);
        // otherwise the maximum lies inside the last bin
        let (start, width, bins) = histogram_bins(13_100_000.0, 18_300_000.0, 100);
        let end = start + bins as f64 * width;
        assert!(end > 18_300_000.0 && end - width < 18_300_000.0);
    }
}
