//! Validation: turning the file form into the typed [`Compiled`] form, with an
//! error naming the field path (and file line) for every rule a programme breaks.

use super::compiled::*;
use super::spec::*;
use super::values::Dec;
use crate::calendar::Calendar;
use crate::document::Format;
use crate::error::{Error, FieldError, Result};
use crate::limits::{
    FIRST_DATE, LAST_DATE, MAX_CATEGORIES, MAX_COMPONENTS, MAX_SEGMENTS, MAX_TIERS, MAX_TOTAL_TIERS,
};
use crate::money::minor_units;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

fn err(path: impl Into<String>, msg: impl Into<String>) -> Error {
    Error::programme(path, msg)
}

fn positive(path: &str, v: Option<Dec>) -> Result<Option<Decimal>> {
    match v {
        Some(Dec(d)) if d <= Decimal::ZERO => Err(err(
            path,
            format!("expected a positive amount, found {}", d.normalize()),
        )),
        Some(Dec(d)) => bounded(path, d).map(Some),
        None => Ok(None),
    }
}

/// An amount or quantity of the programme below [`crate::money::MAX_MAGNITUDE`] (10^15) in
/// magnitude: with the tables' bound this keeps the exact calculation inside `Decimal`'s
/// range (its products are checked too, see `docs/calculations.md`).
fn bounded(path: &str, d: Decimal) -> Result<Decimal> {
    crate::money::check_bounds(d, None).map_err(|m| err(path, m))?;
    Ok(d)
}

fn non_negative(path: &str, d: Decimal) -> Result<Decimal> {
    if d < Decimal::ZERO {
        Err(err(
            path,
            format!("expected a number ≥ 0, found {}", d.normalize()),
        ))
    } else {
        bounded(path, d)
    }
}

fn percent(path: &str, d: Decimal) -> Result<Decimal> {
    if d < Decimal::ZERO || d > HUNDRED {
        Err(err(
            path,
            format!(
                "expected a percentage between 0 and 100, found {}",
                d.normalize()
            ),
        ))
    } else {
        Ok(d / HUNDRED)
    }
}

fn names(path: &str, list: &[String], what: &str) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (i, s) in list.iter().enumerate() {
        if s.trim().is_empty() {
            return Err(err(
                format!("{path}[{i}]"),
                format!("expected a {what} name, found an empty string"),
            ));
        }
        if !seen.insert(s) {
            return Err(err(
                format!("{path}[{i}]"),
                format!("{what} '{s}' is listed twice"),
            ));
        }
    }
    Ok(())
}

