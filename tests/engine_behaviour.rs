//! Each behavioural and demand mechanism moves results in the documented direction, and the
//! counterfactual keeps common random numbers.

mod common;
use common::*;
use rebatesim::engine::{simulate, SimOptions, SimResult};
use rebatesim::summary::mean;

const BASE: &str = "[market]\nsigma = 0.1\n[noise]\nsigma = 0.25\n[economics]\nmargin_rate = 0.3\n";

fn quarterly() -> rebatesim::programme::Compiled {
    programme(
        r#"
name = "Quarterly"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
[[components]]
id = "vol"
kind = "volume"
tiers = [{ from = 30000, percent = 1 }, { from = 45000, percent = 2.5 }, { from = 60000, percent = 4 }]
"#,
    )
}

fn run(extra: &str) -> SimResult {
    run_model(&format!("{BASE}{extra}"))
}

fn run_model(text: &str) -> SimResult {
    let m = model(text);
    simulate(
        &quarterly(),
        &rich_population(),
        &m,
        &SimOptions {
            scenarios: 60,
            seed: 21,
            ..Default::default()
        },
    )
    .unwrap()
}

fn avg(x: &[f64]) -> f64 {
    mean(x).value
}

#[test]
fn without_behaviour_nothing_is_incremental() {
    let r = run("");
    assert!(r.incremental_revenue.iter().all(|&x| x == 0.0));
    assert!(r.deadweight_share.iter().all(|&x| x == 1.0));
    assert!(r.roi.iter().all(|&x| x == -1.0));
    assert_eq!(r.revenue, r.revenue_counterfactual);
}

#[test]
fn stretch_buys_the_next_tier() {
    let off = run("");
    let on = run("[behaviour.stretch]\nenabled = true\nmax_shortfall = 0.15\n");
    assert!(
        on.stretches.iter().sum::<f64>() > 50.0,
        "{:?}",
        &on.stretches[..5]
    );
    // more revenue in every scenario (no pull-forward), more partners in higher tiers, more payout
    for s in 0..on.scenarios {
        assert!(on.revenue[s] >= off.revenue[s]);
    }
    assert!(avg(&on.payout) > avg(&off.payout));
    let (t_on, t_off) = (
        on.mean_tier_counts("vol").unwrap(),
        off.mean_tier_counts("vol").unwrap(),
    );
    assert!(
        t_on[3] > t_off[3] && t_on[0] <= t_off[0],
        "{t_on:?} vs {t_off:?}"
    );
    // the extra purchases are incremental; part of the payout no longer rewards baseline demand
    assert!(avg(&on.incremental_revenue) > 0.0);
    assert!(avg(&on.deadweight_share) < 1.0);
    // the counterfactual is the same demand either way (common random numbers)
    assert_eq!(on.revenue_counterfactual, off.revenue);
    // stronger sensitivity → more stretching
    let keen = run("[behaviour.stretch]\nenabled = true\nmax_shortfall = 0.15\nsensitivity = 100\nmax_probability = 1\n");
    assert!(keen.stretches.iter().sum::<f64>() > on.stretches.iter().sum::<f64>());
    // a wider shortfall window → more stretching
    let wide = run("[behaviour.stretch]\nenabled = true\nmax_shortfall = 0.3\n");
    assert!(wide.stretches.iter().sum::<f64>() > on.stretches.iter().sum::<f64>());
}

#[test]
fn pull_forward_is_not_incremental() {
    let none = run("[behaviour.stretch]\nenabled = true\nmax_shortfall = 0.15\n");
    let all = run("[behaviour.stretch]\nenabled = true\nmax_shortfall = 0.15\n[behaviour.pull_forward]\nshare = 1\n");
    assert!(avg(&all.incremental_revenue) < avg(&none.incremental_revenue));
    assert!(avg(&all.incremental_margin) < avg(&none.incremental_margin));
    // fully borrowed purchases add (almost) nothing: what is bought now is missing later
    assert!(
        avg(&all.incremental_revenue).abs() < 0.2 * avg(&none.incremental_revenue),
        "{} vs {}",
        avg(&all.incremental_revenue),
        avg(&none.incremental_revenue)
    );
}

#[test]
fn uplift_raises_demand_with_the_rebate_rate() {
    let off = run("");
    let on = run("[behaviour.uplift]\nelasticity = 2\n");
    for s in 0..on.scenarios {
        assert!(on.revenue[s] > off.revenue[s]);
        assert!(on.incremental_revenue[s] > 0.0);
    }
    assert!(avg(&on.payout) > avg(&off.payout));
    assert!(avg(&on.roi) > -1.0);
}

