//! Whether a partner that has not bought lately has churned, when its segment has purchase
//! incidence (`[incidence] probability` π_g < 1): the posterior probability under the model,
//! and the churn month of a conditioned scenario drawn from it (docs/forecast.md, "Churn under
//! purchase incidence").
//!
//! Under the model a live partner skips a month with probability `1 − p` and churns in a month
//! with the segment's hazard `q`; after its last purchase (month `l`, or before the year when it
//! has none) it made none in the `g` complete months since. Both "churned in the `j`-th of those
//! months, having skipped the `j` before" and "alive, skipped all `g`" explain that: with
//! `r = (1−q)(1−p)`,
//!
//! ```text
//! P(gone) = Σ_{j<g} r^j q = q (1 − r^g) / (1 − r),   P(alive) = r^g,
//! P(churned | g) = P(gone) / (P(gone) + P(alive))
//! ```
//!
//! with `p` the partner's conditioned incidence (`incidence.rs`). A segment without churn gives
//! 0; a purchase in the partial month, 0. A conditioned scenario then takes the partner as gone
//! with that probability, and else draws its churn month from the first simulated month on, as
//! the engine does (geometric, memoryless), from the same uniform of its `Churn` stream.
//! Segments without incidence keep the calendar rule of [`super::posterior::classify_buyers`]
//! (under such a model a month without purchases is impossible for a live partner, so a gap is
//! read through how often the partner buys in fact).

use super::Observed;
use crate::engine::setup::{SegConst, Setup};
use crate::rng::{self, Purpose};

/// Each partner's probability of having churned by the forecast date: the posterior above for
/// partners of segments with incidence, else 1 or 0 from `churned` (the calendar rule).
pub(super) fn churn_probabilities(
    s: &Setup,
    obs: &Observed,
    last_bought: &[Option<usize>],
    churned: &[bool],
    incidence: &[f64],
) -> Vec<f64> {
    let t = obs.t_obs;
    (0..s.partners.len())
        .map(|i| {
            let sc = &s.segs[s.partners[i].seg];
            if sc.incidence >= 1.0 || t == 0 {
                return if churned[i] { 1.0 } else { 0.0 };
            }
            if obs.partial_bought[i] || !sc.churn {
                return 0.0;
            }
            let g = match last_bought[i] {
                Some(l) => t - 1 - l,
                None => t,
            };
            posterior_churned(sc.churn_log, incidence[i], g)
        })
        .collect()
}

/// `P(churned | g months without purchases)` for monthly survival `e^{churn_log}` and
/// incidence `p` (the module comment).
fn posterior_churned(churn_log: f64, p: f64, g: usize) -> f64 {
    if g == 0 {
        return 0.0;
    }
    let survive = churn_log.exp();
    let q = 1.0 - survive;
    let r = survive * (1.0 - p.min(1.0));
    let alive = r.powi(g as i32);
    // Σ_{j<g} r^j (r < 1 unless q = 0 and p = 0)
    let spells = if r < 1.0 {
        (1.0 - alive) / (1.0 - r)
    } else {
        g as f64
    };
    let gone = q * spells;
    if gone + alive > 0.0 {
        gone / (gone + alive)
    } else {
        1.0
    }
}

/// The churn month of a conditioned scenario's partner with churn probability `pc` (key
/// `pk`, first simulated month `first`): `first` with probability `pc`, else `first` plus
/// the engine's geometric months, one uniform of the partner's `Churn` stream deciding both;
/// `months` when it does not churn within the year. `pc` 0 or 1 gives exactly the bits of the
/// rule without a probability ([`Setup::churn_month`], or `first`).
pub(super) fn churn_month(s: &Setup, pk: u64, sc: &SegConst, first: usize, pc: f64) -> usize {
    if pc >= 1.0 {
        return first;
    }
    if !sc.churn {
        return s.months;
    }
    if pc <= 0.0 {
        return s.churn_month(pk, sc, first);
    }
    let mut r = rng::stream_of(pk, Purpose::Churn);
    let u = rng::uniform_open0(&mut r);
    if u <= pc {
        return first;
    }
    if sc.churn_log == f64::NEG_INFINITY {
        return first;
    }
    let m = (((u - pc) / (1.0 - pc)).ln() / sc.churn_log).floor();
    if m >= (s.months - first) as f64 {
        s.months
    } else {
        first + m as usize
    }
}

#[cfg(test)]
mod tests {
    use super::posterior_churned;

    #[test]
    fn churn_posterior_by_hand() {
        // hazard 1% a month, incidence 0.8, two months without purchases: r = 0.99 · 0.2
        // = 0.198; gone in the first (0.01) or skipped it and gone in the second
        // (0.198 · 0.01): 0.01198; alive and skipped both 0.198² = 0.039204;
        // 0.01198 / 0.051184 = 0.234057...
        let p = posterior_churned((0.99f64).ln(), 0.8, 2);
        assert!((p - 0.01198 / 0.051184).abs() < 1e-12, "{p}");
        // no gap: alive; no churn hazard: alive; certain buyer: a gap means churned
        assert_eq!(posterior_churned((0.99f64).ln(), 0.8, 0), 0.0);
        assert_eq!(posterior_churned(0.0, 0.8, 3), 0.0);
        assert_eq!(posterior_churned((0.99f64).ln(), 1.0, 1), 1.0);
        // longer gaps are stronger evidence
        assert!(posterior_churned((0.99f64).ln(), 0.8, 3) > p);
    }
}
