//! Monthly aggregation of transaction lines per partner: the panel every estimator reads.

use crate::data::{Partners, Transactions};
use crate::error::{Error, Result};
use chrono::Datelike;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Partner × month aggregates of a transaction history (partners with at least one purchase;
/// month `t` is the `t`-th calendar month from the first month of the history).
#[derive(Debug, Clone)]
pub(crate) struct Panel {
    /// First month of the history: (year, month 1..=12).
    pub start: (i32, u32),
    /// Number of months `T`.
    pub months: usize,
    /// Partner ids (partners with a purchase), in partner-table order.
    pub ids: Vec<String>,
    /// Segment index of each partner.
    pub seg: Vec<usize>,
    /// Segment names (in order of first appearance in the partner table).
    pub segments: Vec<String>,
    /// Category names (empty without a category column).
    pub categories: Vec<String>,
    /// Gross purchases (sum of the positive revenue lines), `[partner * T + t]`.
    pub gross: Vec<f64>,
    /// Returns (minus the sum of the negative revenue lines).
    pub returns: Vec<f64>,
    /// Units of the positive lines.
    pub units: Vec<f64>,
    /// Distinct orders with a positive line (present with an `order_id` column).
    pub orders: Option<Vec<u32>>,
    /// Per segment: pooled within-month sum of squares of log order amounts and its degrees
    /// of freedom (Σ (orders − 1) over partner-months with two orders or more).
    pub order_ss: Vec<(f64, f64)>,
    /// Per partner, with order ids and categories: its orders with a categorised positive line
    /// and the sum over them of their distinct categories (categories per order).
    pub order_categories: Option<Vec<(f64, f64)>>,
    /// Gross revenue per category, `[(partner * T + t) * C + c]` (single precision: only
    /// shares are read from it).
    pub cat_rev: Vec<f32>,
    /// Gross revenue and units per partner and category over the whole history,
    /// `[partner * C + c]` (the category prices).
    pub cat_totals: Vec<(f64, f64)>,
    /// Partners of the partner table without any purchase in the history.
    pub zero_partners: Vec<String>,
}

impl Panel {
    /// Number of partners.
    pub fn n(&self) -> usize {
        self.ids.len()
    }

    /// Calendar month (0 = January) of history month `t`.
    pub fn cal(&self, t: usize) -> usize {
        (self.start.1 as usize - 1 + t) % 12
    }

    /// `YYYY-MM` of history month `t`.
    pub fn label(&self, t: usize) -> String {
        let m = self.start.0 as i64 * 12 + self.start.1 as i64 - 1 + t as i64;
        format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
    }
}

fn f64_of(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Aggregate `tx` by partner and month. `partners` gives segments (and the full list of
/// partners, so that partners without purchases are reported); without it every partner of
/// the history is in one segment. With `until`, lines dated after it are left out.
pub(crate) fn build(
    tx: &Transactions,
    partners: Option<&Partners>,
    until: Option<chrono::NaiveDate>,
) -> Result<Panel> {
    if tx.is_empty() {
        return Err(Error::data(
            &tx.table,
            None,
            None,
            "the history has no transaction lines: calibration needs at least 13 months of them",
        ));
    }
    let (ids_all, key_partner, segments, seg_of_all) = partner_numbering(tx, partners)?;

    let (first, last, t_len) = month_range(tx, until)?;
    let n_all = ids_all.len();
    let cells = n_all
        .checked_mul(t_len)
        .filter(|&c| c <= 200_000_000)
        .ok_or_else(|| {
            Error::Request(format!(
                "{n_all} partners × {t_len} months is too large a history to calibrate in memory"
            ))
        })?;
    let n_cat = if tx.category.is_some() {
        tx.category_keys.len()
    } else {
        0
    };
    let Sums {
        gross,
        returns,
        units,
        cat_rev,
        cat_totals,
        month_lines,
        order_pairs,
    } = aggregate(tx, &key_partner, until, first, t_len, n_cat, n_all);
    check_every_month(tx, &month_lines, first, last)?;
    let (orders_all, order_ss_all, order_cats_all) =
        order_stats(tx, order_pairs, cells, &seg_of_all, t_len, segments.len());

    // keep partners with at least one purchase
    let mut keep = Vec::with_capacity(n_all);
    let mut zero_partners = Vec::new();
    for p in 0..n_all {
        if gross[p * t_len..(p + 1) * t_len].iter().any(|&g| g > 0.0) {
            keep.push(p);
        } else {
            zero_partners.push(ids_all[p].clone());
        }
    }
    if keep.is_empty() {
        return Err(Error::data(
            &tx.table,
            None,
            Some("revenue"),
            "no partner has a purchase (a positive revenue line) in the history: nothing to calibrate on",
        ));
    }
    let (gross_k, returns_k, units_k, orders_k, cat_k) = keep_rows(
        &keep, n_all, t_len, n_cat, gross, returns, units, orders_all, cat_rev,
    );
    let cat_totals: Vec<(f64, f64)> = keep
        .iter()
        .flat_map(|&p| cat_totals[p * n_cat..(p + 1) * n_cat].iter().copied())
        .collect();
    let first_y = first.div_euclid(12) as i32;
    let first_m = first.rem_euclid(12) as u32 + 1;
    Ok(Panel {
        start: (first_y, first_m),
        months: t_len,
        ids: keep.iter().map(|&p| ids_all[p].clone()).collect(),
        seg: keep.iter().map(|&p| seg_of_all[p]).collect(),
        segments,
        categories: if n_cat > 0 {
            tx.category_keys.clone()
        } else {
            Vec::new()
        },
        gross: gross_k,
        returns: returns_k,
        units: units_k,
        orders: orders_k,
        order_ss: order_ss_all,
        order_categories: order_cats_all.map(|v| keep.iter().map(|&p| v[p]).collect()),
        cat_rev: cat_k,
        cat_totals,
        zero_partners,
    })
}

/// The sums of [`aggregate`], partner × month cells `[partner * T + t]`.
struct Sums {
    gross: Vec<f64>,
    returns: Vec<f64>,
    units: Vec<f64>,
    /// `[cell * C + c]`.
    cat_rev: Vec<f32>,
    /// `[partner * C + c]`.
    cat_totals: Vec<(f64, f64)>,
    /// Positive lines per month.
    month_lines: Vec<usize>,
    /// (cell << 32 | order, revenue, category or `u32::MAX`) of every positive line with an
    /// order id.
    order_pairs: Vec<(u64, f64, u32)>,
}

/// The transaction lines up to `until` summed per partner and month (from month number
/// `first`, `t_len` months, `n_all` partners) and per category (`n_cat`, 0 without a category
/// column): purchases (positive lines), returns (negative lines), units.
fn aggregate(
    tx: &Transactions,
    key_partner: &[Option<usize>],
    until: Option<chrono::NaiveDate>,
    first: i64,
    t_len: usize,
    n_cat: usize,
    n_all: usize,
) -> Sums {
    let cells = n_all * t_len;
    let mut s = Sums {
        gross: vec![0.0f64; cells],
        returns: vec![0.0f64; cells],
        units: vec![0.0f64; cells],
        cat_rev: vec![0.0f32; cells * n_cat],
        cat_totals: vec![(0.0f64, 0.0f64); n_all * n_cat],
        month_lines: vec![0usize; t_len],
        order_pairs: Vec::new(),
    };
    for i in 0..tx.len() {
        if until.is_some_and(|u| tx.date[i] > u) {
            continue; // dated after `until`
        }
        let p = key_partner[tx.partner_key[i] as usize].unwrap_or(0);
        let t = (month_no(&tx.date[i]) - first) as usize;
        let cell = p * t_len + t;
        let rev = f64_of(tx.revenue[i]);
        if rev > 0.0 {
            s.gross[cell] += rev;
            s.units[cell] += f64_of(tx.quantity[i]);
            s.month_lines[t] += 1;
            if let Some(Some(c)) = tx.category.as_ref().map(|v| v[i]) {
                s.cat_rev[cell * n_cat + c as usize] += rev as f32;
                let tot = &mut s.cat_totals[p * n_cat + c as usize];
                tot.0 += rev;
                tot.1 += f64_of(tx.quantity[i]);
            }
            if let Some(Some(o)) = tx.order.as_ref().map(|v| v[i]) {
                let c = tx.category.as_ref().and_then(|v| v[i]).unwrap_or(u32::MAX);
                s.order_pairs
                    .push((((cell as u64) << 32) | o as u64, rev, c));
            }
        } else if rev < 0.0 {
            s.returns[cell] -= rev;
        }
    }
    s
}

/// An error naming the first month of the history (months `first..=last`) without a
/// purchase, or saying that there is no purchase at all.
fn check_every_month(
    tx: &Transactions,
    month_lines: &[usize],
    first: i64,
    last: i64,
) -> Result<()> {
    let t_len = month_lines.len();
    if month_lines.iter().all(|&n| n == 0) {
        return Err(Error::data(
            &tx.table,
            None,
            Some("revenue"),
            "no partner has a purchase (a positive revenue line) in the history: nothing to calibrate on",
        ));
    }
    if let Some(t) = month_lines.iter().position(|&n| n == 0) {
        return Err(Error::data(
            &tx.table,
            None,
            Some("date"),
            format!(
                "no purchase at all in {} (month {} of the {t_len} from {} to {}): calibration needs purchases dated in every month of the history; quarterly or annual totals, or a gap in the extract, cannot be calibrated monthly",
                label(first + t as i64),
                t + 1,
                label(first),
                label(last)
            ),
        ));
    }
    Ok(())
}

/// The month number (years × 12 + month from 0) of a date.
fn month_no(d: &chrono::NaiveDate) -> i64 {
    d.year() as i64 * 12 + d.month0() as i64
}

/// `YYYY-MM` of a month number.
fn label(m: i64) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// The partners (ids in the partner table's numbering, or the history's own), the partner of
/// each history key, the segment names and each partner's segment; an error for an unknown
/// partner or a missing segment name.
#[allow(clippy::type_complexity)]
fn partner_numbering(
    tx: &Transactions,
    partners: Option<&Partners>,
) -> Result<(Vec<String>, Vec<Option<usize>>, Vec<String>, Vec<usize>)> {
    // partner of each key, in the partner table's numbering
    let (ids_all, segs_all): (Vec<String>, Vec<String>) = match partners {
        Some(p) => (p.ids.clone(), p.segments.clone()),
        None => (
            tx.partner_keys.clone(),
            vec![String::new(); tx.partner_keys.len()],
        ),
    };
    let key_partner: Vec<Option<usize>> = match partners {
        Some(p) => tx.partner_keys.iter().map(|k| p.index_of(k)).collect(),
        None => (0..tx.partner_keys.len()).map(Some).collect(),
    };
    if let (Some(p), Some(k)) = (partners, key_partner.iter().position(Option::is_none)) {
        let row = tx
            .partner_key
            .iter()
            .position(|&x| x as usize == k)
            .unwrap_or(0)
            + 1;
        return Err(Error::data(
            &tx.table,
            Some(row),
            Some("partner_id"),
            format!(
                "unknown partner '{}' (not in {})",
                tx.partner_keys[k], p.table
            ),
        ));
    }
    let named = segs_all.iter().filter(|s| !s.is_empty()).count();
    if named > 0 && named < segs_all.len() {
        let row = segs_all.iter().position(|s| s.is_empty()).unwrap_or(0) + 1;
        return Err(Error::data(
            partners.map(|p| p.table.as_str()).unwrap_or("partners"),
            Some(row),
            Some("segment"),
            "expected a segment name, found an empty cell (other partners have one; calibration estimates per segment)",
        ));
    }
    let mut segments: Vec<String> = Vec::new();
    let mut seg_of_all = Vec::with_capacity(segs_all.len());
    for s in &segs_all {
        let k = match segments.iter().position(|x| x == s) {
            Some(k) => k,
            None => {
                segments.push(s.clone());
                segments.len() - 1
            }
        };
        seg_of_all.push(k);
    }
    Ok((ids_all, key_partner, segments, seg_of_all))
}

/// First and last month number of the history (up to `until`) and its months; an error
/// under 13 months.
fn month_range(tx: &Transactions, until: Option<chrono::NaiveDate>) -> Result<(i64, i64, usize)> {
    let dates = || {
        tx.date
            .iter()
            .filter(move |d| until.is_none_or(|u| **d <= u))
    };
    if let (Some(u), None) = (until, dates().next()) {
        return Err(Error::data(
            &tx.table,
            None,
            Some("date"),
            format!(
                "no line dated on or before {u} (as_of): the history starts {}",
                tx.date
                    .iter()
                    .min()
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
        ));
    }
    let first = dates().map(month_no).min().unwrap_or(0);
    let last = dates().map(month_no).max().unwrap_or(0);
    let t_len = (last - first + 1) as usize;
    if t_len < 13 {
        return Err(Error::data(
            &tx.table,
            None,
            Some("date"),
            format!(
                "the history covers {t_len} month{} ({} to {}{}); calibration needs at least 13 months (a year for seasonality and one more month), and 24 to 48 give usable standard errors",
                if t_len == 1 { "" } else { "s" },
                label(first),
                label(last),
                until.map(|u| format!(", up to as_of {u}")).unwrap_or_default()
            ),
        ));
    }
    Ok((first, last, t_len))
}

/// Distinct order ids per partner-month (without order ids: `None`), per segment the
/// within-month sum of squares of log order amounts with its degrees of freedom, and per
/// partner (with order ids and categories) its orders with a category and the sum of their
/// distinct categories.
#[allow(clippy::type_complexity)]
fn order_stats(
    tx: &Transactions,
    mut order_pairs: Vec<(u64, f64, u32)>,
    cells: usize,
    seg_of_all: &[usize],
    t_len: usize,
    n_segments: usize,
) -> (Option<Vec<u32>>, Vec<(f64, f64)>, Option<Vec<(f64, f64)>>) {
    // orders: distinct order ids per partner-month, and the within-month spread of log amounts
    let mut orders_all: Option<Vec<u32>> = tx.order.as_ref().map(|_| vec![0u32; cells]);
    let mut order_ss_all = vec![(0.0f64, 0.0f64); n_segments];
    let mut order_cats: Option<Vec<(f64, f64)>> = (tx.order.is_some() && tx.category.is_some())
        .then(|| vec![(0.0, 0.0); cells / t_len.max(1)]);
    let mut cats_of_order: Vec<u32> = Vec::new();
    if let Some(counts) = orders_all.as_mut() {
        order_pairs.sort_unstable_by_key(|pair| pair.0);
        let mut amounts: Vec<f64> = Vec::new();
        let mut cur_cell = u64::MAX;
        let flush = |cell: u64, amounts: &mut Vec<f64>, ss: &mut Vec<(f64, f64)>| {
            if amounts.len() >= 2 && cell != u64::MAX {
                let logs: Vec<f64> = amounts.iter().map(|a| a.ln()).collect();
                let m = logs.iter().sum::<f64>() / logs.len() as f64;
                let s: f64 = logs.iter().map(|l| (l - m) * (l - m)).sum();
                let g = seg_of_all[cell as usize / t_len];
                ss[g].0 += s;
                ss[g].1 += (logs.len() - 1) as f64;
            }
            amounts.clear();
        };
        let mut k = 0;
        while k < order_pairs.len() {
            let key = order_pairs[k].0;
            let mut amt = 0.0;
            cats_of_order.clear();
            while k < order_pairs.len() && order_pairs[k].0 == key {
                amt += order_pairs[k].1;
                if order_pairs[k].2 != u32::MAX {
                    cats_of_order.push(order_pairs[k].2);
                }
                k += 1;
            }
            let cell = key >> 32;
            if let Some(oc) = order_cats.as_mut().filter(|_| !cats_of_order.is_empty()) {
                cats_of_order.sort_unstable();
                cats_of_order.dedup();
                let at = &mut oc[cell as usize / t_len];
                at.0 += 1.0;
                at.1 += cats_of_order.len() as f64;
            }
            if cell != cur_cell {
                flush(cur_cell, &mut amounts, &mut order_ss_all);
                cur_cell = cell;
            }
            counts[cell as usize] += 1;
            amounts.push(amt);
        }
        flush(cur_cell, &mut amounts, &mut order_ss_all);
    }
    drop(order_pairs);
    (orders_all, order_ss_all, order_cats)
}

/// The partner-month tables restricted to the partners in `keep` (unchanged when all are kept).
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn keep_rows(
    keep: &[usize],
    n_all: usize,
    t_len: usize,
    n_cat: usize,
    gross: Vec<f64>,
    returns: Vec<f64>,
    units: Vec<f64>,
    orders_all: Option<Vec<u32>>,
    cat_rev: Vec<f32>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Option<Vec<u32>>, Vec<f32>) {
    let compact = keep.len() < n_all;
    let take = |v: &Vec<f64>| -> Vec<f64> {
        if !compact {
            return v.clone();
        }
        let mut out = Vec::with_capacity(keep.len() * t_len);
        for &p in keep {
            out.extend_from_slice(&v[p * t_len..(p + 1) * t_len]);
        }
        out
    };
    let gross_k = take(&gross);
    let returns_k = take(&returns);
    let units_k = take(&units);
    let orders_k = orders_all.map(|o| {
        let mut out = Vec::with_capacity(keep.len() * t_len);
        for &p in keep {
            out.extend_from_slice(&o[p * t_len..(p + 1) * t_len]);
        }
        out
    });
    let cat_k = if n_cat == 0 || !compact {
        cat_rev
    } else {
        let w = t_len * n_cat;
        let mut out = Vec::with_capacity(keep.len() * w);
        for &p in keep {
            out.extend_from_slice(&cat_rev[p * w..(p + 1) * w]);
        }
        out
    };
    (gross_k, returns_k, units_k, orders_k, cat_k)
}
