//! A settlement as Arrow record batches (the columnar form pandas, polars, DuckDB and pyarrow
//! share) and as a Parquet file, built straight from its columns: money as `decimal128(38,
//! dp)` (exact) or as `float64` (a view for charts and analysis), volumes and thresholds as
//! `decimal128` at the largest scale they hold, dates as `date32`.

use super::columns::{Sources, AMOUNTS, PAYABLE};
use super::lines::line_volumes;
use super::result::{Settlement, LINE_COLUMNS};
use super::settle::PartnerWork;
use super::text::{kind_name, reward_columns};
use crate::error::{Error, Result};
use crate::rules::PreparedRule;
use arrow_array::builder::{Date32Builder, Decimal128Builder, Float64Builder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// How money (and volumes) are written in a record batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyAs {
    /// `decimal128(38, scale)`: exact.
    Decimal,
    /// `float64`: the nearest double (for charts and analysis).
    Float,
}

/// Lines per record batch when a settlement is written or handed over in batches.
pub const LINES_PER_BATCH: usize = 65_536;

/// The money names of a line, in order.
const MONEY: [&str; AMOUNTS] = [
    "calculated",
    "adj_component_cap",
    "adj_exclusive_group",
    "adj_partner_cap",
    "adj_minimum_payout",
    "adj_budget_cut",
    "payable",
];

impl Settlement {
    /// The schema of [`Settlement::lines_batch`]: the columns of [`LINE_COLUMNS`] (without
    /// `explanation` unless asked).
    pub fn lines_schema(&self, money: MoneyAs, explanation: bool) -> SchemaRef {
        let (dp, vs, ts) = (self.decimals, self.volume_scale(), self.threshold_scale());
        let fields: Vec<Field> = LINE_COLUMNS
            .iter()
            .filter(|n| explanation || **n != "explanation")
            .map(|&n| {
                let (t, nullable) = match n {
                    "period" | "tier" => (DataType::Int64, false),
                    "period_start" | "period_end" | "payment_date" => (DataType::Date32, false),
                    "volume_period" | "volume_to_date" => (number_type(money, vs), false),
                    "tier_threshold" => (number_type(money, ts), true),
                    n if MONEY.contains(&n) => (number_type(money, dp), false),
                    _ => (DataType::Utf8, false),
                };
                Field::new(n, t, nullable)
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// The lines of the partners at `partners` (positions in [`Settlement::partners`]) as one
    /// record batch; with `explanation`, each line's explanation as a last column.
    pub fn lines_batch(
        &self,
        partners: Range<usize>,
        money: MoneyAs,
        explanation: bool,
    ) -> Result<RecordBatch> {
        let src = &self.sources;
        let rows = if partners.is_empty() {
            0..0
        } else {
            self.line_range[partners.start].0..self.line_range[partners.end - 1].1
        };
        let n = rows.len();
        let (dp, vs, ts) = (self.decimals, self.volume_scale(), self.threshold_scale());
        let mut text: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::new()).collect();
        let mut period = Vec::with_capacity(n);
        let mut tier = Vec::with_capacity(n);
        let mut dates: Vec<Date32Builder> =
            (0..3).map(|_| Date32Builder::with_capacity(n)).collect();
        let mut volumes = [Numbers::new(money, vs, n), Numbers::new(money, vs, n)];
        let mut threshold = Numbers::new(money, ts, n);
        let mut amounts: Vec<Numbers> = (0..AMOUNTS).map(|_| Numbers::new(money, dp, n)).collect();
        let mut explanations = StringBuilder::new();
        let cal = &src.programme.calendar;
        let labels: Vec<String> = (0..src.prep.periods as u32).map(|k| cal.label(k)).collect();
        let ctx = src.ctx();
        let mut scratch = src.prep.scratch();
        let mut work: Option<(usize, PartnerWork)> = None;
        for i in rows {
            let wi = self.lines.partner[i] as usize;
            let (c, k) = (
                self.lines.component[i] as usize,
                self.lines.period[i] as usize,
            );
            let pt = &self.partners[wi];
            let pc = &src.prep.components[c];
            let t = self.lines.tier[i];
            let (basis, tier_threshold, reward) = reward_columns(&pc.rule, t, dp);
            let a = self.lines.amounts.get(i);
            let (vp, vt) = line_volumes(src, src.measures_of(wi), c, k);
            text[0].append_value(&pt.partner_id);
            text[1].append_value(&pt.segment);
            text[2].append_value(&pc.id);
            text[3].append_value(kind_name(&pc.rule));
            text[4].append_value(&labels[k]);
            text[5].append_value(basis);
            text[6].append_value(&reward);
            period.push(k as i64 + 1);
            tier.push(i64::from(t));
            dates[0].append_value(days(cal.period_start(k as u32)));
            dates[1].append_value(days(cal.period_end(k as u32)));
            dates[2].append_value(days(src.programme.payment_date(k as u32)));
            volumes[0].push(Some(vp), "volume_period")?;
            volumes[1].push(Some(vt), "volume_to_date")?;
            threshold.push(tier_threshold, "tier_threshold")?;
            for (j, b) in amounts.iter_mut().enumerate() {
                b.push(Some(a[j]), MONEY[j])?;
            }
            if explanation {
                if work.as_ref().is_none_or(|(p, _)| *p != wi) {
                    work = Some((wi, src.work(wi, &pt.partner_id, &mut scratch)?));
                }
                let w = &work.as_ref().expect("partner's work").1;
                let adj = [a[1], a[2], a[3], a[4], a[5]];
                explanations.append_value(ctx.explanation(w, c, k, a[0], adj, a[PAYABLE]));
            }
        }
        let mut text = text
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef);
        let mut dates = dates
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef);
        let next = |it: &mut dyn Iterator<Item = ArrayRef>| it.next().expect("a column");
        let [vp, vt] = volumes;
        let mut columns: Vec<ArrayRef> = vec![
            next(&mut text),                    // partner_id
            next(&mut text),                    // segment
            next(&mut text),                    // component
            next(&mut text),                    // kind
            Arc::new(Int64Array::from(period)), // period
            next(&mut text),                    // period_label
            next(&mut dates),                   // period_start
            next(&mut dates),                   // period_end
            next(&mut text),                    // basis
            vp.finish()?,                       // volume_period
            vt.finish()?,                       // volume_to_date
            Arc::new(Int64Array::from(tier)),   // tier
            threshold.finish()?,                // tier_threshold
            next(&mut text),                    // reward
        ];
        for b in amounts {
            columns.push(b.finish()?);
        }
        columns.push(next(&mut dates)); // payment_date
        if explanation {
            columns.push(Arc::new(explanations.finish()));
        }
        RecordBatch::try_new(self.lines_schema(money, explanation), columns)
            .map_err(|e| Error::Request(format!("cannot build the lines' record batch: {e}")))
    }

