//! Requests as a front end passes them (the Python binding; every option optional, names and
//! dates as text), checked and resolved to the core's types with the engine's defaults. The
//! front end only converts its own values into these; every decision (defaults, what a name
//! means, which combinations are allowed, the error message) is made here, once.

pub mod charts;

use chrono::NaiveDate;

use crate::demand::Model;
use crate::engine::{Precision, SimOptions, Statistic};
use crate::error::{Error, Result};
use crate::programme::Format;
use crate::sensitivity::{Assumption, Change};

/// A file format by name: "toml", "json", "yaml" or "yml" (any case).
pub fn parse_format(name: &str) -> Result<Format> {
    match name.to_ascii_lowercase().as_str() {
        "toml" => Ok(Format::Toml),
        "json" => Ok(Format::Json),
        "yaml" | "yml" => Ok(Format::Yaml),
        other => Err(Error::Request(format!(
            "unknown format \"{other}\": expected \"toml\", \"json\" or \"yaml\""
        ))),
    }
}

/// The statistic precision control watches: "mean" or a percentile `p<q>` with 0 < q < 100
/// (e.g. "p95"), any case, surrounding blanks ignored.
pub fn parse_statistic(name: &str) -> Result<Statistic> {
    let text = name.trim().to_ascii_lowercase();
    if text == "mean" {
        return Ok(Statistic::Mean);
    }
    if let Some(q) = text.strip_prefix('p').and_then(|x| x.parse::<f64>().ok()) {
        if q > 0.0 && q < 100.0 {
            return Ok(Statistic::Percentile(q / 100.0));
        }
    }
    Err(Error::Request(format!(
        "unknown statistic \"{name}\": expected \"mean\" or a percentile such as \"p95\""
    )))
}

/// A date written YYYY-MM-DD (surrounding blanks ignored); `field` names it in the error.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Error::Request(format!(
            "{field}: expected a date written YYYY-MM-DD, found {text:?}"
        ))
    })
}

pub use crate::run::check_threads;

/// The worker threads of a forecast: checked as a simulation's ([`check_threads`]), `None`
/// (all cores) written as the forecast's 0.
pub fn forecast_threads(threads: Option<usize>) -> Result<usize> {
    check_threads(threads)?;
    Ok(threads.unwrap_or(0))
}

/// `e` without line and column (for a document the front end generated, e.g. from a Python
/// dict, whose positions mean nothing to the caller); the field path stays.
pub fn without_position(e: Error) -> Error {
    match e {
        Error::Programme(fe) => Error::Programme(fe.without_position()),
        Error::Model(fe) => Error::Model(fe.without_position()),
        other => other,
    }
}

/// An error unless `index` is one of `len` (partners, components, segments: `what`).
pub fn check_index(what: &str, index: usize, len: usize) -> Result<()> {
    if index < len {
        Ok(())
    } else {
        Err(Error::Request(format!("{what} index {index} out of range")))
    }
}

/// A comparison of designs needs one name per programme.
pub fn check_design_names(names: usize, programmes: usize) -> Result<()> {
    if names == programmes {
        Ok(())
    } else {
        Err(Error::Request("compare: one name per programme".into()))
    }
}

/// The run options a simulation, comparison or sensitivity analysis takes, each `None` for
/// the engine's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRequest {
    /// Number of scenarios (the first batch when a precision target is set).
    pub scenarios: usize,
    /// Random seed.
    pub seed: u64,
    /// Worker threads (`None` = all cores).
    pub threads: Option<usize>,
    /// Scenarios per chunk between progress reports.
    pub chunk_size: Option<usize>,
    /// The statistic of a precision target ("mean" when `tolerance` is given without it).
    pub statistic: Option<String>,
    /// Run until the statistic's standard error is at most this; no target without it.
    pub tolerance: Option<f64>,
    /// The most scenarios a precision target may run (default: `scenarios`, at least 1).
    pub max_scenarios: Option<usize>,
    /// The memory guard in bytes.
    pub memory_limit: Option<usize>,
}

