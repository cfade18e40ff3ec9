//! The list of everything a simulation reports per scenario or per partner: the one place
//! that says which outcomes and matrices a [`SimResult`] holds, their shape, unit and
//! meaning, and which of them are summarised.
//!
//! Front ends are driven from this list instead of naming the fields themselves: the Python
//! binding builds its result columns from [`SimResult::outcomes`], the type stub documents
//! the same names, and tests (`outcomes::tests` here, `tests/python/test_contract.py`) fail
//! when the list, the struct, the binding's output, the stub and the Python wrapper drift.
//! To add an outcome: add the field to [`SimResult`], then one [`Outcome`] entry below (in
//! the order it should appear in tables).

pub mod arrow;

use serde::Serialize;

use crate::engine::SimResult;
use crate::summary::{Estimate, Summary};

/// The layout of an outcome's values (row-major when two-dimensional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// One value per scenario.
    Scenario,
    /// Scenarios × segments ([`SimResult::segments`]).
    ScenarioBySegment,
    /// Scenarios × components ([`SimResult::components`]).
    ScenarioByComponent,
    /// Scenarios × tiers of every ladder, tier 0 (below the first threshold) included:
    /// Σ (tiers + 1) columns ([`crate::engine::Ladder::offset`]).
    ScenarioByTier,
    /// Scenarios × programme months ([`SimResult::months`]).
    ScenarioByMonth,
    /// Scenarios × months from the programme start to the last payment
    /// ([`SimResult::cash_months`]).
    ScenarioByCashMonth,
    /// One value per partner ([`SimResult::partner_ids`]).
    Partner,
    /// Partners × tiers 1..=tiers of every ladder: Σ tiers columns
    /// ([`crate::engine::Ladder::partner_offset`]).
    PartnerByTier,
}

impl Shape {
    /// Rows and columns of this shape in `result`; `None` columns for a one-dimensional
    /// outcome.
    pub fn dims(self, result: &SimResult) -> (usize, Option<usize>) {
        let scenarios = result.scenarios;
        let partners = result.partner_ids.len();
        match self {
            Shape::Scenario => (scenarios, None),
            Shape::ScenarioBySegment => (scenarios, Some(result.segments.len())),
            Shape::ScenarioByComponent => (scenarios, Some(result.components.len())),
            Shape::ScenarioByTier => (
                scenarios,
                Some(result.ladders.iter().map(|l| l.tiers + 1).sum()),
            ),
            Shape::ScenarioByMonth => (scenarios, Some(result.months)),
            Shape::ScenarioByCashMonth => (scenarios, Some(result.cash_months)),
            Shape::Partner => (partners, None),
            Shape::PartnerByTier => (partners, Some(result.ladders.iter().map(|l| l.tiers).sum())),
        }
    }

    /// Whether the rows are scenarios (rather than partners).
    pub fn per_scenario(self) -> bool {
        !matches!(self, Shape::Partner | Shape::PartnerByTier)
    }
}

/// What an outcome's values measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// An amount in the programme's currency.
    Money,
    /// A ratio or a probability (0.25 = 25%).
    Fraction,
    /// A number of things (purchases, partners).
    Count,
    /// Yes or no.
    Flag,
}

/// How an outcome is summarised over the scenarios (see [`SimResult::outcome_summaries`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summarised {
    /// Not summarised (a breakdown; the front end aggregates it as it needs).
    No,
    /// Mean, sd and percentiles of the finite values ([`SimResult::summarize`]).
    Plain,
    /// The total payout: as `Plain`, with the probability that the budget binds when there is
    /// a budget ([`SimResult::payout_summary`]).
    Payout,
    /// The payout before the budget: as `Plain`, with the probability of exceeding the budget
    /// ([`SimResult::payout_before_budget_summary`]).
    PayoutBeforeBudget,
    /// A yes/no outcome summarised as the probability of yes, reported under this name.
    Probability(&'static str),
}

/// The values of one outcome, borrowed from the result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Values<'a> {
    /// Real numbers (NaN where the outcome is undefined, see its description).
    F64(&'a [f64]),
    /// Whole counts.
    U32(&'a [u32]),
    /// Yes/no.
    Bool(&'a [bool]),
}

impl Values<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::U32(v) => v.len(),
            Values::Bool(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Borrow a result field as [`Values`].
trait AsValues {
    fn as_values(&self) -> Values<'_>;
}

impl AsValues for Vec<f64> {
    fn as_values(&self) -> Values<'_> {
        Values::F64(self)
    }
}

impl AsValues for Vec<u32> {
    fn as_values(&self) -> Values<'_> {
        Values::U32(self)
    }
}

impl AsValues for Vec<bool> {
    fn as_values(&self) -> Values<'_> {
        Values::Bool(self)
    }
}

/// One outcome or matrix of a simulation result.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Its name: the [`SimResult`] field, the column or key front ends use.
    pub name: &'static str,
    /// Its layout.
    pub shape: Shape,
    /// What it measures.
    pub unit: Unit,
    /// How it is summarised.
    pub summarised: Summarised,
    /// One sentence for documentation.
    pub description: &'static str,
    values: for<'a> fn(&'a SimResult) -> Values<'a>,
}

impl Outcome {
    /// The outcome's values in `result` (row-major, [`Shape::dims`]).
    pub fn values<'a>(&self, result: &'a SimResult) -> Values<'a> {
        (self.values)(result)
    }
}

