//! Liability forecasting from actuals to date: what the programme will pay, what to accrue now.
//!
//! [`forecast`] takes the actual transactions up to a date, updates what the demand model
//! believes about the market, each segment and each partner from them, simulates only the rest
//! of the programme on the Monte Carlo engine (the same kernel as settlement, so caps, minimum
//! payout, exclusive groups, true-ups and the budget apply to actual-to-date plus simulated
//! remainder exactly as settlement will), and reports:
//!
//! - the final payout distribution in total and per partner, segment and component (mean, P50,
//!   P90, P95 with Monte Carlo standard errors);
//! - the IFRS 15 / ASC 606 estimates of variable consideration: *expected value*, *most likely
//!   amount* and a *constrained* estimate at a confidence the user sets, with the method stated
//!   ([`Forecast::estimates`]);
//! - journal-ready accrual lines per partner and component: required accrual to date by the
//!   effective-rate method less the prior accrual, split into the run-rate accrual of the
//!   current month and the cumulative catch-up on earlier purchases ([`Forecast::journal`]);
//! - the watch list: current tier, probability of reaching each higher tier, shortfall and what
//!   reaching the next tier would pay ([`Forecast::watch_list`]);
//! - the probability that the programme exceeds its budget and the cash-out timeline by payment
//!   date with bands ([`Forecast::cash_schedule`]).
//!
//! Method, conditioning, conventions and limitations: `docs/forecast.md`.
//!
//! ```
//! use rebatesim::data::Transactions;
//! use rebatesim::demand::Model;
//! use rebatesim::forecast::{forecast, ForecastOptions};
//! use rebatesim::population::Population;
//! use rebatesim::programme::{Format, Programme};
//! let programme = Programme::from_str(r#"
//! name = "Year"
//! currency = "EUR"
//! start = 2027-01-01
//! period = "year"
//! periods = 1
//! [[components]]
//! id = "vol"
//! kind = "volume"
//! tiers = [{ from = 100000, percent = 2 }, { from = 200000, percent = 4 }]
//! "#, Format::Toml, None).unwrap().compile().unwrap();
//! let partners = Population::from_csv_str("partner_id,segment,baseline_revenue\nA,s,240000\n", "partners").unwrap();
//! let mut csv = String::from("partner_id,date,quantity,revenue\n");
//! for m in 1..=6 {
//!     csv += &format!("A,2027-{m:02}-15,1,20000\n");
//! }
//! let actuals = Transactions::from_csv_str(&csv, "actuals").unwrap();
//! let f = forecast(&programme, &partners, &Model::default(), &actuals,
//!                  chrono::NaiveDate::from_ymd_opt(2027, 6, 30).unwrap(),
//!                  &ForecastOptions { scenarios: 10, ..Default::default() }).unwrap();
//! // 120,000 to date and 120,000 expected: tier 2 (4%) on 240,000
//! assert_eq!(f.expected_value().value, 9600.0);
//! // required to date at the effective rate 4% on 120,000
//! assert_eq!(f.journal()[0].required, 4800.0);
//! ```
//!
//! Results are bit-identical for any number of threads: every scenario draws from streams keyed
//! by (seed, scenario, partner, purpose) and results are folded in scenario order.

use crate::data::{Partners, Transactions};
use crate::demand::Model;
use crate::engine::conditioned::{CondEngine, CondOut, Observed};
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::{Compiled, Measure};
use crate::rules::{slot, Prepared};
use crate::summary::{self, Estimate, Summary};
use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Accruals booked before the forecast date, per partner and component (cumulative amounts
/// recognised through the previous month end). Read from a table with columns `partner_id`,
/// `component` and `amount`.
#[derive(Debug, Clone, Default)]
pub struct PriorAccruals {
    /// Table name used in error messages.
    pub table: String,
    /// Partner id of each row.
    pub partner_id: Vec<String>,
    /// Component id of each row.
    pub component: Vec<String>,
    /// Cumulative amount accrued of each row.
    pub amount: Vec<Decimal>,
}

impl PriorAccruals {
    /// Read prior accruals from a CSV file; errors name the file.
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<PriorAccruals> {
        let path = path.as_ref();
        let f = crate::limits::open_regular(path, "a prior accruals table (CSV file)")?;
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        PriorAccruals::from_csv_reader(std::io::BufReader::new(f), &name)
    }

    /// Read prior accruals from CSV text; `table` names it in errors.
    pub fn from_csv_str(text: &str, table: &str) -> Result<PriorAccruals> {
        PriorAccruals::from_csv_reader(text.as_bytes(), table)
    }

    /// Read prior accruals from CSV: columns `partner_id`, `component`, `amount` (others are
    /// ignored). Errors name the row and column.
    pub fn from_csv_reader<R: Read>(reader: R, table: &str) -> Result<PriorAccruals> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| Error::data(table, None, None, format!("cannot read the header: {e}")))?
            .clone();
        let col = |name: &str| -> Result<usize> {
            headers
                .iter()
                .position(|h| {
                    h.trim_start_matches('\u{feff}')
                        .trim()
                        .eq_ignore_ascii_case(name)
                })
                .ok_or_else(|| {
                    Error::data(
                        table,
                        None,
                        Some(name),
                        format!(
                            "missing column (the table has: {})",
                            headers.iter().collect::<Vec<_>>().join(", ")
                        ),
                    )
                })
        };
        let (pc, cc, ac) = (col("partner_id")?, col("component")?, col("amount")?);
        let mut out = PriorAccruals {
            table: table.to_owned(),
            ..Default::default()
        };
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 1;
            let rec = rec.map_err(|e| Error::data(table, Some(row), None, e.to_string()))?;
            let get = |c: usize| rec.get(c).unwrap_or("").trim().to_owned();
            let (p, c, a) = (get(pc), get(cc), get(ac));
            if p.is_empty() {
                return Err(Error::data(
                    table,
                    Some(row),
                    Some("partner_id"),
                    "expected a partner id, found an empty cell",
                ));
            }
            if c.is_empty() {
                return Err(Error::data(
                    table,
                    Some(row),
                    Some("component"),
                    "expected a component id, found an empty cell",
                ));
            }
            let amount = crate::data::parse_bounded(&a)
                .map_err(|m| Error::data(table, Some(row), Some("amount"), m))?;
            out.partner_id.push(p);
            out.component.push(c);
            out.amount.push(amount);
        }
        Ok(out)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.partner_id.len()
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.partner_id.is_empty()
    }
}

