//! The calculation kernel: the settlement semantics of `docs/calculations.md`,
//! written once and generic over the number type.
//!
//! The exact settlement engine ([`crate::settlement`]) runs it on
//! [`rust_decimal::Decimal`]; the Monte Carlo engine runs the very same code on
//! `f64`. Both therefore apply every tier method, reward kind, cap, exclusive
//! group, minimum payout and budget cut identically, and agree to the cent.
//!
//! # How to use it
//!
//! 1. [`Prepared::new`] converts a [`Compiled`] programme once into the number
//!    type `A` (tiers, caps, budget).
//! 2. For each partner, fill a flat *measures* slice (see [`Prepared::index`]
//!    and [`slot`]): for every component `c`, period `k` and slot `s`, the
//!    volumes measured on the partner's lines **in the period alone** (not to
//!    date; the kernel accumulates windows itself). Volumes are in scope of the
//!    component (segment/category filter) and already net or gross of returns
//!    as the component's `returns` says.
//! 3. Call [`Prepared::settle_partner`] with a [`PartnerScratch`] created once
//!    by [`Prepared::scratch`] and reused for every partner: it fills the
//!    cumulative matrices (components × periods) for each stage of the
//!    pipeline without allocating.
//! 4. Apply the programme budget with [`Prepared::budget_total`] (totals only)
//!    or [`allocate_into`] (per partner and component, to the cent).
//!
//! ```
//! use rebatesim::programme::{Format, Programme};
//! use rebatesim::rules::{slot, Prepared};
//! let p = Programme::from_str(r#"
//! name = "Doc"
//! currency = "EUR"
//! start = 2027-01-01
//! period = "year"
//! periods = 1
//! [[components]]
//! id = "vol"
//! kind = "volume"
//! tiers = [{ from = 10000, percent = 2 }, { from = 50000, percent = 3 }]
//! "#, Format::Toml, None).unwrap().compile().unwrap();
//! let prep: Prepared<f64> = Prepared::new(&p);
//! let mut scratch = prep.scratch();
//! let mut m = vec![0.0; prep.measure_len()];
//! m[prep.index(0, 0, slot::VOLUME)] = 60_000.0;
//! m[prep.index(0, 0, slot::REVENUE)] = 60_000.0;
//! prep.settle_partner(&m, &[true], &Default::default(), &mut scratch);
//! assert_eq!(scratch.payable(0, 0), 1_800.0);
//! ```

use crate::money::Rounding;
use crate::programme::{
    Basis, BundleReward, Compiled, GrowthApplies, Measure, OrderReward, Reward, Rule, TierMethod,
    UnitsAbove,
};
use rust_decimal::prelude::*;
use rust_decimal::RoundingStrategy;
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, Sub, SubAssign};

/// A number the kernel can compute money in: exact [`Decimal`] (settlement) or `f64`
/// (simulation). The `f64` implementation rounds, floors and compares with a tolerance far
/// below a cent, so that sums which are exact in decimal but carry float error (e.g.
/// 999,999.9999999998 for 1,000,000) decide tiers and round exactly as in decimal.
pub trait Amount:
    Copy
    + PartialOrd
    + Debug
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + AddAssign
    + SubAssign
    + Send
    + Sync
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Convert an exact decimal (nearest `f64` for floats).
    fn from_decimal(d: Decimal) -> Self;
    /// Convert a small integer.
    fn from_u32(n: u32) -> Self;
    /// Round to `dp` decimal places with `rounding`.
    fn round_money(self, rounding: Rounding, dp: u32) -> Self;
    /// Round down (toward −∞) to `dp` decimal places.
    fn floor_money(self, dp: u32) -> Self;
    /// Number of minor units (`10^-dp`) in `self`, rounded to the nearest integer.
    fn minor_units(self, dp: u32) -> i64;
    /// One minor unit, `10^-dp`.
    fn unit(dp: u32) -> Self;
    /// `self ≥ threshold` (for `f64`: within a relative tolerance of 1e-9).
    fn at_least(self, threshold: Self) -> bool;
    /// `self + o`. The kernel computes every sum, difference, product and quotient of user
    /// amounts through these four methods: for `f64` they are the plain operators (the same
    /// bits, inlined), for `Decimal` they are checked: an overflow gives zero and raises the
    /// thread's overflow flag ([`crate::money::note_overflow`]), which the settlement turns
    /// into an error naming the partner and component instead of a panic.
    #[inline(always)]
    fn plus(self, o: Self) -> Self {
        self + o
    }
    /// `self - o` (see [`Amount::plus`]).
    #[inline(always)]
    fn minus(self, o: Self) -> Self {
        self - o
    }
    /// `self * o` (see [`Amount::plus`]).
    #[inline(always)]
    fn times(self, o: Self) -> Self {
        self * o
    }
    /// `self / o` (see [`Amount::plus`]).
    #[inline(always)]
    fn over(self, o: Self) -> Self {
        self / o
    }
    /// `self * num / den` (see [`Amount::plus`]); for `Decimal`, when the product alone is
    /// beyond the range but the result is not (a share `num / den` of a large amount), it is
    /// computed as `num / den * self` (the share to 28 decimal places) instead of overflowing.
    #[inline(always)]
    fn mul_div(self, num: Self, den: Self) -> Self {
        self.times(num).over(den)
    }
    /// The smaller of two amounts.
    #[inline]
    fn min_of(self, other: Self) -> Self {
        if other < self {
            other
        } else {
            self
        }
    }
    /// The larger of two amounts.
    #[inline]
    fn max_of(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }
}

