//! The Monte Carlo engine from Python: `Population`, `DemandModel`, `simulate`, `compare`.
//! The GIL is released while simulating; the work runs on a helper thread while the calling
//! (main) thread checks for Ctrl-C every 50 ms ([`watch_signals`]) and sets the run's cancel
//! flag, which the engine checks between scenarios and before each partner; after each chunk the
//! engine's progress callback re-attaches briefly to report progress.

use super::errors::{to_py, IntoPy};
use super::programme::{parse_format, PyProgramme};
use crate::demand::Model;
use crate::engine::{self, Comparison, Precision, SimOptions, SimResult, Statistic};
use crate::error::Error;
use crate::population::{Population, SyntheticSpec};
use crate::summary::Summary;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How often the calling thread checks for Ctrl-C while the core works.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Run `work` (with the GIL released) on a helper thread while this thread, which must be the
/// one Python delivers signals to (the caller of the binding), checks for Ctrl-C every
/// [`SIGNAL_POLL`]: on a signal (KeyboardInterrupt, or whatever a Python signal handler raised)
/// the exception goes to `failure` and `stop` is set, which the core's loops check, so that the
/// work returns [`Error::Cancelled`] promptly. (`Python::check_signals` does nothing on other
/// threads, so a progress callback called from the core's workers cannot do this.)
pub(super) fn watch_signals<T: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    failure: &Mutex<Option<PyErr>>,
    work: impl FnOnce() -> T + Send,
) -> T {
    py.detach(|| {
        std::thread::scope(|scope| {
            let caller = std::thread::current();
            let worker = scope.spawn(move || {
                let out = work();
                caller.unpark();
                out
            });
            while !worker.is_finished() {
                std::thread::park_timeout(SIGNAL_POLL);
                if worker.is_finished() || stop.load(Ordering::Relaxed) {
                    continue;
                }
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                    if slot.is_none() {
                        *slot = Some(e);
                    }
                    stop.store(true, Ordering::Relaxed);
                }
            }
            match worker.join() {
                Ok(out) => out,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    })
}

/// A partner population for simulation.
#[pyclass(name = "Population", module = "rebatesim._core", frozen)]
pub(crate) struct PyPopulation {
    pub(super) inner: Population,
}

#[pymethods]
impl PyPopulation {
    /// Read a partner table from a CSV file.
    #[staticmethod]
    fn from_csv_path(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| Population::from_csv_path(&path))
            .py_err(py)
            .map(|inner| PyPopulation { inner })
    }

    /// Read a partner table from CSV text; `table` names it in errors.
    #[staticmethod]
    fn from_csv_text(py: Python<'_>, text: &str, table: &str) -> PyResult<Self> {
        py.detach(|| Population::from_csv_str(text, table))
            .py_err(py)
            .map(|inner| PyPopulation { inner })
    }

    /// A synthetic population from a JSON spec (`{"basis": ..., "segments": {name: {count,
    /// median_baseline, dispersion, unit_price, margin_rate}}}`), reproducible from `seed`.
    #[staticmethod]
    fn synthetic(py: Python<'_>, spec_json: &str, seed: u64) -> PyResult<Self> {
        let spec: SyntheticSpec = crate::programme::parse_document(
            spec_json,
            crate::programme::Format::Json,
            None,
            Error::Model,
        )
        .map_err(strip_position)
        .py_err(py)?;
        py.detach(|| Population::synthetic(&spec, seed))
            .py_err(py)
            .map(|inner| PyPopulation { inner })
    }

    /// Partner ids, in table order.
    fn partner_ids(&self) -> Vec<String> {
        self.inner.partner_id.clone()
    }

    /// Segment name of every partner.
    fn partner_segments(&self) -> Vec<String> {
        (0..self.inner.len())
            .map(|i| self.inner.segment_name(i).to_owned())
            .collect()
    }

    /// Segment names (sorted).
    #[getter]
    fn segments(&self) -> Vec<String> {
        self.inner.segments.clone()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Population({:?}, {} partners)",
            self.inner.table,
            self.inner.len()
        )
    }
}

