//! What the actuals reveal beyond a partner's level: its category mix and its units per
//! revenue, conditioned before the rest of the year is simulated.
//!
//! **Category mix.** A partner's revenue shares over the line categories get a Dirichlet prior
//! with mean `m` (the partner table's own mix when it has one, else the segment's pooled
//! actual shares) and precision `κ` (per segment, by the method of moments below); its
//! positive purchase lines to date are `n` effective draws (Kish: `n = (Σr)² / Σr²`) with
//! observed shares `s`. The posterior mean is
//!
//! ```text
//! mix = (κ · m + n · s) / (κ + n)
//! ```
//!
//! so a partner that bought no smart-home product in `n` lines keeps `κ·m/(κ+n)` of it, and
//! one without actuals keeps its prior. `κ` is the Dirichlet–multinomial precision of the
//! segment: with `ρ = 1/(κ+1)`, a partner's share of category `c` has variance
//! `p(1−p)·(ρ + (1−ρ)/n)`, so over the segment's partners with actuals
//!
//! ```text
//! ρ = (V / P − h) / (1 − h),   V = mean Σ_c (s_c − p_c)²,  P = Σ_c p_c(1 − p_c),  h = mean 1/n
//! ```
//!
//! (ρ clamped to [0.001, 0.999]; κ = 1/ρ − 1).
//!
//! With `economics.mix_concentration` (the mix for the year drawn Dirichlet(`c · mix`) a
//! scenario, `super::super::mix_draw`), the draw is around the conditioned mix with the
//! concentration `c + n`: the lines to date count as `n` more draws of the partner's mix (the
//! conjugate update; the posterior mean above weighs the prior by the segment's `κ`, so this
//! is its spread only approximately).
//!
//! **Units per revenue.** A partner's quantity per revenue (the engine's one unit price per
//! partner) is updated the same way: the actual gross units over gross revenue, weighted
//! against the prior price by `n / (n + κ_price)` with `κ_price` = [`PRICE_PRIOR_LINES`].

use crate::engine::setup::Setup;

/// The prior unit price counts as this many purchase lines against the actual ones.
pub(crate) const PRICE_PRIOR_LINES: f64 = 20.0;

/// What the actuals to date show of each partner's mix and units (gross: positive lines).
#[derive(Debug, Clone, Default)]
pub(crate) struct MixEvidence {
    /// Category names of `revenue`'s columns (the actuals' categories).
    pub categories: Vec<String>,
    /// `n × categories.len()`: gross revenue per partner and category.
    pub revenue: Vec<f64>,
    /// Per partner: Σ r² over its positive categorised lines (Kish's effective count).
    pub revenue_sq: Vec<f64>,
    /// Per partner: gross revenue and gross units of its positive lines with a quantity.
    pub gross_revenue: Vec<f64>,
    pub gross_units: Vec<f64>,
    /// Per partner: positive lines.
    pub lines: Vec<u32>,
    /// Per partner: complete buying months to date with an order id, their distinct orders
    /// and the spread of their amounts (`None` without order ids; [`super::order_rate`]).
    pub order_counts: Option<super::order_rate::OrderEvidence>,
}

/// The segment's Dirichlet precision κ from the partners' observed shares and effective
/// counts (see the module comment); `None` without two partners with actuals.
pub(super) fn precision(shares: &[(Vec<f64>, f64)], pooled: &[f64]) -> Option<f64> {
    if shares.len() < 2 {
        return None;
    }
    let p: f64 = pooled.iter().map(|q| q * (1.0 - q)).sum();
    if p <= 0.0 {
        return None;
    }
    let k = shares.len() as f64;
    let v: f64 = shares
        .iter()
        .map(|(s, _)| {
            s.iter()
                .zip(pooled)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
        })
        .sum::<f64>()
        / k;
    let h: f64 = shares.iter().map(|(_, n)| 1.0 / n).sum::<f64>() / k;
    if h >= 1.0 {
        return None;
    }
    let rho = ((v / p - h) / (1.0 - h)).clamp(0.001, 0.999);
    Some(1.0 / rho - 1.0)
}

/// Condition `s.mix` (partners × line categories) and each partner's units per revenue on
/// the actuals. `own_mix`: the partner table gave each partner its own mix (the prior mean);
/// else the prior mean is the segment's pooled actual shares.
pub(crate) fn condition_mix(s: &mut Setup, ev: &MixEvidence, own_mix: bool) {
    condition_shares(s, ev, own_mix);
    // the lines' units by category follow the conditioned mix and units per revenue
    s.category_qpm();
}

