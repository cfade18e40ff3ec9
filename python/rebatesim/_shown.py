"""Numbers and tables as a person reads them (notebook displays, reports, the command line's
summaries), in one style: :func:`format_number` and :func:`format_estimate` (``value ± se``),
:func:`html_table` (the report's tables, styled by CSS classes), :func:`styled_table` /
:func:`styled_cell` (the inline-styled tables of notebook displays, which carry no CSS) and
:func:`text_table` (aligned plain-text columns). How figures are written into files is
:mod:`rebatesim._format`'s (which re-exports these names).
"""

from __future__ import annotations

import decimal
import html
import math
from typing import Any, Optional, Sequence, Tuple, Union

__all__ = ["num", "finite", "format_number", "format_estimate", "plain_estimate", "percent_text", "exact_amount",
           "raw", "html_table", "styled_cell", "styled_table", "text_table", "CELL_STYLE", "TABLE_STYLE"]

def num(v: Any) -> float:
    """A figure of the core's JSON as a float: None (no value) as NaN."""
    return float("nan") if v is None else float(v)


def finite(v: Any) -> bool:
    """Whether ``v`` is a finite number (None, NaN, text: False)."""
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def format_number(v: Any, kind: str = "money") -> str:
    """``kind``: ``money`` (thousands, no decimals), ``cents`` (two decimals),
    ``ratio`` (three decimals), ``percent`` (a fraction as %), ``count`` (one
    decimal below 100), ``prob`` (three decimals). NaN/None → ``n/a``.

    >>> from rebatesim.report import format_number
    >>> format_number(1234567.8), format_number(-0.4123, "percent"), format_number(None)
    ('1,234,568', '−41.2%', 'n/a')
    """
    if not finite(v):
        return "n/a"
    x = float(v)
    text = _number_text(x, kind)
    if text.startswith("-"):
        # a typographic minus, as in the charts; none for a value that rounds to zero
        return "\u2212" + text[1:] if any(c in "123456789" for c in text) else text[1:]
    return text


def _number_text(x: float, kind: str) -> str:
    if kind == "money":
        return f"{x:,.0f}"
    if kind == "cents":
        return f"{x:,.2f}"
    if kind == "percent":
        return f"{100 * x:,.1f}%"
    if kind in ("ratio", "prob"):
        return f"{x:,.3f}"
    if kind == "count":
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"
    return f"{x:,}"


def percent_text(v: Any) -> str:
    """A fraction as a percentage with one decimal (``n/a`` for NaN): how every table a
    person reads shows ROI and shares; data files keep the fraction.

    >>> from rebatesim._format import percent_text
    >>> percent_text(-0.765), percent_text(float("nan"))
    ('−76.5%', 'n/a')
    """
    return format_number(v, "percent")


def format_estimate(value: Any, se: Any, kind: str = "money", *, html_se: bool = True) -> str:
    """``value ± se`` formatted alike (the ± part as a small span in HTML).

    >>> from rebatesim.report import format_estimate
    >>> format_estimate(1_250_000, 4_321.5, html_se=False)
    '1,250,000 ± 4,322'
    """
    v = format_number(value, kind)
    if not finite(se) or v == "n/a":
        return html.escape(v) if html_se else v
    s = format_number(se, kind)
    if html_se:
        return f'{html.escape(v)}<span class="se"> ± {html.escape(s)}</span>'
    return f"{v} ± {s}"