impl Amount for Decimal {
    const ZERO: Self = Decimal::ZERO;
    const ONE: Self = Decimal::ONE;
    #[inline]
    fn from_decimal(d: Decimal) -> Self {
        d
    }
    #[inline]
    fn from_u32(n: u32) -> Self {
        Decimal::from(n)
    }
    #[inline]
    fn round_money(self, rounding: Rounding, dp: u32) -> Self {
        rounding.round(self, dp)
    }
    #[inline]
    fn floor_money(self, dp: u32) -> Self {
        crate::money::at_scale(
            self.round_dp_with_strategy(dp, RoundingStrategy::ToNegativeInfinity),
            dp,
        )
    }
    fn minor_units(self, dp: u32) -> i64 {
        let mut v = self;
        v.rescale(dp);
        v.mantissa() as i64
    }
    #[inline]
    fn unit(dp: u32) -> Self {
        Decimal::new(1, dp)
    }
    #[inline]
    fn at_least(self, threshold: Self) -> bool {
        self >= threshold
    }
    #[inline]
    fn plus(self, o: Self) -> Self {
        self.checked_add(o).unwrap_or_else(overflowed)
    }
    #[inline]
    fn minus(self, o: Self) -> Self {
        self.checked_sub(o).unwrap_or_else(overflowed)
    }
    #[inline]
    fn times(self, o: Self) -> Self {
        self.checked_mul(o).unwrap_or_else(overflowed)
    }
    #[inline]
    fn over(self, o: Self) -> Self {
        self.checked_div(o).unwrap_or_else(overflowed)
    }
    #[inline]
    fn mul_div(self, num: Self, den: Self) -> Self {
        match self.checked_mul(num) {
            Some(p) => p.checked_div(den),
            None => num.checked_div(den).and_then(|x| x.checked_mul(self)),
        }
        .unwrap_or_else(overflowed)
    }
}

#[cold]
fn overflowed() -> Decimal {
    crate::money::note_overflow();
    Decimal::ZERO
}

/// `10^dp` as `f64`: the exact powers by table (equal to `10f64.powi(dp)`, whose products
/// of small integers are exact), without a `__powidf2` call on every rounding.
#[inline]
fn pow10(dp: u32) -> f64 {
    const T: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    match T.get(dp as usize) {
        Some(v) => *v,
        None => 10f64.powi(dp as i32),
    }
}

/// `x.round()` (half away from zero) without a call into the C library (the engine rounds
/// every amount): exact truncation through `i64` while whole numbers are not yet the only
/// doubles, the same result bit for bit (signed zeros included; NaN and ±∞ go to `round`).
#[inline]
fn round_f64(x: f64) -> f64 {
    if x.abs() < 4.0e15 {
        // SAFETY: |x| < 4e15 is finite and well inside i64, so truncation cannot overflow
        // (this skips the saturating conversion's NaN and range checks)
        let t = unsafe { x.to_int_unchecked::<i64>() } as f64;
        let d = x - t;
        let r = if d >= 0.5 {
            t + 1.0
        } else if d <= -0.5 {
            t - 1.0
        } else {
            t
        };
        r.copysign(x)
    } else {
        x.round()
    }
}

/// `x.floor()` without a call into the C library, bit for bit (see [`round_f64`]).
#[inline]
fn floor_f64(x: f64) -> f64 {
    if x.abs() < 4.0e15 {
        // SAFETY: as in `round_f64`
        let t = unsafe { x.to_int_unchecked::<i64>() } as f64;
        let r = if x < t { t - 1.0 } else { t };
        r.copysign(x)
    } else {
        x.floor()
    }
}

/// [`Amount::round_money`] of `f64` on a block of values at once: for each value, the same
/// bits as `v.round_money(rounding, dp)`, computed without branches so that the loop
/// vectorises (the engine's fast path rounds a block of partners' payouts at a time). `None`
/// when the block needs the scalar function: a value with `|v · 10^dp| ≥ 4e15` (or NaN), or a
/// rounding other than half up and half even.
///
/// It is `round_money` with its branches turned into selections: [`round_f64`] and
/// [`floor_f64`]'s truncation through `i64` (every value is in their fast range), the
/// tolerance, the "already whole" and "midpoint" tests, then one division.
#[inline(always)]
pub(crate) fn round_money_lanes<const N: usize>(
    v: &[f64; N],
    rounding: Rounding,
    dp: u32,
) -> Option<[f64; N]> {
    let even = match rounding {
        Rounding::HalfUp => false,
        Rounding::HalfEven => true,
        Rounding::Down | Rounding::Up => return None,
    };
    let scale = pow10(dp);
    let mut ok = true;
    let mut out = [0.0; N];
    for l in 0..N {
        let x0 = v[l] * scale;
        let inside = x0.abs() < 4.0e15;
        ok &= inside;
        // a lane outside the range computes on 0 (its result is discarded with the block)
        let x = if inside { x0 } else { 0.0 };
        // SAFETY: |x| < 4e15 is finite and well inside i64
        let ti = unsafe { x.to_int_unchecked::<i64>() };
        let t = ti as f64;
        // round_f64
        let d = x - t;
        let n = if d >= 0.5 {
            t + 1.0
        } else if d <= -0.5 {
            t - 1.0
        } else {
            t
        };
        let n = n.copysign(x);
        let tol = f64_tolerance(x);
        let whole = (x - n).abs() <= tol;
        // floor_f64
        let f = if x < t { t - 1.0 } else { t };
        let f = f.copysign(x);
        let midpoint = (x - f - 0.5).abs() <= tol;
        // half even: `f.rem_euclid(2.0) == 0.0` is `f` even; f is whole and |f| < 4e15
        // SAFETY: as above
        let f_even = unsafe { f.to_int_unchecked::<i64>() } & 1 == 0;
        let up = if even { !f_even } else { x > 0.0 };
        let mid = if up { f + 1.0 } else { f };
        let r = if midpoint { mid } else { n };
        out[l] = if whole { n } else { r } / scale;
    }
    ok.then_some(out)
}

