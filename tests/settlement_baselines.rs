//! Per-period (monthly) baselines in settlement: a seasonal partner's quarterly and to-date
//! growth ladders and per-unit-above-baseline rule by hand (the worked example of
//! docs/calculations.md §3), the same purchases against an annual baseline, the explanations'
//! words, and the partner-table checks of the monthly columns (CSV, Arrow, Parquet).

use rebatesim::data::{Partners, Transactions};
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Format, Programme};
use rebatesim::settlement::{settle, Settlement};
use rebatesim::tables::NumberRule;
use rust_decimal::Decimal;
use std::str::FromStr;

const PROGRAMME: &str = r#"
name = "Seasonal"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4

[[components]]
id = "growth_q"
kind = "growth"
tiers = [{ from = 5, percent = 2 }, { from = 15, percent = 4 }]

[[components]]
id = "growth_ytd"
kind = "growth"
measure = "cumulative"
tiers = [{ from = 5, percent = 1 }]

[[components]]
id = "units_above"
kind = "per_unit"
amount = 0.5
above = "baseline"
"#;

/// Prior-year revenue by month of the seasonal partner: quarters 40,000 / 120,000 / 40,000 /
/// 40,000 = 240,000 (so the annual baseline ÷ 4 is 60,000 every quarter).
const REV_MONTHS: [&str; 12] = [
    "10000", "10000", "20000", "40000", "50000", "30000", "20000", "10000", "10000", "10000",
    "10000", "20000",
];
/// Prior-year units by month: 300 a quarter but 900 in Q2 = 1,800 (450 a quarter).
const UNIT_MONTHS: [&str; 12] = [
    "100", "100", "100", "300", "300", "300", "100", "100", "100", "100", "100", "100",
];

fn header() -> String {
    let mut h = String::from("partner_id,baseline_revenue,baseline_units");
    for b in ["baseline_revenue", "baseline_units"] {
        for m in 1..=12 {
            h += &format!(",{b}_m{m:02}");
        }
    }
    h
}

/// S: the seasonal partner with monthly baselines (and matching annual ones); A: the same
/// annual baselines only.
fn partners_csv() -> String {
    format!(
        "{}\nS,240000.00,1800,{},{}\nA,240000,1800{}\n",
        header(),
        REV_MONTHS.join(","),
        UNIT_MONTHS.join(","),
        ",".repeat(24)
    )
}

/// The same purchases for both partners: Q1 44,000 (320 units), Q2 130,000 (1,000), Q3 38,000
/// (250), Q4 47,000 (310).
fn transactions_csv() -> String {
    let mut t = String::from("partner_id,date,quantity,revenue\n");
    for p in ["S", "A"] {
        for (d, q, r) in [
            ("2027-02-10", 320, 44000),
            ("2027-04-15", 400, 45000),
            ("2027-05-15", 400, 50000),
            ("2027-06-15", 200, 35000),
            ("2027-08-10", 250, 38000),
            ("2027-11-10", 310, 47000),
        ] {
            t += &format!("{p},{d},{q},{r}\n");
        }
    }
    t
}

