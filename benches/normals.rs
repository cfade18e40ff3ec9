//! Throughput of the engine's counter-based normals (`rebatesim::rng::normals::fill`, `f32`)
//! and lognormal factors (`normals::fill_factors`) against `rand_distr`'s ziggurat on a
//! Xoshiro256++ stream per key (with `f64::exp` for a factor), for a year (12 values) per key,
//! one key per call and many keys per call.
//!
//! ```text
//! cargo bench --bench normals
//! ```

use std::hint::black_box;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use rebatesim::rng::normals;

const KEYS: usize = 100_000;
const MONTHS: usize = 12;

fn rate(label: &str, reps: usize, mut f: impl FnMut() -> f64) {
    let mut best = f64::INFINITY;
    let mut sink = 0.0;
    for _ in 0..reps {
        let t = Instant::now();
        sink += f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    black_box(sink);
    let n = (KEYS * MONTHS) as f64;
    println!(
        "{label:<40} {:>8.1} M values/s  {:>6.2} ns/value",
        n / best / 1e6,
        best / n * 1e9
    );
}

fn main() {
    let keys: Vec<u64> = (0..KEYS as u64).map(rebatesim::rng::splitmix64).collect();
    let mut out = vec![0.0f32; KEYS * MONTHS];
    let mut fac = vec![0.0f64; KEYS * MONTHS];
    rate("ziggurat, Xoshiro256++ per key", 5, || {
        let mut s = 0.0;
        for &k in &keys {
            let mut r = Xoshiro256PlusPlus::seed_from_u64(k);
            for _ in 0..MONTHS {
                let z: f64 = r.sample(StandardNormal);
                s += z;
            }
        }
        s
    });
    rate("ziggurat + f64::exp (a factor), per key", 5, || {
        let mut s = 0.0;
        for &k in &keys {
            let mut r = Xoshiro256PlusPlus::seed_from_u64(k);
            for _ in 0..MONTHS {
                let z: f64 = r.sample(StandardNormal);
                s += (0.35 * z - 0.06125).exp();
            }
        }
        s
    });
    rate("counter-based, one key per call", 5, || {
        for (k, o) in keys.iter().zip(out.chunks_exact_mut(MONTHS)) {
            normals::fill(std::slice::from_ref(k), MONTHS, o);
        }
        out[7] as f64
    });
    for block in [4usize, 8, 16, 64] {
        rate(&format!("counter-based, {block} keys per call"), 5, || {
            for (k, o) in keys.chunks(block).zip(out.chunks_mut(block * MONTHS)) {
                normals::fill(k, MONTHS, o);
            }
            out[7] as f64
        });
    }
    rate("counter-based factors, one key per call", 5, || {
        for (&k, o) in keys.iter().zip(fac.chunks_exact_mut(MONTHS)) {
            normals::fill_factors(k, 0.35, o);
        }
        fac[7]
    });
}
