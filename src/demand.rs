//! The demand model: how partners buy, month by month, and how they respond to the programme.
//!
//! A model file (TOML, JSON or YAML, read like programme files) has one optional section per
//! mechanism; a missing section, or a zero parameter, switches the mechanism off. Parameters
//! that can differ by segment take a default and an optional `segments` table of overrides.
//! Every parameter, its default and the exact formula are documented in `docs/simulation.md`.
//!
//! ```
//! use rebatesim::demand::Model;
//! use rebatesim::programme::Format;
//! let model = Model::from_str(r#"
//! [seasonality]
//! factors = [0.8, 0.85, 1.0, 1.0, 1.05, 1.0, 0.9, 0.85, 1.05, 1.1, 1.15, 1.25]
//! [market]
//! sigma = 0.10
//! [noise]
//! sigma = 0.25
//! segments = { small = 0.35, large = 0.15 }
//! "#, Format::Toml, None).unwrap();
//! assert_eq!(model.noise.get("small"), 0.35);
//! assert_eq!(model.noise.get("mid"), 0.25);
//! ```

use crate::error::{Error, Result};
use crate::programme::Format;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

mod market;
mod validate;

pub use market::{MarketStart, HISTORY_MONTHS};

macro_rules! segment_param {
    ($(#[$doc:meta])* $name:ident, $field:ident, $default_fn:literal, $default:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Value for every segment without an override.
            #[serde(default = $default_fn)]
            pub $field: f64,
            /// Per-segment overrides (segment name → value).
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub segments: BTreeMap<String, f64>,
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $field: $default, segments: BTreeMap::new() }
            }
        }

        impl $name {
            /// The value for `segment`.
            pub fn get(&self, segment: &str) -> f64 {
                self.segments.get(segment).copied().unwrap_or(self.$field)
            }

            fn check(&self, section: &str, lo: f64, hi: f64, what: &str) -> Result<()> {
                in_range(&format!("{section}.{}", stringify!($field)), self.$field, lo, hi, what)?;
                for (s, v) in &self.segments {
                    in_range(&format!("{section}.segments.{s}"), *v, lo, hi, what)?;
                }
                Ok(())
            }

            fn segment_names(&self) -> impl Iterator<Item = &String> {
                self.segments.keys()
            }
        }
    };
}

fn zero() -> f64 {
    0.0
}
fn four() -> f64 {
    4.0
}
fn half() -> f64 {
    0.5
}
fn one_f64() -> f64 {
    1.0
}
fn one_u32() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn tenth() -> f64 {
    0.1
}
fn p08() -> f64 {
    0.8
}
fn ten() -> f64 {
    10.0
}

fn in_range(path: &str, v: f64, lo: f64, hi: f64, what: &str) -> Result<()> {
    if !v.is_finite() || v < lo || v > hi {
        return Err(Error::model(
            path,
            format!("expected {what} from {lo} to {hi}, found {v}"),
        ));
    }
    Ok(())
}

segment_param!(
    /// Annual growth of demand over the baseline year, as a fraction (0.05 = +5%).
    Growth, rate, "zero", 0.0
);
segment_param!(
    /// A factor shared by all partners of a segment in a scenario: `exp(σZ − σ²/2)`.
    SegmentFactor, sigma, "zero", 0.0
);
segment_param!(
    /// A persistent factor of each partner for the whole programme: `exp(σZ − σ²/2)`.
    PartnerFactor, sigma, "zero", 0.0
);
segment_param!(
    /// Independent monthly noise of each partner: `exp(σZ − σ²/2)`.
    Noise, sigma, "zero", 0.0
);
segment_param!(
    /// Monthly probability that a partner stops buying (for good) from that month on.
    Churn, monthly_hazard, "zero", 0.0
);
segment_param!(
    /// Share of each month's gross revenue that is returned in the same month (a negative line).
    Returns, share, "zero", 0.0
);
segment_param!(
    /// Purchase incidence: the probability that a live partner buys in a month (1, the
    /// default: every month). A month without a purchase buys nothing; a month with one buys
    /// its demand divided by the probability, so the expected annual total is unchanged.
    Incidence, probability, "one_f64", 1.0
);

impl Incidence {
    /// Every segment buys every month (the section can be left out).
    pub fn is_off(&self) -> bool {
        self.probability == 1.0 && self.segments.values().all(|&p| p == 1.0)
    }
}

