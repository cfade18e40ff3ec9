//! Random numbers keyed by what they are for.
//!
//! The simulation never draws from one long sequence. Every random quantity belongs to a
//! *stream* identified by `(seed, scenario, partner, purpose)`: the key is mixed with a fixed
//! function (the SplitMix64 finaliser, applied once per key part) into a 64-bit state that seeds
//! a Xoshiro256++ generator. Consequences:
//!
//! - results do not depend on the number of threads or on how scenarios are chunked, since a
//!   scenario's numbers depend only on its key;
//! - changing the programme, or a behavioural decision that consumes (or does not consume) a
//!   draw, never shifts the demand draws: each stream serves exactly one purpose, so comparisons
//!   between designs keep *common random numbers* exactly;
//! - the mixing function is spelled out here (not `DefaultHasher`, whose algorithm may change
//!   between Rust releases), and `Cargo.lock` pins `rand_xoshiro` and `rand_distr`; golden-value
//!   tests guard against a silent change of any of them.
//!
//! Standard normal variates come from `rand_distr`'s ziggurat sampler, which consumes a
//! variable number of raw draws; that is harmless because no stream is shared between purposes.
//! The exception is the most numerous draw of all, the monthly demand noise
//! ([`Purpose::Noise`]): its normals are counter-based ([`normals`]: normal `m` of a partner is
//! a function of its noise key and `m`, computed in `f32` with its lognormal factor), so that a
//! year of them, or a block of partners' years, is computed in vector registers.

pub mod normals;

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator behind every stream.
pub type Stream = Xoshiro256PlusPlus;

/// What a stream of random numbers is used for. The discriminants are part of the key and
/// therefore of the results: never renumber them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Purpose {
    /// Market-wide factor of a scenario (partner slot 0).
    Market = 1,
    /// Segment factor of a scenario (partner slot = segment index).
    Segment = 2,
    /// Persistent partner factor for the year.
    PartnerFactor = 3,
    /// Monthly demand noise of a partner (normal `m` for programme month `m`, counter-based:
    /// [`normals`]).
    Noise = 4,
    /// Churn month of a partner.
    Churn = 5,
    /// Order process (number of orders and order sizes) of a partner.
    Orders = 6,
    /// Stretch-to-next-tier decisions of a partner (one uniform per period, in order).
    Stretch = 7,
    /// Synthetic population baselines (scenario slot 0).
    Population = 8,
    /// Purchase incidence of a partner: uniform `m` decides whether it buys in programme
    /// month `m`.
    Incidence = 9,
    /// Which parameter draw a scenario runs under when the run has parameter draws
    /// ([`crate::engine::SimOptions::parameter_draws`]; partner slot 0).
    ParameterDraw = 10,
    /// The categories each order of a partner-month carries (`orders.categories_per_order`;
    /// keyed by the partner's key and the month: one stream per partner-month).
    OrderCategories = 11,
    /// The partner's category mix for the scenario (`economics.mix_concentration`: one gamma
    /// variate per category with a positive share, in category order).
    PartnerMix = 12,
}

/// The SplitMix64 finaliser (Steele, Lea and Flood 2014; the constants of `java.util.SplittableRandom`).
#[inline]
pub const fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 64-bit key of the stream `(seed, scenario, partner, purpose)`.
#[inline]
pub const fn key(seed: u64, scenario: u64, partner: u64, purpose: Purpose) -> u64 {
    purpose_key(partner_key(scenario_key(seed, scenario), partner), purpose)
}

/// The part of [`key`] fixed by `(seed, scenario)`: compute it once per scenario and derive
/// the partners' keys from it with [`partner_key`] (same keys, two mixes fewer per partner).
#[inline]
pub const fn scenario_key(seed: u64, scenario: u64) -> u64 {
    let h = splitmix64(seed ^ 0x5245_4241_5445_5349); // "REBATESI"
    splitmix64(h ^ scenario)
}

/// The part of [`key`] fixed by `(seed, scenario, partner)`, from [`scenario_key`].
#[inline]
pub const fn partner_key(scenario_key: u64, partner: u64) -> u64 {
    splitmix64(scenario_key ^ partner)
}

/// The key of a purpose's stream from [`partner_key`]:
/// `purpose_key(partner_key(scenario_key(seed, s), i), p) == key(seed, s, i, p)`.
#[inline]
pub const fn purpose_key(partner_key: u64, purpose: Purpose) -> u64 {
    splitmix64(partner_key ^ purpose as u64)
}

/// The stream of `purpose` for a partner's [`partner_key`]; equal to
/// [`stream`]`(seed, scenario, partner, purpose)`.
#[inline]
pub fn stream_of(partner_key: u64, purpose: Purpose) -> Stream {
    Xoshiro256PlusPlus::seed_from_u64(purpose_key(partner_key, purpose))
}

/// The generator of stream `(seed, scenario, partner, purpose)`.
#[inline]
pub fn stream(seed: u64, scenario: u64, partner: u64, purpose: Purpose) -> Stream {
    // seed_from_u64 expands the key into the 256-bit state with SplitMix64 (rand_core's
    // documented behaviour for Xoshiro generators), so nearby keys give unrelated states.
    Xoshiro256PlusPlus::seed_from_u64(key(seed, scenario, partner, purpose))
}

/// A standard normal variate (ziggurat).
#[inline]
pub fn normal(rng: &mut Stream) -> f64 {
    StandardNormal.sample(rng)
}

