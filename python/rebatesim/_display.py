"""How results look to a person: every notebook display (``_repr_html_``) and the command
line's text summaries, built from the one style of :mod:`rebatesim._format`.

The result classes keep only a ``_repr_html_`` that calls in here, so a change of how
something is shown is made in this module, and the report (:mod:`rebatesim.report`) shares
its headline cards and tables with the notebook displays. This module reads results through
their public attributes; it imports no public module at run time (types only), so any
public module may use it.
"""

from __future__ import annotations

import decimal
import html
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Sequence, Tuple

from ._format import (
    exact_amount,
    finite,
    format_estimate,
    format_number,
    html_table,
    num,
    plain_estimate,
    raw,
    styled_cell,
    styled_table,
    text_table,
)

if TYPE_CHECKING:  # pragma: no cover
    from .comparison import Comparison
    from .demand import Model, Population
    from .forecasting import Forecast
    from .sensitivities import Sensitivity
    from .settlement import Settlement
    from .simulation import SimulationResult

__all__ = ["ADJUSTMENTS", "OUTCOME_ROWS", "NOTEBOOK_CSS", "programme_html", "settlement_html", "forecast_html",
           "sensitivity_html", "simulation_html", "comparison_html", "report_frame", "cards", "design_cells",
           "settlement_breakdown", "settlement_text", "simulation_text", "forecast_text", "population_html",
           "model_html", "roi_note"]

#: A settlement's adjustment columns and how a person reads them, in the order applied.
ADJUSTMENTS = [
    ("adj_component_cap", "component caps"),
    ("adj_exclusive_group", "exclusive groups"),
    ("adj_partner_cap", "partner cap"),
    ("adj_minimum_payout", "minimum payout"),
    ("adj_budget_cut", "budget cut"),
]

#: The outcomes of a simulation shown in tables: key, label, kind (:func:`format_number`).
OUTCOME_ROWS = [
    ("payout", "Payout (after budget)", "money"),
    ("payout_before_budget", "Payout before budget", "money"),
    ("revenue", "Revenue with the programme", "money"),
    ("revenue_counterfactual", "Revenue without the programme", "money"),
    ("incremental_revenue", "Incremental revenue", "money"),
    ("incremental_margin", "Incremental margin", "money"),
    ("roi", "ROI ((incremental margin − payout) / payout)", "ratio"),
    ("deadweight_share", "Deadweight share of payout", "percent"),
]

#: The stylesheet of the simulation and comparison displays (scoped to ``.rbs``).
NOTEBOOK_CSS = (
    "<style>.rbs{font-family:inherit;font-size:13px}.rbs table.data{border-collapse:collapse;margin:4px 0 8px}"
    ".rbs table.data th,.rbs table.data td{padding:2px 8px;border-bottom:1px solid #ddd}"
    ".rbs table.data th{font-weight:600}.rbs .l{text-align:left}.rbs .r{text-align:right;white-space:nowrap}"
    ".rbs .se{color:#6c757d;font-size:11px}.rbs table.data caption{text-align:left;color:#6c757d;caption-side:top}"
    ".rbs .cards{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}"
    ".rbs .card{border:1px solid #ddd;border-radius:4px;padding:4px 10px;min-width:140px}"
    ".rbs .card .k{color:#6c757d;font-size:11px}.rbs .card .v{font-weight:bold;font-size:15px}"
    ".rbs .card .s{color:#6c757d;font-size:11px}.rbs .card.alert .v{color:#c81e2d}</style>"
)


# ------------------------------------------------------------------ programme
def _fmt_num(v: Any) -> str:
    if v is None:
        return "—"
    d = decimal.Decimal(str(v))
    text = f"{d:,f}"
    return text


def _esc(v: Any) -> str:
    return html.escape(str(v))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: Sequence[str]) -> str:
    """A programme display's table: every cell plain text (escaped)."""
    th = "".join(styled_cell("th", _esc(h), a) for h, a in zip(header, align))
    body = "".join("<tr>" + "".join(styled_cell("td", _esc(c), a) for c, a in zip(r, align)) + "</tr>" for r in rows)
    return styled_table(body, f"<tr>{th}</tr>", margin="2px 0 8px 0")


