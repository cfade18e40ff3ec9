//! A partner's purchases of a period as settlement would see them: lines rounded to the
//! minor unit (split over orders, returns as negative lines) and the kernel's measures.

use super::setup::{Setup, NONE};
use super::work::{LineV, Work};
use crate::programme::Basis;
use crate::rules::{slot, PreparedRule};
use std::ops::Range;

/// `x` rounded half away from zero to an integer, without a libm call (the hot loop rounds
/// every purchase line to the minor unit).
#[inline]
pub(crate) fn round_half_up(x: f64) -> f64 {
    if x.abs() < 4.0e15 {
        // SAFETY: |x| < 4e15 is finite and well inside i64, so truncation cannot overflow
        // (this skips the saturating conversion's NaN and range checks)
        let t = unsafe { x.to_int_unchecked::<i64>() };
        let f = x - t as f64;
        (t + (f >= 0.5) as i64 - (f <= -0.5) as i64) as f64
    } else {
        x.round()
    }
}

/// Decimal places of a simulated line's quantity: quantities are whole numbers of millionths
/// of a unit, so that the exported transactions carry exactly the quantities the engine
/// measures (a unit price of 42 makes revenue / price a recurring decimal, which no finite
/// export could carry, and a per-unit amount on an exact tie would then round differently).
pub(crate) const QTY_DP: u32 = 6;
/// `10^QTY_DP`.
pub(crate) const QTY_SCALE: f64 = 1e6;

/// The quantity of a line of `cents > 0` minor units of revenue in millionths of a unit
/// (a whole number): `cents · qpm` rounded half up (`qpm`: [`PartnerConst::qpm`]); 0 without
/// a price.
#[inline(always)]
pub(crate) fn line_qty(cents: f64, qpm: f64) -> f64 {
    let x = cents * qpm;
    if x >= 0.5 {
        round_half_up_positive(x)
    } else {
        0.0 // x < 1/2, x <= 0 and NaN
    }
}

/// [`round_half_up`] of an `x > 0` (the same result, without the negative half's test).
///
/// For `1/2 <= x < 4e15` (< 2⁵²), `x + 1/2` truncated: `x` and `x + 1/2` are multiples of
/// `x`'s ulp (at most 1/2), exact within `x`'s binade `[2^e, 2^(e+1))`; the sum leaves it only
/// into `[2^(e+1), 2^(e+1) + 1/2)`, whose rounding stays below `2^(e+1) + 1` (or 2 for `e < 0`),
/// so the truncation is `⌊x + 1/2⌋`. Below 1/2 the sum can round up to 1 (0.49999999999999994).
#[inline]
pub(crate) fn round_half_up_positive(x: f64) -> f64 {
    debug_assert!(!(x <= 0.0));
    if (0.5..4.0e15).contains(&x) {
        // SAFETY: 1 <= x + 1/2 < 4e15 + 1 is finite and well inside i64
        (unsafe { (x + 0.5).to_int_unchecked::<i64>() }) as f64
    } else if x < 0.5 {
        0.0
    } else {
        x.round()
    }
}