/// Monthly seasonality: 12 factors by calendar month (January first), optionally per segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seasonality {
    /// Factors for January..December (default: all 1).
    #[serde(default = "flat")]
    pub factors: Vec<f64>,
    /// Per-segment factor lists.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub segments: BTreeMap<String, Vec<f64>>,
    /// Divide each list by its mean so that the factors average exactly 1 (default true), so
    /// that seasonality moves demand between months without changing the annual total.
    #[serde(default = "yes")]
    pub normalise: bool,
}

fn flat() -> Vec<f64> {
    vec![1.0; 12]
}

impl Default for Seasonality {
    fn default() -> Self {
        Seasonality {
            factors: flat(),
            segments: BTreeMap::new(),
            normalise: true,
        }
    }
}

impl Seasonality {
    /// The 12 factors (normalised if asked) for `segment`.
    pub fn get(&self, segment: &str) -> [f64; 12] {
        let f = self.segments.get(segment).unwrap_or(&self.factors);
        let mut out = [1.0; 12];
        out.copy_from_slice(&f[..12]);
        if self.normalise {
            let mean = out.iter().sum::<f64>() / 12.0;
            for x in &mut out {
                *x /= mean;
            }
        }
        out
    }

    fn check_list(path: &str, f: &[f64]) -> Result<()> {
        if f.len() != 12 {
            return Err(Error::model(
                path,
                format!(
                    "expected 12 monthly factors (January to December), found {}",
                    f.len()
                ),
            ));
        }
        for (i, v) in f.iter().enumerate() {
            in_range(&format!("{path}[{i}]"), *v, 0.0, 1e6, "a factor")?;
        }
        if f.iter().sum::<f64>() <= 0.0 {
            return Err(Error::model(path, "expected at least one factor > 0"));
        }
        Ok(())
    }
}

/// How the market factor evolves within a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketProcess {
    /// One draw per scenario, the same every month (the default).
    #[default]
    Constant,
    /// A stationary AR(1) in logs: `x₀ = σZ₀`, `x_m = ρ·x_{m−1} + σ·√(1−ρ²)·Z_m`.
    Ar1,
    /// A random walk in logs: `x₀ = σZ₀`, `x_m = x_{m−1} + monthly_sigma·Z_m`.
    RandomWalk,
}

/// The market-wide factor of a scenario, shared by every partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Market {
    /// Log-scale σ of the factor (0 = no market uncertainty, the default).
    #[serde(default = "zero")]
    pub sigma: f64,
    /// `constant` (default), `ar1` or `random_walk`.
    #[serde(default)]
    pub process: MarketProcess,
    /// AR(1) month-to-month correlation ρ in [0, 1) (ar1 only).
    #[serde(default = "zero")]
    pub rho: f64,
    /// Monthly log-step σ (random_walk only).
    #[serde(default = "zero")]
    pub monthly_sigma: f64,
    /// Where a scenario's path starts: `stationary` (default: the process's own law, mean-one
    /// factors) or `history` (continued from the baseline year's path [`Market::history`],
    /// factors relative to the baseline year's mean; `docs/simulation.md` §2).
    #[serde(default, skip_serializing_if = "MarketStart::is_stationary")]
    pub start: MarketStart,
    /// `start = "history"` only: the market's log path over the baseline year (the twelve
    /// months before the simulated year, oldest first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<f64>,
}

impl Default for Market {
    fn default() -> Self {
        Market {
            sigma: 0.0,
            process: MarketProcess::Constant,
            rho: 0.0,
            monthly_sigma: 0.0,
            start: MarketStart::Stationary,
            history: Vec::new(),
        }
    }
}

