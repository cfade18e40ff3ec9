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

use crate::data::{Partners, Transactions};
use crate::demand::{MarketProcess, Model};
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::{Basis, Compiled, Measure, Returns};
use crate::rng::{self, Purpose};
use crate::rules::{allocate_into, slot, Baseline, PartnerScratch, Prepared, PreparedRule};
use crate::summary::{self, Estimate, Summary};
use rayon::prelude::*;
use crate::run::{run_chunks, Chunking, Control, RunOptions};
use rust_decimal::prelude::*;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

// Simulation conditioned on actuals to date (the forecast's engine side, `crate::forecast`).
mod block;
pub(crate) mod conditioned;
mod fast;

/// The statistic precision control watches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// The mean total payout (after the budget).
    Mean,
    /// A percentile of the total payout, `q` in (0, 1), e.g. 0.95.
    Percentile(f64),
}

/// Run until the standard error of a statistic of the total payout is within `tolerance`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    /// What to watch.
    pub statistic: Statistic,
    /// Stop once its standard error is at most this (currency units).
    pub tolerance: f64,
    /// Stop at this many scenarios at the latest.
    pub max_scenarios: usize,
    /// Check the standard error after every multiple of this many scenarios (default 200).
    /// The checks do not depend on threads or chunking, so neither does where the run stops.
    pub check_every: usize,
}

impl Precision {
    /// Precision control on `statistic` within `tolerance`, at most `max_scenarios`.
    pub fn new(statistic: Statistic, tolerance: f64, max_scenarios: usize) -> Self {
        Precision {
            statistic,
            tolerance,
            max_scenarios,
            check_every: 200,
        }
    }
}

/// A progress callback: called with (scenarios done, scenarios planned) after each chunk;
/// returning `false` cancels the run ([`Error::Cancelled`]). The run driver's
/// [`crate::run::ProgressCallback`].
pub type Progress<'a> = crate::run::ProgressCallback<'a>;

pub use crate::run::{check_threads, MAX_THREADS};
pub(crate) use crate::run::check_memory;

/// Options of a simulation run.
#[derive(Clone, Copy)]
pub struct SimOptions<'a> {
    /// Number of scenarios (ignored when `precision` is set).
    pub scenarios: usize,
    /// Random seed.
    pub seed: u64,
    /// Worker threads (`None` = all cores).
    pub threads: Option<usize>,
    /// Scenarios per chunk between progress reports (results do not depend on it).
    pub chunk_size: usize,
    /// Run until a precision target is met instead of a fixed number of scenarios.
    pub precision: Option<Precision>,
    /// Refuse a request whose outputs would need more memory than this (bytes).
    pub memory_limit: usize,
    /// Progress callback.
    pub progress: Option<Progress<'a>>,
    /// Set to `true` (from another thread, e.g. a Ctrl-C watcher) to stop the run with
    /// [`Error::Cancelled`]: checked between scenarios and before each partner within one, so a
    /// run stops promptly however large the population or costly a partner.
    pub cancel: Option<&'a AtomicBool>,
}

impl Default for SimOptions<'_> {
    fn default() -> Self {
        SimOptions {
            scenarios: 1000,
            seed: 0,
            threads: None,
            chunk_size: crate::run::DEFAULT_CHUNK_SIZE,
            precision: None,
            memory_limit: crate::run::DEFAULT_MEMORY_LIMIT,
            progress: None,
            cancel: None,
        }
    }
}

impl<'a> SimOptions<'a> {
    /// How the run is executed: its threads, chunk size and memory limit.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            threads: self.threads,
            chunk_size: self.chunk_size,
            memory_limit: self.memory_limit,
        }
    }

    /// Its progress callback and cancel flag.
    pub fn control(&self) -> Control<'a> {
        Control::new(self.progress, self.cancel)
    }
}

impl std::fmt::Debug for SimOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("scenarios", &self.scenarios)
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("chunk_size", &self.chunk_size)
            .field("precision", &self.precision)
            .field("memory_limit", &self.memory_limit)
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel.is_some())
            .finish()
    }
}

/// A tier ladder of the programme (a volume or growth component) whose tiers are counted.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Ladder {
    /// Component id.
    pub component: String,
    /// Number of tiers (tier 0 = below the first threshold is counted too).
    pub tiers: usize,
    /// Offset of its tier 0 in the per-scenario tier counts.
    pub offset: usize,
    /// Offset of its tier 1 in the per-partner reach probabilities.
    pub partner_offset: usize,
}

/// Results of a simulation. Per-scenario outcomes are plain vectors in scenario order;
/// matrices are row-major with one row per scenario (or partner). Serializes (serde) with the
/// field names below; NaN becomes `null` in JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimResult {
    /// Programme name.
    pub programme: String,
    /// Currency code.
    pub currency: String,
    /// Seed used.
    pub seed: u64,
    /// Number of scenarios run.
    pub scenarios: usize,
    /// Whether a precision target was set and met (None without one).
    pub precision_met: Option<bool>,
    /// Programme budget, if any.
    pub budget: Option<f64>,
    /// Segment names (columns of the per-segment matrices).
    pub segments: Vec<String>,
    /// Component ids (columns of `component_payout`).
    pub components: Vec<String>,
    /// Ladders whose tiers are counted.
    pub ladders: Vec<Ladder>,
    /// Number of programme months (columns of `accrual`).
    pub months: usize,
    /// Number of months from the programme start to the last payment (columns of `cash`).
    pub cash_months: usize,

    /// Total payout after the budget.
    pub payout: Vec<f64>,
    /// Total payout before the budget (after partner caps and minimum payout).
    pub payout_before_budget: Vec<f64>,
    /// Whether the budget binds (the total before the budget exceeds it).
    pub budget_binds: Vec<bool>,
    /// Net revenue (after returns) with the programme.
    pub revenue: Vec<f64>,
    /// Net revenue the same partners would have bought without the programme.
    pub revenue_counterfactual: Vec<f64>,
    /// Incremental revenue: with − without the programme − purchases pulled forward from after it.
    pub incremental_revenue: Vec<f64>,
    /// Incremental gross margin (NaN when a partner's margin rate is unknown).
    pub incremental_margin: Vec<f64>,
    /// ROI = (incremental margin − payout) / payout (NaN when nothing is paid).
    pub roi: Vec<f64>,
    /// What the programme would pay (after the budget) on the counterfactual purchases.
    pub payout_counterfactual: Vec<f64>,
    /// Share of the payout rewarding purchases that would have happened anyway:
    /// min(payout_counterfactual, payout) / payout (NaN when nothing is paid).
    pub deadweight_share: Vec<f64>,
    /// Number of stretch purchases made.
    pub stretches: Vec<f64>,
    /// Payout after the budget per segment: scenarios × segments.
    pub segment_payout: Vec<f64>,
    /// Net revenue with the programme per segment: scenarios × segments.
    pub segment_revenue: Vec<f64>,
    /// Net revenue without the programme per segment (as `revenue_counterfactual`): scenarios ×
    /// segments. The segments add up to `revenue_counterfactual`.
    pub segment_revenue_counterfactual: Vec<f64>,
    /// Incremental revenue per segment (as `incremental_revenue`): scenarios × segments. The
    /// segments add up to `incremental_revenue`.
    pub segment_incremental_revenue: Vec<f64>,
    /// Incremental gross margin per segment (as `incremental_margin`; NaN in a segment with a
    /// partner whose margin rate is unknown): scenarios × segments. The segments add up to
    /// `incremental_margin`.
    pub segment_incremental_margin: Vec<f64>,
    /// What the programme would pay (after the budget) on the segment's counterfactual
    /// purchases: the segment's counterfactual payout before the budget scaled pro rata as the
    /// total is (`payout_counterfactual` / its total before the budget): scenarios × segments.
    /// The segments add up to `payout_counterfactual`.
    pub segment_payout_counterfactual: Vec<f64>,
    /// ROI of each segment, defined as `roi` on the segment's figures: (segment incremental
    /// margin − segment payout) / segment payout (NaN when the segment is paid nothing):
    /// scenarios × segments.
    pub segment_roi: Vec<f64>,
    /// Deadweight share of each segment, defined as `deadweight_share` on the segment's figures:
    /// min(segment payout counterfactual, segment payout) / segment payout (NaN when the segment
    /// is paid nothing): scenarios × segments.
    pub segment_deadweight_share: Vec<f64>,
    /// Payout after the budget per component: scenarios × components.
    pub component_payout: Vec<f64>,
    /// Partners per tier of each ladder (tier 0..=tiers, see [`Ladder::offset`]): scenarios ×
    /// Σ(tiers + 1). A partner counts in the highest tier it reached in any period
    /// (`measure = period`) or at the end of the programme (`measure = cumulative`).
    pub tier_counts: Vec<u32>,
    /// Accrued payout per programme month (after the budget): scenarios × months. Each
    /// period's amount is accrued over its months in proportion to their revenue.
    pub accrual: Vec<f64>,
    /// Cash paid per month from the programme start (payment dates): scenarios × cash_months.
    pub cash: Vec<f64>,

    /// Partner ids (rows of the per-partner results).
    pub partner_ids: Vec<String>,
    /// Expected payout of each partner (after the budget, pro rata).
    pub partner_expected_payout: Vec<f64>,
    /// Expected payout of each partner before the budget.
    pub partner_expected_payout_before_budget: Vec<f64>,
    /// Probability that each partner reaches each tier (tier ≥ t, t = 1..=tiers) of each
    /// ladder: partners × Σ tiers (see [`Ladder::partner_offset`]).
    pub partner_tier_probability: Vec<f64>,
}

impl SimResult {
    fn column(&self, m: &[f64], width: usize, j: usize) -> Vec<f64> {
        (0..self.scenarios).map(|s| m[s * width + j]).collect()
    }

    /// Summary of the total payout after the budget, with P(payout before budget > budget).
    pub fn payout_summary(&self) -> Summary {
        let mut s = summary::summarize(&self.payout, None);
        if self.budget.is_some() {
            s.p_exceed = Some(self.budget_binding());
        }
        s
    }

    /// Summary of the total payout before the budget.
    pub fn payout_before_budget_summary(&self) -> Summary {
        summary::summarize(&self.payout_before_budget, self.budget)
    }

    /// Probability that the budget binds, with its standard error.
    pub fn budget_binding(&self) -> Estimate {
        summary::probability(self.budget_binds.iter().copied())
    }

    /// Summary of any per-scenario outcome.
    pub fn summarize(&self, x: &[f64]) -> Summary {
        summary::summarize(x, None)
    }

    /// Payout per scenario of segment `name`.
    pub fn segment_payout_of(&self, name: &str) -> Option<Vec<f64>> {
        self.segment_column(&self.segment_payout, name)
    }

    /// The column of segment `name` of a per-segment matrix (scenarios × segments, e.g.
    /// `&r.segment_roi`), one value per scenario.
    pub fn segment_column(&self, matrix: &[f64], name: &str) -> Option<Vec<f64>> {
        let j = self.segments.iter().position(|s| s == name)?;
        Some(self.column(matrix, self.segments.len(), j))
    }

    /// ROI per scenario of segment `name` (see [`SimResult::segment_roi`]).
    pub fn segment_roi_of(&self, name: &str) -> Option<Vec<f64>> {
        self.segment_column(&self.segment_roi, name)
    }

