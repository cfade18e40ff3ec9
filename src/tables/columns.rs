//! Columns of an Arrow table as the core reads them: lookup by name (trimmed, case-insensitive,
//! as a CSV header), the types each kind of column accepts, and typed cell access. The
//! accessors are built once per record batch; a cell is then one match and an index.

use super::number::{self, NumberRule};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    Array, Date32Array, Date64Array, Decimal128Array, Float32Array, Float64Array, LargeStringArray,
    RecordBatch, StringArray, StringViewArray,
};
use arrow_schema::{DataType, Schema, TimeUnit};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Column positions by name (trimmed, lower case).
pub(crate) struct Names {
    columns: HashMap<String, usize>,
}

impl Names {
    /// The names of `schema`; `Err(message, column)` for a name appearing twice.
    pub(crate) fn of(schema: &Schema) -> Result<Names, (String, String)> {
        let mut columns = HashMap::new();
        for (i, f) in schema.fields().iter().enumerate() {
            let h = f
                .name()
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            if h.is_empty() {
                continue;
            }
            if columns.insert(h.clone(), i).is_some() {
                return Err(("the column appears twice in the table".to_owned(), h));
            }
        }
        Ok(Names { columns })
    }

    /// Position of a column, if present.
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.columns.get(name).copied()
    }

    /// The message of a missing column (the columns the table has).
    pub(crate) fn missing(&self) -> String {
        let mut have: Vec<&str> = self.columns.keys().map(String::as_str).collect();
        have.sort();
        format!("missing column (the table has: {})", have.join(", "))
    }
}

fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".to_owned(),
        DataType::Timestamp(u, Some(tz)) => format!("timestamp[{u:?}, tz={tz}]"),
        other => other.to_string(),
    }
}

/// A text column: strings (any Arrow string layout, dictionary-encoded or not) or, for ids,
/// integers and whole floats written as text (`1001`, not `1001.0`).
pub(crate) enum Text<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    Owned(Vec<Option<String>>),
    Dict(&'a dyn Array, Vec<usize>, Box<Text<'a>>),
}

fn ints_as_text<T: ArrowPrimitiveType>(a: &dyn Array) -> Option<Vec<Option<String>>>
where
    T::Native: ToString,
{
    let p = a.as_primitive_opt::<T>()?;
    Some(p.iter().map(|v| v.map(|x| x.to_string())).collect())
}

fn float_as_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl<'a> Text<'a> {
    /// A text column from an array; `Err` names the type found.
    pub(crate) fn new(a: &'a dyn Array) -> Result<Text<'a>, String> {
        if let Some(s) = a.as_string_opt::<i32>() {
            return Ok(Text::Utf8(s));
        }
        if let Some(s) = a.as_string_opt::<i64>() {
            return Ok(Text::Large(s));
        }
        if let Some(s) = a.as_string_view_opt() {
            return Ok(Text::View(s));
        }
        if let Some(d) = a.as_any_dictionary_opt() {
            if d.values().is_empty() {
                return Ok(Text::Owned(vec![None; a.len()]));
            }
            let values = Text::new(d.values().as_ref())?;
            return Ok(Text::Dict(a, d.normalized_keys(), Box::new(values)));
        }
        let owned = match a.data_type() {
            DataType::Int8 => ints_as_text::<Int8Type>(a),
            DataType::Int16 => ints_as_text::<Int16Type>(a),
            DataType::Int32 => ints_as_text::<Int32Type>(a),
            DataType::Int64 => ints_as_text::<Int64Type>(a),
            DataType::UInt8 => ints_as_text::<UInt8Type>(a),
            DataType::UInt16 => ints_as_text::<UInt16Type>(a),
            DataType::UInt32 => ints_as_text::<UInt32Type>(a),
            DataType::UInt64 => ints_as_text::<UInt64Type>(a),
            DataType::Float64 => a.as_primitive_opt::<Float64Type>().map(|p| {
                p.iter()
                    .map(|v| v.filter(|x| !x.is_nan()).map(float_as_text))
                    .collect()
            }),
            DataType::Null => Some(vec![None; a.len()]),
            _ => None,
        };
        owned
            .map(Text::Owned)
            .ok_or_else(|| format!("expected text, found {}", type_name(a.data_type())))
    }

    /// Cell `i`, trimmed; `None` for a null.
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let s = match self {
            Text::Utf8(s) => (!s.is_null(i)).then(|| s.value(i)),
            Text::Large(s) => (!s.is_null(i)).then(|| s.value(i)),
            Text::View(s) => (!s.is_null(i)).then(|| s.value(i)),
            Text::Owned(v) => v[i].as_deref(),
            Text::Dict(a, keys, values) => {
                if a.is_null(i) {
                    None
                } else {
                    values.get(keys[i])
                }
            }
        };
        s.map(str::trim)
    }
}

