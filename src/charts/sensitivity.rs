//! The tornado chart of a sensitivity analysis: the analysis's results turned into a
//! [`Tornado`], so that the analysis itself does not depend on rendering.

use super::{Tornado, TornadoBar, ValueUnit};
use crate::error::{Error, Result};
use crate::sensitivity::{Output, Sensitivity};

impl Sensitivity {
    /// The tornado chart of `output`: the mean at each assumption's low and high setting
    /// around the base mean, with whiskers of ±1.96 standard errors of the paired
    /// differences from the base.
    ///
    /// Errors: [`Error::Request`] when the output is undefined in the base run (ROI and
    /// incremental margin need a margin rate) or there are no assumptions.
    pub fn tornado(&self, output: Output) -> Result<Tornado> {
        let base = self.base.get(output).mean.value;
        if !base.is_finite() {
            return Err(Error::Request(format!(
                "the sensitivity of {} cannot be charted: it is undefined in the base run (ROI and incremental margin need a margin rate in the partner table or the model's economics.margin_rate)",
                output.name()
            )));
        }
        if self.rows.is_empty() {
            return Err(Error::Request(
                "the sensitivity analysis has no assumptions to chart".into(),
            ));
        }
        let (title, name, unit) = match output {
            Output::Payout => (
                "Sensitivity of expected payout",
                "Expected payout",
                ValueUnit::Money(self.currency.clone()),
            ),
            Output::Roi => (
                "Sensitivity of expected ROI",
                "Expected ROI",
                ValueUnit::Percent,
            ),
            Output::IncrementalMargin => (
                "Sensitivity of expected incremental margin",
                "Expected incremental margin",
                ValueUnit::Money(self.currency.clone()),
            ),
        };
        let bars = self
            .sorted_by(output)
            .into_iter()
            .map(|r| {
                let lo = r.low_vs_base.get(output).mean;
                let hi = r.high_vs_base.get(output).mean;
                // the paired difference (common random numbers) measures the effect
                let bar = TornadoBar::new(
                    &r.assumption,
                    &r.low_label,
                    &r.high_label,
                    base + lo.value,
                    base + hi.value,
                );
                let se = |s: f64| if s.is_finite() { s } else { 0.0 };
                bar.with_se(se(lo.se), se(hi.se))
            })
            .collect();
        let under = match self.parameter_draws {
            0 => String::new(),
            k => format!(" (under {k} parameter draws)"),
        };
        Ok(Tornado::new(
            format!("{title}: {}{under}", self.programme),
            name,
            unit,
            base,
            bars,
        ))
    }
}
