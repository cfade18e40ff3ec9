//! The number type of the kernel: [`Amount`], implemented for exact [`Decimal`] (settlement)
//! and for `f64` (simulation), with money rounding, flooring and tolerant comparison, and the
//! branch-free block rounding the engine's fast path uses.

use crate::money::Rounding;
use rust_decimal::prelude::*;
use rust_decimal::RoundingStrategy;
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, Sub, SubAssign};

/// A number the kernel can compute money in: exact [`Decimal`] (settlement) or `f64`
/// (simulation). The `f64` implementation rounds, floors and compares with a tolerance far
/// below a cent, so that sums which are exact in decimal but carry float error (e.g.
/// 999,999.9999999998 for 1,000,000) decide tiers and round exactly as in decimal.
pub trait Amount:
    Copy
    + PartialOrd
    + Debug
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + AddAssign
    + SubAssign
    + Send
    + Sync
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Convert an exact decimal (nearest `f64` for floats).
    fn from_decimal(d: Decimal) -> Self;
    /// Convert a small integer.
    fn from_u32(n: u32) -> Self;
    /// Round to `dp` decimal places with `rounding`.
    fn round_money(self, rounding: Rounding, dp: u32) -> Self;
    /// Round down (toward −∞) to `dp` decimal places.
    fn floor_money(self, dp: u32) -> Self;
    /// Number of minor units (`10^-dp`) in `self`, rounded to the nearest integer.
    fn minor_units(self, dp: u32) -> i64;
    /// One minor unit, `10^-dp`.
    fn unit(dp: u32) -> Self;
    /// `self ≥ threshold` (for `f64`: within a relative tolerance of 1e-9).
    fn at_least(self, threshold: Self) -> bool;
    /// `self + o`. The kernel computes every sum, difference, product and quotient of user
    /// amounts through these four methods: for `f64` they are the plain operators (the same
    /// bits, inlined), for `Decimal` they are checked: an overflow gives zero and raises the
    /// thread's overflow flag (`money::note_overflow`), which the settlement turns
    /// into an error naming the partner and component instead of a panic.
    #[inline(always)]
    fn plus(self, o: Self) -> Self {
        self + o
    }
    /// `self - o` (see [`Amount::plus`]).
    #[inline(always)]
    fn minus(self, o: Self) -> Self {
        self - o
    }
    /// `self * o` (see [`Amount::plus`]).
    #[inline(always)]
    fn times(self, o: Self) -> Self {
        self * o
    }
    /// `self / o` (see [`Amount::plus`]).
    #[inline(always)]
    fn over(self, o: Self) -> Self {
        self / o
    }
    /// `self * num / den` (see [`Amount::plus`]); for `Decimal`, when the product alone is
    /// beyond the range but the result is not (a share `num / den` of a large amount), it is
    /// computed as `num / den * self` (the share to 28 decimal places) instead of overflowing.
    #[inline(always)]
    fn mul_div(self, num: Self, den: Self) -> Self {
        self.times(num).over(den)
    }
    /// The smaller of two amounts.
    #[inline]
    fn min_of(self, other: Self) -> Self {
        if other < self {
            other
        } else {
            self
        }
    }
    /// The larger of two amounts.
    #[inline]
    fn max_of(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }
}

