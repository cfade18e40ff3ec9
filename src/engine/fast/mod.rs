//! The engine's fast path for the common shape of programme and model.
//!
//! When nothing in a run needs purchase *lines* — no behavioural response, no product
//! categories, no returns, no months without purchases (incidence), no orders, and only volume, growth and per-unit components — a
//! partner's purchases in a period are fully described by one number: the sum of its monthly
//! purchases, each rounded to the minor unit. [`run_scenario`] then goes straight from the
//! month's demand to that sum, the three measures of every component the partner is in
//! (volume, revenue, units), the kernel's rule ([`crate::rules::Prepared::evaluate`]),
//! rounding and component cap, and the kernel's remaining pipeline
//! ([`crate::rules::Prepared::settle_capped`]: exclusive groups, partner cap, minimum payout),
//! folding the scenario's summaries in as it goes. It skips the general path's line
//! bookkeeping and its passes over every component of every partner.
//!
//! It performs exactly the floating-point operations of the general path
//! ([`Setup::run_scenario`] through `run_partner`, `period_purchases`, `measure_period` and
//! `settle_partner`) in the same order, so results are bit-identical; the tests below run
//! both on randomised programmes, populations and models and compare every output.
//!
//! Runs conditioned on actual purchases to date (forecasts, `super::conditioned`) use the
//! general path.

use crate::engine::purchases::QTY_SCALE;
use crate::engine::scenario::ScenarioOut;
use crate::engine::setup::{PartnerConst, Setup};
use crate::engine::work::Work;
use crate::programme::{Basis, Measure};
use crate::rng::{self};
use crate::rules::{ladder_terms, slot, Amount, Baseline, Prepared, PreparedRule, Span};

mod block;
mod retro;
mod simple;
use simple::{run_simple, Simple};

/// What the fast path needs beyond [`Setup`]: whether it applies, and per partner the
/// components it is in.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    /// Partner `i`'s active components: `active[off[i]..off[i + 1]]`.
    off: Vec<u32>,
    active: Vec<u32>,
    /// Per component: its ladder's tier-count offset and ladder index (if a ladder).
    ladder_of: Vec<Option<(usize, usize)>>,
    /// No exclusive groups, partner cap or minimum payout: payable = capped.
    capped_is_payable: bool,
    /// Per component: its volume is revenue (else units).
    volume_is_revenue: Vec<bool>,
    /// The common shape's plan ([`Simple`]), when the run has it.
    simple: Option<Simple>,
    /// The partners as the demand's blocks read them.
    lanes: block::LaneTable,
}

impl Plan {
    /// The plan for `s`, or `None` when the run needs the general path.
    pub(super) fn new(s: &Setup) -> Option<Plan> {
        if s.behaviour || s.needs_orders || s.category_count != 1 {
            return None;
        }
        // returns, and months without a purchase (incidence), are the general path's
        if s.segs
            .iter()
            .any(|sc| sc.returns != 0.0 || sc.incidence < 1.0)
        {
            return None;
        }
        if s.category_scope.iter().any(Option::is_none) {
            return None;
        }
        for c in &s.prep.components {
            match c.rule {
                PreparedRule::Ladder { .. }
                | PreparedRule::Growth { .. }
                | PreparedRule::PerUnit { .. } => {}
                PreparedRule::Bundle { .. } | PreparedRule::Logistics { .. } => return None,
            }
            if c.slots != slot::BASE {
                return None;
            }
        }
        let n = s.partners.len();
        let mut off = Vec::with_capacity(n + 1);
        let mut active = Vec::new();
        off.push(0);
        for i in 0..n {
            for c in 0..s.component_count {
                if s.active[i * s.component_count + c] {
                    active.push(c as u32);
                }
            }
            off.push(active.len() as u32);
        }
        let mut ladder_of = vec![None; s.component_count];
        for (l, (c, lad)) in s.ladders.iter().enumerate() {
            ladder_of[*c] = Some((lad.offset, l));
        }
        let capped_is_payable = s.prep.groups.is_empty()
            && s.prep.partner_cap.is_none()
            && s.prep.minimum_payout.is_none();
        let volume_is_revenue: Vec<bool> = s
            .prep
            .components
            .iter()
            .map(|c| match &c.rule {
                PreparedRule::Ladder { basis, .. } | PreparedRule::Growth { basis, .. } => {
                    *basis == Basis::Revenue
                }
                _ => false, // per unit: the volume is units
            })
            .collect();
        let simple = if s.period_count == 1 && capped_is_payable {
            Simple::new(s, &off, &active, &ladder_of, &volume_is_revenue)
        } else {
            None
        };
        Some(Plan {
            off,
            active,
            ladder_of,
            capped_is_payable,
            volume_is_revenue,
            simple,
            lanes: block::LaneTable::new(s),
        })
    }
}

