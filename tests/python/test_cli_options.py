"""Every numeric, date and path option of every subcommand, given bad values: a usage error
(exit status 2) with one message line naming the option and what was expected, or a
rebatesim error (exit status 1) — never a traceback, never silently accepted."""

from __future__ import annotations

import pytest

from rebatesim import cli
from conftest import run_cli

HUGE = "1" + "0" * 30
NUMBERS = ["-1", HUGE, "x", "", "1.5"]  # negative, huge, not a number, empty, not whole


def bases(files):
    p, c, t = str(files["programme"]), str(files["partners"]), str(files["transactions"])
    return {
        "validate": ["validate", p],
        "settle": ["settle", "--programme", p, "--partners", c, "--transactions", t],
        "simulate": ["simulate", "--programme", p, "--partners", c],
        "compare": ["compare", "--programme", p, "--programme", p, "--partners", c],
        "forecast": ["forecast", "--programme", p, "--partners", c, "--actuals", t, "--as-of", "2027-06-30"],
        "demo": ["demo", "--no-report"],
        "backtest": ["backtest"],
    }


# (subcommand, option, bad values, what the message says is expected)
WHOLE = "expected a whole number from"
CASES = [
    *[(cmd, "--scenarios", NUMBERS + ["0"], WHOLE + " 1 to 1_000_000_000")
      for cmd in ("simulate", "compare", "forecast", "demo", "backtest")],
    *[(cmd, "--seed", ["-1", HUGE, str(2**64), "x", "", "1.5"], WHOLE + " 0 to 2**64 - 1")
      for cmd in ("simulate", "compare", "forecast", "demo", "backtest")],
    *[(cmd, "--threads", NUMBERS + ["0", "1000000"], WHOLE + " 1 to 1024")
      for cmd in ("simulate", "compare", "forecast", "demo", "backtest")],
    *[(cmd, "--tolerance", ["-1", "0", "x", "", "nan", "inf", "-inf"], "expected a positive number")
      for cmd in ("simulate", "compare")],
    *[(cmd, "--max-scenarios", NUMBERS + ["0", "1"], WHOLE + " 2 to 1_000_000_000")
      for cmd in ("simulate", "compare")],
    *[(cmd, "--statistic", ["x", "", "p0", "p100", "-1", "1.5", "p"], "expected \"mean\" or a percentile")
      for cmd in ("simulate", "compare")],
    ("forecast", "--confidence", ["-1", "0", "1", HUGE, "x", "", "1.5", "nan"], "expected a number between 0 and 1"),
    ("forecast", "--as-of", ["-1", HUGE, "x", "", "1.5", "2027-13-01", "2027-02-30", "27-1-1", "2027-06-30x"],
     "expected a date YYYY-MM-DD"),
    ("demo", "--sensitivity-scenarios", ["-1", HUGE, "x", "", "1.5"], WHOLE + " 0 to 1_000_000_000"),
    ("backtest", "--years", NUMBERS + ["0"], WHOLE + " 1 to 1_000_000"),
    ("backtest", "--month-ends", ["-1", HUGE, "x", "", "1.5", "3,,6", "0", "3;6"], "expected programme months"),
    ("backtest", "--forecaster", ["x", ""], "invalid choice"),
    *[(cmd, opt, [""], "expected a path, found an empty string")
      for cmd, opts in {
          "settle": ["--programme", "--partners", "--transactions", "--out"],
          "simulate": ["--programme", "--partners", "--model", "--out"],
          "compare": ["--programme", "--partners", "--model", "--out"],
          "forecast": ["--programme", "--partners", "--model", "--actuals", "--prior-accruals", "--out", "--excel"],
          "demo": ["--out"],
          "backtest": ["--programme", "--partners", "--model", "--out"],
      }.items() for opt in opts],
    ("forecast", "--excel", ["f.csv", "book"], "expected an Excel workbook name ending in .xlsx"),
]


def run(argv, capsys):
    try:
        status = cli.main(argv)
    except SystemExit as e:
        status = e.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("cmd,option,values,expected", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_bad_option_values_are_usage_errors(cmd, option, values, expected, files, capsys):
    base = bases(files)[cmd]
    if option == "--out" and cmd == "demo":
        base = ["demo"]
    for value in values:
        argv = base + [f"{option}={value}"]
        if option in ("--max-scenarios", "--statistic"):
            argv += ["--tolerance", "5"]
        status, out, err = run(argv, capsys)
        assert status == 2, (argv, err)
        assert out == "" and "Traceback" not in err
        messages = [line for line in err.splitlines() if "error:" in line]
        assert len(messages) == 1, err
        assert f"argument {option}" in messages[0] or option in messages[0], messages[0]
        assert expected in messages[0], messages[0]


def test_every_numeric_date_and_path_option_is_typed():
    """No option of any subcommand is read as a bare string or int/float (which would let
    '--out ""' through, or print a traceback for '--seed x')."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    untyped = []
    for name, p in sub.choices.items():
        for a in p._actions:
            if a.nargs == 0 or a.dest == "help" or a.choices is not None:
                continue  # flags; a fixed list of choices
            if a.type is None or a.type in (int, float, str):
                untyped.append(f"{name} {a.option_strings or a.dest}")
    assert untyped == []


def test_options_that_only_apply_with_tolerance(files, capsys):
    base = bases(files)["simulate"]
    for extra in (["--statistic", "p95"], ["--max-scenarios", "100"]):
        status, _, err = run(base + extra, capsys)
        assert status == 2 and f"{extra[0]} only applies with --tolerance" in err


def test_good_edge_values_parse(files):
    parser = cli.build_parser()
    a = parser.parse_args(bases(files)["simulate"] + ["--seed", str(2**64 - 1), "--scenarios", "1_000",
                                                      "--tolerance", "1e3", "--statistic", "P95"])
    assert (a.seed, a.scenarios, a.tolerance, a.statistic) == (2**64 - 1, 1000, 1000.0, "p95")
    b = parser.parse_args(["backtest", "--month-ends", "3, 6,9", "--years", "1"])
    assert b.month_ends == [3, 6, 9]
    d = parser.parse_args(["demo", "--sensitivity-scenarios", "0"])
    assert d.sensitivity_scenarios == 0


def test_an_output_that_cannot_be_written_is_a_rebatesim_error_before_computing(files, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for argv in (bases(files)["settle"] + ["--out", str(blocker / "out")],
                 bases(files)["simulate"] + ["--out", str(blocker)],
                 bases(files)["forecast"] + ["--excel", str(blocker / "f.xlsx")],
                 bases(files)["forecast"] + ["--out", str(tmp_path / "same"), "--excel", str(tmp_path / "same" / "f.xlsx")]):
        status, out, err = run(argv, capsys)
        assert status == 1, (argv, err)
        assert out == "" and err.startswith("rebatesim: error: ") and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["file"] + [p.name for p in files.values()])


@pytest.mark.parametrize("args", [
    ["simulate", "--seed", "-1"], ["simulate", "--scenarios", "100000000000000000"],
    ["backtest", "--years", "-1"], ["backtest", "--month-ends", "x"],
    ["demo", "--sensitivity-scenarios", "-1"], ["demo", "--out", ""],
])
def test_the_console_script_prints_no_traceback(args, files, tmp_path):
    if args[0] == "simulate":
        args = bases(files)["simulate"] + args[1:]
    r = run_cli(args, tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.splitlines()[-1].startswith("rebatesim")
