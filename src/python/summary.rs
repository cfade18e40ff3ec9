//! Summary helpers on arrays the Python layer already holds (the per-scenario paths of a
//! simulation result): thin wrappers over [`crate::summary`].

use numpy::{PyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::summary::{cumulative_bands, Estimate};

/// Bands of the cumulative sums of a scenarios × months matrix of monthly amounts: a dict of
/// arrays (one value per month) `month_mean`, `month_mean_se`, `mean`, `mean_se`, `p10`,
/// `p10_se`, … `p90`, `p90_se` (see `rebatesim::summary::cumulative_bands`).
#[pyfunction]
#[pyo3(name = "cumulative_bands")]
pub(crate) fn cumulative_bands_of<'py>(
    py: Python<'py>,
    monthly: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let a = monthly.as_array();
    let (n, m) = a.dim();
    let values: Vec<f64> = a.iter().copied().collect();
    let b = py.detach(|| cumulative_bands(&values, n, m));
    let d = PyDict::new(py);
    let put = |key: &str, v: &[Estimate]| -> PyResult<()> {
        let value: Vec<f64> = v.iter().map(|e| e.value).collect();
        let se: Vec<f64> = v.iter().map(|e| e.se).collect();
        d.set_item(key, PyArray1::from_vec(py, value))?;
        d.set_item(format!("{key}_se"), PyArray1::from_vec(py, se))
    };
    put("month_mean", &b.month_mean)?;
    put("mean", &b.mean)?;
    put("p10", &b.p10)?;
    put("p25", &b.p25)?;
    put("p50", &b.p50)?;
    put("p75", &b.p75)?;
    put("p90", &b.p90)?;
    Ok(d)
}
