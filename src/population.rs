//! The partner population a simulation runs on: one row per partner with its segment, its
//! prior-year (baseline) annual volume and optional economics (unit price, gross-margin rate,
//! product-category mix).
//!
//! Built from a partner table (CSV file or text; the Python binding passes DataFrame columns
//! through [`Population::from_records`]) or generated synthetically from a count, a median
//! baseline and a dispersion per segment ([`Population::synthetic`]).
//!
//! Partner table columns (names are case-sensitive; extra columns are ignored):
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `partner_id` | yes | unique id |
//! | `segment` | yes | segment name |
//! | `baseline_revenue` | one of the two | prior-year annual revenue |
//! | `baseline_units` | one of the two | prior-year annual units |
//! | `baseline_revenue_m01` … `_m12`, `baseline_units_m01` … `_m12` | no | prior-year volume per programme month (all twelve or none; see [`crate::monthly_baselines`]): the rules' baselines |
//! | `unit_price` | no | revenue per unit (else the model's default) |
//! | `margin_rate` | no | gross margin as a fraction of revenue, 0..1 (else the model's default) |
//! | `demand_revenue` | no | annual revenue rate of the partner's demand: the level the engine simulates instead of the baseline (the rules keep the baseline) |
//! | `mix_<category>` | no | share of the partner's revenue in `<category>`; shares ≥ 0 summing to 1 (±1e-6) |
//!
//! Empty cells in optional columns mean "not given". A partner with neither baseline is a new
//! partner: the engine simulates it at its segment's median baseline, while rules that need a
//! baseline (growth, per unit above baseline) do not apply to it, as in settlement.
//!
//! Monthly baselines stand in for the annual column when it is absent (the annual baseline is
//! their sum) and must agree with it when both are given. They set the baselines of the rules
//! (a window's baseline is the sum of its months); the simulated demand level stays the annual
//! baseline (docs/simulation.md), unless the partner has a `demand_revenue`: then the engine
//! simulates that annual rate (an entrant's run rate when its baseline covers only part of
//! the year; `rebatesim calibrate` writes it), while the rules and settlement keep the
//! contractual baseline.

use crate::error::{Error, Result};
use crate::rng::{self, Purpose};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

mod identity;
use identity::{check_identity, IdSet};

/// One partner, as given (used to build a [`Population`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartnerRecord {
    /// Unique id.
    pub partner_id: String,
    /// Segment name.
    pub segment: String,
    /// Prior-year annual revenue.
    pub baseline_revenue: Option<f64>,
    /// Prior-year annual units.
    pub baseline_units: Option<f64>,
    /// Prior-year revenue per programme month (see [`crate::monthly_baselines`]).
    pub baseline_revenue_months: Option<[f64; 12]>,
    /// Prior-year units per programme month.
    pub baseline_units_months: Option<[f64; 12]>,
    /// Revenue per unit.
    pub unit_price: Option<f64>,
    /// Gross-margin rate (fraction of revenue).
    pub margin_rate: Option<f64>,
    /// Annual revenue rate of demand: the simulated level instead of the baseline.
    pub demand_revenue: Option<f64>,
    /// Category shares of revenue, in the order of the population's `categories`
    /// (empty when the table has no mix columns).
    pub mix: Vec<f64>,
}

/// A partner population, stored by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// Name of the source table (used in error messages).
    pub table: String,
    /// Partner ids, in table order.
    pub partner_id: Vec<String>,
    /// Segment names, sorted (segment index → name).
    pub segments: Vec<String>,
    /// Segment index of each partner (into `segments`).
    pub segment: Vec<u32>,
    /// Prior-year annual revenue of each partner, if given.
    pub baseline_revenue: Vec<Option<f64>>,
    /// Prior-year annual units of each partner, if given.
    pub baseline_units: Vec<Option<f64>>,
    /// Prior-year revenue per programme month of each partner, if given (boxed: a pointer
    /// for a partner without them).
    pub baseline_revenue_months: Vec<Option<Box<[f64; 12]>>>,
    /// Prior-year units per programme month of each partner, if given.
    pub baseline_units_months: Vec<Option<Box<[f64; 12]>>>,
    /// Revenue per unit of each partner, if given.
    pub unit_price: Vec<Option<f64>>,
    /// Gross-margin rate of each partner, if given.
    pub margin_rate: Vec<Option<f64>>,
    /// Annual revenue rate of each partner's demand, if given: the level the engine
    /// simulates instead of the baseline (the rules keep the baseline).
    pub demand_revenue: Vec<Option<f64>>,
    /// Categories of the mix columns (table order), empty without mix columns.
    pub categories: Vec<String>,
    /// Category mix, row-major `len() × categories.len()` (empty without mix columns).
    pub mix: Vec<f64>,
}

