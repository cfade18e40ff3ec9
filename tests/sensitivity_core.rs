//! One-at-a-time sensitivity: effects, common random numbers, reproducibility, errors.

use rebatesim::charts::{Chart, ValueUnit};
use rebatesim::demand::Model;
use rebatesim::engine::{Precision, SimOptions, Statistic};
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Format, Programme};
use rebatesim::sensitivity::{
    default_assumptions, sensitivity, Assumption, Change, Output, Sensitivity, SensitivityOptions,
};
use rebatesim::Error;
use std::sync::Mutex;

fn programme(returns: &str) -> Compiled {
    // quarterly retroactive ladder whose first threshold is above a typical partner's
    // quarter: the payout is a convex function of volume
    Programme::from_str(
        &format!(
            r#"
name = "Quarterly ladder"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
segments = ["small", "large"]

[[components]]
id = "volume"
kind = "volume"
method = "retroactive"
returns = "{returns}"
tiers = [{{ from = 30000, percent = 2 }}, {{ from = 40000, percent = 4 }}]
"#
        ),
        Format::Toml,
        None,
    )
    .unwrap()
    .compile()
    .unwrap()
}

/// 300 partners; annual baselines 80k–160k (quarters of 20k–40k), margin 30%.
fn population() -> Population {
    let mut csv = String::from("partner_id,segment,baseline_revenue,margin_rate\n");
    for i in 0..300 {
        let seg = if i % 4 == 0 { "large" } else { "small" };
        let base = 80_000.0 + 80_000.0 * ((i * 37) % 101) as f64 / 100.0;
        csv += &format!("P{i:04},{seg},{base},0.3\n");
    }
    Population::from_csv_str(&csv, "partners.csv").unwrap()
}

fn model(text: &str) -> Model {
    Model::from_str(text, Format::Toml, None).unwrap()
}

const MODEL: &str = r#"
[growth]
rate = 0.02
[market]
sigma = 0.1
[partner_factor]
sigma = 0.1
[noise]
sigma = 0.2
[churn]
monthly_hazard = 0.005
[returns]
share = 0.04
[behaviour.uplift]
elasticity = 1.0
"#;

fn options(scenarios: usize, assumptions: Option<Vec<Assumption>>) -> SensitivityOptions<'static> {
    SensitivityOptions {
        sim: SimOptions {
            scenarios,
            seed: 11,
            ..Default::default()
        },
        assumptions,
    }
}

fn run(returns: &str, model_text: &str, opts: &SensitivityOptions) -> Sensitivity {
    sensitivity(&programme(returns), &population(), &model(model_text), opts).unwrap()
}

/// MODEL without behaviour: uplift depends on the effective rebate rate, a share of revenue
/// net of returns, so returns do move a gross programme's payout through uplift.
const DEMAND_ONLY: &str = r#"
[growth]
rate = 0.02
[market]
sigma = 0.1
[partner_factor]
sigma = 0.1
[noise]
sigma = 0.2
[churn]
monthly_hazard = 0.005
[returns]
share = 0.04
"#;

#[test]
fn returns_do_not_move_the_payout_of_a_gross_programme() {
    let a = vec![Assumption::parameter(
        "Returns",
        "returns.share",
        Change::Scale(0.0),
        Change::Scale(2.0),
    )];
    let s = run("gross", DEMAND_ONLY, &options(200, Some(a.clone())));
    let r = s.row("Returns").unwrap();
    assert_eq!(
        (r.low_value, r.base_value, r.high_value),
        (Some(0.0), Some(0.04), Some(0.08))
    );
    assert!(
        s.base.payout.mean.value > 10_000.0,
        "{:?}",
        s.base.payout.mean
    );
    let tiny = 1e-9 * s.base.payout.mean.value;
    assert!(
        r.swing.payout.mean.value.abs() <= tiny && r.swing.payout.mean.se <= tiny,
        "{:?}",
        r.swing.payout.mean
    );
    // the same returns do move a net programme's payout, down when they rise
    let s = run("net", DEMAND_ONLY, &options(200, Some(a)));
    let r = s.row("Returns").unwrap();
    let d = r.swing.payout.mean;
    assert!(d.value < -5.0 * d.se, "{d:?}");
    assert!(
        r.low.payout.mean.value > s.base.payout.mean.value
            && s.base.payout.mean.value > r.high.payout.mean.value
    );
}

