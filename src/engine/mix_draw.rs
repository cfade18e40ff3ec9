//! The partner's category mix for the year (`economics.mix_concentration = c`, opt-in): each
//! scenario draws partner `i`'s mix from Dirichlet(`c · m_i`) around its mix `m_i`, and the
//! scenario's run (with and without the programme, every period, the stretch purchases and
//! the orders' categories) buys that mix. A calibrated mix is an estimate from a partner's few
//! orders, shrunk toward its segment's; buying the estimate itself in every scenario spreads
//! a specialised partner over categories it never buys, and a bundle that needs several
//! categories in a quarter is over-forecast (docs/calibration.md, "Session 31"). The draw keeps
//! each category's expected share `m_ic`, so linear components keep their expectation.
//!
//! The draw: one `Gamma(c · m_ic, 1)` per category with a positive share, in category order,
//! from the partner's own [`Purpose::PartnerMix`] stream, normalised to sum 1; a category
//! without a share stays at 0. No other stream moves, so with the option absent every result
//! is the same bits as before. The expected-demand run (uplift pricing) keeps the mix itself,
//! the expectation of the draws; the units per revenue of each category
//! (`economics.category_prices`) stay those of the mix itself.

use super::setup::Setup;
use super::work::Work;
use crate::demand::Model;
use crate::population::Population;
use crate::rng::{self, Purpose};
use rand_distr::{Distribution, Gamma};

impl Setup<'_> {
    /// Per partner the concentration of its mix for the year from the model (0: none); empty
    /// when no segment has one or with fewer than two line categories (one category's share
    /// is 1 whatever is drawn).
    pub(crate) fn mix_concentrations(
        pop: &Population,
        model: &Model,
        category_count: usize,
    ) -> Vec<f64> {
        let of: Vec<f64> = pop
            .segments
            .iter()
            .map(|s| model.economics.mix_concentration_of(s).unwrap_or(0.0))
            .collect();
        if category_count < 2 || of.iter().all(|&c| !(c > 0.0)) {
            return Vec::new();
        }
        pop.segment.iter().map(|&g| of[g as usize]).collect()
    }

    /// Partner `i`'s category shares in the current scenario: the drawn mix when `w` holds
    /// one ([`Setup::draw_mix`]), else its mix.
    #[inline]
    pub(crate) fn mix_row<'a>(&'a self, i: usize, drawn: Option<&'a [f64]>) -> &'a [f64] {
        match drawn {
            Some(m) => m,
            None => &self.mix[i * self.category_count..(i + 1) * self.category_count],
        }
    }

    /// Draw partner `i`'s mix for the scenario into `w.pmix` when it has a concentration
    /// (`self.mix_conc[i] > 0`); else mark the work as holding none. `pk` is the partner's key.
    pub(crate) fn draw_mix(&self, pk: u64, i: usize, w: &mut Work) {
        let c = self.mix_conc.get(i).copied().unwrap_or(0.0);
        w.pmix_on = false;
        if !(c > 0.0) {
            return;
        }
        let cc = self.category_count;
        let mix = &self.mix[i * cc..(i + 1) * cc];
        w.pmix.clear();
        w.pmix.resize(cc, 0.0);
        let mut r = rng::stream_of(pk, Purpose::PartnerMix);
        let mut total = 0.0;
        for (d, &m) in w.pmix.iter_mut().zip(mix) {
            if m > 0.0 {
                // shape c·m ≥ a tiny positive number: Gamma::new refuses only shape ≤ 0
                if let Ok(g) = Gamma::new((c * m).max(1e-300), 1.0) {
                    *d = g.sample(&mut r);
                    total += *d;
                }
            }
        }
        if total > 0.0 && total.is_finite() {
            w.pmix.iter_mut().for_each(|d| *d /= total);
            w.pmix_on = true;
        }
    }
}

impl Work {
    /// The partner's drawn mix for the scenario, if any ([`Setup::draw_mix`]).
    #[inline]
    pub(crate) fn drawn_mix(&self) -> Option<&[f64]> {
        self.pmix_on.then_some(&self.pmix[..])
    }
}
