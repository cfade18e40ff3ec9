//! bench-std as a minimal hand-written Rust loop: the yardstick for the engine.
//!
//! The workload is `shared/bench/bench-std.md` (10,000 partners from
//! `../shared/bench/partners_10k.csv` relative to the project root, 12 months, one market
//! factor per scenario, lognormal partner-month noise, a retroactive ladder per segment on
//! annual revenue, a partner cap, a programme budget with a pro-rata cut).
//!
//! It is the fastest honest straightforward single-threaded code for exactly this model,
//! written the way a Rust programmer would with the ecosystem's generators: a Xoshiro256++
//! stream per (scenario, partner) -- and one per scenario for the market factor -- keyed by a
//! SplitMix64 mix of (seed, scenario, partner, purpose) spelled exactly as in `src/rng.rs`,
//! ziggurat normals from `rand_distr` (among the fastest scalar normal samplers) and `f64::exp`.
//! Nothing generic: no programme interpretation, no per-partner outputs.
//!
//! The market factor is the engine's own draw (same stream, same sampler). The monthly noise
//! is not: the engine draws it counter-based and in `f32` (`rebatesim::rng::normals`, one
//! SplitMix64 output per Box-Muller pair of months, `ln`/`sin`/`cos`/`exp` polynomials in
//! `f32`, the lognormal factor widened to `f64`, computed for eight partners at a time in
//! vector registers), so the hand loop and the engine agree within sampling error, not draw
//! for draw.
//!
//! ```text
//! cargo bench --bench hand_loop -- [--scenarios N] [--seed S] [--partners PATH]
//! ```
//! prints one JSON object: timing (simulation only; CSV loading excluded), partner-months
//! per second, and the bench-std statistics. `benches/bench_std.py` builds and runs it.

mod common;

use std::path::Path;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use common::MONTHS;
const SEASONALITY_RAW: [f64; MONTHS] = [
    0.8, 0.85, 1.0, 1.0, 1.05, 1.0, 0.9, 0.85, 1.05, 1.1, 1.15, 1.25,
];
const MARKET_SIGMA: f64 = 0.10;
const BUDGET: f64 = 110_000_000.0;
// Purpose numbers of src/rng.rs (`Purpose::Market`, `Purpose::Noise`).
const PURPOSE_MARKET: u64 = 1;
const PURPOSE_NOISE: u64 = 4;

/// Per-segment model and ladder parameters.
struct Segment {
    name: &'static str,
    sigma: f64,
    thresholds: [f64; 3],
    rates: [f64; 4], // index = tier reached; tier 0 pays nothing
    cap: f64,
}

const SEGMENTS: [Segment; 3] = [
    Segment {
        name: "small",
        sigma: 0.35,
        thresholds: [100_000.0, 150_000.0, 250_000.0],
        rates: [0.0, 0.01, 0.02, 0.03],
        cap: 10_000.0,
    },
    Segment {
        name: "mid",
        sigma: 0.25,
        thresholds: [500_000.0, 750_000.0, 1_000_000.0],
        rates: [0.0, 0.015, 0.025, 0.035],
        cap: 40_000.0,
    },
    Segment {
        name: "large",
        sigma: 0.15,
        thresholds: [2_500_000.0, 3_500_000.0, 5_000_000.0],
        rates: [0.0, 0.02, 0.03, 0.04],
        cap: 150_000.0,
    },
];

/// SplitMix64 finaliser (Steele, Lea, Flood 2014), used to key the random streams.
#[inline]
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for (seed, scenario, partner, purpose): Xoshiro256++ seeded through SplitMix64
/// from the same key as `rebatesim::rng::key`.
#[inline]
fn stream(seed: u64, scenario: u64, partner: u64, purpose: u64) -> Xoshiro256PlusPlus {
    let mut h = splitmix64(seed ^ 0x5245_4241_5445_5349); // "REBATESI"
    h = splitmix64(h ^ scenario);
    h = splitmix64(h ^ partner);
    Xoshiro256PlusPlus::seed_from_u64(splitmix64(h ^ purpose))
}

