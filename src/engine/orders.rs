//! A month's category line split over the month's orders, and the logistics measure without
//! materialising the period's order lines.
//!
//! A month's purchase in a category is one line of `cents` minor units and `qty` millionths
//! of a unit ([`line_qty`]); with orders it is split over them: its minor units by largest
//! remainder in proportion to the orders' sizes, its millionths by largest remainder in
//! proportion to the orders' shares of those minor units ([`split_line`]). So a month's
//! revenue and units never depend on the split, and only the logistics measure (which orders
//! reach a minimum quantity) needs it: [`Setup::measure_order_cells`] splits the months where
//! some order could qualify and no other, with the same numbers as measuring every order line.

use super::purchases::{line_qty, split_over_orders, QTY_SCALE};
use super::setup::Setup;
use super::work::Work;
use crate::rules::{slot, PreparedRule};

/// Scratch of [`split_line`]: after a call, order `t`'s minor units are `rev[t].1` and its
/// millionths of a unit `qty[t].1`.
#[derive(Debug, Default)]
pub(crate) struct Split {
    pub(crate) rev: Vec<(f64, f64)>,
    pub(crate) qty: Vec<(f64, f64)>,
    weights: Vec<f64>,
    idx: Vec<u32>,
}

impl Split {
    /// Whether order `t` has a line (minor units or millionths of a unit).
    #[inline]
    pub(crate) fn has_line(&self, t: usize) -> bool {
        self.rev[t].1 != 0.0 || self.qty[t].1 != 0.0
    }
}

/// Split a line of `cents` minor units and `qty` millionths of a unit over orders of shares
/// `weights` (summing to 1): the minor units by [`split_over_orders`], then the millionths the
/// same way in proportion to each order's minor units (an order without any gets none).
pub(crate) fn split_line(cents: f64, qty: f64, weights: &[f64], s: &mut Split) {
    split_over_orders(cents, weights, &mut s.rev, &mut s.idx);
    s.weights.clear();
    s.weights.extend(s.rev.iter().map(|&(_, oc)| oc / cents));
    split_over_orders(qty, &s.weights, &mut s.qty, &mut s.idx);
}

