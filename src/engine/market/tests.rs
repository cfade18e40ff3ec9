//! The law of a history start: the year's mean log market *change* from the baseline year.

use super::history_path;
use crate::demand::{Market, MarketProcess, MarketStart};
use crate::rng;

/// sd (in units of σ) of the mean of months 12..24 minus the mean of months 0..12 of a
/// stationary AR(1) with unit variance: `√(aᵀΣa)`, `Σ_ts = ρ^|t−s|`.
fn change_sd(rho: f64) -> f64 {
    let a = |t: usize| if t < 12 { -1.0 / 12.0 } else { 1.0 / 12.0 };
    let mut v = 0.0;
    for t in 0..24 {
        for u in 0..24 {
            v += a(t) * a(u) * rho.powi((t as i32 - u as i32).abs());
        }
    }
    v.sqrt()
}

#[test]
fn the_change_sd_is_the_table_of_docs_calibration() {
    // docs/calibration.md, session 31's table (session 30's had 0.72 at ρ = 0.6: 0.715)
    for (rho, sd) in [
        (0.3, 0.533),
        (0.6, 0.715),
        (0.85, 0.877),
        (0.95, 0.730),
        (0.99, 0.384),
    ] {
        assert!(
            (change_sd(rho) - sd).abs() < 0.0005,
            "{rho}: {}",
            change_sd(rho)
        );
    }
}

#[test]
fn the_year_mean_log_change_from_the_baseline_year_has_the_stationary_law() {
    // baseline years drawn from the stationary AR(1) (σ = 0.08), the year continued by the
    // engine's path: the mean log factor + ln B − mean h is the year-on-year change, whose sd
    // is change_sd(ρ)·σ (not the stationary start's sd of a year's mean). 6,000 pairs: the
    // sample sd's relative standard error is 1/√12,000 ≈ 0.9%; tolerance 4%.
    let sigma = 0.08;
    let n = 6_000;
    for rho in [0.3, 0.6, 0.85, 0.95, 0.99] {
        let mut r = rng::stream(31, (rho * 100.0) as u64, 0, rng::Purpose::Market);
        let (mut s1, mut s2) = (0.0, 0.0);
        let mut out = [0.0; 12];
        for _ in 0..n {
            let mut h = Vec::with_capacity(12);
            let mut x = sigma * rng::normal(&mut r);
            for t in 0..12 {
                if t > 0 {
                    x = rho * x + sigma * (1.0 - rho * rho).sqrt() * rng::normal(&mut r);
                }
                h.push(x);
            }
            let mk = Market {
                sigma,
                process: MarketProcess::Ar1,
                rho,
                monthly_sigma: 0.0,
                start: MarketStart::History,
                history: h,
            };
            let lb = mk.history_log_base(&[1.0; 12], 0);
            history_path(&mk, lb, &mut r, &mut out);
            let year: f64 = out.iter().map(|f| f.ln() + lb).sum::<f64>() / 12.0;
            let base: f64 = mk.history.iter().sum::<f64>() / 12.0;
            let d = year - base;
            s1 += d;
            s2 += d * d;
        }
        let mean = s1 / n as f64;
        let sd = (s2 / n as f64 - mean * mean).sqrt();
        let want = change_sd(rho) * sigma;
        assert!(
            (sd / want - 1.0).abs() < 0.04,
            "ρ {rho}: sd {sd} against {want}"
        );
        // centred: the mean change is 0 within 4 standard errors
        assert!(
            mean.abs() < 4.0 * want / (n as f64).sqrt(),
            "ρ {rho}: mean {mean}"
        );
    }
}

#[test]
fn a_constant_market_is_a_new_draw_relative_to_the_baseline_year() {
    let mk = Market {
        sigma: 0.0,
        process: MarketProcess::Constant,
        rho: 0.0,
        monthly_sigma: 0.0,
        start: MarketStart::History,
        history: vec![0.1; 12],
    };
    let mut r = rng::stream(1, 0, 0, rng::Purpose::Market);
    let mut out = [0.0; 3];
    let lb = mk.history_log_base(&[1.0; 12], 0);
    assert!((lb - 0.1).abs() < 1e-15);
    history_path(&mk, lb, &mut r, &mut out);
    // σ = 0: e^{0 − 0.1} every month (the year does not continue a constant's level)
    for f in out {
        assert!((f - (-0.1f64).exp()).abs() < 1e-15, "{f}");
    }
}
