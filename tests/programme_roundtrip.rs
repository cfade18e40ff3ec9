//! File round trips are exact: Programme -> text -> Programme is equal in TOML, JSON
//! and YAML, and across formats (TOML -> JSON -> YAML -> TOML), for hand-picked
//! awkward values and for random valid programmes of every component kind.

use proptest::prelude::*;
use rebatesim::calendar::PeriodLength;
use rebatesim::money::Rounding;
use rebatesim::programme::values::{Date, Dec};
use rebatesim::programme::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

const FORMATS: [Format; 3] = [Format::Toml, Format::Json, Format::Yaml];

fn d(s: &str) -> Dec {
    Dec(Decimal::from_str(s).unwrap())
}

fn component(id: &str, kind: ComponentKind) -> Component {
    Component {
        id: id.into(),
        kind,
        name: None,
        description: None,
        segments: None,
        categories: None,
        partners: None,
        measure: None,
        returns: None,
        cap: None,
        exclusive_group: None,
        basis: None,
        method: None,
        tiers: None,
        basis_cap: None,
        applies_to: None,
        amount: None,
        above: None,
        minimums: None,
        percent: None,
        fixed: None,
        min_quantity: None,
        per_order: None,
    }
}

fn tier(from: &str, percent: &str) -> TierSpec {
    TierSpec {
        from: d(from),
        percent: Some(d(percent)),
        per_unit: None,
        fixed: None,
    }
}

