//! Shards of a simulation for scale-out (`docs/scale-out.md`): [`simulate_range`] runs
//! scenarios `[a, b)` only and returns a [`Shard`]; [`merge_shards`] puts shards covering
//! `[0, n)` back together into the [`SimResult`] a local run of `n` scenarios gives, bit for
//! bit.
//!
//! Why that holds: every scenario's outputs depend on (seed, scenario index) alone
//! ([`crate::rng`]), so a shard's per-scenario outcomes are the local run's, and they are
//! concatenated in scenario order. The only sums across scenarios are the per-partner ones
//! (floating point, so their grouping matters): a shard keeps each scenario's per-partner
//! payouts and tiers, and the merge folds them with the engine's own fold
//! ([`Setup::fold_partners`]) in scenario order, exactly as a local run does.
//!
//! [`Shard::to_bytes`] / [`Shard::from_bytes`] carry a shard between processes.

use super::draws::Setups;
use super::memory::Shape;
use super::result::SimResult;
use super::setup::Setup;
use super::work::Work;
use super::SimOptions;
use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::run::{check_memory, run_chunks, Chunking};
use crate::wire::{Reader, Writer};
use std::ops::{ControlFlow, Range};

const SHARD_TAG: &[u8; 8] = b"RSSHARD\x02";

/// Scenarios `[start, start + result.scenarios)` of a simulation ([`simulate_range`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// The first scenario.
    pub start: usize,
    /// The per-scenario outcomes of the shard's scenarios (the per-partner fields are empty).
    pub result: SimResult,
    /// Whether the per-partner outputs were kept (`partner_final`, `partner_tier`): a shard
    /// without them serves per-scenario analyses (a design search) but cannot be merged.
    pub partners: bool,
    /// Each scenario's payout per partner before the budget: scenarios × partners.
    pub partner_final: Vec<f64>,
    /// Each scenario's tier per partner and ladder: scenarios × partners × ladders.
    pub partner_tier: Vec<u8>,
}

/// Run scenarios `range` of the simulation [`super::simulate`] would run with `options`
/// (its `scenarios` and `precision` are not used: a precision target decides the number of
/// scenarios as it goes, which a shard cannot). `partners`: keep the per-partner outputs
/// [`merge_shards`] needs (scenarios × partners values).
pub fn simulate_range(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    options: &SimOptions,
    range: Range<usize>,
    partners: bool,
) -> Result<Shard> {
    options.run_options().check()?;
    if options.precision.is_some() {
        return Err(Error::Request(
            "a precision target cannot be split into scenario ranges: run a fixed number of scenarios with an executor".into(),
        ));
    }
    if range.start >= range.end {
        return Err(Error::Request(format!(
            "a shard needs at least one scenario, found the range [{}, {})",
            range.start, range.end
        )));
    }
    let count = range.end - range.start;
    let shape = Shape::of(programme, population, model).with_draws(options.parameter_draws.len());
    let mut run = options.run_options();
    let n = population.len();
    let kept = if partners {
        count.saturating_mul(n.saturating_mul(8 + shape.ladders()))
    } else {
        0
    };
    // the memory guard before the set-up, as the local run has it, with the per-partner
    // outputs a shard keeps counted in
    let full = shape
        .estimate(count, run.chunk_size.min(count))
        .saturating_add(kept);
    check_memory(full, run.memory_limit, count, n)?;
    run.chunk_size = run.chunk_size.min(count);
    let setups = Setups::new(
        programme,
        population,
        model,
        options.parameter_draws,
        options.cancel,
    )?;
    let setup = setups.first();
    let pool = run.pool()?;
    let seed = options.seed;
    let mut acc = setup.new_acc(population, seed, count);
    acc.res.parameter_draws = setups.draws();
    let mut partner_final = Vec::new();
    let mut partner_tier = Vec::new();
    let chunking = Chunking {
        chunk_size: run.chunk_size,
        checkpoint_every: None,
    };
    run_chunks(
        &pool,
        range.clone(),
        chunking,
        &options.control(),
        count,
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
            for (i, o) in outs.iter().enumerate() {
                if let Some(k) = setups.draw_of(seed, (first + i) as u64) {
                    acc.res.parameter_draw.push(k);
                }
                setup.fold_scenario(&mut acc, o);
                if partners {
                    partner_final.extend_from_slice(&o.partner_final);
                    partner_tier.extend_from_slice(&o.partner_tier);
                }
            }
            Ok(ControlFlow::Continue(()))
        },
    )?;
    options.control().check()?;
    let mut result = acc.res;
    result.partner_ids = Vec::new();
    Ok(Shard {
        start: range.start,
        result,
        partners,
        partner_final,
        partner_tier,
    })
}

