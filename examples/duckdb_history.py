"""DuckDB as the history store (docs/data.md, "The warehouse pattern").

A year of the bundled distributor's transactions is loaded into a DuckDB file; the first
half-year is settled and the year forecast straight from SQL relations (their Arrow streams
cross into the core, no CSV), and the settlement lines are written back as a table.

    pip install 'rebatesim[duckdb]' && python examples/duckdb_history.py [history.duckdb]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb

import rebatesim as rs


def main(db: Path) -> None:
    con = duckdb.connect(str(db))
    con.execute(f"create or replace table transactions as select * from read_csv_auto('{rs.example_path('transactions.csv')}')")
    con.execute(f"create or replace table partners as select * from read_csv_auto('{rs.example_path('partners.csv')}')")
    prog = rs.Programme.from_file(rs.example_path("programme.toml"))

    half_year = "select partner_id, date, quantity, revenue, category, order_id from transactions where date <= date '2027-06-30'"
    s = rs.settle(prog, con.sql("select * from partners"), con.sql(half_year))
    n = con.execute("select count(*) from transactions where date <= date '2027-06-30'").fetchall()[0][0]
    print(f"settled {n:,} lines to 2027-06-30: {s.total} {prog.currency}")

    f = rs.forecast(prog, con.sql("select * from partners"), rs.example_path("model.toml"),
                    con.sql(half_year), as_of="2027-06-30", scenarios=200, progress=False)
    print(f"forecast of the year's payout: mean {f.payout.mean():,.0f}")

    lines = s.lines
    con.register("lines_view", lines)
    con.execute("create or replace table settlement_2027h1 as select * from lines_view")
    n = con.execute("select count(*) from settlement_2027h1").fetchall()[0][0]
    print(f"wrote {n:,} settlement lines to table settlement_2027h1 in {db}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "history.duckdb")
