"""rebatesim.charts: every chart from pandas/numpy inputs, inline SVG, PNG, save, errors."""

from __future__ import annotations

import datetime as dt
import doctest
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import rebatesim
from rebatesim import charts

RNG = np.random.default_rng(7)
SVG_NS = "{http://www.w3.org/2000/svg}"


def texts(svg: str):
    root = ET.fromstring(svg)
    assert root.tag in ("svg", SVG_NS + "svg")
    return ["".join(t.itertext()).strip() for t in root.iter() if t.tag in ("text", SVG_NS + "text")]


def png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def all_charts():
    payouts = RNG.lognormal(np.log(1.2e6), 0.12, 2000)
    months = pd.period_range("2027-01", periods=12, freq="M")
    paths = np.cumsum(RNG.gamma(10, 10_000, size=(500, 12)), axis=1)
    pct = pd.DataFrame({p: np.percentile(paths, q, axis=0) for p, q in
                        zip(["p10", "p25", "p50", "p75", "p90"], [10, 25, 50, 75, 90])})
    expected = pd.DataFrame({"Bronze": [640.0, 310.0], "Silver": [255.0, 402.0], "Gold": [48.0, 133.0]},
                            index=["Dealers", "Distributors"])
    return {
        "payout_distribution": (
            charts.payout_distribution(pd.Series(payouts), currency="EUR", budget=1.4e6, title="Payout 2027"),
            ["Payout 2027", "Mean", "P95", "Budget"],
        ),
        "design_comparison": (
            charts.design_comparison({"Current": payouts, "Steeper": payouts * 1.1}, currency="EUR",
                                     roi={"Current": 0.42, "Steeper": 0.5}, budget=1.4e6),
            ["Current", "Steeper", "ROI 42% · mean", "ROI 50%"],
        ),
        "tier_attainment": (
            charts.tier_attainment(expected, low=expected * 0.9, high=expected * 1.1,
                                   interval_label="P5–P95"),
            ["Dealers", "Distributors", "Silver", "Interval: P5–P95"],
        ),
        "accrual_fan": (
            charts.accrual_fan(months, {"Accrued liability": paths, "Cash paid": pct * 0.6},
                               currency="USD", budget=1.3e6),
            ["Accrued liability (median)", "Cash paid (median)", "Jan 2027", "(USD)"],
        ),
        "risk_return": (
            charts.risk_return(pd.DataFrame({"p95_payout": [1.4e6, 1.7e6], "margin": [2e5, -1e5]},
                                            index=["Current", "Steeper"]),
                               currency="EUR", measure="margin"),
            ["Current", "Steeper", "Expected incremental margin (EUR)"],
        ),
        "tornado": (
            charts.tornado(pd.DataFrame([
                {"assumption": "Demand growth", "low_label": "-2 pts", "high_label": "+2 pts",
                 "low": 1.09e6, "high": 1.3e6, "low_se": 6000.0, "high_se": 6500.0},
                {"assumption": "Returns rate", "low_label": "-1 pt", "high_label": "+1 pt",
                 "low": 1.2e6, "high": 1.17e6, "low_se": np.nan, "high_se": np.nan},
            ]), base=1.19e6, currency="EUR", title="What moves payout"),
            ["What moves payout", "Demand growth", "Returns rate", "Base 1.19M"],
        ),
    }


@pytest.mark.parametrize("kind", list(all_charts()))
def test_chart_renders_svg_and_png(kind, tmp_path):
    chart, labels = all_charts()[kind]
    assert isinstance(chart, charts.Chart)
    assert chart.kind == kind
    svg = chart._repr_svg_()
    found = texts(svg)
    assert found[0] == chart.title
    for label in labels:
        assert any(label in t for t in found), (label, found)
    assert png_size(chart.to_png()) == (960, 540)
    assert png_size(chart.to_png(scale=2)) == (1920, 1080)
    out = chart.save(tmp_path / f"{kind}.png")
    assert png_size(out.read_bytes()) == (960, 540)
    chart.save(tmp_path / f"{kind}.svg")
    assert texts((tmp_path / f"{kind}.svg").read_text(encoding="utf-8"))[0] == chart.title
    assert repr(chart).startswith(f"<Chart {kind}")


def test_custom_size():
    c = charts.risk_return({"A": (1e6, 0.2)}, currency="EUR", size=(640, 400))
    assert c.size == (640, 400)
    assert png_size(c.to_png()) == (640, 400)


def test_months_accept_many_date_forms():
    paths = np.ones((3, 3)).cumsum(axis=1)
    for months in (["2027-01", "2027-02", "2027-03"],
                   [dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)],
                   pd.date_range("2027-01-01", periods=3, freq="MS"),
                   np.array(["2027-01-01", "2027-02-01", "2027-03-01"], dtype="datetime64[D]")):
        assert "Feb 2027" in texts(charts.accrual_fan(months, {"A": paths}, currency="EUR").to_svg())


@pytest.mark.parametrize("make, words", [
    (lambda: charts.payout_distribution([], currency="EUR"), "empty"),
    (lambda: charts.payout_distribution([1.0, np.nan], currency="EUR"), "payouts[1]"),
    (lambda: charts.payout_distribution([[1.0]], currency="EUR"), "one-dimensional"),
    (lambda: charts.design_comparison({}, currency="EUR"), "empty"),
    (lambda: charts.design_comparison({"A": [1.0]}, currency="EUR", roi={"B": 0.1}), "no design named 'B'"),
    (lambda: charts.tier_attainment({"S": {"Bronze": 1.0}}, low={"S": {"Bronze": 0.0}}), "both low and high"),
    (lambda: charts.accrual_fan(["2027-01"], {"A": np.ones((2, 2))}, currency="EUR"), "2 values for 1 months"),
    (lambda: charts.accrual_fan(["soon"], {"A": np.ones((2, 1))}, currency="EUR"), "months[0]"),
    (lambda: charts.risk_return({}, currency="EUR"), "empty"),
    (lambda: charts.risk_return({"A": (1.0, 2.0)}, currency="EUR", measure="irr"), "measure"),
    (lambda: charts.tornado([], base=1.0, currency="EUR"), "empty"),
    (lambda: charts.tornado([{"assumption": "x"}], base=1.0, currency="EUR"), "missing"),
    (lambda: charts.tornado([{"assumption": "x", "low_label": "-", "high_label": "+", "low": 1, "high": 2}],
                            base=1.0), "currency"),
    (lambda: charts.payout_distribution([1.0], currency="EUR", size=(10, 10)), "size"),
])
def test_bad_input_raises_request_error(make, words):
    with pytest.raises(rebatesim.RequestError) as info:
        make()
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


def test_save_rejects_unknown_extension(tmp_path):
    c = charts.payout_distribution([1.0, 2.0], currency="EUR")
    with pytest.raises(rebatesim.RequestError, match=r"\.svg or \.png"):
        c.save(tmp_path / "chart.pdf")
    assert list(tmp_path.iterdir()) == []


def test_degenerate_but_legitimate_data_draws():
    assert png_size(charts.payout_distribution(np.zeros(100), currency="EUR", budget=5e4).to_png()) == (960, 540)


def test_docstring_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(charts, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
