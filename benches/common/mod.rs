//! Shared by the bench-std drivers (`hand_loop.rs`, `engine_std.rs`): command line, the
//! partner table's location, and the statistics printed as one JSON object -- computed the
//! same way for every contender (and as `numpy_std.summarise` does in Python).

#![allow(dead_code)] // each driver uses a part

use std::path::{Path, PathBuf};

/// Months per scenario in bench-std.
pub const MONTHS: usize = 12;

/// Command line of a bench-std driver.
pub struct Args {
    pub scenarios: usize,
    pub seed: u64,
    /// Worker threads (`None`: all cores); only the engine driver takes it.
    pub threads: Option<usize>,
    pub partners: Option<PathBuf>,
    /// A demand model instead of bench-std's; only the engine driver takes it.
    pub model: Option<PathBuf>,
}

/// `--scenarios N` (2000), `--seed S` (1), `--partners PATH`, and `--threads T` and
/// `--model PATH` when `with_threads` (the engine driver).
pub fn parse_args(with_threads: bool) -> Result<Args, String> {
    let mut args = Args {
        scenarios: 2000,
        seed: 1,
        threads: None,
        partners: None,
        model: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--scenarios" => {
                args.scenarios = value("--scenarios")?
                    .parse()
                    .map_err(|e| format!("--scenarios: {e}"))?;
                if args.scenarios == 0 {
                    return Err("--scenarios must be at least 1".into());
                }
            }
            "--seed" => {
                args.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--threads" if with_threads => {
                let t: usize = value("--threads")?
                    .parse()
                    .map_err(|e| format!("--threads: {e}"))?;
                args.threads = if t == 0 { None } else { Some(t) };
            }
            "--partners" => args.partners = Some(PathBuf::from(value("--partners")?)),
            "--model" if with_threads => args.model = Some(PathBuf::from(value("--model")?)),
            // `cargo bench` passes --bench to harness = false targets.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// The bench-std partner table: `--partners`, else `$REBATESIM_BENCH_PARTNERS`, else
/// `shared/bench/partners_10k.csv` in a parent directory of the project root (the main
/// checkout's parent; a git worktree sits one level deeper).
pub fn partners_csv(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Ok(p) = std::env::var("REBATESIM_BENCH_PARTNERS") {
        return Ok(PathBuf::from(p));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = Path::new("shared").join("bench").join("partners_10k.csv");
    root.ancestors()
        .skip(1)
        .map(|dir| dir.join(&rel))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "bench-std partner table not found: looked for {} above {}; \
             pass --partners PATH or set REBATESIM_BENCH_PARTNERS",
                rel.display(),
                root.display()
            )
        })
}

/// Print `message` and exit with status 2.
pub fn fail(driver: &str, message: impl std::fmt::Display) -> ! {
    eprintln!("{driver}: {message}");
    std::process::exit(2)
}

/// Percentile with linear interpolation between order statistics (NumPy's default).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn mean_se(x: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = x.clone().count() as f64;
    let mean = x.clone().sum::<f64>() / n;
    let var = x.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// The bench-std statistics of per-scenario outcomes: total payout after the budget,
/// whether the budget binds, and partners per tier (tier 0 = below the first threshold).
pub fn statistics(total: &[f64], binds: &[bool], tiers: &[[u32; 4]]) -> serde_json::Value {
    let (mean, se) = mean_se(total.iter().copied());
    let mut sorted = total.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = total.len() as f64;
    let share = binds.iter().filter(|&&b| b).count() as f64 / n;
    let tier: Vec<(f64, f64)> = (0..4)
        .map(|t| mean_se(tiers.iter().map(move |row| row[t] as f64)))
        .collect();
    serde_json::json!({
        "scenarios": total.len(),
        "mean_payout": mean,
        "mean_payout_se": se,
        "p50": percentile(&sorted, 0.50),
        "p95": percentile(&sorted, 0.95),
        "p99": percentile(&sorted, 0.99),
        "budget_binding_share": share,
        "budget_binding_share_se": (share * (1.0 - share) / n).sqrt(),
        "mean_partners_per_tier": tier.iter().map(|t| t.0).collect::<Vec<_>>(),
        "mean_partners_per_tier_se": tier.iter().map(|t| t.1).collect::<Vec<_>>(),
    })
}

/// Add the timing fields to `stats` and print it as one JSON line.
pub fn print_report(
    mut stats: serde_json::Value,
    contender: &str,
    partners: usize,
    args: &Args,
    threads: usize,
    seconds: f64,
) {
    let obj = stats.as_object_mut().expect("statistics are an object");
    obj.insert("contender".into(), contender.into());
    obj.insert("partners".into(), partners.into());
    obj.insert("seed".into(), args.seed.into());
    obj.insert("threads".into(), threads.into());
    obj.insert("seconds".into(), seconds.into());
    obj.insert(
        "partner_months_per_s".into(),
        ((partners * MONTHS * args.scenarios) as f64 / seconds).into(),
    );
    println!("{stats}");
}
