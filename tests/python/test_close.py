"""The month-end close of a forecast: reconciliation, roll-forward, journal summary, GL export,
the audit manifest and `rebatesim verify` (docs/close.md)."""

from __future__ import annotations

import decimal
import json
from pathlib import Path

import pandas as pd
import pytest

import rebatesim as rs
from conftest import run_cli

# Quarterly periods, 2% from 30,000 and 4% from 60,000 per quarter, paid 10 days after each
# quarter (the programme of tests/forecast_close.rs).
QUARTERS = """
name = "Quarters"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
payment = { when = "period", lag_days = 10 }
[[components]]
id = "vol"
kind = "volume"
method = "retroactive"
tiers = [{ from = 30000, percent = 2 }, { from = 60000, percent = 4 }]
"""

PARTNERS = pd.DataFrame({"partner_id": ["A"], "segment": ["s"], "baseline_revenue": [120_000.0]})

MAPPING = """
company_code = "1000"
liability_account = "2480"
cost_centre = "SALES"
ledger_id = "300000046975971"

[components.vol]
account = "4410"
"""


def actuals(months: int) -> pd.DataFrame:
    return pd.DataFrame({"partner_id": ["A"] * months, "date": [f"2027-{m:02d}-15" for m in range(1, months + 1)],
                         "quantity": [1] * months, "revenue": [10_000.0] * months})


@pytest.fixture
def close(tmp_path: Path) -> dict:
    (tmp_path / "programme.toml").write_text(QUARTERS, encoding="utf-8")
    PARTNERS.to_csv(tmp_path / "partners.csv", index=False)
    actuals(4).to_csv(tmp_path / "actuals.csv", index=False)
    pd.DataFrame({"partner_id": ["A"], "component": ["vol"], "amount": [550.0]}).to_csv(tmp_path / "prior.csv", index=False)
    (tmp_path / "gl.toml").write_text(MAPPING, encoding="utf-8")
    return {k: tmp_path / v for k, v in dict(programme="programme.toml", partners="partners.csv",
                                                actuals="actuals.csv", prior="prior.csv", gl="gl.toml").items()}


def april(close: dict, **kw) -> rs.Forecast:
    return rs.forecast(close["programme"], PARTNERS, None, actuals(4), as_of="2027-04-30", scenarios=3,
                       progress=False, **kw)


def test_reconciliation_and_rollforward_by_hand(close):
    # Q1 settled at 2% × 30,000 = 600, paid 10 April; 550 booked through March; April's 10,000
    # at the open rate 1,800 / 90,000: run rate 200; Q1 trued up by 50; closing 200
    f = april(close, prior_accruals=close["prior"])
    assert f.opening_date.isoformat() == "2027-03-31"
    rec = f.reconciliation()
    assert list(rec.index) == ["vol", "total"]
    assert rec.loc["vol"].to_dict() == {"settled_paid": 600.0, "settled_payable": 0.0, "closed_adjustment": 0.0,
                                        "open_expected": 1800.0,
                                        "open_constrained": 1800.0, "open_accrued": 200.0, "required": 800.0,
                                        "required_liability": 200.0, "booked_before": 550.0}
    rf = f.rollforward()
    assert rf.loc["total"].to_dict() == {"opening_liability": 550.0, "booked_before": 550.0, "run_rate": 200.0,
                                         "catch_up": 0.0, "change_in_estimate": 50.0, "movement": 250.0,
                                         "required": 800.0, "paid_in_month": 600.0, "closing_liability": 200.0}
    # from March's forecast instead: it required the settled Q1 (600), all payable
    march = rs.forecast(close["programme"], PARTNERS, None, actuals(3), as_of="2027-03-31", scenarios=3,
                        progress=False)
    rf = april(close).rollforward(prior=march)
    assert (rf.loc["vol", "opening_liability"], rf.loc["vol", "movement"], rf.loc["vol", "paid_in_month"],
            rf.loc["vol", "closing_liability"]) == (600.0, 200.0, 600.0, 200.0)
    assert march.rollforward().loc["vol", "closing_liability"] == 600.0
    # the journal books the same movement, one summary entry
    j = f.journal_summary()
    assert j[["component", "amount", "movement", "change_in_estimate", "lines"]].to_dict("records") == [
        {"component": "vol", "amount": 250.0, "movement": 250.0, "change_in_estimate": 50.0, "lines": 1}]
    assert f.journal()["movement"].tolist() == [250.0]


def test_zero_lines_are_dropped_unless_asked(close):
    # with 800 booked already, nothing is left to book
    prior = pd.DataFrame({"partner_id": ["A"], "component": ["vol"], "amount": [800.0]})
    f = april(close, prior_accruals=prior)
    assert len(f.journal()) == 0 and len(f.journal(include_zero=True)) == 1
    assert len(f.journal_summary()) == 0 and len(f.journal_summary(include_zero=True)) == 1
    assert len(f.gl_journal(close["gl"])) == 0


def test_prior_accruals_for_an_unknown_component_name_the_row(close):
    f = april(close)
    bad = pd.DataFrame({"partner_id": ["A", "A"], "component": ["vol", "bonus"], "amount": [1.0, 2.0]})
    with pytest.raises(rs.DataError, match=r"row 2.*bonus|bonus.*row 2"):
        f.rollforward(prior=bad)