def _reward_text(t: Mapping[str, Any], currency: str) -> str:
    if t["reward"] == "percent":
        return f"{_fmt_num(t['value'])}%"
    if t["reward"] == "per_unit":
        return f"{_fmt_num(t['value'])} {currency} per unit"
    return f"{_fmt_num(t['value'])} {currency} fixed"


def _component_lines(c: Mapping[str, Any], currency: str) -> Tuple[str, str]:
    """(one-line summary, ladder HTML or '')."""
    kind = c["kind"]
    bits: List[str] = [kind.replace("_", " ")]
    ladder = ""
    if kind == "volume":
        bits.append(f"{c['method']} on {c['basis']}")
        if c.get("basis_cap") is not None:
            bits.append(f"basis capped at {_fmt_num(c['basis_cap'])}")
        ladder = _table(
            ["tier", f"from ({c['basis']})", "reward"],
            [(t["tier"], _fmt_num(t["from"]), _reward_text(t, currency)) for t in c["tiers"]],
            ["right", "right", "right"],
        )
    elif kind == "growth":
        bits.append(f"on {c['basis']}, rate on {'the whole volume' if c['applies_to'] == 'whole' else 'growth above baseline'}")
        ladder = _table(
            ["tier", "growth from", "reward"],
            [(t["tier"], f"{_fmt_num(t['from'])}%", _reward_text(t, currency)) for t in c["tiers"]],
            ["right", "right", "right"],
        )
    elif kind == "per_unit":
        above = c.get("above")
        bits.append(f"{_fmt_num(c['amount'])} {currency} per unit")
        if above == "baseline":
            bits.append("above the partner's baseline units")
        elif above is not None:
            bits.append(f"above {_fmt_num(above)} units per period")
    elif kind == "bundle":
        mins = ", ".join(f"{m['category']} ≥ {_fmt_num(m['minimum'])}" for m in c["minimums"])
        reward = f"{_fmt_num(c['percent'])}% of those categories' revenue" if c.get("percent") is not None else f"{_fmt_num(c['fixed'])} {currency} per period"
        bits.append(f"when {mins} ({c['basis']}): {reward}")
    elif kind == "logistics":
        reward = f"{_fmt_num(c['per_order'])} {currency} per order" if c.get("per_order") is not None else f"{_fmt_num(c['percent'])}% of the order"
        bits.append(f"orders of ≥ {_fmt_num(c['min_quantity'])} units: {reward}")
    bits.append(f"measured per {c['measure']}" if c["measure"] == "period" else "measured cumulatively (true-up)")
    bits.append(f"{c['returns']} of returns")
    if c.get("cap") is not None:
        bits.append(f"cap {_fmt_num(c['cap'])} {currency} per partner")
    if c.get("exclusive_group"):
        bits.append(f"exclusive group '{c['exclusive_group']}'")
    scope = []
    for key in ("segments", "categories", "partners"):
        if c.get(key) is not None:
            scope.append(f"{key}: {', '.join(c[key])}")
    if scope:
        bits.append("limited to " + "; ".join(scope))
    return "; ".join(bits), ladder


