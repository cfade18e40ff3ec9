//! Steps 9 and 10 of [`super::calibrate`]: the per-partner table and the fit diagnostics.

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::Ctx;
use super::{incidence::*, market::*, ratios::*};
use crate::calibrate::fit::TwoWay;
use crate::calibrate::panel::Panel;
use crate::calibrate::{Diagnostics, PartnerEstimates};
use chrono::{Datelike, NaiveDate};

/// The history month (index `t`) of each programme month 1 … 12 for the per-period
/// baselines: the history's last twelve months taken by calendar month from the
/// programme's first month (`start`'s month), so programme month `j` reads the last
/// history month of the same calendar month. Without a programme the programme is taken to
/// start the month after the history ends (the last twelve months, oldest first). A
/// programme starting before the history ends, or more than twelve months after it, gets
/// the same calendar mapping and a warning in `warnings` (its baselines are not the year
/// before it).
pub(in crate::calibrate) fn baseline_months(
    p: &Panel,
    start: Option<NaiveDate>,
    warnings: &mut Vec<String>,
) -> [usize; 12] {
    let t_len = p.months;
    let first = p.start.0 as i64 * 12 + p.start.1 as i64 - 1;
    let end = first + t_len as i64 - 1; // month number of the history's last month
    let s = start.map_or(end + 1, |d| d.year() as i64 * 12 + d.month0() as i64);
    if let Some(d) = start {
        let last = p.label(t_len - 1);
        if s <= end {
            warnings.push(format!(
                "programme starts on {d}, before the history ends ({last}): its monthly baselines are the history's last twelve months by calendar month, which overlap the programme rather than precede it"
            ));
        } else if s - end > 12 {
            warnings.push(format!(
                "programme starts on {d}, more than 12 months after the history ends ({last}): its monthly baselines are the history's last twelve months by calendar month, not the year before the programme"
            ));
        }
    }
    // the window is history months t_len-12 .. t_len-1 (month numbers end-11 ..= end)
    std::array::from_fn(|j| t_len - 12 + (s + j as i64 - (end - 11)).rem_euclid(12) as usize)
}

/// The per-partner table (`months`: the history month of each programme month, from
/// [`baseline_months`]).
pub(in crate::calibrate) fn partner_table(
    cx: &Ctx,
    inc: &Incidence,
    totals: &PartnerTotals,
    months: &[usize; 12],
    mixes: Vec<Vec<f64>>,
    mix_weight: Vec<f64>,
) -> PartnerEstimates {
    let Ctx {
        p,
        options,
        n,
        t_len,
        ..
    } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let k = options.churn_silent_months;
    let Incidence {
        firsts,
        lasts,
        buys,
        ..
    } = inc;
    let PartnerTotals { gross_i, units_i } = totals;
    PartnerEstimates {
        ids: p.ids.clone(),
        segment: p.seg.iter().map(|&g| seg_name(g)).collect(),
        buying_months: buys.clone(),
        first_purchase: firsts.iter().map(|&t| p.label(t)).collect(),
        last_purchase: lasts.iter().map(|&t| p.label(t)).collect(),
        churned: lasts.iter().map(|&l| t_len - 1 - l >= k).collect(),
        last12_revenue: (0..n)
            .map(|i| {
                p.gross[i * t_len + t_len.saturating_sub(12)..(i + 1) * t_len]
                    .iter()
                    .sum()
            })
            .collect(),
        demand_revenue: Vec::new(), // set by super::level::demand_revenue
        baseline_revenue_months: monthly(&p.gross, n, t_len, months),
        baseline_units_months: (units_i.iter().sum::<f64>() > 0.0)
            .then(|| monthly(&p.units, n, t_len, months)),
        baseline_months: months.iter().map(|&t| p.label(t)).collect(),
        unit_price: (0..n)
            .map(|i| {
                if units_i[i] > 0.0 {
                    Some(gross_i[i] / units_i[i])
                } else {
                    None
                }
            })
            .collect(),
        mix: mixes,
        mix_weight,
    }
}

/// Per partner, the values of `cells` (`[partner * T + t]`) in the history months
/// `months`, rounded to 6 decimals.
fn monthly(cells: &[f64], n: usize, t_len: usize, months: &[usize; 12]) -> Vec<[f64; 12]> {
    (0..n)
        .map(|i| std::array::from_fn(|j| (cells[i * t_len + months[j]] * 1e6).round() / 1e6))
        .collect()
}

