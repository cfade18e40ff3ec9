//! Step 8 of [`super::calibrate`]: category mixes: the segments' mixes and each partner's mix
//! shrunk toward its segment's (Dirichlet-type), and the concentration of the mix for the year.

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{Acc, Ctx};
use crate::calibrate::{est, num};
use std::collections::BTreeMap;

/// Each partner's shrunk mix and the weight of its own mix in it (empty without categories).
pub(in crate::calibrate) fn category_mixes(cx: &Ctx, acc: &mut Acc) -> (Vec<Vec<f64>>, Vec<f64>) {
    let Ctx { p, n, g_len, .. } = *cx;
    let seg_opt = |g: usize| cx.seg_opt(g);
    let Acc {
        estimates, model, ..
    } = acc;
    let n_cat = p.categories.len();
    let mut mixes = vec![Vec::new(); n];
    let mut mix_weight = vec![0.0; n];
    if n_cat > 0 {
        let (mut seg_mix, own, nmonths, w_ss, w_dof, revenue) = partner_category_shares(cx);
        // the posterior concentration's revenue-weighted sums (section 2), per segment and pooled
        let mut post = vec![(0.0, 0.0); g_len + 1];
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
                if conc.is_finite() && n_cat > 1 {
                    // partner i's mix ~ Dirichlet(conc/(1 − w_i) · mix_i): its variance factor
                    let v = if wi < 1.0 {
                        1.0 / (conc / (1.0 - wi) + 1.0)
                    } else {
                        0.0
                    };
                    for k in [g, g_len] {
                        post[k].0 += revenue[i] * v;
                        post[k].1 += revenue[i];
                    }
                }
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
        if n_cat > 1 {
            year_mix_concentration(cx, acc, &post);
        }
    }
    (mixes, mix_weight)
}

/// `economics.mix_concentration` (pooled) and `mix_concentration_segments`: the concentration
/// `C` whose Dirichlet(`C · mix`) has the segment's revenue-weighted mean posterior variance
/// factor `v̄ = Σ r_i / (A/(1 − w_i) + 1) / Σ r_i`, `C = 1/v̄ − 1` (docs/calibration.md §2,
/// "The partner's mix for the year"); left out where it is not finite.
fn year_mix_concentration(cx: &Ctx, acc: &mut Acc, post: &[(f64, f64)]) {
    let g_len = cx.g_len;
    let (least, most) = (
        crate::limits::MIN_MIX_CONCENTRATION,
        crate::limits::MAX_MIX_CONCENTRATION,
    );
    let of = |(v, r): (f64, f64)| {
        let vbar = v / r;
        (r > 0.0 && vbar > 0.0).then(|| (1.0 / vbar - 1.0).clamp(least, most))
    };
    let text = "concentration C of the partner's mix for the year, Dirichlet(C · mix) a scenario: the revenue-weighted mean of the partners' posterior variance factors 1/(A/(1 − w) + 1) is 1/(C + 1)";
    for g in 0..g_len {
        if let Some(c) = of(post[g]) {
            let name = &cx.p.segments[g];
            acc.estimates.push(est(
                format!("economics.mix_concentration_segments.{name}"),
                cx.seg_opt(g),
                c,
                f64::NAN,
                (f64::NAN, f64::NAN),
                None,
                text,
            ));
            if g_len > 1 {
                acc.model
                    .economics
                    .mix_concentration_segments
                    .insert(name.clone(), c);
            }
        }
    }
    if let Some(c) = of(post[g_len]) {
        acc.estimates.push(est(
            "economics.mix_concentration".to_string(),
            None,
            c,
            f64::NAN,
            (f64::NAN, f64::NAN),
            None,
            text,
        ));
        acc.model.economics.mix_concentration = Some(c);
    }
}

/// Per partner: its revenue by category over its buying months (shares of its total), its
/// buying months with category revenue; per segment: revenue by category (not yet normalised)
/// and the month-to-month sum of squares of the shares around the partners' mixes with its
/// degrees of freedom.
#[allow(clippy::type_complexity)]
fn partner_category_shares(
    cx: &Ctx,
) -> (
    Vec<Vec<f64>>,
    Vec<Vec<f64>>,
    Vec<usize>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
) {
    let Ctx {
        p, n, t_len, g_len, ..
    } = *cx;
    let n_cat = p.categories.len();
    let mut seg_mix = vec![vec![0.0f64; n_cat]; g_len];
    let mut own = vec![vec![0.0f64; n_cat]; n];
    let mut nmonths = vec![0usize; n];
    let (mut w_ss, mut w_dof) = (vec![0.0; g_len], vec![0.0; g_len]);
    let mut revenue = vec![0.0; n];
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
        revenue[i] = tot;
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
    (seg_mix, own, nmonths, w_ss, w_dof, revenue)
}
