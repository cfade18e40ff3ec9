//! Step 2 of [`super::calibrate`]: the population's monthly series, its seasonality-and-trend
//! regression and the market factor (REML AR(1) with a parametric bootstrap).

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{Acc, Ctx};
use crate::calibrate::fit::{self, TwoWay};
use crate::calibrate::linalg::{chol_logdet, chol_solve, cholesky, normal_cdf, Mat, Z95};
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
    /// The REML σ̂² and ρ̂ (the seasonality's intervals use them when there is no bootstrap;
    /// the model carries the median-unbiased ρ).
    pub s2_m: f64,
    pub rho_m: f64,
    /// The market's (σ, ρ) parameter draws' law: one pair per bootstrap replicate (empty
    /// without a bootstrap); draw k takes pair k mod B.
    pub market_draws: Vec<(f64, f64)>,
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
    let sigma_m = s2_m.max(0.0).sqrt();
    let belt = if t_len > 14 && s2_m > 0.0 && options.bootstrap >= 20 {
        Some(Belt::new(&x_all, rho_m, options))
    } else {
        None
    };
    let (rho_est, draws) = match &belt {
        Some(b) => {
            let draws = b.joint_draws(&pop, options.seed);
            let (s05, s95) = sigma_quantiles(&draws);
            let se_s = (s95 - s05) / (2.0 * Z95);
            let se_r = (b.rho_hi - b.rho_lo) / (2.0 * Z95);
            estimates.push(est("market.sigma", None, sigma_m, se_s, (s05.min(sigma_m), s95.max(sigma_m)), Some(df_t),
                "REML of a stationary AR(1) on the population's monthly effects after seasonality and trend; interval: 5% and 95% points of its generalised pivot σ² = RSS(ρ)/((1 − ρ²)χ²) over ρ's confidence distribution (the parameter draws' law); SE = interval width / 3.29"));
            estimates.push(est("market.rho", None, b.rho_med, se_r, (b.rho_lo, b.rho_hi), Some(df_t),
                "median-unbiased: the ρ whose REML estimates have the observed REML ρ̂ as median; interval by inverting the parametric bootstrap's 5% and 95% quantiles of the REML ρ̂ (a confidence belt); SE = interval width / 3.29"));
            (b.rho_med, draws)
        }
        None => {
            let (s, se, ci) = sigma_chi2(s2_m, df_t.max(1.0));
            estimates.push(est("market.sigma", None, s, se, ci, Some(df_t), "residual variance of the population's monthly effects after seasonality and trend (too short a history for AR(1))"));
            (rho_m, Vec::new())
        }
    };
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
            rho_est.clamp(0.0, 0.99)
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
        market_draws: draws,
    })
}

impl PopulationFit {
    /// (SE, half-width of the 90% interval) of an OLS contrast `gᵀF` of the monthly effects
    /// `F` on months `rows`, whose variance is `v_rest` (segment-year and noise parts) plus
    /// the market's ([`market_interval`]).
    pub(in crate::calibrate) fn half_width(
        &self,
        g: &[f64],
        rows: &[usize],
        v_rest: f64,
        t_q: f64,
    ) -> (f64, f64) {
        market_interval(
            &lag_sums(g, rows),
            v_rest,
            &self.market_draws,
            (self.s2_m, self.rho_m),
            t_q,
        )
    }
}

/// The lag sums `L_h = Σ_{|t−s| = h} g_t g_s` of weights `g` on months `rows` (the market's
/// part of `Var(gᵀF)` is `σ² Σ_h ρ^h L_h`).
fn lag_sums(g: &[f64], rows: &[usize]) -> Vec<f64> {
    let t_len = rows.iter().max().map_or(0, |&t| t + 1);
    let mut lags = vec![0.0; t_len];
    for (i, &ti) in rows.iter().enumerate() {
        for (j, &tj) in rows.iter().enumerate() {
            lags[ti.abs_diff(tj)] += g[i] * g[j];
        }
    }
    lags
}

