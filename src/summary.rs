//! Summary statistics of simulated outcomes, each with its Monte Carlo standard error.
//!
//! - mean: `sd / √n`;
//! - standard deviation: delta method, `√((m₄ − s⁴) / n) / (2s)` with `m₄` the fourth central
//!   moment (distribution-free; equals `s / √(2n)` for normal data);
//! - percentiles (linear interpolation between order statistics, "type 7"): from the
//!   order-statistic binomial interval. The number of observations below the true `q`
//!   percentile is Binomial(n, q), so the order statistics of ranks `nq ± √(nq(1−q))` bracket
//!   it with about 68% probability (one standard error each side); the standard error is half
//!   the distance between them. Distribution-free, no density estimate needed;
//! - probabilities (e.g. of exceeding the budget): `√(p(1−p)/n)`;
//! - paired differences (design B − design A on the same scenarios, common random numbers):
//!   the summary of the per-scenario differences, whose standard error reflects the pairing.

use serde::Serialize;

/// A Monte Carlo estimate with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its Monte Carlo standard error.
    pub se: f64,
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ± {}", self.value, self.se)
    }
}

/// Summary of one outcome over scenarios.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of scenarios (finite values only).
    pub n: usize,
    /// Mean.
    pub mean: Estimate,
    /// Standard deviation (n − 1 denominator).
    pub sd: Estimate,
    /// 5th percentile.
    pub p5: Estimate,
    /// Median.
    pub p50: Estimate,
    /// 90th percentile.
    pub p90: Estimate,
    /// 95th percentile.
    pub p95: Estimate,
    /// 99th percentile.
    pub p99: Estimate,
    /// Probability of exceeding the threshold given to [`summarize`] (e.g. the budget).
    pub p_exceed: Option<Estimate>,
}

/// Mean with its standard error.
pub fn mean(x: &[f64]) -> Estimate {
    let n = x.len();
    if n == 0 {
        return Estimate {
            value: f64::NAN,
            se: f64::NAN,
        };
    }
    let m = x.iter().sum::<f64>() / n as f64;
    let sd = sd_of(x, m);
    Estimate {
        value: m,
        se: if n > 1 {
            sd / (n as f64).sqrt()
        } else {
            f64::NAN
        },
    }
}

fn sd_of(x: &[f64], m: f64) -> f64 {
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64).sqrt()
}

/// Standard deviation with its (delta-method) standard error.
pub fn sd(x: &[f64]) -> Estimate {
    let n = x.len();
    if n < 2 {
        return Estimate {
            value: f64::NAN,
            se: f64::NAN,
        };
    }
    let m = x.iter().sum::<f64>() / n as f64;
    let s = sd_of(x, m);
    let m4 = x.iter().map(|v| (v - m).powi(4)).sum::<f64>() / n as f64;
    let var_s2 = (m4 - s.powi(4)).max(0.0) / n as f64;
    let se = if s > 0.0 {
        var_s2.sqrt() / (2.0 * s)
    } else {
        0.0
    };
    Estimate { value: s, se }
}

/// Percentile `q` (0..1) of ascending `sorted` values, linear interpolation between order
/// statistics (the "type 7" definition of R and NumPy's default).
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Percentile `q` of ascending `sorted` values with its standard error from the order-statistic
/// binomial interval (see the module documentation).
pub fn percentile_estimate(sorted: &[f64], q: f64) -> Estimate {
    let n = sorted.len();
    let value = percentile_sorted(sorted, q);
    if n < 2 {
        return Estimate {
            value,
            se: f64::NAN,
        };
    }
    let nf = n as f64;
    let half = (nf * q * (1.0 - q)).sqrt();
    let lo = ((nf * q - half).floor().max(1.0) as usize).min(n) - 1;
    let hi = ((nf * q + half).ceil().max(1.0) as usize).min(n) - 1;
    Estimate {
        value,
        se: (sorted[hi] - sorted[lo]) / 2.0,
    }
}

