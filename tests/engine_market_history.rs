//! `[market] start = "history"` (session 31): the year's market continues from the baseline
//! year's last log state, relative to the baseline year's mean factor — hand-computed paths in
//! the simulation and the in-year forecast, and bit-identical results across threads.

mod common;
use chrono::NaiveDate;
use common::*;
use rebatesim::data::Transactions;
use rebatesim::engine::{simulate, SimOptions, SimResult};
use rebatesim::forecast::{forecast, ForecastOptions};
use rebatesim::population::Population;

const LN_1_2: f64 = 0.182_321_556_793_954_6;

/// One yearly volume ladder (1% from 100,000).
fn year_programme() -> rebatesim::programme::Compiled {
    programme(
        "name = \"mk\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n\
         [[components]]\nid = \"vol\"\nkind = \"volume\"\nmethod = \"retroactive\"\n\
         tiers = [{ from = 100000, percent = 1 }]\n",
    )
}

/// The baseline year flat at 0 except December at ln 1.2: B = (11 + 1.2)/12.
fn history() -> String {
    format!("[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, {LN_1_2}]")
}

fn run(pop: &Population, model_text: &str, scenarios: usize, threads: usize) -> SimResult {
    simulate(
        &year_programme(),
        pop,
        &model(model_text),
        &SimOptions {
            scenarios,
            seed: 7,
            threads: Some(threads),
            ..Default::default()
        },
    )
    .unwrap()
}

fn one_partner() -> Population {
    Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,s,120000\n",
        "partners.csv",
    )
    .unwrap()
}

#[test]
fn a_random_walk_without_steps_stays_at_the_history_last_level_relative_to_the_baseline_year() {
    // every month at e^{ln 1.2} / B = 1.2 · 12 / 12.2 of 10,000: 141,639.34 a year (lines in
    // cents: a month 11,803.28 → 141,639.36), 1% = 1,416.39
    let m = format!(
        "[market]\nprocess = \"random_walk\"\nstart = \"history\"\nhistory = {}\n",
        history()
    );
    let r = run(&one_partner(), &m, 2, 1);
    assert_eq!(r.revenue.len(), 2);
    for (rev, pay) in r.revenue.iter().zip(&r.payout) {
        assert!((rev - 141_639.36).abs() < 1e-6, "{rev}");
        assert!((pay - 1_416.39).abs() < 0.006, "{pay}");
    }
    // the stationary start ignores the history: the partner buys its level
    let r = run(
        &one_partner(),
        "[market]\nprocess = \"random_walk\"\n",
        1,
        1,
    );
    assert!((r.revenue[0] - 120_000.0).abs() < 1e-6, "{}", r.revenue[0]);
}

/// Month `m`'s factor of an AR(1) at ρ = 0.5 without innovations: 1.2^{0.5^{m+1}} · 12 / 12.2.
fn ar1_factor(m: usize) -> f64 {
    1.2f64.powf(0.5f64.powi(m as i32 + 1)) * 12.0 / 12.2
}

const AR1_NO_STEPS: &str = "[market]\nprocess = \"ar1\"\nrho = 0.5\nstart = \"history\"\n";

#[test]
fn an_ar1_without_innovations_decays_from_the_history_last_state() {
    let m = format!("{AR1_NO_STEPS}history = {}\n", history());
    let r = run(&one_partner(), &m, 1, 1);
    let expected: f64 = (0..12)
        .map(|m| (10_000.0 * ar1_factor(m) * 100.0).round() / 100.0)
        .sum();
    assert!(
        (r.revenue[0] - expected).abs() < 1e-6,
        "{} {expected}",
        r.revenue[0]
    );
}

#[test]
fn the_in_year_forecast_continues_the_same_path_after_the_actuals() {
    // June 30: 60,000 bought (10,000 a month), then July–December at 10,000 · factor(m)
    let m = model(&format!("{AR1_NO_STEPS}history = {}\n", history()));
    let mut a = String::from("partner_id,date,quantity,revenue\n");
    for mo in 1..=6 {
        a += &format!("A,2027-{mo:02}-15,1,10000\n");
    }
    let actuals = Transactions::from_csv_str(&a, "actuals.csv").unwrap();
    let f = forecast(
        &year_programme(),
        &one_partner(),
        &m,
        &actuals,
        NaiveDate::from_ymd_opt(2027, 6, 30).unwrap(),
        &ForecastOptions {
            scenarios: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let rest: f64 = (6..12)
        .map(|m| (10_000.0 * ar1_factor(m) * 100.0).round() / 100.0)
        .sum();
    let l = &f.journal()[0];
    assert!(
        (l.expected_final_volume - (60_000.0 + rest)).abs() < 1e-6,
        "{} {}",
        l.expected_final_volume,
        60_000.0 + rest
    );
}

#[test]
fn bit_identical_across_threads_with_a_history_start() {
    let rich = rich_population();
    let m = RICH_MODEL.replace(
        "rho = 0.8\n",
        "rho = 0.8\nstart = \"history\"\n\
         history = [0.02, -0.05, 0.1, 0.0, 0.03, -0.02, 0.07, 0.12, 0.05, -0.01, 0.04, 0.09]\n",
    );
    assert!(m.contains("start = \"history\""));
    let a = format!("{:?}", run(&rich, &m, 23, 1));
    assert_eq!(a, format!("{:?}", run(&rich, &m, 23, 2)));
    assert_eq!(a, format!("{:?}", run(&rich, &m, 23, 4)));
    assert_ne!(a, format!("{:?}", run(&rich, RICH_MODEL, 23, 1)));
}
