//! The engine against settlement (to the cent), against closed forms, and its reproducibility.

mod common;
use common::*;
use rebatesim::engine::{compare, export_scenario, simulate, Precision, SimOptions, Statistic};
use rebatesim::population::{Population, SyntheticSegment, SyntheticSpec};
use rebatesim::settlement::settle;
use rust_decimal::prelude::*;

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

fn check_agreement(budget: &str, model_text: &str, scenario: u64) -> (usize, bool) {
    agreement_on(
        &rich_programme(budget),
        &rich_population(),
        model_text,
        scenario,
    )
    .0
}

/// The engine's lines of `scenario` settled exactly, line by line to the cent, and the
/// engine's own total; (lines, budget binding) and the settlement.
fn agreement_on(
    p: &rebatesim::programme::Compiled,
    pop: &Population,
    model_text: &str,
    scenario: u64,
) -> ((usize, bool), rebatesim::settlement::Settlement) {
    let (p, pop) = (p.clone(), pop.clone());
    let model = model(model_text);
    let ex = export_scenario(&p, &pop, &model, 11, scenario).unwrap();
    assert!(
        ex.transactions.len() > 1000,
        "{} lines",
        ex.transactions.len()
    );
    let st = settle(&p, &ex.partners, &ex.transactions).unwrap();
    assert_eq!(st.line_count(), ex.lines.len());
    for (a, b) in st.lines().unwrap().iter().zip(&ex.lines) {
        assert_eq!(
            (&a.partner_id, &a.component, a.period),
            (&b.partner_id, &b.component, b.period)
        );
        let exact = (a.payable * Decimal::ONE_HUNDRED).to_i64().unwrap();
        assert_eq!(
            exact,
            cents(b.payable),
            "{} {} period {}: settlement {} engine {}",
            a.partner_id,
            a.component,
            a.period,
            a.payable,
            b.payable
        );
    }
    // the engine's own simulation of that scenario pays the same total
    let r = simulate(
        &p,
        &pop,
        &model,
        &SimOptions {
            scenarios: scenario as usize + 1,
            seed: 11,
            threads: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let total: i64 = st
        .lines()
        .unwrap()
        .iter()
        .map(|l| (l.payable * Decimal::ONE_HUNDRED).to_i64().unwrap())
        .sum();
    assert!(
        (r.payout[scenario as usize] * 100.0 - total as f64).abs()
            < 1.0 + 1e-6 * total.abs() as f64,
        "{} vs {}",
        r.payout[scenario as usize],
        total
    );
    ((st.line_count(), st.budget_binding), st)
}

/// The rich population with prior-year baselines per month (a seasonal profile that differs
/// from the model's): revenue months for every partner (the annual column kept, agreeing to
/// its whole units), units months alone for every other partner (the rest derive theirs
/// from the revenue months at their unit price).
fn seasonal_population() -> Population {
    const SHARE: [f64; 12] = [
        0.04, 0.05, 0.07, 0.10, 0.12, 0.13, 0.11, 0.09, 0.08, 0.08, 0.07, 0.06,
    ];
    let mut csv = String::from("partner_id,segment,baseline_revenue,unit_price,margin_rate,mix_tools,mix_parts,mix_service");
    for b in ["baseline_revenue", "baseline_units"] {
        for m in 1..=12 {
            csv += &format!(",{b}_m{m:02}");
        }
    }
    csv += "\n";
    for i in 0..60 {
        let seg = if i % 3 == 0 { "b" } else { "a" };
        let base = 60_000.0 + 7_919.0 * ((i * 37) % 53) as f64;
        let price = 20.0 + (i % 7) as f64 * 5.5;
        let t = 0.2 + 0.01 * (i % 30) as f64;
        csv += &format!("P{i:03},{seg},{base},{price},0.3,{t},0.3,{}", 0.7 - t);
        // the months (2 decimals) sum to the annual baseline within 12 × 0.005
        let tilt = 1.0 + 0.02 * (i % 5) as f64 - 0.04;
        let mut months: Vec<f64> = SHARE
            .iter()
            .enumerate()
            .map(|(j, s)| s * if j < 6 { tilt } else { 2.0 - tilt })
            .collect();
        let sum: f64 = months.iter().sum();
        months
            .iter_mut()
            .for_each(|m| *m = (*m / sum * base * 100.0).round() / 100.0);
        for m in &months {
            csv += &format!(",{m:.2}");
        }
        for m in &months {
            if i % 2 == 0 {
                csv += &format!(",{:.2}", m / price);
            } else {
                csv += ",";
            }
        }
        csv += "\n";
    }
    Population::from_csv_str(&csv, "partners.csv").unwrap()
}

#[test]
fn settlement_agrees_to_the_cent_with_monthly_baselines() {
    // the rich programme plus a quarterly growth ladder and units above the quarter's baseline
    let text = include_str!("fixtures/rich/programme.toml").to_owned()
        + r#"
[[components]]
id = "growth_q"
kind = "growth"
applies_to = "growth"
tiers = [{ from = 0, percent = 3 }, { from = 10, percent = 5 }]

[[components]]
id = "units_above"
kind = "per_unit"
amount = 0.25
above = "baseline"
"#;
    let p = programme(&text.replace("\nbudget = 250000\n", "\nbudget = 10000000\n"));
    let pop = seasonal_population();
    assert!(pop.baseline_revenue_months.iter().all(Option::is_some));
    for scenario in [0, 3] {
        let (_, st) = agreement_on(&p, &pop, RICH_MODEL, scenario);
        // the per-period baselines decide: some quarters grow, some do not, and the words say so
        let growth: Vec<_> = st
            .lines()
            .unwrap()
            .into_iter()
            .filter(|l| l.component == "growth_q")
            .collect();
        assert!(growth.iter().any(|l| l.calculated > Decimal::ZERO));
        assert!(growth.iter().any(|l| l.calculated == Decimal::ZERO));
        let e = st.explain("P000").unwrap();
        assert!(e.contains("prior-year Q2 baseline of"), "{e}");
        assert!(e.contains("above the prior-year Q3 baseline of"), "{e}");
    }
}

#[test]
fn settlement_agrees_to_the_cent_on_every_line() {
    for scenario in [0, 3] {
        let (_, binding) = check_agreement("10000000", RICH_MODEL, scenario);
        assert!(!binding);
    }
}

#[test]
fn settlement_agrees_to_the_cent_with_months_without_purchases() {
    // purchase incidence: whole months without lines, the others scaled up
    let model = format!("{RICH_MODEL}\n[incidence]\nprobability = 0.6\nsegments = {{ b = 0.4 }}\n");
    check_agreement("10000000", &model, 2);
    let transactions = |text: &str| {
        export_scenario(
            &rich_programme("10000000"),
            &rich_population(),
            &common::model(text),
            11,
            2,
        )
        .unwrap()
        .transactions
        .len()
    };
    let (skipping, every) = (transactions(&model), transactions(RICH_MODEL));
    assert!(
        (skipping as f64) < 0.75 * every as f64,
        "{skipping} transaction lines with incidence, {every} without"
    );
}

/// Logistics components of different, overlapping scopes: each order group's total is split
/// over the orders and the exported order lines are rounded with those margins, so settlement
/// of the lines measures every component's orders as the engine did.
#[test]
fn settlement_agrees_to_the_cent_with_logistics_of_different_scopes() {
    let text = include_str!("fixtures/rich/programme.toml").replace("\nbudget = 250000\n", "\nbudget = 10000000\n")
        + "\n[[components]]\nid = \"parts_pallet\"\nkind = \"logistics\"\ncategories = [\"parts\"]\nmin_quantity = 15\npercent = 2\n\
           \n[[components]]\nid = \"kit_box\"\nkind = \"logistics\"\ncategories = [\"tools\", \"parts\"]\nmin_quantity = 25\nper_order = 3\n";
    let p = programme(&text);
    for scenario in [0, 2] {
        let (_, st) = agreement_on(&p, &rich_population(), RICH_MODEL, scenario);
        for id in ["pallet", "parts_pallet", "kit_box"] {
            assert!(
                st.lines()
                    .unwrap()
                    .iter()
                    .any(|l| l.component == id && l.payable > Decimal::ZERO),
                "{id} pays nothing in scenario {scenario}"
            );
        }
    }
}

#[test]
fn settlement_agrees_to_the_cent_with_categories_per_order() {
    // each order carries a few of the partner's categories (segment b one each), the stretch
    // purchases spread over the month's orders, logistics measured on each order's own lines
    assert!(
        RICH_MODEL.contains("size_sigma = 0.6\n"),
        "the fixture's orders moved"
    );
    let model = RICH_MODEL.replace(
        "size_sigma = 0.6\n",
        "size_sigma = 0.6\ncategories_per_order = 1.4\ncategories_per_order_segments = { b = 1 }\n",
    );
    for scenario in [0, 2] {
        check_agreement("10000000", &model, scenario);
    }
    check_agreement("20000", &model, 1);
    let bundle = |text: &str| {
        let r = simulate(
            &rich_programme("10000000"),
            &rich_population(),
            &common::model(text),
            &SimOptions {
                scenarios: 20,
                seed: 4,
                ..Default::default()
            },
        )
        .unwrap();
        r.component_payout_of("bundle").unwrap().iter().sum::<f64>()
    };
    assert!(
        bundle(&model) < bundle(RICH_MODEL),
        "the bundle pays less when a quarter can miss a category"
    );
}

#[test]
fn settlement_agrees_to_the_cent_with_orders_that_grow_with_size() {
    // orders a month by the partner's level (the fixture's levels 5,000 to 39,000 a month:
    // about 1 to 9 times the reference's per_month orders), with and without categories per order
    assert!(
        RICH_MODEL.contains("size_sigma = 0.6\n"),
        "the fixture's orders moved"
    );
    let law = "size_sigma = 0.6\nsize_elasticity = 0.8\nsize_reference = 8000\n";
    let model = RICH_MODEL.replace("size_sigma = 0.6\n", law);
    check_agreement("10000000", &model, 1);
    let with_categories = RICH_MODEL.replace(
        "size_sigma = 0.6\n",
        &format!("{law}categories_per_order = 1.4\n"),
    );
    check_agreement("10000000", &with_categories, 0);
    check_agreement("20000", &with_categories, 2);
    let orders = |text: &str| {
        let tx = export_scenario(
            &rich_programme("10000000"),
            &rich_population(),
            &common::model(text),
            11,
            1,
        )
        .unwrap()
        .transactions;
        tx.order_keys.len()
    };
    assert!(
        orders(&model) > orders(RICH_MODEL),
        "larger partners order more often"
    );
}

#[test]
fn settlement_agrees_to_the_cent_with_category_prices() {
    // each category's lines counted at its own price (the partner's units per revenue kept)
    let model = format!(
        "{RICH_MODEL}\n[economics.category_prices]\ntools = 80\nparts = 12.5\nservice = 31\n"
    );
    check_agreement("10000000", &model, 1);
}

#[test]
fn category_prices_split_a_partners_units_by_category() {
    use rebatesim::programme::Format;
    let p = programme(
        r#"
name = "Units"
currency = "EUR"
start = 2027-01-01
period = "year"
periods = 1
categories = ["tools", "parts"]
[[components]]
id = "tools"
kind = "per_unit"
categories = ["tools"]
amount = 1
[[components]]
id = "parts"
kind = "per_unit"
categories = ["parts"]
amount = 1
"#,
    );
    let pop = rebatesim::population::Population::from_csv_str(
        "partner_id,segment,baseline_revenue,unit_price,mix_tools,mix_parts\nP1,a,120000,20,0.5,0.5\n",
        "partners.csv",
    )
    .unwrap();
    let run = |extra: &str| {
        let m = rebatesim::demand::Model::from_str(extra, Format::Toml, None).unwrap();
        simulate(
            &p,
            &pop,
            &m,
            &SimOptions {
                scenarios: 1,
                seed: 1,
                ..Default::default()
            },
        )
        .unwrap()
    };
    // by hand: 60,000 of each category. At the partner's price (20) 3,000 units each; with
    // tools at 60 and parts at 15 (units per revenue 1/60 and 1/15, mean 1/24), the partner's
    // units per revenue 1/20 are split 20/24·... : tools 60,000 / 60 · (24 / 20) = 1,200 units,
    // parts 60,000 / 15 · (24 / 20) = 4,800 units; 6,000 in all, as before
    let flat = run("");
    let priced = run("[economics.category_prices]\ntools = 60\nparts = 15\n");
    let per = |r: &rebatesim::engine::SimResult, c: usize| {
        let names = ["tools", "parts"];
        let at = r.components.iter().position(|x| x == names[c]).unwrap();
        r.component_payout[at]
    };
    assert!(
        (per(&flat, 0) - 3000.0).abs() < 1.0 && (per(&flat, 1) - 3000.0).abs() < 1.0,
        "{:?}",
        flat.component_payout
    );
    assert!(
        (per(&priced, 0) - 1200.0).abs() < 1.0,
        "{:?}",
        priced.component_payout
    );
    assert!(
        (per(&priced, 1) - 4800.0).abs() < 1.0,
        "{:?}",
        priced.component_payout
    );
    // a price for a category the run does not have, or a category without a price, is an error
    let m = rebatesim::demand::Model::from_str(
        "[economics.category_prices]\ntools = 60\nbolts = 3\n",
        Format::Toml,
        None,
    )
    .unwrap();
    let e = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 1,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("economics.category_prices.bolts") && e.contains("known: tools, parts"),
        "{e}"
    );
    let m = rebatesim::demand::Model::from_str(
        "[economics.category_prices]\ntools = 60\n",
        Format::Toml,
        None,
    )
    .unwrap();
    let e = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 1,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("category 'parts' has no price"), "{e}");
    let e = rebatesim::demand::Model::from_str(
        "[economics.category_prices]\ntools = -1\n",
        Format::Toml,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("economics.category_prices.tools: expected a price"),
        "{e}"
    );
}

