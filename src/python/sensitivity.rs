//! `rebatesim._core.sensitivity`: one-at-a-time sensitivity analysis (see
//! `rebatesim.sensitivity` in python/rebatesim/sensitivity.py for the public API).

use pyo3::prelude::*;
use pyo3_arrow::PyTable;

use super::errors::IntoPy;
use super::programme::PyProgramme;
use super::run::{run_detached, settings, RunArgs};
use super::simulate::{PyModel, PyPopulation};
use super::tables;
use crate::engine::{self, Shard};
use crate::request::{AssumptionRequest, ChangeRequest};
use crate::sensitivity::{self as sens, SensitivityOptions};

/// One assumption as the Python layer passes it:
/// `(name, parameter, low_kind, low_value, high_kind, high_value, low_model, high_model,
/// low_label, high_label)`; kinds are "scale", "add" or "set"; either the parameter with
/// both changes or both models.
type Spec<'py> = (
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<f64>,
    Option<Bound<'py, PyModel>>,
    Option<Bound<'py, PyModel>>,
    Option<String>,
    Option<String>,
);

/// The core's request for one assumption tuple (models cloned out of their Python objects).
fn assumption_request(spec: Spec<'_>) -> AssumptionRequest {
    let (
        name,
        parameter,
        low_kind,
        low_value,
        high_kind,
        high_value,
        low_model,
        high_model,
        low_label,
        high_label,
    ) = spec;
    AssumptionRequest {
        name,
        parameter,
        low: ChangeRequest {
            kind: low_kind,
            value: low_value,
        },
        high: ChangeRequest {
            kind: high_kind,
            value: high_value,
        },
        low_model: low_model.map(|m| m.get().inner.clone()),
        high_model: high_model.map(|m| m.get().inner.clone()),
        low_label,
        high_label,
    }
}

/// The core's assumptions from the Python layer's tuples (`None`: the model's defaults).
fn requests(
    py: Python<'_>,
    assumptions: Option<Vec<Spec<'_>>>,
) -> PyResult<Option<Vec<sens::Assumption>>> {
    match assumptions {
        None => Ok(None),
        Some(v) => v
            .into_iter()
            .map(|spec| assumption_request(spec).resolve())
            .collect::<crate::Result<Vec<_>>>()
            .py_err(py)
            .map(Some),
    }
}

/// The result of a sensitivity analysis, as the Arrow tables the core builds
/// ([`crate::sensitivity::arrow`]).
#[pyclass(name = "SensitivityResult", module = "rebatesim._core", frozen)]
pub(crate) struct PySensitivity {
    inner: sens::Sensitivity,
}

#[pymethods]
impl PySensitivity {
    /// One row: programme, currency, seed, scenarios.
    fn meta(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.meta_batch().py_err(py)?)
    }

    /// One row per assumption: its name, parameter, labels and parameter values.
    fn assumptions(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.assumptions_batch().py_err(py)?)
    }

    /// The base run's summaries: (outcome, statistic, value, se) rows.
    fn base(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.base_batch().py_err(py)?)
    }

    /// Each assumption's runs and paired differences: (assumption, run, outcome, statistic,
    /// value, se) rows.
    fn summaries(&self, py: Python<'_>) -> PyResult<PyTable> {
        tables::one(self.inner.summaries_batch().py_err(py)?)
    }

    fn __repr__(&self) -> String {
        format!(
            "SensitivityResult({:?}, {} assumptions)",
            self.inner.programme,
            self.inner.rows.len()
        )
    }
}

/// One-at-a-time sensitivity analysis.
#[pyfunction]
#[pyo3(signature = (programme, population, model, assumptions, run, progress=None, draws=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sensitivity(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    assumptions: Option<Vec<Spec<'_>>>,
    run: RunArgs,
    progress: Option<Py<PyAny>>,
    draws: Option<Vec<PyRef<'_, PyModel>>>,
) -> PyResult<PySensitivity> {
    let assumptions = requests(py, assumptions)?;
    let draws = super::simulate::models(draws);
    let o = settings(py, run)?;
    let (c, p, m) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
    );
    let s = run_detached(py, progress, &o, move |opt| {
        sens::sensitivity(
            c,
            p,
            m,
            &SensitivityOptions {
                sim: engine::SimOptions {
                    parameter_draws: &draws,
                    ..*opt
                },
                assumptions,
            },
        )
    })?;
    Ok(PySensitivity { inner: s })
}

