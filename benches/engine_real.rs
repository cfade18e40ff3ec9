//! A realistic workload through the Rust engine directly (no Python): `rebatesim::engine::simulate`
//! on `<dir>/{programme.toml,model.toml,partners.csv}` (e.g. `examples/distributor`,
//! `examples/bench_real`), for profiling the general path (`perf record`, callgrind).
//!
//! ```text
//! cargo bench --bench engine_real -- [--dir examples/distributor] [--scenarios N] [--seed S] [--threads T]
//!     [--categories-per-order X]
//! ```
//! `--categories-per-order X` sets the model's `[orders] categories_per_order` (the
//! `order_categories` workload: the distributor example with X = 1.75, the demo's calibrated
//! value, so every buying month draws its orders and their categories).
//! Prints one line: seconds, partner-months per second and the mean payout (to compare builds).

use std::path::PathBuf;
use std::time::Instant;

use rebatesim::demand::Model;
use rebatesim::engine::{simulate, SimOptions};
use rebatesim::population::Population;
use rebatesim::programme::Programme;

fn main() {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/distributor");
    let (mut scenarios, mut seed, mut threads) = (20usize, 1u64, 1usize);
    let mut categories_per_order: Option<f64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().expect("a value after the option");
        match a.as_str() {
            "--dir" => dir = PathBuf::from(value()),
            "--scenarios" => scenarios = value().parse().expect("--scenarios N"),
            "--seed" => seed = value().parse().expect("--seed S"),
            "--threads" => threads = value().parse().expect("--threads T"),
            "--categories-per-order" => {
                categories_per_order = Some(value().parse().expect("--categories-per-order X"))
            }
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    let programme = Programme::from_file(dir.join("programme.toml"))
        .and_then(|p| p.compile())
        .expect("programme");
    let mut model = Model::from_file(dir.join("model.toml")).expect("model");
    if categories_per_order.is_some() {
        model.orders.categories_per_order = categories_per_order;
    }
    let population = Population::from_csv_path(dir.join("partners.csv")).expect("partners");
    let options = SimOptions {
        scenarios,
        seed,
        threads: Some(threads),
        ..Default::default()
    };
    let t0 = Instant::now();
    let r = simulate(&programme, &population, &model, &options).expect("simulate");
    let seconds = t0.elapsed().as_secs_f64();
    let mean = r.payout.iter().sum::<f64>() / r.payout.len() as f64;
    let months = 12.0;
    let pm = population.len() as f64 * months * scenarios as f64 / seconds;
    println!(
        "{{\"dir\": {:?}, \"scenarios\": {scenarios}, \"threads\": {threads}, \"seconds\": {seconds:.4}, \"m_partner_months_per_s\": {:.3}, \"mean_payout\": {mean:.6}}}",
        dir.display(),
        pm / 1e6
    );
}
