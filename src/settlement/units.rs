//! A settlement line's amounts as integer minor units.
//!
//! Every amount on a line has exactly the currency's decimal places (`money::at_scale`), so a
//! line's seven amounts are held as `i64` minor units (`value × 10^dp`): half the bytes of
//! seven `Decimal`s and integer additions for the partner totals. An amount that is not an
//! `i64` of minor units (beyond about ±9.2·10^18 of them, 9.2·10^16 euros at cents; or a
//! negative zero, which `Decimal` keeps and an integer cannot) makes the whole settlement run
//! again with `Decimal` columns ([`Amount`] for `Decimal`), so the result is always the one
//! the exact `Decimal` path gives: the same values, scales and totals.

use super::amounts::{held, line_amounts, minor_line, Stages};
use super::columns::{ZeroBits, AMOUNTS};
use super::result::Totals;
use rust_decimal::Decimal;

/// How a line's amount is held in the settlement's columns.
pub(super) trait Amount: ZeroBits + Send + Sync + 'static {
    /// Running sum of a partner's lines.
    type Sum: Send;

    /// `v` (with exactly `dp` places) as held; `None` if it cannot be held exactly.
    fn from_amount(v: Decimal, dp: u32) -> Option<Self>;

    /// The amount held, with exactly `dp` places.
    fn amount(self, dp: u32) -> Decimal;

    /// An empty sum of lines.
    fn sum_zero(dp: u32) -> Self::Sum;

    /// Add a line's amounts; `None` if a sum overflows.
    fn sum_add(sum: &mut Self::Sum, a: &[Self; AMOUNTS]) -> Option<()>;

    /// The totals of a sum (each with exactly `dp` places); `None` if beyond `Decimal`.
    fn totals(sum: Self::Sum, dp: u32) -> Option<Totals>;

    /// The column of amounts held by a settlement.
    fn column(v: Vec<[Self; AMOUNTS]>, dp: u32) -> Amounts;

    /// The amounts of component `c`'s line in period `k` before the budget
    /// ([`line_amounts`]) held as `Self`; `None` if one cannot be.
    #[inline(always)]
    fn line(s: Stages<'_>, c: usize, k: usize, periods: usize, dp: u32) -> Option<[Self; AMOUNTS]> {
        held(line_amounts(s, c, k, periods, dp), dp)
    }
}

impl Amount for i64 {
    type Sum = [i128; AMOUNTS];

    #[inline(always)]
    fn from_amount(v: Decimal, dp: u32) -> Option<i64> {
        if v.scale() != dp || (v.is_zero() && v.is_sign_negative()) {
            return None;
        }
        i64::try_from(v.mantissa()).ok()
    }

    #[inline(always)]
    fn amount(self, dp: u32) -> Decimal {
        Decimal::new(self, dp)
    }

    fn sum_zero(_dp: u32) -> [i128; AMOUNTS] {
        [0; AMOUNTS]
    }

    #[inline(always)]
    fn sum_add(sum: &mut [i128; AMOUNTS], a: &[i64; AMOUNTS]) -> Option<()> {
        // at most 2^64 lines of at most 2^63 each: within i128
        for (s, &x) in sum.iter_mut().zip(a) {
            *s += i128::from(x);
        }
        Some(())
    }

    fn totals(sum: [i128; AMOUNTS], dp: u32) -> Option<Totals> {
        let d = |m: i128| Decimal::try_from_i128_with_scale(m, dp).ok();
        Some(Totals {
            calculated: d(sum[0])?,
            adj_component_cap: d(sum[1])?,
            adj_exclusive_group: d(sum[2])?,
            adj_partner_cap: d(sum[3])?,
            adj_minimum_payout: d(sum[4])?,
            adj_budget_cut: d(sum[5])?,
            payable: d(sum[6])?,
        })
    }

    fn column(v: Vec<[i64; AMOUNTS]>, dp: u32) -> Amounts {
        Amounts::Units(v, dp)
    }

    #[inline(always)]
    fn line(s: Stages<'_>, c: usize, k: usize, periods: usize, dp: u32) -> Option<[i64; AMOUNTS]> {
        minor_line(s, c, k, periods, dp).or_else(|| held(line_amounts(s, c, k, periods, dp), dp))
    }
}

impl Amount for Decimal {
    type Sum = Totals;

    #[inline(always)]
    fn from_amount(v: Decimal, _dp: u32) -> Option<Decimal> {
        Some(v)
    }

    #[inline(always)]
    fn amount(self, _dp: u32) -> Decimal {
        self
    }

    fn sum_zero(dp: u32) -> Totals {
        Totals::zero(dp)
    }

    fn sum_add(sum: &mut Totals, a: &[Decimal; AMOUNTS]) -> Option<()> {
        sum.add(a)
    }

    fn totals(sum: Totals, _dp: u32) -> Option<Totals> {
        Some(sum)
    }

    fn column(v: Vec<[Decimal; AMOUNTS]>, _dp: u32) -> Amounts {
        Amounts::Exact(v)
    }
}

/// The amounts of a settlement's lines: minor units (the common case) or `Decimal`s.
#[derive(Debug, Clone)]
pub(super) enum Amounts {
    /// `i64` minor units at the currency's `dp` places.
    Units(Vec<[i64; AMOUNTS]>, u32),
    Exact(Vec<[Decimal; AMOUNTS]>),
}

