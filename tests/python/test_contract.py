"""The Rust ↔ Python contract of a simulation result, driven by the core's list of outcomes
(``rebatesim::outcomes::OUTCOMES``, exposed as ``rebatesim._core.outcomes()``).

Four places describe the outcomes of a simulation: the core's list, the binding's output
(the Arrow tables ``SimResult.scenarios()`` / ``partners()``, built by the core), the stub (``_core.pyi``: the ``_OutcomeName``,
``_Shape`` and ``_Unit`` literals) and the public result tables of ``rs.SimulationResult``.
These tests fail as soon as one of them drifts from the core's list (the Rust side has its own
test, ``outcomes::tests``, that the list matches the ``SimResult`` struct).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

import rebatesim as rs
from rebatesim import _arrow, _core

STUB = Path(_core.__file__).resolve().parent / "_core.pyi"
if not STUB.exists():  # an installed wheel next to the source tree
    STUB = Path(__file__).resolve().parents[2] / "python" / "rebatesim" / "_core.pyi"

MODEL = {"noise": {"sigma": 0.3}, "economics": {"unit_price": 50}}
OUTCOMES: List[Dict[str, object]] = _core.outcomes()
NAMES = [str(o["name"]) for o in OUTCOMES]
PER_SCENARIO = [str(o["name"]) for o in OUTCOMES if o["shape"] == "scenario"]
SEGMENT = [str(o["name"]) for o in OUTCOMES if o["shape"] == "scenario_by_segment"]


def stub_literal(alias: str) -> List[str]:
    """The strings of ``alias = Literal[...]`` in the stub."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == alias for t in node.targets):
            value = node.value
            assert isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
            assert value.value.id == "Literal"
            elements = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
            return [e.value for e in elements if isinstance(e, ast.Constant)]
    raise AssertionError(f"{alias} is not in {STUB}")


@pytest.fixture(scope="module")
def result() -> rs.SimulationResult:
    programme = rs.Programme.new(
        "Contract", "EUR", "2027-01-01", "quarter", 2,
        [rs.volume("vol", [(20_000, "1%"), (40_000, "2%")]), rs.per_unit("units", 0.5)],
        segments=["small", "large"], budget=20_000,
    )
    population = rs.Population.synthetic(
        {"small": {"count": 12, "median_baseline": 80_000}, "large": {"count": 5, "median_baseline": 300_000}},
        seed=2,
    )
    return rs.simulate(programme, population, MODEL, scenarios=9, seed=4, progress=False)


@pytest.fixture(scope="module")
def core_result(result: rs.SimulationResult) -> "_core.SimResult":
    programme = result.programme
    assert programme is not None
    population = rs.Population.synthetic(
        {"small": {"count": 12, "median_baseline": 80_000}, "large": {"count": 5, "median_baseline": 300_000}},
        seed=2,
    )
    run = {"scenarios": 9, "seed": 4, "threads": None, "chunk_size": None, "statistic": None,
           "tolerance": None, "max_scenarios": None, "memory_limit": None}
    model = _core.DemandModel.from_text(json.dumps(MODEL), "json")
    return _core.simulate(programme._spec, population._core, model, run)


def test_the_core_list_is_well_formed():
    assert len(NAMES) == len(set(NAMES)) > 0
    for o in OUTCOMES:
        assert set(o) == {"name", "shape", "unit", "summarised", "description"}
        assert o["shape"] in stub_literal("_Shape"), o
        assert o["unit"] in stub_literal("_Unit"), o
        assert isinstance(o["summarised"], bool) and str(o["description"]).strip(), o


def test_the_stub_lists_the_core_outcomes_in_order():
    assert stub_literal("_OutcomeName") == NAMES
    shapes = {str(o["shape"]) for o in OUTCOMES}
    units = {str(o["unit"]) for o in OUTCOMES}
    assert shapes == set(stub_literal("_Shape"))
    assert units == set(stub_literal("_Unit"))


