//! Charts: `rebatesim._core.Chart` and one constructor per chart kind. The
//! public, documented API is `rebatesim.charts` (python/rebatesim/charts.py),
//! which converts pandas/numpy inputs into the plain arrays taken here; these
//! constructors convert them into the core's chart requests
//! ([`crate::request::charts`]), which check and build the chart.
//!
//! Constructors validate at once (a bad input raises when the chart is made,
//! not when a notebook first tries to display it); rendering releases the GIL.

use std::path::PathBuf;

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::IntoPy;
use crate::charts::{AnyChart, Chart, Pareto, PayoutDistribution};
use crate::error::Result;
use crate::request::charts::{
    AccrualFanRequest, DesignComparisonRequest, Matrix, RiskReturnRequest, TierAttainmentRequest,
    TornadoRequest,
};

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

/// The chart at its size, validated by the core ([`AnyChart::with_size`]).
fn finish(chart: AnyChart, size: (u32, u32)) -> Result<PyChart> {
    chart.with_size(size).map(|inner| PyChart { inner })
}

fn vec1(a: &PyReadonlyArray1<'_, f64>) -> Vec<f64> {
    a.as_array().iter().copied().collect()
}

fn matrix(a: &PyReadonlyArray2<'_, f64>) -> Matrix {
    let view = a.as_array();
    let (rows, columns) = view.dim();
    Matrix {
        rows,
        columns,
        values: view.iter().copied().collect(),
    }
}

/// A chart built by the core from `request` at `width` × `height`.
fn chart(py: Python<'_>, request: Result<AnyChart>, width: u32, height: u32) -> PyResult<PyChart> {
    request.and_then(|c| finish(c, (width, height))).py_err(py)
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
    let request = DesignComparisonRequest {
        title,
        currency,
        names,
        payouts: payouts.iter().map(vec1).collect(),
        rois,
        budget,
        subtitle,
    };
    chart(py, request.build(), width, height)
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
    let request = TierAttainmentRequest {
        title,
        tiers,
        segments,
        expected: matrix(&expected),
        low: low.as_ref().map(matrix),
        high: high.as_ref().map(matrix),
        interval_label,
        subtitle,
    };
    chart(py, request.build(), width, height)
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
    let request = AccrualFanRequest {
        title,
        currency,
        months,
        names,
        values: values.iter().map(matrix).collect(),
        layouts,
        budget,
        subtitle,
    };
    chart(py, request.build(), width, height)
}

/// Expected ROI (`measure = "roi"`, fractions) or incremental margin
/// (`measure = "margin"`, money) against P95 payout, one point per design.
#[pyfunction]
#[pyo3(signature = (title, currency, measure, designs, p95_payouts, values, budget = None, subtitle = None, width = 960, height = 540, before_budget = false))]
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
    before_budget: bool,
) -> PyResult<PyChart> {
    let request = RiskReturnRequest {
        title,
        currency,
        measure: measure.to_owned(),
        designs,
        p95_payouts,
        values,
        budget,
        subtitle,
        before_budget,
    };
    chart(py, request.build(), width, height)
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
    let request = TornadoRequest {
        title,
        output,
        unit: unit.to_owned(),
        unit_name,
        base,
        assumptions,
        low_labels,
        high_labels,
        lows,
        highs,
        low_se,
        high_se,
        subtitle,
    };
    chart(py, request.build(), width, height)
}

/// Adds the chart class and constructors to `rebatesim._core`.
/// A design search's Pareto chart: objective against P95 payout before the budget per
/// design, `front` marking the Pareto front; `money`: the objective is money (else a ratio).
#[pyfunction]
#[pyo3(signature = (title, currency, objective, money, risk, value, front, current = None, chosen = None, budget = None, subtitle = None, width = 960, height = 540))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn pareto_chart(
    py: Python<'_>,
    title: String,
    currency: String,
    objective: String,
    money: bool,
    risk: Vec<f64>,
    value: Vec<f64>,
    front: Vec<bool>,
    current: Option<(f64, f64)>,
    chosen: Option<(f64, f64)>,
    budget: Option<f64>,
    subtitle: Option<String>,
    width: u32,
    height: u32,
) -> PyResult<PyChart> {
    let mut c = Pareto::new(title, currency, objective, money, risk, value, front);
    c.current = current;
    c.chosen = chosen;
    c.budget = budget;
    c.subtitle = subtitle;
    chart(py, Ok(c.into()), width, height)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyChart>()?;
    m.add_function(wrap_pyfunction!(payout_distribution_chart, m)?)?;
    m.add_function(wrap_pyfunction!(design_comparison_chart, m)?)?;
    m.add_function(wrap_pyfunction!(tier_attainment_chart, m)?)?;
    m.add_function(wrap_pyfunction!(accrual_fan_chart, m)?)?;
    m.add_function(wrap_pyfunction!(risk_return_chart, m)?)?;
    m.add_function(wrap_pyfunction!(tornado_chart, m)?)?;
    m.add_function(wrap_pyfunction!(pareto_chart, m)?)?;
    Ok(())
}
