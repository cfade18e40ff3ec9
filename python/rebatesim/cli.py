"""The ``rebatesim`` command line.

::

    rebatesim validate programme.toml
    rebatesim settle --programme programme.toml --partners partners.csv \\
        --transactions transactions.csv [--json | --out DIR [--force]]
    rebatesim simulate --programme programme.toml --partners partners.csv --model model.toml \\
        [--workers N | --dask ADDRESS] [--json | --out DIR [--force]]
    rebatesim compare --programme a.toml --programme b.toml --partners partners.csv --model model.toml \\
        [--json | --out DIR [--force]]
    rebatesim forecast --programme programme.toml --partners partners.csv --model model.toml \\
        --actuals actuals.csv --as-of 2027-06-30 [--prior-accruals prior.csv] [--json | --out DIR [--force]]
        [--gl-mapping gl.toml [--gl-layout generic|oracle_fbdi]]
    rebatesim verify DIR
    rebatesim demo [--out DIR] [--force] [--no-report]
    rebatesim backtest [--programme P --partners CSV --model M] [--years 500] [--scenarios 200]
    rebatesim calibrate --history FILE --partners CSV [--programme FILE] [--as-of DATE] --out DIR [--force]
    rebatesim search --programme TEMPLATE --space SPACE.toml --partners CSV --model M \\
        [--budget-risk 0.05] [--evaluations 200] [--workers N | --dask ADDRESS] [--json | --out DIR [--force]]

``--workers N`` (a local process pool) or ``--dask ADDRESS`` (a Dask scheduler) on
simulate, compare, forecast, backtest and search run the scenarios (years, candidates)
there instead, with the same results bit for bit (docs/scale-out.md).

``--out DIR`` on simulate, compare and demo writes a report folder (report.html,
summary.json, summary.csv, the tables as CSV, results.xlsx, every chart as SVG and
PNG) atomically: it appears complete or not at all, and an existing folder is
replaced only with ``--force``. ``rebatesim demo`` writes its report to
``./rebatesim-demo`` unless told otherwise. Progress bars go to stderr (and only on
a terminal), never to ``--json`` stdout.

Every error is printed on stderr as one message naming where the problem is
(file line and field path, or table row and column), the exit status is
non-zero, and nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Any, Callable, Optional, Sequence

from . import _cli_demo, _cli_forecast, _cli_settle, _cli_simulate
from ._cli_common import EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE
from ._cli_demo import (
    DEMO_ASSUMPTIONS,
    DEMO_CALIBRATION,
    DEMO_DETAIL,
    DEMO_OUT,
    check_components_text,
    check_text,
    demo_check,
)
from ._cli_simulate import design_labels
from ._version import __version__
from .exceptions import RebatesimError

# The commands live one group to a module: _cli_settle (validate, settle, verify),
# _cli_simulate (simulate, compare, search), _cli_forecast (forecast, backtest, calibrate) and
# _cli_demo; their option types and shared option groups in _cli_options, what they do around
# their computation (executor, declared outputs, reports, manifest) in _cli_common.
__all__ = ["main", "build_parser", "design_labels", "demo_check", "check_text", "check_components_text",
           "DEMO_OUT", "DEMO_ASSUMPTIONS", "DEMO_CALIBRATION", "DEMO_DETAIL",
           "EXIT_ERROR", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_INTERNAL"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rebatesim`` command."""
    parser = argparse.ArgumentParser(
        prog="rebatesim",
        description="Design, simulate and budget B2B volume-incentive rebate programmes.",
    )
    parser.add_argument("--version", action="version", version=f"rebatesim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # in the order `rebatesim --help` lists them
    _cli_settle.add_validate_parser(sub)
    _cli_settle.add_settle_parser(sub)
    _cli_simulate.add_simulate_parser(sub)
    _cli_simulate.add_compare_parser(sub)
    _cli_forecast.add_forecast_parser(sub)
    _cli_settle.add_verify_parser(sub)
    _cli_demo.add_demo_parser(sub)
    _cli_forecast.add_backtest_parser(sub)
    _cli_forecast.add_calibrate_parser(sub)
    _cli_simulate.add_search_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``rebatesim`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if getattr(args, "json", False) and getattr(args, "out", None):
        parser.error("--json and --out cannot be used together")
    if getattr(args, "force", False) and not getattr(args, "out", None) and args.command != "demo":
        parser.error("--force only applies with --out DIR")
    if getattr(args, "no_report", False) and (args.out or args.force):
        parser.error("--no-report cannot be used with --out or --force")
    if getattr(args, "tolerance", None) is not None and (getattr(args, "workers", None) or getattr(args, "dask", None)):
        parser.error("--tolerance runs in one process: it cannot be used with --workers or --dask")
    if getattr(args, "tolerance", None) is None:
        for option, value in (("--statistic", getattr(args, "statistic", None)),
                              ("--max-scenarios", getattr(args, "max_scenarios", None))):
            if value is not None:
                parser.error(f"{option} only applies with --tolerance")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return func(args)
    except RebatesimError as e:
        print(f"rebatesim: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("rebatesim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `rebatesim settle ... --json | head`
        return 0
    except Exception as e:  # noqa: BLE001 -- the last resort: a bug, reported as one
        return _internal_error(e)
    except BaseException as e:  # pyo3's PanicException derives from BaseException
        if type(e).__name__ != "PanicException":
            raise
        return _internal_error(e)


def _internal_error(e: BaseException) -> int:
    """An exception that is not a rebatesim error is a bug in rebatesim: one line saying so
    (the traceback with ``REBATESIM_DEBUG=1``), exit status 70, never a bare traceback."""
    if os.environ.get("REBATESIM_DEBUG"):
        raise e
    print(f"rebatesim: internal error (a bug in rebatesim {__version__}; please report it with the command "
          f"that caused it, REBATESIM_DEBUG=1 shows the traceback): {type(e).__name__}: {e}", file=sys.stderr)
    return EXIT_INTERNAL


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    """The CLI's warnings: one stderr line each, ``rebatesim: warning: ...``."""
    print(f"rebatesim: warning: {message}", file=sys.stderr)



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