#[test]
fn settlement_agrees_to_the_cent_when_the_budget_binds() {
    let (_, binding) = check_agreement("20000", RICH_MODEL, 1);
    assert!(binding, "the budget was meant to bind");
}

#[test]
fn without_noise_the_simulation_is_the_settlement_of_expected_purchases() {
    let p = programme(
        r#"
name = "Plain"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
budget = 10000000
[[components]]
id = "q"
kind = "volume"
method = "incremental"
tiers = [{ from = 20000, percent = 1 }, { from = 40000, percent = 2 }]
[[components]]
id = "y"
kind = "volume"
measure = "cumulative"
tiers = [{ from = 150000, percent = 1.5 }, { from = 250000, percent = 2.5 }]
[[components]]
id = "g"
kind = "growth"
tiers = [{ from = 2, percent = 1 }]
"#,
    );
    let mut csv = String::from("partner_id,segment,baseline_revenue\n");
    for i in 0..40 {
        // to the cent: settlement's tables take at most 6 decimal places (59871.369999999995 is
        // refused), so the baselines are written as the amounts they stand for
        csv += &format!("P{i:02},s,{:.2}\n", 50_000.0 + 9_871.37 * i as f64);
    }
    let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
    let season = [
        0.8, 0.85, 1.0, 1.0, 1.05, 1.0, 0.9, 0.85, 1.05, 1.1, 1.15, 1.25,
    ];
    let m = model(&format!(
        "[seasonality]\nfactors = {season:?}\n[growth]\nrate = 0.03\n[returns]\nshare = 0.02\n"
    ));
    let r = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 3,
            seed: 5,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r.payout.iter().all(|&x| x == r.payout[0]));
    // the expected purchases, written out by hand: baseline / 12 × normalised seasonality ×
    // growth from the baseline year's middle, one line a month, returns 2% of it
    let mean = season.iter().sum::<f64>() / 12.0;
    let mut tx = String::from("partner_id,date,quantity,revenue\n");
    let mut revenue = 0.0;
    for (i, b) in pop.baseline_revenue.iter().enumerate() {
        for (mo, s) in season.iter().enumerate() {
            let line =
                (b.unwrap() / 12.0 * s / mean * 1.03f64.powf((mo as f64 + 6.5) / 12.0) * 100.0)
                    .round()
                    / 100.0;
            let ret = (line * 0.02 * 100.0).round() / 100.0;
            tx += &format!(
                "P{i:02},2027-{:02}-01,0,{line:.2}\nP{i:02},2027-{:02}-01,0,-{ret:.2}\n",
                mo + 1,
                mo + 1
            );
            revenue += line - ret;
        }
    }
    let partners = rebatesim::data::Partners::from_csv_str(&csv, "partners.csv").unwrap();
    let tx = rebatesim::data::Transactions::from_csv_str(&tx, "expected.csv").unwrap();
    let st = settle(&p, &partners, &tx).unwrap();
    let total = st.total.payable.to_f64().unwrap();
    assert!(total > 10_000.0);
    assert_eq!(
        cents(r.payout[0]),
        cents(total),
        "{} vs {}",
        r.payout[0],
        total
    );
    assert_eq!(cents(r.revenue[0]), cents(revenue));
    // per partner too
    for (i, pt) in st.partners.iter().enumerate() {
        let j = pop
            .partner_id
            .iter()
            .position(|x| *x == pt.partner_id)
            .unwrap();
        let _ = i;
        assert_eq!(
            cents(r.partner_expected_payout[j]),
            cents(pt.totals.payable.to_f64().unwrap())
        );
    }
}

