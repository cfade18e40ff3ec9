"""The report page: :class:`Report` (a title, sections of tables, text and charts, the data
files behind them) and its one self-contained HTML page (embedded CSS, inline SVG charts),
written with its files atomically. The sections of the result reports are in
:mod:`rebatesim._report_sections`, the charts in :mod:`rebatesim._report_charts`."""

from __future__ import annotations

import datetime as _dt
import html
import os
import pathlib
from typing import Any, Callable, Dict, List, Sequence, Union

from ._display import report_frame
from ._format import html_table
from ._version import __version__
from .charts import Chart
from .outputs import AtomicFolder

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
