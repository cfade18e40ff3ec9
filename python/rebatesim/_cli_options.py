"""The ``rebatesim`` command's option types and the option groups several commands share.

Every numeric, date and path option is read by one of these converters: a bad value is a
usage error (exit status 2) naming the option and what was expected, never a traceback.
The ranges are those of the Python API (rebatesim._checks; README, after the exceptions).
"""

from __future__ import annotations

import argparse
import datetime
import math
import re
from typing import Callable, List, Optional

from . import _checks
from .exceptions import RebatesimError




def whole(lo: int, hi: int, what: str = "a whole number") -> Callable[[str], int]:
    def convert(text: str) -> int:
        t = text.strip()
        shown = f"{lo:_}" if abs(lo) >= 10**6 else str(lo)
        upto = "2**64 - 1" if hi == _checks.MAX_SEED else (f"{hi:_}" if hi >= 10**6 else str(hi))
        expected = f"expected {what} from {shown} to {upto}, found {text!r}"
        if not re.fullmatch(r"[+-]?\d+(_\d+)*", t):
            raise argparse.ArgumentTypeError(expected)
        v = int(t)
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(expected)
        return v

    convert.__name__ = "whole number"
    return convert


def real(lo_open: float, hi_open: Optional[float], what: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            v = float(text.strip().replace("_", ""))
        except ValueError:
            v = float("nan")
        if not math.isfinite(v) or not v > lo_open or (hi_open is not None and not v < hi_open):
            raise argparse.ArgumentTypeError(f"expected {what}, found {text!r}")
        return v

    convert.__name__ = "number"
    return convert


def statistic(text: str) -> str:
    try:
        return _checks.statistic(text)
    except RebatesimError:
        raise argparse.ArgumentTypeError(f"expected \"mean\" or a percentile such as \"p95\", found {text!r}") from None


def date(text: str) -> str:
    t = text.strip()
    ok = re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) is not None
    if ok:
        try:
            datetime.date.fromisoformat(t)
        except ValueError:
            ok = False
    if not ok:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD such as 2027-06-30, found {text!r}")
    return t


def month_list(text: str) -> List[int]:
    parts = [x.strip() for x in text.split(",")]
    convert = whole(1, _checks.MAX_MONTH, "programme months")
    try:
        return [convert(x) for x in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected programme months as whole numbers from 1 separated by commas (e.g. 3,6,9), found {text!r}"
        ) from None


def path(text: str) -> str:
    if text.strip() == "":
        raise argparse.ArgumentTypeError("expected a path, found an empty string")
    try:
        return _checks.path("path", text)
    except RebatesimError as e:
        raise argparse.ArgumentTypeError(str(e).replace("path: ", "", 1)) from None


def workbook(text: str) -> str:
    p = path(text)
    if not p.lower().endswith((".xlsx", ".xlsm")):
        raise argparse.ArgumentTypeError(f"expected an Excel workbook name ending in .xlsx, found {text!r}")
    return p


def objective(text: str) -> str:
    names = ("net_margin", "incremental_margin", "roi", "payout_per_incremental_revenue")
    if text.strip() not in names:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(names)}, found {text!r}")
    return text.strip()


def partner(text: str) -> str:
    if text.strip() == "":
        raise argparse.ArgumentTypeError("expected a partner id, found an empty string")
    return text


def address(text: str) -> str:
    if text.strip() == "":
        raise argparse.ArgumentTypeError("expected a Dask scheduler address such as tcp://host:8786, found an empty string")
    return text.strip()


SEED = whole(0, _checks.MAX_SEED)
SCENARIOS = whole(1, _checks.MAX_SCENARIOS)
THREADS = whole(1, _checks.MAX_THREADS)


REPORT_HELP = ("write a report folder to DIR: report.html (one self-contained page), summary.json, "
               "summary.csv and the other tables, results.xlsx, every chart as SVG and PNG")


def outputs(p: argparse.ArgumentParser, json_help: str = "print the settlement as JSON on stdout",
            out_help: str = "write lines.csv, partners.csv, standings.csv and summary.json to DIR") -> None:
    """``--json`` or ``--out DIR`` (with ``--force``)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help=json_help)
    p.add_argument("--out", metavar="DIR", type=path, help=out_help)
    p.add_argument("--force", action="store_true", help="replace an existing non-empty --out DIR (atomically)")


def executor_options(p: argparse.ArgumentParser) -> None:
    """``--workers N`` or ``--dask ADDRESS`` (docs/scale-out.md)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=whole(1, 1024), default=None, metavar="N",
                   help="run on N local worker processes (results do not depend on it)")
    g.add_argument("--dask", metavar="ADDRESS", type=address, default=None,
                   help="run on the Dask scheduler at ADDRESS, e.g. tcp://host:8786 (results do not depend on it)")


def sim_options(p: argparse.ArgumentParser, default_scenarios: int = 1000) -> None:
    """``--scenarios``, ``--seed`` and ``--threads`` of a Monte Carlo run."""
    p.add_argument("--scenarios", type=SCENARIOS, default=default_scenarios,
                   help=f"number of scenarios, 1 to 10^9 (default {default_scenarios})")
    p.add_argument("--seed", type=SEED, default=0, help="random seed, 0 ≤ seed < 2^64 (default 0)")
    p.add_argument("--threads", type=THREADS, default=None, help="worker threads (default: all cores; results do not depend on it)")


def draws_folder(text: str) -> str:
    """``--parameter-draws``: ``off`` or a folder path."""
    return "off" if text.strip().lower() == "off" else path(text)


def parameter_draws_option(p: argparse.ArgumentParser) -> None:
    """``--parameter-draws``: input uncertainty (a calibrated model's parameter draws)."""
    p.add_argument("--parameter-draws", metavar="DIR|off", type=draws_folder, default=None,
                   help="run each scenario under one of these parameter draws of the model (a folder of "
                        "draw_*.toml files); default: the draws/ folder beside --model when there is one "
                        "(as `rebatesim calibrate --out` writes it); off: none")


def precision_options(p: argparse.ArgumentParser, statistic_help: str = "statistic for --tolerance") -> None:
    """``--tolerance``, ``--statistic`` and ``--max-scenarios``: run until a statistic's
    standard error is small enough (simulate, compare)."""
    p.add_argument("--tolerance", type=real(0.0, None, "a positive number"), default=None,
                   help="run until the standard error of --statistic is at most this")
    p.add_argument("--statistic", type=statistic, default=None, help=statistic_help)
    p.add_argument("--max-scenarios", type=whole(2, _checks.MAX_SCENARIOS), default=None, help="upper limit with --tolerance")
