//! The settlement run: [`settle`] measures each partner, runs the kernel's pipeline in exact
//! decimals, applies the programme budget period by period, builds the lines and totals and
//! the standing against the next tier, and turns any amount beyond `Decimal` into an error
//! naming the partner (and component) instead of a panic.

use super::amounts::Stages;
use super::columns::{zeroed, LineColumns, LineParts, Sources, AMOUNTS};
use super::measure::{fill_measures_with, window_measures, CategoryLookup, OrderKey};
use super::result::{Settlement, Standing};
use super::units::Amount;
use crate::data::{Partners, Resolved, Transactions};
use crate::error::{Error, Result};
use crate::money;
use crate::programme::Compiled;
use crate::rules::{Baseline, Outcome, Prepared, PreparedRule};
use crate::tables::intern::IdHasher;
use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// The hasher of a partner's orders.
type IdHash = std::hash::BuildHasherDefault<IdHasher>;

/// Partners measured together on one thread of the pool (blocks are joined in id order).
pub(super) const PARTNERS_PER_BLOCK: usize = 1024;

/// What an explanation needs of a partner's pipeline (matrices of components × periods,
/// index `c * periods + k`, amounts to date), rebuilt on demand by [`Sources::work`].
pub(super) struct PartnerWork {
    pub(super) measures: Vec<Decimal>,
    pub(super) outcome: Vec<Outcome<Decimal>>,
    pub(super) entitled: Vec<Decimal>,
    pub(super) exclusive: Vec<Decimal>,
    /// Whether the partner has monthly baselines: [revenue, units].
    pub(super) monthly: [bool; 2],
}

/// Settle a programme on actual transactions.
///
/// Checks the data against the programme first (unknown partners, dates outside the
/// programme, undeclared segments or categories, a missing category column), each error
/// naming the table, row and column. The result does not depend on the order of partners,
/// transactions or components.
pub fn settle(p: &Compiled, partners: &Partners, tx: &Transactions) -> Result<Settlement> {
    partners.check_segments(p)?;
    let res = tx.resolve(partners, p)?;
    settle_resolved(p, partners, tx, &res, true)
}

/// The settlement a forecast takes of its actuals: `res` is `tx` already resolved against
/// `partners` (whose segments the caller checked), and no standings against the next tier
/// (the forecast has its own watch list), so [`Settlement::standing`] is empty. Lines and
/// totals are bit for bit those of [`settle`].
pub(crate) fn settle_for_forecast(
    p: &Compiled,
    partners: &Partners,
    tx: &Transactions,
    res: &Resolved,
) -> Result<Settlement> {
    settle_resolved(p, partners, tx, res, false)
}

/// [`settle`] on transactions resolved beforehand, the standings computed when `standing`:
/// the lines' amounts held as minor units, or, if one is not an `i64` of them, as `Decimal`s
/// (the settlement run again: the same result, only held otherwise).
fn settle_resolved(
    p: &Compiled,
    partners: &Partners,
    tx: &Transactions,
    res: &Resolved,
    standing: bool,
) -> Result<Settlement> {
    let prep: Prepared<Decimal> = Prepared::new(p);
    match settle_as::<i64>(p, prep, partners, tx, res, standing)? {
        Ok(s) => Ok(s),
        Err(prep) => settle_as::<Decimal>(p, prep, partners, tx, res, standing)?.map_err(|_| {
            Error::Request("internal error: a settlement amount not held as a Decimal".into())
        }),
    }
}

/// [`settle_resolved`] with the lines' amounts held as `T`; `Err(prep)` (handed back) if one
/// cannot be.
fn settle_as<T: Amount>(
    p: &Compiled,
    prep: Prepared<Decimal>,
    partners: &Partners,
    tx: &Transactions,
    res: &Resolved,
    standing: bool,
) -> Result<std::result::Result<Settlement, Prepared<Decimal>>> {
    money::take_overflow();
    let run = Run {
        p,
        prep: &prep,
        partners,
        tx,
        limit: money::exact_limit(prep.decimals),
    };
    let Some(mut measured) = run.measure_partners::<T>(res)? else {
        return Ok(Err(prep));
    };
    let (programme_total, budget_binding) = run.apply_budget(&mut measured)?;
    let Some(set) = run.finish_lines(&mut measured)? else {
        return Ok(Err(prep));
    };
    let standing = if standing {
        run.standing(&measured, res)?
    } else {
        Vec::new()
    };
    let Measured {
        order,
        measures,
        active,
        lines,
        ..
    } = measured;
    let baselines = order.par_iter().map(|&pi| run.baseline(pi)).collect();
    let table_index = order.iter().map(|&pi| pi as u32).collect();
    let decimals = prep.decimals;
    Ok(Ok(Settlement {
        programme: p.name.clone(),
        currency: p.currency.clone(),
        decimals,
        partners: set.partner_totals,
        standing,
        total: set.total,
        budget_binding,
        line_range: set.line_range,
        table_index,
        lines: lines.held(decimals),
        sources: Sources {
            table: tx.table.clone(),
            programme: p.clone(),
            prep,
            measures,
            active,
            baselines,
            programme_total,
        },
    }))
}