#[test]
fn demand_mechanisms_move_revenue_as_documented() {
    let base = run("");
    let churn = run("[churn]\nmonthly_hazard = 0.05\n");
    assert!(avg(&churn.revenue) < 0.85 * avg(&base.revenue));
    let returns = run("[returns]\nshare = 0.05\n");
    assert!((avg(&returns.revenue) / avg(&base.revenue) - 0.95).abs() < 0.005);
    assert!(avg(&returns.payout) < avg(&base.payout));
    let growth = run("[growth]\nrate = 0.1\n");
    assert!((avg(&growth.revenue) / avg(&base.revenue) - 1.1).abs() < 0.01);
    let wild =
        run_model("[market]\nsigma = 0.4\n[noise]\nsigma = 0.25\n[economics]\nmargin_rate = 0.3\n");
    assert!(
        rebatesim::summary::sd(&wild.revenue).value
            > 2.0 * rebatesim::summary::sd(&base.revenue).value
    );
    let seg = run("[segment_factor]\nsigma = 0.3\n");
    assert!(
        rebatesim::summary::sd(&seg.revenue).value > rebatesim::summary::sd(&base.revenue).value
    );
    // an evolving market keeps its mean
    let ar =
        run_model("[market]\nsigma = 0.1\nprocess = \"ar1\"\nrho = 0.5\n[noise]\nsigma = 0.25\n");
    let rw = run_model("[market]\nprocess = \"random_walk\"\nsigma = 0.05\nmonthly_sigma = 0.03\n[noise]\nsigma = 0.25\n");
    for r in [&ar, &rw] {
        let m = mean(&r.revenue);
        assert!((m.value - avg(&base.revenue)).abs() < 4.0 * m.se + 4.0 * mean(&base.revenue).se);
    }
}

#[test]
fn incidence_adds_months_without_purchases_and_keeps_the_expected_revenue() {
    let base = run("");
    // probability 1 is the model without the section, bit for bit (no draw is made)
    let every = run("[incidence]\nprobability = 1\n");
    assert_eq!(every.revenue, base.revenue);
    assert_eq!(every.payout, base.payout);
    let skip = run("[incidence]\nprobability = 0.5\n");
    // the expected annual revenue is unchanged: each buying month buys twice its demand;
    // the paired difference is within four of its standard errors
    let diff: Vec<f64> = skip
        .revenue
        .iter()
        .zip(&base.revenue)
        .map(|(a, b)| a - b)
        .collect();
    let d = mean(&diff);
    assert!(d.value.abs() < 4.0 * d.se, "{} ± {}", d.value, d.se);
    // lumpier purchases: more spread between scenarios and a different tier pattern
    assert!(
        rebatesim::summary::sd(&skip.revenue).value > rebatesim::summary::sd(&base.revenue).value
    );
    assert_ne!(skip.payout, base.payout);
    // the other draws are unmoved: the counterfactual run keeps common random numbers
    assert_eq!(skip.revenue, skip.revenue_counterfactual);
}

#[test]
fn results_are_consistent() {
    let r = run("[behaviour.stretch]\nenabled = true\n[behaviour.uplift]\nelasticity = 1\n");
    for s in 0..r.scenarios {
        // accrual and cash add up to the payout; segments and components too
        let acc: f64 = r.accrual[s * r.months..(s + 1) * r.months].iter().sum();
        let cash: f64 = r.cash[s * r.cash_months..(s + 1) * r.cash_months]
            .iter()
            .sum();
        assert!((acc - r.payout[s]).abs() < 1e-6 * r.payout[s].max(1.0));
        assert!((cash - r.payout[s]).abs() < 1e-6 * r.payout[s].max(1.0));
        let seg: f64 = r.segment_payout[s * r.segments.len()..(s + 1) * r.segments.len()]
            .iter()
            .sum();
        assert!((seg - r.payout[s]).abs() < 1e-6 * r.payout[s].max(1.0));
        let n: u32 = r.tier_counts[s * 4..(s + 1) * 4].iter().sum();
        assert_eq!(n as usize, r.partner_ids.len());
    }
    // quarterly payments 45 days after each quarter: none in the programme's first months
    let cash = r.mean_cash();
    assert_eq!(cash[0], 0.0);
    let total: f64 = r.partner_expected_payout.iter().sum();
    assert!((total - avg(&r.payout)).abs() < 1e-6 * total);
}

#[test]
fn the_distributor_example_simulates() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/distributor");
    let p = rebatesim::programme::Programme::from_file(root.join("programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let pop = rebatesim::population::Population::from_csv_path(root.join("partners.csv")).unwrap();
    let m = rebatesim::demand::Model::from_file(root.join("model.toml")).unwrap();
    let r = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 4,
            seed: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r.payout.iter().all(|&x| x > 0.0));
    assert!(
        r.component_payout_of("full_pallet")
            .unwrap()
            .iter()
            .sum::<f64>()
            >= 0.0
    );
    assert!(r.stretches.iter().sum::<f64>() > 0.0);
}
