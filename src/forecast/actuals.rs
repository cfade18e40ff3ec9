//! The actuals to date as a forecast reads them: checked (dates up to the forecast date, no
//! partner's cumulative net purchases negative after returns), placed in the programme's
//! months, and measured with the settlement's own measure code into what the conditioned
//! engine observes.

use crate::calendar::Calendar;
use crate::data::{Partners, Resolved, Transactions};
use crate::engine::conditioned::{MixEvidence, Observed};
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::rules::{slot, Prepared};
use chrono::NaiveDate;
use rust_decimal::prelude::*;
use std::collections::HashMap;

/// Refuse a forecast date outside the programme.
pub(super) fn check_as_of(calendar: &Calendar, as_of: NaiveDate) -> Result<()> {
    let (start, end) = (calendar.start, calendar.end());
    if as_of < start || as_of > end {
        return Err(Error::Request(format!(
            "as_of {as_of} is outside the programme ({start} to {end})"
        )));
    }
    Ok(())
}

/// Refuse actuals dated after the forecast date, naming the first such row.
pub(super) fn check_dates(actuals: &Transactions, as_of: NaiveDate) -> Result<()> {
    for (i, d) in actuals.date.iter().enumerate() {
        if *d > as_of {
            return Err(Error::data(
                &actuals.table,
                Some(i + 1),
                Some("date"),
                format!(
                    "date {d} is after the forecast date {as_of}: give actuals up to as_of only"
                ),
            ));
        }
    }
    Ok(())
}

/// The population as the settlement's partner table (ids, segments, baselines), checked
/// against the programme's segments.
pub(super) fn settlement_partners(
    programme: &Compiled,
    population: &Population,
) -> Result<Partners> {
    let mut partners = Partners::default();
    partners.table = population.table.clone();
    // monthly baselines too: the closed periods are settled against the same per-period
    // baselines as the engine forecasts the open ones with
    let months = |m: &Option<Box<[f64; 12]>>| {
        m.as_ref().and_then(|m| {
            let d = m.map(Decimal::from_f64);
            d.iter().all(Option::is_some).then(|| d.map(|x| x.expect("checked")))
        })
    };
    for i in 0..population.len() {
        let at = partners
            .push(
                &population.partner_id[i],
                population.segment_name(i),
                population.baseline_revenue[i].and_then(Decimal::from_f64),
                population.baseline_units[i].and_then(Decimal::from_f64),
            )
            .map_err(|m| Error::data(&population.table, Some(i + 1), Some("partner_id"), m))?;
        partners.set_months(
            at,
            months(&population.baseline_revenue_months[i]),
            months(&population.baseline_units_months[i]),
        );
    }
    partners.check_segments(programme)?;
    Ok(partners)
}

/// The rows of each partner (`partners` lists), in date order (rows of one day in table
/// order).
pub(super) fn rows_by_partner(
    actuals: &Transactions,
    resolved: &Resolved,
    partners: usize,
) -> Vec<Vec<usize>> {
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); partners];
    for (r, &p) in resolved.partner.iter().enumerate() {
        rows_of[p].push(r);
    }
    for rows in &mut rows_of {
        rows.sort_by_key(|&r| (actuals.date[r], r));
    }
    rows_of
}