fn strip_position(e: Error) -> Error {
    match e {
        Error::Model(fe) => Error::Model(fe.without_position()),
        other => other,
    }
}

/// A demand model (validated).
#[pyclass(name = "DemandModel", module = "rebatesim._core", frozen)]
pub(crate) struct PyModel {
    pub(super) inner: Model,
}

#[pymethods]
impl PyModel {
    /// Parse and validate a model from `text` in `format`.
    #[staticmethod]
    #[pyo3(signature = (text, format, file=None, positions=true))]
    fn from_text(
        py: Python<'_>,
        text: &str,
        format: &str,
        file: Option<&str>,
        positions: bool,
    ) -> PyResult<Self> {
        let fmt = parse_format(py, format)?;
        let r = Model::from_str(text, fmt, file);
        let r = if positions {
            r
        } else {
            r.map_err(strip_position)
        };
        r.py_err(py).map(|inner| PyModel { inner })
    }

    /// Read and validate a model file (format from the extension).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        Model::from_file(&path)
            .py_err(py)
            .map(|inner| PyModel { inner })
    }

    /// The all-default model: deterministic demand at the baseline.
    #[staticmethod]
    fn default() -> Self {
        PyModel {
            inner: Model::default(),
        }
    }

    /// The model in `format`.
    fn to_text(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let fmt = parse_format(py, format)?;
        self.inner.to_string(fmt).py_err(py)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyModel>() {
            Ok(o) => o.get().inner == self.inner,
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "DemandModel({:?})",
            self.inner.description.as_deref().unwrap_or("")
        )
    }
}

fn parse_statistic(py: Python<'_>, s: &str) -> PyResult<Statistic> {
    let t = s.trim().to_ascii_lowercase();
    if t == "mean" {
        return Ok(Statistic::Mean);
    }
    if let Some(q) = t.strip_prefix('p').and_then(|x| x.parse::<f64>().ok()) {
        if q > 0.0 && q < 100.0 {
            return Ok(Statistic::Percentile(q / 100.0));
        }
    }
    Err(to_py(
        py,
        Error::Request(format!(
            "unknown statistic \"{s}\": expected \"mean\" or a percentile such as \"p95\""
        )),
    ))
}

pub(super) struct Opts {
    scenarios: usize,
    seed: u64,
    threads: Option<usize>,
    chunk_size: usize,
    precision: Option<Precision>,
    memory_limit: usize,
}

/// The run options that `simulate`, `compare` and `sensitivity` share, as
/// `rebatesim.simulation._kwargs` builds them: a dict with every key (`None` for a default).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(super) struct RunArgs {
    scenarios: usize,
    seed: u64,
    threads: Option<usize>,
    chunk_size: Option<usize>,
    statistic: Option<String>,
    tolerance: Option<f64>,
    max_scenarios: Option<usize>,
    memory_limit: Option<usize>,
}

impl RunArgs {
    /// `scenarios`, `seed` and `threads`, the rest the engine's defaults.
    pub(super) fn basic(scenarios: usize, seed: u64, threads: Option<usize>) -> RunArgs {
        RunArgs {
            scenarios,
            seed,
            threads,
            chunk_size: None,
            statistic: None,
            tolerance: None,
            max_scenarios: None,
            memory_limit: None,
        }
    }
}

pub(super) fn opts(py: Python<'_>, run: RunArgs) -> PyResult<Opts> {
    let RunArgs {
        scenarios,
        seed,
        threads,
        chunk_size,
        statistic,
        tolerance,
        max_scenarios,
        memory_limit,
    } = run;
    let d = SimOptions::default();
    let precision = match (statistic, tolerance) {
        (_, None) => None,
        (s, Some(tol)) => {
            let stat = parse_statistic(py, s.as_deref().unwrap_or("mean"))?;
            Some(Precision::new(
                stat,
                tol,
                max_scenarios.unwrap_or(scenarios.max(1)),
            ))
        }
    };
    Ok(Opts {
        scenarios,
        seed,
        threads,
        chunk_size: chunk_size.unwrap_or(d.chunk_size),
        precision,
        memory_limit: memory_limit.unwrap_or(d.memory_limit),
    })
}

