//! Every chart renders to well-formed SVG holding its title and series
//! labels, and to a PNG of the expected size with visible text (drawn with
//! the bundled font, no system font needed).

use chrono::NaiveDate;
use rebatesim::charts::*;

fn spread(n: usize, centre: f64, width: f64) -> Vec<f64> {
    // Deterministic, roughly bell-shaped sample: sum of three uniform grids.
    (0..n)
        .map(|i| {
            let a = (i * 7919 % n) as f64 / n as f64;
            let b = (i * 104_729 % n) as f64 / n as f64;
            let c = i as f64 / n as f64;
            centre + width * ((a + b + c) / 3.0 - 0.5)
        })
        .collect()
}

fn designs() -> Vec<DesignDistribution> {
    vec![
        DesignDistribution::new(
            "Current ladder",
            spread(2000, 1_180_000.0, 400_000.0),
            Some(0.42),
        ),
        DesignDistribution::new(
            "Steeper top tier",
            spread(2000, 1_310_000.0, 600_000.0),
            Some(0.55),
        ),
        DesignDistribution::new("Bands & cap <B>", spread(2000, 990_000.0, 200_000.0), None),
    ]
}

fn months(n: u32) -> Vec<NaiveDate> {
    (0..n)
        .map(|m| NaiveDate::from_ymd_opt(2027 + (m / 12) as i32, m % 12 + 1, 1).unwrap())
        .collect()
}

fn fan_series(name: &str, n: usize, scale: f64) -> FanSeries {
    let ramp = |k: f64| (1..=n).map(|m| scale * m as f64 * k).collect::<Vec<_>>();
    FanSeries::new(name, ramp(0.8), ramp(0.9), ramp(1.0), ramp(1.1), ramp(1.2))
}

/// One of each chart, with the labels its SVG must show.
fn samples() -> Vec<(AnyChart, Vec<&'static str>)> {
    vec![
        (
            PayoutDistribution::new(
                "Payout distribution 2027",
                "EUR",
                spread(5000, 1_200_000.0, 500_000.0),
            )
            .with_budget(1_400_000.0)
            .into(),
            vec![
                "Payout distribution 2027",
                "Mean",
                "P50",
                "P95",
                "Budget",
                "(EUR)",
                "Share of scenarios",
            ],
        ),
        (
            DesignComparison::new("Payout by design", "EUR", designs())
                .with_budget(1_400_000.0)
                .into(),
            vec![
                "Payout by design",
                "Current ladder",
                "Steeper top tier",
                "Bands & cap <B>",
                "ROI 42%",
                "ROI 55%",
                "(EUR)",
            ],
        ),
        (
            TierAttainment::new(
                "Tier attainment by segment",
                vec![
                    "No tier".into(),
                    "Bronze".into(),
                    "Silver".into(),
                    "Gold".into(),
                ],
                vec![
                    AttainmentSeries::new(
                        "Dealers",
                        vec![1210.0, 640.0, 255.0, 48.0],
                        Some(vec![
                            (1100.0, 1300.0),
                            (600.0, 700.0),
                            (230.0, 280.0),
                            (40.0, 56.0),
                        ]),
                    ),
                    AttainmentSeries::new("Distributors", vec![180.0, 310.0, 402.0, 133.0], None),
                ],
            )
            .into(),
            vec![
                "Tier attainment by segment",
                "Dealers",
                "Distributors",
                "Bronze",
                "Gold",
                "Expected partners",
                "1,210",
            ],
        ),
        (
            AccrualFan::new(
                "Liability and cash",
                "USD",
                months(12),
                vec![
                    fan_series("Accrued liability", 12, 100_000.0),
                    fan_series("Cash paid", 12, 60_000.0),
                ],
            )
            .with_budget(1_300_000.0)
            .into(),
            vec![
                "Liability and cash",
                "Accrued liability (median)",
                "Cash paid (median)",
                // several series: each band in its series' colour, P10 and P90 dashed
                "Accrued liability: P25–P75",
                "Cash paid: P25–P75",
                "P10 and P90",
                "Budget 1,300,000 USD",
                "Jan 2027",
                "(USD)",
            ],
        ),
        (
            RiskReturn::new(
                "Risk and return",
                "EUR",
                ReturnMeasure::Roi,
                vec![
                    RiskReturnPoint::new("Current ladder", 1_440_000.0, 0.42),
                    RiskReturnPoint::new("Steeper top tier", 1_700_000.0, -0.05),
                ],
            )
            .with_budget(1_400_000.0)
            .into(),
            vec![
                "Risk and return",
                "Current ladder",
                "Steeper top tier",
                "Expected ROI",
                "P95 total payout (EUR)",
                "break-even",
            ],
        ),
        (
            Tornado::new(
                "Sensitivity of payout",
                "Expected payout",
                ValueUnit::Money("EUR".into()),
                1_188_592.0,
                vec![
                    TornadoBar::new("Returns rate", "-1 pt", "+1 pt", 1_205_000.0, 1_171_000.0)
                        .with_se(2000.0, 2000.0),
                    TornadoBar::new(
                        "Demand growth",
                        "-2 pts",
                        "+2 pts",
                        1_090_000.0,
                        1_305_000.0,
                    ),
                ],
            )
            .into(),
            vec![
                "Sensitivity of payout",
                "Demand growth",
                "Returns rate",
                "-2 pts: 1.09M",
                "Base 1.19M",
                "Expected payout (EUR)",
                "±1.96 s.e.",
            ],
        ),
    ]
}

