"""Shared fixtures: a small programme using every component kind, with its data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

PROGRAMME = """\
name = "Distributor 2027"
currency = "EUR"
start = 2027-01-01
period = "quarter"
periods = 4
segments = ["retail", "trade"]
categories = ["cable", "tools"]
budget = 60000
partner_cap = 40000
payment = { when = "period", lag_days = 30 }

[[components]]
id = "volume"
kind = "volume"
measure = "cumulative"
tiers = [{ from = 100000, percent = 1 }, { from = 500000, percent = 2.5 }, { from = 1000000, percent = 3.5 }]

[[components]]
id = "growth"
kind = "growth"
segments = ["trade"]
tiers = [{ from = 5, percent = 1 }, { from = 10, percent = 2 }]
exclusive_group = "extra"

[[components]]
id = "tools"
kind = "per_unit"
categories = ["tools"]
amount = 0.5
exclusive_group = "extra"

[[components]]
id = "pallet"
kind = "logistics"
min_quantity = 100
per_order = 25

[[components]]
id = "bundle"
kind = "bundle"
minimums = { cable = 10000, tools = 10000 }
fixed = 150
"""

PARTNERS = """\
partner_id,segment,baseline_revenue,baseline_units
P1,retail,3000000,
P2,trade,400000,2000
P3,trade,,
"""

TRANSACTIONS = """\
partner_id,date,quantity,revenue,category,order_id
P1,2027-01-10,1000,600000,cable,A1
P1,2027-02-10,500,400000,cable,A2
P1,2027-03-10,40,23400,tools,A3
P2,2027-01-15,120,60000,cable,B1
P2,2027-01-16,30,50000,tools,B2
P2,2027-04-15,200,40000,tools,B3
P2,2027-05-15,-20,-4000,tools,
P3,2027-07-01,10,1000,cable,
"""


@pytest.fixture
def files(tmp_path: Path) -> dict:
    """The small programme and its tables written as files."""
    paths = {
        "programme": tmp_path / "programme.toml",
        "partners": tmp_path / "partners.csv",
        "transactions": tmp_path / "transactions.csv",
    }
    paths["programme"].write_text(PROGRAMME)
    paths["partners"].write_text(PARTNERS)
    paths["transactions"].write_text(TRANSACTIONS)
    return paths


def run_cli(args: List[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the installed console script (through the interpreter running the tests)."""
    return subprocess.run(
        [sys.executable, "-m", "rebatesim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