    /// The lines in record batches of about `LINES_PER_BATCH` (65,536) lines (whole partners).
    pub fn lines_batches(&self, money: MoneyAs, explanation: bool) -> Result<Vec<RecordBatch>> {
        self.partner_chunks()
            .map(|r| self.lines_batch(r, money, explanation))
            .collect()
    }

    /// Ranges of partners holding about [`LINES_PER_BATCH`] lines each.
    pub(super) fn partner_chunks(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        let n = self.partners.len();
        let mut start = 0;
        std::iter::from_fn(move || {
            if start >= n {
                return None;
            }
            let first_line = self.line_range[start].0;
            let mut end = start + 1;
            while end < n && self.line_range[end].1 - first_line <= LINES_PER_BATCH {
                end += 1;
            }
            let r = start..end;
            start = end;
            Some(r)
        })
    }

    /// Totals per partner as a record batch: `partner_id`, `segment`, `calculated`, the
    /// adjustments, `payable`.
    pub fn partners_batch(&self, money: MoneyAs) -> Result<RecordBatch> {
        let dp = self.decimals;
        let n = self.partners.len();
        let mut ids = StringBuilder::new();
        let mut segments = StringBuilder::new();
        let mut amounts: Vec<Numbers> = (0..AMOUNTS).map(|_| Numbers::new(money, dp, n)).collect();
        for p in &self.partners {
            ids.append_value(&p.partner_id);
            segments.append_value(&p.segment);
            for (j, v) in p.totals.amounts().into_iter().enumerate() {
                amounts[j].push(Some(v), MONEY[j])?;
            }
        }
        let mut fields = vec![
            Field::new("partner_id", DataType::Utf8, false),
            Field::new("segment", DataType::Utf8, false),
        ];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(ids.finish()), Arc::new(segments.finish())];
        for (j, b) in amounts.into_iter().enumerate() {
            fields.push(Field::new(MONEY[j], number_type(money, dp), false));
            columns.push(b.finish()?);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| Error::Request(format!("cannot build the partners' record batch: {e}")))
    }

    /// The standings as a record batch (`next_tier`, `next_threshold`, `shortfall`,
    /// `additional_payout` null where there is no higher tier).
    pub fn standings_batch(&self, money: MoneyAs) -> Result<RecordBatch> {
        let dp = self.decimals;
        let st = &self.standing;
        let n = st.len();
        let scale = st
            .iter()
            .flat_map(|s| [Some(s.volume), s.next_threshold, s.shortfall])
            .flatten()
            .map(|v| v.scale())
            .max()
            .unwrap_or(0);
        let mut text: Vec<StringBuilder> = (0..3).map(|_| StringBuilder::new()).collect();
        let mut numbers: Vec<Numbers> = (0..3).map(|_| Numbers::new(money, scale, n)).collect();
        let mut additional = Numbers::new(money, dp, n);
        for s in st {
            text[0].append_value(&s.partner_id);
            text[1].append_value(&s.component);
            text[2].append_value(&s.period_label);
            numbers[0].push(Some(s.volume), "volume")?;
            numbers[1].push(s.next_threshold, "next_threshold")?;
            numbers[2].push(s.shortfall, "shortfall")?;
            additional.push(s.additional_payout, "additional_payout")?;
        }
        let mut text = text
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef);
        let mut numbers = numbers.into_iter();
        let mut num = || numbers.next().expect("a column").finish();
        let number = number_type(money, scale);
        let fields = vec![
            Field::new("partner_id", DataType::Utf8, false),
            Field::new("component", DataType::Utf8, false),
            Field::new("period", DataType::Int64, false),
            Field::new("period_label", DataType::Utf8, false),
            Field::new("tier", DataType::Int64, false),
            Field::new("volume", number.clone(), false),
            Field::new("next_tier", DataType::Int64, true),
            Field::new("next_threshold", number.clone(), true),
            Field::new("shortfall", number, true),
            Field::new("additional_payout", number_type(money, dp), true),
        ];
        let columns: Vec<ArrayRef> = vec![
            text.next().expect("partner_id"),
            text.next().expect("component"),
            Arc::new(Int64Array::from_iter_values(
                st.iter().map(|s| i64::from(s.period)),
            )),
            text.next().expect("period_label"),
            Arc::new(Int64Array::from_iter_values(
                st.iter().map(|s| i64::from(s.tier)),
            )),
            num()?,
            Arc::new(Int64Array::from_iter(
                st.iter().map(|s| s.next_tier.map(i64::from)),
            )),
            num()?,
            num()?,
            additional.finish()?,
        ];
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| Error::Request(format!("cannot build the standings' record batch: {e}")))
    }

    /// Write the lines (exact amounts, without explanations unless asked) as a Parquet file
    /// at `path`, a batch of about `LINES_PER_BATCH` (65,536) lines at a time, atomically (a
    /// temporary sibling renamed into place; on an error nothing is left at `path`).
    pub fn write_lines_parquet(&self, path: impl AsRef<Path>, explanation: bool) -> Result<()> {
        use parquet::arrow::ArrowWriter;
        use parquet::basic::{Compression, ZstdLevel};
        use parquet::file::properties::WriterProperties;
        let path = path.as_ref();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(1).expect("zstd level 1"),
            ))
            .build();
        let schema = self.lines_schema(MoneyAs::Decimal, explanation);
        super::csv::write_atomic(path, |out| {
            let err = |e: parquet::errors::ParquetError| Error::io(path, e);
            let mut w = ArrowWriter::try_new(out, schema, Some(props)).map_err(err)?;
            for r in self.partner_chunks() {
                w.write(&self.lines_batch(r, MoneyAs::Decimal, explanation)?)
                    .map_err(err)?;
            }
            w.close().map_err(err)?;
            Ok(())
        })
    }

    /// The largest scale of the partners' measures (the volumes are their sums).
    fn volume_scale(&self) -> u32 {
        self.sources
            .measures
            .iter()
            .map(|v| v.scale())
            .max()
            .unwrap_or(0)
    }

    /// The largest scale of the programme's tier thresholds (growth: as fractions).
    fn threshold_scale(&self) -> u32 {
        threshold_scale(&self.sources)
    }
}

