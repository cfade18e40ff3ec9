//! Design search from Python (`rebatesim.search`): the search space checked against its
//! template and its candidate programmes, and the Clopper–Pearson bound of a chance
//! constraint. Conversion only: the work is `crate::search`.

use super::errors::IntoPy;
use super::programme::PyProgramme;
use crate::request::parse_format;
use crate::search::{clopper_pearson_upper as cp_upper, Space};
use pyo3::prelude::*;

/// A search space (`docs/search.md`) checked against a programme template.
#[pyclass(name = "SearchSpace", module = "rebatesim._core", frozen)]
pub(crate) struct PySearchSpace {
    inner: Space,
}

#[pymethods]
impl PySearchSpace {
    /// Parse `text` in `format` and check it against `template`; `file` names the source in
    /// errors.
    #[staticmethod]
    #[pyo3(signature = (text, format, template, file=None))]
    fn from_text(
        py: Python<'_>,
        text: &str,
        format: &str,
        template: &Bound<'_, PyProgramme>,
        file: Option<&str>,
    ) -> PyResult<Self> {
        let fmt = parse_format(format).py_err(py)?;
        Space::from_str(text, fmt, file, &template.get().spec)
            .py_err(py)
            .map(|inner| PySearchSpace { inner })
    }

    /// The searched fields, as written.
    fn fields(&self) -> Vec<String> {
        self.inner
            .parameters
            .iter()
            .map(|p| p.field.clone())
            .collect()
    }

    /// Each field's candidate values (exact decimal strings, increasing).
    fn levels(&self) -> Vec<Vec<String>> {
        self.inner
            .parameters
            .iter()
            .map(|p| p.levels.iter().map(|d| d.normalize().to_string()).collect())
            .collect()
    }

    /// The template's level index of each field (None when its value is off the grid).
    fn current(&self) -> Vec<Option<usize>> {
        self.inner.current()
    }

    /// Description of the space, if any.
    #[getter]
    fn description(&self) -> Option<String> {
        self.inner.description.clone()
    }

    /// The programme of the candidate with these level indices, or (None, why not) when it
    /// breaks a structural rule or the programme's validation.
    fn candidate(
        &self,
        py: Python<'_>,
        index: Vec<usize>,
    ) -> PyResult<(Option<PyProgramme>, Option<String>)> {
        match self.inner.candidate(&index).py_err(py)? {
            Err(why) => Ok((None, Some(why))),
            Ok(spec) => match spec.compile() {
                Ok(compiled) => Ok((Some(PyProgramme { spec, compiled }), None)),
                Err(e) => Ok((None, Some(e.to_string()))),
            },
        }
    }
}

/// The one-sided Clopper–Pearson upper bound of a probability with `k` events in `n` trials.
#[pyfunction]
fn clopper_pearson_upper(k: u64, n: u64, confidence: f64) -> f64 {
    cp_upper(k, n, confidence)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySearchSpace>()?;
    m.add_function(wrap_pyfunction!(clopper_pearson_upper, m)?)?;
    Ok(())
}
