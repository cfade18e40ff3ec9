"""The backtest harness from Python, and the statistical tests of the forecast.

The heavy tests run 500 synthetic years over the release-built extension (``pip install -e .``
builds release): coverage of the 80% and 90% intervals within ±4 percentage points of nominal,
and (for the forecast from actuals) errors that fall through the year and a forecast that beats
current-tier accrual, run-rate and seasonal-naive on the same years.
"""

from __future__ import annotations


import numpy as np
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
    assert bt.methods == ["forecast", "current_tier", "run_rate", "seasonal_naive"]
    assert bt.month_ends == [2, 6, 10]
    assert bt.as_of == ["2027-02-28", "2027-06-30", "2027-10-31"]
    assert bt.realised.shape == (12,) and (bt.realised > 0).all()
    cov = bt.coverage
    assert list(cov.columns) == ["method", "month_end", "as_of", "level", "n", "coverage", "se", "below", "above", "se_years"]
    # the forecast only (the market methods have no interval); 3 month ends + pooled, 2 levels
    assert len(cov) == 8 and set(cov.method) == {"forecast"}
    pooled = cov[cov.month_end.isna()]
    assert list(pooled.as_of) == ["all", "all"] and (pooled.n == 36).all()
    np.testing.assert_allclose(cov.coverage + cov.below + cov.above, 1.0)
    err = bt.errors
    assert len(err) == 4 * 4
    assert (err.rmse >= err.mae - 1e-12).all()
    est = bt.estimates("run_rate")
    assert est.shape == (12, 3) and list(est.columns) == bt.as_of
    lo, hi = bt.intervals("forecast", 0.8)
    lo9, hi9 = bt.intervals("forecast", 0.9)
    assert (lo9.values <= lo.values).all() and (hi9.values >= hi.values).all()
    assert bt.intervals("run_rate") is None
    p = bt.paired("forecast", "run_rate")
    assert len(p) == 4 and {"difference", "se", "wins"} <= set(p.columns)
    md = bt.to_markdown()
    assert "| 2027-06-30 |" in md and "| all |" in md
    assert "Backtest of" in bt._repr_markdown_() and md in bt._repr_markdown_()
    # the table as a DataFrame: one row per month end and the pooled row, the errors' and the
    # coverage's numbers, and the Markdown rendered from it cell for cell
    table = bt.table()
    assert list(table.index) == bt.as_of + ["all"] and table.index.name == "as_of"
    assert table.month_end.iloc[:-1].tolist() == [2, 6, 10] and table.month_end.isna().iloc[-1]
    assert list(table.columns[:7]) == ["month_end", "forecast_mae", "forecast_mae_se", "forecast_cover_80",
                                       "forecast_cover_80_se", "forecast_cover_90", "forecast_cover_90_se"]
    assert "run_rate_cover_80" not in table.columns and "run_rate_mae_se" in table.columns
    pooled = err[err.month_end.isna()].set_index("method")
    for m in bt.methods:
        assert table.loc["all", f"{m}_mae"] == pooled.loc[m, "mae"]
    c90 = cov[(cov.level == 0.9) & (cov.as_of == "2027-06-30")].iloc[0]
    assert table.loc["2027-06-30", "forecast_cover_90"] == c90.coverage
    assert table.loc["2027-06-30", "forecast_cover_90_se"] == max(c90.se, c90.se_years)
    cells = [c.strip() for line in md.strip().splitlines()[2:] for c in line.strip("|").split("|")]
    rendered = []
    for as_of, row in table.iterrows():
        rendered.append(as_of)
        for m in bt.methods:
            measures = ["mae"] + (["cover_80", "cover_90"] if bt.has_intervals[m] else [])
            rendered += [f"{100 * row[f'{m}_{k}']:.1f} ± {100 * row[f'{m}_{k}_se']:.1f}" for k in measures]
    assert rendered == cells
    # the same on 1 and 2 threads, bit for bit
    again = rs.backtest(*example(), years=12, scenarios=40, month_ends=[2, 6, 10], seed=3, threads=1, progress=False)
    np.testing.assert_array_equal(again.estimates("forecast").values, bt.estimates("forecast").values)
    np.testing.assert_array_equal(again.realised, bt.realised)


def test_bad_requests():
    with pytest.raises(rs.RequestError, match="forecaster 'oracle'"):
        rs.backtest(*example(), years=1, forecaster="oracle", progress=False)
    with pytest.raises(rs.RequestError, match="at least 2 scenarios"):
        rs.backtest(*example(), years=1, scenarios=1, progress=False)
    with pytest.raises(rs.RequestError, match="month end 13"):
        rs.backtest(*example(), years=1, month_ends=[13], progress=False)
    with pytest.raises(rs.RequestError, match="years: expected at least 1, found 0"):
        rs.backtest(*example(), years=0, progress=False)
    with pytest.raises(rs.RequestError, match="unknown method"):
        rs.backtest(*example(), years=1, scenarios=5, month_ends=[3], progress=False).estimates("nope")
    calls = []
    rs.backtest(*example(), years=3, scenarios=5, month_ends=[3], progress=lambda d, t: calls.append((d, t)))
    assert sorted(calls) == [(1, 3), (2, 3), (3, 3)]


