//! One-at-a-time sensitivity analysis of a programme's outcomes to the demand and behaviour
//! assumptions, with common random numbers.
//!
//! The base run simulates the programme under the model as given. Then, for each
//! [`Assumption`], a *low* and a *high* run move that assumption alone (everything else at its
//! base value). Every run uses the same seed and the same number of scenarios, so scenario `s`
//! of every run sees exactly the same random numbers (the engine's streams are keyed by seed,
//! scenario, partner and purpose; see `docs/simulation.md`). The effect of an assumption is
//! therefore measured on paired per-scenario differences, whose standard error is far smaller
//! than that of two independent runs.
//!
//! ```
//! use rebatesim::demand::Model;
//! use rebatesim::engine::SimOptions;
//! use rebatesim::population::Population;
//! use rebatesim::programme::{Format, Programme};
//! use rebatesim::sensitivity::{sensitivity, Output, SensitivityOptions};
//! let programme = Programme::from_str(r#"
//! name = "Annual ladder"
//! currency = "EUR"
//! start = 2027-01-01
//! period = "year"
//! periods = 1
//! [[components]]
//! id = "volume"
//! kind = "volume"
//! tiers = [{ from = 100000, percent = 1 }, { from = 150000, percent = 2 }]
//! "#, Format::Toml, None).unwrap().compile().unwrap();
//! let population = Population::from_csv_str(
//!     "partner_id,segment,baseline_revenue\nA,default,120000\nB,default,140000\n", "partners.csv").unwrap();
//! let model = Model::from_str("[market]\nsigma = 0.1\n[noise]\nsigma = 0.2\n", Format::Toml, None).unwrap();
//! let options = SensitivityOptions {
//!     sim: SimOptions { scenarios: 200, seed: 7, ..Default::default() },
//!     assumptions: None, // the defaults: every mechanism the model switches on
//! };
//! let s = sensitivity(&programme, &population, &model, &options).unwrap();
//! assert_eq!(s.rows.len(), 3); // market volatility, partner noise, trend
//! let tornado = s.tornado(Output::Payout).unwrap();
//! assert_eq!(tornado.bars.len(), 3);
//! ```

