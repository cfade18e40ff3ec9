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
    // input uncertainty: the run's draws and each scenario's (the parameter_variance table)
    "parameter_draws",
    "parameter_draw",
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
    )
    .unwrap();
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
    let fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    for field in &fields {
        assert!(
            METADATA.contains(field) || OUTCOMES.iter().any(|o| o.name == *field),
            "SimResult::{field} is neither run metadata nor in outcomes::OUTCOMES"
        );
    }
    for o in OUTCOMES {
        assert!(
            fields.contains(&o.name),
            "{} is not a SimResult field",
            o.name
        );
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
    assert_eq!(
        dims(Shape::ScenarioByCashMonth),
        (6, Some(result.cash_months))
    );
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

/// The tables of [`arrow`]: every outcome of the list in its table, its values bit for bit.
mod tables {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, UInt32Type, UInt64Type};
    use arrow_array::{Array, RecordBatch};

    /// The values of `column` of `batch`, flattened (a fixed-size list row after row), as
    /// the bits of f64 / u32 / bool so that NaN compares equal to itself.
    fn bits(batch: &RecordBatch, column: &str) -> Vec<u64> {
        let c = batch.column_by_name(column).unwrap();
        let flat = match c.as_fixed_size_list_opt() {
            Some(list) => list.values().clone(),
            None => c.clone(),
        };
        if let Some(a) = flat.as_primitive_opt::<Float64Type>() {
            a.values().iter().map(|v| v.to_bits()).collect()
        } else if let Some(a) = flat.as_primitive_opt::<UInt32Type>() {
            a.values().iter().map(|&v| v as u64).collect()
        } else {
            flat.as_boolean()
                .iter()
                .map(|v| v.unwrap() as u64)
                .collect()
        }
    }

    fn expected(values: Values<'_>) -> Vec<u64> {
        match values {
            Values::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
            Values::U32(v) => v.iter().map(|&x| x as u64).collect(),
            Values::Bool(v) => v.iter().map(|&x| x as u64).collect(),
        }
    }

    #[test]
    fn every_outcome_is_a_column_of_its_table_with_its_values() {
        let r = small_result();
        let scenarios = r.scenarios_batch().unwrap();
        let partners = r.partners_batch().unwrap();
        assert_eq!(scenarios.num_rows(), r.scenarios);
        assert_eq!(partners.num_rows(), r.partner_ids.len());
        let names = |b: &RecordBatch| -> Vec<String> {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        };
        let by_scenario: Vec<String> = OUTCOMES
            .iter()
            .filter(|o| o.shape.per_scenario())
            .map(|o| o.name.to_owned())
            .collect();
        let mut by_partner = vec!["partner_id".to_owned()];
        by_partner.extend(
            OUTCOMES
                .iter()
                .filter(|o| !o.shape.per_scenario())
                .map(|o| o.name.to_owned()),
        );
        assert_eq!(names(&scenarios), by_scenario);
        assert_eq!(names(&partners), by_partner);
        for o in OUTCOMES {
            let batch = if o.shape.per_scenario() {
                &scenarios
            } else {
                &partners
            };
            let column = batch.column_by_name(o.name).unwrap();
            match o.shape.dims(&r) {
                (_, None) => assert!(column.as_fixed_size_list_opt().is_none(), "{}", o.name),
                (_, Some(k)) => {
                    assert_eq!(
                        column.as_fixed_size_list().value_length() as usize,
                        k,
                        "{}",
                        o.name
                    )
                }
            }
            assert_eq!(bits(batch, o.name), expected(o.values(&r)), "{}", o.name);
        }
        let ids = partners.column(0).as_string::<i32>();
        assert_eq!(
            ids.iter().map(|s| s.unwrap()).collect::<Vec<_>>(),
            ["A1", "A2", "B1"]
        );
    }

    #[test]
    fn summaries_are_rows_of_statistics() {
        let r = small_result();
        let b = r.summaries_batch().unwrap();
        let outcome = b.column_by_name("outcome").unwrap().as_string::<i32>();
        let statistic = b.column_by_name("statistic").unwrap().as_string::<i32>();
        let value = b
            .column_by_name("value")
            .unwrap()
            .as_primitive::<Float64Type>();
        let se = b
            .column_by_name("se")
            .unwrap()
            .as_primitive::<Float64Type>();
        let summaries = r.outcome_summaries();
        // nine rows per distribution (n, mean, sd, five percentiles, p_exceed), one per probability
        let expected: usize = summaries
            .iter()
            .map(|(_, s)| {
                if matches!(s, OutcomeSummary::Probability(_)) {
                    1
                } else {
                    9
                }
            })
            .sum();
        assert_eq!(b.num_rows(), expected);
        let find = |o: &str, s: Option<&str>| {
            (0..b.num_rows())
                .find(|&i| {
                    outcome.value(i) == o
                        && statistic.is_valid(i) == s.is_some()
                        && s.is_none_or(|s| statistic.value(i) == s)
                })
                .unwrap()
        };
        let payout = r.payout_summary();
        let i = find("payout", Some("mean"));
        assert_eq!(
            (value.value(i), se.value(i)),
            (payout.mean.value, payout.mean.se)
        );
        let i = find("payout", Some("n"));
        assert_eq!(value.value(i), r.scenarios as f64);
        assert!(se.is_null(i));
        // a budget: P(exceed) is an estimate; the revenue has no threshold
        assert!(value.is_valid(find("payout", Some("p_exceed"))));
        assert!(value.is_null(find("revenue", Some("p_exceed"))));
        let p = crate::summary::probability(r.budget_binds.iter().copied());
        let i = find("budget_binding", None);
        assert_eq!((value.value(i), se.value(i)), (p.value, p.se));
    }

    #[test]
    fn the_metadata_is_one_row() {
        let r = small_result();
        let b = r.meta_batch().unwrap();
        assert_eq!(b.num_rows(), 1);
        let seed = b
            .column_by_name("seed")
            .unwrap()
            .as_primitive::<UInt64Type>();
        assert_eq!(seed.value(0), r.seed);
        let budget = b
            .column_by_name("budget")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(budget.value(0), 900.0);
        let ladders = b.column_by_name("ladders").unwrap().as_list::<i32>();
        let ladder = ladders.value(0);
        let ladder = ladder.as_struct();
        assert_eq!(ladder.len(), r.ladders.len());
        assert_eq!(ladder.column(0).as_string::<i32>().value(0), "volume");
        assert_eq!(ladder.column(1).as_primitive::<UInt64Type>().value(0), 2);
        let segments = b
            .column_by_name("segments")
            .unwrap()
            .as_list::<i32>()
            .value(0);
        let segments = segments.as_string::<i32>();
        assert_eq!(
            segments.iter().map(|s| s.unwrap()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
