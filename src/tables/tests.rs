//! Arrow tables read as their CSV equivalents; types, nulls and timezones refused by row and
//! column.

use super::NumberRule;
use crate::data::{Partners, Transactions};
use crate::money::Rounding;
use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{ArrowError, Field, Schema};
use std::sync::Arc;

fn batch(cols: Vec<(&str, ArrayRef)>) -> (Arc<Schema>, RecordBatch) {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let b =
        RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect()).unwrap();
    (schema, b)
}

fn read(cols: Vec<(&str, ArrayRef)>, rule: NumberRule) -> Result<Transactions, String> {
    let (schema, b) = batch(cols);
    // split in two batches: row numbers continue across batches
    let (first, rest) = (b.slice(0, 1), b.slice(1, b.num_rows() - 1));
    Transactions::from_arrow(&schema, [Ok::<_, ArrowError>(first), Ok(rest)], "tx", rule)
        .map_err(|e| e.to_string())
}

fn ids() -> ArrayRef {
    Arc::new(StringArray::from(vec!["A", "B", "A"]))
}
fn dates() -> ArrayRef {
    Arc::new(Date32Array::from(vec![20_819, 20_850, 20_900]))
}
fn qty() -> ArrayRef {
    Arc::new(Int64Array::from(vec![3, -1, 2]))
}

#[test]
fn arrow_reads_like_csv() {
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    for c in [Some("x"), None, Some("x")] {
        match c {
            Some(c) => {
                dict.append_value(c);
            }
            None => dict.append_null(),
        }
    }
    let t = read(
        vec![
            ("Partner_ID", ids()),
            ("date", dates()),
            ("quantity", qty()),
            (
                "revenue",
                Arc::new(
                    Decimal128Array::from(vec![12050, -4000, 1])
                        .with_precision_and_scale(12, 2)
                        .unwrap(),
                ),
            ),
            ("category", Arc::new(dict.finish())),
            (
                "order_id",
                Arc::new(Int64Array::from(vec![Some(7), None, Some(7)])),
            ),
            (
                "ignored",
                Arc::new(BooleanArray::from(vec![true, false, true])),
            ),
        ],
        NumberRule::default(),
    )
    .unwrap();
    let csv = Transactions::from_csv_str(
        "partner_id,date,quantity,revenue,category,order_id\nA,2027-01-01,3,120.50,x,7\nB,2027-02-01,-1,-40.00,,\nA,2027-03-23,2,0.01,x,7\n",
        "tx",
    )
    .unwrap();
    assert_eq!(t.partner_keys, csv.partner_keys);
    assert_eq!(t.partner_key, csv.partner_key);
    assert_eq!(t.date, csv.date);
    assert_eq!(t.quantity, csv.quantity);
    assert_eq!(t.revenue, csv.revenue);
    assert_eq!(t.category, csv.category);
    assert_eq!(t.order, csv.order);
    assert_eq!(t.order_keys, csv.order_keys);
}

#[test]
fn floats_are_rounded_by_the_rule_or_refused_when_strict() {
    let rev = || -> ArrayRef { Arc::new(Float64Array::from(vec![120.5, 1.005, 0.1 + 0.2])) };
    let half_up = NumberRule {
        decimals: 2,
        rounding: Rounding::HalfUp,
        strict: false,
    };
    let t = read(
        vec![
            ("partner_id", ids()),
            ("date", dates()),
            ("quantity", qty()),
            ("revenue", rev()),
        ],
        half_up,
    )
    .unwrap();
    let got: Vec<String> = t.revenue.iter().map(|d| d.to_string()).collect();
    assert_eq!(got, ["120.5", "1.01", "0.3"]);
    let e = read(
        vec![
            ("partner_id", ids()),
            ("date", dates()),
            ("quantity", qty()),
            ("revenue", rev()),
        ],
        NumberRule {
            strict: true,
            ..half_up
        },
    )
    .unwrap_err();
    assert_eq!(e, "invalid data: tx, row 2, column 'revenue': expected a whole number of 0.01 (2 decimal places) (strict input), found 1.005");
}

