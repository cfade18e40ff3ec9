//! The estimators (formulas in `docs/calibration.md`, section "Estimators").

use super::linalg::{chol_inverse, chol_logdet, chol_solve, cholesky, Mat};
use super::panel::Panel;

/// Two-way fixed effects of log gross purchases on buying months: partner level `a_i` and
/// segment-month effect `f[g,t]` (each segment's `f` has mean 0 over its months).
pub(crate) struct TwoWay {
    pub a: Vec<f64>,
    /// `[g * T + t]`, NaN where the segment has no buying partner in month `t`.
    pub f: Vec<f64>,
    /// Buying partners per segment-month.
    pub n: Vec<u32>,
}

pub(crate) fn two_way(p: &Panel) -> TwoWay {
    let (n, t_len, g_len) = (p.n(), p.months, p.segments.len());
    let y: Vec<f64> = p
        .gross
        .iter()
        .map(|&g| if g > 0.0 { g.ln() } else { f64::NAN })
        .collect();
    let mut cnt = vec![0u32; g_len * t_len];
    for i in 0..n {
        for t in 0..t_len {
            if !y[i * t_len + t].is_nan() {
                cnt[p.seg[i] * t_len + t] += 1;
            }
        }
    }
    let mut a = vec![0.0; n];
    let mut f = vec![0.0; g_len * t_len];
    let mut sum = vec![0.0; g_len * t_len];
    for _ in 0..200 {
        for i in 0..n {
            let (mut s, mut k) = (0.0, 0usize);
            let fg = &f[p.seg[i] * t_len..];
            for t in 0..t_len {
                let v = y[i * t_len + t];
                if !v.is_nan() {
                    s += v - fg[t];
                    k += 1;
                }
            }
            a[i] = s / k as f64;
        }
        sum.iter_mut().for_each(|x| *x = 0.0);
        for i in 0..n {
            let base = p.seg[i] * t_len;
            for t in 0..t_len {
                let v = y[i * t_len + t];
                if !v.is_nan() {
                    sum[base + t] += v - a[i];
                }
            }
        }
        let mut change: f64 = 0.0;
        for k in 0..f.len() {
            let new = if cnt[k] > 0 {
                sum[k] / cnt[k] as f64
            } else {
                0.0
            };
            change = change.max((new - f[k]).abs());
            f[k] = new;
        }
        if change < 1e-10 {
            break;
        }
    }
    // normalise each segment's months to mean 0 (levels go to the partners)
    for g in 0..g_len {
        let fs = &mut f[g * t_len..(g + 1) * t_len];
        let c = &cnt[g * t_len..(g + 1) * t_len];
        let (s, k) = fs
            .iter()
            .zip(c)
            .filter(|(_, &c)| c > 0)
            .fold((0.0, 0usize), |(s, k), (v, _)| (s + v, k + 1));
        let m = if k > 0 { s / k as f64 } else { 0.0 };
        for (v, &c) in fs.iter_mut().zip(c) {
            *v = if c > 0 { *v - m } else { f64::NAN };
        }
        for i in 0..n {
            if p.seg[i] == g {
                a[i] += m;
            }
        }
    }
    TwoWay { a, f, n: cnt }
}

/// Within-partner variance components per segment.
pub(crate) struct PartnerComponents {
    /// Monthly noise variance σ_e² per segment, and its degrees of freedom.
    pub noise: Vec<(f64, f64)>,
    /// Year-over-year partner-level change variance σ_P² per segment, its standard error and
    /// the number of year pairs.
    pub partner: Vec<(f64, f64, f64)>,
    /// Pooled over segments: (σ_e², dof), (σ_P², se, pairs).
    pub noise_all: (f64, f64),
    pub partner_all: (f64, f64, f64),
}