/// The monthly noise of a partner for the log-scale `sigma`: `out[m]` is the lognormal factor
/// `e^(σZ_m − σ²/2)` of normal `m` of the partner's [`Purpose::Noise`] key
/// ([`normals::fill_factors`]).
#[inline]
pub fn noise_factors(partner_key: u64, sigma: f64, out: &mut [f64]) {
    normals::fill_factors(purpose_key(partner_key, Purpose::Noise), sigma, out);
}

/// A uniform variate in [0, 1).
#[inline]
pub fn uniform(rng: &mut Stream) -> f64 {
    rng.random::<f64>()
}

/// A uniform variate in (0, 1] (safe for `ln`).
#[inline]
pub fn uniform_open0(rng: &mut Stream) -> f64 {
    1.0 - rng.random::<f64>()
}

/// A mean-one lognormal factor `exp(σZ − σ²/2)`; exactly 1 without a draw when σ = 0.
#[inline]
pub fn mean_one_lognormal(rng: &mut Stream, sigma: f64) -> f64 {
    if sigma == 0.0 {
        1.0
    } else {
        (sigma * normal(rng) - 0.5 * sigma * sigma).exp()
    }
}

/// A Poisson variate with mean `lambda` (rand_distr's sampler; 0 when `lambda` is 0).
#[inline]
pub fn poisson(rng: &mut Stream, lambda: f64) -> u64 {
    poisson_from(rng, poisson_law(lambda).as_ref())
}

/// The Poisson law [`poisson`] samples for a mean `lambda`, to make once and draw from many
/// times with [`poisson_from`] (`None` where it draws nothing and gives 0: a mean of 0 or
/// less, or one `rand_distr` refuses).
pub fn poisson_law(lambda: f64) -> Option<rand_distr::Poisson<f64>> {
    if lambda <= 0.0 {
        return None;
    }
    rand_distr::Poisson::new(lambda).ok()
}

/// A draw of `law` ([`poisson_law`]; 0 for `None`): what [`poisson`] draws for the same mean,
/// consuming the same numbers of `rng`.
#[inline]
pub fn poisson_from(rng: &mut Stream, law: Option<&rand_distr::Poisson<f64>>) -> u64 {
    match law {
        Some(d) => {
            let x: f64 = d.sample(rng);
            x as u64
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs of SplitMix64 seeded with 0 (reference sequence of the algorithm):
        // state advances by the golden gamma and the finaliser is applied.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn keys_differ_by_every_part() {
        let k = key(1, 2, 3, Purpose::Noise);
        assert_ne!(k, key(2, 2, 3, Purpose::Noise));
        assert_ne!(k, key(1, 3, 3, Purpose::Noise));
        assert_ne!(k, key(1, 2, 4, Purpose::Noise));
        assert_ne!(k, key(1, 2, 3, Purpose::Churn));
        // partner and scenario are not interchangeable
        assert_ne!(key(1, 2, 3, Purpose::Noise), key(1, 3, 2, Purpose::Noise));
    }

    #[test]
    fn hoisted_keys_are_the_same_keys() {
        // the spelled-out mix of the key, as the benches and older releases compute it
        let spelled = |seed: u64, s: u64, i: u64, p: u64| {
            let mut h = splitmix64(seed ^ 0x5245_4241_5445_5349);
            h = splitmix64(h ^ s);
            h = splitmix64(h ^ i);
            splitmix64(h ^ p)
        };
        for (seed, s, i) in [(0, 0, 0), (1, 7, 9_999), (u64::MAX, 3, 1 << 40)] {
            let sk = scenario_key(seed, s);
            for p in [Purpose::Market, Purpose::Noise, Purpose::Stretch] {
                assert_eq!(key(seed, s, i, p), spelled(seed, s, i, p as u64));
                assert_eq!(purpose_key(partner_key(sk, i), p), key(seed, s, i, p));
                let (mut a, mut b) = (stream_of(partner_key(sk, i), p), stream(seed, s, i, p));
                assert_eq!(normal(&mut a).to_bits(), normal(&mut b).to_bits());
            }
        }
    }

    #[test]
    fn golden_values() {
        // Guards the mixing function, rand_xoshiro and rand_distr's ziggurat: if any of them
        // changes, every published result changes, so this must fail loudly.
        let mut s = stream(42, 0, 0, Purpose::Noise);
        let n: Vec<f64> = (0..3).map(|_| normal(&mut s)).collect();
        let mut u = stream(2027, 7, 123, Purpose::Churn);
        let v = uniform(&mut u);
        let got = format!(
            "{:016x} {:016x} {:.12} {:.12} {:.12} {:.12}",
            key(42, 0, 0, Purpose::Noise),
            key(2027, 7, 123, Purpose::Churn),
            n[0],
            n[1],
            n[2],
            v
        );
        assert_eq!(got, GOLDEN);
    }

    const GOLDEN: &str = "ce77adfb7d4f2a83 690b48b6dea4c5a5 -1.438282709685 -2.327965923952 0.141717829639 0.095369832425";

    #[test]
    fn normal_moments() {
        let mut s = stream(7, 1, 1, Purpose::Noise);
        let n = 200_000;
        let (mut m, mut m2) = (0.0, 0.0);
        for _ in 0..n {
            let z = normal(&mut s);
            m += z;
            m2 += z * z;
        }
        m /= n as f64;
        m2 /= n as f64;
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((m2 - 1.0).abs() < 0.015, "variance {m2}");
    }
}
