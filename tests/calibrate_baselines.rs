//! The calibration's per-period baselines (revenue and units) on a small history whose months
//! all differ, with and without a programme, its calendar alignment and its warnings.

use rebatesim::calibrate::{calibrate, calibrate_with, Calibration, Options};
use rebatesim::data::Transactions;
use rebatesim::programme::{Compiled, Format, Programme};

fn options() -> Options {
    Options {
        draws: 0,
        bootstrap: 20,
        warn_segment_partners: 0,
        ..Options::default()
    }
}

/// Five partners, 2024-01 … 2025-02 (14 months): partner i buys (i+1)·(1000 + 10·t) for
/// (i+1)·(10 + t) units in history month t (t = 0 for 2024-01), times `units`.
fn history(units: u32) -> Transactions {
    let mut csv = String::from("partner_id,date,quantity,revenue\n");
    for i in 0..5u32 {
        for t in 0..14u32 {
            let (y, m) = (2024 + t / 12, t % 12 + 1);
            let (rev, qty) = ((i + 1) * (1000 + 10 * t), (i + 1) * (10 + t) * units);
            csv.push_str(&format!("P{i},{y}-{m:02}-10,{qty},{rev}\n"));
        }
    }
    Transactions::from_csv_str(&csv, "history").unwrap()
}

fn programme(start: &str) -> Compiled {
    let text = format!(
        "name = \"Ladder\"\ncurrency = \"EUR\"\nstart = {start}\nperiod = \"quarter\"\nperiods = 4\n\
         [[components]]\nid = \"volume\"\nkind = \"volume\"\nmethod = \"retroactive\"\n\
         tiers = [{{ from = 30000, percent = 2 }}]\n"
    );
    Programme::from_str(&text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

/// History month t of each programme month, read back from partner P1 (revenue 2·(1000+10t)).
fn months_of(c: &Calibration) -> Vec<u32> {
    let rev = &c.partners.baseline_revenue_months[1];
    let units = c.partners.baseline_units_months.as_ref().unwrap();
    (0..12)
        .map(|j| {
            let t = (rev[j] / 2.0 - 1000.0) / 10.0;
            assert_eq!(units[1][j], 2.0 * (10.0 + t), "units of month {}", j + 1);
            t as u32
        })
        .collect()
}

fn warned(c: &Calibration, what: &str) -> bool {
    c.warnings.iter().any(|w| w.contains(what))
}

#[test]
fn without_a_programme_the_baselines_are_the_last_twelve_months_oldest_first() {
    let c = calibrate(&history(1), None, &options()).unwrap();
    let p = &c.partners;
    // P0: 2024-03 (t = 2) … 2025-02 (t = 13)
    assert_eq!(p.baseline_revenue_months[0][0], 1020.0);
    assert_eq!(p.baseline_revenue_months[0][11], 1130.0);
    assert_eq!(p.baseline_units_months.as_ref().unwrap()[0][0], 12.0);
    assert_eq!(p.baseline_units_months.as_ref().unwrap()[4][11], 5.0 * 23.0);
    assert_eq!(p.baseline_months[0], "2024-03");
    assert_eq!(p.baseline_months[11], "2025-02");
    assert_eq!(months_of(&c), (2..14).collect::<Vec<_>>());
    // the months sum to the last-12-months revenue: P4 = 5·(12·1000 + 10·(2+…+13))
    let sum: f64 = p.baseline_revenue_months[4].iter().sum();
    assert_eq!(sum, 5.0 * (12_000.0 + 10.0 * 90.0));
    assert_eq!(sum, p.last12_revenue[4]);
}

#[test]
fn a_programme_starting_in_april_takes_the_last_april_as_month_one() {
    let c = calibrate_with(
        &history(1),
        None,
        Some(&programme("2025-04-01")),
        &options(),
    )
    .unwrap();
    // April 2024 (t = 3) … February 2025 (t = 13), then March 2024 (t = 2)
    let mut want: Vec<u32> = (3..14).collect();
    want.push(2);
    assert_eq!(months_of(&c), want);
    assert_eq!(c.partners.baseline_revenue_months[0][0], 1030.0);
    assert_eq!(c.partners.baseline_revenue_months[0][11], 1020.0);
    assert_eq!(c.partners.baseline_months[0], "2024-04");
    assert_eq!(c.partners.baseline_months[11], "2024-03");
    assert!(!warned(&c, "monthly baselines"), "{:?}", c.warnings);
    // the month after the history ends: today's rule, no warning
    let next = calibrate_with(
        &history(1),
        None,
        Some(&programme("2025-03-01")),
        &options(),
    )
    .unwrap();
    assert_eq!(months_of(&next), (2..14).collect::<Vec<_>>());
    assert!(!warned(&next, "monthly baselines"));
    // twelve months after the history's last month: still no warning, February first
    let late = calibrate_with(
        &history(1),
        None,
        Some(&programme("2026-02-01")),
        &options(),
    )
    .unwrap();
    assert_eq!(months_of(&late)[..2], [13, 2]);
    assert!(!warned(&late, "monthly baselines"));
}

#[test]
fn a_programme_before_the_history_ends_or_over_a_year_after_it_is_a_warning() {
    let early = calibrate_with(
        &history(1),
        None,
        Some(&programme("2025-01-01")),
        &options(),
    )
    .unwrap();
    assert!(
        warned(
            &early,
            "programme starts on 2025-01-01, before the history ends (2025-02)"
        ),
        "{:?}",
        early.warnings
    );
    // January 2025 (t = 12), February 2025, then March 2024 …
    assert_eq!(months_of(&early)[..3], [12, 13, 2]);
    let far = calibrate_with(
        &history(1),
        None,
        Some(&programme("2026-03-01")),
        &options(),
    )
    .unwrap();
    assert!(warned(
        &far,
        "more than 12 months after the history ends (2025-02)"
    ));
    assert_eq!(months_of(&far), (2..14).collect::<Vec<_>>());
}

#[test]
fn a_history_without_quantities_has_no_units_baselines() {
    let c = calibrate(&history(0), None, &options()).unwrap();
    assert!(c.partners.baseline_units_months.is_none());
    assert_eq!(c.partners.baseline_revenue_months[0][0], 1020.0);
}