impl Programme {
    /// Validate the programme and build its typed form. Errors name the field path
    /// (e.g. `components[1].tiers[2].from`) and what was expected.
    pub fn compile(&self) -> Result<Compiled> {
        let (currency, decimals) = self.compile_currency()?;
        let (calendar, payment) = self.compile_calendar()?;
        for (path, list, max) in [
            ("segments", &self.segments, MAX_SEGMENTS),
            ("categories", &self.categories, MAX_CATEGORIES),
        ] {
            if list.len() > max {
                return Err(err(
                    path,
                    format!("expected at most {max} {path}, found {}", list.len()),
                ));
            }
        }
        names("segments", &self.segments, "segment")?;
        names("categories", &self.categories, "category")?;
        let budget = positive("budget", self.budget)?;
        let partner_cap = positive("partner_cap", self.partner_cap)?;
        let minimum_payout = match self.minimum_payout {
            Some(Dec(d)) => Some(non_negative("minimum_payout", d)?),
            None => None,
        };
        self.check_component_counts()?;
        let mut components = self.compile_components()?;
        components.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Compiled {
            name: self.name.clone(),
            currency,
            decimals,
            rounding: self.rounding.unwrap_or_default(),
            calendar,
            segments: self.segments.clone(),
            categories: self.categories.clone(),
            budget,
            partner_cap,
            minimum_payout,
            payment_timing: payment.when,
            payment_lag_days: payment.lag_days,
            components,
        })
    }

    /// The programme's name, its currency (upper case) and the currency's decimal places.
    fn compile_currency(&self) -> Result<(String, u32)> {
        if self.name.trim().is_empty() {
            return Err(err(
                "name",
                "expected a programme name, found an empty string",
            ));
        }
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(err(
                "currency",
                format!(
                    "expected a three-letter ISO 4217 code such as EUR, found \"{}\"",
                    self.currency
                ),
            ));
        }
        let decimals = match (self.decimals, minor_units(&currency)) {
            (Some(d), _) if d > 6 => return Err(err("decimals", format!("expected 0 to 6 decimal places, found {d}"))),
            (Some(d), _) => d,
            (None, Some(d)) => d,
            (None, None) => {
                return Err(err(
                    "currency",
                    format!(
                        "currency {currency} is not one rebatesim knows the minor unit of: check the code, or declare \
                         `decimals` (the number of decimal places of its minor unit)"
                    ),
                ))
            }
        };
        Ok((currency, decimals))
    }

    /// The calendar (periods within the dates rebatesim supports) and the payment terms
    /// (the last payment within them too).
    fn compile_calendar(&self) -> Result<(Calendar, Payment)> {
        if self.periods == 0 || self.periods > 240 {
            return Err(err(
                "periods",
                format!(
                    "expected a number of periods from 1 to 240, found {}",
                    self.periods
                ),
            ));
        }
        let calendar = Calendar {
            start: self.start.0,
            length: self.period,
            periods: self.periods,
        };
        // every date an output shows (period ends, payment dates) must be one pandas'
        // datetime64[ns] and Python's datetime can represent
        let start = self.start.0;
        if start < FIRST_DATE {
            return Err(err(
                "start",
                format!("expected a start date from {FIRST_DATE} on, found {start}"),
            ));
        }
        let end = start
            .checked_add_months(chrono::Months::new(calendar.months()))
            .and_then(|d| d.pred_opt())
            .filter(|d| *d <= LAST_DATE);
        let Some(end) = end else {
            return Err(err(
                "start",
                format!(
                    "the programme starting {start} with {} periods would end after {LAST_DATE}, the last date rebatesim supports",
                    self.periods
                ),
            ));
        };
        let payment = self.payment.unwrap_or_default();
        if payment.lag_days > 3660 {
            return Err(err(
                "payment.lag_days",
                format!("expected at most 3660 days, found {}", payment.lag_days),
            ));
        }
        // the last payment is the programme end plus the lag, whatever the timing
        if end + chrono::Days::new(payment.lag_days as u64) > LAST_DATE {
            return Err(err(
                "payment.lag_days",
                format!(
                    "the last payment ({} days after the programme ends on {end}) would fall after {LAST_DATE}, the last date rebatesim supports",
                    payment.lag_days
                ),
            ));
        }
        Ok((calendar, payment))
    }

    /// At least one component, at most [`MAX_COMPONENTS`], and at most [`MAX_TOTAL_TIERS`]
    /// tiers over all ladders.
    fn check_component_counts(&self) -> Result<()> {
        if self.components.is_empty() {
            return Err(err("components", "expected at least one component"));
        }
        if self.components.len() > MAX_COMPONENTS {
            return Err(err(
                "components",
                format!(
                    "expected at most {MAX_COMPONENTS} components, found {}",
                    self.components.len()
                ),
            ));
        }
        let tiers: usize = self
            .components
            .iter()
            .map(|c| c.tiers.as_ref().map_or(0, Vec::len))
            .sum();
        if tiers > MAX_TOTAL_TIERS {
            return Err(err(
                "components",
                format!("expected at most {MAX_TOTAL_TIERS} tiers over all ladders, found {tiers}"),
            ));
        }
        Ok(())
    }

    /// Every component, each checked so that a mistake in each is reported at once (the
    /// first of each component's, the others as further errors).
    fn compile_components(&self) -> Result<Vec<CompiledComponent>> {
        let mut ids = BTreeSet::new();
        let mut components = Vec::with_capacity(self.components.len());
        let mut errors: Vec<FieldError> = Vec::new();
        for (i, c) in self.components.iter().enumerate() {
            let base = format!("components[{i}]");
            let compiled = if c.id.trim().is_empty() {
                Err(err(
                    format!("{base}.id"),
                    "expected a component id, found an empty string",
                ))
            } else if !ids.insert(c.id.as_str()) {
                Err(err(
                    format!("{base}.id"),
                    format!("component id '{}' is used twice", c.id),
                ))
            } else {
                self.compile_component(&base, c)
            };
            match compiled {
                Ok(cc) => components.push(cc),
                Err(Error::Programme(fe)) => errors.push(fe),
                Err(other) => return Err(other),
            }
        }
        if !errors.is_empty() {
            let first = errors.remove(0);
            return Err(Error::Programme(first.with_further(errors)));
        }
        Ok(components)
    }

    fn check_refs(
        &self,
        path: &str,
        list: &Option<Vec<String>>,
        declared: &[String],
        what: &str,
        key: &str,
    ) -> Result<Option<Vec<String>>> {
        let Some(list) = list else { return Ok(None) };
        if list.is_empty() {
            return Err(err(
                path,
                format!("expected at least one {what} (leave the field out to include all)"),
            ));
        }
        names(path, list, what)?;
        for (j, s) in list.iter().enumerate() {
            // partner ids are not declared in the programme: any id is accepted
            if key != "partners" && !declared.iter().any(|d| d == s) {
                return Err(err(
                    format!("{path}[{j}]"),
                    if declared.is_empty() {
                        format!(
                            "{what} '{s}' is not declared: add it to the programme's `{key}` list"
                        )
                    } else {
                        format!("{what} '{s}' is not declared in the programme's `{key}` (expected one of: {})", declared.join(", "))
                    },
                ));
            }
        }
        let mut sorted = list.clone();
        sorted.sort();
        Ok(Some(sorted))
    }

    fn compile_component(&self, base: &str, c: &Component) -> Result<CompiledComponent> {
        let kind = c.kind;
        let kind_name = match kind {
            ComponentKind::Volume => "volume",
            ComponentKind::Growth => "growth",
            ComponentKind::PerUnit => "per_unit",
            ComponentKind::Bundle => "bundle",
            ComponentKind::Logistics => "logistics",
        };
        check_kind_fields(base, c, kind_name)?;
        let segments = self.check_refs(
            &format!("{base}.segments"),
            &c.segments,
            &self.segments,
            "segment",
            "segments",
        )?;
        let categories = self.check_refs(
            &format!("{base}.categories"),
            &c.categories,
            &self.categories,
            "category",
            "categories",
        )?;
        let partners = self.check_refs(
            &format!("{base}.partners"),
            &c.partners,
            &[],
            "partner",
            "partners",
        )?;
        let cap = positive(&format!("{base}.cap"), c.cap)?;
        if let Some(g) = &c.exclusive_group {
            if g.trim().is_empty() {
                return Err(err(
                    format!("{base}.exclusive_group"),
                    "expected a group name, found an empty string",
                ));
            }
        }
        let rule = match kind {
            ComponentKind::Volume => Rule::Volume {
                basis: c.basis.unwrap_or_default(),
                method: c.method.unwrap_or_default(),
                tiers: compile_tiers(base, kind_name, c.tiers.as_deref(), false)?,
                basis_cap: positive(&format!("{base}.basis_cap"), c.basis_cap)?,
            },
            ComponentKind::Growth => Rule::Growth {
                basis: c.basis.unwrap_or_default(),
                applies_to: c.applies_to.unwrap_or_default(),
                tiers: compile_tiers(base, kind_name, c.tiers.as_deref(), true)?,
            },
            ComponentKind::PerUnit => Rule::PerUnit {
                amount: non_negative(
                    &format!("{base}.amount"),
                    c.amount
                        .ok_or_else(|| {
                            err(
                                format!("{base}.amount"),
                                "a per_unit component needs `amount` (the amount per unit)",
                            )
                        })?
                        .0,
                )?,
                above: match c.above {
                    None => UnitsAbove::None,
                    Some(Above::Units(Dec(q))) => {
                        UnitsAbove::Quantity(non_negative(&format!("{base}.above"), q)?)
                    }
                    Some(Above::Baseline(_)) => UnitsAbove::Baseline,
                },
            },
            ComponentKind::Bundle => self.compile_bundle(base, c, categories.as_deref())?,
            ComponentKind::Logistics => compile_logistics(base, c)?,
        };
        Ok(CompiledComponent {
            id: c.id.clone(),
            name: c.name.clone().unwrap_or_else(|| c.id.clone()),
            scope: Scope {
                segments,
                categories,
                partners,
            },
            measure: c.measure.unwrap_or_default(),
            returns: c.returns.unwrap_or_default(),
            cap,
            exclusive_group: c.exclusive_group.clone(),
            rule,
        })
    }

    /// A bundle's rule: its minimums (declared categories, inside the component's own
    /// `categories` when it has them) and its reward.
    fn compile_bundle(
        &self,
        base: &str,
        c: &Component,
        categories: Option<&[String]>,
    ) -> Result<Rule> {
        let mins = c.minimums.as_ref().ok_or_else(|| {
            err(
                format!("{base}.minimums"),
                "a bundle component needs `minimums` (a minimum per category)",
            )
        })?;
        if mins.is_empty() {
            return Err(err(
                format!("{base}.minimums"),
                "expected at least one category minimum, e.g. { hardware = 5000 }",
            ));
        }
        let mut minimums = Vec::new();
        for (cat, Dec(m)) in mins {
            let p = format!("{base}.minimums.{cat}");
            if !self.categories.iter().any(|d| d == cat) {
                return Err(err(
                    p,
                    if self.categories.is_empty() {
                        format!("category '{cat}' is not declared: add it to the programme's `categories` list")
                    } else {
                        format!("category '{cat}' is not declared in the programme's `categories` (expected one of: {})", self.categories.join(", "))
                    },
                ));
            }
            if let Some(scope) = &categories {
                if !scope.iter().any(|s| s == cat) {
                    return Err(err(
                        p,
                        format!(
                            "category '{cat}' is outside the component's own `categories` ({}), so the bundle could never qualify",
                            scope.join(", ")
                        ),
                    ));
                }
            }
            minimums.push((cat.clone(), non_negative(&p, *m)?));
        }
        let reward = match (c.percent, c.fixed) {
            (Some(Dec(p)), None) => BundleReward::Rate(percent(&format!("{base}.percent"), p)?),
            (None, Some(Dec(f))) => BundleReward::Fixed(non_negative(&format!("{base}.fixed"), f)?),
            (Some(_), Some(_)) => {
                return Err(err(format!("{base}.fixed"), "a bundle component takes either `percent` or `fixed`, not both"))
            }
            (None, None) => {
                return Err(err(
                    base.to_string(),
                    "a bundle component needs its reward: `percent` (of the bundle categories' revenue) or `fixed` (an amount per period)",
                ))
            }
        };
        Ok(Rule::Bundle {
            basis: c.basis.unwrap_or_default(),
            minimums,
            reward,
        })
    }

    /// [`Programme::compile`], attaching the file line of the offending field to the error
    /// where it can be found in `text`.
    pub fn compile_located(
        &self,
        text: &str,
        format: Format,
        file: Option<&str>,
    ) -> Result<Compiled> {
        // the text is parsed once for all the errors (one per component at most)
        let locator = std::cell::OnceCell::new();
        let place = |fe: &mut FieldError| {
            fe.file = file.map(str::to_owned);
            if fe.line.is_none() {
                let locator = locator.get_or_init(|| crate::document::Locator::new(text, format));
                if let Some((line, col)) = locator.locate(&fe.path) {
                    fe.line = Some(line);
                    fe.column = Some(col);
                }
            }
        };
        self.compile().map_err(|e| match e {
            Error::Programme(mut fe) => {
                place(&mut fe);
                fe.further_mut().iter_mut().for_each(place);
                Error::Programme(fe)
            }
            other => other,
        })
    }
}

