//! Chart 1: the payout distribution of one run.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{mean, money_full, percent, quantile_sorted, AxisFormat};
use super::{
    check_finite, check_value, header, label, mesh_style, pad_range, series_colour, Chart, Mark,
    OrDraw, Theme, BUDGET, DEFAULT_SIZE, INK,
};
use crate::error::{Error, Result};

/// Histogram of the total payout per scenario of one run, with vertical lines
/// for the mean, P50, P95 and (optionally) the budget.
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

    /// Adds the budget line.
    pub fn with_budget(mut self, budget: f64) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Replaces the automatic subtitle.
    pub fn with_subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }

    pub(crate) fn kind_name(&self) -> &'static str {
        "payout_distribution"
    }
}

const NAME: &str = "payout distribution";

impl Chart for PayoutDistribution {
    fn title(&self) -> &str {
        &self.title
    }

    fn size(&self) -> (u32, u32) {
        self.size
    }

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
        let n = sorted.len();
        let avg = mean(&sorted);
        let p50 = quantile_sorted(&sorted, 0.5);
        let p95 = quantile_sorted(&sorted, 0.95);
        let (min, max) = (sorted[0], sorted[n - 1]);

        // Reference lines: (short label, legend label, value, colour, width, dashed)
        let cur = &self.currency;
        let mut refs = vec![
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

        let subtitle = match &self.subtitle {
            Some(s) => s.clone(),
            None => {
                let mut s = format!("{} scenarios", super::format::thousands(n as f64, 0));
                if let Some(b) = self.budget {
                    let over = sorted.iter().filter(|v| **v > b).count() as f64 / n as f64;
                    s.push_str(&format!(
                        " · payout exceeds the budget in {} of scenarios",
                        percent(over, 1)
                    ));
                }
                s
            }
        };
        let mut legend = vec![(
            "Share of scenarios".to_string(),
            Mark::Swatch(series_colour(0).mix(0.8)),
        )];
        for (_, long, _, c, w, dashed) in &refs {
            legend.push((long.clone(), Mark::Line(c.to_rgba(), *w, *dashed)));
        }
        let body = header(root, t, &self.title, Some(&subtitle), &legend)?;

        // Bins aligned on a nice width.
        let mut lo = min;
        let mut hi = max;
        if let Some(b) = self.budget {
            lo = lo.min(b);
            hi = hi.max(b);
        }
        let (start, width, bins) = if max > min {
            histogram_bins(min, max, n)
        } else {
            // Every scenario pays the same: one visible bar centred on it.
            let (a, b) = pad_range(lo, hi);
            let width = super::format::nice_step((b - a) / 40.0);
            (min - width / 2.0, width, 1)
        };
        let mut counts = vec![0usize; bins];
        for v in &sorted {
            let i = (((v - start) / width).floor() as usize).min(bins - 1);
            counts[i] += 1;
        }
        let shares: Vec<f64> = counts.iter().map(|c| *c as f64 / n as f64).collect();
        let y_max = shares.iter().cloned().fold(0.0, f64::max) * 1.12;

        lo = lo.min(start);
        hi = hi.max(start + bins as f64 * width);
        let pad = (hi - lo) * 0.03;
        let x_lo = if lo >= 0.0 && lo - pad < 0.0 {
            0.0
        } else {
            lo - pad
        };
        let x_hi = hi + pad;

        let x_fmt = AxisFormat::money(x_lo, x_hi, 10);
        let y_fmt = AxisFormat::percent(0.0, y_max, 6);
        let mut chart = ChartBuilder::on(&body)
            .margin_left(t.px(12.0))
            .margin_right(t.px(28.0))
            .margin_top(t.px(44.0))
            .margin_bottom(t.px(8.0))
            .x_label_area_size(t.px(42.0))
            .y_label_area_size(t.px(76.0))
            .build_cartesian_2d(x_lo..x_hi, 0.0..y_max)
            .or_draw()?;
        let x_desc = format!("Total payout per scenario ({cur})");
        let xf = |v: &f64| x_fmt.label(*v);
        let yf = |v: &f64| y_fmt.label(*v);
        let mut mesh = chart.configure_mesh();
        mesh_style!(mesh, t)
            .disable_x_mesh()
            .x_labels(10)
            .y_labels(6)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .x_desc(x_desc)
            .y_desc("Share of scenarios");
        mesh.draw().or_draw()?;

        let bar = series_colour(0);
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

        // Short labels above the plot, staggered over two rows when close.
        let root_area = root;
        let style = t.bold(13.0, INK);
        let top = chart.backend_coord(&(x_lo, y_max)).1;
        let (px_lo, px_hi) = (
            chart.backend_coord(&(x_lo, 0.0)).0,
            chart.backend_coord(&(x_hi, 0.0)).0,
        );
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
}

/// Bins aligned on a nice width covering `[min, max]` (`max > min`): (start, width, count).
/// The last bin is closed on the right: a payout held exactly at a bin edge (typically
/// the budget, when it binds) is counted below it, so no bar suggests payouts above it.
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
    use super::histogram_bins;

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
