//! Every class of bad data gives an error naming the table, row and column.

use rebatesim::data::{Partners, Transactions};
use rebatesim::programme::{Compiled, Format, Programme};
use rebatesim::settlement::settle;
use rebatesim::Error;

fn programme(extra: &str) -> Compiled {
    let text = format!(
        "name = \"T\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n\
         segments = [\"retail\", \"trade\"]\ncategories = [\"cable\", \"tools\"]\n\
         [[components]]\nid = \"v\"\nkind = \"volume\"\n{extra}\ntiers = [{{ from = 100, percent = 1 }}]"
    );
    Programme::from_str(&text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

const PARTNERS: &str = "partner_id,segment\nP1,retail\nP2,trade\n";

fn tx_error(body: &str) -> String {
    match Transactions::from_csv_str(body, "transactions.csv") {
        Err(e) => e.to_string(),
        Ok(t) => {
            let p = Partners::from_csv_str(PARTNERS, "partners.csv").unwrap();
            settle(&programme(""), &p, &t).unwrap_err().to_string()
        }
    }
}

fn assert_data(e: &str, want: &str) {
    assert_eq!(e, format!("invalid data: {want}"));
}

const H: &str = "partner_id,date,quantity,revenue,category\n";

#[test]
fn missing_column() {
    let e = tx_error("partner_id,date,revenue\nP1,2027-01-01,5\n");
    assert!(
        e.starts_with("invalid data: transactions.csv, column 'quantity': missing column"),
        "{e}"
    );
    let e = Partners::from_csv_str("id,segment\nP1,retail\n", "partners.csv")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid data: partners.csv, column 'partner_id': missing column"),
        "{e}"
    );
}

#[test]
fn text_nan_inf_empty_in_numbers() {
    assert_data(
        &tx_error(&format!(
            "{H}P1,2027-01-01,1,10,cable\nP1,2027-01-02,1,ten,cable\n"
        )),
        "transactions.csv, row 2, column 'revenue': expected a number, found \"ten\"",
    );
    assert_data(
        &tx_error(&format!("{H}P1,2027-01-01,NaN,10,cable\n")),
        "transactions.csv, row 1, column 'quantity': expected a finite number, found NaN",
    );
    assert_data(
        &tx_error(&format!("{H}P1,2027-01-01,1,-inf,cable\n")),
        "transactions.csv, row 1, column 'revenue': expected a finite number, found -inf",
    );
    assert_data(
        &tx_error(&format!("{H}P1,2027-01-01,1,,cable\n")),
        "transactions.csv, row 1, column 'revenue': expected a number, found an empty cell",
    );
    let e = Partners::from_csv_str(
        "partner_id,segment,baseline_revenue\nP1,retail,abc\n",
        "partners.csv",
    )
    .unwrap_err();
    assert_data(
        &e.to_string(),
        "partners.csv, row 1, column 'baseline_revenue': expected a number, found \"abc\"",
    );
}

#[test]
fn bad_date() {
    assert_data(
        &tx_error(&format!("{H}P1,2027-02-30,1,10,cable\n")),
        "transactions.csv, row 1, column 'date': expected a date written YYYY-MM-DD, found \"2027-02-30\"",
    );
}

#[test]
fn duplicate_partner() {
    let e = Partners::from_csv_str(
        "partner_id,segment\nP1,retail\nP2,trade\nP1,trade\n",
        "partners.csv",
    )
    .unwrap_err();
    assert_data(
        &e.to_string(),
        "partners.csv, row 3, column 'partner_id': partner id 'P1' appears twice (first in row 1)",
    );
}

#[test]
fn unknown_partner() {
    assert_data(
        &tx_error(&format!(
            "{H}P1,2027-01-01,1,10,cable\nP9,2027-01-01,1,10,cable\n"
        )),
        "transactions.csv, row 2, column 'partner_id': unknown partner 'P9' (not in partners.csv)",
    );
}

#[test]
fn date_outside_programme() {
    assert_data(
        &tx_error(&format!("{H}P1,2028-01-01,1,10,cable\n")),
        "transactions.csv, row 1, column 'date': date 2028-01-01 is outside the programme (2027-01-01 to 2027-12-31)",
    );
}

#[test]
fn undeclared_category_and_segment() {
    assert_data(
        &tx_error(&format!("{H}P1,2027-01-01,1,10,cable\nP2,2027-01-01,1,10,paint\n")),
        "transactions.csv, row 2, column 'category': category 'paint' is not declared in the programme (expected one of: cable, tools)",
    );
    let p = Partners::from_csv_str(
        "partner_id,segment\nP1,retail\nP2,wholesale\n",
        "partners.csv",
    )
    .unwrap();
    let t = Transactions::from_csv_str("partner_id,date,quantity,revenue\n", "transactions.csv")
        .unwrap();
    assert_data(
        &settle(&programme(""), &p, &t).unwrap_err().to_string(),
        "partners.csv, row 2, column 'segment': segment 'wholesale' is not declared in the programme (expected one of: retail, trade)",
    );
}

#[test]
fn missing_category_column() {
    let p = Partners::from_csv_str(PARTNERS, "partners.csv").unwrap();
    let t = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue\nP1,2027-01-01,1,1\n",
        "transactions.csv",
    )
    .unwrap();
    let e = settle(&programme("categories = [\"cable\"]"), &p, &t).unwrap_err();
    assert!(
        matches!(&e, Error::Data(d) if d.column.as_deref() == Some("category") && d.row.is_none()),
        "{e}"
    );
}

