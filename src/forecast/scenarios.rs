//! The Monte Carlo run of a forecast: the conditioned scenarios of the rest of the programme,
//! run by the run driver ([`crate::run`]) in chunks on a thread pool and folded in scenario
//! order (so results do not depend on the number of threads), with the budget applied per
//! scenario.

use super::draws::Engines;
use super::options::ForecastOptions;
use crate::engine::conditioned::{CondEngine, CondOut, CLOSED_RULES};
use crate::engine::Ladder;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::run::{run_chunks, Chunking, Control};
use crate::wire::{Reader, Writer};
use std::ops::ControlFlow;
use std::ops::Range;

/// Scenarios run together between progress reports and cancel checks (results do not depend
/// on it).
pub(super) const CHUNK: usize = 32;

/// What a forecast keeps of its scenarios: per-scenario totals and breakdowns, in scenario
/// order, and sums over scenarios per partner and component.
pub(super) struct Accumulated {
    /// Partners, components, segments and periods of the run.
    partners: usize,
    components: usize,
    segments: usize,
    /// Tiers of every ladder together: the width of a partner's row of `reach`.
    ladder_tiers: usize,
    /// Total payout after the budget, per scenario.
    pub payout: Vec<f64>,
    /// Total payout before the budget cut, per scenario.
    pub payout_before_budget: Vec<f64>,
    /// `scenarios × partners`: payout after the budget.
    pub partner_payout: Vec<f64>,
    /// `scenarios × components`: payout after the budget.
    pub component_payout: Vec<f64>,
    /// `scenarios × segments`: payout after the budget.
    pub segment_payout: Vec<f64>,
    /// `scenarios × periods`: cash paid for each period (after the budget).
    pub cash: Vec<f64>,
    /// `partners × components`: payout after the budget, summed over scenarios.
    payout_sum: Vec<f64>,
    /// `partners × components`: final basis volume, summed over scenarios.
    volume_sum: Vec<f64>,
    /// `partners × ladder tiers`: scenarios in which the partner reached each tier (from 1).
    reach: Vec<u32>,
    /// `scenarios × components`: the closed periods' final payout (after the budget).
    pub component_closed: Vec<f64>,
    /// `partners × components × (CLOSED_RULES + 1)`: what each year-level rule moves on the
    /// closed periods (the last: the budget cut on the closed periods' payable), summed over
    /// scenarios.
    closed_adj_sum: Vec<f64>,
    /// `partners × components × periods`: the open periods' payout (after the budget), summed
    /// over scenarios.
    open_sum: Vec<f64>,
}

/// Rules that move a closed period's amount, with the budget cut: cumulative true-up,
/// exclusive group, partner cap, minimum payout, budget cut.
pub(super) const RULES: usize = CLOSED_RULES + 1;

impl Accumulated {
    fn new(engine: &CondEngine, partners: usize, segments: usize, scenarios: usize) -> Accumulated {
        let components = engine.prep().components.len();
        let periods = engine.prep().periods;
        let ladder_tiers = engine.ladders().iter().map(|(_, l)| l.tiers).sum();
        Accumulated {
            partners,
            components,
            segments,
            ladder_tiers,
            payout: Vec::with_capacity(scenarios),
            payout_before_budget: Vec::with_capacity(scenarios),
            partner_payout: Vec::with_capacity(scenarios * partners),
            component_payout: Vec::with_capacity(scenarios * components),
            segment_payout: Vec::with_capacity(scenarios * segments),
            cash: Vec::with_capacity(scenarios * periods),
            payout_sum: vec![0.0; partners * components],
            volume_sum: vec![0.0; partners * components],
            reach: vec![0; partners * ladder_tiers],
            component_closed: Vec::with_capacity(scenarios * components),
            closed_adj_sum: vec![0.0; partners * components * RULES],
            open_sum: vec![0.0; partners * components * periods],
        }
    }

    /// Scenarios folded so far.
    pub fn scenarios(&self) -> usize {
        self.payout.len()
    }

    /// Scenarios in which partner `i` reached tier `tier + 1` of `ladder`.
    pub fn tier_reached(&self, i: usize, ladder: &Ladder, tier: usize) -> u32 {
        self.reach[i * self.ladder_tiers + ladder.partner_offset + tier]
    }

    /// `partners × components`: the mean payout after the budget.
    pub fn mean_payout(&self) -> Vec<f64> {
        let scenarios = self.scenarios() as f64;
        self.payout_sum.iter().map(|v| v / scenarios).collect()
    }

    /// `partners × components`: the mean final basis volume.
    pub fn mean_volume(&self) -> Vec<f64> {
        let scenarios = self.scenarios() as f64;
        self.volume_sum.iter().map(|v| v / scenarios).collect()
    }