#[test]
fn bad_columns_are_located() {
    let rev = || -> ArrayRef { Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) };
    let cases: Vec<(Vec<(&str, ArrayRef)>, &str)> = vec![
        (
            vec![("partner_id", ids()), ("date", dates()), ("quantity", qty()), ("revenue", Arc::new(Float64Array::from(vec![Some(1.0), Some(2.0), None])))],
            "tx, row 3, column 'revenue': expected a number, found an empty cell",
        ),
        (
            vec![("partner_id", ids()), ("date", dates()), ("quantity", qty()), ("revenue", Arc::new(Float64Array::from(vec![1.0, f64::NAN, 3.0])))],
            "tx, row 2, column 'revenue': expected a finite number, found NaN",
        ),
        (
            vec![("partner_id", Arc::new(StringArray::from(vec![Some("A"), Some("B"), None]))), ("date", dates()), ("quantity", qty()), ("revenue", rev())],
            "tx, row 3, column 'partner_id': expected a partner id, found an empty cell",
        ),
        (
            vec![("partner_id", ids()), ("date", Arc::new(TimestampMicrosecondArray::from(vec![0, 0, 0]).with_timezone("UTC"))), ("quantity", qty()), ("revenue", rev())],
            "tx, row 1, column 'date': expected dates or timestamps without a timezone, found timestamps with timezone 'UTC'",
        ),
        (
            vec![("partner_id", ids()), ("date", dates()), ("quantity", Arc::new(BooleanArray::from(vec![true, true, true]))), ("revenue", rev())],
            "tx, row 1, column 'quantity': expected numbers (decimal, integer or float), found Boolean",
        ),
        (
            vec![("partner_id", ids()), ("date", Arc::new(StringArray::from(vec!["2027-01-01", "2027-01-02", "05/01/2027"]))), ("quantity", qty()), ("revenue", rev())],
            "tx, row 3, column 'date': expected a date written YYYY-MM-DD, found \"05/01/2027\"",
        ),
        (
            vec![("partner_id", ids()), ("date", dates()), ("revenue", rev())],
            "tx, column 'quantity': missing column (the table has: date, partner_id, revenue)",
        ),
        // ids are read apart from the values: the first row with an error wins, and in a row
        // the partner id comes before the values
        (
            vec![("partner_id", Arc::new(StringArray::from(vec![Some("A"), Some("B"), None]))), ("date", dates()), ("quantity", qty()), ("revenue", Arc::new(Float64Array::from(vec![1.0, f64::NAN, 3.0])))],
            "tx, row 2, column 'revenue': expected a finite number, found NaN",
        ),
        (
            vec![("partner_id", Arc::new(StringArray::from(vec![Some("A"), None, Some("A")]))), ("date", dates()), ("quantity", qty()), ("revenue", Arc::new(Float64Array::from(vec![1.0, 2.0, f64::NAN])))],
            "tx, row 2, column 'partner_id': expected a partner id, found an empty cell",
        ),
        (
            vec![("partner_id", Arc::new(StringArray::from(vec![Some("A"), None, Some("A")]))), ("date", dates()), ("quantity", qty()), ("revenue", Arc::new(Float64Array::from(vec![1.0, f64::NAN, 3.0])))],
            "tx, row 2, column 'partner_id': expected a partner id, found an empty cell",
        ),
    ];
    for (cols, want) in cases {
        let e = read(cols, NumberRule::default()).unwrap_err();
        assert!(
            e.starts_with(&format!("invalid data: {want}")),
            "{e}\nwanted: {want}"
        );
    }
}

#[test]
fn timestamps_without_timezone_are_dates() {
    let day = 86_400_000_000i64;
    let t = read(
        vec![
            ("partner_id", ids()),
            (
                "date",
                Arc::new(TimestampMicrosecondArray::from(vec![
                    20_819 * day + 5,
                    20_850 * day,
                    -1,
                ])),
            ),
            ("quantity", qty()),
            ("revenue", qty()),
        ],
        NumberRule::default(),
    )
    .unwrap();
    let got: Vec<String> = t.date.iter().map(|d| d.to_string()).collect();
    assert_eq!(got, ["2027-01-01", "2027-02-01", "1969-12-31"]);
}

#[test]
fn partners_from_arrow() {
    let (schema, b) = batch(vec![
        (
            "partner_id",
            Arc::new(Int64Array::from(vec![1001, 1002, 1001])) as ArrayRef,
        ),
        (
            "segment",
            Arc::new(StringArray::from(vec![Some("retail"), None, Some("x")])),
        ),
        (
            "baseline_revenue",
            Arc::new(Float64Array::from(vec![Some(1200.5), Some(f64::NAN), None])),
        ),
    ]);
    let e = Partners::from_arrow(
        &schema,
        [Ok::<_, ArrowError>(b.clone())],
        "p",
        NumberRule::default(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "invalid data: p, row 3, column 'partner_id': partner id '1001' appears twice (first in row 1)");
    let p = Partners::from_arrow(
        &schema,
        [Ok::<_, ArrowError>(b.slice(0, 2))],
        "p",
        NumberRule::default(),
    )
    .unwrap();
    assert_eq!(p.ids, ["1001", "1002"]);
    assert_eq!(p.segments, ["retail", ""]);
    assert_eq!(
        p.baseline_revenue[0].map(|d| d.to_string()).as_deref(),
        Some("1200.5")
    );
    assert_eq!(p.baseline_revenue[1], None);
}

#[test]
fn parquet_reads_by_row_group_with_rows_numbered_across_groups() {
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    let n = 2_500usize;
    let rev: Vec<Option<f64>> = (0..n)
        .map(|i| {
            if i == 2_400 {
                None
            } else {
                Some(i as f64 / 4.0)
            }
        })
        .collect();
    let (schema, b) = batch(vec![
        (
            "partner_id",
            Arc::new(StringArray::from(
                (0..n).map(|i| format!("P{}", i % 7)).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        ("date", Arc::new(Date32Array::from(vec![20_819; n]))),
        ("quantity", Arc::new(Int64Array::from(vec![1; n]))),
        ("revenue", Arc::new(Float64Array::from(rev))),
        ("extra", Arc::new(BooleanArray::from(vec![true; n]))),
    ]);
    let dir = std::env::temp_dir().join(format!("rebatesim-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tx.parquet");
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1_000))
        .build();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, Some(props)).unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
    let e = Transactions::from_parquet_path(&path, NumberRule::default()).unwrap_err();
    assert_eq!(e.to_string(), "invalid data: tx.parquet, row 2401, column 'revenue': expected a number, found an empty cell");
    let (schema, b) = batch(vec![
        (
            "partner_id",
            Arc::new(StringArray::from(vec!["A", "B"])) as ArrayRef,
        ),
        ("date", Arc::new(Date32Array::from(vec![20_819, 20_820]))),
        ("quantity", Arc::new(Int64Array::from(vec![1, 2]))),
        ("revenue", Arc::new(Float64Array::from(vec![0.25, 19.99]))),
    ]);
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
    let t = Transactions::from_parquet_path(&path, NumberRule::default()).unwrap();
    assert_eq!(t.partner_keys, ["A", "B"]);
    assert_eq!(t.revenue[1].to_string(), "19.99");
    std::fs::remove_dir_all(&dir).unwrap();
}
