//! The estimator stages of [`super::calibrate`], one function per stage, run in the order
//! they appear here; each adds its estimates, model fields and warnings to an [`Acc`] and
//! returns what the later stages need.

pub(super) mod behaviour;
pub(super) mod checks;
pub(super) mod components;
pub(super) mod incidence;
pub(super) mod level;
pub(super) mod market;
pub(super) mod mixes;
pub(super) mod order_size;
pub(super) mod ratios;
pub(super) mod report;
pub(super) mod seasonality;
pub(super) mod segment_factor;

use super::panel::Panel;
use super::{Estimate, Options};
use crate::data::Transactions;
use crate::demand::Model;

/// What every stage reads: the panel, the options and its dimensions.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub p: &'a Panel,
    pub options: &'a Options,
    pub history: &'a Transactions,
    /// Name of the partner table, for error messages.
    pub ptable: &'a str,
    /// Partners with purchases.
    pub n: usize,
    /// Months of history.
    pub t_len: usize,
    /// Segments.
    pub g_len: usize,
}

impl<'a> Ctx<'a> {
    /// Name of segment `g`.
    pub fn seg_name(&self, g: usize) -> String {
        self.p.segments[g].clone()
    }

    /// Segment `g` for an [`Estimate`] (`None` when the history has no segments).
    pub fn seg_opt(&self, g: usize) -> Option<&'a str> {
        if self.g_len == 1 && self.p.segments[0].is_empty() {
            None
        } else {
            Some(self.p.segments[g].as_str())
        }
    }
}

/// What the stages accumulate, in order: estimates, the model, warnings.
pub(super) struct Acc {
    pub estimates: Vec<Estimate>,
    pub model: Model,
    pub warnings: Vec<String>,
}
