//! Input uncertainty in a forecast: one conditioned simulation per parameter draw of the
//! demand model ([`draw_engines`]), and which one each scenario runs ([`Engines`]).
//!
//! Under draw `k` the actuals are conditioned on with that draw's parameters (its σ's decide
//! how much the actuals move each partner's level), so a scenario is a draw from the
//! predictive distribution given the actuals: parameters, then the rest of the year.

use super::options::{ForecastOptions, RESULTS_MEMORY};
use crate::engine::conditioned::{CondEngine, Observed};
use crate::engine::draw_index;
use crate::engine::in_draw;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;

/// The conditioned simulations of a forecast: the model's, and one per parameter draw.
pub(super) struct Engines<'p> {
    /// The model's (its shapes are every draw's: results are folded with it).
    pub(super) model: CondEngine<'p>,
    draws: Vec<CondEngine<'p>>,
}

impl<'p> Engines<'p> {
    /// The engine scenario `s` runs under.
    pub(super) fn for_scenario(&self, seed: u64, s: u64) -> &CondEngine<'p> {
        if self.draws.is_empty() {
            &self.model
        } else {
            &self.draws[draw_index(seed, s, self.draws.len())]
        }
    }

    /// The number of parameter draws (0 without).
    pub(super) fn draws(&self) -> usize {
        self.draws.len()
    }
}

/// The model's conditioned simulation and, with `opts.parameter_draws`, one per draw, each
/// conditioned on the same actuals. Refused before any is built when the draws' copies of the
/// per-partner observations would not fit in the forecast's memory limit.
pub(super) fn draw_engines<'p>(
    programme: &'p Compiled,
    population: &Population,
    model: &crate::demand::Model,
    obs: Observed,
    opts: &ForecastOptions<'p>,
) -> Result<Engines<'p>> {
    let k = opts.parameter_draws.len();
    if k > crate::engine::MAX_PARAMETER_DRAWS {
        return Err(Error::Request(format!(
            "parameter_draws: {k} draws given, at most {} are allowed",
            crate::engine::MAX_PARAMETER_DRAWS
        )));
    }
    let per_engine = (obs.gross.len() + obs.measures.len())
        .saturating_mul(8)
        .saturating_add(population.len().saturating_mul(512));
    let need = per_engine.saturating_mul(k);
    if need > RESULTS_MEMORY {
        return Err(Error::Request(format!(
            "{k} parameter draws × {} partners would need about {} MB for their conditioned \
             simulations, above 4 GB: give fewer draws",
            population.len(),
            need / 1_000_000 + 1
        )));
    }
    let mut draws = Vec::with_capacity(k);
    for (j, d) in opts.parameter_draws.iter().enumerate() {
        let mut e =
            CondEngine::new(programme, population, d, obs.clone()).map_err(|e| in_draw(e, j))?;
        e.set_cancel(opts.cancel);
        draws.push(e);
    }
    let mut model = CondEngine::new(programme, population, model, obs)?;
    model.set_cancel(opts.cancel);
    for (j, e) in draws.iter().enumerate() {
        model.check_draw_shape(e, j)?;
    }
    Ok(Engines { model, draws })
}
