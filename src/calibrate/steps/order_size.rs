//! Step 9c of [`crate::calibrate::calibrate`]: orders a buying month that grow with the
//! partner's size (`orders.size_elasticity`, docs/calibration.md "Returns, orders, unit
//! price"). With `order_id`, the engine's law `n = max(1, Poisson(μ_i))`,
//! `ln μ_i = a_g + b · ln(L_i / ref)`, is fitted on the buying months of the partners with a
//! positive demand level `L_i` (`demand_revenue / 12`, the level the engine simulates), `ref`
//! the geometric mean of those levels. It sets `orders.size_elasticity`,
//! `orders.size_reference` and the per-segment (and pooled) `λ = e^a` at the reference level,
//! replacing step 7's size-free estimates of the same parameters.
//!
//! The estimating equations match each partner's mean orders a buying month: with `M_i` its
//! buying months, `O_i` their orders and `m(μ) = μ + e^(−μ)` the mean of `max(1, Poisson(μ))`,
//!
//! ```text
//! U(θ) = Σ_i z_i (O_i − M_i m(μ_i)) = 0,     z_i = (segment indicator, ln(L_i / ref))
//! ```
//!
//! (at `b = 0` one segment's equation is step 7's moment estimator `λ + e^(−λ) = ΣO / ΣM`),
//! solved by Newton (Jacobian `Σ_i z_i z_iᵀ M_i μ_i (1 − e^(−μ_i))`, positive definite) with
//! step halving on `|U|`; standard errors by the partner-clustered sandwich `J⁻¹ B J⁻¹`,
//! `B = Σ_i z_i z_iᵀ (O_i − M_i m(μ_i))²`. Matching the means, not the full count
//! distribution, keeps the expected orders (what per-order rules pay on) right when the
//! history's counts are not Poisson (e.g. more regular).

use super::{Acc, Ctx};
use crate::calibrate::linalg::{chol_inverse, chol_solve, cholesky, Mat, Z95};
use crate::calibrate::{est, Estimate};

/// A partner's buying months for the fit.
struct Row {
    /// Intercept index (its segment, or 0 for the pooled fit).
    g: usize,
    /// `ln(L / ref)`.
    x: f64,
    /// Buying months and their orders.
    m: f64,
    o: f64,
}

/// The fitted law: intercepts `a`, elasticity `b` and their sandwich covariance.
struct Fit {
    a: Vec<f64>,
    b: f64,
    cov: Mat,
}

/// Partner `r`'s mean count, its residual and its weight in the Jacobian at `theta`.
fn terms(r: &Row, theta: &[f64], k: usize) -> (f64, f64) {
    let mu = (theta[r.g] + theta[k] * r.x).exp();
    let resid = r.o - r.m * (mu + (-mu).exp());
    let w = r.m * mu * (1.0 - (-mu).exp());
    (resid, w)
}

/// The estimating equations `U` and their (negated) Jacobian `J` at `theta`.
fn equations(rows: &[Row], theta: &[f64], k: usize) -> (Vec<f64>, Mat) {
    let d = k + 1;
    let mut u = vec![0.0; d];
    let mut jac = Mat::zeros(d, d);
    for r in rows {
        let (resid, w) = terms(r, theta, k);
        let z = [(r.g, 1.0), (k, r.x)];
        for &(i, zi) in &z {
            u[i] += resid * zi;
            for &(j, zj) in &z {
                jac.set(i, j, jac.at(i, j) + w * zi * zj);
            }
        }
    }
    (u, jac)
}

