//! Chart requests as a front end passes them (names as text, one list per field, matrices as
//! plain rows × columns), checked and built into the core's charts: which names are allowed,
//! which lists must match in length, which shapes are expected. The chart's own data checks
//! and the size rule run when the front end sizes it ([`crate::charts::AnyChart::with_size`]).

use chrono::NaiveDate;

use crate::charts::{
    AccrualFan, AnyChart, AttainmentSeries, DesignComparison, DesignDistribution, FanSeries,
    ReturnMeasure, RiskReturn, RiskReturnPoint, TierAttainment, Tornado, TornadoBar, ValueUnit,
};
use crate::error::{Error, Result};

/// A matrix of numbers, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub columns: usize,
    /// rows × columns values, row after row.
    pub values: Vec<f64>,
}

impl Matrix {
    /// Row `r`.
    fn row(&self, r: usize) -> &[f64] {
        &self.values[r * self.columns..(r + 1) * self.columns]
    }

    /// Every row, in order.
    fn row_vecs(&self) -> Vec<Vec<f64>> {
        (0..self.rows).map(|r| self.row(r).to_vec()).collect()
    }
}

/// An error unless a list given per `what` has the `expected` length.
fn same_len(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::Request(format!(
            "{what}: expected {expected} values, got {got}"
        )))
    }
}

/// Payout distributions of several designs: one payout list and one expected ROI per name.
#[derive(Debug, Clone, Default)]
pub struct DesignComparisonRequest {
    /// Chart title.
    pub title: String,
    /// Currency code.
    pub currency: String,
    /// Design names.
    pub names: Vec<String>,
    /// Payout per scenario of each design.
    pub payouts: Vec<Vec<f64>>,
    /// Expected ROI of each design, if known.
    pub rois: Vec<Option<f64>>,
    /// Budget line, if any.
    pub budget: Option<f64>,
    /// Subtitle.
    pub subtitle: Option<String>,
}

impl DesignComparisonRequest {
    /// The chart, or which list does not match the names.
    pub fn build(self) -> Result<AnyChart> {
        let n = self.names.len();
        same_len(
            "design comparison: payouts per design",
            n,
            self.payouts.len(),
        )?;
        same_len("design comparison: rois per design", n, self.rois.len())?;
        let designs = self
            .names
            .into_iter()
            .zip(self.payouts)
            .zip(self.rois)
            .map(|((name, payouts), roi)| DesignDistribution::new(name, payouts, roi))
            .collect();
        let mut c = DesignComparison::new(self.title, self.currency, designs);
        c.budget = self.budget;
        c.subtitle = self.subtitle;
        Ok(c.into())
    }
}

/// Expected partners per tier per segment (`expected`: segments × tiers), with an optional
/// interval (`low` and `high`, both or neither, of the same shape).
#[derive(Debug, Clone)]
pub struct TierAttainmentRequest {
    /// Chart title.
    pub title: String,
    /// Tier labels (columns).
    pub tiers: Vec<String>,
    /// Segment names (rows).
    pub segments: Vec<String>,
    /// Expected partners: segments × tiers.
    pub expected: Matrix,
    /// Lower interval bounds.
    pub low: Option<Matrix>,
    /// Upper interval bounds.
    pub high: Option<Matrix>,
    /// How the interval is described (the chart's default when `None`).
    pub interval_label: Option<String>,
    /// Subtitle.
    pub subtitle: Option<String>,
}

impl TierAttainmentRequest {
    /// The chart, or which matrix has the wrong shape.
    pub fn build(self) -> Result<AnyChart> {
        let shape = [self.segments.len(), self.tiers.len()];
        let check = |what: &str, m: &Matrix| -> Result<()> {
            let dims = [m.rows, m.columns];
            if dims != shape {
                return Err(Error::Request(format!(
                    "tier attainment: {what} has shape {dims:?}, expected ({}, {}) = (segments, tiers)",
                    shape[0], shape[1]
                )));
            }
            Ok(())
        };
        check("expected", &self.expected)?;
        let intervals = match (&self.low, &self.high) {
            (Some(low), Some(high)) => {
                check("low", low)?;
                check("high", high)?;
                Some((low, high))
            }
            (None, None) => None,
            _ => {
                return Err(Error::Request(
                    "tier attainment: give both low and high for intervals, or neither".to_string(),
                ))
            }
        };
        let series = self
            .segments
            .iter()
            .enumerate()
            .map(|(s, name)| {
                let interval = intervals.map(|(low, high)| {
                    low.row(s)
                        .iter()
                        .copied()
                        .zip(high.row(s).iter().copied())
                        .collect()
                });
                AttainmentSeries::new(name.clone(), self.expected.row(s).to_vec(), interval)
            })
            .collect();
        let mut c = TierAttainment::new(self.title, self.tiers, series);
        if let Some(label) = self.interval_label {
            c.interval_label = label;
        }
        c.subtitle = self.subtitle;
        Ok(c.into())
    }
}

