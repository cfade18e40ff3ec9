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

use crate::data::{Partners, Transactions};
use crate::demand::Model;
use crate::engine::{export_scenario, simulate, SimOptions};
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::{Compiled, Rule};
use crate::rng::splitmix64;
use crate::settlement::settle;
use crate::summary::{self, Estimate};
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What a forecaster says about the year's final payout.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// A Monte Carlo distribution of the final payout (one value per scenario). The expected-value
    /// estimate is its mean; the 80% and 90% central intervals are its P10–P90 and P5–P95
    /// (type-7 percentiles, as everywhere in the crate).
    Distribution(Vec<f64>),
    /// A point estimate only (no interval).
    Point(f64),
}

impl Prediction {
    fn point(&self) -> f64 {
        match self {
            Prediction::Point(x) => *x,
            Prediction::Distribution(v) => {
                let n = v.iter().filter(|x| x.is_finite()).count();
                v.iter().filter(|x| x.is_finite()).sum::<f64>() / n as f64
            }
        }
    }
}

/// A forecasting method: from the actual transactions up to `as_of` (inclusive), estimate the
/// programme's final payout. `seed` is the seed a Monte Carlo method should use.
pub trait Forecaster: Sync {
    /// Forecast the final payout from the actuals to `as_of`.
    fn predict(&self, actuals: &Transactions, as_of: NaiveDate, seed: u64) -> Result<Prediction>;
}

impl<F> Forecaster for F
where
    F: Fn(&Transactions, NaiveDate, u64) -> Result<Prediction> + Sync,
{
    fn predict(&self, actuals: &Transactions, as_of: NaiveDate, seed: u64) -> Result<Prediction> {
        self(actuals, as_of, seed)
    }
}

/// The central interval levels the harness reports.
pub const LEVELS: [f64; 2] = [0.8, 0.9];

/// Progress callback: (years done, years planned); returning `false` cancels the run.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) -> bool + Sync);

/// Options of a backtest.
#[derive(Clone, Copy)]
pub struct BacktestOptions<'a> {
    /// Number of synthetic years (scenarios of the truth run).
    pub years: usize,
    /// Seed of the truth (the synthetic years).
    pub seed: u64,
    /// Base seed of the forecasters' per-year seeds (`None`: derived from `seed`).
    pub forecast_seed: Option<u64>,
    /// Programme months after which to forecast (1-based month ends; `None`: every month end
    /// before the last, 1..months−1; at the last month end every method settles the full
    /// actuals and is exact).
    pub month_ends: Option<&'a [usize]>,
    /// Worker threads over years (`None` = all cores).
    pub threads: Option<usize>,
    /// Progress callback, called after each year.
    pub progress: Option<Progress<'a>>,
    /// Set to `true` (from another thread, e.g. a Ctrl-C watcher) to stop the run with
    /// [`Error::Cancelled`]; the standard forecasters ([`run_standard`]) check it within their
    /// forecasts too.
    pub cancel: Option<&'a AtomicBool>,
}

impl Default for BacktestOptions<'_> {
    fn default() -> Self {
        BacktestOptions {
            years: 500,
            seed: 1,
            forecast_seed: None,
            month_ends: None,
            threads: None,
            progress: None,
            cancel: None,
        }
    }
}

/// The forecast seed of year `year`: independent of the truth's streams and of other years.
pub fn year_seed(forecast_seed: u64, year: u64) -> u64 {
    splitmix64(forecast_seed ^ splitmix64(year ^ 0x4241_434B_5445_5354)) // "BACKTEST"
}

fn default_forecast_seed(seed: u64) -> u64 {
    splitmix64(seed ^ 0x464F_5245_4341_5354) // "FORECAST"
}

/// What one method said at one month end of one year.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cell {
    point: f64,
    /// [lo80, hi80, lo90, hi90] (NaN for point forecasts).
    bounds: [f64; 4],
}

/// The result of a backtest: every estimate of every method at every month end of every year,
/// with what each year realised, and the statistics built on them.
#[derive(Debug, Clone)]
pub struct Backtest {
    /// Programme name.
    pub programme: String,
    /// Currency code.
    pub currency: String,
    /// Method names, in the order given.
    pub methods: Vec<String>,
    /// Programme months after which each forecast was made (1-based).
    pub month_ends: Vec<usize>,
    /// The month-end dates (`as_of` of each forecast).
    pub as_of: Vec<NaiveDate>,
    /// Truth seed.
    pub seed: u64,
    /// Base seed of the forecasts.
    pub forecast_seed: u64,
    /// Final payout each year realised (exact settlement of the year, as f64).
    pub realised: Vec<f64>,
    /// Whether each method gave a distribution (intervals) rather than a point.
    pub has_intervals: Vec<bool>,
    cells: Vec<Cell>,
}

/// Coverage of one central interval of one method at one month end (or pooled).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoverageRow {
    /// Method name.
    pub method: String,
    /// Month end (1-based programme month), `None` for all month ends pooled.
    pub month_end: Option<usize>,
    /// Nominal level (0.8 or 0.9).
    pub level: f64,
    /// Forecasts counted.
    pub n: usize,
    /// Share of years whose realised payout fell inside the interval, with its binomial SE
    /// `√(p(1−p)/n)`.
    pub coverage: Estimate,
    /// Share of years whose realised payout fell below the interval (the forecast was too high).
    pub below: f64,
    /// Share above the interval (the forecast was too low).
    pub above: f64,
    /// SE of the coverage clustered by year (forecasts of one year are correlated; equal to
    /// the binomial SE for a single month end).
    pub se_years: f64,
}

