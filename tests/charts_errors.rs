//! Degenerate inputs: empty or non-finite data is a clear `Error::Request`
//! naming the chart and field (never a panic); legitimate but degenerate data
//! (every scenario paying the same, a single month, zero partners) draws.

use chrono::NaiveDate;
use rebatesim::charts::*;
use rebatesim::Error;

fn request_error(r: rebatesim::Result<String>, wants: &[&str]) {
    match r {
        Err(Error::Request(m)) => {
            for w in wants {
                assert!(m.contains(w), "message {m:?} should mention {w:?}");
            }
        }
        other => panic!("expected Error::Request, got {other:?}"),
    }
}

fn renders(chart: impl Into<AnyChart>) {
    let chart: AnyChart = chart.into();
    let svg = chart
        .render_svg()
        .unwrap_or_else(|e| panic!("{}: {e}", chart.kind()));
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let png = chart
        .render_png()
        .unwrap_or_else(|e| panic!("{}: {e}", chart.kind()));
    assert_eq!(&png[..4], b"\x89PNG");
}

#[test]
fn payout_distribution_degenerate_inputs() {
    request_error(
        PayoutDistribution::new("t", "EUR", vec![]).render_svg(),
        &["payout distribution", "empty"],
    );
    request_error(
        PayoutDistribution::new("t", "EUR", vec![1.0, f64::NAN]).render_svg(),
        &["payouts[1]", "NaN", "finite"],
    );
    request_error(
        PayoutDistribution::new("t", "EUR", vec![1.0])
            .with_budget(f64::INFINITY)
            .render_svg(),
        &["budget"],
    );
    assert!(matches!(
        PayoutDistribution::new("t", "EUR", vec![]).render_png(),
        Err(Error::Request(_))
    ));
    // Every scenario pays the same (e.g. nobody reaches a tier): still a chart.
    renders(PayoutDistribution::new("all zero", "EUR", vec![0.0; 1000]));
    renders(
        PayoutDistribution::new("all equal", "EUR", vec![250_000.0; 10]).with_budget(100_000.0),
    );
    renders(PayoutDistribution::new("one", "EUR", vec![42.0]));
    renders(PayoutDistribution::new(
        "negative",
        "EUR",
        vec![-5_000.0, 2_000.0, 10_000.0],
    ));
    renders(PayoutDistribution::new(
        "huge",
        "EUR",
        vec![1e12, 2e12, 3e12],
    ));
}

#[test]
fn design_comparison_degenerate_inputs() {
    request_error(
        DesignComparison::new("t", "EUR", vec![]).render_svg(),
        &["design comparison", "empty"],
    );
    request_error(
        DesignComparison::new("t", "EUR", vec![DesignDistribution::new("A", vec![], None)])
            .render_svg(),
        &["'A'", "no scenarios"],
    );
    request_error(
        DesignComparison::new(
            "t",
            "EUR",
            vec![DesignDistribution::new("A", vec![1.0], Some(f64::NAN))],
        )
        .render_svg(),
        &["designs[0].expected_roi"],
    );
    renders(DesignComparison::new(
        "flat",
        "EUR",
        vec![
            DesignDistribution::new("A", vec![5.0; 50], Some(0.0)),
            DesignDistribution::new("B", vec![7.0], None),
        ],
    ));
    let many: Vec<DesignDistribution> = (0..12)
        .map(|i| {
            DesignDistribution::new(
                format!("Design number {i} with a long descriptive name"),
                vec![1.0, 2.0, 3.0],
                Some(0.1),
            )
        })
        .collect();
    renders(DesignComparison::new("many", "EUR", many));
}

#[test]
fn tier_attainment_degenerate_inputs() {
    let tiers = || vec!["Bronze".to_string(), "Gold".to_string()];
    request_error(
        TierAttainment::new("t", vec![], vec![]).render_svg(),
        &["tiers is empty"],
    );
    request_error(
        TierAttainment::new("t", tiers(), vec![]).render_svg(),
        &["series is empty"],
    );
    request_error(
        TierAttainment::new(
            "t",
            tiers(),
            vec![AttainmentSeries::new("S", vec![1.0], None)],
        )
        .render_svg(),
        &["series[0]", "1 expected values for 2 tiers"],
    );
    request_error(
        TierAttainment::new(
            "t",
            tiers(),
            vec![AttainmentSeries::new("S", vec![1.0, -2.0], None)],
        )
        .render_svg(),
        &["negative"],
    );
    request_error(
        TierAttainment::new(
            "t",
            tiers(),
            vec![AttainmentSeries::new(
                "S",
                vec![1.0, 2.0],
                Some(vec![(0.0, 2.0)]),
            )],
        )
        .render_svg(),
        &["1 intervals for 2 tiers"],
    );
    request_error(
        TierAttainment::new(
            "t",
            tiers(),
            vec![AttainmentSeries::new(
                "S",
                vec![1.0, 2.0],
                Some(vec![(0.0, 2.0), (3.0, 1.0)]),
            )],
        )
        .render_svg(),
        &["interval[1]", "low ≤ high"],
    );
    renders(TierAttainment::new(
        "nobody qualifies",
        tiers(),
        vec![AttainmentSeries::new(
            "S",
            vec![0.0, 0.0],
            Some(vec![(0.0, 0.0), (0.0, 0.0)]),
        )],
    ));
}

