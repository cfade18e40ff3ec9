//! `rebatesim._core.ProgrammeSpec`: a parsed and validated programme.

use super::errors::IntoPy;
use crate::error::Error;
use crate::programme::{
    BundleReward, Compiled, Format, OrderReward, Programme, Reward, Rule, Tier, UnitsAbove,
};
use pyo3::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::path::PathBuf;

/// A programme read from a file or text, always validated (an invalid programme never
/// exists as an object).
#[pyclass(name = "ProgrammeSpec", module = "rebatesim._core", frozen)]
pub(crate) struct PyProgramme {
    pub(crate) spec: Programme,
    pub(crate) compiled: Compiled,
}

pub(crate) fn parse_format(py: Python<'_>, format: &str) -> PyResult<Format> {
    match format.to_ascii_lowercase().as_str() {
        "toml" => Ok(Format::Toml),
        "json" => Ok(Format::Json),
        "yaml" | "yml" => Ok(Format::Yaml),
        other => Err(super::errors::to_py(
            py,
            Error::Request(format!(
                "unknown format \"{other}\": expected \"toml\", \"json\" or \"yaml\""
            )),
        )),
    }
}

/// Drop line/column from a programme error (for text generated from a dict, whose
/// positions mean nothing to the caller).
fn without_position(e: Error) -> Error {
    match e {
        Error::Programme(fe) => Error::Programme(fe.without_position()),
        other => other,
    }
}

fn dec(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

fn opt_dec(d: Option<Decimal>) -> Value {
    d.map(dec).unwrap_or(Value::Null)
}

fn tiers_json(tiers: &[Tier], growth: bool) -> Value {
    let hundred = Decimal::ONE_HUNDRED;
    Value::Array(
        tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (kind, value) = match t.reward {
                    Reward::Rate(r) => ("percent", r * hundred),
                    Reward::PerUnit(u) => ("per_unit", u),
                    Reward::Fixed(f) => ("fixed", f),
                };
                json!({
                    "tier": i + 1,
                    "from": dec(if growth { t.threshold * hundred } else { t.threshold }),
                    "reward": kind,
                    "value": dec(value),
                })
            })
            .collect(),
    )
}

/// A display-oriented description of the compiled programme (defaults filled in,
/// periods and payment dates computed), as JSON.
fn describe(c: &Compiled) -> Value {
    let cal = &c.calendar;
    let periods: Vec<Value> = (0..cal.periods)
        .map(|k| {
            json!({
                "index": k,
                "label": cal.label(k),
                "start": cal.period_start(k).to_string(),
                "end": cal.period_end(k).to_string(),
                "payment_date": c.payment_date(k).to_string(),
            })
        })
        .collect();
    let components: Vec<Value> = c
        .components
        .iter()
        .map(|cc| {
            let mut v = json!({
                "id": cc.id,
                "name": cc.name,
                "measure": cc.measure,
                "returns": cc.returns,
                "cap": opt_dec(cc.cap),
                "exclusive_group": cc.exclusive_group,
                "segments": cc.scope.segments,
                "categories": cc.scope.categories,
                "partners": cc.scope.partners,
            });
            let extra = match &cc.rule {
                Rule::Volume { basis, method, tiers, basis_cap } => json!({
                    "kind": "volume", "basis": basis, "method": method,
                    "tiers": tiers_json(tiers, false), "basis_cap": opt_dec(*basis_cap),
                }),
                Rule::Growth { basis, applies_to, tiers } => json!({
                    "kind": "growth", "basis": basis, "applies_to": applies_to,
                    "tiers": tiers_json(tiers, true),
                }),
                Rule::PerUnit { amount, above } => json!({
                    "kind": "per_unit", "amount": dec(*amount),
                    "above": match above {
                        UnitsAbove::None => Value::Null,
                        UnitsAbove::Quantity(q) => dec(*q),
                        UnitsAbove::Baseline => Value::String("baseline".into()),
                    },
                }),
                Rule::Bundle { basis, minimums, reward } => json!({
                    "kind": "bundle", "basis": basis,
                    "minimums": minimums.iter().map(|(k, v)| json!({"category": k, "minimum": dec(*v)})).collect::<Vec<_>>(),
                    "percent": match reward { BundleReward::Rate(r) => dec(*r * Decimal::ONE_HUNDRED), _ => Value::Null },
                    "fixed": match reward { BundleReward::Fixed(f) => dec(*f), _ => Value::Null },
                }),
                Rule::Logistics { min_quantity, reward } => json!({
                    "kind": "logistics", "min_quantity": dec(*min_quantity),
                    "percent": match reward { OrderReward::Rate(r) => dec(*r * Decimal::ONE_HUNDRED), _ => Value::Null },
                    "per_order": match reward { OrderReward::PerOrder(p) => dec(*p), _ => Value::Null },
                }),
            };
            if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
                m.extend(e);
            }
            v
        })
        .collect();
    json!({
        "name": c.name,
        "currency": c.currency,
        "decimals": c.decimals,
        "rounding": c.rounding,
        "start": cal.period_start(0).to_string(),
        "end": cal.end().to_string(),
        "period": cal.length,
        "periods": periods,
        "segments": c.segments,
        "categories": c.categories,
        "budget": opt_dec(c.budget),
        "partner_cap": opt_dec(c.partner_cap),
        "minimum_payout": opt_dec(c.minimum_payout),
        "payment": {"when": c.payment_timing, "lag_days": c.payment_lag_days},
        "components": components,
    })
}

#[pymethods]
impl PyProgramme {
    /// Parse `text` in `format` ("toml", "json" or "yaml") and validate it. `file` names the
    /// source in error messages; `positions=False` drops line/column from errors (for text
    /// generated from a dict).
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
        let result = Programme::from_str(text, fmt, file).and_then(|spec| {
            let compiled = spec.compile_located(text, fmt, file)?;
            Ok(PyProgramme { spec, compiled })
        });
        let result = if positions {
            result
        } else {
            result.map_err(without_position)
        };
        result.py_err(py)
    }

    /// Read and validate a programme file (format from the extension).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let result = Programme::from_file(&path).and_then(|spec| {
            let compiled = spec.compile()?;
            Ok(PyProgramme { spec, compiled })
        });
        result.py_err(py)
    }

    /// The programme in `format` ("toml", "json" or "yaml"); reading it back gives an equal
    /// programme.
    fn to_text(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let fmt = parse_format(py, format)?;
        self.spec.to_string(fmt).py_err(py)
    }

    /// Validate again (a ProgrammeSpec is validated when built, so this only re-checks).
    fn validate(&self, py: Python<'_>) -> PyResult<()> {
        self.spec.compile().map(|_| ()).py_err(py)
    }

    /// The compiled programme described as JSON: defaults filled in, periods with labels and
    /// payment dates, components with their ladders (amounts as exact decimal strings).
    fn describe(&self) -> String {
        describe(&self.compiled).to_string()
    }

    /// Programme name.
    #[getter]
    fn name(&self) -> String {
        self.compiled.name.clone()
    }

    /// Currency code.
    #[getter]
    fn currency(&self) -> String {
        self.compiled.currency.clone()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyProgramme>() {
            Ok(o) => o.get().spec == self.spec,
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "ProgrammeSpec({:?}, {} components)",
            self.compiled.name,
            self.compiled.components.len()
        )
    }
}
