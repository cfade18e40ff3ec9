//! One rule on one window: [`Prepared::evaluate`] computes what a component's rule pays on a
//! window's measures (a period, or the programme to date), and [`Prepared::next_tier`] what
//! reaching the next tier of a ladder would take and pay.

use super::ladder::{contribution, ladder_terms};
use super::{slot, Amount, Baseline, Outcome, PTier, Prepared, PreparedRule, Span};
use crate::programme::{Basis, GrowthApplies, UnitsAbove};

impl<A: Amount> Prepared<A> {
    /// Evaluate component `c` on the measures `m` of one window (its `slots` values) spanning
    /// the periods `span`, for a partner with `baseline`. The amount is not rounded.
    pub fn evaluate(&self, c: usize, m: &[A], span: Span, baseline: &Baseline<A>) -> Outcome<A> {
        match &self.components[c].rule {
            PreparedRule::Ladder {
                basis,
                method,
                tiers,
                basis_cap,
            } => {
                let v = m[slot::VOLUME];
                let (amount, tier, paid_on) = ladder_terms(
                    tiers,
                    *method,
                    *basis,
                    *basis_cap,
                    v,
                    m[slot::REVENUE],
                    m[slot::UNITS],
                    |_, _, _| {},
                );
                Outcome {
                    amount,
                    volume: v,
                    tier,
                    paid_on,
                    baseline: None,
                    applicable: true,
                }
            }
            PreparedRule::Growth {
                basis,
                applies_to,
                tiers,
            } => {
                let window_baseline = self.window_baseline(baseline, *basis, span);
                growth_outcome(*basis, *applies_to, tiers, m, window_baseline)
            }
            PreparedRule::PerUnit {
                amount,
                above,
                above_quantity,
            } => {
                let units = m[slot::UNITS];
                let base = match above {
                    UnitsAbove::None => None,
                    UnitsAbove::Quantity(_) => {
                        Some(above_quantity.times(A::from_u32(span.periods)))
                    }
                    UnitsAbove::Baseline => {
                        match self.window_baseline(baseline, Basis::Units, span) {
                            Some(b) if b > A::ZERO => Some(b),
                            other => return not_applicable(units, other),
                        }
                    }
                };
                let paid = units.minus(base.unwrap_or(A::ZERO)).max_of(A::ZERO);
                Outcome {
                    amount: amount.times(paid),
                    volume: units,
                    tier: 0,
                    paid_on: paid,
                    baseline: base,
                    applicable: true,
                }
            }
            PreparedRule::Bundle {
                minimums,
                rate,
                fixed,
                ..
            } => bundle_outcome(minimums, *rate, *fixed, m),
            PreparedRule::Logistics {
                per_order, rate, ..
            } => {
                let orders = m[slot::VOLUME];
                let amount = match (per_order, rate) {
                    (Some(a), _) => a.times(orders),
                    (None, Some(r)) => r.times(m[slot::REVENUE]),
                    _ => A::ZERO,
                }
                .max_of(A::ZERO);
                Outcome {
                    amount,
                    volume: orders,
                    tier: 0,
                    paid_on: if per_order.is_some() {
                        orders
                    } else {
                        m[slot::REVENUE]
                    },
                    baseline: None,
                    applicable: true,
                }
            }
        }
    }

    /// The baseline of a window spanning the periods `span`, in `basis`: the sum of the
    /// window's programme months when the partner has monthly baselines (programme month `j`,
    /// 0-based, takes the prior year's month `j mod 12`), else the annual baseline × the
    /// window's months / 12. `None` without a baseline in that basis.
    pub fn window_baseline(&self, baseline: &Baseline<A>, basis: Basis, span: Span) -> Option<A> {
        let (annual, months) = match basis {
            Basis::Revenue => (baseline.revenue, baseline.revenue_months.as_deref()),
            Basis::Units => (baseline.units, baseline.units_months.as_deref()),
        };
        let first = self.months_per_period * span.first;
        let n = self.months_per_period * span.periods;
        match months {
            Some(months) => {
                Some((first..first + n).fold(A::ZERO, |acc, j| acc.plus(months[(j % 12) as usize])))
            }
            None => annual.map(|b| b.times(A::from_u32(n)).over(A::from_u32(12))),
        }
    }