#[test]
fn bit_identical_for_any_threads_and_chunking() {
    let p = rich_programme("300000");
    let pop = rich_population();
    let m = model(RICH_MODEL);
    let run = |threads, chunk| {
        let r = simulate(
            &p,
            &pop,
            &m,
            &SimOptions {
                scenarios: 37,
                seed: 99,
                threads: Some(threads),
                chunk_size: chunk,
                ..Default::default()
            },
        )
        .unwrap();
        format!("{r:?}")
    };
    let a = run(1, 64);
    assert_eq!(a, run(2, 5));
    assert_eq!(a, run(4, 1));
    assert_eq!(a, run(3, 37));
    // a different seed gives different results
    let r = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 37,
            seed: 100,
            ..Default::default()
        },
    )
    .unwrap();
    assert_ne!(a, format!("{r:?}"));
}

#[test]
fn precision_control_stops_at_the_same_place_for_any_chunking() {
    let p = rich_programme("10000000");
    let pop = rich_population();
    let m = model(RICH_MODEL);
    let prec = Precision {
        statistic: Statistic::Mean,
        tolerance: 2_000.0,
        max_scenarios: 2000,
        check_every: 50,
    };
    let a = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            precision: Some(prec),
            chunk_size: 7,
            threads: Some(2),
            ..Default::default()
        },
    )
    .unwrap();
    let b = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            precision: Some(prec),
            chunk_size: 64,
            threads: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(a.precision_met, Some(true));
    assert_eq!(a.scenarios % 50, 0);
    assert!(a.payout_summary().mean.se <= 2_000.0);
    // an unreachable tolerance runs to the maximum
    let prec = Precision {
        statistic: Statistic::Mean,
        tolerance: 1e-9,
        max_scenarios: 120,
        check_every: 50,
    };
    let c = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            precision: Some(prec),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(c.scenarios, 120);
    assert_eq!(c.precision_met, Some(false));
}

