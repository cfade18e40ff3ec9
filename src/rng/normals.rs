//! Counter-based monthly noise: standard normals and their lognormal factors, many at a time,
//! vectorised and bit-identical everywhere.
//!
//! The monthly demand noise needs one lognormal factor `e^(σZ − σ²/2)` per partner-month: by
//! far the most numerous draws of a run. A stream generator (Xoshiro256++ with `rand_distr`'s
//! ziggurat) draws them one after another, each waiting on the last, with a branch per draw.
//! Here the normals of a key are instead a *function of (key, index)*, so that any number of
//! them, for any number of keys, are computed side by side in vector registers; and they are
//! computed in single precision (`f32`), sixteen to an AVX-512 register, since a factor of
//! noise needs seven significant digits, not sixteen:
//!
//! 1. **Uniforms.** Output `c` (c = 0, 1, …) of the key is output `c` of the SplitMix64
//!    generator seeded with the key (Steele, Lea and Flood 2014; `rand_xoshiro::SplitMix64`
//!    seeded by `seed_from_u64(key)` gives the same numbers): `mix(key + (c + 1)·γ)`,
//!    γ = 0x9E3779B97F4A7C15, `mix` the SplitMix64 finaliser. SplitMix64 passes BigCrush; its
//!    outputs are reachable in any order, so index `c` costs the same as index 0.
//! 2. **Normals.** Normals `2j` and `2j + 1` are the Box–Muller pair of output `j`: its top 31
//!    bits `a` give the radius's uniform `u₁ = (a + 1)·2⁻³¹ ∈ (0, 1]` (as `f32`: `a` and
//!    `a + 1` rounded to 24 significant bits), its low 24 bits `b` the angle's
//!    `u₂ = b·2⁻²⁴ ∈ [0, 1)`; `r = √(−2 ln u₁)`, `φ = 2π u₂`, normal `2j` = `r cos φ` and normal
//!    `2j + 1` = `r sin φ`. So normal `m` of a key depends only on the key and `m`: the first
//!    twelve months of a 24-month run draw what a 12-month run draws. The largest magnitude is
//!    √(−2 ln 2⁻³¹) ≈ 6.55 (the normal tail beyond it has probability 6·10⁻¹¹).
//! 3. **Factors.** The lognormal factor of normal `z` for a log-scale `σ` is
//!    `exp(σ₃₂·z − h₃₂)` widened to `f64`, where `σ₃₂` is `σ` rounded to `f32` and `h₃₂` is
//!    `σ²/2` computed in `f64` and rounded to `f32` (its mean is 1 to within 10⁻⁷).
//! 4. **Bits.** `ln`, `sin`, `cos` and `exp` are polynomials evaluated with IEEE-754 `f32`
//!    additions, subtractions, multiplications and divisions only (never fused: Rust does not
//!    contract `a·b + c`), `√` is IEEE's correctly rounded square root, and everything else is
//!    integer work on the bits. Every operation's result is therefore defined to the bit, and
//!    the versions compiled for AVX-512, AVX2 and plain x86-64 (or any other target) — picked
//!    at run time — give exactly the same numbers. Errors against the correctly rounded
//!    functions (tested): `ln` relative < 3·10⁻⁷, `sin`/`cos` absolute < 2·10⁻⁷, `exp` relative
//!    < 3·10⁻⁷ — a few units in the last place of an `f32`, far below anything a statistic of
//!    the noise can see.
//!
//! Two keys whose SplitMix64 sequences overlap (their difference a multiple d·γ with |d| below
//! the number of outputs used) share some normals. For 12 months (6 outputs) the chance is
//! 11/2⁶⁴ per pair of keys; among 10⁸ keys (10,000 partners × 10,000 scenarios) about 0.3%
//! that any pair at all does, and such a pair — two partner-years out of 10⁸ with a few
//! normals in common — moves no statistic.

