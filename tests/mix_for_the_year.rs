//! The partner's mix for the year (`economics.mix_concentration`, session 31): the draw's law
//! (mean and variance of the shares), an opt-in that moves no other draw, the same bits on any
//! number of threads, bad values refused, and the calibration's concentration: the posterior
//! it stands for covers the partners' true mixes at its nominal rate on histories drawn here.

// categories by index, the clearer form here
#![allow(clippy::needless_range_loop)]

mod common;
use common::*;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Gamma};
use rand_xoshiro::Xoshiro256PlusPlus;
use rebatesim::calibrate::{calibrate, Options};
use rebatesim::data::{Partners, Transactions};
use rebatesim::engine::{export_scenario, simulate, SimOptions};
use rebatesim::population::Population;
use rebatesim::programme::Format;
use rust_decimal::prelude::*;

const PROGRAMME: &str = r#"
name = "Cross-sell"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
categories = ["a", "b", "c"]
[[components]]
id = "bundle"
kind = "bundle"
minimums = { a = 100, b = 100, c = 100 }
percent = 2
"#;

fn pop(rows: &[(&str, &str, f64, [f64; 3])]) -> Population {
    let mut csv = String::from("partner_id,segment,baseline_revenue,mix_a,mix_b,mix_c\n");
    for (id, seg, base, m) in rows {
        csv += &format!("{id},{seg},{base},{},{},{}\n", m[0], m[1], m[2]);
    }
    Population::from_csv_str(&csv, "partners.csv").unwrap()
}

/// Per partner and month: its revenue.
type MonthTotals = std::collections::BTreeMap<(u32, chrono::NaiveDate), f64>;

/// Per partner id and category: the scenario's revenue; and per partner and month the total.
fn revenue_of(ex: &rebatesim::engine::ScenarioExport) -> (Vec<[f64; 3]>, MonthTotals) {
    let tx = &ex.transactions;
    let cat = tx.category.as_ref().unwrap();
    let mut by = vec![[0.0; 3]; tx.partner_keys.len()];
    let mut month = std::collections::BTreeMap::new();
    for r in 0..tx.len() {
        let v = tx.revenue[r].to_f64().unwrap();
        by[tx.partner_key[r] as usize][cat[r].unwrap() as usize] += v;
        *month.entry((tx.partner_key[r], tx.date[r])).or_insert(0.0) += v;
    }
    (by, month)
}

/// One partner without noise, mix (0.5, 0.3, 0.2), c = 9: over 400 scenarios each category's
/// share of the year has mean m (within 4 SE) and variance m(1 − m)/(c + 1) (within 25%:
/// the sample variance's SE is about 7% at 400 draws of a Beta).
#[test]
fn the_draws_law() {
    let p = programme(PROGRAMME);
    let pop = pop(&[("P1", "s", 120_000.0, [0.5, 0.3, 0.2])]);
    let m = model("[economics]\nmix_concentration = 9\n");
    let n = 400;
    let mut shares = vec![Vec::new(); 3];
    for s in 0..n {
        let ex = export_scenario(&p, &pop, &m, 7, s).unwrap();
        let (by, _) = revenue_of(&ex);
        let t: f64 = by[0].iter().sum();
        for j in 0..3 {
            shares[j].push(by[0][j] / t);
        }
    }
    for (j, mj) in [0.5, 0.3, 0.2].into_iter().enumerate() {
        let mean = shares[j].iter().sum::<f64>() / n as f64;
        let var = shares[j].iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let want = mj * (1.0 - mj) / 10.0;
        assert!(
            (mean - mj).abs() < 4.0 * (want / n as f64).sqrt(),
            "category {j}: mean {mean}, want {mj}"
        );
        assert!(
            (var / want - 1.0).abs() < 0.25,
            "category {j}: variance {var}, want {want}"
        );
    }
}