/// A progress callback: (scenarios done, scenarios planned), after each chunk.
pub type ForecastProgress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Options of a forecast.
#[derive(Clone, Copy)]
pub struct ForecastOptions<'a> {
    /// Number of scenarios of the remainder.
    pub scenarios: usize,
    /// Random seed.
    pub seed: u64,
    /// Worker threads: 0 = all cores. Results are bit-identical for any value.
    pub threads: usize,
    /// Confidence of the constrained estimate, in (0, 1), e.g. 0.9: the amount not exceeded
    /// with this probability.
    pub confidence: f64,
    /// Accruals booked before (cumulative, per partner and component).
    pub prior_accruals: Option<&'a PriorAccruals>,
    /// Progress callback.
    pub progress: Option<ForecastProgress<'a>>,
    /// Set to `true` (from another thread) to stop the run with [`Error::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

impl Default for ForecastOptions<'_> {
    fn default() -> Self {
        ForecastOptions {
            scenarios: 1000,
            seed: 0,
            threads: 0,
            confidence: 0.9,
            prior_accruals: None,
            progress: None,
            cancel: None,
        }
    }
}

impl std::fmt::Debug for ForecastOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForecastOptions")
            .field("scenarios", &self.scenarios)
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("confidence", &self.confidence)
            .field("prior_accruals", &self.prior_accruals.map(|p| p.len()))
            .finish()
    }
}

/// The distribution of a final payout over scenarios, with the IFRS 15 estimates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    /// Mean = the expected value estimate.
    pub mean: Estimate,
    /// Standard deviation.
    pub sd: Estimate,
    /// 5th percentile.
    pub p5: Estimate,
    /// Median.
    pub p50: Estimate,
    /// 90th percentile.
    pub p90: Estimate,
    /// 95th percentile.
    pub p95: Estimate,
    /// Most likely amount (mode, half-sample mode estimator); its `se` is a conservative
    /// bound (the spread of the estimator over 10 batches of scenarios).
    pub most_likely: Estimate,
    /// Constrained estimate: the `confidence` quantile.
    pub constrained: Estimate,
}

/// One row of a breakdown (partner, segment or component).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Partner id, segment name or component id.
    pub key: String,
    /// The partner's segment (partner rows only).
    pub segment: Option<String>,
    /// Final payout distribution (after the budget).
    #[serde(flatten)]
    pub payout: Distribution,
    /// Partner rows: treated as churned (no purchases since some month before the date).
    pub churned: Option<bool>,
    /// Partner rows: months of actuals its own factor was updated from.
    pub months_observed: Option<u32>,
}

/// The three IFRS 15 / ASC 606 estimates of the programme's total, with the method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimates {
    /// Expected value (probability-weighted amount).
    pub expected_value: Estimate,
    /// Most likely amount.
    pub most_likely: Estimate,
    /// Constrained estimate at `confidence`.
    pub constrained: Estimate,
    /// Confidence of the constrained estimate.
    pub confidence: f64,
    /// How each estimate is computed, in words (for the audit file).
    pub method: String,
}

/// A journal-ready accrual line for one partner and component at the forecast date.
///
/// `required = estimated_final × volume_to_date / expected_final_volume` (effective-rate
/// method); `movement = required − prior` is the entry to book, split into `run_rate` (the
/// effective rate on the current month's volume) and `catch_up` (the cumulative catch-up on
/// earlier purchases when the estimate moved). Positive: debit `debit_account`, credit
/// `credit_account`; a negative movement reverses them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalLine {
    /// Posting date (the forecast date).
    pub date: NaiveDate,
    /// Partner id.
    pub partner_id: String,
    /// Partner segment.
    pub segment: String,
    /// Component id.
    pub component: String,
    /// Account debited.
    pub debit_account: String,
    /// Account credited.
    pub credit_account: String,
    /// Description.
    pub description: String,
    /// Basis volume measured to date (the component's basis: revenue, units or orders).
    pub volume_to_date: f64,
    /// Expected basis volume over the whole programme (actual + expected remainder).
    pub expected_final_volume: f64,
    /// Estimated final entitlement (expected value, after caps, minimum and budget).
    pub estimated_final: f64,
    /// Effective rate = estimated final / expected final volume.
    pub effective_rate: f64,
    /// Accrual required to date.
    pub required: f64,
    /// Accrued before (input).
    pub prior: f64,
    /// Entry to book: required − prior (signed).
    pub movement: f64,
    /// Of which: effective rate × the current month's volume.
    pub run_rate: f64,
    /// Of which: cumulative catch-up on earlier purchases.
    pub catch_up: f64,
    /// Amount debited (= credited): |movement|.
    pub amount: f64,
}

