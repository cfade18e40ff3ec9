"""bench-real: the engine's general path on realistic programmes, against an older build.

bench-std (``bench_std.py``) is the simplest workload there is: one annual ladder per
segment, no categories, no orders, no behaviour, so it runs on the engine's fast path. Every
programme users actually run takes the general path. This driver measures it on:

* ``distributor``: the bundled distributor example (``examples/distributor``: 3,000 partners,
  quarterly periods, seven components of every kind including bundle and logistics, an
  exclusive group, budget, partner cap and minimum payout; the model with AR(1) market,
  segment factors, churn, returns, orders, category mix and behaviour: stretch, pull-forward,
  uplift);
* ``building``: a second workload that differs in structure (``examples/bench_real``: 4,000
  partners, half-year periods, a units basis with per-unit tiers, a cumulative incremental
  ladder with a basis cap, growth on units above the baseline, a per-unit upsell above a
  quantity, a bundle on units, logistics paid as a percentage of the order, a random-walk
  market, behaviour on);
* ``order_categories``: the distributor example with ``[orders] categories_per_order = 1.75``
  (the value the demo's calibration estimates): every buying month draws its orders and each
  order a few of the partner's categories, the path ``rebatesim demo`` simulates. b492288 has no
  categories per order, so its baseline run is the distributor example without the option;
* ``bench_std``: bench-std's fast path (``examples/bench_std`` with
  ``../shared/bench/partners_10k.csv``), in the same run, to see that it does not slow down;

each at 1 thread and at every available core. Throughput is partner-months per second =
partners × months × scenarios / wall seconds of ``rebatesim.simulate`` alone (inputs are
loaded and a small warm-up call made before the timed call). Every measurement runs in its
own child process.

With ``--baseline-python PATH`` (the interpreter of a venv holding an older build; see
benches/README.md for how the b492288 build is made) every measurement also runs with that
interpreter, the two builds alternating round by round (``--repeat R``: the fastest of R runs
counts), and the report gives the ratio current / baseline. The two builds' mean payouts are
compared too (a z-score of the difference with both standard errors): a faster method may
draw differently, but must agree statistically.

Usage::

    python benches/bench_real.py [--scenarios N (100)] [--std-scenarios N (2000)]
        [--repeat R (1)] [--baseline-python PATH] [--workloads a,b,...] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_std import ChildFailed, available_cores, engine_env, run_child  # noqa: E402
import numpy_std  # noqa: E402

MONTHS_PER_PERIOD = {"month": 1, "quarter": 3, "half": 6, "year": 12}


def workloads(std_partners: Path) -> dict[str, dict]:
    ex = ROOT / "examples"
    return {
        "distributor": {
            "programme": ex / "distributor" / "programme.toml",
            "partners": ex / "distributor" / "partners.csv",
            "model": ex / "distributor" / "model.toml",
            "realistic": True,
        },
        "order_categories": {
            "programme": ex / "distributor" / "programme.toml",
            "partners": ex / "distributor" / "partners.csv",
            "model": ex / "distributor" / "model.toml",
            "realistic": True,
            # the current build only (b492288 refuses the option: its run is the distributor's)
            "model_override": {"orders": {"categories_per_order": 1.75}},
        },
        "building": {
            "programme": ex / "bench_real" / "programme.toml",
            "partners": ex / "bench_real" / "partners.csv",
            "model": ex / "bench_real" / "model.toml",
            "realistic": True,
        },
        "bench_std": {
            "programme": ex / "bench_std" / "programme.toml",
            "partners": std_partners,
            "model": ex / "bench_std" / "model.toml",
            "realistic": False,
        },
    }


# ---------------------------------------------------------------------------------------
# Child side: load, warm up, time one simulate call, print one JSON line
# ---------------------------------------------------------------------------------------
CHILD = r"""
import json, sys, time
import rebatesim as rs
programme_file, partners_file, model_file, scenarios, seed, threads, warmup = sys.argv[1:8]
programme = rs.Programme.from_file(programme_file)
population = rs.Population.from_csv(partners_file)
model = rs.Model.from_file(model_file)
if len(sys.argv) > 8:
    d = model.to_dict()
    for section, values in json.loads(sys.argv[8]).items():
        d.setdefault(section, {}).update(values)
    model = rs.Model.from_dict(d)