/// Largest baseline (exclusive) of a partner table: 10^15, as in settlement's tables
/// ([`crate::money::MAX_MAGNITUDE`]). Keeps every simulated amount finite: a baseline of
/// 1e308 would make revenue, payout and ROI infinite or NaN.
pub const MAX_BASELINE: f64 = 1e15;

/// Smallest unit price: a millionth of a currency unit (prices divide revenue into units, so
/// a price of 1e-300 would make the units infinite).
pub const MIN_UNIT_PRICE: f64 = 1e-6;

fn finite_non_negative(table: &str, row: usize, col: &str, v: f64) -> Result<f64> {
    if !v.is_finite() || !(0.0..MAX_BASELINE).contains(&v) {
        return Err(Error::data(
            table,
            Some(row),
            Some(col),
            format!("expected a finite number ≥ 0 and below 10^15, found {v}"),
        ));
    }
    Ok(v)
}

/// A CSV cell as an exact number within the table limits ([`crate::money::check_bounds`], 6
/// decimals); `None` when empty.
fn exact_cell(
    table: &str,
    row: usize,
    col: &str,
    s: &str,
) -> Result<Option<rust_decimal::Decimal>> {
    use std::str::FromStr;
    if s.is_empty() {
        return Ok(None);
    }
    let bad = |m: String| Error::data(table, Some(row), Some(col), m);
    let d = rust_decimal::Decimal::from_str(s)
        .or_else(|_| rust_decimal::Decimal::from_scientific(s))
        .map_err(|_| bad(format!("expected a number, found \"{s}\"")))?;
    crate::money::check_bounds(d, Some(6)).map_err(bad)?;
    Ok(Some(d))
}

/// One row's baseline in `annual` (read as `given`) with its monthly columns `months`
/// (positions, if the table has them), reconciled exactly
/// ([`crate::monthly_baselines::reconcile`]): the annual baseline (as given, else the sum of
/// the months) and the months.
fn months_of<'c>(
    table: &str,
    row: usize,
    annual: &str,
    annual_col: Option<usize>,
    months: Option<[usize; 12]>,
    cell: &impl Fn(usize) -> &'c str,
    given: Option<f64>,
) -> Result<(Option<f64>, Option<[f64; 12]>)> {
    use crate::monthly_baselines::{column_name, reconcile, to_f64};
    use rust_decimal::prelude::ToPrimitive;
    let Some(months) = months else {
        return Ok((given, None));
    };
    let exact_annual = match annual_col {
        Some(c) => exact_cell(table, row, annual, cell(c))?,
        None => None,
    };
    let mut cells = [None; 12];
    for (j, &c) in months.iter().enumerate() {
        cells[j] = exact_cell(table, row, &column_name(annual, j + 1), cell(c))?;
    }
    let (sum, m) = reconcile(table, row, annual, exact_annual, cells)?;
    let annual_f64 = given.or_else(|| sum.and_then(|s| s.to_f64()));
    Ok((annual_f64, m.as_ref().map(to_f64)))
}

/// Whether `v` is a unit price the simulation can use: finite, from [`MIN_UNIT_PRICE`] to below
/// [`MAX_BASELINE`].
pub(crate) fn unit_price_ok(v: f64) -> bool {
    v.is_finite() && (MIN_UNIT_PRICE..MAX_BASELINE).contains(&v)
}

