"""The README's Python quick start and its set-up commands stay true."""

from __future__ import annotations

import re
from pathlib import Path


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
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n\s*(.*?)\n\s*```", setup, re.S)
    # the two set-up commands, then the wheel recipe
    assert len(commands) == 3 and commands[2].startswith("pip wheel"), commands
    script = (ROOT / ".ci" / "run").read_text()
    ci = script.strip().splitlines()[-1]
    assert ci.strip() == commands[1].strip()
    # ... run inside a virtual environment .ci/run creates, not the machine's Python
    assert "python3 -m venv" in script and 'source "$scratch/venv/bin/activate"' in script


def test_extras_carry_what_the_notebooks_need():
    """pandas' Styler (used in the notebooks) needs jinja2: the test extra, which executes
    them, and the notebook extra, which users install to open them, must both carry it."""
    text = (ROOT / "pyproject.toml").read_text()
    extras = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    test = extras.split("test = [", 1)[1].split("]", 1)[0]
    notebook = extras.split("notebook = [", 1)[1].split("]", 1)[0]
    for needed in ("jinja2", "nbclient", "ipykernel"):
        assert needed in test, needed
    for needed in ("jinja2", "jupyterlab", "ipykernel"):
        assert needed in notebook, needed
