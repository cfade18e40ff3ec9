//! The search space file (`docs/search.md`): which numeric fields of a programme template a
//! design search may change, each as a range with a step in business units (or a list of
//! values), and the structural rules every candidate keeps. Read with located errors like a
//! programme's, checked against the template (every field must exist there and be a number).

use crate::document::{locate_field as locate, Format};
use crate::error::{Error, FieldError, Result};
use crate::programme::values::Dec;
use crate::programme::Programme;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

/// The most candidates one parameter may have (a finer step is almost surely a typo).
pub const MAX_LEVELS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceFile {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameter: Vec<ParamFile>,
    #[serde(default)]
    rules: RulesFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamFile {
    field: String,
    #[serde(default)]
    from: Option<Dec>,
    #[serde(default)]
    to: Option<Dec>,
    #[serde(default)]
    step: Option<Dec>,
    #[serde(default)]
    values: Option<Vec<Dec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default = "yes")]
    increasing_thresholds: bool,
    #[serde(default)]
    non_decreasing_rates: bool,
}

impl Default for RulesFile {
    fn default() -> Self {
        RulesFile {
            increasing_thresholds: true,
            non_decreasing_rates: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// Where a parameter sits in the programme's value tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A programme-level field (`budget`, `partner_cap`, `minimum_payout`).
    Top(String),
    /// A field of component number `0` (`cap`, `basis_cap`, `percent`, …), or of a table
    /// inside it (`minimums.cable`: `Some("cable")`).
    Component(usize, String, Option<String>),
    /// A field of tier `1` of component `0` (`from`, `percent`, `amount`, …).
    Tier(usize, usize, String),
    /// The number of tiers of component `0` (the template's first tiers are kept).
    TierCount(usize),
}

/// One searched field: its path as written and its candidate values, in increasing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// The field as written in the space file, e.g. `components.retail_volume.tiers[1].from`.
    pub field: String,
    /// Where it sits.
    pub target: Target,
    /// Candidate values (increasing).
    pub levels: Vec<Decimal>,
}

/// A search space checked against its template.
#[derive(Debug, Clone)]
pub struct Space {
    /// What the space is for (free text).
    pub description: Option<String>,
    /// The searched fields.
    pub parameters: Vec<Parameter>,
    /// Keep tier thresholds strictly increasing (default true).
    pub increasing_thresholds: bool,
    /// Keep tier rates non-decreasing (default false).
    pub non_decreasing_rates: bool,
    template: Value,
}

/// The rate-like fields of a tier, in the order they are looked for.
const TIER_RATES: [&str; 3] = ["percent", "amount", "rate"];

fn located(text: &str, format: Format, file: Option<&str>, path: &str, message: String) -> Error {
    let (line, column) = locate(text, format, path).unzip();
    Error::Space(FieldError {
        file: file.map(str::to_owned),
        path: path.to_owned(),
        line,
        column,
        message,
        further: None,
    })
}

fn number_at(v: &Value) -> Option<Decimal> {
    serde_json::from_value::<Dec>(v.clone()).ok().map(|d| d.0)
}

/// A problem with one `[[parameter]]`: the field of it to point at (`values`, `step`, …) and
/// what was expected.
type ParamProblem = (&'static str, String);

impl ParamFile {
    /// The candidate values, increasing and without repeats: `values` as given, or `from`
    /// to `to` in steps of `step` (at most [`MAX_LEVELS`]).
    fn levels(&self) -> std::result::Result<Vec<Decimal>, ParamProblem> {
        match (&self.values, self.from, self.to, self.step) {
            (Some(v), None, None, None) => {
                if v.is_empty() {
                    return Err(("values", "expected at least one value".into()));
                }
                let mut v: Vec<Decimal> = v.iter().map(|d| d.0).collect();
                v.sort();
                v.dedup();
                Ok(v)
            }
            (None, Some(from), Some(to), Some(step)) => {
                let (from, to, step) = (from.0, to.0, step.0);
                if step <= Decimal::ZERO {
                    return Err(("step", format!("expected a positive step, found {step}")));
                }
                if to < from {
                    return Err((
                        "to",
                        format!("expected a value ≥ from ({from}), found {to}"),
                    ));
                }
                let count = ((to - from) / step).floor();
                if count >= Decimal::from(MAX_LEVELS) {
                    return Err((
                        "step",
                        format!("from {from} to {to} in steps of {step} gives more than {MAX_LEVELS} values: expected a coarser step (business units, e.g. 5000 for thresholds, 0.25 for percent)"),
                    ));
                }
                let mut v = Vec::new();
                let mut x = from;
                while x <= to {
                    v.push(x.normalize());
                    x += step;
                }
                Ok(v)
            }
            (Some(_), _, _, _) => Err((
                "values",
                "expected either values or from/to/step, not both".into(),
            )),
            _ => {
                let missing: Vec<&'static str> =
                    [("from", self.from), ("to", self.to), ("step", self.step)]
                        .iter()
                        .filter(|(_, v)| v.is_none())
                        .map(|(n, _)| *n)
                        .collect();
                Err((
                    missing[0],
                    format!(
                        "missing {}: expected from, to and step (a range in business units) or values (a list)",
                        missing.join(", ")
                    ),
                ))
            }
        }
    }
}

/// The levels of parameter `p` fit its target: a tier count in whole numbers from 1 to the
/// template's tiers, anything else at least 0.
fn check_levels(
    template: &Value,
    target: &Target,
    levels: &[Decimal],
    p: &ParamFile,
) -> std::result::Result<(), ParamProblem> {
    let lowest = levels[0];
    match target {
        Target::TierCount(c) => {
            let have = template["components"][*c]["tiers"]
                .as_array()
                .map_or(0, Vec::len);
            let top = *levels.last().expect("non-empty");
            if lowest < Decimal::ONE
                || top > Decimal::from(have)
                || levels.iter().any(|l| !l.fract().is_zero())
            {
                return Err((
                    "field",
                    format!("tier_count: expected whole numbers from 1 to the template's {have} tiers, found {} to {top}", lowest),
                ));
            }
            Ok(())
        }
        _ if lowest < Decimal::ZERO => Err((
            if p.values.is_some() { "values" } else { "from" },
            format!("expected values ≥ 0 for '{}', found {lowest}", p.field),
        )),
        _ => Ok(()),
    }
}

impl Space {
    /// Read a space from `text` in `format` and check it against `template`. Errors name
    /// the space file's field (`parameter[2].step`), its line and column, and what was
    /// expected.
    pub fn from_str(
        text: &str,
        format: Format,
        file: Option<&str>,
        template: &Programme,
    ) -> Result<Space> {
        let f: SpaceFile =
            crate::document::parse(text, format, file, Error::Programme).map_err(|e| match e {
                Error::Programme(fe) => Error::Space(fe),
                other => other,
            })?;
        let template = template.to_value()?;
        let err = |path: String, message: String| located(text, format, file, &path, message);
        if f.parameter.is_empty() {
            return Err(err(
                "parameter".into(),
                "expected at least one [[parameter]] (a field of the template with from/to/step or values)".into(),
            ));
        }
        let mut parameters: Vec<Parameter> = Vec::new();
        for (k, p) in f.parameter.iter().enumerate() {
            let at = |field: &str| format!("parameter[{k}].{field}");
            let target = resolve(&template, &p.field).map_err(|m| err(at("field"), m))?;
            if parameters.iter().any(|q| q.target == target) {
                return Err(err(at("field"), format!("'{}' is searched twice", p.field)));
            }
            let levels = p.levels().map_err(|(field, m)| err(at(field), m))?;
            check_levels(&template, &target, &levels, p).map_err(|(field, m)| err(at(field), m))?;
            parameters.push(Parameter {
                field: p.field.clone(),
                target,
                levels,
            });
        }
        Ok(Space {
            description: f.description,
            parameters,
            increasing_thresholds: f.rules.increasing_thresholds,
            non_decreasing_rates: f.rules.non_decreasing_rates,
            template,
        })
    }

    /// Number of candidates of the full grid (saturating).
    pub fn grid_size(&self) -> usize {
        self.parameters
            .iter()
            .fold(1usize, |a, p| a.saturating_mul(p.levels.len()))
    }

    /// The template's own value of each parameter, as the index of the level equal to it
    /// (`None` when the template's value is not on the grid).
    pub fn current(&self) -> Vec<Option<usize>> {
        self.parameters
            .iter()
            .map(|p| {
                let v = match &p.target {
                    Target::TierCount(c) => self.template["components"][*c]["tiers"]
                        .as_array()
                        .map(|t| Decimal::from(t.len())),
                    t => get(&self.template, t).and_then(number_at),
                }?;
                p.levels.iter().position(|&l| l == v)
            })
            .collect()
    }

    /// The programme of candidate `index` (one level index per parameter), or why it breaks
    /// the space's structural rules (`Ok(Err(reason))`). It still has to pass the
    /// programme's own validation ([`Programme::compile`]).
    pub fn candidate(&self, index: &[usize]) -> Result<std::result::Result<Programme, String>> {
        if index.len() != self.parameters.len() {
            return Err(Error::Request(format!(
                "a candidate needs {} level indices (one per parameter), found {}",
                self.parameters.len(),
                index.len()
            )));
        }
        let mut v = self.template.clone();
        let mut counts = Vec::new();
        for (p, &i) in self.parameters.iter().zip(index) {
            let level = *p.levels.get(i).ok_or_else(|| {
                Error::Request(format!(
                    "level {i} of '{}' does not exist (it has {})",
                    p.field,
                    p.levels.len()
                ))
            })?;
            match &p.target {
                Target::TierCount(c) => counts.push((*c, level)),
                t => {
                    let slot = get_mut(&mut v, t).expect("resolved against the template");
                    *slot = serde_json::to_value(Dec(level))
                        .map_err(|e| Error::Request(e.to_string()))?;
                }
            }
        }
        for (c, n) in counts {
            let n = usize::try_from(n.trunc().mantissa()).unwrap_or(0);
            if let Some(t) = v["components"][c]["tiers"].as_array_mut() {
                t.truncate(n);
            }
        }
        if let Some(reason) = self.structure_broken(&v) {
            return Ok(Err(reason));
        }
        Ok(Ok(Programme::from_value(v)?))
    }

    /// Why the tiers of a searched component break the structural rules, if they do.
    fn structure_broken(&self, v: &Value) -> Option<String> {
        let mut seen: Vec<usize> = Vec::new();
        for p in &self.parameters {
            let c = match p.target {
                Target::Tier(c, _, _) | Target::TierCount(c) => c,
                _ => continue,
            };
            if seen.contains(&c) {
                continue;
            }
            seen.push(c);
            let comp = &v["components"][c];
            let id = comp["id"].as_str().unwrap_or("?");
            let tiers = comp["tiers"].as_array()?;
            let from: Vec<Option<Decimal>> = tiers.iter().map(|t| number_at(&t["from"])).collect();
            if self.increasing_thresholds {
                for w in 1..from.len() {
                    if let (Some(a), Some(b)) = (from[w - 1], from[w]) {
                        if b <= a {
                            return Some(format!(
                                "{id}: tier {} starts at {b}, not above tier {}'s {a} (thresholds increasing)",
                                w + 1,
                                w
                            ));
                        }
                    }
                }
            }
            if self.non_decreasing_rates {
                for key in TIER_RATES {
                    let r: Vec<Option<Decimal>> =
                        tiers.iter().map(|t| number_at(&t[key])).collect();
                    for w in 1..r.len() {
                        if let (Some(a), Some(b)) = (r[w - 1], r[w]) {
                            if b < a {
                                return Some(format!(
                                    "{id}: tier {} pays {key} {b}, below tier {}'s {a} (rates non-decreasing)",
                                    w + 1,
                                    w
                                ));
                            }
                        }
                    }
                }
            }
        }
        None
    }
}

/// Resolve a field path of the space file against the template.
fn resolve(template: &Value, field: &str) -> std::result::Result<Target, String> {
    let parts: Vec<&str> = field.split('.').collect();
    let expected = "expected budget, partner_cap, minimum_payout, components.<id>.<field>, components.<id>.tiers[<i>].<field>, components.<id>.<table>.<key> or components.<id>.tier_count";
    let target = match parts.as_slice() {
        [key] => Target::Top((*key).to_owned()),
        ["components", id, rest @ ..] if !rest.is_empty() => {
            let comps = template["components"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let c = comps
                .iter()
                .position(|x| x["id"].as_str() == Some(id))
                .ok_or_else(|| {
                    let ids: Vec<&str> = comps.iter().filter_map(|x| x["id"].as_str()).collect();
                    format!(
                        "'{field}': the template has no component '{id}' (its components: {})",
                        ids.join(", ")
                    )
                })?;
            match rest {
                ["tier_count"] => {
                    if !template["components"][c]["tiers"].is_array() {
                        return Err(format!("'{field}': component '{id}' has no tiers"));
                    }
                    Target::TierCount(c)
                }
                [key] => match key.split_once('[') {
                    Some(("tiers", i)) => {
                        return Err(format!(
                        "'{field}': expected a tier's field after tiers[{i}, e.g. tiers[0].from"
                    ))
                    }
                    _ => Target::Component(c, (*key).to_owned(), None),
                },
                [key, sub] => match key.strip_prefix("tiers[").and_then(|s| s.strip_suffix(']')) {
                    Some(i) => {
                        let i: usize = i.parse().map_err(|_| {
                            format!("'{field}': expected a tier number in tiers[...], e.g. tiers[0], found '{i}'")
                        })?;
                        let n = template["components"][c]["tiers"]
                            .as_array()
                            .map_or(0, Vec::len);
                        if i >= n {
                            return Err(format!(
                                "'{field}': component '{id}' has {n} tiers (tiers[0] to tiers[{}])",
                                n.saturating_sub(1)
                            ));
                        }
                        Target::Tier(c, i, (*sub).to_owned())
                    }
                    None => Target::Component(c, (*key).to_owned(), Some((*sub).to_owned())),
                },
                _ => return Err(format!("'{field}': {expected}")),
            }
        }
        _ => return Err(format!("'{field}': {expected}")),
    };
    match get(template, &target) {
        Some(v) if number_at(v).is_some() && !v.is_boolean() => Ok(target),
        Some(v) => Err(format!(
            "'{field}' is {v} in the template: only numeric fields can be searched"
        )),
        None => Err(format!(
            "'{field}' is not set in the template: set it there (the search changes values the template has)"
        )),
    }
}

fn get<'v>(v: &'v Value, t: &Target) -> Option<&'v Value> {
    let r = match t {
        Target::Top(k) => v.get(k)?,
        Target::Component(c, k, None) => v["components"].get(*c)?.get(k)?,
        Target::Component(c, k, Some(s)) => v["components"].get(*c)?.get(k)?.get(s)?,
        Target::Tier(c, i, k) => v["components"].get(*c)?.get("tiers")?.get(*i)?.get(k)?,
        Target::TierCount(c) => v["components"].get(*c)?.get("tiers")?,
    };
    (!r.is_null()).then_some(r)
}

fn get_mut<'v>(v: &'v mut Value, t: &Target) -> Option<&'v mut Value> {
    match t {
        Target::Top(k) => v.get_mut(k),
        Target::Component(c, k, None) => v["components"].get_mut(*c)?.get_mut(k),
        Target::Component(c, k, Some(s)) => v["components"].get_mut(*c)?.get_mut(k)?.get_mut(s),
        Target::Tier(c, i, k) => v["components"]
            .get_mut(*c)?
            .get_mut("tiers")?
            .get_mut(*i)?
            .get_mut(k),
        Target::TierCount(c) => v["components"].get_mut(*c)?.get_mut("tiers"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Programme {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/distributor/programme.toml"
        ))
        .unwrap();
        Programme::from_str(&text, Format::Toml, None).unwrap()
    }

    const SPACE: &str = r#"