/// An entry of [`OUTCOMES`]: the name is the field's, so the two cannot differ.
macro_rules! outcome {
    ($field:ident, $shape:ident, $unit:ident, $summarised:expr, $description:literal) => {
        Outcome {
            name: stringify!($field),
            shape: Shape::$shape,
            unit: Unit::$unit,
            summarised: $summarised,
            description: $description,
            values: |r| r.$field.as_values(),
        }
    };
}

use Summarised::{No, Plain};

/// Every outcome and matrix of a [`SimResult`], in table order.
pub const OUTCOMES: &[Outcome] = &[
    outcome!(payout, Scenario, Money, Summarised::Payout,
        "Total payout after the budget."),
    outcome!(payout_before_budget, Scenario, Money, Summarised::PayoutBeforeBudget,
        "Total payout before the budget (after partner caps and minimum payout)."),
    outcome!(budget_binds, Scenario, Flag, Summarised::Probability("budget_binding"),
        "Whether the budget binds (the total before the budget exceeds it)."),
    outcome!(revenue, Scenario, Money, Plain,
        "Net revenue (after returns) with the programme."),
    outcome!(revenue_counterfactual, Scenario, Money, Plain,
        "Net revenue the same partners would have bought without the programme."),
    outcome!(incremental_revenue, Scenario, Money, Plain,
        "Revenue with minus without the programme, less purchases pulled forward from after it."),
    outcome!(incremental_margin, Scenario, Money, Plain,
        "Incremental gross margin (NaN when a partner's margin rate is unknown)."),
    outcome!(roi, Scenario, Fraction, Plain,
        "(Incremental margin - payout) / payout (NaN when nothing is paid)."),
    outcome!(payout_counterfactual, Scenario, Money, Plain,
        "What the programme would pay (after the budget) on the counterfactual purchases."),
    outcome!(deadweight_share, Scenario, Fraction, Plain,
        "min(payout counterfactual, payout) / payout, both before the budget (NaN when nothing is paid)."),
    outcome!(stretches, Scenario, Count, Plain,
        "Number of stretch purchases made."),
    outcome!(segment_payout, ScenarioBySegment, Money, No,
        "Payout after the budget per segment."),
    outcome!(segment_revenue, ScenarioBySegment, Money, No,
        "Net revenue with the programme per segment."),
    outcome!(segment_revenue_counterfactual, ScenarioBySegment, Money, No,
        "Net revenue without the programme per segment."),
    outcome!(segment_incremental_revenue, ScenarioBySegment, Money, No,
        "Incremental revenue per segment."),
    outcome!(segment_incremental_margin, ScenarioBySegment, Money, No,
        "Incremental gross margin per segment (NaN with a partner of unknown margin rate)."),
    outcome!(segment_payout_counterfactual, ScenarioBySegment, Money, No,
        "Payout (after the budget, pro rata) on the segment's counterfactual purchases."),
    outcome!(segment_roi, ScenarioBySegment, Fraction, No,
        "ROI on the segment's figures (NaN when the segment is paid nothing)."),
    outcome!(segment_deadweight_share, ScenarioBySegment, Fraction, No,
        "Deadweight share on the segment's figures (NaN when the segment is paid nothing)."),
    outcome!(component_payout, ScenarioByComponent, Money, No,
        "Payout after the budget per component."),
    outcome!(accrual, ScenarioByMonth, Money, No,
        "Accrued payout (after the budget) per programme month."),
    outcome!(cash, ScenarioByCashMonth, Money, No,
        "Cash paid per month from the programme start, on the payment dates."),
    outcome!(tier_counts, ScenarioByTier, Count, No,
        "Partners in each tier (highest reached) of each ladder."),
    outcome!(partner_expected_payout, Partner, Money, No,
        "Expected payout of each partner (after the budget, pro rata)."),
    outcome!(partner_expected_payout_before_budget, Partner, Money, No,
        "Expected payout of each partner before the budget."),
    outcome!(partner_tier_probability, PartnerByTier, Fraction, No,
        "Probability that each partner reaches each tier (tier >= t) of each ladder."),
];

/// A summary of one outcome: a distribution or a probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OutcomeSummary {
    /// Mean, sd and percentiles.
    Distribution(Summary),
    /// The probability of a yes/no outcome.
    Probability(Estimate),
}

impl SimResult {
    /// Every outcome and matrix this result holds ([`OUTCOMES`]).
    pub fn outcomes() -> &'static [Outcome] {
        OUTCOMES
    }

    /// The summaries of the summarised outcomes, in [`OUTCOMES`] order, each under the name
    /// front ends report it by.
    pub fn outcome_summaries(&self) -> Vec<(&'static str, OutcomeSummary)> {
        OUTCOMES
            .iter()
            .filter_map(|o| {
                let x = match o.values(self) {
                    Values::F64(x) => x,
                    Values::Bool(flags) => {
                        let Summarised::Probability(name) = o.summarised else {
                            return None;
                        };
                        let p = crate::summary::probability(flags.iter().copied());
                        return Some((name, OutcomeSummary::Probability(p)));
                    }
                    Values::U32(_) => return None,
                };
                let summary = match o.summarised {
                    Summarised::No | Summarised::Probability(_) => return None,
                    Summarised::Plain => self.summarize(x),
                    Summarised::Payout => self.payout_summary(),
                    Summarised::PayoutBeforeBudget => self.payout_before_budget_summary(),
                };
                Some((o.name, OutcomeSummary::Distribution(summary)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
