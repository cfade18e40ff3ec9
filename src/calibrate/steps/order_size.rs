//! Step 9c of [`crate::calibrate::calibrate`]: orders a buying month that grow with the
//! partner's size (`orders.size_elasticity`, docs/calibration.md "Orders and the partner's
//! size"). With `order_id`, the engine's law `n = max(1, Poisson(μ_i))`,
//! `ln μ_i = a_g + b · ln(L_i / ref)`, is fitted by maximum likelihood on every buying month
//! of the partners with a positive demand level `L_i` (`demand_revenue / 12`, the level the
//! engine simulates), `ref` the geometric mean of those levels; standard errors by the
//! partner-clustered sandwich. It sets `orders.size_elasticity`, `orders.size_reference` and
//! the per-segment (and pooled) `λ = e^a` at the reference level, replacing step 7's
//! size-free estimates of the same parameters.
//!
//! A partner's months enter through three sufficient statistics: `M` buying months, `c₁` of
//! them with one order, `s` the orders of the others; its log-likelihood in `η = ln μ` is
//! `ℓ = −M μ + c₁ ln(1 + μ) + s η` (up to a constant), score `u = s − M μ + c₁ μ / (1 + μ)`,
//! and `−∂²ℓ/∂η² = M μ − c₁ μ / (1 + μ)² > 0` (concave: Newton converges).

use super::{Acc, Ctx};
use crate::calibrate::linalg::{chol_inverse, chol_solve, cholesky, Mat, Z95};
use crate::calibrate::{est, Estimate};

/// A partner's buying months for the fit.
struct Row {
    /// Intercept index (its segment, or 0 for the pooled fit).
    g: usize,
    /// `ln(L / ref)`.
    x: f64,
    m: f64,
    c1: f64,
    s: f64,
}

/// The fitted law: intercepts `a`, elasticity `b` and their sandwich covariance.
struct Fit {
    a: Vec<f64>,
    b: f64,
    cov: Mat,
}

/// Newton's method on the log-likelihood of [`Row`]s with `k` intercepts and a common slope
/// (`None` without convergence or with a singular information matrix).
fn fit(rows: &[Row], k: usize) -> Option<Fit> {
    let d = k + 1;
    let mut theta = vec![0.0; d];
    // start each intercept at the log of its mean orders a buying month
    for g in 0..k {
        let (m, o) = rows
            .iter()
            .filter(|r| r.g == g)
            .fold((0.0, 0.0), |a, r| (a.0 + r.m, a.1 + r.c1 + r.s));
        theta[g] = if m > 0.0 { (o / m).max(1e-3).ln() } else { 0.0 };
    }
    let ll = |t: &[f64]| -> f64 {
        rows.iter()
            .map(|r| {
                let eta = t[r.g] + t[k] * r.x;
                -r.m * eta.exp() + r.c1 * eta.exp().ln_1p() + r.s * eta
            })
            .sum()
    };
    for _ in 0..100 {
        let (grad, info) = score_info(rows, &theta, k);
        let l = cholesky(&info)?;
        let step = chol_solve(&l, &grad);
        let before = ll(&theta);
        let mut h = 1.0;
        let mut next: Vec<f64>;
        loop {
            next = theta.iter().zip(&step).map(|(t, s)| t + h * s).collect();
            if ll(&next) >= before - 1e-12 * before.abs() || h < 1e-6 {
                break;
            }
            h *= 0.5;
        }
        let done = step.iter().map(|s| (h * s).abs()).fold(0.0, f64::max) < 1e-10;
        theta = next;
        if done {
            let (_, info) = score_info(rows, &theta, k);
            let inv = chol_inverse(&cholesky(&info)?);
            // the partner-clustered "meat": Σ u_i² z_i z_iᵀ
            let mut meat = Mat::zeros(d, d);
            for r in rows {
                let mu = (theta[r.g] + theta[k] * r.x).exp();
                let u = r.s - r.m * mu + r.c1 * mu / (1.0 + mu);
                let z = [(r.g, 1.0), (k, r.x)];
                for &(i, zi) in &z {
                    for &(j, zj) in &z {
                        meat.set(i, j, meat.at(i, j) + u * u * zi * zj);
                    }
                }
            }
            let cov = inv.mul(&meat).mul(&inv);
            return Some(Fit {
                a: theta[..k].to_vec(),
                b: theta[k],
                cov,
            });
        }
    }
    None
}

/// The score and the (observed) information matrix at `theta`.
fn score_info(rows: &[Row], theta: &[f64], k: usize) -> (Vec<f64>, Mat) {
    let d = k + 1;
    let mut grad = vec![0.0; d];
    let mut info = Mat::zeros(d, d);
    for r in rows {
        let mu = (theta[r.g] + theta[k] * r.x).exp();
        let u = r.s - r.m * mu + r.c1 * mu / (1.0 + mu);
        let w = r.m * mu - r.c1 * mu / (1.0 + mu).powi(2);
        let z = [(r.g, 1.0), (k, r.x)];
        for &(i, zi) in &z {
            grad[i] += u * zi;
            for &(j, zj) in &z {
                info.set(i, j, info.at(i, j) + w * zi * zj);
            }
        }
    }
    (grad, info)
}

/// The reference level: the geometric mean of the levels, to 4 significant digits.
fn reference_of(levels: &[f64]) -> f64 {
    let g = (levels.iter().map(|l| l.ln()).sum::<f64>() / levels.len() as f64).exp();
    let scale = 10f64.powi(g.log10().floor() as i32 - 3);
    (g / scale).round() * scale
}