pub(crate) fn partner_components(p: &Panel, fe: &TwoWay) -> PartnerComponents {
    let (n, t_len, g_len) = (p.n(), p.months, p.segments.len());
    let blocks = t_len.div_ceil(12);
    let complete = t_len / 12;
    let mut ss = vec![0.0; g_len];
    let mut dof = vec![0.0; g_len];
    // per partner: block means and counts
    let mut means = vec![0.0; n * blocks];
    let mut counts = vec![0u32; n * blocks];
    for i in 0..n {
        let g = p.seg[i];
        for b in 0..blocks {
            let (mut s, mut s2, mut k) = (0.0, 0.0, 0u32);
            for t in b * 12..((b + 1) * 12).min(t_len) {
                let v = p.gross[i * t_len + t];
                if v > 0.0 {
                    let r = v.ln() - fe.a[i] - fe.f[g * t_len + t];
                    s += r;
                    s2 += r * r;
                    k += 1;
                }
            }
            if k > 0 {
                let m = s / k as f64;
                means[i * blocks + b] = m;
                counts[i * blocks + b] = k;
                if k >= 2 {
                    ss[g] += (s2 - k as f64 * m * m).max(0.0);
                    dof[g] += (k - 1) as f64;
                }
            }
        }
    }
    let noise: Vec<(f64, f64)> = (0..g_len)
        .map(|g| {
            (
                if dof[g] > 0.0 {
                    ss[g] / dof[g]
                } else {
                    f64::NAN
                },
                dof[g],
            )
        })
        .collect();
    let noise_all = {
        let (s, d) = (ss.iter().sum::<f64>(), dof.iter().sum::<f64>());
        (if d > 0.0 { s / d } else { f64::NAN }, d)
    };
    // year-over-year changes of the partner level (complete 12-month blocks)
    let mut per: Vec<Vec<(f64, f64)>> = vec![Vec::new(); g_len]; // (S_i, m_i)
    for i in 0..n {
        let g = p.seg[i];
        let se2 = noise[g].0;
        let (mut s, mut m) = (0.0, 0.0);
        for b in 0..complete.saturating_sub(1) {
            let (k0, k1) = (counts[i * blocks + b], counts[i * blocks + b + 1]);
            if k0 == 0 || k1 == 0 {
                continue;
            }
            let d = means[i * blocks + b + 1] - means[i * blocks + b];
            s += d * d - se2 * (1.0 / k0 as f64 + 1.0 / k1 as f64);
            m += 1.0;
        }
        if m > 0.0 {
            per[g].push((s, m));
        }
    }
    let pool = |rows: &[(f64, f64)]| -> (f64, f64, f64) {
        let sm: f64 = rows.iter().map(|r| r.1).sum();
        if sm == 0.0 {
            return (f64::NAN, f64::NAN, 0.0);
        }
        let v = rows.iter().map(|r| r.0).sum::<f64>() / sm;
        let var = rows.iter().map(|r| (r.0 - v * r.1).powi(2)).sum::<f64>() / (sm * sm);
        (v, var.sqrt(), sm)
    };
    let partner: Vec<(f64, f64, f64)> = per.iter().map(|r| pool(r)).collect();
    let all: Vec<(f64, f64)> = per.concat();
    PartnerComponents {
        noise,
        partner,
        noise_all,
        partner_all: pool(&all),
    }
}

/// The design of a monthly series: 12 calendar-month dummies and a linear trend in years
/// (centred on the middle of the history), rows for the months `rows`.
pub(crate) fn design(p: &Panel, rows: &[usize]) -> Mat {
    let mid = (p.months as f64 - 1.0) / 2.0;
    let mut x = Mat::zeros(rows.len(), 13);
    for (r, &t) in rows.iter().enumerate() {
        x.set(r, p.cal(t), 1.0);
        x.set(r, 12, (t as f64 - mid) / 12.0);
    }
    x
}

/// OLS of `y` on `x`: coefficients, `(XᵀX)⁻¹`, residuals. `None` when `XᵀX` is singular.
pub(crate) fn ols(x: &Mat, y: &[f64]) -> Option<(Vec<f64>, Mat, Vec<f64>)> {
    let xtx = x.t().mul(x);
    let l = cholesky(&xtx)?;
    let beta = chol_solve(&l, &x.tv(y));
    let fit = x.mv(&beta);
    let res = y.iter().zip(&fit).map(|(a, b)| a - b).collect();
    Some((beta, chol_inverse(&l), res))
}

