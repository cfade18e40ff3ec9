"""Results cross the Rust → Python boundary in one style: Arrow tables built in the core.

Two checks: the stub (``_core.pyi``, itself checked against the compiled module by stubtest)
declares no method of a result class returning JSON text (``str``) or a dict, and the tables
of real results are Arrow tables (``__arrow_c_stream__``) that round-trip to the values the
package reports.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

import rebatesim as rs
from rebatesim import _arrow, _core

STUB = Path(_core.__file__).resolve().parent / "_core.pyi"
if not STUB.exists():  # an installed wheel next to the source tree
    STUB = Path(__file__).resolve().parents[2] / "python" / "rebatesim" / "_core.pyi"

#: The classes of the core's results (the shard functions' bytes are an internal wire format).
RESULTS = ["SimResult", "ComparisonResult", "SensitivityResult", "Backtest", "ForecastResult"]
#: Results that still cross as JSON text, dicts or arrays (issue 14, to do): empty when done.
NOT_YET: List[str] = []
#: Reports rendered as text by the core (not a transport of figures: the figures cross as tables).
RENDERED = {("Backtest", "table")}


def stub_returns() -> Dict[str, Dict[str, str]]:
    """Class → method → its return annotation as written in the stub."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    out: Dict[str, Dict[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {
                f.name: ast.unparse(f.returns) if f.returns is not None else ""
                for f in node.body
                if isinstance(f, ast.FunctionDef)
            }
    return out


def test_no_result_method_returns_json_text_or_a_dict():
    returns = stub_returns()
    for cls in RESULTS:
        assert cls in returns, cls
        for method, annotation in returns[cls].items():
            if method.startswith("__") or (cls, method) in RENDERED:
                continue
            words = annotation.replace("[", " ").replace("]", " ").replace(",", " ").split()
            assert annotation != "str" and "dict" not in words and "Dict" not in words, (cls, method, annotation)
            assert "np.ndarray" not in annotation, (cls, method, annotation)
    assert not set(NOT_YET) & set(RESULTS)
    assert all(cls in returns for cls in NOT_YET)


@pytest.fixture(scope="module")
def inputs():
    programme = rs.Programme.new(
        "Arrow", "EUR", "2027-01-01", "quarter", 2,
        [rs.volume("vol", [(20_000, "1%"), (40_000, "2%")])], segments=["small", "large"], budget=15_000,
    )
    population = rs.Population.synthetic(
        {"small": {"count": 8, "median_baseline": 80_000}, "large": {"count": 3, "median_baseline": 300_000}},
        seed=3,
    )
    return programme, population, rs.Model.from_dict({"noise": {"sigma": 0.3}})


def _methods(obj: object, cls: str, *args: object, skip: tuple = ()) -> List[object]:
    """Every public method of ``obj`` the stub lists (but ``skip``), called with ``args``."""
    return [getattr(obj, m)(*args) for m in stub_returns()[cls] if not m.startswith("__") and m not in skip]


def test_simulation_and_comparison_tables_are_arrow(inputs):
    import pyarrow as pa

    programme, population, model = inputs
    run = {"scenarios": 7, "seed": 2, "threads": None, "chunk_size": None, "statistic": None,
           "tolerance": None, "max_scenarios": None, "memory_limit": None}
    core = _core.simulate(programme._spec, population._core, model._core, run)
    for t in _methods(core, "SimResult"):
        assert hasattr(t, "__arrow_c_stream__"), t
    r = rs.simulate(programme, population, model, scenarios=7, seed=2, progress=False)
    scenarios = pa.table(core.scenarios())
    assert scenarios.num_rows == 7
    # the per-scenario values cross bit for bit
    assert np.array_equal(scenarios.column("payout").to_numpy(), r.payout)
    segment = r._mat["segment_payout"]
    assert segment.shape == (7, 2) and segment.flags.writeable
    assert np.allclose(segment.sum(axis=1), r.payout, rtol=1e-12, atol=1e-9)  # rows are scenarios
    assert _arrow.row(core.meta())["segments"] == ["large", "small"]
    # the summaries: the budget is there, so P(exceed) is an estimate; without a threshold None
    [((), summaries)] = _arrow.summaries(core.summaries())
    assert set(summaries["payout"]["p_exceed"]) == {"value", "se"}
    assert summaries["revenue"]["p_exceed"] is None and summaries["revenue"]["n"] == 7
    assert summaries["payout"]["mean"]["value"] == float(np.mean(r.payout))

    c = _core.compare(["A", "B"], [programme._spec, programme._spec], population._core, model._core, run)
    for i in range(2):
        for t in _methods(c, "ComparisonResult", i, skip=("names", "differences")):
            assert hasattr(t, "__arrow_c_stream__"), t
    d = pa.table(c.differences())
    assert d.column_names == ["reference", "design", "outcome", "statistic", "value", "se"]
    # a design against itself: every paired difference is exactly zero
    means = [v for s, v in zip(d.column("statistic").to_pylist(), d.column("value").to_pylist()) if s == "mean"]
    # (NaN where undefined: ROI and deadweight need a margin rate)
    assert 0.0 in means and all(v == 0 or math.isnan(v) for v in means)


