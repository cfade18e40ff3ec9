//! Closed periods are facts: the settlement of the actuals for every period closed at the
//! forecast date, and the amounts the year-level rules can still move on them.
//!
//! A closed period's forecast amount is its settled amount (the settlement engine,
//! [`crate::settlement::settle`], run on the actuals to date, to the cent) plus the expected
//! change from the rules that look at the whole year to date: a cumulative ladder's true-up,
//! an exclusive group whose winner changes, the partner cap, the minimum payout and the
//! budget cut (computed per scenario by the conditioned engine, `engine/conditioned/closed.rs`).
//! [`Forecast::period_lines`] gives them per partner, component and period,
//! [`Forecast::component_periods`] per component and period; `moved_by` names the rules that
//! move an amount.

use super::scenarios::RULES;
use super::Forecast;
use crate::data::Partners;
use crate::programme::Compiled;
use crate::settlement::Settlement;
use chrono::NaiveDate;
use rust_decimal::prelude::*;
use serde::Serialize;

/// Names of the rules that can move a closed period's amount, in the order of
/// [`ClosedAdjustments`].
pub const RULE_NAMES: [&str; RULES] = [
    "cumulative_true_up",
    "exclusive_group",
    "partner_cap",
    "minimum_payout",
    "budget_cut",
];

/// The settlement of the actuals in the closed periods.
pub(super) struct SettledClosed {
    /// Periods closed at the forecast date.
    pub closed: usize,
    /// `partners × components × periods`: settled payable (after the settled budget cut);
    /// zero for open periods.
    pub payable: Vec<Decimal>,
    /// `partners × components × periods`: the settled budget cut in it (≤ 0).
    pub budget_cut: Vec<Decimal>,
    /// `partners × components × periods`: basis volume of the actuals in the period.
    pub volume: Vec<f64>,
}

/// What the books take of a settled line ([`settle_closed`]'s `also`).
pub(super) struct SettledLine {
    /// Index in the partner table, in the programme's components, in the calendar's periods.
    pub partner: usize,
    pub component: usize,
    pub period: usize,
    pub payable: Decimal,
    /// Volume measured in the period.
    pub volume: Decimal,
}

/// The closed periods' lines of the actuals settled with the settlement engine
/// (`settlement`, the forecast's one settlement of its actuals); every line is also handed to
/// `also` (the books' closed lines), so the lines are read once.
pub(super) fn settle_closed(
    programme: &Compiled,
    partners: &Partners,
    settlement: &Settlement,
    closed: usize,
    mut also: impl FnMut(&SettledLine),
) -> SettledClosed {
    let components = programme.components.len();
    let periods = programme.calendar.periods as usize;
    let n = partners.ids.len();
    let mut out = SettledClosed {
        closed,
        // zeroed by the allocator: only the lines' cells are written (pages of partners
        // without lines are never touched)
        payable: crate::settlement::zeroed(n * components * periods),
        budget_cut: crate::settlement::zeroed(n * components * periods),
        volume: vec![0.0; n * components * periods],
    };
    settlement.for_each_line_figures(|l| {
        also(&SettledLine {
            partner: l.partner,
            component: l.component,
            period: l.period,
            payable: l.payable,
            volume: l.volume_period,
        });
        let (i, c, k) = (l.partner, l.component, l.period);
        let j = (i * components + c) * periods + k;
        // rust_decimal's conversion, bit for bit, in 64-bit arithmetic
        out.volume[j] = crate::money::to_f64(l.volume_period);
        if k < closed {
            out.payable[j] = l.payable;
            out.budget_cut[j] = l.budget_cut;
        }
    });
    out
}

/// What each year-level rule is expected to move on a closed period's settled amount
/// (positive: adds to it). Zero for open periods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ClosedAdjustments {
    /// A cumulative ladder's true-up: the rate reached by the end on the closed volume.
    pub cumulative_true_up: f64,
    /// An exclusive group whose winner changes.
    pub exclusive_group: f64,
    /// The partner cap.
    pub partner_cap: f64,
    /// The minimum payout.
    pub minimum_payout: f64,
    /// The programme budget cut (relative to the cut already settled).
    pub budget_cut: f64,
}

impl ClosedAdjustments {
    fn from_array(a: [f64; RULES]) -> ClosedAdjustments {
        ClosedAdjustments {
            cumulative_true_up: a[0],
            exclusive_group: a[1],
            partner_cap: a[2],
            minimum_payout: a[3],
            budget_cut: a[4],
        }
    }

