//! A settlement's CSV files written straight from its columns, a partner at a time: the
//! lines (with their explanations), the partner totals and the standings, in the form every
//! file of the package takes (`python/rebatesim/_format.py`): `\n` line ends, money at the
//! currency's scale, a text cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return
//! prefixed with `'` (never a formula in a spreadsheet), a field quoted when it holds a comma,
//! a quote or a line end. Files are written to a temporary sibling and renamed into place.

use super::result::{Line, Settlement, LINE_COLUMNS};
use crate::error::{Error, Result};
use rust_decimal::Decimal;
use std::io::Write;
use std::path::Path;

impl Settlement {
    /// Write the lines as CSV (header and one row per line, with its explanation) to `out`.
    pub fn write_lines_csv(&self, out: &mut dyn Write) -> Result<()> {
        let dp = self.decimals;
        let mut row = Row::default();
        for h in LINE_COLUMNS {
            row.text(h);
        }
        row.end(out)?;
        self.for_each_line(0..self.partners.len(), |_, l| {
            line_row(&mut row, &l, dp);
            row.end(out)
        })
    }

    /// The lines as CSV text (see [`Settlement::write_lines_csv`]).
    pub fn lines_csv(&self) -> Result<String> {
        let mut buf = Vec::new();
        self.write_lines_csv(&mut buf)?;
        Ok(String::from_utf8(buf).expect("CSV of UTF-8 fields"))
    }

    /// Write the lines as CSV to `path`, atomically (a temporary sibling renamed into place:
    /// on an error nothing is left at `path`).
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), |w| self.write_lines_csv(w))
    }

    /// The partner totals as CSV text: `partner_id`, `segment`, `calculated`, the
    /// adjustments, `payable`.
    pub fn partners_csv(&self) -> String {
        let dp = self.decimals;
        let mut out = Vec::new();
        let mut row = Row::default();
        for h in [
            "partner_id",
            "segment",
            "calculated",
            "adj_component_cap",
            "adj_exclusive_group",
            "adj_partner_cap",
            "adj_minimum_payout",
            "adj_budget_cut",
            "payable",
        ] {
            row.text(h);
        }
        let _ = row.end(&mut out);
        for p in &self.partners {
            row.text(&p.partner_id);
            row.text(&p.segment);
            for a in p.totals.amounts() {
                row.raw(&money_cell(a, dp));
            }
            let _ = row.end(&mut out);
        }
        String::from_utf8(out).expect("CSV of UTF-8 fields")
    }

    /// The standings as CSV text.
    pub fn standings_csv(&self) -> String {
        let dp = self.decimals;
        let mut out = Vec::new();
        let mut row = Row::default();
        for h in [
            "partner_id",
            "component",
            "period",
            "period_label",
            "tier",
            "volume",
            "next_tier",
            "next_threshold",
            "shortfall",
            "additional_payout",
        ] {
            row.text(h);
        }
        let _ = row.end(&mut out);
        for s in &self.standing {
            row.text(&s.partner_id);
            row.text(&s.component);
            row.raw(&s.period.to_string());
            row.text(&s.period_label);
            row.raw(&s.tier.to_string());
            row.raw(&number_cell(s.volume));
            row.raw(&s.next_tier.map(|t| t.to_string()).unwrap_or_default());
            row.raw(&s.next_threshold.map(number_cell).unwrap_or_default());
            row.raw(&s.shortfall.map(number_cell).unwrap_or_default());
            row.raw(
                &s.additional_payout
                    .map(|v| money_cell(v, dp))
                    .unwrap_or_default(),
            );
            let _ = row.end(&mut out);
        }
        String::from_utf8(out).expect("CSV of UTF-8 fields")
    }
}

