//! What a settlement produces: its [`Line`]s, the partner and programme [`Totals`], the
//! [`Standing`] against the next tier, and the [`Settlement`] that holds them (its lines as
//! columns, see `columns`), with its JSON output.

use super::columns::{LineColumns, Sources, AMOUNTS};
use crate::error::{Error, Result};
use crate::money;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

/// One line of a settlement: a partner, a component, a period.
///
/// `calculated + adj_component_cap + adj_exclusive_group + adj_partner_cap +
/// adj_minimum_payout + adj_budget_cut = payable`, exactly. Every amount is this period's
/// increment of the cumulative amount to date (so a negative `payable` is a claw-back).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Partner id.
    pub partner_id: String,
    /// Partner segment.
    pub segment: String,
    /// Component id.
    pub component: String,
    /// Component kind (`volume`, `growth`, `per_unit`, `bundle`, `logistics`).
    pub kind: String,
    /// Period number, 1-based.
    pub period: u32,
    /// Period label, e.g. `2027-Q1`.
    pub period_label: String,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Last day of the period.
    pub period_end: NaiveDate,
    /// What was measured: `revenue`, `units` or `orders` (qualifying orders).
    pub basis: String,
    /// Volume measured in the period (in scope, net or gross as the component says).
    pub volume_period: Decimal,
    /// Volume measured from the programme start to the period's end.
    pub volume_to_date: Decimal,
    /// Tier reached (0 = none; bundles: 1 when qualified). For `measure = cumulative`, on the
    /// volume to date.
    pub tier: u32,
    /// Threshold of the tier reached (growth: the growth fraction, e.g. 0.05).
    pub tier_threshold: Option<Decimal>,
    /// The reward applied, e.g. `3.5% retroactive`.
    pub reward: String,
    /// Amount calculated before caps: this period's increment of the entitlement.
    pub calculated: Decimal,
    /// Change due to the component cap.
    pub adj_component_cap: Decimal,
    /// Change due to the exclusive group.
    pub adj_exclusive_group: Decimal,
    /// Change due to the partner cap.
    pub adj_partner_cap: Decimal,
    /// Change due to the minimum payout (negative while below it, positive once released).
    pub adj_minimum_payout: Decimal,
    /// Change due to the programme budget cut.
    pub adj_budget_cut: Decimal,
    /// Amount payable for the period (negative: claw-back).
    pub payable: Decimal,
    /// Date the payment falls due.
    pub payment_date: NaiveDate,
    /// Explanation in words.
    pub explanation: String,
}

/// Totals of a set of lines (a partner, or the programme).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Sum of `calculated`.
    pub calculated: Decimal,
    /// Sum of `adj_component_cap`.
    pub adj_component_cap: Decimal,
    /// Sum of `adj_exclusive_group`.
    pub adj_exclusive_group: Decimal,
    /// Sum of `adj_partner_cap`.
    pub adj_partner_cap: Decimal,
    /// Sum of `adj_minimum_payout`.
    pub adj_minimum_payout: Decimal,
    /// Sum of `adj_budget_cut`.
    pub adj_budget_cut: Decimal,
    /// Sum of `payable`.
    pub payable: Decimal,
}

impl Totals {
    /// Zero totals written with the currency's `dp` decimal places.
    pub(super) fn zero(dp: u32) -> Totals {
        let z = money::at_scale(Decimal::ZERO, dp);
        Totals {
            calculated: z,
            adj_component_cap: z,
            adj_exclusive_group: z,
            adj_partner_cap: z,
            adj_minimum_payout: z,
            adj_budget_cut: z,
            payable: z,
        }
    }

    /// Add a line's amounts (`calculated`, the adjustments, `payable`); `None` if a sum
    /// overflows `Decimal`. Whether the sums stay exact is [`Totals::within`], asked once the
    /// lines are added.
    pub(super) fn add(&mut self, a: &[Decimal; AMOUNTS]) -> Option<()> {
        let add = |t: &mut Decimal, v: Decimal| -> Option<()> {
            // most adjustments are zero: adding a zero of no more places changes nothing
            if v.is_zero() && v.scale() <= t.scale() {
                return Some(());
            }
            *t = t.checked_add(v)?;
            Some(())
        };
        add(&mut self.calculated, a[0])?;
        add(&mut self.adj_component_cap, a[1])?;
        add(&mut self.adj_exclusive_group, a[2])?;
        add(&mut self.adj_partner_cap, a[3])?;
        add(&mut self.adj_minimum_payout, a[4])?;
        add(&mut self.adj_budget_cut, a[5])?;
        add(&mut self.payable, a[6])
    }

    /// Whether every sum is below `limit` ([`money::exact_limit`]), so that it keeps its
    /// minor units exactly.
    pub(super) fn within(&self, limit: Decimal) -> bool {
        self.amounts().iter().all(|x| x.abs() < limit)
    }

    /// The amounts in line order (`calculated`, the adjustments, `payable`).
    pub fn amounts(&self) -> [Decimal; AMOUNTS] {
        [
            self.calculated,
            self.adj_component_cap,
            self.adj_exclusive_group,
            self.adj_partner_cap,
            self.adj_minimum_payout,
            self.adj_budget_cut,
            self.payable,
        ]
    }
}

/// A partner's totals over the programme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerTotal {
    /// Partner id.
    pub partner_id: String,
    /// Segment.
    pub segment: String,
    /// Totals of the partner's lines.
    #[serde(flatten)]
    pub totals: Totals,
}

