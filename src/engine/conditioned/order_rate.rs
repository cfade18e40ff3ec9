//! What the actuals reveal of a partner's order rate (with or without `orders.size_elasticity`): each
//! partner's orders a buying month to date, shrunk to the model's, for the rest of the year
//! (docs/forecast.md, "Orders to date").
//!
//! Under the model a buying month has `n = max(1, Poisson(μ))` orders, `μ` from the size law
//! ([`Setup::partner_orders`] at the partner's level); the orders beyond the first,
//! `X = Σ (n − 1)` over its `M` complete buying months to date, have expectation
//! `E = M · (μ + e^(−μ) − 1)`. A partner's own rate is the model's times `r`, with a
//! Gamma(α, α) prior (mean 1); its posterior mean is
//!
//! ```text
//! r̂ = (α + X) / (α + E)
//! ```
//!
//! so a partner without actuals keeps the model's rate and one with many months its own. `1/α`
//! (the partners' spread of `r`) by the method of moments over the partners with actuals
//! (Poisson–Gamma: `Var X = E + E² / α`): `1/α = Σ ((X − E)² − E) / Σ E²`, clamped to
//! [10⁻⁴, 10]. The simulated months then draw `max(1, Poisson(μ'))` with
//! `μ' + e^(−μ') = 1 + r̂ (μ + e^(−μ) − 1)`; the partner's factor `μ' / μ` multiplies its mean
//! in every scenario.

use crate::data::Transactions;
use crate::engine::setup::Setup;
use rust_decimal::prelude::*;
use std::collections::BTreeMap;

/// What the actuals to date show of each partner's orders (population order).
#[derive(Debug, Clone, Default)]
pub(crate) struct OrderEvidence {
    /// Complete buying months to date (months with a positive line carrying an order id).
    pub months: Vec<u32>,
    /// Their distinct orders.
    pub orders: Vec<u32>,
    /// Σ over those months of the squared deviations of the log order amounts (an order's
    /// positive revenue in the month) from the month's mean log amount
    /// ([`super::order_spread`]).
    pub size_ss: Vec<f64>,
    /// Their degrees of freedom, Σ (orders in the month − 1).
    pub size_df: Vec<u32>,
}

/// Each partner's [`OrderEvidence`]; `None` without an `order_id` column. `rows_of`: each
/// partner's rows; `month_of`: each row's programme month; `complete`: the complete months
/// observed.
pub(crate) fn observed_orders(
    actuals: &Transactions,
    rows_of: &[Vec<usize>],
    month_of: &[usize],
    complete: usize,
) -> Option<OrderEvidence> {
    let order = actuals.order.as_ref()?;
    let n = rows_of.len();
    let mut ev = OrderEvidence {
        months: Vec::with_capacity(n),
        orders: Vec::with_capacity(n),
        size_ss: Vec::with_capacity(n),
        size_df: Vec::with_capacity(n),
    };
    // (month, order) → the order's positive revenue in the month, in a stable order
    let mut amount: BTreeMap<(usize, u32), f64> = BTreeMap::new();
    for rows in rows_of {
        amount.clear();
        for &r in rows {
            let m = month_of[r];
            let rev = actuals.revenue[r];
            if m < complete && rev > Decimal::ZERO {
                if let Some(o) = order[r] {
                    *amount.entry((m, o)).or_insert(0.0) += rev.to_f64().unwrap_or(0.0);
                }
            }
        }
        let mut months = 0u32;
        let (mut ss, mut df) = (0.0, 0u32);
        let mut logs: Vec<f64> = Vec::new();
        let mut it = amount.iter().peekable();
        while let Some((&(m, _), &a)) = it.next() {
            logs.clear();
            logs.push(a.ln());
            while let Some((&(m2, _), &a2)) = it.peek() {
                if m2 != m {
                    break;
                }
                logs.push(a2.ln());
                it.next();
            }
            months += 1;
            if logs.len() >= 2 {
                let mean = logs.iter().sum::<f64>() / logs.len() as f64;
                ss += logs.iter().map(|l| (l - mean) * (l - mean)).sum::<f64>();
                df += logs.len() as u32 - 1;
            }
        }
        ev.months.push(months);
        ev.orders.push(amount.len() as u32);
        ev.size_ss.push(ss);
        ev.size_df.push(df);
    }
    Some(ev)
}

/// Mean orders of a buying month at `mu`: `max(1, Poisson(μ))` has mean `μ + e^(−μ)`.
fn mean_count(mu: f64) -> f64 {
    mu + (-mu).exp()
}

/// The `μ` whose [`mean_count`] is `m` (0 for `m ≤ 1`; Newton from `m`, which lies above it).
fn mu_of(m: f64) -> f64 {
    if !(m > 1.0) {
        return 0.0;
    }
    let mut l = m;
    for _ in 0..100 {
        let step = (mean_count(l) - m) / (1.0 - (-l).exp()).max(1e-12);
        l -= step;
        if step.abs() < 1e-12 * m {
            break;
        }
    }
    l.max(0.0)
}