/// (SE, half-width of the 90% interval) of a contrast whose variance is
/// `V(σ, ρ) = v_rest + σ² Σ_h ρ^h L_h` (`lags` = L). Given (σ, ρ) its error is normal; over
/// the market's joint draws (σ_k, ρ_k) it is a mixture of normals, whose 5% and 95% points
/// `±c` solve `mean_k Φ(c / √V_k) = 0.95`, so the interval carries the uncertainty of ρ and σ
/// (session 29; the t interval at the REML (σ̂, ρ̂) covered the trend of pure AR(1) series in
/// 82% at ρ = 0.85, the variance averaged over the draws in 95–98%); SE = c / 1.645, the
/// normal parameter draws' scale. Without draws: `± t_q √V` at `plug` = (σ̂², ρ̂), SE `√V`.
fn market_interval(
    lags: &[f64],
    v_rest: f64,
    draws: &[(f64, f64)],
    plug: (f64, f64),
    t_q: f64,
) -> (f64, f64) {
    let var = |s2: f64, rho: f64| {
        let acc = lags.iter().rev().fold(0.0, |acc, l| acc * rho + l);
        (v_rest + s2 * acc).max(0.0)
    };
    if draws.is_empty() {
        let se = var(plug.0, plug.1).sqrt();
        return (se, t_q * se);
    }
    let sd: Vec<f64> = draws.iter().map(|&(s, r)| var(s * s, r).sqrt()).collect();
    let n = sd.len() as f64;
    let tail = |c: f64| {
        sd.iter()
            .map(|&v| if v > 0.0 { normal_cdf(c / v) } else { 1.0 })
            .sum::<f64>()
            / n
    };
    let (mut lo, mut hi) = (
        Z95 * sd.iter().copied().fold(f64::INFINITY, f64::min),
        Z95 * sd.iter().copied().fold(0.0, f64::max),
    );
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) < 0.95 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let c = 0.5 * (lo + hi);
    (c / Z95, c)
}

/// The REML fit of a regression with stationary AR(1) errors on one design, its cross-products
/// precomputed: the Prais–Winsten moments `X̃ᵀX̃`, `X̃ᵀỹ`, `ỹᵀỹ` are quadratics in ρ, so each
/// likelihood evaluation is a p × p Cholesky instead of a T × p transform. The same maximiser
/// (grid of 0.02 on [0, 0.98], then golden section) and the same likelihood as
/// [`fit::reml_ar1`], which it reproduces (tested); the confidence belt refits thousands of
/// series on the same months.
struct ArDesign {
    x: Mat,
    /// `x₀x₀ᵀ`, `Σ_{t≥1} x_t x_tᵀ`, `Σ_{t≥1} (x_t x_{t−1}ᵀ + x_{t−1} x_tᵀ)`, `Σ_{t≥1} x_{t−1} x_{t−1}ᵀ`
    m: [Mat; 4],
}

impl ArDesign {
    fn new(x: &Mat) -> ArDesign {
        let (n, p) = (x.r, x.c);
        let mut m = [
            Mat::zeros(p, p),
            Mat::zeros(p, p),
            Mat::zeros(p, p),
            Mat::zeros(p, p),
        ];
        for i in 0..p {
            for j in 0..p {
                m[0].set(i, j, x.at(0, i) * x.at(0, j));
                let (mut cc, mut sym, mut ll) = (0.0, 0.0, 0.0);
                for t in 1..n {
                    cc += x.at(t, i) * x.at(t, j);
                    sym += x.at(t, i) * x.at(t - 1, j) + x.at(t - 1, i) * x.at(t, j);
                    ll += x.at(t - 1, i) * x.at(t - 1, j);
                }
                m[1].set(i, j, cc);
                m[2].set(i, j, sym);
                m[3].set(i, j, ll);
            }
        }
        ArDesign { x: x.clone(), m }
    }