/// The simulation of scenarios `[0, n)` from shards that cover them in order (each starting
/// where the one before ended), run with the same programme, population, model and seed:
/// bit-identical to [`super::simulate`] with `n` scenarios.
pub fn merge_shards(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    shards: &[Shard],
) -> Result<SimResult> {
    let first = shards
        .first()
        .ok_or_else(|| Error::Request("merging shards needs at least one shard".into()))?;
    let setup = Setup::new(programme, population, model)?;
    let n = population.len();
    let nl = setup.ladders.len();
    let mut next = 0usize;
    for (k, s) in shards.iter().enumerate() {
        let count = s.result.scenarios;
        if s.start != next {
            return Err(Error::Request(format!(
                "shard {k} starts at scenario {}, expected {next} (shards must cover the scenarios in order, without gaps or overlaps)",
                s.start
            )));
        }
        if s.result.seed != first.result.seed {
            return Err(Error::Request(format!(
                "shard {k} was run with seed {}, shard 0 with seed {}",
                s.result.seed, first.result.seed
            )));
        }
        if s.result.parameter_draws != first.result.parameter_draws {
            return Err(Error::Request(format!(
                "shard {k} was run with {} parameter draws, shard 0 with {}",
                s.result.parameter_draws, first.result.parameter_draws
            )));
        }
        if !s.partners {
            return Err(Error::Request(format!(
                "shard {k} was run without its per-partner outputs, which a merge needs"
            )));
        }
        if s.result.segments != population.segments
            || s.partner_final.len() != count * n
            || s.partner_tier.len() != count * n * nl
            || s.result.payout.len() != count
        {
            return Err(Error::Request(format!(
                "shard {k} does not belong to this programme and population ({count} scenarios, {} partner values for {n} partners)",
                s.partner_final.len()
            )));
        }
        next += count;
    }
    let mut acc = setup.new_acc(population, first.result.seed, next);
    let pool = crate::run::thread_pool(None)?;
    for s in shards {
        append(&mut acc.res, &s.result);
        // the per-partner sums: the engine's fold, in scenario order, a chunk at a time
        const CHUNK: usize = 64;
        let r = &s.result;
        let mut a = 0;
        while a < r.scenarios {
            let b = (a + CHUNK).min(r.scenarios);
            let mut outs = Vec::with_capacity(b - a);
            let mut fs = Vec::with_capacity(b - a);
            for j in a..b {
                let mut o = setup.scenario_out(setup.period_count);
                o.partner_final
                    .copy_from_slice(&s.partner_final[j * n..(j + 1) * n]);
                o.partner_tier
                    .copy_from_slice(&s.partner_tier[j * n * nl..(j + 1) * n * nl]);
                outs.push(o);
                let (before, after) = (r.payout_before_budget[j], r.payout[j]);
                fs.push(if before > 0.0 { after / before } else { 1.0 });
            }
            pool.install(|| setup.fold_partners(&mut acc, &outs, &fs));
            a = b;
        }
    }
    Ok(setup.finish(acc))
}

