"""Report folders: summary tables, charts and one self-contained HTML page.

:func:`simulation_report` and :func:`comparison_report` turn results into a
:class:`Report`: a title, sections of tables and charts, and the data files
behind them. :meth:`Report.write` writes, atomically (see
:mod:`rebatesim.outputs`), a folder holding

- ``summary.json`` and ``summary.csv`` (and the other tables as CSV),
- every chart as ``<name>.svg`` and ``<name>.png``,
- ``results.xlsx`` (the workbook of :meth:`SimulationResult.to_excel
  <rebatesim.SimulationResult.to_excel>`),
- ``report.html``: one page with inline SVG charts and embedded CSS that refers
  to no other file and no network resource, so it can be opened anywhere or
  attached to an email.

The ``rebatesim simulate|compare|demo --out DIR`` commands write these folders.

>>> import os, tempfile
>>> import rebatesim as rs
>>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
...                      [rs.volume("vol", [(20_000, "1%"), (40_000, "2%")])], segments=["small"])
>>> pop = rs.Population.synthetic({"small": {"count": 100, "median_baseline": 100_000, "dispersion": 0.5}}, seed=1)
>>> r = rs.simulate(p, pop, {"noise": {"sigma": 0.2}}, scenarios=50, seed=7, progress=False)
>>> rep = rs.simulation_report(r)
>>> sorted(rep.charts)
['accrual_cash', 'payout_distribution', 'tier_attainment']
>>> folder = rep.write(os.path.join(tempfile.mkdtemp(), "report"))
>>> "report.html" in os.listdir(folder) and "payout_distribution.png" in os.listdir(folder)
True
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from . import _format
from ._display import cards, settlement_breakdown
from ._format import exact_amount, finite, format_estimate, format_number, html_table, num
from ._report_charts import months_of, risk_return_chart, simulation_charts
from ._report_page import Report
from ._report_sections import (
    component_table,
    design_differences,
    design_table,
    differences_table,
    inputs_section,
    notes,
    programme_differences,
    programme_inputs,
    schedule_table,
    segment_table,
    segments_by_design_table,
    sensitivity_section,
    simulation_files,
    summary_table,
    tier_table,
)

if TYPE_CHECKING:  # pragma: no cover
    from .comparison import Comparison
    from .forecasting import Forecast
    from .sensitivities import Sensitivity
    from .settlement import Settlement
    from .simulation import SimulationResult

# The page (Report) is in _report_page, the sections of a simulation in _report_sections and its
# charts in _report_charts. html_table, format_estimate and format_number live in rebatesim._format
# (one style for every table a person reads) and stay importable from here, where they were
# documented, as do simulation_charts and programme_differences.
__all__ = ["Report", "simulation_report", "comparison_report", "settlement_section", "programme_differences",
           "forecast_report", "forecast_close_section", "html_table", "format_estimate", "format_number"]

PathLike = Union[str, "os.PathLike[str]"]


def simulation_report(
    r: "SimulationResult",
    *,
    title: Optional[str] = None,
    inputs: Optional[Mapping[str, Any]] = None,
    model: Any = None,
    sensitivity: Optional["Sensitivity"] = None,
    excel: bool = True,
) -> Report:
    """The report of one simulation: headline figures with standard errors, the
    payout distribution, tier attainment and accrual/cash charts, tables of the
    summary, per segment, per component, tier attainment and the monthly schedules,
    the inputs used (``inputs``: label → text; ``model``: the demand model) and the
    method notes; optionally a ``sensitivity`` tornado. Files: ``summary.json``,
    ``summary.csv`` and the tables of :meth:`~rebatesim.SimulationResult.to_csv`,
    ``results.xlsx`` (``excel=True``)."""
    rep = Report(title or f"Rebate forecast: {r.meta['programme']}",
                 subtitle=f"{r.n_scenarios:,} Monte Carlo scenarios, seed {r.seed}, amounts in {r.currency}")
    charts_ = simulation_charts(r)
    rep.add_html(cards(r))
    rep.add_chart("payout_distribution", charts_["payout_distribution"],
                  "Total payout per scenario with its mean, median (P50), P95 and the budget.")
    rep.add_heading("Summary")
    rep.add_html(summary_table(r))
    rep.add_heading("Accrual and cash schedule")
    rep.add_chart("accrual_cash", charts_["accrual_cash"],
                  "Liability accrued and cash paid to date at each month end: median line, P25–P75 and P10–P90 bands.")
    rep.add_html(schedule_table(r))
    rep.add_heading("By segment")
    rep.add_html(segment_table(r))
    rep.add_heading("By component")
    rep.add_html(component_table(r))
    rep.add_heading("Tier attainment")
    if "tier_attainment" in charts_:
        rep.add_chart("tier_attainment", charts_["tier_attainment"],
                      "Expected number of partners whose highest tier reached is each tier, per ladder.")
    rep.add_html(tier_table(r))
    if sensitivity is not None:
        sensitivity_section(rep, sensitivity)
    rep.add_heading("Inputs")
    inputs_section(rep, inputs, model if model is not None else r.model)
    rep.add_html(programme_inputs(r.programme))
    rep.add_heading("Method")
    rep.add_html(notes())
    simulation_files(rep, r, excel=excel)
    rep.add_file("summary.json", r.to_json() + "\n")
    return rep


def comparison_report(
    c: "Comparison",
    *,
    title: Optional[str] = None,
    inputs: Optional[Mapping[str, Any]] = None,
    model: Any = None,
    excel: bool = True,
) -> Report:
    """The report of a design comparison: per design headline figures, the payout
    distributions side by side with expected ROI, risk and return, the accrued
    liability per design, tables of the per-design summary, the paired differences
    against the reference, payout per segment and design, tier attainment per design,
    the programmes and inputs used, and the method notes. Files: ``summary.json``,
    ``summary.csv`` (per design), ``differences.csv``, ``segments.csv``,
    ``results.xlsx``."""
    from . import charts

    names = c.names
    first = c.results[names[0]]
    cur = first.currency
    budgets = {r.budget for r in c.results.values()}
    budget = budgets.pop() if len(budgets) == 1 else None
    n = first.n_scenarios
    rep = Report(title or "Programme design comparison",
                 subtitle=f"{len(names)} designs on the same {n:,} scenarios (common random numbers), seed {first.seed}, amounts in {cur}")
    summ = c.summary
    has_budget = any(r.budget is not None for r in c.results.values())
    rep.add_html(design_table(c, has_budget))
    rep.add_chart("design_comparison", charts.design_comparison(
        {nm: c.results[nm].payout for nm in names}, currency=cur,
        roi={nm: num(summ.loc[nm, "roi_mean"]) for nm in names if finite(summ.loc[nm, "roi_mean"])},
        budget=budget, title="Payout by design", subtitle=f"{n:,} scenarios per design, common random numbers"),
        "Distribution of the total payout of each design, with the budget and each design's expected ROI.")
    rep.add_heading("Differences against the reference")
    rep.add_html(differences_table(c))
    rr = risk_return_chart(c, budget, has_budget)
    if rr is not None:
        rep.add_chart("risk_return", *rr)
    rep.add_heading("Accrued liability by design")
    series = {}
    for nm in names:
        series[nm] = c.results[nm].accrual_schedule()[["p10", "p25", "p50", "p75", "p90"]]
    lengths = {len(v) for v in series.values()}
    if len(lengths) == 1:
        rep.add_chart("accrual_by_design", charts.accrual_fan(
            months_of(first, lengths.pop()), series, currency=cur, budget=budget,
            title="Accrued liability by design", subtitle="Median, P25–P75 and P10–P90 of the liability to date"),
            "The liability each design builds up through the year.")
    rep.add_heading("By segment")
    rep.add_html(segments_by_design_table(c))
    rep.add_heading("Tier attainment by design")
    for nm in names:
        rep.add_heading(nm, 3)
        rep.add_html(tier_table(c.results[nm]))
    rep.add_heading("Inputs")
    inputs_section(rep, inputs, model if model is not None else first.model)
    rep.add_html(design_differences(c))
    rep.add_heading("Method")
    rep.add_html(notes(["All designs run on the same scenarios (common random numbers): every design sees the same "
                         "demand draws, so differences between designs are measured precisely."]))
    rep.add_file("summary.json", c.to_json() + "\n")
    for name, text in c._csv_files().items():
        rep.add_file(name, text)
    if excel:
        rep.add_writer("results.xlsx", c.to_excel)
    return rep


def settlement_section(rep: Report, s: "Settlement", *, heading: str = "Settlement of the actual year") -> None:
    """Append an exact settlement's totals, per component and per segment (exact, at the
    currency's minor unit)."""
    def exact(v: Any) -> str:
        # the Decimal itself at the currency's decimals, not through a float; a typographic minus
        text = exact_amount(v, s._core.decimals)
        return "\u2212" + text[1:] if text.startswith("-") else text

    totals, components, segments = settlement_breakdown(s, exact, capitalise=True)
    rep.add_heading(heading)
    rep.add_html(html_table(["Exact totals", s.currency], totals, caption="Exact, to the minor unit of the currency."))
    rep.add_html(html_table(["Component", "Kind", "Partners paid", "Calculated", "Payable"], components,
                            align=["l", "l", "r", "r", "r"]))
    rep.add_html(html_table(["Segment", "Partners", "Paid", "Payable"], segments))


