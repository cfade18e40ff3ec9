//! The result of a backtest: every method's estimate and intervals at every month end of
//! every year, with what each year realised.

use super::forecaster::Prediction;
use crate::error::{Error, Result};
use crate::summary;
use crate::wire::{Reader, Writer};
use chrono::NaiveDate;

/// The central interval levels the harness reports.
pub const LEVELS: [f64; 2] = [0.8, 0.9];

/// What one method said at one month end of one year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cell {
    /// The expected-value estimate.
    pub point: f64,
    /// [lo80, hi80, lo90, hi90] (NaN for point forecasts).
    pub bounds: [f64; 4],
}

/// The result of a backtest: every estimate of every method at every month end of every year,
/// with what each year realised, and the statistics built on them.
#[derive(Debug, Clone)]
pub struct Backtest {
    /// Programme name.
    pub programme: String,
    /// Currency code.
    pub currency: String,
    /// Method names, in the order given.
    pub methods: Vec<String>,
    /// Programme months after which each forecast was made (1-based).
    pub month_ends: Vec<usize>,
    /// The month-end dates (`as_of` of each forecast).
    pub as_of: Vec<NaiveDate>,
    /// Truth seed.
    pub seed: u64,
    /// Base seed of the forecasts.
    pub forecast_seed: u64,
    /// Final payout each year realised (exact settlement of the year, as f64).
    pub realised: Vec<f64>,
    /// Whether each method gave a distribution (intervals) rather than a point.
    pub has_intervals: Vec<bool>,
    /// Number `K` of parameter draws the rebatesim forecaster's scenarios ran under
    /// ([`super::BacktestOptions::parameter_draws`]; 0 without, and for methods given to
    /// [`super::run`], which the harness does not look inside).
    pub parameter_draws: usize,
    /// `years × month ends × methods`, in that order.
    pub(super) cells: Vec<Cell>,
}

impl Backtest {
    /// Number of years.
    pub fn years(&self) -> usize {
        self.realised.len()
    }

    /// Index in `cells` of year `y`, month-end position `m`, method `k`.
    pub(super) fn idx(&self, y: usize, m: usize, k: usize) -> usize {
        (y * self.month_ends.len() + m) * self.methods.len() + k
    }

    /// Position of the method named `method`, or an error listing the known ones.
    pub(super) fn method_index(&self, method: &str) -> Result<usize> {
        self.methods
            .iter()
            .position(|x| x == method)
            .ok_or_else(|| {
                Error::Request(format!(
                    "unknown method '{method}' (known: {})",
                    self.methods.join(", ")
                ))
            })
    }

    /// Expected-value estimate of `method` in year `year` at month-end position `m`.
    pub fn estimate(&self, method: &str, year: usize, m: usize) -> Result<f64> {
        let k = self.method_index(method)?;
        Ok(self.cells[self.idx(year, m, k)].point)
    }

    /// Central interval at `level` (0.8 or 0.9) of `method` in year `year` at month-end
    /// position `m`; `None` for point methods.
    pub fn interval(
        &self,
        method: &str,
        year: usize,
        m: usize,
        level: f64,
    ) -> Result<Option<(f64, f64)>> {
        let k = self.method_index(method)?;
        let j = level_index(level)?;
        let c = &self.cells[self.idx(year, m, k)];
        Ok(self.has_intervals[k].then(|| (c.bounds[2 * j], c.bounds[2 * j + 1])))
    }
}

/// Tag of a backtest's byte string.
const BACKTEST_TAG: &[u8; 8] = b"RSBTEST\x02";

impl Backtest {
    /// The backtest of consecutive year ranges put together (each part's years following
    /// the previous part's, all of one backtest: same programme, methods, month ends and
    /// seeds): bit for bit the backtest of all their years in one run.
    pub fn concat(parts: Vec<Backtest>) -> Result<Backtest> {
        let mut it = parts.into_iter();
        let mut out = it.next().ok_or_else(|| {
            Error::Request("putting a backtest together needs at least one part".into())
        })?;
        for (k, p) in it.enumerate() {
            if p.methods != out.methods
                || p.month_ends != out.month_ends
                || p.seed != out.seed
                || p.forecast_seed != out.forecast_seed
                || p.programme != out.programme
                || p.parameter_draws != out.parameter_draws
            {
                return Err(Error::Request(format!(
                    "backtest part {} was run with other methods, month ends, seeds or parameter draws than part 0",
                    k + 1
                )));
            }
            out.realised.extend_from_slice(&p.realised);
            out.cells.extend_from_slice(&p.cells);
            for (a, b) in out.has_intervals.iter_mut().zip(&p.has_intervals) {
                *a = *a && *b;
            }
        }
        Ok(out)
    }

