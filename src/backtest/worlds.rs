//! Worlds the forecast's model did not generate (issue 18): synthetic years drawn by a
//! *different* process than the demand model, in the style of the bundled example's
//! `make_data.py`, and the per-component coverage of the forecast's intervals on them.
//!
//! The process ([`backlog_world`]), per partner: this year's revenue = baseline ×
//! exp(N(0.035, 0.17)) (3% of partners lose ground: × U(0.35, 0.8)); a specialised category
//! mix (the base mix × lognormal(0, 0.45) per category, one partner in four buys none of one
//! category); monthly demand (`make_data.py`'s seasonal shape of the partner's segment — a
//! construction season, with a Q4 peak for retail and online — × lognormal(0, 0.22)) accumulates in
//! a backlog that is ordered in whole orders of the partner's typical size (16,500 ×
//! lognormal(0, 0.35)), so small partners skip months; 1–4 lines an order at category prices
//! (`make_data.py`'s where the names match, else the model's unit price) ± 10%; 2.5% of lines
//! partly returned 5–40 days later; 1% of partners stop after September. None of that is the
//! model's monthly lognormal with one mix for everyone.

use super::shocks::CommonShocks;
use super::truth::{actuals_to, month_end_date, TruthYear};
use crate::data::{Partners, Transactions};
use crate::demand::Model;
use crate::error::{Error, Result};
use crate::forecast::{forecast, ForecastOptions};
use crate::population::Population;
use crate::programme::Compiled;
use crate::rng::{self, Purpose};
use crate::settlement::settle;
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::prelude::*;
use serde::Serialize;
use std::fmt::Write;

/// Relative monthly demand of the worlds (January first), `make_data.py`'s: the construction
/// season (installers, and segments of other names), a Q4 peak for retail and online.
const SEASON: [f64; 12] = [
    0.72, 0.80, 0.98, 1.06, 1.10, 1.06, 0.96, 0.80, 1.10, 1.14, 1.06, 0.90,
];
const SEASON_RETAIL: [f64; 12] = [
    0.80, 0.82, 0.96, 1.02, 1.04, 1.00, 0.94, 0.90, 1.02, 1.08, 1.16, 1.26,
];
const SEASON_ONLINE: [f64; 12] = [
    0.85, 0.80, 0.90, 0.92, 0.94, 0.90, 0.88, 0.92, 1.00, 1.10, 1.38, 1.50,
];

/// The seasonal shape of a segment's partners (by `make_data.py`'s segment names).
fn season_of(segment: &str) -> &'static [f64; 12] {
    match segment {
        "retail" => &SEASON_RETAIL,
        "online" => &SEASON_ONLINE,
        _ => &SEASON,
    }
}

/// `make_data.py`'s list prices, used for categories of these names.
const PRICES: [(&str, f64); 5] = [
    ("cable", 420.0),
    ("lighting", 95.0),
    ("smart_home", 140.0),
    ("tools", 260.0),
    ("accessories", 48.0),
];

/// A lognormal factor `exp(σ·Z)` (median 1).
fn lognormal(r: &mut rng::Stream, sigma: f64) -> f64 {
    (sigma * rng::normal(r)).exp()
}

/// The categories and base mix of partner `i`: the partner table's, else the model's.
fn base_mix(population: &Population, model: &Model, i: usize) -> (Vec<String>, Vec<f64>) {
    if !population.categories.is_empty() {
        (population.categories.clone(), population.mix_of(i).to_vec())
    } else {
        let m = &model.economics.category_mix;
        (m.keys().cloned().collect(), m.values().copied().collect())
    }
}

/// Synthetic year `year` of a backlog world with `seed` (see the module comment), settled;
/// every partner drawn independently (no common shock).
pub fn backlog_world(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    seed: u64,
    year: usize,
) -> Result<TruthYear> {
    backlog_world_with(programme, population, model, seed, year, None)
}