#[inline]
fn f64_tolerance(x: f64) -> f64 {
    // far below one minor unit, far above the error of summing thousands of cents
    (x.abs() * 1e-11).max(1e-7)
}

/// The threshold less its tolerance (1e-9 relative, at least 1e-9): for `f64`,
/// `v.at_least(threshold)` is exactly `v >= at_least_bound(threshold)`.
#[inline]
pub fn at_least_bound(threshold: f64) -> f64 {
    threshold - 1e-9 * threshold.abs().max(1.0)
}

impl Amount for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline]
    fn from_decimal(d: Decimal) -> Self {
        d.to_f64().unwrap_or(f64::NAN)
    }
    #[inline]
    fn from_u32(n: u32) -> Self {
        n as f64
    }
    #[inline]
    fn round_money(self, rounding: Rounding, dp: u32) -> Self {
        let scale = pow10(dp);
        let x = self * scale;
        let n = round_f64(x);
        let tol = f64_tolerance(x);
        if (x - n).abs() <= tol {
            return n / scale;
        }
        let f = floor_f64(x);
        let midpoint = (x - f - 0.5).abs() <= tol;
        let r = match rounding {
            Rounding::HalfUp => {
                if midpoint {
                    if x > 0.0 {
                        f + 1.0
                    } else {
                        f
                    }
                } else {
                    n
                }
            }
            Rounding::HalfEven => {
                if midpoint {
                    if f.rem_euclid(2.0) == 0.0 {
                        f
                    } else {
                        f + 1.0
                    }
                } else {
                    n
                }
            }
            Rounding::Down => x.trunc(),
            Rounding::Up => {
                if x > 0.0 {
                    x.ceil()
                } else {
                    x.floor()
                }
            }
        };
        r / scale
    }
    #[inline]
    fn floor_money(self, dp: u32) -> Self {
        let scale = pow10(dp);
        let x = self * scale;
        let n = round_f64(x);
        if (x - n).abs() <= f64_tolerance(x) {
            n / scale
        } else {
            floor_f64(x) / scale
        }
    }
    #[inline]
    fn minor_units(self, dp: u32) -> i64 {
        (self * pow10(dp)).round() as i64
    }
    #[inline]
    fn unit(dp: u32) -> Self {
        10f64.powi(-(dp as i32))
    }
    #[inline]
    fn at_least(self, threshold: Self) -> bool {
        self >= at_least_bound(threshold)
    }
}

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

/// A partner's annual prior-year baselines (for growth and per-unit-above-baseline rules).
#[derive(Debug, Clone, Copy, Default)]
pub struct Baseline<A> {
    /// Annual baseline revenue.
    pub revenue: Option<A>,
    /// Annual baseline units.
    pub units: Option<A>,
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
                let rule = match &c.rule {
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
                };
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
            .collect();
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

    /// Scratch buffers for [`Prepared::settle_partner`]; create once, reuse for every partner.
    pub fn scratch(&self) -> PartnerScratch<A> {
        let n = self.components.len() * self.periods;
        let max_slots = self
            .components
            .iter()
            .map(|c| c.slots)
            .max()
            .unwrap_or(slot::BASE);
        PartnerScratch {
            periods: self.periods,
            window: vec![A::ZERO; max_slots],
            outcome: vec![Outcome::default(); n],
            entitled: vec![A::ZERO; n],
            capped: vec![A::ZERO; n],
            exclusive: vec![A::ZERO; n],
            partner_capped: vec![A::ZERO; n],
            payable: vec![A::ZERO; n],
            weights: vec![A::ZERO; self.components.len()],
            shares: vec![A::ZERO; self.components.len()],
            order: Vec::with_capacity(self.components.len()),
            clear: vec![false; self.components.len()],
        }
    }

