//! `exp` of a slice of `f64`, written so that the compiler vectorises it, with results that
//! are bit-identical on every x86-64 machine (and every other target).
//!
//! The demand model needs one `exp` per partner-month (the lognormal monthly noise); the C
//! library's scalar `exp` costs ~50 instructions a value and its last bit may differ between
//! library versions. [`exp_in_place`] uses the classic reduction `x = n·ln 2 + r`,
//! `|r| ≤ ln 2 / 2`, a degree-13 Taylor polynomial of `e^r` (Estrin's scheme) and a scaling by
//! `2^n` built from the exponent bits. Only IEEE-754 additions, subtractions, multiplications
//! (never fused: Rust does not contract `a·b + c`), comparisons and integer operations on the
//! bits are used, so the result of every operation is defined to the bit: the AVX2 version
//! picked at run time (four lanes) and the portable version (SSE2 on x86-64) compute exactly
//! the same numbers. The maximum relative error against a correctly rounded `exp` is below
//! 1e-15 (tested over [−708, 709]); arguments outside that range (or NaN) fall back to
//! `f64::exp`, which gives the correct 0, subnormal or ∞.

/// 1 / ln 2.
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split in two (fdlibm's constants): `LN2_HI` has 32 significant bits, so `n · LN2_HI` is
/// exact for |n| < 2^20 and the reduction loses nothing.
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
/// 1.5 · 2^52: adding it rounds a number of magnitude < 2^51 to the nearest integer (ties to
/// even), which then sits in the low bits of the sum.
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// The range computed by the polynomial (`e^x` is a normal number there).
const LO: f64 = -708.0;
const HI: f64 = 709.0;

/// 1/k! for k = 2..=13 (nearest doubles).
const C: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// The degree-13 Taylor polynomial of `e^r`, by Estrin's scheme: pairs of terms, then pairs
/// of pairs with r², r⁴, r⁸, so that its dependency chain is four multiply-adds long instead
/// of Horner's thirteen (the polynomial is latency-bound otherwise).
#[inline(always)]
fn poly(r: f64) -> f64 {
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p01 = 1.0 + r;
    let p23 = C[0] + C[1] * r;
    let p45 = C[2] + C[3] * r;
    let p67 = C[4] + C[5] * r;
    let p89 = C[6] + C[7] * r;
    let p1011 = C[8] + C[9] * r;
    let p1213 = C[10] + C[11] * r;
    let q0 = p01 + r2 * p23;
    let q1 = p45 + r2 * p67;
    let q2 = p89 + r2 * p1011;
    let s0 = q0 + r4 * q1;
    let s1 = q2 + r4 * p1213;
    s0 + r8 * s1
}

/// `e^x` for `x` in [LO, HI] (any other `x` gives a finite, meaningless value: callers clamp
/// or fix up). Branch-free, so that a loop of it vectorises.
#[inline(always)]
pub(super) fn exp_core(x: f64) -> f64 {
    let x = x.clamp(LO, HI);
    let shifted = x * LOG2E + SHIFT;
    let n = shifted - SHIFT; // round(x / ln 2) as a float, exactly an integer
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = poly(r);
    // 2^n from the bits: n sits in the low bits of `shifted`
    let ni = shifted.to_bits().wrapping_sub(SHIFT.to_bits()) as i64;
    let scale = f64::from_bits(((ni + 1023) as u64) << 52);
    p * scale
}

#[inline(always)]
pub(super) fn in_range(x: f64) -> bool {
    x >= LO && x <= HI
}

/// Values per block: every step of the polynomial runs over a whole block, so that the
/// vector operations of its three (AVX2) or six (SSE2) registers are independent and overlap
/// instead of waiting on one another. Twelve: a year of months.
const BLOCK: usize = 12;

/// [`exp_core`] of every value of a block, step by step over the block (the same operations
/// on each value as `exp_core`, hence the same bits).
#[inline(always)]
fn exp_block(b: &mut [f64; BLOCK]) {
    let mut shifted = [0.0; BLOCK];
    let mut r = [0.0; BLOCK];
    for j in 0..BLOCK {
        let x = b[j].clamp(LO, HI);
        shifted[j] = x * LOG2E + SHIFT;
        let n = shifted[j] - SHIFT;
        r[j] = (x - n * LN2_HI) - n * LN2_LO;
    }
    let mut p = [0.0; BLOCK];
    for j in 0..BLOCK {
        p[j] = poly(r[j]);
    }
    for j in 0..BLOCK {
        let ni = shifted[j].to_bits().wrapping_sub(SHIFT.to_bits()) as i64;
        b[j] = p[j] * f64::from_bits(((ni + 1023) as u64) << 52);
    }
}

/// The kernel: when every argument is in range, replace each by its `exp` (by blocks; the
/// last one padded) and return true; otherwise leave `xs` alone and return false.
#[inline(always)]
fn exp_slice(xs: &mut [f64]) -> bool {
    let mut ok = true;
    for &x in xs.iter() {
        ok &= in_range(x);
    }
    if !ok {
        return false;
    }
    let mut blocks = xs.chunks_exact_mut(BLOCK);
    for chunk in &mut blocks {
        exp_block(chunk.try_into().expect("a whole block"));
    }
    let tail = blocks.into_remainder();
    if !tail.is_empty() {
        let mut b = [0.0; BLOCK];
        b[..tail.len()].copy_from_slice(tail);
        exp_block(&mut b);
        let n = tail.len();
        tail.copy_from_slice(&b[..n]);
    }
    true
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp_slice_avx2(xs: &mut [f64]) -> bool {
    exp_slice(xs)
}

fn exp_slice_portable(xs: &mut [f64]) -> bool {
    exp_slice(xs)
}

/// Some argument is out of range: the same polynomial for those in range, `f64::exp` for the
/// others.
#[cold]
#[inline(never)]
fn exp_mixed(xs: &mut [f64]) {
    for x in xs.iter_mut() {
        *x = if in_range(*x) { exp_core(*x) } else { x.exp() };
    }
}

/// Replace every `x` in `xs` by `e^x` (see the module documentation: bit-identical on every
/// machine, relative error below 1e-15).
#[inline]
pub fn exp_in_place(xs: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above)
            if !unsafe { exp_slice_avx2(xs) } {
                exp_mixed(xs);
            }
            return;
        }
    }
    if !exp_slice_portable(xs) {
        exp_mixed(xs);
    }
}

