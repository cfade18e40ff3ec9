//! Charts: `rebatesim._core.Chart` and one constructor per chart kind. The
//! public, documented API is `rebatesim.charts` (python/rebatesim/charts.py),
//! which converts pandas/numpy inputs into the plain arrays taken here.
//!
//! Constructors validate at once (a bad input raises when the chart is made,
//! not when a notebook first tries to display it); rendering releases the GIL.

use std::path::PathBuf;

use chrono::NaiveDate;
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::IntoPy;
use crate::charts::{
    AccrualFan, AnyChart, AttainmentSeries, Chart, DesignComparison, DesignDistribution, FanSeries,
    PayoutDistribution, ReturnMeasure, RiskReturn, RiskReturnPoint, TierAttainment, Tornado,
    TornadoBar, ValueUnit,
};
use crate::error::{Error, Result};

/// A chart drawn by the Rust core (see `rebatesim.charts.Chart`).
#[pyclass(name = "Chart", module = "rebatesim._core", frozen)]
pub(crate) struct PyChart {
    inner: AnyChart,
}

#[pymethods]
impl PyChart {
    /// The chart kind, e.g. "payout_distribution".
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// The chart title.
    #[getter]
    fn title(&self) -> String {
        self.inner.title().to_string()
    }

    /// (width, height) in pixels.
    #[getter]
    fn size(&self) -> (u32, u32) {
        self.inner.size()
    }

    /// The chart as an SVG document.
    fn to_svg(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.render_svg()).py_err(py)
    }

    /// The chart as PNG bytes at `scale` × its size.
    #[pyo3(signature = (scale = 1.0))]
    fn to_png<'py>(&self, py: Python<'py>, scale: f64) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py
            .detach(|| self.inner.render_png_scaled(scale))
            .py_err(py)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Write the chart to `path` (.svg or .png, atomically).
    #[pyo3(signature = (path, scale = 1.0))]
    fn save(&self, py: Python<'_>, path: PathBuf, scale: f64) -> PyResult<()> {
        py.detach(|| self.inner.save_scaled(&path, scale))
            .py_err(py)
    }

    fn __repr__(&self) -> String {
        let (w, h) = self.inner.size();
        format!(
            "Chart({}, {:?}, {w}×{h})",
            self.inner.kind(),
            self.inner.title()
        )
    }
}

fn finish(chart: AnyChart, size: (u32, u32)) -> Result<PyChart> {
    let mut chart = chart;
    match &mut chart {
        AnyChart::PayoutDistribution(c) => c.size = size,
        AnyChart::DesignComparison(c) => c.size = size,
        AnyChart::TierAttainment(c) => c.size = size,
        AnyChart::AccrualFan(c) => c.size = size,
        AnyChart::RiskReturn(c) => c.size = size,
        AnyChart::Tornado(c) => c.size = size,
    }
    chart.validate()?;
    // The size is checked by rendering's own rule; check it now too.
    if !(320..=4000).contains(&size.0) || !(200..=4000).contains(&size.1) {
        return Err(Error::Request(format!(
            "chart size {}×{} is out of range: width must be 320–4000 and height 200–4000 pixels",
            size.0, size.1
        )));
    }
    Ok(PyChart { inner: chart })
}

fn same_len(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::Request(format!(
            "{what}: expected {expected} values, got {got}"
        )))
    }
}

fn vec1(a: &PyReadonlyArray1<'_, f64>) -> Vec<f64> {
    a.as_array().iter().copied().collect()
}

/// Payout distribution of one run.
#[pyfunction]
#[pyo3(signature = (title, currency, payouts, budget = None, subtitle = None, width = 960, height = 540))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn payout_distribution_chart(
    py: Python<'_>,
    title: String,
    currency: String,
    payouts: PyReadonlyArray1<'_, f64>,
    budget: Option<f64>,
    subtitle: Option<String>,
    width: u32,
    height: u32,
) -> PyResult<PyChart> {
    let mut c = PayoutDistribution::new(title, currency, vec1(&payouts));
    c.budget = budget;
    c.subtitle = subtitle;
    finish(c.into(), (width, height)).py_err(py)
}

/// Payout distributions of several designs, with expected ROI.
#[pyfunction]
#[pyo3(signature = (title, currency, names, payouts, rois, budget = None, subtitle = None, width = 960, height = 540))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn design_comparison_chart(
    py: Python<'_>,
    title: String,
    currency: String,
    names: Vec<String>,
    payouts: Vec<PyReadonlyArray1<'_, f64>>,
    rois: Vec<Option<f64>>,
    budget: Option<f64>,
    subtitle: Option<String>,
    width: u32,
    height: u32,
) -> PyResult<PyChart> {
    let build = || -> Result<PyChart> {
        same_len(
            "design comparison: payouts per design",
            names.len(),
            payouts.len(),
        )?;
        same_len(
            "design comparison: rois per design",
            names.len(),
            rois.len(),
        )?;
        let designs = names
            .iter()
            .zip(&payouts)
            .zip(&rois)
            .map(|((n, p), r)| DesignDistribution::new(n.clone(), vec1(p), *r))
            .collect();
        let mut c = DesignComparison::new(title, currency, designs);
        c.budget = budget;
        c.subtitle = subtitle;
        finish(c.into(), (width, height))
    };
    build().py_err(py)
}

