"""rs.calibrate: the Rust calibration through the binding (docs/calibration.md)."""

import math

import pandas as pd
import pytest

import rebatesim as rs


def _history(months: int, partners: int = 6) -> pd.DataFrame:
    rows = []
    for t in range(months):
        y, m = 2024 + t // 12, t % 12 + 1
        for j in range(partners):
            if (t * 5 + j * 3) % 7 == 0:  # partners skip some months
                continue
            amount = 1000 * (j + 1) * math.exp(0.2 * math.cos(t * math.pi / 6) + 0.05 * ((t * 7 + j * 11) % 5 - 2))
            rows.append((f"P{j}", f"{y}-{m:02d}-10", round(amount / 25, 6), round(amount, 2), f"O{t}-{j}"))
    return pd.DataFrame(rows, columns=["partner_id", "date", "quantity", "revenue", "order_id"])


def test_calibrate_returns_a_model_with_estimates_and_draws():
    partners = pd.DataFrame({"partner_id": [f"P{j}" for j in range(6)], "segment": ["trade"] * 6})
    with pytest.warns(UserWarning, match="segment 'trade' has only 6 partners"):
        c = rs.calibrate(_history(26), partners, draws=3, bootstrap=30)
    assert isinstance(c.model, rs.Model)
    assert rs.Model.from_toml(c.model_text()) == c.model
    assert "# market.sigma = " in c.model_text()
    est = c.estimates.set_index("parameter")
    assert abs(est.loc["economics.unit_price", "value"] - 25.0) < 1e-3
    assert est.loc["incidence.probability", "value"] < 1.0
    assert len(c.draws) == 3 and all(isinstance(d, rs.Model) for d in c.draws)
    assert list(c.partners["partner_id"]) == [f"P{j}" for j in range(6)]
    assert "months" in c.diagnostics and len(c.diagnostics["months"]) == 26
    assert "26 months from 2024-01" in repr(c)


def test_short_history_is_a_data_error_naming_the_column():
    with pytest.raises(rs.DataError) as e:
        rs.calibrate(_history(12))
    assert e.value.column == "date"
    assert "the history covers 12 months (2024-01 to 2024-12)" in str(e.value)


def test_bad_options_are_request_errors():
    with pytest.raises(rs.RequestError, match="draws: expected a whole number"):
        rs.calibrate(_history(14), draws=-1)
