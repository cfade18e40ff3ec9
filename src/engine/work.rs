//! The per-worker scratch of a run ([`Work`]), allocated once per worker and reused for
//! every partner, and what one partner's run produced ([`RunOut`]).

use super::orders::Split;
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
    /// The partner's orders ([`Setup::draw_orders`], [`Setup::orders_of`]): month `m`'s
    /// shares are `order_w[order_off[m]..order_end[m]]` once `order_drawn[m]`; drawn from
    /// streams keyed by `order_key`, with `order_mean` orders a month on average.
    pub(crate) order_w: Vec<f64>,
    pub(crate) order_off: Vec<usize>,
    pub(crate) order_end: Vec<usize>,
    pub(crate) order_drawn: Vec<bool>,
    pub(crate) order_key: u64,
    pub(crate) order_mean: f64,
    /// The log-scale σ of the partner's order sizes (the model's `orders.size_sigma`; in the
    /// forecast's conditioned run the partner's given its orders to date).
    pub(crate) order_sigma: f64,
    /// The Poisson law of the partner's orders a month (`rng::poisson_law(order_mean)`, made
    /// once a partner and scenario; `None` with a fixed order count).
    pub(crate) order_law: Option<rand_distr::Poisson<f64>>,
    /// Categories per order: whether the partner draws them, and the scratch
    /// (`order_categories`).
    pub(crate) order_cats: super::order_categories::OrderCatWork,
    pub(crate) lines: Vec<LineV>,
    /// The lines of the period last purchased ([`Setup::period_purchases`]), kept or not: as
    /// many as settlement would see when orders are simulated or lines exported, else 0.
    pub(crate) period_lines: usize,
    /// A period's sums before a stretch purchase's window ([`super::stretch_window`]).
    pub(crate) stretch_snap: super::stretch_window::StretchSnap,
    /// Orders without exported lines: each month of the period and category's minor units
    /// (`months_per_period × category_count`), split over orders only where needed
    /// ([`Setup::measure_order_cells`]).
    pub(crate) cells: Vec<f64>,
    /// Scratch of [`super::orders::split_line`].
    pub(crate) split: Split,
    /// With orders, each month of the period and order group's minor units and millionths
    /// (`months_per_period × group_count`, [`Setup::order_group`]), beside `cells`.
    pub(crate) group_c: Vec<f64>,
    pub(crate) group_q: Vec<f64>,
    pub(crate) pmonth: Vec<f64>,
    pub(crate) ord_q: Vec<f64>,
    pub(crate) ord_r: Vec<f64>,
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
    /// The partner's category mix drawn for the scenario (`economics.mix_concentration`;
    /// [`Setup::draw_mix`]), read in place of its mix when `pmix_on`.
    pub(crate) pmix: Vec<f64>,
    pub(crate) pmix_on: bool,
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
            order_w: Vec::new(),
            order_off: vec![0; s.months],
            order_end: vec![0; s.months],
            order_drawn: vec![false; s.months],
            order_key: 0,
            order_mean: 1.0,
            order_sigma: 0.0,
            order_law: None,
            order_cats: Default::default(),
            lines: Vec::new(),
            period_lines: 0,
            stretch_snap: super::stretch_window::StretchSnap::new(2 * s.category_count),
            cells: vec![0.0; s.months_per_period * s.category_count],
            split: Split::default(),
            group_c: vec![0.0; s.months_per_period * s.group_count],
            group_q: vec![0.0; s.months_per_period * s.group_count],
            pmonth: vec![0.0; s.months],
            ord_q: Vec::new(),
            ord_r: Vec::new(),
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
            pmix: Vec::new(),
            pmix_on: false,
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
