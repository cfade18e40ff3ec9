//! A simulation result (and a comparison) as Arrow record batches, built in the core from
//! the list of outcomes ([`OUTCOMES`]) so that the Python binding and a Rust user get the
//! same tables. Nothing here names an outcome; a new entry of [`OUTCOMES`] appears in the
//! tables by itself.
//!
//! The tables and their shapes:
//! - **scenarios** ([`SimResult::scenarios_batch`]): one row per scenario, one column per
//!   outcome whose rows are scenarios, in [`OUTCOMES`] order: `float64`, `uint32` or
//!   `boolean` for a [`Shape::Scenario`](super::Shape::Scenario) outcome, a `fixed_size_list` of them for a matrix
//!   (scenarios × segments, components, tiers, months, cash months: the row's values in
//!   [`Shape::dims`](super::Shape::dims) column order). No nulls: an undefined value is NaN, as in the result.
//! - **partners** ([`SimResult::partners_batch`]): one row per partner (population order),
//!   `partner_id` then the per-partner outcomes ([`Shape::Partner`](super::Shape::Partner) as a plain column,
//!   [`Shape::PartnerByTier`](super::Shape::PartnerByTier) as a `fixed_size_list`).
//! - **summaries** ([`SimResult::summaries_batch`], [`summary_schema`]): one row per
//!   (outcome, statistic) of the summarised outcomes, in [`SimResult::outcome_summaries`]
//!   order: `outcome`, `statistic`, `value`, `se`. A distribution gives `n` (the count in
//!   `value`, `se` null), `mean`, `sd`, `p5`, `p50`, `p90`, `p95`, `p99` and `p_exceed`
//!   (`value` and `se` null when there is no threshold); a probability gives one row whose
//!   `statistic` is null. An undefined estimate is NaN (not null).
//! - **meta** ([`SimResult::meta_batch`]): the run's metadata as a one-row table (the rule
//!   for every result's metadata): programme, currency, seed, scenarios, precision_met
//!   (null without a precision target), budget (null without one), segments, components
//!   (lists of strings), ladders (list of {component, tiers}), months, cash_months.
//! - **differences** ([`Comparison::differences_batch`]): the paired differences of a
//!   comparison, as the summaries with `reference` and `design` first.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, StructBuilder, UInt64Builder,
};
use arrow_array::{
    ArrayRef, BooleanArray, FixedSizeListArray, Float64Array, RecordBatch, StringArray,
    UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};

use super::{Outcome, OutcomeSummary, Values, OUTCOMES};
use crate::engine::{Comparison, SimResult};
use crate::error::{Error, Result};
use crate::summary::{Estimate, Summary};

/// An Arrow error as the crate's error (a bug: the tables are built to their schema).
fn arrow_error(e: arrow_schema::ArrowError) -> Error {
    Error::Request(format!("building a result table: {e}"))
}

/// The Arrow type of one value of `values`.
fn value_type(values: &Values<'_>) -> DataType {
    match values {
        Values::F64(_) => DataType::Float64,
        Values::U32(_) => DataType::UInt32,
        Values::Bool(_) => DataType::Boolean,
    }
}

/// `values` as a flat Arrow array.
fn flat(values: &Values<'_>) -> ArrayRef {
    match values {
        Values::F64(v) => Arc::new(Float64Array::from(v.to_vec())),
        Values::U32(v) => Arc::new(UInt32Array::from(v.to_vec())),
        Values::Bool(v) => Arc::new(BooleanArray::from(v.to_vec())),
    }
}