impl RunRequest {
    /// `scenarios`, `seed` and `threads`; the rest the engine's defaults.
    pub fn basic(scenarios: usize, seed: u64, threads: Option<usize>) -> RunRequest {
        RunRequest {
            scenarios,
            seed,
            threads,
            ..RunRequest::default()
        }
    }

    /// Decide every option: the engine's defaults for what is not given, the statistic
    /// parsed (a statistic without a tolerance sets no target). The front end adds its
    /// progress callback and cancel flag (`SimOptions { progress, cancel, ..resolved }`).
    pub fn resolve(&self) -> Result<SimOptions<'static>> {
        let defaults = SimOptions::default();
        let precision = match self.tolerance {
            None => None,
            Some(tolerance) => Some(Precision::new(
                parse_statistic(self.statistic.as_deref().unwrap_or("mean"))?,
                tolerance,
                self.max_scenarios.unwrap_or(self.scenarios.max(1)),
            )),
        };
        Ok(SimOptions {
            scenarios: self.scenarios,
            seed: self.seed,
            threads: self.threads,
            chunk_size: self.chunk_size.unwrap_or(defaults.chunk_size),
            precision,
            memory_limit: self.memory_limit.unwrap_or(defaults.memory_limit),
            progress: None,
            cancel: None,
            parameter_draws: &[],
        })
    }
}

/// One side (low or high) of a parameter assumption: how it changes the parameter ("scale",
/// "add" or "set"; "set" when not given) and by how much.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeRequest {
    /// "scale", "add" or "set".
    pub kind: Option<String>,
    /// The factor, amount or value.
    pub value: Option<f64>,
}

/// One assumption of a sensitivity analysis as a front end gives it: either a parameter with
/// a low and a high change, or a low and a high model; labels optional.
#[derive(Debug, Clone, Default)]
pub struct AssumptionRequest {
    /// Name shown in tables and charts.
    pub name: String,
    /// The parameter path that moves (see [`crate::sensitivity::parameters`]).
    pub parameter: Option<String>,
    /// The low change of the parameter.
    pub low: ChangeRequest,
    /// The high change of the parameter.
    pub high: ChangeRequest,
    /// The low model (instead of a parameter).
    pub low_model: Option<Model>,
    /// The high model.
    pub high_model: Option<Model>,
    /// How the low setting is described (default: from the change, or "low").
    pub low_label: Option<String>,
    /// How the high setting is described (default: from the change, or "high").
    pub high_label: Option<String>,
}

impl ChangeRequest {
    fn resolve(&self, name: &str, side: &str) -> Result<Change> {
        let value = self.value.ok_or_else(|| {
            Error::Request(format!(
                "assumption '{name}': the {side} setting has no value"
            ))
        })?;
        match self.kind.as_deref().unwrap_or("set") {
            "scale" => Ok(Change::Scale(value)),
            "add" => Ok(Change::Add(value)),
            "set" => Ok(Change::Set(value)),
            other => Err(Error::Request(format!(
                "assumption '{name}': unknown {side} change '{other}': expected scale, add or set"
            ))),
        }
    }
}

impl AssumptionRequest {
    /// The assumption, or what is wrong with the request.
    pub fn resolve(self) -> Result<Assumption> {
        let AssumptionRequest {
            name,
            parameter,
            low,
            high,
            low_model,
            high_model,
            low_label,
            high_label,
        } = self;
        let mut assumption = match (parameter, low_model, high_model) {
            (Some(path), None, None) => {
                let low = low.resolve(&name, "low")?;
                let high = high.resolve(&name, "high")?;
                Assumption::parameter(name, path, low, high)
            }
            (None, Some(low), Some(high)) => Assumption::models(
                name,
                low_label.clone().unwrap_or_else(|| "low".into()),
                high_label.clone().unwrap_or_else(|| "high".into()),
                low,
                high,
            ),
            _ => {
                return Err(Error::Request(format!(
                    "assumption '{name}': give either a parameter with low and high changes or a low and a high model"
                )))
            }
        };
        if let Some(label) = low_label {
            assumption.low_label = label;
        }
        if let Some(label) = high_label {
            assumption.high_label = label;
        }
        Ok(assumption)
    }
}

#[cfg(test)]
mod tests;
