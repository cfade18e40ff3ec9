//! What a simulation returns: [`SimResult`] (per-scenario outcomes, per-partner
//! expectations and their summaries and schedules) and [`Comparison`] of designs.

use crate::summary::{self, cumulative_bands, Estimate, PathBands, Summary};

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
    /// min(payout counterfactual, payout) / payout, both before the budget (its pro-rata cut
    /// falls on both alike), NaN when nothing is paid.
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
    /// min(segment payout counterfactual, segment payout) / segment payout, both before the
    /// budget (NaN when the segment is paid nothing): scenarios × segments.
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

    /// Number `K` of parameter draws the run had ([`super::SimOptions::parameter_draws`]; 0
    /// without).
    pub parameter_draws: usize,
    /// The parameter draw each scenario ran under (empty without draws).
    pub parameter_draw: Vec<u32>,
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

impl PairedDifference {
    /// The summaries of the differences, each under its outcome's name, in field order.
    pub fn summaries(&self) -> [(&'static str, &Summary); 6] {
        [
            ("payout", &self.payout),
            ("revenue", &self.revenue),
            ("incremental_margin", &self.incremental_margin),
            ("roi", &self.roi),
            ("deadweight_share", &self.deadweight_share),
            ("budget_binding", &self.budget_binding),
        ]
    }
}

/// Results of [`compare`](crate::engine::compare).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Design names, in the order given.
    pub names: Vec<String>,
    /// One result per design (same scenarios, common random numbers).
    pub results: Vec<SimResult>,
    /// Each design after the first against the first.
    pub differences: Vec<PairedDifference>,
}

impl SimResult {
    /// The accrual schedule before the year: expected accrued liability to date at each
    /// programme month end (each period's payout accrued over its months in proportion to
    /// their revenue), with P10–P90 bands and standard errors.
    pub fn accrual_schedule(&self) -> PathBands {
        cumulative_bands(&self.accrual, self.scenarios, self.months)
    }

    /// The cash schedule: expected cash paid to date at each month end, counted from the
    /// programme start to the last payment date, with P10–P90 bands and standard errors.
    pub fn cash_schedule(&self) -> PathBands {
        cumulative_bands(&self.cash, self.scenarios, self.cash_months)
    }

    /// How much of `values`' variance over the scenarios (a per-scenario outcome, e.g.
    /// `payout`) comes from parameter uncertainty ([`crate::summary::variance_split`] over the
    /// scenarios grouped by their parameter draw); `None` without parameter draws or with too
    /// few scenarios to tell.
    pub fn parameter_variance(&self, values: &[f64]) -> Option<crate::summary::VarianceSplit> {
        if self.parameter_draws == 0 || values.len() != self.parameter_draw.len() {
            return None;
        }
        crate::summary::variance_split(values, &self.parameter_draw)
    }

    /// [`SimResult::parameter_variance`] of the per-scenario outcome named `outcome` (one of
    /// [`crate::outcomes::OUTCOMES`] with one value per scenario); [`crate::Error::Request`]
    /// for another name.
    pub fn parameter_variance_of(
        &self,
        outcome: &str,
    ) -> crate::Result<Option<crate::summary::VarianceSplit>> {
        use crate::outcomes::{Shape, Values, OUTCOMES};
        let found = OUTCOMES
            .iter()
            .find(|o| o.name == outcome && matches!(o.shape, Shape::Scenario));
        let Some(o) = found else {
            let names: Vec<&str> = OUTCOMES
                .iter()
                .filter(|o| matches!(o.shape, Shape::Scenario))
                .map(|o| o.name)
                .collect();
            return Err(crate::Error::Request(format!(
                "parameter_variance: unknown outcome '{outcome}', expected one of {}",
                names.join(", ")
            )));
        };
        let values: Vec<f64> = match o.values(self) {
            Values::F64(v) => v.to_vec(),
            Values::U32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Values::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
        };
        Ok(self.parameter_variance(&values))
    }
}