/// Error of one method's expected-value estimate at one month end (or pooled).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ErrorRow {
    /// Method name.
    pub method: String,
    /// Month end (1-based programme month), `None` for all month ends pooled.
    pub month_end: Option<usize>,
    /// Forecasts counted (years with a realised payout > 0).
    pub n: usize,
    /// Mean absolute error relative to the realised payout, mean of |estimate − realised| /
    /// realised, with its SE (clustered by year when pooled).
    pub mae: Estimate,
    /// Root mean squared relative error √mean(((estimate − realised)/realised)²).
    pub rmse: f64,
    /// Mean relative error (estimate − realised)/realised: the bias (> 0: too high).
    pub bias: Estimate,
    /// Mean absolute error in currency.
    pub mae_amount: f64,
}

/// The paired difference of two methods' relative absolute errors on the same years.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PairedRow {
    /// The method compared (e.g. the forecast).
    pub method: String,
    /// The method it is compared with.
    pub against: String,
    /// Month end, `None` for all month ends pooled.
    pub month_end: Option<usize>,
    /// Mean over years of |e_method| − |e_against| (relative errors), with its SE (by year).
    /// Negative: `method` is more accurate.
    pub difference: Estimate,
    /// Share of forecasts where `method` was closer to the realised payout.
    pub wins: f64,
}

impl Backtest {
    /// Number of years.
    pub fn years(&self) -> usize {
        self.realised.len()
    }

    fn idx(&self, y: usize, m: usize, k: usize) -> usize {
        (y * self.month_ends.len() + m) * self.methods.len() + k
    }

    fn method_index(&self, method: &str) -> Result<usize> {
        self.methods
            .iter()
            .position(|x| x == method)
            .ok_or_else(|| {
                Error::Request(format!(
                    "unknown method '{method}' (known: {})",
                    self.methods.join(", ")
                ))
            })
    }

    /// Expected-value estimate of `method` in year `year` at month-end position `m`.
    pub fn estimate(&self, method: &str, year: usize, m: usize) -> Result<f64> {
        let k = self.method_index(method)?;
        Ok(self.cells[self.idx(year, m, k)].point)
    }

    /// Central interval at `level` (0.8 or 0.9) of `method` in year `year` at month-end
    /// position `m`; `None` for point methods.
    pub fn interval(
        &self,
        method: &str,
        year: usize,
        m: usize,
        level: f64,
    ) -> Result<Option<(f64, f64)>> {
        let k = self.method_index(method)?;
        let j = level_index(level)?;
        let c = &self.cells[self.idx(year, m, k)];
        Ok(self.has_intervals[k].then(|| (c.bounds[2 * j], c.bounds[2 * j + 1])))
    }

    /// Coverage of the 80% and 90% intervals of every method with intervals, per month end and
    /// pooled (pooled rows last for each method and level).
    pub fn coverage(&self) -> Vec<CoverageRow> {
        let (ny, nm) = (self.years(), self.month_ends.len());
        let mut rows = Vec::new();
        for (k, method) in self.methods.iter().enumerate() {
            if !self.has_intervals[k] {
                continue;
            }
            for (j, &level) in LEVELS.iter().enumerate() {
                // per year and month end: -1 below, 0 inside, 1 above
                let side = |y: usize, m: usize| {
                    let c = &self.cells[self.idx(y, m, k)];
                    let r = self.realised[y];
                    if r < c.bounds[2 * j] {
                        -1
                    } else if r > c.bounds[2 * j + 1] {
                        1
                    } else {
                        0
                    }
                };
                let row = |ms: &[usize], month_end: Option<usize>| {
                    let mut per_year = Vec::with_capacity(ny);
                    let (mut inside, mut below, mut above) = (0usize, 0usize, 0usize);
                    for y in 0..ny {
                        let mut yi = 0usize;
                        for &m in ms {
                            match side(y, m) {
                                -1 => below += 1,
                                1 => above += 1,
                                _ => {
                                    inside += 1;
                                    yi += 1;
                                }
                            }
                        }
                        per_year.push(yi as f64 / ms.len() as f64);
                    }
                    let n = ny * ms.len();
                    let p = inside as f64 / n as f64;
                    CoverageRow {
                        method: method.clone(),
                        month_end,
                        level,
                        n,
                        coverage: Estimate {
                            value: p,
                            se: (p * (1.0 - p) / n as f64).sqrt(),
                        },
                        below: below as f64 / n as f64,
                        above: above as f64 / n as f64,
                        se_years: summary::mean(&per_year).se,
                    }
                };
                for m in 0..nm {
                    rows.push(row(&[m], Some(self.month_ends[m])));
                }
                let all: Vec<usize> = (0..nm).collect();
                rows.push(row(&all, None));
            }
        }
        rows
    }

    fn rel_errors(&self, k: usize, m: usize) -> Vec<(usize, f64, f64)> {
        (0..self.years())
            .filter(|&y| self.realised[y] > 0.0)
            .map(|y| {
                let e = self.cells[self.idx(y, m, k)].point - self.realised[y];
                (y, e / self.realised[y], e)
            })
            .collect()
    }