def test_cli(capsys, tmp_path):
    assert main(["backtest", "--years", "3", "--scenarios", "10", "--month-ends", "3,9", "--forecaster", "prior"]) == 0
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
SCENARIOS = 200


@pytest.fixture(scope="module")
def prior500():
    return rs.backtest(*example(), years=YEARS, scenarios=SCENARIOS, seed=2027, forecaster="prior", progress=False)



def expected_coverage(level, scenarios=SCENARIOS):
    """What an interval read off `scenarios` draws covers, on average, of one more draw from
    the same distribution: its ends are the order statistics of ranks 1 + (S − 1)(1 ∓ level)/2
    (linear interpolation, NumPy's default), which enclose (rank_hi − rank_lo)/(S + 1) of the
    probability on average: (S − 1)·level/(S + 1), 79.2% and 89.1% for the 80% and 90%
    intervals at S = 200. Coverage is measured against this, not the nominal level."""
    return (scenarios - 1) * level / (scenarios + 1)


def _pooled_coverage_ok(bt, method, tol=0.04):
    cov = bt.coverage[bt.coverage.method == method]
    pooled = cov[cov.month_end.isna()]
    assert len(pooled) == 2
    for _, r in pooled.iterrows():
        assert r.n >= YEARS * 11
        want = expected_coverage(r.level)
        assert abs(r.coverage - want) <= tol, f"{method} pooled {r.level:.0%}: {r.coverage:.3f} (expected {want:.3f})"


def _monthly_coverage_ok(bt, method, tol=0.04):
    # per month end (500 forecasts each): within ±4 points, unless the miss is within sampling
    # error (3 binomial SEs, about 5.5 points at 80%: 11 month ends × 2 levels are tested)
    cov = bt.coverage[(bt.coverage.method == method) & bt.coverage.month_end.notna()]
    assert len(cov) == 22
    for _, r in cov.iterrows():
        want = expected_coverage(r.level)
        assert abs(r.coverage - want) <= max(tol, 3 * r.se), f"{method} {r.as_of} {r.level:.0%}: {r.coverage:.3f} (expected {want:.3f})"


def test_prior_intervals_cover_at_nominal_rates(prior500):
    # truth and forecast come from the same model, so the forecast made before the year covers
    # at its nominal rates at every month end: the harness measures coverage correctly
    assert prior500.years == YEARS
    _pooled_coverage_ok(prior500, "prior")
    _monthly_coverage_ok(prior500, "prior")


def test_market_methods_improve_through_the_year(prior500):
    err = prior500.errors
    for m in ["current_tier", "run_rate", "seasonal_naive"]:
        e = err[(err.method == m) & err.month_end.notna()].set_index("month_end").mae
        assert e.loc[11] < e.loc[1], (m, e)
    # the prior ignores the actuals: its error does not fall
    e = err[(err.method == "prior") & err.month_end.notna()].set_index("month_end").mae
    assert abs(e.loc[11] - e.loc[1]) < 1e-12


@pytest.fixture(scope="module")
def forecast500():
    return rs.backtest(*example(), years=YEARS, scenarios=SCENARIOS, seed=2027, forecaster="forecast", progress=False)


def test_forecast_intervals_cover_at_nominal_rates(forecast500):
    # the test: over 500 synthetic years (11 month ends each), the 80% and 90% intervals
    # of the forecast from actuals cover the realised payout at their nominal rates within ±4
    # points
    _pooled_coverage_ok(forecast500, "forecast")


def test_forecast_intervals_cover_at_every_month_end(forecast500):
    _monthly_coverage_ok(forecast500, "forecast")


def test_forecast_error_falls_through_the_year(forecast500):
    err = forecast500.errors
    e = err[(err.method == "forecast") & err.month_end.notna()].set_index("month_end")
    # from quarter to quarter, and overall from the first month end to the last
    for a, b in [(1, 3), (3, 6), (6, 9), (9, 11)]:
        assert e.mae.loc[b] < e.mae.loc[a], e.mae
    assert e.mae.loc[11] < 0.5 * e.mae.loc[1]
    assert e.rmse.loc[11] < e.rmse.loc[1]


@pytest.mark.parametrize("market", ["current_tier", "run_rate", "seasonal_naive"])
def test_forecast_beats_the_market_methods(forecast500, market):
    # ranked on the mean absolute relative error of the expected-value estimate, paired on the
    # same years: better pooled over month ends by more than 3 standard errors (over years),
    # and never significantly worse at any month end
    p = forecast500.paired("forecast", market)
    pooled = p[p.month_end.isna()].iloc[0]
    assert pooled.difference < -3 * pooled.se, pooled
    per_month = p[p.month_end.notna()]
    assert (per_month.difference < 2 * per_month.se).all(), per_month