use crate::charts::{Tornado, TornadoBar, ValueUnit};
use crate::demand::Model;
use crate::engine::{self, SimOptions, SimResult};
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::summary::{self, Summary};
use std::collections::BTreeMap;
use std::str::FromStr;

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
    fn amount(&self) -> f64 {
        match *self {
            Change::Scale(x) | Change::Add(x) | Change::Set(x) => x,
        }
    }

    fn label(&self, path: &str) -> String {
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

fn trim(x: f64) -> String {
    let s = format!("{:.4}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// What an assumption moves.
#[derive(Debug, Clone, PartialEq)]
pub enum Moves {
    /// One model parameter, by its path (see [`parameters`]), moved by a [`Change`] each way.
    Parameter {
        /// Parameter path, e.g. `"noise.sigma"`.
        path: String,
        /// The low setting.
        low: Change,
        /// The high setting.
        high: Change,
    },
    /// Two complete models: the low and the high setting (for moves that no single
    /// parameter describes, e.g. another seasonality profile).
    Models {
        /// The model of the low run.
        low: Box<Model>,
        /// The model of the high run.
        high: Box<Model>,
    },
}

/// One assumption of a sensitivity analysis: a name, and its low and high settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumption {
    /// Name shown in tables and charts, e.g. "Partner noise".
    pub name: String,
    /// How the low setting is described, e.g. "−25%".
    pub low_label: String,
    /// How the high setting is described, e.g. "+25%".
    pub high_label: String,
    /// What moves.
    pub moves: Moves,
}

impl Assumption {
    /// Move the parameter at `path` (see [`parameters`]) by `low` and `high`; the labels
    /// describe the changes ("−50%", "+5 pp", "off", "= 0.3").
    pub fn parameter(
        name: impl Into<String>,
        path: impl Into<String>,
        low: Change,
        high: Change,
    ) -> Assumption {
        let path = path.into();
        Assumption {
            name: name.into(),
            low_label: low.label(&path),
            high_label: high.label(&path),
            moves: Moves::Parameter { path, low, high },
        }
    }

    /// Use two complete models as the low and the high setting.
    pub fn models(
        name: impl Into<String>,
        low_label: impl Into<String>,
        high_label: impl Into<String>,
        low: Model,
        high: Model,
    ) -> Assumption {
        Assumption {
            name: name.into(),
            low_label: low_label.into(),
            high_label: high_label.into(),
            moves: Moves::Models {
                low: Box::new(low),
                high: Box::new(high),
            },
        }
    }

    /// Replace the labels of the low and high settings.
    pub fn with_labels(mut self, low: impl Into<String>, high: impl Into<String>) -> Assumption {
        self.low_label = low.into();
        self.high_label = high.into();
        self
    }
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
    p("returns.share", 0.0, 0.99, true, true),
    p("orders.per_month", 0.0, 10_000.0, true, false),
    p("orders.size_sigma", 0.0, 3.0, false, false),
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

fn find_parameter(path: &str) -> Result<&'static Parameter> {
    PARAMETERS.iter().find(|p| p.path == path).ok_or_else(|| {
        let known: Vec<&str> = PARAMETERS.iter().map(|p| p.path).collect();
        Error::Request(format!(
            "unknown model parameter '{path}': expected one of {}",
            known.join(", ")
        ))
    })
}

enum Slot<'m> {
    Scalar(&'m mut f64),
    Segments(&'m mut f64, &'m mut BTreeMap<String, f64>),
    Months(&'m mut u32),
}

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
        "returns.share" => Slot::Segments(&mut m.returns.share, &mut m.returns.segments),
        "orders.per_month" => Slot::Segments(&mut m.orders.per_month, &mut m.orders.segments),
        "orders.size_sigma" => Slot::Scalar(&mut m.orders.size_sigma),
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
pub fn parameter_value(model: &Model, path: &str) -> Result<f64> {
    find_parameter(path)?;
    let mut m = model.clone();
    Ok(match slot(&mut m, path) {
        Slot::Scalar(v) | Slot::Segments(v, _) => *v,
        Slot::Months(v) => *v as f64,
    })
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
        Slot::Months(v) => *v = new(*v as f64)? as u32,
    }
    Ok(m)
}

/// The default assumptions for `model`: every demand and behaviour mechanism the model
/// switches on (an assumption that would not move the model is left out):
///
/// | assumption | parameter | low | high |
/// |---|---|---|---|
/// | Market volatility | `market.sigma` | −50% | +50% |
/// | Segment factor | `segment_factor.sigma` | −50% | +50% |
/// | Partner factor | `partner_factor.sigma` | −25% | +25% |
/// | Partner noise | `noise.sigma` | −25% | +25% |
/// | Trend | `growth.rate` | −5 pp | +5 pp |
/// | Churn | `churn.monthly_hazard` | −50% | +50% |
/// | Returns | `returns.share` | −50% | +50% |
/// | Stretch probability | `behaviour.stretch.max_probability` | off (0) | ×1.5 (at most 1) |
/// | Stretch window | `behaviour.stretch.window_months` | 1 month | ×1.5 (rounded, at most 12) |
/// | Pull-forward | `behaviour.pull_forward.share` | off (0) | ×1.5 (at most 1) |
/// | Uplift elasticity | `behaviour.uplift.elasticity` | off (0) | ×1.5 |
///
/// Trend is always included (it moves demand even from 0). The stretch, window and
/// pull-forward assumptions are included only when stretch is enabled.
pub fn default_assumptions(model: &Model) -> Vec<Assumption> {
    use Change::*;
    let stretch = model.behaviour.stretch.enabled;
    let candidates = vec![
        (
            true,
            Assumption::parameter("Market volatility", "market.sigma", Scale(0.5), Scale(1.5)),
        ),
        (
            true,
            Assumption::parameter(
                "Segment factor",
                "segment_factor.sigma",
                Scale(0.5),
                Scale(1.5),
            ),
        ),
        (
            true,
            Assumption::parameter(
                "Partner factor",
                "partner_factor.sigma",
                Scale(0.75),
                Scale(1.25),
            ),
        ),
        (
            true,
            Assumption::parameter("Partner noise", "noise.sigma", Scale(0.75), Scale(1.25)),
        ),
        (
            true,
            Assumption::parameter("Trend", "growth.rate", Add(-0.05), Add(0.05)),
        ),
        (
            true,
            Assumption::parameter("Churn", "churn.monthly_hazard", Scale(0.5), Scale(1.5)),
        ),
        (
            true,
            Assumption::parameter("Returns", "returns.share", Scale(0.5), Scale(1.5)),
        ),
        (
            stretch,
            Assumption::parameter(
                "Stretch probability",
                "behaviour.stretch.max_probability",
                Set(0.0),
                Scale(1.5),
            )
            .with_labels("off", "×1.5"),
        ),
        (
            stretch,
            Assumption::parameter(
                "Stretch window",
                "behaviour.stretch.window_months",
                Set(1.0),
                Scale(1.5),
            )
            .with_labels("1 month", "×1.5"),
        ),
        (
            stretch,
            Assumption::parameter(
                "Pull-forward",
                "behaviour.pull_forward.share",
                Set(0.0),
                Scale(1.5),
            )
            .with_labels("off", "×1.5"),
        ),
        (
            true,
            Assumption::parameter(
                "Uplift elasticity",
                "behaviour.uplift.elasticity",
                Set(0.0),
                Scale(1.5),
            )
            .with_labels("off", "×1.5"),
        ),
    ];
    candidates
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, a)| a)
        .filter(|a| match resolve(model, a) {
            Ok(r) => !(r.low == *model && r.high == *model),
            Err(_) => false,
        })
        .collect()
}

