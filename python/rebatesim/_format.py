"""Numbers and text in the files rebatesim writes and the tables it shows: one place
decides how each is written.

Every CSV, JSON and Excel output of the package goes through this module, so a figure is
written the same way wherever it appears:

- **money** (payouts, revenues, margins, accruals, cash, budgets; means, percentiles and
  standard errors of money alike): at the currency's minor unit (the programme's
  ``decimals``). An exact settlement amount (a :class:`decimal.Decimal`) is written exactly at
  that scale (``12000`` → ``12000.00``, ``300.500`` → ``300.50``) and never rounded (an amount
  finer than the minor unit would be kept as it is); a simulated figure (a
  float) is rounded to the minor unit, half to even. CSV: text such as ``3044011.08``;
  JSON: a number rounded to the minor unit (or the exact string, for settlement totals);
  Excel: a number with the format ``#,##0.00`` (``#,##0`` for a currency without decimals,
  ``#,##0.000`` for three).
- **ratios and probabilities** (ROI, deadweight share, rates, shares, P(budget binds),
  tier probabilities, coverage; their standard errors alike): rounded to 6 decimal places
  (:data:`RATIO_DECIMALS`), trailing zeros dropped in CSV (``-0.765``). Excel format ``0.0000``.
- **other numbers** (volumes and thresholds, which are revenue or units by the ladder's
  basis; mean partner counts; assumption values): a float rounded to 6 decimal places, an
  exact decimal as it is.
- **whole numbers** (counts, tiers, months, scenario numbers, ids) and dates: unchanged.
- **text** cells that come from user data (partner ids, segment, component and design names,
  labels): in CSV, a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is prefixed with ``'`` (:func:`neutralise`, the OWASP CSV-injection rule), so a
  spreadsheet opening the file shows it as text instead of running it as a formula; number
  cells, such as negative amounts, are never touched. Excel workbooks write every string as a
  string (XlsxWriter ``strings_to_formulas`` and ``strings_to_urls`` off,
  :func:`rebatesim.outputs.write_excel`), so no prefix is needed there.

Which columns are money is known by name (:func:`kind_of`); a table whose generic columns
(``mean``, ``p95``, ``se`` …) measure something else says so with ``default`` or per-row
kinds.

What a person reads (notebook displays, reports, the command line's summaries) is formatted
by :mod:`rebatesim._shown` in one style; its names are re-exported here.

>>> import decimal
>>> from rebatesim._format import cell_text, neutralise
>>> cell_text(3044011.0799999577, "money", 2), cell_text(decimal.Decimal("12000"), "money", 2)
('3044011.08', '12000.00')
>>> cell_text(-0.76543219, "ratio", 2), cell_text(1.44e-09, "money", 2)
('-0.765432', '0.00')
>>> neutralise('=HYPERLINK("http://evil.example","click")'), neutralise("-2+3"), neutralise("INS-1")
('\\'=HYPERLINK("http://evil.example","click")', "'-2+3", 'INS-1')
"""

from __future__ import annotations

import decimal
import json
import math
import numbers
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ._shown import (CELL_STYLE, TABLE_STYLE, exact_amount, finite, format_estimate, format_number,  # noqa: F401
                     html_table, num, percent_text, plain_estimate, raw, styled_cell, styled_table, text_table)

__all__ = ["MONEY", "RATIO", "NUMBER", "INTEGER", "RATIO_DECIMALS", "kind_of", "column_kind", "rounded",
           "cell_text", "neutralise", "csv_text", "rewrite_csv", "json_value", "json_text", "money_text",
           "num", "finite", "format_number", "format_estimate", "plain_estimate", "percent_text", "exact_amount", "raw",
           "html_table", "styled_cell", "styled_table", "text_table", "CELL_STYLE", "TABLE_STYLE"]

MONEY = "money"
RATIO = "ratio"
NUMBER = "number"
INTEGER = "integer"

