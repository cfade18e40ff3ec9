//! The settlement's last pass over its lines: each line's budget cut and payable, and the
//! partner and programme totals, blocks of partners on the thread pool.

use super::amounts::at_dp;
use super::columns::{AMOUNTS, PAYABLE};
use super::result::{PartnerTotal, Totals};
use super::settle::{programme_overflow, Measured, Run, PARTNERS_PER_BLOCK};
use super::units::Amount;
use crate::error::Result;
use rayon::prelude::*;
use rust_decimal::Decimal;

/// A partner whose lines are finished: its id, segment and totals (`None` if they overflow
/// or are not exact).
struct Finished {
    partner_id: String,
    segment: String,
    totals: Option<Totals>,
}

/// The partner and programme totals of the lines and the range of each partner's lines.
pub(super) struct LineSet {
    pub(super) partner_totals: Vec<PartnerTotal>,
    pub(super) total: Totals,
    pub(super) line_range: Vec<(usize, usize)>,
}

impl Run<'_> {
    /// The budget cut and payable of every line, with the partner and programme totals.
    /// The lines of a block of partners are finished on the thread pool; the partner totals
    /// are then added in id order (an overflow is reported for the first partner in id order,
    /// as one pass would). `None` if a line's budget cut or payable cannot be held as `T`.
    pub(super) fn finish_lines<T: Amount>(&self, m: &mut Measured<T>) -> Result<Option<LineSet>> {
        let dp = self.prep.decimals;
        let mut set = LineSet {
            partner_totals: Vec::with_capacity(m.order.len()),
            total: Totals::zero(dp),
            line_range: Vec::with_capacity(m.order.len()),
        };
        let Some(totals) = self.finish_partner_lines(m) else {
            return Ok(None);
        };
        let mut i = 0;
        for (&pi, (pt, count)) in m.order.iter().zip(totals) {
            let totals = pt
                .totals
                .ok_or_else(|| self.overflow(pi, None, "its total"))?;
            // the programme total as the sum of the partner totals: the same exact sum as
            // over the lines, one addition per partner
            set.total
                .add(&totals.amounts())
                .filter(|()| set.total.within(self.limit))
                .ok_or_else(|| programme_overflow(&self.tx.table, "the programme"))?;
            set.line_range.push((i, i + count));
            i += count;
            set.partner_totals.push(PartnerTotal {
                partner_id: pt.partner_id,
                segment: pt.segment,
                totals,
            });
        }
        Ok(Some(set))
    }

    /// Every line's budget cut and payable, blocks of partners on the thread pool; per
    /// partner (id order) its totals (`None` if they overflow or are not exact), with its id
    /// and segment (copied on the pool), and its number of lines. `None` if an amount cannot
    /// be held as `T`.
    fn finish_partner_lines<T: Amount>(
        &self,
        m: &mut Measured<T>,
    ) -> Option<Vec<(Finished, usize)>> {
        let prep = self.prep;
        let dp = prep.decimals;
        let (components, periods) = (prep.components.len(), prep.periods);
        let cells = components * periods;
        let counts: Vec<usize> = (0..m.order.len())
            .map(|w| {
                m.active[w * components..(w + 1) * components]
                    .iter()
                    .filter(|&&x| x)
                    .count()
                    * periods
            })
            .collect();
        let budgeted = m.budgeted.as_deref();
        let payable = &m.payable;
        let (component, period, order) = (&m.lines.component, &m.lines.period, &m.order);
        let mut rest: &mut [[T; AMOUNTS]] = &mut m.lines.amounts;
        let mut jobs = Vec::new();
        let mut line = 0;
        for (b, block) in counts.chunks(PARTNERS_PER_BLOCK).enumerate() {
            let n: usize = block.iter().sum();
            let (here, later) = std::mem::take(&mut rest).split_at_mut(n);
            rest = later;
            jobs.push((b * PARTNERS_PER_BLOCK, block, line, here));
            line += n;
        }
        let finish =
            |(first, block, line, amounts): (usize, &[usize], usize, &mut [[T; AMOUNTS]])| {
                let mut out = Vec::with_capacity(block.len());
                let mut i = 0;
                for (j, &count) in block.iter().enumerate() {
                    let wi = first + j;
                    let mut pt = Some(T::sum_zero(dp));
                    for a in &mut amounts[i..i + count] {
                        let (c, k) = (component[line + i] as usize, period[line + i] as usize);
                        i += 1;
                        if let Some(budgeted) = budgeted {
                            let at = |v: &[Decimal], k: usize| v[wi * cells + c * periods + k];
                            let diff = |v: &[Decimal]| {
                                if k == 0 {
                                    at(v, 0)
                                } else {
                                    at(v, k) - at(v, k - 1)
                                }
                            };
                            a[PAYABLE] = T::from_amount(at_dp(diff(budgeted), dp), dp)?;
                            a[PAYABLE - 1] =
                                T::from_amount(at_dp(diff(budgeted) - diff(payable), dp), dp)?;
                        }
                        // without a budget the cut and payable written before are these (the
                        // same expressions on the same payable to date: `line_amounts`)
                        pt = pt.and_then(|mut t| T::sum_add(&mut t, a).map(|()| t));
                    }
                    let pi = order[wi];
                    let finished = Finished {
                        partner_id: self.partners.ids[pi].clone(),
                        segment: self.partners.segments[pi].clone(),
                        totals: pt
                            .and_then(|t| T::totals(t, dp))
                            .filter(|t| t.within(self.limit)),
                    };
                    out.push((finished, count));
                }
                Some(out)
            };
        let blocks: Vec<Option<Vec<(Finished, usize)>>> =
            jobs.into_par_iter().map(finish).collect();
        let mut out = Vec::with_capacity(m.order.len());
        for block in blocks {
            out.append(&mut block?);
        }
        Some(out)
    }
}
