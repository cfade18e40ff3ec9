//! The exact settlement engine: what every partner is owed from actual purchases, to the
//! cent, line by line, with an explanation a partner can check by hand.
//!
//! [`settle`] measures each partner's transactions per component and period, runs the
//! calculation kernel ([`crate::rules`]) in exact decimals, applies the programme budget, and
//! produces one [`Line`] per partner, component and period with every adjustment as a signed
//! column, so that `calculated + adjustments = payable` on every line and the partner and
//! programme totals are sums of lines. The definitions are in `docs/calculations.md`.

use crate::data::{Partners, Resolved, Transactions};
use crate::error::{Error, Result};
use crate::money;
use crate::programme::{Basis, Compiled, GrowthApplies, Measure, TierMethod, UnitsAbove};
use crate::rules::{ladder_terms, slot, Baseline, Outcome, Prepared, PreparedRule, RewardKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

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
    fn zero(dp: u32) -> Totals {
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

    /// Add a line's amounts; `None` if a sum reaches `limit` ([`money::exact_limit`]).
    fn add(&mut self, l: &Line, limit: Decimal) -> Option<()> {
        let add = |t: &mut Decimal, v: Decimal| -> Option<()> {
            *t = t.checked_add(v).filter(|x| x.abs() < limit)?;
            Some(())
        };
        add(&mut self.calculated, l.calculated)?;
        add(&mut self.adj_component_cap, l.adj_component_cap)?;
        add(&mut self.adj_exclusive_group, l.adj_exclusive_group)?;
        add(&mut self.adj_partner_cap, l.adj_partner_cap)?;
        add(&mut self.adj_minimum_payout, l.adj_minimum_payout)?;
        add(&mut self.adj_budget_cut, l.adj_budget_cut)?;
        add(&mut self.payable, l.payable)
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

/// The result of [`settle`].
#[derive(Debug, Clone, Serialize)]
pub struct Settlement {
    /// Programme name.
    pub programme: String,
    /// Currency code.
    pub currency: String,
    /// Decimal places of the currency.
    pub decimals: u32,
    /// One line per partner (sorted by id), component (by id) and period.
    pub lines: Vec<Line>,
    /// Totals per partner (sorted by id).
    pub partners: Vec<PartnerTotal>,
    /// Standing against the next tier per partner and ladder component.
    pub standing: Vec<Standing>,
    /// Programme totals.
    pub total: Totals,
    /// Whether the budget cut applied in any period.
    pub budget_binding: bool,
    #[serde(skip)]
    index: HashMap<String, usize>,
    #[serde(skip)]
    line_range: Vec<(usize, usize)>,
}

impl Settlement {
    /// Totals per partner, sorted by partner id.
    pub fn by_partner(&self) -> &[PartnerTotal] {
        &self.partners
    }

    /// The lines of one partner.
    pub fn partner_lines(&self, partner_id: &str) -> Result<&[Line]> {
        let i = self.partner_position(partner_id)?;
        let (a, b) = self.line_range[i];
        Ok(&self.lines[a..b])
    }

    fn partner_position(&self, partner_id: &str) -> Result<usize> {
        self.index.get(partner_id).copied().ok_or_else(|| {
            Error::Request(format!(
                "unknown partner '{partner_id}': it is not in the settlement's partner table"
            ))
        })
    }

    /// A statement for one partner: every line's explanation, the totals and the standing
    /// against the next tiers.
    pub fn explain(&self, partner_id: &str) -> Result<String> {
        let i = self.partner_position(partner_id)?;
        let p = &self.partners[i];
        let dp = self.decimals;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} — statement for partner {} (segment {})",
            self.programme,
            p.partner_id,
            or_dash(&p.segment)
        );
        let mut current = String::new();
        for l in self.partner_lines(partner_id)? {
            if l.component != current {
                current = l.component.clone();
                let _ = writeln!(s, "\nComponent {} ({}):", l.component, l.kind);
            }
            let _ = writeln!(
                s,
                "  {} payable {} {} (due {}): {}",
                l.period_label,
                money_text(l.payable, dp),
                self.currency,
                l.payment_date,
                l.explanation
            );
        }
        let t = &p.totals;
        let _ = writeln!(
            s,
            "\nTotal calculated {} {}",
            money_text(t.calculated, dp),
            self.currency
        );
        for (name, v) in [
            ("component caps", t.adj_component_cap),
            ("exclusive groups", t.adj_exclusive_group),
            ("partner cap", t.adj_partner_cap),
            ("minimum payout", t.adj_minimum_payout),
            ("budget cut", t.adj_budget_cut),
        ] {
            if !v.is_zero() {
                let _ = writeln!(s, "  {name}: {}", signed_money(v, dp));
            }
        }
        let _ = writeln!(
            s,
            "Total payable {} {}",
            money_text(t.payable, dp),
            self.currency
        );
        let standing: Vec<&Standing> = self
            .standing
            .iter()
            .filter(|x| x.partner_id == partner_id)
            .collect();
        if !standing.is_empty() {
            let _ = writeln!(s, "\nStanding against the next tier:");
            for x in standing {
                match (
                    x.next_tier,
                    x.next_threshold,
                    x.shortfall,
                    x.additional_payout,
                ) {
                    (Some(n), Some(t), Some(short), Some(add)) => {
                        let _ = writeln!(
                            s,
                            "  {} ({}): tier {} with {}; tier {} at {} is {} away and would pay {} more",
                            x.component,
                            x.period_label,
                            x.tier,
                            num_text(x.volume, dp),
                            n,
                            num_text(t, dp),
                            num_text(short, dp),
                            money_text(add, dp)
                        );
                    }
                    _ => {
                        let _ = writeln!(
                            s,
                            "  {} ({}): tier {} with {}; no higher tier",
                            x.component,
                            x.period_label,
                            x.tier,
                            num_text(x.volume, dp)
                        );
                    }
                }
            }
        }
        Ok(s)
    }

    /// The lines as CSV text (header and one row per line).
    pub fn lines_csv(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for l in &self.lines {
            w.serialize(l)
                .map_err(|e| Error::Request(format!("cannot write the lines as CSV: {e}")))?;
        }
        if self.lines.is_empty() {
            w.write_record(LINE_COLUMNS)
                .map_err(|e| Error::Request(e.to_string()))?;
        }
        let bytes = w.into_inner().map_err(|e| Error::Request(e.to_string()))?;
        Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields"))
    }

    /// Write the lines as CSV to `path`.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let text = self.lines_csv()?;
        std::fs::write(path.as_ref(), text).map_err(|e| Error::io(path.as_ref(), e))
    }

    /// The whole settlement as JSON (amounts as exact decimal strings).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::Request(format!("cannot write JSON: {e}")))
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

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// Format with thousands separators and exactly `dp` decimals (half-up for display).
pub fn money_text(v: Decimal, dp: u32) -> String {
    let r = v.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    // not `{:.*}`: rust_decimal's formatting with a precision panics beyond 32 characters
    // (an amount of 10^28 with its cents); `to_string` of a value at its scale does not
    group(&money::at_scale(r, dp).to_string())
}

fn signed_money(v: Decimal, dp: u32) -> String {
    if v.is_sign_negative() && !v.is_zero() {
        format!("−{}", money_text(-v, dp))
    } else {
        format!("+{}", money_text(v, dp))
    }
}

/// A volume: money-like with `dp` decimals when it has a fraction, else an integer, grouped.
fn num_text(v: Decimal, dp: u32) -> String {
    let n = v.normalize();
    if n.scale() == 0 {
        group(&n.to_string())
    } else if n.scale() <= dp {
        money_text(n, dp)
    } else {
        group(&n.to_string())
    }
}

fn group(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}{frac}")
}

