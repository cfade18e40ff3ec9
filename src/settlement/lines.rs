//! A settlement's [`Line`]s built from its columns when asked: names, dates, volumes and
//! reward from the programme and the partner's kept measures, the explanation from the
//! partner's pipeline re-run ([`Sources::work`]).

use super::columns::{Sources, PAYABLE};
use super::result::{Line, Settlement};
use super::settle::{overflow_error, PartnerWork};
use super::text::{kind_name, reward_columns};
use crate::error::Result;
use crate::money;
use crate::rules::{slot, PreparedRule};
use rust_decimal::Decimal;
use std::ops::Range;

/// What a forecast takes of a settled line: no names, reward or explanation to build.
pub(crate) struct LineFigures {
    /// The partner's index in the partner table settled.
    pub(crate) partner: usize,
    /// The component's index in the programme.
    pub(crate) component: usize,
    /// Period index, 0-based (the calendar's).
    pub(crate) period: usize,
    pub(crate) payable: Decimal,
    pub(crate) budget_cut: Decimal,
    /// Volume measured in the period (units for a per-unit rule, else the rule's volume).
    pub(crate) volume_period: Decimal,
}

impl Settlement {
    /// Each partner's measures of its transactions (the settlement's kept measures), indexed
    /// by the partner's position in the partner table settled: what the forecast takes as its
    /// actuals to date instead of measuring them again.
    pub(crate) fn measures_by_table_partner(&self) -> Vec<&[Decimal]> {
        let mut out: Vec<&[Decimal]> = vec![&[]; self.table_index.len()];
        for (wi, &pi) in self.table_index.iter().enumerate() {
            out[pi as usize] = self.sources.measures_of(wi);
        }
        out
    }

    /// Call `f` with the figures of every line, in line order: cheap (no explanation, no
    /// strings built), for the forecast's books and closed periods.
    pub(crate) fn for_each_line_figures(&self, mut f: impl FnMut(LineFigures)) {
        let src = &self.sources;
        for (wi, &partner) in self.table_index.iter().enumerate() {
            let (a, b) = self.line_range[wi];
            let measures = src.measures_of(wi);
            for i in a..b {
                let (c, k) = (
                    self.lines.component[i] as usize,
                    self.lines.period[i] as usize,
                );
                let am = &self.lines.amounts;
                f(LineFigures {
                    partner: partner as usize,
                    component: c,
                    period: k,
                    payable: am.at(i, PAYABLE),
                    budget_cut: am.at(i, PAYABLE - 1),
                    volume_period: period_volume(src, measures, c, k),
                });
            }
        }
    }

    /// Call `f` with every line (its position and the [`Line`] with its explanation) of the
    /// partners at `partners` (positions in [`Settlement::partners`]), in order; each
    /// partner's pipeline is re-run once for its explanations.
    pub fn for_each_line(
        &self,
        partners: Range<usize>,
        mut f: impl FnMut(usize, Line) -> Result<()>,
    ) -> Result<()> {
        let src = &self.sources;
        let ctx = src.ctx();
        let mut scratch = src.prep.scratch();
        for wi in partners {
            let (a, b) = self.line_range[wi];
            if a == b {
                continue;
            }
            let pid = &self.partners[wi].partner_id;
            let w = src.work(wi, pid, &mut scratch)?;
            for i in a..b {
                let mut line = self.bare_line(i, &w);
                let c = self.lines.component[i] as usize;
                let k = self.lines.period[i] as usize;
                let am = self.lines.amounts.get(i);
                let adj = [am[1], am[2], am[3], am[4], am[5]];
                line.explanation = ctx.explanation(&w, c, k, am[0], adj, am[PAYABLE]);
                if money::take_overflow() {
                    return Err(overflow_error(
                        &src.table,
                        pid,
                        Some(&src.prep.components[c].id),
                        "the explanation of its rebate",
                    ));
                }
                f(i, line)?;
            }
        }
        Ok(())
    }

    /// The explanations of the lines at `rows` (positions in line order), in that order.
    pub fn explanations(&self, rows: &[usize]) -> Result<Vec<String>> {
        let n = self.lines.len();
        if let Some(bad) = rows.iter().find(|&&i| i >= n) {
            return Err(crate::error::Error::Request(format!(
                "line {bad} does not exist: the settlement has {n} lines"
            )));
        }
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&j| rows[j]);
        let mut out = vec![String::new(); rows.len()];
        let mut next = 0;
        let mut partners: Vec<usize> = rows
            .iter()
            .map(|&i| self.lines.partner[i] as usize)
            .collect();
        partners.sort_unstable();
        partners.dedup();
        for wi in partners {
            self.for_each_line(wi..wi + 1, |i, l| {
                while next < order.len() && rows[order[next]] == i {
                    out[order[next]] = l.explanation.clone();
                    next += 1;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// Line `i` without its explanation (empty), its volumes from the partner's `w`.
    fn bare_line(&self, i: usize, w: &PartnerWork) -> Line {
        let src = &self.sources;
        let (c, k) = (
            self.lines.component[i] as usize,
            self.lines.period[i] as usize,
        );
        let pt = &self.partners[self.lines.partner[i] as usize];
        let pc = &src.prep.components[c];
        let cal = &src.programme.calendar;
        let (volume_period, volume_to_date) = line_volumes(src, &w.measures, c, k);
        let tier = self.lines.tier[i];
        let (basis, tier_threshold, reward) = reward_columns(&pc.rule, tier, src.prep.decimals);
        let a = self.lines.amounts.get(i);
        Line {
            partner_id: pt.partner_id.clone(),
            segment: pt.segment.clone(),
            component: pc.id.clone(),
            kind: kind_name(&pc.rule).to_owned(),
            period: k as u32 + 1,
            period_label: cal.label(k as u32),
            period_start: cal.period_start(k as u32),
            period_end: cal.period_end(k as u32),
            basis: basis.to_owned(),
            volume_period,
            volume_to_date,
            tier,
            tier_threshold,
            reward,
            calculated: a[0],
            adj_component_cap: a[1],
            adj_exclusive_group: a[2],
            adj_partner_cap: a[3],
            adj_minimum_payout: a[4],
            adj_budget_cut: a[5],
            payable: a[PAYABLE],
            payment_date: src.programme.payment_date(k as u32),
            explanation: String::new(),
        }
    }
}

/// The volume of component `c` measured in period `k` and from the programme start to its
/// end (units for a per-unit rule, else the rule's volume), from a partner's `measures`.
pub(super) fn line_volumes(
    src: &Sources,
    measures: &[Decimal],
    c: usize,
    k: usize,
) -> (Decimal, Decimal) {
    let prep = &src.prep;
    let vol_slot = volume_slot(prep, c);
    let volume_period = measures[prep.index(c, k, vol_slot)];
    let volume_to_date: Decimal = (0..=k).map(|j| measures[prep.index(c, j, vol_slot)]).sum();
    (volume_period, volume_to_date)
}

/// The period volume of [`line_volumes`] alone (what the forecast's books read of a line,
/// without summing the volume to date).
fn period_volume(src: &Sources, measures: &[Decimal], c: usize, k: usize) -> Decimal {
    measures[src.prep.index(c, k, volume_slot(&src.prep, c))]
}

/// The measure slot a line's volume is read from: units for an amount per unit, else the
/// component's volume.
fn volume_slot(prep: &crate::rules::Prepared<Decimal>, c: usize) -> usize {
    if matches!(prep.components[c].rule, PreparedRule::PerUnit { .. }) {
        slot::UNITS
    } else {
        slot::VOLUME
    }
}