/// A programme using every field, with awkward numbers and strings.
fn sample() -> Programme {
    let mut vol = component("volume", ComponentKind::Volume);
    vol.name = Some("Volume \"ladder\" — Q".into());
    vol.description = Some("line one\nline two: with # and 'quotes'".into());
    vol.segments = Some(vec!["installer".into(), "2027".into()]);
    vol.measure = Some(Measure::Cumulative);
    vol.returns = Some(Returns::Gross);
    vol.cap = Some(d("1234567.891"));
    vol.exclusive_group = Some("best".into());
    vol.basis = Some(Basis::Revenue);
    vol.method = Some(TierMethod::Rolling);
    vol.tiers = Some(vec![
        tier("0", "0.035"),
        tier("1234567.891", "3.5"),
        tier("1234567.891234567891", "99.999999"),
    ]);
    vol.basis_cap = Some(d("999999999999999.99"));
    let mut growth = component("growth", ComponentKind::Growth);
    growth.exclusive_group = Some("best".into());
    // 17 significant digits: more than a binary float holds, so it is written as text
    growth.cap = Some(d("28767.390194119514"));
    growth.applies_to = Some(GrowthApplies::Growth);
    growth.basis = Some(Basis::Units);
    growth.tiers = Some(vec![
        TierSpec {
            from: d("-12.5"),
            percent: None,
            per_unit: None,
            fixed: Some(d("0.01")),
        },
        TierSpec {
            from: d("0"),
            percent: None,
            per_unit: None,
            fixed: Some(d("250")),
        },
    ]);
    let mut upsell = component("upsell", ComponentKind::PerUnit);
    upsell.categories = Some(vec!["null".into(), "yes".into()]);
    upsell.amount = Some(d("0.000001"));
    upsell.above = Some(Above::Baseline(BaselineWord::Baseline));
    upsell.partners = Some(vec!["P-001".into(), "007".into()]);
    let mut upsell2 = component("upsell2", ComponentKind::PerUnit);
    upsell2.amount = Some(d("1.1"));
    upsell2.above = Some(Above::Units(d("12.75")));
    let mut bundle = component("bundle", ComponentKind::Bundle);
    bundle.minimums = Some(BTreeMap::from([
        ("null".to_string(), d("0.3")),
        ("yes".to_string(), d("5000")),
    ]));
    bundle.fixed = Some(d("0.1"));
    bundle.basis = Some(Basis::Units);
    let mut pallet = component("pallet", ComponentKind::Logistics);
    pallet.min_quantity = Some(d("48"));
    pallet.percent = Some(d("0.5"));
    Programme {
        name: "Distributor 2027: 'all' \"fields\"".into(),
        description: Some("  leading spaces\ttab".into()),
        currency: "EUR".into(),
        decimals: Some(2),
        rounding: Some(Rounding::HalfEven),
        start: Date(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
        period: PeriodLength::Quarter,
        periods: 4,
        segments: vec!["installer".into(), "2027".into(), "true".into()],
        categories: vec!["null".into(), "yes".into()],
        budget: Some(d("2500000.5")),
        partner_cap: Some(d("40000")),
        minimum_payout: Some(d("0")),
        payment: Some(Payment {
            when: PaymentTiming::End,
            lag_days: 45,
        }),
        components: vec![vol, growth, upsell, upsell2, bundle, pallet],
    }
}

fn round_trip(p: &Programme, format: Format) -> Programme {
    let text = p.to_string(format).unwrap();
    Programme::from_str(&text, format, None).unwrap_or_else(|e| panic!("{format:?}: {e}\n{text}"))
}

#[test]
fn sample_is_valid() {
    sample().compile().unwrap();
}

#[test]
fn sample_round_trips_in_every_format() {
    let p = sample();
    for format in FORMATS {
        let back = round_trip(&p, format);
        assert_eq!(back, p, "{format:?}\n{}", p.to_string(format).unwrap());
        // writing again gives the same text
        assert_eq!(
            back.to_string(format).unwrap(),
            p.to_string(format).unwrap()
        );
    }
}

#[test]
fn sample_round_trips_across_formats() {
    let p = sample();
    let json =
        Programme::from_str(&p.to_string(Format::Toml).unwrap(), Format::Toml, None).unwrap();
    let yaml =
        Programme::from_str(&json.to_string(Format::Json).unwrap(), Format::Json, None).unwrap();
    let toml =
        Programme::from_str(&yaml.to_string(Format::Yaml).unwrap(), Format::Yaml, None).unwrap();
    let back =
        Programme::from_str(&toml.to_string(Format::Toml).unwrap(), Format::Toml, None).unwrap();
    assert_eq!(back, p);
    assert_eq!(back.compile().unwrap(), p.compile().unwrap());
}

/// Writing does not require a valid programme (a half-built one from Python builders, say).
#[test]
fn invalid_programmes_round_trip_too() {
    let mut p = sample();
    p.components[0].tiers = Some(vec![]);
    p.components[4].minimums = Some(BTreeMap::new());
    p.segments = vec![];
    p.name = String::new();
    for format in FORMATS {
        assert_eq!(
            round_trip(&p, format),
            p,
            "{format:?}\n{}",
            p.to_string(format).unwrap()
        );
    }
    p.components.clear();
    for format in FORMATS {
        assert_eq!(
            round_trip(&p, format),
            p,
            "{format:?}\n{}",
            p.to_string(format).unwrap()
        );
    }
}

#[test]
fn value_tree_round_trip() {
    let p = sample();
    let v = p.to_value().unwrap();
    assert_eq!(v["start"], "2027-01-01");
    assert_eq!(v["components"][0]["tiers"][0]["percent"], 0.035);
    assert_eq!(Programme::from_value(v).unwrap(), p);
    // errors name the path, without a line
    let mut v = p.to_value().unwrap();
    v["components"][1]["kind"] = "growht".into();
    let Err(rebatesim::Error::Programme(e)) = Programme::from_value(v) else {
        panic!()
    };
    assert_eq!((e.path.as_str(), e.line), ("components[1].kind", None));
    assert!(e.message.contains("did you mean `growth`"), "{e}");
}

#[test]
fn toml_is_written_by_hand_style() {
    let text = sample().to_string(Format::Toml).unwrap();
    println!("{text}");
    assert!(text.contains("\nstart = 2027-01-01\n"), "{text}");
    assert!(text.contains("[[components]]"), "{text}");
    assert!(!text.contains("[[components.tiers]]"), "{text}");
    assert!(
        text.contains("tiers = [\n  { from = 0, percent = 0.035 },\n"),
        "{text}"
    );
    assert!(
        text.contains("minimums = { null = 0.3, yes = 5000 }"),
        "{text}"
    );
    assert!(text.contains("[payment]"), "{text}");
}

// ---------------------------------------------------------------- random programmes

/// Awkward exact decimals: integers, few and many decimals, values that are not exact in
/// binary floating point, and more digits than an f64 holds.
fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (0i64..1_000_000_000).prop_map(Decimal::from),
        (1i64..10_000_000_000, 0u32..7).prop_map(|(m, s)| Decimal::new(m, s)),
        (1i64..i64::MAX, 10u32..19).prop_map(|(m, s)| Decimal::new(m, s)),
        prop::sample::select(vec![
            "0.035",
            "1234567.891",
            "0.1",
            "0.3",
            "1234567.891234567891",
            "0.000001",
            "9.99e14"
        ])
        .prop_map(|s| Decimal::from_str(s)
            .or_else(|_| Decimal::from_scientific(s))
            .unwrap()),
    ]
}

