//! Bytes that carry a run's inputs and partial results between processes (scale-out over a
//! `concurrent.futures` executor or a Dask cluster, see `docs/scale-out.md`): a small
//! little-endian format with a magic tag and a version, read back with checks, so that a
//! truncated or foreign byte string is a clear [`Error::Request`], never a panic.
//!
//! - [`Writer`] / [`Reader`]: lengths as u64, `f64` as their IEEE bits (so every value,
//!   NaN payloads included, comes back bit for bit), strings as UTF-8;
//! - [`population_to_bytes`] / [`population_from_bytes`]: a [`Population`] exactly;
//! - [`transactions_to_bytes`] / [`prior_to_bytes`] and their readers: a forecast's actuals
//!   and prior accruals exactly (amounts as their exact decimals).

use crate::data::Transactions;
use crate::error::{Error, Result};
use crate::forecast::PriorAccruals;
use crate::population::Population;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// Tag of a population byte string (version 2: with the monthly baselines; 3: with
/// `demand_revenue`).
const POPULATION_TAG: &[u8; 8] = b"RSPOP\x00\x00\x03";

/// Appends values to a byte string.
#[derive(Debug, Default)]
pub struct Writer {
    /// The bytes written so far.
    pub bytes: Vec<u8>,
}

impl Writer {
    /// A writer starting with `tag`.
    pub fn new(tag: &[u8; 8]) -> Self {
        Writer {
            bytes: tag.to_vec(),
        }
    }
    /// A `u64`.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    /// A length or index.
    pub fn len(&mut self, v: usize) {
        self.u64(v as u64);
    }
    /// An `f64` as its bits.
    pub fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    /// An optional `f64`.
    pub fn opt_f64(&mut self, v: Option<f64>) {
        match v {
            Some(x) => {
                self.bytes.push(1);
                self.f64(x);
            }
            None => self.bytes.push(0),
        }
    }
    /// A text.
    pub fn str(&mut self, s: &str) {
        self.len(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }
    /// A list of texts.
    pub fn strs(&mut self, v: &[String]) {
        self.len(v.len());
        v.iter().for_each(|s| self.str(s));
    }
    /// A list of texts held end to end.
    pub fn keys(&mut self, v: &crate::data::Keys) {
        self.len(v.len());
        v.iter().for_each(|s| self.str(s));
    }
    /// A list of `f64`.
    pub fn f64s(&mut self, v: &[f64]) {
        self.len(v.len());
        v.iter().for_each(|&x| self.f64(x));
    }
    /// A list of optional `f64`.
    pub fn opt_f64s(&mut self, v: &[Option<f64>]) {
        self.len(v.len());
        v.iter().for_each(|&x| self.opt_f64(x));
    }
    /// A list of `u32`.
    pub fn u32s(&mut self, v: &[u32]) {
        self.len(v.len());
        v.iter()
            .for_each(|x| self.bytes.extend_from_slice(&x.to_le_bytes()));
    }
    /// A list of bytes.
    pub fn u8s(&mut self, v: &[u8]) {
        self.len(v.len());
        self.bytes.extend_from_slice(v);
    }
    /// A list of booleans.
    pub fn bools(&mut self, v: &[bool]) {
        self.len(v.len());
        self.bytes.extend(v.iter().map(|&b| b as u8));
    }
}

/// Reads values back in the order a [`Writer`] wrote them.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader of `bytes`, which must start with `tag`; `what` names them in errors.
    pub fn new(bytes: &'a [u8], tag: &[u8; 8], what: &'static str) -> Result<Self> {
        if bytes.len() < 8 || &bytes[..8] != tag {
            return Err(Error::Request(format!(
                "{what}: not a byte string written by this version of rebatesim (expected the tag {:?})",
                String::from_utf8_lossy(tag)
            )));
        }
        Ok(Reader {
            bytes,
            pos: 8,
            what,
        })
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(Error::Request(format!(
                "{}: truncated at byte {} of {} (expected {n} more bytes)",
                self.what,
                self.pos,
                self.bytes.len()
            ))),
        }
    }
    /// A byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    /// A `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    /// A length, refused when it could not fit in the rest of the bytes (`unit` bytes each).
    pub fn len(&mut self, unit: usize) -> Result<usize> {
        let v = self.u64()?;
        let rest = (self.bytes.len() - self.pos) as u64;
        if v.saturating_mul(unit.max(1) as u64) > rest {
            return Err(Error::Request(format!(
                "{}: a length of {v} at byte {} is more than the {rest} bytes left",
                self.what,
                self.pos - 8
            )));
        }
        Ok(v as usize)
    }
    /// An `f64`.
    pub fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    /// An optional `f64`.
    pub fn opt_f64(&mut self) -> Result<Option<f64>> {
        match self.take(1)?[0] {
            0 => Ok(None),
            1 => Ok(Some(self.f64()?)),
            b => Err(Error::Request(format!(
                "{}: expected 0 or 1 at byte {}, found {b}",
                self.what,
                self.pos - 1
            ))),
        }
    }
    /// A text.
    pub fn str(&mut self) -> Result<String> {
        let n = self.len(1)?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| {
            Error::Request(format!(
                "{}: a text before byte {} is not UTF-8",
                self.what, self.pos
            ))
        })
    }
    /// A list of texts.
    pub fn strs(&mut self) -> Result<Vec<String>> {
        let n = self.len(8)?;
        (0..n).map(|_| self.str()).collect()
    }
    /// A list of `f64`.
    pub fn f64s(&mut self) -> Result<Vec<f64>> {
        let n = self.len(8)?;
        (0..n).map(|_| self.f64()).collect()
    }
    /// A list of optional `f64`.
    pub fn opt_f64s(&mut self) -> Result<Vec<Option<f64>>> {
        let n = self.len(1)?;
        (0..n).map(|_| self.opt_f64()).collect()
    }
    /// A list of `u32`.
    pub fn u32s(&mut self) -> Result<Vec<u32>> {
        let n = self.len(4)?;
        let b = self.take(4 * n)?;
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }
    /// A list of bytes.
    pub fn u8s(&mut self) -> Result<Vec<u8>> {
        let n = self.len(1)?;
        Ok(self.take(n)?.to_vec())
    }
    /// A list of booleans.
    pub fn bools(&mut self) -> Result<Vec<bool>> {
        Ok(self.u8s()?.into_iter().map(|b| b != 0).collect())
    }
    /// Refuse bytes left over after the last value.
    pub fn finish(self) -> Result<()> {
        if self.pos != self.bytes.len() {
            return Err(Error::Request(format!(
                "{}: {} unexpected bytes after the end",
                self.what,
                self.bytes.len() - self.pos
            )));
        }
        Ok(())
    }
}