fn reward_kind(r: &Reward) -> &'static str {
    match r {
        Reward::Rate(_) => "percent",
        Reward::PerUnit(_) => "per_unit",
        Reward::Fixed(_) => "fixed",
    }
}

fn compile_tiers(
    base: &str,
    kind_name: &str,
    tiers: Option<&[TierSpec]>,
    growth: bool,
) -> Result<Vec<Tier>> {
    let path = format!("{base}.tiers");
    let tiers = tiers.ok_or_else(|| {
        err(&path, format!("a {kind_name} component needs `tiers`, a ladder of tiers {{ from = threshold, percent | per_unit | fixed = reward }}"))
    })?;
    if tiers.is_empty() {
        return Err(err(
            &path,
            "expected at least one tier, found an empty ladder",
        ));
    }
    if tiers.len() > MAX_TIERS {
        return Err(err(
            &path,
            format!("expected at most {MAX_TIERS} tiers, found {}", tiers.len()),
        ));
    }
    let mut out: Vec<Tier> = Vec::with_capacity(tiers.len());
    for (j, t) in tiers.iter().enumerate() {
        let tp = format!("{path}[{j}]");
        let from = bounded(&format!("{tp}.from"), t.from.0)?;
        if !growth && from < Decimal::ZERO {
            return Err(err(
                format!("{tp}.from"),
                format!("expected a threshold ≥ 0, found {}", from.normalize()),
            ));
        }
        if growth && from < -HUNDRED {
            return Err(err(
                format!("{tp}.from"),
                format!(
                    "expected a growth threshold in percent ≥ -100, found {}",
                    from.normalize()
                ),
            ));
        }
        if let Some(prev) = out.last() {
            let prev_from = if growth {
                prev.threshold * HUNDRED
            } else {
                prev.threshold
            };
            if from <= prev_from {
                return Err(err(
                    format!("{tp}.from"),
                    format!(
                        "thresholds must increase: tier {} starts at {} but tier {} starts at {}",
                        j + 1,
                        from.normalize(),
                        j,
                        prev_from.normalize()
                    ),
                ));
            }
        }
        let reward = match (t.percent, t.per_unit, t.fixed) {
            (Some(Dec(p)), None, None) => Reward::Rate(percent(&format!("{tp}.percent"), p)?),
            (None, Some(Dec(u)), None) => {
                Reward::PerUnit(non_negative(&format!("{tp}.per_unit"), u)?)
            }
            (None, None, Some(Dec(f))) => Reward::Fixed(non_negative(&format!("{tp}.fixed"), f)?),
            (None, None, None) => {
                return Err(err(
                    tp,
                    "a tier needs its reward: one of `percent`, `per_unit` or `fixed`",
                ))
            }
            (p, u, _) => {
                let second = if p.is_some() && u.is_some() {
                    "per_unit"
                } else {
                    "fixed"
                };
                return Err(err(
                    format!("{tp}.{second}"),
                    "a tier takes exactly one of `percent`, `per_unit` or `fixed`",
                ));
            }
        };
        if let Some(first) = out.first() {
            if reward_kind(&first.reward) != reward_kind(&reward) {
                return Err(err(
                    format!("{tp}.{}", reward_kind(&reward)),
                    format!(
                        "every tier of a ladder must use the same kind of reward: tier 1 uses `{}` but tier {} uses `{}`",
                        reward_kind(&first.reward),
                        j + 1,
                        reward_kind(&reward)
                    ),
                ));
            }
        }
        out.push(Tier {
            threshold: if growth { from / HUNDRED } else { from },
            reward,
        });
    }
    Ok(out)
}

