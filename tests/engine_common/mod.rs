//! Shared fixtures of the engine tests.
#![allow(dead_code)]

use rebatesim::demand::Model;
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Format, Programme};

pub fn programme(text: &str) -> Compiled {
    Programme::from_str(text, Format::Toml, None)
        .unwrap()
        .compile()
        .unwrap()
}

pub fn model(text: &str) -> Model {
    Model::from_str(text, Format::Toml, None).unwrap()
}

/// A programme using every component kind, tier methods, measures, caps, an exclusive group,
/// minimum payout and a budget.
pub fn rich_programme(budget: &str) -> Compiled {
    programme(&format!(
        r#"
name = "Rich"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
segments = ["a", "b"]
categories = ["tools", "parts", "service"]
budget = {budget}
partner_cap = 9000
minimum_payout = 50
payment = {{ when = "period", lag_days = 45 }}

[[components]]
id = "vol_q"
kind = "volume"
method = "incremental"
tiers = [{{ from = 20000, percent = 1 }}, {{ from = 40000, percent = 2 }}, {{ from = 60000, percent = 3 }}]

[[components]]
id = "vol_year"
kind = "volume"
measure = "cumulative"
method = "retroactive"
exclusive_group = "annual"
tiers = [{{ from = 150000, percent = 1.5 }}, {{ from = 250000, percent = 2.5 }}]

[[components]]
id = "growth"
kind = "growth"
measure = "cumulative"
exclusive_group = "annual"
tiers = [{{ from = 5, percent = 2 }}, {{ from = 15, percent = 4 }}]

[[components]]
id = "parts_units"
kind = "per_unit"
categories = ["parts"]
amount = 0.5
above = 100

[[components]]
id = "bundle"
kind = "bundle"
minimums = {{ tools = 5000, parts = 3000 }}
percent = 1

[[components]]
id = "pallet"
kind = "logistics"
min_quantity = 40
per_order = 15

[[components]]
id = "rolling_b"
kind = "volume"
segments = ["b"]
method = "rolling"
returns = "gross"
cap = 5000
tiers = [{{ from = 30000, per_unit = 0.2 }}, {{ from = 50000, per_unit = 0.4 }}]
"#
    ))
}

/// 60 partners in two segments with prices, margins and category mixes.
pub fn rich_population() -> Population {
    let mut csv = String::from("partner_id,segment,baseline_revenue,unit_price,margin_rate,mix_tools,mix_parts,mix_service\n");
    for i in 0..60 {
        let seg = if i % 3 == 0 { "b" } else { "a" };
        let base = 60_000.0 + 7_919.0 * ((i * 37) % 53) as f64;
        let price = 20.0 + (i % 7) as f64 * 5.5;
        let t = 0.2 + 0.01 * (i % 30) as f64;
        let p = 0.3;
        csv += &format!("P{i:03},{seg},{base},{price},0.3,{t},{p},{}\n", 1.0 - t - p);
    }
    Population::from_csv_str(&csv, "partners.csv").unwrap()
}

/// Every mechanism of the demand model on.
pub const RICH_MODEL: &str = r#"
[seasonality]
factors = [0.8, 0.85, 1.0, 1.0, 1.05, 1.0, 0.9, 0.85, 1.05, 1.1, 1.15, 1.25]
[growth]
rate = 0.03
segments = { b = 0.06 }
[market]
sigma = 0.1
process = "ar1"
rho = 0.8
[segment_factor]
sigma = 0.05
[partner_factor]
sigma = 0.15
[noise]
sigma = 0.25
[churn]
monthly_hazard = 0.01
[returns]
share = 0.03
[orders]
per_month = 3
size_sigma = 0.6
[economics]
margin_rate = 0.3
[behaviour.stretch]
enabled = true
max_shortfall = 0.15
[behaviour.pull_forward]
share = 0.3
[behaviour.uplift]
elasticity = 1.5
"#;

/// Standard normal CDF (Abramowitz and Stegun 7.1.26 for erf, |error| < 1.5e-7).
pub fn phi(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * z.abs());
    let y = 1.0
        - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
            + 0.254829592)
            * t
            * (-z * z).exp();
    let erf = if z >= 0.0 { y } else { -y };
    0.5 * (1.0 + erf)
}