/// A volume in its basis: revenue as money, units as a number.
fn vol_text(v: Decimal, basis: Basis, dp: u32) -> String {
    match basis {
        Basis::Revenue => money_text(v, dp),
        Basis::Units => num_text(v, dp),
    }
}

/// An unrounded amount: with the currency's decimals when exact, else every decimal.
fn amount_text(v: Decimal, dp: u32) -> String {
    let n = v.normalize();
    if n.scale() <= dp {
        money_text(n, dp)
    } else {
        group(&n.to_string())
    }
}

fn percent_text(rate: Decimal) -> String {
    format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
}

fn method_name(m: TierMethod) -> &'static str {
    match m {
        TierMethod::Retroactive => "retroactive",
        TierMethod::Incremental => "incremental",
        TierMethod::Rolling => "rolling",
        TierMethod::Total => "total",
    }
}

fn basis_name(b: Basis) -> &'static str {
    match b {
        Basis::Revenue => "revenue",
        Basis::Units => "units",
    }
}

fn kind_name(r: &PreparedRule<Decimal>) -> &'static str {
    match r {
        PreparedRule::Ladder { .. } => "volume",
        PreparedRule::Growth { .. } => "growth",
        PreparedRule::PerUnit { .. } => "per_unit",
        PreparedRule::Bundle { .. } => "bundle",
        PreparedRule::Logistics { .. } => "logistics",
    }
}