    fn array(&self) -> [f64; RULES] {
        [
            self.cumulative_true_up,
            self.exclusive_group,
            self.partner_cap,
            self.minimum_payout,
            self.budget_cut,
        ]
    }

    /// Sum of the adjustments.
    pub fn total(&self) -> f64 {
        self.array().iter().sum()
    }
}

/// The forecast's amount for one period of a component (of one partner, or of all partners).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodAmount {
    /// Partner id (`None` in the per-component view).
    pub partner_id: Option<String>,
    /// Partner segment (`None` in the per-component view).
    pub segment: Option<String>,
    /// Component id.
    pub component: String,
    /// Period number, 1-based.
    pub period: u32,
    /// Period label, e.g. `2027-Q1`.
    pub period_label: String,
    /// Last day of the period.
    pub period_end: NaiveDate,
    /// Date the period's payment falls due.
    pub payment_date: NaiveDate,
    /// `closed` (ended on or before the forecast date: the settled actuals) or `open`.
    pub status: String,
    /// Closed periods: the settlement of the actuals (after the settled budget cut), exact.
    pub settled: Option<Decimal>,
    /// Closed periods: what the year-level rules are expected to move on the settled amount.
    pub adjustments: ClosedAdjustments,
    /// Rules with an expected adjustment of at least half a minor unit (`RULE_NAMES`).
    pub moved_by: Vec<String>,
    /// The forecast's expected amount: closed periods `settled + Σ adjustments`; open
    /// periods the expected payout of the period.
    pub expected: f64,
}

impl Forecast {
    /// Periods closed at the forecast date: their amounts are the settled actuals.
    pub fn closed_periods(&self) -> usize {
        self.closed_periods
    }

    /// The settled amount (after the settled budget cut) of partner `i`, component `c`, period
    /// `k` (zero for an open period).
    pub fn settled(&self, i: usize, c: usize, k: usize) -> Decimal {
        self.settled_payable[self.pck(i, c, k)]
    }

    fn pck(&self, i: usize, c: usize, k: usize) -> usize {
        (i * self.components.len() + c) * self.period_labels.len() + k
    }

    /// The closed periods' settled payable of partner `i` and component `c`, as f64.
    #[allow(dead_code)] // the journal now takes these from the roll-forward (ledger.rs)
    pub(super) fn settled_closed(&self, i: usize, c: usize) -> f64 {
        (0..self.closed_periods)
            .map(|k| self.settled(i, c, k))
            .sum::<Decimal>()
            .to_f64()
            .unwrap_or(f64::NAN)
    }

    /// Expected rule adjustments on the closed periods of partner `i`, component `c` (all
    /// closed periods together).
    pub fn closed_adjustments(&self, i: usize, c: usize) -> ClosedAdjustments {
        let j = (i * self.components.len() + c) * RULES;
        let mut a: [f64; RULES] = self.closed_adj[j..j + RULES].try_into().expect("RULES");
        // the budget cut relative to the one already settled
        let settled_cut: Decimal = (0..self.closed_periods)
            .map(|k| self.settled_budget_cut[self.pck(i, c, k)])
            .sum();
        a[RULES - 1] -= settled_cut.to_f64().unwrap_or(0.0);
        ClosedAdjustments::from_array(a)
    }

    /// Expected payout of partner `i`, component `c` in open period `k`.
    fn open_amount(&self, i: usize, c: usize, k: usize) -> f64 {
        self.open_mean[self.pck(i, c, k)]
    }

    /// Expected payout of the open periods of partner `i` and component `c`.
    #[allow(dead_code)] // the journal now takes these from the roll-forward (ledger.rs)
    pub(super) fn open_total(&self, i: usize, c: usize) -> f64 {
        (self.closed_periods..self.period_labels.len())
            .map(|k| self.open_amount(i, c, k))
            .sum()
    }

