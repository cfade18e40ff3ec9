//! The backtest harness: does a payout forecast made from the actuals to date work?
//!
//! The harness draws many synthetic programme years from a demand model with known parameters
//! (the engine's own generative process, [`crate::engine::export_scenario`]: each year is one
//! simulated scenario written out as transaction lines), settles each year exactly
//! ([`crate::settlement::settle`]) to get the payout the year *realised*, and then, at every
//! month end of the year, hands each forecasting method the actuals to date and compares its
//! estimate of the year's final payout with what the year then paid.
//!
//! Forecasting methods are pluggable: anything implementing [`Forecaster`], including any
//! closure `Fn(&Transactions, NaiveDate, u64) -> Result<Prediction>` (actuals to date, the
//! month-end date, a seed). The crate provides
//!
//! - [`ActualsForecaster`]: the forecast from the actuals to date ([`crate::forecast::forecast`]);
//! - [`PriorForecaster`]: the engine's forecast made before the year ([`crate::engine::simulate`]
//!   of the whole year, ignoring the actuals). Its intervals must cover at nominal rates too, since
//!   truth is drawn from the same model: a genuine test of the harness;
//! - the methods rebate systems on the market use ([`MarketMethod`]): current-tier accrual,
//!   straight-line run-rate extrapolation and seasonal-naive (last year's months × the growth
//!   goal). Each builds a full-year transaction table and settles it with the exact settlement
//!   engine, so no rule is re-implemented here.
//!
//! Seeds: year `y` is scenario `y` of the engine run with the truth seed
//! ([`BacktestOptions::seed`]); forecasters get the seed `splitmix64(forecast_seed ^ mix(y))`,
//! the same at every month end of a year (a finance team re-running with its fixed seed) and
//! different across years, so the forecasts' Monte Carlo error averages out over years and never
//! shares a random stream with the truth. Results are bit-identical for any number of threads.
//!
//! The definitions, and the comparison table on the example, are in `docs/backtest.md`.

pub mod arrow;
mod engine_methods;
mod forecaster;
mod market;
mod options;
mod result;
mod run;
mod shocks;
mod tables;
mod truth;
mod worlds;

pub use engine_methods::{ActualsForecaster, PriorForecaster};
pub use forecaster::{Forecaster, Prediction};
pub use market::{market_methods, MarketKind, MarketMethod};
pub use options::{year_seed, BacktestOptions, Progress};
pub use result::{Backtest, LEVELS};
pub use run::{run, run_years};
pub use shocks::CommonShocks;
pub use tables::{CoverageRow, ErrorRow, PairedRow};
pub use truth::{actuals_to, month_end_date, truth_year, TruthYear};
pub use worlds::{
    backlog_world, backlog_world_with, component_coverage, component_coverage_under,
    component_coverage_with, ComponentCoverage,
};

use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use options::check_years_memory;

/// Which rebatesim forecaster the standard comparison runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standard {
    /// [`ActualsForecaster`]: the forecast from the actuals to date (`forecast`).
    Forecast,
    /// [`PriorForecaster`]: the whole year simulated before it starts, ignoring the actuals.
    Prior,
}

impl Standard {
    /// Parse `forecast` or `prior`.
    pub fn parse(s: &str) -> Result<Standard> {
        match s {
            "forecast" => Ok(Standard::Forecast),
            "prior" => Ok(Standard::Prior),
            other => Err(Error::Request(format!(
                "forecaster '{other}': expected 'forecast' or 'prior'"
            ))),
        }
    }

    /// The method name in results.
    pub fn name(self) -> &'static str {
        match self {
            Standard::Forecast => "forecast",
            Standard::Prior => "prior",
        }
    }
}

/// The standard comparison: the rebatesim forecaster `which` (with `scenarios` scenarios per
/// forecast) against current-tier accrual, run-rate and seasonal-naive, in that order.
pub fn run_standard(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    which: Standard,
    scenarios: usize,
    opts: &BacktestOptions,
) -> Result<Backtest> {
    run_standard_years(
        programme,
        population,
        model,
        which,
        scenarios,
        opts,
        0..opts.years,
    )
}

/// Years `years` of the standard comparison [`run_standard`] makes ([`run_years`]): the
/// results of consecutive ranges put together with [`Backtest::concat`] are bit for bit
/// those of [`run_standard`].
pub fn run_standard_years(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    which: Standard,
    scenarios: usize,
    opts: &BacktestOptions,
    years: std::ops::Range<usize>,
) -> Result<Backtest> {
    if scenarios < 2 {
        return Err(Error::Request(format!(
            "scenarios = {scenarios}: a forecast interval needs at least 2 scenarios"
        )));
    }
    // the prior forecaster keeps each year's scenarios (its cache)
    if which == Standard::Prior {
        check_years_memory(opts.years, scenarios.saturating_mul(8).saturating_add(64))?;
    }
    crate::engine::check_parameter_draws(programme, population, model, opts.parameter_draws)?;
    let market = market_methods(programme, population, model)?;
    let (prior, actuals);
    let first: &dyn Forecaster = match which {
        Standard::Forecast => {
            actuals = ActualsForecaster::new(programme, population, model, scenarios)
                .with_cancel(opts.cancel)
                .with_draws(opts.parameter_draws);
            &actuals
        }
        Standard::Prior => {
            prior = PriorForecaster::new(programme, population, model, scenarios)
                .with_cancel(opts.cancel)
                .with_draws(opts.parameter_draws);
            &prior
        }
    };
    let mut methods: Vec<(&str, &dyn Forecaster)> = vec![(which.name(), first)];
    for m in &market {
        methods.push((m.kind().name(), m));
    }
    let mut out = run_years(programme, population, model, &methods, opts, years)?;
    out.parameter_draws = opts.parameter_draws.len();
    Ok(out)
}
