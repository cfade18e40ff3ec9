//! A month's purchases split over the month's orders, and the logistics measure without
//! materialising the period's order lines.
//!
//! A month's purchase in a category is one line of `cents` minor units and `qty` millionths
//! of a unit ([`line_qty`]). With orders, the line categories are grouped into *order groups*
//! ([`Setup::order_group`]): categories in the scope of the same logistics components (all of
//! them in one group with one logistics component, or several of the same scope). A group's
//! month total, its minor units and its millionths, is split over the orders once
//! ([`split_line`]: the minor units by largest remainder in proportion to the orders' sizes,
//! the millionths by largest remainder in proportion to the orders' shares of those minor
//! units), and an order's in-scope quantity and revenue for a logistics component are the sum
//! of its shares of the component's groups. So a month's revenue and units never depend on the
//! split, and only the logistics measure needs it: [`Setup::measure_order_cells`] splits the
//! months where some order could qualify and not every one surely does. When lines are
//! exported, each group's order × category table is rounded with its margins fixed
//! ([`round_table`]: the orders' shares and the month's category lines), so that the exported
//! order lines measure exactly what the engine measured.

use super::purchases::{line_qty, split_over_orders, QTY_SCALE};
use super::setup::{Setup, NONE};
use super::work::{LineV, Work};
use crate::rules::slot;

/// Scratch of [`split_line`]: after a call, order `t`'s minor units are `rev[t].1` and its
/// millionths of a unit `qty[t].1`.
#[derive(Debug, Default)]
pub(crate) struct Split {
    pub(crate) rev: Vec<(f64, f64)>,
    pub(crate) qty: Vec<(f64, f64)>,
    weights: Vec<f64>,
    idx: Vec<u32>,
}

/// Split a total of `cents` minor units and `qty` millionths of a unit over orders of shares
/// `weights` (summing to 1): the minor units by [`split_over_orders`], then the millionths the
/// same way in proportion to each order's minor units (an order without any gets none).
pub(crate) fn split_line(cents: f64, qty: f64, weights: &[f64], s: &mut Split) {
    split_over_orders(cents, weights, &mut s.rev, &mut s.idx);
    s.weights.clear();
    s.weights.extend(s.rev.iter().map(|&(_, oc)| oc / cents));
    split_over_orders(qty, &s.weights, &mut s.qty, &mut s.idx);
}

/// A table of whole numbers (row-major, `rows.len() × cols.len()`) with row sums `rows` and
/// column sums `cols` (whole numbers with the same total), each cell its proportional share
/// `rows[t] · cols[j] / total` rounded down or up: every cell rounded down (exactly, in 128-bit
/// integers), then the units each row and column still lacks handed out one at a time to the
/// cells of largest remainder (ties to the first cell) where both still lack one, and what
/// that could not place (rare) north-west-corner style. Used only to export order lines.
pub(crate) fn round_table(rows: &[f64], cols: &[f64]) -> Vec<f64> {
    let whole = |x: &f64| if *x > 0.0 { x.min(1.8e19) as u64 } else { 0 };
    let r: Vec<u64> = rows.iter().map(whole).collect();
    let c: Vec<u64> = cols.iter().map(whole).collect();
    let (nr, nc) = (r.len(), c.len());
    let total: u128 = c.iter().map(|&v| v as u128).sum();
    let mut out = vec![0u64; nr * nc];
    if total == 0 {
        return vec![0.0; nr * nc];
    }
    let (mut dr, mut dc) = (r.clone(), c.clone());
    let mut rems: Vec<(u128, usize)> = Vec::with_capacity(nr * nc);
    for t in 0..nr {
        for j in 0..nc {
            let p = r[t] as u128 * c[j] as u128;
            let f = (p / total) as u64;
            out[t * nc + j] = f;
            dr[t] = dr[t].saturating_sub(f);
            dc[j] = dc[j].saturating_sub(f);
            rems.push((p % total, t * nc + j));
        }
    }
    rems.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    for &(_, x) in &rems {
        let (t, j) = (x / nc, x % nc);
        if dr[t] > 0 && dc[j] > 0 {
            out[x] += 1;
            dr[t] -= 1;
            dc[j] -= 1;
        }
    }
    for t in 0..nr {
        for j in 0..nc {
            let d = dr[t].min(dc[j]);
            out[t * nc + j] += d;
            dr[t] -= d;
            dc[j] -= d;
        }
    }
    out.into_iter().map(|v| v as f64).collect()
}