/// A number column: decimal128 and integers exactly, floats by the [`NumberRule`], text as in
/// a CSV file.
pub(crate) enum Numbers<'a> {
    F64(&'a Float64Array),
    F32(&'a Float32Array),
    I64(&'a [i64], &'a dyn Array),
    Ints(Vec<Option<i128>>),
    Dec(&'a Decimal128Array, i8),
    Text(Text<'a>),
}

fn ints<T: ArrowPrimitiveType>(a: &dyn Array) -> Option<Vec<Option<i128>>>
where
    T::Native: Into<i128>,
{
    let p = a.as_primitive_opt::<T>()?;
    Some(p.iter().map(|v| v.map(Into::into)).collect())
}

impl<'a> Numbers<'a> {
    /// A number column from an array; `Err` names the type found.
    pub(crate) fn new(a: &'a dyn Array) -> Result<Numbers<'a>, String> {
        let n = match a.data_type() {
            DataType::Float64 => a.as_primitive_opt::<Float64Type>().map(Numbers::F64),
            DataType::Float32 => a.as_primitive_opt::<Float32Type>().map(Numbers::F32),
            DataType::Int64 => a
                .as_primitive_opt::<Int64Type>()
                .map(|p| Numbers::I64(p.values(), a)),
            DataType::Int8 => ints::<Int8Type>(a).map(Numbers::Ints),
            DataType::Int16 => ints::<Int16Type>(a).map(Numbers::Ints),
            DataType::Int32 => ints::<Int32Type>(a).map(Numbers::Ints),
            DataType::UInt8 => ints::<UInt8Type>(a).map(Numbers::Ints),
            DataType::UInt16 => ints::<UInt16Type>(a).map(Numbers::Ints),
            DataType::UInt32 => ints::<UInt32Type>(a).map(Numbers::Ints),
            DataType::UInt64 => ints::<UInt64Type>(a).map(Numbers::Ints),
            DataType::Decimal128(_, s) => a
                .as_primitive_opt::<Decimal128Type>()
                .map(|d| Numbers::Dec(d, *s)),
            DataType::Null => Some(Numbers::Ints(vec![None; a.len()])),
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Dictionary(..) => Text::new(a).ok().map(Numbers::Text),
            _ => None,
        };
        n.ok_or_else(|| {
            format!(
                "expected numbers (decimal, integer or float), found {}",
                type_name(a.data_type())
            )
        })
    }

    /// Cell `i`: `Ok(None)` for a null (and for NaN when `nan_is_missing`); `Err` is the message.
    pub(crate) fn get(
        &self,
        i: usize,
        rule: NumberRule,
        nan_is_missing: bool,
    ) -> Result<Option<Decimal>, String> {
        let float = |f: f64| -> Result<Option<Decimal>, String> {
            if f.is_nan() && nan_is_missing {
                return Ok(None);
            }
            number::from_f64(f, rule).map(Some)
        };
        match self {
            Numbers::F64(a) => {
                if a.is_null(i) {
                    Ok(None)
                } else {
                    float(a.value(i))
                }
            }
            Numbers::F32(a) => {
                if a.is_null(i) {
                    Ok(None)
                } else {
                    // the float32's shortest decimal, as its source printed it
                    let v = a.value(i);
                    let f = format!("{v}").parse::<f64>().unwrap_or(v as f64);
                    float(f)
                }
            }
            Numbers::I64(v, a) => {
                if a.is_null(i) {
                    Ok(None)
                } else {
                    number::from_i64(v[i]).map(Some)
                }
            }
            Numbers::Ints(v) => match v[i] {
                None => Ok(None),
                Some(x) => number::from_i128(x, 0).map(Some),
            },
            Numbers::Dec(a, s) => {
                if a.is_null(i) {
                    Ok(None)
                } else {
                    number::from_i128(a.value(i), *s).map(Some)
                }
            }
            Numbers::Text(t) => match t.get(i) {
                None | Some("") => Ok(None),
                Some(s) => {
                    let lower = s.to_ascii_lowercase();
                    let bare = lower.trim_start_matches(['+', '-']);
                    if bare == "nan" || bare == "inf" || bare == "infinity" {
                        if bare == "nan" && nan_is_missing {
                            return Ok(None);
                        }
                        return Err(format!("expected a finite number, found {s}"));
                    }
                    crate::data::parse_bounded(s).map(Some)
                }
            },
        }
    }
}

/// A date column: date32, date64, timestamps without a timezone (the time of day is
/// ignored, as in a CSV file) or text written `YYYY-MM-DD`.
pub(crate) enum Dates<'a> {
    D32(&'a Date32Array),
    D64(&'a Date64Array),
    Ts(&'a [i64], &'a dyn Array, i64),
    Text(Text<'a>),
}

const EPOCH_DAYS_CE: i32 = 719_163; // 1970-01-01 as days from 0001-01-01 (CE day 1)

fn ts<'a, T: ArrowPrimitiveType<Native = i64>>(
    a: &'a dyn Array,
    per_day: i64,
) -> Option<Dates<'a>> {
    a.as_primitive_opt::<T>()
        .map(|p| Dates::Ts(p.values(), a, per_day))
}

impl<'a> Dates<'a> {
    /// A date column from an array; `Err` names the type found (a timestamp with a timezone
    /// is refused: which local date it is depends on a choice the table must make).
    pub(crate) fn new(a: &'a dyn Array) -> Result<Dates<'a>, String> {
        let d = match a.data_type() {
            DataType::Date32 => a.as_primitive_opt::<Date32Type>().map(Dates::D32),
            DataType::Date64 => a.as_primitive_opt::<Date64Type>().map(Dates::D64),
            DataType::Timestamp(_, Some(tz)) => {
                return Err(format!(
                    "expected dates or timestamps without a timezone, found timestamps with timezone '{tz}': convert them to local dates first (pandas: .dt.tz_localize(None); polars: .dt.replace_time_zone(None))"
                ))
            }
            DataType::Timestamp(TimeUnit::Second, None) => ts::<TimestampSecondType>(a, 86_400),
            DataType::Timestamp(TimeUnit::Millisecond, None) => {
                ts::<TimestampMillisecondType>(a, 86_400_000)
            }
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                ts::<TimestampMicrosecondType>(a, 86_400_000_000)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, None) => {
                ts::<TimestampNanosecondType>(a, 86_400_000_000_000)
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => {
                Text::new(a).ok().map(Dates::Text)
            }
            _ => None,
        };
        d.ok_or_else(|| {
            format!(
                "expected dates (date, timestamp without timezone or YYYY-MM-DD text), found {}",
                type_name(a.data_type())
            )
        })
    }

    /// Cell `i`: `Ok(None)` for a null; `Err` is the message.
    pub(crate) fn get(&self, i: usize) -> Result<Option<NaiveDate>, String> {
        let from_days = |days: i64| {
            i32::try_from(days)
                .ok()
                .and_then(|d| d.checked_add(EPOCH_DAYS_CE))
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .ok_or_else(|| format!("expected a date, found {days} days from 1970-01-01"))
                .map(Some)
        };
        match self {
            Dates::D32(a) => {
                if a.is_null(i) {
                    Ok(None)
                } else {
                    from_days(a.value(i) as i64)
                }
            }
            Dates::D64(a) => {
                if a.is_null(i) {
                    Ok(None)
                } else {
                    from_days(a.value(i).div_euclid(86_400_000))
                }
            }
            Dates::Ts(v, a, per_day) => {
                if a.is_null(i) {
                    Ok(None)
                } else {
                    from_days(v[i].div_euclid(*per_day))
                }
            }
            Dates::Text(t) => match t.get(i) {
                None | Some("") => Ok(None),
                Some(s) => crate::data::parse_date(s)
                    .map(Some)
                    .ok_or_else(|| format!("expected a date written YYYY-MM-DD, found \"{s}\"")),
            },
        }
    }
}

/// Column `name` of a batch (its position found once from the schema).
pub(crate) fn column(batch: &RecordBatch, at: usize) -> &dyn Array {
    batch.column(at).as_ref()
}
