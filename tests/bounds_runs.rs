//! Issue 13 §3, runs: no request can crash the process, start threads without bound or
//! exhaust its memory, and long work can be cancelled. A huge scenario count (or precision
//! maximum, chunk size, number of backtest years) is refused with a request error before any
//! allocation; so is a huge thread count; a cancel flag stops simulate, forecast and backtest.

mod common;
use common::*;
use rebatesim::backtest::{run_standard, BacktestOptions, Standard};
use rebatesim::demand::Model;
use rebatesim::engine::{compare, estimate_memory, simulate, Precision, SimOptions, Statistic};
use rebatesim::forecast::{forecast, ForecastOptions};
use rebatesim::population::Population;
use rebatesim::sensitivity::{sensitivity, SensitivityOptions};
use rebatesim::Error;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn simple() -> rebatesim::programme::Compiled {
    programme(
        r#"
name = "Simple"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
[[components]]
id = "vol"
kind = "volume"
tiers = [{ from = 100000, percent = 2 }]
"#,
    )
}

fn pop() -> Population {
    Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,small,120000\nB,large,900000\n",
        "partners.csv",
    )
    .unwrap()
}

fn request(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::Request(m)) => m,
        other => panic!("expected a request error, got {other:?}"),
    }
}

// ------------------------------------------------------------------ the memory guard

#[test]
fn huge_scenario_counts_are_refused_before_any_allocation() {
    let (p, pop, m) = (simple(), pop(), Model::default());
    for n in [
        100_000_000_000_000_000usize,
        1 << 60,
        usize::MAX / 2,
        usize::MAX,
    ] {
        let o = SimOptions {
            scenarios: n,
            ..Default::default()
        };
        let e = request(simulate(&p, &pop, &m, &o));
        assert!(
            e.contains(&format!("{n} scenarios")) && e.contains("above the memory limit"),
            "{e}"
        );
        // the estimate saturates instead of wrapping round to a small number
        assert!(estimate_memory(&p, &pop, &m, &o).unwrap() > o.memory_limit);
        // a huge chunk too
        let o = SimOptions {
            scenarios: 10,
            chunk_size: n,
            ..Default::default()
        };
        assert!(simulate(&p, &pop, &m, &o).is_ok());
        // ... with precision checkpoints, which cut the chunks (no overflow of done + chunk)
        let o = SimOptions {
            chunk_size: n,
            precision: Some(Precision {
                check_every: 3,
                ..Precision::new(Statistic::Mean, 1e-9, 10)
            }),
            ..Default::default()
        };
        let noisy = model("[noise]\nsigma = 0.3\n");
        assert_eq!(simulate(&p, &pop, &noisy, &o).unwrap().scenarios, 10);
        // precision control's maximum
        let o = SimOptions {
            precision: Some(Precision::new(Statistic::Mean, 1.0, n)),
            ..Default::default()
        };
        assert!(request(simulate(&p, &pop, &m, &o)).contains("above the memory limit"));
        // compare keeps every design's results; sensitivity three runs'
        let o = SimOptions {
            scenarios: n,
            ..Default::default()
        };
        assert!(request(compare(&[("a", &p), ("b", &p)], &pop, &m, &o))
            .contains("above the memory limit"));
        let noisy = model("[noise]\nsigma = 0.2\n");
        let so = SensitivityOptions {
            sim: o,
            assumptions: None,
        };
        assert!(request(sensitivity(&p, &pop, &noisy, &so)).contains("above the memory limit"));
        // the forecast's own guard
        let actuals = rebatesim::data::Transactions::from_csv_str(
            "partner_id,date,quantity,revenue\nA,2027-01-15,1,1000\n",
            "actuals.csv",
        )
        .unwrap();
        let fo = ForecastOptions {
            scenarios: n,
            ..Default::default()
        };
        let d = chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
        assert!(request(forecast(&p, &pop, &m, &actuals, d, &fo)).contains("above 4 GB"));
    }
    // the guard is a limit on memory, not on counts: a run that fits still runs
    let o = SimOptions {
        scenarios: 5,
        memory_limit: usize::MAX,
        ..Default::default()
    };
    assert_eq!(simulate(&p, &pop, &m, &o).unwrap().scenarios, 5);
}

