"""rebatesim.sensitivity: one-at-a-time analysis from Python, its table and tornado."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs


def programme():
    # quarterly retroactive ladder above a typical partner's quarter: convex payout
    return rs.Programme.new(
        "Sens", "EUR", "2027-01-01", "quarter", 4,
        [rs.volume("vol", [(30_000, "2%"), (40_000, "4%")])],
        segments=["small", "large"],
    )


@pytest.fixture(scope="module")
def population():
    return rs.Population.synthetic(
        {"small": {"count": 150, "median_baseline": 100_000, "dispersion": 0.3, "margin_rate": 0.3},
         "large": {"count": 50, "median_baseline": 140_000, "dispersion": 0.3, "margin_rate": 0.3}},
        seed=3,
    )


MODEL = {
    "noise": {"sigma": 0.2},
    "market": {"sigma": 0.1},
    "returns": {"share": 0.03},
    "behaviour": {"uplift": {"elasticity": 1.0}},
}


def test_defaults_table_and_tornado(population, tmp_path):
    seen = []
    s = rs.sensitivity(programme(), population, MODEL, scenarios=120, seed=4, threads=2,
                       progress=lambda d, t: seen.append((d, t)))
    assert isinstance(s, rs.Sensitivity) and s.scenarios == 120 and s.seed == 4
    t = s.table
    assert isinstance(t, pd.DataFrame)
    assert set(t.index) == {"Market volatility", "Partner noise", "Trend", "Returns", "Uplift elasticity"}
    swings = t["payout_swing"].abs().to_numpy()
    assert (np.diff(swings) <= 0).all(), "largest payout swing first"
    assert t.loc["Partner noise", "parameter"] == "noise.sigma"
    assert t.loc["Partner noise", ["low_value", "base_value", "high_value"]].tolist() == pytest.approx([0.15, 0.2, 0.25])
    assert t.loc["Trend", "low_label"] == "−5 pp"
    # paired differences: the mean difference is the difference of the means
    r = t.loc["Trend"]
    assert r["payout_high"] - s.base["payout"] == pytest.approx(r["payout_high_diff"], rel=1e-9)
    assert (t["payout_swing_se"] >= 0).all()
    assert seen[-1] == (11 * 120, 11 * 120)

    c = s.tornado("payout")
    assert isinstance(c, rs.Chart) and c.kind == "tornado"
    svg = c.to_svg()
    assert "Sensitivity of expected payout" in svg and "Partner noise" in svg
    c.save(tmp_path / "tornado.png")
    assert (tmp_path / "tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert s.tornado("roi").kind == "tornado"
    assert "Trend" in s._repr_html_()
    with pytest.raises(rs.RequestError, match="expected payout, roi or incremental_margin"):
        s.tornado("profit")


def test_noise_raises_payout_and_crn_shrinks_se(population):
    a = [("Noise", "noise.sigma", "-50%", "x2")]
    s = rs.sensitivity(programme(), population, MODEL, scenarios=150, seed=1, progress=False, assumptions=a)
    r = s.table.loc["Noise"]
    assert r["low_value"] == pytest.approx(0.1) and r["high_value"] == pytest.approx(0.4)
    assert r["payout_low"] < s.base["payout"] < r["payout_high"]
    assert r["payout_p95_high"] > r["payout_p95_low"]
    assert r["payout_swing"] > 4 * r["payout_swing_se"]
    independent = np.hypot(s.base["payout_se"], s.base["payout_se"])
    assert r["payout_swing_se"] < independent


def test_returns_do_not_move_a_gross_programme(population):
    p = rs.Programme.new(
        "Gross", "EUR", "2027-01-01", "quarter", 4,
        [rs.volume("vol", [(30_000, "2%")], returns="gross")], segments=["small", "large"],
    )
    model = {"noise": {"sigma": 0.2}, "returns": {"share": 0.04}}
    s = rs.sensitivity(p, population, model, scenarios=80, progress=False,
                       assumptions=[{"name": "Returns", "parameter": "returns.share", "low": "off", "high": ("scale", 2)}])
    r = s.table.loc["Returns"]
    assert r["low_label"] == "off"
    assert abs(r["payout_swing"]) <= 1e-9 * s.base["payout"] and r["payout_swing_se"] <= 1e-9 * s.base["payout"]


def test_categories_per_order_in_the_default_tornado_when_the_model_sets_it(population):
    model = {**MODEL, "orders": {"per_month": 2.0, "categories_per_order": 1.6}}
    s = rs.sensitivity(programme(), population, model, scenarios=20, seed=4, progress=False)
    r = s.table.loc["Categories per order"]
    assert r["parameter"] == "orders.categories_per_order"
    assert [r["low_value"], r["base_value"], r["high_value"]] == pytest.approx([1.2, 1.6, 2.0])
    assert "Categories per order" not in rs.sensitivity(programme(), population, MODEL, scenarios=5,
                                                         progress=False).table.index
    assert "orders.categories_per_order" in rs.sensitivity_parameters()


def test_threads_give_identical_tables(population):
    a = [("Market", "market.sigma", 0.05, 0.2), ("Uplift", "behaviour.uplift.elasticity", "off", "+50%")]
    t1 = rs.sensitivity(programme(), population, MODEL, scenarios=60, seed=9, threads=1, assumptions=a, progress=False).table
    t3 = rs.sensitivity(programme(), population, MODEL, scenarios=60, seed=9, threads=3, assumptions=a, progress=False).table
    pd.testing.assert_frame_equal(t1, t3, check_exact=True)


def test_models_as_assumption(population):
    lo = rs.Model.from_dict({**MODEL, "seasonality": {"factors": [1.0] * 12}})
    hi = rs.Model.from_dict({**MODEL, "seasonality": {"factors": [0.5, 0.5, 2.0] * 4}})
    s = rs.sensitivity(programme(), population, MODEL, scenarios=40, progress=False,
                       assumptions=[{"name": "Seasonality", "low_model": lo, "high_model": hi,
                                     "low_label": "flat", "high_label": "quarter-end peaks"}])
    r = s.table.loc["Seasonality"]
    assert r["high_label"] == "quarter-end peaks" and r["parameter"] is None and np.isnan(r["base_value"])


@pytest.mark.parametrize("assumptions, match", [
    ([("X", "noise.sigmaa", "-50%", "+50%")], "unknown model parameter 'noise.sigmaa'"),
    ([("X", "noise.sigma", float("nan"), 0.3)], "finite"),
    ([("X", "returns.share", 0, 1.5)], "'returns.share' cannot be set to 1.5"),
    ([("X", "noise.sigma", "lots", 0.3)], "expected a number, 'off'"),
    ([("X", "noise.sigma", 0.1, 0.3), ("X", "market.sigma", 0.1, 0.3)], "'X' is used twice"),
    ([], "at least one assumption"),
    ([("X",)], "expected \\(name, parameter, low, high\\)"),
    ("noise.sigma", "expected a list"),
    ([("X", "orders.categories_per_order", "-25%", "+25%")],
     "'orders.categories_per_order' is not set in this model: without it every order carries all"),
])
def test_bad_assumptions(population, assumptions, match):
    with pytest.raises(rs.RequestError, match=match):
        rs.sensitivity(programme(), population, MODEL, scenarios=10, progress=False, assumptions=assumptions)


def test_parameters_and_docstrings(tmp_path, monkeypatch):
    assert "noise.sigma" in rs.sensitivity_parameters()
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module("rebatesim.sensitivities")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0 and result.failed == 0