/// The sandwich covariance `(XᵀX)⁻¹ Xᵀ Σ X (XᵀX)⁻¹` of OLS coefficients under error
/// covariance `sigma`.
pub(crate) fn sandwich(x: &Mat, xtx_inv: &Mat, sigma: &Mat) -> Mat {
    let h = xtx_inv.mul(&x.t()); // p × n
    h.mul(sigma).mul(&h.t())
}

/// The contrast vector of the centred log seasonal effect of calendar month `c`.
pub(crate) fn season_contrast(c: usize) -> Vec<f64> {
    let mut v = vec![-1.0 / 12.0; 13];
    v[c] += 1.0;
    v[12] = 0.0;
    v
}

pub(crate) fn quad(a: &[f64], m: &Mat) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        for j in 0..a.len() {
            s += a[i] * m.at(i, j) * a[j];
        }
    }
    s
}

/// Restricted log-likelihood of a stationary AR(1) error with marginal variance σ²(ρ)
/// profiled out, for regression `y = Xβ + x`: returns (ℓ_R, σ²).
fn reml_at(x: &Mat, y: &[f64], rho: f64) -> Option<(f64, f64)> {
    let (n, p) = (x.r, x.c);
    let s = (1.0 - rho * rho).sqrt();
    let mut xt = Mat::zeros(n, p);
    let mut yt = vec![0.0; n];
    for t in 0..n {
        for j in 0..p {
            let v = if t == 0 {
                s * x.at(0, j)
            } else {
                x.at(t, j) - rho * x.at(t - 1, j)
            };
            xt.set(t, j, v);
        }
        yt[t] = if t == 0 {
            s * y[0]
        } else {
            y[t] - rho * y[t - 1]
        };
    }
    let xtx = xt.t().mul(&xt);
    let l = cholesky(&xtx)?;
    let beta = chol_solve(&l, &xt.tv(&yt));
    let fit = xt.mv(&beta);
    let rss: f64 = yt.iter().zip(&fit).map(|(a, b)| (a - b) * (a - b)).sum();
    let one = 1.0 - rho * rho;
    let df = (n - p) as f64;
    let sigma2 = rss / (one * df);
    if !(sigma2 > 0.0) {
        return None;
    }
    let ll = -0.5
        * (df * sigma2.ln() + (n as f64 - 1.0) * one.ln() + chol_logdet(&l) - p as f64 * one.ln());
    Some((ll, sigma2))
}

/// REML estimate of a stationary AR(1) error (ρ in [0, 0.98]): (σ², ρ).
pub(crate) fn reml_ar1(x: &Mat, y: &[f64]) -> (f64, f64) {
    let f = |r: f64| reml_at(x, y, r).map(|v| v.0).unwrap_or(f64::NEG_INFINITY);
    let grid: Vec<f64> = (0..=49).map(|k| k as f64 * 0.02).collect();
    let mut best = 0;
    let mut vals = Vec::with_capacity(grid.len());
    for (k, &r) in grid.iter().enumerate() {
        vals.push(f(r));
        if vals[k] > vals[best] {
            best = k;
        }
    }
    if vals[best] == f64::NEG_INFINITY {
        // no variation left after the regressors (e.g. noiseless data)
        return (0.0, 0.0);
    }
    let lo = grid[best.saturating_sub(1)];
    let hi = grid[(best + 1).min(grid.len() - 1)];
    let rho = golden_max(&f, lo, hi, 40);
    let rho = if f(rho) >= vals[best] {
        rho
    } else {
        grid[best]
    };
    let sigma2 = reml_at(x, y, rho).map(|v| v.1).unwrap_or(f64::NAN);
    (sigma2, rho)
}

/// Maximise a unimodal `f` on `[lo, hi]` by golden-section search.
pub(crate) fn golden_max(f: &dyn Fn(f64) -> f64, mut lo: f64, mut hi: f64, iters: usize) -> f64 {
    let g = 0.618_033_988_749_894_9;
    let mut x1 = hi - g * (hi - lo);
    let mut x2 = lo + g * (hi - lo);
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..iters {
        if f1 < f2 {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + g * (hi - lo);
            f2 = f(x2);
        } else {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - g * (hi - lo);
            f1 = f(x1);
        }
    }
    let best = if f1 > f2 { x1 } else { x2 };
    let ends = [(lo, f(lo)), (hi, f(hi))];
    let fb = f(best);
    ends.iter()
        .fold(
            (best, fb),
            |acc, &(x, v)| if v > acc.1 { (x, v) } else { acc },
        )
        .0
}

