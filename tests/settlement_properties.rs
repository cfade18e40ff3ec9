//! Property tests of the settlement semantics: monotone ladders, incremental ≤ retroactive,
//! the budget cut, reconciliation, order independence, and the f64 kernel agreeing with the
//! exact one to the cent.

use proptest::prelude::*;
use rebatesim::data::{Partners, Transactions};
use rebatesim::money::Rounding;
use rebatesim::programme::{Basis, Compiled, Format, Programme, TierMethod};
use rebatesim::rules::{
    allocate_into, ladder_terms, slot, Amount, Baseline, PTier, Prepared, RewardKind,
};
use rebatesim::settlement::settle;
use rust_decimal::prelude::*;

/// Increasing thresholds with non-decreasing percent rates.
fn ladder() -> impl Strategy<Value = Vec<PTier<Decimal>>> {
    prop::collection::vec((1u32..50_000, 0u32..300), 1..5).prop_map(|steps| {
        let (mut t, mut r) = (0u64, 0u32);
        steps
            .into_iter()
            .map(|(dt, dr)| {
                t += dt as u64;
                r += dr;
                PTier {
                    threshold: Decimal::from(t),
                    kind: RewardKind::Rate,
                    value: Decimal::new(r as i64, 4),
                }
            })
            .collect()
    })
}

fn amount(tiers: &[PTier<Decimal>], method: TierMethod, v: Decimal) -> Decimal {
    let a = ladder_terms(
        tiers,
        method,
        Basis::Revenue,
        None,
        v,
        v,
        Decimal::ZERO,
        |_, _, _| {},
    )
    .0;
    Rounding::HalfUp.round(a, 2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn payout_never_falls_when_volume_rises(tiers in ladder(), a in 0i64..30_000_000, b in 0i64..30_000_000) {
        let (lo, hi) = (Decimal::new(a.min(b), 2), Decimal::new(a.max(b), 2));
        for m in [TierMethod::Retroactive, TierMethod::Incremental] {
            prop_assert!(amount(&tiers, m, lo) <= amount(&tiers, m, hi), "{m:?} {lo} {hi}");
        }
    }

    #[test]
    fn incremental_never_pays_more_than_retroactive(tiers in ladder(), v in 0i64..30_000_000) {
        let v = Decimal::new(v, 2);
        prop_assert!(amount(&tiers, TierMethod::Incremental, v) <= amount(&tiers, TierMethod::Retroactive, v));
    }

    #[test]
    fn allocation_sums_exactly_in_decimal_and_f64(
        weights in prop::collection::vec(0i64..10_000_000, 1..40),
        budget in 1i64..100_000_000,
    ) {
        let w: Vec<Decimal> = weights.iter().map(|x| Decimal::new(*x, 2)).collect();
        let total = Decimal::new(budget, 2);
        let mut out = vec![Decimal::ZERO; w.len()];
        allocate_into(total, &w, 2, &mut out, &mut Vec::new());
        prop_assert_eq!(out.iter().copied().sum::<Decimal>(), total);
        let wf: Vec<f64> = weights.iter().map(|x| *x as f64 / 100.0).collect();
        let mut outf = vec![0.0; w.len()];
        allocate_into(budget as f64 / 100.0, &wf, 2, &mut outf, &mut Vec::new());
        let sum: f64 = outf.iter().sum();
        prop_assert!((sum - budget as f64 / 100.0).abs() < 1e-6);
        for (d, f) in out.iter().zip(&outf) {
            prop_assert_eq!(d.minor_units(2), f.minor_units(2));
        }
    }
}

/// A programme exercising every stage: a cumulative ladder, a per-period ladder with a cap
/// in an exclusive group with a per-unit component, a logistics component, optional partner
/// cap, minimum payout and budget.
fn programme(
    method: &str,
    partner_cap: Option<u32>,
    minimum: Option<u32>,
    budget: Option<u32>,
) -> String {
    let mut head = String::new();
    if let Some(c) = partner_cap {
        head += &format!("partner_cap = {c}\n");
    }
    if let Some(m) = minimum {
        head += &format!("minimum_payout = {m}\n");
    }
    if let Some(b) = budget {
        head += &format!("budget = {b}\n");
    }
    format!(
        r#"name = "P"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
categories = ["a", "b"]
{head}
[[components]]
id = "cum"
kind = "volume"
measure = "cumulative"
method = "{method}"
tiers = [{{ from = 1000, percent = 1.5 }}, {{ from = 5000, percent = 2.25 }}, {{ from = 20000, percent = 3.1 }}]

[[components]]
id = "per"
kind = "volume"
method = "{method}"
cap = 300
exclusive_group = "x"
categories = ["a"]
tiers = [{{ from = 500, percent = 2 }}, {{ from = 3000, percent = 4.5 }}]

[[components]]
id = "units"
kind = "per_unit"
amount = 0.35
above = 5
exclusive_group = "x"

[[components]]
id = "pallet"
kind = "logistics"
min_quantity = 20
percent = 1.25
"#
    )
}

#[derive(Debug, Clone)]
struct Row {
    partner: usize,
    day: u32,
    quantity: i32,
    cents: i64,
    cat: bool,
    order: u8,
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            0usize..6,
            0u32..365,
            -5i32..40,
            -50_000i64..1_500_000,
            any::<bool>(),
            0u8..6,
        )
            .prop_map(|(partner, day, quantity, cents, cat, order)| Row {
                partner,
                day,
                quantity,
                cents,
                cat,
                order,
            }),
        0..60,
    )
}