/// Everything computed for one partner before the budget.
struct PartnerWork {
    partner: usize,
    active: Vec<bool>,
    measures: Vec<Decimal>,
    outcome: Vec<Outcome<Decimal>>,
    entitled: Vec<Decimal>,
    capped: Vec<Decimal>,
    exclusive: Vec<Decimal>,
    partner_capped: Vec<Decimal>,
    payable: Vec<Decimal>,
    budgeted: Vec<Decimal>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OrderKey {
    Id(u32),
    Row(usize),
}

/// Settle a programme on actual transactions.
///
/// Checks the data against the programme first (unknown partners, dates outside the
/// programme, undeclared segments or categories, a missing category column), each error
/// naming the table, row and column. The result does not depend on the order of partners,
/// transactions or components.
pub fn settle(p: &Compiled, partners: &Partners, tx: &Transactions) -> Result<Settlement> {
    partners.check_segments(p)?;
    let res = tx.resolve(partners, p)?;
    let prep: Prepared<Decimal> = Prepared::new(p);
    money::take_overflow();
    let limit = money::exact_limit(prep.decimals);
    let overflow = |pi: usize, component: Option<&str>, what: &str| {
        overflow_error(&tx.table, &partners.ids[pi], component, what)
    };
    let kk = prep.periods;
    let nc = prep.components.len();

    // rows per partner, partners in id order
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); partners.len()];
    for (i, &pi) in res.partner.iter().enumerate() {
        rows_of[pi].push(i);
    }
    let mut order: Vec<usize> = (0..partners.len()).collect();
    order.sort_by(|&a, &b| partners.ids[a].cmp(&partners.ids[b]));

    let mut scratch = prep.scratch();
    let mut works: Vec<PartnerWork> = Vec::with_capacity(order.len());
    let mut orders: HashMap<OrderKey, (NaiveDate, Decimal, Decimal)> = HashMap::new();
    for &pi in &order {
        let active: Vec<bool> = p
            .components
            .iter()
            .map(|c| {
                c.scope
                    .includes_partner(&partners.ids[pi], &partners.segments[pi])
            })
            .collect();
        let mut m = vec![Decimal::ZERO; prep.measure_len()];
        fill_measures(
            &prep,
            p,
            tx,
            &res,
            &rows_of[pi],
            &active,
            &mut m,
            &mut orders,
        );
        let baseline = Baseline {
            revenue: partners.baseline_revenue[pi],
            units: partners.baseline_units[pi],
        };
        prep.settle_partner(&m, &active, &baseline, &mut scratch);
        if money::take_overflow() || !within(&scratch.entitled, nc, kk, limit) {
            let c = overflowing_component(&prep, &m, &active, &baseline, limit);
            return Err(overflow(
                pi,
                c.map(|c| prep.components[c].id.as_str()),
                "its rebate",
            ));
        }
        works.push(PartnerWork {
            partner: pi,
            active,
            measures: m,
            outcome: scratch.outcome.clone(),
            entitled: scratch.entitled.clone(),
            capped: scratch.capped.clone(),
            exclusive: scratch.exclusive.clone(),
            partner_capped: scratch.partner_capped.clone(),
            budgeted: scratch.payable.clone(),
            payable: scratch.payable.clone(),
        });
    }

    // programme budget, period by period on amounts to date
    let mut budget_binding = false;
    let mut programme_total = vec![Decimal::ZERO; kk];
    for k in 0..kk {
        let total = money::checked_sum(
            works
                .iter()
                .flat_map(|w| (0..nc).map(move |c| w.payable[c * kk + k])),
        )
        .filter(|t| t.abs() < limit)
        .ok_or_else(|| programme_overflow(&tx.table, &p.calendar.label(k as u32)))?;
        programme_total[k] = total;
        if prep.budget_binds(total) {
            budget_binding = true;
            let weights: Vec<Decimal> = works
                .iter()
                .flat_map(|w| (0..nc).map(move |c| w.payable[c * kk + k]))
                .collect();
            let shares = money::allocate(
                prep.budget.expect("binding budget"),
                &weights,
                prep.decimals,
            )
            .ok_or_else(|| programme_overflow(&tx.table, &p.calendar.label(k as u32)))?;
            for (j, share) in shares.into_iter().enumerate() {
                works[j / nc].budgeted[(j % nc) * kk + k] = share;
            }
        }
    }

    // lines
    let cal = &p.calendar;
    let dp = prep.decimals;
    let mut lines = Vec::new();
    let mut partner_totals = Vec::with_capacity(works.len());
    let mut line_range = Vec::with_capacity(works.len());
    let mut index = HashMap::with_capacity(works.len());
    let mut total = Totals::zero(dp);
    let ctx = Ctx {
        p,
        prep: &prep,
        dp,
        programme_total: &programme_total,
    };
    for (wi, w) in works.iter().enumerate() {
        let pid = &partners.ids[w.partner];
        let seg = &partners.segments[w.partner];
        let first = lines.len();
        let mut pt = Totals::zero(dp);
        for c in 0..nc {
            if !w.active[c] {
                continue;
            }
            for k in 0..kk {
                let line = ctx.line(w, c, k, pid, seg, cal);
                if money::take_overflow() {
                    return Err(overflow(
                        w.partner,
                        Some(&prep.components[c].id),
                        "the explanation of its rebate",
                    ));
                }
                pt.add(&line, limit)
                    .ok_or_else(|| overflow(w.partner, None, "its total"))?;
                lines.push(line);
            }
        }
        for l in &lines[first..] {
            total
                .add(l, limit)
                .ok_or_else(|| programme_overflow(&tx.table, "the programme"))?;
        }
        index.insert(pid.clone(), wi);
        line_range.push((first, lines.len()));
        partner_totals.push(PartnerTotal {
            partner_id: pid.clone(),
            segment: seg.clone(),
            totals: pt,
        });
    }

    // standing against the next tier, in the latest period with transactions
    let current = res.period.iter().copied().max().unwrap_or(0) as usize;
    let mut standing = Vec::new();
    for w in &works {
        let baseline = Baseline {
            revenue: partners.baseline_revenue[w.partner],
            units: partners.baseline_units[w.partner],
        };
        for (c, pc) in prep.components.iter().enumerate() {
            if !w.active[c]
                || !matches!(
                    pc.rule,
                    PreparedRule::Ladder { .. } | PreparedRule::Growth { .. }
                )
            {
                continue;
            }
            let (window, periods) = window_measures(&prep, &w.measures, c, current);
            let o = prep.evaluate(c, &window, periods, &baseline);
            if !o.applicable {
                continue;
            }
            let next = prep.next_tier(c, &window, periods, &baseline);
            if money::take_overflow() {
                return Err(overflow(
                    w.partner,
                    Some(&pc.id),
                    "its standing against the next tier",
                ));
            }
            standing.push(Standing {
                partner_id: partners.ids[w.partner].clone(),
                component: pc.id.clone(),
                period: current as u32 + 1,
                period_label: cal.label(current as u32),
                tier: o.tier,
                volume: o.volume,
                next_tier: next.map(|n| n.0),
                next_threshold: next.map(|n| n.1),
                shortfall: next.map(|n| n.2),
                additional_payout: next.map(|n| prep.round(n.3)),
            });
        }
    }

    Ok(Settlement {
        programme: p.name.clone(),
        currency: p.currency.clone(),
        decimals: dp,
        lines,
        partners: partner_totals,
        standing,
        total,
        budget_binding,
        index,
        line_range,
    })
}