/// Run `f` with the GIL released and a progress callback that reports to `progress` (a
/// Python callable taking (done, total)); Ctrl-C stops it promptly ([`watch_signals`]).
pub(super) fn run_detached<T: Send>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    o: &Opts,
    f: impl for<'a> FnOnce(&SimOptions<'a>) -> crate::Result<T> + Send,
) -> PyResult<T> {
    let failure: Mutex<Option<PyErr>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let report = |done: usize, total: usize| -> bool {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let Some(cb) = &progress else { return true };
        Python::attach(|py| {
            if let Err(e) = cb.call1(py, (done, total)) {
                *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                stop.store(true, Ordering::Relaxed);
                return false;
            }
            true
        })
    };
    let options = SimOptions {
        scenarios: o.scenarios,
        seed: o.seed,
        threads: o.threads,
        chunk_size: o.chunk_size,
        precision: o.precision,
        memory_limit: o.memory_limit,
        progress: Some(&report),
        cancel: Some(&stop),
    };
    let result = watch_signals(py, &stop, &failure, || f(&options));
    match result {
        Ok(v) => Ok(v),
        Err(Error::Cancelled) => match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Err(to_py(py, Error::Cancelled)),
        },
        Err(e) => Err(to_py(py, e)),
    }
}

/// Simulate a programme (see `rebatesim.simulate`).
#[pyfunction]
#[pyo3(signature = (programme, population, model, run, progress=None))]
pub(crate) fn simulate(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    run: RunArgs,
    progress: Option<Py<PyAny>>,
) -> PyResult<PySimResult> {
    let o = opts(py, run)?;
    let (c, p, m) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
    );
    run_detached(py, progress, &o, |opt| engine::simulate(c, p, m, opt))
        .map(|inner| PySimResult { inner })
}

/// Compare designs on common random numbers (see `rebatesim.compare`).
#[pyfunction]
#[pyo3(signature = (names, programmes, population, model, run, progress=None))]
pub(crate) fn compare(
    py: Python<'_>,
    names: Vec<String>,
    programmes: Vec<Bound<'_, PyProgramme>>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    run: RunArgs,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyComparison> {
    if names.len() != programmes.len() {
        return Err(to_py(
            py,
            Error::Request("compare: one name per programme".into()),
        ));
    }
    let o = opts(py, run)?;
    let compiled: Vec<&crate::programme::Compiled> =
        programmes.iter().map(|p| &p.get().compiled).collect();
    let designs: Vec<(&str, &crate::programme::Compiled)> =
        names.iter().map(|s| s.as_str()).zip(compiled).collect();
    let (p, m) = (&population.get().inner, &model.get().inner);
    run_detached(py, progress, &o, |opt| engine::compare(&designs, p, m, opt))
        .map(|inner| PyComparison { inner })
}

fn summary_value(s: &Summary) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

fn arr<'py>(py: Python<'py>, v: &[f64]) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_slice(py, v)
}

fn matrix<'py, T: numpy::Element + Copy>(
    py: Python<'py>,
    v: &[T],
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let a = PyArray1::from_slice(py, v);
    if rows * cols != v.len() {
        return Err(to_py(
            py,
            Error::Request(format!(
                "internal shape mismatch: {} values for {rows}×{cols}",
                v.len()
            )),
        ));
    }
    Ok(a.reshape([rows, cols])?.into_any())
}