/// Share of `true` with its standard error `√(p(1−p)/n)`.
pub fn probability(flags: impl IntoIterator<Item = bool>) -> Estimate {
    let (mut k, mut n) = (0usize, 0usize);
    for f in flags {
        n += 1;
        k += f as usize;
    }
    if n == 0 {
        return Estimate {
            value: f64::NAN,
            se: f64::NAN,
        };
    }
    let p = k as f64 / n as f64;
    Estimate {
        value: p,
        se: (p * (1.0 - p) / n as f64).sqrt(),
    }
}

/// Summary of `x` (non-finite values, e.g. an undefined ROI, are left out), with the
/// probability of exceeding `threshold` when given.
pub fn summarize(x: &[f64], threshold: Option<f64>) -> Summary {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    let m = mean(&v);
    let s = sd(&v);
    let p_exceed = threshold.map(|t| probability(v.iter().map(|&x| x > t)));
    v.sort_by(f64::total_cmp);
    Summary {
        n: v.len(),
        mean: m,
        sd: s,
        p5: percentile_estimate(&v, 0.05),
        p50: percentile_estimate(&v, 0.50),
        p90: percentile_estimate(&v, 0.90),
        p95: percentile_estimate(&v, 0.95),
        p99: percentile_estimate(&v, 0.99),
        p_exceed,
    }
}

/// Summary of the paired differences `b[i] − a[i]` (same scenarios, common random numbers).
pub fn paired(a: &[f64], b: &[f64]) -> Summary {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    summarize(&d, None)
}

/// Percentile bands of cumulative monthly paths (e.g. the accrued liability or the cash paid
/// to date at each month end), with the expected amount in each month; every estimate with its
/// Monte Carlo standard error. Built by [`cumulative_bands`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathBands {
    /// Number of scenarios.
    pub n: usize,
    /// Expected amount in each month (not cumulative).
    pub month_mean: Vec<Estimate>,
    /// Expected cumulative amount at each month end.
    pub mean: Vec<Estimate>,
    /// 10th percentile of the cumulative amount at each month end.
    pub p10: Vec<Estimate>,
    /// 25th percentile.
    pub p25: Vec<Estimate>,
    /// Median.
    pub p50: Vec<Estimate>,
    /// 75th percentile.
    pub p75: Vec<Estimate>,
    /// 90th percentile.
    pub p90: Vec<Estimate>,
}

/// Bands of the cumulative sums of `monthly`, a row-major `scenarios × months` matrix of
/// amounts per month: for each month the mean (standard error `sd/√n`) and the P10, P25, P50,
/// P75 and P90 of the amount to date across scenarios (order-statistic standard errors, see
/// the module documentation). Percentiles are taken month by month, so the P90 band is the
/// 90th percentile at each month end, not one scenario's path.
///
/// ```
/// use rebatesim::summary::cumulative_bands;
/// // three scenarios × two months
/// let b = cumulative_bands(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0], 3, 2);
/// assert_eq!(b.month_mean[1].value, 2.0);
/// assert_eq!(b.mean[1].value, 4.0);
/// assert_eq!(b.p50[1].value, 4.0);
/// ```
pub fn cumulative_bands(monthly: &[f64], scenarios: usize, months: usize) -> PathBands {
    assert_eq!(
        monthly.len(),
        scenarios * months,
        "monthly paths: expected scenarios × months values"
    );
    let mut cum = monthly.to_vec();
    for s in 0..scenarios {
        let row = &mut cum[s * months..(s + 1) * months];
        for m in 1..months {
            row[m] += row[m - 1];
        }
    }
    let mut out = PathBands {
        n: scenarios,
        month_mean: Vec::with_capacity(months),
        mean: Vec::with_capacity(months),
        p10: Vec::with_capacity(months),
        p25: Vec::with_capacity(months),
        p50: Vec::with_capacity(months),
        p75: Vec::with_capacity(months),
        p90: Vec::with_capacity(months),
    };
    let mut col = Vec::with_capacity(scenarios);
    for m in 0..months {
        col.clear();
        col.extend((0..scenarios).map(|s| monthly[s * months + m]));
        out.month_mean.push(mean(&col));
        col.clear();
        col.extend((0..scenarios).map(|s| cum[s * months + m]));
        out.mean.push(mean(&col));
        col.sort_by(f64::total_cmp);
        out.p10.push(percentile_estimate(&col, 0.10));
        out.p25.push(percentile_estimate(&col, 0.25));
        out.p50.push(percentile_estimate(&col, 0.50));
        out.p75.push(percentile_estimate(&col, 0.75));
        out.p90.push(percentile_estimate(&col, 0.90));
    }
    out
}

