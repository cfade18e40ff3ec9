//! The balance-sheet arithmetic of a month-end close, in exact decimals: from what one
//! partner and component has settled, paid and is expected to earn, the liability required
//! at the forecast date, the movement against what was booked before (split into run rate,
//! catch-up on earlier sales and change in estimate) and the liability roll-forward
//! (opening + movement − paid = closing).
//!
//! Definitions (`docs/close.md`). The *month* runs from the day after the opening date (the
//! previous month end) to the forecast date. Sales to date are split by the period they
//! fall in: *closed* periods (ended on or before the forecast date; their amount is the
//! settlement of the actuals) and *open* periods (their amount is the forecast's expected
//! value, recognised on sales to date at the open periods' effective rate).
//!
//! - `required` (cumulative rebate expense to date) = settled (closed periods) + the closed
//!   adjustment (what the programme-level rules are still expected to move on them) + open
//!   accrued, with `open accrued = open expected × open volume to date / expected open volume`;
//! - `movement` = required − booked before;
//! - `run_rate` = the month's sales at their rate (the settled rate of their period when it
//!   closed with the month, the open rate otherwise);
//! - `catch_up` = earlier sales of open periods re-rated at the current open rate, less the
//!   share of the booked amount on them (a threshold crossed, or expected, moves it);
//! - `change_in_estimate` = the rest: earlier sales of closed periods trued up from what was
//!   booked on them to their settlement and its expected adjustment (booked amounts are split
//!   between closed and open earlier sales by volume);
//! - liability: opening = booked before − paid up to the opening date; paid in the month =
//!   settlements paid after the opening date up to the forecast date; closing = settled
//!   payable + closed adjustment + open accrued, and opening + movement − paid = closing to
//!   the cent.
//!
//! Every amount is rounded to the currency's minor unit with the programme's rounding rule;
//! `change_in_estimate` is the exact remainder, so the split adds up to the movement.

use crate::money::Rounding;
use rust_decimal::Decimal;
use serde::Serialize;

/// What one partner and component stands at on the forecast date (inputs, exact).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    /// Settled amounts of closed periods paid on or before the opening date.
    pub paid_before: Decimal,
    /// Settled amounts of closed periods paid on or before the forecast date (including
    /// `paid_before`).
    pub paid_to_date: Decimal,
    /// Settled amounts of closed periods not yet paid at the forecast date.
    pub payable: Decimal,
    /// What the programme-level rules (cumulative true-ups, exclusive groups over the year,
    /// partner cap, minimum payout, budget cut) are still expected to move on the closed
    /// periods' settled amounts.
    pub closed_adjustment: Decimal,
    /// Basis volume of closed periods sold before the month.
    pub closed_volume_before: Decimal,
    /// Basis volume of closed periods sold in the month.
    pub closed_volume_month: Decimal,
    /// Settled amount of the closed period the month belongs to (0 if its period is open).
    pub month_period_settled: Decimal,
    /// Basis volume of that period.
    pub month_period_volume: Decimal,
    /// Expected amount of the open periods (expected final − settled − closed adjustment).
    pub open_expected: Decimal,
    /// Basis volume of open periods sold before the month.
    pub open_volume_before: Decimal,
    /// Basis volume of open periods sold in the month.
    pub open_volume_month: Decimal,
    /// Expected basis volume of the open periods over the programme (actual + simulated).
    pub open_volume_final: Decimal,
    /// Cumulative amount booked before (prior accruals through the opening date).
    pub booked_before: Decimal,
}

