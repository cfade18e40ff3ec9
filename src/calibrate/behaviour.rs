//! What the behaviour stage reports when a past programme is given: the bunching histogram
//! around its tier thresholds with the counterfactual, the stretch and pull-forward estimates
//! and their sensitivity to the excluded window and the polynomial degree.

/// One row of the sensitivity table: the stretch share at another window and degree.
#[derive(Debug, Clone, PartialEq)]
pub struct BunchingRow {
    /// Excluded window below the threshold (fraction of the threshold).
    pub below: f64,
    /// Excluded window above the threshold.
    pub above: f64,
    /// Degree of the counterfactual polynomial.
    pub degree: usize,
    /// Share of partner-periods in the window below that moved over the threshold (NaN when
    /// the fit failed).
    pub share: f64,
    /// Excess mass above the threshold over the counterfactual count per bin.
    pub normalised: f64,
}

/// The behaviour estimates from a history under a past programme.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BehaviourFit {
    /// The programme's name.
    pub programme: String,
    /// Components whose thresholds were used (retroactive volume ladders).
    pub components: Vec<String>,
    /// Whether the thresholds are notches (retroactive tiers: stretch identified) rather than
    /// kinks (incremental tiers only).
    pub notch: bool,
    /// Partner-periods of the history with volume within ±`range` of a threshold.
    pub observations: usize,
    /// Bin width of the histogram of `z = volume / threshold − 1`.
    pub bin_width: f64,
    /// The histogram covers `[−range, range)`.
    pub range: f64,
    /// Observed count per bin.
    pub counts: Vec<f64>,
    /// Counterfactual count per bin at the main window and degree.
    pub fitted: Vec<f64>,
    /// Main excluded window below the threshold.
    pub below: f64,
    /// Main excluded window above the threshold.
    pub above: f64,
    /// Main polynomial degree.
    pub degree: usize,
    /// Share of partner-periods in `[−below, 0)` that stretched over the threshold.
    pub share: f64,
    /// Its standard error (Poisson bootstrap of the bins).
    pub share_se: f64,
    /// Excess mass in `[0, above)`, over the counterfactual count per bin.
    pub normalised: f64,
    /// Its standard error.
    pub normalised_se: f64,
    /// The window and degree sensitivity of `share`.
    pub sensitivity: Vec<BunchingRow>,
    /// End-of-period spike: the bunchers' last month over the partner's own monthly level,
    /// minus its counterfactual (fitted outside the window, at the bunchers' counterfactual
    /// volumes), net of the period's mean.
    pub spike: f64,
    /// Following dip: the next period over the partner's monthly level, counterfactual minus
    /// bunchers (in months of the level).
    pub dip: f64,
    /// Pull-forward share `dip / spike` (NaN when there is no spike to measure).
    pub pull_forward: f64,
    /// Its standard error (bootstrap over partners).
    pub pull_forward_se: f64,
}
