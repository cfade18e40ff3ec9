//! Categories per order (`orders.categories_per_order`, opt-in): instead of spreading a
//! buying month over every category of the partner's mix, the month's orders each carry a few
//! categories drawn by the mix, so that a quarter can miss a category (what the cross-sell
//! bundle pays on). The law (docs/simulation.md, "Categories per order"):
//!
//! - the month's orders are drawn as `[orders]` says ([`Setup::orders_of`]), even without a
//!   logistics component;
//! - order `o` carries `K = min(1 + Poisson(x − 1), C)` categories, `C` the partner's
//!   categories with a positive share `m_c`, drawn from the partner-month's own
//!   [`Purpose::OrderCategories`] stream (so no other draw shifts);
//! - which `K`: a category with `K'·m_c ≥ R` (`R` the mix not yet certain, `K'` the slots left)
//!   is certain and takes its share `m_c` of the order; the `K'` other slots are a randomised
//!   systematic sample (Madow 1949; the candidates in a random order) with inclusion
//!   probabilities `π_c = K'·m_c / R ≤ 1`, each chosen category taking `R / K'` of the order.
//!   So `E[share_c] = m_c` exactly for every `K` (`π_c · R/K' = m_c`): each category's expected
//!   revenue is the spread month's, while an order with `K = 1` holds one category, drawn
//!   with probability `m_c`;
//! - a line per order and category, `round(g_m · w_o · share_c + x_m · w_o · xmix_c)` minor
//!   units (`w_o` the order's share of the month, `x_m` a stretch purchase spread over the
//!   month's orders by the same shares and over the component's categories); the month's
//!   category revenue is the sum of its lines; returns one negative line per month and
//!   category (the returns share of that sum), as without the option.

use super::purchases::{line_qty, round_half_up};
use super::setup::{Setup, NONE};
use super::work::{LineV, Work};
use crate::demand::Model;
use crate::population::Population;
use crate::rng::{self, Purpose, Stream};

/// Per segment, the Poisson mean `x − 1` of an order's categories beyond its first (NaN: the
/// segment's months are spread over every category, as without the option), and its Poisson
/// law made once (`None` for a mean of 0: no draw), so an order's size costs no `exp`.
#[derive(Debug, Clone)]
pub(crate) struct OrderCategories {
    extra: Vec<f64>,
    law: Vec<Option<rand_distr::Poisson<f64>>>,
}

impl OrderCategories {
    /// The option of `model` for `pop`'s segments, `None` when no segment draws its orders'
    /// categories or the run has fewer than two line categories (nothing to choose from).
    pub(crate) fn of(model: &Model, pop: &Population, category_count: usize) -> Option<Self> {
        if !model.orders.draws_order_categories() || category_count < 2 {
            return None;
        }
        let extra: Vec<f64> = pop
            .segments
            .iter()
            .map(|s| {
                model
                    .orders
                    .categories_per_order_of(s)
                    .map_or(f64::NAN, |x| x - 1.0)
            })
            .collect();
        let law = extra.iter().map(|&x| rng::poisson_law(x)).collect();
        Some(OrderCategories { extra, law })
    }

    /// Whether partners of segment `seg` draw their orders' categories.
    pub(crate) fn applies(&self, seg: usize) -> bool {
        !self.extra[seg].is_nan()
    }
}

/// Scratch of the line generation ([`Work::order_cats`]), and the categories drawn for the
/// partner's orders, kept for all its runs: a partner's orders and their categories are the
/// same in the programme run, the counterfactual run and every re-measured period (the draws
/// depend on the partner-month's streams only), so each month is drawn once
/// ([`Setup::month_parts`]) and every later pass only rounds its lines.
#[derive(Debug, Default)]
pub(crate) struct OrderCatWork {
    /// Whether the partner being run draws its orders' categories (set with its orders).
    pub(crate) on: bool,
    shares: Vec<f64>,
    certain: Vec<bool>,
    cand: Vec<usize>,
    month_cents: Vec<f64>,
    /// Per month, whether its orders' categories are drawn, and its parts
    /// `parts[part_off[m]..part_end[m]]` (emptied by [`OrderCatWork::forget`]).
    drawn: Vec<bool>,
    part_off: Vec<usize>,
    part_end: Vec<usize>,
    /// Every drawn month's orders' categories of a positive share: (order, category, share),
    /// by order then category (the order of the lines).
    parts: Vec<Part>,
}

/// One category of one order and its share of the order ([`OrderCatWork::parts`]).
#[derive(Debug, Clone, Copy)]
struct Part {
    order: u32,
    cat: u32,
    share: f64,
}

