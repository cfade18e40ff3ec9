//! `rebatesim._core.SettlementResult`: a settlement's tables as Arrow (money exact as
//! decimal128 or as float64), explanations and statements on demand, and its files written
//! straight from the core's columns (see `rebatesim.Settlement` for the public API).

use super::errors::IntoPy;
use super::tables::{one, table};
use crate::settlement::{MoneyAs, Settlement};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;
use std::path::PathBuf;

/// The result of a settlement (see `rebatesim.Settlement` for the public API).
#[pyclass(name = "SettlementResult", module = "rebatesim._core", frozen)]
pub(crate) struct PySettlement {
    inner: Settlement,
}

impl PySettlement {
    pub(crate) fn new(inner: Settlement) -> Self {
        PySettlement { inner }
    }
}

fn money_as(exact: bool) -> MoneyAs {
    if exact {
        MoneyAs::Decimal
    } else {
        MoneyAs::Float
    }
}

#[pymethods]
impl PySettlement {
    /// Programme name.
    #[getter]
    fn programme(&self) -> String {
        self.inner.programme.clone()
    }

    /// Currency code.
    #[getter]
    fn currency(&self) -> String {
        self.inner.currency.clone()
    }

    /// Decimal places of the currency.
    #[getter]
    fn decimals(&self) -> u32 {
        self.inner.decimals
    }

    /// Whether the budget cut applied in any period.
    #[getter]
    fn budget_binding(&self) -> bool {
        self.inner.budget_binding
    }

    /// Number of partners.
    #[getter]
    fn partner_count(&self) -> usize {
        self.inner.partners.len()
    }

    /// Number of lines.
    fn __len__(&self) -> usize {
        self.inner.line_count()
    }

    /// The lines as an Arrow table: money exact (decimal128) or as float64; with
    /// `explanation`, each line's explanation (built now) as a last column.
    #[pyo3(signature = (exact, explanation = false))]
    fn lines_table(&self, py: Python<'_>, exact: bool, explanation: bool) -> PyResult<PyTable> {
        let money = money_as(exact);
        let batches = py
            .detach(|| self.inner.lines_batches(money, explanation))
            .py_err(py)?;
        table(batches, self.inner.lines_schema(money, explanation))
    }

    /// Totals per partner as an Arrow table.
    fn partners_table(&self, py: Python<'_>, exact: bool) -> PyResult<PyTable> {
        one(self.inner.partners_batch(money_as(exact)).py_err(py)?)
    }

    /// Standing against the next tier as an Arrow table.
    fn standings_table(&self, py: Python<'_>, exact: bool) -> PyResult<PyTable> {
        one(self.inner.standings_batch(money_as(exact)).py_err(py)?)
    }

    /// Programme totals: name → exact decimal string.
    fn totals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = &self.inner.total;
        let d = PyDict::new(py);
        for (name, v) in crate::settlement::LINE_COLUMNS[14..21]
            .iter()
            .zip(t.amounts())
        {
            d.set_item(*name, v.to_string())?;
        }
        Ok(d)
    }

    /// Per component with lines: (component, kind, partners paid, calculated, payable),
    /// amounts as exact decimal strings.
    fn by_component(&self) -> Vec<(String, String, usize, String, String)> {
        self.inner
            .by_component()
            .into_iter()
            .map(|c| {
                (
                    c.component,
                    c.kind,
                    c.partners_paid,
                    c.calculated.to_string(),
                    c.payable.to_string(),
                )
            })
            .collect()
    }

    /// Per segment: (segment, partners, paid, payable as an exact decimal string).
    fn by_segment(&self) -> Vec<(String, usize, usize, String)> {
        self.inner
            .by_segment()
            .into_iter()
            .map(|s| (s.segment, s.partners, s.paid, s.payable.to_string()))
            .collect()
    }

    /// A statement for one partner (raises RequestError for an unknown id).
    fn explain(&self, py: Python<'_>, partner_id: &str) -> PyResult<String> {
        self.inner.explain(partner_id).py_err(py)
    }

    /// The explanations of the lines at `rows` (positions in line order).
    fn explanations(&self, py: Python<'_>, rows: Vec<usize>) -> PyResult<Vec<String>> {
        py.detach(|| self.inner.explanations(&rows)).py_err(py)
    }

    /// The lines as CSV text (with explanations).
    fn lines_csv(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.lines_csv()).py_err(py)
    }

    /// Write the lines as CSV (with explanations) to `path`, atomically.
    fn write_lines_csv(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.write_csv(&path)).py_err(py)
    }

    /// Write the lines (exact amounts) as Parquet to `path`, atomically.
    #[pyo3(signature = (path, explanation = false))]
    fn write_lines_parquet(
        &self,
        py: Python<'_>,
        path: PathBuf,
        explanation: bool,
    ) -> PyResult<()> {
        py.detach(|| self.inner.write_lines_parquet(&path, explanation))
            .py_err(py)
    }

    /// The partner totals as CSV text.
    fn partners_csv(&self) -> String {
        self.inner.partners_csv()
    }

    /// The standings as CSV text.
    fn standings_csv(&self) -> String {
        self.inner.standings_csv()
    }

    /// The whole settlement as JSON (amounts as exact decimal strings).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.to_json()).py_err(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "SettlementResult({:?}, {} lines, payable {} {})",
            self.inner.programme,
            self.inner.line_count(),
            self.inner.total.payable,
            self.inner.currency
        )
    }
}
