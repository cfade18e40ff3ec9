//! # rebatesim
//!
//! Design, simulate and budget B2B volume-incentive rebate programmes.
//!
//! - [`backtest`]: the backtest harness: forecasts from actuals to date against synthetic years.
//! - [`programme`]: the programme definition (TOML/JSON/YAML), validated into a typed form.
//! - [`money`]: currencies, declared rounding rules, exact allocation to the cent.
//! - [`outcomes`]: the list of outcomes and matrices a simulation reports (shape, unit, meaning).
//! - [`calendar`]: programme periods and payment dates.
//! - [`calibrate`]: a demand model estimated from transaction history, with standard errors.
//! - [`charts`]: finance-ready charts (SVG and PNG) drawn with plotters.
//! - [`data`]: partner and transaction tables (CSV, exact decimals, located errors).
//! - [`tables`]: the same tables from Arrow record batches and Parquet files.
//! - [`request`]: requests as front ends pass them (options as text, every one optional), resolved.
//! - [`document`]: the file formats of programmes and models (TOML/JSON/YAML), located errors.
//! - [`rules`]: the calculation kernel, generic over `Decimal` and `f64`.
//! - [`population`], [`demand`], [`rng`]: partner populations, the demand model, keyed random streams.
//! - [`run`]: the run driver: threads, chunks, progress and cancel, the memory guard.
//! - [`sensitivity`]: one-at-a-time sensitivity of payout and ROI to the model's assumptions.
//! - [`settlement`]: the exact settlement engine: lines, totals, explanations.
//! - [`error`]: the one error type, locating every problem by field path or table row.
//!
//! The Python binding (`rebatesim._core`) lives behind the `python` feature; the core
//! builds and tests with plain `cargo test`.

#![warn(missing_docs)]

/// Two copies of the `#[inline(always)]` function `$kernel`, compiled for AVX-512 (F and DQ)
/// and for AVX2 (`unsafe fn $avx512(..)` and `unsafe fn $avx2(..)`, same arguments), so that
/// a caller can pick one at run time after `is_x86_feature_detected!`; any attributes given
/// first (e.g. `#[cfg(test)]`) go on both.
macro_rules! isa_versions {
    ($(#[$m:meta])* $kernel:ident => $avx512:ident, $avx2:ident, ($($arg:ident: $ty:ty),* $(,)?)) => {
        $(#[$m])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512dq")]
        unsafe fn $avx512($($arg: $ty),*) {
            $kernel($($arg),*)
        }

        $(#[$m])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx2($($arg: $ty),*) {
            $kernel($($arg),*)
        }
    };
}
pub(crate) use isa_versions;

pub mod backtest;
pub mod calendar;
pub mod calibrate;
pub mod charts;
pub mod data;
pub mod demand;
pub mod document;
pub mod engine;
pub mod error;
pub mod forecast;
pub mod limits;
pub mod money;
pub mod monthly_baselines;
pub mod outcomes;
pub mod population;
pub mod programme;
pub mod records;
pub mod request;
pub mod rng;
pub mod rules;
pub mod run;
pub mod search;
pub mod sensitivity;
pub mod settlement;
pub mod summary;
pub mod tables;
pub mod wire;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
