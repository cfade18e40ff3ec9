//! The forecast's books at the close: what the actuals settle for the closed periods, what was
//! booked before, and from them the reconciliation and the liability roll-forward per
//! partner and component, per component and in total ([`rollforward`](super::rollforward)
//! has the arithmetic and its definitions).

use super::closed::SettledLine;
use super::prior::PriorAccruals;
use super::rollforward::{roll, Position, Roll};
use super::Forecast;
use crate::data::Partners;
use crate::error::{Error, Result};
use crate::programme::Compiled;
use chrono::NaiveDate;
use rust_decimal::prelude::*;
use serde::Serialize;

/// A settled line of a closed period: partner × component `j`, its period (0-based), payment date,
/// payable amount and basis volume.
#[derive(Debug, Clone)]
pub(super) struct ClosedLine {
    j: usize,
    period: usize,
    payment_date: NaiveDate,
    payable: Decimal,
    volume: Decimal,
}

/// What the books of a forecast need beyond its scenarios.
#[derive(Debug, Clone)]
pub(super) struct Books {
    /// The opening date of the month: the day before the programme month containing the
    /// forecast date starts.
    pub opening: NaiveDate,
    /// The period containing the forecast date.
    pub as_of_period: usize,
    /// Whether that period ends on the forecast date (its month's sales are then settled).
    pub as_of_period_closed: bool,
    /// The settlement of the actuals, lines of the closed periods only.
    closed: Vec<ClosedLine>,
    /// `partners × components`: the prior accruals (0 without a row).
    pub prior: Vec<Decimal>,
    /// The partner table's name (errors).
    pub partners_table: String,
}

/// The books' closed lines gathered from the settled lines as they go by (the forecast reads
/// the settlement's lines once: [`super::closed::settle_closed`] hands each to [`Self::take`]).
pub(super) struct ClosedLines {
    components: usize,
    /// Per period: whether it ended on or before the forecast date, and its payment date.
    periods: Vec<(bool, NaiveDate)>,
    closed: Vec<ClosedLine>,
}

impl ClosedLines {
    /// Nothing gathered yet, for a forecast at `as_of` (checked inside the programme).
    pub(super) fn new(programme: &Compiled, as_of: NaiveDate) -> ClosedLines {
        let calendar = &programme.calendar;
        ClosedLines {
            components: programme.components.len(),
            periods: (0..calendar.periods)
                .map(|k| (calendar.period_end(k) <= as_of, programme.payment_date(k)))
                .collect(),
            closed: Vec::new(),
        }
    }

    /// Keep line `l` when its period is closed.
    pub(super) fn take(&mut self, l: &SettledLine) {
        let (is_closed, payment_date) = self.periods[l.period];
        if is_closed {
            self.closed.push(ClosedLine {
                j: l.partner * self.components + l.component,
                period: l.period,
                payment_date,
                payable: l.payable,
                volume: l.volume,
            });
        }
    }
}

impl Books {
    /// The books of a forecast at `as_of`: the lines of the actuals' settlement in the periods
    /// ended on or before `as_of` (`lines`, gathered from the settlement) and the prior
    /// accruals.
    pub(super) fn new(
        programme: &Compiled,
        partners: &Partners,
        lines: ClosedLines,
        as_of: NaiveDate,
        prior: Vec<Decimal>,
    ) -> Books {
        let calendar = &programme.calendar;
        let month = calendar.month_of(as_of).expect("checked");
        let month_start = calendar
            .start
            .checked_add_months(chrono::Months::new(month))
            .expect("validated dates");
        let as_of_period = calendar.period_of(as_of).expect("checked");
        Books {
            opening: month_start.pred_opt().expect("date"),
            as_of_period: as_of_period as usize,
            as_of_period_closed: calendar.period_end(as_of_period) == as_of,
            closed: lines.closed,
            prior,
            partners_table: partners.table.clone(),
        }
    }
}

