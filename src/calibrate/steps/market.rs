//! Step 2 of [`super::calibrate`]: the population's monthly series, its seasonality-and-trend
//! regression and the market factor (REML AR(1) with a parametric bootstrap).

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{Acc, Ctx};
use crate::calibrate::fit::{self, TwoWay};
use crate::calibrate::linalg::{Mat, Z95};
use crate::calibrate::Options;
use crate::calibrate::{est, sigma_chi2};
use crate::demand::{Market, MarketProcess};
use crate::error::{Error, Result};
use rand::SeedableRng;

/// The population series and the market factor's fit, used by the later steps.
pub(in crate::calibrate) struct PopulationFit {
    pub w: Vec<f64>,
    pub sum_w2: f64,
    pub pop: Vec<f64>,
    pub x_all: Mat,
    pub beta_pop: Vec<f64>,
    pub xtx_inv_pop: Mat,
    pub res_pop: Vec<f64>,
    pub df_t: f64,
    pub s2_m: f64,
    pub rho_m: f64,
    pub boot: Vec<(f64, f64)>,
    pub sigma_m: f64,
}

/// Segment weights, the population series, its OLS on seasonality and trend, the market
/// factor's σ and ρ with their bootstrap; sets `model.market`.
pub(in crate::calibrate) fn market_factor(
    cx: &Ctx,
    fe: &TwoWay,
    acc: &mut Acc,
) -> Result<PopulationFit> {
    let Ctx {
        p,
        options,
        history,
        t_len,
        g_len,
        ..
    } = *cx;
    let Acc {
        estimates,
        model,
        warnings,
    } = acc;
    let total_obs: f64 = fe.n.iter().map(|&c| c as f64).sum();
    let w: Vec<f64> = (0..g_len)
        .map(|g| {
            fe.n[g * t_len..(g + 1) * t_len]
                .iter()
                .map(|&c| c as f64)
                .sum::<f64>()
                / total_obs
        })
        .collect();
    let sum_w2: f64 = w.iter().map(|x| x * x).sum();
    let pop: Vec<f64> = (0..t_len)
        .map(|t| {
            let (mut s, mut ws) = (0.0, 0.0);
            for g in 0..g_len {
                let v = fe.f[g * t_len + t];
                if !v.is_nan() {
                    s += w[g] * v;
                    ws += w[g];
                }
            }
            s / ws
        })
        .collect();
    let all_rows: Vec<usize> = (0..t_len).collect();
    let x_all = fit::design(p, &all_rows);
    let (beta_pop, xtx_inv_pop, res_pop) = fit::ols(&x_all, &pop).ok_or_else(|| {
        Error::data(
            &history.table,
            None,
            Some("date"),
            "cannot separate seasonality from the trend on this history",
        )
    })?;
    let df_t = (t_len - 13) as f64;
    let (s2_m, rho_m) = if t_len > 14 {
        fit::reml_ar1(&x_all, &pop)
    } else {
        let s2 = res_pop.iter().map(|r| r * r).sum::<f64>() / df_t.max(1.0);
        (s2, 0.0)
    };
    let boot = bootstrap_ar1(&x_all, t_len, s2_m, rho_m, options);
    let sigma_m = s2_m.max(0.0).sqrt();

    if boot.len() >= 20 {
        // σ: pivot on the ratio σ*/σ̂; ρ: basic bootstrap interval 2ρ̂ − q
        let mut ratio: Vec<f64> = boot.iter().map(|b| b.0 / sigma_m).collect();
        let mut rhos: Vec<f64> = boot.iter().map(|b| b.1).collect();
        // SE from the interval's width (the bootstrap distribution is skewed: a few replicates
        // near ρ = 0.98 have a large σ, which inflates a plain standard deviation)
        let (r05, r95) = (quantile(&mut ratio, 0.05), quantile(&mut ratio, 0.95));
        let (q05, q95) = (quantile(&mut rhos, 0.05), quantile(&mut rhos, 0.95));
        let se_s = (sigma_m / r05 - sigma_m / r95) / (2.0 * Z95);
        let se_r = ((2.0 * rho_m - q05).clamp(0.0, 0.99) - (2.0 * rho_m - q95).clamp(0.0, 0.99))
            / (2.0 * Z95);
        estimates.push(est("market.sigma", None, sigma_m, se_s, (sigma_m / r95, sigma_m / r05), Some(df_t),
            "REML of a stationary AR(1) on the population's monthly effects after seasonality and trend; interval by parametric bootstrap (pivot σ*/σ̂), SE = interval width / 3.29"));
        estimates.push(est("market.rho", None, rho_m, se_r, ((2.0 * rho_m - q95).clamp(0.0, 0.99), (2.0 * rho_m - q05).clamp(0.0, 0.99)), Some(df_t),
            "REML (ρ in [0, 0.98]); interval by parametric bootstrap (basic: 2ρ̂ − q), SE = interval width / 3.29"));
    } else {
        let (s, se, ci) = sigma_chi2(s2_m, df_t.max(1.0));
        estimates.push(est("market.sigma", None, s, se, ci, Some(df_t), "residual variance of the population's monthly effects after seasonality and trend (too short a history for AR(1))"));
    }
    if rho_m >= 0.97 {
        warnings.push("the market factor's monthly correlation is at the top of its range (0.98): the market looks like a random walk, whose σ grows with the horizon; consider process = \"random_walk\"".into());
    }
    model.market = Market {
        sigma: sigma_m.min(3.0),
        process: if t_len > 14 {
            MarketProcess::Ar1
        } else {
            MarketProcess::Constant
        },
        rho: if t_len > 14 {
            rho_m.clamp(0.0, 0.99)
        } else {
            0.0
        },
        monthly_sigma: 0.0,
    };
    Ok(PopulationFit {
        w,
        sum_w2,
        pop,
        x_all,
        beta_pop,
        xtx_inv_pop,
        res_pop,
        df_t,
        s2_m,
        rho_m,
        boot,
        sigma_m,
    })
}

/// The parametric bootstrap of the market factor's (σ, ρ): `options.bootstrap` AR(1) series at
/// the estimates, each refitted by REML (nothing for a short history or a zero variance).
fn bootstrap_ar1(
    x_all: &Mat,
    t_len: usize,
    s2_m: f64,
    rho_m: f64,
    options: &Options,
) -> Vec<(f64, f64)> {
    // parametric bootstrap of (σ, ρ)
    let mut boot: Vec<(f64, f64)> = Vec::with_capacity(options.bootstrap);
    if t_len > 14 && s2_m > 0.0 {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::rng::splitmix64(
            options.seed ^ 0x4341_4C49_4252_4154,
        ));
        let s = s2_m.sqrt();
        let mut y = vec![0.0; t_len];
        for _ in 0..options.bootstrap {
            let mut v = s * crate::rng::normal(&mut rng);
            for (t, yt) in y.iter_mut().enumerate() {
                if t > 0 {
                    v = rho_m * v + s * (1.0 - rho_m * rho_m).sqrt() * crate::rng::normal(&mut rng);
                }
                *yt = v;
            }
            let (bs2, br) = fit::reml_ar1(x_all, &y);
            if bs2.is_finite() {
                boot.push((bs2.sqrt(), br));
            }
        }
    }
    boot
}

/// The `q` quantile of `v` (sorted in place; the nearest rank; NaN when empty).
fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let k = ((v.len() - 1) as f64 * q).round() as usize;
    v[k]
}
