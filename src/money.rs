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

    /// Round `value` to `decimals` places with this rule.
    pub fn round(self, value: Decimal, decimals: u32) -> Decimal {
        value.round_dp_with_strategy(decimals, self.strategy())
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
pub fn allocate(total: Decimal, weights: &[Decimal], decimals: u32) -> Vec<Decimal> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let unit = Decimal::new(1, decimals);
    let sum: Decimal = weights.iter().copied().sum();
    let even;
    let weights = if sum.is_zero() {
        even = vec![Decimal::ONE; n];
        &even[..]
    } else {
        weights
    };
    let sum: Decimal = weights.iter().copied().sum();
    let mut shares = Vec::with_capacity(n);
    let mut remainders = Vec::with_capacity(n);
    for (i, w) in weights.iter().enumerate() {
        let exact = total * *w / sum;
        let floor = exact.round_dp_with_strategy(decimals, RoundingStrategy::ToNegativeInfinity);
        shares.push(floor);
        remainders.push((exact - floor, i));
    }
    let allocated: Decimal = shares.iter().copied().sum();
    let mut left = ((total - allocated) / unit).round().to_i64().unwrap_or(0);
    // largest remainder first; ties to the lowest index (deterministic)
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut k = 0;
    while left > 0 && n > 0 {
        shares[remainders[k % n].1] += unit;
        left -= 1;
        k += 1;
    }
    shares
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
        let shares = allocate(dec!(100.00), &[dec!(1), dec!(1), dec!(1)], 2);
        assert_eq!(shares, vec![dec!(33.34), dec!(33.33), dec!(33.33)]);
        assert_eq!(shares.iter().copied().sum::<Decimal>(), dec!(100.00));
    }

    #[test]
    fn minor_units_known() {
        assert_eq!(minor_units("eur"), Some(2));
        assert_eq!(minor_units("JPY"), Some(0));
        assert_eq!(minor_units("KWD"), Some(3));
        assert_eq!(minor_units("XYZ"), None);
    }
}