/// [`exp_in_place`] without run-time dispatch: the portable kernel (for tests comparing the
/// versions).
#[cfg(test)]
fn exp_in_place_portable(xs: &mut [f64]) {
    if !exp_slice_portable(xs) {
        exp_mixed(xs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Relative error of `got` against the C library's `exp` (itself within about half an ulp
    /// of e^x, so the bound tested includes its error).
    fn rel(got: f64, x: f64) -> f64 {
        let want = x.exp();
        ((got - want) / want).abs()
    }

    #[test]
    fn accuracy_over_the_whole_range() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut worst = 0.0f64;
        let mut xs: Vec<f64> = (0..200_000)
            .map(|_| r.random_range(-708.0..709.0))
            .collect();
        // the demand model's arguments: σZ − σ²/2 for σ up to 1.5 and |Z| up to 8
        xs.extend((0..200_000).map(|_| r.random_range(-15.0..12.0)));
        xs.extend((-2000..=2000).map(|k| k as f64 * 0.5 * std::f64::consts::LN_2));
        xs.extend([0.0, -0.0, 1e-300, -1e-300, 1e-10, 0.5, -0.5, 1.0, LO, HI]);
        let mut got = xs.clone();
        exp_in_place(&mut got);
        for (&x, &g) in xs.iter().zip(&got) {
            let e = rel(g, x);
            assert!(e < 1e-15, "exp({x}) = {g} vs {} (rel {e:e})", x.exp());
            worst = worst.max(e);
        }
        eprintln!("worst relative error {worst:e}");
        assert_eq!(got[xs.len() - 10], 1.0);
    }

    #[test]
    fn out_of_range_and_special_values() {
        let xs = [
            -1000.0,
            -745.2,
            -720.0,
            -708.5,
            709.5,
            710.0,
            1000.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            0.0,
            1.0,
        ];
        let mut got = xs;
        exp_in_place(&mut got);
        for (&x, &g) in xs.iter().zip(&got) {
            if x.is_nan() {
                assert!(g.is_nan());
            } else if in_range(x) {
                assert!(rel(g, x) < 1e-15);
            } else {
                assert_eq!(g.to_bits(), x.exp().to_bits(), "{x}");
            }
        }
    }

    #[test]
    fn every_kernel_gives_the_same_bits() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        for len in [0usize, 1, 3, 4, 5, 12, 13, 24, 37, 1000] {
            let xs: Vec<f64> = (0..len).map(|_| r.random_range(-30.0..30.0)).collect();
            let mut a = xs.clone();
            let mut b = xs.clone();
            exp_in_place(&mut a);
            exp_in_place_portable(&mut b);
            let mut c: Vec<f64> = xs.iter().map(|&x| exp_core(x)).collect();
            for ((x, y), z) in a.iter().zip(&b).zip(&mut c) {
                assert_eq!(x.to_bits(), y.to_bits());
                assert_eq!(x.to_bits(), z.to_bits());
            }
        }
    }
}
