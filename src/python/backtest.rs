//! The backtest harness from Python (`rebatesim.backtest`): runs the standard comparison with
//! the GIL released and returns columns the Python layer turns into DataFrames.

use super::errors::IntoPy;
use super::programme::PyProgramme;
use super::run::{run_detached, settings};
use super::simulate::{PyModel, PyPopulation};
use super::tables;
use crate::backtest::{run_standard, run_standard_years, Backtest, BacktestOptions, Standard};
use crate::request::{check_threads, RunRequest};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::PyTable;

/// The result of a backtest.
#[pyclass(name = "Backtest", module = "rebatesim._core", frozen)]
pub(crate) struct PyBacktest {
    inner: Backtest,
}

#[pymethods]
impl PyBacktest {
    /// One row: programme, currency, methods, month ends (1-based), as-of dates, seeds,
    /// years, and which methods have intervals.
    fn meta(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.meta_batch().py_err(py)?)
    }

    /// Realised payout of every year: one row per year.
    fn realised(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.realised_batch().py_err(py)?)
    }

    /// Expected-value estimates of `method`: one row per year, a list per month end.
    fn estimates(&self, py: Python<'_>, method: &str) -> PyResult<PyTable> {
        tables::one(self.inner.estimates_batch(method).py_err(py)?)
    }

    /// Lower and upper bounds of `method`'s central interval at `level` (one row per year,
    /// a list per month end each), or None for a point method.
    fn intervals(&self, py: Python<'_>, method: &str, level: f64) -> PyResult<Option<PyTable>> {
        self.inner
            .intervals_batch(method, level)
            .py_err(py)?
            .map(tables::one)
            .transpose()
    }

    /// Coverage rows: method, month_end (null = pooled), level, n, coverage, se, below,
    /// above, se_years.
    fn coverage(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.coverage_batch().py_err(py)?)
    }

    /// Error rows: method, month_end (null = pooled), n, mae, mae_se, rmse, bias, bias_se,
    /// mae_amount.
    fn errors(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.errors_batch().py_err(py)?)
    }

    /// Paired comparison rows: method, against, month_end, difference, se, wins.
    fn paired(&self, py: Python<'_>, method: &str, against: &str) -> PyResult<PyTable> {
        tables::one(self.inner.paired_batch(method, against).py_err(py)?)
    }

    /// The comparison table rendered as Markdown (a report, as the CLI prints it; the
    /// figures are the coverage and errors tables).
    fn table(&self) -> String {
        self.inner.table()
    }
}

/// Run the standard backtest (see `rebatesim.backtest`).
#[pyfunction]
#[pyo3(signature = (programme, population, model, years=500, scenarios=200, seed=1, forecast_seed=None, forecaster="forecast", month_ends=None, threads=None, progress=None, draws=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn backtest(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    years: usize,
    scenarios: usize,
    seed: u64,
    forecast_seed: Option<u64>,
    forecaster: &str,
    month_ends: Option<Vec<usize>>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<PyBacktest> {
    let which = Standard::parse(forecaster).py_err(py)?;
    check_threads(threads).py_err(py)?;
    let o = settings(py, RunRequest::basic(scenarios.max(1), seed, threads))?;
    let (c, p, m) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
    );
    let months = month_ends.as_deref();
    let draws = super::simulate::models(draws);
    run_detached(py, progress, &o, |opt| {
        let bo = BacktestOptions {
            years,
            seed,
            forecast_seed,
            month_ends: months,
            threads,
            progress: opt.progress,
            cancel: opt.cancel,
            parameter_draws: &draws,
        };
        run_standard(c, p, m, which, scenarios, &bo)
    })
    .map(|inner| PyBacktest { inner })
}

/// Years `[start, end)` of the standard backtest `backtest` runs with the same arguments, as
/// bytes (`backtest_concat` puts consecutive ranges back together, bit for bit).
#[pyfunction]
#[pyo3(signature = (programme, population, model, years, scenarios, seed, forecast_seed, forecaster, month_ends, start, end, threads=None, progress=None, draws=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn backtest_years<'py>(
    py: Python<'py>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    years: usize,
    scenarios: usize,
    seed: u64,
    forecast_seed: Option<u64>,
    forecaster: &str,
    month_ends: Option<Vec<usize>>,
    start: usize,
    end: usize,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let which = Standard::parse(forecaster).py_err(py)?;
    check_threads(threads).py_err(py)?;
    let o = settings(py, RunRequest::basic(scenarios.max(1), seed, threads))?;
    let (c, p, m) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
    );
    let months = month_ends.as_deref();
    let draws = super::simulate::models(draws);
    let bytes = run_detached(py, progress, &o, |opt| {
        let bo = BacktestOptions {
            years,
            seed,
            forecast_seed,
            month_ends: months,
            threads,
            progress: opt.progress,
            cancel: opt.cancel,
            parameter_draws: &draws,
        };
        run_standard_years(c, p, m, which, scenarios, &bo, start..end).map(|b| b.to_bytes())
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// The backtest of consecutive year ranges (`backtest_years`' bytes, in year order).
#[pyfunction]
pub(crate) fn backtest_concat(py: Python<'_>, parts: Vec<Vec<u8>>) -> PyResult<PyBacktest> {
    let parts = parts
        .iter()
        .map(|b| Backtest::from_bytes(b))
        .collect::<crate::Result<Vec<_>>>()
        .py_err(py)?;
    Backtest::concat(parts)
        .py_err(py)
        .map(|inner| PyBacktest { inner })
}
