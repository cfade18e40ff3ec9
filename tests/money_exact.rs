//! Money is exact and at the currency's scale in every output, and no Decimal operation on
//! user data panics: inputs are bounded when read (10^15, 6 decimal places in tables) and the
//! kernel's products and sums are checked, an overflow being an error naming the partner and
//! component (`docs/calculations.md`, "Magnitudes").

mod common;

use chrono::NaiveDate;
use proptest::prelude::*;
use rebatesim::data::{Partners, Transactions};
use rebatesim::forecast::{forecast, ForecastOptions, PriorAccruals};
use rebatesim::population::{Population, SyntheticBasis, SyntheticSegment, SyntheticSpec};
use rebatesim::programme::{Compiled, Format, Programme};
use rebatesim::settlement::{settle, Settlement};
use rebatesim::Error;
use rust_decimal::prelude::*;
use std::collections::BTreeMap;

fn compile(text: &str) -> Compiled {
    Programme::from_str(text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

fn programme_error(text: &str) -> Error {
    Programme::from_str(text, Format::Toml, None)
        .and_then(|p| p.compile())
        .unwrap_err()
}

fn head(currency: &str, extra: &str) -> String {
    format!(
        "name = \"T\"\ncurrency = \"{currency}\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n{extra}\n"
    )
}

const PER_UNIT_LADDER: &str = "[[components]]\nid = \"u\"\nkind = \"volume\"\nbasis = \"units\"\n\
     tiers = [{ from = 1001, per_unit = 10 }]\n";

fn run(programme: &str, partners: &str, tx: &str) -> Result<Settlement, Error> {
    let p = compile(programme);
    let partners = Partners::from_csv_str(partners, "partners.csv")?;
    let tx = Transactions::from_csv_str(tx, "transactions.csv")?;
    settle(&p, &partners, &tx)
}

/// Every money amount of a settlement written with exactly `dp` places.
fn assert_scale(s: &Settlement, dp: u32) {
    let money = |what: &str, v: Decimal| assert_eq!(v.scale(), dp, "{what} {v}");
    for l in &s.lines().unwrap() {
        for (what, v) in [
            ("calculated", l.calculated),
            ("adj_component_cap", l.adj_component_cap),
            ("adj_exclusive_group", l.adj_exclusive_group),
            ("adj_partner_cap", l.adj_partner_cap),
            ("adj_minimum_payout", l.adj_minimum_payout),
            ("adj_budget_cut", l.adj_budget_cut),
            ("payable", l.payable),
        ] {
            money(what, v);
        }
    }
    for t in s.partners.iter().map(|p| &p.totals).chain([&s.total]) {
        for v in [
            t.calculated,
            t.adj_component_cap,
            t.adj_exclusive_group,
            t.adj_partner_cap,
            t.adj_minimum_payout,
            t.adj_budget_cut,
            t.payable,
        ] {
            money("total", v);
        }
    }
    for x in &s.standing {
        if let Some(v) = x.additional_payout {
            money("additional_payout", v);
        }
    }
}

#[test]
fn per_unit_ladder_pays_12000_at_the_currency_scale() {
    // 1,200 units reach the tier from 1,001: 10 per unit on all 1,200 = 12,000
    let tx = "partner_id,date,quantity,revenue\nA,2027-02-01,1200,50000\n";
    for (currency, dp, want) in [
        ("EUR", 2, "12000.00"),
        ("JPY", 0, "12000"),
        ("KWD", 3, "12000.000"),
    ] {
        let s = run(
            &(head(currency, "") + PER_UNIT_LADDER),
            "partner_id\nA\n",
            tx,
        )
        .unwrap();
        assert_eq!(s.total.payable.to_string(), want, "{currency}");
        assert_eq!(s.lines().unwrap()[0].payable.to_string(), want);
        // the later quarters earn nothing: zero at the scale too
        let zero = format!("0{}", if dp > 0 { "." } else { "" }) + &"0".repeat(dp as usize);
        assert_eq!(s.lines().unwrap()[1].payable.to_string(), zero);
        assert_scale(&s, dp);
        let csv = s.lines_csv().unwrap();
        assert!(csv.contains(&format!(",{want},")), "{csv}");
        let json = s.to_json().unwrap();
        assert!(json.contains(&format!("\"payable\": \"{want}\"")), "{json}");
    }
}

#[test]
fn a_rate_on_revenue_is_written_300_00_not_300_0() {
    // 10% of 3,000 = 300 (Decimal computes 300.0 from 0.1 × 3000)
    let p = head("EUR", "")
        + "[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 1000, percent = 10 }]\n";
    let s = run(
        &p,
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,3000\n",
    )
    .unwrap();
    assert_eq!(s.total.payable.to_string(), "300.00");
    assert!(s.to_json().unwrap().contains("\"payable\": \"300.00\""));
    // the standing's additional payout (none: one tier) and volumes are not money
    assert_scale(&s, 2);
}

#[test]
fn caps_budget_cut_and_standing_are_at_scale() {
    // two partners: A 10% of 90,000 = 9,000 capped at 5,000 by the component cap; B 10% of
    // 30,000 = 3,000; programme 8,000 > budget 7,000.01: cut pro rata to the cent
    let p = head("EUR", "budget = 7000.01\n")
        + "[[components]]\nid = \"v\"\nkind = \"volume\"\ncap = 5000\n\
           tiers = [{ from = 1000, percent = 10 }, { from = 100000, percent = 12 }]\n";
    let s = run(
        &p,
        "partner_id\nA\nB\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,90000\nB,2027-01-11,1,30000\n",
    )
    .unwrap();
    assert!(s.budget_binding);
    assert_eq!(s.total.payable.to_string(), "7000.01");
    // shares of 7,000.01 in 5,000 : 3,000 = 4,375.00625 and 2,625.00375: floors 4,375.00 and
    // 2,625.00, the cent left to the larger remainder (A)
    assert_eq!(s.partners[0].totals.payable.to_string(), "4375.01");
    assert_eq!(s.partners[1].totals.payable.to_string(), "2625.00");
    assert_eq!(
        s.partners[0].totals.adj_component_cap.to_string(),
        "-4000.00"
    );
    // standing: A is 10,000 short of tier 2, which would pay 12% of 100,000 − 9,000 = 3,000
    let a = &s.standing[0];
    assert_eq!(a.additional_payout.unwrap().to_string(), "3000.00");
    assert_scale(&s, 2);
}

fn data_error(e: Error) -> rebatesim::error::DataError {
    match e {
        Error::Data(d) => d,
        other => panic!("expected a data error, found {other:?}"),
    }
}

#[test]
fn revenues_near_the_decimal_maximum_are_refused_when_read() {
    // was: "Addition overflowed" summing the two
    let e = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-01,1,70000000000000000000000000000\nA,2027-01-02,1,70000000000000000000000000000\n",
        "transactions.csv",
    )
    .unwrap_err();
    let d = data_error(e);
    assert_eq!((d.row, d.column.as_deref()), (Some(1), Some("revenue")));
    assert!(d.message.contains("smaller than 10^15"), "{}", d.message);
    // just below and at the bound
    let ok = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-01,999999999999999.999999,-999999999999999.999999\n",
        "t",
    );
    assert!(ok.is_ok());
    let e = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-01,1,1000000000000000\n",
        "t",
    )
    .unwrap_err();
    assert!(e.to_string().contains("row 1, column 'revenue'"), "{e}");
    let e = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-01,1e30,1\n",
        "t",
    )
    .unwrap_err();
    assert!(e.to_string().contains("row 1, column 'quantity'"), "{e}");
}

