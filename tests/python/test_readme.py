"""The README's Python quick start and its set-up commands stay true."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_quick_start_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "no python block in README"
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "my_programme.toml").is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "lines.csv", "partners.csv", "standings.csv", "summary.json",
    ]
    assert "statement for partner INS-0001" in capsys.readouterr().out
    assert (tmp_path / "forecast.xlsx").is_file() and (tmp_path / "forecast-report" / "report.html").is_file()
    assert (tmp_path / "designs-report" / "design_comparison.png").is_file()


def test_ci_runs_command_two():
    text = README.read_text()
    commands = re.findall(r"```sh\n\s*(.*?)\n\s*```", text, re.S)
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci.strip() == commands[1].strip()
