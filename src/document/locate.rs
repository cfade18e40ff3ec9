//! Finding the file position of a field path (`components[1].tiers[0].from`) in a
//! programme or model file, so that rule violations found after parsing are
//! reported with a line and column.
//!
//! Each format is walked with a parser that keeps positions: TOML through
//! `toml_edit`'s spanned document (tables, arrays of tables, inline tables,
//! dotted keys), YAML through `saphyr-parser`'s marked events, JSON through a
//! small scanner. When the full path is not in the file (a required field that
//! is missing), the position of the deepest part that is (the component, the
//! tier) is returned, which is where the field belongs.

use super::position::Lines;
use super::Format;
use crate::limits::MAX_DEPTH;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A table / object / mapping key.
    Key(String),
    /// An array / sequence index (0-based).
    Index(usize),
}

/// Split `components[1].tiers[0].from` into its steps. Returns `None` for a malformed path.
pub(crate) fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !key.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut key)));
                }
            }
            '[' => {
                if !key.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut key)));
                }
                let mut digits = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(d) if d.is_ascii_digit() => digits.push(d),
                        _ => return None,
                    }
                }
                segs.push(Seg::Index(digits.parse().ok()?));
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        segs.push(Seg::Key(key));
    }
    Some(segs)
}

/// 1-based (line, column) of the field at `path` (e.g. `components[1].tiers[0].from`) in
/// `text`, a document in `format`; when the field itself is absent (a missing required
/// field), the position of its deepest enclosing part that is present. `None` when the
/// text does not parse or the path's first step is absent.
///
/// ```
/// use rebatesim::programme::{locate_field, Format};
/// let text = "name = \"P\"\n[[components]]\nid = \"v\"\ntiers = [\n  { from = 0, percent = 1 },\n]\n";
/// assert_eq!(locate_field(text, Format::Toml, "components[0].tiers[0].percent"), Some((5, 15)));
/// ```
pub fn locate_field(text: &str, format: Format, path: &str) -> Option<(usize, usize)> {
    locate(text, format, path)
}

/// See [`locate_field`].
pub(crate) fn locate(text: &str, format: Format, path: &str) -> Option<(usize, usize)> {
    Locator::new(text, format).locate(path)
}

/// A document parsed once with its positions, answering any number of [`locate_field`]
/// queries: each walks the path from the root (a key looked up among its table's keys, an
/// index directly), so that placing every error of a programme with thousands of components
/// costs one parse, not one per error.
pub(crate) struct Locator<'t> {
    lines: Lines<'t>,
    doc: Doc<'t>,
}

enum Doc<'t> {
    Toml(Option<toml_edit::Document<&'t str>>),
    /// Byte offsets.
    Json(Option<PNode>),
    /// Line and column.
    Yaml(Option<PNode>),
}

/// A node of a JSON or YAML document with the positions of its entries: for a table the
/// position of each key, for a list the position of each element. (JSON: byte offsets packed
/// as `(offset, 0)`; YAML: (line, column).)
enum PNode {
    Scalar,
    Seq(Vec<((usize, usize), PNode)>),
    Map(Vec<(String, (usize, usize), PNode)>),
}

impl PNode {
    /// The deepest position on `segs` (see [`locate_field`]).
    fn walk(&self, segs: &[Seg]) -> Option<(usize, usize)> {
        let mut node = self;
        let mut best = None;
        for seg in segs {
            match (seg, node) {
                (Seg::Key(k), PNode::Map(entries)) => {
                    let Some((_, kpos, v)) = entries.iter().find(|(name, _, _)| name == k) else {
                        break;
                    };
                    best = Some(*kpos);
                    node = v;
                }
                (Seg::Index(i), PNode::Seq(items)) => {
                    let Some((pos, v)) = items.get(*i) else { break };
                    best = Some(*pos);
                    node = v;
                }
                _ => break,
            }
        }
        best
    }
}

impl<'t> Locator<'t> {
    /// Parse `text` once (a text that does not parse locates nothing).
    pub(crate) fn new(text: &'t str, format: Format) -> Self {
        let doc = match format {
            Format::Toml => Doc::Toml(toml_edit::Document::parse(text).ok()),
            Format::Json => {
                let j = Json {
                    b: text.as_bytes(),
                    text,
                };
                let p = j.ws(0);
                Doc::Json((p < text.len()).then(|| j.node(p, 0).0))
            }
            Format::Yaml => Doc::Yaml(yaml_tree(text)),
        };
        Locator {
            lines: Lines::new(text),
            doc,
        }
    }