fn positive_amount() -> impl Strategy<Value = Decimal> {
    amount().prop_map(|a| if a.is_zero() { Decimal::ONE } else { a })
}

fn pct() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (0i64..=100).prop_map(Decimal::from),
        (0i64..=100_000, 0u32..4).prop_map(|(m, s)| Decimal::new(m, s).min(Decimal::ONE_HUNDRED)),
        prop::sample::select(vec!["3.5", "0.035", "2.25", "99.999", "12.345678901234567"])
            .prop_map(|s| Decimal::from_str(s).unwrap()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9 _.-]{0,15}",
        prop::sample::select(vec![
            "null",
            "true",
            "yes",
            "~",
            "2027",
            "0.5",
            "- x",
            "a: b",
            "#hash",
            "é ü — ✓",
            "quote\"s",
            "new\nline"
        ])
        .prop_map(String::from),
    ]
}

fn names(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(pool.to_vec(), 1..=pool.len())
        .prop_map(|v| v.into_iter().map(String::from).collect())
}

const SEGMENTS: &[&str] = &["installer", "retail", "online", "2027", "null"];
const CATEGORIES: &[&str] = &["hardware", "software", "service", "yes", "0.5"];

#[derive(Debug, Clone, Copy)]
enum RewardKind {
    Percent,
    PerUnit,
    Fixed,
}

fn ladder(growth: bool) -> impl Strategy<Value = Vec<TierSpec>> {
    let kind = prop_oneof![
        Just(RewardKind::Percent),
        Just(RewardKind::PerUnit),
        Just(RewardKind::Fixed)
    ];
    let start = if growth {
        (-100i64..50).prop_map(Decimal::from).boxed()
    } else {
        amount().boxed()
    };
    (
        kind,
        start,
        prop::collection::vec((positive_amount(), pct(), amount()), 1..5),
    )
        .prop_map(|(kind, start, steps)| {
            let mut from = start;
            let mut tiers = Vec::new();
            for (i, (step, p, a)) in steps.into_iter().enumerate() {
                if i > 0 {
                    from += step.min(Decimal::from(1_000_000_000i64));
                }
                let mut t = TierSpec {
                    from: Dec(from),
                    percent: None,
                    per_unit: None,
                    fixed: None,
                };
                match kind {
                    RewardKind::Percent => t.percent = Some(Dec(p)),
                    RewardKind::PerUnit => t.per_unit = Some(Dec(a)),
                    RewardKind::Fixed => t.fixed = Some(Dec(a)),
                }
                tiers.push(t);
            }
            tiers
        })
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::of(s).boxed()
}

/// name, description, segments, categories, measure, returns, cap, exclusive_group
type Common = (
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
    Option<Vec<String>>,
    Option<Measure>,
    Option<Returns>,
    Option<Decimal>,
    Option<String>,
);

fn common() -> impl Strategy<Value = Common> {
    (
        opt(text().prop_filter("non-empty", |s| !s.trim().is_empty())),
        opt(text()),
        opt(names(SEGMENTS)),
        opt(names(CATEGORIES)),
        opt(prop_oneof![
            Just(Measure::Period),
            Just(Measure::Cumulative)
        ]),
        opt(prop_oneof![Just(Returns::Net), Just(Returns::Gross)]),
        opt(positive_amount()),
        opt(prop::sample::select(vec!["a", "best", "null"]).prop_map(String::from)),
    )
}

fn basis() -> BoxedStrategy<Option<Basis>> {
    opt(prop_oneof![Just(Basis::Revenue), Just(Basis::Units)])
}