/// The error for an exact amount of partner `partner_id` that overflows `Decimal` (about
/// ±7.9·10^28) while computing `what` (of `component`, where one is to blame).
fn overflow_error(table: &str, partner_id: &str, component: Option<&str>, what: &str) -> Error {
    let comp = component
        .map(|c| format!(", component '{c}'"))
        .unwrap_or_default();
    Error::data(
        table,
        None,
        None,
        format!(
            "partner '{partner_id}'{comp}: {what} is too large to compute exactly (beyond about 7.9e28): check this partner's revenue and quantities and the programme's amounts (e.g. an amount per unit times a huge quantity)"
        ),
    )
}

/// The error for a programme-wide sum (the total to date of `period`, a budget cut, or the
/// programme totals) that overflows `Decimal`.
fn programme_overflow(table: &str, period: &str) -> Error {
    Error::data(
        table,
        None,
        None,
        format!(
            "the total payable of {period} over all partners is too large to compute exactly (beyond about 7.9e28): check the revenue and quantities and the programme's amounts"
        ),
    )
}

/// Whether a partner's entitlements to date (components × periods, `entitled`) and their sum
/// over the components in every period stay below `limit`: every later stage (caps, groups,
/// partner cap, minimum payout) only lowers them, so the partner's amounts are then exact.
fn within(entitled: &[Decimal], nc: usize, kk: usize, limit: Decimal) -> bool {
    (0..kk).all(|k| {
        money::checked_sum((0..nc).map(|c| entitled[c * kk + k].abs())).is_some_and(|t| t < limit)
    })
}

/// After an overflow in a partner's pipeline (or amounts beyond the exact limit): the
/// component whose own calculation overflows, if one does alone (else the partner's total
/// over its components, a partner cap or minimum payout, overflowed). Clears the overflow
/// flag.
fn overflowing_component(
    prep: &Prepared<Decimal>,
    m: &[Decimal],
    active: &[bool],
    baseline: &Baseline<Decimal>,
    limit: Decimal,
) -> Option<usize> {
    money::take_overflow();
    let mut scratch = prep.scratch();
    let (nc, kk) = (active.len(), prep.periods);
    let found = (0..nc).filter(|&c| active[c]).find(|&c| {
        let only: Vec<bool> = (0..nc).map(|o| o == c).collect();
        prep.settle_partner(m, &only, baseline, &mut scratch);
        money::take_overflow() || !within(&scratch.entitled, nc, kk, limit)
    });
    money::take_overflow();
    found
}

/// The measures of component `c` over the window its standing is measured on: the period
/// alone (`measure = period`) or the programme to date (`cumulative`).
fn window_measures(
    prep: &Prepared<Decimal>,
    m: &[Decimal],
    c: usize,
    k: usize,
) -> (Vec<Decimal>, u32) {
    let pc = &prep.components[c];
    let from = if pc.measure == Measure::Cumulative {
        0
    } else {
        k
    };
    let mut w = vec![Decimal::ZERO; pc.slots];
    for j in from..=k {
        for (s, x) in w.iter_mut().enumerate() {
            *x += m[prep.index(c, j, s)];
        }
    }
    (w, (k - from + 1) as u32)
}

