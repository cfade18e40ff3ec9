//! Step 4 of [`super::calibrate`]: monthly noise and the persistent partner factor, pooled
//! and per segment.

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{Acc, Ctx};
use crate::calibrate::fit::PartnerComponents;
use crate::calibrate::{est, sigma_chi2, sigma_normal, Estimate};
use std::collections::BTreeMap;

/// Estimates of the noise and partner-factor σ; sets `model.noise` and `model.partner_factor`.
pub(in crate::calibrate) fn noise_and_partner_factor(
    cx: &Ctx,
    pc: &PartnerComponents,
    acc: &mut Acc,
) {
    let Ctx { p, g_len, .. } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let seg_opt = |g: usize| cx.seg_opt(g);
    let Acc {
        estimates,
        model,
        warnings,
    } = acc;
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
    let (s_e, s_p) = add_components(None, estimates);
    model.noise.sigma = s_e.min(3.0);
    model.partner_factor.sigma = s_p.min(3.0);
    if g_len > 1 {
        for g in 0..g_len {
            let (e, pf) = add_components(Some(g), estimates);
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
}
