//! Writes every chart with realistic sample data to a folder (default
//! `/tmp/charts`) as PNG and SVG, for looking at them:
//! `cargo run --example chart_gallery -- /tmp/charts`.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rebatesim::charts::*;

fn lognormal_payouts(rng: &mut Xoshiro256PlusPlus, n: usize, median: f64, sigma: f64) -> Vec<f64> {
    let d = LogNormal::new(median.ln(), sigma).unwrap();
    (0..n).map(|_| d.sample(rng)).collect()
}

fn save(chart: impl Into<AnyChart>, dir: &std::path::Path, name: &str) -> rebatesim::Result<()> {
    let chart: AnyChart = chart.into();
    chart.save(dir.join(format!("{name}.png")))?;
    chart.save(dir.join(format!("{name}.svg")))?;
    std::fs::write(
        dir.join(format!("{name}@2x.png")),
        chart.render_png_scaled(2.0)?,
    )
    .unwrap();
    Ok(())
}

fn main() -> rebatesim::Result<()> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/charts".into()),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);

    let payouts = lognormal_payouts(&mut rng, 10_000, 1_180_000.0, 0.12);
    save(
        PayoutDistribution::new(
            "Rebate payout 2027: distribution over 10,000 scenarios",
            "EUR",
            payouts.clone(),
        )
        .with_budget(1_400_000.0),
        &dir,
        "1_payout_distribution",
    )?;

    // Three designs compared.
    let designs = vec![
        DesignDistribution::new(
            "Current ladder (3 tiers, retroactive)",
            payouts.clone(),
            Some(0.42),
        ),
        DesignDistribution::new(
            "Steeper top tier",
            lognormal_payouts(&mut rng, 10_000, 1_310_000.0, 0.16),
            Some(0.55),
        ),
        DesignDistribution::new(
            "Incremental bands + cap",
            lognormal_payouts(&mut rng, 10_000, 990_000.0, 0.08),
            Some(0.31),
        ),
    ];
    save(
        DesignComparison::new("Payout by design, 2027", "EUR", designs.clone())
            .with_budget(1_400_000.0),
        &dir,
        "2_design_comparison",
    )?;

    // Tier attainment per segment.
    let tiers: Vec<String> = [
        "No tier",
        "Bronze (≥ 50k)",
        "Silver (≥ 150k)",
        "Gold (≥ 400k)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let seg = |name: &str, e: [f64; 4]| {
        AttainmentSeries::new(
            name,
            e.to_vec(),
            Some(
                e.iter()
                    .map(|v| (v * 0.86 - 2.0_f64).max(0.0))
                    .zip(e.iter().map(|v| v * 1.14 + 2.0))
                    .collect(),
            ),
        )
    };
    save(
        TierAttainment::new(
            "Tier attainment by segment, 2027",
            tiers,
            vec![
                seg("Independent dealers", [1210.0, 640.0, 255.0, 48.0]),
                seg("Regional distributors", [180.0, 310.0, 402.0, 133.0]),
                seg("National accounts", [12.0, 35.0, 61.0, 97.0]),
            ],
        ),
        &dir,
        "3_tier_attainment",
    )?;

    // Accrual and cash fan over 12 months (+ payment lag).
    let months: Vec<chrono::NaiveDate> = (1..=12)
        .map(|m| chrono::NaiveDate::from_ymd_opt(2027, m, 1).unwrap())
        .collect();
    let noise = Normal::new(1.0, 0.13).unwrap();
    let mut accr = Vec::new();
    let mut cash = Vec::new();
    for _ in 0..4000 {
        let scale: f64 = f64::max(noise.sample(&mut rng), 0.3);
        let mut a = Vec::new();
        let mut c = Vec::new();
        let mut cum = 0.0;
        for m in 0..12 {
            cum += 100_000.0
                * scale
                * (0.8 + 0.4 * ((m as f64) / 11.0))
                * (0.9 + 0.2 * rng.random::<f64>());
            a.push(cum);
            // quarterly payments in the month after each quarter ends
            c.push(if m >= 3 { a[3 * (m / 3) - 1] } else { 0.0 });
        }
        accr.push(a);
        cash.push(c);
    }
    save(
        AccrualFan::new(
            "Rebate liability and cash out, 2027",
            "EUR",
            months,
            vec![
                FanSeries::from_paths("Accrued liability", &accr)?,
                FanSeries::from_paths("Cash paid", &cash)?,
            ],
        )
        .with_budget(1_400_000.0),
        &dir,
        "4_accrual_fan",
    )?;

    // Risk and return.
    let points = designs
        .iter()
        .map(|d| {
            let mut v = d.payouts.clone();
            v.sort_by(f64::total_cmp);
            RiskReturnPoint::new(
                d.name.clone(),
                v[(v.len() * 95) / 100],
                d.expected_roi.unwrap(),
            )
        })
        .collect();
    save(
        RiskReturn::new(
            "Expected ROI against payout risk",
            "EUR",
            ReturnMeasure::Roi,
            points,
        )
        .with_budget(1_400_000.0),
        &dir,
        "5_risk_return",
    )?;

    // Tornado.
    let bars = vec![
        TornadoBar::new(
            "Demand growth",
            "-2 pts",
            "+2 pts",
            1_090_000.0,
            1_305_000.0,
        )
        .with_se(6_000.0, 6_500.0),
        TornadoBar::new(
            "Price elasticity of purchases",
            "-20%",
            "+20%",
            1_160_000.0,
            1_215_000.0,
        )
        .with_se(4_000.0, 4_200.0),
        TornadoBar::new(
            "Share of partners reacting to tiers",
            "-10 pts",
            "+10 pts",
            1_150_000.0,
            1_240_000.0,
        )
        .with_se(5_000.0, 5_000.0),
        TornadoBar::new(
            "Seasonality amplitude",
            "-50%",
            "+50%",
            1_182_000.0,
            1_196_000.0,
        )
        .with_se(3_000.0, 3_000.0),
        TornadoBar::new("Returns rate", "-1 pt", "+1 pt", 1_205_000.0, 1_171_000.0)
            .with_se(2_000.0, 2_000.0),
    ];
    save(
        Tornado::new(
            "What moves the expected payout?",
            "Expected payout",
            ValueUnit::Money("EUR".into()),
            1_188_592.0,
            bars,
        ),
        &dir,
        "6_tornado",
    )?;

    // Edge cases a reader may still meet: nobody qualifies, many designs with
    // long names, a five-year fan, a ROI tornado.
    save(
        PayoutDistribution::new("Nobody reaches a tier", "EUR", vec![0.0; 500])
            .with_budget(50_000.0),
        &dir,
        "edge_all_zero",
    )?;
    let many: Vec<DesignDistribution> = (0..7)
        .map(|i| {
            DesignDistribution::new(
                format!("Design {} with a long descriptive name", i + 1),
                lognormal_payouts(&mut rng, 2000, 800_000.0 + 90_000.0 * i as f64, 0.1),
                Some(0.2 + 0.05 * i as f64),
            )
        })
        .collect();
    save(
        DesignComparison::new("Seven designs", "USD", many),
        &dir,
        "edge_many_designs",
    )?;
    let long: Vec<chrono::NaiveDate> = (0..60)
        .map(|k| chrono::NaiveDate::from_ymd_opt(2027 + k / 12, (k % 12) as u32 + 1, 1).unwrap())
        .collect();
    let paths: Vec<Vec<f64>> = (0..500)
        .map(|_| {
            let s: f64 = f64::max(noise.sample(&mut rng), 0.3);
            (1..=60).map(|m| 25_000.0 * s * m as f64).collect()
        })
        .collect();
    save(
        AccrualFan::new(
            "Five-year accrual",
            "GBP",
            long,
            vec![FanSeries::from_paths("Accrued liability", &paths)?],
        ),
        &dir,
        "edge_five_years",
    )?;
    save(
        Tornado::new(
            "What moves ROI?",
            "Expected ROI",
            ValueUnit::Percent,
            0.42,
            vec![
                TornadoBar::new("Demand growth", "-2 pts", "+2 pts", 0.35, 0.47)
                    .with_se(0.01, 0.01),
                TornadoBar::new("Margin rate", "-5 pts", "+5 pts", 0.30, 0.54),
                TornadoBar::new("Price elasticity", "-20%", "+20%", 0.44, 0.41),
            ],
        ),
        &dir,
        "edge_tornado_roi",
    )?;
    save(
        RiskReturn::new(
            "Margin against risk",
            "EUR",
            ReturnMeasure::IncrementalMargin,
            vec![
                RiskReturnPoint::new("A", 1_200_000.0, -150_000.0),
                RiskReturnPoint::new("B", 1_210_000.0, -140_000.0),
                RiskReturnPoint::new("C", 1_500_000.0, 320_000.0),
                RiskReturnPoint::new("D", 1_220_000.0, -145_000.0),
            ],
        ),
        &dir,
        "edge_risk_margin",
    )?;
    Ok(())
}
