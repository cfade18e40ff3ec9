//! Value types used in programme and model files: exact decimal numbers and
//! dates, with serde forms that read naturally in TOML, JSON and YAML.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An exact decimal number in a file.
///
/// Read from an integer, a float or a string (`"0.035"`, for more than 15 significant
/// digits). A float is read as the decimal of at most 15 significant digits that it
/// stands for (the precision every binary float holds), so `0.035` is exactly 0.035
/// whatever parser produced the float, and `0.30000000000000004` (a binary artefact
/// of 0.1 + 0.2) is 0.3. Written as an integer when integral, as a float when it has at
/// most 15 significant digits, otherwise as a string, so that a file round trip is exact
/// in every format and with every conforming parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec(pub Decimal);

/// Significant decimal digits a binary float holds in every case (f64's `DIGITS`).
const FLOAT_DIGITS: u32 = f64::DIGITS;

impl From<Decimal> for Dec {
    fn from(d: Decimal) -> Self {
        Dec(d)
    }
}

impl From<Dec> for Decimal {
    fn from(d: Dec) -> Self {
        d.0
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

/// Number of significant digits of a normalized decimal.
fn significant_digits(d: Decimal) -> u32 {
    let m = d.mantissa().unsigned_abs();
    if m == 0 {
        1
    } else {
        m.ilog10() + 1
    }
}

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0.normalize();
        if d.fract().is_zero() {
            if let Ok(i) = i64::try_from(d) {
                return s.serialize_i64(i);
            }
        }
        let text = d.to_string();
        if significant_digits(d) <= FLOAT_DIGITS {
            if let Ok(f) = text.parse::<f64>() {
                if f.is_finite() && decimal_of_f64(f) == Some(d) {
                    return s.serialize_f64(f);
                }
            }
        }
        s.serialize_str(&text)
    }
}

/// The decimal of at most 15 significant digits that the float `f` stands for.
fn decimal_of_f64(f: f64) -> Option<Decimal> {
    let sci = format!("{:.*e}", FLOAT_DIGITS as usize - 1, f);
    Decimal::from_scientific(&sci)
        .ok()
        .or_else(|| Decimal::from_str(&format!("{f}")).ok())
        .or_else(|| Decimal::from_scientific(&format!("{f:e}")).ok())
        .map(|d| d.normalize())
}

struct DecVisitor;

/// The message for an integer beyond `Decimal` (and so far beyond the programme's bound).
fn too_large(v: &str) -> String {
    format!("expected a number smaller than 10^15 in magnitude (1,000,000,000,000,000), found {v}")
}

impl<'de> Visitor<'de> for DecVisitor {
    type Value = Dec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
        Ok(Dec(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
        Ok(Dec(Decimal::from(v)))
    }

    // TOML integers beyond i64 (e.g. 79228162514264337593543950335) come as i128/u128: serde's
    // default refused them as "invalid type: integer … as i128"; within Decimal's range they are
    // numbers like any other (and the programme's bound, 10^15, then names the field)
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Dec, E> {
        Decimal::try_from_i128_with_scale(v, 0)
            .map(Dec)
            .map_err(|_| E::custom(too_large(&v.to_string())))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Dec, E> {
        i128::try_from(v)
            .ok()
            .and_then(|i| Decimal::try_from_i128_with_scale(i, 0).ok())
            .map(Dec)
            .ok_or_else(|| E::custom(too_large(&v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
        if !v.is_finite() {
            return Err(E::custom(format!("expected a finite number, found {v}")));
        }
        decimal_of_f64(v)
            .map(Dec)
            .ok_or_else(|| E::custom(format!("number {v} is out of range")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
        let t = v.trim().replace('_', "");
        Decimal::from_str(&t)
            .or_else(|_| Decimal::from_scientific(&t))
            .map(Dec)
            .map_err(|_| E::custom(format!("expected a number, found \"{v}\"")))
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dec, D::Error> {
        d.deserialize_any(DecVisitor)
    }
}

/// A calendar date, written `YYYY-MM-DD` (a TOML date, or a string in JSON and YAML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Parse `YYYY-MM-DD` strictly.
pub fn parse_date(v: &str) -> Option<NaiveDate> {
    let t = v.trim();
    if t.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

struct DateVisitor;

/// The key under which the `toml` crate hands native TOML datetimes to serde.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Visitor<'de> for DateVisitor {
    type Value = Date;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date written YYYY-MM-DD")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Date, E> {
        parse_date(v)
            .map(Date)
            .ok_or_else(|| E::custom(format!("expected a date written YYYY-MM-DD, found \"{v}\"")))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Date, A::Error> {
        match map.next_key::<String>()? {
            Some(k) if k == TOML_DATETIME_KEY => {
                let v: String = map.next_value()?;
                self.visit_str(&v)
            }
            _ => Err(de::Error::custom(
                "expected a date written YYYY-MM-DD, found a table",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        d.deserialize_any(DateVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dec_reads_floats_exactly() {
        let d: Dec = serde_json::from_str("0.035").unwrap();
        assert_eq!(d.0, Decimal::from_str("0.035").unwrap());
        let d: Dec = serde_json::from_str("\"1234567.891234567891\"").unwrap();
        assert_eq!(d.0, Decimal::from_str("1234567.891234567891").unwrap());
    }

    #[test]
    fn dec_writes_back_exactly() {
        for t in ["0", "12", "-3", "0.035", "1234567.891234567891", "2.5"] {
            let d = Dec(Decimal::from_str(t).unwrap());
            let s = serde_json::to_string(&d).unwrap();
            let back: Dec = serde_json::from_str(&s).unwrap();
            assert_eq!(back, d, "{t} -> {s}");
        }
    }

    #[test]
    fn floats_read_as_the_decimal_they_stand_for() {
        for (f, want) in [
            (0.035, "0.035"),
            (0.1 + 0.2, "0.3"),
            (1234567.891, "1234567.891"),
            (1e20, "100000000000000000000"),
            (-12.5, "-12.5"),
        ] {
            let d: Dec = serde_json::from_str(&format!("{f:?}")).unwrap();
            assert_eq!(d.0, Decimal::from_str(want).unwrap(), "{f}");
        }
        // one unit in the last place off (an imprecise float parser) reads the same
        let f = 28767.390194119_f64;
        let off = f64::from_bits(f.to_bits() + 1);
        assert_eq!(decimal_of_f64(off), decimal_of_f64(f));
        assert_eq!(
            decimal_of_f64(f).unwrap(),
            Decimal::from_str("28767.390194119").unwrap()
        );
    }

    #[test]
    fn many_digits_are_written_as_text() {
        let d = Dec(Decimal::from_str("28767.390194119514").unwrap());
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"28767.390194119514\"");
        let d = Dec(Decimal::from_str("28767.3901941195").unwrap());
        assert_eq!(serde_json::to_string(&d).unwrap(), "28767.3901941195");
    }

    #[test]
    fn dates() {
        let d: Date = serde_json::from_str("\"2027-01-01\"").unwrap();
        assert_eq!(d.to_string(), "2027-01-01");
        assert!(serde_json::from_str::<Date>("\"2027-13-01\"").is_err());
        assert!(serde_json::from_str::<Date>("\"soon\"").is_err());
    }
}