fn threshold_scale(src: &Sources) -> u32 {
    let dp = src.prep.decimals;
    src.prep
        .components
        .iter()
        .flat_map(|pc| {
            let tiers = match &pc.rule {
                PreparedRule::Ladder { tiers, .. } | PreparedRule::Growth { tiers, .. } => {
                    tiers.len()
                }
                _ => 0,
            };
            (1..=tiers as u32).filter_map(move |t| reward_columns(&pc.rule, t, dp).1)
        })
        .map(|v| v.scale())
        .max()
        .unwrap_or(0)
}

/// The Arrow type of a number column at `scale`.
fn number_type(money: MoneyAs, scale: u32) -> DataType {
    match money {
        MoneyAs::Decimal => DataType::Decimal128(38, scale as i8),
        MoneyAs::Float => DataType::Float64,
    }
}

/// Days since 1970-01-01 (Arrow's `date32`).
fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch")).num_days() as i32
}

/// A number column being built: exact at a fixed scale, or as doubles.
enum Numbers {
    Decimal(Decimal128Builder, u32),
    Float(Float64Builder),
}

impl Numbers {
    fn new(money: MoneyAs, scale: u32, n: usize) -> Numbers {
        match money {
            MoneyAs::Decimal => Numbers::Decimal(Decimal128Builder::with_capacity(n), scale),
            MoneyAs::Float => Numbers::Float(Float64Builder::with_capacity(n)),
        }
    }

