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

/// Chi-square quantile with `nu` degrees of freedom at the normal quantile `z` (Wilson–Hilferty).
pub(crate) fn chi2_quantile(nu: f64, z: f64) -> f64 {
    let a = 2.0 / (9.0 * nu);
    (nu * (1.0 - a + z * a.sqrt()).powi(3)).max(1e-12)
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
        assert!(cholesky(&Mat { r: 1, c: 1, d: vec![-1.0] }).is_none());
    }

    #[test]
    fn quantiles() {
        // t(0.95; 10) = 1.812461, t(0.95; 30) = 1.697261
        assert!((t95(10.0) - 1.812_461).abs() < 2e-3);
        assert!((t95(30.0) - 1.697_261).abs() < 5e-4);
        // chi2(0.95; 10) = 18.307, chi2(0.05; 10) = 3.940
        assert!((chi2_quantile(10.0, Z95) - 18.307).abs() < 0.05);
        assert!((chi2_quantile(10.0, -Z95) - 3.940).abs() < 0.05);
    }
}