/// The inputs of one settlement run.
pub(super) struct Run<'a> {
    pub(super) p: &'a Compiled,
    pub(super) prep: &'a Prepared<Decimal>,
    pub(super) partners: &'a Partners,
    pub(super) tx: &'a Transactions,
    /// Amounts at or beyond this are not exact ([`money::exact_limit`]).
    pub(super) limit: Decimal,
}

/// Every partner measured and run through the kernel's pipeline, in id order: the measures
/// and active components (kept for standings and explanations), the payable to date before
/// and after the budget (components × periods per partner, for the budget's allocation) and
/// the lines with their amounts before the budget (held as `T`).
pub(super) struct Measured<T> {
    /// Partner table index of each partner, in id order.
    pub(super) order: Vec<usize>,
    pub(super) measures: Vec<Decimal>,
    pub(super) active: Vec<bool>,
    pub(super) payable: Vec<Decimal>,
    /// The payable to date after the budget, where the budget binds in some period (else
    /// `payable`).
    pub(super) budgeted: Option<Vec<Decimal>>,
    pub(super) lines: LineColumns<Vec<[T; AMOUNTS]>>,
}

/// The transaction rows of every partner (partner table index), grouped by a counting sort:
/// `rows[start[p]..start[p + 1]]` in table order.
struct RowsOf {
    start: Vec<usize>,
    rows: Vec<usize>,
}

impl RowsOf {
    fn new(partner_of_row: &[usize], partners: usize) -> RowsOf {
        let mut start = vec![0usize; partners + 1];
        for &p in partner_of_row {
            start[p + 1] += 1;
        }
        for p in 0..partners {
            start[p + 1] += start[p];
        }
        let mut next = start.clone();
        let mut rows = vec![0usize; partner_of_row.len()];
        for (i, &p) in partner_of_row.iter().enumerate() {
            rows[next[p]] = i;
            next[p] += 1;
        }
        RowsOf { start, rows }
    }

    fn of(&self, partner: usize) -> &[usize] {
        &self.rows[self.start[partner]..self.start[partner + 1]]
    }
}

/// One block of partners measured on one thread, with its parts of the output columns.
struct Block<'o, 'l, T> {
    /// Position of the block's first partner in id order.
    first: usize,
    /// Partner table indices, in id order.
    partners: &'o [usize],
    active: &'o [bool],
    measures: &'o mut [Decimal],
    payable: &'o mut [Decimal],
    lines: LineParts<'l, T>,
}