/// How a fan series is given: "paths" (scenarios × months) or "percentiles" (five rows:
/// P10, P25, P50, P75, P90).
fn fan_series(name: &str, values: &Matrix, layout: &str) -> Result<FanSeries> {
    match layout {
        "paths" => FanSeries::from_paths(name.to_owned(), &values.row_vecs()),
        "percentiles" => {
            if values.rows != 5 {
                return Err(Error::Request(format!(
                    "accrual fan: series '{name}' has {} percentile rows; expected 5 (P10, P25, P50, P75, P90)",
                    values.rows
                )));
            }
            let r = |k: usize| values.row(k).to_vec();
            Ok(FanSeries::new(name.to_owned(), r(0), r(1), r(2), r(3), r(4)))
        }
        other => Err(Error::Request(format!(
            "accrual fan: layout {other:?} for series '{name}'; expected \"paths\" or \"percentiles\""
        ))),
    }
}

/// Cumulative accrual and cash by month: months as ISO dates, one values matrix and one
/// layout ("paths" or "percentiles") per series name.
#[derive(Debug, Clone, Default)]
pub struct AccrualFanRequest {
    /// Chart title.
    pub title: String,
    /// Currency code.
    pub currency: String,
    /// Month ends, YYYY-MM-DD.
    pub months: Vec<String>,
    /// Series names.
    pub names: Vec<String>,
    /// Each series' values.
    pub values: Vec<Matrix>,
    /// Each series' layout.
    pub layouts: Vec<String>,
    /// Budget line, if any.
    pub budget: Option<f64>,
    /// Subtitle.
    pub subtitle: Option<String>,
}

