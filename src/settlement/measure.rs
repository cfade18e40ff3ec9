//! The per-period measure of a partner's purchases: a partner's transaction rows into the
//! kernel's flat measures slice (per component, period and slot), as the settlement and the
//! forecast (on actuals to date) both need it, and the window a standing is measured on.

use super::sum::{Summand, Units};
use crate::data::{Resolved, Transactions};
use crate::programme::{Basis, Compiled, Measure};
use crate::rules::{slot, Prepared, PreparedRule, Span};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// The key of an order: its order id, or the row of a transaction without one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OrderKey {
    Id(u32),
    Row(usize),
}

/// The measures of component `c` over the window its standing is measured on: the period
/// alone (`measure = period`) or the programme to date (`cumulative`).
pub(super) fn window_measures(
    prep: &Prepared<Decimal>,
    m: &[Decimal],
    c: usize,
    k: usize,
) -> (Vec<Decimal>, Span) {
    let pc = &prep.components[c];
    let from = if pc.measure == Measure::Cumulative {
        0
    } else {
        k
    };
    let mut w = vec![Decimal::ZERO; pc.slots];
    for j in from..=k {
        for (s, x) in w.iter_mut().enumerate() {
            *x += m[prep.index(c, j, s)];
        }
    }
    (w, Span::of(pc.measure, k as u32))
}

/// Which categories of a transaction table each component takes, looked up once per table
/// instead of once per row: per component, per category key (the last entry for a row
/// without a category) whether its scope includes it and, for a bundle, the category's
/// position among the bundle's categories.
pub(crate) struct CategoryLookup {
    /// `keys + 1` entries per component.
    included: Vec<bool>,
    /// `keys + 1` entries per component (`None` outside a bundle's categories).
    bundle: Vec<Option<usize>>,
    width: usize,
}

impl CategoryLookup {
    /// The lookups of `prep`'s components over `tx`'s category keys.
    pub(crate) fn new(prep: &Prepared<Decimal>, p: &Compiled, tx: &Transactions) -> CategoryLookup {
        let width = tx.category_keys.len() + 1;
        let mut included = Vec::with_capacity(width * prep.components.len());
        let mut bundle = Vec::with_capacity(width * prep.components.len());
        for (pc, comp) in prep.components.iter().zip(&p.components) {
            let cats = tx.category_keys.iter().map(|k| Some(k.as_str())).chain([None]);
            for cat in cats {
                included.push(comp.scope.includes_category(cat));
                bundle.push(bundle_position(&pc.rule, cat));
            }
        }
        CategoryLookup {
            included,
            bundle,
            width,
        }
    }

    /// The entry of row `i` of `tx` for component `c`.
    fn at(&self, tx: &Transactions, c: usize, i: usize) -> usize {
        let key = match &tx.category {
            Some(v) => v[i].map_or(self.width - 1, |k| k as usize),
            None => self.width - 1,
        };
        c * self.width + key
    }
}

/// The position of `category` among a bundle's categories (`None` for another rule).
fn bundle_position(rule: &PreparedRule<Decimal>, category: Option<&str>) -> Option<usize> {
    match rule {
        PreparedRule::Bundle { categories, .. } => category
            .and_then(|cat| categories.binary_search_by(|x| x.as_str().cmp(cat)).ok()),
        _ => None,
    }
}

/// Measure a partner's rows into the kernel's flat measures (per component, period, slot),
/// with the table's [`CategoryLookup`] built once by the caller (`None`: each row's category
/// looked up in the component's scope). The rows' numbers are added as integers ([`Units`],
/// each converted once for all components) and the measures written back as the `Decimal`s
/// adding them one by one gives; a partner with a number of more than six places (a CSV cell
/// such as `1.50000000`) is added in `Decimal`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_measures_with<S: BuildHasher>(
    prep: &Prepared<Decimal>,
    p: &Compiled,
    tx: &Transactions,
    res: &Resolved,
    rows: &[usize],
    active: &[bool],
    m: &mut [Decimal],
    orders: &mut HashMap<OrderKey, (NaiveDate, Decimal, Decimal), S>,
    lookup: Option<&CategoryLookup>,
) {
    let rows_in = Rows { prep, p, tx, res, rows, active, lookup };
    if rows.len() >= 1 << 26 {
        // the integer sums' bound (|sum| < 2^96, as `Decimal` holds)
        return rows_in.fill(m, |j| (tx.quantity[rows[j]], tx.revenue[rows[j]]), orders);
    }
    SCRATCH.with_borrow_mut(|(values, sums)| {
        values.clear();
        for &i in rows {
            match (Units::of(tx.quantity[i]), Units::of(tx.revenue[i])) {
                (Some(q), Some(r)) => values.push((q, r)),
                _ => return rows_in.fill(m, |j| (tx.quantity[rows[j]], tx.revenue[rows[j]]), orders),
            }
        }
        // the active components' measures (the others are left as they are)
        sums.clear();
        sums.resize(m.len(), Units::ZERO);
        for c in (0..active.len()).filter(|&c| active[c]) {
            let range = measures_of(prep, c);
            for (s, &x) in sums[range.clone()].iter_mut().zip(&m[range]) {
                match Units::of(x) {
                    Some(u) => *s = u,
                    None => return rows_in.fill(m, |j| (tx.quantity[rows[j]], tx.revenue[rows[j]]), orders),
                }
            }
        }
        rows_in.fill(sums, |j| values[j], orders);
        for c in (0..active.len()).filter(|&c| active[c]) {
            let range = measures_of(prep, c);
            for (x, s) in m[range.clone()].iter_mut().zip(&sums[range]) {
                if *s != Units::ZERO {
                    *x = s.to_decimal();
                }
            }
        }
    })
}