    /// See [`locate_field`].
    pub(crate) fn locate(&self, path: &str) -> Option<(usize, usize)> {
        let segs = parse_path(path)?;
        match &self.doc {
            Doc::Toml(doc) => toml_locate(doc.as_ref()?, &segs).map(|p| self.lines.line_col(p)),
            Doc::Json(root) => root
                .as_ref()?
                .walk(&segs)
                .map(|(p, _)| self.lines.line_col(p)),
            Doc::Yaml(root) => root.as_ref()?.walk(&segs),
        }
    }
}

// ---------------------------------------------------------------- TOML

enum TomlNode<'a> {
    Table(&'a dyn toml_edit::TableLike),
    Tables(&'a toml_edit::ArrayOfTables),
    Value(&'a toml_edit::Value),
}

fn toml_node(item: &toml_edit::Item) -> Option<TomlNode<'_>> {
    use toml_edit::{Item, Value};
    match item {
        Item::None => None,
        Item::Table(t) => Some(TomlNode::Table(t)),
        Item::ArrayOfTables(a) => Some(TomlNode::Tables(a)),
        Item::Value(Value::InlineTable(t)) => Some(TomlNode::Table(t)),
        Item::Value(v) => Some(TomlNode::Value(v)),
    }
}

fn toml_locate(doc: &toml_edit::Document<&str>, segs: &[Seg]) -> Option<usize> {
    use toml_edit::Value;
    let mut best = None;
    let mut node = toml_node(doc.as_item())?;
    for seg in segs {
        let next = match (seg, node) {
            (Seg::Key(k), TomlNode::Table(t)) => {
                let Some((key, item)) = t.get_key_value(k) else {
                    break;
                };
                // the key's own position (the line `from = 5`), else the value's
                best = key.span().or_else(|| item.span()).map(|s| s.start).or(best);
                toml_node(item)
            }
            (Seg::Index(i), TomlNode::Tables(a)) => {
                let Some(t) = a.get(*i) else { break };
                best = t.span().map(|s| s.start).or(best);
                Some(TomlNode::Table(t))
            }
            (Seg::Index(i), TomlNode::Value(Value::Array(a))) => {
                let Some(v) = a.get(*i) else { break };
                best = v.span().map(|s| s.start).or(best);
                Some(match v {
                    Value::InlineTable(t) => TomlNode::Table(t),
                    v => TomlNode::Value(v),
                })
            }
            _ => break,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    best
}

// ---------------------------------------------------------------- JSON

struct Json<'a> {
    b: &'a [u8],
    text: &'a str,
}

impl Json<'_> {
    fn ws(&self, mut p: usize) -> usize {
        while p < self.b.len() && matches!(self.b[p], b' ' | b'\t' | b'\n' | b'\r') {
            p += 1;
        }
        p
    }

    /// End (exclusive) of the string starting at `p` (which is `"`).
    fn string_end(&self, mut p: usize) -> Option<usize> {
        p += 1;
        while p < self.b.len() {
            match self.b[p] {
                b'\\' => p += 2,
                b'"' => return Some(p + 1),
                _ => p += 1,
            }
        }
        None
    }

    /// The value starting at `p` (after whitespace) with the positions of its parts, and its
    /// end (exclusive); `None` as the end where the text breaks off or is malformed, the node
    /// then holding what came before (so that a field before the break is still located).
    fn node(&self, p: usize, depth: usize) -> (PNode, Option<usize>) {
        match self.b.get(p) {
            Some(b'"') => (PNode::Scalar, self.string_end(p)),
            Some(b'[') if depth < MAX_DEPTH => {
                let mut items = Vec::new();
                let mut q = self.ws(p + 1);
                loop {
                    match self.b.get(q) {
                        None => return (PNode::Seq(items), None),
                        Some(b']') => return (PNode::Seq(items), Some(q + 1)),
                        _ => {}
                    }
                    let (v, end) = self.node(q, depth + 1);
                    items.push(((q, 0), v));
                    let Some(end) = end else {
                        return (PNode::Seq(items), None);
                    };
                    q = self.ws(end);
                    match self.b.get(q) {
                        Some(b',') => q = self.ws(q + 1),
                        Some(b']') => {}
                        _ => return (PNode::Seq(items), None),
                    }
                }
            }
            Some(b'{') if depth < MAX_DEPTH => {
                let mut entries = Vec::new();
                let mut q = self.ws(p + 1);
                loop {
                    match self.b.get(q) {
                        Some(b'}') => return (PNode::Map(entries), Some(q + 1)),
                        Some(b'"') => {}
                        _ => return (PNode::Map(entries), None),
                    }
                    let Some(kend) = self.string_end(q) else {
                        return (PNode::Map(entries), None);
                    };
                    let Ok(name) = serde_json::from_str::<String>(&self.text[q..kend]) else {
                        return (PNode::Map(entries), None);
                    };
                    let colon = self.ws(kend);
                    if self.b.get(colon) != Some(&b':') {
                        return (PNode::Map(entries), None);
                    }
                    let v = self.ws(colon + 1);
                    let (value, end) = self.node(v, depth + 1);
                    entries.push((name, (q, 0), value));
                    let Some(end) = end else {
                        return (PNode::Map(entries), None);
                    };
                    q = self.ws(end);
                    match self.b.get(q) {
                        Some(b',') => q = self.ws(q + 1),
                        Some(b'}') => {}
                        _ => return (PNode::Map(entries), None),
                    }
                }
            }
            Some(b'[' | b'{') | None => (PNode::Scalar, None),
            Some(_) => {
                let mut q = p;
                while q < self.b.len()
                    && !matches!(self.b[q], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    q += 1;
                }
                (PNode::Scalar, Some(q))
            }
        }
    }
}

// ---------------------------------------------------------------- YAML

fn yaml_pos(span: &saphyr_parser::Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

type YEvents<'a> =
    std::iter::Peekable<std::vec::IntoIter<(saphyr_parser::Event<'a>, saphyr_parser::Span)>>;

/// Read one node from the event stream (the first event is its start).
fn yaml_node(events: &mut YEvents<'_>, depth: usize) -> Option<(PNode, (usize, usize))> {
    use saphyr_parser::Event;
    if depth > MAX_DEPTH {
        return None;
    }
    let (ev, span) = events.next()?;
    let pos = yaml_pos(&span);
    match ev {
        Event::Scalar(..) | Event::Alias(_) => Some((PNode::Scalar, pos)),
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                if matches!(events.peek(), Some((Event::SequenceEnd, _))) {
                    events.next();
                    return Some((PNode::Seq(items), pos));
                }
                let (v, p) = yaml_node(events, depth + 1)?;
                items.push((p, v));
            }
        }
        Event::MappingStart(..) => {
            let mut entries = Vec::new();
            loop {
                if matches!(events.peek(), Some((Event::MappingEnd, _))) {
                    events.next();
                    return Some((PNode::Map(entries), pos));
                }
                let key = match events.peek() {
                    Some((Event::Scalar(s, ..), span)) => Some((s.to_string(), yaml_pos(span))),
                    _ => None,
                };
                let (_, key_pos) = yaml_node(events, depth + 1)?; // the key (complex keys are skipped)
                let (value, _) = yaml_node(events, depth + 1)?;
                let (name, kpos) = key.unwrap_or((String::new(), key_pos));
                entries.push((name, kpos, value));
            }
        }
        _ => None,
    }
}

/// The first document of `text` as a tree with positions (`None` if it does not parse).
fn yaml_tree(text: &str) -> Option<PNode> {
    use saphyr_parser::{Event, Parser};
    let mut events = Vec::new();
    for ev in Parser::new_from_str(text) {
        events.push(ev.ok()?);
    }
    let mut it: YEvents<'_> = events.into_iter().peekable();
    // skip StreamStart / DocumentStart
    while matches!(
        it.peek(),
        Some((Event::StreamStart | Event::DocumentStart(_), _))
    ) {
        it.next();
    }
    yaml_node(&mut it, 0).map(|(root, _)| root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("components[1].tiers[0].from").unwrap(),
            vec![
                Seg::Key("components".into()),
                Seg::Index(1),
                Seg::Key("tiers".into()),
                Seg::Index(0),
                Seg::Key("from".into())
            ]
        );
        assert_eq!(parse_path("").unwrap(), vec![]);
        assert!(parse_path("a[x]").is_none());
    }

    const TOML: &str = r#"name = "P"
start = 2027-01-01

[payment]
lag_days = 30

[[components]]
id = "a"
kind = "volume"
tiers = [
  { from = 0, percent = 1 },
  { from = 10, percent = 2 },
]

[[components]]
id = "b"
kind = "bundle"
minimums = { hardware = 5, software = 3 }

[[components]]
id = "c"
kind = "growth"
[[components.tiers]]
from = 0
percent = 1
[[components.tiers]]
from = 5
percent = 2
"#;

    #[test]
    fn toml_positions() {
        let at = |p: &str| locate(TOML, Format::Toml, p);
        assert_eq!(at("name"), Some((1, 1)));
        assert_eq!(at("start"), Some((2, 1)));
        assert_eq!(at("payment.lag_days"), Some((5, 1)));
        assert_eq!(at("components[0].tiers[1].from"), Some((12, 5)));
        assert_eq!(at("components[0].tiers[1]"), Some((12, 3)));
        assert_eq!(at("components[1].minimums.software"), Some((18, 28)));
        assert_eq!(at("components[2].tiers[1].percent"), Some((28, 1)));
        assert_eq!(at("components[2].kind"), Some((22, 1)));
        // a missing field: the component that lacks it
        assert_eq!(at("components[1].fixed").map(|p| p.0), Some(15));
        assert_eq!(at("nowhere"), None);
    }

    #[test]
    fn toml_dotted_keys_and_comments() {
        let text = "# head\nname = \"P\" # the name\npayment.lag_days = 30\n\n[[components]] # first\nid = \"a\"\ntiers = [ # ladder\n  # tier 1\n  { from = 0, percent = 1 },\n]\n";
        let at = |p: &str| locate(text, Format::Toml, p);
        assert_eq!(at("payment.lag_days"), Some((3, 9)));
        assert_eq!(at("components[0].tiers[0].percent"), Some((9, 15)));
        assert_eq!(at("components[0].cap").map(|p| p.0), Some(5));
    }

    #[test]
    fn yaml_comments_anchors_and_documents() {
        let text = "---\n# programme\nname: P  # name\nbase: &tiers\n  - {from: 0, percent: 1}\ncomponents:\n  - id: a\n    tiers: *tiers\n  - id: b\n    # comment\n    cap: 5\n";
        let at = |p: &str| locate(text, Format::Yaml, p);
        assert_eq!(at("name"), Some((3, 1)));
        assert_eq!(at("components[1].cap"), Some((11, 5)));
        // an alias is located at the alias
        assert_eq!(at("components[0].tiers[0].from"), Some((8, 5)));
        // not YAML at all: no position, no panic
        assert_eq!(locate("a: [", Format::Yaml, "a"), None);
        assert_eq!(locate("{\"a\": [1, ", Format::Json, "a[3]"), Some((1, 2)));
        assert_eq!(locate("x = ", Format::Toml, "x"), None);
    }

    #[test]
    fn json_positions() {
        let text = "{\n  \"name\": \"P\",\n  \"components\": [\n    {\"id\": \"a\", \"tiers\": [{\"from\": 0}, {\"from\": 1, \"percent\": 2}]},\n    {\"id\": \"b\\\"x\", \"minimums\": {\"hw\": 5}}\n  ]\n}\n";
        let at = |p: &str| locate(text, Format::Json, p);
        assert_eq!(at("name"), Some((2, 3)));
        assert_eq!(at("components[0].tiers[1].percent"), Some((4, 52)));
        assert_eq!(at("components[1].minimums.hw"), Some((5, 33)));
        assert_eq!(at("components[1].cap"), Some((5, 5)));
        assert_eq!(at("components[7]").map(|p| p.0), Some(3));
    }

    #[test]
    fn yaml_positions() {
        let text = "name: P\npayment:\n  lag_days: 30\ncomponents:\n- id: a\n  tiers:\n  - from: 0\n    percent: 1\n  - {from: 10, percent: 2}\n- id: b\n  minimums:\n    hw: 5\n";
        let at = |p: &str| locate(text, Format::Yaml, p);
        assert_eq!(at("name"), Some((1, 1)));
        assert_eq!(at("payment.lag_days"), Some((3, 3)));
        assert_eq!(at("components[0].tiers[0].percent"), Some((8, 5)));
        assert_eq!(at("components[0].tiers[1].percent"), Some((9, 16)));
        assert_eq!(at("components[1].minimums.hw"), Some((12, 5)));
        assert_eq!(at("components[1].amount"), Some((10, 3)));
    }
}
