//! The partner-level pipeline: from a partner's measures to its cumulative amounts to date
//! at every stage (entitlement, component cap, exclusive group, partner cap, minimum payout),
//! in a reusable [`PartnerScratch`] that [`Prepared::settle_partner`] fills without allocating.

use super::budget::allocate_into;
use super::{slot, Amount, Baseline, Outcome, Prepared, PreparedComponent, Span};
use crate::programme::Measure;

impl<A: Amount> Prepared<A> {
    /// Scratch buffers for [`Prepared::settle_partner`]; create once, reuse for every partner.
    pub fn scratch(&self) -> PartnerScratch<A> {
        let n = self.components.len() * self.periods;
        let max_slots = self
            .components
            .iter()
            .map(|c| c.slots)
            .max()
            .unwrap_or(slot::BASE);
        PartnerScratch {
            periods: self.periods,
            window: vec![A::ZERO; max_slots],
            outcome: vec![Outcome::default(); n],
            entitled: vec![A::ZERO; n],
            capped: vec![A::ZERO; n],
            exclusive: vec![A::ZERO; n],
            partner_capped: vec![A::ZERO; n],
            payable: vec![A::ZERO; n],
            weights: vec![A::ZERO; self.components.len()],
            shares: vec![A::ZERO; self.components.len()],
            order: Vec::with_capacity(self.components.len()),
            clear: vec![false; self.components.len()],
        }
    }

    /// Run the partner-level pipeline for one partner.
    ///
    /// `measures` is the partner's flat measures slice (per period, see [`Prepared::index`]);
    /// `active[c]` says whether component `c` applies to the partner (scope by segment and
    /// partner list; inactive components pay 0). Fills `scratch` with cumulative amounts
    /// per component and period for every stage: entitlement, component cap, exclusive
    /// group, partner cap and minimum payout (see the accessors of [`PartnerScratch`]).
    /// Never allocates.
    pub fn settle_partner(
        &self,
        measures: &[A],
        active: &[bool],
        baseline: &Baseline<A>,
        s: &mut PartnerScratch<A>,
    ) {
        debug_assert_eq!(measures.len(), self.measure_len());
        debug_assert_eq!(active.len(), self.components.len());
        // 1. entitlement and component cap
        for (c, pc) in self.components.iter().enumerate() {
            s.set_active(c, active[c]);
            if active[c] {
                self.entitle(c, pc, measures, baseline, s, false);
            }
        }
        self.settle_capped(s);
    }

    /// [`Prepared::settle_partner`]'s payable to date at the end of the last period, summed
    /// over components as [`PartnerScratch::total`] does — the same number, bit for bit — for
    /// a caller that needs nothing else (the simulation's counterfactual run, the uplift's
    /// expected payout). It evaluates a cumulative component on its final window only and
    /// runs steps 2 to 4 on the last period only (each period's stages depend on that
    /// period's entitlements alone); the scratch's other periods are left as they were.
    /// Never allocates.
    pub fn settle_final(
        &self,
        measures: &[A],
        active: &[bool],
        baseline: &Baseline<A>,
        s: &mut PartnerScratch<A>,
    ) -> A {
        debug_assert_eq!(measures.len(), self.measure_len());
        debug_assert_eq!(active.len(), self.components.len());
        for (c, pc) in self.components.iter().enumerate() {
            s.set_active(c, active[c]);
            if active[c] {
                self.entitle(c, pc, measures, baseline, s, true);
            }
        }
        let last = self.periods - 1;
        self.exclusive_at(s, last);
        if self.partner_cap.is_none() && self.minimum_payout.is_none() {
            for c in 0..self.components.len() {
                let x = s.exclusive[c * self.periods + last];
                s.partner_capped[c * self.periods + last] = x;
                s.payable[c * self.periods + last] = x;
            }
        } else {
            self.apply_partner_cap_and_minimum(s, last);
        }
        s.total(last)
    }

