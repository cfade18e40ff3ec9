//! The options of a forecast and the checks made on them before any set-up.

use super::prior::PriorAccruals;
use crate::engine::conditioned::CLOSED_RULES;
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
    /// scenarios (fewer when the memory guard finds that many do not fit), and the
    /// 4 GB limit on the results kept per scenario.
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

/// What a forecast's memory depends on, counted from the programme and the population
/// alone (before any set-up).
#[derive(Debug, Clone, Copy)]
pub(super) struct ResultsShape {
    partners: usize,
    components: usize,
    segments: usize,
    periods: usize,
    /// Tier ladders (volume and growth components).
    ladders: usize,
}

impl ResultsShape {
    pub(super) fn of(programme: &Compiled, population: &Population) -> ResultsShape {
        use crate::programme::Rule;
        ResultsShape {
            partners: population.len(),
            components: programme.components.len(),
            segments: population.segments.len(),
            periods: programme.calendar.periods as usize,
            ladders: programme
                .components
                .iter()
                .filter(|c| matches!(c.rule, Rule::Volume { .. } | Rule::Growth { .. }))
                .count(),
        }
    }

    /// Bytes the results of `scenarios` scenarios keep (per scenario: a payout per partner,
    /// component, segment and period, and two totals).
    fn kept(&self, scenarios: usize) -> usize {
        let width = Bytes::sum(&[
            self.partners,
            self.components,
            self.segments,
            self.periods,
            2,
        ]);
        Bytes::mul(Bytes::mul(scenarios, width), 8)
    }

    /// Bytes one scenario in flight takes before it is folded (the conditioned engine's
    /// outcome: per partner and component its payable, volume, closed amount, the closed
    /// periods' rule effects and each period's open amount; a tier per partner and ladder).
    fn in_flight(&self) -> usize {
        let per_component = Bytes::sum(&[3, CLOSED_RULES, self.periods]);
        Bytes::sum(&[
            Bytes::mul(
                self.partners,
                Bytes::sum(&[
                    Bytes::mul(8, Bytes::mul(self.components, per_component)),
                    self.ladders,
                ]),
            ),
            Bytes::mul(8, self.periods),
        ])
    }

    /// The chunk of scenarios in flight for `scenarios` scenarios within `limit` bytes: `chunk`
    /// when it fits, else the largest smaller chunk that does (results never depend on the
    /// chunk); an [`Error::Request`] saying what the memory goes to when the results kept do
    /// not fit, or not with one scenario in flight.
    pub(super) fn fit_chunk(&self, scenarios: usize, chunk: usize, limit: usize) -> Result<usize> {
        let (scenarios_n, partners) = (scenarios, self.partners);
        let mb = |b: usize| {
            if b == usize::MAX {
                "more memory than this computer can address".to_owned()
            } else {
                format!("about {} MB", b / 1_000_000 + 1)
            }
        };
        let kept = self.kept(scenarios);
        if kept > limit {
            return Err(Error::Request(format!(
                "{scenarios_n} scenarios × {partners} partners would need {} of results, above {}: run fewer scenarios",
                mb(kept),
                limit_text(limit)
            )));
        }
        let per = self.in_flight();
        let room = (limit - kept) / per.max(1);
        if room == 0 {
            return Err(Error::Request(format!(
                "one scenario of {partners} partners in flight needs {} besides the {} of results of {scenarios_n} scenarios, above {}: forecast fewer partners at a time (the population in parts) or run fewer scenarios",
                mb(per),
                mb(kept),
                limit_text(limit)
            )));
        }
        Ok(chunk.clamp(1, scenarios.max(1)).min(room))
    }
}

/// A memory limit in words: `4 GB` for the forecast's, else in MB.
fn limit_text(limit: usize) -> String {
    if limit == RESULTS_MEMORY {
        "4 GB".to_owned()
    } else {
        format!("the limit of {} MB", limit / 1_000_000)
    }
}

/// Refuse a forecast whose per-scenario results (per partner, component, segment and period)
/// would take more than 4 GB, or that would not fit with one scenario in flight, before any
/// set-up; else the chunk of scenarios in flight to run with (the forecast's 32, smaller when
/// that many do not fit beside the results). Saturating: a huge number of scenarios is
/// refused, never wrapped round to a small estimate.
pub(super) fn check_results_memory(
    programme: &Compiled,
    population: &Population,
    scenarios: usize,
) -> Result<usize> {
    ResultsShape::of(programme, population).fit_chunk(
        scenarios,
        super::scenarios::CHUNK,
        RESULTS_MEMORY,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1,000 partners, 2 components (one a ladder), 1 segment, 4 periods: a scenario keeps
    /// (1000 + 2 + 1 + 4 + 2) × 8 = 8,072 bytes; one in flight takes 1000 × (8 × 2 × (3 + 4
    /// + 4) + 1) + 8 × 4 = 177,032.
    fn shape() -> ResultsShape {
        ResultsShape {
            partners: 1000,
            components: 2,
            segments: 1,
            periods: 4,
            ladders: 1,
        }
    }

    #[test]
    fn the_counts_by_hand() {
        assert_eq!(shape().kept(10), 80_720);
        assert_eq!(shape().in_flight(), 177_032);
    }

    /// The chunk asked for when it fits (never more than the scenarios), the largest that fits
    /// when it does not, and a refusal naming what the memory goes to when not even one does.
    #[test]
    fn a_smaller_chunk_instead_of_a_refusal() {
        let s = shape();
        assert_eq!(s.fit_chunk(10, 32, usize::MAX).unwrap(), 10);
        assert_eq!(s.fit_chunk(100, 32, usize::MAX).unwrap(), 32);
        // room for five scenarios in flight beside the results of ten, not six
        let limit = 80_720 + 5 * 177_032;
        assert_eq!(s.fit_chunk(10, 32, limit).unwrap(), 5);
        assert_eq!(s.fit_chunk(10, 32, limit - 1).unwrap(), 4);
        assert_eq!(s.fit_chunk(10, 3, limit).unwrap(), 3);
        let e = s
            .fit_chunk(10, 32, 80_720 + 177_031)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("one scenario of 1000 partners in flight")
                && e.contains("fewer partners at a time"),
            "{e}"
        );
        let e = s.fit_chunk(10, 32, 80_719).unwrap_err().to_string();
        assert!(
            e.contains("10 scenarios × 1000 partners") && e.contains("run fewer scenarios"),
            "{e}"
        );
    }

    /// A huge request saturates instead of wrapping round to a small estimate.
    #[test]
    fn a_huge_request_is_refused() {
        let e = shape()
            .fit_chunk(usize::MAX, 32, RESULTS_MEMORY)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("more memory than this computer can address") && e.contains("above 4 GB"),
            "{e}"
        );
    }
}
