//! Tables and settlement: `rebatesim._core.PartnerTable`, `TransactionTable`,
//! `settle` and `SettlementResult`.

use super::errors::IntoPy;
use super::programme::PyProgramme;
use crate::data::{Partners, Transactions};
use crate::settlement::{settle as core_settle, Settlement};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rust_decimal::Decimal;
use std::path::PathBuf;

/// A partner table (`partner_id`, `segment`, `baseline_revenue`, `baseline_units`).
#[pyclass(name = "PartnerTable", module = "rebatesim._core", frozen)]
pub(crate) struct PyPartners {
    pub(crate) inner: Partners,
}

#[pymethods]
impl PyPartners {
    /// Read a partner table from a CSV file.
    #[staticmethod]
    fn from_csv_path(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| Partners::from_csv_path(&path))
            .py_err(py)
            .map(|inner| PyPartners { inner })
    }

    /// Read a partner table from CSV text; `table` names it in error messages.
    #[staticmethod]
    fn from_csv_text(py: Python<'_>, text: &str, table: &str) -> PyResult<Self> {
        py.detach(|| Partners::from_csv_str(text, table))
            .py_err(py)
            .map(|inner| PyPartners { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "PartnerTable({:?}, {} partners)",
            self.inner.table,
            self.inner.len()
        )
    }
}

/// A transaction table (`partner_id`, `date`, `quantity`, `revenue`, optional `category`,
/// `order_id`).
#[pyclass(name = "TransactionTable", module = "rebatesim._core", frozen)]
pub(crate) struct PyTransactions {
    pub(crate) inner: Transactions,
}

#[pymethods]
impl PyTransactions {
    /// Read transactions from a CSV file.
    #[staticmethod]
    fn from_csv_path(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| Transactions::from_csv_path(&path))
            .py_err(py)
            .map(|inner| PyTransactions { inner })
    }

    /// Read transactions from CSV text; `table` names it in error messages.
    #[staticmethod]
    fn from_csv_text(py: Python<'_>, text: &str, table: &str) -> PyResult<Self> {
        py.detach(|| Transactions::from_csv_str(text, table))
            .py_err(py)
            .map(|inner| PyTransactions { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "TransactionTable({:?}, {} lines)",
            self.inner.table,
            self.inner.len()
        )
    }
}

/// The result of a settlement (see `rebatesim.Settlement` for the public API).
#[pyclass(name = "SettlementResult", module = "rebatesim._core", frozen)]
pub(crate) struct PySettlement {
    inner: Settlement,
}

/// Settle `programme` on `transactions` of the partners in `partners` (GIL released).
#[pyfunction]
pub(crate) fn settle(
    py: Python<'_>,
    programme: &Bound<'_, PyProgramme>,
    partners: &Bound<'_, PyPartners>,
    transactions: &Bound<'_, PyTransactions>,
) -> PyResult<PySettlement> {
    let (c, p, t) = (
        &programme.get().compiled,
        &partners.get().inner,
        &transactions.get().inner,
    );
    py.detach(|| core_settle(c, p, t))
        .py_err(py)
        .map(|inner| PySettlement { inner })
}

fn dec(d: Decimal) -> String {
    d.to_string()
}

