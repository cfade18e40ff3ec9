//! The engine side of a forecast ([`crate::forecast`]): simulate the rest of a programme
//! conditioned on the actual purchases to date.
//!
//! The months before the forecast date are not simulated: each partner's actual measures to
//! date (measured from its transactions exactly as settlement measures them) are added to the
//! measures of the simulated remainder, and the calculation kernel runs on the sum, so caps,
//! minimum payout, exclusive groups, true-ups and the budget apply to actual-to-date plus
//! simulated remainder exactly as settlement would apply them at the end.
//!
//! What the model believes about the market, the segments and each partner is updated from the
//! actual monthly purchases. In logs the demand model is
//!
//! ```text
//! y[i,m] = ln(actual[i,m] / expected[i,m]) + var_m/2 + σG²/2 + σP²/2 + σE²/2
//!        = x_m + a_g + b_i + e[i,m]
//! ```
//!
//! with the market state `x_m` (constant / AR(1) / random walk, written as a linear map of its
//! standard-normal innovations `z`), the segment factor `a_g = σG·w_g`, the partner factor
//! `b_i ~ N(0, σP²)` and the noise `e ~ N(0, σE²)`; the `σ²/2` terms undo the mean-one offsets
//! of the engine's factors. Each partner's factor is integrated out analytically (its
//! observations have covariance `σE²·I + σP²·11ᵀ`, inverted by Sherman–Morrison), which leaves
//! a small Gaussian posterior over `θ = (z, w)` (prior N(0, I)); its precision is factorised
//! once (Cholesky). Per scenario: `θ` is drawn from the posterior, each partner's factor from
//! its normal–normal conditional given `θ`, the market process continues from the drawn state
//! with fresh innovations, and future noise and churn come from the engine's keyed streams.
//! The derivation and the approximations are in `docs/forecast.md`.

use crate::demand::{MarketProcess, Model};
use crate::engine::result::Ladder;
use crate::engine::setup::Setup;
use crate::engine::work::Work;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::{Compiled, Measure};
use crate::rng::{self, Purpose};
use crate::rules::{slot, Baseline, Prepared};

mod churn;
mod closed;
mod evidence;
mod incidence;
mod mix;
mod order_rate;
mod order_spread;
mod posterior;
pub(crate) use closed::CLOSED_RULES;
use evidence::{Evidence, ThetaRows};
pub(crate) use mix::MixEvidence;
pub(crate) use order_rate::observed_orders;
use posterior::{backward, cholesky, classify_buyers, forward, market_shift, theta_layout};

/// Floor on the noise variance used in the conditioning (a model without noise would make the
/// observations exact and the posterior singular).
const MIN_NOISE_VAR: f64 = 1e-8;

/// What was observed up to the forecast date.
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    /// Complete programme months observed (0..=months).
    pub t_obs: usize,
    /// Share of month `t_obs` still to simulate (1 when the forecast date is a month end).
    pub partial: f64,
    /// Gross revenue (positive lines) per partner and complete month: `n × t_obs`.
    pub gross: Vec<f64>,
    /// Whether the partner bought anything in the partial month (evidence it is alive).
    pub partial_bought: Vec<bool>,
    /// Actual measures of each partner, as the kernel's flat measures: `n × measure_len`.
    pub measures: Vec<f64>,
    /// What the actuals show of each partner's category mix and units per revenue.
    pub mix: MixEvidence,
}

/// Factorise the posterior precision `q` in place (its lower Cholesky factor) and solve for
/// the posterior mean from the linear term `h`.
fn posterior_mean(q: &mut [f64], h: Vec<f64>, d: usize) -> Result<Vec<f64>> {
    if !cholesky(q, d) {
        return Err(Error::Request(
            "the forecast's posterior precision is not positive definite (numerically degenerate actuals); check the actuals and the model's σ parameters".into(),
        ));
    }
    let mut mu = h;
    forward(q, d, &mut mu);
    backward(q, d, &mut mu);
    Ok(mu)
}