#[test]
fn common_random_numbers_across_designs() {
    let pop = rich_population();
    let m = model("[market]\nsigma = 0.1\n[noise]\nsigma = 0.3\n[economics]\nmargin_rate = 0.3\n");
    let a = rich_programme("10000000");
    let b = programme(
        r#"
name = "B"
currency = "EUR"
start = 2027-01-01
period = "year"
periods = 1
[[components]]
id = "vol"
kind = "volume"
tiers = [{ from = 100000, percent = 2 }, { from = 200000, percent = 3 }]
"#,
    );
    let opts = SimOptions {
        scenarios: 200,
        seed: 3,
        ..Default::default()
    };
    let c = compare(&[("rich", &a), ("simple", &b)], &pop, &m, &opts).unwrap();
    // no behaviour: the demand is identical under both designs
    assert_eq!(c.results[0].revenue, c.results[1].revenue);
    let d = &c.differences[0];
    assert_eq!(d.revenue.mean.value, 0.0);
    let diff: Vec<f64> = c.results[0]
        .payout
        .iter()
        .zip(&c.results[1].payout)
        .map(|(x, y)| y - x)
        .collect();
    assert_eq!(d.payout.mean.value, rebatesim::summary::mean(&diff).value);
    // pairing: the SE of the difference is far below that of independent runs
    let sa = c.results[0].payout_summary().mean.se;
    let sb = c.results[1].payout_summary().mean.se;
    assert!(
        d.payout.mean.se < 0.5 * (sa * sa + sb * sb).sqrt(),
        "{} vs {sa} {sb}",
        d.payout.mean.se
    );
    // and each design run alone gives the same result as in the comparison
    let alone = simulate(&b, &pop, &m, &opts).unwrap();
    assert_eq!(format!("{alone:?}"), format!("{:?}", c.results[1]));
}

