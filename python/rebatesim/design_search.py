"""Design search (``docs/search.md``): which thresholds, rates and caps of a programme
template buy the most margin within the budget risk. Every candidate runs on the same
scenarios (common random numbers: the objective is a deterministic function of the design
and differences are paired); a grid on the business steps (exhaustive when the budget of
evaluations allows, otherwise a coarse grid then a coordinate search on the full grid);
the top candidates re-evaluated on an independent block of scenarios, which decides the
choice and estimates the optimality gap.

>>> import rebatesim as rs
>>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "year", 1,
...                      [rs.volume("vol", [(90_000, "1%"), (120_000, "2%")])], segments=["s"])
>>> pop = rs.Population.synthetic({"s": {"count": 50, "median_baseline": 100_000, "dispersion": 0.3,
...                                      "margin_rate": 0.3}}, seed=1)
>>> space = {"parameter": [{"field": "components.vol.tiers[1].percent", "values": [2, 3]}]}
>>> r = rs.search(p, space, pop, {"noise": {"sigma": 0.2}}, scenarios=50, progress=False)
>>> r.evaluations, r.feasible
(2, True)
"""

from __future__ import annotations

import decimal
import itertools
import json
import math
import os
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _checks, _core, _executor
from ._format import finite, format_estimate, format_number
from ._inputs import as_model, as_population, as_programme
from ._run import run_options, with_progress

if TYPE_CHECKING:  # pragma: no cover
    from ._core import _RunArgs
from .exceptions import RequestError
from .programme import Programme

__all__ = ["search", "SearchResult", "OBJECTIVES"]

PathLike = Union[str, "os.PathLike[str]"]

#: The named objectives (all maximised; ``payout_per_incremental_revenue`` is minimised).
OBJECTIVES = ("net_margin", "incremental_margin", "roi", "payout_per_incremental_revenue")
_WEIGHTABLE = ("payout", "payout_before_budget", "incremental_margin", "incremental_revenue", "revenue")
_KINDS = ("chance", "percentile", "cvar", "expected_payout")


# ------------------------------------------------------------------ inputs
def _space(space: Any, template: Programme) -> Any:
    if isinstance(space, Mapping):
        return _core.SearchSpace.from_text(json.dumps(dict(space)), "json", template._spec, None)
    if isinstance(space, (str, os.PathLike)):
        path = _checks.path("space", space)
        ext = os.path.splitext(str(path))[1].lower().lstrip(".")
        fmt = {"toml": "toml", "json": "json", "yaml": "yaml", "yml": "yaml"}.get(ext)
        if fmt is None:
            raise RequestError(f"space: expected a .toml, .json or .yaml file, found {str(path)!r}")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return _core.SearchSpace.from_text(text, fmt, template._spec, str(path))
    raise RequestError(f"space: expected a space file path or a dict, found {type(space).__name__}")


