//! The engine's fast path for the common shape of programme and model.
//!
//! When nothing in a run needs purchase *lines* — no behavioural response, no product
//! categories, no returns, no orders, and only volume, growth and per-unit components — a
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

use super::*;
use crate::rules::{ladder_terms, Amount};

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
}

impl Plan {
    /// The plan for `s`, or `None` when the run needs the general path.
    pub(super) fn new(s: &Setup) -> Option<Plan> {
        if s.behaviour || s.needs_orders || s.ncl != 1 {
            return None;
        }
        if s.segs.iter().any(|sc| sc.returns != 0.0) {
            return None;
        }
        if s.cat_in.iter().any(|&v| v < 0) {
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
            for c in 0..s.nc {
                if s.active[i * s.nc + c] {
                    active.push(c as u32);
                }
            }
            off.push(active.len() as u32);
        }
        let mut ladder_of = vec![None; s.nc];
        for (l, (c, lad)) in s.ladders.iter().enumerate() {
            ladder_of[*c] = Some((lad.offset, l));
        }
        let capped_is_payable = s.prep.groups.is_empty()
            && s.prep.partner_cap.is_none()
            && s.prep.minimum_payout.is_none();
        let volume_is_revenue = s
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
        Some(Plan {
            off,
            active,
            ladder_of,
            capped_is_payable,
            volume_is_revenue,
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
    match (setup.kk == 1, plan.capped_is_payable) {
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
    let kk = if ONE_PERIOD { 1 } else { setup.kk };
    let (nc, months) = (setup.nc, setup.months);
    let mut o = ScenarioOut {
        totals: vec![0.0; kk],
        revenue: 0.0,
        revenue_cf: 0.0,
        incr_revenue: 0.0,
        incr_margin: 0.0,
        totals_cf_final: 0.0,
        stretches: 0,
        seg_payout: vec![0.0; setup.nseg],
        seg_revenue: vec![0.0; setup.nseg],
        seg_revenue_cf: vec![0.0; setup.nseg],
        seg_incr_revenue: vec![0.0; setup.nseg],
        seg_incr_margin: vec![0.0; setup.nseg],
        seg_payout_cf: vec![0.0; setup.nseg],
        comp_payout: vec![0.0; nc],
        tiers: vec![0; setup.tier_width],
        month_rev: vec![0.0; months],
        partner_final: vec![0.0; n],
        partner_tier: vec![0; n * nl],
    };
    let mut market = std::mem::take(&mut w.market);
    setup.market_path(seed, s, &mut market);
    w.market = market;
    let mut segf = std::mem::take(&mut w.segf);
    setup.segment_factors(seed, s, &mut segf);
    w.segf = segf;
    let sk = rng::scenario_key(seed, s);
    let prep = &setup.prep;
    let scale = setup.scale;
    // period purchases in minor units, reused for every partner
    let mut period_cents = vec![0.0; kk];
    let mut was_active = vec![false; nc];
    let mut blk = block::BlockOut::new(kk);
    for i in 0..n {
        let pc = &setup.partners[i];
        // purchases: one line a month (its share of the single line category), rounded to
        // the minor unit; no returns, no stretch (`Setup::period_purchases`'s common case),
        // for a block of partners at a time
        let l = i % block::LANES;
        if l == 0 {
            let nb = block::LANES.min(n - i);
            block::demand_block(setup, sk, i, nb, w, &mut o.month_rev, &mut blk);
        }
        for (k, pcents) in period_cents.iter_mut().enumerate() {
            *pcents = blk.period[k][l];
        }
        let cents = if kk == 1 {
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
        let inv = pc.inv_price;
        for &c in act {
            let c = c as usize;
            let comp = &prep.components[c];
            let volume_is_revenue = plan.volume_is_revenue[c];
            let row = c * kk;
            let mut window = [0.0; slot::BASE];
            let mut e = 0.0;
            // the tier counted: the highest of any period (`measure = period`) or the last
            let mut tier = 0;
            for k in 0..kk {
                let r = period_cents[k] / scale;
                let q = r * inv;
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
                        let wp = match comp.measure {
                            Measure::Period => 1,
                            Measure::Cumulative => k as u32 + 1,
                        };
                        let o = prep.evaluate(c, wm, wp, &pc.baseline);
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
                w.scratch.capped[row + k] = match comp.cap {
                    Some(cap) => e.min_of(cap),
                    None => e,
                };
            }
            if let Some((offset, l)) = plan.ladder_of[c] {
                o.tiers[offset + tier as usize] += 1;
                o.partner_tier[i * nl + l] = tier.min(255) as u8;
            }
        }
        // What is payable, and the partner's total at each period as `PartnerScratch::total`
        // sums it over every component (from +0.0, in component order). Without exclusive
        // groups, partner cap and minimum payout, payable is the capped entitlement and the
        // components the partner is not in pay exactly +0.0: the sums skip them, which changes
        // no bit (a sum that starts at +0.0 is never −0.0, and s + 0.0 = s for any other s).
        let (payable, skip_inactive) = if CAPPED_IS_PAYABLE {
            (&w.scratch.capped, true)
        } else {
            prep.settle_capped(&mut w.scratch);
            (&w.scratch.payable, false)
        };
        let total = |k: usize| {
            let mut t = 0.0;
            if skip_inactive {
                for &c in act {
                    t += payable[c as usize * kk + k];
                }
            } else {
                for c in 0..nc {
                    t += payable[c * kk + k];
                }
            }
            t
        };

        // the scenario's summaries (`Setup::run_scenario`)
        let fin = total(kk - 1);
        for k in 0..kk - 1 {
            o.totals[k] += total(k);
        }
        o.totals[kk - 1] += fin;
        o.partner_final[i] = fin;
        o.seg_payout[pc.seg] += fin;
        o.seg_revenue[pc.seg] += revenue;
        o.revenue += revenue;
        if skip_inactive {
            for &c in act {
                o.comp_payout[c as usize] += payable[c as usize * kk + kk - 1];
            }
        } else {
            for c in 0..nc {
                o.comp_payout[c] += payable[c * kk + kk - 1];
            }
        }
        // without the programme: the same purchases (no behaviour)
        o.revenue_cf += revenue;
        o.totals_cf_final += fin;
        o.seg_revenue_cf[pc.seg] += revenue;
        o.seg_payout_cf[pc.seg] += fin;
        if pc.margin.is_nan() {
            o.incr_margin = f64::NAN;
            o.seg_incr_margin[pc.seg] = f64::NAN;
        }
    }
    o
}

#[cfg(test)]
mod tests;