    /// What partner standing: for ladder and growth components, the next tier above the
    /// window's outcome. Returns `(next tier, volume needed in the basis, shortfall, additional
    /// amount before rounding and caps)`, or `None` when there is no next tier (or the rule
    /// has no ladder, or is not applicable). `m` is the window's measures and `span` its
    /// periods, as for [`Prepared::evaluate`]; the additional amount assumes revenue and units
    /// grow in proportion to the basis volume.
    pub fn next_tier(
        &self,
        c: usize,
        m: &[A],
        span: Span,
        baseline: &Baseline<A>,
    ) -> Option<(u32, A, A, A)> {
        let now = self.evaluate(c, m, span, baseline);
        if !now.applicable {
            return None;
        }
        let (basis, needed) = match &self.components[c].rule {
            PreparedRule::Ladder { basis, tiers, .. } => {
                (*basis, tiers.get(now.tier as usize)?.threshold)
            }
            PreparedRule::Growth { basis, tiers, .. } => (
                *basis,
                now.baseline?.times(tiers.get(now.tier as usize)?.threshold),
            ),
            _ => return None,
        };
        let v = m[slot::VOLUME];
        let mut w = [A::ZERO; slot::BASE];
        if v > A::ZERO {
            for (s, x) in w.iter_mut().enumerate() {
                *x = m[s].mul_div(needed, v);
            }
        } else {
            w[slot::REVENUE] = if basis == Basis::Revenue {
                needed
            } else {
                A::ZERO
            };
            w[slot::UNITS] = if basis == Basis::Units {
                needed
            } else {
                A::ZERO
            };
        }
        w[slot::VOLUME] = needed;
        let then = self.evaluate(c, &w, span, baseline);
        Some((
            now.tier + 1,
            needed,
            needed.minus(v),
            then.amount.minus(now.amount).max_of(A::ZERO),
        ))
    }
}

/// The outcome of a rule that cannot apply for want of a positive baseline.
fn not_applicable<A: Amount>(volume: A, baseline: Option<A>) -> Outcome<A> {
    Outcome {
        volume,
        baseline,
        applicable: false,
        ..Default::default()
    }
}

/// A growth ladder on the window's measures `m` against the window's baseline.
fn growth_outcome<A: Amount>(
    basis: Basis,
    applies_to: GrowthApplies,
    tiers: &[PTier<A>],
    m: &[A],
    window_baseline: Option<A>,
) -> Outcome<A> {
    let v = m[slot::VOLUME];
    let b = match window_baseline {
        Some(b) if b > A::ZERO => b,
        other => return not_applicable(v, other),
    };
    let tier = tiers
        .iter()
        .take_while(|t| v.at_least(b.times(t.threshold)))
        .count() as u32;
    if tier == 0 {
        return Outcome {
            volume: v,
            baseline: Some(b),
            applicable: true,
            ..Default::default()
        };
    }
    let q = match applies_to {
        GrowthApplies::Whole => v,
        GrowthApplies::Growth => v.minus(b).max_of(A::ZERO),
    };
    let t = &tiers[tier as usize - 1];
    let amount = contribution(t, basis, q, v, m[slot::REVENUE], m[slot::UNITS]).max_of(A::ZERO);
    Outcome {
        amount,
        volume: v,
        tier,
        paid_on: q,
        baseline: Some(b),
        applicable: true,
    }
}

/// A bundle on the window's measures `m`: qualified when every listed category reaches its
/// minimum; pays a rate on the listed categories' revenue or a fixed amount.
fn bundle_outcome<A: Amount>(
    minimums: &[A],
    rate: Option<A>,
    fixed: Option<A>,
    m: &[A],
) -> Outcome<A> {
    let mut qualified = true;
    let mut revenue = A::ZERO;
    for (j, min) in minimums.iter().enumerate() {
        if !m[slot::bundle_volume(j)].at_least(*min) {
            qualified = false;
        }
        revenue = revenue.plus(m[slot::bundle_revenue(j)]);
    }
    let amount = if !qualified {
        A::ZERO
    } else if let Some(r) = rate {
        r.times(revenue).max_of(A::ZERO)
    } else {
        fixed.unwrap_or(A::ZERO)
    };
    Outcome {
        amount,
        volume: revenue,
        tier: qualified as u32,
        paid_on: if qualified { revenue } else { A::ZERO },
        baseline: None,
        applicable: true,
    }
}
