//! Step 11 of [`super::calibrate`] when a past programme is given: stretch from the bunching
//! of period volumes just above its tier thresholds (the notch estimator of
//! [`crate::calibrate::bunching`]) and pull-forward from the end-of-period spike of the
//! bunchers and their following dip; uplift stays an explicit assumption.

#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use super::{Acc, Ctx};
use crate::calibrate::behaviour::{BehaviourFit, BunchingRow};
use crate::calibrate::bunching::{notch, notch_se, Histogram, NotchFit};
use crate::calibrate::est;
use crate::calibrate::linalg::Z95;
use crate::calibrate::panel::Panel;
use crate::calibrate::pullforward::{self, Outcome};
use crate::programme::Compiled;
use crate::programme::{Basis, CompiledComponent, Measure, Returns, Reward, Rule, TierMethod};
use rust_decimal::prelude::ToPrimitive;

/// Largest half-width of the histogram of `z = volume / threshold − 1` (narrower when
/// thresholds are closer: see [`range_of`]).
pub(in crate::calibrate) const RANGE: f64 = 0.5;
/// Its bin width.
pub(in crate::calibrate) const BIN: f64 = 0.01;
/// The main excluded window below and above the threshold, and the polynomial degree.
pub(in crate::calibrate) const BELOW: f64 = 0.10;
pub(in crate::calibrate) const ABOVE: f64 = 0.02;
pub(in crate::calibrate) const DEGREE: usize = 5;
/// Fewer partner-periods within ±RANGE of a threshold: not estimated (a warning).
const MIN_OBSERVATIONS: usize = 50;
/// The engine's default stretch sensitivity, used to turn the share into `max_probability`.
const SENSITIVITY: f64 = 10.0;

/// One partner-period near a threshold.
struct Obs {
    z: f64,
    /// Payoff of reaching the threshold over the purchase needed (retroactive tiers).
    ratio: Option<f64>,
    /// What the pull-forward is measured on (when the history has a following period and the
    /// partner other active months).
    outcome: Option<Outcome>,
}

/// A component's volume of partner `i` in month `t` (its categories, its basis, net or gross).
fn month_volume(p: &Panel, c: &CompiledComponent, basis: Basis, i: usize, t: usize) -> f64 {
    let cell = i * p.months + t;
    let g = p.gross[cell];
    if !(g > 0.0) {
        return 0.0;
    }
    let share = match &c.scope.categories {
        None => 1.0,
        Some(_) => {
            let nc = p.categories.len();
            let mut s = 0.0;
            for (k, name) in p.categories.iter().enumerate() {
                if c.scope.includes_category(Some(name)) {
                    s += p.cat_rev[cell * nc + k] as f64;
                }
            }
            (s / g).clamp(0.0, 1.0)
        }
    };
    let net = if c.returns == Returns::Net {
        (1.0 - p.returns[cell] / g).max(0.0)
    } else {
        1.0
    };
    match basis {
        Basis::Revenue => g * share * net,
        Basis::Units => p.units[cell] * share * net,
    }
}

/// The reward of tier `k` at volume `v` under a retroactive ladder (0 below the first tier).
fn reward(tiers: &[(f64, Reward)], k: Option<usize>, v: f64) -> Option<f64> {
    let Some(k) = k else { return Some(0.0) };
    match tiers[k].1 {
        Reward::Rate(r) => Some(r.to_f64()? * v),
        Reward::Fixed(a) => Some(a.to_f64()?),
        Reward::PerUnit(_) => None,
    }
}

/// The half-width of the histogram: at most [`RANGE`], and inside every threshold's own cell
/// (a volume is set against its nearest threshold; where two cells meet, at the geometric
/// mean of adjacent thresholds, the pooled histogram would step, which a polynomial
/// counterfactual cannot follow): `1 − √(T_k / T_k+1)` for adjacent thresholds, rounded down
/// to whole bins.
fn range_of(prog: &Compiled) -> f64 {
    let mut r = RANGE;
    for c in &prog.components {
        if let Rule::Volume { tiers, .. } = &c.rule {
            let t: Vec<f64> = tiers
                .iter()
                .filter_map(|t| t.threshold.to_f64())
                .filter(|v| *v > 0.0)
                .collect();
            for w in t.windows(2) {
                if w[1] > w[0] {
                    r = r.min(1.0 - (w[0] / w[1]).sqrt());
                }
            }
        }
    }
    ((r / BIN).floor() * BIN).max(5.0 * BIN)
}

