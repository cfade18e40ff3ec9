//! The statistics of a backtest: coverage of the intervals, errors of the expected-value
//! estimates, paired comparisons of two methods, and the comparison table (Markdown).

use super::result::{Backtest, LEVELS};
use crate::error::Result;
use crate::summary::{self, Estimate};
use std::collections::HashMap;

/// Coverage of one central interval of one method at one month end (or pooled).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoverageRow {
    /// Method name.
    pub method: String,
    /// Month end (1-based programme month), `None` for all month ends pooled.
    pub month_end: Option<usize>,
    /// Nominal level (0.8 or 0.9).
    pub level: f64,
    /// Forecasts counted.
    pub n: usize,
    /// Share of years whose realised payout fell inside the interval, with its binomial SE
    /// `√(p(1−p)/n)`.
    pub coverage: Estimate,
    /// Share of years whose realised payout fell below the interval (the forecast was too high).
    pub below: f64,
    /// Share above the interval (the forecast was too low).
    pub above: f64,
    /// SE of the coverage clustered by year (forecasts of one year are correlated; equal to
    /// the binomial SE for a single month end).
    pub se_years: f64,
}

/// Error of one method's expected-value estimate at one month end (or pooled).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ErrorRow {
    /// Method name.
    pub method: String,
    /// Month end (1-based programme month), `None` for all month ends pooled.
    pub month_end: Option<usize>,
    /// Forecasts counted (years with a realised payout > 0).
    pub n: usize,
    /// Mean absolute error relative to the realised payout, mean of |estimate − realised| /
    /// realised, with its SE (clustered by year when pooled).
    pub mae: Estimate,
    /// Root mean squared relative error √mean(((estimate − realised)/realised)²).
    pub rmse: f64,
    /// Mean relative error (estimate − realised)/realised: the bias (> 0: too high).
    pub bias: Estimate,
    /// Mean absolute error in currency.
    pub mae_amount: f64,
}

/// The paired difference of two methods' relative absolute errors on the same years.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PairedRow {
    /// The method compared (e.g. the forecast).
    pub method: String,
    /// The method it is compared with.
    pub against: String,
    /// Month end, `None` for all month ends pooled.
    pub month_end: Option<usize>,
    /// Mean over years of |e_method| − |e_against| (relative errors), with its SE (by year).
    /// Negative: `method` is more accurate.
    pub difference: Estimate,
    /// Share of forecasts where `method` was closer to the realised payout.
    pub wins: f64,
}

/// Where a realised payout fell against a forecast's interval.
enum Side {
    /// Below the interval: the forecast was too high.
    Below,
    /// Inside.
    Inside,
    /// Above: the forecast was too low.
    Above,
}

impl Backtest {
    /// Coverage of the 80% and 90% intervals of every method with intervals, per month end and
    /// pooled (pooled rows last for each method and level).
    pub fn coverage(&self) -> Vec<CoverageRow> {
        let (years, month_ends) = (self.years(), self.month_ends.len());
        let mut rows = Vec::new();
        for (k, method) in self.methods.iter().enumerate() {
            if !self.has_intervals[k] {
                continue;
            }
            for (j, &level) in LEVELS.iter().enumerate() {
                // per year and month end: where the realised payout fell
                let side = |y: usize, m: usize| {
                    let c = &self.cells[self.idx(y, m, k)];
                    let r = self.realised[y];
                    if r < c.bounds[2 * j] {
                        Side::Below
                    } else if r > c.bounds[2 * j + 1] {
                        Side::Above
                    } else {
                        Side::Inside
                    }
                };
                let row = |ms: &[usize], month_end: Option<usize>| {
                    let mut per_year = Vec::with_capacity(years);
                    let (mut inside, mut below, mut above) = (0usize, 0usize, 0usize);
                    for y in 0..years {
                        let mut inside_this_year = 0usize;
                        for &m in ms {
                            match side(y, m) {
                                Side::Below => below += 1,
                                Side::Above => above += 1,
                                Side::Inside => {
                                    inside += 1;
                                    inside_this_year += 1;
                                }
                            }
                        }
                        per_year.push(inside_this_year as f64 / ms.len() as f64);
                    }
                    let n = years * ms.len();
                    let p = inside as f64 / n as f64;
                    CoverageRow {
                        method: method.clone(),
                        month_end,
                        level,
                        n,
                        coverage: Estimate {
                            value: p,
                            se: (p * (1.0 - p) / n as f64).sqrt(),
                        },
                        below: below as f64 / n as f64,
                        above: above as f64 / n as f64,
                        se_years: summary::mean(&per_year).se,
                    }
                };
                for m in 0..month_ends {
                    rows.push(row(&[m], Some(self.month_ends[m])));
                }
                let all: Vec<usize> = (0..month_ends).collect();
                rows.push(row(&all, None));
            }
        }
        rows
    }

