"""Scale-out figures of docs/scale-out.md for the runs scaled out in session 24: the wall
time of ``rs.sensitivity`` or ``rs.forecast`` on the distributor example, locally
(``threads=None``) and on a spawned 2-process ``ProcessPoolExecutor`` (``threads=1``), the
pool's first and second ("warm") run, with a check that the results are bit-identical.

    python scripts/scaleout_runs_bench.py sensitivity|forecast

The machine is shared: the figures print the load average next to them.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Tuple

import pandas as pd

import rebatesim as rs


def runner(which: str) -> Tuple[Callable[..., Any], Callable[[Any], Any]]:
    """The run to time and what of its result must be bit-identical."""
    prog, parts, model = (rs.example_path(f) for f in ("programme.toml", "partners.csv", "model.toml"))
    if which == "sensitivity":
        a = [("Noise", "noise.sigma", "-50%", "x2"), ("Uplift", "behaviour.uplift.elasticity", "off", "x2")]
        return (lambda **kw: rs.sensitivity(prog, parts, model, scenarios=60, seed=1, assumptions=a,
                                            progress=False, **kw)), (lambda r: r._data)
    if which == "forecast":
        tx = pd.read_csv(rs.example_path("transactions.csv"))
        tx = tx[tx["date"] <= "2027-06-30"]
        return (lambda **kw: rs.forecast(prog, parts, model, tx, as_of="2027-06-30", scenarios=200, seed=1,
                                         progress=False, **kw)), (lambda r: r.to_json())
    raise SystemExit(f"expected sensitivity or forecast, found {which!r}")


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "sensitivity"
    run, key = runner(which)
    t = time.perf_counter()
    local = run()
    print(f"{which} local (threads=None): {time.perf_counter() - t:.1f} s; load {os.getloadavg()}")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        t = time.perf_counter()
        pool.submit(int, 0).result()
        start = time.perf_counter() - t
        t = time.perf_counter()
        first = run(executor=pool, threads=1)
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        warm = run(executor=pool, threads=1)
        t2 = time.perf_counter() - t
    print(f"{which} 2-process pool (threads=1): first {t1:.1f} s, warm {t2:.1f} s (pool start {start:.1f} s); "
          f"load {os.getloadavg()}")
    print("bit-identical:", key(local) == key(first) == key(warm))


if __name__ == "__main__":
    main()
