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

import datetime as _dt
import html
import os
import pathlib
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _format
from ._display import OUTCOME_ROWS, cards, design_cells, report_frame, settlement_breakdown
from ._format import exact_amount, finite, format_estimate, format_number, html_table, num, raw
from ._version import __version__
from .charts import Chart
from .outputs import AtomicFolder

if TYPE_CHECKING:  # pragma: no cover
    from .comparison import Comparison
    from .forecasting import Forecast
    from .sensitivities import Sensitivity
    from .settlement import Settlement
    from .simulation import SimulationResult

# html_table, format_estimate and format_number live in rebatesim._format (one style for every
# table a person reads) and stay importable from here, where they were documented.
__all__ = ["Report", "simulation_report", "comparison_report", "settlement_section", "programme_differences",
           "forecast_report", "forecast_close_section", "html_table", "format_estimate", "format_number"]

PathLike = Union[str, "os.PathLike[str]"]


_CSS = """
:root { --ink:#212529; --muted:#5f6670; --rule:#dee2e6; --band:#f6f7f9; --accent:#4e79a7; --alert:#c81e2d; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--ink); background: #fff;
       font: 14px/1.45 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 6px 0; }
.sub { color: var(--muted); margin-bottom: 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px; min-width: 170px; background: var(--band); }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.card .v { font-size: 20px; font-weight: bold; margin-top: 2px; white-space: nowrap; }
.card .s { color: var(--muted); font-size: 12px; }
.card.alert .v { color: var(--alert); }
.tw { overflow-x: auto; max-width: 100%; }
table.data { border-collapse: collapse; margin: 6px 0 14px; font-variant-numeric: tabular-nums; }
table.data caption { text-align: left; color: var(--muted); padding: 2px 0 4px; caption-side: top; }
table.data th, table.data td { padding: 3px 10px; border-bottom: 1px solid var(--rule); vertical-align: top; }
table.data th { background: var(--band); font-weight: 600; border-bottom: 2px solid var(--rule); }
table.data tbody tr:nth-child(even) td { background: #fbfbfc; }
.l { text-align: left; } .r { text-align: right; white-space: nowrap; }
.se { color: var(--muted); font-size: 12px; }
figure { margin: 12px 0 20px; }
figure svg { width: 100%; max-width: 960px; height: auto; display: block; border: 1px solid var(--rule); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.notes li { margin: 4px 0; }
dl.inputs { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0; }
dl.inputs dt { color: var(--muted); } dl.inputs dd { margin: 0; }
pre { background: var(--band); border: 1px solid var(--rule); padding: 8px 10px; overflow-x: auto; font-size: 12px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
"""


def _inline_svg(svg: str) -> str:
    """A chart's SVG document as an element to embed in HTML: no XML prologue, a
    viewBox so it scales with the page, no fixed size."""
    text = svg.strip()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2:].lstrip()
    head_end = text.index(">")
    head = text[:head_end]
    import re

    w = re.search(r'\swidth="([\d.]+)"', head)
    h = re.search(r'\sheight="([\d.]+)"', head)
    if w and h and "viewBox" not in head:
        head = head + f' viewBox="0 0 {w.group(1)} {h.group(1)}"'
    head = re.sub(r'\s(width|height)="[\d.]+(px)?"', "", head)
    return head + ' role="img" preserveAspectRatio="xMidYMid meet"' + text[head_end:]


