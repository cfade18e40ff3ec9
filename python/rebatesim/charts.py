"""Charts for a finance audience, drawn by the Rust core (plotters).

Every function returns a :class:`Chart`, which shows inline in Jupyter
(``_repr_svg_``) and saves as SVG or PNG. PNG output uses a bundled font, so it
works on machines without system fonts. Colours are a fixed palette indexed by
order: pass designs and segments in the same order to every chart and each
keeps its colour.

>>> import numpy as np
>>> from rebatesim import charts
>>> payouts = np.linspace(900_000, 1_500_000, 1_000)
>>> chart = charts.payout_distribution(payouts, currency="EUR", budget=1_400_000)
>>> chart.to_svg().startswith("<svg")
True
>>> chart.to_png()[:4] == b"\\x89PNG"
True

Bad input (empty data, NaN, mismatched lengths) raises
:class:`rebatesim.RequestError` when the chart is made.
"""

from __future__ import annotations

import datetime as _dt
import os
import pathlib
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from .exceptions import RequestError

__all__ = [
    "Chart",
    "payout_distribution",
    "design_comparison",
    "tier_attainment",
    "accrual_fan",
    "risk_return",
    "tornado",
    "pareto",
]

PathLike = Union[str, "os.PathLike[str]"]
Size = Tuple[int, int]
DEFAULT_SIZE: Size = (960, 540)


class Chart:
    """A chart: displays inline in Jupyter, renders to SVG or PNG, saves to a file.

    >>> from rebatesim import charts
    >>> c = charts.risk_return({"A": (1.2e6, 0.30), "B": (1.5e6, 0.42)}, currency="EUR")
    >>> c.kind, c.size
    ('risk_return', (960, 540))
    """

    __slots__ = ("_core",)

    def __init__(self, core: Any) -> None:
        self._core = core

    @property
    def kind(self) -> str:
        """The chart kind, e.g. ``"payout_distribution"``."""
        return str(self._core.kind)

    @property
    def title(self) -> str:
        """The chart title."""
        return str(self._core.title)

    @property
    def size(self) -> Size:
        """``(width, height)`` in pixels."""
        w, h = self._core.size
        return (int(w), int(h))

    def to_svg(self) -> str:
        """The chart as a standalone SVG document."""
        return str(self._core.to_svg())

    def to_png(self, scale: float = 1.0) -> bytes:
        """The chart as PNG bytes; ``scale=2`` for sharp images on high-density screens."""
        return bytes(self._core.to_png(float(scale)))

    def save(self, path: PathLike, *, scale: float = 1.0) -> pathlib.Path:
        """Write the chart to ``path``: ``.svg`` or ``.png`` (at ``scale`` × its size).

        The write is atomic: the file has either its old or its complete new
        content. Returns the path written.
        """
        p = pathlib.Path(os.fspath(path))
        self._core.save(str(p), float(scale))
        return p

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def __repr__(self) -> str:
        w, h = self.size
        return f"<Chart {self.kind} {self.title!r} {w}×{h}>"


# ----------------------------------------------------------------- helpers
def _vector(values: Any, what: str) -> "np.ndarray":
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise RequestError(f"{what}: expected numbers ({e})") from None
    if a.ndim != 1:
        raise RequestError(f"{what}: expected a one-dimensional sequence, got shape {a.shape}")
    return np.ascontiguousarray(a)


def _matrix(values: Any, what: str) -> "np.ndarray":
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise RequestError(f"{what}: expected numbers ({e})") from None
    if a.ndim != 2:
        raise RequestError(f"{what}: expected a two-dimensional table, got shape {a.shape}")
    return np.ascontiguousarray(a)


def _opt_float(value: Any, what: str) -> Optional[float]:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RequestError(f"{what}: expected a number, got {value!r}") from None


def _size(size: Size) -> Size:
    try:
        w, h = size
        return (int(w), int(h))
    except (TypeError, ValueError):
        raise RequestError(f"size: expected (width, height) in pixels, got {size!r}") from None


def _iso_month(value: Any, i: int) -> str:
    """A date-like (date, datetime, numpy/pandas timestamp or period, 'YYYY-MM[-DD]') as YYYY-MM-DD."""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    to_timestamp = getattr(value, "to_timestamp", None)  # pandas Period
    if callable(to_timestamp):
        return str(to_timestamp().date().isoformat())
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="D"))
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%Y-%m"):
            try:
                return _dt.datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                pass
    date = getattr(value, "date", None)  # pandas Timestamp
    if callable(date):
        return str(date().isoformat())
    raise RequestError(f"months[{i}]: expected a date or 'YYYY-MM', got {value!r}")