/// [`backlog_world`] with the monthly demand of every partner of segment `g` times the
/// world's common factor `exp(x_m + a_g)` ([`CommonShocks`]; `None`: the world of
/// [`backlog_world`], bit for bit — the shocks come from a stream of their own).
pub fn backlog_world_with(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    seed: u64,
    year: usize,
    shocks: Option<&CommonShocks>,
) -> Result<TruthYear> {
    let start = programme.calendar.start;
    let months = (programme.calendar.months() as usize).min(12);
    let end = programme.calendar.end();
    let unit_price = model.economics.unit_price.unwrap_or(100.0);
    let mut csv = String::from("partner_id,date,quantity,revenue,category,order_id\n");
    let mut partners = String::from("partner_id,segment,baseline_revenue\n");
    let mut order = 0u64;
    let common = shocks.map(|c| c.factors(population, seed, year, months));
    for i in 0..population.len() {
        let id = &population.partner_id[i];
        let baseline = population.baseline_revenue[i];
        let _ = writeln!(
            partners,
            "{id},{},{}",
            population.segment_name(i),
            baseline.map(|b| format!("{b:.2}")).unwrap_or_default()
        );
        let Some(base) = baseline else { continue };
        let mut r = rng::stream(seed, year as u64, i as u64, Purpose::Population);
        let (cats, mix0) = base_mix(population, model, i);
        let mut mix: Vec<f64> = mix0.iter().map(|m| m * lognormal(&mut r, 0.45)).collect();
        if !cats.is_empty() && rng::uniform(&mut r) < 0.25 {
            let k = (rng::uniform(&mut r) * cats.len() as f64) as usize % cats.len();
            mix[k] = 0.0;
        }
        let total: f64 = mix.iter().sum();
        if total > 0.0 {
            mix.iter_mut().for_each(|m| *m /= total);
        }
        let u = rng::uniform(&mut r);
        let this_year = if u < 0.03 {
            base * (0.35 + 0.45 * rng::uniform(&mut r))
        } else {
            base * (0.035 + 0.17 * rng::normal(&mut r)).exp()
        };
        let aov = 16_500.0 * lognormal(&mut r, 0.35);
        let churn = rng::uniform(&mut r) < 0.01;
        let last_month = if churn { months.min(9) } else { months };
        let shape = season_of(population.segment_name(i));
        let season_total: f64 = shape[..months].iter().sum();
        let mut backlog = 0.0;
        let g = population.segment[i] as usize;
        for (m, season) in shape.iter().enumerate().take(last_month) {
            let shock = common.as_ref().map_or(1.0, |c| c[g * months + m]);
            backlog += this_year * season / season_total * lognormal(&mut r, 0.22) * shock;
            let mut n = ((backlog / aov + rng::uniform(&mut r)) as usize).min(14);
            if m + 1 == last_month {
                n = n.max(1);
            }
            if n == 0 {
                continue;
            }
            let month_start = start
                .checked_add_months(chrono::Months::new(m as u32))
                .expect("programme month");
            let days = (month_start
                .checked_add_months(chrono::Months::new(1))
                .expect("date")
                - month_start)
                .num_days();
            let mut remaining = backlog;
            backlog = 0.0;
            for k in 0..n {
                order += 1;
                let date = month_start
                    + Duration::days((rng::uniform(&mut r) * days as f64) as i64 % days);
                let value = if k + 1 < n {
                    remaining / (n - k) as f64 * (0.7 + 0.6 * rng::uniform(&mut r))
                } else {
                    remaining
                }
                .max(50.0);
                remaining = (remaining - value).max(0.0);
                order_lines(
                    &mut csv, &mut r, id, date, end, order, value, &cats, &mix, unit_price,
                );
            }
        }
    }
    let partners = Partners::from_csv_str(&partners, "world partners")?;
    let transactions = Transactions::from_csv_str(&csv, "world transactions")?;
    let st = settle(programme, &partners, &transactions)?;
    Ok(TruthYear {
        partners,
        transactions,
        payout: st.total.payable,
    })
}

