//! Partner and transaction tables from Arrow record batches (any `RecordBatchReader`: a
//! Python object's Arrow stream, a Parquet file). Batches are read one at a time into the
//! columnar intermediate; rows are numbered across batches as in a CSV file (data row 1 is
//! the first row), and every problem is a [`Error::Data`] naming the table, row and column.

use super::build::{check_date, TxBuilder};
use super::columns::{column, Dates, Names, Numbers, Text};
use super::number::NumberRule;
use crate::data::{Partners, Transactions};
use crate::error::{Error, Result};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, Schema};

/// The column positions of a table: required ones checked present, optional ones looked up.
struct Columns<'a> {
    table: &'a str,
    names: Names,
}

impl<'a> Columns<'a> {
    fn new(schema: &Schema, table: &'a str) -> Result<Columns<'a>> {
        let names = Names::of(schema).map_err(|(m, c)| Error::data(table, None, Some(&c), m))?;
        Ok(Columns { table, names })
    }

    fn required(&self, name: &str) -> Result<usize> {
        self.names
            .get(name)
            .ok_or_else(|| Error::data(self.table, None, Some(name), self.names.missing()))
    }

    fn optional(&self, name: &str) -> Option<usize> {
        self.names.get(name)
    }
}

/// A batch of the stream, or the stream's error as a table error.
fn next_batch(table: &str, b: std::result::Result<RecordBatch, ArrowError>) -> Result<RecordBatch> {
    b.map_err(|e| Error::data(table, None, None, format!("cannot read the table: {e}")))
}

/// A column accessor of a batch, or an error naming the column (and the batch's first row,
/// where a type is refused).
fn typed<'b, T>(
    table: &str,
    name: &str,
    first_row: usize,
    made: std::result::Result<T, String>,
) -> Result<T>
where
    T: 'b,
{
    made.map_err(|m| Error::data(table, Some(first_row), Some(name), m))
}

impl Transactions {
    /// Read transactions from Arrow record batches (`schema` is the stream's schema). Columns
    /// as in a CSV file: `partner_id`, `date`, `quantity`, `revenue` (required), `category`,
    /// `order_id` (optional); other columns are ignored. Numbers: decimal128 and integers
    /// exactly, floats per `rule`, text as in a CSV file; dates: date32/64, timestamps without
    /// a timezone, or `YYYY-MM-DD` text.
    pub fn from_arrow<I>(
        schema: &Schema,
        batches: I,
        table: &str,
        rule: NumberRule,
    ) -> Result<Transactions>
    where
        I: IntoIterator<Item = std::result::Result<RecordBatch, ArrowError>>,
    {
        let cols = Columns::new(schema, table)?;
        let id_at = cols.required("partner_id")?;
        let date_at = cols.required("date")?;
        let qty_at = cols.required("quantity")?;
        let rev_at = cols.required("revenue")?;
        let cat_at = cols.optional("category");
        let order_at = cols.optional("order_id");
        let mut b = TxBuilder::new(table, cat_at.is_some(), order_at.is_some());
        let qty_rule = rule.quantity();
        let mut offset = 0usize;
        for batch in batches {
            let batch = next_batch(table, batch)?;
            let n = batch.num_rows();
            if n == 0 {
                continue;
            }
            let first = offset + 1;
            let ids = typed(table, "partner_id", first, Text::new(column(&batch, id_at)))?;
            let dates = typed(table, "date", first, Dates::new(column(&batch, date_at)))?;
            let qty = typed(
                table,
                "quantity",
                first,
                Numbers::new(column(&batch, qty_at)),
            )?;
            let rev = typed(
                table,
                "revenue",
                first,
                Numbers::new(column(&batch, rev_at)),
            )?;
            let cats = match cat_at {
                Some(c) => Some(typed(
                    table,
                    "category",
                    first,
                    Text::new(column(&batch, c)),
                )?),
                None => None,
            };
            let orders = match order_at {
                Some(c) => Some(typed(
                    table,
                    "order_id",
                    first,
                    Text::new(column(&batch, c)),
                )?),
                None => None,
            };
            let values = |i: usize| -> Result<_> {
                let row = offset + i + 1;
                let err = |col: &str, m: String| Error::data(table, Some(row), Some(col), m);
                let date = check_date(table, row, dates.get(i).map_err(|m| err("date", m))?)?;
                let number = |col: &str, nums: &Numbers<'_>, r: NumberRule| {
                    nums.get(i, r, false)
                        .map_err(|m| err(col, m))?
                        .ok_or_else(|| {
                            err(col, "expected a number, found an empty cell".to_owned())
                        })
                };
                Ok((
                    date,
                    number("quantity", &qty, qty_rule)?,
                    number("revenue", &rev, rule)?,
                ))
            };
            let ids = |column: usize, i: usize| match column {
                0 => ids.get(i),
                1 => cats.as_ref().and_then(|c| c.get(i)),
                _ => orders.as_ref().and_then(|c| c.get(i)),
            };
            b.push_batch(first, n, ids, values)?;
            offset += n;
        }
        Ok(b.finish())
    }
}

