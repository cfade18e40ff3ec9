//! Calibration: a demand model estimated from the partners' own transaction history, with
//! standard errors, parameter draws for input uncertainty and fit diagnostics.
//!
//! [`calibrate`] aggregates a history of transaction lines (the settlement format, at least 13
//! months, better 24 to 48) per partner and month, then estimates, with closed-form, moment and
//! maximum-likelihood estimators (each written out in `docs/calibration.md`):
//!
//! - seasonality per segment (shrunk toward the population's for small segments) and growth;
//! - the variance components of the log model: market factor (AR(1) σ and ρ, by REML on the
//!   36-odd market months, with a parametric bootstrap for their sampling distribution),
//!   segment factor, persistent partner factor and monthly noise;
//! - purchase incidence (probability of buying in a month) and the churn hazard jointly by
//!   maximum likelihood; returns share; orders per month and order-size σ; unit price; each
//!   partner's category mix shrunk to its segment's.
//!
//! The result holds a [`crate::demand::Model`] (written with every estimate and its standard
//! error as comments by [`Calibration::model_text`]), `K` parameter draws and diagnostic
//! tables. Incidence and the per-partner mixes are estimated but not yet used by the engine
//! (`docs/calibration.md`, "What the engine needs").
//!
//! ```
//! use rebatesim::calibrate::{calibrate, Options};
//! use rebatesim::data::Transactions;
//! let mut csv = String::from("partner_id,date,quantity,revenue\n");
//! for m in 0..14 {
//!     for p in ["A", "B"] {
//!         let (y, mo) = (2025 + m / 12, m % 12 + 1);
//!         csv.push_str(&format!("{p},{y}-{mo:02}-03,1,{}\n", 100 + 7 * m + if p == "A" { 3 } else { 0 }));
//!     }
//! }
//! let tx = Transactions::from_csv_str(&csv, "history").unwrap();
//! let c = calibrate(&tx, None, &Options { draws: 2, bootstrap: 20, ..Options::default() }).unwrap();
//! assert_eq!(c.months, 14);
//! assert_eq!(c.draws.len(), 2);
//! ```

// Index loops are the clearer form for the small dense linear algebra and the per-segment,
// per-month tables of the estimators (several arrays indexed together); and the negated
// comparisons (`!(x > 0.0)`) are deliberate: they reject NaN along with the out-of-range.
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

mod fit;
mod linalg;
mod panel;

use crate::data::{Partners, Transactions};
use crate::demand::{Market, MarketProcess, Model, Orders};
use crate::error::{Error, Result};
use crate::programme::Format;
use fit::{IncidenceFit, IncidenceStats};
use linalg::{chi2_quantile, t95, Mat, Z95};
use rand::SeedableRng;

/// One segment's fit of its monthly deviations from the population: the months used, the
/// design matrix X, the coefficients, (XᵀX)⁻¹ and the observations.
type SegmentYearFit = (Vec<usize>, Mat, Vec<f64>, Mat, Vec<f64>);
use rand_distr::{ChiSquared, Distribution};
use std::collections::BTreeMap;

/// Options of [`calibrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// A partner silent for at least this many months at the end of the history counts as
    /// churned (the `churned` flag and the empirical churn curve); a partner whose first
    /// purchase comes this late is a new entrant. Default 6.
    pub churn_silent_months: usize,
    /// A segment with fewer partners with purchases is an error (merge it with another
    /// segment). Default 5.
    pub min_segment_partners: usize,
    /// A segment with fewer partners with purchases gets a warning. Default 30.
    pub warn_segment_partners: usize,
    /// Number `K` of parameter draws. Default 100.
    pub draws: usize,
    /// Parametric bootstrap replications for the market factor. Default 400.
    pub bootstrap: usize,
    /// Seed of the draws and of the bootstrap.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            churn_silent_months: 6,
            min_segment_partners: 5,
            warn_segment_partners: 30,
            draws: 100,
            bootstrap: 400,
            seed: 1,
        }
    }
}

/// One estimated parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The parameter, named like the model file's field (e.g. `market.sigma`,
    /// `noise.segments.retail`) or, for a parameter the model file does not have yet,
    /// `incidence.segments.retail`, `seasonality.log_effect[0]`.
    pub parameter: String,
    /// The segment it belongs to (`None` for the population).
    pub segment: Option<String>,
    /// The estimate (on the model file's scale).
    pub value: f64,
    /// Its standard error (NaN when not estimable).
    pub se: f64,
    /// Lower end of the 90% interval.
    pub lo90: f64,
    /// Upper end of the 90% interval.
    pub hi90: f64,
    /// Degrees of freedom behind it, where the estimator has a meaningful number.
    pub dof: Option<f64>,
    /// The estimator.
    pub method: String,
}

/// One parameter draw: a complete model plus the parameters the model file does not carry
/// yet.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDraw {
    /// The model at the drawn parameters.
    pub model: Model,
    /// Drawn probability of buying in a month, per segment.
    pub incidence: BTreeMap<String, f64>,
}

/// What was estimated for each partner.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartnerEstimates {
    /// Partner ids (partners with at least one purchase).
    pub ids: Vec<String>,
    /// Segment of each partner.
    pub segment: Vec<String>,
    /// Months with a purchase.
    pub buying_months: Vec<u32>,
    /// First and last month with a purchase (`YYYY-MM`).
    pub first_purchase: Vec<String>,
    /// Last month with a purchase.
    pub last_purchase: Vec<String>,
    /// Silent for at least `churn_silent_months` at the end of the history.
    pub churned: Vec<bool>,
    /// Gross purchases in the last 12 months of the history (a prior-year baseline).
    pub last12_revenue: Vec<f64>,
    /// Revenue per unit over the history (`None` without units).
    pub unit_price: Vec<Option<f64>>,
    /// Category shares, shrunk to the segment's (`[partner][category]`; empty without
    /// categories).
    pub mix: Vec<Vec<f64>>,
    /// Weight of the partner's own mix in `mix` (the rest is its segment's).
    pub mix_weight: Vec<f64>,
}