    /// Summary (with standard errors; scenarios where the value is NaN left out, as for the
    /// totals) of segment `name`'s column of a per-segment matrix, e.g.
    /// `r.segment_summary(&r.segment_roi, "small")`.
    pub fn segment_summary(&self, matrix: &[f64], name: &str) -> Option<Summary> {
        Some(summary::summarize(
            &self.segment_column(matrix, name)?,
            None,
        ))
    }

    /// Payout per scenario of component `id`.
    pub fn component_payout_of(&self, id: &str) -> Option<Vec<f64>> {
        let j = self.components.iter().position(|s| s == id)?;
        Some(self.column(&self.component_payout, self.components.len(), j))
    }

    fn tier_width(&self) -> usize {
        self.ladders.iter().map(|l| l.tiers + 1).sum()
    }

    /// Mean number of partners in each tier (0..=tiers) of ladder `component`.
    pub fn mean_tier_counts(&self, component: &str) -> Option<Vec<f64>> {
        let l = self.ladders.iter().find(|l| l.component == component)?;
        let w = self.tier_width();
        Some(
            (0..=l.tiers)
                .map(|t| {
                    (0..self.scenarios)
                        .map(|s| self.tier_counts[s * w + l.offset + t] as f64)
                        .sum::<f64>()
                        / self.scenarios as f64
                })
                .collect(),
        )
    }

    /// Mean number of partners per tier index over all ladders together (tier 0 = below the
    /// first threshold), e.g. for one ladder per segment.
    pub fn mean_tier_counts_all(&self) -> Vec<f64> {
        let max = self.ladders.iter().map(|l| l.tiers).max().unwrap_or(0);
        let mut out = vec![0.0; max + 1];
        for l in &self.ladders {
            if let Some(v) = self.mean_tier_counts(&l.component) {
                for (t, x) in v.into_iter().enumerate() {
                    out[t] += x;
                }
            }
        }
        out
    }

    /// Mean accrual per programme month.
    pub fn mean_accrual(&self) -> Vec<f64> {
        (0..self.months)
            .map(|m| {
                self.column(&self.accrual, self.months, m)
                    .iter()
                    .sum::<f64>()
                    / self.scenarios as f64
            })
            .collect()
    }

    /// Mean cash paid per month from the programme start.
    pub fn mean_cash(&self) -> Vec<f64> {
        (0..self.cash_months)
            .map(|m| {
                self.column(&self.cash, self.cash_months, m)
                    .iter()
                    .sum::<f64>()
                    / self.scenarios as f64
            })
            .collect()
    }

    /// Probability that partner `i` reaches tier `t` (1-based) of ladder `component`.
    pub fn partner_tier_probability_of(&self, i: usize, component: &str, t: usize) -> Option<f64> {
        let l = self.ladders.iter().find(|l| l.component == component)?;
        if t == 0 || t > l.tiers {
            return None;
        }
        let w: usize = self.ladders.iter().map(|l| l.tiers).sum();
        self.partner_tier_probability
            .get(i * w + l.partner_offset + t - 1)
            .copied()
    }
}

/// Paired comparison of one design against the first (reference) design.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PairedDifference {
    /// Reference design name.
    pub reference: String,
    /// Design name.
    pub design: String,
    /// Payout (after budget) of design − reference, per scenario summarised.
    pub payout: Summary,
    /// Revenue difference.
    pub revenue: Summary,
    /// Incremental margin difference.
    pub incremental_margin: Summary,
    /// ROI difference (scenarios where either design pays nothing, so its ROI is NaN, are left
    /// out).
    pub roi: Summary,
    /// Deadweight share difference (scenarios where either design pays nothing are left out).
    pub deadweight_share: Summary,
    /// Difference in the probability that the budget binds.
    pub budget_binding: Summary,
}

/// Results of [`compare`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Design names, in the order given.
    pub names: Vec<String>,
    /// One result per design (same scenarios, common random numbers).
    pub results: Vec<SimResult>,
    /// Each design after the first against the first.
    pub differences: Vec<PairedDifference>,
}

// ---------------------------------------------------------------------------------------
// Setup: everything constant over scenarios, computed once.

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct PartnerConst {
    seg: usize,
    /// Baseline monthly revenue (annual / 12).
    base_month: f64,
    /// A line's quantity in millionths of a unit per minor unit of its revenue:
    /// `inv_price · (10⁶ / scale)` (0 when the price is unknown); see [`line_qty`].
    qpm: f64,
    price: f64,
    margin: f64,
    baseline: Baseline<f64>,
    uplift: f64,
}

#[derive(Debug, Clone, Copy)]
struct SegConst {
    noise: f64,
    partner: f64,
    segment: f64,
    churn_log: f64, // ln(1 − hazard); 0 when no churn; -inf when hazard = 1
    churn: bool,
    returns: f64,
    orders: f64,
}

struct Setup<'p> {
    p: &'p Compiled,
    prep: Prepared<f64>,
    nc: usize,
    kk: usize,
    months: usize,
    mpp: usize,
    scale: f64,
    /// Line categories (empty: one uncategorised line per month).
    cats: Vec<String>,
    ncl: usize,
    /// Per component and line category: -1 = not in scope, else the bundle index (0 otherwise).
    cat_in: Vec<i32>,
    gross: Vec<bool>,
    partners: Vec<PartnerConst>,
    /// n × ncl category shares (all 1.0 with ncl = 1 when uncategorised).
    mix: Vec<f64>,
    /// n × nc.
    active: Vec<bool>,
    segs: Vec<SegConst>,
    nseg: usize,
    /// nseg × months: seasonality × trend.
    seg_month: Vec<f64>,
    market: crate::demand::Market,
    size_sigma: f64,
    needs_orders: bool,
    /// Whether a component measures units (a price is then known for every partner): the
    /// fast path sums the lines' quantities only then.
    units: bool,
    poisson_orders: bool,
    stretch: crate::demand::Stretch,
    pull_share: f64,
    behaviour: bool,
    ladders: Vec<(usize, Ladder)>,
    tier_width: usize,
    partner_tier_width: usize,
    pay_month: Vec<usize>,
    cash_months: usize,
    /// The fast path's plan when the run's shape allows it (see [`fast`]).
    fast: Option<fast::Plan>,
    /// With behaviour, a partner whose programme run bought exactly its demand (no uplift, no
    /// stretch purchase) takes that run's results as its counterfactual instead of running
    /// again (the same purchases through the same pipeline: the same bits). Always true but in
    /// the test that checks it changes nothing.
    cf_shortcut: bool,
    /// When no partner is in two ladders: per partner its ladder (index into `ladders`, its
    /// tier-count offset and its number of tiers), `l = NONE` for none. The per-partner fold
    /// then counts one tier a partner instead of one per ladder.
    partner_ladder: Option<Vec<PartnerLadder>>,
    /// The run's cancel flag ([`SimOptions::cancel`], [`crate::forecast::ForecastOptions`]'s),
    /// checked between scenarios and before each partner of the general path (a relaxed load
    /// of a flag no one writes until a cancel: nothing next to a partner's work, which can be
    /// tens of milliseconds with many orders). The fast path checks between scenarios only
    /// (a scenario of 100,000 partners takes it a few milliseconds).
    cancel: Option<&'p AtomicBool>,
}

impl Setup<'_> {
    /// Whether the run was asked to stop.
    #[inline]
    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// A partner's one ladder (see [`Setup::partner_ladder`]).
#[derive(Debug, Clone, Copy)]
struct PartnerLadder {
    l: u32,
    offset: u32,
    tiers: u32,
}

fn months_between(a: chrono::NaiveDate, b: chrono::NaiveDate) -> usize {
    use chrono::Datelike;
    let mut m = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
    if b.day() < a.day() {
        m -= 1;
    }
    m.max(0) as usize
}

fn needs_units(p: &Compiled) -> Option<&str> {
    use crate::programme::{Reward, Rule};
    for c in &p.components {
        let uses = match &c.rule {
            Rule::Volume { basis, tiers, .. } | Rule::Growth { basis, tiers, .. } => {
                *basis == Basis::Units
                    || tiers.iter().any(|t| matches!(t.reward, Reward::PerUnit(_)))
            }
            Rule::PerUnit { .. } | Rule::Logistics { .. } => true,
            Rule::Bundle { basis, .. } => *basis == Basis::Units,
        };
        if uses {
            return Some(&c.id);
        }
    }
    None
}

