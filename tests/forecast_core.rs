//! Forecasts from actuals to date: hand-computed cases, agreement with settlement when the model
//! has no noise, reconciliation of the schedules, conditioning, reproducibility, bad input.

mod common;
use common::*;

use chrono::NaiveDate;
use rebatesim::data::{Partners, Transactions};
use rebatesim::engine::export_scenario;
use rebatesim::forecast::{forecast, Forecast, ForecastOptions, PriorAccruals};
use rebatesim::population::Population;
use rebatesim::settlement::settle;
use rebatesim::Error;
use rust_decimal::prelude::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn tx(text: &str) -> Transactions {
    Transactions::from_csv_str(text, "actuals.csv").unwrap()
}

/// One annual retroactive ladder (2% from 100,000, 4% from 200,000), shared with the Python
/// forecast tests.
const YEAR_RETRO: &str = include_str!("fixtures/year-retro/programme.toml");

fn h1_actuals(partner: &str, monthly: f64) -> String {
    let mut s = String::from("partner_id,date,quantity,revenue\n");
    for m in 1..=6 {
        s += &format!("{partner},2027-{m:02}-15,1,{monthly}\n");
    }
    s
}

#[test]
fn retroactive_threshold_crossed_mid_year_catches_up_on_earlier_purchases() {
    // A partner buying 20,000 a month (its baseline: 240,000 a year). After June it has
    // 120,000: tier 1 (2%) on the actuals alone, but the model expects 240,000 by December,
    // i.e. tier 2 (4%) on everything: final entitlement 4% × 240,000 = 9,600.
    // Effective rate 9,600 / 240,000 = 4%: required to date 4% × 120,000 = 4,800.
    // Accrued through May at the current-tier rate: 2% × 100,000 = 2,000.
    // Entry: 4,800 − 2,000 = 2,800 = run rate on June (4% × 20,000 = 800) + catch-up on
    // January–May (4% − 2%) × 100,000 = 2,000.
    let p = programme(YEAR_RETRO);
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,240000\n",
        "partners.csv",
    )
    .unwrap();
    let m = model("");
    let actuals = tx(&h1_actuals("A", 20000.0));
    let prior =
        PriorAccruals::from_csv_str("partner_id,component,amount\nA,vol,2000\n", "prior.csv")
            .unwrap();
    let f = forecast(
        &p,
        &pop,
        &m,
        &actuals,
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: 3,
            prior_accruals: Some(&prior),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(f.total_payout(), &[9600.0, 9600.0, 9600.0]);
    assert_eq!(f.months_observed, 6);
    let e = f.estimates();
    assert_eq!(e.expected_value.value, 9600.0);
    assert_eq!(e.most_likely.value, 9600.0);
    assert_eq!(e.constrained.value, 9600.0);
    assert!(e.method.contains("IFRS 15.53(a)") && e.method.contains("90%"));
    let j = f.journal();
    assert_eq!(j.len(), 1);
    let l = &j[0];
    assert_eq!((l.partner_id.as_str(), l.component.as_str()), ("A", "vol"));
    assert_eq!(l.volume_to_date, 120000.0);
    assert_eq!(l.expected_final_volume, 240000.0);
    assert_eq!(l.estimated_final, 9600.0);
    assert!((l.effective_rate - 0.04).abs() < 1e-15);
    assert_eq!(l.required, 4800.0);
    assert_eq!(l.prior, 2000.0);
    assert_eq!(l.movement, 2800.0);
    assert_eq!(l.run_rate, 800.0);
    assert_eq!(l.catch_up, 2000.0);
    assert_eq!(l.debit_account, "Rebates (contra-revenue)");
    // the watch list: tier 1 now, tier 2 certain by the end, 80,000 short of it
    let w = &f.watch_list()[0];
    assert_eq!(w.current_tier, 1);
    assert_eq!(w.next_tier, Some(2));
    assert_eq!(w.shortfall, Some(80000.0));
    // reaching tier 2 on 200,000: 4% × 200,000 − 2% × 120,000 = 5,600 more
    assert_eq!(w.next_tier_pays, Some(5600.0));
    assert_eq!(w.reach_probability, vec![1.0, 1.0]);

    // a partner at half the pace stays in tier 1: 2% × 180,000 (120k actual + 6 × 10k)
    let slow = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,120000\n",
        "partners.csv",
    )
    .unwrap();
    let f = forecast(
        &p,
        &slow,
        &m,
        &actuals,
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(f.expected_value().value, 3600.0);
    let l = &f.journal()[0];
    // 3,600 × 120,000 / 180,000 = 2,400: no catch-up beyond the current rate without a prior
    assert_eq!(l.required, 2400.0);
    assert_eq!(l.movement, 2400.0);
}