    /// Error of every method's expected-value estimate, per month end and pooled (pooled rows
    /// last for each method). Years that realised no payout are left out (relative error
    /// undefined).
    pub fn errors(&self) -> Vec<ErrorRow> {
        let nm = self.month_ends.len();
        let mut rows = Vec::new();
        for (k, method) in self.methods.iter().enumerate() {
            let mut per_year: HashMap<usize, (f64, f64, usize)> = HashMap::new();
            let mut pooled: Vec<(f64, f64)> = Vec::new();
            for m in 0..nm {
                let e = self.rel_errors(k, m);
                let abs: Vec<f64> = e.iter().map(|x| x.1.abs()).collect();
                let rel: Vec<f64> = e.iter().map(|x| x.1).collect();
                for &(y, r, a) in &e {
                    let s = per_year.entry(y).or_default();
                    s.0 += r.abs();
                    s.1 += r;
                    s.2 += 1;
                    pooled.push((r, a));
                }
                rows.push(ErrorRow {
                    method: method.clone(),
                    month_end: Some(self.month_ends[m]),
                    n: e.len(),
                    mae: summary::mean(&abs),
                    rmse: (rel.iter().map(|x| x * x).sum::<f64>() / rel.len() as f64).sqrt(),
                    bias: summary::mean(&rel),
                    mae_amount: e.iter().map(|x| x.2.abs()).sum::<f64>() / e.len() as f64,
                });
            }
            let mut ys: Vec<usize> = per_year.keys().copied().collect();
            ys.sort_unstable();
            let ya: Vec<f64> = ys
                .iter()
                .map(|y| per_year[y].0 / per_year[y].2 as f64)
                .collect();
            let yb: Vec<f64> = ys
                .iter()
                .map(|y| per_year[y].1 / per_year[y].2 as f64)
                .collect();
            let n = pooled.len();
            let mae = pooled.iter().map(|x| x.0.abs()).sum::<f64>() / n as f64;
            let bias = pooled.iter().map(|x| x.0).sum::<f64>() / n as f64;
            rows.push(ErrorRow {
                method: method.clone(),
                month_end: None,
                n,
                mae: Estimate {
                    value: mae,
                    se: summary::mean(&ya).se,
                },
                rmse: (pooled.iter().map(|x| x.0 * x.0).sum::<f64>() / n as f64).sqrt(),
                bias: Estimate {
                    value: bias,
                    se: summary::mean(&yb).se,
                },
                mae_amount: pooled.iter().map(|x| x.1.abs()).sum::<f64>() / n as f64,
            });
        }
        rows
    }

    /// Paired comparison of `method`'s relative absolute error with `against`'s on the same
    /// years, per month end and pooled (last row). SEs are over years (pooled: of each year's
    /// mean over month ends), so they account for the correlation between a year's month ends.
    pub fn paired(&self, method: &str, against: &str) -> Result<Vec<PairedRow>> {
        let (a, b) = (self.method_index(method)?, self.method_index(against)?);
        let nm = self.month_ends.len();
        let ys: Vec<usize> = (0..self.years())
            .filter(|&y| self.realised[y] > 0.0)
            .collect();
        let d = |y: usize, m: usize| {
            let r = self.realised[y];
            let ea = (self.cells[self.idx(y, m, a)].point - r).abs() / r;
            let eb = (self.cells[self.idx(y, m, b)].point - r).abs() / r;
            (ea - eb, ea < eb)
        };
        let mut rows = Vec::new();
        for m in 0..nm {
            let v: Vec<(f64, bool)> = ys.iter().map(|&y| d(y, m)).collect();
            let diffs: Vec<f64> = v.iter().map(|x| x.0).collect();
            rows.push(PairedRow {
                method: method.into(),
                against: against.into(),
                month_end: Some(self.month_ends[m]),
                difference: summary::mean(&diffs),
                wins: v.iter().filter(|x| x.1).count() as f64 / v.len() as f64,
            });
        }
        let per_year: Vec<f64> = ys
            .iter()
            .map(|&y| (0..nm).map(|m| d(y, m).0).sum::<f64>() / nm as f64)
            .collect();
        let wins = ys
            .iter()
            .flat_map(|&y| (0..nm).map(move |m| (y, m)))
            .filter(|&(y, m)| d(y, m).1)
            .count();
        rows.push(PairedRow {
            method: method.into(),
            against: against.into(),
            month_end: None,
            difference: summary::mean(&per_year),
            wins: wins as f64 / (ys.len() * nm) as f64,
        });
        Ok(rows)
    }

    /// The comparison table (Markdown): per month end, the mean absolute error of every
    /// method's expected-value estimate (% of the realised payout) and the coverage of the 80%
    /// and 90% intervals of the methods with intervals; the last row pools all month ends.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let errors = self.errors();
        let coverage = self.coverage();
        let nm = self.month_ends.len();
        let err_of = |k: usize, m: usize| &errors[k * (nm + 1) + m];
        let mut out = String::new();
        let mut head = String::from("| month end |");
        let mut rule = String::from("|---|");
        for (k, name) in self.methods.iter().enumerate() {
            write!(head, " {name} MAE % |").unwrap();
            rule.push_str("---:|");
            if self.has_intervals[k] {
                write!(head, " {name} 80% cover | {name} 90% cover |").unwrap();
                rule.push_str("---:|---:|");
            }
        }
        writeln!(out, "{head}\n{rule}").unwrap();
        for m in 0..=nm {
            let label = if m < nm {
                self.as_of[m].format("%Y-%m-%d").to_string()
            } else {
                "all".into()
            };
            write!(out, "| {label} |").unwrap();
            let mut ci = 0;
            for k in 0..self.methods.len() {
                let e = err_of(k, m);
                write!(
                    out,
                    " {:.1} ± {:.1} |",
                    100.0 * e.mae.value,
                    100.0 * e.mae.se
                )
                .unwrap();
                if self.has_intervals[k] {
                    for j in 0..LEVELS.len() {
                        let c = &coverage[(ci * LEVELS.len() + j) * (nm + 1) + m];
                        write!(
                            out,
                            " {:.1} ± {:.1} |",
                            100.0 * c.coverage.value,
                            100.0 * c.se_years.max(c.coverage.se)
                        )
                        .unwrap();
                    }
                    ci += 1;
                }
            }
            out.push('\n');
        }
        out
    }
}

