"""The partner table's ``demand_revenue`` from Python (session 28, issue 17): read from CSV,
DataFrames and Arrow tables, errors naming row and column, the simulation at that level while
settlement keeps the baseline, and the calibration's demand level in ``Calibration.partners``
and ``Calibration.population`` (docs/simulation.md §1, docs/calibration.md "Demand level")."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import rebatesim as rs

PROGRAMME = """
name = "Level"
currency = "EUR"
start = 2027-01-01
period = "year"
periods = 1

[[components]]
id = "vol"
kind = "volume"
method = "retroactive"
tiers = [{ from = 100000, percent = 1 }]
"""


def _table() -> pd.DataFrame:
    return pd.DataFrame({"partner_id": ["A", "B"], "segment": ["s", "s"],
                         "baseline_revenue": [60_000.0, 90_000.0], "demand_revenue": [120_000.0, float("nan")]})


def _revenue(population) -> tuple:
    r = rs.simulate(rs.Programme.from_toml(PROGRAMME), population, rs.Model.from_dict({}), scenarios=2, seed=1,
                    threads=1, progress=False, parameter_uncertainty=False)
    return float(r.per_scenario["revenue"].iloc[0]), float(r.payout[0])


def test_every_table_form_reads_the_column_and_the_engine_simulates_it(tmp_path):
    csv = tmp_path / "partners.csv"
    _table().to_csv(csv, index=False)
    pa = pytest.importorskip("pyarrow")
    parquet = tmp_path / "partners.parquet"
    _table().to_parquet(parquet, index=False)
    forms = {"csv": csv, "pandas": _table(), "pyarrow": pa.Table.from_pandas(_table(), preserve_index=False),
             "parquet": parquet}
    for name, source in forms.items():
        pop = rs.Population.from_csv(source)
        frame = pop.to_frame()
        assert frame["demand_revenue"].tolist()[0] == 120_000.0, name
        assert pd.isna(frame["demand_revenue"].iloc[1]), name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            revenue, payout = _revenue(pop)
        # the default model buys exactly the level: A 120,000 (not its 60,000 baseline), B 90,000;
        # A reaches the ladder: 1% of 120,000
        assert revenue == pytest.approx(210_000.0, abs=1e-6), name
        assert payout == pytest.approx(1_200.0, abs=1e-6), name
    # without any demand_revenue the frame has no such column (tables as before)
    assert "demand_revenue" not in rs.Population.from_csv(_table().drop(columns="demand_revenue")).to_frame()


@pytest.mark.parametrize("cell, message", [
    (-1.0, "expected a finite number ≥ 0 and below 10^15, found -1"),
    (float("inf"), "expected a finite number ≥ 0"),
    (2e15, "below 10^15"),
])
def test_bad_cells_are_data_errors_naming_row_and_column(cell, message):
    table = _table()
    table.loc[1, "demand_revenue"] = cell
    with pytest.raises(rs.DataError, match=r"row 2, column 'demand_revenue': ") as e:
        rs.Population.from_csv(table)
    assert message in str(e.value)
    pa = pytest.importorskip("pyarrow")
    with pytest.raises(rs.DataError, match="row 2, column 'demand_revenue'"):
        rs.Population.from_csv(pa.Table.from_pandas(table, preserve_index=False))


def test_settlement_ignores_the_column():
    prog = rs.Programme.from_toml(PROGRAMME)
    tx = pd.DataFrame({"partner_id": ["A"], "date": ["2027-03-01"], "quantity": [1], "revenue": [150_000.0]})
    with_level = rs.settle(prog, _table(), tx)
    without = rs.settle(prog, _table().drop(columns="demand_revenue"), tx)
    pd.testing.assert_frame_equal(with_level.lines_exact, without.lines_exact)


def _history() -> pd.DataFrame:
    """Six partners buying 1000·(j+1) every month of 2025-2026, and an entrant E buying 500 a
    month from 2026-08 (five months)."""
    rows = []
    for t in range(24):
        y, m = 2025 + t // 12, t % 12 + 1
        for j in range(6):
            rows.append((f"P{j}", f"{y}-{m:02d}-10", 1, 1000.0 * (j + 1) * (1 + 0.02 * ((t * 7 + j) % 3 - 1))))
        if t >= 19:
            rows.append(("E", f"{y}-{m:02d}-10", 1, 500.0))
    return pd.DataFrame(rows, columns=["partner_id", "date", "quantity", "revenue"])


def test_calibration_writes_the_level_and_population_carries_it():
    partners = pd.DataFrame({"partner_id": [f"P{j}" for j in range(6)] + ["E", "NEW"], "segment": ["t"] * 8,
                             "baseline_revenue": [12_000.0 * (j + 1) for j in range(6)] + [2_500.0, 5_000.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = rs.calibrate(_history(), partners.iloc[:7][["partner_id", "segment"]], draws=0, bootstrap=20)
    cal = c.partners.set_index("partner_id")
    for j in range(6):  # a year's buyer: its last twelve months
        assert cal.loc[f"P{j}", "demand_revenue"] == pytest.approx(cal.loc[f"P{j}", "last12_revenue"], abs=1e-6)
    # the entrant: five months of 500, the seasonality and growth fitted on the others
    # (nearly flat), the first month at 1/π (everyone buys every month: π = 1): about 12 × 500
    assert cal.loc["E", "last12_revenue"] == pytest.approx(2_500.0)
    assert cal.loc["E", "demand_revenue"] == pytest.approx(6_000.0, rel=0.02)
    table = c.population(partners)
    assert table["demand_revenue"].tolist()[:7] == cal.loc[[*partners.partner_id[:7]], "demand_revenue"].tolist()
    assert pd.isna(table["demand_revenue"].iloc[7])  # a partner the history does not have
    assert table["baseline_revenue"].tolist() == partners["baseline_revenue"].tolist()  # contractual, as given
    assert "demand_revenue" not in c.population(partners, demand=False).columns
    with pytest.warns(UserWarning, match="demand_revenue column is replaced"):
        c.population(table)
    rs.Population.from_csv(table)  # the engine reads it


def test_a_new_partner_with_a_demand_revenue_is_warned_about_as_simulated_at_it():
    table = pd.DataFrame({"partner_id": ["A", "N"], "segment": ["s", "s"], "baseline_revenue": [60_000.0, None],
                          "demand_revenue": [None, 150_000.0]})
    with pytest.warns(UserWarning, match=r"1 partner\(s\) without a baseline \(N\) are simulated at their "
                                         r"demand_revenue where given, else their segment's median baseline"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="the demand model has every random part off")
            revenue, payout = _revenue(rs.Population.from_csv(table))
    assert revenue == pytest.approx(210_000.0, abs=1e-6)  # N at 150,000, not the median 60,000
    assert payout == pytest.approx(1_500.0, abs=1e-6)


def test_the_forecast_simulates_the_open_months_at_the_demand_level():
    # deterministic demand: A bought 10,000 a month to June (its demand level, 120,000 a year,
    # twice its baseline); the open months are simulated at 10,000 a month, so the year reaches
    # 120,000 and the ladder pays 1% of it; at its baseline the year would end at 90,000, unpaid
    prog = rs.Programme.from_toml(PROGRAMME)
    actuals = pd.DataFrame({"partner_id": ["A"] * 6, "date": [f"2027-{m:02d}-15" for m in range(1, 7)],
                            "quantity": [1] * 6, "revenue": [10_000.0] * 6})
    table = _table().iloc[:1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = rs.forecast(prog, table, rs.Model.from_dict({}), actuals, as_of="2027-06-30", scenarios=4, seed=1,
                        progress=False)
        g = rs.forecast(prog, table.drop(columns="demand_revenue"), rs.Model.from_dict({}), actuals,
                        as_of="2027-06-30", scenarios=4, seed=1, progress=False)
    assert f.payout.tolist() == pytest.approx([1_200.0] * 4, abs=1e-6)
    assert g.payout.tolist() == pytest.approx([0.0] * 4, abs=1e-6)


def test_a_process_pool_runs_the_demand_level_bit_for_bit():
    # the population travels as bytes (version 3, with demand_revenue) to spawned workers
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np

    table = pd.DataFrame({"partner_id": [f"P{i}" for i in range(40)], "segment": ["s"] * 40,
                          "baseline_revenue": [50_000.0 + 1_000 * i for i in range(40)],
                          "demand_revenue": [float("nan") if i % 3 == 0 else 80_000.0 + 500 * i for i in range(40)]})
    model = {"noise": {"sigma": 0.25}, "market": {"sigma": 0.1}, "partner_factor": {"sigma": 0.1}}
    prog = rs.Programme.from_toml(PROGRAMME)
    local = rs.simulate(prog, table, model, scenarios=30, seed=4, progress=False)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = rs.simulate(prog, table, model, scenarios=30, seed=4, progress=False, executor=pool)
    assert np.array_equal(np.asarray(local.payout).view(np.uint64), np.asarray(pooled.payout).view(np.uint64))
    assert np.array_equal(np.asarray(local.per_scenario["revenue"]).view(np.uint64),
                          np.asarray(pooled.per_scenario["revenue"]).view(np.uint64))
    # and the level is used: on the same random numbers each scenario's revenue scales with the
    # levels (3.32M against 2.78M of baselines: the ratio of the sums, 1.19, up to the factors)
    base = rs.simulate(prog, table.drop(columns="demand_revenue"), model, scenarios=30, seed=4, progress=False)
    level = table["demand_revenue"].fillna(table["baseline_revenue"]).sum() / table["baseline_revenue"].sum()
    ratio = local.per_scenario["revenue"].mean() / base.per_scenario["revenue"].mean()
    assert abs(ratio / level - 1) < 0.03, (ratio, level)
