//! End-to-end settlement: lines, reconciliation, explanations, standing, CSV/JSON, order
//! independence.

use rebatesim::data::{Partners, Transactions};
use rebatesim::programme::{Compiled, Format, Programme};
use rebatesim::settlement::{settle, Settlement};
use rust_decimal::Decimal;

fn programme(text: &str) -> Compiled {
    Programme::from_str(text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

// The small distributor fixture shared with the Python tests (tests/python/conftest.py).
const DISTRIBUTOR: &str = include_str!("fixtures/small/programme.toml");
const PARTNERS: &str = include_str!("fixtures/small/partners.csv");
const TX: &str = include_str!("fixtures/small/transactions.csv");

fn run(p: &str, partners: &str, tx: &str) -> Settlement {
    let p = programme(p);
    let partners = Partners::from_csv_str(partners, "partners").unwrap();
    let tx = Transactions::from_csv_str(tx, "transactions").unwrap();
    settle(&p, &partners, &tx).unwrap()
}

#[test]
fn lines_reconcile_and_explain() {
    let s = run(DISTRIBUTOR, PARTNERS, TX);
    for l in &s.lines().unwrap() {
        assert_eq!(
            l.calculated
                + l.adj_component_cap
                + l.adj_exclusive_group
                + l.adj_partner_cap
                + l.adj_minimum_payout
                + l.adj_budget_cut,
            l.payable
        );
    }
    let total: Decimal = s.lines().unwrap().iter().map(|l| l.payable).sum();
    assert_eq!(total, s.total.payable);
    let by: Decimal = s.by_partner().iter().map(|p| p.totals.payable).sum();
    assert_eq!(by, total);
    for l in &s.lines().unwrap() {
        println!(
            "{} {} {} calc {} pay {} :: {}",
            l.partner_id, l.component, l.period_label, l.calculated, l.payable, l.explanation
        );
    }
    println!("{}", s.explain("P1").unwrap());
    println!("{}", s.explain("P2").unwrap());
    println!("{:?}", s.standing);
    let lines = s.lines().unwrap();
    let q1 = lines
        .iter()
        .find(|l| l.partner_id == "P1" && l.component == "volume" && l.period == 1)
        .unwrap();
    assert!(q1.explanation.starts_with("reached tier 3 (1,000,000.00) with 1,023,400.00 revenue to date; 3.5% retroactive on all 1,023,400.00 = 35,819.00"), "{}", q1.explanation);
    assert!(s
        .explain("nobody")
        .unwrap_err()
        .to_string()
        .contains("'nobody'"));
}

/// A partner's lines and statement are found by its id among partners sorted in byte order
/// ("P10" before "P2", "Ä" after "Z"), and an id between two partners' is unknown.
#[test]
fn partners_found_by_id_in_byte_order() {
    let ids = ["P2", "P10", "Z", "Ä", "P1", "p1"];
    let partners: String = ids.iter().map(|id| format!("{id}\n")).collect();
    let tx: String = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("{id},2027-02-01,1,{}\n", 1000 * (i + 1)))
        .collect();
    let p = programme(
        r#"
name = "Find"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 1
[[components]]
id = "vol"
kind = "volume"
tiers = [{ from = 0, percent = 1 }]
"#,
    );
    let partners = Partners::from_csv_str(&format!("partner_id\n{partners}"), "partners").unwrap();
    let tx = Transactions::from_csv_str(
        &format!("partner_id,date,quantity,revenue\n{tx}"),
        "transactions",
    )
    .unwrap();
    let s = settle(&p, &partners, &tx).unwrap();
    let sorted: Vec<&str> = s
        .by_partner()
        .iter()
        .map(|t| t.partner_id.as_str())
        .collect();
    assert_eq!(sorted, ["P1", "P10", "P2", "Z", "p1", "Ä"]);
    for (i, id) in ids.iter().enumerate() {
        let lines = s.partner_lines(id).unwrap();
        assert_eq!(lines.len(), 1, "{id}");
        assert_eq!(lines[0].partner_id, *id);
        // 1% of 1,000 × (position in the table + 1)
        assert_eq!(
            lines[0].payable,
            Decimal::new(1000 * (i as i64 + 1), 2),
            "{id}"
        );
        assert!(s.explain(id).is_ok(), "{id}");
    }
    for unknown in ["", "P", "P100", "P3", "Y", "Ö", "zz"] {
        assert!(s.partner_lines(unknown).is_err(), "{unknown}");
    }
}