impl Setup<'_> {
    /// The purchases of period `k` from `w.g` (+ stretch `w.x`): per line category the gross
    /// and the returned revenue in minor units (`w.agg[2j]`, `w.agg[2j + 1]`), the net revenue
    /// of each month in minor units (`w.pmonth`), with orders each month and category's minor
    /// units (`w.cells`) and each month and order group's minor units and millionths
    /// (`w.group_c`, `w.group_q`), and when lines are exported (`w.emit`) the lines themselves
    /// (appended to `w.lines`; with orders, split over them by [`Setup::push_order_lines`]).
    ///
    /// A month's purchase in a category is one line rounded to the minor unit; its returns
    /// are one negative line, the returns share of it rounded to the minor unit.
    pub(crate) fn period_purchases(&self, i: usize, k: usize, w: &mut Work) {
        if w.order_cats.on {
            return self.order_category_purchases(i, k, w);
        }
        let pc = &self.partners[i];
        let category_count = self.category_count;
        let share = self.segs[pc.seg].returns;
        let lines = w.emit || self.needs_orders;
        if category_count == 1 && !lines && share == 0.0 && !w.any_x {
            self.one_line_months(k, self.mix[i], pc.qpm, w);
            return;
        }
        if !w.emit {
            return self.lean_purchases(i, k, w);
        }
        // the scenario's mix (taken out of the work while its buffers are written)
        let drawn = std::mem::take(&mut w.pmix);
        let mix = self.mix_row(i, w.pmix_on.then_some(&drawn[..]));
        w.agg.iter_mut().for_each(|v| *v = 0.0);
        w.aggq.iter_mut().for_each(|v| *v = 0.0);
        // with orders, each month and category's minor units as a cell, split over the orders
        // only where the logistics measure needs it (`orders`) or when lines are exported
        let cells = self.needs_orders;
        if cells {
            w.cells.iter_mut().for_each(|v| *v = 0.0);
            w.group_c.iter_mut().for_each(|v| *v = 0.0);
            w.group_q.iter_mut().for_each(|v| *v = 0.0);
        }
        w.period_lines = 0;
        let m0 = k * self.months_per_period;
        for m in k * self.months_per_period..(k + 1) * self.months_per_period {
            w.pmonth[m] = 0.0;
            let gm = w.g[m];
            let xm = w.x[m];
            if gm <= 0.0 && xm <= 0.0 {
                continue;
            }
            for j in 0..category_count {
                let amount = gm * mix[j]
                    + if xm > 0.0 {
                        xm * w.xmix[k * category_count + j]
                    } else {
                        0.0
                    };
                if amount <= 0.0 {
                    continue;
                }
                let cents = round_half_up(amount * self.scale);
                if cents == 0.0 {
                    continue;
                }
                let cat = if self.cats.is_empty() { NONE } else { j as u32 };
                let qpm = self.line_qpm(i, j);
                let q = line_qty(cents, qpm);
                w.aggq[2 * j] += q;
                if lines {
                    // a line for settlement (split over orders or not: the split keeps the
                    // line's minor units, so a stretch top-up counts category lines)
                    w.period_lines += 1;
                }
                if cells {
                    w.cells[(m - m0) * category_count + j] = cents;
                    let g = (m - m0) * self.group_count + self.order_group[j] as usize;
                    w.group_c[g] += cents;
                    w.group_q[g] += q;
                } else if w.emit {
                    w.lines.push(LineV {
                        month: m as u32,
                        cat,
                        order: NONE,
                        r: cents / self.scale,
                        q,
                    });
                }
                let ret = if share > 0.0 {
                    round_half_up(cents * share)
                } else {
                    0.0
                };
                if ret != 0.0 {
                    let q = line_qty(ret, qpm);
                    w.aggq[2 * j + 1] += q;
                    if lines {
                        w.period_lines += 1;
                    }
                    if w.emit {
                        w.lines.push(LineV {
                            month: m as u32,
                            cat,
                            order: NONE,
                            r: -ret / self.scale,
                            q: -q,
                        });
                    }
                }
                w.agg[2 * j] += cents;
                w.agg[2 * j + 1] += ret;
                w.pmonth[m] += cents - ret;
            }
            if cells && w.emit {
                self.push_order_lines(i, m, m - m0, w);
            }
        }
        w.pmix = drawn;
    }

    /// [`Setup::period_purchases`] without exported lines (every run but an export): the same
    /// numbers, bit for bit, with the work's buffers borrowed apart so that the line loop
    /// ([`month_lines`]) keeps them in registers instead of reloading them after every store;
    /// the month and category cells are not written (only an export reads them).
    fn lean_purchases(&self, i: usize, k: usize, w: &mut Work) {
        w.agg.iter_mut().for_each(|v| *v = 0.0);
        w.aggq.iter_mut().for_each(|v| *v = 0.0);
        if self.needs_orders {
            w.group_c.iter_mut().for_each(|v| *v = 0.0);
            w.group_q.iter_mut().for_each(|v| *v = 0.0);
        }
        // a line for settlement (split over orders or not: the split keeps the line's minor
        // units, so a stretch top-up counts category lines)
        w.period_lines = self.lean_months(i, k, 0..self.months_per_period, w);
    }

    /// Months `mps` (of the period's, in order) of [`Setup::lean_purchases`]: their lines
    /// added to `w.agg`, `w.aggq` and the months' order group totals, `w.pmonth` set; returns
    /// the lines settlement would see (0 without orders). Before month `w.stretch_snap.at`,
    /// the period's sums so far are kept in `w.stretch_snap` (see [`super::stretch_window`]).
    #[inline(always)]
    pub(super) fn lean_months(&self, i: usize, k: usize, mps: Range<usize>, w: &mut Work) -> usize {
        let cc = self.category_count;
        let pc = &self.partners[i];
        let share = self.segs[pc.seg].returns;
        let cat_qpm = if self.cat_qpm.is_empty() {
            None
        } else {
            Some(&self.cat_qpm[i * cc..(i + 1) * cc])
        };
        let orders = self.needs_orders;
        let (mpp, groups) = (self.months_per_period, self.group_count);
        let Work {
            agg,
            aggq,
            group_c,
            group_q,
            pmonth,
            g,
            x,
            xmix,
            stretch_snap,
            pmix,
            pmix_on,
            ..
        } = w;
        let mix = self.mix_row(i, pmix_on.then_some(&pmix[..]));
        let xmix = &xmix[k * cc..(k + 1) * cc];
        let line = LineConst {
            mix,
            xmix,
            qpm: pc.qpm,
            cat_qpm,
            share,
            scale: self.scale,
        };
        let mut count = 0;
        for mp in mps {
            if mp == stretch_snap.at {
                stretch_snap.keep(k, agg, aggq, count);
            }
            let m = k * mpp + mp;
            let (gm, xm) = (g[m], x[m]);
            pmonth[m] = if gm <= 0.0 && xm <= 0.0 {
                0.0
            } else {
                let month_groups = if orders {
                    Some((
                        &self.order_group[..],
                        &mut group_c[mp * groups..(mp + 1) * groups],
                        &mut group_q[mp * groups..(mp + 1) * groups],
                    ))
                } else {
                    None
                };
                let (net, n) = month_lines(gm, xm, &line, agg, aggq, month_groups);
                count += n;
                net
            };
        }
        count * usize::from(orders)
    }

    /// [`Setup::period_purchases`]'s common case: one line a month (one category, no lines
    /// kept), no returns, no stretch purchase.
    #[inline(always)]
    fn one_line_months(&self, k: usize, mix0: f64, qpm: f64, w: &mut Work) {
        let scale = self.scale;
        let mut total = 0.0;
        let mut qty = 0.0;
        let months = k * self.months_per_period..(k + 1) * self.months_per_period;
        for (p, &g) in w.pmonth[months.clone()].iter_mut().zip(&w.g[months]) {
            let amount = g * mix0;
            let cents = if amount > 0.0 {
                round_half_up_positive(amount * scale)
            } else {
                0.0
            };
            *p = cents;
            total += cents;
            qty += line_qty(cents, qpm);
        }
        w.agg[0] = total;
        w.agg[1] = 0.0;
        w.aggq[0] = qty;
        w.aggq[1] = 0.0;
        w.period_lines = 0;
    }

    /// Measure period `k` (from `w.agg`, and for logistics from the period's lines
    /// `w.lines[from..]`) into the kernel's measures, as settlement measures lines.
    pub(crate) fn measure_period(&self, i: usize, k: usize, from: usize, w: &mut Work) {
        let prep = &self.prep;
        let category_count = self.category_count;
        let active = &self.active[i * self.component_count..(i + 1) * self.component_count];
        for (c, comp) in prep.components.iter().enumerate() {
            let base = comp.offset + k * comp.slots;
            let slots = &mut w.measures[base..base + comp.slots];
            if let Ok(b) = <&mut [f64; slot::BASE]>::try_from(&mut *slots) {
                // the common three slots as stores, not a memset call per component
                *b = [0.0; slot::BASE];
            } else {
                slots.iter_mut().for_each(|v| *v = 0.0);
            }
            if !active[c] {
                continue;
            }
            let category_slot = &self.category_scope[c * category_count..(c + 1) * category_count];
            if !matches!(comp.rule, PreparedRule::Logistics { .. }) {
                let Work {
                    measures,
                    agg,
                    aggq,
                    ..
                } = &mut *w;
                let m = &mut measures[base..base + comp.slots];
                self.measure_sums(c, &comp.rule, category_slot, agg, aggq, m);
                continue;
            }
            match &comp.rule {
                PreparedRule::Logistics { .. } if w.emit || w.order_cats.on => {
                    self.measure_orders(c, k, from, category_slot, base, w)
                }
                _ => self.measure_order_cells(c, k, base, w),
            }
        }
    }

    /// The measures `m` (one period's slots) of component `c`, a ladder, growth, per-unit or
    /// bundle rule of category slots `category_slot`, from the period's per-category gross and
    /// returned minor units `agg` and millionths `aggq` (as [`Setup::measure_period`] describes).
    #[inline(always)]
    fn measure_sums(
        &self,
        c: usize,
        rule: &PreparedRule<f64>,
        category_slot: &[Option<u32>],
        agg: &[f64],
        aggq: &[f64],
        m: &mut [f64],
    ) {
        let category_count = self.category_count;
        let (agg, aggq) = (&agg[..2 * category_count], &aggq[..2 * category_count]);
        let net = !self.gross[c];
        let cents_of = |j: usize| {
            if net {
                agg[2 * j] - agg[2 * j + 1]
            } else {
                agg[2 * j]
            }
        };
        // the quantity, in millionths of a unit, beside it
        let qty_of = |j: usize| {
            if net {
                aggq[2 * j] - aggq[2 * j + 1]
            } else {
                aggq[2 * j]
            }
        };
        match rule {
            PreparedRule::Ladder { .. }
            | PreparedRule::Growth { .. }
            | PreparedRule::PerUnit { .. } => {
                let (mut cents, mut qty) = (0.0, 0.0);
                for (j, s) in category_slot.iter().enumerate() {
                    if s.is_some() {
                        cents += cents_of(j);
                        qty += qty_of(j);
                    }
                }
                let r = cents / self.scale;
                let q = qty / QTY_SCALE;
                // a per-unit rule's volume is always its units
                let revenue_volume = matches!(
                    rule,
                    PreparedRule::Ladder {
                        basis: Basis::Revenue,
                        ..
                    } | PreparedRule::Growth {
                        basis: Basis::Revenue,
                        ..
                    }
                );
                m[slot::VOLUME] = if revenue_volume { r } else { q };
                m[slot::REVENUE] = r;
                m[slot::UNITS] = q;
            }
            PreparedRule::Bundle { basis, .. } => {
                let rev = *basis == Basis::Revenue;
                let (mut cents, mut qty) = (0.0, 0.0);
                for (j, s) in category_slot.iter().enumerate() {
                    let Some(b) = *s else { continue };
                    if self.cats.is_empty() {
                        continue;
                    }
                    let (cj, qj) = (cents_of(j), qty_of(j));
                    cents += cj;
                    qty += qj;
                    let r = cj / self.scale;
                    let v = if rev { r } else { qj / QTY_SCALE };
                    m[slot::bundle_volume(b as usize)] = v;
                    m[slot::bundle_revenue(b as usize)] = r;
                }
                let r = cents / self.scale;
                let q = qty / QTY_SCALE;
                m[slot::VOLUME] = if rev { r } else { q };
                m[slot::REVENUE] = r;
                m[slot::UNITS] = q;
            }
            PreparedRule::Logistics { .. } => unreachable!("measured from orders"),
        }
    }

    /// The measures of logistics component `c` in period `k` (at `base` in `w.measures`): the
    /// number of the period's orders (lines `w.lines[from..]` in the component's categories,
    /// `category_slot`) that qualify, their revenue and their units. Used when lines are
    /// exported; otherwise [`Setup::measure_order_cells`] measures the same without lines.
    pub(crate) fn measure_orders(
        &self,
        c: usize,
        k: usize,
        from: usize,
        category_slot: &[Option<u32>],
        base: usize,
        w: &mut Work,
    ) {
        // orders of this period, month by month; returns lines are their own orders with a
        // negative quantity and never qualify; revenue in minor units. Order `o` of month `m`
        // is `w.order_off[m] + o` (each month's orders have their own range of `w.order_w`):
        // one pass over the lines adds each line to its order, in the lines' order
        let months = k * self.months_per_period..(k + 1) * self.months_per_period;
        let all = w.order_w.len();
        // the work's buffers borrowed apart (so that a store to one does not reload the others)
        let Work {
            ord_q,
            ord_r,
            order_drawn,
            order_off,
            order_end,
            lines,
            measures,
            ..
        } = w;
        ord_q.resize(all, 0.0);
        ord_r.resize(all, 0.0);
        let (ord_q, ord_r) = (&mut ord_q[..], &mut ord_r[..]);
        for m in months.clone() {
            if order_drawn[m] {
                let (a, b) = (order_off[m], order_end[m]);
                ord_q[a..b].iter_mut().for_each(|v| *v = 0.0);
                ord_r[a..b].iter_mut().for_each(|v| *v = 0.0);
            }
        }
        for l in &lines[from..] {
            let m = l.month as usize;
            if l.order == NONE || !months.contains(&m) || !order_drawn[m] {
                continue;
            }
            let j = if l.cat == NONE { 0 } else { l.cat as usize };
            if category_slot[j].is_none() {
                continue;
            }
            let o = order_off[m] + l.order as usize;
            ord_q[o] += l.q;
            // in minor units (a line's revenue is its minor units / the minor unit), so
            // the sums are exact whatever the order they are added in
            ord_r[o] += round_half_up(l.r * self.scale);
        }
        // order quantities in millionths of a unit (whole numbers)
        let (mut n, mut r, mut q) = (0.0, 0.0, 0.0);
        for m in months {
            if !order_drawn[m] {
                continue; // no purchase this month
            }
            let (a, b) = (order_off[m], order_end[m]);
            for (&oq, &or) in ord_q[a..b].iter().zip(&ord_r[a..b]) {
                if oq != 0.0 && self.prep.order_qualifies(c, oq / QTY_SCALE) {
                    n += 1.0;
                    r += or;
                    q += oq;
                }
            }
        }
        measures[base + slot::VOLUME] = n;
        measures[base + slot::REVENUE] = r / self.scale;
        measures[base + slot::UNITS] = q / QTY_SCALE;
    }

    /// Purchases and measures of period `k` (its lines start at `from` in `w.lines`).
    #[inline]
    pub(crate) fn period(&self, i: usize, k: usize, from: usize, w: &mut Work) {
        w.lines.truncate(from);
        self.period_purchases(i, k, w);
        self.measure_period(i, k, from, w);
        if w.actual_on {
            self.add_actual_measures(k, w);
        }
    }
}

