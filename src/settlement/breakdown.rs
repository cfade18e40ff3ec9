//! A settlement's totals per component and per segment, computed from its columns (the
//! command line's summary and the notebook display read them, never a money cell at a time).

use super::columns::PAYABLE;
use super::result::Settlement;
use super::text::kind_name;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A component's totals over a settlement.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentTotal {
    /// Component id.
    pub component: String,
    /// Its kind (`volume`, `growth`, ...).
    pub kind: String,
    /// Partners whose payable of the component over the programme is positive.
    pub partners_paid: usize,
    /// Sum of `calculated`.
    pub calculated: Decimal,
    /// Sum of `payable`.
    pub payable: Decimal,
}

/// A segment's totals over a settlement.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentTotal {
    /// Segment (empty when the partner table has none).
    pub segment: String,
    /// Partners in the segment.
    pub partners: usize,
    /// Of them, those with a positive total payable.
    pub paid: usize,
    /// Sum of their payable.
    pub payable: Decimal,
}

impl Settlement {
    /// Totals per component that has lines, sorted by component id.
    pub fn by_component(&self) -> Vec<ComponentTotal> {
        let prep = &self.sources.prep;
        let n = prep.components.len();
        let mut calculated = vec![Decimal::ZERO; n];
        let mut payable = vec![Decimal::ZERO; n];
        let mut has_lines = vec![false; n];
        let mut paid = vec![0usize; n];
        for &(a, b) in &self.line_range {
            let mut partner = vec![Decimal::ZERO; n];
            for i in a..b {
                let c = self.lines.component[i] as usize;
                let am = self.lines.amounts.get(i);
                has_lines[c] = true;
                calculated[c] += am[0];
                payable[c] += am[PAYABLE];
                partner[c] += am[PAYABLE];
            }
            for (c, v) in partner.iter().enumerate() {
                if *v > Decimal::ZERO {
                    paid[c] += 1;
                }
            }
        }
        let mut out: Vec<ComponentTotal> = (0..n)
            .filter(|&c| has_lines[c])
            .map(|c| ComponentTotal {
                component: prep.components[c].id.clone(),
                kind: kind_name(&prep.components[c].rule).to_owned(),
                partners_paid: paid[c],
                calculated: calculated[c],
                payable: payable[c],
            })
            .collect();
        out.sort_by(|x, y| x.component.cmp(&y.component));
        out
    }

    /// Totals per segment, sorted by segment.
    pub fn by_segment(&self) -> Vec<SegmentTotal> {
        let mut groups: BTreeMap<&str, SegmentTotal> = BTreeMap::new();
        for p in &self.partners {
            let g = groups
                .entry(p.segment.as_str())
                .or_insert_with(|| SegmentTotal {
                    segment: p.segment.clone(),
                    partners: 0,
                    paid: 0,
                    payable: Decimal::ZERO,
                });
            g.partners += 1;
            g.paid += usize::from(p.totals.payable > Decimal::ZERO);
            g.payable += p.totals.payable;
        }
        groups.into_values().collect()
    }
}
