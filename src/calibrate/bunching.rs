//! The notch estimator of bunching at tier thresholds (`docs/calibration.md`, "Behaviour"):
//! a histogram of `z = volume / threshold − 1`, a polynomial counterfactual density fitted to
//! the bins outside an excluded window `[−below, above)` around the threshold, the mass missing
//! just below the threshold and the excess mass just above it.

use super::linalg::{chol_solve, cholesky, Mat};
use rand::SeedableRng;

/// A histogram of `z` on `[−range, range)` in bins of `width` (bin edges at multiples of
/// `width`, so 0 is an edge).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    pub width: f64,
    pub range: f64,
    pub counts: Vec<f64>,
}

impl Histogram {
    /// Count the `z` inside `[−range, range)`. A `z` on a bin edge (a volume exactly at a
    /// threshold, `z = 0`) goes to the bin above it: the index is `⌊z/width + 10⁻⁹⌋` counted
    /// from the bin of 0, not `⌊(z + range)/width⌋`, whose rounding (`0.29/0.01 =
    /// 28.999…`) put `z = 0` in the bin below — every stretcher the engine tops up exactly to a
    /// threshold counted as missing mass (session 30).
    pub fn new(z: &[f64], width: f64, range: f64) -> Histogram {
        let half = (range / width).round() as i64;
        let bins = (2 * half) as usize;
        let mut counts = vec![0.0; bins];
        for &v in z {
            if v >= -range && v < range {
                let j = ((v / width + 1e-9).floor() as i64 + half).clamp(0, bins as i64 - 1);
                counts[j as usize] += 1.0;
            }
        }
        Histogram {
            width,
            range,
            counts,
        }
    }

    /// Left edge of bin `j`.
    pub fn left(&self, j: usize) -> f64 {
        -self.range + j as f64 * self.width
    }

    /// Centre of bin `j`.
    pub fn centre(&self, j: usize) -> f64 {
        self.left(j) + 0.5 * self.width
    }
}

/// Where a bin lies relative to the excluded window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// Outside the window: the counterfactual is fitted here.
    Outside,
    /// In `[−below, 0)`: mass missing when partners stretched over the threshold.
    Below,
    /// In `[0, above)`: the bunching mass.
    Above,
}

fn zone(h: &Histogram, j: usize, below: f64, above: f64) -> Zone {
    let eps = 1e-9 * h.width;
    let (lo, hi) = (h.left(j), h.left(j) + h.width);
    if lo >= -below - eps && hi <= eps {
        Zone::Below
    } else if lo >= -eps && hi <= above + eps {
        Zone::Above
    } else {
        Zone::Outside
    }
}

/// The notch fit at one excluded window and polynomial degree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NotchFit {
    /// The counterfactual count of each bin.
    pub fitted: Vec<f64>,
    /// Observed minus counterfactual over `[0, above)`.
    pub excess: f64,
    /// Counterfactual minus observed over `[−below, 0)`.
    pub missing: f64,
    /// Counterfactual mass in `[−below, 0)`.
    pub below_mass: f64,
    /// `missing / below_mass`: the share of partner-periods in the window below the
    /// threshold that moved over it (the stretch probability in the window).
    pub share: f64,
    /// `excess` over the counterfactual count per bin in `[0, above)` (the normalised bunching
    /// of the literature).
    pub normalised: f64,
}

/// Fit the counterfactual (a polynomial of `degree` in `z / range`, least squares on the bins
/// outside `[−below, above)`) and measure the missing and excess mass. `None` when the
/// polynomial cannot be fitted (too few bins outside the window) or the window holds no
/// counterfactual mass.
pub(crate) fn notch(h: &Histogram, below: f64, above: f64, degree: usize) -> Option<NotchFit> {
    let k = degree + 1;
    let zones: Vec<Zone> = (0..h.counts.len())
        .map(|j| zone(h, j, below, above))
        .collect();
    let outside: Vec<usize> = (0..h.counts.len())
        .filter(|&j| zones[j] == Zone::Outside)
        .collect();
    if outside.len() < k + 2 {
        return None;
    }
    let row = |j: usize| -> Vec<f64> {
        let x = h.centre(j) / h.range;
        (0..k).map(|d| x.powi(d as i32)).collect()
    };
    let mut xtx = Mat::zeros(k, k);
    let mut xty = vec![0.0; k];
    for &j in &outside {
        let r = row(j);
        for a in 0..k {
            xty[a] += r[a] * h.counts[j];
            for b in 0..k {
                xtx.set(a, b, xtx.at(a, b) + r[a] * r[b]);
            }
        }
    }
    let l = cholesky(&xtx)?;
    let beta = chol_solve(&l, &xty);
    let fitted: Vec<f64> = (0..h.counts.len())
        .map(|j| {
            row(j)
                .iter()
                .zip(&beta)
                .map(|(x, b)| x * b)
                .sum::<f64>()
                .max(0.0)
        })
        .collect();
    let (mut excess, mut missing, mut below_mass, mut above_mass, mut above_bins) =
        (0.0, 0.0, 0.0, 0.0, 0usize);
    for j in 0..h.counts.len() {
        match zones[j] {
            Zone::Below => {
                missing += fitted[j] - h.counts[j];
                below_mass += fitted[j];
            }
            Zone::Above => {
                excess += h.counts[j] - fitted[j];
                above_mass += fitted[j];
                above_bins += 1;
            }
            Zone::Outside => {}
        }
    }
    if !(below_mass > 0.0) || above_bins == 0 || !(above_mass > 0.0) {
        return None;
    }
    Some(NotchFit {
        fitted,
        excess,
        missing,
        below_mass,
        share: missing / below_mass,
        normalised: excess / (above_mass / above_bins as f64),
    })
}

