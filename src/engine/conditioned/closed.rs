//! Closed periods in a conditioned scenario: what the year-level rules do to the amounts of
//! the periods that are closed at the forecast date.
//!
//! A closed period's amount is a fact (the settlement of the actuals). Only rules that look
//! at the year to date can still move it: a cumulative ladder's true-up (the rate reached by
//! the end applies to the closed periods' volume too), an exclusive group whose winner changes,
//! the partner cap and the minimum payout. Per partner and component the pipeline's cumulative
//! amounts at the end of the last closed period `kc` are the settled facts; at a later period
//! `k` the *closed part* of each stage is
//!
//! ```text
//! C_k  = capped(k) · V_closed / V_k      (measure = cumulative: the effective rate on the closed volume)
//!      = capped(kc)                      (measure = period: closed periods are self-contained)
//! Ex_k = C_k  · exclusive(k) / capped(k)         (0 when the component loses its group)
//! Pc_k = Ex_k · partner_capped(k) / exclusive(k) (the partner cap's proportional share)
//! Pay_k = Pc_k · payable(k) / partner_capped(k)  (0 while below the minimum payout)
//! ```
//!
//! (a ratio with a zero denominator counts as 1). The change of each stage's adjustment
//! between `kc` and the end is the amount that rule moves on the closed periods; the rest of
//! the final payable is the open periods' amount. When no rule binds every ratio is exactly
//! 1 and every adjustment exactly 0.

use crate::programme::Measure;
use crate::rules::{slot, PartnerScratch, Prepared};

/// Rules that can move a closed period's amount before the budget (the budget cut is applied
/// per scenario by the caller): cumulative true-up, exclusive group, partner cap, minimum
/// payout.
pub(crate) const CLOSED_RULES: usize = 4;

/// The closed part of the pipeline's stages at period `k` of component `c`:
/// `[C, Ex, Pc, Pay]` (see the module comment). `closed_volume` is the basis volume of the
/// closed periods.
fn closed_part(
    prep: &Prepared<f64>,
    s: &PartnerScratch<f64>,
    measures: &[f64],
    c: usize,
    k: usize,
    kc: usize,
    closed_volume: f64,
) -> [f64; 4] {
    let periods = prep.periods;
    let comp = &prep.components[c];
    let at = |v: &[f64], k: usize| v[c * periods + k];
    let cap_k = at(&s.capped, k);
    let closed_capped = match comp.measure {
        Measure::Period => at(&s.capped, kc),
        Measure::Cumulative => {
            let mut v = 0.0;
            for p in 0..=k {
                v += measures[comp.offset + p * comp.slots + slot::VOLUME];
            }
            if v > 0.0 && k > kc {
                cap_k * (closed_volume / v)
            } else {
                at(&s.capped, kc)
            }
        }
    };
    let ratio = |num: f64, den: f64| if den == 0.0 { 1.0 } else { num / den };
    let ex_k = at(&s.exclusive, k);
    let pc_k = at(&s.partner_capped, k);
    let pay_k = at(&s.payable, k);
    let ex = closed_capped * ratio(ex_k, cap_k);
    let pc = ex * ratio(pc_k, ex_k);
    let pay = pc * ratio(pay_k, pc_k);
    [closed_capped, ex, pc, pay]
}

/// What the year-level rules do to the closed periods of one partner in one scenario.
///
/// Writes, for every component `c`: `adj[c * CLOSED_RULES + r]` the amount rule `r` moves on
/// the closed periods (before the budget), `closed[c]` the closed periods' final payable
/// before the budget, and `open[c * periods + k]` the open periods' payable per period
/// (increments of `payable − closed part`; 0 for closed periods). `kc_count` closed periods
/// (0: nothing closed, everything is open).
pub(crate) fn closed_effects(
    prep: &Prepared<f64>,
    s: &PartnerScratch<f64>,
    measures: &[f64],
    kc_count: usize,
    adj: &mut [f64],
    closed: &mut [f64],
    open: &mut [f64],
) {
    let periods = prep.periods;
    for (c, comp) in prep.components.iter().enumerate() {
        let adj = &mut adj[c * CLOSED_RULES..(c + 1) * CLOSED_RULES];
        let open = &mut open[c * periods..(c + 1) * periods];
        open.fill(0.0);
        adj.fill(0.0);
        if kc_count == 0 {
            let mut before = 0.0;
            for (k, o) in open.iter_mut().enumerate() {
                let p = s.payable(c, k);
                *o = p - before;
                before = p;
            }
            closed[c] = 0.0;
            continue;
        }
        let kc = kc_count - 1;
        let mut closed_volume = 0.0;
        for p in 0..kc_count {
            closed_volume += measures[comp.offset + p * comp.slots + slot::VOLUME];
        }
        let at = |v: &[f64]| v[c * periods + kc];
        let facts = [
            at(&s.capped),
            at(&s.exclusive),
            at(&s.partner_capped),
            at(&s.payable),
        ];
        let mut open_before = 0.0;
        let mut last = facts;
        for k in kc_count..periods {
            let part = closed_part(prep, s, measures, c, k, kc, closed_volume);
            let open_k = s.payable(c, k) - part[3];
            open[k] = open_k - open_before;
            open_before = open_k;
            last = part;
        }
        // the change of each stage's adjustment on the closed part, kc → end
        adj[0] = last[0] - facts[0];
        adj[1] = (last[1] - last[0]) - (facts[1] - facts[0]);
        adj[2] = (last[2] - last[1]) - (facts[2] - facts[1]);
        adj[3] = (last[3] - last[2]) - (facts[3] - facts[2]);
        closed[c] = last[3];
    }
}
