//! Results into Python values: the Arrow tables the core builds from its list of outcomes
//! ([`crate::outcomes::arrow`]: scenarios, partners, summaries, metadata) handed over as
//! `PyTable`s, and the list itself (`outcomes()`). Nothing here names an outcome.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;
use serde_json::Value;

use super::errors::IntoPy;
use super::tables;
use crate::engine::SimResult;
use crate::outcomes::Summarised;

/// Which table of a result.
#[derive(Clone, Copy)]
pub(super) enum Table {
    /// [`SimResult::scenarios_batch`].
    Scenarios,
    /// [`SimResult::partners_batch`].
    Partners,
    /// [`SimResult::summaries_batch`].
    Summaries,
    /// [`SimResult::meta_batch`].
    Meta,
    /// [`SimResult::parameter_variance_batch`].
    ParameterVariance,
}

/// One table of `r` as an Arrow table.
pub(super) fn table(py: Python<'_>, r: &SimResult, which: Table) -> PyResult<PyTable> {
    let batch = match which {
        Table::Scenarios => r.scenarios_batch(),
        Table::Partners => r.partners_batch(),
        Table::Summaries => r.summaries_batch(),
        Table::Meta => r.meta_batch(),
        Table::ParameterVariance => r.parameter_variance_batch(),
    };
    tables::one(batch.py_err(py)?)
}

/// The outcomes a simulation reports, as the core lists them: name, shape, unit, whether it
/// is summarised, description (see `rebatesim::outcomes`).
#[pyfunction]
pub(crate) fn outcomes(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    SimResult::outcomes()
        .iter()
        .map(|o| {
            let d = PyDict::new(py);
            d.set_item("name", o.name)?;
            d.set_item("shape", serde_name(&o.shape))?;
            d.set_item("unit", serde_name(&o.unit))?;
            d.set_item("summarised", o.summarised != Summarised::No)?;
            d.set_item("description", o.description)?;
            Ok(d)
        })
        .collect()
}

/// The snake_case name serde gives an enum variant (a shape or unit).
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}