/// Refuse a partner whose cumulative net revenue or quantity turns negative after returns
/// (lines of the same day count together: a return booked the same day as its sale), naming
/// the last return line of the day it happens.
pub(super) fn check_cumulative_returns(
    actuals: &Transactions,
    resolved: &Resolved,
    population: &Population,
    rows_of: &[Vec<usize>],
) -> Result<()> {
    for rows in rows_of {
        let (mut revenue, mut quantity) = (Decimal::ZERO, Decimal::ZERO);
        let mut first = 0;
        while first < rows.len() {
            let day = actuals.date[rows[first]];
            let mut end = first;
            while end < rows.len() && actuals.date[rows[end]] == day {
                revenue += actuals.revenue[rows[end]];
                quantity += actuals.quantity[rows[end]];
                end += 1;
            }
            let negative = |v: Decimal| v.is_sign_negative() && !v.is_zero();
            if negative(revenue) || negative(quantity) {
                let bad = rows[first..end]
                    .iter()
                    .copied()
                    .filter(|&r| {
                        actuals.revenue[r].is_sign_negative()
                            || actuals.quantity[r].is_sign_negative()
                    })
                    .max()
                    .unwrap_or(rows[end - 1]);
                let (column, value) = if negative(revenue) {
                    ("revenue", revenue)
                } else {
                    ("quantity", quantity)
                };
                return Err(Error::data(
                    &actuals.table,
                    Some(bad + 1),
                    Some(column),
                    format!(
                        "partner '{}' has a negative cumulative net {column} of {value} on {day} after returns: returns exceed the purchases to date",
                        population.partner_id[resolved.partner[bad]]
                    ),
                ));
            }
            first = end;
        }
    }
    Ok(())
}

/// How much of the programme the actuals cover: the complete months observed, and the share
/// of the month containing the forecast date that is still to simulate (1 when the date is
/// a month end, and then that month counts as observed).
#[derive(Debug, Clone, Copy)]
pub(super) struct MonthsObserved {
    /// Complete programme months observed.
    pub complete: usize,
    /// Share of month `complete` still to simulate.
    pub partial: f64,
    /// The programme month containing the forecast date.
    pub as_of_month: usize,
}

impl MonthsObserved {
    pub fn new(calendar: &Calendar, as_of: NaiveDate) -> MonthsObserved {
        let as_of_month = calendar.month_of(as_of).expect("checked") as usize;
        let month_start = |m: usize| {
            calendar
                .start
                .checked_add_months(chrono::Months::new(m as u32))
                .expect("validated dates")
        };
        let month_last = month_start(as_of_month + 1).pred_opt().expect("date");
        let (complete, partial) = if as_of == month_last {
            (as_of_month + 1, 1.0)
        } else {
            let days = (month_start(as_of_month + 1) - month_start(as_of_month)).num_days() as f64;
            let left = (month_last - as_of).num_days() as f64;
            (as_of_month, left / days)
        };
        MonthsObserved {
            complete,
            partial,
            as_of_month,
        }
    }
}

/// The actuals to date measured per partner: what the conditioned engine observes, and the
/// volumes the accrual journal needs.
pub(super) struct ActualsToDate {
    /// What the engine conditions on.
    pub observed: Observed,
    /// `partners × components`: basis volume to date.
    pub volume_to_date: Vec<f64>,
    /// `partners × components`: basis volume of the month containing the forecast date.
    pub volume_month: Vec<f64>,
}