    /// (REML log-likelihood, σ̂²(ρ)) of `y` with moments `ym` (see [`ArDesign::y_moments`]).
    fn reml_at(&self, ym: &([Vec<f64>; 4], [f64; 4]), rho: f64) -> Option<(f64, f64)> {
        let (n, p) = (self.x.r, self.x.c);
        let one = 1.0 - rho * rho;
        let w = [one, 1.0, -rho, rho * rho];
        let mut a = Mat::zeros(p, p);
        for (k, mk) in self.m.iter().enumerate() {
            for (d, s) in a.d.iter_mut().zip(&mk.d) {
                *d += w[k] * s;
            }
        }
        let mut b = vec![0.0; p];
        for (k, bk) in ym.0.iter().enumerate() {
            for (d, s) in b.iter_mut().zip(bk) {
                *d += w[k] * s;
            }
        }
        let yy: f64 = (0..4).map(|k| w[k] * ym.1[k]).sum();
        let l = cholesky(&a)?;
        let beta = chol_solve(&l, &b);
        let rss = yy - b.iter().zip(&beta).map(|(u, v)| u * v).sum::<f64>();
        let df = (n - p) as f64;
        let sigma2 = rss / (one * df);
        if !(sigma2 > 0.0) {
            return None;
        }
        let ll = -0.5
            * (df * sigma2.ln() + (n as f64 - 1.0) * one.ln() + chol_logdet(&l)
                - p as f64 * one.ln());
        Some((ll, sigma2))
    }

    /// The cross-products of `y` with the design and itself, in the order of `m`.
    fn y_moments(&self, y: &[f64]) -> ([Vec<f64>; 4], [f64; 4]) {
        let (n, p) = (self.x.r, self.x.c);
        let mut b = [vec![0.0; p], vec![0.0; p], vec![0.0; p], vec![0.0; p]];
        for i in 0..p {
            b[0][i] = self.x.at(0, i) * y[0];
            for t in 1..n {
                b[1][i] += self.x.at(t, i) * y[t];
                b[2][i] += self.x.at(t, i) * y[t - 1] + self.x.at(t - 1, i) * y[t];
                b[3][i] += self.x.at(t - 1, i) * y[t - 1];
            }
        }
        let mut s = [y[0] * y[0], 0.0, 0.0, 0.0];
        for t in 1..n {
            s[1] += y[t] * y[t];
            s[2] += 2.0 * y[t] * y[t - 1];
            s[3] += y[t - 1] * y[t - 1];
        }
        (b, s)
    }

    /// REML (σ², ρ) of `y`, ρ in [0, 0.98] (as [`fit::reml_ar1`]).
    fn fit(&self, y: &[f64]) -> (f64, f64) {
        let ym = self.y_moments(y);
        let f = |r: f64| {
            self.reml_at(&ym, r)
                .map(|v| v.0)
                .unwrap_or(f64::NEG_INFINITY)
        };
        let grid: Vec<f64> = (0..=49).map(|k| k as f64 * 0.02).collect();
        let vals: Vec<f64> = grid.iter().map(|&r| f(r)).collect();
        let mut best = 0;
        for k in 1..vals.len() {
            if vals[k] > vals[best] {
                best = k;
            }
        }
        if vals[best] == f64::NEG_INFINITY {
            return (0.0, 0.0);
        }
        let lo = grid[best.saturating_sub(1)];
        let hi = grid[(best + 1).min(grid.len() - 1)];
        let rho = fit::golden_max(&f, lo, hi, 40);
        let rho = if f(rho) >= vals[best] {
            rho
        } else {
            grid[best]
        };
        let sigma2 = self.reml_at(&ym, rho).map(|v| v.1).unwrap_or(f64::NAN);
        (sigma2, rho)
    }
}

/// The top of the ρ searched by the belt (the model's ρ must stay below 1).
const RHO_TOP: f64 = 0.99;
/// Bisection steps of each belt end (resolution 0.99 / 2⁹ ≈ 0.002).
const BELT_STEPS: usize = 9;

/// The market ρ's confidence belt: the REML ρ̂'s sampling distribution depends on ρ alone (it
/// is invariant to the scale σ and to the regression coefficients), so the parametric
/// bootstrap at a candidate ρ — `B` AR(1) series with σ = 1 from one fixed set of innovations
/// (common random numbers: each replicate's ρ̂* rises with ρ) — gives its quantiles
/// `q_α(ρ)`, and the interval is `{ρ : q₀₅(ρ) ≤ ρ̂ ≤ q₉₅(ρ)}`, the point estimate the ρ with
/// `q₅₀(ρ) = ρ̂` (median-unbiased). The basic bootstrap at ρ̂ alone covered 58–80% because
/// the estimator's bias and spread change with ρ (docs/calibration.md §2).
pub(in crate::calibrate) struct Belt {
    design: ArDesign,
    /// `B × T` standard normal innovations, replicate-major.
    e: Vec<f64>,
    b: usize,
    pub rho_lo: f64,
    pub rho_med: f64,
    pub rho_hi: f64,
    /// (σ*, ρ*) of each replicate simulated at `rho_med` with σ = 1.
    at_med: Vec<(f64, f64)>,
}

