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
use crate::engine::setup::{Setup, NONE};
use crate::engine::work::Work;
use crate::programme::{Basis, Measure};
use crate::rng::{self};
use crate::rules::{slot, PreparedRule};

mod block;
mod retro;
use crate::programme::TierMethod;
use crate::rules::{at_least_bound, ladder_terms, ladder_terms_reached, Amount, RewardKind};
use retro::{retro_pass, RetroComp, RetroRun};

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

/// The common shape: one period, payable = capped (no exclusive groups, partner cap or
/// minimum payout) and every partner in at most one component (bench-std: each partner in its
/// segment's ladder). A partner's programme is then one rule, one rounding and one cap, and
/// [`run_simple`] does just that, on what [`Plan::new`] worked out once.
#[derive(Debug, Clone)]
struct Simple {
    /// Per partner: its component, or [`NONE`].
    comp: Vec<u32>,
    /// Per component.
    comps: Vec<SimpleComp>,
    /// Per segment: some partner's margin is unknown (the segment's and the scenario's
    /// incremental margin are then NaN).
    seg_margin_nan: Vec<bool>,
    /// Every component a retroactive revenue ladder of rates of at most four tiers
    /// (bench-std): per partner (component or [`NONE`], segment) and per component what its
    /// rule needs, for a partner loop without lookups.
    retro: Option<Retro>,
}

/// [`Simple::retro`]: per partner (component or [`NONE`], segment), per component, and per
/// block of [`block::LANES`] partners whether they are all in one component (not [`NONE`])
/// and one segment ([`retro_pass`] computes such a block lane by lane).
type Retro = (Vec<(u32, u32)>, Vec<RetroComp>, Vec<bool>);

#[derive(Debug, Clone)]
struct SimpleComp {
    /// Its volume is revenue (else units).
    volume_is_revenue: bool,
    /// `measure = cumulative` (a window of the one period).
    cumulative: bool,
    /// A ladder: its tier-count offset and ladder index.
    ladder: Option<(usize, usize)>,
    /// A volume ladder: each tier's threshold less its tolerance ([`at_least_bound`]), so a
    /// tier is reached when the volume is `>=` it.
    bounds: Vec<f64>,
    /// `bounds` do not decrease: the tiers reached are the count of bounds met (no early exit).
    sorted: bool,
    /// Sorted `bounds` of at most four tiers, padded with NaN (never met): counted without a
    /// loop.
    bounds4: Option<[f64; 4]>,
    /// A retroactive revenue ladder of rates without a basis cap (bench-std's): each tier's
    /// rate. [`ladder_terms`] then pays `max(0 + rate · v, 0)` at the tier reached.
    retro_rates: Option<Vec<f64>>,
}

impl Simple {
    fn new(
        s: &Setup,
        off: &[u32],
        active: &[u32],
        ladder_of: &[Option<(usize, usize)>],
        volume_is_revenue: &[bool],
    ) -> Option<Simple> {
        let n = s.partners.len();
        let mut comp = Vec::with_capacity(n);
        for i in 0..n {
            match &active[off[i] as usize..off[i + 1] as usize] {
                [] => comp.push(NONE),
                [c] => comp.push(*c),
                _ => return None,
            }
        }
        let comps = s
            .prep
            .components
            .iter()
            .enumerate()
            .map(|(c, pc)| {
                let bounds: Vec<f64> = match &pc.rule {
                    PreparedRule::Ladder { tiers, .. } => {
                        tiers.iter().map(|t| at_least_bound(t.threshold)).collect()
                    }
                    _ => Vec::new(),
                };
                let sorted = bounds.windows(2).all(|w| w[0] <= w[1]);
                let bounds4 = (sorted && bounds.len() <= 4).then(|| {
                    let mut b = [f64::NAN; 4];
                    b[..bounds.len()].copy_from_slice(&bounds);
                    b
                });
                let retro_rates = match &pc.rule {
                    PreparedRule::Ladder {
                        basis: Basis::Revenue,
                        method: TierMethod::Retroactive,
                        tiers,
                        basis_cap: None,
                    } if !tiers.is_empty() && tiers.iter().all(|t| t.kind == RewardKind::Rate) => {
                        Some(tiers.iter().map(|t| t.value).collect())
                    }
                    _ => None,
                };
                SimpleComp {
                    volume_is_revenue: volume_is_revenue[c],
                    cumulative: pc.measure == Measure::Cumulative,
                    ladder: ladder_of[c],
                    bounds,
                    sorted,
                    bounds4,
                    retro_rates,
                }
            })
            .collect::<Vec<SimpleComp>>();
        let retro = comps
            .iter()
            .zip(&s.prep.components)
            .map(|(sc, pc)| match (&sc.retro_rates, sc.bounds4, sc.ladder) {
                (Some(r), Some(bounds), Some((offset, l))) if r.len() <= 4 => {
                    let mut rates = [0.0; 4];
                    rates[..r.len()].copy_from_slice(r);
                    Some(RetroComp {
                        bounds,
                        rates,
                        cap: pc.cap.unwrap_or(f64::INFINITY),
                        offset: offset as u32,
                        l: l as u32,
                        tiers: r.len() as u8,
                        cumulative: sc.cumulative,
                    })
                }
                _ => None,
            })
            .collect::<Option<Vec<RetroComp>>>()
            .map(|rc| {
                let ps: Vec<(u32, u32)> = comp
                    .iter()
                    .zip(&s.partners)
                    .map(|(&c, p)| (c, p.seg as u32))
                    .collect();
                let uniform = ps
                    .chunks(block::LANES)
                    .map(|b| {
                        b.len() == block::LANES && b[0].0 != NONE && b.iter().all(|&p| p == b[0])
                    })
                    .collect();
                (ps, rc, uniform)
            });
        Some(Simple {
            comp,
            comps,
            seg_margin_nan: (0..s.segment_count)
                .map(|j| s.partners.iter().any(|p| p.seg == j && p.margin.is_nan()))
                .collect(),
            retro,
        })
    }
}