/// A population as bytes ([`population_from_bytes`] gives it back exactly).
pub fn population_to_bytes(p: &Population) -> Vec<u8> {
    let mut w = Writer::new(POPULATION_TAG);
    w.str(&p.table);
    w.strs(&p.partner_id);
    w.strs(&p.segments);
    w.u32s(&p.segment);
    w.opt_f64s(&p.baseline_revenue);
    w.opt_f64s(&p.baseline_units);
    w.opt_f64s(&p.unit_price);
    w.opt_f64s(&p.margin_rate);
    w.strs(&p.categories);
    w.f64s(&p.mix);
    months_to(&mut w, &p.baseline_revenue_months);
    months_to(&mut w, &p.baseline_units_months);
    w.opt_f64s(&p.demand_revenue);
    w.bytes
}

/// Monthly baselines: a 0/1 flag per partner, then the twelve months of the flagged ones.
fn months_to(w: &mut Writer, v: &[Option<Box<[f64; 12]>>]) {
    w.u8s(&v.iter().map(|m| m.is_some() as u8).collect::<Vec<_>>());
    w.f64s(
        &v.iter()
            .flatten()
            .flat_map(|m| m.iter())
            .copied()
            .collect::<Vec<_>>(),
    );
}

/// The monthly baselines [`months_to`] wrote.
fn months_from(r: &mut Reader<'_>, what: &str) -> Result<Vec<Option<Box<[f64; 12]>>>> {
    let flags = r.u8s()?;
    let values = r.f64s()?;
    if values.len() != 12 * flags.iter().filter(|&&f| f == 1).count()
        || flags.iter().any(|&f| f > 1)
    {
        return Err(Error::Request(format!(
            "{what}: the monthly baselines disagree with their flags"
        )));
    }
    let mut months = values.chunks_exact(12);
    Ok(flags
        .iter()
        .map(|&f| {
            (f == 1).then(|| {
                Box::new(
                    months
                        .next()
                        .expect("counted")
                        .try_into()
                        .expect("12 values"),
                )
            })
        })
        .collect())
}

