//! The cash-out timeline: expected payments per payment date with bands, and whether each
//! date is paid, payable or still a forecast.

use super::Forecast;
use crate::summary::{self, Estimate};
use chrono::NaiveDate;
use serde::Serialize;

/// Cash paid on one payment date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CashLine {
    /// Payment date.
    pub payment_date: NaiveDate,
    /// Periods whose payments fall on it (labels joined by `+`).
    pub periods: String,
    /// `paid` (due on or before the forecast date), `payable` (period closed, not yet due) or
    /// `forecast` (period still open).
    pub status: String,
    /// Expected amount.
    pub mean: Estimate,
    /// 5th percentile.
    pub p5: Estimate,
    /// Median.
    pub p50: Estimate,
    /// 95th percentile.
    pub p95: Estimate,
}

impl Forecast {
    /// Cash-out timeline by payment date (expected amounts with bands). The means sum to the
    /// expected total payout.
    pub fn cash_schedule(&self) -> Vec<CashLine> {
        let periods = self.period_labels.len();
        let mut dates: Vec<NaiveDate> = self.payment_dates.clone();
        dates.sort();
        dates.dedup();
        dates
            .into_iter()
            .map(|d| {
                let paid_then: Vec<usize> = (0..periods)
                    .filter(|&k| self.payment_dates[k] == d)
                    .collect();
                let x: Vec<f64> = (0..self.scenarios)
                    .map(|s| paid_then.iter().map(|&k| self.cash[s * periods + k]).sum())
                    .collect();
                let sm = summary::summarize(&x, None);
                let closed = paid_then.iter().all(|&k| self.period_ends[k] <= self.as_of);
                let status = if d <= self.as_of {
                    "paid"
                } else if closed {
                    "payable"
                } else {
                    "forecast"
                };
                CashLine {
                    payment_date: d,
                    periods: paid_then
                        .iter()
                        .map(|&k| self.period_labels[k].clone())
                        .collect::<Vec<_>>()
                        .join("+"),
                    status: status.into(),
                    mean: sm.mean,
                    p5: sm.p5,
                    p50: sm.p50,
                    p95: sm.p95,
                }
            })
            .collect()
    }
}