/// `z = volume / threshold − 1`, with a volume within a millionth of the threshold counted as
/// at it (`z = 0`): a stretch purchase reaches a threshold to the cent (the engine tops it up
/// exactly to it), and the period's volume summed in floating point from its months (a net
/// share, category shares in single precision) can land a hair below — which put most of the
/// engine's stretchers in the bin under the threshold, as if they had not stretched (session 30).
fn z_of(v: f64, threshold: f64) -> f64 {
    if (v - threshold).abs() <= 1e-6 * threshold {
        0.0
    } else {
        v / threshold - 1.0
    }
}

/// The first and last months with a purchase (`None` when there is none).
fn active_span(months: &[f64]) -> Option<(usize, usize)> {
    let first = months.iter().position(|v| *v > 0.0)?;
    let last = months.iter().rposition(|v| *v > 0.0)?;
    Some((first, last))
}

/// The mean monthly volume over the active span outside `[t0, t0 + skip)` (the period and
/// the next: the stretch and what it pulled forward), when at least `min` months remain.
fn level_outside(
    months: &[f64],
    active: Option<(usize, usize)>,
    t0: usize,
    skip: usize,
    min: usize,
) -> Option<f64> {
    let (a, b) = active?;
    let (mut sum, mut n) = (0.0, 0usize);
    for (t, v) in months.iter().enumerate().take(b + 1).skip(a) {
        if t < t0 || t >= t0 + skip {
            sum += v;
            n += 1;
        }
    }
    (n >= min && sum > 0.0).then(|| sum / n as f64)
}

/// The partner-periods of component `c` within `range` of its thresholds; the largest volume
/// over the lowest threshold (to say how far the history is from the ladder). `returns[g]`
/// is segment `g`'s calibrated returns share: for a ladder net of returns the purchase that
/// reaches a threshold is the shortfall grossed up by `1 / (1 − returns)`, as the engine buys
/// it, and the payoff ratio is taken over that purchase.
fn observations(
    cx: &Ctx,
    prog: &Compiled,
    c: &CompiledComponent,
    range: f64,
    returns: &[f64],
    out: &mut Vec<Obs>,
) -> f64 {
    let Rule::Volume {
        basis,
        method,
        tiers,
        ..
    } = &c.rule
    else {
        return 0.0;
    };
    let p = cx.p;
    let tiers: Vec<(f64, Reward)> = tiers
        .iter()
        .filter_map(|t| Some((t.threshold.to_f64()?, t.reward)))
        .filter(|t| t.0 > 0.0)
        .collect();
    if tiers.is_empty() {
        return 0.0;
    }
    let len = match c.measure {
        Measure::Period => prog.calendar.length.months() as usize,
        Measure::Cumulative => prog.calendar.months() as usize,
    };
    let start_abs = p.start.0 as i64 * 12 + p.start.1 as i64 - 1;
    let prog_abs = {
        use chrono::Datelike;
        prog.calendar.start.year() as i64 * 12 + prog.calendar.start.month0() as i64
    };
    let starts: Vec<usize> = (0..p.months)
        .filter(|&t| (start_abs + t as i64 - prog_abs).rem_euclid(len as i64) == 0)
        .filter(|&t| t + len <= p.months)
        .collect();
    let mut max_ratio: f64 = 0.0;
    for i in 0..p.n() {
        if !c.scope.includes_partner(&p.ids[i], &p.segments[p.seg[i]]) {
            continue;
        }
        let months: Vec<f64> = (0..p.months)
            .map(|t| month_volume(p, c, *basis, i, t))
            .collect();
        let window = |t0: usize| -> &[f64] { &months[t0..t0 + len] };
        let active = active_span(&months);
        for &t0 in &starts {
            let m = window(t0);
            let v: f64 = m.iter().sum();
            if !(v > 0.0) {
                continue;
            }
            max_ratio = max_ratio.max(v / tiers[0].0);
            // the nearest threshold on the log scale
            let k = (0..tiers.len())
                .min_by(|&a, &b| {
                    (v / tiers[a].0)
                        .ln()
                        .abs()
                        .total_cmp(&(v / tiers[b].0).ln().abs())
                })
                .unwrap_or(0);
            let th = tiers[k].0;
            let z = z_of(v, th);
            if !(z >= -range && z < range) {
                continue;
            }
            let last = m[len - 1];
            let next = (t0 + 2 * len <= p.months).then(|| window(t0 + len).iter().sum::<f64>());
            let ratio = if *method == TierMethod::Retroactive && z < 0.0 {
                let below = if k == 0 { None } else { Some(k - 1) };
                let gross_up = if c.returns == Returns::Net {
                    1.0 / (1.0 - returns[p.seg[i]].clamp(0.0, 0.99))
                } else {
                    1.0
                };
                match (reward(&tiers, Some(k), th), reward(&tiers, below, v)) {
                    (Some(a), Some(b)) if th > v => Some((a - b) / ((th - v) * gross_up)),
                    _ => None,
                }
            } else {
                None
            };
            let outcome = match (next, level_outside(&months, active, t0, 2 * len, len)) {
                (Some(next), Some(level)) if len >= 2 => Some(Outcome {
                    z,
                    len,
                    last,
                    next,
                    level,
                    period: t0,
                    who: i,
                }),
                _ => None,
            };
            out.push(Obs { z, ratio, outcome });
        }
    }
    max_ratio
}

