//! The fast path against the general path: every output bit-identical, on randomised
//! programmes (volume, growth and per-unit components, every tier method and reward kind,
//! basis caps, both measures, component caps, exclusive groups, partner cap, minimum payout,
//! budget, every rounding rule, 0/2/3 decimals, 1 to 14 periods of any length), populations
//! (segments, partner scopes, missing baselines, unit prices, margins) and models (every
//! market process, segment and partner factors, noise, churn, growth, seasonality).

use crate::demand::Model;
use crate::engine::scenario::CounterfactualRun;
use crate::engine::setup::Setup;
use crate::engine::work::Work;
use crate::population::Population;
use crate::programme::Compiled;
use crate::programme::{Format, Programme};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

/// Every output of `n` scenarios, through `run_scenario` and the fold in scenario order (as
/// `simulate` does), as JSON (so NaN compares equal to NaN and any bit difference shows).
fn run_all(setup: &Setup, pop: &Population, seed: u64, n: usize) -> String {
    run_all_with(setup, pop, seed, n, None)
}

/// [`run_all`], on the general path with `counterfactual` when given.
fn run_all_with(
    setup: &Setup,
    pop: &Population,
    seed: u64,
    n: usize,
    counterfactual: Option<CounterfactualRun>,
) -> String {
    let mut acc = setup.new_acc(pop, seed, n);
    let mut w = Work::new(setup);
    for s in 0..n as u64 {
        let o = match counterfactual {
            Some(c) => setup.general_scenario(seed, s, &mut w, c),
            None => setup.run_scenario(seed, s, &mut w),
        };
        setup.fold(&mut acc, o);
    }
    serde_json::to_string(&setup.finish(acc)).expect("serializable")
}

/// (fast, general) outputs; panics when the fast path does not apply.
fn both(p: &Compiled, pop: &Population, model: &Model, seed: u64, n: usize) -> (String, String) {
    let mut setup = Setup::new(p, pop, model).expect("valid inputs");
    assert!(setup.fast.is_some(), "the fast path should apply");
    let fast = run_all(&setup, pop, seed, n);
    setup.fast = None;
    let general = run_all(&setup, pop, seed, n);
    (fast, general)
}

fn pick<'a, T>(r: &mut impl Rng, xs: &'a [T]) -> &'a T {
    &xs[r.random_range(0..xs.len())]
}

