//! The calibrated demand level (`PartnerEstimates::demand_revenue`, the partner table's
//! `demand_revenue`) on hand-made histories: a partner buying over the whole last year keeps
//! its last-12-months revenue, an entrant's purchases are annualised over its active months
//! with the seasonality, growth and incidence accounted for (docs/calibration.md, "Demand
//! level").

mod common;

use rebatesim::calibrate::{calibrate, Calibration, Options};
use rebatesim::data::{Partners, Transactions};

fn options() -> Options {
    Options {
        draws: 3,
        bootstrap: 30,
        ..Options::default()
    }
}

fn ym(t: usize) -> (usize, usize) {
    (2024 + t / 12, t % 12 + 1)
}

fn of(c: &Calibration, id: &str) -> usize {
    c.partners.ids.iter().position(|x| x == id).unwrap()
}

/// Five partners over 24 months without noise, partner i buying 1000·(i+1)·exp(s[month] +
/// ln(1.1)·(t − 11.5)/12) every month (seasonality s, growth 10%), and an entrant `E` buying
/// exactly like P2 but only from month 19 (five months, August to December 2025, a season
/// above and below the mean): E's purchases annualised over its five months
/// with the seasonality and growth are P2's last twelve months. The naive `× 12/5` is not.
#[test]
fn an_entrant_is_annualised_over_its_active_months_with_seasonality_and_growth() {
    let raw = [
        -0.3, -0.2, 0.0, 0.05, 0.1, 0.2, 0.1, 0.35, 0.3, 0.0, -0.1, -0.5,
    ];
    let mean = raw.iter().sum::<f64>() / 12.0;
    let s: Vec<f64> = raw.iter().map(|x| x - mean).collect();
    let amount = |i: usize, t: usize| {
        1000.0 * (i + 1) as f64 * (s[t % 12] + 1.1f64.ln() * (t as f64 - 11.5) / 12.0).exp()
    };
    let mut csv = String::from("partner_id,date,quantity,revenue\n");
    let mut line = |id: &str, t: usize, a: f64| {
        let (y, m) = ym(t);
        csv.push_str(&format!(
            "{id},{y}-{m:02}-15,1,{:.2}\n",
            (a * 100.0).round() / 100.0
        ));
    };
    for t in 0..24 {
        for i in 0..5 {
            line(&format!("P{i}"), t, amount(i, t));
        }
        if t >= 19 {
            line("E", t, amount(2, t));
        }
    }
    let tx = Transactions::from_csv_str(&csv, "history").unwrap();
    let c = calibrate(&tx, None, &options()).unwrap();
    // everyone buys every month: the golden-section maximum of the likelihood is 1 to 10⁻⁶
    assert!(
        (c.model.incidence.probability - 1.0).abs() < 1e-5,
        "{:?}",
        c.model.incidence
    );
    let p = &c.partners;
    // partners buying over the whole last year: their last-12-months revenue, exactly
    for i in 0..5 {
        let k = of(&c, &format!("P{i}"));
        assert_eq!(
            p.demand_revenue[k],
            (p.last12_revenue[k] * 1e6).round() / 1e6
        );
    }
    let (e, p2) = (of(&c, "E"), of(&c, "P2"));
    assert!(
        (p.demand_revenue[e] / p.last12_revenue[p2] - 1.0).abs() < 1e-5,
        "entrant {} against P2's year {}",
        p.demand_revenue[e],
        p.last12_revenue[p2]
    );
    // its own last twelve months are five months' purchases; × 12/5 misses the season
    // (August to December: 0.35, 0.3, 0, −0.1, −0.5 against a mean of 0) and the growth
    let naive = p.last12_revenue[e] * 12.0 / 5.0;
    assert!((naive / p.last12_revenue[p2] - 1.0).abs() > 0.02, "{naive}");
}

/// Flat purchases (100 a buying month: no seasonality, no growth), six partners skipping
/// months, an entrant `E` whose first purchase is month 19 and who buys every month after:
/// its first month is a buying month by selection, so its expected amount is D/π and
/// `level = Σ G · 12 / (1/π + 4)`, with π the calibrated incidence.
#[test]
fn an_entrants_first_month_counts_one_over_the_incidence() {
    let skips = common::SIX_PARTNERS_SKIP;
    let mut csv = String::from("partner_id,date,quantity,revenue\n");
    let mut partners = String::from("partner_id,segment\nE,trade\n");
    for (j, sk) in skips.iter().enumerate() {
        partners.push_str(&format!("Q{j},trade\n"));
        for t in (0..24).filter(|t| !sk.contains(t)) {
            let (y, m) = ym(t);
            csv.push_str(&format!("Q{j},{y}-{m:02}-01,1,100\n"));
        }
    }
    for t in 19..24 {
        let (y, m) = ym(t);
        csv.push_str(&format!("E,{y}-{m:02}-01,1,100\n"));
    }
    let tx = Transactions::from_csv_str(&csv, "history").unwrap();
    let p = Partners::from_csv_str(&partners, "partners").unwrap();
    let c = calibrate(&tx, Some(&p), &options()).unwrap();
    let pi = c.model.incidence.probability;
    assert!(pi > 0.8 && pi < 0.95, "{pi}");
    let e = of(&c, "E");
    let want = 500.0 * 12.0 / (1.0 / pi + 4.0);
    assert!(
        (c.partners.demand_revenue[e] - want).abs() < 1e-3,
        "{} vs {want}",
        c.partners.demand_revenue[e]
    );
    // a partner skipping inside the last year keeps its year's purchases (Q2 skips month 20)
    let q2 = of(&c, "Q2");
    assert_eq!(c.partners.demand_revenue[q2], 1100.0);
}