/// Fit the size law (see the module comment) and set it into `acc.model.orders` with its
/// estimates; nothing without `order_id`, with fewer than 3 partners of positive level or
/// when the fit fails (a warning then). `demand_revenue`: each partner's annual level.
pub(in crate::calibrate) fn order_size(cx: &Ctx, demand_revenue: &[f64], acc: &mut Acc) {
    let (p, t_len) = (cx.p, cx.t_len);
    let Some(orders) = &p.orders else { return };
    let mut stats = Vec::new();
    for i in 0..cx.n {
        let level = demand_revenue[i] / 12.0;
        let row = &orders[i * t_len..(i + 1) * t_len];
        let m = row.iter().filter(|&&o| o > 0).count() as f64;
        if !(level > 0.0 && level.is_finite()) || m == 0.0 {
            continue;
        }
        let c1 = row.iter().filter(|&&o| o == 1).count() as f64;
        let s: f64 = row.iter().filter(|&&o| o > 1).map(|&o| o as f64).sum();
        stats.push((i, level, m, c1, s));
    }
    let levels: Vec<f64> = stats.iter().map(|r| r.1).collect();
    if levels.len() < 3 || levels.iter().all(|&l| l == levels[0]) {
        return;
    }
    let reference = reference_of(&levels);
    let rows = |by_segment: bool| -> Vec<Row> {
        stats
            .iter()
            .map(|&(i, level, m, c1, s)| Row {
                g: if by_segment { p.seg[i] } else { 0 },
                x: (level / reference).ln(),
                m,
                c1,
                s,
            })
            .collect()
    };
    let pooled = fit(&rows(false), 1);
    let segmented = if cx.g_len > 1 {
        fit(&rows(true), cx.g_len)
    } else {
        None
    };
    let Some(pooled) = pooled else {
        acc.warnings.push("orders.size_elasticity: the fit of the order counts against the partners' levels did not converge; orders a month are left independent of size".into());
        return;
    };
    let method = "maximum likelihood of max(1, Poisson(λ_g (L/ref)^b)) on each buying month's distinct order ids, L = demand_revenue / 12, ref their geometric mean; partner-clustered sandwich SE";
    let law = segmented.as_ref().unwrap_or(&pooled);
    let k = law.a.len();
    let b_se = law.cov.at(k, k).max(0.0).sqrt();
    let b = law.b.clamp(-3.0, 3.0);
    let Acc {
        estimates, model, ..
    } = acc;
    estimates.push(est(
        "orders.size_elasticity",
        None,
        b,
        b_se,
        (b - Z95 * b_se, b + Z95 * b_se),
        None,
        method,
    ));
    model.orders.size_elasticity = Some(b);
    model.orders.size_reference = Some(reference);
    let most = crate::limits::MAX_ORDERS_PER_MONTH;
    let lambda = |f: &Fit, g: usize| {
        let l = f.a[g].exp();
        let se = l * f.cov.at(g, g).max(0.0).sqrt();
        (l.min(most), se)
    };
    let (l, se) = lambda(&pooled, 0);
    replace(estimates, "orders.per_month", l, se, method);
    model.orders.per_month = l;
    if let Some(f) = &segmented {
        for g in 0..cx.g_len {
            let (l, se) = lambda(f, g);
            let path = format!("orders.segments.{}", p.segments[g]);
            if model.orders.segments.contains_key(&p.segments[g]) {
                replace(estimates, &path, l, se, method);
                model.orders.segments.insert(cx.seg_name(g), l);
            }
        }
    }
}

/// Set estimate `path` to `value ± se` (normal interval, at least 0) estimated by `method`.
fn replace(estimates: &mut [Estimate], path: &str, value: f64, se: f64, method: &str) {
    if let Some(e) = estimates.iter_mut().find(|e| e.parameter == path) {
        e.value = value;
        e.se = se;
        e.lo90 = (value - Z95 * se).max(0.0);
        e.hi90 = value + Z95 * se;
        e.method = method.to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows drawn from the law itself (deterministic pseudo-random counts): the fit recovers b.
    #[test]
    fn the_fit_recovers_the_law_it_is_drawn_from() {
        let mut r = crate::rng::stream(7, 0, 0, crate::rng::Purpose::Orders);
        let (a, b) = (0.3_f64, 0.6_f64);
        let mut rows = Vec::new();
        for i in 0..3000 {
            let x = (i as f64 / 3000.0 - 0.5) * 4.0;
            let mu = (a + b * x).exp();
            let (mut c1, mut s) = (0.0, 0.0);
            for _ in 0..12 {
                let n = crate::rng::poisson(&mut r, mu).max(1);
                if n == 1 {
                    c1 += 1.0;
                } else {
                    s += n as f64;
                }
            }
            rows.push(Row {
                g: 0,
                x,
                m: 12.0,
                c1,
                s,
            });
        }
        let f = fit(&rows, 1).unwrap();
        let (se_a, se_b) = (f.cov.at(0, 0).sqrt(), f.cov.at(1, 1).sqrt());
        assert!((f.a[0] - a).abs() < 4.0 * se_a, "a {} ± {se_a}", f.a[0]);
        assert!((f.b - b).abs() < 4.0 * se_b, "b {} ± {se_b}", f.b);
        assert!(se_b > 0.0 && se_b < 0.05);
    }

    #[test]
    fn the_reference_is_the_geometric_mean_to_four_digits() {
        assert_eq!(reference_of(&[1000.0, 4000.0]), 2000.0);
        assert_eq!(reference_of(&[12_345.678]), 12_350.0);
    }
}
