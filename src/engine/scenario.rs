//! One scenario: the market path, segment and partner factors, each partner's demand and
//! orders, and the general path's partner loop with its counterfactual run.

use super::fast;
use super::setup::{SegConst, Setup};
use super::work::Work;
use crate::demand::{MarketProcess, MarketStart};
use crate::programme::Measure;
use crate::rng::{self, Purpose};

impl Setup<'_> {
    pub(crate) fn market_path(&self, seed: u64, s: u64, out: &mut [f64]) {
        let mk = &self.market;
        if mk.start == MarketStart::History {
            let mut r = rng::stream(seed, s, 0, Purpose::Market);
            return super::market::history_path(mk, self.market_log_base, &mut r, out);
        }
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
        if sc.incidence < 1.0 {
            Self::incidence(pk, sc.incidence, &mut w.base);
        }
        for b in &mut w.base[churn_month..] {
            *b = 0.0;
        }
        w.order_cats.on = self.draws_order_categories(i);
        if self.needs_orders || w.order_cats.on {
            self.draw_orders(pk, self.partner_orders(f, sc.orders), w);
        }
        self.draw_mix(pk, i, w);
    }

    /// Purchase incidence `p` < 1 on a partner's monthly demand: month `m` buys when uniform
    /// `m` of the partner's `Incidence` stream is below `p`, then its demand divided by `p`
    /// (so the expected total is unchanged), else nothing.
    #[inline(never)]
    pub(crate) fn incidence(pk: u64, p: f64, base: &mut [f64]) {
        let mut r = rng::stream_of(pk, Purpose::Incidence);
        for b in base {
            let u = rng::uniform_open0(&mut r);
            *b = if u <= p { *b / p } else { 0.0 };
        }
    }

    /// A partner's orders (shared by the engine and the forecast's conditioned run): each
    /// month's are drawn from the month's own `Orders` stream (keyed by the partner's key `pk`
    /// and the month) when first needed ([`Setup::orders_of`]), so a month whose orders
    /// nothing measures is never drawn; both runs of a partner share them.
    pub(crate) fn draw_orders(&self, pk: u64, orders: f64, w: &mut Work) {
        w.order_key = pk;
        w.order_mean = orders;
        w.order_sigma = self.size_sigma;
        w.order_law = if self.poisson_orders {
            rng::poisson_law(orders)
        } else {
            None
        };
        w.order_w.clear();
        w.order_drawn.iter_mut().for_each(|d| *d = false);
        if w.order_cats.on {
            // the previous partner's orders' categories (drawn with its orders)
            w.order_cats.forget(self.months);
        }
    }

    /// Month `m`'s orders of the partner of the last [`Setup::draw_orders`]: their shares of
    /// the month are `w.order_w[a..b]` for the `(a, b)` returned (drawn now if not yet: the
    /// number of orders, `max(1, Poisson(mean))` or the mean rounded, then their sizes).
    pub(crate) fn orders_of(&self, m: usize, w: &mut Work) -> (usize, usize) {
        if !w.order_drawn[m] {
            let mut r = rng::stream_of(rng::partner_key(w.order_key, m as u64), Purpose::Orders);
            let n = if self.poisson_orders {
                rng::poisson_from(&mut r, w.order_law.as_ref()).max(1) as u32
            } else {
                w.order_mean.round().max(1.0) as u32
            };
            let a = w.order_w.len();
            let mut sum = 0.0;
            for _ in 0..n {
                let v = if w.order_sigma > 0.0 {
                    (w.order_sigma * rng::normal(&mut r)).exp()
                } else {
                    1.0
                };
                w.order_w.push(v);
                sum += v;
            }
            for v in &mut w.order_w[a..] {
                *v /= sum;
            }
            w.order_off[m] = a;
            w.order_end[m] = w.order_w.len();
            w.order_drawn[m] = true;
        }
        (w.order_off[m], w.order_end[m])
    }

    /// Expected demand (every factor at its mean, no churn; orders of equal size).
    pub(crate) fn expected_demand(&self, i: usize, w: &mut Work) {
        let pc = &self.partners[i];
        let sm = &self.seg_month[pc.seg * self.months..(pc.seg + 1) * self.months];
        for m in 0..self.months {
            w.base[m] = pc.base_month * sm[m];
        }
        // the expected purchases spread every month over the mix (each category's expected
        // revenue with categories per order too)
        w.order_cats.on = false;
        w.pmix_on = false;
        if self.needs_orders {
            let n = self
                .partner_orders(pc.base_month, self.segs[pc.seg].orders)
                .round()
                .max(1.0) as u32;
            w.order_w.clear();
            for m in 0..self.months {
                w.order_off[m] = w.order_w.len();
                for _ in 0..n {
                    w.order_w.push(1.0 / n as f64);
                }
                w.order_end[m] = w.order_w.len();
                w.order_drawn[m] = true;
            }
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
    /// pipeline, each run again without the programme as `counterfactual` says. A scenario of
    /// more than [`PARTNER_BLOCK`] partners runs in blocks of that many across the pool, each
    /// block's sums added up on their own and the blocks' added in block order: the same bits
    /// whatever the number of threads.
    pub(crate) fn general_scenario(
        &self,
        seed: u64,
        s: u64,
        w: &mut Work,
        counterfactual: CounterfactualRun,
    ) -> ScenarioOut {
        use rayon::prelude::*;
        let n = self.partners.len();
        let nl = self.ladders.len();
        let mut o = self.scenario_out(self.period_count);
        self.scenario_factors(seed, s, w);
        let sk = rng::scenario_key(seed, s);
        if n <= PARTNER_BLOCK {
            let mut sums = std::mem::take(&mut o.partner_final);
            let mut tiers = std::mem::take(&mut o.partner_tier);
            self.general_partners(sk, 0, w, &mut o, &mut sums, &mut tiers, counterfactual);
            o.partner_final = sums;
            o.partner_tier = tiers;
            return o;
        }
        let (market, market_pos, segf) = (&w.market, w.market_pos, &w.segf);
        // each block's rows of the per-partner outputs
        let mut blocks: Vec<(usize, &mut [f64], &mut [u8])> = Vec::new();
        let mut tiers_rest: &mut [u8] = &mut o.partner_tier;
        for (b, finals) in o.partner_final.chunks_mut(PARTNER_BLOCK).enumerate() {
            let (tiers, rest) = std::mem::take(&mut tiers_rest).split_at_mut(finals.len() * nl);
            tiers_rest = rest;
            blocks.push((b, finals, tiers));
        }
        let parts: Vec<ScenarioOut> = blocks
            .into_par_iter()
            .map_init(
                || Work::new(self),
                |bw, (b, finals, tiers)| {
                    bw.market.copy_from_slice(market);
                    bw.market_pos = market_pos;
                    bw.segf.copy_from_slice(segf);
                    let mut part = self.scenario_sums(self.period_count);
                    let first = b * PARTNER_BLOCK;
                    self.general_partners(sk, first, bw, &mut part, finals, tiers, counterfactual);
                    part
                },
            )
            .collect();
        for part in &parts {
            o.add_sums(part);
        }
        o
    }

    /// A scenario's sums at zero without its per-partner outputs (a block's part of a
    /// scenario, [`Setup::general_scenario`]).
    fn scenario_sums(&self, period_count: usize) -> ScenarioOut {
        let mut o = self.scenario_out_unfilled(period_count);
        o.partner_final = Vec::new();
        o.partner_tier = Vec::new();
        o
    }

    /// Partners `first..first + finals.len()` of a scenario (scenario key `sk`, its factors in
    /// `w`) on the general path: their sums added to `o`, each partner's final payable and
    /// tiers into `finals` and `tiers` (the block's rows).
    #[allow(clippy::too_many_arguments)]
    fn general_partners(
        &self,
        sk: u64,
        first: usize,
        w: &mut Work,
        o: &mut ScenarioOut,
        finals: &mut [f64],
        tiers: &mut [u8],
        counterfactual: CounterfactualRun,
    ) {
        let nl = self.ladders.len();
        let period_count = self.period_count;
        for (b, fin_out) in finals.iter_mut().enumerate() {
            let i = first + b;
            // a cancelled run's partial scenario is thrown away by the caller
            if self.cancelled() {
                return;
            }
            let pc = &self.partners[i];
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
            *fin_out = fin;
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
                tiers[b * nl + l] = t.min(255) as u8;
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
                    self.run_partner_final(i, w)
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
    }
}

/// Partners per block of a general-path scenario ([`Setup::general_scenario`]): blocks run
/// across the pool and their sums are added in block order, so a scenario's results depend
/// on this constant but never on the number of threads. A block of the distributor example
/// takes a few milliseconds.
pub(crate) const PARTNER_BLOCK: usize = 4096;

impl ScenarioOut {
    /// Add a block's sums (not its per-partner outputs) to this scenario's.
    fn add_sums(&mut self, b: &ScenarioOut) {
        let add = |a: &mut [f64], b: &[f64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += *y);
        add(&mut self.totals, &b.totals);
        self.revenue += b.revenue;
        self.revenue_cf += b.revenue_cf;
        self.incr_revenue += b.incr_revenue;
        self.incr_margin += b.incr_margin;
        self.totals_cf_final += b.totals_cf_final;
        self.stretches += b.stretches;
        add(&mut self.seg_payout, &b.seg_payout);
        add(&mut self.seg_revenue, &b.seg_revenue);
        add(&mut self.seg_revenue_cf, &b.seg_revenue_cf);
        add(&mut self.seg_incr_revenue, &b.seg_incr_revenue);
        add(&mut self.seg_incr_margin, &b.seg_incr_margin);
        add(&mut self.seg_payout_cf, &b.seg_payout_cf);
        add(&mut self.comp_payout, &b.comp_payout);
        self.tiers
            .iter_mut()
            .zip(&b.tiers)
            .for_each(|(x, y)| *x += *y);
        add(&mut self.month_rev, &b.month_rev);
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
        let p = crate::engine::test_programmes::pallet_programme();
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

    /// A scenario of more partners than a block runs its blocks across the pool: every output
    /// is the same, bit for bit, on one thread and on three.
    #[test]
    fn partner_blocks_give_the_same_bits_on_any_pool() {
        let p = Programme::from_str(
            "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"half\"\nperiods = 2\n\
             [[components]]\nid = \"v\"\nkind = \"volume\"\nmethod = \"retroactive\"\ntiers = [{ from = 50000, percent = 1 }, { from = 120000, percent = 2 }]\n\
             [[components]]\nid = \"pallet\"\nkind = \"logistics\"\nmin_quantity = 500\nper_order = 10\n",
            Format::Toml,
            None,
        )
        .unwrap()
        .compile()
        .unwrap();
        let n = 2 * PARTNER_BLOCK + 77;
        let mut csv = String::from("partner_id,segment,baseline_revenue,unit_price\n");
        for i in 0..n {
            csv.push_str(&format!("P{i},s,{},10\n", 20_000 + (i * 7919) % 200_000));
        }
        let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
        let model = Model::from_str(
            "[noise]\nsigma = 0.3\n[orders]\nper_month = 2\n[behaviour.stretch]\nenabled = true\nmax_shortfall = 0.3\n[behaviour.uplift]\nelasticity = 0.5\n",
            Format::Toml,
            None,
        )
        .unwrap();
        let setup = Setup::new(&p, &pop, &model).unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut w = Work::new(&setup);
                let o = setup.general_scenario(9, 2, &mut w, CounterfactualRun::SkipWhenSame);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                (
                    bits(&o.totals),
                    bits(&[
                        o.revenue,
                        o.revenue_cf,
                        o.incr_revenue,
                        o.incr_margin,
                        o.totals_cf_final,
                    ]),
                    bits(&o.partner_final),
                    o.partner_tier.clone(),
                    o.tiers.clone(),
                    bits(&o.month_rev),
                    bits(&o.comp_payout),
                    o.stretches,
                )
            })
        };
        let one = run(1);
        assert!(
            one.2.iter().filter(|&&b| b != 0).count() > n / 10,
            "few partners paid"
        );
        assert!(one.7 > 0, "no stretch purchase");
        assert!(one == run(3));
    }
}
