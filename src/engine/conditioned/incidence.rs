//! Purchase incidence conditioned on the actuals: how often each partner buys, learned from
//! the months it bought in, when the model has an incidence part (`[incidence] probability`
//! π_g < 1: a live partner buys in a month with probability π_g, and a buying month buys its
//! demand ÷ π_g; `docs/simulation.md`).
//!
//! A partner's buying probability gets a Beta prior with mean π_g (the model's, for its
//! segment) and precision `κ` (per segment, from the spread of the partners' buying rates by
//! the method of moments, as the category mix's Dirichlet precision in `mix.rs`: with
//! `ρ = 1/(κ+1)`, a partner's rate over `n` months has variance `p(1−p)(ρ + (1−ρ)/n)`); its
//! complete months to date are `n` Bernoulli draws, `k` of them with purchases. The posterior
//! mean
//!
//! ```text
//! p_i = (κ · π_g + k) / (κ + n)
//! ```
//!
//! is the partner's incidence in the simulated remainder, and a buying month of the actuals is
//! taken to carry its demand ÷ `p_i` (so the level is not overstated by 1/π for a partner that
//! bought every month). When every partner of a segment buys at the model's rate, the spread is
//! binomial and κ is taken as infinite (`p_i = π_g`) unless the estimate of `ρ` exceeds two
//! standard errors of its moment estimator under none (a noisy κ of a few dozen would move
//! every partner's `p_i`, and its level, by several percent); when the segment mixes partners
//! that buy every month with partners that buy every third (a backlog ordered in whole orders),
//! κ is small and each keeps close to its own rate. A model without incidence (π_g = 1) is left as it is.

use super::mix::precision;
use super::Observed;
use crate::engine::setup::Setup;

/// Each partner's conditioned purchase incidence (1 for partners of segments without
/// incidence). `churned`: partners treated as gone (left out of the segment's spread).
pub(super) fn condition_incidence(s: &Setup, obs: &Observed, churned: &[bool]) -> Vec<f64> {
    let n = s.partners.len();
    let t = obs.t_obs;
    let mut p: Vec<f64> = s
        .partners
        .iter()
        .map(|pc| s.segs[pc.seg].incidence.min(1.0))
        .collect();
    if t == 0 {
        return p;
    }
    let bought = |i: usize| {
        obs.gross[i * t..(i + 1) * t]
            .iter()
            .filter(|&&v| v > 0.0)
            .count() as f64
    };
    for (g, sc) in s.segs.iter().enumerate() {
        let prior = sc.incidence;
        if prior >= 1.0 {
            continue;
        }
        let members: Vec<usize> = (0..n)
            .filter(|&i| s.partners[i].seg == g && !churned[i])
            .collect();
        let rates: Vec<(usize, f64)> = members
            .iter()
            .map(|&i| (i, bought(i)))
            .filter(|&(_, k)| k > 0.0)
            .collect();
        let months = t as f64;
        let pooled = rates.iter().map(|(_, k)| k).sum::<f64>() / (rates.len() as f64 * months);
        let pairs: Vec<(Vec<f64>, f64)> = rates
            .iter()
            .map(|&(_, k)| (vec![k / months, 1.0 - k / months], months))
            .collect();
        let Some(kappa) = precision(&pairs, &[pooled, 1.0 - pooled]) else {
            continue;
        };
        // heterogeneity only beyond two standard errors of the moment estimator under none
        // (ρ̂'s SE ≈ √(2/m)·h/(1−h), h = 1/n): else every partner keeps the model's π_g
        let h = 1.0 / months;
        let se = (2.0 / rates.len() as f64).sqrt() * h / (1.0 - h);
        if 1.0 / (kappa + 1.0) <= 2.0 * se {
            continue;
        }
        for &i in &members {
            p[i] = ((kappa * prior + bought(i)) / (kappa + months)).clamp(0.001, 1.0);
        }
    }
    p
}
