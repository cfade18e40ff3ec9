//! The month-end close of a forecast: closed periods from the settlement of the actuals, the
//! reconciliation and the liability roll-forward, hand-computed on a quarterly programme;
//! the identities on a rich one; bad prior accruals and a previous forecast of the wrong date.

mod common;
use common::*;

use chrono::NaiveDate;
use rebatesim::data::{Partners, Transactions};
use rebatesim::demand::Model;
use rebatesim::forecast::{forecast, Forecast, ForecastOptions, LedgerLevel, PriorAccruals};
use rebatesim::population::Population;
use rebatesim::settlement::settle;
use rebatesim::Error;
use rust_decimal::prelude::*;
use rust_decimal_macros::dec;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Quarterly periods, 2% from 30,000 and 4% from 60,000 per quarter (retroactive), paid 10
/// days after each quarter.
const QUARTERS: &str = r#"
name = "Quarters"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
payment = { when = "period", lag_days = 10 }
[[components]]
id = "vol"
kind = "volume"
method = "retroactive"
tiers = [{ from = 30000, percent = 2 }, { from = 60000, percent = 4 }]
"#;

/// Partner A buying 10,000 a month (its baseline: 120,000 a year) for `months` months.
fn actuals(months: u32) -> Transactions {
    let mut s = String::from("partner_id,date,quantity,revenue\n");
    for m in 1..=months {
        s += &format!("A,2027-{m:02}-15,1,10000\n");
    }
    Transactions::from_csv_str(&s, "actuals.csv").unwrap()
}

fn population() -> Population {
    Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,120000\n",
        "partners.csv",
    )
    .unwrap()
}

fn run(as_of: &str, months: u32, prior: Option<&PriorAccruals>) -> Forecast {
    forecast(
        &programme(QUARTERS),
        &population(),
        &Model::default(),
        &actuals(months),
        date(as_of),
        &ForecastOptions {
            scenarios: 3,
            prior_accruals: prior,
            ..Default::default()
        },
    )
    .unwrap()
}

fn prior(amount: &str) -> PriorAccruals {
    PriorAccruals::from_csv_str(
        &format!("partner_id,component,amount\nA,vol,{amount}\n"),
        "prior.csv",
    )
    .unwrap()
}

#[test]
fn april_close_pays_q1_and_trues_it_up_to_settlement() {
    // Q1: 30,000 at 2% = 600 settled, paid on 10 April. 550 was booked through March.
    // The year is expected at 4 × 600 = 2,400; the open quarters at 1,800 on 90,000.
    // April's 10,000: run rate 1,800 × 10,000 / 90,000 = 200 = open accrued.
    // Required 600 + 200 = 800; movement 250 = 200 run rate + 50 change in estimate
    // (Q1 trued up from 550 to 600); opening liability 550, paid 600, closing 200.
    let f = run("2027-04-30", 4, Some(&prior("550")));
    assert_eq!(f.opening_date(), date("2027-03-31"));
    let rows = f.ledger_rows(LedgerLevel::Component, None);
    assert_eq!(rows.len(), 2);
    let (vol, total) = (&rows[0].roll, &rows[1].roll);
    assert_eq!(rows[0].component, "vol");
    assert_eq!(vol.settled_paid, dec!(600));
    assert_eq!(vol.settled_payable, dec!(0));
    assert_eq!(vol.open_expected, dec!(1800));
    assert_eq!(rows[0].open_constrained, Some(dec!(1800)));
    assert_eq!(vol.open_accrued, dec!(200));
    assert_eq!(vol.required, dec!(800));
    assert_eq!(vol.required_liability, dec!(200));
    assert_eq!(vol.booked_before, dec!(550));
    assert_eq!(vol.movement, dec!(250));
    assert_eq!(vol.run_rate, dec!(200));
    assert_eq!(vol.catch_up, dec!(0));
    assert_eq!(vol.change_in_estimate, dec!(50));
    assert_eq!(vol.opening_liability, dec!(550));
    assert_eq!(vol.paid_in_month, dec!(600));
    assert_eq!(vol.closing_liability, dec!(200));
    assert_eq!(vol, total);
    // the journal books the same movement
    let j = f.journal();
    assert_eq!(j.len(), 1);
    assert_eq!(
        (j[0].required, j[0].movement, j[0].change_in_estimate),
        (800.0, 250.0, 50.0)
    );
    let s = f.journal_summary(false, false);
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].amount, s[0].lines), (dec!(250), 1));
}

#[test]
fn closed_periods_are_the_settlement_of_the_actuals() {
    // at the end of Q1 the settled quarter is exactly what `settle` gives on the actuals
    let f = run("2027-03-31", 3, None);
    let partners = Partners::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,120000\n",
        "partners.csv",
    )
    .unwrap();
    let s = settle(&programme(QUARTERS), &partners, &actuals(3)).unwrap();
    let q1: Decimal = s
        .lines()
        .unwrap()
        .iter()
        .filter(|l| l.period == 1)
        .map(|l| l.payable)
        .sum();
    assert_eq!(q1, dec!(600));
    let r = &f.ledger_rows(LedgerLevel::Component, None)[0].roll;
    assert_eq!(r.settled_payable, q1);
    assert_eq!(r.settled_paid, dec!(0));
    // March is in the closed quarter: its sales at Q1's settled rate, 600 × 10,000 / 30,000
    assert_eq!(r.run_rate, dec!(200));
    assert_eq!(r.required, dec!(600));
    assert_eq!(r.required_liability, dec!(600));
}

