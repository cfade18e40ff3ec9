//! A compiled programme converted once into the kernel's number type: [`Prepared`] with its
//! components, rules and tiers in `A`, and the layout of a partner's flat measures slice
//! ([`slot`], [`Prepared::index`]).

use super::Amount;
use crate::money::Rounding;
use crate::programme::{
    Basis, BundleReward, Compiled, GrowthApplies, Measure, OrderReward, Reward, Rule, TierMethod,
    UnitsAbove,
};
use rust_decimal::Decimal;

/// Slots of the measures of one component and period (see [`Prepared::index`]).
///
/// Every component has the three base slots; a bundle component has two more per listed
/// category (in the order of [`PreparedRule::Bundle`]'s `categories`, i.e. sorted by name).
/// For a logistics component the base slots hold its qualifying orders instead (an order
/// qualifies when [`Prepared::order_qualifies`]; it belongs to the period of its earliest line).
pub mod slot {
    /// Volume in the component's basis (revenue or units). Logistics: number of qualifying orders.
    pub const VOLUME: usize = 0;
    /// Revenue. Logistics: revenue of qualifying orders.
    pub const REVENUE: usize = 1;
    /// Units (quantity). Logistics: units of qualifying orders.
    pub const UNITS: usize = 2;
    /// Number of base slots.
    pub const BASE: usize = 3;
    /// Bundle: slot of the basis volume of listed category `j`.
    pub const fn bundle_volume(j: usize) -> usize {
        BASE + 2 * j
    }
    /// Bundle: slot of the revenue of listed category `j`.
    pub const fn bundle_revenue(j: usize) -> usize {
        BASE + 2 * j + 1
    }
}

/// Kind of a tier's reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewardKind {
    /// Fraction of revenue.
    Rate,
    /// Amount per unit.
    PerUnit,
    /// Fixed amount.
    Fixed,
}

/// A tier converted to the number type.
#[derive(Debug, Clone, Copy)]
pub struct PTier<A> {
    /// Threshold in the basis (ladder) or the growth factor `1 + growth` (growth ladder).
    pub threshold: A,
    /// Kind of reward.
    pub kind: RewardKind,
    /// Rate (fraction), amount per unit or fixed amount.
    pub value: A,
}

/// A component's rule converted to the number type.
#[derive(Debug, Clone)]
pub enum PreparedRule<A> {
    /// Volume ladder.
    Ladder {
        /// Revenue or units.
        basis: Basis,
        /// Tier method.
        method: TierMethod,
        /// Tiers, increasing thresholds.
        tiers: Vec<PTier<A>>,
        /// Pay on at most this much volume.
        basis_cap: Option<A>,
    },
    /// Growth ladder (retroactive); tier thresholds are growth factors `1 + g`.
    Growth {
        /// Revenue or units.
        basis: Basis,
        /// Whole volume or the excess over the baseline.
        applies_to: GrowthApplies,
        /// Tiers, increasing.
        tiers: Vec<PTier<A>>,
    },
    /// Amount per unit.
    PerUnit {
        /// Amount per unit.
        amount: A,
        /// Units above what are paid.
        above: UnitsAbove,
        /// Fixed quantity per period when `above` is a quantity.
        above_quantity: A,
    },
    /// Bundle.
    Bundle {
        /// Revenue or units (for the minimums).
        basis: Basis,
        /// Listed categories, sorted.
        categories: Vec<String>,
        /// Minimum per listed category.
        minimums: Vec<A>,
        /// Fraction of the listed categories' revenue (if a rate reward).
        rate: Option<A>,
        /// Fixed amount (if a fixed reward).
        fixed: Option<A>,
    },
    /// Logistics.
    Logistics {
        /// Minimum order quantity.
        min_quantity: A,
        /// Amount per qualifying order (if per-order reward).
        per_order: Option<A>,
        /// Fraction of the qualifying orders' revenue (if a rate reward).
        rate: Option<A>,
    },
}

/// A component converted to the number type.
#[derive(Debug, Clone)]
pub struct PreparedComponent<A> {
    /// Component id.
    pub id: String,
    /// Per period or cumulative.
    pub measure: Measure,
    /// Component cap per partner over the programme (rounded to the minor unit).
    pub cap: Option<A>,
    /// Index of its exclusive group in [`Prepared::groups`], if any.
    pub group: Option<usize>,
    /// The rule.
    pub rule: PreparedRule<A>,
    /// Number of measure slots (3, or 3 + 2 × listed categories for a bundle).
    pub slots: usize,
    /// Offset of its measures in the flat measures slice.
    pub offset: usize,
}

