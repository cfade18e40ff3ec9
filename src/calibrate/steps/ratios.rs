//! Step 7 of [`super::calibrate`]: ratio estimates: the returns share, orders per month and
//! order-size σ, categories per order, the unit price.

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{Acc, Ctx};
use crate::calibrate::fit::{self};
use crate::calibrate::linalg::Z95;
use crate::calibrate::{est, sigma_chi2, Estimate};
use crate::demand::Orders;

/// A ratio of sums over the member partners and its partner-clustered standard error.
fn ratio_of_sums(
    n: usize,
    num: &dyn Fn(usize) -> f64,
    den: &dyn Fn(usize) -> f64,
    members: &dyn Fn(usize) -> bool,
) -> (f64, f64) {
    let (mut sn, mut sd) = (0.0, 0.0);
    for i in 0..n {
        if members(i) {
            sn += num(i);
            sd += den(i);
        }
    }
    let r = sn / sd;
    let mut v = 0.0;
    for i in 0..n {
        if members(i) {
            v += (num(i) - r * den(i)).powi(2);
        }
    }
    (r, v.sqrt() / sd)
}

/// Per-partner gross purchases and units over the history.
pub(in crate::calibrate) struct PartnerTotals {
    pub gross_i: Vec<f64>,
    pub units_i: Vec<f64>,
}

/// The returns share, pooled and per segment; sets `model.returns`.
pub(in crate::calibrate) fn returns_share(cx: &Ctx, acc: &mut Acc) -> PartnerTotals {
    let ratio =
        |num: &dyn Fn(usize) -> f64,
         den: &dyn Fn(usize) -> f64,
         members: &dyn Fn(usize) -> bool| ratio_of_sums(cx.n, num, den, members);
    let all = |_: usize| true;
    let ratio_method = "ratio of sums; partner-clustered SE; normal interval";
    let Ctx {
        p, n, t_len, g_len, ..
    } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let seg_opt = |g: usize| cx.seg_opt(g);
    let Acc {
        estimates,
        model,
        warnings,
    } = acc;
    let sum_row = |v: &Vec<f64>, i: usize| v[i * t_len..(i + 1) * t_len].iter().sum::<f64>();
    let ret_i: Vec<f64> = (0..n).map(|i| sum_row(&p.returns, i)).collect();
    let gross_i: Vec<f64> = (0..n).map(|i| sum_row(&p.gross, i)).collect();
    let units_i: Vec<f64> = (0..n).map(|i| sum_row(&p.units, i)).collect();
    let push_ratio = |path: String,
                      seg: Option<&str>,
                      (r, se): (f64, f64),
                      lo: f64,
                      hi: f64,
                      estimates: &mut Vec<Estimate>| {
        estimates.push(est(
            path,
            seg,
            r,
            se,
            ((r - Z95 * se).max(lo), (r + Z95 * se).min(hi)),
            None,
            ratio_method,
        ));
    };
    let r_all = ratio(&|i| ret_i[i], &|i| gross_i[i], &all);
    push_ratio("returns.share".into(), None, r_all, 0.0, 0.99, estimates);
    model.returns.share = r_all.0.min(0.99);
    if g_len > 1 {
        for g in 0..g_len {
            let r = ratio(&|i| ret_i[i], &|i| gross_i[i], &|i| p.seg[i] == g);
            push_ratio(
                format!("returns.segments.{}", p.segments[g]),
                seg_opt(g),
                r,
                0.0,
                0.99,
                estimates,
            );
            model.returns.segments.insert(seg_name(g), r.0.min(0.99));
        }
    }
    if r_all.0 >= 0.99 {
        warnings.push(
            "returns are 99% of purchases or more: the returns share is capped at 0.99".into(),
        );
    }
    PartnerTotals { gross_i, units_i }
}