#: Decimal places of ratios, probabilities and other non-money figures in files.
RATIO_DECIMALS = 6
#: Decimal places assumed for money when the programme is unknown (a result built by hand).
DEFAULT_DECIMALS = 2

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_SET = frozenset(_TRIGGERS)

# Column names and JSON keys, by what they measure. A name not listed here is looked up
# without its ``_se`` suffix, without a ``<design>: `` prefix, then by the patterns below.
_NAMES: Dict[str, str] = {}
for _k in ("payout", "payout_before_budget", "revenue", "revenue_counterfactual", "incremental_revenue",
           "incremental_margin", "payout_counterfactual", "expected_payout", "expected_payout_before_budget",
           "accrual", "cash", "accrual_schedule", "cash_schedule", "budget", "amount", "movement", "required",
           "prior", "run_rate", "catch_up", "estimated_final", "next_tier_pays", "additional_payout",
           "calculated", "adj_component_cap", "adj_exclusive_group", "adj_partner_cap", "adj_minimum_payout",
           "adj_budget_cut", "payable", "actual_payable", "forecast_mean", "actual_before_budget",
           "forecast_before_budget_mean", "budget_cut", "mae_amount", "total",
           "total_before_budget", "estimates", "by_partner", "by_segment", "by_component", "partner_cap",
           "minimum_payout", "totals", "settlement",
           # the month-end close (docs/close.md)
           "settled_paid", "settled_payable", "closed_adjustment", "open_expected", "open_constrained", "open_accrued", "required_liability",
           "booked_before", "change_in_estimate", "opening_liability", "paid_in_month", "closing_liability", "debit",
           "credit"):
    _NAMES[_k] = MONEY
for _k in ("roi", "deadweight_share", "budget_binding", "budget_binds_probability", "p_exceed",
           "budget_exceedance", "next_tier_probability", "reach_probability", "effective_rate", "confidence",
           "partial_month", "coverage", "below", "above", "se_years", "wins", "mae", "rmse", "bias",
           "difference", "paired", "errors", "share_of_scenarios_at_or_below_actual", "margin_rate"):
    _NAMES[_k] = RATIO
for _k in ("mean_partners", "stretches", "volume", "volume_period", "volume_to_date", "expected_final_volume",
           "next_threshold", "shortfall", "tier_threshold", "base_value", "low_value", "high_value"):
    _NAMES[_k] = NUMBER
for _k in ("tier", "current_tier", "next_tier", "months_observed", "period", "month", "month_end", "roi_n",
           "n", "scenario", "scenarios", "seed", "years", "tiers", "lines"):
    _NAMES[_k] = INTEGER
# Statistics whose kind is that of the figure they describe (the table's or the parent key's).
_GENERIC = {"value", "se", "mean", "sd", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "most_likely",
            "constrained", "in_month", "low", "high", "swing", "low_vs_base", "high_vs_base", "low_diff",
            "high_diff", "diff", "base", "summary", "meta", "designs", "forecast", "check", "rows"}
_PATTERNS: List[Tuple["re.Pattern[str]", str]] = [
    (re.compile(r"^p_tier_\d+$"), RATIO),
    (re.compile(r"^p_.+_t\d+$"), RATIO),
    (re.compile(r"(^|_)(probability|share)$"), RATIO),
]


