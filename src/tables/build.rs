//! The one columnar intermediate every source of a transaction table fills (CSV text,
//! Arrow record batches, Parquet files): rows are checked and appended straight into
//! [`Transactions`]' columns, ids interned as they come, so no source keeps its rows.

use super::intern::Interner;
use crate::data::Transactions;
use crate::error::{Error, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One row of a transaction table, as read.
pub(crate) struct TxRow<'a> {
    pub(crate) partner_id: &'a str,
    pub(crate) date: NaiveDate,
    pub(crate) quantity: Decimal,
    pub(crate) revenue: Decimal,
    pub(crate) category: Option<&'a str>,
    pub(crate) order_id: Option<&'a str>,
}

/// Transactions being built, row by row.
pub(crate) struct TxBuilder {
    x: Transactions,
    partners: Interner,
    categories: Interner,
    orders: Interner,
}

impl TxBuilder {
    /// An empty table named `table`, with or without the optional columns.
    pub(crate) fn new(table: &str, category: bool, order: bool) -> TxBuilder {
        TxBuilder {
            x: Transactions {
                table: table.to_owned(),
                category: category.then(Vec::new),
                order: order.then(Vec::new),
                ..Default::default()
            },
            partners: Interner::default(),
            categories: Interner::default(),
            orders: Interner::default(),
        }
    }

    /// Room for `n` more rows.
    pub(crate) fn reserve(&mut self, n: usize) {
        let x = &mut self.x;
        x.partner_key.reserve(n);
        x.date.reserve(n);
        x.quantity.reserve(n);
        x.revenue.reserve(n);
        if let Some(c) = x.category.as_mut() {
            c.reserve(n);
        }
        if let Some(o) = x.order.as_mut() {
            o.reserve(n);
        }
    }

    fn err(&self, row: usize, column: &str, msg: impl Into<String>) -> Error {
        Error::data(&self.x.table, Some(row), Some(column), msg)
    }

    /// The partner id of data row `row` (1-based): present and not empty.
    pub(crate) fn id<'a>(&self, row: usize, id: Option<&'a str>) -> Result<&'a str> {
        match id {
            Some(id) if !id.is_empty() => Ok(id),
            _ => Err(self.err(row, "partner_id", "expected a partner id, found an empty cell")),
        }
    }

    /// The date of data row `row`: present and within the dates rebatesim supports.
    pub(crate) fn date(&self, row: usize, date: Option<NaiveDate>) -> Result<NaiveDate> {
        let date = date.ok_or_else(|| {
            self.err(row, "date", "expected a date written YYYY-MM-DD, found an empty cell")
        })?;
        if !crate::limits::date_in_range(date) {
            return Err(self.err(
                row,
                "date",
                format!(
                    "date {date} is outside the dates rebatesim supports ({} to {})",
                    crate::limits::FIRST_DATE,
                    crate::limits::LAST_DATE
                ),
            ));
        }
        Ok(date)
    }

    /// Append a row whose id and date passed [`TxBuilder::id`] and [`TxBuilder::date`].
    pub(crate) fn push(&mut self, r: TxRow<'_>) {
        let (id, date) = (r.partner_id, r.date);
        let p = self.partners.intern(id);
        let x = &mut self.x;
        x.partner_key.push(p);
        x.date.push(date);
        x.quantity.push(r.quantity);
        x.revenue.push(r.revenue);
        if let Some(v) = x.category.as_mut() {
            v.push(match r.category {
                None | Some("") => None,
                Some(s) => Some(self.categories.intern(s)),
            });
        }
        if let Some(v) = x.order.as_mut() {
            v.push(match r.order_id {
                None | Some("") => None,
                Some(s) => Some(self.orders.intern(s)),
            });
        }
    }

    /// The table.
    pub(crate) fn finish(self) -> Transactions {
        let mut x = self.x;
        x.partner_keys = self.partners.keys;
        x.category_keys = self.categories.keys;
        x.order_keys = self.orders.keys;
        x
    }
}
