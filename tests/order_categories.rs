//! Categories per order (`orders.categories_per_order`): the lines by hand on a small case,
//! each category's expected revenue kept, reproducibility across threads, and the bundle it
//! is for (a quarter can miss a category).

mod common;
use common::*;
use rebatesim::engine::{export_scenario, simulate, SimOptions};
use rebatesim::population::Population;
use rust_decimal::prelude::*;
use std::collections::BTreeMap;

const PROGRAMME: &str = r#"
name = "Cross-sell"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
categories = ["a", "b", "c"]
[[components]]
id = "bundle"
kind = "bundle"
minimums = { a = 100, b = 100, c = 100 }
percent = 2
"#;

fn pop(rows: &[(&str, f64, [f64; 3])]) -> Population {
    let mut csv = String::from("partner_id,segment,baseline_revenue,mix_a,mix_b,mix_c\n");
    for (id, base, m) in rows {
        csv += &format!("{id},s,{base},{},{},{}\n", m[0], m[1], m[2]);
    }
    Population::from_csv_str(&csv, "partners.csv").unwrap()
}

/// Per order id: its (category, revenue) lines.
fn orders_of(ex: &rebatesim::engine::ScenarioExport) -> BTreeMap<u32, Vec<(u32, Decimal)>> {
    let tx = &ex.transactions;
    let (cat, ord) = (tx.category.as_ref().unwrap(), tx.order.as_ref().unwrap());
    let mut by: BTreeMap<u32, Vec<(u32, Decimal)>> = BTreeMap::new();
    for r in 0..tx.len() {
        by.entry(ord[r].unwrap())
            .or_default()
            .push((cat[r].unwrap(), tx.revenue[r]));
    }
    by
}

/// One partner, 24,000 a year without noise (2,000 a month) in two equal orders a month:
/// with one category an order, every order is one line of 1,000.00 in one category; with
/// every category (x far above the three categories), each order's 1,000 split by the mix
/// (500 / 300 / 200) as the spread month split over the orders.
#[test]
fn lines_by_hand() {
    let p = programme(PROGRAMME);
    let pop = pop(&[("P1", 24_000.0, [0.5, 0.3, 0.2])]);
    let orders = "[orders]\nper_month = 2\npoisson = false\nsize_sigma = 0\n";
    let one = model(&format!("{orders}categories_per_order = 1\n"));
    let ex = export_scenario(&p, &pop, &one, 3, 0).unwrap();
    let by = orders_of(&ex);
    assert_eq!(by.len(), 24, "two orders a month");
    let mut seen = [0; 3];
    for lines in by.values() {
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].1, Decimal::new(100_000, 2));
        seen[lines[0].0 as usize] += 1;
    }
    assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
    let all = model(&format!("{orders}categories_per_order = 100\n"));
    let ex = export_scenario(&p, &pop, &all, 3, 0).unwrap();
    let by = orders_of(&ex);
    assert_eq!(by.len(), 24);
    let keys = &ex.transactions.category_keys;
    for lines in by.values() {
        let mut got: Vec<(String, Decimal)> = lines
            .iter()
            .map(|(c, r)| (keys[*c as usize].clone(), *r))
            .collect();
        got.sort();
        let want = [("a", 50_000), ("b", 30_000), ("c", 20_000)]
            .map(|(c, r)| (c.to_owned(), Decimal::new(r, 2)));
        assert_eq!(got, want);
    }
    // the spread months pay the bundle in every quarter (2% of 24,000); with one category
    // an order, a quarter's six orders still hold all three categories most of the time
    let pay = |m: &rebatesim::demand::Model| {
        simulate(
            &p,
            &pop,
            m,
            &SimOptions {
                scenarios: 1,
                seed: 3,
                ..Default::default()
            },
        )
        .unwrap()
        .payout[0]
    };
    assert!((pay(&model(orders)) - 480.0).abs() < 1e-6);
    assert!((pay(&all) - 480.0).abs() < 1e-6);
    assert!(pay(&one) <= 480.0 + 1e-6);
}