def kind_of(name: Any) -> Optional[str]:
    """What a column or key measures: ``money``, ``ratio``, ``number``, ``integer``, or None
    for a generic statistic (``mean``, ``p95``, ``se`` …) or an unknown name.

    >>> from rebatesim._format import kind_of
    >>> kind_of("payout_mean_se"), kind_of("B: roi_mean"), kind_of("p_vol_t2"), kind_of("p95")
    ('money', 'ratio', 'ratio', None)
    """
    if not isinstance(name, str):
        return None
    key = name.rsplit(": ", 1)[-1]
    for cand in (key, key[:-3] if key.endswith("_se") else None):
        if not cand:
            continue
        if cand in _NAMES:
            return _NAMES[cand]
        if cand in _GENERIC:
            return None
        for pat, kind in _PATTERNS:
            if pat.search(cand):
                return kind
        # <outcome>_<statistic>: payout_mean, roi_p95, incremental_margin_low_diff
        for stat in sorted(_GENERIC, key=len, reverse=True):
            if cand.endswith("_" + stat) and cand[: -len(stat) - 1] in _NAMES:
                return _NAMES[cand[: -len(stat) - 1]]
        for suffix in ("_low", "_high", "_p95_low", "_p95_high"):
            if cand.endswith(suffix) and cand[: -len(suffix)] in _NAMES:
                return _NAMES[cand[: -len(suffix)]]
    return None


