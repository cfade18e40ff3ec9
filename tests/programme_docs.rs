//! docs/programme-format.md stays true: every TOML, JSON and YAML programme in it reads and
//! validates, its complete example is the bundled distributor programme, and its smallest
//! example is the same programme in all three formats.

use rebatesim::programme::{Format, Programme};
use std::path::Path;

fn blocks() -> Vec<(Format, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/programme-format.md")).unwrap();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let format = match line.trim() {
            "```toml" => Format::Toml,
            "```json" => Format::Json,
            "```yaml" => Format::Yaml,
            _ => continue,
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        out.push((format, body.join("\n") + "\n"));
    }
    out
}

#[test]
fn documented_programmes_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut programmes = Vec::new();
    for (format, text) in blocks() {
        // fragments (a lone ladder) are not whole programmes
        if !text.contains("name") {
            continue;
        }
        let p = Programme::from_str(&text, format, Some("docs"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        p.compile_located(&text, format, Some("docs"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        programmes.push(p);
    }
    assert_eq!(
        programmes.len(),
        4,
        "the complete example and the smallest one in three formats"
    );
    let bundled = Programme::from_file(root.join("examples/distributor/programme.toml")).unwrap();
    assert_eq!(
        programmes[0], bundled,
        "the complete example is examples/distributor/programme.toml"
    );
    assert_eq!(programmes[1], programmes[2]);
    assert_eq!(programmes[1], programmes[3]);
}

#[test]
fn documented_ladder_fragment_reads() {
    let frag = blocks()
        .into_iter()
        .find(|(_, t)| t.starts_with("tiers = ["))
        .expect("ladder fragment")
        .1;
    let text = format!("name = \"x\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n[[components]]\nid = \"v\"\nkind = \"volume\"\n{frag}");
    Programme::from_str(&text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap();
}