def programme_html(d: Mapping[str, Any]) -> str:
    """The notebook display of a programme (its ``describe()`` dict): settings, periods,
    components and their ladders, inline styles only."""
    cur = d["currency"]
    periods = d["periods"]
    n = len(periods)
    labels = [p["label"] for p in periods]
    shown = ", ".join(labels) if n <= 6 else f"{', '.join(labels[:3])}, …, {labels[-1]}"
    rows = [
        ("Currency", f"{cur} ({d['decimals']} decimals, rounding {d['rounding'].replace('_', '-')})"),
        ("Periods", f"{n} × {d['period']}, {d['start']} to {d['end']}: {shown}"),
        ("Payment", f"after each period + {d['payment']['lag_days']} days" if d["payment"]["when"] == "period" else f"at the programme end + {d['payment']['lag_days']} days"),
    ]
    if d["segments"]:
        rows.append(("Segments", ", ".join(d["segments"])))
    if d["categories"]:
        rows.append(("Categories", ", ".join(d["categories"])))
    for key, label in (("budget", "Budget"), ("partner_cap", "Partner cap"), ("minimum_payout", "Minimum payout")):
        if d.get(key) is not None:
            rows.append((label, f"{_fmt_num(d[key])} {cur}"))
    parts = [
        f"<div><strong>Programme: {_esc(d['name'])}</strong>",
        _table(["", ""], rows, ["left", "left"]).replace("<thead><tr><th", "<thead style=\"display:none\"><tr><th", 1),
        f"<div><strong>{len(d['components'])} component{'s' if len(d['components']) != 1 else ''}</strong></div>",
    ]
    for c in d["components"]:
        summary, ladder = _component_lines(c, cur)
        title = _esc(c["id"]) + (f" — {_esc(c['name'])}" if c["name"] != c["id"] else "")
        parts.append(f"<div style=\"margin-top:6px\"><code>{title}</code>: {_esc(summary)}</div>{ladder}")
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------------ settlement
def settlement_html(s: "Settlement") -> str:
    """The notebook display of a settlement: exact totals with the adjustments made, and the
    ten largest lines with their explanations."""
    t = s.totals
    cur = s.currency
    esc = html.escape
    dp = s._core.decimals

    def amount(v: Any) -> str:
        return exact_amount(v, dp)

    rows = [("Calculated", t["calculated"])] + [(label.capitalize(), t[k]) for k, label in ADJUSTMENTS if t[k] != 0]
    rows.append(("Payable", t["payable"]))
    totals_html = "".join(
        "<tr>" + styled_cell("td", f"<strong>{esc(name)}</strong>" if name == "Payable" else esc(name))
        + styled_cell("td", f"{esc(amount(v))} {esc(cur)}", "right") + "</tr>"
        for name, v in rows
    )
    n_partners = s._core.partner_count
    paid = sum(p for _, _, p, _ in s._core.by_segment())
    top = _largest_lines(s, 10)
    top_html = "".join(
        "<tr>"
        + styled_cell("td", esc(str(r["partner_id"])))
        + styled_cell("td", esc(str(r["component"])))
        + styled_cell("td", esc(str(r["period_label"])))
        + styled_cell("td", str(r["tier"]), "right")
        + styled_cell("td", esc(amount(r["payable"])), "right")
        + styled_cell("td", esc(str(r["explanation"])))
        + "</tr>"
        for r in top
    )
    head = ["partner", "component", "period", "tier", "payable", "explanation"]
    th = "".join(styled_cell("th", h) for h in head)
    return (
        f"<div><strong>Settlement: {esc(s._core.programme)}</strong> — "
        f"{n_partners:,} partners ({paid:,} paid), {len(s._core):,} lines"
        + (", <em>budget binding</em>" if s.budget_binding else "")
        + styled_table(totals_html)
        + "<div>Largest lines</div>" + styled_table(top_html, f"<tr>{th}</tr>") + "</div>"
    )


