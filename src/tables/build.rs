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

/// The date of data row `row` of `table`: present and within the dates rebatesim supports.
pub(crate) fn check_date(table: &str, row: usize, date: Option<NaiveDate>) -> Result<NaiveDate> {
    let err = |m: String| Error::data(table, Some(row), Some("date"), m);
    let date = date
        .ok_or_else(|| err("expected a date written YYYY-MM-DD, found an empty cell".to_owned()))?;
    if !crate::limits::date_in_range(date) {
        return Err(err(format!(
            "date {date} is outside the dates rebatesim supports ({} to {})",
            crate::limits::FIRST_DATE,
            crate::limits::LAST_DATE
        )));
    }
    Ok(date)
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
            _ => Err(self.err(
                row,
                "partner_id",
                "expected a partner id, found an empty cell",
            )),
        }
    }

    /// The date of data row `row`: present and within the dates rebatesim supports.
    pub(crate) fn date(&self, row: usize, date: Option<NaiveDate>) -> Result<NaiveDate> {
        check_date(&self.x.table, row, date)
    }

    /// Append the `n` rows of a batch (data rows `first..first + n`): `ids(0, i)`, `ids(1, i)`
    /// and `ids(2, i)` give row `i`'s partner id, category and order id, interned here (the
    /// order ids on a task of the pool of their own), while `values(i)` (its date, checked
    /// with [`check_date`], quantity and revenue, or the error naming the row) runs on another
    /// task. The error returned is the one a row-by-row pass would meet first:
    /// the first row with one, and in a row the partner id before the values.
    pub(crate) fn push_batch<'a, I, V>(
        &mut self,
        first: usize,
        n: usize,
        ids: I,
        values: V,
    ) -> Result<()>
    where
        I: Fn(usize, usize) -> Option<&'a str> + Sync,
        V: Fn(usize) -> Result<(NaiveDate, Decimal, Decimal)> + Sync,
    {
        self.reserve(n);
        let TxBuilder {
            x,
            partners,
            categories,
            orders,
        } = self;
        let table = x.table.as_str();
        let (key, category, order) = (&mut x.partner_key, &mut x.category, &mut x.order);
        let (date, quantity, revenue) = (&mut x.date, &mut x.quantity, &mut x.revenue);
        // partner ids and categories, order ids, and the values: three tasks of the pool
        let ((named, ()), valued) = rayon::join(
            || {
                rayon::join(
                    || -> std::result::Result<(), Box<(usize, Error)>> {
                        for i in 0..n {
                            let id = match ids(0, i) {
                                Some(id) if !id.is_empty() => id,
                                _ => {
                                    let m = "expected a partner id, found an empty cell";
                                    let e =
                                        Error::data(table, Some(first + i), Some("partner_id"), m);
                                    return Err(Box::new((i, e)));
                                }
                            };
                            key.push(partners.intern(id));
                            if let Some(v) = category.as_mut() {
                                let cat = ids(1, i).filter(|s| !s.is_empty());
                                v.push(cat.map(|s| categories.intern(s)));
                            }
                        }
                        Ok(())
                    },
                    || {
                        if let Some(v) = order.as_mut() {
                            v.extend((0..n).map(|i| {
                                ids(2, i)
                                    .filter(|s| !s.is_empty())
                                    .map(|s| orders.intern(s))
                            }));
                        }
                    },
                )
            },
            || -> std::result::Result<(), Box<(usize, Error)>> {
                for i in 0..n {
                    let (d, q, r) = values(i).map_err(|e| Box::new((i, e)))?;
                    date.push(d);
                    quantity.push(q);
                    revenue.push(r);
                }
                Ok(())
            },
        );
        match (named.map_err(|e| *e), valued.map_err(|e| *e)) {
            (Err((a, e)), Err((b, _))) if a <= b => Err(e),
            (_, Err((_, e))) | (Err((_, e)), Ok(())) => Err(e),
            (Ok(()), Ok(())) => Ok(()),
        }
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
        x.partner_keys = self.partners.keys.to_vec();
        x.category_keys = self.categories.keys.to_vec();
        x.order_keys = self.orders.keys;
        x
    }
}
