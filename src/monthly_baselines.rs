//! Per-period baselines of a partner table: the prior year's volume in each programme month,
//! in twelve columns per basis (`baseline_revenue_m01` … `baseline_revenue_m12`,
//! `baseline_units_m01` … `baseline_units_m12`; month 1 = the programme's first month).
//!
//! The rules of every table reader (CSV, Arrow, Parquet; settlement's exact [`crate::data::Partners`]
//! and the simulation's [`crate::population::Population`]) live here, so they agree:
//! - a basis has all twelve columns or none ([`month_columns`]: a partial set is an error naming
//!   the first missing column);
//! - in a row, all twelve cells are given or all are empty (an empty row means no monthly
//!   baseline for that partner); each month is a number ≥ 0 within the table limits;
//! - when the annual column is given too, the months must sum to it, to the annual value's
//!   written decimals (the sum rounded half away from zero to those decimals equals it), else
//!   an error naming the row and the annual column; months alone give the annual baseline
//!   (their sum, below 10^15).

use crate::error::{Error, Result};
use crate::money::MAX_MAGNITUDE;
use rust_decimal::{Decimal, RoundingStrategy};

/// Number of monthly baseline columns per basis.
pub const MONTHS: usize = 12;

/// Name of the monthly column of `annual` (`baseline_revenue` or `baseline_units`) for
/// programme month `m` (1-based): `baseline_revenue_m01` … `_m12`.
pub fn column_name(annual: &str, m: usize) -> String {
    format!("{annual}_m{m:02}")
}

/// The twelve monthly column names of `annual`.
pub fn column_names(annual: &str) -> [String; MONTHS] {
    std::array::from_fn(|j| column_name(annual, j + 1))
}

/// The positions of `annual`'s twelve monthly columns, found by `find`: `None` when the table
/// has none of them, an error naming the first missing one when it has only some.
pub fn month_columns(
    table: &str,
    annual: &str,
    find: impl Fn(&str) -> Option<usize>,
) -> Result<Option<[usize; MONTHS]>> {
    let names = column_names(annual);
    let found: Vec<Option<usize>> = names.iter().map(|n| find(n)).collect();
    if found.iter().all(Option::is_none) {
        return Ok(None);
    }
    if let Some(j) = found.iter().position(Option::is_none) {
        let have = found.iter().filter(|f| f.is_some()).count();
        return Err(Error::data(
            table,
            None,
            Some(&names[j]),
            format!(
                "missing column: monthly baselines need all twelve columns {}_m01 … {}_m12 (found {have})",
                annual, annual
            ),
        ));
    }
    Ok(Some(std::array::from_fn(|j| found[j].expect("all found"))))
}

/// One row's monthly cells of `annual` (`cells[j]` = month j+1, `None` for an empty cell,
/// already checked against the table limits) reconciled with its annual cell: returns the
/// annual baseline (given, or the sum of the months) and the months (when given). Errors name
/// `row` and the column at fault.
pub fn reconcile(
    table: &str,
    row: usize,
    annual: &str,
    given: Option<Decimal>,
    cells: [Option<Decimal>; MONTHS],
) -> Result<(Option<Decimal>, Option<[Decimal; MONTHS]>)> {
    let err = |col: &str, m: String| Error::data(table, Some(row), Some(col), m);
    if cells.iter().all(Option::is_none) {
        return Ok((given, None));
    }
    let mut months = [Decimal::ZERO; MONTHS];
    let mut sum = Decimal::ZERO;
    for (j, cell) in cells.iter().enumerate() {
        let name = column_name(annual, j + 1);
        let v = cell.ok_or_else(|| {
            err(
                &name,
                "expected a number, found an empty cell: give all twelve months or none".to_owned(),
            )
        })?;
        if v.is_sign_negative() && !v.is_zero() {
            return Err(err(&name, format!("expected a baseline ≥ 0, found {v}")));
        }
        months[j] = v;
        sum += v; // twelve values below 10^15: far inside Decimal's range
    }
    match given {
        Some(a) => {
            let rounded =
                sum.round_dp_with_strategy(a.scale(), RoundingStrategy::MidpointAwayFromZero);
            if rounded != a {
                return Err(err(
                    annual,
                    format!(
                        "the monthly baselines {annual}_m01 … {annual}_m12 sum to {}, not to {annual} {a}: give matching values, or only the months",
                        sum.normalize()
                    ),
                ));
            }
            Ok((Some(a), Some(months)))
        }
        None => {
            if sum >= MAX_MAGNITUDE {
                return Err(err(
                    &column_name(annual, 1),
                    format!(
                        "the monthly baselines sum to {}: an annual baseline must be below 10^15",
                        sum.normalize()
                    ),
                ));
            }
            Ok((Some(sum), Some(months)))
        }
    }
}

