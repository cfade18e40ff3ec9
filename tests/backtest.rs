//! The backtest harness: truth generation, the market methods on hand-computed cases, the
//! prior forecaster's coverage, reproducibility and bad options. The 500-year coverage and
//! ranking tests of the forecast run over the release build in tests/python/test_backtest.py.

mod common;

use chrono::NaiveDate;
use rebatesim::backtest::{
    actuals_to, market_methods, month_end_date, run, run_standard, truth_year, BacktestOptions,
    Forecaster, MarketKind, MarketMethod, Prediction, PriorForecaster, Standard,
};
use rebatesim::data::Transactions;
use rebatesim::demand::Model;
use rebatesim::engine::{simulate, SimOptions};
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Format, Programme};
use rebatesim::Error;
use rust_decimal::prelude::*;

fn example() -> (Compiled, Population, Model) {
    common::backtest_example()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn truth_years_settle_to_the_engines_payout_to_the_cent() {
    let (p, pop, m) = example();
    let r = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 4,
            seed: 99,
            threads: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    for y in 0..4 {
        let t = truth_year(&p, &pop, &m, 99, y).unwrap();
        let engine = Decimal::from_f64(r.payout[y]).unwrap().round_dp(2);
        assert_eq!(t.payout, engine, "year {y}");
        assert!(t.payout > Decimal::ZERO);
        // 40 partners × 12 months, purchases and returns
        assert!(t.transactions.len() > 900, "{}", t.transactions.len());
    }
}

#[test]
fn actuals_to_keeps_rows_up_to_the_date() {
    let (p, pop, m) = example();
    let t = truth_year(&p, &pop, &m, 5, 0).unwrap();
    let a = actuals_to(&t.transactions, month_end_date(&p, 3));
    assert_eq!(month_end_date(&p, 3), d(2027, 3, 31));
    assert!(!a.is_empty() && a.len() < t.transactions.len());
    assert!(a.date.iter().all(|&x| x <= d(2027, 3, 31)));
    let n = t
        .transactions
        .date
        .iter()
        .filter(|&&x| x <= d(2027, 3, 31))
        .count();
    assert_eq!(a.len(), n);
}

const ONE: &str = r#"
name = "One"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
[[components]]
id = "annual"
kind = "volume"
measure = "cumulative"
method = "retroactive"
tiers = [{ from = 100000, percent = 1 }, { from = 200000, percent = 2 }]
"#;

fn one() -> (Compiled, Population, Model) {
    let p = Programme::from_str(ONE, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap();
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,120000\n",
        "partners",
    )
    .unwrap();
    // flat seasonality, 10% growth goal, 5% returns
    let m = Model::from_str(
        "[growth]\nrate = 0.1\n[returns]\nshare = 0.05\n",
        Format::Toml,
        None,
    )
    .unwrap();
    (p, pop, m)
}

fn predict(f: &dyn Forecaster, tx: &Transactions, as_of: NaiveDate) -> f64 {
    match f.predict(tx, as_of, 0).unwrap() {
        Prediction::Point(x) => x,
        other => panic!("{other:?}"),
    }
}

#[test]
fn market_methods_by_hand() {
    let (p, pop, m) = one();
    // three months to date: 20,000 a month, a return of 1,000 in March
    let tx = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,20000\nA,2027-02-10,1,20000\nA,2027-03-10,1,20000\nA,2027-03-20,-1,-1000\n",
        "actuals",
    )
    .unwrap();
    let as_of = d(2027, 3, 31);
    let ms = market_methods(&p, &pop, &m).unwrap();
    assert_eq!(
        ms.iter().map(|x| x.kind()).collect::<Vec<_>>(),
        [
            MarketKind::CurrentTier,
            MarketKind::RunRate,
            MarketKind::SeasonalNaive
        ]
    );
    // run rate: 59,000 net to date × 12 / 3 = 236,000 ≥ 200,000 → 2% retroactive = 4,720
    assert_eq!(predict(&ms[1], &tx, as_of), 4720.0);
    // seasonal naive: 59,000 + 9 months × 120,000/12 × 1.1 × (1 − 0.05) = 59,000 + 94,050
    // = 153,050 → 1% = 1,530.50
    assert_eq!(predict(&ms[2], &tx, as_of), 1530.5);
    // current tier: 59,000 to date is tier 0 → nothing, whatever the year brings
    assert_eq!(predict(&ms[0], &tx, as_of), 0.0);
    // at the end of June: 119,000 to date = tier 1 (1%); expected full year 119,000 + 6 ×
    // 10,450 = 181,700 → 1,817.00 (tier 1 frozen: 2% is never applied)
    let tx2 = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,20000\nA,2027-02-10,1,20000\nA,2027-03-10,1,20000\nA,2027-03-20,-1,-1000\nA,2027-04-10,1,20000\nA,2027-05-10,1,20000\nA,2027-06-10,1,20000\n",
        "actuals",
    )
    .unwrap();
    let june = d(2027, 6, 30);
    assert_eq!(predict(&ms[0], &tx2, june), 1817.0);
    // run rate at June: 119,000 × 2 = 238,000 → 2% = 4,760; the frozen tier would give 2,380
    assert_eq!(predict(&ms[1], &tx2, june), 4760.0);
    // a larger expected year: current tier stays at its tier while seasonal naive crosses
    let big = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,100000\nA,2027-02-10,1,5000\n",
        "actuals",
    )
    .unwrap();
    let feb = d(2027, 2, 28);
    // 105,000 + 10 × 10,450 = 209,500: seasonal naive 2% = 4,190; current tier 1% = 2,095
    assert_eq!(predict(&ms[2], &big, feb), 4190.0);
    assert_eq!(predict(&ms[0], &big, feb), 2095.0);
    let year = ms[0].projected_year(&big, feb).unwrap();
    assert_eq!(year.len(), 2 + 10 * 2);
    assert_eq!(year.revenue.iter().copied().sum::<Decimal>(), dec("209500"));
}

