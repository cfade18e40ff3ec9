//! The settlement run: [`settle`] measures each partner, runs the kernel's pipeline in exact
//! decimals, applies the programme budget period by period, builds the lines and totals and
//! the standing against the next tier, and turns any amount beyond `Decimal` into an error
//! naming the partner (and component) instead of a panic.

use super::measure::{fill_measures, window_measures, OrderKey};
use super::result::{Line, PartnerTotal, Settlement, Standing, Totals};
use super::text::{kind_name, reward_columns};
use crate::calendar::Calendar;
use crate::data::{Partners, Resolved, Transactions};
use crate::error::{Error, Result};
use crate::money;
use crate::programme::Compiled;
use crate::rules::{slot, Baseline, Outcome, Prepared, PreparedRule};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Everything computed for one partner before the budget (matrices of components × periods,
/// index `c * periods + k`, amounts to date).
pub(super) struct PartnerWork {
    pub(super) partner: usize,
    pub(super) active: Vec<bool>,
    pub(super) measures: Vec<Decimal>,
    pub(super) outcome: Vec<Outcome<Decimal>>,
    pub(super) entitled: Vec<Decimal>,
    pub(super) capped: Vec<Decimal>,
    pub(super) exclusive: Vec<Decimal>,
    pub(super) partner_capped: Vec<Decimal>,
    pub(super) payable: Vec<Decimal>,
    pub(super) budgeted: Vec<Decimal>,
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
    let prep: Prepared<Decimal> = Prepared::new(p);
    money::take_overflow();
    let run = Run {
        p,
        prep: &prep,
        partners,
        tx,
        limit: money::exact_limit(prep.decimals),
    };
    let mut works = run.partner_works(&res)?;
    let (programme_total, budget_binding) = run.apply_budget(&mut works)?;
    let ctx = Ctx {
        p,
        prep: &prep,
        dp: prep.decimals,
        programme_total: &programme_total,
    };
    let lines = run.lines(&ctx, &works)?;
    let standing = run.standing(&works, &res)?;
    Ok(Settlement {
        programme: p.name.clone(),
        currency: p.currency.clone(),
        decimals: prep.decimals,
        lines: lines.lines,
        partners: lines.partner_totals,
        standing,
        total: lines.total,
        budget_binding,
        index: lines.index,
        line_range: lines.line_range,
    })
}

/// The inputs of one settlement run.
struct Run<'a> {
    p: &'a Compiled,
    prep: &'a Prepared<Decimal>,
    partners: &'a Partners,
    tx: &'a Transactions,
    /// Amounts at or beyond this are not exact ([`money::exact_limit`]).
    limit: Decimal,
}

/// The lines of a settlement with their totals and the index of each partner's lines.
struct LineSet {
    lines: Vec<Line>,
    partner_totals: Vec<PartnerTotal>,
    total: Totals,
    index: HashMap<String, usize>,
    line_range: Vec<(usize, usize)>,
}