impl Belt {
    /// The belt of REML estimate `rho_hat` on design `x` (`options.bootstrap` replicates,
    /// innovations from `options.seed`).
    pub(in crate::calibrate) fn new(x: &Mat, rho_hat: f64, options: &Options) -> Belt {
        let t_len = x.r;
        let b = options.bootstrap;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::rng::splitmix64(
            options.seed ^ 0x4341_4C49_4252_4154,
        ));
        let e: Vec<f64> = (0..b * t_len)
            .map(|_| crate::rng::normal(&mut rng))
            .collect();
        let mut belt = Belt {
            design: ArDesign::new(x),
            e,
            b,
            rho_lo: 0.0,
            rho_med: rho_hat,
            rho_hi: RHO_TOP,
            at_med: Vec::new(),
        };
        let ends = (belt.sorted_rhos(0.0), belt.sorted_rhos(RHO_TOP));
        // lower end: the smallest ρ whose 95% quantile reaches ρ̂; median: the smallest whose
        // median does; upper end: the largest whose 5% quantile is still at most ρ̂
        belt.rho_lo = belt.bisect(&ends, |r| sorted_quantile(r, 0.95) >= rho_hat);
        belt.rho_med = belt.bisect(&ends, |r| sorted_quantile(r, 0.5) >= rho_hat);
        belt.rho_hi = belt.bisect(&ends, |r| sorted_quantile(r, 0.05) > rho_hat);
        belt.rho_med = belt.rho_med.clamp(belt.rho_lo, belt.rho_hi);
        belt.at_med = belt.replicates(belt.rho_med);
        belt
    }

    /// The boundary in [0, RHO_TOP] between the ρ where `above` (of the sorted ρ* at ρ) is
    /// false and where it is true (`above` rising in ρ): 0 when true at 0, `RHO_TOP` when false
    /// there (`ends`: the sorted ρ* at 0 and at `RHO_TOP`).
    fn bisect(&self, ends: &(Vec<f64>, Vec<f64>), above: impl Fn(&[f64]) -> bool) -> f64 {
        if above(&ends.0) {
            return 0.0;
        }
        if !above(&ends.1) {
            return RHO_TOP;
        }
        let (mut lo, mut hi) = (0.0, RHO_TOP);
        for _ in 0..BELT_STEPS {
            let mid = 0.5 * (lo + hi);
            if above(&self.sorted_rhos(mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// The replicates' REML ρ* at `rho`, sorted.
    fn sorted_rhos(&self, rho: f64) -> Vec<f64> {
        let mut r: Vec<f64> = self.replicates(rho).iter().map(|v| v.1).collect();
        r.sort_by(|a, b| a.total_cmp(b));
        r
    }

    /// The REML (σ*, ρ*) of the `B` series simulated at `rho` with σ = 1.
    fn replicates(&self, rho: f64) -> Vec<(f64, f64)> {
        let t_len = self.design.x.r;
        let c = (1.0 - rho * rho).sqrt();
        let mut y = vec![0.0; t_len];
        (0..self.b)
            .map(|k| {
                let e = &self.e[k * t_len..(k + 1) * t_len];
                let mut v = e[0];
                for t in 0..t_len {
                    if t > 0 {
                        v = rho * v + c * e[t];
                    }
                    y[t] = v;
                }
                let (s2, r) = self.design.fit(&y);
                (s2.max(0.0).sqrt(), r)
            })
            .collect()
    }

    /// The 5% and 95% quantiles of σ*/σ at the median-unbiased ρ (session 28's pivot, kept
    /// for the study).
    #[cfg(test)]
    fn sigma_ratio_quantiles(&self) -> (f64, f64) {
        let mut s: Vec<f64> = self.at_med.iter().map(|v| v.0).collect();
        (quantile(&mut s, 0.05), quantile(&mut s, 0.95))
    }

    /// ρ's confidence distribution, one value per replicate `k` at the median-unbiased ρ: on
    /// the Fisher scale `z = atanh ρ` a split normal with median `atanh ρ_med` and its 5% and
    /// 95% points at the interval's ends, at the normal score of replicate k's rank among the
    /// ρ* (reflected: a replicate that over-estimates says the truth is lower). Ranks break
    /// ties by replicate, so no value repeats (no pile-up at a bound); ρ stays below 1
    /// without a clip and is 0 only below a lower end at 0.
    fn rho_draws(&self) -> Vec<f64> {
        let n = self.at_med.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| {
            self.at_med[i]
                .1
                .total_cmp(&self.at_med[j].1)
                .then(i.cmp(&j))
        });
        let mut rank = vec![0usize; n];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r;
        }
        let (zl, zm, zh) = (
            self.rho_lo.atanh(),
            self.rho_med.atanh(),
            self.rho_hi.atanh(),
        );
        (0..n)
            .map(|k| {
                let score = -crate::charts::normal_quantile((rank[k] as f64 + 0.5) / n as f64);
                let half = if score < 0.0 { zm - zl } else { zh - zm };
                (zm + score * half / Z95).tanh().clamp(0.0, 0.999)
            })
            .collect()
    }

    /// The law of the market's parameter draws and of σ's interval, one (σ, ρ) per replicate
    /// `k`: ρ_k from ρ's confidence distribution ([`Belt::rho_draws`]) and σ_k from the
    /// generalised pivot of σ at that ρ — for a known ρ the Prais–Winsten residual sum of
    /// squares of the observed series `y` is `σ²(1 − ρ²) χ²_{T−p}`, so
    /// `σ_k² = RSS_y(ρ_k) / ((1 − ρ_k²) χ²_k)` with `χ²_k` the sum of `T − p` squared normals
    /// of stream (seed, k). σ moves with ρ (a slow AR(1) hides its marginal σ in 36 months):
    /// the pivot at one ρ, conditional on it, covered 53% at ρ = 0.85 (docs/calibration.md §2).
    pub(in crate::calibrate) fn joint_draws(&self, y: &[f64], seed: u64) -> Vec<(f64, f64)> {
        let ym = self.design.y_moments(y);
        let df = self.design.x.r - self.design.x.c;
        let base = crate::rng::splitmix64(seed ^ 0x5349_474D_4150_4956);
        self.rho_draws()
            .into_iter()
            .enumerate()
            .map(|(k, rho)| {
                let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(
                    crate::rng::splitmix64(base ^ k as u64),
                );
                let chi2: f64 = (0..df).map(|_| crate::rng::normal(&mut rng).powi(2)).sum();
                let s2 = self.design.reml_at(&ym, rho).map_or(0.0, |v| v.1);
                ((s2 * df as f64 / chi2).max(0.0).sqrt().min(3.0), rho)
            })
            .collect()
    }
}

/// The 5% and 95% quantiles of the σ's of (σ, ρ) draws.
fn sigma_quantiles(draws: &[(f64, f64)]) -> (f64, f64) {
    let mut s: Vec<f64> = draws.iter().map(|v| v.0).collect();
    (quantile(&mut s, 0.05), quantile(&mut s, 0.95))
}

/// The `q` quantile of `v` (sorted in place; the nearest rank; NaN when empty).
fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    sorted_quantile(v, q)
}