/// A random programme, population and model of the fast path's shape, from `seed`.
fn random_case(seed: u64) -> (String, String, String) {
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let (period, max_periods, months) = *pick(
        &mut r,
        &[
            ("month", 14, 1),
            ("quarter", 5, 3),
            ("half", 3, 6),
            ("year", 2, 12),
        ],
    );
    let periods: u32 = r.random_range(1..=max_periods);
    let (currency, decimals) = *pick(&mut r, &[("EUR", 2), ("JPY", 0), ("KWD", 3)]);
    let _ = decimals;
    let rounding = *pick(&mut r, &["half_up", "half_even", "down", "up"]);
    let n_partners = r.random_range(1..=24usize);
    let ids: Vec<String> = (0..n_partners).map(|i| format!("P{i:02}")).collect();
    let segs = ["a", "b", "c"];

    // a period's typical revenue: partners' annual baselines are 20k..1.2M
    let level = 300_000.0 * months as f64 / 12.0;
    let mut prog = format!(
        "name = \"fast\"\ncurrency = \"{currency}\"\nrounding = \"{rounding}\"\nstart = 2027-0{}-01\nperiod = \"{period}\"\nperiods = {periods}\nsegments = [\"a\", \"b\", \"c\"]\n",
        r.random_range(1..=9)
    );
    if r.random_bool(0.4) {
        prog += &format!("budget = {}\n", r.random_range(1_000..3_000_000));
    }
    if r.random_bool(0.3) {
        prog += &format!("partner_cap = {}\n", r.random_range(100..60_000));
    }
    if r.random_bool(0.3) {
        prog += &format!("minimum_payout = {}\n", r.random_range(0..3_000));
    }
    if r.random_bool(0.3) {
        prog += &format!(
            "[payment]\nwhen = \"{}\"\nlag_days = {}\n",
            pick(&mut r, &["period", "end"]),
            r.random_range(0..100)
        );
    }
    let component_count = r.random_range(1..=4);
    for c in 0..component_count {
        prog += &format!("[[components]]\nid = \"c{c}\"\n");
        let kind = *pick(
            &mut r,
            &["volume", "volume", "volume", "growth", "per_unit"],
        );
        prog += &format!("kind = \"{kind}\"\n");
        if r.random_bool(0.4) {
            let mut ss: Vec<&str> = segs
                .iter()
                .copied()
                .filter(|_| r.random_bool(0.5))
                .collect();
            if ss.is_empty() {
                ss.push(segs[c % 3]);
            }
            prog += &format!("segments = {ss:?}\n");
        }
        if r.random_bool(0.15) {
            let ps: Vec<&String> = ids.iter().filter(|_| r.random_bool(0.5)).collect();
            if !ps.is_empty() {
                prog += &format!("partners = {ps:?}\n");
            }
        }
        if kind != "per_unit" && r.random_bool(0.4) {
            prog += "measure = \"cumulative\"\n";
        }
        if r.random_bool(0.2) {
            prog += &format!("returns = \"{}\"\n", pick(&mut r, &["net", "gross"]));
        }
        if r.random_bool(0.3) {
            prog += &format!("cap = {}\n", r.random_range(50..20_000));
        }
        if r.random_bool(0.25) {
            prog += &format!("exclusive_group = \"{}\"\n", pick(&mut r, &["g1", "g2"]));
        }
        let units = r.random_bool(0.3);
        let nt = r.random_range(1..=4);
        // one kind of reward per ladder
        let kind_of_reward = r.random_range(0..6);
        let reward = |r: &mut rand_xoshiro::Xoshiro256PlusPlus| -> String {
            match kind_of_reward {
                0 => format!("per_unit = {}", r.random_range(1..300) as f64 / 100.0),
                1 => format!("fixed = {}", r.random_range(10..5_000)),
                _ => format!("percent = {}", r.random_range(1..80) as f64 / 10.0),
            }
        };
        match kind {
            "volume" => {
                prog += &format!("basis = \"{}\"\n", if units { "units" } else { "revenue" });
                prog += &format!(
                    "method = \"{}\"\n",
                    pick(&mut r, &["retroactive", "incremental", "rolling", "total"])
                );
                let unit = if units { 1.0 / 40.0 } else { 1.0 };
                let mut t = if r.random_bool(0.2) {
                    0.0
                } else {
                    r.random_range(0.0..1.0) * level * unit
                };
                let mut tiers = Vec::new();
                for _ in 0..nt {
                    tiers.push(format!("{{ from = {}, {} }}", t.round(), reward(&mut r)));
                    t = t.round() + 1.0 + r.random_range(0.0..0.8) * level * unit;
                }
                prog += &format!("tiers = [{}]\n", tiers.join(", "));
                if r.random_bool(0.25) {
                    prog += &format!(
                        "basis_cap = {}\n",
                        (r.random_range(0.2..2.0) * level * unit).round() + 1.0
                    );
                }
            }
            "growth" => {
                prog += &format!("basis = \"{}\"\n", if units { "units" } else { "revenue" });
                prog += &format!("applies_to = \"{}\"\n", pick(&mut r, &["whole", "growth"]));
                let mut g = r.random_range(-30..10);
                let mut tiers = Vec::new();
                for _ in 0..nt {
                    tiers.push(format!("{{ from = {g}, {} }}", reward(&mut r)));
                    g += r.random_range(1..25);
                }
                prog += &format!("tiers = [{}]\n", tiers.join(", "));
            }
            _ => {
                prog += &format!("amount = {}\n", r.random_range(1..500) as f64 / 100.0);
                match r.random_range(0..3) {
                    0 => {}
                    1 => prog += &format!("above = {}\n", r.random_range(0..2_000)),
                    _ => prog += "above = \"baseline\"\n",
                }
            }
        }
    }

    // partners: every one has a unit price (units are measured), some lack a baseline
    let mut csv =
        String::from("partner_id,segment,baseline_revenue,baseline_units,unit_price,margin_rate\n");
    for id in &ids {
        let seg = pick(&mut r, &segs);
        let price = r.random_range(5.0..120.0f64);
        let rev = if r.random_bool(0.9) {
            format!("{:.2}", 20_000.0 * (r.random_range(0.0..4.1f64)).exp())
        } else {
            String::new()
        };
        let units = if !rev.is_empty() && r.random_bool(0.3) {
            format!("{}", r.random_range(100..50_000))
        } else {
            String::new()
        };
        let margin = if r.random_bool(0.8) {
            format!("{:.2}", r.random_range(0.05..0.6))
        } else {
            String::new()
        };
        csv += &format!("{id},{seg},{rev},{units},{price:.2},{margin}\n");
    }
    // ensure every segment with partners has one with a baseline (new partners take the
    // segment's median)
    csv += "Z0,a,100000,,50,0.3\nZ1,b,400000,,20,\nZ2,c,50000,,8,0.2\n";

    let mut model = String::new();
    if r.random_bool(0.5) {
        let f: Vec<String> = (0..12)
            .map(|_| format!("{:.2}", r.random_range(0.5..1.5)))
            .collect();
        model += &format!("[seasonality]\nfactors = [{}]\n", f.join(", "));
    }
    if r.random_bool(0.4) {
        model += &format!(
            "[growth]\nrate = {:.3}\nsegments = {{ b = {:.3} }}\n",
            r.random_range(-0.1..0.3),
            r.random_range(-0.1..0.3)
        );
    }
    if r.random_bool(0.8) {
        let process = *pick(&mut r, &["constant", "ar1", "random_walk"]);
        model += &format!(
            "[market]\nsigma = {:.3}\nprocess = \"{process}\"\n",
            r.random_range(0.0..0.3)
        );
        match process {
            "ar1" => model += &format!("rho = {:.2}\n", r.random_range(0.0..0.95)),
            "random_walk" => model += &format!("monthly_sigma = {:.3}\n", r.random_range(0.0..0.1)),
            _ => {}
        }
    }
    if r.random_bool(0.4) {
        model += &format!(
            "[segment_factor]\nsigma = {:.3}\n",
            r.random_range(0.0..0.3)
        );
    }
    if r.random_bool(0.4) {
        model += &format!(
            "[partner_factor]\nsigma = {:.3}\n",
            r.random_range(0.0..0.5)
        );
    }
    if r.random_bool(0.9) {
        model += &format!(
            "[noise]\nsigma = {:.3}\nsegments = {{ c = {:.3} }}\n",
            r.random_range(0.0..0.8),
            r.random_range(0.0..0.8)
        );
    }
    if r.random_bool(0.3) {
        model += &format!(
            "[churn]\nmonthly_hazard = {:.3}\n",
            r.random_range(0.0..0.2)
        );
    }
    if r.random_bool(0.3) {
        model += "[economics]\nmargin_rate = 0.25\n";
    }
    (prog, csv, model)
}

