//! A sensitivity analysis as Arrow record batches (built here, so that the Python binding
//! and a Rust user get the same tables; the summaries as [`crate::outcomes::arrow`] lays
//! them out):
//! - **meta** ([`Sensitivity::meta_batch`]): one row: programme, currency, seed, scenarios,
//!   parameter_draws (`K`, 0 without);
//! - **assumptions** ([`Sensitivity::assumptions_batch`]): one row per assumption, in the
//!   analysis's order: assumption, parameter (null for two models), low_label, high_label,
//!   base_value, low_value, high_value (null where the parameter has no single value);
//! - **base** ([`Sensitivity::base_batch`]): the base run's summaries (outcome, statistic,
//!   value, se rows; outcomes payout, roi, incremental_margin);
//! - **summaries** ([`Sensitivity::summaries_batch`]): per assumption (in order) and run
//!   (`low`, `high`, then the paired differences `low_vs_base`, `high_vs_base`, `swing`),
//!   the same summary rows after the key columns `assumption` and `run`.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};

use super::results::{Difference, Outcome, Output, Sensitivity};
use crate::error::Result;
use crate::outcomes::arrow::{named_batch as batch, SummaryRows};
use crate::summary::Summary;

/// The outputs of a run or a difference, in table order.
const OUTPUTS: [Output; 3] = [Output::Payout, Output::Roi, Output::IncrementalMargin];

/// The summaries of `get` for each output, appended under `keys`.
fn outputs<'a>(rows: &mut SummaryRows, keys: &[&str], get: impl Fn(Output) -> &'a Summary) {
    for output in OUTPUTS {
        rows.distribution(keys, output.name(), get(output));
    }
}

impl Sensitivity {
    /// The metadata as a one-row table (see the module header).
    pub fn meta_batch(&self) -> Result<RecordBatch> {
        batch(
            vec![
                (
                    "programme",
                    Arc::new(StringArray::from(vec![self.programme.clone()])),
                ),
                (
                    "currency",
                    Arc::new(StringArray::from(vec![self.currency.clone()])),
                ),
                ("seed", Arc::new(UInt64Array::from(vec![self.seed]))),
                (
                    "scenarios",
                    Arc::new(UInt64Array::from(vec![self.scenarios as u64])),
                ),
                (
                    "parameter_draws",
                    Arc::new(UInt64Array::from(vec![self.parameter_draws as u64])),
                ),
            ],
            &[],
        )
    }

    /// One row per assumption (see the module header).
    pub fn assumptions_batch(&self) -> Result<RecordBatch> {
        let rows = &self.rows;
        let text = |f: &dyn Fn(usize) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from(
                (0..rows.len()).map(f).collect::<Vec<_>>(),
            ))
        };
        let number = |f: &dyn Fn(usize) -> Option<f64>| -> ArrayRef {
            Arc::new(Float64Array::from(
                (0..rows.len()).map(f).collect::<Vec<_>>(),
            ))
        };
        batch(
            vec![
                ("assumption", text(&|i| Some(rows[i].assumption.clone()))),
                ("parameter", text(&|i| rows[i].parameter.clone())),
                ("low_label", text(&|i| Some(rows[i].low_label.clone()))),
                ("high_label", text(&|i| Some(rows[i].high_label.clone()))),
                ("base_value", number(&|i| rows[i].base_value)),
                ("low_value", number(&|i| rows[i].low_value)),
                ("high_value", number(&|i| rows[i].high_value)),
            ],
            &["parameter", "base_value", "low_value", "high_value"],
        )
    }

    /// The base run's summaries (see the module header).
    pub fn base_batch(&self) -> Result<RecordBatch> {
        let mut rows = SummaryRows::new(&[]);
        outputs(&mut rows, &[], |o| self.base.get(o));
        rows.finish()
    }

    /// Every assumption's runs and differences (see the module header).
    pub fn summaries_batch(&self) -> Result<RecordBatch> {
        let mut rows = SummaryRows::new(&["assumption", "run"]);
        for r in &self.rows {
            let a = r.assumption.as_str();
            let runs: [(&str, &Outcome); 2] = [("low", &r.low), ("high", &r.high)];
            for (run, o) in runs {
                outputs(&mut rows, &[a, run], |x| o.get(x));
            }
            let differences: [(&str, &Difference); 3] = [
                ("low_vs_base", &r.low_vs_base),
                ("high_vs_base", &r.high_vs_base),
                ("swing", &r.swing),
            ];
            for (run, d) in differences {
                outputs(&mut rows, &[a, run], |x| d.get(x));
            }
        }
        rows.finish()
    }
}