/// A partner's standing on a ladder (volume or growth component) and its chances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchEntry {
    /// Partner id.
    pub partner_id: String,
    /// Segment.
    pub segment: String,
    /// Component id.
    pub component: String,
    /// `period` (tiers of the open period) or `cumulative` (tiers at the programme end).
    pub measure: String,
    /// Label of the period the tiers refer to (`measure = period`) or of the programme end.
    pub period_label: String,
    /// Tier reached on the actuals to date (0 = none).
    pub current_tier: u32,
    /// Basis volume to date in that window.
    pub volume: f64,
    /// Number of tiers of the ladder.
    pub tiers: u32,
    /// Next tier, if any.
    pub next_tier: Option<u32>,
    /// Volume needed for the next tier.
    pub next_threshold: Option<f64>,
    /// Volume still missing.
    pub shortfall: Option<f64>,
    /// What reaching the next tier would pay in addition (before caps), rounded.
    pub next_tier_pays: Option<f64>,
    /// P(tier ≥ t) for t = 1..=tiers at the end of the window (forecast).
    pub reach_probability: Vec<f64>,
    /// Probability of reaching at least the next tier, with its standard error.
    pub next_tier_probability: Option<Estimate>,
    /// Treated as churned.
    pub churned: bool,
}

/// Cash paid on one payment date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CashLine {
    /// Payment date.
    pub payment_date: NaiveDate,
    /// Periods whose payments fall on it (labels joined by `+`).
    pub periods: String,
    /// `paid` (due on or before the forecast date), `payable` (period closed, not yet due) or
    /// `forecast` (period still open).
    pub status: String,
    /// Expected amount.
    pub mean: Estimate,
    /// 5th percentile.
    pub p5: Estimate,
    /// Median.
    pub p50: Estimate,
    /// 95th percentile.
    pub p95: Estimate,
}

/// The result of [`forecast`].
#[derive(Debug, Clone)]
pub struct Forecast {
    /// Programme name.
    pub programme: String,
    /// Currency code.
    pub currency: String,
    /// Decimal places of the currency.
    pub decimals: u32,
    /// Forecast date.
    pub as_of: NaiveDate,
    /// Seed.
    pub seed: u64,
    /// Number of scenarios.
    pub scenarios: usize,
    /// Confidence of the constrained estimates.
    pub confidence: f64,
    /// Complete programme months of actuals.
    pub months_observed: usize,
    /// Share of the month after them still simulated (1 when the date is a month end).
    pub partial_month: f64,
    /// Programme budget.
    pub budget: Option<f64>,
    /// Partner ids.
    pub partner_ids: Vec<String>,
    /// Segment of each partner.
    pub partner_segments: Vec<String>,
    /// Segment names.
    pub segments: Vec<String>,
    /// Component ids.
    pub components: Vec<String>,
    payout: Vec<f64>,
    payout_before_budget: Vec<f64>,
    partner_payout: Vec<f64>,
    component_payout: Vec<f64>,
    segment_payout: Vec<f64>,
    cash: Vec<f64>,
    period_labels: Vec<String>,
    period_ends: Vec<NaiveDate>,
    payment_dates: Vec<NaiveDate>,
    pc_mean: Vec<f64>,
    active: Vec<bool>,
    volume_to_date: Vec<f64>,
    volume_month: Vec<f64>,
    volume_final: Vec<f64>,
    prior: Vec<f64>,
    churned: Vec<bool>,
    observations: Vec<u32>,
    elapsed_share: f64,
    rounding: crate::money::Rounding,
    watch: Vec<WatchEntry>,
}

/// Half-sample mode (Bickel and Frühwirth 2006) of ascending `v`: repeatedly keep the half of
/// the sample with the shortest range. A robust mode estimator that also finds point masses
/// (e.g. many scenarios paying exactly 0 or a cap).
pub fn half_sample_mode(v: &[f64]) -> f64 {
    let (mut lo, mut hi) = (0usize, v.len());
    if hi == 0 {
        return f64::NAN;
    }
    while hi - lo > 3 {
        let n = hi - lo;
        let h = n.div_ceil(2);
        let mut best = lo;
        let mut width = f64::INFINITY;
        for j in lo..=hi - h {
            let wd = v[j + h - 1] - v[j];
            if wd < width {
                width = wd;
                best = j;
            }
        }
        lo = best;
        hi = best + h;
    }
    match hi - lo {
        3 => {
            let (a, b, c) = (v[lo], v[lo + 1], v[lo + 2]);
            if b - a < c - b {
                0.5 * (a + b)
            } else if b - a > c - b {
                0.5 * (b + c)
            } else {
                b
            }
        }
        2 => 0.5 * (v[lo] + v[lo + 1]),
        _ => v[lo],
    }
}

/// Distribution summary of `x` with the most likely amount and the constrained estimate.
pub fn distribution(x: &[f64], confidence: f64) -> Distribution {
    let s: Summary = summary::summarize(x, None);
    let mut v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let mode = half_sample_mode(&v);
    // spread of the estimator over 10 contiguous batches of scenarios (conservative SE)
    let batches = 10;
    let mode_se = if x.len() >= batches * 10 {
        let size = x.len() / batches;
        let ms: Vec<f64> = (0..batches)
            .map(|b| {
                let mut part = x[b * size..(b + 1) * size].to_vec();
                part.sort_by(f64::total_cmp);
                half_sample_mode(&part)
            })
            .collect();
        summary::sd(&ms).value
    } else {
        f64::NAN
    };
    Distribution {
        mean: s.mean,
        sd: s.sd,
        p5: s.p5,
        p50: s.p50,
        p90: s.p90,
        p95: s.p95,
        most_likely: Estimate {
            value: mode,
            se: mode_se,
        },
        constrained: summary::percentile_estimate(&v, confidence),
    }
}

