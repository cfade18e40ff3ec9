"""bench-std: the engine against a NumPy implementation and a hand-written Rust loop.

Runs, one after another on this machine, each contender on the standard workload
(``shared/bench/bench-std.md`` with ``shared/bench/partners_10k.csv``, found beside the
project root):

* ``engine_1_thread`` / ``engine_all_threads``: ``rebatesim.simulate`` through the Python
  package at 1 thread and at every available core, on the bench-std inputs in
  ``examples/bench_std/`` (programme.toml, model.toml) and the partner CSV;
* ``numpy``: ``benches/numpy_std.py``, what an analyst would write in NumPy;
* ``hand_loop``: ``benches/hand_loop.rs``, a minimal single-threaded Rust loop of the same
  model (built with ``cargo bench --no-run`` if needed, i.e. the optimised bench profile).

Every contender runs in its own subprocess (so that one's memory or thread pool cannot
affect another) and times the simulation alone: loading and parsing the population is
outside the timed region. With ``--repeat R`` the contenders run R rounds, interleaved, and
the fastest run of each counts (the machine may be shared). Then the engine runs once more
at ``--memory-scenarios`` (default 10,000) scenarios, all threads, for its peak resident
memory (``ru_maxrss`` of that child process, via ``os.wait4``).

Usage::

    python benches/bench_std.py [--scenarios N (2000)] [--repeat R (1)] [--json]

Without ``--json`` it prints a table; with ``--json``, ONE JSON object: partner-months per
second per contender, the ratios, the engine run's statistics (mean payout and its standard
error, P50/P95/P99, budget-binding share, mean partners per tier), peak memory, each target
with whether it is met, and each contender's agreement with the reference figures of
bench-std.md (z-scores). Timing figures are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import numpy_std  # noqa: E402  (benches/ is not a package)

ENGINE_INPUTS = ROOT / "examples" / "bench_std"

# Reference figures of bench-std.md (an independent implementation, 20,000 scenarios).
REFERENCE = {
    "scenarios": 20_000,
    "mean_payout": 83.48e6,
    "mean_payout_se": 0.14e6,
    "budget_binding_share": 0.151,
    "budget_binding_share_se": 0.003,
    "mean_partners_per_tier": [4640.0, 3229.0, 1686.0, 444.0],
}
AGREEMENT_Z = 3.0  # |z| below this counts as agreeing within sampling error

TARGETS = {
    "engine_1_thread_over_hand_loop": (">=", 0.90, "engine at 1 thread within 10% of the hand loop"),
    "engine_1_thread_over_numpy": (">=", 4.0, "engine at 1 thread at least 4x NumPy"),
    "engine_all_threads_over_engine_1_thread": (
        ">=",
        1.8,
        "engine at 2 threads at least 1.8x one (measured at all threads)",
    ),
    "engine_peak_rss_mb": ("<", 250.0, "peak memory at 10,000 scenarios under 250 MB"),
}


# ---------------------------------------------------------------------------------------
# Subprocess helpers
# ---------------------------------------------------------------------------------------
class ChildFailed(RuntimeError):
    pass


def run_child(cmd: list[str], cwd: Path = ROOT, env: dict | None = None) -> tuple[dict, float]:
    """Run ``cmd``; its stdout's last line is a JSON object. Returns (object, peak RSS MB).

    ``os.wait4`` gives the resource usage of exactly this child (``ru_maxrss``, KiB on Linux).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise ChildFailed(f"{' '.join(cmd)} exited with {proc.returncode}:\n{tail}")
    lines = [ln for ln in stdout.strip().splitlines() if ln.strip()]
    if not lines:
        raise ChildFailed(f"{' '.join(cmd)} printed nothing")
    try:
        obj = json.loads(lines[-1])
    except json.JSONDecodeError as e:
        raise ChildFailed(f"{' '.join(cmd)}: last line is not JSON ({e}): {lines[-1][:200]}")
    rss_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return obj, rss_kib / 1024.0