    /// Append `v` (null for `None`); `column` names it in the error of a value that does not
    /// fit the column's scale in 38 digits.
    fn push(&mut self, v: Option<Decimal>, column: &str) -> Result<()> {
        match (self, v) {
            (Numbers::Decimal(b, _), None) => b.append_null(),
            (Numbers::Float(b), None) => b.append_null(),
            (Numbers::Decimal(b, scale), Some(v)) => {
                let m = mantissa_at(v, *scale).ok_or_else(|| {
                    Error::Request(format!(
                        "column '{column}': {v} does not fit 38 digits with {scale} decimal places"
                    ))
                })?;
                b.append_value(m);
            }
            (Numbers::Float(b), Some(v)) => b.append_value(to_f64(v)),
        }
        Ok(())
    }

    fn finish(self) -> Result<ArrayRef> {
        Ok(match self {
            Numbers::Decimal(mut b, scale) => Arc::new(
                b.finish()
                    .with_precision_and_scale(38, scale as i8)
                    .map_err(|e| Error::Request(format!("decimal column: {e}")))?,
            ),
            Numbers::Float(mut b) => Arc::new(b.finish()),
        })
    }
}

/// `v`'s digits at `scale` (`v × 10^scale`), if exact and within 38 digits.
pub(super) fn mantissa_at(v: Decimal, scale: u32) -> Option<i128> {
    let s = v.scale();
    if s > scale {
        return None;
    }
    let m = v.mantissa().checked_mul(10i128.checked_pow(scale - s)?)?;
    (m.unsigned_abs() < 10u128.pow(38)).then_some(m)
}

/// The double nearest to `v` (one correctly rounded division when the digits and the power
/// of ten are exact doubles, else through its text, as Python's `float(str)`).
pub(super) fn to_f64(v: Decimal) -> f64 {
    let (m, s) = (v.mantissa(), v.scale());
    if m.unsigned_abs() < (1u128 << 53) && s <= 22 {
        let r = m as f64 / 10f64.powi(s as i32);
        return if v.is_zero() { 0.0 } else { r };
    }
    v.to_string()
        .parse::<f64>()
        .unwrap_or_else(|_| v.to_f64().unwrap_or(f64::NAN))
}
