//! Step 0 of [`super::calibrate`]: the history's length, partners without purchases and
//! segments too small to estimate (an error) or thin (a warning).

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{Acc, Ctx};
use crate::error::{Error, Result};

/// Warnings about the history's length and zero-purchase partners; the error for a segment
/// with fewer than `min_segment_partners` partners.
pub(in crate::calibrate) fn check_history(cx: &Ctx, acc: &mut Acc) -> Result<()> {
    let Ctx {
        p,
        options,
        ptable,
        n,
        t_len,
        g_len,
        ..
    } = *cx;
    let seg_name = |g: usize| cx.seg_name(g);
    let Acc { warnings, .. } = acc;
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
    Ok(())
}
