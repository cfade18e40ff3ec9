//! Forecasts from Python: `rebatesim._core.PriorAccruals`, `forecast` and `ForecastResult`.
//! The GIL is released while simulating; Ctrl-C is checked every 50 ms by the calling thread
//! ([`super::run::watch_signals`]); after each chunk the progress callback re-attaches
//! briefly to report progress.

use super::errors::{to_py, IntoPy};
use super::programme::PyProgramme;
use super::run::{finish, report_progress, watch_signals};
use super::settle::PyTransactions;
use super::simulate::{models, PyModel, PyPopulation};
use super::tables;
use crate::data::Transactions;
use crate::demand::Model;
use crate::error::Error;
use crate::forecast::arrow::payout_batch;
use crate::forecast::{
    forecast as core_forecast, forecast_from_shards, forecast_shard as forecast_shard_core,
    Forecast, ForecastOptions, LedgerLevel, PriorAccruals,
};
use crate::population::Population;
use crate::programme::Compiled;
use crate::records;
use crate::request::{check_index, forecast_threads, parse_date};
use crate::wire;
use chrono::NaiveDate;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::PyTable;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

/// Accruals booked before a forecast date (`partner_id`, `component`, `amount`).
#[pyclass(name = "PriorAccruals", module = "rebatesim._core", frozen)]
pub(crate) struct PyPriorAccruals {
    inner: PriorAccruals,
}

#[pymethods]
impl PyPriorAccruals {
    /// Read prior accruals from a CSV file.
    #[staticmethod]
    fn from_csv_path(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| PriorAccruals::from_csv_path(&path))
            .py_err(py)
            .map(|inner| PyPriorAccruals { inner })
    }

    /// Read prior accruals from CSV text; `table` names it in errors.
    #[staticmethod]
    fn from_csv_text(py: Python<'_>, text: &str, table: &str) -> PyResult<Self> {
        py.detach(|| PriorAccruals::from_csv_str(text, table))
            .py_err(py)
            .map(|inner| PyPriorAccruals { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "PriorAccruals({:?}, {} rows)",
            self.inner.table,
            self.inner.len()
        )
    }
}

/// The result of a forecast (see `rebatesim.Forecast` for the public API).
#[pyclass(name = "ForecastResult", module = "rebatesim._core", frozen)]
pub(crate) struct PyForecast {
    inner: Forecast,
}

#[pymethods]
impl PyForecast {
    /// The number of parameter draws the scenarios ran under (0: the model alone).
    fn parameter_draws(&self) -> usize {
        self.inner.parameter_draws
    }

    /// Everything (estimates, breakdowns, journal, watch list, cash schedule) as a one-row
    /// Arrow table, a column per part of the report (see `rebatesim::records`).
    fn report(&self, py: Python<'_>) -> PyResult<PyTable> {
        let r = py.detach(|| records::batch(&[self.inner.report()]));
        tables::one(r.py_err(py)?)
    }

    /// Reconciliation and roll-forward rows (an Arrow table, a row each) at `level` (`component`, `segment` or
    /// `partner`), against `prior_accruals`, or what the `previous` forecast required, or
    /// else the forecast's own prior accruals.
    #[pyo3(signature = (level, prior_accruals=None, previous=None))]
    fn ledger(
        &self,
        py: Python<'_>,
        level: &str,
        prior_accruals: Option<&Bound<'_, PyPriorAccruals>>,
        previous: Option<&Bound<'_, PyForecast>>,
    ) -> PyResult<PyTable> {
        let level = match level {
            "component" => LedgerLevel::Component,
            "segment" => LedgerLevel::Segment,
            "partner" => LedgerLevel::Partner,
            other => {
                return Err(to_py(
                    py,
                    Error::Request(format!(
                        "level must be 'component', 'segment' or 'partner', found '{other}'"
                    )),
                ))
            }
        };
        let booked = match (prior_accruals, previous) {
            (Some(p), _) => Some(self.inner.booked_from(&p.get().inner).py_err(py)?),
            (None, Some(f)) => Some(self.inner.booked_from_forecast(&f.get().inner).py_err(py)?),
            (None, None) => None,
        };
        let rows = py.detach(|| records::batch(&self.inner.ledger_rows(level, booked.as_deref())));
        tables::one(rows.py_err(py)?)
    }