impl OrderCatWork {
    /// Forget the categories drawn for the previous partner's orders (called with every new
    /// draw of a partner's orders, [`Setup::draw_orders`]).
    pub(crate) fn forget(&mut self, months: usize) {
        self.drawn.clear();
        self.drawn.resize(months, false);
        self.part_off.resize(months, 0);
        self.part_end.resize(months, 0);
        self.parts.clear();
    }
}

/// Order shares of the categories for an order of `k` categories (`k ≤` the categories with a
/// positive share in `mix`, which sums to 1) into `s.shares`: certain categories take their
/// mix share, the others a randomised systematic sample of the rest (module docs).
pub(crate) fn order_shares(r: &mut Stream, mix: &[f64], k: usize, s: &mut OrderCatWork) {
    let n = mix.len();
    s.shares.clear();
    s.shares.resize(n, 0.0);
    if k == 1 {
        // one slot: category `c` with probability `m_c / R` (what the systematic pass gives a
        // single slot in any order, or a certain category when it is the only one), the whole
        // order; one uniform, no shuffle
        one_category(r, mix, s);
        return;
    }
    s.certain.clear();
    s.certain.resize(n, false);
    let mut slots = k;
    let mut rest;
    loop {
        rest = 0.0;
        for j in 0..n {
            if mix[j] > 0.0 && !s.certain[j] {
                rest += mix[j];
            }
        }
        if slots == 0 {
            break;
        }
        let sure = (0..n).find(|&j| mix[j] > 0.0 && !s.certain[j] && slots as f64 * mix[j] >= rest);
        let Some(j) = sure else { break };
        s.certain[j] = true;
        s.shares[j] = mix[j];
        slots -= 1;
    }
    if slots == 0 {
        return;
    }
    s.cand.clear();
    s.cand
        .extend((0..n).filter(|&j| mix[j] > 0.0 && !s.certain[j]));
    // a random order of the candidates (Fisher–Yates), then one systematic pass
    for t in (1..s.cand.len()).rev() {
        let u = rng::uniform(r);
        let x = ((u * (t + 1) as f64) as usize).min(t);
        s.cand.swap(t, x);
    }
    let each = rest / slots as f64;
    let mut next = rng::uniform(r);
    let (mut cum, mut chosen) = (0.0, 0);
    for t in 0..s.cand.len() {
        let j = s.cand[t];
        cum += slots as f64 * mix[j] / rest;
        if chosen < slots && next < cum {
            s.shares[j] = each;
            chosen += 1;
            next += 1.0;
        }
    }
    // the inclusion probabilities sum to `slots` up to rounding: a slot the last interval
    // missed by a rounding goes to the last candidates not chosen
    for t in (0..s.cand.len()).rev() {
        if chosen == slots {
            break;
        }
        let j = s.cand[t];
        if s.shares[j] == 0.0 {
            s.shares[j] = each;
            chosen += 1;
        }
    }
}

/// [`order_shares`] of an order of one category: `c` drawn with probability `m_c / R` (`R`
/// the positive shares' sum) takes `R`.
fn one_category(r: &mut Stream, mix: &[f64], s: &mut OrderCatWork) {
    let rest: f64 = mix.iter().filter(|&&v| v > 0.0).sum();
    let target = rng::uniform(r) * rest;
    let (mut cum, mut last) = (0.0, None);
    for (j, &v) in mix.iter().enumerate() {
        if v > 0.0 {
            cum += v;
            last = Some(j);
            if target < cum {
                s.shares[j] = rest;
                return;
            }
        }
    }
    // `target` reached the sum by a rounding: the last category with a share
    if let Some(j) = last {
        s.shares[j] = rest;
    }
}

/// The number of categories of one order: `min(1 + Poisson(x − 1), positive)`, with the
/// segment's Poisson law made once ([`rng::poisson_law`]`(x − 1)`): the draws of
/// [`rng::poisson`]`(x − 1)` without making the law again for every order.
#[inline]
pub(crate) fn order_size(
    r: &mut Stream,
    law: Option<&rand_distr::Poisson<f64>>,
    positive: usize,
) -> usize {
    (1 + rng::poisson_from(r, law) as usize).min(positive)
}