    /// Step 1 of [`Prepared::settle_partner`] for active component `c`: each period's outcome,
    /// entitlement to date and entitlement after the component cap into `s` (with
    /// `final_only`, the last period's only; the earlier periods are still evaluated where
    /// the entitlement to date sums them).
    #[inline]
    fn entitle(
        &self,
        c: usize,
        pc: &PreparedComponent<A>,
        measures: &[A],
        baseline: &Baseline<A>,
        s: &mut PartnerScratch<A>,
        final_only: bool,
    ) {
        let periods = self.periods;
        let row = c * periods;
        let put = |s: &mut PartnerScratch<A>, k: usize, o: Outcome<A>, e: A| {
            s.outcome[row + k] = o;
            s.entitled[row + k] = e;
            s.capped[row + k] = match pc.cap {
                Some(cap) => e.min_of(cap),
                None => e,
            };
        };
        let period = |k: usize| &measures[pc.offset + k * pc.slots..pc.offset + (k + 1) * pc.slots];
        match pc.measure {
            Measure::Period => {
                let mut e = A::ZERO;
                for k in 0..periods {
                    let o = self.evaluate(c, period(k), Span::period(k as u32), baseline);
                    e = e.plus(self.round(o.amount));
                    if !final_only || k + 1 == periods {
                        put(s, k, o, e);
                    }
                }
            }
            Measure::Cumulative => {
                s.window[..pc.slots].iter_mut().for_each(|x| *x = A::ZERO);
                for k in 0..periods {
                    for (x, y) in s.window[..pc.slots].iter_mut().zip(period(k)) {
                        *x = x.plus(*y);
                    }
                    if final_only && k + 1 < periods {
                        continue;
                    }
                    let o =
                        self.evaluate(c, &s.window[..pc.slots], Span::to_date(k as u32), baseline);
                    let e = self.round(o.amount);
                    put(s, k, o, e);
                }
            }
        }
    }

    /// Steps 2 to 4 of [`Prepared::settle_partner`] (exclusive groups, partner cap, minimum
    /// payout) from the entitlements after the component cap, `s.capped` (every component's
    /// row: zero for an inactive component, see [`PartnerScratch::set_active`]). For a caller
    /// that computes the entitlements itself, exactly as step 1 of `settle_partner` does.
    pub fn settle_capped(&self, s: &mut PartnerScratch<A>) {
        // 2. exclusive groups
        self.apply_exclusive_groups(s);
        // 3. partner cap and 4. minimum payout
        if self.partner_cap.is_none() && self.minimum_payout.is_none() {
            s.partner_capped.copy_from_slice(&s.exclusive);
            s.payable.copy_from_slice(&s.exclusive);
            return;
        }
        for k in 0..self.periods {
            self.apply_partner_cap_and_minimum(s, k);
        }
    }

    /// Exclusive groups: in each group only the best component (largest capped amount to
    /// date, ties to the smallest id) counts; `s.capped` → `s.exclusive`.
    #[inline]
    fn apply_exclusive_groups(&self, s: &mut PartnerScratch<A>) {
        let periods = self.periods;
        if self.groups.is_empty() {
            s.exclusive.copy_from_slice(&s.capped);
            return;
        }
        for k in 0..periods {
            self.exclusive_at(s, k);
        }
    }

    /// [`Prepared::apply_exclusive_groups`] for period `k` alone.
    #[inline]
    fn exclusive_at(&self, s: &mut PartnerScratch<A>, k: usize) {
        let periods = self.periods;
        for &c in &self.ungrouped {
            s.exclusive[c * periods + k] = s.capped[c * periods + k];
        }
        // a component is beaten by a member of its group with more, or as much and a
        // smaller id (the members are in id order)
        for members in &self.group_members {
            for &c in members {
                let mine = s.capped[c * periods + k];
                let beaten = members.iter().any(|&o| {
                    o != c && {
                        let other = s.capped[o * periods + k];
                        other > mine || (other == mine && o < c)
                    }
                });
                s.exclusive[c * periods + k] = if beaten { A::ZERO } else { mine };
            }
        }
    }

    /// Partner cap (the partner's total over components split back over them in proportion,
    /// to the minor unit) and minimum payout (nothing while the total to date is below it),
    /// for period `k`: `s.exclusive` → `s.partner_capped` → `s.payable`.
    #[inline]
    fn apply_partner_cap_and_minimum(&self, s: &mut PartnerScratch<A>, k: usize) {
        let periods = self.periods;
        let components = self.components.len();
        let mut total = A::ZERO;
        for c in 0..components {
            total = total.plus(s.exclusive[c * periods + k]);
        }
        match self.partner_cap {
            Some(cap) if !cap.at_least(total) => {
                for c in 0..components {
                    s.weights[c] = s.exclusive[c * periods + k];
                }
                allocate_into(cap, &s.weights, self.decimals, &mut s.shares, &mut s.order);
                for c in 0..components {
                    s.partner_capped[c * periods + k] = s.shares[c];
                }
                total = cap;
            }
            _ => {
                for c in 0..components {
                    s.partner_capped[c * periods + k] = s.exclusive[c * periods + k];
                }
            }
        }
        let below = match self.minimum_payout {
            Some(min) => !total.at_least(min),
            None => false,
        };
        for c in 0..components {
            s.payable[c * periods + k] = if below {
                A::ZERO
            } else {
                s.partner_capped[c * periods + k]
            };
        }
    }
}

