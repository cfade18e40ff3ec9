"""The Python code passes its linters: ``ruff check python tests`` and ``mypy --strict
python/rebatesim`` (both configured in pyproject.toml; the test extra installs them, with the
pandas and tqdm stubs mypy reads)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_ruff_is_clean() -> None:
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    r = _run("ruff", "check", "python", "tests")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_is_clean() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install -e '.[test]' installs it)")
    r = _run("mypy", "--strict", "python/rebatesim")
    assert r.returncode == 0, r.stdout + r.stderr