/// A record's baselines (finite, ≥ 0 and, when `bounded`, below [`MAX_BASELINE`]), unit price
/// and margin rate, in that order.
fn check_amounts(table: &str, row: usize, r: &PartnerRecord, bounded: bool) -> Result<()> {
    let baseline_ok = |col: &str, v: f64| -> Result<()> {
        if bounded || !v.is_finite() {
            finite_non_negative(table, row, col, v)?;
        }
        Ok(())
    };
    if let Some(v) = r.baseline_revenue {
        baseline_ok("baseline_revenue", v)?;
    }
    if let Some(v) = r.baseline_units {
        baseline_ok("baseline_units", v)?;
    }
    if let Some(v) = r.demand_revenue {
        baseline_ok("demand_revenue", v)?;
    }
    for (name, months) in [
        ("baseline_revenue", &r.baseline_revenue_months),
        ("baseline_units", &r.baseline_units_months),
    ] {
        for (j, &v) in months.iter().flatten().enumerate() {
            finite_non_negative(
                table,
                row,
                &crate::monthly_baselines::column_name(name, j + 1),
                v,
            )?;
        }
    }
    if let Some(v) = r.unit_price {
        if !unit_price_ok(v) {
            return Err(Error::data(
                table,
                Some(row),
                Some("unit_price"),
                format!("expected a price from 0.000001 to below 10^15, found {v}"),
            ));
        }
    }
    if let Some(v) = r.margin_rate {
        if !v.is_finite() || !(0.0..=1.0).contains(&v) {
            return Err(Error::data(
                table,
                Some(row),
                Some("margin_rate"),
                format!(
                    "expected a margin rate between 0 and 1 (a fraction of revenue), found {v}"
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `k` category shares summing to `sum` sum to 1: within a millionth per category, as
/// shares written to 6 decimals (rebatesim's own `partners_calibrated.csv`, a spreadsheet) do.
pub(crate) fn shares_sum_to_one(sum: f64, k: usize) -> bool {
    (sum - 1.0).abs() <= 1e-6 * k.max(1) as f64
}

/// A record's category mix: one finite share ≥ 0 per category, summing to 1 (within a
/// millionth per category, see [`shares_sum_to_one`]; the population keeps them divided by
/// their sum); none without categories.
fn check_mix(table: &str, row: usize, mix: &[f64], categories: &[String]) -> Result<()> {
    let k = categories.len();
    if k > 0 {
        if mix.len() != k {
            return Err(Error::data(
                table,
                Some(row),
                None,
                format!("expected {k} category shares, found {}", mix.len()),
            ));
        }
        let mut sum = 0.0;
        for (j, &s) in mix.iter().enumerate() {
            finite_non_negative(table, row, &format!("mix_{}", categories[j]), s)?;
            sum += s;
        }
        if !shares_sum_to_one(sum, k) {
            return Err(Error::data(
                table,
                Some(row),
                Some(&format!("mix_{}", categories[0])),
                format!("category shares must sum to 1, found {sum}"),
            ));
        }
    } else if !mix.is_empty() {
        return Err(Error::data(
            table,
            Some(row),
            None,
            "category shares given without category names",
        ));
    }
    Ok(())
}

impl Population {
    /// Number of partners.
    pub fn len(&self) -> usize {
        self.partner_id.len()
    }

    /// Whether the population is empty.
    pub fn is_empty(&self) -> bool {
        self.partner_id.is_empty()
    }

    /// Name of partner `i`'s segment.
    pub fn segment_name(&self, i: usize) -> &str {
        &self.segments[self.segment[i] as usize]
    }

    /// Category shares of partner `i` (empty without mix columns).
    pub fn mix_of(&self, i: usize) -> &[f64] {
        let k = self.categories.len();
        if k == 0 {
            &[]
        } else {
            &self.mix[i * k..(i + 1) * k]
        }
    }

    /// Build and validate a population from records. `categories` names the mix entries of
    /// every record (each record's `mix` must have that length, or be empty when there are no
    /// categories). `table` names the source in errors.
    pub fn from_records(
        records: Vec<PartnerRecord>,
        categories: Vec<String>,
        table: &str,
    ) -> Result<Population> {
        Population::build(records, categories, table, true)
    }

    /// [`Population::from_records`]; `bounded`: baselines below [`MAX_BASELINE`] (a table's
    /// rule; a synthetic population's draws are bounded by its spec instead).
    fn build(
        records: Vec<PartnerRecord>,
        categories: Vec<String>,
        table: &str,
        bounded: bool,
    ) -> Result<Population> {
        if records.is_empty() {
            return Err(Error::data(
                table,
                None,
                None,
                "the partner table has no rows",
            ));
        }
        // every row checked in row order (the first bad row is the one reported), then kept
        let mut seen = IdSet::with_capacity_and_hasher(records.len(), Default::default());
        for (i, r) in records.iter().enumerate() {
            let row = i + 1;
            check_identity(table, row, r, &mut seen)?;
            check_amounts(table, row, r, bounded)?;
            check_mix(table, row, &r.mix, &categories)?;
        }
        drop(seen);
        let mut pop = Population::empty_for(&records, categories, table);
        for r in records {
            pop.push(r);
        }
        Ok(pop)
    }

    /// A population with the sorted segments of `records` and room for their rows, no rows yet.
    fn empty_for(records: &[PartnerRecord], categories: Vec<String>, table: &str) -> Population {
        // the distinct segment names, sorted (a few names among many rows)
        let seg_names: Vec<String> = records
            .iter()
            .map(|r| r.segment.as_str())
            .collect::<std::collections::BTreeSet<&str>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let k = categories.len();
        Population {
            table: table.to_owned(),
            partner_id: Vec::with_capacity(records.len()),
            segments: seg_names,
            segment: Vec::with_capacity(records.len()),
            baseline_revenue: Vec::with_capacity(records.len()),
            baseline_units: Vec::with_capacity(records.len()),
            baseline_revenue_months: Vec::with_capacity(records.len()),
            baseline_units_months: Vec::with_capacity(records.len()),
            unit_price: Vec::with_capacity(records.len()),
            margin_rate: Vec::with_capacity(records.len()),
            demand_revenue: Vec::with_capacity(records.len()),
            categories,
            mix: Vec::with_capacity(records.len() * k),
        }
    }

    /// Append a checked record (its segment is one of `segments`; its mix has one share per
    /// category, or none without categories).
    fn push(&mut self, r: PartnerRecord) {
        // shares rounded in the table: divided by their sum, so that they sum to 1 here
        let sum: f64 = r.mix.iter().sum();
        if sum == 1.0 {
            self.mix.extend_from_slice(&r.mix);
        } else {
            self.mix.extend(r.mix.iter().map(|s| s / sum));
        }
        let seg = self
            .segments
            .binary_search(&r.segment)
            .expect("segment collected above") as u32;
        self.partner_id.push(r.partner_id);
        self.segment.push(seg);
        self.baseline_revenue.push(r.baseline_revenue);
        self.baseline_units.push(r.baseline_units);
        self.baseline_revenue_months
            .push(r.baseline_revenue_months.map(Box::new));
        self.baseline_units_months
            .push(r.baseline_units_months.map(Box::new));
        self.unit_price.push(r.unit_price);
        self.margin_rate.push(r.margin_rate);
        self.demand_revenue.push(r.demand_revenue);
    }

    /// Read a partner table from a CSV file (see the module documentation for its columns).
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Population> {
        let path = path.as_ref();
        crate::limits::check_regular_file(path, "a partner table (CSV file)")?;
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Population::from_csv_str(&text, &name)
    }

    /// Read a partner table from CSV text; `table` names it in errors.
    pub fn from_csv_str(text: &str, table: &str) -> Result<Population> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| Error::data(table, None, None, format!("cannot read the header: {e}")))?
            .clone();
        let find = |name: &str| headers.iter().position(|h| h == name);
        let id_col = find("partner_id").ok_or_else(|| {
            Error::data(table, None, Some("partner_id"), "missing required column")
        })?;
        let seg_col = find("segment")
            .ok_or_else(|| Error::data(table, None, Some("segment"), "missing required column"))?;
        let rev_col = find("baseline_revenue");
        let units_col = find("baseline_units");
        let rev_months = crate::monthly_baselines::month_columns(table, "baseline_revenue", find)?;
        let units_months = crate::monthly_baselines::month_columns(table, "baseline_units", find)?;
        if rev_col.is_none()
            && units_col.is_none()
            && rev_months.is_none()
            && units_months.is_none()
        {
            return Err(Error::data(
                table,
                None,
                Some("baseline_revenue"),
                "missing column: the table needs baseline_revenue and/or baseline_units (or their monthly columns)",
            ));
        }
        let price_col = find("unit_price");
        let margin_col = find("margin_rate");
        let demand_col = find("demand_revenue");
        let mut categories = Vec::new();
        let mut mix_cols = Vec::new();
        for (j, h) in headers.iter().enumerate() {
            if let Some(cat) = h.strip_prefix("mix_") {
                if cat.is_empty() {
                    return Err(Error::data(
                        table,
                        None,
                        Some(h),
                        "a mix column needs a category name after `mix_`",
                    ));
                }
                categories.push(cat.to_owned());
                mix_cols.push(j);
            }
        }
        let mut records = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 1;
            let rec = rec.map_err(|e| Error::data(table, Some(row), None, e.to_string()))?;
            let cell = |j: usize| rec.get(j).unwrap_or("");
            let num = |j: Option<usize>, name: &str| -> Result<Option<f64>> {
                match j {
                    None => Ok(None),
                    Some(j) => {
                        let s = cell(j);
                        if s.is_empty() {
                            Ok(None)
                        } else {
                            s.parse::<f64>().map(Some).map_err(|_| {
                                Error::data(
                                    table,
                                    Some(row),
                                    Some(name),
                                    format!("expected a number, found \"{s}\""),
                                )
                            })
                        }
                    }
                }
            };
            let mut mix = Vec::with_capacity(mix_cols.len());
            for (c, &j) in mix_cols.iter().enumerate() {
                let name = format!("mix_{}", categories[c]);
                mix.push(num(Some(j), &name)?.unwrap_or(0.0));
            }
            let (baseline_revenue, baseline_revenue_months) = months_of(
                table,
                row,
                "baseline_revenue",
                rev_col,
                rev_months,
                &cell,
                num(rev_col, "baseline_revenue")?,
            )?;
            let (baseline_units, baseline_units_months) = months_of(
                table,
                row,
                "baseline_units",
                units_col,
                units_months,
                &cell,
                num(units_col, "baseline_units")?,
            )?;
            records.push(PartnerRecord {
                partner_id: cell(id_col).to_owned(),
                segment: cell(seg_col).to_owned(),
                baseline_revenue,
                baseline_units,
                baseline_revenue_months,
                baseline_units_months,
                unit_price: num(price_col, "unit_price")?,
                margin_rate: num(margin_col, "margin_rate")?,
                demand_revenue: num(demand_col, "demand_revenue")?,
                mix,
            });
        }
        Population::from_records(records, categories, table)
    }

    /// A synthetic population (see [`SyntheticSpec`]), reproducible from `seed`.
    pub fn synthetic(spec: &SyntheticSpec, seed: u64) -> Result<Population> {
        spec.validate()?;
        let total: usize = spec.segments.values().map(|s| s.count).sum();
        let width = total.to_string().len().max(5);
        let mut records = Vec::with_capacity(total);
        let mut i = 0usize;
        for (name, s) in &spec.segments {
            for _ in 0..s.count {
                let mut r = rng::stream(seed, 0, i as u64, Purpose::Population);
                let z = if s.dispersion > 0.0 {
                    rng::normal(&mut r)
                } else {
                    0.0
                };
                let b = s.median_baseline * (s.dispersion * z).exp();
                let (rev, units) = match spec.basis {
                    SyntheticBasis::Revenue => (Some(b), None),
                    SyntheticBasis::Units => (None, Some(b)),
                };
                records.push(PartnerRecord {
                    partner_id: format!("P{:0width$}", i + 1),
                    segment: name.clone(),
                    baseline_revenue: rev,
                    baseline_units: units,
                    baseline_revenue_months: None,
                    baseline_units_months: None,
                    unit_price: s.unit_price,
                    margin_rate: s.margin_rate,
                    demand_revenue: None,
                    mix: Vec::new(),
                });
                i += 1;
            }
        }
        Population::build(records, Vec::new(), "synthetic population", false)
    }
}

/// What a synthetic baseline measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyntheticBasis {
    /// Baselines are annual revenue (the default).
    #[default]
    Revenue,
    /// Baselines are annual units.
    Units,
}

/// One synthetic segment: `count` partners whose baselines are lognormal around
/// `median_baseline`, `baseline = median · exp(dispersion · Z)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSegment {
    /// Number of partners.
    pub count: usize,
    /// Median annual baseline.
    pub median_baseline: f64,
    /// Log-scale dispersion σ (0 = every partner at the median).
    #[serde(default)]
    pub dispersion: f64,
    /// Unit price of the segment's partners.
    #[serde(default)]
    pub unit_price: Option<f64>,
    /// Gross-margin rate of the segment's partners.
    #[serde(default)]
    pub margin_rate: Option<f64>,
}

/// A synthetic population: segments by name (generated in name order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSpec {
    /// Whether baselines are revenue (default) or units.
    #[serde(default)]
    pub basis: SyntheticBasis,
    /// Segments by name.
    pub segments: BTreeMap<String, SyntheticSegment>,
}

