//! The fuzz campaign's cheap, deterministic part (fuzz/README.md): replay the committed corpus
//! (`fuzz/corpus`) and a few hundred generated and mutated cases, in process, and require that
//! every input ends accepted or with an `Error` value, never a panic.
//!
//! The inputs of every failure class issue 13 names and the campaign found (Decimal overflow,
//! quadratic error location, YAML depth and aliases, huge order counts, non-regular files,
//! Decimal formatting, logistics forecasts) are fixed and part of the corpus (fuzz/README.md:
//! "Known classes"); a new class goes to `fuzz/known/CLASS/` (fuzz/make_corpus.py: KNOWN) with
//! an ignored test here until it is fixed.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::collections::BTreeMap;
use targets::{Case, Outcome, Target};

/// Run `cases`, print the counts per target, and return the panics (origin, message).
fn replay(what: &str, cases: &[Case]) -> Vec<(String, String)> {
    targets::quiet_panics();
    let mut counts: BTreeMap<Target, [usize; 3]> = BTreeMap::new();
    let mut panics = Vec::new();
    for c in cases {
        let o = targets::run(c);
        let k = match &o {
            Outcome::Accepted => 0,
            Outcome::CleanError(_) => 1,
            Outcome::Panic(m) => {
                panics.push((c.origin.clone(), m.clone()));
                2
            }
        };
        counts.entry(c.target).or_default()[k] += 1;
    }
    let _ = std::panic::take_hook();
    let mut total = [0; 3];
    for (t, n) in &counts {
        println!(
            "{what}: {:<13} accepted {:>4}, clean errors {:>4}, panics {}",
            t.name(),
            n[0],
            n[1],
            n[2]
        );
        for i in 0..3 {
            total[i] += n[i];
        }
    }
    println!(
        "{what}: {} inputs, accepted {}, clean errors {}, panics {}",
        cases.len(),
        total[0],
        total[1],
        total[2]
    );
    panics
}

fn assert_no_panic(panics: &[(String, String)]) {
    assert!(
        panics.is_empty(),
        "{} input(s) panicked:\n{}",
        panics.len(),
        panics
            .iter()
            .map(|(o, m)| format!("  {o}: {m}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_corpus_ends_in_results_or_errors() {
    let corpus = targets::load_corpus(&targets::fuzz_dir().join("corpus"));
    for t in Target::ALL {
        assert!(
            corpus.iter().filter(|c| c.target == t).count() >= 5,
            "fuzz/corpus/{} has fewer than 5 seeds",
            t.name()
        );
    }
    assert_no_panic(&replay("corpus", &corpus));
}

/// Generated and mutated cases of the parsers (programme, model, tables): seed 13, cases
/// 0..N, amounts kept out of the known Decimal overflow range (`targets::set_extreme`); with
/// that range, `fuzz_campaign --seed 13` generates the same kinds of cases.
#[test]
fn generated_parser_inputs_end_in_results_or_errors() {
    targets::set_extreme(false);
    let corpus = targets::load_corpus(&targets::fuzz_dir().join("corpus"));
    let cases: Vec<Case> = (0..600)
        .map(|i| targets::case(13, i, &corpus))
        .filter(|c| !matches!(c.target, Target::Settle | Target::Forecast))
        .collect();
    assert_no_panic(&replay("generated parsers", &cases));
}

/// Generated and mutated settlements and forecasts: seed 13, the same numbering, amounts
/// out of the known overflow range.
#[test]
fn generated_settlements_and_forecasts_end_in_results_or_errors() {
    targets::set_extreme(false);
    let corpus = targets::load_corpus(&targets::fuzz_dir().join("corpus"));
    let cases: Vec<Case> = (0..600)
        .map(|i| targets::case(13, i, &corpus))
        .filter(|c| matches!(c.target, Target::Settle | Target::Forecast))
        .collect();
    assert_no_panic(&replay("generated settle/forecast", &cases));
}

/// The generated settlements and forecasts with amounts near the Decimal limits (7.9e28, 28
/// decimals) in tables and programmes (issue 13's Decimal overflow class, fixed: the bounds
/// refuse such amounts, the kernel checks its products).
#[test]
fn generated_extreme_settlements_and_forecasts_end_in_results_or_errors() {
    targets::set_extreme(true);
    let corpus = targets::load_corpus(&targets::fuzz_dir().join("corpus"));
    let cases: Vec<Case> = (0..600)
        .map(|i| targets::case(13, i, &corpus))
        .filter(|c| matches!(c.target, Target::Settle | Target::Forecast))
        .collect();
    targets::set_extreme(false);
    assert_no_panic(&replay(
        "generated settle/forecast, extreme amounts",
        &cases,
    ));
}

/// `/dev/zero`, `/dev/null` and a folder as a programme, model or table: a clean error (only
/// regular files are read), never "out of memory" (`/dev/zero` used to be read until the
/// heap ran out).
#[test]
fn special_files_end_in_clean_errors() {
    let cases: Vec<Case> = targets::special_cases();
    assert_no_panic(&replay("special files", &cases));
    for c in cases.iter().filter(|c| c.origin.ends_with("/dev/zero")) {
        match targets::run(c) {
            Outcome::CleanError(m) => assert!(!m.contains("out of memory"), "{}: {m}", c.origin),
            o => panic!("{}: {o:?}", c.origin),
        }
    }
}
