//! bench-std (../shared/bench/bench-std.md): the engine's statistics agree with the reference
//! figures of an independent implementation (20,000 scenarios) within ~4 standard errors.

use rebatesim::demand::Model;
use rebatesim::engine::{simulate, SimOptions};
use rebatesim::population::Population;
use rebatesim::programme::Programme;
use std::path::PathBuf;

/// `shared/bench/partners_10k.csv`, found by walking up from the crate (the repository's
/// parent holds `shared/`), or `REBATESIM_BENCH_PARTNERS`.
fn partners_file() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("REBATESIM_BENCH_PARTNERS") {
        return Some(PathBuf::from(p));
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let f = dir.join("shared/bench/partners_10k.csv");
        if f.exists() {
            return Some(f);
        }
        if !dir.pop() {
            return None;
        }
    }
}

#[test]
fn bench_std_matches_reference() {
    let Some(file) = partners_file() else {
        eprintln!("shared/bench/partners_10k.csv not found: skipping");
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = Programme::from_file(root.join("examples/bench_std/programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let model = Model::from_file(root.join("examples/bench_std/model.toml")).unwrap();
    let pop = Population::from_csv_path(&file).unwrap();
    assert_eq!(pop.len(), 10_000);
    let n = if cfg!(debug_assertions) { 300 } else { 2000 };
    let r = simulate(
        &p,
        &pop,
        &model,
        &SimOptions {
            scenarios: n,
            seed: 20270101,
            ..Default::default()
        },
    )
    .unwrap();
    let s = r.payout_summary();
    let binds = r.budget_binding();
    let tiers = r.mean_tier_counts_all();
    eprintln!(
        "mean {} budget binds {} tiers {:?} p50 {} p95 {} p99 {}",
        s.mean, binds, tiers, s.p50, s.p95, s.p99
    );
    // reference: mean 83.48M (SE 0.14M at 20k scenarios), binds 15.1%, tiers 4640/3229/1686/444
    let se = (s.mean.se * s.mean.se + 0.14e6 * 0.14e6).sqrt();
    assert!(
        (s.mean.value - 83.48e6).abs() < 4.0 * se,
        "mean {} vs 83.48M (se {se})",
        s.mean
    );
    let bse = (binds.se * binds.se + 0.003 * 0.003).sqrt();
    assert!(
        (binds.value - 0.151).abs() < 4.0 * bse,
        "budget binds {binds} vs 15.1%"
    );
    assert_eq!(tiers.len(), 4);
    assert!((tiers.iter().sum::<f64>() - 10_000.0).abs() < 1e-9);
    // tier counts move with the market factor: their SE is about sd/√n; the market factor
    // moves thousands of partners together, so allow the sampling error of n scenarios
    for (t, (got, want)) in tiers
        .iter()
        .zip([4640.0, 3229.0, 1686.0, 444.0])
        .enumerate()
    {
        let col: Vec<f64> = (0..r.scenarios)
            .map(|sc| {
                let w: usize = r.ladders.iter().map(|l| l.tiers + 1).sum();
                r.ladders
                    .iter()
                    .map(|l| r.tier_counts[sc * w + l.offset + t] as f64)
                    .sum()
            })
            .collect();
        let m = rebatesim::summary::mean(&col);
        assert!(
            (got - want).abs() < 4.0 * m.se + 5.0,
            "tier {t}: {got} vs {want} (se {})",
            m.se
        );
    }
}