/// The population [`population_to_bytes`] wrote; [`Error::Request`] for bytes it did not
/// write (or whose columns disagree in length).
pub fn population_from_bytes(bytes: &[u8]) -> Result<Population> {
    let what = "population bytes";
    let mut r = Reader::new(bytes, POPULATION_TAG, what)?;
    let p = Population {
        table: r.str()?,
        partner_id: r.strs()?,
        segments: r.strs()?,
        segment: r.u32s()?,
        baseline_revenue: r.opt_f64s()?,
        baseline_units: r.opt_f64s()?,
        unit_price: r.opt_f64s()?,
        margin_rate: r.opt_f64s()?,
        categories: r.strs()?,
        mix: r.f64s()?,
        baseline_revenue_months: Vec::new(),
        baseline_units_months: Vec::new(),
        demand_revenue: Vec::new(),
    };
    let mut p = p;
    p.baseline_revenue_months = months_from(&mut r, what)?;
    p.baseline_units_months = months_from(&mut r, what)?;
    p.demand_revenue = r.opt_f64s()?;
    r.finish()?;
    let n = p.partner_id.len();
    let lens = [
        p.segment.len(),
        p.baseline_revenue.len(),
        p.baseline_units.len(),
        p.unit_price.len(),
        p.margin_rate.len(),
        p.demand_revenue.len(),
        p.baseline_revenue_months.len(),
        p.baseline_units_months.len(),
    ];
    if lens.iter().any(|&l| l != n)
        || p.mix.len() != n * p.categories.len()
        || p.segment.iter().any(|&g| g as usize >= p.segments.len())
    {
        return Err(Error::Request(format!(
            "{what}: the columns disagree (partners {n}, other columns {lens:?}, mix {})",
            p.mix.len()
        )));
    }
    Ok(p)
}

/// Tag of a transaction table's byte string.
const TRANSACTIONS_TAG: &[u8; 8] = b"RSTXN\x00\x00\x01";
/// Tag of a prior-accruals table's byte string.
const PRIOR_TAG: &[u8; 8] = b"RSPRIOR\x01";

fn decimals(w: &mut Writer, v: &[Decimal]) {
    w.len(v.len());
    v.iter()
        .for_each(|d| w.bytes.extend_from_slice(&d.serialize()));
}

fn read_decimals(r: &mut Reader<'_>) -> Result<Vec<Decimal>> {
    let n = r.len(16)?;
    let b = r.take(16 * n)?;
    Ok(b.chunks_exact(16)
        .map(|c| Decimal::deserialize(c.try_into().expect("16 bytes")))
        .collect())
}

/// An optional column of optional key indices: a presence byte, then per row a presence
/// byte and the index.
fn opt_keys(w: &mut Writer, v: &Option<Vec<Option<u32>>>) {
    match v {
        None => w.bytes.push(0),
        Some(rows) => {
            w.bytes.push(1);
            w.bools(&rows.iter().map(Option::is_some).collect::<Vec<_>>());
            w.u32s(&rows.iter().map(|k| k.unwrap_or(0)).collect::<Vec<_>>());
        }
    }
}

fn read_opt_keys(r: &mut Reader<'_>) -> Result<Option<Vec<Option<u32>>>> {
    if r.u8()? == 0 {
        return Ok(None);
    }
    let present = r.bools()?;
    let keys = r.u32s()?;
    if present.len() != keys.len() {
        return Err(Error::Request(format!(
            "{}: a key column disagrees in length",
            r.what
        )));
    }
    Ok(Some(
        present
            .into_iter()
            .zip(keys)
            .map(|(p, k)| p.then_some(k))
            .collect(),
    ))
}

/// A transaction table as bytes ([`transactions_from_bytes`] gives it back exactly: every
/// amount as its exact decimal).
pub fn transactions_to_bytes(t: &Transactions) -> Vec<u8> {
    let mut w = Writer::new(TRANSACTIONS_TAG);
    w.str(&t.table);
    w.strs(&t.partner_keys);
    w.u32s(&t.partner_key);
    w.len(t.date.len());
    t.date
        .iter()
        .for_each(|d| w.u64(d.num_days_from_ce() as i64 as u64));
    decimals(&mut w, &t.quantity);
    decimals(&mut w, &t.revenue);
    w.strs(&t.category_keys);
    opt_keys(&mut w, &t.category);
    w.keys(&t.order_keys);
    opt_keys(&mut w, &t.order);
    w.bytes
}