/// The models of a sensitivity analysis's runs after the base (assumption 0 low, 0 high,
/// 1 low, ...), as TOML texts for scale-out workers; errors as `sensitivity` for the
/// assumptions.
#[pyfunction]
pub(crate) fn sensitivity_models(
    py: Python<'_>,
    model: &Bound<'_, PyModel>,
    assumptions: Option<Vec<Spec<'_>>>,
) -> PyResult<Vec<String>> {
    let assumptions = requests(py, assumptions)?;
    let plan = sens::plan(&model.get().inner, assumptions.as_deref()).py_err(py)?;
    plan.models()
        .into_iter()
        .map(|m| m.to_string(crate::programme::Format::Toml))
        .collect::<crate::Result<Vec<_>>>()
        .py_err(py)
}

/// The parameter draws of a sensitivity analysis's runs after the base under `draws` (in the
/// order of `sensitivity_models`; each draw moved by the run's setting), as TOML texts for
/// scale-out workers; errors as `sensitivity` (an assumption of two models is refused).
#[pyfunction]
pub(crate) fn sensitivity_draws(
    py: Python<'_>,
    model: &Bound<'_, PyModel>,
    assumptions: Option<Vec<Spec<'_>>>,
    draws: Vec<PyRef<'_, PyModel>>,
) -> PyResult<Vec<Vec<String>>> {
    let assumptions = requests(py, assumptions)?;
    let draws = super::simulate::models(Some(draws));
    let plan = sens::plan(&model.get().inner, assumptions.as_deref())
        .and_then(|p| p.with_draws(&draws))
        .py_err(py)?;
    plan.draws()
        .into_iter()
        .map(|run| {
            run.iter()
                .map(|m| m.to_string(crate::programme::Format::Toml))
                .collect::<crate::Result<Vec<_>>>()
        })
        .collect::<crate::Result<Vec<_>>>()
        .py_err(py)
}

/// The sensitivity analysis from its runs' shards (`runs[0]` the base, then each
/// assumption's low and high run, each as its shards in scenario order): bit-identical to
/// `sensitivity` on the same seed and scenarios.
#[pyfunction]
pub(crate) fn sensitivity_merge(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    assumptions: Option<Vec<Spec<'_>>>,
    runs: Vec<Vec<Vec<u8>>>,
) -> PyResult<PySensitivity> {
    let assumptions = requests(py, assumptions)?;
    let (c, p, m) = (
        &programme.get().compiled,
        &population.get().inner,
        &model.get().inner,
    );
    let plan = sens::plan(m, assumptions.as_deref()).py_err(py)?;
    let models = plan.models();
    if runs.len() != plan.runs() {
        return Err(super::errors::to_py(
            py,
            crate::Error::Request(format!(
                "a sensitivity of {} assumptions needs {} runs, found {}",
                plan.assumptions.len(),
                plan.runs(),
                runs.len()
            )),
        ));
    }
    let merge = |model: &crate::demand::Model,
                 shards: &[Vec<u8>]|
     -> crate::Result<crate::engine::SimResult> {
        let shards = shards
            .iter()
            .map(|b| Shard::from_bytes(b))
            .collect::<crate::Result<Vec<_>>>()?;
        engine::merge_scenarios(c, p, model, &shards)
    };
    py.detach(|| -> crate::Result<PySensitivity> {
        let base = merge(m, &runs[0])?;
        let mut rows = Vec::with_capacity(plan.assumptions.len());
        for i in 0..plan.assumptions.len() {
            let low = merge(models[2 * i], &runs[1 + 2 * i])?;
            let high = merge(models[2 * i + 1], &runs[2 + 2 * i])?;
            if low.scenarios != base.scenarios || high.scenarios != base.scenarios {
                return Err(crate::Error::Request(
                    "the sensitivity runs cover different numbers of scenarios".into(),
                ));
            }
            rows.push(plan.row(i, &base, &low, &high));
        }
        Ok(PySensitivity {
            inner: sens::finish(&base, rows),
        })
    })
    .py_err(py)
}

/// The movable model parameters: (path, min, max, per_segment, fraction, integer).
#[pyfunction]
pub(crate) fn sensitivity_parameters() -> Vec<(&'static str, f64, f64, bool, bool, bool)> {
    sens::parameters()
        .iter()
        .map(|p| (p.path, p.min, p.max, p.per_segment, p.fraction, p.integer))
        .collect()
}