fn sim_summaries(r: &SimResult) -> Value {
    json!({
        "payout": summary_value(&r.payout_summary()),
        "payout_before_budget": summary_value(&r.payout_before_budget_summary()),
        "budget_binding": serde_json::to_value(r.budget_binding()).unwrap_or(Value::Null),
        "revenue": summary_value(&r.summarize(&r.revenue)),
        "revenue_counterfactual": summary_value(&r.summarize(&r.revenue_counterfactual)),
        "incremental_revenue": summary_value(&r.summarize(&r.incremental_revenue)),
        "incremental_margin": summary_value(&r.summarize(&r.incremental_margin)),
        "roi": summary_value(&r.summarize(&r.roi)),
        "payout_counterfactual": summary_value(&r.summarize(&r.payout_counterfactual)),
        "deadweight_share": summary_value(&r.summarize(&r.deadweight_share)),
        "stretches": summary_value(&r.summarize(&r.stretches)),
    })
}

/// The result of a simulation (see `rebatesim.SimulationResult` for the public API).
#[pyclass(name = "SimResult", module = "rebatesim._core", frozen)]
pub(crate) struct PySimResult {
    inner: SimResult,
}

fn meta(r: &SimResult) -> Value {
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
}

fn per_scenario<'py>(py: Python<'py>, r: &SimResult) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("payout", arr(py, &r.payout))?;
    d.set_item("payout_before_budget", arr(py, &r.payout_before_budget))?;
    d.set_item("budget_binds", PyArray1::from_slice(py, &r.budget_binds))?;
    d.set_item("revenue", arr(py, &r.revenue))?;
    d.set_item("revenue_counterfactual", arr(py, &r.revenue_counterfactual))?;
    d.set_item("incremental_revenue", arr(py, &r.incremental_revenue))?;
    d.set_item("incremental_margin", arr(py, &r.incremental_margin))?;
    d.set_item("roi", arr(py, &r.roi))?;
    d.set_item("payout_counterfactual", arr(py, &r.payout_counterfactual))?;
    d.set_item("deadweight_share", arr(py, &r.deadweight_share))?;
    d.set_item("stretches", arr(py, &r.stretches))?;
    Ok(d)
}

fn matrices<'py>(py: Python<'py>, r: &SimResult) -> PyResult<Bound<'py, PyDict>> {
    let n = r.scenarios;
    let d = PyDict::new(py);
    d.set_item(
        "segment_payout",
        matrix(py, &r.segment_payout, n, r.segments.len())?,
    )?;
    d.set_item(
        "segment_revenue",
        matrix(py, &r.segment_revenue, n, r.segments.len())?,
    )?;
    for (name, m) in [
        (
            "segment_revenue_counterfactual",
            &r.segment_revenue_counterfactual,
        ),
        (
            "segment_incremental_revenue",
            &r.segment_incremental_revenue,
        ),
        ("segment_incremental_margin", &r.segment_incremental_margin),
        (
            "segment_payout_counterfactual",
            &r.segment_payout_counterfactual,
        ),
        ("segment_roi", &r.segment_roi),
        ("segment_deadweight_share", &r.segment_deadweight_share),
    ] {
        d.set_item(name, matrix(py, m, n, r.segments.len())?)?;
    }
    d.set_item(
        "component_payout",
        matrix(py, &r.component_payout, n, r.components.len())?,
    )?;
    d.set_item("accrual", matrix(py, &r.accrual, n, r.months)?)?;
    d.set_item("cash", matrix(py, &r.cash, n, r.cash_months)?)?;
    let width: usize = r.ladders.iter().map(|l| l.tiers + 1).sum();
    d.set_item("tier_counts", matrix(py, &r.tier_counts, n, width)?)?;
    let np = r.partner_ids.len();
    d.set_item(
        "partner_expected_payout",
        arr(py, &r.partner_expected_payout),
    )?;
    d.set_item(
        "partner_expected_payout_before_budget",
        arr(py, &r.partner_expected_payout_before_budget),
    )?;
    let pw: usize = r.ladders.iter().map(|l| l.tiers).sum();
    d.set_item(
        "partner_tier_probability",
        matrix(py, &r.partner_tier_probability, np, pw)?,
    )?;
    Ok(d)
}

