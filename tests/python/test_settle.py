"""Settlement from Python: DataFrames or files, dtypes, reconciliation, explain, output."""

from __future__ import annotations

import decimal
import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs
from conftest import PARTNERS, PROGRAMME, TRANSACTIONS

D = decimal.Decimal


@pytest.fixture
def settlement(files):
    return rs.settle(files["programme"], files["partners"], files["transactions"])


def test_files_and_frames_agree(files, settlement):
    partners = pd.read_csv(StringIO(PARTNERS))
    tx = pd.read_csv(StringIO(TRANSACTIONS), parse_dates=["date"])
    s2 = rs.settle(rs.Programme.from_file(files["programme"]), partners, tx)
    pd.testing.assert_frame_equal(settlement.lines, s2.lines)
    assert settlement.total == s2.total
    # shuffled rows give the same result
    s3 = rs.settle(rs.Programme.from_toml(PROGRAMME), partners.sample(frac=1, random_state=1), tx.sample(frac=1, random_state=2))
    pd.testing.assert_frame_equal(settlement.lines, s3.lines)


def test_dtypes(settlement):
    lines = settlement.lines
    # partners × components × periods, less the growth component (trade only) for retail P1
    assert len(lines) == 3 * 5 * 4 - 4
    for col in ("period_start", "period_end", "payment_date"):
        assert pd.api.types.is_datetime64_any_dtype(lines[col])
    for col in ("calculated", "payable", "volume_period", "adj_budget_cut"):
        assert lines[col].dtype == np.float64
    assert lines["period"].dtype == np.int64 and lines["tier"].dtype == np.int64
    exact = settlement.lines_exact
    assert all(isinstance(v, D) for v in exact["payable"])
    # payment date: quarter end + 30 days
    q1 = lines[lines["period"] == 1]["payment_date"].iloc[0]
    assert q1 == pd.Timestamp("2027-04-30")


def test_totals_reconcile_exactly(settlement):
    exact = settlement.lines_exact
    totals = settlement.totals
    for key, value in totals.items():
        assert sum(exact[key], D(0)) == value, key
    # every line: calculated + adjustments = payable
    adj = ["adj_component_cap", "adj_exclusive_group", "adj_partner_cap", "adj_minimum_payout", "adj_budget_cut"]
    for row in exact.itertuples():
        assert row.calculated + sum(getattr(row, a) for a in adj) == row.payable
    bp = settlement.by_partner(exact=True)
    assert list(bp["partner_id"]) == ["P1", "P2", "P3"]
    assert sum(bp["payable"], D(0)) == settlement.total
    for pid, g in exact.groupby("partner_id"):
        assert sum(g["payable"], D(0)) == bp.set_index("partner_id").loc[pid, "payable"]
    assert float(settlement.total) == pytest.approx(settlement.lines["payable"].sum())
    assert settlement.total <= D("60000")  # the budget


def test_hand_computed_volume_line(settlement):
    lines = settlement.lines_with_explanations(exact=True)
    p1 = lines[(lines.partner_id == "P1") & (lines.component == "volume")].sort_values("period")
    # cumulative: Q1 volume 1,023,400 reaches tier 3 (1,000,000): 3.5% of all = 35,819.00
    q1 = p1.iloc[0]
    assert q1.tier == 3 and q1.volume_to_date == D("1023400")
    assert q1.calculated == D("35819.00")
    assert "35,819.00" in q1.explanation


def test_standings(settlement):
    st = settlement.standings
    assert {"partner_id", "component", "tier", "next_tier", "shortfall", "additional_payout"} <= set(st.columns)
    assert st["next_tier"].dtype == "Int64"
    top = st[(st.partner_id == "P1") & (st.component == "volume")].iloc[0]
    assert top.tier == 3 and pd.isna(top.next_tier) and np.isnan(top.shortfall)


def test_explain(settlement):
    text = settlement.explain("P1")
    assert "statement for partner P1" in text
    assert "Total payable" in text
    assert "reached tier 3" in text


def test_repr_html(settlement):
    assert repr(settlement).startswith("<Settlement of 'Distributor 2027': 3 partners, 56 lines")
    h = settlement._repr_html_()
    assert "Payable" in h and "Largest lines" in h and "<table" in h


def test_to_csv_and_json(settlement, tmp_path):
    out = tmp_path / "out"
    settlement.to_csv(out)
    assert sorted(p.name for p in out.iterdir()) == ["lines.csv", "partners.csv", "standings.csv", "summary.json"]
    lines = pd.read_csv(out / "lines.csv", dtype={"payable": str})
    assert sum(D(v) for v in lines["payable"]) == settlement.total
    summary = json.loads((out / "summary.json").read_text())
    assert D(summary["totals"]["payable"]) == settlement.total
    with pytest.raises(rs.FileError, match="not empty"):
        settlement.to_csv(out)
    (out / "stray.txt").write_text("x")
    settlement.to_csv(out, force=True)
    assert not (out / "stray.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temp left
    j = json.loads(settlement.to_json())
    assert D(j["total"]["payable"]) == settlement.total
    assert len(j["lines"]) == 56


def test_settle_accepts_dict_and_core_tables(files):
    p = rs.Programme.from_file(files["programme"])
    s = rs.settle(p.to_dict(), rs.load_partners(files["partners"]), rs.load_transactions(files["transactions"]))
    assert s.total == rs.settle(p, files["partners"], files["transactions"]).total


def test_dataframe_ids_with_missing_orders():
    # order ids read as floats (because of blanks) are written back as integers
    p = rs.Programme.new("L", "EUR", "2027-01-01", "year", 1, [rs.logistics("pallet", 10, per_order=5)])
    tx = pd.DataFrame({
        "partner_id": [1, 1, 1, 2],
        "date": pd.to_datetime(["2027-01-01", "2027-01-02", "2027-02-01", "2027-03-01"]),
        "quantity": [6, 6, 12, 3],
        "revenue": [60.0, 60.0, 120.0, 30.0],
        "order_id": [7, 7, np.nan, np.nan],
    })
    s = rs.settle(p, pd.DataFrame({"partner_id": [1, 2]}), tx)
    bp = s.by_partner(exact=True).set_index("partner_id")
    assert bp.loc["1", "payable"] == D("10.00")  # order 7 (6+6) and the 12-unit line
    assert bp.loc["2", "payable"] == D("0.00")
