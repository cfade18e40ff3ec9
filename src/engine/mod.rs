//! The Monte Carlo engine: simulate many possible programme periods of partner purchasing,
//! apply the programme to each through the calculation kernel ([`crate::rules`], on `f64`,
//! the very code settlement runs on decimals), and report what it pays, how uncertain that
//! is and what it buys.
//!
//! One *scenario* is one possible run of the whole programme (all its periods) for the whole
//! population. For each scenario and partner the engine draws monthly purchases from the
//! demand model ([`crate::demand`]), turns them into purchase lines (per category, per order,
//! returns as negative lines, amounts rounded to the currency's minor unit), measures them as
//! settlement does, and runs the kernel's partner pipeline; the programme budget is applied
//! to the scenario's totals. Each scenario is also run *without the programme* on the same
//! random numbers (no uplift, no stretch), which gives incremental revenue and margin, ROI and
//! the share of the payout that rewarded purchases that would have happened anyway.
//!
//! Reproducibility: random numbers come from streams keyed by (seed, scenario, partner,
//! purpose) ([`crate::rng`]); scenarios run in parallel in chunks but their results are
//! collected in scenario order and reduced in a fixed order, so results are bit-identical for
//! any number of threads and any chunk size. See `docs/simulation.md`.

// Index loops over parallel arrays read better than zipped iterators here, and negated
// comparisons deliberately treat NaN as failing the test.
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

mod accumulate;
mod behaviour;
mod categories;
pub(crate) mod conditioned;
mod draws;
mod export;
mod fast;
mod market;
mod memory;
mod mix_draw;
mod options;
mod order_categories;
mod order_size;
mod orders;
mod purchases;
mod result;
mod scenario;
mod setup;
mod shard;
mod stretch_window;
#[cfg(test)]
mod test_programmes;
mod work;

pub(crate) use crate::run::check_memory;
pub use crate::run::{check_threads, MAX_THREADS};
pub(crate) use draws::in_draw;
pub use draws::{check_parameter_draws, draw_index, MAX_PARAMETER_DRAWS};
pub use export::{export_scenario, ScenarioExport, SimLine};
pub use options::{Precision, Progress, SimOptions, Statistic};
pub use result::{Comparison, Ladder, PairedDifference, SimResult};
pub use shard::{compare_merged, merge_scenarios, merge_shards, simulate_range, Shard};

use self::draws::Setups;
use self::memory::Shape;
use self::work::Work;
use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::run::{run_chunks, Chunking};
use crate::summary::{self};
use std::ops::ControlFlow;

fn check_options(opts: &SimOptions) -> Result<(usize, usize)> {
    opts.run_options().check()?;
    match &opts.precision {
        None => {
            if opts.scenarios == 0 {
                return Err(Error::Request("scenarios must be at least 1".into()));
            }
            Ok((opts.scenarios, opts.scenarios))
        }
        Some(p) => {
            if !(p.tolerance > 0.0) || !p.tolerance.is_finite() {
                return Err(Error::Request(format!(
                    "precision tolerance must be a positive number, found {}",
                    p.tolerance
                )));
            }
            if let Statistic::Percentile(q) = p.statistic {
                if !(q > 0.0 && q < 1.0) {
                    return Err(Error::Request(format!(
                        "precision percentile must be between 0 and 1 (e.g. 0.95), found {q}"
                    )));
                }
            }
            if p.check_every == 0 {
                return Err(Error::Request(
                    "precision check_every must be at least 1".into(),
                ));
            }
            if p.max_scenarios < 2 {
                return Err(Error::Request(
                    "precision max_scenarios must be at least 2".into(),
                ));
            }
            Ok((p.check_every.min(p.max_scenarios), p.max_scenarios))
        }
    }
}

fn precision_met(p: &Precision, payout: &[f64]) -> bool {
    let se = match p.statistic {
        Statistic::Mean => summary::mean(payout).se,
        Statistic::Percentile(q) => {
            let mut v = payout.to_vec();
            v.sort_by(f64::total_cmp);
            summary::percentile_estimate(&v, q).se
        }
    };
    se.is_finite() && se <= p.tolerance
}

/// Bytes of memory a run with `options` needs for its outputs (and the scenarios in flight),
/// as checked against [`SimOptions::memory_limit`] before a run starts.
pub fn estimate_memory(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    options: &SimOptions,
) -> Result<usize> {
    let (_, max_n) = check_options(options)?;
    let shape = Shape::of(programme, population, model).with_draws(options.parameter_draws.len());
    Ok(shape.estimate(max_n, options.chunk_size.min(max_n)))
}

/// Simulate `programme` on `population` under `model`.
///
/// Errors: [`Error::Model`] for a bad model (or one naming segments the population lacks, or
/// missing unit prices / category shares the programme needs), [`Error::Data`] for a partner
/// whose segment the programme does not declare, [`Error::Request`] for bad options or outputs
/// that would not fit in `memory_limit`, [`Error::Cancelled`] when the progress callback
/// returns `false`.
pub fn simulate(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    options: &SimOptions,
) -> Result<SimResult> {
    simulate_fixed(programme, population, model, options, None)
}