fn inputs(prog: &str, csv: &str, model: &str) -> (Compiled, Population, Model) {
    let p = Programme::from_str(prog, Format::Toml, None)
        .unwrap_or_else(|e| panic!("{e}\n{prog}"))
        .compile()
        .unwrap_or_else(|e| panic!("{e}\n{prog}"));
    let pop =
        Population::from_csv_str(csv, "partners.csv").unwrap_or_else(|e| panic!("{e}\n{csv}"));
    let m = Model::from_str(model, Format::Toml, None).unwrap_or_else(|e| panic!("{e}\n{model}"));
    (p, pop, m)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_equals_general_path(case in any::<u64>(), seed in 0u64..1000) {
        let (prog, csv, model) = random_case(case);
        let (p, pop, m) = inputs(&prog, &csv, &model);
        let (fast, general) = both(&p, &pop, &m, seed, 3);
        prop_assert!(fast == general, "outputs differ\n--- programme\n{}\n--- partners\n{}\n--- model\n{}\n--- fast\n{}\n--- general\n{}", prog, csv, model, fast, general);
    }
}

/// The common shape (one period, payable = capped, at most one component per partner) has its
/// own loop (`run_simple`, with a loop of its own for retroactive revenue ladders of rates):
/// both equal the general path, on the random cases of that shape.
#[test]
fn the_common_shape_takes_its_own_loop_and_agrees() {
    let (mut found, mut retro) = (0, 0);
    let mut case = 0u64;
    while found < 64 || retro < 16 {
        case += 1;
        assert!(
            case < 100_000,
            "too few cases of the common shape: {found}, {retro} retroactive"
        );
        let (prog, csv, model) = random_case(case);
        let (p, pop, m) = inputs(&prog, &csv, &model);
        let setup = Setup::new(&p, &pop, &m).expect("valid inputs");
        let Some(simple) = setup.fast.as_ref().and_then(|f| f.simple.as_ref()) else {
            continue;
        };
        found += 1;
        retro += simple.retro.is_some() as usize;
        let (fast, general) = both(&p, &pop, &m, case % 1000, 3);
        assert!(fast == general, "outputs differ\n--- programme\n{prog}\n--- partners\n{csv}\n--- model\n{model}\n--- fast\n{fast}\n--- general\n{general}");
    }
}

