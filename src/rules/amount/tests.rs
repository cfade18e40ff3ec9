//! Tests of the `f64` rounding helpers against the library functions and `Decimal`.

use super::*;

#[test]
fn inline_round_and_floor_are_the_library_functions() {
    let mut xs = vec![
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        0.49999999999999994,
        -0.49999999999999994,
        0.3,
        -0.3,
        0.7,
        -0.7,
        1e-300,
        -1e-300,
        4.0e15 - 0.5,
        -4.0e15 + 0.5,
        4.0e15,
        4.5e15 + 0.5,
        1e300,
        -1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
    ];
    let mut x = 1e-6f64;
    while x < 1e17 {
        for y in [
            x,
            x + 0.5,
            x.floor() + 0.5,
            x.floor() + 0.5 - 1e-9,
            -x,
            -(x + 0.5),
            -(x.floor() + 0.5),
        ] {
            xs.push(y);
            xs.push(f64::from_bits(y.to_bits() + 1));
            xs.push(f64::from_bits(y.to_bits() - 1));
        }
        x *= 1.618;
    }
    for x in xs {
        assert_eq!(round_f64(x).to_bits(), x.round().to_bits(), "round {x:e}");
        assert_eq!(floor_f64(x).to_bits(), x.floor().to_bits(), "floor {x:e}");
    }
    assert!(round_f64(f64::NAN).is_nan() && floor_f64(f64::NAN).is_nan());
}

#[test]
fn round_money_lanes_is_round_money() {
    use rand::{Rng, SeedableRng};
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
    let mut xs: Vec<f64> = vec![
        0.0,
        -0.0,
        0.005,
        -0.005,
        0.015,
        0.025,
        1.005,
        2.675,
        0.0049999999,
        0.0050000001,
        1e-12,
        -1e-12,
        39.995,
        1234.565,
        -1234.565,
        3.9e13,
        3.99e13,
        4.0e13,
        1e300,
        -1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
    ];
    for _ in 0..20_000 {
        let magnitude = 10f64.powi(r.random_range(-3..14));
        let x: f64 = r.random_range(-1.0..1.0) * magnitude;
        // exact and near midpoints in cents, thousandths and units
        let cents = (x * 100.0).trunc() / 100.0 + 0.005;
        for y in [
            x,
            cents,
            cents + 1e-12 * magnitude,
            cents - 1e-10,
            (x * 1000.0).round() / 1000.0,
        ] {
            xs.push(y);
            xs.push(f64::from_bits(y.to_bits() + 1));
        }
    }
    for rounding in [Rounding::HalfUp, Rounding::HalfEven] {
        for dp in [0, 2, 3] {
            for chunk in xs.chunks_exact(8) {
                let block: [f64; 8] = chunk.try_into().unwrap();
                let want = block.map(|v| v.round_money(rounding, dp));
                match round_money_lanes(&block, rounding, dp) {
                    Some(got) => {
                        for l in 0..8 {
                            assert_eq!(
                                got[l].to_bits(),
                                want[l].to_bits(),
                                "{rounding:?} {dp} {}",
                                block[l]
                            );
                        }
                    }
                    None => assert!(
                        block.iter().any(|v| !matches!(
                            (v * pow10(dp)).abs().partial_cmp(&4.0e15),
                            Some(std::cmp::Ordering::Less)
                        )),
                        "{rounding:?} {dp} {block:?} refused"
                    ),
                }
            }
        }
    }
    assert!(round_money_lanes(&[1.0; 8], Rounding::Down, 2).is_none());
    assert!(round_money_lanes(&[1.0; 8], Rounding::Up, 2).is_none());
}

#[test]
fn pow10_table_is_powi() {
    for dp in 0..20 {
        assert_eq!(
            pow10(dp).to_bits(),
            10f64.powi(dp as i32).to_bits(),
            "dp {dp}"
        );
    }
}

#[test]
fn f64_rounding_matches_decimal_at_midpoints() {
    for (x, dp) in [
        ("5.005", 2),
        ("-5.005", 2),
        ("0.125", 2),
        ("1234567.885", 2),
        ("2.5", 0),
        ("43.2075", 2),
    ] {
        let d = Decimal::from_str(x).unwrap();
        for r in [
            Rounding::HalfUp,
            Rounding::HalfEven,
            Rounding::Down,
            Rounding::Up,
        ] {
            let want = r.round(d, dp).to_f64().unwrap();
            let got = (d.to_f64().unwrap()).round_money(r, dp);
            assert_eq!(got, want, "{x} {r:?}");
        }
    }
    // a float product that lands just below the midpoint
    assert_eq!((1001.0f64 * 0.005).round_money(Rounding::HalfUp, 2), 5.01);
}
