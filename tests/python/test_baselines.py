"""Per-period (monthly) baselines from Python: settlement and simulation from DataFrames and
Parquet, errors naming row and column, and the calibration's monthly baselines
(docs/calculations.md §3; the same worked example as tests/settlement_baselines.rs)."""

import math
from decimal import Decimal

import pandas as pd
import pytest

import rebatesim as rs

PROGRAMME = """
name = "Seasonal"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4

[[components]]
id = "growth_q"
kind = "growth"
tiers = [{ from = 5, percent = 2 }, { from = 15, percent = 4 }]

[[components]]
id = "units_above"
kind = "per_unit"
amount = 0.5
above = "baseline"
"""

REV = [10000, 10000, 20000, 40000, 50000, 30000, 20000, 10000, 10000, 10000, 10000, 20000]
UNITS = [100, 100, 100, 300, 300, 300, 100, 100, 100, 100, 100, 100]
MONTHS = [f"baseline_revenue_m{m:02d}" for m in range(1, 13)]
UNIT_MONTHS = [f"baseline_units_m{m:02d}" for m in range(1, 13)]


def _partners() -> pd.DataFrame:
    """S: monthly baselines only (floats, as a computed DataFrame holds them); A: annual only."""
    rows = {"partner_id": ["S", "A"], "segment": ["s", "s"],
            "baseline_revenue": [float("nan"), 240000.0], "baseline_units": [float("nan"), 1800.0]}
    for j in range(12):
        # 0.1 + 0.2 style binary noise is read to a millionth, as for the annual columns
        rows[MONTHS[j]] = [REV[j] + (0.1 + 0.2 - 0.3), float("nan")]
        rows[UNIT_MONTHS[j]] = [float(UNITS[j]), float("nan")]
    return pd.DataFrame(rows)


def _transactions() -> pd.DataFrame:
    lines = [("2027-02-10", 320, 44000), ("2027-04-15", 400, 45000), ("2027-05-15", 400, 50000),
             ("2027-06-15", 200, 35000), ("2027-08-10", 250, 38000), ("2027-11-10", 310, 47000)]
    return pd.DataFrame([(p, pd.Timestamp(d), q, r) for p in ("S", "A") for d, q, r in lines],
                        columns=["partner_id", "date", "quantity", "revenue"])


def _payable(s, partner: str, component: str) -> list:
    lines = s.lines
    sel = lines[(lines.partner_id == partner) & (lines.component == component)].sort_values("period")
    return [round(float(x), 2) for x in sel.payable]


@pytest.fixture
def programme():
    return rs.Programme.from_toml(PROGRAMME)


def test_settle_from_a_dataframe_uses_the_quarter_of_last_year(programme):
    s = rs.settle(programme, _partners(), _transactions())
    # by hand (docs/calculations.md §3): S against 40,000 / 120,000 / 40,000 / 40,000,
    # A against 60,000 a quarter
    assert _payable(s, "S", "growth_q") == [880.0, 2600.0, 0.0, 1880.0]
    assert _payable(s, "A", "growth_q") == [0.0, 5200.0, 0.0, 0.0]
    assert _payable(s, "S", "units_above") == [10.0, 50.0, 0.0, 5.0]
    assert _payable(s, "A", "units_above") == [0.0, 275.0, 0.0, 0.0]
    assert s.total == Decimal("10900.00")
    assert "against the prior-year Q2 baseline of 120,000.00" in s.explain("S")