def build_bench(name: str) -> Path:
    """Build bench target ``name`` (bench profile, i.e. optimised) and return its executable."""
    cmd = ["cargo", "bench", "--bench", name, "--no-run", "--message-format=json-render-diagnostics"]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    except FileNotFoundError:
        raise ChildFailed(f"cargo not found: cannot build {name}")
    if proc.returncode != 0:
        raise ChildFailed(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    exe = None
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (
            msg.get("reason") == "compiler-artifact"
            and msg.get("target", {}).get("name") == name
            and msg.get("executable")
        ):
            exe = msg["executable"]
    if exe is None:
        raise ChildFailed(f"cargo did not report the {name} executable")
    return Path(exe)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------
# The engine contender (child side)
# ---------------------------------------------------------------------------------------
def engine_env() -> dict:
    """Environment of the engine's child processes.

    An installed ``rebatesim`` (``maturin develop --release`` / ``pip install .``) is used
    as it is; if this checkout holds an in-place build (``python/rebatesim/_core*.so``),
    ``python/`` goes first on ``PYTHONPATH`` so that the engine measured is this one.
    """
    env = dict(os.environ)
    package = ROOT / "python" / "rebatesim"
    if any(package.glob("_core*.so")) or any(package.glob("_core*.pyd")):
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "python"), *filter(None, [env.get("PYTHONPATH")])]
        )
    return env


def engine_unavailable_reason() -> str | None:
    """None when ``rebatesim.simulate`` and the bench-std inputs exist, else why not."""
    probe = (
        "import json, rebatesim; "
        "print(json.dumps({'simulate': hasattr(rebatesim, 'simulate'), "
        "'file': getattr(rebatesim, '__file__', None)}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, env=engine_env()
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["import failed"])[-1]
        return f"the rebatesim Python package is not importable ({last}); build it with `maturin develop --release`"
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    if not info["simulate"]:
        return f"rebatesim ({info['file']}) has no simulate() yet"
    missing = [p.name for p in (ENGINE_INPUTS / "programme.toml", ENGINE_INPUTS / "model.toml") if not p.is_file()]
    if missing:
        return f"bench-std engine inputs missing in {ENGINE_INPUTS}: {', '.join(missing)}"
    return None


def _engine_load_inputs(rebatesim, partners_csv: Path):
    """Programme, population and model, read and parsed before the timed region."""
    programme = rebatesim.Programme.from_file(ENGINE_INPUTS / "programme.toml")
    population = rebatesim.Population.from_csv(partners_csv)
    model = rebatesim.Model.from_file(ENGINE_INPUTS / "model.toml")
    return programme, population, model


def _engine_outcome(result) -> dict:
    """Per-scenario outputs of a SimulationResult, in the shape numpy_std.summarise takes."""
    import numpy as np

    total = np.asarray(result.payout, dtype=float)
    binds = result.per_scenario["budget_binds"].to_numpy(dtype=bool)
    # scenarios x ladders x tiers; bench-std has one ladder per segment and counts partners
    # per tier index over all of them (tier 0 = below the first threshold)
    counts = np.asarray(result.tier_counts, dtype=np.int64).sum(axis=1)
    return {"total": total, "binds": binds, "tier_counts": counts}


def engine_child(args) -> int:
    import rebatesim

    partners_csv = numpy_std.find_partners_csv(args.partners)
    programme, population, model = _engine_load_inputs(rebatesim, partners_csv)
    n_partners = len(population)
    kwargs = {"seed": args.seed, "threads": args.threads, "progress": False}
    if args.warmup:
        rebatesim.simulate(programme, population, model, scenarios=args.warmup, **kwargs)
    t0 = time.perf_counter()
    result = rebatesim.simulate(programme, population, model, scenarios=args.scenarios, **kwargs)
    seconds = time.perf_counter() - t0
    stats = numpy_std.summarise(_engine_outcome(result))
    stats.update(
        {
            "contender": "engine",
            "threads": args.threads,
            "partners": n_partners,
            "seconds": seconds,
            "partner_months_per_s": n_partners * numpy_std.MONTHS * args.scenarios / seconds,
            "seed": args.seed,
            "rebatesim": getattr(rebatesim, "__version__", None),
            "rebatesim_file": getattr(rebatesim, "__file__", None),
        }
    )
    print(json.dumps(stats))
    return 0


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------
def agreement(stats: dict) -> dict:
    """z-scores of a contender's statistics against the bench-std reference figures."""
    n = stats["scenarios"]
    out = {}

    def z(diff, se):
        return diff / se if se > 0 else float("inf") if diff else 0.0

    out["mean_payout_z"] = z(
        stats["mean_payout"] - REFERENCE["mean_payout"],
        math.hypot(stats["mean_payout_se"], REFERENCE["mean_payout_se"]),
    )
    out["budget_binding_share_z"] = z(
        stats["budget_binding_share"] - REFERENCE["budget_binding_share"],
        math.hypot(stats["budget_binding_share_se"], REFERENCE["budget_binding_share_se"]),
    )
    # the reference gives no SE per tier: scale ours to its 20,000 scenarios
    scale = math.sqrt(n / REFERENCE["scenarios"])
    out["mean_partners_per_tier_z"] = [
        z(m - r, se * math.sqrt(1 + scale**2))
        for m, r, se in zip(
            stats["mean_partners_per_tier"],
            REFERENCE["mean_partners_per_tier"],
            stats["mean_partners_per_tier_se"],
        )
    ]
    zs = [out["mean_payout_z"], out["budget_binding_share_z"], *out["mean_partners_per_tier_z"]]
    out["agrees"] = all(abs(v) < AGREEMENT_Z for v in zs)
    return out