class Report:
    """A report: title, sections of HTML (tables, text), charts and data files.

    Build one with :func:`simulation_report` or :func:`comparison_report`, add
    your own sections with :meth:`add_html`, :meth:`add_table` and
    :meth:`add_chart`, then :meth:`write` the folder or take :meth:`to_html`.

    >>> from rebatesim.report import Report
    >>> from rebatesim import charts
    >>> rep = Report("Rebate forecast", subtitle="2027")
    >>> rep.add_chart("dist", charts.payout_distribution([1.0, 2.0, 3.0], currency="EUR"), "Payout")
    >>> rep.add_file("summary.csv", "outcome,mean\\npayout,2\\n")
    >>> "<svg" in rep.to_html() and "http://" not in rep.to_html().split("<svg", 1)[0]
    True
    """

    def __init__(self, title: str, *, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self.parts: List[str] = []
        self.charts: Dict[str, Chart] = {}
        self.files: Dict[str, Union[str, bytes]] = {}
        self.writers: Dict[str, Callable[[pathlib.Path], Any]] = {}

    # ------------------------------------------------------------- building
    def add_html(self, fragment: str) -> None:
        """Append an HTML fragment (trusted: escape your own text)."""
        self.parts.append(fragment)

    def add_heading(self, text: str, level: int = 2) -> None:
        """Append a heading."""
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def add_text(self, text: str) -> None:
        """Append a paragraph of plain text."""
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def add_table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], **kw: Any) -> None:
        """Append a table (see :func:`html_table`)."""
        self.parts.append(html_table(header, rows, **kw))

    def add_chart(self, name: str, chart: Chart, caption: str = "") -> None:
        """Append a chart inline; :meth:`write` saves it as ``name.svg`` and ``name.png``."""
        if name in self.charts:
            raise ValueError(f"a chart named {name!r} is already in the report")
        self.charts[name] = chart
        self.parts.append(f"<!--chart:{name}-->" + (f"<!--caption:{html.escape(caption)}-->" if caption else ""))

    def add_file(self, name: str, content: Union[str, bytes]) -> None:
        """Add a data file written next to ``report.html``."""
        self.files[name] = content

    def add_writer(self, name: str, write: Callable[[pathlib.Path], Any]) -> None:
        """Add a file produced by ``write(path)`` (e.g. an Excel workbook)."""
        self.writers[name] = write

    # ------------------------------------------------------------- output
    def to_html(self) -> str:
        """The report as one self-contained HTML page (inline SVG charts, embedded CSS)."""
        body: List[str] = []
        for part in self.parts:
            if part.startswith("<!--chart:"):
                name = part[len("<!--chart:"): part.index("-->")]
                cap = ""
                if "<!--caption:" in part:
                    c = part[part.index("<!--caption:") + len("<!--caption:"):]
                    cap = c[: c.index("-->")]
                svg = _inline_svg(self.charts[name].to_svg())
                body.append(
                    f'<figure id="{html.escape(name)}">{svg}'
                    + (f"<figcaption>{cap}</figcaption>" if cap else "")
                    + "</figure>"
                )
            else:
                body.append(part)
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(self.title)}</h1>\n"
            + (f'<p class="sub">{html.escape(self.subtitle)}</p>\n' if self.subtitle else "")
            + "\n".join(body)
            + f"\n<footer>Made with rebatesim {html.escape(__version__)} on {stamp}. "
            "Every figure is a Monte Carlo estimate unless marked exact; ± is one standard error.</footer>\n"
            "</body>\n</html>\n"
        )

    def write(self, directory: PathLike, *, force: bool = False, png_scale: float = 2.0) -> pathlib.Path:
        """Write the report folder atomically: data files, each chart as SVG and PNG
        (at ``png_scale`` × its size), ``report.html``. An existing non-empty folder is
        replaced only with ``force`` (the old one survives any failure). Returns the
        folder's absolute path."""
        with AtomicFolder(directory, force=force) as f:
            for name, content in self.files.items():
                if isinstance(content, bytes):
                    f.write_bytes(name, content)
                else:
                    f.write_text(name, content)
            for name, write in self.writers.items():
                write(f.path(name))
            for name, chart in self.charts.items():
                f.write_text(f"{name}.svg", chart.to_svg())
                f.write_bytes(f"{name}.png", chart.to_png(png_scale))
            f.write_text("report.html", self.to_html())
        return f.target

    def _repr_html_(self) -> str:
        return report_frame(self.to_html())

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {len(self.charts)} charts, {len(self.files) + len(self.writers)} files>"


# ------------------------------------------------------------ result sections
def _summary_table(r: "SimulationResult") -> str:
    s = r.summary
    rows = []
    for key, label, kind in OUTCOME_ROWS:
        row = s.loc[key]
        if not finite(row["mean"]):
            continue
        rows.append([label] + [raw(format_estimate(row[st], row[st + "_se"], kind)) for st in ("mean", "sd", "p5", "p50", "p95", "p99")])
    return html_table(["Outcome (" + r.currency + ")", "Mean", "SD", "P5", "P50", "P95", "P99"], rows,
                      caption="Each estimate ± its Monte Carlo standard error.")


