//! Export of one scenario as settlement inputs with the engine's own lines, for the
//! settlement agreement checks.

use super::purchases::QTY_DP;
use super::setup::{Setup, NONE};
use super::work::{LineSink, Work};
use crate::data::{Partners, Transactions};
use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::rng::{self, Purpose};
use crate::rules::allocate_into;
use rust_decimal::prelude::*;

// ---------------------------------------------------------------------------------------
// Export of one scenario, for settlement agreement.

/// One settlement line as the engine computed it (f64).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimLine {
    /// Partner id.
    pub partner_id: String,
    /// Component id.
    pub component: String,
    /// 1-based period (as in settlement lines).
    pub period: u32,
    /// The period's payable amount (after the budget): cumulative to date less the previous.
    pub payable: f64,
}

/// One simulated scenario as settlement inputs, with the engine's own lines.
#[derive(Debug, Clone)]
pub struct ScenarioExport {
    /// The partner table (ids, segments, the baselines the engine used).
    pub partners: Partners,
    /// The simulated purchases (with the programme's behavioural response) as transactions.
    pub transactions: Transactions,
    /// The engine's lines for every partner, active component and period, partners in id order.
    pub lines: Vec<SimLine>,
}

fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default()
}

/// Export scenario `scenario` of a run with `seed` as partner and transaction tables (so that
/// it can be settled with [`crate::settlement::settle`]) together with the engine's own
/// per-line amounts, the budget allocated to the cent as settlement does.
pub fn export_scenario(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    seed: u64,
    scenario: u64,
) -> Result<ScenarioExport> {
    let setup = Setup::new(programme, population, model)?;
    let n = population.len();
    let (component_count, period_count) = (setup.component_count, setup.period_count);
    let mut w = Work::new(&setup);
    setup.market_path(seed, scenario, &mut w.market);
    let mut segf = std::mem::take(&mut w.segf);
    setup.segment_factors(seed, scenario, &mut segf);
    w.segf = segf;
    let mut partners = Partners::default();
    partners.table = population.table.clone();
    let mut tx = Transactions {
        table: format!("scenario {scenario}"),
        ..Default::default()
    };
    tx.category_keys = setup.cats.clone();
    if !setup.cats.is_empty() {
        tx.category = Some(Vec::new());
    }
    if setup.needs_orders || setup.order_cats.is_some() {
        tx.order = Some(Vec::new());
    }
    let month_date: Vec<chrono::NaiveDate> = (0..setup.months)
        .map(|m| {
            programme
                .calendar
                .start
                .checked_add_months(chrono::Months::new(m as u32))
                .expect("validated dates")
        })
        .collect();
    let mut payable = vec![0.0; n * component_count * period_count];
    let mut sink: LineSink = Vec::new();
    for i in 0..n {
        let pc = &setup.partners[i];
        let at = partners
            .push(
                &population.partner_id[i],
                population.segment_name(i),
                pc.baseline.revenue.map(dec),
                pc.baseline.units.map(dec),
            )
            .map_err(|m| Error::data(&population.table, Some(i + 1), Some("partner_id"), m))?;
        partners.set_months(
            at,
            pc.baseline.revenue_months.as_ref().map(|m| m.map(dec)),
            pc.baseline.units_months.as_ref().map(|m| m.map(dec)),
        );
        setup.demand(rng::scenario_key(seed, scenario), i, &mut w);
        for m in 0..setup.months {
            w.g[m] = w.base[m] * pc.uplift;
        }
        sink.clear();
        if setup.behaviour && setup.stretch.enabled {
            let mut r = rng::stream(seed, scenario, i as u64, Purpose::Stretch);
            setup.run_partner(i, &mut w, Some(&mut r), Some(&mut sink));
        } else {
            setup.run_partner(i, &mut w, None, Some(&mut sink));
        }
        payable[i * component_count * period_count..(i + 1) * component_count * period_count]
            .copy_from_slice(&w.scratch.payable);
        push_transactions(
            &mut tx,
            &sink,
            &month_date,
            &population.partner_id[i],
            &setup,
            programme.decimals,
        );
    }
    number_orders(&mut tx);
    let lines = budgeted_lines(&setup, population, &payable);
    Ok(ScenarioExport {
        partners,
        transactions: tx,
        lines,
    })
}