/// The order process (only simulated when the programme has a logistics component).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Orders {
    /// Mean number of orders per partner-month (at least one order in a month with
    /// purchases). Default 4.
    #[serde(default = "four")]
    pub per_month: f64,
    /// Draw the number of orders from a Poisson distribution with mean `per_month` (default
    /// true); `false`: exactly `per_month` (rounded) orders every month.
    #[serde(default = "yes")]
    pub poisson: bool,
    /// Per-segment overrides of `per_month`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub segments: BTreeMap<String, f64>,
    /// Log-scale σ of order sizes: a month's units are split over its orders in proportion to
    /// independent `exp(σZ)` weights (0 = equal orders). Default 0.5.
    #[serde(default = "half")]
    pub size_sigma: f64,
    /// Mean number of line categories an order carries (at least 1; opt-in, absent: every
    /// order carries every category of the partner's mix, the month spread by the mix). When
    /// set, each buying month's orders are drawn (even without a logistics component) and
    /// each order carries `min(1 + Poisson(x − 1), categories)` of the partner's categories,
    /// drawn by its mix (docs/simulation.md, "Categories per order").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories_per_order: Option<f64>,
    /// Per-segment values of `categories_per_order` (segment name → value; a segment not
    /// listed takes `categories_per_order`, or spreads its months when that is absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories_per_order_segments: BTreeMap<String, f64>,
    /// Elasticity `b` of the mean number of orders a month to the partner's demand level
    /// (opt-in; absent: every partner of a segment orders alike). When set, a partner whose
    /// monthly demand level is `L` (its `demand_revenue`, else baseline revenue, / 12) draws
    /// `max(1, Poisson(λ_segment · (L / size_reference)^b))` orders a buying month
    /// (docs/simulation.md, "Orders that grow with the partner's size").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_elasticity: Option<f64>,
    /// The monthly demand level (currency) at which a partner's mean orders a month are the
    /// segment's `per_month` (required with `size_elasticity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_reference: Option<f64>,
}

impl Default for Orders {
    fn default() -> Self {
        Orders {
            per_month: 4.0,
            poisson: true,
            segments: BTreeMap::new(),
            size_sigma: 0.5,
            categories_per_order: None,
            categories_per_order_segments: BTreeMap::new(),
            size_elasticity: None,
            size_reference: None,
        }
    }
}

impl Orders {
    /// Mean orders per month for `segment`.
    pub fn get(&self, segment: &str) -> f64 {
        self.segments
            .get(segment)
            .copied()
            .unwrap_or(self.per_month)
    }

    /// Mean categories per order for `segment` (`None`: the segment's months are spread over
    /// every category by the mix).
    pub fn categories_per_order_of(&self, segment: &str) -> Option<f64> {
        self.categories_per_order_segments
            .get(segment)
            .copied()
            .or(self.categories_per_order)
    }

    /// The size law of the order counts, `(b, reference)` (`None`: orders independent of size;
    /// also with `b = 0`).
    pub fn size_law(&self) -> Option<(f64, f64)> {
        match (self.size_elasticity, self.size_reference) {
            (Some(b), Some(r)) if b != 0.0 => Some((b, r)),
            _ => None,
        }
    }

    /// Whether some segment draws each order's categories.
    pub fn draws_order_categories(&self) -> bool {
        self.categories_per_order.is_some() || !self.categories_per_order_segments.is_empty()
    }
}

/// Defaults for partner economics the partner table does not give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Economics {
    /// Revenue per unit (needed when the programme measures units or the table gives only units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<f64>,
    /// Gross-margin rate, a fraction of revenue (needed for incremental margin and ROI; when
    /// neither the table nor the model gives it, margin and ROI are reported as NaN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_rate: Option<f64>,
    /// Category shares of revenue for partners without mix columns (shares sum to 1).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub category_mix: BTreeMap<String, f64>,
    /// Revenue per unit of each line category (every category of the run, when given): a
    /// line's units follow its category's price relative to the partner's other categories,
    /// the partner's own units per revenue kept (docs/simulation.md).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub category_prices: BTreeMap<String, f64>,
    /// Concentration `c` of a partner's category mix for the year (opt-in; absent: every
    /// scenario buys the partner's mix itself). When set, each scenario draws the partner's
    /// mix from Dirichlet(`c` × its mix), kept for its whole run: the uncertainty of a mix
    /// estimated from a few orders (`rebatesim calibrate` writes it; docs/simulation.md,
    /// "The partner's mix for the year").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_concentration: Option<f64>,
    /// Per-segment values of `mix_concentration` (a segment not listed takes
    /// `mix_concentration`, or keeps its partners' mixes when that is absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mix_concentration_segments: BTreeMap<String, f64>,
}

impl Economics {
    /// The concentration of the partner's mix for `segment` (`None`: the mix itself).
    pub fn mix_concentration_of(&self, segment: &str) -> Option<f64> {
        self.mix_concentration_segments
            .get(segment)
            .copied()
            .or(self.mix_concentration)
    }
}