/// Partners as flat arrays: monthly baseline and segment index.
struct Partners {
    monthly_base: Vec<f64>,
    segment: Vec<u8>,
}

fn load_partners(path: &Path) -> Result<Partners, String> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = rdr
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{}: no column {name:?}", path.display()))
    };
    let (seg_col, base_col) = (col("segment")?, col("baseline_revenue")?);
    let mut p = Partners {
        monthly_base: Vec::new(),
        segment: Vec::new(),
    };
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{}: row {}: {e}", path.display(), i + 1))?;
        let seg = SEGMENTS
            .iter()
            .position(|s| s.name == &rec[seg_col])
            .ok_or_else(|| format!("{}: row {}: unknown segment", path.display(), i + 1))?;
        let base: f64 = rec[base_col]
            .parse()
            .map_err(|e| format!("{}: row {}: baseline_revenue: {e}", path.display(), i + 1))?;
        p.segment.push(seg as u8);
        p.monthly_base.push(base / MONTHS as f64);
    }
    Ok(p)
}

/// Per-scenario outputs.
struct Outcome {
    total: Vec<f64>,
    binds: Vec<bool>,
    tiers: Vec<[u32; 4]>,
}

fn simulate(p: &Partners, scenarios: usize, seed: u64) -> Outcome {
    let mean_s = SEASONALITY_RAW.iter().sum::<f64>() / MONTHS as f64;
    // s[m] * exp(-sigma^2/2) per segment, so each month costs one exp(sigma * z).
    let weights: Vec<[f64; MONTHS]> = SEGMENTS
        .iter()
        .map(|seg| {
            let k = (-0.5 * seg.sigma * seg.sigma).exp() / mean_s;
            SEASONALITY_RAW.map(|s| s * k)
        })
        .collect();
    let mut out = Outcome {
        total: Vec::with_capacity(scenarios),
        binds: Vec::with_capacity(scenarios),
        tiers: Vec::with_capacity(scenarios),
    };
    for s in 0..scenarios as u64 {
        let z: f64 = stream(seed, s, 0, PURPOSE_MARKET).sample(StandardNormal);
        let market = (MARKET_SIGMA * z - 0.5 * MARKET_SIGMA * MARKET_SIGMA).exp();
        let mut total = 0.0;
        let mut counts = [0u32; 4];
        for (i, (&base, &seg)) in p.monthly_base.iter().zip(&p.segment).enumerate() {
            let sp = &SEGMENTS[seg as usize];
            let w = &weights[seg as usize];
            let mut rng = stream(seed, s, i as u64, PURPOSE_NOISE);
            // the year's 12 normals first, then the lognormal factors (independent exps)
            let mut z = [0.0f64; MONTHS];
            for zm in z.iter_mut() {
                *zm = rng.sample(StandardNormal);
            }
            let mut acc = 0.0;
            for (wm, zm) in w.iter().zip(&z) {
                acc += wm * (sp.sigma * zm).exp();
            }
            let revenue = base * market * acc;
            let tier = sp.thresholds.iter().take_while(|&&t| revenue >= t).count();
            counts[tier] += 1;
            total += (sp.rates[tier] * revenue).min(sp.cap);
        }
        let binds = total > BUDGET;
        if binds {
            total = BUDGET; // pro-rata cut: the total equals the budget
        }
        out.total.push(total);
        out.binds.push(binds);
        out.tiers.push(counts);
    }
    out
}

fn main() {
    let args = common::parse_args(false).unwrap_or_else(|e| common::fail("hand_loop", e));
    let path = common::partners_csv(args.partners.as_deref())
        .unwrap_or_else(|e| common::fail("hand_loop", e));
    let partners = load_partners(&path).unwrap_or_else(|e| common::fail("hand_loop", e));

    let t0 = Instant::now();
    let out = simulate(&partners, args.scenarios, args.seed);
    let stats = common::statistics(&out.total, &out.binds, &out.tiers);
    let seconds = t0.elapsed().as_secs_f64();
    common::print_report(
        stats,
        "hand_loop",
        partners.monthly_base.len(),
        &args,
        1,
        seconds,
    );
}
