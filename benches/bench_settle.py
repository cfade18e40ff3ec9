"""bench-settle: exact settlement of a distributor's year at 10⁶–10⁷ lines.

Generates a distributor-like year of transaction lines (the bundled distributor programme's
segments and categories; partners with lognormal sizes, several lines per order, returns as
negative lines), caches it as CSV and Parquet, and times, each in its own child process with
its peak resident memory (``ru_maxrss`` via ``os.wait4``):

* ``rs_pandas``: ``rebatesim.settle`` of all seven components from a pandas DataFrame;
* ``rs_parquet``: ``rebatesim.settle`` from a Parquet path;
* ``rs_polars``: ``rebatesim.settle`` from a polars DataFrame;
* ``rs_csv``: ``rebatesim.settle`` from a CSV path;
* ``pandas_volume``: the installer volume component alone (a retroactive quarterly ladder on
  revenue with a cap per partner) in pandas, as an analyst would write it;
* ``duckdb_volume`` / ``duckdb_volume_parquet``: the same component in DuckDB SQL, from the
  DataFrame and from the Parquet file;
* ``cli_out``: ``rebatesim settle --out DIR`` on the CSV file (wall time of the whole command);
* ``rs_forecast`` (not run unless named in ``--only``): the fixed cost of ``rebatesim.forecast``,
  a forecast at 1 and at 2 scenarios (``seconds``, ``seconds_2``) with the distributor model
  on the purchases dated up to 2027-06-30 (returns left out: a partner whose returns exceed its
  purchases to date is refused by the forecast); ``--lines 2e6 --partners 100000`` gives
  about 10⁶ actual lines for 100k partners.

Inputs are read before the timed region (a DataFrame built from Parquet, as a user holding
the year in memory would have it) except where reading is the point (the Parquet and CSV
paths, and the CLI). The data are generated in a child process of their own: the driver stays
small, so a child's peak RSS (which Linux carries over from the process it was forked from)
is its own. A contender the installed package cannot run (e.g. Parquet before the
Arrow data path exists) is reported as unavailable with the reason. Ratios: every
``rs_*`` contender against ``pandas_volume`` and ``duckdb_volume``; the DuckDB and pandas
figures settle ONE component of seven, so ratio ≥ 1 against them is a real bar.

Usage::

    python benches/bench_settle.py [--lines 1e6,1e7] [--partners 40000,100000] [--json]
        [--only rs_pandas,pandas_volume,...] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_std import ChildFailed, engine_env, run_child  # noqa: E402

PROGRAMME = ROOT / "examples" / "distributor" / "programme.toml"
SEGMENTS = ["installer", "retail", "online"]
SEGMENT_SHARE = [0.6, 0.25, 0.15]
CATEGORIES = ["cable", "lighting", "smart_home", "tools", "accessories"]
CATEGORY_SHARE = [0.30, 0.25, 0.15, 0.15, 0.15]
# installer_volume of the distributor programme: retroactive quarterly ladder, cap 40,000
LADDER = [(25000, 0.01), (50000, 0.02), (100000, 0.03), (200000, 0.04)]
CAP = 40000.0

CONTENDERS = ["rs_pandas", "rs_parquet", "rs_polars", "rs_csv", "pandas_volume",
              "duckdb_volume", "duckdb_volume_parquet", "cli_out"]
MODEL = ROOT / "examples" / "distributor" / "model.toml"
FORECAST_AS_OF = "2027-06-30"


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------
def generate(lines: int, partners: int, folder: Path, seed: int = 2027) -> dict:
    """Write partners.csv, transactions.csv and transactions.parquet to ``folder`` (cached)."""
    import numpy as np
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"partners": folder / "partners.csv", "csv": folder / "transactions.csv",
             "parquet": folder / "transactions.parquet"}
    if all(p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(seed)
    seg = rng.choice(len(SEGMENTS), size=partners, p=SEGMENT_SHARE)
    size = np.exp(rng.normal(0.0, 1.0, size=partners))
    ids = np.array([f"{SEGMENTS[s][:3].upper()}-{i:07d}" for i, s in enumerate(seg)])
    lines_per_partner = rng.multinomial(lines, size / size.sum())
    annual = 400.0 * lines_per_partner  # revenue scales with activity: ~400 a line
    pd.DataFrame({
        "partner_id": ids,
        "segment": np.array(SEGMENTS)[seg],
        "baseline_revenue": np.round(annual * np.exp(rng.normal(0, 0.2, partners)), 2),
        "baseline_units": np.maximum(1, np.round(annual / 120.0)).astype(np.int64),
    }).to_csv(paths["partners"], index=False)
    who = np.repeat(np.arange(partners), lines_per_partner)
    n = len(who)
    day = rng.integers(0, 365, size=n)
    dates = np.datetime64("2027-01-01") + day.astype("timedelta64[D]")
    qty = np.maximum(1, np.round(np.exp(rng.normal(1.5, 1.0, size=n)))).astype(np.int64)
    price = np.round(np.exp(rng.normal(np.log(30), 0.5, size=n)), 2)
    returns = rng.random(n) < 0.02
    qty = np.where(returns, -qty, qty)
    revenue = np.round(qty * price, 2)
    cat = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_SHARE)
    # about 4 lines an order, orders within a partner
    order = np.cumsum(rng.random(n) < 0.25)
    frame = pd.DataFrame({
        "partner_id": ids[who],
        "date": dates,
        "quantity": qty.astype(np.float64),
        "revenue": revenue,
        "category": np.array(CATEGORIES)[cat],
        "order_id": np.char.add("SO-", order.astype(str)),
    })
    frame.loc[returns, "order_id"] = None
    frame.to_parquet(paths["parquet"], index=False)
    frame.to_csv(paths["csv"], index=False, date_format="%Y-%m-%d")
    return paths


def generate_in_child(lines: int, partners: int, folder: Path) -> dict:
    """:func:`generate` in a child process (the driver never holds the data)."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generate", str(lines),
                    str(partners), str(folder)], check=True)
    return {"partners": folder / "partners.csv", "csv": folder / "transactions.csv",
            "parquet": folder / "transactions.parquet"}


