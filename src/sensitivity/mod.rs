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
//!
//! The tornado chart of a sensitivity analysis is drawn on the charts side
//! ([`Sensitivity::tornado`] lives in `charts/sensitivity.rs`), so the analysis does not
//! depend on rendering.

pub mod arrow;
mod assumptions;
mod parameters;
mod results;
#[cfg(test)]
mod tests;

pub use assumptions::{default_assumptions, Assumption, Moves};
pub use parameters::{apply_change, parameter_value, parameters, Change, Parameter, PARAMETERS};
pub use results::{Difference, Outcome, Output, Sensitivity, SensitivityRow};

use crate::demand::Model;
use crate::engine::{self, SimOptions, SimResult};
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::run::{self, ProgressCallback};
use assumptions::{resolve, resolve_draws, Resolved};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Options of [`sensitivity`].
#[derive(Clone, Default)]
pub struct SensitivityOptions<'a> {
    /// Options of every run: scenarios, seed (shared by every run: common random numbers),
    /// threads, chunking, precision control (the base run decides the number of scenarios;
    /// every other run uses exactly as many) and the progress callback, which sees the
    /// scenarios of all runs together: `(done, total)` over base, low and high runs.
    ///
    /// With `sim.parameter_draws` (input uncertainty) every run is made under the draws:
    /// scenario `s` of every run runs under the same draw ([`crate::engine::draw_index`] of
    /// the seed and `s`), so the runs share draws as they share random numbers; the low and
    /// high runs move the assumption's parameter in each draw ([`Plan::with_draws`]).
    pub sim: SimOptions<'a>,
    /// The assumptions to move; `None` = [`default_assumptions`] of the model.
    pub assumptions: Option<Vec<Assumption>>,
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
    let plan =
        plan(model, options.assumptions.as_deref())?.with_draws(options.sim.parameter_draws)?;
    check_memory(programme, population, model, &options.sim)?;
    engine::check_parameter_draws(programme, population, model, options.sim.parameter_draws)?;
    let runs = plan.runs();
    let progress = RunsProgress {
        user: options.sim.progress,
        runs,
        offset: AtomicUsize::new(0),
        scenarios: AtomicUsize::new(0),
    };
    let report = |done: usize, planned: usize| progress.report(done, planned);
    let mut sim = options.sim;
    if progress.user.is_some() {
        sim.progress = Some(&report);
    }
    let base = engine::simulate(programme, population, model, &sim)?;
    let scenarios = base.scenarios;
    progress.scenarios.store(scenarios, Ordering::Relaxed);
    let fixed = SimOptions {
        scenarios,
        precision: None,
        ..sim
    };

    let mut rows = Vec::with_capacity(plan.assumptions.len());
    for i in 0..plan.assumptions.len() {
        let r = &plan.resolved[i];
        progress.start_run(1 + 2 * i);
        let low = engine::simulate(
            programme,
            population,
            &r.low,
            &SimOptions {
                parameter_draws: &r.low_draws,
                ..fixed
            },
        )?;
        progress.start_run(2 + 2 * i);
        let high = engine::simulate(
            programme,
            population,
            &r.high,
            &SimOptions {
                parameter_draws: &r.high_draws,
                ..fixed
            },
        )?;
        rows.push(plan.row(i, &base, &low, &high));
    }
    Ok(finish(&base, rows))
}

/// The runs of a sensitivity analysis, decided before any of them is made: the assumptions
/// (checked) and each one's low and high model. A scale-out run ([`Plan::models`]) makes the
/// runs elsewhere and puts the analysis together with [`Plan::row`] and [`finish`], as
/// [`sensitivity`] does.
pub struct Plan {
    /// The assumptions, in the order given.
    pub assumptions: Vec<Assumption>,
    resolved: Vec<Resolved>,
}

/// The plan of a sensitivity analysis on `model`: `assumptions` (`None` = the model's
/// [`default_assumptions`]), each checked and resolved to its low and high models.
/// Errors as [`sensitivity`] for the assumptions.
pub fn plan(model: &Model, assumptions: Option<&[Assumption]>) -> Result<Plan> {
    model.validate()?;
    let list = match assumptions {
        Some(a) => a.to_vec(),
        None => default_assumptions(model),
    };
    if list.is_empty() {
        return Err(Error::Request(if assumptions.is_some() {
            "sensitivity needs at least one assumption".into()
        } else {
            "the model switches on no mechanism to vary (no market, segment or partner factor, noise, churn, returns or behaviour): pass assumptions explicitly".into()
        }));
    }
    let resolved = resolve_all(model, &list)?;
    Ok(Plan {
        assumptions: list,
        resolved,
    })
}

impl Plan {
    /// Runs of the analysis: the base, then a low and a high run per assumption.
    pub fn runs(&self) -> usize {
        1 + 2 * self.assumptions.len()
    }

    /// The models of the runs after the base: assumption 0 low, assumption 0 high,
    /// assumption 1 low, ...
    pub fn models(&self) -> Vec<&Model> {
        self.resolved
            .iter()
            .flat_map(|r| [&r.low, &r.high])
            .collect()
    }

