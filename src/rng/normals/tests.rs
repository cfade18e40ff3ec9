use super::*;
use rand::{RngCore, SeedableRng};

#[test]
fn splitmix_is_rand_xoshiro_splitmix64() {
    for key in [0u64, 1, 0xDEAD_BEEF, u64::MAX] {
        let mut g = rand_xoshiro::SplitMix64::seed_from_u64(key);
        for c in 0..20 {
            assert_eq!(splitmix_at(key, c), g.next_u64(), "key {key} output {c}");
        }
    }
}

#[test]
fn radius_uniform_covers_zero_to_one() {
    assert_eq!(radius_uniform(0), TWO_M31);
    assert_eq!(radius_uniform(u64::MAX), 1.0);
    assert_eq!(radius_uniform(1 << 33), 2.0 * TWO_M31);
    // the largest normal: √(−2 ln 2⁻³¹)
    let (c, _) = box_muller(0);
    assert!(
        (c as f64 - (62.0 * std::f64::consts::LN_2).sqrt()).abs() < 1e-5,
        "{c}"
    );
}

#[test]
fn ln_matches_std() {
    let mut worst: f64 = 0.0;
    let mut g = rand_xoshiro::SplitMix64::seed_from_u64(5);
    let ulp = f32::EPSILON;
    for i in 0..200_000u64 {
        let u = if i < 1000 {
            // the ends and the reduction boundary
            match i % 4 {
                0 => 1.0 - (i / 4) as f32 * ulp / 2.0,
                1 => (i as f32 + 1.0) * TWO_M31,
                2 => SQRT2 / 2.0 * (1.0 + ((i / 4) as f32 - 125.0) * ulp),
                _ => 0.5 + ((i / 4) as f32 - 125.0) * ulp,
            }
        } else {
            radius_uniform(g.next_u64())
        };
        let (got, want) = (ln(u) as f64, (u as f64).ln());
        if want == 0.0 {
            assert_eq!(got, 0.0);
            continue;
        }
        worst = worst.max(((got - want) / want).abs());
    }
    assert!(worst < 3e-7, "worst relative error of ln: {worst:e}");
    assert_eq!(ln(1.0), 0.0);
}

#[test]
fn sin_cos_match_std() {
    let (mut ws, mut wc): (f64, f64) = (0.0, 0.0);
    let mut g = rand_xoshiro::SplitMix64::seed_from_u64(9);
    let ends = [
        0u64,
        1,
        0x00FF_FFFF,
        1 << 21,
        (1 << 21) - 1,
        1 << 22,
        3 << 21,
        1 << 23,
        u64::MAX,
    ];
    for i in 0..200_000 {
        let x = if i < ends.len() {
            ends[i]
        } else {
            g.next_u64()
        };
        let phi = 2.0 * std::f64::consts::PI * ((x & 0x00FF_FFFF) as f64 / 16_777_216.0);
        let (s, c) = sin_cos_turn(x);
        // absolute error (near a zero of sin or cos the relative error measures φ's own
        // rounding, not the polynomial)
        ws = ws.max((s as f64 - phi.sin()).abs());
        wc = wc.max((c as f64 - phi.cos()).abs());
    }
    assert!(ws < 2e-7 && wc < 2e-7, "sin {ws:e} cos {wc:e}");
    assert_eq!(sin_cos_turn(0), (0.0, 1.0));
    assert_eq!(sin_cos_turn(1 << 22), (1.0, 0.0));
}