def test_the_binding_returns_every_outcome_in_its_shape(core_result):
    import pyarrow as pa

    scenarios = pa.table(core_result.scenarios())
    partners = pa.table(core_result.partners())
    by_scenario = [n for n in NAMES if not str(next(o for o in OUTCOMES if o["name"] == n)["shape"]).startswith("partner")]
    assert scenarios.column_names == by_scenario
    assert partners.column_names == ["partner_id"] + [n for n in NAMES if n not in by_scenario]
    meta = _arrow.row(core_result.meta())
    n, partners_n = meta["scenarios"], partners.num_rows
    assert scenarios.num_rows == n
    ladders = meta["ladders"]
    columns = {
        "scenario_by_segment": len(meta["segments"]),
        "scenario_by_component": len(meta["components"]),
        "scenario_by_tier": sum(ladder["tiers"] + 1 for ladder in ladders),
        "scenario_by_month": meta["months"],
        "scenario_by_cash_month": meta["cash_months"],
        "partner_by_tier": sum(ladder["tiers"] for ladder in ladders),
    }
    arrays = {**_arrow.arrays(scenarios), **_arrow.arrays(partners)}
    # a count is whole (uint32) or a mean over scenarios (float64)
    item = {"flag": [pa.bool_()], "count": [pa.uint32(), pa.float64()]}
    for o in OUTCOMES:
        name, shape = str(o["name"]), str(o["shape"])
        field = (partners if shape.startswith("partner") else scenarios).schema.field(name)
        value_types = item.get(str(o["unit"]), [pa.float64()])
        if shape in ("scenario", "partner"):
            assert field.type in value_types, (name, field.type)
        else:
            assert pa.types.is_fixed_size_list(field.type), (name, field)
            assert field.type.list_size == columns[shape] and field.type.value_type in value_types, (name, field)
        a = arrays[name]
        rows = partners_n if shape.startswith("partner") else n
        expected = (rows,) if shape in ("scenario", "partner") else (rows, columns[shape])
        assert a.shape == expected, (name, a.shape, expected)
        kind = {"flag": "b", "count": "uf"}.get(str(o["unit"]), "f")
        assert a.dtype.kind in kind, (name, a.dtype)


def test_the_summaries_are_the_summarised_outcomes(core_result):
    [((), summaries)] = _arrow.summaries(core_result.summaries())
    expected = set()
    for o in OUTCOMES:
        if o["summarised"]:
            expected.add("budget_binding" if o["unit"] == "flag" else str(o["name"]))
    assert set(summaries) == expected
    assert set(summaries["budget_binding"]) == {"value", "se"}
    assert summaries["payout"]["p_exceed"] is not None  # the programme has a budget
    assert summaries["revenue"]["p_exceed"] is None and summaries["revenue"]["n"] == 9


def test_the_python_tables_follow_the_core_list(result):
    assert list(result.per_scenario.columns) == PER_SCENARIO
    summarised = [str(o["name"]) for o in OUTCOMES if o["summarised"] and o["unit"] != "flag"]
    assert list(result.summary.index) == summarised
    probability, se = result.budget_binding
    assert 0 <= probability <= 1 and se >= 0
    by_segment = result.by_segment()
    prefixes = {c.rsplit("_", 1)[0] for c in by_segment.columns}
    assert prefixes == {name[len("segment_"):] for name in SEGMENT}
    assert list(by_segment.index) == ["large", "small"]
    assert sorted(result.by_component().index) == ["units", "vol"]
    assert result.tier_counts.shape == (9, 1, 3)
    partners = result.partners
    assert list(partners.columns[:3]) == ["partner_id", "expected_payout", "expected_payout_before_budget"]
    assert list(partners.columns[3:]) == ["p_vol_t1", "p_vol_t2"]
    assert len(result.accrual_schedule()) == result.meta["months"] == 6
    cash = result.cash_schedule()
    assert len(cash) == result.meta["cash_months"]
    assert np.isclose(cash["mean"].iloc[-1], result.payout.mean())