    /// Evaluate component `c` on the measures `m` of one window (its `slots` values) spanning
    /// `window_periods` periods, for a partner with `baseline`. The amount is not rounded.
    pub fn evaluate(
        &self,
        c: usize,
        m: &[A],
        window_periods: u32,
        baseline: &Baseline<A>,
    ) -> Outcome<A> {
        let months = self.months_per_period * window_periods;
        let window_baseline =
            |annual: Option<A>| annual.map(|b| b.times(A::from_u32(months)).over(A::from_u32(12)));
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
                let v = m[slot::VOLUME];
                let annual = match basis {
                    Basis::Revenue => baseline.revenue,
                    Basis::Units => baseline.units,
                };
                let b = match window_baseline(annual) {
                    Some(b) if b > A::ZERO => b,
                    other => {
                        return Outcome {
                            volume: v,
                            baseline: other,
                            applicable: false,
                            ..Default::default()
                        };
                    }
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
                let amount =
                    contribution(t, *basis, q, v, m[slot::REVENUE], m[slot::UNITS]).max_of(A::ZERO);
                Outcome {
                    amount,
                    volume: v,
                    tier,
                    paid_on: q,
                    baseline: Some(b),
                    applicable: true,
                }
            }
            PreparedRule::PerUnit {
                amount,
                above,
                above_quantity,
            } => {
                let u = m[slot::UNITS];
                let base = match above {
                    UnitsAbove::None => None,
                    UnitsAbove::Quantity(_) => {
                        Some(above_quantity.times(A::from_u32(window_periods)))
                    }
                    UnitsAbove::Baseline => match window_baseline(baseline.units) {
                        Some(b) if b > A::ZERO => Some(b),
                        other => {
                            return Outcome {
                                volume: u,
                                baseline: other,
                                applicable: false,
                                ..Default::default()
                            };
                        }
                    },
                };
                let paid = u.minus(base.unwrap_or(A::ZERO)).max_of(A::ZERO);
                Outcome {
                    amount: amount.times(paid),
                    volume: u,
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
            } => {
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
            PreparedRule::Logistics {
                per_order, rate, ..
            } => {
                let n = m[slot::VOLUME];
                let amount = match (per_order, rate) {
                    (Some(a), _) => a.times(n),
                    (None, Some(r)) => r.times(m[slot::REVENUE]),
                    _ => A::ZERO,
                }
                .max_of(A::ZERO);
                Outcome {
                    amount,
                    volume: n,
                    tier: 0,
                    paid_on: if per_order.is_some() {
                        n
                    } else {
                        m[slot::REVENUE]
                    },
                    baseline: None,
                    applicable: true,
                }
            }
        }
    }

    /// Run the partner-level pipeline for one partner.
    ///
    /// `measures` is the partner's flat measures slice (per period, see [`Prepared::index`]);
    /// `active[c]` says whether component `c` applies to the partner (scope by segment and
    /// partner list; inactive components pay 0). Fills `scratch` with cumulative amounts
    /// per component and period for every stage: entitlement, component cap, exclusive
    /// group, partner cap and minimum payout (see the accessors of [`PartnerScratch`]).
    /// Never allocates.
    pub fn settle_partner(
        &self,
        measures: &[A],
        active: &[bool],
        baseline: &Baseline<A>,
        s: &mut PartnerScratch<A>,
    ) {
        let kk = self.periods;
        let nc = self.components.len();
        debug_assert_eq!(measures.len(), self.measure_len);
        debug_assert_eq!(active.len(), nc);
        // 1. entitlement and component cap
        for (c, pc) in self.components.iter().enumerate() {
            let row = c * kk;
            s.set_active(c, active[c]);
            if !active[c] {
                continue;
            }
            s.window[..pc.slots].iter_mut().for_each(|x| *x = A::ZERO);
            let mut e = A::ZERO;
            for k in 0..kk {
                let period = &measures[pc.offset + k * pc.slots..pc.offset + (k + 1) * pc.slots];
                let out = match pc.measure {
                    Measure::Period => {
                        let o = self.evaluate(c, period, 1, baseline);
                        e = e.plus(self.round(o.amount));
                        o
                    }
                    Measure::Cumulative => {
                        for (x, y) in s.window[..pc.slots].iter_mut().zip(period) {
                            *x = x.plus(*y);
                        }
                        let o = self.evaluate(c, &s.window[..pc.slots], k as u32 + 1, baseline);
                        e = self.round(o.amount);
                        o
                    }
                };
                s.outcome[row + k] = out;
                s.entitled[row + k] = e;
                s.capped[row + k] = match pc.cap {
                    Some(cap) => e.min_of(cap),
                    None => e,
                };
            }
        }
        self.settle_capped(s);
    }

    /// Steps 2 to 4 of [`Prepared::settle_partner`] (exclusive groups, partner cap, minimum
    /// payout) from the entitlements after the component cap, `s.capped` (every component's
    /// row: zero for an inactive component, see [`PartnerScratch::set_active`]). For a caller
    /// that computes the entitlements itself, exactly as step 1 of `settle_partner` does.
    pub fn settle_capped(&self, s: &mut PartnerScratch<A>) {
        let kk = self.periods;
        let nc = self.components.len();
        // 2. exclusive groups: only the best (largest capped, ties to the smallest id) counts
        if self.groups.is_empty() {
            s.exclusive.copy_from_slice(&s.capped);
        } else {
            for (c, pc) in self.components.iter().enumerate() {
                for k in 0..kk {
                    let mine = s.capped[c * kk + k];
                    let beaten = pc.group.is_some()
                        && self.components.iter().enumerate().any(|(o, po)| {
                            o != c && po.group == pc.group && {
                                let other = s.capped[o * kk + k];
                                other > mine || (other == mine && o < c)
                            }
                        });
                    s.exclusive[c * kk + k] = if beaten { A::ZERO } else { mine };
                }
            }
        }
        // 3. partner cap and 4. minimum payout
        if self.partner_cap.is_none() && self.minimum_payout.is_none() {
            s.partner_capped.copy_from_slice(&s.exclusive);
            s.payable.copy_from_slice(&s.exclusive);
            return;
        }
        for k in 0..kk {
            let mut total = A::ZERO;
            for c in 0..nc {
                total = total.plus(s.exclusive[c * kk + k]);
            }
            match self.partner_cap {
                Some(cap) if !cap.at_least(total) => {
                    for c in 0..nc {
                        s.weights[c] = s.exclusive[c * kk + k];
                    }
                    allocate_into(cap, &s.weights, self.decimals, &mut s.shares, &mut s.order);
                    for c in 0..nc {
                        s.partner_capped[c * kk + k] = s.shares[c];
                    }
                    total = cap;
                }
                _ => {
                    for c in 0..nc {
                        s.partner_capped[c * kk + k] = s.exclusive[c * kk + k];
                    }
                }
            }
            let below = match self.minimum_payout {
                Some(min) => !total.at_least(min),
                None => false,
            };
            for c in 0..nc {
                s.payable[c * kk + k] = if below {
                    A::ZERO
                } else {
                    s.partner_capped[c * kk + k]
                };
            }
        }
    }

    /// The programme total after the budget: `min(total, budget)`.
    #[inline]
    pub fn budget_total(&self, total: A) -> A {
        match self.budget {
            Some(b) if !b.at_least(total) => b,
            _ => total,
        }
    }

    /// Whether the budget binds for a programme total (to date) of `total`.
    #[inline]
    pub fn budget_binds(&self, total: A) -> bool {
        matches!(self.budget, Some(b) if !b.at_least(total))
    }

    /// What partner standing: for ladder and growth components, the next tier above the
    /// window's outcome. Returns `(next tier, volume needed in the basis, shortfall, additional
    /// amount before rounding and caps)`, or `None` when there is no next tier (or the rule
    /// has no ladder, or is not applicable). `m` is the window's measures, as for
    /// [`Prepared::evaluate`]; the additional amount assumes revenue and units grow in
    /// proportion to the basis volume.
    pub fn next_tier(
        &self,
        c: usize,
        m: &[A],
        window_periods: u32,
        baseline: &Baseline<A>,
    ) -> Option<(u32, A, A, A)> {
        let now = self.evaluate(c, m, window_periods, baseline);
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
        let then = self.evaluate(c, &w, window_periods, baseline);
        Some((
            now.tier + 1,
            needed,
            needed.minus(v),
            then.amount.minus(now.amount).max_of(A::ZERO),
        ))
    }
}

/// Convert a basis quantity `q` (part of volume `v`) to what the tier's reward is paid on and
/// apply the reward: a rate applies to revenue, an amount per unit to units, a fixed amount
/// as is. When the basis is not what the reward is paid on, the paid measure is taken in the
/// proportion `q / v` (e.g. a percentage on a units ladder pays on the revenue of those units).
#[inline]
pub fn contribution<A: Amount>(t: &PTier<A>, basis: Basis, q: A, v: A, revenue: A, units: A) -> A {
    let scaled = |paid: A| {
        if v > A::ZERO {
            paid.mul_div(q, v)
        } else {
            A::ZERO
        }
    };
    match t.kind {
        RewardKind::Rate => t.value.times(if basis == Basis::Revenue {
            q
        } else {
            scaled(revenue)
        }),
        RewardKind::PerUnit => t.value.times(if basis == Basis::Units {
            q
        } else {
            scaled(units)
        }),
        RewardKind::Fixed => t.value,
    }
}

/// The amount of a volume ladder, term by term.
///
/// Calls `term(tier_index, quantity, amount)` for every term that makes up the amount (in
/// tier order) and returns `(amount, reached tier (1-based, 0 = none), volume paid on)`.
/// `v` is the basis volume (the reached tier is decided on it, before any basis cap);
/// `revenue` and `units` are what rates and per-unit rewards are paid on.
/// - retroactive: the reached tier's reward on all (capped) volume;
/// - incremental: each band `[t_i, t_{i+1})` of (capped) volume at tier `i`'s reward;
/// - rolling: complete lower bands at their own rewards plus the reached tier's reward on
///   all (capped) volume;
/// - total: every reached tier's reward on all (capped) volume.
///
/// Fixed rewards pay the reached tier's amount (retroactive) or the sum over reached tiers.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn ladder_terms<A: Amount>(
    tiers: &[PTier<A>],
    method: TierMethod,
    basis: Basis,
    basis_cap: Option<A>,
    v: A,
    revenue: A,
    units: A,
    term: impl FnMut(usize, A, A),
) -> (A, u32, A) {
    let r = tiers.iter().take_while(|t| v.at_least(t.threshold)).count();
    ladder_terms_reached(tiers, method, basis, basis_cap, r, v, revenue, units, term)
}