impl Run<'_> {
    /// The error for partner `partner` (an index into the partner table) of an amount beyond
    /// `Decimal` while computing `what`.
    pub(super) fn overflow(&self, partner: usize, component: Option<&str>, what: &str) -> Error {
        overflow_error(&self.tx.table, &self.partners.ids[partner], component, what)
    }

    fn baseline(&self, partner: usize) -> Baseline<Decimal> {
        self.partners.baseline(partner)
    }

    /// Measure every partner (in id order), run the kernel's pipeline on it and write its
    /// lines' amounts before the budget. Partners are measured in blocks of
    /// [`PARTNERS_PER_BLOCK`] on the thread pool, each block writing straight into its part of
    /// the preallocated columns (a partner's line count is its active components × periods,
    /// known before it is measured): exact decimals, so the result is the same for any number
    /// of threads, and an amount beyond `Decimal` is reported for the first such partner in id
    /// order. `None` if a line's amount cannot be held as `T`.
    fn measure_partners<T: Amount>(&self, res: &Resolved) -> Result<Option<Measured<T>>> {
        let (p, prep, partners) = (self.p, self.prep, self.partners);
        let (components, periods, ml) = (prep.components.len(), prep.periods, prep.measure_len());
        let cells = components * periods;
        let rows = RowsOf::new(&res.partner, partners.len());
        let mut order: Vec<usize> = (0..partners.len()).collect();
        order.sort_unstable_by(|&a, &b| partners.ids[a].cmp(&partners.ids[b]));
        let active: Vec<bool> = order
            .par_iter()
            .flat_map_iter(|&pi| {
                p.components.iter().map(move |c| {
                    c.scope
                        .includes_partner(&partners.ids[pi], &partners.segments[pi])
                })
            })
            .collect();
        // one entry per block of partners (none active when the programme has no component)
        let per_block = PARTNERS_PER_BLOCK * components;
        let lines_of_block: Vec<usize> = (0..order.len().div_ceil(PARTNERS_PER_BLOCK))
            .map(|b| {
                let a = &active
                    [(b * per_block).min(active.len())..((b + 1) * per_block).min(active.len())];
                a.iter().filter(|&&x| x).count() * periods
            })
            .collect();
        let n_lines: usize = lines_of_block.iter().sum();
        let mut out = Measured {
            order: Vec::new(),
            measures: zeroed(order.len() * ml),
            active,
            payable: zeroed(order.len() * cells),
            budgeted: None,
            lines: LineColumns::zeroed(n_lines),
        };
        let lookup = CategoryLookup::new(prep, p, self.tx);
        let mut blocks = Vec::with_capacity(lines_of_block.len());
        let mut lines = out.lines.parts();
        let mut measures = out.measures.chunks_mut((PARTNERS_PER_BLOCK * ml).max(1));
        let mut payable = out.payable.chunks_mut((PARTNERS_PER_BLOCK * cells).max(1));
        let mut active = out.active.chunks((PARTNERS_PER_BLOCK * components).max(1));
        for (b, block) in order.chunks(PARTNERS_PER_BLOCK).enumerate() {
            let (here, rest) = lines.split_at(lines_of_block[b]);
            lines = rest;
            blocks.push(Block {
                first: b * PARTNERS_PER_BLOCK,
                partners: block,
                active: active.next().unwrap_or_default(),
                measures: measures.next().unwrap_or_default(),
                payable: payable.next().unwrap_or_default(),
                lines: here,
            });
        }
        let results: Vec<Result<bool>> = blocks
            .into_par_iter()
            .map(|block| self.measure_block(block, res, &rows, &lookup))
            .collect();
        // the first block (id order) in error or with an amount not held as `T`: a block
        // stops at either, so an error after such an amount is the run with `Decimal`'s
        for r in results {
            if !r? {
                return Ok(None);
            }
        }
        out.order = order;
        Ok(Some(out))
    }

    /// Measure the partners of `block` (partner table indices, in id order; the first is the
    /// `block.first`-th partner in id order) into its measures, payable to date and lines
    /// before the budget. `false` (the block left there) at an amount not held as `T`.
    fn measure_block<T: Amount>(
        &self,
        block: Block<'_, '_, T>,
        res: &Resolved,
        rows: &RowsOf,
        lookup: &CategoryLookup,
    ) -> Result<bool> {
        let (p, prep) = (self.p, self.prep);
        let (components, periods, ml) = (prep.components.len(), prep.periods, prep.measure_len());
        let cells = components * periods;
        money::take_overflow(); // this thread's flag, from an earlier block
        let mut scratch = prep.scratch();
        // a partner's orders (a logistics component), hashed as the table's ids are
        let mut orders: HashMap<OrderKey, (NaiveDate, Decimal, Decimal), IdHash> =
            HashMap::default();
        let Block {
            first,
            partners: block,
            active: block_active,
            measures,
            payable,
            mut lines,
        } = block;
        for (j, &pi) in block.iter().enumerate() {
            let wi = first + j;
            let active = &block_active[j * components..(j + 1) * components];
            let m = &mut measures[j * ml..(j + 1) * ml];
            // written before the `+=` of the measuring read it: a fresh page of the zeroed
            // column is then faulted in once, for writing, instead of first as the shared
            // zero page and again when written
            m.fill(Decimal::ZERO);
            fill_measures_with(
                prep,
                p,
                self.tx,
                res,
                rows.of(pi),
                active,
                m,
                &mut orders,
                Some(lookup),
            );
            let baseline = self.baseline(pi);
            prep.settle_partner(m, active, &baseline, &mut scratch);
            if money::take_overflow() || !within(&scratch.entitled, periods, self.limit) {
                let c = overflowing_component(prep, m, active, &baseline, self.limit);
                return Err(self.overflow(
                    pi,
                    c.map(|c| prep.components[c].id.as_str()),
                    "its rebate",
                ));
            }
            for c in (0..components).filter(|&c| active[c]) {
                for k in 0..periods {
                    let stages = Stages::of(&scratch);
                    let Some(amounts) = T::line(stages, c, k, periods, prep.decimals) else {
                        return Ok(false);
                    };
                    let tier = scratch.outcome[c * periods + k].tier;
                    lines.set_next(wi, c, k, tier, amounts);
                }
            }
            payable[j * cells..(j + 1) * cells].copy_from_slice(&scratch.payable);
        }
        Ok(true)
    }

    /// The programme budget, period by period on amounts to date: writes each partner's
    /// `budgeted` where the budget binds; returns the programme total to date per period and
    /// whether the budget bound in any period.
    fn apply_budget<T>(&self, m: &mut Measured<T>) -> Result<(Vec<Decimal>, bool)> {
        let (p, prep) = (self.p, self.prep);
        let periods = prep.periods;
        let components = prep.components.len();
        let cells = components * periods;
        let partners = m.order.len();
        let mut budget_binding = false;
        let mut programme_total = Vec::with_capacity(periods);
        // every partner's payable to date of component c in period k, partner-major (the
        // column is collected only where the budget binds and allocates it)
        let payable = &m.payable;
        let cell =
            |j: usize, k: usize| payable[(j / components) * cells + (j % components) * periods + k];
        // every period's total to date over partners and components in one pass over the
        // column in memory order (each period's cells added in the order `j` of `cell`, as
        // `money::checked_sum` of that period alone would; `None` once one overflows)
        let mut totals = vec![Some(Decimal::ZERO); periods];
        for row in payable.chunks_exact(periods.max(1)) {
            for (t, &x) in totals.iter_mut().zip(row) {
                *t = t.and_then(|t| t.checked_add(x));
            }
        }
        for (k, total) in totals.into_iter().enumerate() {
            let total = total
                .filter(|t| t.abs() < self.limit)
                .ok_or_else(|| programme_overflow(&self.tx.table, &p.calendar.label(k as u32)))?;
            programme_total.push(total);
            if prep.budget_binds(total) {
                budget_binding = true;
                let weights: Vec<Decimal> =
                    (0..partners * components).map(|j| cell(j, k)).collect();
                let budgeted = m.budgeted.get_or_insert_with(|| payable.clone());
                let shares = money::allocate(
                    prep.budget.expect("binding budget"),
                    &weights,
                    prep.decimals,
                )
                .ok_or_else(|| programme_overflow(&self.tx.table, &p.calendar.label(k as u32)))?;
                for (j, share) in shares.into_iter().enumerate() {
                    let (w, c) = (j / components, j % components);
                    budgeted[w * cells + c * periods + k] = share;
                }
            }
        }
        Ok((programme_total, budget_binding))
    }

    /// Standing against the next tier of every ladder and growth component, in the latest
    /// period with transactions.
    fn standing<T: Sync>(&self, m: &Measured<T>, res: &Resolved) -> Result<Vec<Standing>> {
        let current = res.period.iter().copied().max().unwrap_or(0) as usize;
        let label = self.p.calendar.label(current as u32);
        // blocks of partners on the thread pool, joined in id order
        let blocks: Vec<Result<Vec<Standing>>> = m
            .order
            .par_chunks(PARTNERS_PER_BLOCK)
            .enumerate()
            .map(|(b, block)| {
                money::take_overflow(); // this thread's flag, from an earlier block
                let mut standing = Vec::new();
                for (j, &pi) in block.iter().enumerate() {
                    let wi = b * PARTNERS_PER_BLOCK + j;
                    self.partner_standing(m, wi, pi, current, &label, &mut standing)?;
                }
                Ok(standing)
            })
            .collect();
        let mut standing = Vec::new();
        for block in blocks {
            standing.append(&mut block?);
        }
        Ok(standing)
    }

    /// The standings of partner `pi` (the `wi`-th in id order) in period `current`
    /// (`label`), appended to `out`.
    fn partner_standing<T: Sync>(
        &self,
        m: &Measured<T>,
        wi: usize,
        pi: usize,
        current: usize,
        label: &str,
        out: &mut Vec<Standing>,
    ) -> Result<()> {
        let prep = self.prep;
        let (components, ml) = (prep.components.len(), prep.measure_len());
        let baseline = self.baseline(pi);
        let measures = &m.measures[wi * ml..(wi + 1) * ml];
        for (c, pc) in prep.components.iter().enumerate() {
            if !m.active[wi * components + c]
                || !matches!(
                    pc.rule,
                    PreparedRule::Ladder { .. } | PreparedRule::Growth { .. }
                )
            {
                continue;
            }
            let (window, span) = window_measures(prep, measures, c, current);
            let o = prep.evaluate(c, &window, span, &baseline);
            if !o.applicable {
                continue;
            }
            let next = prep.next_tier(c, &window, span, &baseline);
            if money::take_overflow() {
                return Err(self.overflow(pi, Some(&pc.id), "its standing against the next tier"));
            }
            out.push(Standing {
                partner_id: self.partners.ids[pi].clone(),
                component: pc.id.clone(),
                period: current as u32 + 1,
                period_label: label.to_owned(),
                tier: o.tier,
                volume: o.volume,
                next_tier: next.map(|n| n.0),
                next_threshold: next.map(|n| n.1),
                shortfall: next.map(|n| n.2),
                additional_payout: next.map(|n| prep.round(n.3)),
            });
        }
        Ok(())
    }
}

