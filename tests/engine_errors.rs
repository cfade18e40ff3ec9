//! Every bad request or model input gives a clear error naming what and where.

mod common;
use common::*;
use rebatesim::demand::Model;
use rebatesim::engine::{compare, estimate_memory, simulate, Precision, SimOptions, Statistic};
use rebatesim::population::{Population, SyntheticSegment, SyntheticSpec};
use rebatesim::Error;

fn simple() -> rebatesim::programme::Compiled {
    programme(
        r#"
name = "Simple"
currency = "EUR"
start = 2027-01-01
period = "year"
periods = 1
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

fn message(e: Error) -> String {
    e.to_string()
}

#[test]
fn bad_options() {
    let (p, pop, m) = (simple(), pop(), Model::default());
    let err = |o: SimOptions| message(simulate(&p, &pop, &m, &o).unwrap_err());
    assert!(err(SimOptions {
        scenarios: 0,
        ..Default::default()
    })
    .contains("scenarios must be at least 1"));
    assert!(err(SimOptions {
        threads: Some(0),
        ..Default::default()
    })
    .contains("threads must be at least 1"));
    assert!(err(SimOptions {
        chunk_size: 0,
        ..Default::default()
    })
    .contains("chunk_size"));
    let prec = |statistic, tolerance| {
        Some(Precision {
            statistic,
            tolerance,
            max_scenarios: 100,
            check_every: 10,
        })
    };
    assert!(err(SimOptions {
        precision: prec(Statistic::Mean, 0.0),
        ..Default::default()
    })
    .contains("tolerance"));
    assert!(err(SimOptions {
        precision: prec(Statistic::Percentile(1.5), 1.0),
        ..Default::default()
    })
    .contains("percentile"));
    let e = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 1_000_000,
            memory_limit: 10_000_000,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::Request(_)));
    assert!(message(e).contains("memory limit"));
}

#[test]
fn a_hundred_thousand_partners_times_ten_thousand_scenarios_fits() {
    let mut spec = SyntheticSpec::default();
    spec.segments.insert(
        "s".into(),
        SyntheticSegment {
            count: 100_000,
            median_baseline: 1e5,
            dispersion: 0.5,
            unit_price: None,
            margin_rate: None,
        },
    );
    let pop = Population::synthetic(&spec, 1).unwrap();
    let bytes = estimate_memory(
        &simple(),
        &pop,
        &Model::default(),
        &SimOptions {
            scenarios: 10_000,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(bytes < 500_000_000, "{bytes}");
}

#[test]
fn cancelled_by_the_progress_callback() {
    let (p, pop, m) = (simple(), pop(), Model::default());
    let calls = std::sync::Mutex::new(Vec::new());
    let cb = |done: usize, total: usize| {
        calls.lock().unwrap().push((done, total));
        done < 20
    };
    let e = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 100,
            chunk_size: 10,
            progress: Some(&cb),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e, Error::Cancelled);
    assert_eq!(*calls.lock().unwrap(), vec![(10, 100), (20, 100)]);
}

#[test]
fn model_and_population_mismatches() {
    let p = simple();
    let opts = SimOptions {
        scenarios: 2,
        ..Default::default()
    };
    // a model override for a segment the population lacks
    let m = model("[noise]\nsegments = { medium = 0.2 }\n");
    let e = message(simulate(&p, &pop(), &m, &opts).unwrap_err());
    assert!(
        e.contains("noise.segments.medium") && e.contains("not a segment of the population"),
        "{e}"
    );
    // a model built in code with a bad value is still checked
    let mut bad = Model::default();
    bad.churn.monthly_hazard = 1.5;
    let e = message(simulate(&p, &pop(), &bad, &opts).unwrap_err());
    assert!(e.contains("churn.monthly_hazard"), "{e}");
    // the programme declares segments the population does not use
    let declared = programme("name = \"D\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\nsegments = [\"small\"]\n[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 1, percent = 1 }]\n");
    let e = message(simulate(&declared, &pop(), &Model::default(), &opts).unwrap_err());
    assert!(
        e.contains("partners.csv, row 2, column 'segment'") && e.contains("'large'"),
        "{e}"
    );
}

#[test]
fn missing_prices_and_category_shares() {
    let opts = SimOptions {
        scenarios: 2,
        ..Default::default()
    };
    let units = programme("name = \"U\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n[[components]]\nid = \"u\"\nkind = \"per_unit\"\namount = 1\n");
    let e = message(simulate(&units, &pop(), &Model::default(), &opts).unwrap_err());
    assert!(
        e.contains("economics.unit_price") && e.contains("component 'u' measures units"),
        "{e}"
    );
    assert!(simulate(
        &units,
        &pop(),
        &model("[economics]\nunit_price = 10\n"),
        &opts
    )
    .is_ok());
    let cats = programme("name = \"C\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\ncategories = [\"a\", \"b\"]\n[[components]]\nid = \"v\"\nkind = \"volume\"\ncategories = [\"a\"]\ntiers = [{ from = 1, percent = 1 }]\n");
    let e = message(simulate(&cats, &pop(), &Model::default(), &opts).unwrap_err());
    assert!(
        e.contains("economics.category_mix") && e.contains("mix_<category>"),
        "{e}"
    );
    let e = message(
        simulate(
            &cats,
            &pop(),
            &model("[economics]\ncategory_mix = { b = 1 }\n"),
            &opts,
        )
        .unwrap_err(),
    );
    assert!(e.contains("component 'v' uses category 'a'"), "{e}");
    assert!(simulate(
        &cats,
        &pop(),
        &model("[economics]\ncategory_mix = { a = 0.4, b = 0.6 }\n"),
        &opts
    )
    .is_ok());
    // only units in the table and no price anywhere
    let only_units =
        Population::from_csv_str("partner_id,segment,baseline_units\nA,s,100\n", "p.csv").unwrap();
    let e = message(simulate(&simple(), &only_units, &Model::default(), &opts).unwrap_err());
    assert!(e.contains("p.csv, row 1, column 'unit_price'"), "{e}");
}

#[test]
fn compare_needs_two_distinct_designs() {
    let (p, pop, m) = (simple(), pop(), Model::default());
    let opts = SimOptions {
        scenarios: 2,
        ..Default::default()
    };
    assert!(message(compare(&[("a", &p)], &pop, &m, &opts).unwrap_err())
        .contains("at least two designs"));
    assert!(
        message(compare(&[("a", &p), ("a", &p)], &pop, &m, &opts).unwrap_err())
            .contains("used twice")
    );
}
