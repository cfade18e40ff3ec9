//! The partner table's identity checks: every row has a partner id, given once, and a segment
//! name (the ids hashed as the transaction tables' are, borrowed from the rows).

use super::PartnerRecord;
use crate::error::{Error, Result};

/// Partner ids seen so far, hashed as the transaction tables' ids are.
pub(super) type IdSet<'r> = std::collections::HashSet<
    &'r str,
    std::hash::BuildHasherDefault<crate::tables::intern::IdHasher>,
>;

/// A record's partner id (present, not seen before: it is added to `seen`) and segment name.
pub(super) fn check_identity<'r>(
    table: &str,
    row: usize,
    r: &'r PartnerRecord,
    seen: &mut IdSet<'r>,
) -> Result<()> {
    if r.partner_id.trim().is_empty() {
        return Err(Error::data(
            table,
            Some(row),
            Some("partner_id"),
            "expected a partner id, found an empty cell",
        ));
    }
    if !seen.insert(&r.partner_id) {
        return Err(Error::data(
            table,
            Some(row),
            Some("partner_id"),
            format!("partner '{}' appears twice", r.partner_id),
        ));
    }
    if r.segment.trim().is_empty() {
        return Err(Error::data(
            table,
            Some(row),
            Some("segment"),
            "expected a segment name, found an empty cell",
        ));
    }
    Ok(())
}
