//! Step 9b of [`crate::calibrate::calibrate`]: each partner's demand level, the annual revenue rate
//! the engine simulates (`demand_revenue` of the partner table), apart from its contractual
//! baseline (the last twelve months' sum).
//!
//! A partner buying over the whole last year has its last-12-months revenue as its level. A
//! partner whose first purchase falls inside the last year (an entrant) has a baseline that
//! covers only part of it; its level is its purchases annualised over the months it has been
//! active, with the segment's seasonality and growth and the purchase incidence accounted for
//! (docs/calibration.md, "Demand level"):
//!
//! ```text
//! w_t   = S_g(cal t) · (1 + growth_g)^((t − (T−12) − 5.5) / 12)          (t in the last year)
//! level = Σ_{t=F..T−1} G_t · Σ_{t=T−12..T−1} w_t / (w_F / π_g + Σ_{t=F+1..T−1} w_t)
//! ```
//!
//! (`F` the first purchase, `π_g` the segment's incidence: the first buying month is a
//! buying month by selection, its expected amount is `D_F / π`; every later month's is `D_t`).

use super::Ctx;
use crate::demand::Model;

/// Per partner (panel order) its demand level in annual revenue, rounded to 6 decimals.
/// `firsts`: each partner's first buying month; `model`: the calibrated model (its
/// seasonality per segment, normalised, its growth and incidence per segment).
pub(in crate::calibrate) fn demand_revenue(cx: &Ctx, firsts: &[usize], model: &Model) -> Vec<f64> {
    let (p, t_len) = (cx.p, cx.t_len);
    let year = t_len.saturating_sub(12);
    // per segment: the weights of the last year's months and the incidence
    let weights: Vec<(Vec<f64>, f64)> = (0..cx.g_len)
        .map(|g| {
            let name = cx.seg_name(g);
            let season = model.seasonality.get(&name);
            let growth = model.growth.get(&name);
            let w = (year..t_len)
                .map(|t| season[p.cal(t)] * (1.0 + growth).powf(((t - year) as f64 - 5.5) / 12.0))
                .collect();
            (w, model.incidence.get(&name))
        })
        .collect();
    (0..cx.n)
        .map(|i| {
            let (w, pi) = &weights[p.seg[i]];
            let row = &p.gross[i * t_len..(i + 1) * t_len];
            let f = firsts[i];
            let level = if f >= year {
                let bought: f64 = row[f..].iter().sum();
                let year_weight: f64 = w.iter().sum();
                let active = w[f - year] / pi + w[f - year + 1..].iter().sum::<f64>();
                bought * year_weight / active
            } else {
                row[year..].iter().sum()
            };
            (level * 1e6).round() / 1e6
        })
        .collect()
}
