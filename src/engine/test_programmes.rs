//! Programmes shared by the engine's unit tests (test builds only).

use crate::programme::{Compiled, Format, Programme};

/// A quarterly programme with one logistics component: 10 for every order of at least 5 units.
pub(crate) fn pallet_programme() -> Compiled {
    Programme::from_str(
        "name = \"P\"\ncurrency = \"EUR\"\nstart = 2027-01-01\nperiod = \"quarter\"\nperiods = 4\n\
         [[components]]\nid = \"pallet\"\nkind = \"logistics\"\nmin_quantity = 5\nper_order = 10\n",
        Format::Toml,
        None,
    )
    .unwrap()
    .compile()
    .unwrap()
}
