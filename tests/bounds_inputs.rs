//! Issue 13 §3, inputs: no programme, model or table can crash the process, hang it or exhaust
//! its memory. Deeply nested or alias-expanded documents, files that are not regular files,
//! huge counts of components / tiers / segments / categories / orders and dates beyond what
//! the outputs can represent are refused with an error naming the field or file position; the
//! errors of a programme are located in one pass.

use rebatesim::demand::Model;
use rebatesim::limits;
use rebatesim::population::Population;
use rebatesim::programme::{Format, Programme};
use rebatesim::Error;

// ------------------------------------------------------------------ documents

fn programme_err(text: &str, format: Format) -> String {
    match Programme::from_str(text, format, Some("p")) {
        Err(e) => e.to_string(),
        Ok(p) => match p.compile_located(text, format, Some("p")) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted"),
        },
    }
}

#[test]
fn deep_nesting_is_refused_with_its_position() {
    let n = 200_000;
    let yaml = format!("name: {}1{}\n", "[".repeat(n), "]".repeat(n));
    let e = programme_err(&yaml, Format::Yaml);
    assert!(
        e.contains("p, line 1, column ") && e.contains("nested more than 64 levels deep"),
        "{e}"
    );
    let block: String = (0..n / 100)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    assert!(programme_err(&block, Format::Yaml).contains("line 65, column 65: nested more than 64"));
    let json = format!("{{\"name\": {}1{}}}", "[".repeat(n), "]".repeat(n));
    assert!(programme_err(&json, Format::Json).contains("line 1, column 73: nested more than 64"));
    let toml = format!("name = {}1{}\n", "[".repeat(n), "]".repeat(n));
    assert!(programme_err(&toml, Format::Toml).contains("line 1, column 72: nested more than 64"));
    let toml = format!("{} = 1\n", vec!["k"; n].join("."));
    assert!(programme_err(&toml, Format::Toml).contains("nested more than 64"));
    // a model too
    let e = Model::from_str(&yaml, Format::Yaml, Some("m.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid demand model: m.yaml, line 1, column "),
        "{e}"
    );
    assert!(e.contains("nested more than 64"), "{e}");
    // just past the limit, at the level that passes it
    let yaml = format!("name: {}1{}\n", "[".repeat(64), "]".repeat(64));
    assert!(
        programme_err(&yaml, Format::Yaml).contains("p, line 1, column 70: nested more than 64")
    );
}

/// A YAML programme of `components` components, each `tiers: *ladder` of one `tiers`-tier
/// ladder.
fn aliased(components: usize, tiers: usize) -> String {
    let mut t = String::from("name: P\ncurrency: EUR\nstart: 2027-01-01\nladder: &l\n");
    for j in 0..tiers {
        t.push_str(&format!("  - {{from: {j}, percent: 1}}\n"));
    }
    t.push_str("components:\n");
    for i in 0..components {
        t.push_str(&format!("  - {{id: c{i}, kind: volume, tiers: *l}}\n"));
    }
    t
}

#[test]
fn alias_expansion_is_bounded() {
    // 1,000 components sharing a 1,000-tier ladder: 141 KB standing for 3 million values
    let t = aliased(1_000, 1_000);
    assert!(t.len() < 150_000);
    let e = programme_err(&t, Format::Yaml);
    assert!(
        e.contains("more than 1000000 values once its aliases (*name) are expanded"),
        "{e}"
    );
    // shared ladders within the limits are fine (the unknown `ladder` key aside)
    let e = programme_err(&aliased(3, 4), Format::Yaml);
    assert!(e.contains("unknown field `ladder`"), "{e}");
}