/// The observations of every ladder the behaviour is estimated from.
struct Gathered {
    obs: Vec<Obs>,
    /// The components that gave observations.
    used: Vec<String>,
    /// Whether any of them is a retroactive ladder (a notch).
    notch_tiers: bool,
    /// The largest period volume over the lowest threshold.
    max_ratio: f64,
}

/// The partner-periods near the thresholds of the programme's ladders: its retroactive ones
/// (notches identify stretch), or its incremental ones (kinks) when it has no notch. A ladder
/// over some categories is left out (a warning) when the history has no category column.
fn gather(cx: &Ctx, prog: &Compiled, range: f64, acc: &mut Acc) -> Gathered {
    let has_notch = prog.components.iter().any(
        |c| matches!(&c.rule, Rule::Volume { method, .. } if *method == TierMethod::Retroactive),
    );
    let returns: Vec<f64> =
        cx.p.segments
            .iter()
            .map(|s| acc.model.returns.get(s))
            .collect();
    let mut g = Gathered {
        obs: Vec::new(),
        used: Vec::new(),
        notch_tiers: false,
        max_ratio: 0.0,
    };
    for c in &prog.components {
        let Rule::Volume { method, .. } = &c.rule else {
            continue;
        };
        if (*method == TierMethod::Retroactive) != has_notch {
            continue;
        }
        if c.scope.categories.is_some() && cx.p.categories.is_empty() {
            acc.warnings.push(format!(
                "programme '{}', component '{}': its ladder counts only some categories and the history has no 'category' column: left out of the behaviour estimates",
                prog.name, c.id
            ));
            continue;
        }
        let before = g.obs.len();
        g.max_ratio = g
            .max_ratio
            .max(observations(cx, prog, c, range, &returns, &mut g.obs));
        if g.obs.len() > before {
            g.used.push(c.id.clone());
            g.notch_tiers |= *method == TierMethod::Retroactive;
        }
    }
    g
}

/// Uplift is stated as an assumption (an estimate of 0 without standard error, and a warning).
fn state_uplift_assumption(prog: &Compiled, acc: &mut Acc) {
    acc.estimates.push(est(
        "behaviour.uplift.elasticity",
        None,
        0.0,
        f64::NAN,
        (f64::NAN, f64::NAN),
        None,
        "assumption: uplift is not identified from a history under one programme (it needs a change of programme or a holdout)",
    ));
    acc.warnings.push(format!(
        "uplift is an assumption, not an estimate: a history under one programme ('{}') cannot separate the programme's uplift from the trend; behaviour.uplift.elasticity stays 0 — set it yourself and look at its line in the sensitivity tornado",
        prog.name
    ));
}