def test_sensitivity_tables_are_arrow(inputs):
    import pyarrow as pa

    programme, population, model = inputs
    s = rs.sensitivity(programme, population, model, scenarios=20, seed=1, progress=False,
                       assumptions=[("Noise", "noise.sigma", "-50%", "x2")])
    run = {"scenarios": 20, "seed": 1, "threads": None, "chunk_size": None, "statistic": None,
           "tolerance": None, "max_scenarios": None, "memory_limit": None}
    core = _core.sensitivity(programme._spec, population._core, model._core,
                             [("Noise", "noise.sigma", "scale", 0.5, "scale", 2.0, None, None, None, None)], run)
    for t in _methods(core, "SensitivityResult"):
        assert hasattr(t, "__arrow_c_stream__"), t
    a = pa.table(core.assumptions()).to_pylist()
    assert [(x["assumption"], x["parameter"], x["base_value"], x["low_value"], x["high_value"]) for x in a] == [
        ("Noise", "noise.sigma", 0.3, 0.15, 0.6)]
    runs = [key for key, _ in _arrow.summaries(core.summaries(), ("assumption", "run"))]
    assert runs == [("Noise", r) for r in ("low", "high", "low_vs_base", "high_vs_base", "swing")]
    [((), base)] = _arrow.summaries(core.base())
    assert list(base) == ["payout", "roi", "incremental_margin"]
    assert base["payout"]["mean"]["value"] == s.base["payout"]
    # no margin rate: ROI is undefined, reported as NaN by the table (None in the summary)
    assert base["roi"]["mean"]["value"] is None and math.isnan(s.base["roi"])


def test_backtest_tables_are_arrow(inputs):
    import pyarrow as pa

    programme, population, model = inputs
    bt = rs.backtest(programme, population, model, years=3, scenarios=5, month_ends=[2, 5], seed=1, progress=False)
    core = bt._core
    meta = _arrow.row(core.meta())
    assert meta["month_ends"] == [2, 5] and meta["years"] == 3 and meta["as_of"] == bt.as_of
    assert len(meta["has_intervals"]) == len(meta["methods"])
    realised = pa.table(core.realised())
    assert realised.column_names == ["realised"] and np.array_equal(realised.column(0).to_numpy(), bt.realised)
    for method, has in zip(meta["methods"], meta["has_intervals"]):
        e = pa.table(core.estimates(method))
        assert e.num_rows == 3 and e.schema.field("estimate").type.list_size == 2
        assert bt.estimates(method).shape == (3, 2)
        t = core.intervals(method, 0.9)
        assert (t is not None) == has
        if t is not None:
            lower, upper = bt.intervals(method, 0.9)
            assert (lower.values <= upper.values).all()
    coverage = pa.table(core.coverage())
    assert coverage.schema.field("month_end").nullable and None in coverage.column("month_end").to_pylist()
    assert pa.table(core.errors()).num_rows == len(bt.errors)
    a, b = meta["methods"][:2]
    # a method against itself: no difference, on every row
    assert all(d == 0 for d in pa.table(core.paired(a, a)).column("difference").to_pylist())
    assert list(bt.paired(a, b).columns[:3]) == ["method", "against", "month_end"]


def test_forecast_tables_are_arrow():
    import pandas as pd
    import pyarrow as pa

    e = rs.example_path
    tx = pd.read_csv(e("transactions.csv"))
    tx = tx[tx["date"] <= "2027-04-30"]
    f = rs.forecast(e("programme.toml"), e("partners.csv"), e("model.toml"), tx, as_of="2027-04-30",
                    scenarios=12, seed=2, progress=False)
    core = f._core
    report = pa.table(core.report())
    assert report.num_rows == 1 and report.column_names == list(f.to_dict())
    # exact amounts cross as their decimal text, dates as ISO text, rows as lists of structs
    journal_summary = report.schema.field("journal_summary").type
    assert pa.types.is_list(journal_summary) and pa.types.is_struct(journal_summary.value_type)
    assert journal_summary.value_type.field("amount").type == pa.string()
    assert report.column("as_of").to_pylist() == ["2027-04-30"]
    totals = pa.table(core.totals())
    assert totals.column_names == ["total_payout", "total_payout_before_budget"] and totals.num_rows == 12
    assert np.array_equal(totals.column(0).to_numpy(), f.payout)
    # the parts add up: the components' payouts are the total, scenario by scenario
    parts = sum(pa.table(core.component_payout(c)).column("payout").to_numpy() for c in range(len(f.by_component())))
    assert np.allclose(parts, f.payout, rtol=1e-12, atol=1e-6)
    ledger = _arrow.records(core.ledger("partner"))
    assert ledger and {"component", "partner_id"} <= set(ledger[0])
    assert _arrow.records(core.journal_summary(False)) == f.to_dict()["journal_summary"]