/// The per-scenario outcomes of scenarios `[0, n)` from shards that cover them in order (run
/// with or without their per-partner outputs): bit-identical to the per-scenario outcomes and
/// their summaries of [`super::simulate`] with `n` scenarios. The per-partner results
/// (expected payout and tier probabilities per partner) are left empty: they need
/// [`merge_shards`]. What a sensitivity analysis or a comparison of outcomes reads.
pub fn merge_scenarios(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    shards: &[Shard],
) -> Result<SimResult> {
    let first = shards
        .first()
        .ok_or_else(|| Error::Request("merging shards needs at least one shard".into()))?;
    let setup = Setup::new(programme, population, model)?;
    let mut acc = setup.new_acc(population, first.result.seed, 0);
    let mut next = 0usize;
    for (k, s) in shards.iter().enumerate() {
        if s.start != next {
            return Err(Error::Request(format!(
                "shard {k} starts at scenario {}, expected {next} (shards must cover the scenarios in order, without gaps or overlaps)",
                s.start
            )));
        }
        if s.result.seed != first.result.seed {
            return Err(Error::Request(format!(
                "shard {k} was run with seed {}, shard 0 with seed {}",
                s.result.seed, first.result.seed
            )));
        }
        if s.result.parameter_draws != first.result.parameter_draws {
            return Err(Error::Request(format!(
                "shard {k} was run with {} parameter draws, shard 0 with {}",
                s.result.parameter_draws, first.result.parameter_draws
            )));
        }
        if s.result.segments != population.segments {
            return Err(Error::Request(format!(
                "shard {k} does not belong to this population (segments {:?})",
                s.result.segments
            )));
        }
        append(&mut acc.res, &s.result);
        next += s.result.scenarios;
    }
    let mut r = acc.res;
    r.partner_ids = Vec::new();
    Ok(r)
}

/// Append a shard's per-scenario outcomes to `r`.
fn append(r: &mut SimResult, s: &SimResult) {
    r.scenarios += s.scenarios;
    r.parameter_draws = s.parameter_draws;
    r.parameter_draw.extend_from_slice(&s.parameter_draw);
    macro_rules! cat {
        ($($f:ident),*) => { $( r.$f.extend_from_slice(&s.$f); )* };
    }
    cat!(
        payout,
        payout_before_budget,
        budget_binds,
        revenue,
        revenue_counterfactual,
        incremental_revenue,
        incremental_margin,
        roi,
        payout_counterfactual,
        deadweight_share,
        stretches,
        segment_payout,
        segment_revenue,
        segment_revenue_counterfactual,
        segment_incremental_revenue,
        segment_incremental_margin,
        segment_payout_counterfactual,
        segment_roi,
        segment_deadweight_share,
        component_payout,
        tier_counts,
        accrual,
        cash
    );
}

impl Shard {
    /// The shard as bytes ([`Shard::from_bytes`] reads them back exactly).
    pub fn to_bytes(&self) -> Vec<u8> {
        let r = &self.result;
        let mut w = Writer::new(SHARD_TAG);
        w.len(self.start);
        w.len(r.scenarios);
        w.u64(r.seed);
        w.strs(&r.segments);
        w.bytes.push(self.partners as u8);
        macro_rules! put {
            ($m:ident: $($f:ident),*) => { $( w.$m(&r.$f); )* };
        }
        put!(f64s: payout, payout_before_budget);
        w.bools(&r.budget_binds);
        put!(f64s: revenue, revenue_counterfactual, incremental_revenue, incremental_margin,
             roi, payout_counterfactual, deadweight_share, stretches, segment_payout,
             segment_revenue, segment_revenue_counterfactual, segment_incremental_revenue,
             segment_incremental_margin, segment_payout_counterfactual, segment_roi,
             segment_deadweight_share, component_payout);
        w.u32s(&r.tier_counts);
        put!(f64s: accrual, cash);
        w.len(r.parameter_draws);
        w.u32s(&r.parameter_draw);
        w.f64s(&self.partner_final);
        w.u8s(&self.partner_tier);
        w.bytes
    }