/// A partner's per-line constants for [`month_lines`]: its category shares `mix`, the period's
/// stretch shares `xmix`, its units per minor unit `qpm` (times `cat_qpm[j]` by category when
/// the categories have their own units, [`Setup::line_qpm`]), its returns share and the
/// minor units per unit of currency.
struct LineConst<'a> {
    mix: &'a [f64],
    xmix: &'a [f64],
    qpm: f64,
    cat_qpm: Option<&'a [f64]>,
    share: f64,
    scale: f64,
}

/// One month's category lines (demand `gm`, stretch purchase `xm`) as
/// [`Setup::period_purchases`] makes them: each category's line rounded to the minor unit,
/// its returns line, both added to the period's `agg` (minor units) and `aggq` (millionths),
/// and with orders (`groups`: each category's order group and the month's group totals) to
/// the month's order group totals. Returns the month's net minor units and its lines.
#[inline(always)]
fn month_lines(
    gm: f64,
    xm: f64,
    l: &LineConst,
    agg: &mut [f64],
    aggq: &mut [f64],
    mut groups: Option<(&[u32], &mut [f64], &mut [f64])>,
) -> (f64, usize) {
    let n = l.mix.len();
    let (xmix, agg, aggq) = (&l.xmix[..n], &mut agg[..2 * n], &mut aggq[..2 * n]);
    let (mut net, mut count) = (0.0, 0);
    for (j, &mj) in l.mix.iter().enumerate() {
        let amount = gm * mj + if xm > 0.0 { xm * xmix[j] } else { 0.0 };
        if amount <= 0.0 {
            continue;
        }
        // amount > 0 (or NaN), so amount · scale too: the positive rounding, the same bits
        let cents = round_half_up_positive(amount * l.scale);
        if cents == 0.0 {
            continue;
        }
        let qpm = match l.cat_qpm {
            None => l.qpm,
            Some(cq) => l.qpm * cq[j],
        };
        let q = line_qty(cents, qpm);
        aggq[2 * j] += q;
        count += 1;
        if let Some((group_of, gc, gq)) = groups.as_mut() {
            let g = group_of[j] as usize;
            gc[g] += cents;
            gq[g] += q;
        }
        let ret = if l.share > 0.0 {
            round_half_up_positive(cents * l.share)
        } else {
            0.0
        };
        if ret != 0.0 {
            aggq[2 * j + 1] += line_qty(ret, qpm);
            count += 1;
        }
        agg[2 * j] += cents;
        agg[2 * j + 1] += ret;
        net += cents - ret;
    }
    (net, count)
}

