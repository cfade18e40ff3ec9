//! The fast path's common shape ([`Simple`]): one period, payable = capped and every partner
//! in at most one component, so a partner's programme is one rule, one rounding and one cap.
//! [`Simple::new`] works out once what does not vary by partner; [`run_simple`] runs a
//! scenario on it with the same floating-point operations in the same order as the fast
//! path's general loop ([`super::run_scenario`]), so results are bit-identical.

use super::block;
use super::retro::{retro_pass, RetroComp, RetroRun};
use super::Plan;
use crate::engine::purchases::QTY_SCALE;
use crate::engine::scenario::ScenarioOut;
use crate::engine::setup::{Setup, NONE};
use crate::engine::work::Work;
use crate::programme::{Basis, Measure, TierMethod};
use crate::rng;
use crate::rules::{
    at_least_bound, ladder_terms_reached, slot, Amount, Baseline, Prepared, PreparedRule,
    RewardKind, Span,
};

/// The common shape: one period, payable = capped (no exclusive groups, partner cap or
/// minimum payout) and every partner in at most one component (bench-std: each partner in its
/// segment's ladder). A partner's programme is then one rule, one rounding and one cap, and
/// [`run_simple`] does just that, on what [`Plan::new`] worked out once.
#[derive(Debug, Clone)]
pub(super) struct Simple {
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
    pub(super) retro: Option<Retro>,
}

/// [`Simple::retro`]: per partner (component or [`NONE`], segment), per component, and per
/// block of [`block::LANES`] partners whether they are all in one component (not [`NONE`])
/// and one segment ([`retro_pass`] computes such a block lane by lane).
pub(super) type Retro = (Vec<(u32, u32)>, Vec<RetroComp>, Vec<bool>);

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
    pub(super) fn new(
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

/// [`run_scenario`] for the common shape ([`Simple`]): [`run`] with one period, payable =
/// capped and at most one component per partner, so its loops over periods and components
/// go, and with what does not vary by partner worked out in [`Plan::new`]. The same
/// floating-point operations in the same order as [`run`] (and so as the general path).
pub(super) fn run_simple(
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
    let (total, revenue_sum) = if let Some((ps, rc, uniform)) = &simple.retro {
        // retroactive revenue ladders of rates, on compact tables, a block of partners at a time
        let run = RetroRun {
            prep,
            scale,
            nl,
            ps,
            rc,
            uniform,
        };
        retro_pass(run, &mut o)
    } else {
        simple_pass(setup, simple, &w.final_q, &mut o)
    };
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

/// [`run_simple`]'s partner loop when the components are not all [`retro_pass`]'s: each
/// partner's one component (if any) on its purchases parked in `o.partner_final` (minor units)
/// and `final_q`, replaced by what it is paid; returns the payout and revenue summed in
/// partner order. Without the programme the purchases and the payout are the same, so the
/// caller copies the counterfactual sums (the same additions), and the incremental revenue is 0.
#[inline(always)]
fn simple_pass(setup: &Setup, simple: &Simple, final_q: &[f64], o: &mut ScenarioOut) -> (f64, f64) {
    let nl = setup.ladders.len();
    let mut total = 0.0;
    let mut revenue_sum = 0.0;
    for i in 0..setup.partners.len() {
        let revenue = o.partner_final[i] / setup.scale;
        let pc = &setup.partners[i];
        // `run`'s component loop for the one component (a sum from +0.0 over none is +0.0)
        let mut fin = 0.0;
        let c = simple.comp[i];
        if c != NONE {
            let c = c as usize;
            // the period's quantity (0 when no component measures units)
            let q = if setup.units {
                final_q[i] / QTY_SCALE
            } else {
                0.0
            };
            let (capped, t) =
                simple_entitlement(&setup.prep, c, &simple.comps[c], revenue, q, &pc.baseline);
            if let Some((offset, l)) = simple.comps[c].ladder {
                o.tiers[offset + t as usize] += 1;
                o.partner_tier[i * nl + l] = t.min(255) as u8;
            }
            fin += capped;
            o.comp_payout[c] += capped;
        }
        total += fin;
        o.partner_final[i] = fin;
        o.seg_payout[pc.seg] += fin;
        o.seg_revenue[pc.seg] += revenue;
        revenue_sum += revenue;
    }
    (total, revenue_sum)
}

/// Component `c`'s entitlement after its cap, and the tier reached, for a partner of the
/// common shape with revenue `r` and quantity `q` in the one period: `run`'s component loop
/// for one period, with the ladder's bounds and rates looked up once in [`Plan::new`].
#[inline(always)]
fn simple_entitlement(
    prep: &Prepared<f64>,
    c: usize,
    sc: &SimpleComp,
    r: f64,
    q: f64,
    baseline: &Baseline<f64>,
) -> (f64, u32) {
    let comp = &prep.components[c];
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
            // the programme's one period
            let o = prep.evaluate(c, &wm, Span::period(0), baseline);
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
    (capped, t)
}