impl AccrualFanRequest {
    /// The chart, or what is wrong with a list, a date or a series.
    pub fn build(self) -> Result<AnyChart> {
        let n = self.names.len();
        same_len("accrual fan: value arrays per series", n, self.values.len())?;
        same_len("accrual fan: layouts per series", n, self.layouts.len())?;
        let months = self
            .months
            .iter()
            .enumerate()
            .map(|(i, m)| {
                NaiveDate::parse_from_str(m, "%Y-%m-%d").map_err(|_| {
                    Error::Request(format!(
                        "accrual fan: months[{i}] is {m:?}; expected a date YYYY-MM-DD"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let series = self
            .names
            .iter()
            .zip(&self.values)
            .zip(&self.layouts)
            .map(|((name, values), layout)| fan_series(name, values, layout))
            .collect::<Result<Vec<_>>>()?;
        let mut c = AccrualFan::new(self.title, self.currency, months, series);
        c.budget = self.budget;
        c.subtitle = self.subtitle;
        Ok(c.into())
    }
}

/// Expected ROI (`measure` "roi", fractions) or incremental margin ("margin", money) against
/// P95 payout, one point per design.
#[derive(Debug, Clone, Default)]
pub struct RiskReturnRequest {
    /// Chart title.
    pub title: String,
    /// Currency code.
    pub currency: String,
    /// "roi" or "margin".
    pub measure: String,
    /// Design names.
    pub designs: Vec<String>,
    /// P95 payout of each design.
    pub p95_payouts: Vec<f64>,
    /// The measure's value for each design.
    pub values: Vec<f64>,
    /// Budget line, if any.
    pub budget: Option<f64>,
    /// Subtitle.
    pub subtitle: Option<String>,
    /// The P95 payouts are before the budget's cut (the axis and labels say so).
    pub before_budget: bool,
}

impl RiskReturnRequest {
    /// The chart, or what is wrong with the measure or a list.
    pub fn build(self) -> Result<AnyChart> {
        let measure = match self.measure.as_str() {
            "roi" => ReturnMeasure::Roi,
            "margin" => ReturnMeasure::IncrementalMargin,
            other => {
                return Err(Error::Request(format!(
                    "risk and return: measure {other:?}; expected \"roi\" or \"margin\""
                )))
            }
        };
        let n = self.designs.len();
        same_len(
            "risk and return: p95_payouts per design",
            n,
            self.p95_payouts.len(),
        )?;
        same_len("risk and return: values per design", n, self.values.len())?;
        let points = self
            .designs
            .into_iter()
            .zip(self.p95_payouts)
            .zip(self.values)
            .map(|((design, p95), value)| RiskReturnPoint::new(design, p95, value))
            .collect();
        let mut c = RiskReturn::new(self.title, self.currency, measure, points);
        c.budget = self.budget;
        c.subtitle = self.subtitle;
        c.before_budget = self.before_budget;
        Ok(c.into())
    }
}

/// One-at-a-time sensitivity: the output at each assumption's low and high setting around
/// `base`. `unit` is "money" (`unit_name` the currency), "percent" (fractions) or "number"
/// (optional `unit_name`).
#[derive(Debug, Clone, Default)]
pub struct TornadoRequest {
    /// Chart title.
    pub title: String,
    /// The output shown, e.g. "Payout P95".
    pub output: String,
    /// "money", "percent" or "number".
    pub unit: String,
    /// The currency (money) or the unit's name (number).
    pub unit_name: Option<String>,
    /// The output at the base case.
    pub base: f64,
    /// Assumption names.
    pub assumptions: Vec<String>,
    /// How each assumption was moved down.
    pub low_labels: Vec<String>,
    /// How each was moved up.
    pub high_labels: Vec<String>,
    /// The output at each low setting.
    pub lows: Vec<f64>,
    /// The output at each high setting.
    pub highs: Vec<f64>,
    /// Standard errors of `lows`, if known.
    pub low_se: Option<Vec<Option<f64>>>,
    /// Standard errors of `highs`, if known.
    pub high_se: Option<Vec<Option<f64>>>,
    /// Subtitle.
    pub subtitle: Option<String>,
}

impl TornadoRequest {
    fn value_unit(&self) -> Result<ValueUnit> {
        match self.unit.as_str() {
            "money" => Ok(ValueUnit::Money(self.unit_name.clone().ok_or_else(
                || {
                    Error::Request(
                        "tornado: unit \"money\" needs the currency (unit_name)".to_string(),
                    )
                },
            )?)),
            "percent" => Ok(ValueUnit::Percent),
            "number" => Ok(ValueUnit::Number(
                self.unit_name.clone().unwrap_or_default(),
            )),
            other => Err(Error::Request(format!(
                "tornado: unit {other:?}; expected \"money\", \"percent\" or \"number\""
            ))),
        }
    }

    /// The chart, or what is wrong with the unit or a list.
    pub fn build(self) -> Result<AnyChart> {
        let unit = self.value_unit()?;
        let n = self.assumptions.len();
        same_len(
            "tornado: low_labels per assumption",
            n,
            self.low_labels.len(),
        )?;
        same_len(
            "tornado: high_labels per assumption",
            n,
            self.high_labels.len(),
        )?;
        same_len("tornado: lows per assumption", n, self.lows.len())?;
        same_len("tornado: highs per assumption", n, self.highs.len())?;
        if let Some(v) = &self.low_se {
            same_len("tornado: low_se per assumption", n, v.len())?;
        }
        if let Some(v) = &self.high_se {
            same_len("tornado: high_se per assumption", n, v.len())?;
        }
        let bars = (0..n)
            .map(|i| TornadoBar {
                assumption: self.assumptions[i].clone(),
                low_label: self.low_labels[i].clone(),
                high_label: self.high_labels[i].clone(),
                low: self.lows[i],
                high: self.highs[i],
                low_se: self.low_se.as_ref().and_then(|v| v[i]),
                high_se: self.high_se.as_ref().and_then(|v| v[i]),
            })
            .collect();
        let mut c = Tornado::new(self.title, self.output, unit, self.base, bars);
        c.subtitle = self.subtitle;
        Ok(c.into())
    }
}

#[cfg(test)]
mod tests;