#[test]
fn roll_forward_from_the_previous_month_end_forecast() {
    // March's forecast required 600 (Q1 settled, payable): April opens with that liability,
    // pays it, and accrues 200 on April's sales
    let march = run("2027-03-31", 3, None);
    let april = run("2027-04-30", 4, None);
    let booked = april.booked_from_forecast(&march).unwrap();
    assert_eq!(booked, vec![dec!(600)]);
    let r = &april.ledger_rows(LedgerLevel::Component, Some(&booked))[0].roll;
    let m = &march.ledger_rows(LedgerLevel::Component, None)[0].roll;
    assert_eq!(r.opening_liability, m.closing_liability);
    assert_eq!(r.opening_liability, dec!(600));
    assert_eq!(r.movement, dec!(200));
    assert_eq!(r.run_rate, dec!(200));
    assert_eq!(r.change_in_estimate, dec!(0));
    assert_eq!(r.paid_in_month, dec!(600));
    assert_eq!(r.closing_liability, dec!(200));
    // a previous forecast of another date is refused, naming the expected date
    let e = april.booked_from_forecast(&april).unwrap_err();
    assert!(matches!(e, Error::Request(_)), "{e}");
    assert!(e.to_string().contains("2027-03-31"), "{e}");
}

#[test]
fn prior_accruals_for_an_unknown_component_are_refused_naming_the_row() {
    let f = run("2027-04-30", 4, None);
    let bad = PriorAccruals::from_csv_str(
        "partner_id,component,amount\nA,vol,1\nA,bonus,5\n",
        "prior.csv",
    )
    .unwrap();
    let e = f.booked_from(&bad).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Data { .. }), "{text}");
    assert!(
        text.contains("prior.csv") && text.contains("row 2") && text.contains("bonus"),
        "{text}"
    );
}

#[test]
#[ignore = "fixture to fix: the rich programme needs a category column in these actuals"]
fn the_identities_hold_on_every_row_of_a_rich_programme() {
    let pop = rich_population();
    let p = rich_programme("450000");
    let mut csv = String::from("partner_id,date,quantity,revenue\n");
    for i in 0..pop.len() {
        let base = pop.baseline_revenue[i].unwrap() / 12.0;
        for m in 1..=7 {
            let r = (base * (0.7 + 0.05 * (i % 9) as f64) * 100.0).round() / 100.0;
            csv += &format!(
                "{},2027-{m:02}-10,{},{r}\n",
                pop.partner_id[i],
                (r / 50.0).round()
            );
        }
    }
    let t = Transactions::from_csv_str(&csv, "actuals.csv").unwrap();
    let f = forecast(
        &p,
        &pop,
        &model(RICH_MODEL),
        &t,
        date("2027-07-31"),
        &ForecastOptions {
            scenarios: 20,
            seed: 5,
            ..Default::default()
        },
    )
    .unwrap();
    for level in [
        LedgerLevel::Component,
        LedgerLevel::Segment,
        LedgerLevel::Partner,
    ] {
        let rows = f.ledger_rows(level, None);
        let mut sum = rebatesim::forecast::rollforward::Roll::default();
        for row in &rows {
            let r = &row.roll;
            assert_eq!(r.run_rate + r.catch_up + r.change_in_estimate, r.movement);
            assert_eq!(
                r.opening_liability + r.movement - r.paid_in_month,
                r.closing_liability
            );
            assert_eq!(r.closing_liability, r.required_liability);
            if row.component != "total" {
                sum.add(r);
            }
        }
        if level != LedgerLevel::Partner {
            assert_eq!(&sum, &rows.last().unwrap().roll, "{level:?}");
        }
    }
    // Q1 (paid 15 May) and Q2 (due 14 August) are the settlement of the actuals
    let partners = Partners::from_csv_str(
        &{
            let mut s = String::from("partner_id,segment,baseline_revenue\n");
            for i in 0..pop.len() {
                s += &format!(
                    "{},{},{}\n",
                    pop.partner_id[i],
                    pop.segment_name(i),
                    pop.baseline_revenue[i].unwrap()
                );
            }
            s
        },
        "partners.csv",
    )
    .unwrap();
    let s = settle(&p, &partners, &t).unwrap();
    let paid: Decimal = s
        .lines()
        .unwrap()
        .iter()
        .filter(|l| l.period == 1)
        .map(|l| l.payable)
        .sum();
    let payable: Decimal = s
        .lines()
        .unwrap()
        .iter()
        .filter(|l| l.period == 2)
        .map(|l| l.payable)
        .sum();
    let total = &f
        .ledger_rows(LedgerLevel::Component, None)
        .last()
        .unwrap()
        .roll
        .clone();
    assert_eq!(total.settled_paid, paid);
    assert_eq!(total.settled_payable, payable);
    // zero journal lines are dropped on request only
    assert!(f.journal_lines(false).len() <= f.journal().len());
    assert!(f.journal_lines(false).iter().all(|l| l.movement != 0.0));
    let by_segment = f.journal_summary(true, true);
    assert_eq!(by_segment.len(), 2 * p.components.len());
}