    fn rel_errors(&self, k: usize, m: usize) -> Vec<(usize, f64, f64)> {
        (0..self.years())
            .filter(|&y| self.realised[y] > 0.0)
            .map(|y| {
                let e = self.cells[self.idx(y, m, k)].point - self.realised[y];
                (y, e / self.realised[y], e)
            })
            .collect()
    }

    /// Error of every method's expected-value estimate, per month end and pooled (pooled rows
    /// last for each method). Years that realised no payout are left out (relative error
    /// undefined).
    pub fn errors(&self) -> Vec<ErrorRow> {
        let month_ends = self.month_ends.len();
        let mut rows = Vec::new();
        for (k, method) in self.methods.iter().enumerate() {
            let mut per_year: HashMap<usize, (f64, f64, usize)> = HashMap::new();
            let mut pooled: Vec<(f64, f64)> = Vec::new();
            for m in 0..month_ends {
                let e = self.rel_errors(k, m);
                let abs: Vec<f64> = e.iter().map(|x| x.1.abs()).collect();
                let rel: Vec<f64> = e.iter().map(|x| x.1).collect();
                for &(y, r, a) in &e {
                    let s = per_year.entry(y).or_default();
                    s.0 += r.abs();
                    s.1 += r;
                    s.2 += 1;
                    pooled.push((r, a));
                }
                rows.push(ErrorRow {
                    method: method.clone(),
                    month_end: Some(self.month_ends[m]),
                    n: e.len(),
                    mae: summary::mean(&abs),
                    rmse: (rel.iter().map(|x| x * x).sum::<f64>() / rel.len() as f64).sqrt(),
                    bias: summary::mean(&rel),
                    mae_amount: e.iter().map(|x| x.2.abs()).sum::<f64>() / e.len() as f64,
                });
            }
            let mut ys: Vec<usize> = per_year.keys().copied().collect();
            ys.sort_unstable();
            let ya: Vec<f64> = ys
                .iter()
                .map(|y| per_year[y].0 / per_year[y].2 as f64)
                .collect();
            let yb: Vec<f64> = ys
                .iter()
                .map(|y| per_year[y].1 / per_year[y].2 as f64)
                .collect();
            let n = pooled.len();
            let mae = pooled.iter().map(|x| x.0.abs()).sum::<f64>() / n as f64;
            let bias = pooled.iter().map(|x| x.0).sum::<f64>() / n as f64;
            rows.push(ErrorRow {
                method: method.clone(),
                month_end: None,
                n,
                mae: Estimate {
                    value: mae,
                    se: summary::mean(&ya).se,
                },
                rmse: (pooled.iter().map(|x| x.0 * x.0).sum::<f64>() / n as f64).sqrt(),
                bias: Estimate {
                    value: bias,
                    se: summary::mean(&yb).se,
                },
                mae_amount: pooled.iter().map(|x| x.1.abs()).sum::<f64>() / n as f64,
            });
        }
        rows
    }

