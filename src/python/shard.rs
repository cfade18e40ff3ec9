//! Scale-out from Python (`rebatesim._executor`): populations and simulation shards as bytes
//! (what crosses to worker processes), running a scenario range, merging shards, and the
//! per-scenario columns a design search reads from a shard. Conversion only: the work is
//! `engine::shard` and `wire`.

use super::errors::IntoPy;
use super::programme::PyProgramme;
use super::run::{run_detached, settings, RunArgs};
use super::simulate::{PyComparison, PyModel, PyPopulation, PySimResult};
use crate::engine::{self, Shard, SimOptions};
use crate::wire;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// A population as bytes (`population_from_bytes` reads it back exactly).
#[pyfunction]
fn population_to_bytes<'py>(
    py: Python<'py>,
    population: &Bound<'_, PyPopulation>,
) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &wire::population_to_bytes(&population.get().inner))
}

/// The population `population_to_bytes` wrote.
#[pyfunction]
fn population_from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PyPopulation> {
    wire::population_from_bytes(data)
        .py_err(py)
        .map(|inner| PyPopulation { inner })
}

/// Run scenarios `[start, end)` of a simulation; the shard as bytes. `partners`: keep the
/// per-partner outputs a merge needs.
#[pyfunction]
#[pyo3(signature = (programme, population, model, run, start, end, partners, progress=None, draws=None))]
#[allow(clippy::too_many_arguments)]
fn simulate_shard<'py>(
    py: Python<'py>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    run: RunArgs,
    start: usize,
    end: usize,
    partners: bool,
    progress: Option<Py<PyAny>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let o = settings(py, run)?;
    let (c, p, m) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
    );
    let draws = super::simulate::models(draws);
    let bytes = run_detached(py, progress, &o, |opt| {
        let opt = SimOptions {
            parameter_draws: &draws,
            ..*opt
        };
        engine::simulate_range(c, p, m, &opt, start..end, partners).map(|s| s.to_bytes())
    })?;
    Ok(PyBytes::new(py, &bytes))
}

fn read_all(py: Python<'_>, shards: Vec<Vec<u8>>) -> PyResult<Vec<Shard>> {
    shards
        .iter()
        .map(|b| Shard::from_bytes(b))
        .collect::<crate::Result<Vec<_>>>()
        .py_err(py)
}

/// The simulation of the scenarios the shards cover (in order), bit-identical to a local run.
#[pyfunction]
fn merge_shards(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    shards: Vec<Vec<u8>>,
) -> PyResult<PySimResult> {
    let shards = read_all(py, shards)?;
    let (c, p, m) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
    );
    py.detach(|| engine::merge_shards(c, p, m, &shards))
        .py_err(py)
        .map(|inner| PySimResult { inner })
}

/// The comparison of designs from each design's shards (same scenarios for every design).
#[pyfunction]
fn merge_comparison(
    py: Python<'_>,
    names: Vec<String>,
    programmes: Vec<Bound<'_, PyProgramme>>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    shards: Vec<Vec<Vec<u8>>>,
) -> PyResult<PyComparison> {
    crate::request::check_design_names(names.len(), programmes.len()).py_err(py)?;
    let p = &population.get().inner;
    let m = &model.get().inner;
    let mut results = Vec::new();
    for (prog, s) in programmes.iter().zip(shards) {
        let s = read_all(py, s)?;
        let c = &prog.get().compiled;
        results.push(py.detach(|| engine::merge_shards(c, p, m, &s)).py_err(py)?);
    }
    engine::compare_merged(names, results)
        .py_err(py)
        .map(|inner| PyComparison { inner })
}

/// The per-scenario columns a design search reads from a shard: `start`, `payout`,
/// `payout_before_budget`, `incremental_margin`, `incremental_revenue`, `revenue`,
/// `segment_payout` (scenarios × segments) and `segments`.
#[pyfunction]
fn shard_columns<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let s = Shard::from_bytes(data).py_err(py)?;
    let r = &s.result;
    let d = PyDict::new(py);
    d.set_item("start", s.start)?;
    d.set_item("payout", PyArray1::from_slice(py, &r.payout))?;
    d.set_item(
        "payout_before_budget",
        PyArray1::from_slice(py, &r.payout_before_budget),
    )?;
    d.set_item(
        "incremental_margin",
        PyArray1::from_slice(py, &r.incremental_margin),
    )?;
    d.set_item(
        "incremental_revenue",
        PyArray1::from_slice(py, &r.incremental_revenue),
    )?;
    d.set_item("revenue", PyArray1::from_slice(py, &r.revenue))?;
    let g = r.segments.len();
    d.set_item(
        "segment_payout",
        PyArray1::from_slice(py, &r.segment_payout).reshape([r.scenarios, g])?,
    )?;
    d.set_item("segments", r.segments.clone())?;
    Ok(d)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(population_to_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(population_from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_shard, m)?)?;
    m.add_function(wrap_pyfunction!(merge_shards, m)?)?;
    m.add_function(wrap_pyfunction!(merge_comparison, m)?)?;
    m.add_function(wrap_pyfunction!(shard_columns, m)?)?;
    Ok(())
}