/// The lines of one order (1–4 categories by the mix) and their returns, as CSV rows.
#[allow(clippy::too_many_arguments)]
fn order_lines(
    csv: &mut String,
    r: &mut rng::Stream,
    id: &str,
    date: NaiveDate,
    end: NaiveDate,
    order: u64,
    value: f64,
    cats: &[String],
    mix: &[f64],
    unit_price: f64,
) {
    if cats.is_empty() {
        let qty = (value / unit_price).round().max(1.0);
        let _ = writeln!(csv, "{id},{date},{qty},{:.2},,W{order}", qty * unit_price);
        return;
    }
    let u = rng::uniform(r);
    let lines = if u < 0.5 {
        1
    } else if u < 0.8 {
        2
    } else if u < 0.95 {
        3
    } else {
        4
    };
    let available = mix.iter().filter(|&&m| m > 0.0).count();
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < lines.min(available) {
        let mut x = rng::uniform(r);
        let mut pick = mix.len() - 1;
        for (c, &m) in mix.iter().enumerate() {
            if x < m {
                pick = c;
                break;
            }
            x -= m;
        }
        if mix[pick] > 0.0 && !chosen.contains(&pick) {
            chosen.push(pick);
        }
    }
    let shares: Vec<f64> = chosen
        .iter()
        .map(|&c| mix[c] * (0.6 + 0.8 * rng::uniform(r)))
        .collect();
    let total: f64 = shares.iter().sum();
    for (&c, s) in chosen.iter().zip(&shares) {
        let list = PRICES
            .iter()
            .find(|(n, _)| *n == cats[c])
            .map_or(unit_price, |(_, p)| *p);
        let price = list * (0.9 + 0.2 * rng::uniform(r));
        let qty = (value * s / total / price).round().max(1.0);
        let revenue = (qty * price * 100.0).round() / 100.0;
        let _ = writeln!(csv, "{id},{date},{qty},{revenue:.2},{},W{order}", cats[c]);
        if rng::uniform(r) < 0.025 {
            let back = [0.1, 0.25, 0.5, 1.0][(rng::uniform(r) * 4.0) as usize % 4];
            let bq = (qty * back).round().max(1.0);
            let rdate = date + Duration::days(5 + (rng::uniform(r) * 36.0) as i64);
            if rdate <= end && rdate.year() == date.year() {
                let _ = writeln!(
                    csv,
                    "{id},{rdate},-{bq},-{:.2},{},R{order}",
                    (revenue * bq / qty * 100.0).round() / 100.0,
                    cats[c]
                );
            }
        }
    }
}

/// Coverage of one component's intervals at one month end over the worlds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentCoverage {
    /// Month end (1-based programme month).
    pub month_end: usize,
    /// Component id (`total` for the programme total).
    pub component: String,
    /// Worlds counted (those where the component paid or was forecast to pay anything).
    pub worlds: usize,
    /// Worlds whose settled year lay in the forecast's central 80% interval (P10–P90).
    pub in80: usize,
    /// Worlds whose settled year lay in the central 90% interval (P5–P95).
    pub in90: usize,
    /// Worlds whose settled year lay below the 80% interval (the forecast was too high).
    pub below80: usize,
    /// Worlds whose settled year lay above the 80% interval (the forecast was too low).
    pub above80: usize,
}

impl ComponentCoverage {
    /// Share in the 80% interval.
    pub fn cover80(&self) -> f64 {
        self.in80 as f64 / self.worlds.max(1) as f64
    }
    /// Share in the 90% interval.
    pub fn cover90(&self) -> f64 {
        self.in90 as f64 / self.worlds.max(1) as f64
    }
}

