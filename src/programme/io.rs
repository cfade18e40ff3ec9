//! Reading and writing programme files in TOML, JSON and YAML (the formats themselves are in
//! [`crate::document`]), with TOML written in the hand-written style.

use super::spec::Programme;
use crate::document::{clean_path, parse, strip_position, suggest, write, Format};
use crate::error::{Error, FieldError, Result};
use std::path::Path;

impl Programme {
    /// Parse a programme from `text` in `format`. `file` names the source in error messages.
    /// Only syntax and types are checked here; [`Programme::compile`] checks the rules.
    pub fn from_str(text: &str, format: Format, file: Option<&str>) -> Result<Programme> {
        parse(text, format, file, Error::Programme)
    }

    /// Build a programme from a tree of values (e.g. a Python dict converted to JSON
    /// values), checking syntax and types like [`Programme::from_str`]. Errors name the
    /// field path; a value tree has no lines. Dates are `"YYYY-MM-DD"` strings.
    pub fn from_value(value: serde_json::Value) -> Result<Programme> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = clean_path(&e.path().to_string());
            let message = suggest(&strip_position(&e.into_inner().to_string()));
            Error::Programme(FieldError {
                file: None,
                path,
                line: None,
                column: None,
                message,
                further: None,
            })
        })
    }

    /// The programme as a tree of values (the JSON form): `from_value(to_value(p)) == p`.
    pub fn to_value(&self) -> Result<serde_json::Value> {
        serde_json::to_value(self).map_err(|e| Error::Request(e.to_string()))
    }

    /// Read a programme file (format from its extension) and validate it, so that a rule
    /// violation is reported with the file's line.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Programme> {
        let path = path.as_ref();
        crate::limits::refuse_special_file(path, "a programme file")?;
        let format = Format::from_path(path)?;
        let text = crate::limits::read_document(path, "a programme file")?;
        let name = path.display().to_string();
        let programme = Programme::from_str(&text, format, Some(&name))?;
        programme.compile_located(&text, format, Some(&name))?;
        Ok(programme)
    }

    /// Write the programme in `format`. Reading the output back gives an equal programme.
    ///
    /// TOML is written the way a person would write it: `start` as a TOML date, one
    /// `[[components]]` table per component, each ladder as an array of inline tables
    /// (one tier per line) and bundle minimums as an inline table.
    pub fn to_string(&self, format: Format) -> Result<String> {
        match format {
            Format::Toml => {
                tidy_toml(&toml::to_string(self).map_err(|e| Error::Request(e.to_string()))?)
            }
            _ => write(self, format),
        }
    }
}

/// Rewrite the `toml` crate's output of a programme into the hand-written style.
fn tidy_toml(text: &str) -> Result<String> {
    use toml_edit::{DocumentMut, Item, Value};
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::Request(e.to_string()))?;
    if let Some(date) = doc
        .get("start")
        .and_then(|v| v.as_str())
        .and_then(super::values::parse_date)
    {
        use chrono::Datelike;
        let d = toml_edit::Date {
            year: date.year() as u16,
            month: date.month() as u8,
            day: date.day() as u8,
        };
        doc["start"] = toml_edit::value(toml_edit::Datetime {
            date: Some(d),
            time: None,
            offset: None,
        });
    }
    if let Some(Item::ArrayOfTables(components)) = doc.get_mut("components") {
        for c in components.iter_mut() {
            for key in ["tiers", "minimums"] {
                let Some(slot) = c.get_mut(key) else { continue };
                let item = std::mem::take(slot);
                *slot = match item.into_value() {
                    Ok(mut v) => {
                        match &mut v {
                            Value::Array(tiers) => {
                                for t in tiers.iter_mut() {
                                    if let Value::InlineTable(t) = t {
                                        t.fmt();
                                    }
                                    t.decor_mut().set_prefix("\n  ");
                                    t.decor_mut().set_suffix("");
                                }
                                tiers.set_trailing_comma(true);
                                tiers.set_trailing("\n");
                            }
                            Value::InlineTable(t) => t.fmt(),
                            _ => {}
                        }
                        v.decor_mut().set_prefix(" ");
                        Item::Value(v)
                    }
                    Err(item) => item,
                };
                if let Some(mut k) = c.key_mut(key) {
                    k.fmt();
                }
            }
            // keep the fields in the order of the file format's reference
            c.sort_values_by(|a, _, b, _| field_rank(a.get()).cmp(&field_rank(b.get())));
        }
    }
    Ok(doc.to_string())
}

/// Position of a component field in the written file (the order of [`super::Component`]).
fn field_rank(key: &str) -> usize {
    const ORDER: [&str; 23] = [
        "id",
        "kind",
        "name",
        "description",
        "segments",
        "categories",
        "partners",
        "measure",
        "returns",
        "cap",
        "exclusive_group",
        "basis",
        "method",
        "tiers",
        "basis_cap",
        "applies_to",
        "amount",
        "above",
        "minimums",
        "percent",
        "fixed",
        "min_quantity",
        "per_order",
    ];
    ORDER.iter().position(|k| *k == key).unwrap_or(ORDER.len())
}