struct Resolved {
    low: Model,
    high: Model,
    parameter: Option<String>,
    values: Option<(f64, f64, f64)>,
}

fn resolve(model: &Model, a: &Assumption) -> Result<Resolved> {
    Ok(match &a.moves {
        Moves::Parameter { path, low, high } => {
            let lo = apply_change(model, path, *low)?;
            let hi = apply_change(model, path, *high)?;
            let values = (
                parameter_value(model, path)?,
                parameter_value(&lo, path)?,
                parameter_value(&hi, path)?,
            );
            Resolved {
                low: lo,
                high: hi,
                parameter: Some(path.clone()),
                values: Some(values),
            }
        }
        Moves::Models { low, high } => Resolved {
            low: (**low).clone(),
            high: (**high).clone(),
            parameter: None,
            values: None,
        },
    })
}

/// Options of [`sensitivity`].
#[derive(Clone, Default)]
pub struct SensitivityOptions<'a> {
    /// Options of every run: scenarios, seed (shared by every run: common random numbers),
    /// threads, chunking, precision control (the base run decides the number of scenarios;
    /// every other run uses exactly as many) and the progress callback, which sees the
    /// scenarios of all runs together: `(done, total)` over base, low and high runs.
    pub sim: SimOptions<'a>,
    /// The assumptions to move; `None` = [`default_assumptions`] of the model.
    pub assumptions: Option<Vec<Assumption>>,
}

/// An outcome of one run: the summaries of payout, ROI and incremental margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Total payout (after the budget).
    pub payout: Summary,
    /// ROI (incremental margin net of payout, over payout); undefined scenarios left out.
    pub roi: Summary,
    /// Incremental margin.
    pub incremental_margin: Summary,
}

impl Outcome {
    fn of(r: &SimResult) -> Outcome {
        Outcome {
            payout: r.payout_summary(),
            roi: summary::summarize(&r.roi, None),
            incremental_margin: summary::summarize(&r.incremental_margin, None),
        }
    }

    /// The summary of `output`.
    pub fn get(&self, output: Output) -> &Summary {
        match output {
            Output::Payout => &self.payout,
            Output::Roi => &self.roi,
            Output::IncrementalMargin => &self.incremental_margin,
        }
    }
}

/// The output of a sensitivity analysis to report or chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Total payout (after the budget).
    Payout,
    /// ROI.
    Roi,
    /// Incremental margin.
    IncrementalMargin,
}

impl Output {
    /// Machine name: `payout`, `roi`, `incremental_margin`.
    pub fn name(&self) -> &'static str {
        match self {
            Output::Payout => "payout",
            Output::Roi => "roi",
            Output::IncrementalMargin => "incremental_margin",
        }
    }
}

impl FromStr for Output {
    type Err = Error;
    fn from_str(s: &str) -> Result<Output> {
        match s {
            "payout" => Ok(Output::Payout),
            "roi" => Ok(Output::Roi),
            "incremental_margin" | "margin" => Ok(Output::IncrementalMargin),
            other => Err(Error::Request(format!(
                "unknown sensitivity output '{other}': expected payout, roi or incremental_margin"
            ))),
        }
    }
}