/// [`ladder_terms`] once the number of tiers reached, `r` (the leading tiers whose threshold
/// `v` is [`Amount::at_least`]), is known: the engine's fast path counts them on thresholds
/// it lowers by the tolerance once, not on every call.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn ladder_terms_reached<A: Amount>(
    tiers: &[PTier<A>],
    method: TierMethod,
    basis: Basis,
    basis_cap: Option<A>,
    r: usize,
    v: A,
    revenue: A,
    units: A,
    mut term: impl FnMut(usize, A, A),
) -> (A, u32, A) {
    if r == 0 {
        return (A::ZERO, 0, A::ZERO);
    }
    let vc = match basis_cap {
        Some(c) => v.min_of(c),
        None => v,
    };
    let mut total = A::ZERO;
    let mut add = |i: usize, q: A| {
        let a = contribution(&tiers[i], basis, q, v, revenue, units);
        term(i, q, a);
        total = total.plus(a);
    };
    match method {
        TierMethod::Retroactive => add(r - 1, vc),
        TierMethod::Incremental => {
            for i in 0..r {
                let top = if i + 1 < r {
                    tiers[i + 1].threshold.min_of(vc)
                } else {
                    vc
                };
                add(i, top.minus(tiers[i].threshold).max_of(A::ZERO));
            }
        }
        TierMethod::Rolling => {
            for i in 0..r - 1 {
                let (lo, hi) = match basis_cap {
                    Some(c) => (
                        tiers[i].threshold.min_of(c),
                        tiers[i + 1].threshold.min_of(c),
                    ),
                    None => (tiers[i].threshold, tiers[i + 1].threshold),
                };
                add(i, hi.minus(lo));
            }
            add(r - 1, vc);
        }
        TierMethod::Total => {
            for i in 0..r {
                add(i, vc);
            }
        }
    }
    (total.max_of(A::ZERO), r as u32, vc)
}

