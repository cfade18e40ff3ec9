"""The ``rebatesim`` commands on a programme's year in progress and its history:
``forecast`` (the final payout and the accrual from actuals to date), ``backtest`` (the
forecast against the market's methods on synthetic years) and ``calibrate`` (a demand model
from transaction history)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import _checks
from . import _cli_common as common
from . import _cli_options as opt
from . import _draws
from ._display import forecast_text
from ._format import text_table
from .exceptions import RequestError


def _cmd_forecast(args: argparse.Namespace) -> int:
    from .forecasting import forecast
    from .gl import gl_csv, load_gl_mapping

    if args.gl_mapping and not args.out:
        raise RequestError("--gl-mapping writes gl_journal.csv into --out DIR: give --out")
    common.declare_outputs(args)
    mapping = load_gl_mapping(args.gl_mapping) if args.gl_mapping else None
    with common.executor(args) as executor:
        f = forecast(args.programme, args.partners, args.model, args.actuals, as_of=args.as_of,
                     scenarios=args.scenarios, seed=args.seed, confidence=args.confidence,
                     prior_accruals=args.prior_accruals, threads=args.threads, executor=executor,
                     progress=not args.json and sys.stderr.isatty(),
                     parameter_uncertainty=_draws.from_command_line(args.model, args.parameter_draws))
    gl = None if mapping is None else gl_csv(f.gl_journal(mapping, layout=args.gl_layout), args.gl_layout)
    with args.outputs:  # both or neither
        if args.out:
            f.to_csv(args.out_target.path)
            if gl is not None:
                (args.out_target.path / "gl_journal.csv").write_text(gl, encoding="utf-8")
            common.write_manifest(args, args.out_target.path)
        if args.excel:
            f.to_excel(args.excel_target.path)
    if args.json:
        sys.stdout.write(f.to_json() + "\n")
    else:
        print(forecast_text(f))
        if f.parameter_draws:
            print(f"Input uncertainty: each scenario ran under one of {f.parameter_draws} parameter draws of the model.")
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
    common.declare_outputs(args)
    month_ends = args.month_ends
    draws = _draws.from_command_line(model, args.parameter_draws)
    with common.executor(args) as executor:
        bt = backtest(programme, partners, model, years=args.years, scenarios=args.scenarios, seed=args.seed,
                      forecaster=args.forecaster, month_ends=month_ends, threads=args.threads, executor=executor,
                      progress=not args.json and sys.stderr.isatty(), parameter_uncertainty=draws)
    first = bt.methods[0]
    paired = {m: bt.paired(first, m) for m in bt.methods[1:]}
    summary = {
        "programme": bt.programme, "years": bt.years, "seed": bt.seed, "scenarios": args.scenarios,
        "methods": bt.methods, "month_ends": bt.month_ends, "as_of": bt.as_of,
        "coverage": json.loads(bt.coverage.to_json(orient="records")),
        "errors": json.loads(bt.errors.to_json(orient="records")),
        "paired": {m: json.loads(p.to_json(orient="records")) for m, p in paired.items()},
    }
    if bt.parameter_draws:
        summary["parameter_draws"] = bt.parameter_draws
    if args.out:
        from .outputs import write_folder

        files = {"coverage.csv": csv_text(bt.coverage, bt._decimals, index=False, default=RATIO),
                 "errors.csv": csv_text(bt.errors, bt._decimals, index=False, default=RATIO),
                 "table.md": bt.to_markdown(),
                 "summary.json": json_text(summary, bt._decimals) + "\n"}
        with args.outputs:
            write_folder(str(args.out_target.path), files)
    if args.json:
        sys.stdout.write(json_text(summary, bt._decimals) + "\n")
        return 0
    print(f"Backtest of {bt.programme}: {bt.years} synthetic years (truth seed {bt.seed}), "
          f"'{first}' with {args.scenarios} scenarios per forecast, at {len(bt.month_ends)} month ends\n")
    if bt.parameter_draws:
        print(f"Input uncertainty: each scenario of '{first}' ran under one of {bt.parameter_draws} parameter draws "
              "of the model (the synthetic years come from the model alone).\n")
    print("Mean absolute error of the expected-value estimate (% of the realised payout, ± SE) and coverage "
          f"of {first}'s 80% / 90% intervals (%, ± SE clustered by year):\n")
    print(bt.to_markdown())
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

    common.declare_outputs(args)
    c = calibrate(args.history, args.partners, programme=args.programme, as_of=args.as_of, draws=args.draws,
                  bootstrap=args.bootstrap, seed=args.seed, churn_silent_months=args.churn_silent_months)
    files = output_files(c)
    with args.outputs:
        write_files(args.out_target.path, files)
    print(summary_text(c))
    print(f"\nwrote model.toml (estimates and standard errors as comments), {len(c._core.draw_incidence())} draws, "
          f"estimates.csv, partners_calibrated.csv, diagnostics, charts and report.html to {args.out}")
    return 0


def add_forecast_parser(sub: Any) -> None:
    """The ``forecast`` sub-command's arguments."""
    fc = sub.add_parser("forecast", help="forecast the final payout and the accrual from actuals to date",
                        description="Forecast a programme's final payout from the actual transactions up to --as-of: "
                        "IFRS 15 estimates, accrual journal with catch-up, watch list, budget and cash schedule.")
    fc.add_argument("--programme", required=True, metavar="FILE", type=opt.path, help="programme file")
    fc.add_argument("--partners", required=True, metavar="CSV", type=opt.path, help="partner table (partner_id, segment, baselines, optional economics)")
    fc.add_argument("--model", metavar="FILE", type=opt.path, default=None, help="demand model file (default: deterministic demand at baseline)")
    opt.parameter_draws_option(fc)
    fc.add_argument("--actuals", required=True, metavar="CSV", type=opt.path, help="actual transactions dated up to --as-of")
    fc.add_argument("--as-of", required=True, metavar="DATE", type=opt.date, help="forecast date, YYYY-MM-DD (a month end is exact)")
    fc.add_argument("--prior-accruals", metavar="CSV", type=opt.path, default=None, help="amounts accrued before (partner_id, component, amount)")
    opt.sim_options(fc)
    opt.executor_options(fc)
    fc.add_argument("--confidence", type=opt.real(0.0, 1.0, "a number between 0 and 1 (e.g. 0.9)"), default=0.9, help="confidence of the constrained estimate (default 0.9)")
    g = fc.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="print the forecast as JSON on stdout")
    fc.add_argument("--out", metavar="DIR", type=opt.path, help="write the forecast tables (CSV) and forecast.json to DIR")
    fc.add_argument("--force", action="store_true", help="replace an existing non-empty --out DIR")
    fc.add_argument("--excel", metavar="FILE", type=opt.workbook, default=None, help="also write the tables to an .xlsx workbook (one sheet each)")
    fc.add_argument("--gl-mapping", metavar="FILE", type=opt.path, default=None,
                    help="GL accounts per component (TOML or CSV): write the balanced GL journal gl_journal.csv to --out DIR")
    fc.add_argument("--gl-layout", default="generic", choices=["generic", "oracle_fbdi"],
                    help="column layout of gl_journal.csv: generic (default) or Oracle FBDI GL_INTERFACE (docs/close.md)")
    fc.set_defaults(func=_cmd_forecast)


