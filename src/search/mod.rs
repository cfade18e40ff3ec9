//! Design search (`docs/search.md`): the numeric core a search needs, orchestrated by the
//! Python package (`rebatesim.search`): the search space file checked against a programme
//! template and its candidate programmes ([`space`]), and the upper confidence bound that
//! decides a chance constraint ([`bounds`]).

pub mod bounds;
pub mod space;

pub use bounds::clopper_pearson_upper;
pub use space::{Parameter, Space, Target};