impl Run<'_> {
    /// The error for partner `partner` (an index into the partner table) of an amount beyond
    /// `Decimal` while computing `what`.
    fn overflow(&self, partner: usize, component: Option<&str>, what: &str) -> Error {
        overflow_error(&self.tx.table, &self.partners.ids[partner], component, what)
    }

    fn baseline(&self, partner: usize) -> Baseline<Decimal> {
        Baseline {
            revenue: self.partners.baseline_revenue[partner],
            units: self.partners.baseline_units[partner],
        }
    }

    /// Measure every partner (in id order) and run the kernel's pipeline on it.
    fn partner_works(&self, res: &Resolved) -> Result<Vec<PartnerWork>> {
        let (p, prep, partners) = (self.p, self.prep, self.partners);
        // rows per partner, partners in id order
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); partners.len()];
        for (i, &pi) in res.partner.iter().enumerate() {
            rows_of[pi].push(i);
        }
        let mut order: Vec<usize> = (0..partners.len()).collect();
        order.sort_by(|&a, &b| partners.ids[a].cmp(&partners.ids[b]));

        let mut scratch = prep.scratch();
        let mut works: Vec<PartnerWork> = Vec::with_capacity(order.len());
        let mut orders: HashMap<OrderKey, (NaiveDate, Decimal, Decimal)> = HashMap::new();
        for &pi in &order {
            let active: Vec<bool> = p
                .components
                .iter()
                .map(|c| {
                    c.scope
                        .includes_partner(&partners.ids[pi], &partners.segments[pi])
                })
                .collect();
            let mut m = vec![Decimal::ZERO; prep.measure_len()];
            fill_measures(
                prep,
                p,
                self.tx,
                res,
                &rows_of[pi],
                &active,
                &mut m,
                &mut orders,
            );
            let baseline = self.baseline(pi);
            prep.settle_partner(&m, &active, &baseline, &mut scratch);
            if money::take_overflow() || !within(&scratch.entitled, prep.periods, self.limit) {
                let c = overflowing_component(prep, &m, &active, &baseline, self.limit);
                return Err(self.overflow(
                    pi,
                    c.map(|c| prep.components[c].id.as_str()),
                    "its rebate",
                ));
            }
            works.push(PartnerWork {
                partner: pi,
                active,
                measures: m,
                outcome: scratch.outcome.clone(),
                entitled: scratch.entitled.clone(),
                capped: scratch.capped.clone(),
                exclusive: scratch.exclusive.clone(),
                partner_capped: scratch.partner_capped.clone(),
                budgeted: scratch.payable.clone(),
                payable: scratch.payable.clone(),
            });
        }
        Ok(works)
    }

    /// The programme budget, period by period on amounts to date: writes each partner's
    /// `budgeted` where the budget binds; returns the programme total to date per period and
    /// whether the budget bound in any period.
    fn apply_budget(&self, works: &mut [PartnerWork]) -> Result<(Vec<Decimal>, bool)> {
        let (p, prep) = (self.p, self.prep);
        let periods = prep.periods;
        let components = prep.components.len();
        let mut budget_binding = false;
        let mut programme_total = Vec::with_capacity(periods);
        for k in 0..periods {
            let total = money::checked_sum(
                works
                    .iter()
                    .flat_map(|w| (0..components).map(move |c| w.payable[c * periods + k])),
            )
            .filter(|t| t.abs() < self.limit)
            .ok_or_else(|| programme_overflow(&self.tx.table, &p.calendar.label(k as u32)))?;
            programme_total.push(total);
            if prep.budget_binds(total) {
                budget_binding = true;
                let weights: Vec<Decimal> = works
                    .iter()
                    .flat_map(|w| (0..components).map(move |c| w.payable[c * periods + k]))
                    .collect();
                let shares = money::allocate(
                    prep.budget.expect("binding budget"),
                    &weights,
                    prep.decimals,
                )
                .ok_or_else(|| programme_overflow(&self.tx.table, &p.calendar.label(k as u32)))?;
                for (j, share) in shares.into_iter().enumerate() {
                    works[j / components].budgeted[(j % components) * periods + k] = share;
                }
            }
        }
        Ok((programme_total, budget_binding))
    }

    /// One line per partner (in id order), active component and period, with the partner
    /// and programme totals.
    fn lines(&self, ctx: &Ctx, works: &[PartnerWork]) -> Result<LineSet> {
        let prep = self.prep;
        let dp = prep.decimals;
        let mut set = LineSet {
            lines: Vec::new(),
            partner_totals: Vec::with_capacity(works.len()),
            total: Totals::zero(dp),
            index: HashMap::with_capacity(works.len()),
            line_range: Vec::with_capacity(works.len()),
        };
        let lines = &mut set.lines;
        for (wi, w) in works.iter().enumerate() {
            let pid = &self.partners.ids[w.partner];
            let seg = &self.partners.segments[w.partner];
            let first = lines.len();
            let mut pt = Totals::zero(dp);
            for c in 0..prep.components.len() {
                if !w.active[c] {
                    continue;
                }
                for k in 0..prep.periods {
                    let line = ctx.line(w, c, k, pid, seg, &self.p.calendar);
                    if money::take_overflow() {
                        return Err(self.overflow(
                            w.partner,
                            Some(&prep.components[c].id),
                            "the explanation of its rebate",
                        ));
                    }
                    pt.add(&line, self.limit)
                        .ok_or_else(|| self.overflow(w.partner, None, "its total"))?;
                    lines.push(line);
                }
            }
            for l in &lines[first..] {
                set.total
                    .add(l, self.limit)
                    .ok_or_else(|| programme_overflow(&self.tx.table, "the programme"))?;
            }
            set.index.insert(pid.clone(), wi);
            set.line_range.push((first, lines.len()));
            set.partner_totals.push(PartnerTotal {
                partner_id: pid.clone(),
                segment: seg.clone(),
                totals: pt,
            });
        }
        Ok(set)
    }

    /// Standing against the next tier of every ladder and growth component, in the latest
    /// period with transactions.
    fn standing(&self, works: &[PartnerWork], res: &Resolved) -> Result<Vec<Standing>> {
        let prep = self.prep;
        let current = res.period.iter().copied().max().unwrap_or(0) as usize;
        let mut standing = Vec::new();
        for w in works {
            let baseline = self.baseline(w.partner);
            for (c, pc) in prep.components.iter().enumerate() {
                if !w.active[c]
                    || !matches!(
                        pc.rule,
                        PreparedRule::Ladder { .. } | PreparedRule::Growth { .. }
                    )
                {
                    continue;
                }
                let (window, periods) = window_measures(prep, &w.measures, c, current);
                let o = prep.evaluate(c, &window, periods, &baseline);
                if !o.applicable {
                    continue;
                }
                let next = prep.next_tier(c, &window, periods, &baseline);
                if money::take_overflow() {
                    return Err(self.overflow(
                        w.partner,
                        Some(&pc.id),
                        "its standing against the next tier",
                    ));
                }
                standing.push(Standing {
                    partner_id: self.partners.ids[w.partner].clone(),
                    component: pc.id.clone(),
                    period: current as u32 + 1,
                    period_label: self.p.calendar.label(current as u32),
                    tier: o.tier,
                    volume: o.volume,
                    next_tier: next.map(|n| n.0),
                    next_threshold: next.map(|n| n.1),
                    shortfall: next.map(|n| n.2),
                    additional_payout: next.map(|n| prep.round(n.3)),
                });
            }
        }
        Ok(standing)
    }
}

