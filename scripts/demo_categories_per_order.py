#!/usr/bin/env python3
"""The bundled demo's forecast per component with the calibrated categories per order, without
them (spread months) and at fixed values given as arguments, against the settled 2027 (before
the budget cut; docs/calibration.md, "Out-of-sample, session 28").

    PYTHONPATH=python python scripts/demo_categories_per_order.py 1.73
"""
import sys
import warnings

import rebatesim as rs
from rebatesim._cli_demo import _demo_calibration, demo_check
from rebatesim._examples import example_path

x_values = [float(v) for v in sys.argv[1:]]
programme = rs.Programme.from_file(example_path("programme.toml"))
cal, model, draws = _demo_calibration(programme)
print("calibrated:", model.to_dict().get("orders"))
partners = cal.population(example_path("partners.csv"))
s = rs.settle(programme, example_path("partners.csv"), example_path("transactions.csv"))

def variant(m, x):
    d = m.to_dict()
    o = d.setdefault("orders", {})
    o.pop("categories_per_order", None)
    o.pop("categories_per_order_segments", None)
    if x is not None:
        o["categories_per_order"] = x
    return rs.Model.from_dict(d)

rows = [("calibrated", model, draws)] + [("spread", variant(model, None), [variant(d, None) for d in draws])]
rows += [(f"x = {x}", variant(model, x), [variant(d, x) for d in draws]) for x in x_values]
for name, m, dr in rows:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rs.simulate(programme, partners, m, scenarios=200, seed=1, threads=2, progress=False, parameter_uncertainty=dr)
    c = demo_check(r, s)
    print(f"## {name}: total {c['forecast_before_budget_mean']:,.0f} vs {c['actual_before_budget']:,.0f}")
    for cid in ("cross_sell", "full_pallet", "smart_home_upsell"):
        k = c["components"][cid]
        print(f"   {cid}: forecast {k['forecast_mean']:,.0f} vs actual {k['actual_before_budget']:,.0f} "
              f"({100 * (k['forecast_mean'] / k['actual_before_budget'] - 1):+.1f}%), at or below {k['share_of_scenarios_at_or_below_actual']:.0%}")