/// Paired per-scenario differences (common random numbers) of the three outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Payout difference.
    pub payout: Summary,
    /// ROI difference (scenarios where either ROI is undefined are left out).
    pub roi: Summary,
    /// Incremental margin difference.
    pub incremental_margin: Summary,
}

impl Difference {
    fn of(a: &SimResult, b: &SimResult) -> Difference {
        Difference {
            payout: summary::paired(&a.payout, &b.payout),
            roi: summary::paired(&a.roi, &b.roi),
            incremental_margin: summary::paired(&a.incremental_margin, &b.incremental_margin),
        }
    }

    /// The summary of `output`.
    pub fn get(&self, output: Output) -> &Summary {
        match output {
            Output::Payout => &self.payout,
            Output::Roi => &self.roi,
            Output::IncrementalMargin => &self.incremental_margin,
        }
    }
}

/// The results for one assumption.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityRow {
    /// Assumption name.
    pub assumption: String,
    /// The parameter moved (`None` for an assumption given as two models).
    pub parameter: Option<String>,
    /// Description of the low setting.
    pub low_label: String,
    /// Description of the high setting.
    pub high_label: String,
    /// The parameter's base value (the default, for per-segment parameters).
    pub base_value: Option<f64>,
    /// The parameter's value in the low run.
    pub low_value: Option<f64>,
    /// The parameter's value in the high run.
    pub high_value: Option<f64>,
    /// Outcomes of the low run.
    pub low: Outcome,
    /// Outcomes of the high run.
    pub high: Outcome,
    /// Low run − base run, per scenario (paired).
    pub low_vs_base: Difference,
    /// High run − base run, per scenario (paired).
    pub high_vs_base: Difference,
    /// High run − low run, per scenario (paired): the swing.
    pub swing: Difference,
}

impl SensitivityRow {
    /// Size of the swing of `output`: |mean(high − low)|.
    pub fn swing_size(&self, output: Output) -> f64 {
        self.swing.get(output).mean.value.abs()
    }
}

/// Results of [`sensitivity`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    /// Programme name.
    pub programme: String,
    /// Currency.
    pub currency: String,
    /// The seed shared by every run.
    pub seed: u64,
    /// Scenarios of every run.
    pub scenarios: usize,
    /// Outcomes of the base run.
    pub base: Outcome,
    /// One row per assumption, largest payout swing first (ties keep the given order).
    pub rows: Vec<SensitivityRow>,
}

impl Sensitivity {
    /// The row of the assumption named `name`.
    pub fn row(&self, name: &str) -> Option<&SensitivityRow> {
        self.rows.iter().find(|r| r.assumption == name)
    }

    /// The rows sorted by the swing of `output`, largest first.
    pub fn sorted_by(&self, output: Output) -> Vec<&SensitivityRow> {
        let mut rows: Vec<&SensitivityRow> = self.rows.iter().collect();
        rows.sort_by(|a, b| b.swing_size(output).total_cmp(&a.swing_size(output)));
        rows
    }

    /// The tornado chart of `output`: the mean at each assumption's low and high setting
    /// around the base mean, with whiskers of ±1.96 standard errors of the paired
    /// differences from the base.
    ///
    /// Errors: [`Error::Request`] when the output is undefined in the base run (ROI and
    /// incremental margin need a margin rate) or there are no assumptions.
    pub fn tornado(&self, output: Output) -> Result<Tornado> {
        let base = self.base.get(output).mean.value;
        if !base.is_finite() {
            return Err(Error::Request(format!(
                "the sensitivity of {} cannot be charted: it is undefined in the base run (ROI and incremental margin need a margin rate in the partner table or the model's economics.margin_rate)",
                output.name()
            )));
        }
        if self.rows.is_empty() {
            return Err(Error::Request(
                "the sensitivity analysis has no assumptions to chart".into(),
            ));
        }
        let (title, name, unit) = match output {
            Output::Payout => (
                "Sensitivity of expected payout",
                "Expected payout",
                ValueUnit::Money(self.currency.clone()),
            ),
            Output::Roi => (
                "Sensitivity of expected ROI",
                "Expected ROI",
                ValueUnit::Percent,
            ),
            Output::IncrementalMargin => (
                "Sensitivity of expected incremental margin",
                "Expected incremental margin",
                ValueUnit::Money(self.currency.clone()),
            ),
        };
        let bars = self
            .sorted_by(output)
            .into_iter()
            .map(|r| {
                let lo = r.low_vs_base.get(output).mean;
                let hi = r.high_vs_base.get(output).mean;
                // the paired difference (common random numbers) measures the effect
                let bar = TornadoBar::new(
                    &r.assumption,
                    &r.low_label,
                    &r.high_label,
                    base + lo.value,
                    base + hi.value,
                );
                let se = |s: f64| if s.is_finite() { s } else { 0.0 };
                bar.with_se(se(lo.se), se(hi.se))
            })
            .collect();
        Ok(Tornado::new(
            format!("{title}: {}", self.programme),
            name,
            unit,
            base,
            bars,
        ))
    }
}

