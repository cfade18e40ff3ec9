//! The exact settlement engine: what every partner is owed from actual purchases, to the
//! cent, line by line, with an explanation a partner can check by hand.
//!
//! [`settle`] measures each partner's transactions per component and period, runs the
//! calculation kernel ([`crate::rules`]) in exact decimals, applies the programme budget, and
//! produces one [`Line`] per partner, component and period with every adjustment as a signed
//! column, so that `calculated + adjustments = payable` on every line and the partner and
//! programme totals are sums of lines. The definitions are in `docs/calculations.md`.
//!
//! - `settle`: the run ([`settle`]): measures, kernel, budget, lines, standing.
//! - `measure`: a partner's purchases into the kernel's measures (shared with the forecast).
//! - `result`: [`Line`], [`Totals`], [`Standing`], [`Settlement`] and their JSON output.
//! - `columns`: the lines held as columns, and what their explanations are rebuilt from.
//! - `lines`: [`Line`]s built from the columns when asked, with their explanations.
//! - `explain`: every line's explanation and a partner's statement.
//! - `text`: how numbers, rewards and names are written.
//! - `csv`: the CSV files (lines with explanations, partners, standings), written as they go.
//! - `arrow`: the lines, partner totals and standings as Arrow record batches, Parquet.
//! - `breakdown`: totals per component and segment (the command line's summary).
//! - `finish`: each line's budget cut and payable, the partner and programme totals.
//! - `amounts`: a line's amounts from a partner's pipeline, in `Decimal`s or minor units.
//! - `units`: a line's amounts as integer minor units (or `Decimal`s when they do not fit).

mod amounts;
mod arrow;
mod breakdown;
mod columns;
mod csv;
mod explain;
mod finish;
mod lines;
mod measure;
mod result;
mod settle;
mod text;
mod units;

pub use arrow::MoneyAs;
pub use breakdown::{ComponentTotal, SegmentTotal};
pub(crate) use columns::zeroed;
pub(crate) use measure::{fill_measures_with, CategoryLookup, OrderKey};
pub use result::{Line, PartnerTotal, Settlement, Standing, Totals, LINE_COLUMNS};
pub use settle::settle;
pub(crate) use settle::settle_for_forecast;
pub use text::money_text;