/// Split `total` (a multiple of the minor unit) over `weights` in proportion, to the minor
/// unit, by largest remainder: each share is rounded down, then the minor units left are
/// handed one by one to the largest remainders (ties to the lowest index). The shares sum to
/// `total` (exactly in decimal; within float error in `f64`). Weights must be ≥ 0; when they
/// are all zero the total is split evenly. Writes `out[..weights.len()]`; `order` is scratch.
/// Agrees with [`crate::money::allocate`] on decimals.
pub fn allocate_into<A: Amount>(
    total: A,
    weights: &[A],
    dp: u32,
    out: &mut [A],
    order: &mut Vec<(A, usize)>,
) {
    let n = weights.len();
    if n == 0 {
        return;
    }
    let mut sum = A::ZERO;
    for w in weights {
        sum = sum.plus(*w);
    }
    let even = sum == A::ZERO;
    if even {
        let mut k = A::ZERO;
        for _ in 0..n {
            k += A::ONE;
        }
        sum = k;
    }
    order.clear();
    let mut allocated = A::ZERO;
    for (i, w) in weights.iter().enumerate() {
        let w = if even { A::ONE } else { *w };
        let exact = total.mul_div(w, sum);
        let floor = exact.floor_money(dp);
        out[i] = floor;
        allocated = allocated.plus(floor);
        order.push((exact.minus(floor), i));
    }
    let unit = A::unit(dp);
    // fewer than n minor units are left (each share lost less than one); the bound also keeps
    // an overflowed (Decimal) or infinite (f64) total from looping without end
    let left = total.minus(allocated).minor_units(dp).min(n as i64);
    if left <= 0 {
        return;
    }
    order.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    for j in 0..left as usize {
        out[order[j % n].1] += unit;
    }
}

/// Scratch buffers and results of [`Prepared::settle_partner`]: matrices of components ×
/// periods, each entry a cumulative amount to date (rounded to the minor unit).
#[derive(Debug, Clone)]
pub struct PartnerScratch<A> {
    periods: usize,
    window: Vec<A>,
    /// Rule outcome per component and period (the period's own for `measure = period`, the
    /// window to date for `measure = cumulative`). Index `c * periods + k`.
    pub outcome: Vec<Outcome<A>>,
    /// Entitlement to date. Index `c * periods + k`.
    pub entitled: Vec<A>,
    /// After the component cap.
    pub capped: Vec<A>,
    /// After exclusive groups.
    pub exclusive: Vec<A>,
    /// After the partner cap.
    pub partner_capped: Vec<A>,
    /// After the minimum payout: payable to date before the programme budget.
    pub payable: Vec<A>,
    weights: Vec<A>,
    shares: Vec<A>,
    order: Vec<(A, usize)>,
    /// Per component: its rows were cleared for an inactive component and not written since.
    clear: Vec<bool>,
}

impl<A: Amount> PartnerScratch<A> {
    /// Whether component `c` applies to the partner being settled. An inactive component's
    /// rows (outcome, entitlement, capped) are zeroed, once: they stay clear until the
    /// component is next active, instead of being rewritten for every partner.
    #[inline]
    pub fn set_active(&mut self, c: usize, active: bool) {
        if active {
            self.clear[c] = false;
        } else if !self.clear[c] {
            let row = c * self.periods;
            for k in 0..self.periods {
                self.outcome[row + k] = Outcome::default();
                self.entitled[row + k] = A::ZERO;
                self.capped[row + k] = A::ZERO;
            }
            self.clear[c] = true;
        }
    }

    /// Payable to date (before the budget) of component `c` at the end of period `k`.
    #[inline]
    pub fn payable(&self, c: usize, k: usize) -> A {
        self.payable[c * self.periods + k]
    }

    /// The partner's payable to date (before the budget) over all components at period `k`.
    pub fn total(&self, k: usize) -> A {
        let n = self.payable.len() / self.periods.max(1);
        let mut t = A::ZERO;
        for c in 0..n {
            t = t.plus(self.payable[c * self.periods + k]);
        }
        t
    }