class _Objective:
    """An objective: its name, and (value, se) from a candidate's per-scenario columns."""

    def __init__(self, objective: Any) -> None:
        if isinstance(objective, str):
            if objective not in OBJECTIVES:
                raise RequestError(f"objective: expected one of {', '.join(OBJECTIVES)} or a dict of weights "
                                   f"over {', '.join(_WEIGHTABLE)}, found {objective!r}")
            self.name = objective
            self.weights: Dict[str, float] = {}
        elif isinstance(objective, Mapping) and objective:
            self.name = "weighted"
            self.weights = {}
            for k, v in objective.items():
                if k not in _WEIGHTABLE:
                    raise RequestError(f"objective[{k!r}]: expected weights over {', '.join(_WEIGHTABLE)}")
                self.weights[k] = _checks.real(f"objective[{k!r}]", v)
        else:
            raise RequestError(f"objective: expected a name or a dict of weights, found {objective!r}")
        self.sign = -1.0 if self.name == "payout_per_incremental_revenue" else 1.0

    def per_scenario(self, c: Mapping[str, np.ndarray]) -> Optional[np.ndarray]:
        """The objective per scenario when it is a mean (None for a ratio of means)."""
        if self.name == "net_margin":
            return np.asarray(c["incremental_margin"] - c["payout"])
        if self.name == "incremental_margin":
            return np.asarray(c["incremental_margin"])
        if self.name == "weighted":
            return np.asarray(sum(w * c[k] for k, w in self.weights.items()))
        return None

    def ratio(self, c: Mapping[str, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
        if self.name == "roi":
            return c["incremental_margin"] - c["payout"], c["payout"]
        return c["payout"], c["incremental_revenue"]

    def value(self, c: Mapping[str, np.ndarray]) -> Tuple[float, float]:
        """Estimate and standard error (delta method for a ratio of means)."""
        x = self.per_scenario(c)
        if x is not None:
            n = len(x)
            return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
        a, b = self.ratio(c)
        ma, mb, n = float(np.mean(a)), float(np.mean(b)), len(a)
        if mb == 0 or n < 2:
            return float("nan"), float("nan")
        r = ma / mb
        return r, float(np.std(a - r * b, ddof=1) / (abs(mb) * math.sqrt(n)))

    def paired(self, c: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray]) -> Tuple[float, float]:
        """Difference of the objective against ``ref`` on the same scenarios, with its se."""
        x, y = self.per_scenario(c), self.per_scenario(ref)
        n = len(c["payout"])
        if x is not None and y is not None:
            d = x - y
            return float(np.mean(d)), float(np.std(d, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
        (a1, b1), (a0, b0) = self.ratio(c), self.ratio(ref)
        m1, m0 = float(np.mean(b1)), float(np.mean(b0))
        if m1 == 0 or m0 == 0 or n < 2:
            return float("nan"), float("nan")
        r1, r0 = float(np.mean(a1)) / m1, float(np.mean(a0)) / m0
        infl = (a1 - r1 * b1) / m1 - (a0 - r0 * b0) / m0
        return r1 - r0, float(np.std(infl, ddof=1) / math.sqrt(n))


class _Constraint:
    """A constraint on the payout before the budget cut (total, or one segment's)."""

    def __init__(self, spec: Any, i: int, segments: Sequence[str], confidence: float) -> None:
        where = f"constraints[{i}]"
        if not isinstance(spec, Mapping):
            raise RequestError(f"{where}: expected a dict such as {{'kind': 'chance', 'threshold': 'budget', "
                               f"'alpha': 0.05}}, found {type(spec).__name__}")
        known = {"kind", "threshold", "alpha", "q", "level", "max", "segment"}
        extra = sorted(set(spec) - known)
        if extra:
            raise RequestError(f"{where}: unknown key(s) {extra}; expected {sorted(known)}")
        self.kind = spec.get("kind")
        if self.kind not in _KINDS:
            raise RequestError(f"{where}.kind: expected one of {', '.join(_KINDS)}, found {self.kind!r}")
        self.segment = spec.get("segment")
        if self.segment is not None and self.segment not in segments:
            raise RequestError(f"{where}.segment: expected one of {', '.join(segments)}, found {self.segment!r}")
        self.confidence = confidence
        if self.kind == "chance":
            t = spec.get("threshold", "budget")
            self.threshold: Any = t if t == "budget" else _checks.real(f"{where}.threshold", t)
            self.alpha = _checks.real(f"{where}.alpha", spec.get("alpha", 0.05))
            if not 0 < self.alpha < 1:
                raise RequestError(f"{where}.alpha: expected a probability between 0 and 1, found {self.alpha}")
        else:
            if "max" not in spec:
                raise RequestError(f"{where}.max: missing (the largest value allowed)")
            self.max = _checks.real(f"{where}.max", spec["max"])
            self.q = _checks.real(f"{where}.q", spec.get("q", 0.95))
            self.level = _checks.real(f"{where}.level", spec.get("level", 0.95))
            if not (0 < self.q < 1 and 0 < self.level < 1):
                raise RequestError(f"{where}: q and level must be between 0 and 1")

    def label(self) -> str:
        who = f"{self.segment} " if self.segment else ""
        if self.kind == "chance":
            t = "budget" if self.threshold == "budget" else f"{self.threshold:,.0f}"
            return f"P({who}payout > {t}) ≤ {self.alpha:.0%}"
        if self.kind == "percentile":
            return f"P{self.q * 100:g} {who}payout ≤ {self.max:,.0f}"
        if self.kind == "cvar":
            return f"CVaR{self.level * 100:g} {who}payout ≤ {self.max:,.0f}"
        return f"expected {who}payout ≤ {self.max:,.0f}"

    def payout(self, c: Mapping[str, np.ndarray]) -> np.ndarray:
        if self.segment is None:
            return np.asarray(c["payout_before_budget"])
        j = list(c["segments"]).index(self.segment)
        seg = c["segment_payout"][:, j]
        after, before = c["payout"], c["payout_before_budget"]
        scale = np.divide(before, after, out=np.ones_like(after), where=after > 0)
        return np.asarray(seg * scale)

    def check(self, c: Mapping[str, np.ndarray], budget: Optional[float]) -> Tuple[float, float, bool, float]:
        """(estimate, the bound the decision uses, holds, how far it misses: 0 when it holds,
        else the relative excess over the limit, graded so that the closest design can be named)."""
        x = self.payout(c)
        n = len(x)
        if self.kind == "chance":
            t = budget if self.threshold == "budget" else self.threshold
            if t is None:
                raise RequestError(f"{self.label()}: the design has no budget; give a threshold instead")
            k = int(np.sum(x > t))
            upper = float(_core.clopper_pearson_upper(k, n, self.confidence))
            holds = upper <= self.alpha
            # how far the payout's (1 − α) quantile is above the threshold (plus a little when
            # only the confidence bound fails)
            q = float(np.quantile(x, 1 - self.alpha))
            miss = 0.0 if holds else max(q / t - 1 if t > 0 else q, 0.0) + 1e-9
            return k / n, upper, holds, miss
        if self.kind == "percentile":
            v = float(np.quantile(x, self.q))
        elif self.kind == "cvar":
            tail = np.sort(x)[int(math.floor(self.level * n)):]
            v = float(np.mean(tail)) if len(tail) else float(np.max(x))
        else:
            m = float(np.mean(x))
            se = float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
            upper = m + NormalDist().inv_cdf(self.confidence) * se
            return m, upper, upper <= self.max, max(0.0, upper / self.max - 1 if self.max > 0 else upper)
        return v, v, v <= self.max, max(0.0, v / self.max - 1 if self.max > 0 else v)


# ------------------------------------------------------------------ evaluation
def _columns_task(programme: str, inputs: _executor.Inputs, run: "_RunArgs", start: int,
                  end: int) -> Dict[str, Any]:
    """A candidate's per-scenario columns on scenarios ``[start, end)`` (runs in a worker)."""
    pop, mod = inputs.core()
    shard = _core.simulate_shard(_executor.programme_core(programme), pop, mod, run, start, end, False)
    cols: Dict[str, Any] = _core.shard_columns(shard)
    return cols


def _join(parts: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"segments": list(parts[0]["segments"])}
    for k in ("payout", "payout_before_budget", "incremental_margin", "incremental_revenue", "revenue",
              "segment_payout"):
        out[k] = np.concatenate([p[k] for p in parts]) if len(parts) > 1 else parts[0][k]
    return out


class _Evaluator:
    """Runs candidates on a block of scenarios, locally or on an executor, and remembers them."""

    def __init__(self, inputs: _executor.Inputs, run: "_RunArgs", executor: Any,
                 tick: Callable[[int], None]) -> None:
        self.inputs, self.run, self.executor, self.tick = inputs, run, executor, tick

    def columns(self, programmes: Sequence[Programme], start: int, count: int) -> List[Dict[str, Any]]:
        texts = [p.to_json() for p in programmes]
        if self.executor is None:
            out = []
            for t in texts:
                out.append(_columns_task(t, self.inputs, self.run, start, start + count))
                self.tick(1)
            return out
        k = 1 if len(texts) >= 2 * _executor.workers(self.executor) else _executor.parts(self.executor, count)
        cut = _executor.ranges(count, k)
        tasks = [(_columns_task, (t, self.inputs, self.run, start + a, start + b)) for t in texts for a, b in cut]
        flat = _executor.submit_all(self.executor, tasks)
        self.tick(len(texts))
        return [_join(flat[i * len(cut):(i + 1) * len(cut)]) for i in range(len(texts))]


def _pareto(objective: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """Whether each point is on the front (no other point has at least its objective and at
    most its risk, one of them strictly)."""
    on = np.ones(len(objective), dtype=bool)
    for i in range(len(objective)):
        better = (objective >= objective[i]) & (risk <= risk[i]) & ((objective > objective[i]) | (risk < risk[i]))
        on[i] = not bool(np.any(better))
    return on


def _coarse(sizes: Sequence[int], budget: int) -> List[List[int]]:
    """Level indices per parameter for a coarse grid of at most ``budget`` points: every
    level where that fits, else evenly spaced ones (ends included), thinning the parameter
    with the most levels first."""
    keep = list(sizes)
    while math.prod(keep) > budget and max(keep) > 2:
        j = keep.index(max(keep))
        keep[j] = max(2, (keep[j] + 1) // 2)
    return [sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)}) if k < n else list(range(n))
            for n, k in zip(sizes, keep)]


# ------------------------------------------------------------------ search
def search(
    template: Any,
    space: Any,
    population: Any,
    model: Any = None,
    *,
    objective: Any = "net_margin",
    constraints: Sequence[Any] = (),
    scenarios: int = 1000,
    reevaluate_scenarios: Optional[int] = None,
    budget_evaluations: int = 200,
    top: int = 5,
    confidence: float = 0.95,
    seed: int = 0,
    threads: Optional[int] = None,
    executor: Any = None,
    progress: Any = True,
) -> "SearchResult":
    """Search the designs ``space`` allows on ``template`` for the best ``objective``
    under ``constraints``.

    ``space``: a space file (TOML/JSON/YAML, ``docs/search.md``) or the same as a dict.
    ``objective``: ``"net_margin"`` (default: expected incremental margin less the payout),
    ``"incremental_margin"`` (before the payout), ``"roi"`` (ratio of expected net margin to
    expected payout), ``"payout_per_incremental_revenue"`` (minimised), or a dict of weights
    over the expected ``payout``, ``payout_before_budget``, ``incremental_margin``,
    ``incremental_revenue``, ``revenue``. ``constraints``: dicts on the payout before the
    budget cut (a ``segment`` key restricts one to a segment):
    ``{"kind": "chance", "threshold": "budget" or X, "alpha": 0.05}`` (decided with the
    one-sided Clopper–Pearson bound at ``confidence``), ``{"kind": "percentile", "q": 0.95,
    "max": X}``, ``{"kind": "cvar", "level": 0.95, "max": X}``, ``{"kind":
    "expected_payout", "max": X}``.

    Every candidate runs scenarios ``[0, scenarios)`` of ``seed`` (common random numbers);
    at most ``budget_evaluations`` candidates are simulated; the ``top`` best (and the
    template) are re-evaluated on scenarios ``[scenarios, scenarios + reevaluate_scenarios)``
    (default as many), an independent block, which decides the choice. ``executor``: any
    ``concurrent.futures`` executor (results are bit-identical to ``None``).
    """
    tpl = as_programme(template)
    spc = _space(space, tpl)
    pop = as_population(population)
    mod = as_model(model)
    obj = _Objective(objective)
    conf = _checks.real("confidence", confidence)
    if not 0 < conf < 1:
        raise RequestError(f"confidence: expected a probability between 0 and 1, found {conf}")
    if isinstance(constraints, (Mapping, str)):
        constraints = [constraints]
    cons = [_Constraint(c, i, pop.segments, conf) for i, c in enumerate(constraints)]
    budget_n = _checks.whole_number("budget_evaluations", budget_evaluations, 1, 1_000_000)
    top_n = _checks.whole_number("top", top, 1, 1000)
    kw = run_options(scenarios, seed, threads, None, None, None, None)
    n = int(kw["scenarios"])
    m = n if reevaluate_scenarios is None else _checks.scenarios(reevaluate_scenarios)
    ex = _executor.check(executor)
    inputs = _executor.Inputs(pop, mod)
    levels = [[float(v) for v in lv] for lv in spc.levels()]
    sizes = [len(lv) for lv in levels]

    def run(callback: Any) -> "SearchResult":
        done = [0]
        planned = min(budget_n, math.prod(sizes)) + top_n + 2

        def tick(k: int) -> None:
            done[0] += k
            if callback is not None:
                callback(min(done[0], planned), planned)

        ev = _Evaluator(inputs, kw, ex, tick)
        rows: Dict[Tuple[int, ...], Dict[str, Any]] = {}
        cols: Dict[Tuple[int, ...], Dict[str, Any]] = {}
        rejected: Dict[Tuple[int, ...], str] = {}
        progs: Dict[Tuple[int, ...], Programme] = {}

        def score(row: Dict[str, Any]) -> float:
            return float(obj.sign * row["objective"]) if row["objective"] == row["objective"] else -math.inf

        def evaluate(indices: Sequence[Tuple[int, ...]]) -> None:
            todo: List[Tuple[int, ...]] = []
            for ix in indices:
                if ix in rows or ix in rejected or ix in todo:
                    continue
                if len(rows) + len(todo) >= budget_n:
                    break
                core, why = spc.candidate(list(ix))
                if core is None:
                    rejected[ix] = str(why)
                    continue
                progs[ix] = Programme(core)
                todo.append(ix)
            if not todo:
                return
            for ix, c in zip(todo, ev.columns([progs[i] for i in todo], 0, n)):
                cols[ix] = c
                rows[ix] = _row(progs[ix], c, obj, cons)

        # the current design, then a grid
        current_cols = ev.columns([tpl], 0, n)[0]
        current_row = _row(tpl, current_cols, obj, cons)
        everything = math.prod(sizes)
        if everything <= budget_n:
            method = "exhaustive grid"
            evaluate(list(itertools.product(*[range(k) for k in sizes])))
        else:
            method = "coarse grid, then coordinate search"
            grid = _coarse(sizes, max(1, budget_n // 2))
            evaluate(list(itertools.product(*grid)))
            # coordinate search on the full grid from the best point found
            while len(rows) < budget_n and rows:
                start = max(rows, key=lambda ix: _rank(rows[ix], score))
                improved = False
                for d in range(len(sizes)):
                    line = [start[:d] + (k,) + start[d + 1:] for k in range(sizes[d])]
                    evaluate(line)
                    best = max((ix for ix in line if ix in rows), key=lambda ix: _rank(rows[ix], score))
                    if _rank(rows[best], score) > _rank(rows[start], score):
                        start, improved = best, True
                    if len(rows) >= budget_n:
                        break
                if not improved:
                    break
        if not rows:
            reasons = "; ".join(sorted(set(rejected.values()))[:3])
            raise RequestError(f"space: no candidate is a valid programme ({reasons})")
        ranked = sorted(rows, key=lambda ix: _rank(rows[ix], score), reverse=True)
        feasible = [ix for ix in ranked if rows[ix]["feasible"]]
        chosen_pool = feasible[:top_n] if feasible else ranked[:1]
        # the independent block: the top designs and the template
        re_cols = ev.columns([progs[ix] for ix in chosen_pool] + [tpl], n, m)
        cur_re = re_cols[-1]
        re_rows = {}
        for ix, c in zip(chosen_pool, re_cols[:-1]):
            r = _row(progs[ix], c, obj, cons)
            r["vs_current"], r["vs_current_se"] = obj.paired(c, cur_re)
            dp = c["payout"] - cur_re["payout"]
            r["payout_vs_current"] = float(np.mean(dp))
            r["payout_vs_current_se"] = float(np.std(dp, ddof=1) / math.sqrt(m)) if m > 1 else float("nan")
            re_rows[ix] = r
        holding = [ix for ix in chosen_pool if re_rows[ix]["feasible"]] if feasible else []
        pick_from = holding or chosen_pool
        best = max(pick_from, key=lambda ix: _rank(re_rows[ix], score))
        # optimality gap (Mak, Morton & Wood): the search block's best objective (biased
        # optimistic) less the chosen design's on the independent block
        top_row = rows[ranked[0]] if not feasible else rows[feasible[0]]
        gap = obj.sign * (top_row["objective"] - re_rows[best]["objective"])
        gap_se = math.hypot(top_row["objective_se"], re_rows[best]["objective_se"])
        return SearchResult(
            template=tpl, fields=spc.fields(), levels=levels, rows=rows, progs=progs, rejected=rejected,
            current=current_row, current_index=tuple(spc.current()), reevaluated=re_rows, best=best,
            feasible=bool(feasible) and bool(holding), objective=obj, constraints=cons, method=method,
            scenarios=(n, m), seed=int(kw["seed"]), gap=(float(gap), float(gap_se)),
            inputs=(pop, mod), executor=ex, threads=kw["threads"])

    return with_progress(progress, "search", run)


def _rank(row: Mapping[str, Any], score: Callable[[Dict[str, Any]], float]) -> Tuple[int, float]:
    """Feasible designs first (by objective), then the others by how little they exceed."""
    if row["feasible"]:
        return 1, score(dict(row))
    return 0, -float(row["excess"])


def _row(p: Programme, c: Mapping[str, Any], obj: _Objective, cons: Sequence[_Constraint]) -> Dict[str, Any]:
    budget = float(p.budget) if p.budget is not None else None
    v, se = obj.value(c)
    pb = np.asarray(c["payout_before_budget"])
    row: Dict[str, Any] = {
        "objective": v, "objective_se": se,
        "payout_mean": float(np.mean(c["payout"])),
        "payout_p95": float(np.quantile(pb, 0.95)),
        "net_margin_mean": float(np.mean(c["incremental_margin"] - c["payout"])),
        "budget": budget,
    }
    ok, excess = True, 0.0
    for k in cons:
        est, bound, holds, miss = k.check(c, budget)
        row[k.label()] = est
        row[k.label() + " bound"] = bound
        ok = ok and holds
        excess += miss
    row["feasible"], row["excess"] = ok, excess
    return row


def _field_text(field: str, v: float) -> str:
    """A searched field's value as a person reads it: thousands separators, no exponent,
    a percent field with its sign (``150,000``, ``2.25%``)."""
    text = f"{v:,.0f}" if float(v).is_integer() else f"{decimal.Decimal(repr(float(v))):,f}"
    return text + ("%" if field.endswith(".percent") else "")


def _bound_text(label: str, v: float, currency: str) -> str:
    """A constraint's bound: a probability (a chance constraint) as a percentage, else money."""
    if label.startswith("P("):
        return format_number(v, "percent")
    return f"{currency} {format_number(v, 'money')}"


class SearchResult:
    """The result of :func:`search`.

    - :attr:`best` (the chosen design, a Programme; :meth:`save` writes it),
      :attr:`feasible`, :attr:`message`;
    - :attr:`designs`: every evaluated design (its field values, objective with se,
      payout, P95 payout before the budget, each constraint's estimate and bound,
      feasible, on the Pareto front);
    - :attr:`top`: the top designs re-evaluated on the independent block, with paired
      differences against the current design (the template);
    - :attr:`gap` (estimated optimality gap and se), :meth:`pareto_chart`, :meth:`tornado`.
    """

    def __init__(self, *, template: Programme, fields: List[str], levels: List[List[float]],
                 rows: Dict[Tuple[int, ...], Dict[str, Any]], progs: Dict[Tuple[int, ...], Programme],
                 rejected: Dict[Tuple[int, ...], str], current: Dict[str, Any], current_index: Tuple[Any, ...],
                 reevaluated: Dict[Tuple[int, ...], Dict[str, Any]], best: Tuple[int, ...], feasible: bool,
                 objective: _Objective, constraints: List[_Constraint], method: str, scenarios: Tuple[int, int],
                 seed: int, gap: Tuple[float, float], inputs: Tuple[Any, Any], executor: Any = None,
                 threads: Optional[int] = None) -> None:
        self.template = template
        self.fields = fields
        self._levels = levels
        self._rows = rows
        self._progs = progs
        self.rejected = len(rejected)
        self.current = current
        self._current_index = current_index
        self._re = reevaluated
        self.best_index = best
        self.best: Programme = progs[best]
        self.feasible = feasible
        self.objective = objective.name
        self.constraints = [c.label() for c in constraints]
        self.method = method
        self.scenarios, self.reevaluate_scenarios = scenarios
        self.seed = seed
        self.gap = gap
        self._inputs = inputs
        self._executor = executor
        self._threads = threads

    @property
    def evaluations(self) -> int:
        """Number of candidate designs simulated (the template not counted)."""
        return len(self._rows)

    def _values(self, ix: Tuple[int, ...]) -> Dict[str, float]:
        return {f: self._levels[d][i] for d, (f, i) in enumerate(zip(self.fields, ix))}

    @property
    def designs(self) -> Any:
        """Every evaluated design, best first: the field values, then the results on the
        search block; ``pareto`` marks the front of objective against P95 payout."""
        import pandas as pd

        keys = list(self._rows)
        df = pd.DataFrame([{**self._values(ix), **self._rows[ix]} for ix in keys])
        obj = df["objective"].to_numpy(dtype=float) * (-1.0 if self.objective == "payout_per_incremental_revenue" else 1.0)
        df["pareto"] = _pareto(np.nan_to_num(obj, nan=-np.inf), df["payout_p95"].to_numpy(dtype=float))
        df["chosen"] = [ix == self.best_index for ix in keys]
        df = df.sort_values(["feasible", "objective"],
                            ascending=[False, self.objective == "payout_per_incremental_revenue"], kind="stable")
        df.index = pd.RangeIndex(len(df), name="rank")
        return df

    @property
    def top(self) -> Any:
        """The top designs re-evaluated on the independent block of scenarios, with the
        paired difference of the objective and of the payout against the current design."""
        import pandas as pd

        df = pd.DataFrame([{**self._values(ix), **r, "chosen": ix == self.best_index} for ix, r in self._re.items()])
        df.index = pd.RangeIndex(len(df), name="candidate")
        return df

    @property
    def message(self) -> str:
        """The answer in words, with money as the package shows it (the currency, thousands
        separators) and ROI and ratios as percentages."""
        best = self._re[self.best_index]
        values = ", ".join(f"{f} = {_field_text(f, v)}" for f, v in self._values(self.best_index).items())
        cur = self.template.currency
        if self.feasible:
            est = self._objective_text
            return (f"best of {self.evaluations} designs ({self.method}): {values}; {self.objective.replace('_', ' ')} "
                    f"{est(best['objective'], best['objective_se'], cur)} on {self.reevaluate_scenarios:,} "
                    f"independent scenarios, {est(best['vs_current'], best['vs_current_se'], cur, signed=True)} "
                    f"against the current design; estimated optimality gap {est(self.gap[0], self.gap[1], cur)}")
        limits = " and ".join(self.constraints) or "the constraints"
        bounds = ", ".join(f"{c} bound {_bound_text(c, best[c + ' bound'], cur)}" for c in self.constraints)
        return f"no design meets {limits}; the closest is {values} ({bounds})"

    def _objective_text(self, v: float, se: float, currency: str, signed: bool = False) -> str:
        """An estimate of the objective with its standard error: money with the currency,
        ROI and payout per incremental revenue as percentages; ``signed``: a difference,
        with its + sign."""
        ratio = self.objective in ("roi", "payout_per_incremental_revenue")
        body = format_estimate(v, se, "percent" if ratio else "money", html_se=False)
        if signed and finite(v) and body[:1].isdigit():
            body = "+" + body
        return body if ratio else f"{currency} {body}"

    def save(self, path: PathLike) -> None:
        """Write the chosen design as a programme file (format from the extension)."""
        self.best.save(path)

    def pareto_chart(self, *, title: Optional[str] = None, size: Tuple[int, int] = (900, 560)) -> Any:
        """Every evaluated design as a point (objective against P95 payout before the
        budget), the Pareto front highlighted, the current and the chosen design marked."""
        from . import charts

        d = self.designs
        return charts.pareto(
            d["payout_p95"].to_list(), d["objective"].to_list(), d["pareto"].to_list(),
            current=(self.current["payout_p95"], self.current["objective"]),
            chosen=(self._rows[self.best_index]["payout_p95"], self._rows[self.best_index]["objective"]),
            objective=self.objective, currency=self.template.currency,
            budget=float(self.template.budget) if self.template.budget is not None else None,
            title=title or f"Design search: {self.objective.replace('_', ' ')} against payout risk", size=size)

    def sensitivity(self, **kwargs: Any) -> Any:
        """How sensitive the chosen design is to the demand and behaviour assumptions:
        :func:`rebatesim.sensitivity` of :attr:`best` on the search's population and model,
        its scenarios and seed, threads and executor (keyword arguments go to
        ``sensitivity`` and override these, e.g. ``assumptions=``; ``executor=None`` runs
        locally once the search's executor is shut down). A :class:`~rebatesim.Sensitivity`:
        its ``table``, ``tornado()``."""
        from .sensitivities import sensitivity

        pop, mod = self._inputs
        kwargs.setdefault("scenarios", self.scenarios)
        kwargs.setdefault("seed", self.seed)
        kwargs.setdefault("threads", self._threads)
        kwargs.setdefault("executor", self._executor)
        kwargs.setdefault("progress", False)
        return sensitivity(self.best, pop, mod, **kwargs)

    def tornado(self, output: str = "payout", **kwargs: Any) -> Any:
        """The tornado chart of :meth:`sensitivity` on the chosen design: each assumption's
        low and high ``output`` (``"payout"``, ``"roi"``, ``"incremental_margin"``) around the
        base, largest swing on top (keyword arguments go to :meth:`sensitivity`)."""
        return self.sensitivity(**kwargs).tornado(output)

    def __repr__(self) -> str:
        return f"<SearchResult: {self.message}>"