#[test]
fn partial_month_is_simulated_pro_rata() {
    // as_of 2027-06-10: June has 30 days, 20 are simulated: 20/30 × 20,000 = 13,333.33
    let p = programme(YEAR_RETRO);
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,240000\n",
        "partners.csv",
    )
    .unwrap();
    let mut a = h1_actuals("A", 20000.0);
    a = a.replace("A,2027-06-15,1,20000\n", "A,2027-06-05,1,5000\n");
    let f = forecast(
        &p,
        &pop,
        &model(""),
        &tx(&a),
        date("2027-06-10"),
        &ForecastOptions {
            scenarios: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(f.months_observed, 5);
    assert!((f.partial_month - 20.0 / 30.0).abs() < 1e-12);
    // 100,000 + 5,000 + 13,333.33 + 120,000 = 238,333.33 → 4% = 9,533.33
    assert_eq!(f.expected_value().value, 9533.33);
}

/// Actual purchases for months `0..months` of the rich population: each partner at its own
/// pace (60%..140% of the model's expectation), by category, two orders a month, 3% returns.
fn rich_actuals(pop: &Population, months: u32) -> String {
    let mut s = String::from("partner_id,date,quantity,revenue,category,order_id\n");
    let season = [
        0.8, 0.85, 1.0, 1.0, 1.05, 1.0, 0.9, 0.85, 1.05, 1.1, 1.15, 1.25,
    ];
    let mean: f64 = season.iter().sum::<f64>() / 12.0;
    for i in 0..pop.len() {
        let pace = 0.6 + 0.8 * ((i * 13) % 17) as f64 / 16.0;
        let base = pop.baseline_revenue[i].unwrap() / 12.0;
        let price = pop.unit_price[i].unwrap();
        for m in 0..months {
            for (j, cat) in pop.categories.iter().enumerate() {
                let rev = base * pace * season[m as usize] / mean * pop.mix_of(i)[j];
                for o in 0..2 {
                    let r = (rev / 2.0 * 100.0).round() / 100.0;
                    let q = (r / price * 100.0).round() / 100.0;
                    s += &format!(
                        "{},2027-{:02}-{:02},{q},{r},{cat},O-{i}-{m}-{o}\n",
                        pop.partner_id[i],
                        m + 1,
                        3 + 10 * o
                    );
                }
                let r = (rev * 0.03 * 100.0).round() / 100.0;
                let q = (r / price * 100.0).round() / 100.0;
                s += &format!(
                    "{},2027-{:02}-25,-{q},-{r},{cat},\n",
                    pop.partner_id[i],
                    m + 1
                );
            }
        }
    }
    s
}

const NOISELESS: &str = r#"
[seasonality]
factors = [0.8, 0.85, 1.0, 1.0, 1.05, 1.0, 0.9, 0.85, 1.05, 1.1, 1.15, 1.25]
[growth]
rate = 0.03
segments = { b = 0.06 }
[returns]
share = 0.03
[orders]
per_month = 3
poisson = false
size_sigma = 0
"#;

/// Settlement of the actuals plus the model's expected purchases after `as_of` (a noiseless
/// model's only scenario, exported as transactions, months from `from_month` on).
fn settle_actuals_plus_expected(
    p: &rebatesim::programme::Compiled,
    pop: &Population,
    actuals: &str,
    from: NaiveDate,
) -> rebatesim::settlement::Settlement {
    let m = model(NOISELESS);
    let ex = export_scenario(p, pop, &m, 1, 0).unwrap();
    let mut text = actuals.to_owned();
    let t = &ex.transactions;
    for r in 0..t.len() {
        if t.date[r] < from {
            continue;
        }
        let cat = t.category_of(r).unwrap_or("");
        let order = t
            .order
            .as_ref()
            .and_then(|o| o[r])
            .map(|k| format!("X{}", &t.order_keys[k as usize]))
            .unwrap_or_default();
        text += &format!(
            "{},{},{},{},{cat},{order}\n",
            t.partner_keys[t.partner_key[r] as usize], t.date[r], t.quantity[r], t.revenue[r]
        );
    }
    let all = Transactions::from_csv_str(&text, "all").unwrap();
    settle(p, &ex.partners, &all).unwrap()
}

#[test]
fn without_noise_the_forecast_is_the_settlement_of_actuals_plus_expected_purchases() {
    let pop = rich_population();
    let actuals = rich_actuals(&pop, 5);
    let m = model(NOISELESS);
    for (budget, exact_partners) in [("10000000", true), ("60000", false)] {
        let p = rich_programme(budget);
        let f = forecast(
            &p,
            &pop,
            &m,
            &tx(&actuals),
            date("2027-05-31"),
            &ForecastOptions {
                scenarios: 2,
                threads: 1,
                ..Default::default()
            },
        )
        .unwrap();
        let s = settle_actuals_plus_expected(&p, &pop, &actuals, date("2027-06-01"));
        let total = s.total.payable.to_f64().unwrap();
        // to the cent but for the per-unit component: the forecast's unit price is each
        // partner's actual units per revenue (the actuals' quantities are rounded to 0.01, so
        // it differs from the model's price the expected purchases use by that rounding)
        assert!(
            (f.total_payout()[0] - total).abs() < 0.25,
            "budget {budget}: forecast {} settlement {total}",
            f.total_payout()[0]
        );
        assert_eq!(f.total_payout()[0], f.total_payout()[1]);
        if exact_partners {
            for (i, id) in f.partner_ids.iter().enumerate() {
                let want = s.by_partner().iter().find(|x| &x.partner_id == id).unwrap();
                let got = f.partner_payout(i)[0];
                assert!(
                    (got - want.totals.payable.to_f64().unwrap()).abs() < 0.05,
                    "{id}: {got} vs {}",
                    want.totals.payable
                );
            }
            // every component's total too
            for (c, id) in f.components.iter().enumerate() {
                let want: f64 = s
                    .lines()
                    .unwrap()
                    .iter()
                    .filter(|l| &l.component == id)
                    .map(|l| l.payable.to_f64().unwrap())
                    .sum();
                assert!(
                    (f.component_payout(c)[0] - want).abs() < 0.005 * 60.0,
                    "{id}"
                );
            }
        } else {
            assert!(s.budget_binding);
            assert_eq!(f.budget_exceedance().unwrap().value, 1.0);
        }
    }
}

/// The rich programme (with `budget`) forecast at 2027-08-12 from seven months of actuals,
/// under the rich model.
fn rich_forecast(budget: &str, opts: &ForecastOptions) -> Forecast {
    let pop = rich_population();
    let p = rich_programme(budget);
    let m = model(RICH_MODEL);
    forecast(
        &p,
        &pop,
        &m,
        &tx(&rich_actuals(&pop, 7)),
        date("2027-08-12"),
        opts,
    )
    .unwrap()
}

fn run(threads: usize, scenarios: usize, prior: Option<&PriorAccruals>) -> Forecast {
    rich_forecast(
        "450000",
        &ForecastOptions {
            scenarios,
            seed: 11,
            threads,
            prior_accruals: prior,
            ..Default::default()
        },
    )
}

#[test]
fn schedules_and_accruals_reconcile_with_the_payout_distribution() {
    let f = run(2, 60, None);
    let mean = f.expected_value().value;
    let cash: f64 = f.cash_schedule().iter().map(|c| c.mean.value).sum();
    assert!(
        (cash - mean).abs() < 1e-6 * mean.max(1.0),
        "{cash} vs {mean}"
    );
    let j = f.journal();
    let est: f64 = j.iter().map(|l| l.estimated_final).sum();
    assert!((est - mean).abs() < 1e-6 * mean.max(1.0), "{est} vs {mean}");
    // per partner and per segment and per component means add up to the total
    let parts: f64 = f.by_partner().iter().map(|r| r.payout.mean.value).sum();
    let segs: f64 = f.by_segment().iter().map(|r| r.payout.mean.value).sum();
    let comps: f64 = f.by_component().iter().map(|r| r.payout.mean.value).sum();
    for x in [parts, segs, comps] {
        assert!((x - mean).abs() < 1e-6 * mean, "{x} vs {mean}");
    }
    // required accruals never exceed the estimate; movements = run rate + catch-up + change
    // in estimate
    for l in &j {
        assert!(l.required <= l.estimated_final + 0.01);
        assert!((l.movement - l.run_rate - l.catch_up - l.change_in_estimate).abs() < 1e-9);
    }
    // cash of closed quarters is certain (Q1 paid on 2027-05-15, Q2 due 2027-08-14)
    let c = f.cash_schedule();
    assert_eq!(c[0].status, "paid");
    assert_eq!(c[1].status, "payable");
    assert_eq!(c[2].status, "forecast");
    assert_eq!(c[0].p5.value, c[0].p95.value);
    assert!(
        c[3].p95.value > c[3].p5.value,
        "{c:?} {:?}",
        f.budget_exceedance()
    );
    let d = f.total_distribution();
    assert!(d.p5.value <= d.p50.value && d.p50.value <= d.p95.value);
    assert!(d.constrained.value >= d.p50.value);
    let b = f.budget_exceedance().unwrap();
    assert!((0.0..=1.0).contains(&b.value));
}

#[test]
fn bit_identical_for_any_number_of_threads() {
    let a = run(1, 40, None);
    for t in [2, 3] {
        let b = run(t, 40, None);
        assert_eq!(a.total_payout(), b.total_payout(), "{t} threads");
        assert_eq!(a.journal(), b.journal());
        assert_eq!(a.watch_list(), b.watch_list());
    }
}

#[test]
fn set_up_on_one_or_two_threads_is_bit_identical() {
    // the actuals are measured (and settled) on the pool the forecast is called from, in
    // blocks whose size depends on its threads: the same forecast from a 1- and a 2-thread pool
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run(1, 20, None))
    };
    let (a, b) = (on(1), on(2));
    assert_eq!(a.total_payout(), b.total_payout());
    assert_eq!(a.journal(), b.journal());
    assert_eq!(a.watch_list(), b.watch_list());
    // compared as text: a partner without scenarios spread has NaN standard errors (NaN != NaN)
    assert_eq!(
        format!("{:?}", a.by_partner()),
        format!("{:?}", b.by_partner())
    );
    assert!(a.journal().iter().any(|l| l.required > 0.0));
}

