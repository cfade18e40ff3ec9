//! The file form of a programme: what commercial teams, finance and partners
//! read and edit (TOML, JSON or YAML). Field names are the file's keys.
//! Optional fields that are absent stay absent when written back, so a file
//! round trip is exact. [`Programme::compile`](super::Programme::compile)
//! validates it and turns it into the typed [`Compiled`](super::Compiled) form
//! that settlement and simulation use.

use super::values::{Date, Dec};
use crate::calendar::PeriodLength;
use crate::money::Rounding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A rebate programme, as written in its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    /// Display name, e.g. "Distributor Volume Incentive 2027".
    pub name: String,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// ISO 4217 currency code, e.g. "EUR".
    pub currency: String,
    /// Decimal places of the currency's minor unit; defaults from the currency code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    /// Rounding rule for amounts (default `half_up`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounding: Option<Rounding>,
    /// First day of the programme.
    pub start: Date,
    /// Length of one period: `month`, `quarter`, `half` or `year`.
    pub period: PeriodLength,
    /// Number of periods (the programme's duration).
    pub periods: u32,
    /// Partner segments the programme knows (components may be limited to some of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    /// Product categories the programme knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Programme budget: when payouts would exceed it, they are cut pro rata to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Dec>,
    /// Cap per partner over the whole programme, all components together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_cap: Option<Dec>,
    /// A partner is paid only once its cumulative payout reaches this amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_payout: Option<Dec>,
    /// When payments are made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    /// The programme's components (at least one).
    pub components: Vec<Component>,
}

/// When payments fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentTiming {
    /// After each period (period end + lag).
    #[default]
    Period,
    /// Once, at the end of the programme (programme end + lag).
    End,
}

/// The payment schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// `period` (after each period, the default) or `end`.
    #[serde(default)]
    pub when: PaymentTiming,
    /// Days after the period (or programme) end on which the payment is made.
    #[serde(default)]
    pub lag_days: u32,
}

/// Kind of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// Tier ladder on the period's volume.
    Volume,
    /// Tiers on growth over the partner's baseline.
    Growth,
    /// An amount per unit bought (upsell).
    PerUnit,
    /// A reward for reaching a minimum in every listed category (cross-sell).
    Bundle,
    /// A reward per qualifying (full-pallet) order.
    Logistics,
}

/// What volume is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Revenue (currency amount). The default.
    #[default]
    Revenue,
    /// Units (quantity).
    Units,
}

/// How a tier ladder turns volume into an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMethod {
    /// The reached tier's rate applies to all volume. The default.
    #[default]
    Retroactive,
    /// Each band of volume at its own tier's rate.
    Incremental,
    /// Lower bands up to their thresholds at their own rates, plus the reached tier's rate
    /// on all volume.
    Rolling,
    /// Every reached tier's rate on all volume.
    Total,
}

/// Whether tiers are measured on each period alone or cumulatively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Each period's volume on its own. The default.
    #[default]
    Period,
    /// Volume to date since the programme start; each period pays the entitlement to date
    /// less what was paid before (a true-up that can claw back).
    Cumulative,
}

/// Whether returns (negative lines) are deducted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Returns {
    /// Returns are deducted (pay on net). The default.
    #[default]
    Net,
    /// Returns are ignored (pay on gross).
    Gross,
}

/// What a growth tier's rate applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthApplies {
    /// The whole period volume. The default.
    #[default]
    Whole,
    /// Only the volume above the baseline.
    Growth,
}

/// Baseline of a per-unit reward: only units above it are paid. Written as a number
/// or the word `"baseline"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Above {
    /// A fixed quantity per period.
    Units(Dec),
    /// The partner's baseline units for the period (the string `"baseline"`).
    Baseline(BaselineWord),
}

impl<'de> Deserialize<'de> for Above {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Above, D::Error> {
        struct V;
        const EXPECTED: &str = "a number of units or \"baseline\"";
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Above;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Above, E> {
                Ok(Above::Units(Dec(v.into())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Above, E> {
                Ok(Above::Units(Dec(v.into())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Above, E> {
                use serde::de::IntoDeserializer;
                Dec::deserialize(v.into_deserializer()).map(Above::Units)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Above, E> {
                use serde::de::IntoDeserializer;
                if v.trim() == "baseline" {
                    return Ok(Above::Baseline(BaselineWord::Baseline));
                }
                Dec::deserialize(v.into_deserializer())
                    .map(Above::Units)
                    .map_err(|_: E| E::custom(format!("expected {EXPECTED}, found \"{v}\"")))
            }
        }
        d.deserialize_any(V)
    }
}

/// The word `baseline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineWord {
    /// The partner's baseline.
    Baseline,
}

/// One tier of a ladder: from a threshold (inclusive), one reward.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Threshold (volume, or growth in percent for growth tiers); reached when volume ≥ from.
    pub from: Dec,
    /// Reward as a percentage of the basis (3.5 = 3.5%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<Dec>,
    /// Reward as an amount per unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_unit: Option<Dec>,
    /// Reward as a fixed amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Dec>,
}

/// One component of a programme, as written in the file. Which fields apply depends on
/// `kind`; [`Programme::compile`](super::Programme::compile) rejects fields that do not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Unique identifier, used in outputs.
    pub id: String,
    /// Component kind.
    pub kind: ComponentKind,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Limit to these partner segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<String>>,
    /// Limit volume to these product categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// Limit to these partners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partners: Option<Vec<String>>,
    /// `period` (default) or `cumulative`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<Measure>,
    /// `net` (default) or `gross`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<Returns>,
    /// Cap per partner on this component over the programme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Dec>,
    /// Components sharing a group pay only the partner's best one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_group: Option<String>,

    /// volume, growth, bundle: `revenue` (default) or `units`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
    /// volume: tier method (default `retroactive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<TierMethod>,
    /// volume, growth: the ladder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierSpec>>,
    /// volume: pay the rate on at most this much volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis_cap: Option<Dec>,
    /// growth: `whole` (default) or `growth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<GrowthApplies>,
    /// per_unit: amount per unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Dec>,
    /// per_unit: only units above this quantity per period, or `"baseline"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<Above>,
    /// bundle: minimum volume per category (in the basis) to qualify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimums: Option<BTreeMap<String, Dec>>,
    /// bundle, logistics: reward as a percentage (of the bundle categories' revenue, or of the
    /// order's revenue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<Dec>,
    /// bundle: reward as a fixed amount per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Dec>,
    /// logistics: minimum order quantity (a full pallet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_quantity: Option<Dec>,
    /// logistics: reward per qualifying order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_order: Option<Dec>,
}