fn method_text(confidence: f64, scenarios: usize) -> String {
    format!(
        "Variable consideration payable to customers (IFRS 15.50-58 / ASC 606-10-32-5 to 32-14), estimated from {scenarios} Monte Carlo scenarios of the rest of the programme conditioned on actual purchases to date and settled with the programme's exact rules. \
Expected value: the probability-weighted mean of the simulated final payouts (IFRS 15.53(a)). \
Most likely amount: the single most likely final payout, the mode of the simulated distribution by the half-sample mode estimator (IFRS 15.53(b)). \
Constrained estimate: the {:.0}% quantile of the simulated final payout, i.e. the amount the rebates will not exceed with {:.0}% probability, so that revenue recognised net of it is not expected to reverse significantly at that confidence (IFRS 15.56-57 / ASC 606-10-32-11). \
Standard errors are Monte Carlo errors of the estimates.",
        confidence * 100.0,
        confidence * 100.0
    )
}

impl Forecast {
    /// Final programme payout (after caps, minimum, budget) per scenario: actual periods plus
    /// the simulated rest of the programme, in scenario order.
    pub fn total_payout(&self) -> &[f64] {
        &self.payout
    }

    /// Final programme payout before the budget cut, per scenario.
    pub fn total_payout_before_budget(&self) -> &[f64] {
        &self.payout_before_budget
    }

    /// Summary of the total payout (mean, P5..P99 with SEs; `p_exceed` = P(budget exceeded)).
    pub fn total_summary(&self) -> Summary {
        let mut s = summary::summarize(&self.payout, None);
        s.p_exceed = self.budget_exceedance();
        s
    }

    /// The total payout's distribution with the IFRS 15 estimates.
    pub fn total_distribution(&self) -> Distribution {
        distribution(&self.payout, self.confidence)
    }

    /// Expected value of the total payout (IFRS 15.53(a)).
    pub fn expected_value(&self) -> Estimate {
        summary::mean(&self.payout)
    }

    /// The three IFRS 15 estimates of the total, with the method in words.
    pub fn estimates(&self) -> Estimates {
        let d = self.total_distribution();
        Estimates {
            expected_value: d.mean,
            most_likely: d.most_likely,
            constrained: d.constrained,
            confidence: self.confidence,
            method: method_text(self.confidence, self.scenarios),
        }
    }

    /// Probability that the programme total (before the budget cut) exceeds the budget, with
    /// its standard error (`None` without a budget).
    pub fn budget_exceedance(&self) -> Option<Estimate> {
        let b = self.budget?;
        Some(summary::probability(
            self.payout_before_budget
                .iter()
                .map(|&x| x > b + 1e-9 * b.abs().max(1.0)),
        ))
    }

    /// Final payout per scenario of partner `i` (after the budget).
    pub fn partner_payout(&self, i: usize) -> Vec<f64> {
        let n = self.partner_ids.len();
        (0..self.scenarios)
            .map(|s| self.partner_payout[s * n + i])
            .collect()
    }

    /// Final payout per scenario of component `c`.
    pub fn component_payout(&self, c: usize) -> Vec<f64> {
        let nc = self.components.len();
        (0..self.scenarios)
            .map(|s| self.component_payout[s * nc + c])
            .collect()
    }

    /// Final payout per scenario of segment `g`.
    pub fn segment_payout(&self, g: usize) -> Vec<f64> {
        let ng = self.segments.len();
        (0..self.scenarios)
            .map(|s| self.segment_payout[s * ng + g])
            .collect()
    }

    /// Per partner (in table order): final payout distribution and estimates.
    pub fn by_partner(&self) -> Vec<Row> {
        (0..self.partner_ids.len())
            .map(|i| Row {
                key: self.partner_ids[i].clone(),
                segment: Some(self.partner_segments[i].clone()),
                payout: distribution(&self.partner_payout(i), self.confidence),
                churned: Some(self.churned[i]),
                months_observed: Some(self.observations[i]),
            })
            .collect()
    }

    /// Per segment.
    pub fn by_segment(&self) -> Vec<Row> {
        (0..self.segments.len())
            .map(|g| Row {
                key: self.segments[g].clone(),
                segment: None,
                payout: distribution(&self.segment_payout(g), self.confidence),
                churned: None,
                months_observed: None,
            })
            .collect()
    }

    /// Per component.
    pub fn by_component(&self) -> Vec<Row> {
        (0..self.components.len())
            .map(|c| Row {
                key: self.components[c].clone(),
                segment: None,
                payout: distribution(&self.component_payout(c), self.confidence),
                churned: None,
                months_observed: None,
            })
            .collect()
    }

    /// Expected final payout (after the budget) of partner `i` and component `c`.
    pub fn expected_partner_component(&self, i: usize, c: usize) -> f64 {
        self.pc_mean[i * self.components.len() + c]
    }

    fn round(&self, v: f64) -> f64 {
        self.rounding.round_f64(v, self.decimals)
    }