/// A segment without a concentration keeps its partners' lines bit for bit; a partner that
/// draws keeps its months' totals (only the split over categories moves: the draw has its own
/// stream), and the same seed gives the same bits on one thread and on three.
#[test]
fn opt_in_its_own_stream_and_threads() {
    let p = programme(PROGRAMME);
    let rows = [
        ("P1", "s", 30_000.0, [0.5, 0.3, 0.2]),
        ("P2", "t", 50_000.0, [0.2, 0.2, 0.6]),
    ];
    let two = pop(&rows);
    let base = "[noise]\nsigma = 0.3\n[incidence]\nprobability = 0.8\n";
    let off = model(base);
    let on = model(&format!(
        "{base}[economics]\nmix_concentration_segments = {{ t = 4 }}\n"
    ));
    for s in 0..5 {
        let (a, ma) = revenue_of(&export_scenario(&p, &two, &off, 3, s).unwrap());
        let (b, mb) = revenue_of(&export_scenario(&p, &two, &on, 3, s).unwrap());
        assert_eq!(a[0], b[0], "segment s keeps its lines");
        assert_ne!(a[1], b[1], "segment t draws its mix");
        for (k, v) in &ma {
            // each month is three lines each rounded to the cent in both runs: ±3 × 0.005 each
            assert!((v - mb[k]).abs() <= 0.03 + 1e-9, "{k:?}: {v} vs {}", mb[k]);
        }
    }
    let many: Vec<(String, f64, [f64; 3])> = (0..120)
        .map(|i| {
            (
                format!("P{i:03}"),
                3_000.0 + 400.0 * i as f64,
                [0.6, 0.3, 0.1],
            )
        })
        .collect();
    let rows: Vec<(&str, &str, f64, [f64; 3])> = many
        .iter()
        .map(|(a, b, c)| (a.as_str(), "s", *b, *c))
        .collect();
    let pop_many = pop(&rows);
    let m = model(&format!("{base}[economics]\nmix_concentration = 5\n"));
    let run = |threads: usize| {
        let o = SimOptions {
            scenarios: 30,
            seed: 11,
            threads: Some(threads),
            ..Default::default()
        };
        simulate(&p, &pop_many, &m, &o).unwrap()
    };
    let (a, b) = (run(1), run(3));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.payout), bits(&b.payout));
    assert_eq!(bits(&a.component_payout), bits(&b.component_payout));
}