fn level_index(level: f64) -> Result<usize> {
    LEVELS
        .iter()
        .position(|&l| (l - level).abs() < 1e-9)
        .ok_or_else(|| {
            Error::Request(format!(
                "interval level {level}: the backtest reports 0.8 and 0.9"
            ))
        })
}

/// The date of the end of programme month `m` (1-based: the last day of the m-th month).
pub fn month_end_date(programme: &Compiled, m: usize) -> NaiveDate {
    programme
        .calendar
        .start
        .checked_add_months(Months::new(m as u32))
        .and_then(|d| d.pred_opt())
        .expect("validated programme dates")
}

/// The rows of `tx` dated on or before `as_of` (keys kept, so row order and ids are those of
/// `tx`).
pub fn actuals_to(tx: &Transactions, as_of: NaiveDate) -> Transactions {
    let keep: Vec<usize> = (0..tx.len()).filter(|&i| tx.date[i] <= as_of).collect();
    Transactions {
        table: tx.table.clone(),
        partner_keys: tx.partner_keys.clone(),
        partner_key: keep.iter().map(|&i| tx.partner_key[i]).collect(),
        date: keep.iter().map(|&i| tx.date[i]).collect(),
        quantity: keep.iter().map(|&i| tx.quantity[i]).collect(),
        revenue: keep.iter().map(|&i| tx.revenue[i]).collect(),
        category_keys: tx.category_keys.clone(),
        category: tx
            .category
            .as_ref()
            .map(|c| keep.iter().map(|&i| c[i]).collect()),
        order_keys: tx.order_keys.clone(),
        order: tx
            .order
            .as_ref()
            .map(|o| keep.iter().map(|&i| o[i]).collect()),
    }
}

/// One synthetic year: its transactions and what it paid.
#[derive(Debug, Clone)]
pub struct TruthYear {
    /// The year's partner table (as the engine settles it).
    pub partners: Partners,
    /// The year's purchases.
    pub transactions: Transactions,
    /// Exact settled payout of the year.
    pub payout: Decimal,
}

/// Synthetic year `year` of the truth run with `seed`: scenario `year` of the engine, settled
/// exactly.
pub fn truth_year(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    seed: u64,
    year: usize,
) -> Result<TruthYear> {
    let ex = export_scenario(programme, population, model, seed, year as u64)?;
    let st = settle(programme, &ex.partners, &ex.transactions)?;
    Ok(TruthYear {
        partners: ex.partners,
        transactions: ex.transactions,
        payout: st.total.payable,
    })
}

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
    if opts.years == 0 {
        return Err(Error::Request("a backtest needs at least one year".into()));
    }
    crate::engine::check_threads(opts.threads)?;
    if methods.is_empty() {
        return Err(Error::Request(
            "a backtest needs at least one method".into(),
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for (n, _) in methods {
        if names.iter().any(|x| x == n) {
            return Err(Error::Request(format!("method name '{n}' is used twice")));
        }
        names.push((*n).to_owned());
    }
    let months = programme.calendar.months() as usize;
    let month_ends: Vec<usize> = match opts.month_ends {
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
            v.to_vec()
        }
        None => (1..months.max(2)).collect(),
    };
    let as_of: Vec<NaiveDate> = month_ends
        .iter()
        .map(|&m| month_end_date(programme, m))
        .collect();
    // the cells kept per year, checked before any year runs (saturating: a huge number of
    // years is refused, never wrapped round to a small estimate)
    let per_year = std::mem::size_of::<Cell>()
        .saturating_mul(as_of.len())
        .saturating_mul(methods.len())
        .saturating_add(std::mem::size_of::<Option<Result<(f64, Vec<Cell>)>>>() + 8);
    check_years_memory(opts.years, per_year)?;
    let forecast_seed = opts
        .forecast_seed
        .unwrap_or_else(|| default_forecast_seed(opts.seed));
    let stopped = || opts.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let threads = opts
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    // Years run on plain scoped threads pulling the next year from a counter, not on a rayon
    // pool: each forecast starts its own rayon pool, and a rayon worker waiting on another pool
    // steals further years while it waits, nesting forecasts on one stack until it overflows.
    // Results are stored by year, so they do not depend on the number of threads.
    let done = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let cancelled = AtomicBool::new(false);
    let years = opts.years;
    let run_year = |y: usize| -> Result<(f64, Vec<Cell>)> {
        if cancelled.load(Ordering::Relaxed) || stopped() {
            return Err(Error::Cancelled);
        }
        let truth = truth_year(programme, population, model, opts.seed, y)?;
        let seed = year_seed(forecast_seed, y as u64);
        let mut cells = Vec::with_capacity(as_of.len() * methods.len());
        for &d in &as_of {
            let actuals = actuals_to(&truth.transactions, d);
            for (name, f) in methods {
                if stopped() {
                    return Err(Error::Cancelled);
                }
                let pred = f.predict(&actuals, d, seed)?;
                cells.push(cell(&pred, name)?);
            }
        }
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(cb) = opts.progress {
            if !cb(n, years) {
                cancelled.store(true, Ordering::Relaxed);
                return Err(Error::Cancelled);
            }
        }
        Ok((truth.payout.to_f64().unwrap_or(f64::NAN), cells))
    };
    let mut slots: Vec<Option<Result<(f64, Vec<Cell>)>>> = (0..years).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(years.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let y = next.fetch_add(1, Ordering::Relaxed);
                        if y >= years {
                            break;
                        }
                        mine.push((y, run_year(y)));
                    }
                    mine
                })
            })
            .collect();
        for w in workers {
            match w.join() {
                Ok(mine) => {
                    for (y, r) in mine {
                        slots[y] = Some(r);
                    }
                }
                Err(p) => std::panic::resume_unwind(p),
            }
        }
    });
    let outs: Vec<Result<(f64, Vec<Cell>)>> = slots
        .into_iter()
        .map(|o| o.unwrap_or(Err(Error::Cancelled)))
        .collect();
    if stopped() {
        return Err(Error::Cancelled);
    }
    let mut realised = Vec::with_capacity(years);
    let mut cells = Vec::with_capacity(years * as_of.len() * methods.len());
    for o in outs {
        let (r, c) = o?;
        realised.push(r);
        cells.extend(c);
    }
    if cancelled.load(Ordering::Relaxed) || stopped() {
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
        cells,
    })
}

