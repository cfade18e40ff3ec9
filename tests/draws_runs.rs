//! Input uncertainty in the runs made of many runs: the backtest's forecasts and every run of
//! a sensitivity analysis under a calibration's parameter draws (issue 17). Reproducibility
//! for any thread count, the truth unchanged by the draws, intervals widened by them, a draw
//! of another shape refused, and the sensitivity's moves applied on top of each draw.

mod common;

use rebatesim::backtest::{run_standard, Backtest, BacktestOptions, Standard};
use rebatesim::demand::Model;
use rebatesim::engine::{simulate, SimOptions};
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Format, Programme};
use rebatesim::sensitivity::{
    apply_change, parameter_value, plan, sensitivity, Assumption, Change, Output,
    SensitivityOptions,
};
use rebatesim::Error;

fn example() -> (Compiled, Population, Model) {
    common::backtest_example()
}

/// Three draws around `m`: its σ's (market, partner factor, noise) × 0.6, × 1 and × 1.5 and
/// its growth −2, 0 and +2 points (a calibration's draws spread like this around its estimate).
fn draws_around(m: &Model) -> Vec<Model> {
    [(0.6, -0.02), (1.0, 0.0), (1.5, 0.02)]
        .iter()
        .map(|&(f, g)| {
            let mut d = m.clone();
            for path in ["market.sigma", "partner_factor.sigma", "noise.sigma"] {
                d = apply_change(&d, path, Change::Scale(f)).unwrap();
            }
            apply_change(&d, "growth.rate", Change::Add(g)).unwrap()
        })
        .collect()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn backtest(threads: usize, draws: &[Model], which: Standard, scenarios: usize) -> Backtest {
    let (p, pop, m) = example();
    run_standard(
        &p,
        &pop,
        &m,
        which,
        scenarios,
        &BacktestOptions {
            years: 4,
            seed: 5,
            month_ends: Some(&[3, 9]),
            threads: Some(threads),
            parameter_draws: draws,
            ..Default::default()
        },
    )
    .unwrap()
}

/// Under draws the backtest is bit for bit the same on 1 and 2 threads, records K, and its
/// synthetic years are those of the run without draws (the truth does not change).
#[test]
fn backtest_under_draws_is_bit_identical_on_1_and_2_threads_with_the_same_truth() {
    let (_, _, m) = example();
    let draws = draws_around(&m);
    let one = backtest(1, &draws, Standard::Forecast, 16);
    let two = backtest(2, &draws, Standard::Forecast, 16);
    let none = backtest(2, &[], Standard::Forecast, 16);
    assert_eq!(one.parameter_draws, 3);
    assert_eq!(none.parameter_draws, 0);
    assert_eq!(one.table(), two.table());
    assert_eq!(bits(&one.realised), bits(&two.realised));
    assert_eq!(
        bits(&one.realised),
        bits(&none.realised),
        "the truth ignores the draws"
    );
    for y in 0..4 {
        for mi in 0..2 {
            let (a, b) = (
                one.interval("forecast", y, mi, 0.9).unwrap(),
                two.interval("forecast", y, mi, 0.9).unwrap(),
            );
            assert_eq!(a, b);
            assert_eq!(
                one.estimate("forecast", y, mi).unwrap().to_bits(),
                two.estimate("forecast", y, mi).unwrap().to_bits()
            );
            // the market's methods do not use the draws
            assert_eq!(
                one.estimate("run_rate", y, mi).unwrap().to_bits(),
                none.estimate("run_rate", y, mi).unwrap().to_bits()
            );
        }
    }
    // K travels with the bytes, and parts run with other draws are not put together
    let back = Backtest::from_bytes(&one.to_bytes()).unwrap();
    assert_eq!(back.parameter_draws, 3);
    let mixed = Backtest::concat(vec![one.clone(), none.clone()]);
    assert!(
        matches!(mixed, Err(Error::Request(ref s)) if s.contains("parameter draws")),
        "{mixed:?}"
    );
}

/// Mean width over years of `method`'s interval at `level` and month-end position `mi`.
fn mean_width(b: &Backtest, level: f64, mi: usize) -> f64 {
    (0..b.years())
        .map(|y| {
            let (lo, hi) = b.interval("forecast", y, mi, level).unwrap().unwrap();
            hi - lo
        })
        .sum::<f64>()
        / b.years() as f64
}

/// On a fixed seed, the forecast's 80% and 90% intervals under draws spread around the model
/// are at least as wide, on average over the years, as the model's alone at every month end.
#[test]
fn draws_widen_the_backtest_forecasts_intervals() {
    let (_, _, m) = example();
    let draws = draws_around(&m);
    let with = backtest(2, &draws, Standard::Forecast, 40);
    let without = backtest(2, &[], Standard::Forecast, 40);
    for level in [0.8, 0.9] {
        for mi in 0..2 {
            let (w, wo) = (
                mean_width(&with, level, mi),
                mean_width(&without, level, mi),
            );
            eprintln!("level {level} month end {mi}: width {w:.0} with draws, {wo:.0} without");
            assert!(w >= wo, "level {level}, month end {mi}: {w} < {wo}");
        }
    }
}

/// A draw describing other line categories than the model is refused before any year runs,
/// naming the draw.
#[test]
fn a_draw_of_another_shape_is_refused_by_the_backtest() {
    let (p, pop, m) = example();
    let mut other = m.clone();
    other.economics.category_mix = [("cable".to_owned(), 0.5), ("tools".to_owned(), 0.5)]
        .into_iter()
        .collect();
    let draws = vec![m.clone(), other];
    let r = run_standard(
        &p,
        &pop,
        &m,
        Standard::Forecast,
        8,
        &BacktestOptions {
            years: 2,
            month_ends: Some(&[6]),
            parameter_draws: &draws,
            ..Default::default()
        },
    );
    match r {
        Err(Error::Model(f)) => assert!(f.message.contains("parameter draw 1"), "{}", f.message),
        other => panic!("expected a model error naming draw 1, got {other:?}"),
    }
}

const PROGRAMME: &str = r#"
name = "Annual ladder"
currency = "EUR"
start = 2027-01-01
period = "year"
periods = 1
[[components]]
id = "volume"
kind = "volume"
tiers = [{ from = 100000, percent = 1 }, { from = 150000, percent = 2 }]
"#;

fn small() -> (Compiled, Population, Model) {
    let p = Programme::from_str(PROGRAMME, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap();
    let mut csv = String::from("partner_id,segment,baseline_revenue\n");
    for i in 0..30 {
        csv += &format!("P{i},default,{}\n", 90_000 + 2_000 * i);
    }
    let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
    let m = Model::from_str(
        "[growth]\nrate = 0.03\n[market]\nsigma = 0.1\n[noise]\nsigma = 0.2\n",
        Format::Toml,
        None,
    )
    .unwrap();
    (p, pop, m)
}

fn sens_options<'a>(
    draws: &'a [Model],
    threads: usize,
    a: Vec<Assumption>,
) -> SensitivityOptions<'a> {
    SensitivityOptions {
        sim: SimOptions {
            scenarios: 300,
            seed: 17,
            threads: Some(threads),
            parameter_draws: draws,
            ..Default::default()
        },
        assumptions: Some(a),
    }
}

