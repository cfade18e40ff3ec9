//! `rebatesim._core.sensitivity`: one-at-a-time sensitivity analysis (see
//! `rebatesim.sensitivity` in python/rebatesim/sensitivity.py for the public API).

use pyo3::prelude::*;
use serde_json::{json, Value};

use super::errors::IntoPy;
use super::programme::PyProgramme;
use super::run::{run_detached, settings, RunArgs};
use super::simulate::{PyModel, PyPopulation};
use crate::request::{AssumptionRequest, ChangeRequest};
use crate::sensitivity::{self as sens, Difference, Outcome, SensitivityOptions};

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
    let (name, parameter, low_kind, low_value, high_kind, high_value, low_model, high_model, low_label, high_label) =
        spec;
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

fn summary(s: &crate::summary::Summary) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

fn outcome(o: &Outcome) -> Value {
    json!({"payout": summary(&o.payout), "roi": summary(&o.roi), "incremental_margin": summary(&o.incremental_margin)})
}

fn difference(d: &Difference) -> Value {
    json!({"payout": summary(&d.payout), "roi": summary(&d.roi), "incremental_margin": summary(&d.incremental_margin)})
}

/// One-at-a-time sensitivity analysis; returns the results as JSON text.
#[pyfunction]
#[pyo3(signature = (programme, population, model, assumptions, run, progress=None))]
pub(crate) fn sensitivity(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    population: &Bound<'_, PyPopulation>,
    model: &Bound<'_, PyModel>,
    assumptions: Option<Vec<Spec<'_>>>,
    run: RunArgs,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let assumptions = match assumptions {
        None => None,
        Some(v) => Some(
            v.into_iter()
                .map(|spec| assumption_request(spec).resolve())
                .collect::<crate::Result<Vec<_>>>()
                .py_err(py)?,
        ),
    };
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
                sim: *opt,
                assumptions,
            },
        )
    })?;
    let rows: Vec<Value> = s
        .rows
        .iter()
        .map(|r| {
            json!({
                "assumption": r.assumption,
                "parameter": r.parameter,
                "low_label": r.low_label,
                "high_label": r.high_label,
                "base_value": r.base_value,
                "low_value": r.low_value,
                "high_value": r.high_value,
                "low": outcome(&r.low),
                "high": outcome(&r.high),
                "low_vs_base": difference(&r.low_vs_base),
                "high_vs_base": difference(&r.high_vs_base),
                "swing": difference(&r.swing),
            })
        })
        .collect();
    let out = json!({
        "programme": s.programme,
        "currency": s.currency,
        "seed": s.seed,
        "scenarios": s.scenarios,
        "base": outcome(&s.base),
        "rows": rows,
    });
    Ok(out.to_string())
}

/// The movable model parameters: (path, min, max, per_segment, fraction, integer).
#[pyfunction]
pub(crate) fn sensitivity_parameters() -> Vec<(&'static str, f64, f64, bool, bool, bool)> {
    sens::parameters()
        .iter()
        .map(|p| (p.path, p.min, p.max, p.per_segment, p.fraction, p.integer))
        .collect()
}