/// Observed against fitted, for the fit report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagnostics {
    /// Month labels `YYYY-MM` of the history.
    pub months: Vec<String>,
    /// Per segment (in [`Calibration::segments`] order) and month: the segment-month effect of
    /// log purchases (observed; NaN without purchases), its fit (seasonality + trend), and the
    /// buying partners.
    pub segment_effect: Vec<Vec<f64>>,
    /// The fitted values of `segment_effect`.
    pub segment_fitted: Vec<Vec<f64>>,
    /// Buying partners per segment and month.
    pub buying: Vec<Vec<u32>>,
    /// The population's monthly residual after seasonality and trend: the market factor's
    /// path in logs.
    pub market_path: Vec<f64>,
    /// Per segment and month: share of partners (present from the start) whose last purchase
    /// is at or after the month (observed) ...
    pub churn_observed: Vec<Vec<f64>>,
    /// ... and the same under the fitted incidence and hazard.
    pub churn_fitted: Vec<Vec<f64>>,
    /// Per segment: the hazard the k-month silence rule alone gives (churned partners / months
    /// at risk), for comparison with the likelihood estimate.
    pub churn_k_rule: Vec<f64>,
    /// Log residuals of partner-months (a sample of at most 20,000, for the QQ plot).
    pub residual_sample: Vec<f64>,
}

/// The result of [`calibrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The calibrated demand model (behaviour and margin are not estimated: defaults).
    pub model: Model,
    /// Every estimate with its standard error and 90% interval.
    pub estimates: Vec<Estimate>,
    /// `K` draws from the estimators' sampling distributions.
    pub draws: Vec<ParameterDraw>,
    /// Per-partner estimates.
    pub partners: PartnerEstimates,
    /// Fit diagnostics.
    pub diagnostics: Diagnostics,
    /// Segments (empty name: the history had no segments).
    pub segments: Vec<String>,
    /// Categories of the mixes.
    pub categories: Vec<String>,
    /// First month of the history (`YYYY-MM`).
    pub start: String,
    /// Months of history.
    pub months: usize,
    /// Things the user should know (thin segments, partners without purchases, estimates at
    /// a bound, ...).
    pub warnings: Vec<String>,
}

impl Calibration {
    /// The estimate of `parameter` (first match).
    pub fn estimate(&self, parameter: &str) -> Option<&Estimate> {
        self.estimates.iter().find(|e| e.parameter == parameter)
    }

    /// The model file (TOML) with every estimate, standard error and interval as comments
    /// above it; [`Model::from_str`] reads it back to [`Calibration::model`].
    pub fn model_text(&self) -> Result<String> {
        let mut out = String::new();
        out.push_str(&format!(
            "# Demand model calibrated by rebatesim from {} partners × {} months of history from {}.\n",
            self.partners.ids.len(),
            self.months,
            self.start
        ));
        out.push_str(
            "# Estimates: value ± standard error [90% interval] (degrees of freedom; estimator).\n",
        );
        out.push_str("# Parameters marked (not used by the engine yet) are documented in docs/calibration.md.\n");
        for e in &self.estimates {
            let unused = e.parameter.starts_with("incidence")
                || e.parameter.contains("log_effect")
                || e.parameter.starts_with("categories");
            out.push_str(&format!(
                "# {} = {} ± {} [{}, {}]{}; {}{}\n",
                e.parameter,
                num(e.value),
                num(e.se),
                num(e.lo90),
                num(e.hi90),
                e.dof
                    .map(|d| format!(" (dof {})", num(d)))
                    .unwrap_or_default(),
                e.method,
                if unused {
                    " (not used by the engine yet)"
                } else {
                    ""
                }
            ));
        }
        for w in &self.warnings {
            out.push_str(&format!("# warning: {w}\n"));
        }
        out.push('\n');
        out.push_str(&self.model.to_string(Format::Toml)?);
        Ok(out)
    }
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "n/a".into()
    } else if v == 0.0 || (v.abs() >= 1e-3 && v.abs() < 1e6) {
        format!("{:.4}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{v:.3e}")
    }
}

fn est(
    parameter: impl Into<String>,
    segment: Option<&str>,
    value: f64,
    se: f64,
    ci: (f64, f64),
    dof: Option<f64>,
    method: &str,
) -> Estimate {
    Estimate {
        parameter: parameter.into(),
        segment: segment.map(str::to_owned),
        value,
        se,
        lo90: ci.0,
        hi90: ci.1,
        dof,
        method: method.to_owned(),
    }
}

/// A variance component σ² estimated with `nu` degrees of freedom: (σ, se(σ), 90% interval of
/// σ) from the χ²_ν sampling distribution.
fn sigma_chi2(var: f64, nu: f64) -> (f64, f64, (f64, f64)) {
    let v = var.max(0.0);
    let s = v.sqrt();
    let se = if s > 0.0 {
        v * (2.0 / nu).sqrt() / (2.0 * s)
    } else {
        f64::NAN
    };
    let lo = (v * nu / chi2_quantile(nu, 0.95)).sqrt();
    let hi = (v * nu / chi2_quantile(nu, 0.05)).sqrt();
    (s, se, (lo, hi))
}

