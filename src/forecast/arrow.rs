//! A forecast as Arrow record batches (built here, so that the Python binding and a Rust user
//! get the same tables):
//! - **report** (`records::batch(&[forecast.report()])`, [`crate::records`]): one row, a
//!   column per part of [`super::ForecastReport`] in its order (the metadata, the
//!   distributions and estimates as structs, the breakdowns, journal, ledger rows, watch list
//!   and cash schedule as lists of structs; exact amounts as their decimal text and
//!   undefined numbers as null, as in the report's JSON); the ledger rows and journal summary at other levels the same way, a
//!   row each;
//! - **totals** ([`Forecast::totals_batch`]): a row per scenario: `total_payout` (after the
//!   budget) and `total_payout_before_budget`;
//! - a partner's, component's or segment's payout ([`payout_batch`]): a row per scenario,
//!   column `payout`.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch};

use super::Forecast;
use crate::error::Result;
use crate::outcomes::arrow::named_batch;

/// One payout per scenario as a table (column `payout`).
pub fn payout_batch(values: Vec<f64>) -> Result<RecordBatch> {
    named_batch(
        vec![("payout", Arc::new(Float64Array::from(values)) as ArrayRef)],
        &[],
    )
}

impl Forecast {
    /// The final total payout per scenario, after and before the budget (see the module
    /// header).
    pub fn totals_batch(&self) -> Result<RecordBatch> {
        let column = |v: &[f64]| -> ArrayRef { Arc::new(Float64Array::from(v.to_vec())) };
        named_batch(
            vec![
                ("total_payout", column(self.total_payout())),
                (
                    "total_payout_before_budget",
                    column(self.total_payout_before_budget()),
                ),
            ],
            &[],
        )
    }
}