def add_backtest_parser(sub: Any) -> None:
    """The ``backtest`` sub-command's arguments."""
    b = sub.add_parser("backtest", help="backtest the payout forecast against the market's methods on synthetic years",
                       description="Draw synthetic years from the model, forecast the final payout at every month end from the "
                                   "actuals to date, and compare with what each year paid (docs/backtest.md). Without files: "
                                   "the bundled backtest example.")
    b.add_argument("--programme", metavar="FILE", type=opt.path, default=None, help="programme file (default: the bundled backtest example)")
    b.add_argument("--partners", metavar="CSV", type=opt.path, default=None, help="partner table")
    b.add_argument("--model", metavar="FILE", type=opt.path, default=None, help="demand model file (the known parameters of the synthetic years)")
    b.add_argument("--years", type=opt.whole(1, _checks.MAX_YEARS), default=500, help="synthetic years (default 500)")
    b.add_argument("--scenarios", type=opt.SCENARIOS, default=200, help="scenarios per forecast (default 200)")
    b.add_argument("--seed", type=opt.SEED, default=1, help="seed of the synthetic years (default 1)")
    b.add_argument("--forecaster", default="forecast", choices=["forecast", "prior"], help="rebatesim forecaster: the forecast from actuals to date (default) or the prior made before the year")
    b.add_argument("--month-ends", type=opt.month_list, default=None, metavar="M,M,...", help="programme months after which to forecast (default: all but the last)")
    b.add_argument("--threads", type=opt.THREADS, default=None, help="worker threads (default: all cores; results do not depend on it)")
    opt.parameter_draws_option(b)
    opt.executor_options(b)
    opt.outputs(b)
    b.set_defaults(func=_cmd_backtest)


def add_calibrate_parser(sub: Any) -> None:
    """The ``calibrate`` sub-command's arguments."""
    cal = sub.add_parser("calibrate", help="calibrate a demand model on transaction history",
                         description="Estimate the demand model (seasonality, growth, market/segment/partner/noise "
                                     "factors, incidence, churn, returns, orders, mixes; with --programme, stretch and "
                                     "pull-forward from bunching) on 13+ months of transaction lines, with standard "
                                     "errors, parameter draws and a fit report (docs/calibration.md).")
    cal.add_argument("--history", required=True, metavar="FILE", type=opt.path,
                     help="transaction lines (partner_id, date, quantity, revenue, optional category, order_id)")
    cal.add_argument("--partners", required=True, metavar="CSV", type=opt.path, help="partner table (partner_id, segment)")
    cal.add_argument("--programme", metavar="FILE", type=opt.path, default=None,
                     help="the programme in force over the history (its thresholds give stretch and pull-forward)")
    cal.add_argument("--as-of", metavar="DATE", type=opt.date, default=None,
                     help="use the history up to this date only, YYYY-MM-DD (whole months)")
    cal.add_argument("--draws", type=opt.whole(0, 100_000), default=100, help="parameter draws K (default 100)")
    cal.add_argument("--bootstrap", type=opt.whole(0, 100_000), default=400,
                     help="market bootstrap replications (default 400)")
    cal.add_argument("--churn-silent-months", type=opt.whole(1, 120), default=6, metavar="K",
                     help="a partner silent for K months at the end counts as churned (default 6)")
    cal.add_argument("--seed", type=opt.SEED, default=1, help="seed of the draws and the bootstrap (default 1)")
    cal.add_argument("--out", required=True, metavar="DIR", type=opt.path,
                     help="write model.toml, draws/, estimates.csv, partners_calibrated.csv, diagnostics/, charts/ "
                          "and report.html to DIR (atomically: all or nothing)")
    cal.add_argument("--force", action="store_true", help="replace an existing non-empty --out DIR (atomically)")
    cal.set_defaults(func=_cmd_calibrate)