/// Sufficient statistics of the purchase-incidence and churn likelihood of a segment.
#[derive(Debug, Clone, Default)]
pub(crate) struct IncidenceStats {
    /// Buying months counted (after the first purchase for late entrants).
    pub buys: f64,
    /// Non-buying months up to each partner's last purchase.
    pub skips: f64,
    /// Months each partner is known to be alive (Σ over partners).
    pub alive: f64,
    /// Partners by months after their last purchase (`hist[n]`, n = T − 1 − last).
    pub hist: Vec<f64>,
    /// Partners present from the start (their likelihood is conditioned on one purchase).
    pub from_start: f64,
    /// Late entrants (first purchase after the first `k` months).
    pub entrants: f64,
}

impl IncidenceStats {
    pub fn new(t_len: usize) -> Self {
        IncidenceStats {
            hist: vec![0.0; t_len + 1],
            ..Default::default()
        }
    }

    /// Add a partner with `buys` buying months, first and last purchase months.
    pub fn add(&mut self, t_len: usize, k: usize, buys: usize, first: usize, last: usize) {
        if first >= k {
            self.entrants += 1.0;
            self.buys += (buys - 1) as f64;
            self.skips += ((last - first) - (buys - 1)) as f64;
            self.alive += (last - first) as f64;
        } else {
            self.from_start += 1.0;
            self.buys += buys as f64;
            self.skips += (last + 1 - buys) as f64;
            self.alive += (last + 1) as f64;
        }
        self.hist[t_len - 1 - last] += 1.0;
    }

    pub fn merge(&mut self, o: &IncidenceStats) {
        self.buys += o.buys;
        self.skips += o.skips;
        self.alive += o.alive;
        self.from_start += o.from_start;
        self.entrants += o.entrants;
        for (a, b) in self.hist.iter_mut().zip(&o.hist) {
            *a += b;
        }
    }

    /// Log-likelihood at incidence `pi` and monthly churn hazard `h`.
    pub fn ll(&self, pi: f64, h: f64) -> f64 {
        let t_len = self.hist.len() - 1;
        let a = (1.0 - h) * (1.0 - pi);
        let q = |n: usize| -> f64 {
            let an = a.powi(n as i32);
            if h == 0.0 {
                an
            } else {
                h * (1.0 - an) / (1.0 - a) + an
            }
        };
        let mut ll = self.buys * pi.ln() + self.alive * (1.0 - h).ln();
        if self.skips > 0.0 {
            ll += self.skips * (1.0 - pi).ln();
        }
        for (n, &c) in self.hist.iter().enumerate() {
            if c > 0.0 {
                ll += c * q(n).ln();
            }
        }
        if self.from_start > 0.0 {
            ll -= self.from_start * (1.0 - q(t_len)).ln();
        }
        ll
    }

    fn best_pi(&self, h: f64) -> (f64, f64) {
        let f = |u: f64| self.ll(logistic(u), h);
        let u = golden_max(&f, -14.0, 14.0, 70);
        (logistic(u), f(u))
    }

    fn best_h(&self, pi: f64) -> (f64, f64) {
        let f = |u: f64| self.ll(pi, h_of(u));
        let u = golden_max(&f, -18.0, 0.0, 70);
        (h_of(u), f(u))
    }