impl Setup<'_> {
    /// The measures of logistics component `c` in period `k` (at `base` in `w.measures`) from
    /// the period's cells (`w.cells`, each month and category's minor units): the number of the
    /// period's orders in the component's categories (`category_slot`) whose quantity reaches
    /// the component's minimum, their revenue and their units. A month where no order could
    /// qualify even with the largest order's share of every in-scope line plus a whole unit
    /// left over (an upper bound on any order's quantity) is not split; the other months'
    /// orders are measured exactly as [`Setup::measure_orders`] measures their lines.
    pub(crate) fn measure_order_cells(
        &self,
        i: usize,
        c: usize,
        k: usize,
        category_slot: &[Option<u32>],
        base: usize,
        w: &mut Work,
    ) {
        let PreparedRule::Logistics { min_quantity, .. } = &self.prep.components[c].rule else {
            unreachable!("measure_order_cells of a logistics component");
        };
        let min_q = *min_quantity;
        let category_count = self.category_count;
        // the largest of the partner's lines' units per revenue bounds every line's
        let qpm = (0..category_count)
            .map(|j| self.line_qpm(i, j))
            .fold(0.0, f64::max);
        let first_month = k * self.months_per_period;
        let (mut n, mut r, mut q) = (0.0, 0.0, 0.0);
        for mp in 0..self.months_per_period {
            let m = first_month + mp;
            // an order's millionths of a line of `cents` minor units and `qty` millionths are
            // at most `qty · (w + 1/cents) + 1` (its minor units are at most `cents · w + 1`)
            // for its share `w` of the month, and `qty` (`cents · qpm` rounded) is at most
            // `cents · qpm + 1/2`, so `qty / cents` at most `qpm + 1/2`: at most
            // `(cents · qpm + 1/2) · w + qpm + 3/2`, summed over the month's lines; a margin far
            // above the floating-point error of these few operations. First with `w = 1` (any
            // order, before they are drawn), then with the largest order's share
            let cells = &w.cells[mp * category_count..(mp + 1) * category_count];
            let (mut cents, mut lines) = (0.0, 0.0);
            for (j, &cj) in cells.iter().enumerate() {
                if category_slot[j].is_some() && cj != 0.0 {
                    cents += cj;
                    lines += 1.0;
                }
            }
            let qty = cents * qpm + 0.5 * lines;
            let could_qualify = |largest: f64| {
                let bound = qty * largest + lines * (qpm + 1.5);
                (bound * (1.0 + 1e-9) + 1.0) / QTY_SCALE >= min_q
            };
            if lines == 0.0 || !could_qualify(1.0) {
                continue;
            }
            let (a, b) = self.orders_of(m, w);
            let largest = w.order_w[a..b].iter().copied().fold(0.0, f64::max);
            if !could_qualify(largest) {
                continue;
            }
            let cells = &w.cells[mp * category_count..(mp + 1) * category_count];
            let orders = b - a;
            w.ord_q.clear();
            w.ord_q.resize(orders, 0.0);
            w.ord_r.clear();
            w.ord_r.resize(orders, 0.0);
            for (j, &cj) in cells.iter().enumerate() {
                if category_slot[j].is_none() || cj == 0.0 {
                    continue;
                }
                split_line(cj, line_qty(cj, self.line_qpm(i, j)), &w.order_w[a..b], &mut w.split);
                // an order without a line adds +0 to sums that are +0 or more: no change, so
                // every order adds its share without a test
                let parts = w.split.rev.iter().zip(&w.split.qty);
                for ((oq, or), (rev, qty)) in w.ord_q.iter_mut().zip(w.ord_r.iter_mut()).zip(parts)
                {
                    *oq += qty.1;
                    *or += rev.1 / self.scale;
                }
            }
            for (&oq, &or) in w.ord_q.iter().zip(&w.ord_r) {
                if oq != 0.0 && self.prep.order_qualifies(c, oq / QTY_SCALE) {
                    n += 1.0;
                    r += or;
                    q += oq;
                }
            }
        }
        w.measures[base + slot::VOLUME] = n;
        w.measures[base + slot::REVENUE] = r;
        w.measures[base + slot::UNITS] = q / QTY_SCALE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demand::Model;
    use crate::population::Population;
    use crate::programme::Programme;
    use crate::rng::{self, Purpose};

    /// A line split over orders keeps its minor units and millionths exactly, and an order
    /// without minor units gets no millionths.
    #[test]
    fn a_split_line_keeps_its_revenue_and_units() {
        let mut r = rng::stream_of(11, Purpose::Orders);
        let mut s = Split::default();
        for n in [1usize, 2, 3, 6, 10, 30, 40] {
            for _ in 0..200 {
                let mut w: Vec<f64> = (0..n).map(|_| (0.8 * rng::normal(&mut r)).exp()).collect();
                let sum: f64 = w.iter().sum();
                w.iter_mut().for_each(|v| *v /= sum);
                let cents = (rng::uniform(&mut r)
                    * 10f64.powi((rng::uniform(&mut r) * 8.0) as i32))
                .round()
                .max(1.0);
                let qty = line_qty(cents, 1e6 / (42.0 * 100.0));
                split_line(cents, qty, &w, &mut s);
                assert_eq!(s.rev.iter().map(|t| t.1).sum::<f64>(), cents);
                assert_eq!(s.qty.iter().map(|t| t.1).sum::<f64>(), qty);
                for t in 0..n {
                    if s.rev[t].1 == 0.0 {
                        assert_eq!(s.qty[t].1, 0.0, "{cents} over {n}");
                    }
                }
            }
        }
    }

    /// The logistics measure from the cells (months not split where no order can qualify)
    /// is the measure of the order lines, bit for bit, with and without a stretch purchase,
    /// on both bundled workloads with logistics.
    #[test]
    fn cells_measure_what_the_lines_measure() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        for dir in ["distributor", "bench_real"] {
            let d = root.join(dir);
            let p = Programme::from_file(d.join("programme.toml"))
                .and_then(|p| p.compile())
                .unwrap();
            let pop = Population::from_csv_path(d.join("partners.csv")).unwrap();
            let model = Model::from_file(d.join("model.toml")).unwrap();
            let setup = Setup::new(&p, &pop, &model).unwrap();
            assert!(setup.needs_orders);
            let (mut a, mut b) = (Work::new(&setup), Work::new(&setup));
            let (mut qualifying, mut stretches) = (0.0, 0);
            for s in 0..2u64 {
                setup.scenario_factors(5, s, &mut a);
                setup.scenario_factors(5, s, &mut b);
                let sk = rng::scenario_key(5, s);
                for i in (0..setup.partners.len()).step_by(3) {
                    setup.demand(sk, i, &mut a);
                    setup.demand(sk, i, &mut b);
                    for with_stretch in [false, true] {
                        a.g.copy_from_slice(&a.base);
                        b.g.copy_from_slice(&b.base);
                        let key = rng::partner_key(sk, i as u64);
                        let (mut ra, mut rb) = (
                            rng::stream_of(key, Purpose::Stretch),
                            rng::stream_of(key, Purpose::Stretch),
                        );
                        let mut sink = Vec::new();
                        let oa =
                            setup.run_partner(i, &mut a, with_stretch.then_some(&mut ra), None);
                        let ob = setup.run_partner(
                            i,
                            &mut b,
                            with_stretch.then_some(&mut rb),
                            Some(&mut sink),
                        );
                        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&a.measures), bits(&b.measures), "{dir} s{s} p{i}");
                        assert_eq!(oa.revenue.to_bits(), ob.revenue.to_bits());
                        assert_eq!(oa.stretches, ob.stretches);
                        let last = setup.period_count - 1;
                        assert_eq!(
                            a.scratch.total(last).to_bits(),
                            b.scratch.total(last).to_bits()
                        );
                        stretches += oa.stretches;
                        for comp in &setup.prep.components {
                            if matches!(comp.rule, PreparedRule::Logistics { .. }) {
                                for k in 0..setup.period_count {
                                    qualifying += a.measures[comp.offset + k * comp.slots];
                                }
                            }
                        }
                    }
                }
            }
            assert!(qualifying > 0.0, "{dir}: no qualifying order");
            assert!(stretches > 0, "{dir}: no stretch purchase");
        }
    }
}
