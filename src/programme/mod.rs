//! Programme definitions: the file form ([`Programme`], TOML/JSON/YAML with
//! exact round trips), its validation, and the typed [`Compiled`] form that
//! settlement and simulation run on.
//!
//! ```
//! use rebatesim::programme::{Format, Programme};
//! let text = r#"
//! name = "Example"
//! currency = "EUR"
//! start = 2027-01-01
//! period = "year"
//! periods = 1
//! [[components]]
//! id = "volume"
//! kind = "volume"
//! tiers = [{ from = 100000, percent = 1 }, { from = 250000, percent = 2.5 }]
//! "#;
//! let programme = Programme::from_str(text, Format::Toml, None).unwrap();
//! let compiled = programme.compile().unwrap();
//! assert_eq!(compiled.components.len(), 1);
//! ```

mod compiled;
mod describe;
mod io;
mod spec;
mod validate;
pub mod values;

pub use compiled::*;
// the file formats moved to `crate::document`; these paths stay
pub use crate::document::{locate_field, Format};
pub use spec::*;

// shared with the demand model's reader (src/demand.rs)
pub(crate) use crate::document::{parse as parse_document, write as write_document};
