//! bench-std through the Rust engine directly: `rebatesim::engine::simulate` on
//! `examples/bench_std/{programme,model}.toml` and the partner CSV, timed the same way as the
//! hand loop (simulation and the statistics; loading and compiling excluded), printing the
//! same JSON object.
//!
//! ```text
//! cargo bench --bench engine_std -- [--scenarios N] [--seed S] [--threads T (0 = all)] [--partners PATH] [--model PATH]
//! ```
//! `--model` replaces bench-std's demand model, e.g. by one with a behavioural response
//! (`examples/bench_std/model_stretch.toml`), which runs the engine's general path instead of
//! its fast path; the statistics are then not bench-std's.
//! `benches/bench_std.py` measures the engine through the Python package; this driver is
//! the engine without Python in between (`--engine rust` there). The engine and the hand
//! loop share the market factor's draws but not the monthly noise's (the engine's normals and
//! their lognormal factors are counter-based and computed in `f32`, `rebatesim::rng::normals`;
//! the hand loop's are ziggurat normals and `f64::exp`), so their statistics agree within
//! sampling error.

mod common;

use std::path::Path;
use std::time::Instant;

use rebatesim::demand::Model;
use rebatesim::engine::{simulate, SimOptions};
use rebatesim::population::Population;
use rebatesim::programme::Programme;

fn main() {
    fn fail(e: &dyn std::fmt::Display) -> ! {
        common::fail("engine_std", e)
    }
    let args = common::parse_args(true).unwrap_or_else(|e| fail(&e));
    let path = common::partners_csv(args.partners.as_deref()).unwrap_or_else(|e| fail(&e));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("bench_std");
    let programme = Programme::from_file(dir.join("programme.toml"))
        .and_then(|p| p.compile())
        .unwrap_or_else(|e| fail(&e));
    let model_path = args.model.clone().unwrap_or_else(|| dir.join("model.toml"));
    let model = Model::from_file(model_path).unwrap_or_else(|e| fail(&e));
    let population = Population::from_csv_path(&path).unwrap_or_else(|e| fail(&e));
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = SimOptions {
        scenarios: args.scenarios,
        seed: args.seed,
        threads: Some(threads),
        ..Default::default()
    };

    let t0 = Instant::now();
    let r = simulate(&programme, &population, &model, &options).unwrap_or_else(|e| fail(&e));
    // partners per tier index over the ladders (one per segment in bench-std)
    let width: usize = r.ladders.iter().map(|l| l.tiers + 1).sum();
    let tiers: Vec<[u32; 4]> = (0..r.scenarios)
        .map(|s| {
            let mut row = [0u32; 4];
            for l in &r.ladders {
                for (t, slot) in row.iter_mut().enumerate().take(l.tiers + 1) {
                    *slot += r.tier_counts[s * width + l.offset + t];
                }
            }
            row
        })
        .collect();
    let stats = common::statistics(&r.payout, &r.budget_binds, &tiers);
    let seconds = t0.elapsed().as_secs_f64();
    common::print_report(
        stats,
        "engine_rust",
        population.len(),
        &args,
        threads,
        seconds,
    );
}
