//! The outcome list against the result it describes: every field of [`SimResult`] is either
//! run metadata or listed, every listed outcome has the length its shape says, and the
//! summaries are the engine's own.

use super::*;
use crate::demand::Model;
use crate::engine::{self, SimOptions};
use crate::population::Population;
use crate::programme::{Format, Programme};

/// The fields of [`SimResult`] that describe the run rather than hold outcomes.
const METADATA: &[&str] = &[
    "programme",
    "currency",
    "seed",
    "scenarios",
    "precision_met",
    "budget",
    "segments",
    "components",
    "ladders",
    "months",
    "cash_months",
    "partner_ids",
];

fn small_result() -> SimResult {
    let programme = Programme::from_str(
        r#"
name = "Outcomes"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 2
segments = ["a", "b"]
budget = 900
payment = { when = "period", lag_days = 45 }

[[components]]
id = "volume"
kind = "volume"
tiers = [{ from = 10000, percent = 1 }, { from = 20000, percent = 2 }]

[[components]]
id = "units"
kind = "per_unit"
amount = 0.5
"#,
        Format::Toml,
        None,
    )
    .unwrap()
    .compile()
    .unwrap();
    let population = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA1,a,90000\nA2,a,30000\nB1,b,60000\n",
        "partners",
    )
    .unwrap();
    let model = Model::from_str(
        "[noise]\nsigma = 0.3\n[economics]\nunit_price = 50\n",
        Format::Toml,
        None,
    ).unwrap();
    let options = SimOptions {
        scenarios: 6,
        seed: 3,
        threads: Some(1),
        ..SimOptions::default()
    };
    engine::simulate(&programme, &population, &model, &options).unwrap()
}

#[test]
fn names_are_unique_and_described() {
    for (i, o) in OUTCOMES.iter().enumerate() {
        assert!(
            OUTCOMES[..i].iter().all(|p| p.name != o.name),
            "{} twice",
            o.name
        );
        assert!(!o.description.is_empty(), "{} has no description", o.name);
        assert!(!METADATA.contains(&o.name), "{} is metadata", o.name);
    }
}

#[test]
fn every_result_field_is_metadata_or_a_listed_outcome() {
    let result = small_result();
    let json = serde_json::to_value(&result).unwrap();
    let fields: Vec<&str> = json.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for field in &fields {
        assert!(
            METADATA.contains(field) || OUTCOMES.iter().any(|o| o.name == *field),
            "SimResult::{field} is neither run metadata nor in outcomes::OUTCOMES"
        );
    }
    for o in OUTCOMES {
        assert!(fields.contains(&o.name), "{} is not a SimResult field", o.name);
    }
}

#[test]
fn values_are_the_field_with_the_length_of_the_shape() {
    let result = small_result();
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(result.segments.len(), 2);
    assert_eq!(result.components, ["units", "volume"]); // the compiled order
    for o in OUTCOMES {
        let (rows, columns) = o.shape.dims(&result);
        let values = o.values(&result);
        assert_eq!(
            values.len(),
            rows * columns.unwrap_or(1),
            "{}: {} values for {:?}",
            o.name,
            values.len(),
            o.shape
        );
        assert!(!values.is_empty(), "{} is empty", o.name);
        let as_json = match values {
            Values::F64(v) => serde_json::to_value(v),
            Values::U32(v) => serde_json::to_value(v),
            Values::Bool(v) => serde_json::to_value(v),
        }
        .unwrap();
        assert_eq!(as_json, json[o.name], "{} is not its field", o.name);
        assert_eq!(o.shape.per_scenario(), rows == result.scenarios);
    }
}

#[test]
fn shapes_follow_the_run() {
    let result = small_result();
    let dims = |shape: Shape| shape.dims(&result);
    assert_eq!(dims(Shape::Scenario), (6, None));
    assert_eq!(dims(Shape::ScenarioBySegment), (6, Some(2)));
    assert_eq!(dims(Shape::ScenarioByComponent), (6, Some(2)));
    // one ladder ("volume", 2 tiers): tiers 0, 1, 2 per scenario, 1 and 2 per partner
    assert_eq!(dims(Shape::ScenarioByTier), (6, Some(3)));
    assert_eq!(dims(Shape::PartnerByTier), (3, Some(2)));
    assert_eq!(dims(Shape::ScenarioByMonth), (6, Some(6)));
    assert_eq!(dims(Shape::Partner), (3, None));
    assert_eq!(dims(Shape::ScenarioByCashMonth), (6, Some(result.cash_months)));
    assert!(result.cash_months > result.months);
}

#[test]
fn summaries_are_the_engines_in_list_order() {
    let result = small_result();
    let summaries = result.outcome_summaries();
    let names: Vec<&str> = summaries.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "payout",
            "payout_before_budget",
            "budget_binding",
            "revenue",
            "revenue_counterfactual",
            "incremental_revenue",
            "incremental_margin",
            "roi",
            "payout_counterfactual",
            "deadweight_share",
            "stretches",
        ]
    );
    let find = |name: &str| &summaries.iter().find(|(n, _)| *n == name).unwrap().1;
    assert_eq!(
        find("payout"),
        &OutcomeSummary::Distribution(result.payout_summary())
    );
    assert!(matches!(find("payout"), OutcomeSummary::Distribution(s) if s.p_exceed.is_some()));
    assert_eq!(
        find("payout_before_budget"),
        &OutcomeSummary::Distribution(result.payout_before_budget_summary())
    );
    assert_eq!(
        find("budget_binding"),
        &OutcomeSummary::Probability(result.budget_binding())
    );
    assert_eq!(
        find("revenue"),
        &OutcomeSummary::Distribution(result.summarize(&result.revenue))
    );
}