/// Standard errors of the notch fit's `share` and `normalised` by a Poisson bootstrap of the
/// bin counts (each count redrawn as Poisson(count), the fit repeated), `reps` replications
/// from `seed`.
pub(crate) fn notch_se(
    h: &Histogram,
    below: f64,
    above: f64,
    degree: usize,
    reps: usize,
    seed: u64,
) -> (f64, f64) {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::rng::splitmix64(
        seed ^ 0x4255_4e43_4849_4e47,
    ));
    let (mut s, mut n) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    for _ in 0..reps {
        let counts = h
            .counts
            .iter()
            .map(|&c| crate::rng::poisson(&mut rng, c) as f64)
            .collect::<Vec<_>>();
        let hb = Histogram {
            counts,
            ..h.clone()
        };
        if let Some(f) = notch(&hb, below, above, degree) {
            s.push(f.share);
            n.push(f.normalised);
        }
    }
    (sd(&s), sd(&n))
}

/// Standard deviation (NaN under two values).
pub(crate) fn sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return f64::NAN;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat density with 30% of the mass of `[−0.1, 0)` moved to `[0, 0.02)`.
    fn moved() -> Histogram {
        let mut h = Histogram {
            width: 0.01,
            range: 0.5,
            counts: vec![1000.0; 100],
        };
        for j in 40..50 {
            h.counts[j] -= 300.0;
        }
        h.counts[50] += 1500.0;
        h.counts[51] += 1500.0;
        h
    }

    #[test]
    fn histogram_bins_have_zero_as_an_edge() {
        let h = Histogram::new(&[-0.5, -0.001, 0.0, 0.0049, 0.499, 0.5, -0.6], 0.01, 0.5);
        assert_eq!(h.counts.len(), 100);
        assert_eq!(h.counts[0], 1.0);
        assert_eq!(h.counts[49], 1.0);
        assert_eq!(h.counts[50], 2.0);
        assert_eq!(h.counts[99], 1.0);
        assert_eq!(h.counts.iter().sum::<f64>(), 5.0);
    }

    #[test]
    fn a_z_on_a_bin_edge_goes_to_the_bin_above_whatever_the_range() {
        // (0 + 0.29) / 0.01 = 28.999999999999996: z = 0 belongs to bin 29, [0, 0.01)
        let h = Histogram::new(&[0.0, -0.1, -0.29, 0.28, -1e-6], 0.01, 0.29);
        assert_eq!(h.counts.len(), 58);
        assert_eq!(h.counts[29], 1.0);
        assert_eq!(h.counts[19], 1.0);
        assert_eq!(h.counts[0], 1.0);
        assert_eq!(h.counts[57], 1.0);
        assert_eq!(h.counts[28], 1.0);
    }

    #[test]
    fn notch_recovers_the_moved_share_of_a_flat_density() {
        let h = moved();
        for degree in [0, 1, 3, 5] {
            let f = notch(&h, 0.1, 0.02, degree).unwrap();
            assert!((f.share - 0.3).abs() < 1e-9, "degree {degree}: {}", f.share);
            assert!((f.missing - 3000.0).abs() < 1e-6);
            assert!((f.excess - 3000.0).abs() < 1e-6);
            assert!((f.normalised - 3.0).abs() < 1e-9);
        }
    }

    #[test]
    fn notch_fits_a_polynomial_density_exactly() {
        // counts on a quadratic, nothing moved: no bunching at any degree ≥ 2
        let mut h = moved();
        for j in 0..100 {
            let x = h.centre(j) / 0.5;
            h.counts[j] = 800.0 - 300.0 * x + 200.0 * x * x;
        }
        let f = notch(&h, 0.1, 0.02, 2).unwrap();
        assert!(f.share.abs() < 1e-9 && f.excess.abs() < 1e-6);
    }

    #[test]
    fn bootstrap_se_is_near_the_poisson_value() {
        let h = moved();
        let (se, _) = notch_se(&h, 0.1, 0.02, 1, 400, 7);
        // missing = fitted − counts over 10 bins of ~700 (Poisson variance 7,000) plus the
        // fit's own error: se(share) ≈ sqrt(7000)/10000 ≈ 0.008 and more
        assert!(se > 0.006 && se < 0.03, "{se}");
        assert_eq!(
            notch_se(&h, 0.1, 0.02, 1, 50, 7),
            notch_se(&h, 0.1, 0.02, 1, 50, 7)
        );
    }

    #[test]
    fn too_few_bins_outside_the_window_give_none() {
        let h = Histogram {
            width: 0.1,
            range: 0.2,
            counts: vec![1.0; 4],
        };
        assert!(notch(&h, 0.1, 0.1, 3).is_none());
    }
}
