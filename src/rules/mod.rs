//! The calculation kernel: the settlement semantics of `docs/calculations.md`,
//! written once and generic over the number type.
//!
//! The exact settlement engine ([`crate::settlement`]) runs it on
//! [`rust_decimal::Decimal`]; the Monte Carlo engine runs the very same code on
//! `f64`. Both therefore apply every tier method, reward kind, cap, exclusive
//! group, minimum payout and budget cut identically, and agree to the cent.
//!
//! # How to use it
//!
//! 1. [`Prepared::new`] converts a [`Compiled`](crate::programme::Compiled) programme once into the number
//!    type `A` (tiers, caps, budget).
//! 2. For each partner, fill a flat *measures* slice (see [`Prepared::index`]
//!    and [`slot`]): for every component `c`, period `k` and slot `s`, the
//!    volumes measured on the partner's lines **in the period alone** (not to
//!    date; the kernel accumulates windows itself). Volumes are in scope of the
//!    component (segment/category filter) and already net or gross of returns
//!    as the component's `returns` says.
//! 3. Call [`Prepared::settle_partner`] with a [`PartnerScratch`] created once
//!    by [`Prepared::scratch`] and reused for every partner: it fills the
//!    cumulative matrices (components × periods) for each stage of the
//!    pipeline without allocating.
//! 4. Apply the programme budget with [`Prepared::budget_total`] (totals only)
//!    or [`allocate_into`] (per partner and component, to the cent).
//!
//! ```
//! use rebatesim::programme::{Format, Programme};
//! use rebatesim::rules::{slot, Prepared};
//! let p = Programme::from_str(r#"
//! name = "Doc"
//! currency = "EUR"
//! start = 2027-01-01
//! period = "year"
//! periods = 1
//! [[components]]
//! id = "vol"
//! kind = "volume"
//! tiers = [{ from = 10000, percent = 2 }, { from = 50000, percent = 3 }]
//! "#, Format::Toml, None).unwrap().compile().unwrap();
//! let prep: Prepared<f64> = Prepared::new(&p);
//! let mut scratch = prep.scratch();
//! let mut m = vec![0.0; prep.measure_len()];
//! m[prep.index(0, 0, slot::VOLUME)] = 60_000.0;
//! m[prep.index(0, 0, slot::REVENUE)] = 60_000.0;
//! prep.settle_partner(&m, &[true], &Default::default(), &mut scratch);
//! assert_eq!(scratch.payable(0, 0), 1_800.0);
//! ```
//!
//! # Where things are
//!
//! - `amount`: the number type [`Amount`] (`Decimal` and `f64`), money rounding.
//! - `prepared`: [`Prepared`], the programme in `A`, and the measures layout ([`slot`]).
//! - `evaluate`: one rule on one window ([`Prepared::evaluate`], [`Prepared::next_tier`]).
//! - `ladder`: tier ladders term by term ([`ladder_terms`], [`contribution`]).
//! - `pipeline`: a partner's stages to date ([`Prepared::settle_partner`], [`PartnerScratch`]),
//!   and the last period's payable alone ([`Prepared::settle_final`]).
//! - `budget`: the programme budget and allocation to the minor unit ([`allocate_into`]).

mod amount;
mod budget;
mod evaluate;
mod ladder;
mod pipeline;
mod prepared;

pub(crate) use amount::round_money_lanes;
pub use amount::{at_least_bound, Amount};
pub use budget::allocate_into;
pub use ladder::{contribution, ladder_terms, ladder_terms_reached};
pub use pipeline::PartnerScratch;
pub use prepared::{
    slot, Baseline, Outcome, PTier, Prepared, PreparedComponent, PreparedRule, RewardKind, Span,
};
