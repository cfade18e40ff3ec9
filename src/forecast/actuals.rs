//! The actuals to date as a forecast reads them: checked (dates up to the forecast date, no
//! partner's cumulative net purchases negative after returns), placed in the programme's
//! months, and measured with the settlement's own measure code into what the conditioned
//! engine observes.

use crate::calendar::Calendar;
use crate::data::{Partners, Resolved, Transactions};
use crate::engine::conditioned::{MixEvidence, Observed};
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::rules::{slot, Prepared};
use crate::settlement::{CategoryLookup, OrderKey};
use crate::tables::intern::IdHasher;
use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::prelude::*;
use std::collections::HashMap;

/// Order maps hashed as the table's ids are.
type IdHash = std::hash::BuildHasherDefault<IdHasher>;

/// Refuse a forecast date outside the programme.
pub(super) fn check_as_of(calendar: &Calendar, as_of: NaiveDate) -> Result<()> {
    let (start, end) = (calendar.start, calendar.end());
    if as_of < start || as_of > end {
        return Err(Error::Request(format!(
            "as_of {as_of} is outside the programme ({start} to {end})"
        )));
    }
    Ok(())
}

/// Refuse actuals dated after the forecast date, naming the first such row.
pub(super) fn check_dates(actuals: &Transactions, as_of: NaiveDate) -> Result<()> {
    for (i, d) in actuals.date.iter().enumerate() {
        if *d > as_of {
            return Err(Error::data(
                &actuals.table,
                Some(i + 1),
                Some("date"),
                format!(
                    "date {d} is after the forecast date {as_of}: give actuals up to as_of only"
                ),
            ));
        }
    }
    Ok(())
}

/// The population as the settlement's partner table (ids, segments, baselines), checked
/// against the programme's segments.
pub(super) fn settlement_partners(
    programme: &Compiled,
    population: &Population,
) -> Result<Partners> {
    let mut partners = Partners::default();
    partners.table = population.table.clone();
    // monthly baselines too: the closed periods are settled against the same per-period
    // baselines as the engine forecasts the open ones with
    let months = |m: &Option<Box<[f64; 12]>>| {
        m.as_ref().and_then(|m| {
            let d = m.map(Decimal::from_f64);
            d.iter()
                .all(Option::is_some)
                .then(|| d.map(|x| x.expect("checked")))
        })
    };
    for i in 0..population.len() {
        let at = partners
            .push(
                &population.partner_id[i],
                population.segment_name(i),
                population.baseline_revenue[i].and_then(Decimal::from_f64),
                population.baseline_units[i].and_then(Decimal::from_f64),
            )
            .map_err(|m| Error::data(&population.table, Some(i + 1), Some("partner_id"), m))?;
        partners.set_months(
            at,
            months(&population.baseline_revenue_months[i]),
            months(&population.baseline_units_months[i]),
        );
    }
    partners.check_segments(programme)?;
    Ok(partners)
}

/// The rows of each partner (`partners` lists), in date order (rows of one day in table
/// order).
pub(super) fn rows_by_partner(
    actuals: &Transactions,
    resolved: &Resolved,
    partners: usize,
) -> Vec<Vec<usize>> {
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); partners];
    for (r, &p) in resolved.partner.iter().enumerate() {
        rows_of[p].push(r);
    }
    for rows in &mut rows_of {
        rows.sort_by_key(|&r| (actuals.date[r], r));
    }
    rows_of
}

