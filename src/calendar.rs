//! The programme calendar: periods of one, three, six or twelve months from a
//! start date, and the dates payments fall due.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// Length of one programme period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodLength {
    /// One calendar month.
    Month,
    /// Three months.
    Quarter,
    /// Six months.
    Half,
    /// Twelve months.
    Year,
}

impl PeriodLength {
    /// Number of months in one period.
    pub fn months(self) -> u32 {
        match self {
            PeriodLength::Month => 1,
            PeriodLength::Quarter => 3,
            PeriodLength::Half => 6,
            PeriodLength::Year => 12,
        }
    }

    /// Lower-case name as written in programme files.
    pub fn name(self) -> &'static str {
        match self {
            PeriodLength::Month => "month",
            PeriodLength::Quarter => "quarter",
            PeriodLength::Half => "half",
            PeriodLength::Year => "year",
        }
    }
}

/// The periods of a programme: `periods` consecutive periods of `length`
/// starting on `start`. Period `k` (0-based) covers the dates
/// `[start + k·length, start + (k+1)·length)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// First day of the programme.
    pub start: NaiveDate,
    /// Length of each period.
    pub length: PeriodLength,
    /// Number of periods (the programme's duration).
    pub periods: u32,
}

impl Calendar {
    /// First day of period `k` (0-based); `k == periods` gives the day after the programme ends.
    pub fn period_start(&self, k: u32) -> NaiveDate {
        self.start
            .checked_add_months(Months::new(k * self.length.months()))
            .expect("programme dates are validated to stay within chrono's range")
    }

    /// Last day (inclusive) of period `k` (0-based).
    pub fn period_end(&self, k: u32) -> NaiveDate {
        self.period_start(k + 1)
            .pred_opt()
            .expect("date after start")
    }

    /// Last day (inclusive) of the programme.
    pub fn end(&self) -> NaiveDate {
        self.period_end(self.periods - 1)
    }

    /// Total number of months the programme spans.
    pub fn months(&self) -> u32 {
        self.periods * self.length.months()
    }

    /// The 0-based period containing `date`, or `None` if the date is outside the programme.
    pub fn period_of(&self, date: NaiveDate) -> Option<u32> {
        let m = self.month_of(date)?;
        Some(m / self.length.months())
    }

    /// The 0-based programme month containing `date` (month 0 starts on `start`), or `None`
    /// if the date is outside the programme.
    pub fn month_of(&self, date: NaiveDate) -> Option<u32> {
        if date < self.start || date > self.end() {
            return None;
        }
        let mut m = (date.year() - self.start.year()) as i64 * 12 + date.month() as i64
            - self.start.month() as i64;
        // adjust for start days after the 1st
        let mut s = self
            .start
            .checked_add_months(Months::new(m.max(0) as u32))?;
        if s > date {
            m -= 1;
            s = self
                .start
                .checked_add_months(Months::new(m.max(0) as u32))?;
        }
        debug_assert!(s <= date);
        Some(m as u32)
    }

    /// Label of period `k`, e.g. `2027-Q1`, `2027-03`, `2027-H2`, `2027`; for a start not on
    /// a period boundary of the calendar year, `P3 (2027-07-15..2027-10-14)`.
    pub fn label(&self, k: u32) -> String {
        let s = self.period_start(k);
        let aligned = s.day() == 1 && (s.month() - 1).is_multiple_of(self.length.months());
        if !aligned {
            return format!("P{} ({}..{})", k + 1, s, self.period_end(k));
        }
        match self.length {
            PeriodLength::Month => format!("{}-{:02}", s.year(), s.month()),
            PeriodLength::Quarter => format!("{}-Q{}", s.year(), (s.month() - 1) / 3 + 1),
            PeriodLength::Half => format!("{}-H{}", s.year(), (s.month() - 1) / 6 + 1),
            PeriodLength::Year => format!("{}", s.year()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn quarters() {
        let c = Calendar {
            start: d(2027, 1, 1),
            length: PeriodLength::Quarter,
            periods: 4,
        };
        assert_eq!(c.period_end(0), d(2027, 3, 31));
        assert_eq!(c.end(), d(2027, 12, 31));
        assert_eq!(c.period_of(d(2027, 4, 1)), Some(1));
        assert_eq!(c.period_of(d(2027, 12, 31)), Some(3));
        assert_eq!(c.period_of(d(2028, 1, 1)), None);
        assert_eq!(c.period_of(d(2026, 12, 31)), None);
        assert_eq!(c.label(1), "2027-Q2");
    }

    #[test]
    fn mid_month_start() {
        let c = Calendar {
            start: d(2027, 7, 15),
            length: PeriodLength::Month,
            periods: 12,
        };
        assert_eq!(c.month_of(d(2027, 8, 14)), Some(0));
        assert_eq!(c.month_of(d(2027, 8, 15)), Some(1));
        assert_eq!(c.end(), d(2028, 7, 14));
    }
}
