//! Calibration with a past programme: stretch from bunching at its thresholds and
//! pull-forward, on synthetic histories whose behaviour is known (generated here, not with the
//! estimator's code); `as_of`; a programme the history never comes near.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rebatesim::calibrate::{calibrate, calibrate_with, Options};
use rebatesim::data::Transactions;
use rebatesim::programme::{Compiled, Format, Programme};
use rust_decimal::Decimal;

const PROGRAMME: &str = r#"
name = "Past ladder"
currency = "EUR"
start = 2024-01-01
period = "quarter"
periods = 4
[[components]]
id = "volume"
kind = "volume"
method = "retroactive"
tiers = [{ from = 30000, percent = 2 }, { from = 60000, percent = 3 }]
"#;

fn programme(text: &str) -> Compiled {
    Programme::from_str(text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

fn options() -> Options {
    Options {
        draws: 2,
        bootstrap: 30,
        warn_segment_partners: 0,
        ..Options::default()
    }
}

/// `n` partners × 36 months (2024–2026), quarterly volumes spread smoothly around the
/// thresholds 30,000 and 60,000; a partner-quarter whose volume falls within 10% below a
/// threshold buys the shortfall in the quarter's last month with probability `p`, and `pull`
/// of that purchase is missing from the next quarter's first month.
fn history(n: usize, p: f64, pull: f64, seed: u64) -> Transactions {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let thresholds = [30_000.0, 60_000.0];
    let mut tx = Transactions {
        table: "history".into(),
        partner_keys: Vec::new(),
        partner_key: Vec::new(),
        date: Vec::new(),
        quantity: Vec::new(),
        revenue: Vec::new(),
        category_keys: Vec::new(),
        category: None,
        order_keys: Default::default(),
        order: None,
    };
    for i in 0..n {
        tx.partner_keys.push(format!("P{i:05}"));
        let z: f64 = StandardNormal.sample(&mut rng);
        let level = 38_000.0 * (0.6 * z).exp() / 3.0; // per month
        let mut months = [0.0f64; 36];
        for m in months.iter_mut() {
            let e: f64 = StandardNormal.sample(&mut rng);
            *m = level * (0.25 * e - 0.03125).exp();
        }
        for q in 0..12 {
            let v: f64 = months[3 * q..3 * q + 3].iter().sum();
            let Some(&th) = thresholds.iter().find(|&&t| v < t && v >= 0.9 * t) else {
                continue;
            };
            if rng.random::<f64>() < p {
                let extra = th - v + 1.0;
                months[3 * q + 2] += extra;
                if q + 1 < 12 {
                    months[3 * q + 3] = (months[3 * q + 3] - pull * extra).max(1.0);
                }
            }
        }
        for (t, &m) in months.iter().enumerate() {
            tx.partner_key.push(i as u32);
            tx.date.push(
                NaiveDate::from_ymd_opt(2024 + t as i32 / 12, t as u32 % 12 + 1, 20).unwrap(),
            );
            tx.quantity.push(Decimal::ONE);
            tx.revenue.push(
                Decimal::from_f64_retain((m * 100.0).round() / 100.0)
                    .unwrap()
                    .round_dp(2),
            );
        }
    }
    tx
}

#[test]
fn bunching_at_a_notch_recovers_the_stretch_share_and_the_pull_forward() {
    let tx = history(2500, 0.4, 0.5, 11);
    let c = calibrate_with(&tx, None, Some(&programme(PROGRAMME)), &options()).unwrap();
    let b = c.behaviour.as_ref().expect("behaviour estimated");
    assert!(b.notch);
    assert_eq!(b.components, vec!["volume".to_string()]);
    assert!(b.observations > 15_000, "{}", b.observations);
    // the stretch share in [−10%, 0): 40% of the partner-periods there moved over
    assert!(b.share_se > 0.0 && b.share_se < 0.05, "se {}", b.share_se);
    assert!(
        (b.share - 0.4).abs() < 4.0 * b.share_se,
        "{} ± {}",
        b.share,
        b.share_se
    );
    // the mass appears just above the threshold
    assert!(b.normalised > 3.0 * b.normalised_se);
    // pull-forward: half of the stretch purchase is missing from the next quarter
    assert!(b.pull_forward.is_finite());
    assert!(
        (b.pull_forward - 0.5).abs() < 4.0 * b.pull_forward_se + 0.1,
        "{} ± {}",
        b.pull_forward,
        b.pull_forward_se
    );
    // the model carries it: stretch on, window 10%, pull-forward share
    let st = &c.model.behaviour.stretch;
    assert!(st.enabled);
    assert_eq!(st.max_shortfall, 0.10);
    assert!(st.max_probability >= b.share - 1e-12 && st.max_probability <= 1.0);
    assert!(c.model.behaviour.pull_forward.share > 0.0);
    c.model.validate().unwrap();
    // the sensitivity table covers windows × degrees, and the estimates name the parameters
    assert_eq!(b.sensitivity.len(), 18);
    assert!(c.estimate("behaviour.stretch.share_in_window").is_some());
    assert!(c.estimate("behaviour.pull_forward.share").is_some());
    // uplift: an explicit assumption with a warning
    let up = c.estimate("behaviour.uplift.elasticity").unwrap();
    assert_eq!(up.value, 0.0);
    assert!(up.method.starts_with("assumption"));
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("uplift is an assumption")));
    // the model file reads back
    let back =
        rebatesim::demand::Model::from_str(&c.model_text().unwrap(), Format::Toml, None).unwrap();
    assert_eq!(back, c.model);
}