    /// Journal-ready accrual lines at the forecast date, one per partner and component that
    /// applies to it (and every prior accrual), partners and components in id order.
    pub fn journal(&self) -> Vec<JournalLine> {
        let nc = self.components.len();
        let mut order: Vec<usize> = (0..self.partner_ids.len()).collect();
        order.sort_by(|&a, &b| self.partner_ids[a].cmp(&self.partner_ids[b]));
        let mut comp_order: Vec<usize> = (0..nc).collect();
        comp_order.sort_by(|&a, &b| self.components[a].cmp(&self.components[b]));
        let mut out = Vec::new();
        for &i in &order {
            for &c in &comp_order {
                let j = i * nc + c;
                if !self.active[j] && self.prior[j] == 0.0 {
                    continue;
                }
                let est = self.pc_mean[j];
                let (vtd, vfin, vmon) = (
                    self.volume_to_date[j],
                    self.volume_final[j],
                    self.volume_month[j],
                );
                let (rate, share, month_share) = if vfin > 0.0 {
                    let r = est / vfin;
                    (r, (vtd / vfin).clamp(0.0, 1.0), vmon / vfin)
                } else {
                    (0.0, self.elapsed_share, 0.0)
                };
                let required = self.round(est * share);
                let prior = self.prior[j];
                let movement = self.round(required - prior);
                let run_rate = self.round(est * month_share);
                let catch_up = self.round(movement - run_rate);
                let (debit, credit) = if movement >= 0.0 {
                    ("Rebates (contra-revenue)", "Accrued rebates (liability)")
                } else {
                    ("Accrued rebates (liability)", "Rebates (contra-revenue)")
                };
                out.push(JournalLine {
                    date: self.as_of,
                    partner_id: self.partner_ids[i].clone(),
                    segment: self.partner_segments[i].clone(),
                    component: self.components[c].clone(),
                    debit_account: debit.into(),
                    credit_account: credit.into(),
                    description: format!(
                        "{} rebate accrual {} to {}: required {:.*} less prior {:.*} (run rate {:.*}, catch-up {:.*})",
                        self.components[c],
                        self.partner_ids[i],
                        self.as_of,
                        self.decimals as usize,
                        required,
                        self.decimals as usize,
                        prior,
                        self.decimals as usize,
                        run_rate,
                        self.decimals as usize,
                        catch_up
                    ),
                    volume_to_date: vtd,
                    expected_final_volume: vfin,
                    estimated_final: est,
                    effective_rate: rate,
                    required,
                    prior,
                    movement,
                    run_rate,
                    catch_up,
                    amount: movement.abs(),
                });
            }
        }
        out
    }

    /// The watch list: per partner and ladder, current tier, chances of each higher tier,
    /// shortfall to the next and what it would pay. Partners in table order.
    pub fn watch_list(&self) -> &[WatchEntry] {
        &self.watch
    }

    /// Cash-out timeline by payment date (expected amounts with bands). The means sum to the
    /// expected total payout.
    pub fn cash_schedule(&self) -> Vec<CashLine> {
        let kk = self.period_labels.len();
        let s = self.scenarios;
        let mut dates: Vec<NaiveDate> = self.payment_dates.clone();
        dates.sort();
        dates.dedup();
        dates
            .into_iter()
            .map(|d| {
                let ks: Vec<usize> = (0..kk).filter(|&k| self.payment_dates[k] == d).collect();
                let x: Vec<f64> = (0..s)
                    .map(|sc| ks.iter().map(|&k| self.cash[sc * kk + k]).sum())
                    .collect();
                let sm = summary::summarize(&x, None);
                let closed = ks.iter().all(|&k| self.period_ends[k] <= self.as_of);
                let status = if d <= self.as_of {
                    "paid"
                } else if closed {
                    "payable"
                } else {
                    "forecast"
                };
                CashLine {
                    payment_date: d,
                    periods: ks
                        .iter()
                        .map(|&k| self.period_labels[k].clone())
                        .collect::<Vec<_>>()
                        .join("+"),
                    status: status.into(),
                    mean: sm.mean,
                    p5: sm.p5,
                    p50: sm.p50,
                    p95: sm.p95,
                }
            })
            .collect()
    }

    /// Everything as one serializable report (for JSON output).
    pub fn report(&self) -> ForecastReport {
        ForecastReport {
            programme: self.programme.clone(),
            currency: self.currency.clone(),
            as_of: self.as_of,
            seed: self.seed,
            scenarios: self.scenarios,
            confidence: self.confidence,
            months_observed: self.months_observed,
            partial_month: self.partial_month,
            budget: self.budget,
            total: self.total_distribution(),
            total_before_budget: distribution(&self.payout_before_budget, self.confidence),
            estimates: self.estimates(),
            budget_exceedance: self.budget_exceedance(),
            by_segment: self.by_segment(),
            by_component: self.by_component(),
            by_partner: self.by_partner(),
            journal: self.journal(),
            watch_list: self.watch.clone(),
            cash_schedule: self.cash_schedule(),
        }
    }
}

/// A forecast's results as one serializable document.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastReport {
    /// Programme name.
    pub programme: String,
    /// Currency.
    pub currency: String,
    /// Forecast date.
    pub as_of: NaiveDate,
    /// Seed.
    pub seed: u64,
    /// Scenarios.
    pub scenarios: usize,
    /// Confidence of the constrained estimates.
    pub confidence: f64,
    /// Complete months of actuals.
    pub months_observed: usize,
    /// Share of the next month simulated.
    pub partial_month: f64,
    /// Budget.
    pub budget: Option<f64>,
    /// Total payout distribution.
    pub total: Distribution,
    /// Total payout before the budget cut.
    pub total_before_budget: Distribution,
    /// IFRS 15 estimates of the total.
    pub estimates: Estimates,
    /// P(total before the budget cut > budget).
    pub budget_exceedance: Option<Estimate>,
    /// Per segment.
    pub by_segment: Vec<Row>,
    /// Per component.
    pub by_component: Vec<Row>,
    /// Per partner.
    pub by_partner: Vec<Row>,
    /// Accrual journal.
    pub journal: Vec<JournalLine>,
    /// Watch list.
    pub watch_list: Vec<WatchEntry>,
    /// Cash schedule.
    pub cash_schedule: Vec<CashLine>,
}

fn dec_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

