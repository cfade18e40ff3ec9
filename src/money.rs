//! Money: currencies' minor units, declared rounding rules, and exact
//! allocation of an amount over shares (largest remainder), so that totals
//! reconcile to the cent.

use rust_decimal::prelude::*;
use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};

/// How amounts are rounded to the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half away from zero (commercial rounding): 0.005 → 0.01, −0.005 → −0.01. The default.
    #[default]
    HalfUp,
    /// Half to even (banker's rounding): 0.005 → 0.00, 0.015 → 0.02.
    HalfEven,
    /// Toward zero (truncate): 0.019 → 0.01.
    Down,
    /// Away from zero: 0.011 → 0.02.
    Up,
}

impl Rounding {
    /// The rust_decimal strategy implementing this rule.
    pub fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        }
    }

    /// Round `value` to `decimals` places with this rule; the result carries exactly
    /// `decimals` places (see [`at_scale`]): 12000 → 12000.00 for 2 places.
    pub fn round(self, value: Decimal, decimals: u32) -> Decimal {
        at_scale(
            value.round_dp_with_strategy(decimals, self.strategy()),
            decimals,
        )
    }

    /// Round an `f64` to `decimals` places with this rule (simulation side). Agrees with
    /// [`Rounding::round`] except for values within floating-point error of a midpoint.
    pub fn round_f64(self, value: f64, decimals: u32) -> f64 {
        let scale = 10f64.powi(decimals as i32);
        let x = value * scale;
        let r = match self {
            Rounding::HalfUp => x.round(),
            Rounding::HalfEven => x.round_ties_even(),
            Rounding::Down => x.trunc(),
            Rounding::Up => {
                if x >= 0.0 {
                    x.ceil()
                } else {
                    x.floor()
                }
            }
        };
        r / scale
    }
}

/// `value` written with exactly `decimals` decimal places: trailing zeros added or removed,
/// so that `12000`, `12000.0` and `12000.000` all become `12000.00` for two places. Every money
/// amount the core produces goes through this (via [`Rounding::round`] and [`allocate`]), so
/// that Python's `Decimal`, CSV and JSON show the currency's minor unit (`12000.00` EUR,
/// `12000` JPY, `12.000` KWD). `value` must already be a multiple of `10^-decimals` (rounded);
/// a value with more places is rounded half away from zero (never happens for rounded amounts).
pub fn at_scale(value: Decimal, decimals: u32) -> Decimal {
    let mut v = value;
    if v.scale() > decimals {
        v = v.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    }
    // rust_decimal keeps at most 28 places and lowers the scale of a value too large for it
    // (never for |v| < 10^24 and at most 3 places); asked for more than 28 it can leave a
    // scale above 28 (0.5 rescaled to 40 places keeps 29), which its `to_string` cannot
    // format (a panic: `CapacityError`), so at most 28
    v.rescale(decimals.min(28));
    v
}

/// Largest magnitude (exclusive) of an amount, quantity or baseline in a table or a
/// programme: `10^15` currency units (or units). Far above any real rebate programme, it keeps
/// every exact calculation well inside `Decimal`'s range (about `7.9·10^28`): a sum of rows
/// would need more than `7.9·10^13` rows to overflow, and the simulation's `f64` sums stay
/// exact in minor units. Products (an amount per unit times millions of units) can still
/// exceed the range: the calculation kernel checks them (see `note_overflow`).
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// The largest money amount (exclusive) the settlement computes exactly with `decimals`
/// places: `10^(28 − decimals)` (10^26 for cents). `Decimal` holds 28 to 29 significant
/// digits: beyond this, an amount written with its cents would be rounded silently (an
/// addition lowers the scale instead of failing). Entitlements, totals to date over partners
/// and settlement totals at or above it are reported as too large.
pub fn exact_limit(decimals: u32) -> Decimal {
    Decimal::from_i128_with_scale(10i128.pow(28 - decimals.min(28)), 0)
}

