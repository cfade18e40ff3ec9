"""The calibration's fit report (one self-contained HTML page with inline SVG charts), its
notebook display and the files of ``rebatesim calibrate --out DIR``.

Private: :class:`rebatesim.Calibration` calls these; nothing here computes an estimate.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import re
from typing import TYPE_CHECKING, Any, Dict, List, Sequence, Union

from ._format import CELL_STYLE, TABLE_STYLE
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .calibration import Calibration

__all__ = ["report_html", "notebook_html", "output_files", "write_files", "summary_text", "CHART_CAPTIONS"]

#: What each fit chart shows, in report order.
CHART_CAPTIONS = {
    "seasonality": "Seasonality per segment: the model's monthly factors with their 90% intervals "
                   "(a small segment's factors are shrunk toward the population's).",
    "trend": "Segment-month effects of log purchases (net of which partners happen to buy) against the fitted "
             "seasonality and growth; what is left is the market factor.",
    "residual_qq": "Log residuals of partner-months against normal quantiles: the lognormal noise fits where the "
                   "dots follow the line; heavy tails show as ends bending away.",
    "annual_volume": "Last year's purchases per partner, observed against the model's fit (partner level, "
                     "segment-month effects, noise and purchase incidence).",
    "churn": "Partners present from the start still buying: observed against the fitted incidence and hazard.",
    "bunching": "Period volumes relative to the nearest tier threshold of the past programme, with the "
                "polynomial counterfactual fitted outside the excluded window (dashed).",
}

_CSS = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; color: #212529; max-width: 1040px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 32px; border-bottom: 1px solid #ddd; }
p.sub { color: #5f6670; margin-top: 0; } table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e6e8eb; } td.r, th.r { text-align: right; } td.l, th.l { text-align: left; }
figure { margin: 16px 0; } figure svg { width: 100%; height: auto; } figcaption { color: #5f6670; font-size: 13px; }
ul.warn li { margin: 4px 0; } footer { color: #5f6670; font-size: 12px; margin-top: 40px; }
"""


def _inline_svg(svg: str) -> str:
    """An SVG document as an element that scales with the page."""
    text = svg.strip()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2:].lstrip()
    end = text.index(">")
    head = text[:end]
    w = re.search(r'\swidth="([\d.]+)"', head)
    h = re.search(r'\sheight="([\d.]+)"', head)
    if w and h and "viewBox" not in head:
        head += f' viewBox="0 0 {w.group(1)} {h.group(1)}"'
    head = re.sub(r'\s(width|height)="[\d.]+(px)?"', "", head)
    return head + ' role="img"' + text[end:]


