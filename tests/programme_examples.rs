//! The bundled examples: every programme file in `examples/` validates, the distributor
//! programme is the same in TOML, JSON and YAML (the JSON and YAML files are generated
//! from the TOML by a round trip), and its data set exercises every component.
//!
//! To regenerate `programme.json` and `programme.yaml` after editing `programme.toml`:
//! `REBATESIM_BLESS=1 cargo test --test programme_examples`.

use rebatesim::data::{Partners, Transactions};
use rebatesim::programme::{Format, Programme};
use rebatesim::settlement::settle;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn distributor(file: &str) -> PathBuf {
    examples().join("distributor").join(file)
}

/// Programme files under `dir`: `programme*.toml|json|yaml|yml`.
fn programme_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            programme_files(&path, out);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("programme"))
            && matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("toml" | "json" | "yaml" | "yml")
            )
        {
            out.push(path);
        }
    }
}

#[test]
fn every_example_programme_validates() {
    let mut files = Vec::new();
    programme_files(&examples(), &mut files);
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let p = Programme::from_file(&f).unwrap_or_else(|e| panic!("{e}"));
        p.compile()
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
}

#[test]
fn distributor_programme_is_the_same_in_every_format() {
    let toml = Programme::from_file(distributor("programme.toml")).unwrap();
    let bless = std::env::var_os("REBATESIM_BLESS").is_some();
    for (file, format) in [
        ("programme.json", Format::Json),
        ("programme.yaml", Format::Yaml),
    ] {
        let expected = toml.to_string(format).unwrap();
        let path = distributor(file);
        if bless {
            std::fs::write(&path, &expected).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, expected, "{file} is not generated from programme.toml: run REBATESIM_BLESS=1 cargo test --test programme_examples");
        assert_eq!(Programme::from_file(&path).unwrap(), toml, "{file}");
    }
}

#[test]
fn distributor_programme_shape() {
    let c = Programme::from_file(distributor("programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    assert_eq!(c.currency, "EUR");
    assert_eq!(c.calendar.periods, 4);
    assert_eq!(c.segments, ["installer", "retail", "online"]);
    let kinds: std::collections::HashSet<_> = c
        .components
        .iter()
        .map(|c| std::mem::discriminant(&c.rule))
        .collect();
    assert_eq!(kinds.len(), 5, "every component kind");
    assert!(c.budget.is_some() && c.partner_cap.is_some() && c.minimum_payout.is_some());
    assert!(c.components.iter().any(|c| c.exclusive_group.is_some()));
    assert!(c.components.iter().any(|c| c.cap.is_some()));
}

/// The data set gives every component, every tier of every ladder, caps, the exclusive
/// group, the minimum payout, claw-backs and the budget something to do.
#[test]
fn distributor_data_exercises_every_component() {
    let programme = Programme::from_file(distributor("programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let partners = Partners::from_csv_path(distributor("partners.csv")).unwrap();
    let tx = Transactions::from_csv_path(distributor("transactions.csv")).unwrap();
    assert!(
        (2500..=3500).contains(&partners.len()),
        "{}",
        partners.len()
    );
    let s = settle(&programme, &partners, &tx).unwrap();
    let lines = s.lines().unwrap();

    let mut paid: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut tiers: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for l in &lines {
        *paid.entry(&l.component).or_default() += l.calculated;
        tiers.entry(&l.component).or_default().insert(l.tier);
    }
    for c in &programme.components {
        assert!(
            paid.get(c.id.as_str()).is_some_and(|v| *v > Decimal::ZERO),
            "{} pays nothing",
            c.id
        );
        if let rebatesim::programme::Rule::Volume { tiers: t, .. }
        | rebatesim::programme::Rule::Growth { tiers: t, .. } = &c.rule
        {
            let reached = &tiers[c.id.as_str()];
            for k in 0..=t.len() as u32 {
                assert!(
                    reached.contains(&k),
                    "{}: no partner-period at tier {k} ({reached:?})",
                    c.id
                );
            }
        }
    }
    println!("totals {:?}; calculated by component: {:?}", s.total, paid);
    let nonzero = |f: fn(&rebatesim::settlement::Line) -> Decimal| {
        s.lines().unwrap().iter().any(|l| f(l) != Decimal::ZERO)
    };
    assert!(
        nonzero(|l| l.adj_component_cap),
        "component cap never binds"
    );
    assert!(
        nonzero(|l| l.adj_exclusive_group),
        "exclusive group never matters"
    );
    assert!(nonzero(|l| l.adj_partner_cap), "partner cap never binds");
    assert!(
        nonzero(|l| l.adj_minimum_payout),
        "minimum payout never matters"
    );
    assert!(
        s.lines()
            .unwrap()
            .iter()
            .any(|l| l.calculated < Decimal::ZERO),
        "no claw-back"
    );
    assert!(s.budget_binding, "budget does not bind");
    assert_eq!(s.total.payable, programme.budget.unwrap());
}