/// periods, each entry a cumulative amount to date (rounded to the minor unit).
#[derive(Debug, Clone)]
pub struct PartnerScratch<A> {
    periods: usize,
    window: Vec<A>,
    /// Rule outcome per component and period (the period's own for `measure = period`, the
    /// window to date for `measure = cumulative`). Index `c * periods + k`.
    pub outcome: Vec<Outcome<A>>,
    /// Entitlement to date. Index `c * periods + k`.
    pub entitled: Vec<A>,
    /// After the component cap.
    pub capped: Vec<A>,
    /// After exclusive groups.
    pub exclusive: Vec<A>,
    /// After the partner cap.
    pub partner_capped: Vec<A>,
    /// After the minimum payout: payable to date before the programme budget.
    pub payable: Vec<A>,
    weights: Vec<A>,
    shares: Vec<A>,
    order: Vec<(A, usize)>,
    /// Per component: its rows were cleared for an inactive component and not written since.
    clear: Vec<bool>,
}

impl<A: Amount> PartnerScratch<A> {
    /// Whether component `c` applies to the partner being settled. An inactive component's
    /// rows (outcome, entitlement, capped) are zeroed, once: they stay clear until the
    /// component is next active, instead of being rewritten for every partner.
    #[inline]
    pub fn set_active(&mut self, c: usize, active: bool) {
        if active {
            self.clear[c] = false;
        } else if !self.clear[c] {
            let row = c * self.periods;
            for k in 0..self.periods {
                self.outcome[row + k] = Outcome::default();
                self.entitled[row + k] = A::ZERO;
                self.capped[row + k] = A::ZERO;
            }
            self.clear[c] = true;
        }
    }

    /// Payable to date (before the budget) of component `c` at the end of period `k`.
    #[inline]
    pub fn payable(&self, c: usize, k: usize) -> A {
        self.payable[c * self.periods + k]
    }

    /// The partner's payable to date (before the budget) over all components at period `k`.
    pub fn total(&self, k: usize) -> A {
        let n = self.payable.len() / self.periods.max(1);
        let mut t = A::ZERO;
        for c in 0..n {
            t = t.plus(self.payable[c * self.periods + k]);
        }
        t
    }