/// Stretch to the next tier (see docs/simulation.md for the decision rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stretch {
    /// Switch (default off).
    #[serde(default)]
    pub enabled: bool,
    /// The extra purchase is spread over the last `window_months` months of the period (default 1).
    #[serde(default = "one_u32")]
    pub window_months: u32,
    /// Only a shortfall of at most this fraction of the next threshold is bought (default 0.1).
    #[serde(default = "tenth")]
    pub max_shortfall: f64,
    /// Probability ceiling (default 0.8).
    #[serde(default = "p08")]
    pub max_probability: f64,
    /// How fast the probability rises with payoff / extra purchase (default 10).
    #[serde(default = "ten")]
    pub sensitivity: f64,
}

impl Default for Stretch {
    fn default() -> Self {
        Stretch {
            enabled: false,
            window_months: 1,
            max_shortfall: 0.1,
            max_probability: 0.8,
            sensitivity: 10.0,
        }
    }
}

/// Pull-forward: the share of stretch purchases borrowed from later demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PullForward {
    /// Share of each stretch purchase taken from the next period's demand (from after the
    /// programme, in the last period), so not incremental. Default 0 (off).
    #[serde(default = "zero")]
    pub share: f64,
}

/// Uplift of demand with the programme's effective rebate rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Uplift {
    /// Demand multiplier `1 + elasticity × r`, r = the partner's expected effective rebate rate.
    /// Default 0 (off).
    #[serde(default = "zero")]
    pub elasticity: f64,
}

/// Behavioural response to the programme (none by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// Stretch to the next tier.
    #[serde(default)]
    pub stretch: Stretch,
    /// Pull-forward of stretch purchases.
    #[serde(default)]
    pub pull_forward: PullForward,
    /// Uplift elasticity.
    #[serde(default)]
    pub uplift: Uplift,
}

impl Behaviour {
    /// Whether any behavioural mechanism is on (else the counterfactual equals the simulation).
    pub fn any(&self) -> bool {
        self.stretch.enabled || self.uplift.elasticity != 0.0
    }
}

/// A demand model. Every section is optional; the all-default model is deterministic demand
/// at the baseline (flat seasonality, no growth, no noise, no churn, no returns, no behaviour).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Monthly seasonality.
    #[serde(default)]
    pub seasonality: Seasonality,
    /// Annual growth over the baseline.
    #[serde(default)]
    pub growth: Growth,
    /// Market-wide factor.
    #[serde(default)]
    pub market: Market,
    /// Segment factors.
    #[serde(default)]
    pub segment_factor: SegmentFactor,
    /// Persistent partner factor.
    #[serde(default)]
    pub partner_factor: PartnerFactor,
    /// Monthly noise.
    #[serde(default)]
    pub noise: Noise,
    /// Churn.
    #[serde(default)]
    pub churn: Churn,
    /// Purchase incidence (months without a purchase).
    #[serde(default, skip_serializing_if = "Incidence::is_off")]
    pub incidence: Incidence,
    /// Returns.
    #[serde(default)]
    pub returns: Returns,
    /// Order process.
    #[serde(default)]
    pub orders: Orders,
    /// Economics defaults.
    #[serde(default)]
    pub economics: Economics,
    /// Behavioural response.
    #[serde(default)]
    pub behaviour: Behaviour,
}

impl Model {
    /// Parse a model from `text` in `format` and validate it. `file` names the source in errors.
    pub fn from_str(text: &str, format: Format, file: Option<&str>) -> Result<Model> {
        let model: Model = crate::programme::parse_document(text, format, file, Error::Model)?;
        model.validate().map_err(|e| match e {
            Error::Model(mut fe) => {
                fe.file = file.map(str::to_owned);
                if fe.line.is_none() {
                    if let Some((l, c)) = crate::programme::locate_field(text, format, &fe.path) {
                        fe.line = Some(l);
                        fe.column = Some(c);
                    }
                }
                Error::Model(fe)
            }
            other => other,
        })?;
        Ok(model)
    }

