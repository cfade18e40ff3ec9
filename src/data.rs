//! Partner and transaction tables, read from CSV with exact decimal amounts (Arrow record
//! batches and Parquet files: [`crate::tables`], into the same columns).
//!
//! Every problem is an [`Error::Data`] naming the table, the 1-based data row (the header is
//! row 0) and the column: a missing column, text in a number, NaN, infinite or empty values in
//! a required number, a number of magnitude 10^15 or more or with more than 6 decimal places
//! ([`crate::money::check_bounds`]: this bound keeps every exact calculation inside `Decimal`'s
//! range), a bad date, a duplicate partner id. Checks that need the programme (an
//! unknown partner, a date outside the programme, an undeclared segment or category, a
//! missing category column) are made by [`Transactions::resolve`] and
//! [`Partners::check_segments`], which settlement calls.
//!
//! ```
//! use rebatesim::data::{Partners, Transactions};
//! let p = Partners::from_csv_str("partner_id,segment\nP1,retail\n", "partners").unwrap();
//! let t = Transactions::from_csv_str("partner_id,date,quantity,revenue\nP1,2027-01-05,3,120.50\n", "transactions").unwrap();
//! assert_eq!(p.len(), 1);
//! assert_eq!(t.len(), 1);
//! let bad = Transactions::from_csv_str("partner_id,date,quantity,revenue\nP1,2027-01-05,three,1\n", "transactions");
//! assert_eq!(bad.unwrap_err().to_string(),
//!     "invalid data: transactions, row 1, column 'quantity': expected a number, found \"three\"");
//! ```

use crate::error::{Error, Result};
use crate::money;
use crate::programme::Compiled;
use crate::tables::build::{TxBuilder, TxRow};
pub use crate::tables::intern::Keys;
use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

/// The partner table: one row per partner.
#[derive(Debug, Clone, Default)]
pub struct Partners {
    /// Table name used in error messages.
    pub table: String,
    /// Partner ids, in table order (unique).
    pub ids: Vec<String>,
    /// Segment of each partner (empty when the table has no `segment` column).
    pub segments: Vec<String>,
    /// Annual prior-year revenue, where known.
    pub baseline_revenue: Vec<Option<Decimal>>,
    /// Annual prior-year units, where known.
    pub baseline_units: Vec<Option<Decimal>>,
    /// Prior-year revenue per programme month, where given (see [`crate::monthly_baselines`];
    /// boxed: a pointer for a partner without them).
    pub baseline_revenue_months: Vec<Option<Box<[Decimal; 12]>>>,
    /// Prior-year units per programme month, where given.
    pub baseline_units_months: Vec<Option<Box<[Decimal; 12]>>>,
    index: HashMap<String, usize>,
}

/// The transaction table: one row per purchase line (returns are negative lines). Partner ids,
/// categories and order ids are interned; rows keep table order, so row `i` is data row `i + 1`.
#[derive(Debug, Clone, Default)]
pub struct Transactions {
    /// Table name used in error messages.
    pub table: String,
    /// Distinct partner ids, in order of first appearance.
    pub partner_keys: Vec<String>,
    /// Per row: index into `partner_keys`.
    pub partner_key: Vec<u32>,
    /// Per row: date.
    pub date: Vec<NaiveDate>,
    /// Per row: quantity (units; negative for returns).
    pub quantity: Vec<Decimal>,
    /// Per row: revenue (negative for returns).
    pub revenue: Vec<Decimal>,
    /// Distinct categories, in order of first appearance.
    pub category_keys: Vec<String>,
    /// Per row: index into `category_keys` (`None` for an empty cell); `None` when the table
    /// has no `category` column.
    pub category: Option<Vec<Option<u32>>>,
    /// Distinct order ids, in order of first appearance (held end to end in one buffer:
    /// millions of them cost no allocation each).
    pub order_keys: Keys,
    /// Per row: index into `order_keys` (`None` for an empty cell); `None` when the table has
    /// no `order_id` column.
    pub order: Option<Vec<Option<u32>>>,
}

/// Rows resolved together on one thread of the pool by [`Transactions::resolve`].
const RESOLVE_CHUNK: usize = 1 << 16;

/// A programme's period of every day it spans, looked up by day instead of computed from the
/// calendar for every row (the calendar answers for days outside the table, and for a
/// programme spanning more than [`PeriodOfDay::MAX_DAYS`]).
struct PeriodOfDay<'a> {
    calendar: &'a crate::calendar::Calendar,
    first_day: i32,
    period: Vec<Option<u32>>,
}

impl<'a> PeriodOfDay<'a> {
    const MAX_DAYS: i64 = 50_000;

