//! The methods rebate systems on the market use to forecast a payout (current-tier accrual,
//! straight-line run rate, seasonal-naive), each building a full-year transaction table that
//! the exact settlement engine settles, so no rule is re-implemented here.

use super::forecaster::{Forecaster, Prediction};
use crate::data::{Partners, Transactions};
use crate::demand::Model;
use crate::engine::export_scenario;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::{Compiled, Rule};
use crate::settlement::settle;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::prelude::*;
use std::collections::HashMap;

/// Which market method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketKind {
    /// Current-tier accrual: each partner's tier reached to date applied to its expected
    /// full-year volume (actuals to date + the plan for the remaining months).
    CurrentTier,
    /// Straight-line run rate: each partner's average month to date repeated for every
    /// remaining month (actuals × months / months elapsed), settled.
    RunRate,
    /// Seasonal-naive: last year's months × the growth goal for the remaining months
    /// (baseline × seasonality share × (1 + growth)), plus the actuals to date, settled.
    SeasonalNaive,
}

impl MarketKind {
    /// The method's short name (`current_tier`, `run_rate`, `seasonal_naive`).
    pub fn name(self) -> &'static str {
        match self {
            MarketKind::CurrentTier => "current_tier",
            MarketKind::RunRate => "run_rate",
            MarketKind::SeasonalNaive => "seasonal_naive",
        }
    }
}

/// One line of a partner's plan for a month: a purchase, or a return (negative amounts).
#[derive(Debug, Clone)]
struct PlanLine {
    partner: String,
    category: Option<String>,
    quantity: Decimal,
    revenue: Decimal,
}

/// A market method, settled exactly. See [`MarketKind`] and `docs/backtest.md`.
pub struct MarketMethod<'a> {
    kind: MarketKind,
    programme: &'a Compiled,
    partners: Partners,
    /// Per programme month: the plan's lines (purchases and returns).
    plan: Vec<Vec<PlanLine>>,
}