/// One row of the reconciliation and roll-forward: a component (or `total`), optionally of
/// one segment or partner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRow {
    /// Component id, or `total`.
    pub component: String,
    /// Segment (rows per segment only).
    pub segment: Option<String>,
    /// Partner (rows per partner only).
    pub partner_id: Option<String>,
    /// The amounts.
    #[serde(flatten)]
    pub roll: Roll,
    /// The constrained amount of the open periods (at the forecast's confidence): the
    /// constrained final payout less the settled closed periods (component and total rows).
    pub open_constrained: Option<Decimal>,
}

/// How fine the rows of [`Forecast::ledger_rows`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerLevel {
    /// One row per component and a total.
    Component,
    /// One row per segment and component, and a total.
    Segment,
    /// One row per partner and component that has any amount.
    Partner,
}

fn dec(v: f64) -> Decimal {
    Decimal::from_f64(v).unwrap_or_default()
}

impl Forecast {
    /// The opening date of the roll-forward: the last day before the forecast date's month.
    pub fn opening_date(&self) -> NaiveDate {
        self.books.opening
    }

    /// The prior accruals per partner and component (`partners × components`) from a table,
    /// checked: unknown partners or components, and pairs given twice, are errors naming the
    /// row.
    pub fn booked_from(&self, accruals: &PriorAccruals) -> Result<Vec<Decimal>> {
        super::prior::booked_amounts(
            accruals,
            &self.partner_ids,
            &self.books.partners_table,
            &self.components,
        )
    }

    /// What a previous forecast required to date per partner and component, as the amounts
    /// booked before this one. The previous forecast must be of the same programme and
    /// partners and dated on this forecast's opening date.
    pub fn booked_from_forecast(&self, previous: &Forecast) -> Result<Vec<Decimal>> {
        if previous.programme != self.programme
            || previous.partner_ids != self.partner_ids
            || previous.components != self.components
        {
            return Err(Error::Request(
                "the previous forecast is of another programme or partner table".into(),
            ));
        }
        if previous.as_of != self.books.opening {
            return Err(Error::Request(format!(
                "the previous forecast is dated {}, expected the opening date {} (the month end before {})",
                previous.as_of, self.books.opening, self.as_of
            )));
        }
        Ok(previous.rolls(None).iter().map(|r| r.required).collect())
    }

    /// The position of every partner and component (`partners × components`), with `booked`
    /// amounts before (the forecast's prior accruals when `None`).
    pub fn positions(&self, booked: Option<&[Decimal]>) -> Vec<Position> {
        let components = self.components.len();
        let n = self.partner_ids.len() * components;
        let booked = booked.unwrap_or(self.books.prior.as_slice());
        let mut out: Vec<Position> = (0..n)
            .map(|j| Position {
                booked_before: booked[j],
                ..Default::default()
            })
            .collect();
        let mut closed_volume = vec![Decimal::ZERO; n];
        let mut month_period = vec![(Decimal::ZERO, Decimal::ZERO); n];
        for l in &self.books.closed {
            let p = &mut out[l.j];
            if l.payment_date <= self.books.opening {
                p.paid_before += l.payable;
            }
            if l.payment_date <= self.as_of {
                p.paid_to_date += l.payable;
            } else {
                p.payable += l.payable;
            }
            closed_volume[l.j] += l.volume;
            if l.period == self.books.as_of_period {
                month_period[l.j].0 += l.payable;
                month_period[l.j].1 += l.volume;
            }
        }
        for (j, p) in out.iter_mut().enumerate() {
            let (i, c) = (j / components, j % components);
            p.closed_adjustment = dec(self.closed_adjustments(i, c).total());
            let month = dec(self.volume_month[j]);
            let to_date = dec(self.volume_to_date[j]);
            let settled = p.paid_to_date + p.payable;
            let (closed_month, open_month) = if self.books.as_of_period_closed {
                (month, Decimal::ZERO)
            } else {
                (Decimal::ZERO, month)
            };
            p.closed_volume_month = closed_month;
            p.closed_volume_before = closed_volume[j] - closed_month;
            (p.month_period_settled, p.month_period_volume) = month_period[j];
            p.open_volume_month = open_month;
            p.open_volume_before = to_date - closed_volume[j] - open_month;
            p.open_expected = dec(self.mean_partner_component[j]) - settled - p.closed_adjustment;
            p.open_volume_final = dec(self.volume_final[j]) - closed_volume[j];
        }
        out
    }

