//! The market path of a `start = "history"` model (`demand::market`): the year continues
//! from the baseline year's last log state, each factor relative to the baseline year's mean.

use crate::demand::{Market, MarketProcess};
use crate::rng;

/// Month factors `M_m = exp(x_m − ln B)` into `out`, with `x_m = ρ·x_{m−1} + step·Z_m` from
/// `x_{−1} = h₁₁` (ρ = 1 for a random walk) or, for a constant market, `x = σ·Z₀` every month;
/// `log_base` = ln B. The normals come from `r` in month order (one for a constant market).
pub(crate) fn history_path(mk: &Market, log_base: f64, r: &mut rng::Stream, out: &mut [f64]) {
    let step = mk.history_step();
    match mk.process {
        MarketProcess::Constant => {
            let f = (step * rng::normal(r) - log_base).exp();
            out.iter_mut().for_each(|v| *v = f);
        }
        MarketProcess::Ar1 | MarketProcess::RandomWalk => {
            let rho = if mk.process == MarketProcess::Ar1 {
                mk.rho
            } else {
                1.0
            };
            let mut x = mk.history_last();
            for v in out.iter_mut() {
                x = rho * x + step * rng::normal(r);
                *v = (x - log_base).exp();
            }
        }
    }
}

#[cfg(test)]
mod tests;