/// Each category's expected revenue is the spread month's (its mix share), whatever the
/// number of categories an order carries: 400 partners of one scenario, each category's
/// total within 4 standard errors (over partners) of the mix share of the total.
#[test]
fn each_category_keeps_its_expected_revenue() {
    let p = programme(PROGRAMME);
    let rows: Vec<(String, f64, [f64; 3])> = (0..400)
        .map(|i| {
            (
                format!("P{i:03}"),
                12_000.0 + 50.0 * i as f64,
                [0.6, 0.3, 0.1],
            )
        })
        .collect();
    let rows: Vec<(&str, f64, [f64; 3])> =
        rows.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
    let pop = pop(&rows);
    for x in ["1", "1.5", "2.2"] {
        let m = model(&format!(
            "[orders]\nper_month = 2\nsize_sigma = 0.5\ncategories_per_order = {x}\n"
        ));
        let ex = export_scenario(&p, &pop, &m, 8, 0).unwrap();
        let tx = &ex.transactions;
        let cat = tx.category.as_ref().unwrap();
        let n = tx.partner_keys.len();
        let mut per = vec![[0.0f64; 3]; n];
        for r in 0..tx.len() {
            let c = &tx.category_keys[cat[r].unwrap() as usize];
            let j = ["a", "b", "c"].iter().position(|k| k == c).unwrap();
            per[tx.partner_key[r] as usize][j] += tx.revenue[r].to_f64().unwrap();
        }
        let total: f64 = per.iter().map(|v| v.iter().sum::<f64>()).sum();
        // every month bought in full: the lines' total is the baselines' within a cent a line
        let base: f64 = rows.iter().map(|r| r.1).sum();
        assert!(
            (total - base).abs() <= 0.005 * tx.len() as f64 + 1e-6,
            "{total} vs {base}"
        );
        for (j, share) in [0.6, 0.3, 0.1].iter().enumerate() {
            // each partner's deviation from its share of its own total
            let dev: Vec<f64> = per
                .iter()
                .map(|v| v[j] - share * v.iter().sum::<f64>())
                .collect();
            let mean = dev.iter().sum::<f64>() / n as f64;
            let var = dev.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se = (var / n as f64).sqrt();
            assert!(se > 0.0, "x = {x}: no spread in category {j}");
            assert!(
                mean.abs() <= 4.0 * se,
                "x = {x}, category {j}: mean deviation {mean} (se {se})"
            );
        }
    }
}

/// Same seed, same bits on one thread and on two; the option changes the bundle's payout
/// (it draws), and leaving it out is the spread model (a model with it absent gives the
/// bits of a model without the `[orders]` section's option at all).
#[test]
fn bit_identical_across_threads() {
    let p = programme(PROGRAMME);
    let rows: Vec<(String, f64, [f64; 3])> = (0..150)
        .map(|i| {
            (
                format!("P{i:03}"),
                2_000.0 + 300.0 * i as f64,
                [0.5, 0.35, 0.15],
            )
        })
        .collect();
    let rows: Vec<(&str, f64, [f64; 3])> =
        rows.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
    let pop = pop(&rows);
    let base = "[noise]\nsigma = 0.3\n[incidence]\nprobability = 0.8\n[orders]\nper_month = 1.5\n";
    let run = |text: &str, threads: usize| {
        let opts = SimOptions {
            scenarios: 40,
            seed: 5,
            threads: Some(threads),
            ..Default::default()
        };
        simulate(&p, &pop, &model(text), &opts).unwrap()
    };
    let on = format!("{base}categories_per_order = 1.3\n");
    let (a, b) = (run(&on, 1), run(&on, 2));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.payout), bits(&b.payout));
    assert_eq!(bits(&a.component_payout), bits(&b.component_payout));
    let off = run(base, 2);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&a.payout) < 0.9 * mean(&off.payout),
        "{} vs {}",
        mean(&a.payout),
        mean(&off.payout)
    );
}

/// A per-segment value: a segment listed draws, the others spread; an unknown segment or a
/// value below one is an error naming the field.
#[test]
fn per_segment_values_and_bad_values() {
    let p = programme(PROGRAMME);
    let pop = pop(&[("P1", 24_000.0, [0.5, 0.3, 0.2])]);
    let m = model("[orders]\ncategories_per_order_segments = { other = 1 }\n");
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
        e.contains("orders.categories_per_order_segments.other"),
        "{e}"
    );
    let e = rebatesim::demand::Model::from_str(
        "[orders]\ncategories_per_order = 0.5\n",
        rebatesim::programme::Format::Toml,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("orders.categories_per_order") && e.contains("from 1"),
        "{e}"
    );
    // segment `s` listed at 1: the same bits as the default value at 1
    let a = model("[orders]\nper_month = 2\ncategories_per_order_segments = { s = 1 }\n");
    let b = model("[orders]\nper_month = 2\ncategories_per_order = 1\n");
    let run = |m: &rebatesim::demand::Model| {
        export_scenario(&p, &pop, m, 2, 0)
            .unwrap()
            .transactions
            .revenue
    };
    assert_eq!(run(&a), run(&b));
}

