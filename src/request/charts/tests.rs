//! Chart requests: the names, list lengths and shapes they accept, and the messages of the
//! ones they refuse.

use super::*;
use crate::charts::Chart;

fn refused(r: Result<AnyChart>) -> String {
    r.map(|_| ()).unwrap_err().to_string()
}

fn matrix(rows: usize, columns: usize) -> Matrix {
    Matrix {
        rows,
        columns,
        values: (0..rows * columns).map(|v| v as f64).collect(),
    }
}

#[test]
fn design_comparison_lists_match_the_names() {
    let ok = DesignComparisonRequest {
        title: "Designs".into(),
        currency: "EUR".into(),
        names: vec!["A".into(), "B".into()],
        payouts: vec![vec![1.0, 2.0], vec![3.0, 4.0]],
        rois: vec![Some(0.1), None],
        ..Default::default()
    };
    let chart = ok.clone().build().unwrap();
    assert_eq!(chart.kind(), "design_comparison");
    assert_eq!(chart.title(), "Designs");
    let short = DesignComparisonRequest {
        rois: vec![None],
        ..ok
    };
    assert!(refused(short.build())
        .contains("design comparison: rois per design: expected 2 values, got 1"));
}

fn attainment() -> TierAttainmentRequest {
    TierAttainmentRequest {
        title: "Tiers".into(),
        tiers: vec!["T0".into(), "T1".into(), "T2".into()],
        segments: vec!["a".into(), "b".into()],
        expected: matrix(2, 3),
        low: None,
        high: None,
        interval_label: None,
        subtitle: None,
    }
}

#[test]
fn tier_attainment_shapes_are_segments_by_tiers() {
    let AnyChart::TierAttainment(c) = attainment().build().unwrap() else {
        panic!("not a tier attainment chart")
    };
    assert_eq!(c.series[1].expected, [3.0, 4.0, 5.0]);
    let with_interval = TierAttainmentRequest {
        low: Some(matrix(2, 3)),
        high: Some(matrix(2, 3)),
        interval_label: Some("P5–P95".into()),
        ..attainment()
    };
    let AnyChart::TierAttainment(c) = with_interval.build().unwrap() else {
        panic!("not a tier attainment chart")
    };
    assert_eq!(c.interval_label, "P5–P95");
    assert_eq!(c.series[1].interval.as_deref().unwrap()[2], (5.0, 5.0));
    let wrong = TierAttainmentRequest {
        expected: matrix(3, 2),
        ..attainment()
    };
    assert!(refused(wrong.build()).contains(
        "tier attainment: expected has shape [3, 2], expected (2, 3) = (segments, tiers)"
    ));
    let one_side = TierAttainmentRequest {
        low: Some(matrix(2, 3)),
        ..attainment()
    };
    assert!(refused(one_side.build()).contains("give both low and high for intervals, or neither"));
}

fn fan() -> AccrualFanRequest {
    AccrualFanRequest {
        title: "Accrual".into(),
        currency: "EUR".into(),
        months: vec!["2027-01-31".into(), "2027-02-28".into()],
        names: vec!["accrual".into(), "cash".into()],
        values: vec![matrix(3, 2), matrix(5, 2)],
        layouts: vec!["paths".into(), "percentiles".into()],
        ..Default::default()
    }
}

#[test]
fn accrual_fan_layouts_dates_and_rows() {
    assert_eq!(fan().build().unwrap().kind(), "accrual_fan");
    let bad_date = AccrualFanRequest {
        months: vec!["2027-01-31".into(), "Feb 2027".into()],
        ..fan()
    };
    assert!(refused(bad_date.build())
        .contains("accrual fan: months[1] is \"Feb 2027\"; expected a date YYYY-MM-DD"));
    let four_rows = AccrualFanRequest {
        values: vec![matrix(3, 2), matrix(4, 2)],
        ..fan()
    };
    assert!(refused(four_rows.build()).contains("series 'cash' has 4 percentile rows; expected 5"));
    let layout = AccrualFanRequest {
        layouts: vec!["paths".into(), "bands".into()],
        ..fan()
    };
    assert!(refused(layout.build()).contains(
        "accrual fan: layout \"bands\" for series 'cash'; expected \"paths\" or \"percentiles\""
    ));
    let missing = AccrualFanRequest {
        layouts: vec!["paths".into()],
        ..fan()
    };
    assert!(refused(missing.build())
        .contains("accrual fan: layouts per series: expected 2 values, got 1"));
}

#[test]
fn risk_return_measures() {
    let request = RiskReturnRequest {
        title: "Risk".into(),
        currency: "EUR".into(),
        measure: "margin".into(),
        designs: vec!["A".into()],
        p95_payouts: vec![100.0],
        values: vec![50.0],
        ..Default::default()
    };
    let AnyChart::RiskReturn(c) = request.clone().build().unwrap() else {
        panic!("not a risk and return chart")
    };
    assert_eq!(c.measure, ReturnMeasure::IncrementalMargin);
    let bad = RiskReturnRequest {
        measure: "profit".into(),
        ..request
    };
    assert!(refused(bad.build())
        .contains("risk and return: measure \"profit\"; expected \"roi\" or \"margin\""));
}

#[test]
fn tornado_units_and_lists() {
    let request = TornadoRequest {
        title: "Tornado".into(),
        output: "Payout".into(),
        unit: "money".into(),
        unit_name: Some("EUR".into()),
        base: 10.0,
        assumptions: vec!["Noise".into()],
        low_labels: vec!["-25%".into()],
        high_labels: vec!["+25%".into()],
        lows: vec![8.0],
        highs: vec![13.0],
        low_se: Some(vec![Some(0.5)]),
        high_se: None,
        subtitle: None,
    };
    let AnyChart::Tornado(c) = request.clone().build().unwrap() else {
        panic!("not a tornado chart")
    };
    assert_eq!(c.unit, ValueUnit::Money("EUR".into()));
    assert_eq!((c.bars[0].low_se, c.bars[0].high_se), (Some(0.5), None));
    let no_currency = TornadoRequest {
        unit_name: None,
        ..request.clone()
    };
    assert!(refused(no_currency.build()).contains("unit \"money\" needs the currency (unit_name)"));
    let number = TornadoRequest {
        unit: "number".into(),
        unit_name: None,
        ..request.clone()
    };
    let AnyChart::Tornado(c) = number.build().unwrap() else {
        panic!("not a tornado chart")
    };
    assert_eq!(c.unit, ValueUnit::Number(String::new()));
    let unknown = TornadoRequest {
        unit: "kg".into(),
        ..request.clone()
    };
    assert!(refused(unknown.build()).contains("tornado: unit \"kg\"; expected"));
    let short = TornadoRequest {
        high_se: Some(vec![]),
        ..request
    };
    assert!(refused(short.build())
        .contains("tornado: high_se per assumption: expected 1 values, got 0"));
}
