//! The pull-forward estimator (`docs/calibration.md`, "Behaviour", session 31): the
//! end-of-period spike and the following period's dip of the partner-periods in the excluded
//! window around a threshold, each against the counterfactual mean outcome at the same `z`
//! fitted on the partner-periods outside the window (a polynomial in `z`, as the notch's
//! counterfactual density), with outcomes measured against the partner's own level in its
//! other months and net of the period's mean. Standard error by a bootstrap over partners.

use super::bunching::{notch, sd, Histogram};
use super::linalg::{chol_solve, cholesky, Mat};
use rand::SeedableRng;

/// Degree of the polynomial of the counterfactual mean outcome in `z`.
const OUTCOME_DEGREE: usize = 2;

/// One partner-period near a threshold with a following period and a level to measure it by.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    /// `volume / threshold − 1`.
    pub z: f64,
    /// Months of the period.
    pub len: usize,
    /// Volume of the period's last month.
    pub last: f64,
    /// Volume of the following period.
    pub next: f64,
    /// The partner's mean monthly volume over its active months outside this period and the
    /// next.
    pub level: f64,
    /// The period (its first month in the history): outcomes are taken net of its mean.
    pub period: usize,
    /// The partner (the bootstrap resamples partners, whose periods are correlated).
    pub who: usize,
}

/// Spike, dip and pull-forward share of one fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PullForwardFit {
    /// Last month over the partner's level: the window's mean minus its counterfactual.
    pub spike: f64,
    /// Next period over the partner's level (in months of it): the counterfactual minus
    /// the window's mean.
    pub dip: f64,
    /// `dip / spike` (NaN without a spike).
    pub share: f64,
}

/// The spike `e = last / level − 1` and the next period `n = next / level − len` of each
/// outcome, each net of its period's mean over all the outcomes.
fn demeaned(obs: &[&Outcome]) -> Vec<(f64, f64)> {
    let periods = obs.iter().map(|o| o.period + 1).max().unwrap_or(0);
    let mut sums = vec![(0.0, 0.0, 0.0); periods];
    let raw: Vec<(f64, f64)> = obs
        .iter()
        .map(|o| (o.last / o.level - 1.0, o.next / o.level - o.len as f64))
        .collect();
    for (o, &(e, n)) in obs.iter().zip(&raw) {
        let s = &mut sums[o.period];
        s.0 += e;
        s.1 += n;
        s.2 += 1.0;
    }
    obs.iter()
        .zip(&raw)
        .map(|(o, &(e, n))| {
            let s = sums[o.period];
            (e - s.0 / s.2, n - s.1 / s.2)
        })
        .collect()
}

/// Weighted least squares of `y[j]` (bin means, weights `w[j]`) on a polynomial of
/// `degree` in `x[j]`, over the bins `use_bin`; the fitted values on every bin.
fn poly_fit(x: &[f64], y: &[f64], w: &[f64], use_bin: &[bool], degree: usize) -> Option<Vec<f64>> {
    let k = degree + 1;
    let row = |j: usize| -> Vec<f64> { (0..k).map(|d| x[j].powi(d as i32)).collect() };
    let mut xtx = Mat::zeros(k, k);
    let mut xty = vec![0.0; k];
    let mut bins = 0;
    for j in 0..x.len() {
        if !use_bin[j] || !(w[j] > 0.0) {
            continue;
        }
        bins += 1;
        let r = row(j);
        for a in 0..k {
            xty[a] += w[j] * r[a] * y[j];
            for b in 0..k {
                xtx.set(a, b, xtx.at(a, b) + w[j] * r[a] * r[b]);
            }
        }
    }
    if bins < k + 2 {
        return None;
    }
    let beta = chol_solve(&cholesky(&xtx)?, &xty);
    Some(
        (0..x.len())
            .map(|j| row(j).iter().zip(&beta).map(|(a, b)| a * b).sum())
            .collect(),
    )
}