/// Append the exported lines `sink` of one partner to the transactions (a new partner key
/// when it has any line; order keys named partner-month-order, numbered by [`number_orders`]).
fn push_transactions(
    tx: &mut Transactions,
    sink: &LineSink,
    month_date: &[chrono::NaiveDate],
    partner_id: &str,
    setup: &Setup,
    decimals: u32,
) {
    let key = tx.partner_keys.len() as u32;
    if !sink.is_empty() {
        tx.partner_keys.push(partner_id.to_owned());
    }
    for l in sink {
        tx.partner_key.push(key);
        tx.date.push(month_date[l.month as usize]);
        tx.quantity.push(Decimal::new(l.q as i64, QTY_DP));
        tx.revenue
            .push(Decimal::new((l.r * setup.scale).round() as i64, decimals));
        if let Some(c) = tx.category.as_mut() {
            c.push(if l.cat == NONE { None } else { Some(l.cat) });
        }
        if let Some(o) = tx.order.as_mut() {
            if l.order == NONE {
                o.push(None);
            } else {
                o.push(Some(tx.order_keys.len() as u32));
                tx.order_keys
                    .push(&format!("{}-{}-{}", partner_id, l.month, l.order));
            }
        }
    }
}

/// Order ids: one key per (partner, month, order); lines of the same order share it.
fn number_orders(tx: &mut Transactions) {
    if let Some(o) = tx.order.as_mut() {
        let mut map = std::collections::HashMap::new();
        let mut keys = crate::data::Keys::new();
        for v in o.iter_mut() {
            if let Some(k) = v {
                let name = tx.order_keys[*k as usize].to_owned();
                let next = keys.len() as u32;
                let id = *map.entry(name).or_insert_with_key(|name| {
                    keys.push(name);
                    next
                });
                *v = Some(id);
            }
        }
        tx.order_keys = keys;
    }
}

/// The engine's lines of every partner (in id order), active component and period: each
/// period's payable to date after the budget (allocated to the cent as settlement does when it
/// binds), less the previous period's. `payable` is `partners × components × periods`.
fn budgeted_lines(setup: &Setup, population: &Population, payable: &[f64]) -> Vec<SimLine> {
    let n = population.len();
    let (component_count, period_count) = (setup.component_count, setup.period_count);
    // budget to the cent, partners in id order, components in id order
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| population.partner_id[a].cmp(&population.partner_id[b]));
    let mut budgeted = payable.to_vec();
    let mut weights = vec![0.0; n * component_count];
    let mut shares = vec![0.0; n * component_count];
    let mut sort = Vec::new();
    for k in 0..period_count {
        let mut total = 0.0;
        for (j, &i) in order.iter().enumerate() {
            for c in 0..component_count {
                let v = payable[(i * component_count + c) * period_count + k];
                weights[j * component_count + c] = v;
                total += v;
            }
        }
        if setup.prep.budget_binds(total) {
            allocate_into(
                setup.prep.budget.expect("binding budget"),
                &weights,
                setup.prep.decimals,
                &mut shares,
                &mut sort,
            );
            for (j, &i) in order.iter().enumerate() {
                for c in 0..component_count {
                    budgeted[(i * component_count + c) * period_count + k] =
                        shares[j * component_count + c];
                }
            }
        }
    }
    let mut lines = Vec::new();
    for &i in &order {
        for c in 0..component_count {
            if !setup.active[i * component_count + c] {
                continue;
            }
            let mut prev = 0.0;
            for k in 0..period_count {
                let b = budgeted[(i * component_count + c) * period_count + k];
                lines.push(SimLine {
                    partner_id: population.partner_id[i].clone(),
                    component: setup.prep.components[c].id.clone(),
                    period: k as u32 + 1,
                    payable: setup.prep.round(b - prev),
                });
                prev = b;
            }
        }
    }
    lines
}