/// Bad values name the field.
#[test]
fn bad_values() {
    for (text, field) in [
        (
            "[economics]\nmix_concentration = 0\n",
            "economics.mix_concentration",
        ),
        (
            "[economics]\nmix_concentration = -2\n",
            "economics.mix_concentration",
        ),
        (
            "[economics]\nmix_concentration = nan\n",
            "economics.mix_concentration",
        ),
        (
            "[economics]\nmix_concentration_segments = { s = 1e12 }\n",
            "economics.mix_concentration_segments.s",
        ),
    ] {
        let e = rebatesim::demand::Model::from_str(text, Format::Toml, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{text}: {e}");
    }
    let p = programme(PROGRAMME);
    let pop = pop(&[("P1", "s", 24_000.0, [0.5, 0.3, 0.2])]);
    let m = model("[economics]\nmix_concentration_segments = { other = 3 }\n");
    let e = simulate(
        &p,
        &pop,
        &m,
        &SimOptions {
            scenarios: 1,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("economics.mix_concentration_segments.other"),
        "{e}"
    );
}

/// A history of `n` partners × 24 months drawn here: mixes Dirichlet(A · m), 1–3 orders a
/// buying month (incidence 0.85) of one category each drawn by the mix, lognormal levels
/// and noise. Returns the history, the partner table and the true mixes.
fn history(n: usize, a: f64, seed: u64) -> (Transactions, Partners, Vec<[f64; 3]>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let m = [0.5, 0.3, 0.2];
    let gamma: Vec<Gamma<f64>> = m.iter().map(|x| Gamma::new(a * x, 1.0).unwrap()).collect();
    let mut tx = Transactions {
        table: "history".into(),
        category_keys: vec!["a".into(), "b".into(), "c".into()],
        category: Some(Vec::new()),
        order: Some(Vec::new()),
        order_keys: (0..3).map(|k| format!("O{k}")).collect(),
        ..Default::default()
    };
    let mut partners = Partners::default();
    partners.table = "partners".into();
    let mut truth = Vec::new();
    let z = |r: &mut Xoshiro256PlusPlus| -> f64 { rand_distr::StandardNormal.sample(r) };
    for i in 0..n {
        let id = format!("P{i:05}");
        partners.push(&id, "s", None, None).unwrap();
        tx.partner_keys.push(id);
        let d: Vec<f64> = gamma.iter().map(|g| g.sample(&mut rng)).collect();
        let t: f64 = d.iter().sum();
        let mix = [d[0] / t, d[1] / t, d[2] / t];
        truth.push(mix);
        let level = 5_000.0 * (0.8 * z(&mut rng)).exp();
        for t in 0..24usize {
            if rng.random::<f64>() >= 0.85 {
                continue;
            }
            let amount = level * (0.3 * z(&mut rng)).exp();
            let k = rng.random_range(1..=3usize);
            for o in 0..k {
                let u: f64 = rng.random();
                let c = if u < mix[0] {
                    0
                } else if u < mix[0] + mix[1] {
                    1
                } else {
                    2
                };
                let rev = Decimal::from_f64(amount / k as f64).unwrap().round_dp(2);
                tx.partner_key.push(i as u32);
                tx.date.push(
                    chrono::NaiveDate::from_ymd_opt(
                        2024 + (t / 12) as i32,
                        (t % 12) as u32 + 1,
                        10,
                    )
                    .unwrap(),
                );
                tx.revenue.push(rev);
                tx.quantity.push((rev / Decimal::from(50)).round_dp(6));
                tx.category.as_mut().unwrap().push(Some(c));
                tx.order.as_mut().unwrap().push(Some(o as u32));
            }
        }
    }
    (tx, partners, truth)
}

/// The calibrated concentration C stands for the partners' posterior: the central 80%
/// interval of each partner's Beta(C·mix_c, C·(1 − mix_c)) covers its true share in 80% of
/// the partners (revenue-weighted as C is; within 70–90% on 600 partners × 3 categories,
/// two seeds), where the posterior mean alone covers nothing.
#[test]
fn concentration_covers_the_true_mixes() {
    for seed in [1u64, 2] {
        let (tx, partners, truth) = history(600, 6.0, seed);
        let opts = Options {
            draws: 0,
            bootstrap: 20,
            seed,
            ..Options::default()
        };
        let c = calibrate(&tx, Some(&partners), &opts).unwrap();
        let conc = c
            .model
            .economics
            .mix_concentration
            .expect("a concentration");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        let (mut hit, mut tot) = (0.0, 0.0);
        for (k, id) in c.partners.ids.iter().enumerate() {
            let t = &truth[id[1..].parse::<usize>().unwrap()];
            let w = c.partners.last12_revenue[k].max(0.0);
            for j in 0..3 {
                let m = c.partners.mix[k][j];
                let beta = Beta::new((conc * m).max(1e-9), (conc * (1.0 - m)).max(1e-9)).unwrap();
                let mut x: Vec<f64> = (0..400).map(|_| beta.sample(&mut rng)).collect();
                x.sort_by(f64::total_cmp);
                if x[40] <= t[j] && t[j] <= x[359] {
                    hit += w;
                }
                tot += w;
            }
        }
        let cover = hit / tot;
        eprintln!("seed {seed}: C = {conc:.2}, revenue-weighted 80% coverage {cover:.3}");
        assert!(
            (0.70..=0.90).contains(&cover),
            "seed {seed}: C = {conc:.1}, coverage {cover:.3}"
        );
    }
}