impl<'p> Setup<'p> {
    fn new(p: &'p Compiled, pop: &Population, model: &Model) -> Result<Setup<'p>> {
        model.validate()?;
        model.check_segments(&pop.segments)?;
        if pop.is_empty() {
            return Err(Error::data(
                &pop.table,
                None,
                None,
                "the partner table has no rows",
            ));
        }
        if !p.segments.is_empty() {
            for i in 0..pop.len() {
                let s = pop.segment_name(i);
                if !p.segments.iter().any(|d| d == s) {
                    return Err(Error::data(
                        &pop.table,
                        Some(i + 1),
                        Some("segment"),
                        format!(
                            "segment '{s}' is not declared in the programme (expected one of: {})",
                            p.segments.join(", ")
                        ),
                    ));
                }
            }
        }
        let prep: Prepared<f64> = Prepared::new(p);
        let nc = prep.components.len();
        let kk = prep.periods;
        let mpp = prep.months_per_period as usize;
        let months = kk * mpp;
        let n = pop.len();

        // line categories and shares: purchases are split by category whenever shares are known
        // (so that demand does not depend on the programme); a programme that measures
        // categories needs them
        let (cats, mix): (Vec<String>, Vec<f64>) = if !pop.categories.is_empty() {
            (pop.categories.clone(), pop.mix.clone())
        } else if !model.economics.category_mix.is_empty() {
            let cats: Vec<String> = model.economics.category_mix.keys().cloned().collect();
            let row: Vec<f64> = cats
                .iter()
                .map(|c| model.economics.category_mix[c])
                .collect();
            let mut mix = Vec::with_capacity(n * cats.len());
            for _ in 0..n {
                mix.extend_from_slice(&row);
            }
            (cats, mix)
        } else if p.needs_categories() {
            return Err(Error::model(
                "economics.category_mix",
                "the programme measures product categories, but the partner table has no mix_<category> columns and the model gives no category_mix",
            ));
        } else {
            (Vec::new(), vec![1.0; n])
        };
        let ncl = cats.len().max(1);
        let mut cat_in = vec![-1i32; nc * ncl];
        for (c, comp) in p.components.iter().enumerate() {
            let listed: Vec<&String> = match (&comp.scope.categories, &prep.components[c].rule) {
                (_, PreparedRule::Bundle { categories, .. }) => categories.iter().collect(),
                (Some(cs), _) => cs.iter().collect(),
                (None, _) => Vec::new(),
            };
            for cat in &listed {
                if !cats.iter().any(|x| x == *cat) {
                    return Err(Error::model(
                        "economics.category_mix",
                        format!(
                            "component '{}' uses category '{cat}', which has no share in the partner table's mix_ columns or the model's category_mix (known: {})",
                            comp.id,
                            cats.join(", ")
                        ),
                    ));
                }
            }
            if cats.is_empty() {
                cat_in[c] = if comp.scope.includes_category(None) {
                    0
                } else {
                    -1
                };
                continue;
            }
            for (j, cat) in cats.iter().enumerate() {
                let in_scope = comp.scope.includes_category(Some(cat));
                let v = match &prep.components[c].rule {
                    PreparedRule::Bundle { categories, .. } => {
                        match categories.iter().position(|x| x == cat) {
                            Some(b) if in_scope => b as i32,
                            _ => -1,
                        }
                    }
                    _ => {
                        if in_scope {
                            0
                        } else {
                            -1
                        }
                    }
                };
                cat_in[c * ncl + j] = v;
            }
        }
        let gross: Vec<bool> = p
            .components
            .iter()
            .map(|c| c.returns == Returns::Gross)
            .collect();

        // partners
        let units_needed = needs_units(p);
        let scale = 10f64.powi(p.decimals as i32);
        let mut partners = Vec::with_capacity(n);
        let mut active = Vec::with_capacity(n * nc);
        for i in 0..n {
            // unit price: the table's, else implied by both baselines, else the model's default
            let implied = match (pop.baseline_revenue[i], pop.baseline_units[i]) {
                (Some(r), Some(u)) if r > 0.0 && u > 0.0 => Some(r / u),
                _ => None,
            };
            let price = pop.unit_price[i].or(implied).or(model.economics.unit_price);
            let (rev, known) = match (pop.baseline_revenue[i], pop.baseline_units[i], price) {
                (Some(r), _, _) => (r, true),
                (None, Some(u), Some(pr)) => (u * pr, true),
                (None, Some(_), None) => {
                    return Err(Error::data(
                        &pop.table,
                        Some(i + 1),
                        Some("unit_price"),
                        "the partner has only baseline_units: give its unit_price (or the model's economics.unit_price) to simulate revenue",
                    ))
                }
                // a new partner: simulated at its segment's median baseline (below)
                (None, None, _) => (f64::NAN, false),
            };
            if let (Some(c), None) = (units_needed, price) {
                return Err(Error::model(
                    "economics.unit_price",
                    format!(
                        "component '{c}' measures units, but partner '{}' has no unit_price in the partner table and the model gives no economics.unit_price",
                        pop.partner_id[i]
                    ),
                ));
            }
            let units = if known {
                pop.baseline_units[i].or_else(|| price.map(|pr| rev / pr))
            } else {
                None
            };
            let margin = pop.margin_rate[i]
                .or(model.economics.margin_rate)
                .unwrap_or(f64::NAN);
            partners.push(PartnerConst {
                seg: pop.segment[i] as usize,
                base_month: rev / 12.0,
                qpm: price.map(|x| 1.0 / x * (QTY_SCALE / scale)).unwrap_or(0.0),
                price: price.unwrap_or(f64::NAN),
                margin,
                baseline: Baseline {
                    revenue: if known { Some(rev) } else { None },
                    units,
                },
                uplift: 1.0,
            });
            for c in &p.components {
                active.push(
                    c.scope
                        .includes_partner(&pop.partner_id[i], pop.segment_name(i)),
                );
            }
        }

        // new partners (no baseline): their segment's median baseline revenue
        let nseg = pop.segments.len();
        let mut by_seg: Vec<Vec<f64>> = vec![Vec::new(); nseg];
        for pc in &partners {
            if !pc.base_month.is_nan() {
                by_seg[pc.seg].push(pc.base_month);
            }
        }
        for v in &mut by_seg {
            v.sort_by(f64::total_cmp);
        }
        for (i, pc) in partners.iter_mut().enumerate() {
            if pc.base_month.is_nan() {
                let v = &by_seg[pc.seg];
                if v.is_empty() {
                    return Err(Error::data(
                        &pop.table,
                        Some(i + 1),
                        Some("baseline_revenue"),
                        format!(
                            "the partner has no baseline and no partner of segment '{}' has one to simulate it from: give baseline_revenue or baseline_units",
                            pop.segments[pc.seg]
                        ),
                    ));
                }
                let n = v.len();
                pc.base_month = if n % 2 == 1 {
                    v[n / 2]
                } else {
                    0.5 * (v[n / 2 - 1] + v[n / 2])
                };
            }
        }

        // segments
        let start_month0 = {
            use chrono::Datelike;
            p.calendar.start.month0() as usize
        };
        let mut seg_month = Vec::with_capacity(nseg * months);
        let mut segs = Vec::with_capacity(nseg);
        for name in &pop.segments {
            let season = model.seasonality.get(name);
            let g = model.growth.get(name);
            for m in 0..months {
                let trend = (1.0 + g).powf((m as f64 + 6.5) / 12.0);
                seg_month.push(season[(start_month0 + m) % 12] * trend);
            }
            let h = model.churn.get(name);
            segs.push(SegConst {
                noise: model.noise.get(name),
                partner: model.partner_factor.get(name),
                segment: model.segment_factor.get(name),
                churn_log: if h > 0.0 { (1.0 - h).ln() } else { 0.0 },
                churn: h > 0.0,
                returns: model.returns.get(name),
                orders: model.orders.get(name),
            });
        }

        // ladders
        let mut ladders = Vec::new();
        let (mut off, mut poff) = (0, 0);
        for (c, pc) in prep.components.iter().enumerate() {
            let tiers = match &pc.rule {
                PreparedRule::Ladder { tiers, .. } | PreparedRule::Growth { tiers, .. } => {
                    tiers.len()
                }
                _ => continue,
            };
            ladders.push((
                c,
                Ladder {
                    component: pc.id.clone(),
                    tiers,
                    offset: off,
                    partner_offset: poff,
                },
            ));
            off += tiers + 1;
            poff += tiers;
        }
        let pay_month: Vec<usize> = (0..kk as u32)
            .map(|k| months_between(p.calendar.start, p.payment_date(k)))
            .collect();
        let cash_months = pay_month.iter().copied().max().unwrap_or(0) + 1;
        let behaviour = model.behaviour.any();
        let mut setup = Setup {
            p,
            prep,
            nc,
            kk,
            months,
            mpp,
            scale,
            cats,
            ncl,
            cat_in,
            gross,
            partners,
            mix,
            active,
            segs,
            nseg,
            seg_month,
            market: model.market.clone(),
            size_sigma: model.orders.size_sigma,
            needs_orders: p.needs_orders(),
            units: units_needed.is_some(),
            poisson_orders: model.orders.poisson,
            stretch: model.behaviour.stretch.clone(),
            pull_share: model.behaviour.pull_forward.share,
            behaviour,
            ladders,
            tier_width: off,
            partner_tier_width: poff,
            pay_month,
            cash_months,
            fast: None,
            cf_shortcut: true,
            partner_ladder: None,
            cancel: None,
        };
        // uplift: 1 + elasticity × the effective rebate rate on expected purchases
        let e = model.behaviour.uplift.elasticity;
        if e > 0.0 {
            let mut w = Work::new(&setup);
            for i in 0..n {
                setup.expected_demand(i, &mut w);
                w.g.copy_from_slice(&w.base);
                let out = setup.run_partner(i, &mut w, None, None);
                let paid = w.scratch.total(setup.kk - 1);
                let r = if out.revenue > 0.0 {
                    paid / out.revenue
                } else {
                    0.0
                };
                setup.partners[i].uplift = 1.0 + e * r;
            }
        }
        setup.fast = fast::Plan::new(&setup);
        setup.partner_ladder = setup.partner_ladders();
        Ok(setup)
    }
}

impl Setup<'_> {
    /// [`Setup::partner_ladder`]: `None` when some partner is in two ladders.
    fn partner_ladders(&self) -> Option<Vec<PartnerLadder>> {
        let n = self.partners.len();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let active = &self.active[i * self.nc..(i + 1) * self.nc];
            let mut one = PartnerLadder {
                l: NONE,
                offset: 0,
                tiers: 0,
            };
            for (l, (c, lad)) in self.ladders.iter().enumerate() {
                if active[*c] {
                    if one.l != NONE {
                        return None;
                    }
                    one = PartnerLadder {
                        l: l as u32,
                        offset: lad.offset as u32,
                        tiers: lad.tiers as u32,
                    };
                }
            }
            out.push(one);
        }
        Some(out)
    }
}

/// `x` rounded half away from zero to an integer, without a libm call (the hot loop rounds
/// every purchase line to the minor unit).
#[inline]
fn round_half_up(x: f64) -> f64 {
    if x.abs() < 4.0e15 {
        // SAFETY: |x| < 4e15 is finite and well inside i64, so truncation cannot overflow
        // (this skips the saturating conversion's NaN and range checks)
        let t = unsafe { x.to_int_unchecked::<i64>() };
        let f = x - t as f64;
        (t + (f >= 0.5) as i64 - (f <= -0.5) as i64) as f64
    } else {
        x.round()
    }
}

/// Decimal places of a simulated line's quantity: quantities are whole numbers of millionths
/// of a unit, so that the exported transactions carry exactly the quantities the engine
/// measures (a unit price of 42 makes revenue / price a recurring decimal, which no finite
/// export could carry, and a per-unit amount on an exact tie would then round differently).
pub(crate) const QTY_DP: u32 = 6;
/// `10^QTY_DP`.
pub(crate) const QTY_SCALE: f64 = 1e6;

/// The quantity of a line of `cents > 0` minor units of revenue in millionths of a unit
/// (a whole number): `cents · qpm` rounded half up (`qpm`: [`PartnerConst::qpm`]); 0 without
/// a price.
#[inline(always)]
pub(crate) fn line_qty(cents: f64, qpm: f64) -> f64 {
    let x = cents * qpm;
    if x > 0.0 {
        round_half_up_positive(x)
    } else {
        0.0
    }
}

/// [`round_half_up`] of an `x > 0` (the same result, without the negative half's test).
#[inline]
fn round_half_up_positive(x: f64) -> f64 {
    debug_assert!(x > 0.0);
    if x < 4.0e15 {
        // SAFETY: 0 < x < 4e15 is finite and well inside i64
        let t = unsafe { x.to_int_unchecked::<i64>() };
        let f = x - t as f64;
        (t + (f >= 0.5) as i64) as f64
    } else {
        x.round()
    }
}

// ---------------------------------------------------------------------------------------
// Per-worker scratch (allocated once per worker, reused for every partner).

#[derive(Debug, Clone, Copy)]
struct LineV {
    month: u32,
    cat: u32,
    order: u32,
    r: f64,
    /// Quantity in millionths of a unit (a whole number; negative for returns).
    q: f64,
}

struct Work {
    scratch: PartnerScratch<f64>,
    measures: Vec<f64>,
    window: Vec<f64>,
    market: Vec<f64>,
    /// Every month's market factor in `market` is finite and positive (set with it by
    /// [`Setup::scenario_factors`]; false whenever unknown): the fast path's kernel may then
    /// skip tests that cannot fail ([`block`]).
    market_pos: bool,
    segf: Vec<f64>,
    base: Vec<f64>,
    g: Vec<f64>,
    x: Vec<f64>,
    xmix: Vec<f64>,
    order_n: Vec<u32>,
    order_w: Vec<f64>,
    order_off: Vec<usize>,
    lines: Vec<LineV>,
    pmonth: Vec<f64>,
    ord_q: Vec<f64>,
    ord_r: Vec<f64>,
    ord_tmp: Vec<(f64, f64)>,
    /// Order indices sorted by remainder ([`split_over_orders`]).
    ord_idx: Vec<u32>,
    agg: Vec<f64>,
    /// Per line category, the gross and the returned quantity of the period in millionths of
    /// a unit (whole numbers, [`line_qty`]), beside `agg`.
    aggq: Vec<f64>,
    /// The fast path's quantity of each partner's period in millionths of a unit (when
    /// [`Setup::units`]; else empty).
    final_q: Vec<f64>,
    emit: bool,
    any_x: bool,
    /// Forecasts: the partner's actual measures to date (added to every period's simulated
    /// measures when `actual_on`; see `conditioned`).
    actual: Vec<f64>,
    actual_on: bool,
}

