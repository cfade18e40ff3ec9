//! One scenario: the market path, segment and partner factors, each partner's demand and
//! orders, and the general path's partner loop with its counterfactual run.

use super::fast;
use super::setup::{SegConst, Setup};
use super::work::Work;
use crate::demand::MarketProcess;
use crate::programme::Measure;
use crate::rng::{self, Purpose};

impl Setup<'_> {
    pub(crate) fn market_path(&self, seed: u64, s: u64, out: &mut [f64]) {
        let mk = &self.market;
        if mk.sigma == 0.0 && mk.monthly_sigma == 0.0 {
            out.iter_mut().for_each(|x| *x = 1.0);
            return;
        }
        let mut r = rng::stream(seed, s, 0, Purpose::Market);
        let sg = mk.sigma;
        let mut x = sg * rng::normal(&mut r);
        let mut var = sg * sg;
        match mk.process {
            MarketProcess::Constant => {
                let f = (x - 0.5 * var).exp();
                out.iter_mut().for_each(|v| *v = f);
            }
            MarketProcess::Ar1 => {
                let innov = sg * (1.0 - mk.rho * mk.rho).sqrt();
                for (m, v) in out.iter_mut().enumerate() {
                    if m > 0 {
                        x = mk.rho * x + innov * rng::normal(&mut r);
                    }
                    *v = (x - 0.5 * var).exp();
                }
            }
            MarketProcess::RandomWalk => {
                let t = mk.monthly_sigma;
                for (m, v) in out.iter_mut().enumerate() {
                    if m > 0 {
                        x += t * rng::normal(&mut r);
                        var += t * t;
                    }
                    *v = (x - 0.5 * var).exp();
                }
            }
        }
    }

    pub(crate) fn segment_factors(&self, seed: u64, s: u64, out: &mut [f64]) {
        for (j, sc) in self.segs.iter().enumerate() {
            out[j] = if sc.segment > 0.0 {
                let mut r = rng::stream(seed, s, j as u64, Purpose::Segment);
                rng::mean_one_lognormal(&mut r, sc.segment)
            } else {
                1.0
            };
        }
    }

    /// Demand without the programme: `w.base[m]` for every month, and the order draws.
    /// `sk` is [`rng::scenario_key`] of (seed, scenario).
    /// A partner's factor for the year — baseline month × segment factor × partner factor —
    /// and its churn month (`months` when it does not churn), from its [`rng::partner_key`]
    /// `pk` and the scenario's segment factors. The part of [`Setup::demand`] before the
    /// monthly noise; shared with the fast path's blocks (`block`).
    #[inline(always)]
    pub(crate) fn partner_year(&self, pk: u64, i: usize, segf: &[f64]) -> (f64, usize) {
        let pc = &self.partners[i];
        let sc = &self.segs[pc.seg];
        let f = pc.base_month * segf[pc.seg];
        if sc.partner > 0.0 || sc.churn {
            self.partner_draws(pk, sc, f)
        } else {
            (f, self.months)
        }
    }

    /// The random part of [`Setup::partner_year`] (a segment with a partner factor or churn):
    /// `f` times the partner factor, and the churn month.
    #[inline(never)]
    pub(crate) fn partner_draws(&self, pk: u64, sc: &SegConst, mut f: f64) -> (f64, usize) {
        if sc.partner > 0.0 {
            let mut r = rng::stream_of(pk, Purpose::PartnerFactor);
            f *= rng::mean_one_lognormal(&mut r, sc.partner);
        }
        let churn_month = if sc.churn {
            self.churn_month(pk, sc, 0)
        } else {
            self.months
        };
        (f, churn_month)
    }

    /// The month a partner of a churning segment stops buying, counted from month `first`
    /// (the first simulated month): `first` plus a geometric number of months from its
    /// `Churn` stream (`months` when that falls past the end). The engine's runs start at
    /// month 0; a forecast's at the first month without actuals.
    pub(crate) fn churn_month(&self, pk: u64, sc: &SegConst, first: usize) -> usize {
        let mut r = rng::stream_of(pk, Purpose::Churn);
        let u = rng::uniform_open0(&mut r);
        if sc.churn_log == f64::NEG_INFINITY {
            first
        } else {
            let m = (u.ln() / sc.churn_log).floor();
            if m >= (self.months - first) as f64 {
                self.months
            } else {
                first + m as usize
            }
        }
    }

    pub(crate) fn demand(&self, sk: u64, i: usize, w: &mut Work) {
        let pc = &self.partners[i];
        let sc = &self.segs[pc.seg];
        let pk = rng::partner_key(sk, i as u64);
        let (f, churn_month) = self.partner_year(pk, i, &w.segf);
        let sm = &self.seg_month[pc.seg * self.months..(pc.seg + 1) * self.months];
        if sc.noise > 0.0 {
            // the month's lognormal factors (vectorised), then the demand
            rng::noise_factors(pk, sc.noise, &mut w.base);
            for ((b, &s), &mk) in w.base.iter_mut().zip(sm).zip(&w.market) {
                // ((f · s) · market) · e, in this order (not `*b *= …`: another rounding)
                #[allow(clippy::assign_op_pattern)]
                {
                    *b = f * s * mk * *b;
                }
            }
        } else {
            for m in 0..self.months {
                w.base[m] = f * sm[m] * w.market[m];
            }
        }
        for b in &mut w.base[churn_month..] {
            *b = 0.0;
        }
        if self.needs_orders {
            self.draw_orders(pk, sc.orders, w);
        }
    }

    /// The order draws of a partner (`w.order_n`, `w.order_off`, `w.order_w`: each month's
    /// number of orders and their shares of the month), from the partner's `Orders` stream.
    /// Shared by the engine and the forecast's conditioned run.
    pub(crate) fn draw_orders(&self, pk: u64, orders: f64, w: &mut Work) {
        let mut r = rng::stream_of(pk, Purpose::Orders);
        w.order_w.clear();
        for m in 0..self.months {
            let n = if self.poisson_orders {
                rng::poisson(&mut r, orders).max(1) as u32
            } else {
                orders.round().max(1.0) as u32
            };
            w.order_n[m] = n;
            w.order_off[m] = w.order_w.len();
            let mut sum = 0.0;
            for _ in 0..n {
                let v = if self.size_sigma > 0.0 {
                    (self.size_sigma * rng::normal(&mut r)).exp()
                } else {
                    1.0
                };
                w.order_w.push(v);
                sum += v;
            }
            let o = w.order_off[m];
            for v in &mut w.order_w[o..] {
                *v /= sum;
            }
        }
        w.order_off[self.months] = w.order_w.len();
    }

    /// Expected demand (every factor at its mean, no churn; orders of equal size).
    pub(crate) fn expected_demand(&self, i: usize, w: &mut Work) {
        let pc = &self.partners[i];
        let sm = &self.seg_month[pc.seg * self.months..(pc.seg + 1) * self.months];
        for m in 0..self.months {
            w.base[m] = pc.base_month * sm[m];
        }
        if self.needs_orders {
            let n = self.segs[pc.seg].orders.round().max(1.0) as u32;
            w.order_w.clear();
            for m in 0..self.months {
                w.order_n[m] = n;
                w.order_off[m] = w.order_w.len();
                for _ in 0..n {
                    w.order_w.push(1.0 / n as f64);
                }
            }
            w.order_off[self.months] = w.order_w.len();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios.

/// Whether the general path runs a partner again without the programme when that run would
/// repeat the programme run exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CounterfactualRun {
    /// With behaviour, a partner whose programme run bought exactly its demand (uplift 1, no
    /// stretch purchase) takes that run's results as its counterfactual (the same purchases
    /// through the same pipeline: the same bits). What every run does.
    SkipWhenSame,
    /// Always run it (only the test that checks the shortcut changes nothing).
    #[cfg(test)]
    Always,
}

pub(crate) struct ScenarioOut {
    pub(crate) totals: Vec<f64>, // before budget, to date, per period
    pub(crate) revenue: f64,
    pub(crate) revenue_cf: f64,
    pub(crate) incr_revenue: f64,
    pub(crate) incr_margin: f64,
    pub(crate) totals_cf_final: f64,
    pub(crate) stretches: u32,
    pub(crate) seg_payout: Vec<f64>,
    pub(crate) seg_revenue: Vec<f64>,
    /// Per segment: counterfactual revenue, incremental revenue and margin, and the
    /// counterfactual payout before the budget (as `revenue_cf`, `incr_revenue`, `incr_margin`,
    /// `totals_cf_final`).
    pub(crate) seg_revenue_cf: Vec<f64>,
    pub(crate) seg_incr_revenue: Vec<f64>,
    pub(crate) seg_incr_margin: Vec<f64>,
    pub(crate) seg_payout_cf: Vec<f64>,
    pub(crate) comp_payout: Vec<f64>,
    pub(crate) tiers: Vec<u32>,
    pub(crate) month_rev: Vec<f64>,
    pub(crate) partner_final: Vec<f64>,
    pub(crate) partner_tier: Vec<u8>,
}

impl Setup<'_> {
    /// A scenario's outputs, every sum at zero, with `period_count` period totals.
    pub(crate) fn scenario_out(&self, period_count: usize) -> ScenarioOut {
        let mut o = self.scenario_out_unfilled(period_count);
        o.partner_final.resize(self.partners.len(), 0.0);
        o
    }

    /// [`Setup::scenario_out`] but for `partner_final`, empty (with room for every partner):
    /// for a caller that fills it partner after partner, without zeroing it first.
    pub(crate) fn scenario_out_unfilled(&self, period_count: usize) -> ScenarioOut {
        let (n, segment_count) = (self.partners.len(), self.segment_count);
        ScenarioOut {
            totals: vec![0.0; period_count],
            revenue: 0.0,
            revenue_cf: 0.0,
            incr_revenue: 0.0,
            incr_margin: 0.0,
            totals_cf_final: 0.0,
            stretches: 0,
            seg_payout: vec![0.0; segment_count],
            seg_revenue: vec![0.0; segment_count],
            seg_revenue_cf: vec![0.0; segment_count],
            seg_incr_revenue: vec![0.0; segment_count],
            seg_incr_margin: vec![0.0; segment_count],
            seg_payout_cf: vec![0.0; segment_count],
            comp_payout: vec![0.0; self.component_count],
            tiers: vec![0; self.tier_width],
            month_rev: vec![0.0; self.months],
            partner_final: Vec::with_capacity(n),
            partner_tier: vec![0; n * self.ladders.len()],
        }
    }

    /// Scenario `s`'s market path and segment factors, into `w.market` and `w.segf`.
    pub(crate) fn scenario_factors(&self, seed: u64, s: u64, w: &mut Work) {
        self.market_path(seed, s, &mut w.market);
        w.market_pos = w.market.iter().all(|&m| m > 0.0 && m.is_finite());
        self.segment_factors(seed, s, &mut w.segf);
    }

    /// Run scenario `s` of a run with `seed`: on the fast path when the run's shape allows it
    /// ([`fast`]), else on the general path.
    pub(crate) fn run_scenario(&self, seed: u64, s: u64, w: &mut Work) -> ScenarioOut {
        match &self.fast {
            Some(plan) => fast::run_scenario(self, plan, seed, s, w),
            None => self.general_scenario(seed, s, w, CounterfactualRun::SkipWhenSame),
        }
    }

    /// The general path: partner after partner, through their lines and the kernel's
    /// pipeline, each run again without the programme as `counterfactual` says.
    pub(crate) fn general_scenario(
        &self,
        seed: u64,
        s: u64,
        w: &mut Work,
        counterfactual: CounterfactualRun,
    ) -> ScenarioOut {
        let n = self.partners.len();
        let nl = self.ladders.len();
        let mut o = self.scenario_out(self.period_count);
        self.scenario_factors(seed, s, w);
        let period_count = self.period_count;
        let sk = rng::scenario_key(seed, s);
        for i in 0..n {
            // a cancelled run's partial scenario is thrown away by the caller
            if self.cancelled() {
                return o;
            }
            let pc = self.partners[i];
            self.demand(sk, i, w);
            // with the programme (uplift only with behaviour; otherwise run on the demand itself)
            if self.behaviour {
                for m in 0..self.months {
                    w.g[m] = w.base[m] * pc.uplift;
                }
            } else {
                std::mem::swap(&mut w.g, &mut w.base);
            }
            let run = if self.behaviour && self.stretch.enabled {
                let mut r = rng::stream_of(rng::partner_key(sk, i as u64), Purpose::Stretch);
                self.run_partner(i, w, Some(&mut r), None)
            } else {
                self.run_partner(i, w, None, None)
            };
            let fin = w.scratch.total(period_count - 1);
            for k in 0..period_count - 1 {
                o.totals[k] += w.scratch.total(k);
            }
            o.totals[period_count - 1] += fin;
            o.partner_final[i] = fin;
            o.seg_payout[pc.seg] += fin;
            o.seg_revenue[pc.seg] += run.revenue;
            o.revenue += run.revenue;
            o.stretches += run.stretches;
            for (a, b) in o.month_rev.iter_mut().zip(&w.pmonth) {
                *a += *b;
            }
            for c in 0..self.component_count {
                o.comp_payout[c] += w.scratch.payable(c, period_count - 1);
            }
            let active = &self.active[i * self.component_count..(i + 1) * self.component_count];
            for (l, (c, lad)) in self.ladders.iter().enumerate() {
                if !active[*c] {
                    continue;
                }
                let t = match self.prep.components[*c].measure {
                    Measure::Period => (0..period_count)
                        .map(|k| w.scratch.outcome[c * period_count + k].tier)
                        .max()
                        .unwrap_or(0),
                    Measure::Cumulative => {
                        w.scratch.outcome[c * period_count + period_count - 1].tier
                    }
                };
                o.tiers[lad.offset + t as usize] += 1;
                o.partner_tier[i * nl + l] = t.min(255) as u8;
            }
            // without the programme, on the same random numbers
            if self.behaviour {
                // the programme run bought `w.base` itself (uplift exactly 1, so `w.g` is
                // `w.base` bit for bit, and no stretch purchase, so nothing borrowed): the
                // counterfactual run would repeat it exactly
                let same = counterfactual == CounterfactualRun::SkipWhenSame
                    && run.stretches == 0
                    && pc.uplift == 1.0;
                let (cf_revenue, cf_fin) = if same {
                    (run.revenue, fin)
                } else {
                    w.g.copy_from_slice(&w.base);
                    let cf = self.run_partner(i, w, None, None);
                    (cf.revenue, w.scratch.total(period_count - 1))
                };
                o.revenue_cf += cf_revenue;
                o.totals_cf_final += cf_fin;
                let d = run.revenue - cf_revenue - run.pulled_after;
                o.incr_revenue += d;
                o.incr_margin += pc.margin * d;
                o.seg_revenue_cf[pc.seg] += cf_revenue;
                o.seg_payout_cf[pc.seg] += cf_fin;
                o.seg_incr_revenue[pc.seg] += d;
                o.seg_incr_margin[pc.seg] += pc.margin * d;
            } else {
                o.revenue_cf += run.revenue;
                o.totals_cf_final += fin;
                o.seg_revenue_cf[pc.seg] += run.revenue;
                o.seg_payout_cf[pc.seg] += fin;
                if pc.margin.is_nan() {
                    o.incr_margin = f64::NAN;
                    o.seg_incr_margin[pc.seg] = f64::NAN;
                }
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demand::Model;
    use crate::population::Population;
    use crate::programme::{Format, Programme};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The cancel flag is checked inside a scenario (before each partner), not only
    /// between scenarios, so that one costly scenario of a big population stops promptly.
    #[test]
    fn a_scenario_stops_within_its_partners() {
        let p = Programme::from_str(
            "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n\
             [[components]]\nid = \"pallet\"\nkind = \"logistics\"\nmin_quantity = 5\nper_order = 10\n",
            Format::Toml,
            None,
        )
        .unwrap()
        .compile()
        .unwrap();
        let mut csv = String::from("partner_id,segment,baseline_revenue,unit_price\n");
        for i in 0..1000 {
            csv.push_str(&format!("P{i},s,100000,10\n"));
        }
        let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
        let model = Model::default();
        let stop = AtomicBool::new(false);
        let mut setup = Setup::new(&p, &pop, &model).unwrap();
        assert!(setup.fast.is_none(), "orders run the general path");
        setup.cancel = Some(&stop);
        let mut w = Work::new(&setup);
        let full = setup.run_scenario(1, 0, &mut w);
        assert!(full.partner_final.iter().all(|&v| v > 0.0));
        stop.store(true, Ordering::Relaxed);
        let cut = setup.run_scenario(1, 0, &mut w);
        assert_eq!(cut.revenue, 0.0);
        assert!(cut.partner_final.iter().all(|&v| v == 0.0));
    }
}
