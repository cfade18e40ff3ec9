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

from . import _core
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
        return cls(_core.DemandModel.from_file(os.fspath(path)))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Model":
        """Build a model from a dict with the file format's keys."""
        if not isinstance(d, Mapping):
            raise ModelError(f"expected a dict describing a demand model, found {type(d).__name__}")
        return cls(_core.DemandModel.from_text(to_json_text(dict(d)), "json", None, False))

    @classmethod
    def from_toml(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in TOML."""
        return cls(_core.DemandModel.from_text(text, "toml", file))

    @classmethod
    def from_json(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in JSON."""
        return cls(_core.DemandModel.from_text(text, "json", file))

    @classmethod
    def from_yaml(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in YAML."""
        return cls(_core.DemandModel.from_text(text, "yaml", file))

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
            return cls(_core.Population.from_csv_path(os.fspath(source)))
        from .settlement import _frame_csv, _is_frame

        if _is_frame(source):
            return cls(_core.Population.from_csv_text(_frame_csv(source, ""), "partners"))
        raise RequestError(f"population: expected a CSV path or a pandas DataFrame, found {type(source).__name__}")

    @classmethod
    def synthetic(cls, segments: Mapping[str, Mapping[str, Any]], *, basis: str = "revenue", seed: int = 0) -> "Population":
        """A synthetic population: per segment ``count`` partners with lognormal
        baselines ``median_baseline · exp(dispersion · Z)`` (optional ``unit_price``,
        ``margin_rate``), reproducible from ``seed``."""
        spec = {"basis": basis, "segments": {k: dict(v) for k, v in segments.items()}}
        return cls(_core.Population.synthetic(to_json_text(spec), int(seed)))

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


def _precision(precision: Any) -> Tuple[Optional[str], Optional[float]]:
    if precision is None:
        return None, None
    if isinstance(precision, (int, float)):
        return "mean", float(precision)
    if isinstance(precision, Mapping):
        return str(precision.get("statistic", "mean")), float(precision["tolerance"])
    try:
        stat, tol = precision
    except (TypeError, ValueError):
        raise RequestError(
            f"precision: expected a tolerance, (statistic, tolerance) or a dict, found {precision!r}"
        ) from None
    return str(stat), float(tol)


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


def _kwargs(scenarios: int, seed: int, threads: Optional[int], chunk_size: Optional[int], precision: Any,
            max_scenarios: Optional[int], memory_limit: Optional[int]) -> Dict[str, Any]:
    stat, tol = _precision(precision)
    if scenarios is None or int(scenarios) < 1:
        raise RequestError(f"scenarios: expected at least 1, found {scenarios}")
    if threads is not None and int(threads) < 1:
        raise RequestError(f"threads: expected at least 1, found {threads}")
    return dict(
        scenarios=int(scenarios), seed=int(seed), threads=None if threads is None else int(threads),
        chunk_size=chunk_size, statistic=stat, tolerance=tol, max_scenarios=max_scenarios,
        memory_limit=memory_limit,
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
        core = _core.simulate(prog._spec, pop._core, mod._core, progress=bar.callback, **kw)
    finally:
        bar.close()
    return SimulationResult(core.meta(), core.summaries(), core.per_scenario(), core.matrices(), core.partner_ids())


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
    items = list(designs.items()) if isinstance(designs, Mapping) else list(designs)
    if len(items) < 2:
        raise RequestError("compare needs at least two designs")
    names = [str(n) for n, _ in items]
    progs = [_programme(p) for _, p in items]
    pop = _population(population)
    mod = _model(model)
    kw = _kwargs(scenarios, seed, threads, chunk_size, precision, max_scenarios, memory_limit)
    bar = _Progress(progress, "compare")
    try:
        core = _core.compare(names, [p._spec for p in progs], pop._core, mod._core, progress=bar.callback, **kw)
    finally:
        bar.close()
    results = {
        name: SimulationResult(core.meta(i), core.summaries(i), core.per_scenario(i), core.matrices(i), core.partner_ids(i))
        for i, name in enumerate(core.names())
    }
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

    def by_segment(self) -> Any:
        """Mean payout and revenue per segment (with standard errors)."""
        segs = list(self.meta["segments"])
        pay = self._by("segment_payout", segs).add_prefix("payout_")
        rev = self._by("segment_revenue", segs).add_prefix("revenue_")
        out = pay.join(rev)
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
        """Mean number of partners in each tier of each ladder."""
        import pandas as pd

        rows = []
        counts = self.tier_counts
        for j, l in enumerate(self.meta["ladders"]):
            for t in range(l["tiers"] + 1):
                rows.append({"component": l["component"], "tier": t, "mean_partners": counts[:, j, t].mean() if len(counts) else np.nan})
        return pd.DataFrame(rows, columns=["component", "tier", "mean_partners"])

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
        """Metadata and summaries as a JSON-ready dict."""
        return {"meta": self.meta, "summary": self._summaries}

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=True)

    def to_csv(self, directory: PathLike, *, force: bool = False) -> None:
        """Write summary.csv, scenarios.csv, segments.csv, components.csv, tiers.csv,
        accrual.csv, partners.csv and summary.json into ``directory``, atomically."""
        from .settlement import write_outputs

        files = {
            "summary.csv": self.summary.to_csv(lineterminator="\n"),
            "scenarios.csv": self.per_scenario.to_csv(lineterminator="\n"),
            "segments.csv": self.by_segment().to_csv(lineterminator="\n"),
            "components.csv": self.by_component().to_csv(lineterminator="\n"),
            "tiers.csv": self.tiers.to_csv(index=False, lineterminator="\n"),
            "accrual.csv": self.accrual.to_csv(index=False, lineterminator="\n"),
            "partners.csv": self.partners.to_csv(index=False, lineterminator="\n"),
            "summary.json": self.to_json() + "\n",
        }
        write_outputs(os.fspath(directory), files, force=force)

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
        import html

        s = self.summary
        cell = 'style="padding:2px 8px;border-bottom:1px solid #ddd;text-align:{}"'
        head = "".join(f"<th {cell.format('right')}>{h}</th>" for h in ["mean", "sd", "P5", "P50", "P95", "P99"])
        rows = []
        for name in ["payout", "payout_before_budget", "revenue", "incremental_revenue", "incremental_margin", "roi", "deadweight_share"]:
            r = s.loc[name]
            fmt = (lambda v: f"{v:,.3f}") if name in ("roi", "deadweight_share") else (lambda v: f"{v:,.0f}")
            tds = "".join(
                f"<td {cell.format('right')}>{fmt(r[st])}<br><small>± {fmt(r[st + '_se'])}</small></td>"
                for st in ["mean", "sd", "p5", "p50", "p95", "p99"]
            )
            rows.append(f"<tr><td {cell.format('left')}>{name.replace('_', ' ')}</td>{tds}</tr>")
        bb, bse = self.budget_binding
        extra = f"; P(budget binds) = {bb:.3f} ± {bse:.3f}" if self.budget is not None else ""
        return (
            f"<div><strong>Simulation: {html.escape(str(self.meta['programme']))}</strong> — "
            f"{self.n_scenarios:,} scenarios, seed {self.seed}, {html.escape(self.currency)}{extra}"
            f"<table style=\"border-collapse:collapse;margin:4px 0\"><thead><tr><th></th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )


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
        """Per design: mean (± se) payout, P95 payout, revenue, incremental margin, ROI and
        P(budget binds)."""
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
            }
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "design"
        return df

    @property
    def differences(self) -> Any:
        """Paired differences (design − reference, on the same scenarios): mean and se
        of payout, revenue, incremental margin and budget-binding probability."""
        import pandas as pd

        rows = {}
        for d in self._diff:
            row: Dict[str, Any] = {"reference": d["reference"]}
            for key in ("payout", "revenue", "incremental_margin", "budget_binding"):
                mean = (d.get(key) or {}).get("mean") or {}
                row[f"{key}_mean"] = _num(mean.get("value"))
                row[f"{key}_se"] = _num(mean.get("se"))
            rows[d["design"]] = row
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "design"
        return df

    def to_dict(self) -> Dict[str, Any]:
        """Every design's summaries and the paired differences, JSON-ready."""
        return {"designs": {n: r.to_dict() for n, r in self.results.items()}, "differences": self._diff}

    def __repr__(self) -> str:
        parts = []
        for d in self._diff:
            m = d["payout"]["mean"]
            parts.append(f"{d['design']} − {d['reference']}: payout {m['value']:+,.0f} ± {m['se']:,.0f}")
        return f"<Comparison of {', '.join(self.names)}: " + "; ".join(parts) + ">"

    def _repr_html_(self) -> str:
        return (
            "<div><strong>Comparison</strong> (common random numbers)"
            + self.summary.to_html(float_format=lambda v: f"{v:,.2f}")
            + "<div>Paired differences against the first design</div>"
            + self.differences.to_html(float_format=lambda v: f"{v:,.2f}")
            + "</div>"
        )