impl SyntheticSpec {
    fn validate(&self) -> Result<()> {
        if self.segments.is_empty() {
            return Err(Error::model("segments", "expected at least one segment"));
        }
        let mut total = 0usize;
        for (name, s) in &self.segments {
            let p = |f: &str| format!("segments.{name}.{f}");
            if s.count == 0 {
                return Err(Error::model(p("count"), "expected at least one partner"));
            }
            total = total.saturating_add(s.count);
            if total > crate::limits::MAX_SYNTHETIC_PARTNERS {
                return Err(Error::model(
                    p("count"),
                    format!(
                        "a synthetic population holds at most {} partners, found {} with this segment",
                        crate::limits::MAX_SYNTHETIC_PARTNERS,
                        total
                    ),
                ));
            }
            // with dispersion ≤ 5 the largest draw (|Z| < 6.6) stays below 10^15 · e^33 ≈ 2e29:
            // finite however it is simulated
            if !s.median_baseline.is_finite()
                || s.median_baseline <= 0.0
                || s.median_baseline >= MAX_BASELINE
            {
                return Err(Error::model(
                    p("median_baseline"),
                    format!(
                        "expected a baseline > 0 and below 10^15, found {}",
                        s.median_baseline
                    ),
                ));
            }
            if !s.dispersion.is_finite() || s.dispersion < 0.0 || s.dispersion > 5.0 {
                return Err(Error::model(
                    p("dispersion"),
                    format!(
                        "expected a log-scale dispersion from 0 to 5, found {}",
                        s.dispersion
                    ),
                ));
            }
            if let Some(v) = s.unit_price {
                if !unit_price_ok(v) {
                    return Err(Error::model(
                        p("unit_price"),
                        format!("expected a price from 0.000001 to below 10^15, found {v}"),
                    ));
                }
            }
            if let Some(v) = s.margin_rate {
                if !v.is_finite() || !(0.0..=1.0).contains(&v) {
                    return Err(Error::model(
                        p("margin_rate"),
                        format!("expected a fraction from 0 to 1, found {v}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_with_mix() {
        let csv = "partner_id,segment,baseline_revenue,unit_price,mix_a,mix_b\nP1,small,1000,10,0.25,0.75\nP2,large,5000,,1,0\n";
        let p = Population::from_csv_str(csv, "partners.csv").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.segments, vec!["large", "small"]);
        assert_eq!(p.segment_name(0), "small");
        assert_eq!(p.unit_price, vec![Some(10.0), None]);
        assert_eq!(p.categories, vec!["a", "b"]);
        assert_eq!(p.mix_of(0), &[0.25, 0.75]);
    }

    #[test]
    fn shares_rounded_to_six_decimals_are_read_and_summed_to_one() {
        // as partners_calibrated.csv writes them: 0.245332 + 0.036747 + 0.476945 + 0.094746 + 0.146229 = 0.999999 (a
        // millionth short after rounding), accepted and divided by their sum
        let csv = "partner_id,segment,baseline_revenue,mix_a,mix_b,mix_c,mix_d,mix_e\nP1,s,1000,0.245332,0.036747,0.476945,0.094746,0.146229\n";
        let p = Population::from_csv_str(csv, "partners.csv").unwrap();
        let sum: f64 = p.mix_of(0).iter().sum();
        assert!((sum - 1.0).abs() < 1e-15, "{sum}");
        assert!((p.mix_of(0)[2] - 0.476945 / 0.999999).abs() < 1e-12);
        // a hundredth off is still refused, naming the row and the first share's column
        let e = Population::from_csv_str(
            "partner_id,segment,baseline_revenue,mix_a,mix_b\nP1,s,1,0.5,0.49\n",
            "t.csv",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("row 1, column 'mix_a': category shares must sum to 1"),
            "{e}"
        );
    }

    #[test]
    fn bad_rows_are_located() {
        let e = Population::from_csv_str(
            "partner_id,segment,baseline_revenue\nP1,s,10\nP2,s,abc\n",
            "t.csv",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "invalid data: t.csv, row 2, column 'baseline_revenue': expected a number, found \"abc\"");
        let e = Population::from_csv_str(
            "partner_id,segment,baseline_revenue\nP1,s,10\nP1,s,3\n",
            "t.csv",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("row 2, column 'partner_id': partner 'P1' appears twice"),
            "{e}"
        );
        let e = Population::from_csv_str("partner_id,segment\nP1,s\n", "t.csv").unwrap_err();
        assert!(e.to_string().contains("baseline_revenue"), "{e}");
        let e = Population::from_csv_str(
            "partner_id,segment,baseline_revenue,mix_a,mix_b\nP1,s,1,0.5,0.6\n",
            "t.csv",
        )
        .unwrap_err();
        assert!(e.to_string().contains("sum to 1"), "{e}");
        let e = Population::from_csv_str(
            "partner_id,segment,baseline_revenue,margin_rate\nP1,s,1,25\n",
            "t.csv",
        )
        .unwrap_err();
        assert!(e.to_string().contains("column 'margin_rate'"), "{e}");
        let e = Population::from_csv_str("partner_id,segment,baseline_revenue\nP1,s,-1\n", "t.csv")
            .unwrap_err();
        assert!(e.to_string().contains("≥ 0"), "{e}");
    }

    #[test]
    fn synthetic_is_reproducible() {
        let mut spec = SyntheticSpec::default();
        spec.segments.insert(
            "small".into(),
            SyntheticSegment {
                count: 500,
                median_baseline: 100_000.0,
                dispersion: 0.5,
                unit_price: None,
                margin_rate: Some(0.3),
            },
        );
        spec.segments.insert(
            "large".into(),
            SyntheticSegment {
                count: 10,
                median_baseline: 1e6,
                dispersion: 0.0,
                unit_price: None,
                margin_rate: None,
            },
        );
        let a = Population::synthetic(&spec, 9).unwrap();
        let b = Population::synthetic(&spec, 9).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 510);
        assert_eq!(a.baseline_revenue[0], Some(1e6));
        let mut small: Vec<f64> = a.baseline_revenue[10..]
            .iter()
            .map(|x| x.unwrap())
            .collect();
        small.sort_by(f64::total_cmp);
        let median = small[250];
        assert!((median / 100_000.0 - 1.0).abs() < 0.1, "median {median}");
        spec.segments.get_mut("small").unwrap().count = 0;
        assert!(matches!(
            Population::synthetic(&spec, 9),
            Err(Error::Model(_))
        ));
    }
}
