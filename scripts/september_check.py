#!/usr/bin/env python3
"""The bundled example's forecast at a month end (default 30 September 2027), per component:
the P5-P95 of the forecast payout against what the settlement of the whole year pays, with the
hand-written model (model.toml, the segments' mixes) and with the model and partner mixes the
demo calibrates on the 2024-2026 history (purchase incidence and category prices included), and
with that model under the calibration's parameter draws (input uncertainty).
Recorded in docs/backtest.md, section 5.

    python scripts/september_check.py [AS_OF] [--scenarios 200]
"""

from __future__ import annotations

import argparse
import warnings

import pandas as pd

import rebatesim as rs
from rebatesim._cli_demo import _demo_calibration
from rebatesim._examples import example_path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("as_of", nargs="?", default="2027-09-30")
    ap.add_argument("--scenarios", type=int, default=200)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    prog = rs.Programme.from_file(example_path("programme.toml"))
    t = pd.read_csv(example_path("transactions.csv"))
    actuals = t[t["date"] <= a.as_of]
    s = rs.settle(prog, example_path("partners.csv"), example_path("transactions.csv"))
    settled = {c: float(p) for c, _, _, _, p in s._core.by_component()}
    cal, model, draws = _demo_calibration(prog)
    calibrated_pop = cal.population(example_path("partners.csv"))
    runs = (("hand-written", example_path("model.toml"), example_path("partners.csv"), False),
            ("calibrated", model, calibrated_pop, False),
            ("calibrated + draws", model, calibrated_pop, draws))
    rows = {}
    for name, m, pop, pu in runs:
        f = rs.forecast(prog, pop, m, actuals, as_of=a.as_of, scenarios=a.scenarios, seed=1, progress=False,
                        parameter_uncertainty=pu)
        bc = f.by_component()
        for comp, r in bc.iterrows():
            inside = r["p5"] <= settled[comp] <= r["p95"]
            rows.setdefault(comp, {})[name] = f"{r['p5'] / 1e3:,.0f}k–{r['p95'] / 1e3:,.0f}k{' ✓' if inside else ''}"
    names = [name for name, *_ in runs]
    print("| component | " + " | ".join(names) + " | settled |\n|---" + "|---" * len(names) + "|---|")
    for comp, r in rows.items():
        print(f"| {comp} | " + " | ".join(r[n] for n in names) + f" | {settled[comp] / 1e3:,.0f}k |")


if __name__ == "__main__":
    main()