fn a_component() -> impl Strategy<Value = Component> {
    let volume = (
        basis(),
        opt(prop_oneof![
            Just(TierMethod::Retroactive),
            Just(TierMethod::Incremental),
            Just(TierMethod::Rolling),
            Just(TierMethod::Total)
        ]),
        ladder(false),
        opt(positive_amount()),
    )
        .prop_map(|(basis, method, tiers, basis_cap)| {
            let mut c = component("", ComponentKind::Volume);
            c.basis = basis;
            c.method = method;
            c.tiers = Some(tiers);
            c.basis_cap = basis_cap.map(Dec);
            c
        });
    let growth = (
        basis(),
        opt(prop_oneof![
            Just(GrowthApplies::Whole),
            Just(GrowthApplies::Growth)
        ]),
        ladder(true),
    )
        .prop_map(|(basis, applies_to, tiers)| {
            let mut c = component("", ComponentKind::Growth);
            c.basis = basis;
            c.applies_to = applies_to;
            c.tiers = Some(tiers);
            c
        });
    let per_unit = (
        amount(),
        opt(prop_oneof![
            amount().prop_map(|a| Above::Units(Dec(a))),
            Just(Above::Baseline(BaselineWord::Baseline))
        ]),
    )
        .prop_map(|(amount, above)| {
            let mut c = component("", ComponentKind::PerUnit);
            c.amount = Some(Dec(amount));
            c.above = above;
            c
        });
    let bundle = (
        basis(),
        prop::collection::btree_map(prop::sample::select(CATEGORIES.to_vec()), amount(), 1..4),
        prop::bool::ANY,
        pct(),
        amount(),
    )
        .prop_map(|(basis, mins, use_percent, p, f)| {
            let mut c = component("", ComponentKind::Bundle);
            c.basis = basis;
            c.minimums = Some(
                mins.into_iter()
                    .map(|(k, v)| (k.to_string(), Dec(v)))
                    .collect(),
            );
            if use_percent {
                c.percent = Some(Dec(p));
            } else {
                c.fixed = Some(Dec(f));
            }
            c
        });
    let logistics =
        (positive_amount(), prop::bool::ANY, pct(), amount()).prop_map(|(q, use_percent, p, a)| {
            let mut c = component("", ComponentKind::Logistics);
            c.min_quantity = Some(Dec(q));
            if use_percent {
                c.percent = Some(Dec(p));
            } else {
                c.per_order = Some(Dec(a));
            }
            c
        });
    (
        prop_oneof![volume, growth, per_unit, bundle, logistics],
        common(),
    )
        .prop_map(
            |(mut c, (name, description, segments, categories, measure, returns, cap, group))| {
                c.name = name;
                c.description = description;
                c.segments = segments;
                // a bundle's minimums must lie within its own categories
                c.categories = match (&c.minimums, categories) {
                    (Some(m), Some(mut cats)) => {
                        for k in m.keys() {
                            if !cats.contains(k) {
                                cats.push(k.clone());
                            }
                        }
                        Some(cats)
                    }
                    (_, cats) => cats,
                };
                c.measure = measure;
                c.returns = returns;
                c.cap = cap.map(Dec);
                c.exclusive_group = group;
                c
            },
        )
}