/// Measure a partner's rows into the kernel's flat measures (per component, period, slot).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_measures(
    prep: &Prepared<Decimal>,
    p: &Compiled,
    tx: &Transactions,
    res: &Resolved,
    rows: &[usize],
    active: &[bool],
    m: &mut [Decimal],
    orders: &mut HashMap<OrderKey, (NaiveDate, Decimal, Decimal)>,
) {
    for (c, pc) in prep.components.iter().enumerate() {
        if !active[c] {
            continue;
        }
        let comp = &p.components[c];
        let gross = comp.returns == crate::programme::Returns::Gross;
        orders.clear();
        for &i in rows {
            let (q, r) = (tx.quantity[i], tx.revenue[i]);
            if gross
                && (q.is_sign_negative() && !q.is_zero() || r.is_sign_negative() && !r.is_zero())
            {
                continue;
            }
            let cat = tx.category_of(i);
            if !comp.scope.includes_category(cat) {
                continue;
            }
            let k = res.period[i] as usize;
            match &pc.rule {
                PreparedRule::Ladder { basis, .. } | PreparedRule::Growth { basis, .. } => {
                    m[prep.index(c, k, slot::VOLUME)] +=
                        if *basis == Basis::Revenue { r } else { q };
                    m[prep.index(c, k, slot::REVENUE)] += r;
                    m[prep.index(c, k, slot::UNITS)] += q;
                }
                PreparedRule::PerUnit { .. } => {
                    m[prep.index(c, k, slot::VOLUME)] += q;
                    m[prep.index(c, k, slot::REVENUE)] += r;
                    m[prep.index(c, k, slot::UNITS)] += q;
                }
                PreparedRule::Bundle {
                    basis, categories, ..
                } => {
                    let Some(j) = cat
                        .and_then(|cat| categories.binary_search_by(|x| x.as_str().cmp(cat)).ok())
                    else {
                        continue;
                    };
                    let v = if *basis == Basis::Revenue { r } else { q };
                    m[prep.index(c, k, slot::VOLUME)] += v;
                    m[prep.index(c, k, slot::REVENUE)] += r;
                    m[prep.index(c, k, slot::UNITS)] += q;
                    m[prep.index(c, k, slot::bundle_volume(j))] += v;
                    m[prep.index(c, k, slot::bundle_revenue(j))] += r;
                }
                PreparedRule::Logistics { .. } => {
                    let key = match tx.order.as_ref().and_then(|o| o[i]) {
                        Some(id) => OrderKey::Id(id),
                        None => OrderKey::Row(i),
                    };
                    let e = orders
                        .entry(key)
                        .or_insert((tx.date[i], Decimal::ZERO, Decimal::ZERO));
                    e.0 = e.0.min(tx.date[i]);
                    e.1 += q;
                    e.2 += r;
                }
            }
        }
        if matches!(pc.rule, PreparedRule::Logistics { .. }) {
            for (date, q, r) in orders.values() {
                if !prep.order_qualifies(c, *q) {
                    continue;
                }
                let k = p.calendar.period_of(*date).expect("dates checked") as usize;
                m[prep.index(c, k, slot::VOLUME)] += Decimal::ONE;
                m[prep.index(c, k, slot::REVENUE)] += *r;
                m[prep.index(c, k, slot::UNITS)] += *q;
            }
        }
    }
}

struct Ctx<'a> {
    p: &'a Compiled,
    prep: &'a Prepared<Decimal>,
    dp: u32,
    programme_total: &'a [Decimal],
}

