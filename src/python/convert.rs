//! Results into Python values, driven by the core's list of outcomes
//! ([`crate::outcomes::OUTCOMES`]): one NumPy array per outcome (2-D for a matrix), the
//! summaries and the run metadata. Nothing here names an outcome.

use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{json, Value};

use crate::engine::SimResult;
use crate::summary::Summary;
use crate::outcomes::{Outcome, Shape, Summarised, Values};

/// `values` as a NumPy array: 1-D, or rows × columns.
fn array<'py, T: numpy::Element + Copy>(
    py: Python<'py>,
    values: &[T],
    dims: (usize, Option<usize>),
) -> PyResult<Bound<'py, PyAny>> {
    let a = PyArray1::from_slice(py, values);
    match dims {
        (_, None) => Ok(a.into_any()),
        (rows, Some(columns)) => Ok(a.reshape([rows, columns])?.into_any()),
    }
}

/// One outcome as a NumPy array of its shape.
fn outcome_array<'py>(
    py: Python<'py>,
    result: &SimResult,
    outcome: &Outcome,
) -> PyResult<Bound<'py, PyAny>> {
    let dims = outcome.shape.dims(result);
    match outcome.values(result) {
        Values::F64(v) => array(py, v, dims),
        Values::U32(v) => array(py, v, dims),
        Values::Bool(v) => array(py, v, dims),
    }
}

/// The outcomes `which` selects: name → array, in list order.
pub(super) fn outcome_arrays<'py>(
    py: Python<'py>,
    result: &SimResult,
    which: impl Fn(&Outcome) -> bool,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for outcome in SimResult::outcomes().iter().filter(|o| which(o)) {
        d.set_item(outcome.name, outcome_array(py, result, outcome)?)?;
    }
    Ok(d)
}

/// The per-scenario outcomes (one value per scenario).
pub(super) fn per_scenario<'py>(py: Python<'py>, r: &SimResult) -> PyResult<Bound<'py, PyDict>> {
    outcome_arrays(py, r, |o| o.shape == Shape::Scenario)
}

/// The matrices and per-partner outcomes (everything that is not one value per scenario).
pub(super) fn matrices<'py>(py: Python<'py>, r: &SimResult) -> PyResult<Bound<'py, PyDict>> {
    outcome_arrays(py, r, |o| o.shape != Shape::Scenario)
}

/// The summaries of the summarised outcomes as JSON text.
pub(super) fn summaries(r: &SimResult) -> String {
    let map: serde_json::Map<String, Value> = r
        .outcome_summaries()
        .into_iter()
        .map(|(name, s)| (name.to_owned(), serde_json::to_value(s).unwrap_or(Value::Null)))
        .collect();
    Value::Object(map).to_string()
}

/// A summary as JSON.
pub(super) fn summary_value(s: &Summary) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// The run metadata as JSON text.
pub(super) fn meta(r: &SimResult) -> String {
    json!({
        "programme": r.programme,
        "currency": r.currency,
        "seed": r.seed,
        "scenarios": r.scenarios,
        "precision_met": r.precision_met,
        "budget": r.budget,
        "segments": r.segments,
        "components": r.components,
        "ladders": r.ladders.iter().map(|l| json!({"component": l.component, "tiers": l.tiers})).collect::<Vec<_>>(),
        "months": r.months,
        "cash_months": r.cash_months,
    })
    .to_string()
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