def test_parquet_and_polars_settle_alike(programme, tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "partners.parquet"
    _partners().to_parquet(path)
    want = rs.settle(programme, _partners(), _transactions()).lines.payable.tolist()
    assert rs.settle(programme, str(path), _transactions()).lines.payable.tolist() == want
    pl = pytest.importorskip("polars")
    assert rs.settle(programme, pl.from_pandas(_partners()), _transactions()).lines.payable.tolist() == want


def test_a_mismatch_or_a_partial_set_is_a_data_error_naming_row_and_column(programme):
    bad = _partners()
    bad.loc[0, "baseline_revenue"] = 240000.5
    for call in (lambda: rs.settle(programme, bad, _transactions()), lambda: rs.Population.from_csv(bad)):
        with pytest.raises(rs.DataError) as e:
            call()
        assert (e.value.row, e.value.column) == (1, "baseline_revenue")
        assert "sum to 240000" in str(e.value)
    partial = _partners().drop(columns=[UNIT_MONTHS[11]])
    for call in (lambda: rs.settle(programme, partial, _transactions()), lambda: rs.Population.from_csv(partial)):
        with pytest.raises(rs.DataError) as e:
            call()
        assert e.value.column == "baseline_units_m12" and "all twelve" in str(e.value)
    negative = _partners()
    negative.loc[0, MONTHS[3]] = -1.0
    with pytest.raises(rs.DataError) as e:
        rs.Population.from_csv(negative)
    assert (e.value.row, e.value.column) == (1, "baseline_revenue_m04")


def test_population_from_a_dataframe_carries_the_months_and_agrees_with_settlement(programme):
    pop = rs.Population.from_csv(_partners())
    frame = pop.to_frame()
    assert frame.baseline_revenue.tolist() == [240000.0, 240000.0]  # S: the months' sum
    assert frame[MONTHS[4]].tolist()[0] == 50000.0 and math.isnan(frame[MONTHS[4]].tolist()[1])
    assert frame[UNIT_MONTHS[3]].tolist()[0] == 300.0
    # demand at the baseline (the all-default model): 20,000 and 150 units a month for both
    # (the demand level is the annual baseline, docs/simulation.md); S's growth is measured
    # against its own quarters: +50% in Q1, Q3, Q4 (4% of 60,000 = 2,400 each), −50% in Q2,
    # and 450 units against 300 (75.00) except in Q2 (900); A is flat against 60,000 and 450
    with pytest.warns(UserWarning, match="random"):
        sim = rs.simulate(programme, pop, rs.Model.from_dict({}), scenarios=2, seed=3)
    assert sim.payout.tolist() == pytest.approx([3 * 2400 + 3 * 75] * 2, abs=0.05)


def test_forecast_settles_the_closed_quarters_and_simulates_the_open_ones_against_the_months(programme):
    actuals = _transactions()
    actuals = actuals[actuals.date <= "2027-06-30"]
    with pytest.warns(UserWarning, match="random"):
        f = rs.forecast(programme, _partners(), rs.Model.from_dict({}), actuals, as_of="2027-06-30",
                        scenarios=2, progress=False)
    # closed (settled, as in the settlement test): S 880 + 2,600 and 10 + 50; A 5,200 and 275
    j = f.journal(include_zero=True).set_index(["partner_id", "component"])["required"]
    assert j.to_dict() == {("A", "growth_q"): 5200.0, ("A", "units_above"): 275.0,
                           ("S", "growth_q"): 3480.0, ("S", "units_above"): 60.0}
    # open, at the baseline level of 60,000 a quarter: S +50% over its 40,000 in Q3 and Q4
    # (4% = 2,400 each), A flat against 60,000 (nothing)
    assert f.by_component().loc["growth_q", "mean"] == pytest.approx(880 + 2600 + 2 * 2400 + 5200, abs=0.005)
    # units: S's open quarters are measured against 300 (Q3, Q4), A's against 450, so S's
    # open part pays 2 × 75 more than A's on the same simulated units
    units = f.by_partner()["mean"]
    s_units = units["S"] - (880 + 2600 + 2 * 2400)
    a_units = units["A"] - 5200
    assert s_units - 60 == pytest.approx(a_units - 275 + 2 * 75, abs=0.005)
    assert len(f.watch_list()) >= 0


def _history() -> pd.DataFrame:
    rows = []
    for t in range(24):
        y, m = 2025 + t // 12, t % 12 + 1
        for j in range(6):
            amount = 1000 * (j + 1) * math.exp(0.3 * math.cos(t * math.pi / 6) + 0.05 * ((t * 7 + j * 11) % 5 - 2))
            rows.append((f"P{j}", f"{y}-{m:02d}-10", round(amount / 25, 6), round(amount, 2)))
    return pd.DataFrame(rows, columns=["partner_id", "date", "quantity", "revenue"])


def test_calibration_gives_the_last_history_year_as_monthly_baselines():
    history = _history()
    partners = pd.DataFrame({"partner_id": [f"P{j}" for j in range(6)] + ["NEW"], "segment": ["trade"] * 7,
                             "baseline_revenue": [1.0] * 6 + [5000.0]})
    with pytest.warns(UserWarning):
        c = rs.calibrate(history, partners.iloc[:6], draws=0, bootstrap=30)
    cal = c.partners.set_index("partner_id")
    last = history[history.date >= "2026-01-01"]
    for j in range(6):
        mine = last[last.partner_id == f"P{j}"].revenue.tolist()
        assert cal.loc[f"P{j}", MONTHS].tolist() == pytest.approx(mine, abs=1e-6)
        assert sum(mine) == pytest.approx(cal.loc[f"P{j}", "last12_revenue"], abs=1e-6)
    with pytest.warns(UserWarning, match="6 annual baselines differ"):
        table = c.population(partners, baselines=True)
    assert table.baseline_revenue.isna().tolist() == [True] * 6 + [False]
    assert table.loc[6, MONTHS].isna().all()
    pop = rs.Population.from_csv(table)
    assert pop.to_frame().baseline_revenue.tolist()[:6] == pytest.approx(cal.last12_revenue.tolist(), abs=1e-5)
    # without the option the table keeps its baselines
    assert MONTHS[0] not in c.population(partners).columns


def _linear_history(units: int = 1) -> pd.DataFrame:
    """Five partners, 2024-01 … 2025-02: partner i buys (i+1)·(1000 + 10·t) for (i+1)·(10 + t)
    units in history month t (t = 0 for 2024-01)."""
    rows = []
    for i in range(5):
        for t in range(14):
            y, m = 2024 + t // 12, t % 12 + 1
            rows.append((f"P{i}", f"{y}-{m:02d}-10", (i + 1) * (10 + t) * units, (i + 1) * (1000 + 10 * t)))
    return pd.DataFrame(rows, columns=["partner_id", "date", "quantity", "revenue"])


def _ladder(start: str):
    return rs.Programme.new("Ladder", "EUR", start, "quarter", 4, [rs.volume("vol", [(30_000, "2%")])])


QUIET_CAL = {"draws": 0, "bootstrap": 20, "warn_segment_partners": 0}


def test_calibration_units_baselines_and_a_programme_starting_in_april():
    c = rs.calibrate(_linear_history(), **QUIET_CAL)
    cal = c.partners.set_index("partner_id")
    # no programme: 2024-03 (t = 2) … 2025-02 (t = 13); P1 = 2·(1000 + 10t), 2·(10 + t) units
    assert c.baseline_months[0] == "2024-03" and c.baseline_months[-1] == "2025-02"
    assert cal.loc["P1", MONTHS].tolist() == [2 * (1000 + 10 * t) for t in range(2, 14)]
    assert cal.loc["P1", UNIT_MONTHS].tolist() == [2 * (10 + t) for t in range(2, 14)]
    with pytest.warns(UserWarning, match="thresholds"):
        april = rs.calibrate(_linear_history(), programme=_ladder("2025-04-01"), **QUIET_CAL)
    # April: m01 = April 2024 (t = 3) … m11 = February 2025 (t = 13), m12 = March 2024 (t = 2)
    order = list(range(3, 14)) + [2]
    assert april.baseline_months == [f"2024-{m:02d}" for m in range(4, 13)] + ["2025-01", "2025-02", "2024-03"]
    cal = april.partners.set_index("partner_id")
    assert cal.loc["P0", MONTHS].tolist() == [1000 + 10 * t for t in order]
    assert cal.loc["P4", UNIT_MONTHS].tolist() == [5 * (10 + t) for t in order]
    partners = pd.DataFrame({"partner_id": ["P0", "P1", "NEW"], "segment": ["a"] * 3,
                             "baseline_revenue": [None, None, 9000.0], "baseline_units": [None, 420.0, 90.0]})
    table = april.population(partners, baselines=True)  # P1's units agree with its months: no warning
    assert table.baseline_units.isna().tolist() == [True, True, False]
    assert table.loc[0, UNIT_MONTHS].tolist() == [10 + t for t in order]
    pop = rs.Population.from_csv(table).to_frame()
    # 12·10 + (2+…+13) = 210 units and 12·1000 + 10·90 = 12,900 for P0; NEW keeps its own
    assert pop.baseline_units.tolist() == pytest.approx([210.0, 420.0, 90.0])
    assert pop.baseline_revenue.tolist() == pytest.approx([12_900.0, 25_800.0, 9000.0])


def test_calibration_warns_for_a_programme_before_the_history_ends_and_skips_units_without_quantities():
    with pytest.warns(UserWarning) as record:
        c = rs.calibrate(_linear_history(), programme=_ladder("2024-01-01"), **QUIET_CAL)
    assert any("programme starts on 2024-01-01, before the history ends (2025-02)" in str(w.message) for w in record)
    assert c.baseline_months[:2] == ["2025-01", "2025-02"]
    none = rs.calibrate(_linear_history(units=0), **QUIET_CAL)
    assert UNIT_MONTHS[0] not in none.partners.columns
    table = none.population(pd.DataFrame({"partner_id": ["P0"], "segment": ["a"], "baseline_units": [7.0]}),
                            baselines=True)
    assert UNIT_MONTHS[0] not in table.columns and table.baseline_units.tolist() == [7.0]