/// Orders per month (pooled and per segment) and the order-size σ; sets `model.orders`.
pub(in crate::calibrate) fn orders(cx: &Ctx, acc: &mut Acc) {
    let ratio =
        |num: &dyn Fn(usize) -> f64,
         den: &dyn Fn(usize) -> f64,
         members: &dyn Fn(usize) -> bool| ratio_of_sums(cx.n, num, den, members);
    let all = |_: usize| true;
    let _ratio_method = "ratio of sums; partner-clustered SE; normal interval";
    let Ctx {
        p, n, t_len, g_len, ..
    } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let seg_opt = |g: usize| cx.seg_opt(g);
    let Acc {
        estimates, model, ..
    } = acc;
    let mut orders_model = Orders::default();
    if let Some(orders) = &p.orders {
        let ord_i: Vec<f64> = (0..n)
            .map(|i| {
                orders[i * t_len..(i + 1) * t_len]
                    .iter()
                    .map(|&o| o as f64)
                    .sum()
            })
            .collect();
        let months_i: Vec<f64> = (0..n)
            .map(|i| (0..t_len).filter(|&t| orders[i * t_len + t] > 0).count() as f64)
            .collect();
        let lambda_est = |members: &dyn Fn(usize) -> bool| -> Option<(f64, f64)> {
            if (0..n)
                .filter(|&i| members(i))
                .map(|i| months_i[i])
                .sum::<f64>()
                == 0.0
            {
                return None;
            }
            let (m, se) = ratio(&|i| ord_i[i], &|i| months_i[i], members);
            let l = fit::poisson_floor1_lambda(m);
            let d = if l > 0.0 {
                1.0 / (1.0 - (-l).exp())
            } else {
                f64::NAN
            };
            Some((l, se * d))
        };
        let om = "mean distinct order ids per buying month m, λ solving λ + e^(−λ) = m (the engine draws max(1, Poisson(λ))); partner-clustered SE (delta method)";
        if let Some((l, se)) = lambda_est(&all) {
            estimates.push(est(
                "orders.per_month",
                None,
                l,
                se,
                ((l - Z95 * se).max(0.0), l + Z95 * se),
                None,
                om,
            ));
            orders_model.per_month = l.min(crate::limits::MAX_ORDERS_PER_MONTH);
        }
        if g_len > 1 {
            for g in 0..g_len {
                if let Some((l, se)) = lambda_est(&|i| p.seg[i] == g) {
                    estimates.push(est(
                        format!("orders.segments.{}", p.segments[g]),
                        seg_opt(g),
                        l,
                        se,
                        ((l - Z95 * se).max(0.0), l + Z95 * se),
                        None,
                        om,
                    ));
                    orders_model
                        .segments
                        .insert(seg_name(g), l.min(crate::limits::MAX_ORDERS_PER_MONTH));
                }
            }
        }
        let (ss, dof) = p
            .order_ss
            .iter()
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        if dof > 0.0 {
            let (s, se, ci) = sigma_chi2(ss / dof, dof);
            estimates.push(est("orders.size_sigma", None, s, se, ci, Some(dof), "pooled within-month variance of log order amounts (months with two orders or more); χ² interval"));
            orders_model.size_sigma = s.min(3.0);
        }
    }
    model.orders = orders_model;
}

/// The unit price (with units in the history); sets `model.economics.unit_price` when valid.
pub(in crate::calibrate) fn unit_price(cx: &Ctx, totals: &PartnerTotals, acc: &mut Acc) {
    let PartnerTotals { gross_i, units_i } = totals;
    let ratio =
        |num: &dyn Fn(usize) -> f64,
         den: &dyn Fn(usize) -> f64,
         members: &dyn Fn(usize) -> bool| ratio_of_sums(cx.n, num, den, members);
    let all = |_: usize| true;
    let ratio_method = "ratio of sums; partner-clustered SE; normal interval";
    let Acc {
        estimates, model, ..
    } = acc;
    let units_total: f64 = units_i.iter().sum();
    if units_total > 0.0 {
        let (r, se) = ratio(&|i| gross_i[i], &|i| units_i[i], &all);
        estimates.push(est(
            "economics.unit_price",
            None,
            r,
            se,
            (r - Z95 * se, r + Z95 * se),
            None,
            ratio_method,
        ));
        if crate::population::unit_price_ok(r) {
            model.economics.unit_price = Some(r);
        }
    }
}

/// The unit price of each category (with a category column and units in the history): a
/// ratio of sums over the partners, partner-clustered SE. Sets
/// `model.economics.category_prices` when every category has units and a valid price, so the
/// simulation counts a category's units at its own price (docs/simulation.md).
pub(in crate::calibrate) fn category_prices(cx: &Ctx, acc: &mut Acc) {
    let p = cx.p;
    let nc = p.categories.len();
    if nc == 0 {
        return;
    }
    let Acc {
        estimates, model, ..
    } = acc;
    let mut prices = std::collections::BTreeMap::new();
    let mut all = true;
    for (c, name) in p.categories.iter().enumerate() {
        let units: f64 = (0..cx.n).map(|i| p.cat_totals[i * nc + c].1).sum();
        if !(units > 0.0) {
            all = false;
            continue;
        }
        let (r, se) = ratio_of_sums(
            cx.n,
            &|i| p.cat_totals[i * nc + c].0,
            &|i| p.cat_totals[i * nc + c].1,
            &|_| true,
        );
        estimates.push(est(
            format!("economics.category_prices.{name}"),
            None,
            r,
            se,
            (r - Z95 * se, r + Z95 * se),
            None,
            "ratio of sums of the category's positive lines; partner-clustered SE; normal interval",
        ));
        if crate::population::unit_price_ok(r) {
            prices.insert(name.clone(), r);
        } else {
            all = false;
        }
    }
    if all {
        model.economics.category_prices = prices;
    }
}