/// `x` as a Decimal rounded to `dp` places, half away from zero (0 for a non-finite `x`).
fn dec_round(x: f64, dp: u32) -> Decimal {
    Decimal::from_f64(x)
        .unwrap_or_default()
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

impl<'a> MarketMethod<'a> {
    /// Build the method for a programme, population and model. The plan (last year's months ×
    /// the growth goal) is, for partner `i` of segment `g` in programme month `m`:
    /// revenue `B_i · S_g[cal(m)] / Σ S_g · (1 + growth_g)`, split by the partner's category
    /// shares (the population's `mix_` columns, else the model's `category_mix`), units =
    /// revenue / unit price, and a return line of `returns_g` of it (last year's return rate).
    /// `B_i` is the baseline revenue the engine uses (the segment median for a partner without
    /// a baseline).
    pub fn new(
        kind: MarketKind,
        programme: &'a Compiled,
        population: &Population,
        model: &Model,
    ) -> Result<Self> {
        // the partner table exactly as the engine settles it (baselines, derived revenue)
        let partners = export_scenario(programme, population, model, 0, 0)?.partners;
        let months = programme.calendar.months() as usize;
        let dp = programme.decimals;
        let base = baselines_with_segment_medians(&partners, population);
        let (cats, model_mix): (Vec<String>, Vec<f64>) = if !population.categories.is_empty() {
            (population.categories.clone(), Vec::new())
        } else {
            (
                model.economics.category_mix.keys().cloned().collect(),
                model.economics.category_mix.values().copied().collect(),
            )
        };
        let start0 = programme.calendar.start.month0() as usize;
        let mut plan = vec![Vec::new(); months];
        for (i, b) in base.iter().enumerate() {
            let seg = population.segment_name(i);
            let season = model.seasonality.get(seg);
            let total: f64 = season.iter().sum();
            let growth = model.growth.get(seg);
            let returns = model.returns.get(seg);
            let b = b.unwrap_or(0.0);
            let price = population.unit_price[i]
                .or(
                    match (population.baseline_revenue[i], population.baseline_units[i]) {
                        (Some(r), Some(u)) if r > 0.0 && u > 0.0 => Some(r / u),
                        _ => None,
                    },
                )
                .or(model.economics.unit_price);
            let mix: Vec<f64> = if cats.is_empty() {
                vec![1.0]
            } else if model_mix.is_empty() {
                population.mix_of(i).to_vec()
            } else {
                model_mix.clone()
            };
            for (m, lines) in plan.iter_mut().enumerate() {
                let month_rev = if total > 0.0 {
                    b * season[(start0 + m) % 12] / total * (1.0 + growth)
                } else {
                    0.0
                };
                for (j, share) in mix.iter().enumerate() {
                    let r = month_rev * share;
                    if r <= 0.0 {
                        continue;
                    }
                    let category = if cats.is_empty() {
                        None
                    } else {
                        Some(cats[j].clone())
                    };
                    let q = price.map(|p| r / p).unwrap_or(0.0);
                    let rev = dec_round(r, dp);
                    let qty = dec_round(q, 6);
                    lines.push(PlanLine {
                        partner: population.partner_id[i].clone(),
                        category: category.clone(),
                        quantity: qty,
                        revenue: rev,
                    });
                    if returns > 0.0 {
                        lines.push(PlanLine {
                            partner: population.partner_id[i].clone(),
                            category,
                            quantity: -dec_round(q * returns, 6),
                            revenue: -dec_round(r * returns, dp),
                        });
                    }
                }
            }
        }
        Ok(MarketMethod {
            kind,
            programme,
            partners,
            plan,
        })
    }

    /// The method's kind.
    pub fn kind(&self) -> MarketKind {
        self.kind
    }

    /// The full-year transactions the method settles at `as_of`: the actuals to date plus its
    /// projection of every remaining month (lines on the first day of each month).
    pub fn projected_year(&self, actuals: &Transactions, as_of: NaiveDate) -> Result<Transactions> {
        let cal = &self.programme.calendar;
        let months = cal.months() as usize;
        // months elapsed, the month containing as_of included (the harness forecasts at month ends)
        let elapsed = match cal.month_of(as_of) {
            Some(m) => m as usize + 1,
            None => {
                return Err(Error::Request(format!(
                    "as_of {as_of} is outside the programme ({} to {})",
                    cal.start,
                    cal.end()
                )))
            }
        };
        let mut b = TxBuilder::from(actuals);
        let first_day = |m: usize| {
            cal.start
                .checked_add_months(Months::new(m as u32))
                .expect("validated dates")
        };
        match self.kind {
            MarketKind::SeasonalNaive | MarketKind::CurrentTier => {
                for m in elapsed..months {
                    let d = first_day(m);
                    for l in &self.plan[m] {
                        b.push(&l.partner, d, l.quantity, l.revenue, l.category.as_deref());
                    }
                }
            }
            MarketKind::RunRate => {
                // per partner, category and sign: the mean month to date
                // (partner key, category key, return line) → (quantity, revenue) to date
                type Key = (u32, Option<u32>, bool);
                let mut agg: Vec<(Key, (Decimal, Decimal))> = Vec::new();
                let mut at: HashMap<Key, usize> = HashMap::new();
                for i in 0..actuals.len() {
                    let key = (
                        actuals.partner_key[i],
                        actuals.category.as_ref().and_then(|c| c[i]),
                        actuals.revenue[i].is_sign_negative()
                            || actuals.quantity[i].is_sign_negative(),
                    );
                    let j = *at.entry(key).or_insert_with(|| {
                        agg.push((key, (Decimal::ZERO, Decimal::ZERO)));
                        agg.len() - 1
                    });
                    agg[j].1 .0 += actuals.quantity[i];
                    agg[j].1 .1 += actuals.revenue[i];
                }
                let e = Decimal::from(elapsed as u64);
                let dp = self.programme.decimals;
                for m in elapsed..months {
                    let d = first_day(m);
                    for ((p, c, _), (q, r)) in &agg {
                        let pid = actuals.partner_keys[*p as usize].clone();
                        let cat = c.map(|c| actuals.category_keys[c as usize].clone());
                        b.push(
                            &pid,
                            d,
                            (q / e).round_dp(6),
                            (r / e)
                                .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero),
                            cat.as_deref(),
                        );
                    }
                }
            }
        }
        Ok(b.tx)
    }

    /// The programme a current-tier accrual settles with: every volume or growth ladder split
    /// into one copy per tier reached to date, each scoped to the partners at that tier and
    /// without the tiers above it (so the partner's tier cannot rise); partners at tier 0 earn
    /// nothing from the ladder. The tier reached to date is settlement's standing (`measure =
    /// cumulative`: on the volume to date; `measure = period`: in the latest period with
    /// actuals).
    pub fn frozen_programme(&self, actuals: &Transactions) -> Result<Compiled> {
        let st = settle(self.programme, &self.partners, actuals)?;
        let mut tier_of: HashMap<(&str, &str), u32> = HashMap::new();
        for s in &st.standing {
            tier_of.insert((s.component.as_str(), s.partner_id.as_str()), s.tier);
        }
        let mut p = self.programme.clone();
        let mut comps = Vec::new();
        for c in &self.programme.components {
            let ntiers = match &c.rule {
                Rule::Volume { tiers, .. } | Rule::Growth { tiers, .. } => tiers.len(),
                _ => {
                    comps.push(c.clone());
                    continue;
                }
            };
            for t in 1..=ntiers as u32 {
                let mut ids: Vec<String> = self
                    .partners
                    .ids
                    .iter()
                    .filter(|id| tier_of.get(&(c.id.as_str(), id.as_str())) == Some(&t))
                    .cloned()
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                ids.sort();
                let mut copy = c.clone();
                // \u{1} sorts before every printable character: the copies keep the original
                // components' order (exclusive-group ties go to the smallest id)
                copy.id = format!("{}\u{1}{t}", c.id);
                copy.scope.partners = Some(ids);
                match &mut copy.rule {
                    Rule::Volume { tiers, .. } | Rule::Growth { tiers, .. } => {
                        tiers.truncate(t as usize)
                    }
                    _ => unreachable!(),
                }
                comps.push(copy);
            }
        }
        comps.sort_by(|a, b| a.id.cmp(&b.id));
        p.components = comps;
        Ok(p)
    }
}