impl Setup<'_> {
    /// Whether partner `i` draws its orders' categories (the option and its segment).
    #[inline]
    pub(crate) fn draws_order_categories(&self, i: usize) -> bool {
        self.order_cats
            .as_ref()
            .is_some_and(|oc| oc.applies(self.partners[i].seg))
    }

    /// [`Setup::period_purchases`] for a partner whose orders carry drawn categories (module
    /// docs): per line category the gross and returned minor units and millionths of a unit
    /// (`w.agg`, `w.aggq`), each month's net minor units (`w.pmonth`), and the lines (order
    /// lines, then the month's returns lines) appended to `w.lines` when exported or when a
    /// logistics component measures orders. Each month's orders and their categories are
    /// drawn once per partner ([`Setup::month_parts`]); a pass rounds the lines only.
    pub(crate) fn order_category_purchases(&self, i: usize, k: usize, w: &mut Work) {
        let pc = &self.partners[i];
        let positive = self
            .mix_row(i, w.drawn_mix())
            .iter()
            .filter(|&&v| v > 0.0)
            .count();
        let cc = self.category_count;
        let returns = self.segs[pc.seg].returns;
        let lines = w.emit || self.needs_orders;
        w.agg.iter_mut().for_each(|v| *v = 0.0);
        w.aggq.iter_mut().for_each(|v| *v = 0.0);
        w.period_lines = 0;
        let mut oc = std::mem::take(&mut w.order_cats);
        for m in k * self.months_per_period..(k + 1) * self.months_per_period {
            w.pmonth[m] = 0.0;
            let (gm, xm) = (w.g[m], w.x[m]);
            if (gm <= 0.0 && xm <= 0.0) || positive == 0 {
                continue;
            }
            let (a, _) = self.orders_of(m, w);
            if !oc.drawn[m] {
                self.month_parts(i, m, positive, w, &mut oc);
            }
            oc.month_cents.clear();
            oc.month_cents.resize(cc, 0.0);
            let parts = oc.part_off[m]..oc.part_end[m];
            if xm > 0.0 {
                self.stretch_month_lines(i, k, m, parts, lines, w, &mut oc);
            } else {
                let OrderCatWork {
                    parts: all_parts,
                    month_cents,
                    ..
                } = &mut oc;
                self.drawn_month_lines(i, m, a, &all_parts[parts], lines, w, month_cents);
            }
            self.month_returns(i, m, returns, &oc.month_cents, lines, w);
        }
        w.order_cats = oc;
    }

    /// Month `m`'s order lines without a stretch purchase (`parts`: its orders' categories and
    /// shares, the orders from `a` in `w.order_w`), each as [`Setup::order_line`] makes it,
    /// with the work's buffers borrowed apart (a store to one does not reload the others).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn drawn_month_lines(
        &self,
        i: usize,
        m: usize,
        a: usize,
        parts: &[Part],
        lines: bool,
        w: &mut Work,
        month_cents: &mut [f64],
    ) {
        let cc = self.category_count;
        let Work {
            order_w,
            agg,
            aggq,
            pmonth,
            period_lines,
            lines: out,
            g,
            ..
        } = w;
        let gm = g[m];
        let (agg, aggq) = (&mut agg[..2 * cc], &mut aggq[..2 * cc]);
        let month_cents = &mut month_cents[..cc];
        let order_w = &order_w[a..];
        let q0 = self.partners[i].qpm;
        let cat_qpm = if self.cat_qpm.is_empty() {
            None
        } else {
            Some(&self.cat_qpm[i * cc..(i + 1) * cc])
        };
        let (mut month, mut count) = (pmonth[m], 0);
        for p in parts {
            let amount = gm * order_w[p.order as usize] * p.share;
            if !(amount > 0.0) {
                continue;
            }
            let cents = round_half_up(amount * self.scale);
            if cents == 0.0 {
                continue;
            }
            let j = p.cat as usize;
            let qpm = match cat_qpm {
                None => q0,
                Some(cq) => q0 * cq[j],
            };
            let q = line_qty(cents, qpm);
            agg[2 * j] += cents;
            aggq[2 * j] += q;
            month_cents[j] += cents;
            month += cents;
            count += 1;
            if lines {
                out.push(LineV {
                    month: m as u32,
                    cat: j as u32,
                    order: p.order,
                    r: cents / self.scale,
                    q,
                });
            }
        }
        pmonth[m] = month;
        *period_lines += count;
    }

    /// Draw month `m`'s orders' categories into `oc.parts` (the month's own
    /// [`Purpose::OrderCategories`] stream: per order its size, then its shares), for a partner
    /// `i` with `positive` categories of a positive share; the month's orders are drawn.
    fn month_parts(&self, i: usize, m: usize, positive: usize, w: &Work, oc: &mut OrderCatWork) {
        let mix = self.mix_row(i, w.drawn_mix());
        let seg = self.partners[i].seg;
        let law = self.order_cats.as_ref().and_then(|x| x.law[seg].as_ref());
        let orders = w.order_end[m] - w.order_off[m];
        let mut r = rng::stream_of(
            rng::partner_key(w.order_key, m as u64),
            Purpose::OrderCategories,
        );
        oc.part_off[m] = oc.parts.len();
        for o in 0..orders {
            let size = order_size(&mut r, law, positive);
            order_shares(&mut r, mix, size, oc);
            let OrderCatWork { shares, parts, .. } = &mut *oc;
            for (j, &share) in shares.iter().enumerate() {
                if share != 0.0 {
                    parts.push(Part {
                        order: o as u32,
                        cat: j as u32,
                        share,
                    });
                }
            }
        }
        oc.part_end[m] = oc.parts.len();
        oc.drawn[m] = true;
    }

    /// Month `m`'s order lines when it has a stretch purchase `w.x[m] > 0`, spread over its
    /// orders by their shares and over the categories by `w.xmix` (every category of every
    /// order, not only the drawn ones): per order its dense shares from `parts`, then a line
    /// per category as [`Setup::order_line`].
    #[allow(clippy::too_many_arguments)]
    fn stretch_month_lines(
        &self,
        i: usize,
        k: usize,
        m: usize,
        parts: std::ops::Range<usize>,
        lines: bool,
        w: &mut Work,
        oc: &mut OrderCatWork,
    ) {
        let cc = self.category_count;
        let (gm, xm) = (w.g[m], w.x[m]);
        let (a, b) = (w.order_off[m], w.order_end[m]);
        let mut p = parts.start;
        oc.shares.resize(cc, 0.0);
        for o in 0..b - a {
            oc.shares.iter_mut().for_each(|v| *v = 0.0);
            while p < parts.end && oc.parts[p].order as usize == o {
                oc.shares[oc.parts[p].cat as usize] = oc.parts[p].share;
                p += 1;
            }
            let wo = w.order_w[a + o];
            for j in 0..cc {
                let mut amount = if gm > 0.0 {
                    gm * wo * oc.shares[j]
                } else {
                    0.0
                };
                amount += xm * wo * w.xmix[k * cc + j];
                self.order_line(i, m, j, o as u32, amount, lines, w, &mut oc.month_cents);
            }
        }
    }

    /// One order line of `amount` (revenue) in category `j` of month `m`: rounded to the minor
    /// unit (none when that is 0 or less), added to the period's aggregates, the month's
    /// revenue and `month_cents`, and pushed to `w.lines` when `lines`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn order_line(
        &self,
        i: usize,
        m: usize,
        j: usize,
        order: u32,
        amount: f64,
        lines: bool,
        w: &mut Work,
        month_cents: &mut [f64],
    ) {
        if !(amount > 0.0) {
            return;
        }
        let cents = round_half_up(amount * self.scale);
        if cents == 0.0 {
            return;
        }
        let q = line_qty(cents, self.line_qpm(i, j));
        w.agg[2 * j] += cents;
        w.aggq[2 * j] += q;
        month_cents[j] += cents;
        w.pmonth[m] += cents;
        w.period_lines += 1;
        if lines {
            w.lines.push(LineV {
                month: m as u32,
                cat: j as u32,
                order,
                r: cents / self.scale,
                q,
            });
        }
    }

    /// Month `m`'s returns: per category, the returns share of its gross minor units
    /// (`month_cents`) as one negative line outside any order.
    fn month_returns(
        &self,
        i: usize,
        m: usize,
        share: f64,
        month_cents: &[f64],
        lines: bool,
        w: &mut Work,
    ) {
        if !(share > 0.0) {
            return;
        }
        for (j, &cents) in month_cents.iter().enumerate() {
            let ret = round_half_up(cents * share);
            if ret == 0.0 {
                continue;
            }
            let q = line_qty(ret, self.line_qpm(i, j));
            w.agg[2 * j + 1] += ret;
            w.aggq[2 * j + 1] += q;
            w.pmonth[m] -= ret;
            w.period_lines += 1;
            if lines {
                let (r, cat) = (-ret / self.scale, j as u32);
                w.lines.push(LineV {
                    month: m as u32,
                    cat,
                    order: NONE,
                    r,
                    q: -q,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(mix: &[f64], k: usize, seed: u64) -> Vec<f64> {
        let mut r = rng::stream_of(seed, Purpose::OrderCategories);
        let mut s = OrderCatWork::default();
        order_shares(&mut r, mix, k, &mut s);
        s.shares.clone()
    }

    /// Hand-computed: with mix (0.6, 0.3, 0.1) and two categories, the first is certain
    /// (2 · 0.6 ≥ 1) and keeps 0.6 of the order; the second slot is b (π = 0.3/0.4 = 0.75) or
    /// c (0.25), which takes the remaining 0.4. One category: one of them, the whole order.
    /// All three: the mix itself.
    #[test]
    fn shares_by_hand() {
        let mix = [0.6, 0.3, 0.1];
        let mut b = 0;
        for seed in 0..4000 {
            let s = shares(&mix, 2, seed);
            assert_eq!(s[0], 0.6);
            assert!(
                ((s[1] - 0.4).abs() < 1e-15 && s[2] == 0.0)
                    || ((s[2] - 0.4).abs() < 1e-15 && s[1] == 0.0),
                "{s:?}"
            );
            b += (s[1] > 0.0) as u32;
        }
        // 0.75 ± 3 SE (SE = √(0.75·0.25/4000) ≈ 0.0068)
        assert!((b as f64 / 4000.0 - 0.75).abs() < 0.021, "{b}");
        for seed in 0..50 {
            let s = shares(&mix, 1, seed);
            // the whole order (the mix's sum, 1 within a rounding)
            assert_eq!(
                s.iter().filter(|&&v| (v - 1.0).abs() < 1e-12).count(),
                1,
                "{s:?}"
            );
            assert_eq!(s.iter().filter(|&&v| v == 0.0).count(), 2, "{s:?}");
            assert_eq!(shares(&mix, 3, seed), mix.to_vec());
        }
        // a category without a share is never drawn
        for seed in 0..200 {
            let s = shares(&[0.5, 0.0, 0.5], 1, seed);
            assert_eq!(s[1], 0.0);
        }
    }

    /// Each category's expected share of an order is its mix share, for every number of
    /// categories an order carries (within 4 standard errors over 20,000 orders), and the
    /// shares of an order sum to 1.
    #[test]
    fn expected_shares_are_the_mix() {
        let mix = [0.35, 0.25, 0.2, 0.12, 0.05, 0.03];
        for k in 1..=mix.len() {
            let n = 20_000;
            let (mut sum, mut sq) = (vec![0.0; mix.len()], vec![0.0; mix.len()]);
            let mut r = rng::stream_of(k as u64, Purpose::OrderCategories);
            let mut s = OrderCatWork::default();
            for _ in 0..n {
                order_shares(&mut r, &mix, k, &mut s);
                let total: f64 = s.shares.iter().sum();
                assert!((total - 1.0).abs() < 1e-12, "{:?}", s.shares);
                assert_eq!(s.shares.iter().filter(|&&v| v > 0.0).count(), k);
                for j in 0..mix.len() {
                    sum[j] += s.shares[j];
                    sq[j] += s.shares[j] * s.shares[j];
                }
            }
            for j in 0..mix.len() {
                let mean = sum[j] / n as f64;
                let se = ((sq[j] / n as f64 - mean * mean).max(0.0) / n as f64).sqrt();
                assert!(
                    (mean - mix[j]).abs() <= 4.0 * se + 1e-12,
                    "k {k} cat {j}: {mean} vs {} (se {se})",
                    mix[j]
                );
            }
        }
    }

    /// The law made once draws what [`rng::poisson`] draws, and consumes the same numbers.
    #[test]
    fn order_size_draws_as_the_poisson_of_the_mean() {
        for extra in [0.0, 0.3, 0.75, 2.5, 11.9, 40.0] {
            let law = rng::poisson_law(extra);
            let (mut a, mut b) = (
                rng::stream_of(9, Purpose::OrderCategories),
                rng::stream_of(9, Purpose::OrderCategories),
            );
            for _ in 0..2000 {
                let want = (1 + rng::poisson(&mut a, extra) as usize).min(6);
                assert_eq!(order_size(&mut b, law.as_ref(), 6), want, "{extra}");
            }
            assert_eq!(rng::uniform(&mut a), rng::uniform(&mut b));
        }
    }

    /// The number of categories: 1 + Poisson, capped; exactly one at `x = 1`.
    #[test]
    fn order_size_is_capped() {
        let mut r = rng::stream_of(3, Purpose::OrderCategories);
        for _ in 0..100 {
            assert_eq!(order_size(&mut r, rng::poisson_law(0.0).as_ref(), 4), 1);
            assert!(order_size(&mut r, rng::poisson_law(50.0).as_ref(), 4) <= 4);
        }
        let n = 20_000;
        let law = rng::poisson_law(0.7);
        let mean = (0..n)
            .map(|_| order_size(&mut r, law.as_ref(), 100) as f64)
            .sum::<f64>()
            / n as f64;
        // 1.7 ± 4 · √(0.7 / n)
        assert!(
            (mean - 1.7).abs() < 4.0 * (0.7f64 / n as f64).sqrt(),
            "{mean}"
        );
    }
}