impl Default for Amounts {
    fn default() -> Amounts {
        Amounts::Exact(Vec::new())
    }
}

impl Amounts {
    /// Line `i`'s amounts.
    #[inline]
    pub(super) fn get(&self, i: usize) -> [Decimal; AMOUNTS] {
        match self {
            Amounts::Units(v, dp) => v[i].map(|x| x.amount(*dp)),
            Amounts::Exact(v) => v[i],
        }
    }

    /// Line `i`'s amount `j` (in the order of [`Amounts::get`]).
    #[inline]
    pub(super) fn at(&self, i: usize, j: usize) -> Decimal {
        match self {
            Amounts::Units(v, dp) => v[i][j].amount(*dp),
            Amounts::Exact(v) => v[i][j],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_at_the_currency_scale_are_minor_units() {
        assert_eq!(i64::from_amount(dec!(12.34), 2), Some(1234));
        assert_eq!(i64::from_amount(dec!(-0.05), 2), Some(-5));
        assert_eq!(i64::from_amount(dec!(7), 0), Some(7));
        assert_eq!(i64::from_amount(dec!(1.500), 3), Some(1500));
        assert_eq!(1234i64.amount(2).to_string(), "12.34");
        assert_eq!(0i64.amount(2).to_string(), "0.00");
        assert_eq!((-5i64).amount(3).to_string(), "-0.005");
    }

    #[test]
    fn what_minor_units_cannot_hold_is_refused() {
        // not at the currency's scale (never for a line amount; refused all the same)
        assert_eq!(i64::from_amount(dec!(1.5), 2), None);
        assert_eq!(i64::from_amount(dec!(1.500), 2), None);
        // a negative zero (Decimal writes "-0.00"; an integer cannot say it)
        let neg_zero = -dec!(0.00);
        assert!(neg_zero.is_sign_negative());
        assert_eq!(i64::from_amount(neg_zero, 2), None);
        // the largest i64 of minor units, and one more
        let max = Decimal::new(i64::MAX, 2);
        assert_eq!(i64::from_amount(max, 2), Some(i64::MAX));
        assert_eq!(i64::from_amount(max + dec!(0.01), 2), None);
        assert_eq!(i64::from_amount(-max - dec!(0.01), 2), Some(i64::MIN));
        assert_eq!(i64::from_amount(-max - dec!(0.02), 2), None);
        // 5.4e25 euros (an exact settlement amount below money::exact_limit)
        assert_eq!(
            i64::from_amount(dec!(54000000000000000000000000.00), 2),
            None
        );
    }

    #[test]
    fn totals_beyond_decimal_are_refused() {
        let mut s = i64::sum_zero(2);
        for _ in 0..3 {
            i64::sum_add(&mut s, &[i64::MAX; AMOUNTS]).unwrap();
        }
        let t = i64::totals(s, 2).unwrap();
        assert_eq!(t.payable, Decimal::new(i64::MAX, 2) * dec!(3));
        assert_eq!(t.payable.scale(), 2);
        let s = [i128::from(u64::MAX) << 33; AMOUNTS]; // ~7.9e28 minor units
        assert!(i64::totals(s, 2).is_none());
    }

    /// A line's amounts as `money::at_scale` writes them, from mantissas and scales.
    fn amount_at(m: i64, s: u32, dp: u32) -> Decimal {
        money::at_scale(Decimal::new(m, s), dp)
    }

    proptest! {
        /// On amounts at the currency's scale, minor units round-trip to the same `Decimal`
        /// (value, scale and text) and their sums are the `Decimal` totals, to the cent and
        /// the scale.
        #[test]
        fn minor_units_agree_with_decimal(
            lines in prop::collection::vec(prop::array::uniform7((any::<i64>(), 0u32..9)), 0..40),
            dp in 0u32..7,
        ) {
            let mut units = i64::sum_zero(dp);
            let mut exact = Decimal::sum_zero(dp);
            let mut held = 0;
            for line in &lines {
                let a: [Decimal; AMOUNTS] = line.map(|(m, s)| amount_at(m >> 20, s, dp));
                let Some(u) = a.iter().map(|&v| i64::from_amount(v, dp)).collect::<Option<Vec<i64>>>()
                else {
                    continue;
                };
                let u: [i64; AMOUNTS] = u.try_into().unwrap();
                for (&x, &v) in u.iter().zip(&a) {
                    let back = x.amount(dp);
                    prop_assert_eq!(back, v);
                    prop_assert_eq!(back.scale(), v.scale());
                    prop_assert_eq!(back.to_string(), v.to_string());
                }
                i64::sum_add(&mut units, &u).unwrap();
                Decimal::sum_add(&mut exact, &a).unwrap();
                held += 1;
            }
            let t = i64::totals(units, dp).unwrap();
            let e = Decimal::totals(exact, dp).unwrap();
            for (x, y) in t.amounts().iter().zip(e.amounts()) {
                prop_assert_eq!(*x, y);
                prop_assert_eq!(x.to_string(), y.to_string());
            }
            prop_assert!(held <= lines.len());
        }
    }
}