/// The `q` quantile of ascending `v` (linear between order statistics).
fn quantile(v: &[f64], q: f64) -> f64 {
    let h = (v.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (h - lo as f64)
}

/// Forecast `worlds` backlog worlds (seed `seed`) at each of `month_ends` with `scenarios`
/// scenarios and count, per component and for the total, how often the settled year lies in
/// the forecast's 80% and 90% intervals. Rows: month ends outer, components (programme order,
/// then `total`) inner.
pub fn component_coverage(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    worlds: usize,
    month_ends: &[usize],
    scenarios: usize,
    seed: u64,
) -> Result<Vec<ComponentCoverage>> {
    component_coverage_under(
        programme,
        population,
        model,
        &[],
        worlds,
        month_ends,
        scenarios,
        seed,
    )
}

/// [`component_coverage`] with the forecasts run under the parameter draws `draws` (input
/// uncertainty, [`ForecastOptions::parameter_draws`]; none: the model alone). The worlds are
/// the same whatever the draws (drawn from `model`'s economics and the population alone), so
/// the two studies compare the same settled years.
#[allow(clippy::too_many_arguments)]
pub fn component_coverage_under(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    draws: &[Model],
    worlds: usize,
    month_ends: &[usize],
    scenarios: usize,
    seed: u64,
) -> Result<Vec<ComponentCoverage>> {
    component_coverage_with(
        programme, population, model, draws, worlds, month_ends, scenarios, seed, None,
    )
}

/// [`component_coverage_under`] on worlds with common shocks ([`backlog_world_with`]; `None`:
/// the same worlds).
#[allow(clippy::too_many_arguments)]
pub fn component_coverage_with(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    draws: &[Model],
    worlds: usize,
    month_ends: &[usize],
    scenarios: usize,
    seed: u64,
    shocks: Option<&CommonShocks>,
) -> Result<Vec<ComponentCoverage>> {
    if worlds == 0 || month_ends.is_empty() {
        return Err(Error::Request(
            "a coverage study needs at least one world and one month end".into(),
        ));
    }
    let ids: Vec<String> = programme
        .components
        .iter()
        .map(|c| c.id.clone())
        .chain(std::iter::once("total".to_owned()))
        .collect();
    let mut rows: Vec<ComponentCoverage> = month_ends
        .iter()
        .flat_map(|&m| {
            ids.iter().map(move |id| ComponentCoverage {
                month_end: m,
                component: id.clone(),
                worlds: 0,
                in80: 0,
                in90: 0,
                below80: 0,
                above80: 0,
            })
        })
        .collect();
    for w in 0..worlds {
        let truth = backlog_world_with(programme, population, model, seed, w, shocks)?;
        let st = settle(programme, &truth.partners, &truth.transactions)?;
        let lines = st.lines()?;
        let mut realised: Vec<f64> = ids
            .iter()
            .map(|id| {
                lines
                    .iter()
                    .filter(|l| &l.component == id)
                    .map(|l| l.payable)
                    .sum::<Decimal>()
                    .to_f64()
                    .unwrap_or(f64::NAN)
            })
            .collect();
        *realised.last_mut().expect("total") = st.total.payable.to_f64().unwrap_or(f64::NAN);
        for (t, &m) in month_ends.iter().enumerate() {
            let as_of = month_end_date(programme, m);
            let actuals = actuals_to(&truth.transactions, as_of);
            let f = forecast(
                programme,
                population,
                model,
                &actuals,
                as_of,
                &ForecastOptions {
                    scenarios,
                    seed: rng::splitmix64(seed ^ ((w as u64) << 8) ^ m as u64),
                    threads: 1,
                    parameter_draws: draws,
                    ..Default::default()
                },
            )?;
            for (c, row) in rows[t * ids.len()..(t + 1) * ids.len()]
                .iter_mut()
                .enumerate()
            {
                let mut v = if c + 1 == ids.len() {
                    f.total_payout().to_vec()
                } else {
                    f.component_payout(c)
                };
                v.sort_by(f64::total_cmp);
                let x = realised[c];
                if v[v.len() - 1] <= 0.0 && x.abs() < 0.005 {
                    continue;
                }
                row.worlds += 1;
                let tol = 0.005;
                if x < quantile(&v, 0.10) - tol {
                    row.below80 += 1;
                } else if x > quantile(&v, 0.90) + tol {
                    row.above80 += 1;
                } else {
                    row.in80 += 1;
                }
                if x >= quantile(&v, 0.05) - tol && x <= quantile(&v, 0.95) + tol {
                    row.in90 += 1;
                }
            }
        }
    }
    Ok(rows)
}
