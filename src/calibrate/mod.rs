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
//! tables. The engine simulates the incidence (`[incidence]` of the model) and the per-partner
//! mixes (`Calibration::population` in Python); what it does not use yet is listed in
//! `docs/calibration.md`, "What the engine needs".
//!
//! ```
//! use rebatesim::calibrate::{calibrate, Options};
//! use rebatesim::data::Transactions;
//! let mut csv = String::from("partner_id,date,quantity,revenue\n");
//! for m in 0..14 {
//!     for (i, p) in ["A", "B", "C", "D", "E", "F"].iter().enumerate() {
//!         let (y, mo) = (2025 + m / 12, m % 12 + 1);
//!         csv.push_str(&format!("{p},{y}-{mo:02}-03,1,{}\n", 100 + 7 * m + 3 * i * i + (m * i) % 5));
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

mod behaviour;
mod bunching;
mod fit;
mod linalg;
mod panel;
mod pullforward;
mod steps;

pub use behaviour::{BehaviourFit, BunchingRow};

use crate::data::{Partners, Transactions};
use crate::demand::{MarketProcess, Model};
use crate::error::{Error, Result};
use crate::programme::{Compiled, Format};
use chrono::{Datelike, NaiveDate};
use fit::IncidenceFit;
use linalg::{chi2_quantile, Mat, Z95};
use rand::SeedableRng;
use steps::{Acc, Ctx};

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
    /// Use only the history up to this date (whole months: a date inside a month drops that
    /// month, with a warning). `None`: all of it.
    pub as_of: Option<NaiveDate>,
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
            as_of: None,
        }
    }
}

/// One estimated parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The parameter, named like the model file's field (e.g. `market.sigma`,
    /// `incidence.segments.retail`) or, for a parameter the model file does not have,
    /// `seasonality.log_effect[0]`.
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

/// One parameter draw: a complete model (its incidence included) and the drawn incidence per
/// segment.
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
    /// The demand level, annual revenue (the partner table's `demand_revenue`): the
    /// last-12-months revenue of a partner buying before the last year, an entrant's
    /// purchases annualised over its active months (seasonality, growth and incidence
    /// accounted for; `docs/calibration.md`, "Demand level"), rounded to 6 decimals.
    pub demand_revenue: Vec<f64>,
    /// The monthly revenue baselines `baseline_revenue_m01` … `_m12`
    /// ([`crate::monthly_baselines`]): gross purchases in the history month of
    /// [`PartnerEstimates::baseline_months`], rounded to 6 decimals.
    pub baseline_revenue_months: Vec<[f64; 12]>,
    /// The monthly units baselines `baseline_units_m01` … `_m12`: units of the purchase
    /// lines in the same history months, rounded to 6 decimals (`None` when the history has
    /// no quantities: every quantity 0).
    pub baseline_units_months: Option<Vec<[f64; 12]>>,
    /// The history month (`YYYY-MM`) of programme months 1 … 12: the history's last twelve
    /// months in calendar order from the programme's first month (without a programme, or
    /// with one starting the month after the history ends: the last twelve months, oldest
    /// first; `docs/calibration.md`, "Baselines").
    pub baseline_months: Vec<String>,
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
    /// Last-12-months purchases of the partners present over that whole year ...
    pub annual_observed: Vec<f64>,
    /// ... and their fit (partner level, segment-month effects, noise, incidence).
    pub annual_fitted: Vec<f64>,
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
    /// Stretch and pull-forward from bunching at a past programme's thresholds (with
    /// [`calibrate_with`] and a programme whose thresholds the history approaches).
    pub behaviour: Option<BehaviourFit>,
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
            let unused =
                e.parameter.contains("log_effect") || e.parameter.starts_with("categories");
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
    calibrate_with(history, partners, None, options)
}

/// The last day of the whole months up to `as_of`, and whether `as_of` fell inside a month.
fn month_cutoff(as_of: NaiveDate) -> (NaiveDate, bool) {
    let next = as_of.succ_opt().unwrap_or(as_of);
    if next.month() != as_of.month() {
        (as_of, false)
    } else {
        (
            as_of
                .with_day(1)
                .and_then(|d| d.pred_opt())
                .unwrap_or(as_of),
            true,
        )
    }
}