#[test]
fn frozen_programme_splits_ladders_by_current_tier() {
    let (p, pop, m) = example();
    let t = truth_year(&p, &pop, &m, 3, 1).unwrap();
    let a = actuals_to(&t.transactions, month_end_date(&p, 6));
    let ct = MarketMethod::new(MarketKind::CurrentTier, &p, &pop, &m).unwrap();
    let f = ct.frozen_programme(&a).unwrap();
    // every copy is scoped to partners and keeps the original id as prefix, in order
    let ids: Vec<&str> = f.components.iter().map(|c| c.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    for c in &f.components {
        let base = c.id.split('\u{1}').next().unwrap();
        assert!(p.components.iter().any(|o| o.id == base), "{}", c.id);
        if c.id.contains('\u{1}') {
            let tier: usize = c.id.split('\u{1}').nth(1).unwrap().parse().unwrap();
            match &c.rule {
                rebatesim::programme::Rule::Volume { tiers, .. }
                | rebatesim::programme::Rule::Growth { tiers, .. } => {
                    assert_eq!(tiers.len(), tier)
                }
                _ => panic!(),
            }
            assert!(!c.scope.partners.as_ref().unwrap().is_empty());
        }
    }
    // no partner is in two copies of one ladder
    for o in &p.components {
        let mut seen = std::collections::HashSet::new();
        for c in f
            .components
            .iter()
            .filter(|c| c.id.starts_with(&format!("{}\u{1}", o.id)))
        {
            for id in c.scope.partners.as_ref().unwrap() {
                assert!(seen.insert(id.clone()), "{id} twice in {}", o.id);
            }
        }
    }
}

#[test]
fn prior_forecaster_covers_at_nominal_rates() {
    // the forecast made before the year, on 120 synthetic years from the same model: its
    // intervals cover at their nominal rates (the tight ±4-point test over 500+ years runs on
    // the release build in tests/python/test_backtest.py)
    let (p, pop, m) = example();
    let prior = PriorForecaster::new(&p, &pop, &m, 150);
    let bt = run(
        &p,
        &pop,
        &m,
        &[("prior", &prior)],
        &BacktestOptions {
            years: 120,
            seed: 2027,
            month_ends: Some(&[3, 6, 9]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(bt.years(), 120);
    assert_eq!(bt.has_intervals, vec![true]);
    let cov = bt.coverage();
    assert_eq!(cov.len(), 2 * 4);
    for c in &cov {
        // the prior ignores the actuals: same interval at every month end of a year
        let tol = 3.5 * (c.level * (1.0 - c.level) / c.n as f64).sqrt() + 0.01;
        assert!((c.coverage.value - c.level).abs() < tol, "{c:?}");
        assert!((c.below + c.above + c.coverage.value - 1.0).abs() < 1e-12);
    }
    let e = bt.errors();
    assert_eq!(e.len(), 4);
    assert!(e
        .iter()
        .all(|r| r.mae.value > 0.0 && r.mae.value < 0.5 && r.rmse >= r.mae.value));
    let table = bt.table();
    assert!(
        table.contains("| 2027-03-31 |") && table.contains("| all |"),
        "{table}"
    );
}

#[test]
fn results_do_not_depend_on_threads_and_methods_are_pluggable() {
    let (p, pop, m) = example();
    let prior = PriorForecaster::new(&p, &pop, &m, 50);
    let ms = market_methods(&p, &pop, &m).unwrap();
    // a closure forecaster (here: the number of actual lines to date)
    let lines = |a: &Transactions, _d: NaiveDate, _s: u64| -> rebatesim::Result<Prediction> {
        Ok(Prediction::Point(a.len() as f64))
    };
    let methods: Vec<(&str, &dyn Forecaster)> = vec![
        ("prior", &prior),
        ("current_tier", &ms[0]),
        ("run_rate", &ms[1]),
        ("seasonal_naive", &ms[2]),
        ("lines", &lines),
    ];
    let go = |threads| {
        run(
            &p,
            &pop,
            &m,
            &methods,
            &BacktestOptions {
                years: 6,
                seed: 8,
                month_ends: Some(&[2, 7, 11]),
                threads: Some(threads),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let (a, b) = (go(1), go(3));
    assert_eq!(a.realised, b.realised);
    for k in &a.methods {
        for y in 0..6 {
            for mi in 0..3 {
                assert_eq!(
                    a.estimate(k, y, mi).unwrap().to_bits(),
                    b.estimate(k, y, mi).unwrap().to_bits()
                );
            }
        }
    }
    assert_eq!(a.has_intervals, vec![true, false, false, false, false]);
    assert!(a.estimate("lines", 0, 0).unwrap() < a.estimate("lines", 0, 2).unwrap());
    // late in the year the market methods are close to the realised payout
    for k in ["current_tier", "run_rate", "seasonal_naive"] {
        for y in 0..6 {
            let e = (a.estimate(k, y, 2).unwrap() - a.realised[y]).abs() / a.realised[y];
            assert!(e < 0.25, "{k} year {y}: {e}");
        }
    }
    assert!(a.interval("prior", 0, 0, 0.8).unwrap().is_some());
    assert!(a.interval("run_rate", 0, 0, 0.9).unwrap().is_none());
    assert!(a.paired("prior", "run_rate").unwrap().len() == 4);
}

#[test]
fn bad_options_are_errors() {
    let (p, pop, m) = example();
    let prior = PriorForecaster::new(&p, &pop, &m, 10);
    let e = |o: BacktestOptions, methods: &[(&str, &dyn Forecaster)]| {
        run(&p, &pop, &m, methods, &o).unwrap_err().to_string()
    };
    assert!(e(
        BacktestOptions {
            years: 0,
            ..Default::default()
        },
        &[("prior", &prior)]
    )
    .contains("at least one year"));
    assert!(e(
        BacktestOptions {
            years: 1,
            ..Default::default()
        },
        &[]
    )
    .contains("at least one method"));
    assert!(e(
        BacktestOptions {
            years: 1,
            ..Default::default()
        },
        &[("a", &prior), ("a", &prior)]
    )
    .contains("used twice"));
    assert!(e(
        BacktestOptions {
            years: 1,
            month_ends: Some(&[13]),
            ..Default::default()
        },
        &[("a", &prior)]
    )
    .contains("month end 13"));
    let stop = |_: usize, _: usize| false;
    let r = run(
        &p,
        &pop,
        &m,
        &[("a", &prior)],
        &BacktestOptions {
            years: 3,
            progress: Some(&stop),
            ..Default::default()
        },
    );
    assert!(matches!(r, Err(Error::Cancelled)));
    let failing = |_: &Transactions, _: NaiveDate, _: u64| -> rebatesim::Result<Prediction> {
        Err(Error::Request("no".into()))
    };
    assert!(e(
        BacktestOptions {
            years: 2,
            ..Default::default()
        },
        &[("f", &failing)]
    )
    .contains("no"));
    let bt = run(
        &p,
        &pop,
        &m,
        &[("a", &prior)],
        &BacktestOptions {
            years: 1,
            month_ends: Some(&[6]),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(bt
        .estimate("b", 0, 0)
        .unwrap_err()
        .to_string()
        .contains("unknown method 'b'"));
    assert!(bt
        .interval("a", 0, 0, 0.5)
        .unwrap_err()
        .to_string()
        .contains("0.8 and 0.9"));
}

#[test]
fn forecast_from_actuals_narrows_through_the_year() {
    let (p, pop, m) = example();
    let bt = run_standard(
        &p,
        &pop,
        &m,
        Standard::Forecast,
        40,
        &BacktestOptions {
            years: 8,
            seed: 4,
            month_ends: Some(&[1, 11]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        bt.methods,
        ["forecast", "current_tier", "run_rate", "seasonal_naive"]
    );
    let (mut e1, mut e11) = (0.0, 0.0);
    for y in 0..8 {
        let (lo1, hi1) = bt.interval("forecast", y, 0, 0.9).unwrap().unwrap();
        let (lo11, hi11) = bt.interval("forecast", y, 1, 0.9).unwrap().unwrap();
        assert!(hi11 - lo11 < hi1 - lo1, "year {y}");
        e1 += (bt.estimate("forecast", y, 0).unwrap() - bt.realised[y]).abs();
        e11 += (bt.estimate("forecast", y, 1).unwrap() - bt.realised[y]).abs();
    }
    assert!(e11 < e1, "{e11} {e1}");
    assert!(Standard::parse("oracle")
        .unwrap_err()
        .to_string()
        .contains("'forecast' or 'prior'"));
}

/// Scale-out: years run in ranges, carried as bytes and put together in year order give the
/// whole backtest bit for bit; a range outside the years is refused.
#[test]
fn year_ranges_concat_to_the_whole_backtest_bit_for_bit() {
    use rebatesim::backtest::{run_standard_years, Backtest};
    let (p, pop, m) = example();
    let opts = BacktestOptions {
        years: 5,
        seed: 4,
        month_ends: Some(&[3, 9]),
        threads: Some(2),
        ..Default::default()
    };
    let whole = run_standard(&p, &pop, &m, Standard::Prior, 20, &opts).unwrap();
    let one = BacktestOptions {
        threads: Some(1),
        ..opts
    };
    let parts: Vec<Backtest> = [0..2, 2..3, 3..5]
        .into_iter()
        .map(|r| {
            let b = run_standard_years(&p, &pop, &m, Standard::Prior, 20, &one, r).unwrap();
            Backtest::from_bytes(&b.to_bytes()).unwrap()
        })
        .collect();
    let joined = Backtest::concat(parts).unwrap();
    assert_eq!(joined.years(), 5);
    assert_eq!(joined.table(), whole.table());
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&joined.realised), bits(&whole.realised));
    assert_eq!(joined.has_intervals, whole.has_intervals);
    for k in &whole.methods {
        for y in 0..5 {
            for mi in 0..2 {
                assert_eq!(
                    joined.estimate(k, y, mi).unwrap().to_bits(),
                    whole.estimate(k, y, mi).unwrap().to_bits()
                );
                assert_eq!(
                    joined.interval(k, y, mi, 0.9).unwrap(),
                    whole.interval(k, y, mi, 0.9).unwrap()
                );
            }
        }
    }
    let outside = run_standard_years(&p, &pop, &m, Standard::Prior, 20, &opts, 4..6);
    assert!(matches!(outside, Err(Error::Request(ref s)) if s.contains("not a non-empty range")));
    assert!(Backtest::from_bytes(b"RSBTEST\x01\x00").is_err());
}