/// The months as `f64` (the simulation's number type).
pub fn to_f64(months: &[Decimal; MONTHS]) -> [f64; MONTHS] {
    use rust_decimal::prelude::ToPrimitive;
    std::array::from_fn(|j| months[j].to_f64().unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn months(v: &[&str; 12]) -> [Option<Decimal>; MONTHS] {
        std::array::from_fn(|j| Some(d(v[j])))
    }

    const M: [&str; 12] = [
        "10", "10", "10", "20", "20", "20", "5", "5", "5", "0", "0", "0.004",
    ];

    #[test]
    fn names_and_partial_sets() {
        assert_eq!(column_name("baseline_units", 7), "baseline_units_m07");
        let all = |n: &str| column_names("baseline_revenue").iter().position(|c| c == n);
        assert_eq!(
            month_columns("t", "baseline_revenue", all)
                .unwrap()
                .unwrap()[11],
            11
        );
        assert!(month_columns("t", "baseline_revenue", |_| None)
            .unwrap()
            .is_none());
        let partial = |n: &str| (n < "baseline_revenue_m05").then_some(0);
        let e = month_columns("t", "baseline_revenue", partial)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column 'baseline_revenue_m05'") && e.contains("(found 4)"),
            "{e}"
        );
    }

    #[test]
    fn sums_and_agreement() {
        // months sum to 105.004: alone they give it as the annual baseline
        let (a, m) = reconcile("t", 3, "baseline_revenue", None, months(&M)).unwrap();
        assert_eq!(a, Some(d("105.004")));
        assert_eq!(m.unwrap()[3], d("20"));
        // an annual 105.00 agrees to its two decimals, 105 to none; 105.01 does not
        assert!(reconcile("t", 3, "baseline_revenue", Some(d("105.00")), months(&M)).is_ok());
        assert!(reconcile("t", 3, "baseline_revenue", Some(d("105")), months(&M)).is_ok());
        let e = reconcile("t", 3, "baseline_revenue", Some(d("105.01")), months(&M))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 3, column 'baseline_revenue'") && e.contains("sum to 105.004"),
            "{e}"
        );
        // all empty: the annual alone
        let (a, m) = reconcile("t", 1, "baseline_units", Some(d("7")), [None; 12]).unwrap();
        assert_eq!((a, m), (Some(d("7")), None));
    }

    #[test]
    fn empty_and_negative_months_are_refused() {
        let mut cells = months(&M);
        cells[5] = None;
        let e = reconcile("t", 2, "baseline_units", None, cells)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 2, column 'baseline_units_m06'") && e.contains("empty cell"),
            "{e}"
        );
        let mut cells = months(&M);
        cells[0] = Some(d("-1"));
        let e = reconcile("t", 2, "baseline_units", None, cells)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column 'baseline_units_m01'") && e.contains("≥ 0"),
            "{e}"
        );
        let big = [Some(d("100000000000000")); 12];
        let e = reconcile("t", 2, "baseline_units", None, big)
            .unwrap_err()
            .to_string();
        assert!(e.contains("below 10^15"), "{e}");
    }
}