#[test]
fn ragged_row() {
    assert_data(
        &tx_error(&format!("{H}P1,2027-01-01,1,10,cable\nP1,2027-01-01,1\n")),
        "transactions.csv, row 2: expected 5 fields like the header, found 3",
    );
}

#[test]
fn unknown_partner_in_explain() {
    let p = Partners::from_csv_str(PARTNERS, "partners.csv").unwrap();
    let t = Transactions::from_csv_str("partner_id,date,quantity,revenue\n", "transactions.csv")
        .unwrap();
    let s = settle(&programme(""), &p, &t).unwrap();
    assert!(s.explain("P1").is_ok());
    let e = s.explain("ZZ").unwrap_err();
    assert!(
        matches!(e, Error::Request(ref m) if m.contains("'ZZ'")),
        "{e}"
    );
}

mod located {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// One bad cell anywhere in a valid table: the error names exactly its row and column.
        #[test]
        fn any_bad_cell_is_located(n in 1usize..30, at in 0usize..30, column in 0usize..4, bad in 0usize..4) {
            let at = at % n;
            let cols = ["partner_id", "date", "quantity", "revenue"];
            let values: [&[&str]; 4] = [
                &["ZZ", "P3", "nobody", ""],
                &["2027-13-01", "tomorrow", "2028-01-01", ""],
                &["abc", "NaN", "inf", ""],
                &["1.2.3", "-infinity", "nan", ""],
            ];
            let mut body = String::from("partner_id,date,quantity,revenue,category\n");
            for i in 0..n {
                let mut cells = ["P1".to_owned(), format!("2027-0{}-1{}", 1 + i % 9, i % 10), "2".into(), "10.5".into()];
                if i == at {
                    cells[column] = values[column][bad].to_owned();
                }
                body += &format!("{},cable\n", cells.join(","));
            }
            let p = Partners::from_csv_str(PARTNERS, "partners.csv").unwrap();
            let e = Transactions::from_csv_str(&body, "transactions.csv")
                .and_then(|t| settle(&programme(""), &p, &t).map(|_| ()))
                .unwrap_err();
            match e {
                Error::Data(d) => {
                    prop_assert_eq!(d.table, "transactions.csv");
                    prop_assert_eq!(d.row, Some(at + 1));
                    prop_assert_eq!(d.column.as_deref(), Some(cols[column]));
                }
                other => prop_assert!(false, "not a data error: {}", other),
            }
        }
    }
}