/// [`Setup::run_scenario`] on the fast path (see the module documentation).
pub(super) fn run_scenario(
    setup: &Setup,
    plan: &Plan,
    seed: u64,
    s: u64,
    w: &mut Work,
) -> ScenarioOut {
    // a forecast conditioned on actuals (`conditioned`) runs its own scenarios through the
    // general path; its actual measures never reach this one
    debug_assert!(!w.actual_on, "the fast path does not add actual measures");
    // the same code, compiled for one period and for several, with and without the
    // kernel's later stages (so that the common cases lose their loops and tests)
    if let Some(simple) = &plan.simple {
        return run_simple(setup, plan, simple, seed, s, w);
    }
    match (setup.period_count == 1, plan.capped_is_payable) {
        (true, true) => run::<true, true>(setup, plan, seed, s, w),
        (true, false) => run::<true, false>(setup, plan, seed, s, w),
        (false, true) => run::<false, true>(setup, plan, seed, s, w),
        (false, false) => run::<false, false>(setup, plan, seed, s, w),
    }
}

/// [`run_scenario`] for `ONE_PERIOD` (the programme has one period) and `CAPPED_IS_PAYABLE`
/// ([`Plan::capped_is_payable`]).
fn run<const ONE_PERIOD: bool, const CAPPED_IS_PAYABLE: bool>(
    setup: &Setup,
    plan: &Plan,
    seed: u64,
    s: u64,
    w: &mut Work,
) -> ScenarioOut {
    let n = setup.partners.len();
    let nl = setup.ladders.len();
    let period_count = if ONE_PERIOD { 1 } else { setup.period_count };
    let component_count = setup.component_count;
    let mut o = setup.scenario_out(period_count);
    setup.scenario_factors(seed, s, w);
    let sk = rng::scenario_key(seed, s);
    let prep = &setup.prep;
    let scale = setup.scale;
    // period purchases in minor units, reused for every partner
    let mut period_cents = vec![0.0; period_count];
    let mut was_active = vec![false; component_count];
    let mut blk = block::BlockOut::new(period_count);
    let mut month_acc = vec![[0.0; block::LANES]; setup.months];
    for i in 0..n {
        let pc = &setup.partners[i];
        // purchases: one line a month (its share of the single line category), rounded to
        // the minor unit; no returns, no stretch (`Setup::period_purchases`'s common case),
        // for a block of partners at a time
        let l = i % block::LANES;
        if l == 0 {
            let nb = block::LANES.min(n - i);
            block::demand_block(setup, &plan.lanes, sk, i, nb, w, &mut month_acc, &mut blk);
        }
        for (k, pcents) in period_cents.iter_mut().enumerate() {
            *pcents = blk.period[k][l];
        }
        let cents = if period_count == 1 {
            period_cents[0]
        } else {
            blk.total[l]
        };
        let revenue = cents / scale;

        // entitlement and component cap of the partner's components (`settle_partner`,
        // step 1, on the measures `measure_period` gives a period's single-category net
        // purchases); the others' rows are cleared
        let act = &plan.active[plan.off[i] as usize..plan.off[i + 1] as usize];
        if !CAPPED_IS_PAYABLE {
            // the kernel's later stages read every component's row
            for &c in act {
                was_active[c as usize] = true;
            }
            for (c, a) in was_active.iter_mut().enumerate() {
                w.scratch.set_active(c, *a);
                *a = false;
            }
        }
        let periods = PartnerPeriods {
            count: period_count,
            cents: &period_cents,
            quantities: &blk.period_q,
            lane: l,
            scale,
        };
        for &c in act {
            let c = c as usize;
            let row = &mut w.scratch.capped[c * period_count..(c + 1) * period_count];
            let tier = entitle_component(
                prep,
                c,
                plan.volume_is_revenue[c],
                &pc.baseline,
                &periods,
                row,
            );
            if let Some((offset, l)) = plan.ladder_of[c] {
                o.tiers[offset + tier as usize] += 1;
                o.partner_tier[i * nl + l] = tier.min(255) as u8;
            }
        }
        // What is payable: without exclusive groups, partner cap and minimum payout, the
        // capped entitlement
        let payable = if CAPPED_IS_PAYABLE {
            Payable {
                rows: &w.scratch.capped,
                act,
                skip_inactive: true,
                period_count,
                component_count,
            }
        } else {
            prep.settle_capped(&mut w.scratch);
            Payable {
                rows: &w.scratch.payable,
                act,
                skip_inactive: false,
                period_count,
                component_count,
            }
        };
        fold_partner(&mut o, i, pc, revenue, &payable);
    }
    block::month_rev(setup, &plan.lanes, sk, w, &month_acc, &mut o.month_rev);
    o
}

/// A partner's purchases in each period, as the demand block left them in its lane: the
/// measures `measure_period` gives a period's single-category net purchases.
struct PartnerPeriods<'a> {
    /// The programme's periods.
    count: usize,
    /// Purchases per period in minor units.
    cents: &'a [f64],
    /// Quantities per period in millionths of a unit, lane by lane (zeros when no component
    /// measures units).
    quantities: &'a [[f64; block::LANES]],
    lane: usize,
    /// Minor units per currency unit.
    scale: f64,
}

