//! The linear algebra of a forecast's conditioning ([`super::CondEngine`]): which partners
//! buy regularly or have churned, the layout of the Gaussian posterior's parameters θ, the
//! market state's variance, and the Cholesky factorisation and triangular solves.

use super::Observed;
use crate::demand::{MarketProcess, MarketStart};
use crate::engine::setup::Setup;

/// Per partner, from its actual monthly purchases to date: whether it has churned, the last
/// complete month it bought in, and whether it buys regularly (every month up to that one).
///
/// Regular buyers (a purchase in every complete month from the start to their last purchase,
/// as the lognormal model generates) are conditioned month by month, exactly. Others buy
/// intermittently (orders every few months): each purchase is taken to cover the demand since
/// the previous one, so they are conditioned on their total from the programme start to their
/// last purchase month (one aggregated observation); in segments with purchase incidence the
/// engine conditions every buyer month by month instead and reads a silent spell through the
/// churn posterior of `churn.rs` (`CondEngine::new`). Churn: no purchase for at least
/// max(2, 2·I − 1) complete months, I = months of demand per purchase month: the larger of
/// (last + 1) / purchase months and the revenue of a purchase month over the expected monthly
/// demand (about 1 for regular buyers); no purchase at all: churned after 6 months. (One month
/// without purchases is not taken as evidence: real partners skip months.)
pub(super) fn classify_buyers(
    s: &Setup,
    obs: &Observed,
) -> (Vec<bool>, Vec<Option<usize>>, Vec<bool>) {
    let n = s.partners.len();
    let t = obs.t_obs;
    let mut churned = vec![false; n];
    let mut last_bought = vec![None; n];
    let mut regular = vec![false; n];
    for i in 0..n {
        if t == 0 {
            break;
        }
        let g = &obs.gross[i * t..(i + 1) * t];
        let last = g.iter().rposition(|&v| v > 0.0);
        last_bought[i] = last;
        let count = g.iter().filter(|&&v| v > 0.0).count();
        churned[i] = !obs.partial_bought[i]
            && match last {
                None => t >= 6,
                Some(l) => {
                    let gap = (t - 1 - l) as f64;
                    // months of demand per purchase month: by the calendar, and by volume
                    // (what a purchase month brings against the expected monthly demand)
                    let pc = &s.partners[i];
                    let sm = &s.seg_month[pc.seg * s.months..(pc.seg + 1) * s.months];
                    let expected: f64 = (0..=l).map(|m| pc.base_month * sm[m] * pc.uplift).sum();
                    let bought: f64 = g[..=l].iter().sum();
                    let by_volume = if expected > 0.0 {
                        bought / count as f64 / (expected / (l + 1) as f64)
                    } else {
                        0.0
                    };
                    let interval = ((l + 1) as f64 / count as f64).max(by_volume);
                    gap >= 2.0 && gap >= 2.0 * interval - 1.0 - 1e-9
                }
            };
        regular[i] = matches!(last, Some(l) if count == l + 1);
    }
    (churned, last_bought, regular)
}

/// The layout of θ = (market innovations, segment factors) for `t` observed months: the
/// number of market innovations `dm`, θ's dimension, each segment's index in θ (a segment
/// without a segment factor has none), and the `dm × dm` map from the innovations to the
/// market state of each month (`lmat`, row-major).
pub(super) fn theta_layout(s: &Setup, t: usize) -> (usize, usize, Vec<Option<usize>>, Vec<f64>) {
    let mk = &s.market;
    let has_market = !(mk.sigma == 0.0 && mk.monthly_sigma == 0.0);
    let dm = if !has_market {
        0
    } else if mk.process == MarketProcess::Constant {
        1
    } else {
        t.max(1)
    };
    let mut d = dm;
    let mut seg_dim = Vec::with_capacity(s.segment_count);
    for sc in &s.segs {
        if sc.segment > 0.0 {
            seg_dim.push(Some(d));
            d += 1;
        } else {
            seg_dim.push(None);
        }
    }
    let rows = dm;
    let mut lmat = vec![0.0; rows * dm];
    if dm > 0 && mk.start == MarketStart::History {
        // the zero-mean part of a history start: every innovation, the first included, at the
        // process's step (ρ = 1 for a random walk; constant: one draw of scale σ)
        let step = mk.history_step();
        let rho = match mk.process {
            MarketProcess::Ar1 => mk.rho,
            _ => 1.0,
        };
        for m in 0..rows {
            for j in 0..=m {
                lmat[m * dm + j] = step * rho.powi((m - j) as i32);
            }
            if mk.process == MarketProcess::Constant {
                break;
            }
        }
    } else if dm > 0 {
        match mk.process {
            MarketProcess::Constant => lmat[0] = mk.sigma,
            MarketProcess::Ar1 => {
                let innov = mk.sigma * (1.0 - mk.rho * mk.rho).sqrt();
                for m in 0..rows {
                    for j in 0..=m {
                        lmat[m * dm + j] = if j == 0 {
                            mk.sigma * mk.rho.powi(m as i32)
                        } else {
                            innov * mk.rho.powi((m - j) as i32)
                        };
                    }
                }
            }
            MarketProcess::RandomWalk => {
                for m in 0..rows {
                    lmat[m * dm] = mk.sigma;
                    for j in 1..=m {
                        lmat[m * dm + j] = mk.monthly_sigma;
                    }
                }
            }
        }
    }
    (dm, d, seg_dim, lmat)
}

/// The deterministic part of month `m`'s log market factor, beyond `Σ_j lmat[m][j]·θ_j`:
/// `−Var(x_m)/2` (stationary start: mean-one factors), `E[x_m | history] − ln B` (history start).
pub(super) fn market_shift(s: &Setup, m: usize) -> f64 {
    let mk = &s.market;
    match mk.start {
        MarketStart::Stationary => -(0.5 * market_var(mk, m)),
        MarketStart::History => mk.history_mean(m) - s.market_log_base,
    }
}

/// Market state variance of month `m` (the engine's mean-one offset is `var/2`).
pub(super) fn market_var(mk: &crate::demand::Market, m: usize) -> f64 {
    let s2 = mk.sigma * mk.sigma;
    match mk.process {
        MarketProcess::RandomWalk => s2 + m as f64 * mk.monthly_sigma * mk.monthly_sigma,
        _ => s2,
    }
}

/// In-place Cholesky factorisation of a symmetric positive definite `d × d` matrix (lower).
pub(super) fn cholesky(a: &mut [f64], d: usize) -> bool {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        if !(s > 0.0) {
            return false;
        }
        let l = s.sqrt();
        a[j * d + j] = l;
        for i in j + 1..d {
            let mut t = a[i * d + j];
            for k in 0..j {
                t -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = t / l;
        }
        for k in j + 1..d {
            a[j * d + k] = 0.0;
        }
    }
    true
}

/// Solve `L y = b` (forward) in place.
pub(super) fn forward(l: &[f64], d: usize, b: &mut [f64]) {
    for i in 0..d {
        let mut t = b[i];
        for k in 0..i {
            t -= l[i * d + k] * b[k];
        }
        b[i] = t / l[i * d + i];
    }
}

/// Solve `Lᵀ y = b` (backward) in place.
pub(super) fn backward(l: &[f64], d: usize, b: &mut [f64]) {
    for i in (0..d).rev() {
        let mut t = b[i];
        for k in i + 1..d {
            t -= l[k * d + i] * b[k];
        }
        b[i] = t / l[i * d + i];
    }
}