def plain_estimate(v: float, se: float, ratio: bool = False, decimals: int = 0, *, percent: bool = False) -> str:
    """``value ± se`` for the command line: money at ``decimals`` places, a ratio at three,
    a fraction as a percentage with ``percent`` (as the report and the notebook show ROI and
    shares); ``n/a`` for NaN, the value alone without a standard error (the most likely
    amount).

    >>> from rebatesim._format import plain_estimate
    >>> plain_estimate(1234.5, 12.25, decimals=2), plain_estimate(0.25, float("nan"), True)
    ('1,234.50 ± 12.25', '0.250')
    >>> plain_estimate(-0.7654, 0.0123, percent=True)
    '−76.5% ± 1.2%'
    """
    if v != v:  # NaN
        return "n/a"
    if percent:
        return format_number(v, "percent") + ("" if se != se else f" ± {format_number(se, 'percent')}")
    places = 3 if ratio else decimals  # money at the currency's minor unit
    if se != se:  # no standard error (the most likely amount)
        return f"{v:,.{places}f}"
    return f"{v:,.{places}f} ± {se:,.{places}f}"


def exact_amount(v: Any, decimals: int) -> str:
    """An exact amount (a Decimal or its text) with thousands separators at the currency's
    ``decimals``, never through a float.

    >>> from rebatesim._format import exact_amount
    >>> exact_amount("1234567.5", 2)
    '1,234,567.50'
    """
    return f"{decimal.Decimal(v):,.{decimals}f}"


Cell = Union[str, Tuple[str, str]]  # text, or (html, "raw")


def raw(s: str) -> Tuple[str, str]:
    """A table cell of trusted HTML (:func:`html_table` escapes plain text cells)."""
    return (s, "raw")


def html_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    align: Optional[Sequence[str]] = None,
    caption: Optional[str] = None,
    cls: str = "data",
) -> str:
    """An HTML table: ``rows`` of cells, each plain text (escaped) or ``(html, "raw")``;
    ``align`` per column ``"l"`` or ``"r"`` (default: first left, others right).

    >>> from rebatesim.report import html_table
    >>> html_table(["a", "b"], [["x", "1"]]).count("<tr>")
    2
    >>> html_table(["a"], [[("<b>bold</b>", "raw")], ["<b>escaped</b>"]]).count("&lt;b&gt;")
    1
    """
    n = len(header)
    align = list(align or (["l"] + ["r"] * (n - 1)))

    def cell(tag: str, c: Any, a: str) -> str:
        body = c[0] if isinstance(c, tuple) and len(c) == 2 and c[1] == "raw" else html.escape(str(c))
        return f'<{tag} class="{a}">{body}</{tag}>'

    head = "".join(cell("th", h, a) for h, a in zip(header, align))
    body = "".join("<tr>" + "".join(cell("td", c, a) for c, a in zip(r, align)) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<div class="tw"><table class="{cls}">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


#: The inline style of a notebook display's cells (a display carries no stylesheet).
CELL_STYLE = 'style="padding:2px 8px;border-bottom:1px solid #ddd;text-align:{}"'
#: The inline style of a notebook display's tables (``margin`` varies).
TABLE_STYLE = 'style="border-collapse:collapse;margin:{}"'


def styled_cell(tag: str, body_html: str, align: str = "left") -> str:
    """One inline-styled cell (``td`` or ``th``) holding trusted HTML, aligned ``left`` or
    ``right``."""
    return f"<{tag} {CELL_STYLE.format(align)}>{body_html}</{tag}>"


def styled_table(body_html: str, head_html: str = "", *, margin: str = "4px 0") -> str:
    """An inline-styled table around rows already built (with :func:`styled_cell`), with an
    optional header row's HTML (``<tr>…</tr>``)."""
    head = f"<thead>{head_html}</thead><tbody>{body_html}</tbody>" if head_html else body_html
    return f"<table {TABLE_STYLE.format(margin)}>{head}</table>"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Columns of plain text under a header and a rule, each left or right aligned
    (``right``), for the command line.

    >>> from rebatesim._format import text_table
    >>> print(text_table(["name", "n"], [["a", "10"], ["bb", "2"]], [False, True]))
    name   n
    ----  --
    a     10
    bb     2
    """
    widths = [len(h) for h in header]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r)]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if ra else c.ljust(w) for c, w, ra in zip(r, widths, right)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows])