/// Newton's method on the estimating equations with `k` intercepts and a common slope
/// (`None` without convergence or with a singular Jacobian).
fn fit(rows: &[Row], k: usize) -> Option<Fit> {
    let d = k + 1;
    let mut theta = vec![0.0; d];
    // start each intercept at the log of its mean orders a buying month
    for g in 0..k {
        let (m, o) = rows
            .iter()
            .filter(|r| r.g == g)
            .fold((0.0, 0.0), |a, r| (a.0 + r.m, a.1 + r.o));
        theta[g] = if m > 0.0 { (o / m).max(1e-3).ln() } else { 0.0 };
    }
    let norm = |u: &[f64]| u.iter().map(|v| v * v).sum::<f64>();
    for _ in 0..200 {
        let (u, jac) = equations(rows, &theta, k);
        let step = chol_solve(&cholesky(&jac)?, &u);
        let before = norm(&u);
        let mut h = 1.0;
        let mut next: Vec<f64>;
        loop {
            next = theta.iter().zip(&step).map(|(t, s)| t + h * s).collect();
            if norm(&equations(rows, &next, k).0) <= before || h < 1e-6 {
                break;
            }
            h *= 0.5;
        }
        let done = step.iter().map(|s| (h * s).abs()).fold(0.0, f64::max) < 1e-10;
        theta = next;
        if done {
            let (_, jac) = equations(rows, &theta, k);
            let inv = chol_inverse(&cholesky(&jac)?);
            // the partner-clustered "meat": Σ resid_i² z_i z_iᵀ
            let mut meat = Mat::zeros(d, d);
            for r in rows {
                let (resid, _) = terms(r, &theta, k);
                let z = [(r.g, 1.0), (k, r.x)];
                for &(i, zi) in &z {
                    for &(j, zj) in &z {
                        meat.set(i, j, meat.at(i, j) + resid * resid * zi * zj);
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
        let o: f64 = row.iter().map(|&o| o as f64).sum();
        stats.push((i, level, m, o));
    }
    let levels: Vec<f64> = stats.iter().map(|r| r.1).collect();
    if levels.len() < 3 || levels.iter().all(|&l| l == levels[0]) {
        return;
    }
    let reference = reference_of(&levels);
    let rows = |by_segment: bool| -> Vec<Row> {
        stats
            .iter()
            .map(|&(i, level, m, o)| Row {
                g: if by_segment { p.seg[i] } else { 0 },
                x: (level / reference).ln(),
                m,
                o,
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
    let method = "estimating equations matching each partner's mean distinct order ids a buying month to max(1, Poisson(λ_g (L/ref)^b)), L = demand_revenue / 12, ref their geometric mean; partner-clustered sandwich SE";
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
            let mut o = 0.0;
            for _ in 0..12 {
                o += crate::rng::poisson(&mut r, mu).max(1) as f64;
            }
            rows.push(Row {
                g: 0,
                x,
                m: 12.0,
                o,
            });
        }
        let f = fit(&rows, 1).unwrap();
        let (se_a, se_b) = (f.cov.at(0, 0).sqrt(), f.cov.at(1, 1).sqrt());
        assert!((f.a[0] - a).abs() < 4.0 * se_a, "a {} ± {se_a}", f.a[0]);
        assert!((f.b - b).abs() < 4.0 * se_b, "b {} ± {se_b}", f.b);
        assert!(se_b > 0.0 && se_b < 0.05);
    }

    /// Two orders in every buying month whatever the level: b = 0 and λ + e^(−λ) = 2
    /// (λ = 1.841406, step 7's moment estimate), exactly.
    #[test]
    fn the_same_count_at_every_level_is_no_elasticity() {
        let rows: Vec<Row> = (0..5)
            .map(|i| Row {
                g: 0,
                x: ((i + 1) as f64).ln() - 1.0,
                m: 26.0,
                o: 52.0,
            })
            .collect();
        let f = fit(&rows, 1).unwrap();
        assert!(f.b.abs() < 1e-9, "{}", f.b);
        assert!((f.a[0].exp() - 1.841_406).abs() < 1e-6, "{}", f.a[0].exp());
    }

    #[test]
    fn the_reference_is_the_geometric_mean_to_four_digits() {
        assert_eq!(reference_of(&[1000.0, 4000.0]), 2000.0);
        assert_eq!(reference_of(&[12_345.678]), 12_350.0);
    }
}
