//! The display model of a compiled programme: what a front end shows of it (defaults filled
//! in, periods with labels and payment dates, components with their ladders, amounts as exact
//! decimal strings, rates in percent), as JSON. The Python package renders its tables and
//! reports from this (`ProgrammeSpec.describe`).

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{
    BundleReward, Compiled, CompiledComponent, OrderReward, Reward, Rule, Tier, UnitsAbove,
};

/// An exact amount as text, without trailing zeros.
fn dec(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

fn opt_dec(d: Option<Decimal>) -> Value {
    d.map(dec).unwrap_or(Value::Null)
}

/// A ladder: tier number (from 1), threshold (growth thresholds in percent), reward kind and
/// value (rates in percent).
fn tiers_json(tiers: &[Tier], growth: bool) -> Value {
    let hundred = Decimal::ONE_HUNDRED;
    Value::Array(
        tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (kind, value) = match t.reward {
                    Reward::Rate(r) => ("percent", r * hundred),
                    Reward::PerUnit(u) => ("per_unit", u),
                    Reward::Fixed(f) => ("fixed", f),
                };
                json!({
                    "tier": i + 1,
                    "from": dec(if growth { t.threshold * hundred } else { t.threshold }),
                    "reward": kind,
                    "value": dec(value),
                })
            })
            .collect(),
    )
}

/// The fields particular to a component's kind.
fn rule_json(rule: &Rule) -> Value {
    match rule {
        Rule::Volume {
            basis,
            method,
            tiers,
            basis_cap,
        } => json!({
            "kind": "volume", "basis": basis, "method": method,
            "tiers": tiers_json(tiers, false), "basis_cap": opt_dec(*basis_cap),
        }),
        Rule::Growth {
            basis,
            applies_to,
            tiers,
        } => json!({
            "kind": "growth", "basis": basis, "applies_to": applies_to,
            "tiers": tiers_json(tiers, true),
        }),
        Rule::PerUnit { amount, above } => json!({
            "kind": "per_unit", "amount": dec(*amount),
            "above": match above {
                UnitsAbove::None => Value::Null,
                UnitsAbove::Quantity(q) => dec(*q),
                UnitsAbove::Baseline => Value::String("baseline".into()),
            },
        }),
        Rule::Bundle {
            basis,
            minimums,
            reward,
        } => json!({
            "kind": "bundle", "basis": basis,
            "minimums": minimums.iter().map(|(k, v)| json!({"category": k, "minimum": dec(*v)})).collect::<Vec<_>>(),
            "percent": match reward { BundleReward::Rate(r) => dec(*r * Decimal::ONE_HUNDRED), _ => Value::Null },
            "fixed": match reward { BundleReward::Fixed(f) => dec(*f), _ => Value::Null },
        }),
        Rule::Logistics {
            min_quantity,
            reward,
        } => json!({
            "kind": "logistics", "min_quantity": dec(*min_quantity),
            "percent": match reward { OrderReward::Rate(r) => dec(*r * Decimal::ONE_HUNDRED), _ => Value::Null },
            "per_order": match reward { OrderReward::PerOrder(p) => dec(*p), _ => Value::Null },
        }),
    }
}

/// One component: the fields every kind has, then its kind's.
fn component_json(component: &CompiledComponent) -> Value {
    let mut v = json!({
        "id": component.id,
        "name": component.name,
        "measure": component.measure,
        "returns": component.returns,
        "cap": opt_dec(component.cap),
        "exclusive_group": component.exclusive_group,
        "segments": component.scope.segments,
        "categories": component.scope.categories,
        "partners": component.scope.partners,
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut v, rule_json(&component.rule)) {
        m.extend(e);
    }
    v
}

impl Compiled {
    /// The programme as a front end shows it, as JSON: defaults filled in, periods with
    /// labels and payment dates, components with their ladders (amounts as exact decimal
    /// strings, rates in percent).
    pub fn describe(&self) -> Value {
        let cal = &self.calendar;
        let periods: Vec<Value> = (0..cal.periods)
            .map(|k| {
                json!({
                    "index": k,
                    "label": cal.label(k),
                    "start": cal.period_start(k).to_string(),
                    "end": cal.period_end(k).to_string(),
                    "payment_date": self.payment_date(k).to_string(),
                })
            })
            .collect();
        let components: Vec<Value> = self.components.iter().map(component_json).collect();
        json!({
            "name": self.name,
            "currency": self.currency,
            "decimals": self.decimals,
            "rounding": self.rounding,
            "start": cal.period_start(0).to_string(),
            "end": cal.end().to_string(),
            "period": cal.length,
            "periods": periods,
            "segments": self.segments,
            "categories": self.categories,
            "budget": opt_dec(self.budget),
            "partner_cap": opt_dec(self.partner_cap),
            "minimum_payout": opt_dec(self.minimum_payout),
            "payment": {"when": self.payment_timing, "lag_days": self.payment_lag_days},
            "components": components,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::programme::{Format, Programme};

    #[test]
    fn describes_defaults_periods_and_ladders() {
        let text = r#"
name = "Describe"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 2
payment = { when = "period", lag_days = 30 }

[[components]]
id = "volume"
kind = "volume"
tiers = [{ from = 100000, percent = 1.50 }, { from = 250000, percent = 2.25 }]

[[components]]
id = "growth"
kind = "growth"
tiers = [{ from = 5, percent = 2 }]
"#;
        let compiled = Programme::from_str(text, Format::Toml, None)
            .unwrap()
            .compile()
            .unwrap();
        let d = compiled.describe();
        assert_eq!(d["name"], "Describe");
        assert_eq!(d["periods"].as_array().unwrap().len(), 2);
        assert_eq!(d["periods"][1]["start"], "2027-04-01");
        assert_eq!(d["periods"][0]["payment_date"], "2027-04-30");
        assert_eq!(d["budget"], serde_json::Value::Null);
        let component = |id: &str| {
            d["components"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == id)
                .unwrap()
                .clone()
        };
        let volume = component("volume");
        assert_eq!(volume["kind"], "volume");
        assert_eq!(volume["name"], "volume");
        assert_eq!(volume["tiers"][0]["from"], "100000");
        assert_eq!(volume["tiers"][0]["reward"], "percent");
        assert_eq!(volume["tiers"][0]["value"], "1.5");
        assert_eq!(volume["tiers"][1]["from"], "250000");
        assert_eq!(volume["tiers"][1]["value"], "2.25");
        // growth thresholds are fractions inside, percent on display
        assert_eq!(component("growth")["tiers"][0]["from"], "5");
    }
}