def ratio(a, b):
    return a / b if a is not None and b else None


def target_status(name: str, value) -> dict:
    op, bound, text = TARGETS[name]
    met = None if value is None else (value >= bound if op == ">=" else value < bound)
    return {"target": f"{op} {bound}", "description": text, "value": value, "met": met}


def log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def drive(args) -> dict:
    quiet = args.json
    partners_csv = numpy_std.find_partners_csv(args.partners)
    n_partners = sum(1 for _ in open(partners_csv)) - 1
    cores = available_cores()
    report: dict = {
        "bench": "bench-std",
        "scenarios": args.scenarios,
        "seed": args.seed,
        "partners": n_partners,
        "partners_csv": str(partners_csv),
        "repeat": args.repeat,
        "machine": {
            "cores": cores,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_before": list(os.getloadavg()),
        },
    }
    contenders: dict[str, dict] = {}
    unavailable: dict[str, str] = {}
    rss: dict[str, float] = {}
    common = ["--scenarios", str(args.scenarios), "--seed", str(args.seed), "--partners", str(partners_csv)]

    commands: dict[str, list[str]] = {}
    for name in ("hand_loop", "numpy"):
        if name in args.skip:
            unavailable[name] = f"skipped (--skip {name})"
    # the hand loop
    if "hand_loop" not in args.skip:
        try:
            log("building the hand loop (cargo bench --no-run) ...", quiet)
            commands["hand_loop"] = [str(build_bench("hand_loop")), *common]
        except ChildFailed as e:
            unavailable["hand_loop"] = str(e)
    # NumPy
    if "numpy" not in args.skip:
        commands["numpy"] = [sys.executable, str(HERE / "numpy_std.py"), "--json", *common]
    # the engine
    # the engine: through the Python package, or (--engine rust, or auto without the
    # binding) through the Rust API with benches/engine_std.rs
    engine_via = None
    if "engine" in args.skip:
        unavailable["engine_1_thread"] = unavailable["engine_all_threads"] = "skipped (--skip engine)"
    else:
        python_reason = engine_unavailable_reason() if args.engine != "rust" else "not asked (--engine rust)"
        if python_reason is None:
            engine_via = "python"
            engine = [sys.executable, str(HERE / "bench_std.py"), "--engine-child", *common]
            engine += ["--warmup", str(args.warmup)]
        else:
            report["engine_python_unavailable"] = python_reason
            if args.engine == "python":
                unavailable["engine_1_thread"] = unavailable["engine_all_threads"] = python_reason
            else:
                try:
                    log("building the engine driver (cargo bench --no-run) ...", quiet)
                    engine = [str(build_bench("engine_std")), *common]
                    engine_via = "rust"
                    log(f"engine measured through the Rust API: {python_reason}", quiet)
                except ChildFailed as e:
                    unavailable["engine_1_thread"] = unavailable["engine_all_threads"] = (
                        f"Python binding: {python_reason}; Rust driver: {e}"
                    )
        if engine_via is not None:
            commands["engine_1_thread"] = [*engine, "--threads", "1"]
            commands["engine_all_threads"] = [*engine, "--threads", str(cores)]
    report["engine_via"] = engine_via

    for round_no in range(args.repeat):
        for name, cmd in commands.items():
            if name in unavailable:
                continue
            log(f"[round {round_no + 1}/{args.repeat}] {name} ...", quiet)
            try:
                stats, peak = run_child(cmd, env=engine_env() if name.startswith("engine") else None)
            except ChildFailed as e:
                unavailable[name] = str(e)
                contenders.pop(name, None)
                continue
            best = contenders.get(name)
            if best is None or stats["seconds"] < best["seconds"]:
                contenders[name] = stats
            rss[name] = max(rss.get(name, 0.0), peak)
            log(
                f"    {stats['seconds']:.2f} s, {stats['partner_months_per_s'] / 1e6:.1f} M partner-months/s",
                quiet,
            )

    # peak memory of an engine run at --memory-scenarios
    engine_rss = None
    if "engine_all_threads" in contenders and args.memory_scenarios > 0:
        cmd = list(commands["engine_all_threads"])
        cmd[cmd.index("--scenarios") + 1] = str(args.memory_scenarios)
        if "--warmup" in cmd:
            cmd[cmd.index("--warmup") + 1] = "0"
        log(f"engine at {args.memory_scenarios:,} scenarios, all threads, for peak memory ...", quiet)
        try:
            mem_stats, engine_rss = run_child(cmd, env=engine_env())
            report["engine_memory_run"] = {
                "scenarios": args.memory_scenarios,
                "threads": cores,
                "seconds": mem_stats["seconds"],
                "peak_rss_mb": engine_rss,
                "mean_payout": mem_stats["mean_payout"],
                "mean_payout_se": mem_stats["mean_payout_se"],
            }
            # the interpreter with numpy and rebatesim imported and the inputs loaded
            base = list(cmd)
            base[base.index("--scenarios") + 1] = "1"
            _, report["engine_memory_run"]["baseline_rss_mb_1_scenario"] = run_child(base, env=engine_env())
        except ChildFailed as e:
            unavailable["engine_memory_run"] = str(e)

    report["machine"]["loadavg_after"] = list(os.getloadavg())
    pms = {
        name: (contenders[name]["partner_months_per_s"] if name in contenders else None)
        for name in ("engine_1_thread", "engine_all_threads", "numpy", "hand_loop")
    }
    report["partner_months_per_s"] = pms
    report["threads_all"] = cores
    report["ratios"] = {
        "engine_1_thread_over_hand_loop": ratio(pms["engine_1_thread"], pms["hand_loop"]),
        "engine_1_thread_over_numpy": ratio(pms["engine_1_thread"], pms["numpy"]),
        "engine_all_threads_over_engine_1_thread": ratio(pms["engine_all_threads"], pms["engine_1_thread"]),
        "hand_loop_over_numpy": ratio(pms["hand_loop"], pms["numpy"]),
    }
    engine_stats = contenders.get("engine_1_thread")
    stat_keys = (
        "mean_payout",
        "mean_payout_se",
        "p50",
        "p95",
        "p99",
        "budget_binding_share",
        "budget_binding_share_se",
        "mean_partners_per_tier",
        "mean_partners_per_tier_se",
    )
    report["engine"] = (
        {"available": True, **{k: engine_stats[k] for k in stat_keys}}
        if engine_stats
        else {"available": False, "reason": unavailable.get("engine_1_thread", "not run")}
    )
    report["peak_rss_mb"] = {"engine_memory_run": engine_rss, **{k: round(v, 1) for k, v in rss.items()}}
    report["targets"] = {
        name: target_status(name, report["ratios"].get(name) if name != "engine_peak_rss_mb" else engine_rss)
        for name in TARGETS
    }
    if cores < 2:
        report["targets"]["engine_all_threads_over_engine_1_thread"]["met"] = None
    if args.memory_scenarios != 10_000 and engine_rss is not None:
        t = report["targets"]["engine_peak_rss_mb"]
        t["description"] = f"peak memory (target at 10,000 scenarios; measured at {args.memory_scenarios:,})"
        t["met"] = None
    report["reference"] = REFERENCE
    report["agreement"] = {name: agreement(s) for name, s in contenders.items()}
    report["contenders"] = contenders
    report["unavailable"] = unavailable
    return report