    /// The lines of partner `i` and component `c`, one per period.
    fn partner_component_periods(&self, i: usize, c: usize) -> Vec<PeriodAmount> {
        let periods = self.period_labels.len();
        let closed = self.closed_periods;
        let adj = self.closed_adjustments(i, c).array();
        // the closed adjustments spread over the closed periods by their basis volume
        let volumes: Vec<f64> = (0..closed)
            .map(|k| self.period_volume[self.pck(i, c, k)].max(0.0))
            .collect();
        let total_volume: f64 = volumes.iter().sum();
        (0..periods)
            .map(|k| {
                let is_closed = k < closed;
                let (settled, adjustments, expected) = if is_closed {
                    let share = if total_volume > 0.0 {
                        volumes[k] / total_volume
                    } else if k + 1 == closed {
                        1.0
                    } else {
                        0.0
                    };
                    let a = ClosedAdjustments::from_array(adj.map(|v| v * share));
                    let s = self.settled(i, c, k);
                    (Some(s), a, s.to_f64().unwrap_or(f64::NAN) + a.total())
                } else {
                    (
                        None,
                        ClosedAdjustments::default(),
                        self.open_amount(i, c, k),
                    )
                };
                self.period_amount(Some(i), c, k, settled, adjustments, expected)
            })
            .collect()
    }

    fn period_amount(
        &self,
        partner: Option<usize>,
        c: usize,
        k: usize,
        settled: Option<Decimal>,
        adjustments: ClosedAdjustments,
        expected: f64,
    ) -> PeriodAmount {
        let half_unit = 0.5 * 10f64.powi(-(self.decimals as i32));
        PeriodAmount {
            partner_id: partner.map(|i| self.partner_ids[i].clone()),
            segment: partner.map(|i| self.partner_segments[i].clone()),
            component: self.components[c].clone(),
            period: k as u32 + 1,
            period_label: self.period_labels[k].clone(),
            period_end: self.period_ends[k],
            payment_date: self.payment_dates[k],
            status: if k < self.closed_periods {
                "closed"
            } else {
                "open"
            }
            .into(),
            settled,
            moved_by: RULE_NAMES
                .iter()
                .zip(adjustments.array())
                .filter(|(_, v)| v.abs() >= half_unit)
                .map(|(n, _)| (*n).to_owned())
                .collect(),
            adjustments,
            expected,
        }
    }

    /// One line per partner (id order), component that applies to it (id order) and period:
    /// closed periods at their settled amount with the expected rule adjustments, open
    /// periods at their expected payout.
    pub fn period_lines(&self) -> Vec<PeriodAmount> {
        let components = self.components.len();
        let mut out = Vec::new();
        for i in self.partner_order() {
            for c in self.component_order() {
                if self.active[i * components + c] {
                    out.extend(self.partner_component_periods(i, c));
                }
            }
        }
        out
    }

    /// One line per component (id order) and period over all partners: what
    /// [`Forecast::period_lines`] sums to.
    pub fn component_periods(&self) -> Vec<PeriodAmount> {
        let components = self.components.len();
        let periods = self.period_labels.len();
        let mut out = Vec::new();
        for c in self.component_order() {
            let mut settled = vec![Decimal::ZERO; periods];
            let mut adj = vec![[0.0; RULES]; periods];
            let mut expected = vec![0.0; periods];
            for i in 0..self.partner_ids.len() {
                if !self.active[i * components + c] {
                    continue;
                }
                for l in self.partner_component_periods(i, c) {
                    let k = l.period as usize - 1;
                    settled[k] += l.settled.unwrap_or_default();
                    for (s, v) in adj[k].iter_mut().zip(l.adjustments.array()) {
                        *s += v;
                    }
                    expected[k] += l.expected;
                }
            }
            for k in 0..periods {
                let closed = k < self.closed_periods;
                out.push(self.period_amount(
                    None,
                    c,
                    k,
                    closed.then_some(settled[k]),
                    ClosedAdjustments::from_array(adj[k]),
                    expected[k],
                ));
            }
        }
        out
    }

    /// Final payout per scenario of the closed periods of component `c` (after the budget):
    /// their settled amounts plus what the year-level rules move in that scenario.
    pub fn component_closed_payout(&self, c: usize) -> Vec<f64> {
        let components = self.components.len();
        (0..self.scenarios)
            .map(|s| self.component_closed[s * components + c])
            .collect()
    }

    /// Partners in id order.
    pub(super) fn partner_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.partner_ids.len()).collect();
        order.sort_by(|&a, &b| self.partner_ids[a].cmp(&self.partner_ids[b]));
        order
    }

    /// Components in id order.
    pub(super) fn component_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.components.len()).collect();
        order.sort_by(|&a, &b| self.components[a].cmp(&self.components[b]));
        order
    }
}
