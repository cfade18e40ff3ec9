//! The lines of a settlement held as columns, and what their explanations are rebuilt from.
//!
//! A line is four small integers (partner, component, period, tier) and its seven amounts
//! (~130 bytes); its names, dates, volumes, reward and explanation are derived when asked from
//! the programme and the partner's kept measures (the kernel's pipeline re-run on them gives
//! the same outcome, entitlement and exclusive-group amounts the settlement computed), instead
//! of strings and an explanation text stored for every line up front (~1.15 KB a line).

use super::settle::{overflow_error, Ctx, PartnerWork};
use crate::error::Result;
use crate::money;
use crate::programme::Compiled;
use crate::rules::{Baseline, PartnerScratch, Prepared};
use rust_decimal::Decimal;

/// Number of amounts on a line: `calculated`, the five adjustments, `payable`.
pub(super) const AMOUNTS: usize = 7;

/// Index of `payable` in a line's amounts.
pub(super) const PAYABLE: usize = 6;

/// The lines as columns, in settlement order (partner id, component id, period).
#[derive(Debug, Clone, Default)]
pub(super) struct LineColumns {
    /// Position of the line's partner in the settlement's partner list (id order).
    pub(super) partner: Vec<u32>,
    /// Component index (as in the programme's components, id order).
    pub(super) component: Vec<u32>,
    /// Period index, 0-based.
    pub(super) period: Vec<u32>,
    /// Tier reached.
    pub(super) tier: Vec<u32>,
    /// `calculated`, `adj_component_cap`, `adj_exclusive_group`, `adj_partner_cap`,
    /// `adj_minimum_payout`, `adj_budget_cut`, `payable`.
    pub(super) amounts: Vec<[Decimal; AMOUNTS]>,
}

impl LineColumns {
    /// Number of lines.
    pub(super) fn len(&self) -> usize {
        self.partner.len()
    }

    /// `n` lines of zeros, to be written in place through [`LineColumns::parts`].
    pub(super) fn zeroed(n: usize) -> LineColumns {
        LineColumns {
            partner: vec![0; n],
            component: vec![0; n],
            period: vec![0; n],
            tier: vec![0; n],
            amounts: vec![[Decimal::ZERO; AMOUNTS]; n],
        }
    }

    /// All the lines as one writable part, to be split between blocks of partners.
    pub(super) fn parts(&mut self) -> LineParts<'_> {
        LineParts {
            partner: &mut self.partner,
            component: &mut self.component,
            period: &mut self.period,
            tier: &mut self.tier,
            amounts: &mut self.amounts,
        }
    }
}

/// A run of lines being written in place (a block of partners' part of [`LineColumns`]),
/// front to back by [`LineParts::set_next`].
#[derive(Default)]
pub(super) struct LineParts<'a> {
    partner: &'a mut [u32],
    component: &'a mut [u32],
    period: &'a mut [u32],
    tier: &'a mut [u32],
    amounts: &'a mut [[Decimal; AMOUNTS]],
}

impl<'a> LineParts<'a> {
    /// The first `n` lines and the rest.
    pub(super) fn split_at(self, n: usize) -> (LineParts<'a>, LineParts<'a>) {
        let (pa, pb) = self.partner.split_at_mut(n);
        let (ca, cb) = self.component.split_at_mut(n);
        let (ka, kb) = self.period.split_at_mut(n);
        let (ta, tb) = self.tier.split_at_mut(n);
        let (aa, ab) = self.amounts.split_at_mut(n);
        (
            LineParts {
                partner: pa,
                component: ca,
                period: ka,
                tier: ta,
                amounts: aa,
            },
            LineParts {
                partner: pb,
                component: cb,
                period: kb,
                tier: tb,
                amounts: ab,
            },
        )
    }

    /// Write the next line (the part's first unwritten one) and move past it.
    pub(super) fn set_next(
        &mut self,
        partner: usize,
        component: usize,
        period: usize,
        tier: u32,
        amounts: [Decimal; AMOUNTS],
    ) {
        let (first, rest) = std::mem::take(self).split_at(1);
        first.partner[0] = partner as u32;
        first.component[0] = component as u32;
        first.period[0] = period as u32;
        first.tier[0] = tier;
        first.amounts[0] = amounts;
        *self = rest;
    }
}

/// What the lines' derived columns and explanations are rebuilt from: the programme, its
/// kernel form, and per partner (in the settlement's id order) its measures, active
/// components and baselines; the programme total to date per period (the budget's words).
#[derive(Debug, Clone)]
pub(super) struct Sources {
    /// The transaction table's name (for errors).
    pub(super) table: String,
    pub(super) programme: Compiled,
    pub(super) prep: Prepared<Decimal>,
    /// Partner-major, `prep.measure_len()` each.
    pub(super) measures: Vec<Decimal>,
    /// Partner-major, one per component.
    pub(super) active: Vec<bool>,
    pub(super) baselines: Vec<Baseline<Decimal>>,
    pub(super) programme_total: Vec<Decimal>,
}

impl Sources {
    /// The measures of partner `i` (settlement order).
    pub(super) fn measures_of(&self, i: usize) -> &[Decimal] {
        let n = self.prep.measure_len();
        &self.measures[i * n..(i + 1) * n]
    }

    /// Which components apply to partner `i`.
    pub(super) fn active_of(&self, i: usize) -> &[bool] {
        let n = self.prep.components.len();
        &self.active[i * n..(i + 1) * n]
    }

    /// The context explanations are written in.
    pub(super) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            p: &self.programme,
            prep: &self.prep,
            dp: self.prep.decimals,
            programme_total: &self.programme_total,
        }
    }

    /// Partner `i`'s work rebuilt: the kernel's pipeline re-run on its kept measures, exactly
    /// as the settlement ran it (the same outcome, entitlement and exclusive amounts).
    /// `partner_id` names it in the error of an amount beyond `Decimal`.
    pub(super) fn work(
        &self,
        i: usize,
        partner_id: &str,
        scratch: &mut PartnerScratch<Decimal>,
    ) -> Result<PartnerWork> {
        money::take_overflow();
        let measures = self.measures_of(i).to_vec();
        self.prep
            .settle_partner(&measures, self.active_of(i), &self.baselines[i], scratch);
        if money::take_overflow() {
            return Err(overflow_error(&self.table, partner_id, None, "its rebate"));
        }
        Ok(PartnerWork {
            measures,
            outcome: scratch.outcome.clone(),
            entitled: scratch.entitled.clone(),
            exclusive: scratch.exclusive.clone(),
            monthly: [
                self.baselines[i].revenue_months.is_some(),
                self.baselines[i].units_months.is_some(),
            ],
        })
    }
}