def fmt_m(x) -> str:
    return "-" if x is None else f"{x / 1e6:,.2f}"


def print_table(r: dict) -> None:
    print(
        f"bench-std: {r['partners']:,} partners x 12 months x {r['scenarios']:,} scenarios, "
        f"seed {r['seed']}, best of {r['repeat']}, engine via {r['engine_via'] or '-'}; "
        f"{r['machine']['cores']} cores, load "
        f"{r['machine']['loadavg_before'][0]:.2f} -> {r['machine']['loadavg_after'][0]:.2f}"
    )
    head = f"{'contender':<20} {'threads':>7} {'seconds':>8} {'M pm/s':>8} {'mean payout M (SE)':>19} {'binds %':>8}  {'partners per tier':<26} {'RSS MB':>7} {'ref':>4}"
    print(head)
    print("-" * len(head))
    for name in ("engine_1_thread", "engine_all_threads", "numpy", "hand_loop"):
        s = r["contenders"].get(name)
        if s is None:
            why = r["unavailable"].get(name, "not run")
            print(f"{name:<20} not available: {why}")
            continue
        threads = s.get("threads", 1)
        tiers = "/".join(f"{v:,.0f}" for v in s["mean_partners_per_tier"])
        agrees = "ok" if r["agreement"][name]["agrees"] else "OFF"
        print(
            f"{name:<20} {threads:>7} {s['seconds']:>8.2f} {s['partner_months_per_s'] / 1e6:>8.1f} "
            f"{s['mean_payout'] / 1e6:>11.2f} ({s['mean_payout_se'] / 1e6:.2f}) "
            f"{100 * s['budget_binding_share']:>8.1f}  {tiers:<26} {r['peak_rss_mb'].get(name, 0):>7.0f} {agrees:>4}"
        )
    ref = REFERENCE
    print(
        f"{'reference (20k)':<20} {'':>7} {'':>8} {'':>8} {ref['mean_payout'] / 1e6:>11.2f} "
        f"({ref['mean_payout_se'] / 1e6:.2f}) {100 * ref['budget_binding_share']:>8.1f}  "
        + "/".join(f"{v:,.0f}" for v in ref["mean_partners_per_tier"])
    )
    print()
    for name, ratio_value in r["ratios"].items():
        print(f"{name:<42} {'-' if ratio_value is None else f'{ratio_value:.2f}'}")
    mem = r.get("engine_memory_run")
    if mem:
        print(
            f"engine peak RSS at {mem['scenarios']:,} scenarios ({mem['threads']} threads): "
            f"{mem['peak_rss_mb']:.0f} MB (process with inputs loaded, 1 scenario: "
            f"{mem['baseline_rss_mb_1_scenario']:.0f} MB)"
        )
    print()
    for t in r["targets"].values():
        status = {True: "met", False: "NOT met", None: "n/a"}[t["met"]]
        value = "-" if t["value"] is None else f"{t['value']:.2f}"
        print(f"target: {t['description']:<66} {value:>8}  {status}")
    if not r["engine"]["available"]:
        print(f"\nengine not available: {r['engine']['reason']}")
    elif r["engine_via"] == "rust":
        print(
            "\nengine measured through the Rust API (benches/engine_std.rs), not the Python "
            f"package: {r.get('engine_python_unavailable')}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="bench-std: the rebatesim engine vs NumPy vs a hand-written Rust loop"
    )
    ap.add_argument("--scenarios", type=int, default=2000, help="scenarios per timed run (2000)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="interleaved rounds; the fastest counts")
    ap.add_argument("--memory-scenarios", type=int, default=10_000, help="engine run for peak RSS (0: skip)")
    ap.add_argument("--warmup", type=int, default=20, help="engine warm-up scenarios before timing")
    ap.add_argument(
        "--engine", choices=["auto", "python", "rust"], default="auto",
        help="measure the engine through the Python package (python), the Rust API "
        "(rust: benches/engine_std.rs), or python when the binding has simulate() else rust (auto)",
    )
    ap.add_argument("--partners", help="partner CSV (default: ../shared/bench/partners_10k.csv)")
    ap.add_argument(
        "--skip", action="append", default=[], choices=["engine", "numpy", "hand_loop"],
        help="leave a contender out (repeatable)",
    )
    # internal: the engine contender's child process
    ap.add_argument("--engine-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.scenarios < 1 or args.repeat < 1:
        ap.error("--scenarios and --repeat must be at least 1")
    if args.engine_child:
        return engine_child(args)
    report = drive(args)
    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
