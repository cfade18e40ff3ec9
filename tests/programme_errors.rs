//! Every class of bad programme input, from TOML, JSON and YAML: the error is an
//! `Error::Programme` naming the field path, the file line (and column) of the
//! offending field, and what was expected.

use rebatesim::programme::{Format, Programme};
use rebatesim::{Error, Result};
use serde_json::{json, Value};

const FORMATS: [Format; 3] = [Format::Toml, Format::Json, Format::Yaml];

fn base() -> Value {
    json!({
        "name": "Test programme",
        "currency": "EUR",
        "start": "2027-01-01",
        "period": "quarter",
        "periods": 4,
        "segments": ["installer", "retail"],
        "categories": ["hardware", "software"],
        "budget": 1000000,
        "components": [
            {
                "id": "vol",
                "kind": "volume",
                "method": "retroactive",
                "tiers": [
                    {"from": 1000, "percent": 1},
                    {"from": 5000, "percent": 2.5}
                ]
            },
            {
                "id": "bundle",
                "kind": "bundle",
                "minimums": {"hardware": 100, "software": 50},
                "percent": 1
            },
            {
                "id": "upsell",
                "kind": "per_unit",
                "categories": ["software"],
                "amount": 0.5,
                "above": 10
            },
            {
                "id": "growth",
                "kind": "growth",
                "segments": ["retail"],
                "tiers": [{"from": 5, "percent": 1}]
            }
        ]
    })
}

/// Write a JSON value as a programme file in `format`.
fn render(v: &Value, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(v).unwrap(),
        Format::Yaml => serde_norway::to_string(v).unwrap(),
        Format::Toml => toml::to_string_pretty(v).unwrap(),
    }
}

fn load(text: &str, format: Format) -> Result<()> {
    let file = format!("programme.{}", ext(format));
    let p = Programme::from_str(text, format, Some(&file))?;
    p.compile_located(text, format, Some(&file)).map(|_| ())
}

fn ext(format: Format) -> &'static str {
    match format {
        Format::Toml => "toml",
        Format::Json => "json",
        Format::Yaml => "yaml",
    }
}

/// 1-based line of the `nth` (0-based) occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str, nth: usize) -> usize {
    let pos = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} not in\n{text}"))
        .0;
    text[..pos].matches('\n').count() + 1
}

struct Case {
    path: &'static str,
    expect: &'static [&'static str],
    /// The reported line must hold this text (its `nth` occurrence), or `None` when the
    /// field is missing from the file (then any line of the enclosing part will do).
    needle: Option<(&'static str, usize)>,
}

fn check(name: &str, mutate: impl Fn(&mut Value), case: Case) {
    let mut v = base();
    mutate(&mut v);
    for format in FORMATS {
        let text = render(&v, format);
        let e = match load(&text, format) {
            Err(Error::Programme(fe)) => fe,
            other => {
                panic!("{name} ({format:?}): expected a programme error, got {other:?}\n{text}")
            }
        };
        let shown = Error::Programme(e.clone()).to_string();
        eprintln!("{shown}");
        assert_eq!(e.path, case.path, "{name} ({format:?}): {shown}\n{text}");
        for want in case.expect {
            assert!(
                e.message.contains(want),
                "{name} ({format:?}): message lacks {want:?}: {shown}"
            );
        }
        let line = e
            .line
            .unwrap_or_else(|| panic!("{name} ({format:?}): no line in {shown}\n{text}"));
        assert!(
            e.column.is_some(),
            "{name} ({format:?}): no column in {shown}"
        );
        assert_eq!(
            e.file.as_deref(),
            Some(format!("programme.{}", ext(format)).as_str())
        );
        if let Some((needle, nth)) = case.needle {
            assert_eq!(
                line,
                line_of(&text, needle, nth),
                "{name} ({format:?}): {shown}\n{text}"
            );
        }
        assert!(shown.contains(case.path), "{shown}");
        assert!(shown.contains(&format!("line {line}")), "{shown}");
    }
}

#[test]
fn base_programme_is_valid_in_every_format() {
    for format in FORMATS {
        let text = render(&base(), format);
        load(&text, format).unwrap_or_else(|e| panic!("{format:?}: {e}\n{text}"));
    }
}

#[test]
fn thresholds_not_increasing() {
    check(
        "thresholds",
        |v| v["components"][0]["tiers"][1]["from"] = json!(777),
        Case {
            path: "components[0].tiers[1].from",
            expect: &["thresholds must increase", "777", "1000"],
            needle: Some(("777", 0)),
        },
    );
    check(
        "equal thresholds",
        |v| {
            v["components"][3]["tiers"] =
                json!([{"from": 7.5, "percent": 1}, {"from": 7.5, "percent": 2}])
        },
        Case {
            path: "components[3].tiers[1].from",
            expect: &["thresholds must increase"],
            needle: Some(("7.5", 1)),
        },
    );
}