/// The notch fit over the excluded windows below 5–15%, above 2–4% and degrees 3, 5 and 7.
fn window_sensitivity(h: &Histogram) -> Vec<BunchingRow> {
    let mut rows = Vec::new();
    for below in [0.05, 0.10, 0.15] {
        for above in [0.02, 0.04] {
            for degree in [3, 5, 7] {
                let f = notch(h, below, above, degree);
                rows.push(BunchingRow {
                    below,
                    above,
                    degree,
                    share: f.as_ref().map_or(f64::NAN, |f| f.share),
                    normalised: f.as_ref().map_or(f64::NAN, |f| f.normalised),
                });
            }
        }
    }
    rows
}

/// The pull-forward measured on every observation and its standard error.
struct PullForward {
    spike: f64,
    dip: f64,
    share: f64,
    se: f64,
}

/// The pull-forward ([`pullforward::fit_with_se`]) on the observations that have a
/// following period and a level, with 200 bootstrap resamples of the partners.
fn pull_forward_with_se(obs: &[Obs], range: f64, seed: u64) -> PullForward {
    let outcomes: Vec<Outcome> = obs.iter().filter_map(|o| o.outcome.clone()).collect();
    let (f, se) = pullforward::fit_with_se(&outcomes, BIN, range, BELOW, ABOVE, DEGREE, 200, seed);
    PullForward {
        spike: f.spike,
        dip: f.dip,
        share: f.share,
        se,
    }
}

/// A warning when the stretch share moves with the excluded window and degree by more than
/// twice its standard error.
fn warn_if_window_matters(
    acc: &mut Acc,
    sensitivity: &[BunchingRow],
    main: &NotchFit,
    share_se: f64,
) {
    let (lo, hi) = sensitivity
        .iter()
        .map(|r| r.share)
        .filter(|s| s.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), s| {
            (a.min(s), b.max(s))
        });
    if hi - lo > 2.0 * share_se.max(1e-9) {
        acc.warnings.push(format!(
            "the stretch share depends on the excluded window and the polynomial degree: {:.3} to {:.3} over windows below 5–15%, above 2–4% and degrees 3–7 (main: {:.3} ± {:.3}); see the sensitivity table",
            lo, hi, main.share, share_se
        ));
    }
}

/// The mean over the window's *counterfactual* partner-periods of the engine's curve `f`
/// (`1 − e^(−sensitivity × payoff/extra)`) at ceiling `p`, from the partner-periods still in
/// the window: one with curve `f` stayed there with probability `1 − p·f`, so each is weighted
/// by `1 / (1 − p·f)` (inverse probability weighting; unweighted, the partner-periods that
/// were keener to stretch, and left, are under-counted and the mean curve comes out low).
fn window_curve_mean(factors: &[f64], p: f64) -> f64 {
    if factors.is_empty() {
        return 1.0;
    }
    let (mut w, mut wf) = (0.0, 0.0);
    for &f in factors {
        let weight = 1.0 / (1.0 - p * f).max(0.05);
        w += weight;
        wf += weight * f;
    }
    (wf / w).max(1e-9)
}

/// The ceiling `max_probability` whose mean probability over the window's counterfactual
/// partner-periods equals the stretch share: the fixed point of `p = share / mean_f(p)`
/// ([`window_curve_mean`]), from `p = share / mean f`; with the mean curve at the solution.
pub(in crate::calibrate) fn max_probability_for(share: f64, factors: &[f64]) -> (f64, f64) {
    let mut p = share / window_curve_mean(factors, 0.0);
    for _ in 0..50 {
        let next = share / window_curve_mean(factors, p.clamp(0.0, 1.0));
        if (next - p).abs() < 1e-12 {
            p = next;
            break;
        }
        p = next;
    }
    (p, window_curve_mean(factors, p.clamp(0.0, 1.0)))
}

