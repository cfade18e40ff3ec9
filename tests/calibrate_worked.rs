//! Calibration on small histories whose estimates can be computed by hand, and bad input.

mod common;

use rebatesim::calibrate::{calibrate, Calibration, Options};
use rebatesim::data::{Partners, Transactions};
use rebatesim::demand::Model;
use rebatesim::programme::Format;

fn options() -> Options {
    Options {
        draws: 5,
        bootstrap: 50,
        ..Options::default()
    }
}

fn ym(t: usize) -> (usize, usize) {
    (2024 + t / 12, t % 12 + 1)
}

/// Five partners, 26 months, no noise at all: partner i buys 1000·(i+1) · exp(s[month] +
/// ln(1.1)·(t − 12.5)/12) every month in two orders of 1/5 and 4/5, at 20 per unit, and
/// returns 5% of it.
fn noiseless() -> (Calibration, [f64; 12]) {
    let raw = [
        -0.2, -0.1, 0.0, 0.05, 0.1, 0.2, 0.1, 0.0, -0.05, 0.0, 0.1, -0.2,
    ];
    let mean = raw.iter().sum::<f64>() / 12.0;
    let s: Vec<f64> = raw.iter().map(|x| x - mean).collect();
    let mut csv = String::from("partner_id,date,quantity,revenue,order_id\n");
    for i in 0..5 {
        for t in 0..26 {
            let amount = 1000.0
                * (i + 1) as f64
                * (s[t % 12] + 1.1f64.ln() * (t as f64 - 12.5) / 12.0).exp();
            let (y, m) = ym(t);
            for (o, share) in [("O1", 0.2), ("O2", 0.8)] {
                let r = (amount * share * 100.0).round() / 100.0;
                csv.push_str(&format!("P{i},{y}-{m:02}-15,{:.6},{r:.2},{o}\n", r / 20.0));
            }
            let back = (amount * 0.05 * 100.0).round() / 100.0;
            csv.push_str(&format!(
                "P{i},{y}-{m:02}-20,{:.6},-{back:.2},\n",
                -back / 20.0
            ));
        }
    }
    let tx = Transactions::from_csv_str(&csv, "history").unwrap();
    let c = calibrate(&tx, None, &options()).unwrap();
    let mut out = [0.0; 12];
    out.copy_from_slice(&s);
    (c, out)
}

fn value(c: &Calibration, name: &str) -> f64 {
    c.estimate(name)
        .unwrap_or_else(|| panic!("no estimate {name}"))
        .value
}

#[test]
fn noiseless_history_gives_back_its_parameters() {
    let (c, s) = noiseless();
    assert_eq!(c.months, 26);
    assert_eq!(c.start, "2024-01");
    for (m, want) in s.iter().enumerate() {
        let got = value(&c, &format!("seasonality.log_effect[{m}]"));
        assert!((got - want).abs() < 1e-4, "month {m}: {got} vs {want}");
    }
    assert!((value(&c, "growth.rate") - 0.1).abs() < 1e-4);
    // nothing random: every σ is (numerically) zero
    for name in ["market.sigma", "noise.sigma", "partner_factor.sigma"] {
        assert!(value(&c, name).abs() < 1e-3, "{name} = {}", value(&c, name));
    }
    // returns: 5% of purchases; price: 20 per unit
    assert!((value(&c, "returns.share") - 0.05).abs() < 1e-5);
    assert!((value(&c, "economics.unit_price") - 20.0).abs() < 1e-4);
    // two orders every buying month: mean 2 = λ + e^(−λ) for max(1, Poisson(λ)), λ = 1.841406
    let l = value(&c, "orders.per_month");
    assert!(
        (l + (-l).exp() - 2.0).abs() < 1e-9 && (l - 1.841_406).abs() < 1e-6,
        "{l}"
    );
    // order sizes 1:4 in every month: the within-month variance of the two logs is
    // (ln 4)²/2, so σ = ln 4 / √2 = 0.980258
    assert!((value(&c, "orders.size_sigma") - 0.980_258).abs() < 1e-4);
    // every partner buys every month: incidence at 1, no churn
    assert!(value(&c, "incidence.probability") > 0.9999);
    assert_eq!(value(&c, "churn.monthly_hazard"), 0.0);
    // the model file reads back, carries the estimates as comments
    let text = c.model_text().unwrap();
    assert!(text.contains("# growth.rate = 0.1 ± "), "{text}");
    assert!(text.contains("# orders.size_sigma = 0.9803 ± "), "{text}");
    let back = Model::from_str(&text, Format::Toml, Some("calibrated.toml")).unwrap();
    assert_eq!(back, c.model);
    assert!((c.model.orders.size_sigma - 0.980_258).abs() < 1e-4);
    for (m, want) in s.iter().enumerate() {
        let f = c.model.seasonality.get("")[m];
        let norm = s.iter().map(|x| x.exp()).sum::<f64>() / 12.0;
        assert!((f - want.exp() / norm).abs() < 1e-4);
    }
    // draws are valid models
    assert_eq!(c.draws.len(), 5);
    for d in &c.draws {
        d.model.validate().unwrap();
    }
}