    /// `partners × components × RULES`: the mean amount each rule moves on the closed periods
    /// (the budget cut relative to no cut; the settled cut is the caller's).
    pub fn mean_closed_adjustments(&self) -> Vec<f64> {
        let scenarios = self.scenarios() as f64;
        self.closed_adj_sum.iter().map(|v| v / scenarios).collect()
    }

    /// `partners × components × periods`: the mean payout of the open periods.
    pub fn mean_open(&self) -> Vec<f64> {
        let scenarios = self.scenarios() as f64;
        self.open_sum.iter().map(|v| v / scenarios).collect()
    }

    /// Fold one scenario in: the budget cut scales every partner's payable alike.
    fn add(&mut self, engine: &CondEngine, segment_of: &[usize], out: &CondOut) {
        let prep = engine.prep();
        let periods = prep.periods;
        let components = self.components;
        let before = out.totals[periods - 1];
        let after = prep.budget_total(before);
        let factor = if before > 0.0 { after / before } else { 1.0 };
        self.payout.push(after);
        self.payout_before_budget.push(before);
        let mut paid_before = 0.0;
        for k in 0..periods {
            let to_date = prep.budget_total(out.totals[k]);
            self.cash.push(to_date - paid_before);
            paid_before = to_date;
        }
        let ladders = engine.ladders().len();
        let mut by_segment = vec![0.0; self.segments];
        let mut by_component = vec![0.0; components];
        let mut closed_by_component = vec![0.0; components];
        for (j, &closed) in out.closed.iter().enumerate() {
            let adj = &out.closed_adj[j * CLOSED_RULES..(j + 1) * CLOSED_RULES];
            let sum = &mut self.closed_adj_sum[j * RULES..(j + 1) * RULES];
            for (s, a) in sum.iter_mut().zip(adj) {
                *s += a;
            }
            sum[CLOSED_RULES] += closed * (factor - 1.0);
            closed_by_component[j % components] += closed * factor;
        }
        for (s, o) in self.open_sum.iter_mut().zip(&out.open) {
            *s += o * factor;
        }
        self.component_closed
            .extend_from_slice(&closed_by_component);
        for i in 0..self.partners {
            let mut partner_total = 0.0;
            for (c, component_total) in by_component.iter_mut().enumerate() {
                let j = i * components + c;
                let v = out.payable[j] * factor;
                partner_total += v;
                *component_total += v;
                self.payout_sum[j] += v;
                self.volume_sum[j] += out.volume[j];
            }
            self.partner_payout.push(partner_total);
            by_segment[segment_of[i]] += partner_total;
            for (l, (_, ladder)) in engine.ladders().iter().enumerate() {
                let tier = out.tier[i * ladders + l] as usize;
                for t in 0..tier.min(ladder.tiers) {
                    self.reach[i * self.ladder_tiers + ladder.partner_offset + t] += 1;
                }
            }
        }
        self.segment_payout.extend_from_slice(&by_segment);
        self.component_payout.extend_from_slice(&by_component);
    }
}

/// Run scenarios `range` of `engine` on the run driver ([`crate::run::run_chunks`]): in
/// chunks of `chunk` scenarios (the memory guard's: [`super::options::check_results_memory`])
/// on `opts.threads` threads (0 = all cores), each outcome handed to `fold` in
/// scenario order; the progress callback hears after each chunk.
/// [`Error::Cancelled`](crate::Error::Cancelled) once `opts.cancel` is set.
fn run_outcomes(
    engines: &Engines,
    opts: &ForecastOptions,
    chunk: usize,
    range: Range<usize>,
    mut fold: impl FnMut(&CondOut),
) -> Result<()> {
    let run_options = opts.run_options();
    let pool = run_options.pool()?;
    let report = |done: usize, planned: usize| {
        if let Some(progress) = opts.progress {
            progress(done, planned);
        }
        true
    };
    let control = Control::new(Some(&report), opts.cancel);
    let count = range.end - range.start;
    run_chunks(
        &pool,
        range,
        Chunking {
            chunk_size: chunk,
            checkpoint_every: None,
        },
        &control,
        count,
        || engines.model.work(),
        |work, s| {
            let mut out = CondOut::default();
            engines
                .for_scenario(opts.seed, s as u64)
                .run_scenario(opts.seed, s as u64, work, &mut out);
            out
        },
        |_, outs| {
            outs.iter().for_each(&mut fold);
            Ok(ControlFlow::Continue(()))
        },
    )?;
    control.check()
}