def _items(mapping: Any, what: str) -> List[Tuple[str, Any]]:
    if isinstance(mapping, Mapping):
        return [(str(k), v) for k, v in mapping.items()]
    try:
        return [(str(k), v) for k, v in mapping]
    except (TypeError, ValueError):
        raise RequestError(f"{what}: expected a mapping name → values or (name, values) pairs") from None


# ------------------------------------------------------------------ charts
def payout_distribution(
    payouts: Any,
    *,
    currency: str,
    budget: Optional[float] = None,
    title: str = "Payout distribution",
    subtitle: Optional[str] = None,
    size: Size = DEFAULT_SIZE,
) -> Chart:
    """Histogram of total payout per scenario with mean, P50, P95 and budget lines.

    ``payouts``: one total per scenario (list, numpy array or pandas Series).

    >>> from rebatesim import charts
    >>> charts.payout_distribution([100.0, 120.0, 150.0], currency="EUR").kind
    'payout_distribution'
    """
    w, h = _size(size)
    core = _core.payout_distribution_chart(
        title, currency, _vector(payouts, "payouts"), _opt_float(budget, "budget"), subtitle, w, h
    )
    return Chart(core)


def design_comparison(
    designs: Union[Mapping[str, Any], Iterable[Tuple[str, Any]]],
    *,
    currency: str,
    roi: Optional[Mapping[str, float]] = None,
    budget: Optional[float] = None,
    title: str = "Payout by design",
    subtitle: Optional[str] = None,
    size: Size = DEFAULT_SIZE,
) -> Chart:
    """Payout distributions of several designs side by side, with expected ROI.

    ``designs``: design name → payouts per scenario, in display order.
    ``roi``: design name → expected ROI as a fraction (0.35 = 35%).

    >>> from rebatesim import charts
    >>> c = charts.design_comparison({"A": [1.0, 2.0, 3.0], "B": [2.0, 3.0, 5.0]},
    ...                              currency="EUR", roi={"A": 0.3, "B": 0.25})
    >>> "ROI 30%" in c.to_svg()
    True
    """
    items = _items(designs, "designs")
    roi = dict(roi or {})
    unknown = sorted(set(map(str, roi)) - {n for n, _ in items})
    if unknown:
        raise RequestError(f"roi: no design named {unknown[0]!r} among {[n for n, _ in items]}")
    w, h = _size(size)
    core = _core.design_comparison_chart(
        title,
        currency,
        [n for n, _ in items],
        [_vector(v, f"designs[{n!r}]") for n, v in items],
        [_opt_float(roi.get(n), f"roi[{n!r}]") for n, _ in items],
        _opt_float(budget, "budget"),
        subtitle,
        w,
        h,
    )
    return Chart(core)


