"""bench-std in NumPy: what a good analyst would write without rebatesim.

The workload is specified in ``shared/bench/bench-std.md`` (beside the project root):
10,000 partners, 12 monthly periods, one market factor per scenario, lognormal
partner-month noise, a retroactive volume ladder per segment on annual revenue, a cap per
partner and a programme budget with a pro-rata cut.

The implementation is vectorised over partners and months and chunked over scenarios so
that memory stays bounded (about ``--chunk-mb`` megabytes of float64 working arrays)
whatever the number of scenarios. Random numbers come from one ``numpy.random.Generator``
(PCG64, ziggurat normals): per chunk, the market draws of the chunk's scenarios, then the
partner-month noise.

Run on its own::

    python benches/numpy_std.py --scenarios 20000 --seed 1 [--json]

It prints the statistics bench-std asks for (mean total payout with its standard error,
P50/P95/P99, the share of scenarios where the budget binds, the mean number of partners in
each tier) and the throughput in partner-months per second (simulation only, the CSV
loading excluded). ``bench_std.py`` imports :func:`load_partners`, :func:`simulate` and
:func:`summarise` from here.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------------------------------
# The bench-std specification (shared/bench/bench-std.md)
# ---------------------------------------------------------------------------------------
MONTHS = 12
SEASONALITY_RAW = np.array([0.8, 0.85, 1.0, 1.0, 1.05, 1.0, 0.9, 0.85, 1.05, 1.1, 1.15, 1.25])
SEASONALITY = SEASONALITY_RAW / SEASONALITY_RAW.mean()
MARKET_SIGMA = 0.10
SEGMENTS = ("small", "mid", "large")
NOISE_SIGMA = {"small": 0.35, "mid": 0.25, "large": 0.15}
# segment -> ([thresholds], [rates]) ; rate 0 below the first threshold
LADDERS = {
    "small": ([100_000.0, 150_000.0, 250_000.0], [0.01, 0.02, 0.03]),
    "mid": ([500_000.0, 750_000.0, 1_000_000.0], [0.015, 0.025, 0.035]),
    "large": ([2_500_000.0, 3_500_000.0, 5_000_000.0], [0.02, 0.03, 0.04]),
}
PARTNER_CAP = {"small": 10_000.0, "mid": 40_000.0, "large": 150_000.0}
BUDGET = 110_000_000.0
N_TIERS = 3  # tiers 1..3; tier 0 = below the first threshold

PARTNERS_RELATIVE = Path("shared") / "bench" / "partners_10k.csv"


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def find_partners_csv(explicit: str | None = None) -> Path:
    """The bench-std partner table.

    ``explicit`` (a command-line option) or ``$REBATESIM_BENCH_PARTNERS`` wins; otherwise
    ``../shared/bench/partners_10k.csv`` relative to the project root, looking further up
    the tree as well (a git worktree may sit one level deeper than the main checkout).
    """
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SystemExit(f"partners file not found: {path}")
        return path
    env = os.environ.get("REBATESIM_BENCH_PARTNERS")
    if env:
        path = Path(env)
        if not path.is_file():
            raise SystemExit(f"REBATESIM_BENCH_PARTNERS={env}: file not found")
        return path
    root = project_root()
    for base in [root.parent, *root.parent.parents]:
        candidate = base / PARTNERS_RELATIVE
        if candidate.is_file():
            return candidate
    raise SystemExit(
        f"bench-std partner table not found: looked for {PARTNERS_RELATIVE} in the parent "
        f"directories of {root}; pass --partners PATH or set REBATESIM_BENCH_PARTNERS"
    )


class Partners:
    """The partner table as column arrays, with the per-partner model and ladder parameters."""

    def __init__(self, ids: list[str], segments: list[str], baseline: np.ndarray):
        self.ids = ids
        self.segments = segments
        self.baseline = baseline
        n = len(ids)
        self.sigma = np.empty(n)
        self.thresholds = np.empty((n, N_TIERS))
        self.rates = np.zeros((n, N_TIERS + 1))  # column 0: below the first threshold
        self.cap = np.empty(n)
        for j, seg in enumerate(segments):
            thr, rates = LADDERS[seg]
            self.sigma[j] = NOISE_SIGMA[seg]
            self.thresholds[j] = thr
            self.rates[j, 1:] = rates
            self.cap[j] = PARTNER_CAP[seg]

    def __len__(self) -> int:
        return len(self.ids)


def load_partners(path: Path) -> Partners:
    ids: list[str] = []
    segments: list[str] = []
    baseline: list[float] = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for row_no, row in enumerate(reader, start=1):
            seg = row["segment"]
            if seg not in LADDERS:
                raise SystemExit(f"{path}: row {row_no}: unknown segment {seg!r}")
            ids.append(row["partner_id"])
            segments.append(seg)
            baseline.append(float(row["baseline_revenue"]))
    return Partners(ids, segments, np.asarray(baseline))


# ---------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------
def simulate(
    partners: Partners, scenarios: int, seed: int, chunk_mb: float = 64.0
) -> dict[str, np.ndarray]:
    """Simulate ``scenarios`` years; per-scenario outputs.

    Returns ``total`` (total payout after the budget, per scenario), ``binds`` (bool per
    scenario) and ``tier_counts`` (scenarios x 4: partners in tier 0..3).
    """
    rng = np.random.default_rng(seed)
    n = len(partners)
    # working set per scenario: the (n, 12) noise array plus a few (n,) vectors
    chunk = max(1, int(chunk_mb * 1e6 // (n * MONTHS * 8)))

    sigma = partners.sigma[:, None]  # (n, 1)
    half_var = 0.5 * partners.sigma[:, None] ** 2
    monthly_base = partners.baseline / MONTHS  # (n,)
    thr = partners.thresholds  # (n, 3)
    rates = partners.rates  # (n, 4)
    cap = partners.cap
    rows = np.arange(n)

    total = np.empty(scenarios)
    binds = np.empty(scenarios, dtype=bool)
    tier_counts = np.empty((scenarios, N_TIERS + 1), dtype=np.int64)

    buffer = np.empty((chunk, n, MONTHS))  # reused: no fresh pages per chunk
    for start in range(0, scenarios, chunk):
        c = min(chunk, scenarios - start)
        market = np.exp(MARKET_SIGMA * rng.standard_normal(c) - 0.5 * MARKET_SIGMA**2)
        e = buffer[:c]
        rng.standard_normal(out=e)
        e *= sigma
        e -= half_var
        np.exp(e, out=e)
        # annual revenue: sum over months of baseline/12 * s[m] * M * e[i, m]
        revenue = e @ SEASONALITY  # (c, n)
        revenue *= monthly_base
        revenue *= market[:, None]
        tier = (
            (revenue >= thr[:, 0]).astype(np.int8)
            + (revenue >= thr[:, 1])
            + (revenue >= thr[:, 2])
        )
        payout = rates[rows, tier] * revenue  # retroactive: reached rate on everything
        np.minimum(payout, cap, out=payout)
        capped_total = payout.sum(axis=1)
        sl = slice(start, start + c)
        binds[sl] = capped_total > BUDGET
        total[sl] = np.minimum(capped_total, BUDGET)  # pro-rata cut to exactly the budget
        for t in range(N_TIERS + 1):
            tier_counts[sl, t] = np.count_nonzero(tier == t, axis=1)
    return {"total": total, "binds": binds, "tier_counts": tier_counts}


def summarise(result: dict[str, np.ndarray]) -> dict:
    """bench-std statistics from per-scenario outputs (percentiles: linear interpolation)."""
    total = result["total"]
    n = total.size
    mean = float(total.mean())
    se = float(total.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    p50, p95, p99 = (float(v) for v in np.percentile(total, [50, 95, 99]))
    share = float(result["binds"].mean())
    share_se = math.sqrt(share * (1 - share) / n) if n > 1 else float("nan")
    counts = result["tier_counts"]
    tiers = counts.mean(axis=0)
    tiers_se = counts.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(tiers.shape, np.nan)
    return {
        "scenarios": int(n),
        "mean_payout": mean,
        "mean_payout_se": se,
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "budget_binding_share": share,
        "budget_binding_share_se": share_se,
        "mean_partners_per_tier": [float(v) for v in tiers],
        "mean_partners_per_tier_se": [float(v) for v in tiers_se],
    }


def run(partners: Partners, scenarios: int, seed: int, chunk_mb: float = 64.0) -> dict:
    """Time one simulation and return the statistics and the throughput."""
    t0 = time.perf_counter()
    result = simulate(partners, scenarios, seed, chunk_mb)
    stats = summarise(result)
    seconds = time.perf_counter() - t0
    stats.update(
        {
            "contender": "numpy",
            "partners": len(partners),
            "seconds": seconds,
            "partner_months_per_s": len(partners) * MONTHS * scenarios / seconds,
            "seed": seed,
            "numpy": np.__version__,
        }
    )
    return stats


def format_stats(s: dict) -> str:
    tiers = " / ".join(f"{v:,.0f}" for v in s["mean_partners_per_tier"])
    return (
        f"scenarios {s['scenarios']:,}, {s['seconds']:.2f} s, "
        f"{s['partner_months_per_s'] / 1e6:.1f} M partner-months/s\n"
        f"mean payout {s['mean_payout'] / 1e6:.2f} M (SE {s['mean_payout_se'] / 1e6:.2f} M); "
        f"P50 {s['p50'] / 1e6:.2f} M, P95 {s['p95'] / 1e6:.2f} M, P99 {s['p99'] / 1e6:.2f} M\n"
        f"budget binds {100 * s['budget_binding_share']:.1f}% "
        f"(SE {100 * s['budget_binding_share_se']:.1f} pp); "
        f"mean partners per tier {tiers}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--partners", help="partner CSV (default: ../shared/bench/partners_10k.csv)")
    ap.add_argument("--chunk-mb", type=float, default=64.0, help="working-array budget per chunk")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.scenarios < 1:
        ap.error("--scenarios must be at least 1")
    partners = load_partners(find_partners_csv(args.partners))
    stats = run(partners, args.scenarios, args.seed, args.chunk_mb)
    if args.json:
        print(json.dumps(stats))
    else:
        print(format_stats(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
