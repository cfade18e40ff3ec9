"""Issue 16, the output side: a settlement's tables come out of the core as Arrow record
batches (money exact as decimal128, or float64 for analysis), the same values whichever way
they are read (pyarrow, pandas, polars, Parquet); explanations are built on demand and read
exactly as before; `settle --out` writes its files straight from the columns, atomically."""

from __future__ import annotations

import csv
import decimal
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import rebatesim as rs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "distributor"
D = decimal.Decimal


@pytest.fixture(scope="module")
def example() -> rs.Settlement:
    return rs.settle(EXAMPLE / "programme.toml", EXAMPLE / "partners.csv", EXAMPLE / "transactions.csv")


def test_arrow_lines_are_exact_decimal128(example):
    t = pa.table(example)
    dp = example._core.decimals
    assert t.schema.field("payable").type == pa.decimal128(38, dp)
    assert t.schema.field("period_start").type == pa.date32()
    assert "explanation" not in t.schema.names
    assert t.num_rows == len(example._core)
    # exact: the decimal sum of the column is the settlement's total, to the cent
    assert pc.sum(t["payable"]).as_py() == example.total
    for name, total in example.totals.items():
        assert pc.sum(t[name]).as_py() == total, name


def test_arrow_pandas_parquet_round_trip_identical(example, tmp_path):
    exact = example.lines_exact
    t = pa.table(example)
    assert t.to_pandas()["payable"].tolist() == exact["payable"].tolist()
    example.to_parquet(tmp_path / "lines.parquet")
    back = pq.read_table(tmp_path / "lines.parquet")
    assert back.equals(t)
    # pandas from the Parquet file: the same exact values, column by column
    frame = back.to_pandas()
    for col in ("partner_id", "component", "period", "tier", "calculated", "payable", "volume_to_date"):
        assert frame[col].tolist() == exact[col].tolist(), col
    # the float view is the nearest double of every exact amount
    floats = example.lines
    assert floats["payable"].tolist() == [float(v) for v in exact["payable"]]
    assert floats["payable"].dtype == "float64" and str(floats["period_start"].dtype).startswith("datetime64")


def test_polars_reads_the_settlement(example):
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(example)
    assert df.height == len(example._core)
    assert df["payable"].sum() == example.total
    assert pl.DataFrame(example.lines_arrow(exact=False))["payable"].dtype == pl.Float64


def test_partner_and_standing_tables(example):
    bp = example.by_partner(exact=True)
    assert sum(bp["payable"], D(0)) == example.total
    st = example.standings
    assert st["next_tier"].dtype == "Int64"
    assert pa.table(example._core.standings_table(True)).num_rows == len(st)


def test_explanations_on_demand_match_the_csv_and_the_statement(example):
    lines = example.lines_with_explanations(exact=True)
    rows = list(csv.DictReader(io.StringIO(example._core.lines_csv())))
    assert len(rows) == len(lines)
    # the CSV neutralises a text beginning with '-' (a negative volume): strip that back
    got = [r["explanation"][1:] if r["explanation"].startswith("'-") else r["explanation"] for r in rows]
    assert got == lines["explanation"].tolist()
    pid = lines["partner_id"].iloc[0]
    statement = example.explain(pid)
    for text in lines.loc[lines["partner_id"] == pid, "explanation"]:
        assert text in statement
    # a few lines' explanations alone are the same as with all of them
    picks = [0, len(lines) - 1, len(lines) // 2]
    assert example._core.explanations(picks) == [lines["explanation"].iloc[i] for i in picks]


def test_cli_settle_out_writes_parquet_and_csv(tmp_path):
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "rebatesim", "settle", "--programme", str(EXAMPLE / "programme.toml"),
         "--partners", str(EXAMPLE / "partners.csv"), "--transactions", str(EXAMPLE / "transactions.csv"),
         "--out", str(out), "--csv", "--explain", "INS-0001"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    assert sorted(p.name for p in out.iterdir()) == ["lines.csv", "lines.parquet", "manifest.json",
                                                     "partners.csv", "standings.csv", "summary.json"]
    t = pq.read_table(out / "lines.parquet")
    with open(out / "lines.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert t.num_rows == len(rows)
    assert [str(v) for v in t["payable"].to_pylist()] == [r["payable"] for r in rows]


def test_cli_settle_out_writes_nothing_on_error(tmp_path):
    bad = tmp_path / "tx.csv"
    bad.write_text("partner_id,date,quantity,revenue\nNOBODY,2027-01-05,1,100\n", encoding="utf-8")
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "rebatesim", "settle", "--programme", str(EXAMPLE / "programme.toml"),
         "--partners", str(EXAMPLE / "partners.csv"), "--transactions", str(bad), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert r.returncode != 0 and "invalid data" in r.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tx.csv"]


def test_parquet_to_a_missing_folder_is_an_error_and_leaves_nothing(example, tmp_path):
    with pytest.raises(rs.RebatesimError):
        example.to_parquet(tmp_path / "missing" / "lines.parquet")
    assert list(tmp_path.iterdir()) == []


def test_empty_settlement_tables(tmp_path):
    p = rs.Programme.new("Demo", "EUR", "2027-01-01", "year", 1,
                         [rs.volume("vol", [(1000, "1%")], segments=["a"])], segments=["a", "b"])
    s = rs.settle(p, pd.DataFrame({"partner_id": ["B"], "segment": ["b"]}),
                  pd.DataFrame({"partner_id": ["B"], "date": ["2027-02-01"], "quantity": [1], "revenue": [5.0]}))
    assert len(s.lines) == 0 and list(s.lines.columns)[:2] == ["partner_id", "segment"]
    assert pa.table(s).num_rows == 0
    s.to_parquet(tmp_path / "l.parquet")
    assert pq.read_table(tmp_path / "l.parquet").num_rows == 0
