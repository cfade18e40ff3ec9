//! What the actuals reveal of the spread of a partner's order sizes (docs/forecast.md, "Order
//! sizes to date").
//!
//! Under the model a buying month's orders split its demand `D` in proportion to independent
//! weights `exp(σZ_j)`, so an order's log amount is `ln D + σZ_j − ln Σ exp(σZ)`: within a
//! month with `n ≥ 2` orders the log amounts' deviations from their mean are `σ(Z_j − Z̄)`,
//! whatever `D`, and their sum of squares is `σ²·χ²(n − 1)`. Over a partner's complete months
//! to date, `SS` (the sum of those sums) has `k = Σ (n − 1)` degrees of freedom and
//! `SS | σ_i² ~ σ_i²·χ²(k)`. The partner's own `σ_i²` gets the conjugate scaled-inverse-χ²
//! prior with scale the model's `σ₀²` (`orders.size_sigma`) and `ν` degrees of freedom; its
//! posterior is scaled-inverse-χ²(`ν + k`, `(ν·σ₀² + SS)/(ν + k)`), whose scale
//!
//! ```text
//! σ̂_i² = (ν·σ₀² + SS_i) / (ν + k_i)
//! ```
//!
//! the simulated months use (the prior counts as `ν` degrees of freedom: a partner without
//! months of two orders keeps the model's σ, one with many its own). `ν` by the method of
//! moments over the partners with `k_i ≥ 1`: with `s_i² = SS_i/k_i`, `E(s_i² − σ₀²)² = τ² +
//! 2E[σ_i⁴]/k_i ≈ τ² + 2(σ₀⁴ + τ²)/k_i` (τ² the partners' variance of `σ_i²`), so, weighting
//! partner `i` by `k_i`,
//!
//! ```text
//! τ² = Σ (k_i (s_i² − σ₀²)² − 2σ₀⁴) / Σ (k_i + 2),     ν = 2σ₀⁴ / τ²
//! ```
//!
//! (the `ν` that gives the posterior scale the normal–normal shrinkage weight
//! `τ² / (τ² + 2σ₀⁴/k)`), clamped to [[`MIN_PRIOR_DF`], [`MAX_PRIOR_DF`]]; `τ² ≤ 0` (the
//! partners' spreads no more dispersed than the χ² noise around the model's) keeps the model's
//! σ for everyone.

/// Bounds on the prior's degrees of freedom `ν`.
pub(crate) const MIN_PRIOR_DF: f64 = 2.0;
pub(crate) const MAX_PRIOR_DF: f64 = 1e6;

/// Each partner's order-size σ given its orders to date (see the module comment); empty when
/// the model's σ is 0 or no partner has a month of two orders or more. `size_ss` and `size_df`:
/// each partner's sum of squared within-month deviations of log order amounts and its degrees
/// of freedom.
pub(crate) fn order_sigmas(sigma0: f64, size_ss: &[f64], size_df: &[u32]) -> Vec<f64> {
    if !(sigma0 > 0.0) {
        return Vec::new();
    }
    let s0 = sigma0 * sigma0;
    let (mut num, mut den) = (0.0, 0.0);
    for (&ss, &k) in size_ss.iter().zip(size_df) {
        if k >= 1 {
            let k = k as f64;
            let d = ss / k - s0;
            num += k * d * d - 2.0 * s0 * s0;
            den += k + 2.0;
        }
    }
    if den <= 0.0 || num <= 0.0 {
        return Vec::new();
    }
    let tau2 = num / den;
    let nu = (2.0 * s0 * s0 / tau2).clamp(MIN_PRIOR_DF, MAX_PRIOR_DF);
    size_ss
        .iter()
        .zip(size_df)
        .map(|(&ss, &k)| ((nu * s0 + ss) / (nu + k as f64)).sqrt())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three partners under a model σ₀ = 0.5: A's orders are alike (SS 0.36 over 9 degrees of
    /// freedom: s² = 0.04), B's as spread as the model's (SS 1.5 over 6: s² = 0.25), C has no
    /// month of two orders. By hand: σ₀² = 0.25, σ₀⁴ = 0.0625;
    /// τ² = (9·(0.04 − 0.25)² − 0.125 + 6·0 − 0.125) / (11 + 8) = (0.3969 − 0.25) / 19
    /// = 0.0077316; ν = 0.125 / τ² = 16.1675; σ̂_A² = (16.1675·0.25 + 0.36) / 25.1675 = 0.174903,
    /// σ̂_B² = 0.25, C keeps 0.25.
    #[test]
    fn the_posterior_by_hand() {
        let f = order_sigmas(0.5, &[0.36, 1.5, 0.0], &[9, 6, 0]);
        let tau2: f64 = (0.3969 - 0.25) / 19.0;
        let nu = 0.125 / tau2;
        assert!((nu - 16.167_46).abs() < 1e-4, "{nu}");
        let a2 = (nu * 0.25 + 0.36) / (nu + 9.0);
        assert!((a2 - 0.174_903).abs() < 1e-6, "{a2}");
        assert!((f[0] - a2.sqrt()).abs() < 1e-12, "{f:?}");
        assert!((f[1] - 0.5).abs() < 1e-12, "{f:?}");
        assert_eq!(f[2], 0.5);
    }

    /// Spreads within the χ² noise around the model's: everyone keeps σ₀; a model without
    /// size spread: nothing to condition.
    #[test]
    fn no_heterogeneity_keeps_the_model() {
        // s² = 0.26 and 0.24 over 10 df each: 10·0.0001·2 − 2·2·0.0625 < 0
        assert!(order_sigmas(0.5, &[2.6, 2.4], &[10, 10]).is_empty());
        assert!(order_sigmas(0.0, &[0.36], &[9]).is_empty());
        assert!(order_sigmas(0.5, &[0.0, 0.0], &[0, 0]).is_empty());
    }

    /// Many degrees of freedom: the partner's own spread wins.
    #[test]
    fn much_evidence_gives_the_partners_own() {
        let f = order_sigmas(0.5, &[0.04 * 400.0, 0.25 * 400.0], &[400, 400]);
        assert!((f[0] - 0.2).abs() < 0.01, "{f:?}");
    }
}