/// [`condition_mix`] but for the category units.
fn condition_shares(s: &mut Setup, ev: &MixEvidence, own_mix: bool) {
    let n = s.partners.len();
    let cc = s.category_count;
    if ev.lines.len() != n {
        return;
    }
    // units per revenue
    for (i, pc) in s.partners.iter_mut().enumerate() {
        let (r, q) = (ev.gross_revenue[i], ev.gross_units[i]);
        if pc.qpm > 0.0 && r > 0.0 && q > 0.0 {
            let lines = ev.lines[i] as f64;
            let w = lines / (lines + PRICE_PRIOR_LINES);
            let actual = q / r;
            let prior = 1.0 / pc.price;
            let per_revenue = w * actual + (1.0 - w) * prior;
            pc.qpm *= per_revenue / prior;
            pc.price = 1.0 / per_revenue;
        }
    }
    if s.cats.is_empty() || ev.categories.is_empty() {
        return;
    }
    // the actuals' columns in the engine's category order
    let column: Vec<Option<usize>> = s
        .cats
        .iter()
        .map(|c| ev.categories.iter().position(|x| x == c))
        .collect();
    let nc = ev.categories.len();
    let observed = |i: usize| -> Option<(Vec<f64>, f64)> {
        let row = &ev.revenue[i * nc..(i + 1) * nc];
        let shares: Vec<f64> = column.iter().map(|c| c.map_or(0.0, |c| row[c])).collect();
        let total: f64 = shares.iter().sum();
        if total <= 0.0 || ev.revenue_sq[i] <= 0.0 {
            return None;
        }
        let n_eff = (total * total / ev.revenue_sq[i]).max(1.0);
        Some((shares.iter().map(|v| v / total).collect(), n_eff))
    };
    for g in 0..s.segment_count {
        let members: Vec<usize> = (0..n).filter(|&i| s.partners[i].seg == g).collect();
        let obs: Vec<(usize, Vec<f64>, f64)> = members
            .iter()
            .filter_map(|&i| observed(i).map(|(sh, ne)| (i, sh, ne)))
            .collect();
        if obs.is_empty() {
            continue;
        }
        // pooled shares: revenue-weighted over the segment's partners
        let mut pooled = vec![0.0; cc];
        for &(i, _, _) in &obs {
            let row = &ev.revenue[i * nc..(i + 1) * nc];
            for (p, c) in pooled.iter_mut().zip(&column) {
                *p += c.map_or(0.0, |c| row[c]);
            }
        }
        let total: f64 = pooled.iter().sum();
        pooled.iter_mut().for_each(|p| *p /= total);
        let pairs: Vec<(Vec<f64>, f64)> = obs.iter().map(|(_, s, n)| (s.clone(), *n)).collect();
        let Some(kappa) = precision(&pairs, &pooled) else {
            continue;
        };
        for (i, shares, n_eff) in obs {
            let mix = &mut s.mix[i * cc..(i + 1) * cc];
            let prior: Vec<f64> = if own_mix {
                let t: f64 = mix.iter().sum();
                mix.iter().map(|v| v / t.max(f64::MIN_POSITIVE)).collect()
            } else {
                pooled.clone()
            };
            for ((m, p), o) in mix.iter_mut().zip(&prior).zip(&shares) {
                *m = (kappa * p + n_eff * o) / (kappa + n_eff);
            }
            // the mix for the year drawn around it: n_eff more draws of the partner's mix
            if let Some(c) = s.mix_conc.get_mut(i).filter(|c| **c > 0.0) {
                *c += n_eff;
            }
        }
        if !own_mix {
            // partners without actuals: the segment's pooled shares
            for &i in &members {
                if observed(i).is_none() {
                    s.mix[i * cc..(i + 1) * cc].copy_from_slice(&pooled);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::precision;

    #[test]
    fn precision_from_the_spread_of_shares() {
        // identical shares with many draws: the partners agree, κ large
        let same = vec![(vec![0.5, 0.5], 1000.0); 10];
        assert!(precision(&same, &[0.5, 0.5]).unwrap() > 100.0);
        // specialists (all or nothing): κ small
        let mut split = vec![(vec![1.0, 0.0], 1000.0); 5];
        split.extend(vec![(vec![0.0, 1.0], 1000.0); 5]);
        assert!(precision(&split, &[0.5, 0.5]).unwrap() < 0.01);
        assert!(precision(&same[..1], &[0.5, 0.5]).is_none());
    }
}
