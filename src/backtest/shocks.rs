//! Common shocks of a backlog world ([`super::backlog_world_with`]): `make_data.py`'s AR(1)
//! market in logs and its segment-year effects, shared by every partner of a world (of a
//! segment), so that sums over many partners vary from world to world as the history the
//! model is calibrated on does.

use crate::population::Population;
use crate::rng::{self, Purpose};

/// The common shocks' parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommonShocks {
    /// Stationary σ of the monthly market state `x_m` (logs).
    pub market_sigma: f64,
    /// AR(1) coefficient of `x_m`.
    pub market_rho: f64,
    /// σ of a segment's effect on the year (logs).
    pub segment_sigma: f64,
}

impl CommonShocks {
    /// `make_data.py`'s: market σ 0.06, ρ 0.6; segment-year σ 0.04 / √2.
    pub const MAKE_DATA: CommonShocks = CommonShocks {
        market_sigma: 0.06,
        market_rho: 0.6,
        segment_sigma: 0.028_284_271_247_461_9,
    };

    /// Each segment's monthly factor `exp(x_m + a_g)` (`segments × months`, segment index of
    /// `population`) of world `year` with `seed`, from a stream no partner uses (the partners'
    /// draws are those of the world without shocks).
    pub(crate) fn factors(
        &self,
        population: &Population,
        seed: u64,
        year: usize,
        months: usize,
    ) -> Vec<f64> {
        let mut r = rng::stream(seed, year as u64, u64::MAX, Purpose::Market);
        let (s, rho) = (self.market_sigma, self.market_rho);
        let mut x = Vec::with_capacity(months);
        for m in 0..months {
            let z = rng::normal(&mut r);
            let v = if m == 0 {
                s * z
            } else {
                rho * x[m - 1] + s * (1.0 - rho * rho).sqrt() * z
            };
            x.push(v);
        }
        let mut out = Vec::with_capacity(population.segments.len() * months);
        for _ in &population.segments {
            let a = self.segment_sigma * rng::normal(&mut r);
            out.extend(x.iter().map(|xm| (xm + a).exp()));
        }
        out
    }
}