#[test]
fn exp_matches_std() {
    let mut worst: f64 = 0.0;
    let mut g = rand_xoshiro::SplitMix64::seed_from_u64(3);
    for i in 0..200_000u64 {
        let x = if i < 1000 {
            // the ends, zero and the reduction's boundaries (odd multiples of ln 2 / 2)
            match i % 4 {
                0 => EXP_LO + (i as f32) * 1e-3,
                1 => EXP_HI - (i as f32) * 1e-3,
                2 => (i as f32 - 500.0) * 1e-6,
                _ => ((i as f32 - 500.0) + 0.5) * std::f32::consts::LN_2,
            }
        } else {
            // mostly where the noise lives, some over the whole range
            let u = (g.next_u64() >> 40) as f32 / 16_777_216.0;
            if i % 2 == 0 {
                -25.0 + 45.0 * u
            } else {
                EXP_LO + (EXP_HI - EXP_LO) * u
            }
        };
        let x = x.clamp(EXP_LO, EXP_HI);
        let (got, want) = (exp(x) as f64, (x as f64).exp());
        worst = worst.max(((got - want) / want).abs());
    }
    assert!(worst < 3e-7, "worst relative error of exp: {worst:e}");
    assert_eq!(exp(0.0), 1.0);
    // clamped outside the range (finite, normal numbers)
    assert_eq!(exp(-1000.0), exp(EXP_LO));
    assert_eq!(exp(1000.0), exp(EXP_HI));
    assert!(exp(EXP_HI).is_finite() && exp(EXP_LO).is_normal());
}

#[test]
fn fill_equals_normal_at_for_any_shape() {
    let keys: Vec<u64> = (0..23u64).map(crate::rng::splitmix64).collect();
    for per_key in [1usize, 2, 3, 11, 12, 13, 24, 25, 40] {
        for nk in [1usize, 2, 5, 23] {
            let mut out = vec![f32::NAN; nk * per_key];
            fill(&keys[..nk], per_key, &mut out);
            let mut port = vec![f32::NAN; nk * per_key];
            fill_normals_kernel(&keys[..nk], per_key, &mut port);
            for k in 0..nk {
                for m in 0..per_key {
                    let want = normal_at(keys[k], m as u64);
                    assert_eq!(out[k * per_key + m].to_bits(), want.to_bits());
                    assert_eq!(port[k * per_key + m].to_bits(), want.to_bits());
                }
            }
        }
    }
}

#[test]
fn fill_factors_equals_factor_at_for_any_length() {
    for key in [0u64, 7, crate::rng::splitmix64(99)] {
        for sigma in [0.0, 0.15, 0.35, 1.0, 3.0] {
            for n in [0usize, 1, 2, 11, 12, 13, 16, 17, 24, 33, 60] {
                let mut out = vec![f64::NAN; n];
                fill_factors(key, sigma, &mut out);
                let mut port = vec![f64::NAN; n];
                let (s, h) = factor_params(sigma);
                fill_factors_kernel(key, s, h, &mut port);
                for m in 0..n {
                    let want = factor_at(key, sigma, m as u64);
                    assert_eq!(out[m].to_bits(), want.to_bits(), "σ {sigma} n {n} m {m}");
                    assert_eq!(port[m].to_bits(), want.to_bits(), "σ {sigma} n {n} m {m}");
                    if sigma == 0.0 {
                        assert_eq!(want, 1.0);
                    }
                }
            }
        }
    }
}

#[test]
fn prefixes_agree() {
    // normal m does not depend on how many are drawn
    let mut a = vec![0.0; 12];
    let mut b = vec![0.0; 24];
    fill(&[77], 12, &mut a);
    fill(&[77], 24, &mut b);
    assert_eq!(a[..], b[..12]);
    let mut c = vec![0.0; 7];
    fill(&[77], 7, &mut c);
    assert_eq!(c[..], a[..7]);
    let mut f = vec![0.0; 12];
    let mut g = vec![0.0; 31];
    fill_factors(77, 0.3, &mut f);
    fill_factors(77, 0.3, &mut g);
    assert_eq!(f[..], g[..12]);
}

/// Φ(x), the standard normal CDF.
fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// erfc by Numerical Recipes' Chebyshev fit (relative error < 1.2e-7, ample for a KS test).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// 12 months for each of 40,000 keys as the engine derives them.
fn engine_keys() -> Vec<u64> {
    let sk = crate::rng::scenario_key(1, 0);
    (0..40_000u64)
        .map(|i| {
            crate::rng::purpose_key(crate::rng::partner_key(sk, i), crate::rng::Purpose::Noise)
        })
        .collect()
}

