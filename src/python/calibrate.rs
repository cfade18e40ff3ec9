//! Calibration: `rebatesim._core.calibrate` and `CalibrationResult` (the public API is
//! `rebatesim.calibrate` in python/rebatesim/calibration.py).

use super::errors::IntoPy;
use super::programme::PyProgramme;
use super::settle::{PyPartners, PyTransactions};
use crate::calibrate::{calibrate_with, Calibration, Options};
use crate::charts::FitCharts;
use crate::programme::Format;
use crate::request::parse_date;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::types::PyDict;
use std::collections::BTreeMap;

/// The result of a calibration.
#[pyclass(name = "CalibrationResult", module = "rebatesim._core", frozen)]
pub(crate) struct PyCalibration {
    inner: Calibration,
}

#[pymethods]
impl PyCalibration {
    /// The calibrated model file (TOML) with the estimates as comments.
    fn model_text(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.model_text().py_err(py)
    }

    /// The parameter draws, each a model file (TOML).
    fn draw_texts(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.inner
            .draws
            .iter()
            .map(|d| d.model.to_string(Format::Toml))
            .collect::<crate::Result<Vec<_>>>()
            .py_err(py)
    }

    /// The drawn incidence per segment, one dict per draw.
    fn draw_incidence(&self) -> Vec<BTreeMap<String, f64>> {
        self.inner
            .draws
            .iter()
            .map(|d| d.incidence.clone())
            .collect()
    }

    /// Every estimate, as columns.
    fn estimates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let e = &self.inner.estimates;
        let d = PyDict::new(py);
        d.set_item(
            "parameter",
            e.iter().map(|x| x.parameter.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "segment",
            e.iter().map(|x| x.segment.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item("value", e.iter().map(|x| x.value).collect::<Vec<_>>())?;
        d.set_item("se", e.iter().map(|x| x.se).collect::<Vec<_>>())?;
        d.set_item("lo90", e.iter().map(|x| x.lo90).collect::<Vec<_>>())?;
        d.set_item("hi90", e.iter().map(|x| x.hi90).collect::<Vec<_>>())?;
        d.set_item("dof", e.iter().map(|x| x.dof).collect::<Vec<_>>())?;
        d.set_item(
            "method",
            e.iter().map(|x| x.method.clone()).collect::<Vec<_>>(),
        )?;
        Ok(d)
    }

    /// The history month (`YYYY-MM`) of each monthly baseline column m01 … m12.
    fn baseline_months(&self) -> Vec<String> {
        self.inner.partners.baseline_months.clone()
    }

    /// The per-partner estimates, as columns (`mix_<category>` for the shrunk mixes).
    fn partners<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = &self.inner.partners;
        let d = PyDict::new(py);
        d.set_item("partner_id", p.ids.clone())?;
        d.set_item("segment", p.segment.clone())?;
        d.set_item("buying_months", p.buying_months.clone())?;
        d.set_item("first_purchase", p.first_purchase.clone())?;
        d.set_item("last_purchase", p.last_purchase.clone())?;
        d.set_item("churned", p.churned.clone())?;
        d.set_item("last12_revenue", p.last12_revenue.clone())?;
        d.set_item("demand_revenue", p.demand_revenue.clone())?;
        let bases = [
            ("baseline_revenue", Some(&p.baseline_revenue_months)),
            ("baseline_units", p.baseline_units_months.as_ref()),
        ];
        for (basis, months) in bases {
            for j in 0..months.map_or(0, |_| 12) {
                d.set_item(
                    crate::monthly_baselines::column_name(basis, j + 1),
                    months.map(|m| m.iter().map(|row| row[j]).collect::<Vec<_>>()),
                )?;
            }
        }
        d.set_item("unit_price", p.unit_price.clone())?;
        for (c, name) in self.inner.categories.iter().enumerate() {
            d.set_item(
                format!("mix_{name}"),
                p.mix.iter().map(|m| m.get(c).copied()).collect::<Vec<_>>(),
            )?;
        }
        d.set_item("mix_weight", p.mix_weight.clone())?;
        Ok(d)
    }

    /// The diagnostic tables.
    fn diagnostics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let g = &self.inner.diagnostics;
        let d = PyDict::new(py);
        d.set_item("months", g.months.clone())?;
        d.set_item("segments", self.inner.segments.clone())?;
        d.set_item("segment_effect", g.segment_effect.clone())?;
        d.set_item("segment_fitted", g.segment_fitted.clone())?;
        d.set_item("buying", g.buying.clone())?;
        d.set_item("market_path", g.market_path.clone())?;
        d.set_item("churn_observed", g.churn_observed.clone())?;
        d.set_item("churn_fitted", g.churn_fitted.clone())?;
        d.set_item("churn_k_rule", g.churn_k_rule.clone())?;
        d.set_item("residual_sample", g.residual_sample.clone())?;
        d.set_item("annual_observed", g.annual_observed.clone())?;
        d.set_item("annual_fitted", g.annual_fitted.clone())?;
        Ok(d)
    }

