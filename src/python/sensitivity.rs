//! `rebatesim._core.sensitivity`: one-at-a-time sensitivity analysis (see
//! `rebatesim.sensitivity` in python/rebatesim/sensitivity.py for the public API).

use pyo3::prelude::*;
use serde_json::{json, Value};

use super::errors::to_py;
use super::programme::PyProgramme;
use super::simulate::{opts, run_detached, PyModel, PyPopulation, RunArgs};
use crate::error::Error;
use crate::sensitivity::{
    self as sens, Assumption, Change, Difference, Outcome, SensitivityOptions,
};

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

fn change(name: &str, side: &str, kind: Option<&str>, value: Option<f64>) -> crate::Result<Change> {
    let v = value.ok_or_else(|| {
        Error::Request(format!(
            "assumption '{name}': the {side} setting has no value"
        ))
    })?;
    match kind.unwrap_or("set") {
        "scale" => Ok(Change::Scale(v)),
        "add" => Ok(Change::Add(v)),
        "set" => Ok(Change::Set(v)),
        other => Err(Error::Request(format!(
            "assumption '{name}': unknown {side} change '{other}': expected scale, add or set"
        ))),
    }
}

fn assumption(spec: Spec<'_>) -> crate::Result<Assumption> {
    let (name, path, lk, lv, hk, hv, lm, hm, ll, hl) = spec;
    let mut a = match (path, lm, hm) {
        (Some(path), None, None) => {
            let low = change(&name, "low", lk.as_deref(), lv)?;
            let high = change(&name, "high", hk.as_deref(), hv)?;
            Assumption::parameter(name.clone(), path, low, high)
        }
        (None, Some(lo), Some(hi)) => Assumption::models(
            name.clone(),
            ll.clone().unwrap_or_else(|| "low".into()),
            hl.clone().unwrap_or_else(|| "high".into()),
            lo.get().inner.clone(),
            hi.get().inner.clone(),
        ),
        _ => {
            return Err(Error::Request(format!(
                "assumption '{name}': give either a parameter with low and high changes or a low and a high model"
            )))
        }
    };
    if let Some(l) = ll {
        a.low_label = l;
    }
    if let Some(h) = hl {
        a.high_label = h;
    }
    Ok(a)
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
                .map(assumption)
                .collect::<crate::Result<Vec<_>>>()
                .map_err(|e| to_py(py, e))?,
        ),
    };
    let o = opts(py, run)?;
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
