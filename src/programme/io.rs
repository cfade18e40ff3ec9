//! Reading and writing programme files in TOML, JSON and YAML.

use super::spec::Programme;
use crate::error::{Error, FieldError, Result};
use std::path::Path;

/// A file format for programmes and models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML (`.toml`).
    Toml,
    /// JSON (`.json`).
    Json,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
}

impl Format {
    /// The format implied by a file's extension.
    pub fn from_path(path: &Path) -> Result<Format> {
        match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
            Some("toml") => Ok(Format::Toml),
            Some("json") => Ok(Format::Json),
            Some("yaml") | Some("yml") => Ok(Format::Yaml),
            _ => Err(Error::Request(format!(
                "{}: cannot tell the file format from the extension (expected .toml, .json, .yaml or .yml)",
                path.display()
            ))),
        }
    }
}

/// Deserialize `text` in `format` into `T`, reporting the field path and line of any error.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    text: &str,
    format: Format,
    file: Option<&str>,
    wrap: fn(FieldError) -> Error,
) -> Result<T> {
    crate::limits::check_document(text, format, file, wrap)?;
    let located = |path: String, line: Option<usize>, column: Option<usize>, message: String| {
        let message = suggest(&message);
        wrap(FieldError {
            file: file.map(str::to_owned),
            path,
            line,
            column,
            message,
            further: None,
        })
    };
    match format {
        Format::Json => {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = clean_path(&e.path().to_string());
                let inner = e.into_inner();
                // serde_json points after the offending value (a missing field: at the closing
                // brace); for a value of the wrong type or a missing field, point at the field
                // or table itself, as the TOML and YAML readers do
                let (line, col) = match inner.classify() {
                    serde_json::error::Category::Data if !path.is_empty() => {
                        super::locate::locate(text, Format::Json, &path)
                            .unwrap_or((inner.line(), inner.column()))
                    }
                    serde_json::error::Category::Data => {
                        line_col(text, text.len() - text.trim_start().len())
                    }
                    _ => (inner.line(), inner.column()),
                };
                located(
                    path,
                    Some(line),
                    Some(col),
                    strip_position(&inner.to_string()),
                )
            })
        }
        Format::Toml => {
            let de = toml::Deserializer::parse(text).map_err(|e| {
                let (line, col) = e.span().map(|s| line_col(text, s.start)).unzip();
                located(String::new(), line, col, e.message().to_owned())
            })?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = clean_path(&e.path().to_string());
                let inner = e.into_inner();
                let (line, col) = inner.span().map(|s| line_col(text, s.start)).unzip();
                located(path, line, col, inner.message().to_owned())
            })
        }
        Format::Yaml => {
            let de = serde_norway::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = clean_path(&e.path().to_string());
                let inner = e.into_inner();
                let loc = inner.location();
                // serde_norway prefixes its message with the path, which is reported apart
                let msg = strip_position(&inner.to_string());
                let msg = match msg.split_once(": ") {
                    Some((head, rest)) if !head.contains(' ') && path.starts_with(head) => {
                        rest.to_owned()
                    }
                    _ => msg,
                };
                located(
                    path,
                    loc.as_ref().map(|l| l.line()),
                    loc.as_ref().map(|l| l.column()),
                    msg,
                )
            })
        }
    }
}

/// Serialize `value` in `format`.
pub(crate) fn write<T: serde::Serialize>(value: &T, format: Format) -> Result<String> {
    match format {
        Format::Json => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| Error::Request(e.to_string())),
        Format::Toml => toml::to_string_pretty(value).map_err(|e| Error::Request(e.to_string())),
        Format::Yaml => serde_norway::to_string(value).map_err(|e| Error::Request(e.to_string())),
    }
}

/// 1-based line and column just after `before` (UTF-8 bytes, a prefix of a document): the
/// column counts characters.
pub(crate) fn line_col_bytes(before: &[u8]) -> (usize, usize) {
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    // characters: every byte but UTF-8 continuation bytes
    let col = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    (line, col)
}

/// Line and column of byte offsets in one text, answered in O(log lines + line length) each
/// from an index of line starts built once (so that locating many errors stays linear).
pub(crate) struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Lines { text, starts }
    }

    /// 1-based line and column of byte offset `pos` (as [`line_col`]).
    pub(crate) fn line_col(&self, pos: usize) -> (usize, usize) {
        let pos = pos.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= pos);
        let start = self.starts[line - 1];
        let col = self.text.as_bytes()[start..pos]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count()
            + 1;
        (line, col)
    }
}

/// 1-based line and column of byte offset `pos` in `text`.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Append "did you mean `x`?" to serde's "unknown field / unknown variant `y`, expected one of
/// `a`, `b`" messages when one of the expected names is a likely typo of `y`.
fn suggest(message: &str) -> String {
    // serde names Rust types; say what a file author understands
    let message = &message
        .replace("expected u32", "expected a whole number ≥ 0")
        .replace("expected u64", "expected a whole number ≥ 0")
        .replace("expected a sequence", "expected a list")
        .replace("expected a borrowed string", "expected a text")
        .replace("expected a string", "expected a text")
        .replace("expected struct ", "expected a table: ");
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message.to_owned();
    };
    let Some((given, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (edit_distance(given, cand), cand))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, cand))
            if d > 0 && d <= (given.chars().count() / 3).max(1) + usize::from(given.len() > 8) =>
        {
            format!("{message} (did you mean `{cand}`?)")
        }
        _ => message.to_owned(),
    }
}

/// Levenshtein distance (case-insensitive), for typo suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// serde_path_to_error writes `.` for the root and `?` for unknown segments.
fn clean_path(p: &str) -> String {
    if p == "." {
        String::new()
    } else {
        p.to_owned()
    }
}

/// Remove a trailing " at line X column Y" that serde_json / YAML append, since the
/// position is reported separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

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