def forecast_close_section(rep: Report, f: "Forecast", *, prior: Any = None,
                           heading: str = "Month-end close: reconciliation and roll-forward") -> None:
    """Append a forecast's month-end close: the reconciliation of the required liability
    (settled and paid, settled and payable, open periods expected / constrained / accrued)
    and the liability roll-forward from the opening date (opening, run rate, catch-up, change
    in estimate, paid, closing), per component and in total (``docs/close.md``). ``prior``:
    what was booked before, as :meth:`Forecast.rollforward` takes it."""
    dp = f._decimals

    def money(v: float) -> str:
        text = f"{v:,.{dp}f}"
        return "\u2212" + text[1:] if text.startswith("-") else text

    rec = f.reconciliation(prior=prior)
    rf = f.rollforward(prior=prior)
    rep.add_heading(heading)
    rep.add_html(html_table(
        ["Component", "Settled, paid", "Settled, payable", "Open: expected", "Open: constrained", "Open: accrued",
         "Required liability", "Booked before"],
        [[str(c)] + [money(r[k]) for k in ("settled_paid", "settled_payable", "open_expected", "open_constrained",
                                           "open_accrued", "required_liability", "booked_before")]
         for c, r in rec.iterrows()],
        caption=f"Reconciliation at {f.as_of}, {f.currency}: closed periods at the settlement of the actuals; "
                f"open periods at the expected value, recognised on sales to date; constrained at {f.confidence:.0%}."))
    rep.add_html(html_table(
        ["Component", "Opening liability", "Run rate", "Catch-up", "Change in estimate", "Paid", "Closing liability"],
        [[str(c)] + [money(r[k]) for k in ("opening_liability", "run_rate", "catch_up", "change_in_estimate",
                                           "paid_in_month", "closing_liability")]
         for c, r in rf.iterrows()],
        caption=f"Liability roll-forward {f.opening_date} → {f.as_of}, {f.currency}: opening + run rate + catch-up + "
                "change in estimate − paid = closing."))