/// The positions of component `c`'s measures (all periods and slots) in the measures slice.
fn measures_of(prep: &Prepared<Decimal>, c: usize) -> std::ops::Range<usize> {
    let pc = &prep.components[c];
    pc.offset..pc.offset + prep.periods * pc.slots
}

thread_local! {
    /// A thread's scratch for [`fill_measures_with`]: the rows' numbers and the sums.
    static SCRATCH: std::cell::RefCell<(Vec<(Units, Units)>, Vec<Units>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// A partner's rows and what measuring them needs.
struct Rows<'a> {
    prep: &'a Prepared<Decimal>,
    p: &'a Compiled,
    tx: &'a Transactions,
    res: &'a Resolved,
    rows: &'a [usize],
    active: &'a [bool],
    lookup: Option<&'a CategoryLookup>,
}

impl Rows<'_> {
    /// Add the rows into `m`; `value(j)` is the quantity and revenue of the `j`-th row.
    fn fill<V: Summand, S: BuildHasher>(
        &self,
        m: &mut [V],
        value: impl Fn(usize) -> (V, V),
        orders: &mut HashMap<OrderKey, (NaiveDate, Decimal, Decimal), S>,
    ) {
        let Rows { prep, p, tx, res, rows, active, lookup } = *self;
        for (c, pc) in prep.components.iter().enumerate() {
            if !active[c] {
                continue;
            }
            let comp = &p.components[c];
            let gross = comp.returns == crate::programme::Returns::Gross;
            orders.clear();
            for (j, &i) in rows.iter().enumerate() {
                let (q, r) = value(j);
                if gross && (q.is_negative() || r.is_negative()) {
                    continue;
                }
                let (included, bundle) = match lookup {
                    Some(l) => {
                        let at = l.at(tx, c, i);
                        (l.included[at], l.bundle[at])
                    }
                    None => {
                        let cat = tx.category_of(i);
                        (comp.scope.includes_category(cat), bundle_position(&pc.rule, cat))
                    }
                };
                if !included {
                    continue;
                }
                let k = res.period[i] as usize;
                let at = |s: usize| prep.index(c, k, s);
                match &pc.rule {
                    PreparedRule::Ladder { basis, .. } | PreparedRule::Growth { basis, .. } => {
                        m[at(slot::VOLUME)].add(if *basis == Basis::Revenue { r } else { q });
                        m[at(slot::REVENUE)].add(r);
                        m[at(slot::UNITS)].add(q);
                    }
                    PreparedRule::PerUnit { .. } => {
                        m[at(slot::VOLUME)].add(q);
                        m[at(slot::REVENUE)].add(r);
                        m[at(slot::UNITS)].add(q);
                    }
                    PreparedRule::Bundle { basis, .. } => {
                        let Some(b) = bundle else {
                            continue;
                        };
                        let v = if *basis == Basis::Revenue { r } else { q };
                        m[at(slot::VOLUME)].add(v);
                        m[at(slot::REVENUE)].add(r);
                        m[at(slot::UNITS)].add(q);
                        m[at(slot::bundle_volume(b))].add(v);
                        m[at(slot::bundle_revenue(b))].add(r);
                    }
                    PreparedRule::Logistics { .. } => {
                        let key = match tx.order.as_ref().and_then(|o| o[i]) {
                            Some(id) => OrderKey::Id(id),
                            None => OrderKey::Row(i),
                        };
                        let e = orders
                            .entry(key)
                            .or_insert((tx.date[i], Decimal::ZERO, Decimal::ZERO));
                        e.0 = e.0.min(tx.date[i]);
                        e.1 += tx.quantity[i];
                        e.2 += tx.revenue[i];
                    }
                }
            }
            if matches!(pc.rule, PreparedRule::Logistics { .. }) {
                for (date, q, r) in orders.values() {
                    if !prep.order_qualifies(c, *q) {
                        continue;
                    }
                    let k = p.calendar.period_of(*date).expect("dates checked") as usize;
                    m[prep.index(c, k, slot::VOLUME)].add(V::of_decimal(Decimal::ONE));
                    m[prep.index(c, k, slot::REVENUE)].add(V::of_decimal(*r));
                    m[prep.index(c, k, slot::UNITS)].add(V::of_decimal(*q));
                }
            }
        }
    }
}