    /// The plan under the parameter draws `draws` (input uncertainty; none: the plan as it
    /// is): each assumption's low and high settings applied to every draw
    /// ([`Plan::draws`]). A scale multiplies each draw's value and an addition adds to it,
    /// so the perturbation is applied on top of each draw and the draws keep their spread;
    /// a set gives every draw that value. Errors: an assumption given as two complete models
    /// (the draws, not the model, are what each scenario runs under), and a change that
    /// takes a draw's parameter out of its valid range (naming the assumption and the draw).
    pub fn with_draws(mut self, draws: &[Model]) -> Result<Plan> {
        if draws.is_empty() {
            return Ok(self);
        }
        for (r, a) in self.resolved.iter_mut().zip(&self.assumptions) {
            resolve_draws(r, a, draws)
                .map_err(|e| Error::Request(format!("assumption '{}': {}", a.name, msg(e))))?;
        }
        Ok(self)
    }

    /// The parameter draws of the runs after the base, in the order of [`Plan::models`]
    /// (each empty without draws; the base run's are the draws given).
    pub fn draws(&self) -> Vec<&[Model]> {
        self.resolved
            .iter()
            .flat_map(|r| [r.low_draws.as_slice(), r.high_draws.as_slice()])
            .collect()
    }

    /// The row of assumption `i` from the base run and its low and high runs (all on the
    /// same seed and scenarios).
    pub fn row(
        &self,
        i: usize,
        base: &SimResult,
        low: &SimResult,
        high: &SimResult,
    ) -> SensitivityRow {
        let (a, r) = (&self.assumptions[i], &self.resolved[i]);
        SensitivityRow {
            assumption: a.name.clone(),
            parameter: r.parameter.clone(),
            low_label: a.low_label.clone(),
            high_label: a.high_label.clone(),
            base_value: r.values.map(|v| v.0),
            low_value: r.values.map(|v| v.1),
            high_value: r.values.map(|v| v.2),
            low: Outcome::of(low),
            high: Outcome::of(high),
            low_vs_base: Difference::of(base, low),
            high_vs_base: Difference::of(base, high),
            swing: Difference::of(low, high),
        }
    }
}

/// The analysis from the base run and the rows ([`Plan::row`]), ranked by payout swing.
pub fn finish(base: &SimResult, mut rows: Vec<SensitivityRow>) -> Sensitivity {
    // largest payout swing first; a stable sort keeps the given order on ties
    rows.sort_by(|a, b| {
        b.swing_size(Output::Payout)
            .total_cmp(&a.swing_size(Output::Payout))
    });
    Sensitivity {
        programme: base.programme.clone(),
        currency: base.currency.clone(),
        seed: base.seed,
        scenarios: base.scenarios,
        parameter_draws: base.parameter_draws,
        base: Outcome::of(base),
        rows,
    }
}

/// Every assumption checked (a name, given once) and resolved to its low and high models,
/// each valid, before any run starts.
fn resolve_all(model: &Model, assumptions: &[Assumption]) -> Result<Vec<Resolved>> {
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
    Ok(resolved)
}

/// Refuse an analysis whose runs would not fit the memory limit: the base run's results are
/// kept while each assumption's low and high runs are made (three runs at once).
fn check_memory(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    sim: &SimOptions,
) -> Result<()> {
    let max_scenarios = sim.precision.map_or(sim.scenarios, |p| p.max_scenarios);
    let one = engine::estimate_memory(programme, population, model, sim)?;
    run::check_memory(
        one.saturating_mul(3),
        sim.memory_limit,
        max_scenarios,
        population.len(),
    )
}

/// The caller's progress callback seen over all runs together: `(done, total)` over the
/// scenarios of the base, low and high runs.
struct RunsProgress<'a> {
    user: Option<ProgressCallback<'a>>,
    runs: usize,
    /// Scenarios of the runs finished before the current one.
    offset: AtomicUsize,
    /// Scenarios per run, once the base run has decided them (0 before).
    scenarios: AtomicUsize,
}

impl RunsProgress<'_> {
    /// Run `run` (0 = base) starts.
    fn start_run(&self, run: usize) {
        let scenarios = self.scenarios.load(Ordering::Relaxed);
        self.offset.store(run * scenarios, Ordering::Relaxed);
    }

    /// The current run has done `done` of `planned` scenarios; `false` stops the analysis.
    fn report(&self, done: usize, planned: usize) -> bool {
        match self.user {
            None => true,
            Some(callback) => {
                let known = self.scenarios.load(Ordering::Relaxed);
                let per_run = if known == 0 { planned } else { known };
                callback(
                    self.offset.load(Ordering::Relaxed) + done,
                    per_run * self.runs,
                )
            }
        }
    }
}

/// An error's message without its kind (the analysis names the assumption and re-wraps it).
fn msg(e: Error) -> String {
    match e {
        Error::Request(m) => m,
        other => other.to_string(),
    }
}