#[test]
fn bench_std_shape_takes_the_fast_path_and_agrees() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = Programme::from_file(root.join("examples/bench_std/programme.toml"))
        .unwrap()
        .compile()
        .unwrap();
    let m = Model::from_file(root.join("examples/bench_std/model.toml")).unwrap();
    let mut csv = String::from("partner_id,segment,baseline_revenue\n");
    for i in 0..300 {
        let seg = ["small", "small", "mid", "large"][i % 4];
        let base = [150_000.0, 700_000.0, 3_500_000.0][i % 4 % 3] * (0.6 + (i % 17) as f64 / 20.0);
        csv += &format!("p{i},{seg},{base}\n");
    }
    let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
    let setup = Setup::new(&p, &pop, &m).unwrap();
    let simple = setup.fast.as_ref().and_then(|f| f.simple.as_ref());
    assert!(
        simple.is_some_and(|s| s.retro.is_some()),
        "the common shape's own loop"
    );
    let (fast, general) = both(&p, &pop, &m, 1, 20);
    assert_eq!(fast, general);
}

/// Retroactive revenue ladders of rates on partner tables grouped by segment (as real tables
/// are): whole blocks of `block::LANES` partners in one ladder take the vectorised loop, the blocks
/// across a segment boundary and the last, partial block the partner-by-partner one; both
/// equal the general path, whatever the rounding rule, decimals, measure and caps.
#[test]
fn retroactive_ladders_on_grouped_partners_agree_block_by_block() {
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(27);
    // blocks taken lane by lane, and partner by partner, over the cases
    let (mut lanes, mut single) = (0, 0);
    for case in 0..24 {
        let (currency, _) = *pick(&mut r, &[("EUR", 2), ("JPY", 0), ("KWD", 3)]);
        let rounding = *pick(&mut r, &["half_up", "half_even", "down", "up"]);
        let mut prog = format!(
            "name = \"grouped\"\ncurrency = \"{currency}\"\nrounding = \"{rounding}\"\nstart = 2027-01-01\nperiod = \"year\"\nperiods = 1\nsegments = [\"a\", \"b\", \"c\"]\n"
        );
        if r.random_bool(0.5) {
            prog += &format!("budget = {}\n", r.random_range(100_000..5_000_000));
        }
        for seg in ["a", "b", "c"] {
            prog += &format!(
                "[[components]]\nid = \"{seg}\"\nkind = \"volume\"\nsegments = [\"{seg}\"]\nmethod = \"retroactive\"\n"
            );
            if r.random_bool(0.4) {
                prog += "measure = \"cumulative\"\n";
            }
            if r.random_bool(0.6) {
                prog += &format!("cap = {}\n", r.random_range(500..20_000));
            }
            let mut t = if r.random_bool(0.2) {
                0.0
            } else {
                r.random_range(50_000.0..250_000.0f64).round()
            };
            let mut tiers = Vec::new();
            for _ in 0..r.random_range(1..=4) {
                // rates of a thousandth of a percent: amounts on and near the midpoints
                tiers.push(format!(
                    "{{ from = {t}, percent = {} }}",
                    r.random_range(1..4_000) as f64 / 1000.0
                ));
                t = (t + r.random_range(1.0..150_000.0f64)).round();
            }
            prog += &format!("tiers = [{}]\n", tiers.join(", "));
        }
        // runs of each segment, of lengths that are and are not multiples of the block
        let mut csv = String::from("partner_id,segment,baseline_revenue\n");
        let mut i = 0;
        for seg in ["a", "b", "c"] {
            for _ in 0..r.random_range(1..100) {
                csv += &format!("p{i},{seg},{:.2}\n", r.random_range(10_000.0..600_000.0f64));
                i += 1;
            }
        }
        let noise = pick(&mut r, &["0", "0.2", "0.6"]);
        let model =
            format!("[market]\nsigma = 0.1\nprocess = \"constant\"\n[noise]\nsigma = {noise}\n");
        let (p, pop, m) = inputs(&prog, &csv, &model);
        let setup = Setup::new(&p, &pop, &m).expect("valid inputs");
        let simple = setup.fast.as_ref().and_then(|f| f.simple.as_ref());
        assert!(
            simple.is_some_and(|s| s.retro.is_some()),
            "case {case}: the retroactive loop\n{prog}"
        );
        let uniform = &simple.unwrap().retro.as_ref().unwrap().2;
        lanes += uniform.iter().filter(|&&u| u).count();
        single += uniform.iter().filter(|&&u| !u).count();
        let (fast, general) = both(&p, &pop, &m, case, 4);
        assert!(fast == general, "case {case}: outputs differ\n--- programme\n{prog}\n--- partners\n{csv}\n--- model\n{model}");
    }
    assert!(
        lanes >= 20 && single >= 20,
        "{lanes} blocks lane by lane, {single} partner by partner"
    );
}

