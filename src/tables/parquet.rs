//! Parquet files read in Rust, streaming by row group: only the columns the table needs are
//! decoded, one batch at a time, into the same intermediate as an Arrow stream.

use super::number::NumberRule;
use crate::data::{Partners, Transactions};
use crate::error::{Error, Result};
use arrow_array::RecordBatchReader;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::fs::File;
use std::path::Path;

/// Rows decoded at a time.
const BATCH_ROWS: usize = 64 * 1024;

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A batch reader over the columns of `wanted` (by name, case-insensitive) that the file has.
fn open(
    path: &Path,
    what: &str,
    wanted: &[&str],
) -> Result<(
    String,
    parquet::arrow::arrow_reader::ParquetRecordBatchReader,
)> {
    let name = file_name(path);
    let f: File = crate::limits::open_regular(path, what)?;
    let bad = |e: parquet::errors::ParquetError| {
        Error::data(
            &name,
            None,
            None,
            format!("cannot read the Parquet file: {e}"),
        )
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(bad)?;
    let keep: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let n = f.name().trim().to_ascii_lowercase();
            wanted.contains(&n.as_str())
        })
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), keep);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(bad)?;
    Ok((name, reader))
}

impl Transactions {
    /// Read transactions from a Parquet file (columns and types as [`Transactions::from_arrow`]);
    /// errors name the file.
    pub fn from_parquet_path(path: impl AsRef<Path>, rule: NumberRule) -> Result<Transactions> {
        let (name, reader) = open(
            path.as_ref(),
            "a transaction table (Parquet file)",
            &[
                "partner_id",
                "date",
                "quantity",
                "revenue",
                "category",
                "order_id",
            ],
        )?;
        let schema = reader.schema();
        Transactions::from_arrow(&schema, reader, &name, rule)
    }
}

impl Partners {
    /// Read a partner table from a Parquet file (columns as [`Partners::from_arrow`]).
    pub fn from_parquet_path(path: impl AsRef<Path>, rule: NumberRule) -> Result<Partners> {
        let mut wanted = vec!["partner_id".to_owned(), "segment".to_owned()];
        for basis in ["baseline_revenue", "baseline_units"] {
            wanted.push(basis.to_owned());
            wanted.extend(crate::monthly_baselines::column_names(basis));
        }
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        let (name, reader) = open(path.as_ref(), "a partner table (Parquet file)", &wanted)?;
        let schema = reader.schema();
        Partners::from_arrow(&schema, reader, &name, rule)
    }
}
