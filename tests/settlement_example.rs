//! Settles the bundled distributor example (3,000 partners, 75,000 transactions): the data
//! is valid, lines reconcile with totals, and every partner can be explained.

use rebatesim::data::{Partners, Transactions};
use rebatesim::programme::{Format, Programme};
use rebatesim::settlement::settle;
use rust_decimal::Decimal;
use std::time::Instant;

#[test]
fn bundled_example_settles_and_reconciles() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/distributor");
    let p = Programme::from_file(format!("{dir}/programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let t0 = Instant::now();
    let partners = Partners::from_csv_path(format!("{dir}/partners.csv")).unwrap();
    let tx = Transactions::from_csv_path(format!("{dir}/transactions.csv")).unwrap();
    let t1 = Instant::now();
    let s = settle(&p, &partners, &tx).unwrap();
    let t2 = Instant::now();
    eprintln!(
        "read {} partners and {} transactions in {:?}; settled {} lines in {:?}; total payable {} (budget binding: {})",
        partners.len(),
        tx.len(),
        t1 - t0,
        s.line_count(),
        t2 - t1,
        s.total.payable,
        s.budget_binding
    );
    let sum: Decimal = s.lines().unwrap().iter().map(|l| l.payable).sum();
    assert_eq!(sum, s.total.payable);
    let by: Decimal = s.by_partner().iter().map(|p| p.totals.payable).sum();
    assert_eq!(by, sum);
    assert!(s.total.payable > Decimal::ZERO);
    if let Some(b) = p.budget {
        assert!(s.total.payable <= b);
    }
    let first = &s.by_partner()[0].partner_id;
    let text = s.explain(first).unwrap();
    assert!(text.contains("Total payable"));
    let csv = s.lines_csv().unwrap();
    assert_eq!(csv.lines().count(), s.line_count() + 1);
    let json: serde_json::Value = serde_json::from_str(&s.to_json().unwrap()).unwrap();
    assert_eq!(json["lines"].as_array().unwrap().len(), s.line_count());
}

#[test]
#[ignore]
fn print_example_statements() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/distributor");
    let p = Programme::from_file(format!("{dir}/programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let partners = Partners::from_csv_path(format!("{dir}/partners.csv")).unwrap();
    let tx = Transactions::from_csv_path(format!("{dir}/transactions.csv")).unwrap();
    let s = settle(&p, &partners, &tx).unwrap();
    for id in std::env::var("PARTNERS")
        .unwrap_or_default()
        .split(',')
        .filter(|x| !x.is_empty())
    {
        println!("{}", s.explain(id).unwrap());
    }
    s.write_csv("/tmp/ex/lines.csv").unwrap();
}

/// Throughput of the f64 kernel on the distributor programme (what the Monte Carlo engine
/// calls per partner and scenario): `cargo test --release --test settlement_example kernel -- --ignored --nocapture`.
#[test]
#[ignore]
fn kernel_f64_throughput() {
    use rebatesim::rules::{slot, Baseline, Prepared};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/distributor");
    let p = Programme::from_file(format!("{dir}/programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let prep: Prepared<f64> = Prepared::new(&p);
    let mut scratch = prep.scratch();
    let n = 10_000;
    let mut m = vec![0.0; prep.measure_len()];
    let active = vec![true; prep.components.len()];
    let mut checksum = 0.0;
    let scale: f64 = std::env::var("SCALE")
        .map(|s| s.parse().unwrap())
        .unwrap_or(300_000.0);
    let t = Instant::now();
    for i in 0..n {
        let x = (i as f64 * 0.618_033_988_7).fract();
        for c in 0..prep.components.len() {
            for k in 0..prep.periods {
                let v = 2_000.0 + scale * x * (1.0 + k as f64 * 0.1);
                for s in 0..prep.components[c].slots {
                    let logistics = matches!(
                        prep.components[c].rule,
                        rebatesim::rules::PreparedRule::Logistics { .. }
                    );
                    m[prep.index(c, k, s)] = match s {
                        slot::VOLUME if logistics => (x * 4.0).floor(),
                        slot::UNITS => v / 50.0,
                        _ => v,
                    };
                }
            }
        }
        let b = Baseline::annual(Some(400_000.0 * x + 1.0), Some(5_000.0 * x + 1.0));
        prep.settle_partner(&m, &active, &b, &mut scratch);
        checksum += scratch.total(prep.periods - 1);
    }
    let dt = t.elapsed();
    eprintln!(
        "{n} partners × {} components × {} periods in {dt:?}: {:.2} µs per partner-year (checksum {checksum:.2})",
        prep.components.len(),
        prep.periods,
        dt.as_secs_f64() * 1e6 / n as f64
    );
}

/// Partners are measured in blocks on the thread pool: the same lines, partner totals,
/// standings and JSON for one thread and for four (3,000 partners: three blocks).
#[test]
fn the_same_settlement_for_any_number_of_threads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/distributor");
    let p = Programme::from_file(format!("{dir}/programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let partners = Partners::from_csv_path(format!("{dir}/partners.csv")).unwrap();
    let tx = Transactions::from_csv_path(format!("{dir}/transactions.csv")).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let s = pool.install(|| settle(&p, &partners, &tx)).unwrap();
        (
            s.lines_csv().unwrap(),
            s.partners_csv(),
            s.standings_csv(),
            s.to_json().unwrap(),
        )
    };
    let one = run(1);
    assert!(one.0.lines().count() > 10_000);
    assert_eq!(one, run(4));
}

/// Two partners whose rebates overflow `Decimal`, in different blocks of partners: the error
/// names the first in id order, whatever the thread that finished first.
#[test]
fn an_overflow_names_the_first_partner_in_id_order() {
    let p = Programme::from_str(
        "name = \"x\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n[[components]]\nid = \"pu\"\nkind = \"per_unit\"\namount = 99999999999999\n",
        Format::Toml,
        None,
    )
    .unwrap()
    .compile()
    .unwrap();
    let mut partners = String::from("partner_id\n");
    let mut tx = String::from("partner_id,date,quantity,revenue\n");
    for i in 0..3000 {
        partners.push_str(&format!("P{i:05}\n"));
        let q = if i == 1500 || i == 2900 {
            "999999999999999"
        } else {
            "1"
        };
        tx.push_str(&format!("P{i:05},2027-03-01,{q},10\n"));
        if i == 1500 || i == 2900 {
            tx.push_str(&format!("P{i:05},2027-03-02,{q},10\n"));
        }
    }
    let partners = Partners::from_csv_str(&partners, "partners.csv").unwrap();
    let tx = Transactions::from_csv_str(&tx, "tx.csv").unwrap();
    for threads in [1, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let e = pool.install(|| settle(&p, &partners, &tx)).unwrap_err();
        assert!(
            e.to_string().contains("partner 'P01500', component 'pu'"),
            "{threads} threads: {e}"
        );
    }
}