/// Where a partner stands against the next tier of a ladder (volume or growth component), in
/// the latest period with transactions (to date for `measure = cumulative`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    /// Partner id.
    pub partner_id: String,
    /// Component id.
    pub component: String,
    /// Period number (1-based) the standing refers to.
    pub period: u32,
    /// Its label.
    pub period_label: String,
    /// Tier reached (0 = none).
    pub tier: u32,
    /// Volume measured (in the basis).
    pub volume: Decimal,
    /// Next tier, if any.
    pub next_tier: Option<u32>,
    /// Volume needed for the next tier.
    pub next_threshold: Option<Decimal>,
    /// Volume still missing.
    pub shortfall: Option<Decimal>,
    /// What reaching the next tier would pay in addition (before caps), rounded.
    pub additional_payout: Option<Decimal>,
}

/// The result of [`settle`](super::settle).
///
/// Its lines are held as columns; [`Settlement::lines`] (or [`Settlement::partner_lines`])
/// builds [`Line`]s with their explanations when asked, and the `arrow` methods give the
/// columns as Arrow record batches and Parquet.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// Programme name.
    pub programme: String,
    /// Currency code.
    pub currency: String,
    /// Decimal places of the currency.
    pub decimals: u32,
    /// Totals per partner (sorted by id).
    pub partners: Vec<PartnerTotal>,
    /// Standing against the next tier per partner and ladder component.
    pub standing: Vec<Standing>,
    /// Programme totals.
    pub total: Totals,
    /// Whether the budget cut applied in any period.
    pub budget_binding: bool,
    pub(super) line_range: Vec<(usize, usize)>,
    /// Each partner's index in the partner table settled (in id order, as `partners`).
    pub(super) table_index: Vec<u32>,
    /// One line per partner (sorted by id), active component (by id) and period.
    pub(super) lines: LineColumns,
    pub(super) sources: Sources,
}

impl Settlement {
    /// Totals per partner, sorted by partner id.
    pub fn by_partner(&self) -> &[PartnerTotal] {
        &self.partners
    }

    /// Number of lines (one per partner, active component and period).
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Every line with its explanation (built now: for millions of lines prefer the columns,
    /// [`Settlement::lines_batch`], or [`Settlement::for_each_line`]).
    pub fn lines(&self) -> Result<Vec<Line>> {
        let mut out = Vec::with_capacity(self.lines.len());
        self.for_each_line(0..self.partners.len(), |_, l| {
            out.push(l);
            Ok(())
        })?;
        Ok(out)
    }

    /// The lines of one partner, with their explanations.
    pub fn partner_lines(&self, partner_id: &str) -> Result<Vec<Line>> {
        let i = self.partner_position(partner_id)?;
        let mut out = Vec::new();
        self.for_each_line(i..i + 1, |_, l| {
            out.push(l);
            Ok(())
        })?;
        Ok(out)
    }

    pub(super) fn partner_position(&self, partner_id: &str) -> Result<usize> {
        // the partners are sorted by id (unique in a partner table)
        let found = self
            .partners
            .binary_search_by(|p| p.partner_id.as_str().cmp(partner_id));
        found.ok().ok_or_else(|| {
            Error::Request(format!(
                "unknown partner '{partner_id}': it is not in the settlement's partner table"
            ))
        })
    }

    /// The whole settlement as JSON (amounts as exact decimal strings).
    pub fn to_json(&self) -> Result<String> {
        #[derive(Serialize)]
        struct View<'a> {
            programme: &'a str,
            currency: &'a str,
            decimals: u32,
            lines: LinesJson<'a>,
            partners: &'a [PartnerTotal],
            standing: &'a [Standing],
            total: &'a Totals,
            budget_binding: bool,
        }
        let view = View {
            programme: &self.programme,
            currency: &self.currency,
            decimals: self.decimals,
            lines: LinesJson(self),
            partners: &self.partners,
            standing: &self.standing,
            total: &self.total,
            budget_binding: self.budget_binding,
        };
        serde_json::to_string_pretty(&view)
            .map_err(|e| Error::Request(format!("cannot write JSON: {e}")))
    }
}

/// The lines of a settlement serialized one at a time (explanations built as they go).
struct LinesJson<'a>(&'a Settlement);

impl Serialize for LinesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let s = self.0;
        let mut seq = serializer.serialize_seq(Some(s.line_count()))?;
        let mut failed = None;
        let r = s.for_each_line(0..s.partners.len(), |_, l| {
            seq.serialize_element(&l).map_err(|e| {
                failed = Some(e);
                Error::Request("cannot write JSON".into())
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        r.map_err(serde::ser::Error::custom)?;
        seq.end()
    }
}

/// Column names of [`Line`] in CSV output.
pub const LINE_COLUMNS: [&str; 23] = [
    "partner_id",
    "segment",
    "component",
    "kind",
    "period",
    "period_label",
    "period_start",
    "period_end",
    "basis",
    "volume_period",
    "volume_to_date",
    "tier",
    "tier_threshold",
    "reward",
    "calculated",
    "adj_component_cap",
    "adj_exclusive_group",
    "adj_partner_cap",
    "adj_minimum_payout",
    "adj_budget_cut",
    "payable",
    "payment_date",
    "explanation",
];