/// A variance σ² with an approximately normal standard error: (σ, se(σ), 90% interval of σ).
fn sigma_normal(var: f64, se_var: f64) -> (f64, f64, (f64, f64)) {
    let s = var.max(0.0).sqrt();
    let se = if s > 0.0 {
        se_var / (2.0 * s)
    } else {
        f64::NAN
    };
    let lo = (var - Z95 * se_var).max(0.0).sqrt();
    let hi = (var + Z95 * se_var).max(0.0).sqrt();
    (s, se, (lo, hi))
}

/// Calibrate a demand model on `history` (transaction lines, the settlement format).
/// `partners` gives each partner's segment (without it, one segment) and lists partners
/// without purchases. Errors name the table, row and column; see [`Options`] for the limits.
pub fn calibrate(
    history: &Transactions,
    partners: Option<&Partners>,
    options: &Options,
) -> Result<Calibration> {
    if options.churn_silent_months == 0 {
        return Err(Error::Request(
            "churn_silent_months must be at least 1".into(),
        ));
    }
    if options.draws > 100_000 || options.bootstrap > 100_000 {
        return Err(Error::Request(
            "draws and bootstrap must be at most 100,000".into(),
        ));
    }
    let p = panel::build(history, partners)?;
    let (n, t_len, g_len) = (p.n(), p.months, p.segments.len());
    let ptable = partners.map(|x| x.table.as_str()).unwrap_or("partners");
    let mut warnings = Vec::new();
    if t_len < 24 {
        warnings.push(format!(
            "the history covers only {t_len} months: growth and the year-over-year components (partner and segment factors) need two full years; their standard errors are large or missing"
        ));
    }
    if !p.zero_partners.is_empty() {
        warnings.push(format!(
            "partners without any purchase in the history: {} of the {} in {} (e.g. {}); they are left out of the estimation (partners that left before the history, or wrong ids?)",
            p.zero_partners.len(),
            p.zero_partners.len() + n,
            ptable,
            p.zero_partners.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let seg_name = |g: usize| p.segments[g].clone();
    let seg_opt = |g: usize| -> Option<&str> {
        if g_len == 1 && p.segments[0].is_empty() {
            None
        } else {
            Some(p.segments[g].as_str())
        }
    };
    let mut seg_count = vec![0usize; g_len];
    for &g in &p.seg {
        seg_count[g] += 1;
    }
    for g in 0..g_len {
        if seg_count[g] < options.min_segment_partners.max(1) {
            return Err(Error::data(
                ptable,
                None,
                Some("segment"),
                format!(
                    "segment '{}' has {} partner{} with purchases in the history; at least {} are needed to estimate its parameters (merge it with a similar segment)",
                    seg_name(g),
                    seg_count[g],
                    if seg_count[g] == 1 { "" } else { "s" },
                    options.min_segment_partners
                ),
            ));
        }
        if seg_count[g] < options.warn_segment_partners {
            warnings.push(format!(
                "segment '{}' has only {} partners with purchases: its seasonality is shrunk toward the population's and its other estimates are imprecise",
                seg_name(g),
                seg_count[g]
            ));
        }
    }

    // 1. two-way fixed effects and the within-partner components
    let fe = fit::two_way(&p);
    let pc = fit::partner_components(&p, &fe);
    let mut estimates = Vec::new();
    let mut model = Model {
        description: Some(format!(
            "Calibrated by rebatesim from {} partners x {} months of history from {}",
            n,
            t_len,
            p.label(0)
        )),
        ..Model::default()
    };

    // 2. the population series: market factor, population seasonality and trend
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
    let x_all = fit::design(&p, &all_rows);
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
            let (bs2, br) = fit::reml_ar1(&x_all, &y);
            if bs2.is_finite() {
                boot.push((bs2.sqrt(), br));
            }
        }
    }
    let sigma_m = s2_m.max(0.0).sqrt();
    let quantile = |v: &mut Vec<f64>, q: f64| -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(|a, b| a.total_cmp(b));
        let k = ((v.len() - 1) as f64 * q).round() as usize;
        v[k]
    };
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

    // 3. segment factor: year effects of each segment's deviation from the population
    let blocks = t_len.div_ceil(12);
    let mut seg_fit: Vec<Option<SegmentYearFit>> = Vec::with_capacity(g_len);
    let mut nbar = vec![0.0; g_len];
    for g in 0..g_len {
        let rows: Vec<usize> = (0..t_len).filter(|&t| fe.n[g * t_len + t] > 0).collect();
        nbar[g] = rows
            .iter()
            .map(|&t| fe.n[g * t_len + t] as f64)
            .sum::<f64>()
            / rows.len().max(1) as f64;
        let x = fit::design(&p, &rows);
        let y: Vec<f64> = rows.iter().map(|&t| fe.f[g * t_len + t]).collect();
        match fit::ols(&x, &y) {
            Some((b, inv, _res)) => seg_fit.push(Some((rows, x, b, inv, y))),
            None => {
                return Err(Error::data(
                    ptable,
                    None,
                    Some("segment"),
                    format!(
                        "segment '{}' has no purchase at all in some calendar month of the history (e.g. every {}): its seasonality cannot be estimated (merge it with a similar segment)",
                        seg_name(g),
                        ["January","February","March","April","May","June","July","August","September","October","November","December"][(0..12).find(|c| (0..t_len).all(|t| p.cal(t) != *c || fe.n[g * t_len + t] == 0)).unwrap_or(0)]
                    ),
                ));
            }
        }
    }
    let kappa_p: Vec<f64> = (0..g_len).map(|g| pc.partner[g].0.max(0.0) / 2.0).collect();
    let sig_e: Vec<f64> = (0..g_len)
        .map(|g| {
            if pc.noise[g].0.is_finite() {
                pc.noise[g].0
            } else {
                pc.noise_all.0
            }
        })
        .collect();
    // Σ S_g (the statistic), Σ of its noise part, Σ c_g tr(AMBM), degrees of freedom
    let (mut stat_g, mut noise_g, mut den_g, mut nu_g) = (0.0, 0.0, 0.0, 0.0);
    if g_len > 1 {
        for g in 0..g_len {
            let (rows, x, _, inv, y) = seg_fit[g].as_ref().unwrap();
            let m = rows.len();
            let d: Vec<f64> = rows.iter().zip(y).map(|(&t, v)| v - pop[t]).collect();
            // M = I − X (XᵀX)⁻¹ Xᵀ
            let h = x.mul(inv).mul(&x.t());
            let mut mm = Mat::zeros(m, m);
            for i in 0..m {
                for j in 0..m {
                    mm.set(i, j, if i == j { 1.0 } else { 0.0 } - h.at(i, j));
                }
            }
            let r = mm.mv(&d);
            let block = |t: usize| t / 12;
            let complete_block = |b: usize| {
                (b + 1) * 12 <= t_len && rows.iter().filter(|&&t| block(t) == b).count() == 12
            };
            let mut a = Mat::zeros(m, m);
            let mut bmat = Mat::zeros(m, m);
            let mut dmat = Mat::zeros(m, m);
            let mut nb = 0usize;
            for b in 0..blocks {
                if complete_block(b) {
                    nb += 1;
                }
            }
            for i in 0..m {
                for j in 0..m {
                    let same = block(rows[i]) == block(rows[j]);
                    if same {
                        bmat.set(i, j, 1.0);
                        if complete_block(block(rows[i])) {
                            a.set(i, j, 1.0 / 12.0);
                        }
                    }
                }
                dmat.set(i, i, sig_e[g] / fe.n[g * t_len + rows[i]] as f64);
            }
            let s_stat = fit::quad(&r, &a);
            let t1 = a.mul(&mm.mul(&bmat).mul(&mm)).trace();
            let t0 = a.mul(&mm.mul(&dmat).mul(&mm)).trace();
            let c_g = 1.0 - 2.0 * w[g] + sum_w2;
            stat_g += s_stat;
            noise_g += t1 * kappa_p[g] / nbar[g] + t0;
            den_g += c_g * t1;
            nu_g += nb.saturating_sub(2) as f64;
        }
        nu_g *= (g_len as f64 - 1.0) / g_len as f64;
    }
    let kappa_g = if den_g > 0.0 {
        ((stat_g - noise_g) / den_g).max(0.0)
    } else {
        0.0
    };
    if g_len > 1 && nu_g >= 0.5 {
        // the statistic (signal and noise) is ~ its mean × χ²_ν/ν: the interval of κ follows
        let kappa_at = |chi: f64| ((stat_g * nu_g / chi - noise_g) / den_g).max(0.0);
        let lo = (2.0 * kappa_at(chi2_quantile(nu_g, 0.95))).sqrt();
        let hi = (2.0 * kappa_at(chi2_quantile(nu_g, 0.05))).sqrt();
        let s = (2.0 * kappa_g).sqrt();
        let (se, ci) = ((hi - lo) / (2.0 * Z95), (lo.min(s), hi.max(s)));
        estimates.push(est("segment_factor.sigma", None, s, se, ci, Some(nu_g),
            "moments of the year effects of each segment's monthly effects relative to the population's, after seasonality and trend; σ² = 2 × year-effect variance (year-over-year change); interval from the statistic's χ²_ν distribution, SE = width / 3.29"));
        model.segment_factor.sigma = s.min(3.0);
    } else {
        warnings.push(if g_len == 1 {
            "one segment: the segment factor is not separable from the market factor (set to 0)".to_string()
        } else {
            "fewer than three complete years: the segment factor (year-over-year changes of a segment relative to the others) is not estimated (set to 0)".to_string()
        });
    }

    // 4. noise and partner factor
    let mut noise_segments = BTreeMap::new();
    let mut partner_segments = BTreeMap::new();
    let add_components = |g: Option<usize>, estimates: &mut Vec<Estimate>| -> (f64, f64) {
        let ((v_e, d_e), (v_p, se_p, pairs)) = match g {
            Some(g) => (pc.noise[g], pc.partner[g]),
            None => (pc.noise_all, pc.partner_all),
        };
        let (path_e, path_p, seg) = match g {
            Some(g) => (
                format!("noise.segments.{}", p.segments[g]),
                format!("partner_factor.segments.{}", p.segments[g]),
                seg_opt(g),
            ),
            None => (
                "noise.sigma".to_string(),
                "partner_factor.sigma".to_string(),
                None,
            ),
        };
        let mut out = (0.0, 0.0);
        if v_e.is_finite() {
            let (s, se, ci) = sigma_chi2(v_e, d_e);
            estimates.push(est(path_e, seg, s, se, ci, Some(d_e), "pooled within-partner-year variance of log monthly purchases (buying months) after partner and segment-month effects; χ² interval"));
            out.0 = s;
        }
        if v_p.is_finite() {
            let (s, se, ci) = sigma_normal(v_p, se_p);
            estimates.push(est(path_p, seg, s, se, ci, Some(pairs), "moments of year-over-year changes of partners' mean log purchases, less the noise of the yearly means; partner-clustered standard error"));
            out.1 = s;
        }
        out
    };
    let (s_e, s_p) = add_components(None, &mut estimates);
    model.noise.sigma = s_e.min(3.0);
    model.partner_factor.sigma = s_p.min(3.0);
    if g_len > 1 {
        for g in 0..g_len {
            let (e, pf) = add_components(Some(g), &mut estimates);
            noise_segments.insert(seg_name(g), e.min(3.0));
            if pc.partner[g].0.is_finite() {
                partner_segments.insert(seg_name(g), pf.min(3.0));
            }
        }
        model.noise.segments = noise_segments;
        model.partner_factor.segments = partner_segments;
    }
    if !pc.partner_all.0.is_finite() {
        warnings.push("no partner has purchases in two consecutive complete years: the partner factor is not estimated (set to 0)".into());
    }

    // 5. seasonality and growth (sandwich standard errors under the fitted error covariance)
    let t_q = t95(df_t.max(1.0));
    let ar = |i: usize, j: usize| s2_m * rho_m.powi((i as i64 - j as i64).unsigned_abs() as i32);
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
    let cov_pop = fit::sandwich(&x_all, &xtx_inv_pop, &sigma_pop);
    let s_pop: Vec<f64> = (0..12)
        .map(|c| {
            fit::season_contrast(c)
                .iter()
                .zip(&beta_pop)
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect();
    let growth_est = |b: f64, se: f64| -> (f64, f64, (f64, f64)) {
        (
            b.exp() - 1.0,
            b.exp() * se,
            ((b - t_q * se).exp() - 1.0, (b + t_q * se).exp() - 1.0),
        )
    };
    let month_names = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let season_method = "OLS of monthly effects on calendar-month dummies and a linear trend; sandwich SE under the fitted market AR(1), segment-year and averaging noise; t interval";
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
            &format!("{} (log, centred); {season_method}", month_names[c]),
        ));
    }
    let se_b = cov_pop.at(12, 12).sqrt();
    let (gr, gse, gci) = growth_est(beta_pop[12], se_b);
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

    // per segment, with shrinkage of the seasonal deviations toward the population
    let mut seg_season: Vec<Vec<f64>> = Vec::new();
    let mut dev_var = vec![0.0; g_len];
    let mut fitted_series = Vec::new();
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
                        "{} (log, centred, before shrinkage); {season_method}",
                        month_names[c]
                    ),
                ));
            }
            dev_var[g] = dv;
            let se_b = cov.at(12, 12).sqrt();
            let (gr, gse, gci) = growth_est(b[12], se_b);
            estimates.push(est(format!("growth.segments.{}", p.segments[g]), seg_opt(g), gr, gse, gci, Some(df_t), "exp(trend of the segment's monthly effects, per year) − 1; sandwich SE; t interval"));
            model.growth.segments.insert(seg_name(g), gr.max(-0.99));
            seg_season.push(s_g);
        }
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
    for g in 0..g_len {
        let (rows, x, b, _, _) = seg_fit[g].as_ref().unwrap();
        let fitted = x.mv(b);
        let mut full = vec![f64::NAN; t_len];
        for (r, &t) in rows.iter().enumerate() {
            full[t] = fitted[r];
        }
        fitted_series.push(full);
    }

    // 6. incidence and churn (joint maximum likelihood), per segment and pooled
    let k = options.churn_silent_months;
    let mut stats: Vec<IncidenceStats> = (0..g_len).map(|_| IncidenceStats::new(t_len)).collect();
    let mut firsts = vec![0usize; n];
    let mut lasts = vec![0usize; n];
    let mut buys = vec![0u32; n];
    let mut k_rule = vec![(0.0f64, 0.0f64); g_len];
    for i in 0..n {
        let row = &p.gross[i * t_len..(i + 1) * t_len];
        let first = row.iter().position(|&v| v > 0.0).unwrap_or(0);
        let last = row.iter().rposition(|&v| v > 0.0).unwrap_or(0);
        let b = row.iter().filter(|&&v| v > 0.0).count();
        firsts[i] = first;
        lasts[i] = last;
        buys[i] = b as u32;
        stats[p.seg[i]].add(t_len, k, b, first, last);
        let churned = t_len - 1 - last >= k;
        let kr = &mut k_rule[p.seg[i]];
        if churned {
            kr.0 += 1.0;
            kr.1 += (last + 1 - first) as f64;
        } else {
            kr.1 += t_len.saturating_sub(k).saturating_sub(first) as f64;
        }
    }
    let mut pooled = IncidenceStats::new(t_len);
    for s in &stats {
        pooled.merge(s);
    }
    let inc_method = "joint maximum likelihood of monthly purchase incidence π and churn hazard h (a partner buys with probability π in each month it is alive; geometric churn; likelihood conditioned on one purchase); 90% profile-likelihood interval, SE = width / 3.29";
    let mut inc_fits: Vec<IncidenceFit> = Vec::new();
    let push_inc = |f: &IncidenceFit, g: Option<usize>, estimates: &mut Vec<Estimate>| {
        let (pi_path, h_path) = match g {
            Some(g) => (
                format!("incidence.segments.{}", p.segments[g]),
                format!("churn.segments.{}", p.segments[g]),
            ),
            None => (
                "incidence.probability".to_string(),
                "churn.monthly_hazard".to_string(),
            ),
        };
        let seg = g.and_then(seg_opt);
        estimates.push(est(
            pi_path,
            seg,
            f.pi,
            (f.pi_ci.1 - f.pi_ci.0) / (2.0 * Z95),
            f.pi_ci,
            None,
            inc_method,
        ));
        estimates.push(est(
            h_path,
            seg,
            f.h,
            (f.h_ci.1 - f.h_ci.0) / (2.0 * Z95),
            f.h_ci,
            None,
            inc_method,
        ));
    };
    let pooled_fit = pooled.fit();
    push_inc(&pooled_fit, None, &mut estimates);
    model.churn.monthly_hazard = pooled_fit.h.min(1.0);
    for g in 0..g_len {
        let f = stats[g].fit();
        if g_len > 1 {
            push_inc(&f, Some(g), &mut estimates);
            model.churn.segments.insert(seg_name(g), f.h.min(1.0));
        }
        inc_fits.push(f);
    }
    let entrants: f64 = stats.iter().map(|s| s.entrants).sum();
    if entrants > 0.0 {
        warnings.push(format!(
            "{entrants} partners make their first purchase {k} or more months into the history: they are treated as new entrants (their months before it are not counted as skipped)"
        ));
    }
    if pooled_fit.pi < 0.999 {
        warnings.push(format!(
            "partners skip months (probability of buying in a month {:.3}): the engine does not simulate purchase incidence yet, so the model's noise and levels describe buying months only (docs/calibration.md, \"What the engine needs\")",
            pooled_fit.pi
        ));
    }

    // 7. returns, orders, unit price
    let ratio = |num: &dyn Fn(usize) -> f64,
                 den: &dyn Fn(usize) -> f64,
                 members: &dyn Fn(usize) -> bool|
     -> (f64, f64) {
        let (mut sn, mut sd) = (0.0, 0.0);
        for i in 0..n {
            if members(i) {
                sn += num(i);
                sd += den(i);
            }
        }
        let r = sn / sd;
        let mut v = 0.0;
        for i in 0..n {
            if members(i) {
                v += (num(i) - r * den(i)).powi(2);
            }
        }
        (r, v.sqrt() / sd)
    };
    let sum_row = |v: &Vec<f64>, i: usize| v[i * t_len..(i + 1) * t_len].iter().sum::<f64>();
    let ret_i: Vec<f64> = (0..n).map(|i| sum_row(&p.returns, i)).collect();
    let gross_i: Vec<f64> = (0..n).map(|i| sum_row(&p.gross, i)).collect();
    let units_i: Vec<f64> = (0..n).map(|i| sum_row(&p.units, i)).collect();
    let ratio_method = "ratio of sums; partner-clustered SE; normal interval";
    let push_ratio = |path: String,
                      seg: Option<&str>,
                      (r, se): (f64, f64),
                      lo: f64,
                      hi: f64,
                      estimates: &mut Vec<Estimate>| {
        estimates.push(est(
            path,
            seg,
            r,
            se,
            ((r - Z95 * se).max(lo), (r + Z95 * se).min(hi)),
            None,
            ratio_method,
        ));
    };
    let all = |_: usize| true;
    let r_all = ratio(&|i| ret_i[i], &|i| gross_i[i], &all);
    push_ratio(
        "returns.share".into(),
        None,
        r_all,
        0.0,
        0.99,
        &mut estimates,
    );
    model.returns.share = r_all.0.min(0.99);
    if g_len > 1 {
        for g in 0..g_len {
            let r = ratio(&|i| ret_i[i], &|i| gross_i[i], &|i| p.seg[i] == g);
            push_ratio(
                format!("returns.segments.{}", p.segments[g]),
                seg_opt(g),
                r,
                0.0,
                0.99,
                &mut estimates,
            );
            model.returns.segments.insert(seg_name(g), r.0.min(0.99));
        }
    }
    if r_all.0 >= 0.99 {
        warnings.push(
            "returns are 99% of purchases or more: the returns share is capped at 0.99".into(),
        );
    }
    let mut orders_model = Orders::default();
    if let Some(orders) = &p.orders {
        let ord_i: Vec<f64> = (0..n)
            .map(|i| {
                orders[i * t_len..(i + 1) * t_len]
                    .iter()
                    .map(|&o| o as f64)
                    .sum()
            })
            .collect();
        let months_i: Vec<f64> = (0..n)
            .map(|i| (0..t_len).filter(|&t| orders[i * t_len + t] > 0).count() as f64)
            .collect();
        let lambda_est = |members: &dyn Fn(usize) -> bool| -> Option<(f64, f64)> {
            if (0..n)
                .filter(|&i| members(i))
                .map(|i| months_i[i])
                .sum::<f64>()
                == 0.0
            {
                return None;
            }
            let (m, se) = ratio(&|i| ord_i[i], &|i| months_i[i], members);
            let l = fit::poisson_floor1_lambda(m);
            let d = if l > 0.0 {
                1.0 / (1.0 - (-l).exp())
            } else {
                f64::NAN
            };
            Some((l, se * d))
        };
        let om = "mean distinct order ids per buying month m, λ solving λ + e^(−λ) = m (the engine draws max(1, Poisson(λ))); partner-clustered SE (delta method)";
        if let Some((l, se)) = lambda_est(&all) {
            estimates.push(est(
                "orders.per_month",
                None,
                l,
                se,
                ((l - Z95 * se).max(0.0), l + Z95 * se),
                None,
                om,
            ));
            orders_model.per_month = l.min(crate::limits::MAX_ORDERS_PER_MONTH);
        }
        if g_len > 1 {
            for g in 0..g_len {
                if let Some((l, se)) = lambda_est(&|i| p.seg[i] == g) {
                    estimates.push(est(
                        format!("orders.segments.{}", p.segments[g]),
                        seg_opt(g),
                        l,
                        se,
                        ((l - Z95 * se).max(0.0), l + Z95 * se),
                        None,
                        om,
                    ));
                    orders_model
                        .segments
                        .insert(seg_name(g), l.min(crate::limits::MAX_ORDERS_PER_MONTH));
                }
            }
        }
        let (ss, dof) = p
            .order_ss
            .iter()
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        if dof > 0.0 {
            let (s, se, ci) = sigma_chi2(ss / dof, dof);
            estimates.push(est("orders.size_sigma", None, s, se, ci, Some(dof), "pooled within-month variance of log order amounts (months with two orders or more); χ² interval"));
            orders_model.size_sigma = s.min(3.0);
        }
    }
    model.orders = orders_model;
    let units_total: f64 = units_i.iter().sum();
    if units_total > 0.0 {
        let (r, se) = ratio(&|i| gross_i[i], &|i| units_i[i], &all);
        estimates.push(est(
            "economics.unit_price",
            None,
            r,
            se,
            (r - Z95 * se, r + Z95 * se),
            None,
            ratio_method,
        ));
        if crate::population::unit_price_ok(r) {
            model.economics.unit_price = Some(r);
        }
    }

    // 8. category mixes: segment mix, Dirichlet-type shrinkage of each partner's mix
    let n_cat = p.categories.len();
    let mut mixes = vec![Vec::new(); n];
    let mut mix_weight = vec![0.0; n];
    if n_cat > 0 {
        let mut seg_mix = vec![vec![0.0f64; n_cat]; g_len];
        let mut own = vec![vec![0.0f64; n_cat]; n];
        let mut nmonths = vec![0usize; n];
        let (mut w_ss, mut w_dof) = (vec![0.0; g_len], vec![0.0; g_len]);
        for i in 0..n {
            let g = p.seg[i];
            let mut tot = 0.0;
            for t in 0..t_len {
                let cell = (i * t_len + t) * n_cat;
                let s: f64 = p.cat_rev[cell..cell + n_cat]
                    .iter()
                    .map(|&x| x as f64)
                    .sum();
                if s > 0.0 {
                    nmonths[i] += 1;
                    for c in 0..n_cat {
                        own[i][c] += p.cat_rev[cell + c] as f64;
                    }
                    tot += s;
                }
            }
            if tot > 0.0 {
                for c in 0..n_cat {
                    seg_mix[g][c] += own[i][c];
                    own[i][c] /= tot;
                }
                // month-to-month spread of the shares around the partner's mix
                for t in 0..t_len {
                    let cell = (i * t_len + t) * n_cat;
                    let s: f64 = p.cat_rev[cell..cell + n_cat]
                        .iter()
                        .map(|&x| x as f64)
                        .sum();
                    if s > 0.0 {
                        w_ss[g] += (0..n_cat)
                            .map(|c| (p.cat_rev[cell + c] as f64 / s - own[i][c]).powi(2))
                            .sum::<f64>();
                    }
                }
                w_dof[g] += nmonths[i].saturating_sub(1) as f64;
            }
        }
        let mut pop_mix = vec![0.0; n_cat];
        for g in 0..g_len {
            let tot: f64 = seg_mix[g].iter().sum();
            for c in 0..n_cat {
                pop_mix[c] += seg_mix[g][c];
                if tot > 0.0 {
                    seg_mix[g][c] /= tot;
                }
            }
        }
        let tot: f64 = pop_mix.iter().sum();
        if tot > 0.0 {
            pop_mix.iter_mut().for_each(|x| *x /= tot);
            let mut mix = BTreeMap::new();
            for c in 0..n_cat {
                mix.insert(p.categories[c].clone(), pop_mix[c]);
            }
            // shares summing to 1 within the model's 1e-6 check
            model.economics.category_mix = mix;
        }
        for g in 0..g_len {
            let v_w = if w_dof[g] > 0.0 {
                w_ss[g] / w_dof[g]
            } else {
                0.0
            };
            let members: Vec<usize> = (0..n)
                .filter(|&i| p.seg[i] == g && nmonths[i] > 0)
                .collect();
            let between = members
                .iter()
                .map(|&i| {
                    (0..n_cat)
                        .map(|c| (own[i][c] - seg_mix[g][c]).powi(2))
                        .sum::<f64>()
                })
                .sum::<f64>()
                / members.len().max(1) as f64;
            let noise = members
                .iter()
                .map(|&i| v_w / nmonths[i] as f64)
                .sum::<f64>()
                / members.len().max(1) as f64;
            let tau2 = (between - noise).max(0.0);
            let kappa = if tau2 > 0.0 {
                v_w / tau2
            } else {
                f64::INFINITY
            };
            let gini = 1.0 - seg_mix[g].iter().map(|m| m * m).sum::<f64>();
            let conc = if tau2 > 0.0 {
                gini / tau2 - 1.0
            } else {
                f64::INFINITY
            };
            for &i in &members {
                let wi = if kappa.is_finite() {
                    nmonths[i] as f64 / (nmonths[i] as f64 + kappa)
                } else {
                    0.0
                };
                mix_weight[i] = wi;
                mixes[i] = (0..n_cat)
                    .map(|c| wi * own[i][c] + (1.0 - wi) * seg_mix[g][c])
                    .collect();
            }
            for c in 0..n_cat {
                estimates.push(est(
                    format!("categories.segments.{}.{}", p.segments[g], p.categories[c]),
                    seg_opt(g),
                    seg_mix[g][c],
                    f64::NAN,
                    (f64::NAN, f64::NAN),
                    None,
                    "segment's revenue share of the category",
                ));
            }
            estimates.push(est(format!("categories.segments.{}.concentration", p.segments[g]), seg_opt(g), conc, f64::NAN, (f64::NAN, f64::NAN), None,
                &format!("Dirichlet concentration A of partners' mixes around the segment's: between-partner variance τ² = (1 − Σm²)/(A + 1) net of month-to-month noise; a partner with n buying months keeps weight n/(n + {}) on its own mix", num(kappa))));
        }
    }

    // 9. per-partner table
    let partners_out = PartnerEstimates {
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
    };

    // 10. diagnostics
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

    model.validate()?;
    let segments = p.segments.clone();
    let cal = Calibration {
        model,
        draws: Vec::new(),
        partners: partners_out,
        diagnostics: diag,
        segments,
        categories: p.categories.clone(),
        start: p.label(0),
        months: t_len,
        warnings,
        estimates,
    };
    let draws = make_draws(&cal, &boot, sigma_m, rho_m, &inc_fits, options)?;
    Ok(Calibration { draws, ..cal })
}

