//! The partner table's `demand_revenue` (an annual demand rate apart from the contractual
//! baseline): the engine simulates that level, the rules and settlement keep the baseline,
//! results stay bit-identical across threads, and a table without the column runs as before.

mod common;
use common::*;
use rebatesim::engine::{export_scenario, simulate, SimOptions, SimResult};
use rebatesim::population::Population;
use rebatesim::settlement::settle;
use rust_decimal::prelude::*;

/// One yearly period: a retroactive volume ladder (1% from 100,000) and a growth ladder
/// (2% of the volume when it is at least 50% above the baseline).
fn year_programme() -> rebatesim::programme::Compiled {
    programme(
        "name = \"level\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n\
         [[components]]\nid = \"vol\"\nkind = \"volume\"\nmethod = \"retroactive\"\n\
         tiers = [{ from = 100000, percent = 1 }]\n\
         [[components]]\nid = \"grow\"\nkind = \"growth\"\n\
         tiers = [{ from = 50, percent = 2 }]\n",
    )
}

fn run(pop: &Population, model_text: &str, scenarios: usize, threads: usize) -> SimResult {
    simulate(
        &year_programme(),
        pop,
        &model(model_text),
        &SimOptions {
            scenarios,
            seed: 5,
            threads: Some(threads),
            ..Default::default()
        },
    )
    .unwrap()
}

fn pop(csv: &str) -> Population {
    Population::from_csv_str(csv, "partners.csv").unwrap()
}

#[test]
fn deterministic_demand_is_the_demand_revenue_and_the_rules_keep_the_baseline() {
    // default model: demand is exactly the level, 1/12 a month. A buys at twice its baseline
    // (120,000 against 60,000): volume 1% of 120,000 = 1,200 and growth +100% ≥ 50%, 2% of
    // 120,000 = 2,400. B has no demand_revenue: it buys its baseline, 90,000, below both.
    let p =
        pop("partner_id,segment,baseline_revenue,demand_revenue\nA,s,60000,120000\nB,s,90000,\n");
    let r = run(&p, "", 3, 1);
    for s in 0..3 {
        assert!((r.revenue[s] - 210_000.0).abs() < 1e-6, "{}", r.revenue[s]);
        assert!((r.payout[s] - 3_600.0).abs() < 1e-6, "{}", r.payout[s]);
    }
    // the same partners without the column: A at its baseline, nothing paid
    let before = run(
        &pop("partner_id,segment,baseline_revenue\nA,s,60000\nB,s,90000\n"),
        "",
        3,
        1,
    );
    assert!((before.revenue[0] - 150_000.0).abs() < 1e-6);
    assert_eq!(before.payout[0], 0.0);
    // settlement of the exported scenario uses the contractual baselines (the partner table
    // of the export has A at 60,000) and pays what the engine paid, to the cent
    let ex = export_scenario(&year_programme(), &p, &model(""), 5, 0).unwrap();
    let st = settle(&year_programme(), &ex.partners, &ex.transactions).unwrap();
    assert_eq!(st.total.payable, Decimal::from(3600));
    assert_eq!(
        ex.partners.baseline_revenue[0].map(|d| d.to_f64().unwrap()),
        Some(60_000.0)
    );
}

#[test]
fn a_partner_with_level_twice_its_baseline_simulates_twice_under_every_random_part() {
    // every random part on (market, segment, partner factors, noise, churn; then incidence
    // and returns): the factors multiply the level, so the purchases are exactly
    // twice the baseline run's before rounding to the cent, and each line's cents within one
    let rich = rich_population();
    let mut csv = String::from("partner_id,segment,baseline_revenue,demand_revenue\n");
    let mut csv1 = String::from("partner_id,segment,baseline_revenue\n");
    for i in 0..rich.len() {
        let b = rich.baseline_revenue[i].unwrap();
        csv += &format!(
            "{},{},{b},{}\n",
            rich.partner_id[i],
            rich.segment_name(i),
            2.0 * b
        );
        csv1 += &format!("{},{},{b}\n", rich.partner_id[i], rich.segment_name(i));
    }
    let (two, one) = (pop(&csv), pop(&csv1));
    let m = "[market]\nsigma = 0.1\nprocess = \"ar1\"\nrho = 0.5\n[segment_factor]\nsigma = 0.05\n\
             [partner_factor]\nsigma = 0.2\n[noise]\nsigma = 0.3\n[churn]\nmonthly_hazard = 0.01\n";
    // without returns and incidence the run takes the fast path, with them the general path
    for m in [
        m.to_owned(),
        format!("{m}[incidence]\nprobability = 0.8\n[returns]\nshare = 0.03\n"),
    ] {
        let (a, b) = (run(&two, &m, 40, 1), run(&one, &m, 40, 1));
        let lines = (rich.len() * 12 * 2) as f64; // a purchase and a return line a partner-month
        for s in 0..40 {
            assert!(
                (a.revenue[s] - 2.0 * b.revenue[s]).abs() <= 0.01 * lines,
                "scenario {s}: {} against 2 × {}",
                a.revenue[s],
                b.revenue[s]
            );
        }
        let ratio = a.revenue.iter().sum::<f64>() / b.revenue.iter().sum::<f64>();
        assert!((ratio - 2.0).abs() < 1e-6, "{ratio}");
    }
}

#[test]
fn bit_identical_across_threads_with_demand_revenue() {
    let rich = rich_population();
    let mut csv = String::from("partner_id,segment,baseline_revenue,demand_revenue\n");
    for i in 0..rich.len() {
        let b = rich.baseline_revenue[i].unwrap();
        let d = if i % 3 == 0 {
            String::new()
        } else {
            format!("{}", b * (0.5 + (i % 5) as f64 * 0.4))
        };
        csv += &format!("{},{},{b},{d}\n", rich.partner_id[i], rich.segment_name(i));
    }
    let p = pop(&csv);
    let a = format!("{:?}", run(&p, RICH_MODEL, 23, 1));
    assert_eq!(a, format!("{:?}", run(&p, RICH_MODEL, 23, 2)));
    assert_eq!(a, format!("{:?}", run(&p, RICH_MODEL, 23, 4)));
}

#[test]
fn a_new_partner_with_a_demand_revenue_buys_it_without_baseline_rules() {
    // N has no baseline: without demand_revenue it would buy the segment's median (60,000);
    // with 150,000 it buys that, reaches the volume tier (1,500) and has no growth ladder
    let p = pop("partner_id,segment,baseline_revenue,demand_revenue\nA,s,60000,\nN,s,,150000\n");
    let r = run(&p, "", 2, 1);
    assert!((r.revenue[0] - 210_000.0).abs() < 1e-6, "{}", r.revenue[0]);
    assert!((r.payout[0] - 1_500.0).abs() < 1e-6, "{}", r.payout[0]);
}

#[test]
fn bad_demand_revenue_cells_name_the_row_and_column() {
    for (cell, want) in [
        (
            "-5",
            "expected a finite number ≥ 0 and below 10^15, found -5",
        ),
        ("1e16", "expected a finite number ≥ 0 and below 10^15"),
        ("inf", "expected a finite number ≥ 0"),
        ("NaN", "expected a finite number ≥ 0"),
        ("abc", "expected a number, found \"abc\""),
    ] {
        let e = Population::from_csv_str(
            &format!("partner_id,segment,baseline_revenue,demand_revenue\nA,s,1,2\nB,s,1,{cell}\n"),
            "t.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("t.csv, row 2, column 'demand_revenue': "), "{e}");
        assert!(e.contains(want), "{cell}: {e}");
    }
}