def forecast_report(f: "Forecast", *, prior: Any = None, title: Optional[str] = None) -> Report:
    """A report of a forecast for the month-end close: the IFRS 15 estimates, the
    reconciliation and roll-forward (:func:`forecast_close_section`), the summary journal and
    the cash schedule; the tables as CSV alongside."""
    rep = Report(title or f"Rebate accrual: {f.programme}", subtitle=f"as of {f.as_of}")
    e = f.estimates
    dp = f._decimals
    rep.add_heading("IFRS 15 estimates of the final payout")
    rep.add_html(html_table(["Estimate", f.currency], [
        ["Expected value", f"{e.expected_value:,.{dp}f} ± {e.expected_value_se:,.{dp}f}"],
        ["Most likely amount", f"{e.most_likely:,.{dp}f} ± {e.most_likely_se:,.{dp}f}"],
        [f"Constrained ({e.confidence:.0%})", f"{e.constrained:,.{dp}f} ± {e.constrained_se:,.{dp}f}"],
    ] + ([["P(budget binds)", f"{f.budget_binding[0]:.3f} ± {f.budget_binding[1]:.3f}"]] if f.budget_binding else []),
        caption=e.method))
    forecast_close_section(rep, f, prior=prior)
    j = f.journal_summary()
    rep.add_heading("Journal: summary entry per component")
    rep.add_html(html_table(["Component", "Debit", "Credit", "Amount"],
                            [[r.component, r.debit_account, r.credit_account, f"{r.amount:,.{dp}f}"]
                             for r in j.itertuples()], align=["l", "l", "l", "r"]))
    for name, df in f._tables().items():
        rep.add_file(f"{name}.csv", _format.csv_text(df, dp, index=name in ("summary", "estimates", "partners",
                                                                                "segments", "components",
                                                                                "reconciliation", "rollforward"),
                                                     default=f._default(name)))
    return rep
