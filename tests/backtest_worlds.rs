//! The forecast on worlds its model did not generate (issue 18): backlog worlds in the style of
//! `examples/distributor/make_data.py` (partners skipping months, specialised category mixes),
//! per-component coverage of the 80% and 90% intervals at month ends.

mod common;

use rebatesim::backtest::{backlog_world, component_coverage, ComponentCoverage};
use rebatesim::demand::Model;
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Programme};
use rebatesim::settlement::settle;

/// The distributor example with every `step`-th partner of its table.
fn distributor(step: usize) -> (Compiled, Population, Model) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/distributor");
    let p = Programme::from_file(root.join("programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let text = std::fs::read_to_string(root.join("partners.csv")).unwrap();
    let pop = common::every_step_partner(&text, step);
    let m = Model::from_file(root.join("model.toml")).unwrap();
    (p, pop, m)
}

#[test]
fn backlog_worlds_skip_months_and_specialise() {
    let (p, pop, m) = distributor(100);
    let a = backlog_world(&p, &pop, &m, 7, 0).unwrap();
    let b = backlog_world(&p, &pop, &m, 7, 0).unwrap();
    assert_eq!(a.payout, b.payout, "reproducible");
    let t = &a.transactions;
    // some partner with a baseline buys in fewer than 12 months (skips months)
    let mut months = vec![std::collections::BTreeSet::new(); t.partner_keys.len()];
    let mut cats = vec![std::collections::BTreeSet::new(); t.partner_keys.len()];
    for r in 0..t.len() {
        if t.revenue[r].is_sign_positive() {
            months[t.partner_key[r] as usize].insert(chrono::Datelike::month(&t.date[r]));
            cats[t.partner_key[r] as usize].insert(t.category_of(r).unwrap().to_owned());
        }
    }
    assert!(months.iter().any(|s| s.len() < 12 && !s.is_empty()));
    // specialised mixes: some partner buys fewer than all five categories
    assert!(cats.iter().any(|s| s.len() < 5));
    let st = settle(&p, &a.partners, t).unwrap();
    assert_eq!(st.total.payable, a.payout);
}

fn print(rows: &[ComponentCoverage]) {
    for r in rows {
        eprintln!(
            "| {} | {} | {} | {:.1} | {:.1} | {} | {} |",
            r.month_end,
            r.component,
            r.worlds,
            100.0 * r.cover80(),
            100.0 * r.cover90(),
            r.below80,
            r.above80
        );
    }
}

/// A small version of the study (`worlds_coverage_study`): 30 partners, 4 worlds, one month
/// end; every world counted for the total, the 80% interval inside the 90% one. It does NOT
/// yet assert coverage near nominal: on these worlds it is not (docs/backtest.md, section 5).
#[test]
fn forecast_intervals_cover_components_on_worlds_of_another_process() {
    let (p, pop, m) = distributor(100);
    let rows = component_coverage(&p, &pop, &m, 4, &[9], 30, 11).unwrap();
    print(&rows);
    assert_eq!(rows.len(), p.components.len() + 1);
    let total = rows
        .iter()
        .filter(|r| r.component == "total")
        .collect::<Vec<_>>();
    for r in &total {
        assert_eq!(r.worlds, 4);
    }
    for r in &rows {
        assert!(r.in80 <= r.in90 && r.in90 <= r.worlds, "{r:?}");
    }
}

/// The study of docs/backtest.md: `STUDY_WORLDS` worlds (default 100) of 120 partners,
/// every month end, 100 scenarios.
/// `cargo test --release --test backtest_worlds -- --ignored --nocapture`
#[test]
#[ignore]
fn worlds_coverage_study() {
    let (p, pop, m) = distributor(25);
    let worlds: usize = std::env::var("STUDY_WORLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let ends: Vec<usize> = (1..12).collect();
    let rows = component_coverage(&p, &pop, &m, worlds, &ends, 100, 2027).unwrap();
    eprintln!("| month end | component | worlds | 80% cover | 90% cover |");
    eprintln!("|---|---|---:|---:|---:|");
    print(&rows);
}

/// The study of docs/backtest.md section 6: per-component coverage on backlog worlds at every
/// month end, the forecast with and without a calibration's parameter draws. `STUDY_CAL`: a
/// folder with `model.toml`, `draws/draw_*.toml` and `partners.csv` (the population the
/// calibration gives, each partner's mix); every `STUDY_STEP`-th partner (default 25),
/// `STUDY_WORLDS` worlds (default 40), `STUDY_SCENARIOS` scenarios (default 100).
/// `STUDY_CAL=/tmp/cal cargo test --release --test backtest_worlds -- --ignored --nocapture draws_study`
#[test]
#[ignore]
fn worlds_coverage_draws_study() {
    use rebatesim::backtest::component_coverage_under;
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let Ok(dir) = std::env::var("STUDY_CAL") else {
        eprintln!("STUDY_CAL is not set: nothing to study");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/distributor");
    let p = Programme::from_file(root.join("programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let step = env("STUDY_STEP", 25);
    let text = std::fs::read_to_string(dir.join("partners.csv")).unwrap();
    let pop = common::every_step_partner(&text, step);
    let m = Model::from_file(dir.join("model.toml")).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("draws"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let draws: Vec<Model> = files.iter().map(|f| Model::from_file(f).unwrap()).collect();
    let (worlds, scenarios) = (env("STUDY_WORLDS", 40), env("STUDY_SCENARIOS", 100));
    let ends: Vec<usize> = (1..12).collect();
    eprintln!(
        "{} partners, {worlds} worlds, {scenarios} scenarios, {} draws",
        pop.len(),
        draws.len()
    );
    let mut runs: Vec<(&str, &[Model])> = vec![("without draws", &[])];
    if std::env::var("STUDY_NO_DRAWS").is_err() {
        runs.push(("with draws", &draws[..]));
    }
    for (name, under) in runs {
        let rows =
            component_coverage_under(&p, &pop, &m, under, worlds, &ends, scenarios, 2027).unwrap();
        eprintln!("\n{name}\n| month end | component | worlds | 80% cover | 90% cover | below | above |");
        eprintln!("|---|---|---:|---:|---:|---:|---:|");
        print(&rows);
    }
}