impl Amount for Decimal {
    const ZERO: Self = Decimal::ZERO;
    const ONE: Self = Decimal::ONE;
    #[inline]
    fn from_decimal(d: Decimal) -> Self {
        d
    }
    #[inline]
    fn from_u32(n: u32) -> Self {
        Decimal::from(n)
    }
    #[inline]
    fn round_money(self, rounding: Rounding, dp: u32) -> Self {
        rounding.round(self, dp)
    }
    #[inline]
    fn floor_money(self, dp: u32) -> Self {
        crate::money::at_scale(
            self.round_dp_with_strategy(dp, RoundingStrategy::ToNegativeInfinity),
            dp,
        )
    }
    fn minor_units(self, dp: u32) -> i64 {
        let mut v = self;
        v.rescale(dp);
        v.mantissa() as i64
    }
    #[inline]
    fn unit(dp: u32) -> Self {
        Decimal::new(1, dp)
    }
    #[inline]
    fn at_least(self, threshold: Self) -> bool {
        self >= threshold
    }
    #[inline]
    fn plus(self, o: Self) -> Self {
        self.checked_add(o).unwrap_or_else(overflowed)
    }
    #[inline]
    fn minus(self, o: Self) -> Self {
        self.checked_sub(o).unwrap_or_else(overflowed)
    }
    #[inline]
    fn times(self, o: Self) -> Self {
        self.checked_mul(o).unwrap_or_else(overflowed)
    }
    #[inline]
    fn over(self, o: Self) -> Self {
        self.checked_div(o).unwrap_or_else(overflowed)
    }
    #[inline]
    fn mul_div(self, num: Self, den: Self) -> Self {
        match self.checked_mul(num) {
            Some(p) => p.checked_div(den),
            None => num.checked_div(den).and_then(|x| x.checked_mul(self)),
        }
        .unwrap_or_else(overflowed)
    }
}

#[cold]
fn overflowed() -> Decimal {
    crate::money::note_overflow();
    Decimal::ZERO
}

/// `10^dp` as `f64`: the exact powers by table (equal to `10f64.powi(dp)`, whose products
/// of small integers are exact), without a `__powidf2` call on every rounding.
#[inline]
fn pow10(dp: u32) -> f64 {
    const T: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    match T.get(dp as usize) {
        Some(v) => *v,
        None => 10f64.powi(dp as i32),
    }
}

/// `x.round()` (half away from zero) without a call into the C library (the engine rounds
/// every amount): exact truncation through `i64` while whole numbers are not yet the only
/// doubles, the same result bit for bit (signed zeros included; NaN and ±∞ go to `round`).
#[inline]
fn round_f64(x: f64) -> f64 {
    if x.abs() < 4.0e15 {
        // SAFETY: |x| < 4e15 is finite and well inside i64, so truncation cannot overflow
        // (this skips the saturating conversion's NaN and range checks)
        let t = unsafe { x.to_int_unchecked::<i64>() } as f64;
        let d = x - t;
        let r = if d >= 0.5 {
            t + 1.0
        } else if d <= -0.5 {
            t - 1.0
        } else {
            t
        };
        r.copysign(x)
    } else {
        x.round()
    }
}

/// `x.floor()` without a call into the C library, bit for bit (see [`round_f64`]).
#[inline]
fn floor_f64(x: f64) -> f64 {
    if x.abs() < 4.0e15 {
        // SAFETY: as in `round_f64`
        let t = unsafe { x.to_int_unchecked::<i64>() } as f64;
        let r = if x < t { t - 1.0 } else { t };
        r.copysign(x)
    } else {
        x.floor()
    }
}