/// Memory a backtest keeps for its years: at most 4 GB.
const BACKTEST_MEMORY: usize = 4 << 30;

/// Refuse `years` years of `per_year` bytes each above [`BACKTEST_MEMORY`].
fn check_years_memory(years: usize, per_year: usize) -> Result<()> {
    let need = years.saturating_mul(per_year);
    if need > BACKTEST_MEMORY {
        return Err(Error::Request(format!(
            "a backtest of {years} years would keep {} of results, above 4 GB: run fewer years (or fewer scenarios per forecast)",
            if need == usize::MAX {
                "more memory than this computer can address".to_owned()
            } else {
                format!("about {} MB", need / 1_000_000 + 1)
            }
        )));
    }
    Ok(())
}

fn cell(pred: &Prediction, name: &str) -> Result<Cell> {
    let point = pred.point();
    if !point.is_finite() {
        return Err(Error::Request(format!(
            "method '{name}' gave no finite estimate"
        )));
    }
    let bounds = match pred {
        Prediction::Point(_) => [f64::NAN; 4],
        Prediction::Distribution(v) => {
            let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            s.sort_by(f64::total_cmp);
            let mut b = [0.0; 4];
            for (j, &level) in LEVELS.iter().enumerate() {
                let tail = (1.0 - level) / 2.0;
                b[2 * j] = summary::percentile_sorted(&s, tail);
                b[2 * j + 1] = summary::percentile_sorted(&s, 1.0 - tail);
            }
            b
        }
    };
    Ok(Cell { point, bounds })
}

// ---------------------------------------------------------------------------------------
// The engine's forecast before the year.

/// The forecast made before the year: the whole year simulated with [`simulate`] from the
/// model, ignoring the actuals (one run per seed, cached, so every month end of a year reuses
/// it). Because the synthetic years come from the same model, its intervals cover at their
/// nominal rates at every month end; its error does not fall as the year goes on.
pub struct PriorForecaster<'a> {
    programme: &'a Compiled,
    population: &'a Population,
    model: &'a Model,
    scenarios: usize,
    cache: Mutex<HashMap<u64, Arc<Vec<f64>>>>,
    cancel: Option<&'a AtomicBool>,
}

impl<'a> PriorForecaster<'a> {
    /// A prior forecaster running `scenarios` scenarios per forecast.
    pub fn new(
        programme: &'a Compiled,
        population: &'a Population,
        model: &'a Model,
        scenarios: usize,
    ) -> Self {
        PriorForecaster {
            programme,
            population,
            model,
            scenarios,
            cache: Mutex::new(HashMap::new()),
            cancel: None,
        }
    }

    /// Stop a forecast in progress (with [`Error::Cancelled`]) once `cancel` is set.
    pub fn with_cancel(mut self, cancel: Option<&'a AtomicBool>) -> Self {
        self.cancel = cancel;
        self
    }
}

impl Forecaster for PriorForecaster<'_> {
    fn predict(&self, _actuals: &Transactions, _as_of: NaiveDate, seed: u64) -> Result<Prediction> {
        if let Some(v) = self.cache.lock().expect("cache lock").get(&seed) {
            return Ok(Prediction::Distribution(v.to_vec()));
        }
        let r = simulate(
            self.programme,
            self.population,
            self.model,
            &SimOptions {
                scenarios: self.scenarios,
                seed,
                threads: Some(1),
                cancel: self.cancel,
                ..Default::default()
            },
        )?;
        let v = Arc::new(r.payout);
        self.cache
            .lock()
            .expect("cache lock")
            .insert(seed, v.clone());
        Ok(Prediction::Distribution(v.to_vec()))
    }
}

