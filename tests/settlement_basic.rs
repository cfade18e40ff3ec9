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
