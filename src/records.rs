//! Records of any serializable type as Arrow record batches, through their serde form: the
//! tables of a result whose parts are documents (a forecast's report, ledger and journal
//! rows) rather than columns the core already holds. One row per record, one column per
//! field in declaration order (`#[serde(flatten)]` fields inline); a nested struct or map as
//! a `struct` column, a sequence as a `list`, `None` as null, text (and what serializes as
//! text: dates, exact decimals) as `utf8`, whole numbers as `int64` / `uint64`, other numbers
//! as `float64`, `bool` as `boolean`; a field that is null in every row as `null`. The same
//! values, in the same order, as the record's JSON: an undefined number (NaN, infinite) is
//! null, as JSON writes it.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, NullArray, RecordBatch,
    StringArray, StructArray, UInt64Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields};
use serde::ser::{self, Serialize};

use crate::error::{Error, Result};

/// A serialized value, objects' fields in the order written.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
    List(Vec<Value>),
    Object(Vec<(Key, Value)>),
}

/// A field name: a struct's (static) or a map's.
type Key = Cow<'static, str>;

/// The serde error of [`to_value`].
#[derive(Debug)]
struct SerError(String);

impl std::fmt::Display for SerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        SerError(msg.to_string())
    }
}

/// The serializer into [`Value`].
struct ToValue;

/// A sequence being serialized.
struct Seq(Vec<Value>);

/// A struct or map being serialized (`key`: a map's pending key).
struct Obj {
    fields: Vec<(Key, Value)>,
    key: Option<Key>,
}

type R = std::result::Result<Value, SerError>;