#[test]
fn a_revenue_with_28_decimals_is_refused_when_read() {
    // was: "Division overflowed"
    let e = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-01,1,10\nA,2027-01-01,1,1.2345678901234567890123456789\n",
        "transactions.csv",
    )
    .unwrap_err();
    let d = data_error(e);
    assert_eq!((d.row, d.column.as_deref()), (Some(2), Some("revenue")));
    assert!(
        d.message.contains("at most 6 decimal places"),
        "{}",
        d.message
    );
    // six places are fine (simulated quantities are on a grid of millionths)
    assert!(Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-01,0.000001,1.500000000\n",
        "t"
    )
    .is_ok());
}

#[test]
fn a_growth_baseline_of_1e_24_is_refused_when_read() {
    let e = Partners::from_csv_str(
        "partner_id,baseline_revenue\nA,1000\nB,1e-24\n",
        "partners.csv",
    )
    .unwrap_err();
    let d = data_error(e);
    assert_eq!(
        (d.table.as_str(), d.row, d.column.as_deref()),
        ("partners.csv", Some(2), Some("baseline_revenue"))
    );
    // the smallest positive baseline, 0.000001, is growth against a tiny baseline: computed,
    // exactly (growth 10^11 %)
    let p = head("EUR", "")
        + "[[components]]\nid = \"g\"\nkind = \"growth\"\ntiers = [{ from = 5, percent = 2 }]\n";
    let s = run(
        &p,
        "partner_id,baseline_revenue\nA,0.000004\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,100\n",
    )
    .unwrap();
    assert_eq!(s.lines().unwrap()[0].payable.to_string(), "2.00");
    assert!(
        s.lines().unwrap()[0]
            .explanation
            .contains("growth 9999999900%"),
        "{}",
        s.lines().unwrap()[0].explanation
    );
}

