//! Per-segment counterfactual revenue, incremental revenue and margin, counterfactual payout,
//! ROI and deadweight share, and the ROI and deadweight differences of a comparison, on a tiny
//! deterministic population whose figures are computed by hand.
//!
//! Partners (default model: demand is exactly the baseline, 1/12 a month):
//! `A1` (segment a, 120,000, margin 30%), `B1` (b, 60,000, margin 10%), `B2` (b, 48,000, 10%:
//! below the threshold), `C1` (c, 12,000, 30%: never paid). One yearly period, a retroactive
//! ladder paying `rate` on all volume from 50,000. Uplift elasticity 5: a partner's demand is
//! multiplied by 1 + 5 × its effective rate on expected purchases (`rate` for A1 and B1, 0 for
//! B2 and C1).

mod common;
use common::*;
use rebatesim::engine::{compare, simulate, SimOptions, SimResult};

const PARTNERS: &str = "partner_id,segment,baseline_revenue,margin_rate\n\
A1,a,120000,0.3\nB1,b,60000,0.1\nB2,b,48000,0.1\nC1,c,12000,0.3\n";

fn design(name: &str, percent: &str, budget: Option<f64>) -> rebatesim::programme::Compiled {
    let budget = budget
        .map(|b| format!("budget = {b}\n"))
        .unwrap_or_default();
    programme(&format!(
        "name = \"{name}\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n{budget}\
         [[components]]\nid = \"vol\"\nkind = \"volume\"\nmethod = \"retroactive\"\n\
         tiers = [{{ from = 50000, percent = {percent} }}]\n"
    ))
}

const UPLIFT: &str = "[behaviour.uplift]\nelasticity = 5\n";

fn opts(scenarios: usize) -> SimOptions<'static> {
    SimOptions {
        scenarios,
        seed: 3,
        threads: Some(1),
        ..Default::default()
    }
}

fn run(percent: &str, budget: Option<f64>, model_text: &str) -> SimResult {
    let pop = rebatesim::population::Population::from_csv_str(PARTNERS, "p.csv").unwrap();
    simulate(
        &design("P", percent, budget),
        &pop,
        &model(model_text),
        &opts(4),
    )
    .unwrap()
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: {got} != {want}"
    );
}

/// Column `name` of a per-segment matrix in scenario 0 (all scenarios are alike here).
fn seg(r: &SimResult, m: &[f64], name: &str) -> f64 {
    r.segment_column(m, name).unwrap()[0]
}

/// The per-segment matrices add up to the totals in every scenario (to rounding).
fn segments_add_up(r: &SimResult) {
    let g = r.segments.len();
    for s in 0..r.scenarios {
        let row = |m: &[f64]| m[s * g..(s + 1) * g].iter().sum::<f64>();
        for (m, total, what) in [
            (&r.segment_payout, r.payout[s], "payout"),
            (&r.segment_revenue, r.revenue[s], "revenue"),
            (
                &r.segment_revenue_counterfactual,
                r.revenue_counterfactual[s],
                "revenue_counterfactual",
            ),
            (
                &r.segment_incremental_revenue,
                r.incremental_revenue[s],
                "incremental_revenue",
            ),
            (
                &r.segment_incremental_margin,
                r.incremental_margin[s],
                "incremental_margin",
            ),
            (
                &r.segment_payout_counterfactual,
                r.payout_counterfactual[s],
                "payout_counterfactual",
            ),
        ] {
            let sum = row(m);
            assert!(
                (sum - total).abs() <= 1e-9 * total.abs().max(1.0),
                "scenario {s}: segments of {what} add up to {sum}, total {total}"
            );
        }
    }
}