/// Refuse a partner whose cumulative net revenue or quantity turns negative after returns
/// (lines of the same day count together: a return booked the same day as its sale), naming
/// the last return line of the day it happens.
pub(super) fn check_cumulative_returns(
    actuals: &Transactions,
    resolved: &Resolved,
    population: &Population,
    rows_of: &[Vec<usize>],
) -> Result<()> {
    for rows in rows_of {
        let (mut revenue, mut quantity) = (Decimal::ZERO, Decimal::ZERO);
        let mut first = 0;
        while first < rows.len() {
            let day = actuals.date[rows[first]];
            let mut end = first;
            while end < rows.len() && actuals.date[rows[end]] == day {
                revenue += actuals.revenue[rows[end]];
                quantity += actuals.quantity[rows[end]];
                end += 1;
            }
            let negative = |v: Decimal| v.is_sign_negative() && !v.is_zero();
            if negative(revenue) || negative(quantity) {
                let bad = rows[first..end]
                    .iter()
                    .copied()
                    .filter(|&r| {
                        actuals.revenue[r].is_sign_negative()
                            || actuals.quantity[r].is_sign_negative()
                    })
                    .max()
                    .unwrap_or(rows[end - 1]);
                let (column, value) = if negative(revenue) {
                    ("revenue", revenue)
                } else {
                    ("quantity", quantity)
                };
                return Err(Error::data(
                    &actuals.table,
                    Some(bad + 1),
                    Some(column),
                    format!(
                        "partner '{}' has a negative cumulative net {column} of {value} on {day} after returns: returns exceed the purchases to date",
                        population.partner_id[resolved.partner[bad]]
                    ),
                ));
            }
            first = end;
        }
    }
    Ok(())
}

/// How much of the programme the actuals cover: the complete months observed, and the share
/// of the month containing the forecast date that is still to simulate (1 when the date is
/// a month end, and then that month counts as observed).
#[derive(Debug, Clone, Copy)]
pub(super) struct MonthsObserved {
    /// Complete programme months observed.
    pub complete: usize,
    /// Share of month `complete` still to simulate.
    pub partial: f64,
    /// The programme month containing the forecast date.
    pub as_of_month: usize,
}

impl MonthsObserved {
    pub fn new(calendar: &Calendar, as_of: NaiveDate) -> MonthsObserved {
        let as_of_month = calendar.month_of(as_of).expect("checked") as usize;
        let month_start = |m: usize| {
            calendar
                .start
                .checked_add_months(chrono::Months::new(m as u32))
                .expect("validated dates")
        };
        let month_last = month_start(as_of_month + 1).pred_opt().expect("date");
        let (complete, partial) = if as_of == month_last {
            (as_of_month + 1, 1.0)
        } else {
            let days = (month_start(as_of_month + 1) - month_start(as_of_month)).num_days() as f64;
            let left = (month_last - as_of).num_days() as f64;
            (as_of_month, left / days)
        };
        MonthsObserved {
            complete,
            partial,
            as_of_month,
        }
    }
}

/// The actuals to date measured per partner: what the conditioned engine observes, and the
/// volumes the accrual journal needs.
pub(super) struct ActualsToDate {
    /// What the engine conditions on.
    pub observed: Observed,
    /// `partners × components`: basis volume to date.
    pub volume_to_date: Vec<f64>,
    /// `partners × components`: basis volume of the month containing the forecast date.
    pub volume_month: Vec<f64>,
}

