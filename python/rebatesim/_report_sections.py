"""The sections of the result reports, as HTML: a simulation's summary, segment, component,
tier and schedule tables; a programme and how a design differs from the reference; the
inputs, the method notes, a sensitivity section and the result's files in a report."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from . import _format
from ._display import OUTCOME_ROWS, design_cells
from ._format import finite, format_estimate, format_number, html_table, raw
from ._report_charts import attainment_labels
from ._report_page import Report

if TYPE_CHECKING:  # pragma: no cover
    from .comparison import Comparison
    from .sensitivities import Sensitivity
    from .simulation import SimulationResult


def summary_table(r: "SimulationResult") -> str:
    s = r.summary
    rows = []
    for key, label, kind in OUTCOME_ROWS:
        row = s.loc[key]
        if not finite(row["mean"]):
            continue
        rows.append([label] + [raw(format_estimate(row[st], row[st + "_se"], kind)) for st in ("mean", "sd", "p5", "p50", "p95", "p99")])
    return html_table(["Outcome (" + r.currency + ")", "Mean", "SD", "P5", "P50", "P95", "P99"], rows,
                      caption="Each estimate ± its Monte Carlo standard error.")


def segment_table(r: "SimulationResult") -> str:
    seg = r.by_segment()
    tot = seg["payout_mean"].sum()
    rows = []
    for name, row in seg.iterrows():
        rows.append([str(name), raw(format_estimate(row.payout_mean, row.payout_se)),
                     format_number(row.payout_mean / tot if tot else float("nan"), "percent"),
                     format_number(row.payout_p95),
                     raw(format_estimate(row.revenue_mean, row.revenue_se)),
                     format_number(row.payout_mean / row.revenue_mean if row.revenue_mean else float("nan"), "percent"),
                     raw(format_estimate(row.incremental_margin_mean, row.incremental_margin_se)),
                     raw(format_estimate(row.roi_mean, row.roi_se, "percent")),
                     raw(format_estimate(row.deadweight_share_mean, row.deadweight_share_se, "percent"))])
    return html_table(["Segment", "Mean payout", "Share", "P95 payout", "Mean revenue", "Payout / revenue",
                       "Incremental margin", "ROI", "Deadweight share"], rows,
                      caption="ROI and deadweight share of each segment, defined as the totals' on the segment's "
                              "own payout, incremental margin and counterfactual payout (n/a: never paid).")


def component_table(r: "SimulationResult") -> str:
    comp = r.by_component()
    names: Dict[str, str] = {}
    kinds: Dict[str, str] = {}
    if r.programme is not None:
        for c in r.programme.describe().get("components", []):
            names[c.get("id")] = str(c.get("name") or "")
            kinds[c.get("id")] = str(c.get("kind") or "")
    rows = []
    for cid, row in comp.iterrows():
        rows.append([str(cid), names.get(str(cid), ""), kinds.get(str(cid), ""),
                     raw(format_estimate(row.payout_mean, row.payout_se)), format_number(row.payout_p95)])
    return html_table(["Component", "Name", "Kind", "Mean payout", "P95 payout"], rows, align=["l", "l", "l", "r", "r"])



def tier_table(r: "SimulationResult") -> str:
    by_seg = r.tiers_by_segment()
    if not by_seg.empty:
        names, _ = attainment_labels(r, by_seg)
        rows = []
        for _, row in by_seg.iterrows():
            rows.append([str(row.component), names.get(str(row.component), ""), str(row.segment),
                         "below tier 1" if row.tier == 0 else f"tier {row.tier}", str(row.threshold),
                         format_number(row.partners, "count"), format_number(row.share, "percent")])
        return html_table(["Component", "Name", "Segment", "Highest tier reached", "Threshold", "Expected partners",
                           "Share of the segment's partners"], rows, align=["l", "l", "l", "l", "l", "r", "r"],
                          caption="Expected over the scenarios; a ladder shared by several segments has one block per "
                                  "segment. P5/P95 per ladder in tiers.csv.")
    t = r.tiers
    if t.empty:
        return "<p>The programme has no tiered components.</p>"
    trows: List[Any] = []
    for _, row in t.iterrows():
        trows.append([str(row.label), str(row.component), "below tier 1" if row.tier == 0 else f"tier {row.tier}",
                      raw(format_estimate(row.mean_partners, row.mean_partners_se, "count")),
                      format_number(row.p5, "count"), format_number(row.p95, "count")])
    return html_table(["Segment / ladder", "Component", "Highest tier reached", "Mean partners", "P5", "P95"], trows,
                      align=["l", "l", "l", "r", "r", "r"])


def schedule_table(r: "SimulationResult") -> str:
    a = r.accrual_schedule()
    c = r.cash_schedule()
    months = list(dict.fromkeys(list(a.index) + list(c.index)))
    rows = []
    for m in months:
        row: List[Any] = [m]
        for df in (a, c):
            if m in df.index:
                x = df.loc[m]
                row += [raw(format_estimate(x["in_month"], x["in_month_se"])), raw(format_estimate(x["mean"], x["mean_se"])),
                        format_number(x["p10"]), format_number(x["p50"]), format_number(x["p90"])]
            else:
                row += ["", "", "", "", ""]
        rows.append(row)
    return html_table(
        ["Month", "Accrued in month", "Accrued to date", "P10", "P50", "P90",
         "Cash in month", "Cash paid to date", "P10", "P50", "P90"], rows,
        caption=f"Expected amounts ± standard error and percentiles of the amount to date ({r.currency}).",
    )


def programme_inputs(p: Any) -> str:
    """The programme as its notebook display shows it: settings, periods, components
    and their ladders (inline styles only)."""
    if p is None:
        return ""
    return f'<div class="programme">{p._repr_html_()}</div>'


def value_text(v: Any) -> str:
    """A programme setting as a reader writes it: tiers as ``from → reward``, lists joined."""
    if v is None:
        return "none"
    if isinstance(v, list) and v and all(isinstance(t, Mapping) and "from" in t for t in v):
        unit = {"percent": "%"}
        return "; ".join(f"from {t.get('from')}: {t.get('value')}{unit.get(str(t.get('reward')), ' ' + str(t.get('reward')))}"
                         for t in v)
    if isinstance(v, list):
        return ", ".join(value_text(x) for x in v) or "none"
    if isinstance(v, Mapping):
        return ", ".join(f"{k} {value_text(x)}" for k, x in v.items())
    return str(v)


def programme_differences(reference: Any, design: Any) -> List[str]:
    """How ``design`` differs from ``reference`` (two :class:`~rebatesim.Programme`), one
    sentence per difference: programme settings (budget, caps, payment, calendar), components
    added or removed, and each changed field of a component present in both (its ladder as
    one field). Names, descriptions and period labels are left out.

    >>> import rebatesim as rs
    >>> a = rs.Programme.new("A", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(80_000, "1%")])], budget=10_000)
    >>> b = rs.Programme.new("B", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(80_000, "2%")])], budget=12_000)
    >>> for line in programme_differences(a, b):
    ...     print(line)
    budget: 10000 → 12000
    component v: tiers from 80000: 1% → from 80000: 2%
    """
    ra, rb = reference.describe(), design.describe()
    skip = {"name", "description", "components", "periods"}
    out = []
    for key in [k for k in list(ra) + [k for k in rb if k not in ra] if k not in skip]:
        if ra.get(key) != rb.get(key):
            out.append(f"{key}: {value_text(ra.get(key))} → {value_text(rb.get(key))}")
    ca = {c["id"]: c for c in ra.get("components", [])}
    cb = {c["id"]: c for c in rb.get("components", [])}
    for cid in [c for c in ca if c not in cb]:
        out.append(f"component {cid} ({ca[cid].get('name') or ca[cid].get('kind')}): removed")
    for cid in [c for c in cb if c not in ca]:
        c = cb[cid]
        fields = ", ".join(f"{k} {value_text(v)}" for k, v in c.items()
                           if k not in ("id", "name") and v not in (None, [], {}))
        out.append(f"component {cid} ({c.get('name') or c.get('kind')}): added ({fields})")
    for cid in [c for c in ca if c in cb]:
        x, y = ca[cid], cb[cid]
        for key in [k for k in list(x) + [k for k in y if k not in x] if k != "name"]:
            if x.get(key) != y.get(key):
                out.append(f"component {cid}: {key} {value_text(x.get(key))} → {value_text(y.get(key))}")
    return out


def design_differences(c: "Comparison") -> str:
    """The reference in full, then each design as its differences from the reference."""
    names = c.names
    ref = c.results[names[0]].programme
    parts = [f"<h3>Reference: {html.escape(names[0])}</h3>", programme_inputs(ref)]
    for nm in names[1:]:
        p = c.results[nm].programme
        parts.append(f"<h3>Design: {html.escape(nm)}, against {html.escape(names[0])}</h3>")
        if ref is None or p is None:
            parts.append(programme_inputs(p))
            continue
        diffs = programme_differences(ref, p)
        if diffs:
            parts.append("<ul>" + "".join(f"<li>{html.escape(d)}</li>" for d in diffs) + "</ul>")
        else:
            parts.append("<p>Same settings and components as the reference.</p>")
    return "".join(parts)


METHOD_NOTES = [
    "Each scenario simulates every partner's monthly purchases under the demand model, then settles the "
    "programme on them with the same rules as the exact settlement (tiers, caps, exclusive groups, minimum "
    "payout, budget), in floating point.",
    "Every scenario is also run without the programme on the same random numbers; incremental revenue and "
    "margin, ROI and the deadweight share compare the two.",
    "± is one Monte Carlo standard error: sd/√n for means, the order-statistic binomial interval for "
    "percentiles, √(p(1−p)/n) for probabilities. More scenarios shrink it in proportion to 1/√n.",
    "Percentiles use linear interpolation between order statistics (NumPy's default). The bands of the "
    "schedules are percentiles month by month, not single scenario paths.",
    "Accrual: each period's payout (after the budget) is accrued over its months in proportion to their "
    "revenue. Cash: the payout of a period is paid on its payment date (period end or programme end plus the lag).",
    "Results are bit-identical for a given seed, whatever the number of threads.",
]


def notes(extra: Sequence[str] = ()) -> str:
    return '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in list(METHOD_NOTES) + list(extra)) + "</ul>"


def inputs_section(rep: Report, inputs: Optional[Mapping[str, Any]], model: Any) -> None:
    if inputs:
        dl = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in inputs.items())
        rep.add_html(f'<dl class="inputs">{dl}</dl>')
    if model is not None:
        try:
            text = model.to_toml()
        except Exception:  # pragma: no cover - a model always renders
            text = ""
        if text:
            rep.add_heading("Demand model", 3)
            rep.add_html(f"<pre>{html.escape(text)}</pre>")


def simulation_files(rep: Report, r: "SimulationResult", *, excel: bool, prefix: str = "") -> None:
    for name, text in r._csv_files().items():
        if name != "summary.json":
            rep.add_file(prefix + name, text)
    if excel:
        rep.add_writer(prefix + "results.xlsx", r.to_excel)


def sensitivity_section(rep: Report, s: "Sensitivity") -> None:
    rep.add_heading("Sensitivity")
    rep.add_text(
        f"Each assumption moved alone to a low and a high setting, {s.scenarios:,} scenarios per run on the same "
        "random numbers as the base run, so each effect is a paired difference with a small standard error.")
    if not s.table.empty:
        rep.add_chart("sensitivity_payout", s.tornado("payout"),
                      "Expected payout at each assumption's low and high setting; whiskers ±1.96 paired standard errors.")
        rows = []
        for name, row in s.table.iterrows():
            rows.append([str(name), str(row.low_label), str(row.high_label),
                         raw(format_estimate(row.payout_low_diff, row.payout_low_diff_se)),
                         raw(format_estimate(row.payout_high_diff, row.payout_high_diff_se)),
                         raw(format_estimate(row.payout_swing, row.payout_swing_se))])
        rep.add_table(["Assumption", "Low", "High", "Payout change at low", "Payout change at high", "Swing"], rows,
                      align=["l", "l", "l", "r", "r", "r"])
        rep.add_file("sensitivity.csv", _format.csv_text(s.table, s._decimals))


def design_table(c: "Comparison", has_budget: bool) -> str:
    """A comparison's headline figures per design (with the budget's columns when a design has one)."""
    rows = []
    for name in c.names:
        d = design_cells(c.results[name])
        rows.append([name, d["payout_mean"], d["payout_p95"]]
                    + ([d["payout_before_budget_p95"], d["budget_cut"]] if has_budget else [])
                    + [d["revenue"], d["incremental_margin"], d["roi"],
                       d["budget_binding"] if d["budget_binding"] is not None else "no budget"])
    return html_table(["Design", "Mean payout", "P95 payout"]
                      + (["P95 before budget", "Expected budget cut"] if has_budget else [])
                      + ["Mean revenue", "Incremental margin", "ROI", "P(budget binds)"], rows,
                      caption=f"Per design, {c.results[c.names[0]].currency}; ± one standard error."
                              + (" The P95 payout is after the budget cut (designs held at the budget show "
                                 "the budget); the P95 before it and the expected cut (mean payout before the "
                                 "budget − after it) show the risk the budget absorbs." if has_budget else ""))


def differences_table(c: "Comparison") -> str:
    """The paired differences of each design against the reference, with their standard errors."""
    drows = []
    for dname, row in c.differences.iterrows():
        drows.append([f"{dname} − {row.reference}",
                      raw(format_estimate(row.payout_mean, row.payout_se)),
                      raw(format_estimate(row.revenue_mean, row.revenue_se)),
                      raw(format_estimate(row.incremental_margin_mean, row.incremental_margin_se)),
                      raw(format_estimate(row.roi_mean, row.roi_se, "percent")),
                      raw(format_estimate(row.deadweight_share_mean, row.deadweight_share_se, "percent")),
                      raw(format_estimate(row.budget_binding_mean, row.budget_binding_se, "percent"))])
    return html_table(["Difference", "Payout", "Revenue", "Incremental margin", "ROI", "Deadweight share",
                       "P(budget binds)"], drows,
                      caption="Paired differences on the same scenarios: their standard errors are much smaller "
                              "than those of each design alone.")


def segments_by_design_table(c: "Comparison") -> str:
    """Mean payout and ROI per segment and design."""
    names = c.names
    seg_rows = []
    segs = list(c.results[names[0]].meta["segments"])
    seg_frames = {nm: c.results[nm].by_segment() for nm in names}
    for sg in segs:
        cells: List[Any] = [sg]
        for nm in names:
            f = seg_frames[nm]
            cells.append(raw(format_estimate(f.loc[sg, "payout_mean"], f.loc[sg, "payout_se"])) if sg in f.index else "")
        for nm in names:
            f = seg_frames[nm]
            cells.append(raw(format_estimate(f.loc[sg, "roi_mean"], f.loc[sg, "roi_se"], "percent")) if sg in f.index else "")
        seg_rows.append(cells)
    return html_table(["Segment"] + [f"{nm}: mean payout" for nm in names] + [f"{nm}: ROI" for nm in names],
                      seg_rows, caption="ROI of each segment: (its incremental margin − its payout) / its payout.")
