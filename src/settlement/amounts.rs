//! A line's seven amounts from a partner's pipeline: this period's increments of the amounts
//! to date after each stage (entitlement, component cap, exclusive group, partner cap,
//! minimum payout), in exact `Decimal`s ([`line_amounts`]), and the same in integer minor
//! units where every amount to date has at most the currency's places ([`minor_line`]: the
//! common case, integer subtractions instead of `Decimal` ones).

use super::columns::AMOUNTS;
use super::units::Amount;
use crate::money;
use crate::rules::PartnerScratch;
use rust_decimal::Decimal;

/// A partner's amounts to date after each stage of its pipeline (index `c * periods + k`).
#[derive(Clone, Copy)]
pub(super) struct Stages<'a> {
    pub(super) entitled: &'a [Decimal],
    pub(super) capped: &'a [Decimal],
    pub(super) exclusive: &'a [Decimal],
    pub(super) partner_capped: &'a [Decimal],
    pub(super) payable: &'a [Decimal],
}

impl<'a> Stages<'a> {
    pub(super) fn of(s: &'a PartnerScratch<Decimal>) -> Stages<'a> {
        Stages {
            entitled: &s.entitled,
            capped: &s.capped,
            exclusive: &s.exclusive,
            partner_capped: &s.partner_capped,
            payable: &s.payable,
        }
    }
}

/// The amounts of component `c`'s line in period `k` before the programme budget (the cut
/// 0, payable the payable after the minimum payout), from a partner's pipeline: this
/// period's increments of the amounts to date, each with exactly the currency's `dp` places.
pub(super) fn line_amounts(
    s: Stages<'_>,
    c: usize,
    k: usize,
    periods: usize,
    dp: u32,
) -> [Decimal; AMOUNTS] {
    let at = |v: &[Decimal], k: usize| v[c * periods + k];
    let diff = |v: &[Decimal]| {
        if k == 0 {
            at(v, 0)
        } else {
            at(v, k) - at(v, k - 1)
        }
    };
    // every amount with exactly the currency's decimal places (a stage's zero is a bare 0)
    let scaled = |v: Decimal| at_dp(v, dp);
    let calculated = scaled(diff(s.entitled));
    let adj_component_cap = scaled(diff(s.capped) - calculated);
    let adj_exclusive_group = scaled(diff(s.exclusive) - diff(s.capped));
    let adj_partner_cap = scaled(diff(s.partner_capped) - diff(s.exclusive));
    let payable = diff(s.payable);
    let adj_minimum_payout = scaled(payable - diff(s.partner_capped));
    [
        calculated,
        adj_component_cap,
        adj_exclusive_group,
        adj_partner_cap,
        adj_minimum_payout,
        // the budget cut where the budget does not bind, as `finish_lines` writes it where
        // it does (the budgeted payable to date then being the payable to date)
        scaled(Decimal::ZERO),
        scaled(payable),
    ]
}

/// [`line_amounts`] in minor units, computed in integers: `None` unless every amount to date
/// it reads has at most `dp` places, is not a negative zero and is, like every result, an
/// `i64` of minor units. Then it is exactly [`line_amounts`] held as minor units: each
/// `Decimal` difference there is exact (operands below 2^63 with at most `dp` places), its
/// zero positive (`Decimal` subtraction gives a negative zero only from one), and a value
/// with at most `dp` places is written at `dp` places without rounding; the cut `p - p` is 0.
#[inline]
pub(super) fn minor_line(
    s: Stages<'_>,
    c: usize,
    k: usize,
    periods: usize,
    dp: u32,
) -> Option<[i64; AMOUNTS]> {
    let i = c * periods + k;
    let diff = |v: &[Decimal]| -> Option<i64> {
        let x = minor(v[i], dp)?;
        if k == 0 {
            Some(x)
        } else {
            x.checked_sub(minor(v[i - 1], dp)?)
        }
    };
    let entitled = diff(s.entitled)?;
    let capped = diff(s.capped)?;
    let exclusive = diff(s.exclusive)?;
    let partner_capped = diff(s.partner_capped)?;
    let payable = diff(s.payable)?;
    Some([
        entitled,
        capped.checked_sub(entitled)?,
        exclusive.checked_sub(capped)?,
        partner_capped.checked_sub(exclusive)?,
        payable.checked_sub(partner_capped)?,
        0,
        payable,
    ])
}

/// `v` in minor units at `dp` places, if it has at most `dp` places, is not a negative zero
/// and the result is an `i64`.
#[inline(always)]
fn minor(v: Decimal, dp: u32) -> Option<i64> {
    let s = v.scale();
    if s > dp || (v.is_zero() && v.is_sign_negative()) {
        return None;
    }
    i64::try_from(v.mantissa())
        .ok()?
        .checked_mul(10i64.checked_pow(dp - s)?)
}

/// A line's amounts held as `T` (`None` if one cannot be).
#[inline(always)]
pub(super) fn held<T: Amount>(a: [Decimal; AMOUNTS], dp: u32) -> Option<[T; AMOUNTS]> {
    let [a0, a1, a2, a3, a4, a5, a6] = a;
    let h = |v| T::from_amount(v, dp);
    Some([h(a0)?, h(a1)?, h(a2)?, h(a3)?, h(a4)?, h(a5)?, h(a6)?])
}

/// [`money::at_scale`] with its common case inline: an amount that already has exactly `dp`
/// places (a rounded amount, or a difference of two) is returned as it is, which is what
/// `at_scale` returns for it (`Decimal::rescale` to its own scale changes nothing).
#[inline(always)]
pub(super) fn at_dp(v: Decimal, dp: u32) -> Decimal {
    if v.scale() == dp {
        v
    } else {
        money::at_scale(v, dp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    /// Stages of one component over `periods` from five columns of amounts to date.
    fn stages(v: &[Vec<Decimal>; 5]) -> Stages<'_> {
        Stages {
            entitled: &v[0],
            capped: &v[1],
            exclusive: &v[2],
            partner_capped: &v[3],
            payable: &v[4],
        }
    }

    #[test]
    fn a_worked_line_in_cents() {
        // entitled 120.00 then 250.005 → rounded before (here 250.01 to date), capped at 200,
        // partner cap and minimum payout leaving 200, 180 to date
        let v = [
            vec![dec!(120.00), dec!(250.01)],
            vec![dec!(120), dec!(200)],
            vec![dec!(120), dec!(200)],
            vec![dec!(120), dec!(180.5)],
            vec![dec!(120), dec!(180.5)],
        ];
        let q2 = minor_line(stages(&v), 0, 1, 2, 2).unwrap();
        assert_eq!(q2, [13001, -5001, 0, -1950, 0, 0, 6050]);
        let exact = line_amounts(stages(&v), 0, 1, 2, 2);
        let text: Vec<String> = exact.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            text,
            ["130.01", "-50.01", "0.00", "-19.50", "0.00", "0.00", "60.50"]
        );
        assert_eq!(held::<i64>(exact, 2), Some(q2));
        // more places than the currency's: the Decimal path rounds (half away from zero)
        let mut w = v.clone();
        w[3][1] = dec!(180.505);
        assert_eq!(minor_line(stages(&w), 0, 1, 2, 2), None);
        let exact = line_amounts(stages(&w), 0, 1, 2, 2);
        assert_eq!(exact[3].to_string(), "-19.50"); // 180.505 - 200 = -19.495 → -19.50
        assert_eq!(exact[4].to_string(), "-0.01"); // 180.5 - 180.505 = -0.005 → -0.01
    }

    #[test]
    fn negative_zeros_and_huge_amounts_take_the_decimal_path() {
        let z = -dec!(0.00);
        let v = [vec![z], vec![z], vec![z], vec![z], vec![z]];
        assert_eq!(minor_line(stages(&v), 0, 0, 1, 2), None);
        let big = Decimal::new(i64::MAX, 2);
        let v = [vec![big], vec![big], vec![big], vec![big], vec![big]];
        assert_eq!(
            minor_line(stages(&v), 0, 0, 1, 2),
            Some([i64::MAX, 0, 0, 0, 0, 0, i64::MAX])
        );
        let v = [vec![big], vec![-big], vec![big], vec![big], vec![big]];
        assert_eq!(minor_line(stages(&v), 0, 0, 1, 2), None); // -max - max overflows
        let v = [
            vec![big],
            vec![big],
            vec![big],
            vec![big],
            vec![big * dec!(10)],
        ];
        assert_eq!(minor_line(stages(&v), 0, 0, 1, 2), None);
    }

    /// An amount to date: a mantissa at a scale, sometimes a negative zero.
    fn amount() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            8 => (-10_000_000i64..10_000_000, 0u32..5).prop_map(|(m, s)| Decimal::new(m, s)),
            1 => (any::<i64>(), 0u32..4).prop_map(|(m, s)| Decimal::new(m, s)),
            1 => (0u32..5).prop_map(|s| -Decimal::new(0, s)),
        ]
    }

    proptest! {
        /// Where the integer path gives a line it is exactly the `Decimal` path's, held as
        /// minor units (same values and scales, no negative zero, every amount an `i64`); and
        /// where every amount to date has at most the currency's places and fits, it gives one.
        #[test]
        fn minor_units_agree_with_the_decimal_line(
            cols in prop::array::uniform5(prop::collection::vec(amount(), 3)),
            k in 0usize..3,
            dp in 0u32..4,
        ) {
            let s = stages(&cols);
            let exact = line_amounts(s, 0, k, 3, dp);
            let fast = minor_line(s, 0, k, 3, dp);
            if let Some(f) = fast {
                prop_assert_eq!(Some(f), held::<i64>(exact, dp));
                for (x, e) in f.iter().zip(exact) {
                    prop_assert_eq!(i64::amount(*x, dp).to_string(), e.to_string());
                }
            }
            let plain = cols.iter().all(|c| c.iter().all(|v| {
                v.scale() <= dp && !(v.is_zero() && v.is_sign_negative())
                    && v.mantissa().unsigned_abs() < 1 << 40
            }));
            if plain {
                prop_assert!(fast.is_some());
            }
        }
    }
}
