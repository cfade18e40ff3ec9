"""Golden outputs: a fixed set of runs whose every output file must stay bit-identical.

Issue 14 (the architecture step) promised "no change in behaviour": before the redesign, the
outputs of settle / simulate (1 and 2 threads) / compare / forecast / backtest on the bundled
examples with fixed seeds, and of ``rs.sensitivity`` and the Python result tables, were recorded
as SHA-256 digests in ``tests/fixtures/golden/digests.json``. This test re-runs them and names
every file that differs.

A change that is *meant* to change results (a faster exact method that draws differently, a new
column) re-records them on purpose::

    REBATESIM_BLESS=1 python -m pytest tests/python/test_golden.py

and says so in its commit message. To see what changed, run ``record(DIR)`` below on both
commits and diff the two folders.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path


import rebatesim as rs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "distributor"
DIGESTS = ROOT / "tests" / "fixtures" / "golden" / "digests.json"

# Files that carry something other than results (the report's build stamp and the Excel
# container's zip timestamps); their content is covered by the CSV/JSON files beside them.
SKIP_SUFFIXES = {".xlsx", ".png", ".html"}
# The audit manifest records absolute input paths and the version: checked by test_close.py.
SKIP_NAMES = {"manifest.json"}


def _cli(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "rebatesim", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )


def _actuals_to(as_of: str, out: Path) -> Path:
    with open(EXAMPLE / "transactions.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    d = header.index("date")
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(r for r in body if r[d] <= as_of)
    return out


def record(folder: Path) -> None:
    """Run every golden job, writing its outputs under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    # Paths relative to the project root (the CLI runs there): they appear in the outputs
    # (compare names two designs of the same name by their paths), which must not depend on
    # where the checkout lives.
    e = {k: (EXAMPLE / v).relative_to(ROOT).as_posix() for k, v in
         dict(programme="programme.toml", yaml="programme.yaml", partners="partners.csv",
              model="model.toml", transactions="transactions.csv").items()}
    _cli("settle", "--programme", e["programme"], "--partners", e["partners"],
         "--transactions", e["transactions"], "--out", str(folder / "settle"), "--csv")
    for threads in ("1", "2"):
        _cli("simulate", "--programme", e["programme"], "--partners", e["partners"],
             "--model", e["model"], "--scenarios", "40", "--seed", "11",
             "--threads", threads, "--out", str(folder / f"simulate-{threads}"))
    _cli("compare", "--programme", e["programme"], "--programme", e["yaml"],
         "--partners", e["partners"], "--model", e["model"], "--scenarios", "40",
         "--seed", "11", "--out", str(folder / "compare"))
    actuals = _actuals_to("2027-09-30", folder / "actuals-sep.csv")
    _cli("forecast", "--programme", e["programme"], "--partners", e["partners"],
         "--model", e["model"], "--actuals", str(actuals), "--as-of", "2027-09-30",
         "--scenarios", "40", "--seed", "11", "--out", str(folder / "forecast"))
    _cli("backtest", "--years", "6", "--scenarios", "16", "--seed", "3",
         "--month-ends", "3,6,9", "--out", str(folder / "backtest"))

    # The Python API's own tables.
    api = folder / "api"
    api.mkdir()
    programme = rs.Programme.from_file(ROOT / e["programme"])
    population = rs.Population.from_csv(ROOT / e["partners"])
    model = rs.Model.from_file(ROOT / e["model"])
    r = rs.simulate(programme, population, model, scenarios=24, seed=5, threads=1,
                    progress=False)
    (api / "simulate.json").write_text(r.to_json(), encoding="utf-8")
    for name in ("per_scenario", "summary", "by_segment", "by_component", "tiers",
                 "accrual_schedule", "cash_schedule", "partners"):
        table = getattr(r, name)
        table = table() if callable(table) else table
        table.to_csv(api / f"simulate_{name}.csv")
    sens = rs.sensitivity(programme, population, model, scenarios=12, seed=5, threads=1,
                          progress=False)
    sens.table.to_csv(api / "sensitivity.csv")
    (api / "sensitivity_base.json").write_text(json.dumps(sens.base, sort_keys=True))
    f = rs.forecast(programme, population, model, actuals=str(actuals), as_of="2027-09-30",
                    scenarios=16, seed=5, threads=1, progress=False)
    (api / "forecast.json").write_text(f.to_json(), encoding="utf-8")
    for name in ("summary", "by_partner", "by_segment", "by_component",
                 "journal", "watch_list", "cash_schedule"):
        table = getattr(f, name)
        table = table() if callable(table) else table
        table.to_csv(api / f"forecast_{name}.csv")

def digests(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix not in SKIP_SUFFIXES and p.name not in SKIP_NAMES:
            out[p.relative_to(folder).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_every_golden_output_is_bit_identical(tmp_path: Path) -> None:
    record(tmp_path / "run")
    got = digests(tmp_path / "run")
    if os.environ.get("REBATESIM_BLESS") == "1":
        DIGESTS.parent.mkdir(parents=True, exist_ok=True)
        DIGESTS.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return
    want = json.loads(DIGESTS.read_text(encoding="utf-8"))
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    assert not (missing or extra or changed), (
        f"golden outputs differ: changed {changed}, missing {missing}, new {extra} "
        "(see the module docstring to re-record on purpose)"
    )