/// [`calibrate`] with the programme that was in force over the history: its tier thresholds
/// give the behaviour estimates (stretch from bunching, pull-forward; `docs/calibration.md`,
/// "Behaviour"), with a warning when the history never approaches them.
pub fn calibrate_with(
    history: &Transactions,
    partners: Option<&Partners>,
    programme: Option<&Compiled>,
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
    let cut = options.as_of.map(month_cutoff);
    let p = panel::build(history, partners, cut.map(|c| c.0))?;
    let (n, t_len, g_len) = (p.n(), p.months, p.segments.len());
    let ptable = partners.map(|x| x.table.as_str()).unwrap_or("partners");
    let cx = Ctx {
        p: &p,
        options,
        history,
        ptable,
        n,
        t_len,
        g_len,
    };
    let mut acc = Acc {
        estimates: Vec::new(),
        model: Model {
            description: Some(format!(
                "Calibrated by rebatesim from {} partners x {} months of history from {}",
                n,
                t_len,
                p.label(0)
            )),
            ..Model::default()
        },
        warnings: Vec::new(),
    };
    if let (Some(as_of), Some((end, true))) = (options.as_of, cut) {
        acc.warnings.push(format!(
            "as_of {as_of} falls inside a month: the history is used up to {end} (whole months only; a part month would read as a drop in demand)"
        ));
    }
    steps::checks::check_history(&cx, &mut acc)?;

    // 1. two-way fixed effects and the within-partner components
    let fe = fit::two_way(&p);
    let pc = fit::partner_components(&p, &fe);
    // 2. the population series: market factor, population seasonality and trend
    let pf = steps::market::market_factor(&cx, &fe, &mut acc)?;
    // 3. segment factor: year effects of each segment's deviation from the population
    let sf = steps::segment_factor::segment_factor(&cx, &fe, &pc, &pf, &mut acc)?;
    // 4. noise and partner factor
    steps::components::noise_and_partner_factor(&cx, &pc, &mut acc);
    // 5. seasonality and growth (sandwich standard errors under the fitted error covariance)
    let s_pop = steps::seasonality::population_seasonality(&cx, &fe, &pf, &sf, &mut acc);
    let fitted_series =
        steps::seasonality::segment_seasonality(&cx, &fe, &pf, &sf, &s_pop, &mut acc);
    // 6. incidence and churn (joint maximum likelihood), per segment and pooled
    let inc = steps::incidence::incidence_and_churn(&cx, &mut acc);
    // 7. returns, orders, unit price
    let totals = steps::ratios::returns_share(&cx, &mut acc);
    steps::ratios::orders(&cx, &mut acc);
    steps::ratios::categories_per_order(&cx, &mut acc);
    steps::ratios::unit_price(&cx, &totals, &mut acc);
    steps::ratios::category_prices(&cx, &mut acc);
    // 8. category mixes: segment mix, Dirichlet-type shrinkage of each partner's mix
    let (mixes, mix_weight) = steps::mixes::category_mixes(&cx, &mut acc);
    // 9. per-partner table
    let months = steps::report::baseline_months(
        &p,
        programme.map(|prog| prog.calendar.start),
        &mut acc.warnings,
    );
    let mut partners_out =
        steps::report::partner_table(&cx, &inc, &totals, &months, mixes, mix_weight);
    partners_out.demand_revenue = steps::level::demand_revenue(&cx, &inc.firsts, &acc.model);
    steps::order_size::order_size(&cx, &partners_out.demand_revenue, &mut acc);
    // 10. diagnostics
    let mut diag = steps::report::diagnostics(&cx, &fe, &pf, &fitted_series, &inc);
    (diag.annual_observed, diag.annual_fitted) =
        steps::report::annual_volumes(&cx, &fe, &inc, &acc.model);
    // 11. behaviour at a past programme's thresholds
    let behaviour = programme.and_then(|prog| steps::behaviour::behaviour(&cx, prog, &mut acc));

    let Acc {
        estimates,
        model,
        warnings,
    } = acc;
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
        behaviour,
    };
    let draws = make_draws(&cal, &pf.market_draws, &inc.inc_fits, options)?;
    Ok(Calibration { draws, ..cal })
}

