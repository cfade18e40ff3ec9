//! The journal-ready accrual lines at the forecast date: the required accrual to date (the
//! settled closed periods plus the open periods' estimate on sales to date), less the prior
//! accrual, split into run rate, catch-up and change in estimate; and the summary entry per
//! component (or per segment and component).

use super::ledger::LedgerLevel;
use super::Forecast;
use chrono::NaiveDate;
use rust_decimal::prelude::*;
use serde::Serialize;

/// A journal-ready accrual line for one partner and component at the forecast date.
///
/// `required` = the settled amounts of the closed periods + what the year-level rules are
/// expected to move on them + the open periods' expected amount × their volume to date /
/// their expected volume (the effective-rate method on the
/// open periods); `movement = required − prior` is the entry to book, split into `run_rate`
/// (the month's sales at their rate), `catch_up` (earlier sales of open periods re-rated)
/// and `change_in_estimate` (earlier sales of closed periods trued up to their settlement);
/// definitions in [`rollforward`](super::rollforward). Positive: debit `debit_account`, credit
/// `credit_account`; a negative movement reverses them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalLine {
    /// Posting date (the forecast date).
    pub date: NaiveDate,
    /// Partner id.
    pub partner_id: String,
    /// Partner segment.
    pub segment: String,
    /// Component id.
    pub component: String,
    /// Account debited.
    pub debit_account: String,
    /// Account credited.
    pub credit_account: String,
    /// Description.
    pub description: String,
    /// Basis volume measured to date (the component's basis: revenue, units or orders).
    pub volume_to_date: f64,
    /// Expected basis volume over the whole programme (actual + expected remainder).
    pub expected_final_volume: f64,
    /// Estimated final entitlement (expected value, after caps, minimum and budget).
    pub estimated_final: f64,
    /// Effective rate = estimated final / expected final volume.
    pub effective_rate: f64,
    /// Settled payable of the periods closed at the forecast date (the settlement of the
    /// actuals).
    pub settled_closed: f64,
    /// What the year-level rules are expected to move on the closed periods
    /// ([`super::ClosedAdjustments`] summed).
    pub closed_adjustment: f64,
    /// Expected payout of the open periods.
    pub open_estimate: f64,
    /// Accrual required to date.
    pub required: f64,
    /// Accrued before (input).
    pub prior: f64,
    /// Entry to book: required − prior (signed).
    pub movement: f64,
    /// Of which: effective rate × the current month's volume.
    pub run_rate: f64,
    /// Of which: cumulative catch-up on earlier purchases of open periods.
    pub catch_up: f64,
    /// Of which: earlier purchases of closed periods trued up to their settlement.
    pub change_in_estimate: f64,
    /// Amount debited (= credited): |movement|.
    pub amount: f64,
}

/// The debit and credit accounts of a movement (reversed when it is negative).
fn accounts(negative: bool) -> (&'static str, &'static str) {
    if negative {
        ("Accrued rebates (liability)", "Rebates (contra-revenue)")
    } else {
        ("Rebates (contra-revenue)", "Accrued rebates (liability)")
    }
}

/// The summary journal entry of one component (or one segment and component): the sum of
/// its partners' lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalSummary {
    /// Posting date (the forecast date).
    pub date: NaiveDate,
    /// Component id.
    pub component: String,
    /// Segment (summaries per segment only).
    pub segment: Option<String>,
    /// Account debited.
    pub debit_account: String,
    /// Account credited.
    pub credit_account: String,
    /// Amount debited (= credited): |movement|.
    pub amount: Decimal,
    /// Entry to book: required − prior (signed).
    pub movement: Decimal,
    /// Accrual required to date.
    pub required: Decimal,
    /// Accrued before.
    pub prior: Decimal,
    /// Of which: run rate.
    pub run_rate: Decimal,
    /// Of which: catch-up on earlier sales of open periods.
    pub catch_up: Decimal,
    /// Of which: change in estimate (closed periods trued up to settlement).
    pub change_in_estimate: Decimal,
    /// Partner lines summed.
    pub lines: usize,
    /// Description.
    pub description: String,
}

impl Forecast {
    /// Journal-ready accrual lines at the forecast date, one per partner and component that
    /// applies to it (and every prior accrual), partners and components in id order,
    /// including lines with nothing to book.
    pub fn journal(&self) -> Vec<JournalLine> {
        self.journal_lines(true)
    }

