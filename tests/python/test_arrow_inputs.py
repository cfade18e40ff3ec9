"""Arrow inputs (issue 16): the same table from pandas, polars, pyarrow, Parquet, CSV and
DuckDB settles to identical lines; decimal128 exact, floats rounded by the programme's rule
(or refused under strict input); bad Arrow input refused by row and column; memory at 10⁶
lines."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

import rebatesim as rs
from conftest import PARTNERS, TRANSACTIONS

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")

D = decimal.Decimal


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_csv(StringIO(PARTNERS)), pd.read_csv(StringIO(TRANSACTIONS), parse_dates=["date"])


def _sources(files: dict, tmp_path: Path) -> dict:
    """The small fixture's transactions in every form a user may hold them."""
    _, tx = _frames()
    table = pa.Table.from_pandas(tx, preserve_index=False)
    parquet = tmp_path / "transactions.parquet"
    pq.write_table(table, parquet)
    con = duckdb.connect()
    con.execute(f"create table tx as select * from read_csv_auto('{files['transactions']}')")
    return {
        "csv": files["transactions"],
        "pandas": tx,
        "pyarrow": table,
        "pyarrow_batches": pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=7)),
        "polars": pl.from_pandas(tx),
        "parquet": parquet,
        "duckdb": con.sql("select * from tx order by rowid"),
    }


def test_every_source_settles_to_identical_lines(files, tmp_path):
    prog = rs.Programme.from_file(files["programme"])
    want = rs.settle(prog, files["partners"], files["transactions"])
    partners, _ = _frames()
    for name, source in _sources(files, tmp_path).items():
        got = rs.settle(prog, partners, source)
        pd.testing.assert_frame_equal(got.lines_exact, want.lines_exact, obj=name)
        assert got.total == want.total, name
    # partner tables too: polars and pyarrow
    for p in (pl.from_pandas(partners), pa.Table.from_pandas(partners, preserve_index=False)):
        assert rs.settle(prog, p, files["transactions"]).total == want.total


def test_duckdb_relation_with_a_date_filter_and_results_written_back(files):
    con = duckdb.connect()
    con.execute(f"create table tx as select * from read_csv_auto('{files['transactions']}')")
    prog = rs.Programme.from_file(files["programme"])
    partners, tx = _frames()
    s = rs.settle(prog, partners, con.sql("select * from tx where date <= date '2027-06-30' order by rowid"))
    want = rs.settle(prog, partners, tx[tx["date"] <= "2027-06-30"])
    assert s.total == want.total
    lines = s.lines
    con.register("lines_view", lines)
    con.execute("create table settlement_lines as select * from lines_view")
    assert con.execute("select count(*) from settlement_lines").fetchall()[0][0] == len(lines)


def _tx_table(revenue: "pa.Array") -> "pa.Table":
    n = len(revenue)
    return pa.table({
        "partner_id": ["P1"] * n,
        "date": pa.array([dt.date(2027, 1, 2)] * n, pa.date32()),
        "quantity": pa.array([1] * n, pa.int64()),
        "revenue": revenue,
    })


def _programme(rounding: str) -> rs.Programme:
    return rs.Programme.new("r", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(0, "100%")])],
                            rounding=rounding)


def test_decimal128_is_exact_and_floats_follow_the_programme_rule():
    exact = rs.load_transactions(_tx_table(pa.array([D("1000000.005"), D("0.000001")], pa.decimal128(20, 6))))
    assert len(exact) == 2
    for rounding, want in (("half_up", D("1.01")), ("half_even", D("1.00")), ("down", D("1.00")), ("up", D("1.01"))):
        prog = _programme(rounding)
        partners = pd.DataFrame({"partner_id": ["P1"]})
        # 1.005 is 1.00499999999999989… as a float: read as 1.005 (what Python prints), then rounded
        s = rs.settle(prog, partners, _tx_table(pa.array([1.005], pa.float64())))
        assert s.total == want, rounding
        # the same value as decimal128 is taken exactly: 100% of 1.005 rounds once, at the end
        s = rs.settle(prog, partners, _tx_table(pa.array([D("1.005")], pa.decimal128(10, 3))))
        assert s.lines_exact["volume_period"].iloc[0] == D("1.005")
    prog = _programme("half_up")
    with pytest.raises(rs.DataError) as e:
        rs.load_transactions(_tx_table(pa.array([19.99, 1.005], pa.float64())), prog, strict=True)
    assert (e.value.row, e.value.column) == (2, "revenue")
    assert "strict input" in str(e.value)


