"""``rebatesim demo``: the bundled distributor example end to end (calibrate the demand
model on the history, forecast the year by simulation, settle the actual year exactly, check
one against the other) and its report folder."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from . import _checks
from . import _cli_common as common
from . import _cli_options as opt
from . import _draws
from ._display import settlement_text, simulation_text
from ._format import text_table


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
            common.declare_outputs(args, out)
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
    cal, model, draws = _demo_calibration(programme)
    # 1. before the year: forecast from the partners' prior-year baselines and the demand model
    # each partner's calibrated category mix (the segment's for a partner new since the history)
    partners = cal.population(example_path("partners.csv"))
    r = simulate(programme, partners, model, scenarios=args.scenarios,
                 seed=args.seed, threads=args.threads, progress=progress, parameter_uncertainty=draws)
    # 2. after the year: settle the actual transactions exactly
    s = settle(programme, example_path("partners.csv"), example_path("transactions.csv"))
    check = demo_check(r, s)
    if out is not None:
        _demo_report(args, out, programme, model, r, s, check, progress, cal, draws)
    if args.json:
        sys.stdout.write(_demo_json(r, s, check) + "\n")
        return 0
    print(f"The bundled example: {programme!r}\n  {example_path('programme.toml')}\n")
    print("0. Calibration: the demand model estimated from the partners' history 2024-2026\n"
          "   (history.csv.gz; the programme's thresholds give stretch and pull-forward; the margin rate and "
          "the uplift\n   elasticity, which a history cannot give, are taken from model.toml)\n")
    print(_demo_calibration_text(cal))
    print("\n1. Forecast before the year: Monte Carlo simulation of the partners' purchasing from their "
          "prior-year baselines\n   (the calibrated demand model and each partner's calibrated category mix; each "
          "scenario under one of the\n   calibration's parameter draws, and also run without the programme)\n")
    print(simulation_text(r))
    line = _draws.summary_line(r.parameter_variance())
    if line:
        print(line)
    print("\n2. Settlement after the year: the actual transactions, exactly, to the cent\n")
    print(settlement_text(s))
    print("\n3. Check: " + check_text(check, s.currency, r._decimals))
    print("\n" + check_components_text(check, r._decimals))
    missed = missed_components_text(check)
    if missed:
        print("\n" + missed)
    if out is not None:
        print(f"\nwrote the report to {os.path.abspath(out)}{os.sep}report.html (charts, CSV, Excel alongside)")
    return 0


DEMO_CALIBRATION = dict(draws=20, bootstrap=100, seed=1)


def _demo_calibration(programme: Any) -> Tuple[Any, Any, List[Any]]:
    """The demo's calibration on the bundled history, the model it simulates with (the
    calibrated one, with the margin rate and uplift elasticity of model.toml: assumptions a
    history cannot give) and its parameter draws, each with the same two assumptions."""
    from ._examples import example_path
    from .calibration import calibrate
    from .demand import Model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo prints its warnings' count, not each
        cal = calibrate(example_path("history.csv.gz"), example_path("history_partners.csv"), programme=programme,
                        **DEMO_CALIBRATION)
    hand = Model.from_file(example_path("model.toml")).to_dict()

    def with_assumptions(m: Any) -> Any:
        d = m.to_dict()
        d.setdefault("economics", {})["margin_rate"] = hand["economics"]["margin_rate"]
        d.setdefault("behaviour", {}).setdefault("uplift", {})["elasticity"] = hand["behaviour"]["uplift"]["elasticity"]
        return Model.from_dict(d)

    return cal, with_assumptions(cal.model), [with_assumptions(d) for d in cal.draws]


def _demo_calibration_text(cal: Any) -> str:
    from ._calibration_report import summary_text

    return summary_text(cal).replace(" (on stderr and in warnings.txt)", " (see the report's calibration page)")


def _demo_report(args: argparse.Namespace, out: str, programme: Any, model: Any, r: Any, s: Any,
                 check: Dict[str, Any], progress: bool, cal: Any = None, draws: Any = None) -> None:
    """The demo's report folder: the forecast report, a small sensitivity tornado (under the
    same parameter draws as the forecast), the exact settlement of the actual year and the check
    of one against the other."""
    from ._examples import example_path
    from .report import settlement_section, simulation_report
    from .sensitivities import sensitivity

    sens = None
    if args.sensitivity_scenarios > 0:
        partners = example_path("partners.csv") if cal is None else cal.population(example_path("partners.csv"))
        sens = sensitivity(programme, partners, model, scenarios=args.sensitivity_scenarios,
                           seed=args.seed, threads=args.threads, progress=progress, assumptions=DEMO_ASSUMPTIONS,
                           parameter_uncertainty=draws if draws else False)
    inputs = {
        "Programme": example_path("programme.toml"),
        "Partners": example_path("partners.csv") + ("" if cal is None else
                                                     " (each partner's category mix from the calibration)"),
        "Model": "calibrated on " + example_path("history.csv.gz") + " (calibration.html, model_calibrated.toml; "
                 "margin rate and uplift from " + example_path("model.toml") + ")",
        "Transactions (actual year)": example_path("transactions.csv"),
        "Scenarios": f"{args.scenarios:,}", "Seed": str(args.seed),
    }
    uncertainty = _draws.summary_line(r.parameter_variance())
    if uncertainty:
        inputs["Input uncertainty"] = uncertainty.removeprefix("Input uncertainty: ")
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
    missed = missed_components_text(check)
    if missed:
        rep.add_text(missed)
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


def missed_components_text(check: Dict[str, Any]) -> str:
    """The components whose actual lies outside the central 90% of the scenarios, said in
    words ('' when none): a table of shares leaves the reader to spot a 100%."""
    above, below = [], []
    for cid, c in check["components"].items():
        share = c["share_of_scenarios_at_or_below_actual"]
        if share > 0.95:
            above.append(f"{cid} ({share:.0%} of the scenarios at or below the actual)")
        elif share < 0.05:
            below.append(f"{cid} ({share:.0%})")
    parts = []
    if above:
        parts.append("above the forecast's central 90%: " + ", ".join(above))
    if below:
        parts.append("below it: " + ", ".join(below))
    if not parts:
        return ""
    text = ("Outside the forecast: the actual year is " + "; ".join(parts) + ". The model is calibrated on the "
            "history and cannot know what the history does not show (docs/calibration.md, the bundled example)")
    return text + "."


def _demo_json(r: Any, s: Any, check: Dict[str, Any]) -> str:
    """The demo's JSON (stdout and summary.json), numbers written as every file writes them."""
    from ._format import json_text

    return json_text({"forecast": r.to_dict(), "settlement": s.summary, "check": check}, r._decimals)


def add_demo_parser(sub: Any) -> None:
    """The ``demo`` sub-command's arguments."""
    d = sub.add_parser("demo", help="run the bundled distributor example",
                       description="The bundled distributor example: forecast the year's payout by simulation, settle the actual year exactly, compare.")
    opt.sim_options(d, 200)
    opt.outputs(d, "print the forecast, the settlement and the check as JSON on stdout (writes no report)",
            opt.REPORT_HELP + f" (default ./{DEMO_OUT})")
    d.add_argument("--no-report", action="store_true", help="print the summary only, write no report folder")
    d.add_argument("--sensitivity-scenarios", type=opt.whole(0, _checks.MAX_SCENARIOS), default=10, metavar="N",
                   help="scenarios per run of the report's small sensitivity tornado (5 assumptions × 2 runs; "
                        "default 10; 0: none)")
    d.set_defaults(func=_cmd_demo)