    /// Number of periods per row.
    pub fn periods(&self) -> usize {
        self.periods
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money;
    use rust_decimal_macros::dec;

    fn tiers(t: &[(i64, &str)]) -> Vec<PTier<Decimal>> {
        t.iter()
            .map(|(th, r)| PTier {
                threshold: Decimal::from(*th),
                kind: RewardKind::Rate,
                value: Decimal::from_str(r).unwrap(),
            })
            .collect()
    }

    fn amount(method: TierMethod, cap: Option<Decimal>, v: Decimal) -> Decimal {
        let t = tiers(&[(10_000, "0.02"), (20_000, "0.03"), (50_000, "0.04")]);
        ladder_terms(
            &t,
            method,
            Basis::Revenue,
            cap,
            v,
            v,
            Decimal::ZERO,
            |_, _, _| {},
        )
        .0
    }

    #[test]
    fn ladder_methods() {
        let v = dec!(60000);
        assert_eq!(amount(TierMethod::Retroactive, None, v), dec!(2400));
        // 2%·10,000 + 3%·30,000 + 4%·10,000
        assert_eq!(amount(TierMethod::Incremental, None, v), dec!(1500));
        // 2%·10,000 + 3%·30,000 + 4%·60,000
        assert_eq!(amount(TierMethod::Rolling, None, v), dec!(3500));
        // 9%·60,000
        assert_eq!(amount(TierMethod::Total, None, v), dec!(5400));
        assert_eq!(
            amount(TierMethod::Retroactive, None, dec!(9999.99)),
            dec!(0)
        );
        assert_eq!(
            amount(TierMethod::Retroactive, Some(dec!(40000)), v),
            dec!(1600)
        );
        assert_eq!(
            amount(TierMethod::Incremental, Some(dec!(40000)), v),
            dec!(800)
        );
    }

    #[test]
    fn inline_round_and_floor_are_the_library_functions() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            0.3,
            -0.3,
            0.7,
            -0.7,
            1e-300,
            -1e-300,
            4.0e15 - 0.5,
            -4.0e15 + 0.5,
            4.0e15,
            4.5e15 + 0.5,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
        ];
        let mut x = 1e-6f64;
        while x < 1e17 {
            for y in [
                x,
                x + 0.5,
                x.floor() + 0.5,
                x.floor() + 0.5 - 1e-9,
                -x,
                -(x + 0.5),
                -(x.floor() + 0.5),
            ] {
                xs.push(y);
                xs.push(f64::from_bits(y.to_bits() + 1));
                xs.push(f64::from_bits(y.to_bits() - 1));
            }
            x *= 1.618;
        }
        for x in xs {
            assert_eq!(round_f64(x).to_bits(), x.round().to_bits(), "round {x:e}");
            assert_eq!(floor_f64(x).to_bits(), x.floor().to_bits(), "floor {x:e}");
        }
        assert!(round_f64(f64::NAN).is_nan() && floor_f64(f64::NAN).is_nan());
    }

    #[test]
    fn round_money_lanes_is_round_money() {
        use rand::{Rng, SeedableRng};
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut xs: Vec<f64> = vec![
            0.0,
            -0.0,
            0.005,
            -0.005,
            0.015,
            0.025,
            1.005,
            2.675,
            0.0049999999,
            0.0050000001,
            1e-12,
            -1e-12,
            39.995,
            1234.565,
            -1234.565,
            3.9e13,
            3.99e13,
            4.0e13,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        for _ in 0..20_000 {
            let magnitude = 10f64.powi(r.random_range(-3..14));
            let x: f64 = r.random_range(-1.0..1.0) * magnitude;
            // exact and near midpoints in cents, thousandths and units
            let cents = (x * 100.0).trunc() / 100.0 + 0.005;
            for y in [
                x,
                cents,
                cents + 1e-12 * magnitude,
                cents - 1e-10,
                (x * 1000.0).round() / 1000.0,
            ] {
                xs.push(y);
                xs.push(f64::from_bits(y.to_bits() + 1));
            }
        }
        for rounding in [Rounding::HalfUp, Rounding::HalfEven] {
            for dp in [0, 2, 3] {
                for chunk in xs.chunks_exact(8) {
                    let block: [f64; 8] = chunk.try_into().unwrap();
                    let want = block.map(|v| v.round_money(rounding, dp));
                    match round_money_lanes(&block, rounding, dp) {
                        Some(got) => {
                            for l in 0..8 {
                                assert_eq!(
                                    got[l].to_bits(),
                                    want[l].to_bits(),
                                    "{rounding:?} {dp} {}",
                                    block[l]
                                );
                            }
                        }
                        None => assert!(
                            block.iter().any(|v| !((v * pow10(dp)).abs() < 4.0e15)),
                            "{rounding:?} {dp} {block:?} refused"
                        ),
                    }
                }
            }
        }
        assert!(round_money_lanes(&[1.0; 8], Rounding::Down, 2).is_none());
        assert!(round_money_lanes(&[1.0; 8], Rounding::Up, 2).is_none());
    }

    #[test]
    fn pow10_table_is_powi() {
        for dp in 0..20 {
            assert_eq!(
                pow10(dp).to_bits(),
                10f64.powi(dp as i32).to_bits(),
                "dp {dp}"
            );
        }
    }

    #[test]
    fn f64_rounding_matches_decimal_at_midpoints() {
        for (x, dp) in [
            ("5.005", 2),
            ("-5.005", 2),
            ("0.125", 2),
            ("1234567.885", 2),
            ("2.5", 0),
            ("43.2075", 2),
        ] {
            let d = Decimal::from_str(x).unwrap();
            for r in [
                Rounding::HalfUp,
                Rounding::HalfEven,
                Rounding::Down,
                Rounding::Up,
            ] {
                let want = r.round(d, dp).to_f64().unwrap();
                let got = (d.to_f64().unwrap()).round_money(r, dp);
                assert_eq!(got, want, "{x} {r:?}");
            }
        }
        // a float product that lands just below the midpoint
        assert_eq!((1001.0f64 * 0.005).round_money(Rounding::HalfUp, 2), 5.01);
    }

    #[test]
    fn allocation_agrees_with_money() {
        let w = [dec!(3), dec!(1), dec!(1), dec!(0), dec!(7.5)];
        let mut out = [Decimal::ZERO; 5];
        let mut order = Vec::new();
        allocate_into(dec!(100.01), &w, 2, &mut out, &mut order);
        assert_eq!(out.to_vec(), money::allocate(dec!(100.01), &w, 2).unwrap());
        let wf: Vec<f64> = w.iter().map(|x| x.to_f64().unwrap()).collect();
        let mut outf = [0.0; 5];
        let mut orderf = Vec::new();
        allocate_into(100.01, &wf, 2, &mut outf, &mut orderf);
        for (a, b) in out.iter().zip(outf) {
            assert_eq!(a.to_f64().unwrap(), b);
        }
    }
}

