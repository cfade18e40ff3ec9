//! Where a scenario's market path starts (`[market] start`, session 31): the process's
//! stationary law, or the history's last state with factors relative to the baseline year.
//!
//! With `start = "history"` the model carries the market's log path `h` over the baseline year
//! (`history`: the twelve months before the simulated year, oldest first; `rebatesim calibrate`
//! writes it from its market path). The year's log state continues from `h₁₁`:
//!
//! ```text
//! ar1:          x_m = ρ·x_{m−1} + σ√(1−ρ²)·Z_m,   x_{−1} = h₁₁
//! random_walk:  x_m = x_{m−1} + τ·Z_m,            x_{−1} = h₁₁
//! constant:     x_m = σ·Z₀                          (a new draw: nothing to continue)
//! M_m = exp(x_m − ln B),   B = Σ_i S[cal(i)]·exp(h_i) / Σ_i S[cal(i)]
//! ```
//!
//! `B` is the baseline year's mean market factor, weighted by the default seasonality of its
//! months (baseline month `i` has the calendar month of programme month `i`): a partner's
//! `demand_revenue` is its baseline-year purchases, market included, so the year's factor is
//! the market's level relative to that year's. No mean-one offset: `E[M_m] = E[e^{x_m}]/B` is
//! the expected level relative to the baseline year given the history.

use super::{Market, MarketProcess};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Months in the baseline year a `history` start carries.
pub const HISTORY_MONTHS: usize = 12;
/// Largest |log market value| accepted in `market.history`.
const HISTORY_LIMIT: f64 = 5.0;

/// Where a scenario's market path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketStart {
    /// The process's stationary law (`x₀ = σZ₀`), factors of mean 1 (the default).
    #[default]
    Stationary,
    /// Continued from the baseline year's log path `market.history`.
    History,
}

impl MarketStart {
    /// Whether this is the default start (not written to a model file).
    pub fn is_stationary(&self) -> bool {
        *self == MarketStart::Stationary
    }
}

impl Market {
    /// `start` and `history` consistent: twelve finite values for a history start, none else.
    pub(super) fn check_start(&self) -> Result<()> {
        match self.start {
            MarketStart::Stationary => {
                if !self.history.is_empty() {
                    return Err(Error::model(
                        "market.history",
                        "history applies only to start = \"history\"",
                    ));
                }
            }
            MarketStart::History => {
                if self.history.len() != HISTORY_MONTHS {
                    return Err(Error::model(
                        "market.history",
                        format!(
                            "start = \"history\" needs the baseline year's {HISTORY_MONTHS} monthly log market values, oldest first; found {}",
                            self.history.len()
                        ),
                    ));
                }
                for (i, &h) in self.history.iter().enumerate() {
                    if !h.is_finite() || h.abs() > HISTORY_LIMIT {
                        return Err(Error::model(
                            format!("market.history[{i}]"),
                            format!("expected a log market value from -{HISTORY_LIMIT} to {HISTORY_LIMIT}, found {h}"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// `ln B`: the log of the baseline year's mean market factor, weighted by `season` (twelve
    /// calendar-month factors, January first) for a year starting in calendar month
    /// `start_month0` (0 = January). 0 without a history.
    pub fn history_log_base(&self, season: &[f64], start_month0: usize) -> f64 {
        if self.start != MarketStart::History || self.history.is_empty() {
            return 0.0;
        }
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &h) in self.history.iter().enumerate() {
            let w = season.get((start_month0 + i) % 12).copied().unwrap_or(1.0);
            num += w * h.exp();
            den += w;
        }
        if den > 0.0 {
            (num / den).ln()
        } else {
            0.0
        }
    }

    /// The log state the year continues from (`h₁₁`; 0 without a history).
    pub fn history_last(&self) -> f64 {
        self.history.last().copied().unwrap_or(0.0)
    }

    /// The history's expected log state in programme month `m`: `ρ^{m+1}·h₁₁` (ar1), `h₁₁`
    /// (random walk), 0 (constant).
    pub fn history_mean(&self, m: usize) -> f64 {
        let h = self.history_last();
        match self.process {
            MarketProcess::Ar1 => self.rho.powi(m as i32 + 1) * h,
            MarketProcess::RandomWalk => h,
            MarketProcess::Constant => 0.0,
        }
    }

    /// The scale of a history start's first step: `σ√(1−ρ²)` (ar1), `τ` (random walk), `σ`
    /// (constant: the year's one draw).
    pub fn history_step(&self) -> f64 {
        match self.process {
            MarketProcess::Ar1 => self.sigma * (1.0 - self.rho * self.rho).sqrt(),
            MarketProcess::RandomWalk => self.monthly_sigma,
            MarketProcess::Constant => self.sigma,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::demand::{MarketStart, Model};
    use crate::programme::Format;

    fn parse(s: &str) -> crate::error::Result<Model> {
        Model::from_str(s, Format::Toml, None)
    }
    fn err(s: &str) -> String {
        parse(s).unwrap_err().to_string()
    }
    const H: &str = "[0.1, 0.0, -0.1, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.3]";

    #[test]
    fn a_history_start_reads_and_checks() {
        let m = parse(&format!(
            "[market]\nsigma = 0.1\nprocess = \"ar1\"\nrho = 0.6\nstart = \"history\"\nhistory = {H}\n"
        ))
        .unwrap();
        assert_eq!(m.market.start, MarketStart::History);
        assert_eq!(m.market.history_last(), 0.3);
        assert!((m.market.history_mean(1) - 0.36 * 0.3).abs() < 1e-15);
        // ln B with flat seasonality: ln(mean e^h)
        let b: f64 = m.market.history.iter().map(|h| h.exp()).sum::<f64>() / 12.0;
        assert!((m.market.history_log_base(&[1.0; 12], 0) - b.ln()).abs() < 1e-15);
        // weights follow the calendar: all weight on programme month 11's calendar month
        let mut w = [0.0; 12];
        w[(3 + 11) % 12] = 1.0;
        assert!((m.market.history_log_base(&w, 3) - 0.3).abs() < 1e-15);
        assert!(
            err("[market]\nsigma = 0.1\nstart = \"history\"\nhistory = [0.1]\n")
                .contains("market.history: start = \"history\" needs the baseline year's 12")
        );
        assert!(err("[market]\nsigma = 0.1\nstart = \"history\"\n").contains("found 0"));
        assert!(err(&format!("[market]\nsigma = 0.1\nhistory = {H}\n"))
            .contains("history applies only to start = \"history\""));
        let bad = H.replace("0.3]", "7.5]");
        assert!(err(&format!(
            "[market]\nsigma = 0.1\nstart = \"history\"\nhistory = {bad}\n"
        ))
        .contains("market.history[11]: expected a log market value from -5 to 5, found 7.5"));
        assert!(err("[market]\nstart = \"yesterday\"\n").contains("market.start"));
    }

    #[test]
    fn the_default_start_is_not_written() {
        let m = parse("[market]\nsigma = 0.1\n").unwrap();
        let json = serde_json::to_string(&m.market).unwrap();
        assert!(
            !json.contains("start") && !json.contains("history"),
            "{json}"
        );
    }
}