def _table(data: Any, what: str) -> Tuple[List[str], List[str], "np.ndarray"]:
    """(rows, columns, values) from a DataFrame or a mapping row → {column: value}."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        df = data
    elif isinstance(data, Mapping):
        df = pd.DataFrame.from_dict({str(k): dict(v) for k, v in data.items()}, orient="index")
    else:
        raise RequestError(f"{what}: expected a DataFrame (segments × tiers) or a mapping segment → {{tier: value}}")
    return [str(i) for i in df.index], [str(c) for c in df.columns], _matrix(df.to_numpy(dtype=float), what)


def tier_attainment(
    expected: Any,
    *,
    low: Any = None,
    high: Any = None,
    interval_label: Optional[str] = None,
    title: str = "Tier attainment by segment",
    subtitle: Optional[str] = None,
    size: Size = DEFAULT_SIZE,
) -> Chart:
    """Expected partners per tier per segment (grouped bars) with interval whiskers.

    ``expected``: a DataFrame with one row per segment and one column per tier
    (lowest tier first), or a mapping segment → {tier: expected partners}.
    ``low``/``high``: the interval bounds in the same shape (e.g. P5 and P95).
    NaN marks a tier a segment's ladder does not have: no bar is drawn for it.

    >>> from rebatesim import charts
    >>> c = charts.tier_attainment({"Dealers": {"Bronze": 40, "Gold": 8},
    ...                             "Distributors": {"Bronze": 12, "Gold": 15}})
    >>> c.kind
    'tier_attainment'
    """
    segments, tiers, values = _table(expected, "expected")
    lo = hi = None
    if low is not None or high is not None:
        if low is None or high is None:
            raise RequestError("tier attainment: give both low and high for intervals, or neither")
        ls, lt, lo = _table(low, "low")
        hs, ht, hi = _table(high, "high")
        if (ls, lt) != (segments, tiers) or (hs, ht) != (segments, tiers):
            raise RequestError("tier attainment: low and high must have the same segments and tiers as expected")
    w, h = _size(size)
    core = _core.tier_attainment_chart(title, tiers, segments, values, lo, hi, interval_label, subtitle, w, h)
    return Chart(core)


_PERCENTILES = ["p10", "p25", "p50", "p75", "p90"]


def accrual_fan(
    months: Sequence[Any],
    series: Union[Mapping[str, Any], Iterable[Tuple[str, Any]]],
    *,
    currency: str,
    budget: Optional[float] = None,
    title: str = "Accrued liability and cash out",
    subtitle: Optional[str] = None,
    size: Size = DEFAULT_SIZE,
) -> Chart:
    """Cumulative amounts by month: median line, P25–P75 and P10–P90 bands, budget line.

    ``months``: the month of each point (dates, pandas Periods or ``"2027-01"``).
    ``series``: name → either scenario paths (2-D, scenarios × months, each row
    one scenario's cumulative amount at each month end) or a DataFrame with
    columns ``p10, p25, p50, p75, p90`` (one row per month).

    >>> import numpy as np
    >>> from rebatesim import charts
    >>> paths = np.cumsum(np.full((50, 12), 1000.0), axis=1)
    >>> charts.accrual_fan([f"2027-{m:02d}" for m in range(1, 13)],
    ...                    {"Accrued liability": paths}, currency="EUR").kind
    'accrual_fan'
    """
    iso = [_iso_month(m, i) for i, m in enumerate(months)]
    names: List[str] = []
    arrays: List["np.ndarray"] = []
    layouts: List[str] = []
    for name, value in _items(series, "series"):
        columns = getattr(value, "columns", None)
        if columns is not None and {str(c).lower() for c in columns} >= set(_PERCENTILES):
            lookup = {str(c).lower(): c for c in columns}
            table = np.vstack([np.asarray(value[lookup[p]], dtype=np.float64) for p in _PERCENTILES])
            arrays.append(_matrix(table, f"series[{name!r}]"))
            layouts.append("percentiles")
        else:
            arrays.append(_matrix(value, f"series[{name!r}]"))
            layouts.append("paths")
        names.append(name)
    w, h = _size(size)
    core = _core.accrual_fan_chart(
        title, currency, iso, names, arrays, layouts, _opt_float(budget, "budget"), subtitle, w, h
    )
    return Chart(core)


def risk_return(
    points: Any,
    *,
    currency: str,
    measure: str = "roi",
    budget: Optional[float] = None,
    title: str = "Expected return against payout risk",
    subtitle: Optional[str] = None,
    size: Size = DEFAULT_SIZE,
    before_budget: bool = False,
) -> Chart:
    """Expected ROI (``measure="roi"``, fractions) or incremental margin
    (``measure="margin"``, money) against P95 payout, one labelled point per design.
    ``before_budget``: the P95 payouts are before the budget's cut (the axis and labels
    say so); use it when a budget binds, where the P95 after the cut is the budget for
    every design it holds.

    ``points``: design → ``(p95_payout, value)``, or a DataFrame indexed by
    design with columns ``p95_payout`` and ``roi`` (or ``margin``).

    >>> from rebatesim import charts
    >>> charts.risk_return({"A": (1.2e6, 0.3)}, currency="EUR").title
    'Expected return against payout risk'
    """
    if measure not in ("roi", "margin"):
        raise RequestError(f"measure: expected 'roi' or 'margin', got {measure!r}")
    columns = getattr(points, "columns", None)
    if columns is not None:
        missing = [c for c in ("p95_payout", measure) if c not in columns]
        if missing:
            raise RequestError(f"points: missing column(s) {missing}; expected p95_payout and {measure}")
        designs = [str(i) for i in points.index]
        p95 = [float(v) for v in points["p95_payout"]]
        values = [float(v) for v in points[measure]]
    else:
        designs, p95, values = [], [], []
        for name, pair in _items(points, "points"):
            try:
                x, y = pair
            except (TypeError, ValueError):
                raise RequestError(f"points[{name!r}]: expected (p95_payout, value), got {pair!r}") from None
            designs.append(name)
            p95.append(float(x))
            values.append(float(y))
    w, h = _size(size)
    core = _core.risk_return_chart(
        title, currency, measure, designs, p95, values, _opt_float(budget, "budget"), subtitle, w, h,
        bool(before_budget),
    )
    return Chart(core)


def tornado(
    bars: Any,
    *,
    base: float,
    output: str = "Expected payout",
    unit: str = "money",
    currency: Optional[str] = None,
    unit_name: Optional[str] = None,
    title: str = "Sensitivity",
    subtitle: Optional[str] = None,
    size: Size = DEFAULT_SIZE,
) -> Chart:
    """One-at-a-time sensitivity: the swing of ``output`` around ``base`` when each
    assumption moves alone, largest swing on top, ±1.96 s.e. whiskers.

    ``bars``: a DataFrame or a list of dicts with ``assumption``, ``low_label``,
    ``high_label``, ``low``, ``high`` and optionally ``low_se``, ``high_se``.
    ``unit``: ``"money"`` (give ``currency``), ``"percent"`` (fractions) or
    ``"number"`` (optional ``unit_name``).

    >>> from rebatesim import charts
    >>> c = charts.tornado([{"assumption": "Demand growth", "low_label": "-2 pts",
    ...                      "high_label": "+2 pts", "low": 0.9e6, "high": 1.3e6}],
    ...                    base=1.1e6, currency="EUR")
    >>> "Demand growth" in c.to_svg()
    True
    """
    if hasattr(bars, "to_dict") and hasattr(bars, "columns"):
        rows = bars.to_dict("records")
    else:
        rows = list(bars)
    needed = ["assumption", "low_label", "high_label", "low", "high"]
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            raise RequestError(f"bars[{i}]: expected a mapping with {needed}, got {r!r}")
        missing = [k for k in needed if k not in r]
        if missing:
            raise RequestError(f"bars[{i}]: missing {missing}")

    def se(key: str) -> Optional[List[Optional[float]]]:
        if not any(r.get(key) is not None for r in rows):
            return None
        out: List[Optional[float]] = []
        for i, r in enumerate(rows):
            v = _opt_float(r.get(key), f"bars[{i}].{key}")
            # A missing standard error in a DataFrame column is NaN: not given.
            out.append(None if v is None or np.isnan(v) else v)
        return out

    if unit == "money":
        unit_name = currency if currency is not None else unit_name
    w, h = _size(size)
    core = _core.tornado_chart(
        title,
        output,
        unit,
        unit_name,
        float(base),
        [str(r["assumption"]) for r in rows],
        [str(r["low_label"]) for r in rows],
        [str(r["high_label"]) for r in rows],
        [float(r["low"]) for r in rows],
        [float(r["high"]) for r in rows],
        se("low_se"),
        se("high_se"),
        subtitle,
        w,
        h,
    )
    return Chart(core)


def pareto(
    risk: Sequence[float],
    value: Sequence[float],
    front: Sequence[bool],
    *,
    currency: str,
    objective: str = "net_margin",
    current: Optional[Tuple[float, float]] = None,
    chosen: Optional[Tuple[float, float]] = None,
    budget: Optional[float] = None,
    title: str = "Design search: objective against payout risk",
    subtitle: Optional[str] = None,
    size: Size = DEFAULT_SIZE,
) -> Chart:
    """A design search's designs: ``value`` (the objective) against ``risk`` (P95 payout
    before the budget), one point per design, the Pareto front (``front``) highlighted,
    the ``current`` and ``chosen`` designs marked. An objective named ``roi`` or
    ``payout_per_incremental_revenue`` is a ratio (percent axis), any other is money.

    >>> from rebatesim import charts
    >>> charts.pareto([1.0e6, 1.2e6], [2.0e5, 2.5e5], [True, True], currency="EUR").kind
    'pareto'
    """
    r = [float(v) for v in risk]
    v = [float(x) for x in value]
    f = [bool(x) for x in front]
    money = objective not in ("roi", "payout_per_incremental_revenue")
    label = {"net_margin": "Expected incremental margin less payout", "incremental_margin": "Expected incremental margin",
             "roi": "Expected ROI", "payout_per_incremental_revenue": "Payout per incremental revenue"}.get(
                 objective, objective.replace("_", " ").capitalize())
    pt = [None if p is None else (float(p[0]), float(p[1])) for p in (current, chosen)]
    w, h = _size(size)
    core = _core.pareto_chart(title, currency, label, money, r, v, f, pt[0], pt[1], _opt_float(budget, "budget"),
                              subtitle, w, h)
    return Chart(core)
