//! Tables from columnar sources: Arrow record batches (a Python object's Arrow stream:
//! pandas, polars, pyarrow, DuckDB) and Parquet files, read into the same [`Transactions`]
//! and [`Partners`] as CSV text, through the same row-by-row intermediate (`build`).
//!
//! - `columns`: lookup by name and the types each kind of column accepts;
//! - `number`: exact money: decimal128 and integers as they are, floats by a [`NumberRule`]
//!   (the programme's minor unit and rounding rule; strict input refuses instead);
//! - `intern`: ids kept once each;
//! - `arrow`, `parquet`: the readers;
//! - `totals`: control totals of a CSV file for the audit manifest.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray, Date32Array};
//! use arrow_schema::{DataType, Field, Schema};
//! use rebatesim::data::Transactions;
//! use rebatesim::tables::NumberRule;
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("partner_id", DataType::Utf8, false),
//!     Field::new("date", DataType::Date32, false),
//!     Field::new("quantity", DataType::Int64, false),
//!     Field::new("revenue", DataType::Float64, true),
//! ]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![
//!     Arc::new(StringArray::from(vec!["P1", "P1"])),
//!     Arc::new(Date32Array::from(vec![20_819, 20_820])), // 2027-01-01, 2027-01-02
//!     Arc::new(Int64Array::from(vec![3, 1])),
//!     Arc::new(Float64Array::from(vec![Some(120.5), None])),
//! ]).unwrap();
//! let e = Transactions::from_arrow(&schema, [Ok(batch)], "tx", NumberRule::default()).unwrap_err();
//! assert_eq!(e.to_string(), "invalid data: tx, row 2, column 'revenue': expected a number, found an empty cell");
//! ```
//!
//! [`Transactions`]: crate::data::Transactions
//! [`Partners`]: crate::data::Partners

mod arrow;
pub(crate) mod build;
mod columns;
pub(crate) mod intern;
mod number;
mod parquet;
mod totals;

pub use number::NumberRule;
pub use totals::{control_totals, ControlTotals};

#[cfg(test)]
mod tests;
