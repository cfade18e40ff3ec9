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

use super::io::{line_col, Format};

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
    let segs = parse_path(path)?;
    match format {
        Format::Toml => toml_locate(text, &segs).map(|pos| line_col(text, pos)),
        Format::Json => json_locate(text, &segs).map(|pos| line_col(text, pos)),
        Format::Yaml => yaml_locate(text, &segs),
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

fn toml_locate(text: &str, segs: &[Seg]) -> Option<usize> {
    use toml_edit::Value;
    let doc = toml_edit::Document::parse(text).ok()?;
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

    /// End (exclusive) of the value starting at `p` (after whitespace).
    fn value_end(&self, p: usize) -> Option<usize> {
        match *self.b.get(p)? {
            b'"' => self.string_end(p),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut q = p;
                while q < self.b.len() {
                    match self.b[q] {
                        b'"' => {
                            q = self.string_end(q)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(q + 1);
                            }
                        }
                        _ => {}
                    }
                    q += 1;
                }
                None
            }
            _ => {
                let mut q = p;
                while q < self.b.len()
                    && !matches!(self.b[q], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    q += 1;
                }
                Some(q)
            }
        }
    }

    /// Start of the member value `key` in the object at `p`, and the key's start.
    fn member(&self, p: usize, key: &str) -> Option<(usize, usize)> {
        if self.b.get(p) != Some(&b'{') {
            return None;
        }
        let mut q = self.ws(p + 1);
        while self.b.get(q) == Some(&b'"') {
            let kend = self.string_end(q)?;
            let name: String = serde_json::from_str(&self.text[q..kend]).ok()?;
            let colon = self.ws(kend);
            if self.b.get(colon) != Some(&b':') {
                return None;
            }
            let v = self.ws(colon + 1);
            if name == key {
                return Some((v, q));
            }
            let vend = self.value_end(v)?;
            q = self.ws(vend);
            if self.b.get(q) == Some(&b',') {
                q = self.ws(q + 1);
            }
        }
        None
    }

    /// Start of element `i` of the array at `p`.
    fn element(&self, p: usize, i: usize) -> Option<usize> {
        if self.b.get(p) != Some(&b'[') {
            return None;
        }
        let mut q = self.ws(p + 1);
        for _ in 0..i {
            if matches!(self.b.get(q), None | Some(b']')) {
                return None;
            }
            q = self.ws(self.value_end(q)?);
            if self.b.get(q) != Some(&b',') {
                return None;
            }
            q = self.ws(q + 1);
        }
        if matches!(self.b.get(q), None | Some(b']')) {
            None
        } else {
            Some(q)
        }
    }
}

fn json_locate(text: &str, segs: &[Seg]) -> Option<usize> {
    let j = Json {
        b: text.as_bytes(),
        text,
    };
    let mut p = j.ws(0);
    let mut best = None;
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                let Some((v, key_start)) = j.member(p, k) else {
                    break;
                };
                best = Some(key_start);
                p = v;
            }
            Seg::Index(i) => {
                let Some(v) = j.element(p, *i) else { break };
                best = Some(v);
                p = v;
            }
        }
    }
    best
}

// ---------------------------------------------------------------- YAML

/// A YAML node with the position (1-based line, 1-based column) where it starts.
enum YNode {
    Scalar,
    Seq(Vec<(YNode, (usize, usize))>),
    Map(Vec<(String, (usize, usize), YNode)>),
}

fn yaml_pos(span: &saphyr_parser::Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

type YEvents<'a> =
    std::iter::Peekable<std::vec::IntoIter<(saphyr_parser::Event<'a>, saphyr_parser::Span)>>;

/// Read one node from the event stream (the first event is its start).
fn yaml_node(events: &mut YEvents<'_>, depth: usize) -> Option<(YNode, (usize, usize))> {
    use saphyr_parser::Event;
    if depth > 256 {
        return None;
    }
    let (ev, span) = events.next()?;
    let pos = yaml_pos(&span);
    match ev {
        Event::Scalar(..) | Event::Alias(_) => Some((YNode::Scalar, pos)),
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                if matches!(events.peek(), Some((Event::SequenceEnd, _))) {
                    events.next();
                    return Some((YNode::Seq(items), pos));
                }
                items.push(yaml_node(events, depth + 1)?);
            }
        }
        Event::MappingStart(..) => {
            let mut entries = Vec::new();
            loop {
                if matches!(events.peek(), Some((Event::MappingEnd, _))) {
                    events.next();
                    return Some((YNode::Map(entries), pos));
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

fn yaml_locate(text: &str, segs: &[Seg]) -> Option<(usize, usize)> {
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
    let (root, _) = yaml_node(&mut it, 0)?;
    let mut node = &root;
    let mut best = None;
    for seg in segs {
        match (seg, node) {
            (Seg::Key(k), YNode::Map(entries)) => {
                let Some((_, kpos, v)) = entries.iter().find(|(name, _, _)| name == k) else {
                    break;
                };
                best = Some(*kpos);
                node = v;
            }
            (Seg::Index(i), YNode::Seq(items)) => {
                let Some((v, pos)) = items.get(*i) else { break };
                best = Some(*pos);
                node = v;
            }
            _ => break,
        }
    }
    best
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
