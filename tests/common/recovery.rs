//! A parameter-recovery study's tally (the calibration's and the behaviour's recovery tables):
//! per parameter, the estimates' bias against the truth, its spread, the mean reported standard
//! error and how often the 90% interval covers the truth, as the rows of docs/calibration.md §6.

use rebatesim::calibrate::Calibration;

/// Sums over the replications for each target `(parameter, truth)`.
pub struct Recovery<N: AsRef<str>> {
    targets: Vec<(N, f64)>,
    // Σ (est − truth), Σ (est − truth)², covered, Σ se, Σ est
    acc: Vec<(f64, f64, usize, f64, f64)>,
    n: usize,
}

impl<N: AsRef<str>> Recovery<N> {
    /// An empty tally of `targets`.
    pub fn new(targets: Vec<(N, f64)>) -> Self {
        let acc = vec![(0.0, 0.0, 0, 0.0, 0.0); targets.len()];
        Recovery { targets, acc, n: 0 }
    }

    /// One replication's calibration (every target must be estimated).
    pub fn add(&mut self, c: &Calibration) {
        for ((name, want), a) in self.targets.iter().zip(self.acc.iter_mut()) {
            let e = c.estimate(name.as_ref()).unwrap();
            let d = e.value - want;
            a.0 += d;
            a.1 += d * d;
            a.2 += usize::from(e.lo90 <= *want && *want <= e.hi90);
            a.3 += e.se;
            a.4 += e.value;
        }
        self.n += 1;
    }

    /// One Markdown row a target: `` | `name` | truth | mean | bias | bias/SE | sd | mean SE |
    /// coverage | `` (after `prefix`, e.g. `"| world "`).
    pub fn rows(&self, prefix: &str) -> Vec<String> {
        let s = self.n as f64;
        self.targets
            .iter()
            .zip(&self.acc)
            .map(|((name, want), &(sd, sd2, cov, se, sv))| {
                let bias = sd / s;
                let sdev = ((sd2 / s - bias * bias) * s / (s - 1.0)).max(0.0).sqrt();
                format!(
                    "{prefix}| `{}` | {want:.4} | {:.4} | {bias:+.4} | {:+.1} | {sdev:.4} | {:.4} | {:.0}% |",
                    name.as_ref(),
                    sv / s,
                    bias / (sdev / s.sqrt()),
                    se / s,
                    100.0 * cov as f64 / s
                )
            })
            .collect()
    }
}