# ---------------------------------------------------------------------------------------
# Child side
# ---------------------------------------------------------------------------------------
def child(args) -> int:
    import pandas as pd

    name, partners_csv, csv_path, parquet_path = (args.child, args.partners_csv,
                                                  args.csv_path, args.parquet_path)
    out: dict = {"contender": name}
    if name == "rs_forecast":
        import rebatesim as rs

        programme = rs.Programme.from_file(PROGRAMME)
        tx = pd.read_parquet(parquet_path)
        actuals = tx[(tx["date"] <= FORECAST_AS_OF) & (tx["revenue"] > 0)].reset_index(drop=True)
        del tx
        out["actual_lines"] = len(actuals)
        for n, key in ((1, "seconds"), (2, "seconds_2")):
            t0 = time.perf_counter()
            f = rs.forecast(programme, partners_csv, str(MODEL), actuals, as_of=FORECAST_AS_OF,
                            scenarios=n, seed=1, progress=False)
            out[key] = time.perf_counter() - t0
        del f
    elif name.startswith("rs_"):
        import rebatesim as rs

        programme = rs.Programme.from_file(PROGRAMME)
        partners = pd.read_csv(partners_csv)
        if name == "rs_pandas":
            tx = pd.read_parquet(parquet_path)
        elif name == "rs_polars":
            import polars as pl

            tx = pl.read_parquet(parquet_path)
        elif name == "rs_parquet":
            tx = parquet_path
        else:
            tx = csv_path
        t0 = time.perf_counter()
        s = rs.settle(programme, partners, tx)
        out["seconds"] = time.perf_counter() - t0
        out["total"] = str(s.total)
        lines = s.lines
        iv = lines[lines["component"] == "installer_volume"]
        # the installer volume component after its own cap, before the programme-level rules:
        # what pandas_volume and duckdb_volume compute (a cross-check of the three)
        out["installer_volume_capped"] = f"{(iv['calculated'] + iv['adj_component_cap']).sum():.2f}"
        out["lines_out"] = len(lines)
    elif name == "pandas_volume":
        import numpy as np

        tx = pd.read_parquet(parquet_path)
        partners = pd.read_csv(partners_csv)
        t0 = time.perf_counter()
        inst = set(partners.loc[partners["segment"] == "installer", "partner_id"])
        t = tx[tx["partner_id"].isin(inst)]
        q = (t["date"].dt.month - 1) // 3 + 1
        vol = t.groupby([t["partner_id"], q])["revenue"].sum()
        thresholds = np.array([f for f, _ in LADDER])
        rates = np.array([0.0] + [r for _, r in LADDER])
        rate = rates[np.searchsorted(thresholds, vol.to_numpy(), side="right")]
        amount = np.round(rate * vol.to_numpy(), 2)
        per = pd.Series(amount, index=vol.index).groupby(level=0).cumsum()
        capped = np.minimum(per, CAP)
        paid = capped.groupby(level=0).diff().fillna(capped)
        out["seconds"] = time.perf_counter() - t0
        out["total"] = f"{paid.sum():.2f}"
    elif name.startswith("duckdb_volume"):
        import duckdb

        con = duckdb.connect()
        partners = pd.read_csv(partners_csv)
        con.register("partners", partners)
        if name == "duckdb_volume":
            tx = pd.read_parquet(parquet_path)
            con.register("tx", tx)
            source = "tx"
        else:
            source = f"read_parquet('{parquet_path}')"
        ladder = " ".join(f"WHEN vol >= {f} THEN {r}" for f, r in reversed(LADDER))
        sql = f"""
        WITH v AS (
          SELECT t.partner_id, (month(t.date) - 1) // 3 + 1 AS q, sum(t.revenue) AS vol
          FROM {source} t JOIN partners p USING (partner_id)
          WHERE p.segment = 'installer' GROUP BY ALL),
        a AS (SELECT partner_id, q, round(vol * CASE {ladder} ELSE 0 END, 2) AS amount FROM v),
        c AS (SELECT partner_id, q, least(sum(amount) OVER (PARTITION BY partner_id ORDER BY q),
                                         {CAP}) AS to_date FROM a),
        d AS (SELECT to_date - coalesce(lag(to_date) OVER (PARTITION BY partner_id ORDER BY q), 0)
                     AS paid FROM c)
        SELECT sum(paid) FROM d"""
        t0 = time.perf_counter()
        total = con.execute(sql).fetchall()[0][0]
        out["seconds"] = time.perf_counter() - t0
        out["total"] = f"{total:.2f}"
    else:
        raise SystemExit(f"unknown contender {name}")
    print(json.dumps(out))
    return 0


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------
def run_one(name: str, paths: dict, tmp: Path) -> dict:
    if name == "cli_out":
        out_dir = tmp / "cli_out"
        cmd = [sys.executable, "-m", "rebatesim", "settle", "--programme", str(PROGRAMME),
               "--partners", str(paths["partners"]), "--transactions", str(paths["csv"]),
               "--out", str(out_dir), "--force"]
        t0 = time.perf_counter()
        wrapper = [sys.executable, "-c",
                   "import subprocess, sys, json, time; t=time.perf_counter(); "
                   "r=subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
                   "print(json.dumps({'seconds': time.perf_counter()-t, 'rc': r.returncode}))",
                   *cmd]
        obj, rss = run_child(wrapper, cwd=ROOT, env=engine_env())
        if obj.get("rc") != 0:
            raise ChildFailed(f"rebatesim settle --out exited with {obj.get('rc')}")
        obj["wall_seconds"] = time.perf_counter() - t0
        obj["peak_rss_mb"] = rss  # the largest descendant's peak (RUSAGE of waited children)
        return obj
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name,
           "--partners-csv", str(paths["partners"]), "--csv-path", str(paths["csv"]),
           "--parquet-path", str(paths["parquet"])]
    obj, rss = run_child(cmd, cwd=ROOT, env=engine_env())
    obj["peak_rss_mb"] = rss
    return obj