    /// The reconciliation and roll-forward of every partner and component
    /// (`partners × components`).
    pub fn rolls(&self, booked: Option<&[Decimal]>) -> Vec<Roll> {
        self.positions(booked)
            .iter()
            .map(|p| roll(p, self.rounding, self.decimals))
            .collect()
    }

    /// The reconciliation and roll-forward per component (components in programme order)
    /// and in total, per segment and component, or per partner and component (partners and
    /// components in id order, rows with no amount left out); with `booked` amounts before
    /// (the forecast's prior accruals when `None`).
    pub fn ledger_rows(&self, level: LedgerLevel, booked: Option<&[Decimal]>) -> Vec<LedgerRow> {
        let rolls = self.rolls(booked);
        let components = self.components.len();
        let partners = self.partner_ids.len();
        let row =
            |component: &str, segment: Option<&str>, partner: Option<&str>, roll: Roll| LedgerRow {
                component: component.to_owned(),
                segment: segment.map(str::to_owned),
                partner_id: partner.map(str::to_owned),
                roll,
                open_constrained: None,
            };
        match level {
            LedgerLevel::Partner => {
                let mut order: Vec<usize> = (0..partners).collect();
                order.sort_by(|&a, &b| self.partner_ids[a].cmp(&self.partner_ids[b]));
                let mut corder: Vec<usize> = (0..components).collect();
                corder.sort_by(|&a, &b| self.components[a].cmp(&self.components[b]));
                let mut out = Vec::new();
                for &i in &order {
                    for &c in &corder {
                        let r = &rolls[i * components + c];
                        if !r.is_zero() {
                            out.push(row(
                                &self.components[c],
                                Some(&self.partner_segments[i]),
                                Some(&self.partner_ids[i]),
                                r.clone(),
                            ));
                        }
                    }
                }
                out
            }
            LedgerLevel::Component => {
                let mut out: Vec<LedgerRow> = Vec::with_capacity(components + 1);
                let mut total = Roll::default();
                for c in 0..components {
                    let mut sum = Roll::default();
                    for i in 0..partners {
                        sum.add(&rolls[i * components + c]);
                    }
                    total.add(&sum);
                    let constrained = self.rounding.round(
                        dec(super::distribution::distribution(
                            &self.component_payout(c),
                            self.confidence,
                        )
                        .constrained
                        .value),
                        self.decimals,
                    ) - sum.settled_paid
                        - sum.settled_payable
                        - sum.closed_adjustment;
                    let mut r = row(&self.components[c], None, None, sum);
                    r.open_constrained = Some(constrained);
                    out.push(r);
                }
                // the total's constrained amount is the constrained total payout (not a sum:
                // quantiles do not add up)
                let constrained = self.rounding.round(
                    dec(self.total_distribution().constrained.value),
                    self.decimals,
                ) - total.settled_paid
                    - total.settled_payable
                    - total.closed_adjustment;
                let mut r = row("total", None, None, total);
                r.open_constrained = Some(constrained);
                out.push(r);
                out
            }
            LedgerLevel::Segment => {
                let mut out = Vec::new();
                let mut total = Roll::default();
                let segment_of: Vec<usize> = (0..partners)
                    .map(|i| {
                        self.segments
                            .iter()
                            .position(|s| *s == self.partner_segments[i])
                            .unwrap_or(0)
                    })
                    .collect();
                for (g, segment) in self.segments.iter().enumerate() {
                    for c in 0..components {
                        let mut sum = Roll::default();
                        for i in (0..partners).filter(|&i| segment_of[i] == g) {
                            sum.add(&rolls[i * components + c]);
                        }
                        total.add(&sum);
                        out.push(row(&self.components[c], Some(segment), None, sum));
                    }
                }
                out.push(row("total", None, None, total));
                out
            }
        }
    }
}
