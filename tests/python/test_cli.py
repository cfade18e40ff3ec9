"""The rebatesim command line, run as a subprocess."""

from __future__ import annotations

import decimal
import json

import pytest

import rebatesim as rs
from conftest import run_cli

D = decimal.Decimal


def test_validate_ok(files, tmp_path):
    r = run_cli(["validate", str(files["programme"])], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "OK: Distributor 2027, 5 components"


def test_validate_error(tmp_path, files):
    bad = tmp_path / "bad.toml"
    bad.write_text(files["programme"].read_text().replace("percent = 2.5", "percent = 250"))
    r = run_cli(["validate", str(bad)], tmp_path)
    assert r.returncode == 1
    assert r.stdout == ""
    assert "components[0].tiers[1].percent" in r.stderr and "bad.toml, line" in r.stderr
    r = run_cli(["validate", str(tmp_path / "missing.toml")], tmp_path)
    assert r.returncode == 1 and "missing.toml" in r.stderr


def settle_args(files):
    return ["settle", "--programme", str(files["programme"]), "--partners", str(files["partners"]),
            "--transactions", str(files["transactions"])]


def test_settle_summary(files, tmp_path):
    r = run_cli(settle_args(files), tmp_path)
    assert r.returncode == 0, r.stderr
    total = rs.settle(files["programme"], files["partners"], files["transactions"]).total
    assert "payable" in r.stdout and f"{total:,.2f}" in r.stdout
    assert "component" in r.stdout and "segment" in r.stdout


def test_settle_json(files, tmp_path):
    r = run_cli(settle_args(files) + ["--json"], tmp_path)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert sum(D(line["payable"]) for line in j["lines"]) == D(j["total"]["payable"])


def test_settle_out_and_force(files, tmp_path):
    out = tmp_path / "result"
    r = run_cli(settle_args(files) + ["--out", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["lines.parquet", "manifest.json", "partners.csv", "standings.csv",
                                                     "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partners"] == 3
    r = run_cli(settle_args(files) + ["--out", str(out)], tmp_path)
    assert r.returncode == 1 and "not empty" in r.stderr
    r = run_cli(settle_args(files) + ["--out", str(out), "--force"], tmp_path)
    assert r.returncode == 0, r.stderr


def test_settle_error_writes_nothing(files, tmp_path):
    bad = tmp_path / "tx.csv"
    bad.write_text(files["transactions"].read_text().replace("P2,2027-04-15,200,40000", "P2,2027-04-15,200,4O000"))
    out = tmp_path / "result"
    args = ["settle", "--programme", str(files["programme"]), "--partners", str(files["partners"]),
            "--transactions", str(bad), "--out", str(out)]
    r = run_cli(args, tmp_path)
    assert r.returncode == 1
    assert "tx.csv, row 6, column 'revenue'" in r.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_usage_errors(files, tmp_path):
    r = run_cli(settle_args(files) + ["--json", "--out", str(tmp_path / "x")], tmp_path)
    assert r.returncode == 2 and "cannot be used together" in r.stderr
    r = run_cli(["settle"], tmp_path)
    assert r.returncode == 2


def test_demo(tmp_path):
    r = run_cli(["demo", "--scenarios", "40", "--no-report"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "1. Forecast before the year" in r.stdout
    assert "2. Settlement after the year" in r.stdout
    assert "3. Check: the actual payout before the budget cut 18,510,258.88 EUR (payable after the cut 18,000,000.00 EUR)" in r.stdout
    assert "payable" in r.stdout and "±" in r.stdout
    out = tmp_path / "demo"
    r = run_cli(["demo", "--scenarios", "20", "--sensitivity-scenarios", "0", "--out", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["forecast"]["meta"]["scenarios"] == 20
    assert summary["settlement"]["totals"]["payable"] == "18000000.00"


def test_a_bug_is_one_line_and_exit_70_not_a_traceback(monkeypatch, capsys):
    """Whatever escapes the rebatesim errors (a bug, a Rust panic) ends in one line on stderr
    and exit status 70; REBATESIM_DEBUG=1 shows the traceback."""
    from rebatesim import cli

    def broken(args):
        raise RuntimeError("something the code did not expect")

    parser = cli.build_parser

    def patched():
        p = parser()
        for action in p._subparsers._group_actions:  # point `validate` at the broken command
            action.choices["validate"].set_defaults(func=broken)
        return p

    monkeypatch.setattr(cli, "build_parser", patched)
    monkeypatch.delenv("REBATESIM_DEBUG", raising=False)
    assert cli.main(["validate", "x.toml"]) == cli.EXIT_INTERNAL == 70
    err = capsys.readouterr().err
    assert err.startswith("rebatesim: internal error") and "RuntimeError: something" in err
    assert "Traceback" not in err and err.count("\n") == 1
    monkeypatch.setenv("REBATESIM_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["validate", "x.toml"])