/// One-at-a-time sensitivity analysis of `programme` on `population` under `model`: the base
/// run, then for each assumption a low and a high run moving that assumption alone, all on
/// the same seed and number of scenarios (common random numbers).
///
/// Errors: [`Error::Request`] for an unknown parameter, a non-finite or out-of-range change,
/// a duplicate assumption name, an empty list of assumptions, or bad run options;
/// [`Error::Model`] / [`Error::Data`] as [`engine::simulate`]; [`Error::Cancelled`] when the
/// progress callback returns `false`. Every assumption is checked before any run starts.
pub fn sensitivity(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    options: &SensitivityOptions,
) -> Result<Sensitivity> {
    model.validate()?;
    let assumptions = match &options.assumptions {
        Some(a) => a.clone(),
        None => default_assumptions(model),
    };
    if assumptions.is_empty() {
        return Err(Error::Request(if options.assumptions.is_some() {
            "sensitivity needs at least one assumption".into()
        } else {
            "the model switches on no mechanism to vary (no market, segment or partner factor, noise, churn, returns or behaviour): pass assumptions explicitly".into()
        }));
    }
    let mut resolved = Vec::with_capacity(assumptions.len());
    for (i, a) in assumptions.iter().enumerate() {
        if a.name.trim().is_empty() {
            return Err(Error::Request(format!(
                "assumption {} has an empty name",
                i + 1
            )));
        }
        if assumptions[..i].iter().any(|b| b.name == a.name) {
            return Err(Error::Request(format!(
                "assumption name '{}' is used twice",
                a.name
            )));
        }
        let r = resolve(model, a)
            .map_err(|e| Error::Request(format!("assumption '{}': {}", a.name, msg(e))))?;
        for (side, m) in [("low", &r.low), ("high", &r.high)] {
            m.validate().map_err(|e| {
                Error::Request(format!(
                    "assumption '{}', {side} setting: {}",
                    a.name,
                    msg(e)
                ))
            })?;
        }
        resolved.push(r);
    }

    let k = assumptions.len();
    let runs = 1 + 2 * k;
    // the base run's results are kept while each assumption's low and high runs are made
    {
        let max_n = options
            .sim
            .precision
            .map_or(options.sim.scenarios, |p| p.max_scenarios);
        let one = engine::estimate_memory(programme, population, model, &options.sim)?;
        engine::check_memory(
            one.saturating_mul(3),
            options.sim.memory_limit,
            max_n,
            population.len(),
        )?;
    }
    let user = options.sim.progress;
    let offset = std::sync::atomic::AtomicUsize::new(0);
    let n_known = std::sync::atomic::AtomicUsize::new(0);
    let report = |done: usize, planned: usize| -> bool {
        match user {
            None => true,
            Some(cb) => {
                let n = n_known.load(std::sync::atomic::Ordering::Relaxed);
                let per_run = if n == 0 { planned } else { n };
                cb(
                    offset.load(std::sync::atomic::Ordering::Relaxed) + done,
                    per_run * runs,
                )
            }
        }
    };
    let mut sim = options.sim;
    if user.is_some() {
        sim.progress = Some(&report);
    }
    let base = engine::simulate(programme, population, model, &sim)?;
    let n = base.scenarios;
    n_known.store(n, std::sync::atomic::Ordering::Relaxed);
    let fixed = SimOptions {
        scenarios: n,
        precision: None,
        ..sim
    };

    let mut rows = Vec::with_capacity(k);
    for (i, (a, r)) in assumptions.iter().zip(resolved).enumerate() {
        offset.store((1 + 2 * i) * n, std::sync::atomic::Ordering::Relaxed);
        let low = engine::simulate(programme, population, &r.low, &fixed)?;
        offset.store((2 + 2 * i) * n, std::sync::atomic::Ordering::Relaxed);
        let high = engine::simulate(programme, population, &r.high, &fixed)?;
        rows.push(SensitivityRow {
            assumption: a.name.clone(),
            parameter: r.parameter,
            low_label: a.low_label.clone(),
            high_label: a.high_label.clone(),
            base_value: r.values.map(|v| v.0),
            low_value: r.values.map(|v| v.1),
            high_value: r.values.map(|v| v.2),
            low: Outcome::of(&low),
            high: Outcome::of(&high),
            low_vs_base: Difference::of(&base, &low),
            high_vs_base: Difference::of(&base, &high),
            swing: Difference::of(&low, &high),
        });
    }
    // largest payout swing first; a stable sort keeps the given order on ties
    rows.sort_by(|a, b| {
        b.swing_size(Output::Payout)
            .total_cmp(&a.swing_size(Output::Payout))
    });
    Ok(Sensitivity {
        programme: base.programme.clone(),
        currency: base.currency.clone(),
        seed: base.seed,
        scenarios: n,
        base: Outcome::of(&base),
        rows,
    })
}

