//! The options of a backtest, the seeds it derives for each year, and the checks made on
//! them before any year runs.

use crate::demand::Model;
use crate::error::{Error, Result};
use crate::rng::splitmix64;
use crate::run::{Bytes, Control, ProgressCallback, DEFAULT_MEMORY_LIMIT};
use std::sync::atomic::AtomicBool;

/// Progress callback: (years done, years planned); returning `false` cancels the run (the run
/// driver's [`ProgressCallback`]).
pub type Progress<'a> = ProgressCallback<'a>;

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
    /// [`Error::Cancelled`]; the standard forecasters ([`run_standard`](super::run_standard)) check it within their
    /// forecasts too.
    pub cancel: Option<&'a AtomicBool>,
    /// Input uncertainty of the standard forecasters ([`run_standard`](super::run_standard)):
    /// each forecast runs each of its scenarios under one of these parameter draws of the
    /// model, picked by (the forecast's seed, scenario) as in
    /// [`crate::engine::SimOptions::parameter_draws`]. The synthetic years are drawn from the
    /// model alone whatever the draws. Empty: none (the default).
    pub parameter_draws: &'a [Model],
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
            parameter_draws: &[],
        }
    }
}

impl<'a> BacktestOptions<'a> {
    /// How the caller follows and stops the run: the progress callback and the cancel flag.
    pub fn control(&self) -> Control<'a> {
        Control::new(self.progress, self.cancel)
    }
}

/// The forecast seed of year `year`: independent of the truth's streams and of other years.
pub fn year_seed(forecast_seed: u64, year: u64) -> u64 {
    splitmix64(forecast_seed ^ splitmix64(year ^ 0x4241_434B_5445_5354)) // "BACKTEST"
}

/// The base seed of the forecasts when none is given: derived from the truth seed.
pub(super) fn default_forecast_seed(seed: u64) -> u64 {
    splitmix64(seed ^ 0x464F_5245_4341_5354) // "FORECAST"
}

/// Memory a backtest keeps for its years: at most 4 GB.
const BACKTEST_MEMORY: usize = DEFAULT_MEMORY_LIMIT;

/// Refuse `years` years of `per_year` bytes each above [`BACKTEST_MEMORY`].
pub(super) fn check_years_memory(years: usize, per_year: usize) -> Result<()> {
    let need = Bytes::mul(years, per_year);
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
