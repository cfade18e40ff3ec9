//! The size rule of every chart: the pixel range a chart may be drawn at, checked when a
//! chart is made with a size ([`AnyChart::with_size`]) and again when it is rendered at a
//! scale ([`checked_size`]).

use std::ops::RangeInclusive;

use super::{AnyChart, Chart};
use crate::error::{Error, Result};

/// Widths a chart may have, in pixels (SVG user units; PNG pixels at scale 1).
pub const WIDTHS: RangeInclusive<u32> = 320..=4000;
/// Heights a chart may have, in pixels.
pub const HEIGHTS: RangeInclusive<u32> = 200..=4000;

/// The chart size rule: a width in [`WIDTHS`] and a height in [`HEIGHTS`] (`Error::Request`
/// saying so otherwise). Rendering checks it; a caller that takes a size from a user (the
/// Python binding, through [`AnyChart::with_size`]) checks it up front with this same rule.
pub fn check_size(size: (u32, u32)) -> Result<()> {
    let (w, h) = size;
    if !WIDTHS.contains(&w) || !HEIGHTS.contains(&h) {
        return Err(Error::Request(format!(
            "chart size {w}×{h} is out of range: width must be {}–{} and height {}–{} pixels",
            WIDTHS.start(),
            WIDTHS.end(),
            HEIGHTS.start(),
            HEIGHTS.end()
        )));
    }
    Ok(())
}

/// The pixel size of a chart of nominal `size` drawn at `scale` (the nominal size checked).
pub(crate) fn checked_size(size: (u32, u32), scale: f64) -> Result<(u32, u32)> {
    check_size(size)?;
    let (w, h) = size;
    Ok((
        (w as f64 * scale).round() as u32,
        (h as f64 * scale).round() as u32,
    ))
}

impl AnyChart {
    /// The chart at `size`, validated: its data ([`Chart::validate`]) and the size
    /// ([`check_size`]), so that a bad chart is refused when it is made rather than when it is
    /// first drawn.
    pub fn with_size(mut self, size: (u32, u32)) -> Result<AnyChart> {
        // the data first, then the size: the order the binding has always reported them in
        self.validate()?;
        self.set_size(size)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::PayoutDistribution;

    fn chart() -> AnyChart {
        PayoutDistribution::new("Payout", "EUR", vec![1.0, 2.0, 3.0]).into()
    }

    #[test]
    fn sizes_inside_the_range_are_kept() {
        for size in [(320, 200), (960, 540), (4000, 4000)] {
            assert_eq!(chart().with_size(size).unwrap().size(), size);
        }
        assert_eq!(checked_size((960, 540), 2.0).unwrap(), (1920, 1080));
        assert_eq!(checked_size((321, 201), 1.5).unwrap(), (482, 302));
    }

    #[test]
    fn sizes_outside_are_refused_with_the_range() {
        for size in [(319, 540), (960, 199), (4001, 540), (960, 4001), (0, 0)] {
            let e = chart().with_size(size).unwrap_err().to_string();
            assert!(
                e.contains(&format!(
                    "chart size {}×{} is out of range: width must be 320–4000 and height 200–4000 pixels",
                    size.0, size.1
                )),
                "{e}"
            );
            assert!(checked_size(size, 1.0).is_err());
        }
    }

    #[test]
    fn the_data_is_validated_first() {
        let empty: AnyChart = PayoutDistribution::new("Payout", "EUR", vec![]).into();
        // an empty distribution is refused whatever the size (as before the size check)
        assert!(empty.clone().with_size((10, 10)).is_err());
    }
}
