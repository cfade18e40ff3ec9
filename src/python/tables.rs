//! Tables across the boundary: record batches built in the core, handed to Python as an
//! Arrow table (`arro3` `Table`, with `__arrow_c_stream__`: `pyarrow.table(t)`,
//! `polars.DataFrame(t)` and pandas read it without a copy through text).

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

/// An Arrow table of `batches` (all of `schema`).
pub(crate) fn table(batches: Vec<RecordBatch>, schema: SchemaRef) -> PyResult<PyTable> {
    PyTable::try_new(batches, schema)
}

/// An Arrow table of one batch.
pub(crate) fn one(batch: RecordBatch) -> PyResult<PyTable> {
    let schema = batch.schema();
    PyTable::try_new(vec![batch], schema)
}
