"""Scale-out figures of docs/scale-out.md: evaluations per second of the distributor example
and the wall time of a design search, locally and on a 2-worker Dask LocalCluster.

    python scripts/scaleout_bench.py [--scenarios 1000] [--candidates 200] [--workers 2] [--skip-local | --skip-dask]

A candidate evaluation is one simulation of a design (every partner, every scenario). The
search runs ``--candidates`` designs of a space on the distributor example's installer
ladder (entry threshold × entry rate × second rate × cap × top rate × budget: about 230
designs that keep the rates non-decreasing, so that 200 evaluations are a real search). The machine is shared: the figures
print the load average next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import rebatesim as rs

SPACE = {
    "parameter": [
        {"field": "components.installer_volume.tiers[0].from", "from": 15_000, "to": 35_000, "step": 5_000},
        {"field": "components.installer_volume.tiers[0].percent", "values": [0.5, 0.75, 1, 1.25, 1.5]},
        {"field": "components.installer_volume.tiers[1].percent", "values": [1.5, 2, 2.5]},
        {"field": "components.installer_volume.cap", "from": 30_000, "to": 50_000, "step": 10_000},
        {"field": "components.installer_volume.tiers[3].percent", "values": [4, 5]},
        {"field": "budget", "values": [16_000_000, 18_000_000]},
    ],
    "rules": {"non_decreasing_rates": True},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-local", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    a = ap.parse_args()
    programme = rs.example_path("programme.toml")
    partners = rs.example_path("partners.csv")
    model = rs.example_path("model.toml")
    out = {"cores": os.cpu_count(), "scenarios": a.scenarios, "candidates": a.candidates,
           "load_before": os.getloadavg()}
    kw = dict(constraints=[{"kind": "chance", "threshold": "budget", "alpha": 0.05}], scenarios=a.scenarios,
              budget_evaluations=a.candidates, top=5, seed=1, progress=False)
    t = time.perf_counter()
    rs.simulate(programme, partners, model, scenarios=a.scenarios, seed=1, progress=False)
    out["one_evaluation_s"] = time.perf_counter() - t
    if not a.skip_local:
        t = time.perf_counter()
        r = rs.search(programme, SPACE, partners, model, **kw)
        out["local_s"] = time.perf_counter() - t
        out["local_evaluations"] = r.evaluations
        out["local_message"] = r.message
    if a.skip_dask:
        out["load_after"] = os.getloadavg()
        out["local_evaluations_per_s"] = (out["local_evaluations"] + 5 + 2) / out["local_s"]
        print(json.dumps(out, indent=2))
        return
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        t = time.perf_counter()
        r2 = rs.search(programme, SPACE, partners, model, executor=client.get_executor(), **kw)
        out["dask_s"] = time.perf_counter() - t
        out["dask_evaluations"] = r2.evaluations
        if not a.skip_local:
            out["dask_equals_local"] = bool(r2.designs.equals(r.designs) and r2.best == r.best)
    total = out["local_evaluations"] if not a.skip_local else out["dask_evaluations"]
    for k in ("local", "dask"):
        if f"{k}_s" in out:
            out[f"{k}_evaluations_per_s"] = (total + 5 + 2) / out[f"{k}_s"]
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