    /// The journal's summary entries (an Arrow table, a row each): per component, or per
    /// segment and component.
    fn journal_summary(&self, py: Python<'_>, by_segment: bool) -> PyResult<PyTable> {
        let rows = py.detach(|| records::batch(&self.inner.journal_summary(by_segment, true)));
        tables::one(rows.py_err(py)?)
    }

    /// Final total payout per scenario, after (`total_payout`) and before
    /// (`total_payout_before_budget`) the budget: an Arrow table, a row per scenario.
    fn totals(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.totals_batch().py_err(py)?)
    }

    /// Final payout per scenario of partner `i` (population order): column `payout`.
    fn partner_payout(&self, py: Python<'_>, i: usize) -> PyResult<PyTable> {
        check_index("partner", i, self.inner.partner_ids.len()).py_err(py)?;
        tables::one(payout_batch(self.inner.partner_payout(i)).py_err(py)?)
    }

    /// Final payout per scenario of component `c`: column `payout`.
    fn component_payout(&self, py: Python<'_>, c: usize) -> PyResult<PyTable> {
        check_index("component", c, self.inner.components.len()).py_err(py)?;
        tables::one(payout_batch(self.inner.component_payout(c)).py_err(py)?)
    }

    /// Final payout per scenario of segment `g`: column `payout`.
    fn segment_payout(&self, py: Python<'_>, g: usize) -> PyResult<PyTable> {
        check_index("segment", g, self.inner.segments.len()).py_err(py)?;
        tables::one(payout_batch(self.inner.segment_payout(g)).py_err(py)?)
    }

    fn __repr__(&self) -> String {
        let e = self.inner.expected_value();
        format!(
            "ForecastResult({:?} as of {}, {} scenarios, expected {:.2} ± {:.2} {})",
            self.inner.programme,
            self.inner.as_of,
            self.inner.scenarios,
            e.value,
            e.se,
            self.inner.currency
        )
    }
}

/// A forecast's inputs as the Python layer passes them.
type Inputs<'a, 'py> = (
    &'a Bound<'py, PyProgramme>,
    &'a Bound<'py, PyPopulation>,
    &'a Bound<'py, PyModel>,
    &'a Bound<'py, PyTransactions>,
);

/// Run `f` (the core's forecast, a range of it, or the merge of its shards) with the GIL
/// released, Ctrl-C watched and progress reported, on the options the arguments give.
#[allow(clippy::too_many_arguments)]
fn run_forecast<T: Send>(
    py: Python<'_>,
    inputs: Inputs<'_, '_>,
    as_of: &str,
    prior_accruals: Option<&Bound<'_, PyPriorAccruals>>,
    scenarios: usize,
    seed: u64,
    threads: Option<usize>,
    confidence: f64,
    progress: Option<Py<PyAny>>,
    draws: &[Model],
    f: impl for<'x> FnOnce(
            &Compiled,
            &Population,
            &Model,
            &Transactions,
            NaiveDate,
            &ForecastOptions<'x>,
        ) -> crate::Result<T>
        + Send,
) -> PyResult<T> {
    let (programme, population, model, actuals) = inputs;
    let date = parse_date("as_of", as_of).py_err(py)?;
    let threads = forecast_threads(threads).py_err(py)?;
    let (c, p, m, t) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
        &actuals.get().inner,
    );
    let prior = prior_accruals.map(|x| &x.get().inner);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<PyErr>> = Mutex::new(None);
    let report = |done: usize, total: usize| {
        report_progress(progress.as_ref(), &stop, &failure, done, total);
    };
    let opts = ForecastOptions {
        scenarios,
        seed,
        threads,
        confidence,
        prior_accruals: prior,
        progress: Some(&report),
        cancel: Some(&stop),
        parameter_draws: draws,
    };
    let result = watch_signals(py, &stop, &failure, || f(c, p, m, t, date, &opts));
    finish(py, result, failure)
}

