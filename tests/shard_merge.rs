//! Scale-out shards (`engine::simulate_range`, `engine::merge_shards`): scenarios run in
//! ranges, carried as bytes and merged in order give the local run's result bit for bit.

mod common;
use common::*;
use rebatesim::engine::{merge_shards, simulate, simulate_range, Shard, SimOptions};
use rebatesim::wire::{population_from_bytes, population_to_bytes};
use rebatesim::Error;

const MODEL: &str = r#"
[market]
sigma = 0.1
[noise]
sigma = 0.3
[partner_factor]
sigma = 0.2
"#;

fn bits(r: &rebatesim::engine::SimResult) -> Vec<u64> {
    let mut v: Vec<u64> = Vec::new();
    for x in [
        &r.payout,
        &r.incremental_margin,
        &r.partner_expected_payout,
        &r.partner_expected_payout_before_budget,
        &r.partner_tier_probability,
        &r.accrual,
        &r.roi,
    ] {
        v.extend(x.iter().map(|f| f.to_bits()));
    }
    v
}

#[test]
fn shards_merge_to_the_local_run_bit_for_bit() {
    let p = rich_programme("400000");
    let pop = rich_population();
    let m = model(MODEL);
    let opts = SimOptions {
        scenarios: 37,
        seed: 9,
        threads: Some(2),
        chunk_size: 5,
        ..Default::default()
    };
    let local = simulate(&p, &pop, &m, &opts).unwrap();
    // uneven ranges, another thread count, through bytes, population through bytes
    let pop2 = population_from_bytes(&population_to_bytes(&pop)).unwrap();
    let one = SimOptions {
        threads: Some(1),
        chunk_size: 64,
        ..opts
    };
    let shards: Vec<Shard> = [0..1, 1..20, 20..37]
        .into_iter()
        .map(|r| {
            let s = simulate_range(&p, &pop2, &m, &one, r, true).unwrap();
            Shard::from_bytes(&s.to_bytes()).unwrap()
        })
        .collect();
    let merged = merge_shards(&p, &pop, &m, &shards).unwrap();
    assert_eq!(bits(&merged), bits(&local));
    assert_eq!(format!("{merged:?}"), format!("{local:?}"));

    // a gap, a missing per-partner part and foreign bytes are errors
    let e = merge_shards(&p, &pop, &m, &[shards[0].clone(), shards[2].clone()]).unwrap_err();
    assert!(
        e.to_string().contains("starts at scenario 20, expected 1"),
        "{e}"
    );
    let light = simulate_range(&p, &pop, &m, &one, 0..3, false).unwrap();
    assert_eq!(light.result.payout, local.payout[..3]);
    let e = merge_shards(&p, &pop, &m, &[light]).unwrap_err();
    assert!(
        e.to_string().contains("without its per-partner outputs"),
        "{e}"
    );
    assert!(matches!(
        Shard::from_bytes(b"nonsense"),
        Err(Error::Request(_))
    ));
    let b = shards[1].to_bytes();
    assert!(matches!(
        Shard::from_bytes(&b[..b.len() / 2]),
        Err(Error::Request(_))
    ));
    let e = simulate_range(&p, &pop, &m, &one, 5..5, true).unwrap_err();
    assert!(e.to_string().contains("at least one scenario"), "{e}");
}