#[test]
fn a_fixed_reward_near_the_decimal_maximum_is_refused() {
    let e = programme_error(
        &(head("EUR", "")
            + "[[components]]\nid = \"f\"\nkind = \"volume\"\ntiers = [{ from = 0, fixed = \"79000000000000000000000000000\" }]\n"),
    );
    match e {
        Error::Programme(fe) => {
            assert_eq!(fe.path, "components[0].tiers[0].fixed");
            assert!(fe.message.contains("smaller than 10^15"), "{}", fe.message);
        }
        other => panic!("{other:?}"),
    }
    for field in [
        "budget = 1e16",
        "partner_cap = 2e15",
        "minimum_payout = 1e20",
    ] {
        let e = programme_error(&(head("EUR", field) + PER_UNIT_LADDER));
        let name = field.split(' ').next().unwrap();
        assert!(matches!(&e, Error::Programme(fe) if fe.path == name), "{e}");
    }
    // the largest fixed reward allowed, summed over four periods and a total ladder: exact
    let s = run(
        &(head("EUR", "")
            + "[[components]]\nid = \"f\"\nkind = \"volume\"\nmethod = \"total\"\n\
               tiers = [{ from = 0, fixed = \"999999999999999.99\" }, { from = 1, fixed = \"999999999999999.99\" }]\n"),
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,5\nA,2027-04-10,1,5\nA,2027-07-10,1,5\nA,2027-10-10,1,5\n",
    )
    .unwrap();
    assert_eq!(s.total.payable.to_string(), "7999999999999999.92");
}

#[test]
fn a_per_unit_amount_times_a_huge_quantity_is_an_error_naming_partner_and_component() {
    // 99,999,999,999,999 per unit × 900,000,000,000,000 units ≈ 9e28 > 7.9e28
    let p = head("EUR", "")
        + "[[components]]\nid = \"small\"\nkind = \"per_unit\"\namount = 1\n\
           [[components]]\nid = \"huge\"\nkind = \"per_unit\"\namount = 99999999999999\n";
    let e = run(
        &p,
        "partner_id\nA\nB\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,5,10\nB,2027-01-10,900000000000000,10\n",
    )
    .unwrap_err();
    let d = data_error(e);
    assert_eq!(d.table, "transactions.csv");
    assert!(
        d.message
            .starts_with("partner 'B', component 'huge': its rebate is too large"),
        "{}",
        d.message
    );
    // the same units on a volume ladder paying per unit
    let p = head("EUR", "")
        + "[[components]]\nid = \"u\"\nkind = \"volume\"\nbasis = \"revenue\"\n\
           tiers = [{ from = 1, per_unit = 99999999999999 }]\n";
    let e = run(
        &p,
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,900000000000000,10\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("partner 'A', component 'u'"), "{e}");
}

#[test]
fn shares_of_huge_amounts_are_computed_not_refused() {
    // a rate on a units ladder is paid on the revenue of the units: revenue × units / units,
    // whose product 9e14 × 9e14 = 8.1e29 is beyond the range: 1% of 900,000,000,000,000
    let p = head("EUR", "")
        + "[[components]]\nid = \"u\"\nkind = \"volume\"\nbasis = \"units\"\n\
           tiers = [{ from = 1, percent = 1 }]\n";
    let s = run(
        &p,
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,900000000000000,900000000000000\n",
    )
    .unwrap();
    assert_eq!(s.total.payable.to_string(), "9000000000000.00");
    // a partner cap of 2,000.01 over two entitlements of 4·10^10 × 999,999,999,999,999 ≈
    // 4·10^25 each: cap × entitlement is beyond the range, the shares 1,000.01 and 1,000.00
    // are not
    let p = head("EUR", "partner_cap = 2000.01\n")
        + "[[components]]\nid = \"a\"\nkind = \"per_unit\"\namount = 40000000000\n\
           [[components]]\nid = \"b\"\nkind = \"per_unit\"\namount = 40000000000\n";
    let s = run(
        &p,
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,999999999999999,1\n",
    )
    .unwrap();
    assert_eq!(s.total.payable.to_string(), "2000.01");
    let q1: Vec<String> = s
        .lines()
        .unwrap()
        .iter()
        .filter(|l| l.period == 1)
        .map(|l| l.payable.to_string())
        .collect();
    assert_eq!(q1, ["1000.01", "1000.00"]);
    // an entitlement of 10^26 or more cannot be written with its cents: too large
    let p = head("EUR", "")
        + "[[components]]\nid = \"c\"\nkind = \"per_unit\"\namount = 100000000001\n";
    let e = run(
        &p,
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,999999999999999,1\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("partner 'A', component 'c'"), "{e}");
}