/// The transaction table [`transactions_to_bytes`] wrote; [`Error::Request`] for other bytes.
pub fn transactions_from_bytes(bytes: &[u8]) -> Result<Transactions> {
    let what = "transaction bytes";
    let mut r = Reader::new(bytes, TRANSACTIONS_TAG, what)?;
    let table = r.str()?;
    let partner_keys = r.strs()?;
    let partner_key = r.u32s()?;
    let n = r.len(8)?;
    let date = (0..n)
        .map(|_| {
            let days = r.u64()? as i64;
            i32::try_from(days)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .ok_or_else(|| Error::Request(format!("{what}: a date out of range")))
        })
        .collect::<Result<Vec<_>>>()?;
    let t = Transactions {
        table,
        partner_keys,
        partner_key,
        date,
        quantity: read_decimals(&mut r)?,
        revenue: read_decimals(&mut r)?,
        category_keys: r.strs()?,
        category: read_opt_keys(&mut r)?,
        order_keys: r.strs()?.iter().collect(),
        order: read_opt_keys(&mut r)?,
    };
    r.finish()?;
    let rows = t.partner_key.len();
    let keys_ok = |v: &Option<Vec<Option<u32>>>, keys: usize| {
        v.as_ref()
            .is_none_or(|v| v.len() == rows && v.iter().flatten().all(|&k| (k as usize) < keys))
    };
    if t.date.len() != rows
        || t.quantity.len() != rows
        || t.revenue.len() != rows
        || t.partner_key
            .iter()
            .any(|&k| k as usize >= t.partner_keys.len())
        || !keys_ok(&t.category, t.category_keys.len())
        || !keys_ok(&t.order, t.order_keys.len())
    {
        return Err(Error::Request(format!("{what}: the columns disagree")));
    }
    Ok(t)
}

/// Prior accruals as bytes ([`prior_from_bytes`] gives them back exactly).
pub fn prior_to_bytes(p: &PriorAccruals) -> Vec<u8> {
    let mut w = Writer::new(PRIOR_TAG);
    w.str(&p.table);
    w.strs(&p.partner_id);
    w.strs(&p.component);
    decimals(&mut w, &p.amount);
    w.bytes
}

/// The prior accruals [`prior_to_bytes`] wrote; [`Error::Request`] for other bytes.
pub fn prior_from_bytes(bytes: &[u8]) -> Result<PriorAccruals> {
    let mut r = Reader::new(bytes, PRIOR_TAG, "prior accrual bytes")?;
    let p = PriorAccruals {
        table: r.str()?,
        partner_id: r.strs()?,
        component: r.strs()?,
        amount: read_decimals(&mut r)?,
    };
    r.finish()?;
    if p.component.len() != p.partner_id.len() || p.amount.len() != p.partner_id.len() {
        return Err(Error::Request(
            "prior accrual bytes: the columns disagree".into(),
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_round_trips_and_bad_bytes_are_errors() {
        let text = "partner_id,segment,baseline_revenue,margin_rate,demand_revenue\nA,small,100.5,0.3,250.25\nB,big,,0.25,\n";
        let p = Population::from_csv_str(text, "partners").unwrap();
        assert_eq!(p.demand_revenue, vec![Some(250.25), None]);
        let b = population_to_bytes(&p);
        assert_eq!(population_from_bytes(&b).unwrap(), p);
        // version 2 bytes (before demand_revenue) are refused by their tag, not misread
        let mut old = b.clone();
        old[7] = 2;
        assert!(matches!(
            population_from_bytes(&old),
            Err(Error::Request(_))
        ));
        for cut in [0, 5, 9, b.len() - 1] {
            let e = population_from_bytes(&b[..cut]).unwrap_err();
            assert!(matches!(e, Error::Request(_)), "{e}");
        }
        let mut extra = b.clone();
        extra.push(0);
        assert!(population_from_bytes(&extra)
            .unwrap_err()
            .to_string()
            .contains("unexpected bytes"));
    }

    #[test]
    fn transactions_and_prior_accruals_round_trip_exactly() {
        let text = "partner_id,date,quantity,revenue,category,order_id\nA,2027-01-10,3,1000.005,cable,O1\nB,2027-02-28,-1,-0.01,,\nA,2027-03-01,2.5,1234567890.123456,tools,O2\n";
        let t = Transactions::from_csv_str(text, "actuals").unwrap();
        let b = transactions_to_bytes(&t);
        let back = transactions_from_bytes(&b).unwrap();
        assert_eq!(transactions_to_bytes(&back), b);
        assert_eq!(back.revenue, t.revenue);
        assert_eq!(back.revenue[2].to_string(), "1234567890.123456");
        assert_eq!(
            (back.date.clone(), back.category.clone(), back.order.clone()),
            (t.date.clone(), t.category.clone(), t.order.clone())
        );
        for cut in [3, 20, b.len() - 1] {
            assert!(matches!(
                transactions_from_bytes(&b[..cut]),
                Err(Error::Request(_))
            ));
        }
        let p = PriorAccruals::from_csv_str("partner_id,component,amount\nA,vol,12.345\n", "prior")
            .unwrap();
        let pb = prior_to_bytes(&p);
        let pback = prior_from_bytes(&pb).unwrap();
        assert_eq!(
            (pback.partner_id, pback.component, pback.amount),
            (p.partner_id, p.component, p.amount)
        );
        assert!(
            prior_from_bytes(&b).is_err(),
            "the tag tells a table from another"
        );
    }
}
