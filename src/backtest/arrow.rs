//! A backtest as Arrow record batches (built here, so that the Python binding and a Rust user
//! get the same tables; the rules of [`crate::outcomes::arrow`]: metadata as a one-row
//! table, undefined estimates as NaN):
//! - **meta** ([`Backtest::meta_batch`]): one row: programme, currency, methods (list),
//!   month_ends (list, 1-based), as_of (list of dates as `YYYY-MM-DD` text), seed,
//!   forecast_seed, years, has_intervals (list, one flag per method), parameter_draws (the
//!   rebatesim forecaster's `K`, 0 without);
//! - **realised** ([`Backtest::realised_batch`]): one row per year: `realised`;
//! - **estimates** ([`Backtest::estimates_batch`]): one row per year: `estimate`, a
//!   fixed-size list with one value per month end;
//! - **intervals** ([`Backtest::intervals_batch`]): one row per year: `lower`, `upper`, as
//!   the estimates (none for a method without intervals);
//! - **coverage**, **errors**, **paired** ([`Backtest::coverage_batch`],
//!   [`Backtest::errors_batch`], [`Backtest::paired_batch`]): one row per row of
//!   [`Backtest::coverage`], [`Backtest::errors`], [`Backtest::paired`], an estimate as its
//!   value and `*_se` (`coverage`/`se`, `mae`/`mae_se`, `bias`/`bias_se`, `difference`/`se`);
//!   `month_end` null for the pooled row.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, ListBuilder, UInt64Builder};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};

use super::result::Backtest;
use crate::error::Result;
use crate::outcomes::arrow::{f64_rows, named_batch, string_list};

/// A column of text.
fn text(values: impl Iterator<Item = String>) -> ArrayRef {
    Arc::new(StringArray::from(values.collect::<Vec<_>>()))
}

/// A column of numbers.
fn number(values: impl Iterator<Item = f64>) -> ArrayRef {
    Arc::new(Float64Array::from(values.collect::<Vec<_>>()))
}

/// A column of counts.
fn count(values: impl Iterator<Item = usize>) -> ArrayRef {
    Arc::new(UInt64Array::from(
        values.map(|n| n as u64).collect::<Vec<_>>(),
    ))
}

/// A column of month ends (null: pooled).
fn month_end(values: impl Iterator<Item = Option<usize>>) -> ArrayRef {
    Arc::new(UInt64Array::from(
        values.map(|m| m.map(|m| m as u64)).collect::<Vec<_>>(),
    ))
}

impl Backtest {
    /// The metadata as a one-row table (see the module header).
    pub fn meta_batch(&self) -> Result<RecordBatch> {
        let mut month_ends = ListBuilder::new(UInt64Builder::new());
        month_ends.append_value(self.month_ends.iter().map(|&m| Some(m as u64)));
        let mut flags = ListBuilder::new(BooleanBuilder::new());
        flags.append_value(self.has_intervals.iter().map(|&f| Some(f)));
        let as_of: Vec<String> = self.as_of.iter().map(|d| d.to_string()).collect();
        named_batch(
            vec![
                ("programme", text(std::iter::once(self.programme.clone()))),
                ("currency", text(std::iter::once(self.currency.clone()))),
                ("methods", string_list(&self.methods)),
                ("month_ends", Arc::new(month_ends.finish())),
                ("as_of", string_list(&as_of)),
                ("seed", Arc::new(UInt64Array::from(vec![self.seed]))),
                (
                    "forecast_seed",
                    Arc::new(UInt64Array::from(vec![self.forecast_seed])),
                ),
                ("years", count(std::iter::once(self.years()))),
                ("has_intervals", Arc::new(flags.finish())),
                (
                    "parameter_draws",
                    count(std::iter::once(self.parameter_draws)),
                ),
            ],
            &[],
        )
    }

    /// The realised payout of every year (see the module header).
    pub fn realised_batch(&self) -> Result<RecordBatch> {
        named_batch(
            vec![("realised", number(self.realised.iter().copied()))],
            &[],
        )
    }

    /// The expected-value estimates of `method` (see the module header).
    pub fn estimates_batch(&self, method: &str) -> Result<RecordBatch> {
        let nm = self.month_ends.len();
        let mut v = Vec::with_capacity(self.years() * nm);
        for y in 0..self.years() {
            for m in 0..nm {
                v.push(self.estimate(method, y, m)?);
            }
        }
        named_batch(vec![("estimate", f64_rows(v, self.years(), nm)?)], &[])
    }

    /// The bounds of `method`'s central interval at `level` (see the module header); `None`
    /// for a method without intervals.
    pub fn intervals_batch(&self, method: &str, level: f64) -> Result<Option<RecordBatch>> {
        let nm = self.month_ends.len();
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        for y in 0..self.years() {
            for m in 0..nm {
                let Some((l, h)) = self.interval(method, y, m, level)? else {
                    return Ok(None);
                };
                lo.push(l);
                hi.push(h);
            }
        }
        let years = self.years();
        let columns = vec![
            ("lower", f64_rows(lo, years, nm)?),
            ("upper", f64_rows(hi, years, nm)?),
        ];
        named_batch(columns, &[]).map(Some)
    }

    /// The coverage rows (see the module header).
    pub fn coverage_batch(&self) -> Result<RecordBatch> {
        let rows = self.coverage();
        let r = rows.iter();
        named_batch(
            vec![
                ("method", text(r.clone().map(|r| r.method.clone()))),
                ("month_end", month_end(r.clone().map(|r| r.month_end))),
                ("level", number(r.clone().map(|r| r.level))),
                ("n", count(r.clone().map(|r| r.n))),
                ("coverage", number(r.clone().map(|r| r.coverage.value))),
                ("se", number(r.clone().map(|r| r.coverage.se))),
                ("below", number(r.clone().map(|r| r.below))),
                ("above", number(r.clone().map(|r| r.above))),
                ("se_years", number(r.map(|r| r.se_years))),
            ],
            &["month_end"],
        )
    }

    /// The error rows (see the module header).
    pub fn errors_batch(&self) -> Result<RecordBatch> {
        let rows = self.errors();
        let r = rows.iter();
        named_batch(
            vec![
                ("method", text(r.clone().map(|r| r.method.clone()))),
                ("month_end", month_end(r.clone().map(|r| r.month_end))),
                ("n", count(r.clone().map(|r| r.n))),
                ("mae", number(r.clone().map(|r| r.mae.value))),
                ("mae_se", number(r.clone().map(|r| r.mae.se))),
                ("rmse", number(r.clone().map(|r| r.rmse))),
                ("bias", number(r.clone().map(|r| r.bias.value))),
                ("bias_se", number(r.clone().map(|r| r.bias.se))),
                ("mae_amount", number(r.map(|r| r.mae_amount))),
            ],
            &["month_end"],
        )
    }

    /// The paired comparison rows of `method` against `against` (see the module header).
    pub fn paired_batch(&self, method: &str, against: &str) -> Result<RecordBatch> {
        let rows = self.paired(method, against)?;
        let r = rows.iter();
        named_batch(
            vec![
                ("method", text(r.clone().map(|r| r.method.clone()))),
                ("against", text(r.clone().map(|r| r.against.clone()))),
                ("month_end", month_end(r.clone().map(|r| r.month_end))),
                ("difference", number(r.clone().map(|r| r.difference.value))),
                ("se", number(r.clone().map(|r| r.difference.se))),
                ("wins", number(r.map(|r| r.wins))),
            ],
            &["month_end"],
        )
    }
}