/// Sets the model's stretch from a significant notch and its pull-forward when measured.
/// The engine's probability is max_probability × (1 − e^(−sensitivity × payoff/extra)):
/// max_probability is chosen so that its mean over the window's counterfactual
/// partner-periods equals the share ([`max_probability_for`]).
fn adopt_stretch(acc: &mut Acc, obs: &[Obs], main: &NotchFit, share_se: f64, pf: &PullForward) {
    let factors: Vec<f64> = obs
        .iter()
        .filter(|o| o.z >= -BELOW && o.z < 0.0)
        .filter_map(|o| o.ratio)
        .map(|r| 1.0 - (-SENSITIVITY * r).exp())
        .collect();
    let (maxp, mean_f) = max_probability_for(main.share, &factors);
    if maxp > 1.0 {
        acc.warnings.push(format!(
            "the stretch share {:.3} needs a max_probability of {:.2} at the default sensitivity: capped at 1",
            main.share, maxp
        ));
    }
    let maxp = maxp.clamp(0.0, 1.0);
    let st = &mut acc.model.behaviour.stretch;
    st.enabled = true;
    st.max_shortfall = BELOW;
    st.max_probability = maxp;
    st.sensitivity = SENSITIVITY;
    acc.estimates.push(est(
        "behaviour.stretch.max_probability",
        None,
        maxp,
        share_se / mean_f,
        (
            ((main.share - Z95 * share_se) / mean_f).clamp(0.0, 1.0),
            ((main.share + Z95 * share_se) / mean_f).clamp(0.0, 1.0),
        ),
        None,
        "stretch share over the mean of 1 − e^(−sensitivity × payoff/extra) in the window (the engine's probability curve)",
    ));
    if pf.share.is_finite() {
        let v = pf.share.clamp(0.0, 1.0);
        acc.model.behaviour.pull_forward.share = v;
        acc.estimates.push(est(
            "behaviour.pull_forward.share",
            None,
            v,
            pf.se,
            // a share: its interval within [0, 1], as the value and the stretch's
            (
                (pf.share - Z95 * pf.se).clamp(0.0, 1.0),
                (pf.share + Z95 * pf.se).clamp(0.0, 1.0),
            ),
            None,
            "dip / spike: bunchers' last-month spike and next-period dip over the partner's own level, net of the period's mean, against the mean outcome at their counterfactual volumes fitted outside the window; bootstrap over partners",
        ));
    } else {
        acc.warnings.push(
            "pull-forward not estimated: no end-of-period spike of the bunchers to measure it against (monthly periods, or no following period in the history)".into(),
        );
    }
}