def _largest_lines(s: "Settlement", n: int) -> List[Dict[str, Any]]:
    """The ``n`` lines with the largest payable in absolute value (ties by partner id, then
    line order), exact, with their explanations (built for those lines only)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = pa.table(s.lines_arrow(exact=True))
    t = t.append_column("_row", pa.array(range(t.num_rows), pa.int64()))
    t = t.append_column("_abs", pc.abs(t["payable"]))
    top = t.sort_by([("_abs", "descending"), ("partner_id", "ascending"), ("_row", "ascending")]).slice(0, n)
    rows: List[Dict[str, Any]] = top.select(["partner_id", "component", "period_label", "tier", "payable", "_row"]).to_pylist()
    for r, text in zip(rows, s._core.explanations([r["_row"] for r in rows])):
        r["explanation"] = text
    return rows


def settlement_breakdown(s: "Settlement", amount: Callable[[Any], str], *,
                         capitalise: bool = False) -> Tuple[List[List[str]], List[List[str]], List[List[str]]]:
    """The rows of a settlement's three summary tables, amounts written by ``amount``:
    totals (calculated, each adjustment made, payable), per component (kind, partners paid,
    calculated, payable) and per segment (partners, paid, payable)."""
    t = s.totals

    def label(text: str) -> str:
        return text.capitalize() if capitalise else text

    totals = [[label("calculated"), amount(t["calculated"])]]
    totals += [[label(name), amount(t[key])] for key, name in ADJUSTMENTS if t[key] != 0]
    totals.append([label("payable"), amount(t["payable"])])
    components = [[comp, kind, f"{paid:,}", amount(calculated), amount(payable)]
                  for comp, kind, paid, calculated, payable in s._core.by_component()]
    segments = [[seg or "-", f"{partners:,}", f"{paid:,}", amount(payable)]
                for seg, partners, paid, payable in s._core.by_segment()]
    return totals, components, segments


def settlement_text(s: "Settlement") -> str:
    """A human summary of a settlement for the command line: totals, adjustments, per
    component and segment."""
    dp = s._core.decimals
    cur = s.currency

    def amount(v: Any) -> str:
        return exact_amount(v, dp)

    totals, components, segments = settlement_breakdown(s, amount)
    out: List[str] = [f"{s._core.programme} ({cur}): {s._core.partner_count:,} partners, "
                      f"{len(s._core):,} lines", ""]
    out.append(text_table(["total", cur], totals, [False, True]))
    if s.budget_binding:
        out.append("(the programme budget binds: payouts were cut pro rata)")
    out.append("")
    out.append(text_table(["component", "kind", "partners paid", "calculated", "payable"], components,
                          [False, False, True, True, True]))
    out.append("")
    out.append(text_table(["segment", "partners", "paid", "payable"], segments, [False, True, True, True]))
    return "\n".join(out)


# ------------------------------------------------------------------ simulation
def cards(r: "SimulationResult") -> str:
    """A simulation's headline figures as cards: expected and P50/P95 payout, the budget
    and the chance it binds, expected ROI and incremental margin."""
    s = r.summary
    cur = html.escape(r.currency)

    def card(k: str, v: str, sub: str = "", alert: bool = False) -> str:
        return (f'<div class="card{" alert" if alert else ""}"><div class="k">{html.escape(k)}</div>'
                f'<div class="v">{v}</div><div class="s">{sub}</div></div>')

    out = [
        card("Expected payout", f"{format_number(s.loc['payout', 'mean'])} {cur}",
             f"± {format_number(s.loc['payout', 'mean_se'])} (1 s.e.)"),
        card("P50 / P95 payout", f"{format_number(s.loc['payout', 'p50'])} / {format_number(s.loc['payout', 'p95'])}",
             f"P95 ± {format_number(s.loc['payout', 'p95_se'])} {cur}"),
    ]
    if r.budget is not None:
        p, se = r.budget_binding
        out.append(card("Budget", f"{format_number(r.budget)} {cur}",
                        f"P(payout before budget &gt; budget) = {format_number(p, 'percent')} ± {format_number(se, 'percent')}",
                        alert=finite(p) and p >= 0.1))
    roi = s.loc["roi", "mean"]
    if finite(roi):
        out.append(card("Expected ROI", format_number(roi, "percent"), f"± {format_number(s.loc['roi', 'mean_se'], 'percent')}"))
    else:
        out.append(card("Expected ROI", "n/a", html.escape(roi_note(r))))
    im = s.loc["incremental_margin", "mean"]
    if finite(im):
        out.append(card("Incremental margin", f"{format_number(im)} {cur}",
                        f"± {format_number(s.loc['incremental_margin', 'mean_se'])}"))
    return '<div class="cards">' + "".join(out) + "</div>"


def simulation_html(r: "SimulationResult") -> str:
    """The notebook display of a simulation result: headline figures with standard
    errors and the budget, the summary of the main outcomes, payout per segment."""
    s = r.summary
    rows = []
    for key, label, kind in OUTCOME_ROWS:
        row = s.loc[key]
        if key in ("revenue_counterfactual",) or not finite(row["mean"]):
            continue
        rows.append([label] + [raw(format_estimate(row[st], row[st + "_se"], kind)) for st in ("mean", "p5", "p50", "p95")])
    seg = r.by_segment()
    srows = [[str(n), raw(format_estimate(x.payout_mean, x.payout_se)), format_number(x.payout_p95),
              raw(format_estimate(x.roi_mean, x.roi_se, "percent")),
              raw(format_estimate(x.deadweight_share_mean, x.deadweight_share_se, "percent"))] for n, x in seg.iterrows()]
    return (
        f'{NOTEBOOK_CSS}<div class="rbs"><strong>Simulation: {html.escape(str(r.meta["programme"]))}</strong> — '
        f"{r.n_scenarios:,} scenarios, seed {r.seed}, {html.escape(r.currency)}"
        + cards(r)
        + html_table(["Outcome", "Mean", "P5", "P50", "P95"], rows, caption="± one Monte Carlo standard error")
        + html_table(["Segment", "Mean payout", "P95 payout", "ROI", "Deadweight share"], srows)
        + "<div class=\"se\">More: .summary, .by_segment(), .by_component(), .tiers, .accrual_schedule(), "
          ".cash_schedule(), .partners, .to_excel(path)</div></div>"
    )


def design_cells(r: "SimulationResult") -> Dict[str, Any]:
    """One design's figures as table cells (``value ± se``, HTML): mean and P95 payout, the
    P95 before the budget cut and the expected cut, mean revenue, incremental margin, ROI
    and P(budget binds) (None without a budget)."""
    s = r.summary
    bb, bse = r.budget_binding
    per = r.per_scenario
    cut = (per["payout_before_budget"] - per["payout"]).to_numpy()
    n = len(cut)
    return {
        "payout_mean": raw(format_estimate(s.loc["payout", "mean"], s.loc["payout", "mean_se"])),
        "payout_p95": raw(format_estimate(s.loc["payout", "p95"], s.loc["payout", "p95_se"])),
        "payout_before_budget_p95": raw(format_estimate(s.loc["payout_before_budget", "p95"],
                                                        s.loc["payout_before_budget", "p95_se"])),
        "budget_cut": raw(format_estimate(cut.mean() if n else float("nan"),
                                          cut.std(ddof=1) / n ** 0.5 if n > 1 else float("nan"))),
        "revenue": raw(format_estimate(s.loc["revenue", "mean"], s.loc["revenue", "mean_se"])),
        "incremental_margin": raw(format_estimate(s.loc["incremental_margin", "mean"],
                                                  s.loc["incremental_margin", "mean_se"])),
        "roi": (raw(format_estimate(s.loc["roi", "mean"], s.loc["roi", "mean_se"], "percent"))
                if finite(s.loc["roi", "mean"]) else raw(f'n/a<span class="se"> ({html.escape(roi_note(r, short=True))})</span>')),
        "budget_binding": raw(format_estimate(bb, bse, "percent")) if r.budget is not None else None,
    }


def comparison_html(c: "Comparison") -> str:
    """The notebook display of a comparison: per design figures with standard errors,
    the budget, and the paired differences against the reference."""
    names = c.names
    first = c.results[names[0]]
    rows = []
    for name in names:
        r = c.results[name]
        d = design_cells(r)
        rows.append([name, d["payout_mean"], d["payout_p95"]]
                    + ([d["payout_before_budget_p95"], d["budget_cut"]] if first.budget is not None else [])
                    + [d["incremental_margin"], d["roi"], format_number(r.budget) if r.budget is not None else "none",
                       d["budget_binding"] if r.budget is not None else ""])
    drows = []
    for dname, row in c.differences.iterrows():
        drows.append([f"{dname} − {row.reference}", raw(format_estimate(row.payout_mean, row.payout_se)),
                      raw(format_estimate(row.incremental_margin_mean, row.incremental_margin_se)),
                      raw(format_estimate(row.roi_mean, row.roi_se, "percent")),
                      raw(format_estimate(row.budget_binding_mean, row.budget_binding_se, "percent"))])
    return (
        f'{NOTEBOOK_CSS}<div class="rbs"><strong>Comparison of {len(names)} designs</strong> — '
        f"{first.n_scenarios:,} scenarios each on common random numbers, seed {first.seed}, {html.escape(first.currency)}"
        + html_table(["Design", "Mean payout", "P95 payout"]
                     + (["P95 before budget", "Expected cut"] if first.budget is not None else [])
                     + ["Incremental margin", "ROI", "Budget", "P(budget binds)"], rows,
                     caption="± one Monte Carlo standard error"
                             + ("; P95 payout is after the budget cut, P95 before budget and the expected cut "
                                "(mean before − after) show what the budget holds back" if first.budget is not None else ""))
        + html_table(["Difference", "Payout", "Incremental margin", "ROI", "P(budget binds)"], drows,
                     caption="Paired differences against the first design (same scenarios for every design)")
        + "</div>"
    )


def simulation_text(r: "SimulationResult") -> str:
    """A human summary of a simulation for the command line: the main outcomes, payout per
    segment and per component."""
    s = r.summary
    dp = r._decimals
    out = [
        f"{r.meta['programme']} ({r.currency}): {r.n_scenarios:,} scenarios, seed {r.seed}"
        + (f", budget {r.budget:,.{dp}f}" if r.budget is not None else ""),
        "",
    ]
    rows = []
    for name in ["payout", "payout_before_budget", "revenue", "incremental_revenue", "incremental_margin", "roi", "deadweight_share"]:
        pct = name in ("roi", "deadweight_share")  # as the report shows them
        rows.append([name.replace("_", " ")] + [plain_estimate(num(s.loc[name, st]), num(s.loc[name, st + "_se"]), decimals=dp,
                                                               percent=pct)
                                                for st in ("mean", "p5", "p50", "p95")])
    out.append(text_table(["outcome", "mean", "P5", "P50", "P95"], rows, [False, True, True, True, True]))
    note = roi_note(r)
    if note:
        out.append(f"\nROI n/a: {note}")
    if r.budget is not None:
        p, se = r.budget_binding
        out.append(f"\nP(budget binds) = {p:.3f} ± {se:.3f}")
    out.append("")
    seg = r.by_segment()
    out.append(text_table(["segment", "mean payout", "mean revenue", "ROI", "deadweight share"],
                          [[str(i), plain_estimate(row.payout_mean, row.payout_se, decimals=dp),
                            plain_estimate(row.revenue_mean, row.revenue_se, decimals=dp),
                            plain_estimate(row.roi_mean, row.roi_se, percent=True),
                            plain_estimate(row.deadweight_share_mean, row.deadweight_share_se, percent=True)]
                           for i, row in seg.iterrows()],
                          [False, True, True, True, True]))
    out.append("")
    comp = r.by_component()
    out.append(text_table(["component", "mean payout", "P95"],
                          [[str(i), plain_estimate(row.payout_mean, row.payout_se, decimals=dp), f"{row.payout_p95:,.{dp}f}"]
                           for i, row in comp.iterrows()],
                          [False, True, True]))
    return "\n".join(out)


# ------------------------------------------------------------------ forecast
def forecast_html(f: "Forecast") -> str:
    """The notebook display of a forecast: the final payout's distribution and estimates,
    the chance of exceeding the budget, the cash schedule and the method."""
    e = f.estimates
    t = f.to_dict()["total"]

    def estimate(d: Dict[str, Any]) -> str:
        v, se = d.get("value"), d.get("se")
        if v is None:
            return "n/a"
        return f"{v:,.0f}" + (f"<br><small>± {se:,.0f}</small>" if se is not None else "")

    head = "".join(styled_cell("th", h, "right")
                   for h in ["mean", "P50", "P90", "P95", "most likely", f"constrained {e.confidence:.0%}"])
    tds = "".join(styled_cell("td", estimate(t[k]), "right")
                  for k in ["mean", "p50", "p90", "p95", "most_likely", "constrained"])
    b = f.budget_binding
    extra = f"; P(budget binds) = {b[0]:.3f} ± {b[1]:.3f}" if b is not None else ""
    cash = f.cash_schedule()
    cash_rows = "".join(
        "<tr>" + styled_cell("td", str(r.payment_date)) + styled_cell("td", html.escape(r.periods))
        + styled_cell("td", str(r.status)) + styled_cell("td", f"{r.mean:,.0f}", "right")
        + styled_cell("td", f"{r.p5:,.0f} – {r.p95:,.0f}", "right") + "</tr>"
        for r in cash.itertuples()
    )
    cash_head = "<tr><th>payment date</th><th>periods</th><th>status</th><th>expected</th><th>P5 – P95</th></tr>"
    return (
        f"<div><strong>Forecast: {html.escape(f.programme)}</strong> as of {f.as_of} — "
        f"{f.n_scenarios:,} scenarios, {f.months_observed} months of actuals, {html.escape(f.currency)}{extra}"
        + styled_table(f"<tr>{styled_cell('td', 'final payout')}{tds}</tr>", f"<tr><th></th>{head}</tr>")
        + styled_table(cash_rows, cash_head)
        + f"<details><summary>method</summary><small>{html.escape(e.method)}</small></details></div>"
    )


def forecast_text(f: "Forecast") -> str:
    """A human summary of a forecast for the command line: estimates, budget, segments,
    components, cash, accrual and the partners whose next tier is in play."""
    cur = f.currency
    dp = f._decimals
    e = f.estimates
    out = [
        f"{f.programme} ({cur}): forecast as of {f.as_of} from {f.months_observed} months of actuals, "
        f"{f.n_scenarios:,} scenarios, seed {f.seed}" + (f", budget {f.budget:,.{dp}f}" if f.budget is not None else ""),
        "",
    ]
    s = f.summary
    rows = []
    for name in ["payout", "payout_before_budget"]:
        rows.append([name.replace("_", " ")] + [plain_estimate(s.loc[name, st], s.loc[name, st + "_se"], decimals=dp)
                                                for st in ("mean", "p50", "p90", "p95")])
    out.append(text_table(["final payout", "mean", "P50", "P90", "P95"], rows, [False, True, True, True, True]))
    out.append("")
    out.append(text_table(["IFRS 15 estimate", cur], [
        ["expected value", plain_estimate(e.expected_value, e.expected_value_se, decimals=dp)],
        ["most likely amount", plain_estimate(e.most_likely, e.most_likely_se, decimals=dp)],
        [f"constrained ({e.confidence:.0%})", plain_estimate(e.constrained, e.constrained_se, decimals=dp)],
    ], [False, True]))
    b = f.budget_binding
    if b is not None:
        out.append(f"\nP(budget binds) = P(payout before budget > budget) = {b[0]:.3f} ± {b[1]:.3f}")
    for label, table in (("segment", f.by_segment()), ("component", f.by_component())):
        out.append("")
        out.append(text_table([label, "mean", "P95"],
                              [[str(i), plain_estimate(r["mean"], r["mean_se"], decimals=dp), f"{r['p95']:,.{dp}f}"]
                               for i, r in table.iterrows()], [False, True, True]))
    out.append("")
    cash = f.cash_schedule()
    out.append(text_table(["payment date", "periods", "status", "expected", "P5", "P95"],
                          [[str(r.payment_date), r.periods, r.status, f"{r.mean:,.{dp}f}", f"{r.p5:,.{dp}f}",
                            f"{r.p95:,.{dp}f}"] for r in cash.itertuples()],
                          [False, False, False, True, True, True]))
    rf = f.rollforward()
    rec = f.reconciliation()
    cols = ["settled_paid", "settled_payable", "open_accrued", "required_liability", "opening_liability", "run_rate",
            "catch_up", "change_in_estimate", "paid_in_month", "closing_liability"]
    heads = ["settled, paid", "settled, payable", "open, accrued", "required liability", "opening liability",
             "run rate", "catch-up", "change in estimate", "paid", "closing liability"]
    both = rec.join(rf.drop(columns=["booked_before", "required"]))
    out.append("")
    out.append(text_table([f"liability {f.opening_date} → {f.as_of}"] + list(both.index), [
        [h] + [f"{both.loc[c, k]:,.{dp}f}" for c in both.index] for h, k in zip(heads, cols)
    ], [False] + [True] * len(both.index)))
    out += _watch_list_text(f, dp)
    out.append("\nMethod: " + e.method)
    return "\n".join(out)


def _watch_list_text(f: "Forecast", dp: int) -> List[str]:
    """The ten partners with the most at stake whose next tier is in play (a chance between
    10% and 90%), as lines of the forecast's text summary (none when there are none)."""
    w = f.watch_list()
    if not len(w):
        return []
    live = w[(w["next_tier_probability"] > 0.1) & (w["next_tier_probability"] < 0.9)]
    live = live.sort_values(["next_tier_pays", "partner_id"], ascending=[False, True]).head(10)
    if not len(live):
        return []
    return ["", text_table(
        ["watch list (next tier in play)", "component", "tier", "shortfall", "next tier pays", "P(reach)"],
        [[r.partner_id, r.component, f"{int(r.current_tier)} → {int(r.next_tier)}", f"{r.shortfall:,.0f}",
          f"{r.next_tier_pays:,.{dp}f}", f"{r.next_tier_probability:.0%}"] for r in live.itertuples()],
        [False, False, False, True, True, True])]