fn svg_texts(svg: &str) -> Vec<String> {
    assert!(
        svg.starts_with("<svg"),
        "SVG must start with <svg: {}",
        &svg[..svg.len().min(80)]
    );
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some("960"));
    assert_eq!(root.attribute("height"), Some("540"));
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn every_chart_renders_valid_svg_with_title_and_labels() {
    for (chart, expected) in samples() {
        let svg = chart
            .render_svg()
            .unwrap_or_else(|e| panic!("{}: {e}", chart.kind()));
        let texts = svg_texts(&svg);
        assert_eq!(
            texts.first().map(String::as_str),
            Some(chart.title()),
            "{}: title first",
            chart.kind()
        );
        for want in expected {
            assert!(
                texts.iter().any(|t| t.contains(want)),
                "{}: no text containing {want:?} in {texts:?}",
                chart.kind()
            );
        }
        assert!(
            svg.contains(FONT_FAMILY),
            "{}: uses the bundled font family",
            chart.kind()
        );
    }
}

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>, png::ColorType) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf, info.color_type)
}

#[test]
fn every_chart_renders_a_png_with_visible_text() {
    for (chart, _) in samples() {
        let bytes = chart
            .render_png()
            .unwrap_or_else(|e| panic!("{}: {e}", chart.kind()));
        let (w, h, rgb, colour) = decode_png(&bytes);
        assert_eq!((w, h), (960, 540), "{}", chart.kind());
        assert_eq!(colour, png::ColorType::Rgb);
        // The title is drawn at the top left: dark glyph pixels must be there,
        // which proves the bundled font rasterised.
        let dark = (14..40)
            .flat_map(|y| (24..300).map(move |x| (x, y)))
            .filter(|(x, y)| {
                let i = ((*y * w + *x) * 3) as usize;
                rgb[i] < 90 && rgb[i + 1] < 90 && rgb[i + 2] < 90
            })
            .count();
        assert!(
            dark > 100,
            "{}: title text not drawn ({dark} dark pixels)",
            chart.kind()
        );
        // Not one flat colour: the plot itself drew.
        let distinct: std::collections::BTreeSet<&[u8]> = rgb.chunks(3).collect();
        assert!(
            distinct.len() > 20,
            "{}: only {} colours",
            chart.kind(),
            distinct.len()
        );
    }
}