fn a_programme() -> impl Strategy<Value = Programme> {
    (
        text().prop_filter("non-empty", |s| !s.trim().is_empty()),
        opt(text()),
        prop::sample::select(vec!["EUR", "USD", "JPY", "KWD", "CHF"]),
        opt(0u32..4),
        opt(prop_oneof![
            Just(Rounding::HalfUp),
            Just(Rounding::HalfEven),
            Just(Rounding::Down),
            Just(Rounding::Up)
        ]),
        (2000i32..2100, 1u32..13, 1u32..29),
        prop_oneof![
            Just(PeriodLength::Month),
            Just(PeriodLength::Quarter),
            Just(PeriodLength::Half),
            Just(PeriodLength::Year)
        ],
        1u32..25,
        (
            opt(positive_amount()),
            opt(positive_amount()),
            opt(amount()),
        ),
        opt((
            prop_oneof![Just(PaymentTiming::Period), Just(PaymentTiming::End)],
            0u32..400,
        )),
        prop::collection::vec(a_component(), 1..7),
    )
        .prop_map(
            |(
                name,
                description,
                currency,
                decimals,
                rounding,
                (y, m, day),
                period,
                periods,
                (budget, partner_cap, minimum_payout),
                payment,
                mut components,
            )| {
                for (i, c) in components.iter_mut().enumerate() {
                    c.id = format!("c{i}");
                }
                Programme {
                    name,
                    description,
                    currency: currency.into(),
                    decimals,
                    rounding,
                    start: Date(chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()),
                    period,
                    periods,
                    segments: SEGMENTS.iter().map(|s| s.to_string()).collect(),
                    categories: CATEGORIES.iter().map(|s| s.to_string()).collect(),
                    budget: budget.map(Dec),
                    partner_cap: partner_cap.map(Dec),
                    minimum_payout: minimum_payout.map(Dec),
                    payment: payment.map(|(when, lag_days)| Payment { when, lag_days }),
                    components,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_programmes_round_trip(p in a_programme()) {
        let compiled = p.compile().map_err(|e| TestCaseError::fail(format!("generated programme invalid: {e}")))?;
        for format in FORMATS {
            let text = p.to_string(format).unwrap();
            let back = Programme::from_str(&text, format, None)
                .map_err(|e| TestCaseError::fail(format!("{format:?}: {e}\n{text}")))?;
            prop_assert_eq!(&back, &p, "{:?}\n{}", format, text);
            prop_assert_eq!(back.compile().unwrap(), compiled.clone());
        }
        // across formats: TOML -> JSON -> YAML -> TOML
        let mut q = p.clone();
        for (from, to) in [(Format::Toml, Format::Json), (Format::Json, Format::Yaml), (Format::Yaml, Format::Toml)] {
            let text = q.to_string(from).unwrap();
            q = Programme::from_str(&text, from, None).unwrap();
            let text = q.to_string(to).unwrap();
            q = Programme::from_str(&text, to, None).unwrap();
        }
        prop_assert_eq!(&q, &p);
    }
}

// ---------------------------------------------------------------- located rule violations

/// One rule violation planted in component `i` of a valid programme: the path the error
/// must name, a text the reported line must contain, and for a repeated value the path of
/// its first occurrence (whose line must not be the one reported).
fn plant(p: &mut Programme, i: usize, which: u8) -> (String, String, Option<String>) {
    let n = p.components.len();
    let i = i % n;
    let c = &mut p.components[i];
    let base = format!("components[{i}]");
    match which % 6 {
        0 => {
            c.cap = Some(d("-7777.5"));
            (format!("{base}.cap"), "-7777.5".into(), None)
        }
        1 => {
            c.segments = Some(vec!["installer".into(), "nowhere_seg".into()]);
            (format!("{base}.segments[1]"), "nowhere_seg".into(), None)
        }
        2 if c.tiers.is_some() => {
            let t = &mut c.tiers.as_mut().unwrap()[0];
            if t.percent.is_some() {
                t.percent = Some(d("177.77"));
                (format!("{base}.tiers[0].percent"), "177.77".into(), None)
            } else if t.per_unit.is_some() {
                t.per_unit = Some(d("-177.77"));
                (format!("{base}.tiers[0].per_unit"), "-177.77".into(), None)
            } else {
                t.fixed = Some(d("-177.77"));
                (format!("{base}.tiers[0].fixed"), "-177.77".into(), None)
            }
        }
        3 if c.tiers.as_ref().is_some_and(|t| t.len() >= 2) => {
            let tiers = c.tiers.as_mut().unwrap();
            let last = tiers.len() - 1;
            tiers[last].from = tiers[last - 1].from;
            (
                format!("{base}.tiers[{last}].from"),
                "from".into(),
                Some(format!("{base}.tiers[{}].from", last - 1)),
            )
        }
        4 if i > 0 => {
            c.id = "c0".into();
            (
                format!("{base}.id"),
                "c0".into(),
                Some("components[0].id".into()),
            )
        }
        _ => {
            if c.kind == ComponentKind::Volume {
                c.amount = Some(d("7777.25"));
                (format!("{base}.amount"), "7777.25".into(), None)
            } else {
                c.basis_cap = Some(d("7777.25"));
                (format!("{base}.basis_cap"), "7777.25".into(), None)
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// A rule broken anywhere in a random programme is reported at its path and at the
    /// line that holds it, in every format.
    #[test]
    fn random_rule_violations_are_located(mut p in a_programme(), i in 0usize..8, which in 0u8..6) {
        let (path, needle, earlier) = plant(&mut p, i, which);
        for format in FORMATS {
            let text = p.to_string(format).unwrap();
            let back = Programme::from_str(&text, format, None).unwrap();
            let e = match back.compile_located(&text, format, Some("f")) {
                Err(rebatesim::Error::Programme(e)) => e,
                other => return Err(TestCaseError::fail(format!("{format:?}: expected an error at {path}, got {other:?}\n{text}"))),
            };
            prop_assert_eq!(&e.path, &path, "{:?}: {}\n{}", format, e, text);
            let line = e.line.ok_or_else(|| TestCaseError::fail(format!("{format:?}: no line: {e}\n{text}")))?;
            let line_text = text.lines().nth(line - 1).unwrap_or("");
            prop_assert!(line_text.contains(&needle), "{:?}: line {} {:?} lacks {:?}: {}\n{}", format, line, line_text, needle, e, text);
            // a repeated value is reported at its second occurrence
            if let Some(earlier) = &earlier {
                prop_assert_ne!(locate_field(&text, format, earlier).map(|l| l.0), Some(line), "{:?}: {}\n{}", format, e, text);
            }
        }
    }
}