# ----------------------------------------------------------------- one value
def _is_nan(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, decimal.Decimal):
        return v.is_nan()
    if isinstance(v, float):
        return v != v
    try:
        import pandas as pd

        return v is pd.NA or v is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def _decimal(v: Any) -> Optional[decimal.Decimal]:
    """A number as a Decimal (a float through its shortest repr), or None when it is not
    a finite number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, decimal.Decimal):
        return v if v.is_finite() else None
    if isinstance(v, numbers.Integral):
        return decimal.Decimal(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        return decimal.Decimal(repr(f)) if math.isfinite(f) else None
    return None


def _plain(d: decimal.Decimal) -> str:
    """A Decimal in positional notation (never ``1E+2``), without a negative zero."""
    if d == 0:
        d = abs(d)
    return format(d, "f")


def money_decimal(v: Any, decimals: int) -> Optional[decimal.Decimal]:
    """Money at the currency's scale: an exact Decimal padded or its extra trailing zeros
    dropped (never rounded: one finer than the minor unit is kept exact), a float rounded half
    to even; None for NaN or a non-number.

    >>> from decimal import Decimal
    >>> from rebatesim._format import money_decimal
    >>> money_decimal(Decimal("300.0"), 2), money_decimal(2.675, 2), money_decimal(12, 0)
    (Decimal('300.00'), Decimal('2.68'), Decimal('12'))
    """
    d = _decimal(v)
    if d is None:
        return None
    unit = decimal.Decimal(1).scaleb(-int(decimals))
    with decimal.localcontext() as ctx:
        ctx.prec = max(28, d.adjusted() + int(decimals) + 3)
        if isinstance(v, decimal.Decimal) or isinstance(v, numbers.Integral):
            exp = d.as_tuple().exponent
            q = d.quantize(unit)
            if isinstance(exp, int) and exp < -int(decimals) and q != d:
                return d  # exact and finer than the minor unit: kept as it is, never rounded
            return q
        return d.quantize(unit, rounding=decimal.ROUND_HALF_EVEN)


def ratio_decimal(v: Any) -> Optional[decimal.Decimal]:
    """A float rounded to :data:`RATIO_DECIMALS` places (half to even), trailing zeros
    dropped; an exact Decimal as it is."""
    d = _decimal(v)
    if d is None:
        return None
    if isinstance(v, (decimal.Decimal, numbers.Integral)):
        return d
    with decimal.localcontext() as ctx:
        ctx.prec = max(28, d.adjusted() + RATIO_DECIMALS + 3)
        q = d.quantize(decimal.Decimal(1).scaleb(-RATIO_DECIMALS), rounding=decimal.ROUND_HALF_EVEN).normalize()
        exp = q.as_tuple().exponent
        if isinstance(exp, int) and exp > 0:
            q = q.quantize(decimal.Decimal(1))
    return q


def rounded(v: Any, kind: Optional[str], decimals: int) -> Any:
    """``v`` as the number a file holds: a float rounded by ``kind`` (a Decimal for money
    and exact values), None for NaN; anything else unchanged."""
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if _is_nan(v):
        return None
    if kind == MONEY:
        d = money_decimal(v, decimals)
        return v if d is None else d
    if isinstance(v, numbers.Integral):
        return int(v)
    if kind == INTEGER and isinstance(v, numbers.Real) and float(v).is_integer():
        return int(float(v))
    if isinstance(v, decimal.Decimal) or isinstance(v, numbers.Real):
        d = ratio_decimal(v)
        return v if d is None else d
    return v


# :func:`cell_text` of a plain float below 1e15 without :func:`rounded`'s type tests and local
# context (the same shortest-repr quantize, half to even, at 40 digits: far above the 15 +
# decimals + 3 it needs); a report's CSV files hold ~50,000 such cells
_FLOAT_CONTEXT = decimal.Context(prec=40)
_UNITS: Dict[int, decimal.Decimal] = {}


def _unit(places: int) -> decimal.Decimal:
    u = _UNITS.get(places)
    if u is None:
        u = _UNITS[places] = decimal.Decimal(1).scaleb(-places)
    return u


def _float_cell(v: float, kind: Optional[str], decimals: int) -> str:
    if v != v:
        return ""
    if kind == INTEGER and v.is_integer():
        return str(int(v))
    ctx = _FLOAT_CONTEXT
    if kind == MONEY:
        return _plain(decimal.Decimal(repr(v)).quantize(_unit(decimals), rounding=decimal.ROUND_HALF_EVEN, context=ctx))
    q = decimal.Decimal(repr(v)).quantize(_unit(RATIO_DECIMALS), rounding=decimal.ROUND_HALF_EVEN, context=ctx)
    q = q.normalize(ctx)
    exp = q.as_tuple().exponent
    if isinstance(exp, int) and exp > 0:
        q = q.quantize(decimal.Decimal(1), context=ctx)
    return _plain(q)


def cell_text(v: Any, kind: Optional[str], decimals: int) -> Any:
    """A CSV cell: numbers as text by ``kind`` (see the module), NaN/None as ``""``, text
    neutralised (:func:`neutralise`); other values (bools, dates) unchanged."""
    if type(v) is float and -1e15 < v < 1e15 and 0 <= decimals <= 12:
        return _float_cell(v, kind, decimals)
    if isinstance(v, str):
        return neutralise(v)
    r = rounded(v, kind, decimals)
    if r is None:
        return ""
    if isinstance(r, decimal.Decimal):
        return _plain(r)
    if isinstance(r, bool):
        return r
    if isinstance(r, int):
        return str(r)
    return r


def neutralise(text: str) -> str:
    """``text`` prefixed with ``'`` when it begins with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return (and is more than that one character), so that a spreadsheet opening a
    CSV file reads it as text, never as a formula."""
    if len(text) > 1 and text.startswith(_TRIGGERS):
        return "'" + text
    return text


# ----------------------------------------------------------------- tables
KindSpec = Optional[Mapping[str, Optional[str]]]


def column_kind(name: Any, kinds: KindSpec, default: Optional[str]) -> Optional[str]:
    if kinds is not None and name in kinds:
        return kinds[name]
    k = kind_of(name)
    return default if k is None else k


def _flat(df: Any) -> Any:
    """``df`` with its index as ordinary columns (an unnamed index as the column ``""``)."""
    out = df.copy()
    names = [n if n is not None else ("" if out.index.nlevels == 1 else f"level_{i}")
             for i, n in enumerate(out.index.names)]
    out.index = out.index.set_names(names)
    return out.reset_index()


def format_frame(df: Any, decimals: int, *, index: bool = True, kinds: KindSpec = None,
                 default: Optional[str] = None, rows: Optional[Callable[[Any], Optional[str]]] = None) -> Any:
    """A copy of ``df`` whose cells are what :func:`csv_text` writes (text, bools, dates)."""
    import pandas as pd

    row_labels = list(df.index)
    out = _flat(df) if index else df.reset_index(drop=True).copy()
    cols: Dict[Any, List[Any]] = {}
    for col in out.columns:
        kind = column_kind(col, kinds, default)
        explicit = (kinds is not None and col in kinds) or kind_of(col) is not None
        s = out[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            cols[col] = list(s)
            continue
        if pd.api.types.is_integer_dtype(s) and kind != MONEY:
            cols[col] = [("" if _is_nan(v) else str(int(v))) for v in s]
            continue
        vals = []
        for i, v in enumerate(s.tolist()):
            k = kind
            if rows is not None and not explicit:
                k = rows(row_labels[i]) or kind
            vals.append(cell_text(v, k, decimals))
        cols[col] = vals
    res = pd.DataFrame(cols, columns=list(out.columns), dtype=object)
    res.columns = [neutralise(c) if isinstance(c, str) else c for c in res.columns]
    return res


def csv_text(df: Any, decimals: int, *, index: bool = True, kinds: KindSpec = None,
             default: Optional[str] = None, rows: Optional[Callable[[Any], Optional[str]]] = None) -> str:
    """CSV text of ``df`` (``\\n`` line ends) with every number written by its kind at the
    currency's ``decimals`` and every text cell neutralised (see the module).

    ``kinds``: column → kind, overriding :func:`kind_of`; ``default``: the kind of columns
    :func:`kind_of` does not know (generic statistics such as ``mean``; None: other
    numbers); ``rows``: row label → kind, for tables whose rows are different outcomes
    (applies to columns not classified by name).

    >>> import pandas as pd
    >>> from rebatesim._format import csv_text
    >>> df = pd.DataFrame({"partner_id": ["=1+1", "A"], "payout": [3044011.0799999577, -5.0],
    ...                    "roi": [-0.7649999999, 0.1]})
    >>> print(csv_text(df, 2, index=False), end="")
    partner_id,payout,roi
    '=1+1,3044011.08,-0.765
    A,-5.00,0.1
    """
    out = format_frame(df, decimals, index=index, kinds=kinds, default=default, rows=rows)
    cells = [[_cell_str(v) for v in row] for row in out.itertuples(index=False, name=None)]
    return _write_rows([[_cell_str(c) for c in out.columns]] + cells)


def _cell_str(v: Any) -> str:
    """A formatted cell as CSV text (bools as True/False, dates ISO, missing empty)."""
    if isinstance(v, str):
        return v
    if _is_nan(v):
        return ""
    if hasattr(v, "isoformat") and hasattr(v, "hour"):  # a datetime: the date alone at midnight
        at_midnight = (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0)
        return str(v.date().isoformat() if at_midnight else v.isoformat())
    if hasattr(v, "isoformat"):
        return str(v.isoformat())
    return str(v)


def _write_rows(rows: Sequence[Sequence[str]]) -> str:
    """CSV text, ``\n`` line ends: a field quoted when it holds a comma, a quote, a line feed or
    a carriage return (Python's csv module with ``\n`` line ends leaves a lone carriage return
    unquoted, which a reader takes for a line end), or when it is the only, empty, field."""
    out = []
    special = _CSV_SPECIAL.search
    for row in rows:
        if len(row) == 1 and row[0] == "":
            out.append('""\n')
            continue
        out.append(",".join(['"' + f.replace('"', '""') + '"' if special(f) else f for f in row]) + "\n")
    return "".join(out)


_CSV_SPECIAL = re.compile(r'[,"\r\n]')
_PLAIN_NUMBER = re.compile(r"(-?)(\d+)(?:\.(\d*))?").fullmatch


def rewrite_csv(text: str, decimals: int, *, numeric: Any, money: Any) -> str:
    """CSV text written elsewhere (the core's ``lines.csv``), read back and written again with
    the text cells neutralised and the ``money`` columns at the currency's scale (exact:
    padded, never rounded). Columns in ``numeric`` (or ``money``) are numbers and never
    neutralised, whatever their sign."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    if not rows:
        return text
    header = rows[0]
    body = rows[1:]
    if any(len(r) != len(header) for r in body):
        raise ValueError("rewrite_csv: every row must have as many fields as the header")
    at_scale = re.compile(r"-?\d+" + (r"\.\d{%d}" % decimals if decimals else "")).fullmatch

    def money_cell(cell: str) -> str:
        if cell == "" or at_scale(cell):
            return cell
        m = _PLAIN_NUMBER(cell)
        if m:  # padded as text: "0" -> "0.00", "300.5" -> "300.50"; finer amounts kept exact
            sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
            if len(frac) > decimals:
                if frac[decimals:].strip("0"):
                    return cell  # finer than the minor unit: kept exact
                frac = frac[:decimals]
            if not whole.strip("0") and not frac.strip("0"):
                sign = ""
            frac = frac.ljust(decimals, "0")
            return sign + whole + ("." + frac if decimals else "")
        try:
            d = decimal.Decimal(cell)
        except decimal.InvalidOperation:
            return cell
        q = money_decimal(d, decimals)
        return _plain(d if q is None else q)

    # column by column (a settlement has tens of thousands of lines): money at scale, numbers
    # as written, text neutralised
    cols = [list(c) for c in zip(*body)] if body else [[] for _ in header]
    money_set, numeric_set = set(money), set(numeric)
    for j, h in enumerate(header):
        if h in money_set:
            cols[j] = [money_cell(c) for c in cols[j]]
        elif h not in numeric_set:
            cols[j] = [neutralise(c) if c[:1] in _TRIGGER_SET else c for c in cols[j]]
    written = [[neutralise(h) for h in header]] + list(zip(*cols))
    return _write_rows(written)


