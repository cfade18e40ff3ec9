//! Every worked example of `docs/calculations.md`, with the same numbers, through the full
//! settlement engine (programme file → CSV tables → lines).

use chrono::NaiveDate;
use rebatesim::data::{Partners, Transactions};
use rebatesim::programme::{Format, Programme};
use rebatesim::settlement::{settle, Line, Settlement};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const LADDER: &str =
    "tiers = [{ from = 10000, percent = 2 }, { from = 20000, percent = 3 }, { from = 50000, percent = 4 }]";

/// Settle `components` (TOML) over `period`×`periods` from 2027-01-01 with extra programme keys.
fn run(
    head: &str,
    period: &str,
    periods: u32,
    components: &str,
    partners: &str,
    tx: &str,
) -> Settlement {
    let text = format!(
        "name = \"Docs\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"{period}\"\nperiods = {periods}\n\
         categories = [\"cable\", \"tools\"]\n{head}\n{components}"
    );
    let p = Programme::from_str(&text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap();
    let partners = Partners::from_csv_str(partners, "partners").unwrap();
    let tx = Transactions::from_csv_str(tx, "transactions").unwrap();
    let s = settle(&p, &partners, &tx).unwrap();
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
    s
}

fn line(s: &Settlement, partner: &str, component: &str, period: u32) -> Line {
    s.lines()
        .unwrap()
        .into_iter()
        .find(|l| l.partner_id == partner && l.component == component && l.period == period)
        .unwrap_or_else(|| panic!("no line {partner}/{component}/{period}"))
}

fn one(components: &str, tx_body: &str) -> Settlement {
    run(
        "",
        "quarter",
        1,
        components,
        "partner_id,segment\nA,\n",
        &format!("partner_id,date,quantity,revenue,category,order_id\n{tx_body}"),
    )
}

fn volume(method: &str, extra: &str, revenue: &str) -> Decimal {
    let s = one(
        &format!("[[components]]\nid = \"v\"\nkind = \"volume\"\nmethod = \"{method}\"\n{extra}\n{LADDER}"),
        &format!("A,2027-01-10,1,{revenue},cable,\n"),
    );
    line(&s, "A", "v", 1).payable
}

#[test]
fn net_vs_gross() {
    let tx = "A,2027-01-10,1,30000,cable,\nA,2027-02-10,-1,-12000,cable,\n";
    let net = one(
        &format!("[[components]]\nid = \"v\"\nkind = \"volume\"\n{LADDER}"),
        tx,
    );
    assert_eq!(line(&net, "A", "v", 1).payable, dec!(360.00));
    let gross = one(
        &format!("[[components]]\nid = \"v\"\nkind = \"volume\"\nreturns = \"gross\"\n{LADDER}"),
        tx,
    );
    assert_eq!(line(&gross, "A", "v", 1).payable, dec!(900.00));
}

#[test]
fn tier_methods() {
    assert_eq!(volume("retroactive", "", "60000"), dec!(2400.00));
    assert_eq!(volume("incremental", "", "60000"), dec!(1500.00));
    assert_eq!(volume("rolling", "", "60000"), dec!(3500.00));
    assert_eq!(volume("total", "", "60000"), dec!(5400.00));
}

#[test]
fn reward_kinds() {
    let s = one(
        "[[components]]\nid = \"u\"\nkind = \"volume\"\nbasis = \"units\"\n\
         tiers = [{ from = 100, per_unit = 0.5 }, { from = 500, per_unit = 0.8 }]",
        "A,2027-01-10,650,9999,cable,\n",
    );
    assert_eq!(line(&s, "A", "u", 1).payable, dec!(520.00));
    for (method, want) in [("retroactive", dec!(500.00)), ("incremental", dec!(600.00))] {
        let s = one(
            &format!(
                "[[components]]\nid = \"f\"\nkind = \"volume\"\nmethod = \"{method}\"\n\
                 tiers = [{{ from = 10000, fixed = 100 }}, {{ from = 50000, fixed = 500 }}]"
            ),
            "A,2027-01-10,1,60000,cable,\n",
        );
        assert_eq!(line(&s, "A", "f", 1).payable, want, "{method}");
    }
}

#[test]
fn basis_cap() {
    assert_eq!(
        volume("retroactive", "basis_cap = 40000", "60000"),
        dec!(1600.00)
    );
    assert_eq!(
        volume("incremental", "basis_cap = 40000", "60000"),
        dec!(800.00)
    );
    let s = one(
        &format!("[[components]]\nid = \"v\"\nkind = \"volume\"\nbasis_cap = 40000\n{LADDER}"),
        "A,2027-01-10,1,60000,cable,\n",
    );
    assert_eq!(line(&s, "A", "v", 1).tier, 3);
}

#[test]
fn growth() {
    for (applies, want) in [("whole", dec!(2240.00)), ("growth", dec!(240.00))] {
        let s = run(
            "",
            "quarter",
            4,
            &format!(
                "[[components]]\nid = \"g\"\nkind = \"growth\"\napplies_to = \"{applies}\"\n\
                 tiers = [{{ from = 5, percent = 1 }}, {{ from = 10, percent = 2 }}]"
            ),
            "partner_id,segment,baseline_revenue\nA,,400000\nB,,\n",
            "partner_id,date,quantity,revenue\nA,2027-01-10,1,112000\nB,2027-01-10,1,112000\n",
        );
        let l = line(&s, "A", "g", 1);
        assert_eq!((l.tier, l.payable), (2, want), "{applies}");
        let b = line(&s, "B", "g", 1);
        assert_eq!(b.payable, dec!(0));
        assert!(b.explanation.contains("no baseline"), "{}", b.explanation);
    }
}

#[test]
fn per_unit() {
    let s = one(
        "[[components]]\nid = \"u\"\nkind = \"per_unit\"\namount = 0.5\nabove = 100",
        "A,2027-01-10,340,1,cable,\n",
    );
    assert_eq!(line(&s, "A", "u", 1).payable, dec!(120.00));
}

#[test]
fn bundle() {
    let comp = "[[components]]\nid = \"b\"\nkind = \"bundle\"\nminimums = { cable = 1000, tools = 500 }\npercent = 2";
    let s = one(
        comp,
        "A,2027-01-10,1,4000,cable,\nA,2027-01-11,1,800,tools,\n",
    );
    assert_eq!(line(&s, "A", "b", 1).payable, dec!(96.00));
    let s = one(
        comp,
        "A,2027-01-10,1,4000,cable,\nA,2027-01-11,1,400,tools,\n",
    );
    assert_eq!(line(&s, "A", "b", 1).payable, dec!(0.00));
}

#[test]
fn logistics() {
    let s = one(
        "[[components]]\nid = \"l\"\nkind = \"logistics\"\nmin_quantity = 100\nper_order = 25",
        "A,2027-01-10,60,600,cable,O1\nA,2027-01-12,50,500,cable,O1\nA,2027-01-10,80,800,cable,O2\nA,2027-02-10,150,1500,cable,O3\n",
    );
    assert_eq!(line(&s, "A", "l", 1).payable, dec!(50.00));
}

const ERP: &str = "[[components]]\nid = \"v\"\nkind = \"volume\"\nmeasure = \"MEASURE\"\n\
                   tiers = [{ from = 5000, percent = 2 }, { from = 20000, percent = 4 }]";

#[test]
fn cumulative_true_up_and_claw_back() {
    let tx = "partner_id,date,quantity,revenue\nA,2027-02-01,1,7000\nA,2027-08-01,1,20000\n";
    let s = run(
        "",
        "half",
        2,
        &ERP.replace("MEASURE", "cumulative"),
        "partner_id\nA\n",
        tx,
    );
    assert_eq!(line(&s, "A", "v", 1).payable, dec!(140.00));
    assert_eq!(line(&s, "A", "v", 2).payable, dec!(940.00));
    assert_eq!(s.total.payable, dec!(1080.00));
    assert_eq!(
        line(&s, "A", "v", 2).explanation,
        "reached tier 2 (20,000.00) with 27,000.00 revenue to date; 4% retroactive on all 27,000.00 = 1,080.00; \
         less 140.00 earned to the end of 2027-H1 = 940.00"
    );
    let s = run(
        "",
        "half",
        2,
        &ERP.replace("MEASURE", "period"),
        "partner_id\nA\n",
        tx,
    );
    assert_eq!(
        (line(&s, "A", "v", 1).payable, line(&s, "A", "v", 2).payable),
        (dec!(140.00), dec!(800.00))
    );

    let tx = "partner_id,date,quantity,revenue\nA,2027-02-01,1,27000\nA,2027-08-01,-1,-8000\n";
    let s = run(
        "",
        "half",
        2,
        &ERP.replace("MEASURE", "cumulative"),
        "partner_id\nA\n",
        tx,
    );
    assert_eq!(line(&s, "A", "v", 1).payable, dec!(1080.00));
    let h2 = line(&s, "A", "v", 2);
    assert_eq!(h2.payable, dec!(-700.00));
    assert!(h2.explanation.contains("claw-back"), "{}", h2.explanation);
}

#[test]
fn component_cap() {
    let s = one(
        &format!("[[components]]\nid = \"v\"\nkind = \"volume\"\ncap = 1000\n{LADDER}"),
        "A,2027-01-10,1,60000,cable,\n",
    );
    let l = line(&s, "A", "v", 1);
    assert_eq!(
        (l.calculated, l.adj_component_cap, l.payable),
        (dec!(2400.00), dec!(-1400.00), dec!(1000.00))
    );
}

#[test]
fn exclusive_group() {
    let s = run(
        "",
        "quarter",
        4,
        &format!(
            "[[components]]\nid = \"volume\"\nkind = \"volume\"\nexclusive_group = \"best\"\n{LADDER}\n\
             [[components]]\nid = \"growth\"\nkind = \"growth\"\nexclusive_group = \"best\"\ntiers = [{{ from = 10, percent = 2 }}]"
        ),
        "partner_id,baseline_revenue\nA,200000\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,60000\n",
    );
    assert_eq!(line(&s, "A", "volume", 1).payable, dec!(2400.00));
    let g = line(&s, "A", "growth", 1);
    assert_eq!(
        (g.calculated, g.adj_exclusive_group, g.payable),
        (dec!(1200.00), dec!(-1200.00), dec!(0.00))
    );
}

#[test]
fn partner_cap() {
    let comps: String = ["a", "b", "c"]
        .iter()
        .map(|id| format!("[[components]]\nid = \"{id}\"\nkind = \"volume\"\ntiers = [{{ from = 0, percent = 1 }}]\n"))
        .collect();
    let s = one(&comps, "A,2027-01-10,1,10000,cable,\n");
    let got: Vec<Decimal> = ["a", "b", "c"]
        .iter()
        .map(|c| line(&s, "A", c, 1).payable)
        .collect();
    assert_eq!(got, vec![dec!(100.00); 3]);
    let s = run(
        "partner_cap = 200",
        "quarter",
        1,
        &comps,
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,10000\n",
    );
    let got: Vec<Decimal> = ["a", "b", "c"]
        .iter()
        .map(|c| line(&s, "A", c, 1).payable)
        .collect();
    assert_eq!(got, vec![dec!(66.67), dec!(66.67), dec!(66.66)]);
}

#[test]
fn minimum_payout() {
    let s = run(
        "minimum_payout = 500",
        "half",
        2,
        "[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 0, percent = 1 }]",
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-02-01,1,30000\nA,2027-08-01,1,40000\n",
    );
    let (h1, h2) = (line(&s, "A", "v", 1), line(&s, "A", "v", 2));
    assert_eq!(
        (h1.calculated, h1.adj_minimum_payout, h1.payable),
        (dec!(300.00), dec!(-300.00), dec!(0.00))
    );
    assert_eq!(
        (h2.calculated, h2.adj_minimum_payout, h2.payable),
        (dec!(400.00), dec!(300.00), dec!(700.00))
    );
}

#[test]
fn budget_cut_to_the_cent() {
    let s = run(
        "budget = 1000",
        "quarter",
        1,
        "[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 0, percent = 1 }]",
        "partner_id\nC\nA\nB\n",
        "partner_id,date,quantity,revenue\nA,2027-01-10,1,60000\nB,2027-01-10,1,30000\nC,2027-01-10,1,20000\n",
    );
    let got: Vec<(Decimal, Decimal)> = ["A", "B", "C"]
        .iter()
        .map(|p| (line(&s, p, "v", 1).calculated, line(&s, p, "v", 1).payable))
        .collect();
    assert_eq!(
        got,
        vec![
            (dec!(600.00), dec!(545.45)),
            (dec!(300.00), dec!(272.73)),
            (dec!(200.00), dec!(181.82))
        ]
    );
    assert_eq!(s.total.payable, dec!(1000.00));
    assert!(s.budget_binding);
}

#[test]
fn rounding() {
    let comp =
        "[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 0, percent = 2.5 }]";
    assert_eq!(
        line(&one(comp, "A,2027-01-10,1,1234.50,cable,\n"), "A", "v", 1).payable,
        dec!(30.86)
    );
    for (rule, want) in [
        ("half_up", dec!(10.01)),
        ("half_even", dec!(10.00)),
        ("down", dec!(10.00)),
        ("up", dec!(10.01)),
    ] {
        let s = run(
            &format!("rounding = \"{rule}\""),
            "quarter",
            1,
            "[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 0, percent = 1 }]",
            "partner_id\nA\n",
            "partner_id,date,quantity,revenue\nA,2027-01-10,1,1000.50\n",
        );
        assert_eq!(line(&s, "A", "v", 1).payable, want, "{rule}");
    }
}

#[test]
fn payment_dates() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let comp = "[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 0, percent = 1 }]";
    let tx = "partner_id,date,quantity,revenue\nA,2027-01-10,1,100\n";
    let s = run(
        "payment = { when = \"period\", lag_days = 30 }",
        "quarter",
        4,
        comp,
        "partner_id\nA\n",
        tx,
    );
    assert_eq!(line(&s, "A", "v", 1).payment_date, d(2027, 4, 30));
    let s = run(
        "payment = { when = \"end\", lag_days = 30 }",
        "quarter",
        4,
        comp,
        "partner_id\nA\n",
        tx,
    );
    assert_eq!(line(&s, "A", "v", 1).payment_date, d(2028, 1, 30));
}

#[test]
fn explanation_example() {
    let s = run(
        "partner_cap = 40000",
        "year",
        1,
        "[[components]]\nid = \"v\"\nkind = \"volume\"\nmeasure = \"cumulative\"\n\
         tiers = [{ from = 100000, percent = 1 }, { from = 500000, percent = 2.5 }, { from = 1000000, percent = 3.5 }]",
        "partner_id\nA\n",
        "partner_id,date,quantity,revenue\nA,2027-03-10,1,1000000\nA,2027-05-10,1,23400\n",
    );
    assert_eq!(
        line(&s, "A", "v", 1).explanation,
        "reached tier 3 (1,000,000.00) with 1,023,400.00 revenue to date; 3.5% retroactive on all 1,023,400.00 = 35,819.00; partner cap 40,000.00 not reached"
    );
}