#[test]
fn single_period_lognormal_demand_reaches_tiers_with_the_closed_form_probability() {
    // V = B · exp(σZ − σ²/2) (persistent partner factor, no other noise): P(V ≥ t) = Φ((ln(B/t) − σ²/2)/σ)
    let mut spec = SyntheticSpec::default();
    spec.segments.insert(
        "all".into(),
        SyntheticSegment {
            count: 4000,
            median_baseline: 1.2e6,
            dispersion: 0.0,
            unit_price: None,
            margin_rate: None,
        },
    );
    let pop = Population::synthetic(&spec, 1).unwrap();
    let p = programme(
        r#"
name = "Closed form"
currency = "EUR"
start = 2027-01-01
period = "year"
periods = 1
[[components]]
id = "vol"
kind = "volume"
tiers = [{ from = 1000000, percent = 1 }, { from = 1300000, percent = 2 }, { from = 1600000, percent = 3 }]
"#,
    );
    let sigma = 0.25;
    let m = model(&format!("[partner_factor]\nsigma = {sigma}\n"));
    let scen = 25;
    let r = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: scen,
            seed: 8,
            ..Default::default()
        },
    )
    .unwrap();
    let counts = r.mean_tier_counts("vol").unwrap();
    let n = (4000 * scen) as f64;
    let mut reach = 1.0;
    for (t, thr) in [1.0e6f64, 1.3e6, 1.6e6].iter().enumerate() {
        let want = phi(((1.2e6 / thr).ln() - sigma * sigma / 2.0) / sigma);
        let got = counts[t + 1..].iter().sum::<f64>() / 4000.0;
        let se = (want * (1.0 - want) / n).sqrt();
        assert!(
            (got - want).abs() < 3.0 * se,
            "tier {}: {got} vs {want} (se {se})",
            t + 1
        );
        assert!(got < reach);
        reach = got;
        // per-partner probabilities average to the same
        let mean_p: f64 = (0..4000)
            .map(|i| r.partner_tier_probability_of(i, "vol", t + 1).unwrap())
            .sum::<f64>()
            / 4000.0;
        assert!((mean_p - got).abs() < 1e-12);
    }
}