fn msg(e: Error) -> String {
    match e {
        Error::Request(m) => m,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_respect_ranges_and_segments() {
        let mut m = Model::default();
        m.noise.sigma = 0.2;
        m.noise.segments.insert("small".into(), 0.4);
        m.behaviour.stretch.max_probability = 0.8;
        let hi = apply_change(&m, "noise.sigma", Change::Scale(1.5)).unwrap();
        assert!(
            (hi.noise.sigma - 0.3).abs() < 1e-12 && (hi.noise.get("small") - 0.6).abs() < 1e-12
        );
        let p = apply_change(&m, "behaviour.stretch.max_probability", Change::Scale(1.5)).unwrap();
        assert_eq!(p.behaviour.stretch.max_probability, 1.0);
        let w = apply_change(&m, "behaviour.stretch.window_months", Change::Scale(1.5)).unwrap();
        assert_eq!(w.behaviour.stretch.window_months, 2);
        let g = apply_change(&m, "growth.rate", Change::Add(-0.05)).unwrap();
        assert_eq!(g.growth.rate, -0.05);
        let e = apply_change(&m, "noise.sigmaa", Change::Scale(2.0))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown model parameter 'noise.sigmaa'") && e.contains("noise.sigma"),
            "{e}"
        );
        let e = apply_change(&m, "noise.sigma", Change::Scale(f64::NAN))
            .unwrap_err()
            .to_string();
        assert!(e.contains("finite"), "{e}");
        let e = apply_change(&m, "returns.share", Change::Set(1.5))
            .unwrap_err()
            .to_string();
        assert!(e.contains("'returns.share' cannot be set to 1.5"), "{e}");
        let e = apply_change(&m, "behaviour.stretch.window_months", Change::Set(2.5))
            .unwrap_err()
            .to_string();
        assert!(e.contains("whole number"), "{e}");
    }

    #[test]
    fn labels() {
        assert_eq!(Change::Scale(0.5).label("noise.sigma"), "−50%");
        assert_eq!(Change::Scale(1.25).label("noise.sigma"), "+25%");
        assert_eq!(Change::Add(0.05).label("growth.rate"), "+5 pp");
        assert_eq!(Change::Add(-2.0).label("orders.per_month"), "−2");
        assert_eq!(Change::Set(0.0).label("behaviour.uplift.elasticity"), "off");
        assert_eq!(
            Change::Set(0.3).label("behaviour.pull_forward.share"),
            "= 0.3"
        );
    }

    #[test]
    fn defaults_follow_the_model() {
        assert_eq!(
            default_assumptions(&Model::default())
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
            ["Trend"]
        );
        let mut m = Model::default();
        m.market.sigma = 0.1;
        m.behaviour.uplift.elasticity = 1.0;
        m.behaviour.pull_forward.share = 0.3; // no effect without stretch: left out
        let names: Vec<String> = default_assumptions(&m)
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["Market volatility", "Trend", "Uplift elasticity"]);
        m.behaviour.stretch.enabled = true;
        let names: Vec<String> = default_assumptions(&m)
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(
            names,
            [
                "Market volatility",
                "Trend",
                "Stretch probability",
                "Stretch window",
                "Pull-forward",
                "Uplift elasticity"
            ]
        );
    }
}
