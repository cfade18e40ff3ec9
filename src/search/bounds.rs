//! The one-sided Clopper–Pearson upper confidence bound of a probability: a chance
//! constraint P(payout > X) ≤ α holds, at confidence `c`, when the bound of the observed
//! exceedances is at most α (not merely their frequency).

/// ln P(X ≤ k) for X ~ Binomial(n, p), summed in log space (no underflow at large n).
fn log_binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return if k >= n { 0.0 } else { f64::NEG_INFINITY };
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let mut term = n as f64 * lq; // ln pmf(0)
    let mut terms = Vec::with_capacity(k as usize + 1);
    terms.push(term);
    for i in 0..k.min(n) {
        term += ((n - i) as f64).ln() - ((i + 1) as f64).ln() + lp - lq;
        terms.push(term);
    }
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
}

/// The one-sided upper bound, at confidence `confidence` (e.g. 0.95), of a probability of
/// which `k` events were seen in `n` trials: the p at which P(X ≤ k) = 1 − confidence
/// (1 when k = n; `NaN` when n = 0 or the confidence is not in (0, 1)).
///
/// ```
/// use rebatesim::search::clopper_pearson_upper;
/// // 10,000 scenarios: at most 463 exceedances certify P ≤ 5% at 95% confidence
/// assert!(clopper_pearson_upper(463, 10_000, 0.95) <= 0.05);
/// assert!(clopper_pearson_upper(464, 10_000, 0.95) > 0.05);
/// ```
pub fn clopper_pearson_upper(k: u64, n: u64, confidence: f64) -> f64 {
    if n == 0 || k > n || !(confidence > 0.0 && confidence < 1.0) {
        return f64::NAN;
    }
    if k == n {
        return 1.0;
    }
    let target = (1.0 - confidence).ln();
    let (mut lo, mut hi) = (k as f64 / n as f64, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if log_binomial_cdf(k, n, mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // zero events in n trials: 1 − (1 − c)^(1/n)
        let u = clopper_pearson_upper(0, 100, 0.95);
        assert!((u - (1.0 - 0.05f64.powf(0.01))).abs() < 1e-12, "{u}");
        // R: binom.test(5, 100, alternative = "less")$conf.int[2] = 0.1023
        let u = clopper_pearson_upper(5, 100, 0.95);
        assert!((u - 0.10227).abs() < 1e-4, "{u}");
        assert_eq!(clopper_pearson_upper(3, 3, 0.95), 1.0);
        assert!(clopper_pearson_upper(0, 0, 0.95).is_nan());
        assert!(clopper_pearson_upper(0, 1_000_000, 0.95) > 0.0);
    }
}