    /// Maximum-likelihood (π, h) with 90% profile-likelihood intervals.
    pub fn fit(&self) -> IncidenceFit {
        let prof_h = |u: f64| self.best_pi(h_of(u)).1;
        let u = golden_max(&prof_h, -18.0, 0.0, 70);
        let mut h = h_of(u);
        if h < 1e-7 {
            h = 0.0;
        }
        let (pi, ll) = self.best_pi(h);
        let crit = 0.5 * super::linalg::Z95 * super::linalg::Z95; // 2Δℓ = 2.706
        let pi_lo = bisect_profile(|x| ll - self.best_h(x).1 - crit, pi, 1e-9);
        let pi_hi = bisect_profile(|x| ll - self.best_h(x).1 - crit, pi, 1.0 - 1e-12);
        let h_lo = if h == 0.0 {
            0.0
        } else {
            bisect_profile(|x| ll - self.best_pi(x).1 - crit, h, 0.0)
        };
        let h_hi = bisect_profile(|x| ll - self.best_pi(x).1 - crit, h, 0.5);
        IncidenceFit {
            pi,
            h,
            pi_ci: (pi_lo, pi_hi),
            h_ci: (h_lo, h_hi),
        }
    }
}

fn logistic(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

/// Hazard from its search coordinate: `0.5 · logistic(u)`-like map onto (0, 0.5].
fn h_of(u: f64) -> f64 {
    0.5 * u.exp().min(1.0)
}

/// Where `g` (≤ 0 at the estimate `est`, positive far from it) crosses 0 between `est` and
/// `far`; `far` itself when the interval reaches the end of the range.
fn bisect_profile(g: impl Fn(f64) -> f64, est: f64, far: f64) -> f64 {
    if !(g(far) > 0.0) {
        return far;
    }
    let (mut inside, mut outside) = (est, far);
    for _ in 0..60 {
        let mid = 0.5 * (inside + outside);
        if g(mid) > 0.0 {
            outside = mid;
        } else {
            inside = mid;
        }
    }
    0.5 * (inside + outside)
}

/// The result of [`IncidenceStats::fit`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct IncidenceFit {
    pub pi: f64,
    pub h: f64,
    pub pi_ci: (f64, f64),
    pub h_ci: (f64, f64),
}

/// λ of `max(1, Poisson(λ))` whose mean is `m` (≥ 1): λ + e^(−λ) = m.
pub(crate) fn poisson_floor1_lambda(m: f64) -> f64 {
    if !(m > 1.0) {
        return 0.0;
    }
    let mut l = m;
    for _ in 0..100 {
        let f = l + (-l).exp() - m;
        let d = 1.0 - (-l).exp();
        let step = f / d.max(1e-12);
        l = (l - step).max(1e-9);
        if step.abs() < 1e-14 {
            break;
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_floor_inverse() {
        for lam in [0.3f64, 1.0, 2.5, 4.0, 12.0] {
            let m: f64 = lam + (-lam).exp();
            assert!((poisson_floor1_lambda(m) - lam).abs() < 1e-9, "{lam}");
        }
        assert_eq!(poisson_floor1_lambda(1.0), 0.0);
    }

    #[test]
    fn incidence_without_churn_is_the_buying_share() {
        // 3 partners over 20 months, each buying in the last month: no churn information except
        // that they stayed; π̂ = buys / months.
        let mut s = IncidenceStats::new(20);
        s.add(20, 6, 15, 0, 19);
        s.add(20, 6, 10, 2, 19);
        s.add(20, 6, 20, 0, 19);
        let f = s.fit();
        assert!(f.h < 1e-6, "{f:?}");
        assert!((f.pi - 45.0 / 60.0).abs() < 1e-4, "{f:?}");
        assert!(f.pi_ci.0 < f.pi && f.pi < f.pi_ci.1);
    }

    #[test]
    fn ar1_reml_finds_a_strong_correlation() {
        use rand::SeedableRng;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let n = 400;
        let mut x = Mat::zeros(n, 1);
        let mut y = vec![0.0; n];
        let mut v: f64 = crate::rng::normal(&mut rng) * 0.2;
        for t in 0..n {
            x.set(t, 0, 1.0);
            if t > 0 {
                v = 0.7 * v + 0.2 * (1.0f64 - 0.49).sqrt() * crate::rng::normal(&mut rng);
            }
            y[t] = 5.0 + v;
        }
        let (s2, rho) = reml_ar1(&x, &y);
        assert!((rho - 0.7).abs() < 0.1, "{rho}");
        assert!((s2.sqrt() - 0.2).abs() < 0.04, "{s2}");
    }
}