/// Each partner's actuals measured: all rows to date from `settled` (the measures of the
/// forecast's settlement of its actuals, by partner table index: the settlement's measure
/// code on the same rows), the rows of the forecast date's month measured here with the same
/// code, and sum the gross revenue (positive lines) per
/// complete month. Blocks of partners are measured on the current rayon pool and assembled in
/// partner order; each partner's sums run over its rows in the same order whatever the
/// threads and blocks, so the result is bit-identical for any thread count.
#[allow(clippy::too_many_arguments)]
pub(super) fn measure_actuals(
    programme: &Compiled,
    prepared: &Prepared<Decimal>,
    population: &Population,
    actuals: &Transactions,
    resolved: &Resolved,
    rows_of: &[Vec<usize>],
    settled: &[&[Decimal]],
    months: MonthsObserved,
) -> ActualsToDate {
    let partners = population.len();
    let calendar = &programme.calendar;
    let month_of: Vec<usize> = actuals
        .date
        .par_iter()
        .map(|d| {
            calendar
                .month_of(*d)
                .expect("resolved dates are in the programme") as usize
        })
        .collect();
    let ctx = Measuring {
        programme,
        prepared,
        population,
        actuals,
        resolved,
        rows_of,
        settled,
        months,
        month_of: &month_of,
        lookup: CategoryLookup::new(prepared, programme, actuals),
    };
    // partners measured together, a task each block: about four blocks a thread, 8 to 512;
    // each block writes its partners' rows of the columns in place (no copy, and the fresh
    // pages are first touched on the pool)
    let per_block = (partners / (4 * rayon::current_num_threads())).clamp(8, 512);
    let mut all = Columns::zeroed(&ctx, partners);
    all.blocks(&ctx, per_block).into_par_iter().for_each_init(
        || Scratch {
            measures: vec![Decimal::ZERO; prepared.measure_len()],
            orders: HashMap::default(),
            month_rows: Vec::new(),
        },
        |scratch, (first, block)| ctx.block(first, block, scratch),
    );
    ActualsToDate {
        observed: Observed {
            t_obs: months.complete,
            partial: months.partial,
            gross: all.gross,
            partial_bought: all.partial_bought,
            measures: all.measures,
            mix: MixEvidence {
                categories: actuals.category_keys.clone(),
                revenue: all.mix_revenue,
                revenue_sq: all.revenue_sq,
                gross_revenue: all.gross_revenue,
                gross_units: all.gross_units,
                lines: all.lines,
                order_counts: crate::engine::conditioned::observed_orders(
                    actuals,
                    rows_of,
                    &month_of,
                    months.complete,
                ),
            },
        },
        volume_to_date: all.volume_to_date,
        volume_month: all.volume_month,
    }
}

/// What measuring a block of partners reads.
struct Measuring<'a> {
    programme: &'a Compiled,
    prepared: &'a Prepared<Decimal>,
    population: &'a Population,
    actuals: &'a Transactions,
    resolved: &'a Resolved,
    rows_of: &'a [Vec<usize>],
    /// Each partner's measures of all its rows to date (the settlement's).
    settled: &'a [&'a [Decimal]],
    months: MonthsObserved,
    /// Each row's programme month.
    month_of: &'a [usize],
    /// The components' category scopes over the actuals' categories, looked up once.
    lookup: CategoryLookup,
}

impl Measuring<'_> {
    /// Entries per partner of each column of [`Columns`]: measures, components, complete
    /// months, categories.
    fn widths(&self) -> (usize, usize, usize, usize) {
        (
            self.prepared.measure_len(),
            self.prepared.components.len(),
            self.months.complete,
            self.actuals.category_keys.len(),
        )
    }
}

/// A thread's working memory while it measures partners.
struct Scratch {
    /// A partner's measures (`measure_len` entries).
    measures: Vec<Decimal>,
    /// A partner's orders (a logistics component), hashed as the table's ids are.
    orders: HashMap<OrderKey, (NaiveDate, Decimal, Decimal), IdHash>,
    /// A partner's rows in the month of the forecast date.
    month_rows: Vec<usize>,
}

/// The measured actuals of every partner, laid out as [`ActualsToDate`]'s columns (partner
/// after partner).
struct Columns {
    measures: Vec<f64>,
    volume_to_date: Vec<f64>,
    volume_month: Vec<f64>,
    gross: Vec<f64>,
    partial_bought: Vec<bool>,
    mix_revenue: Vec<f64>,
    revenue_sq: Vec<f64>,
    gross_revenue: Vec<f64>,
    gross_units: Vec<f64>,
    lines: Vec<u32>,
}

/// The rows of [`Columns`] of consecutive partners, written by one task.
struct BlockMut<'c> {
    measures: &'c mut [f64],
    volume_to_date: &'c mut [f64],
    volume_month: &'c mut [f64],
    gross: &'c mut [f64],
    partial_bought: &'c mut [bool],
    mix_revenue: &'c mut [f64],
    revenue_sq: &'c mut [f64],
    gross_revenue: &'c mut [f64],
    gross_units: &'c mut [f64],
    lines: &'c mut [u32],
}