/// Split `cents` (a month's purchase in a category, in minor units) over orders of shares
/// `weights` (summing to 1) to the minor unit: each order gets its share rounded down, then the
/// minor units left go one each to the largest remainders (ties to the first order). `tmp`
/// receives (remainder, minor units) per order; `idx` is scratch.
///
/// The units left are fewer than the orders in exact arithmetic; an amount beyond f64's exact
/// integers (2^53 minor units, e.g. a conditioned forecast scaling a partner's demand by a huge
/// actual) can make the rounded difference anything (it saturated at i64::MAX, a loop of 9e18
/// steps: the campaign's `hang-logistics-forecast`), so it is bounded by the number of orders,
/// and the largest remainders are found by one sort (n log n, was n per unit handed out).
/// One unit left (or all but one) is found in one pass, a few orders are ranked by counting.
pub(crate) fn split_over_orders(
    cents: f64,
    weights: &[f64],
    tmp: &mut Vec<(f64, f64)>,
    idx: &mut Vec<u32>,
) {
    tmp.clear();
    let mut given = 0.0;
    tmp.extend(weights.iter().map(|&wo| {
        let exact = cents * wo;
        let fl = floor_nonneg(exact);
        given += fl;
        (exact - fl, fl)
    }));
    // `round_half_up` is `round` but for the sign of a zero, which `left > 0` ignores
    let left = round_half_up(cents - given);
    let left = if left > 0.0 {
        // NaN and negatives end as 0 above; +inf and huge values as the number of orders
        (left.min(tmp.len() as f64)) as usize
    } else {
        0
    };
    if left == 0 {
        return;
    }
    let n = tmp.len();
    if left == n {
        tmp.iter_mut().for_each(|t| t.1 += 1.0);
        return;
    }
    if n <= RANK_ORDERS {
        // a few orders (the usual case), in the order of the sort below (larger remainder
        // first, ties to the first order), on the remainders' `total_cmp` keys
        let mut key = [0i64; RANK_ORDERS];
        for (k, t) in key.iter_mut().zip(tmp.iter()) {
            *k = total_key(t.0);
        }
        let key = &key[..n];
        if left == 1 {
            // the first of the largest remainders
            let mut best = 0;
            for (t, &k) in key.iter().enumerate().skip(1) {
                if k > key[best] {
                    best = t;
                }
            }
            tmp[best].1 += 1.0;
            return;
        }
        if left == n - 1 {
            // every order but the last of the smallest remainders
            let mut worst = 0;
            for (t, &k) in key.iter().enumerate().skip(1) {
                if k <= key[worst] {
                    worst = t;
                }
            }
            for (t, x) in tmp.iter_mut().enumerate() {
                if t != worst {
                    x.1 += 1.0;
                }
            }
            return;
        }
        // each order's rank among the remainders, counted without sorting (and without a
        // branch on the comparison); the orders ranked below `left` get a unit
        let mut rank = [0u8; RANK_ORDERS];
        for x in 0..n {
            let kx = key[x];
            let mut rx = 0u8;
            for y in x + 1..n {
                // y > x: y ranks before x only on a strictly larger remainder
                let before = (key[y] > kx) as u8;
                rx += before;
                rank[y] += 1 - before;
            }
            rank[x] += rx;
        }
        for (t, r) in tmp.iter_mut().zip(&rank) {
            if (*r as usize) < left {
                t.1 += 1.0;
            }
        }
        return;
    }
    idx.clear();
    idx.extend(0..n as u32);
    idx.sort_unstable_by(|&x, &y| {
        tmp[y as usize]
            .0
            .total_cmp(&tmp[x as usize].0)
            .then(x.cmp(&y))
    });
    for &t in &idx[..left] {
        tmp[t as usize].1 += 1.0;
    }
}