/// A conditioned simulation, set up once per forecast.
pub(crate) struct CondEngine<'p> {
    s: Setup<'p>,
    obs: Observed,
    /// First simulated month (== months when nothing is left to simulate).
    first_month: usize,
    /// First period with simulated months (stretch applies from it on).
    first_period: usize,
    /// The period the watch list reports tiers for (`measure = period` ladders).
    watch_period: usize,
    churned: Vec<bool>,
    /// Each partner's probability of having churned by the forecast date (`churn.rs`; 0 or 1
    /// for segments without purchase incidence).
    churn_p: Vec<f64>,
    /// Conditioned month by month (else on one aggregated observation); every partner of a
    /// segment with purchase incidence.
    regular: Vec<bool>,
    /// Each partner's purchase incidence, conditioned on its buying months (`incidence.rs`;
    /// 1: every month).
    incidence: Vec<f64>,
    /// Aggregated observations: weights `n × t_obs`, value and noise variance per partner.
    agg_w: Vec<f64>,
    agg_y: Vec<f64>,
    agg_s2: Vec<f64>,
    /// `n × t_obs`: month used in the conditioning.
    used: Vec<bool>,
    /// Per partner: Σ y over used months, and their number.
    ysum: Vec<f64>,
    nobs: Vec<u32>,
    /// Market innovations in θ (0: no market uncertainty).
    dm: usize,
    /// Dimension of θ.
    d: usize,
    /// Index in θ of each segment's factor.
    seg_dim: Vec<Option<usize>>,
    /// `rows × dm`: x_m = Σ_j lmat[m][j] z_j for m < rows (rows = dm for ar1/random walk).
    lmat: Vec<f64>,
    mu: Vec<f64>,
    /// Lower Cholesky factor of the posterior precision.
    chol: Vec<f64>,
    /// Per partner the factor on its mean orders a month from its orders to date
    /// ([`order_rate`]; empty: none).
    order_factor: Vec<f64>,
    /// Per partner the σ of its order sizes given its orders to date ([`order_spread`];
    /// empty: the model's).
    order_sigma: Vec<f64>,
}

/// Per-worker scratch of a conditioned run.
pub(crate) struct CondWork {
    w: Work,
    theta: Vec<f64>,
    x: Vec<f64>,
    a: Vec<f64>,
}

/// What one conditioned scenario produced (before the budget).
#[derive(Debug, Clone, Default)]
pub(crate) struct CondOut {
    /// Programme total payable to date at the end of each period (before the budget).
    pub totals: Vec<f64>,
    /// `n × component_count`: final payable of each partner and component (before the budget).
    pub payable: Vec<f64>,
    /// `n × component_count`: basis volume of each partner and component over the whole programme
    /// (actual + simulated).
    pub volume: Vec<f64>,
    /// `n × ladders`: tier reached in the watch period (`measure = period`) or at the end
    /// (`measure = cumulative`).
    pub tier: Vec<u8>,
    /// `n × component_count × CLOSED_RULES`: what each year-level rule (cumulative true-up,
    /// exclusive group, partner cap, minimum payout) moves on the closed periods' amounts
    /// (before the budget; see `closed.rs`).
    pub closed_adj: Vec<f64>,
    /// `n × component_count`: the closed periods' final payable (before the budget).
    pub closed: Vec<f64>,
    /// `n × component_count × periods`: the open periods' payable per period (before the
    /// budget; 0 for closed periods).
    pub open: Vec<f64>,
}

impl<'p> CondEngine<'p> {
    /// Stop scenarios early (checked before each partner) once `cancel` is
    /// set; the caller then discards the chunk and returns [`crate::Error::Cancelled`].
    pub(crate) fn set_cancel(&mut self, cancel: Option<&'p std::sync::atomic::AtomicBool>) {
        self.s.cancel = cancel;
    }

    /// Set up a conditioned simulation. `obs.measures` must use the layout of
    /// `Prepared::new(programme)` and `obs.gross` have `t_obs` months per partner.
    pub(crate) fn new(
        programme: &'p Compiled,
        population: &Population,
        model: &Model,
        obs: Observed,
    ) -> Result<CondEngine<'p>> {
        let mut s = Setup::new(programme, population, model)?;
        mix::condition_mix(&mut s, &obs.mix, !population.categories.is_empty());
        let order_factor = obs
            .mix
            .order_counts
            .as_ref()
            .map(|o| order_rate::order_factors(&s, &o.months, &o.orders))
            .unwrap_or_default();
        let order_sigma = obs
            .mix
            .order_counts
            .as_ref()
            .map(|o| order_spread::order_sigmas(s.size_sigma, &o.size_ss, &o.size_df))
            .unwrap_or_default();
        let n = s.partners.len();
        let t = obs.t_obs;
        debug_assert_eq!(obs.gross.len(), n * t);
        debug_assert_eq!(obs.measures.len(), n * s.prep.measure_len());
        let first_month = if t >= s.months { s.months } else { t };
        let first_period = first_month / s.months_per_period;
        let watch_period = first_period.min(s.period_count - 1);

