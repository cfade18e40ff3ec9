"""The ``rebatesim`` Monte Carlo design commands: ``simulate`` (one programme), ``compare``
(designs on common random numbers, with their short labels) and ``search`` (a template's
design space)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Sequence, Tuple

from . import _cli_common as common
from . import _cli_options as opt
from . import _draws
from ._display import roi_note, simulation_text
from ._format import percent_text, plain_estimate, text_table


def _emit_simulation(r: Any, args: argparse.Namespace, model: Any = None) -> int:
    if args.out:
        from .report import simulation_report

        written = common.write_report(args, simulation_report(
            r, inputs=common.inputs(args, programme=args.programme, partners=args.partners, model=args.model), model=model))
    if args.json:
        sys.stdout.write(r.to_json() + "\n")
    else:
        print(simulation_text(r))
        line = _draws.summary_line(r.parameter_variance())
        if line:
            print(line)
        if args.out:
            print(written)
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from ._inputs import as_model
    from .simulation import simulate

    common.declare_outputs(args)
    model = as_model(args.model)
    draws = _draws.from_command_line(args.model, args.parameter_draws)
    with common.executor(args) as executor:
        r = simulate(args.programme, args.partners, model, executor=executor, parameter_uncertainty=draws,
                     **common.sim_kwargs(args))
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
    common.declare_outputs(args)
    model = as_model(args.model)
    draws = _draws.from_command_line(args.model, args.parameter_draws)
    with common.executor(args) as executor:
        c = compare(designs, args.partners, model, executor=executor, parameter_uncertainty=draws,
                    **common.sim_kwargs(args))
    if args.out:
        from .report import comparison_report

        written = common.write_report(args, comparison_report(
            c, inputs=common.inputs(args, programmes=args.programmes, partners=args.partners, model=args.model), model=model))
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
    common.declare_outputs(args)
    model = as_model(args.model)
    with common.executor(args) as executor:
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


def add_simulate_parser(sub: Any) -> None:
    """The ``simulate`` sub-command's arguments."""
    m = sub.add_parser("simulate", help="forecast a programme's payout by Monte Carlo simulation",
                       description="Simulate partner purchasing under a programme and report payout, its uncertainty, and ROI.")
    m.add_argument("--programme", required=True, metavar="FILE", type=opt.path, help="programme file")
    m.add_argument("--partners", required=True, metavar="CSV", type=opt.path, help="partner table (partner_id, segment, baselines, optional economics)")
    m.add_argument("--model", metavar="FILE", type=opt.path, default=None, help="demand model file (default: deterministic demand at baseline)")
    opt.parameter_draws_option(m)
    opt.sim_options(m)
    opt.precision_options(m, "statistic for --tolerance: mean or a percentile such as p95")
    opt.executor_options(m)
    opt.outputs(m, "print the summaries and schedules as JSON on stdout", opt.REPORT_HELP)
    m.set_defaults(func=_cmd_simulate)


def add_compare_parser(sub: Any) -> None:
    """The ``compare`` sub-command's arguments."""
    c = sub.add_parser("compare", help="compare programme designs on common random numbers",
                       description="Simulate several designs on the same population and model with common random numbers.")
    c.add_argument("--programme", dest="programmes", action="append", required=True, metavar="FILE", type=opt.path,
                   help="programme file (repeat: the first is the reference)")
    c.add_argument("--partners", required=True, metavar="CSV", type=opt.path, help="partner table")
    c.add_argument("--model", metavar="FILE", type=opt.path, default=None, help="demand model file")
    opt.parameter_draws_option(c)
    opt.sim_options(c)
    opt.precision_options(c)
    opt.executor_options(c)
    opt.outputs(c, "print every design's summaries and the paired differences as JSON on stdout", opt.REPORT_HELP)
    c.set_defaults(func=_cmd_compare)


def add_search_parser(sub: Any) -> None:
    """The ``search`` sub-command's arguments."""
    se = sub.add_parser("search", help="search a programme template's design space for the best design within the budget risk",
                        description="Search the thresholds, rates and caps a space file allows on a programme template "
                                    "(docs/search.md): every design on the same scenarios, the best re-evaluated on "
                                    "independent ones.")
    se.add_argument("--programme", required=True, metavar="TEMPLATE", type=opt.path, help="programme template file")
    se.add_argument("--space", required=True, metavar="SPACE", type=opt.path, help="search space file (.toml, .json, .yaml)")
    se.add_argument("--partners", required=True, metavar="CSV", type=opt.path, help="partner table")
    se.add_argument("--model", metavar="FILE", type=opt.path, default=None, help="demand model file")
    opt.sim_options(se)
    se.add_argument("--objective", default="net_margin", type=opt.objective,
                    help="what to maximise: net_margin (default: expected incremental margin less the payout), incremental_margin, roi, payout_per_incremental_revenue (minimised)")
    se.add_argument("--budget-risk", type=opt.real(0.0, 1.0, "a probability between 0 and 1 (e.g. 0.05)"), default=None,
                    metavar="ALPHA", help="require P(payout before the budget > budget) ≤ ALPHA (Clopper–Pearson bound)")
    se.add_argument("--max-p95", type=opt.real(0.0, None, "a positive amount"), default=None, metavar="X",
                    help="require the P95 payout before the budget ≤ X")
    se.add_argument("--max-cvar", type=opt.real(0.0, None, "a positive amount"), default=None, metavar="X",
                    help="require the CVaR95 of the payout before the budget ≤ X")
    se.add_argument("--max-expected-payout", type=opt.real(0.0, None, "a positive amount"), default=None, metavar="X",
                    help="require the expected payout before the budget ≤ X")
    se.add_argument("--evaluations", type=opt.whole(1, 1_000_000), default=200, help="designs to simulate at most (default 200)")
    se.add_argument("--top", type=opt.whole(1, 1000), default=5, help="designs re-evaluated on independent scenarios (default 5)")
    opt.executor_options(se)
    opt.outputs(se, "print the result as JSON on stdout",
            "write best.toml, designs.csv, top.csv, pareto.svg and summary.json to DIR")
    se.set_defaults(func=_cmd_search)