/// A key of `x` whose integer order is `f64::total_cmp`'s order of the doubles.
#[inline(always)]
fn total_key(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    b ^ ((((b >> 63) as u64) >> 1) as i64)
}

/// Orders up to which [`split_over_orders`] ranks the remainders by counting instead of sorting.
const RANK_ORDERS: usize = 24;

/// `x.floor()` of an `x ≥ 0` (or NaN) without a libm call: truncation is the floor of a
/// non-negative number; beyond 2⁵² every double is a whole number already.
#[inline(always)]
pub(crate) fn floor_nonneg(x: f64) -> f64 {
    if (0.0..4.0e15).contains(&x) {
        // SAFETY: 0 <= x < 4e15 is finite and well inside i64
        (unsafe { x.to_int_unchecked::<i64>() }) as f64
    } else {
        x.floor()
    }
}

#[cfg(test)]
mod split_tests {
    use super::split_over_orders;

    /// The one-by-one method it replaces.
    fn old(cents: f64, weights: &[f64]) -> Vec<f64> {
        let mut tmp: Vec<(f64, f64)> = Vec::new();
        let mut given = 0.0;
        for &wo in weights {
            let exact = cents * wo;
            let fl = exact.floor();
            given += fl;
            tmp.push((exact - fl, fl));
        }
        let mut left = (cents - given).round() as i64;
        while left > 0 {
            let mut best = 0;
            for (t, x) in tmp.iter().enumerate() {
                if x.0 > tmp[best].0 {
                    best = t;
                }
            }
            tmp[best].0 = -1.0;
            tmp[best].1 += 1.0;
            left -= 1;
        }
        tmp.iter().map(|x| x.1).collect()
    }