def _num(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    x = float(v)
    if x == 0 or 1e-3 <= abs(x) < 1e6:
        return f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return f"{x:.3e}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    def cell(tag: str, text: str, r: bool) -> str:
        return f'<{tag} class="{"r" if r else "l"}">{html.escape(text)}</{tag}>'

    head = "".join(cell("th", h, r) for h, r in zip(header, right))
    body = "".join("<tr>" + "".join(cell("td", c, r) for c, r in zip(row, right)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _estimate_rows(c: "Calibration") -> List[List[str]]:
    e = c._core.estimates()
    rows = []
    for i, name in enumerate(e["parameter"]):
        if "log_effect" in name:  # twelve per segment: in the seasonality chart
            continue
        dof = e["dof"][i]
        rows.append([name, _num(e["value"][i]), _num(e["se"][i]), f"[{_num(e['lo90'][i])}, {_num(e['hi90'][i])}]",
                     "" if dof is None else _num(dof, 1), e["method"][i]])
    return rows


def _behaviour_html(b: Dict[str, Any], s: Any) -> str:
    """The behaviour section: the summary ``b`` (:attr:`Calibration.behaviour`) and the
    sensitivity table ``s`` (:meth:`Calibration.bunching_sensitivity`)."""
    parts = [f"<p>Past programme <b>{html.escape(b['programme'])}</b>, components "
             f"{html.escape(', '.join(b['components']))}: {b['observations']:,} partner-periods within "
             f"±{b['range']:.0%} of a threshold. Stretch share in the window [−{b['below']:.0%}, 0): "
             f"<b>{b['share']:.3f} ± {_num(b['share_se'], 3)}</b>; normalised excess mass in [0, {b['above']:.0%}): "
             f"{_num(b['normalised'], 2)} ± {_num(b['normalised_se'], 2)}. End-of-period spike {_num(b['spike'], 3)}, "
             f"following dip {_num(b['dip'], 3)}: pull-forward share {_num(b['pull_forward'], 3)} ± "
             f"{_num(b['pull_forward_se'], 3)}.</p>"]
    rows = [[f"{lo:.0%}", f"{hi:.0%}", str(d), _num(sh, 3), _num(nm, 2)]
            for lo, hi, d, sh, nm in zip(*(s[k].tolist() for k in ("below", "above", "degree", "share", "normalised")))]
    parts.append("<p>Sensitivity to the excluded window and the polynomial degree:</p>")
    parts.append(_table(["window below", "window above", "degree", "stretch share", "normalised excess"], rows,
                        [True, True, True, True, True]))
    parts.append("<p><b>Uplift is an assumption, not an estimate:</b> a history under one programme cannot separate "
                 "the programme's uplift from the trend, so <code>behaviour.uplift.elasticity</code> stays 0. "
                 "Set it yourself and read its line in the sensitivity tornado.</p>")
    return "\n".join(parts)


def report_html(c: "Calibration") -> str:
    """The fit report: summary, warnings, estimates, the fit charts, behaviour."""
    start, months = c._core.history()
    n = len(c._core.partners()["partner_id"])
    body: List[str] = [f'<p class="sub">{n:,} partners × {months} months of history from {html.escape(start)}</p>']
    warns = c.warnings
    body.append("<h2>What to know</h2>")
    body.append('<ul class="warn">' + "".join(f"<li>{html.escape(w)}</li>" for w in warns) + "</ul>"
                if warns else "<p>No warnings.</p>")
    body.append("<h2>Estimates</h2>")
    body.append("<p>Value ± standard error and 90% interval; the degrees of freedom are what the history really "
                "has (36 market months for 3 years, not the number of lines). The model file carries the same as "
                "comments.</p>")
    body.append(_table(["parameter", "value", "se", "90% interval", "dof", "estimator"], _estimate_rows(c),
                       [False, True, True, True, True, False]))
    body.append("<h2>Fit</h2>")
    for name, svg in c._core.chart_svgs():
        body.append(f'<figure id="{name}">{_inline_svg(svg)}<figcaption>{html.escape(CHART_CAPTIONS.get(name, ""))}'
                    "</figcaption></figure>")
    b = c.behaviour
    if b is not None:
        body.append("<h2>Behaviour at the past programme's thresholds</h2>")
        body.append(_behaviour_html(b, c.bunching_sensitivity()))
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    title = "Calibration fit report"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
            + "\n".join(body)
            + f"\n<footer>Made with rebatesim {html.escape(__version__)} on {stamp}; estimators in docs/calibration.md."
            "</footer>\n</body>\n</html>\n")


_HEADLINE = ("market.sigma", "market.rho", "segment_factor.sigma", "partner_factor.sigma", "noise.sigma",
             "growth.rate", "incidence.probability", "churn.monthly_hazard", "returns.share", "orders.per_month",
             "orders.size_elasticity", "orders.categories_per_order", "behaviour.stretch.max_probability",
             "behaviour.pull_forward.share")


def notebook_html(c: "Calibration") -> str:
    """The notebook display: the headline estimates and the warnings (inline styles: a
    display carries no stylesheet)."""
    start, months = c._core.history()
    n = len(c._core.partners()["partner_id"])
    e = c._core.estimates()
    index = {p: i for i, p in enumerate(e["parameter"])}
    rows = []
    for p in _HEADLINE:
        i = index.get(p)
        if i is None:
            continue
        cells = [p, _num(e["value"][i]), _num(e["se"][i]), f"[{_num(e['lo90'][i])}, {_num(e['hi90'][i])}]"]
        rows.append("<tr>" + "".join(
            f"<td {CELL_STYLE.format('left' if k == 0 else 'right')}>{html.escape(x)}</td>"
            for k, x in enumerate(cells)) + "</tr>")
    head = "<tr>" + "".join(f"<th {CELL_STYLE.format('left' if k == 0 else 'right')}>{h}</th>"
                            for k, h in enumerate(["parameter", "value", "se", "90% interval"])) + "</tr>"
    out = [f"<p><b>Calibration</b>: {n:,} partners × {months} months from {html.escape(start)}; "
           f"{len(e['parameter'])} estimates, {len(c._core.draw_incidence())} parameter draws. "
           "<code>.report()</code> writes the fit report with its charts.</p>",
           f"<table {TABLE_STYLE.format('4px 0')}><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"]
    if c.warnings:
        out.append("<p><b>What to know</b></p><ul>" + "".join(f"<li>{html.escape(w)}</li>" for w in c.warnings)
                   + "</ul>")
    return "<div>" + "".join(out) + "</div>"


def output_files(c: "Calibration", *, png_scale: float = 2.0) -> Dict[str, Union[str, bytes]]:
    """Every file of a calibration folder: the model file, the draws, the tables, the
    diagnostics, the charts (SVG and PNG) and ``report.html``."""
    from ._format import RATIO, csv_text

    files: Dict[str, Union[str, bytes]] = {"model.toml": c.model_text()}
    for k, text in enumerate(c._core.draw_texts()):
        files[f"draws/draw_{k:04d}.toml"] = text
    files["estimates.csv"] = csv_text(c.estimates, 6, index=False, default=RATIO)
    files["partners_calibrated.csv"] = csv_text(c.partners, 2, index=False)
    files["diagnostics/segment_months.csv"] = csv_text(c.segment_months(), 6, index=False, default=RATIO)
    files["diagnostics/churn.csv"] = csv_text(c.churn_curves(), 6, index=False, default=RATIO)
    b = c.behaviour
    if b is not None:
        files["diagnostics/bunching.csv"] = csv_text(c.bunching_histogram(), 6, index=False, default=RATIO)
        files["diagnostics/bunching_sensitivity.csv"] = csv_text(c.bunching_sensitivity(), 6, index=False,
                                                                 default=RATIO)
    files["warnings.txt"] = "".join(w + "\n" for w in c.warnings)
    for name, svg in c._core.chart_svgs():
        files[f"charts/{name}.svg"] = svg
    for name, png in c._core.chart_pngs(png_scale):
        files[f"charts/{name}.png"] = png
    files["report.html"] = report_html(c)
    return files


def write_files(folder: Any, files: Dict[str, Union[str, bytes]]) -> None:
    """Write ``files`` (relative name → text or bytes) into ``folder`` (a temporary folder
    of an :class:`~rebatesim.outputs.Outputs` transaction), creating subfolders."""
    import pathlib

    base = pathlib.Path(folder)
    for name, content in files.items():
        p = base / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            with open(p, "w", encoding="utf-8", newline="") as f:
                f.write(content)


def summary_text(c: "Calibration") -> str:
    """The CLI's summary: history, headline estimates, behaviour."""
    start, months = c._core.history()
    n = len(c._core.partners()["partner_id"])
    e = c._core.estimates()
    index = {p: i for i, p in enumerate(e["parameter"])}
    lines = [f"Calibrated on {n:,} partners × {months} months of history from {start}: "
             f"{len(e['parameter'])} estimates, {len(c._core.draw_incidence())} parameter draws", ""]
    width = max(len(p) for p in _HEADLINE)
    for p in _HEADLINE:
        i = index.get(p)
        if i is not None:
            lines.append(f"  {p:<{width}}  {_num(e['value'][i]):>9} ± {_num(e['se'][i]):<8} "
                         f"90% [{_num(e['lo90'][i])}, {_num(e['hi90'][i])}]")
    if c.warnings:
        lines.append("")
        lines.append(f"{len(c.warnings)} warning{'s' if len(c.warnings) != 1 else ''} (on stderr and in warnings.txt)")
    return "\n".join(lines)