        let (mut churned, last_bought, mut regular) = classify_buyers(&s, &obs);
        let incidence = incidence::condition_incidence(&s, &obs, &churned);
        // Under purchase incidence a month without purchases is a month the partner did not buy
        // (its demand is not carried into a later month): every buyer is conditioned month by
        // month on its buying months, each carrying its demand ÷ p_i.
        for (i, r) in regular.iter_mut().enumerate() {
            if s.segs[s.partners[i].seg].incidence < 1.0 {
                *r = true;
            }
        }
        let churn_p = churn::churn_probabilities(&s, &obs, &last_bought, &churned, &incidence);
        for (c, &p) in churned.iter_mut().zip(&churn_p) {
            *c = p > 0.5;
        }
        // θ = (market innovations, segment factors)
        let (dm, d, seg_dim, lmat) = theta_layout(&s, t);
        let rows = ThetaRows {
            s: &s,
            dm,
            seg_dim: &seg_dim,
            lmat: &lmat,
        };
        let ev = Evidence::gather(&rows, &obs, &last_bought, &regular, &incidence, d);
        let Evidence {
            mut q,
            h,
            ysum,
            nobs,
            used,
            agg_w,
            agg_y,
            agg_s2,
            ..
        } = ev;
        let mu = posterior_mean(&mut q, h, d)?;
        Ok(CondEngine {
            s,
            obs,
            first_month,
            first_period,
            watch_period,
            churned,
            churn_p,
            regular,
            incidence,
            agg_w,
            agg_y,
            agg_s2,
            used,
            ysum,
            nobs,
            dm,
            d,
            seg_dim,
            lmat,
            mu,
            chol: q,
            order_factor,
            order_sigma,
        })
    }

    /// Components (in the kernel's order).
    pub(crate) fn prep(&self) -> &Prepared<f64> {
        &self.s.prep
    }
    /// Refuse parameter draw `k`'s engine unless it has this one's segments and categories
    /// (the shapes a forecast's results are folded with).
    pub(crate) fn check_draw_shape(&self, draw: &CondEngine, k: usize) -> Result<()> {
        crate::engine::draws::check_same_shape(&self.s, &draw.s, k)
    }
    /// `n × component_count`: whether component c applies to partner i.
    pub(crate) fn active(&self) -> &[bool] {
        &self.s.active
    }
    /// Ladders reported in the watch list: (component index, ladder).
    pub(crate) fn ladders(&self) -> &[(usize, Ladder)] {
        &self.s.ladders
    }
    /// Segment index of partner i.
    pub(crate) fn segment_of(&self, i: usize) -> usize {
        self.s.partners[i].seg
    }
    /// Baselines of partner i as the kernel sees them.
    pub(crate) fn baseline_of(&self, i: usize) -> &Baseline<f64> {
        &self.s.partners[i].baseline
    }
    /// Whether partner i is treated as churned (no purchase since some month).
    pub(crate) fn churned(&self, i: usize) -> bool {
        self.churned[i]
    }
    /// Months of actual purchases partner i's factor was conditioned on.
    pub(crate) fn observations(&self, i: usize) -> u32 {
        self.nobs[i]
    }
    /// The period the watch list reports `measure = period` tiers for.
    pub(crate) fn watch_period(&self) -> usize {
        self.watch_period
    }
    /// Periods closed at the forecast date (their amounts are the settled actuals).
    pub(crate) fn closed_periods(&self) -> usize {
        self.first_period
    }
    /// Actual measure `j` of the flat `n × measure_len` actual measures.
    pub(crate) fn actual_measure(&self, j: usize) -> f64 {
        self.obs.measures[j]
    }

    pub(crate) fn work(&self) -> CondWork {
        let mut w = Work::new(&self.s);
        w.actual = vec![0.0; self.s.prep.measure_len()];
        CondWork {
            w,
            theta: vec![0.0; self.d],
            x: vec![0.0; self.s.months],
            a: vec![0.0; self.s.segment_count],
        }
    }

    /// Draw the scenario's market path (into `cw.w.market`, with the log states in `cw.x`)
    /// and segment factors (logs in `cw.a`, factors in `cw.w.segf`).
    fn draw_state(&self, seed: u64, sc: u64, cw: &mut CondWork) {
        let d = self.d;
        let months = self.s.months;
        let mk = &self.s.market;
        let mut r = rng::stream(seed, sc, 0, Purpose::Market);
        for v in cw.theta.iter_mut() {
            *v = rng::normal(&mut r);
        }
        backward(&self.chol, d, &mut cw.theta);
        for (t, m) in cw.theta.iter_mut().zip(&self.mu) {
            *t += m;
        }
        let dm = self.dm;
        if dm == 0 {
            cw.x.iter_mut().for_each(|v| *v = 0.0);
            for (m, v) in cw.w.market.iter_mut().enumerate() {
                // 1 (stationary), the history's deterministic path relative to B (history)
                *v = market_shift(&self.s, m).exp();
            }
        } else {
            match mk.process {
                MarketProcess::Constant => {
                    let x = mk.sigma * cw.theta[0];
                    cw.x.iter_mut().for_each(|v| *v = x);
                }
                MarketProcess::Ar1 | MarketProcess::RandomWalk => {
                    for m in 0..dm.min(months) {
                        let mut x = 0.0;
                        for j in 0..=m {
                            x += self.lmat[m * dm + j] * cw.theta[j];
                        }
                        cw.x[m] = x;
                    }
                    let innov = if mk.process == MarketProcess::Ar1 {
                        mk.sigma * (1.0 - mk.rho * mk.rho).sqrt()
                    } else {
                        mk.monthly_sigma
                    };
                    let rho = if mk.process == MarketProcess::Ar1 {
                        mk.rho
                    } else {
                        1.0
                    };
                    for m in dm..months {
                        cw.x[m] = rho * cw.x[m - 1] + innov * rng::normal(&mut r);
                    }
                }
            }
            for m in 0..months {
                cw.w.market[m] = (cw.x[m] + market_shift(&self.s, m)).exp();
            }
        }
        for (g, sc) in self.s.segs.iter().enumerate() {
            match self.seg_dim[g] {
                Some(j) => {
                    let a = sc.segment * cw.theta[j];
                    cw.a[g] = a;
                    cw.w.segf[g] = (a - 0.5 * sc.segment * sc.segment).exp();
                }
                None => {
                    cw.a[g] = 0.0;
                    cw.w.segf[g] = 1.0;
                }
            }
        }
    }

    /// Demand of partner `i` for the simulated remainder (`w.base`; 0 before the first
    /// simulated month, the partial month pro rata) and the order draws.
    fn demand(&self, sk: u64, i: usize, cw: &mut CondWork) {
        let s = &self.s;
        let pc = &s.partners[i];
        let g = pc.seg;
        let sc = &s.segs[g];
        let pk = rng::partner_key(sk, i as u64);
        let t = self.obs.t_obs;
        let w = &mut cw.w;
        let mut f = pc.base_month * w.segf[g];
        if sc.partner > 0.0 {
            let sp2 = sc.partner * sc.partner;
            let se2 = (sc.noise * sc.noise).max(MIN_NOISE_VAR);
            let k = self.nobs[i] as f64;
            let (v, mean) = if k > 0.0 && !self.regular[i] {
                let s2 = self.agg_s2[i];
                let mut resid = self.agg_y[i] - cw.a[g];
                let w = &self.agg_w[i * t..(i + 1) * t];
                for m in 0..t {
                    resid -= w[m] * cw.x[m];
                }
                let v = 1.0 / (1.0 / sp2 + 1.0 / s2);
                (v, v * resid / s2)
            } else {
                let mut resid = self.ysum[i];
                if k > 0.0 {
                    for m in 0..t {
                        if self.used[i * t + m] {
                            resid -= cw.x[m] + cw.a[g];
                        }
                    }
                }
                let v = 1.0 / (1.0 / sp2 + k / se2);
                (v, v * resid / se2)
            };
            let mut r = rng::stream_of(pk, Purpose::PartnerFactor);
            let b = mean + v.sqrt() * rng::normal(&mut r);
            f *= (b - 0.5 * sp2).exp();
        }
        let first = self.first_month;
        let churn_month = churn::churn_month(s, pk, sc, first, self.churn_p[i]);
        let sm = &s.seg_month[g * s.months..(g + 1) * s.months];
        if sc.noise > 0.0 {
            // the engine's factors (`Setup::demand`)
            rng::noise_factors(pk, sc.noise, &mut w.base);
            for ((b, &sv), &mk) in w.base.iter_mut().zip(sm).zip(&w.market) {
                // ((f · s) · market) · e, in this order (not `*b *= …`: another rounding)
                #[allow(clippy::assign_op_pattern)]
                {
                    *b = f * sv * mk * *b;
                }
            }
        } else {
            for m in 0..s.months {
                w.base[m] = f * sm[m] * w.market[m];
            }
        }
        if self.incidence[i] < 1.0 {
            Setup::incidence(pk, self.incidence[i], &mut w.base);
        }
        for b in &mut w.base[..first] {
            *b = 0.0;
        }
        if first < s.months {
            w.base[first] *= self.obs.partial;
        }
        for b in &mut w.base[churn_month.max(first)..] {
            *b = 0.0;
        }
        w.order_cats.on = s.draws_order_categories(i);
        if s.needs_orders || w.order_cats.on {
            let factor = self.order_factor.get(i).copied().unwrap_or(1.0);
            s.draw_orders(pk, s.partner_orders(f, sc.orders) * factor, w);
            if let Some(&sigma) = self.order_sigma.get(i) {
                w.order_sigma = sigma;
            }
        }
        s.draw_mix(pk, i, w);
    }

    /// Run partner `i` on `w.g` with its actual measures added to every period; stretch (with
    /// the partner's decision stream) only in periods that still have simulated months.
    fn run_partner(&self, i: usize, w: &mut Work, stretch: Option<&mut rng::Stream>) {
        let s = &self.s;
        if w.any_x {
            w.x.iter_mut().for_each(|v| *v = 0.0);
            w.any_x = false;
        }
        let ml = s.prep.measure_len();
        w.actual
            .copy_from_slice(&self.obs.measures[i * ml..(i + 1) * ml]);
        w.actual_on = true;
        w.lines.clear();
        w.emit = false;
        s.behaviour_periods(i, w, stretch, self.first_period);
        w.actual_on = false;
        let active = &s.active[i * s.component_count..(i + 1) * s.component_count];
        s.prep
            .settle_partner(&w.measures, active, &s.partners[i].baseline, &mut w.scratch);
    }

    /// Run scenario `sc` of a forecast with `seed` into `out`.
    pub(crate) fn run_scenario(&self, seed: u64, sc: u64, cw: &mut CondWork, out: &mut CondOut) {
        let s = &self.s;
        let (n, component_count, period_count) =
            (s.partners.len(), s.component_count, s.period_count);
        let nl = s.ladders.len();
        out.totals.clear();
        out.totals.resize(period_count, 0.0);
        out.payable.clear();
        out.payable.resize(n * component_count, 0.0);
        out.volume.clear();
        out.volume.resize(n * component_count, 0.0);
        out.tier.clear();
        out.tier.resize(n * nl, 0);
        out.closed_adj.clear();
        out.closed_adj
            .resize(n * component_count * CLOSED_RULES, 0.0);
        out.closed.clear();
        out.closed.resize(n * component_count, 0.0);
        out.open.clear();
        out.open.resize(n * component_count * period_count, 0.0);
        self.draw_state(seed, sc, cw);
        let sk = rng::scenario_key(seed, sc);
        for i in 0..n {
            if s.cancelled() {
                return;
            }
            let pc = &s.partners[i];
            self.demand(sk, i, cw);
            let w = &mut cw.w;
            for m in 0..s.months {
                w.g[m] = w.base[m] * pc.uplift;
            }
            if s.behaviour && s.stretch.enabled {
                let mut r = rng::stream_of(rng::partner_key(sk, i as u64), Purpose::Stretch);
                self.run_partner(i, w, Some(&mut r));
            } else {
                self.run_partner(i, w, None);
            }
            for k in 0..period_count {
                out.totals[k] += w.scratch.total(k);
            }
            for (c, comp) in s.prep.components.iter().enumerate() {
                out.payable[i * component_count + c] = w.scratch.payable(c, period_count - 1);
                let mut v = 0.0;
                for k in 0..period_count {
                    v += w.measures[comp.offset + k * comp.slots + slot::VOLUME];
                }
                out.volume[i * component_count + c] = v;
            }
            let cc = component_count;
            closed::closed_effects(
                &s.prep,
                &w.scratch,
                &w.measures,
                self.first_period,
                &mut out.closed_adj[i * cc * CLOSED_RULES..(i + 1) * cc * CLOSED_RULES],
                &mut out.closed[i * cc..(i + 1) * cc],
                &mut out.open[i * cc * period_count..(i + 1) * cc * period_count],
            );
            let active = &s.active[i * component_count..(i + 1) * component_count];
            for (l, (c, _)) in s.ladders.iter().enumerate() {
                if !active[*c] {
                    continue;
                }
                let k = match s.prep.components[*c].measure {
                    Measure::Period => self.watch_period,
                    Measure::Cumulative => period_count - 1,
                };
                out.tier[i * nl + l] = w.scratch.outcome[c * period_count + k].tier.min(255) as u8;
            }
        }
    }
}

impl Setup<'_> {
    /// Add the current partner's actual measures of period `k` (`w.actual`) to the period's
    /// simulated measures.
    #[inline]
    pub(super) fn add_actual_measures(&self, k: usize, w: &mut Work) {
        for comp in &self.prep.components {
            let a = comp.offset + k * comp.slots;
            for j in a..a + comp.slots {
                w.measures[j] += w.actual[j];
            }
        }
    }
}
