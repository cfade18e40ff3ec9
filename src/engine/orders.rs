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
    /// left over (an upper bound on any order's quantity) is not split, nor is a month whose
    /// orders all surely qualify ([`Setup::every_order_qualifies`]); the other months' orders
    /// are measured exactly as [`Setup::measure_orders`] measures their lines. Revenue is
    /// added up in minor units (exact) and divided by the minor unit once, as there.
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
        // qualifying orders: their number, minor units and millionths of a unit (whole numbers,
        // so their sums do not depend on the order they are added in)
        let mut acc = [0.0; 3];
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
            let spread = lines * (qpm + 1.5);
            if !self.every_order_qualifies(i, c, mp, category_slot, (a, b), spread, w, &mut acc) {
                self.split_month(i, c, mp, category_slot, (a, b), w, &mut acc);
            }
        }
        w.measures[base + slot::VOLUME] = acc[0];
        w.measures[base + slot::REVENUE] = acc[1] / self.scale;
        w.measures[base + slot::UNITS] = acc[2] / QTY_SCALE;
    }

    /// Whether every one of month `mp`'s orders `w.order_w[a..b]` surely reaches logistics
    /// component `c`'s minimum, decided without splitting the month's lines; if so, adds them
    /// to `acc` (number, minor units, millionths): all the month's in-scope minor units and
    /// millionths, which the splits keep exactly. Order `t` of share `w_t` gets at most one
    /// minor unit more or less than `cents · w_t` of each line, hence at most `qty / cents + 1`
    /// millionths more or less than `qty · w_t`: its millionths are within `spread` (the sum
    /// over the lines, at most `lines · (qpm + 3/2)`) of `w_t` times the month's, and a relative
    /// margin of 1e-9 covers the floating-point error of these few operations.
    #[allow(clippy::too_many_arguments)]
    fn every_order_qualifies(
        &self,
        i: usize,
        c: usize,
        mp: usize,
        category_slot: &[Option<u32>],
        (a, b): (usize, usize),
        spread: f64,
        w: &Work,
        acc: &mut [f64; 3],
    ) -> bool {
        let category_count = self.category_count;
        let cells = &w.cells[mp * category_count..(mp + 1) * category_count];
        let (mut cents, mut qty) = (0.0, 0.0);
        for (j, &cj) in cells.iter().enumerate() {
            if category_slot[j].is_some() && cj != 0.0 {
                cents += cj;
                qty += line_qty(cj, self.line_qpm(i, j));
            }
        }
        // far inside f64's exact integers, where the splits keep every line's total exactly:
        // the shares' sum is 1 within (orders + 1) roundings, so the floors' sum stays within a
        // line's total when (total · orders) is well below 2^53
        if !((cents + qty) * ((b - a) as f64 + 2.0) < 1e14) {
            return false;
        }
        for &wt in &w.order_w[a..b] {
            let low = (qty * wt - spread) * (1.0 - 1e-9) - 1.0;
            if !(low >= 1.0 && self.prep.order_qualifies(c, low / QTY_SCALE)) {
                return false;
            }
        }
        acc[0] += (b - a) as f64;
        acc[1] += cents;
        acc[2] += qty;
        true
    }

    /// Month `mp`'s in-scope lines split over its orders `w.order_w[a..b]`, and the orders
    /// that reach logistics component `c`'s minimum added to `acc` (number, minor units,
    /// millionths), as [`Setup::measure_orders`] measures the order lines.
    #[allow(clippy::too_many_arguments)]
    fn split_month(
        &self,
        i: usize,
        c: usize,
        mp: usize,
        category_slot: &[Option<u32>],
        (a, b): (usize, usize),
        w: &mut Work,
        acc: &mut [f64; 3],
    ) {
        let category_count = self.category_count;
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
            for ((oq, or), (rev, qty)) in w.ord_q.iter_mut().zip(w.ord_r.iter_mut()).zip(parts) {
                *oq += qty.1;
                *or += rev.1;
            }
        }
        for (&oq, &or) in w.ord_q.iter().zip(&w.ord_r) {
            if oq != 0.0 && self.prep.order_qualifies(c, oq / QTY_SCALE) {
                acc[0] += 1.0;
                acc[1] += or;
                acc[2] += oq;
            }
        }
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

    /// Months whose orders all surely reach the minimum are measured without a split, with
    /// the numbers of the order lines: every order counted, the month's whole minor units and
    /// millionths; and the months around the minimum still split, to the same numbers.
    #[test]
    fn months_where_every_order_qualifies_measure_what_the_lines_measure() {
        use crate::programme::Format;
        let p = Programme::from_str(
            "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n\
             categories = [\"a\", \"b\"]\n\
             [[components]]\nid = \"pallet\"\nkind = \"logistics\"\nmin_quantity = 40\npercent = 1\n",
            Format::Toml,
            None,
        )
        .unwrap()
        .compile()
        .unwrap();
        let mut csv = String::from("partner_id,segment,baseline_revenue,unit_price\n");
        // 12,000 units a year in 3 equal orders a month: 333 an order, far above 40, for the
        // first; about 40 an order for the others (split where they could straddle it)
        for (i, b) in [120_000.0, 14_400.0, 14_000.0, 15_000.0].iter().enumerate() {
            csv.push_str(&format!("P{i},s,{b},10\n"));
        }
        let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
        let model = Model::from_str(
            "[noise]\nsigma = 0.2\n[orders]\nper_month = 3\npoisson = false\nsize_sigma = 0\n\
             [economics]\ncategory_mix = { a = 0.7, b = 0.3 }\n",
            Format::Toml,
            None,
        )
        .unwrap();
        let setup = Setup::new(&p, &pop, &model).unwrap();
        let (mut a, mut b) = (Work::new(&setup), Work::new(&setup));
        let mut counts = Vec::new();
        for s in 0..4u64 {
            setup.scenario_factors(3, s, &mut a);
            setup.scenario_factors(3, s, &mut b);
            let sk = rng::scenario_key(3, s);
            for i in 0..setup.partners.len() {
                setup.demand(sk, i, &mut a);
                setup.demand(sk, i, &mut b);
                a.g.copy_from_slice(&a.base);
                b.g.copy_from_slice(&b.base);
                let mut sink = Vec::new();
                setup.run_partner(i, &mut a, None, None);
                setup.run_partner(i, &mut b, None, Some(&mut sink));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a.measures), bits(&b.measures), "s{s} p{i}");
                let n: f64 = (0..4).map(|k| a.measures[k * setup.prep.components[0].slots]).sum();
                counts.push((i, n));
                if i == 0 {
                    // every order of every month qualifies: 3 a month, the year's revenue
                    assert_eq!(n, 36.0);
                    let rev: f64 = sink.iter().map(|l| l.r).sum();
                    let measured: f64 = (0..4)
                        .map(|k| a.measures[k * setup.prep.components[0].slots + slot::REVENUE])
                        .sum();
                    assert!((rev - measured).abs() < 1e-6, "{rev} vs {measured}");
                }
            }
        }
        // the partners near the minimum have months in and months out
        assert!(counts.iter().any(|&(i, n)| i > 0 && n > 0.0 && n < 36.0), "{counts:?}");
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
