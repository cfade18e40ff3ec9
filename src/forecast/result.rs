//! The result of a forecast: the per-scenario payouts it keeps and the views on them (totals,
//! the IFRS 15 estimates, budget exceedance, breakdowns per partner, segment and component).

use super::actuals::MonthsObserved;
use super::closed::SettledClosed;
use super::distribution::{distribution, method_text, Distribution, Estimates};
use super::options::ForecastOptions;
use super::scenarios::Accumulated;
use super::WatchEntry;
use crate::engine::conditioned::CondEngine;
use crate::population::Population;
use crate::programme::Compiled;
use crate::summary::{self, Estimate, Summary};
use chrono::NaiveDate;
use serde::Serialize;

/// One row of a breakdown (partner, segment or component).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Partner id, segment name or component id.
    pub key: String,
    /// The partner's segment (partner rows only).
    pub segment: Option<String>,
    /// Final payout distribution (after the budget).
    #[serde(flatten)]
    pub payout: Distribution,
    /// Partner rows: treated as churned (no purchases since some month before the date).
    pub churned: Option<bool>,
    /// Partner rows: months of actuals its own factor was updated from.
    pub months_observed: Option<u32>,
}

/// The result of [`forecast`](super::forecast()).
#[derive(Debug, Clone)]
pub struct Forecast {
    /// Programme name.
    pub programme: String,
    /// Currency code.
    pub currency: String,
    /// Decimal places of the currency.
    pub decimals: u32,
    /// Forecast date.
    pub as_of: NaiveDate,
    /// Seed.
    pub seed: u64,
    /// Number of scenarios.
    pub scenarios: usize,
    /// Parameter draws the scenarios ran under (0: the model alone; see
    /// [`super::ForecastOptions::parameter_draws`]).
    pub parameter_draws: usize,
    /// Confidence of the constrained estimates.
    pub confidence: f64,
    /// Complete programme months of actuals.
    pub months_observed: usize,
    /// Share of the month after them still simulated (1 when the date is a month end).
    pub partial_month: f64,
    /// Programme budget.
    pub budget: Option<f64>,
    /// Partner ids.
    pub partner_ids: Vec<String>,
    /// Segment of each partner.
    pub partner_segments: Vec<String>,
    /// Segment names.
    pub segments: Vec<String>,
    /// Component ids.
    pub components: Vec<String>,
    /// Total payout after the budget, per scenario.
    pub(super) payout: Vec<f64>,
    /// Total payout before the budget cut, per scenario.
    pub(super) payout_before_budget: Vec<f64>,
    /// `scenarios × partners`: payout after the budget.
    pub(super) partner_payout: Vec<f64>,
    /// `scenarios × components`: payout after the budget.
    pub(super) component_payout: Vec<f64>,
    /// `scenarios × segments`: payout after the budget.
    pub(super) segment_payout: Vec<f64>,
    /// `scenarios × periods`: cash paid for each period.
    pub(super) cash: Vec<f64>,
    /// Label of each period.
    pub(super) period_labels: Vec<String>,
    /// Last day of each period.
    pub(super) period_ends: Vec<NaiveDate>,
    /// Payment date of each period.
    pub(super) payment_dates: Vec<NaiveDate>,
    /// `partners × components`: mean final payout after the budget.
    pub(super) mean_partner_component: Vec<f64>,
    /// `partners × components`: whether the component applies to the partner.
    pub(super) active: Vec<bool>,
    /// `partners × components`: basis volume of the actuals to date.
    pub(super) volume_to_date: Vec<f64>,
    /// `partners × components`: basis volume of the forecast date's month.
    pub(super) volume_month: Vec<f64>,
    /// `partners × components`: mean basis volume over the whole programme.
    pub(super) volume_final: Vec<f64>,
    /// The settled closed periods and the accruals booked before (the close's books).
    pub(super) books: super::ledger::Books,
    /// Per partner: treated as churned.
    pub(super) churned: Vec<bool>,
    /// Per partner: months of actuals its own factor was updated from.
    pub(super) observations: Vec<u32>,
    /// Share of the programme's days up to the forecast date (the journal's share for a
    /// partner and component without expected volume).
    #[allow(dead_code)]
    // no longer read: a component with no expected volume accrues nothing on open periods
    pub(super) elapsed_share: f64,
    /// The programme's rounding rule (journal amounts).
    pub(super) rounding: crate::money::Rounding,
    /// The watch list.
    pub(super) watch: Vec<WatchEntry>,
    /// Periods closed at the forecast date.
    pub(super) closed_periods: usize,
    /// `partners × components × periods`: settled payable of the closed periods (exact).
    pub(super) settled_payable: Vec<rust_decimal::Decimal>,
    /// `partners × components × periods`: the settled budget cut in it.
    pub(super) settled_budget_cut: Vec<rust_decimal::Decimal>,
    /// `partners × components × periods`: basis volume of the actuals per period.
    pub(super) period_volume: Vec<f64>,
    /// `partners × components × RULES`: mean amount each rule moves on the closed periods
    /// (the budget cut before subtracting the settled cut).
    pub(super) closed_adj: Vec<f64>,
    /// `partners × components × periods`: mean payout of the open periods.
    pub(super) open_mean: Vec<f64>,
    /// `scenarios × components`: the closed periods' final payout.
    pub(super) component_closed: Vec<f64>,
}

