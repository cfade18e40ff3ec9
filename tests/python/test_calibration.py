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
    # the engine simulates the skipped months: the model carries the estimated incidence, and
    # each draw its drawn value (docs/calibration.md, section 5.1)
    pi = est.loc["incidence.probability", "value"]
    assert c.model.to_dict()["incidence"]["probability"] == pytest.approx(pi, rel=1e-12)
    assert "[incidence]" in c.model_text()
    assert len(c.draws) == 3 and all(isinstance(d, rs.Model) for d in c.draws)
    drawn = [d.to_dict()["incidence"]["probability"] for d in c.draws]
    inc = c.draw_incidence
    assert inc.index.name == "draw" and list(inc.index) == [0, 1, 2] and list(inc.columns) == ["trade"]
    assert drawn == [pytest.approx(x) for x in inc["trade"]]
    assert list(c.partners["partner_id"]) == [f"P{j}" for j in range(6)]
    diag = c.diagnostics
    assert sorted(diag) == ["annual", "churn", "churn_rule", "market", "residuals", "segment_months"]
    assert len(diag["market"]) == 26 and diag["market"].index[0] == "2024-01" and list(diag["market"].columns) == ["market"]
    assert list(diag["churn_rule"].index) == ["trade"] and list(diag["churn_rule"].columns) == ["k_rule_hazard"]
    assert list(diag["annual"].columns) == ["observed", "fitted"] and list(diag["residuals"].columns) == ["residual"]
    # the market path is the same in the per-month table and the segment-month table
    sm = diag["segment_months"]
    assert sm[sm.segment == "trade"].set_index("month")["market"].equals(diag["market"]["market"])
    assert diag["churn"].equals(c.churn_curves())
    assert "26 months from 2024-01" in repr(c)


def test_short_history_is_a_data_error_naming_the_column():
    with pytest.raises(rs.DataError) as e:
        rs.calibrate(_history(12))
    assert e.value.column == "date"
    assert "the history covers 12 months (2024-01 to 2024-12)" in str(e.value)


def test_bad_options_are_request_errors():
    with pytest.raises(rs.RequestError, match="draws: expected a whole number"):
        rs.calibrate(_history(14), draws=-1)


def test_population_carries_each_partners_calibrated_mix():
    """Calibration.population: the year's partner table with each partner's calibrated mix as
    mix_<category> columns (a new partner gets its segment's mean mix), read back by the
    population as it is (shares at 6 decimals summing to 1 within a millionth per category)."""
    h = _history(26)
    # two categories: partner j buys a share (j + 1) / 8 of its revenue in "b"
    lines = []
    for row in h.itertuples(index=False):
        j = int(row.partner_id[1:])
        share_b = (j + 1) / 8
        for cat, share, price in (("a", 1 - share_b, 20.0), ("b", share_b, 100.0)):
            revenue = round(row.revenue * share, 2)
            lines.append((row.partner_id, row.date, round(revenue / price, 6), revenue, row.order_id, cat))
    history = pd.DataFrame(lines, columns=["partner_id", "date", "quantity", "revenue", "order_id", "category"])
    partners = pd.DataFrame({"partner_id": [f"P{j}" for j in range(6)], "segment": ["trade"] * 6})
    with pytest.warns(UserWarning):
        c = rs.calibrate(history, partners, draws=0, bootstrap=30)
    year = pd.DataFrame({"partner_id": ["P0", "P5", "NEW"], "segment": ["trade"] * 3,
                         "baseline_revenue": [10_000.0, 60_000.0, 20_000.0], "mix_a": [0.5, 0.5, 0.5],
                         "mix_b": [0.5, 0.5, 0.5]})
    with pytest.warns(UserWarning, match="mix_a, mix_b are replaced"):
        pop = c.population(year)
    assert list(pop.columns[:3]) == ["partner_id", "segment", "baseline_revenue"]
    cal = c.partners.set_index("partner_id")
    for p in ("P0", "P5"):
        row = pop.set_index("partner_id").loc[p]
        total = cal.loc[p, "mix_a"] + cal.loc[p, "mix_b"]
        assert row["mix_b"] == pytest.approx(cal.loc[p, "mix_b"] / total, abs=1e-12)
    # shrunk towards the segment, but P5 buys far more "b" than P0
    assert pop.set_index("partner_id").loc["P5", "mix_b"] > pop.set_index("partner_id").loc["P0", "mix_b"] + 0.2
    new = pop.set_index("partner_id").loc["NEW"]
    seg = c.partners[["mix_a", "mix_b"]].mean()
    assert new["mix_b"] == pytest.approx(seg["mix_b"] / seg.sum(), abs=1e-12)
    assert (pop[["mix_a", "mix_b"]].sum(axis=1) - 1).abs().max() < 1e-12
    # the calibration's own CSV (6 decimals) and this table are both valid populations
    assert len(rs.Population.from_csv(pop)) == 3
    # the calibrated table is a population as it is: its monthly baselines give the annual one
    assert len(rs.Population.from_csv(c.partners.drop(columns=["mix_weight"]))) == 6
    # each category's unit price (revenue per unit of its lines), which the simulation uses to
    # count a category's units, and the calibrated model runs on the calibrated population
    prices = c.model.to_dict()["economics"]["category_prices"]
    assert prices == {"a": pytest.approx(20.0, rel=1e-6), "b": pytest.approx(100.0, rel=1e-6)}
    est = c.estimates.set_index("parameter")
    assert est.loc["economics.category_prices.b", "value"] == pytest.approx(100.0, rel=1e-6)
    programme = rs.Programme.new("Units", "EUR", "2027-01-01", "year", 1,
                                 [rs.per_unit("b_units", 1, categories=["b"])], categories=["a", "b"])
    r = rs.simulate(programme, pop.assign(unit_price=40.0), c.model, scenarios=5, seed=1, progress=False)
    assert r.payout.mean() > 0