/// The behaviour estimates: a [`BehaviourFit`] and, when the bunching is clear, the model's
/// stretch and pull-forward; warnings when the programme's thresholds are never approached,
/// when its tiers are kinks, and always about uplift.
pub(in crate::calibrate) fn behaviour(
    cx: &Ctx,
    prog: &Compiled,
    acc: &mut Acc,
) -> Option<BehaviourFit> {
    let range = range_of(prog);
    let Gathered {
        obs,
        used,
        notch_tiers,
        max_ratio,
    } = gather(cx, prog, range, acc);
    state_uplift_assumption(prog, acc);
    if prog
        .components
        .iter()
        .all(|c| !matches!(c.rule, Rule::Volume { .. }))
    {
        acc.warnings.push(format!(
            "programme '{}' has no volume ladder: stretch and pull-forward not estimated",
            prog.name
        ));
        return None;
    }
    if obs.len() < MIN_OBSERVATIONS {
        acc.warnings.push(format!(
            "programme '{}': the history never approaches its tier thresholds ({} partner-period{} within ±{:.0}% of a threshold, at least {MIN_OBSERVATIONS} needed; the largest period volume is {:.1}% of the lowest threshold): stretch and pull-forward not estimated — is it the programme that was in force, with thresholds in the history's currency and periods?",
            prog.name,
            obs.len(),
            if obs.len() == 1 { "" } else { "s" },
            range * 100.0,
            max_ratio * 100.0
        ));
        return None;
    }
    let z: Vec<f64> = obs.iter().map(|o| o.z).collect();
    let h = Histogram::new(&z, BIN, range);
    let seed = cx.options.seed;
    let main = notch(&h, BELOW, ABOVE, DEGREE)?;
    let (share_se, normalised_se) = notch_se(&h, BELOW, ABOVE, DEGREE, 200, seed);
    let sensitivity = window_sensitivity(&h);
    let pf = pull_forward_with_se(&obs, range, seed);

    let method = format!(
        "notch estimator: counterfactual polynomial of degree {DEGREE} fitted to the histogram of volume/threshold − 1 (bins of {BIN}) outside [−{BELOW}, {ABOVE}); missing mass below over counterfactual mass; Poisson bootstrap"
    );
    let ci = |v: f64, se: f64| (v - Z95 * se, v + Z95 * se);
    acc.estimates.push(est(
        "behaviour.stretch.share_in_window",
        None,
        main.share,
        share_se,
        ci(main.share, share_se),
        None,
        &method,
    ));
    acc.estimates.push(est(
        "behaviour.bunching.normalised_excess",
        None,
        main.normalised,
        normalised_se,
        ci(main.normalised, normalised_se),
        None,
        "excess mass in [0, above) over the counterfactual count per bin",
    ));
    warn_if_window_matters(acc, &sensitivity, &main, share_se);
    let significant = main.share - Z95 * share_se > 0.0;
    if !notch_tiers {
        acc.warnings.push(format!(
            "programme '{}': its ladders are incremental (kinks, not notches): bunching is reported but stretch is not identified from it without stronger assumptions; behaviour.stretch left off",
            prog.name
        ));
    } else if !significant {
        acc.warnings.push(format!(
            "no bunching above the thresholds of programme '{}' distinguishable from zero (stretch share {:.3} ± {:.3}): behaviour.stretch left off",
            prog.name, main.share, share_se
        ));
    } else {
        adopt_stretch(acc, &obs, &main, share_se, &pf);
    }
    Some(BehaviourFit {
        programme: prog.name.clone(),
        components: used,
        notch: notch_tiers,
        observations: obs.len(),
        bin_width: BIN,
        range,
        counts: h.counts.clone(),
        fitted: main.fitted.clone(),
        below: BELOW,
        above: ABOVE,
        degree: DEGREE,
        share: main.share,
        share_se,
        normalised: main.normalised,
        normalised_se,
        sensitivity,
        spike: pf.spike,
        dip: pf.dip,
        pull_forward: pf.share,
        pull_forward_se: pf.se,
    })
}

#[cfg(test)]
mod tests {
    use super::{max_probability_for, z_of};

    #[test]
    fn a_volume_at_the_threshold_to_a_millionth_is_at_it() {
        // 25,773.20 gross less 3% returns summed as g × (1 − r/g) lands a hair under 25,000
        let v = 25_773.2 * (1.0 - 773.2 / 25_773.2);
        assert_eq!(z_of(v, 25_000.0), 0.0);
        assert_eq!(z_of(25_000.02, 25_000.0), 0.0);
        assert!(z_of(24_999.0, 25_000.0) < 0.0 && z_of(25_001.0, 25_000.0) > 0.0);
        assert!((z_of(22_500.0, 25_000.0) + 0.1).abs() < 1e-15);
    }

    #[test]
    fn max_probability_weights_the_window_by_who_stayed() {
        // counterfactual window: as many partner-periods with curve 0.5 as with curve 1; at
        // p = 0.6, 30% of the first and 60% of the second stretch (share 0.45) and 7 : 4 of
        // them stay in the window. Weighted by 1/(1 − p f): 10 and 10, mean curve 0.75.
        let mut f = vec![0.5; 7];
        f.extend([1.0; 4]);
        let (p, mean_f) = max_probability_for(0.45, &f);
        assert!((p - 0.6).abs() < 1e-9, "{p}");
        assert!((mean_f - 0.75).abs() < 1e-9, "{mean_f}");
        // the unweighted mean of those who stayed (0.682) would have given 0.66
        // a flat curve: the share itself
        let (p, _) = max_probability_for(0.3, &[1.0; 5]);
        assert!((p - 0.3).abs() < 1e-12);
        // no curve measured (no observation with a payoff): the share itself
        assert_eq!(max_probability_for(0.2, &[]).0, 0.2);
    }
}