#[test]
fn sums_over_partners_beyond_the_range_are_an_error_naming_the_period() {
    // each partner's 6·10^10 × 9·10^14 = 5.4·10^25 is below 10^26 (cents still exact); the
    // two together are not
    let p = head("EUR", "")
        + "[[components]]\nid = \"pu\"\nkind = \"per_unit\"\namount = 60000000000\n";
    let e = run(
        &p,
        "partner_id\nA\nB\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,900000000000000,10\nB,2027-01-10,900000000000000,10\n",
    )
    .unwrap_err();
    let d = data_error(e);
    assert!(
        d.message
            .starts_with("the total payable of 2027-Q1 over all partners is too large"),
        "{}",
        d.message
    );
}

#[test]
fn the_decimal_kernel_flags_overflow_and_f64_is_unchanged() {
    use rebatesim::rules::Amount;
    let big = Decimal::MAX;
    assert_eq!(big.plus(Decimal::ONE), Decimal::ZERO);
    assert_eq!(big.times(Decimal::TWO), Decimal::ZERO);
    assert_eq!(Decimal::ONE.over(Decimal::ZERO), Decimal::ZERO);
    assert_eq!(Decimal::TEN.minus(Decimal::ONE), Decimal::from(9));
    assert_eq!(f64::MAX.times(2.0), f64::INFINITY);
    assert_eq!(0.1f64.plus(0.2), 0.1 + 0.2);
}

