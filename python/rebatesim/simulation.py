"""Monte Carlo simulation of partner purchasing under a programme.

>>> import rebatesim as rs
>>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
...                      [rs.volume("vol", [(20_000, "1%"), (40_000, "2%")])], segments=["small"])
>>> pop = rs.Population.synthetic({"small": {"count": 200, "median_baseline": 100_000, "dispersion": 0.5}}, seed=1)
>>> model = rs.Model.from_dict({"noise": {"sigma": 0.2}, "market": {"sigma": 0.1}})
>>> r = rs.simulate(p, pop, model, scenarios=200, seed=7, progress=False)
>>> r.n_scenarios
200
>>> bool(r.payout.mean() > 0)
True
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _checks, _core, _format
from ._values import to_json_text
from .exceptions import ModelError, RequestError
from .programme import Programme

__all__ = ["Model", "Population", "simulate", "compare", "SimulationResult", "Comparison"]

PathLike = Union[str, "os.PathLike[str]"]

_OUTCOMES = [
    "payout",
    "payout_before_budget",
    "revenue",
    "revenue_counterfactual",
    "incremental_revenue",
    "incremental_margin",
    "roi",
    "payout_counterfactual",
    "deadweight_share",
    "stretches",
]
_STATS = ["mean", "sd", "p5", "p50", "p90", "p95", "p99"]


def _file(file: Any) -> Optional[str]:
    """The ``file=`` name of ``from_toml``/``from_json``/``from_yaml`` (for messages)."""
    return None if file is None else _checks.text("file", file)


class Model:
    """A demand model: seasonality, growth, market and segment factors, partner factor,
    noise, churn, returns, orders, economics and behavioural response (each section
    optional; the all-default model is deterministic demand at the baseline).

    >>> import rebatesim as rs
    >>> m = rs.Model.from_toml('[noise]\\nsigma = 0.25\\n')
    >>> rs.Model.from_toml(m.to_toml()) == m
    True
    """

    __slots__ = ("_core",)

    def __init__(self, core: "_core.DemandModel") -> None:
        if not isinstance(core, _core.DemandModel):
            raise TypeError("use Model.from_file, from_dict, from_toml, from_json, from_yaml or default")
        self._core = core

    @classmethod
    def default(cls) -> "Model":
        """The all-default model (no noise: demand equals the baseline)."""
        return cls(_core.DemandModel.default())

    @classmethod
    def from_file(cls, path: PathLike) -> "Model":
        """Read a model file (``.toml``, ``.json``, ``.yaml``); raises
        :class:`~rebatesim.ModelError` naming the field and line."""
        return cls(_core.DemandModel.from_file(_checks.path("model", path)))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Model":
        """Build a model from a dict with the file format's keys."""
        if not isinstance(d, Mapping):
            raise ModelError(f"expected a dict describing a demand model, found {type(d).__name__}")
        return cls(_core.DemandModel.from_text(to_json_text(dict(d), ModelError), "json", None, False))

    @classmethod
    def from_toml(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in TOML."""
        return cls(_core.DemandModel.from_text(_checks.document_text(text, "model", file), "toml", _file(file)))

    @classmethod
    def from_json(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in JSON."""
        return cls(_core.DemandModel.from_text(_checks.document_text(text, "model", file), "json", _file(file)))

    @classmethod
    def from_yaml(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in YAML."""
        return cls(_core.DemandModel.from_text(_checks.document_text(text, "model", file), "yaml", _file(file)))

    def to_toml(self) -> str:
        """The model as TOML."""
        return self._core.to_text("toml")

    def to_json(self) -> str:
        """The model as JSON."""
        return self._core.to_text("json")

    def to_yaml(self) -> str:
        """The model as YAML."""
        return self._core.to_text("yaml")

    def to_dict(self) -> Dict[str, Any]:
        """The model as a dict (every section, defaults filled in)."""
        return json.loads(self.to_json())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return self._core == other._core

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Model {self.to_dict().get('description') or ''!r}>"


class Population:
    """The partners to simulate: from a partner table (``partner_id``, ``segment``,
    ``baseline_revenue`` and/or ``baseline_units``, optional ``unit_price``,
    ``margin_rate`` and ``mix_<category>`` shares), or synthetic.

    >>> import rebatesim as rs
    >>> pop = rs.Population.synthetic({"small": {"count": 3, "median_baseline": 50_000}})
    >>> len(pop), pop.segments
    (3, ['small'])
    """

    __slots__ = ("_core",)

    def __init__(self, core: "_core.Population") -> None:
        if not isinstance(core, _core.Population):
            raise TypeError("use Population.from_csv or Population.synthetic")
        self._core = core

    @classmethod
    def from_csv(cls, source: Any) -> "Population":
        """A population from a CSV path or a pandas DataFrame (passed as CSV text, so a
        DataFrame and a file report the same row numbers)."""
        if isinstance(source, (str, os.PathLike)):
            return cls(_core.Population.from_csv_path(_checks.path("population", source)))
        from .settlement import _frame_csv, _is_frame

        if _is_frame(source):
            return cls(_core.Population.from_csv_text(_frame_csv(source, ""), "partners"))
        raise RequestError(f"population: expected a CSV path or a pandas DataFrame, found {type(source).__name__}")

    @classmethod
    def synthetic(cls, segments: Mapping[str, Mapping[str, Any]], *, basis: str = "revenue", seed: int = 0) -> "Population":
        """A synthetic population: per segment ``count`` partners with lognormal
        baselines ``median_baseline · exp(dispersion · Z)`` (optional ``unit_price``,
        ``margin_rate``), reproducible from ``seed``."""
        if not isinstance(segments, Mapping) or not all(isinstance(v, Mapping) for v in segments.values()):
            raise ModelError("segments: expected a dict of segment name → {count, median_baseline, ...}",
                             path="segments", reason="expected a dict of segment name → {count, median_baseline, ...}")
        spec = {"basis": _checks.text("basis", basis, error=ModelError),
                "segments": {k: dict(v) for k, v in segments.items()}}
        return cls(_core.Population.synthetic(to_json_text(spec, ModelError), _checks.seed(seed)))

    @property
    def partner_ids(self) -> List[str]:
        """Partner ids, in table order."""
        return self._core.partner_ids()

    @property
    def segments(self) -> List[str]:
        """Segment names (sorted)."""
        return self._core.segments

    def to_frame(self) -> Any:
        """Partner ids and segments as a DataFrame."""
        import pandas as pd

        return pd.DataFrame({"partner_id": self._core.partner_ids(), "segment": self._core.partner_segments()})

    def __len__(self) -> int:
        return len(self._core)

    def __repr__(self) -> str:
        return f"<Population: {len(self):,} partners in segments {', '.join(self.segments)}>"


# --------------------------------------------------------------------- inputs
def _programme(p: Any) -> Programme:
    from .settlement import _as_programme

    return _as_programme(p)


def _population(p: Any) -> Population:
    if isinstance(p, Population):
        return p
    return Population.from_csv(p)


def _model(m: Any) -> Model:
    if m is None:
        return Model.default()
    if isinstance(m, Model):
        return m
    if isinstance(m, Mapping):
        return Model.from_dict(m)
    if isinstance(m, (str, os.PathLike)):
        return Model.from_file(m)
    raise RequestError(f"model: expected a Model, a dict or a file path, found {type(m).__name__}")


class _Progress:
    """A tqdm bar fed by the engine's progress callback (shown on terminals and notebooks)."""

    def __init__(self, progress: Any, desc: str) -> None:
        self.bar = None
        self.callback: Optional[Callable[[int, int], Any]] = None
        if callable(progress):
            self.callback = progress
        elif progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover
                return
            self.tqdm = tqdm
            self.desc = desc
            self.callback = self._update

    def _update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = self.tqdm(total=total, desc=self.desc, unit="scenario", disable=None, leave=False)
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _kwargs(scenarios: Any, seed: Any, threads: Any, chunk_size: Any, precision: Any,
            max_scenarios: Any, memory_limit: Any) -> Dict[str, Any]:
    """The run options of ``_core.simulate``, ``compare`` and ``sensitivity`` (``_core._RunArgs``:
    every key, ``None`` for the engine's default), checked (:mod:`rebatesim._checks`)."""
    stat, tol = _checks.precision(precision)
    return dict(
        scenarios=_checks.scenarios(scenarios), seed=_checks.seed(seed), threads=_checks.threads(threads),
        chunk_size=_checks.optional_whole_number("chunk_size", chunk_size, 1, _checks.MAX_SCENARIOS),
        statistic=stat, tolerance=tol,
        max_scenarios=_checks.optional_whole_number("max_scenarios", max_scenarios, 1, _checks.MAX_SCENARIOS),
        memory_limit=_checks.optional_whole_number("memory_limit", memory_limit, 1, _checks.MAX_BYTES),
    )


def simulate(
    programme: Any,
    population: Any,
    model: Any = None,
    *,
    scenarios: int = 1000,
    seed: int = 0,
    threads: Optional[int] = None,
    chunk_size: Optional[int] = None,
    precision: Any = None,
    max_scenarios: Optional[int] = None,
    memory_limit: Optional[int] = None,
    progress: Any = True,
) -> "SimulationResult":
    """Simulate ``scenarios`` possible runs of ``programme`` for ``population`` under
    the demand ``model``, each also run without the programme on the same random
    numbers. Results are bit-identical for any ``threads`` (default: all cores).

    ``precision`` runs until a statistic's standard error is within a tolerance
    instead: a number (tolerance on the mean payout), ``("p95", 50_000)`` or
    ``{"statistic": "mean", "tolerance": 10_000}``, up to ``max_scenarios``.
    ``progress`` shows a tqdm bar (True), nothing (False) or calls
    ``progress(done, total)``. Ctrl-C stops promptly with KeyboardInterrupt; the
    GIL is released while simulating.

    ``programme``: Programme, dict or path; ``population``: Population, DataFrame
    or CSV path; ``model``: Model, dict, path or None (the default model).
    """
    prog = _programme(programme)
    pop = _population(population)
    mod = _model(model)
    kw = _kwargs(scenarios, seed, threads, chunk_size, precision, max_scenarios, memory_limit)
    bar = _Progress(progress, prog.name)
    try:
        core = _core.simulate(prog._spec, pop._core, mod._core, kw, progress=bar.callback)
    finally:
        bar.close()
    r = SimulationResult(core.meta(), core.summaries(), core.per_scenario(), core.matrices(), core.partner_ids())
    r._programme = prog
    return r


def compare(
    designs: Union[Mapping[str, Any], Sequence[Tuple[str, Any]]],
    population: Any,
    model: Any = None,
    *,
    scenarios: int = 1000,
    seed: int = 0,
    threads: Optional[int] = None,
    chunk_size: Optional[int] = None,
    precision: Any = None,
    max_scenarios: Optional[int] = None,
    memory_limit: Optional[int] = None,
    progress: Any = True,
) -> "Comparison":
    """Simulate several designs on the same population and model with common random
    numbers (every design sees the same demand draws) and report each design's
    results and its paired difference against the first design.

    >>> import rebatesim as rs
    >>> base = rs.Programme.new("A", "EUR", "2027-01-01", "year", 1,
    ...                         [rs.volume("vol", [(80_000, "1%")])], segments=["s"])
    >>> rich = rs.Programme.new("B", "EUR", "2027-01-01", "year", 1,
    ...                         [rs.volume("vol", [(80_000, "2%")])], segments=["s"])
    >>> pop = rs.Population.synthetic({"s": {"count": 100, "median_baseline": 100_000, "dispersion": 0.3}})
    >>> c = rs.compare({"A": base, "B": rich}, pop, {"noise": {"sigma": 0.2}}, scenarios=100, progress=False)
    >>> bool(c.differences.loc["B", "payout_mean"] > 0)
    True
    """
    if not isinstance(designs, (Mapping, Sequence)) or isinstance(designs, str):
        raise RequestError(f"designs: expected a dict of name → programme or (name, programme) pairs, "
                           f"found {type(designs).__name__}")
    items = list(designs.items()) if isinstance(designs, Mapping) else list(designs)
    if len(items) < 2:
        raise RequestError("compare needs at least two designs")
    for i, item in enumerate(items):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise RequestError(f"designs[{i}]: expected a (name, programme) pair, found {type(item).__name__}")
    names = [_checks.text(f"designs[{i}] name", str(n)) for i, (n, _) in enumerate(items)]
    progs = [_programme(p) for _, p in items]
    pop = _population(population)
    mod = _model(model)
    kw = _kwargs(scenarios, seed, threads, chunk_size, precision, max_scenarios, memory_limit)
    bar = _Progress(progress, "compare")
    try:
        core = _core.compare(names, [p._spec for p in progs], pop._core, mod._core, kw, progress=bar.callback)
    finally:
        bar.close()
    results = {}
    for i, name in enumerate(core.names()):
        r = SimulationResult(core.meta(i), core.summaries(i), core.per_scenario(i), core.matrices(i), core.partner_ids(i))
        r._programme = progs[i]
        results[name] = r
    return Comparison(results, json.loads(core.differences()))


# --------------------------------------------------------------------- results
def _summary_row(s: Optional[Mapping[str, Any]]) -> Dict[str, float]:
    row: Dict[str, float] = {}
    for stat in _STATS:
        e = (s or {}).get(stat) or {}
        row[stat] = _num(e.get("value"))
        row[f"{stat}_se"] = _num(e.get("se"))
    pe = (s or {}).get("p_exceed")
    row["p_exceed"] = _num(pe.get("value")) if pe else float("nan")
    row["p_exceed_se"] = _num(pe.get("se")) if pe else float("nan")
    return row


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _records(df: Any) -> List[Dict[str, Any]]:
    """A DataFrame as JSON-ready records (index as the first field, NaN as None)."""
    out = []
    name = df.index.name or "index"
    for idx, row in df.iterrows():
        rec: Dict[str, Any] = {name: idx}
        for k, v in row.items():
            f = float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v
            rec[str(k)] = None if isinstance(f, float) and f != f else f
        out.append(rec)
    return out


def _run_frame(r: "SimulationResult") -> Any:
    import pandas as pd

    from . import __version__

    rows: List[Tuple[str, Any]] = [
        ("programme", r.meta["programme"]), ("currency", r.currency), ("scenarios", r.n_scenarios),
        ("seed", r.seed), ("budget", r.budget if r.budget is not None else "none"),
        ("precision_met", "no target" if r.precision_met is None else str(r.precision_met)),
        ("segments", ", ".join(r.meta["segments"])), ("components", ", ".join(r.meta["components"])),
        ("rebatesim", __version__),
    ]
    if r.programme is not None:
        rows.insert(1, ("start", r.programme.start.isoformat()))
        rows.insert(2, ("end", r.programme.end.isoformat()))
    df = pd.DataFrame(rows, columns=["setting", "value"]).set_index("setting")
    df["value"] = df["value"].astype(str)
    return df


def _write_excel(path: PathLike, sheets: Mapping[str, Any], decimals: int = _format.DEFAULT_DECIMALS) -> None:
    """Write DataFrames as the sheets of one workbook, atomically (see :func:`rebatesim._format.write_excel`:
    numbers rounded by kind with number formats, strings never formulas)."""
    _format.write_excel(path, sheets, decimals)


# What each row of :attr:`SimulationResult.summary` measures (its generic columns mean, p95 … alike).
_OUTCOME_KINDS = {o: _format.MONEY for o in _OUTCOMES}
_OUTCOME_KINDS.update({"roi": _format.RATIO, "deadweight_share": _format.RATIO, "stretches": _format.NUMBER})


class SimulationResult:
    """The result of :func:`simulate`.

    - :attr:`summary`: mean, sd, P5/P50/P90/P95/P99 of every outcome, each with its
      Monte Carlo standard error (``*_se``), and P(payout before budget > budget);
    - :attr:`payout` (array per scenario), :attr:`per_scenario` (DataFrame);
    - :meth:`by_segment`, :meth:`by_component`, :attr:`tiers`, :attr:`accrual`,
      :attr:`partners` (expected payout and probability of reaching each tier);
    - :attr:`budget_binding` (probability, se), :attr:`tier_counts` (array
      scenarios × ladders × tiers).
    """

    def __init__(self, meta: str, summaries: str, per_scenario: Dict[str, Any], matrices: Dict[str, Any], partner_ids: List[str]) -> None:
        self.meta: Dict[str, Any] = json.loads(meta)
        self._summaries: Dict[str, Any] = json.loads(summaries)
        self._per: Dict[str, np.ndarray] = per_scenario
        self._mat: Dict[str, np.ndarray] = matrices
        self._partner_ids = partner_ids
        self._programme: Optional[Programme] = None  # set by simulate() and compare()

    # ---------------------------------------------------------------- basics
    @property
    def n_scenarios(self) -> int:
        """Number of scenarios run."""
        return int(self.meta["scenarios"])

    @property
    def seed(self) -> int:
        """The random seed."""
        return int(self.meta["seed"])

    @property
    def currency(self) -> str:
        """Currency code."""
        return str(self.meta["currency"])

    @property
    def budget(self) -> Optional[float]:
        """Programme budget, or None."""
        return self.meta["budget"]

    @property
    def precision_met(self) -> Optional[bool]:
        """Whether the precision target was met (None without one)."""
        return self.meta["precision_met"]

    @property
    def payout(self) -> np.ndarray:
        """Total payout (after the budget) per scenario."""
        return self._per["payout"].copy()

    @property
    def per_scenario(self) -> Any:
        """One row per scenario: payout (before/after budget), budget_binds, revenue
        (with and without the programme), incremental revenue and margin, ROI,
        deadweight share, stretches."""
        import pandas as pd

        df = pd.DataFrame({k: v for k, v in self._per.items()})
        df.index.name = "scenario"
        return df

    @property
    def summary(self) -> Any:
        """Summary statistics of every outcome with their standard errors."""
        import pandas as pd

        rows = {name: _summary_row(self._summaries.get(name)) for name in _OUTCOMES}
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "outcome"
        return df

    @property
    def budget_binding(self) -> Tuple[float, float]:
        """(probability that the budget binds, its standard error)."""
        b = self._summaries["budget_binding"]
        return (_num(b["value"]), _num(b["se"]))

    def _by(self, key: str, names: List[str]) -> Any:
        import pandas as pd

        m = self._mat[key]
        n = max(self.n_scenarios, 1)
        sd = m.std(axis=0, ddof=1) if self.n_scenarios > 1 else np.full(len(names), np.nan)
        return pd.DataFrame({"mean": m.mean(axis=0), "se": sd / np.sqrt(n), "p95": np.percentile(m, 95, axis=0) if len(m) else np.nan}, index=pd.Index(names))

    def _by_finite(self, key: str, names: List[str]) -> Any:
        """As :meth:`_by` over the finite values of each column only (a ratio is NaN in a
        scenario where its segment is paid nothing; the summaries of the totals leave such
        scenarios out the same way)."""
        import pandas as pd

        m = self._mat[key]
        rows = []
        for j in range(len(names)):
            x = m[:, j][np.isfinite(m[:, j])] if len(m) else np.zeros(0)
            n = len(x)
            rows.append({
                "mean": x.mean() if n else np.nan,
                "se": x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                "p95": np.percentile(x, 95) if n else np.nan,
            })
        return pd.DataFrame(rows, columns=["mean", "se", "p95"], index=pd.Index(names))

    def by_segment(self) -> Any:
        """Per segment, mean (with standard error ``*_se``) and P95 over the scenarios of:
        payout (after the budget), revenue with the programme and without it
        (``revenue_counterfactual``), incremental revenue and margin, the payout the
        programme would make on the counterfactual purchases (``payout_counterfactual``),
        ROI and deadweight share. Each is defined on the segment's figures as the total
        is (ROI = (incremental margin − payout) / payout; deadweight share =
        min(payout counterfactual, payout) / payout); the additive ones add up to the
        totals. ROI and deadweight share are NaN in a scenario where the segment is paid
        nothing; such scenarios are left out of their mean.

        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "year", 1,
        ...                      [rs.volume("vol", [(50_000, "2%")])], segments=["a", "b"])
        >>> pop = rs.Population.from_csv(__import__("pandas").DataFrame({
        ...     "partner_id": ["A1", "B1"], "segment": ["a", "b"],
        ...     "baseline_revenue": [120_000.0, 60_000.0], "margin_rate": [0.3, 0.1]}))
        >>> seg = rs.simulate(p, pop, {"behaviour": {"uplift": {"elasticity": 5}}},
        ...                   scenarios=4, progress=False).by_segment()
        >>> seg[["payout_mean", "incremental_margin_mean", "roi_mean", "deadweight_share_mean"]].round(4)
                 payout_mean  incremental_margin_mean  roi_mean  deadweight_share_mean
        segment
        a             2640.0                   3600.0    0.3636                 0.9091
        b             1320.0                    600.0   -0.5455                 0.9091
        """
        segs = list(self.meta["segments"])
        parts = [
            self._by("segment_payout", segs).add_prefix("payout_"),
            self._by("segment_revenue", segs).add_prefix("revenue_"),
        ]
        for key in ("revenue_counterfactual", "incremental_revenue", "incremental_margin", "payout_counterfactual"):
            parts.append(self._by(f"segment_{key}", segs).add_prefix(f"{key}_"))
        for key in ("roi", "deadweight_share"):
            parts.append(self._by_finite(f"segment_{key}", segs).add_prefix(f"{key}_"))
        out = parts[0].join(parts[1:])
        out.index.name = "segment"
        return out

    def by_component(self) -> Any:
        """Mean payout per component (with standard error and P95)."""
        out = self._by("component_payout", list(self.meta["components"])).add_prefix("payout_")
        out.index.name = "component"
        return out

    @property
    def tier_counts(self) -> np.ndarray:
        """Partners per tier: array scenarios × ladders × (max tiers + 1); tier 0 is
        below the first threshold; ladders in :attr:`meta` ``["ladders"]`` order."""
        ladders = self.meta["ladders"]
        flat = self._mat["tier_counts"]
        width = max((l["tiers"] for l in ladders), default=0) + 1
        out = np.zeros((self.n_scenarios, len(ladders), width), dtype=np.int64)
        off = 0
        for j, l in enumerate(ladders):
            out[:, j, : l["tiers"] + 1] = flat[:, off : off + l["tiers"] + 1]
            off += l["tiers"] + 1
        return out

    @property
    def tiers(self) -> Any:
        """Partners in each tier of each ladder (tier 0: below the first threshold):
        mean over scenarios with its standard error, P5 and P95, and ``label`` (the
        ladder's segment when it applies to one segment, else the component's name)."""
        import pandas as pd

        rows = []
        counts = self.tier_counts
        n = self.n_scenarios
        labels = self._ladder_labels()
        for j, l in enumerate(self.meta["ladders"]):
            for t in range(l["tiers"] + 1):
                x = counts[:, j, t].astype(np.float64)
                rows.append({
                    "component": l["component"], "tier": t,
                    "mean_partners": x.mean() if n else np.nan,
                    "mean_partners_se": x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                    "p5": np.percentile(x, 5) if n else np.nan,
                    "p95": np.percentile(x, 95) if n else np.nan,
                    "label": labels[j],
                })
        return pd.DataFrame(rows, columns=["component", "tier", "mean_partners", "mean_partners_se", "p5", "p95", "label"])

    @property
    def accrual(self) -> Any:
        """Mean accrual per programme month and mean cash paid per month."""
        import pandas as pd

        acc = self._mat["accrual"].mean(axis=0) if self.n_scenarios else np.zeros(0)
        cash = self._mat["cash"].mean(axis=0) if self.n_scenarios else np.zeros(0)
        n = max(len(acc), len(cash))
        a = np.full(n, np.nan)
        a[: len(acc)] = acc
        c = np.full(n, np.nan)
        c[: len(cash)] = cash
        df = pd.DataFrame({"month": np.arange(1, n + 1), "accrual": a, "cash": c})
        return df

    @property
    def programme(self) -> Optional[Programme]:
        """The programme simulated (None for a result built by hand)."""
        return self._programme

    def _month_labels(self, n: int) -> List[str]:
        """``YYYY-MM`` of the programme months from the start (``M1``… without a programme)."""
        if self._programme is None:
            return [f"M{i + 1}" for i in range(n)]
        start = self._programme.start
        out = []
        for i in range(n):
            y, m = divmod(start.month - 1 + i, 12)
            out.append(f"{start.year + y:04d}-{m + 1:02d}")
        return out

    def _schedule(self, key: str) -> Any:
        import pandas as pd

        m = np.ascontiguousarray(self._mat[key], dtype=np.float64)
        b = _core.cumulative_bands(m)
        cols = ["month_mean", "month_mean_se", "mean", "mean_se", "p10", "p25", "p50", "p75", "p90",
                "p10_se", "p25_se", "p50_se", "p75_se", "p90_se"]
        df = pd.DataFrame({c: b[c] for c in cols}, index=pd.Index(self._month_labels(m.shape[1]), name="month"))
        return df.rename(columns={"month_mean": "in_month", "month_mean_se": "in_month_se"})

    def accrual_schedule(self) -> Any:
        """The accrual profile before the year: per programme month (index ``YYYY-MM``),
        the expected liability accrued in the month (``in_month``) and to date at its end
        (``mean``), and the P10/P25/P50/P75/P90 of the amount to date across scenarios,
        each with its Monte Carlo standard error (``*_se``). Each period's payout (after
        the budget) is accrued over its months in proportion to their revenue.

        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
        ...                      [rs.volume("vol", [(20_000, "1%"), (40_000, "2%")])], segments=["s"])
        >>> pop = rs.Population.synthetic({"s": {"count": 50, "median_baseline": 100_000}}, seed=1)
        >>> a = rs.simulate(p, pop, {"noise": {"sigma": 0.2}}, scenarios=50, progress=False).accrual_schedule()
        >>> list(a.index[:2]), list(a.columns[:4])
        (['2027-01', '2027-02'], ['in_month', 'in_month_se', 'mean', 'mean_se'])
        >>> bool((a["p10"] <= a["p90"]).all())
        True
        """
        return self._schedule("accrual")

    def cash_schedule(self) -> Any:
        """The cash schedule: per month from the programme start to the last payment
        date, the expected cash paid in the month (``in_month``) and to date (``mean``),
        and P10–P90 of the cash paid to date, each with its standard error (``*_se``).

        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
        ...                      [rs.volume("vol", [(20_000, "1%")])], segments=["s"])
        >>> pop = rs.Population.synthetic({"s": {"count": 50, "median_baseline": 100_000}}, seed=1)
        >>> r = rs.simulate(p, pop, None, scenarios=20, progress=False)
        >>> c = r.cash_schedule()
        >>> bool(abs(c["mean"].iloc[-1] - r.payout.mean()) < 1e-6 * r.payout.mean())
        True
        """
        return self._schedule("cash")

    def _ladder_labels(self) -> List[str]:
        """A label per ladder: its segment when the component applies to one segment,
        else the component's name."""
        comps: Dict[str, Any] = {}
        if self._programme is not None:
            comps = {c.get("id"): c for c in self._programme.describe().get("components", [])}
        out = []
        for l in self.meta["ladders"]:
            c = comps.get(l["component"]) or {}
            segs = (c.get("scope") or {}).get("segments") if isinstance(c.get("scope"), Mapping) else c.get("segments")
            if segs and len(segs) == 1:
                out.append(str(segs[0]))
            else:
                out.append(str(c.get("name") or l["component"]))
        return out

    @property
    def partners(self) -> Any:
        """Per partner: expected payout (after and before the budget) and the
        probability of reaching each tier of each ladder (``p_<component>_t<k>``)."""
        import pandas as pd

        df = pd.DataFrame({
            "partner_id": self._partner_ids,
            "expected_payout": self._mat["partner_expected_payout"],
            "expected_payout_before_budget": self._mat["partner_expected_payout_before_budget"],
        })
        probs = self._mat["partner_tier_probability"]
        off = 0
        for l in self.meta["ladders"]:
            for t in range(1, l["tiers"] + 1):
                df[f"p_{l['component']}_t{t}"] = probs[:, off + t - 1]
            off += l["tiers"]
        return df

    def to_dict(self) -> Dict[str, Any]:
        """Metadata, summaries and the monthly accrual and cash schedules as a
        JSON-ready dict."""
        return {
            "meta": self.meta,
            "summary": self._summaries,
            "accrual_schedule": _records(self.accrual_schedule()),
            "cash_schedule": _records(self.cash_schedule()),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON: money rounded to the currency's minor unit, ratios and
        probabilities to 6 decimal places, NaN as null (:mod:`rebatesim._format`)."""
        return _format.json_text(self.to_dict(), self._decimals)

    @property
    def _decimals(self) -> int:
        """Decimal places of the currency's minor unit (the programme's ``decimals``)."""
        return self._programme.decimals if self._programme is not None else _format.DEFAULT_DECIMALS

    def _table_specs(self) -> Dict[str, Tuple[Any, Dict[str, Any]]]:
        """Every table of the CSV files and the workbook with how its numbers are written
        (:func:`rebatesim._format.csv_text`): name → (DataFrame, options)."""
        return {
            "summary": (self.summary, {"rows": _OUTCOME_KINDS.get}),
            "scenarios": (self.per_scenario, {}),
            "segments": (self.by_segment(), {}),
            "components": (self.by_component(), {}),
            "tiers": (self.tiers, {"default": _format.NUMBER, "index": False}),
            "accrual": (self.accrual, {"index": False}),
            "accrual_schedule": (self.accrual_schedule(), {"default": _format.MONEY}),
            "cash_schedule": (self.cash_schedule(), {"default": _format.MONEY}),
            "partners": (self.partners, {"index": False}),
        }

    def _csv_files(self) -> Dict[str, str]:
        files = {f"{name}.csv": _format.csv_text(df, self._decimals, **opts)
                 for name, (df, opts) in self._table_specs().items()}
        files["summary.json"] = self.to_json() + "\n"
        return files

    def to_csv(self, directory: PathLike, *, force: bool = False) -> None:
        """Write summary.csv, scenarios.csv, segments.csv, components.csv, tiers.csv,
        accrual.csv, accrual_schedule.csv, cash_schedule.csv, partners.csv and
        summary.json into ``directory``, atomically."""
        from .outputs import write_folder

        write_folder(directory, self._csv_files(), force=force)

    def excel_sheets(self) -> Dict[str, Any]:
        """The DataFrames of :meth:`to_excel`, by sheet name."""
        return {name: df for name, (df, _) in self._excel_specs().items()}

    def _excel_specs(self) -> Dict[str, Tuple[Any, Dict[str, Any]]]:
        t = self._table_specs()
        kw = {"summary": t["summary"][1], "accrual_schedule": t["accrual_schedule"][1],
              "cash_schedule": t["cash_schedule"][1], "tiers": {"default": _format.NUMBER}}
        return {name: (df, kw.get(name, {})) for name, df in self._excel_frames().items()}

    def _excel_frames(self) -> Dict[str, Any]:
        return {
            "summary": self.summary,
            "segments": self.by_segment(),
            "components": self.by_component(),
            "tiers": self.tiers.set_index(["component", "tier"]),
            "accrual_schedule": self.accrual_schedule(),
            "cash_schedule": self.cash_schedule(),
            "partners": self.partners.set_index("partner_id"),
            "scenarios": self.per_scenario,
            "run": _run_frame(self),
        }

    def to_excel(self, path: PathLike) -> None:
        """Write an Excel workbook (``.xlsx``, XlsxWriter) with the sheets summary,
        segments, components, tiers, accrual_schedule, cash_schedule, partners,
        scenarios and run (the run's settings), atomically (a temporary file in the same
        folder, then renamed). Numbers are written as the CSV files write them (money rounded
        to the currency's minor unit and shown as ``#,##0.00``, ratios to 6 places, see
        :mod:`rebatesim._format`), and every text cell as text, never as a formula.

        >>> import os, tempfile
        >>> import pandas as pd
        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
        ...                      [rs.volume("vol", [(20_000, "1%")])], segments=["s"])
        >>> pop = rs.Population.synthetic({"s": {"count": 20, "median_baseline": 100_000}}, seed=1)
        >>> r = rs.simulate(p, pop, {"noise": {"sigma": 0.2}}, scenarios=20, progress=False)
        >>> path = os.path.join(tempfile.mkdtemp(), "forecast.xlsx")
        >>> r.to_excel(path)
        >>> back = pd.read_excel(path, sheet_name=None, index_col=0)
        >>> sorted(back)[:4]
        ['accrual_schedule', 'cash_schedule', 'components', 'partners']
        >>> bool(back["summary"].loc["payout", "mean"] == round(r.summary.loc["payout", "mean"], 2))  # to the cent
        True
        """
        _write_excel(path, self._excel_specs(), self._decimals)

    def _est(self, outcome: str, stat: str = "mean") -> str:
        e = (self._summaries.get(outcome) or {}).get(stat) or {}
        v, se = e.get("value"), e.get("se")
        if v is None:
            return "n/a"
        return f"{v:,.0f} ± {se:,.0f}" if se is not None else f"{v:,.0f}"

    def __repr__(self) -> str:
        return (
            f"<SimulationResult {self.meta['programme']!r}: {self.n_scenarios:,} scenarios, "
            f"mean payout {self._est('payout')} {self.currency}, P95 {self._est('payout', 'p95')}>"
        )

    def _repr_html_(self) -> str:
        from .report import result_html

        return result_html(self)


class Comparison:
    """The result of :func:`compare`: :attr:`results` (name → SimulationResult),
    :attr:`differences` (paired differences against the first design, with standard
    errors), :attr:`summary` (mean payout, revenue, incremental margin, ROI per design)."""

    def __init__(self, results: Dict[str, SimulationResult], differences: List[Dict[str, Any]]) -> None:
        self.results = results
        self._diff = differences

    @property
    def names(self) -> List[str]:
        """Design names, reference first."""
        return list(self.results)

    def __getitem__(self, name: str) -> SimulationResult:
        return self.results[name]

    @property
    def summary(self) -> Any:
        """Per design: mean payout and P95 payout, mean revenue, incremental margin, ROI
        and P(budget binds), each with its standard error (``*_se``)."""
        import pandas as pd

        rows = {}
        for name, r in self.results.items():
            s = r.summary
            rows[name] = {
                "payout_mean": s.loc["payout", "mean"], "payout_mean_se": s.loc["payout", "mean_se"],
                "payout_p95": s.loc["payout", "p95"], "payout_p95_se": s.loc["payout", "p95_se"],
                "revenue_mean": s.loc["revenue", "mean"],
                "incremental_margin_mean": s.loc["incremental_margin", "mean"],
                "roi_mean": s.loc["roi", "mean"],
                "budget_binding": r.budget_binding[0],
                "revenue_mean_se": s.loc["revenue", "mean_se"],
                "incremental_margin_mean_se": s.loc["incremental_margin", "mean_se"],
                "roi_mean_se": s.loc["roi", "mean_se"],
                "budget_binding_se": r.budget_binding[1],
            }
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "design"
        return df

    @property
    def differences(self) -> Any:
        """Paired differences (design − reference, on the same scenarios): mean and se
        of payout, revenue, incremental margin, ROI, deadweight share and budget-binding
        probability. A scenario where either design pays nothing has no ROI or deadweight
        share and is left out of those two (``roi_n`` scenarios remain).

        >>> import rebatesim as rs
        >>> pop = rs.Population.from_csv(__import__("pandas").DataFrame({
        ...     "partner_id": ["A1", "B1"], "segment": ["s", "s"],
        ...     "baseline_revenue": [120_000.0, 60_000.0], "margin_rate": [0.3, 0.1]}))
        >>> def design(rate):
        ...     return rs.Programme.new(rate, "EUR", "2027-01-01", "year", 1, [rs.volume("vol", [(50_000, rate)])])
        >>> c = rs.compare({"A": design("2%"), "B": design("1%")}, pop,
        ...                {"behaviour": {"uplift": {"elasticity": 5}}}, scenarios=4, progress=False)
        >>> d = c.differences.loc["B"]
        >>> round(float(d["roi_mean"]), 6), round(float(d["deadweight_share_mean"]), 6), int(d["roi_n"])
        (0.050505, 0.04329, 4)
        """
        import pandas as pd

        rows = {}
        for d in self._diff:
            row: Dict[str, Any] = {"reference": d["reference"]}
            for key in ("payout", "revenue", "incremental_margin", "budget_binding", "roi", "deadweight_share"):
                mean = (d.get(key) or {}).get("mean") or {}
                row[f"{key}_mean"] = _num(mean.get("value"))
                row[f"{key}_se"] = _num(mean.get("se"))
            row["roi_n"] = int((d.get("roi") or {}).get("n") or 0)
            rows[d["design"]] = row
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "design"
        return df

    def _segments(self) -> Any:
        """Mean payout and ROI (± se) per segment and design: one row per segment."""
        import pandas as pd

        cols = {}
        for name, r in self.results.items():
            seg = r.by_segment()
            cols[(name, "payout_mean")] = seg["payout_mean"]
            cols[(name, "payout_se")] = seg["payout_se"]
            cols[(name, "roi_mean")] = seg["roi_mean"]
            cols[(name, "roi_se")] = seg["roi_se"]
        df = pd.DataFrame(cols)
        df.columns = [f"{d}: {k}" for d, k in df.columns]
        df.index.name = "segment"
        return df

    def _schedule(self, which: str) -> Any:
        import pandas as pd

        frames = {}
        for name, r in self.results.items():
            sch = r.accrual_schedule() if which == "accrual" else r.cash_schedule()
            frames[f"{name}: mean"] = sch["mean"]
            frames[f"{name}: p10"] = sch["p10"]
            frames[f"{name}: p90"] = sch["p90"]
        df = pd.DataFrame(frames)
        df.index.name = "month"
        return df

    @property
    def _decimals(self) -> int:
        return max((r._decimals for r in self.results.values()), default=_format.DEFAULT_DECIMALS)

    def _excel_specs(self) -> Dict[str, Tuple[Any, Dict[str, Any]]]:
        money = {"default": _format.MONEY}
        return {name: (df, money if name.endswith("schedule") else {}) for name, df in self.excel_sheets().items()}

    def _csv_files(self) -> Dict[str, str]:
        """summary.csv (per design), differences.csv and segments.csv of a comparison report."""
        dp = self._decimals
        return {
            "summary.csv": _format.csv_text(self.summary, dp),
            "differences.csv": _format.csv_text(self.differences, dp),
            "segments.csv": _format.csv_text(self._segments(), dp),
        }

    def excel_sheets(self) -> Dict[str, Any]:
        """The DataFrames of :meth:`to_excel`, by sheet name."""
        return {
            "designs": self.summary,
            "differences": self.differences,
            "segments": self._segments(),
            "accrual_schedule": self._schedule("accrual"),
            "cash_schedule": self._schedule("cash"),
        }

    def to_excel(self, path: PathLike) -> None:
        """Write an Excel workbook (``.xlsx``) with the sheets designs (per design
        summary), differences (paired differences against the reference, with standard
        errors), segments (mean payout and ROI per segment and design), accrual_schedule and
        cash_schedule (mean, P10 and P90 to date per design), atomically.

        >>> import os, tempfile
        >>> import pandas as pd
        >>> import rebatesim as rs
        >>> a = rs.Programme.new("A", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(80_000, "1%")])], segments=["s"])
        >>> b = rs.Programme.new("B", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(80_000, "2%")])], segments=["s"])
        >>> pop = rs.Population.synthetic({"s": {"count": 30, "median_baseline": 100_000}})
        >>> c = rs.compare({"A": a, "B": b}, pop, {"noise": {"sigma": 0.2}}, scenarios=20, progress=False)
        >>> path = os.path.join(tempfile.mkdtemp(), "designs.xlsx")
        >>> c.to_excel(path)
        >>> sorted(pd.read_excel(path, sheet_name=None))
        ['accrual_schedule', 'cash_schedule', 'designs', 'differences', 'segments']
        """
        _write_excel(path, self._excel_specs(), self._decimals)

    def to_dict(self) -> Dict[str, Any]:
        """Every design's summaries and the paired differences, JSON-ready."""
        return {"designs": {n: r.to_dict() for n, r in self.results.items()}, "differences": self._diff}

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON, numbers written as :meth:`SimulationResult.to_json` writes them."""
        return _format.json_text(self.to_dict(), self._decimals)

    def __repr__(self) -> str:
        parts = []
        for d in self._diff:
            m = d["payout"]["mean"]
            parts.append(f"{d['design']} − {d['reference']}: payout {m['value']:+,.0f} ± {m['se']:,.0f}")
        return f"<Comparison of {', '.join(self.names)}: " + "; ".join(parts) + ">"

    def _repr_html_(self) -> str:
        from .report import comparison_html

        return comparison_html(self)
