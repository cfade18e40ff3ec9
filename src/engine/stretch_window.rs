//! A stretch purchase's re-measures of a period over its window months only.
//!
//! A stretch purchase ([`Setup::buy_stretch`]) adds to the last `window_months` months of the
//! period just measured, and each attempt re-measures the period. The months before the window
//! do not change, so the period's sums over them are kept when the period is first purchased
//! ([`Setup::lean_months`] stores them in [`StretchSnap`] before the first window month), and
//! each attempt restores them and adds the window months' lines: the same additions in the
//! same order as purchasing the whole period again, so the same bits.

use super::setup::Setup;
use super::work::Work;

/// The period's per-category sums (`agg`, `aggq`) and line count before month `at` of period
/// `k` (`k = usize::MAX`: nothing kept, or kept for another period).
#[derive(Debug)]
pub(crate) struct StretchSnap {
    /// The month of the period before which the sums are kept (`usize::MAX`: none).
    pub(crate) at: usize,
    k: usize,
    agg: Vec<f64>,
    aggq: Vec<f64>,
    count: usize,
}

impl Default for StretchSnap {
    fn default() -> Self {
        StretchSnap {
            at: usize::MAX,
            k: usize::MAX,
            agg: Vec::new(),
            aggq: Vec::new(),
            count: 0,
        }
    }
}

impl StretchSnap {
    /// Room for sums of `len` values (the work's `agg` and `aggq`).
    pub(crate) fn new(len: usize) -> Self {
        StretchSnap {
            agg: vec![0.0; len],
            aggq: vec![0.0; len],
            ..Default::default()
        }
    }

    /// Keep period `k`'s sums so far.
    #[inline]
    pub(crate) fn keep(&mut self, k: usize, agg: &[f64], aggq: &[f64], count: usize) {
        self.agg.copy_from_slice(agg);
        self.aggq.copy_from_slice(aggq);
        self.count = count;
        self.k = k;
    }
}

impl Setup<'_> {
    /// Before period `k` of a run with stretch purchases: keep its sums before the stretch
    /// window (when the window is not the whole period), forgetting any kept before.
    #[inline]
    pub(crate) fn stretch_window_before(&self, w: &mut Work, stretch: bool) {
        let win = (self.stretch.window_months as usize).min(self.months_per_period);
        w.stretch_snap.k = usize::MAX;
        w.stretch_snap.at = if stretch && win < self.months_per_period {
            self.months_per_period - win
        } else {
            usize::MAX
        };
    }

    /// After a run: keep nothing in the periods of later runs.
    #[inline]
    pub(crate) fn stretch_window_after(&self, w: &mut Work) {
        w.stretch_snap.at = usize::MAX;
        w.stretch_snap.k = usize::MAX;
    }

    /// [`Setup::period`] `k` again after a stretch purchase in its window months: from the kept
    /// sums when period `k`'s were kept, else the whole period.
    pub(crate) fn period_again(&self, i: usize, k: usize, from: usize, w: &mut Work) {
        if w.stretch_snap.k != k {
            return self.period(i, k, from, w);
        }
        let (at, mpp) = (w.stretch_snap.at, self.months_per_period);
        w.lines.truncate(from);
        w.agg.copy_from_slice(&w.stretch_snap.agg);
        w.aggq.copy_from_slice(&w.stretch_snap.aggq);
        if self.needs_orders {
            let groups = self.group_count;
            w.group_c[at * groups..mpp * groups].fill(0.0);
            w.group_q[at * groups..mpp * groups].fill(0.0);
        }
        // the window's months without keeping anything (the kept sums stay the period's)
        w.stretch_snap.at = usize::MAX;
        let n = self.lean_months(i, k, at..mpp, w);
        w.stretch_snap.at = at;
        w.period_lines = if self.needs_orders {
            w.stretch_snap.count + n
        } else {
            0
        };
        self.measure_period(i, k, from, w);
        if w.actual_on {
            self.add_actual_measures(k, w);
        }
    }
}
