//! The Monte Carlo engine from Python: `Population`, `DemandModel`, `simulate`, `compare` and
//! their results. The GIL is released while simulating ([`super::run::run_detached`]); the
//! result's columns are built from the core's list of outcomes ([`super::convert`]).

use super::convert::{self, Table};
use super::errors::{to_py, IntoPy};
use super::programme::PyProgramme;
use super::run::{run_detached, settings, RunArgs};
use crate::demand::Model;
use crate::engine::{self, Comparison, SimOptions, SimResult};
use crate::error::Error;
use crate::population::{Population, SyntheticSpec};
use crate::request::{check_design_names, parse_format, without_position};
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use std::path::PathBuf;

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
        .map_err(without_position)
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

    /// The optional per-partner columns as given (None where not given): baseline_revenue,
    /// baseline_units, the monthly baselines (`baseline_revenue_m01` … when any partner has
    /// them), unit_price, margin_rate, demand_revenue (when any partner has it).
    #[allow(clippy::type_complexity)]
    fn columns(&self) -> Vec<(String, Vec<Option<f64>>)> {
        let p = &self.inner;
        let mut cols = vec![
            ("baseline_revenue".to_owned(), p.baseline_revenue.clone()),
            ("baseline_units".to_owned(), p.baseline_units.clone()),
        ];
        for (name, months) in [
            ("baseline_revenue", &p.baseline_revenue_months),
            ("baseline_units", &p.baseline_units_months),
        ] {
            if months.iter().any(Option::is_some) {
                for j in 0..12 {
                    cols.push((
                        crate::monthly_baselines::column_name(name, j + 1),
                        months.iter().map(|m| m.as_ref().map(|m| m[j])).collect(),
                    ));
                }
            }
        }
        cols.push(("unit_price".to_owned(), p.unit_price.clone()));
        cols.push(("margin_rate".to_owned(), p.margin_rate.clone()));
        if p.demand_revenue.iter().any(Option::is_some) {
            cols.push(("demand_revenue".to_owned(), p.demand_revenue.clone()));
        }
        cols
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
        let fmt = parse_format(format).py_err(py)?;
        let r = Model::from_str(text, fmt, file);
        let r = if positions {
            r
        } else {
            r.map_err(without_position)
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
        let fmt = parse_format(format).py_err(py)?;
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

/// Simulate a programme (see `rebatesim.simulate`).
#[pyfunction]
#[pyo3(signature = (programme, population, model, run, progress=None, draws=None))]
pub(crate) fn simulate(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    run: RunArgs,
    progress: Option<Py<PyAny>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<PySimResult> {
    let o = settings(py, run)?;
    let (c, p, m) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
    );
    let draws = models(draws);
    run_detached(py, progress, &o, |opt| {
        engine::simulate(
            c,
            p,
            m,
            &SimOptions {
                parameter_draws: &draws,
                ..*opt
            },
        )
    })
    .map(|inner| PySimResult { inner })
}

/// The parameter draws a run was given (none: an empty list).
pub(super) fn models(draws: Option<Vec<PyRef<'_, PyModel>>>) -> Vec<Model> {
    draws
        .unwrap_or_default()
        .iter()
        .map(|d| d.inner.clone())
        .collect()
}

/// Compare designs on common random numbers (see `rebatesim.compare`).
#[pyfunction]
#[pyo3(signature = (names, programmes, population, model, run, progress=None, draws=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn compare(
    py: Python<'_>,
    names: Vec<String>,
    programmes: Vec<Bound<'_, PyProgramme>>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    run: RunArgs,
    progress: Option<Py<PyAny>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<PyComparison> {
    check_design_names(names.len(), programmes.len()).py_err(py)?;
    let o = settings(py, run)?;
    let compiled: Vec<&crate::programme::Compiled> =
        programmes.iter().map(|p| &p.get().compiled).collect();
    let designs: Vec<(&str, &crate::programme::Compiled)> =
        names.iter().map(|s| s.as_str()).zip(compiled).collect();
    let (p, m) = (&population.get().inner, &model.get().inner);
    let draws = models(draws);
    run_detached(py, progress, &o, |opt| {
        engine::compare(
            &designs,
            p,
            m,
            &SimOptions {
                parameter_draws: &draws,
                ..*opt
            },
        )
    })
    .map(|inner| PyComparison { inner })
}

/// The result of a simulation (see `rebatesim.SimulationResult` for the public API).
#[pyclass(name = "SimResult", module = "rebatesim._core", frozen)]
pub(crate) struct PySimResult {
    pub(super) inner: SimResult,
}

#[pymethods]
impl PySimResult {
    /// Run metadata as a one-row Arrow table: programme, currency, seed, scenarios,
    /// precision_met, budget, segments, components, ladders [{component, tiers}], months,
    /// cash_months.
    fn meta(&self, py: Python<'_>) -> PyResult<PyTable> {
        convert::table(py, &self.inner, Table::Meta)
    }

    /// Summaries (mean, sd, percentiles, each with its standard error) as an Arrow table of
    /// (outcome, statistic, value, se) rows.
    fn summaries(&self, py: Python<'_>) -> PyResult<PyTable> {
        convert::table(py, &self.inner, Table::Summaries)
    }

    /// The outcomes whose rows are scenarios (`outcomes()` with a "scenario..." shape), one
    /// row per scenario: a column per outcome, a fixed-size list per row for a matrix.
    fn scenarios(&self, py: Python<'_>) -> PyResult<PyTable> {
        convert::table(py, &self.inner, Table::Scenarios)
    }

    /// `partner_id` and the per-partner outcomes, one row per partner (population order).
    fn partners(&self, py: Python<'_>) -> PyResult<PyTable> {
        convert::table(py, &self.inner, Table::Partners)
    }

    /// Input uncertainty: per per-scenario outcome, the share of its variance the parameter
    /// draws add (no rows without draws).
    fn parameter_variance(&self, py: Python<'_>) -> PyResult<PyTable> {
        convert::table(py, &self.inner, Table::ParameterVariance)
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
    pub(super) inner: Comparison,
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

    /// Metadata of design `i` (as `SimResult.meta`).
    fn meta(&self, py: Python<'_>, i: usize) -> PyResult<PyTable> {
        convert::table(py, self.result(py, i)?, Table::Meta)
    }

    /// Summaries of design `i` (as `SimResult.summaries`).
    fn summaries(&self, py: Python<'_>, i: usize) -> PyResult<PyTable> {
        convert::table(py, self.result(py, i)?, Table::Summaries)
    }

    /// Scenarios table of design `i` (as `SimResult.scenarios`).
    fn scenarios(&self, py: Python<'_>, i: usize) -> PyResult<PyTable> {
        convert::table(py, self.result(py, i)?, Table::Scenarios)
    }

    /// Partners table of design `i` (as `SimResult.partners`).
    fn partners(&self, py: Python<'_>, i: usize) -> PyResult<PyTable> {
        convert::table(py, self.result(py, i)?, Table::Partners)
    }

    /// Design `i`'s `SimResult.parameter_variance()`.
    fn parameter_variance(&self, py: Python<'_>, i: usize) -> PyResult<PyTable> {
        convert::table(py, self.result(py, i)?, Table::ParameterVariance)
    }

    /// Paired differences of each design against the first: an Arrow table of (reference,
    /// design, outcome, statistic, value, se) rows.
    fn differences(&self, py: Python<'_>) -> PyResult<PyTable> {
        super::tables::one(self.inner.differences_batch().py_err(py)?)
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