/// Categories per order (with order ids and categories in the history), pooled and per
/// segment: `m` = the mean number of distinct categories of an order (ratio of sums over the
/// partners, partner-clustered SE), and the model's `x = 1 + λ` with `λ` solving
/// `E[min(1 + Poisson(λ), C)] = m` (`C` the history's categories: the engine caps an order's
/// count at the partner's categories), SE by the delta method; sets
/// `model.orders.categories_per_order` (and `categories_per_order_segments`).
pub(in crate::calibrate) fn categories_per_order(cx: &Ctx, acc: &mut Acc) {
    let Some(oc) = cx.p.order_categories.as_ref() else {
        return;
    };
    let c = cx.p.categories.len();
    if c < 2 {
        return;
    }
    let method = "mean distinct categories per order m (ratio of sums, partner-clustered SE); x = 1 + λ with E[min(1 + Poisson(λ), C)] = m, C the history's categories (delta method)";
    let fit = |members: &dyn Fn(usize) -> bool| -> Option<(f64, f64, (f64, f64))> {
        let orders: f64 = (0..cx.n).filter(|&i| members(i)).map(|i| oc[i].0).sum();
        if orders == 0.0 {
            return None;
        }
        let (m, se) = ratio_of_sums(cx.n, &|i| oc[i].1, &|i| oc[i].0, members);
        if !(m < c as f64 - 1e-9) {
            return None; // every order carries every category: the spread months
        }
        let l = capped_poisson_lambda(m, c);
        let d = capped_poisson_slope(l, c);
        let lo = 1.0 + capped_poisson_lambda((m - Z95 * se).max(1.0), c);
        let hi = 1.0 + capped_poisson_lambda((m + Z95 * se).min(c as f64 - 1e-9), c);
        Some((1.0 + l, se / d.max(1e-12), (lo, hi)))
    };
    let most = crate::limits::MAX_CATEGORIES_PER_ORDER;
    let Acc {
        estimates, model, ..
    } = acc;
    if let Some((x, se, ci)) = fit(&|_| true) {
        estimates.push(est(
            "orders.categories_per_order",
            None,
            x,
            se,
            ci,
            None,
            method,
        ));
        model.orders.categories_per_order = Some(x.clamp(1.0, most));
    }
    if cx.g_len > 1 {
        for g in 0..cx.g_len {
            if let Some((x, se, ci)) = fit(&|i| cx.p.seg[i] == g) {
                let path = format!("orders.categories_per_order_segments.{}", cx.p.segments[g]);
                estimates.push(est(path, cx.seg_opt(g), x, se, ci, None, method));
                model
                    .orders
                    .categories_per_order_segments
                    .insert(cx.seg_name(g), x.clamp(1.0, most));
            }
        }
    }
}

/// `E[min(1 + N, c)]` for `N ~ Poisson(λ)`.
fn capped_poisson_mean(l: f64, c: usize) -> f64 {
    let (mut p, mut below, mut mean) = ((-l).exp(), 0.0, 0.0);
    for k in 0..c.saturating_sub(1) {
        mean += (1 + k) as f64 * p;
        below += p;
        p *= l / (k + 1) as f64;
    }
    mean + c as f64 * (1.0 - below).max(0.0)
}

/// `d/dλ E[min(1 + N, c)] = P(N ≤ c − 2)`.
fn capped_poisson_slope(l: f64, c: usize) -> f64 {
    let (mut p, mut below) = ((-l).exp(), 0.0);
    for k in 0..c.saturating_sub(1) {
        below += p;
        p *= l / (k + 1) as f64;
    }
    below
}

/// The `λ` with `E[min(1 + Poisson(λ), c)] = m` (`1 ≤ m < c`), by bisection (the mean rises
/// from 1 at λ = 0 towards `c`).
fn capped_poisson_lambda(m: f64, c: usize) -> f64 {
    if !(m > 1.0) {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0, m);
    while capped_poisson_mean(hi, c) < m && hi < crate::limits::MAX_CATEGORIES_PER_ORDER {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if capped_poisson_mean(mid, c) < m {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod categories_per_order_tests {
    use super::*;

    /// Without a cap in reach the mean is 1 + λ; capped at two categories, `E = 2 − e^(−λ)`.
    #[test]
    fn capped_poisson_by_hand() {
        assert!((capped_poisson_mean(0.7, 60) - 1.7).abs() < 1e-12);
        assert!((capped_poisson_mean(0.7, 2) - (2.0 - (-0.7f64).exp())).abs() < 1e-12);
        assert!((capped_poisson_lambda(1.7, 60) - 0.7).abs() < 1e-9);
        let l = capped_poisson_lambda(1.5, 2);
        assert!((l - 2f64.ln()).abs() < 1e-9, "{l}");
        assert_eq!(capped_poisson_lambda(1.0, 5), 0.0);
        assert!((capped_poisson_slope(0.7, 2) - (-0.7f64).exp()).abs() < 1e-12);
    }
}
