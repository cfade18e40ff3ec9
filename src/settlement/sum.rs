//! Sums of table numbers in 128-bit integers: the measures of a partner's rows added as
//! integer mantissas (aligned to the larger scale by a multiplication) instead of one
//! `Decimal` addition (with its rescaling) per row and component, giving back exactly the `Decimal` that adding the same numbers one by one gives
//! (value, scale and sign of zero included), so that nothing downstream can tell.
//!
//! A table number has at most [`MAX_TABLE_DECIMALS`] places once normalised, but a CSV cell
//! such as `1.50000000` keeps a larger scale: [`Units::of`] refuses such a number and the
//! caller adds in `Decimal` instead.

use crate::money::MAX_TABLE_DECIMALS;
use rust_decimal::Decimal;

/// 10^k for k ≤ 6.
const POW10: [i128; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// What a measure adds up: `Decimal` itself (the general path) or [`Units`].
pub(crate) trait Summand: Copy {
    /// `self += x`, as `Decimal` adds.
    fn add(&mut self, x: Self);
    /// Whether the number is below zero.
    fn is_negative(self) -> bool;
    /// A decimal the caller knows to be representable (at most six places).
    fn of_decimal(d: Decimal) -> Self;
}

impl Summand for Decimal {
    #[inline]
    fn add(&mut self, x: Decimal) {
        *self += x;
    }

    #[inline]
    fn is_negative(self) -> bool {
        self.is_sign_negative() && !self.is_zero()
    }

    fn of_decimal(d: Decimal) -> Decimal {
        d
    }
}

/// A decimal of at most six places as its mantissa, scale and sign bit: adds like `Decimal`
/// (a zero operand leaves the other as it is, scale and sign of zero included; a cancellation
/// to zero keeps the larger scale and is a positive zero). Table numbers are under 10¹⁵ with six places,
/// so 10⁷ of them sum far inside 128 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Units {
    mantissa: i128,
    scale: u8,
    negative: bool,
}

impl Units {
    /// Zero (`Decimal::ZERO`).
    pub(crate) const ZERO: Units = Units {
        mantissa: 0,
        scale: 0,
        negative: false,
    };

    /// `d` as units, or `None` when its scale is over six places.
    #[inline]
    pub(crate) fn of(d: Decimal) -> Option<Units> {
        let scale = d.scale();
        if scale > MAX_TABLE_DECIMALS {
            return None;
        }
        Some(Units {
            mantissa: d.mantissa(),
            scale: scale as u8,
            negative: d.is_sign_negative(),
        })
    }

    /// The `Decimal` with this value, scale and sign.
    #[inline]
    pub(crate) fn to_decimal(self) -> Decimal {
        // |mantissa| < 2^96: a sum of fewer than 2^26 numbers under 10^15 · 10^6 (< 2^70)
        let a = self.mantissa.unsigned_abs();
        debug_assert!(a >> 96 == 0);
        let mut d = Decimal::from_parts(
            a as u32,
            (a >> 32) as u32,
            (a >> 64) as u32,
            self.negative,
            self.scale as u32,
        );
        if a == 0 && self.negative {
            d.set_sign_negative(true); // a negative zero read from a cell, as `Decimal` keeps it
        }
        d
    }
}

impl Summand for Units {
    #[inline]
    fn add(&mut self, x: Units) {
        if self.mantissa == 0 {
            *self = x;
        } else if x.mantissa != 0 {
            if x.scale == self.scale {
                self.mantissa += x.mantissa;
            } else if x.scale > self.scale {
                self.mantissa = self.mantissa * POW10[(x.scale - self.scale) as usize] + x.mantissa;
                self.scale = x.scale;
            } else {
                self.mantissa += x.mantissa * POW10[(self.scale - x.scale) as usize];
            }
            self.negative = self.mantissa < 0;
        }
    }

    #[inline]
    fn is_negative(self) -> bool {
        self.mantissa < 0
    }

    fn of_decimal(d: Decimal) -> Units {
        Units::of(d).expect("a sum of numbers of at most six places")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// The decimal's value, scale and sign bit, as its text and flags show them.
    fn exact(x: Decimal) -> (String, u32, bool) {
        (x.to_string(), x.scale(), x.is_sign_negative())
    }

    fn both(xs: &[Decimal]) -> ((String, u32, bool), (String, u32, bool)) {
        let mut a = Decimal::ZERO;
        let mut b = Units::ZERO;
        for &x in xs {
            a += x;
            b.add(Units::of(x).unwrap());
        }
        (exact(a), exact(b.to_decimal()))
    }

    #[test]
    fn adds_as_decimal_does_by_hand() {
        // 1.5 + 2.25 = 3.75; scales 1 and 2 → 2
        let (a, b) = both(&[d("1.5"), d("2.25")]);
        assert_eq!(b, ("3.75".to_owned(), 2, false));
        assert_eq!(a, b);
        // a zero takes the other's scale: 0.000 + 7 = 7 (scale 0)
        assert_eq!(both(&[d("0.000"), d("7")]).1, ("7".to_owned(), 0, false));
        // a cancellation keeps the larger scale and is positive: -1.5 + 1.50 = 0.00
        let (a, b) = both(&[d("-1.5"), d("1.50")]);
        assert_eq!(a, b);
        assert_eq!(b, ("0.00".to_owned(), 2, false));
        // then the next number replaces the zero, scale and all: 0.00 + 4 = 4
        assert_eq!(
            both(&[d("-1.5"), d("1.50"), d("4")]).1,
            ("4".to_owned(), 0, false)
        );
        // a negative zero (as a decimal may hold one) is kept as the first operand, and a
        // zero added to a number leaves it as it is
        let mut neg_zero = d("0.0");
        neg_zero.set_sign_negative(true);
        let (a, b) = both(&[neg_zero]);
        assert_eq!(a, b);
        assert_eq!(b.1, 1);
        assert!(b.2);
        assert_eq!(both(&[d("2.5"), neg_zero, d("0.000")]).1, ("2.5".to_owned(), 1, false));
    }

    #[test]
    fn refuses_more_than_six_places() {
        assert!(Units::of(d("1.50000000")).is_none());
        assert!(Units::of(d("1.500000")).is_some());
    }

    #[test]
    fn summand_decimal_is_negative_only_below_zero() {
        assert!(Summand::is_negative(d("-0.01")));
        assert!(!Summand::is_negative(d("-0.00")));
        assert!(Units::of(d("-0.01")).unwrap().is_negative());
        assert!(!Units::of(d("-0.00")).unwrap().is_negative());
    }

    fn table_number() -> impl Strategy<Value = Decimal> {
        // small mantissas make cancellations and zeros common; any sign, scale 0..=6
        (
            prop_oneof![
                -30i64..30,
                -10_000_000i64..10_000_000,
                -999_999_999_999_999i64..999_999_999_999_999
            ],
            0u32..=6,
            any::<bool>(),
        )
            .prop_map(|(m, s, neg_zero)| {
                let mut x = Decimal::new(m, s);
                if m == 0 && neg_zero {
                    x.set_sign_negative(true);
                }
                x
            })
    }

    proptest! {
        #[test]
        fn any_sequence_sums_to_the_same_decimal(xs in proptest::collection::vec(table_number(), 0..40)) {
            let (a, b) = both(&xs);
            prop_assert_eq!(a, b);
        }
    }
}
