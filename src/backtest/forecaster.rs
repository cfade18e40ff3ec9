//! What a forecasting method is to the harness: a [`Forecaster`] turns the actuals to date
//! into a [`Prediction`] of the year's final payout.

use crate::data::Transactions;
use crate::error::Result;
use chrono::NaiveDate;

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
    /// The expected-value estimate: the point, or the mean of the finite values.
    pub(super) fn point(&self) -> f64 {
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