/// A partner's prior-year baselines (for growth and per-unit-above-baseline rules): annual,
/// and optionally per programme month (month 1 = the programme's first month; a programme
/// longer than 12 months repeats them). A window's baseline is the sum of its months when
/// the monthly baselines are given, else the annual baseline prorated (see
/// [`Prepared::window_baseline`]). The months are boxed: a partner without them costs a
/// pointer each, not twelve numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline<A> {
    /// Annual baseline revenue (the sum of the months when they are given).
    pub revenue: Option<A>,
    /// Annual baseline units (the sum of the months when they are given).
    pub units: Option<A>,
    /// Prior-year revenue in each programme month, if given.
    pub revenue_months: Option<Box<[A; 12]>>,
    /// Prior-year units in each programme month, if given.
    pub units_months: Option<Box<[A; 12]>>,
}

impl<A> Baseline<A> {
    /// Annual baselines only (no monthly baselines).
    pub fn annual(revenue: Option<A>, units: Option<A>) -> Baseline<A> {
        Baseline {
            revenue,
            units,
            revenue_months: None,
            units_months: None,
        }
    }
}

/// The periods a rule's window spans: `periods` periods from period `first` (0-based). A
/// period's own window is [`Span::period`]; the programme to a period's end, [`Span::to_date`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First period of the window (0-based).
    pub first: u32,
    /// Number of periods.
    pub periods: u32,
}

impl Span {
    /// Period `k` (0-based) alone.
    pub fn period(k: u32) -> Span {
        Span {
            first: k,
            periods: 1,
        }
    }

    /// The programme from its first period to the end of period `k` (0-based).
    pub fn to_date(k: u32) -> Span {
        Span {
            first: 0,
            periods: k + 1,
        }
    }

    /// The window of period `k` for a component measured per period or cumulatively.
    pub fn of(measure: crate::programme::Measure, k: u32) -> Span {
        match measure {
            crate::programme::Measure::Period => Span::period(k),
            crate::programme::Measure::Cumulative => Span::to_date(k),
        }
    }
}

/// What a rule computed for one window (a period, or programme start to a period's end).
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome<A> {
    /// The amount before rounding, ≥ 0.
    pub amount: A,
    /// Volume measured (basis volume; units for per_unit; qualifying orders for logistics).
    pub volume: A,
    /// Tier reached (1-based, 0 = none). Bundle: 1 when qualified.
    pub tier: u32,
    /// Volume the reward was applied to (after basis cap, above baseline, or growth excess).
    pub paid_on: A,
    /// Baseline of the window (growth, per_unit above baseline or above a quantity).
    pub baseline: Option<A>,
    /// False when the rule cannot apply (growth or per-unit-above-baseline without a positive
    /// baseline); the amount is then 0.
    pub applicable: bool,
}

/// A programme converted to the number type `A`, ready to evaluate partners.
#[derive(Debug, Clone)]
pub struct Prepared<A> {
    /// Components in id order (as in [`Compiled::components`]).
    pub components: Vec<PreparedComponent<A>>,
    /// Exclusive group names (sorted).
    pub groups: Vec<String>,
    /// Number of periods.
    pub periods: usize,
    /// Months per period.
    pub months_per_period: u32,
    /// Decimal places of the currency.
    pub decimals: u32,
    /// Rounding rule.
    pub rounding: Rounding,
    /// Partner cap (rounded to the minor unit).
    pub partner_cap: Option<A>,
    /// Minimum payout.
    pub minimum_payout: Option<A>,
    /// Programme budget (rounded to the minor unit).
    pub budget: Option<A>,
    measure_len: usize,
    /// Per exclusive group (index into `groups`), its components in id order: the pipeline
    /// compares a component with its own group's members only.
    pub(super) group_members: Vec<Vec<usize>>,
    /// The components in no exclusive group.
    pub(super) ungrouped: Vec<usize>,
}

fn tier_of<A: Amount>(t: &crate::programme::Tier, growth: bool) -> PTier<A> {
    let (kind, value) = match t.reward {
        Reward::Rate(r) => (RewardKind::Rate, r),
        Reward::PerUnit(u) => (RewardKind::PerUnit, u),
        Reward::Fixed(f) => (RewardKind::Fixed, f),
    };
    let threshold = if growth {
        Decimal::ONE + t.threshold
    } else {
        t.threshold
    };
    PTier {
        threshold: A::from_decimal(threshold),
        kind,
        value: A::from_decimal(value),
    }
}

