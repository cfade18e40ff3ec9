use super::*;

#[test]
fn changes_respect_ranges_and_segments() {
    let mut m = Model::default();
    m.noise.sigma = 0.2;
    m.noise.segments.insert("small".into(), 0.4);
    m.behaviour.stretch.max_probability = 0.8;
    let hi = apply_change(&m, "noise.sigma", Change::Scale(1.5)).unwrap();
    assert!((hi.noise.sigma - 0.3).abs() < 1e-12 && (hi.noise.get("small") - 0.6).abs() < 1e-12);
    let p = apply_change(&m, "behaviour.stretch.max_probability", Change::Scale(1.5)).unwrap();
    assert_eq!(p.behaviour.stretch.max_probability, 1.0);
    let w = apply_change(&m, "behaviour.stretch.window_months", Change::Scale(1.5)).unwrap();
    assert_eq!(w.behaviour.stretch.window_months, 2);
    let g = apply_change(&m, "growth.rate", Change::Add(-0.05)).unwrap();
    assert_eq!(g.growth.rate, -0.05);
    let e = apply_change(&m, "noise.sigmaa", Change::Scale(2.0))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown model parameter 'noise.sigmaa'") && e.contains("noise.sigma"),
        "{e}"
    );
    let e = apply_change(&m, "noise.sigma", Change::Scale(f64::NAN))
        .unwrap_err()
        .to_string();
    assert!(e.contains("finite"), "{e}");
    let e = apply_change(&m, "returns.share", Change::Set(1.5))
        .unwrap_err()
        .to_string();
    assert!(e.contains("'returns.share' cannot be set to 1.5"), "{e}");
    let e = apply_change(&m, "behaviour.stretch.window_months", Change::Set(2.5))
        .unwrap_err()
        .to_string();
    assert!(e.contains("whole number"), "{e}");
}

#[test]
fn labels() {
    assert_eq!(Change::Scale(0.5).label("noise.sigma"), "−50%");
    assert_eq!(Change::Scale(1.25).label("noise.sigma"), "+25%");
    assert_eq!(Change::Add(0.05).label("growth.rate"), "+5 pp");
    assert_eq!(Change::Add(-2.0).label("orders.per_month"), "−2");
    assert_eq!(Change::Set(0.0).label("behaviour.uplift.elasticity"), "off");
    assert_eq!(
        Change::Set(0.3).label("behaviour.pull_forward.share"),
        "= 0.3"
    );
}

#[test]
fn defaults_follow_the_model() {
    assert_eq!(
        default_assumptions(&Model::default())
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["Trend"]
    );
    let mut m = Model::default();
    m.market.sigma = 0.1;
    m.behaviour.uplift.elasticity = 1.0;
    m.behaviour.pull_forward.share = 0.3; // no effect without stretch: left out
    let names: Vec<String> = default_assumptions(&m)
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["Market volatility", "Trend", "Uplift elasticity"]);
    m.behaviour.stretch.enabled = true;
    let names: Vec<String> = default_assumptions(&m)
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(
        names,
        [
            "Market volatility",
            "Trend",
            "Stretch probability",
            "Stretch window",
            "Pull-forward",
            "Uplift elasticity"
        ]
    );
}

#[test]
fn categories_per_order_moves_when_set_and_is_refused_when_not() {
    let mut m = Model::default();
    let e = apply_change(&m, "orders.categories_per_order", Change::Scale(1.25))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'orders.categories_per_order' is not set in this model")
            && e.contains("all of a partner's categories"),
        "{e}"
    );
    assert!(!default_assumptions(&m)
        .iter()
        .any(|a| a.name == "Categories per order"));
    m.orders.categories_per_order = Some(1.2);
    m.orders
        .categories_per_order_segments
        .insert("online".into(), 2.0);
    // −25% of 1.2 is 0.9: limited to the valid minimum of one category an order
    let lo = apply_change(&m, "orders.categories_per_order", Change::Scale(0.75)).unwrap();
    assert_eq!(lo.orders.categories_per_order, Some(1.0));
    assert_eq!(lo.orders.categories_per_order_segments["online"], 1.5);
    let hi = apply_change(&m, "orders.categories_per_order", Change::Scale(1.25)).unwrap();
    assert_eq!(hi.orders.categories_per_order, Some(1.5));
    assert_eq!(hi.orders.categories_per_order_segments["online"], 2.5);
    assert_eq!(
        parameter_value(&hi, "orders.categories_per_order").unwrap(),
        1.5
    );
    let names: Vec<String> = default_assumptions(&m)
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["Trend", "Categories per order"]);
}

#[test]
fn size_elasticity_moves_by_addition_within_its_range() {
    let mut m = Model::default();
    let e = apply_change(&m, "orders.size_elasticity", Change::Add(0.25))
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not depend on its size"), "{e}");
    m.orders.per_month = 2.0;
    m.orders.size_elasticity = Some(1.0);
    m.orders.size_reference = Some(10_000.0);
    let hi = apply_change(&m, "orders.size_elasticity", Change::Add(0.25)).unwrap();
    assert_eq!(hi.orders.size_elasticity, Some(1.25));
    assert_eq!(hi.orders.size_reference, Some(10_000.0));
    let top = apply_change(&m, "orders.size_elasticity", Change::Add(5.0)).unwrap();
    assert_eq!(top.orders.size_elasticity, Some(3.0));
    assert_eq!(Change::Add(-0.25).label("orders.size_elasticity"), "−0.25");
    assert!(default_assumptions(&m)
        .iter()
        .any(|a| a.name == "Orders by size"));
}
