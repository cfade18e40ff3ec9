//! The one mapping from [`crate::Error`] to Python exceptions.
//!
//! The exception classes live in `rebatesim/exceptions.py` (so that they can be
//! documented, pickled and subclassed like any Python class); this module
//! builds an instance of the right class with its location attributes. The
//! `match` is exhaustive: a new `Error` variant does not compile until it is
//! mapped here.

use crate::error::{DataError, Error, FieldError};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Build the Python exception for a core error.
pub(crate) fn to_py(py: Python<'_>, err: Error) -> PyErr {
    match build(py, &err) {
        Ok(e) => e,
        // The exceptions module could not be imported (a broken installation): still raise,
        // with the full message, rather than lose the error.
        Err(import_err) => PyRuntimeError::new_err(format!(
            "{err} (and rebatesim.exceptions failed: {import_err})"
        )),
    }
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let message = err.to_string();
    let kwargs = PyDict::new(py);
    let class = match err {
        Error::Programme(fe) => {
            field_kwargs(&kwargs, fe)?;
            "ProgrammeError"
        }
        Error::Model(fe) => {
            field_kwargs(&kwargs, fe)?;
            "ModelError"
        }
        Error::Space(fe) => {
            field_kwargs(&kwargs, fe)?;
            "SearchSpaceError"
        }
        Error::Data(de) => {
            data_kwargs(&kwargs, de)?;
            "DataError"
        }
        Error::Request(_) => "RequestError",
        Error::Io { path, .. } => {
            kwargs.set_item("path", path)?;
            "FileError"
        }
        Error::Cancelled => return Ok(PyKeyboardInterrupt::new_err("cancelled")),
    };
    let module = py.import("rebatesim.exceptions")?;
    let instance = module.getattr(class)?.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

fn field_kwargs(kwargs: &Bound<'_, PyDict>, fe: &FieldError) -> PyResult<()> {
    kwargs.set_item("file", &fe.file)?;
    kwargs.set_item("path", &fe.path)?;
    kwargs.set_item("line", fe.line)?;
    kwargs.set_item("column", fe.column)?;
    kwargs.set_item("reason", &fe.message)?;
    // every error found, this one first: (file, path, line, column, reason) each
    let all: Vec<_> = fe
        .all()
        .map(|e| (&e.file, &e.path, e.line, e.column, &e.message))
        .collect();
    kwargs.set_item("errors", all)?;
    Ok(())
}

fn data_kwargs(kwargs: &Bound<'_, PyDict>, de: &DataError) -> PyResult<()> {
    kwargs.set_item("table", &de.table)?;
    kwargs.set_item("row", de.row)?;
    kwargs.set_item("column", &de.column)?;
    kwargs.set_item("reason", &de.message)?;
    Ok(())
}

/// `?`-friendly conversion of core results at the boundary.
pub(crate) trait IntoPy<T> {
    /// Map the error to its Python exception.
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for crate::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}
