//! The run of a backtest: the options checked, then every synthetic year on worker threads
//! (each year drawn, settled, and forecast by every method at every month end), the results
//! stored by year so that they do not depend on the number of threads.

use super::forecaster::Forecaster;
use super::options::{check_years_memory, default_forecast_seed, year_seed, BacktestOptions};
use super::result::{cell, Backtest, Cell};
use super::truth::{actuals_to, month_end_date, truth_year};
use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::run::{check_threads, Bytes, Control};
use chrono::NaiveDate;
use rust_decimal::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What one year gives: the payout it realised, and every method's cell at every month end
/// (month ends outer, methods inner).
type YearResult = Result<(f64, Vec<Cell>)>;

/// Run a backtest of `methods` (name, forecaster) on synthetic years of `model`.
///
/// Errors: [`Error::Request`] for bad options (no years, no methods, a duplicate name, a month
/// end outside 1..months), [`Error::Cancelled`] when the progress callback returns `false`, and
/// any error of the engine, settlement or a forecaster (the first in year order).
pub fn run(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    methods: &[(&str, &dyn Forecaster)],
    opts: &BacktestOptions,
) -> Result<Backtest> {
    run_years(programme, population, model, methods, opts, 0..opts.years)
}

/// Years `years` (a range inside `0..opts.years`) of the backtest [`run`] makes: each year
/// depends on its index alone, so [`Backtest::concat`] of the results of consecutive ranges
/// covering `0..opts.years` is bit for bit the result of [`run`] (scale-out, see
/// `docs/scale-out.md`). Errors as [`run`], and for an empty range or one outside the years.
pub fn run_years(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    methods: &[(&str, &dyn Forecaster)],
    opts: &BacktestOptions,
    years: Range<usize>,
) -> Result<Backtest> {
    if opts.years > 0 && (years.start >= years.end || years.end > opts.years) {
        return Err(Error::Request(format!(
            "the years [{}, {}) are not a non-empty range of the backtest's {} years",
            years.start, years.end, opts.years
        )));
    }
    if opts.years == 0 {
        return Err(Error::Request("a backtest needs at least one year".into()));
    }
    check_threads(opts.threads)?;
    let names = method_names(methods)?;
    let month_ends = month_ends(programme, opts.month_ends)?;
    let as_of: Vec<NaiveDate> = month_ends
        .iter()
        .map(|&m| month_end_date(programme, m))
        .collect();
    // the cells kept per year, checked before any year runs (saturating: a huge number of
    // years is refused, never wrapped round to a small estimate)
    let per_year = Bytes::sum(&[
        Bytes::mul(
            Bytes::mul(std::mem::size_of::<Cell>(), as_of.len()),
            methods.len(),
        ),
        std::mem::size_of::<Option<YearResult>>() + 8,
    ]);
    check_years_memory(opts.years, per_year)?;
    let forecast_seed = opts
        .forecast_seed
        .unwrap_or_else(|| default_forecast_seed(opts.seed));
    let range = years;
    let years = Years {
        programme,
        population,
        model,
        methods,
        opts,
        control: opts.control(),
        as_of: &as_of,
        forecast_seed,
        done: AtomicUsize::new(0),
        cancelled: AtomicBool::new(false),
    };
    let outs = run_all(&years, range);
    if years.stopped() {
        return Err(Error::Cancelled);
    }
    let mut realised = Vec::with_capacity(outs.len());
    let mut cells = Vec::with_capacity(outs.len() * as_of.len() * methods.len());
    for out in outs {
        let (payout, year_cells) = out?;
        realised.push(payout);
        cells.extend(year_cells);
    }
    if years.cancelled.load(Ordering::Relaxed) || years.stopped() {
        return Err(Error::Cancelled);
    }
    let has_intervals = (0..methods.len())
        .map(|k| {
            cells
                .iter()
                .skip(k)
                .step_by(methods.len())
                .all(|c| !c.bounds[0].is_nan())
        })
        .collect();
    Ok(Backtest {
        programme: programme.name.clone(),
        currency: programme.currency.clone(),
        methods: names,
        month_ends,
        as_of,
        seed: opts.seed,
        forecast_seed,
        realised,
        has_intervals,
        parameter_draws: 0,
        cells,
    })
}