/// SplitMix64's increment (the golden gamma).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// The mantissa bits of an f32, and the bits of 1.0.
const MANTISSA: u32 = 0x007F_FFFF;
const ONE_BITS: u32 = 0x3F80_0000;
/// 2⁻³¹.
const TWO_M31: f32 = 1.0 / 2_147_483_648.0;
/// ln 2 split in two (Cephes): `LN2_HI` has 9 significant bits, so `e · LN2_HI` is exact for
/// |e| < 2^15.
const LN2_HI: f32 = 355.0 / 512.0;
const LN2_LO: f32 = -2.121_944_4e-4;
/// √2.
const SQRT2: f32 = std::f32::consts::SQRT_2;
/// `2/(2k + 1)` for k = 1..=4: `ln m = 2s + s·s²·Σ L[k−1]·s^{2(k−1)}`, `s = (m−1)/(m+1)`.
const L: [f32; 4] = [2.0 / 3.0, 2.0 / 5.0, 2.0 / 7.0, 2.0 / 9.0];
/// The angle's step: (π/2) / 2²² (a quarter turn is 2²² steps of the 24-bit angle).
const STEP: f32 = std::f32::consts::FRAC_PI_2 / 4_194_304.0;
/// Taylor coefficients of sin: (−1)^k / (2k + 1)! for k = 1..=4.
const S: [f32; 4] = [-1.0 / 6.0, 1.0 / 120.0, -1.0 / 5_040.0, 1.0 / 362_880.0];
/// Taylor coefficients of cos: (−1)^k / (2k)! for k = 1..=5.
const K: [f32; 5] = [
    -1.0 / 2.0,
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40_320.0,
    -1.0 / 3_628_800.0,
];
/// 1 / ln 2.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// 1.5 · 2^23: adding it rounds a number of magnitude < 2^22 to an integer (ties to even).
const SHIFT: f32 = 12_582_912.0;
/// The range computed by `exp` (`e^x` is a normal `f32` there).
const EXP_LO: f32 = -87.0;
const EXP_HI: f32 = 88.0;
/// 1/k! for k = 2..=7.
const C: [f32; 6] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
];

/// The SplitMix64 finaliser.
#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Output `c` of SplitMix64 seeded with `key` (`c` counts from 0).
#[inline(always)]
pub(crate) fn splitmix_at(key: u64, c: u64) -> u64 {
    mix(key.wrapping_add(c.wrapping_add(1).wrapping_mul(GAMMA)))
}

/// The radius's uniform `u₁ ∈ (0, 1]` of output `x`: `(a + 1)·2⁻³¹`, `a` its top 31 bits.
#[inline(always)]
fn radius_uniform(x: u64) -> f32 {
    (((x >> 33) as i32) as f32 + 1.0) * TWO_M31
}

/// `ln u` for `u` in [2⁻³¹, 1]: `u = 2^e · m`, `m ∈ [√½, √2)`, `ln m` by the series of
/// `2 atanh s`, `s = (m − 1)/(m + 1)`, |s| ≤ 0.172 (four terms after `2s`).
#[inline(always)]
fn ln(u: f32) -> f32 {
    let bits = u.to_bits();
    let m = f32::from_bits((bits & MANTISSA) | ONE_BITS);
    let e = ((bits >> 23) as i32 - 127) as f32;
    let big = m > SQRT2;
    let m = if big { 0.5 * m } else { m };
    let e = if big { e + 1.0 } else { e };
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let s4 = s2 * s2;
    let p = (L[0] + L[1] * s2) + s4 * (L[2] + L[3] * s2);
    e * LN2_HI + ((2.0 * s + s * s2 * p) + e * LN2_LO)
}

/// `sin t` and `cos t` for |t| ≤ π/4 (Taylor polynomials to t⁹ and t¹⁰).
#[inline(always)]
fn sin_cos_small(t: f32) -> (f32, f32) {
    let t2 = t * t;
    let t4 = t2 * t2;
    let ps = (S[0] + S[1] * t2) + t4 * (S[2] + S[3] * t2);
    let sin = t + t * t2 * ps;
    let pc = (K[0] + K[1] * t2) + t4 * ((K[2] + K[3] * t2) + t4 * K[4]);
    let cos = 1.0 + t2 * pc;
    (sin, cos)
}

/// `sin φ` and `cos φ` of the angle `φ = 2π u₂`, `u₂ = b·2⁻²⁴`, `b` the low 24 bits of `x`.
#[inline(always)]
fn sin_cos_turn(x: u64) -> (f32, f32) {
    // φ = (π/2)·(b / 2²²); b / 2²² = q + f / 2²² with q = round(b / 2²²) in 0..=4 and
    // |f| ≤ 2²¹, all integers (exact)
    let b = (x as u32) & 0x00FF_FFFF;
    let q = (b + (1 << 21)) >> 22;
    let f = b as i32 - (q << 22) as i32;
    let (s, c) = sin_cos_small(f as f32 * STEP);
    // φ = q·π/2 + t: rotate (cos t, sin t) by q quarter turns
    let odd = q & 1 == 1;
    let (sin, cos) = if odd { (c, s) } else { (s, c) };
    let sin = if q & 2 == 2 { -sin } else { sin };
    let cos = if (q + 1) & 2 == 2 { -cos } else { cos };
    (sin, cos)
}

