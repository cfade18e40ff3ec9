//! Step 6 of [`super::calibrate`]: purchase incidence and the churn hazard by joint maximum
//! likelihood, pooled and per segment.

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{Acc, Ctx};
use crate::calibrate::fit::{IncidenceFit, IncidenceStats};
use crate::calibrate::linalg::Z95;
use crate::calibrate::{est, Estimate};

/// Each partner's first and last buying month and buying months, the k-month rule's counts
/// per segment, and the incidence fits per segment.
pub(in crate::calibrate) struct Incidence {
    pub firsts: Vec<usize>,
    pub lasts: Vec<usize>,
    pub buys: Vec<u32>,
    pub k_rule: Vec<(f64, f64)>,
    pub inc_fits: Vec<IncidenceFit>,
}

/// Incidence and churn estimates; sets `model.churn` and `model.incidence`.
pub(in crate::calibrate) fn incidence_and_churn(cx: &Ctx, acc: &mut Acc) -> Incidence {
    let Ctx {
        p,
        options,
        n,
        t_len,
        g_len,
        ..
    } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let seg_opt = |g: usize| cx.seg_opt(g);
    let Acc {
        estimates,
        model,
        warnings,
    } = acc;
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
    push_inc(&pooled_fit, None, estimates);
    model.churn.monthly_hazard = pooled_fit.h.min(1.0);
    model.incidence.probability = model_incidence(pooled_fit.pi);
    for g in 0..g_len {
        let f = stats[g].fit();
        if g_len > 1 {
            push_inc(&f, Some(g), estimates);
            model.churn.segments.insert(seg_name(g), f.h.min(1.0));
            model
                .incidence
                .segments
                .insert(seg_name(g), model_incidence(f.pi));
        }
        inc_fits.push(f);
    }
    let entrants: f64 = stats.iter().map(|s| s.entrants).sum();
    if entrants > 0.0 {
        warnings.push(format!(
            "{entrants} partners make their first purchase {k} or more months into the history: they are treated as new entrants (their months before it are not counted as skipped)"
        ));
    }
    Incidence {
        firsts,
        lasts,
        buys,
        k_rule,
        inc_fits,
    }
}

/// An incidence estimate as the model file takes it: within the model's range (a probability
/// of at least 0.001), and exactly 1 when the estimate is within 10⁻⁹ of it (every partner
/// buys every month: the section is then left out of the file).
pub(in crate::calibrate) fn model_incidence(pi: f64) -> f64 {
    if !pi.is_finite() || pi >= 1.0 - 1e-9 {
        1.0
    } else {
        pi.max(0.001)
    }
}