fn check_options(opts: &ForecastOptions) -> Result<()> {
    if opts.scenarios == 0 {
        return Err(Error::Request("scenarios must be at least 1".into()));
    }
    crate::engine::check_threads((opts.threads > 0).then_some(opts.threads))?;
    if !(opts.confidence > 0.0 && opts.confidence < 1.0) {
        return Err(Error::Request(format!(
            "confidence must be between 0 and 1 (e.g. 0.9), found {}",
            opts.confidence
        )));
    }
    Ok(())
}

/// Forecast the final payout of `programme` from the `actuals` up to `as_of` (inclusive).
///
/// Errors: [`Error::Request`] for bad options or an `as_of` outside the programme;
/// [`Error::Data`] naming the row for actuals after `as_of`, for unknown partners, dates before
/// the programme, undeclared categories, a partner whose cumulative net revenue or quantity
/// turns negative after returns, and prior accruals for unknown partners or components (or
/// given twice); [`Error::Model`] for a model the engine refuses; [`Error::Cancelled`] when
/// `cancel` is set.
pub fn forecast(
    programme: &Compiled,
    population: &Population,
    model: &Model,
    actuals: &Transactions,
    as_of: NaiveDate,
    opts: &ForecastOptions,
) -> Result<Forecast> {
    check_options(opts)?;
    // the results kept per scenario, checked before any set-up (saturating: a huge number of
    // scenarios is refused, never wrapped round to a small estimate)
    {
        let s_n = opts.scenarios;
        let n = population.len();
        let width = [
            n,
            programme.components.len(),
            population.segments.len(),
            programme.calendar.periods as usize,
            2,
        ]
        .iter()
        .fold(0usize, |a, &b| a.saturating_add(b));
        let need = s_n.saturating_mul(width).saturating_mul(8);
        if need > 4usize << 30 {
            let mb = if need == usize::MAX {
                "more memory than this computer can address".to_owned()
            } else {
                format!("about {} MB", need / 1_000_000 + 1)
            };
            return Err(Error::Request(format!(
                "{s_n} scenarios × {n} partners would need {mb} of results, above 4 GB: run fewer scenarios"
            )));
        }
    }
    let cal = &programme.calendar;
    let (start, end) = (cal.start, cal.end());
    if as_of < start || as_of > end {
        return Err(Error::Request(format!(
            "as_of {as_of} is outside the programme ({start} to {end})"
        )));
    }
    // actuals after the date
    for (i, d) in actuals.date.iter().enumerate() {
        if *d > as_of {
            return Err(Error::data(
                &actuals.table,
                Some(i + 1),
                Some("date"),
                format!(
                    "date {d} is after the forecast date {as_of}: give actuals up to as_of only"
                ),
            ));
        }
    }
    // the partner table as settlement sees it
    let mut partners = Partners::default();
    partners.table = population.table.clone();
    for i in 0..population.len() {
        partners
            .push(
                &population.partner_id[i],
                population.segment_name(i),
                population.baseline_revenue[i].and_then(Decimal::from_f64),
                population.baseline_units[i].and_then(Decimal::from_f64),
            )
            .map_err(|m| Error::data(&population.table, Some(i + 1), Some("partner_id"), m))?;
    }
    partners.check_segments(programme)?;
    let res = actuals.resolve(&partners, programme)?;
    let n = population.len();
    let months = cal.months() as usize;
    let month_of: Vec<usize> = actuals
        .date
        .iter()
        .map(|d| {
            cal.month_of(*d)
                .expect("resolved dates are in the programme") as usize
        })
        .collect();

    // negative cumulative volumes after returns: per partner, in date order
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (r, &p) in res.partner.iter().enumerate() {
        rows_of[p].push(r);
    }
    for rows in &mut rows_of {
        rows.sort_by_key(|&r| (actuals.date[r], r));
        let (mut rev, mut qty) = (Decimal::ZERO, Decimal::ZERO);
        let mut i = 0;
        while i < rows.len() {
            // lines of the same day count together (a return booked the same day as its sale)
            let day = actuals.date[rows[i]];
            let mut j = i;
            while j < rows.len() && actuals.date[rows[j]] == day {
                rev += actuals.revenue[rows[j]];
                qty += actuals.quantity[rows[j]];
                j += 1;
            }
            if rev.is_sign_negative() && !rev.is_zero() || qty.is_sign_negative() && !qty.is_zero()
            {
                let bad = rows[i..j]
                    .iter()
                    .copied()
                    .filter(|&r| {
                        actuals.revenue[r].is_sign_negative()
                            || actuals.quantity[r].is_sign_negative()
                    })
                    .max()
                    .unwrap_or(rows[j - 1]);
                let (col, what, v) = if rev.is_sign_negative() && !rev.is_zero() {
                    ("revenue", "revenue", rev)
                } else {
                    ("quantity", "quantity", qty)
                };
                return Err(Error::data(
                    &actuals.table,
                    Some(bad + 1),
                    Some(col),
                    format!(
                        "partner '{}' has a negative cumulative net {what} of {v} on {day} after returns: returns exceed the purchases to date",
                        population.partner_id[res.partner[bad]]
                    ),
                ));
            }
            i = j;
        }
    }
    let prep_dec: Prepared<Decimal> = Prepared::new(programme);
    let ml = prep_dec.measure_len();
    let nc = prep_dec.components.len();
    let kk = prep_dec.periods;

    // complete months and the partial month
    let as_of_month = cal.month_of(as_of).expect("checked") as usize;
    let month_start = |m: usize| {
        start
            .checked_add_months(chrono::Months::new(m as u32))
            .expect("validated dates")
    };
    let month_last = month_start(as_of_month + 1).pred_opt().expect("date");
    let (t_obs, partial) = if as_of == month_last {
        (as_of_month + 1, 1.0)
    } else {
        let days = (month_start(as_of_month + 1) - month_start(as_of_month)).num_days() as f64;
        let left = (month_last - as_of).num_days() as f64;
        (as_of_month, left / days)
    };

    // actual measures (all rows, and the as_of month's rows), gross revenue per month
    let mut measures = vec![0.0; n * ml];
    let mut volume_to_date = vec![0.0; n * nc];
    let mut volume_month = vec![0.0; n * nc];
    let mut gross = vec![0.0; n * t_obs];
    let mut partial_bought = vec![false; n];
    let mut orders = HashMap::new();
    let mut m_dec = vec![Decimal::ZERO; ml];
    for i in 0..n {
        let active: Vec<bool> = programme
            .components
            .iter()
            .map(|c| {
                c.scope
                    .includes_partner(&population.partner_id[i], population.segment_name(i))
            })
            .collect();
        let rows = &rows_of[i];
        m_dec.iter_mut().for_each(|v| *v = Decimal::ZERO);
        crate::settlement::fill_measures(
            &prep_dec,
            programme,
            actuals,
            &res,
            rows,
            &active,
            &mut m_dec,
            &mut orders,
        );
        for (j, v) in m_dec.iter().enumerate() {
            measures[i * ml + j] = dec_f64(*v);
        }
        for (c, comp) in prep_dec.components.iter().enumerate() {
            volume_to_date[i * nc + c] = (0..kk)
                .map(|k| measures[i * ml + comp.offset + k * comp.slots + slot::VOLUME])
                .sum();
        }
        let month_rows: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&r| month_of[r] == as_of_month)
            .collect();
        m_dec.iter_mut().for_each(|v| *v = Decimal::ZERO);
        crate::settlement::fill_measures(
            &prep_dec,
            programme,
            actuals,
            &res,
            &month_rows,
            &active,
            &mut m_dec,
            &mut orders,
        );
        for (c, comp) in prep_dec.components.iter().enumerate() {
            volume_month[i * nc + c] = (0..kk)
                .map(|k| dec_f64(m_dec[comp.offset + k * comp.slots + slot::VOLUME]))
                .sum();
        }
        for &r in rows {
            let m = month_of[r];
            let rev = actuals.revenue[r];
            if rev > Decimal::ZERO {
                if m < t_obs {
                    gross[i * t_obs + m] += dec_f64(rev);
                } else {
                    partial_bought[i] = true;
                }
            }
        }
    }

    // prior accruals
    let mut prior = vec![0.0; n * nc];
    if let Some(pa) = opts.prior_accruals {
        let pindex: HashMap<&str, usize> = population
            .partner_id
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), i))
            .collect();
        let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
        for r in 0..pa.len() {
            let i = *pindex.get(pa.partner_id[r].as_str()).ok_or_else(|| {
                Error::data(
                    &pa.table,
                    Some(r + 1),
                    Some("partner_id"),
                    format!(
                        "unknown partner '{}' (not in {})",
                        pa.partner_id[r], population.table
                    ),
                )
            })?;
            let c = prep_dec
                .components
                .iter()
                .position(|x| x.id == pa.component[r])
                .ok_or_else(|| {
                    Error::data(
                        &pa.table,
                        Some(r + 1),
                        Some("component"),
                        format!(
                            "unknown component '{}' (the programme has: {})",
                            pa.component[r],
                            prep_dec
                                .components
                                .iter()
                                .map(|x| x.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
            if let Some(first) = seen.insert((i, c), r) {
                return Err(Error::data(
                    &pa.table,
                    Some(r + 1),
                    Some("partner_id"),
                    format!(
                        "a prior accrual for partner '{}' and component '{}' is given twice (first in row {})",
                        pa.partner_id[r],
                        pa.component[r],
                        first + 1
                    ),
                ));
            }
            prior[i * nc + c] = dec_f64(pa.amount[r]);
        }
    }

    let obs = Observed {
        t_obs,
        partial,
        gross,
        partial_bought,
        measures,
    };
    let mut engine = CondEngine::new(programme, population, model, obs)?;
    engine.set_cancel(opts.cancel);
    let prep = engine.prep();
    let s_n = opts.scenarios;
    let nseg = population.segments.len();
    let threads = if opts.threads == 0 {
        rayon::current_num_threads()
    } else {
        opts.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Request(format!("cannot start {threads} worker threads: {e}")))?;

    let nl = engine.ladders().len();
    let ptw: usize = engine.ladders().iter().map(|(_, l)| l.tiers).sum();
    let mut payout = Vec::with_capacity(s_n);
    let mut payout_before = Vec::with_capacity(s_n);
    let mut partner_payout = Vec::with_capacity(s_n * n);
    let mut component_payout = Vec::with_capacity(s_n * nc);
    let mut segment_payout = Vec::with_capacity(s_n * nseg);
    let mut cash = Vec::with_capacity(s_n * kk);
    let mut pc_sum = vec![0.0; n * nc];
    let mut vol_sum = vec![0.0; n * nc];
    let mut reach = vec![0u32; n * ptw];
    let seg_of: Vec<usize> = (0..n).map(|i| engine.segment_of(i)).collect();
    let chunk = 32usize;
    let mut done = 0;
    while done < s_n {
        if let Some(c) = opts.cancel {
            if c.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
        }
        let end = (done + chunk).min(s_n);
        let outs: Vec<CondOut> = pool.install(|| {
            (done..end)
                .into_par_iter()
                .map_init(
                    || engine.work(),
                    |w, s| {
                        let mut o = CondOut::default();
                        engine.run_scenario(opts.seed, s as u64, w, &mut o);
                        o
                    },
                )
                .collect()
        });
        if let Some(c) = opts.cancel {
            if c.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
        }
        for o in outs {
            let before = o.totals[kk - 1];
            let after = prep.budget_total(before);
            let f = if before > 0.0 { after / before } else { 1.0 };
            payout.push(after);
            payout_before.push(before);
            let mut prev = 0.0;
            for k in 0..kk {
                let to_date = prep.budget_total(o.totals[k]);
                cash.push(to_date - prev);
                prev = to_date;
            }
            let mut seg = vec![0.0; nseg];
            let mut comp = vec![0.0; nc];
            for i in 0..n {
                let mut t = 0.0;
                for c in 0..nc {
                    let v = o.payable[i * nc + c] * f;
                    t += v;
                    comp[c] += v;
                    pc_sum[i * nc + c] += v;
                    vol_sum[i * nc + c] += o.volume[i * nc + c];
                }
                partner_payout.push(t);
                seg[seg_of[i]] += t;
                for (l, (_, lad)) in engine.ladders().iter().enumerate() {
                    let t = o.tier[i * nl + l] as usize;
                    for tt in 0..t.min(lad.tiers) {
                        reach[i * ptw + lad.partner_offset + tt] += 1;
                    }
                }
            }
            segment_payout.extend_from_slice(&seg);
            component_payout.extend_from_slice(&comp);
        }
        done = end;
        if let Some(cb) = opts.progress {
            cb(done, s_n);
        }
    }
    if let Some(c) = opts.cancel {
        if c.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
    }
    let sf = s_n as f64;
    let pc_mean: Vec<f64> = pc_sum.iter().map(|v| v / sf).collect();
    let volume_final: Vec<f64> = vol_sum.iter().map(|v| v / sf).collect();

    // the watch list
    let mut watch = Vec::new();
    let active = engine.active().to_vec();
    let wp = engine.watch_period();
    for i in 0..n {
        let baseline = engine.baseline_of(i);
        for (c, lad) in engine.ladders() {
            let c = *c;
            if !active[i * nc + c] {
                continue;
            }
            let comp = &prep.components[c];
            let (from, to) = match comp.measure {
                Measure::Period => (wp, wp),
                Measure::Cumulative => (0, kk - 1),
            };
            let mut window = vec![0.0; comp.slots];
            for k in from..=to.min(kk - 1) {
                for (s, x) in window.iter_mut().enumerate() {
                    *x += engine_measure(&engine, i, ml, comp.offset + k * comp.slots + s);
                }
            }
            let periods = match comp.measure {
                Measure::Period => 1,
                Measure::Cumulative => kk as u32,
            };
            let now = prep.evaluate(c, &window, periods, &baseline);
            if !now.applicable {
                continue;
            }
            let next = prep.next_tier(c, &window, periods, &baseline);
            let probs: Vec<f64> = (0..lad.tiers)
                .map(|t| reach[i * ptw + lad.partner_offset + t] as f64 / sf)
                .collect();
            let next_p = next.map(|(t, ..)| {
                let p = probs[(t as usize - 1).min(lad.tiers - 1)];
                Estimate {
                    value: p,
                    se: (p * (1.0 - p) / sf).sqrt(),
                }
            });
            watch.push(WatchEntry {
                partner_id: population.partner_id[i].clone(),
                segment: population.segment_name(i).to_owned(),
                component: comp.id.clone(),
                measure: match comp.measure {
                    Measure::Period => "period".into(),
                    Measure::Cumulative => "cumulative".into(),
                },
                period_label: match comp.measure {
                    Measure::Period => cal.label(wp as u32),
                    Measure::Cumulative => format!("to {}", cal.end()),
                },
                current_tier: now.tier,
                volume: now.volume,
                tiers: lad.tiers as u32,
                next_tier: next.map(|x| x.0),
                next_threshold: next.map(|x| x.1),
                shortfall: next.map(|x| x.2),
                next_tier_pays: next.map(|x| prep.round(x.3)),
                reach_probability: probs,
                next_tier_probability: next_p,
                churned: engine.churned(i),
            });
        }
    }

    let total_days = (end - start).num_days() as f64 + 1.0;
    let elapsed_share = ((as_of - start).num_days() as f64 + 1.0) / total_days;
    Ok(Forecast {
        programme: programme.name.clone(),
        currency: programme.currency.clone(),
        decimals: programme.decimals,
        as_of,
        seed: opts.seed,
        scenarios: s_n,
        confidence: opts.confidence,
        months_observed: t_obs.min(months),
        partial_month: if t_obs >= months { 0.0 } else { partial },
        budget: prep.budget,
        partner_ids: population.partner_id.clone(),
        partner_segments: (0..n)
            .map(|i| population.segment_name(i).to_owned())
            .collect(),
        segments: population.segments.clone(),
        components: prep.components.iter().map(|c| c.id.clone()).collect(),
        payout,
        payout_before_budget: payout_before,
        partner_payout,
        component_payout,
        segment_payout,
        cash,
        period_labels: (0..kk as u32).map(|k| cal.label(k)).collect(),
        period_ends: (0..kk as u32).map(|k| cal.period_end(k)).collect(),
        payment_dates: (0..kk as u32).map(|k| programme.payment_date(k)).collect(),
        pc_mean,
        active,
        volume_to_date,
        volume_month,
        volume_final,
        prior,
        churned: (0..n).map(|i| engine.churned(i)).collect(),
        observations: (0..n).map(|i| engine.observations(i)).collect(),
        elapsed_share,
        rounding: programme.rounding,
        watch,
    })
}

fn engine_measure(engine: &CondEngine, i: usize, ml: usize, j: usize) -> f64 {
    engine.actual_measure(i * ml + j)
}
