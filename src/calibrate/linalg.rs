//! Small dense matrices (a few dozen rows: months × regressors) for the calibration's
//! regressions, and the quantiles its intervals need.

/// A row-major dense matrix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mat {
    pub r: usize,
    pub c: usize,
    pub d: Vec<f64>,
}

impl Mat {
    pub fn zeros(r: usize, c: usize) -> Mat {
        Mat {
            r,
            c,
            d: vec![0.0; r * c],
        }
    }

    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.d[i * self.c + j]
    }

    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.d[i * self.c + j] = v;
    }

    /// `self · other`.
    pub fn mul(&self, o: &Mat) -> Mat {
        assert_eq!(self.c, o.r);
        let mut out = Mat::zeros(self.r, o.c);
        for i in 0..self.r {
            for k in 0..self.c {
                let a = self.at(i, k);
                if a == 0.0 {
                    continue;
                }
                for j in 0..o.c {
                    out.d[i * o.c + j] += a * o.d[k * o.c + j];
                }
            }
        }
        out
    }

    /// `selfᵀ`.
    pub fn t(&self) -> Mat {
        let mut out = Mat::zeros(self.c, self.r);
        for i in 0..self.r {
            for j in 0..self.c {
                out.set(j, i, self.at(i, j));
            }
        }
        out
    }

    /// `selfᵀ · v`.
    pub fn tv(&self, v: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.c];
        for i in 0..self.r {
            for j in 0..self.c {
                out[j] += self.at(i, j) * v[i];
            }
        }
        out
    }

    /// `self · v`.
    pub fn mv(&self, v: &[f64]) -> Vec<f64> {
        (0..self.r)
            .map(|i| (0..self.c).map(|j| self.at(i, j) * v[j]).sum())
            .collect()
    }

    pub fn trace(&self) -> f64 {
        (0..self.r.min(self.c)).map(|i| self.at(i, i)).sum()
    }
}

/// Cholesky factor `L` (lower) of a symmetric positive definite matrix, `None` if it is not.
pub(crate) fn cholesky(a: &Mat) -> Option<Mat> {
    let n = a.r;
    let mut l = Mat::zeros(n, n);
    for i in 0..n {
        for j in 0..=i {
            let mut s = a.at(i, j);
            for k in 0..j {
                s -= l.at(i, k) * l.at(j, k);
            }
            if i == j {
                if !(s > 1e-300) || !s.is_finite() {
                    return None;
                }
                l.set(i, i, s.sqrt());
            } else {
                l.set(i, j, s / l.at(j, j));
            }
        }
    }
    Some(l)
}

/// Solve `L Lᵀ x = b`.
pub(crate) fn chol_solve(l: &Mat, b: &[f64]) -> Vec<f64> {
    let n = l.r;
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= l.at(i, k) * y[k];
        }
        y[i] /= l.at(i, i);
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= l.at(k, i) * y[k];
        }
        y[i] /= l.at(i, i);
    }
    y
}

/// The inverse from the Cholesky factor.
pub(crate) fn chol_inverse(l: &Mat) -> Mat {
    let n = l.r;
    let mut out = Mat::zeros(n, n);
    let mut e = vec![0.0; n];
    for j in 0..n {
        e.iter_mut().for_each(|x| *x = 0.0);
        e[j] = 1.0;
        let col = chol_solve(l, &e);
        for i in 0..n {
            out.set(i, j, col[i]);
        }
    }
    out
}

/// `ln det` from the Cholesky factor.
pub(crate) fn chol_logdet(l: &Mat) -> f64 {
    2.0 * (0..l.r).map(|i| l.at(i, i).ln()).sum::<f64>()
}

/// Standard normal quantile at 0.95.
pub(crate) const Z95: f64 = 1.644_853_626_951_472_2;

/// Student t quantile at 0.95 with `nu` degrees of freedom (Cornish–Fisher expansion; within
/// 0.3% of the exact value from 3 degrees of freedom on).
pub(crate) fn t95(nu: f64) -> f64 {
    if !nu.is_finite() || nu > 1e6 {
        return Z95;
    }
    let z = Z95;
    let nu = nu.max(1.0);
    z + (z.powi(3) + z) / (4.0 * nu)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * nu * nu)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * nu.powi(3))
}

/// `ln Γ(x)` for x > 0 (Lanczos, g = 7, 9 terms; relative error below 10⁻¹³).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised lower incomplete gamma function P(a, x) (series below a + 1, continued
/// fraction above).
fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let lead = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (sum.ln() + lead).exp()
    } else {
        // Lentz's continued fraction for Q(a, x)
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        1.0 - (lead.exp() * h)
    }
}

/// The chi-square quantile with `nu` (> 0, not necessarily whole) degrees of freedom at
/// probability `p` (bisection on the distribution function).
pub(crate) fn chi2_quantile(nu: f64, p: f64) -> f64 {
    let cdf = |x: f64| gamma_p(nu / 2.0, x / 2.0);
    let (mut lo, mut hi) = (0.0, nu.max(1.0));
    while cdf(hi) < p {
        hi *= 2.0;
        if hi > 1e12 {
            break;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi.max(1e-300) {
            break;
        }
    }
    (0.5 * (lo + hi)).max(1e-300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_and_inverts() {
        let a = Mat {
            r: 3,
            c: 3,
            d: vec![4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0],
        };
        let l = cholesky(&a).unwrap();
        let x = chol_solve(&l, &[1.0, 2.0, 3.0]);
        let back = a.mv(&x);
        for (b, w) in back.iter().zip([1.0, 2.0, 3.0]) {
            assert!((b - w).abs() < 1e-12);
        }
        let inv = chol_inverse(&l);
        let id = a.mul(&inv);
        for i in 0..3 {
            for j in 0..3 {
                assert!((id.at(i, j) - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        // det = 4(15-1) - 2(6-0.6) + 0.6(2-3) = 56 - 10.8 - 0.6 = 44.6
        assert!((chol_logdet(&l) - 44.6f64.ln()).abs() < 1e-12);
        assert!(cholesky(&Mat {
            r: 1,
            c: 1,
            d: vec![-1.0]
        })
        .is_none());
    }

    #[test]
    fn quantiles() {
        // t(0.95; 10) = 1.812461, t(0.95; 30) = 1.697261
        assert!((t95(10.0) - 1.812_461).abs() < 2e-3);
        assert!((t95(30.0) - 1.697_261).abs() < 5e-4);
        // chi2(0.95; 10) = 18.307038, chi2(0.05; 10) = 3.940299; with 2 degrees of freedom
        // the quantile is −2 ln(1 − p) exactly; chi2(0.05; 0.5) = 0.0000601 (tables)
        assert!((chi2_quantile(10.0, 0.95) - 18.307_038).abs() < 1e-5);
        assert!((chi2_quantile(10.0, 0.05) - 3.940_299).abs() < 1e-5);
        for p in [0.05, 0.5, 0.95] {
            let want = -2.0 * (1.0f64 - p).ln();
            assert!((chi2_quantile(2.0, p) - want).abs() < 1e-9, "{p}");
        }
        assert!((chi2_quantile(30000.0, 0.95) - 30404.08).abs() < 0.1);
    }
}
