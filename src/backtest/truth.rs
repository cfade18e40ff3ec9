//! The synthetic years a backtest forecasts: each is one scenario of the engine written out
//! as transactions and settled exactly, and the actuals of a year up to a month end.

use crate::data::{Partners, Transactions};
use crate::demand::Model;
use crate::engine::export_scenario;
use crate::error::Result;
use crate::population::Population;
use crate::programme::Compiled;
use crate::settlement::settle;
use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;

/// The date of the end of programme month `m` (1-based: the last day of the m-th month).
pub fn month_end_date(programme: &Compiled, m: usize) -> NaiveDate {
    programme
        .calendar
        .start
        .checked_add_months(Months::new(m as u32))
        .and_then(|d| d.pred_opt())
        .expect("validated programme dates")
}

/// The rows of `tx` dated on or before `as_of` (keys kept, so row order and ids are those of
/// `tx`).
pub fn actuals_to(tx: &Transactions, as_of: NaiveDate) -> Transactions {
    let keep: Vec<usize> = (0..tx.len()).filter(|&i| tx.date[i] <= as_of).collect();
    Transactions {
        table: tx.table.clone(),
        partner_keys: tx.partner_keys.clone(),
        partner_key: keep.iter().map(|&i| tx.partner_key[i]).collect(),
        date: keep.iter().map(|&i| tx.date[i]).collect(),
        quantity: keep.iter().map(|&i| tx.quantity[i]).collect(),
        revenue: keep.iter().map(|&i| tx.revenue[i]).collect(),
        category_keys: tx.category_keys.clone(),
        category: tx
            .category
            .as_ref()
            .map(|c| keep.iter().map(|&i| c[i]).collect()),
        order_keys: tx.order_keys.clone(),
        order: tx
            .order
            .as_ref()
            .map(|o| keep.iter().map(|&i| o[i]).collect()),
    }
}

/// One synthetic year: its transactions and what it paid.
#[derive(Debug, Clone)]
pub struct TruthYear {
    /// The year's partner table (as the engine settles it).
    pub partners: Partners,
    /// The year's purchases.
    pub transactions: Transactions,
    /// Exact settled payout of the year.
    pub payout: Decimal,
}

/// Synthetic year `year` of the truth run with `seed`: scenario `year` of the engine, settled
/// exactly.
pub fn truth_year(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    seed: u64,
    year: usize,
) -> Result<TruthYear> {
    let ex = export_scenario(programme, population, model, seed, year as u64)?;
    let st = settle(programme, &ex.partners, &ex.transactions)?;
    Ok(TruthYear {
        partners: ex.partners,
        transactions: ex.transactions,
        payout: st.total.payable,
    })
}
