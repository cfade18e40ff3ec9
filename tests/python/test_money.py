"""Money at the currency's scale in every settlement output, and inputs that used to panic
the core (Decimal overflow) or give silent inf/NaN (huge baselines) raise rebatesim errors
naming the row, field or partner. See docs/calculations.md §10 and §13."""

from __future__ import annotations

import decimal
import json

import pandas as pd
import pytest

import rebatesim as rs

D = decimal.Decimal


def programme(currency: str, components, **extra):
    return rs.Programme.from_dict(
        {
            "name": "T",
            "currency": currency,
            "start": "2027-01-01",
            "period": "quarter",
            "periods": 4,
            "components": components,
            **extra,
        }
    )


PER_UNIT_LADDER = [{"id": "u", "kind": "volume", "basis": "units", "tiers": [{"from": 1001, "per_unit": 10}]}]


def one_line(quantity="1200", revenue="50000", partner="A"):
    return pd.DataFrame(
        {"partner_id": [partner], "date": ["2027-02-01"], "quantity": [quantity], "revenue": [revenue]}
    )


@pytest.mark.parametrize("currency,want", [("EUR", "12000.00"), ("JPY", "12000"), ("KWD", "12000.000")])
def test_per_unit_ladder_total_at_scale(currency, want, tmp_path):
    # 1,200 units reach the tier from 1,001: 10 per unit on all of them = 12,000
    s = rs.settle(programme(currency, PER_UNIT_LADDER), pd.DataFrame({"partner_id": ["A"]}), one_line())
    assert str(s.total) == want
    assert s.total == D(12000)
    exact = s.lines_exact
    assert str(exact["payable"].iloc[0]) == want
    # zero lines and every adjustment at the scale too
    dp = {"EUR": 2, "JPY": 0, "KWD": 3}[currency]
    for col in ["calculated", "adj_component_cap", "adj_budget_cut", "payable"]:
        for v in exact[col]:
            assert -v.as_tuple().exponent == dp, (col, v)
    for v in s.by_partner(exact=True)["payable"]:
        assert str(v) == want
    assert all(str(v) == str(s.totals[k]) for k, v in s.totals.items())
    s.to_csv(tmp_path / "out")
    lines = pd.read_csv(tmp_path / "out" / "lines.csv", dtype=str)
    assert lines["payable"].iloc[0] == want
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["totals"]["payable"] == want
    assert f'"payable": "{want}"' in s.to_json()


def test_a_rate_gives_300_00_not_300_0(tmp_path):
    p = programme("EUR", [{"id": "v", "kind": "volume", "tiers": [{"from": 1000, "percent": 10}]}])
    s = rs.settle(p, pd.DataFrame({"partner_id": ["A"]}), one_line(quantity="1", revenue="3000"))
    assert str(s.total) == "300.00"
    assert s.summary()["totals"]["payable"] == "300.00"
    assert s.summary()["totals"]["adj_budget_cut"] == "0.00"


def test_float_columns_are_read_to_a_millionth():
    """Computed float columns carry binary noise; they settle as the decimals they stand for
    (36.900000000000006 reads 36.9), the same as the text column, not refused for their 15th
    decimal."""
    p = programme("EUR", [{"id": "v", "kind": "volume", "tiers": [{"from": 10, "percent": 10}]}])
    partners = pd.DataFrame({"partner_id": ["A"]})
    noisy = 12.3 * 3  # 36.900000000000006
    assert repr(noisy) == "36.900000000000006"
    floats = pd.DataFrame({"partner_id": ["A"], "date": ["2027-02-01"], "quantity": [0.1 + 0.2],
                           "revenue": [noisy]})
    s = rs.settle(p, partners, floats)
    text = rs.settle(p, partners, one_line(quantity="0.3", revenue="36.9"))
    assert s.total == text.total == D("3.69")
    assert str(s.total) == "3.69"


def test_revenue_near_the_decimal_maximum_is_a_data_error():
    tx = pd.DataFrame(
        {
            "partner_id": ["A", "A"],
            "date": ["2027-01-01", "2027-01-02"],
            "quantity": ["1", "1"],
            "revenue": ["70000000000000000000000000000", "70000000000000000000000000000"],
        }
    )
    with pytest.raises(rs.DataError) as e:
        rs.settle(programme("EUR", PER_UNIT_LADDER), pd.DataFrame({"partner_id": ["A"]}), tx)
    assert (e.value.row, e.value.column) == (1, "revenue")
    assert "10^15" in str(e.value)


def test_28_decimals_is_a_data_error():
    with pytest.raises(rs.DataError) as e:
        rs.settle(
            programme("EUR", PER_UNIT_LADDER),
            pd.DataFrame({"partner_id": ["A"]}),
            one_line(revenue="1.2345678901234567890123456789"),
        )
    assert (e.value.row, e.value.column) == (1, "revenue")
    assert "at most 6 decimal places" in str(e.value)


def test_tiny_growth_baseline_is_a_data_error():
    p = programme("EUR", [{"id": "g", "kind": "growth", "tiers": [{"from": 5, "percent": 2}]}])
    with pytest.raises(rs.DataError) as e:
        rs.settle(p, pd.DataFrame({"partner_id": ["A"], "baseline_revenue": ["1e-24"]}), one_line())
    assert (e.value.row, e.value.column) == (1, "baseline_revenue")


def test_fixed_reward_near_the_maximum_is_a_programme_error():
    with pytest.raises(rs.ProgrammeError) as e:
        programme(
            "EUR",
            [{"id": "f", "kind": "volume", "tiers": [{"from": 0, "fixed": "79000000000000000000000000000"}]}],
        )
    assert "components[0].tiers[0].fixed" in str(e.value)


def test_per_unit_times_huge_quantity_names_partner_and_component():
    p = programme("EUR", [{"id": "huge", "kind": "per_unit", "amount": "99999999999999"}])
    with pytest.raises(rs.DataError) as e:
        rs.settle(p, pd.DataFrame({"partner_id": ["B"]}), one_line(quantity="900000000000000", partner="B"))
    assert "partner 'B', component 'huge'" in str(e.value)


def test_population_baseline_1e308_is_a_data_error():
    with pytest.raises(rs.DataError) as e:
        rs.Population.from_csv(
            pd.DataFrame({"partner_id": ["A", "B"], "segment": ["s", "s"], "baseline_revenue": [100.0, 1e308]})
        )
    assert (e.value.row, e.value.column) == (2, "baseline_revenue")
    with pytest.raises(rs.ModelError):
        rs.Population.synthetic({"s": {"count": 3, "median_baseline": 1e308}})