/// Observed against fitted: segment effects, buying partners, the market path, churn curves
/// and a sample of residuals.
pub(in crate::calibrate) fn diagnostics(
    cx: &Ctx,
    fe: &TwoWay,
    pf: &PopulationFit,
    fitted_series: &[Vec<f64>],
    inc: &Incidence,
) -> Diagnostics {
    let Ctx {
        p,
        options,
        n,
        t_len,
        g_len,
        ..
    } = *cx;
    let res_pop = &pf.res_pop;
    let k = options.churn_silent_months;
    let Incidence {
        firsts,
        lasts,
        k_rule,
        inc_fits,
        ..
    } = inc;
    let mut diag = Diagnostics {
        months: (0..t_len).map(|t| p.label(t)).collect(),
        market_path: res_pop.clone(),
        ..Default::default()
    };
    for g in 0..g_len {
        diag.segment_effect
            .push(fe.f[g * t_len..(g + 1) * t_len].to_vec());
        diag.segment_fitted.push(fitted_series[g].clone());
        diag.buying.push(fe.n[g * t_len..(g + 1) * t_len].to_vec());
        let members: Vec<usize> = (0..n).filter(|&i| p.seg[i] == g && firsts[i] < k).collect();
        let m = members.len().max(1) as f64;
        diag.churn_observed.push(
            (0..t_len)
                .map(|t| members.iter().filter(|&&i| lasts[i] >= t).count() as f64 / m)
                .collect(),
        );
        let f = inc_fits[g];
        let a = (1.0 - f.h) * (1.0 - f.pi);
        let q = |nn: usize| {
            if f.h == 0.0 {
                a.powi(nn as i32)
            } else {
                f.h * (1.0 - a.powi(nn as i32)) / (1.0 - a) + a.powi(nn as i32)
            }
        };
        let trunc = 1.0 - q(t_len);
        diag.churn_fitted.push(
            (0..t_len)
                .map(|t| (1.0 - f.h).powi(t as i32) * (1.0 - q(t_len - t)) / trunc)
                .collect(),
        );
        diag.churn_k_rule.push(if k_rule[g].1 > 0.0 {
            k_rule[g].0 / k_rule[g].1
        } else {
            f64::NAN
        });
    }
    let stride = (n * t_len / 20_000).max(1);
    let mut cell = 0;
    while cell < n * t_len && diag.residual_sample.len() < 20_000 {
        let i = cell / t_len;
        let t = cell % t_len;
        let v = p.gross[cell];
        if v > 0.0 {
            diag.residual_sample
                .push(v.ln() - fe.a[i] - fe.f[p.seg[i] * t_len + t]);
        }
        cell += stride;
    }
    diag
}

/// Observed and fitted last-12-months purchases of the partners present over that whole year
/// (first purchase before it, not churned): observed the sum, fitted
/// `π_g Σ_t exp(a_i + f[g,t] + σ_e,g²/2)` over the same months (the partner's level, the
/// segment-month effect, lognormal noise on buying months, incidence).
pub(in crate::calibrate) fn annual_volumes(
    cx: &Ctx,
    fe: &TwoWay,
    inc: &Incidence,
    model: &crate::demand::Model,
) -> (Vec<f64>, Vec<f64>) {
    let Ctx {
        p,
        options,
        n,
        t_len,
        ..
    } = *cx;
    let from = t_len.saturating_sub(12);
    let k = options.churn_silent_months;
    let (mut obs, mut fit) = (Vec::new(), Vec::new());
    for i in 0..n {
        if inc.firsts[i] >= from.max(1) || t_len - 1 - inc.lasts[i] >= k {
            continue;
        }
        let g = p.seg[i];
        let name = &p.segments[g];
        let s = model
            .noise
            .segments
            .get(name)
            .copied()
            .unwrap_or(model.noise.sigma);
        let pi = inc.inc_fits[g].pi;
        let mut f = 0.0;
        for t in from..t_len {
            let e = fe.f[g * t_len + t];
            if e.is_finite() {
                f += pi * (fe.a[i] + e + 0.5 * s * s).exp();
            }
        }
        obs.push(p.gross[i * t_len + from..(i + 1) * t_len].iter().sum());
        fit.push(f);
    }
    (obs, fit)
}