def test_gl_journal_balances_in_both_layouts(close):
    f = april(close, prior_accruals=close["prior"])
    gl = f.gl_journal(close["gl"], run_id="RUN-1")
    assert list(gl.columns) == rs.gl.GENERIC_COLUMNS
    assert gl[["account", "debit", "credit", "reference", "company_code", "currency"]].astype(str).values.tolist() == [
        ["4410", "250.00", "0.00", "RUN-1", "1000", "EUR"], ["2480", "0.00", "250.00", "RUN-1", "1000", "EUR"]]
    for _, g in gl.groupby(["company_code", "currency"]):
        assert sum(g["debit"]) == sum(g["credit"]) and isinstance(g["debit"].iloc[0], decimal.Decimal)
    # a negative movement reverses the sides
    over = april(close, prior_accruals=pd.DataFrame({"partner_id": ["A"], "component": ["vol"], "amount": [900.0]}))
    rev = over.gl_journal(close["gl"])
    assert rev[["account", "debit", "credit"]].astype(str).values.tolist() == [["4410", "0.00", "100.00"],
                                                                               ["2480", "100.00", "0.00"]]
    fbdi = f.gl_journal(close["gl"], layout="oracle_fbdi", run_id="RUN-1")
    assert list(fbdi.columns) == rs.gl.FBDI_COLUMNS and len(fbdi.columns) == 52
    row = fbdi.iloc[0]
    assert (row["Status Code"], row["Ledger ID"], row["Effective Date of Transaction"], row["Segment2"],
            str(row["Entered Debit Amount"])) == ("NEW", "300000046975971", "2027/04/30", "4410", "250.00")
    text = rs.gl.gl_csv(fbdi, "oracle_fbdi")
    assert text.startswith("NEW,300000046975971,2027/04/30,Rebatesim,Accrual,EUR,")
    # the run id defaults to a digest of the forecast: the same run, the same reference
    assert f.gl_journal(close["gl"])["reference"].iloc[0] == april(close, prior_accruals=close["prior"]).gl_journal(
        close["gl"])["reference"].iloc[0]


def test_gl_mapping_errors_name_what_is_missing(close, tmp_path):
    f = april(close)
    with pytest.raises(rs.DataError, match="no account for component 'vol'"):
        f.gl_journal({"company_code": "1", "liability_account": "2", "components": {"vol": {"cost_centre": "X"}}})
    with pytest.raises(rs.DataError, match="unknown component 'other'"):
        f.gl_journal({"company_code": "1", "liability_account": "2",
                      "components": {"vol": {"account": "3"}, "other": {"account": "3"}}})
    csv = tmp_path / "gl.csv"
    csv.write_text("component,account,liability_account,company_code\nvol,4410,,1000\n", encoding="utf-8")
    with pytest.raises(rs.DataError, match=r"gl.csv: row 1, column liability_account"):
        f.gl_journal(csv)
    seg = {"company_code": "1", "liability_account": "2",
           "components": {"vol": {"segments": {"s": {"account": "3"}, "t": {"account": "4"}}}}}
    with pytest.raises(rs.DataError, match="unknown segment 't'"):
        f.gl_journal(seg)
    with pytest.raises(rs.DataError, match="ledger_id"):
        f.gl_journal({"company_code": "1", "liability_account": "2", "components": {"vol": {"account": "3"}}},
                     layout="oracle_fbdi")