/// Each run of a sensitivity under draws runs under them, scenario by scenario the same draw
/// in every run; the low and high runs are those of the draws moved by the change (a scale
/// multiplies each draw's value, an addition adds to it): the analysis's outcomes equal the
/// simulations of the moved draws, bit for bit, on 1 and 2 threads.
#[test]
fn sensitivity_under_draws_moves_each_draw_and_is_bit_identical_across_threads() {
    let (p, pop, m) = small();
    let draws = draws_around(&m);
    let assumptions = vec![
        Assumption::parameter(
            "Noise",
            "noise.sigma",
            Change::Scale(0.5),
            Change::Scale(2.0),
        ),
        Assumption::parameter(
            "Trend",
            "growth.rate",
            Change::Add(-0.05),
            Change::Add(0.05),
        ),
    ];
    let one = sensitivity(&p, &pop, &m, &sens_options(&draws, 1, assumptions.clone())).unwrap();
    let two = sensitivity(&p, &pop, &m, &sens_options(&draws, 2, assumptions.clone())).unwrap();
    assert_eq!(one.parameter_draws, 3);
    assert_eq!(one.base.payout, two.base.payout);
    for (a, b) in one.rows.iter().zip(&two.rows) {
        assert_eq!(a.assumption, b.assumption);
        assert_eq!(
            (&a.low.payout, &a.high.payout),
            (&b.low.payout, &b.high.payout)
        );
        assert_eq!(a.swing.payout, b.swing.payout);
    }
    // the plan's moved draws, by hand: noise σ 0.2 × {0.6, 1, 1.5} × 0.5 and × 2; growth
    // 0.03 + {−0.02, 0, +0.02} ∓ 0.05
    let pl = plan(&m, Some(&assumptions))
        .unwrap()
        .with_draws(&draws)
        .unwrap();
    let moved = pl.draws();
    assert_eq!(moved.len(), 4);
    let values = |run: &[Model], path: &str| -> Vec<f64> {
        run.iter()
            .map(|d| parameter_value(d, path).unwrap())
            .collect()
    };
    let close = |a: Vec<f64>, b: [f64; 3]| {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    };
    close(values(moved[0], "noise.sigma"), [0.06, 0.1, 0.15]);
    close(values(moved[1], "noise.sigma"), [0.24, 0.4, 0.6]);
    close(values(moved[2], "growth.rate"), [-0.04, -0.02, 0.0]);
    close(values(moved[3], "growth.rate"), [0.06, 0.08, 0.1]);
    // the other parameters of each moved draw are the draw's own
    close(values(moved[0], "market.sigma"), [0.06, 0.1, 0.15]);
    // the runs are the simulations of the moved draws (common draws and random numbers)
    let sim = |model: &Model, under: &[Model]| {
        simulate(
            &p,
            &pop,
            model,
            &SimOptions {
                scenarios: 300,
                seed: 17,
                threads: Some(2),
                parameter_draws: under,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let base = sim(&m, &draws);
    assert_eq!(one.base.payout, base.payout_summary());
    let noise = one.row("Noise").unwrap();
    let low = sim(
        &apply_change(&m, "noise.sigma", Change::Scale(0.5)).unwrap(),
        moved[0],
    );
    assert_eq!(noise.low.payout, low.payout_summary());
    let high = sim(&m, moved[1]);
    assert_eq!(noise.high.payout, high.payout_summary());
    // the draws matter: without them the base differs
    let plain = sim(&m, &[]);
    assert_ne!(one.base.payout, plain.payout_summary());
    let t = one.tornado(Output::Payout).unwrap();
    assert!(
        t.title.ends_with("(under 3 parameter draws)"),
        "{}",
        t.title
    );
    let t0 = sensitivity(&p, &pop, &m, &sens_options(&[], 1, assumptions)).unwrap();
    assert_eq!(t0.parameter_draws, 0);
    assert!(!t0
        .tornado(Output::Payout)
        .unwrap()
        .title
        .contains("parameter draws"));
}

/// Under draws, an assumption given as two complete models is refused (the draws, not the
/// model, are what each scenario runs under), and so is a set that takes a draw out of range.
#[test]
fn sensitivity_under_draws_refuses_two_model_assumptions_and_bad_moves() {
    let (p, pop, m) = small();
    let draws = draws_around(&m);
    let two_models = vec![Assumption::models(
        "Other model",
        "lo",
        "hi",
        m.clone(),
        m.clone(),
    )];
    let e = sensitivity(&p, &pop, &m, &sens_options(&draws, 1, two_models.clone())).unwrap_err();
    assert!(
        matches!(e, Error::Request(ref s) if s.contains("'Other model'") && s.contains("parameter draws")),
        "{e}"
    );
    // without draws the same assumption runs
    assert!(sensitivity(&p, &pop, &m, &sens_options(&[], 1, two_models)).is_ok());
    let mut other = m.clone();
    other.economics.category_mix = [("a".to_owned(), 1.0)].into_iter().collect();
    let bad = vec![m.clone(), other];
    let noise = vec![Assumption::parameter(
        "Noise",
        "noise.sigma",
        Change::Scale(0.5),
        Change::Scale(2.0),
    )];
    match sensitivity(&p, &pop, &m, &sens_options(&bad, 1, noise)) {
        Err(Error::Model(f)) => assert!(f.message.contains("parameter draw 1"), "{}", f.message),
        other => panic!(
            "expected the draw of other categories refused, got {:?}",
            other.map(|s| s.rows.len())
        ),
    }
}
