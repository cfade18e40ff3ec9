//! Number formatting for chart labels: thousands separators, abbreviated
//! money (`350k`, `1.2M`, `3.4bn`), percentages, and simple statistics.

/// `1234567.891` with `decimals = 0` → `"1,234,568"`; negative values get a
/// leading typographic minus sign (U+2212, as wide as a digit, the sign the
/// tornado labels use too). Non-finite values print as `"n/a"`.
pub fn thousands(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match s.find('.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (&s[..], ""),
    };
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    let negative = value < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative {
        out.push('\u{2212}');
    }
    let bytes = int.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && (bytes.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(*b as char);
    }
    out.push_str(frac);
    out
}

/// A money amount written in full for legends and annotations: whole units
/// with thousands separators for amounts of 1,000 or more, cents below.
pub fn money_full(value: f64) -> String {
    if value.abs() >= 1000.0 {
        thousands(value, 0)
    } else {
        thousands(value, 2)
    }
}

/// The unit used to abbreviate amounts of the size of `magnitude`.
fn unit_for(magnitude: f64) -> (f64, &'static str) {
    let m = magnitude.abs();
    if m >= 1e9 {
        (1e9, "bn")
    } else if m >= 1e6 {
        (1e6, "M")
    } else if m >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}

/// Abbreviates one amount with about three significant digits: `1234567` →
/// `"1.23M"`, `350000` → `"350k"`, `12.5` → `"12.5"`.
pub fn money_short(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let (div, suffix) = unit_for(value);
    let v = value / div;
    let decimals = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    let mut s = thousands(v, decimals);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    format!("{s}{suffix}")
}

/// Formats the tick labels of one axis consistently: one unit for the whole
/// axis (chosen from the largest magnitude on it) and as many decimals as the
/// tick spacing needs.
#[derive(Debug, Clone, Copy)]
pub struct AxisFormat {
    div: f64,
    suffix: &'static str,
    decimals: usize,
    percent: bool,
}

impl AxisFormat {
    /// Abbreviated amounts for an axis spanning `lo..hi` with about `ticks` labels.
    pub fn money(lo: f64, hi: f64, ticks: usize) -> Self {
        let (div, suffix) = unit_for(lo.abs().max(hi.abs()));
        let step = tick_step(lo, hi, ticks) / div;
        AxisFormat {
            div,
            suffix,
            decimals: decimals_for(step),
            percent: false,
        }
    }

    /// Plain counts (partners) with thousands separators.
    pub fn count(lo: f64, hi: f64, ticks: usize) -> Self {
        let step = tick_step(lo, hi, ticks);
        AxisFormat {
            div: 1.0,
            suffix: "",
            decimals: decimals_for(step),
            percent: false,
        }
    }

    /// Fractions shown as percentages (0.35 → `35%`).
    pub fn percent(lo: f64, hi: f64, ticks: usize) -> Self {
        let step = tick_step(lo, hi, ticks) * 100.0;
        AxisFormat {
            div: 0.01,
            suffix: "%",
            decimals: decimals_for(step),
            percent: true,
        }
    }

    /// The label of one tick value.
    pub fn label(&self, value: f64) -> String {
        let v = value / self.div;
        // Avoid "-0" from rounding noise.
        if v.abs() < 0.5 * 10f64.powi(-(self.decimals as i32)) {
            return if self.percent {
                "0%".to_string()
            } else {
                "0".to_string()
            };
        }
        let s = thousands(v, self.decimals);
        if self.percent {
            format!("{s}%")
        } else {
            format!("{s}{}", self.suffix)
        }
    }
}

fn decimals_for(step: f64) -> usize {
    if !(step.is_finite()) || step <= 0.0 || step >= 1.0 {
        0
    } else {
        ((-step.log10()).ceil() as i64).clamp(0, 6) as usize
    }
}

/// The "nice" number (1, 2 or 5 × 10^k) at or above `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite()) || raw <= 0.0 {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    let f = raw / base;
    let nice = if f <= 1.0 + 1e-9 {
        1.0
    } else if f <= 2.0 + 1e-9 {
        2.0
    } else if f <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * base
}

/// The tick spacing plotters uses for an `f64` axis over `lo..hi` with at most
/// `max_points` labels: the smallest of 1, 2, 5 × 10^k giving no more labels.
pub fn tick_step(lo: f64, hi: f64, max_points: usize) -> f64 {
    let span = hi - lo;
    if !(span.is_finite()) || span <= 0.0 {
        return 1.0;
    }
    let max_points = max_points.max(1) as f64;
    let count = |s: f64| (hi / s).floor() - (lo / s).ceil() + 1.0;
    let mut exp = span.log10().ceil() as i32 + 1;
    let mut best = 10f64.powi(exp);
    loop {
        let mut stop = false;
        for m in [5.0, 2.0, 1.0] {
            let s = m * 10f64.powi(exp - 1);
            if count(s) > max_points {
                stop = true;
                break;
            }
            best = s;
        }
        if stop || exp < -12 {
            return best;
        }
        exp -= 1;
    }
}

/// A percentage label for a fraction: 0.1234 → `"12.3%"`.
pub fn percent(fraction: f64, decimals: usize) -> String {
    if !fraction.is_finite() {
        return "n/a".to_string();
    }
    format!("{}%", thousands(fraction * 100.0, decimals))
}

/// The `p` quantile (0..=1) of sorted data, linear interpolation between
/// order statistics (Hyndman–Fan type 7, as numpy's default). `sorted` must
/// be non-empty.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Mean of the values, summed in order (deterministic).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1234567.891, 0), "1,234,568");
        assert_eq!(thousands(-1234.5, 2), "\u{2212}1,234.50");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(-0.001, 0), "0");
        assert_eq!(thousands(1000.0, 0), "1,000");
        assert_eq!(thousands(f64::NAN, 0), "n/a");
    }

    #[test]
    fn short_money() {
        assert_eq!(money_short(1_234_567.0), "1.23M");
        assert_eq!(money_short(350_000.0), "350k");
        assert_eq!(money_short(1_200_000.0), "1.2M");
        assert_eq!(money_short(12.5), "12.5");
        assert_eq!(money_short(-2_500_000_000.0), "\u{2212}2.5bn");
    }

    #[test]
    fn axis_labels_share_one_unit() {
        let f = AxisFormat::money(0.0, 1_500_000.0, 6);
        assert_eq!(tick_step(0.0, 1_500_000.0, 6), 500_000.0);
        assert_eq!(f.label(500_000.0), "0.5M");
        assert_eq!(f.label(1_000_000.0), "1.0M");
        let f = AxisFormat::money(0.0, 1_500_000.0, 20);
        assert_eq!(f.label(100_000.0), "0.1M");
        let f = AxisFormat::money(1_000_000.0, 1_100_000.0, 6);
        assert_eq!(f.label(1_020_000.0), "1.02M");
        let f = AxisFormat::money(0.0, 400_000.0, 8);
        assert_eq!(f.label(350_000.0), "350k");
        let p = AxisFormat::percent(0.0, 1.5, 6);
        assert_eq!(p.label(0.25), "25%");
        let c = AxisFormat::count(0.0, 12000.0, 6);
        assert_eq!(c.label(10000.0), "10,000");
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
        assert_eq!(quantile_sorted(&[7.0], 0.95), 7.0);
    }
}