/// Six partners over 24 months, each buying in the first and the last month and skipping 0,
/// 2, 4, 6, 1 and 3 other months: no one left, so the hazard is 0 and the incidence is
/// 128 buying months / 144 = 0.888889.
#[test]
fn incidence_is_the_buying_share_when_nobody_leaves() {
    let skips = common::SIX_PARTNERS_SKIP;
    let mut csv = String::from("partner_id,date,quantity,revenue\n");
    let mut partners = String::from("partner_id,segment\n");
    for (j, sk) in skips.iter().enumerate() {
        partners.push_str(&format!("Q{j},trade\n"));
        for t in 0..24 {
            if sk.contains(&t) {
                continue;
            }
            let (y, m) = ym(t);
            csv.push_str(&format!(
                "Q{j},{y}-{m:02}-01,1,{}\n",
                100 + 10 * ((7 * t + 3 * j) % 11)
            ));
        }
    }
    let tx = Transactions::from_csv_str(&csv, "history").unwrap();
    let p = Partners::from_csv_str(&partners, "partners").unwrap();
    let c = calibrate(&tx, Some(&p), &options()).unwrap();
    let e = c.estimate("incidence.probability").unwrap();
    assert!((e.value - 128.0 / 144.0).abs() < 1e-5, "{e:?}");
    assert!(e.lo90 < e.value && e.value < e.hi90);
    let h = c.estimate("churn.monthly_hazard").unwrap();
    assert_eq!(h.value, 0.0);
    assert_eq!(h.lo90, 0.0);
    assert!(h.hi90 > 0.0 && h.hi90 < 0.1, "{h:?}");
    assert!(c.partners.churned.iter().all(|&x| !x));
    assert_eq!(c.partners.buying_months, vec![24, 22, 20, 18, 23, 21]);
    // the model carries it, and the engine simulates the skipped months
    assert_eq!(c.model.incidence.probability, e.value);
    assert!(c.model_text().unwrap().contains("[incidence]"));
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("segment 'trade' has only 6 partners")));
}

fn history(months: usize, skip_month: Option<usize>, ids: &[&str]) -> String {
    let mut csv = String::from("partner_id,date,quantity,revenue\n");
    for t in 0..months {
        if Some(t) == skip_month {
            continue;
        }
        for (j, id) in ids.iter().enumerate() {
            let (y, m) = (2025 + t / 12, t % 12 + 1);
            csv.push_str(&format!(
                "{id},{y}-{m:02}-07,2,{}\n",
                50 + (t * 7 + j * 13) % 17
            ));
        }
    }
    csv
}

fn err(tx: &str, partners: Option<&str>) -> String {
    let tx = Transactions::from_csv_str(tx, "history").unwrap();
    let p = partners.map(|p| Partners::from_csv_str(p, "partners").unwrap());
    calibrate(&tx, p.as_ref(), &options())
        .unwrap_err()
        .to_string()
}

const FIVE: [&str; 5] = ["A", "B", "C", "D", "E"];

#[test]
fn bad_histories_are_refused_with_what_is_missing() {
    let e = err(&history(12, None, &FIVE), None);
    assert!(
        e.starts_with("invalid data: history, column 'date': the history covers 12 months (2025-01 to 2025-12); calibration needs at least 13 months"),
        "{e}"
    );
    let e = err(&history(14, Some(4), &FIVE), None);
    assert!(
        e.contains("no purchase at all in 2025-05 (month 5 of the 14 from 2025-01 to 2026-02)"),
        "{e}"
    );
    let e = err(
        &history(14, None, &FIVE),
        Some("partner_id,segment\nA,s\nB,s\nC,s\nD,s\n"),
    );
    assert_eq!(
        e,
        "invalid data: history, row 5, column 'partner_id': unknown partner 'E' (not in partners)"
    );
    let e = err(
        &history(14, None, &["A", "B", "C", "D", "E", "F", "G"]),
        Some("partner_id,segment\nA,s\nB,s\nC,s\nD,s\nE,s\nF,t\nG,t\n"),
    );
    assert!(
        e.contains("partners, column 'segment': segment 't' has 2 partners with purchases in the history; at least 5 are needed"),
        "{e}"
    );
    let e = err(
        &history(14, None, &FIVE),
        Some("partner_id,segment\nA,s\nB,s\nC,\nD,s\nE,s\n"),
    );
    assert!(
        e.contains(
            "partners, row 3, column 'segment': expected a segment name, found an empty cell"
        ),
        "{e}"
    );
    let only_returns = history(14, None, &FIVE).replace(",2,", ",-2,-");
    let e = err(&only_returns, None);
    assert!(
        e.contains(
            "history, column 'revenue': no partner has a purchase (a positive revenue line)"
        ),
        "{e}"
    );
}

#[test]
fn partners_without_purchases_are_left_out_with_a_warning() {
    let tx = Transactions::from_csv_str(&history(14, None, &FIVE), "history").unwrap();
    let p = Partners::from_csv_str(
        "partner_id,segment\nA,s\nB,s\nC,s\nD,s\nE,s\nZ1,s\n",
        "partners",
    )
    .unwrap();
    let c = calibrate(&tx, Some(&p), &options()).unwrap();
    assert_eq!(c.partners.ids, FIVE);
    assert!(
        c.warnings.iter().any(|w| w.starts_with(
            "partners without any purchase in the history: 1 of the 6 in partners (e.g. Z1)"
        )),
        "{:?}",
        c.warnings
    );
    // a short history is a warning about the year-over-year components
    assert!(c.warnings.iter().any(|w| w.contains("only 14 months")));
    c.model.validate().unwrap();
}