    fn new(programme: &'a Compiled) -> PeriodOfDay<'a> {
        use chrono::Datelike;
        let cal = &programme.calendar;
        let span = (cal.end() - cal.start).num_days();
        let period = if (0..Self::MAX_DAYS).contains(&span) {
            cal.start
                .iter_days()
                .take(span as usize + 1)
                .map(|d| cal.period_of(d))
                .collect()
        } else {
            Vec::new()
        };
        PeriodOfDay {
            calendar: cal,
            first_day: cal.start.num_days_from_ce(),
            period,
        }
    }

    fn period_of(&self, date: NaiveDate) -> Option<u32> {
        use chrono::Datelike;
        let d = date.num_days_from_ce() - self.first_day;
        match usize::try_from(d).ok().and_then(|d| self.period.get(d)) {
            Some(&k) => k,
            None => self.calendar.period_of(date),
        }
    }
}

/// Transactions matched to partners and periods by [`Transactions::resolve`].
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Per row: index of the partner in the partner table.
    pub partner: Vec<usize>,
    /// Per row: 0-based programme period.
    pub period: Vec<u32>,
}

/// A CSV table being read: header names (trimmed, lower case) and the record reader; records
/// are read one at a time into a reused buffer ([`Table::next`]), never kept.
struct Table<R: Read> {
    name: String,
    columns: HashMap<String, usize>,
    reader: csv::Reader<R>,
    record: csv::StringRecord,
    row: usize,
}