#[test]
fn no_bunching_leaves_stretch_off() {
    let tx = history(2500, 0.0, 0.0, 12);
    let c = calibrate_with(&tx, None, Some(&programme(PROGRAMME)), &options()).unwrap();
    let b = c.behaviour.as_ref().unwrap();
    assert!(
        b.share.abs() < 4.0 * b.share_se,
        "{} ± {}",
        b.share,
        b.share_se
    );
    assert!(!c.model.behaviour.stretch.enabled);
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("no bunching above the thresholds")));
}

#[test]
fn thresholds_the_history_never_approaches_are_a_warning_naming_them() {
    let tx = history(200, 0.4, 0.5, 13);
    let far = PROGRAMME
        .replace("30000", "30000000")
        .replace("60000", "60000000");
    let c = calibrate_with(&tx, None, Some(&programme(&far)), &options()).unwrap();
    assert!(c.behaviour.is_none());
    let w = c
        .warnings
        .iter()
        .find(|w| w.contains("never approaches its tier thresholds"))
        .expect("warning");
    assert!(w.contains("programme 'Past ladder'"), "{w}");
    assert!(w.contains("% of the lowest threshold"), "{w}");
    assert!(!c.model.behaviour.stretch.enabled);
}

#[test]
fn as_of_uses_whole_months_up_to_the_date() {
    let tx = history(60, 0.0, 0.0, 14);
    let cut = |d: &str| Options {
        as_of: Some(d.parse().unwrap()),
        ..options()
    };
    let c = calibrate(&tx, None, &cut("2025-12-31")).unwrap();
    assert_eq!(c.months, 24);
    assert!(!c
        .warnings
        .iter()
        .any(|w| w.contains("falls inside a month")));
    let c = calibrate(&tx, None, &cut("2025-12-15")).unwrap();
    assert_eq!(c.months, 23);
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("as_of 2025-12-15 falls inside a month") && w.contains("2025-11-30")));
    // too early: the short-history error names as_of
    let e = calibrate(&tx, None, &cut("2024-09-30"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("covers 9 months") && e.contains("up to as_of 2024-09-30"),
        "{e}"
    );
    let e = calibrate(&tx, None, &cut("2023-01-31"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no line dated on or before 2023-01-31"), "{e}");
}

#[test]
fn the_fit_charts_render_from_a_calibration() {
    use rebatesim::charts::{AnyChart, Chart, FitCharts};
    let tx = history(300, 0.4, 0.5, 15);
    let c = calibrate_with(&tx, None, Some(&programme(PROGRAMME)), &options()).unwrap();
    let charts = FitCharts::of(&c);
    let svgs = charts.svgs().unwrap();
    let names: Vec<&str> = svgs.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "seasonality",
            "trend",
            "residual_qq",
            "annual_volume",
            "churn",
            "bunching"
        ]
    );
    for (name, svg) in &svgs {
        assert!(svg.starts_with("<svg") && svg.len() > 2_000, "{name}");
    }
    assert!(svgs[0].1.contains("Seasonality per segment"));
    assert!(svgs[5]
        .1
        .contains("Bunching at the tier thresholds of Past ladder"));
    // PNG through the bundled font, and the kind names of the generic chart
    let png = charts.churn.render_png().unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let any: AnyChart = charts.bunching.clone().unwrap().into();
    assert_eq!(any.kind(), "fit_bunching");
    // without a programme: five charts
    let c = calibrate(&tx, None, &options()).unwrap();
    assert_eq!(FitCharts::of(&c).svgs().unwrap().len(), 5);
    // bad data is an error naming the chart, not a panic
    let mut bad = FitCharts::of(&c).qq;
    bad.residuals = vec![f64::NAN];
    assert!(bad
        .render_svg()
        .unwrap_err()
        .to_string()
        .contains("residual QQ plot"));
}

/// Two complete years with segments: the segment factor is estimated after the segments'
/// seasonality only (since session 27; before, not at all), and the year-effect statistic
/// after seasonality and trend must not leak into the seasonality's standard errors (it did:
/// SEs of 10⁴ and infinite draws, from a near-zero denominator).
#[test]
fn two_years_with_segments_give_finite_seasonality_errors_and_valid_draws() {
    use rebatesim::data::Partners;
    let tx = history(300, 0.0, 0.0, 16);
    let mut csv = String::from("partner_id,segment\n");
    for i in 0..300 {
        csv.push_str(&format!("P{i:05},{}\n", ["a", "b", "c"][i % 3]));
    }
    let partners = Partners::from_csv_str(&csv, "partners").unwrap();
    let opts = Options {
        as_of: Some("2025-12-31".parse().unwrap()),
        draws: 5,
        ..options()
    };
    let c = calibrate(&tx, Some(&partners), &opts).unwrap();
    assert_eq!(c.months, 24);
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("fewer than three complete years")));
    let sg = c
        .estimate("segment_factor.sigma")
        .expect("estimated from two years");
    assert!(
        sg.value.is_finite() && sg.se.is_finite() && sg.hi90 < 3.0,
        "{sg:?}"
    );
    for e in c
        .estimates
        .iter()
        .filter(|e| e.parameter.contains("log_effect"))
    {
        assert!(e.se.is_finite() && e.se < 0.5, "{}: {}", e.parameter, e.se);
    }
    assert_eq!(c.draws.len(), 5);
    for d in &c.draws {
        d.model.validate().unwrap();
    }
}
