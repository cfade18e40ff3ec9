//! Folding scenarios into a [`SimResult`] in scenario order (so results do not depend on
//! threads or chunking): per-scenario outcomes, per-partner sums and tier histograms.

use super::result::SimResult;
use super::scenario::ScenarioOut;
use super::setup::{Setup, NONE};
use crate::population::Population;
use rayon::prelude::*;

pub(crate) struct Acc {
    pub(crate) res: SimResult,
    pub(crate) partner_sum: Vec<f64>,
    pub(crate) partner_sum_before: Vec<f64>,
    /// Per partner and ladder, the number of scenarios that ended in each tier (0..=tiers):
    /// partners × `tier_width`.
    pub(crate) partner_hist: Vec<u32>,
}

impl Setup<'_> {
    pub(crate) fn new_acc(&self, pop: &Population, seed: u64, capacity: usize) -> Acc {
        let n = self.partners.len();
        Acc {
            res: SimResult {
                programme: self.p.name.clone(),
                currency: self.p.currency.clone(),
                seed,
                scenarios: 0,
                precision_met: None,
                budget: self.prep.budget,
                segments: pop.segments.clone(),
                components: self.prep.components.iter().map(|c| c.id.clone()).collect(),
                ladders: self.ladders.iter().map(|(_, l)| l.clone()).collect(),
                months: self.months,
                cash_months: self.cash_months,
                payout: Vec::with_capacity(capacity),
                payout_before_budget: Vec::with_capacity(capacity),
                budget_binds: Vec::with_capacity(capacity),
                revenue: Vec::with_capacity(capacity),
                revenue_counterfactual: Vec::with_capacity(capacity),
                incremental_revenue: Vec::with_capacity(capacity),
                incremental_margin: Vec::with_capacity(capacity),
                roi: Vec::with_capacity(capacity),
                payout_counterfactual: Vec::with_capacity(capacity),
                deadweight_share: Vec::with_capacity(capacity),
                stretches: Vec::with_capacity(capacity),
                segment_payout: Vec::new(),
                segment_revenue: Vec::new(),
                segment_revenue_counterfactual: Vec::new(),
                segment_incremental_revenue: Vec::new(),
                segment_incremental_margin: Vec::new(),
                segment_payout_counterfactual: Vec::new(),
                segment_roi: Vec::new(),
                segment_deadweight_share: Vec::new(),
                component_payout: Vec::new(),
                tier_counts: Vec::new(),
                accrual: Vec::new(),
                cash: Vec::new(),
                partner_ids: pop.partner_id.clone(),
                partner_expected_payout: Vec::new(),
                partner_expected_payout_before_budget: Vec::new(),
                partner_tier_probability: Vec::new(),
                parameter_draws: 0,
                parameter_draw: Vec::new(),
            },
            partner_sum: vec![0.0; n],
            partner_sum_before: vec![0.0; n],
            partner_hist: vec![0; n * self.tier_width],
        }
    }

    /// Fold one scenario into the accumulator (always called in scenario order).
    #[cfg(test)]
    pub(crate) fn fold(&self, acc: &mut Acc, o: ScenarioOut) {
        let f = self.fold_scenario(acc, &o);
        self.fold_partners(acc, std::slice::from_ref(&o), &[f]);
    }

    /// Fold a scenario's own results into the accumulator (always called in scenario order);
    /// returns its budget factor (payout after / before the budget) for
    /// [`Setup::fold_partners`].
    pub(crate) fn fold_scenario(&self, acc: &mut Acc, o: &ScenarioOut) -> f64 {
        let r = &mut acc.res;
        let period_count = self.period_count;
        let before = o.totals[period_count - 1];
        let after = self.prep.budget_total(before);
        let f = if before > 0.0 { after / before } else { 1.0 };
        r.scenarios += 1;
        r.payout.push(after);
        r.payout_before_budget.push(before);
        r.budget_binds.push(self.prep.budget_binds(before));
        r.revenue.push(o.revenue);
        r.revenue_counterfactual.push(o.revenue_cf);
        r.incremental_revenue.push(o.incr_revenue);
        r.incremental_margin.push(o.incr_margin);
        r.roi.push(if after > 0.0 {
            (o.incr_margin - after) / after
        } else {
            f64::NAN
        });
        let cf_after = self.prep.budget_total(o.totals_cf_final);
        r.payout_counterfactual.push(cf_after);
        // before the budget's cut: a binding budget cuts the payout with and without the
        // programme alike (pro rata), so the share of it that would have been earned anyway
        // is that of the amounts before the cut (after it both are the budget: always 1)
        r.deadweight_share.push(if after > 0.0 {
            o.totals_cf_final.min(before) / before
        } else {
            f64::NAN
        });
        r.stretches.push(o.stretches as f64);
        r.segment_payout.extend(o.seg_payout.iter().map(|v| v * f));
        r.segment_revenue.extend_from_slice(&o.seg_revenue);
        // per segment as the totals: the counterfactual payout after the budget pro rata
        let f_cf = if o.totals_cf_final > 0.0 {
            cf_after / o.totals_cf_final
        } else {
            1.0
        };
        for g in 0..self.segment_count {
            let paid = o.seg_payout[g] * f;
            let cf = o.seg_payout_cf[g] * f_cf;
            let margin = o.seg_incr_margin[g];
            r.segment_revenue_counterfactual.push(o.seg_revenue_cf[g]);
            r.segment_incremental_revenue.push(o.seg_incr_revenue[g]);
            r.segment_incremental_margin.push(margin);
            r.segment_payout_counterfactual.push(cf);
            r.segment_roi.push(if paid > 0.0 {
                (margin - paid) / paid
            } else {
                f64::NAN
            });
            // before the budget's cut, as the total's
            r.segment_deadweight_share.push(if paid > 0.0 {
                o.seg_payout_cf[g].min(o.seg_payout[g]) / o.seg_payout[g]
            } else {
                f64::NAN
            });
        }
        r.component_payout
            .extend(o.comp_payout.iter().map(|v| v * f));
        r.tier_counts.extend_from_slice(&o.tiers);
        // accrual and cash
        let mut acc_m = vec![0.0; self.months];
        let mut cash = vec![0.0; self.cash_months];
        let mut prev = 0.0;
        for k in 0..period_count {
            let to_date = self.prep.budget_total(o.totals[k]);
            let amount = to_date - prev;
            prev = to_date;
            let ms = k * self.months_per_period..(k + 1) * self.months_per_period;
            let rev: f64 = o.month_rev[ms.clone()].iter().sum();
            for m in ms {
                acc_m[m] = if rev > 0.0 {
                    amount * o.month_rev[m] / rev
                } else {
                    amount / self.months_per_period as f64
                };
            }
            cash[self.pay_month[k]] += amount;
        }
        r.accrual.extend_from_slice(&acc_m);
        r.cash.extend_from_slice(&cash);
        f
    }

    /// Fold the per-partner results of consecutive scenarios `outs` (with their budget
    /// factors `fs`) into the accumulator, in parallel over blocks of partners: each partner's
    /// sums still run over the scenarios in order, so the result does not depend on threads.
    pub(crate) fn fold_partners(&self, acc: &mut Acc, outs: &[ScenarioOut], fs: &[f64]) {
        const BLOCK: usize = 1024;
        acc.partner_sum
            .par_chunks_mut(BLOCK)
            .zip(acc.partner_sum_before.par_chunks_mut(BLOCK))
            .enumerate()
            .for_each(|(b, (sum, before))| {
                let i0 = b * BLOCK;
                for (o, &f) in outs.iter().zip(fs) {
                    let fin = &o.partner_final[i0..i0 + sum.len()];
                    for ((s, bf), &p) in sum.iter_mut().zip(before.iter_mut()).zip(fin) {
                        *bf += p;
                        *s += p * f;
                    }
                }
            });
        let nl = self.ladders.len();
        if nl > 0 {
            // one count per partner in each of its ladders, in the tier it ended in (the
            // probabilities of reaching each tier are the tail sums, in `finish`); partners in
            // at most one ladder (`partner_ladder`) count only in that one (the others' tier is
            // always 0, and the counts of tier 0 are never read)
            let tw = self.tier_width;
            acc.partner_hist
                .par_chunks_mut(BLOCK * tw)
                .enumerate()
                .for_each(|(b, hist)| {
                    let i0 = b * BLOCK;
                    let np = hist.len() / tw;
                    let pl = self.partner_ladder.as_ref().map(|pl| &pl[i0..i0 + np]);
                    for o in outs {
                        let tiers = &o.partner_tier[i0 * nl..(i0 + np) * nl];
                        let rows = tiers.chunks_exact(nl).zip(hist.chunks_exact_mut(tw));
                        match pl {
                            Some(pl) => {
                                for ((row, h), p) in rows.zip(pl) {
                                    if p.l != NONE {
                                        let t = (row[p.l as usize] as u32).min(p.tiers);
                                        h[(p.offset + t) as usize] += 1;
                                    }
                                }
                            }
                            None => {
                                for (row, h) in rows {
                                    for ((_, lad), &t) in self.ladders.iter().zip(row) {
                                        h[lad.offset + (t as usize).min(lad.tiers)] += 1;
                                    }
                                }
                            }
                        }
                    }
                });
        }
    }

    pub(crate) fn finish(&self, mut acc: Acc) -> SimResult {
        let n = acc.res.scenarios as f64;
        acc.res.partner_expected_payout = acc.partner_sum.iter().map(|v| v / n).collect();
        acc.res.partner_expected_payout_before_budget =
            acc.partner_sum_before.iter().map(|v| v / n).collect();
        let (pw, tw) = (self.partner_tier_width, self.tier_width);
        let mut prob = vec![0.0; self.partners.len() * pw];
        for (p, hist) in prob
            .chunks_exact_mut(pw.max(1))
            .zip(acc.partner_hist.chunks_exact(tw.max(1)))
        {
            for (_, lad) in &self.ladders {
                // scenarios that reached tier t or higher
                let mut reached = 0u32;
                for t in (1..=lad.tiers).rev() {
                    reached += hist[lad.offset + t];
                    p[lad.partner_offset + t - 1] = reached as f64 / n;
                }
            }
        }
        acc.res.partner_tier_probability = prob;
        acc.res
    }
}