/// The fit on `obs`, histogram of `z` in bins of `bin` on `[−range, range)`, excluded window
/// `[−below, above)`, the counterfactual density of degree `degree`. The mean outcome `f(z)`
/// (spike, next period) is fitted on the bins outside the window by a polynomial of degree
/// [`OUTCOME_DEGREE`] weighted by the bins' counts; the bunchers' (`[0, above)`) mean outcome
/// is set against `f` averaged over where they would have been without the programme: the
/// notch's counterfactual count in `[0, above)` and, in each bin of `[−below, 0)`, the
/// stretchers missing from it (counterfactual minus observed count).
pub(crate) fn fit(
    obs: &[&Outcome],
    bin: f64,
    range: f64,
    below: f64,
    above: f64,
    degree: usize,
) -> PullForwardFit {
    let nan = PullForwardFit {
        spike: f64::NAN,
        dip: f64::NAN,
        share: f64::NAN,
    };
    let z: Vec<f64> = obs.iter().map(|o| o.z).collect();
    let h = Histogram::new(&z, bin, range);
    let Some(nf) = notch(&h, below, above, degree) else {
        return nan;
    };
    let bins = h.counts.len();
    let half = (range / bin).round() as i64;
    let index =
        |v: f64| ((v / bin + 1e-9).floor() as i64 + half).clamp(0, bins as i64 - 1) as usize;
    let (mut se, mut sn, mut c) = (vec![0.0; bins], vec![0.0; bins], vec![0.0; bins]);
    for (o, (e, n)) in obs.iter().zip(demeaned(obs)) {
        if o.z >= -range && o.z < range {
            let j = index(o.z);
            se[j] += e;
            sn[j] += n;
            c[j] += 1.0;
        }
    }
    let eps = 1e-9 * bin;
    let inside: Vec<bool> = (0..bins)
        .map(|j| h.left(j) >= -below - eps && h.left(j) + bin <= above + eps)
        .collect();
    let outside: Vec<bool> = inside.iter().map(|b| !b).collect();
    let x: Vec<f64> = (0..bins).map(|j| h.centre(j) / range).collect();
    let mean = |s: &[f64]| -> Vec<f64> {
        s.iter()
            .zip(&c)
            .map(|(a, n)| if *n > 0.0 { a / n } else { 0.0 })
            .collect()
    };
    let (Some(fe), Some(fnx)) = (
        poly_fit(&x, &mean(&se), &c, &outside, OUTCOME_DEGREE),
        poly_fit(&x, &mean(&sn), &c, &outside, OUTCOME_DEGREE),
    ) else {
        return nan;
    };
    let (mut obs_e, mut obs_n, mut obs_c, mut cf_e, mut cf_n, mut cf_c) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for j in (0..bins).filter(|&j| inside[j]) {
        // the bunchers' counterfactual: those naturally in [0, above) and the stretchers
        // missing from [−below, 0)
        let bunching = h.left(j) >= -eps;
        let wcf = if bunching {
            nf.fitted[j]
        } else {
            (nf.fitted[j] - h.counts[j]).max(0.0)
        };
        if bunching {
            obs_e += se[j];
            obs_n += sn[j];
            obs_c += c[j];
        }
        cf_e += wcf * fe[j];
        cf_n += wcf * fnx[j];
        cf_c += wcf;
    }
    if !(obs_c > 0.0) || !(cf_c > 0.0) {
        return nan;
    }
    let spike = obs_e / obs_c - cf_e / cf_c;
    let dip = cf_n / cf_c - obs_n / obs_c;
    PullForwardFit {
        spike,
        dip,
        share: if spike > 0.0 { dip / spike } else { f64::NAN },
    }
}

/// [`fit`] on all the outcomes and the standard deviation of its share over `reps`
/// bootstrap resamples of the partners (with all their periods), on a stream of its own
/// derived from `seed`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_with_se(
    obs: &[Outcome],
    bin: f64,
    range: f64,
    below: f64,
    above: f64,
    degree: usize,
    reps: usize,
    seed: u64,
) -> (PullForwardFit, f64) {
    let all: Vec<&Outcome> = obs.iter().collect();
    let main = fit(&all, bin, range, below, above, degree);
    if !main.share.is_finite() {
        return (main, f64::NAN);
    }
    let mut by: Vec<Vec<&Outcome>> = Vec::new();
    let mut slot = std::collections::BTreeMap::new();
    for o in obs {
        let s = *slot.entry(o.who).or_insert_with(|| {
            by.push(Vec::new());
            by.len() - 1
        });
        by[s].push(o);
    }
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::rng::splitmix64(
        seed ^ 0x5055_4c4c_464f_5257,
    ));
    let mut shares = Vec::with_capacity(reps);
    for _ in 0..reps {
        let mut sample: Vec<&Outcome> = Vec::with_capacity(obs.len());
        for _ in 0..by.len() {
            let g = ((crate::rng::uniform(&mut rng) * by.len() as f64) as usize).min(by.len() - 1);
            sample.extend(by[g].iter().copied());
        }
        let r = fit(&sample, bin, range, below, above, degree).share;
        if r.is_finite() {
            shares.push(r);
        }
    }
    (main, sd(&shares))
}

#[cfg(test)]
mod tests {
    use super::{fit, Outcome};

    /// Ten partner-periods at each bin centre of `[−0.29, 0.29)` whose spike and next period
    /// rise with `z` (the counterfactual outcome is not flat); every other one in
    /// `[−0.10, 0)` stretches to the threshold, buying `s` in its last month and taking
    /// 0.4 `s` from its next period: the share is 0.4 (the outcome fitted at where the
    /// stretchers came from, not where they landed).
    #[test]
    fn recovers_the_share_taken_from_the_next_period() {
        let mut obs = Vec::new();
        for j in 0..58 {
            let z0 = -0.29 + 0.01 * (j as f64 + 0.5);
            for r in 0..10 {
                let (level, len) = (1000.0, 3);
                let last = level * (1.0 + 0.3 * z0);
                let next = level * (len as f64 + 0.5 * z0);
                let stretch = (-0.10..0.0).contains(&z0) && r % 2 == 0;
                let s = if stretch {
                    level * (0.02 + 0.01 * r as f64)
                } else {
                    0.0
                };
                obs.push(Outcome {
                    z: if stretch { 0.0 } else { z0 },
                    len,
                    last: last + s,
                    next: next - 0.4 * s,
                    level,
                    period: 0,
                    who: j * 10 + r,
                });
            }
        }
        let all: Vec<&Outcome> = obs.iter().collect();
        let f = fit(&all, 0.01, 0.29, 0.10, 0.02, 5);
        assert!((f.share - 0.4).abs() < 1e-9, "{f:?}");
        assert!(f.spike > 0.0 && f.dip > 0.0);
    }
}
