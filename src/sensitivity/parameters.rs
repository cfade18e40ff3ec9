//! The model parameters a sensitivity analysis can move, their valid ranges, and how a
//! [`Change`] moves one of them in a model.

use crate::demand::Model;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// How an assumption's parameter is moved from its base value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// Multiply by the factor (0.5 = −50%, 1.5 = +50%). The result is limited to the
    /// parameter's valid range (e.g. a probability of 0.8 × 1.5 becomes 1).
    Scale(f64),
    /// Add the amount (e.g. +0.05 = +5 percentage points of annual growth), limited to the
    /// parameter's valid range.
    Add(f64),
    /// Set to exactly this value (an error if it is outside the parameter's valid range).
    Set(f64),
}

impl Change {
    /// The number the change is given with.
    fn amount(&self) -> f64 {
        match *self {
            Change::Scale(x) | Change::Add(x) | Change::Set(x) => x,
        }
    }

    /// How the change is described in tables and charts ("−50%", "+5 pp", "off", "= 0.3").
    pub(super) fn label(&self, path: &str) -> String {
        match *self {
            Change::Scale(f) => {
                let pct = (f - 1.0) * 100.0;
                if f == 0.0 {
                    "off".into()
                } else if pct.abs() < 1e-9 {
                    "base".into()
                } else {
                    format!("{}{}%", if pct > 0.0 { "+" } else { "−" }, trim(pct.abs()))
                }
            }
            Change::Add(d) => {
                let sign = if d >= 0.0 { "+" } else { "−" };
                if PARAMETERS.iter().any(|p| p.path == path && p.fraction) {
                    format!("{sign}{} pp", trim(d.abs() * 100.0))
                } else {
                    format!("{sign}{}", trim(d.abs()))
                }
            }
            Change::Set(v) => {
                if v == 0.0 {
                    "off".into()
                } else {
                    format!("= {}", trim(v))
                }
            }
        }
    }
}

/// `x` with at most four decimals and no trailing zeros.
fn trim(x: f64) -> String {
    let s = format!("{:.4}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// A model parameter that a sensitivity analysis can move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parameter {
    /// Path in the model file, e.g. `"noise.sigma"`.
    pub path: &'static str,
    /// Lowest valid value.
    pub min: f64,
    /// Highest valid value.
    pub max: f64,
    /// Whether the parameter takes per-segment overrides (a change applies to the default
    /// and to every override alike).
    pub per_segment: bool,
    /// Whether the parameter is a fraction (additive changes are labelled in percentage points).
    pub fraction: bool,
    /// Whether the parameter is a whole number (changed values are rounded).
    pub integer: bool,
}

/// A parameter that is not a whole number (the common case in [`PARAMETERS`]).
const fn p(path: &'static str, min: f64, max: f64, per_segment: bool, fraction: bool) -> Parameter {
    Parameter {
        path,
        min,
        max,
        per_segment,
        fraction,
        integer: false,
    }
}

/// Every parameter a sensitivity analysis can move, with its valid range (the model's own
/// validation ranges; `market.rho` stops at 0.99 since it must stay below 1).
pub const PARAMETERS: &[Parameter] = &[
    p("growth.rate", -0.99, 100.0, true, true),
    p("market.sigma", 0.0, 3.0, false, false),
    p("market.rho", 0.0, 0.99, false, true),
    p("market.monthly_sigma", 0.0, 1.0, false, false),
    p("segment_factor.sigma", 0.0, 3.0, true, false),
    p("partner_factor.sigma", 0.0, 3.0, true, false),
    p("noise.sigma", 0.0, 3.0, true, false),
    p("churn.monthly_hazard", 0.0, 1.0, true, true),
    p("incidence.probability", 0.001, 1.0, true, true),
    p("returns.share", 0.0, 0.99, true, true),
    p("orders.per_month", 0.0, 10_000.0, true, false),
    p("orders.size_sigma", 0.0, 3.0, false, false),
    p(
        "orders.categories_per_order",
        1.0,
        crate::limits::MAX_CATEGORIES_PER_ORDER,
        true,
        false,
    ),
    p("orders.size_elasticity", -3.0, 3.0, false, false),
    p("behaviour.stretch.max_shortfall", 0.0, 1.0, false, true),
    p("behaviour.stretch.max_probability", 0.0, 1.0, false, true),
    p("behaviour.stretch.sensitivity", 0.0, 1e6, false, false),
    Parameter {
        path: "behaviour.stretch.window_months",
        min: 1.0,
        max: 12.0,
        per_segment: false,
        fraction: false,
        integer: true,
    },
    p("behaviour.pull_forward.share", 0.0, 1.0, false, true),
    p("behaviour.uplift.elasticity", 0.0, 100.0, false, false),
];

/// The parameters a sensitivity analysis can move (see [`PARAMETERS`]).
pub fn parameters() -> &'static [Parameter] {
    PARAMETERS
}

/// The parameter at `path`, or an error listing the known paths.
fn find_parameter(path: &str) -> Result<&'static Parameter> {
    PARAMETERS.iter().find(|p| p.path == path).ok_or_else(|| {
        let known: Vec<&str> = PARAMETERS.iter().map(|p| p.path).collect();
        Error::Request(format!(
            "unknown model parameter '{path}': expected one of {}",
            known.join(", ")
        ))
    })
}

