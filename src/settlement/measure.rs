//! The per-period measure of a partner's purchases: a partner's transaction rows into the
//! kernel's flat measures slice (per component, period and slot), as the settlement and the
//! forecast (on actuals to date) both need it, and the window a standing is measured on.

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
            let cats = tx
                .category_keys
                .iter()
                .map(|k| Some(k.as_str()))
                .chain([None]);
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
        PreparedRule::Bundle { categories, .. } => {
            category.and_then(|cat| categories.binary_search_by(|x| x.as_str().cmp(cat)).ok())
        }
        _ => None,
    }
}

/// Measure a partner's rows into the kernel's flat measures (per component, period, slot),
/// with the table's [`CategoryLookup`] built once by the caller (`None`: each row's category
/// looked up in the component's scope).
///
/// One pass over the rows measures every component but the logistics ones (a row's cells
/// read once, not once per component); each logistics component then groups the rows into
/// orders. A measure slot belongs to one component and takes its additions in row order
/// either way, so every sum, and the scale of a sum that cancels to zero, is the one a pass
/// per component gives.
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
    let logistics = |c: usize| matches!(prep.components[c].rule, PreparedRule::Logistics { .. });
    // the active components measured row by row, with whether returns are left out (gross);
    // beyond 16 (and the logistics ones) measured one component at a time
    let mut simple = [(0usize, false); 16];
    let mut n = 0;
    let mut others = false;
    for c in (0..prep.components.len()).filter(|&c| active[c]) {
        if logistics(c) || n == simple.len() {
            others = true;
        } else {
            simple[n] = (
                c,
                p.components[c].returns == crate::programme::Returns::Gross,
            );
            n += 1;
        }
    }
    let simple = &simple[..n];
    if !simple.is_empty() {
        for &i in rows {
            measure_row(prep, p, tx, res, i, simple, m, lookup);
        }
    }
    if !others {
        return;
    }
    for (c, pc) in prep.components.iter().enumerate() {
        if !active[c] || simple.iter().any(|&(s, _)| s == c) {
            continue;
        }
        let gross = p.components[c].returns == crate::programme::Returns::Gross;
        orders.clear();
        for &i in rows {
            if gross && is_return(tx, i) {
                continue;
            }
            let (included, bundle) = row_included(p, pc, tx, c, i, lookup);
            if included {
                measure_cell(prep, pc, c, tx, res, i, bundle, m, Some(&mut *orders));
            }
        }
        if matches!(pc.rule, PreparedRule::Logistics { .. }) {
            for (date, q, r) in orders.values() {
                if !prep.order_qualifies(c, *q) {
                    continue;
                }
                let k = p.calendar.period_of(*date).expect("dates checked") as usize;
                m[prep.index(c, k, slot::VOLUME)] += Decimal::ONE;
                m[prep.index(c, k, slot::REVENUE)] += *r;
                m[prep.index(c, k, slot::UNITS)] += *q;
            }
        }
    }
}

/// Whether row `i` is a return (a negative quantity or revenue).
#[inline(always)]
fn is_return(tx: &Transactions, i: usize) -> bool {
    let (q, r) = (&tx.quantity[i], &tx.revenue[i]);
    q.is_sign_negative() && !q.is_zero() || r.is_sign_negative() && !r.is_zero()
}

/// Whether component `c` (`pc`) takes row `i`'s category and, for a bundle, the category's
/// position among its categories.
#[inline(always)]
fn row_included(
    p: &Compiled,
    pc: &crate::rules::PreparedComponent<Decimal>,
    tx: &Transactions,
    c: usize,
    i: usize,
    lookup: Option<&CategoryLookup>,
) -> (bool, Option<usize>) {
    match lookup {
        Some(l) => {
            let at = l.at(tx, c, i);
            (l.included[at], l.bundle[at])
        }
        None => {
            let cat = tx.category_of(i);
            (
                p.components[c].scope.includes_category(cat),
                bundle_position(&pc.rule, cat),
            )
        }
    }
}

/// Row `i` added to the measures of every component of `simple` (index, gross) that takes it.
#[allow(clippy::too_many_arguments)]
#[inline]
fn measure_row(
    prep: &Prepared<Decimal>,
    p: &Compiled,
    tx: &Transactions,
    res: &Resolved,
    i: usize,
    simple: &[(usize, bool)],
    m: &mut [Decimal],
    lookup: Option<&CategoryLookup>,
) {
    let returned = is_return(tx, i);
    for &(c, gross) in simple {
        if gross && returned {
            continue;
        }
        let pc = &prep.components[c];
        let (included, bundle) = row_included(p, pc, tx, c, i, lookup);
        if included {
            measure_cell::<std::collections::hash_map::RandomState>(
                prep, pc, c, tx, res, i, bundle, m, None,
            );
        }
    }
}

/// Row `i` (taken by component `c`, `pc`; `bundle` its category's position in a bundle's
/// categories) added to the component's measures, or for a logistics component to its order
/// in `orders`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn measure_cell<S: BuildHasher>(
    prep: &Prepared<Decimal>,
    pc: &crate::rules::PreparedComponent<Decimal>,
    c: usize,
    tx: &Transactions,
    res: &Resolved,
    i: usize,
    bundle: Option<usize>,
    m: &mut [Decimal],
    orders: Option<&mut HashMap<OrderKey, (NaiveDate, Decimal, Decimal), S>>,
) {
    let (q, r) = (tx.quantity[i], tx.revenue[i]);
    let k = res.period[i] as usize;
    match &pc.rule {
        PreparedRule::Ladder { basis, .. } | PreparedRule::Growth { basis, .. } => {
            m[prep.index(c, k, slot::VOLUME)] += if *basis == Basis::Revenue { r } else { q };
            m[prep.index(c, k, slot::REVENUE)] += r;
            m[prep.index(c, k, slot::UNITS)] += q;
        }
        PreparedRule::PerUnit { .. } => {
            m[prep.index(c, k, slot::VOLUME)] += q;
            m[prep.index(c, k, slot::REVENUE)] += r;
            m[prep.index(c, k, slot::UNITS)] += q;
        }
        PreparedRule::Bundle { basis, .. } => {
            let Some(j) = bundle else {
                return;
            };
            let v = if *basis == Basis::Revenue { r } else { q };
            m[prep.index(c, k, slot::VOLUME)] += v;
            m[prep.index(c, k, slot::REVENUE)] += r;
            m[prep.index(c, k, slot::UNITS)] += q;
            m[prep.index(c, k, slot::bundle_volume(j))] += v;
            m[prep.index(c, k, slot::bundle_revenue(j))] += r;
        }
        PreparedRule::Logistics { .. } => {
            let Some(orders) = orders else {
                return;
            };
            let key = match tx.order.as_ref().and_then(|o| o[i]) {
                Some(id) => OrderKey::Id(id),
                None => OrderKey::Row(i),
            };
            let e = orders
                .entry(key)
                .or_insert((tx.date[i], Decimal::ZERO, Decimal::ZERO));
            e.0 = e.0.min(tx.date[i]);
            e.1 += q;
            e.2 += r;
        }
    }
}