/// The `q` quantile of sorted `v` (the nearest rank; NaN when empty).
fn sorted_quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recovery design: 12 calendar-month dummies and a trend over `t_len` months.
    fn design(t_len: usize) -> Mat {
        let mid = (t_len as f64 - 1.0) / 2.0;
        let mut x = Mat::zeros(t_len, 13);
        for t in 0..t_len {
            x.set(t, t % 12, 1.0);
            x.set(t, 12, (t as f64 - mid) / 12.0);
        }
        x
    }

    fn ar1(rng: &mut rand_xoshiro::Xoshiro256PlusPlus, t_len: usize, s: f64, r: f64) -> Vec<f64> {
        let mut v = s * crate::rng::normal(rng);
        (0..t_len)
            .map(|t| {
                if t > 0 {
                    v = r * v + s * (1.0 - r * r).sqrt() * crate::rng::normal(rng);
                }
                v
            })
            .collect()
    }

    #[test]
    fn the_moment_fit_is_fit_reml_ar1() {
        let x = design(36);
        let d = ArDesign::new(&x);
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        for &r in &[0.0, 0.3, 0.6, 0.9, 0.97] {
            let y: Vec<f64> = ar1(&mut rng, 36, 0.08, r)
                .iter()
                .enumerate()
                .map(|(t, v)| v + 5.0 + 0.01 * t as f64 + 0.1 * ((t % 12) as f64))
                .collect();
            let (s_a, r_a) = fit::reml_ar1(&x, &y);
            let (s_b, r_b) = d.fit(&y);
            // the same likelihood by two roundings: near its flat maximum a 1e-12 difference
            // moves the argmax by ~1e-6 (and σ²(ρ) with it)
            assert!((r_a - r_b).abs() < 1e-5, "ρ {r}: {r_a} vs {r_b}");
            assert!((s_a - s_b).abs() < 1e-4 * s_a, "ρ {r}: σ² {s_a} vs {s_b}");
        }
    }

    #[test]
    fn lag_sums_and_the_mixture_interval_by_hand() {
        // g = (1, 2, 3) on months 0, 1, 3: L0 = 1 + 4 + 9, L1 = 2·1·2, L2 = 2·2·3, L3 = 2·1·3
        assert_eq!(
            lag_sums(&[1.0, 2.0, 3.0], &[0, 1, 3]),
            vec![14.0, 4.0, 12.0, 6.0]
        );
        let lags = [2.0, 0.5];
        // V(σ, ρ) = v_rest + σ²(L0 + ρ L1): at σ² = 0.25, ρ = 0.4 and v_rest 0.1, 0.65
        let v: f64 = 0.1 + 0.25 * (2.0 + 0.4 * 0.5);
        let (se, half) = market_interval(&lags, 0.1, &[], (0.25, 0.4), 1.7);
        assert!((se - v.sqrt()).abs() < 1e-15 && (half - 1.7 * v.sqrt()).abs() < 1e-15);
        // every draw the same: the normal's 95% point, SE √V
        let (se, half) = market_interval(&lags, 0.1, &[(0.5, 0.4); 3], (0.0, 0.0), 1.7);
        assert!((half - Z95 * v.sqrt()).abs() < 1e-9 && (se - v.sqrt()).abs() < 1e-9);
        // two draws: the mixture's 95% point, between the two normals' (Φ to 1.2e-7)
        let d = [(0.5, 0.4), (1.0, 0.0)];
        let v2: f64 = 0.1 + 1.0 * 2.0;
        let (_, c) = market_interval(&lags, 0.1, &d, (0.0, 0.0), 1.7);
        let mix = 0.5 * (normal_cdf(c / v.sqrt()) + normal_cdf(c / v2.sqrt()));
        assert!((mix - 0.95).abs() < 1e-9, "{mix}");
        assert!(Z95 * v.sqrt() < c && c < Z95 * v2.sqrt());
        // Φ itself at a few points
        for (x, want) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.644_853_627, 0.05),
            (2.5, 0.993_790_335),
        ] {
            assert!((normal_cdf(x) - want).abs() < 2e-7, "Φ({x})");
        }
    }

    /// The joint draws: at each ρ_k, σ_k²(1 − ρ_k²)·χ²_k is the observed series' RSS(ρ_k), so
    /// σ_k rises with ρ_k for a fixed χ²; the interval's ends are the draws' 5% and 95% points.
    #[test]
    fn joint_draws_follow_rho() {
        let x = design(36);
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let y = ar1(&mut rng, 36, 0.08, 0.85);
        let (_, r) = fit::reml_ar1(&x, &y);
        let opts = Options {
            bootstrap: 100,
            seed: 3,
            ..Options::default()
        };
        let belt = Belt::new(&x, r, &opts);
        let draws = belt.joint_draws(&y, 3);
        assert_eq!(draws.len(), 100);
        assert_eq!(draws, belt.joint_draws(&y, 3));
        let rhos = belt.rho_draws();
        let ym = belt.design.y_moments(&y);
        for (k, &(s, rho)) in draws.iter().enumerate() {
            assert_eq!(rho, rhos[k]);
            let s2 = belt.design.reml_at(&ym, rho).unwrap().1;
            // χ²_k = RSS/((1 − ρ²)σ_k²) = 23·σ̂²(ρ_k)/σ_k²: a χ²₂₃ draw, within its 1e-4 / 1 − 1e-4 points
            let chi2 = 23.0 * s2 / (s * s);
            assert!((7.0..55.0).contains(&chi2), "draw {k}: χ² {chi2}");
        }
        // σ_k against ρ_k: the rank correlation is strongly positive (σ moves with ρ)
        let n = draws.len();
        let rank = |v: Vec<f64>| {
            let mut o: Vec<usize> = (0..n).collect();
            o.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
            let mut r = vec![0.0; n];
            for (p, &i) in o.iter().enumerate() {
                r[i] = p as f64;
            }
            r
        };
        let (rs, rr) = (
            rank(draws.iter().map(|d| d.0).collect()),
            rank(draws.iter().map(|d| d.1).collect()),
        );
        let m = (n as f64 - 1.0) / 2.0;
        let cov: f64 = rs.iter().zip(&rr).map(|(a, b)| (a - m) * (b - m)).sum();
        let var: f64 = rs.iter().map(|a| (a - m) * (a - m)).sum();
        assert!(cov / var > 0.5, "rank correlation {}", cov / var);
        let (lo, hi) = sigma_quantiles(&draws);
        let inside = draws.iter().filter(|d| lo < d.0 && d.0 < hi).count();
        assert_eq!(inside, 88, "ranks 6…93 of 100 strictly inside");
    }

    /// The OLS sandwich variances of seasonal contrast 0 and of the trend on `x` under the
    /// autocovariance `acov` (lags 0…T−1).
    fn season_trend_var(x: &Mat, acov: &[f64]) -> (f64, f64) {
        let t_len = x.r;
        let inv =
            crate::calibrate::linalg::chol_inverse(&cholesky(&x.t().mul(x)).expect("full rank"));
        let mut sig = Mat::zeros(t_len, t_len);
        for i in 0..t_len {
            for j in 0..t_len {
                sig.set(i, j, acov[i.abs_diff(j)]);
            }
        }
        let cov = fit::sandwich(x, &inv, &sig);
        (fit::quad(&fit::season_contrast(0), &cov), cov.at(12, 12))
    }

    /// The mixture half-widths ([`market_interval`]) of seasonal contrast 0 and of the trend.
    fn mixture_half_widths(x: &Mat, draws: &[(f64, f64)]) -> (f64, f64) {
        let inv =
            crate::calibrate::linalg::chol_inverse(&cholesky(&x.t().mul(x)).expect("full rank"));
        let h = inv.mul(&x.t());
        let rows: Vec<usize> = (0..x.r).collect();
        let half = |a: &[f64]| {
            let g: Vec<f64> = (0..h.c)
                .map(|t| (0..h.r).map(|i| a[i] * h.at(i, t)).sum())
                .collect();
            market_interval(&lag_sums(&g, &rows), 0.0, draws, (0.0, 0.0), 0.0).1
        };
        let mut trend = vec![0.0; 13];
        trend[12] = 1.0;
        (half(&fit::season_contrast(0)), half(&trend))
    }

    /// Study (ignored): on pure AR(1) series of 36 months (σ = 0.08) after 12 monthly dummies
    /// and a trend — ρ's belt (and the old basic bootstrap interval at ρ̂), σ's interval by the
    /// joint law (generalised pivot over ρ's confidence distribution) and by session 28's pivot
    /// at ρ̃, the σ point estimates, and the 90% t intervals of a seasonal effect and of the
    /// trend (truth 0) with the market's autocovariance at (σ̂, ρ̂) or averaged over the draws.
    /// `STUDY_SEEDS=200 cargo test --release --lib calibrate::steps::market -- --ignored --nocapture study`
    #[test]
    #[ignore = "study: pure AR(1) series, several truths"]
    fn study_rho_intervals() {
        let seeds: u64 = std::env::var("STUDY_SEEDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(200);
        let x = design(36);
        let t_q = crate::calibrate::linalg::t95(23.0);
        for &truth in &[0.3f64, 0.6, 0.85] {
            let mut cov = [0usize; 10];
            let mut width_mix = 0.0;
            let (mut s_reml, mut s_med, mut s_sig, mut s_gmed) = (0.0, 0.0, 0.0, 0.0);
            let (mut width_old, mut width_new, mut inside) = (0.0, 0.0, 0usize);
            for seed in 1..=seeds {
                let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(
                    seed * 7919 + (truth * 100.0) as u64,
                );
                let y = ar1(&mut rng, 36, 0.08, truth);
                let (s2, r) = fit::reml_ar1(&x, &y);
                let opts = Options {
                    bootstrap: 200,
                    seed,
                    ..Options::default()
                };
                let belt = Belt::new(&x, r, &opts);
                let hit = |lo: f64, hi: f64, t: f64| usize::from(lo <= t && t <= hi);
                cov[0] += hit(belt.rho_lo, belt.rho_hi, truth);
                let mut rs = belt.sorted_rhos(r);
                let (q05, q95) = (quantile(&mut rs, 0.05), quantile(&mut rs, 0.95));
                cov[1] += hit(2.0 * r - q95, 2.0 * r - q05, truth);
                let sig = s2.sqrt();
                let (a, b) = belt.sigma_ratio_quantiles();
                cov[2] += hit(sig / b, sig / a, 0.08);
                let draws = belt.joint_draws(&y, seed);
                let (lo, hi) = sigma_quantiles(&draws);
                cov[3] += hit(lo, hi, 0.08);
                inside += usize::from(lo <= sig && sig <= hi);
                let mut sd: Vec<f64> = draws.iter().map(|d| d.0).collect();
                s_gmed += quantile(&mut sd, 0.5);
                // seasonality and trend (truth 0): plug-in and averaged autocovariance
                let (beta, _, _) = fit::ols(&x, &y).unwrap();
                let s0: f64 = fit::season_contrast(0)
                    .iter()
                    .zip(&beta)
                    .map(|(u, v)| u * v)
                    .sum();
                let plug: Vec<f64> = (0..36).map(|h| s2 * r.powi(h)).collect();
                let avg: Vec<f64> = (0..36)
                    .map(|h| {
                        draws.iter().map(|&(s, q)| s * s * q.powi(h)).sum::<f64>()
                            / draws.len() as f64
                    })
                    .collect();
                let (vs_p, vb_p) = season_trend_var(&x, &plug);
                let (vs_a, vb_a) = season_trend_var(&x, &avg);
                let (hs, hb) = mixture_half_widths(&x, &draws);
                cov[8] += hit(-hs, hs, s0);
                cov[9] += hit(-hb, hb, beta[12]);
                width_mix += hb / Z95;
                cov[4] += hit(-t_q * vs_p.sqrt(), t_q * vs_p.sqrt(), s0);
                cov[5] += hit(-t_q * vs_a.sqrt(), t_q * vs_a.sqrt(), s0);
                cov[6] += hit(-t_q * vb_p.sqrt(), t_q * vb_p.sqrt(), beta[12]);
                cov[7] += hit(-t_q * vb_a.sqrt(), t_q * vb_a.sqrt(), beta[12]);
                width_old += vb_p.sqrt();
                width_new += vb_a.sqrt();
                s_reml += r;
                s_med += belt.rho_med;
                s_sig += sig;
            }
            let nn = seeds as f64;
            let pc = |c: usize| 100.0 * c as f64 / nn;
            println!(
                "truth ρ {truth}: mean REML ρ̂ {:.3}, median-unbiased {:.3}; ρ coverage belt {:.1}%, old basic {:.1}%; σ (truth 0.08) mean REML {:.4}, mean median of the joint law {:.4}; σ coverage joint {:.1}%, pivot at ρ̃ {:.1}%; REML σ̂ inside the joint interval {:.1}%; seasonal effect coverage plug-in {:.1}% averaged variance {:.1}% mixture {:.1}%; trend coverage plug-in {:.1}% averaged {:.1}% mixture {:.1}% (mean SE {:.4}, {:.4}, {:.4})",
                s_reml / nn, s_med / nn, pc(cov[0]), pc(cov[1]), s_sig / nn, s_gmed / nn,
                pc(cov[3]), pc(cov[2]), pc(inside), pc(cov[4]), pc(cov[5]), pc(cov[8]), pc(cov[6]),
                pc(cov[7]), pc(cov[9]), width_old / nn, width_new / nn, width_mix / nn
            );
        }
    }
}