impl Work {
    fn new(s: &Setup) -> Work {
        let max_slots = s
            .prep
            .components
            .iter()
            .map(|c| c.slots)
            .max()
            .unwrap_or(slot::BASE);
        Work {
            scratch: s.prep.scratch(),
            measures: vec![0.0; s.prep.measure_len()],
            window: vec![0.0; max_slots],
            market: vec![1.0; s.months],
            market_pos: false,
            segf: vec![1.0; s.nseg],
            base: vec![0.0; s.months],
            g: vec![0.0; s.months],
            x: vec![0.0; s.months],
            xmix: vec![0.0; s.kk * s.ncl],
            order_n: vec![1; s.months],
            order_w: Vec::new(),
            order_off: vec![0; s.months + 1],
            lines: Vec::new(),
            pmonth: vec![0.0; s.months],
            ord_q: Vec::new(),
            ord_r: Vec::new(),
            ord_tmp: Vec::new(),
            ord_idx: Vec::new(),
            final_q: if s.units {
                vec![0.0; s.partners.len()]
            } else {
                Vec::new()
            },
            agg: vec![0.0; 2 * s.ncl],
            aggq: vec![0.0; 2 * s.ncl],
            emit: false,
            any_x: false,
            actual: Vec::new(),
            actual_on: false,
        }
    }
}

/// What one run (with or without the programme) of one partner produced.
#[derive(Debug, Clone, Copy, Default)]
struct RunOut {
    revenue: f64,
    pulled_after: f64,
    stretches: u32,
}

/// Sink for exported lines.
type LineSink = Vec<LineV>;