/// The forecast from the actuals to date ([`crate::forecast::forecast`]): the model updated
/// from what each partner, segment and the market bought so far, the rest of the year
/// simulated. Its expected value is the mean of [`crate::forecast::Forecast::total_payout`],
/// its intervals that distribution's central percentiles.
pub struct ActualsForecaster<'a> {
    programme: &'a Compiled,
    population: &'a Population,
    model: &'a Model,
    scenarios: usize,
    cancel: Option<&'a AtomicBool>,
}

impl<'a> ActualsForecaster<'a> {
    /// A forecaster running `scenarios` scenarios of the remainder per forecast (one thread
    /// each: the harness runs years in parallel).
    pub fn new(
        programme: &'a Compiled,
        population: &'a Population,
        model: &'a Model,
        scenarios: usize,
    ) -> Self {
        ActualsForecaster {
            programme,
            population,
            model,
            scenarios,
            cancel: None,
        }
    }

    /// Stop a forecast in progress (with [`Error::Cancelled`]) once `cancel` is set.
    pub fn with_cancel(mut self, cancel: Option<&'a AtomicBool>) -> Self {
        self.cancel = cancel;
        self
    }
}

impl Forecaster for ActualsForecaster<'_> {
    fn predict(&self, actuals: &Transactions, as_of: NaiveDate, seed: u64) -> Result<Prediction> {
        let f = crate::forecast::forecast(
            self.programme,
            self.population,
            self.model,
            actuals,
            as_of,
            &crate::forecast::ForecastOptions {
                scenarios: self.scenarios,
                seed,
                threads: 1,
                cancel: self.cancel,
                ..Default::default()
            },
        )?;
        Ok(Prediction::Distribution(f.total_payout().to_vec()))
    }
}

// ---------------------------------------------------------------------------------------
// The methods rebate systems on the market use.

/// Which market method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketKind {
    /// Current-tier accrual: each partner's tier reached to date applied to its expected
    /// full-year volume (actuals to date + the plan for the remaining months).
    CurrentTier,
    /// Straight-line run rate: each partner's average month to date repeated for every
    /// remaining month (actuals × months / months elapsed), settled.
    RunRate,
    /// Seasonal-naive: last year's months × the growth goal for the remaining months
    /// (baseline × seasonality share × (1 + growth)), plus the actuals to date, settled.
    SeasonalNaive,
}

impl MarketKind {
    /// The method's short name (`current_tier`, `run_rate`, `seasonal_naive`).
    pub fn name(self) -> &'static str {
        match self {
            MarketKind::CurrentTier => "current_tier",
            MarketKind::RunRate => "run_rate",
            MarketKind::SeasonalNaive => "seasonal_naive",
        }
    }
}

#[derive(Debug, Clone)]
struct PlanLine {
    partner: String,
    category: Option<String>,
    quantity: Decimal,
    revenue: Decimal,
}

/// A market method, settled exactly. See [`MarketKind`] and `docs/backtest.md`.
pub struct MarketMethod<'a> {
    kind: MarketKind,
    programme: &'a Compiled,
    partners: Partners,
    /// Per programme month: the plan's lines (purchases and returns).
    plan: Vec<Vec<PlanLine>>,
}