impl Setup<'_> {
    /// The measures of logistics component `c` in period `k` (at `base` in `w.measures`) from
    /// the period's month and order group totals (`w.group_c`, `w.group_q`): the number of the
    /// period's orders whose quantity in the component's categories reaches its minimum, their
    /// revenue and their units, as [`Setup::measure_orders`] measures the exported order lines.
    ///
    /// Order `t` of share `w_t` gets `⌊C·w_t⌋` or one more of a group's `C` minor units and
    /// `⌊Q·r_t/C⌋` or one more of its `Q` millionths (`r_t` its minor units), so its millionths
    /// are within `Q/C + 1` of `Q·w_t`; summed over the component's groups, within `spread` of
    /// `qty · w_t` (`qty` the month's in-scope millionths), and never above `qty`. A month where
    /// no order could qualify (with `qty`, before the orders are drawn, then with the largest
    /// share) is not split, nor is one whose orders all surely qualify
    /// ([`Setup::every_order_qualifies`]); a relative margin of 1e-9 covers the floating-point
    /// error of these few operations. Revenue is added up in minor units (exact) and divided
    /// by the minor unit once, as there.
    pub(crate) fn measure_order_cells(&self, c: usize, k: usize, base: usize, w: &mut Work) {
        let groups = self.group_count;
        let in_scope = &self.group_in[c * groups..(c + 1) * groups];
        let first_month = k * self.months_per_period;
        // qualifying orders: their number, minor units and millionths of a unit (whole numbers,
        // so their sums do not depend on the order they are added in)
        let mut acc = [0.0; 3];
        for mp in 0..self.months_per_period {
            let month = mp * groups..(mp + 1) * groups;
            let (mut cents, mut qty, mut spread) = (0.0, 0.0, 0.0);
            let totals = w.group_c[month.clone()].iter().zip(&w.group_q[month]);
            for ((&cg, &qg), &in_c) in totals.zip(in_scope) {
                if in_c && cg != 0.0 {
                    cents += cg;
                    qty += qg;
                    spread += qg / cg + 1.0;
                }
            }
            // no order has more than the month's in-scope millionths (whole numbers)
            if qty == 0.0 || !self.prep.order_qualifies(c, qty / QTY_SCALE) {
                continue;
            }
            let (a, b) = self.orders_of(first_month + mp, w);
            let largest = w.order_w[a..b].iter().copied().fold(0.0, f64::max);
            let high = (qty * largest + spread) * (1.0 + 1e-9) + 1.0;
            if !self.prep.order_qualifies(c, high / QTY_SCALE) {
                continue;
            }
            if !self.every_order_qualifies(c, (a, b), (cents, qty, spread), w, &mut acc) {
                self.split_month(c, mp, (a, b), w, &mut acc);
            }
        }
        w.measures[base + slot::VOLUME] = acc[0];
        w.measures[base + slot::REVENUE] = acc[1] / self.scale;
        w.measures[base + slot::UNITS] = acc[2] / QTY_SCALE;
    }

    /// Whether every one of a month's orders `w.order_w[a..b]` surely reaches logistics
    /// component `c`'s minimum (its millionths are at least `qty · w_t − spread`, see
    /// [`Setup::measure_order_cells`]), decided without splitting; if so, adds them to `acc`
    /// (number, minor units, millionths): all the month's in-scope `cents` and `qty`, which the
    /// splits keep exactly.
    fn every_order_qualifies(
        &self,
        c: usize,
        (a, b): (usize, usize),
        (cents, qty, spread): (f64, f64, f64),
        w: &Work,
        acc: &mut [f64; 3],
    ) -> bool {
        // far inside f64's exact integers, where the splits keep every total exactly: the
        // shares' sum is 1 within (orders + 1) roundings, so the floors' sum stays within a
        // total when (total · orders) is well below 2^53
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

    /// Month `mp`'s group totals (`w.group_c`, `w.group_q`) in component `c`'s scope split over
    /// its orders `w.order_w[a..b]`, and the orders that reach logistics component `c`'s minimum added to
    /// `acc` (number, minor units, millionths), as [`Setup::measure_orders`] measures the
    /// exported order lines.
    fn split_month(
        &self,
        c: usize,
        mp: usize,
        (a, b): (usize, usize),
        w: &mut Work,
        acc: &mut [f64; 3],
    ) {
        let orders = b - a;
        let groups = self.group_count;
        let in_scope = &self.group_in[c * groups..(c + 1) * groups];
        w.ord_q.clear();
        w.ord_q.resize(orders, 0.0);
        w.ord_r.clear();
        w.ord_r.resize(orders, 0.0);
        for g in 0..groups {
            let (cg, qg) = (w.group_c[mp * groups + g], w.group_q[mp * groups + g]);
            if !in_scope[g] || cg == 0.0 {
                continue;
            }
            split_line(cg, qg, &w.order_w[a..b], &mut w.split);
            // an order without a share adds +0 to sums that are +0 or more: no change
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

    /// Month `m`'s category lines (its cells, month `mp` of the period) as order lines, for
    /// export: each order group's total split over the month's orders ([`split_line`]), then
    /// the group's order × category table of minor units and of millionths rounded with those
    /// margins ([`round_table`]), one line per order and category with either. So every
    /// order's quantity and revenue in each group, and every category line's, are the
    /// engine's.
    pub(crate) fn push_order_lines(&self, i: usize, m: usize, mp: usize, w: &mut Work) {
        let cc = self.category_count;
        let cells: Vec<f64> = w.cells[mp * cc..(mp + 1) * cc].to_vec();
        if cells.iter().all(|&v| v == 0.0) {
            return;
        }
        let (a, b) = self.orders_of(m, w);
        let orders = b - a;
        for g in 0..self.group_count as u32 {
            let cols: Vec<usize> = (0..cc)
                .filter(|&j| self.order_group[j] == g && cells[j] != 0.0)
                .collect();
            if cols.is_empty() {
                continue;
            }
            let col_r: Vec<f64> = cols.iter().map(|&j| cells[j]).collect();
            let col_q: Vec<f64> = cols
                .iter()
                .map(|&j| line_qty(cells[j], self.line_qpm(i, j)))
                .collect();
            split_line(
                col_r.iter().sum(),
                col_q.iter().sum(),
                &w.order_w[a..b],
                &mut w.split,
            );
            let row_r: Vec<f64> = w.split.rev.iter().map(|t| t.1).collect();
            let row_q: Vec<f64> = w.split.qty.iter().map(|t| t.1).collect();
            let (tab_r, tab_q) = (round_table(&row_r, &col_r), round_table(&row_q, &col_q));
            for (x, &j) in cols.iter().enumerate() {
                let cat = if self.cats.is_empty() { NONE } else { j as u32 };
                for t in 0..orders {
                    let (r, q) = (tab_r[t * cols.len() + x], tab_q[t * cols.len() + x]);
                    if r != 0.0 || q != 0.0 {
                        w.lines.push(LineV {
                            month: m as u32,
                            cat,
                            order: t as u32,
                            r: r / self.scale,
                            q,
                        });
                    }
                }
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
    use crate::rules::PreparedRule;

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

    /// A rounded table keeps its row and column sums exactly, and each cell is its
    /// proportional share rounded down or up (the remainders handed out where both still
    /// lack a unit).
    #[test]
    fn a_rounded_table_keeps_its_margins() {
        let mut r = rng::stream_of(12, Purpose::Orders);
        let (mut off_by_more, mut cells) = (0, 0);
        for (rows, cols) in [(1usize, 1usize), (1, 4), (3, 1), (3, 4), (8, 3), (40, 7)] {
            for _ in 0..300 {
                let total = (rng::uniform(&mut r)
                    * 10f64.powi((rng::uniform(&mut r) * 10.0) as i32))
                .round();
                let mut split = |n: usize| {
                    let w: Vec<f64> = (0..n).map(|_| (0.8 * rng::normal(&mut r)).exp()).collect();
                    let s: f64 = w.iter().sum();
                    let w: Vec<f64> = w.iter().map(|v| v / s).collect();
                    let (mut tmp, mut idx) = (Vec::new(), Vec::new());
                    split_over_orders(total, &w, &mut tmp, &mut idx);
                    tmp.iter().map(|t| t.1).collect::<Vec<f64>>()
                };
                let (row, col) = (split(rows), split(cols));
                let tab = round_table(&row, &col);
                for t in 0..rows {
                    assert_eq!(
                        (0..cols).map(|j| tab[t * cols + j]).sum::<f64>(),
                        row[t],
                        "row {t} of {total}"
                    );
                }
                for j in 0..cols {
                    assert_eq!(
                        (0..rows).map(|t| tab[t * cols + j]).sum::<f64>(),
                        col[j],
                        "col {j} of {total}"
                    );
                }
                for t in 0..rows {
                    for j in 0..cols {
                        let exact = row[t] * col[j] / total.max(1.0);
                        let x = tab[t * cols + j];
                        assert!(x >= 0.0);
                        cells += 1;
                        if (x - exact).abs() >= 1.0 + 1e-9 * exact {
                            off_by_more += 1;
                        }
                    }
                }
            }
        }
        // by hand: 10 over rows (6, 4) and columns (5, 5): 3, 3 and 2, 2 exactly
        assert_eq!(
            round_table(&[6.0, 4.0], &[5.0, 5.0]),
            vec![3.0, 3.0, 2.0, 2.0]
        );
        // 5 over rows (3, 2) and columns (2, 2, 1): 1.2 1.2 0.6 / 0.8 0.8 0.4 → the largest
        // remainders (0.8, 0.8, 0.6) first, then what is still short
        assert_eq!(
            round_table(&[3.0, 2.0], &[2.0, 2.0, 1.0]),
            vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
        );
        assert_eq!(round_table(&[0.0, 0.0], &[0.0]), vec![0.0, 0.0]);
        // the greedy pass nearly always places every unit within one of the exact share
        // (about 0.1% of the cells are not)
        assert!(
            off_by_more * 200 < cells,
            "{off_by_more} of {cells} cells more than a unit off"
        );
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
                let n: f64 = (0..4)
                    .map(|k| a.measures[k * setup.prep.components[0].slots])
                    .sum();
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
        assert!(
            counts.iter().any(|&(i, n)| i > 0 && n > 0.0 && n < 36.0),
            "{counts:?}"
        );
    }

    /// The logistics measure from the cells (months not split where no order can qualify)
    /// is the measure of the order lines, bit for bit, with and without a stretch purchase,
    /// on both bundled workloads with logistics.
    #[test]
    fn cells_measure_what_the_lines_measure() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        // the distributor with two more logistics components of overlapping scopes (four
        // order groups: {cable}, {lighting}, {smart_home, tools}, {accessories})
        let scopes = format!(
            "{}\n[[components]]\nid = \"light_pallet\"\nkind = \"logistics\"\n\
             categories = [\"cable\", \"lighting\"]\nmin_quantity = 150\npercent = 1\n\
             \n[[components]]\nid = \"device_box\"\nkind = \"logistics\"\n\
             categories = [\"lighting\", \"smart_home\", \"tools\"]\nmin_quantity = 60\nper_order = 5\n",
            std::fs::read_to_string(root.join("distributor/programme.toml")).unwrap()
        );
        for (dir, label) in [
            ("distributor", "distributor"),
            ("bench_real", "bench_real"),
            ("distributor", "scopes"),
        ] {
            let d = root.join(dir);
            let p = if label == "scopes" {
                Programme::from_str(&scopes, crate::programme::Format::Toml, None)
            } else {
                Programme::from_file(d.join("programme.toml"))
            }
            .and_then(|p| p.compile())
            .unwrap();
            let pop = Population::from_csv_path(d.join("partners.csv")).unwrap();
            let model = Model::from_file(d.join("model.toml")).unwrap();
            let setup = Setup::new(&p, &pop, &model).unwrap();
            assert!(setup.needs_orders);
            if label == "scopes" {
                assert_eq!(setup.group_count, 4, "{:?}", setup.order_group);
            }
            let (mut a, mut b) = (Work::new(&setup), Work::new(&setup));
            let (mut qualifying, mut stretches) = (vec![0.0; setup.component_count], 0);
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
                        assert_eq!(bits(&a.measures), bits(&b.measures), "{label} s{s} p{i}");
                        assert_eq!(oa.revenue.to_bits(), ob.revenue.to_bits());
                        assert_eq!(oa.stretches, ob.stretches);
                        let last = setup.period_count - 1;
                        assert_eq!(
                            a.scratch.total(last).to_bits(),
                            b.scratch.total(last).to_bits()
                        );
                        stretches += oa.stretches;
                        for (c, comp) in setup.prep.components.iter().enumerate() {
                            if matches!(comp.rule, PreparedRule::Logistics { .. }) {
                                for k in 0..setup.period_count {
                                    qualifying[c] += a.measures[comp.offset + k * comp.slots];
                                }
                            }
                        }
                    }
                }
            }
            for (c, comp) in setup.prep.components.iter().enumerate() {
                if matches!(comp.rule, PreparedRule::Logistics { .. }) {
                    assert!(
                        qualifying[c] > 0.0,
                        "{label}: no qualifying order of {}",
                        comp.id
                    );
                }
            }
            assert!(stretches > 0, "{label}: no stretch purchase");
        }
    }
}