/// Largest number of decimal places of an amount or quantity in a table (revenue, quantity,
/// baselines, prior accruals): 6 (a millionth of a unit, the grid of simulated line
/// quantities).
pub const MAX_TABLE_DECIMALS: u32 = 6;

/// Check a number read from a table or a programme against [`MAX_MAGNITUDE`] and, when
/// `max_decimals` is given, that many decimal places. `Err` is the message (what was expected
/// and what was found) for the caller to locate.
pub fn check_bounds(v: Decimal, max_decimals: Option<u32>) -> Result<(), String> {
    if v.abs() >= MAX_MAGNITUDE {
        return Err(format!(
            "expected a number smaller than 10^15 in magnitude (1,000,000,000,000,000), found {}",
            v.normalize()
        ));
    }
    if let Some(dp) = max_decimals {
        let n = v.normalize();
        if n.scale() > dp {
            return Err(format!(
                "expected at most {dp} decimal places, found {n} ({} places): round it, e.g. to the currency's minor unit",
                n.scale()
            ));
        }
    }
    Ok(())
}

std::thread_local! {
    static OVERFLOWED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Record that an exact (`Decimal`) operation of the calculation kernel overflowed on this
/// thread. The kernel is generic over the number type and returns plain amounts, so its
/// checked `Decimal` operations ([`crate::rules::Amount::plus`] and friends) give zero and
/// raise this flag instead of panicking; the settlement reads it with [`take_overflow`] after
/// each partner and reports an error naming the partner and component.
pub(crate) fn note_overflow() {
    OVERFLOWED.with(|f| f.set(true));
}

/// Whether an exact operation overflowed on this thread since the last call (clears the flag).
pub(crate) fn take_overflow() -> bool {
    OVERFLOWED.with(|f| f.replace(false))
}

/// Number of decimal places of the minor unit of an ISO 4217 currency code,
/// for the currencies rebatesim knows. `None` for an unknown code (the
/// programme must then declare `decimals`).
pub fn minor_units(currency: &str) -> Option<u32> {
    let code = currency.to_ascii_uppercase();
    Some(match code.as_str() {
        // zero-decimal currencies
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" => 0,
        // three-decimal currencies
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        "EUR" | "USD" | "GBP" | "CHF" | "CAD" | "AUD" | "NZD" | "SEK" | "NOK" | "DKK" | "PLN"
        | "CZK" | "CNY" | "HKD" | "SGD" | "INR" | "BRL" | "MXN" | "ZAR" | "TRY" | "RON" | "BGN"
        | "HUF" | "ILS" | "AED" | "SAR" | "THB" | "MYR" | "IDR" | "PHP" | "TWD" | "ARS" | "COP"
        | "PEN" | "EGP" | "NGN" | "KES" | "MAD" | "QAR" | "UAH" | "RSD" => 2,
        _ => return None,
    })
}

/// Split `total` (already a multiple of `10^-decimals`) over `weights` in
/// proportion, rounding each share *down* to the minor unit and handing the
/// remaining minor units one by one to the largest remainders (ties to the
/// lowest index). The shares sum to `total` exactly. Weights must be
/// non-negative; if they are all zero the total is split evenly the same way.
///
/// `None` when an intermediate amount overflows `Decimal` (the weights or the total near
/// `7.9·10^28`, or a product `total × weight` beyond it); the caller reports it.
pub fn allocate(total: Decimal, weights: &[Decimal], decimals: u32) -> Option<Vec<Decimal>> {
    let n = weights.len();
    if n == 0 {
        return Some(Vec::new());
    }
    let unit = Decimal::new(1, decimals);
    let sum = checked_sum(weights.iter().copied())?;
    let even;
    let weights = if sum.is_zero() {
        even = vec![Decimal::ONE; n];
        &even[..]
    } else {
        weights
    };
    let sum = checked_sum(weights.iter().copied())?;
    let mut shares = Vec::with_capacity(n);
    let mut remainders = Vec::with_capacity(n);
    for (i, w) in weights.iter().enumerate() {
        // a product beyond the range whose share is not: w / sum × total (the share to 28
        // places), as the kernel's `Amount::mul_div`
        let exact = match total.checked_mul(*w) {
            Some(p) => p.checked_div(sum),
            None => w.checked_div(sum).and_then(|x| x.checked_mul(total)),
        }?;
        let floor = at_scale(
            exact.round_dp_with_strategy(decimals, RoundingStrategy::ToNegativeInfinity),
            decimals,
        );
        shares.push(floor);
        remainders.push((exact.checked_sub(floor)?, i));
    }
    let allocated = checked_sum(shares.iter().copied())?;
    // fewer than n minor units are left: each share lost less than one
    let mut left = total
        .checked_sub(allocated)?
        .checked_div(unit)?
        .round()
        .to_i64()
        .unwrap_or(0)
        .min(n as i64);
    // largest remainder first; ties to the lowest index (deterministic)
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut k = 0;
    while left > 0 && n > 0 {
        shares[remainders[k % n].1] += unit;
        left -= 1;
        k += 1;
    }
    Some(shares)
}

/// The sum of `values`, `None` if it overflows `Decimal`.
pub fn checked_sum(values: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |a, b| a.checked_add(b))
}

