//! Summary statistics of simulated outcomes, each with its Monte Carlo standard error.
//!
//! - mean: `sd / √n`;
//! - standard deviation: delta method, `√((m₄ − s⁴) / n) / (2s)` with `m₄` the fourth central
//!   moment (distribution-free; equals `s / √(2n)` for normal data);
//! - percentiles (linear interpolation between order statistics, "type 7"): from the
//!   order-statistic binomial interval with interpolated ranks. The number of observations below
//!   the true `q` percentile is Binomial(n, q), so the estimate's rank wanders by about
//!   `w = √(nq(1−q))` ranks; the standard error is half the distance between the values at the
//!   fractional ranks `r ± w`, where `r = 1 + (n − 1)q` is the estimate's own (type-7) rank and a
//!   value at a fractional rank is interpolated linearly between its two order statistics, as the
//!   estimate is (ranks clamped to `1..=n`). Distribution-free, no density estimate needed; a
//!   percentile inside an atom (e.g. the payout held at a binding budget) gets standard error 0,
//!   which is right there: every repetition gives the same value. Near the atom's edge (within
//!   about `w` ranks) the interval reaches out of it and the standard error is positive.
//!
//!   Calibration, checked by repetition (2,000 independent samples per case, the test
//!   `percentile_se_calibration`; table in docs/simulation.md): the ratio of the observed spread
//!   of the estimates to the RMS of the reported standard errors is 0.97–0.98 for P5 and P50,
//!   0.96 for P90, 0.91 for P95 and 0.89–0.91 for P99 at n = 500 (normal and lognormal
//!   σ = 0.5); at n = 250 P99 reads 0.79–0.85. The standard error is about unbiased on average
//!   (its mean within 4% of the spread); what keeps the ratio below 1 in the far tail is the
//!   noise of the standard error itself, which rests on the few (2–5) scenarios above P99.
//!   Ranks rounded outward (`⌊nq − w⌋`, `⌈nq + w⌉`, before issue 20) overstated the P99
//!   standard error: ratios 0.40–0.47 at n = 250, 0.62–0.65 at n = 500;
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
    at_position(sorted, (n - 1) as f64 * q.clamp(0.0, 1.0))
}