impl crate::engine::SimResult {
    /// The accrual schedule before the year: expected accrued liability to date at each
    /// programme month end (each period's payout accrued over its months in proportion to
    /// their revenue), with P10–P90 bands and standard errors.
    pub fn accrual_schedule(&self) -> PathBands {
        cumulative_bands(&self.accrual, self.scenarios, self.months)
    }

    /// The cash schedule: expected cash paid to date at each month end, counted from the
    /// programme start to the last payment date, with P10–P90 bands and standard errors.
    pub fn cash_schedule(&self) -> PathBands {
        cumulative_bands(&self.cash, self.scenarios, self.cash_months)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_statistics() {
        let x: Vec<f64> = (1..=101).map(|i| i as f64).collect();
        let s = summarize(&x, Some(90.0));
        assert_eq!(s.mean.value, 51.0);
        assert_eq!(s.p50.value, 51.0);
        assert_eq!(s.p5.value, 6.0);
        assert!((s.p_exceed.unwrap().value - 11.0 / 101.0).abs() < 1e-12);
        assert!((s.mean.se - s.sd.value / 101f64.sqrt()).abs() < 1e-12);
        // uniform ranks: the percentile SE is about √(nq(1−q)) ranks of width 1
        assert!(
            (s.p50.se - (101.0f64 * 0.25).sqrt()).abs() < 1.01,
            "{}",
            s.p50.se
        );
    }

    #[test]
    fn paired_differences() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [2.0, 3.0, 4.0, 5.0];
        let d = paired(&a, &b);
        assert_eq!(d.mean.value, 1.0);
        assert_eq!(d.mean.se, 0.0);
    }

    #[test]
    fn cumulative_bands_of_paths() {
        // 100 scenarios × 3 months: scenario s pays s in month 0, nothing in month 1, 1 in month 2
        let n = 100;
        let mut m = Vec::new();
        for s in 0..n {
            m.extend([s as f64, 0.0, 1.0]);
        }
        let b = cumulative_bands(&m, n, 3);
        assert_eq!(b.n, n);
        assert_eq!(b.month_mean[0].value, 49.5);
        assert_eq!(b.month_mean[1].value, 0.0);
        assert_eq!(b.month_mean[2].value, 1.0);
        assert_eq!(b.mean[1].value, 49.5);
        assert_eq!(b.mean[2].value, 50.5);
        assert!((b.p10[0].value - 9.9).abs() < 1e-12);
        assert!((b.p90[2].value - 90.1).abs() < 1e-12);
        assert_eq!(b.p50[2].value, 50.5);
        // bands are ordered and the cumulative amount never falls here
        for k in 0..3 {
            assert!(b.p10[k].value <= b.p25[k].value && b.p25[k].value <= b.p50[k].value);
            assert!(b.p50[k].value <= b.p75[k].value && b.p75[k].value <= b.p90[k].value);
        }
        assert!(b.mean[0].se > 0.0 && b.month_mean[1].se == 0.0);
        let empty = cumulative_bands(&[], 0, 0);
        assert!(empty.mean.is_empty());
    }
}
