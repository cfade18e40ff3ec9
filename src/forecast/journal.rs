//! The journal-ready accrual lines at the forecast date: the required accrual to date by the
//! effective-rate method, less the prior accrual, split into run rate and catch-up.

use super::Forecast;
use rust_decimal::prelude::ToPrimitive;
use chrono::NaiveDate;
use serde::Serialize;

/// A journal-ready accrual line for one partner and component at the forecast date.
///
/// `required = settled_closed + closed_adjustment + open_estimate × open volume to date /
/// expected open volume`: the periods closed at the forecast date at their settled amount
/// (the settlement of the actuals) plus what the year-level rules are still expected to move
/// on them, and the open periods by the effective-rate method. `movement = required − prior`
/// is the entry to book, split into `run_rate` (the current month's share: the effective open
/// rate on its volume, or its volume's share of the settled period when the month closed a
/// period) and `catch_up` (the cumulative catch-up on earlier purchases when the estimate
/// moved). Positive: debit `debit_account`, credit
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
    /// Of which: cumulative catch-up on earlier purchases.
    pub catch_up: f64,
    /// Amount debited (= credited): |movement|.
    pub amount: f64,
}

impl Forecast {
    fn round(&self, v: f64) -> f64 {
        self.rounding.round_f64(v, self.decimals)
    }

    /// Journal-ready accrual lines at the forecast date, one per partner and component that
    /// applies to it (and every prior accrual), partners and components in id order.
    pub fn journal(&self) -> Vec<JournalLine> {
        let components = self.components.len();
        let periods = self.period_labels.len();
        let closed = self.closed_periods;
        // the month of the forecast date closes a period: its run rate is a share of that
        // period's settled amount
        let month_period = if closed > 0 && self.as_of == self.period_ends[closed - 1] {
            Some(closed - 1)
        } else {
            None
        };
        let mut out = Vec::new();
        for i in self.partner_order() {
            for c in self.component_order() {
                let j = i * components + c;
                if !self.active[j] && self.prior[j] == 0.0 {
                    continue;
                }
                let est = self.mean_partner_component[j];
                let (vtd, vfin, vmon) = (
                    self.volume_to_date[j],
                    self.volume_final[j],
                    self.volume_month[j],
                );
                let base = j * periods;
                let closed_volume: f64 = self.period_volume[base..base + closed].iter().sum();
                let settled_closed = self.settled_closed(i, c);
                let closed_adjustment = self.closed_adjustments(i, c).total();
                let open = self.open_total(i, c);
                let (open_to_date, open_final) = (vtd - closed_volume, vfin - closed_volume);
                let (open_share, open_rate) = if open_final > 0.0 {
                    ((open_to_date / open_final).clamp(0.0, 1.0), open / open_final)
                } else if closed < periods {
                    (self.elapsed_share, 0.0)
                } else {
                    (0.0, 0.0)
                };
                let rate = if vfin > 0.0 { est / vfin } else { 0.0 };
                let required =
                    self.round(settled_closed + closed_adjustment + open * open_share);
                let prior = self.prior[j];
                let movement = self.round(required - prior);
                let run_rate = match month_period {
                    Some(k) => {
                        let v = self.period_volume[base + k];
                        let s = self.settled(i, c, k).to_f64().unwrap_or(0.0);
                        if v > 0.0 {
                            self.round(s * vmon / v)
                        } else {
                            0.0
                        }
                    }
                    None => self.round(open_rate * vmon),
                };
                let catch_up = self.round(movement - run_rate);
                let (debit, credit) = if movement >= 0.0 {
                    ("Rebates (contra-revenue)", "Accrued rebates (liability)")
                } else {
                    ("Accrued rebates (liability)", "Rebates (contra-revenue)")
                };
                out.push(JournalLine {
                    date: self.as_of,
                    partner_id: self.partner_ids[i].clone(),
                    segment: self.partner_segments[i].clone(),
                    component: self.components[c].clone(),
                    debit_account: debit.into(),
                    credit_account: credit.into(),
                    description: format!(
                        "{} rebate accrual {} to {}: required {:.*} less prior {:.*} (run rate {:.*}, catch-up {:.*})",
                        self.components[c],
                        self.partner_ids[i],
                        self.as_of,
                        self.decimals as usize,
                        required,
                        self.decimals as usize,
                        prior,
                        self.decimals as usize,
                        run_rate,
                        self.decimals as usize,
                        catch_up
                    ),
                    volume_to_date: vtd,
                    expected_final_volume: vfin,
                    estimated_final: est,
                    effective_rate: rate,
                    settled_closed,
                    closed_adjustment,
                    open_estimate: open,
                    required,
                    prior,
                    movement,
                    run_rate,
                    catch_up,
                    amount: movement.abs(),
                });
            }
        }
        out
    }
}