def _segment_table(r: "SimulationResult") -> str:
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


def _component_table(r: "SimulationResult") -> str:
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


def _short_amount(text: str) -> str:
    """A threshold as a legend shows it: 25000 → 25k, 1500000 → 1.5M, 5% stays."""
    try:
        x = float(text.rstrip("%"))
    except ValueError:
        return text
    if text.endswith("%"):
        return text
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:,.3g}{unit}"
    return f"{x:,.0f}"


def _attainment_labels(r: "SimulationResult", by_seg: Any) -> Tuple[Dict[str, str], Dict[Tuple[str, str], str]]:
    """For the per-segment tier attainment: each ladder's component label and, per (ladder,
    segment), the chart's series label: the segment (with the component when several
    ladders serve it) and the ladder's thresholds (``installer volume: 25k / 50k / 100k``)."""
    names: Dict[str, str] = {}
    if r.programme is not None:
        for c in r.programme.describe().get("components", []):
            names[str(c.get("id"))] = str(c.get("name") or c.get("id"))
    ladders_of: Dict[str, List[str]] = {}
    for comp, seg in by_seg[["component", "segment"]].drop_duplicates().itertuples(index=False):
        ladders_of.setdefault(str(seg), []).append(str(comp))
    legend: Dict[Tuple[str, str], str] = {}
    for comp, seg in by_seg[["component", "segment"]].drop_duplicates().itertuples(index=False):
        rows = by_seg[(by_seg.component == comp) & (by_seg.segment == seg) & (by_seg.tier > 0)]
        thresholds = " / ".join(_short_amount(str(x).lstrip("≥ ")) for x in rows.threshold)
        who = str(seg) if len(ladders_of[str(seg)]) == 1 else f"{seg}, {comp}"
        legend[(str(comp), str(seg))] = f"{who}: {thresholds}" if thresholds else who
    return names, legend


def _tier_table(r: "SimulationResult") -> str:
    by_seg = r.tiers_by_segment()
    if not by_seg.empty:
        names, _ = _attainment_labels(r, by_seg)
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


def _schedule_table(r: "SimulationResult") -> str:
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


def _programme_inputs(p: Any) -> str:
    """The programme as its notebook display shows it: settings, periods, components
    and their ladders (inline styles only)."""
    if p is None:
        return ""
    return f'<div class="programme">{p._repr_html_()}</div>'


def _value_text(v: Any) -> str:
    """A programme setting as a reader writes it: tiers as ``from → reward``, lists joined."""
    if v is None:
        return "none"
    if isinstance(v, list) and v and all(isinstance(t, Mapping) and "from" in t for t in v):
        unit = {"percent": "%"}
        return "; ".join(f"from {t.get('from')}: {t.get('value')}{unit.get(str(t.get('reward')), ' ' + str(t.get('reward')))}"
                         for t in v)
    if isinstance(v, list):
        return ", ".join(_value_text(x) for x in v) or "none"
    if isinstance(v, Mapping):
        return ", ".join(f"{k} {_value_text(x)}" for k, x in v.items())
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
            out.append(f"{key}: {_value_text(ra.get(key))} → {_value_text(rb.get(key))}")
    ca = {c["id"]: c for c in ra.get("components", [])}
    cb = {c["id"]: c for c in rb.get("components", [])}
    for cid in [c for c in ca if c not in cb]:
        out.append(f"component {cid} ({ca[cid].get('name') or ca[cid].get('kind')}): removed")
    for cid in [c for c in cb if c not in ca]:
        c = cb[cid]
        fields = ", ".join(f"{k} {_value_text(v)}" for k, v in c.items()
                           if k not in ("id", "name") and v not in (None, [], {}))
        out.append(f"component {cid} ({c.get('name') or c.get('kind')}): added ({fields})")
    for cid in [c for c in ca if c in cb]:
        x, y = ca[cid], cb[cid]
        for key in [k for k in list(x) + [k for k in y if k not in x] if k != "name"]:
            if x.get(key) != y.get(key):
                out.append(f"component {cid}: {key} {_value_text(x.get(key))} → {_value_text(y.get(key))}")
    return out