#[test]
fn prior_accruals_and_forecast_actuals_are_bounded() {
    let e = PriorAccruals::from_csv_str(
        "partner_id,component,amount\nA,v,1\nA,w,79228162514264337593543950335\n",
        "prior.csv",
    )
    .unwrap_err();
    let d = data_error(e);
    assert_eq!((d.row, d.column.as_deref()), (Some(2), Some("amount")));
    // extreme actuals: the closed periods are settled exactly (issue 18), and a rebate beyond
    // Decimal's range is a clear data error naming the partner and the component
    let p = compile(
        &(head("EUR", "")
            + "[[components]]\nid = \"pu\"\nkind = \"per_unit\"\namount = 99999999999999\n"),
    );
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,999999999999999\n",
        "partners.csv",
    )
    .unwrap();
    let m = common::model("[economics]\nunit_price = 100\n");
    let actuals = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-10,999999999999999,999999999999999\nA,2027-01-11,999999999999999,999999999999999\n",
        "actuals.csv",
    )
    .unwrap();
    let e = forecast(
        &p,
        &pop,
        &m,
        &actuals,
        NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
        &ForecastOptions {
            scenarios: 2,
            ..Default::default()
        },
    )
    .unwrap_err();
    let d = data_error(e);
    assert_eq!(d.table, "actuals.csv");
    assert!(
        d.message.contains("partner 'A', component 'pu'"),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("too large to compute exactly"),
        "{}",
        d.message
    );
    // large but representable actuals still forecast, and stay finite
    let actuals = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-10,999999999999,999999999999999\n",
        "actuals.csv",
    )
    .unwrap();
    let f = forecast(
        &p,
        &pop,
        &m,
        &actuals,
        NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
        &ForecastOptions {
            scenarios: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(f.total_payout().iter().all(|x| x.is_finite()));
}

#[test]
fn population_baselines_and_prices_are_bounded() {
    for (body, col) in [
        ("A,s,1e308,", "baseline_revenue"),
        ("A,s,1e15,", "baseline_revenue"),
        ("A,s,100,1e-300", "unit_price"),
        ("A,s,100,1e300", "unit_price"),
    ] {
        let e = Population::from_csv_str(
            &format!("partner_id,segment,baseline_revenue,unit_price\n{body}\n"),
            "partners.csv",
        )
        .unwrap_err();
        let d = data_error(e);
        assert_eq!((d.row, d.column.as_deref()), (Some(1), Some(col)), "{body}");
    }
    let spec = |median: f64| SyntheticSpec {
        basis: SyntheticBasis::Revenue,
        segments: BTreeMap::from([(
            "s".to_owned(),
            SyntheticSegment {
                count: 3,
                median_baseline: median,
                dispersion: 5.0,
                unit_price: None,
                margin_rate: None,
            },
        )]),
    };
    let e = Population::synthetic(&spec(1e308), 1).unwrap_err();
    assert!(
        matches!(&e, Error::Model(fe) if fe.path == "segments.s.median_baseline"),
        "{e}"
    );
    // a large median with the widest dispersion draws baselines above 10^15: allowed (finite)
    assert!(Population::synthetic(&spec(1e14), 1).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Extreme but valid inputs (amounts and quantities up to 10^15 with 6 places, rewards up
    /// to 10^15): settlement never panics; it settles, or reports a data error naming a
    /// partner or the programme total; when it settles every line reconciles, the totals are
    /// the sums of the lines, and every amount is at the currency's scale.
    #[test]
    fn extreme_valid_inputs_never_panic_and_reconcile(
        rows in prop::collection::vec((0usize..3, 0u32..4, -999_999_999i64..1_000_000_000, 0u32..13, -999_999_999i64..1_000_000_000, 0u32..13), 1..12),
        per_unit in 0i64..1_000_000_000, per_unit_scale in 0u32..13,
        rate in 0u32..101, fixed in 0i64..1_000_000_000, fixed_scale in 0u32..13,
        cap in 1i64..1_000_000_000, cap_scale in 0u32..10,
        budget in 1i64..1_000_000_000, budget_scale in 0u32..10,
        currency in prop::sample::select(vec![("EUR", 2u32), ("JPY", 0), ("KWD", 3)]),
    ) {
        // m millionths times 10^s: below 10^15, with up to 6 places
        let dec = |m: i64, s: u32| Decimal::new(m, 6) * Decimal::from(10i64.pow(s));
        let p = format!(
            "{}[[components]]\nid = \"pu\"\nkind = \"per_unit\"\namount = {}\n\
             [[components]]\nid = \"v\"\nkind = \"volume\"\nbasis = \"units\"\nmethod = \"total\"\ncap = {}\n\
             tiers = [{{ from = 0, percent = {rate} }}, {{ from = 1000, percent = 100 }}]\n\
             [[components]]\nid = \"f\"\nkind = \"volume\"\nmeasure = \"cumulative\"\ntiers = [{{ from = 0, fixed = {} }}]\n\
             [[components]]\nid = \"g\"\nkind = \"growth\"\ntiers = [{{ from = 5, percent = 3 }}]\n",
            head(currency.0, &format!("partner_cap = {}\nbudget = {}\n", Decimal::new(cap, cap_scale.min(9)) * Decimal::from(1_000_000), Decimal::new(budget, budget_scale.min(9)) * Decimal::from(1_000_000))),
            dec(per_unit, per_unit_scale).normalize(),
            Decimal::new(cap, cap_scale.min(9)) * Decimal::from(1_000_000),
            dec(fixed, fixed_scale).normalize(),
        );
        let mut tx = String::from("partner_id,date,quantity,revenue\n");
        for (partner, quarter, q, qs, r, rs) in &rows {
            tx += &format!(
                "P{partner},2027-{:02}-15,{},{}\n",
                quarter * 3 + 1,
                dec(*q, *qs).normalize(),
                dec(*r, *rs).normalize()
            );
        }
        let partners = "partner_id,baseline_revenue\nP0,0.000001\nP1,999999999999999.999999\nP2,\n";
        let tx = Transactions::from_csv_str(&tx, "transactions.csv").unwrap();
        let prog = Programme::from_str(&p, Format::Toml, None).and_then(|x| x.compile());
        let prog = prog.unwrap();
        let partners = Partners::from_csv_str(partners, "partners.csv").unwrap();
        match settle(&prog, &partners, &tx) {
            Ok(s) => {
                let dp = currency.1;
                assert_scale(&s, dp);
                let mut total = Decimal::ZERO;
                for l in &s.lines().unwrap() {
                    prop_assert_eq!(
                        l.calculated + l.adj_component_cap + l.adj_exclusive_group + l.adj_partner_cap
                            + l.adj_minimum_payout + l.adj_budget_cut,
                        l.payable
                    );
                    total += l.payable;
                }
                prop_assert_eq!(total, s.total.payable);
                let by_partner: Decimal = s.partners.iter().map(|p| p.totals.payable).sum();
                prop_assert_eq!(by_partner, s.total.payable);
                if let Some(b) = prog.budget {
                    // the budget rounded to the minor unit (18,895,699.5 is 18,895,700 yen)
                    prop_assert!(s.total.payable <= prog.rounding.round(b, dp));
                }
            }
            Err(Error::Data(d)) => {
                prop_assert!(d.message.contains("too large to compute exactly"), "{}", d.message);
            }
            Err(e) => panic!("{e}"),
        }
    }
}
