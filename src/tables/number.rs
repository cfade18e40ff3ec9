//! Numbers of a table cell as exact decimals: Arrow decimal128 and integers taken exactly,
//! float64 read as the shortest decimal that gives the same float (what Python prints) and
//! rounded to the column's places with the declared rule ([`NumberRule`]), never truncated.

use crate::money::{self, Rounding};
use crate::programme::Compiled;
use rust_decimal::Decimal;
use std::str::FromStr;

/// How float cells become exact decimals: money columns (`revenue`, `baseline_revenue`,
/// `amount`) are rounded to `decimals` places (the currency's minor unit), quantities to
/// [`money::MAX_TABLE_DECIMALS`], both with `rounding`. With `strict`, a float that is not a
/// whole number of those units is an error naming the row instead of being rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberRule {
    /// Decimal places of money columns (the currency's minor unit).
    pub decimals: u32,
    /// Rounding rule for floats with more places.
    pub rounding: Rounding,
    /// Refuse, rather than round, a float with more places.
    pub strict: bool,
}

impl Default for NumberRule {
    /// Without a programme: floats read to a millionth (the finest a table holds), half-even
    /// (as pandas rounds), not strict.
    fn default() -> Self {
        NumberRule {
            decimals: money::MAX_TABLE_DECIMALS,
            rounding: Rounding::HalfEven,
            strict: false,
        }
    }
}

impl NumberRule {
    /// The programme's minor unit and rounding rule.
    pub fn of(programme: &Compiled, strict: bool) -> NumberRule {
        NumberRule {
            decimals: programme.decimals.min(money::MAX_TABLE_DECIMALS),
            rounding: programme.rounding,
            strict,
        }
    }

    /// The same rule for a quantity column: a millionth of a unit.
    pub fn quantity(self) -> NumberRule {
        NumberRule {
            decimals: money::MAX_TABLE_DECIMALS,
            ..self
        }
    }
}

const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];

/// A float cell as an exact decimal with at most `rule.decimals` places. `Err` is the message.
pub(crate) fn from_f64(f: f64, rule: NumberRule) -> Result<Decimal, String> {
    if !f.is_finite() {
        return Err(format!("expected a finite number, found {f}"));
    }
    if f.abs() >= 1e15 {
        return Err(format!(
            "expected a number smaller than 10^15 in magnitude (1,000,000,000,000,000), found {f}"
        ));
    }
    let d = rule.decimals.min(6);
    let scale = POW10[d as usize];
    let k = (f * scale).round();
    // k / scale is the float nearest to the decimal k·10^-d (IEEE division is correctly
    // rounded): equal to f exactly when f is that decimal as a float
    if k / scale == f {
        // as few places as the value needs (120.5, not 120.50), as the float's text has
        let (mut m, mut places) = (k as i64, d);
        while places > 0 && m % 10 == 0 {
            m /= 10;
            places -= 1;
        }
        return Ok(Decimal::new(m, places));
    }
    let shortest =
        Decimal::from_str(&format!("{f}")).map_err(|_| format!("expected a number, found {f}"))?;
    if rule.strict {
        return Err(format!(
            "expected a whole number of {} (strict input), found {f}",
            if d == 0 {
                "units".to_owned()
            } else {
                format!("{} ({d} decimal places)", unit_name(d))
            }
        ));
    }
    Ok(rule.rounding.round(shortest, d).normalize())
}

fn unit_name(d: u32) -> String {
    format!("0.{}1", "0".repeat(d as usize - 1))
}

/// A decimal128 cell (`v`·10^-`scale`) exactly, within the bounds every table number keeps
/// ([`money::check_bounds`]). `Err` is the message.
pub(crate) fn from_i128(v: i128, scale: i8) -> Result<Decimal, String> {
    let too_big =
        || "expected a number smaller than 10^15 in magnitude (1,000,000,000,000,000)".to_owned();
    let d = if scale >= 0 {
        let mut v = v;
        let mut s = scale as u32;
        // drop trailing zeros beyond what Decimal holds
        while s > 28 && v % 10 == 0 {
            v /= 10;
            s -= 1;
        }
        if s > 28 {
            return Err(format!(
                "expected at most {} decimal places, found a decimal with {s} places",
                money::MAX_TABLE_DECIMALS
            ));
        }
        Decimal::try_from_i128_with_scale(v, s).map_err(|_| too_big())?
    } else {
        let m = 10i128
            .checked_pow((-(scale as i32)) as u32)
            .and_then(|p| v.checked_mul(p))
            .ok_or_else(too_big)?;
        Decimal::try_from_i128_with_scale(m, 0).map_err(|_| too_big())?
    };
    money::check_bounds(d, Some(money::MAX_TABLE_DECIMALS))?;
    Ok(d)
}

/// An integer cell exactly.
pub(crate) fn from_i64(v: i64) -> Result<Decimal, String> {
    let d = Decimal::from(v);
    money::check_bounds(d, None)?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(decimals: u32, rounding: Rounding, strict: bool) -> NumberRule {
        NumberRule {
            decimals,
            rounding,
            strict,
        }
    }

    #[test]
    fn floats_of_whole_minor_units_are_exact() {
        let r = rule(2, Rounding::HalfUp, true);
        for (f, want) in [
            (120.5, "120.5"),
            (0.1, "0.1"),
            (-40.0, "-40"),
            (19.99, "19.99"),
        ] {
            assert_eq!(from_f64(f, r).unwrap().to_string(), want);
        }
        assert_eq!(
            from_f64(0.1 + 0.2, rule(2, Rounding::HalfUp, false))
                .unwrap()
                .to_string(),
            "0.3"
        );
    }

    #[test]
    fn other_floats_round_by_the_rule_or_are_refused() {
        // 1.005 is 1.00499999999999989... as a float; it is read as 1.005, as Python prints it
        assert_eq!(
            from_f64(1.005, rule(2, Rounding::HalfUp, false))
                .unwrap()
                .to_string(),
            "1.01"
        );
        assert_eq!(
            from_f64(1.005, rule(2, Rounding::HalfEven, false))
                .unwrap()
                .to_string(),
            "1"
        );
        assert_eq!(
            from_f64(1.015, rule(2, Rounding::HalfEven, false))
                .unwrap()
                .to_string(),
            "1.02"
        );
        assert_eq!(
            from_f64(-0.019, rule(2, Rounding::Down, false))
                .unwrap()
                .to_string(),
            "-0.01"
        );
        assert_eq!(
            from_f64(2.4, rule(0, Rounding::Up, false))
                .unwrap()
                .to_string(),
            "3"
        );
        assert_eq!(
            from_f64(1.005, rule(2, Rounding::HalfUp, true)).unwrap_err(),
            "expected a whole number of 0.01 (2 decimal places) (strict input), found 1.005"
        );
        assert!(from_f64(f64::NAN, NumberRule::default())
            .unwrap_err()
            .contains("finite"));
        assert!(from_f64(1e15, NumberRule::default())
            .unwrap_err()
            .contains("10^15"));
    }

    #[test]
    fn decimals_are_exact_within_bounds() {
        assert_eq!(from_i128(12050, 2).unwrap().to_string(), "120.50");
        assert_eq!(
            from_i128(1_230_000_000, 10).unwrap().to_string(),
            "0.1230000000"
        );
        assert_eq!(from_i128(5, -3).unwrap().to_string(), "5000");
        assert!(from_i128(1_234_567, 7)
            .unwrap_err()
            .contains("decimal places"));
        assert!(from_i128(10i128.pow(20), 2).unwrap_err().contains("10^15"));
    }
}
