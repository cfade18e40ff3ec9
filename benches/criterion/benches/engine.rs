//! Criterion benchmark of the Monte Carlo engine on bench-std (`shared/bench/bench-std.md`).
//!
//! `rebatesim::engine::simulate` on `examples/bench_std/{programme,model}.toml` and
//! `../shared/bench/partners_10k.csv` (10,000 partners × 12 months) at small scenario counts,
//! at 1 thread and at all cores. Inputs are loaded and compiled once, outside the measured
//! closure. Throughput is reported in elements = partner-months, so criterion's "elem/s" is
//! the bench-std unit (partner-months per second).
//!
//! It lives in its own small package (`benches/criterion/`) so that criterion and its
//! dependencies are not compiled by the project's `cargo test`:
//!
//! ```text
//! cargo bench --manifest-path benches/criterion/Cargo.toml
//! ```
//! The full comparison (NumPy, hand-written loop, ratios, memory) is `benches/bench_std.py`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rebatesim::demand::Model;
use rebatesim::engine::{simulate, SimOptions};
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Programme};

/// The rebatesim project root: this package is `benches/criterion/` inside it.
fn project_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.join("..").join("..").canonicalize().expect("the rebatesim project root")
}

/// `shared/bench/partners_10k.csv` in a parent directory of the project root (the main
/// checkout's parent, or further up for a worktree), or `$REBATESIM_BENCH_PARTNERS`.
fn partners_csv() -> PathBuf {
    if let Ok(p) = std::env::var("REBATESIM_BENCH_PARTNERS") {
        return PathBuf::from(p);
    }
    let root = project_root();
    let root = root.as_path();
    let rel = Path::new("shared").join("bench").join("partners_10k.csv");
    root.ancestors()
        .skip(1)
        .map(|dir| dir.join(&rel))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "bench-std partner table not found: looked for {} above {}; \
                 set REBATESIM_BENCH_PARTNERS",
                rel.display(),
                root.display()
            )
        })
}

fn inputs() -> (Compiled, Population, Model) {
    let dir = project_root()
        .join("examples")
        .join("bench_std");
    let programme = Programme::from_file(dir.join("programme.toml"))
        .and_then(|p| p.compile())
        .expect("examples/bench_std/programme.toml");
    let model = Model::from_file(dir.join("model.toml")).expect("examples/bench_std/model.toml");
    let population = Population::from_csv_path(partners_csv()).expect("bench-std partner table");
    (programme, population, model)
}

fn bench_std(c: &mut Criterion) {
    let (programme, population, model) = inputs();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("bench_std");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    let mut cases = vec![(1, 20), (1, 100)];
    if cores > 1 {
        cases.push((cores, 100));
    }
    for (threads, scenarios) in cases {
        group.throughput(Throughput::Elements(
            (population.len() * 12 * scenarios) as u64,
        ));
        let options = SimOptions {
            scenarios,
            seed: 1,
            threads: Some(threads),
            ..Default::default()
        };
        group.bench_with_input(
            BenchmarkId::new(format!("simulate_{threads}_thread"), scenarios),
            &options,
            |b, options| {
                b.iter(|| {
                    simulate(black_box(&programme), &population, &model, options)
                        .expect("bench-std simulates")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_std);
criterion_main!(benches);
