//! Input uncertainty in a run: one set-up per parameter draw of the demand model, and which
//! draw each scenario runs under ([`Setups`]).
//!
//! A calibrated model is an estimate; its `K` parameter draws ([`crate::calibrate`]) spread
//! like the estimators' sampling distributions. With draws, scenario `s` runs under draw
//! [`draw_index`]`(seed, s, K)`, so the run's scenarios are draws from the predictive
//! distribution (parameters, then demand) and the payout's spread includes what the history
//! could not pin down. The draw depends on (seed, scenario) only: bit-identical results for
//! any thread count, chunk or shard, and common draws between designs compared on one seed.

use super::setup::Setup;
use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::rng::{self, Purpose};
use std::sync::atomic::AtomicBool;

/// At most this many parameter draws in one run (each draw has its own set-up).
pub const MAX_PARAMETER_DRAWS: usize = 10_000;

/// The draw (of `k`) scenario `scenario` runs under: `⌊u·k⌋` for the first uniform `u` of
/// the scenario's [`Purpose::ParameterDraw`] stream.
pub fn draw_index(seed: u64, scenario: u64, k: usize) -> usize {
    let u = rng::uniform(&mut rng::stream(seed, scenario, 0, Purpose::ParameterDraw));
    ((u * k as f64) as usize).min(k.saturating_sub(1))
}

/// A run's set-ups: the model's alone, or one per parameter draw.
pub(crate) struct Setups<'p> {
    all: Vec<Setup<'p>>,
    drawn: bool,
}

impl<'p> Setups<'p> {
    /// The set-up of `model`, or with `draws` one set-up per draw (`model` then only checks
    /// that every draw describes the same segments and categories).
    pub(crate) fn new(
        p: &'p Compiled,
        pop: &Population,
        model: &Model,
        draws: &[Model],
        cancel: Option<&'p AtomicBool>,
    ) -> Result<Setups<'p>> {
        let mut first = Setup::new(p, pop, model)?;
        first.cancel = cancel;
        if draws.is_empty() {
            return Ok(Setups {
                all: vec![first],
                drawn: false,
            });
        }
        if draws.len() > MAX_PARAMETER_DRAWS {
            return Err(Error::Request(format!(
                "parameter_draws: {} draws given, at most {MAX_PARAMETER_DRAWS} are allowed",
                draws.len()
            )));
        }
        let mut all = Vec::with_capacity(draws.len());
        for (k, d) in draws.iter().enumerate() {
            let mut s = Setup::new(p, pop, d).map_err(|e| in_draw(e, k))?;
            check_same_shape(&first, &s, k)?;
            s.cancel = cancel;
            all.push(s);
        }
        Ok(Setups { all, drawn: true })
    }

    /// The set-up scenario results are folded with (the programme's, the population's and
    /// the categories' shapes are the same in every draw's).
    pub(crate) fn first(&self) -> &Setup<'p> {
        &self.all[0]
    }

    /// The number of parameter draws (0 without).
    pub(crate) fn draws(&self) -> usize {
        if self.drawn {
            self.all.len()
        } else {
            0
        }
    }

    /// The draw scenario `s` runs under (`None` without draws).
    pub(crate) fn draw_of(&self, seed: u64, s: u64) -> Option<u32> {
        self.drawn
            .then(|| draw_index(seed, s, self.all.len()) as u32)
    }

    /// The set-up scenario `s` runs with.
    pub(crate) fn for_scenario(&self, seed: u64, s: u64) -> &Setup<'p> {
        match self.draw_of(seed, s) {
            Some(k) => &self.all[k as usize],
            None => &self.all[0],
        }
    }

    /// Whether the run was asked to stop.
    pub(crate) fn cancelled(&self) -> bool {
        self.all[0].cancelled()
    }
}

/// Check `draws` before a run that makes many (a backtest's forecasts, a sensitivity's
/// runs): at most [`MAX_PARAMETER_DRAWS`], each a valid model for `programme` and
/// `population` with the segments and line categories of `model`. The same errors as the
/// run itself would give, before any of it is made.
pub fn check_parameter_draws(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    draws: &[Model],
) -> Result<()> {
    Setups::new(programme, population, model, draws, None).map(|_| ())
}

/// `e` as an error of parameter draw `k`.
pub(crate) fn in_draw(e: Error, k: usize) -> Error {
    match e {
        Error::Model(mut f) => {
            f.message = format!("parameter draw {k}: {}", f.message);
            Error::Model(f)
        }
        Error::Data(mut d) => {
            d.message = format!("parameter draw {k}: {}", d.message);
            Error::Data(d)
        }
        other => other,
    }
}

/// A draw's set-up must have the shapes results are folded with: its segments and line
/// categories those of the model.
pub(super) fn check_same_shape(model: &Setup, draw: &Setup, k: usize) -> Result<()> {
    if draw.cats != model.cats {
        return Err(Error::model(
            "categories",
            format!(
                "parameter draw {k}: its line categories {:?} differ from the model's {:?}; \
                 every draw must describe the same categories",
                draw.cats, model.cats
            ),
        ));
    }
    if draw.segment_count != model.segment_count {
        return Err(Error::model(
            "segments",
            format!(
                "parameter draw {k}: it has {} segments, the model {}; every draw must \
                 describe the same segments",
                draw.segment_count, model.segment_count
            ),
        ));
    }
    Ok(())
}
