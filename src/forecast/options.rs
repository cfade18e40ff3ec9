//! The options of a forecast and the checks made on them before any set-up.

use super::prior::PriorAccruals;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::run::{check_threads, Bytes, RunOptions, DEFAULT_MEMORY_LIMIT};
use std::sync::atomic::AtomicBool;

/// A progress callback: (scenarios done, scenarios planned), after each chunk.
pub type ForecastProgress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Options of a forecast.
#[derive(Clone, Copy)]
pub struct ForecastOptions<'a> {
    /// Number of scenarios of the remainder.
    pub scenarios: usize,
    /// Random seed.
    pub seed: u64,
    /// Worker threads: 0 = all cores. Results are bit-identical for any value.
    pub threads: usize,
    /// Confidence of the constrained estimate, in (0, 1), e.g. 0.9: the amount not exceeded
    /// with this probability.
    pub confidence: f64,
    /// Accruals booked before (cumulative, per partner and component).
    pub prior_accruals: Option<&'a PriorAccruals>,
    /// Progress callback.
    pub progress: Option<ForecastProgress<'a>>,
    /// Set to `true` (from another thread) to stop the run with [`Error::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
    /// Input uncertainty: the demand model's parameter draws (see
    /// [`crate::engine::SimOptions::parameter_draws`]); each scenario runs the conditioned
    /// simulation under draw `⌊u·K⌋` of its `ParameterDraw` stream, conditioned on the actuals
    /// under that draw's parameters. Empty (the default): the model alone.
    pub parameter_draws: &'a [crate::demand::Model],
}

impl Default for ForecastOptions<'_> {
    fn default() -> Self {
        ForecastOptions {
            scenarios: 1000,
            seed: 0,
            threads: 0,
            confidence: 0.9,
            prior_accruals: None,
            progress: None,
            cancel: None,
            parameter_draws: &[],
        }
    }
}

impl ForecastOptions<'_> {
    /// How the run is executed ([`crate::run`]): `threads` (0 = all cores), chunks of 32
    /// scenarios, and the 4 GB limit on the results kept per scenario.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            threads: (self.threads > 0).then_some(self.threads),
            chunk_size: super::scenarios::CHUNK,
            memory_limit: RESULTS_MEMORY,
        }
    }
}

impl std::fmt::Debug for ForecastOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForecastOptions")
            .field("scenarios", &self.scenarios)
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("confidence", &self.confidence)
            .field("prior_accruals", &self.prior_accruals.map(|p| p.len()))
            .field("parameter_draws", &self.parameter_draws.len())
            .finish()
    }
}

/// Refuse options no forecast can run with (no scenarios, a bad thread count, a confidence
/// outside (0, 1)).
pub(super) fn check_options(opts: &ForecastOptions) -> Result<()> {
    if opts.scenarios == 0 {
        return Err(Error::Request("scenarios must be at least 1".into()));
    }
    check_threads(opts.run_options().threads)?;
    if !(opts.confidence > 0.0 && opts.confidence < 1.0) {
        return Err(Error::Request(format!(
            "confidence must be between 0 and 1 (e.g. 0.9), found {}",
            opts.confidence
        )));
    }
    Ok(())
}

/// Memory the per-scenario results of a forecast may take at the most (4 GB).
pub(super) const RESULTS_MEMORY: usize = DEFAULT_MEMORY_LIMIT;

/// Refuse a forecast whose per-scenario results (per partner, component, segment and period)
/// would take more than 4 GB, before any set-up. Saturating: a huge number of scenarios is
/// refused, never wrapped round to a small estimate.
pub(super) fn check_results_memory(
    programme: &Compiled,
    population: &Population,
    scenarios: usize,
) -> Result<()> {
    let partners = population.len();
    let width = Bytes::sum(&[
        partners,
        programme.components.len(),
        population.segments.len(),
        programme.calendar.periods as usize,
        2,
    ]);
    let need = Bytes::mul(Bytes::mul(scenarios, width), 8);
    if need > RESULTS_MEMORY {
        let mb = if need == usize::MAX {
            "more memory than this computer can address".to_owned()
        } else {
            format!("about {} MB", need / 1_000_000 + 1)
        };
        return Err(Error::Request(format!(
            "{scenarios} scenarios × {partners} partners would need {mb} of results, above 4 GB: run fewer scenarios"
        )));
    }
    Ok(())
}
