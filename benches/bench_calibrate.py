"""bench-calibrate: ``rebatesim.calibrate`` on a history of 10⁵ partners × 36 months, from a file.

Issue 17's speed target is "calibrating 10⁵ partners × 36 months (≈10⁷ lines) in under 30 s on
2 cores". ``tests/calibrate_recovery.rs``'s ``speed_1e5_partners`` measures the estimators on a
table already in memory; this bench measures what a user runs: ``rs.calibrate(path, partners,
programme=...)`` reading the history from Parquet (and, with ``--csv``, from CSV), with the
default bootstrap and draws.

The history is the bundled distributor example's three years (``history.csv.gz``, 3,000-odd
partners, 267,547 lines) tiled ``--copies`` times: copy ``k`` renames every partner
``ID~k`` and every order ``ORDER~k`` (so partners and orders stay distinct) and keeps its
segment. A tiled history has the bundled one's estimates with standard errors about √copies
smaller (each partner's twin is an independent-looking partner); for timing that is what
matters: the lines, partners, orders and months are those of a real 10⁷-line history. The
file is written once under ``--data-dir`` (default ``/tmp/rebatesim-bench-calibrate``) with
pyarrow, a copy at a time, and reused.

Each calibration runs in a child process of its own; the bench reports its wall time, user +
system CPU and peak RSS (``ru_maxrss`` via ``os.wait4``), and the calibration's own
count of estimates and draws.

Usage::

    python benches/bench_calibrate.py [--copies 37] [--csv] [--repeat 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "distributor")


def write_tiled(copies: int, data_dir: str) -> tuple:
    """The tiled history as Parquet (and CSV) and its partner table; paths and line count."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    os.makedirs(data_dir, exist_ok=True)
    stem = os.path.join(data_dir, f"history_x{copies}")
    paths = (stem + ".parquet", stem + ".csv", stem + "_partners.csv")
    if all(os.path.exists(p) for p in paths):
        return paths + (pq.ParquetFile(paths[0]).metadata.num_rows,)
    strings = {c: pa.string() for c in ("partner_id", "date", "category", "order_id", "quantity", "revenue")}
    hist = pacsv.read_csv(os.path.join(EXAMPLE, "history.csv.gz"),
                          convert_options=pacsv.ConvertOptions(column_types=strings))
    parts = pacsv.read_csv(os.path.join(EXAMPLE, "history_partners.csv"),
                           convert_options=pacsv.ConvertOptions(column_types={"partner_id": pa.string()}))
    tmp = [p + ".part" for p in paths]
    rows = 0
    with pq.ParquetWriter(tmp[0], hist.schema) as pw, pacsv.CSVWriter(tmp[1], hist.schema) as cw:
        for k in range(copies):
            tag = pa.scalar(f"~{k}")
            t = hist.set_column(0, "partner_id", pc.binary_join_element_wise(hist["partner_id"], tag, ""))
            i = t.schema.get_field_index("order_id")
            t = t.set_column(i, "order_id", pc.binary_join_element_wise(t["order_id"], tag, ""))
            pw.write_table(t)
            cw.write_table(t)
            rows += t.num_rows
    tiles = []
    for k in range(copies):
        tag = pa.scalar(f"~{k}")
        tiles.append(parts.set_column(0, "partner_id", pc.binary_join_element_wise(parts["partner_id"], tag, "")))
    pacsv.write_csv(pa.concat_tables(tiles), tmp[2])
    for t, p in zip(tmp, paths):
        os.replace(t, p)  # complete files or none
    return paths + (rows,)


CHILD = r"""
import json, sys, time, warnings
import rebatesim as rs
history, partners, programme = sys.argv[1:4]
t0 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    cal = rs.calibrate(history, partners, programme=rs.Programme.from_file(programme))
print(json.dumps({"seconds": time.perf_counter() - t0, "estimates": len(cal.estimates),
                  "draws": len(cal.draws)}))
"""


def run_child(python: str, history: str, partners: str) -> dict:
    programme = os.path.join(EXAMPLE, "programme.toml")  # as the demo: its thresholds give the behaviour
    t0 = time.perf_counter()
    proc = subprocess.Popen([python, "-c", CHILD, history, partners, programme],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"calibration of {history} failed:\n{err}")
    res = json.loads(out.strip().splitlines()[-1])
    res.update(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_rss_gb=usage.ru_maxrss / 2**20)
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=37, help="tiles of the bundled history (37 ≈ 10⁷ lines)")
    ap.add_argument("--csv", action="store_true", help="also calibrate from the CSV file")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--python", default=sys.executable, help="the interpreter whose rebatesim is measured")
    ap.add_argument("--data-dir", default="/tmp/rebatesim-bench-calibrate")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.copies < 1 or a.repeat < 1:
        ap.error("--copies and --repeat must be at least 1")
    parquet, csv, partners, rows = write_tiled(a.copies, a.data_dir)
    results = []
    for _ in range(a.repeat):
        for kind, path in [("parquet", parquet)] + ([("csv", csv)] if a.csv else []):
            r = run_child(a.python, path, partners)
            r.update(input=kind, lines=rows, partners_tiles=a.copies, load=os.getloadavg()[0])
            results.append(r)
            if not a.json:
                print(f"{kind:8s} {rows:,} lines: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, "
                      f"peak RSS {r['peak_rss_gb']:.2f} GB (calibrate {r['seconds']:.1f} s; "
                      f"{r['estimates']} estimates, {r['draws']} draws; load {r['load']:.1f})")
    if a.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