#[test]
fn a_partner_ahead_of_its_baseline_is_expected_to_stay_ahead() {
    // two identical partners; one bought 30% above its expectation in H1, one 30% below
    let p = programme(YEAR_RETRO);
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nUP,s,240000\nDOWN,s,240000\n",
        "partners.csv",
    )
    .unwrap();
    let m = model("[partner_factor]\nsigma = 0.2\n[noise]\nsigma = 0.1\n");
    let mut a = h1_actuals("UP", 26000.0);
    a += &h1_actuals("DOWN", 14000.0).replace("partner_id,date,quantity,revenue\n", "");
    let f = forecast(
        &p,
        &pop,
        &m,
        &tx(&a),
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: 400,
            seed: 3,
            ..Default::default()
        },
    )
    .unwrap();
    let rows = f.by_partner();
    let (up, down) = (&rows[0], &rows[1]);
    // posterior of the partner factor: 6 months at σE = 0.1 against σP = 0.2 — the shrinkage
    // factor is 6/0.01 / (6/0.01 + 1/0.04) = 0.96: UP's remaining months are expected at about
    // exp(0.96 · ln 1.3) ≈ 1.29 × 20,000: final ≈ 156,000 + 154,000 = 310,000 (4%: ≈ 12,400)
    assert!(
        up.payout.mean.value > 12_000.0 && up.payout.mean.value < 12_800.0,
        "{:?}",
        up.payout.mean
    );
    // DOWN: 84,000 + 6 × ≈ 14,100 ≈ 168,500: tier 1 (2%) ≈ 3,370
    assert!(
        down.payout.mean.value > 3_200.0 && down.payout.mean.value < 3_550.0,
        "{:?}",
        down.payout.mean
    );
    assert_eq!(up.months_observed, Some(6));
}