/// Where a parameter lives in a model: one value, a default with per-segment overrides, an
/// optional default with per-segment overrides (absent = the parameter's mode is off), or a
/// whole number of months.
enum Slot<'m> {
    Scalar(&'m mut f64),
    Segments(&'m mut f64, &'m mut BTreeMap<String, f64>),
    Optional(&'m mut Option<f64>, Option<&'m mut BTreeMap<String, f64>>),
    Months(&'m mut u32),
}

/// The slot of the parameter at `path` (a path listed in [`PARAMETERS`]) in `m`.
fn slot<'m>(m: &'m mut Model, path: &str) -> Slot<'m> {
    match path {
        "growth.rate" => Slot::Segments(&mut m.growth.rate, &mut m.growth.segments),
        "market.sigma" => Slot::Scalar(&mut m.market.sigma),
        "market.rho" => Slot::Scalar(&mut m.market.rho),
        "market.monthly_sigma" => Slot::Scalar(&mut m.market.monthly_sigma),
        "segment_factor.sigma" => {
            Slot::Segments(&mut m.segment_factor.sigma, &mut m.segment_factor.segments)
        }
        "partner_factor.sigma" => {
            Slot::Segments(&mut m.partner_factor.sigma, &mut m.partner_factor.segments)
        }
        "noise.sigma" => Slot::Segments(&mut m.noise.sigma, &mut m.noise.segments),
        "churn.monthly_hazard" => {
            Slot::Segments(&mut m.churn.monthly_hazard, &mut m.churn.segments)
        }
        "incidence.probability" => {
            Slot::Segments(&mut m.incidence.probability, &mut m.incidence.segments)
        }
        "returns.share" => Slot::Segments(&mut m.returns.share, &mut m.returns.segments),
        "orders.per_month" => Slot::Segments(&mut m.orders.per_month, &mut m.orders.segments),
        "orders.size_sigma" => Slot::Scalar(&mut m.orders.size_sigma),
        "orders.categories_per_order" => Slot::Optional(
            &mut m.orders.categories_per_order,
            Some(&mut m.orders.categories_per_order_segments),
        ),
        "orders.size_elasticity" => Slot::Optional(&mut m.orders.size_elasticity, None),
        "behaviour.stretch.max_shortfall" => Slot::Scalar(&mut m.behaviour.stretch.max_shortfall),
        "behaviour.stretch.max_probability" => {
            Slot::Scalar(&mut m.behaviour.stretch.max_probability)
        }
        "behaviour.stretch.sensitivity" => Slot::Scalar(&mut m.behaviour.stretch.sensitivity),
        "behaviour.stretch.window_months" => Slot::Months(&mut m.behaviour.stretch.window_months),
        "behaviour.pull_forward.share" => Slot::Scalar(&mut m.behaviour.pull_forward.share),
        "behaviour.uplift.elasticity" => Slot::Scalar(&mut m.behaviour.uplift.elasticity),
        other => unreachable!("parameter {other} is listed in PARAMETERS but has no slot"),
    }
}

/// The value of the parameter at `path` in `model` (the default, for per-segment parameters).
/// An optional parameter the model does not set is an error naming it.
pub fn parameter_value(model: &Model, path: &str) -> Result<f64> {
    find_parameter(path)?;
    let mut m = model.clone();
    Ok(match slot(&mut m, path) {
        Slot::Scalar(v) | Slot::Segments(v, _) => *v,
        Slot::Optional(v, _) => v.ok_or_else(|| not_set(path))?,
        Slot::Months(v) => *v as f64,
    })
}

/// The error for moving an optional parameter that the model leaves unset.
fn not_set(path: &str) -> Error {
    let what = match path {
        "orders.categories_per_order" => {
            ": without it every order carries all of a partner's categories"
        }
        "orders.size_elasticity" => {
            ": without it a partner's orders a month do not depend on its size"
        }
        _ => "",
    };
    Error::Request(format!(
        "'{path}' is not set in this model{what}; set it in the model file to move it"
    ))
}

/// `model` with the parameter at `path` moved by `change` (the default and every segment
/// override alike). Errors name the parameter and the value when the result is not valid.
pub fn apply_change(model: &Model, path: &str, change: Change) -> Result<Model> {
    let par = find_parameter(path)?;
    if !change.amount().is_finite() {
        return Err(Error::Request(format!(
            "the change of '{path}' must be a finite number, found {}",
            change.amount()
        )));
    }
    if let Change::Scale(f) = change {
        if f < 0.0 {
            return Err(Error::Request(format!(
                "the scale factor of '{path}' must be ≥ 0, found {f}"
            )));
        }
    }
    let new = |v: f64| -> Result<f64> {
        let x = match change {
            Change::Scale(f) => (v * f).clamp(par.min.min(v), par.max.max(v)),
            Change::Add(d) => (v + d).clamp(par.min.min(v), par.max.max(v)),
            Change::Set(x) => {
                if x < par.min || x > par.max || (par.integer && x.fract() != 0.0) {
                    return Err(Error::Request(format!(
                        "'{path}' cannot be set to {x}: expected {}from {} to {}",
                        if par.integer { "a whole number " } else { "" },
                        par.min,
                        par.max
                    )));
                }
                x
            }
        };
        Ok(if par.integer {
            x.round().clamp(par.min, par.max)
        } else {
            x
        })
    };
    let mut m = model.clone();
    match slot(&mut m, path) {
        Slot::Scalar(v) => *v = new(*v)?,
        Slot::Segments(v, segs) => {
            *v = new(*v)?;
            for s in segs.values_mut() {
                *s = new(*s)?;
            }
        }
        Slot::Optional(v, segs) => {
            let Some(base) = *v else {
                return Err(not_set(path));
            };
            *v = Some(new(base)?);
            for s in segs.into_iter().flat_map(|segs| segs.values_mut()) {
                *s = new(*s)?;
            }
        }
        Slot::Months(v) => *v = new(*v as f64)? as u32,
    }
    Ok(m)
}
