//! Tier ladders: how a volume ladder's amount is made up term by term under each tier method
//! ([`ladder_terms`]) and how one tier's reward applies to a basis quantity ([`contribution`]).

use super::{Amount, PTier, RewardKind};
use crate::programme::{Basis, TierMethod};

/// Convert a basis quantity `q` (part of volume `v`) to what the tier's reward is paid on and
/// apply the reward: a rate applies to revenue, an amount per unit to units, a fixed amount
/// as is. When the basis is not what the reward is paid on, the paid measure is taken in the
/// proportion `q / v` (e.g. a percentage on a units ladder pays on the revenue of those units).
#[inline]
pub fn contribution<A: Amount>(t: &PTier<A>, basis: Basis, q: A, v: A, revenue: A, units: A) -> A {
    let scaled = |paid: A| {
        if v > A::ZERO {
            paid.mul_div(q, v)
        } else {
            A::ZERO
        }
    };
    match t.kind {
        RewardKind::Rate => t.value.times(if basis == Basis::Revenue {
            q
        } else {
            scaled(revenue)
        }),
        RewardKind::PerUnit => t.value.times(if basis == Basis::Units {
            q
        } else {
            scaled(units)
        }),
        RewardKind::Fixed => t.value,
    }
}

/// The amount of a volume ladder, term by term.
///
/// Calls `term(tier_index, quantity, amount)` for every term that makes up the amount (in
/// tier order) and returns `(amount, reached tier (1-based, 0 = none), volume paid on)`.
/// `v` is the basis volume (the reached tier is decided on it, before any basis cap);
/// `revenue` and `units` are what rates and per-unit rewards are paid on.
/// - retroactive: the reached tier's reward on all (capped) volume;
/// - incremental: each band `[t_i, t_{i+1})` of (capped) volume at tier `i`'s reward;
/// - rolling: complete lower bands at their own rewards plus the reached tier's reward on
///   all (capped) volume;
/// - total: every reached tier's reward on all (capped) volume.
///
/// Fixed rewards pay the reached tier's amount (retroactive) or the sum over reached tiers.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn ladder_terms<A: Amount>(
    tiers: &[PTier<A>],
    method: TierMethod,
    basis: Basis,
    basis_cap: Option<A>,
    v: A,
    revenue: A,
    units: A,
    term: impl FnMut(usize, A, A),
) -> (A, u32, A) {
    let r = tiers.iter().take_while(|t| v.at_least(t.threshold)).count();
    ladder_terms_reached(tiers, method, basis, basis_cap, r, v, revenue, units, term)
}

/// [`ladder_terms`] once the number of tiers reached, `r` (the leading tiers whose threshold
/// `v` is [`Amount::at_least`]), is known: the engine's fast path counts them on thresholds
/// it lowers by the tolerance once, not on every call.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn ladder_terms_reached<A: Amount>(
    tiers: &[PTier<A>],
    method: TierMethod,
    basis: Basis,
    basis_cap: Option<A>,
    r: usize,
    v: A,
    revenue: A,
    units: A,
    mut term: impl FnMut(usize, A, A),
) -> (A, u32, A) {
    if r == 0 {
        return (A::ZERO, 0, A::ZERO);
    }
    let vc = match basis_cap {
        Some(c) => v.min_of(c),
        None => v,
    };
    let mut total = A::ZERO;
    let mut add = |i: usize, q: A| {
        let a = contribution(&tiers[i], basis, q, v, revenue, units);
        term(i, q, a);
        total = total.plus(a);
    };
    match method {
        TierMethod::Retroactive => add(r - 1, vc),
        TierMethod::Incremental => {
            for i in 0..r {
                let top = if i + 1 < r {
                    tiers[i + 1].threshold.min_of(vc)
                } else {
                    vc
                };
                add(i, top.minus(tiers[i].threshold).max_of(A::ZERO));
            }
        }
        TierMethod::Rolling => {
            for i in 0..r - 1 {
                let (lo, hi) = match basis_cap {
                    Some(c) => (
                        tiers[i].threshold.min_of(c),
                        tiers[i + 1].threshold.min_of(c),
                    ),
                    None => (tiers[i].threshold, tiers[i + 1].threshold),
                };
                add(i, hi.minus(lo));
            }
            add(r - 1, vc);
        }
        TierMethod::Total => {
            for i in 0..r {
                add(i, vc);
            }
        }
    }
    (total.max_of(A::ZERO), r as u32, vc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use std::str::FromStr;

    fn tiers(t: &[(i64, &str)]) -> Vec<PTier<Decimal>> {
        t.iter()
            .map(|(th, r)| PTier {
                threshold: Decimal::from(*th),
                kind: RewardKind::Rate,
                value: Decimal::from_str(r).unwrap(),
            })
            .collect()
    }

    fn amount(method: TierMethod, cap: Option<Decimal>, v: Decimal) -> Decimal {
        let t = tiers(&[(10_000, "0.02"), (20_000, "0.03"), (50_000, "0.04")]);
        ladder_terms(
            &t,
            method,
            Basis::Revenue,
            cap,
            v,
            v,
            Decimal::ZERO,
            |_, _, _| {},
        )
        .0
    }

    #[test]
    fn ladder_methods() {
        let v = dec!(60000);
        assert_eq!(amount(TierMethod::Retroactive, None, v), dec!(2400));
        // 2%·10,000 + 3%·30,000 + 4%·10,000
        assert_eq!(amount(TierMethod::Incremental, None, v), dec!(1500));
        // 2%·10,000 + 3%·30,000 + 4%·60,000
        assert_eq!(amount(TierMethod::Rolling, None, v), dec!(3500));
        // 9%·60,000
        assert_eq!(amount(TierMethod::Total, None, v), dec!(5400));
        assert_eq!(
            amount(TierMethod::Retroactive, None, dec!(9999.99)),
            dec!(0)
        );
        assert_eq!(
            amount(TierMethod::Retroactive, Some(dec!(40000)), v),
            dec!(1600)
        );
        assert_eq!(
            amount(TierMethod::Incremental, Some(dec!(40000)), v),
            dec!(800)
        );
    }
}