/// Value at the fractional 0-based position `h` of ascending, non-empty `sorted` (clamped to
/// `0..=n − 1`), linear between the two order statistics around it.
fn at_position(sorted: &[f64], h: f64) -> f64 {
    let n = sorted.len();
    let h = h.clamp(0.0, (n - 1) as f64);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Percentile `q` of ascending `sorted` values with its standard error: half the distance
/// between the values at the interpolated ranks `1 + (n − 1)q ± √(nq(1−q))` (see the module
/// documentation).
///
/// ```
/// use rebatesim::summary::percentile_estimate;
/// let x: Vec<f64> = (1..=101).map(f64::from).collect();
/// let p = percentile_estimate(&x, 0.5);
/// assert_eq!(p.value, 51.0);
/// // √(nq(1−q)) ranks each side, order statistics one unit apart
/// assert!((p.se - (101.0f64 * 0.25).sqrt()).abs() < 1e-9);
/// ```
pub fn percentile_estimate(sorted: &[f64], q: f64) -> Estimate {
    let n = sorted.len();
    let value = percentile_sorted(sorted, q);
    if n < 2 {
        return Estimate {
            value,
            se: f64::NAN,
        };
    }
    // 0-based position of the estimate (its rank minus one) and the binomial spread in ranks
    let q = q.clamp(0.0, 1.0);
    let nf = n as f64;
    let h = (nf - 1.0) * q;
    let w = (nf * q * (1.0 - q)).sqrt();
    Estimate {
        value,
        se: (at_position(sorted, h + w) - at_position(sorted, h - w)) / 2.0,
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

/// How much of an outcome's variance over scenarios comes from the scenarios' parameter
/// draws (input uncertainty) rather than from demand noise given the parameters: the law of
/// total variance `Var(Y) = E[Var(Y | θ)] + Var(E[Y | θ])` estimated from scenarios grouped
/// by their draw. Built by [`variance_split`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VarianceSplit {
    /// Scenarios with a finite value.
    pub n: usize,
    /// Parameter draws with at least one of those scenarios.
    pub draws: usize,
    /// The sample variance of the outcome over the scenarios.
    pub total: f64,
    /// The pooled within-draw variance, `Σ_g Σ_i (y − ȳ_g)² / (n − draws)`: the estimate of
    /// `E[Var(Y | θ)]`, the demand (and churn, order, ...) noise given the parameters.
    pub within: f64,
    /// `1 − within / total`, clipped to `[0, 1]`: the share of the variance that parameter
    /// uncertainty adds; its standard error by the jackknife over draws (each draw's
    /// scenarios left out in turn; NaN with fewer than three draws).
    pub parameter_share: Estimate,
}

/// Per group, the count, mean and sum of squared deviations from the mean (Welford).
fn group_moments(
    values: &[f64],
    groups: &[u32],
) -> std::collections::BTreeMap<u32, (f64, f64, f64)> {
    let mut m = std::collections::BTreeMap::<u32, (f64, f64, f64)>::new();
    for (&y, &g) in values.iter().zip(groups) {
        if !y.is_finite() {
            continue;
        }
        let e = m.entry(g).or_insert((0.0, 0.0, 0.0));
        e.0 += 1.0;
        let d = y - e.1;
        e.1 += d / e.0;
        e.2 += d * (y - e.1);
    }
    m
}

/// The share `1 − within / total` from the group moments (count, mean, M2) and their totals,
/// or `None` when it is not defined (fewer than two groups, or no degree of freedom left
/// within them, or no variance at all).
fn share_of(n: f64, g: f64, ss_within: f64, ss_between: f64) -> Option<f64> {
    if g < 2.0 || n - g < 1.0 {
        return None;
    }
    let total = (ss_within + ss_between) / (n - 1.0);
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let within = ss_within / (n - g);
    Some((1.0 - within / total).clamp(0.0, 1.0))
}

/// The [`VarianceSplit`] of `values` (one per scenario; non-finite values are left out) over
/// the scenarios grouped by `groups` (each scenario's parameter draw); `None` with fewer than
/// two draws, no scenario left to estimate the within-draw variance, or no variance.
///
/// ```
/// use rebatesim::summary::variance_split;
/// // two draws whose means differ by 10, each with a spread of ±1
/// let y = [9.0, 11.0, 9.0, 11.0, 19.0, 21.0, 19.0, 21.0];
/// let g = [0, 0, 0, 0, 1, 1, 1, 1];
/// let v = variance_split(&y, &g).unwrap();
/// assert_eq!(v.within, 4.0 / 3.0);
/// assert!((v.parameter_share.value - (1.0 - (4.0 / 3.0) / (208.0 / 7.0))).abs() < 1e-12);
/// ```
pub fn variance_split(values: &[f64], groups: &[u32]) -> Option<VarianceSplit> {
    assert_eq!(values.len(), groups.len(), "one group per value");
    let m = group_moments(values, groups);
    let n: f64 = m.values().map(|e| e.0).sum();
    let g = m.len() as f64;
    let mean = m.values().map(|e| e.0 * e.1).sum::<f64>() / n;
    let ss_within: f64 = m.values().map(|e| e.2).sum();
    let ss_between: f64 = m.values().map(|e| e.0 * (e.1 - mean).powi(2)).sum();
    let share = share_of(n, g, ss_within, ss_between)?;
    // jackknife over draws: leave each draw's scenarios out (O(draws) with the moments)
    let mut reps = Vec::with_capacity(m.len());
    for e in m.values() {
        let n1 = n - e.0;
        let mean1 = (n * mean - e.0 * e.1) / n1;
        let between1 = ss_between - e.0 * (e.1 - mean).powi(2) - n1 * (mean1 - mean).powi(2);
        match share_of(n1, g - 1.0, ss_within - e.2, between1.max(0.0)) {
            Some(v) => reps.push(v),
            None => {
                reps.clear();
                break;
            }
        }
    }
    let se = if reps.len() >= 3 {
        let k = reps.len() as f64;
        let bar = reps.iter().sum::<f64>() / k;
        ((k - 1.0) / k * reps.iter().map(|r| (r - bar).powi(2)).sum::<f64>()).sqrt()
    } else {
        f64::NAN
    };
    Some(VarianceSplit {
        n: n as usize,
        draws: m.len(),
        total: (ss_within + ss_between) / (n - 1.0),
        within: ss_within / (n - g),
        parameter_share: Estimate { value: share, se },
    })
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

#[cfg(test)]
mod tests {
    /// The jackknife's leave-one-draw-out shares, computed from the moments in O(draws),
    /// equal the shares of the data with that draw's scenarios removed.
    #[test]
    fn variance_split_jackknife_matches_recomputing_without_each_draw() {
        let groups: Vec<u32> = (0..60u32).map(|i| (i * 7 + i / 5) % 5).collect();
        let values: Vec<f64> = (0..60)
            .map(|i| 100.0 + 10.0 * f64::from(groups[i]) + ((i * 37 % 11) as f64 - 5.0) * 3.0)
            .collect();
        let full = variance_split(&values, &groups).unwrap();
        let mut reps = Vec::new();
        for g in 0..5u32 {
            let (v, k): (Vec<f64>, Vec<u32>) = values
                .iter()
                .zip(&groups)
                .filter(|(_, &h)| h != g)
                .map(|(&v, &h)| (v, h))
                .unzip();
            reps.push(variance_split(&v, &k).unwrap().parameter_share.value);
        }
        let bar = reps.iter().sum::<f64>() / 5.0;
        let se = (0.8 * reps.iter().map(|r| (r - bar).powi(2)).sum::<f64>()).sqrt();
        assert!(
            (full.parameter_share.se - se).abs() < 1e-9,
            "{} vs {se}",
            full.parameter_share.se
        );
        assert_eq!(full.draws, 5);
        // no variance, a single draw, or no degree of freedom within draws: undefined
        assert!(variance_split(&[1.0, 1.0, 1.0], &[0, 1, 1]).is_none());
        assert!(variance_split(&[1.0, 2.0, 3.0], &[0, 0, 0]).is_none());
        assert!(variance_split(&[1.0, 2.0], &[0, 1]).is_none());
        // non-finite values are left out
        let v = variance_split(&[1.0, 2.0, f64::NAN, 5.0, 6.0], &[0, 0, 0, 1, 1]).unwrap();
        assert_eq!(v.n, 4);
    }

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

    /// The standard error before issue 20: order statistics of ranks `nq ± √(nq(1−q))`
    /// rounded outward (kept to print the before/after table).
    fn se_outward_ranks(sorted: &[f64], q: f64) -> f64 {
        let n = sorted.len();
        let nf = n as f64;
        let half = (nf * q * (1.0 - q)).sqrt();
        let lo = ((nf * q - half).floor().max(1.0) as usize).min(n) - 1;
        let hi = ((nf * q + half).ceil().max(1.0) as usize).min(n) - 1;
        (sorted[hi] - sorted[lo]) / 2.0
    }

    /// Where the cap of [`Dist::Capped`] binds: the 80th percentile of lognormal(0, 0.5).
    fn cap() -> f64 {
        (0.5 * 0.841_621_233_572_914_2f64).exp()
    }

    #[derive(Clone, Copy, Debug)]
    enum Dist {
        Normal,
        /// lognormal, σ = 0.5
        Lognormal,
        /// lognormal, σ = 1 (more skewed)
        Lognormal1,
        /// min(lognormal σ = 0.5, cap) with the cap binding in 20% of draws: an atom at the top,
        /// as a binding budget makes
        Capped,
    }

    impl Dist {
        fn draw(self, rng: &mut rand_xoshiro::Xoshiro256PlusPlus) -> f64 {
            use rand::Rng;
            let z: f64 = rng.sample(rand_distr::StandardNormal);
            match self {
                Dist::Normal => 1_000.0 + 100.0 * z,
                Dist::Lognormal => (0.5 * z).exp(),
                Dist::Lognormal1 => z.exp(),
                Dist::Capped => (0.5 * z).exp().min(cap()),
            }
        }
    }

    /// How to read one statistic from a summary.
    type Read = fn(&Summary) -> Estimate;

    /// Statistics whose standard error is checked: name and how to read it from a summary.
    const STATS: [(&str, Read); 8] = [
        ("mean", |s| s.mean),
        ("sd", |s| s.sd),
        ("P5", |s| s.p5),
        ("P50", |s| s.p50),
        ("P90", |s| s.p90),
        ("P95", |s| s.p95),
        ("P99", |s| s.p99),
        ("P(exceed)", |s| s.p_exceed.unwrap()),
    ];

    /// One calibration case by repetition: `reps` independent samples of `n` draws, each
    /// summarised; for each statistic (observed SD of the estimates, RMS of the reported
    /// standard errors, share of repetitions whose SE is not 0, every estimate the cap?) and,
    /// with `old`, the same for the old percentile SE.
    struct Calibration {
        new: Vec<(f64, f64, f64, bool)>,
        old: Vec<(f64, f64)>,
    }

    fn calibrate(dist: Dist, n: usize, reps: usize, seed: u64, old: bool) -> Calibration {
        use rand::SeedableRng;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        // the true P90 (P70 for the capped distribution, whose P90 is the cap), so that
        // p_exceed is a probability of 0.1 (0.3)
        let threshold = match dist {
            Dist::Normal => 1_000.0 + 100.0 * 1.281_551_565_5,
            Dist::Lognormal => (0.5 * 1.281_551_565_5f64).exp(),
            Dist::Lognormal1 => 1.281_551_565_5f64.exp(),
            Dist::Capped => (0.5 * 0.524_400_512_7f64).exp(),
        };
        let k = STATS.len();
        let (mut est, mut se2, mut nonzero) = (vec![Vec::new(); k], vec![0.0; k], vec![0usize; k]);
        let mut old_se2 = vec![0.0; k];
        let mut x = vec![0.0; n];
        for _ in 0..reps {
            for v in x.iter_mut() {
                *v = dist.draw(&mut rng);
            }
            let s = summarize(&x, Some(threshold));
            let mut sorted = Vec::new();
            if old {
                sorted = x.clone();
                sorted.sort_by(f64::total_cmp);
            }
            for (j, (name, get)) in STATS.iter().enumerate() {
                let e = get(&s);
                est[j].push(e.value);
                se2[j] += e.se * e.se;
                nonzero[j] += (e.se != 0.0) as usize;
                let q = match *name {
                    "P5" => Some(0.05),
                    "P50" => Some(0.5),
                    "P90" => Some(0.9),
                    "P95" => Some(0.95),
                    "P99" => Some(0.99),
                    _ => None,
                };
                old_se2[j] += match q {
                    Some(q) if old => se_outward_ranks(&sorted, q).powi(2),
                    _ => e.se * e.se,
                };
            }
        }
        let r = reps as f64;
        let sd = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / r;
            (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (r - 1.0)).sqrt()
        };
        Calibration {
            new: (0..k)
                .map(|j| {
                    let at_cap = est[j].iter().all(|v| *v == cap());
                    let (sd, rms) = (sd(&est[j]), (se2[j] / r).sqrt());
                    (sd, rms, nonzero[j] as f64 / r, at_cap)
                })
                .collect(),
            old: (0..k)
                .map(|j| (sd(&est[j]), (old_se2[j] / r).sqrt()))
                .collect(),
        }
    }

    /// Every reported standard error, checked by repetition: the observed spread of the
    /// estimates over 2,000 independent runs against the RMS of the standard errors reported
    /// in each. At n = 500 the ratio lies in 0.8–1.25 for every statistic and distribution; at
    /// n = 250 too, except P99 of the skewed distribution (few scenarios above it make its
    /// standard error noisy: 0.75–1.25). Inside the atom of the capped distribution (P95 and P99
    /// at the cap, binding in 20% of draws) every estimate is the cap and every standard error
    /// exactly 0; P90, 10 points from the atom's edge, is the cap in every run too, and its
    /// interval reaches below the atom only in the rare runs where the cap binds in fewer than
    /// about 12.5% of draws (standard error > 0 in at most 1% of runs).
    #[test]
    fn percentile_se_calibration() {
        let mut failures = Vec::new();
        for (n, seed) in [(500usize, 20), (250, 21)] {
            for dist in [Dist::Normal, Dist::Lognormal, Dist::Capped] {
                let c = calibrate(dist, n, 2_000, seed, false);
                for (j, (name, _)) in STATS.iter().enumerate() {
                    let (sd, rms, nonzero, at_cap) = c.new[j];
                    if matches!(dist, Dist::Capped) && ["P90", "P95", "P99"].contains(name) {
                        let most = if *name == "P90" { 0.01 } else { 0.0 };
                        if !(at_cap && nonzero <= most) {
                            failures.push(format!(
                                "{dist:?} n={n} {name}: all at the cap {at_cap}, \
                                 SE > 0 in {nonzero} of runs"
                            ));
                        }
                        continue;
                    }
                    let ratio = sd / rms;
                    let lo = if n == 250 && *name == "P99" {
                        0.75
                    } else {
                        0.8
                    };
                    if !(lo..=1.25).contains(&ratio) {
                        failures.push(format!("{dist:?} n={n} {name}: ratio {ratio:.3}"));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "badly calibrated: {failures:#?}");
    }

    /// The before/after table of docs/simulation.md:
    /// `cargo test --lib summary::tests::calibration_table -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn calibration_table() {
        for (n, seed) in [(250usize, 21), (500, 20)] {
            for dist in [
                Dist::Normal,
                Dist::Lognormal,
                Dist::Lognormal1,
                Dist::Capped,
            ] {
                let c = calibrate(dist, n, 2_000, seed, true);
                let cells: Vec<String> = STATS
                    .iter()
                    .enumerate()
                    .map(|(j, (name, _))| {
                        let (sd, rms, nonzero, at_cap) = c.new[j];
                        let (_, old) = c.old[j];
                        if at_cap {
                            format!(
                                "{name} at the cap, SE > 0 in {:.1}% of runs",
                                100.0 * nonzero
                            )
                        } else if name.starts_with('P') && name.len() <= 3 {
                            format!("{name} {:.2} → {:.2}", sd / old, sd / rms)
                        } else {
                            format!("{name} {:.2}", sd / rms)
                        }
                    })
                    .collect();
                println!("n = {n} {dist:?}: {}", cells.join(" | "));
            }
        }
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
