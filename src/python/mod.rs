//! The thin pyo3 layer exposed as `rebatesim._core`: converts inputs, releases
//! the GIL for long work, maps [`crate::Error`] to Python exceptions.

use pyo3::prelude::*;

/// The `rebatesim._core` extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