/// A component's rule in the number type `A`.
fn prepare_rule<A: Amount>(rule: &Rule) -> PreparedRule<A> {
    match rule {
        Rule::Volume {
            basis,
            method,
            tiers,
            basis_cap,
        } => PreparedRule::Ladder {
            basis: *basis,
            method: *method,
            tiers: tiers.iter().map(|t| tier_of(t, false)).collect(),
            basis_cap: basis_cap.map(A::from_decimal),
        },
        Rule::Growth {
            basis,
            applies_to,
            tiers,
        } => PreparedRule::Growth {
            basis: *basis,
            applies_to: *applies_to,
            tiers: tiers.iter().map(|t| tier_of(t, true)).collect(),
        },
        Rule::PerUnit { amount, above } => PreparedRule::PerUnit {
            amount: A::from_decimal(*amount),
            above: *above,
            above_quantity: match above {
                UnitsAbove::Quantity(q) => A::from_decimal(*q),
                _ => A::ZERO,
            },
        },
        Rule::Bundle {
            basis,
            minimums,
            reward,
        } => PreparedRule::Bundle {
            basis: *basis,
            categories: minimums.iter().map(|(c, _)| c.clone()).collect(),
            minimums: minimums.iter().map(|(_, m)| A::from_decimal(*m)).collect(),
            rate: match reward {
                BundleReward::Rate(r) => Some(A::from_decimal(*r)),
                _ => None,
            },
            fixed: match reward {
                BundleReward::Fixed(f) => Some(A::from_decimal(*f)),
                _ => None,
            },
        },
        Rule::Logistics {
            min_quantity,
            reward,
        } => PreparedRule::Logistics {
            min_quantity: A::from_decimal(*min_quantity),
            per_order: match reward {
                OrderReward::PerOrder(a) => Some(A::from_decimal(*a)),
                _ => None,
            },
            rate: match reward {
                OrderReward::Rate(r) => Some(A::from_decimal(*r)),
                _ => None,
            },
        },
    }
}

impl<A: Amount> Prepared<A> {
    /// Convert a compiled programme (tiers, caps and budget) to `A`, once.
    pub fn new(p: &Compiled) -> Self {
        let money = |d: Decimal| A::from_decimal(p.rounding.round(d, p.decimals));
        let mut groups: Vec<String> = p
            .components
            .iter()
            .filter_map(|c| c.exclusive_group.clone())
            .collect();
        groups.sort();
        groups.dedup();
        let periods = p.calendar.periods as usize;
        let mut offset = 0;
        let components = p
            .components
            .iter()
            .map(|c| {
                let rule = prepare_rule(&c.rule);
                let slots = match &rule {
                    PreparedRule::Bundle { categories, .. } => slot::BASE + 2 * categories.len(),
                    _ => slot::BASE,
                };
                let pc = PreparedComponent {
                    id: c.id.clone(),
                    measure: c.measure,
                    cap: c.cap.map(money),
                    group: c
                        .exclusive_group
                        .as_ref()
                        .map(|g| groups.binary_search(g).expect("group listed")),
                    rule,
                    slots,
                    offset,
                };
                offset += slots * periods;
                pc
            })
            .collect::<Vec<PreparedComponent<A>>>();
        let mut group_members = vec![Vec::new(); groups.len()];
        let mut ungrouped = Vec::new();
        for (c, pc) in components.iter().enumerate() {
            match pc.group {
                Some(g) => group_members[g].push(c),
                None => ungrouped.push(c),
            }
        }
        Prepared {
            components,
            groups,
            periods,
            months_per_period: p.calendar.length.months(),
            decimals: p.decimals,
            rounding: p.rounding,
            partner_cap: p.partner_cap.map(money),
            minimum_payout: p.minimum_payout.map(A::from_decimal),
            budget: p.budget.map(money),
            measure_len: offset,
            group_members,
            ungrouped,
        }
    }

    /// Length of a partner's flat measures slice.
    pub fn measure_len(&self) -> usize {
        self.measure_len
    }

    /// Position of slot `s` of component `c` in period `k` in the measures slice.
    #[inline]
    pub fn index(&self, c: usize, k: usize, s: usize) -> usize {
        let pc = &self.components[c];
        debug_assert!(s < pc.slots && k < self.periods);
        pc.offset + k * pc.slots + s
    }

    /// Whether an order of `quantity` units qualifies for logistics component `c`.
    #[inline]
    pub fn order_qualifies(&self, c: usize, quantity: A) -> bool {
        match &self.components[c].rule {
            PreparedRule::Logistics { min_quantity, .. } => quantity.at_least(*min_quantity),
            _ => false,
        }
    }

    /// Round an amount with the programme's rule to the minor unit.
    #[inline]
    pub fn round(&self, v: A) -> A {
        v.round_money(self.rounding, self.decimals)
    }
}
