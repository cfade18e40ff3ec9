"""rebatesim.forecast: the Python API and the `rebatesim forecast` command."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs
from conftest import FIXTURES, run_cli

# One annual retroactive ladder (2% from 100,000, 4% from 200,000), shared with the Rust tests.
YEAR = rs.Programme.from_file(FIXTURES / "year-retro" / "programme.toml")

ONE = pd.DataFrame({"partner_id": ["A"], "segment": ["s"], "baseline_revenue": [240_000.0]})


def h1(partner="A", monthly=20_000.0):
    return pd.DataFrame({
        "partner_id": [partner] * 6,
        "date": pd.to_datetime([f"2027-{m:02d}-15" for m in range(1, 7)]),
        "quantity": [1] * 6,
        "revenue": [monthly] * 6,
    })


def test_hand_computed_catch_up():
    # tier 1 (2%) on 120,000 to date, tier 2 (4%) expected on 240,000 by December:
    # required 4% × 120,000 = 4,800; accrued 2,000 through May; book 2,800 = 800 run rate
    # on June + 2,000 catch-up on January–May
    prior = pd.DataFrame({"partner_id": ["A"], "component": ["vol"], "amount": [2000.0]})
    f = rs.forecast(YEAR, ONE, None, h1(), as_of="2027-06-30", scenarios=5, prior_accruals=prior, progress=False)
    assert isinstance(f, rs.Forecast)
    e = f.estimates
    assert (e.expected_value, e.most_likely, e.constrained) == (9600.0, 9600.0, 9600.0)
    assert "IFRS 15" in e.method and "90%" in e.method
    j = f.journal()
    row = j.iloc[0]
    assert (row.required, row.prior, row.movement, row.run_rate, row.catch_up) == (4800.0, 2000.0, 2800.0, 800.0, 2000.0)
    assert row.debit_account == "Rebates (contra-revenue)" and row.amount == 2800.0
    assert str(row.date) == "2027-06-30"
    w = f.watch_list()
    assert w.loc[0, "current_tier"] == 1 and w.loc[0, "shortfall"] == 80_000 and w.loc[0, "next_tier_pays"] == 5600
    assert w.loc[0, "p_tier_2"] == 1.0
    assert f.months_observed == 6 and f.partial_month == 1.0
    assert f.budget_binding is None


@pytest.fixture
def small(files):
    actuals = pd.read_csv(files["transactions"])
    actuals = actuals[actuals["date"] <= "2027-06-30"]
    return files, actuals


MODEL = {"noise": {"sigma": 0.2}, "partner_factor": {"sigma": 0.2}, "market": {"sigma": 0.1},
         "economics": {"unit_price": 300, "category_mix": {"cable": 0.6, "tools": 0.4}}}


def test_tables_reconcile_and_export(small, tmp_path):
    files, actuals = small
    f = rs.forecast(files["programme"], files["partners"], MODEL, actuals, as_of="2027-06-30",
                    scenarios=200, seed=4, progress=False)
    mean = f.payout.mean()
    assert f.summary.loc["payout", "mean"] == pytest.approx(mean)
    assert {"most_likely", "constrained", "p95_se"} <= set(f.summary.columns)
    assert f.cash_schedule()["mean"].sum() == pytest.approx(mean)
    assert f.journal(include_zero=True)["estimated_final"].sum() == pytest.approx(mean)
    bp = f.by_partner()
    assert list(bp.index) == ["P1", "P2", "P3"] and bp["mean"].sum() == pytest.approx(mean)
    assert f.by_segment()["mean"].sum() == pytest.approx(mean)
    assert f.by_component()["mean"].sum() == pytest.approx(mean)
    p, se = f.budget_binding
    assert 0 <= p <= 1 and se >= 0
    # P3 bought nothing before July: treated as churned, pays nothing
    assert bool(bp.loc["P3", "churned"]) and bp.loc["P3", "p95"] == 0
    assert "Forecast" in f._repr_html_() and "method" in f._repr_html_()
    assert "as of 2027-06-30" in repr(f)
    f.to_csv(tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(["summary.csv", "estimates.csv", "partners.csv", "segments.csv", "components.csv",
                            "journal.csv", "journal_summary.csv", "reconciliation.csv", "rollforward.csv",
                            "watch_list.csv", "cash_schedule.csv", "forecast.json"])
    with pytest.raises(rs.FileError):
        f.to_csv(tmp_path / "out")
    f.to_csv(tmp_path / "out", force=True)
    assert json.loads((tmp_path / "out" / "forecast.json").read_text())["as_of"] == "2027-06-30"
    pytest.importorskip("openpyxl")
    f.to_excel(tmp_path / "f.xlsx")
    sheets = pd.read_excel(tmp_path / "f.xlsx", sheet_name=None)
    assert {"summary", "estimates", "partners", "journal", "watch_list", "cash_schedule", "method"} <= set(sheets)


def test_reproducible_across_threads(small):
    files, actuals = small
    a = rs.forecast(files["programme"], files["partners"], MODEL, actuals, as_of="2027-05-20",
                    scenarios=64, seed=9, threads=1, progress=False)
    b = rs.forecast(files["programme"], files["partners"], MODEL, actuals, as_of="2027-05-20",
                    scenarios=64, seed=9, threads=2, progress=False)
    assert np.array_equal(a.payout, b.payout)
    pd.testing.assert_frame_equal(a.journal(), b.journal())


def test_progress_callback_and_errors_from_it(small):
    files, actuals = small
    seen = []
    rs.forecast(files["programme"], files["partners"], MODEL, actuals, as_of="2027-06-30",
                scenarios=70, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (70, 70)

    def boom(done, total):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        rs.forecast(files["programme"], files["partners"], MODEL, actuals, as_of="2027-06-30",
                    scenarios=70, progress=boom)


def test_bad_input_names_the_row(small):
    files, actuals = small
    full = pd.read_csv(files["transactions"])
    with pytest.raises(rs.DataError, match=r"transactions, row 8, column 'date': date 2027-07-01 is after the forecast date 2027-06-30"):
        rs.forecast(files["programme"], files["partners"], MODEL, full, as_of="2027-06-30", progress=False)
    with pytest.raises(rs.RequestError, match="as_of 2028-01-31 is outside the programme"):
        rs.forecast(files["programme"], files["partners"], MODEL, actuals, as_of="2028-01-31", progress=False)
    bad = pd.DataFrame({"partner_id": ["P9"], "component": ["volume"], "amount": [1.0]})
    with pytest.raises(rs.DataError, match=r"prior_accruals, row 1, column 'partner_id': unknown partner 'P9'"):
        rs.forecast(files["programme"], files["partners"], MODEL, actuals, as_of="2027-06-30",
                    prior_accruals=bad, progress=False)
    returns = pd.concat([actuals, pd.DataFrame({"partner_id": ["P2"], "date": ["2027-06-01"], "quantity": [-10],
                                                "revenue": [-200000], "category": ["tools"], "order_id": [None]})])
    with pytest.raises(rs.DataError, match="negative cumulative net revenue"):
        rs.forecast(files["programme"], files["partners"], MODEL, returns, as_of="2027-06-30", progress=False)


def test_docstring_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module("rebatesim.forecasting")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0 and result.failed == 0


def forecast_args(files, actuals_path):
    model = files["programme"].parent / "model.json"
    model.write_text(json.dumps(MODEL))
    return ["forecast", "--programme", str(files["programme"]), "--partners", str(files["partners"]),
            "--model", str(model), "--actuals", str(actuals_path), "--as-of", "2027-06-30",
            "--scenarios", "50", "--seed", "3"]


def test_cli(small, tmp_path):
    files, actuals = small
    a = tmp_path / "actuals.csv"
    actuals.to_csv(a, index=False)
    r = run_cli(forecast_args(files, a), tmp_path)
    assert r.returncode == 0, r.stderr
    assert "IFRS 15 estimate" in r.stdout and "expected value" in r.stdout and "catch-up" in r.stdout and "closing liability" in r.stdout
    r = run_cli(forecast_args(files, a) + ["--json"], tmp_path)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["as_of"] == "2027-06-30" and d["scenarios"] == 50 and len(d["by_partner"]) == 3
    prior = tmp_path / "prior.csv"
    prior.write_text("partner_id,component,amount\nP1,volume,1000\n")
    r = run_cli(forecast_args(files, a) + ["--prior-accruals", str(prior), "--out", str(tmp_path / "o")], tmp_path)
    assert r.returncode == 0, r.stderr
    j = pd.read_csv(tmp_path / "o" / "journal.csv")
    if importlib.util.find_spec("openpyxl"):
        r = run_cli(forecast_args(files, a) + ["--excel", str(tmp_path / "f.xlsx")], tmp_path)
        assert r.returncode == 0, r.stderr
        assert "journal" in pd.read_excel(tmp_path / "f.xlsx", sheet_name=None)
    assert j.loc[(j.partner_id == "P1") & (j.component == "volume"), "prior"].item() == 1000
    # errors: one message naming the row, exit status 1, nothing written
    r = run_cli(forecast_args(files, files["transactions"]) + ["--out", str(tmp_path / "never")], tmp_path)
    assert r.returncode == 1 and "row 8, column 'date'" in r.stderr and r.stdout == ""
    assert not (tmp_path / "never").exists()