#[test]
fn per_segment_roi_and_deadweight_with_uplift() {
    let r = run("2", None, UPLIFT);
    assert_eq!(r.segments, ["a", "b", "c"]);
    // A1 buys 132,000 (120,000 without), paid 2,640 (2,400 on the counterfactual);
    // B1 buys 66,000 (60,000), paid 1,320 (1,200); B2 and C1 are below the threshold
    for (name, rev, rev_cf, pay, pay_cf, margin) in [
        ("a", 132_000.0, 120_000.0, 2_640.0, 2_400.0, 3_600.0),
        ("b", 114_000.0, 108_000.0, 1_320.0, 1_200.0, 600.0),
        ("c", 12_000.0, 12_000.0, 0.0, 0.0, 0.0),
    ] {
        close(seg(&r, &r.segment_revenue, name), rev, "revenue");
        close(
            seg(&r, &r.segment_revenue_counterfactual, name),
            rev_cf,
            "revenue cf",
        );
        close(
            seg(&r, &r.segment_incremental_revenue, name),
            rev - rev_cf,
            "incremental revenue",
        );
        close(
            seg(&r, &r.segment_incremental_margin, name),
            margin,
            "incremental margin",
        );
        close(seg(&r, &r.segment_payout, name), pay, "payout");
        close(
            seg(&r, &r.segment_payout_counterfactual, name),
            pay_cf,
            "payout cf",
        );
    }
    // ROI a = 3,600 / 2,640 − 1 = 4/11; b = 600 / 1,320 − 1 = −6/11; deadweight 10/11 each
    close(seg(&r, &r.segment_roi, "a"), 4.0 / 11.0, "roi a");
    close(seg(&r, &r.segment_roi, "b"), -6.0 / 11.0, "roi b");
    close(
        seg(&r, &r.segment_deadweight_share, "a"),
        10.0 / 11.0,
        "deadweight a",
    );
    close(
        seg(&r, &r.segment_deadweight_share, "b"),
        10.0 / 11.0,
        "deadweight b",
    );
    // a segment paid nothing has no ROI (NaN, as the total's), and its summary leaves it out
    assert!(r.segment_roi_of("c").unwrap().iter().all(|x| x.is_nan()));
    assert!(seg(&r, &r.segment_deadweight_share, "c").is_nan());
    assert_eq!(r.segment_summary(&r.segment_roi, "c").unwrap().n, 0);
    // total ROI = 4,200 / 3,960 − 1 = 4/66
    close(r.roi[0], 4.0 / 66.0, "total roi");
    segments_add_up(&r);
    // the summary per segment: every scenario alike, standard error 0
    let s = r.segment_summary(&r.segment_roi, "a").unwrap();
    assert_eq!(s.n, 4);
    close(s.mean.value, 4.0 / 11.0, "mean roi a");
    assert_eq!(s.mean.se, 0.0);
    assert!(r.segment_summary(&r.segment_roi, "nope").is_none());
}

#[test]
fn per_segment_counterfactual_payout_is_cut_by_the_budget_pro_rata() {
    // 3,960 before the budget → 3,700: every segment × 3,700 / 3,960; the counterfactual
    // (3,600) fits the budget, so it is not cut
    let r = run("2", Some(3_700.0), UPLIFT);
    assert!(r.budget_binds[0]);
    close(
        seg(&r, &r.segment_payout, "a"),
        2_640.0 * 3_700.0 / 3_960.0,
        "payout a",
    );
    close(
        seg(&r, &r.segment_payout_counterfactual, "a"),
        2_400.0,
        "payout cf a",
    );
    // ROI a = 3,600 / 2,466.67 − 1 = 17/37, b = 600 / 1,233.33 − 1 = −19/37; deadweight
    // before the cut (which cuts with and without the programme alike): 2,400 / 2,640 = 10/11
    close(seg(&r, &r.segment_roi, "a"), 17.0 / 37.0, "roi a");
    close(seg(&r, &r.segment_roi, "b"), -19.0 / 37.0, "roi b");
    close(
        seg(&r, &r.segment_deadweight_share, "a"),
        10.0 / 11.0,
        "deadweight a",
    );
    close(
        seg(&r, &r.segment_deadweight_share, "b"),
        10.0 / 11.0,
        "deadweight b",
    );
    close(r.roi[0], 5.0 / 37.0, "total roi");
    close(r.deadweight_share[0], 10.0 / 11.0, "total deadweight");
    segments_add_up(&r);
    // a budget below the counterfactual payout cuts that too: 3,000 of 3,600, pro rata
    let r = run("2", Some(3_000.0), UPLIFT);
    close(
        seg(&r, &r.segment_payout_counterfactual, "a"),
        2_000.0,
        "payout cf a",
    );
    close(
        seg(&r, &r.segment_payout_counterfactual, "b"),
        1_000.0,
        "payout cf b",
    );
    close(
        seg(&r, &r.segment_roi, "a"),
        3_600.0 / 2_000.0 - 1.0,
        "roi a",
    );
    // the budget binds with and without the programme: after the cut both pay 3,000 (a share
    // of 1 whatever the programme changed), before it 3,600 of 3,960 would be paid anyway
    close(
        seg(&r, &r.segment_deadweight_share, "a"),
        10.0 / 11.0,
        "deadweight a",
    );
    close(r.deadweight_share[0], 10.0 / 11.0, "total deadweight");
    segments_add_up(&r);
}