/// Each partner's factor on its mean orders a month, `μ' / μ` (see the module comment); empty
/// when the model's order count is fixed (`poisson = false`), the actuals have no order ids or
/// no partner a buying month. Without the size law `μ` is the segment's `per_month`.
pub(crate) fn order_factors(s: &Setup, months: &[u32], orders: &[u32]) -> Vec<f64> {
    if !s.poisson_orders || months.is_empty() {
        return Vec::new();
    }
    let mu: Vec<f64> = s
        .partners
        .iter()
        .map(|pc| s.partner_orders(pc.base_month, s.segs[pc.seg].orders))
        .collect();
    let expected = |i: usize| months[i] as f64 * (mean_count(mu[i]) - 1.0);
    let extra = |i: usize| orders[i] as f64 - months[i] as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..mu.len() {
        let e = expected(i);
        if months[i] > 0 && e > 0.0 {
            num += (extra(i) - e).powi(2) - e;
            den += e * e;
        }
    }
    if den <= 0.0 {
        return Vec::new();
    }
    let alpha = 1.0 / (num / den).clamp(1e-4, 10.0);
    (0..mu.len())
        .map(|i| {
            if months[i] == 0 || mu[i] <= 0.0 {
                return 1.0;
            }
            let r = (alpha + extra(i)) / (alpha + expected(i));
            let target = 1.0 + r * (mean_count(mu[i]) - 1.0);
            mu_of(target) / mu[i]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_count_inverts() {
        for mu in [0.2, 1.0, 3.5] {
            let back = mu_of(mean_count(mu));
            assert!((back - mu).abs() < 1e-9, "{mu} -> {back}");
        }
        assert_eq!(mu_of(1.0), 0.0);
    }

    /// Three partners at monthly levels 1,000, 4,000 and 2,000 under μ = 2·(L/1000): 2, 8 and 4
    /// orders a month. A orders once a month (6 months, 6 orders), B 9 a month (6, 54), C has no
    /// buying month: A's rate falls, B's rises, C keeps the model's.
    #[test]
    fn factors_by_hand() {
        use crate::demand::Model;
        use crate::document::Format;
        use crate::population::Population;
        let p = crate::engine::test_programmes::pallet_programme();
        let pop = Population::from_csv_str(
            "partner_id,segment,baseline_revenue,unit_price\na,s,12000,10\nb,s,48000,10\nc,s,24000,10\n",
            "partners.csv",
        )
        .unwrap();
        let law = "[orders]\nper_month = 2\nsize_elasticity = 1\nsize_reference = 1000\n";
        let model = Model::from_str(law, Format::Toml, None).unwrap();
        let s = Setup::new(&p, &pop, &model).unwrap();
        let f = order_factors(&s, &[6, 6, 0], &[6, 54, 0]);
        // by hand: E = 6·(μ + e^(−μ) − 1), X = orders − months
        let (ea, eb) = (6.0 * (1.0 + (-2.0f64).exp()), 6.0 * (7.0 + (-8.0f64).exp()));
        let (xa, xb) = (0.0, 48.0);
        let inv_alpha =
            (((xa - ea) * (xa - ea) - ea) + ((xb - eb) * (xb - eb) - eb)) / (ea * ea + eb * eb);
        let alpha = 1.0 / inv_alpha.clamp(1e-4, 10.0);
        let ra = (alpha + xa) / (alpha + ea);
        let rb = (alpha + xb) / (alpha + eb);
        let want_a = mu_of(1.0 + ra * (1.0 + (-2.0f64).exp())) / 2.0;
        let want_b = mu_of(1.0 + rb * (7.0 + (-8.0f64).exp())) / 8.0;
        assert!(
            (f[0] - want_a).abs() < 1e-12 && f[0] < 1.0,
            "{f:?} vs {want_a}"
        );
        assert!(
            (f[1] - want_b).abs() < 1e-12 && f[1] > 1.0,
            "{f:?} vs {want_b}"
        );
        assert_eq!(f[2], 1.0);
        // without the size law: the same posterior around the segment's μ = 2 for everyone
        let plain = Model::from_str("[orders]\nper_month = 2\n", Format::Toml, None).unwrap();
        let s = Setup::new(&p, &pop, &plain).unwrap();
        let f = order_factors(&s, &[6, 6, 0], &[6, 54, 0]);
        let e = 6.0 * (1.0 + (-2.0f64).exp());
        let inv_alpha = ((e * e - e) + ((48.0 - e) * (48.0 - e) - e)) / (2.0 * e * e);
        let alpha = 1.0 / inv_alpha.clamp(1e-4, 10.0);
        let want = |x: f64| mu_of(1.0 + (alpha + x) / (alpha + e) * (1.0 + (-2.0f64).exp())) / 2.0;
        assert!((f[0] - want(0.0)).abs() < 1e-12 && f[0] < 1.0, "{f:?}");
        assert!((f[1] - want(48.0)).abs() < 1e-12 && f[1] > 1.0, "{f:?}");
        assert_eq!(f[2], 1.0);
        // a fixed order count (`poisson = false`): no factors, the model's counts
        let fixed = Model::from_str(
            "[orders]\nper_month = 2\npoisson = false\n",
            Format::Toml,
            None,
        )
        .unwrap();
        let s = Setup::new(&p, &pop, &fixed).unwrap();
        assert!(order_factors(&s, &[6, 6, 0], &[6, 54, 0]).is_empty());
    }
}