impl ser::Serializer for ToValue {
    type Ok = Value;
    type Error = SerError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Obj;
    type SerializeStruct = Obj;
    type SerializeStructVariant = Obj;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(if v >= 0 {
            Value::UInt(v as u64)
        } else {
            Value::Int(v)
        })
    }
    fn serialize_u8(self, v: u8) -> R {
        Ok(Value::UInt(v.into()))
    }
    fn serialize_u16(self, v: u16) -> R {
        Ok(Value::UInt(v.into()))
    }
    fn serialize_u32(self, v: u32) -> R {
        Ok(Value::UInt(v.into()))
    }
    fn serialize_u64(self, v: u64) -> R {
        Ok(Value::UInt(v))
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(if v.is_finite() {
            Value::Float(v)
        } else {
            Value::Null
        })
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Value::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Value::Text(v.to_owned()))
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Err(SerError("bytes are not a table value".into()))
    }
    fn serialize_none(self) -> R {
        Ok(Value::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        Ok(Value::Text(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> R {
        Ok(Value::Object(vec![(
            Cow::Borrowed(variant),
            value.serialize(ToValue)?,
        )]))
    }
    fn serialize_seq(self, len: Option<usize>) -> std::result::Result<Seq, SerError> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> std::result::Result<Seq, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> std::result::Result<Seq, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Seq, SerError> {
        Err(SerError("tuple variants are not table values".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> std::result::Result<Obj, SerError> {
        Ok(Obj {
            fields: Vec::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> std::result::Result<Obj, SerError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Obj, SerError> {
        Err(SerError("struct variants are not table values".into()))
    }
}

impl ser::SerializeSeq for Seq {
    type Ok = Value;
    type Error = SerError;
    fn serialize_element<T: ?Sized + Serialize>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        self.0.push(value.serialize(ToValue)?);
        Ok(())
    }
    fn end(self) -> R {
        Ok(Value::List(self.0))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Value;
    type Error = SerError;
    fn serialize_element<T: ?Sized + Serialize>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for Seq {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for Obj {
    type Ok = Value;
    type Error = SerError;
    fn serialize_key<T: ?Sized + Serialize>(
        &mut self,
        key: &T,
    ) -> std::result::Result<(), SerError> {
        self.key = Some(match key.serialize(ToValue)? {
            Value::Text(s) => Cow::Owned(s),
            other => return Err(SerError(format!("a map key must be text, found {other:?}"))),
        });
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| SerError("a map value without a key".into()))?;
        self.fields.push((key, value.serialize(ToValue)?));
        Ok(())
    }
    fn end(self) -> R {
        Ok(Value::Object(self.fields))
    }
}

impl ser::SerializeStruct for Obj {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        self.fields
            .push((Cow::Borrowed(key), value.serialize(ToValue)?));
        Ok(())
    }
    fn end(self) -> R {
        Ok(Value::Object(self.fields))
    }
}

impl ser::SerializeStructVariant for Obj {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> R {
        Ok(Value::Object(self.fields))
    }
}

/// The Arrow type of a column of values.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Null,
    Bool,
    Int,
    UInt,
    Float,
    Text,
    List(Box<Kind>),
    Object(Vec<(Key, Kind)>),
}

/// The kind of a column holding values of kind `a` and `v`.
fn merge(a: Kind, v: &Value) -> Result<Kind> {
    let k = match (a, v) {
        (k, Value::Null) => k,
        (Kind::Null, v) => merge(initial(v), v)?,
        (Kind::Bool, Value::Bool(_)) => Kind::Bool,
        (Kind::UInt, Value::UInt(_)) => Kind::UInt,
        (Kind::Int | Kind::UInt, Value::Int(_)) | (Kind::Int, Value::UInt(_)) => Kind::Int,
        (Kind::Float, Value::Float(_) | Value::Int(_) | Value::UInt(_)) => Kind::Float,
        (Kind::Int | Kind::UInt, Value::Float(_)) => Kind::Float,
        (Kind::Text, Value::Text(_)) => Kind::Text,
        (Kind::List(e), Value::List(items)) => {
            Kind::List(Box::new(items.iter().try_fold(*e, merge)?))
        }
        (Kind::Object(mut fields), Value::Object(values)) => {
            for (i, (name, v)) in values.iter().enumerate() {
                // a record's fields come in the same order in every row: look there first
                let at = match fields.get(i) {
                    Some((n, _)) if n == name => Some(i),
                    _ => fields.iter().position(|(n, _)| n == name),
                };
                match at {
                    Some(j) => {
                        let k = std::mem::replace(&mut fields[j].1, Kind::Null);
                        fields[j].1 = merge(k, v)?;
                    }
                    None => fields.push((name.clone(), merge(Kind::Null, v)?)),
                }
            }
            Kind::Object(fields)
        }
        (k, v) => {
            return Err(Error::Request(format!(
                "a table column holds both {k:?} and {v:?} values"
            )))
        }
    };
    Ok(k)
}

/// The kind a first non-null value starts a column with.
fn initial(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::UInt(_) => Kind::UInt,
        Value::Float(_) => Kind::Float,
        Value::Text(_) => Kind::Text,
        Value::List(_) => Kind::List(Box::new(Kind::Null)),
        Value::Object(_) => Kind::Object(Vec::new()),
    }
}

fn data_type(k: &Kind) -> DataType {
    match k {
        Kind::Null => DataType::Null,
        Kind::Bool => DataType::Boolean,
        Kind::Int => DataType::Int64,
        Kind::UInt => DataType::UInt64,
        Kind::Float => DataType::Float64,
        Kind::Text => DataType::Utf8,
        Kind::List(e) => DataType::List(Arc::new(Field::new("item", data_type(e), true))),
        Kind::Object(fields) => DataType::Struct(struct_fields(fields)),
    }
}

fn struct_fields(fields: &[(Key, Kind)]) -> Fields {
    fields
        .iter()
        .map(|(n, k)| Field::new(n.as_ref(), data_type(k), true))
        .collect()
}

/// The validity of `values` (None when none is null).
fn nulls(values: &[&Value]) -> Option<NullBuffer> {
    let valid: Vec<bool> = values.iter().map(|v| !matches!(v, Value::Null)).collect();
    valid.contains(&false).then(|| NullBuffer::from(valid))
}

/// `values` (all of kind `k` or null) as an Arrow array.
fn array(k: &Kind, values: &[&Value]) -> Result<ArrayRef> {
    let bad = || Error::Request("a table value does not fit its column".into());
    let a: ArrayRef = match k {
        Kind::Null => Arc::new(NullArray::new(values.len())),
        Kind::Bool => Arc::new(BooleanArray::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Int => Arc::new(Int64Array::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Int(i) => Ok(Some(*i)),
                    Value::UInt(u) => i64::try_from(*u).map(Some).map_err(|_| bad()),
                    _ => Ok(None),
                })
                .collect::<Result<Vec<_>>>()?,
        )),
        Kind::UInt => Arc::new(UInt64Array::from(
            values
                .iter()
                .map(|v| match v {
                    Value::UInt(u) => Some(*u),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Float => Arc::new(Float64Array::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Float(x) => Some(*x),
                    Value::Int(i) => Some(*i as f64),
                    Value::UInt(u) => Some(*u as f64),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Text => Arc::new(StringArray::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Text(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::List(e) => {
            let items: Vec<&Value> = values
                .iter()
                .flat_map(|v| match v {
                    Value::List(items) => items.iter().collect(),
                    _ => Vec::new(),
                })
                .collect();
            let lengths = values.iter().map(|v| match v {
                Value::List(items) => items.len(),
                _ => 0,
            });
            let field = Arc::new(Field::new("item", data_type(e), true));
            let list = ListArray::try_new(
                field,
                OffsetBuffer::from_lengths(lengths),
                array(e, &items)?,
                nulls(values),
            )
            .map_err(|e| Error::Request(format!("building a table: {e}")))?;
            Arc::new(list)
        }
        Kind::Object(fields) => Arc::new(object(fields, values)?),
    };
    Ok(a)
}

/// `values` (objects or null) as a struct array of `fields`.
fn object(fields: &[(Key, Kind)], values: &[&Value]) -> Result<StructArray> {
    const NULL: Value = Value::Null;
    let columns = fields
        .iter()
        .enumerate()
        .map(|(i, (name, k))| {
            let column: Vec<&Value> = values
                .iter()
                .map(|v| match v {
                    // at the same position in every row, unless a row lacks a field
                    Value::Object(f) => match f.get(i) {
                        Some((n, v)) if n == name => v,
                        _ => f.iter().find(|(n, _)| n == name).map_or(&NULL, |(_, v)| v),
                    },
                    _ => &NULL,
                })
                .collect();
            array(k, &column)
        })
        .collect::<Result<Vec<_>>>()?;
    if fields.is_empty() {
        return Ok(StructArray::new_empty_fields(values.len(), nulls(values)));
    }
    StructArray::try_new(struct_fields(fields), columns, nulls(values))
        .map_err(|e| Error::Request(format!("building a table: {e}")))
}

/// `records` as one record batch: a row per record, a column per field (see the module
/// header). Each record must serialize as a struct or a map.
pub fn batch<T: Serialize>(records: &[T]) -> Result<RecordBatch> {
    let values = records
        .iter()
        .map(|r| r.serialize(ToValue))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Request(format!("building a table: {e}")))?;
    if let Some(v) = values.iter().find(|v| !matches!(v, Value::Object(_))) {
        return Err(Error::Request(format!(
            "a table row must be a record, found {v:?}"
        )));
    }
    let kind = values.iter().try_fold(Kind::Object(Vec::new()), merge)?;
    let Kind::Object(fields) = kind else {
        return Err(Error::Request("a table row must be a record".into()));
    };
    let rows: Vec<&Value> = values.iter().collect();
    let s = object(&fields, &rows)?;
    Ok(RecordBatch::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, UInt64Type};
    use arrow_array::Array;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Inner {
        value: f64,
        se: f64,
    }

    #[derive(Serialize)]
    struct Row {
        name: String,
        n: u32,
        amount: rust_decimal::Decimal,
        #[serde(flatten)]
        mean: Inner,
        extra: Option<Inner>,
        tags: Vec<String>,
        nothing: Option<f64>,
    }

    #[test]
    fn fields_in_order_with_their_types_and_nulls() {
        let rows = [
            Row {
                name: "a".into(),
                n: 3,
                amount: rust_decimal::Decimal::new(12345, 2),
                mean: Inner {
                    value: 1.5,
                    se: f64::NAN,
                },
                extra: None,
                tags: vec!["x".into(), "y".into()],
                nothing: None,
            },
            Row {
                name: "b".into(),
                n: 4,
                amount: rust_decimal::Decimal::new(-5, 1),
                mean: Inner {
                    value: -0.0,
                    se: 0.25,
                },
                extra: Some(Inner {
                    value: 2.0,
                    se: 0.5,
                }),
                tags: vec![],
                nothing: None,
            },
        ];
        let b = batch(&rows).unwrap();
        let names: Vec<&str> = b
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            names,
            ["name", "n", "amount", "value", "se", "extra", "tags", "nothing"]
        );
        assert_eq!(b.num_rows(), 2);
        assert_eq!(
            b.column(1).as_primitive::<UInt64Type>().values().to_vec(),
            [3, 4]
        );
        let amount = b.column(2).as_string::<i32>();
        assert_eq!((amount.value(0), amount.value(1)), ("123.45", "-0.5"));
        let value = b.column(3).as_primitive::<Float64Type>();
        assert_eq!(value.value(1).to_bits(), (-0.0f64).to_bits());
        // NaN as JSON writes it: null
        assert!(b.column(4).is_null(0) && b.column(4).is_valid(1));
        let extra = b.column(5).as_struct();
        assert!(extra.is_null(0) && extra.is_valid(1));
        assert_eq!(extra.column(1).as_primitive::<Float64Type>().value(1), 0.5);
        let tags = b.column(6).as_list::<i32>();
        assert_eq!((tags.value_length(0), tags.value_length(1)), (2, 0));
        assert_eq!(b.column(7).data_type(), &DataType::Null);
    }

    #[test]
    fn no_records_is_an_empty_table() {
        let rows: [Row; 0] = [];
        let b = batch(&rows).unwrap();
        assert_eq!((b.num_rows(), b.num_columns()), (0, 0));
    }
}
