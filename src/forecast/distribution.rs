//! The distribution of a final payout over scenarios and the IFRS 15 / ASC 606 estimates
//! drawn from it: expected value, most likely amount (half-sample mode) and the constrained
//! estimate, with the method in words.

use crate::summary::{self, Estimate, Summary};
use serde::Serialize;

/// The distribution of a final payout over scenarios, with the IFRS 15 estimates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    /// Mean = the expected value estimate.
    pub mean: Estimate,
    /// Standard deviation.
    pub sd: Estimate,
    /// 5th percentile.
    pub p5: Estimate,
    /// Median.
    pub p50: Estimate,
    /// 90th percentile.
    pub p90: Estimate,
    /// 95th percentile.
    pub p95: Estimate,
    /// Most likely amount (mode, half-sample mode estimator); its `se` is a conservative
    /// bound (the spread of the estimator over 10 batches of scenarios).
    pub most_likely: Estimate,
    /// Constrained estimate: the `confidence` quantile.
    pub constrained: Estimate,
}

/// The three IFRS 15 / ASC 606 estimates of the programme's total, with the method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimates {
    /// Expected value (probability-weighted amount).
    pub expected_value: Estimate,
    /// Most likely amount.
    pub most_likely: Estimate,
    /// Constrained estimate at `confidence`.
    pub constrained: Estimate,
    /// Confidence of the constrained estimate.
    pub confidence: f64,
    /// How each estimate is computed, in words (for the audit file).
    pub method: String,
}

/// Half-sample mode (Bickel and Frühwirth 2006) of ascending `v`: repeatedly keep the half of
/// the sample with the shortest range. A robust mode estimator that also finds point masses
/// (e.g. many scenarios paying exactly 0 or a cap).
pub fn half_sample_mode(v: &[f64]) -> f64 {
    let (mut lo, mut hi) = (0usize, v.len());
    if hi == 0 {
        return f64::NAN;
    }
    while hi - lo > 3 {
        let n = hi - lo;
        let h = n.div_ceil(2);
        let mut best = lo;
        let mut width = f64::INFINITY;
        for j in lo..=hi - h {
            let wd = v[j + h - 1] - v[j];
            if wd < width {
                width = wd;
                best = j;
            }
        }
        lo = best;
        hi = best + h;
    }
    match hi - lo {
        3 => {
            let (a, b, c) = (v[lo], v[lo + 1], v[lo + 2]);
            if b - a < c - b {
                0.5 * (a + b)
            } else if b - a > c - b {
                0.5 * (b + c)
            } else {
                b
            }
        }
        2 => 0.5 * (v[lo] + v[lo + 1]),
        _ => v[lo],
    }
}

/// Distribution summary of `x` with the most likely amount and the constrained estimate.
pub fn distribution(x: &[f64], confidence: f64) -> Distribution {
    let s: Summary = summary::summarize(x, None);
    let mut v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let mode = half_sample_mode(&v);
    // spread of the estimator over 10 contiguous batches of scenarios (conservative SE)
    let batches = 10;
    let mode_se = if x.len() >= batches * 10 {
        let size = x.len() / batches;
        let ms: Vec<f64> = (0..batches)
            .map(|b| {
                let mut part = x[b * size..(b + 1) * size].to_vec();
                part.sort_by(f64::total_cmp);
                half_sample_mode(&part)
            })
            .collect();
        summary::sd(&ms).value
    } else {
        f64::NAN
    };
    Distribution {
        mean: s.mean,
        sd: s.sd,
        p5: s.p5,
        p50: s.p50,
        p90: s.p90,
        p95: s.p95,
        most_likely: Estimate {
            value: mode,
            se: mode_se,
        },
        constrained: summary::percentile_estimate(&v, confidence),
    }
}

/// How the three estimates are computed, in words (the audit file's method statement).
pub(super) fn method_text(confidence: f64, scenarios: usize) -> String {
    format!(
        "Variable consideration payable to customers (IFRS 15.50-58 / ASC 606-10-32-5 to 32-14), estimated from {scenarios} Monte Carlo scenarios of the rest of the programme conditioned on actual purchases to date and settled with the programme's exact rules. \
Expected value: the probability-weighted mean of the simulated final payouts (IFRS 15.53(a)). \
Most likely amount: the single most likely final payout, the mode of the simulated distribution by the half-sample mode estimator (IFRS 15.53(b)). \
Constrained estimate: the {:.0}% quantile of the simulated final payout, i.e. the amount the rebates will not exceed with {:.0}% probability, so that revenue recognised net of it is not expected to reverse significantly at that confidence (IFRS 15.56-57 / ASC 606-10-32-11). \
Standard errors are Monte Carlo errors of the estimates.",
        confidence * 100.0,
        confidence * 100.0
    )
}