#[test]
fn accrual_fan_degenerate_inputs() {
    let m = |n: u32| {
        (1..=n)
            .map(|k| NaiveDate::from_ymd_opt(2027, k, 1).unwrap())
            .collect::<Vec<_>>()
    };
    let flat = |name: &str, n: usize, v: f64| {
        FanSeries::new(
            name,
            vec![v; n],
            vec![v; n],
            vec![v; n],
            vec![v; n],
            vec![v; n],
        )
    };
    request_error(
        AccrualFan::new("t", "EUR", vec![], vec![]).render_svg(),
        &["months is empty"],
    );
    request_error(
        AccrualFan::new("t", "EUR", m(2), vec![]).render_svg(),
        &["series is empty"],
    );
    request_error(
        AccrualFan::new("t", "EUR", m(3), vec![flat("A", 2, 1.0)]).render_svg(),
        &["2 values for 3 months"],
    );
    let mut bad = flat("A", 2, 1.0);
    bad.p90[1] = f64::NAN;
    request_error(
        AccrualFan::new("t", "EUR", m(2), vec![bad]).render_svg(),
        &["series[0].p90[1]"],
    );
    let mut crossed = flat("A", 2, 1.0);
    crossed.p10[0] = 5.0;
    request_error(
        AccrualFan::new("t", "EUR", m(2), vec![crossed]).render_svg(),
        &["p10 ≤ p25"],
    );
    renders(AccrualFan::new("one month", "EUR", m(1), vec![flat("A", 1, 100.0)]).with_budget(50.0));
    renders(AccrualFan::new(
        "all zero",
        "EUR",
        m(12),
        vec![flat("A", 12, 0.0)],
    ));
    let long: Vec<NaiveDate> = (0..60)
        .map(|k| NaiveDate::from_ymd_opt(2027 + k / 12, (k % 12) as u32 + 1, 1).unwrap())
        .collect();
    renders(AccrualFan::new(
        "five years",
        "EUR",
        long,
        vec![flat("A", 60, 10.0)],
    ));
}

#[test]
fn risk_return_degenerate_inputs() {
    request_error(
        RiskReturn::new("t", "EUR", ReturnMeasure::Roi, vec![]).render_svg(),
        &["points is empty"],
    );
    request_error(
        RiskReturn::new(
            "t",
            "EUR",
            ReturnMeasure::Roi,
            vec![RiskReturnPoint::new("A", f64::NAN, 0.1)],
        )
        .render_svg(),
        &["points[0].p95_payout"],
    );
    renders(RiskReturn::new(
        "same point twice",
        "EUR",
        ReturnMeasure::Roi,
        vec![
            RiskReturnPoint::new("A", 1e6, 0.2),
            RiskReturnPoint::new("B", 1e6, 0.2),
        ],
    ));
    renders(RiskReturn::new(
        "zero",
        "EUR",
        ReturnMeasure::IncrementalMargin,
        vec![RiskReturnPoint::new("A", 0.0, 0.0)],
    ));
}

#[test]
fn tornado_degenerate_inputs() {
    let unit = || ValueUnit::Money("EUR".into());
    request_error(
        Tornado::new("t", "Payout", unit(), 1.0, vec![]).render_svg(),
        &["bars is empty"],
    );
    request_error(
        Tornado::new(
            "t",
            "Payout",
            unit(),
            f64::NAN,
            vec![TornadoBar::new("a", "-", "+", 1.0, 2.0)],
        )
        .render_svg(),
        &["base"],
    );
    request_error(
        Tornado::new(
            "t",
            "Payout",
            unit(),
            1.0,
            vec![TornadoBar::new("a", "-", "+", 1.0, 2.0).with_se(-1.0, 0.0)],
        )
        .render_svg(),
        &["bars[0].low_se"],
    );
    renders(Tornado::new(
        "no swing",
        "Payout",
        unit(),
        1.0,
        vec![TornadoBar::new("a", "-", "+", 1.0, 1.0)],
    ));
    renders(Tornado::new(
        "partners",
        "Gold partners",
        ValueUnit::Number("partners".into()),
        40.0,
        vec![TornadoBar::new(
            "An assumption with a very long name indeed, longer than the label column",
            "-",
            "+",
            30.0,
            55.0,
        )],
    ));
}

/// The size rule lives in charts: `check_size` and `AnyChart::set_size` refuse what rendering
/// refuses, with the same message, and a refused size leaves the chart as it was.
#[test]
fn size_rule_is_checked_up_front_as_rendering_checks_it() {
    use rebatesim::charts::{check_size, AnyChart, Chart, PayoutDistribution};
    assert!(check_size((320, 200)).is_ok() && check_size((4000, 4000)).is_ok());
    for bad in [(319, 540), (960, 199), (4001, 540), (960, 4001), (0, 0)] {
        let up_front = check_size(bad).unwrap_err().to_string();
        let mut chart = PayoutDistribution::new("T", "EUR", vec![1.0, 2.0]);
        chart.size = bad;
        let at_render = chart.render_svg().unwrap_err().to_string();
        assert_eq!(up_front, at_render);
        assert!(up_front.contains("320–4000"), "{up_front}");
        let mut any = AnyChart::from(PayoutDistribution::new("T", "EUR", vec![1.0, 2.0]));
        assert_eq!(any.set_size(bad).unwrap_err().to_string(), up_front);
        assert_eq!(any.size(), rebatesim::charts::DEFAULT_SIZE);
    }
    let mut any = AnyChart::from(PayoutDistribution::new("T", "EUR", vec![1.0, 2.0]));
    any.set_size((640, 480)).unwrap();
    assert_eq!(any.size(), (640, 480));
}
