//! The thin pyo3 layer exposed as `rebatesim._core`: converts inputs into the core's
//! requests (`crate::request`, where every decision is made), releases the GIL for long work
//! and watches for Ctrl-C (`run.rs`), converts results (`convert.rs`, driven by the core's list
//! of outcomes), maps [`crate::Error`] to Python exceptions (`errors.rs`, one exhaustive
//! `match`). The Python package `rebatesim`
//! (python/rebatesim/) wraps these classes in the public, documented API.

mod backtest;
mod calibrate;
mod charts;
mod convert;
mod errors;
mod forecast;
mod programme;
mod read;
mod run;
mod search;
mod sensitivity;
mod settle;
mod settlement;
mod shard;
mod simulate;
mod summary;
mod tables;

use pyo3::prelude::*;

/// The `rebatesim._core` extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<programme::PyProgramme>()?;
    m.add_class::<settle::PyPartners>()?;
    m.add_class::<settle::PyTransactions>()?;
    m.add_class::<settlement::PySettlement>()?;
    m.add_function(wrap_pyfunction!(settle::settle, m)?)?;
    m.add_class::<simulate::PyPopulation>()?;
    m.add_class::<simulate::PyModel>()?;
    m.add_class::<simulate::PySimResult>()?;
    m.add_class::<simulate::PyComparison>()?;
    m.add_function(wrap_pyfunction!(simulate::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(simulate::compare, m)?)?;
    m.add_function(wrap_pyfunction!(convert::outcomes, m)?)?;
    m.add_class::<sensitivity::PySensitivity>()?;
    m.add_function(wrap_pyfunction!(sensitivity::sensitivity, m)?)?;
    m.add_function(wrap_pyfunction!(sensitivity::sensitivity_parameters, m)?)?;
    m.add_function(wrap_pyfunction!(sensitivity::sensitivity_models, m)?)?;
    m.add_function(wrap_pyfunction!(sensitivity::sensitivity_draws, m)?)?;
    m.add_function(wrap_pyfunction!(sensitivity::sensitivity_merge, m)?)?;
    m.add_function(wrap_pyfunction!(summary::cumulative_bands_of, m)?)?;
    m.add_class::<backtest::PyBacktest>()?;
    m.add_function(wrap_pyfunction!(backtest::backtest, m)?)?;
    m.add_function(wrap_pyfunction!(backtest::backtest_years, m)?)?;
    m.add_function(wrap_pyfunction!(backtest::backtest_concat, m)?)?;
    charts::register(m)?;
    forecast::register(m)?;
    calibrate::register(m)?;
    shard::register(m)?;
    search::register(m)?;
    read::register(m)?;
    Ok(())
}