/// `K` parameter draws: market (σ, ρ) from the bootstrap (pivoted), χ²-distributed variance
/// components, normal draws of the other estimates (clipped to the model's ranges).
fn make_draws(
    cal: &Calibration,
    boot: &[(f64, f64)],
    sigma_m: f64,
    rho_m: f64,
    inc: &[IncidenceFit],
    options: &Options,
) -> Result<Vec<ParameterDraw>> {
    let mut out = Vec::with_capacity(options.draws);
    let find = |path: &str| cal.estimate(path);
    for k in 0..options.draws {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::rng::splitmix64(
            crate::rng::splitmix64(options.seed ^ 0x4452_4157_5353_4545) ^ k as u64,
        ));
        let mut z = || crate::rng::normal(&mut rng);
        let mut m = cal.model.clone();
        if !boot.is_empty() {
            let (bs, br) = boot[k % boot.len()];
            m.market.sigma = (sigma_m * sigma_m / bs).clamp(0.0, 3.0);
            if m.market.process == MarketProcess::Ar1 {
                m.market.rho = (2.0 * rho_m - br).clamp(0.0, 0.99);
            }
        } else if let Some(e) = find("market.sigma") {
            m.market.sigma = (e.value + e.se.max(0.0) * z()).clamp(0.0, 3.0);
        }
        let normal_draw = |e: Option<&Estimate>, z: f64, lo: f64, hi: f64, current: f64| -> f64 {
            match e {
                Some(e) if e.se.is_finite() => (e.value + e.se * z).clamp(lo, hi),
                _ => current,
            }
        };
        let chi_draw = |e: Option<&Estimate>,
                        rng: &mut rand_xoshiro::Xoshiro256PlusPlus,
                        current: f64|
         -> f64 {
            match e {
                Some(e) if e.dof.is_some_and(|d| d > 0.0) && e.value > 0.0 => {
                    let nu = e.dof.unwrap();
                    let c: f64 = ChiSquared::new(nu).map(|d| d.sample(rng)).unwrap_or(nu);
                    (e.value * e.value * nu / c.max(1e-12)).sqrt().min(3.0)
                }
                _ => current,
            }
        };
        let mut rng2 = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::rng::splitmix64(
            crate::rng::splitmix64(options.seed ^ 0x4348_4953_5155_4152) ^ k as u64,
        ));
        m.segment_factor.sigma = chi_draw(
            find("segment_factor.sigma"),
            &mut rng2,
            m.segment_factor.sigma,
        );
        m.noise.sigma = chi_draw(find("noise.sigma"), &mut rng2, m.noise.sigma);
        for (s, v) in m.noise.segments.iter_mut() {
            *v = chi_draw(find(&format!("noise.segments.{s}")), &mut rng2, *v);
        }
        m.partner_factor.sigma = normal_draw(
            find("partner_factor.sigma"),
            z(),
            0.0,
            3.0,
            m.partner_factor.sigma,
        );
        for (s, v) in m.partner_factor.segments.iter_mut() {
            *v = normal_draw(
                find(&format!("partner_factor.segments.{s}")),
                z(),
                0.0,
                3.0,
                *v,
            );
        }
        m.growth.rate = normal_draw(find("growth.rate"), z(), -0.99, 100.0, m.growth.rate);
        for (s, v) in m.growth.segments.iter_mut() {
            *v = normal_draw(find(&format!("growth.segments.{s}")), z(), -0.99, 100.0, *v);
        }
        // seasonality: each month's log effect independently, around the (shrunk) factors
        for c in 0..12 {
            if let Some(e) = find(&format!("seasonality.log_effect[{c}]")) {
                m.seasonality.factors[c] *= (e.se.max(0.0) * z()).exp();
            }
        }
        for (s, f) in m.seasonality.segments.iter_mut() {
            for (c, v) in f.iter_mut().enumerate() {
                if let Some(e) = find(&format!("seasonality.segments.{s}.log_effect[{c}]")) {
                    *v *= (e.se.max(0.0) * z()).exp();
                }
            }
        }
        m.churn.monthly_hazard = normal_draw(
            find("churn.monthly_hazard"),
            z(),
            0.0,
            1.0,
            m.churn.monthly_hazard,
        );
        for (s, v) in m.churn.segments.iter_mut() {
            *v = normal_draw(find(&format!("churn.segments.{s}")), z(), 0.0, 1.0, *v);
        }
        m.returns.share = normal_draw(find("returns.share"), z(), 0.0, 0.99, m.returns.share);
        for (s, v) in m.returns.segments.iter_mut() {
            *v = normal_draw(find(&format!("returns.segments.{s}")), z(), 0.0, 0.99, *v);
        }
        m.orders.per_month = normal_draw(
            find("orders.per_month"),
            z(),
            0.0,
            crate::limits::MAX_ORDERS_PER_MONTH,
            m.orders.per_month,
        );
        let mut incidence = BTreeMap::new();
        for (g, f) in inc.iter().enumerate() {
            let se = (f.pi_ci.1 - f.pi_ci.0) / (2.0 * Z95);
            incidence.insert(cal.segments[g].clone(), (f.pi + se * z()).clamp(1e-6, 1.0));
        }
        m.validate()?;
        out.push(ParameterDraw {
            model: m,
            incidence,
        });
    }
    Ok(out)
}
