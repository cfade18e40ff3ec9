//! The bounds on what rebatesim reads and runs, so that no input can exhaust memory, start
//! threads without bound or run for hours before it is refused. Each is documented in
//! `docs/programme-format.md` (section "Limits") and `docs/simulation.md` ("Limits"); going
//! past one is a clear error naming the field, file position or option, never a crash.
//!
//! - Programme and model files: at most [`MAX_DOCUMENT_BYTES`], a regular file (not a
//!   directory, device or FIFO), nested at most [`MAX_DEPTH`] deep, and a YAML file at most
//!   [`MAX_YAML_NODES`] values once its aliases are expanded.
//! - Programmes: at most [`MAX_COMPONENTS`] components, [`MAX_TIERS`] tiers a ladder and
//!   [`MAX_TOTAL_TIERS`] over all ladders, [`MAX_SEGMENTS`] segments, [`MAX_CATEGORIES`]
//!   categories, 240 periods; every date from [`FIRST_DATE`] to [`LAST_DATE`].
//! - Tables (partners, transactions, actuals, prior accruals): a regular file (any size).
//! - Runs: at most [`crate::engine::MAX_THREADS`] threads; the memory a run's outputs need is
//!   estimated (saturating) and checked before any work starts.

use crate::document::Format;
use crate::error::{Error, FieldError, Result};
use chrono::NaiveDate;
use std::io::Read;
use std::path::Path;

/// The largest programme or model file read (16 MiB; real ones are a few KB).
pub const MAX_DOCUMENT_BYTES: usize = 16 << 20;

/// The deepest nesting of tables / lists a programme or model file may have (real ones nest
/// at most 4 deep: `components[0].tiers[1].from`).
pub const MAX_DEPTH: usize = 64;

/// The most values (scalars, lists and tables) a YAML document may hold once its aliases
/// (`*name`) are expanded: an alias repeats what its anchor holds, so a small file could
/// otherwise stand for billions of values.
pub const MAX_YAML_NODES: usize = 1_000_000;

/// The most components a programme may have.
pub const MAX_COMPONENTS: usize = 1_000;

/// The most tiers one ladder may have.
pub const MAX_TIERS: usize = 1_000;

/// The most tiers all of a programme's ladders may have together.
pub const MAX_TOTAL_TIERS: usize = 10_000;

/// The most segments a programme may declare.
pub const MAX_SEGMENTS: usize = 1_000;

/// The most categories a programme (or a model's `economics.category_mix`) may declare.
pub const MAX_CATEGORIES: usize = 1_000;

/// The largest mean number of orders per partner-month a demand model may ask for
/// (`orders.per_month` and its per-segment overrides): about 50 orders a working day. Every
/// order is drawn and settled, so a partner-month costs time in proportion.
pub const MAX_ORDERS_PER_MONTH: f64 = 1_000.0;

/// The largest mean number of line categories an order may carry
/// (`orders.categories_per_order`): an order's count is capped by the partner's categories
/// anyway, and its Poisson draw costs time in proportion.
pub const MAX_CATEGORIES_PER_ORDER: f64 = 1_000.0;

/// Smallest and largest concentration of a partner's mix for the year
/// (`economics.mix_concentration`): below 0.01 almost every draw puts the whole year in one
/// category; above 10⁹ the draw is the mix itself to nine digits.
pub const MIN_MIX_CONCENTRATION: f64 = 0.01;
/// The largest concentration (see [`MIN_MIX_CONCENTRATION`]).
pub const MAX_MIX_CONCENTRATION: f64 = 1e9;

/// The most partners a synthetic population (`Population.synthetic`) may have.
pub const MAX_SYNTHETIC_PARTNERS: usize = 10_000_000;

/// The earliest date rebatesim accepts (programme start, transaction dates).
pub const FIRST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// The latest date rebatesim accepts, for any date it reads or derives (period ends, payment
/// dates after the lag): pandas' `datetime64[ns]`, which every table output uses, ends on
/// 2262-04-11.
pub const LAST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2261, 12, 31) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// Whether `d` is within [`FIRST_DATE`]..=[`LAST_DATE`].
pub fn date_in_range(d: NaiveDate) -> bool {
    (FIRST_DATE..=LAST_DATE).contains(&d)
}

/// Check that `path` is a regular file (following symbolic links), before it is opened: a
/// directory, a device such as `/dev/zero` or a FIFO is refused with [`Error::Io`] (a
/// `FileError` in Python), `what` naming what was expected ("a programme file").
pub fn check_regular_file(path: &Path, what: &str) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        return Ok(());
    }
    let kind = if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file (a device, FIFO or socket)"
    };
    Err(Error::io(path, format!("is {kind}: expected {what}")))
}

/// [`check_regular_file`] for a path that exists (a missing file is left to the reader's own
/// "not found", after the caller's other checks, such as the file's extension).
pub fn refuse_special_file(path: &Path, what: &str) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(_) => check_regular_file(path, what),
        Err(_) => Ok(()),
    }
}