#[pymethods]
impl PySimResult {
    /// Run metadata as JSON: programme, currency, seed, scenarios, precision_met, budget,
    /// segments, components, ladders [{component, tiers}], months, cash_months.
    fn meta(&self) -> String {
        meta(&self.inner).to_string()
    }

    /// Summaries (mean, sd, percentiles, each with its standard error) as JSON.
    fn summaries(&self) -> String {
        sim_summaries(&self.inner).to_string()
    }

    /// Per-scenario outcomes: name → 1-D array (scenario order).
    fn per_scenario<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        per_scenario(py, &self.inner)
    }

    /// Matrices: segment_payout, segment_revenue, segment_revenue_counterfactual,
    /// segment_incremental_revenue, segment_incremental_margin, segment_payout_counterfactual,
    /// segment_roi, segment_deadweight_share, component_payout (scenarios × names),
    /// accrual (scenarios × months), cash (scenarios × cash months), tier_counts (scenarios ×
    /// Σ(tiers+1) over ladders), partner_expected_payout(_before_budget) (partners),
    /// partner_tier_probability (partners × Σ tiers).
    fn matrices<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        matrices(py, &self.inner)
    }

    /// Partner ids (population order).
    fn partner_ids(&self) -> Vec<String> {
        self.inner.partner_ids.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "SimResult({:?}, {} scenarios)",
            self.inner.programme, self.inner.scenarios
        )
    }
}

/// The result of a comparison.
#[pyclass(name = "ComparisonResult", module = "rebatesim._core", frozen)]
pub(crate) struct PyComparison {
    inner: Comparison,
}

#[pymethods]
impl PyComparison {
    /// Design names, in the order given.
    fn names(&self) -> Vec<String> {
        self.inner.names.clone()
    }

    /// Number of designs.
    fn __len__(&self) -> usize {
        self.inner.results.len()
    }

    /// Metadata of design `i` as JSON.
    fn meta(&self, py: Python<'_>, i: usize) -> PyResult<String> {
        Ok(meta(self.result(py, i)?).to_string())
    }

    /// Summaries of design `i` as JSON.
    fn summaries(&self, py: Python<'_>, i: usize) -> PyResult<String> {
        Ok(sim_summaries(self.result(py, i)?).to_string())
    }

    /// Per-scenario outcomes of design `i`.
    fn per_scenario<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyDict>> {
        per_scenario(py, self.result(py, i)?)
    }

    /// Matrices of design `i`.
    fn matrices<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyDict>> {
        matrices(py, self.result(py, i)?)
    }

    /// Partner ids of design `i`.
    fn partner_ids(&self, py: Python<'_>, i: usize) -> PyResult<Vec<String>> {
        Ok(self.result(py, i)?.partner_ids.clone())
    }

    /// Paired differences of each design against the first, as JSON.
    fn differences(&self) -> String {
        Value::Array(
            self.inner
                .differences
                .iter()
                .map(|d| {
                    json!({
                        "reference": d.reference,
                        "design": d.design,
                        "payout": summary_value(&d.payout),
                        "revenue": summary_value(&d.revenue),
                        "incremental_margin": summary_value(&d.incremental_margin),
                        "roi": summary_value(&d.roi),
                        "deadweight_share": summary_value(&d.deadweight_share),
                        "budget_binding": summary_value(&d.budget_binding),
                    })
                })
                .collect(),
        )
        .to_string()
    }
}

impl PyComparison {
    fn result(&self, py: Python<'_>, i: usize) -> PyResult<&SimResult> {
        self.inner
            .results
            .get(i)
            .ok_or_else(|| to_py(py, Error::Request(format!("no design {i}"))))
    }
}