/// Expected partners per tier per segment: `expected[segment, tier]`, optional
/// `low`/`high` of the same shape.
#[pyfunction]
#[pyo3(signature = (title, tiers, segments, expected, low = None, high = None, interval_label = None, subtitle = None, width = 960, height = 540))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn tier_attainment_chart(
    py: Python<'_>,
    title: String,
    tiers: Vec<String>,
    segments: Vec<String>,
    expected: PyReadonlyArray2<'_, f64>,
    low: Option<PyReadonlyArray2<'_, f64>>,
    high: Option<PyReadonlyArray2<'_, f64>>,
    interval_label: Option<String>,
    subtitle: Option<String>,
    width: u32,
    height: u32,
) -> PyResult<PyChart> {
    let build = || -> Result<PyChart> {
        let e = expected.as_array();
        let shape = (segments.len(), tiers.len());
        let check = |what: &str, dims: &[usize]| -> Result<()> {
            if dims != [shape.0, shape.1] {
                return Err(Error::Request(format!(
                    "tier attainment: {what} has shape {dims:?}, expected ({}, {}) = (segments, tiers)",
                    shape.0, shape.1
                )));
            }
            Ok(())
        };
        check("expected", e.shape())?;
        let intervals = match (&low, &high) {
            (Some(l), Some(h)) => {
                let (l, h) = (l.as_array(), h.as_array());
                check("low", l.shape())?;
                check("high", h.shape())?;
                Some((l.to_owned(), h.to_owned()))
            }
            (None, None) => None,
            _ => {
                return Err(Error::Request(
                    "tier attainment: give both low and high for intervals, or neither".to_string(),
                ))
            }
        };
        let series = segments
            .iter()
            .enumerate()
            .map(|(s, name)| {
                let interval = intervals
                    .as_ref()
                    .map(|(l, h)| (0..shape.1).map(|t| (l[[s, t]], h[[s, t]])).collect());
                AttainmentSeries::new(name.clone(), e.row(s).to_vec(), interval)
            })
            .collect();
        let mut c = TierAttainment::new(title, tiers.clone(), series);
        if let Some(l) = interval_label {
            c.interval_label = l;
        }
        c.subtitle = subtitle;
        finish(c.into(), (width, height))
    };
    build().py_err(py)
}

/// Cumulative accrual and cash by month. `months` are ISO dates; each series
/// is either scenario paths (`layout = "paths"`, scenarios × months) or
/// percentiles (`layout = "percentiles"`, rows P10, P25, P50, P75, P90).
#[pyfunction]
#[pyo3(signature = (title, currency, months, names, values, layouts, budget = None, subtitle = None, width = 960, height = 540))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn accrual_fan_chart(
    py: Python<'_>,
    title: String,
    currency: String,
    months: Vec<String>,
    names: Vec<String>,
    values: Vec<PyReadonlyArray2<'_, f64>>,
    layouts: Vec<String>,
    budget: Option<f64>,
    subtitle: Option<String>,
    width: u32,
    height: u32,
) -> PyResult<PyChart> {
    let build = || -> Result<PyChart> {
        same_len(
            "accrual fan: value arrays per series",
            names.len(),
            values.len(),
        )?;
        same_len(
            "accrual fan: layouts per series",
            names.len(),
            layouts.len(),
        )?;
        let months = months
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
        let mut series = Vec::with_capacity(names.len());
        for ((name, v), layout) in names.iter().zip(&values).zip(&layouts) {
            let a = v.as_array();
            let s = match layout.as_str() {
                "paths" => {
                    let paths: Vec<Vec<f64>> = a.rows().into_iter().map(|r| r.to_vec()).collect();
                    FanSeries::from_paths(name.clone(), &paths)?
                }
                "percentiles" => {
                    if a.nrows() != 5 {
                        return Err(Error::Request(format!(
                            "accrual fan: series '{name}' has {} percentile rows; expected 5 (P10, P25, P50, P75, P90)",
                            a.nrows()
                        )));
                    }
                    let r = |k: usize| a.row(k).to_vec();
                    FanSeries::new(name.clone(), r(0), r(1), r(2), r(3), r(4))
                }
                other => {
                    return Err(Error::Request(format!(
                        "accrual fan: layout {other:?} for series '{name}'; expected \"paths\" or \"percentiles\""
                    )))
                }
            };
            series.push(s);
        }
        let mut c = AccrualFan::new(title, currency, months, series);
        c.budget = budget;
        c.subtitle = subtitle;
        finish(c.into(), (width, height))
    };
    build().py_err(py)
}