    /// Warnings for the user.
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings.clone()
    }

    /// The behaviour estimates from a past programme's thresholds (`None` without one, or
    /// when the history never approaches them).
    fn behaviour<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(b) = &self.inner.behaviour else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("programme", b.programme.clone())?;
        d.set_item("components", b.components.clone())?;
        d.set_item("notch", b.notch)?;
        d.set_item("observations", b.observations)?;
        d.set_item("bin_width", b.bin_width)?;
        d.set_item("range", b.range)?;
        d.set_item("counts", b.counts.clone())?;
        d.set_item("fitted", b.fitted.clone())?;
        d.set_item("below", b.below)?;
        d.set_item("above", b.above)?;
        d.set_item("degree", b.degree)?;
        d.set_item("share", b.share)?;
        d.set_item("share_se", b.share_se)?;
        d.set_item("normalised", b.normalised)?;
        d.set_item("normalised_se", b.normalised_se)?;
        let s = &b.sensitivity;
        let t = PyDict::new(py);
        t.set_item("below", s.iter().map(|r| r.below).collect::<Vec<_>>())?;
        t.set_item("above", s.iter().map(|r| r.above).collect::<Vec<_>>())?;
        t.set_item("degree", s.iter().map(|r| r.degree).collect::<Vec<_>>())?;
        t.set_item("share", s.iter().map(|r| r.share).collect::<Vec<_>>())?;
        t.set_item(
            "normalised",
            s.iter().map(|r| r.normalised).collect::<Vec<_>>(),
        )?;
        d.set_item("sensitivity", t)?;
        d.set_item("spike", b.spike)?;
        d.set_item("dip", b.dip)?;
        d.set_item("pull_forward", b.pull_forward)?;
        d.set_item("pull_forward_se", b.pull_forward_se)?;
        Ok(Some(d))
    }

    /// The fit report's charts as (name, SVG document) pairs.
    fn chart_svgs(&self, py: Python<'_>) -> PyResult<Vec<(String, String)>> {
        let c = &self.inner;
        py.detach(|| FitCharts::of(c).svgs())
            .py_err(py)
            .map(|v| v.into_iter().map(|(k, s)| (k.to_string(), s)).collect())
    }

    /// The fit report's charts as (name, PNG bytes) pairs at `scale`.
    #[pyo3(signature = (scale=1.0))]
    fn chart_pngs<'py>(
        &self,
        py: Python<'py>,
        scale: f64,
    ) -> PyResult<Vec<(String, Bound<'py, PyBytes>)>> {
        let c = &self.inner;
        let v = py.detach(|| FitCharts::of(c).pngs(scale)).py_err(py)?;
        Ok(v.into_iter()
            .map(|(k, b)| (k.to_string(), PyBytes::new(py, &b)))
            .collect())
    }

    /// (first month `YYYY-MM`, number of months).
    fn history(&self) -> (String, usize) {
        (self.inner.start.clone(), self.inner.months)
    }
}

/// Calibrate a demand model on a transaction history.
#[pyfunction]
#[pyo3(signature = (history, partners=None, churn_silent_months=6, min_segment_partners=5, warn_segment_partners=30, draws=100, bootstrap=400, seed=1, programme=None, as_of=None))]
#[allow(clippy::too_many_arguments)]
fn calibrate(
    py: Python<'_>,
    history: &PyTransactions,
    partners: Option<&PyPartners>,
    churn_silent_months: usize,
    min_segment_partners: usize,
    warn_segment_partners: usize,
    draws: usize,
    bootstrap: usize,
    seed: u64,
    programme: Option<&Bound<'_, PyProgramme>>,
    as_of: Option<&str>,
) -> PyResult<PyCalibration> {
    let as_of = as_of
        .map(|d| parse_date("as_of", d))
        .transpose()
        .py_err(py)?;
    let options = Options {
        churn_silent_months,
        min_segment_partners,
        warn_segment_partners,
        draws,
        bootstrap,
        seed,
        as_of,
    };
    let tx = &history.inner;
    let p = partners.map(|p| &p.inner);
    let prog = programme.map(|p| &p.get().compiled);
    py.detach(|| calibrate_with(tx, p, prog, &options))
        .py_err(py)
        .map(|inner| PyCalibration { inner })
}

/// Add the calibration's class and function to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCalibration>()?;
    m.add_function(wrap_pyfunction!(calibrate, m)?)?;
    Ok(())
}