/// Open `path` for reading after [`check_regular_file`].
pub fn open_regular(path: &Path, what: &str) -> Result<std::fs::File> {
    check_regular_file(path, what)?;
    std::fs::File::open(path).map_err(|e| Error::io(path, e))
}

/// Read a programme or model file: a regular file of at most [`MAX_DOCUMENT_BYTES`], UTF-8
/// text. Reads at most one byte past the limit, whatever the file claims its size is.
pub fn read_document(path: &Path, what: &str) -> Result<String> {
    let f = open_regular(path, what)?;
    let mut bytes = Vec::new();
    f.take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::io(
            path,
            format!(
                "is larger than {} MiB: expected {what} (a programme or model file is a few KB)",
                MAX_DOCUMENT_BYTES >> 20
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let (line, col) =
            crate::document::line_col_bytes(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        Error::io(
            path,
            format!("line {line}, column {col}: not UTF-8 text: expected {what}"),
        )
    })
}

/// Check a programme or model document before it is parsed: at most [`MAX_DOCUMENT_BYTES`],
/// nested at most [`MAX_DEPTH`] deep, and (YAML) at most [`MAX_YAML_NODES`] values with its
/// aliases expanded. One pass over the text (YAML: over the parser's events, stopping at the
/// first problem), so that a hostile document is refused in linear time. Syntax errors are left
/// to the parser, which reports them with their position.
pub(crate) fn check_document(
    text: &str,
    format: Format,
    file: Option<&str>,
    wrap: fn(FieldError) -> Error,
) -> Result<()> {
    let fail = |line: Option<usize>, column: Option<usize>, message: String| {
        Err(wrap(FieldError {
            file: file.map(str::to_owned),
            path: String::new(),
            line,
            column,
            message,
            further: None,
        }))
    };
    if text.len() > MAX_DOCUMENT_BYTES {
        return fail(
            None,
            None,
            format!(
                "the document is {} bytes, above the limit of {} MiB",
                text.len(),
                MAX_DOCUMENT_BYTES >> 20
            ),
        );
    }
    let too_deep = || {
        format!(
            "nested more than {MAX_DEPTH} levels deep (a programme or model nests a few levels)"
        )
    };
    let at = |pos: usize| crate::document::line_col_bytes(&text.as_bytes()[..pos]);
    match format {
        Format::Json => {
            if let Some(pos) = json_too_deep(text.as_bytes()) {
                let (l, c) = at(pos);
                return fail(Some(l), Some(c), too_deep());
            }
        }
        Format::Toml => {
            if let Some(pos) = toml_too_deep(text.as_bytes()) {
                let (l, c) = at(pos);
                return fail(Some(l), Some(c), too_deep());
            }
        }
        Format::Yaml => {
            if let Some((l, c, deep)) = yaml_too_big(text) {
                let message = if deep {
                    too_deep()
                } else {
                    format!(
                        "the document holds more than {MAX_YAML_NODES} values once its aliases (*name) are expanded"
                    )
                };
                return fail(Some(l), Some(c), message);
            }
        }
    }
    Ok(())
}

/// Byte offset of the first `[` / `{` nested deeper than [`MAX_DEPTH`] in JSON text.
fn json_too_deep(b: &[u8]) -> Option<usize> {
    let (mut depth, mut i, mut in_str) = (0usize, 0usize, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(i);
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Byte offset where TOML text nests deeper than [`MAX_DEPTH`]: arrays and inline tables
/// (`[`, `{`) plus the dots of a dotted key (`a.b.c = 1`, `[a.b.c]`), outside strings and
/// comments.
fn toml_too_deep(b: &[u8]) -> Option<usize> {
    let (mut depth, mut dots, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                let multi = b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c);
                i += if multi { 3 } else { 1 };
                while i < b.len() {
                    if c == b'"' && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == c
                        && (!multi || (b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c)))
                    {
                        // a closing quote run may be longer than three (`""""`): end after it
                        i += if multi { 3 } else { 1 };
                        while multi && b.get(i) == Some(&c) {
                            i += 1;
                        }
                        break;
                    }
                    if !multi && b[i] == b'\n' {
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                dots = 0;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'.' => dots += 1,
            b'\n' | b',' | b'=' => dots = 0,
            _ => {}
        }
        if depth + dots > MAX_DEPTH {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// (line, column, whether too deep) of the first YAML event nested deeper than [`MAX_DEPTH`]
/// or taking the document past [`MAX_YAML_NODES`] values with aliases expanded.
fn yaml_too_big(text: &str) -> Option<(usize, usize, bool)> {
    use saphyr_parser::{Event, Parser};
    use std::collections::HashMap;
    // values per anchor (once its node has ended), and the open nodes: (anchor, count before)
    let mut size: HashMap<usize, usize> = HashMap::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut total = 0usize;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = match ev {
            Ok(ev) => ev,
            // more than 255 flow levels (`[[[…`): the scanner gives up before any event of the
            // deep part; the document is too deep either way (and the YAML reader that follows
            // would take quadratic time over it)
            Err(e) if e.info().contains("recursion limit") => {
                return Some((e.marker().line(), e.marker().col() + 1, true));
            }
            Err(_) => return None, // a syntax error: the parser that follows reports it
        };
        let pos = (span.start.line(), span.start.col() + 1);
        match ev {
            Event::Scalar(_, _, anchor, _) => {
                total += 1;
                if anchor > 0 {
                    size.insert(anchor, 1);
                }
            }
            Event::Alias(anchor) => {
                total = total.saturating_add(size.get(&anchor).copied().unwrap_or(1));
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, total));
                total += 1;
                if open.len() > MAX_DEPTH {
                    return Some((pos.0, pos.1, true));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, before)) = open.pop() {
                    if anchor > 0 {
                        size.insert(anchor, total - before);
                    }
                }
            }
            _ => {}
        }
        if total > MAX_YAML_NODES {
            return Some((pos.0, pos.1, false));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, format: Format) -> Result<()> {
        check_document(text, format, Some("f"), Error::Programme)
    }

    #[test]
    fn depth_is_bounded_in_every_format() {
        let ok = 20;
        let deep = MAX_DEPTH + 1;
        let json = |n: usize| format!("{{\"a\": {}1{}}}", "[".repeat(n - 1), "]".repeat(n - 1));
        assert!(check(&json(ok), Format::Json).is_ok());
        let e = check(&json(deep), Format::Json).unwrap_err().to_string();
        assert!(
            e.contains("line 1, column 70") && e.contains("nested more than 64"),
            "{e}"
        );
        let toml = |n: usize| format!("a = {}1{}\n", "[".repeat(n), "]".repeat(n));
        assert!(check(&toml(ok), Format::Toml).is_ok());
        let e = check(&toml(deep), Format::Toml).unwrap_err().to_string();
        assert!(e.contains("line 1, column 69"), "{e}");
        // dotted keys count as nesting; dots in strings, comments and numbers do not
        let dotted = format!("{} = 1\n", vec!["k"; deep + 1].join("."));
        assert!(check(&dotted, Format::Toml).is_err());
        assert!(check(
            &format!(
                "a = \"{}\" # {}\nb = 1.5\n",
                ".".repeat(200),
                "[".repeat(200)
            ),
            Format::Toml
        )
        .is_ok());
        let yaml = |n: usize| format!("a: {}1{}\n", "[".repeat(n - 1), "]".repeat(n - 1));
        assert!(check(&yaml(ok), Format::Yaml).is_ok());
        let e = check(&yaml(deep), Format::Yaml).unwrap_err().to_string();
        assert!(e.contains("line 1, column 67"), "{e}");
        // deeper than the scanner goes (255 flow levels)
        let e = check(&yaml(300), Format::Yaml).unwrap_err().to_string();
        assert!(
            e.contains("line 1, column") && e.contains("nested more than 64"),
            "{e}"
        );
        // block style too
        let block: String = (0..deep)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect();
        let e = check(&block, Format::Yaml).unwrap_err().to_string();
        assert!(e.contains("line 65, column 129"), "{e}");
    }

    #[test]
    fn yaml_aliases_are_counted_expanded() {
        // a 1,000-value ladder repeated by 999 aliases: a small file, a million values
        let mut t = String::from("ladder: &l [");
        t.push_str(&vec!["1"; 999].join(","));
        t.push_str("]\nc:\n");
        for _ in 0..999 {
            t.push_str("  - *l\n");
        }
        assert!(t.len() < 10_000);
        let e = check(&t, Format::Yaml).unwrap_err().to_string();
        assert!(e.contains("more than 1000000 values"), "{e}");
        // a few aliases are fine
        assert!(check("a: &x [1, 2]\nb: *x\nc: *x\n", Format::Yaml).is_ok());
        // nested anchors: each level multiplies (a billion laughs) and is stopped early
        let mut lol = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            lol.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                vec![format!("*a{}", i - 1); 10].join(", ")
            ));
        }
        assert!(check(&lol, Format::Yaml).is_err());
    }

    #[test]
    fn files_must_be_regular_and_small() {
        let dir = std::env::temp_dir().join(format!("rebatesim-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = read_document(&dir, "a programme file")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is a directory: expected a programme file"),
            "{e}"
        );
        #[cfg(unix)]
        {
            let e = read_document(Path::new("/dev/zero"), "a programme file")
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a regular file"), "{e}");
        }
        let big = dir.join("big.toml");
        std::fs::write(&big, vec![b' '; MAX_DOCUMENT_BYTES + 1]).unwrap();
        let e = read_document(&big, "a programme file")
            .unwrap_err()
            .to_string();
        assert!(e.contains("larger than 16 MiB"), "{e}");
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, b"name = \"P\"\nx = \"\xff\"\n").unwrap();
        let e = read_document(&bad, "a programme file")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column 6: not UTF-8"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