#[test]
fn a_per_unit_amount_on_an_exact_tie_agrees_with_the_settlement_of_the_export() {
    // one partner at a unit price of 42, no noise: twelve monthly lines whose quantities
    // (revenue / 42, recurring decimals) go on the grid of millionths of a unit; the year's
    // 559.67 units pay 0.5 × (559.67 − 100) = 229.835, exactly half a cent, rounded half up
    // to 229.84 by the engine and by settlement of the exported transactions alike (before
    // the grid, the export carried each quantity to 16 digits and their sum fell short of
    // the tie)
    let p = programme(
        r#"
name = "Units"
currency = "EUR"
start = 2027-01-01
period = "year"
periods = 1
[[components]]
id = "u"
kind = "per_unit"
amount = 0.5
above = 100
"#,
    );
    let csv = "partner_id,segment,baseline_revenue,unit_price\nP1,s,23506.13,42\n";
    let pop = Population::from_csv_str(csv, "partners.csv").unwrap();
    let m = model(
        "[seasonality]\nfactors = [0.8, 0.85, 1.0, 1.0, 1.05, 1.0, 0.9, 0.85, 1.05, 1.1, 1.15, 1.25]\n",
    );
    let r = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 2,
            seed: 5,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.payout, vec![229.84, 229.84]);
    let ex = export_scenario(&p, &pop, &m, 5, 0).unwrap();
    let q: Decimal = ex.transactions.quantity.iter().sum();
    assert_eq!(q, Decimal::from_str("559.67").unwrap());
    assert!(ex.transactions.quantity.iter().all(|x| x.scale() == 6));
    let st = settle(&p, &ex.partners, &ex.transactions).unwrap();
    assert_eq!(st.line_count(), 1);
    assert_eq!(
        st.lines().unwrap()[0].payable,
        Decimal::from_str("229.84").unwrap()
    );
    assert_eq!(cents(ex.lines[0].payable), 22984);
}