impl Ctx<'_> {
    fn line(
        &self,
        w: &PartnerWork,
        c: usize,
        k: usize,
        pid: &str,
        seg: &str,
        cal: &crate::calendar::Calendar,
    ) -> Line {
        let prep = self.prep;
        let pc = &prep.components[c];
        let kk = prep.periods;
        let at = |v: &[Decimal], k: usize| v[c * kk + k];
        let diff = |v: &[Decimal]| {
            if k == 0 {
                at(v, 0)
            } else {
                at(v, k) - at(v, k - 1)
            }
        };
        // every amount with exactly the currency's decimal places (a stage's zero is a bare 0)
        let scaled = |v: Decimal| money::at_scale(v, self.dp);
        let calculated = scaled(diff(&w.entitled));
        let adj_component_cap = scaled(diff(&w.capped) - calculated);
        let adj_exclusive_group = scaled(diff(&w.exclusive) - diff(&w.capped));
        let adj_partner_cap = scaled(diff(&w.partner_capped) - diff(&w.exclusive));
        let adj_minimum_payout = scaled(diff(&w.payable) - diff(&w.partner_capped));
        let adj_budget_cut = scaled(diff(&w.budgeted) - diff(&w.payable));
        let payable = scaled(diff(&w.budgeted));
        debug_assert_eq!(
            calculated
                + adj_component_cap
                + adj_exclusive_group
                + adj_partner_cap
                + adj_minimum_payout
                + adj_budget_cut,
            payable
        );
        let vol_slot = if matches!(pc.rule, PreparedRule::PerUnit { .. }) {
            slot::UNITS
        } else {
            slot::VOLUME
        };
        let volume_period = w.measures[prep.index(c, k, vol_slot)];
        let volume_to_date: Decimal = (0..=k)
            .map(|j| w.measures[prep.index(c, j, vol_slot)])
            .sum();
        let o = w.outcome[c * kk + k];
        let (basis, tier_threshold, reward) = match &pc.rule {
            PreparedRule::Ladder {
                basis,
                method,
                tiers,
                ..
            } => (
                basis_name(*basis),
                (o.tier > 0).then(|| tiers[o.tier as usize - 1].threshold),
                if o.tier > 0 {
                    format!(
                        "{} {}",
                        reward_text(
                            tiers[o.tier as usize - 1].kind,
                            tiers[o.tier as usize - 1].value,
                            self.dp
                        ),
                        method_name(*method)
                    )
                } else {
                    String::new()
                },
            ),
            PreparedRule::Growth {
                basis,
                applies_to,
                tiers,
            } => (
                basis_name(*basis),
                (o.tier > 0).then(|| tiers[o.tier as usize - 1].threshold - Decimal::ONE),
                if o.tier > 0 {
                    let t = &tiers[o.tier as usize - 1];
                    format!(
                        "{} on {}",
                        reward_text(t.kind, t.value, self.dp),
                        if *applies_to == GrowthApplies::Whole {
                            "whole volume"
                        } else {
                            "growth above baseline"
                        }
                    )
                } else {
                    String::new()
                },
            ),
            PreparedRule::PerUnit { amount, .. } => (
                "units",
                None,
                format!("{} per unit", money_text(*amount, self.dp)),
            ),
            PreparedRule::Bundle {
                basis, rate, fixed, ..
            } => (
                basis_name(*basis),
                None,
                match (rate, fixed) {
                    (Some(r), _) => format!("{} of bundle revenue", percent_text(*r)),
                    (None, Some(f)) => format!("fixed {}", money_text(*f, self.dp)),
                    _ => String::new(),
                },
            ),
            PreparedRule::Logistics {
                per_order, rate, ..
            } => (
                "orders",
                None,
                match (per_order, rate) {
                    (Some(a), _) => format!("{} per order", money_text(*a, self.dp)),
                    (None, Some(r)) => format!("{} of order revenue", percent_text(*r)),
                    _ => String::new(),
                },
            ),
        };
        let explanation = self.explanation(
            w,
            c,
            k,
            calculated,
            [
                adj_component_cap,
                adj_exclusive_group,
                adj_partner_cap,
                adj_minimum_payout,
                adj_budget_cut,
            ],
            payable,
        );
        Line {
            partner_id: pid.to_owned(),
            segment: seg.to_owned(),
            component: pc.id.clone(),
            kind: kind_name(&pc.rule).to_owned(),
            period: k as u32 + 1,
            period_label: cal.label(k as u32),
            period_start: cal.period_start(k as u32),
            period_end: cal.period_end(k as u32),
            basis: basis.to_owned(),
            volume_period,
            volume_to_date,
            tier: o.tier,
            tier_threshold,
            reward,
            calculated,
            adj_component_cap,
            adj_exclusive_group,
            adj_partner_cap,
            adj_minimum_payout,
            adj_budget_cut,
            payable,
            payment_date: self.p.payment_date(k as u32),
            explanation,
        }
    }

    /// What the rule computed, in words, for the window of period `k`.
    fn rule_text(&self, w: &PartnerWork, c: usize, k: usize) -> String {
        let prep = self.prep;
        let pc = &prep.components[c];
        let dp = self.dp;
        let o = w.outcome[c * prep.periods + k];
        let cumulative = pc.measure == Measure::Cumulative;
        let to_date = if cumulative { " to date" } else { "" };
        let rounded = prep.round(o.amount);
        match &pc.rule {
            PreparedRule::Ladder {
                basis,
                method,
                tiers,
                basis_cap,
            } => {
                let bname = basis_name(*basis);
                let v = o.volume;
                if o.tier == 0 {
                    return format!(
                        "{} {bname}{to_date}, below tier 1 ({}): nothing earned",
                        vol_text(v, *basis, dp),
                        vol_text(tiers[0].threshold, *basis, dp)
                    );
                }
                let (window, _) = window_measures(prep, &w.measures, c, k);
                let win = if cumulative {
                    window
                } else {
                    (0..pc.slots)
                        .map(|s| w.measures[prep.index(c, k, s)])
                        .collect()
                };
                let vt = |x: Decimal| vol_text(x, *basis, dp);
                let mut terms: Vec<String> = Vec::new();
                ladder_terms(
                    tiers,
                    *method,
                    *basis,
                    *basis_cap,
                    v,
                    win[slot::REVENUE],
                    win[slot::UNITS],
                    |i, q, a| {
                        let t = &tiers[i];
                        let what = match t.kind {
                            RewardKind::Fixed => format!("fixed {}", money_text(t.value, dp)),
                            kind => {
                                let on = match (method, i + 1 == o.tier as usize) {
                                    (TierMethod::Retroactive | TierMethod::Total, _)
                                    | (TierMethod::Rolling, true) => {
                                        format!("all {}", vt(q))
                                    }
                                    _ => format!("{} from {}", vt(q), vt(t.threshold)),
                                };
                                format!("{} on {on}", reward_text(kind, t.value, dp))
                            }
                        };
                        terms.push(format!("{what} ({})", amount_text(a, dp)));
                    },
                );
                let t = &tiers[o.tier as usize - 1];
                let mut s = format!(
                    "reached tier {} ({}) with {} {bname}{to_date}; ",
                    o.tier,
                    vt(t.threshold),
                    vt(v),
                );
                if let Some(cap) = basis_cap {
                    if v > *cap {
                        let _ = write!(s, "paid on at most {} (basis cap); ", vt(*cap));
                    }
                }
                if *method == TierMethod::Retroactive {
                    let what = match t.kind {
                        RewardKind::Fixed => {
                            format!("fixed {} for tier {}", money_text(t.value, dp), o.tier)
                        }
                        kind => format!(
                            "{} retroactive on all {}",
                            reward_text(kind, t.value, dp),
                            vt(o.paid_on)
                        ),
                    };
                    let _ = write!(s, "{what} = {}", money_text(rounded, dp));
                } else {
                    let _ = write!(
                        s,
                        "{}: {} = {}",
                        method_name(*method),
                        terms.join(" + "),
                        money_text(rounded, dp)
                    );
                }
                s
            }
            PreparedRule::Growth {
                basis,
                applies_to,
                tiers,
            } => {
                let bname = basis_name(*basis);
                let v = o.volume;
                match o.baseline {
                    None => {
                        format!("no baseline {bname} for this partner: growth cannot be measured, nothing earned")
                    }
                    Some(b) if !o.applicable => {
                        format!(
                            "baseline {bname} {} is not positive: growth cannot be measured, nothing earned",
                            num_text(b, dp)
                        )
                    }
                    Some(b) => {
                        let growth = v
                            .checked_div(b)
                            .and_then(|x| x.checked_sub(Decimal::ONE))
                            .and_then(|x| x.checked_mul(Decimal::ONE_HUNDRED))
                            .map(|g| g.round_dp(2).normalize().to_string())
                            .unwrap_or_else(|| "beyond 10^28".to_owned());
                        let g = format!(
                            "{} {bname}{to_date} against a baseline of {} (growth {growth}%)",
                            vol_text(v, *basis, dp),
                            vol_text(b, *basis, dp),
                        );
                        if o.tier == 0 {
                            return format!(
                                "{g}, below tier 1 (+{}): nothing earned",
                                percent_text(tiers[0].threshold - Decimal::ONE)
                            );
                        }
                        let t = &tiers[o.tier as usize - 1];
                        let on = match applies_to {
                            GrowthApplies::Whole => {
                                format!("all {}", vol_text(o.paid_on, *basis, dp))
                            }
                            GrowthApplies::Growth => {
                                format!("the {} above baseline", vol_text(o.paid_on, *basis, dp))
                            }
                        };
                        let what = match t.kind {
                            RewardKind::Fixed => format!("fixed {}", money_text(t.value, dp)),
                            kind => format!("{} on {on}", reward_text(kind, t.value, dp)),
                        };
                        format!(
                            "{g} reached tier {} (+{}); {what} = {}",
                            o.tier,
                            percent_text(t.threshold - Decimal::ONE),
                            money_text(rounded, dp)
                        )
                    }
                }
            }
            PreparedRule::PerUnit { amount, above, .. } => {
                if !o.applicable {
                    return "no baseline units for this partner: units above baseline cannot be measured, nothing earned"
                        .to_owned();
                }
                let base = match (above, o.baseline) {
                    (UnitsAbove::None, _) | (_, None) => String::new(),
                    (UnitsAbove::Baseline, Some(b)) => {
                        format!(" above the baseline of {}", num_text(b, dp))
                    }
                    (UnitsAbove::Quantity(_), Some(b)) => format!(" above {}", num_text(b, dp)),
                };
                format!(
                    "{} units{to_date}, {} paid{base}; {} per unit = {}",
                    num_text(o.volume, dp),
                    num_text(o.paid_on, dp),
                    money_text(*amount, dp),
                    money_text(rounded, dp)
                )
            }
            PreparedRule::Bundle {
                basis,
                categories,
                minimums,
                rate,
                fixed,
            } => {
                let win: Vec<Decimal> = if cumulative {
                    window_measures(prep, &w.measures, c, k).0
                } else {
                    (0..pc.slots)
                        .map(|s| w.measures[prep.index(c, k, s)])
                        .collect()
                };
                let parts: Vec<String> = categories
                    .iter()
                    .zip(minimums)
                    .enumerate()
                    .map(|(j, (cat, min))| {
                        let v = win[slot::bundle_volume(j)];
                        let t = |x: Decimal| vol_text(x, *basis, dp);
                        format!(
                            "{cat} {} {} {}",
                            t(v),
                            if v >= *min { "≥" } else { "<" },
                            t(*min)
                        )
                    })
                    .collect();
                if o.tier == 0 {
                    return format!(
                        "bundle not qualified{to_date} ({}): nothing earned",
                        parts.join(", ")
                    );
                }
                match (rate, fixed) {
                    (Some(r), _) => format!(
                        "bundle qualified{to_date} ({}); {} on bundle revenue {} = {}",
                        parts.join(", "),
                        percent_text(*r),
                        money_text(o.paid_on, dp),
                        money_text(rounded, dp)
                    ),
                    _ => format!(
                        "bundle qualified{to_date} ({}); fixed {}",
                        parts.join(", "),
                        money_text(fixed.unwrap_or_default(), dp)
                    ),
                }
            }
            PreparedRule::Logistics {
                min_quantity,
                per_order,
                rate,
            } => {
                let win: Vec<Decimal> = if cumulative {
                    window_measures(prep, &w.measures, c, k).0
                } else {
                    (0..pc.slots)
                        .map(|s| w.measures[prep.index(c, k, s)])
                        .collect()
                };
                let n = win[slot::VOLUME];
                let head = format!(
                    "{} order(s){to_date} of at least {} units",
                    num_text(n, dp),
                    num_text(*min_quantity, dp)
                );
                match (per_order, rate) {
                    (Some(a), _) => format!(
                        "{head}; {} per order = {}",
                        money_text(*a, dp),
                        money_text(rounded, dp)
                    ),
                    (None, Some(r)) => format!(
                        "{head}; {} on their revenue {} = {}",
                        percent_text(*r),
                        money_text(win[slot::REVENUE], dp),
                        money_text(rounded, dp)
                    ),
                    _ => head,
                }
            }
        }
    }

    fn explanation(
        &self,
        w: &PartnerWork,
        c: usize,
        k: usize,
        calculated: Decimal,
        adj: [Decimal; 5],
        payable: Decimal,
    ) -> String {
        let prep = self.prep;
        let pc = &prep.components[c];
        let kk = prep.periods;
        let dp = self.dp;
        let at = |v: &[Decimal], k: usize| v[c * kk + k];
        let mut parts = vec![self.rule_text(w, c, k)];
        if pc.measure == Measure::Cumulative && k > 0 {
            let before = at(&w.entitled, k - 1);
            parts.push(format!(
                "less {} earned to the end of {} = {}",
                money_text(before, dp),
                self.p.calendar.label(k as u32 - 1),
                money_text(calculated, dp)
            ));
        }
        let [cap, excl, pcap, min, cut] = adj;
        if let Some(limit) = pc.cap {
            if !cap.is_zero() {
                parts.push(format!(
                    "component cap {} reached: {}",
                    money_text(limit, dp),
                    signed_money(cap, dp)
                ));
            }
        }
        if !excl.is_zero() {
            let g = pc.group.map(|g| prep.groups[g].as_str()).unwrap_or("");
            let winner = prep
                .components
                .iter()
                .enumerate()
                .filter(|(o, po)| {
                    po.group == pc.group && at_c(&w.exclusive, *o, kk, k) > Decimal::ZERO
                })
                .map(|(_, po)| po.id.as_str())
                .next();
            parts.push(match winner {
                Some(win) if win != pc.id => format!(
                    "exclusive group '{g}': only the best component counts, to date that is '{win}': {}",
                    signed_money(excl, dp)
                ),
                _ => format!(
                    "exclusive group '{g}': this component is now the best one: {}",
                    signed_money(excl, dp)
                ),
            });
        }
        if let Some(limit) = prep.partner_cap {
            // the kernel summed the same amounts (checked) for the partner cap
            let total = money::checked_sum(
                (0..prep.components.len()).map(|o| at_c(&w.exclusive, o, kk, k)),
            )
            .unwrap_or(Decimal::MAX);
            if !pcap.is_zero() {
                parts.push(format!(
                    "partner cap {} applied (all components to date {}): {}",
                    money_text(limit, dp),
                    money_text(total, dp),
                    signed_money(pcap, dp)
                ));
            } else if total > limit {
                parts.push(format!(
                    "partner cap {} applies to date",
                    money_text(limit, dp)
                ));
            } else if !calculated.is_zero() {
                parts.push(format!("partner cap {} not reached", money_text(limit, dp)));
            }
        }
        if let Some(limit) = prep.minimum_payout {
            if min.is_sign_negative() && !min.is_zero() {
                parts.push(format!(
                    "minimum payout {} not reached to date: {} carried forward",
                    money_text(limit, dp),
                    signed_money(min, dp)
                ));
            } else if !min.is_zero() {
                parts.push(format!(
                    "minimum payout {} reached: {} carried forward released",
                    money_text(limit, dp),
                    signed_money(min, dp)
                ));
            }
        }
        if !cut.is_zero() {
            let b = prep.budget.unwrap_or_default();
            let t = self.programme_total[k];
            parts.push(if t > b {
                format!(
                    "budget cut: programme total to date {} exceeds the budget {}, paid pro rata: {}",
                    money_text(t, dp),
                    money_text(b, dp),
                    signed_money(cut, dp)
                )
            } else {
                format!(
                    "budget cut of earlier periods reversed (programme within budget to date): {}",
                    signed_money(cut, dp)
                )
            });
        }
        let mut s = parts.join("; ");
        if payable.is_sign_negative() && !payable.is_zero() {
            let _ = write!(
                s,
                "; claw-back: {} is deducted from earlier payments",
                money_text(-payable, dp)
            );
        } else if adj.iter().any(|a| !a.is_zero()) {
            let _ = write!(s, "; payable {}", money_text(payable, dp));
        }
        s
    }
}