def _design_differences(c: "Comparison") -> str:
    """The reference in full, then each design as its differences from the reference."""
    names = c.names
    ref = c.results[names[0]].programme
    parts = [f"<h3>Reference: {html.escape(names[0])}</h3>", _programme_inputs(ref)]
    for nm in names[1:]:
        p = c.results[nm].programme
        parts.append(f"<h3>Design: {html.escape(nm)}, against {html.escape(names[0])}</h3>")
        if ref is None or p is None:
            parts.append(_programme_inputs(p))
            continue
        diffs = programme_differences(ref, p)
        if diffs:
            parts.append("<ul>" + "".join(f"<li>{html.escape(d)}</li>" for d in diffs) + "</ul>")
        else:
            parts.append("<p>Same settings and components as the reference.</p>")
    return "".join(parts)


_METHOD_NOTES = [
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


def _notes(extra: Sequence[str] = ()) -> str:
    return '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in list(_METHOD_NOTES) + list(extra)) + "</ul>"


def _inputs_section(rep: Report, inputs: Optional[Mapping[str, Any]], model: Any) -> None:
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


# ----------------------------------------------------------------- charts
def _months_of(r: "SimulationResult", n: int) -> List[str]:
    labels = r._month_labels(n)
    return labels if r.programme is not None else [f"{2000 + i // 12:04d}-{i % 12 + 1:02d}" for i in range(n)]


def simulation_charts(r: "SimulationResult", *, name: Optional[str] = None) -> Dict[str, Chart]:
    """The charts of one simulation: ``payout_distribution``, ``tier_attainment``
    (when the programme has ladders) and ``accrual_cash`` (the fan of the accrued
    liability and the cash paid to date)."""
    from . import charts

    title_name = name or r.meta["programme"]
    sub = f"{title_name}: {r.n_scenarios:,} scenarios, seed {r.seed}"
    dist_sub = sub
    if r.budget is not None:
        p, _ = r.budget_binding
        if finite(p) and p > 0:
            # the payouts are after the budget: a binding budget shows as a pile at the budget line
            dist_sub += f" · the budget binds in {p:.0%} of scenarios (payout held at the budget)"
    out: Dict[str, Chart] = {
        "payout_distribution": charts.payout_distribution(
            r.payout, currency=r.currency, budget=r.budget, title="Payout distribution", subtitle=dist_sub),
    }
    by_seg = r.tiers_by_segment()
    t = r.tiers
    if not by_seg.empty:
        _, legend = _attainment_labels(r, by_seg)
        width = int(by_seg.tier.max())
        cols = ["Below tier 1"] + [f"Tier {k}" for k in range(1, width + 1)]
        import pandas as pd

        g = pd.DataFrame(np.nan, index=list(dict.fromkeys(legend.values())), columns=cols)
        for _, row in by_seg.iterrows():
            g.loc[legend[(row.component, row.segment)], cols[int(row.tier)]] = row.partners
        out["tier_attainment"] = charts.tier_attainment(
            g, title="Partners by highest tier reached, per segment",
            subtitle=f"{title_name}: expected partners per tier; each ladder's tier thresholds in the legend")
    elif not t.empty:
        t = t[t.tier > 0]
        # segments in the result's segment order (a segment keeps its colour), then other ladders
        found = list(dict.fromkeys(t.label))
        segs = [str(x) for x in r.meta["segments"]]
        labels = [x for x in segs if x in found] + [x for x in found if x not in segs]
        width = int(t.tier.max())
        cols = [f"Tier {k}" for k in range(1, width + 1)]

        def grid(col: str) -> Any:
            import pandas as pd

            g = pd.DataFrame(np.nan, index=labels, columns=cols)  # NaN: the ladder has no such tier
            for _, row in t.iterrows():
                cell = g.loc[row.label, f"Tier {row.tier}"]
                g.loc[row.label, f"Tier {row.tier}"] = row[col] if cell != cell else cell + row[col]
            return g

        out["tier_attainment"] = charts.tier_attainment(
            grid("mean_partners"), low=grid("p5"), high=grid("p95"), interval_label="P5–P95 over scenarios",
            title="Partners by highest tier reached",
            subtitle=f"{title_name}: expected partners per tier and ladder, whiskers P5–P95 over scenarios")
    c = r.cash_schedule()
    n = len(c)
    months = _months_of(r, n)

    def pad(df: Any) -> Any:
        import pandas as pd

        cols = ["p10", "p25", "p50", "p75", "p90"]
        v = df[cols].to_numpy()
        if len(v) < n:  # after the last programme month nothing more accrues
            v = np.vstack([v, np.repeat(v[-1:], n - len(v), axis=0)])
        return pd.DataFrame(v, columns=cols)

    out["accrual_cash"] = charts.accrual_fan(
        months, {"Liability (accrued − paid)": pad(_open_liability(r, n)), "Cash paid": pad(c)}, currency=r.currency,
        budget=r.budget, title="Rebate liability and cash paid to date",
        subtitle=f"{title_name}: median, P25–P75 and P10–P90 by month end; the liability falls when a period is paid")
    return out



def _open_liability(r: "SimulationResult", months: int) -> Any:
    """The refund liability at each month end per scenario (accrued to date − paid to date),
    as bands over scenarios (p10..p90): it rises as partners buy and falls when cash is paid."""
    import pandas as pd

    from . import _core

    acc = np.asarray(r._mat["accrual"], dtype=np.float64)
    cash = np.asarray(r._mat["cash"], dtype=np.float64)
    width = max(months, acc.shape[1], cash.shape[1])
    diff = np.zeros((acc.shape[0], width))
    diff[:, :acc.shape[1]] += acc
    diff[:, :cash.shape[1]] -= cash
    b = _core.cumulative_bands(np.ascontiguousarray(diff))
    return pd.DataFrame({k: b[k] for k in ("p10", "p25", "p50", "p75", "p90")})


# ----------------------------------------------------------------- reports
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
    rep.add_html(_summary_table(r))
    rep.add_heading("Accrual and cash schedule")
    rep.add_chart("accrual_cash", charts_["accrual_cash"],
                  "Liability accrued and cash paid to date at each month end: median line, P25–P75 and P10–P90 bands.")
    rep.add_html(_schedule_table(r))
    rep.add_heading("By segment")
    rep.add_html(_segment_table(r))
    rep.add_heading("By component")
    rep.add_html(_component_table(r))
    rep.add_heading("Tier attainment")
    if "tier_attainment" in charts_:
        rep.add_chart("tier_attainment", charts_["tier_attainment"],
                      "Expected number of partners whose highest tier reached is each tier, per ladder.")
    rep.add_html(_tier_table(r))
    if sensitivity is not None:
        _sensitivity_section(rep, sensitivity)
    rep.add_heading("Inputs")
    _inputs_section(rep, inputs, model if model is not None else r.model)
    rep.add_html(_programme_inputs(r.programme))
    rep.add_heading("Method")
    rep.add_html(_notes())
    _simulation_files(rep, r, excel=excel)
    rep.add_file("summary.json", r.to_json() + "\n")
    return rep


def _simulation_files(rep: Report, r: "SimulationResult", *, excel: bool, prefix: str = "") -> None:
    for name, text in r._csv_files().items():
        if name != "summary.json":
            rep.add_file(prefix + name, text)
    if excel:
        rep.add_writer(prefix + "results.xlsx", r.to_excel)


def _sensitivity_section(rep: Report, s: "Sensitivity") -> None:
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
    diff = c.differences

    rows = []
    has_budget = any(r.budget is not None for r in c.results.values())
    for name in names:
        d = design_cells(c.results[name])
        rows.append([name, d["payout_mean"], d["payout_p95"]]
                    + ([d["payout_before_budget_p95"], d["budget_cut"]] if has_budget else [])
                    + [d["revenue"], d["incremental_margin"], d["roi"],
                       d["budget_binding"] if d["budget_binding"] is not None else "no budget"])
    rep.add_html(html_table(["Design", "Mean payout", "P95 payout"]
                            + (["P95 before budget", "Expected budget cut"] if has_budget else [])
                            + ["Mean revenue", "Incremental margin", "ROI", "P(budget binds)"], rows,
                            caption=f"Per design, {cur}; ± one standard error."
                                    + (" The P95 payout is after the budget cut (designs held at the budget show "
                                       "the budget); the P95 before it and the expected cut (mean payout before the "
                                       "budget − after it) show the risk the budget absorbs." if has_budget else "")))
    rep.add_chart("design_comparison", charts.design_comparison(
        {nm: c.results[nm].payout for nm in names}, currency=cur,
        roi={nm: num(summ.loc[nm, "roi_mean"]) for nm in names if finite(summ.loc[nm, "roi_mean"])},
        budget=budget, title="Payout by design", subtitle=f"{n:,} scenarios per design, common random numbers"),
        "Distribution of the total payout of each design, with the budget and each design's expected ROI.")
    rep.add_heading("Differences against the reference")
    drows = []
    for dname, row in diff.iterrows():
        drows.append([f"{dname} − {row.reference}",
                      raw(format_estimate(row.payout_mean, row.payout_se)),
                      raw(format_estimate(row.revenue_mean, row.revenue_se)),
                      raw(format_estimate(row.incremental_margin_mean, row.incremental_margin_se)),
                      raw(format_estimate(row.roi_mean, row.roi_se, "percent")),
                      raw(format_estimate(row.deadweight_share_mean, row.deadweight_share_se, "percent")),
                      raw(format_estimate(row.budget_binding_mean, row.budget_binding_se, "percent"))])
    rep.add_html(html_table(["Difference", "Payout", "Revenue", "Incremental margin", "ROI", "Deadweight share",
                             "P(budget binds)"], drows,
                            caption="Paired differences on the same scenarios: their standard errors are much smaller "
                                    "than those of each design alone."))
    # payout risk before the budget's cut: after it, designs the budget holds sit on one point
    risk = "payout_before_budget_p95" if has_budget else "payout_p95"
    risk_text = "the P95 of the total payout before the budget cut" if has_budget else "the P95 of the total payout"
    pts = {nm: (num(summ.loc[nm, risk]), num(summ.loc[nm, "roi_mean"])) for nm in names}
    if all(finite(v[1]) for v in pts.values()):
        rep.add_chart("risk_return", charts.risk_return(pts, currency=cur, measure="roi", budget=budget,
                                                        title="Expected return against payout risk",
                                                        subtitle=f"Expected ROI against {risk_text}",
                                                        before_budget=has_budget),
                      "Up and to the left is better: more return for less payout risk."
                      + (" Right of the budget line the budget cuts the payout in the worst scenarios."
                         if has_budget else ""))
    else:
        pts = {nm: (num(summ.loc[nm, risk]), num(summ.loc[nm, "incremental_margin_mean"])) for nm in names}
        if all(finite(v[1]) for v in pts.values()):
            rep.add_chart("risk_return", charts.risk_return(pts, currency=cur, measure="margin", budget=budget,
                                                            subtitle=f"Expected incremental margin against {risk_text}",
                                                            before_budget=has_budget),
                          f"Expected incremental margin against {risk_text}.")
    rep.add_heading("Accrued liability by design")
    series = {}
    for nm in names:
        series[nm] = c.results[nm].accrual_schedule()[["p10", "p25", "p50", "p75", "p90"]]
    lengths = {len(v) for v in series.values()}
    if len(lengths) == 1:
        rep.add_chart("accrual_by_design", charts.accrual_fan(
            _months_of(first, lengths.pop()), series, currency=cur, budget=budget,
            title="Accrued liability by design", subtitle="Median, P25–P75 and P10–P90 of the liability to date"),
            "The liability each design builds up through the year.")
    rep.add_heading("By segment")
    seg_rows = []
    segs = list(first.meta["segments"])
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
    rep.add_html(html_table(["Segment"] + [f"{nm}: mean payout" for nm in names] + [f"{nm}: ROI" for nm in names],
                            seg_rows, caption="ROI of each segment: (its incremental margin − its payout) / its payout."))
    rep.add_heading("Tier attainment by design")
    for nm in names:
        rep.add_heading(nm, 3)
        rep.add_html(_tier_table(c.results[nm]))
    rep.add_heading("Inputs")
    _inputs_section(rep, inputs, model if model is not None else first.model)
    rep.add_html(_design_differences(c))
    rep.add_heading("Method")
    rep.add_html(_notes(["All designs run on the same scenarios (common random numbers): every design sees the same "
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
