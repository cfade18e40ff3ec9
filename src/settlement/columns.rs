//! The lines of a settlement held as columns, and what their explanations are rebuilt from.
//!
//! A line is four small integers (partner, component, period, tier) and its seven amounts
//! (~130 bytes); its names, dates, volumes, reward and explanation are derived when asked from
//! the programme and the partner's kept measures (the kernel's pipeline re-run on them gives
//! the same outcome, entitlement and exclusive-group amounts the settlement computed), instead
//! of strings and an explanation text stored for every line up front (~1.15 KB a line).

use super::settle::{overflow_error, Ctx, PartnerWork};
use super::units::Amount;
pub(super) use super::units::Amounts;
use crate::error::Result;
use crate::money;
use crate::programme::Compiled;
use crate::rules::{Baseline, PartnerScratch, Prepared};
use rust_decimal::Decimal;

/// Number of amounts on a line: `calculated`, the five adjustments, `payable`.
pub(super) const AMOUNTS: usize = 7;

/// Index of `payable` in a line's amounts.
pub(super) const PAYABLE: usize = 6;

/// The lines as columns, in settlement order (partner id, component id, period): while a
/// settlement runs, `A` is a `Vec` of each line's amounts as they are written (an [`Amount`]:
/// minor units or `Decimal`s); a settlement holds them as [`Amounts`].
#[derive(Debug, Clone, Default)]
pub(super) struct LineColumns<A = Amounts> {
    /// Position of the line's partner in the settlement's partner list (id order).
    pub(super) partner: Vec<u32>,
    /// Component index (as in the programme's components, id order).
    pub(super) component: Vec<u32>,
    /// Period index, 0-based.
    pub(super) period: Vec<u32>,
    /// Tier reached.
    pub(super) tier: Vec<u32>,
    /// `calculated`, `adj_component_cap`, `adj_exclusive_group`, `adj_partner_cap`,
    /// `adj_minimum_payout`, `adj_budget_cut`, `payable`.
    pub(super) amounts: A,
}

impl<A> LineColumns<A> {
    /// Number of lines.
    pub(super) fn len(&self) -> usize {
        self.partner.len()
    }
}

impl<T: Amount> LineColumns<Vec<[T; AMOUNTS]>> {
    /// `n` lines of zeros, to be written in place through [`LineColumns::parts`]: every
    /// column comes zeroed from the allocator ([`zeroed`]), so its pages are first touched
    /// by the threads of the pool that write the lines, not by this one.
    pub(super) fn zeroed(n: usize) -> Self {
        LineColumns {
            partner: vec![0; n],
            component: vec![0; n],
            period: vec![0; n],
            tier: vec![0; n],
            amounts: zeroed(n),
        }
    }

    /// All the lines as one writable part, to be split between blocks of partners.
    pub(super) fn parts(&mut self) -> LineParts<'_, T> {
        LineParts {
            partner: &mut self.partner,
            component: &mut self.component,
            period: &mut self.period,
            tier: &mut self.tier,
            amounts: &mut self.amounts,
        }
    }

    /// The columns as a settlement holds them, amounts with exactly `dp` places.
    pub(super) fn held(self, dp: u32) -> LineColumns {
        LineColumns {
            partner: self.partner,
            component: self.component,
            period: self.period,
            tier: self.tier,
            amounts: T::column(self.amounts, dp),
        }
    }
}

/// Values whose all-zero bit pattern is a valid value, equal to zero.
///
/// # Safety
/// An implementor must be plain data (no pointers, no niche) for which all bits zero is a
/// valid value: a `Decimal` is four `u32`s (flags, hi, lo, mid) and all zeros is
/// `Decimal::ZERO` (positive, scale 0), checked by the tests of this module.
pub(crate) unsafe trait ZeroBits: Copy {}

// SAFETY: four `u32` fields; all zeros is `Decimal::ZERO` (see `zeroed_is_decimal_zero`).
unsafe impl ZeroBits for Decimal {}
// SAFETY: an integer; all zeros is 0.
unsafe impl ZeroBits for i64 {}
// SAFETY: an array of `ZeroBits` values.
unsafe impl<T: ZeroBits, const N: usize> ZeroBits for [T; N] {}

/// `n` zero values in memory the allocator returns zeroed (`calloc`). A large column then
/// comes as fresh pages that the kernel zeroes when they are first written, on whichever
/// thread writes them (the pool's, for a settlement's measures and lines), instead of this
/// thread writing `n` zeros up front: at 10^6 lines that serial fill was about a third of
/// the settlement's time on the calling thread.
pub(crate) fn zeroed<T: ZeroBits>(n: usize) -> Vec<T> {
    let layout = std::alloc::Layout::array::<T>(n).expect("a column within memory");
    if layout.size() == 0 {
        return Vec::new();
    }
    // SAFETY: `layout` has a non-zero size; the pointer is checked for null.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if ptr.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: allocated by the global allocator with `Layout::array::<T>(n)` (the layout a
    // `Vec<T>` of capacity `n` frees with), and `n` zeroed values are valid `T`s (`ZeroBits`).
    unsafe { Vec::from_raw_parts(ptr, n, n) }
}

/// A run of lines being written in place (a block of partners' part of [`LineColumns`]),
/// front to back by [`LineParts::set_next`].
pub(super) struct LineParts<'a, T> {
    partner: &'a mut [u32],
    component: &'a mut [u32],
    period: &'a mut [u32],
    tier: &'a mut [u32],
    amounts: &'a mut [[T; AMOUNTS]],
}

