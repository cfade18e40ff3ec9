//! Requests resolved as the front ends rely on: names, defaults and the errors of bad ones.

use super::*;
use crate::sensitivity::Moves;

fn message(e: Error) -> String {
    e.to_string()
}

#[test]
fn formats_by_name_in_any_case() {
    assert_eq!(parse_format("TOML").unwrap(), Format::Toml);
    assert_eq!(parse_format("json").unwrap(), Format::Json);
    assert_eq!(parse_format("yml").unwrap(), Format::Yaml);
    assert_eq!(parse_format("Yaml").unwrap(), Format::Yaml);
    let e = parse_format("XML").unwrap_err();
    assert!(matches!(e, Error::Request(_)));
    assert!(message(e).contains("unknown format \"xml\": expected \"toml\", \"json\" or \"yaml\""));
}

#[test]
fn statistics_are_the_mean_or_a_percentile_inside_0_100() {
    assert_eq!(parse_statistic(" Mean ").unwrap(), Statistic::Mean);
    assert_eq!(parse_statistic("p95").unwrap(), Statistic::Percentile(0.95));
    assert_eq!(
        parse_statistic("P99.5").unwrap(),
        Statistic::Percentile(0.995)
    );
    for bad in ["p0", "p100", "median", "p", "95"] {
        let e = message(parse_statistic(bad).unwrap_err());
        assert!(
            e.contains(&format!(
                "unknown statistic \"{bad}\": expected \"mean\" or a percentile"
            )),
            "{e}"
        );
    }
}

#[test]
fn dates_are_iso_and_name_their_field() {
    assert_eq!(
        parse_date("as_of", " 2027-06-30 ").unwrap(),
        NaiveDate::from_ymd_opt(2027, 6, 30).unwrap()
    );
    let e = message(parse_date("as_of", "30/06/2027").unwrap_err());
    assert!(
        e.contains("as_of: expected a date written YYYY-MM-DD, found \"30/06/2027\""),
        "{e}"
    );
}

#[test]
fn forecast_threads_are_checked_and_none_is_all() {
    assert_eq!(forecast_threads(None).unwrap(), 0);
    assert_eq!(forecast_threads(Some(2)).unwrap(), 2);
    assert!(message(forecast_threads(Some(0)).unwrap_err()).contains("threads must be at least 1"));
    assert!(forecast_threads(Some(1_000_000)).is_err());
}

#[test]
fn indexes_are_checked_against_their_length() {
    assert!(check_index("partner", 2, 3).is_ok());
    let e = message(check_index("segment", 3, 3).unwrap_err());
    assert!(e.contains("segment index 3 out of range"), "{e}");
}

#[test]
fn designs_need_one_name_each() {
    assert!(check_design_names(2, 2).is_ok());
    let e = message(check_design_names(1, 2).unwrap_err());
    assert!(e.contains("compare: one name per programme"), "{e}");
}

#[test]
fn run_options_default_to_the_engines() {
    let options = RunRequest::basic(50, 7, Some(2)).resolve().unwrap();
    let defaults = SimOptions::default();
    assert_eq!(
        (options.scenarios, options.seed, options.threads),
        (50, 7, Some(2))
    );
    assert_eq!(
        (options.chunk_size, options.precision, options.memory_limit),
        (defaults.chunk_size, None, defaults.memory_limit)
    );
    assert!(options.progress.is_none() && options.cancel.is_none());
    // a statistic without a tolerance sets no target
    let request = RunRequest {
        statistic: Some("p95".into()),
        ..RunRequest::basic(10, 1, None)
    };
    assert_eq!(request.resolve().unwrap().precision, None);
}

#[test]
fn a_tolerance_sets_a_precision_target() {
    let request = RunRequest {
        tolerance: Some(100.0),
        chunk_size: Some(8),
        memory_limit: Some(1 << 20),
        ..RunRequest::basic(0, 1, None)
    };
    let settings = request.resolve().unwrap();
    // the mean by default, at most max(scenarios, 1) scenarios
    assert_eq!(
        settings.precision,
        Some(Precision::new(Statistic::Mean, 100.0, 1))
    );
    assert_eq!((settings.chunk_size, settings.memory_limit), (8, 1 << 20));
    let request = RunRequest {
        statistic: Some("p90".into()),
        tolerance: Some(5.0),
        max_scenarios: Some(4000),
        ..RunRequest::basic(200, 1, None)
    };
    assert_eq!(
        request.resolve().unwrap().precision,
        Some(Precision::new(Statistic::Percentile(0.9), 5.0, 4000))
    );
    let bad = RunRequest {
        statistic: Some("mode".into()),
        tolerance: Some(5.0),
        ..RunRequest::basic(200, 1, None)
    };
    assert!(message(bad.resolve().unwrap_err()).contains("unknown statistic \"mode\""));
    let options = request.resolve().unwrap();
    assert_eq!((options.scenarios, options.seed), (200, 1));
}

fn change(kind: Option<&str>, value: Option<f64>) -> ChangeRequest {
    ChangeRequest {
        kind: kind.map(str::to_owned),
        value,
    }
}

#[test]
fn parameter_assumptions() {
    let a = AssumptionRequest {
        name: "Noise".into(),
        parameter: Some("noise.sigma".into()),
        low: change(Some("scale"), Some(0.5)),
        high: change(None, Some(0.4)),
        high_label: Some("40%".into()),
        ..AssumptionRequest::default()
    }
    .resolve()
    .unwrap();
    assert_eq!(a.name, "Noise");
    assert_eq!(a.high_label, "40%");
    assert!(matches!(
        a.moves,
        Moves::Parameter { ref path, low: Change::Scale(l), high: Change::Set(h) }
            if path == "noise.sigma" && l == 0.5 && h == 0.4
    ));
    let no_value = AssumptionRequest {
        name: "Noise".into(),
        parameter: Some("noise.sigma".into()),
        low: change(Some("add"), Some(0.1)),
        high: change(Some("add"), None),
        ..AssumptionRequest::default()
    };
    let e = message(no_value.resolve().unwrap_err());
    assert!(
        e.contains("assumption 'Noise': the high setting has no value"),
        "{e}"
    );
    let bad_kind = AssumptionRequest {
        name: "Noise".into(),
        parameter: Some("noise.sigma".into()),
        low: change(Some("times"), Some(2.0)),
        high: change(Some("add"), Some(0.1)),
        ..AssumptionRequest::default()
    };
    let e = message(bad_kind.resolve().unwrap_err());
    assert!(
        e.contains("unknown low change 'times': expected scale, add or set"),
        "{e}"
    );
}

#[test]
fn model_assumptions_and_mixtures() {
    let a = AssumptionRequest {
        name: "Market".into(),
        low_model: Some(Model::default()),
        high_model: Some(Model::default()),
        ..AssumptionRequest::default()
    }
    .resolve()
    .unwrap();
    assert_eq!(
        (a.low_label.as_str(), a.high_label.as_str()),
        ("low", "high")
    );
    assert!(matches!(a.moves, Moves::Models { .. }));
    for mixed in [
        AssumptionRequest {
            name: "Mixed".into(),
            parameter: Some("noise.sigma".into()),
            low_model: Some(Model::default()),
            high_model: Some(Model::default()),
            ..AssumptionRequest::default()
        },
        AssumptionRequest {
            name: "Mixed".into(),
            low_model: Some(Model::default()),
            ..AssumptionRequest::default()
        },
    ] {
        let e = message(mixed.resolve().unwrap_err());
        assert!(
            e.contains("assumption 'Mixed': give either a parameter"),
            "{e}"
        );
    }
}