fn tx_csv(rows: &[Row]) -> String {
    let mut s = String::from("partner_id,date,quantity,revenue,category,order_id\n");
    let start = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    for r in rows {
        let d = start + chrono::Days::new(r.day as u64);
        let order = if r.order == 0 {
            String::new()
        } else {
            format!("O{}-{}", r.partner, r.order)
        };
        s += &format!(
            "P{},{d},{},{},{},{order}\n",
            r.partner,
            r.quantity,
            Decimal::new(r.cents, 2),
            if r.cat { "a" } else { "b" }
        );
    }
    s
}

fn partners_csv(order: &[usize]) -> String {
    let mut s = String::from("partner_id,segment\n");
    for p in order {
        s += &format!("P{p},\n");
    }
    s
}

fn compile(text: &str) -> Compiled {
    Programme::from_str(text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

fn config() -> impl Strategy<Value = (String, Option<u32>, Option<u32>, Option<u32>)> {
    (
        prop::sample::select(vec!["retroactive", "incremental", "rolling", "total"]),
        prop::option::of(100u32..2000),
        prop::option::of(10u32..400),
        prop::option::of(100u32..5000),
    )
        .prop_map(|(m, c, mi, b)| (m.to_owned(), c, mi, b))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn budget_is_never_exceeded_and_lines_reconcile(cfg in config(), rows in rows()) {
        let p = compile(&programme(&cfg.0, cfg.1, cfg.2, cfg.3));
        let partners = Partners::from_csv_str(&partners_csv(&[0, 1, 2, 3, 4, 5]), "partners").unwrap();
        let tx = Transactions::from_csv_str(&tx_csv(&rows), "transactions").unwrap();
        let s = settle(&p, &partners, &tx).unwrap();
        for l in &s.lines().unwrap() {
            prop_assert_eq!(
                l.calculated + l.adj_component_cap + l.adj_exclusive_group + l.adj_partner_cap + l.adj_minimum_payout + l.adj_budget_cut,
                l.payable
            );
        }
        let sum: Decimal = s.lines().unwrap().iter().map(|l| l.payable).sum();
        prop_assert_eq!(sum, s.total.payable);
        for pt in s.by_partner() {
            let own: Decimal = s.lines().unwrap().iter().filter(|l| l.partner_id == pt.partner_id).map(|l| l.payable).sum();
            prop_assert_eq!(own, pt.totals.payable);
            if let Some(cap) = cfg.1 {
                prop_assert!(own <= Decimal::from(cap));
            }
        }
        let before_budget: Decimal = s.lines().unwrap().iter().map(|l| l.payable - l.adj_budget_cut).sum();
        if let Some(b) = cfg.3 {
            let b = Decimal::from(b);
            for k in 1..=4 {
                let to_date: Decimal = s.lines().unwrap().iter().filter(|l| l.period <= k).map(|l| l.payable).sum();
                prop_assert!(to_date <= b, "period {k}: {to_date} > {b}");
            }
            if before_budget > b {
                prop_assert_eq!(s.total.payable, b);
            } else {
                prop_assert_eq!(s.total.payable, before_budget);
            }
        }
    }

    #[test]
    fn order_never_matters(cfg in config(), rows in rows(), seed in any::<u64>()) {
        let p = compile(&programme(&cfg.0, cfg.1, cfg.2, cfg.3));
        let partners = Partners::from_csv_str(&partners_csv(&[0, 1, 2, 3, 4, 5]), "partners").unwrap();
        let s1 = settle(&p, &partners, &Transactions::from_csv_str(&tx_csv(&rows), "transactions").unwrap()).unwrap();
        // shuffle rows, partners and the components in the file
        let mut rng = seed;
        let mut next = |n: usize| { rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((rng >> 33) as usize) % n.max(1) };
        let mut shuffled = rows.clone();
        for i in (1..shuffled.len()).rev() { let j = next(i + 1); shuffled.swap(i, j); }
        let mut order = vec![0, 1, 2, 3, 4, 5];
        for i in (1..order.len()).rev() { let j = next(i + 1); order.swap(i, j); }
        let text = programme(&cfg.0, cfg.1, cfg.2, cfg.3);
        let (head, comps) = text.split_at(text.find("[[components]]").unwrap());
        let mut parts: Vec<&str> = comps.split("[[components]]").filter(|s| !s.trim().is_empty()).collect();
        for i in (1..parts.len()).rev() { let j = next(i + 1); parts.swap(i, j); }
        let text2 = format!("{head}{}", parts.iter().map(|c| format!("[[components]]{c}")).collect::<String>());
        let p2 = compile(&text2);
        let partners2 = Partners::from_csv_str(&partners_csv(&order), "partners").unwrap();
        let s2 = settle(&p2, &partners2, &Transactions::from_csv_str(&tx_csv(&shuffled), "transactions").unwrap()).unwrap();
        prop_assert_eq!(s1.lines().unwrap(), s2.lines().unwrap());
        prop_assert_eq!(s1.by_partner(), s2.by_partner());
    }

    /// The f64 kernel (the Monte Carlo engine's) agrees with the exact kernel to the cent on
    /// every component and period, through every stage before the budget.
    #[test]
    fn f64_kernel_agrees_to_the_cent(cfg in config(), cents in prop::collection::vec((0i64..2_000_000, 0i64..60), 16)) {
        let p = compile(&programme(&cfg.0, cfg.1, cfg.2, cfg.3));
        let dec: Prepared<Decimal> = Prepared::new(&p);
        let flt: Prepared<f64> = Prepared::new(&p);
        let mut md = vec![Decimal::ZERO; dec.measure_len()];
        let mut mf = vec![0.0; flt.measure_len()];
        for c in 0..4 {
            for k in 0..4 {
                let (rev, units) = cents[c * 4 + k];
                let values = [Decimal::new(rev, 2), Decimal::new(rev, 2), Decimal::from(units)];
                let values = if c == 3 { [Decimal::from(units % 4), Decimal::new(rev, 2), Decimal::from(units)] } else { values };
                for s in 0..slot::BASE {
                    md[dec.index(c, k, s)] = values[s];
                    mf[flt.index(c, k, s)] = values[s].to_f64().unwrap();
                }
            }
        }
        let active = [true; 4];
        let mut sd = dec.scratch();
        let mut sf = flt.scratch();
        dec.settle_partner(&md, &active, &Baseline::default(), &mut sd);
        flt.settle_partner(&mf, &active, &Baseline::default(), &mut sf);
        for c in 0..4 {
            for k in 0..4 {
                prop_assert_eq!(sd.payable(c, k).minor_units(2), sf.payable(c, k).minor_units(2), "c{} k{}", c, k);
                prop_assert_eq!(sd.outcome[c * 4 + k].tier, sf.outcome[c * 4 + k].tier);
            }
        }
    }
}
