//! Tables and settlement: `rebatesim._core.PartnerTable`, `TransactionTable` and `settle`
//! (its result, `SettlementResult`, in `settlement.rs`).

use super::errors::IntoPy;
use super::programme::PyProgramme;
use super::settlement::PySettlement;
use crate::data::{Partners, Transactions};
use crate::settlement::settle as core_settle;
use pyo3::prelude::*;
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
        .map(PySettlement::new)
}
