//! A forecast's results as one serializable document (for JSON output).

use super::distribution::{distribution, Distribution, Estimates};
use super::{
    CashLine, Forecast, JournalLine, JournalSummary, LedgerLevel, LedgerRow, PeriodAmount, Row,
    WatchEntry,
};
use crate::summary::Estimate;
use chrono::NaiveDate;
use serde::Serialize;

impl Forecast {
    /// Everything as one serializable report (for JSON output).
    pub fn report(&self) -> ForecastReport {
        ForecastReport {
            programme: self.programme.clone(),
            currency: self.currency.clone(),
            as_of: self.as_of,
            seed: self.seed,
            scenarios: self.scenarios,
            confidence: self.confidence,
            months_observed: self.months_observed,
            closed_periods: self.closed_periods,
            partial_month: self.partial_month,
            budget: self.budget,
            total: self.total_distribution(),
            total_before_budget: distribution(&self.payout_before_budget, self.confidence),
            estimates: self.estimates(),
            budget_binding: self.budget_binding(),
            budget_exceedance: self.budget_binding(),
            by_segment: self.by_segment(),
            by_component: self.by_component(),
            by_partner: self.by_partner(),
            opening_date: self.opening_date(),
            reconciliation: self.ledger_rows(LedgerLevel::Component, None),
            journal_summary: self.journal_summary(false, true),
            periods: self.component_periods(),
            journal: self.journal(),
            watch_list: self.watch.clone(),
            cash_schedule: self.cash_schedule(),
        }
    }
}

/// A forecast's results as one serializable document.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastReport {
    /// Programme name.
    pub programme: String,
    /// Currency.
    pub currency: String,
    /// Forecast date.
    pub as_of: NaiveDate,
    /// Seed.
    pub seed: u64,
    /// Scenarios.
    pub scenarios: usize,
    /// Confidence of the constrained estimates.
    pub confidence: f64,
    /// Complete months of actuals.
    pub months_observed: usize,
    /// Periods closed at the forecast date (their amounts are the settled actuals).
    pub closed_periods: usize,
    /// Share of the next month simulated.
    pub partial_month: f64,
    /// Budget.
    pub budget: Option<f64>,
    /// Total payout distribution.
    pub total: Distribution,
    /// Total payout before the budget cut.
    pub total_before_budget: Distribution,
    /// IFRS 15 estimates of the total.
    pub estimates: Estimates,
    /// P(budget binds) = P(total before the budget cut > budget).
    pub budget_binding: Option<Estimate>,
    /// Deprecated: the former name of `budget_binding` (the same value).
    pub budget_exceedance: Option<Estimate>,
    /// Per segment.
    pub by_segment: Vec<Row>,
    /// Per component.
    pub by_component: Vec<Row>,
    /// Per partner.
    pub by_partner: Vec<Row>,
    /// Per component and period: closed periods at their settled amount with what the
    /// year-level rules are expected to move on it, open periods at their expected payout.
    pub periods: Vec<PeriodAmount>,
    /// The roll-forward's opening date (the month end before the forecast date).
    pub opening_date: NaiveDate,
    /// Reconciliation and roll-forward per component and in total (against the prior
    /// accruals).
    pub reconciliation: Vec<LedgerRow>,
    /// The journal's summary entry per component (zero entries included).
    pub journal_summary: Vec<JournalSummary>,
    /// Accrual journal (zero lines included).
    pub journal: Vec<JournalLine>,
    /// Watch list.
    pub watch_list: Vec<WatchEntry>,
    /// Cash schedule.
    pub cash_schedule: Vec<CashLine>,
}