fn compiled() -> Compiled {
    Programme::from_str(PROGRAMME, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

fn settled(partners: &Partners) -> Settlement {
    let tx = Transactions::from_csv_str(&transactions_csv(), "transactions").unwrap();
    settle(&compiled(), partners, &tx).unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Payable per quarter of `partner`'s `component`.
fn payable(s: &Settlement, partner: &str, component: &str) -> Vec<Decimal> {
    let mut v: Vec<(u32, Decimal)> = s
        .lines()
        .unwrap()
        .into_iter()
        .filter(|l| l.partner_id == partner && l.component == component)
        .map(|l| (l.period, l.payable))
        .collect();
    v.sort();
    v.into_iter().map(|(_, p)| p).collect()
}

#[test]
fn a_seasonal_partner_is_measured_against_the_same_quarter_of_last_year() {
    let p = Partners::from_csv_str(&partners_csv(), "partners.csv").unwrap();
    assert_eq!(p.baseline_revenue[0], Some(d("240000.00")));
    assert_eq!(
        p.baseline_revenue_months[0].as_ref().unwrap()[4],
        d("50000")
    );
    assert_eq!(p.baseline_revenue_months[1], None);
    let s = settled(&p);
    // S by quarter: Q1 44,000 / 40,000 = +10% → 2% of 44,000 = 880; Q2 130,000 / 120,000 =
    // +8.33% → 2% = 2,600; Q3 38,000 / 40,000 = −5% → 0; Q4 47,000 / 40,000 = +17.5% → 4% = 1,880
    let q = |v: [&str; 4]| v.map(d).to_vec();
    assert_eq!(
        payable(&s, "S", "growth_q"),
        q(["880.00", "2600.00", "0.00", "1880.00"])
    );
    // A against 60,000 a quarter: −26.7%, +116.7% (4% of 130,000 = 5,200), −36.7%, −21.7%
    assert_eq!(
        payable(&s, "A", "growth_q"),
        q(["0.00", "5200.00", "0.00", "0.00"])
    );
    // to date, 1% from +5%: S 44,000/40,000 → 440; 174,000/160,000 (+8.75%) → 1,740 − 440;
    // 212,000/200,000 (+6%) → 2,120 − 1,740; 259,000/240,000 (+7.9%) → 2,590 − 2,120
    assert_eq!(
        payable(&s, "S", "growth_ytd"),
        q(["440.00", "1300.00", "380.00", "470.00"])
    );
    // A: 44,000/60,000 → 0; 174,000/120,000 → 1,740; 212,000/180,000 → 2,120 − 1,740; the
    // whole year is the same window for both: 2,590 − 2,120
    assert_eq!(
        payable(&s, "A", "growth_ytd"),
        q(["0.00", "1740.00", "380.00", "470.00"])
    );
    // units above the quarter's baseline at 0.50: S 320 − 300, 1,000 − 900, 250 < 300,
    // 310 − 300; A above 450 a quarter: only Q2, 1,000 − 450 = 550 → 275
    assert_eq!(
        payable(&s, "S", "units_above"),
        q(["10.00", "50.00", "0.00", "5.00"])
    );
    assert_eq!(
        payable(&s, "A", "units_above"),
        q(["0.00", "275.00", "0.00", "0.00"])
    );
}

#[test]
fn explanations_name_the_prior_year_period_baseline() {
    let p = Partners::from_csv_str(&partners_csv(), "partners.csv").unwrap();
    let s = settled(&p);
    let e = s.explain("S").unwrap();
    assert!(
        e.contains(
            "130,000.00 revenue against the prior-year Q2 baseline of 120,000.00 (growth 8.33%)"
        ),
        "{e}"
    );
    assert!(
        e.contains("against the prior-year baseline to date (programme months 1–6) of 160,000.00"),
        "{e}"
    );
    assert!(e.contains("above the prior-year Q2 baseline of 900"), "{e}");
    let a = s.explain("A").unwrap();
    assert!(
        a.contains("130,000.00 revenue against a baseline of 60,000.00"),
        "{a}"
    );
    assert!(!a.contains("prior-year"), "{a}");
}

#[test]
fn the_standing_measures_the_next_tier_against_the_period_baseline() {
    let p = Partners::from_csv_str(&partners_csv(), "partners.csv").unwrap();
    let s = settled(&p);
    // Q4 (the last period): S at +17.5% is on the top tier; A at −21.7% needs 60,000 × 1.05
    let st: Vec<_> = s
        .standing
        .iter()
        .filter(|x| x.component == "growth_q")
        .collect();
    let of = |id: &str| st.iter().find(|x| x.partner_id == id).unwrap();
    assert_eq!(of("S").next_tier, None);
    assert_eq!(of("A").next_threshold, Some(d("63000")));
    assert_eq!(of("A").shortfall, Some(d("16000")));
}

#[test]
fn months_alone_give_the_annual_baseline_and_settle_alike() {
    // no annual columns: the annual baselines are the months' sums
    let text = partners_csv();
    let mut lines = text.lines();
    let strip = |l: &str| {
        l.split(',')
            .enumerate()
            .filter(|(j, _)| !matches!(j, 1 | 2))
            .map(|(_, c)| c)
            .collect::<Vec<_>>()
            .join(",")
    };
    let csv = format!(
        "{}\n{}\n",
        strip(lines.next().unwrap()),
        strip(lines.next().unwrap())
    );
    let p = Partners::from_csv_str(&csv, "partners.csv").unwrap();
    assert_eq!(p.baseline_revenue[0], Some(d("240000")));
    assert_eq!(p.baseline_units[0], Some(d("1800")));
    let full = Partners::from_csv_str(&partners_csv(), "partners.csv").unwrap();
    let only_s = |c: &str| {
        let t: String = transactions_csv()
            .lines()
            .filter(|l| !l.starts_with("A,"))
            .map(|l| format!("{l}\n"))
            .collect();
        let tx = Transactions::from_csv_str(&t, "transactions").unwrap();
        let s = settle(&compiled(), if c == "months" { &p } else { &full }, &tx).unwrap();
        s.lines()
            .unwrap()
            .into_iter()
            .filter(|l| l.partner_id == "S")
            .map(|l| (l.component, l.period, l.payable))
            .collect::<Vec<_>>()
    };
    assert_eq!(only_s("months"), only_s("both"));
}

fn partner_error(csv: &str) -> String {
    Partners::from_csv_str(csv, "partners.csv")
        .unwrap_err()
        .to_string()
}

fn population_error(csv: &str) -> String {
    let csv = csv.replacen("partner_id,", "partner_id,segment,", 1);
    let csv: String = csv
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                l.replacen(',', ",s,", 1) + "\n"
            }
        })
        .collect();
    Population::from_csv_str(&csv, "partners.csv")
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_monthly_baselines_are_refused_naming_row_and_column() {
    // a partial set of columns
    let partial = "partner_id,baseline_revenue_m01,baseline_revenue_m02\nS,1,2\n";
    for e in [partner_error(partial), population_error(partial)] {
        assert!(
            e.contains("column 'baseline_revenue_m03'") && e.contains("all twelve"),
            "{e}"
        );
    }
    // months disagreeing with the annual baseline: 240,000 vs 240,000.01
    let mismatch = partners_csv().replace("S,240000.00,", "S,240000.01,");
    for e in [partner_error(&mismatch), population_error(&mismatch)] {
        assert!(
            e.contains("row 1, column 'baseline_revenue'")
                && e.contains("sum to 240000, not to baseline_revenue 240000.01"),
            "{e}"
        );
    }
    // a negative month
    let negative = partners_csv().replace(",300,300,300,", ",300,-300,300,");
    for e in [partner_error(&negative), population_error(&negative)] {
        assert!(
            e.contains("row 1, column 'baseline_units_m05'") && e.contains("≥ 0"),
            "{e}"
        );
    }
    // an empty month in a row that gives others
    let gap = partners_csv().replace(",50000,", ",,");
    for e in [partner_error(&gap), population_error(&gap)] {
        assert!(
            e.contains("row 1, column 'baseline_revenue_m05'") && e.contains("empty cell"),
            "{e}"
        );
    }
    // more than 6 decimal places, and text
    let fine = partners_csv().replace(",50000,", ",50000.0000001,");
    for e in [partner_error(&fine), population_error(&fine)] {
        assert!(
            e.contains("column 'baseline_revenue_m05'") && e.contains("decimal places"),
            "{e}"
        );
    }
    let text = partners_csv().replace(",50000,", ",lots,");
    for e in [partner_error(&text), population_error(&text)] {
        assert!(e.contains("row 1, column 'baseline_revenue_m05'"), "{e}");
    }
}

#[test]
fn the_population_reads_the_months_as_settlement_does() {
    let csv = partners_csv()
        .replacen("partner_id,", "partner_id,segment,", 1)
        .replace("\nS,", "\nS,s,")
        .replace("\nA,", "\nA,s,");
    let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
    assert_eq!(pop.baseline_revenue, [Some(240000.0), Some(240000.0)]);
    assert_eq!(pop.baseline_revenue_months[0].as_ref().unwrap()[3], 40000.0);
    assert_eq!(pop.baseline_units_months[0].as_ref().unwrap()[5], 300.0);
    assert_eq!(pop.baseline_revenue_months[1], None);
    // months alone: their sum is the annual baseline the simulation's level comes from
    let alone = "partner_id,segment".to_owned()
        + &(1..=12)
            .map(|m| format!(",baseline_revenue_m{m:02}"))
            .collect::<String>()
        + "\nS,s,"
        + &REV_MONTHS.join(",")
        + "\n";
    let pop = Population::from_csv_str(&alone, "partners.csv").unwrap();
    assert_eq!(pop.baseline_revenue, [Some(240000.0)]);
    // the bytes sent to workers carry them
    let back = rebatesim::wire::population_from_bytes(&rebatesim::wire::population_to_bytes(&pop))
        .unwrap();
    assert_eq!(back, pop);
}

#[test]
fn parquet_and_arrow_read_the_months_like_csv() {
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};
    use parquet::arrow::ArrowWriter;
    use std::sync::Arc;
    let csv = Partners::from_csv_str(&partners_csv(), "partners.csv").unwrap();
    // the same table as columns: floats, null for A's months
    let mut cols: Vec<(String, ArrayRef)> = vec![
        (
            "partner_id".into(),
            Arc::new(StringArray::from(vec!["S", "A"])),
        ),
        (
            "baseline_revenue".into(),
            Arc::new(Float64Array::from(vec![240000.0, 240000.0])),
        ),
        (
            "baseline_units".into(),
            Arc::new(Float64Array::from(vec![1800.0, 1800.0])),
        ),
    ];
    for (b, months) in [
        ("baseline_revenue", REV_MONTHS),
        ("baseline_units", UNIT_MONTHS),
    ] {
        for (j, m) in months.iter().enumerate() {
            let v: f64 = m.parse().unwrap();
            cols.push((
                format!("{b}_m{:02}", j + 1),
                Arc::new(Float64Array::from(vec![Some(v), None])),
            ));
        }
    }
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        cols.iter().map(|(_, a)| a.clone()).collect(),
    )
    .unwrap();
    let from_arrow =
        Partners::from_arrow(&schema, [Ok(batch.clone())], "p", NumberRule::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("rebatesim-monthly-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("partners.parquet");
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema.clone(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let from_parquet = Partners::from_parquet_path(&path, NumberRule::default()).unwrap();
    for p in [&from_arrow, &from_parquet] {
        assert_eq!(p.baseline_revenue_months, csv.baseline_revenue_months);
        assert_eq!(p.baseline_units_months, csv.baseline_units_months);
        assert_eq!(p.baseline_revenue, [Some(d("240000")), Some(d("240000"))]);
        let lines = |s: Settlement| {
            s.lines()
                .unwrap()
                .into_iter()
                .map(|l| l.payable)
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(settled(p)), lines(settled(&csv)));
    }
    // a mismatch through Parquet names the row and column too
    let mut bad_cols = cols.clone();
    bad_cols[1].1 = Arc::new(Float64Array::from(vec![240000.5, 240000.0]));
    let bad = RecordBatch::try_new(
        schema.clone(),
        bad_cols.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&bad).unwrap();
    w.close().unwrap();
    let e = Partners::from_parquet_path(&path, NumberRule::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("partners.parquet, row 1, column 'baseline_revenue'")
            && e.contains("sum to 240000"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_programme_longer_than_a_year_repeats_the_months() {
    // monthly periods over two years: month 14 (2028-02) is measured against m02
    let text = r#"
name = "Two years"
currency = "EUR"
start = 2027-01-01
period = "month"
periods = 24

[[components]]
id = "growth_m"
kind = "growth"
tiers = [{ from = 40, percent = 1 }]
"#;
    let p = Programme::from_str(text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap();
    let partners = Partners::from_csv_str(&partners_csv(), "partners.csv").unwrap();
    let tx = "partner_id,date,quantity,revenue\nS,2027-05-10,1,60000\nS,2028-01-10,1,13000\nS,2028-02-10,1,15000\n";
    let s = settle(&p, &partners, &Transactions::from_csv_str(tx, "t").unwrap()).unwrap();
    let paid: Vec<(u32, Decimal)> = s
        .lines()
        .unwrap()
        .into_iter()
        .filter(|l| l.partner_id == "S" && l.payable > Decimal::ZERO)
        .map(|l| (l.period, l.payable))
        .collect();
    // May 60,000 / 50,000 = +20%, January 13,000 / 10,000 = +30%: below +40%; February
    // 15,000 / 10,000 = +50%: 1% = 150 (against 240,000 / 12 = 20,000 it would be −25%)
    assert_eq!(paid, [(14, d("150.00"))]);
    let e = s.explain("S").unwrap();
    assert!(
        e.contains(
            "15,000.00 revenue against the prior-year month 02 baseline of 10,000.00 (growth 50%)"
        ),
        "{e}"
    );
}