/// One outcome as a column: its field and its array (a `fixed_size_list` for a matrix).
fn outcome_column(result: &SimResult, outcome: &Outcome) -> Result<(Field, ArrayRef)> {
    let values = outcome.values(result);
    let item = value_type(&values);
    match outcome.shape.dims(result) {
        (_, None) => Ok((Field::new(outcome.name, item, false), flat(&values))),
        (rows, Some(columns)) => {
            let size = i32::try_from(columns)
                .map_err(|_| Error::Request(format!("{}: too many columns", outcome.name)))?;
            let inner: FieldRef = Arc::new(Field::new("item", item, false));
            let list = FixedSizeListArray::try_new_with_length(
                inner.clone(),
                size,
                flat(&values),
                None,
                rows,
            )
            .map_err(arrow_error)?;
            let field = Field::new(outcome.name, DataType::FixedSizeList(inner, size), false);
            Ok((field, Arc::new(list)))
        }
    }
}

/// A batch of `columns` (with `rows` rows, which matters when there is no column).
fn batch(columns: Vec<(Field, ArrayRef)>, rows: usize) -> Result<RecordBatch> {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
        .map_err(arrow_error)
}

/// A batch of named columns, every one non-nullable unless `nullable` names it (the
/// result tables of every area are built with this).
pub fn named_batch(columns: Vec<(&str, ArrayRef)>, nullable: &[&str]) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), nullable.contains(n)))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(arrow_error)
}

/// `values` (`rows` × `size`, row-major) as a fixed-size list column of `float64`.
pub fn f64_rows(values: Vec<f64>, rows: usize, size: usize) -> Result<ArrayRef> {
    let size = i32::try_from(size).map_err(|_| Error::Request("too many columns".into()))?;
    let inner: FieldRef = Arc::new(Field::new("item", DataType::Float64, false));
    let values: ArrayRef = Arc::new(Float64Array::from(values));
    FixedSizeListArray::try_new_with_length(inner, size, values, None, rows)
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(arrow_error)
}

/// A list of strings as a one-row list column.
pub fn string_list(values: &[String]) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    b.append_value(values.iter().map(Some));
    Arc::new(b.finish())
}

