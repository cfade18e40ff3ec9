//! Step 3 of [`super::calibrate`]: each segment's regression of its monthly effects and the
//! segment factor's σ from the year effects of its deviations from the population.

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::market::*;
use super::{Acc, Ctx};
use crate::calibrate::fit::{self, PartnerComponents, TwoWay};
use crate::calibrate::linalg::{chi2_quantile, chol_inverse, cholesky, Mat, Z95};
use crate::calibrate::{est, SegmentYearFit};
use crate::error::{Error, Result};

/// Each segment's fit and the variance inputs shared with the seasonality step.
pub(in crate::calibrate) struct SegmentFits {
    pub seg_fit: Vec<Option<SegmentYearFit>>,
    pub nbar: Vec<f64>,
    pub kappa_p: Vec<f64>,
    pub sig_e: Vec<f64>,
    pub kappa_g: f64,
}

/// Per-segment OLS (an error when a segment never buys in some calendar month) and the
/// moment estimate of the segment factor; sets `model.segment_factor`.
pub(in crate::calibrate) fn segment_factor(
    cx: &Ctx,
    fe: &TwoWay,
    pc: &PartnerComponents,
    pf: &PopulationFit,
    acc: &mut Acc,
) -> Result<SegmentFits> {
    let PopulationFit { w, sum_w2, pop, .. } = pf;
    let sum_w2 = *sum_w2;
    let Ctx { t_len, g_len, .. } = *cx;
    let Acc {
        estimates,
        model,
        warnings,
    } = acc;
    let blocks = t_len.div_ceil(12);
    let (seg_fit, nbar) = fit_segments(cx, fe)?;
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
    // Σ S_g (the statistic), Σ of its noise part, Σ c_g tr(AMBM), degrees of freedom; with
    // three or more complete years after each segment's seasonality and trend, with exactly
    // two after its seasonality only (`without_trend`: a segment's own growth and its year
    // effects cannot be told apart in two years, so the difference of its growth from the
    // population's counts as year effect: an upper bound, docs/calibration.md)
    let moments = |with_trend: bool| {
        let (mut stat_g, mut noise_g, mut den_g, mut nu_g) = (0.0, 0.0, 0.0, 0.0);
        for g in 0..g_len {
            let (rows, x, _, inv, y) = seg_fit[g].as_ref().unwrap();
            let reduced = (!with_trend).then(|| seasonal_only(x)).flatten();
            let (x, inv) = match &reduced {
                Some((xr, invr)) => (xr, invr),
                None => (x, inv),
            };
            let (s_stat, t1, t0, nb) =
                year_effect_moments(cx, fe, g, (rows, x, inv, y), pop, &sig_e, blocks);
            let c_g = 1.0 - 2.0 * w[g] + sum_w2;
            stat_g += s_stat;
            noise_g += t1 * kappa_p[g] / nbar[g] + t0;
            den_g += c_g * t1;
            nu_g += nb.saturating_sub(if with_trend { 2 } else { 1 }) as f64;
        }
        nu_g *= (g_len as f64 - 1.0) / g_len as f64;
        (stat_g, noise_g, den_g, nu_g)
    };
    let (mut stat_g, mut noise_g, mut den_g, mut nu_g) = (0.0, 0.0, 0.0, 0.0);
    let mut without_trend = false;
    if g_len > 1 {
        (stat_g, noise_g, den_g, nu_g) = moments(true);
        if nu_g < 0.5 {
            let alt = moments(false);
            if alt.3 >= 0.5 && alt.2 > 0.0 {
                (stat_g, noise_g, den_g, nu_g) = alt;
                without_trend = true;
            }
        }
    }
    // not estimated (one segment, or under two complete years: the year effects are then
    // nearly in the span of the seasonal dummies, den_g ≈ 0): 0, as the warning says, also
    // in the seasonality's covariance
    let kappa_g = if den_g > 0.0 && g_len > 1 && nu_g >= 0.5 {
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
        estimates.push(est("segment_factor.sigma", None, s, se, ci, Some(nu_g), if without_trend {
            "moments of the year effects of each segment's monthly effects relative to the population's, after seasonality only (two complete years: a segment's own growth counts as year effect, an upper bound); σ² = 2 × year-effect variance (year-over-year change); interval from the statistic's χ²_ν distribution, SE = width / 3.29"
        } else {
            "moments of the year effects of each segment's monthly effects relative to the population's, after seasonality and trend; σ² = 2 × year-effect variance (year-over-year change); interval from the statistic's χ²_ν distribution, SE = width / 3.29"
        }));
        model.segment_factor.sigma = s.min(3.0);
        if without_trend {
            warnings.push("fewer than three complete years: the segment factor is estimated from two, after the segments' seasonality only (a segment's own growth and its year effects cannot be told apart: the difference of its growth from the population's counts as year effect, so σ is an upper bound)".to_string());
        }
    } else {
        warnings.push(if g_len == 1 {
            "one segment: the segment factor is not separable from the market factor (set to 0)".to_string()
        } else {
            "fewer than two complete years: the segment factor (year-over-year changes of a segment relative to the others) is not estimated (set to 0)".to_string()
        });
    }
    Ok(SegmentFits {
        seg_fit,
        nbar,
        kappa_p,
        sig_e,
        kappa_g,
    })
}

/// Each segment's OLS of its monthly effects on the calendar months and the trend, and its mean
/// number of partners a month; an error naming the segment and a calendar month in which it
/// never buys (its seasonality cannot be estimated).
fn fit_segments(cx: &Ctx, fe: &TwoWay) -> Result<(Vec<Option<SegmentYearFit>>, Vec<f64>)> {
    let Ctx {
        p,
        ptable,
        t_len,
        g_len,
        ..
    } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let mut seg_fit: Vec<Option<SegmentYearFit>> = Vec::with_capacity(g_len);
    let mut nbar = vec![0.0; g_len];
    for g in 0..g_len {
        let rows: Vec<usize> = (0..t_len).filter(|&t| fe.n[g * t_len + t] > 0).collect();
        nbar[g] = rows
            .iter()
            .map(|&t| fe.n[g * t_len + t] as f64)
            .sum::<f64>()
            / rows.len().max(1) as f64;
        let x = fit::design(p, &rows);
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
    Ok((seg_fit, nbar))
}

/// The design without its trend column (the 12 calendar-month dummies) and its `(XᵀX)⁻¹`;
/// `None` when singular.
fn seasonal_only(x: &Mat) -> Option<(Mat, Mat)> {
    let mut xr = Mat::zeros(x.r, 12);
    for i in 0..x.r {
        for j in 0..12 {
            xr.set(i, j, x.at(i, j));
        }
    }
    let l = cholesky(&xr.t().mul(&xr))?;
    let inv = chol_inverse(&l);
    Some((xr, inv))
}

/// Segment `g`'s year-effect statistic S_g = rᵀAr of its deviations from the population after
/// the design `x` (its seasonality and trend, or its seasonality only), with tr(AMBM) and
/// tr(AMDM) (its segment-year and noise parts) and its number of complete years.
fn year_effect_moments(
    cx: &Ctx,
    fe: &TwoWay,
    g: usize,
    (rows, x, inv, y): (&[usize], &Mat, &Mat, &[f64]),
    pop: &[f64],
    sig_e: &[f64],
    blocks: usize,
) -> (f64, f64, f64, usize) {
    let t_len = cx.t_len;
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
    let complete_block =
        |b: usize| (b + 1) * 12 <= t_len && rows.iter().filter(|&&t| block(t) == b).count() == 12;
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
    (s_stat, t1, t0, nb)
}