    /// The backtest as bytes ([`Backtest::from_bytes`] reads them back exactly).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(BACKTEST_TAG);
        w.str(&self.programme);
        w.str(&self.currency);
        w.strs(&self.methods);
        w.len(self.month_ends.len());
        self.month_ends.iter().for_each(|&m| w.len(m));
        w.strs(&self.as_of.iter().map(|d| d.to_string()).collect::<Vec<_>>());
        w.u64(self.seed);
        w.u64(self.forecast_seed);
        w.f64s(&self.realised);
        w.bools(&self.has_intervals);
        w.len(self.parameter_draws);
        let flat: Vec<f64> = self
            .cells
            .iter()
            .flat_map(|c| [c.point, c.bounds[0], c.bounds[1], c.bounds[2], c.bounds[3]])
            .collect();
        w.f64s(&flat);
        w.bytes
    }

    /// The backtest [`Backtest::to_bytes`] wrote; [`Error::Request`] for other bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Backtest> {
        let mut rd = Reader::new(bytes, BACKTEST_TAG, "backtest bytes")?;
        let programme = rd.str()?;
        let currency = rd.str()?;
        let methods = rd.strs()?;
        let nm = rd.len(8)?;
        let month_ends = (0..nm)
            .map(|_| rd.u64().map(|m| m as usize))
            .collect::<Result<Vec<_>>>()?;
        let as_of = rd
            .strs()?
            .iter()
            .map(|d| {
                d.parse::<NaiveDate>()
                    .map_err(|_| Error::Request(format!("backtest bytes: bad date '{d}'")))
            })
            .collect::<Result<Vec<_>>>()?;
        let seed = rd.u64()?;
        let forecast_seed = rd.u64()?;
        let realised = rd.f64s()?;
        let has_intervals = rd.bools()?;
        let parameter_draws = rd.u64()? as usize;
        let flat = rd.f64s()?;
        rd.finish()?;
        let want = realised
            .len()
            .saturating_mul(month_ends.len())
            .saturating_mul(methods.len());
        if flat.len() != want.saturating_mul(5)
            || as_of.len() != month_ends.len()
            || has_intervals.len() != methods.len()
        {
            return Err(Error::Request(format!(
                "backtest bytes: {} values for {want} estimates",
                flat.len()
            )));
        }
        let cells = flat
            .chunks_exact(5)
            .map(|c| Cell {
                point: c[0],
                bounds: [c[1], c[2], c[3], c[4]],
            })
            .collect();
        Ok(Backtest {
            programme,
            currency,
            methods,
            month_ends,
            as_of,
            seed,
            forecast_seed,
            realised,
            has_intervals,
            parameter_draws,
            cells,
        })
    }
}

/// Position of `level` in [`LEVELS`], or an error naming the levels reported.
fn level_index(level: f64) -> Result<usize> {
    LEVELS
        .iter()
        .position(|&l| (l - level).abs() < 1e-9)
        .ok_or_else(|| {
            Error::Request(format!(
                "interval level {level}: the backtest reports 0.8 and 0.9"
            ))
        })
}

/// What `name`'s prediction says at one month end: its point and its 80% and 90% central
/// intervals; an error when the point is not finite.
pub(super) fn cell(pred: &Prediction, name: &str) -> Result<Cell> {
    let point = pred.point();
    if !point.is_finite() {
        return Err(Error::Request(format!(
            "method '{name}' gave no finite estimate"
        )));
    }
    let bounds = match pred {
        Prediction::Point(_) => [f64::NAN; 4],
        Prediction::Distribution(v) => {
            let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            s.sort_by(f64::total_cmp);
            let mut b = [0.0; 4];
            for (j, &level) in LEVELS.iter().enumerate() {
                let tail = (1.0 - level) / 2.0;
                b[2 * j] = summary::percentile_sorted(&s, tail);
                b[2 * j + 1] = summary::percentile_sorted(&s, 1.0 - tail);
            }
            b
        }
    };
    Ok(Cell { point, bounds })
}
