//! The backtest harness from Python (`rebatesim.backtest`): runs the standard comparison with
//! the GIL released and returns columns the Python layer turns into DataFrames.

use super::errors::{to_py, IntoPy};
use super::programme::PyProgramme;
use super::run::{run_detached, settings};
use super::simulate::{PyModel, PyPopulation};
use crate::backtest::{run_standard, run_standard_years, Backtest, BacktestOptions, Standard};
use crate::request::{check_threads, RunRequest};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// The result of a backtest.
#[pyclass(name = "Backtest", module = "rebatesim._core", frozen)]
pub(crate) struct PyBacktest {
    inner: Backtest,
}

#[pymethods]
impl PyBacktest {
    /// Programme, currency, methods, month ends (1-based), as-of dates, seeds, years, and
    /// which methods have intervals.
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let b = &self.inner;
        let d = PyDict::new(py);
        d.set_item("programme", &b.programme)?;
        d.set_item("currency", &b.currency)?;
        d.set_item("methods", b.methods.clone())?;
        d.set_item("month_ends", b.month_ends.clone())?;
        d.set_item(
            "as_of",
            b.as_of.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        )?;
        d.set_item("seed", b.seed)?;
        d.set_item("forecast_seed", b.forecast_seed)?;
        d.set_item("years", b.years())?;
        d.set_item("has_intervals", b.has_intervals.clone())?;
        Ok(d)
    }

    /// Realised payout of every year.
    fn realised<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.realised)
    }

    /// Expected-value estimates of `method`: years × month ends (row-major, flat).
    fn estimates<'py>(&self, py: Python<'py>, method: &str) -> PyResult<Bound<'py, PyAny>> {
        let b = &self.inner;
        let nm = b.month_ends.len();
        let mut v = Vec::with_capacity(b.years() * nm);
        for y in 0..b.years() {
            for m in 0..nm {
                v.push(b.estimate(method, y, m).map_err(|e| to_py(py, e))?);
            }
        }
        let a = PyArray1::from_slice(py, &v);
        Ok(a.reshape([b.years(), nm])?.into_any())
    }

    /// Lower and upper bounds of `method`'s central interval at `level`: two years × month
    /// ends arrays, or None for a point method.
    fn intervals<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        level: f64,
    ) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
        let b = &self.inner;
        let nm = b.month_ends.len();
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        for y in 0..b.years() {
            for m in 0..nm {
                match b.interval(method, y, m, level).map_err(|e| to_py(py, e))? {
                    Some((l, h)) => {
                        lo.push(l);
                        hi.push(h);
                    }
                    None => return Ok(None),
                }
            }
        }
        let shape = [b.years(), nm];
        Ok(Some((
            PyArray1::from_slice(py, &lo).reshape(shape)?.into_any(),
            PyArray1::from_slice(py, &hi).reshape(shape)?.into_any(),
        )))
    }

    /// Coverage rows as columns: method, month_end (None = pooled), level, n, coverage, se,
    /// below, above, se_years.
    fn coverage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rows = self.inner.coverage();
        let d = PyDict::new(py);
        d.set_item(
            "method",
            rows.iter().map(|r| r.method.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "month_end",
            rows.iter().map(|r| r.month_end).collect::<Vec<_>>(),
        )?;
        d.set_item("level", rows.iter().map(|r| r.level).collect::<Vec<_>>())?;
        d.set_item("n", rows.iter().map(|r| r.n).collect::<Vec<_>>())?;
        d.set_item(
            "coverage",
            rows.iter().map(|r| r.coverage.value).collect::<Vec<_>>(),
        )?;
        d.set_item("se", rows.iter().map(|r| r.coverage.se).collect::<Vec<_>>())?;
        d.set_item("below", rows.iter().map(|r| r.below).collect::<Vec<_>>())?;
        d.set_item("above", rows.iter().map(|r| r.above).collect::<Vec<_>>())?;
        d.set_item(
            "se_years",
            rows.iter().map(|r| r.se_years).collect::<Vec<_>>(),
        )?;
        Ok(d)
    }

    /// Error rows as columns: method, month_end (None = pooled), n, mae, mae_se, rmse, bias,
    /// bias_se, mae_amount.
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rows = self.inner.errors();
        let d = PyDict::new(py);
        d.set_item(
            "method",
            rows.iter().map(|r| r.method.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "month_end",
            rows.iter().map(|r| r.month_end).collect::<Vec<_>>(),
        )?;
        d.set_item("n", rows.iter().map(|r| r.n).collect::<Vec<_>>())?;
        d.set_item("mae", rows.iter().map(|r| r.mae.value).collect::<Vec<_>>())?;
        d.set_item("mae_se", rows.iter().map(|r| r.mae.se).collect::<Vec<_>>())?;
        d.set_item("rmse", rows.iter().map(|r| r.rmse).collect::<Vec<_>>())?;
        d.set_item(
            "bias",
            rows.iter().map(|r| r.bias.value).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "bias_se",
            rows.iter().map(|r| r.bias.se).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "mae_amount",
            rows.iter().map(|r| r.mae_amount).collect::<Vec<_>>(),
        )?;
        Ok(d)
    }

    /// Paired comparison rows as columns: method, against, month_end, difference, se, wins.
    fn paired<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        against: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let rows = self
            .inner
            .paired(method, against)
            .map_err(|e| to_py(py, e))?;
        let d = PyDict::new(py);
        d.set_item(
            "method",
            rows.iter().map(|r| r.method.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "against",
            rows.iter().map(|r| r.against.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "month_end",
            rows.iter().map(|r| r.month_end).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "difference",
            rows.iter().map(|r| r.difference.value).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "se",
            rows.iter().map(|r| r.difference.se).collect::<Vec<_>>(),
        )?;
        d.set_item("wins", rows.iter().map(|r| r.wins).collect::<Vec<_>>())?;
        Ok(d)
    }

    /// The comparison table (Markdown).
    fn table(&self) -> String {
        self.inner.table()
    }
}

/// Run the standard backtest (see `rebatesim.backtest`).
#[pyfunction]
#[pyo3(signature = (programme, population, model, years=500, scenarios=200, seed=1, forecast_seed=None, forecaster="forecast", month_ends=None, threads=None, progress=None))]
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
    run_detached(py, progress, &o, |opt| {
        let bo = BacktestOptions {
            years,
            seed,
            forecast_seed,
            month_ends: months,
            threads,
            progress: opt.progress,
            cancel: opt.cancel,
        };
        run_standard(c, p, m, which, scenarios, &bo)
    })
    .map(|inner| PyBacktest { inner })
}

/// Years `[start, end)` of the standard backtest `backtest` runs with the same arguments, as
/// bytes (`backtest_concat` puts consecutive ranges back together, bit for bit).
#[pyfunction]
#[pyo3(signature = (programme, population, model, years, scenarios, seed, forecast_seed, forecaster, month_ends, start, end, threads=None, progress=None))]
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
    let bytes = run_detached(py, progress, &o, |opt| {
        let bo = BacktestOptions {
            years,
            seed,
            forecast_seed,
            month_ends: months,
            threads,
            progress: opt.progress,
            cancel: opt.cancel,
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
    Backtest::concat(parts).py_err(py).map(|inner| PyBacktest { inner })
}