#[test]
fn the_general_path_runs_what_the_fast_path_cannot() {
    let prog = |extra: &str| {
        format!(
            "name = \"x\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\ncategories = [\"k\", \"l\"]\n[[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{{ from = 1000, percent = 2 }}]\n{extra}"
        )
    };
    let csv = "partner_id,segment,baseline_revenue,unit_price\nA,s,100000,10\nB,s,200000,20\n";
    let csv_mix = "partner_id,segment,baseline_revenue,unit_price,mix_k,mix_l\nA,s,100000,10,0.4,0.6\nB,s,200000,20,0.5,0.5\n";
    let plan = |prog: &str, csv: &str, model: &str| {
        let (p, pop, m) = inputs(prog, csv, model);
        Setup::new(&p, &pop, &m).unwrap().fast.is_some()
    };
    assert!(plan(&prog(""), csv, "[noise]\nsigma = 0.2\n"));
    // behaviour, returns, line categories, logistics orders, bundles: the general path
    assert!(!plan(
        &prog(""),
        csv,
        "[behaviour.stretch]\nenabled = true\n"
    ));
    assert!(!plan(
        &prog(""),
        csv,
        "[behaviour.uplift]\nelasticity = 1\n"
    ));
    assert!(!plan(&prog(""), csv, "[returns]\nshare = 0.02\n"));
    assert!(!plan(&prog(""), csv_mix, ""));
    assert!(!plan(
        &prog(
            "[[components]]\nid = \"w\"\nkind = \"logistics\"\nmin_quantity = 5\nper_order = 3\n"
        ),
        csv,
        ""
    ));
    assert!(!plan(
        &prog("[[components]]\nid = \"w\"\nkind = \"bundle\"\ncategories = [\"k\", \"l\"]\nminimums = { k = 1, l = 1 }\npercent = 1\n"),
        csv_mix,
        "[economics.category_mix]\nk = 0.5\nl = 0.5\n"
    ));
}

#[test]
fn tier_probabilities_are_the_shares_of_scenarios_reaching_each_tier() {
    for case in 0..12u64 {
        let (prog, csv, model) = random_case(case);
        let (p, pop, m) = inputs(&prog, &csv, &model);
        let setup = Setup::new(&p, &pop, &m).unwrap();
        let n = 7;
        let nl = setup.ladders.len();
        let np = setup.partners.len();
        let mut reach = vec![0u32; np * setup.partner_tier_width];
        let mut acc = setup.new_acc(&pop, 3, n);
        let mut w = Work::new(&setup);
        for s in 0..n as u64 {
            let o = setup.run_scenario(3, s, &mut w);
            for i in 0..np {
                for (l, (_, lad)) in setup.ladders.iter().enumerate() {
                    let t = o.partner_tier[i * nl + l] as usize;
                    for tt in 0..t.min(lad.tiers) {
                        reach[i * setup.partner_tier_width + lad.partner_offset + tt] += 1;
                    }
                }
            }
            setup.fold(&mut acc, o);
        }
        let r = setup.finish(acc);
        let want: Vec<f64> = reach.iter().map(|&c| c as f64 / n as f64).collect();
        assert_eq!(r.partner_tier_probability, want, "case {case}");
    }
}