/// Only the fields a component's kind takes: any other is an error naming it and what the
/// kind takes.
fn check_kind_fields(base: &str, c: &Component, kind_name: &str) -> Result<()> {
    // fields that only some kinds accept
    let allowed: &[&str] = match c.kind {
        ComponentKind::Volume => &["basis", "method", "tiers", "basis_cap"],
        ComponentKind::Growth => &["basis", "tiers", "applies_to"],
        ComponentKind::PerUnit => &["amount", "above"],
        ComponentKind::Bundle => &["basis", "minimums", "percent", "fixed"],
        ComponentKind::Logistics => &["min_quantity", "per_order", "percent"],
    };
    let present: [(&str, bool); 12] = [
        ("basis", c.basis.is_some()),
        ("method", c.method.is_some()),
        ("tiers", c.tiers.is_some()),
        ("basis_cap", c.basis_cap.is_some()),
        ("applies_to", c.applies_to.is_some()),
        ("amount", c.amount.is_some()),
        ("above", c.above.is_some()),
        ("minimums", c.minimums.is_some()),
        ("percent", c.percent.is_some()),
        ("fixed", c.fixed.is_some()),
        ("min_quantity", c.min_quantity.is_some()),
        ("per_order", c.per_order.is_some()),
    ];
    for (field, is) in &present {
        if *is && !allowed.contains(field) {
            return Err(err(
                format!("{base}.{field}"),
                format!(
                    "`{field}` does not apply to a {kind_name} component (it takes: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A logistics component's rule: its minimum order quantity and its reward.
fn compile_logistics(base: &str, c: &Component) -> Result<Rule> {
    let q = c.min_quantity.ok_or_else(|| {
        err(
            format!("{base}.min_quantity"),
            "a logistics component needs `min_quantity` (the minimum order quantity)",
        )
    })?;
    let min_quantity = positive(&format!("{base}.min_quantity"), Some(q))?.unwrap_or_default();
    let reward = match (c.per_order, c.percent) {
        (Some(Dec(a)), None) => OrderReward::PerOrder(non_negative(&format!("{base}.per_order"), a)?),
        (None, Some(Dec(p))) => OrderReward::Rate(percent(&format!("{base}.percent"), p)?),
        (Some(_), Some(_)) => {
            return Err(err(format!("{base}.percent"), "a logistics component takes either `per_order` or `percent`, not both"))
        }
        (None, None) => {
            return Err(err(
                base.to_string(),
                "a logistics component needs its reward: `per_order` (an amount per qualifying order) or `percent` (of the order's revenue)",
            ))
        }
    };
    Ok(Rule::Logistics {
        min_quantity,
        reward,
    })
}