impl<R: Read> Table<R> {
    fn read(reader: R, name: &str) -> Result<Table<R>> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| Error::data(name, None, None, format!("cannot read the header: {e}")))?
            .clone();
        let mut columns = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
            if h.is_empty() {
                continue;
            }
            if columns.insert(h.clone(), i).is_some() {
                return Err(Error::data(
                    name,
                    None,
                    Some(&h),
                    "the column appears twice in the header",
                ));
            }
        }
        Ok(Table {
            name: name.to_owned(),
            columns,
            reader: rdr,
            record: csv::StringRecord::new(),
            row: 0,
        })
    }

    /// The next record (in [`Table::record`]) and its data row number; `None` at the end.
    fn next(&mut self) -> Result<Option<usize>> {
        let row = self.row + 1;
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {
                self.row = row;
                Ok(Some(row))
            }
            Ok(false) => Ok(None),
            Err(e) => {
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("expected {expected_len} fields like the header, found {len}")
                    }
                    csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".to_owned(),
                    _ => e.to_string(),
                };
                Err(Error::data(&self.name, Some(row), None, msg))
            }
        }
    }

    /// Field `c` of the current record.
    fn get(&self, c: usize) -> &str {
        self.record.get(c).unwrap_or("")
    }

    fn required(&self, column: &str) -> Result<usize> {
        self.columns.get(column).copied().ok_or_else(|| {
            let mut have: Vec<&String> = self.columns.keys().collect();
            have.sort();
            Error::data(
                &self.name,
                None,
                Some(column),
                format!(
                    "missing column (the table has: {})",
                    have.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    }

    fn optional(&self, column: &str) -> Option<usize> {
        self.columns.get(column).copied()
    }

    fn err(&self, row: usize, column: &str, msg: impl Into<String>) -> Error {
        Error::data(&self.name, Some(row), Some(column), msg)
    }

    /// A number; `None` for an empty cell.
    fn number(&self, row: usize, column: &str, text: &str) -> Result<Option<Decimal>> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let lower = t.to_ascii_lowercase();
        let bare = lower.trim_start_matches(['+', '-']);
        if bare == "nan" || bare == "inf" || bare == "infinity" {
            return Err(self.err(row, column, format!("expected a finite number, found {t}")));
        }
        parse_bounded(t)
            .map(Some)
            .map_err(|m| self.err(row, column, m))
    }

    fn required_number(&self, row: usize, column: &str, text: &str) -> Result<Decimal> {
        self.number(row, column, text)?
            .ok_or_else(|| self.err(row, column, "expected a number, found an empty cell"))
    }
}

/// A number of a table cell: plain or scientific notation, smaller than 10^15 in magnitude,
/// with at most [`money::MAX_TABLE_DECIMALS`] decimal places (see [`money::check_bounds`]).
/// `Err` is the message (what was expected, what was found).
pub(crate) fn parse_bounded(t: &str) -> std::result::Result<Decimal, String> {
    let v = match Decimal::from_str(t).or_else(|_| Decimal::from_scientific(t)) {
        Ok(v) => v,
        Err(_) => {
            // a number, but outside what Decimal holds (e.g. 1e30, or 30 digits)
            return Err(match t.parse::<f64>() {
                Ok(f) if f.is_finite() => format!(
                    "expected a number smaller than 10^15 in magnitude with at most {} decimal places, found {t}",
                    money::MAX_TABLE_DECIMALS
                ),
                _ => format!("expected a number, found \"{t}\""),
            });
        }
    };
    // decimal places as written (Decimal::from_str rounds digits beyond its 28 places away)
    if !t.contains(['e', 'E']) {
        if let Some((_, frac)) = t.split_once('.') {
            let places = frac.trim_end_matches('0').len() as u32;
            if places > money::MAX_TABLE_DECIMALS {
                return Err(format!(
                    "expected at most {} decimal places, found {t} ({places} places): round it, e.g. to the currency's minor unit",
                    money::MAX_TABLE_DECIMALS
                ));
            }
        }
    }
    money::check_bounds(v, Some(money::MAX_TABLE_DECIMALS))?;
    Ok(v)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Parse a date written `YYYY-MM-DD` (a time of day after it, as pandas writes datetimes, is
/// ignored).
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let day = match t.len() {
        10 => t,
        n if n > 10 && t.is_char_boundary(10) && matches!(t.as_bytes()[10], b' ' | b'T') => {
            &t[..10]
        }
        _ => return None,
    };
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

impl Partners {
    /// Read a partner table from a CSV file; errors name the file.
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Partners> {
        let path = path.as_ref();
        let f = crate::limits::open_regular(path, "a partner table (CSV file)")?;
        Partners::from_csv_reader(std::io::BufReader::new(f), &file_name(path))
    }

    /// Read a partner table from CSV text (e.g. a DataFrame written with `to_csv`).
    pub fn from_csv_str(text: &str, table: &str) -> Result<Partners> {
        Partners::from_csv_reader(text.as_bytes(), table)
    }

    /// Read a partner table from a CSV reader. Columns: `partner_id` (required), `segment`,
    /// `baseline_revenue`, `baseline_units` and their monthly columns `baseline_revenue_m01`
    /// … `_m12`, `baseline_units_m01` … `_m12` (optional, see [`crate::monthly_baselines`]);
    /// other columns are ignored.
    pub fn from_csv_reader<R: Read>(reader: R, table: &str) -> Result<Partners> {
        use crate::monthly_baselines::{column_name, month_columns, reconcile};
        let mut t = Table::read(reader, table)?;
        let id_col = t.required("partner_id")?;
        let seg_col = t.optional("segment");
        let bases = ["baseline_revenue", "baseline_units"].map(|name| {
            let months = month_columns(table, name, |c| t.optional(c));
            (name, t.optional(name), months)
        });
        let mut cols = Vec::with_capacity(2);
        for (name, annual, months) in bases {
            cols.push((name, annual, months?));
        }
        let mut p = Partners {
            table: table.to_owned(),
            ..Default::default()
        };
        while let Some(row) = t.next()? {
            let mut values = [(None, None), (None, None)];
            for (b, &(name, annual, months)) in cols.iter().enumerate() {
                let given = match annual {
                    Some(c) => t.number(row, name, t.get(c))?,
                    None => None,
                };
                values[b] = match months {
                    Some(mc) => {
                        let mut cells = [None; 12];
                        for (j, &c) in mc.iter().enumerate() {
                            cells[j] = t.number(row, &column_name(name, j + 1), t.get(c))?;
                        }
                        reconcile(table, row, name, given, cells)?
                    }
                    None => (given, None),
                };
            }
            let [(rev, rev_m), (units, units_m)] = values;
            let id = t.get(id_col).trim();
            let segment = seg_col.map(|c| t.get(c)).unwrap_or("").trim();
            let i = p
                .push(id, segment, rev, units)
                .map_err(|m| t.err(row, "partner_id", m))?;
            p.set_months(i, rev_m, units_m);
        }
        Ok(p)
    }

    /// An empty partner table named `table` (in error messages).
    pub fn new(table: &str) -> Partners {
        Partners {
            table: table.to_owned(),
            ..Default::default()
        }
    }

    /// Add a partner; `Err(message)` for an empty or duplicate id.
    pub fn push(
        &mut self,
        id: &str,
        segment: &str,
        baseline_revenue: Option<Decimal>,
        baseline_units: Option<Decimal>,
    ) -> std::result::Result<usize, String> {
        if id.is_empty() {
            return Err("expected a partner id, found an empty cell".to_owned());
        }
        let n = self.ids.len();
        if let Some(first) = self.index.insert(id.to_owned(), n) {
            self.index.insert(id.to_owned(), first);
            return Err(format!(
                "partner id '{id}' appears twice (first in row {})",
                first + 1
            ));
        }
        self.ids.push(id.to_owned());
        self.segments.push(segment.to_owned());
        self.baseline_revenue.push(baseline_revenue);
        self.baseline_units.push(baseline_units);
        self.baseline_revenue_months.push(None);
        self.baseline_units_months.push(None);
        Ok(n)
    }

    /// Set partner `i`'s monthly baselines (revenue, units), checked by the caller with
    /// [`crate::monthly_baselines::reconcile`] against its annual baselines.
    pub fn set_months(
        &mut self,
        i: usize,
        revenue: Option<[Decimal; 12]>,
        units: Option<[Decimal; 12]>,
    ) {
        self.baseline_revenue_months[i] = revenue.map(Box::new);
        self.baseline_units_months[i] = units.map(Box::new);
    }

    /// Partner `i`'s baselines as the rules take them.
    pub fn baseline(&self, i: usize) -> crate::rules::Baseline<Decimal> {
        crate::rules::Baseline {
            revenue: self.baseline_revenue[i],
            units: self.baseline_units[i],
            revenue_months: self.baseline_revenue_months[i].clone(),
            units_months: self.baseline_units_months[i].clone(),
        }
    }

    /// Number of partners.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the table has no partner.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Index of a partner id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Check every partner's segment against the programme's declared segments (when it
    /// declares any).
    pub fn check_segments(&self, programme: &Compiled) -> Result<()> {
        if programme.segments.is_empty() {
            return Ok(());
        }
        for (i, s) in self.segments.iter().enumerate() {
            if !programme.segments.iter().any(|d| d == s) {
                return Err(Error::data(
                    &self.table,
                    Some(i + 1),
                    Some("segment"),
                    format!(
                        "segment '{s}' is not declared in the programme (expected one of: {})",
                        programme.segments.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Transactions {
    /// Read transactions from a CSV file; errors name the file.
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Transactions> {
        let path = path.as_ref();
        let f = crate::limits::open_regular(path, "a transaction table (CSV file)")?;
        Transactions::from_csv_reader(std::io::BufReader::new(f), &file_name(path))
    }

    /// Read transactions from CSV text (e.g. a DataFrame written with `to_csv`).
    pub fn from_csv_str(text: &str, table: &str) -> Result<Transactions> {
        Transactions::from_csv_reader(text.as_bytes(), table)
    }

    /// Read transactions from a CSV reader. Columns: `partner_id`, `date` (YYYY-MM-DD),
    /// `quantity`, `revenue` (required), `category`, `order_id` (optional); other columns are
    /// ignored.
    pub fn from_csv_reader<R: Read>(reader: R, table: &str) -> Result<Transactions> {
        let mut t = Table::read(reader, table)?;
        let id_col = t.required("partner_id")?;
        let date_col = t.required("date")?;
        let qty_col = t.required("quantity")?;
        let rev_col = t.required("revenue")?;
        let cat_col = t.optional("category");
        let order_col = t.optional("order_id");
        let mut b = TxBuilder::new(table, cat_col.is_some(), order_col.is_some());
        while let Some(row) = t.next()? {
            let id = b.id(row, Some(t.get(id_col)))?;
            let d = t.get(date_col);
            let date = match parse_date(d) {
                Some(date) => Some(date),
                None if d.is_empty() => None,
                None => {
                    return Err(t.err(
                        row,
                        "date",
                        format!("expected a date written YYYY-MM-DD, found \"{d}\""),
                    ))
                }
            };
            let date = b.date(row, date)?;
            let quantity = t.required_number(row, "quantity", t.get(qty_col))?;
            let revenue = t.required_number(row, "revenue", t.get(rev_col))?;
            b.push(TxRow {
                partner_id: id,
                date,
                quantity,
                revenue,
                category: cat_col.map(|c| t.get(c)),
                order_id: order_col.map(|c| t.get(c)),
            });
        }
        Ok(b.finish())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.date.len()
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.date.is_empty()
    }

    /// Category of row `i`, if any.
    pub fn category_of(&self, i: usize) -> Option<&str> {
        self.category.as_ref()?[i].map(|k| self.category_keys[k as usize].as_str())
    }

    /// Match every row to its partner and programme period, checking that the partner is in
    /// the partner table, the date within the programme, the category declared (when the
    /// programme declares categories) and the category column present when the programme
    /// needs it. Errors name the row and column.
    pub fn resolve(&self, partners: &Partners, programme: &Compiled) -> Result<Resolved> {
        if programme.needs_categories() && self.category.is_none() {
            return Err(Error::data(
                &self.table,
                None,
                Some("category"),
                "missing column: the programme has components limited to categories (or bundles), so every transaction needs a category",
            ));
        }
        let key_partner: Vec<Option<usize>> = self
            .partner_keys
            .iter()
            .map(|k| partners.index_of(k))
            .collect();
        let key_declared: Vec<bool> = self
            .category_keys
            .iter()
            .map(|c| programme.categories.is_empty() || programme.categories.iter().any(|d| d == c))
            .collect();
        let cal = &programme.calendar;
        let (start, end) = (cal.start, cal.end());
        let days = PeriodOfDay::new(programme);
        let n = self.len();
        let mut partner = vec![0usize; n];
        let mut period = vec![0u32; n];
        // rows in chunks on the thread pool; the first error in row order is reported
        let checked: Vec<Result<()>> = partner
            .par_chunks_mut(RESOLVE_CHUNK)
            .zip(period.par_chunks_mut(RESOLVE_CHUNK))
            .enumerate()
            .map(|(b, (partner, period))| -> Result<()> {
                for j in 0..partner.len() {
                    let i = b * RESOLVE_CHUNK + j;
                    let row = i + 1;
                    let key = self.partner_key[i] as usize;
                    let p = key_partner[key].ok_or_else(|| {
                        Error::data(
                            &self.table,
                            Some(row),
                            Some("partner_id"),
                            format!(
                                "unknown partner '{}' (not in {})",
                                self.partner_keys[key], partners.table
                            ),
                        )
                    })?;
                    let date = self.date[i];
                    let k = days.period_of(date).ok_or_else(|| {
                        Error::data(
                            &self.table,
                            Some(row),
                            Some("date"),
                            format!("date {date} is outside the programme ({start} to {end})"),
                        )
                    })?;
                    if let Some(Some(c)) = self.category.as_ref().map(|v| v[i]) {
                        if !key_declared[c as usize] {
                            return Err(Error::data(
                                &self.table,
                                Some(row),
                                Some("category"),
                                format!(
                                    "category '{}' is not declared in the programme (expected one of: {})",
                                    self.category_keys[c as usize],
                                    programme.categories.join(", ")
                                ),
                            ));
                        }
                    }
                    partner[j] = p;
                    period[j] = k;
                }
                Ok(())
            })
            .collect();
        checked.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(Resolved { partner, period })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn reads_tables() {
        let p = Partners::from_csv_str(
            "partner_id,segment,baseline_revenue,baseline_units,name\nA,retail,1200.50,,Alpha\nB,trade,,30,Beta\n",
            "partners",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.index_of("B"), Some(1));
        assert_eq!(
            p.baseline_revenue[0],
            Some(Decimal::from_str("1200.50").unwrap())
        );
        assert_eq!(p.baseline_units[0], None);
        let t = Transactions::from_csv_str(
            "partner_id,date,quantity,revenue,category,order_id\nA,2027-01-05,3,120.5,x,O1\nA,2027-02-05 00:00:00,-1,-40,,\n",
            "tx",
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.category_of(0), Some("x"));
        assert_eq!(t.category_of(1), None);
        assert_eq!(t.revenue[1], Decimal::from(-40));
    }

    #[test]
    fn bad_rows_are_located() {
        let h = "partner_id,date,quantity,revenue\n";
        let cases = [
            (
                "A,2027-01-05,1,NaN\n",
                "tx, row 1, column 'revenue': expected a finite number, found NaN",
            ),
            (
                "A,2027-01-05,1,inf\n",
                "tx, row 1, column 'revenue': expected a finite number, found inf",
            ),
            (
                "A,2027-01-05,,1\n",
                "tx, row 1, column 'quantity': expected a number, found an empty cell",
            ),
            (
                "A,2027-01-05,1,1\nA,05/01/2027,1,1\n",
                "tx, row 2, column 'date': expected a date written YYYY-MM-DD, found \"05/01/2027\"",
            ),
        ];
        for (body, want) in cases {
            let e = Transactions::from_csv_str(&format!("{h}{body}"), "tx").unwrap_err();
            assert_eq!(msg(e), format!("invalid data: {want}"));
        }
        let e = Transactions::from_csv_str("partner_id,date,revenue\n", "tx").unwrap_err();
        assert!(msg(e).starts_with("invalid data: tx, column 'quantity': missing column"));
        let e = Partners::from_csv_str("partner_id\nA\nB\nA\n", "p").unwrap_err();
        assert_eq!(
            msg(e),
            "invalid data: p, row 3, column 'partner_id': partner id 'A' appears twice (first in row 1)"
        );
    }
}
