//! Liability forecasting from actuals to date: what the programme will pay, what to accrue now.
//!
//! [`forecast`] takes the actual transactions up to a date, updates what the demand model
//! believes about the market, each segment and each partner from them, simulates only the rest
//! of the programme on the Monte Carlo engine (the same kernel as settlement, so caps, minimum
//! payout, exclusive groups, true-ups and the budget apply to actual-to-date plus simulated
//! remainder exactly as settlement will), and reports:
//!
//! - the final payout distribution in total and per partner, segment and component (mean, P50,
//!   P90, P95 with Monte Carlo standard errors);
//! - the IFRS 15 / ASC 606 estimates of variable consideration: *expected value*, *most likely
//!   amount* and a *constrained* estimate at a confidence the user sets, with the method stated
//!   ([`Forecast::estimates`]);
//! - journal-ready accrual lines per partner and component: required accrual to date by the
//!   effective-rate method less the prior accrual, split into the run-rate accrual of the
//!   current month and the cumulative catch-up on earlier purchases ([`Forecast::journal`]);
//! - the watch list: current tier, probability of reaching each higher tier, shortfall and what
//!   reaching the next tier would pay ([`Forecast::watch_list`]);
//! - the probability that the programme exceeds its budget and the cash-out timeline by payment
//!   date with bands ([`Forecast::cash_schedule`]).
//!
//! Method, conditioning, conventions and limitations: `docs/forecast.md`.
//!
//! ```
//! use rebatesim::data::Transactions;
//! use rebatesim::demand::Model;
//! use rebatesim::forecast::{forecast, ForecastOptions};
//! use rebatesim::population::Population;
//! use rebatesim::programme::{Format, Programme};
//! let programme = Programme::from_str(r#"
//! name = "Year"
//! currency = "EUR"
//! start = 2027-01-01
//! period = "year"
//! periods = 1
//! [[components]]
//! id = "vol"
//! kind = "volume"
//! tiers = [{ from = 100000, percent = 2 }, { from = 200000, percent = 4 }]
//! "#, Format::Toml, None).unwrap().compile().unwrap();
//! let partners = Population::from_csv_str("partner_id,segment,baseline_revenue\nA,s,240000\n", "partners").unwrap();
//! let mut csv = String::from("partner_id,date,quantity,revenue\n");
//! for m in 1..=6 {
//!     csv += &format!("A,2027-{m:02}-15,1,20000\n");
//! }
//! let actuals = Transactions::from_csv_str(&csv, "actuals").unwrap();
//! let f = forecast(&programme, &partners, &Model::default(), &actuals,
//!                  chrono::NaiveDate::from_ymd_opt(2027, 6, 30).unwrap(),
//!                  &ForecastOptions { scenarios: 10, ..Default::default() }).unwrap();
//! // 120,000 to date and 120,000 expected: tier 2 (4%) on 240,000
//! assert_eq!(f.expected_value().value, 9600.0);
//! // required to date at the effective rate 4% on 120,000
//! assert_eq!(f.journal()[0].required, 4800.0);
//! ```
//!
//! Results are bit-identical for any number of threads: every scenario draws from streams keyed
//! by (seed, scenario, partner, purpose) and results are folded in scenario order.

mod actuals;
pub mod arrow;
mod cash;
mod closed;
mod distribution;
mod draws;
mod journal;
mod ledger;
mod options;
mod prior;
mod report;
mod result;
pub mod rollforward;
mod scenarios;
pub(crate) mod timing;
mod watch;

pub use cash::CashLine;
pub use closed::{ClosedAdjustments, PeriodAmount, RULE_NAMES};
pub use distribution::{distribution, half_sample_mode, Distribution, Estimates};
pub use journal::{JournalLine, JournalSummary};
pub use ledger::{LedgerLevel, LedgerRow};
pub use options::{ForecastOptions, ForecastProgress};
pub use prior::PriorAccruals;
pub use report::ForecastReport;
pub use result::{Forecast, Row};
pub use watch::WatchEntry;

use crate::data::Transactions;
use crate::demand::Model;
use crate::error::Result;
use crate::population::Population;
use crate::programme::Compiled;
use crate::rules::Prepared;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Forecast the final payout of `programme` from the `actuals` up to `as_of` (inclusive).
///
/// Errors: [`Error::Request`](crate::Error::Request) for bad options or an `as_of` outside
/// the programme; [`Error::Data`](crate::Error::Data) naming the row for actuals after
/// `as_of`, for unknown partners, dates before the programme, undeclared categories, a
/// partner whose cumulative net revenue or quantity turns negative after returns, and prior
/// accruals for unknown partners or components (or given twice);
/// [`Error::Model`](crate::Error::Model) for a model the engine refuses;
/// [`Error::Cancelled`](crate::Error::Cancelled) when `cancel` is set.
pub fn forecast(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    actuals: &Transactions,
    as_of: NaiveDate,
    opts: &ForecastOptions,
) -> Result<Forecast> {
    match forecast_with(
        programme,
        population,
        model,
        actuals,
        as_of,
        opts,
        Mode::Local,
    )? {
        Made::Forecast(f) => Ok(*f),
        Made::Shard(_) => unreachable!("a local forecast makes a forecast"),
    }
}