#[test]
fn a_partner_ordering_every_third_month_keeps_its_pace() {
    // 60,000 in March and June each cover three months of its 20,000-a-month demand: the partner
    // is on its baseline pace (not three times ahead, not churned): about 120,000 + 120,000 by
    // December, tier 2 (4%) ≈ 9,600
    let p = programme(YEAR_RETRO);
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,240000\n",
        "partners.csv",
    )
    .unwrap();
    let a = "partner_id,date,quantity,revenue\nA,2027-03-20,1,60000\nA,2027-06-20,1,60000\n";
    let f = forecast(
        &p,
        &pop,
        &model("[partner_factor]\nsigma = 0.3\n[noise]\nsigma = 0.2\n[market]\nsigma = 0.1\nprocess = \"ar1\"\nrho = 0.7\n[segment_factor]\nsigma = 0.05\n"),
        &tx(a),
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: 200,
            seed: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let r = &f.by_partner()[0];
    assert_eq!(r.churned, Some(false));
    assert!(
        r.payout.mean.value > 9_000.0 && r.payout.mean.value < 10_500.0,
        "{:?}",
        r.payout.mean
    );
    // one purchase in January, then nothing for five months: usual interval 1 month → churned
    let a = "partner_id,date,quantity,revenue\nA,2027-01-20,1,20000\n";
    let f = forecast(
        &p,
        &pop,
        &model(""),
        &tx(a),
        date("2027-06-30"),
        &ForecastOptions::default(),
    )
    .unwrap();
    assert_eq!(f.by_partner()[0].churned, Some(true));
    // ... but one silent month is not enough
    let mut a = h1_actuals("A", 20000.0);
    a = a.replace("A,2027-06-15,1,20000\n", "");
    let f = forecast(
        &p,
        &pop,
        &model(""),
        &tx(&a),
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(f.by_partner()[0].churned, Some(false));
}

#[test]
fn a_partner_without_purchases_since_a_month_is_treated_as_churned() {
    let p = programme(YEAR_RETRO);
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,240000\nB,s,240000\n",
        "partners.csv",
    )
    .unwrap();
    let mut a = h1_actuals("A", 20000.0);
    // B bought in January to March only
    for m in 1..=3 {
        a += &format!("B,2027-{m:02}-15,1,20000\n");
    }
    let f = forecast(
        &p,
        &pop,
        &model("[noise]\nsigma = 0.2\n"),
        &tx(&a),
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: 20,
            ..Default::default()
        },
    )
    .unwrap();
    let rows = f.by_partner();
    assert_eq!(rows[1].churned, Some(true));
    assert_eq!(rows[0].churned, Some(false));
    // B: 60,000, no tier, nothing paid in any scenario
    assert_eq!(rows[1].payout.p95.value, 0.0);
}