impl Forecast {
    /// Final programme payout (after caps, minimum, budget) per scenario: actual periods plus
    /// the simulated rest of the programme, in scenario order.
    pub fn total_payout(&self) -> &[f64] {
        &self.payout
    }

    /// Final programme payout before the budget cut, per scenario.
    pub fn total_payout_before_budget(&self) -> &[f64] {
        &self.payout_before_budget
    }

    /// Summary of the total payout (mean, P5..P99 with SEs; `p_exceed` = P(budget binds)).
    pub fn total_summary(&self) -> Summary {
        let mut s = summary::summarize(&self.payout, None);
        s.p_exceed = self.budget_binding();
        s
    }

    /// The total payout's distribution with the IFRS 15 estimates.
    pub fn total_distribution(&self) -> Distribution {
        distribution(&self.payout, self.confidence)
    }

    /// Expected value of the total payout (IFRS 15.53(a)).
    pub fn expected_value(&self) -> Estimate {
        summary::mean(&self.payout)
    }

    /// The three IFRS 15 estimates of the total, with the method in words.
    pub fn estimates(&self) -> Estimates {
        let d = self.total_distribution();
        Estimates {
            expected_value: d.mean,
            most_likely: d.most_likely,
            constrained: d.constrained,
            confidence: self.confidence,
            method: method_text(self.confidence, self.scenarios),
        }
    }

    /// P(budget binds): the probability that the programme total before the budget cut
    /// exceeds the budget, with its standard error (`None` without a budget). The same name
    /// and event as the simulation's `budget_binding` (`docs/close.md`, vocabulary).
    pub fn budget_binding(&self) -> Option<Estimate> {
        let b = self.budget?;
        Some(summary::probability(
            self.payout_before_budget
                .iter()
                .map(|&x| x > b + 1e-9 * b.abs().max(1.0)),
        ))
    }

    /// Final payout per scenario of partner `i` (after the budget).
    pub fn partner_payout(&self, i: usize) -> Vec<f64> {
        let partners = self.partner_ids.len();
        (0..self.scenarios)
            .map(|s| self.partner_payout[s * partners + i])
            .collect()
    }

    /// Final payout per scenario of component `c`.
    pub fn component_payout(&self, c: usize) -> Vec<f64> {
        let components = self.components.len();
        (0..self.scenarios)
            .map(|s| self.component_payout[s * components + c])
            .collect()
    }

    /// Final payout per scenario of segment `g`.
    pub fn segment_payout(&self, g: usize) -> Vec<f64> {
        let segments = self.segments.len();
        (0..self.scenarios)
            .map(|s| self.segment_payout[s * segments + g])
            .collect()
    }

    /// Deprecated alias of [`Forecast::budget_binding`] (the former name).
    pub fn budget_exceedance(&self) -> Option<Estimate> {
        self.budget_binding()
    }

    /// Per partner (in table order): final payout distribution and estimates.
    pub fn by_partner(&self) -> Vec<Row> {
        (0..self.partner_ids.len())
            .map(|i| Row {
                key: self.partner_ids[i].clone(),
                segment: Some(self.partner_segments[i].clone()),
                payout: distribution(&self.partner_payout(i), self.confidence),
                churned: Some(self.churned[i]),
                months_observed: Some(self.observations[i]),
            })
            .collect()
    }