/// Scenarios `range` of the forecast [`forecast`] makes with the same arguments, as bytes
/// (each scenario's outcome before it is folded): [`forecast_from_shards`] of consecutive
/// ranges covering `0..opts.scenarios` is bit for bit [`forecast`] (scale-out, see
/// `docs/scale-out.md`). Errors as [`forecast`], and for an empty range or one outside the
/// scenarios.
pub fn forecast_shard(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    actuals: &Transactions,
    as_of: NaiveDate,
    opts: &ForecastOptions,
    range: std::ops::Range<usize>,
) -> Result<Vec<u8>> {
    if range.start >= range.end || range.end > opts.scenarios {
        return Err(crate::Error::Request(format!(
            "the scenarios [{}, {}) are not a non-empty range of the forecast's {} scenarios",
            range.start, range.end, opts.scenarios
        )));
    }
    match forecast_with(
        programme,
        population,
        model,
        actuals,
        as_of,
        opts,
        Mode::Range(range),
    )? {
        Made::Shard(b) => Ok(b),
        Made::Forecast(_) => unreachable!("a range of a forecast makes a shard"),
    }
}

/// The forecast from the shards ([`forecast_shard`]) of consecutive scenario ranges
/// covering `0..opts.scenarios`, folded in scenario order: bit for bit [`forecast`].
pub fn forecast_from_shards(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    actuals: &Transactions,
    as_of: NaiveDate,
    opts: &ForecastOptions,
    shards: &[Vec<u8>],
) -> Result<Forecast> {
    match forecast_with(
        programme,
        population,
        model,
        actuals,
        as_of,
        opts,
        Mode::Shards(shards),
    )? {
        Made::Forecast(f) => Ok(*f),
        Made::Shard(_) => unreachable!("a merge makes a forecast"),
    }
}

/// How [`forecast_with`] gets its scenarios.
enum Mode<'s> {
    /// Run them all here.
    Local,
    /// Run these only and return their outcomes as bytes.
    Range(std::ops::Range<usize>),
    /// Fold the outcomes of these shards.
    Shards(&'s [Vec<u8>]),
}

/// What [`forecast_with`] made.
enum Made {
    Forecast(Box<Forecast>),
    Shard(Vec<u8>),
}

/// The forecast's set-up (checks, actuals measured, the conditioned engine, the closed
/// periods settled), then its scenarios as `mode` says.
fn forecast_with(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    actuals: &Transactions,
    as_of: NaiveDate,
    opts: &ForecastOptions,
    mode: Mode<'_>,
) -> Result<Made> {
    let mut timer = timing::Timer::start("forecast");
    options::check_options(opts)?;
    // the memory guard before any set-up: the chunk of scenarios in flight that fits
    let chunk = options::check_results_memory(programme, population, opts.scenarios)?;
    actuals::check_as_of(&programme.calendar, as_of)?;
    actuals::check_dates(actuals, as_of)?;
    let partners = actuals::settlement_partners(programme, population)?;
    timer.lap("checks, partner table");
    let resolved = actuals.resolve(&partners, programme)?;
    let rows_of = actuals::rows_by_partner(actuals, &resolved, population.len());
    actuals::check_cumulative_returns(actuals, &resolved, population, &rows_of)?;
    timer.lap("actuals resolved, by partner, returns checked");
    let prepared: Prepared<Decimal> = Prepared::new(programme);
    let months = actuals::MonthsObserved::new(&programme.calendar, as_of);
    let prior = prior::prior_amounts(opts.prior_accruals, population, &prepared)?;
    // the actuals settled once: the books' closed lines, the closed periods' amounts and
    // the measures of the actuals to date
    let settlement =
        crate::settlement::settle_for_forecast(programme, &partners, actuals, &resolved)?;
    timer.lap("actuals settled");
    let to_date = actuals::measure_actuals(
        programme,
        &prepared,
        population,
        actuals,
        &resolved,
        &rows_of,
        &settlement.measures_by_table_partner(),
        months,
    );
    timer.lap("actuals measured");
    let engines = draws::draw_engines(programme, population, model, to_date.observed, opts)?;
    timer.lap("conditioned set-up");
    if let Mode::Range(range) = mode {
        return scenarios::run_range(&engines, opts, chunk, range).map(Made::Shard);
    }
    let engine = &engines.model;
    // the settled lines read once: the closed periods' amounts and the books' closed lines
    let mut closed_lines = ledger::ClosedLines::new(programme, as_of);
    let settled = closed::settle_closed(
        programme,
        &partners,
        &settlement,
        engine.closed_periods(),
        |l| closed_lines.take(l),
    );
    drop(settlement);
    let books = ledger::Books::new(programme, &partners, closed_lines, as_of, prior);
    timer.lap("closed periods, books");
    let accumulated = match mode {
        Mode::Shards(shards) => scenarios::fold_shards(engine, population, opts, shards)?,
        _ => scenarios::run_scenarios(&engines, population, opts, chunk)?,
    };
    timer.lap("scenarios");
    let watch = watch::watch_list(programme, population, engine, &accumulated);
    timer.lap("watch list");
    let made = Forecast::new(result::Parts {
        programme,
        population,
        engine,
        parameter_draws: engines.draws(),
        as_of,
        opts,
        months,
        volume_to_date: to_date.volume_to_date,
        volume_month: to_date.volume_month,
        books,
        settled,
        accumulated,
        watch,
    });
    timer.lap("result");
    Ok(Made::Forecast(Box::new(made)))
}