/// The reconciliation and roll-forward of one partner and component (or a sum of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Roll {
    /// Settled and paid up to the forecast date.
    pub settled_paid: Decimal,
    /// Settled and payable (closed periods, due after the forecast date).
    pub settled_payable: Decimal,
    /// Expected change of the closed periods by the programme-level rules (not yet settled).
    pub closed_adjustment: Decimal,
    /// Expected value of the open periods.
    pub open_expected: Decimal,
    /// Open periods' amount recognised on sales to date.
    pub open_accrued: Decimal,
    /// Cumulative expense required to date: settled + closed adjustment + open accrued.
    pub required: Decimal,
    /// Liability required at the forecast date: settled payable + closed adjustment + open
    /// accrued.
    pub required_liability: Decimal,
    /// Booked before (cumulative, through the opening date).
    pub booked_before: Decimal,
    /// required − booked before: the entry to book.
    pub movement: Decimal,
    /// Of which: the month's sales at their rate.
    pub run_rate: Decimal,
    /// Of which: earlier sales of open periods re-rated at the current rate.
    pub catch_up: Decimal,
    /// Of which: earlier sales of closed periods trued up to their settlement.
    pub change_in_estimate: Decimal,
    /// Liability at the opening date: booked before − paid up to then.
    pub opening_liability: Decimal,
    /// Paid in the month (after the opening date, up to the forecast date).
    pub paid_in_month: Decimal,
    /// Liability at the forecast date: opening + movement − paid in the month.
    pub closing_liability: Decimal,
}

/// `a × b / c`, or 0 when `c` is not positive (no expected volume: nothing to spread over).
fn share(a: Decimal, b: Decimal, c: Decimal) -> Decimal {
    if c > Decimal::ZERO {
        a.checked_mul(b)
            .and_then(|x| x.checked_div(c))
            .unwrap_or_else(|| a * (b / c))
    } else {
        Decimal::ZERO
    }
}

/// The reconciliation and roll-forward of one position, rounded to `decimals` with `rounding`.
pub fn roll(p: &Position, rounding: Rounding, decimals: u32) -> Roll {
    let round = |v: Decimal| rounding.round(v, decimals);
    let closed_adjustment = round(p.closed_adjustment);
    let settled = p.paid_to_date + p.payable;
    let open_to_date = p.open_volume_before + p.open_volume_month;
    let open_accrued = round(share(p.open_expected, open_to_date, p.open_volume_final));
    let required = settled + closed_adjustment + open_accrued;
    let movement = required - p.booked_before;
    // the month's sales: closed ones at their period's settled rate, open ones at the open rate
    let closed_month = share(
        p.month_period_settled,
        p.closed_volume_month,
        p.month_period_volume,
    );
    let open_month = share(p.open_expected, p.open_volume_month, p.open_volume_final);
    let run_rate = round(closed_month + open_month);
    // the booked amount split between earlier sales of open and of closed periods by volume
    let earlier = p.open_volume_before + p.closed_volume_before;
    let booked_open = if earlier > Decimal::ZERO {
        share(p.booked_before, p.open_volume_before, earlier)
    } else {
        p.booked_before
    };
    let open_earlier = share(p.open_expected, p.open_volume_before, p.open_volume_final);
    let catch_up = round(open_earlier - booked_open);
    let change_in_estimate = movement - run_rate - catch_up;
    let opening_liability = p.booked_before - p.paid_before;
    let paid_in_month = p.paid_to_date - p.paid_before;
    Roll {
        settled_paid: p.paid_to_date,
        settled_payable: p.payable,
        closed_adjustment,
        open_expected: round(p.open_expected),
        open_accrued,
        required,
        required_liability: p.payable + closed_adjustment + open_accrued,
        booked_before: p.booked_before,
        movement,
        run_rate,
        catch_up,
        change_in_estimate,
        opening_liability,
        paid_in_month,
        closing_liability: opening_liability + movement - paid_in_month,
    }
}

impl Roll {
    /// Add another roll (a component's or the programme's sum of lines).
    pub fn add(&mut self, o: &Roll) {
        self.settled_paid += o.settled_paid;
        self.settled_payable += o.settled_payable;
        self.closed_adjustment += o.closed_adjustment;
        self.open_expected += o.open_expected;
        self.open_accrued += o.open_accrued;
        self.required += o.required;
        self.required_liability += o.required_liability;
        self.booked_before += o.booked_before;
        self.movement += o.movement;
        self.run_rate += o.run_rate;
        self.catch_up += o.catch_up;
        self.change_in_estimate += o.change_in_estimate;
        self.opening_liability += o.opening_liability;
        self.paid_in_month += o.paid_in_month;
        self.closing_liability += o.closing_liability;
    }