threads = int(threads)
if int(warmup) > 0:
    rs.simulate(programme, population, model, scenarios=int(warmup), seed=int(seed) + 1,
                threads=threads, progress=False)
t0 = time.perf_counter()
r = rs.simulate(programme, population, model, scenarios=int(scenarios), seed=int(seed),
                threads=threads, progress=False)
seconds = time.perf_counter() - t0
p = r.payout
n = len(p)
mean = float(sum(p) / n)
var = float(sum((x - mean) ** 2 for x in p) / (n - 1)) if n > 1 else float("nan")
d = programme.to_dict()
print(json.dumps({
    "seconds": seconds, "scenarios": n, "partners": len(population.partner_ids),
    "period": d["period"], "periods": d["periods"], "mean_payout": mean,
    "mean_payout_se": (var / n) ** 0.5, "version": getattr(rs, "__version__", "?"),
    "file": rs.__file__,
}))
"""


def measure(python: str, w: dict, scenarios: int, seed: int, threads: int, warmup: int,
            env: dict | None, baseline: bool = False) -> dict:
    cmd = [python, "-c", CHILD, str(w["programme"]), str(w["partners"]), str(w["model"]),
           str(scenarios), str(seed), str(threads), str(warmup)]
    if w.get("model_override") and not baseline:
        cmd.append(json.dumps(w["model_override"]))
    obj, rss = run_child(cmd, cwd=ROOT, env=env)
    months = MONTHS_PER_PERIOD[obj["period"]] * int(obj["periods"])
    obj["partner_months"] = obj["partners"] * months * obj["scenarios"]
    obj["partner_months_per_s"] = obj["partner_months"] / obj["seconds"]
    obj["peak_rss_mb"] = rss
    return obj


def baseline_env() -> dict:
    """The baseline interpreter must import ITS installed package, never this checkout's."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def drive(args) -> dict:
    quiet = args.json
    cores = available_cores()
    std_partners = numpy_std.find_partners_csv(args.partners)
    all_w = workloads(std_partners)
    chosen = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in chosen if w not in all_w]
    if unknown:
        raise SystemExit(f"unknown workload(s) {unknown}; expected some of {sorted(all_w)}")
    builds = {"current": (sys.executable, engine_env())}
    if args.baseline_python:
        builds["baseline"] = (args.baseline_python, baseline_env())
    thread_counts = sorted({1, cores})
    report: dict = {
        "bench": "bench-real",
        "scenarios": args.scenarios,
        "std_scenarios": args.std_scenarios,
        "seed": args.seed,
        "repeat": args.repeat,
        "builds": {k: v[0] for k, v in builds.items()},
        "machine": {
            "cores": cores,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_before": list(os.getloadavg()),
        },
        "runs": {},
    }
    best: dict[tuple, dict] = {}
    for rnd in range(args.repeat):
        for name in chosen:
            w = all_w[name]
            scen = args.scenarios if w["realistic"] else args.std_scenarios
            for threads in thread_counts:
                for build, (python, env) in builds.items():
                    log(f"round {rnd + 1}: {name}, {threads} thread(s), {build} ...", quiet)
                    try:
                        m = measure(python, w, scen, args.seed, threads, args.warmup, env,
                                    baseline=build == "baseline")
                    except ChildFailed as e:
                        best.setdefault((name, threads, build), {"error": str(e)})
                        log(f"  failed: {e}", quiet)
                        continue
                    log(f"  {m['partner_months_per_s'] / 1e6:.3f} M partner-months/s "
                        f"({m['seconds']:.2f} s)", quiet)
                    key = (name, threads, build)
                    old = best.get(key)
                    if old is None or "error" in old or m["seconds"] < old["seconds"]:
                        best[key] = m
    for (name, threads, build), m in sorted(best.items()):
        report["runs"].setdefault(name, {}).setdefault(f"{threads}_thread", {})[build] = m
    ratios: dict = {}
    agreement: dict = {}
    for name, by_t in report["runs"].items():
        for t, by_b in by_t.items():
            cur, base = by_b.get("current"), by_b.get("baseline")
            if cur and base and "error" not in cur and "error" not in base:
                ratios[f"{name}/{t}"] = cur["partner_months_per_s"] / base["partner_months_per_s"]
                se = math.hypot(cur["mean_payout_se"], base["mean_payout_se"])
                diff = cur["mean_payout"] - base["mean_payout"]
                if all_w[name].get("model_override"):
                    continue  # not the same model in both builds: no agreement to test
                agreement[f"{name}/{t}"] = {
                    "current_mean": cur["mean_payout"], "baseline_mean": base["mean_payout"],
                    "z": diff / se if se > 0 else (0.0 if diff == 0 else math.inf),
                }
        one = by_t.get("1_thread", {}).get("current")
        many = by_t.get(f"{cores}_thread", {}).get("current")
        if cores > 1 and one and many and "error" not in one and "error" not in many:
            ratios[f"{name}/all_over_1_thread"] = (
                many["partner_months_per_s"] / one["partner_months_per_s"])
    report["ratios_current_over_baseline"] = ratios
    report["agreement"] = agreement
    report["machine"]["loadavg_after"] = list(os.getloadavg())
    return report