@pytest.mark.parametrize("column, value, found", [
    ("revenue", pa.array([1.0, None], pa.float64()), "row 2, column 'revenue': expected a number, found an empty cell"),
    ("revenue", pa.array([1.0, float("nan")], pa.float64()), "row 2, column 'revenue': expected a finite number, found NaN"),
    ("revenue", pa.array([True, False]), "column 'revenue': expected numbers (decimal, integer or float), found Boolean"),
    ("partner_id", pa.array(["P1", None]), "row 2, column 'partner_id': expected a partner id, found an empty cell"),
    ("date", pa.array([dt.datetime(2027, 1, 1)] * 2, pa.timestamp("us", tz="Europe/Berlin")),
     "column 'date': expected dates or timestamps without a timezone, found timestamps with timezone 'Europe/Berlin'"),
    ("date", pa.array(["2027-01-01", "01/02/2027"]), "row 2, column 'date': expected a date written YYYY-MM-DD, found \"01/02/2027\""),
])
def test_bad_arrow_input_is_a_located_data_error(column, value, found):
    table = _tx_table(pa.array([1.0, 2.0], pa.float64())).set_column(
        ["partner_id", "date", "quantity", "revenue"].index(column), column, value)
    with pytest.raises(rs.DataError) as e:
        rs.load_transactions(table)
    assert found in str(e.value)
    assert e.value.column == column
    with pytest.raises(rs.DataError) as e:
        rs.load_transactions(table.drop_columns(["quantity"]))
    assert e.value.column == "quantity" and "missing column" in str(e.value)


def test_pandas_frames_keep_csv_row_numbers_and_fallbacks():
    # a timezone-aware pandas column is refused (the local date is the user's choice)
    tx = pd.DataFrame({"partner_id": ["P1", "P2"], "date": pd.to_datetime(["2027-01-01", "2027-01-02"]).tz_localize("UTC"),
                       "quantity": [1, 1], "revenue": [1.0, 2.0]})
    with pytest.raises(rs.DataError, match="timezone 'UTC'"):
        rs.load_transactions(tx)
    # an object column pyarrow cannot type crosses as CSV text and is reported by row
    tx = pd.DataFrame({"partner_id": ["P1", "P2"], "date": ["2027-01-01", "2027-01-02"],
                       "quantity": [1, "x"], "revenue": [1.0, 2.0]})
    with pytest.raises(rs.DataError) as e:
        rs.load_transactions(tx)
    assert (e.value.row, e.value.column) == (2, "quantity")


def test_memory_at_a_million_lines(tmp_path):
    """10⁶ lines from a Parquet file settle in a child process whose peak RSS stays within
    a bound proportional to the input (about 0.25 KB a line here, well below it)."""
    code = textwrap.dedent(f"""
        import json, resource, numpy as np, pyarrow as pa, pyarrow.parquet as pq
        import rebatesim as rs
        n, k = 1_000_000, 20_000
        rng = np.random.default_rng(1)
        pq.write_table(pa.table({{
            "partner_id": pa.array(np.char.add("P", (rng.integers(0, k, n)).astype(str))),
            "date": pa.array(np.datetime64("2027-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")),
            "quantity": pa.array(rng.integers(1, 10, n)),
            "revenue": pa.array(np.round(rng.uniform(1, 1000, n), 2)),
        }}), {str(tmp_path / "tx.parquet")!r})
        del rng
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        prog = rs.Programme.new("m", "EUR", "2027-01-01", "quarter", 4,
                                [rs.volume("v", [(1000, "1%"), (50000, "3%")])])
        partners = pa.table({{"partner_id": [f"P{{i}}" for i in range(k)]}})
        s = rs.settle(prog, partners, {str(tmp_path / "tx.parquet")!r})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"base_kb": base, "peak_kb": peak, "total": str(s.total)}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    grown_mb = (r["peak_kb"] - r["base_kb"]) / 1024
    assert D(r["total"]) > 0
    assert grown_mb < 400, r