/// The methods' names, refusing an empty list and a name used twice.
fn method_names(methods: &[(&str, &dyn Forecaster)]) -> Result<Vec<String>> {
    if methods.is_empty() {
        return Err(Error::Request(
            "a backtest needs at least one method".into(),
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for (name, _) in methods {
        if names.iter().any(|x| x == name) {
            return Err(Error::Request(format!(
                "method name '{name}' is used twice"
            )));
        }
        names.push((*name).to_owned());
    }
    Ok(names)
}

/// The month ends to forecast at (1-based programme months): those given, each checked to be
/// in the programme, else every month end before the last.
fn month_ends(programme: &Compiled, given: Option<&[usize]>) -> Result<Vec<usize>> {
    let months = programme.calendar.months() as usize;
    match given {
        Some(v) => {
            if v.is_empty() {
                return Err(Error::Request("month_ends is empty".into()));
            }
            for &m in v {
                if m == 0 || m > months {
                    return Err(Error::Request(format!(
                        "month end {m} is outside the programme (1 to {months})"
                    )));
                }
            }
            Ok(v.to_vec())
        }
        None => Ok((1..months.max(2)).collect()),
    }
}

/// The years of one backtest and what their workers share.
struct Years<'a> {
    programme: &'a Compiled,
    population: &'a Population,
    model: &'a Model,
    methods: &'a [(&'a str, &'a dyn Forecaster)],
    opts: &'a BacktestOptions<'a>,
    /// The caller's progress callback and cancel flag.
    control: Control<'a>,
    as_of: &'a [NaiveDate],
    forecast_seed: u64,
    /// Years finished (for the progress callback).
    done: AtomicUsize,
    /// Set when the progress callback asked to stop.
    cancelled: AtomicBool,
}

impl Years<'_> {
    /// Whether the caller's cancel flag is set.
    fn stopped(&self) -> bool {
        self.opts.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Year `y`: drawn and settled, then forecast by every method at every month end
    /// (`planned`: the years of the run, for the progress callback).
    fn run_year(&self, y: usize, planned: usize) -> YearResult {
        if self.cancelled.load(Ordering::Relaxed) || self.stopped() {
            return Err(Error::Cancelled);
        }
        let opts = self.opts;
        let truth = truth_year(self.programme, self.population, self.model, opts.seed, y)?;
        let seed = year_seed(self.forecast_seed, y as u64);
        let mut cells = Vec::with_capacity(self.as_of.len() * self.methods.len());
        for &d in self.as_of {
            let actuals = actuals_to(&truth.transactions, d);
            for (name, method) in self.methods {
                if self.stopped() {
                    return Err(Error::Cancelled);
                }
                let prediction = method.predict(&actuals, d, seed)?;
                cells.push(cell(&prediction, name)?);
            }
        }
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.control
            .report(n, planned)
            .inspect_err(|_| self.cancelled.store(true, Ordering::Relaxed))?;
        Ok((truth.payout.to_f64().unwrap_or(f64::NAN), cells))
    }
}

/// Years `range`, in year order.
///
/// Years run on plain scoped threads pulling the next year from a counter, not on a rayon
/// pool: each forecast starts its own rayon pool, and a rayon worker waiting on another
/// pool steals further years while it waits, nesting forecasts on one stack until it
/// overflows. Results are stored by year, so they do not depend on the number of threads.
fn run_all(ys: &Years<'_>, range: Range<usize>) -> Vec<YearResult> {
    let count = range.end - range.start;
    let threads = ys
        .opts
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let next = AtomicUsize::new(range.start);
    let mut slots: Vec<Option<YearResult>> = (0..count).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(count.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let y = next.fetch_add(1, Ordering::Relaxed);
                        if y >= range.end {
                            break;
                        }
                        mine.push((y, ys.run_year(y, count)));
                    }
                    mine
                })
            })
            .collect();
        for worker in workers {
            match worker.join() {
                Ok(mine) => {
                    for (y, r) in mine {
                        slots[y - range.start] = Some(r);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    slots
        .into_iter()
        .map(|o| o.unwrap_or(Err(Error::Cancelled)))
        .collect()
}