#[test]
fn sensitivity_counts_the_three_runs_it_keeps() {
    let (p, pop) = (simple(), pop());
    let noisy = model("[noise]\nsigma = 0.2\n");
    let base = SimOptions {
        scenarios: 50,
        ..Default::default()
    };
    let one = estimate_memory(&p, &pop, &noisy, &base).unwrap();
    let with = |limit: usize| SensitivityOptions {
        sim: SimOptions {
            memory_limit: limit,
            ..base
        },
        assumptions: None,
    };
    // one run fits in 2× its estimate; the base, low and high runs together do not
    assert!(request(sensitivity(&p, &pop, &noisy, &with(2 * one))).contains("memory limit"));
    assert!(sensitivity(&p, &pop, &noisy, &with(3 * one)).is_ok());
}

#[test]
fn huge_backtests_are_refused_before_they_start() {
    let (p, pop, m) = (simple(), pop(), Model::default());
    for (years, scenarios) in [(usize::MAX, 10), (1 << 40, 10), (100, usize::MAX)] {
        for which in [Standard::Prior, Standard::Forecast] {
            let o = BacktestOptions {
                years,
                ..Default::default()
            };
            let e = request(run_standard(&p, &pop, &m, which, scenarios, &o));
            assert!(
                e.contains("above") && e.contains("GB"),
                "{years} {scenarios}: {e}"
            );
        }
    }
}

// ------------------------------------------------------------------ threads

#[test]
fn thread_counts_are_bounded() {
    let (p, pop, m) = (simple(), pop(), Model::default());
    let over = limits_threads() + 1;
    let e = request(simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            threads: Some(1_000_000),
            ..Default::default()
        },
    ));
    assert!(
        e.contains("threads = 1000000 is above the maximum of 1024"),
        "{e}"
    );
    let actuals = rebatesim::data::Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-15,1,1000\n",
        "actuals.csv",
    )
    .unwrap();
    let d = chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
    let e = request(forecast(
        &p,
        &pop,
        &m,
        &actuals,
        d,
        &ForecastOptions {
            threads: over,
            ..Default::default()
        },
    ));
    assert!(e.contains("above the maximum of 1024"), "{e}");
    let e = request(run_standard(
        &p,
        &pop,
        &m,
        Standard::Prior,
        10,
        &BacktestOptions {
            years: 2,
            threads: Some(over),
            ..Default::default()
        },
    ));
    assert!(e.contains("above the maximum of 1024"), "{e}");
    // the maximum itself is allowed (and changes no result)
    let r = |t| {
        simulate(
            &p,
            &pop,
            &model("[noise]\nsigma = 0.3\n"),
            &SimOptions {
                scenarios: 20,
                threads: Some(t),
                ..Default::default()
            },
        )
        .unwrap()
        .payout
    };
    assert_eq!(r(rebatesim::engine::MAX_THREADS), r(1));
}

fn limits_threads() -> usize {
    rebatesim::engine::MAX_THREADS
}

// ------------------------------------------------------------------ cancellation

#[test]
fn a_cancel_flag_stops_simulate_forecast_and_backtest() {
    let (p, pop) = (simple(), pop());
    let m = model("[noise]\nsigma = 0.3\n");
    // set before the run: nothing runs
    let stop = AtomicBool::new(true);
    let o = SimOptions {
        scenarios: 100,
        cancel: Some(&stop),
        ..Default::default()
    };
    assert_eq!(simulate(&p, &pop, &m, &o).unwrap_err(), Error::Cancelled);
    // set during the run (here by the progress callback after the first chunk): the run
    // stops at the next check instead of running its 10,000 scenarios
    let stop = AtomicBool::new(false);
    let calls = AtomicUsize::new(0);
    let progress = |_: usize, _: usize| {
        calls.fetch_add(1, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        true
    };
    let o = SimOptions {
        scenarios: 10_000,
        chunk_size: 8,
        progress: Some(&progress),
        cancel: Some(&stop),
        ..Default::default()
    };
    assert_eq!(simulate(&p, &pop, &m, &o).unwrap_err(), Error::Cancelled);
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    // the forecast
    let actuals = rebatesim::data::Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nA,2027-01-15,1,1000\n",
        "actuals.csv",
    )
    .unwrap();
    let d = chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
    let stop = AtomicBool::new(true);
    let fo = ForecastOptions {
        scenarios: 100,
        cancel: Some(&stop),
        ..Default::default()
    };
    assert_eq!(
        forecast(&p, &pop, &m, &actuals, d, &fo).unwrap_err(),
        Error::Cancelled
    );
    // the backtest (and the forecasts inside it)
    for which in [Standard::Prior, Standard::Forecast] {
        let stop = AtomicBool::new(true);
        let bo = BacktestOptions {
            years: 50,
            cancel: Some(&stop),
            ..Default::default()
        };
        assert_eq!(
            run_standard(&p, &pop, &m, which, 20, &bo).unwrap_err(),
            Error::Cancelled
        );
    }
}