#[test]
fn every_component_error_is_located_in_one_pass() {
    // 1,000 components (the maximum), each with one mistake: all reported, each at its line
    let mut t = String::from(
        "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n",
    );
    for i in 0..limits::MAX_COMPONENTS {
        t.push_str(&format!(
            "[[components]]\nid = \"c{i}\"\nkind = \"volume\"\ntiers = [{{ from = 0, percent = 101 }}]\n"
        ));
    }
    let p = Programme::from_str(&t, Format::Toml, Some("p.toml")).unwrap();
    let Err(Error::Programme(fe)) = p.compile_located(&t, Format::Toml, Some("p.toml")) else {
        panic!("accepted")
    };
    let all: Vec<_> = fe.all().collect();
    assert_eq!(all.len(), limits::MAX_COMPONENTS);
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.path, format!("components[{i}].tiers[0].percent"));
        assert_eq!((e.line, e.column), (Some(9 + 4 * i), Some(22)), "{e}");
    }
    // the same in YAML and JSON
    let v = p.to_value().unwrap();
    for format in [Format::Json, Format::Yaml] {
        let text = match format {
            Format::Json => serde_json::to_string_pretty(&v).unwrap(),
            _ => p.to_string(format).unwrap(),
        };
        let p2 = Programme::from_str(&text, format, None).unwrap();
        let Err(Error::Programme(fe)) = p2.compile_located(&text, format, None) else {
            panic!("accepted")
        };
        let lines: Vec<_> = fe.all().map(|e| e.line.unwrap()).collect();
        assert_eq!(lines.len(), limits::MAX_COMPONENTS);
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "{format:?}");
    }
}