def test_cli_gl_mapping_without_an_account_writes_nothing(close, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('company_code = "1"\nliability_account = "2"\n[components.other]\naccount = "3"\n', encoding="utf-8")
    out = tmp_path / "out"
    args = ["forecast", "--programme", str(close["programme"]), "--partners", str(close["partners"]),
            "--actuals", str(close["actuals"]), "--as-of", "2027-04-30", "--scenarios", "3"]
    r = run_cli(args + ["--gl-mapping", str(bad), "--out", str(out)], tmp_path)
    assert r.returncode == 1 and "unknown component 'other'" in r.stderr, r.stderr
    assert not out.exists()
    r = run_cli(args + ["--gl-mapping", str(close["gl"]), "--out", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    gl = pd.read_csv(out / "gl_journal.csv", dtype=str)
    assert gl["debit"].tolist() == ["800.00", "0.00"] and gl["credit"].tolist() == ["0.00", "800.00"]
    assert {"reconciliation.csv", "rollforward.csv", "journal_summary.csv", "manifest.json"} <= {
        p.name for p in out.iterdir()}
    assert "closing liability" in r.stdout


def test_manifest_and_verify(close, tmp_path):
    out = tmp_path / "out"
    args = ["forecast", "--programme", str(close["programme"]), "--partners", str(close["partners"]),
            "--actuals", str(close["actuals"]), "--prior-accruals", str(close["prior"]), "--as-of", "2027-04-30",
            "--scenarios", "3", "--seed", "7", "--out", str(out)]
    assert run_cli(args, tmp_path).returncode == 0
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["rebatesim_version"] == rs.__version__ and m["command"] == "forecast"
    assert m["options"] == {"as_of": "2027-04-30", "scenarios": 3, "seed": 7, "confidence": 0.9}
    a = m["inputs"]["actuals"]
    assert (a["rows"], a["sum_revenue"], a["sum_quantity"]) == (4, "40000.0", "4")
    assert m["inputs"]["prior_accruals"]["sum_amount"] == "550.0"
    assert len(m["inputs"]["programme"]["sha256"]) == 64
    assert "journal.csv" in m["outputs"] and "manifest.json" not in m["outputs"]
    r = run_cli(["verify", str(out)], tmp_path)
    assert r.returncode == 0 and "OK" in r.stdout, r.stdout + r.stderr
    # an output that differs is listed with its row and column
    js = out / "journal_summary.csv"
    changed = js.read_text(encoding="utf-8").replace("250.00", "250.07")
    js.write_text(changed, encoding="utf-8")
    m["outputs"]["journal_summary.csv"] = rs.manifest.sha256(changed.encode())
    (out / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    v = rs.manifest.verify(out)
    assert not v.ok and any(f == "journal_summary.csv" and "amount" in where and old == "250.07"
                            for f, where, old, _ in v.differences), v.text()
    # one changed byte in an input: refused before anything runs
    data = close["actuals"].read_bytes()
    close["actuals"].write_bytes(data[:-2] + bytes([data[-2] ^ 1]) + data[-1:])
    r = run_cli(["verify", str(out)], tmp_path)
    assert r.returncode == 1 and "changed since the run" in r.stderr and "actuals.csv" in r.stderr, r.stderr


def test_settle_out_is_verified_and_python_manifest(close, tmp_path):
    out = tmp_path / "settled"
    r = run_cli(["settle", "--programme", str(close["programme"]), "--partners", str(close["partners"]),
                 "--transactions", str(close["actuals"]), "--out", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert run_cli(["verify", str(out)], tmp_path).returncode == 0
    m = april(close, prior_accruals=close["prior"]).manifest()
    assert m["inputs"]["actuals"]["source"] == "DataFrame" and m["inputs"]["actuals"]["rows"] == 4
    assert m["inputs"]["model"] == {"kind": "model", "given": None}
    assert m["inputs"]["prior_accruals"]["path"].endswith("prior.csv")


def test_budget_binding_is_the_one_name(close):
    f = april(close)
    assert f.budget_binding is None
    with pytest.warns(DeprecationWarning, match="budget_binding"):
        assert f.budget_exceedance is None


def test_settlement_and_simulation_manifests_in_python(tmp_path):
    """Settlement.manifest() and SimulationResult.manifest() give the record `--out` writes:
    a path input by the SHA-256 of its bytes with its row count and control totals, a
    DataFrame by its CSV text, the options that decide the result."""
    import hashlib

    tx_path = tmp_path / "tx.csv"
    tx_path.write_text("partner_id,date,quantity,revenue\nA,2027-02-10,3,40000\nA,2027-05-10,1,25000.50\n",
                       encoding="utf-8")
    prog = rs.Programme.from_toml(QUARTERS)
    s = rs.settle(prog, PARTNERS, tx_path)
    m = s.manifest()
    assert m["rebatesim_version"] == rs.__version__ and m["command"] == "settle" and m["options"] == {}
    t = m["inputs"]["transactions"]
    assert t["sha256"] == hashlib.sha256(tx_path.read_bytes()).hexdigest()
    assert (t["rows"], t["sum_revenue"], t["sum_quantity"]) == (2, "65000.50", "4")
    assert m["inputs"]["partners"]["source"] == "DataFrame" and m["inputs"]["partners"]["rows"] == 1
    assert m["inputs"]["programme"]["sha256"] == hashlib.sha256(prog.to_toml().encode()).hexdigest()
    with pytest.warns(UserWarning, match="no demand model given"):
        r = rs.simulate(prog, PARTNERS, None, scenarios=3, seed=11, progress=False)
    m = r.manifest()
    assert m["command"] == "simulate" and m["options"] == {"scenarios": 3, "seed": 11}
    assert m["inputs"]["model"]["given"] is None and m["inputs"]["partners"]["rows"] == 1


def test_control_totals_in_the_core_equal_pythons_decimals():
    """The manifest's control totals are summed by the core (fast at 10⁶ lines); they equal
    Python's exact decimals, and a sum beyond the core's range falls back to Python's."""
    from rebatesim import manifest

    text = "\ufeffpartner_id, Revenue ,quantity\nA,0.10,3\n\n , ,\nB,1_000.705,x\nC,2.5E+3,-2\nD,,1\n"
    assert manifest._table_totals(text.encode(), ["revenue", "quantity"]) == \
        manifest._table_totals_python(text, ["revenue", "quantity"]) == \
        {"rows": 4, "sum_revenue": "3500.805", "sum_quantity": "2"}
    huge = "revenue\n79228162514264337593543950335\n1\n"
    assert manifest._table_totals(huge.encode(), ["revenue"])["sum_revenue"] == "79228162514264337593543950336"
