//! Everything constant over a run's scenarios, computed once: the prepared programme, the
//! partners' and segments' constants, line categories, ladders and payment months
//! ([`Setup`]).

use super::categories;
use super::fast;
use super::purchases::QTY_SCALE;
use super::result::Ladder;
use super::work::Work;
use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::{Basis, Compiled, Returns};
use crate::rules::{Baseline, Prepared, PreparedRule};
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub(crate) struct PartnerConst {
    pub(crate) seg: usize,
    /// Simulated monthly demand level: the partner's `demand_revenue` / 12 when the table
    /// gives it, else its baseline revenue / 12.
    pub(crate) base_month: f64,
    /// A line's quantity in millionths of a unit per minor unit of its revenue:
    /// `inv_price · (10⁶ / scale)` (0 when the price is unknown); see [`line_qty`].
    pub(crate) qpm: f64,
    pub(crate) price: f64,
    pub(crate) margin: f64,
    pub(crate) baseline: Baseline<f64>,
    pub(crate) uplift: f64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SegConst {
    pub(crate) noise: f64,
    pub(crate) partner: f64,
    pub(crate) segment: f64,
    pub(crate) churn_log: f64, // ln(1 − hazard); 0 when no churn; -inf when hazard = 1
    pub(crate) churn: bool,
    pub(crate) returns: f64,
    pub(crate) orders: f64,
    /// Purchase incidence: the probability of buying in a month (1: every month).
    pub(crate) incidence: f64,
}

pub(crate) struct Setup<'p> {
    pub(crate) p: &'p Compiled,
    pub(crate) prep: Prepared<f64>,
    pub(crate) component_count: usize,
    pub(crate) period_count: usize,
    pub(crate) months: usize,
    pub(crate) months_per_period: usize,
    pub(crate) scale: f64,
    /// Line categories (empty: one uncategorised line per month).
    pub(crate) cats: Vec<String>,
    pub(crate) category_count: usize,
    /// Per component and line category: `None` when not in scope, else the bundle index (0
    /// for other rules).
    pub(crate) category_scope: Vec<Option<u32>>,
    pub(crate) gross: Vec<bool>,
    /// Per line category its order group: the categories in the scope of the same logistics
    /// components share one (a group's month total is split over the orders once; see
    /// [`super::orders`]).
    pub(crate) order_group: Vec<u32>,
    pub(crate) group_count: usize,
    /// Per component and order group (`components × group_count`): whether the group is in
    /// the scope of the component (a logistics component; false for the others).
    pub(crate) group_in: Vec<bool>,
    pub(crate) partners: Vec<PartnerConst>,
    /// n × category_count category shares (all 1.0 with category_count = 1 when uncategorised).
    pub(crate) mix: Vec<f64>,
    /// Units per revenue of each line category relative to the partner's mix
    /// ([`Setup::category_units`]): n × category_count factors on the partner's `qpm`; empty
    /// when the model gives no category prices (every line at the partner's `qpm`).
    pub(crate) cat_qpm: Vec<f64>,
    /// Per line category: units per revenue (1 / the model's category price).
    pub(crate) cat_units: Vec<f64>,
    /// Per partner the concentration of its mix for the year (`economics.mix_concentration`;
    /// 0: its mix itself; empty when no partner draws one, or with one line category).
    pub(crate) mix_conc: Vec<f64>,
    /// n × component_count.
    pub(crate) active: Vec<bool>,
    pub(crate) segs: Vec<SegConst>,
    pub(crate) segment_count: usize,
    /// segment_count × months: seasonality × trend.
    pub(crate) seg_month: Vec<f64>,
    pub(crate) market: crate::demand::Market,
    /// `ln B` of a `start = "history"` market (the baseline year's mean factor; 0 otherwise).
    pub(crate) market_log_base: f64,
    pub(crate) size_sigma: f64,
    pub(crate) needs_orders: bool,
    /// Categories per order (`orders.categories_per_order`; `None`: months spread by the mix).
    pub(crate) order_cats: Option<super::order_categories::OrderCategories>,
    /// Whether a component measures units (a price is then known for every partner): the
    /// fast path sums the lines' quantities only then.
    pub(crate) units: bool,
    pub(crate) poisson_orders: bool,
    /// The order counts' size law `(b, reference)` (`orders.size_elasticity`; see
    /// [`super::order_size`]).
    pub(crate) order_size: Option<(f64, f64)>,
    pub(crate) stretch: crate::demand::Stretch,
    pub(crate) pull_share: f64,
    pub(crate) behaviour: bool,
    pub(crate) ladders: Vec<(usize, Ladder)>,
    pub(crate) tier_width: usize,
    pub(crate) partner_tier_width: usize,
    pub(crate) pay_month: Vec<usize>,
    pub(crate) cash_months: usize,
    /// The fast path's plan when the run's shape allows it (see [`fast`]).
    pub(crate) fast: Option<fast::Plan>,
    /// When no partner is in two ladders: per partner its ladder (index into `ladders`, its
    /// tier-count offset and its number of tiers), `l = NONE` for none. The per-partner fold
    /// then counts one tier a partner instead of one per ladder.
    pub(crate) partner_ladder: Option<Vec<PartnerLadder>>,
    /// The run's cancel flag ([`SimOptions::cancel`], [`crate::forecast::ForecastOptions`]'s),
    /// checked between scenarios and before each partner of the general path (a relaxed load
    /// of a flag no one writes until a cancel: nothing next to a partner's work, which can be
    /// tens of milliseconds with many orders). The fast path checks between scenarios only
    /// (a scenario of 100,000 partners takes it a few milliseconds).
    pub(crate) cancel: Option<&'p AtomicBool>,
}