#[test]
fn more_partner_noise_raises_payout_under_a_convex_ladder() {
    let a = vec![Assumption::parameter(
        "Partner noise",
        "noise.sigma",
        Change::Scale(0.5),
        Change::Scale(2.0),
    )];
    let s = run("net", MODEL, &options(300, Some(a)));
    let r = &s.rows[0];
    assert_eq!(r.parameter.as_deref(), Some("noise.sigma"));
    assert_eq!(
        (r.low_label.as_str(), r.high_label.as_str()),
        ("−50%", "+100%")
    );
    let (lo, base, hi) = (
        r.low.payout.mean.value,
        s.base.payout.mean.value,
        r.high.payout.mean.value,
    );
    assert!(lo < base && base < hi, "{lo} {base} {hi}");
    for d in [
        r.low_vs_base.payout.mean,
        r.high_vs_base.payout.mean,
        r.swing.payout.mean,
    ] {
        assert!(d.value.abs() > 4.0 * d.se, "{d:?}");
    }
    assert!(r.high.payout.p95.value > r.low.payout.p95.value);
    // the paired mean difference is exactly the difference of the means
    let diff = r.high.payout.mean.value - s.base.payout.mean.value;
    assert!((r.high_vs_base.payout.mean.value - diff).abs() < 1e-6 * base);
}

#[test]
fn common_random_numbers_shrink_the_standard_error() {
    let s = run("net", MODEL, &options(200, None));
    assert!(
        s.rows.len() >= 6,
        "{:?}",
        s.rows.iter().map(|r| &r.assumption).collect::<Vec<_>>()
    );
    for r in &s.rows {
        let paired = r.swing.payout.mean.se;
        let independent = (r.low.payout.mean.se.powi(2) + r.high.payout.mean.se.powi(2)).sqrt();
        eprintln!(
            "{}: paired {paired} vs independent {independent}",
            r.assumption
        );
        // moving a volatility rescales the very draws both runs share, so pairing helps less
        let bound = if r.assumption == "Market volatility" {
            0.8
        } else {
            0.3
        };
        assert!(
            paired < bound * independent,
            "{}: paired {paired} vs independent {independent}",
            r.assumption
        );
    }
    // rows come largest payout swing first
    let swings: Vec<f64> = s
        .rows
        .iter()
        .map(|r| r.swing_size(Output::Payout))
        .collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{swings:?}");
    // market volatility's swing is the noisiest: the paired SE of the others is far below it
    let market = s.row("Market volatility").unwrap();
    assert!(market.swing.payout.mean.se > 0.0);
}