    /// Paired comparison of `method`'s relative absolute error with `against`'s on the same
    /// years, per month end and pooled (last row). SEs are over years (pooled: of each year's
    /// mean over month ends), so they account for the correlation between a year's month ends.
    pub fn paired(&self, method: &str, against: &str) -> Result<Vec<PairedRow>> {
        let (a, b) = (self.method_index(method)?, self.method_index(against)?);
        let month_ends = self.month_ends.len();
        let ys: Vec<usize> = (0..self.years())
            .filter(|&y| self.realised[y] > 0.0)
            .collect();
        let d = |y: usize, m: usize| {
            let r = self.realised[y];
            let ea = (self.cells[self.idx(y, m, a)].point - r).abs() / r;
            let eb = (self.cells[self.idx(y, m, b)].point - r).abs() / r;
            (ea - eb, ea < eb)
        };
        let mut rows = Vec::new();
        for m in 0..month_ends {
            let v: Vec<(f64, bool)> = ys.iter().map(|&y| d(y, m)).collect();
            let diffs: Vec<f64> = v.iter().map(|x| x.0).collect();
            rows.push(PairedRow {
                method: method.into(),
                against: against.into(),
                month_end: Some(self.month_ends[m]),
                difference: summary::mean(&diffs),
                wins: v.iter().filter(|x| x.1).count() as f64 / v.len() as f64,
            });
        }
        let per_year: Vec<f64> = ys
            .iter()
            .map(|&y| (0..month_ends).map(|m| d(y, m).0).sum::<f64>() / month_ends as f64)
            .collect();
        let wins = ys
            .iter()
            .flat_map(|&y| (0..month_ends).map(move |m| (y, m)))
            .filter(|&(y, m)| d(y, m).1)
            .count();
        rows.push(PairedRow {
            method: method.into(),
            against: against.into(),
            month_end: None,
            difference: summary::mean(&per_year),
            wins: wins as f64 / (ys.len() * month_ends) as f64,
        });
        Ok(rows)
    }

    /// The comparison table (Markdown): per month end, the mean absolute error of every
    /// method's expected-value estimate (% of the realised payout) and the coverage of the 80%
    /// and 90% intervals of the methods with intervals; the last row pools all month ends.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let errors = self.errors();
        let coverage = self.coverage();
        let month_ends = self.month_ends.len();
        let err_of = |k: usize, m: usize| &errors[k * (month_ends + 1) + m];
        let mut out = String::new();
        let mut head = String::from("| month end |");
        let mut rule = String::from("|---|");
        for (k, name) in self.methods.iter().enumerate() {
            write!(head, " {name} MAE % |").unwrap();
            rule.push_str("---:|");
            if self.has_intervals[k] {
                write!(head, " {name} 80% cover | {name} 90% cover |").unwrap();
                rule.push_str("---:|---:|");
            }
        }
        writeln!(out, "{head}\n{rule}").unwrap();
        for m in 0..=month_ends {
            let label = if m < month_ends {
                self.as_of[m].format("%Y-%m-%d").to_string()
            } else {
                "all".into()
            };
            write!(out, "| {label} |").unwrap();
            let mut ci = 0;
            for k in 0..self.methods.len() {
                let e = err_of(k, m);
                write!(
                    out,
                    " {:.1} ± {:.1} |",
                    100.0 * e.mae.value,
                    100.0 * e.mae.se
                )
                .unwrap();
                if self.has_intervals[k] {
                    for j in 0..LEVELS.len() {
                        let c = &coverage[(ci * LEVELS.len() + j) * (month_ends + 1) + m];
                        write!(
                            out,
                            " {:.1} ± {:.1} |",
                            100.0 * c.coverage.value,
                            100.0 * c.se_years.max(c.coverage.se)
                        )
                        .unwrap();
                    }
                    ci += 1;
                }
            }
            out.push('\n');
        }
        out
    }
}