/// The Box–Muller pair of SplitMix64 output `x`: `(r cos φ, r sin φ)`.
#[inline(always)]
pub(crate) fn box_muller(x: u64) -> (f32, f32) {
    let r = (-2.0 * ln(radius_uniform(x))).sqrt();
    let (sin, cos) = sin_cos_turn(x);
    (r * cos, r * sin)
}

/// The degree-7 Taylor polynomial of `e^r` (Estrin's scheme).
#[inline(always)]
fn exp_poly(r: f32) -> f32 {
    let r2 = r * r;
    let r4 = r2 * r2;
    let q0 = (1.0 + r) + r2 * (C[0] + C[1] * r);
    let q1 = (C[2] + C[3] * r) + r2 * (C[4] + C[5] * r);
    q0 + r4 * q1
}

/// `e^x` in `f32` for `x` clamped to [−87, 88]: `x = n·ln 2 + r`, |r| ≤ ln 2 / 2, the
/// polynomial of `e^r` scaled by `2^n` built from the exponent bits. Branch-free, so that a
/// loop of it vectorises.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(EXP_LO, EXP_HI);
    let shifted = x * LOG2E + SHIFT;
    let n = shifted - SHIFT; // round(x / ln 2) as a float, exactly an integer
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = exp_poly(r);
    let ni = shifted.to_bits().wrapping_sub(SHIFT.to_bits()) as i32;
    p * f32::from_bits(((ni + 127) as u32) << 23)
}

/// The noise parameters of a log-scale `σ` as the factors use them: `(σ₃₂, h₃₂)`, `σ` and
/// `σ²/2` (computed in `f64`) rounded to `f32`.
#[inline]
pub fn factor_params(sigma: f64) -> (f32, f32) {
    (sigma as f32, (0.5 * sigma * sigma) as f32)
}

/// The lognormal factor of normal `z`: `exp(σ₃₂·z − h₃₂)` widened to `f64`.
#[inline(always)]
pub(crate) fn factor(z: f32, sigma: f32, half_var: f32) -> f64 {
    exp(sigma * z - half_var) as f64
}

/// Box–Muller pairs computed side by side by [`fill`]: every step runs over the whole block,
/// so that the compiler turns each into vector instructions (one AVX-512 register of `f32`,
/// two AVX2).
const PAIRS: usize = 16;

/// The normals of `N` outputs: pair `p` is the Box–Muller pair of output `c[p]` of
/// `keys[p]`: `(cos half, sin half)`.
#[inline(always)]
pub(crate) fn pairs<const N: usize>(keys: &[u64; N], c: &[u64; N]) -> ([f32; N], [f32; N]) {
    let mut x = [0u64; N];
    for p in 0..N {
        x[p] = splitmix_at(keys[p], c[p]);
    }
    let mut a = [0.0; N];
    let mut b = [0.0; N];
    for p in 0..N {
        (a[p], b[p]) = box_muller(x[p]);
    }
    (a, b)
}

/// The kernel of [`fill`] and [`fill_factors`] (inlined into each instruction-set version):
/// the pairs of every key, key after key, in blocks of [`PAIRS`]; `emit(k, m, z)` receives
/// normal `m` of key `k`.
#[inline(always)]
fn fill_kernel(keys: &[u64], per_key: usize, mut emit: impl FnMut(usize, usize, f32)) {
    let pairs_per_key = per_key.div_ceil(2);
    let total = keys.len() * pairs_per_key;
    let mut kb = [0u64; PAIRS];
    let mut cb = [0u64; PAIRS];
    // where the block starts: key `k`, its pair `j`
    let (mut k, mut j) = (0usize, 0usize);
    let mut done = 0;
    while done < total {
        let n = PAIRS.min(total - done);
        // the lanes' cursor: key `lane_key`, its pair `lane_pair`
        let (mut lane_key, mut lane_pair) = (k, j);
        for l in 0..PAIRS {
            // lanes past the end repeat the last pair (computed, not used)
            kb[l] = keys[lane_key];
            cb[l] = lane_pair as u64;
            if l + 1 < n {
                lane_pair += 1;
                if lane_pair == pairs_per_key {
                    lane_pair = 0;
                    lane_key += 1;
                }
            }
        }
        let (a, b) = pairs::<PAIRS>(&kb, &cb);
        for l in 0..n {
            let m = 2 * j;
            emit(k, m, a[l]);
            if m + 1 < per_key {
                emit(k, m + 1, b[l]);
            }
            j += 1;
            if j == pairs_per_key {
                j = 0;
                k += 1;
            }
        }
        done += n;
    }
}

