//! The watch list: per partner and ladder, the tier reached on the actuals to date, the
//! chance of reaching each higher tier by the end, the shortfall to the next tier and what
//! reaching it would pay.

use super::scenarios::Accumulated;
use super::Forecast;
use crate::engine::conditioned::CondEngine;
use crate::population::Population;
use crate::programme::{Compiled, Measure};
use crate::rules::Span;
use crate::summary::Estimate;
use rayon::prelude::*;
use serde::Serialize;

/// A partner's standing on a ladder (volume or growth component) and its chances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchEntry {
    /// Partner id.
    pub partner_id: String,
    /// Segment.
    pub segment: String,
    /// Component id.
    pub component: String,
    /// `period` (tiers of the open period) or `cumulative` (tiers at the programme end).
    pub measure: String,
    /// Label of the period the tiers refer to (`measure = period`) or of the programme end.
    pub period_label: String,
    /// Tier reached on the actuals to date (0 = none).
    pub current_tier: u32,
    /// Basis volume to date in that window.
    pub volume: f64,
    /// Number of tiers of the ladder.
    pub tiers: u32,
    /// Next tier, if any.
    pub next_tier: Option<u32>,
    /// Volume needed for the next tier.
    pub next_threshold: Option<f64>,
    /// Volume still missing.
    pub shortfall: Option<f64>,
    /// What reaching the next tier would pay in addition (before caps), rounded.
    pub next_tier_pays: Option<f64>,
    /// P(tier ≥ t) for t = 1..=tiers at the end of the window (forecast).
    pub reach_probability: Vec<f64>,
    /// Probability of reaching at least the next tier, with its standard error.
    pub next_tier_probability: Option<Estimate>,
    /// Treated as churned.
    pub churned: bool,
}

impl Forecast {
    /// The watch list: per partner and ladder, current tier, chances of each higher tier,
    /// shortfall to the next and what it would pay. Partners in table order.
    pub fn watch_list(&self) -> &[WatchEntry] {
        &self.watch
    }
}

/// The watch list of a forecast: one entry per partner (table order) and ladder that applies
/// to it, the tier now measured on the actuals over the ladder's window (`measure = period`:
/// the watch period; `cumulative`: the whole programme), the chances of each higher tier
/// counted over the scenarios in `accumulated`.
pub(super) fn watch_list(
    programme: &Compiled,
    population: &Population,
    engine: &CondEngine,
    accumulated: &Accumulated,
) -> Vec<WatchEntry> {
    let calendar = &programme.calendar;
    let prep = engine.prep();
    let components = prep.components.len();
    let periods = prep.periods;
    let measure_len = prep.measure_len();
    let scenarios = accumulated.scenarios() as f64;
    let active = engine.active();
    let watch_period = engine.watch_period();
    // per ladder, once: its measure's name and the label of the tiers' period
    let labels: Vec<(&'static str, String)> = engine
        .ladders()
        .iter()
        .map(|&(c, _)| match prep.components[c].measure {
            Measure::Period => ("period", calendar.label(watch_period as u32)),
            Measure::Cumulative => ("cumulative", format!("to {}", calendar.end())),
        })
        .collect();
    // partners on the pool, their entries in partner order (rayon's collect keeps it)
    let entries_of = |i: usize| {
        let mut watch = Vec::new();
        let baseline = engine.baseline_of(i);
        for (l, &(c, ref ladder)) in engine.ladders().iter().enumerate() {
            if !active[i * components + c] {
                continue;
            }
            let comp = &prep.components[c];
            let (from, to) = match comp.measure {
                Measure::Period => (watch_period, watch_period),
                Measure::Cumulative => (0, periods - 1),
            };
            let mut window = vec![0.0; comp.slots];
            for k in from..=to.min(periods - 1) {
                for (s, x) in window.iter_mut().enumerate() {
                    *x += engine.actual_measure(i * measure_len + comp.offset + k * comp.slots + s);
                }
            }
            let span = match comp.measure {
                Measure::Period => Span::period(watch_period as u32),
                Measure::Cumulative => Span::to_date(periods as u32 - 1),
            };
            let now = prep.evaluate(c, &window, span, baseline);
            if !now.applicable {
                continue;
            }
            let next = prep.next_tier(c, &window, span, baseline);
            let probs: Vec<f64> = (0..ladder.tiers)
                .map(|t| accumulated.tier_reached(i, ladder, t) as f64 / scenarios)
                .collect();
            let next_probability = next.map(|(t, ..)| {
                let p = probs[(t as usize - 1).min(ladder.tiers - 1)];
                Estimate {
                    value: p,
                    se: (p * (1.0 - p) / scenarios).sqrt(),
                }
            });
            watch.push(WatchEntry {
                partner_id: population.partner_id[i].clone(),
                segment: population.segment_name(i).to_owned(),
                component: comp.id.clone(),
                measure: labels[l].0.to_owned(),
                period_label: labels[l].1.clone(),
                current_tier: now.tier,
                volume: now.volume,
                tiers: ladder.tiers as u32,
                next_tier: next.map(|x| x.0),
                next_threshold: next.map(|x| x.1),
                shortfall: next.map(|x| x.2),
                next_tier_pays: next.map(|x| prep.round(x.3)),
                reach_probability: probs,
                next_tier_probability: next_probability,
                churned: engine.churned(i),
            });
        }
        watch
    };
    (0..population.len())
        .into_par_iter()
        .with_min_len(256)
        .flat_map_iter(entries_of)
        .collect()
}