    /// [`Forecast::journal`] without the lines whose movement is zero unless `include_zero`.
    pub fn journal_lines(&self, include_zero: bool) -> Vec<JournalLine> {
        let components = self.components.len();
        let rolls = self.rolls(None);
        let mut partner_order: Vec<usize> = (0..self.partner_ids.len()).collect();
        partner_order.sort_by(|&a, &b| self.partner_ids[a].cmp(&self.partner_ids[b]));
        let mut component_order: Vec<usize> = (0..components).collect();
        component_order.sort_by(|&a, &b| self.components[a].cmp(&self.components[b]));
        let f = |d: Decimal| d.to_f64().unwrap_or(f64::NAN);
        let dp = self.decimals as usize;
        let mut out = Vec::new();
        for &i in &partner_order {
            for &c in &component_order {
                let j = i * components + c;
                let r = &rolls[j];
                if !self.active[j] && r.booked_before.is_zero() {
                    continue;
                }
                if !include_zero && r.movement.is_zero() {
                    continue;
                }
                let est = self.mean_partner_component[j];
                let (vtd, vfin) = (self.volume_to_date[j], self.volume_final[j]);
                let rate = if vfin > 0.0 { est / vfin } else { 0.0 };
                let (debit, credit) =
                    accounts(r.movement.is_sign_negative() && !r.movement.is_zero());
                out.push(JournalLine {
                    date: self.as_of,
                    partner_id: self.partner_ids[i].clone(),
                    segment: self.partner_segments[i].clone(),
                    component: self.components[c].clone(),
                    debit_account: debit.into(),
                    credit_account: credit.into(),
                    description: format!(
                        "{} rebate accrual {} to {}: required {:.dp$} less prior {:.dp$} (run rate {:.dp$}, catch-up {:.dp$}, change in estimate {:.dp$})",
                        self.components[c],
                        self.partner_ids[i],
                        self.as_of,
                        r.required,
                        r.booked_before,
                        r.run_rate,
                        r.catch_up,
                        r.change_in_estimate,
                    ),
                    volume_to_date: vtd,
                    expected_final_volume: vfin,
                    estimated_final: est,
                    effective_rate: rate,
                    settled_closed: f(r.settled_paid + r.settled_payable),
                    closed_adjustment: f(r.closed_adjustment),
                    open_estimate: f(r.open_expected),
                    required: f(r.required),
                    prior: f(r.booked_before),
                    movement: f(r.movement),
                    run_rate: f(r.run_rate),
                    catch_up: f(r.catch_up),
                    change_in_estimate: f(r.change_in_estimate),
                    amount: f(r.movement.abs()),
                });
            }
        }
        out
    }

    /// The summary entry per component (components in id order), or per segment and
    /// component with `by_segment`: sums of the partner lines; entries with a zero movement
    /// left out unless `include_zero`.
    pub fn journal_summary(&self, by_segment: bool, include_zero: bool) -> Vec<JournalSummary> {
        let level = if by_segment {
            LedgerLevel::Segment
        } else {
            LedgerLevel::Component
        };
        let dp = self.decimals as usize;
        let mut rows: Vec<_> = self
            .ledger_rows(level, None)
            .into_iter()
            .filter(|r| r.component != "total" || r.segment.is_some())
            .collect();
        rows.sort_by(|a, b| (&a.segment, &a.component).cmp(&(&b.segment, &b.component)));
        let components = self.components.len();
        rows.into_iter()
            .filter(|r| include_zero || !r.roll.movement.is_zero())
            .map(|r| {
                let c = self.components.iter().position(|x| *x == r.component).unwrap_or(0);
                let lines = (0..self.partner_ids.len())
                    .filter(|&i| {
                        r.segment.as_ref().is_none_or(|s| *s == self.partner_segments[i])
                            && self.active[i * components + c]
                    })
                    .count();
                let m = r.roll.movement;
                let (debit, credit) = accounts(m.is_sign_negative() && !m.is_zero());
                let scope = match &r.segment {
                    Some(s) => format!(" segment {s}"),
                    None => String::new(),
                };
                JournalSummary {
                    date: self.as_of,
                    description: format!(
                        "{} rebate accrual{scope} to {}: required {:.dp$} less prior {:.dp$} (run rate {:.dp$}, catch-up {:.dp$}, change in estimate {:.dp$})",
                        r.component,
                        self.as_of,
                        r.roll.required,
                        r.roll.booked_before,
                        r.roll.run_rate,
                        r.roll.catch_up,
                        r.roll.change_in_estimate,
                    ),
                    component: r.component,
                    segment: r.segment,
                    debit_account: debit.into(),
                    credit_account: credit.into(),
                    amount: m.abs(),
                    movement: m,
                    required: r.roll.required,
                    prior: r.roll.booked_before,
                    run_rate: r.roll.run_rate,
                    catch_up: r.roll.catch_up,
                    change_in_estimate: r.roll.change_in_estimate,
                    lines,
                }
            })
            .collect()
    }
}
