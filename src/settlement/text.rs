//! How the settlement writes numbers and names in its explanations and statements: money
//! with thousands separators, volumes, percentages, rewards, tier methods and rule kinds.

use crate::money;
use crate::programme::{Basis, GrowthApplies, TierMethod};
use crate::rules::{PreparedRule, RewardKind};
use rust_decimal::Decimal;

pub(super) fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// Format with thousands separators and exactly `dp` decimals (half-up for display).
pub fn money_text(v: Decimal, dp: u32) -> String {
    let r = v.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    // not `{:.*}`: rust_decimal's formatting with a precision panics beyond 32 characters
    // (an amount of 10^28 with its cents); `to_string` of a value at its scale does not
    group(&money::at_scale(r, dp).to_string())
}

pub(super) fn signed_money(v: Decimal, dp: u32) -> String {
    if v.is_sign_negative() && !v.is_zero() {
        format!("−{}", money_text(-v, dp))
    } else {
        format!("+{}", money_text(v, dp))
    }
}

/// A volume: money-like with `dp` decimals when it has a fraction, else an integer, grouped.
pub(super) fn num_text(v: Decimal, dp: u32) -> String {
    let n = v.normalize();
    if n.scale() == 0 {
        group(&n.to_string())
    } else if n.scale() <= dp {
        money_text(n, dp)
    } else {
        group(&n.to_string())
    }
}

pub(super) fn group(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}{frac}")
}

/// A volume in its basis: revenue as money, units as a number.
pub(super) fn vol_text(v: Decimal, basis: Basis, dp: u32) -> String {
    match basis {
        Basis::Revenue => money_text(v, dp),
        Basis::Units => num_text(v, dp),
    }
}

/// An unrounded amount: with the currency's decimals when exact, else every decimal.
pub(super) fn amount_text(v: Decimal, dp: u32) -> String {
    let n = v.normalize();
    if n.scale() <= dp {
        money_text(n, dp)
    } else {
        group(&n.to_string())
    }
}

pub(super) fn percent_text(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
}

pub(super) fn method_name(m: TierMethod) -> &'static str {
    match m {
        TierMethod::Retroactive => "retroactive",
        TierMethod::Incremental => "incremental",
        TierMethod::Rolling => "rolling",
        TierMethod::Total => "total",
    }
}

pub(super) fn basis_name(b: Basis) -> &'static str {
    match b {
        Basis::Revenue => "revenue",
        Basis::Units => "units",
    }
}

pub(super) fn kind_name(r: &PreparedRule<Decimal>) -> &'static str {
    match r {
        PreparedRule::Ladder { .. } => "volume",
        PreparedRule::Growth { .. } => "growth",
        PreparedRule::PerUnit { .. } => "per_unit",
        PreparedRule::Bundle { .. } => "bundle",
        PreparedRule::Logistics { .. } => "logistics",
    }
}

pub(super) fn reward_text(kind: RewardKind, value: Decimal, dp: u32) -> String {
    match kind {
        RewardKind::Rate => percent_text(value),
        RewardKind::PerUnit => format!("{} per unit", money_text(value, dp)),
        RewardKind::Fixed => format!("fixed {}", money_text(value, dp)),
    }
}

/// The `basis`, `tier_threshold` and `reward` columns of a line whose rule reached `tier`
/// (1-based, 0 = none).
pub(super) fn reward_columns(
    rule: &PreparedRule<Decimal>,
    tier: u32,
    dp: u32,
) -> (&'static str, Option<Decimal>, String) {
    match rule {
        PreparedRule::Ladder {
            basis,
            method,
            tiers,
            ..
        } => (
            basis_name(*basis),
            (tier > 0).then(|| tiers[tier as usize - 1].threshold),
            if tier > 0 {
                format!(
                    "{} {}",
                    reward_text(
                        tiers[tier as usize - 1].kind,
                        tiers[tier as usize - 1].value,
                        dp
                    ),
                    method_name(*method)
                )
            } else {
                String::new()
            },
        ),
        PreparedRule::Growth {
            basis,
            applies_to,
            tiers,
        } => (
            basis_name(*basis),
            (tier > 0).then(|| tiers[tier as usize - 1].threshold - Decimal::ONE),
            if tier > 0 {
                let t = &tiers[tier as usize - 1];
                format!(
                    "{} on {}",
                    reward_text(t.kind, t.value, dp),
                    if *applies_to == GrowthApplies::Whole {
                        "whole volume"
                    } else {
                        "growth above baseline"
                    }
                )
            } else {
                String::new()
            },
        ),
        PreparedRule::PerUnit { amount, .. } => (
            "units",
            None,
            format!("{} per unit", money_text(*amount, dp)),
        ),
        PreparedRule::Bundle {
            basis, rate, fixed, ..
        } => (
            basis_name(*basis),
            None,
            match (rate, fixed) {
                (Some(r), _) => format!("{} of bundle revenue", percent_text(*r)),
                (None, Some(f)) => format!("fixed {}", money_text(*f, dp)),
                _ => String::new(),
            },
        ),
        PreparedRule::Logistics {
            per_order, rate, ..
        } => (
            "orders",
            None,
            match (per_order, rate) {
                (Some(a), _) => format!("{} per order", money_text(*a, dp)),
                (None, Some(r)) => format!("{} of order revenue", percent_text(*r)),
                _ => String::new(),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_formats() {
        assert_eq!(money_text(Decimal::new(102340000, 2), 2), "1,023,400.00");
        assert_eq!(money_text(Decimal::new(-5, 1), 2), "-0.50");
        assert_eq!(num_text(Decimal::from(1200), 2), "1,200");
        assert_eq!(percent_text(Decimal::new(35, 3)), "3.5%");
    }

    /// The campaign's `decimal-format` class: rust_decimal's `{:.3}` of 2^95 (29 digits) panicked
    /// with `CapacityError`; `money_text` must format any `Decimal` at any number of places.
    #[test]
    fn money_text_never_panics() {
        let two95 = Decimal::from_i128_with_scale(39614081257132168796771975168, 0);
        assert_eq!(
            money_text(two95, 0),
            "39,614,081,257,132,168,796,771,975,168"
        );
        // 29 digits cannot keep 3 places: rust_decimal lowers the scale (no panic)
        assert!(money_text(two95, 3).starts_with("39,614,081,257,132,168,796,771,975,168"));
        let values = [
            Decimal::MAX,
            Decimal::MIN,
            two95,
            -two95,
            Decimal::from_i128_with_scale(1, 28),
            Decimal::from_i128_with_scale(-1, 28),
            Decimal::from_i128_with_scale(79228162514264337593543950335, 28),
            Decimal::new(5, 1),
            Decimal::ZERO,
        ];
        for v in values {
            for dp in [0, 1, 2, 3, 4, 8, 27, 28, 29, 40, u32::MAX] {
                let t = money_text(v, dp);
                assert!(!t.is_empty(), "{v} at {dp}");
                let _ = num_text(v, dp);
                let _ = signed_money(v, dp);
            }
        }
    }
}