/// The cells of one line, in [`LINE_COLUMNS`] order.
fn line_row(row: &mut Row, l: &Line, dp: u32) {
    row.text(&l.partner_id);
    row.text(&l.segment);
    row.text(&l.component);
    row.text(&l.kind);
    row.raw(&l.period.to_string());
    row.text(&l.period_label);
    row.raw(&l.period_start.to_string());
    row.raw(&l.period_end.to_string());
    row.text(&l.basis);
    row.raw(&l.volume_period.to_string());
    row.raw(&l.volume_to_date.to_string());
    row.raw(&l.tier.to_string());
    row.raw(&l.tier_threshold.map(|t| t.to_string()).unwrap_or_default());
    row.text(&l.reward);
    for a in [
        l.calculated,
        l.adj_component_cap,
        l.adj_exclusive_group,
        l.adj_partner_cap,
        l.adj_minimum_payout,
        l.adj_budget_cut,
        l.payable,
    ] {
        row.raw(&line_money_cell(a, dp));
    }
    row.raw(&l.payment_date.to_string());
    row.text(&l.explanation);
}

/// One CSV row being written.
#[derive(Default)]
struct Row {
    buf: Vec<u8>,
    fields: usize,
}

impl Row {
    /// A text cell: neutralised against spreadsheet formulas, quoted when needed.
    fn text(&mut self, s: &str) {
        let neutral = s.len() > 1 && s.starts_with(['=', '+', '-', '@', '\t', '\r']);
        if neutral {
            self.field(&format!("'{s}"));
        } else {
            self.field(s);
        }
    }

    /// A number or date cell, as it is (quoted when needed).
    fn raw(&mut self, s: &str) {
        self.field(s);
    }

    fn field(&mut self, s: &str) {
        if self.fields > 0 {
            self.buf.push(b',');
        }
        self.fields += 1;
        if s.contains([',', '"', '\r', '\n']) {
            self.buf.push(b'"');
            self.buf
                .extend_from_slice(s.replace('"', "\"\"").as_bytes());
            self.buf.push(b'"');
        } else {
            self.buf.extend_from_slice(s.as_bytes());
        }
    }

    /// End the row: write it to `out` and start the next.
    fn end(&mut self, out: &mut dyn Write) -> Result<()> {
        if self.fields == 1 && self.buf.is_empty() {
            self.buf.extend_from_slice(b"\"\"");
        }
        self.buf.push(b'\n');
        let r = out.write_all(&self.buf);
        self.buf.clear();
        self.fields = 0;
        r.map_err(|e| Error::Request(format!("cannot write CSV: {e}")))
    }
}

/// A money amount of a line as written (at the currency's scale: the line's amounts are; an
/// amount at another scale is padded as text, as `_format.rewrite_csv` does).
fn line_money_cell(v: Decimal, dp: u32) -> String {
    let s = v.to_string();
    if v.scale() == dp {
        return s;
    }
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s.as_str()),
    };
    let (whole, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let dpu = dp as usize;
    let mut frac = frac.to_owned();
    if frac.len() > dpu {
        if frac[dpu..].trim_matches('0').is_empty() {
            frac.truncate(dpu);
        } else {
            return s; // finer than the minor unit: kept exact
        }
    }
    let sign = if whole.trim_matches('0').is_empty() && frac.trim_matches('0').is_empty() {
        ""
    } else {
        sign
    };
    while frac.len() < dpu {
        frac.push('0');
    }
    if dp == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac}")
    }
}

/// Money at the currency's scale (`_format.money_decimal`): padded, or extra trailing zeros
/// dropped; finer than the minor unit and not zero there, kept exact; no negative zero.
fn money_cell(v: Decimal, dp: u32) -> String {
    let mut q = v;
    if v.scale() <= dp || v.round_dp(dp) == v {
        q.rescale(dp);
    }
    number_cell(q)
}

/// An exact number in positional notation, without a negative zero.
fn number_cell(v: Decimal) -> String {
    let mut v = v;
    if v.is_zero() {
        v.set_sign_positive(true);
    }
    v.to_string()
}

/// Write a file through `write`, atomically: into a temporary sibling (`.NAME.partial`)
/// that is renamed to `path` once complete, and removed on any error.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>,
) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    let result = (|| {
        let f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        write(&mut w)?;
        let f = w
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