/// Expected ROI (`measure = "roi"`, fractions) or incremental margin
/// (`measure = "margin"`, money) against P95 payout, one point per design.
#[pyfunction]
#[pyo3(signature = (title, currency, measure, designs, p95_payouts, values, budget = None, subtitle = None, width = 960, height = 540))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn risk_return_chart(
    py: Python<'_>,
    title: String,
    currency: String,
    measure: &str,
    designs: Vec<String>,
    p95_payouts: Vec<f64>,
    values: Vec<f64>,
    budget: Option<f64>,
    subtitle: Option<String>,
    width: u32,
    height: u32,
) -> PyResult<PyChart> {
    let build = || -> Result<PyChart> {
        let measure = match measure {
            "roi" => ReturnMeasure::Roi,
            "margin" => ReturnMeasure::IncrementalMargin,
            other => {
                return Err(Error::Request(format!(
                    "risk and return: measure {other:?}; expected \"roi\" or \"margin\""
                )))
            }
        };
        same_len(
            "risk and return: p95_payouts per design",
            designs.len(),
            p95_payouts.len(),
        )?;
        same_len(
            "risk and return: values per design",
            designs.len(),
            values.len(),
        )?;
        let points = designs
            .iter()
            .zip(&p95_payouts)
            .zip(&values)
            .map(|((d, p), v)| RiskReturnPoint::new(d.clone(), *p, *v))
            .collect();
        let mut c = RiskReturn::new(title, currency, measure, points);
        c.budget = budget;
        c.subtitle = subtitle;
        finish(c.into(), (width, height))
    };
    build().py_err(py)
}

/// One-at-a-time sensitivity: output at each assumption's low and high
/// setting around `base`. `unit` is "money" (with `unit_name` the currency),
/// "percent" (fractions) or "number" (with an optional `unit_name`).
#[pyfunction]
#[pyo3(signature = (title, output, unit, unit_name, base, assumptions, low_labels, high_labels, lows, highs, low_se = None, high_se = None, subtitle = None, width = 960, height = 540))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn tornado_chart(
    py: Python<'_>,
    title: String,
    output: String,
    unit: &str,
    unit_name: Option<String>,
    base: f64,
    assumptions: Vec<String>,
    low_labels: Vec<String>,
    high_labels: Vec<String>,
    lows: Vec<f64>,
    highs: Vec<f64>,
    low_se: Option<Vec<Option<f64>>>,
    high_se: Option<Vec<Option<f64>>>,
    subtitle: Option<String>,
    width: u32,
    height: u32,
) -> PyResult<PyChart> {
    let build = || -> Result<PyChart> {
        let unit = match unit {
            "money" => ValueUnit::Money(unit_name.clone().ok_or_else(|| {
                Error::Request("tornado: unit \"money\" needs the currency (unit_name)".to_string())
            })?),
            "percent" => ValueUnit::Percent,
            "number" => ValueUnit::Number(unit_name.clone().unwrap_or_default()),
            other => {
                return Err(Error::Request(format!(
                    "tornado: unit {other:?}; expected \"money\", \"percent\" or \"number\""
                )))
            }
        };
        let n = assumptions.len();
        same_len("tornado: low_labels per assumption", n, low_labels.len())?;
        same_len("tornado: high_labels per assumption", n, high_labels.len())?;
        same_len("tornado: lows per assumption", n, lows.len())?;
        same_len("tornado: highs per assumption", n, highs.len())?;
        if let Some(v) = &low_se {
            same_len("tornado: low_se per assumption", n, v.len())?;
        }
        if let Some(v) = &high_se {
            same_len("tornado: high_se per assumption", n, v.len())?;
        }
        let bars = (0..n)
            .map(|i| TornadoBar {
                assumption: assumptions[i].clone(),
                low_label: low_labels[i].clone(),
                high_label: high_labels[i].clone(),
                low: lows[i],
                high: highs[i],
                low_se: low_se.as_ref().and_then(|v| v[i]),
                high_se: high_se.as_ref().and_then(|v| v[i]),
            })
            .collect();
        let mut c = Tornado::new(title, output, unit, base, bars);
        c.subtitle = subtitle;
        finish(c.into(), (width, height))
    };
    build().py_err(py)
}

/// Adds the chart class and constructors to `rebatesim._core`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyChart>()?;
    m.add_function(wrap_pyfunction!(payout_distribution_chart, m)?)?;
    m.add_function(wrap_pyfunction!(design_comparison_chart, m)?)?;
    m.add_function(wrap_pyfunction!(tier_attainment_chart, m)?)?;
    m.add_function(wrap_pyfunction!(accrual_fan_chart, m)?)?;
    m.add_function(wrap_pyfunction!(risk_return_chart, m)?)?;
    m.add_function(wrap_pyfunction!(tornado_chart, m)?)?;
    Ok(())
}