    /// Number of periods per row.
    pub fn periods(&self) -> usize {
        self.periods
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::Compiled;
    use crate::programme::{Format, Programme};
    use rust_decimal::prelude::*;
    use rust_decimal_macros::dec;

    fn programme(extra: &str, components: &str) -> Compiled {
        let text = format!(
            "name = \"T\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"half\"\nperiods = 2\n{extra}\n{components}"
        );
        Programme::from_str(&text, Format::Toml, None)
            .unwrap()
            .compile()
            .unwrap()
    }

    fn run<A: Amount>(p: &Compiled, volumes: &[(usize, usize, f64)]) -> PartnerScratch<A> {
        let prep: Prepared<A> = Prepared::new(p);
        let mut m = vec![A::ZERO; prep.measure_len()];
        for &(c, k, v) in volumes {
            let d = A::from_decimal(Decimal::from_f64(v).unwrap());
            m[prep.index(c, k, slot::VOLUME)] = d;
            m[prep.index(c, k, slot::REVENUE)] = d;
        }
        let mut s = prep.scratch();
        prep.settle_partner(
            &m,
            &vec![true; p.components.len()],
            &Baseline::default(),
            &mut s,
        );
        s
    }

    #[test]
    fn cumulative_true_up_erp_example() {
        let p = programme(
            "",
            "[[components]]\nid = \"v\"\nkind = \"volume\"\nmeasure = \"cumulative\"\ntiers = [{ from = 0, percent = 2 }, { from = 20000, percent = 4 }]",
        );
        let s = run::<Decimal>(&p, &[(0, 0, 7000.0), (0, 1, 20000.0)]);
        assert_eq!(s.payable(0, 0), dec!(140));
        assert_eq!(s.payable(0, 1), dec!(1080));
        let f = run::<f64>(&p, &[(0, 0, 7000.0), (0, 1, 20000.0)]);
        assert_eq!((f.payable(0, 0), f.payable(0, 1)), (140.0, 1080.0));
    }

    #[test]
    fn caps_groups_and_minimum() {
        let comps = "[[components]]\nid = \"a\"\nkind = \"volume\"\nexclusive_group = \"g\"\ntiers = [{ from = 0, percent = 10 }]\n\
                     [[components]]\nid = \"b\"\nkind = \"volume\"\nexclusive_group = \"g\"\ntiers = [{ from = 0, percent = 5 }]\n\
                     [[components]]\nid = \"c\"\nkind = \"volume\"\ncap = 30\ntiers = [{ from = 0, percent = 10 }]";
        let p = programme("partner_cap = 100\nminimum_payout = 50", comps);
        // a: 10% of 400 = 40, b: 5% of 1000 = 50 (wins), c: 10% of 1000 = 100 capped at 30
        let s = run::<Decimal>(&p, &[(0, 0, 400.0), (1, 0, 1000.0), (2, 0, 1000.0)]);
        assert_eq!(
            (s.payable(0, 0), s.payable(1, 0), s.payable(2, 0)),
            (dec!(0), dec!(50), dec!(30))
        );
        // period 2: a 10% of 1,000 more = 140 to date beats b (50 + 0); total 170 > cap 100
        let s = run::<Decimal>(
            &p,
            &[
                (0, 0, 400.0),
                (1, 0, 1000.0),
                (2, 0, 1000.0),
                (0, 1, 1000.0),
            ],
        );
        assert_eq!(s.exclusive[1], dec!(140));
        assert_eq!(s.total(1), dec!(100));
        assert_eq!(s.payable(0, 1) + s.payable(2, 1), dec!(100));
        // minimum payout: 10% of 400 = 40 < 50 → nothing
        let s = run::<Decimal>(&p, &[(0, 0, 400.0)]);
        assert_eq!(s.total(0), dec!(0));
    }

    /// `settle_final` returns `settle_partner`'s payable to date at the last period, bit for
    /// bit, whatever binds (component cap, exclusive group, partner cap, minimum payout), in
    /// both number types, on partners settled one after another in the same scratch.
    #[test]
    fn settle_final_is_the_last_total_of_settle_partner() {
        let comps = "[[components]]\nid = \"a\"\nkind = \"volume\"\nexclusive_group = \"g\"\nmethod = \"retroactive\"\ntiers = [{ from = 1000, percent = 2 }, { from = 5000, percent = 4 }]\n\
                     [[components]]\nid = \"b\"\nkind = \"volume\"\nexclusive_group = \"g\"\nmeasure = \"cumulative\"\nmethod = \"incremental\"\ncap = 300\ntiers = [{ from = 2000, percent = 3 }, { from = 8000, percent = 6 }]\n\
                     [[components]]\nid = \"c\"\nkind = \"volume\"\ncap = 250\ntiers = [{ from = 0, percent = 5 }]\n\
                     [[components]]\nid = \"d\"\nkind = \"volume\"\nexclusive_group = \"h\"\nmeasure = \"cumulative\"\ntiers = [{ from = 500, percent = 1 }]\n\
                     [[components]]\nid = \"e\"\nkind = \"volume\"\nexclusive_group = \"h\"\ntiers = [{ from = 500, percent = 1 }]";
        let p = programme("partner_cap = 700\nminimum_payout = 120", comps);
        fn check<A: Amount + std::fmt::Debug>(p: &Compiled) -> usize {
            let prep: Prepared<A> = Prepared::new(p);
            let mut full = prep.scratch();
            let mut last = prep.scratch();
            let mut x = 12345u64;
            let mut next = || {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) % 9000
            };
            let mut paid = 0;
            for _ in 0..400 {
                let mut m = vec![A::ZERO; prep.measure_len()];
                for c in 0..p.components.len() {
                    for k in 0..prep.periods {
                        let v = A::from_decimal(Decimal::from(next()) / dec!(3));
                        m[prep.index(c, k, slot::VOLUME)] = v;
                        m[prep.index(c, k, slot::REVENUE)] = v;
                    }
                }
                let active: Vec<bool> = (0..p.components.len()).map(|_| next() % 4 != 0).collect();
                prep.settle_partner(&m, &active, &Baseline::default(), &mut full);
                let t = prep.settle_final(&m, &active, &Baseline::default(), &mut last);
                let want = full.total(prep.periods - 1);
                assert_eq!(format!("{t:?}"), format!("{want:?}"));
                assert_eq!(last.total(prep.periods - 1), t);
                paid += (want > A::ZERO) as usize;
            }
            paid
        }
        let (d, f) = (check::<Decimal>(&p), check::<f64>(&p));
        assert!(d > 100 && d < 400, "{d} partners paid");
        assert_eq!(d, f);
    }
}