impl Setup<'_> {
    fn market_path(&self, seed: u64, s: u64, out: &mut [f64]) {
        let mk = &self.market;
        if mk.sigma == 0.0 && mk.monthly_sigma == 0.0 {
            out.iter_mut().for_each(|x| *x = 1.0);
            return;
        }
        let mut r = rng::stream(seed, s, 0, Purpose::Market);
        let sg = mk.sigma;
        let mut x = sg * rng::normal(&mut r);
        let mut var = sg * sg;
        match mk.process {
            MarketProcess::Constant => {
                let f = (x - 0.5 * var).exp();
                out.iter_mut().for_each(|v| *v = f);
            }
            MarketProcess::Ar1 => {
                let innov = sg * (1.0 - mk.rho * mk.rho).sqrt();
                for (m, v) in out.iter_mut().enumerate() {
                    if m > 0 {
                        x = mk.rho * x + innov * rng::normal(&mut r);
                    }
                    *v = (x - 0.5 * var).exp();
                }
            }
            MarketProcess::RandomWalk => {
                let t = mk.monthly_sigma;
                for (m, v) in out.iter_mut().enumerate() {
                    if m > 0 {
                        x += t * rng::normal(&mut r);
                        var += t * t;
                    }
                    *v = (x - 0.5 * var).exp();
                }
            }
        }
    }

    fn segment_factors(&self, seed: u64, s: u64, out: &mut [f64]) {
        for (j, sc) in self.segs.iter().enumerate() {
            out[j] = if sc.segment > 0.0 {
                let mut r = rng::stream(seed, s, j as u64, Purpose::Segment);
                rng::mean_one_lognormal(&mut r, sc.segment)
            } else {
                1.0
            };
        }
    }

    /// Demand without the programme: `w.base[m]` for every month, and the order draws.
    /// `sk` is [`rng::scenario_key`] of (seed, scenario).
    /// A partner's factor for the year — baseline month × segment factor × partner factor —
    /// and its churn month (`months` when it does not churn), from its [`rng::partner_key`]
    /// `pk` and the scenario's segment factors. The part of [`Setup::demand`] before the
    /// monthly noise; shared with the fast path's blocks (`block`).
    #[inline(always)]
    fn partner_year(&self, pk: u64, i: usize, segf: &[f64]) -> (f64, usize) {
        let pc = &self.partners[i];
        let sc = &self.segs[pc.seg];
        let f = pc.base_month * segf[pc.seg];
        if sc.partner > 0.0 || sc.churn {
            self.partner_draws(pk, sc, f)
        } else {
            (f, self.months)
        }
    }

    /// The random part of [`Setup::partner_year`] (a segment with a partner factor or churn):
    /// `f` times the partner factor, and the churn month.
    #[inline(never)]
    fn partner_draws(&self, pk: u64, sc: &SegConst, mut f: f64) -> (f64, usize) {
        if sc.partner > 0.0 {
            let mut r = rng::stream_of(pk, Purpose::PartnerFactor);
            f *= rng::mean_one_lognormal(&mut r, sc.partner);
        }
        let churn_month = if sc.churn {
            self.churn_month(pk, sc, 0)
        } else {
            self.months
        };
        (f, churn_month)
    }

    /// The month a partner of a churning segment stops buying, counted from month `first`
    /// (the first simulated month): `first` plus a geometric number of months from its
    /// `Churn` stream (`months` when that falls past the end). The engine's runs start at
    /// month 0; a forecast's at the first month without actuals.
    fn churn_month(&self, pk: u64, sc: &SegConst, first: usize) -> usize {
        let mut r = rng::stream_of(pk, Purpose::Churn);
        let u = rng::uniform_open0(&mut r);
        if sc.churn_log == f64::NEG_INFINITY {
            first
        } else {
            let m = (u.ln() / sc.churn_log).floor();
            if m >= (self.months - first) as f64 {
                self.months
            } else {
                first + m as usize
            }
        }
    }

    fn demand(&self, sk: u64, i: usize, w: &mut Work) {
        let pc = &self.partners[i];
        let sc = &self.segs[pc.seg];
        let pk = rng::partner_key(sk, i as u64);
        let (f, churn_month) = self.partner_year(pk, i, &w.segf);
        let sm = &self.seg_month[pc.seg * self.months..(pc.seg + 1) * self.months];
        if sc.noise > 0.0 {
            // the month's lognormal factors (vectorised), then the demand
            rng::noise_factors(pk, sc.noise, &mut w.base);
            for ((b, &s), &mk) in w.base.iter_mut().zip(sm).zip(&w.market) {
                // ((f · s) · market) · e, in this order (not `*b *= …`: another rounding)
                #[allow(clippy::assign_op_pattern)]
                {
                    *b = f * s * mk * *b;
                }
            }
        } else {
            for m in 0..self.months {
                w.base[m] = f * sm[m] * w.market[m];
            }
        }
        for b in &mut w.base[churn_month..] {
            *b = 0.0;
        }
        if self.needs_orders {
            self.draw_orders(pk, sc.orders, w);
        }
    }

    /// The order draws of a partner (`w.order_n`, `w.order_off`, `w.order_w`: each month's
    /// number of orders and their shares of the month), from the partner's `Orders` stream.
    /// Shared by the engine and the forecast's conditioned run.
    pub(crate) fn draw_orders(&self, pk: u64, orders: f64, w: &mut Work) {
        let mut r = rng::stream_of(pk, Purpose::Orders);
        w.order_w.clear();
        for m in 0..self.months {
            let n = if self.poisson_orders {
                rng::poisson(&mut r, orders).max(1) as u32
            } else {
                orders.round().max(1.0) as u32
            };
            w.order_n[m] = n;
            w.order_off[m] = w.order_w.len();
            let mut sum = 0.0;
            for _ in 0..n {
                let v = if self.size_sigma > 0.0 {
                    (self.size_sigma * rng::normal(&mut r)).exp()
                } else {
                    1.0
                };
                w.order_w.push(v);
                sum += v;
            }
            let o = w.order_off[m];
            for v in &mut w.order_w[o..] {
                *v /= sum;
            }
        }
        w.order_off[self.months] = w.order_w.len();
    }

    /// Expected demand (every factor at its mean, no churn; orders of equal size).
    fn expected_demand(&self, i: usize, w: &mut Work) {
        let pc = &self.partners[i];
        let sm = &self.seg_month[pc.seg * self.months..(pc.seg + 1) * self.months];
        for m in 0..self.months {
            w.base[m] = pc.base_month * sm[m];
        }
        if self.needs_orders {
            let n = self.segs[pc.seg].orders.round().max(1.0) as u32;
            w.order_w.clear();
            for m in 0..self.months {
                w.order_n[m] = n;
                w.order_off[m] = w.order_w.len();
                for _ in 0..n {
                    w.order_w.push(1.0 / n as f64);
                }
            }
            w.order_off[self.months] = w.order_w.len();
        }
    }

    /// The purchases of period `k` from `w.g` (+ stretch `w.x`): per line category the gross
    /// and the returned revenue in minor units (`w.agg[2j]`, `w.agg[2j + 1]`), the net revenue
    /// of each month in minor units (`w.pmonth`), and the lines themselves (appended to
    /// `w.lines`) when orders are simulated or lines are exported (`w.emit`).
    ///
    /// A month's purchase in a category is one line rounded to the minor unit (split over the
    /// month's orders to the minor unit by largest remainder); its returns are one negative
    /// line, the returns share of it rounded to the minor unit.
    fn period_purchases(&self, i: usize, k: usize, w: &mut Work) {
        let pc = &self.partners[i];
        let ncl = self.ncl;
        let mix = &self.mix[i * ncl..(i + 1) * ncl];
        let share = self.segs[pc.seg].returns;
        let lines = w.emit || self.needs_orders;
        if ncl == 1 && !lines && share == 0.0 && !w.any_x {
            // the common case: one line a month, no returns, no stretch purchase
            let (mix0, scale, qpm) = (mix[0], self.scale, pc.qpm);
            let mut total = 0.0;
            let mut qty = 0.0;
            let months = k * self.mpp..(k + 1) * self.mpp;
            for (p, &g) in w.pmonth[months.clone()].iter_mut().zip(&w.g[months]) {
                let amount = g * mix0;
                let cents = if amount > 0.0 {
                    round_half_up_positive(amount * scale)
                } else {
                    0.0
                };
                *p = cents;
                total += cents;
                qty += line_qty(cents, qpm);
            }
            w.agg[0] = total;
            w.agg[1] = 0.0;
            w.aggq[0] = qty;
            w.aggq[1] = 0.0;
            return;
        }
        w.agg.iter_mut().for_each(|v| *v = 0.0);
        w.aggq.iter_mut().for_each(|v| *v = 0.0);
        for m in k * self.mpp..(k + 1) * self.mpp {
            w.pmonth[m] = 0.0;
            let gm = w.g[m];
            let xm = w.x[m];
            if gm <= 0.0 && xm <= 0.0 {
                continue;
            }
            for j in 0..ncl {
                let amount = gm * mix[j]
                    + if xm > 0.0 {
                        xm * w.xmix[k * ncl + j]
                    } else {
                        0.0
                    };
                if amount <= 0.0 {
                    continue;
                }
                let cents = round_half_up(amount * self.scale);
                if cents == 0.0 {
                    continue;
                }
                let cat = if self.cats.is_empty() { NONE } else { j as u32 };
                if self.needs_orders {
                    // split over the month's orders to the minor unit (largest remainder,
                    // ties to the first order), so the month's revenue does not depend on it
                    let (a, b) = (w.order_off[m], w.order_off[m + 1]);
                    split_over_orders(cents, &w.order_w[a..b], &mut w.ord_tmp, &mut w.ord_idx);
                    for t in 0..w.ord_tmp.len() {
                        let oc = w.ord_tmp[t].1;
                        if oc != 0.0 {
                            let q = line_qty(oc, pc.qpm);
                            w.aggq[2 * j] += q;
                            w.lines.push(LineV {
                                month: m as u32,
                                cat,
                                order: t as u32,
                                r: oc / self.scale,
                                q,
                            });
                        }
                    }
                } else {
                    let q = line_qty(cents, pc.qpm);
                    w.aggq[2 * j] += q;
                    if lines {
                        w.lines.push(LineV {
                            month: m as u32,
                            cat,
                            order: NONE,
                            r: cents / self.scale,
                            q,
                        });
                    }
                }
                let ret = if share > 0.0 {
                    round_half_up(cents * share)
                } else {
                    0.0
                };
                if ret != 0.0 {
                    let q = line_qty(ret, pc.qpm);
                    w.aggq[2 * j + 1] += q;
                    if lines {
                        w.lines.push(LineV {
                            month: m as u32,
                            cat,
                            order: NONE,
                            r: -ret / self.scale,
                            q: -q,
                        });
                    }
                }
                w.agg[2 * j] += cents;
                w.agg[2 * j + 1] += ret;
                w.pmonth[m] += cents - ret;
            }
        }
    }

    /// Measure period `k` (from `w.agg`, and for logistics from the period's lines
    /// `w.lines[from..]`) into the kernel's measures, as settlement measures lines.
    fn measure_period(&self, i: usize, k: usize, from: usize, w: &mut Work) {
        let prep = &self.prep;
        let ncl = self.ncl;
        let active = &self.active[i * self.nc..(i + 1) * self.nc];
        for (c, comp) in prep.components.iter().enumerate() {
            let base = comp.offset + k * comp.slots;
            let slots = &mut w.measures[base..base + comp.slots];
            if let Ok(b) = <&mut [f64; slot::BASE]>::try_from(&mut *slots) {
                // the common three slots as stores, not a memset call per component
                *b = [0.0; slot::BASE];
            } else {
                slots.iter_mut().for_each(|v| *v = 0.0);
            }
            if !active[c] {
                continue;
            }
            let net = !self.gross[c];
            let cin = &self.cat_in[c * ncl..(c + 1) * ncl];
            let cents_of = |j: usize| {
                if net {
                    w.agg[2 * j] - w.agg[2 * j + 1]
                } else {
                    w.agg[2 * j]
                }
            };
            // the quantity, in millionths of a unit, beside it
            let qty_of = |j: usize| {
                if net {
                    w.aggq[2 * j] - w.aggq[2 * j + 1]
                } else {
                    w.aggq[2 * j]
                }
            };
            match &comp.rule {
                PreparedRule::Ladder { basis, .. } | PreparedRule::Growth { basis, .. } => {
                    let (mut cents, mut qty) = (0.0, 0.0);
                    for j in 0..ncl {
                        if cin[j] >= 0 {
                            cents += cents_of(j);
                            qty += qty_of(j);
                        }
                    }
                    let r = cents / self.scale;
                    let q = qty / QTY_SCALE;
                    w.measures[base + slot::VOLUME] = if *basis == Basis::Revenue { r } else { q };
                    w.measures[base + slot::REVENUE] = r;
                    w.measures[base + slot::UNITS] = q;
                }
                PreparedRule::PerUnit { .. } => {
                    let (mut cents, mut qty) = (0.0, 0.0);
                    for j in 0..ncl {
                        if cin[j] >= 0 {
                            cents += cents_of(j);
                            qty += qty_of(j);
                        }
                    }
                    let r = cents / self.scale;
                    let q = qty / QTY_SCALE;
                    w.measures[base + slot::VOLUME] = q;
                    w.measures[base + slot::REVENUE] = r;
                    w.measures[base + slot::UNITS] = q;
                }
                PreparedRule::Bundle { basis, .. } => {
                    let rev = *basis == Basis::Revenue;
                    let (mut cents, mut qty) = (0.0, 0.0);
                    for j in 0..ncl {
                        let b = cin[j];
                        if b < 0 || self.cats.is_empty() {
                            continue;
                        }
                        let (cj, qj) = (cents_of(j), qty_of(j));
                        cents += cj;
                        qty += qj;
                        let r = cj / self.scale;
                        let v = if rev { r } else { qj / QTY_SCALE };
                        w.measures[base + slot::bundle_volume(b as usize)] = v;
                        w.measures[base + slot::bundle_revenue(b as usize)] = r;
                    }
                    let r = cents / self.scale;
                    let q = qty / QTY_SCALE;
                    w.measures[base + slot::VOLUME] = if rev { r } else { q };
                    w.measures[base + slot::REVENUE] = r;
                    w.measures[base + slot::UNITS] = q;
                }
                PreparedRule::Logistics { .. } => {
                    // orders of this period: (month, order) pairs; returns lines are their own
                    // orders with a negative quantity and never qualify
                    let first_month = k * self.mpp;
                    let maxo =
                        (w.order_off[first_month + self.mpp] - w.order_off[first_month]).max(1);
                    w.ord_q.clear();
                    w.ord_q.resize(maxo, 0.0);
                    w.ord_r.clear();
                    w.ord_r.resize(maxo, 0.0);
                    for l in &w.lines[from..] {
                        if l.order == NONE {
                            continue;
                        }
                        let j = if l.cat == NONE { 0 } else { l.cat as usize };
                        if cin[j] < 0 {
                            continue;
                        }
                        let idx = w.order_off[l.month as usize] - w.order_off[first_month]
                            + l.order as usize;
                        w.ord_q[idx] += l.q;
                        w.ord_r[idx] += l.r;
                    }
                    let (mut n, mut r, mut q) = (0.0, 0.0, 0.0);
                    // order quantities in millionths of a unit (whole numbers)
                    for o in 0..maxo {
                        if w.ord_q[o] != 0.0 && prep.order_qualifies(c, w.ord_q[o] / QTY_SCALE) {
                            n += 1.0;
                            r += w.ord_r[o];
                            q += w.ord_q[o];
                        }
                    }
                    w.measures[base + slot::VOLUME] = n;
                    w.measures[base + slot::REVENUE] = r;
                    w.measures[base + slot::UNITS] = q / QTY_SCALE;
                }
            }
        }
    }

    /// Purchases and measures of period `k` (its lines start at `from` in `w.lines`).
    #[inline]
    fn period(&self, i: usize, k: usize, from: usize, w: &mut Work) {
        w.lines.truncate(from);
        self.period_purchases(i, k, w);
        self.measure_period(i, k, from, w);
        if w.actual_on {
            self.add_actual_measures(k, w);
        }
    }

    /// Run partner `i` on demand `w.g` (already uplifted for the programme run): behaviour
    /// (when `stretch` has the partner's decision stream), lines, measures and the kernel's
    /// pipeline into `w.scratch`.
    fn run_partner(
        &self,
        i: usize,
        w: &mut Work,
        mut stretch: Option<&mut rng::Stream>,
        mut sink: Option<&mut LineSink>,
    ) -> RunOut {
        if stretch.is_none() && sink.is_none() {
            return self.run_partner_plain(i, w);
        }
        let mut out = RunOut::default();
        let pc = self.partners[i];
        if w.any_x {
            w.x.iter_mut().for_each(|v| *v = 0.0);
            w.any_x = false;
        }
        w.lines.clear();
        w.emit = sink.is_some();
        let mut borrow = 0.0;
        for k in 0..self.kk {
            let months = k * self.mpp..(k + 1) * self.mpp;
            if borrow > 0.0 {
                let sum: f64 = w.g[months.clone()].iter().sum();
                if sum > 0.0 {
                    let f = (1.0 - borrow / sum).max(0.0);
                    w.g[months.clone()].iter_mut().for_each(|v| *v *= f);
                }
                borrow = 0.0;
            }
            let from = w.lines.len();
            self.period(i, k, from, w);
            if let Some(r) = stretch.as_deref_mut() {
                let u = rng::uniform(r);
                if let Some((c, extra, ratio)) = self.stretch_candidate(i, k, w) {
                    let p = self.stretch.max_probability
                        * (1.0 - (-self.stretch.sensitivity * ratio).exp());
                    if u < p {
                        let bought = self.buy_stretch(i, k, c, extra, w, from);
                        out.stretches += 1;
                        let pulled = self.pull_share * bought;
                        if k + 1 < self.kk {
                            borrow = pulled;
                        } else {
                            out.pulled_after += pulled;
                        }
                    }
                }
            }
            if !w.emit {
                w.lines.truncate(from);
            }
        }
        // revenue in minor units is exact, so it never depends on how lines were split
        let mut cents = 0.0;
        for v in &w.pmonth {
            cents += *v;
        }
        out.revenue = cents / self.scale;
        if let Some(sink) = sink.as_mut() {
            sink.extend_from_slice(&w.lines);
        }
        let active = &self.active[i * self.nc..(i + 1) * self.nc];
        self.prep
            .settle_partner(&w.measures, active, &pc.baseline, &mut w.scratch);
        out
    }

    /// [`Setup::run_partner`] without behaviour and without exported lines (the common case of
    /// a run): the same purchases, measures and pipeline without the stretch and borrowing
    /// bookkeeping.
    fn run_partner_plain(&self, i: usize, w: &mut Work) -> RunOut {
        if w.any_x {
            w.x.iter_mut().for_each(|v| *v = 0.0);
            w.any_x = false;
        }
        w.lines.clear();
        w.emit = false;
        for k in 0..self.kk {
            self.period(i, k, 0, w);
            w.lines.clear();
        }
        let mut cents = 0.0;
        for v in &w.pmonth {
            cents += *v;
        }
        let active = &self.active[i * self.nc..(i + 1) * self.nc];
        self.prep.settle_partner(
            &w.measures,
            active,
            &self.partners[i].baseline,
            &mut w.scratch,
        );
        RunOut {
            revenue: cents / self.scale,
            ..RunOut::default()
        }
    }

    /// The ladder component a partner would stretch for at the end of period `k`, with the
    /// extra gross revenue needed and the payoff ratio (additional rebate / extra purchase).
    fn stretch_candidate(&self, i: usize, k: usize, w: &mut Work) -> Option<(usize, f64, f64)> {
        let pc = &self.partners[i];
        let active = &self.active[i * self.nc..(i + 1) * self.nc];
        let mut best: Option<(usize, f64, f64)> = None;
        for (c, comp) in self.prep.components.iter().enumerate() {
            if !active[c] {
                continue;
            }
            let basis = match &comp.rule {
                PreparedRule::Ladder { basis, .. } | PreparedRule::Growth { basis, .. } => *basis,
                _ => continue,
            };
            let (window, wp): (&[f64], u32) = match comp.measure {
                Measure::Period => {
                    let a = comp.offset + k * comp.slots;
                    (&w.measures[a..a + comp.slots], 1)
                }
                Measure::Cumulative => {
                    if k + 1 != self.kk {
                        continue;
                    }
                    w.window[..comp.slots].iter_mut().for_each(|v| *v = 0.0);
                    for kp in 0..=k {
                        let a = comp.offset + kp * comp.slots;
                        for s in 0..comp.slots {
                            w.window[s] += w.measures[a + s];
                        }
                    }
                    (&w.window[..comp.slots], k as u32 + 1)
                }
            };
            let Some((_, needed, shortfall, add)) =
                self.prep.next_tier(c, window, wp, &pc.baseline)
            else {
                continue;
            };
            if !(shortfall > 0.0) || shortfall > self.stretch.max_shortfall * needed || !(add > 0.0)
            {
                continue;
            }
            // the in-scope share of the partner's purchases receives the extra purchase
            let ncl = self.ncl;
            let mix = &self.mix[i * ncl..(i + 1) * ncl];
            let cin = &self.cat_in[c * ncl..(c + 1) * ncl];
            let in_scope: f64 = (0..ncl).filter(|&j| cin[j] >= 0).map(|j| mix[j]).sum();
            if !(in_scope > 0.0) {
                continue;
            }
            let mut extra = match basis {
                Basis::Revenue => shortfall,
                Basis::Units => shortfall * pc.price,
            };
            if !self.gross[c] {
                extra /= 1.0 - self.segs[pc.seg].returns;
            }
            if !(extra > 0.0) || !extra.is_finite() {
                continue;
            }
            let ratio = add / extra;
            if best.is_none_or(|b| ratio > b.2) {
                best = Some((c, extra, ratio));
            }
        }
        best
    }

    /// Buy the stretch purchase for component `c` in period `k`: `extra` gross revenue in the
    /// component's categories, spread over the last `window_months` months. Re-measures the
    /// period (topping up by cents until the threshold is reached despite line rounding) and
    /// returns the extra revenue bought.
    fn buy_stretch(
        &self,
        i: usize,
        k: usize,
        c: usize,
        extra: f64,
        w: &mut Work,
        from: usize,
    ) -> f64 {
        let ncl = self.ncl;
        let mix = &self.mix[i * ncl..(i + 1) * ncl];
        let cin = &self.cat_in[c * ncl..(c + 1) * ncl];
        let in_scope: f64 = (0..ncl).filter(|&j| cin[j] >= 0).map(|j| mix[j]).sum();
        for j in 0..ncl {
            w.xmix[k * ncl + j] = if cin[j] >= 0 { mix[j] / in_scope } else { 0.0 };
        }
        let win = (self.stretch.window_months as usize).min(self.mpp);
        let last = (k + 1) * self.mpp;
        let mut total = extra;
        let comp = &self.prep.components[c];
        let pc = &self.partners[i];
        w.any_x = true;
        for attempt in 0..4 {
            for m in last - win..last {
                w.x[m] = total / win as f64;
            }
            self.period(i, k, from, w);
            // reached?
            let (window, wp): (&[f64], u32) = match comp.measure {
                Measure::Period => {
                    let a = comp.offset + k * comp.slots;
                    (&w.measures[a..a + comp.slots], 1)
                }
                Measure::Cumulative => {
                    w.window[..comp.slots].iter_mut().for_each(|v| *v = 0.0);
                    for kp in 0..=k {
                        let a = comp.offset + kp * comp.slots;
                        for s in 0..comp.slots {
                            w.window[s] += w.measures[a + s];
                        }
                    }
                    (&w.window[..comp.slots], k as u32 + 1)
                }
            };
            match self.prep.next_tier(c, window, wp, &pc.baseline) {
                Some((_, needed, shortfall, _))
                    if shortfall > 0.0
                        && shortfall <= self.stretch.max_shortfall * needed
                        && attempt < 3 =>
                {
                    // still short because of line rounding: top up by the rest plus a cent per line
                    let lines = (w.lines.len() - from).max(1) as f64;
                    let more = match comp.rule {
                        PreparedRule::Ladder {
                            basis: Basis::Units,
                            ..
                        }
                        | PreparedRule::Growth {
                            basis: Basis::Units,
                            ..
                        } => shortfall * pc.price,
                        _ => shortfall,
                    };
                    total += more * 1.001 + lines / self.scale;
                }
                _ => break,
            }
        }
        total
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios.

struct ScenarioOut {
    totals: Vec<f64>, // before budget, to date, per period
    revenue: f64,
    revenue_cf: f64,
    incr_revenue: f64,
    incr_margin: f64,
    totals_cf_final: f64,
    stretches: u32,
    seg_payout: Vec<f64>,
    seg_revenue: Vec<f64>,
    /// Per segment: counterfactual revenue, incremental revenue and margin, and the
    /// counterfactual payout before the budget (as `revenue_cf`, `incr_revenue`, `incr_margin`,
    /// `totals_cf_final`).
    seg_revenue_cf: Vec<f64>,
    seg_incr_revenue: Vec<f64>,
    seg_incr_margin: Vec<f64>,
    seg_payout_cf: Vec<f64>,
    comp_payout: Vec<f64>,
    tiers: Vec<u32>,
    month_rev: Vec<f64>,
    partner_final: Vec<f64>,
    partner_tier: Vec<u8>,
}

impl Setup<'_> {
    /// A scenario's outputs, every sum at zero, with `kk` period totals.
    fn scenario_out(&self, kk: usize) -> ScenarioOut {
        let mut o = self.scenario_out_unfilled(kk);
        o.partner_final.resize(self.partners.len(), 0.0);
        o
    }

    /// [`Setup::scenario_out`] but for `partner_final`, empty (with room for every partner):
    /// for a caller that fills it partner after partner, without zeroing it first.
    fn scenario_out_unfilled(&self, kk: usize) -> ScenarioOut {
        let (n, nseg) = (self.partners.len(), self.nseg);
        ScenarioOut {
            totals: vec![0.0; kk],
            revenue: 0.0,
            revenue_cf: 0.0,
            incr_revenue: 0.0,
            incr_margin: 0.0,
            totals_cf_final: 0.0,
            stretches: 0,
            seg_payout: vec![0.0; nseg],
            seg_revenue: vec![0.0; nseg],
            seg_revenue_cf: vec![0.0; nseg],
            seg_incr_revenue: vec![0.0; nseg],
            seg_incr_margin: vec![0.0; nseg],
            seg_payout_cf: vec![0.0; nseg],
            comp_payout: vec![0.0; self.nc],
            tiers: vec![0; self.tier_width],
            month_rev: vec![0.0; self.months],
            partner_final: Vec::with_capacity(n),
            partner_tier: vec![0; n * self.ladders.len()],
        }
    }

    /// Scenario `s`'s market path and segment factors, into `w.market` and `w.segf`.
    fn scenario_factors(&self, seed: u64, s: u64, w: &mut Work) {
        self.market_path(seed, s, &mut w.market);
        w.market_pos = w.market.iter().all(|&m| m > 0.0 && m.is_finite());
        self.segment_factors(seed, s, &mut w.segf);
    }

    fn run_scenario(&self, seed: u64, s: u64, w: &mut Work) -> ScenarioOut {
        if let Some(plan) = &self.fast {
            return fast::run_scenario(self, plan, seed, s, w);
        }
        let n = self.partners.len();
        let nl = self.ladders.len();
        let mut o = self.scenario_out(self.kk);
        self.scenario_factors(seed, s, w);
        let kk = self.kk;
        let sk = rng::scenario_key(seed, s);
        for i in 0..n {
            // a cancelled run's partial scenario is thrown away by the caller
            if self.cancelled() {
                return o;
            }
            let pc = self.partners[i];
            self.demand(sk, i, w);
            // with the programme (uplift only with behaviour; otherwise run on the demand itself)
            if self.behaviour {
                for m in 0..self.months {
                    w.g[m] = w.base[m] * pc.uplift;
                }
            } else {
                std::mem::swap(&mut w.g, &mut w.base);
            }
            let run = if self.behaviour && self.stretch.enabled {
                let mut r = rng::stream_of(rng::partner_key(sk, i as u64), Purpose::Stretch);
                self.run_partner(i, w, Some(&mut r), None)
            } else {
                self.run_partner(i, w, None, None)
            };
            let fin = w.scratch.total(kk - 1);
            for k in 0..kk - 1 {
                o.totals[k] += w.scratch.total(k);
            }
            o.totals[kk - 1] += fin;
            o.partner_final[i] = fin;
            o.seg_payout[pc.seg] += fin;
            o.seg_revenue[pc.seg] += run.revenue;
            o.revenue += run.revenue;
            o.stretches += run.stretches;
            for (a, b) in o.month_rev.iter_mut().zip(&w.pmonth) {
                *a += *b;
            }
            for c in 0..self.nc {
                o.comp_payout[c] += w.scratch.payable(c, kk - 1);
            }
            let active = &self.active[i * self.nc..(i + 1) * self.nc];
            for (l, (c, lad)) in self.ladders.iter().enumerate() {
                if !active[*c] {
                    continue;
                }
                let t = match self.prep.components[*c].measure {
                    Measure::Period => (0..kk)
                        .map(|k| w.scratch.outcome[c * kk + k].tier)
                        .max()
                        .unwrap_or(0),
                    Measure::Cumulative => w.scratch.outcome[c * kk + kk - 1].tier,
                };
                o.tiers[lad.offset + t as usize] += 1;
                o.partner_tier[i * nl + l] = t.min(255) as u8;
            }
            // without the programme, on the same random numbers
            if self.behaviour {
                // the programme run bought `w.base` itself (uplift exactly 1, so `w.g` is
                // `w.base` bit for bit, and no stretch purchase, so nothing borrowed): the
                // counterfactual run would repeat it exactly (`cf_shortcut`)
                let same = self.cf_shortcut && run.stretches == 0 && pc.uplift == 1.0;
                let (cf_revenue, cf_fin) = if same {
                    (run.revenue, fin)
                } else {
                    w.g.copy_from_slice(&w.base);
                    let cf = self.run_partner(i, w, None, None);
                    (cf.revenue, w.scratch.total(kk - 1))
                };
                o.revenue_cf += cf_revenue;
                o.totals_cf_final += cf_fin;
                let d = run.revenue - cf_revenue - run.pulled_after;
                o.incr_revenue += d;
                o.incr_margin += pc.margin * d;
                o.seg_revenue_cf[pc.seg] += cf_revenue;
                o.seg_payout_cf[pc.seg] += cf_fin;
                o.seg_incr_revenue[pc.seg] += d;
                o.seg_incr_margin[pc.seg] += pc.margin * d;
            } else {
                o.revenue_cf += run.revenue;
                o.totals_cf_final += fin;
                o.seg_revenue_cf[pc.seg] += run.revenue;
                o.seg_payout_cf[pc.seg] += fin;
                if pc.margin.is_nan() {
                    o.incr_margin = f64::NAN;
                    o.seg_incr_margin[pc.seg] = f64::NAN;
                }
            }
        }
        o
    }
}

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