    /// Read and validate a model file (format from the extension).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        crate::limits::refuse_special_file(path, "a demand model file")?;
        let format = Format::from_path(path)?;
        let text = crate::limits::read_document(path, "a demand model file")?;
        Model::from_str(&text, format, Some(&path.display().to_string()))
    }

    /// Write the model in `format`.
    pub fn to_string(&self, format: Format) -> Result<String> {
        crate::programme::write_document(self, format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Model::from_str(text, Format::Toml, Some("model.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_are_off() {
        let m = Model::from_str("", Format::Toml, None).unwrap();
        assert_eq!(m, Model::default());
        assert!(!m.behaviour.any());
        assert_eq!(m.seasonality.get("x"), [1.0; 12]);
    }

    #[test]
    fn round_trips() {
        let text = "[seasonality]\nfactors = [1,1,1,1,1,1,1,1,1,1,1,2]\n[noise]\nsigma = 0.2\nsegments = { a = 0.3 }\n[behaviour.stretch]\nenabled = true\n";
        let m = Model::from_str(text, Format::Toml, None).unwrap();
        for f in [Format::Toml, Format::Json, Format::Yaml] {
            let back = Model::from_str(&m.to_string(f).unwrap(), f, None).unwrap();
            assert_eq!(back, m);
        }
        let s = m.seasonality.get("a");
        assert!((s.iter().sum::<f64>() - 12.0).abs() < 1e-12);
    }

    #[test]
    fn errors_name_the_field() {
        assert!(err("[noise]\nsigma = -1\n")
            .contains("noise.sigma: expected a log-scale σ from 0 to 3, found -1"));
        assert!(err("[noise]\nsegments = { small = 9 }\n").contains("noise.segments.small"));
        assert!(err("[seasonality]\nfactors = [1, 2]\n")
            .contains("seasonality.factors: expected 12 monthly factors"));
        assert!(err("[market]\nsigma = 0.1\nprocess = \"ar1\"\nrho = 1.5\n").contains("market.rho"));
        assert!(err("[market]\nsigma = 0.1\nrho = 0.5\n").contains("rho applies only"));
        assert!(err("[market]\nprocess = \"sideways\"\n").contains("market.process"));
        assert!(err("[noise]\nsigmaa = 0.1\n").contains("unknown field"));
        assert!(err("[churn]\nmonthly_hazard = 2\n").contains("churn.monthly_hazard"));
        assert!(err("[returns]\nshare = 1\n").contains("returns.share"));
        assert!(err("[incidence]\nprobability = 0\n")
            .contains("incidence.probability: expected a monthly probability of buying from 0.001 to 1, found 0"));
        assert!(
            err("[incidence]\nsegments = { small = 1.5 }\n").contains("incidence.segments.small")
        );
        assert!(err("[economics]\ncategory_mix = { a = 0.5, b = 0.2 }\n").contains("sum to 1"));
        assert!(err("[economics]\nmargin_rate = 30\n").contains("economics.margin_rate"));
        assert!(err("[behaviour.stretch]\nwindow_months = 0\n")
            .contains("behaviour.stretch.window_months"));
        assert!(
            err("[behaviour.pull_forward]\nshare = 1.5\n").contains("behaviour.pull_forward.share")
        );
        assert!(
            err("[behaviour.uplift]\nelasticity = -1\n").contains("behaviour.uplift.elasticity")
        );
        assert!(err("[orders]\nsize_sigma = -0.1\n").contains("orders.size_sigma"));
        let e = err("[noise]\nsigma = \"high\"\n");
        assert!(e.contains("model.toml") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn incidence_is_written_only_when_on() {
        let off = Model::from_str("[incidence]\nprobability = 1\n", Format::Toml, None).unwrap();
        assert_eq!(off, Model::default());
        assert!(!off.to_string(Format::Toml).unwrap().contains("incidence"));
        let on = Model::from_str(
            "[incidence]\nprobability = 0.8\nsegments = { small = 0.5 }\n",
            Format::Toml,
            None,
        )
        .unwrap();
        assert_eq!(
            (on.incidence.get("small"), on.incidence.get("large")),
            (0.5, 0.8)
        );
        let back =
            Model::from_str(&on.to_string(Format::Toml).unwrap(), Format::Toml, None).unwrap();
        assert_eq!(back, on);
    }

    #[test]
    fn unknown_segments_are_errors() {
        let m =
            Model::from_str("[noise]\nsegments = { smal = 0.3 }\n", Format::Toml, None).unwrap();
        let e = m.check_segments(&["small".into()]).unwrap_err().to_string();
        assert!(
            e.contains("noise.segments.smal") && e.contains("known: small"),
            "{e}"
        );
    }
}