#[test]
fn negative_rate() {
    check(
        "negative percent",
        |v| v["components"][0]["tiers"][0]["percent"] = json!(-7.77),
        Case {
            path: "components[0].tiers[0].percent",
            expect: &["between 0 and 100", "-7.77"],
            needle: Some(("-7.77", 0)),
        },
    );
    check(
        "negative amount",
        |v| v["components"][2]["amount"] = json!(-0.75),
        Case {
            path: "components[2].amount",
            expect: &["≥ 0", "-0.75"],
            needle: Some(("-0.75", 0)),
        },
    );
}

#[test]
fn rate_above_100_percent() {
    check(
        "percent 777",
        |v| v["components"][0]["tiers"][1]["percent"] = json!(777),
        Case {
            path: "components[0].tiers[1].percent",
            expect: &["between 0 and 100", "777"],
            needle: Some(("777", 0)),
        },
    );
    check(
        "bundle percent",
        |v| v["components"][1]["percent"] = json!(100.5),
        Case {
            path: "components[1].percent",
            expect: &["between 0 and 100"],
            needle: Some(("100.5", 0)),
        },
    );
}

#[test]
fn unknown_component_kind() {
    check(
        "kind",
        |v| v["components"][1]["kind"] = json!("volumez"),
        Case {
            path: "components[1].kind",
            expect: &[
                "volumez",
                "volume",
                "growth",
                "per_unit",
                "bundle",
                "logistics",
                "did you mean `volume`",
            ],
            needle: Some(("volumez", 0)),
        },
    );
}

#[test]
fn segment_not_declared() {
    check(
        "segment",
        |v| v["components"][3]["segments"] = json!(["retail", "wholesalez"]),
        Case {
            path: "components[3].segments[1]",
            expect: &["wholesalez", "not declared", "installer, retail"],
            needle: Some(("wholesalez", 0)),
        },
    );
}

#[test]
fn category_not_declared() {
    check(
        "category",
        |v| v["components"][2]["categories"] = json!(["gadgetz"]),
        Case {
            path: "components[2].categories[0]",
            expect: &["gadgetz", "not declared", "hardware, software"],
            needle: Some(("gadgetz", 0)),
        },
    );
    check(
        "bundle minimum category",
        |v| v["components"][1]["minimums"] = json!({"hardware": 100, "gadgetz": 5}),
        Case {
            path: "components[1].minimums.gadgetz",
            expect: &["gadgetz", "not declared"],
            needle: Some(("gadgetz", 0)),
        },
    );
    check(
        "no categories declared",
        |v| {
            v.as_object_mut().unwrap().remove("categories");
            v["components"].as_array_mut().unwrap().remove(1);
        },
        Case {
            path: "components[1].categories[0]",
            expect: &["software", "not declared", "categories"],
            needle: Some(("software", 0)),
        },
    );
}

#[test]
fn empty_ladder() {
    check(
        "empty",
        |v| v["components"][0]["tiers"] = json!([]),
        Case {
            path: "components[0].tiers",
            expect: &["at least one tier", "empty ladder"],
            needle: Some(("tiers", 0)),
        },
    );
}

#[test]
fn start_not_a_date() {
    check(
        "month 13",
        |v| v["start"] = json!("2027-13-45"),
        Case {
            path: "start",
            expect: &["YYYY-MM-DD", "2027-13-45"],
            needle: Some(("2027-13-45", 0)),
        },
    );
    check(
        "words",
        |v| v["start"] = json!("next spring"),
        Case {
            path: "start",
            expect: &["YYYY-MM-DD", "next spring"],
            needle: Some(("next spring", 0)),
        },
    );
    check(
        "a number",
        |v| v["start"] = json!(20270101),
        Case {
            path: "start",
            expect: &["YYYY-MM-DD"],
            needle: Some(("20270101", 0)),
        },
    );
}

#[test]
fn start_not_a_date_native_toml() {
    let text = "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-02-30\nperiod = \"year\"\nperiods = 1\n\n[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 0, percent = 1 }]\n";
    let Err(Error::Programme(e)) = load(text, Format::Toml) else {
        panic!()
    };
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.to_string().contains("line 3"), "{e}");
}