/// `precision = P95` stops at the first checkpoint where the P95's standard error (on the
/// scenarios run so far, in scenario order) is within the tolerance, not later (issue 20: the
/// old, outward-rounded ranks overstated that standard error and ran longer than needed).
#[test]
fn precision_on_p95_stops_at_the_first_checkpoint_within_tolerance() {
    let p = rich_programme("10000000");
    let pop = rich_population();
    let m = model(RICH_MODEL);
    let se_at = |payout: &[f64], k: usize| {
        let mut v = payout[..k].to_vec();
        v.sort_by(f64::total_cmp);
        rebatesim::summary::percentile_estimate(&v, 0.95).se
    };
    // the tolerance: the P95's standard error at 200 scenarios of a fixed run
    let fixed = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 400,
            ..Default::default()
        },
    )
    .unwrap();
    let tolerance = se_at(&fixed.payout, 200);
    let prec = Precision {
        statistic: Statistic::Percentile(0.95),
        tolerance,
        max_scenarios: 400,
        check_every: 25,
    };
    let r = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            precision: Some(prec),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.precision_met, Some(true));
    assert_eq!(r.payout[..], fixed.payout[..r.scenarios]);
    assert!(se_at(&r.payout, r.scenarios) <= tolerance);
    for k in (25..r.scenarios).step_by(25) {
        assert!(
            se_at(&r.payout, k) > tolerance,
            "within tolerance at {k} already"
        );
    }
    assert!(r.scenarios <= 200, "ran {} scenarios", r.scenarios);
}

// ---- input uncertainty: parameter draws -------------------------------------------------

/// The rich fixture's model with its growth rate replaced (a parameter draw of it).
fn rich_model_with_growth(rate: f64) -> rebatesim::demand::Model {
    let text = include_str!("fixtures/rich/model.toml");
    assert!(
        text.contains("rate = 0.03\n"),
        "the fixture's growth line moved"
    );
    model(&text.replace("rate = 0.03\n", &format!("rate = {rate}\n")))
}

fn payout_bits(r: &rebatesim::engine::SimResult) -> Vec<u64> {
    r.payout.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn identical_parameter_draws_change_nothing_but_record_each_scenarios_draw() {
    let (p, pop) = (rich_programme("250000"), rich_population());
    let m = rich_model_with_growth(0.03);
    let draws = vec![m.clone(), m.clone(), m.clone()];
    let base = SimOptions {
        scenarios: 40,
        seed: 5,
        threads: Some(1),
        ..Default::default()
    };
    let plain = simulate(&p, &pop, &m, &base).unwrap();
    let drawn = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            parameter_draws: &draws,
            ..base
        },
    )
    .unwrap();
    assert_eq!(payout_bits(&plain), payout_bits(&drawn));
    assert_eq!(plain.partner_expected_payout, drawn.partner_expected_payout);
    assert_eq!((plain.parameter_draws, plain.parameter_draw.len()), (0, 0));
    assert_eq!(drawn.parameter_draws, 3);
    assert_eq!(drawn.parameter_draw.len(), 40);
    for (s, &k) in drawn.parameter_draw.iter().enumerate() {
        assert_eq!(k as usize, rebatesim::engine::draw_index(5, s as u64, 3));
    }
    // all three draws are used, roughly a third each
    for k in 0..3 {
        let c = drawn.parameter_draw.iter().filter(|&&d| d == k).count();
        assert!(
            (5..=25).contains(&c),
            "draw {k} used by {c} of 40 scenarios"
        );
    }
    assert!(plain.parameter_variance(&plain.payout).is_none());
}