impl Plan {
    /// The plan for `s`, or `None` when the run needs the general path.
    pub(super) fn new(s: &Setup) -> Option<Plan> {
        if s.behaviour || s.needs_orders || s.category_count != 1 {
            return None;
        }
        // returns, and months without a purchase (incidence), are the general path's
        if s.segs.iter().any(|sc| sc.returns != 0.0 || sc.incidence < 1.0) {
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
        for &c in act {
            let c = c as usize;
            let comp = &prep.components[c];
            let volume_is_revenue = plan.volume_is_revenue[c];
            let row = c * period_count;
            let mut window = [0.0; slot::BASE];
            let mut e = 0.0;
            // the tier counted: the highest of any period (`measure = period`) or the last
            let mut tier = 0;
            for k in 0..period_count {
                let r = period_cents[k] / scale;
                // the period's quantity (0 when no component measures units)
                let q = blk.period_q[k][l] / QTY_SCALE;
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
                    t += payable[c as usize * period_count + k];
                }
            } else {
                for c in 0..component_count {
                    t += payable[c * period_count + k];
                }
            }
            t
        };

        // the scenario's summaries (`Setup::run_scenario`)
        let fin = total(period_count - 1);
        for k in 0..period_count - 1 {
            o.totals[k] += total(k);
        }
        o.totals[period_count - 1] += fin;
        o.partner_final[i] = fin;
        o.seg_payout[pc.seg] += fin;
        o.seg_revenue[pc.seg] += revenue;
        o.revenue += revenue;
        if skip_inactive {
            for &c in act {
                o.comp_payout[c as usize] += payable[c as usize * period_count + period_count - 1];
            }
        } else {
            for c in 0..component_count {
                o.comp_payout[c] += payable[c * period_count + period_count - 1];
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
    block::month_rev(setup, &plan.lanes, sk, w, &month_acc, &mut o.month_rev);
    o
}

/// [`run_scenario`] for the common shape ([`Simple`]): [`run`] with one period, payable =
/// capped and at most one component per partner, so its loops over periods and components
/// go, and with what does not vary by partner worked out in [`Plan::new`]. The same
/// floating-point operations in the same order as [`run`] (and so as the general path).
fn run_simple(
    setup: &Setup,
    plan: &Plan,
    simple: &Simple,
    seed: u64,
    s: u64,
    w: &mut Work,
) -> ScenarioOut {
    let n = setup.partners.len();
    let nl = setup.ladders.len();
    // `partner_final` filled block after block below (not zeroed first)
    let mut o = setup.scenario_out_unfilled(1);
    setup.scenario_factors(seed, s, w);
    let sk = rng::scenario_key(seed, s);
    let prep = &setup.prep;
    let scale = setup.scale;
    let mut total = 0.0;
    let mut revenue_sum = 0.0;
    // two passes over the partners: first the demand and each partner's purchases in the
    // period (in minor units, parked in `partner_final`), then the programme (a loop without
    // calls, so its running sums and pointers stay in registers)
    let mut blk = block::BlockOut::new(1);
    let mut month_acc = vec![[0.0; block::LANES]; setup.months];
    for i0 in (0..n).step_by(block::LANES) {
        let nb = block::LANES.min(n - i0);
        block::demand_block(setup, &plan.lanes, sk, i0, nb, w, &mut month_acc, &mut blk);
        o.partner_final.extend_from_slice(&blk.period[0][..nb]);
        if setup.units {
            w.final_q[i0..i0 + nb].copy_from_slice(&blk.period_q[0][..nb]);
        }
    }
    block::month_rev(setup, &plan.lanes, sk, w, &month_acc, &mut o.month_rev);
    if let Some((ps, rc, uniform)) = &simple.retro {
        // retroactive revenue ladders of rates, on compact tables, a block of partners at a time
        let run = RetroRun {
            prep,
            scale,
            nl,
            ps,
            rc,
            uniform,
        };
        let sums = retro_pass(run, &mut o);
        total = sums.0;
        revenue_sum = sums.1;
    } else {
        for i in 0..n {
            let revenue = o.partner_final[i] / scale;
            let pc = &setup.partners[i];
            // `run`'s component loop for the one component (a sum from +0.0 over none is +0.0)
            let mut fin = 0.0;
            let c = simple.comp[i];
            if c != NONE {
                let c = c as usize;
                let sc = &simple.comps[c];
                let comp = &prep.components[c];
                let r = revenue;
                // the period's quantity (0 when no component measures units)
                let q = if setup.units {
                    w.final_q[i] / QTY_SCALE
                } else {
                    0.0
                };
                let mut wm = [if sc.volume_is_revenue { r } else { q }, r, q];
                if sc.cumulative {
                    // the window of one period: summed from +0.0
                    for x in &mut wm {
                        *x += 0.0;
                    }
                }
                let v = wm[slot::VOLUME];
                let reached = || match &sc.bounds4 {
                    Some(b) => {
                        (v >= b[0]) as usize
                            + (v >= b[1]) as usize
                            + (v >= b[2]) as usize
                            + (v >= b[3]) as usize
                    }
                    None if sc.sorted => sc.bounds.iter().map(|&b| (v >= b) as usize).sum(),
                    None => sc.bounds.iter().take_while(|&&b| v >= b).count(),
                };
                let (amount, t) = match (&sc.retro_rates, &comp.rule) {
                    (Some(rates), _) => {
                        // `ladder_terms` of a retroactive revenue ladder of rates (no basis cap):
                        // the reached tier's rate on all the volume, summed from +0.0, at least 0
                        let reached = reached();
                        let a = (0.0 + rates[reached.max(1) - 1] * v).max_of(0.0);
                        (if reached == 0 { 0.0 } else { a }, reached as u32)
                    }
                    (
                        None,
                        PreparedRule::Ladder {
                            basis,
                            method,
                            tiers,
                            basis_cap,
                        },
                    ) => {
                        let reached = reached();
                        let (amount, t, _) = ladder_terms_reached(
                            tiers,
                            *method,
                            *basis,
                            *basis_cap,
                            reached,
                            v,
                            wm[slot::REVENUE],
                            wm[slot::UNITS],
                            |_, _, _| {},
                        );
                        (amount, t)
                    }
                    (None, _) => {
                        let o = prep.evaluate(c, &wm, 1, &pc.baseline);
                        (o.amount, o.tier)
                    }
                };
                let e = if sc.cumulative {
                    prep.round(amount)
                } else {
                    0.0 + prep.round(amount)
                };
                let capped = match comp.cap {
                    Some(cap) => e.min_of(cap),
                    None => e,
                };
                if let Some((offset, l)) = sc.ladder {
                    o.tiers[offset + t as usize] += 1;
                    o.partner_tier[i * nl + l] = t.min(255) as u8;
                }
                fin += capped;
                o.comp_payout[c] += capped;
            }
            // the scenario's summaries; without the programme the purchases and the payout are
            // the same, so the counterfactual sums (the same additions) are copied at the end,
            // and the incremental revenue is 0
            total += fin;
            o.partner_final[i] = fin;
            o.seg_payout[pc.seg] += fin;
            o.seg_revenue[pc.seg] += revenue;
            revenue_sum += revenue;
        }
    }
    o.totals[0] = total;
    o.totals_cf_final = total;
    o.revenue = revenue_sum;
    o.revenue_cf = revenue_sum;
    o.seg_revenue_cf = o.seg_revenue.clone();
    o.seg_payout_cf = o.seg_payout.clone();
    for (m, &nan) in o.seg_incr_margin.iter_mut().zip(&simple.seg_margin_nan) {
        if nan {
            *m = f64::NAN;
            o.incr_margin = f64::NAN;
        }
    }
    o
}

#[cfg(test)]
mod tests;