# ------------------------------------------------------------------ sensitivity, report
def sensitivity_html(s: "Sensitivity") -> str:
    """The notebook display of a sensitivity analysis: the base run and, per assumption, the
    mean payout at its low and high setting and the swing."""
    cols = ["low_label", "high_label", "payout_low", "payout_high", "payout_swing", "payout_swing_se"]
    head = (f"<p><b>Sensitivity of {s.programme}</b>: {s.scenarios:,} scenarios per run, seed {s.seed}, "
            f"base mean payout {s.base['payout']:,.0f} {s.currency}</p>")
    if s.table.empty:
        return head
    table: str = s.table[cols].to_html(float_format=lambda x: f"{x:,.0f}")
    return head + table


def report_frame(page: str) -> str:
    """A report page shown in a notebook: in a sandboxed iframe, so that its CSS styles the
    report, not the notebook."""
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="" '
            'style="width:100%;height:720px;border:1px solid #ddd" title="report"></iframe>')



# ------------------------------------------------------------------ inputs
def population_html(p: "Population") -> str:
    """The notebook display of a population: partners and baselines per segment, the
    partners without a baseline (simulated at their segment's median)."""
    df = p.to_frame()
    rows = []
    for seg, g in df.groupby("segment", sort=True):
        b = g["baseline_revenue"]
        rows.append([str(seg), format_number(len(g), "count"), format_number(b.count(), "count"),
                     format_number(b.median()), format_number(b.sum()),
                     format_number(int((g["baseline_revenue"].isna() & g["baseline_units"].isna()).sum()), "count"),
                     format_number(g["margin_rate"].mean(), "percent")])
    missing = p.without_baseline()
    note = ""
    if missing:
        note = (f'<div class="se">{len(missing):,} partner(s) without a baseline: simulated at their segment\'s '
                "median baseline; growth and per-unit-above-baseline rules do not apply to them.</div>")
    return (f'{NOTEBOOK_CSS}<div class="rbs"><strong>Population</strong> — {len(p):,} partners in '
            f"{len(p.segments)} segment(s)"
            + html_table(["Segment", "Partners", "With revenue baseline", "Median baseline revenue",
                          "Total baseline revenue", "Without baseline", "Mean margin rate"], rows)
            + note + '<div class="se">More: .to_frame(), .without_baseline()</div></div>')


def model_html(m: "Model") -> str:
    """The notebook display of a demand model: its description and every section as
    written (TOML)."""
    d = m.to_dict()
    desc = d.get("description") or ""
    return (f'{NOTEBOOK_CSS}<div class="rbs"><strong>Demand model</strong>'
            + (f" — {html.escape(str(desc))}" if desc else "")
            + f'<pre style="font-size:12px;margin:4px 0">{html.escape(m.to_toml())}</pre></div>')


def roi_note(r: "SimulationResult", *, short: bool = False) -> str:
    """Why a simulation's ROI is n/a ('' when it is a number): no margin rate (in the
    partner table or the model's ``economics.margin_rate``) or no scenario pays anything."""
    s = r.summary
    if finite(s.loc["roi", "mean"]):
        return ""
    if not finite(s.loc["incremental_margin", "mean"]):
        if short:
            return "no margin rate"
        return ("no margin rate: give margin_rate in the partner table or economics.margin_rate in the model "
                "(ROI = (incremental margin − payout) / payout)")
    return "nothing paid" if short else "no scenario pays anything (ROI is per unit of payout)"