impl Forecaster for MarketMethod<'_> {
    fn predict(&self, actuals: &Transactions, as_of: NaiveDate, _seed: u64) -> Result<Prediction> {
        let year = self.projected_year(actuals, as_of)?;
        let st = match self.kind {
            MarketKind::CurrentTier => {
                settle(&self.frozen_programme(actuals)?, &self.partners, &year)?
            }
            _ => settle(self.programme, &self.partners, &year)?,
        };
        Ok(Prediction::Point(
            st.total.payable.to_f64().unwrap_or(f64::NAN),
        ))
    }
}

/// Baseline revenue per partner as the engine settles it, the median of its segment's
/// baselines for a partner without one (`None` only where the whole segment has none).
fn baselines_with_segment_medians(
    partners: &Partners,
    population: &Population,
) -> Vec<Option<f64>> {
    let n = population.len();
    let mut base: Vec<Option<f64>> = (0..n)
        .map(|i| partners.baseline_revenue[i].and_then(|d| d.to_f64()))
        .collect();
    for g in 0..population.segments.len() {
        let mut v: Vec<f64> = (0..n)
            .filter(|&i| population.segment[i] as usize == g)
            .filter_map(|i| base[i])
            .collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            continue;
        }
        let median = if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2])
        };
        for (b, &segment) in base.iter_mut().zip(&population.segment) {
            if segment as usize == g && b.is_none() {
                *b = Some(median);
            }
        }
    }
    base
}

/// Appends rows to a copy of a transaction table, interning ids.
struct TxBuilder {
    tx: Transactions,
    partners: HashMap<String, u32>,
    cats: HashMap<String, u32>,
}

impl TxBuilder {
    fn from(t: &Transactions) -> Self {
        let partners = t
            .partner_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u32))
            .collect();
        let cats = t
            .category_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u32))
            .collect();
        TxBuilder {
            tx: t.clone(),
            partners,
            cats,
        }
    }

    fn push(
        &mut self,
        partner: &str,
        date: NaiveDate,
        quantity: Decimal,
        revenue: Decimal,
        category: Option<&str>,
    ) {
        let tx = &mut self.tx;
        let p = *self.partners.entry(partner.to_owned()).or_insert_with(|| {
            tx.partner_keys.push(partner.to_owned());
            tx.partner_keys.len() as u32 - 1
        });
        tx.partner_key.push(p);
        tx.date.push(date);
        tx.quantity.push(quantity);
        tx.revenue.push(revenue);
        let c = category.map(|c| {
            *self.cats.entry(c.to_owned()).or_insert_with(|| {
                tx.category_keys.push(c.to_owned());
                tx.category_keys.len() as u32 - 1
            })
        });
        match (&mut tx.category, c) {
            (Some(v), c) => v.push(c),
            (None, Some(c)) => {
                let mut v = vec![None; tx.date.len() - 1];
                v.push(Some(c));
                tx.category = Some(v);
            }
            (None, None) => {}
        }
        if let Some(o) = tx.order.as_mut() {
            o.push(None);
        }
    }
}

/// The three market methods, in the order current-tier, run-rate, seasonal-naive.
pub fn market_methods<'a>(
    programme: &'a Compiled,
    population: &Population,
    model: &Model,
) -> Result<Vec<MarketMethod<'a>>> {
    [
        MarketKind::CurrentTier,
        MarketKind::RunRate,
        MarketKind::SeasonalNaive,
    ]
    .into_iter()
    .map(|k| MarketMethod::new(k, programme, population, model))
    .collect()
}