#[test]
fn png_scales_for_high_density_screens() {
    let chart = PayoutDistribution::new("Scaled", "EUR", vec![1.0, 2.0, 3.0]);
    let (w, h, _, _) = decode_png(&chart.render_png_scaled(2.0).unwrap());
    assert_eq!((w, h), (1920, 1080));
    assert!(matches!(
        chart.render_png_scaled(0.0),
        Err(rebatesim::Error::Request(_))
    ));
    assert!(matches!(
        chart.render_png_scaled(f64::NAN),
        Err(rebatesim::Error::Request(_))
    ));
}

#[test]
fn custom_size_is_honoured() {
    let mut chart = RiskReturn::new(
        "Small",
        "EUR",
        ReturnMeasure::IncrementalMargin,
        vec![RiskReturnPoint::new("A", 100_000.0, 25_000.0)],
    );
    chart.size = (640, 400);
    let svg = chart.render_svg().unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(doc.root_element().attribute("width"), Some("640"));
    let (w, h, _, _) = decode_png(&chart.render_png().unwrap());
    assert_eq!((w, h), (640, 400));
    chart.size = (10, 10);
    assert!(matches!(
        chart.render_svg(),
        Err(rebatesim::Error::Request(_))
    ));
}

#[test]
fn risk_return_before_the_budget_cut_says_so() {
    let mut chart = RiskReturn::new(
        "Risk",
        "EUR",
        ReturnMeasure::Roi,
        vec![
            RiskReturnPoint::new("A", 2_400_000.0, 0.3),
            RiskReturnPoint::new("B", 2_900_000.0, 0.2),
        ],
    )
    .with_budget(2_300_000.0);
    let after = chart.render_svg().unwrap();
    assert!(!after.contains("before the budget cut") && !after.contains("before budget"));
    chart.before_budget = true;
    let svg = chart.render_svg().unwrap();
    assert!(svg.contains("P95 total payout before the budget cut (EUR)"));
    assert!(svg.contains("P95 2.4M before budget") && svg.contains("P95 2.9M before budget"));
}

#[test]
fn rendering_is_deterministic() {
    for (chart, _) in samples() {
        assert_eq!(
            chart.render_svg().unwrap(),
            chart.render_svg().unwrap(),
            "{}",
            chart.kind()
        );
    }
}