    fn new(cents: f64, weights: &[f64]) -> Vec<f64> {
        let (mut tmp, mut idx) = (Vec::new(), Vec::new());
        split_over_orders(cents, weights, &mut tmp, &mut idx);
        tmp.iter().map(|x| x.1).collect()
    }

    #[test]
    fn same_split_as_one_unit_at_a_time() {
        let mut r = crate::rng::stream_of(7, crate::rng::Purpose::Orders);
        for n in [1usize, 2, 3, 7, 40, 1000] {
            for _ in 0..20 {
                let mut w: Vec<f64> = (0..n)
                    .map(|_| (0.5 * crate::rng::normal(&mut r)).exp())
                    .collect();
                let s: f64 = w.iter().sum();
                w.iter_mut().for_each(|v| *v /= s);
                let cents = (crate::rng::uniform(&mut r) * 1e9).round();
                let got = new(cents, &w);
                assert_eq!(got, old(cents, &w), "{n} orders, {cents}");
                assert_eq!(got.iter().sum::<f64>(), cents);
            }
        }
        // ties go to the first order
        assert_eq!(new(5.0, &[0.25; 4]), vec![2.0, 1.0, 1.0, 1.0]);
        assert_eq!(new(7.0, &[0.25; 4]), vec![2.0, 2.0, 2.0, 1.0]);
    }