    /// Per segment.
    pub fn by_segment(&self) -> Vec<Row> {
        self.breakdown(&self.segments, |g| self.segment_payout(g))
    }

    /// Per component.
    pub fn by_component(&self) -> Vec<Row> {
        self.breakdown(&self.components, |c| self.component_payout(c))
    }

    /// One row per key (segment or component) with the distribution of `payout_of(j)`.
    fn breakdown(&self, keys: &[String], payout_of: impl Fn(usize) -> Vec<f64>) -> Vec<Row> {
        keys.iter()
            .enumerate()
            .map(|(j, key)| Row {
                key: key.clone(),
                segment: None,
                payout: distribution(&payout_of(j), self.confidence),
                churned: None,
                months_observed: None,
            })
            .collect()
    }

    /// Expected final payout (after the budget) of partner `i` and component `c`.
    pub fn expected_partner_component(&self, i: usize, c: usize) -> f64 {
        self.mean_partner_component[i * self.components.len() + c]
    }
}

/// Everything a forecast's result is assembled from.
pub(super) struct Parts<'a> {
    pub programme: &'a Compiled,
    pub population: &'a Population,
    pub engine: &'a CondEngine<'a>,
    pub parameter_draws: usize,
    pub as_of: NaiveDate,
    pub opts: &'a ForecastOptions<'a>,
    pub months: MonthsObserved,
    pub volume_to_date: Vec<f64>,
    pub volume_month: Vec<f64>,
    pub books: super::ledger::Books,
    pub settled: SettledClosed,
    pub accumulated: Accumulated,
    pub watch: Vec<WatchEntry>,
}

impl Forecast {
    /// The result of a forecast from its parts.
    pub(super) fn new(parts: Parts) -> Forecast {
        let Parts {
            programme,
            population,
            engine,
            parameter_draws,
            as_of,
            opts,
            months,
            volume_to_date,
            volume_month,
            books,
            settled,
            accumulated,
            watch,
        } = parts;
        let calendar = &programme.calendar;
        let prep = engine.prep();
        let periods = prep.periods as u32;
        let programme_months = calendar.months() as usize;
        let (start, end) = (calendar.start, calendar.end());
        let total_days = (end - start).num_days() as f64 + 1.0;
        let elapsed_share = ((as_of - start).num_days() as f64 + 1.0) / total_days;
        let partners = population.len();
        Forecast {
            programme: programme.name.clone(),
            currency: programme.currency.clone(),
            decimals: programme.decimals,
            as_of,
            seed: opts.seed,
            scenarios: opts.scenarios,
            parameter_draws,
            confidence: opts.confidence,
            months_observed: months.complete.min(programme_months),
            partial_month: if months.complete >= programme_months {
                0.0
            } else {
                months.partial
            },
            budget: prep.budget,
            partner_ids: population.partner_id.clone(),
            partner_segments: (0..partners)
                .map(|i| population.segment_name(i).to_owned())
                .collect(),
            segments: population.segments.clone(),
            components: prep.components.iter().map(|c| c.id.clone()).collect(),
            mean_partner_component: accumulated.mean_payout(),
            closed_adj: accumulated.mean_closed_adjustments(),
            open_mean: accumulated.mean_open(),
            closed_periods: settled.closed,
            settled_payable: settled.payable,
            settled_budget_cut: settled.budget_cut,
            period_volume: settled.volume,
            volume_final: accumulated.mean_volume(),
            payout: accumulated.payout,
            payout_before_budget: accumulated.payout_before_budget,
            partner_payout: accumulated.partner_payout,
            component_payout: accumulated.component_payout,
            segment_payout: accumulated.segment_payout,
            cash: accumulated.cash,
            component_closed: accumulated.component_closed,
            period_labels: (0..periods).map(|k| calendar.label(k)).collect(),
            period_ends: (0..periods).map(|k| calendar.period_end(k)).collect(),
            payment_dates: (0..periods).map(|k| programme.payment_date(k)).collect(),
            active: engine.active().to_vec(),
            volume_to_date,
            volume_month,
            books,
            churned: (0..partners).map(|i| engine.churned(i)).collect(),
            observations: (0..partners).map(|i| engine.observations(i)).collect(),
            elapsed_share,
            rounding: programme.rounding,
            watch,
        }
    }
}