def drive(args) -> dict:
    sizes = [(int(float(a)), int(float(b))) for a, b in
             zip(args.lines.split(","), args.partners.split(","))]
    only = [c for c in args.only.split(",") if c] if args.only else CONTENDERS
    unknown = [c for c in only if c not in CONTENDERS + ["rs_forecast"]]
    if unknown:
        raise SystemExit(f"unknown contender(s) {', '.join(unknown)}")
    data_dir = Path(args.data_dir)
    report: dict = {"bench": "bench-settle", "programme": str(PROGRAMME), "sizes": [],
                    "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                                "loadavg_before": list(os.getloadavg())}}
    for lines, partners in sizes:
        folder = data_dir / f"year_{lines}_{partners}"
        if not args.json:
            print(f"data: {lines:,} lines, {partners:,} partners in {folder} ...", file=sys.stderr)
        paths = generate_in_child(lines, partners, folder)
        entry: dict = {"lines": lines, "partners": partners, "results": {}, "unavailable": {}}
        for name in only:
            if not args.json:
                print(f"  {name} ...", file=sys.stderr, flush=True)
            try:
                entry["results"][name] = run_one(name, paths, folder)
            except ChildFailed as e:
                entry["unavailable"][name] = str(e).splitlines()[-1][:300]
        res = entry["results"]
        ratios = {}
        for rsn in [c for c in res if c.startswith("rs_") and c != "rs_forecast"]:
            for ref in ("pandas_volume", "duckdb_volume", "duckdb_volume_parquet"):
                if ref in res:
                    ratios[f"{rsn}_vs_{ref}"] = res[ref]["seconds"] / res[rsn]["seconds"]
        entry["speed_ratios"] = ratios  # > 1: rebatesim faster
        if "cli_out" in res and "rs_csv" in res:
            entry["cli_rss_over_library"] = res["cli_out"]["peak_rss_mb"] / res["rs_csv"]["peak_rss_mb"]
        report["sizes"].append(entry)
    report["machine"]["loadavg_after"] = list(os.getloadavg())
    return report


def print_table(r: dict) -> None:
    for e in r["sizes"]:
        print(f"{e['lines']:,} lines / {e['partners']:,} partners")
        for name, m in e["results"].items():
            check = m.get("installer_volume_capped")
            extra = (f" (installer volume {check})" if check else "") + (
                f" ({m['actual_lines']:,} actual lines; 2 scenarios {m['seconds_2']:.2f} s)"
                if "seconds_2" in m else "")
            print(f"  {name:<24} {m['seconds']:8.2f} s  peak {m['peak_rss_mb']:8.0f} MB"
                  f"  total {m.get('total', '')}" + extra)
        for name, why in e["unavailable"].items():
            print(f"  {name:<24} unavailable: {why}")
        for k, v in e["speed_ratios"].items():
            print(f"  ratio {k}: {v:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", default="1e6,1e7")
    ap.add_argument("--partners", default="40000,100000")
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(CONTENDERS)}")
    ap.add_argument("--data-dir", default=os.environ.get("TMPDIR", "/tmp") + "/rebatesim-bench-settle")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--generate", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--partners-csv", help=argparse.SUPPRESS)
    ap.add_argument("--csv-path", help=argparse.SUPPRESS)
    ap.add_argument("--parquet-path", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args)
    if args.generate:
        generate(int(args.generate[0]), int(args.generate[1]), Path(args.generate[2]))
        return 0
    if len(args.lines.split(",")) != len(args.partners.split(",")):
        ap.error("--lines and --partners need the same number of entries")
    r = drive(args)
    print(json.dumps(r, indent=1) if args.json else "", end="\n" if args.json else "")
    if not args.json:
        print_table(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