fn err(e: Error) -> String {
    e.to_string()
}

#[test]
fn bad_input_names_the_row() {
    let p = programme(YEAR_RETRO);
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,240000\n",
        "partners.csv",
    )
    .unwrap();
    let m = model("");
    let o = ForecastOptions {
        scenarios: 2,
        ..Default::default()
    };
    let go =
        |a: &str, as_of: &str, o: &ForecastOptions| forecast(&p, &pop, &m, &tx(a), date(as_of), o);
    let h = "partner_id,date,quantity,revenue\n";
    let e = err(go(
        &format!("{h}A,2027-01-05,1,10\nA,2027-07-01,1,10\n"),
        "2027-06-30",
        &o,
    )
    .unwrap_err());
    assert_eq!(e, "invalid data: actuals.csv, row 2, column 'date': date 2027-07-01 is after the forecast date 2027-06-30: give actuals up to as_of only");
    let e = err(go(
        &format!("{h}A,2027-01-05,1,10\nZ,2027-02-01,1,10\n"),
        "2027-06-30",
        &o,
    )
    .unwrap_err());
    assert!(
        e.contains("row 2, column 'partner_id': unknown partner 'Z'"),
        "{e}"
    );
    let e = err(go(&format!("{h}A,2026-12-31,1,10\n"), "2027-06-30", &o).unwrap_err());
    assert!(
        e.contains("row 1, column 'date': date 2026-12-31 is outside the programme"),
        "{e}"
    );
    let e = err(go(&format!("{h}A,2027-01-05,1,10\n"), "2028-01-01", &o).unwrap_err());
    assert_eq!(
        e,
        "invalid request: as_of 2028-01-01 is outside the programme (2027-01-01 to 2027-12-31)"
    );
    let e = err(go(&format!("{h}A,2027-01-05,1,10\n"), "2026-06-30", &o).unwrap_err());
    assert!(
        e.contains("as_of 2026-06-30 is outside the programme"),
        "{e}"
    );
    let e = err(go(
        &format!("{h}A,2027-01-05,2,100\nA,2027-02-05,-1,-60\nA,2027-03-05,-1,-60\n"),
        "2027-06-30",
        &o,
    )
    .unwrap_err());
    assert_eq!(e, "invalid data: actuals.csv, row 3, column 'revenue': partner 'A' has a negative cumulative net revenue of -20 on 2027-03-05 after returns: returns exceed the purchases to date");
    // a same-day sale and return are fine
    go(
        &format!("{h}A,2027-01-05,-1,-60\nA,2027-01-05,2,100\n"),
        "2027-06-30",
        &o,
    )
    .unwrap();
    for (text, want) in [
        ("partner_id,component,amount\nA,vol,10\nQ,vol,5\n", "invalid data: prior.csv, row 2, column 'partner_id': unknown partner 'Q' (not in partners.csv)"),
        ("partner_id,component,amount\nA,volume,10\n", "invalid data: prior.csv, row 1, column 'component': unknown component 'volume' (the programme has: vol)"),
        ("partner_id,component,amount\nA,vol,10\nA,vol,5\n", "invalid data: prior.csv, row 2, column 'partner_id': a prior accrual for partner 'A' and component 'vol' is given twice (first in row 1)"),
    ] {
        let pa = PriorAccruals::from_csv_str(text, "prior.csv").unwrap();
        let o = ForecastOptions { scenarios: 2, prior_accruals: Some(&pa), ..Default::default() };
        assert_eq!(err(go(&format!("{h}A,2027-01-05,1,10\n"), "2027-06-30", &o).unwrap_err()), want);
    }
    let e = err(PriorAccruals::from_csv_str(
        "partner_id,component,amount\nA,vol,ten\n",
        "prior.csv",
    )
    .unwrap_err());
    assert_eq!(
        e,
        "invalid data: prior.csv, row 1, column 'amount': expected a number, found \"ten\""
    );
    let e = err(go(
        &format!("{h}A,2027-01-05,1,10\n"),
        "2027-06-30",
        &ForecastOptions {
            confidence: 1.0,
            ..o
        },
    )
    .unwrap_err());
    assert!(e.contains("confidence must be between 0 and 1"), "{e}");
    let e = err(go(
        &format!("{h}A,2027-01-05,1,10\n"),
        "2027-06-30",
        &ForecastOptions { scenarios: 0, ..o },
    )
    .unwrap_err());
    assert!(e.contains("scenarios must be at least 1"), "{e}");
}