/// The error for an exact amount of partner `partner_id` that overflows `Decimal` (about
/// ±7.9·10^28) while computing `what` (of `component`, where one is to blame).
pub(super) fn overflow_error(
    table: &str,
    partner_id: &str,
    component: Option<&str>,
    what: &str,
) -> Error {
    let comp = component
        .map(|c| format!(", component '{c}'"))
        .unwrap_or_default();
    Error::data(
        table,
        None,
        None,
        format!(
            "partner '{partner_id}'{comp}: {what} is too large to compute exactly (beyond about 7.9e28): check this partner's revenue and quantities and the programme's amounts (e.g. an amount per unit times a huge quantity)"
        ),
    )
}

/// The error for a programme-wide sum (the total to date of `period`, a budget cut, or the
/// programme totals) that overflows `Decimal`.
pub(super) fn programme_overflow(table: &str, period: &str) -> Error {
    Error::data(
        table,
        None,
        None,
        format!(
            "the total payable of {period} over all partners is too large to compute exactly (beyond about 7.9e28): check the revenue and quantities and the programme's amounts"
        ),
    )
}

/// Whether a partner's entitlements to date (components × `periods`, `entitled`) and their
/// sum over the components in every period stay below `limit`: every later stage (caps,
/// groups, partner cap, minimum payout) only lowers them, so the partner's amounts are then
/// exact.
fn within(entitled: &[Decimal], periods: usize, limit: Decimal) -> bool {
    let components = entitled.len() / periods.max(1);
    (0..periods).all(|k| {
        money::checked_sum((0..components).map(|c| entitled[c * periods + k].abs()))
            .is_some_and(|t| t < limit)
    })
}

/// After an overflow in a partner's pipeline (or amounts beyond the exact limit): the
/// component whose own calculation overflows, if one does alone (else the partner's total
/// over its components, a partner cap or minimum payout, overflowed). Clears the overflow
/// flag.
fn overflowing_component(
    prep: &Prepared<Decimal>,
    m: &[Decimal],
    active: &[bool],
    baseline: &Baseline<Decimal>,
    limit: Decimal,
) -> Option<usize> {
    money::take_overflow();
    let mut scratch = prep.scratch();
    let components = active.len();
    let found = (0..components).filter(|&c| active[c]).find(|&c| {
        let only: Vec<bool> = (0..components).map(|o| o == c).collect();
        prep.settle_partner(m, &only, baseline, &mut scratch);
        money::take_overflow() || !within(&scratch.entitled, prep.periods, limit)
    });
    money::take_overflow();
    found
}

/// What every line of a settlement needs: the programme, its kernel form, the currency's
/// decimal places and the programme total to date per period (for the budget cut's words).
pub(super) struct Ctx<'a> {
    pub(super) p: &'a Compiled,
    pub(super) prep: &'a Prepared<Decimal>,
    pub(super) dp: u32,
    pub(super) programme_total: &'a [Decimal],
}