/// Normals `0..per_key` of each key into `out` (`f32`).
#[inline(always)]
fn fill_normals_kernel(keys: &[u64], per_key: usize, out: &mut [f32]) {
    fill_kernel(keys, per_key, |k, m, z| out[k * per_key + m] = z)
}

/// Pairs of one key computed side by side by [`fill_factors`]: 16 months (one AVX-512
/// register of `f32` for the factors' `exp`).
const KEY_PAIRS: usize = 8;

/// Factors `0..out.len()` of one key into `out`, 16 months at a time.
#[inline(always)]
fn fill_factors_kernel(key: u64, sigma: f32, half_var: f32, out: &mut [f64]) {
    let n = out.len();
    let mut z = [0.0f32; 2 * KEY_PAIRS];
    let mut e = [0.0f32; 2 * KEY_PAIRS];
    let mut m0 = 0;
    while m0 < n {
        let len = (2 * KEY_PAIRS).min(n - m0);
        // the block's normals, then their factors (a vector loop of its own)
        let c0 = (m0 / 2) as u64;
        let mut cb = [0u64; KEY_PAIRS];
        for (p, c) in cb.iter_mut().enumerate() {
            *c = c0 + p as u64;
        }
        let (a, b) = pairs(&[key; KEY_PAIRS], &cb);
        for p in 0..KEY_PAIRS {
            z[2 * p] = a[p];
            z[2 * p + 1] = b[p];
        }
        for i in 0..2 * KEY_PAIRS {
            e[i] = exp(sigma * z[i] - half_var);
        }
        for i in 0..len {
            out[m0 + i] = e[i] as f64;
        }
        m0 += len;
    }
}

crate::isa_versions!(fill_normals_kernel => fill_avx512, fill_avx2, (keys: &[u64], per_key: usize, out: &mut [f32]));
crate::isa_versions!(fill_factors_kernel => factors_avx512, factors_avx2, (key: u64, sigma: f32, half_var: f32, out: &mut [f64]));

/// Standard normals `0..per_key` of each key, key after key: `out[k·per_key + m]` is normal
/// `m` of `keys[k]` (see the module documentation). `out` must hold `keys.len() · per_key`
/// values.
///
/// # Panics
/// If `out.len() != keys.len() * per_key` (a caller's bug).
pub fn fill(keys: &[u64], per_key: usize, out: &mut [f32]) {
    assert_eq!(
        out.len(),
        keys.len() * per_key,
        "normals::fill: output size"
    );
    if per_key == 0 || keys.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq") {
            // SAFETY: the CPU supports AVX-512 F and DQ (DQ implies F; checked just above)
            unsafe { fill_avx512(keys, per_key, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above)
            unsafe { fill_avx2(keys, per_key, out) };
            return;
        }
    }
    fill_normals_kernel(keys, per_key, out)
}

/// The lognormal factors of `key` for the log-scale `sigma`: `out[m]` is the factor of normal
/// `m` (see the module documentation), for `m` in `0..out.len()`. With `sigma` = 0 every factor
/// is 1.
pub fn fill_factors(key: u64, sigma: f64, out: &mut [f64]) {
    let (s, h) = factor_params(sigma);
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq") {
            // SAFETY: the CPU supports AVX-512 F and DQ (checked just above)
            unsafe { factors_avx512(key, s, h, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above)
            unsafe { factors_avx2(key, s, h, out) };
            return;
        }
    }
    fill_factors_kernel(key, s, h, out)
}

/// Normal `m` of `key`, one at a time (the reference for [`fill`]).
pub fn normal_at(key: u64, m: u64) -> f32 {
    let (a, b) = box_muller(splitmix_at(key, m / 2));
    if m.is_multiple_of(2) {
        a
    } else {
        b
    }
}

/// The lognormal factor of normal `m` of `key` for the log-scale `sigma`, one at a time (the
/// reference for [`fill_factors`]).
pub fn factor_at(key: u64, sigma: f64, m: u64) -> f64 {
    let (s, h) = factor_params(sigma);
    factor(normal_at(key, m), s, h)
}

#[cfg(test)]
mod tests;
