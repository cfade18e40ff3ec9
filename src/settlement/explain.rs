//! Explanations in words: for every line, what the rule computed and each adjustment
//! (component cap, exclusive group, partner cap, minimum payout, budget cut); and the
//! statement of one partner ([`Settlement::explain`]).

use super::measure::window_measures;
use super::result::{Settlement, Standing};
use super::settle::{Ctx, PartnerWork};
use super::text::{
    amount_text, basis_name, method_name, money_text, num_text, or_dash, percent_text, reward_text,
    signed_money, vol_text,
};
use crate::error::Result;
use crate::money;
use crate::programme::{Basis, GrowthApplies, Measure, TierMethod, UnitsAbove};
use crate::rules::{ladder_terms, slot, Outcome, PTier, PreparedRule, RewardKind};
use rust_decimal::Decimal;
use std::fmt::Write as _;

impl Settlement {
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
}

impl Ctx<'_> {
    /// The window's measures of component `c` for period `k`: to date for `measure =
    /// cumulative`, else the period's own.
    fn window(&self, w: &PartnerWork, c: usize, k: usize) -> Vec<Decimal> {
        let prep = self.prep;
        let pc = &prep.components[c];
        if pc.measure == Measure::Cumulative {
            window_measures(prep, &w.measures, c, k).0
        } else {
            (0..pc.slots)
                .map(|s| w.measures[prep.index(c, k, s)])
                .collect()
        }
    }

    /// The words for the baseline of component `c`'s window of period `k` when the partner
    /// has monthly baselines in `basis` (`prior-year Q2 baseline`, `prior-year baseline to
    /// date (programme months 1–6)`); `None` for an annual baseline prorated to the window.
    fn baseline_words(&self, w: &PartnerWork, basis: Basis, c: usize, k: usize) -> Option<String> {
        let monthly = match basis {
            Basis::Revenue => w.monthly[0],
            Basis::Units => w.monthly[1],
        };
        if !monthly {
            return None;
        }
        let mpp = self.prep.months_per_period as usize;
        Some(match self.prep.components[c].measure {
            Measure::Period => {
                let label = self.p.calendar.label(k as u32);
                let short = match label.split_once('-') {
                    // `2027-Q2`, `2027-H1`, `2027-03`: the period of the prior year
                    Some((y, rest)) if y.len() == 4 && !label.starts_with('P') => {
                        if mpp == 1 {
                            format!("month {rest}")
                        } else {
                            rest.to_owned()
                        }
                    }
                    _ => format!("programme months {}–{}", k * mpp + 1, (k + 1) * mpp),
                };
                format!("prior-year {short} baseline")
            }
            Measure::Cumulative => format!(
                "prior-year baseline to date (programme months 1–{})",
                (k + 1) * mpp
            ),
        })
    }

    /// What the rule computed, in words, for the window of period `k`.
    fn rule_text(&self, w: &PartnerWork, c: usize, k: usize) -> String {
        let prep = self.prep;
        let pc = &prep.components[c];
        let dp = self.dp;
        let o = w.outcome[c * prep.periods + k];
        let to_date = if pc.measure == Measure::Cumulative {
            " to date"
        } else {
            ""
        };
        let rounded = prep.round(o.amount);
        match &pc.rule {
            PreparedRule::Ladder {
                basis,
                method,
                tiers,
                basis_cap,
            } => {
                if o.tier == 0 {
                    return format!(
                        "{} {}{to_date}, below tier 1 ({}): nothing earned",
                        vol_text(o.volume, *basis, dp),
                        basis_name(*basis),
                        vol_text(tiers[0].threshold, *basis, dp)
                    );
                }
                let ladder = LadderText {
                    basis: *basis,
                    method: *method,
                    tiers,
                    basis_cap: *basis_cap,
                    dp,
                };
                ladder.reached(&o, &self.window(w, c, k), to_date, rounded)
            }
            PreparedRule::Growth {
                basis,
                applies_to,
                tiers,
            } => {
                let source = self.baseline_words(w, *basis, c, k);
                growth_text(
                    *basis,
                    *applies_to,
                    tiers,
                    &o,
                    to_date,
                    source.as_deref(),
                    rounded,
                    dp,
                )
            }
            PreparedRule::PerUnit { amount, above, .. } => {
                if !o.applicable {
                    return "no baseline units for this partner: units above baseline cannot be measured, nothing earned"
                        .to_owned();
                }
                let base = match (above, o.baseline) {
                    (UnitsAbove::None, _) | (_, None) => String::new(),
                    (UnitsAbove::Baseline, Some(b)) => {
                        let source = self.baseline_words(w, Basis::Units, c, k);
                        let source = source.as_deref().unwrap_or("baseline");
                        format!(" above the {source} of {}", num_text(b, dp))
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
                let bundle = BundleText {
                    basis: *basis,
                    categories,
                    minimums,
                    rate: *rate,
                    fixed: *fixed,
                    dp,
                };
                bundle.text(&o, &self.window(w, c, k), to_date, rounded)
            }
            PreparedRule::Logistics {
                min_quantity,
                per_order,
                rate,
            } => {
                let win = self.window(w, c, k);
                let head = format!(
                    "{} order(s){to_date} of at least {} units",
                    num_text(win[slot::VOLUME], dp),
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

    /// The explanation of a line: the rule's words, then one clause per adjustment that
    /// applies (`adj`: component cap, exclusive group, partner cap, minimum payout, budget
    /// cut), then the claw-back or the payable.
    pub(super) fn explanation(
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
        let periods = prep.periods;
        let dp = self.dp;
        let at = |v: &[Decimal], k: usize| v[c * periods + k];
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
            parts.push(self.group_clause(w, c, k, excl));
        }
        if let Some(clause) = self.partner_cap_clause(w, k, calculated, pcap) {
            parts.push(clause);
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

    /// The exclusive group's clause: which component counts to date, and the change `excl`.
    fn group_clause(&self, w: &PartnerWork, c: usize, k: usize, excl: Decimal) -> String {
        let prep = self.prep;
        let pc = &prep.components[c];
        let dp = self.dp;
        let g = pc.group.map(|g| prep.groups[g].as_str()).unwrap_or("");
        let winner = prep
            .components
            .iter()
            .enumerate()
            .filter(|(o, po)| {
                po.group == pc.group && at_c(&w.exclusive, *o, prep.periods, k) > Decimal::ZERO
            })
            .map(|(_, po)| po.id.as_str())
            .next();
        match winner {
            Some(win) if win != pc.id => format!(
                "exclusive group '{g}': only the best component counts, to date that is '{win}': {}",
                signed_money(excl, dp)
            ),
            _ => format!(
                "exclusive group '{g}': this component is now the best one: {}",
                signed_money(excl, dp)
            ),
        }
    }

    /// The partner cap's clause, if the programme has one: applied (the change `pcap`),
    /// applying to date, or not reached (said only when the line earned something).
    fn partner_cap_clause(
        &self,
        w: &PartnerWork,
        k: usize,
        calculated: Decimal,
        pcap: Decimal,
    ) -> Option<String> {
        let prep = self.prep;
        let dp = self.dp;
        let limit = prep.partner_cap?;
        // the kernel summed the same amounts (checked) for the partner cap
        let total = money::checked_sum(
            (0..prep.components.len()).map(|o| at_c(&w.exclusive, o, prep.periods, k)),
        )
        .unwrap_or(Decimal::MAX);
        if !pcap.is_zero() {
            Some(format!(
                "partner cap {} applied (all components to date {}): {}",
                money_text(limit, dp),
                money_text(total, dp),
                signed_money(pcap, dp)
            ))
        } else if total > limit {
            Some(format!(
                "partner cap {} applies to date",
                money_text(limit, dp)
            ))
        } else if !calculated.is_zero() {
            Some(format!("partner cap {} not reached", money_text(limit, dp)))
        } else {
            None
        }
    }
}

/// Entry `(c, k)` of a components × `periods` matrix.
fn at_c(v: &[Decimal], c: usize, periods: usize, k: usize) -> Decimal {
    v[c * periods + k]
}

/// A volume ladder as its explanation needs it.
struct LadderText<'a> {
    basis: Basis,
    method: TierMethod,
    tiers: &'a [PTier<Decimal>],
    basis_cap: Option<Decimal>,
    dp: u32,
}

impl LadderText<'_> {
    fn volume(&self, x: Decimal) -> String {
        vol_text(x, self.basis, self.dp)
    }

    /// The words of a ladder whose outcome `o` reached a tier, on the window's measures
    /// `win`, paying `rounded`.
    fn reached(
        &self,
        o: &Outcome<Decimal>,
        win: &[Decimal],
        to_date: &str,
        rounded: Decimal,
    ) -> String {
        let (tiers, method, dp) = (self.tiers, self.method, self.dp);
        let v = o.volume;
        let mut terms: Vec<String> = Vec::new();
        ladder_terms(
            tiers,
            method,
            self.basis,
            self.basis_cap,
            v,
            win[slot::REVENUE],
            win[slot::UNITS],
            |i, q, a| terms.push(self.term(i, q, a, o.tier)),
        );
        let t = &tiers[o.tier as usize - 1];
        let mut s = format!(
            "reached tier {} ({}) with {} {}{to_date}; ",
            o.tier,
            self.volume(t.threshold),
            self.volume(v),
            basis_name(self.basis),
        );
        if let Some(cap) = self.basis_cap {
            if v > cap {
                let _ = write!(s, "paid on at most {} (basis cap); ", self.volume(cap));
            }
        }
        if method == TierMethod::Retroactive {
            let what = match t.kind {
                RewardKind::Fixed => {
                    format!("fixed {} for tier {}", money_text(t.value, dp), o.tier)
                }
                kind => format!(
                    "{} retroactive on all {}",
                    reward_text(kind, t.value, dp),
                    self.volume(o.paid_on)
                ),
            };
            let _ = write!(s, "{what} = {}", money_text(rounded, dp));
        } else {
            let _ = write!(
                s,
                "{}: {} = {}",
                method_name(method),
                terms.join(" + "),
                money_text(rounded, dp)
            );
        }
        s
    }

    /// One term of the amount: tier `i`'s reward on quantity `q`, giving `a`, for a ladder
    /// that reached tier `reached` (1-based).
    fn term(&self, i: usize, q: Decimal, a: Decimal, reached: u32) -> String {
        let t = &self.tiers[i];
        let what = match t.kind {
            RewardKind::Fixed => format!("fixed {}", money_text(t.value, self.dp)),
            kind => {
                let on = match (self.method, i + 1 == reached as usize) {
                    (TierMethod::Retroactive | TierMethod::Total, _)
                    | (TierMethod::Rolling, true) => {
                        format!("all {}", self.volume(q))
                    }
                    _ => format!("{} from {}", self.volume(q), self.volume(t.threshold)),
                };
                format!("{} on {on}", reward_text(kind, t.value, self.dp))
            }
        };
        format!("{what} ({})", amount_text(a, self.dp))
    }
}

/// The words of a growth ladder's outcome `o`, paying `rounded`; `source` names a baseline
/// from the monthly columns ([`Ctx::baseline_words`]), `None` for the annual one prorated.
#[allow(clippy::too_many_arguments)]
fn growth_text(
    basis: Basis,
    applies_to: GrowthApplies,
    tiers: &[PTier<Decimal>],
    o: &Outcome<Decimal>,
    to_date: &str,
    source: Option<&str>,
    rounded: Decimal,
    dp: u32,
) -> String {
    let bname = basis_name(basis);
    let v = o.volume;
    let b = match o.baseline {
        None => {
            return format!(
                "no baseline {bname} for this partner: growth cannot be measured, nothing earned"
            )
        }
        Some(b) if !o.applicable => {
            return format!(
                "baseline {bname} {} is not positive: growth cannot be measured, nothing earned",
                num_text(b, dp)
            )
        }
        Some(b) => b,
    };
    let growth = v
        .checked_div(b)
        .and_then(|x| x.checked_sub(Decimal::ONE))
        .and_then(|x| x.checked_mul(Decimal::ONE_HUNDRED))
        .map(|g| g.round_dp(2).normalize().to_string())
        .unwrap_or_else(|| "beyond 10^28".to_owned());
    let against = match source {
        Some(s) => format!("the {s} of"),
        None => "a baseline of".to_owned(),
    };
    let g = format!(
        "{} {bname}{to_date} against {against} {} (growth {growth}%)",
        vol_text(v, basis, dp),
        vol_text(b, basis, dp),
    );
    if o.tier == 0 {
        return format!(
            "{g}, below tier 1 (+{}): nothing earned",
            percent_text(tiers[0].threshold - Decimal::ONE)
        );
    }
    let t = &tiers[o.tier as usize - 1];
    let on = match applies_to {
        GrowthApplies::Whole => format!("all {}", vol_text(o.paid_on, basis, dp)),
        GrowthApplies::Growth => {
            format!("the {} above baseline", vol_text(o.paid_on, basis, dp))
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

/// A bundle as its explanation needs it.
struct BundleText<'a> {
    basis: Basis,
    categories: &'a [String],
    minimums: &'a [Decimal],
    rate: Option<Decimal>,
    fixed: Option<Decimal>,
    dp: u32,
}

impl BundleText<'_> {
    /// The words of a bundle's outcome `o` on the window's measures `win`, paying `rounded`.
    fn text(
        &self,
        o: &Outcome<Decimal>,
        win: &[Decimal],
        to_date: &str,
        rounded: Decimal,
    ) -> String {
        let dp = self.dp;
        let parts: Vec<String> = self
            .categories
            .iter()
            .zip(self.minimums)
            .enumerate()
            .map(|(j, (cat, min))| {
                let v = win[slot::bundle_volume(j)];
                let t = |x: Decimal| vol_text(x, self.basis, dp);
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
        match (self.rate, self.fixed) {
            (Some(r), _) => format!(
                "bundle qualified{to_date} ({}); {} on bundle revenue {} = {}",
                parts.join(", "),
                percent_text(r),
                money_text(o.paid_on, dp),
                money_text(rounded, dp)
            ),
            _ => format!(
                "bundle qualified{to_date} ({}); fixed {}",
                parts.join(", "),
                money_text(self.fixed.unwrap_or_default(), dp)
            ),
        }
    }
}
