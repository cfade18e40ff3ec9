//! The file formats of programmes and models (TOML, JSON, YAML): [`Format`], reading a
//! document into a typed value within the input limits ([`parse`]), with every error naming
//! the field path, line and column (and a likely typo), and writing one ([`write`]).

use super::locate::locate;
use super::position::line_col;
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
                        locate(text, Format::Json, &path).unwrap_or((inner.line(), inner.column()))
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

/// Append "did you mean `x`?" to serde's "unknown field / unknown variant `y`, expected one of
/// `a`, `b`" messages when one of the expected names is a likely typo of `y`.
pub(crate) fn suggest(message: &str) -> String {
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
pub(crate) fn clean_path(p: &str) -> String {
    if p == "." {
        String::new()
    } else {
        p.to_owned()
    }
}

/// Remove a trailing " at line X column Y" that serde_json / YAML append, since the
/// position is reported separately.
pub(crate) fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}