#[test]
fn cancel_and_progress() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let p = programme(YEAR_RETRO);
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,240000\n",
        "partners.csv",
    )
    .unwrap();
    let a = tx(&h1_actuals("A", 20000.0));
    let calls = AtomicUsize::new(0);
    let progress = |done: usize, total: usize| {
        assert!(done <= total);
        calls.fetch_add(1, Ordering::Relaxed);
    };
    let f = forecast(
        &p,
        &pop,
        &model("[noise]\nsigma = 0.1\n"),
        &a,
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: 100,
            progress: Some(&progress),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(f.scenarios, 100);
    assert!(calls.load(Ordering::Relaxed) >= 2);
    let stop = AtomicBool::new(true);
    let e = forecast(
        &p,
        &pop,
        &model(""),
        &a,
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: 100,
            cancel: Some(&stop),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::Cancelled));
    let _ = Partners::default();
}

/// Calibration smoke check (the backtest harness does this properly): synthetic years from a
/// model with known parameters, forecast at mid-year, rank of the realised payout.
#[test]
#[ignore]
fn calibration_smoke() {
    let p = programme(
        r#"
name = "Cal"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
segments = ["a", "b"]
[[components]]
id = "vol"
kind = "volume"
measure = "cumulative"
method = "retroactive"
tiers = [{ from = 50000, percent = 1 }, { from = 100000, percent = 2 }, { from = 150000, percent = 3 }]
"#,
    );
    let mut csv = String::from("partner_id,segment,baseline_revenue\n");
    for i in 0..40 {
        csv += &format!(
            "P{i:02},{},{}\n",
            if i % 2 == 0 { "a" } else { "b" },
            60_000 + 3_000 * i
        );
    }
    let pop = Population::from_csv_str(&csv, "p.csv").unwrap();
    let text = std::env::var("CAL_MODEL").unwrap_or_else(|_| "[market]\nsigma = 0.1\nprocess = \"ar1\"\nrho = 0.8\n[segment_factor]\nsigma = 0.08\n[partner_factor]\nsigma = 0.2\n[noise]\nsigma = 0.25\n[churn]\nmonthly_hazard = 0.01\n[returns]\nshare = 0.02\n".into()).replace("\\n", "\n");
    let m = model(&text);
    let years: u64 = std::env::var("CAL_YEARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let (mut in80, mut in90) = (0, 0);
    let mut ranks = Vec::new();
    for y in 0..years {
        let ex = export_scenario(&p, &pop, &m, 1000 + y, 0).unwrap();
        let realised = settle(&p, &ex.partners, &ex.transactions)
            .unwrap()
            .total
            .payable
            .to_f64()
            .unwrap();
        let as_of = date("2027-06-30");
        let t = &ex.transactions;
        let mut text = String::from("partner_id,date,quantity,revenue\n");
        for r in 0..t.len() {
            if t.date[r] <= as_of {
                text += &format!(
                    "{},{},{},{}\n",
                    t.partner_keys[t.partner_key[r] as usize],
                    t.date[r],
                    t.quantity[r],
                    t.revenue[r]
                );
            }
        }
        let f = forecast(
            &p,
            &pop,
            &m,
            &tx(&text),
            as_of,
            &ForecastOptions {
                scenarios: 300,
                seed: 5,
                ..Default::default()
            },
        )
        .unwrap();
        let mut v = f.total_payout().to_vec();
        v.sort_by(f64::total_cmp);
        let rank = v.iter().filter(|&&x| x <= realised).count() as f64 / v.len() as f64;
        ranks.push(rank);
        let q = |p: f64| rebatesim::summary::percentile_sorted(&v, p);
        if realised >= q(0.1) && realised <= q(0.9) {
            in80 += 1;
        }
        if realised >= q(0.05) && realised <= q(0.95) {
            in90 += 1;
        }
    }
    ranks.sort_by(f64::total_cmp);
    let lo = ranks.iter().filter(|&&r| r < 0.2).count();
    let hi = ranks.iter().filter(|&&r| r > 0.8).count();
    let mid = ranks.iter().filter(|&&r| r < 0.5).count();
    eprintln!("80%: {in80}/{years}, 90%: {in90}/{years}, rank<0.2 {lo}, <0.5 {mid}, >0.8 {hi}");
}

/// On the bundled example (partners who order every few months): how many are treated as
/// churned at mid-year, and how often their realised payout falls in the 90% interval.
#[test]
#[ignore]
fn example_mid_year_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/distributor");
    let p = rebatesim::programme::Programme::from_file(root.join("programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let pop = Population::from_csv_path(root.join("partners.csv")).unwrap();
    let m = rebatesim::demand::Model::from_file(root.join("model.toml")).unwrap();
    let all = Transactions::from_csv_path(root.join("transactions.csv")).unwrap();
    let text = std::fs::read_to_string(root.join("transactions.csv")).unwrap();
    let mut h1 = String::new();
    for (k, line) in text.lines().enumerate() {
        if k == 0 || line.split(',').nth(1).unwrap() <= "2027-06-30" {
            h1 += line;
            h1 += "\n";
        }
    }
    let scen: usize = std::env::var("EX_SCENARIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let f = forecast(
        &p,
        &pop,
        &m,
        &tx(&h1),
        date("2027-06-30"),
        &ForecastOptions {
            scenarios: scen,
            seed: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let parts = Partners::from_csv_path(root.join("partners.csv")).unwrap();
    let s = settle(&p, &parts, &all).unwrap();
    let rows = f.by_partner();
    let churned = rows.iter().filter(|r| r.churned == Some(true)).count();
    let mut inside = 0;
    let mut below = 0;
    let realised: std::collections::HashMap<&str, f64> = s
        .by_partner()
        .iter()
        .map(|x| (x.partner_id.as_str(), x.totals.payable.to_f64().unwrap()))
        .collect();
    for r in &rows {
        let act = realised[r.key.as_str()];
        if act >= r.payout.p5.value - 0.01 && act <= r.payout.p95.value + 0.01 {
            inside += 1;
        } else if act < r.payout.p5.value {
            below += 1;
        }
    }
    eprintln!(
        "churned {churned}; partner 90% intervals cover {inside}/{} (realised below {below}); total: forecast mean {:.0} P5 {:.0} P95 {:.0}, realised {}",
        rows.len(),
        f.expected_value().value,
        f.total_distribution().p5.value,
        f.total_distribution().p95.value,
        s.total.payable
    );
}

/// Scale-out: the forecast's scenarios run in ranges (another thread count, the actuals
/// through bytes) and folded from their shards give the local forecast bit for bit; shards
/// that leave a gap or stop short are refused.
#[test]
fn shards_fold_to_the_local_forecast_bit_for_bit() {
    use rebatesim::forecast::{forecast_from_shards, forecast_shard};
    use rebatesim::wire::{transactions_from_bytes, transactions_to_bytes};
    let pop = rich_population();
    let p = rich_programme("450000");
    let m = model(RICH_MODEL);
    let actuals = tx(&rich_actuals(&pop, 7));
    let as_of = date("2027-08-12");
    let opts = ForecastOptions {
        scenarios: 40,
        seed: 11,
        threads: 2,
        ..Default::default()
    };
    let local = forecast(&p, &pop, &m, &actuals, as_of, &opts).unwrap();
    let shipped = transactions_from_bytes(&transactions_to_bytes(&actuals)).unwrap();
    let one = ForecastOptions { threads: 1, ..opts };
    let shards: Vec<Vec<u8>> = [0..3, 3..4, 4..40]
        .into_iter()
        .map(|r| forecast_shard(&p, &pop, &m, &shipped, as_of, &one, r).unwrap())
        .collect();
    let merged = forecast_from_shards(&p, &pop, &m, &actuals, as_of, &opts, &shards).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(merged.total_payout()), bits(local.total_payout()));
    assert_eq!(merged.journal(), local.journal());
    assert_eq!(merged.watch_list(), local.watch_list());
    assert_eq!(
        serde_json::to_string(&merged.report()).unwrap(),
        serde_json::to_string(&local.report()).unwrap()
    );
    let gap = forecast_from_shards(
        &p,
        &pop,
        &m,
        &actuals,
        as_of,
        &opts,
        &[shards[0].clone(), shards[2].clone()],
    );
    assert!(matches!(gap, Err(Error::Request(ref s)) if s.contains("expected scenario 3")));
    let short = forecast_from_shards(&p, &pop, &m, &actuals, as_of, &opts, &shards[..2]);
    assert!(matches!(short, Err(Error::Request(ref s)) if s.contains("cover 4 scenarios")));
}

/// The rich forecast with `draws` parameter draws of the rich model (its noise σ scaled).
fn run_with_draws(threads: usize, scenarios: usize, noise: &[f64]) -> Forecast {
    let m = model(RICH_MODEL);
    let draws: Vec<_> = noise
        .iter()
        .map(|&s| {
            let mut d = m.clone();
            d.noise.sigma = s;
            d
        })
        .collect();
    rich_forecast(
        "1e9",
        &ForecastOptions {
            scenarios,
            seed: 11,
            threads,
            parameter_draws: &draws,
            ..Default::default()
        },
    )
}

#[test]
fn parameter_draws_widen_a_forecast_reproducibly() {
    // identical draws: the model's forecast, bit for bit
    let m = model(RICH_MODEL);
    let same = run_with_draws(1, 30, &[m.noise.sigma, m.noise.sigma]);
    let plain = rich_forecast(
        "1e9",
        &ForecastOptions {
            scenarios: 30,
            seed: 11,
            threads: 1,
            ..Default::default()
        },
    );
    assert_eq!(same.total_payout(), plain.total_payout());
    assert_eq!((same.parameter_draws, plain.parameter_draws), (2, 0));
    // draws far apart: a wider distribution of the year's payout, the same for any threads
    let wide = run_with_draws(1, 60, &[0.02, 0.6]);
    assert_eq!(
        wide.total_payout(),
        run_with_draws(2, 60, &[0.02, 0.6]).total_payout()
    );
    let narrow = run_with_draws(1, 60, &[0.02, 0.02]);
    let sd = |f: &Forecast| f.total_summary().sd.value;
    assert!(
        sd(&wide) > 1.2 * sd(&narrow),
        "{} vs {}",
        sd(&wide),
        sd(&narrow)
    );
}