    /// Every number of units left (one, all but one, the counted ranks) over a few orders,
    /// with tied remainders: the same split as one unit at a time.
    #[test]
    fn few_orders_with_ties_split_as_one_unit_at_a_time() {
        let shapes: [&[f64]; 5] = [
            &[0.25, 0.25, 0.25, 0.25],
            &[0.2, 0.3, 0.2, 0.3],
            &[0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.1],
            &[0.5, 0.25, 0.25],
            &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
        ];
        let mut lefts = std::collections::BTreeSet::new();
        for w in shapes {
            for cents in 0..200 {
                let cents = cents as f64;
                let got = new(cents, w);
                assert_eq!(got, old(cents, w), "{cents} over {w:?}");
                let floors: f64 = w.iter().map(|x| (cents * x).floor()).sum();
                lefts.insert((w.len(), (cents - floors) as usize));
            }
        }
        for n in [3, 4, 8] {
            for left in 1..n {
                assert!(lefts.contains(&(n, left)), "{left} of {n} not exercised");
            }
        }
    }

    /// Amounts beyond f64's exact integers: the old loop ran i64::MAX steps.
    #[test]
    fn huge_and_non_finite_amounts_end() {
        let w = [0.3, 0.3, 0.4];
        for cents in [1e19, 4e30, 1e300, f64::MAX, f64::INFINITY, f64::NAN] {
            let got = new(cents, &w);
            assert_eq!(got.len(), 3);
        }
    }
}

#[cfg(test)]
mod rounding_tests {
    use super::{round_half_up, round_half_up_positive};

    #[test]
    fn positive_rounding_agrees_with_half_up() {
        let mut xs = vec![
            1e-300,
            0.25,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            4.0e15 - 0.5,
            4.0e15,
            1e17,
        ];
        let mut x: f64 = 0.001;
        while x < 1e16 {
            xs.extend([x, x + 0.5, (x + 0.5).floor() + 0.5]);
            x *= 1.37;
        }
        // around every binade's top, where `x + 1/2` leaves the binade, and around halves
        for e in -2..53 {
            let top = 2f64.powi(e);
            for c in [top - 0.5, top, top + 0.5, top - 1.0, 0.5 * top + 0.5] {
                let mut v = c;
                for _ in 0..4 {
                    v = v.next_down();
                }
                for _ in 0..9 {
                    if v > 0.0 {
                        xs.push(v);
                    }
                    v = v.next_up();
                }
            }
        }
        for x in xs {
            assert_eq!(
                round_half_up_positive(x).to_bits(),
                round_half_up(x).to_bits(),
                "{x}"
            );
        }
    }
}