fn simulate_fixed(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    options: &SimOptions,
    fixed: Option<usize>,
) -> Result<SimResult> {
    let (min_n, max_n) = check_options(options)?;
    let (min_n, max_n, precision) = match fixed {
        Some(n) => (n, n, None),
        None => (min_n, max_n, options.precision),
    };
    let mut run = options.run_options();
    // the memory guard before the set-up, from the population's size: a smaller chunk of
    // scenarios in flight when the requested one does not fit (results never depend on it)
    run.chunk_size = Shape::of(programme, population, model)
        .with_draws(options.parameter_draws.len())
        .fit_chunk(max_n, run.chunk_size.min(max_n), run.memory_limit)?;
    let pool = run.pool()?;
    // set-up's per-partner work runs on the run's own pool; one set-up per parameter draw
    let setups = pool.install(|| {
        Setups::new(
            programme,
            population,
            model,
            options.parameter_draws,
            options.cancel,
        )
    })?;
    let setup = setups.first();
    let seed = options.seed;
    let mut acc = setup.new_acc(population, seed, max_n);
    acc.res.parameter_draws = setups.draws();
    let mut met = None;
    let chunking = Chunking {
        chunk_size: run.chunk_size,
        // chunk boundaries never cross a precision checkpoint
        checkpoint_every: precision.map(|p| p.check_every),
    };
    run_chunks(
        &pool,
        0..max_n,
        chunking,
        &options.control(),
        max_n,
        || Work::new(setup),
        |w, s| {
            if setups.cancelled() {
                setup.scenario_out(setup.period_count)
            } else {
                setups
                    .for_scenario(seed, s as u64)
                    .run_scenario(seed, s as u64, w)
            }
        },
        |done, outs| {
            let first = done - outs.len();
            let fs: Vec<f64> = outs
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    if let Some(k) = setups.draw_of(seed, (first + i) as u64) {
                        acc.res.parameter_draw.push(k);
                    }
                    setup.fold_scenario(&mut acc, o)
                })
                .collect();
            pool.install(|| setup.fold_partners(&mut acc, &outs, &fs));
            if let Some(p) = &precision {
                if done % p.check_every == 0 || done == max_n {
                    let ok = precision_met(p, &acc.res.payout);
                    met = Some(ok);
                    if ok && done >= min_n {
                        return Ok(ControlFlow::Break(()));
                    }
                }
            }
            Ok(ControlFlow::Continue(()))
        },
    )?;
    let mut res = setup.finish(acc);
    res.precision_met = met;
    Ok(res)
}

/// Compare several designs on the same population and model with common random numbers:
/// every design sees exactly the same demand draws, so the per-scenario differences isolate
/// the effect of the design. With a precision target, the first design decides the number of
/// scenarios and the others run exactly as many.
pub fn compare(
    designs: &[(&str, &Compiled)],
    population: &Population,
    model: &Model,
    options: &SimOptions,
) -> Result<Comparison> {
    if designs.len() < 2 {
        return Err(Error::Request("compare needs at least two designs".into()));
    }
    let mut names: Vec<String> = Vec::new();
    for (n, _) in designs {
        if names.iter().any(|x| x == n) {
            return Err(Error::Request(format!("design name '{n}' is used twice")));
        }
        names.push((*n).to_owned());
    }
    // every design's results are kept until the differences are taken
    let (_, max_n) = check_options(options)?;
    let mut need = 0usize;
    for (_, p) in designs {
        need = need.saturating_add(estimate_memory(p, population, model, options)?);
    }
    check_memory(need, options.memory_limit, max_n, population.len())?;
    let first = simulate(designs[0].1, population, model, options)?;
    let n = first.scenarios;
    let mut results = vec![first];
    for (_, p) in &designs[1..] {
        results.push(simulate_fixed(p, population, model, options, Some(n))?);
    }
    let a = &results[0];
    let differences = results[1..]
        .iter()
        .zip(&names[1..])
        .map(|(b, name)| {
            let binds = |r: &SimResult| {
                r.budget_binds
                    .iter()
                    .map(|&x| x as u8 as f64)
                    .collect::<Vec<_>>()
            };
            PairedDifference {
                reference: names[0].clone(),
                design: name.clone(),
                payout: summary::paired(&a.payout, &b.payout),
                revenue: summary::paired(&a.revenue, &b.revenue),
                incremental_margin: summary::paired(&a.incremental_margin, &b.incremental_margin),
                roi: summary::paired(&a.roi, &b.roi),
                deadweight_share: summary::paired(&a.deadweight_share, &b.deadweight_share),
                budget_binding: summary::paired(&binds(a), &binds(b)),
            }
        })
        .collect();
    Ok(Comparison {
        names,
        results,
        differences,
    })
}
