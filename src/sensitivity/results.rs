//! The results of a sensitivity analysis: each run's outcomes, the paired differences
//! between runs, one row per assumption, and the rows ranked by swing.

use crate::engine::SimResult;
use crate::error::{Error, Result};
use crate::summary::{self, Summary};
use std::str::FromStr;

/// An outcome of one run: the summaries of payout, ROI and incremental margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Total payout (after the budget).
    pub payout: Summary,
    /// ROI (incremental margin net of payout, over payout); undefined scenarios left out.
    pub roi: Summary,
    /// Incremental margin.
    pub incremental_margin: Summary,
}

impl Outcome {
    /// The outcomes of run `r`.
    pub(super) fn of(r: &SimResult) -> Outcome {
        Outcome {
            payout: r.payout_summary(),
            roi: summary::summarize(&r.roi, None),
            incremental_margin: summary::summarize(&r.incremental_margin, None),
        }
    }

    /// The summary of `output`.
    pub fn get(&self, output: Output) -> &Summary {
        match output {
            Output::Payout => &self.payout,
            Output::Roi => &self.roi,
            Output::IncrementalMargin => &self.incremental_margin,
        }
    }
}

/// The output of a sensitivity analysis to report or chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Total payout (after the budget).
    Payout,
    /// ROI.
    Roi,
    /// Incremental margin.
    IncrementalMargin,
}

impl Output {
    /// Machine name: `payout`, `roi`, `incremental_margin`.
    pub fn name(&self) -> &'static str {
        match self {
            Output::Payout => "payout",
            Output::Roi => "roi",
            Output::IncrementalMargin => "incremental_margin",
        }
    }
}

impl FromStr for Output {
    type Err = Error;
    fn from_str(s: &str) -> Result<Output> {
        match s {
            "payout" => Ok(Output::Payout),
            "roi" => Ok(Output::Roi),
            "incremental_margin" | "margin" => Ok(Output::IncrementalMargin),
            other => Err(Error::Request(format!(
                "unknown sensitivity output '{other}': expected payout, roi or incremental_margin"
            ))),
        }
    }
}

/// Paired per-scenario differences (common random numbers) of the three outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Payout difference.
    pub payout: Summary,
    /// ROI difference (scenarios where either ROI is undefined are left out).
    pub roi: Summary,
    /// Incremental margin difference.
    pub incremental_margin: Summary,
}

impl Difference {
    /// `b − a`, per scenario.
    pub(super) fn of(a: &SimResult, b: &SimResult) -> Difference {
        Difference {
            payout: summary::paired(&a.payout, &b.payout),
            roi: summary::paired(&a.roi, &b.roi),
            incremental_margin: summary::paired(&a.incremental_margin, &b.incremental_margin),
        }
    }

    /// The summary of `output`.
    pub fn get(&self, output: Output) -> &Summary {
        match output {
            Output::Payout => &self.payout,
            Output::Roi => &self.roi,
            Output::IncrementalMargin => &self.incremental_margin,
        }
    }
}

/// The results for one assumption.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityRow {
    /// Assumption name.
    pub assumption: String,
    /// The parameter moved (`None` for an assumption given as two models).
    pub parameter: Option<String>,
    /// Description of the low setting.
    pub low_label: String,
    /// Description of the high setting.
    pub high_label: String,
    /// The parameter's base value (the default, for per-segment parameters).
    pub base_value: Option<f64>,
    /// The parameter's value in the low run.
    pub low_value: Option<f64>,
    /// The parameter's value in the high run.
    pub high_value: Option<f64>,
    /// Outcomes of the low run.
    pub low: Outcome,
    /// Outcomes of the high run.
    pub high: Outcome,
    /// Low run − base run, per scenario (paired).
    pub low_vs_base: Difference,
    /// High run − base run, per scenario (paired).
    pub high_vs_base: Difference,
    /// High run − low run, per scenario (paired): the swing.
    pub swing: Difference,
}

impl SensitivityRow {
    /// Size of the swing of `output`: |mean(high − low)|.
    pub fn swing_size(&self, output: Output) -> f64 {
        self.swing.get(output).mean.value.abs()
    }
}

/// Results of [`sensitivity`](super::sensitivity()).
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    /// Programme name.
    pub programme: String,
    /// Currency.
    pub currency: String,
    /// The seed shared by every run.
    pub seed: u64,
    /// Scenarios of every run.
    pub scenarios: usize,
    /// Number `K` of parameter draws every run was made under (input uncertainty; 0
    /// without): scenario `s` of every run ran under the same draw, moved by the run's
    /// assumption.
    pub parameter_draws: usize,
    /// Outcomes of the base run.
    pub base: Outcome,
    /// One row per assumption, largest payout swing first (ties keep the given order).
    pub rows: Vec<SensitivityRow>,
}

impl Sensitivity {
    /// The row of the assumption named `name`.
    pub fn row(&self, name: &str) -> Option<&SensitivityRow> {
        self.rows.iter().find(|r| r.assumption == name)
    }

    /// The rows sorted by the swing of `output`, largest first.
    pub fn sorted_by(&self, output: Output) -> Vec<&SensitivityRow> {
        let mut rows: Vec<&SensitivityRow> = self.rows.iter().collect();
        rows.sort_by(|a, b| b.swing_size(output).total_cmp(&a.swing_size(output)));
        rows
    }
}