impl<T> Default for LineParts<'_, T> {
    fn default() -> Self {
        LineParts {
            partner: &mut [],
            component: &mut [],
            period: &mut [],
            tier: &mut [],
            amounts: &mut [],
        }
    }
}

impl<'a, T> LineParts<'a, T> {
    /// The first `n` lines and the rest.
    pub(super) fn split_at(self, n: usize) -> (LineParts<'a, T>, LineParts<'a, T>) {
        let (pa, pb) = self.partner.split_at_mut(n);
        let (ca, cb) = self.component.split_at_mut(n);
        let (ka, kb) = self.period.split_at_mut(n);
        let (ta, tb) = self.tier.split_at_mut(n);
        let (aa, ab) = self.amounts.split_at_mut(n);
        (
            LineParts {
                partner: pa,
                component: ca,
                period: ka,
                tier: ta,
                amounts: aa,
            },
            LineParts {
                partner: pb,
                component: cb,
                period: kb,
                tier: tb,
                amounts: ab,
            },
        )
    }

    /// Write the next line (the part's first unwritten one) and move past it.
    pub(super) fn set_next(
        &mut self,
        partner: usize,
        component: usize,
        period: usize,
        tier: u32,
        amounts: [T; AMOUNTS],
    ) {
        let (first, rest) = std::mem::take(self).split_at(1);
        first.partner[0] = partner as u32;
        first.component[0] = component as u32;
        first.period[0] = period as u32;
        first.tier[0] = tier;
        first.amounts[0] = amounts;
        *self = rest;
    }
}

/// What the lines' derived columns and explanations are rebuilt from: the programme, its
/// kernel form, and per partner (in the settlement's id order) its measures, active
/// components and baselines; the programme total to date per period (the budget's words).
#[derive(Debug, Clone)]
pub(super) struct Sources {
    /// The transaction table's name (for errors).
    pub(super) table: String,
    pub(super) programme: Compiled,
    pub(super) prep: Prepared<Decimal>,
    /// Partner-major, `prep.measure_len()` each.
    pub(super) measures: Vec<Decimal>,
    /// Partner-major, one per component.
    pub(super) active: Vec<bool>,
    pub(super) baselines: Vec<Baseline<Decimal>>,
    pub(super) programme_total: Vec<Decimal>,
}

impl Sources {
    /// The measures of partner `i` (settlement order).
    pub(super) fn measures_of(&self, i: usize) -> &[Decimal] {
        let n = self.prep.measure_len();
        &self.measures[i * n..(i + 1) * n]
    }

    /// Which components apply to partner `i`.
    pub(super) fn active_of(&self, i: usize) -> &[bool] {
        let n = self.prep.components.len();
        &self.active[i * n..(i + 1) * n]
    }

    /// The context explanations are written in.
    pub(super) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            p: &self.programme,
            prep: &self.prep,
            dp: self.prep.decimals,
            programme_total: &self.programme_total,
        }
    }

    /// Partner `i`'s work rebuilt: the kernel's pipeline re-run on its kept measures, exactly
    /// as the settlement ran it (the same outcome, entitlement and exclusive amounts).
    /// `partner_id` names it in the error of an amount beyond `Decimal`.
    pub(super) fn work(
        &self,
        i: usize,
        partner_id: &str,
        scratch: &mut PartnerScratch<Decimal>,
    ) -> Result<PartnerWork> {
        money::take_overflow();
        let measures = self.measures_of(i).to_vec();
        self.prep
            .settle_partner(&measures, self.active_of(i), &self.baselines[i], scratch);
        if money::take_overflow() {
            return Err(overflow_error(&self.table, partner_id, None, "its rebate"));
        }
        Ok(PartnerWork {
            measures,
            outcome: scratch.outcome.clone(),
            entitled: scratch.entitled.clone(),
            exclusive: scratch.exclusive.clone(),
            monthly: [
                self.baselines[i].revenue_months.is_some(),
                self.baselines[i].units_months.is_some(),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_is_decimal_zero() {
        assert_eq!(std::mem::size_of::<Decimal>(), 16);
        assert_eq!(Decimal::ZERO.serialize(), [0u8; 16]);
        let v: Vec<Decimal> = zeroed(5);
        assert_eq!(v.len(), 5);
        for x in &v {
            assert_eq!(*x, Decimal::ZERO);
            assert_eq!(x.scale(), 0);
            assert!(!x.is_sign_negative());
            assert_eq!(x.to_string(), "0");
            // a zero from the allocator adds like Decimal::ZERO (the result takes the other
            // operand, scale included)
            assert_eq!((*x + Decimal::new(150, 2)).to_string(), "1.50");
        }
        let lines: Vec<[Decimal; AMOUNTS]> = zeroed(3);
        assert_eq!(lines, vec![[Decimal::ZERO; AMOUNTS]; 3]);
        let mut grown: Vec<Decimal> = zeroed(1 << 20);
        assert!(grown.iter().all(|x| *x == Decimal::ZERO));
        grown.push(Decimal::ONE);
        assert_eq!(grown.len(), (1 << 20) + 1);
        assert!(zeroed::<Decimal>(0).is_empty());
    }
}
