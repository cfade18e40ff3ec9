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

const DISTRIBUTOR: &str = r#"
name = "Distributor 2027"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
segments = ["retail", "trade"]
categories = ["cable", "tools"]
budget = 60000
partner_cap = 40000
payment = { when = "period", lag_days = 30 }

[[components]]
id = "volume"
kind = "volume"
measure = "cumulative"
tiers = [{ from = 100000, percent = 1 }, { from = 500000, percent = 2.5 }, { from = 1000000, percent = 3.5 }]

[[components]]
id = "growth"
kind = "growth"
segments = ["trade"]
tiers = [{ from = 5, percent = 1 }, { from = 10, percent = 2 }]
exclusive_group = "extra"

[[components]]
id = "tools"
kind = "per_unit"
categories = ["tools"]
amount = 0.5
exclusive_group = "extra"

[[components]]
id = "pallet"
kind = "logistics"
min_quantity = 100
per_order = 25
"#;

const PARTNERS: &str = "partner_id,segment,baseline_revenue,baseline_units
P1,retail,3000000,
P2,trade,400000,2000
P3,trade,,
";

const TX: &str = "partner_id,date,quantity,revenue,category,order_id
P1,2027-01-10,1000,600000,cable,A1
P1,2027-02-10,500,400000,cable,A2
P1,2027-03-10,40,23400,tools,A3
P2,2027-01-15,120,60000,cable,B1
P2,2027-01-16,30,50000,tools,B2
P2,2027-04-15,200,40000,tools,B3
P2,2027-05-15,-20,-4000,tools,
P3,2027-07-01,10,1000,cable,
";

fn run(p: &str, partners: &str, tx: &str) -> Settlement {
    let p = programme(p);
    let partners = Partners::from_csv_str(partners, "partners").unwrap();
    let tx = Transactions::from_csv_str(tx, "transactions").unwrap();
    settle(&p, &partners, &tx).unwrap()
}

#[test]
fn lines_reconcile_and_explain() {
    let s = run(DISTRIBUTOR, PARTNERS, TX);
    for l in &s.lines {
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
    let total: Decimal = s.lines.iter().map(|l| l.payable).sum();
    assert_eq!(total, s.total.payable);
    let by: Decimal = s.by_partner().iter().map(|p| p.totals.payable).sum();
    assert_eq!(by, total);
    for l in &s.lines {
        println!(
            "{} {} {} calc {} pay {} :: {}",
            l.partner_id, l.component, l.period_label, l.calculated, l.payable, l.explanation
        );
    }
    println!("{}", s.explain("P1").unwrap());
    println!("{}", s.explain("P2").unwrap());
    println!("{:?}", s.standing);
    let q1 = s
        .lines
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