/// [`Amount::round_money`] of `f64` on a block of values at once: for each value, the same
/// bits as `v.round_money(rounding, dp)`, computed without branches so that the loop
/// vectorises (the engine's fast path rounds a block of partners' payouts at a time). `None`
/// when the block needs the scalar function: a value with `|v · 10^dp| ≥ 4e15` (or NaN), or a
/// rounding other than half up and half even.
///
/// It is `round_money` with its branches turned into selections: [`round_f64`] and
/// [`floor_f64`]'s truncation through `i64` (every value is in their fast range), the
/// tolerance, the "already whole" and "midpoint" tests, then one division.
#[inline(always)]
pub(crate) fn round_money_lanes<const N: usize>(
    v: &[f64; N],
    rounding: Rounding,
    dp: u32,
) -> Option<[f64; N]> {
    let even = match rounding {
        Rounding::HalfUp => false,
        Rounding::HalfEven => true,
        Rounding::Down | Rounding::Up => return None,
    };
    let scale = pow10(dp);
    let mut ok = true;
    let mut out = [0.0; N];
    for l in 0..N {
        let x0 = v[l] * scale;
        let inside = x0.abs() < 4.0e15;
        ok &= inside;
        // a lane outside the range computes on 0 (its result is discarded with the block)
        let x = if inside { x0 } else { 0.0 };
        // SAFETY: |x| < 4e15 is finite and well inside i64
        let ti = unsafe { x.to_int_unchecked::<i64>() };
        let t = ti as f64;
        // round_f64
        let d = x - t;
        let n = if d >= 0.5 {
            t + 1.0
        } else if d <= -0.5 {
            t - 1.0
        } else {
            t
        };
        let n = n.copysign(x);
        let tol = f64_tolerance(x);
        let whole = (x - n).abs() <= tol;
        // floor_f64
        let f = if x < t { t - 1.0 } else { t };
        let f = f.copysign(x);
        let midpoint = (x - f - 0.5).abs() <= tol;
        // half even: `f.rem_euclid(2.0) == 0.0` is `f` even; f is whole and |f| < 4e15
        // SAFETY: as above
        let f_even = unsafe { f.to_int_unchecked::<i64>() } & 1 == 0;
        let up = if even { !f_even } else { x > 0.0 };
        let mid = if up { f + 1.0 } else { f };
        let r = if midpoint { mid } else { n };
        out[l] = if whole { n } else { r } / scale;
    }
    ok.then_some(out)
}

#[inline]
fn f64_tolerance(x: f64) -> f64 {
    // far below one minor unit, far above the error of summing thousands of cents
    (x.abs() * 1e-11).max(1e-7)
}

/// The threshold less its tolerance (1e-9 relative, at least 1e-9): for `f64`,
/// `v.at_least(threshold)` is exactly `v >= at_least_bound(threshold)`.
#[inline]
pub fn at_least_bound(threshold: f64) -> f64 {
    threshold - 1e-9 * threshold.abs().max(1.0)
}

impl Amount for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline]
    fn from_decimal(d: Decimal) -> Self {
        d.to_f64().unwrap_or(f64::NAN)
    }
    #[inline]
    fn from_u32(n: u32) -> Self {
        n as f64
    }
    #[inline]
    fn round_money(self, rounding: Rounding, dp: u32) -> Self {
        if self == 0.0 {
            // what the steps below give for ±0 (a rule that pays nothing, the common case)
            return self;
        }
        let scale = pow10(dp);
        let x = self * scale;
        let n = round_f64(x);
        let tol = f64_tolerance(x);
        if (x - n).abs() <= tol {
            return n / scale;
        }
        let f = floor_f64(x);
        let midpoint = (x - f - 0.5).abs() <= tol;
        let r = match rounding {
            Rounding::HalfUp => {
                if midpoint {
                    if x > 0.0 {
                        f + 1.0
                    } else {
                        f
                    }
                } else {
                    n
                }
            }
            Rounding::HalfEven => {
                if midpoint {
                    if f.rem_euclid(2.0) == 0.0 {
                        f
                    } else {
                        f + 1.0
                    }
                } else {
                    n
                }
            }
            Rounding::Down => x.trunc(),
            Rounding::Up => {
                if x > 0.0 {
                    x.ceil()
                } else {
                    x.floor()
                }
            }
        };
        r / scale
    }
    #[inline]
    fn floor_money(self, dp: u32) -> Self {
        let scale = pow10(dp);
        let x = self * scale;
        let n = round_f64(x);
        if (x - n).abs() <= f64_tolerance(x) {
            n / scale
        } else {
            floor_f64(x) / scale
        }
    }
    #[inline]
    fn minor_units(self, dp: u32) -> i64 {
        (self * pow10(dp)).round() as i64
    }
    #[inline]
    fn unit(dp: u32) -> Self {
        10f64.powi(-(dp as i32))
    }
    #[inline]
    fn at_least(self, threshold: Self) -> bool {
        self >= at_least_bound(threshold)
    }
}

#[cfg(test)]
mod tests;
