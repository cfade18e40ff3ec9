//! The per-worker scratch of a run ([`Work`]), allocated once per worker and reused for
//! every partner, and what one partner's run produced ([`RunOut`]).

use super::setup::Setup;
use crate::rules::{slot, PartnerScratch};

#[derive(Debug, Clone, Copy)]
pub(crate) struct LineV {
    pub(crate) month: u32,
    pub(crate) cat: u32,
    pub(crate) order: u32,
    pub(crate) r: f64,
    /// Quantity in millionths of a unit (a whole number; negative for returns).
    pub(crate) q: f64,
}

pub(crate) struct Work {
    pub(crate) scratch: PartnerScratch<f64>,
    pub(crate) measures: Vec<f64>,
    pub(crate) window: Vec<f64>,
    pub(crate) market: Vec<f64>,
    /// Every month's market factor in `market` is finite and positive (set with it by
    /// [`Setup::scenario_factors`]; false whenever unknown): the fast path's kernel may then
    /// skip tests that cannot fail ([`block`]).
    pub(crate) market_pos: bool,
    pub(crate) segf: Vec<f64>,
    pub(crate) base: Vec<f64>,
    pub(crate) g: Vec<f64>,
    pub(crate) x: Vec<f64>,
    pub(crate) xmix: Vec<f64>,
    pub(crate) order_n: Vec<u32>,
    pub(crate) order_w: Vec<f64>,
    pub(crate) order_off: Vec<usize>,
    pub(crate) lines: Vec<LineV>,
    pub(crate) pmonth: Vec<f64>,
    pub(crate) ord_q: Vec<f64>,
    pub(crate) ord_r: Vec<f64>,
    pub(crate) ord_tmp: Vec<(f64, f64)>,
    /// Order indices sorted by remainder ([`split_over_orders`]).
    pub(crate) ord_idx: Vec<u32>,
    pub(crate) agg: Vec<f64>,
    /// Per line category, the gross and the returned quantity of the period in millionths of
    /// a unit (whole numbers, [`line_qty`]), beside `agg`.
    pub(crate) aggq: Vec<f64>,
    /// The fast path's quantity of each partner's period in millionths of a unit (when
    /// [`Setup::units`]; else empty).
    pub(crate) final_q: Vec<f64>,
    pub(crate) emit: bool,
    pub(crate) any_x: bool,
    /// Forecasts: the partner's actual measures to date (added to every period's simulated
    /// measures when `actual_on`; see `conditioned`).
    pub(crate) actual: Vec<f64>,
    pub(crate) actual_on: bool,
}

impl Work {
    pub(crate) fn new(s: &Setup) -> Work {
        let max_slots = s
            .prep
            .components
            .iter()
            .map(|c| c.slots)
            .max()
            .unwrap_or(slot::BASE);
        Work {
            scratch: s.prep.scratch(),
            measures: vec![0.0; s.prep.measure_len()],
            window: vec![0.0; max_slots],
            market: vec![1.0; s.months],
            market_pos: false,
            segf: vec![1.0; s.segment_count],
            base: vec![0.0; s.months],
            g: vec![0.0; s.months],
            x: vec![0.0; s.months],
            xmix: vec![0.0; s.period_count * s.category_count],
            order_n: vec![1; s.months],
            order_w: Vec::new(),
            order_off: vec![0; s.months + 1],
            lines: Vec::new(),
            pmonth: vec![0.0; s.months],
            ord_q: Vec::new(),
            ord_r: Vec::new(),
            ord_tmp: Vec::new(),
            ord_idx: Vec::new(),
            final_q: if s.units {
                vec![0.0; s.partners.len()]
            } else {
                Vec::new()
            },
            agg: vec![0.0; 2 * s.category_count],
            aggq: vec![0.0; 2 * s.category_count],
            emit: false,
            any_x: false,
            actual: Vec::new(),
            actual_on: false,
        }
    }
}

/// What one run (with or without the programme) of one partner produced.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunOut {
    pub(crate) revenue: f64,
    pub(crate) pulled_after: f64,
    pub(crate) stretches: u32,
}

/// Sink for exported lines.
pub(crate) type LineSink = Vec<LineV>;