/// Baselines so large that a month's purchases over the partners reach 9·10¹⁵ minor units or
/// more: the months' sums then take `block::month_rev`'s cold path, added partner after
/// partner; every output still equals the general path's, through both loops. (A partner
/// table's baselines are below 10¹⁵ since issue 13, so the scaled ones are kept just below it:
/// fifteen partners of 10¹⁵ a year still buy far more than 9·10¹³ a month.)
#[test]
fn huge_baselines_sum_the_months_partner_after_partner() {
    let (mut simple, mut other) = (0, 0);
    let mut case = 0u64;
    while simple < 12 || other < 12 {
        case += 1;
        assert!(
            case < 10_000,
            "too few cases: {simple} simple, {other} other"
        );
        let (prog, csv, model) = random_case(case);
        // the baselines (third column) times 10^8 .. 10^300
        let factor = [1e8, 1e9, 1e10, 1e11, 1e13, 1e300][case as usize % 6];
        let csv: String = csv
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let mut cols: Vec<String> = line.split(',').map(String::from).collect();
                if i > 0 && !cols[2].is_empty() {
                    let v = (cols[2].parse::<f64>().unwrap() * factor).min(9.99e14);
                    cols[2] = format!("{v:e}");
                }
                cols.join(",") + "\n"
            })
            .collect();
        let (p, pop, m) = inputs(&prog, &csv, &model);
        let setup = Setup::new(&p, &pop, &m).expect("valid inputs");
        let Some(plan) = setup.fast.as_ref() else {
            continue;
        };
        if plan.simple.is_some() {
            simple += 1;
        } else {
            other += 1;
        }
        let (fast, general) = both(&p, &pop, &m, case % 1000, 2);
        assert!(fast == general, "case {case}: outputs differ\n--- programme\n{prog}\n--- partners\n{csv}\n--- model\n{model}\n--- fast\n{fast}\n--- general\n{general}");
    }
}

/// With a behavioural response (the general path), a partner whose programme run bought
/// exactly its demand (uplift 1, no stretch purchase) takes that run's results as its
/// counterfactual instead of running it again (`CounterfactualRun::SkipWhenSame`): every output is the same
/// bits as running it, with and without uplift, pull-forward and stretch purchases.
#[test]
fn the_counterfactual_shortcut_changes_no_bit() {
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(31);
    let mut stretches = 0.0;
    for case in 0..40u64 {
        let (prog, csv, _) = random_case(1000 + case);
        let stretch = *pick(&mut r, &["true", "false"]);
        let pull = *pick(&mut r, &["0", "0.5"]);
        let uplift = *pick(&mut r, &["0", "0.5"]);
        let model = format!(
            "[noise]\nsigma = 0.3\n[behaviour.stretch]\nenabled = {stretch}\nmax_shortfall = 0.3\n[behaviour.pull_forward]\nshare = {pull}\n[behaviour.uplift]\nelasticity = {uplift}\n"
        );
        let (p, pop, m) = inputs(&prog, &csv, &model);
        let setup = Setup::new(&p, &pop, &m).expect("valid inputs");
        let short = run_all_with(&setup, &pop, case, 6, Some(CounterfactualRun::SkipWhenSame));
        let full = run_all_with(&setup, &pop, case, 6, Some(CounterfactualRun::Always));
        assert!(short == full, "case {case}: outputs differ\n--- programme\n{prog}\n--- partners\n{csv}\n--- model\n{model}");
        let v: serde_json::Value = serde_json::from_str(&full).unwrap();
        stretches += v["stretches"]
            .as_array()
            .map_or(0.0, |a| a.iter().filter_map(|x| x.as_f64()).sum());
    }
    assert!(stretches > 0.0, "no stretch purchase in any case");
}
