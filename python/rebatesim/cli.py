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
import contextlib
import datetime
import json
import math
import os
import re
import sys
import warnings
from decimal import Decimal
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from . import _checks
from ._version import __version__
from ._display import forecast_text, roi_note, settlement_text, simulation_text
from ._format import percent_text, plain_estimate, text_table
from .exceptions import RebatesimError, RequestError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in rebatesim, never the input's fault


# ------------------------------------------------------------ option types
# Every numeric, date and path option is read by one of these converters: a bad value is a
# usage error (exit status 2) naming the option and what was expected, never a traceback.
# The ranges are those of the Python API (rebatesim._checks; README, after the exceptions).


def _whole(lo: int, hi: int, what: str = "a whole number") -> Callable[[str], int]:
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


def _real(lo_open: float, hi_open: Optional[float], what: str) -> Callable[[str], float]:
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


def _statistic(text: str) -> str:
    try:
        return _checks.statistic(text)
    except RebatesimError:
        raise argparse.ArgumentTypeError(f"expected \"mean\" or a percentile such as \"p95\", found {text!r}") from None


def _date(text: str) -> str:
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


def _month_list(text: str) -> List[int]:
    parts = [x.strip() for x in text.split(",")]
    convert = _whole(1, _checks.MAX_MONTH, "programme months")
    try:
        return [convert(x) for x in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected programme months as whole numbers from 1 separated by commas (e.g. 3,6,9), found {text!r}"
        ) from None


def _path(text: str) -> str:
    if text.strip() == "":
        raise argparse.ArgumentTypeError("expected a path, found an empty string")
    try:
        return _checks.path("path", text)
    except RebatesimError as e:
        raise argparse.ArgumentTypeError(str(e).replace("path: ", "", 1)) from None


def _workbook(text: str) -> str:
    p = _path(text)
    if not p.lower().endswith((".xlsx", ".xlsm")):
        raise argparse.ArgumentTypeError(f"expected an Excel workbook name ending in .xlsx, found {text!r}")
    return p


def _objective(text: str) -> str:
    names = ("net_margin", "incremental_margin", "roi", "payout_per_incremental_revenue")
    if text.strip() not in names:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(names)}, found {text!r}")
    return text.strip()


def _partner(text: str) -> str:
    if text.strip() == "":
        raise argparse.ArgumentTypeError("expected a partner id, found an empty string")
    return text


def _address(text: str) -> str:
    if text.strip() == "":
        raise argparse.ArgumentTypeError("expected a Dask scheduler address such as tcp://host:8786, found an empty string")
    return text.strip()


_SEED = _whole(0, _checks.MAX_SEED)
_SCENARIOS = _whole(1, _checks.MAX_SCENARIOS)
_THREADS = _whole(1, _checks.MAX_THREADS)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .programme import Programme

    p = Programme.from_file(args.file)
    n = len(p.component_ids)
    print(f"OK: {p.name}, {n} component{'s' if n != 1 else ''}")
    return 0


def _settle(args: argparse.Namespace) -> Any:
    from .settlement import settle

    return settle(args.programme, args.partners, args.transactions)


def _emit_settlement(s: Any, args: argparse.Namespace) -> int:
    if args.out:
        # the lines straight from the core's columns into the folder being built (renamed
        # into place only once every file is complete)
        with args.outputs:
            s._write(args.out_target.path, csv=args.csv, parquet=True)
            _manifest(args, args.out_target.path)
    if args.json:
        sys.stdout.write(s.to_json().rstrip("\n") + "\n")
    else:
        print(settlement_text(s))
        for partner in args.explain or []:
            print("\n" + s.explain(partner).rstrip("\n"))
        if args.out:
            lines = "lines.parquet, lines.csv" if args.csv else "lines.parquet"
            print(f"\nwrote {lines}, partners.csv, standings.csv, summary.json to {args.out}")
    return 0