[[parameter]]
field = "components.installer_volume.tiers[0].from"
from = 20000
to = 30000
step = 5000

[[parameter]]
field = "components.installer_volume.tiers[0].percent"
values = [0.5, 1, 1.5]

[[parameter]]
field = "budget"
from = 16000000
to = 18000000
step = 1000000

[rules]
non_decreasing_rates = true
"#;

    #[test]
    fn a_space_gives_candidates_that_validate() {
        let s = Space::from_str(SPACE, Format::Toml, None, &template()).unwrap();
        assert_eq!(s.grid_size(), 27);
        assert_eq!(s.current(), vec![Some(1), Some(1), Some(2)]);
        let p = s.candidate(&[0, 2, 0]).unwrap().unwrap();
        let v = p.to_value().unwrap();
        assert_eq!(v["components"][0]["tiers"][0]["from"], 20000);
        assert_eq!(v["components"][0]["tiers"][0]["percent"], 1.5);
        assert_eq!(v["budget"], 16000000);
        p.compile().unwrap();
    }

    #[test]
    fn structural_rules_are_kept() {
        let text = SPACE.replace("values = [0.5, 1, 1.5]", "values = [1, 2.5]");
        let s = Space::from_str(&text, Format::Toml, None, &template()).unwrap();
        // tier 1 at 2.5% is above tier 2's 2%
        let why = s.candidate(&[0, 1, 0]).unwrap().unwrap_err();
        assert!(why.contains("rates non-decreasing"), "{why}");
    }

    #[test]
    fn errors_name_the_field_and_line() {
        let bad = SPACE.replace("step = 5000", "step = -5");
        let e = Space::from_str(&bad, Format::Toml, Some("space.toml"), &template())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("parameter[0].step") && e.contains("positive step"),
            "{e}"
        );
        assert!(e.contains("space.toml") && e.contains("line 6"), "{e}");
        let bad = SPACE.replace("installer_volume.tiers[0].from", "nope.cap");
        let e = Space::from_str(&bad, Format::Toml, None, &template())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no component 'nope'") && e.contains("installer_volume"),
            "{e}"
        );
        let bad = SPACE.replace("field = \"budget\"", "field = \"name\"");
        let e = Space::from_str(&bad, Format::Toml, None, &template())
            .unwrap_err()
            .to_string();
        assert!(e.contains("only numeric fields"), "{e}");
        let bad = SPACE.replace("to = 30000\n", "");
        let e = Space::from_str(&bad, Format::Toml, None, &template())
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing to"), "{e}");
        let bad = format!("{SPACE}\nfoo = 1\n");
        let e = Space::from_str(&bad, Format::Toml, None, &template())
            .unwrap_err()
            .to_string();
        assert!(e.contains("foo"), "{e}");
    }
}
