//! Accruals booked before the forecast date: the table, how it is read, and how its rows
//! are matched to the partners and components of a forecast.

use crate::error::{Error, Result};
use crate::population::Population;
use crate::rules::Prepared;
use rust_decimal::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Accruals booked before the forecast date, per partner and component (cumulative amounts
/// recognised through the previous month end). Read from a table with columns `partner_id`,
/// `component` and `amount`.
#[derive(Debug, Clone, Default)]
pub struct PriorAccruals {
    /// Table name used in error messages.
    pub table: String,
    /// Partner id of each row.
    pub partner_id: Vec<String>,
    /// Component id of each row.
    pub component: Vec<String>,
    /// Cumulative amount accrued of each row.
    pub amount: Vec<Decimal>,
}

impl PriorAccruals {
    /// Read prior accruals from a CSV file; errors name the file.
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<PriorAccruals> {
        let path = path.as_ref();
        let f = crate::limits::open_regular(path, "a prior accruals table (CSV file)")?;
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        PriorAccruals::from_csv_reader(std::io::BufReader::new(f), &name)
    }

    /// Read prior accruals from CSV text; `table` names it in errors.
    pub fn from_csv_str(text: &str, table: &str) -> Result<PriorAccruals> {
        PriorAccruals::from_csv_reader(text.as_bytes(), table)
    }

    /// Read prior accruals from CSV: columns `partner_id`, `component`, `amount` (others are
    /// ignored). Errors name the row and column.
    pub fn from_csv_reader<R: Read>(reader: R, table: &str) -> Result<PriorAccruals> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| Error::data(table, None, None, format!("cannot read the header: {e}")))?
            .clone();
        let col = |name: &str| -> Result<usize> {
            headers
                .iter()
                .position(|h| {
                    h.trim_start_matches('\u{feff}')
                        .trim()
                        .eq_ignore_ascii_case(name)
                })
                .ok_or_else(|| {
                    Error::data(
                        table,
                        None,
                        Some(name),
                        format!(
                            "missing column (the table has: {})",
                            headers.iter().collect::<Vec<_>>().join(", ")
                        ),
                    )
                })
        };
        let (partner_column, component_column, amount_column) =
            (col("partner_id")?, col("component")?, col("amount")?);
        let mut out = PriorAccruals {
            table: table.to_owned(),
            ..Default::default()
        };
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 1;
            let rec = rec.map_err(|e| Error::data(table, Some(row), None, e.to_string()))?;
            let get = |c: usize| rec.get(c).unwrap_or("").trim().to_owned();
            let (p, c, a) = (
                get(partner_column),
                get(component_column),
                get(amount_column),
            );
            if p.is_empty() {
                return Err(Error::data(
                    table,
                    Some(row),
                    Some("partner_id"),
                    "expected a partner id, found an empty cell",
                ));
            }
            if c.is_empty() {
                return Err(Error::data(
                    table,
                    Some(row),
                    Some("component"),
                    "expected a component id, found an empty cell",
                ));
            }
            let amount = crate::data::parse_bounded(&a)
                .map_err(|m| Error::data(table, Some(row), Some("amount"), m))?;
            out.partner_id.push(p);
            out.component.push(c);
            out.amount.push(amount);
        }
        Ok(out)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.partner_id.len()
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.partner_id.is_empty()
    }
}

/// The prior accrual of each partner and component (`partners × components`, 0 where the
/// table has no row). Errors name the row of an unknown partner or component, or of a
/// partner and component given twice.
pub(super) fn prior_amounts(
    accruals: Option<&PriorAccruals>,
    population: &Population,
    prepared: &Prepared<Decimal>,
) -> Result<Vec<Decimal>> {
    let components: Vec<String> = prepared.components.iter().map(|c| c.id.clone()).collect();
    match accruals {
        None => Ok(vec![Decimal::ZERO; population.len() * components.len()]),
        Some(pa) => booked_amounts(pa, &population.partner_id, &population.table, &components),
    }
}

/// The amounts of a prior accruals table per partner and component (`partners ×
/// components` in the order given, 0 where the table has no row); `partners_table` names
/// the partner table in errors. Errors name the row of an unknown partner or component, or
/// of a partner and component given twice.
pub(super) fn booked_amounts(
    pa: &PriorAccruals,
    partner_ids: &[String],
    partners_table: &str,
    component_ids: &[String],
) -> Result<Vec<Decimal>> {
    let components = component_ids.len();
    let mut prior = vec![Decimal::ZERO; partner_ids.len() * components];
    let partner_index: HashMap<&str, usize> = partner_ids
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
    for r in 0..pa.len() {
        let i = *partner_index
            .get(pa.partner_id[r].as_str())
            .ok_or_else(|| {
                Error::data(
                    &pa.table,
                    Some(r + 1),
                    Some("partner_id"),
                    format!(
                        "unknown partner '{}' (not in {})",
                        pa.partner_id[r], partners_table
                    ),
                )
            })?;
        let c = component_ids
            .iter()
            .position(|x| *x == pa.component[r])
            .ok_or_else(|| {
                Error::data(
                    &pa.table,
                    Some(r + 1),
                    Some("component"),
                    format!(
                        "unknown component '{}' (the programme has: {})",
                        pa.component[r],
                        component_ids.join(", ")
                    ),
                )
            })?;
        if let Some(first) = seen.insert((i, c), r) {
            return Err(Error::data(
                &pa.table,
                Some(r + 1),
                Some("partner_id"),
                format!(
                    "a prior accrual for partner '{}' and component '{}' is given twice (first in row {})",
                    pa.partner_id[r],
                    pa.component[r],
                    first + 1
                ),
            ));
        }
        prior[i * components + c] = pa.amount[r];
    }
    Ok(prior)
}