/// Component `c`'s entitlement and component cap to each period of a partner
/// (`settle_partner`, step 1), written to its row of the scratch's `capped`; returns the tier
/// counted: the highest of any period (`measure = period`) or the last.
#[inline(always)]
fn entitle_component(
    prep: &Prepared<f64>,
    c: usize,
    volume_is_revenue: bool,
    baseline: &Baseline<f64>,
    periods: &PartnerPeriods,
    capped: &mut [f64],
) -> u32 {
    let comp = &prep.components[c];
    let mut window = [0.0; slot::BASE];
    let mut e = 0.0;
    let mut tier = 0;
    for k in 0..periods.count {
        let r = periods.cents[k] / periods.scale;
        // the period's quantity (0 when no component measures units)
        let q = periods.quantities[k][periods.lane] / QTY_SCALE;
        let m = [if volume_is_revenue { r } else { q }, r, q];
        let wm = match comp.measure {
            Measure::Period => &m,
            Measure::Cumulative => {
                for (x, y) in window.iter_mut().zip(m) {
                    *x += y;
                }
                &window
            }
        };
        // the kernel's rule (`Prepared::evaluate`; a volume ladder is `ladder_terms`)
        let (amount, t) = match &comp.rule {
            PreparedRule::Ladder {
                basis,
                method,
                tiers,
                basis_cap,
            } => {
                let (amount, t, _) = ladder_terms(
                    tiers,
                    *method,
                    *basis,
                    *basis_cap,
                    wm[slot::VOLUME],
                    wm[slot::REVENUE],
                    wm[slot::UNITS],
                    |_, _, _| {},
                );
                (amount, t)
            }
            _ => {
                let o = prep.evaluate(c, wm, Span::of(comp.measure, k as u32), baseline);
                (o.amount, o.tier)
            }
        };
        match comp.measure {
            Measure::Period => {
                e += prep.round(amount);
                tier = tier.max(t);
            }
            Measure::Cumulative => {
                e = prep.round(amount);
                tier = t;
            }
        }
        capped[k] = match comp.cap {
            Some(cap) => e.min_of(cap),
            None => e,
        };
    }
    tier
}

/// A partner's payable amounts (index `c * period_count + k`), summed as
/// `PartnerScratch::total` sums them over every component (from +0.0, in component order).
/// With `skip_inactive` (payable = capped) the components the partner is not in pay exactly
/// +0.0 and the sums skip them, which changes no bit (a sum that starts at +0.0 is never
/// −0.0, and s + 0.0 = s for any other s).
struct Payable<'a> {
    rows: &'a [f64],
    /// The partner's components.
    act: &'a [u32],
    skip_inactive: bool,
    period_count: usize,
    component_count: usize,
}

impl Payable<'_> {
    /// The partner's total at period `k`.
    #[inline(always)]
    fn total(&self, k: usize) -> f64 {
        let mut t = 0.0;
        if self.skip_inactive {
            for &c in self.act {
                t += self.rows[c as usize * self.period_count + k];
            }
        } else {
            for c in 0..self.component_count {
                t += self.rows[c * self.period_count + k];
            }
        }
        t
    }

    /// Adds each component's amount at the last period to `comp_payout`.
    #[inline(always)]
    fn add_final_per_component(&self, comp_payout: &mut [f64]) {
        let last = self.period_count - 1;
        if self.skip_inactive {
            for &c in self.act {
                comp_payout[c as usize] += self.rows[c as usize * self.period_count + last];
            }
        } else {
            for c in 0..self.component_count {
                comp_payout[c] += self.rows[c * self.period_count + last];
            }
        }
    }
}

/// Folds partner `i` into the scenario's summaries (`Setup::run_scenario`); without the
/// programme its purchases are the same (no behaviour on the fast path).
#[inline(always)]
fn fold_partner(o: &mut ScenarioOut, i: usize, pc: &PartnerConst, revenue: f64, payable: &Payable) {
    let period_count = payable.period_count;
    let fin = payable.total(period_count - 1);
    for k in 0..period_count - 1 {
        o.totals[k] += payable.total(k);
    }
    o.totals[period_count - 1] += fin;
    o.partner_final[i] = fin;
    o.seg_payout[pc.seg] += fin;
    o.seg_revenue[pc.seg] += revenue;
    o.revenue += revenue;
    payable.add_final_per_component(&mut o.comp_payout);
    o.revenue_cf += revenue;
    o.totals_cf_final += fin;
    o.seg_revenue_cf[pc.seg] += revenue;
    o.seg_payout_cf[pc.seg] += fin;
    if pc.margin.is_nan() {
        o.incr_margin = f64::NAN;
        o.seg_incr_margin[pc.seg] = f64::NAN;
    }
}

#[cfg(test)]
mod tests;