    /// The shard [`Shard::to_bytes`] wrote, to be merged with the same programme,
    /// population and model ([`merge_shards`] checks that the sizes agree);
    /// [`Error::Request`] for bytes it did not write. The result's descriptive fields
    /// (programme name, components, …) are left empty: the merge takes them from its inputs.
    pub fn from_bytes(bytes: &[u8]) -> Result<Shard> {
        let mut rd = Reader::new(bytes, SHARD_TAG, "shard bytes")?;
        let start = rd.u64()? as usize;
        let scenarios = rd.u64()? as usize;
        let seed = rd.u64()?;
        let segments = rd.strs()?;
        let partners = rd.u8()? != 0;
        let mut r = SimResult {
            programme: String::new(),
            currency: String::new(),
            seed,
            scenarios,
            precision_met: None,
            budget: None,
            segments,
            components: Vec::new(),
            ladders: Vec::new(),
            months: 0,
            cash_months: 0,
            payout: rd.f64s()?,
            payout_before_budget: rd.f64s()?,
            budget_binds: rd.bools()?,
            revenue: rd.f64s()?,
            revenue_counterfactual: rd.f64s()?,
            incremental_revenue: rd.f64s()?,
            incremental_margin: rd.f64s()?,
            roi: rd.f64s()?,
            payout_counterfactual: rd.f64s()?,
            deadweight_share: rd.f64s()?,
            stretches: rd.f64s()?,
            segment_payout: rd.f64s()?,
            segment_revenue: rd.f64s()?,
            segment_revenue_counterfactual: rd.f64s()?,
            segment_incremental_revenue: rd.f64s()?,
            segment_incremental_margin: rd.f64s()?,
            segment_payout_counterfactual: rd.f64s()?,
            segment_roi: rd.f64s()?,
            segment_deadweight_share: rd.f64s()?,
            component_payout: rd.f64s()?,
            tier_counts: Vec::new(),
            accrual: Vec::new(),
            cash: Vec::new(),
            partner_ids: Vec::new(),
            partner_expected_payout: Vec::new(),
            partner_expected_payout_before_budget: Vec::new(),
            partner_tier_probability: Vec::new(),
            parameter_draws: 0,
            parameter_draw: Vec::new(),
        };
        r.tier_counts = rd.u32s()?;
        r.accrual = rd.f64s()?;
        r.cash = rd.f64s()?;
        r.parameter_draws = rd.u64()? as usize;
        r.parameter_draw = rd.u32s()?;
        let partner_final = rd.f64s()?;
        let partner_tier = rd.u8s()?;
        rd.finish()?;
        let per = [
            r.payout.len(),
            r.payout_before_budget.len(),
            r.budget_binds.len(),
            r.incremental_margin.len(),
            if r.parameter_draws > 0 {
                r.parameter_draw.len()
            } else {
                scenarios
            },
        ];
        if per.iter().any(|&l| l != scenarios) {
            return Err(Error::Request(format!(
                "shard bytes: {scenarios} scenarios but columns of {per:?} values"
            )));
        }
        Ok(Shard {
            start,
            result: r,
            partners,
            partner_final,
            partner_tier,
        })
    }
}

/// The comparison [`super::compare`] gives, from each design's merged result (all with the
/// same scenarios): the paired differences of each design after the first against the first.
pub fn compare_merged(names: Vec<String>, results: Vec<SimResult>) -> Result<super::Comparison> {
    use crate::summary;
    if names.len() < 2 || names.len() != results.len() {
        return Err(Error::Request(format!(
            "compare needs at least two designs, each with its result ({} names, {} results)",
            names.len(),
            results.len()
        )));
    }
    if results.iter().any(|r| r.scenarios != results[0].scenarios) {
        return Err(Error::Request(
            "the designs' results have different numbers of scenarios".into(),
        ));
    }
    let a = &results[0];
    let binds = |r: &SimResult| {
        r.budget_binds
            .iter()
            .map(|&x| x as u8 as f64)
            .collect::<Vec<_>>()
    };
    let differences = results[1..]
        .iter()
        .zip(&names[1..])
        .map(|(b, name)| super::PairedDifference {
            reference: names[0].clone(),
            design: name.clone(),
            payout: summary::paired(&a.payout, &b.payout),
            revenue: summary::paired(&a.revenue, &b.revenue),
            incremental_margin: summary::paired(&a.incremental_margin, &b.incremental_margin),
            roi: summary::paired(&a.roi, &b.roi),
            deadweight_share: summary::paired(&a.deadweight_share, &b.deadweight_share),
            budget_binding: summary::paired(&binds(a), &binds(b)),
        })
        .collect();
    Ok(super::Comparison {
        names,
        results,
        differences,
    })
}
