//! bench-std as a minimal hand-written Rust loop: the yardstick for the engine.
//!
//! The workload is `shared/bench/bench-std.md` (10,000 partners from
//! `../shared/bench/partners_10k.csv` relative to the project root, 12 months, one market
//! factor per scenario, lognormal partner-month noise, a retroactive ladder per segment on
//! annual revenue, a partner cap, a programme budget with a pro-rata cut).
//!
//! It is the fastest honest straightforward single-threaded code for exactly this model,
//! with the random-number discipline the engine uses: a Xoshiro256++ stream per
//! (scenario, partner) -- and one per scenario for the market factor -- keyed by a
//! SplitMix64 mix of (seed, scenario, partner, purpose), and ziggurat normals from
//! `rand_distr`. The key is spelled exactly as in `src/rng.rs` (same constant, same purpose
//! numbers), so for the same seed the hand loop draws the same numbers as the engine and
//! their statistics must match closely, not merely within sampling error. Nothing generic:
//! no programme interpretation, no per-partner outputs.
//!
//! ```text
//! cargo bench --bench hand_loop -- [--scenarios N] [--seed S] [--partners PATH]
//! ```
//! prints one JSON object: timing (simulation only; CSV loading excluded), partner-months
//! per second, and the bench-std statistics. `benches/bench_std.py` builds and runs it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

const MONTHS: usize = 12;
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

struct Args {
    scenarios: u64,
    seed: u64,
    partners: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        scenarios: 2000,
        seed: 1,
        partners: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--scenarios" => {
                args.scenarios = value("--scenarios")?
                    .parse()
                    .map_err(|e| format!("--scenarios: {e}"))?;
                if args.scenarios == 0 {
                    return Err("--scenarios must be at least 1".into());
                }
            }
            "--seed" => {
                args.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--partners" => args.partners = Some(PathBuf::from(value("--partners")?)),
            // `cargo bench` passes --bench to harness = false targets.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// `../shared/bench/partners_10k.csv` relative to the project root, looking further up the
/// tree too (a git worktree may sit one level deeper than the main checkout).
fn find_partners() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("REBATESIM_BENCH_PARTNERS") {
        return Ok(PathBuf::from(p));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = Path::new("shared").join("bench").join("partners_10k.csv");
    root.ancestors()
        .skip(1)
        .map(|dir| dir.join(&rel))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "bench-std partner table not found: looked for {} above {}; \
                 pass --partners PATH or set REBATESIM_BENCH_PARTNERS",
                rel.display(),
                root.display()
            )
        })
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
    binds: u64,
    tier_counts: [u64; 4],
    tier_sq: [f64; 4], // sum of squared per-scenario counts, for standard errors
}

fn simulate(p: &Partners, scenarios: u64, seed: u64) -> Outcome {
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
        total: Vec::with_capacity(scenarios as usize),
        binds: 0,
        tier_counts: [0; 4],
        tier_sq: [0.0; 4],
    };
    for s in 0..scenarios {
        let z: f64 = stream(seed, s, 0, PURPOSE_MARKET).sample(StandardNormal);
        let market = (MARKET_SIGMA * z - 0.5 * MARKET_SIGMA * MARKET_SIGMA).exp();
        let mut total = 0.0;
        let mut counts = [0u64; 4];
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
        if total > BUDGET {
            out.binds += 1;
            total = BUDGET; // pro-rata cut: the total equals the budget
        }
        out.total.push(total);
        for (t, &c) in counts.iter().enumerate() {
            out.tier_counts[t] += c;
            out.tier_sq[t] += (c * c) as f64;
        }
    }
    out
}

/// Percentile with linear interpolation between order statistics (NumPy's default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("hand_loop: {e}");
        std::process::exit(2)
    });
    let path = match args.partners.clone().map(Ok).unwrap_or_else(find_partners) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hand_loop: {e}");
            std::process::exit(2)
        }
    };
    let partners = load_partners(&path).unwrap_or_else(|e| {
        eprintln!("hand_loop: {e}");
        std::process::exit(2)
    });

    let t0 = Instant::now();
    let out = simulate(&partners, args.scenarios, args.seed);
    let n = out.total.len() as f64;
    let mean = out.total.iter().sum::<f64>() / n;
    let var = out
        .total
        .iter()
        .map(|x| (x - mean) * (x - mean))
        .sum::<f64>()
        / (n - 1.0);
    let mut sorted = out.total.clone();
    sorted.sort_by(f64::total_cmp);
    let seconds = t0.elapsed().as_secs_f64();

    let np = partners.monthly_base.len();
    let share = out.binds as f64 / n;
    let tier_mean = out.tier_counts.map(|c| c as f64 / n);
    let mut tier_se = [0.0; 4];
    for t in 0..4 {
        let var = (out.tier_sq[t] - n * tier_mean[t] * tier_mean[t]) / (n - 1.0);
        tier_se[t] = (var.max(0.0) / n).sqrt();
    }
    let json = serde_json::json!({
        "contender": "hand_loop",
        "partners": np,
        "scenarios": args.scenarios,
        "seed": args.seed,
        "seconds": seconds,
        "partner_months_per_s": (np * MONTHS) as f64 * n / seconds,
        "mean_payout": mean,
        "mean_payout_se": (var / n).sqrt(),
        "p50": percentile(&sorted, 0.50),
        "p95": percentile(&sorted, 0.95),
        "p99": percentile(&sorted, 0.99),
        "budget_binding_share": share,
        "budget_binding_share_se": (share * (1.0 - share) / n).sqrt(),
        "mean_partners_per_tier": tier_mean,
        "mean_partners_per_tier_se": tier_se,
    });
    println!("{json}");
}