#[test]
fn huge_counts_are_refused_naming_the_field() {
    let head =
        "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n";
    let comp = |i: usize, tiers: usize| {
        let t: Vec<String> = (0..tiers)
            .map(|j| format!("{{ from = {j}, percent = 1 }}"))
            .collect();
        format!(
            "[[components]]\nid = \"c{i}\"\nkind = \"volume\"\ntiers = [{}]\n",
            t.join(", ")
        )
    };
    let e = programme_err(
        &format!(
            "{head}{}",
            (0..1001).map(|i| comp(i, 1)).collect::<String>()
        ),
        Format::Toml,
    );
    assert!(
        e.contains("components: expected at most 1000 components, found 1001"),
        "{e}"
    );
    let e = programme_err(&format!("{head}{}", comp(0, 1001)), Format::Toml);
    assert!(
        e.contains(
            "line 9, column 1: components[0].tiers: expected at most 1000 tiers, found 1001"
        ),
        "{e}"
    );
    let e = programme_err(
        &format!(
            "{head}{}",
            (0..11).map(|i| comp(i, 1000)).collect::<String>()
        ),
        Format::Toml,
    );
    assert!(
        e.contains("expected at most 10000 tiers over all ladders, found 11000"),
        "{e}"
    );
    for key in ["segments", "categories"] {
        let names: Vec<String> = (0..1001).map(|i| format!("\"s{i}\"")).collect();
        let e = programme_err(
            &format!("{head}{key} = [{}]\n{}", names.join(", "), comp(0, 1)),
            Format::Toml,
        );
        assert!(
            e.contains(&format!(
                "line 6, column 1: {key}: expected at most 1000 {key}, found 1001"
            )),
            "{e}"
        );
    }
    // orders a partner-month: at most 1,000 (every order is drawn and settled)
    let e = Model::from_str("[orders]\nper_month = 1001\n", Format::Toml, Some("m.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2, column 1: orders.per_month"), "{e}");
    assert!(Model::from_str("[orders]\nper_month = 1000\n", Format::Toml, None).is_ok());
    let e = Model::from_str(
        "[orders]\nsegments = { big = 5000 }\n",
        Format::Toml,
        Some("m.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("orders.segments.big"), "{e}");
}

// ------------------------------------------------------------------ files

#[cfg(unix)]
#[test]
fn only_regular_files_are_read() {
    let dir = std::env::temp_dir().join(format!("rebatesim-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo.toml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let zero = std::path::Path::new("/dev/zero");
    let folder = dir.join("folder.toml");
    std::fs::create_dir_all(&folder).unwrap();
    let io = |r: Result<(), Error>| match r {
        Err(Error::Io { message, .. }) => message,
        other => panic!("expected a file error, got {other:?}"),
    };
    for path in [zero, fifo.as_path(), folder.as_path()] {
        let m = io(Programme::from_file(path).map(|_| ()));
        assert!(m.contains("expected a programme file"), "{m}");
        let m = io(Model::from_file(path).map(|_| ()));
        assert!(m.contains("expected a demand model file"), "{m}");
        let m = io(rebatesim::data::Transactions::from_csv_path(path).map(|_| ()));
        assert!(m.contains("expected a transaction table"), "{m}");
        let m = io(rebatesim::data::Partners::from_csv_path(path).map(|_| ()));
        assert!(m.contains("expected a partner table"), "{m}");
        let m = io(Population::from_csv_path(path).map(|_| ()));
        assert!(m.contains("expected a partner table"), "{m}");
        let m = io(rebatesim::forecast::PriorAccruals::from_csv_path(path).map(|_| ()));
        assert!(m.contains("expected a prior accruals table"), "{m}");
    }
    // a programme file above 16 MiB
    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b'#'; limits::MAX_DOCUMENT_BYTES + 10]).unwrap();
    let m = io(Programme::from_file(&big).map(|_| ()));
    assert!(m.contains("larger than 16 MiB"), "{m}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ------------------------------------------------------------------ dates

#[test]
fn dates_stay_within_what_every_output_can_represent() {
    let prog = |start: &str, extra: &str| {
        format!(
            "name = \"P\"\ncurrency = \"EUR\"\nstart = {start}\nperiod = \"month\"\nperiods = 12\n{extra}[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{{ from = 0, percent = 1 }}]\n"
        )
    };
    let e = programme_err(&prog("0000-01-01", ""), Format::Toml);
    assert!(
        e.contains(
            "line 3, column 1: start: expected a start date from 1900-01-01 on, found 0000-01-01"
        ),
        "{e}"
    );
    assert!(programme_err(&prog("1899-12-31", ""), Format::Toml).contains("start:"));
    let e = programme_err(&prog("9999-01-01", ""), Format::Toml);
    assert!(
        e.contains(
            "start: the programme starting 9999-01-01 with 12 periods would end after 2261-12-31"
        ),
        "{e}"
    );
    // the last supported year, paid on its last day
    let ok = prog("2261-01-01", "");
    let p = Programme::from_str(&ok, Format::Toml, None).unwrap();
    let c = p.compile().unwrap();
    assert_eq!(c.payment_date(11).to_string(), "2261-12-31");
    let first = Programme::from_str(&prog("1900-01-01", ""), Format::Toml, None).unwrap();
    assert!(first.compile().is_ok());
    // a lag past the last date
    let e = programme_err(
        &prog("2261-01-01", "payment = { lag_days = 1 }\n"),
        Format::Toml,
    );
    assert!(
        e.contains("line 6, column 13: payment.lag_days: the last payment (1 days after the programme ends on 2261-12-31) would fall after 2261-12-31"),
        "{e}"
    );
    let e = programme_err(
        &prog(
            "2261-01-01",
            "payment = { when = \"end\", lag_days = 30 }\n",
        ),
        Format::Toml,
    );
    assert!(e.contains("payment.lag_days"), "{e}");
    // transaction dates
    for d in ["0001-01-01", "1899-12-31", "2262-01-01", "9999-12-31"] {
        let t = rebatesim::data::Transactions::from_csv_str(
            &format!("partner_id,date,quantity,revenue\nA,2027-01-15,1,1000\nA,{d},1,1000\n"),
            "transactions.csv",
        );
        let e = t.unwrap_err().to_string();
        assert!(
            e.contains(&format!("transactions.csv, row 2, column 'date': date {d} is outside the dates rebatesim supports (1900-01-01 to 2261-12-31)")),
            "{e}"
        );
    }
}

/// TOML integers beyond i64 reach the programme as i128: they were refused with serde's
/// "invalid type: integer `…` as i128, expected a number"; now they are numbers, and the
/// programme's bound (10^15) names the field and what is allowed, whether the integer fits
/// `Decimal` (79228162514264337593543950335, its maximum) or not (10^30).
#[test]
fn huge_toml_integers_are_refused_with_the_bound() {
    let base = "name = \"Mini\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n\n[[components]]\nid = \"volume\"\nkind = \"volume\"\ntiers = [{ from = 1000, percent = 1 }, { from = FROM, percent = 2 }]\n";
    for big in [
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "1000000000000000000000000000000",
        "170141183460469231731687303715884105727",
        "10000000000000000000",
    ] {
        let text = base.replace("FROM", big);
        let e = programme_err(&text, Format::Toml);
        assert!(!e.contains("i128") && !e.contains("u128"), "{big}: {e}");
        assert!(
            e.contains("expected a number smaller than 10^15 in magnitude (1,000,000,000,000,000)"),
            "{big}: {e}"
        );
        assert!(e.contains("from") || e.contains("line 10"), "{big}: {e}");
    }
}