/// Calibration recovers the engine's categories per order: histories of 24 months made by the
/// engine at x = 1 (one category an order) and x = 1.6 (five categories, two segments at
/// 1.3 and 1.9), the estimate within 4 standard errors, and its draws around it.
#[test]
fn calibration_recovers_categories_per_order() {
    use rebatesim::calibrate::{calibrate, Options};
    let p = programme(
        r#"
name = "History"
currency = "EUR"
start = 2025-01-01
period = "quarter"
periods = 8
categories = ["a", "b", "c", "d", "e"]
[[components]]
id = "v"
kind = "volume"
tiers = [{ from = 0, percent = 1 }]
"#,
    );
    let mut csv =
        String::from("partner_id,segment,baseline_revenue,mix_a,mix_b,mix_c,mix_d,mix_e\n");
    for i in 0..300 {
        let seg = if i % 2 == 0 { "x" } else { "y" };
        csv += &format!(
            "P{i:03},{seg},{},0.35,0.25,0.2,0.12,0.08\n",
            30_000 + 200 * i
        );
    }
    let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
    let base = "[noise]\nsigma = 0.3\n[partner_factor]\nsigma = 0.2\n[orders]\nper_month = 1.5\nsize_sigma = 0.5\n";
    for (text, want) in [
        (
            format!("{base}categories_per_order = 1\n"),
            vec![("orders.categories_per_order", 1.0)],
        ),
        (
            format!("{base}categories_per_order_segments = {{ x = 1.3, y = 1.9 }}\n"),
            vec![
                ("orders.categories_per_order_segments.x", 1.3),
                ("orders.categories_per_order_segments.y", 1.9),
            ],
        ),
    ] {
        let ex = export_scenario(&p, &pop, &model(&text), 21, 0).unwrap();
        let opts = Options {
            draws: 10,
            bootstrap: 50,
            seed: 2,
            ..Options::default()
        };
        let cal = calibrate(&ex.transactions, Some(&ex.partners), &opts).unwrap();
        for (path, truth) in want {
            let e = cal.estimate(path).unwrap_or_else(|| panic!("no {path}"));
            if truth == 1.0 {
                assert_eq!(e.value, 1.0, "{path}");
            } else {
                assert!(
                    (e.value - truth).abs() <= 4.0 * e.se && e.se > 0.0,
                    "{path}: {} ± {} vs {truth}",
                    e.value,
                    e.se
                );
                assert!(e.se < 0.05, "{path}: se {}", e.se);
            }
        }
        let m = &cal.model.orders;
        assert!(m.draws_order_categories());
        // the draws carry it, around the estimate
        for d in &cal.draws {
            assert_eq!(
                d.model.orders.categories_per_order.is_some(),
                m.categories_per_order.is_some()
            );
            assert_eq!(
                d.model.orders.categories_per_order_segments.len(),
                m.categories_per_order_segments.len()
            );
        }
    }
}

/// The forecast's conditioned run draws its simulated months' categories too: at the end of
/// Q1, with Q1's actuals (one category an order, made by the engine), the forecast of the
/// bundle with categories per order is below the spread model's, and the same bits on one
/// thread and on two.
#[test]
fn the_forecast_draws_categories_per_order() {
    let p = programme(PROGRAMME);
    let rows: Vec<(String, f64, [f64; 3])> = (0..80)
        .map(|i| {
            (
                format!("P{i:03}"),
                6_000.0 + 400.0 * i as f64,
                [0.5, 0.3, 0.2],
            )
        })
        .collect();
    let rows: Vec<(&str, f64, [f64; 3])> =
        rows.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
    let pop = pop(&rows);
    let base = "[noise]\nsigma = 0.3\n[orders]\nper_month = 1.5\n";
    let on = model(&format!("{base}categories_per_order = 1\n"));
    let as_of = chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
    let (m_on, m_off) = forecast_means_on_exported_actuals(&p, &pop, &on, &model(base), as_of);
    assert!(m_on < 0.95 * m_off, "{m_on} vs {m_off}");
}