impl Columns {
    /// The columns of `n` partners, zero (from the allocator: pages are touched when written).
    fn zeroed(ctx: &Measuring<'_>, n: usize) -> Columns {
        let (ml, components, complete, nc) = ctx.widths();
        Columns {
            measures: vec![0.0; n * ml],
            volume_to_date: vec![0.0; n * components],
            volume_month: vec![0.0; n * components],
            gross: vec![0.0; n * complete],
            partial_bought: vec![false; n],
            mix_revenue: vec![0.0; n * nc],
            revenue_sq: vec![0.0; n],
            gross_revenue: vec![0.0; n],
            gross_units: vec![0.0; n],
            lines: vec![0; n],
        }
    }

    /// The columns cut into blocks of `per_block` partners, each with its first partner.
    fn blocks<'c>(
        &'c mut self,
        ctx: &Measuring<'_>,
        per_block: usize,
    ) -> Vec<(usize, BlockMut<'c>)> {
        let (ml, components, complete, nc) = ctx.widths();
        // a width of 0 (no complete month, no category) still gives one (empty) slice a block
        fn cut<T>(v: &mut [T], width: usize, per_block: usize, blocks: usize) -> Vec<&mut [T]> {
            if width == 0 {
                return (0..blocks).map(|_| <&mut [T]>::default()).collect();
            }
            v.chunks_mut(width * per_block).collect()
        }
        let blocks = self.partial_bought.len().div_ceil(per_block);
        let mut measures = cut(&mut self.measures, ml, per_block, blocks).into_iter();
        let mut volume_to_date =
            cut(&mut self.volume_to_date, components, per_block, blocks).into_iter();
        let mut volume_month =
            cut(&mut self.volume_month, components, per_block, blocks).into_iter();
        let mut gross = cut(&mut self.gross, complete, per_block, blocks).into_iter();
        let mut mix_revenue = cut(&mut self.mix_revenue, nc, per_block, blocks).into_iter();
        let mut partial_bought = self.partial_bought.chunks_mut(per_block);
        let mut revenue_sq = self.revenue_sq.chunks_mut(per_block);
        let mut gross_revenue = self.gross_revenue.chunks_mut(per_block);
        let mut gross_units = self.gross_units.chunks_mut(per_block);
        let mut lines = self.lines.chunks_mut(per_block);
        let mut out = Vec::with_capacity(blocks);
        for b in 0..blocks {
            let mut next = || -> Option<BlockMut<'c>> {
                Some(BlockMut {
                    measures: measures.next()?,
                    volume_to_date: volume_to_date.next()?,
                    volume_month: volume_month.next()?,
                    gross: gross.next()?,
                    partial_bought: partial_bought.next()?,
                    mix_revenue: mix_revenue.next()?,
                    revenue_sq: revenue_sq.next()?,
                    gross_revenue: gross_revenue.next()?,
                    gross_units: gross_units.next()?,
                    lines: lines.next()?,
                })
            };
            out.push((b * per_block, next().expect("a block of every column")));
        }
        out
    }
}

