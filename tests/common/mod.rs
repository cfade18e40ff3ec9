//! Shared helpers of the Rust integration tests (engine, forecast, bounds, money): the
//! fixtures themselves live as files under `tests/fixtures/`, shared with the Python tests.
#![allow(dead_code)]

pub mod recovery;

use rebatesim::demand::Model;
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Format, Programme};

pub fn programme(text: &str) -> Compiled {
    Programme::from_str(text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

pub fn model(text: &str) -> Model {
    Model::from_str(text, Format::Toml, None).unwrap()
}

/// The bundled backtest example (`examples/backtest/`): programme, partners and model.
pub fn backtest_example() -> (Compiled, Population, Model) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/backtest/");
    let p = Programme::from_file(format!("{dir}programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let pop = Population::from_csv_path(format!("{dir}partners.csv")).unwrap();
    let m = Model::from_file(format!("{dir}model.toml")).unwrap();
    (p, pop, m)
}

/// Every `step`-th partner of a partner table's text (its header kept), as a population.
pub fn every_step_partner(text: &str, step: usize) -> Population {
    let mut csv = String::new();
    for (k, line) in text.lines().enumerate() {
        if k == 0 || k % step == 1 {
            csv += line;
            csv += "\n";
        }
    }
    Population::from_csv_str(&csv, "partners.csv").unwrap()
}

/// A programme using every component kind, tier methods, measures, caps, an exclusive group,
/// minimum payout and a budget.
pub fn rich_programme(budget: &str) -> Compiled {
    let text = include_str!("../fixtures/rich/programme.toml");
    assert!(
        text.contains("\nbudget = 250000\n"),
        "the fixture's budget line moved"
    );
    programme(&text.replace("\nbudget = 250000\n", &format!("\nbudget = {budget}\n")))
}

/// 60 partners in two segments with prices, margins and category mixes.
pub fn rich_population() -> Population {
    let mut csv = String::from("partner_id,segment,baseline_revenue,unit_price,margin_rate,mix_tools,mix_parts,mix_service\n");
    for i in 0..60 {
        let seg = if i % 3 == 0 { "b" } else { "a" };
        let base = 60_000.0 + 7_919.0 * ((i * 37) % 53) as f64;
        let price = 20.0 + (i % 7) as f64 * 5.5;
        let t = 0.2 + 0.01 * (i % 30) as f64;
        let p = 0.3;
        csv += &format!("P{i:03},{seg},{base},{price},0.3,{t},{p},{}\n", 1.0 - t - p);
    }
    Population::from_csv_str(&csv, "partners.csv").unwrap()
}

/// Every mechanism of the demand model on.
pub const RICH_MODEL: &str = include_str!("../fixtures/rich/model.toml");

/// Standard normal CDF (Abramowitz and Stegun 7.1.26 for erf, |error| < 1.5e-7).
pub fn phi(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * z.abs());
    let y = 1.0
        - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
            + 0.254829592)
            * t
            * (-z * z).exp();
    let erf = if z >= 0.0 { y } else { -y };
    0.5 * (1.0 + erf)
}

/// Six partners' skipped months (indices into a 24-month history) for the calibration's
/// incidence tests: 0, 2, 4, 6, 1 and 3 months skipped, never the first or the last month.
pub const SIX_PARTNERS_SKIP: [&[usize]; 6] = [
    &[],
    &[3, 9],
    &[1, 2, 10, 20],
    &[4, 5, 6, 7, 8, 9],
    &[22],
    &[11, 12, 13],
];

/// The forecast at `as_of` from the lines that scenario 0 (seed 9) of `on` exports up to
/// `as_of` (with their categories when they have any, and their order ids), run under `on` on
/// one thread and on two (asserted bit for bit equal) and under `off`: the two models' mean
/// total payouts `(on, off)`.
pub fn forecast_means_on_exported_actuals(
    p: &Compiled,
    pop: &Population,
    on: &Model,
    off: &Model,
    as_of: chrono::NaiveDate,
) -> (f64, f64) {
    use rebatesim::forecast::{forecast, ForecastOptions};
    let ex = rebatesim::engine::export_scenario(p, pop, on, 9, 0).unwrap();
    let t = &ex.transactions;
    let cats = (0..t.len()).any(|r| t.category_of(r).is_some());
    let mut text = String::from("partner_id,date,quantity,revenue,");
    text += if cats {
        "category,order_id\n"
    } else {
        "order_id\n"
    };
    for r in (0..t.len()).filter(|&r| t.date[r] <= as_of) {
        let order = t
            .order
            .as_ref()
            .and_then(|o| o[r])
            .map(|k| t.order_keys[k as usize].to_owned());
        let category = if cats {
            format!("{},", t.category_of(r).unwrap_or(""))
        } else {
            String::new()
        };
        text += &format!(
            "{},{},{},{},{category}{}\n",
            t.partner_keys[t.partner_key[r] as usize],
            t.date[r],
            t.quantity[r],
            t.revenue[r],
            order.unwrap_or_default()
        );
    }
    let actuals = rebatesim::data::Transactions::from_csv_str(&text, "actuals").unwrap();
    let run = |m: &Model, threads: usize| {
        let opts = ForecastOptions {
            scenarios: 30,
            seed: 4,
            threads,
            ..Default::default()
        };
        forecast(p, pop, m, &actuals, as_of, &opts).unwrap()
    };
    let (a, b) = (run(on, 1), run(on, 2));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(a.total_payout()), bits(b.total_payout()));
    let other = run(off, 2);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    (mean(a.total_payout()), mean(other.total_payout()))
}
