//! Documents: the file formats programmes and models are written in (TOML, JSON, YAML),
//! read within the input limits with errors located by field path, line and column, and
//! the location of a field path in a document's text ([`locate_field`]) for errors found
//! after parsing. Used by [`crate::programme`] and the demand model ([`crate::demand`]).

mod format;
mod locate;
mod position;

pub use format::Format;
pub(crate) use format::{clean_path, parse, strip_position, suggest, write};
pub use locate::locate_field;
pub(crate) use locate::Locator;
pub(crate) use position::line_col_bytes;
