//! The thin pyo3 layer exposed as `rebatesim._core`: converts inputs, releases
//! the GIL for long work, maps [`crate::Error`] to Python exceptions
//! (`errors.rs`, one exhaustive `match`). The Python package `rebatesim`
//! (python/rebatesim/) wraps these classes in the public, documented API.

mod errors;
mod programme;

use pyo3::prelude::*;

/// The `rebatesim._core` extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<programme::PyProgramme>()?;
    Ok(())
}