#[test]
fn bit_identical_for_any_thread_count() {
    let mut results = Vec::new();
    let a = vec![
        Assumption::parameter(
            "Market volatility",
            "market.sigma",
            Change::Scale(0.5),
            Change::Scale(1.5),
        ),
        Assumption::parameter(
            "Uplift",
            "behaviour.uplift.elasticity",
            Change::Set(0.0),
            Change::Scale(1.5),
        ),
    ];
    for threads in [1, 2, 3] {
        let mut o = options(150, Some(a.clone()));
        o.sim.threads = Some(threads);
        o.sim.chunk_size = 16 + threads;
        results.push(format!("{:?}", run("net", MODEL, &o)));
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn progress_covers_every_run_and_cancels() {
    let a = vec![
        Assumption::parameter(
            "Partner noise",
            "noise.sigma",
            Change::Scale(0.75),
            Change::Scale(1.25),
        ),
        Assumption::parameter(
            "Trend",
            "growth.rate",
            Change::Add(-0.05),
            Change::Add(0.05),
        ),
    ];
    let seen = Mutex::new(Vec::new());
    let cb = |done: usize, total: usize| {
        seen.lock().unwrap().push((done, total));
        true
    };
    let mut o = options(100, Some(a.clone()));
    o.sim.chunk_size = 25;
    o.sim.progress = Some(&cb);
    sensitivity(&programme("net"), &population(), &model(MODEL), &o).unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 5 * 4);
    assert!(seen.iter().all(|&(_, t)| t == 500));
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(seen.last(), Some(&(500, 500)));

    let stop = |done: usize, _: usize| done < 150;
    let mut o = options(100, Some(a));
    o.sim.chunk_size = 25;
    o.sim.progress = Some(&stop);
    let e = sensitivity(&programme("net"), &population(), &model(MODEL), &o).unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
}

#[test]
fn precision_control_fixes_the_scenarios_of_every_run() {
    let a = vec![Assumption::parameter(
        "Trend",
        "growth.rate",
        Change::Add(-0.05),
        Change::Add(0.05),
    )];
    let mut o = options(0, Some(a));
    o.sim.precision = Some(Precision {
        check_every: 50,
        ..Precision::new(Statistic::Mean, 1e12, 400)
    });
    let s = run("net", MODEL, &o);
    assert_eq!(s.scenarios, 50);
    assert_eq!(s.rows[0].low.payout.n, 50);
    assert_eq!(s.rows[0].high.payout.n, 50);
}

#[test]
fn models_as_assumptions_and_tornado() {
    let base = model(MODEL);
    let mut flat = base.clone();
    flat.seasonality.factors = vec![1.0; 12];
    let mut peaky = base.clone();
    peaky.seasonality.factors = vec![0.5, 0.5, 2.0, 0.5, 0.5, 2.0, 0.5, 0.5, 2.0, 0.5, 0.5, 2.0];
    let a = vec![
        Assumption::models("Seasonality", "flat", "quarter-end peaks", flat, peaky),
        Assumption::parameter(
            "Market volatility",
            "market.sigma",
            Change::Scale(0.5),
            Change::Scale(1.5),
        ),
    ];
    let s = sensitivity(
        &programme("net"),
        &population(),
        &base,
        &options(120, Some(a)),
    )
    .unwrap();
    let r = s.row("Seasonality").unwrap();
    assert_eq!((r.parameter.clone(), r.base_value), (None, None));
    // seasonality within a quarter's months is normalised away over the year but not per quarter
    assert!(r.swing.payout.mean.value.abs() > 0.0);

    let t = s.tornado(Output::Payout).unwrap();
    assert_eq!(t.unit, ValueUnit::Money("EUR".into()));
    assert_eq!(t.base, s.base.payout.mean.value);
    assert_eq!(t.bars.len(), 2);
    for b in &t.bars {
        let row = s.row(&b.assumption).unwrap();
        assert!((b.low - row.low.payout.mean.value).abs() < 1e-6 * t.base);
        assert!((b.high - row.high.payout.mean.value).abs() < 1e-6 * t.base);
        assert_eq!(b.high_se, Some(row.high_vs_base.payout.mean.se));
    }
    let svg = t.render_svg().unwrap();
    assert!(svg.contains("Sensitivity of expected payout") && svg.contains("Market volatility"));
    let roi = s.tornado(Output::Roi).unwrap();
    assert_eq!(roi.unit, ValueUnit::Percent);
    assert!(roi.base.is_finite());
    roi.render_png().unwrap();
    assert_eq!(
        "margin".parse::<Output>().unwrap(),
        Output::IncrementalMargin
    );
    assert!("profit"
        .parse::<Output>()
        .unwrap_err()
        .to_string()
        .contains("expected payout, roi or incremental_margin"));
}

#[test]
fn roi_tornado_needs_a_margin() {
    let pop = Population::from_csv_str(
        "partner_id,segment,baseline_revenue\nA,small,120000\nB,large,150000\n",
        "p.csv",
    )
    .unwrap();
    let s = sensitivity(&programme("net"), &pop, &model(MODEL), &options(50, None)).unwrap();
    let e = s.tornado(Output::Roi).unwrap_err().to_string();
    assert!(e.contains("margin rate"), "{e}");
    s.tornado(Output::Payout).unwrap();
}

#[test]
fn bad_inputs_are_clear_errors_before_any_run() {
    let ran = Mutex::new(false);
    let cb = |_: usize, _: usize| {
        *ran.lock().unwrap() = true;
        true
    };
    let check = |a: Option<Vec<Assumption>>, model_text: &str, expect: &str| {
        let mut o = options(50, a);
        o.sim.progress = Some(&cb);
        let e = sensitivity(&programme("net"), &population(), &model(model_text), &o).unwrap_err();
        assert!(matches!(e, Error::Request(_)), "{e:?}");
        let e = e.to_string();
        assert!(e.contains(expect), "expected '{expect}' in: {e}");
    };
    let p = |path: &str, lo: Change, hi: Change| Assumption::parameter("X", path, lo, hi);
    check(
        Some(vec![p(
            "noise.sigmaa",
            Change::Scale(0.5),
            Change::Scale(1.5),
        )]),
        MODEL,
        "unknown model parameter 'noise.sigmaa'",
    );
    check(
        Some(vec![p(
            "noise.sigma",
            Change::Scale(f64::NAN),
            Change::Scale(1.5),
        )]),
        MODEL,
        "must be a finite number",
    );
    check(
        Some(vec![p(
            "noise.sigma",
            Change::Scale(0.5),
            Change::Add(f64::INFINITY),
        )]),
        MODEL,
        "must be a finite number",
    );
    check(
        Some(vec![p(
            "noise.sigma",
            Change::Scale(-1.0),
            Change::Scale(1.5),
        )]),
        MODEL,
        "must be ≥ 0",
    );
    check(
        Some(vec![p("returns.share", Change::Set(0.0), Change::Set(1.2))]),
        MODEL,
        "'returns.share' cannot be set to 1.2",
    );
    check(Some(vec![]), MODEL, "at least one assumption");
    let twice = vec![
        p("noise.sigma", Change::Scale(0.5), Change::Scale(1.5)),
        p("market.sigma", Change::Scale(0.5), Change::Scale(1.5)),
    ];
    check(Some(twice), MODEL, "'X' is used twice");
    let mut bad = model(MODEL);
    bad.noise.sigma = -1.0;
    check(
        Some(vec![Assumption::models("Bad", "a", "b", model(MODEL), bad)]),
        MODEL,
        "assumption 'Bad', high setting: invalid demand model: noise.sigma: expected a log-scale σ",
    );
    // a model with no mechanism to vary but the trend... and with no assumptions at all
    check(
        Some(vec![p(
            "noise.sigma",
            Change::Scale(0.5),
            Change::Set(f64::NAN),
        )]),
        "",
        "finite",
    );
    assert!(
        !*ran.lock().unwrap(),
        "no run may start before every assumption is checked"
    );
    assert_eq!(default_assumptions(&model("")).len(), 1);
}
