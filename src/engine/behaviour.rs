//! A partner's run through the programme's periods with the behavioural response: stretch
//! purchases to reach the next tier and the purchases they pull forward.

use super::setup::Setup;
use super::work::{LineSink, RunOut, Work};
use crate::programme::{Basis, Measure};
use crate::rng::{self};
use crate::rules::{PreparedComponent, PreparedRule, Span};

impl Setup<'_> {
    /// Run partner `i` on demand `w.g` (already uplifted for the programme run): behaviour
    /// (when `stretch` has the partner's decision stream), lines, measures and the kernel's
    /// pipeline into `w.scratch`.
    pub(crate) fn run_partner(
        &self,
        i: usize,
        w: &mut Work,
        stretch: Option<&mut rng::Stream>,
        mut sink: Option<&mut LineSink>,
    ) -> RunOut {
        if stretch.is_none() && sink.is_none() {
            return self.run_partner_plain(i, w);
        }
        let pc = &self.partners[i];
        if w.any_x {
            w.x.iter_mut().for_each(|v| *v = 0.0);
            w.any_x = false;
        }
        w.lines.clear();
        w.emit = sink.is_some();
        let mut out = self.behaviour_periods(i, w, stretch, 0);
        // revenue in minor units is exact, so it never depends on how lines were split
        let mut cents = 0.0;
        for v in &w.pmonth {
            cents += *v;
        }
        out.revenue = cents / self.scale;
        if let Some(sink) = sink.as_mut() {
            sink.extend_from_slice(&w.lines);
        }
        let active = &self.active[i * self.component_count..(i + 1) * self.component_count];
        self.prep
            .settle_partner(&w.measures, active, &pc.baseline, &mut w.scratch);
        out
    }

    /// Partner `i`'s share of its purchases in component `c`'s categories, with its category
    /// shares and the component's category slots.
    /// `drawn`: the partner's mix drawn for the scenario ([`Work::drawn_mix`]), if any.
    fn in_scope_share<'a>(
        &'a self,
        i: usize,
        c: usize,
        drawn: Option<&'a [f64]>,
    ) -> (f64, &'a [f64], &'a [Option<u32>]) {
        let category_count = self.category_count;
        let mix = self.mix_row(i, drawn);
        let category_slot = &self.category_scope[c * category_count..(c + 1) * category_count];
        let in_scope: f64 = (0..category_count)
            .filter(|&j| category_slot[j].is_some())
            .map(|j| mix[j])
            .sum();
        (in_scope, mix, category_slot)
    }

    /// The periods of partner `i`'s run with behaviour, the one loop of the simulation and of
    /// the forecast's conditioned run: each period's purchases (less what an earlier stretch
    /// purchase pulled forward from it) and measures; then, when `stretch` has the partner's
    /// decision stream, one uniform draw per period and, from period `first_stretch_period`
    /// on, a stretch purchase for the best tier within reach with the probability the model
    /// gives its payoff. Lines are kept only when exported (`w.emit`). Returns the stretch
    /// purchases made and what the last period's pulled forward from after the programme
    /// (`revenue` is left at 0).
    pub(crate) fn behaviour_periods(
        &self,
        i: usize,
        w: &mut Work,
        mut stretch: Option<&mut rng::Stream>,
        first_stretch_period: usize,
    ) -> RunOut {
        let mut out = RunOut::default();
        let mut borrow = 0.0;
        let keep = stretch.is_some();
        for k in 0..self.period_count {
            let months = k * self.months_per_period..(k + 1) * self.months_per_period;
            if borrow > 0.0 {
                let sum: f64 = w.g[months.clone()].iter().sum();
                if sum > 0.0 {
                    let f = (1.0 - borrow / sum).max(0.0);
                    w.g[months.clone()].iter_mut().for_each(|v| *v *= f);
                }
                borrow = 0.0;
            }
            let from = w.lines.len();
            self.stretch_window_before(w, keep && k >= first_stretch_period);
            self.period(i, k, from, w);
            if let Some(r) = stretch.as_deref_mut() {
                let u = rng::uniform(r);
                let candidate = if k >= first_stretch_period {
                    self.stretch_candidate(i, k, w)
                } else {
                    None
                };
                if let Some((c, extra, ratio)) = candidate {
                    let p = self.stretch.max_probability
                        * (1.0 - (-self.stretch.sensitivity * ratio).exp());
                    if u < p {
                        let bought = self.buy_stretch(i, k, c, extra, w, from);
                        out.stretches += 1;
                        let pulled = self.pull_share * bought;
                        if k + 1 < self.period_count {
                            borrow = pulled;
                        } else {
                            out.pulled_after += pulled;
                        }
                    }
                }
            }
            if !w.emit {
                w.lines.truncate(from);
            }
        }
        self.stretch_window_after(w);
        out
    }

    /// [`Setup::run_partner`] without behaviour and without exported lines (the common case of
    /// a run): the same purchases, measures and pipeline without the stretch and borrowing
    /// bookkeeping.
    pub(crate) fn run_partner_plain(&self, i: usize, w: &mut Work) -> RunOut {
        let revenue = self.plain_periods(i, w);
        let active = &self.active[i * self.component_count..(i + 1) * self.component_count];
        self.prep.settle_partner(
            &w.measures,
            active,
            &self.partners[i].baseline,
            &mut w.scratch,
        );
        RunOut {
            revenue,
            ..RunOut::default()
        }
    }

    /// [`Setup::run_partner_plain`] for a caller that needs only the revenue and the payable
    /// at the end of the programme, both returned, `(revenue, payable)` — the same numbers
    /// bit for bit ([`crate::rules::Prepared::settle_final`]; `w.scratch` then holds the last
    /// period only): the counterfactual run, the uplift's expected run.
    pub(crate) fn run_partner_final(&self, i: usize, w: &mut Work) -> (f64, f64) {
        let revenue = self.plain_periods(i, w);
        let active = &self.active[i * self.component_count..(i + 1) * self.component_count];
        let paid = self.prep.settle_final(
            &w.measures,
            active,
            &self.partners[i].baseline,
            &mut w.scratch,
        );
        (revenue, paid)
    }

    /// The periods of a run without behaviour and without exported lines: purchases and
    /// measures into `w`; returns the revenue.
    fn plain_periods(&self, i: usize, w: &mut Work) -> f64 {
        if w.any_x {
            w.x.iter_mut().for_each(|v| *v = 0.0);
            w.any_x = false;
        }
        w.lines.clear();
        w.emit = false;
        for k in 0..self.period_count {
            self.period(i, k, 0, w);
            w.lines.clear();
        }
        let mut cents = 0.0;
        for v in &w.pmonth {
            cents += *v;
        }
        cents / self.scale
    }

    /// The ladder component a partner would stretch for at the end of period `k`, with the
    /// extra gross revenue needed and the payoff ratio (additional rebate / extra purchase).
    pub(crate) fn stretch_candidate(
        &self,
        i: usize,
        k: usize,
        w: &mut Work,
    ) -> Option<(usize, f64, f64)> {
        let pc = &self.partners[i];
        let active = &self.active[i * self.component_count..(i + 1) * self.component_count];
        let mut best: Option<(usize, f64, f64)> = None;
        for (c, comp) in self.prep.components.iter().enumerate() {
            if !active[c] {
                continue;
            }
            let basis = match &comp.rule {
                PreparedRule::Ladder { basis, .. } | PreparedRule::Growth { basis, .. } => *basis,
                _ => continue,
            };
            if comp.measure == Measure::Cumulative && k + 1 != self.period_count {
                continue;
            }
            let (window, wp) = tier_window(comp, k, w);
            let Some((_, needed, shortfall, add)) =
                self.prep.next_tier(c, window, wp, &pc.baseline)
            else {
                continue;
            };
            if !(shortfall > 0.0) || shortfall > self.stretch.max_shortfall * needed || !(add > 0.0)
            {
                continue;
            }
            // the in-scope share of the partner's purchases receives the extra purchase
            let (in_scope, _, _) = self.in_scope_share(i, c, w.drawn_mix());
            if !(in_scope > 0.0) {
                continue;
            }
            let mut extra = match basis {
                Basis::Revenue => shortfall,
                Basis::Units => shortfall * pc.price,
            };
            if !self.gross[c] {
                extra /= 1.0 - self.segs[pc.seg].returns;
            }
            if !(extra > 0.0) || !extra.is_finite() {
                continue;
            }
            let ratio = add / extra;
            if best.is_none_or(|b| ratio > b.2) {
                best = Some((c, extra, ratio));
            }
        }
        best
    }

    /// Buy the stretch purchase for component `c` in period `k`: `extra` gross revenue in the
    /// component's categories, spread over the last `window_months` months. Re-measures the
    /// period (topping up by cents until the threshold is reached despite line rounding) and
    /// returns the extra revenue bought.
    pub(crate) fn buy_stretch(
        &self,
        i: usize,
        k: usize,
        c: usize,
        extra: f64,
        w: &mut Work,
        from: usize,
    ) -> f64 {
        let category_count = self.category_count;
        let drawn = std::mem::take(&mut w.pmix);
        let (in_scope, mix, category_slot) =
            self.in_scope_share(i, c, w.pmix_on.then_some(&drawn[..]));
        for j in 0..category_count {
            w.xmix[k * category_count + j] = if category_slot[j].is_some() {
                mix[j] / in_scope
            } else {
                0.0
            };
        }
        w.pmix = drawn;
        let win = (self.stretch.window_months as usize).min(self.months_per_period);
        let last = (k + 1) * self.months_per_period;
        let mut total = extra;
        let comp = &self.prep.components[c];
        let pc = &self.partners[i];
        w.any_x = true;
        for attempt in 0..4 {
            for m in last - win..last {
                w.x[m] = total / win as f64;
            }
            self.period_again(i, k, from, w);
            // reached?
            let (window, wp) = tier_window(comp, k, w);
            match self.prep.next_tier(c, window, wp, &pc.baseline) {
                Some((_, needed, shortfall, _))
                    if shortfall > 0.0
                        && shortfall <= self.stretch.max_shortfall * needed
                        && attempt < 3 =>
                {
                    // still short because of line rounding: top up by the rest plus a cent per line
                    let lines = w.period_lines.max(1) as f64;
                    let more = match comp.rule {
                        PreparedRule::Ladder {
                            basis: Basis::Units,
                            ..
                        }
                        | PreparedRule::Growth {
                            basis: Basis::Units,
                            ..
                        } => shortfall * pc.price,
                        _ => shortfall,
                    };
                    total += more * 1.001 + lines / self.scale;
                }
                _ => break,
            }
        }
        total
    }
}

/// The measures a component's tier is decided on at the end of period `k`, with the number of
/// periods they cover: the period's own (`measure = period`), or the sum of periods `0..=k`
/// (`measure = cumulative`, summed into `w.window`).
fn tier_window<'w>(comp: &PreparedComponent<f64>, k: usize, w: &'w mut Work) -> (&'w [f64], Span) {
    match comp.measure {
        Measure::Period => {
            let a = comp.offset + k * comp.slots;
            (&w.measures[a..a + comp.slots], Span::period(k as u32))
        }
        Measure::Cumulative => {
            w.window[..comp.slots].iter_mut().for_each(|v| *v = 0.0);
            for kp in 0..=k {
                let a = comp.offset + kp * comp.slots;
                for s in 0..comp.slots {
                    w.window[s] += w.measures[a + s];
                }
            }
            (&w.window[..comp.slots], Span::to_date(k as u32))
        }
    }
}