#[test]
fn without_behaviour_nothing_is_incremental_in_any_segment() {
    // no behaviour: the fast path (counterfactual purchases = simulated ones); with noise
    let r = run(
        "2",
        Some(3_000.0),
        "[noise]\nsigma = 0.2\n[market]\nsigma = 0.1\n",
    );
    assert!(r.segment_incremental_revenue.iter().all(|&x| x == 0.0));
    assert!(r.segment_incremental_margin.iter().all(|&x| x == 0.0));
    assert_eq!(r.segment_revenue_counterfactual, r.segment_revenue);
    for name in ["a", "b"] {
        for (pay, cf) in r
            .segment_column(&r.segment_payout, name)
            .unwrap()
            .iter()
            .zip(
                r.segment_column(&r.segment_payout_counterfactual, name)
                    .unwrap(),
            )
        {
            close(cf, *pay, "payout cf = payout");
        }
        let paid = r.segment_column(&r.segment_payout, name).unwrap();
        for (s, dw) in r
            .segment_column(&r.segment_deadweight_share, name)
            .unwrap()
            .into_iter()
            .enumerate()
        {
            if paid[s] > 0.0 {
                close(dw, 1.0, "deadweight");
                close(r.segment_roi_of(name).unwrap()[s], -1.0, "roi");
            }
        }
    }
    assert!(r.segment_payout_of("a").unwrap().iter().all(|&x| x > 0.0));
    segments_add_up(&r);
    // an unknown margin makes the segment's incremental margin NaN (and the total's)
    let pop = rebatesim::population::Population::from_csv_str(
        "partner_id,segment,baseline_revenue,margin_rate\nA1,a,120000,0.3\nB1,b,60000,\n",
        "p.csv",
    )
    .unwrap();
    let r = simulate(&design("P", "2", None), &pop, &model(""), &opts(2)).unwrap();
    assert_eq!(r.segment_incremental_margin[0], 0.0);
    assert!(r.segment_incremental_margin[1].is_nan() && r.incremental_margin[0].is_nan());
    assert!(r.segment_roi[1].is_nan());
}

#[test]
fn compare_reports_roi_and_deadweight_differences() {
    // ROI = (0.3 · 600,000ρ + 0.1 · 300,000ρ) / (180,000ρ (1 + 5ρ)) − 1 = (7/6) / (1 + 5ρ) − 1:
    // 2/33 at ρ = 2% (A), 1/9 at ρ = 1% (B): B − A = 5/99. Deadweight 1 / (1 + 5ρ): 10/11 and
    // 20/21, B − A = 10/231. Design C pays nothing (threshold out of reach): no ROI at all.
    let pop = rebatesim::population::Population::from_csv_str(PARTNERS, "p.csv").unwrap();
    let (a, b) = (design("A", "2", None), design("B", "1", None));
    let c = programme(
        "name = \"C\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\n\
         [[components]]\nid = \"vol\"\nkind = \"volume\"\ntiers = [{ from = 9000000, percent = 2 }]\n",
    );
    let m = model(UPLIFT);
    let cmp = compare(&[("A", &a), ("B", &b), ("C", &c)], &pop, &m, &opts(5)).unwrap();
    close(cmp.results[0].roi[0], 2.0 / 33.0, "roi A");
    close(cmp.results[1].roi[0], 1.0 / 9.0, "roi B");
    let d = &cmp.differences[0];
    assert_eq!((d.reference.as_str(), d.design.as_str()), ("A", "B"));
    close(d.roi.mean.value, 5.0 / 99.0, "roi B − A");
    assert_eq!(d.roi.mean.se, 0.0);
    assert_eq!(d.roi.n, 5);
    close(
        d.deadweight_share.mean.value,
        10.0 / 231.0,
        "deadweight B − A",
    );
    // NaN ROI (nothing paid) leaves the scenarios out, as the summaries of the totals do
    let d = &cmp.differences[1];
    assert_eq!(d.roi.n, 0);
    assert!(d.roi.mean.value.is_nan() && d.deadweight_share.mean.value.is_nan());
    assert_eq!(d.payout.n, 5);

    // with noise the direction holds, measured on common random numbers with a standard error
    let noisy = model(&format!(
        "{UPLIFT}[noise]\nsigma = 0.2\n[market]\nsigma = 0.1\n"
    ));
    let cmp = compare(&[("A", &a), ("B", &b)], &pop, &noisy, &opts(200)).unwrap();
    let d = &cmp.differences[0];
    assert!(d.roi.mean.se > 0.0);
    assert!(d.roi.mean.value > 4.0 * d.roi.mean.se, "{:?}", d.roi.mean);
    assert!(
        d.deadweight_share.mean.value > 0.0,
        "{:?}",
        d.deadweight_share.mean
    );
}
