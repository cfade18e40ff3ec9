"""The backtest harness from Python, and the statistical tests of the forecast.

The heavy tests run 500 synthetic years over the release-built extension (``pip install -e .``
builds release): coverage of the 80% and 90% intervals within ±4 percentage points of nominal,
and (for the forecast from actuals) errors that fall through the year and a forecast that beats
current-tier accrual, run-rate and seasonal-naive on the same years.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs
from rebatesim.cli import main

EX = ("programme.toml", "partners.csv", "model.toml")


def example():
    return [rs.example_path(f, "backtest") for f in EX]


@pytest.fixture(scope="module")
def small():
    return rs.backtest(*example(), years=12, scenarios=40, month_ends=[2, 6, 10], seed=3, progress=False)


def test_frames_and_accessors(small):
    bt = small
    assert bt.methods == ["prior", "current_tier", "run_rate", "seasonal_naive"]
    assert bt.month_ends == [2, 6, 10]
    assert bt.as_of == ["2027-02-28", "2027-06-30", "2027-10-31"]
    assert bt.realised.shape == (12,) and (bt.realised > 0).all()
    cov = bt.coverage
    assert list(cov.columns) == ["method", "month_end", "as_of", "level", "n", "coverage", "se", "below", "above", "se_years"]
    # prior only (the market methods have no interval); 3 month ends + pooled, 2 levels
    assert len(cov) == 8 and set(cov.method) == {"prior"}
    pooled = cov[cov.month_end.isna()]
    assert list(pooled.as_of) == ["all", "all"] and (pooled.n == 36).all()
    np.testing.assert_allclose(cov.coverage + cov.below + cov.above, 1.0)
    err = bt.errors
    assert len(err) == 4 * 4
    assert (err.rmse >= err.mae - 1e-12).all()
    est = bt.estimates("run_rate")
    assert est.shape == (12, 3) and list(est.columns) == bt.as_of
    lo, hi = bt.intervals("prior", 0.8)
    lo9, hi9 = bt.intervals("prior", 0.9)
    assert (lo9.values <= lo.values).all() and (hi9.values >= hi.values).all()
    assert bt.intervals("run_rate") is None
    p = bt.paired("prior", "run_rate")
    assert len(p) == 4 and {"difference", "se", "wins"} <= set(p.columns)
    table = bt.table()
    assert "| 2027-06-30 |" in table and "| all |" in table
    assert "Backtest of" in bt._repr_markdown_()
    # the same on 1 and 2 threads, bit for bit
    again = rs.backtest(*example(), years=12, scenarios=40, month_ends=[2, 6, 10], seed=3, threads=1, progress=False)
    np.testing.assert_array_equal(again.estimates("prior").values, bt.estimates("prior").values)
    np.testing.assert_array_equal(again.realised, bt.realised)


def test_bad_requests():
    with pytest.raises(rs.RequestError, match="forecaster 'oracle'"):
        rs.backtest(*example(), years=1, forecaster="oracle", progress=False)
    with pytest.raises(rs.RequestError, match="month end 13"):
        rs.backtest(*example(), years=1, month_ends=[13], progress=False)
    with pytest.raises(rs.RequestError, match="at least one year"):
        rs.backtest(*example(), years=0, progress=False)
    with pytest.raises(rs.RequestError, match="unknown method"):
        rs.backtest(*example(), years=1, scenarios=5, month_ends=[3], progress=False).estimates("nope")
    calls = []
    rs.backtest(*example(), years=3, scenarios=5, month_ends=[3], progress=lambda d, t: calls.append((d, t)))
    assert sorted(calls) == [(1, 3), (2, 3), (3, 3)]


def test_cli(capsys, tmp_path):
    assert main(["backtest", "--years", "3", "--scenarios", "10", "--month-ends", "3,9"]) == 0
    out = capsys.readouterr().out
    assert "Backtest of Backtest example 2027: 3 synthetic years" in out
    assert "| 2027-03-31 |" in out and "against" in out
    assert main(["backtest", "--years", "2", "--scenarios", "10", "--month-ends", "6", "--out", str(tmp_path / "o")]) == 0
    assert {p.name for p in (tmp_path / "o").iterdir()} == {"coverage.csv", "errors.csv", "table.md", "summary.json"}
    assert main(["backtest", "--partners", "x.csv"]) == 1
    assert "give --programme and --partners" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# Statistical tests over 500 synthetic years (release build: a few seconds to a minute).

YEARS = 500


@pytest.fixture(scope="module")
def prior500():
    return rs.backtest(*example(), years=YEARS, scenarios=200, seed=2027, forecaster="prior", progress=False)


def _coverage_ok(bt, method, tol=0.04):
    cov = bt.coverage[bt.coverage.method == method]
    pooled = cov[cov.month_end.isna()]
    for _, r in pooled.iterrows():
        assert r.n >= YEARS
        assert abs(r.coverage - r.level) <= tol, f"{method} pooled {r.level:.0%}: {r.coverage:.3f}"
    # per month end: within ±4 points too, unless the shortfall is within sampling error
    # (3 binomial SEs; 11 month ends × 2 levels are tested)
    for _, r in cov[cov.month_end.notna()].iterrows():
        assert abs(r.coverage - r.level) <= max(tol, 3 * r.se), f"{method} {r.as_of} {r.level:.0%}: {r.coverage:.3f}"


def test_prior_intervals_cover_at_nominal_rates(prior500):
    # truth and forecast come from the same model, so the forecast made before the year covers
    # at its nominal rates at every month end: the harness measures coverage correctly
    assert prior500.years == YEARS
    _coverage_ok(prior500, "prior")


def test_market_methods_improve_through_the_year(prior500):
    err = prior500.errors
    for m in ["current_tier", "run_rate", "seasonal_naive"]:
        e = err[(err.method == m) & err.month_end.notna()].set_index("month_end").mae
        assert e.loc[11] < e.loc[1], (m, e)
    # the prior ignores the actuals: its error does not fall
    e = err[(err.method == "prior") & err.month_end.notna()].set_index("month_end").mae
    assert abs(e.loc[11] - e.loc[1]) < 1e-12
