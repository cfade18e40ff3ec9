//! `rebatesim._core.ProgrammeSpec`: a parsed and validated programme.

use super::errors::IntoPy;
use crate::programme::{Compiled, Programme};
use crate::request::{parse_format, without_position};
use pyo3::prelude::*;
use std::path::PathBuf;

/// A programme read from a file or text, always validated (an invalid programme never
/// exists as an object).
#[pyclass(name = "ProgrammeSpec", module = "rebatesim._core", frozen)]
pub(crate) struct PyProgramme {
    pub(crate) spec: Programme,
    pub(crate) compiled: Compiled,
}

#[pymethods]
impl PyProgramme {
    /// Parse `text` in `format` ("toml", "json" or "yaml") and validate it. `file` names the
    /// source in error messages; `positions=False` drops line/column from errors (for text
    /// generated from a dict).
    #[staticmethod]
    #[pyo3(signature = (text, format, file=None, positions=true))]
    fn from_text(
        py: Python<'_>,
        text: &str,
        format: &str,
        file: Option<&str>,
        positions: bool,
    ) -> PyResult<Self> {
        let fmt = parse_format(format).py_err(py)?;
        let result = Programme::from_str(text, fmt, file).and_then(|spec| {
            let compiled = spec.compile_located(text, fmt, file)?;
            Ok(PyProgramme { spec, compiled })
        });
        let result = if positions {
            result
        } else {
            result.map_err(without_position)
        };
        result.py_err(py)
    }

    /// Read and validate a programme file (format from the extension).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let result = Programme::from_file(&path).and_then(|spec| {
            let compiled = spec.compile()?;
            Ok(PyProgramme { spec, compiled })
        });
        result.py_err(py)
    }

    /// The programme in `format` ("toml", "json" or "yaml"); reading it back gives an equal
    /// programme.
    fn to_text(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let fmt = parse_format(format).py_err(py)?;
        self.spec.to_string(fmt).py_err(py)
    }

    /// Validate again (a ProgrammeSpec is validated when built, so this only re-checks).
    fn validate(&self, py: Python<'_>) -> PyResult<()> {
        self.spec.compile().map(|_| ()).py_err(py)
    }

    /// The compiled programme described as JSON: defaults filled in, periods with labels and
    /// payment dates, components with their ladders (amounts as exact decimal strings).
    fn describe(&self) -> String {
        self.compiled.describe().to_string()
    }

    /// Programme name.
    #[getter]
    fn name(&self) -> String {
        self.compiled.name.clone()
    }

    /// Currency code.
    #[getter]
    fn currency(&self) -> String {
        self.compiled.currency.clone()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyProgramme>() {
            Ok(o) => o.get().spec == self.spec,
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "ProgrammeSpec({:?}, {} components)",
            self.compiled.name,
            self.compiled.components.len()
        )
    }
}