#[test]
fn field_not_applying_to_kind() {
    check(
        "basis_cap on per_unit",
        |v| v["components"][2]["basis_cap"] = json!(7777),
        Case {
            path: "components[2].basis_cap",
            expect: &["does not apply to a per_unit component", "amount, above"],
            needle: Some(("7777", 0)),
        },
    );
    check(
        "method on growth",
        |v| v["components"][3]["method"] = json!("incremental"),
        Case {
            path: "components[3].method",
            expect: &["does not apply to a growth component"],
            needle: Some(("incremental", 0)),
        },
    );
}

#[test]
fn missing_required_field() {
    check(
        "amount",
        |v| {
            v["components"][2].as_object_mut().unwrap().remove("amount");
        },
        Case {
            path: "components[2].amount",
            expect: &["needs `amount`"],
            needle: None,
        },
    );
    check(
        "tiers",
        |v| {
            v["components"][0].as_object_mut().unwrap().remove("tiers");
        },
        Case {
            path: "components[0].tiers",
            expect: &["needs `tiers`"],
            needle: None,
        },
    );
    check(
        "bundle reward",
        |v| {
            v["components"][1]
                .as_object_mut()
                .unwrap()
                .remove("percent");
        },
        Case {
            path: "components[1]",
            expect: &["`percent`", "`fixed`"],
            needle: None,
        },
    );
    check(
        "currency",
        |v| {
            v.as_object_mut().unwrap().remove("currency");
        },
        Case {
            path: "",
            expect: &["missing field `currency`"],
            needle: None,
        },
    );
    check(
        "component id",
        |v| {
            v["components"][1].as_object_mut().unwrap().remove("id");
        },
        Case {
            path: "components[1]",
            expect: &["missing field `id`"],
            needle: None,
        },
    );
}

#[test]
fn unknown_field() {
    check(
        "typo in component",
        |v| {
            let t = v["components"][0]
                .as_object_mut()
                .unwrap()
                .remove("tiers")
                .unwrap();
            v["components"][0]["tierz"] = t;
        },
        Case {
            path: "components[0].tierz",
            expect: &["unknown field `tierz`", "did you mean `tiers`"],
            needle: Some(("tierz", 0)),
        },
    );
    check(
        "typo at top level",
        |v| v["budgett"] = json!(5),
        Case {
            path: "budgett",
            expect: &["unknown field `budgett`", "did you mean `budget`"],
            needle: Some(("budgett", 0)),
        },
    );
    check(
        "typo in tier",
        |v| v["components"][0]["tiers"][1]["percentt"] = json!(3),
        Case {
            path: "components[0].tiers[1].percentt",
            expect: &["unknown field `percentt`"],
            needle: Some(("percentt", 0)),
        },
    );
}

#[test]
fn duplicate_ids() {
    check(
        "dup",
        |v| {
            v["components"][0]["id"] = json!("dupe_id");
            v["components"][2]["id"] = json!("dupe_id");
        },
        Case {
            path: "components[2].id",
            expect: &["dupe_id", "used twice"],
            needle: Some(("dupe_id", 1)),
        },
    );
}

#[test]
fn bad_currency() {
    check(
        "four letters",
        |v| v["currency"] = json!("EURO"),
        Case {
            path: "currency",
            expect: &["ISO 4217", "EURO"],
            needle: Some(("EURO", 0)),
        },
    );
    check(
        "unknown code",
        |v| v["currency"] = json!("XQZ"),
        Case {
            path: "currency",
            expect: &["XQZ", "decimals"],
            needle: Some(("XQZ", 0)),
        },
    );
}

#[test]
fn above_is_a_number_or_baseline() {
    check(
        "above word",
        |v| v["components"][2]["above"] = json!("baselinez"),
        Case {
            path: "components[2].above",
            expect: &["a number of units or \"baseline\"", "baselinez"],
            needle: Some(("baselinez", 0)),
        },
    );
    check(
        "above list",
        |v| v["components"][2]["above"] = json!([1, 2]),
        Case {
            path: "components[2].above",
            expect: &["a number of units or \"baseline\""],
            needle: None,
        },
    );
    for (above, ok) in [
        (json!("baseline"), true),
        (json!(12.5), true),
        (json!("12.5"), true),
        (json!(-1), false),
    ] {
        let mut v = base();
        v["components"][2]["above"] = above.clone();
        for format in FORMATS {
            assert_eq!(
                load(&render(&v, format), format).is_ok(),
                ok,
                "{above} {format:?}"
            );
        }
    }
}

