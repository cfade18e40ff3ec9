"""Shared fixtures: a small programme using every component kind, with its data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

# The small distributor fixture shared with the Rust tests (tests/settlement_basic.rs).
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROGRAMME = (FIXTURES / "small" / "programme.toml").read_text(encoding="utf-8")
PARTNERS = (FIXTURES / "small" / "partners.csv").read_text(encoding="utf-8")
TRANSACTIONS = (FIXTURES / "small" / "transactions.csv").read_text(encoding="utf-8")


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
