//! The rebatesim forecasters the harness tests: the engine's forecast made before the year
//! ([`PriorForecaster`]) and the forecast from the actuals to date ([`ActualsForecaster`]).

use super::forecaster::{Forecaster, Prediction};
use crate::data::Transactions;
use crate::demand::Model;
use crate::engine::{simulate, SimOptions};
use crate::error::Result;
use crate::population::Population;
use crate::programme::Compiled;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// What both engine forecasters run on: the programme, population and model, the scenarios
/// per forecast, and the caller's cancel flag.
struct EngineInputs<'a> {
    programme: &'a Compiled,
    population: &'a Population,
    model: &'a Model,
    scenarios: usize,
    cancel: Option<&'a AtomicBool>,
    /// Parameter draws each forecast's scenarios run under (none: empty).
    draws: &'a [Model],
}

impl<'a> EngineInputs<'a> {
    fn new(
        programme: &'a Compiled,
        population: &'a Population,
        model: &'a Model,
        scenarios: usize,
    ) -> Self {
        EngineInputs {
            programme,
            population,
            model,
            scenarios,
            cancel: None,
            draws: &[],
        }
    }
}

/// The forecast made before the year: the whole year simulated with [`simulate`] from the
/// model, ignoring the actuals (one run per seed, cached, so every month end of a year reuses
/// it). Because the synthetic years come from the same model, its intervals cover at their
/// nominal rates at every month end; its error does not fall as the year goes on.
pub struct PriorForecaster<'a> {
    inputs: EngineInputs<'a>,
    cache: Mutex<HashMap<u64, Arc<Vec<f64>>>>,
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
            inputs: EngineInputs::new(programme, population, model, scenarios),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Stop a forecast in progress (with [`Error::Cancelled`](crate::Error::Cancelled)) once
    /// `cancel` is set.
    pub fn with_cancel(mut self, cancel: Option<&'a AtomicBool>) -> Self {
        self.inputs.cancel = cancel;
        self
    }

    /// Run each forecast's scenarios under these parameter draws of the model (input
    /// uncertainty, [`SimOptions::parameter_draws`]); the shapes are checked by the first
    /// forecast.
    pub fn with_draws(mut self, draws: &'a [Model]) -> Self {
        self.inputs.draws = draws;
        self
    }
}

impl Forecaster for PriorForecaster<'_> {
    fn predict(&self, _actuals: &Transactions, _as_of: NaiveDate, seed: u64) -> Result<Prediction> {
        if let Some(v) = self.cache.lock().expect("cache lock").get(&seed) {
            return Ok(Prediction::Distribution(v.to_vec()));
        }
        let inputs = &self.inputs;
        let r = simulate(
            inputs.programme,
            inputs.population,
            inputs.model,
            &SimOptions {
                scenarios: inputs.scenarios,
                seed,
                threads: Some(1),
                cancel: inputs.cancel,
                parameter_draws: inputs.draws,
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
    inputs: EngineInputs<'a>,
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
            inputs: EngineInputs::new(programme, population, model, scenarios),
        }
    }

    /// Stop a forecast in progress (with [`Error::Cancelled`](crate::Error::Cancelled)) once
    /// `cancel` is set.
    pub fn with_cancel(mut self, cancel: Option<&'a AtomicBool>) -> Self {
        self.inputs.cancel = cancel;
        self
    }

    /// Run each forecast's scenarios under these parameter draws of the model (input
    /// uncertainty, [`crate::forecast::ForecastOptions::parameter_draws`]: each draw
    /// conditions on the actuals with its own parameters).
    pub fn with_draws(mut self, draws: &'a [Model]) -> Self {
        self.inputs.draws = draws;
        self
    }
}

impl Forecaster for ActualsForecaster<'_> {
    fn predict(&self, actuals: &Transactions, as_of: NaiveDate, seed: u64) -> Result<Prediction> {
        let inputs = &self.inputs;
        let f = crate::forecast::forecast(
            inputs.programme,
            inputs.population,
            inputs.model,
            actuals,
            as_of,
            &crate::forecast::ForecastOptions {
                scenarios: inputs.scenarios,
                seed,
                threads: 1,
                cancel: inputs.cancel,
                parameter_draws: inputs.draws,
                ..Default::default()
            },
        )?;
        Ok(Prediction::Distribution(f.total_payout().to_vec()))
    }
}