#[cfg(test)]
mod pipeline_tests {
    use super::*;
    use crate::programme::{Format, Programme};
    use rust_decimal_macros::dec;

    fn programme(extra: &str, components: &str) -> Compiled {
        let text = format!(
            "name = \"T\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"half\"\nperiods = 2\n{extra}\n{components}"
        );
        Programme::from_str(&text, Format::Toml, None)
            .unwrap()
            .compile()
            .unwrap()
    }

    fn run<A: Amount>(p: &Compiled, volumes: &[(usize, usize, f64)]) -> PartnerScratch<A> {
        let prep: Prepared<A> = Prepared::new(p);
        let mut m = vec![A::ZERO; prep.measure_len()];
        for &(c, k, v) in volumes {
            let d = A::from_decimal(Decimal::from_f64(v).unwrap());
            m[prep.index(c, k, slot::VOLUME)] = d;
            m[prep.index(c, k, slot::REVENUE)] = d;
        }
        let mut s = prep.scratch();
        prep.settle_partner(
            &m,
            &vec![true; p.components.len()],
            &Baseline::default(),
            &mut s,
        );
        s
    }

    #[test]
    fn cumulative_true_up_erp_example() {
        let p = programme(
            "",
            "[[components]]\nid = \"v\"\nkind = \"volume\"\nmeasure = \"cumulative\"\ntiers = [{ from = 0, percent = 2 }, { from = 20000, percent = 4 }]",
        );
        let s = run::<Decimal>(&p, &[(0, 0, 7000.0), (0, 1, 20000.0)]);
        assert_eq!(s.payable(0, 0), dec!(140));
        assert_eq!(s.payable(0, 1), dec!(1080));
        let f = run::<f64>(&p, &[(0, 0, 7000.0), (0, 1, 20000.0)]);
        assert_eq!((f.payable(0, 0), f.payable(0, 1)), (140.0, 1080.0));
    }

    #[test]
    fn caps_groups_and_minimum() {
        let comps = "[[components]]\nid = \"a\"\nkind = \"volume\"\nexclusive_group = \"g\"\ntiers = [{ from = 0, percent = 10 }]\n\
                     [[components]]\nid = \"b\"\nkind = \"volume\"\nexclusive_group = \"g\"\ntiers = [{ from = 0, percent = 5 }]\n\
                     [[components]]\nid = \"c\"\nkind = \"volume\"\ncap = 30\ntiers = [{ from = 0, percent = 10 }]";
        let p = programme("partner_cap = 100\nminimum_payout = 50", comps);
        // a: 10% of 400 = 40, b: 5% of 1000 = 50 (wins), c: 10% of 1000 = 100 capped at 30
        let s = run::<Decimal>(&p, &[(0, 0, 400.0), (1, 0, 1000.0), (2, 0, 1000.0)]);
        assert_eq!(
            (s.payable(0, 0), s.payable(1, 0), s.payable(2, 0)),
            (dec!(0), dec!(50), dec!(30))
        );
        // period 2: a 10% of 1,000 more = 140 to date beats b (50 + 0); total 170 > cap 100
        let s = run::<Decimal>(
            &p,
            &[
                (0, 0, 400.0),
                (1, 0, 1000.0),
                (2, 0, 1000.0),
                (0, 1, 1000.0),
            ],
        );
        assert_eq!(s.exclusive[1], dec!(140));
        assert_eq!(s.total(1), dec!(100));
        assert_eq!(s.payable(0, 1) + s.payable(2, 1), dec!(100));
        // minimum payout: 10% of 400 = 40 < 50 → nothing
        let s = run::<Decimal>(&p, &[(0, 0, 400.0)]);
        assert_eq!(s.total(0), dec!(0));
    }
}