#[test]
fn distribution_is_standard_normal() {
    let keys = engine_keys();
    let mut z32 = vec![0.0f32; keys.len() * 12];
    fill(&keys, 12, &mut z32);
    let z: Vec<f64> = z32.iter().map(|&x| x as f64).collect();
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let skew = z.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
    let kurt = z.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    // standard errors at n = 480,000: mean 0.0014, variance 0.002, skew 0.0035, kurt 0.011
    assert!(mean.abs() < 0.006, "mean {mean}");
    assert!((var - 1.0).abs() < 0.009, "variance {var}");
    assert!(skew.abs() < 0.016, "third moment {skew}");
    assert!((kurt - 3.0).abs() < 0.05, "fourth moment {kurt}");
    // Kolmogorov–Smirnov against Φ: critical value at 0.1% is 1.95/√n
    let mut s = z.clone();
    s.sort_by(f64::total_cmp);
    let d = s
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = phi(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    assert!(d < 1.95 / n.sqrt(), "KS distance {d}");
    // tails: P(|Z| > 3) = 0.0026998, P(|Z| > 4) = 6.334e-5
    for (c, p) in [(3.0, 0.0026998), (4.0, 6.334e-5)] {
        let tail = z.iter().filter(|x| x.abs() > c).count() as f64 / n;
        assert!(
            (tail - p).abs() < 4.0 * (p / n).sqrt(),
            "tail beyond {c}: {tail}"
        );
    }
    // months are uncorrelated: lag-1 correlation within a key, and the sine/cosine halves
    let mut c1 = 0.0;
    let mut c2 = 0.0;
    for k in 0..keys.len() {
        let y = &z[k * 12..(k + 1) * 12];
        c1 += y[0] * y[1]; // a Box–Muller pair
        c2 += y[1] * y[2]; // neighbours from different pairs
    }
    let (c1, c2) = (c1 / keys.len() as f64, c2 / keys.len() as f64);
    assert!(
        c1.abs() < 0.025 && c2.abs() < 0.025,
        "correlations {c1} {c2}"
    );
    // squares of a pair are uncorrelated too (Box–Muller pairs are independent, not just
    // uncorrelated): E[z0² z1²] = 1
    let q = (0..keys.len())
        .map(|k| z[k * 12].powi(2) * z[k * 12 + 1].powi(2))
        .sum::<f64>()
        / keys.len() as f64;
    assert!((q - 1.0).abs() < 0.06, "E[z0^2 z1^2] = {q}");
}

#[test]
fn factors_are_lognormal_with_mean_one() {
    let keys = engine_keys();
    for sigma in [0.15, 0.35, 1.0] {
        let mut e = vec![0.0; 12];
        let (mut s1, mut s2, mut l1, mut l2) = (0.0, 0.0, 0.0, 0.0);
        for &k in &keys {
            fill_factors(k, sigma, &mut e);
            for &x in &e {
                s1 += x;
                s2 += x * x;
                l1 += x.ln();
                l2 += x.ln() * x.ln();
            }
        }
        let n = (keys.len() * 12) as f64;
        let mean = s1 / n;
        let sd = (s2 / n - mean * mean).sqrt();
        // E = 1, SD = √(e^σ² − 1); ln E ~ N(−σ²/2, σ²)
        let want_sd = ((sigma * sigma).exp() - 1.0f64).sqrt();
        let se = want_sd / n.sqrt();
        assert!((mean - 1.0).abs() < 4.0 * se, "σ {sigma}: mean {mean}");
        assert!((sd / want_sd - 1.0).abs() < 0.03, "σ {sigma}: sd {sd}");
        let lm = l1 / n;
        let lsd = (l2 / n - lm * lm).sqrt();
        assert!(
            (lm + 0.5 * sigma * sigma).abs() < 4.0 * sigma / n.sqrt(),
            "σ {sigma}: {lm}"
        );
        assert!((lsd / sigma - 1.0).abs() < 0.005, "σ {sigma}: {lsd}");
    }
}

#[test]
fn golden_values() {
    // guards the generator: a change here changes every published result
    let got: Vec<String> = (0..4).map(|m| format!("{:.7}", normal_at(42, m))).collect();
    assert_eq!(got.join(" "), "0.6768370 -0.3740011 -1.5638878 1.1047796");
    assert_eq!(format!("{:.12}", factor_at(42, 0.35, 0)), "1.192012429237");
}
