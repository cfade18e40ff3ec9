//! Each partner's actual orders in the complete months to date: the evidence of the
//! conditioning of its orders per buying month (`engine/conditioned/order_rate.rs`).

use crate::calendar::Calendar;
use crate::data::Transactions;
use rust_decimal::Decimal;

/// Per partner (`rows_of`, each partner's rows): the number of distinct orders among its
/// positive lines dated in the first `complete` programme months, an order being an order id
/// within a month (a line without an order id is an order of its own, as settlement counts
/// orders). Empty when the actuals have no `order_id` column (no evidence).
pub(super) fn order_counts(
    calendar: &Calendar,
    actuals: &Transactions,
    rows_of: &[Vec<usize>],
    complete: usize,
) -> Vec<f64> {
    let Some(order) = actuals.order.as_ref() else {
        return Vec::new();
    };
    let mut keys: Vec<(u32, u64)> = Vec::new();
    rows_of
        .iter()
        .map(|rows| {
            keys.clear();
            for &r in rows {
                if actuals.revenue[r] <= Decimal::ZERO {
                    continue;
                }
                let Some(m) = calendar.month_of(actuals.date[r]) else {
                    continue;
                };
                if m as usize >= complete {
                    continue;
                }
                let id = order[r].map_or(u64::MAX - r as u64, u64::from);
                keys.push((m, id));
            }
            keys.sort_unstable();
            keys.dedup();
            keys.len() as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::order_counts;
    use crate::calendar::Calendar;
    use crate::data::Transactions;

    #[test]
    fn counts_distinct_orders_of_positive_lines_in_complete_months() {
        let csv = "partner_id,date,quantity,revenue,category,order_id\n\
                   A,2027-01-03,1,10,x,O1\n\
                   A,2027-01-03,2,20,y,O1\n\
                   A,2027-01-20,1,10,x,O2\n\
                   A,2027-01-21,-1,-10,x,R1\n\
                   A,2027-02-02,1,10,x,\n\
                   A,2027-02-02,1,10,y,\n\
                   A,2027-03-05,1,10,x,O3\n\
                   B,2027-02-10,1,10,x,O9\n";
        let t = Transactions::from_csv_str(csv, "t").unwrap();
        let cal = Calendar {
            start: chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            length: crate::calendar::PeriodLength::Month,
            periods: 12,
        };
        let mut rows_of = vec![Vec::new(); 2];
        for r in 0..t.len() {
            rows_of[t.partner_key[r] as usize].push(r);
        }
        // A: O1 and O2 in January, two lines without an id in February (two orders); the
        // return and March (not complete) do not count. B: one order.
        assert_eq!(order_counts(&cal, &t, &rows_of, 2), vec![4.0, 1.0]);
        assert_eq!(order_counts(&cal, &t, &rows_of, 1), vec![2.0, 0.0]);
    }
}