    /// Whether every amount is zero (nothing settled, expected, booked or paid).
    pub fn is_zero(&self) -> bool {
        *self == Roll::default()
            || [
                self.settled_paid,
                self.settled_payable,
                self.open_expected,
                self.required,
                self.booked_before,
                self.movement,
                self.opening_liability,
                self.paid_in_month,
                self.closing_liability,
            ]
            .iter()
            .all(|v| v.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn r(p: &Position) -> Roll {
        let out = roll(p, Rounding::HalfUp, 2);
        // the identities hold on every line
        assert_eq!(
            out.run_rate + out.catch_up + out.change_in_estimate,
            out.movement
        );
        assert_eq!(
            out.opening_liability + out.movement - out.paid_in_month,
            out.closing_liability
        );
        assert_eq!(out.closing_liability, out.required_liability);
        assert_eq!(
            out.required,
            out.settled_paid + out.settled_payable + out.closed_adjustment + out.open_accrued
        );
        out
    }

    /// One yearly period, retroactive ladder 2% from 100,000 and 4% from 200,000. Through
    /// May the partner bought 100,000 and the year was expected at 180,000 (2%): 2,000 was
    /// booked. June brings 60,000 and the year is now expected at 240,000: 4% = 9,600
    /// expected. Required: 9,600 × 160,000 / 240,000 = 6,400; run rate 4% × 60,000 = 2,400;
    /// catch-up on the earlier 100,000: 4,000 − 2,000 = 2,000; movement 4,400.
    #[test]
    fn threshold_crossed_mid_year_catches_up_earlier_sales() {
        let out = r(&Position {
            open_expected: dec!(9600),
            open_volume_before: dec!(100000),
            open_volume_month: dec!(60000),
            open_volume_final: dec!(240000),
            booked_before: dec!(2000),
            ..Default::default()
        });
        assert_eq!(out.open_accrued, dec!(6400));
        assert_eq!(out.required, dec!(6400));
        assert_eq!(out.movement, dec!(4400));
        assert_eq!(out.run_rate, dec!(2400));
        assert_eq!(out.catch_up, dec!(2000));
        assert_eq!(out.change_in_estimate, dec!(0));
        assert_eq!(out.opening_liability, dec!(2000));
        assert_eq!(out.closing_liability, dec!(6400));
    }

    /// Quarterly periods. Q1 closed and settled at 3,000 (on 150,000), paid on 15 April;
    /// 3,100 was booked through 31 March. April: 50,000 in Q2, open expected 2,400 on
    /// 120,000 expected Q2 volume (2%). Required = 3,000 + 1,000; paid in April 3,000; run
    /// rate 1,000; change in estimate 3,000 − 3,100 = −100 (Q1 trued up to settlement);
    /// liability 3,100 + 900 − 3,000 = 1,000.
    #[test]
    fn payment_in_the_month_and_closed_period_trued_up() {
        let out = r(&Position {
            paid_before: dec!(0),
            paid_to_date: dec!(3000),
            payable: dec!(0),
            closed_volume_before: dec!(150000),
            open_expected: dec!(2400),
            open_volume_before: dec!(0),
            open_volume_month: dec!(50000),
            open_volume_final: dec!(120000),
            booked_before: dec!(3100),
            ..Default::default()
        });
        assert_eq!(out.required, dec!(4000));
        assert_eq!(out.movement, dec!(900));
        assert_eq!(out.run_rate, dec!(1000));
        assert_eq!(out.catch_up, dec!(0));
        assert_eq!(out.change_in_estimate, dec!(-100));
        assert_eq!(out.opening_liability, dec!(3100));
        assert_eq!(out.paid_in_month, dec!(3000));
        assert_eq!(out.closing_liability, dec!(1000));
        assert_eq!(out.settled_paid, dec!(3000));
    }

    /// A change in estimate without new sales: nothing bought in the month, the expected
    /// year falls from 4% to 2% (a partner expected to churn): booked 4,000 on 100,000,
    /// required now 2% × 100,000 = 2,000; the whole −2,000 is a catch-up on earlier sales of
    /// the open period, and the liability falls with it.
    #[test]
    fn change_in_estimate_without_sales() {
        let out = r(&Position {
            open_expected: dec!(2400),
            open_volume_before: dec!(100000),
            open_volume_final: dec!(120000),
            booked_before: dec!(4000),
            ..Default::default()
        });
        assert_eq!(out.required, dec!(2000));
        assert_eq!(out.movement, dec!(-2000));
        assert_eq!(out.run_rate, dec!(0));
        assert_eq!(out.catch_up, dec!(-2000));
        assert_eq!(out.closing_liability, dec!(2000));
    }

    /// A quarter closing in the month: September's sales are in the closed Q3 and earn its
    /// settled rate (3,300 on 110,000 = 3%): run rate 3% × 40,000 = 1,200; the earlier
    /// 70,000 of Q3 booked at 2% (1,400) are trued up to 2,100: change in estimate 700. Q3
    /// is payable, not paid; Q1 and Q2 (4,000) were paid before.
    #[test]
    fn quarter_closing_in_the_month() {
        let out = r(&Position {
            paid_before: dec!(4000),
            paid_to_date: dec!(4000),
            payable: dec!(3300),
            closed_adjustment: dec!(0),
            closed_volume_before: dec!(270000),
            closed_volume_month: dec!(40000),
            month_period_settled: dec!(3300),
            month_period_volume: dec!(110000),
            open_expected: dec!(2000),
            open_volume_before: dec!(0),
            open_volume_month: dec!(0),
            open_volume_final: dec!(100000),
            booked_before: dec!(5400),
        });
        // booked on earlier open sales: none (all earlier sales are in closed periods)
        assert_eq!(out.required, dec!(7300));
        assert_eq!(out.movement, dec!(1900));
        assert_eq!(out.run_rate, dec!(1200));
        assert_eq!(out.catch_up, dec!(0));
        assert_eq!(out.change_in_estimate, dec!(700));
        assert_eq!(out.required_liability, dec!(3300));
        assert_eq!(out.paid_in_month, dec!(0));
    }

    /// A partner cap over the year is expected to take 150 back from the settled Q1 (3,000):
    /// the liability and the expense carry the expected adjustment, as a change in estimate.
    #[test]
    fn closed_adjustment_is_a_change_in_estimate() {
        let out = r(&Position {
            payable: dec!(3000),
            closed_adjustment: dec!(-150),
            closed_volume_before: dec!(150000),
            open_expected: dec!(2000),
            open_volume_final: dec!(100000),
            booked_before: dec!(3000),
            ..Default::default()
        });
        assert_eq!(out.required, dec!(2850));
        assert_eq!(out.required_liability, dec!(2850));
        assert_eq!(out.movement, dec!(-150));
        assert_eq!(out.change_in_estimate, dec!(-150));
        assert_eq!(out.closing_liability, dec!(2850));
    }

    /// Rounding: the open accrual is rounded to the cent once, and the remainder keeps the
    /// split exact.
    #[test]
    fn amounts_are_rounded_to_the_cent_and_add_up() {
        let out = r(&Position {
            open_expected: dec!(1000),
            open_volume_before: dec!(1),
            open_volume_month: dec!(1),
            open_volume_final: dec!(3),
            booked_before: dec!(0.10),
            ..Default::default()
        });
        assert_eq!(out.open_accrued, dec!(666.67));
        assert_eq!(out.run_rate, dec!(333.33));
        assert_eq!(out.catch_up, dec!(333.23));
        assert_eq!(out.change_in_estimate, dec!(0.01));
    }
}