def _cmd_settle(args: argparse.Namespace) -> int:
    _declare_outputs(args)
    return _emit_settlement(_settle(args), args)


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Any]:
    """The executor ``--workers N`` (a local process pool) or ``--dask ADDRESS`` (the Dask
    scheduler there) ask for, shut down when the command is done; None (a local run) without
    them. The results do not depend on it (docs/scale-out.md)."""
    if getattr(args, "dask", None):
        try:
            from distributed import Client
        except ImportError:
            raise RequestError("--dask needs the dask extra: pip install 'rebatesim[dask]'") from None
        try:
            client = Client(args.dask, timeout="30s")  # type: ignore[no-untyped-call]
        except OSError as e:
            raise RequestError(f"--dask: cannot reach the Dask scheduler at {args.dask}: {e}") from None
        try:
            yield client.get_executor()  # type: ignore[no-untyped-call]
        finally:
            client.close()  # type: ignore[no-untyped-call]
    elif getattr(args, "workers", None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawned, not forked: a fork of a process whose engine threads have run can hang
        with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
    else:
        yield None


def _sim_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    precision = None
    if args.tolerance is not None:
        precision = (args.statistic or "mean", args.tolerance)
    return dict(
        scenarios=args.scenarios, seed=args.seed, threads=args.threads, precision=precision,
        max_scenarios=args.max_scenarios, progress=not args.json and sys.stderr.isatty(),
    )


def _inputs(args: argparse.Namespace, **files: Any) -> Dict[str, str]:
    """The inputs of a run, for the report's Inputs section."""
    out: Dict[str, str] = {}
    for label, value in files.items():
        if value:
            out[label.replace("_", " ").capitalize()] = ", ".join(map(str, value)) if isinstance(value, list) else os.path.abspath(str(value))
    out["Scenarios"] = f"{args.scenarios:,}" + (f" (until the standard error of {args.statistic or 'mean'} ≤ {args.tolerance:,})"
                                                if getattr(args, "tolerance", None) is not None else "")
    out["Seed"] = str(args.seed)
    out["Command"] = "rebatesim " + " ".join(getattr(args, "argv", []))
    return out


def _declare_outputs(args: argparse.Namespace, out: Optional[str] = None) -> None:
    """Check every output of the command (--out DIR, forecast's --excel FILE) before any
    long computation: ``args.outputs`` is their :class:`~rebatesim.outputs.Outputs`
    transaction (written together at the end, or not at all), ``args.out_target`` and
    ``args.excel_target`` the outputs (None when not asked for)."""
    from .outputs import Outputs

    outs = Outputs()
    out = out or getattr(args, "out", None)
    args.out_target = outs.folder(out, force=args.force) if out else None
    excel = getattr(args, "excel", None)
    args.excel_target = outs.file(excel, suffixes=(".xlsx", ".xlsm")) if excel else None
    args.outputs = outs


def _write_report(args: argparse.Namespace, rep: Any) -> str:
    """Write a report folder as the command's ``--out`` (declared by :func:`_declare_outputs`);
    returns the line that says where, printed after the summary."""
    with args.outputs:
        rep.write(args.out_target.path)
        _manifest(args, args.out_target.path)
    return f"\nwrote the report to {args.out_target.target}{os.sep}report.html (charts, CSV, Excel alongside)"


def _emit_simulation(r: Any, args: argparse.Namespace, model: Any = None) -> int:
    if args.out:
        from .report import simulation_report

        written = _write_report(args, simulation_report(
            r, inputs=_inputs(args, programme=args.programme, partners=args.partners, model=args.model), model=model))
    if args.json:
        sys.stdout.write(r.to_json() + "\n")
    else:
        print(simulation_text(r))
        if args.out:
            print(written)
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from ._inputs import as_model
    from .simulation import simulate

    _declare_outputs(args)
    model = as_model(args.model)
    with _executor(args) as executor:
        r = simulate(args.programme, args.partners, model, executor=executor, **_sim_kwargs(args))
    return _emit_simulation(r, args, model)


def design_labels(names: Sequence[str], paths: Sequence[str]) -> List[str]:
    """Short, distinct labels for the designs of ``rebatesim compare``: the programme names
    without the words every name starts or ends with ("Incremental" and "Reference" for
    "Incremental Stonebridge Trade Rewards 2028" and "Stonebridge Trade Rewards 2028
    Reference"); the file names when the programme names are not distinct; the paths when
    those are not either.

    >>> design_labels(["Stonebridge Rewards 2028", "Stonebridge Rewards 2028 (incremental)"], ["a.toml", "b.toml"])
    ['Stonebridge Rewards 2028', '(incremental)']
    >>> design_labels(["Trade 2028 flat", "Trade 2028 steep"], ["a.toml", "b.toml"])
    ['flat', 'steep']
    >>> design_labels(["Same", "Same"], ["x/programme.toml", "x/programme.yaml"])
    ['programme.toml', 'programme.yaml']
    """
    def distinct(labels: Sequence[str]) -> bool:
        return all(labels) and len(set(labels)) == len(labels)

    if not distinct(names):
        files = [os.path.basename(p) for p in paths]
        return files if distinct(files) else list(paths)
    words = [n.split() for n in names]
    head = 0
    while all(len(w) > head and w[head] == words[0][head] for w in words):
        head += 1
    tail = 0
    while all(len(w) > head + tail and w[-1 - tail] == words[0][-1 - tail] for w in words):
        tail += 1
    short = [" ".join(w[head:len(w) - tail]) for w in words]
    # a name that is all common words (the reference, usually) keeps its full name
    short = [s or n for s, n in zip(short, names)]
    return short if distinct(short) else list(names)


def _cmd_compare(args: argparse.Namespace) -> int:
    from ._inputs import as_model
    from .comparison import compare
    from .programme import Programme

    progs = [Programme.from_file(path) for path in args.programmes]
    labels = design_labels([p.name for p in progs], [str(path) for path in args.programmes])
    designs: List[Tuple[str, Any]] = list(zip(labels, progs))
    _declare_outputs(args)
    model = as_model(args.model)
    with _executor(args) as executor:
        c = compare(designs, args.partners, model, executor=executor, **_sim_kwargs(args))
    if args.out:
        from .report import comparison_report

        written = _write_report(args, comparison_report(
            c, inputs=_inputs(args, programmes=args.programmes, partners=args.partners, model=args.model), model=model))
    if args.json:
        sys.stdout.write(c.to_json() + "\n")
        return 0
    rows = []
    dp = c._decimals
    for name, p, path in zip(c.names, progs, args.programmes):
        if name != p.name:
            print(f"{name}: {p.name} ({path})")
    print()
    for dname, row in c.summary.iterrows():
        rows.append([str(dname), plain_estimate(row.payout_mean, row.payout_mean_se, decimals=dp), f"{row.payout_p95:,.{dp}f}",
                     f"{row.payout_before_budget_p95:,.{dp}f}", f"{row.budget_cut_mean:,.{dp}f}",
                     f"{row.incremental_margin_mean:,.{dp}f}", percent_text(row.roi_mean)])
    print(text_table(["design", "mean payout", "P95 payout", "P95 before budget", "expected cut", "incr. margin", "ROI"],
                     rows, [False, True, True, True, True, True, True]))
    notes = {roi_note(c[name]) for name in c.names} - {""}
    for note in sorted(notes):
        print(f"ROI n/a: {note}")
    print("\nPaired differences against the first design (common random numbers):")
    drows = []
    for dname, row in c.differences.iterrows():
        drows.append([f"{dname} − {row.reference}", plain_estimate(row.payout_mean, row.payout_se, decimals=dp),
                      plain_estimate(row.revenue_mean, row.revenue_se, decimals=dp),
                      plain_estimate(row.incremental_margin_mean, row.incremental_margin_se, decimals=dp),
                      plain_estimate(row.roi_mean, row.roi_se, percent=True),
                      plain_estimate(row.deadweight_share_mean, row.deadweight_share_se, percent=True)])
    print(text_table(["difference", "payout", "revenue", "incremental margin", "ROI", "deadweight share"], drows,
                 [False, True, True, True, True, True]))
    if args.out:
        print(written)
    return 0


DEMO_OUT = "rebatesim-demo"

# The demo's small tornado: the assumptions a finance reader asks about first (see
# rebatesim.sensitivities for the full default set).
DEMO_ASSUMPTIONS = [
    ("Trend", "growth.rate", "-5pp", "+5pp"),
    ("Market volatility", "market.sigma", "-50%", "+50%"),
    ("Partner noise", "noise.sigma", "-25%", "+25%"),
    {"name": "Stretch probability", "parameter": "behaviour.stretch.max_probability", "low": "off", "high": "x1.5",
     "low_label": "off", "high_label": "×1.5"},
    {"name": "Uplift elasticity", "parameter": "behaviour.uplift.elasticity", "low": "off", "high": "x1.5",
     "low_label": "off", "high_label": "×1.5"},
]


def _demo_out(args: argparse.Namespace) -> Optional[str]:
    """Where the demo writes its report: --out, else ./rebatesim-demo (not with --json
    or --no-report)."""
    if args.out:
        return str(args.out)
    if args.json or args.no_report:
        return None
    return DEMO_OUT


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._examples import example_path
    from .exceptions import FileError
    from .programme import Programme
    from .settlement import settle
    from .simulation import simulate

    out = _demo_out(args)
    if out is not None:
        try:
            _declare_outputs(args, out)
        except FileError as e:
            if args.out or not os.path.lexists(out):
                raise
            raise FileError(
                f"the demo writes its report to ./{DEMO_OUT}, which already exists: add --force to replace it, "
                "--out DIR to write elsewhere, or --no-report",
                path=e.path,
            ) from None
    progress = not args.json and sys.stderr.isatty()
    programme = Programme.from_file(example_path("programme.toml"))
    # 0. calibrate the demand model on the three years of history before the programme
    cal, model = _demo_calibration(programme)
    # 1. before the year: forecast from the partners' prior-year baselines and the demand model
    # each partner's calibrated category mix (the segment's for a partner new since the history)
    partners = cal.population(example_path("partners.csv"))
    r = simulate(programme, partners, model, scenarios=args.scenarios,
                 seed=args.seed, threads=args.threads, progress=progress)
    # 2. after the year: settle the actual transactions exactly
    s = settle(programme, example_path("partners.csv"), example_path("transactions.csv"))
    check = demo_check(r, s)
    if out is not None:
        _demo_report(args, out, programme, model, r, s, check, progress, cal)
    if args.json:
        sys.stdout.write(_demo_json(r, s, check) + "\n")
        return 0
    print(f"The bundled example: {programme!r}\n  {example_path('programme.toml')}\n")
    print("0. Calibration: the demand model estimated from the partners' history 2024-2026\n"
          "   (history.csv.gz; the programme's thresholds give stretch and pull-forward; the margin rate and "
          "the uplift\n   elasticity, which a history cannot give, are taken from model.toml)\n")
    print(_demo_calibration_text(cal))
    print("\n1. Forecast before the year: Monte Carlo simulation of the partners' purchasing from their "
          "prior-year baselines\n   (the calibrated demand model and each partner's calibrated category mix; every "
          "scenario also run without the programme)\n")
    print(simulation_text(r))
    print("\n2. Settlement after the year: the actual transactions, exactly, to the cent\n")
    print(settlement_text(s))
    print("\n3. Check: " + check_text(check, s.currency, r._decimals))
    print("\n" + check_components_text(check, r._decimals))
    if out is not None:
        print(f"\nwrote the report to {os.path.abspath(out)}{os.sep}report.html (charts, CSV, Excel alongside)")
    return 0


DEMO_CALIBRATION = dict(draws=20, bootstrap=100, seed=1)


def _demo_calibration(programme: Any) -> Tuple[Any, Any]:
    """The demo's calibration on the bundled history and the model it simulates with: the
    calibrated one, with the margin rate and uplift elasticity of model.toml (assumptions a
    history cannot give)."""
    from ._examples import example_path
    from .calibration import calibrate
    from .demand import Model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo prints its warnings' count, not each
        cal = calibrate(example_path("history.csv.gz"), example_path("history_partners.csv"), programme=programme,
                        **DEMO_CALIBRATION)
    hand = Model.from_file(example_path("model.toml")).to_dict()
    d = cal.model.to_dict()
    d.setdefault("economics", {})["margin_rate"] = hand["economics"]["margin_rate"]
    d.setdefault("behaviour", {}).setdefault("uplift", {})["elasticity"] = hand["behaviour"]["uplift"]["elasticity"]
    return cal, Model.from_dict(d)


def _demo_calibration_text(cal: Any) -> str:
    from ._calibration_report import summary_text

    return summary_text(cal).replace(" (on stderr and in warnings.txt)", " (see the report's calibration page)")


def _demo_report(args: argparse.Namespace, out: str, programme: Any, model: Any, r: Any, s: Any,
                 check: Dict[str, Any], progress: bool, cal: Any = None) -> None:
    """The demo's report folder: the forecast report, a small sensitivity tornado, the
    exact settlement of the actual year and the check of one against the other."""
    from ._examples import example_path
    from .report import settlement_section, simulation_report
    from .sensitivities import sensitivity

    sens = None
    if args.sensitivity_scenarios > 0:
        partners = example_path("partners.csv") if cal is None else cal.population(example_path("partners.csv"))
        sens = sensitivity(programme, partners, model, scenarios=args.sensitivity_scenarios,
                           seed=args.seed, threads=args.threads, progress=progress, assumptions=DEMO_ASSUMPTIONS)
    inputs = {
        "Programme": example_path("programme.toml"),
        "Partners": example_path("partners.csv") + ("" if cal is None else
                                                     " (each partner's category mix from the calibration)"),
        "Model": "calibrated on " + example_path("history.csv.gz") + " (calibration.html, model_calibrated.toml; "
                 "margin rate and uplift from " + example_path("model.toml") + ")",
        "Transactions (actual year)": example_path("transactions.csv"),
        "Scenarios": f"{args.scenarios:,}", "Seed": str(args.seed),
    }
    rep = simulation_report(r, title=f"Rebate forecast and actuals: {programme.name}", inputs=inputs, model=model,
                            sensitivity=sens)
    # the settlement and the check go before the inputs
    tail_at = next(i for i, part in enumerate(rep.parts) if part == "<h2>Inputs</h2>")
    head, tail = rep.parts[:tail_at], rep.parts[tail_at:]
    rep.parts = head
    settlement_section(rep, s)
    rep.add_heading("Forecast against the actual year")
    rep.add_text(check_text(check, s.currency, r._decimals))
    rows = [[cid, f"{c['actual_before_budget']:,.{r._decimals}f}", f"{c['forecast_mean']:,.{r._decimals}f}",
             f"{c['share_of_scenarios_at_or_below_actual']:.0%}"] for cid, c in check["components"].items()]
    rep.add_table(["Component", "Actual before the budget cut", "Forecast mean", "Scenarios at or below the actual"],
                  rows, align=["l", "r", "r", "r"])
    rep.add_text("Detail files (settlement lines and partners, every scenario, every partner) are in the data/ "
                 "folder next to this page; the page itself needs no other file.")
    rep.parts += tail
    # the detail out of the report's own files (which stay small enough to send): data/
    files = s._csv_files()
    rep.add_file("data/settlement_lines.csv", files["lines.csv"])
    rep.add_file("data/settlement_partners.csv", files["partners.csv"])
    for name in DEMO_DETAIL:
        if name in rep.files:
            rep.files[f"data/{name}"] = rep.files.pop(name)
    rep.add_file("summary.json", _demo_json(r, s, check) + "\n")
    if cal is not None:
        rep.add_file("calibration.html", cal.report_html())
        rep.add_file("model_calibrated.toml", model.to_toml())
    with args.outputs:
        rep.write(args.out_target.path)


#: The demo's detail files, written to data/ (not among the report's own files).
DEMO_DETAIL = ("scenarios.csv", "partners.csv")


def demo_check(r: Any, s: Any) -> Dict[str, Any]:
    """The demo's check of the forecast against the settled year, before the budget cut:
    after it, a binding budget makes the actual payout the budget and every scenario pay at
    most as much, whatever the forecast. The actual total before the cut (payable less
    the budget cut) against the simulated payout before the budget, and the same per
    component (a scenario's component payouts scaled back by its budget factor)."""
    import numpy as np

    t = s.totals
    actual = float(t["payable"] - t["adj_budget_cut"])
    before = r.per_scenario["payout_before_budget"].to_numpy()
    after = r.payout
    n = r.n_scenarios
    check: Dict[str, Any] = {
        "actual_payable": s.summary["totals"]["payable"],
        "actual_before_budget": actual,
        "forecast_mean": float(after.mean()) if n else float("nan"),
        "forecast_before_budget_mean": float(before.mean()) if n else float("nan"),
        "share_of_scenarios_at_or_below_actual": float(np.mean(before <= actual)) if n else float("nan"),
        "components": {},
    }
    factor = np.divide(before, after, out=np.ones_like(before), where=after > 0)
    lines = s.lines_exact
    for j, cid in enumerate(r.meta["components"]):
        g = lines[lines["component"] == cid]
        comp_actual = float(sum(g["payable"]) - sum(g["adj_budget_cut"])) if len(g) else 0.0
        sim = r._mat["component_payout"][:, j] * factor
        check["components"][cid] = {
            "actual_before_budget": comp_actual,
            "forecast_mean": float(sim.mean()) if n else float("nan"),
            "share_of_scenarios_at_or_below_actual": float(np.mean(sim <= comp_actual + 0.005)) if n else float("nan"),
        }
    return check


def check_text(check: Dict[str, Any], currency: str, decimals: int) -> str:
    """The demo's check in words."""
    payable = Decimal(str(check["actual_payable"]))
    return (f"the actual payout before the budget cut {check['actual_before_budget']:,.{decimals}f} {currency} "
            f"(payable after the cut {payable:,} {currency}) against the forecast before the budget (mean "
            f"{check['forecast_before_budget_mean']:,.{decimals}f}): {check['share_of_scenarios_at_or_below_actual']:.0%} "
            "of the simulated scenarios would have paid at most as much. Compared before the cut: after it a binding "
            "budget makes the actual payout the budget, which no scenario exceeds.")


def check_components_text(check: Dict[str, Any], decimals: int) -> str:
    """The demo's check per component: the actual before the budget cut against the forecast,
    and the share of scenarios at or below the actual (near 0% or 100%: the model misses it)."""
    rows = [[cid, f"{c['actual_before_budget']:,.{decimals}f}", f"{c['forecast_mean']:,.{decimals}f}",
             f"{c['share_of_scenarios_at_or_below_actual']:.0%}"] for cid, c in check["components"].items()]
    return text_table(["component", "actual before cut", "forecast mean", "scenarios at or below"], rows,
                      [False, True, True, True])


def _demo_json(r: Any, s: Any, check: Dict[str, Any]) -> str:
    """The demo's JSON (stdout and summary.json), numbers written as every file writes them."""
    from ._format import json_text

    return json_text({"forecast": r.to_dict(), "settlement": s.summary, "check": check}, r._decimals)


def _manifest(args: argparse.Namespace, folder: Any) -> None:
    """Record the run's manifest.json in its output folder (rebatesim.manifest)."""
    from . import manifest

    manifest.write(args, folder)


def _cmd_verify(args: argparse.Namespace) -> int:
    from .manifest import verify

    v = verify(args.dir)
    print(v.text())
    return 0 if v.ok else EXIT_ERROR


def _cmd_forecast(args: argparse.Namespace) -> int:
    from .forecasting import forecast
    from .gl import gl_csv, load_gl_mapping

    if args.gl_mapping and not args.out:
        raise RequestError("--gl-mapping writes gl_journal.csv into --out DIR: give --out")
    _declare_outputs(args)
    mapping = load_gl_mapping(args.gl_mapping) if args.gl_mapping else None
    with _executor(args) as executor:
        f = forecast(args.programme, args.partners, args.model, args.actuals, as_of=args.as_of,
                     scenarios=args.scenarios, seed=args.seed, confidence=args.confidence,
                     prior_accruals=args.prior_accruals, threads=args.threads, executor=executor,
                     progress=not args.json and sys.stderr.isatty())
    gl = None if mapping is None else gl_csv(f.gl_journal(mapping, layout=args.gl_layout), args.gl_layout)
    with args.outputs:  # both or neither
        if args.out:
            f.to_csv(args.out_target.path)
            if gl is not None:
                (args.out_target.path / "gl_journal.csv").write_text(gl, encoding="utf-8")
            _manifest(args, args.out_target.path)
        if args.excel:
            f.to_excel(args.excel_target.path)
    if args.json:
        sys.stdout.write(f.to_json() + "\n")
    else:
        print(forecast_text(f))
        if args.out:
            print(f"\nwrote summary, estimates, partners, segments, components, journal, journal_summary, reconciliation, "
                  f"rollforward, watch_list, cash_schedule{', gl_journal' if gl is not None else ''} (.csv), forecast.json "
                  f"and manifest.json to {args.out}")
        if args.excel:
            print(f"wrote {args.excel}")
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from ._examples import example_path
    from ._format import RATIO, csv_text, json_text
    from .backtesting import backtest

    given = [args.programme, args.partners, args.model]
    if any(x is not None for x in given) and not all(x is not None for x in given[:2]):
        raise RequestError("backtest: give --programme and --partners (and --model), or none of them for the bundled example")
    programme = args.programme or example_path("programme.toml", "backtest")
    partners = args.partners or example_path("partners.csv", "backtest")
    model = args.model if args.programme else example_path("model.toml", "backtest")
    _declare_outputs(args)
    month_ends = args.month_ends
    with _executor(args) as executor:
        bt = backtest(programme, partners, model, years=args.years, scenarios=args.scenarios, seed=args.seed,
                      forecaster=args.forecaster, month_ends=month_ends, threads=args.threads, executor=executor,
                      progress=not args.json and sys.stderr.isatty())
    first = bt.methods[0]
    paired = {m: bt.paired(first, m) for m in bt.methods[1:]}
    summary = {
        "programme": bt.programme, "years": bt.years, "seed": bt.seed, "scenarios": args.scenarios,
        "methods": bt.methods, "month_ends": bt.month_ends, "as_of": bt.as_of,
        "coverage": json.loads(bt.coverage.to_json(orient="records")),
        "errors": json.loads(bt.errors.to_json(orient="records")),
        "paired": {m: json.loads(p.to_json(orient="records")) for m, p in paired.items()},
    }
    if args.out:
        from .outputs import write_folder

        files = {"coverage.csv": csv_text(bt.coverage, bt._decimals, index=False, default=RATIO),
                 "errors.csv": csv_text(bt.errors, bt._decimals, index=False, default=RATIO),
                 "table.md": bt.table(),
                 "summary.json": json_text(summary, bt._decimals) + "\n"}
        with args.outputs:
            write_folder(str(args.out_target.path), files)
    if args.json:
        sys.stdout.write(json_text(summary, bt._decimals) + "\n")
        return 0
    print(f"Backtest of {bt.programme}: {bt.years} synthetic years (truth seed {bt.seed}), "
          f"'{first}' with {args.scenarios} scenarios per forecast, at {len(bt.month_ends)} month ends\n")
    print("Mean absolute error of the expected-value estimate (% of the realised payout, ± SE) and coverage "
          f"of {first}'s 80% / 90% intervals (%, ± SE clustered by year):\n")
    print(bt.table())
    print(f"Paired: mean over years of |error({first})| − |error(method)|, all month ends (negative: {first} more accurate):")
    rows = []
    for m, p in paired.items():
        last = p.iloc[-1]
        rows.append([m, f"{100 * last.difference:+.2f} ± {100 * last.se:.2f} points", f"{last.wins:.0%}"])
    print(text_table(["against", "difference", f"{first} closer"], rows, [False, True, True]))
    if args.out:
        print(f"\nwrote coverage.csv, errors.csv, table.md, summary.json to {args.out}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from ._calibration_report import output_files, summary_text, write_files
    from .calibration import calibrate

    _declare_outputs(args)
    c = calibrate(args.history, args.partners, programme=args.programme, as_of=args.as_of, draws=args.draws,
                  bootstrap=args.bootstrap, seed=args.seed, churn_silent_months=args.churn_silent_months)
    files = output_files(c)
    with args.outputs:
        write_files(args.out_target.path, files)
    print(summary_text(c))
    print(f"\nwrote model.toml (estimates and standard errors as comments), {len(c._core.draw_incidence())} draws, "
          f"estimates.csv, partners_calibrated.csv, diagnostics, charts and report.html to {args.out}")
    return 0


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    """The CLI's warnings: one stderr line each, ``rebatesim: warning: ...``."""
    print(f"rebatesim: warning: {message}", file=sys.stderr)


def _cmd_search(args: argparse.Namespace) -> int:
    from ._inputs import as_model
    from .design_search import search

    constraints: List[Dict[str, Any]] = []
    if args.budget_risk is not None:
        constraints.append({"kind": "chance", "threshold": "budget", "alpha": args.budget_risk})
    if args.max_p95 is not None:
        constraints.append({"kind": "percentile", "q": 0.95, "max": args.max_p95})
    if args.max_cvar is not None:
        constraints.append({"kind": "cvar", "level": 0.95, "max": args.max_cvar})
    if args.max_expected_payout is not None:
        constraints.append({"kind": "expected_payout", "max": args.max_expected_payout})
    _declare_outputs(args)
    model = as_model(args.model)
    with _executor(args) as executor:
        r = search(args.programme, args.space, args.partners, model, objective=args.objective,
                   constraints=constraints, scenarios=args.scenarios, budget_evaluations=args.evaluations,
                   top=args.top, seed=args.seed, threads=args.threads, executor=executor,
                   progress=not args.json and sys.stderr.isatty())
    summary = {"message": r.message, "feasible": r.feasible, "objective": r.objective,
               "constraints": r.constraints, "method": r.method, "evaluations": r.evaluations,
               "scenarios": r.scenarios, "reevaluate_scenarios": r.reevaluate_scenarios, "seed": r.seed,
               "gap": {"value": r.gap[0], "se": r.gap[1]},
               "best": {f: v for f, v in zip(r.fields, r.top.loc[r.top.chosen].iloc[0][r.fields].tolist())},
               "top": json.loads(r.top.to_json(orient="records"))}
    if args.out:
        from .outputs import write_folder

        files: Dict[str, Any] = {"best.toml": r.best.to_toml(), "designs.csv": r.designs.to_csv(),
                                 "top.csv": r.top.to_csv(), "pareto.svg": r.pareto_chart().to_svg(),
                                 "summary.json": json.dumps(summary, indent=2, default=str) + "\n"}
        with args.outputs:
            write_folder(str(args.out_target.path), files)
    if args.json:
        sys.stdout.write(json.dumps(summary, default=str) + "\n")
        return 0
    print(r.message)
    if args.out:
        print(f"\nwrote best.toml, designs.csv, top.csv, pareto.svg, summary.json to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rebatesim`` command."""
    parser = argparse.ArgumentParser(
        prog="rebatesim",
        description="Design, simulate and budget B2B volume-incentive rebate programmes.",
    )
    parser.add_argument("--version", action="version", version=f"rebatesim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    v = sub.add_parser("validate", help="check a programme file", description="Check a programme file (TOML, JSON or YAML).")
    v.add_argument("file", type=_path, help="programme file (.toml, .json, .yaml)")
    v.set_defaults(func=_cmd_validate)

    def outputs(p: argparse.ArgumentParser, json_help: str = "print the settlement as JSON on stdout",
                out_help: str = "write lines.csv, partners.csv, standings.csv and summary.json to DIR") -> None:
        g = p.add_mutually_exclusive_group()
        g.add_argument("--json", action="store_true", help=json_help)
        p.add_argument("--out", metavar="DIR", type=_path, help=out_help)
        p.add_argument("--force", action="store_true", help="replace an existing non-empty --out DIR (atomically)")

    report_help = ("write a report folder to DIR: report.html (one self-contained page), summary.json, "
                   "summary.csv and the other tables, results.xlsx, every chart as SVG and PNG")

    s = sub.add_parser(
        "settle",
        help="settle a programme on actual transactions",
        description="Compute exactly what every partner is owed, line by line, with explanations.",
    )
    s.add_argument("--programme", required=True, metavar="FILE", type=_path, help="programme file")
    s.add_argument("--partners", required=True, metavar="CSV", type=_path, help="partner table (partner_id, segment, baselines)")
    s.add_argument("--transactions", required=True, metavar="CSV", type=_path, help="transactions (partner_id, date, quantity, revenue, category, order_id)")
    outputs(s, out_help="write lines.parquet (exact amounts), partners.csv, standings.csv and summary.json to DIR")
    s.add_argument("--csv", action="store_true", help="with --out: also write lines.csv (every line with its explanation)")
    s.add_argument("--explain", action="append", type=_partner, metavar="PARTNER", help="print the statement of PARTNER (repeatable)")
    s.set_defaults(func=_cmd_settle)

    def executor_options(p: argparse.ArgumentParser) -> None:
        g = p.add_mutually_exclusive_group()
        g.add_argument("--workers", type=_whole(1, 1024), default=None, metavar="N",
                       help="run on N local worker processes (results do not depend on it)")
        g.add_argument("--dask", metavar="ADDRESS", type=_address, default=None,
                       help="run on the Dask scheduler at ADDRESS, e.g. tcp://host:8786 (results do not depend on it)")

    def sim_options(p: argparse.ArgumentParser, default_scenarios: int = 1000) -> None:
        p.add_argument("--scenarios", type=_SCENARIOS, default=default_scenarios,
                       help=f"number of scenarios, 1 to 10^9 (default {default_scenarios})")
        p.add_argument("--seed", type=_SEED, default=0, help="random seed, 0 ≤ seed < 2^64 (default 0)")
        p.add_argument("--threads", type=_THREADS, default=None, help="worker threads (default: all cores; results do not depend on it)")

    m = sub.add_parser("simulate", help="forecast a programme's payout by Monte Carlo simulation",
                       description="Simulate partner purchasing under a programme and report payout, its uncertainty, and ROI.")
    m.add_argument("--programme", required=True, metavar="FILE", type=_path, help="programme file")
    m.add_argument("--partners", required=True, metavar="CSV", type=_path, help="partner table (partner_id, segment, baselines, optional economics)")
    m.add_argument("--model", metavar="FILE", type=_path, default=None, help="demand model file (default: deterministic demand at baseline)")
    sim_options(m)
    m.add_argument("--tolerance", type=_real(0.0, None, "a positive number"), default=None, help="run until the standard error of --statistic is at most this")
    m.add_argument("--statistic", type=_statistic, default=None, help="statistic for --tolerance: mean or a percentile such as p95")
    m.add_argument("--max-scenarios", type=_whole(2, _checks.MAX_SCENARIOS), default=None, help="upper limit with --tolerance")
    executor_options(m)
    outputs(m, "print the summaries and schedules as JSON on stdout", report_help)
    m.set_defaults(func=_cmd_simulate)

    c = sub.add_parser("compare", help="compare programme designs on common random numbers",
                       description="Simulate several designs on the same population and model with common random numbers.")
    c.add_argument("--programme", dest="programmes", action="append", required=True, metavar="FILE", type=_path,
                   help="programme file (repeat: the first is the reference)")
    c.add_argument("--partners", required=True, metavar="CSV", type=_path, help="partner table")
    c.add_argument("--model", metavar="FILE", type=_path, default=None, help="demand model file")
    sim_options(c)
    c.add_argument("--tolerance", type=_real(0.0, None, "a positive number"), default=None, help="run until the standard error of --statistic is at most this")
    c.add_argument("--statistic", type=_statistic, default=None, help="statistic for --tolerance")
    c.add_argument("--max-scenarios", type=_whole(2, _checks.MAX_SCENARIOS), default=None, help="upper limit with --tolerance")
    executor_options(c)
    outputs(c, "print every design's summaries and the paired differences as JSON on stdout", report_help)
    c.set_defaults(func=_cmd_compare)

    fc = sub.add_parser("forecast", help="forecast the final payout and the accrual from actuals to date",
                        description="Forecast a programme's final payout from the actual transactions up to --as-of: "
                        "IFRS 15 estimates, accrual journal with catch-up, watch list, budget and cash schedule.")
    fc.add_argument("--programme", required=True, metavar="FILE", type=_path, help="programme file")
    fc.add_argument("--partners", required=True, metavar="CSV", type=_path, help="partner table (partner_id, segment, baselines, optional economics)")
    fc.add_argument("--model", metavar="FILE", type=_path, default=None, help="demand model file (default: deterministic demand at baseline)")
    fc.add_argument("--actuals", required=True, metavar="CSV", type=_path, help="actual transactions dated up to --as-of")
    fc.add_argument("--as-of", required=True, metavar="DATE", type=_date, help="forecast date, YYYY-MM-DD (a month end is exact)")
    fc.add_argument("--prior-accruals", metavar="CSV", type=_path, default=None, help="amounts accrued before (partner_id, component, amount)")
    sim_options(fc)
    executor_options(fc)
    fc.add_argument("--confidence", type=_real(0.0, 1.0, "a number between 0 and 1 (e.g. 0.9)"), default=0.9, help="confidence of the constrained estimate (default 0.9)")
    g = fc.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="print the forecast as JSON on stdout")
    fc.add_argument("--out", metavar="DIR", type=_path, help="write the forecast tables (CSV) and forecast.json to DIR")
    fc.add_argument("--force", action="store_true", help="replace an existing non-empty --out DIR")
    fc.add_argument("--excel", metavar="FILE", type=_workbook, default=None, help="also write the tables to an .xlsx workbook (one sheet each)")
    fc.add_argument("--gl-mapping", metavar="FILE", type=_path, default=None,
                    help="GL accounts per component (TOML or CSV): write the balanced GL journal gl_journal.csv to --out DIR")
    fc.add_argument("--gl-layout", default="generic", choices=["generic", "oracle_fbdi"],
                    help="column layout of gl_journal.csv: generic (default) or Oracle FBDI GL_INTERFACE (docs/close.md)")
    fc.set_defaults(func=_cmd_forecast)

    vf = sub.add_parser("verify", help="re-perform a run from its manifest.json and compare the outputs",
                        description="Re-run the settle, simulate or forecast recorded in DIR/manifest.json (refused when an "
                                    "input file changed) and confirm every output to the cent, or list what differs.")
    vf.add_argument("dir", metavar="DIR", type=_path, help="an output folder written with --out")
    vf.set_defaults(func=_cmd_verify)

    d = sub.add_parser("demo", help="run the bundled distributor example",
                       description="The bundled distributor example: forecast the year's payout by simulation, settle the actual year exactly, compare.")
    sim_options(d, 200)
    outputs(d, "print the forecast, the settlement and the check as JSON on stdout (writes no report)",
            report_help + f" (default ./{DEMO_OUT})")
    d.add_argument("--no-report", action="store_true", help="print the summary only, write no report folder")
    d.add_argument("--sensitivity-scenarios", type=_whole(0, _checks.MAX_SCENARIOS), default=10, metavar="N",
                   help="scenarios per run of the report's small sensitivity tornado (5 assumptions × 2 runs; "
                        "default 10; 0: none)")
    d.set_defaults(func=_cmd_demo)

    b = sub.add_parser("backtest", help="backtest the payout forecast against the market's methods on synthetic years",
                       description="Draw synthetic years from the model, forecast the final payout at every month end from the "
                                   "actuals to date, and compare with what each year paid (docs/backtest.md). Without files: "
                                   "the bundled backtest example.")
    b.add_argument("--programme", metavar="FILE", type=_path, default=None, help="programme file (default: the bundled backtest example)")
    b.add_argument("--partners", metavar="CSV", type=_path, default=None, help="partner table")
    b.add_argument("--model", metavar="FILE", type=_path, default=None, help="demand model file (the known parameters of the synthetic years)")
    b.add_argument("--years", type=_whole(1, _checks.MAX_YEARS), default=500, help="synthetic years (default 500)")
    b.add_argument("--scenarios", type=_SCENARIOS, default=200, help="scenarios per forecast (default 200)")
    b.add_argument("--seed", type=_SEED, default=1, help="seed of the synthetic years (default 1)")
    b.add_argument("--forecaster", default="forecast", choices=["forecast", "prior"], help="rebatesim forecaster: the forecast from actuals to date (default) or the prior made before the year")
    b.add_argument("--month-ends", type=_month_list, default=None, metavar="M,M,...", help="programme months after which to forecast (default: all but the last)")
    b.add_argument("--threads", type=_THREADS, default=None, help="worker threads (default: all cores; results do not depend on it)")
    executor_options(b)
    outputs(b)
    b.set_defaults(func=_cmd_backtest)

    cal = sub.add_parser("calibrate", help="calibrate a demand model on transaction history",
                         description="Estimate the demand model (seasonality, growth, market/segment/partner/noise "
                                     "factors, incidence, churn, returns, orders, mixes; with --programme, stretch and "
                                     "pull-forward from bunching) on 13+ months of transaction lines, with standard "
                                     "errors, parameter draws and a fit report (docs/calibration.md).")
    cal.add_argument("--history", required=True, metavar="FILE", type=_path,
                     help="transaction lines (partner_id, date, quantity, revenue, optional category, order_id)")
    cal.add_argument("--partners", required=True, metavar="CSV", type=_path, help="partner table (partner_id, segment)")
    cal.add_argument("--programme", metavar="FILE", type=_path, default=None,
                     help="the programme in force over the history (its thresholds give stretch and pull-forward)")
    cal.add_argument("--as-of", metavar="DATE", type=_date, default=None,
                     help="use the history up to this date only, YYYY-MM-DD (whole months)")
    cal.add_argument("--draws", type=_whole(0, 100_000), default=100, help="parameter draws K (default 100)")
    cal.add_argument("--bootstrap", type=_whole(0, 100_000), default=400,
                     help="market bootstrap replications (default 400)")
    cal.add_argument("--churn-silent-months", type=_whole(1, 120), default=6, metavar="K",
                     help="a partner silent for K months at the end counts as churned (default 6)")
    cal.add_argument("--seed", type=_SEED, default=1, help="seed of the draws and the bootstrap (default 1)")
    cal.add_argument("--out", required=True, metavar="DIR", type=_path,
                     help="write model.toml, draws/, estimates.csv, partners_calibrated.csv, diagnostics/, charts/ "
                          "and report.html to DIR (atomically: all or nothing)")
    cal.add_argument("--force", action="store_true", help="replace an existing non-empty --out DIR (atomically)")
    cal.set_defaults(func=_cmd_calibrate)
    se = sub.add_parser("search", help="search a programme template's design space for the best design within the budget risk",
                        description="Search the thresholds, rates and caps a space file allows on a programme template "
                                    "(docs/search.md): every design on the same scenarios, the best re-evaluated on "
                                    "independent ones.")
    se.add_argument("--programme", required=True, metavar="TEMPLATE", type=_path, help="programme template file")
    se.add_argument("--space", required=True, metavar="SPACE", type=_path, help="search space file (.toml, .json, .yaml)")
    se.add_argument("--partners", required=True, metavar="CSV", type=_path, help="partner table")
    se.add_argument("--model", metavar="FILE", type=_path, default=None, help="demand model file")
    sim_options(se)
    se.add_argument("--objective", default="net_margin", type=_objective,
                    help="what to maximise: net_margin (default: expected incremental margin less the payout), incremental_margin, roi, payout_per_incremental_revenue (minimised)")
    se.add_argument("--budget-risk", type=_real(0.0, 1.0, "a probability between 0 and 1 (e.g. 0.05)"), default=None,
                    metavar="ALPHA", help="require P(payout before the budget > budget) ≤ ALPHA (Clopper–Pearson bound)")
    se.add_argument("--max-p95", type=_real(0.0, None, "a positive amount"), default=None, metavar="X",
                    help="require the P95 payout before the budget ≤ X")
    se.add_argument("--max-cvar", type=_real(0.0, None, "a positive amount"), default=None, metavar="X",
                    help="require the CVaR95 of the payout before the budget ≤ X")
    se.add_argument("--max-expected-payout", type=_real(0.0, None, "a positive amount"), default=None, metavar="X",
                    help="require the expected payout before the budget ≤ X")
    se.add_argument("--evaluations", type=_whole(1, 1_000_000), default=200, help="designs to simulate at most (default 200)")
    se.add_argument("--top", type=_whole(1, 1000), default=5, help="designs re-evaluated on independent scenarios (default 5)")
    executor_options(se)
    outputs(se, "print the result as JSON on stdout",
            "write best.toml, designs.csv, top.csv, pareto.svg and summary.json to DIR")
    se.set_defaults(func=_cmd_search)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