/// The error for an exact amount of partner `partner_id` that overflows `Decimal` (about
/// ±7.9·10^28) while computing `what` (of `component`, where one is to blame).
fn overflow_error(table: &str, partner_id: &str, component: Option<&str>, what: &str) -> Error {
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
fn programme_overflow(table: &str, period: &str) -> Error {
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

impl Ctx<'_> {
    /// The line of component `c` in period `k` for the partner of `w`.
    fn line(
        &self,
        w: &PartnerWork,
        c: usize,
        k: usize,
        pid: &str,
        seg: &str,
        cal: &Calendar,
    ) -> Line {
        let prep = self.prep;
        let pc = &prep.components[c];
        let periods = prep.periods;
        let at = |v: &[Decimal], k: usize| v[c * periods + k];
        let diff = |v: &[Decimal]| {
            if k == 0 {
                at(v, 0)
            } else {
                at(v, k) - at(v, k - 1)
            }
        };
        // every amount with exactly the currency's decimal places (a stage's zero is a bare 0)
        let scaled = |v: Decimal| money::at_scale(v, self.dp);
        let calculated = scaled(diff(&w.entitled));
        let adj_component_cap = scaled(diff(&w.capped) - calculated);
        let adj_exclusive_group = scaled(diff(&w.exclusive) - diff(&w.capped));
        let adj_partner_cap = scaled(diff(&w.partner_capped) - diff(&w.exclusive));
        let adj_minimum_payout = scaled(diff(&w.payable) - diff(&w.partner_capped));
        let adj_budget_cut = scaled(diff(&w.budgeted) - diff(&w.payable));
        let payable = scaled(diff(&w.budgeted));
        debug_assert_eq!(
            calculated
                + adj_component_cap
                + adj_exclusive_group
                + adj_partner_cap
                + adj_minimum_payout
                + adj_budget_cut,
            payable
        );
        let vol_slot = if matches!(pc.rule, PreparedRule::PerUnit { .. }) {
            slot::UNITS
        } else {
            slot::VOLUME
        };
        let volume_period = w.measures[prep.index(c, k, vol_slot)];
        let volume_to_date: Decimal = (0..=k)
            .map(|j| w.measures[prep.index(c, j, vol_slot)])
            .sum();
        let o = w.outcome[c * periods + k];
        let (basis, tier_threshold, reward) = reward_columns(&pc.rule, o.tier, self.dp);
        let explanation = self.explanation(
            w,
            c,
            k,
            calculated,
            [
                adj_component_cap,
                adj_exclusive_group,
                adj_partner_cap,
                adj_minimum_payout,
                adj_budget_cut,
            ],
            payable,
        );
        Line {
            partner_id: pid.to_owned(),
            segment: seg.to_owned(),
            component: pc.id.clone(),
            kind: kind_name(&pc.rule).to_owned(),
            period: k as u32 + 1,
            period_label: cal.label(k as u32),
            period_start: cal.period_start(k as u32),
            period_end: cal.period_end(k as u32),
            basis: basis.to_owned(),
            volume_period,
            volume_to_date,
            tier: o.tier,
            tier_threshold,
            reward,
            calculated,
            adj_component_cap,
            adj_exclusive_group,
            adj_partner_cap,
            adj_minimum_payout,
            adj_budget_cut,
            payable,
            payment_date: self.p.payment_date(k as u32),
            explanation,
        }
    }
}