/// `d` as the nearest `f64` exactly as `rust_decimal`'s `to_f64` computes it (integral part,
/// plus the fractional part divided by 10^scale, rounded at `scale` places), bit for bit, but
/// in 64-bit arithmetic when the mantissa and 10^scale fit (amounts and volumes always do):
/// the 128-bit divisions of the general case were most of the forecast's measuring of actuals.
/// Whole numbers (scale 0: zeros, quantities) too: rust_decimal converts them through `i128`.
pub fn to_f64(d: Decimal) -> f64 {
    let scale = d.scale();
    let m = d.mantissa().unsigned_abs();
    if scale == 0 && m <= u64::MAX as u128 {
        // `i128 as f64` and `u64 as f64` both round to nearest, ties to even (symmetric in the
        // sign); a negative zero is +0.0 there (the integer 0)
        let v = m as u64 as f64;
        return if d.is_sign_negative() && m != 0 {
            -v
        } else {
            v
        };
    }
    if scale == 0 || scale > 19 || m > u64::MAX as u128 {
        return d.to_f64().unwrap_or(f64::NAN);
    }
    let (m, precision) = (m as u64, 10_u64.pow(scale));
    // u64 and u128 to f64 both round to nearest: the same values as the general case
    let frac_f64 = ((m % precision) as f64) / (precision as f64);
    let integral = (m / precision) as f64;
    let value = if frac_f64 == 0.0 {
        integral
    } else {
        let round_to = 10f64.powi(scale as i32);
        ((integral + frac_f64) * round_to).round() / round_to
    };
    if d.is_sign_negative() {
        -value
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounding_rules() {
        assert_eq!(Rounding::HalfUp.round(dec!(0.005), 2), dec!(0.01));
        assert_eq!(Rounding::HalfUp.round(dec!(-0.005), 2), dec!(-0.01));
        assert_eq!(Rounding::HalfEven.round(dec!(0.005), 2), dec!(0.00));
        assert_eq!(Rounding::HalfEven.round(dec!(0.015), 2), dec!(0.02));
        assert_eq!(Rounding::Down.round(dec!(0.019), 2), dec!(0.01));
        assert_eq!(Rounding::Up.round(dec!(0.011), 2), dec!(0.02));
    }

    #[test]
    fn allocation_sums_exactly() {
        let shares = allocate(dec!(100.00), &[dec!(1), dec!(1), dec!(1)], 2).unwrap();
        assert_eq!(shares, vec![dec!(33.34), dec!(33.33), dec!(33.33)]);
        assert_eq!(shares.iter().copied().sum::<Decimal>(), dec!(100.00));
    }

    #[test]
    fn amounts_carry_the_currency_scale() {
        let text = |v: Decimal, dp| at_scale(v, dp).to_string();
        assert_eq!(text(dec!(12000), 2), "12000.00");
        assert_eq!(text(dec!(300.0), 2), "300.00");
        assert_eq!(text(dec!(12000.00), 0), "12000");
        assert_eq!(text(dec!(125), 3), "125.000");
        assert_eq!(text(Decimal::ZERO, 2), "0.00");
        // 10% of 3,000 = 300.0 in Decimal; rounded, it is written 300.00
        let r = Rounding::HalfUp.round(dec!(0.1) * dec!(3000), 2);
        assert_eq!(r.to_string(), "300.00");
        assert_eq!(Rounding::HalfEven.round(dec!(2.5), 0).to_string(), "2");
        let shares = allocate(dec!(100), &[dec!(1), dec!(3)], 2).unwrap();
        assert_eq!(shares[0].to_string(), "25.00");
        assert_eq!(shares[1].to_string(), "75.00");
    }

    #[test]
    fn bounds_and_overflowing_allocations() {
        assert!(check_bounds(dec!(999999999999999.999999), Some(6)).is_ok());
        assert!(check_bounds(dec!(-1000000000000000), None).is_err());
        assert!(check_bounds(dec!(0.0000001), Some(6)).is_err());
        assert!(check_bounds(dec!(0.1000000), Some(6)).is_ok());
        assert_eq!(allocate(dec!(1000), &[Decimal::MAX, Decimal::ONE], 2), None);
        // no panic at the very top of the range: shares, or None
        if let Some(shares) = allocate(Decimal::MAX, &[dec!(2), dec!(1)], 0) {
            assert_eq!(checked_sum(shares), Some(Decimal::MAX));
        }
        // 10^15 × 10^14 overflows, the shares do not: 10^15 × 1/3 and 2/3 to the cent
        let w = [dec!(100000000000000), dec!(200000000000000)];
        let shares = allocate(dec!(999999999999999.99), &w, 2).unwrap();
        assert_eq!(
            shares,
            vec![dec!(333333333333333.33), dec!(666666666666666.66)]
        );
    }

    #[test]
    fn minor_units_known() {
        assert_eq!(minor_units("eur"), Some(2));
        assert_eq!(minor_units("JPY"), Some(0));
        assert_eq!(minor_units("KWD"), Some(3));
        assert_eq!(minor_units("XYZ"), None);
    }

    #[test]
    fn to_f64_is_rust_decimals_conversion_bit_for_bit() {
        // a fixed pseudo-random sweep of mantissas and scales, and the edges of the fast path
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut cases = vec![
            Decimal::ZERO,
            Decimal::from_parts(0, 0, 0, true, 0),
            Decimal::from_parts(0, 0, 0, true, 2),
            Decimal::from_i128_with_scale(u64::MAX as i128, 0),
            Decimal::from_i128_with_scale(-(u64::MAX as i128), 0),
            Decimal::from_i128_with_scale(u64::MAX as i128 + 1, 0),
            Decimal::from_i128_with_scale(-(1_i128 << 53) - 1, 0),
            Decimal::from_i128_with_scale((1_i128 << 53) + 3, 0),
            Decimal::new(-5, 1),
            Decimal::new(i64::MAX, 2),
            Decimal::new(i64::MIN + 1, 19),
            Decimal::from_i128_with_scale(u64::MAX as i128, 3),
            Decimal::from_i128_with_scale(-(u64::MAX as i128) - 1, 3),
            Decimal::from_i128_with_scale(10_i128.pow(27), 20),
            Decimal::MAX,
        ];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = ((x >> (x % 50)) as i64).wrapping_mul(if x & 1 == 0 { 1 } else { -1 });
            cases.push(Decimal::new(m, (x % 22) as u32));
        }
        for d in cases {
            let want = d.to_f64().unwrap();
            assert_eq!(to_f64(d).to_bits(), want.to_bits(), "{d}");
        }
    }
}