/// Measure each partner's actuals with the settlement's measure code (all rows to date, and
/// the rows of the forecast date's month), and sum the gross revenue (positive lines) per
/// complete month.
#[allow(clippy::too_many_arguments)]
pub(super) fn measure_actuals(
    programme: &Compiled,
    prepared: &Prepared<Decimal>,
    population: &Population,
    actuals: &Transactions,
    resolved: &Resolved,
    rows_of: &[Vec<usize>],
    months: MonthsObserved,
) -> ActualsToDate {
    let partners = population.len();
    let measure_len = prepared.measure_len();
    let components = prepared.components.len();
    let periods = prepared.periods;
    let calendar = &programme.calendar;
    let month_of: Vec<usize> = actuals
        .date
        .iter()
        .map(|d| {
            calendar
                .month_of(*d)
                .expect("resolved dates are in the programme") as usize
        })
        .collect();
    let complete = months.complete;
    let mut measures = vec![0.0; partners * measure_len];
    let mut volume_to_date = vec![0.0; partners * components];
    let mut volume_month = vec![0.0; partners * components];
    let mut gross = vec![0.0; partners * complete];
    let mut partial_bought = vec![false; partners];
    let nc = actuals.category_keys.len();
    let mut mix = MixEvidence {
        categories: actuals.category_keys.clone(),
        revenue: vec![0.0; partners * nc],
        revenue_sq: vec![0.0; partners],
        gross_revenue: vec![0.0; partners],
        gross_units: vec![0.0; partners],
        lines: vec![0; partners],
    };
    let mut partner_measures = vec![Decimal::ZERO; measure_len];
    // a partner's measures of `rows` (the components in `active`), with settlement's code
    let mut orders = HashMap::new();
    let mut measure = |rows: &[usize], active: &[bool], into: &mut [Decimal]| {
        into.fill(Decimal::ZERO);
        crate::settlement::fill_measures(
            prepared,
            programme,
            actuals,
            resolved,
            rows,
            active,
            into,
            &mut orders,
        );
    };
    // the basis volume of every component over all periods of a partner's measures
    let volume = |m: &[Decimal], c: usize| -> f64 {
        let comp = &prepared.components[c];
        (0..periods)
            .map(|k| decimal_to_f64(m[comp.offset + k * comp.slots + slot::VOLUME]))
            .sum()
    };
    for i in 0..partners {
        let active: Vec<bool> = programme
            .components
            .iter()
            .map(|c| {
                c.scope
                    .includes_partner(&population.partner_id[i], population.segment_name(i))
            })
            .collect();
        let rows = &rows_of[i];
        measure(rows, &active, &mut partner_measures);
        for (j, v) in partner_measures.iter().enumerate() {
            measures[i * measure_len + j] = decimal_to_f64(*v);
        }
        for c in 0..components {
            volume_to_date[i * components + c] = volume(&partner_measures, c);
        }
        let month_rows: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&r| month_of[r] == months.as_of_month)
            .collect();
        measure(&month_rows, &active, &mut partner_measures);
        for c in 0..components {
            volume_month[i * components + c] = volume(&partner_measures, c);
        }
        let gross_row = &mut gross[i * complete..(i + 1) * complete];
        partial_bought[i] = tally_purchases(actuals, rows, &month_of, i, &mut mix, gross_row);
    }
    ActualsToDate {
        observed: Observed {
            t_obs: complete,
            partial: months.partial,
            gross,
            partial_bought,
            measures,
            mix,
        },
        volume_to_date,
        volume_month,
    }
}

/// Adds partner `i`'s purchases (positive revenue lines among `rows`) to its category mix
/// and to its gross revenue per complete month (`gross_row`, one entry per complete month;
/// `month_of` gives each row's programme month); returns whether it bought in the month of
/// the forecast date (after the complete months).
fn tally_purchases(
    actuals: &Transactions,
    rows: &[usize],
    month_of: &[usize],
    i: usize,
    mix: &mut MixEvidence,
    gross_row: &mut [f64],
) -> bool {
    let complete = gross_row.len();
    let nc = mix.categories.len();
    let mut partial_bought = false;
    for &r in rows {
        let m = month_of[r];
        let revenue = actuals.revenue[r];
        if revenue > Decimal::ZERO {
            let rv = decimal_to_f64(revenue);
            mix.lines[i] += 1;
            let q = decimal_to_f64(actuals.quantity[r]);
            if q > 0.0 {
                mix.gross_revenue[i] += rv;
                mix.gross_units[i] += q;
            }
            if let Some(k) = actuals.category.as_ref().and_then(|c| c[r]) {
                mix.revenue[i * nc + k as usize] += rv;
                mix.revenue_sq[i] += rv * rv;
            }
            if m < complete {
                gross_row[m] += decimal_to_f64(revenue);
            } else {
                partial_bought = true;
            }
        }
    }
    partial_bought
}

/// A Decimal as f64 (NaN if it has no f64 value).
pub(super) fn decimal_to_f64(d: Decimal) -> f64 {
    crate::money::to_f64(d)
}