/// The schema of a summaries table ([`SimResult::summaries_batch`]), after `keys` (string
/// columns that say whose summary a row is, such as a comparison's `reference` and `design`).
pub fn summary_schema(keys: &[&str]) -> SchemaRef {
    let mut fields: Vec<Field> = keys
        .iter()
        .map(|k| Field::new(*k, DataType::Utf8, false))
        .collect();
    fields.extend([
        Field::new("outcome", DataType::Utf8, false),
        Field::new("statistic", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
        Field::new("se", DataType::Float64, true),
    ]);
    Arc::new(Schema::new(fields))
}

/// Rows of a summaries table being built: key columns, then outcome, statistic, value, se.
pub struct SummaryRows {
    keys: Vec<StringBuilder>,
    outcome: StringBuilder,
    statistic: StringBuilder,
    value: Float64Builder,
    se: Float64Builder,
    key_names: Vec<&'static str>,
}

impl SummaryRows {
    /// No rows yet; `keys` names the key columns (see [`summary_schema`]).
    pub fn new(keys: &[&'static str]) -> Self {
        SummaryRows {
            keys: keys.iter().map(|_| StringBuilder::new()).collect(),
            outcome: StringBuilder::new(),
            statistic: StringBuilder::new(),
            value: Float64Builder::new(),
            se: Float64Builder::new(),
            key_names: keys.to_vec(),
        }
    }

    fn row(
        &mut self,
        keys: &[&str],
        outcome: &str,
        statistic: Option<&str>,
        value: Option<f64>,
        se: Option<f64>,
    ) {
        for (b, k) in self.keys.iter_mut().zip(keys) {
            b.append_value(k);
        }
        self.outcome.append_value(outcome);
        self.statistic.append_option(statistic);
        self.value.append_option(value);
        self.se.append_option(se);
    }

    /// The rows of one distribution summary (the statistics in [`Summary`] field order).
    pub fn distribution(&mut self, keys: &[&str], outcome: &str, s: &Summary) {
        self.row(keys, outcome, Some("n"), Some(s.n as f64), None);
        let estimates = [
            ("mean", s.mean),
            ("sd", s.sd),
            ("p5", s.p5),
            ("p50", s.p50),
            ("p90", s.p90),
            ("p95", s.p95),
            ("p99", s.p99),
        ];
        for (name, e) in estimates {
            self.row(keys, outcome, Some(name), Some(e.value), Some(e.se));
        }
        let p = s.p_exceed;
        self.row(
            keys,
            outcome,
            Some("p_exceed"),
            p.map(|e| e.value),
            p.map(|e| e.se),
        );
    }

    /// The row of a probability.
    pub fn probability(&mut self, keys: &[&str], outcome: &str, e: &Estimate) {
        self.row(keys, outcome, None, Some(e.value), Some(e.se));
    }

    /// The rows as one record batch.
    pub fn finish(mut self) -> Result<RecordBatch> {
        let mut arrays: Vec<ArrayRef> = self
            .keys
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        arrays.push(Arc::new(self.outcome.finish()));
        arrays.push(Arc::new(self.statistic.finish()));
        arrays.push(Arc::new(self.value.finish()));
        arrays.push(Arc::new(self.se.finish()));
        RecordBatch::try_new(summary_schema(&self.key_names), arrays).map_err(arrow_error)
    }
}

impl SimResult {
    /// The scenarios table: one row per scenario, a column per outcome whose rows are
    /// scenarios (see the module header).
    pub fn scenarios_batch(&self) -> Result<RecordBatch> {
        let columns = OUTCOMES
            .iter()
            .filter(|o| o.shape.per_scenario())
            .map(|o| outcome_column(self, o))
            .collect::<Result<Vec<_>>>()?;
        batch(columns, self.scenarios)
    }

    /// The partners table: `partner_id`, then a column per per-partner outcome.
    pub fn partners_batch(&self) -> Result<RecordBatch> {
        let ids: ArrayRef = Arc::new(StringArray::from(self.partner_ids.clone()));
        let mut columns = vec![(Field::new("partner_id", DataType::Utf8, false), ids)];
        for o in OUTCOMES.iter().filter(|o| !o.shape.per_scenario()) {
            columns.push(outcome_column(self, o)?);
        }
        batch(columns, self.partner_ids.len())
    }

    /// Input uncertainty ([`SimResult::parameter_variance`]): one row per per-scenario outcome
    /// with `parameter_draws` (the run's `K`), `n`, `draws` (used), `total_variance`,
    /// `within_variance`, `parameter_share` and `parameter_share_se` (null where the split is
    /// not defined); no rows for a run without parameter draws.
    pub fn parameter_variance_batch(&self) -> Result<RecordBatch> {
        let mut rows: Vec<(&str, Option<crate::summary::VarianceSplit>)> = Vec::new();
        if self.parameter_draws > 0 {
            for o in OUTCOMES
                .iter()
                .filter(|o| matches!(o.shape, super::Shape::Scenario))
            {
                rows.push((o.name, self.parameter_variance_of(o.name)?));
            }
        }
        let f = |get: fn(&crate::summary::VarianceSplit) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from(
                rows.iter()
                    .map(|(_, v)| v.as_ref().map(get).filter(|x| x.is_finite()))
                    .collect::<Vec<_>>(),
            ))
        };
        let u = |get: fn(&crate::summary::VarianceSplit) -> usize| -> ArrayRef {
            Arc::new(UInt64Array::from(
                rows.iter()
                    .map(|(_, v)| v.as_ref().map(|v| get(v) as u64))
                    .collect::<Vec<_>>(),
            ))
        };
        let names: ArrayRef = Arc::new(StringArray::from(
            rows.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ));
        let k: ArrayRef = Arc::new(UInt64Array::from(vec![
            self.parameter_draws as u64;
            rows.len()
        ]));
        named_batch(
            vec![
                ("outcome", names),
                ("parameter_draws", k),
                ("n", u(|v| v.n)),
                ("draws", u(|v| v.draws)),
                ("total_variance", f(|v| v.total)),
                ("within_variance", f(|v| v.within)),
                ("parameter_share", f(|v| v.parameter_share.value)),
                ("parameter_share_se", f(|v| v.parameter_share.se)),
            ],
            &[
                "n",
                "draws",
                "total_variance",
                "within_variance",
                "parameter_share",
                "parameter_share_se",
            ],
        )
    }

    /// The summaries table (see the module header).
    pub fn summaries_batch(&self) -> Result<RecordBatch> {
        let mut rows = SummaryRows::new(&[]);
        for (name, s) in self.outcome_summaries() {
            match s {
                OutcomeSummary::Distribution(s) => rows.distribution(&[], name, &s),
                OutcomeSummary::Probability(e) => rows.probability(&[], name, &e),
            }
        }
        rows.finish()
    }

    /// The run metadata as a one-row table (see the module header).
    pub fn meta_batch(&self) -> Result<RecordBatch> {
        let strings = string_list;
        let count = |n: usize| -> ArrayRef { Arc::new(UInt64Array::from(vec![n as u64])) };
        let ladder_fields = Fields::from(vec![
            Field::new("component", DataType::Utf8, false),
            Field::new("tiers", DataType::UInt64, false),
        ]);
        let mut ladders = ListBuilder::new(StructBuilder::new(
            ladder_fields.clone(),
            vec![
                Box::new(StringBuilder::new()),
                Box::new(UInt64Builder::new()),
            ],
        ));
        for l in &self.ladders {
            let s = ladders.values();
            s.field_builder::<StringBuilder>(0)
                .ok_or_else(|| Error::Request("ladder table".into()))?
                .append_value(&l.component);
            s.field_builder::<UInt64Builder>(1)
                .ok_or_else(|| Error::Request("ladder table".into()))?
                .append_value(l.tiers as u64);
            s.append(true);
        }
        ladders.append(true);
        let mut precision = BooleanBuilder::new();
        precision.append_option(self.precision_met);
        let mut budget = Float64Builder::new();
        budget.append_option(self.budget);
        let list_of = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
        let text = |s: &str| -> ArrayRef { Arc::new(StringArray::from(vec![s.to_owned()])) };
        let columns: Vec<(Field, ArrayRef)> = vec![
            (
                Field::new("programme", DataType::Utf8, false),
                text(&self.programme),
            ),
            (
                Field::new("currency", DataType::Utf8, false),
                text(&self.currency),
            ),
            (
                Field::new("seed", DataType::UInt64, false),
                Arc::new(UInt64Array::from(vec![self.seed])),
            ),
            (
                Field::new("scenarios", DataType::UInt64, false),
                count(self.scenarios),
            ),
            (
                Field::new("precision_met", DataType::Boolean, true),
                Arc::new(precision.finish()),
            ),
            (
                Field::new("budget", DataType::Float64, true),
                Arc::new(budget.finish()),
            ),
            (
                Field::new("segments", list_of(DataType::Utf8), false),
                strings(&self.segments),
            ),
            (
                Field::new("components", list_of(DataType::Utf8), false),
                strings(&self.components),
            ),
            (
                Field::new("ladders", list_of(DataType::Struct(ladder_fields)), false),
                Arc::new(ladders.finish()),
            ),
            (
                Field::new("months", DataType::UInt64, false),
                count(self.months),
            ),
            (
                Field::new("cash_months", DataType::UInt64, false),
                count(self.cash_months),
            ),
        ];
        batch(columns, 1)
    }
}

impl Comparison {
    /// The paired differences of each design against the first (see the module header).
    pub fn differences_batch(&self) -> Result<RecordBatch> {
        let mut rows = SummaryRows::new(&["reference", "design"]);
        for d in &self.differences {
            let keys = [d.reference.as_str(), d.design.as_str()];
            for (name, s) in d.summaries() {
                rows.distribution(&keys, name, s);
            }
        }
        rows.finish()
    }
}