#[test]
fn each_scenario_runs_under_its_draw_whatever_the_threads_and_chunks() {
    let (p, pop) = (rich_programme("1e9"), rich_population());
    let (low, high) = (rich_model_with_growth(-0.3), rich_model_with_growth(0.6));
    let draws = vec![low.clone(), high.clone()];
    let opts = |threads, chunk_size| SimOptions {
        scenarios: 30,
        seed: 9,
        threads: Some(threads),
        chunk_size,
        parameter_draws: &draws,
        ..Default::default()
    };
    let a = simulate(&p, &pop, &low, &opts(1, 7)).unwrap();
    let b = simulate(&p, &pop, &low, &opts(2, 32)).unwrap();
    assert_eq!(payout_bits(&a), payout_bits(&b));
    assert_eq!(a.parameter_draw, b.parameter_draw);
    assert_eq!(a.partner_expected_payout, b.partner_expected_payout);
    // scenario s under draw k pays exactly what a run of draw k alone pays in scenario s
    // (common random numbers: the draw changes the parameters, not the random numbers)
    let alone = |m| {
        simulate(
            &p,
            &pop,
            m,
            &SimOptions {
                scenarios: 30,
                seed: 9,
                threads: Some(1),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let (r_low, r_high) = (alone(&low), alone(&high));
    for (s, &k) in a.parameter_draw.iter().enumerate() {
        let expected = if k == 0 {
            r_low.payout[s]
        } else {
            r_high.payout[s]
        };
        assert_eq!(
            a.payout[s].to_bits(),
            expected.to_bits(),
            "scenario {s} (draw {k})"
        );
    }
    // the draws differ a lot (revenue −30% against +60%): most of the payout's variance is
    // parameter uncertainty, and the split says so
    let v = a.parameter_variance(&a.payout).unwrap();
    assert_eq!((v.n, v.draws), (30, 2));
    assert!(v.parameter_share.value > 0.5, "{v:?}");
    assert!(
        v.parameter_share.se.is_nan(),
        "two draws: no jackknife standard error"
    );
}

#[test]
fn parameter_draws_merge_from_shards_bit_for_bit() {
    use rebatesim::engine::{merge_shards, simulate_range};
    let (p, pop) = (rich_programme("1e9"), rich_population());
    let draws: Vec<_> = [0.0, 0.03, 0.1, 0.2]
        .iter()
        .map(|&g| rich_model_with_growth(g))
        .collect();
    let opts = SimOptions {
        scenarios: 24,
        seed: 3,
        threads: Some(1),
        parameter_draws: &draws,
        ..Default::default()
    };
    let local = simulate(&p, &pop, &draws[1], &opts).unwrap();
    let shards: Vec<_> = [0..10, 10..24]
        .into_iter()
        .map(|r| {
            let s = simulate_range(&p, &pop, &draws[1], &opts, r, true).unwrap();
            rebatesim::engine::Shard::from_bytes(&s.to_bytes()).unwrap()
        })
        .collect();
    let merged = merge_shards(&p, &pop, &draws[1], &shards).unwrap();
    assert_eq!(payout_bits(&local), payout_bits(&merged));
    assert_eq!(local.parameter_draw, merged.parameter_draw);
    assert_eq!(merged.parameter_draws, 4);
    assert_eq!(
        local.partner_expected_payout,
        merged.partner_expected_payout
    );
    let v = merged.parameter_variance(&merged.payout).unwrap();
    assert!(v.parameter_share.se.is_finite());
}

#[test]
fn a_parameter_draw_with_other_categories_is_refused_by_index() {
    let (p, pop) = (rich_programme("250000"), rich_population());
    let m = rich_model_with_growth(0.03);
    let mut other = m.clone();
    other.economics.category_mix.insert("paint".into(), 0.1);
    let draws = vec![m.clone(), other];
    let err = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 4,
            parameter_draws: &draws,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("parameter draw 1"), "{err}");
}

#[test]
fn the_memory_guard_counts_a_set_up_per_parameter_draw() {
    use rebatesim::engine::estimate_memory;
    let (p, pop) = (rich_programme("250000"), rich_population());
    let m = rich_model_with_growth(0.03);
    let base = SimOptions {
        scenarios: 10,
        ..Default::default()
    };
    let plain = estimate_memory(&p, &pop, &m, &base).unwrap();
    let est = |k: usize| {
        let draws = vec![m.clone(); k];
        estimate_memory(
            &p,
            &pop,
            &m,
            &SimOptions {
                parameter_draws: &draws,
                ..base
            },
        )
        .unwrap()
    };
    // the model's set-up and one per draw: each draw adds the same
    let (one, eleven) = (est(1), est(11));
    assert!(one > plain);
    assert_eq!(eleven - one, 10 * (one - plain));
}