/// Forecast a programme's final payout from actuals to `as_of` (see `rebatesim.forecast`).
#[pyfunction]
#[pyo3(signature = (programme, population, model, actuals, as_of, prior_accruals=None, scenarios=1000, seed=0, threads=None, confidence=0.9, progress=None, draws=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn forecast(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    actuals: &Bound<'_, PyTransactions>,
    as_of: &str,
    prior_accruals: Option<&Bound<'_, PyPriorAccruals>>,
    scenarios: usize,
    seed: u64,
    threads: Option<usize>,
    confidence: f64,
    progress: Option<Py<PyAny>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<PyForecast> {
    let draws = models(draws);
    run_forecast(
        py,
        (programme, population, model, actuals),
        as_of,
        prior_accruals,
        scenarios,
        seed,
        threads,
        confidence,
        progress,
        &draws,
        core_forecast,
    )
    .map(|inner| PyForecast { inner })
}

/// Scenarios `[start, end)` of the forecast `forecast` makes with the same arguments, as
/// bytes for `forecast_merge` (scale-out).
#[pyfunction]
#[pyo3(signature = (programme, population, model, actuals, as_of, prior_accruals, scenarios, seed, threads, confidence, start, end, progress=None, draws=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn forecast_shard<'py>(
    py: Python<'py>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    actuals: &Bound<'_, PyTransactions>,
    as_of: &str,
    prior_accruals: Option<&Bound<'_, PyPriorAccruals>>,
    scenarios: usize,
    seed: u64,
    threads: Option<usize>,
    confidence: f64,
    start: usize,
    end: usize,
    progress: Option<Py<PyAny>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let draws = models(draws);
    let bytes = run_forecast(
        py,
        (programme, population, model, actuals),
        as_of,
        prior_accruals,
        scenarios,
        seed,
        threads,
        confidence,
        progress,
        &draws,
        |c, p, m, t, d, o| forecast_shard_core(c, p, m, t, d, o, start..end),
    )?;
    Ok(PyBytes::new(py, &bytes))
}

/// The forecast from the shards (`forecast_shard`) of consecutive scenario ranges covering
/// all its scenarios, bit for bit `forecast` with the same arguments.
#[pyfunction]
#[pyo3(signature = (programme, population, model, actuals, as_of, prior_accruals, scenarios, seed, threads, confidence, shards, draws=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn forecast_merge(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    actuals: &Bound<'_, PyTransactions>,
    as_of: &str,
    prior_accruals: Option<&Bound<'_, PyPriorAccruals>>,
    scenarios: usize,
    seed: u64,
    threads: Option<usize>,
    confidence: f64,
    shards: Vec<Vec<u8>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<PyForecast> {
    let draws = models(draws);
    run_forecast(
        py,
        (programme, population, model, actuals),
        as_of,
        prior_accruals,
        scenarios,
        seed,
        threads,
        confidence,
        None,
        &draws,
        |c, p, m, t, d, o| forecast_from_shards(c, p, m, t, d, o, &shards),
    )
    .map(|inner| PyForecast { inner })
}

/// A transaction table as bytes (`transactions_from_bytes` reads it back exactly).
#[pyfunction]
fn transactions_to_bytes<'py>(
    py: Python<'py>,
    table: &Bound<'_, PyTransactions>,
) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &wire::transactions_to_bytes(&table.get().inner))
}

/// The transaction table `transactions_to_bytes` wrote.
#[pyfunction]
fn transactions_from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PyTransactions> {
    wire::transactions_from_bytes(data)
        .py_err(py)
        .map(|inner| PyTransactions { inner })
}

/// Prior accruals as bytes (`prior_accruals_from_bytes` reads them back exactly).
#[pyfunction]
fn prior_accruals_to_bytes<'py>(
    py: Python<'py>,
    table: &Bound<'_, PyPriorAccruals>,
) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &wire::prior_to_bytes(&table.get().inner))
}

/// The prior accruals `prior_accruals_to_bytes` wrote.
#[pyfunction]
fn prior_accruals_from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PyPriorAccruals> {
    wire::prior_from_bytes(data)
        .py_err(py)
        .map(|inner| PyPriorAccruals { inner })
}

/// Register the forecast classes and function.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPriorAccruals>()?;
    m.add_class::<PyForecast>()?;
    m.add_function(wrap_pyfunction!(forecast, m)?)?;
    m.add_function(wrap_pyfunction!(forecast_shard, m)?)?;
    m.add_function(wrap_pyfunction!(forecast_merge, m)?)?;
    m.add_function(wrap_pyfunction!(transactions_to_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(transactions_from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(prior_accruals_to_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(prior_accruals_from_bytes, m)?)?;
    Ok(())
}
