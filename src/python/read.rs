//! Tables IN from Arrow streams and Parquet files (tables out: `tables.rs`): `rebatesim._core.partners_from_arrow`,
//! `transactions_from_arrow` (an Arrow C stream capsule: `obj.__arrow_c_stream__()` of pandas,
//! polars, pyarrow or DuckDB), `partners_from_parquet` and `transactions_from_parquet`. Floats
//! in money columns follow the programme's minor unit and rounding rule when one is given
//! (`crate::tables::NumberRule`). The stream is read with the GIL released.

use super::errors::{to_py, IntoPy};
use super::programme::PyProgramme;
use super::settle::{PyPartners, PyTransactions};
use crate::data::{Partners, Transactions};
use crate::tables::NumberRule;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::PyRecordBatchReader;
use std::path::PathBuf;

/// The record batches of a stream capsule; a capsule that is not one is a data error.
fn reader(
    py: Python<'_>,
    stream: &Bound<'_, PyCapsule>,
    table: &str,
) -> PyResult<Box<dyn arrow_array::RecordBatchReader + Send>> {
    PyRecordBatchReader::from_arrow_pycapsule(stream)
        .and_then(PyRecordBatchReader::into_reader)
        .map_err(|e| {
            to_py(
                py,
                crate::Error::data(
                    table,
                    None,
                    None,
                    format!("cannot read the Arrow stream: {e}"),
                ),
            )
        })
}

fn rule(programme: Option<&Bound<'_, PyProgramme>>, strict: bool) -> NumberRule {
    match programme {
        Some(p) => NumberRule::of(&p.get().compiled, strict),
        None => NumberRule {
            strict,
            ..NumberRule::default()
        },
    }
}

/// Transactions from an Arrow C stream capsule; `table` names it in errors.
/// Rows and exact sums (as decimal strings, `None` beyond `Decimal`) of `columns` of a CSV
/// table's bytes, for the audit manifest (`crate::tables::control_totals`).
#[pyfunction]
fn control_totals(
    py: Python<'_>,
    data: &[u8],
    columns: Vec<String>,
) -> (usize, Vec<(String, Option<String>)>) {
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let t = py.detach(|| crate::tables::control_totals(data, &names));
    let sums = t
        .sums
        .into_iter()
        .map(|(c, s)| (c, s.map(|d| d.to_string())))
        .collect();
    (t.rows, sums)
}

#[pyfunction]
#[pyo3(signature = (stream, table, programme=None, strict=false))]
fn transactions_from_arrow(
    py: Python<'_>,
    stream: &Bound<'_, PyCapsule>,
    table: &str,
    programme: Option<&Bound<'_, PyProgramme>>,
    strict: bool,
) -> PyResult<PyTransactions> {
    let reader = reader(py, stream, table)?;
    let r = rule(programme, strict);
    py.detach(move || {
        let schema = reader.schema();
        Transactions::from_arrow(&schema, reader, table, r)
    })
    .py_err(py)
    .map(|inner| PyTransactions { inner })
}

/// A partner table from an Arrow C stream capsule; `table` names it in errors.
#[pyfunction]
#[pyo3(signature = (stream, table, programme=None, strict=false))]
fn partners_from_arrow(
    py: Python<'_>,
    stream: &Bound<'_, PyCapsule>,
    table: &str,
    programme: Option<&Bound<'_, PyProgramme>>,
    strict: bool,
) -> PyResult<PyPartners> {
    let reader = reader(py, stream, table)?;
    let r = rule(programme, strict);
    py.detach(move || {
        let schema = reader.schema();
        Partners::from_arrow(&schema, reader, table, r)
    })
    .py_err(py)
    .map(|inner| PyPartners { inner })
}

/// Transactions from a Parquet file.
#[pyfunction]
#[pyo3(signature = (path, programme=None, strict=false))]
fn transactions_from_parquet(
    py: Python<'_>,
    path: PathBuf,
    programme: Option<&Bound<'_, PyProgramme>>,
    strict: bool,
) -> PyResult<PyTransactions> {
    let r = rule(programme, strict);
    py.detach(|| Transactions::from_parquet_path(&path, r))
        .py_err(py)
        .map(|inner| PyTransactions { inner })
}

/// A partner table from a Parquet file.
#[pyfunction]
#[pyo3(signature = (path, programme=None, strict=false))]
fn partners_from_parquet(
    py: Python<'_>,
    path: PathBuf,
    programme: Option<&Bound<'_, PyProgramme>>,
    strict: bool,
) -> PyResult<PyPartners> {
    let r = rule(programme, strict);
    py.detach(|| Partners::from_parquet_path(&path, r))
        .py_err(py)
        .map(|inner| PyPartners { inner })
}

/// Add the table readers to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(control_totals, m)?)?;
    m.add_function(wrap_pyfunction!(transactions_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(partners_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(transactions_from_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(partners_from_parquet, m)?)?;
    Ok(())
}
