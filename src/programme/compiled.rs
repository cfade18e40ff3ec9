//! The validated, typed form of a programme that settlement and simulation
//! run on. Built only by [`Programme::compile`](super::Programme::compile).

use super::spec::{Basis, GrowthApplies, Measure, PaymentTiming, Returns, TierMethod};
use crate::calendar::Calendar;
use crate::money::Rounding;
use rust_decimal::Decimal;

/// A tier's reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reward {
    /// A percentage of the basis, stored as a fraction (3.5% is 0.035).
    Rate(Decimal),
    /// An amount per unit.
    PerUnit(Decimal),
    /// A fixed amount.
    Fixed(Decimal),
}

/// One tier: reached when the measured volume is at least `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Threshold (volume; for growth ladders, growth as a fraction: 5% is 0.05).
    pub threshold: Decimal,
    /// Reward once reached.
    pub reward: Reward,
}

/// Reward of a per-unit component above what baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitsAbove {
    /// Pay every unit.
    None,
    /// Pay units above a fixed quantity per period.
    Quantity(Decimal),
    /// Pay units above the partner's baseline units for the period.
    Baseline,
}

/// Reward of a bundle component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleReward {
    /// A fraction of the listed categories' revenue.
    Rate(Decimal),
    /// A fixed amount per period qualified.
    Fixed(Decimal),
}

/// Reward of a logistics component, per qualifying order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderReward {
    /// A fixed amount per order.
    PerOrder(Decimal),
    /// A fraction of the order's revenue.
    Rate(Decimal),
}

/// What a component computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Tier ladder on volume.
    Volume {
        /// Revenue or units.
        basis: Basis,
        /// How the ladder applies.
        method: TierMethod,
        /// Tiers in increasing threshold order (non-empty).
        tiers: Vec<Tier>,
        /// Pay the rate on at most this much volume.
        basis_cap: Option<Decimal>,
    },
    /// Tiers on growth over baseline (thresholds are fractions: 0.05 = 5% growth).
    Growth {
        /// Revenue or units.
        basis: Basis,
        /// Whole volume or only the growth above baseline.
        applies_to: GrowthApplies,
        /// Tiers in increasing threshold order (non-empty); retroactive.
        tiers: Vec<Tier>,
    },
    /// An amount per unit.
    PerUnit {
        /// Amount per unit.
        amount: Decimal,
        /// Which units are paid.
        above: UnitsAbove,
    },
    /// A reward when every listed category reaches its minimum in the period.
    Bundle {
        /// Revenue or units, for the minimums.
        basis: Basis,
        /// (category, minimum), sorted by category.
        minimums: Vec<(String, Decimal)>,
        /// What qualifying pays.
        reward: BundleReward,
    },
    /// A reward per order of at least `min_quantity` units.
    Logistics {
        /// Minimum order quantity.
        min_quantity: Decimal,
        /// What each qualifying order pays.
        reward: OrderReward,
    },
}

/// Which partners and purchases a component applies to. `None` means no limit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// Partner segments (sorted).
    pub segments: Option<Vec<String>>,
    /// Product categories (sorted).
    pub categories: Option<Vec<String>>,
    /// Partner ids (sorted).
    pub partners: Option<Vec<String>>,
}

impl Scope {
    /// Whether a partner of `segment` with id `partner_id` is in scope.
    pub fn includes_partner(&self, partner_id: &str, segment: &str) -> bool {
        self.segments
            .as_ref()
            .is_none_or(|s| s.binary_search_by(|x| x.as_str().cmp(segment)).is_ok())
            && self
                .partners
                .as_ref()
                .is_none_or(|p| p.binary_search_by(|x| x.as_str().cmp(partner_id)).is_ok())
    }

    /// Whether a purchase in `category` counts (a purchase without category counts only when
    /// the component is not limited to categories).
    pub fn includes_category(&self, category: Option<&str>) -> bool {
        match (&self.categories, category) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(c), Some(cat)) => c.binary_search_by(|x| x.as_str().cmp(cat)).is_ok(),
        }
    }
}

/// A validated component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledComponent {
    /// Unique id.
    pub id: String,
    /// Display name (the id when the file has none).
    pub name: String,
    /// Which partners and purchases it applies to.
    pub scope: Scope,
    /// Per period or cumulative.
    pub measure: Measure,
    /// Net or gross of returns.
    pub returns: Returns,
    /// Cap per partner over the programme.
    pub cap: Option<Decimal>,
    /// Exclusive group, if any.
    pub exclusive_group: Option<String>,
    /// What it computes.
    pub rule: Rule,
}

/// A validated programme, ready for settlement and simulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// Display name.
    pub name: String,
    /// Currency code (upper case).
    pub currency: String,
    /// Decimal places of the minor unit.
    pub decimals: u32,
    /// Rounding rule.
    pub rounding: Rounding,
    /// Periods.
    pub calendar: Calendar,
    /// Known segments (as declared).
    pub segments: Vec<String>,
    /// Known categories (as declared).
    pub categories: Vec<String>,
    /// Programme budget.
    pub budget: Option<Decimal>,
    /// Cap per partner over the programme.
    pub partner_cap: Option<Decimal>,
    /// Minimum payout.
    pub minimum_payout: Option<Decimal>,
    /// When payments fall due.
    pub payment_timing: PaymentTiming,
    /// Days after period/programme end.
    pub payment_lag_days: u32,
    /// Components, sorted by id (processing order never depends on file order).
    pub components: Vec<CompiledComponent>,
}

impl Compiled {
    /// Round an amount with the programme's rule to its currency's minor unit.
    pub fn round(&self, v: Decimal) -> Decimal {
        self.rounding.round(v, self.decimals)
    }

    /// Whether any component needs transaction categories.
    pub fn needs_categories(&self) -> bool {
        self.components
            .iter()
            .any(|c| c.scope.categories.is_some() || matches!(c.rule, Rule::Bundle { .. }))
    }

    /// Whether any component needs order ids (logistics).
    pub fn needs_orders(&self) -> bool {
        self.components
            .iter()
            .any(|c| matches!(c.rule, Rule::Logistics { .. }))
    }

    /// The date the payment for period `k` (0-based) falls due.
    pub fn payment_date(&self, k: u32) -> chrono::NaiveDate {
        let base = match self.payment_timing {
            PaymentTiming::Period => self.calendar.period_end(k),
            PaymentTiming::End => self.calendar.end(),
        };
        base + chrono::Days::new(self.payment_lag_days as u64)
    }
}