#[test]
fn wrong_types() {
    check(
        "periods text",
        |v| v["periods"] = json!("four"),
        Case {
            path: "periods",
            expect: &["four"],
            needle: Some(("four", 0)),
        },
    );
    check(
        "percent text",
        |v| v["components"][0]["tiers"][0]["percent"] = json!("lots"),
        Case {
            path: "components[0].tiers[0].percent",
            expect: &["expected a number", "lots"],
            needle: Some(("lots", 0)),
        },
    );
    check(
        "period word",
        |v| v["period"] = json!("fortnight"),
        Case {
            path: "period",
            expect: &["fortnight", "month", "quarter"],
            needle: Some(("fortnight", 0)),
        },
    );
}

#[test]
fn other_rules() {
    check(
        "both rewards in a tier",
        |v| v["components"][0]["tiers"][1]["fixed"] = json!(250),
        Case {
            path: "components[0].tiers[1].fixed",
            expect: &["exactly one of"],
            needle: Some(("250", 0)),
        },
    );
    check(
        "mixed reward kinds",
        |v| v["components"][0]["tiers"][1] = json!({"from": 5000, "fixed": 250}),
        Case {
            path: "components[0].tiers[1].fixed",
            expect: &["same kind of reward"],
            needle: Some(("250", 0)),
        },
    );
    check(
        "bundle minimum outside the component's categories",
        |v| v["components"][1]["categories"] = json!(["hardware"]),
        Case {
            path: "components[1].minimums.software",
            expect: &["outside the component's own `categories`"],
            needle: None,
        },
    );
    check(
        "zero periods",
        |v| v["periods"] = json!(0),
        Case {
            path: "periods",
            expect: &["from 1 to 240"],
            needle: Some(("periods", 0)),
        },
    );
    check(
        "no components",
        |v| v["components"] = json!([]),
        Case {
            path: "components",
            expect: &["at least one component"],
            needle: None,
        },
    );
    check(
        "negative budget",
        |v| v["budget"] = json!(-5),
        Case {
            path: "budget",
            expect: &["positive"],
            needle: Some(("-5", 0)),
        },
    );
}

#[test]
fn syntax_errors_have_lines() {
    let cases = [
        (
            Format::Toml,
            "name = \"P\"\ncurrency = \"EUR\nstart = 2027-01-01\n",
            2,
        ),
        (
            Format::Json,
            "{\n  \"name\": \"P\",\n  \"currency\": \"EUR\"\n  \"start\": 1\n}\n",
            4,
        ),
        (
            Format::Yaml,
            "name: P\ncurrency: EUR\nstart: 2027-01-01\nperiod: quarter: x\n",
            4,
        ),
    ];
    for (format, text, line) in cases {
        let Err(Error::Programme(e)) = Programme::from_str(text, format, Some("f")) else {
            panic!("{format:?}")
        };
        assert_eq!(e.line, Some(line), "{format:?}: {e}");
    }
}

