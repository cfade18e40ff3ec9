//! The memory guard of a run: what its outputs and the scenarios in flight need, counted from
//! the programme's and the population's sizes alone ([`Shape`]), so that a request that could
//! not fit is refused before the set-up (which at 10⁶ partners is itself work), and a chunk of
//! scenarios in flight too big for the limit is made smaller instead of refused.

use super::setup::{months_between, PartnerConst};
use crate::demand::Model;
use crate::error::{Error, Result};
use crate::population::Population;
use crate::programme::Compiled;
use crate::rules::{Prepared, PreparedRule};

/// The sizes a run's memory depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    partners: usize,
    segment_count: usize,
    component_count: usize,
    period_count: usize,
    months: usize,
    cash_months: usize,
    category_count: usize,
    ladders: usize,
    tier_width: usize,
    partner_tier_width: usize,
    /// Set-ups the run holds: one, or one per parameter draw.
    setups: usize,
}

impl Shape {
    /// The sizes of a run of `p` on `pop` under `model`, as [`super::setup::Setup`] would
    /// have them, without its per-partner work.
    pub(crate) fn of(p: &Compiled, pop: &Population, model: &Model) -> Shape {
        let prep: Prepared<f64> = Prepared::new(p);
        let (mut ladders, mut tier_width, mut partner_tier_width) = (0, 0, 0);
        for c in &prep.components {
            if let PreparedRule::Ladder { tiers, .. } | PreparedRule::Growth { tiers, .. } = &c.rule
            {
                ladders += 1;
                tier_width += tiers.len() + 1;
                partner_tier_width += tiers.len();
            }
        }
        let cash_months = (0..prep.periods as u32)
            .map(|k| months_between(p.calendar.start, p.payment_date(k)))
            .max()
            .unwrap_or(0)
            + 1;
        let categories = if !pop.categories.is_empty() {
            pop.categories.len()
        } else {
            model.economics.category_mix.len()
        };
        Shape {
            partners: pop.len(),
            segment_count: pop.segments.len(),
            component_count: prep.components.len(),
            period_count: prep.periods,
            months: prep.periods * prep.months_per_period as usize,
            cash_months,
            category_count: categories.max(1),
            ladders,
            tier_width,
            partner_tier_width,
            setups: 1,
        }
    }

    /// The shape of the same run with `draws` parameter draws (0: none): the model's set-up
    /// and one per draw.
    pub(crate) fn with_draws(mut self, draws: usize) -> Shape {
        self.setups = draws.saturating_add(1);
        self
    }

    /// The number of tier ladders (volume and growth components).
    pub(crate) fn ladders(&self) -> usize {
        self.ladders
    }

    /// Bytes the outputs of `scenarios` scenarios need (plus the in-flight chunk). Every
    /// product and sum saturates, so that a huge request (`scenarios` near `usize::MAX`) comes
    /// out as `usize::MAX`, above any limit, instead of wrapping round to a small number.
    pub(crate) fn estimate(&self, scenarios: usize, chunk: usize) -> usize {
        let n = self.partners;
        let sum = |xs: &[usize]| xs.iter().fold(0usize, |a, &b| a.saturating_add(b));
        let mul = |a: usize, b: usize| a.saturating_mul(b);
        let per_scen = sum(&[
            mul(
                8,
                sum(&[
                    14,
                    mul(8, self.segment_count),
                    self.component_count,
                    self.months,
                    self.cash_months,
                ]),
            ),
            mul(4, self.tier_width),
        ]);
        let per_partner_result = sum(&[
            mul(8, sum(&[2, self.partner_tier_width])),
            mul(4, self.tier_width),
            32,
        ]);
        let in_flight = mul(
            chunk,
            sum(&[
                mul(n, sum(&[8, self.ladders])),
                per_scen,
                mul(
                    8,
                    sum(&[
                        mul(6, self.segment_count),
                        self.component_count,
                        self.period_count,
                        self.months,
                    ]),
                ),
            ]),
        );
        // one set-up per parameter draw
        let setup = mul(
            mul(self.setups, n),
            sum(&[
                std::mem::size_of::<PartnerConst>(),
                self.component_count,
                mul(8, self.category_count),
            ]),
        );
        sum(&[
            mul(scenarios, per_scen),
            mul(n, per_partner_result),
            in_flight,
            setup,
        ])
    }

    /// The chunk of scenarios in flight to run `scenarios` with: `chunk` when everything fits
    /// in `limit` bytes, else the largest smaller chunk that does (results never depend on the
    /// chunk), else an [`Error::Request`] that says what the memory goes to.
    pub(crate) fn fit_chunk(&self, scenarios: usize, chunk: usize, limit: usize) -> Result<usize> {
        let chunk = chunk.max(1);
        if self.estimate(scenarios, chunk) <= limit {
            return Ok(chunk);
        }
        let kept = self.estimate(scenarios, 0);
        let per = self.estimate(scenarios, 1).saturating_sub(kept);
        if kept < limit && per > 0 && (limit - kept) / per >= 1 {
            return Ok(((limit - kept) / per).min(chunk));
        }
        let mb = |b: usize| {
            if b == usize::MAX {
                "more memory than this computer can address".to_owned()
            } else {
                format!("about {} MB", b / 1_000_000 + 1)
            }
        };
        Err(Error::Request(format!(
            "the outputs of {scenarios} scenarios × {} partners would need {} ({} kept for the results, {} for each scenario in flight), above the memory limit of {} MB even with one scenario in flight: run fewer scenarios, or fewer partners at a time (e.g. a sample, or the population in parts), or raise the limit",
            self.partners,
            mb(kept.saturating_add(per)),
            mb(kept),
            mb(per),
            limit / 1_000_000
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::{Format, Programme};

    fn shape(partners: usize) -> Shape {
        let p = Programme::from_str(
            "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n\
             [[components]]\nid = \"v\"\nkind = \"volume\"\ntiers = [{ from = 0, percent = 1 }]\n",
            Format::Toml,
            None,
        )
        .unwrap()
        .compile()
        .unwrap();
        let mut csv = String::from("partner_id,segment,baseline_revenue\n");
        for i in 0..partners {
            csv.push_str(&format!("P{i},s,1000\n"));
        }
        let pop = Population::from_csv_str(&csv, "partners.csv").unwrap();
        Shape::of(&p, &pop, &Model::default())
    }

    /// The shape counted without a set-up gives the set-up's estimate.
    #[test]
    fn the_shape_is_the_setups() {
        let s = shape(50);
        assert_eq!(
            (
                s.partners,
                s.period_count,
                s.months,
                s.ladders,
                s.tier_width
            ),
            (50, 4, 12, 1, 2)
        );
        assert_eq!(s.category_count, 1);
    }

    /// A chunk too big for the limit is made smaller, the one that fits is kept, and a run
    /// whose results alone do not fit is refused with what the memory goes to.
    #[test]
    fn a_smaller_chunk_instead_of_a_refusal() {
        let s = shape(1000);
        let need = s.estimate(100, 64);
        assert_eq!(s.fit_chunk(100, 64, need).unwrap(), 64);
        let smaller = s.fit_chunk(100, 64, need - 1).unwrap();
        assert!((1..64).contains(&smaller));
        assert!(s.estimate(100, smaller) < need);
        assert!(s.estimate(100, smaller + 1) > need - 1);
        let e = s
            .fit_chunk(100, 64, s.estimate(100, 0))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("above the memory limit") && e.contains("in flight"),
            "{e}"
        );
    }
}