fn at_c(v: &[Decimal], c: usize, kk: usize, k: usize) -> Decimal {
    v[c * kk + k]
}

fn reward_text(kind: RewardKind, value: Decimal, dp: u32) -> String {
    match kind {
        RewardKind::Rate => percent_text(value),
        RewardKind::PerUnit => format!("{} per unit", money_text(value, dp)),
        RewardKind::Fixed => format!("fixed {}", money_text(value, dp)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_formats() {
        assert_eq!(money_text(Decimal::new(102340000, 2), 2), "1,023,400.00");
        assert_eq!(money_text(Decimal::new(-5, 1), 2), "-0.50");
        assert_eq!(num_text(Decimal::from(1200), 2), "1,200");
        assert_eq!(percent_text(Decimal::new(35, 3)), "3.5%");
    }

    /// The campaign's `decimal-format` class: rust_decimal's `{:.3}` of 2^95 (29 digits) panicked
    /// with `CapacityError`; `money_text` must format any `Decimal` at any number of places.
    #[test]
    fn money_text_never_panics() {
        let two95 = Decimal::from_i128_with_scale(39614081257132168796771975168, 0);
        assert_eq!(
            money_text(two95, 0),
            "39,614,081,257,132,168,796,771,975,168"
        );
        // 29 digits cannot keep 3 places: rust_decimal lowers the scale (no panic)
        assert!(money_text(two95, 3).starts_with("39,614,081,257,132,168,796,771,975,168"));
        let values = [
            Decimal::MAX,
            Decimal::MIN,
            two95,
            -two95,
            Decimal::from_i128_with_scale(1, 28),
            Decimal::from_i128_with_scale(-1, 28),
            Decimal::from_i128_with_scale(79228162514264337593543950335, 28),
            Decimal::new(5, 1),
            Decimal::ZERO,
        ];
        for v in values {
            for dp in [0, 1, 2, 3, 4, 8, 27, 28, 29, 40, u32::MAX] {
                let t = money_text(v, dp);
                assert!(!t.is_empty(), "{v} at {dp}");
                let _ = num_text(v, dp);
                let _ = signed_money(v, dp);
            }
        }
    }
}