/// Hand-written files (inline tables, flow style) locate errors as precisely as generated ones.
#[test]
fn hand_written_files() {
    let head = "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n\n[[components]]\nid = \"v\"\nkind = \"volume\"\n";
    // a rule error inside an inline table
    let text = format!(
        "{head}tiers = [\n  {{ from = 100, percent = 1 }},\n  {{ from = 50, percent = 2 }},\n]\n"
    );
    let Err(Error::Programme(e)) = load(&text, Format::Toml) else {
        panic!()
    };
    assert_eq!(
        (e.path.as_str(), e.line, e.column),
        ("components[0].tiers[1].from", Some(12), Some(5)),
        "{e}"
    );
    // a type error inside an inline table
    let text = format!("{head}tiers = [\n  {{ from = 100, percent = \"much\" }},\n]\n");
    let Err(Error::Programme(e)) = load(&text, Format::Toml) else {
        panic!()
    };
    assert_eq!(
        (e.path.as_str(), e.line),
        ("components[0].tiers[0].percent", Some(11)),
        "{e}"
    );
    assert!(e.message.contains("\"much\""), "{e}");
    // [[components.tiers]] tables
    let text = format!("{head}[[components.tiers]]\nfrom = 100\npercent = 1\n[[components.tiers]]\nfrom = 100\npercent = 2\n");
    let Err(Error::Programme(e)) = load(&text, Format::Toml) else {
        panic!()
    };
    assert_eq!(
        (e.path.as_str(), e.line),
        ("components[0].tiers[1].from", Some(14)),
        "{e}"
    );
    // YAML flow style
    let text = "name: P\ncurrency: EUR\nstart: 2027-01-01\nperiod: quarter\nperiods: 4\ncomponents:\n- {id: v, kind: volume, tiers: [{from: 100, percent: 1}, {from: 200, percent: 101}]}\n";
    let Err(Error::Programme(e)) = load(text, Format::Yaml) else {
        panic!()
    };
    assert_eq!(
        (e.path.as_str(), e.line, e.column),
        ("components[0].tiers[1].percent", Some(7), Some(70)),
        "{e}"
    );
    // compact JSON on one line
    let text = r#"{"name": "P", "currency": "EUR", "start": "2027-01-01", "period": "quarter", "periods": 4, "components": [{"id": "v", "kind": "volume", "tiers": []}]}"#;
    let Err(Error::Programme(e)) = load(text, Format::Json) else {
        panic!()
    };
    assert_eq!(
        (e.path.as_str(), e.line, e.column),
        ("components[0].tiers", Some(1), Some(137)),
        "{e}"
    );
    // Programme::from_file reports the file name and line of a rule error
    let dir =
        std::env::temp_dir().join(format!("rebatesim-programme-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, format!("{head}tiers = []\n")).unwrap();
    let Err(Error::Programme(e)) = Programme::from_file(&path) else {
        panic!()
    };
    assert_eq!(e.file.as_deref(), Some(path.display().to_string().as_str()));
    assert_eq!(e.line, Some(10), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Degenerate documents are errors with a message, never a panic.
#[test]
fn degenerate_documents() {
    for format in FORMATS {
        for text in [
            "",
            "\n",
            "[]",
            "42",
            "null",
            "\"text\"",
            "{}",
            "name: [",
            "components = 3",
        ] {
            match Programme::from_str(text, format, Some("f")) {
                Err(Error::Programme(e)) => assert!(!e.message.is_empty(), "{format:?} {text:?}"),
                other => panic!("{format:?} {text:?}: {other:?}"),
            }
        }
    }
    let mut v = base();
    v["periods"] = json!(-4);
    let Err(Error::Programme(e)) = load(&render(&v, Format::Json), Format::Json) else {
        panic!()
    };
    assert!(e.message.contains("expected a whole number ≥ 0"), "{e}");
    let mut v = base();
    v["components"][0]["segments"] = json!("installer");
    let Err(Error::Programme(e)) = load(&render(&v, Format::Yaml), Format::Yaml) else {
        panic!()
    };
    assert!(e.message.contains("expected a list"), "{e}");
    assert_eq!(e.path, "components[0].segments");
}

/// A mistake in each of several components is reported at once: the error locates the first,
/// `also` the others (one per component, in document order), each with its own path, file and
/// line, and the message has a line for each. A mistake outside the components still stops the
/// check there.
#[test]
fn a_mistake_in_each_component_is_reported_at_once() {
    let mut v = base();
    v["components"][0]["tiers"][1]["from"] = json!(777);
    v["components"][1]["id"] = json!("dup");
    v["components"][2]["id"] = json!("dup");
    v["components"][3]["segments"] = json!(["retail", "wholesalez"]);
    for format in FORMATS {
        let text = render(&v, format);
        let Err(Error::Programme(e)) = load(&text, format) else {
            panic!("{format:?}: expected a programme error\n{text}");
        };
        let shown = Error::Programme(e.clone()).to_string();
        let found: Vec<(&str, Option<usize>)> =
            e.all().map(|p| (p.path.as_str(), p.line)).collect();
        let want = vec![
            (
                "components[0].tiers[1].from",
                Some(line_of(&text, "777", 0)),
            ),
            ("components[2].id", Some(line_of(&text, "dup", 1))),
            (
                "components[3].segments[1]",
                Some(line_of(&text, "wholesalez", 0)),
            ),
        ];
        assert_eq!(found, want, "{format:?}: {shown}\n{text}");
        assert!(
            e.further()[0].message.contains("'dup' is used twice"),
            "{shown}"
        );
        assert!(e.further()[1].message.contains("wholesalez"), "{shown}");
        let file = format!("programme.{}", ext(format));
        assert!(e
            .all()
            .all(|p| p.file.as_deref() == Some(file.as_str()) && p.column.is_some()));
        // the message: the first error, then a line for each further one
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 3, "{shown}");
        assert!(lines[0].starts_with("invalid programme: programme.") && lines[0].contains("777"));
        assert!(lines[1].starts_with("  also programme.") && lines[1].contains("components[2].id"));
        assert!(lines[2].contains("components[3].segments[1]: ") && lines[2].contains("line "));
    }
    // outside the components: the first mistake only
    let mut v = base();
    v["currency"] = json!("EURO");
    v["components"][0]["tiers"][1]["from"] = json!(777);
    let text = render(&v, Format::Toml);
    let Err(Error::Programme(e)) = load(&text, Format::Toml) else {
        panic!("expected a programme error");
    };
    assert_eq!(e.path, "currency");
    assert!(e.further().is_empty());
}
