//! The programme budget: the total after the budget ([`Prepared::budget_total`]) and the
//! split of an amount over weights to the minor unit by largest remainder ([`allocate_into`]),
//! used for the partner cap and the budget cut.

use super::{Amount, Prepared};

impl<A: Amount> Prepared<A> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money;
    use rust_decimal::prelude::*;
    use rust_decimal_macros::dec;

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