impl Measuring<'_> {
    /// Measure the partners of `out` (the first is partner `first`), in order.
    fn block(&self, first: usize, out: BlockMut<'_>, scratch: &mut Scratch) {
        let (programme, population) = (self.programme, self.population);
        let (ml, components, complete, nc) = self.widths();
        let mut active = vec![false; components];
        for (j, i) in (first..first + out.partial_bought.len()).enumerate() {
            for (a, c) in active.iter_mut().zip(&programme.components) {
                *a = c
                    .scope
                    .includes_partner(&population.partner_id[i], population.segment_name(i));
            }
            let rows = &self.rows_of[i];
            let to_date = self.settled[i];
            for (o, v) in out.measures[j * ml..(j + 1) * ml].iter_mut().zip(to_date) {
                *o = decimal_to_f64(*v);
            }
            for (c, o) in out.volume_to_date[j * components..(j + 1) * components]
                .iter_mut()
                .enumerate()
            {
                *o = self.volume(to_date, c);
            }
            let mut month_rows = std::mem::take(&mut scratch.month_rows);
            month_rows.clear();
            month_rows.extend(
                rows.iter()
                    .copied()
                    .filter(|&r| self.month_of[r] == self.months.as_of_month),
            );
            self.measure(&month_rows, &active, scratch);
            scratch.month_rows = month_rows;
            for (c, o) in out.volume_month[j * components..(j + 1) * components]
                .iter_mut()
                .enumerate()
            {
                *o = self.volume(&scratch.measures, c);
            }
            let t = tally_purchases(
                self.actuals,
                rows,
                self.month_of,
                &mut out.gross[j * complete..(j + 1) * complete],
                &mut out.mix_revenue[j * nc..(j + 1) * nc],
            );
            out.partial_bought[j] = t.partial_bought;
            out.revenue_sq[j] = t.revenue_sq;
            out.gross_revenue[j] = t.gross_revenue;
            out.gross_units[j] = t.gross_units;
            out.lines[j] = t.lines;
        }
    }

    /// A partner's measures of `rows` (the components in `active`) into `scratch.measures`,
    /// with the settlement's code.
    fn measure(&self, rows: &[usize], active: &[bool], scratch: &mut Scratch) {
        scratch.measures.fill(Decimal::ZERO);
        crate::settlement::fill_measures_with(
            self.prepared,
            self.programme,
            self.actuals,
            self.resolved,
            rows,
            active,
            &mut scratch.measures,
            &mut scratch.orders,
            Some(&self.lookup),
        );
    }

    /// The basis volume of component `c` over all periods of a partner's measures `m`.
    fn volume(&self, m: &[Decimal], c: usize) -> f64 {
        let comp = &self.prepared.components[c];
        (0..self.prepared.periods)
            .map(|k| decimal_to_f64(m[comp.offset + k * comp.slots + slot::VOLUME]))
            .sum()
    }
}

/// A partner's purchases (its positive revenue lines) beyond what [`tally_purchases`] adds
/// into its gross revenue per complete month and its revenue per category.
struct Tally {
    /// Whether it bought in the month of the forecast date (after the complete months).
    partial_bought: bool,
    /// Σ r² over its categorised lines.
    revenue_sq: f64,
    /// Revenue and units of its lines with a positive quantity.
    gross_revenue: f64,
    gross_units: f64,
    /// Positive lines.
    lines: u32,
}

/// Tally a partner's purchases among `rows` (`month_of` gives each row's programme month),
/// in row order: gross revenue per complete month added into `gross` (one entry a complete
/// month) and revenue per category into `revenue` (one entry a category), both zero before.
fn tally_purchases(
    actuals: &Transactions,
    rows: &[usize],
    month_of: &[usize],
    gross: &mut [f64],
    revenue_by_category: &mut [f64],
) -> Tally {
    let complete = gross.len();
    let mut t = Tally {
        partial_bought: false,
        revenue_sq: 0.0,
        gross_revenue: 0.0,
        gross_units: 0.0,
        lines: 0,
    };
    for &r in rows {
        let m = month_of[r];
        let revenue = actuals.revenue[r];
        if revenue > Decimal::ZERO {
            let rv = decimal_to_f64(revenue);
            t.lines += 1;
            let q = decimal_to_f64(actuals.quantity[r]);
            if q > 0.0 {
                t.gross_revenue += rv;
                t.gross_units += q;
            }
            if let Some(k) = actuals.category.as_ref().and_then(|c| c[r]) {
                revenue_by_category[k as usize] += rv;
                t.revenue_sq += rv * rv;
            }
            if m < complete {
                gross[m] += decimal_to_f64(revenue);
            } else {
                t.partial_bought = true;
            }
        }
    }
    t
}

/// A Decimal as f64 (NaN if it has no f64 value).
pub(super) fn decimal_to_f64(d: Decimal) -> f64 {
    crate::money::to_f64(d)
}
