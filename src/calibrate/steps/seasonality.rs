//! Step 5 of [`super::calibrate`]: seasonality and growth of the population and of each
//! segment (sandwich standard errors), the segments' seasonality shrunk toward the population's.

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{market::*, segment_factor::*};
use super::{Acc, Ctx};
use crate::calibrate::fit::{self, TwoWay};
use crate::calibrate::linalg::{t95, Mat};
use crate::calibrate::{est, num, Estimate, SegmentYearFit};
use crate::demand::Model;

const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const SEASON_METHOD: &str = "OLS of monthly effects on calendar-month dummies and a linear trend; sandwich SE under the fitted market AR(1), segment-year and averaging noise; t interval";

/// Growth rate from its log coefficient `b`: the rate, its delta-method SE and the t interval
/// (quantile `t_q`) transformed back.
fn growth_estimate(b: f64, se: f64, t_q: f64) -> (f64, f64, (f64, f64)) {
    (
        b.exp() - 1.0,
        b.exp() * se,
        ((b - t_q * se).exp() - 1.0, (b + t_q * se).exp() - 1.0),
    )
}

/// Population seasonality and growth; sets `model.seasonality.factors` and `model.growth.rate`;
/// returns the population's seasonal log effects.
pub(in crate::calibrate) fn population_seasonality(
    cx: &Ctx,
    fe: &TwoWay,
    pf: &PopulationFit,
    sf: &SegmentFits,
    acc: &mut Acc,
) -> Vec<f64> {
    let PopulationFit {
        x_all,
        xtx_inv_pop,
        beta_pop,
        ..
    } = pf;
    let PopulationFit {
        w,
        sum_w2,
        df_t,
        s2_m,
        rho_m,
        ..
    } = pf;
    let (_sum_w2, df_t, s2_m, rho_m) = (*sum_w2, *df_t, *s2_m, *rho_m);
    let SegmentFits {
        seg_fit: _,
        nbar,
        kappa_p,
        sig_e,
        kappa_g,
    } = sf;
    let _kappa_g = *kappa_g;
    let t_q = t95(df_t.max(1.0));
    let ar = |i: usize, j: usize| s2_m * rho_m.powi((i as i64 - j as i64).unsigned_abs() as i32);
    let Ctx { t_len, g_len, .. } = *cx;
    let Acc {
        estimates, model, ..
    } = acc;
    let mut sigma_pop = Mat::zeros(t_len, t_len);
    for i in 0..t_len {
        for j in 0..t_len {
            let mut v = ar(i, j);
            if i / 12 == j / 12 {
                v += (0..g_len)
                    .map(|g| w[g] * w[g] * kappa_p[g] / nbar[g])
                    .sum::<f64>();
            }
            if i == j {
                v += (0..g_len)
                    .map(|g| w[g] * w[g] * sig_e[g] / fe.n[g * t_len + i].max(1) as f64)
                    .sum::<f64>();
            }
            sigma_pop.set(i, j, v);
        }
    }
    let cov_pop = fit::sandwich(x_all, xtx_inv_pop, &sigma_pop);
    let s_pop: Vec<f64> = (0..12)
        .map(|c| {
            fit::season_contrast(c)
                .iter()
                .zip(beta_pop)
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect();
    for c in 0..12 {
        let a = fit::season_contrast(c);
        let se = fit::quad(&a, &cov_pop).sqrt();
        estimates.push(est(
            format!("seasonality.log_effect[{c}]"),
            None,
            s_pop[c],
            se,
            (s_pop[c] - t_q * se, s_pop[c] + t_q * se),
            Some(df_t),
            &format!("{} (log, centred); {SEASON_METHOD}", MONTH_NAMES[c]),
        ));
    }
    let se_b = cov_pop.at(12, 12).sqrt();
    let (gr, gse, gci) = growth_estimate(beta_pop[12], se_b, t_q);
    estimates.push(est(
        "growth.rate",
        None,
        gr,
        gse,
        gci,
        Some(df_t),
        "exp(trend of the population's monthly effects, per year) − 1; sandwich SE; t interval",
    ));
    model.seasonality.factors = s_pop.iter().map(|s| s.exp()).collect();
    model.growth.rate = gr.max(-0.99);
    s_pop
}

/// Per-segment seasonality and growth with empirical Bayes shrinkage (more than one segment);
/// returns each segment's fitted monthly effects (NaN where it did not buy).
pub(in crate::calibrate) fn segment_seasonality(
    cx: &Ctx,
    fe: &TwoWay,
    pf: &PopulationFit,
    sf: &SegmentFits,
    s_pop: &[f64],
    acc: &mut Acc,
) -> Vec<Vec<f64>> {
    let PopulationFit {
        w,
        sum_w2,
        df_t,
        s2_m,
        rho_m,
        ..
    } = pf;
    let (sum_w2, df_t, s2_m, rho_m) = (*sum_w2, *df_t, *s2_m, *rho_m);
    let SegmentFits {
        seg_fit,
        nbar,
        kappa_p,
        sig_e,
        kappa_g,
    } = sf;
    let kappa_g = *kappa_g;
    let t_q = t95(df_t.max(1.0));
    let ar = |i: usize, j: usize| s2_m * rho_m.powi((i as i64 - j as i64).unsigned_abs() as i32);
    let Ctx {
        p, t_len, g_len, ..
    } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let seg_opt = |g: usize| cx.seg_opt(g);
    let Acc {
        estimates, model, ..
    } = acc;
    let mut seg_season: Vec<Vec<f64>> = Vec::new();
    let mut dev_var = vec![0.0; g_len];
    if g_len > 1 {
        for g in 0..g_len {
            let (rows, x, b, inv, _) = seg_fit[g].as_ref().unwrap();
            let m = rows.len();
            let c_g = 1.0 - 2.0 * w[g] + sum_w2;
            let mut sig = Mat::zeros(m, m);
            let mut sig_dev = Mat::zeros(m, m);
            for i in 0..m {
                for j in 0..m {
                    let (ti, tj) = (rows[i], rows[j]);
                    let mut v = 0.0;
                    if ti / 12 == tj / 12 {
                        v += kappa_g * c_g + kappa_p[g] / nbar[g];
                    }
                    if i == j {
                        v += sig_e[g] / fe.n[g * t_len + ti] as f64;
                    }
                    sig_dev.set(i, j, v);
                    sig.set(i, j, v + ar(ti, tj));
                }
            }
            let cov = fit::sandwich(x, inv, &sig);
            let cov_dev = fit::sandwich(x, inv, &sig_dev);
            let s_g: Vec<f64> = (0..12)
                .map(|c| {
                    fit::season_contrast(c)
                        .iter()
                        .zip(b)
                        .map(|(a, bb)| a * bb)
                        .sum()
                })
                .collect();
            let mut dv = 0.0;
            for c in 0..12 {
                let a = fit::season_contrast(c);
                let se = fit::quad(&a, &cov).sqrt();
                dv += fit::quad(&a, &cov_dev) / 12.0;
                estimates.push(est(
                    format!("seasonality.segments.{}.log_effect[{c}]", p.segments[g]),
                    seg_opt(g),
                    s_g[c],
                    se,
                    (s_g[c] - t_q * se, s_g[c] + t_q * se),
                    Some(df_t),
                    &format!(
                        "{} (log, centred, before shrinkage); {SEASON_METHOD}",
                        MONTH_NAMES[c]
                    ),
                ));
            }
            dev_var[g] = dv;
            let se_b = cov.at(12, 12).sqrt();
            let (gr, gse, gci) = growth_estimate(b[12], se_b, t_q);
            estimates.push(est(format!("growth.segments.{}", p.segments[g]), seg_opt(g), gr, gse, gci, Some(df_t), "exp(trend of the segment's monthly effects, per year) − 1; sandwich SE; t interval"));
            model.growth.segments.insert(seg_name(g), gr.max(-0.99));
            seg_season.push(s_g);
        }
        shrink_toward_population(cx, s_pop, &seg_season, &dev_var, estimates, model);
    }
    fitted_series_of(cx, seg_fit)
}

/// Each segment's fitted monthly effects (seasonality + trend), NaN in months it did not buy.
fn fitted_series_of(cx: &Ctx, seg_fit: &[Option<SegmentYearFit>]) -> Vec<Vec<f64>> {
    let Ctx { t_len, g_len, .. } = *cx;
    let mut fitted_series = Vec::new();
    for g in 0..g_len {
        let (rows, x, b, _, _) = seg_fit[g].as_ref().unwrap();
        let fitted = x.mv(b);
        let mut full = vec![f64::NAN; t_len];
        for (r, &t) in rows.iter().enumerate() {
            full[t] = fitted[r];
        }
        fitted_series.push(full);
    }
    fitted_series
}

/// Empirical Bayes shrinkage of each segment's seasonal deviations δ_g = s_g − s_pop toward
/// the population's; sets `model.seasonality.segments`.
fn shrink_toward_population(
    cx: &Ctx,
    s_pop: &[f64],
    seg_season: &[Vec<f64>],
    dev_var: &[f64],
    estimates: &mut Vec<Estimate>,
    model: &mut Model,
) {
    let Ctx { p, g_len, .. } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let seg_opt = |g: usize| cx.seg_opt(g);
    // empirical Bayes shrinkage of δ_g = s_g − s_pop
    let mean_d2: f64 = (0..g_len)
        .map(|g| {
            (0..12)
                .map(|c| (seg_season[g][c] - s_pop[c]).powi(2))
                .sum::<f64>()
                / 12.0
        })
        .sum::<f64>()
        / g_len as f64;
    let mean_v: f64 = dev_var.iter().sum::<f64>() / g_len as f64;
    let tau2 = (mean_d2 - mean_v).max(0.0);
    for g in 0..g_len {
        let wg = if tau2 + dev_var[g] > 0.0 {
            tau2 / (tau2 + dev_var[g])
        } else {
            1.0
        };
        let shrunk: Vec<f64> = (0..12)
            .map(|c| (s_pop[c] + wg * (seg_season[g][c] - s_pop[c])).exp())
            .collect();
        model.seasonality.segments.insert(seg_name(g), shrunk);
        estimates.push(est(format!("seasonality.segments.{}.weight", p.segments[g]), seg_opt(g), wg, f64::NAN, (f64::NAN, f64::NAN), None,
                &format!("shrinkage weight of the segment's own seasonal deviations: τ²/(τ² + v_g), τ² = {} (between-segment variance), v_g = {} (sampling variance)", num(tau2), num(dev_var[g]))));
    }
}