# ----------------------------------------------------------------- JSON
def json_value(o: Any, decimals: int, *, kind: Optional[str] = None, _key: Any = None) -> Any:
    """A JSON-ready copy of ``o`` with every float rounded by the kind its key (or the nearest
    enclosing key that names one) gives it, money Decimals as strings at scale, NaN as None;
    a number written as text under a money key (``"payable": "300.0"``) at scale too.
    ``kind``: the kind of values whose keys name none (None: other numbers)."""
    if isinstance(o, dict):
        out = {}
        for k, v in o.items():
            if isinstance(v, str) and kind_of(k) == MONEY and _PLAIN_NUMBER(v):
                out[k] = money_text(v, decimals)  # an exact amount as text (the core's JSON): at scale
            else:
                out[k] = json_value(v, decimals, kind=_kind_for_key(k, kind), _key=k)
        return out
    if isinstance(o, (list, tuple)):
        return [json_value(v, decimals, kind=kind) for v in o]
    if isinstance(o, bool) or o is None or isinstance(o, str):
        return o
    if isinstance(o, decimal.Decimal):
        r = rounded(o, kind, decimals)
        return None if r is None else _plain(r)
    if isinstance(o, numbers.Integral):
        return int(o)
    if isinstance(o, numbers.Real):
        r = rounded(float(o), kind, decimals)
        if r is None:
            return None
        return int(r) if isinstance(r, int) else float(r)
    if hasattr(o, "tolist"):
        return json_value(o.tolist(), decimals, kind=kind)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return o


def _kind_for_key(key: Any, outer: Optional[str]) -> Optional[str]:
    k = kind_of(key)
    return outer if k is None else k


def json_text(o: Any, decimals: int, *, indent: Optional[int] = 2, kind: Optional[str] = None) -> str:
    """:func:`json_value` as standard JSON text (no NaN)."""
    return json.dumps(json_value(o, decimals, kind=kind), indent=indent, allow_nan=False)


def money_text(v: Any, decimals: int) -> str:
    """An exact amount as text at the currency's scale (``"300.0"`` → ``"300.00"``)."""
    try:
        d = money_decimal(decimal.Decimal(str(v)), decimals)
    except decimal.InvalidOperation:
        return str(v)
    return str(v) if d is None else _plain(d)