#[test]
fn save_chooses_format_by_extension_and_writes_atomically() {
    let dir = std::env::temp_dir().join(format!("rebatesim-charts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chart = TierAttainment::new(
        "Saved",
        vec!["Bronze".into()],
        vec![AttainmentSeries::new("All partners", vec![12.0], None)],
    );
    chart.save(dir.join("a.svg")).unwrap();
    chart.save(dir.join("b.PNG")).unwrap();
    let svg = std::fs::read_to_string(dir.join("a.svg")).unwrap();
    assert!(svg_texts(&svg).iter().any(|t| t == "Saved"));
    let (w, _, _, _) = decode_png(&std::fs::read(dir.join("b.PNG")).unwrap());
    assert_eq!(w, 960);
    // Overwrite keeps a complete file; no temporary files are left behind.
    chart.save(dir.join("a.svg")).unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    let err = chart.save(dir.join("c.pdf")).unwrap_err();
    assert!(
        matches!(&err, rebatesim::Error::Request(m) if m.contains(".svg or .png")),
        "{err}"
    );
    let err = chart
        .save(dir.join("missing-folder").join("d.svg"))
        .unwrap_err();
    assert!(matches!(err, rebatesim::Error::Io { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fan_series_from_scenario_paths() {
    let paths: Vec<Vec<f64>> = (0..101).map(|s| vec![s as f64, 2.0 * s as f64]).collect();
    let f = FanSeries::from_paths("Accrued", &paths).unwrap();
    assert_eq!(f.p50, vec![50.0, 100.0]);
    assert_eq!(f.p10, vec![10.0, 20.0]);
    assert_eq!(f.p90, vec![90.0, 180.0]);
    assert!(FanSeries::from_paths("x", &[]).is_err());
    assert!(FanSeries::from_paths("x", &[vec![1.0], vec![1.0, 2.0]]).is_err());
    assert!(FanSeries::from_paths("x", &[vec![f64::NAN]]).is_err());
}

#[test]
fn tornado_sorts_by_swing() {
    let t = Tornado::new(
        "T",
        "ROI",
        ValueUnit::Percent,
        0.3,
        vec![
            TornadoBar::new("small", "-", "+", 0.29, 0.31),
            TornadoBar::new("big", "-", "+", 0.1, 0.5),
            TornadoBar::new("reversed", "-", "+", 0.4, 0.2),
        ],
    );
    let order: Vec<&str> = t
        .sorted_bars()
        .iter()
        .map(|b| b.assumption.as_str())
        .collect();
    assert_eq!(order, ["big", "reversed", "small"]);
    let texts = svg_texts(&t.render_svg().unwrap());
    assert!(texts.iter().any(|s| s == "Base 30.0%"), "{texts:?}");
}

#[test]
fn tier_attainment_leaves_out_tiers_a_ladder_does_not_have() {
    // "online" has three tiers, "installer" four: NaN marks the missing one
    let chart = TierAttainment::new(
        "Partners by highest tier reached",
        vec![
            "Tier 1".into(),
            "Tier 2".into(),
            "Tier 3".into(),
            "Tier 4".into(),
        ],
        vec![
            AttainmentSeries::new("installer", vec![500.0, 360.0, 170.0, 60.0], None),
            AttainmentSeries::new(
                "online",
                vec![140.0, 80.0, 40.0, f64::NAN],
                Some(vec![
                    (130.0, 150.0),
                    (70.0, 90.0),
                    (35.0, 45.0),
                    (f64::NAN, f64::NAN),
                ]),
            ),
        ],
    );
    let svg = chart.render_svg().unwrap();
    assert!(svg.contains("Tier 4") && !svg.contains("NaN"));
    assert!(chart.render_png().is_ok());
    let none = TierAttainment::new(
        "t",
        vec!["Tier 1".into()],
        vec![AttainmentSeries::new("online", vec![f64::NAN], None)],
    );
    let err = none.render_svg().unwrap_err().to_string();
    assert!(err.contains("all NaN"), "{err}");
}

/// The payouts held at a binding budget are a bar of their own ("budget binds: 24%"), and the
/// histogram's bars cover the other 76% (issue 20: the spike used to merge with the bar below
/// it). Bar heights are read from the SVG's rectangles standing on the x axis.
#[test]
fn payout_distribution_draws_the_budget_spike_as_its_own_bar() {
    // 1,000 scenarios cut to a budget at their 76th percentile: 24% held at it
    let mut payouts = spread(1000, 2_000_000.0, 1_000_000.0);
    let mut sorted = payouts.clone();
    sorted.sort_by(f64::total_cmp);
    let budget = sorted[760];
    payouts.iter_mut().for_each(|v| *v = v.min(budget));
    assert_eq!(payouts.iter().filter(|v| **v == budget).count(), 240);
    let chart = PayoutDistribution::new("Payout distribution", "EUR", payouts)
        .with_budget(budget)
        .with_subtitle("the budget binds in 24% of scenarios");
    let svg = chart.render_svg().unwrap();
    let texts = svg_texts(&svg);
    assert!(
        texts.iter().any(|t| t == "budget binds: 24%"),
        "no spike label in {texts:?}"
    );
    assert!(texts.iter().any(|t| t == "Held at the budget"));
    assert!(texts
        .iter()
        .any(|t| t == "Share of scenarios below the budget"));

    // filled rectangles: (fill, x, width, bottom, height)
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let num = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    let rects: Vec<(String, f64, f64, f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill").is_some_and(|f| f != "none"))
        .map(|n| {
            let (y, h) = (num(&n, "y"), num(&n, "height"));
            let fill = n.attribute("fill").unwrap().to_uppercase();
            (fill, num(&n, "x"), num(&n, "width"), y + h, h)
        })
        .collect();
    // the x axis: where the spike's bar stands
    let spike: Vec<_> = rects
        .iter()
        .filter(|r| r.0 == "#C81E2D" && r.4 > 20.0)
        .collect();
    assert_eq!(spike.len(), 1, "one spike bar: {spike:?}");
    let axis = spike[0].3;
    let bars: Vec<_> = rects
        .iter()
        .filter(|r| r.0 == "#4E79A7" && (r.3 - axis).abs() < 1.5)
        .collect();
    assert!(bars.len() >= 5, "{bars:?}");
    let total: f64 = bars.iter().map(|r| r.4).sum::<f64>() + spike[0].4;
    let spike_share = spike[0].4 / total;
    assert!((spike_share - 0.24).abs() < 0.01, "spike {spike_share}");
    // the spike stands against the budget line, on its right; the bars end at the line
    let line = spike[0].1;
    let right = bars.iter().map(|r| r.1 + r.2).fold(f64::MIN, f64::max);
    assert!(
        (right - line).abs() <= 1.5,
        "the bars end at {right}, the spike starts at {line}"
    );

    // a budget binding rarely, in the middle of the distribution: the spike is lower than the
    // bars around it, and the automatic subtitle says how often the budget binds
    let mut payouts = spread(1000, 2_000_000.0, 1_000_000.0);
    let budget = sorted[980];
    payouts.iter_mut().for_each(|v| *v = v.min(budget));
    let small = PayoutDistribution::new("Payout distribution", "EUR", payouts).with_budget(budget);
    let texts = svg_texts(&small.render_svg().unwrap());
    assert!(texts.iter().any(|t| t == "budget binds: 2%"), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("the budget binds in 2.0% of scenarios")),
        "{texts:?}"
    );

    // every scenario held at the budget: the spike alone
    let all = PayoutDistribution::new("Always at the budget", "EUR", vec![budget; 200])
        .with_budget(budget);
    let texts = svg_texts(&all.render_svg().unwrap());
    assert!(texts.iter().any(|t| t == "budget binds: 100%"), "{texts:?}");
    // payouts on both sides of the budget and some at it: the spike is centred on the line
    let mut both = spread(1000, 2_000_000.0, 1_000_000.0);
    both.extend([budget; 100]);
    let both = PayoutDistribution::new("Some at the budget", "EUR", both).with_budget(budget);
    let texts = svg_texts(&both.render_svg().unwrap());
    assert!(texts.iter().any(|t| t == "budget binds: 9%"), "{texts:?}");

    if let Ok(dir) = std::env::var("REBATESIM_CHART_DIR") {
        let dir = std::path::Path::new(&dir);
        chart.save(dir.join("budget_spike.png")).unwrap();
        small.save(dir.join("budget_spike_small.png")).unwrap();
        all.save(dir.join("budget_spike_all.png")).unwrap();
        both.save(dir.join("budget_spike_both_sides.png")).unwrap();
    }
}

#[test]
fn a_title_wider_than_the_chart_wraps_instead_of_running_off_it() {
    let title = "Sensitivity of expected payout: Nordlicht Elektro Partner Incentive 2027 (under 20 parameter draws)";
    let mut chart = RiskReturn::new(
        title,
        "EUR",
        ReturnMeasure::IncrementalMargin,
        vec![RiskReturnPoint::new("A", 100_000.0, 25_000.0)],
    );
    chart.size = (640, 400);
    let svg = chart.render_svg().unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    // two lines, each a part of the title, together the whole title (or its start and an ellipsis)
    assert!(
        texts[0].len() < title.len() && title.starts_with(&texts[0]),
        "{texts:?}"
    );
    let rest = title[texts[0].len()..].trim_start();
    assert!(
        texts[1] == rest
            || (texts[1].ends_with('…') && rest.starts_with(texts[1].trim_end_matches('…'))),
        "{texts:?}"
    );
    // a title that fits stays one line
    chart.size = (1920, 400);
    let svg = chart.render_svg().unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let first = doc.descendants().find(|n| n.has_tag_name("text")).unwrap();
    assert_eq!(first.text().unwrap().trim(), title);
}
