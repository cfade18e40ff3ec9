//! The options of a simulation run ([`SimOptions`]) and its precision control
//! ([`Precision`]); how a run is executed (threads, chunks, progress, cancel) is
//! [`crate::run`]'s.

use std::sync::atomic::AtomicBool;

use crate::demand::Model;

use crate::run::{Control, RunOptions};

/// The statistic precision control watches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// The mean total payout (after the budget).
    Mean,
    /// A percentile of the total payout, `q` in (0, 1), e.g. 0.95.
    Percentile(f64),
}

/// Run until the standard error of a statistic of the total payout is within `tolerance`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    /// What to watch.
    pub statistic: Statistic,
    /// Stop once its standard error is at most this (currency units).
    pub tolerance: f64,
    /// Stop at this many scenarios at the latest.
    pub max_scenarios: usize,
    /// Check the standard error after every multiple of this many scenarios (default 200).
    /// The checks do not depend on threads or chunking, so neither does where the run stops.
    pub check_every: usize,
}

impl Precision {
    /// Precision control on `statistic` within `tolerance`, at most `max_scenarios`.
    pub fn new(statistic: Statistic, tolerance: f64, max_scenarios: usize) -> Self {
        Precision {
            statistic,
            tolerance,
            max_scenarios,
            check_every: 200,
        }
    }
}

/// A progress callback: called with (scenarios done, scenarios planned) after each chunk;
/// returning `false` cancels the run ([`crate::Error::Cancelled`]). The run driver's
/// [`crate::run::ProgressCallback`].
pub type Progress<'a> = crate::run::ProgressCallback<'a>;

/// Options of a simulation run.
#[derive(Clone, Copy)]
pub struct SimOptions<'a> {
    /// Number of scenarios (ignored when `precision` is set).
    pub scenarios: usize,
    /// Random seed.
    pub seed: u64,
    /// Worker threads (`None` = all cores).
    pub threads: Option<usize>,
    /// Scenarios per chunk between progress reports (results do not depend on it).
    pub chunk_size: usize,
    /// Run until a precision target is met instead of a fixed number of scenarios.
    pub precision: Option<Precision>,
    /// Refuse a request whose outputs would need more memory than this (bytes).
    pub memory_limit: usize,
    /// Progress callback.
    pub progress: Option<Progress<'a>>,
    /// Set to `true` (from another thread, e.g. a Ctrl-C watcher) to stop the run with
    /// [`crate::Error::Cancelled`]: checked between scenarios and before each partner within one, so a
    /// run stops promptly however large the population or costly a partner.
    pub cancel: Option<&'a AtomicBool>,
    /// Input uncertainty: the demand model's parameter draws (e.g. a calibration's). Empty
    /// (the default): every scenario runs under the model given to the run. Otherwise each
    /// scenario runs under draw `k = ⌊u·K⌋` of the `K` draws, `u` the first uniform of the
    /// scenario's [`crate::rng::Purpose::ParameterDraw`] stream, so a scenario's draw depends
    /// on (seed, scenario) only: results stay bit-identical for any threads, chunks or shards,
    /// and designs compared on the same seed share each scenario's draw. Every draw must
    /// describe the same segments and categories as the model.
    pub parameter_draws: &'a [Model],
}

impl Default for SimOptions<'_> {
    fn default() -> Self {
        SimOptions {
            scenarios: 1000,
            seed: 0,
            threads: None,
            chunk_size: crate::run::DEFAULT_CHUNK_SIZE,
            precision: None,
            memory_limit: crate::run::DEFAULT_MEMORY_LIMIT,
            progress: None,
            cancel: None,
            parameter_draws: &[],
        }
    }
}

impl<'a> SimOptions<'a> {
    /// How the run is executed: its threads, chunk size and memory limit.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            threads: self.threads,
            chunk_size: self.chunk_size,
            memory_limit: self.memory_limit,
        }
    }

    /// Its progress callback and cancel flag.
    pub fn control(&self) -> Control<'a> {
        Control::new(self.progress, self.cancel)
    }
}

impl std::fmt::Debug for SimOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("scenarios", &self.scenarios)
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("chunk_size", &self.chunk_size)
            .field("precision", &self.precision)
            .field("memory_limit", &self.memory_limit)
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel.is_some())
            .field("parameter_draws", &self.parameter_draws.len())
            .finish()
    }
}
