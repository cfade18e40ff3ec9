"""Programmes from Python: constructors, round trips, builders, attributes, display."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import pickle

import pytest

import rebatesim as rs
from conftest import PROGRAMME


def test_from_file_and_attributes(files):
    p = rs.Programme.from_file(files["programme"])
    assert p.name == "Distributor 2027"
    assert p.currency == "EUR"
    assert p.decimals == 2
    assert p.rounding == "half_up"
    assert p.start == dt.date(2027, 1, 1)
    assert p.end == dt.date(2027, 12, 31)
    assert p.period == "quarter"
    assert p.periods == 4
    assert p.period_labels == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert p.segments == ["retail", "trade"]
    assert p.categories == ["cable", "tools"]
    assert p.budget == decimal.Decimal("60000")
    assert p.partner_cap == decimal.Decimal("40000")
    assert p.minimum_payout is None
    assert p.component_ids == ["bundle", "growth", "pallet", "tools", "volume"]
    assert [c["id"] for c in p.components] == ["volume", "growth", "tools", "pallet", "bundle"]
    assert p.validate() is p


@pytest.mark.parametrize("fmt", ["toml", "json", "yaml"])
def test_text_round_trips_are_exact(fmt):
    p = rs.Programme.from_toml(PROGRAMME)
    text = getattr(p, f"to_{fmt}")()
    back = getattr(rs.Programme, f"from_{fmt}")(text)
    assert back == p
    assert getattr(back, f"to_{fmt}")() == text


def test_file_dict_file_round_trip(files, tmp_path):
    p = rs.Programme.from_file(files["programme"])
    d = p.to_dict()
    q = rs.Programme.from_dict(d)
    assert q == p and q.to_dict() == d
    for ext in ("toml", "json", "yaml", "yml"):
        out = tmp_path / f"copy.{ext}"
        q.save(out)
        assert rs.Programme.from_file(out) == p
    # a dict survives JSON and pickling
    assert rs.Programme.from_dict(json.loads(json.dumps(d))) == p
    assert pickle.loads(pickle.dumps(p)) == p


def test_decimal_values_are_exact():
    d = rs.Programme.from_toml(PROGRAMME).to_dict()
    d["components"][0]["tiers"][0]["percent"] = decimal.Decimal("1.123456789012345678")
    d["budget"] = 0.035
    d["start"] = dt.date(2027, 1, 1)
    p = rs.Programme.from_dict(d)
    back = p.to_dict()
    assert decimal.Decimal(str(back["components"][0]["tiers"][0]["percent"])) == decimal.Decimal("1.123456789012345678")
    assert back["budget"] == 0.035
    assert back["start"] == "2027-01-01"


def test_builders_produce_file_dicts_validated_by_rust():
    p = rs.Programme.new(
        "Built", "EUR", dt.date(2027, 1, 1), "quarter", 4,
        [
            rs.volume("vol", [(100_000, "1%"), (250_000, "2.5%"), (500_000, {"percent": 3})],
                      method="incremental", cap=20_000, segments=["trade"]),
            rs.growth("grow", [(5, "1%"), (10, "2%")], applies_to="growth", exclusive_group="g"),
            rs.per_unit("premium", 2.5, categories=["premium"], above="baseline", exclusive_group="g"),
            rs.bundle("cross", {"premium": 10_000, "basic": 5_000}, percent="1.5%"),
            rs.logistics("pallet", 40, per_order=25, returns="gross", measure="cumulative"),
        ],
        segments=["trade", "retail"], categories=["premium", "basic"],
        budget=1_000_000, partner_cap=50_000, minimum_payout=100, rounding="half_even",
        payment="end", payment_lag_days=45, description="all kinds",
    )
    d = p.to_dict()
    assert d["components"][0] == {
        "id": "vol", "kind": "volume", "method": "incremental",
        "tiers": [{"from": 100000, "percent": 1}, {"from": 250000, "percent": 2.5}, {"from": 500000, "percent": 3}],
        "segments": ["trade"], "cap": 20000,
    }
    assert d["payment"] == {"when": "end", "lag_days": 45}
    assert p.rounding == "half_even"
    assert p.description == "all kinds"
    desc = p.describe()
    vol = next(c for c in desc["components"] if c["id"] == "vol")
    assert vol["method"] == "incremental" and vol["tiers"][1] == {"tier": 2, "from": "250000", "reward": "percent", "value": "2.5"}
    assert desc["periods"][0]["payment_date"] == "2028-02-14"  # programme end + 45 days
    # the same programme read from its own TOML
    assert rs.Programme.from_toml(p.to_toml()) == p


def test_builder_errors_name_the_tier():
    with pytest.raises(rs.ProgrammeError, match=r"vol\.tiers\[1\].*bare number is ambiguous"):
        rs.volume("vol", [(1, "1%"), (2, 3)])
    with pytest.raises(rs.ProgrammeError, match=r"vol\.tiers\[0\].*percentage"):
        rs.volume("vol", [(1, "3.5 percent")])
    with pytest.raises(rs.ProgrammeError, match=r"tiers\[0\].*pair"):
        rs.volume("vol", [5])


def test_repr_and_html():
    p = rs.Programme.from_toml(PROGRAMME)
    r = repr(p)
    assert r.startswith("<Programme 'Distributor 2027': EUR, 4 quarters from 2027-01-01, 5 components")
    h = p._repr_html_()
    assert "<table" in h and "Distributor 2027" in h
    # the ladder of the volume component, as a table
    assert "1,000,000" in h and "3.5%" in h
    assert "cumulatively" in h and "exclusive group" in h
    assert "60,000 EUR" in h  # budget


def test_cannot_construct_unvalidated():
    with pytest.raises(TypeError):
        rs.Programme({"name": "x"})  # type: ignore[arg-type]