fn dec_round(x: f64, dp: u32) -> Decimal {
    Decimal::from_f64(x)
        .unwrap_or_default()
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

impl<'a> MarketMethod<'a> {
    /// Build the method for a programme, population and model. The plan (last year's months ×
    /// the growth goal) is, for partner `i` of segment `g` in programme month `m`:
    /// revenue `B_i · S_g[cal(m)] / Σ S_g · (1 + growth_g)`, split by the partner's category
    /// shares (the population's `mix_` columns, else the model's `category_mix`), units =
    /// revenue / unit price, and a return line of `returns_g` of it (last year's return rate).
    /// `B_i` is the baseline revenue the engine uses (the segment median for a partner without
    /// a baseline).
    pub fn new(
        kind: MarketKind,
        programme: &'a Compiled,
        population: &Population,
        model: &Model,
    ) -> Result<Self> {
        // the partner table exactly as the engine settles it (baselines, derived revenue)
        let partners = export_scenario(programme, population, model, 0, 0)?.partners;
        let months = programme.calendar.months() as usize;
        let dp = programme.decimals;
        let n = population.len();
        // baseline revenue per partner, the segment median for partners without one
        let mut base: Vec<Option<f64>> = (0..n)
            .map(|i| partners.baseline_revenue[i].and_then(|d| d.to_f64()))
            .collect();
        for g in 0..population.segments.len() {
            let mut v: Vec<f64> = (0..n)
                .filter(|&i| population.segment[i] as usize == g)
                .filter_map(|i| base[i])
                .collect();
            v.sort_by(f64::total_cmp);
            if v.is_empty() {
                continue;
            }
            let med = if v.len() % 2 == 1 {
                v[v.len() / 2]
            } else {
                0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2])
            };
            for (b, &seg) in base.iter_mut().zip(&population.segment) {
                if seg as usize == g && b.is_none() {
                    *b = Some(med);
                }
            }
        }
        let (cats, model_mix): (Vec<String>, Vec<f64>) = if !population.categories.is_empty() {
            (population.categories.clone(), Vec::new())
        } else {
            (
                model.economics.category_mix.keys().cloned().collect(),
                model.economics.category_mix.values().copied().collect(),
            )
        };
        let start0 = programme.calendar.start.month0() as usize;
        let mut plan = vec![Vec::new(); months];
        for (i, b) in base.iter().enumerate() {
            let seg = population.segment_name(i);
            let season = model.seasonality.get(seg);
            let total: f64 = season.iter().sum();
            let growth = model.growth.get(seg);
            let returns = model.returns.get(seg);
            let b = b.unwrap_or(0.0);
            let price = population.unit_price[i]
                .or(
                    match (population.baseline_revenue[i], population.baseline_units[i]) {
                        (Some(r), Some(u)) if r > 0.0 && u > 0.0 => Some(r / u),
                        _ => None,
                    },
                )
                .or(model.economics.unit_price);
            let mix: Vec<f64> = if cats.is_empty() {
                vec![1.0]
            } else if model_mix.is_empty() {
                population.mix_of(i).to_vec()
            } else {
                model_mix.clone()
            };
            for (m, lines) in plan.iter_mut().enumerate() {
                let month_rev = if total > 0.0 {
                    b * season[(start0 + m) % 12] / total * (1.0 + growth)
                } else {
                    0.0
                };
                for (j, share) in mix.iter().enumerate() {
                    let r = month_rev * share;
                    if r <= 0.0 {
                        continue;
                    }
                    let category = if cats.is_empty() {
                        None
                    } else {
                        Some(cats[j].clone())
                    };
                    let q = price.map(|p| r / p).unwrap_or(0.0);
                    let rev = dec_round(r, dp);
                    let qty = dec_round(q, 6);
                    lines.push(PlanLine {
                        partner: population.partner_id[i].clone(),
                        category: category.clone(),
                        quantity: qty,
                        revenue: rev,
                    });
                    if returns > 0.0 {
                        lines.push(PlanLine {
                            partner: population.partner_id[i].clone(),
                            category,
                            quantity: -dec_round(q * returns, 6),
                            revenue: -dec_round(r * returns, dp),
                        });
                    }
                }
            }
        }
        Ok(MarketMethod {
            kind,
            programme,
            partners,
            plan,
        })
    }

    /// The method's kind.
    pub fn kind(&self) -> MarketKind {
        self.kind
    }

    /// The full-year transactions the method settles at `as_of`: the actuals to date plus its
    /// projection of every remaining month (lines on the first day of each month).
    pub fn projected_year(&self, actuals: &Transactions, as_of: NaiveDate) -> Result<Transactions> {
        let cal = &self.programme.calendar;
        let months = cal.months() as usize;
        // months elapsed, the month containing as_of included (the harness forecasts at month ends)
        let elapsed = match cal.month_of(as_of) {
            Some(m) => m as usize + 1,
            None => {
                return Err(Error::Request(format!(
                    "as_of {as_of} is outside the programme ({} to {})",
                    cal.start,
                    cal.end()
                )))
            }
        };
        let mut b = TxBuilder::from(actuals);
        let first_day = |m: usize| {
            cal.start
                .checked_add_months(Months::new(m as u32))
                .expect("validated dates")
        };
        match self.kind {
            MarketKind::SeasonalNaive | MarketKind::CurrentTier => {
                for m in elapsed..months {
                    let d = first_day(m);
                    for l in &self.plan[m] {
                        b.push(&l.partner, d, l.quantity, l.revenue, l.category.as_deref());
                    }
                }
            }
            MarketKind::RunRate => {
                // per partner, category and sign: the mean month to date
                // (partner key, category key, return line) → (quantity, revenue) to date
                type Key = (u32, Option<u32>, bool);
                let mut agg: Vec<(Key, (Decimal, Decimal))> = Vec::new();
                let mut at: HashMap<Key, usize> = HashMap::new();
                for i in 0..actuals.len() {
                    let key = (
                        actuals.partner_key[i],
                        actuals.category.as_ref().and_then(|c| c[i]),
                        actuals.revenue[i].is_sign_negative()
                            || actuals.quantity[i].is_sign_negative(),
                    );
                    let j = *at.entry(key).or_insert_with(|| {
                        agg.push((key, (Decimal::ZERO, Decimal::ZERO)));
                        agg.len() - 1
                    });
                    agg[j].1 .0 += actuals.quantity[i];
                    agg[j].1 .1 += actuals.revenue[i];
                }
                let e = Decimal::from(elapsed as u64);
                let dp = self.programme.decimals;
                for m in elapsed..months {
                    let d = first_day(m);
                    for ((p, c, _), (q, r)) in &agg {
                        let pid = actuals.partner_keys[*p as usize].clone();
                        let cat = c.map(|c| actuals.category_keys[c as usize].clone());
                        b.push(
                            &pid,
                            d,
                            (q / e).round_dp(6),
                            (r / e)
                                .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero),
                            cat.as_deref(),
                        );
                    }
                }
            }
        }
        Ok(b.tx)
    }

    /// The programme a current-tier accrual settles with: every volume or growth ladder split
    /// into one copy per tier reached to date, each scoped to the partners at that tier and
    /// without the tiers above it (so the partner's tier cannot rise); partners at tier 0 earn
    /// nothing from the ladder. The tier reached to date is settlement's standing (`measure =
    /// cumulative`: on the volume to date; `measure = period`: in the latest period with
    /// actuals).
    pub fn frozen_programme(&self, actuals: &Transactions) -> Result<Compiled> {
        let st = settle(self.programme, &self.partners, actuals)?;
        let mut tier_of: HashMap<(&str, &str), u32> = HashMap::new();
        for s in &st.standing {
            tier_of.insert((s.component.as_str(), s.partner_id.as_str()), s.tier);
        }
        let mut p = self.programme.clone();
        let mut comps = Vec::new();
        for c in &self.programme.components {
            let ntiers = match &c.rule {
                Rule::Volume { tiers, .. } | Rule::Growth { tiers, .. } => tiers.len(),
                _ => {
                    comps.push(c.clone());
                    continue;
                }
            };
            for t in 1..=ntiers as u32 {
                let mut ids: Vec<String> = self
                    .partners
                    .ids
                    .iter()
                    .filter(|id| tier_of.get(&(c.id.as_str(), id.as_str())) == Some(&t))
                    .cloned()
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                ids.sort();
                let mut copy = c.clone();
                // \u{1} sorts before every printable character: the copies keep the original
                // components' order (exclusive-group ties go to the smallest id)
                copy.id = format!("{}\u{1}{t}", c.id);
                copy.scope.partners = Some(ids);
                match &mut copy.rule {
                    Rule::Volume { tiers, .. } | Rule::Growth { tiers, .. } => {
                        tiers.truncate(t as usize)
                    }
                    _ => unreachable!(),
                }
                comps.push(copy);
            }
        }
        comps.sort_by(|a, b| a.id.cmp(&b.id));
        p.components = comps;
        Ok(p)
    }
}