impl Partners {
    /// Read a partner table from Arrow record batches: `partner_id` (required), `segment`,
    /// `baseline_revenue`, `baseline_units` and their monthly columns (optional; null or NaN
    /// means unknown; see [`crate::monthly_baselines`]).
    pub fn from_arrow<I>(
        schema: &Schema,
        batches: I,
        table: &str,
        rule: NumberRule,
    ) -> Result<Partners>
    where
        I: IntoIterator<Item = std::result::Result<RecordBatch, ArrowError>>,
    {
        use crate::monthly_baselines::{column_names, month_columns, reconcile};
        let cols = Columns::new(schema, table)?;
        let id_at = cols.required("partner_id")?;
        let seg_at = cols.optional("segment");
        let rev_at = cols.optional("baseline_revenue");
        let units_at = cols.optional("baseline_units");
        let rev_months_at = month_columns(table, "baseline_revenue", |c| cols.optional(c))?;
        let units_months_at = month_columns(table, "baseline_units", |c| cols.optional(c))?;
        let (rev_names, units_names) = (
            column_names("baseline_revenue"),
            column_names("baseline_units"),
        );
        let mut p = Partners::new(table);
        let mut offset = 0usize;
        for batch in batches {
            let batch = next_batch(table, batch)?;
            let n = batch.num_rows();
            if n == 0 {
                continue;
            }
            let first = offset + 1;
            let ids = typed(table, "partner_id", first, Text::new(column(&batch, id_at)))?;
            let segs = match seg_at {
                Some(c) => Some(typed(
                    table,
                    "segment",
                    first,
                    Text::new(column(&batch, c)),
                )?),
                None => None,
            };
            let revs = match rev_at {
                Some(c) => Some(typed(
                    table,
                    "baseline_revenue",
                    first,
                    Numbers::new(column(&batch, c)),
                )?),
                None => None,
            };
            let units = match units_at {
                Some(c) => Some(typed(
                    table,
                    "baseline_units",
                    first,
                    Numbers::new(column(&batch, c)),
                )?),
                None => None,
            };
            let months = |at: Option<[usize; 12]>,
                          names: &[String; 12]|
             -> Result<Option<Vec<Numbers<'_>>>> {
                let Some(at) = at else { return Ok(None) };
                let mut v = Vec::with_capacity(12);
                for (j, &c) in at.iter().enumerate() {
                    v.push(typed(
                        table,
                        &names[j],
                        first,
                        Numbers::new(column(&batch, c)),
                    )?);
                }
                Ok(Some(v))
            };
            let rev_months = months(rev_months_at, &rev_names)?;
            let units_months = months(units_months_at, &units_names)?;
            for i in 0..n {
                let row = offset + i + 1;
                let err = |col: &str, m: String| Error::data(table, Some(row), Some(col), m);
                let number = |col: &str, nums: &Option<Numbers<'_>>, r: NumberRule| match nums {
                    Some(v) => v.get(i, r, true).map_err(|m| err(col, m)),
                    None => Ok(None),
                };
                let month_cells =
                    |nums: &Option<Vec<Numbers<'_>>>, names: &[String; 12], r: NumberRule| {
                        let mut cells = [None; 12];
                        if let Some(v) = nums {
                            for (j, n) in v.iter().enumerate() {
                                cells[j] = n.get(i, r, true).map_err(|m| err(&names[j], m))?;
                            }
                        }
                        Ok::<_, Error>(cells)
                    };
                let rev = number("baseline_revenue", &revs, rule)?;
                let u = number("baseline_units", &units, rule.quantity())?;
                let rev_cells = month_cells(&rev_months, &rev_names, rule)?;
                let (rev, rev_m) = reconcile(table, row, "baseline_revenue", rev, rev_cells)?;
                let units_cells = month_cells(&units_months, &units_names, rule.quantity())?;
                let (u, units_m) = reconcile(table, row, "baseline_units", u, units_cells)?;
                let id = ids.get(i).unwrap_or("");
                let seg = segs.as_ref().and_then(|s| s.get(i)).unwrap_or("");
                let at = p.push(id, seg, rev, u).map_err(|m| err("partner_id", m))?;
                p.set_months(at, rev_m, units_m);
            }
            offset += n;
        }
        Ok(p)
    }
}