def print_table(r: dict) -> None:
    print(f"bench-real: {r['scenarios']} scenarios (bench_std {r['std_scenarios']}), "
          f"seed {r['seed']}, best of {r['repeat']}, {r['machine']['cores']} cores, "
          f"load {r['machine']['loadavg_before'][0]:.1f} → {r['machine']['loadavg_after'][0]:.1f}")
    print(f"{'workload':<12} {'threads':>8} {'build':>9} {'M pm/s':>9} {'seconds':>8} "
          f"{'mean payout':>16} {'± se':>12}")
    for name, by_t in r["runs"].items():
        for t, by_b in by_t.items():
            for b, m in by_b.items():
                if "error" in m:
                    print(f"{name:<12} {t.split('_')[0]:>8} {b:>9}  failed: {m['error'][:60]}")
                    continue
                print(f"{name:<12} {t.split('_')[0]:>8} {b:>9} "
                      f"{m['partner_months_per_s'] / 1e6:9.3f} {m['seconds']:8.2f} "
                      f"{m['mean_payout']:16,.0f} {m['mean_payout_se']:12,.0f}")
    for k, v in r["ratios_current_over_baseline"].items():
        print(f"ratio {k}: {v:.2f}×")
    for k, v in r["agreement"].items():
        print(f"agreement {k}: z = {v['z']:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", type=int, default=100, help="scenarios of each realistic run")
    ap.add_argument("--std-scenarios", type=int, default=2000, help="scenarios of the bench_std run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the fastest run counts")
    ap.add_argument("--warmup", type=int, default=4, help="scenarios of the untimed warm-up call")
    ap.add_argument("--baseline-python", help="python of a venv with the baseline build")
    ap.add_argument("--workloads", default="distributor,building,order_categories,bench_std")
    ap.add_argument("--partners", help="bench-std partner CSV (default: ../shared/bench/partners_10k.csv)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.scenarios < 1 or args.std_scenarios < 1 or args.repeat < 1 or args.warmup < 0:
        ap.error("--scenarios, --std-scenarios and --repeat must be ≥ 1, --warmup ≥ 0")
    t0 = time.time()
    r = drive(args)
    r["wall_s"] = time.time() - t0
    if args.json:
        print(json.dumps(r, indent=1))
    else:
        print_table(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
