"""Design comparison: several programmes simulated on the same population and model with
common random numbers, each design's results and its paired differences against the first.

>>> import rebatesim as rs
>>> a = rs.Programme.new("A", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(80_000, "1%")])], segments=["s"])
>>> b = rs.Programme.new("B", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(80_000, "2%")])], segments=["s"])
>>> pop = rs.Population.synthetic({"s": {"count": 30, "median_baseline": 100_000}})
>>> c = rs.compare({"A": a, "B": b}, pop, {"noise": {"sigma": 0.2}}, scenarios=20, progress=False)
>>> c.names
['A', 'B']
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union, cast

import numpy as np

from . import _arrow, _checks, _core, _draws, _executor, _format
from ._demand_warning import warn_if_riskless
from ._display import comparison_html
from ._format import num
from ._inputs import as_model, as_population, as_programme
from ._run import run_options, with_progress
from .exceptions import RequestError
from .outputs import write_excel
from .simulation import SimulationResult, model_for_population, warn_missing_baselines

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["compare", "Comparison"]

PathLike = Union[str, "os.PathLike[str]"]


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
    executor: Any = None,
    parameter_uncertainty: Any = None,
) -> "Comparison":
    """Simulate several designs on the same population and model with common random
    numbers (every design sees the same demand draws) and report each design's
    results and its paired difference against the first design.

    ``executor``: any ``concurrent.futures`` executor to run every design's scenario
    ranges on (``docs/scale-out.md``); bit-identical to a local run. Not with ``precision``.

    ``model`` and ``parameter_uncertainty`` as in :func:`~rebatesim.simulate`: with parameter
    draws, every design runs scenario ``s`` under the same draw, so the paired differences
    compare the designs under the same parameters.

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
    progs = [as_programme(p) for _, p in items]
    pop = as_population(population)
    given, draws = _draws.resolve(model, parameter_uncertainty)
    mod = model_for_population(as_model(given), pop)
    draws = _draws.for_population(draws, pop, model_for_population)
    warn_if_riskless(None if given is None else mod)
    warn_missing_baselines(pop)
    kw = run_options(scenarios, seed, threads, chunk_size, precision, max_scenarios, memory_limit)
    ex = _executor.check(executor)
    if ex is not None:
        inputs = _executor.Inputs(pop, mod, draws)
        core = with_progress(progress, "compare", lambda callback: _core.merge_comparison(
            names, [p._spec for p in progs], pop._core, mod._core,
            _executor.simulate_many(ex, progs, inputs, kw, int(kw["scenarios"]), True, callback)))
    else:
        core = with_progress(progress, "compare", lambda callback: _core.compare(
            names, [p._spec for p in progs], pop._core, mod._core, kw, progress=callback,
            draws=[d._core for d in draws] or None))
    segments = pop._core.partner_segments()
    results = {
        name: SimulationResult._from_core(core.meta(i), core.summaries(i), core.scenarios(i), core.partners(i),
                                          progs[i], model=mod, partner_segments=segments)
        for i, name in enumerate(core.names())
    }
    for i, r in enumerate(results.values()):
        r._parameter_variance = _draws.variance_table(core, design=i)
    differences = [_arrow.sorted_keys({"reference": key[0], "design": key[1], **summaries})
                   for key, summaries in _arrow.summaries(core.differences(), ("reference", "design"))]
    return Comparison(results, differences)


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
    def summary(self) -> "pd.DataFrame":
        """Per design: mean payout and P95 payout (after the budget), the P95 of the payout
        before the budget cut (``payout_before_budget_p95``: what the design would pay
        without the budget; two designs held at the same budget differ here) and the
        expected cut (``budget_cut_mean``: mean payout before the budget − mean payout
        after it), mean revenue, incremental margin, ROI and P(budget binds), each with its
        standard error (``*_se``)."""
        import pandas as pd

        rows = {}
        for name, r in self.results.items():
            s = r.summary
            cut = r._per["payout_before_budget"] - r._per["payout"]
            n = len(cut)
            rows[name] = {
                "payout_mean": s.loc["payout", "mean"], "payout_mean_se": s.loc["payout", "mean_se"],
                "payout_p95": s.loc["payout", "p95"], "payout_p95_se": s.loc["payout", "p95_se"],
                "payout_before_budget_p95": s.loc["payout_before_budget", "p95"],
                "payout_before_budget_p95_se": s.loc["payout_before_budget", "p95_se"],
                "budget_cut_mean": float(cut.mean()) if n else float("nan"),
                "budget_cut_mean_se": float(cut.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
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
    def differences(self) -> "pd.DataFrame":
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
                row[f"{key}_mean"] = num(mean.get("value"))
                row[f"{key}_se"] = num(mean.get("se"))
            row["roi_n"] = int((d.get("roi") or {}).get("n") or 0)
            rows[d["design"]] = row
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "design"
        return df

    def by_segment(self) -> "pd.DataFrame":
        """Per design (other than the reference) and segment, the paired differences
        against the reference on the same scenarios: mean and standard error of the
        per-scenario difference (design − reference) of the segment's payout, revenue,
        incremental revenue, incremental margin and counterfactual payout, and of ROI and
        deadweight share (over the scenarios where both are defined: ``roi_n``). Index
        (design, segment); column ``reference``.

        >>> import rebatesim as rs
        >>> def design(rate):
        ...     return rs.Programme.new(rate, "EUR", "2027-01-01", "year", 1,
        ...                             [rs.volume("v", [(80_000, rate)])], segments=["a", "b"])
        >>> pop = rs.Population.synthetic({"a": {"count": 30, "median_baseline": 100_000},
        ...                                "b": {"count": 30, "median_baseline": 60_000}}, seed=2)
        >>> c = rs.compare({"A": design("1%"), "B": design("2%")}, pop, {"noise": {"sigma": 0.2}},
        ...                scenarios=30, progress=False)
        >>> d = c.by_segment()
        >>> list(d.index.names), bool(d.loc[("B", "a"), "payout_mean"] > 0)
        (['design', 'segment'], True)
        """
        import pandas as pd

        ref_name = self.names[0]
        ref = self.results[ref_name]
        segs = list(ref.meta["segments"])
        keys = ["payout", "revenue", "incremental_revenue", "incremental_margin", "payout_counterfactual", "roi",
                "deadweight_share"]
        rows = []
        index = []
        for name in self.names[1:]:
            r = self.results[name]
            if list(r.meta["segments"]) != segs or r.n_scenarios != ref.n_scenarios:
                raise RequestError(f"by_segment: design {name!r} did not run on the reference's segments and scenarios")
            for j, seg in enumerate(segs):
                row: Dict[str, Any] = {"reference": ref_name}
                for key in keys:
                    d = r._mat[f"segment_{key}"][:, j] - ref._mat[f"segment_{key}"][:, j]
                    if key in ("roi", "deadweight_share"):
                        d = d[np.isfinite(d)]
                    n = len(d)
                    row[f"{key}_mean"] = float(d.mean()) if n else float("nan")
                    row[f"{key}_se"] = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
                    if key == "roi":
                        row["roi_n"] = n
                rows.append(row)
                index.append((name, seg))
        cols = ["reference"] + [f"{k}_{s}" for k in keys for s in ("mean", "se")] + ["roi_n"]
        return pd.DataFrame(rows, columns=cols,
                            index=pd.MultiIndex.from_tuples(index, names=["design", "segment"]))

    def _segments(self) -> "pd.DataFrame":
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
        df.columns = [f"{design}: {key}" for design, key in cast(List[Tuple[str, str]], list(df.columns))]
        df.index.name = "segment"
        return df

    def _schedule(self, which: str) -> "pd.DataFrame":
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
        cur = self.results[self.names[0]].currency

        def chart(what: str) -> Dict[str, Any]:
            return {"type": "line", "x": "month", "y": [f"{n}: mean" for n in self.names],
                    "title": f"Expected {what} to date by design", "y_title": cur}

        specs: Dict[str, Tuple[Any, Dict[str, Any]]] = {}
        for name, df in self.excel_sheets().items():
            if name.endswith("schedule"):
                what = "accrued liability" if name.startswith("accrual") else "cash paid"
                specs[name] = (df, {"default": _format.MONEY, "chart": chart(what)})
            else:
                specs[name] = (df, {})
        return specs

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
        write_excel(path, self._excel_specs(), self._decimals)

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
        return comparison_html(self)