impl Setup<'_> {
    /// Bytes the outputs of `scenarios` scenarios need (plus the in-flight chunk). Every
    /// product and sum saturates, so that a huge request (`scenarios` near `usize::MAX`) comes
    /// out as `usize::MAX`, above any limit, instead of wrapping round to a small number.
    fn memory_estimate(&self, scenarios: usize, chunk: usize) -> usize {
        let n = self.partners.len();
        let sum = |xs: &[usize]| xs.iter().fold(0usize, |a, &b| a.saturating_add(b));
        let mul = |a: usize, b: usize| a.saturating_mul(b);
        let per_scen = sum(&[
            mul(
                8,
                sum(&[
                    14,
                    mul(8, self.nseg),
                    self.nc,
                    self.months,
                    self.cash_months,
                ]),
            ),
            mul(4, self.tier_width),
        ]);
        let per_partner_result = sum(&[
            mul(8, sum(&[2, self.partner_tier_width])),
            mul(4, self.tier_width),
            32,
        ]);
        let in_flight = mul(
            chunk,
            sum(&[
                mul(n, sum(&[8, self.ladders.len()])),
                per_scen,
                mul(8, sum(&[mul(6, self.nseg), self.nc, self.kk, self.months])),
            ]),
        );
        let setup = mul(
            n,
            sum(&[
                std::mem::size_of::<PartnerConst>(),
                self.nc,
                mul(8, self.ncl),
            ]),
        );
        sum(&[
            mul(scenarios, per_scen),
            mul(n, per_partner_result),
            in_flight,
            setup,
        ])
    }
}