impl Forecaster for MarketMethod<'_> {
    fn predict(&self, actuals: &Transactions, as_of: NaiveDate, _seed: u64) -> Result<Prediction> {
        let year = self.projected_year(actuals, as_of)?;
        let st = match self.kind {
            MarketKind::CurrentTier => {
                settle(&self.frozen_programme(actuals)?, &self.partners, &year)?
            }
            _ => settle(self.programme, &self.partners, &year)?,
        };
        Ok(Prediction::Point(
            st.total.payable.to_f64().unwrap_or(f64::NAN),
        ))
    }
}

/// Appends rows to a copy of a transaction table, interning ids.
struct TxBuilder {
    tx: Transactions,
    partners: HashMap<String, u32>,
    cats: HashMap<String, u32>,
}

impl TxBuilder {
    fn from(t: &Transactions) -> Self {
        let partners = t
            .partner_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u32))
            .collect();
        let cats = t
            .category_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u32))
            .collect();
        TxBuilder {
            tx: t.clone(),
            partners,
            cats,
        }
    }

    fn push(
        &mut self,
        partner: &str,
        date: NaiveDate,
        quantity: Decimal,
        revenue: Decimal,
        category: Option<&str>,
    ) {
        let tx = &mut self.tx;
        let p = *self.partners.entry(partner.to_owned()).or_insert_with(|| {
            tx.partner_keys.push(partner.to_owned());
            tx.partner_keys.len() as u32 - 1
        });
        tx.partner_key.push(p);
        tx.date.push(date);
        tx.quantity.push(quantity);
        tx.revenue.push(revenue);
        let c = category.map(|c| {
            *self.cats.entry(c.to_owned()).or_insert_with(|| {
                tx.category_keys.push(c.to_owned());
                tx.category_keys.len() as u32 - 1
            })
        });
        match (&mut tx.category, c) {
            (Some(v), c) => v.push(c),
            (None, Some(c)) => {
                let mut v = vec![None; tx.date.len() - 1];
                v.push(Some(c));
                tx.category = Some(v);
            }
            (None, None) => {}
        }
        if let Some(o) = tx.order.as_mut() {
            o.push(None);
        }
    }
}

/// The three market methods, in the order current-tier, run-rate, seasonal-naive.
pub fn market_methods<'a>(
    programme: &'a Compiled,
    population: &Population,
    model: &Model,
) -> Result<Vec<MarketMethod<'a>>> {
    [
        MarketKind::CurrentTier,
        MarketKind::RunRate,
        MarketKind::SeasonalNaive,
    ]
    .into_iter()
    .map(|k| MarketMethod::new(k, programme, population, model))
    .collect()
}

// ---------------------------------------------------------------------------------------
// The standard comparison.

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
    if scenarios < 2 {
        return Err(Error::Request(format!(
            "scenarios = {scenarios}: a forecast interval needs at least 2 scenarios"
        )));
    }
    // the prior forecaster keeps each year's scenarios (its cache)
    if which == Standard::Prior {
        check_years_memory(opts.years, scenarios.saturating_mul(8).saturating_add(64))?;
    }
    let market = market_methods(programme, population, model)?;
    let (prior, actuals);
    let first: &dyn Forecaster = match which {
        Standard::Forecast => {
            actuals = ActualsForecaster::new(programme, population, model, scenarios)
                .with_cancel(opts.cancel);
            &actuals
        }
        Standard::Prior => {
            prior = PriorForecaster::new(programme, population, model, scenarios)
                .with_cancel(opts.cancel);
            &prior
        }
    };
    let mut methods: Vec<(&str, &dyn Forecaster)> = vec![(which.name(), first)];
    for m in &market {
        methods.push((m.kind().name(), m));
    }
    run(programme, population, model, &methods, opts)
}
