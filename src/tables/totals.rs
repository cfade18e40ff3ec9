//! Control totals of a CSV table, for the audit manifest (`rebatesim.manifest`): the number of
//! non-blank rows and the exact sum of named number columns, read from the file's bytes as
//! they are (cells that are not numbers are skipped; `_` digit separators allowed), so that an
//! auditor can tie a booked figure to the input it came from. Exact decimals; `None` for a sum
//! beyond `Decimal`.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Rows and column sums of a CSV table.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlTotals {
    /// Rows with at least one non-blank cell (the header not counted).
    pub rows: usize,
    /// Per requested column found in the header (in the order asked): its name and exact sum,
    /// `None` when the sum is beyond `Decimal`.
    pub sums: Vec<(String, Option<Decimal>)>,
}

/// The control totals of `data` (CSV with a header row; names compared trimmed, without a
/// byte-order mark, case-insensitively) over `columns`; columns the header lacks are left out.
pub fn control_totals(data: &[u8], columns: &[&str]) -> ControlTotals {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut records = reader.byte_records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h
            .iter()
            .map(|c| {
                String::from_utf8_lossy(c)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_lowercase()
            })
            .collect(),
        _ => Vec::new(),
    };
    let wanted: Vec<(String, usize)> = columns
        .iter()
        .filter_map(|c| {
            header
                .iter()
                .position(|h| h == c)
                .map(|i| (c.to_string(), i))
        })
        .collect();
    let mut sums: Vec<Option<Decimal>> = vec![Some(Decimal::ZERO); wanted.len()];
    let mut rows = 0;
    for record in records {
        let Ok(record) = record else { continue };
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        rows += 1;
        for (j, (_, i)) in wanted.iter().enumerate() {
            let Some(cell) = record.get(*i) else { continue };
            let Some(v) = number(cell) else { continue };
            sums[j] = sums[j].and_then(|s| s.checked_add(v));
        }
    }
    ControlTotals {
        rows,
        sums: wanted.into_iter().map(|(c, _)| c).zip(sums).collect(),
    }
}

/// A cell as an exact decimal (plain or scientific notation, `_` separators), else `None`.
fn number(cell: &[u8]) -> Option<Decimal> {
    let text = std::str::from_utf8(cell).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    let text: std::borrow::Cow<str> = if text.contains('_') {
        text.replace('_', "").into()
    } else {
        text.into()
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rows_and_exact_sums_by_hand() {
        let csv = "\u{feff}Partner_ID,Revenue , quantity\nA,0.1,3\n\n , ,\nB,0.2,x\nC,1_000.70,2\n";
        let t = control_totals(csv.as_bytes(), &["revenue", "quantity", "amount"]);
        assert_eq!(t.rows, 3);
        assert_eq!(
            t.sums,
            vec![
                ("revenue".to_string(), Some(dec!(1001.00))),
                ("quantity".to_string(), Some(dec!(5)))
            ]
        );
        assert_eq!(t.sums[0].1.unwrap().to_string(), "1001.00");
    }

    #[test]
    fn a_sum_beyond_decimal_is_none() {
        let csv = "revenue\n79228162514264337593543950335\n1\n";
        let t = control_totals(csv.as_bytes(), &["revenue"]);
        assert_eq!((t.rows, t.sums[0].1), (2, None));
    }
}
