//! Orders per buying month conditioned on the actuals: how many orders each partner splits a
//! month's purchases into, learned from its actual orders, so that order-level rules (a
//! logistics bonus per order of at least so many units) and categories per order follow how
//! the partner actually orders.
//!
//! The model (`[orders] per_month` λ_g, Poisson): a buying month has `N = max(1, Poisson(λ))`
//! orders, so its excess `N − 1` has mean `ν(λ) = λ − 1 + e^{−λ}`. A partner's excess is taken
//! as Poisson with mean `ν_i = ν(λ_g) · u_i`, `u_i ~ Gamma(α, α)` (mean 1: the model is the
//! prior); its complete months with purchases to date, `k_i` of them with `o_i` orders in all,
//! give the posterior mean
//!
//! ```text
//! u_i = (α + o_i − k_i) / (α + k_i · ν(λ_g)),     λ_i = ν⁻¹(ν(λ_g) · u_i)
//! ```
//!
//! `α` is the segment's by the method of moments: the partners' ratios
//! `r_i = (o_i − k_i) / (k_i ν(λ_g))` have variance `r̄²/α + r̄ · mean 1/(k_i ν(λ_g))` about their
//! pooled mean `r̄`, so `1/α = (V − r̄ · mean 1/(k_i ν)) / r̄²` (`V` their mean squared deviation
//! from `r̄`); no spread beyond Poisson (`1/α ≤ 0`), fewer than two partners, or a segment
//! without orders or with a fixed order count (`poisson = false`) keep the model's rate. A
//! partner with 3 orders in each of 9 months against λ = 1.26 (ν ≈ 0.54) in a segment with
//! `α = 2` gets `u = (2 + 18)/(2 + 4.9) = 2.9`, λ ≈ 2.5.

use super::Observed;
use crate::engine::setup::Setup;

/// `ν(λ) = λ − 1 + e^{−λ}`: the mean excess over one of `max(1, Poisson(λ))`.
fn excess(lambda: f64) -> f64 {
    lambda - 1.0 + (-lambda).exp()
}

/// The λ ≥ 0 with `excess(λ) = nu` (bisection; `excess` increases from 0).
fn rate_for_excess(nu: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, nu + 2.0);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if excess(mid) < nu {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Each partner's conditioned orders per buying month (λ of `max(1, Poisson(λ))`), the
/// segment's rate for partners without evidence. `obs.orders` empty (the actuals have no
/// order ids): the segments' rates.
pub(super) fn condition_order_rates(s: &Setup, obs: &Observed, churned: &[bool]) -> Vec<f64> {
    let n = s.partners.len();
    let t = obs.t_obs;
    let mut rate: Vec<f64> = s.partners.iter().map(|pc| s.segs[pc.seg].orders).collect();
    if t == 0 || obs.orders.len() != n || !s.poisson_orders {
        return rate;
    }
    let months = |i: usize| {
        obs.gross[i * t..(i + 1) * t]
            .iter()
            .filter(|&&v| v > 0.0)
            .count() as f64
    };
    for (g, sc) in s.segs.iter().enumerate() {
        let nu = excess(sc.orders);
        if !(nu > 1e-9) {
            continue;
        }
        // (partner, buying months k, excess orders o − k)
        let ev: Vec<(usize, f64, f64)> = (0..n)
            .filter(|&i| s.partners[i].seg == g && !churned[i])
            .map(|i| (i, months(i), obs.orders[i]))
            .filter(|&(_, k, o)| k > 0.0 && o >= k)
            .map(|(i, k, o)| (i, k, o - k))
            .collect();
        if ev.len() < 2 {
            continue;
        }
        let m = ev.len() as f64;
        let pooled = ev.iter().map(|e| e.2).sum::<f64>() / ev.iter().map(|e| e.1 * nu).sum::<f64>();
        let v = ev
            .iter()
            .map(|&(_, k, e)| (e / (k * nu) - pooled).powi(2))
            .sum::<f64>()
            / m;
        let h = ev.iter().map(|&(_, k, _)| 1.0 / (k * nu)).sum::<f64>() / m;
        let inv_alpha = (v - pooled * h) / (pooled * pooled);
        if !(inv_alpha > 0.0) || !inv_alpha.is_finite() {
            continue;
        }
        let alpha = 1.0 / inv_alpha;
        for (i, k, e) in ev {
            let u = (alpha + e) / (alpha + k * nu);
            rate[i] = rate_for_excess(nu * u);
        }
    }
    rate
}

#[cfg(test)]
mod tests {
    use super::{excess, rate_for_excess};

    #[test]
    fn excess_inverts() {
        // max(1, Poisson(1)): P(0) = e^-1 counts as one, so the mean is 1 + e^-1 and the excess e^-1
        assert!((excess(1.0) - (-1.0f64).exp()).abs() < 1e-15);
        for lambda in [0.05, 0.5, 1.26, 2.3, 7.0] {
            assert!(
                (rate_for_excess(excess(lambda)) - lambda).abs() < 1e-9,
                "{lambda}"
            );
        }
        assert!(rate_for_excess(0.0) < 1e-20);
    }
}