impl Setup<'_> {
    /// Whether the run was asked to stop.
    #[inline]
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// A partner's one ladder (see [`Setup::partner_ladder`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartnerLadder {
    pub(crate) l: u32,
    pub(crate) offset: u32,
    pub(crate) tiers: u32,
}

pub(crate) fn months_between(a: chrono::NaiveDate, b: chrono::NaiveDate) -> usize {
    use chrono::Datelike;
    let mut m = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
    if b.day() < a.day() {
        m -= 1;
    }
    m.max(0) as usize
}

pub(crate) fn needs_units(p: &Compiled) -> Option<&str> {
    use crate::programme::{Reward, Rule};
    for c in &p.components {
        let uses = match &c.rule {
            Rule::Volume { basis, tiers, .. } | Rule::Growth { basis, tiers, .. } => {
                *basis == Basis::Units
                    || tiers.iter().any(|t| matches!(t.reward, Reward::PerUnit(_)))
            }
            Rule::PerUnit { .. } | Rule::Logistics { .. } => true,
            Rule::Bundle { basis, .. } => *basis == Basis::Units,
        };
        if uses {
            return Some(&c.id);
        }
    }
    None
}

impl<'p> Setup<'p> {
    pub(crate) fn new(p: &'p Compiled, pop: &Population, model: &Model) -> Result<Setup<'p>> {
        let mut timer = crate::forecast::timing::Timer::start("set-up");
        Self::check_inputs(p, pop, model)?;
        let prep: Prepared<f64> = Prepared::new(p);
        let component_count = prep.components.len();
        let period_count = prep.periods;
        let months_per_period = prep.months_per_period as usize;
        let months = period_count * months_per_period;
        let (cats, mix) = categories::line_categories(p, pop, model)?;
        let category_count = cats.len().max(1);
        let category_scope = categories::scope_of_categories(p, &prep, &cats)?;
        let (order_group, group_count, group_in) =
            categories::order_groups(&prep, &category_scope, category_count);
        let cat_units = Self::category_units_of(model, &cats)?;
        let gross: Vec<bool> = p
            .components
            .iter()
            .map(|c| c.returns == Returns::Gross)
            .collect();
        let units_needed = needs_units(p);
        let scale = 10f64.powi(p.decimals as i32);
        let (mut partners, active) = Self::partner_constants(p, pop, model, units_needed, scale)?;
        Self::new_partner_baselines(&mut partners, pop)?;
        timer.lap("checks, categories, partner constants");
        // the simulated level: the table's demand_revenue where given (the rules keep the
        // baseline; docs/simulation.md §1)
        for (pc, d) in partners.iter_mut().zip(&pop.demand_revenue) {
            if let Some(d) = d {
                pc.base_month = d / 12.0;
            }
        }
        let segment_count = pop.segments.len();
        let (segs, seg_month) = Self::segment_constants(p, pop, model, months);
        let (ladders, tier_width, partner_tier_width) = Self::ladders(&prep);
        let pay_month: Vec<usize> = (0..period_count as u32)
            .map(|k| months_between(p.calendar.start, p.payment_date(k)))
            .collect();
        let cash_months = pay_month.iter().copied().max().unwrap_or(0) + 1;
        let behaviour = model.behaviour.any();
        let mut setup = Setup {
            p,
            prep,
            component_count,
            period_count,
            months,
            months_per_period,
            scale,
            cats,
            category_count,
            category_scope,
            gross,
            order_group,
            group_count,
            group_in,
            partners,
            mix,
            cat_qpm: Vec::new(),
            cat_units,
            mix_conc: Self::mix_concentrations(pop, model, category_count),
            active,
            segs,
            segment_count,
            seg_month,
            market: model.market.clone(),
            market_log_base: model.market.history_log_base(&model.seasonality.factors, {
                use chrono::Datelike;
                p.calendar.start.month0() as usize
            }),
            size_sigma: model.orders.size_sigma,
            needs_orders: p.needs_orders(),
            order_cats: super::order_categories::OrderCategories::of(model, pop, category_count),
            units: units_needed.is_some(),
            poisson_orders: model.orders.poisson,
            order_size: model.orders.size_law(),
            stretch: model.behaviour.stretch.clone(),
            pull_share: model.behaviour.pull_forward.share,
            behaviour,
            ladders,
            tier_width,
            partner_tier_width,
            pay_month,
            cash_months,
            fast: None,
            partner_ladder: None,
            cancel: None,
        };
        timer.lap("segments, ladders");
        setup.apply_uplift(model);
        timer.lap("uplift");
        setup.category_qpm();
        setup.fast = fast::Plan::new(&setup);
        setup.partner_ladder = setup.partner_ladders();
        timer.lap("categories' units, fast plan, ladders per partner");
        Ok(setup)
    }

    /// Units per revenue of each line category from the model's `economics.category_prices`
    /// (empty without them). Given, they price every line category, and only those.
    fn category_units_of(model: &Model, cats: &[String]) -> Result<Vec<f64>> {
        let prices = &model.economics.category_prices;
        if prices.is_empty() {
            return Ok(Vec::new());
        }
        for c in prices.keys() {
            if !cats.iter().any(|x| x == c) {
                return Err(Error::model(
                    format!("economics.category_prices.{c}"),
                    format!(
                        "category '{c}' is not a line category of the run (known: {})",
                        if cats.is_empty() {
                            "none: no category mix".to_string()
                        } else {
                            cats.join(", ")
                        }
                    ),
                ));
            }
        }
        cats.iter()
            .map(|c| {
                prices.get(c).map(|p| 1.0 / p).ok_or_else(|| {
                    Error::model(
                        "economics.category_prices",
                        format!("category '{c}' has no price: give a price for every line category ({})", cats.join(", ")),
                    )
                })
            })
            .collect()
    }

    /// Each partner's units per revenue by line category (`cat_qpm`, factors on its `qpm`):
    /// category `j`'s units per revenue `u_j` over the partner's mix-weighted mean
    /// `Σ_k mix_k u_k`, so that its lines split its units by category price while its total
    /// units per revenue stay its own. Called again when a forecast conditions the mix.
    pub(crate) fn category_qpm(&mut self) {
        if self.cat_units.is_empty() {
            return;
        }
        let cc = self.category_count;
        self.cat_qpm.clear();
        self.cat_qpm.reserve(self.partners.len() * cc);
        for mix in self.mix.chunks_exact(cc) {
            let mean: f64 = mix.iter().zip(&self.cat_units).map(|(m, u)| m * u).sum();
            for &u in &self.cat_units {
                self.cat_qpm.push(if mean > 0.0 { u / mean } else { 1.0 });
            }
        }
    }

    /// Units (in millionths) per minor unit of revenue of partner `i`'s lines in category `j`.
    #[inline]
    pub(crate) fn line_qpm(&self, i: usize, j: usize) -> f64 {
        let q = self.partners[i].qpm;
        if self.cat_qpm.is_empty() {
            q
        } else {
            q * self.cat_qpm[i * self.category_count + j]
        }
    }

    /// The model is valid and knows the population's segments, the population has partners,
    /// and each partner's segment is one the programme declares (when it declares any).
    fn check_inputs(p: &Compiled, pop: &Population, model: &Model) -> Result<()> {
        model.validate()?;
        model.check_segments(&pop.segments)?;
        if pop.is_empty() {
            return Err(Error::data(
                &pop.table,
                None,
                None,
                "the partner table has no rows",
            ));
        }
        if !p.segments.is_empty() {
            for i in 0..pop.len() {
                let s = pop.segment_name(i);
                if !p.segments.iter().any(|d| d == s) {
                    return Err(Error::data(
                        &pop.table,
                        Some(i + 1),
                        Some("segment"),
                        format!(
                            "segment '{s}' is not declared in the programme (expected one of: {})",
                            p.segments.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Each partner's constants (unit price, baseline, margin; a partner without a baseline
    /// gets its base month as NaN, filled by [`Setup::new_partner_baselines`]) and whether it
    /// is in each component (`partners × components`).
    fn partner_constants(
        p: &Compiled,
        pop: &Population,
        model: &Model,
        units_needed: Option<&str>,
        scale: f64,
    ) -> Result<(Vec<PartnerConst>, Vec<bool>)> {
        let n = pop.len();
        let mut partners = Vec::with_capacity(n);
        let mut active = Vec::with_capacity(n * p.components.len());
        for i in 0..n {
            // unit price: the table's, else implied by both baselines, else the model's default
            let implied = match (pop.baseline_revenue[i], pop.baseline_units[i]) {
                (Some(r), Some(u)) if r > 0.0 && u > 0.0 => Some(r / u),
                _ => None,
            };
            let price = pop.unit_price[i].or(implied).or(model.economics.unit_price);
            let (rev, known) = match (pop.baseline_revenue[i], pop.baseline_units[i], price) {
                (Some(r), _, _) => (r, true),
                (None, Some(u), Some(pr)) => (u * pr, true),
                (None, Some(_), None) => {
                    return Err(Error::data(
                        &pop.table,
                        Some(i + 1),
                        Some("unit_price"),
                        "the partner has only baseline_units: give its unit_price (or the model's economics.unit_price) to simulate revenue",
                    ))
                }
                // a new partner: simulated at its segment's median baseline (below)
                (None, None, _) => (f64::NAN, false),
            };
            if let (Some(c), None) = (units_needed, price) {
                return Err(Error::model(
                    "economics.unit_price",
                    format!(
                        "component '{c}' measures units, but partner '{}' has no unit_price in the partner table and the model gives no economics.unit_price",
                        pop.partner_id[i]
                    ),
                ));
            }
            let units = if known {
                pop.baseline_units[i].or_else(|| price.map(|pr| rev / pr))
            } else {
                None
            };
            let margin = pop.margin_rate[i]
                .or(model.economics.margin_rate)
                .unwrap_or(f64::NAN);
            partners.push(PartnerConst {
                seg: pop.segment[i] as usize,
                base_month: rev / 12.0,
                qpm: price.map(|x| 1.0 / x * (QTY_SCALE / scale)).unwrap_or(0.0),
                price: price.unwrap_or(f64::NAN),
                margin,
                baseline: Baseline {
                    revenue: if known { Some(rev) } else { None },
                    units,
                    revenue_months: pop.baseline_revenue_months[i].clone(),
                    units_months: Self::units_months(pop, i, known, price),
                },
                uplift: 1.0,
            });
            for c in &p.components {
                active.push(
                    c.scope
                        .includes_partner(&pop.partner_id[i], pop.segment_name(i)),
                );
            }
        }

        Ok((partners, active))
    }

    /// Partner `i`'s monthly units baselines: the table's, else (like its annual units) its
    /// monthly revenue baselines at its unit price when it has a baseline but no units.
    fn units_months(
        pop: &Population,
        i: usize,
        known: bool,
        price: Option<f64>,
    ) -> Option<Box<[f64; 12]>> {
        match (
            &pop.baseline_units_months[i],
            pop.baseline_units[i],
            &pop.baseline_revenue_months[i],
            price,
        ) {
            (Some(m), _, _, _) => Some(m.clone()),
            (None, None, Some(r), Some(pr)) if known => Some(Box::new(r.map(|x| x / pr))),
            _ => None,
        }
    }

    /// New partners (no baseline) are simulated at their segment's median baseline revenue.
    fn new_partner_baselines(partners: &mut [PartnerConst], pop: &Population) -> Result<()> {
        // new partners (no baseline): their segment's median baseline revenue
        let segment_count = pop.segments.len();
        let mut by_seg: Vec<Vec<f64>> = vec![Vec::new(); segment_count];
        for pc in partners.iter() {
            if !pc.base_month.is_nan() {
                by_seg[pc.seg].push(pc.base_month);
            }
        }
        for v in &mut by_seg {
            v.sort_by(f64::total_cmp);
        }
        for (i, pc) in partners.iter_mut().enumerate() {
            if pc.base_month.is_nan() {
                let v = &by_seg[pc.seg];
                if v.is_empty() {
                    return Err(Error::data(
                        &pop.table,
                        Some(i + 1),
                        Some("baseline_revenue"),
                        format!(
                            "the partner has no baseline and no partner of segment '{}' has one to simulate it from: give baseline_revenue or baseline_units",
                            pop.segments[pc.seg]
                        ),
                    ));
                }
                let n = v.len();
                pc.base_month = if n % 2 == 1 {
                    v[n / 2]
                } else {
                    0.5 * (v[n / 2 - 1] + v[n / 2])
                };
            }
        }

        Ok(())
    }

    /// Per segment its constants, and `segments × months` of seasonality × trend.
    fn segment_constants(
        p: &Compiled,
        pop: &Population,
        model: &Model,
        months: usize,
    ) -> (Vec<SegConst>, Vec<f64>) {
        let segment_count = pop.segments.len();
        // segments
        let start_month0 = {
            use chrono::Datelike;
            p.calendar.start.month0() as usize
        };
        let mut seg_month = Vec::with_capacity(segment_count * months);
        let mut segs = Vec::with_capacity(segment_count);
        for name in &pop.segments {
            let season = model.seasonality.get(name);
            let g = model.growth.get(name);
            for m in 0..months {
                let trend = (1.0 + g).powf((m as f64 + 6.5) / 12.0);
                seg_month.push(season[(start_month0 + m) % 12] * trend);
            }
            let h = model.churn.get(name);
            segs.push(SegConst {
                noise: model.noise.get(name),
                partner: model.partner_factor.get(name),
                segment: model.segment_factor.get(name),
                churn_log: if h > 0.0 { (1.0 - h).ln() } else { 0.0 },
                churn: h > 0.0,
                returns: model.returns.get(name),
                orders: model.orders.get(name),
                incidence: model.incidence.get(name),
            });
        }

        (segs, seg_month)
    }

    /// The ladders whose tiers are counted, with the widths of the per-scenario tier counts
    /// (tiers 0..=tiers of each) and of the per-partner reach probabilities (tiers 1..=tiers).
    fn ladders(prep: &Prepared<f64>) -> (Vec<(usize, Ladder)>, usize, usize) {
        // ladders
        let mut ladders = Vec::new();
        let (mut off, mut poff) = (0, 0);
        for (c, pc) in prep.components.iter().enumerate() {
            let tiers = match &pc.rule {
                PreparedRule::Ladder { tiers, .. } | PreparedRule::Growth { tiers, .. } => {
                    tiers.len()
                }
                _ => continue,
            };
            ladders.push((
                c,
                Ladder {
                    component: pc.id.clone(),
                    tiers,
                    offset: off,
                    partner_offset: poff,
                },
            ));
            off += tiers + 1;
            poff += tiers;
        }
        (ladders, off, poff)
    }

    /// Uplift: each partner's demand × (1 + elasticity × the effective rebate rate on its
    /// expected purchases).
    fn apply_uplift(&mut self, model: &Model) {
        use rayon::prelude::*;
        let n = self.partners.len();
        // uplift: 1 + elasticity × the effective rebate rate on expected purchases, each
        // partner on its own (in parallel on the caller's pool: the same numbers)
        let e = model.behaviour.uplift.elasticity;
        if e > 0.0 {
            let setup = &*self;
            let uplift: Vec<f64> = (0..n)
                .into_par_iter()
                .with_min_len(256)
                .map_init(
                    || Work::new(setup),
                    |w, i| {
                        setup.expected_demand(i, w);
                        w.g.copy_from_slice(&w.base);
                        // the revenue and the final payable only (the same numbers as
                        // `run_partner`'s, bit for bit)
                        let (revenue, paid) = setup.run_partner_final(i, w);
                        let r = if revenue > 0.0 { paid / revenue } else { 0.0 };
                        1.0 + e * r
                    },
                )
                .collect();
            for (pc, u) in self.partners.iter_mut().zip(uplift) {
                pc.uplift = u;
            }
        }
    }
}

impl Setup<'_> {
    /// [`Setup::partner_ladder`]: `None` when some partner is in two ladders.
    pub(crate) fn partner_ladders(&self) -> Option<Vec<PartnerLadder>> {
        let n = self.partners.len();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let active = &self.active[i * self.component_count..(i + 1) * self.component_count];
            let mut one = PartnerLadder {
                l: NONE,
                offset: 0,
                tiers: 0,
            };
            for (l, (c, lad)) in self.ladders.iter().enumerate() {
                if active[*c] {
                    if one.l != NONE {
                        return None;
                    }
                    one = PartnerLadder {
                        l: l as u32,
                        offset: lad.offset as u32,
                        tiers: lad.tiers as u32,
                    };
                }
            }
            out.push(one);
        }
        Some(out)
    }
}