/// An accumulation of `opts.scenarios` scenarios with nothing in it yet, and each partner's
/// segment (what [`Accumulated::add`] reads): the start of a local run and of a fold of shards.
fn empty_accumulation(
    engine: &CondEngine,
    population: &Population,
    opts: &ForecastOptions,
) -> (Accumulated, Vec<usize>) {
    let accumulated = Accumulated::new(
        engine,
        population.len(),
        population.segments.len(),
        opts.scenarios,
    );
    let segment_of = (0..accumulated.partners)
        .map(|i| engine.segment_of(i))
        .collect();
    (accumulated, segment_of)
}

/// Run `opts.scenarios` scenarios of `engine` ([`run_outcomes`]) and accumulate them in
/// scenario order.
pub(super) fn run_scenarios(
    engines: &Engines,
    population: &Population,
    opts: &ForecastOptions,
    chunk: usize,
) -> Result<Accumulated> {
    let engine = &engines.model;
    let (mut accumulated, segment_of) = empty_accumulation(engine, population, opts);
    run_outcomes(engines, opts, chunk, 0..opts.scenarios, |out| {
        accumulated.add(engine, &segment_of, out)
    })?;
    Ok(accumulated)
}

/// Tag of a forecast shard's byte string.
const SHARD_TAG: &[u8; 8] = b"RSFCSH\x00\x01";

/// Scenarios `range` of `engine` (as [`run_scenarios`] runs them), each scenario's outcome
/// written to bytes in scenario order for [`fold_shards`].
pub(super) fn run_range(
    engines: &Engines,
    opts: &ForecastOptions,
    chunk: usize,
    range: Range<usize>,
) -> Result<Vec<u8>> {
    let mut w = Writer::new(SHARD_TAG);
    w.len(range.start);
    w.len(range.end - range.start);
    w.u64(opts.seed);
    run_outcomes(engines, opts, chunk, range, |out| {
        w.f64s(&out.totals);
        w.f64s(&out.payable);
        w.f64s(&out.volume);
        w.u8s(&out.tier);
        w.f64s(&out.closed_adj);
        w.f64s(&out.closed);
        w.f64s(&out.open);
    })?;
    Ok(w.bytes)
}

/// The accumulation [`run_scenarios`] makes, from the shards ([`run_range`]) of consecutive
/// ranges covering `0..opts.scenarios`, folded in scenario order.
pub(super) fn fold_shards(
    engine: &CondEngine,
    population: &Population,
    opts: &ForecastOptions,
    shards: &[Vec<u8>],
) -> Result<Accumulated> {
    let (mut accumulated, segment_of) = empty_accumulation(engine, population, opts);
    let mut next = 0usize;
    for (k, bytes) in shards.iter().enumerate() {
        let mut rd = Reader::new(bytes, SHARD_TAG, "forecast shard bytes")?;
        let start = rd.u64()? as usize;
        let count = rd.u64()? as usize;
        let seed = rd.u64()?;
        if start != next || seed != opts.seed {
            return Err(Error::Request(format!(
                "forecast shard {k} covers scenarios from {start} with seed {seed}, expected scenario {next} with seed {} (shards must cover the scenarios in order)",
                opts.seed
            )));
        }
        for _ in 0..count {
            let out = CondOut {
                totals: rd.f64s()?,
                payable: rd.f64s()?,
                volume: rd.f64s()?,
                tier: rd.u8s()?,
                closed_adj: rd.f64s()?,
                closed: rd.f64s()?,
                open: rd.f64s()?,
            };
            check_out(engine, population.len(), &out, k)?;
            accumulated.add(engine, &segment_of, &out);
        }
        rd.finish()?;
        next += count;
    }
    if next != opts.scenarios {
        return Err(Error::Request(format!(
            "the forecast shards cover {next} scenarios, the forecast has {}",
            opts.scenarios
        )));
    }
    Ok(accumulated)
}

/// Refuse a scenario outcome whose sizes are not this forecast's (bytes of another run).
fn check_out(engine: &CondEngine, partners: usize, out: &CondOut, k: usize) -> Result<()> {
    let prep = engine.prep();
    let (components, periods) = (prep.components.len(), prep.periods);
    let pc = partners * components;
    let ok = out.totals.len() == periods
        && out.payable.len() == pc
        && out.volume.len() == pc
        && out.tier.len() == partners * engine.ladders().len()
        && out.closed_adj.len() == pc * CLOSED_RULES
        && out.closed.len() == pc
        && out.open.len() == pc * periods;
    if ok {
        Ok(())
    } else {
        Err(Error::Request(format!(
            "forecast shard {k} does not belong to this programme and population"
        )))
    }
}