/// `K` parameter draws: market (σ, ρ) from the belt's law (`market_draws`, pair k mod B;
/// steps/market.rs), χ²-distributed variance
/// components, normal draws of the other estimates (clipped to the model's ranges) in
/// antithetic pairs (`±Z`), so that the location parameters' draws are centred on the estimates.
fn make_draws(
    cal: &Calibration,
    market_draws: &[(f64, f64)],
    inc: &[IncidenceFit],
    options: &Options,
) -> Result<Vec<ParameterDraw>> {
    let mut out = Vec::with_capacity(options.draws);
    let find = |path: &str| cal.estimate(path);
    for k in 0..options.draws {
        // antithetic pairs: draws 2j and 2j + 1 share the normal stream of pair j with opposite
        // signs, so every normal (location) draw averages to the estimate exactly over an even K
        let (pair, sign) = (k / 2, if k % 2 == 0 { 1.0 } else { -1.0 });
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::rng::splitmix64(
            crate::rng::splitmix64(options.seed ^ 0x4452_4157_5353_4545) ^ pair as u64,
        ));
        let mut z = || sign * crate::rng::normal(&mut rng);
        let mut m = cal.model.clone();
        if !market_draws.is_empty() {
            let (sigma, rho) = market_draws[k % market_draws.len()];
            m.market.sigma = sigma;
            if m.market.process == MarketProcess::Ar1 {
                m.market.rho = rho;
            }
        } else if let Some(e) = find("market.sigma") {
            m.market.sigma = (e.value + e.se.max(0.0) * z()).clamp(0.0, 3.0);
        }
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
        draw_growth_rate(&mut m, cal, z());
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
        let incidence = draw_incidence(cal, inc, &mut z, &mut m);
        // categories per order: drawn last, so that no other draw's normal shifts
        if let Some(x) = m.orders.categories_per_order.as_mut() {
            let most = crate::limits::MAX_CATEGORIES_PER_ORDER;
            *x = normal_draw(find("orders.categories_per_order"), z(), 1.0, most, *x);
        }
        for (s, v) in m.orders.categories_per_order_segments.iter_mut() {
            let path = format!("orders.categories_per_order_segments.{s}");
            *v = normal_draw(
                find(&path),
                z(),
                1.0,
                crate::limits::MAX_CATEGORIES_PER_ORDER,
                *v,
            );
        }
        // the orders' size elasticity: drawn after everything else, likewise
        if let Some(b) = m.orders.size_elasticity.as_mut() {
            *b = normal_draw(find("orders.size_elasticity"), z(), -3.0, 3.0, *b);
        }
        m.validate()?;
        out.push(ParameterDraw {
            model: m,
            incidence,
        });
    }
    Ok(out)
}

/// The draw's growth rate (normal score `z`) and a `start = "history"` market under it: the
/// history's log path is the residual of the population's series after the trend, so a trend
/// steeper by `δ = ln(1 + g_k) − ln(1 + ĝ)` a year lowers month `t`'s residual by
/// `δ·(t − mid)/12` (`mid` the history's middle month, the regression's origin;
/// docs/calibration.md, session 31).
fn draw_growth_rate(m: &mut Model, cal: &Calibration, z: f64) {
    m.growth.rate = normal_draw(cal.estimate("growth.rate"), z, -0.99, 100.0, m.growth.rate);
    let delta = m.growth.rate.ln_1p() - cal.model.growth.rate.ln_1p();
    let n = m.market.history.len();
    if n == 0 || delta == 0.0 || cal.months < n {
        return;
    }
    let mid = (cal.months as f64 - 1.0) / 2.0;
    for (i, h) in m.market.history.iter_mut().enumerate() {
        let t = (cal.months - n + i) as f64;
        *h = (*h - delta * (t - mid) / 12.0).clamp(-5.0, 5.0);
    }
}

/// One draw's purchase incidence per segment (normal around each segment's estimate, its SE
/// from the interval), set into the model `m` (per segment when it has segments); returned for
/// the draw's record.
fn draw_incidence(
    cal: &Calibration,
    inc: &[IncidenceFit],
    z: &mut impl FnMut() -> f64,
    m: &mut Model,
) -> BTreeMap<String, f64> {
    let mut incidence = BTreeMap::new();
    for (g, f) in inc.iter().enumerate() {
        let se = (f.pi_ci.1 - f.pi_ci.0) / (2.0 * Z95);
        incidence.insert(cal.segments[g].clone(), (f.pi + se * z()).clamp(1e-6, 1.0));
    }
    if m.incidence.segments.is_empty() {
        if let Some(v) = incidence.values().next() {
            m.incidence.probability = steps::incidence::model_incidence(*v);
        }
    } else {
        for (s, v) in m.incidence.segments.iter_mut() {
            if let Some(d) = incidence.get(s) {
                *v = steps::incidence::model_incidence(*d);
            }
        }
    }
    incidence
}

/// A normal draw of estimate `e` (value + se × z, clipped to [lo, hi]); `current` when there
/// is no estimate or no standard error.
fn normal_draw(e: Option<&Estimate>, z: f64, lo: f64, hi: f64, current: f64) -> f64 {
    match e {
        Some(e) if e.se.is_finite() => (e.value + e.se * z).clamp(lo, hi),
        _ => current,
    }
}

/// A σ drawn from its χ² sampling distribution (σ̂² ν / χ²_ν, at most 3); `current` without
/// degrees of freedom or a positive estimate.
fn chi_draw(e: Option<&Estimate>, rng: &mut rand_xoshiro::Xoshiro256PlusPlus, current: f64) -> f64 {
    match e {
        Some(e) if e.dof.is_some_and(|d| d > 0.0) && e.value > 0.0 => {
            let nu = e.dof.unwrap();
            let c: f64 = ChiSquared::new(nu).map(|d| d.sample(rng)).unwrap_or(nu);
            (e.value * e.value * nu / c.max(1e-12)).sqrt().min(3.0)
        }
        _ => current,
    }
}