fn opt_dec(d: Option<Decimal>) -> Option<String> {
    d.map(dec)
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

    /// Number of lines.
    fn __len__(&self) -> usize {
        self.inner.lines.len()
    }

    /// The lines as columns: name → list (amounts as exact decimal strings, dates as
    /// YYYY-MM-DD strings).
    fn lines_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let l = &self.inner.lines;
        let d = PyDict::new(py);
        macro_rules! col {
            ($name:literal, $f:expr) => {
                d.set_item($name, l.iter().map($f).collect::<Vec<_>>())?;
            };
        }
        col!("partner_id", |x| x.partner_id.clone());
        col!("segment", |x| x.segment.clone());
        col!("component", |x| x.component.clone());
        col!("kind", |x| x.kind.clone());
        col!("period", |x| x.period);
        col!("period_label", |x| x.period_label.clone());
        col!("period_start", |x| x.period_start.to_string());
        col!("period_end", |x| x.period_end.to_string());
        col!("basis", |x| x.basis.clone());
        col!("volume_period", |x| dec(x.volume_period));
        col!("volume_to_date", |x| dec(x.volume_to_date));
        col!("tier", |x| x.tier);
        col!("tier_threshold", |x| opt_dec(x.tier_threshold));
        col!("reward", |x| x.reward.clone());
        col!("calculated", |x| dec(x.calculated));
        col!("adj_component_cap", |x| dec(x.adj_component_cap));
        col!("adj_exclusive_group", |x| dec(x.adj_exclusive_group));
        col!("adj_partner_cap", |x| dec(x.adj_partner_cap));
        col!("adj_minimum_payout", |x| dec(x.adj_minimum_payout));
        col!("adj_budget_cut", |x| dec(x.adj_budget_cut));
        col!("payable", |x| dec(x.payable));
        col!("payment_date", |x| x.payment_date.to_string());
        col!("explanation", |x| x.explanation.clone());
        Ok(d)
    }

    /// Totals per partner as columns (amounts as exact decimal strings).
    fn partners_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = &self.inner.partners;
        let d = PyDict::new(py);
        macro_rules! col {
            ($name:literal, $f:expr) => {
                d.set_item($name, p.iter().map($f).collect::<Vec<_>>())?;
            };
        }
        col!("partner_id", |x| x.partner_id.clone());
        col!("segment", |x| x.segment.clone());
        col!("calculated", |x| dec(x.totals.calculated));
        col!("adj_component_cap", |x| dec(x.totals.adj_component_cap));
        col!("adj_exclusive_group", |x| dec(x.totals.adj_exclusive_group));
        col!("adj_partner_cap", |x| dec(x.totals.adj_partner_cap));
        col!("adj_minimum_payout", |x| dec(x.totals.adj_minimum_payout));
        col!("adj_budget_cut", |x| dec(x.totals.adj_budget_cut));
        col!("payable", |x| dec(x.totals.payable));
        Ok(d)
    }

    /// Standing against the next tier as columns.
    fn standing_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.inner.standing;
        let d = PyDict::new(py);
        macro_rules! col {
            ($name:literal, $f:expr) => {
                d.set_item($name, s.iter().map($f).collect::<Vec<_>>())?;
            };
        }
        col!("partner_id", |x| x.partner_id.clone());
        col!("component", |x| x.component.clone());
        col!("period", |x| x.period);
        col!("period_label", |x| x.period_label.clone());
        col!("tier", |x| x.tier);
        col!("volume", |x| dec(x.volume));
        col!("next_tier", |x| x.next_tier);
        col!("next_threshold", |x| opt_dec(x.next_threshold));
        col!("shortfall", |x| opt_dec(x.shortfall));
        col!("additional_payout", |x| opt_dec(x.additional_payout));
        Ok(d)
    }

    /// Programme totals: name → exact decimal string.
    fn totals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = &self.inner.total;
        let d = PyDict::new(py);
        d.set_item("calculated", dec(t.calculated))?;
        d.set_item("adj_component_cap", dec(t.adj_component_cap))?;
        d.set_item("adj_exclusive_group", dec(t.adj_exclusive_group))?;
        d.set_item("adj_partner_cap", dec(t.adj_partner_cap))?;
        d.set_item("adj_minimum_payout", dec(t.adj_minimum_payout))?;
        d.set_item("adj_budget_cut", dec(t.adj_budget_cut))?;
        d.set_item("payable", dec(t.payable))?;
        Ok(d)
    }

    /// A statement for one partner (raises RequestError for an unknown id).
    fn explain(&self, py: Python<'_>, partner_id: &str) -> PyResult<String> {
        self.inner.explain(partner_id).py_err(py)
    }

    /// The lines as CSV text.
    fn lines_csv(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.lines_csv().py_err(py)
    }

    /// The whole settlement as JSON (amounts as exact decimal strings).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.to_json().py_err(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "SettlementResult({:?}, {} lines, payable {} {})",
            self.inner.programme,
            self.inner.lines.len(),
            self.inner.total.payable,
            self.inner.currency
        )
    }
}