struct Acc {
    res: SimResult,
    partner_sum: Vec<f64>,
    partner_sum_before: Vec<f64>,
    /// Per partner and ladder, the number of scenarios that ended in each tier (0..=tiers):
    /// partners × `tier_width`.
    partner_hist: Vec<u32>,
}

impl Setup<'_> {
    fn new_acc(&self, pop: &Population, seed: u64, capacity: usize) -> Acc {
        let n = self.partners.len();
        Acc {
            res: SimResult {
                programme: self.p.name.clone(),
                currency: self.p.currency.clone(),
                seed,
                scenarios: 0,
                precision_met: None,
                budget: self.prep.budget,
                segments: pop.segments.clone(),
                components: self.prep.components.iter().map(|c| c.id.clone()).collect(),
                ladders: self.ladders.iter().map(|(_, l)| l.clone()).collect(),
                months: self.months,
                cash_months: self.cash_months,
                payout: Vec::with_capacity(capacity),
                payout_before_budget: Vec::with_capacity(capacity),
                budget_binds: Vec::with_capacity(capacity),
                revenue: Vec::with_capacity(capacity),
                revenue_counterfactual: Vec::with_capacity(capacity),
                incremental_revenue: Vec::with_capacity(capacity),
                incremental_margin: Vec::with_capacity(capacity),
                roi: Vec::with_capacity(capacity),
                payout_counterfactual: Vec::with_capacity(capacity),
                deadweight_share: Vec::with_capacity(capacity),
                stretches: Vec::with_capacity(capacity),
                segment_payout: Vec::new(),
                segment_revenue: Vec::new(),
                segment_revenue_counterfactual: Vec::new(),
                segment_incremental_revenue: Vec::new(),
                segment_incremental_margin: Vec::new(),
                segment_payout_counterfactual: Vec::new(),
                segment_roi: Vec::new(),
                segment_deadweight_share: Vec::new(),
                component_payout: Vec::new(),
                tier_counts: Vec::new(),
                accrual: Vec::new(),
                cash: Vec::new(),
                partner_ids: pop.partner_id.clone(),
                partner_expected_payout: Vec::new(),
                partner_expected_payout_before_budget: Vec::new(),
                partner_tier_probability: Vec::new(),
            },
            partner_sum: vec![0.0; n],
            partner_sum_before: vec![0.0; n],
            partner_hist: vec![0; n * self.tier_width],
        }
    }

    /// Fold one scenario into the accumulator (always called in scenario order).
    #[cfg(test)]
    fn fold(&self, acc: &mut Acc, o: ScenarioOut) {
        let f = self.fold_scenario(acc, &o);
        self.fold_partners(acc, std::slice::from_ref(&o), &[f]);
    }

    /// Fold a scenario's own results into the accumulator (always called in scenario order);
    /// returns its budget factor (payout after / before the budget) for
    /// [`Setup::fold_partners`].
    fn fold_scenario(&self, acc: &mut Acc, o: &ScenarioOut) -> f64 {
        let r = &mut acc.res;
        let kk = self.kk;
        let before = o.totals[kk - 1];
        let after = self.prep.budget_total(before);
        let f = if before > 0.0 { after / before } else { 1.0 };
        r.scenarios += 1;
        r.payout.push(after);
        r.payout_before_budget.push(before);
        r.budget_binds.push(self.prep.budget_binds(before));
        r.revenue.push(o.revenue);
        r.revenue_counterfactual.push(o.revenue_cf);
        r.incremental_revenue.push(o.incr_revenue);
        r.incremental_margin.push(o.incr_margin);
        r.roi.push(if after > 0.0 {
            (o.incr_margin - after) / after
        } else {
            f64::NAN
        });
        let cf_after = self.prep.budget_total(o.totals_cf_final);
        r.payout_counterfactual.push(cf_after);
        r.deadweight_share.push(if after > 0.0 {
            cf_after.min(after) / after
        } else {
            f64::NAN
        });
        r.stretches.push(o.stretches as f64);
        r.segment_payout.extend(o.seg_payout.iter().map(|v| v * f));
        r.segment_revenue.extend_from_slice(&o.seg_revenue);
        // per segment as the totals: the counterfactual payout after the budget pro rata
        let f_cf = if o.totals_cf_final > 0.0 {
            cf_after / o.totals_cf_final
        } else {
            1.0
        };
        for g in 0..self.nseg {
            let paid = o.seg_payout[g] * f;
            let cf = o.seg_payout_cf[g] * f_cf;
            let margin = o.seg_incr_margin[g];
            r.segment_revenue_counterfactual.push(o.seg_revenue_cf[g]);
            r.segment_incremental_revenue.push(o.seg_incr_revenue[g]);
            r.segment_incremental_margin.push(margin);
            r.segment_payout_counterfactual.push(cf);
            r.segment_roi.push(if paid > 0.0 {
                (margin - paid) / paid
            } else {
                f64::NAN
            });
            r.segment_deadweight_share.push(if paid > 0.0 {
                cf.min(paid) / paid
            } else {
                f64::NAN
            });
        }
        r.component_payout
            .extend(o.comp_payout.iter().map(|v| v * f));
        r.tier_counts.extend_from_slice(&o.tiers);
        // accrual and cash
        let mut acc_m = vec![0.0; self.months];
        let mut cash = vec![0.0; self.cash_months];
        let mut prev = 0.0;
        for k in 0..kk {
            let to_date = self.prep.budget_total(o.totals[k]);
            let amount = to_date - prev;
            prev = to_date;
            let ms = k * self.mpp..(k + 1) * self.mpp;
            let rev: f64 = o.month_rev[ms.clone()].iter().sum();
            for m in ms {
                acc_m[m] = if rev > 0.0 {
                    amount * o.month_rev[m] / rev
                } else {
                    amount / self.mpp as f64
                };
            }
            cash[self.pay_month[k]] += amount;
        }
        r.accrual.extend_from_slice(&acc_m);
        r.cash.extend_from_slice(&cash);
        f
    }

    /// Fold the per-partner results of consecutive scenarios `outs` (with their budget
    /// factors `fs`) into the accumulator, in parallel over blocks of partners: each partner's
    /// sums still run over the scenarios in order, so the result does not depend on threads.
    fn fold_partners(&self, acc: &mut Acc, outs: &[ScenarioOut], fs: &[f64]) {
        const BLOCK: usize = 1024;
        acc.partner_sum
            .par_chunks_mut(BLOCK)
            .zip(acc.partner_sum_before.par_chunks_mut(BLOCK))
            .enumerate()
            .for_each(|(b, (sum, before))| {
                let i0 = b * BLOCK;
                for (o, &f) in outs.iter().zip(fs) {
                    let fin = &o.partner_final[i0..i0 + sum.len()];
                    for ((s, bf), &p) in sum.iter_mut().zip(before.iter_mut()).zip(fin) {
                        *bf += p;
                        *s += p * f;
                    }
                }
            });
        let nl = self.ladders.len();
        if nl > 0 {
            // one count per partner in each of its ladders, in the tier it ended in (the
            // probabilities of reaching each tier are the tail sums, in `finish`); partners in
            // at most one ladder (`partner_ladder`) count only in that one (the others' tier is
            // always 0, and the counts of tier 0 are never read)
            let tw = self.tier_width;
            acc.partner_hist
                .par_chunks_mut(BLOCK * tw)
                .enumerate()
                .for_each(|(b, hist)| {
                    let i0 = b * BLOCK;
                    let np = hist.len() / tw;
                    let pl = self.partner_ladder.as_ref().map(|pl| &pl[i0..i0 + np]);
                    for o in outs {
                        let tiers = &o.partner_tier[i0 * nl..(i0 + np) * nl];
                        let rows = tiers.chunks_exact(nl).zip(hist.chunks_exact_mut(tw));
                        match pl {
                            Some(pl) => {
                                for ((row, h), p) in rows.zip(pl) {
                                    if p.l != NONE {
                                        let t = (row[p.l as usize] as u32).min(p.tiers);
                                        h[(p.offset + t) as usize] += 1;
                                    }
                                }
                            }
                            None => {
                                for (row, h) in rows {
                                    for ((_, lad), &t) in self.ladders.iter().zip(row) {
                                        h[lad.offset + (t as usize).min(lad.tiers)] += 1;
                                    }
                                }
                            }
                        }
                    }
                });
        }
    }

    fn finish(&self, mut acc: Acc) -> SimResult {
        let n = acc.res.scenarios as f64;
        acc.res.partner_expected_payout = acc.partner_sum.iter().map(|v| v / n).collect();
        acc.res.partner_expected_payout_before_budget =
            acc.partner_sum_before.iter().map(|v| v / n).collect();
        let (pw, tw) = (self.partner_tier_width, self.tier_width);
        let mut prob = vec![0.0; self.partners.len() * pw];
        for (p, hist) in prob
            .chunks_exact_mut(pw.max(1))
            .zip(acc.partner_hist.chunks_exact(tw.max(1)))
        {
            for (_, lad) in &self.ladders {
                // scenarios that reached tier t or higher
                let mut reached = 0u32;
                for t in (1..=lad.tiers).rev() {
                    reached += hist[lad.offset + t];
                    p[lad.partner_offset + t - 1] = reached as f64 / n;
                }
            }
        }
        acc.res.partner_tier_probability = prob;
        acc.res
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
    let setup = Setup::new(programme, population, model)?;
    Ok(setup.memory_estimate(max_n, options.chunk_size.min(max_n)))
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
    let mut setup = Setup::new(programme, population, model)?;
    setup.cancel = options.cancel;
    let run = options.run_options();
    check_memory(
        setup.memory_estimate(max_n, run.chunk_size.min(max_n)),
        run.memory_limit,
        max_n,
        population.len(),
    )?;
    let pool = run.pool()?;
    let seed = options.seed;
    let mut acc = setup.new_acc(population, seed, max_n);
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
        || Work::new(&setup),
        |w, s| {
            if setup.cancelled() {
                setup.scenario_out(setup.kk)
            } else {
                setup.run_scenario(seed, s as u64, w)
            }
        },
        |done, outs| {
            let fs: Vec<f64> = outs
                .iter()
                .map(|o| setup.fold_scenario(&mut acc, o))
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

// ---------------------------------------------------------------------------------------
// Export of one scenario, for settlement agreement.

/// One settlement line as the engine computed it (f64).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimLine {
    /// Partner id.
    pub partner_id: String,
    /// Component id.
    pub component: String,
    /// 1-based period (as in settlement lines).
    pub period: u32,
    /// The period's payable amount (after the budget): cumulative to date less the previous.
    pub payable: f64,
}

/// One simulated scenario as settlement inputs, with the engine's own lines.
#[derive(Debug, Clone)]
pub struct ScenarioExport {
    /// The partner table (ids, segments, the baselines the engine used).
    pub partners: Partners,
    /// The simulated purchases (with the programme's behavioural response) as transactions.
    pub transactions: Transactions,
    /// The engine's lines for every partner, active component and period, partners in id order.
    pub lines: Vec<SimLine>,
}

fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default()
}

