"""The hand-kept stub rebatesim/_core.pyi matches the compiled module."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_stubtest():
    pytest.importorskip("mypy")
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "rebatesim._core"],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