/// Export scenario `scenario` of a run with `seed` as partner and transaction tables (so that
/// it can be settled with [`crate::settlement::settle`]) together with the engine's own
/// per-line amounts, the budget allocated to the cent as settlement does.
pub fn export_scenario(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    seed: u64,
    scenario: u64,
) -> Result<ScenarioExport> {
    let setup = Setup::new(programme, population, model)?;
    let n = population.len();
    let (nc, kk) = (setup.nc, setup.kk);
    let mut w = Work::new(&setup);
    setup.market_path(seed, scenario, &mut w.market);
    let mut segf = std::mem::take(&mut w.segf);
    setup.segment_factors(seed, scenario, &mut segf);
    w.segf = segf;
    let mut partners = Partners::default();
    partners.table = population.table.clone();
    let mut tx = Transactions {
        table: format!("scenario {scenario}"),
        ..Default::default()
    };
    tx.category_keys = setup.cats.clone();
    if !setup.cats.is_empty() {
        tx.category = Some(Vec::new());
    }
    if setup.needs_orders {
        tx.order = Some(Vec::new());
    }
    let month_date: Vec<chrono::NaiveDate> = (0..setup.months)
        .map(|m| {
            programme
                .calendar
                .start
                .checked_add_months(chrono::Months::new(m as u32))
                .expect("validated dates")
        })
        .collect();
    let mut payable = vec![0.0; n * nc * kk];
    let mut sink: LineSink = Vec::new();
    for i in 0..n {
        let pc = setup.partners[i];
        partners
            .push(
                &population.partner_id[i],
                population.segment_name(i),
                pc.baseline.revenue.map(dec),
                pc.baseline.units.map(dec),
            )
            .map_err(|m| Error::data(&population.table, Some(i + 1), Some("partner_id"), m))?;
        setup.demand(rng::scenario_key(seed, scenario), i, &mut w);
        for m in 0..setup.months {
            w.g[m] = w.base[m] * pc.uplift;
        }
        sink.clear();
        if setup.behaviour && setup.stretch.enabled {
            let mut r = rng::stream(seed, scenario, i as u64, Purpose::Stretch);
            setup.run_partner(i, &mut w, Some(&mut r), Some(&mut sink));
        } else {
            setup.run_partner(i, &mut w, None, Some(&mut sink));
        }
        payable[i * nc * kk..(i + 1) * nc * kk].copy_from_slice(&w.scratch.payable);
        let key = tx.partner_keys.len() as u32;
        if !sink.is_empty() {
            tx.partner_keys.push(population.partner_id[i].clone());
        }
        for l in &sink {
            tx.partner_key.push(key);
            tx.date.push(month_date[l.month as usize]);
            tx.quantity.push(Decimal::new(l.q as i64, QTY_DP));
            tx.revenue.push(Decimal::new(
                (l.r * setup.scale).round() as i64,
                programme.decimals,
            ));
            if let Some(c) = tx.category.as_mut() {
                c.push(if l.cat == NONE { None } else { Some(l.cat) });
            }
            if let Some(o) = tx.order.as_mut() {
                if l.order == NONE {
                    o.push(None);
                } else {
                    o.push(Some(tx.order_keys.len() as u32));
                    tx.order_keys.push(format!(
                        "{}-{}-{}",
                        population.partner_id[i], l.month, l.order
                    ));
                }
            }
        }
    }
    // order ids: one key per (partner, month, order); lines of the same order share it
    if let Some(o) = tx.order.as_mut() {
        let mut map = std::collections::HashMap::new();
        let mut keys = Vec::new();
        for v in o.iter_mut() {
            if let Some(k) = v {
                let name = tx.order_keys[*k as usize].clone();
                let next = keys.len() as u32;
                let id = *map.entry(name.clone()).or_insert_with(|| {
                    keys.push(name);
                    next
                });
                *v = Some(id);
            }
        }
        tx.order_keys = keys;
    }
    // budget to the cent, partners in id order, components in id order
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| population.partner_id[a].cmp(&population.partner_id[b]));
    let mut budgeted = payable.clone();
    let mut weights = vec![0.0; n * nc];
    let mut shares = vec![0.0; n * nc];
    let mut sort = Vec::new();
    for k in 0..kk {
        let mut total = 0.0;
        for (j, &i) in order.iter().enumerate() {
            for c in 0..nc {
                let v = payable[(i * nc + c) * kk + k];
                weights[j * nc + c] = v;
                total += v;
            }
        }
        if setup.prep.budget_binds(total) {
            allocate_into(
                setup.prep.budget.expect("binding budget"),
                &weights,
                setup.prep.decimals,
                &mut shares,
                &mut sort,
            );
            for (j, &i) in order.iter().enumerate() {
                for c in 0..nc {
                    budgeted[(i * nc + c) * kk + k] = shares[j * nc + c];
                }
            }
        }
    }
    let mut lines = Vec::new();
    for &i in &order {
        for c in 0..nc {
            if !setup.active[i * nc + c] {
                continue;
            }
            let mut prev = 0.0;
            for k in 0..kk {
                let b = budgeted[(i * nc + c) * kk + k];
                lines.push(SimLine {
                    partner_id: population.partner_id[i].clone(),
                    component: setup.prep.components[c].id.clone(),
                    period: k as u32 + 1,
                    payable: setup.prep.round(b - prev),
                });
                prev = b;
            }
        }
    }
    Ok(ScenarioExport {
        partners,
        transactions: tx,
        lines,
    })
}

/// Split `cents` (a month's purchase in a category, in minor units) over orders of shares
/// `weights` (summing to 1) to the minor unit: each order gets its share rounded down, then the
/// minor units left go one each to the largest remainders (ties to the first order). `tmp`
/// receives (remainder, minor units) per order; `idx` is scratch.
///
/// The units left are fewer than the orders in exact arithmetic; an amount beyond f64's exact
/// integers (2^53 minor units, e.g. a conditioned forecast scaling a partner's demand by a huge
/// actual) can make the rounded difference anything (it saturated at i64::MAX, a loop of 9e18
/// steps: the campaign's `hang-logistics-forecast`), so it is bounded by the number of orders,
/// and the largest remainders are found by one sort (n log n, was n per unit handed out).
fn split_over_orders(cents: f64, weights: &[f64], tmp: &mut Vec<(f64, f64)>, idx: &mut Vec<u32>) {
    tmp.clear();
    let mut given = 0.0;
    for &wo in weights {
        let exact = cents * wo;
        let fl = exact.floor();
        given += fl;
        tmp.push((exact - fl, fl));
    }
    let left = (cents - given).round();
    let left = if left > 0.0 {
        // NaN and negatives end as 0 above; +inf and huge values as the number of orders
        (left.min(tmp.len() as f64)) as usize
    } else {
        0
    };
    if left == 0 {
        return;
    }
    idx.clear();
    idx.extend(0..tmp.len() as u32);
    if left < tmp.len() {
        idx.sort_unstable_by(|&x, &y| {
            tmp[y as usize]
                .0
                .total_cmp(&tmp[x as usize].0)
                .then(x.cmp(&y))
        });
    }
    for &t in &idx[..left] {
        tmp[t as usize].1 += 1.0;
    }
}

#[cfg(test)]
mod split_tests {
    use super::split_over_orders;

    /// The one-by-one method it replaces.
    fn old(cents: f64, weights: &[f64]) -> Vec<f64> {
        let mut tmp: Vec<(f64, f64)> = Vec::new();
        let mut given = 0.0;
        for &wo in weights {
            let exact = cents * wo;
            let fl = exact.floor();
            given += fl;
            tmp.push((exact - fl, fl));
        }
        let mut left = (cents - given).round() as i64;
        while left > 0 {
            let mut best = 0;
            for (t, x) in tmp.iter().enumerate() {
                if x.0 > tmp[best].0 {
                    best = t;
                }
            }
            tmp[best].0 = -1.0;
            tmp[best].1 += 1.0;
            left -= 1;
        }
        tmp.iter().map(|x| x.1).collect()
    }

    fn new(cents: f64, weights: &[f64]) -> Vec<f64> {
        let (mut tmp, mut idx) = (Vec::new(), Vec::new());
        split_over_orders(cents, weights, &mut tmp, &mut idx);
        tmp.iter().map(|x| x.1).collect()
    }

    #[test]
    fn same_split_as_one_unit_at_a_time() {
        let mut r = crate::rng::stream_of(7, crate::rng::Purpose::Orders);
        for n in [1usize, 2, 3, 7, 40, 1000] {
            for _ in 0..20 {
                let mut w: Vec<f64> = (0..n)
                    .map(|_| (0.5 * crate::rng::normal(&mut r)).exp())
                    .collect();
                let s: f64 = w.iter().sum();
                w.iter_mut().for_each(|v| *v /= s);
                let cents = (crate::rng::uniform(&mut r) * 1e9).round();
                let got = new(cents, &w);
                assert_eq!(got, old(cents, &w), "{n} orders, {cents}");
                assert_eq!(got.iter().sum::<f64>(), cents);
            }
        }
        // ties go to the first order
        assert_eq!(new(5.0, &[0.25; 4]), vec![2.0, 1.0, 1.0, 1.0]);
        assert_eq!(new(7.0, &[0.25; 4]), vec![2.0, 2.0, 2.0, 1.0]);
    }

    /// Amounts beyond f64's exact integers: the old loop ran i64::MAX steps.
    #[test]
    fn huge_and_non_finite_amounts_end() {
        let w = [0.3, 0.3, 0.4];
        for cents in [1e19, 4e30, 1e300, f64::MAX, f64::INFINITY, f64::NAN] {
            let got = new(cents, &w);
            assert_eq!(got.len(), 3);
        }
    }
}

#[cfg(test)]
mod rounding_tests {
    use super::{round_half_up, round_half_up_positive};

    #[test]
    fn positive_rounding_agrees_with_half_up() {
        let mut xs = vec![
            1e-300,
            0.25,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            4.0e15 - 0.5,
            4.0e15,
            1e17,
        ];
        let mut x: f64 = 0.001;
        while x < 1e16 {
            xs.extend([x, x + 0.5, (x + 0.5).floor() + 0.5]);
            x *= 1.37;
        }
        for x in xs {
            assert_eq!(
                round_half_up_positive(x).to_bits(),
                round_half_up(x).to_bits(),
                "{x}"
            );
        }
    }
}

#[cfg(test)]
mod cancel_tests {
    use super::*;
    use crate::programme::{Format, Programme};

    /// The cancel flag is checked inside a scenario (before each partner), not only
    /// between scenarios, so that one costly scenario of a big population stops promptly.
    #[test]
    fn a_scenario_stops_within_its_partners() {
        let p = Programme::from_str(
            "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n\
             [[components]]\nid = \"pallet\"\nkind = \"logistics\"\nmin_quantity = 5\nper_order = 10\n",
            Format::Toml,
            None,
        )
        .unwrap()
        .compile()
        .unwrap();
        let mut csv = String::from("partner_id,segment,baseline_revenue,unit_price\n");
        for i in 0..1000 {
            csv.push_str(&format!("P{i},s,100000,10\n"));
        }
        let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
        let model = Model::default();
        let stop = AtomicBool::new(false);
        let mut setup = Setup::new(&p, &pop, &model).unwrap();
        assert!(setup.fast.is_none(), "orders run the general path");
        setup.cancel = Some(&stop);
        let mut w = Work::new(&setup);
        let full = setup.run_scenario(1, 0, &mut w);
        assert!(full.partner_final.iter().all(|&v| v > 0.0));
        stop.store(true, Ordering::Relaxed);
        let cut = setup.run_scenario(1, 0, &mut w);
        assert_eq!(cut.revenue, 0.0);
        assert!(cut.partner_final.iter().all(|&v| v == 0.0));
    }
}
