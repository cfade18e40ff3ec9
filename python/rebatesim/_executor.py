"""Scale-out over any ``concurrent.futures``-style executor (``docs/scale-out.md``): a
:class:`~concurrent.futures.ProcessPoolExecutor`, or a Dask ``distributed.Client``'s
``get_executor()``. Work is split into scenario ranges (a sensitivity analysis: each of its
runs into scenario ranges; a backtest: into year ranges); each task ships the inputs as
bytes (programme JSON, population bytes, model TOML, a forecast's actuals; parsed once per
worker process and kept by their digest) and returns its shard as bytes; the shards are
merged in scenario (or year) order by the core, so the result is bit-identical to a local
run for any number of workers and any split.

>>> from rebatesim import _executor
>>> _executor.ranges(10, 3)
[(0, 4), (4, 7), (7, 10)]
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import _core
from .exceptions import RequestError

if TYPE_CHECKING:  # pragma: no cover
    from ._core import _RunArgs

__all__ = ["check", "ranges", "parts", "workers", "Inputs", "simulate_shards", "simulate_many", "submit_all",
           "sensitivity", "backtest", "forecast"]

#: Parsed inputs kept by each worker process, by the digest of their bytes.
_CACHE: Dict[Tuple[str, str], Any] = {}
_CACHE_MAX = 64


def check(executor: Any) -> Any:
    """``executor`` if it has ``submit`` (the ``concurrent.futures`` interface), else a
    RequestError; None stays None (run locally)."""
    if executor is None:
        return None
    if not callable(getattr(executor, "submit", None)):
        raise RequestError(
            f"executor: expected an object with submit()/map() (a concurrent.futures executor such as "
            f"ProcessPoolExecutor, or a Dask Client's get_executor()), found {type(executor).__name__}")
    return executor


def workers(executor: Any) -> int:
    """How many workers ``executor`` has, as far as it tells (2 when it does not)."""
    n = getattr(executor, "_max_workers", None)  # ProcessPoolExecutor, ThreadPoolExecutor
    if isinstance(n, int) and n > 0:
        return n
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        try:
            return max(1, int(sum(client.nthreads().values())))
        except Exception:  # pragma: no cover - a client that cannot tell
            return 2
    return 2


def parts(executor: Any, scenarios: int) -> int:
    """Scenario ranges to cut a run into: two per worker (so a slow worker does not hold the
    run up), at most one per 50 scenarios and at least one. Results do not depend on it."""
    return max(1, min(2 * workers(executor), scenarios // 50 or 1))


def ranges(n: int, k: int) -> List[Tuple[int, int]]:
    """``[0, n)`` cut into ``k`` consecutive ranges of near-equal length (the first ones longer)."""
    k = max(1, min(k, n))
    base, extra = divmod(n, k)
    out, a = [], 0
    for i in range(k):
        b = a + base + (1 if i < extra else 0)
        out.append((a, b))
        a = b
    return out


def _digest(kind: str, data: Any) -> Tuple[str, str]:
    raw = data if isinstance(data, bytes) else str(data).encode()
    return kind, hashlib.sha256(raw).hexdigest()


def _cached(kind: str, data: Any, build: Callable[[Any], Any]) -> Any:
    key = _digest(kind, data)
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        hit = _CACHE[key] = build(data)
    return hit


class Inputs:
    """A run's inputs as the bytes and texts that travel to workers (picklable)."""

    __slots__ = ("population", "model", "draws")

    def __init__(self, population: Any, model: Any, draws: Sequence[Any] = ()) -> None:
        self.population: bytes = bytes(_core.population_to_bytes(population._core))
        self.model: str = model._core.to_text("toml")
        # the parameter draws (input uncertainty), as model texts
        self.draws: Tuple[str, ...] = tuple(d._core.to_text("toml") for d in draws)

    def core(self) -> Tuple[Any, Any]:
        """The core's population and model (parsed once per worker process)."""
        pop = _cached("population", self.population, _core.population_from_bytes)
        mod = _cached("model", self.model, lambda t: _core.DemandModel.from_text(t, "toml"))
        return pop, mod

    def draws_core(self) -> Optional[List[Any]]:
        """The core's parameter draws (None without; parsed once per worker process)."""
        if not self.draws:
            return None
        # one cache entry for all of them (K may exceed the cache's size)
        return list(_cached("draws", "\x00".join(self.draws),
                            lambda t: [_core.DemandModel.from_text(x, "toml") for x in t.split("\x00")]))

    def __getstate__(self) -> Tuple[bytes, str, Tuple[str, ...]]:
        return self.population, self.model, self.draws

    def __setstate__(self, state: Tuple[bytes, str, Tuple[str, ...]]) -> None:
        self.population, self.model, self.draws = state


def programme_core(text: str) -> Any:
    """The core's programme from its JSON text (parsed once per worker process)."""
    return _cached("programme", text, lambda t: _core.ProgrammeSpec.from_text(t, "json", None, False))


def shard_task(programme: str, inputs: Inputs, run: "_RunArgs", start: int, end: int,
               partners: bool) -> bytes:
    """Scenarios ``[start, end)`` of a simulation, in a worker: the shard as bytes."""
    pop, mod = inputs.core()
    return bytes(_core.simulate_shard(programme_core(programme), pop, mod, run, start, end, partners,
                                      draws=inputs.draws_core()))


def submit_all(executor: Any, tasks: Sequence[Tuple[Callable[..., Any], Tuple[Any, ...]]],
               progress: Optional[Callable[[int, int], Any]] = None) -> List[Any]:
    """Submit every ``(function, args)`` task, then gather the results in task order,
    calling ``progress(done, total)`` as they arrive. A failed task raises its error
    (the other tasks are cancelled)."""
    futures = [executor.submit(f, *args) for f, args in tasks]
    out: List[Any] = [None] * len(futures)
    try:
        if progress is not None:
            from concurrent.futures import as_completed

            index = {id(f): i for i, f in enumerate(futures)}
            for done, f in enumerate(_as_completed(futures, as_completed), 1):
                out[index[id(f)]] = f.result()
                progress(done, len(futures))
        else:
            out = [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return out


def _as_completed(futures: List[Any], std: Any) -> Any:
    """``as_completed`` for standard futures, plain order for other kinds (Dask's executor
    returns standard futures, but an executor of another kind may not)."""
    try:
        return std(futures)
    except Exception:  # pragma: no cover
        return futures


def simulate_many(executor: Any, programmes: Sequence[Any], inputs: Inputs, run: "_RunArgs", scenarios: int,
                  partners: bool = True, progress: Optional[Callable[[int, int], Any]] = None,
                  start: int = 0) -> List[List[bytes]]:
    """Scenarios ``[start, start + scenarios)`` of each programme (Programme objects) on the
    executor, every programme's ranges submitted at once: per programme, its shards in
    scenario order."""
    if run.get("statistic") is not None:
        raise RequestError("precision: a precision target cannot be split over an executor "
                           "(it decides the number of scenarios as the run goes); give scenarios= instead")
    cut = ranges(scenarios, parts(executor, scenarios))
    tasks = [(shard_task, (p.to_json(), inputs, run, start + a, start + b, partners))
             for p in programmes for a, b in cut]
    planned = scenarios * len(programmes)

    def report(done: int, total: int) -> Any:
        return progress(done * planned // total, planned) if progress is not None else None

    flat: List[bytes] = submit_all(executor, tasks, report if progress is not None else None)
    k = len(cut)
    return [flat[i * k:(i + 1) * k] for i in range(len(programmes))]


def simulate_shards(executor: Any, programme: Any, inputs: Inputs, run: "_RunArgs", scenarios: int,
                    partners: bool = True, progress: Optional[Callable[[int, int], Any]] = None,
                    start: int = 0) -> List[bytes]:
    """Scenarios ``[start, start + scenarios)`` of ``programme`` (a Programme) on the executor,
    as shards in scenario order."""
    return simulate_many(executor, [programme], inputs, run, scenarios, partners, progress, start)[0]


def _no_precision(run: "_RunArgs") -> None:
    if run.get("statistic") is not None:
        raise RequestError("precision: a precision target cannot be split over an executor "
                           "(it decides the number of scenarios as the run goes); give scenarios= instead")


def _scaled(progress: Optional[Callable[[int, int], Any]], planned: int) -> Optional[Callable[[int, int], Any]]:
    """``progress`` fed (done, planned) from the tasks done out of all tasks."""
    if progress is None:
        return None
    return lambda done, total: progress(done * planned // total, planned)


def model_shard_task(programme: str, inputs: Inputs, model: Optional[str], run: "_RunArgs", start: int,
                     end: int, draws: Optional[Tuple[str, ...]] = None) -> bytes:
    """Scenarios ``[start, end)`` of a simulation under ``model`` (TOML text; None: the
    inputs' model) and, with ``draws`` (TOML texts; None: the inputs' draws), those parameter
    draws, without the per-partner outputs: the shard as bytes."""
    pop, base = inputs.core()
    mod = base if model is None else _cached("model", model, lambda t: _core.DemandModel.from_text(t, "toml"))
    if draws is None:
        under = inputs.draws_core()
    else:
        under = list(_cached("draws", "\x00".join(draws),
                             lambda t: [_core.DemandModel.from_text(x, "toml") for x in t.split("\x00")]))
    return bytes(_core.simulate_shard(programme_core(programme), pop, mod, run, start, end, False, draws=under))


def sensitivity(executor: Any, programme: Any, population: Any, model: Any, specs: Any, run: "_RunArgs",
                progress: Optional[Callable[[int, int], Any]] = None,
                draws: Sequence[Any] = ()) -> "_core.SensitivityResult":
    """A sensitivity analysis on the executor: the base run and each assumption's low and
    high run, each cut into scenario ranges, all submitted at once; merged by the core in
    scenario order (bit-identical to ``_core.sensitivity``). ``draws``: the parameter draws
    (Models) every run is made under, each run's moved by its setting."""
    _no_precision(run)
    models: List[Optional[str]] = [None, *_core.sensitivity_models(model._core, specs)]
    under: List[Optional[Tuple[str, ...]]] = [None] * len(models)
    if draws:
        under = [None, *(tuple(d) for d in _core.sensitivity_draws(model._core, specs, [d._core for d in draws]))]
    inputs = Inputs(population, model, draws)
    scenarios = int(run["scenarios"])
    cut = ranges(scenarios, parts(executor, scenarios))
    text = programme.to_json()
    tasks = [(model_shard_task, (text, inputs, m, run, a, b, u)) for m, u in zip(models, under) for a, b in cut]
    flat = submit_all(executor, tasks, _scaled(progress, scenarios * len(models)))
    k = len(cut)
    runs = [flat[i * k:(i + 1) * k] for i in range(len(models))]
    return _core.sensitivity_merge(programme._spec, population._core, model._core, specs, runs)


def backtest_task(programme: str, inputs: Inputs, options: Dict[str, Any], start: int, end: int) -> bytes:
    """Years ``[start, end)`` of a backtest, in a worker: their results as bytes."""
    pop, mod = inputs.core()
    return bytes(_core.backtest_years(programme_core(programme), pop, mod, start=start, end=end,
                                      draws=inputs.draws_core(), **options))


def backtest(executor: Any, programme: Any, population: Any, model: Any, options: Dict[str, Any],
             progress: Optional[Callable[[int, int], Any]] = None, draws: Sequence[Any] = ()) -> Any:
    """A backtest on the executor, cut into year ranges (each year depends on its index
    alone), put back together in year order by the core: the ``_core.Backtest`` a local run
    gives, bit for bit. ``options``: ``years``, ``scenarios``, ``seed``, ``forecast_seed``,
    ``forecaster``, ``month_ends``, ``threads``; ``draws``: the parameter draws (Models) the
    forecasts run under."""
    years = int(options["years"])
    cut = ranges(years, min(2 * workers(executor), years))
    inputs = Inputs(population, model, draws)
    text = programme.to_json()
    tasks = [(backtest_task, (text, inputs, options, a, b)) for a, b in cut]
    return _core.backtest_concat(submit_all(executor, tasks, _scaled(progress, years)))


class ForecastInputs:
    """A forecast's actuals and prior accruals as bytes (picklable), parsed once per worker."""

    __slots__ = ("actuals", "prior")

    def __init__(self, actuals: Any, prior: Any) -> None:
        self.actuals: bytes = bytes(_core.transactions_to_bytes(actuals))
        self.prior: Optional[bytes] = None if prior is None else bytes(_core.prior_accruals_to_bytes(prior))

    def core(self) -> Tuple[Any, Any]:
        """The core's transaction table and prior accruals (or None)."""
        tx = _cached("actuals", self.actuals, _core.transactions_from_bytes)
        prior = None if self.prior is None else _cached("prior", self.prior, _core.prior_accruals_from_bytes)
        return tx, prior

    def __getstate__(self) -> Tuple[bytes, Optional[bytes]]:
        return self.actuals, self.prior

    def __setstate__(self, state: Tuple[bytes, Optional[bytes]]) -> None:
        self.actuals, self.prior = state


def forecast_task(programme: str, inputs: Inputs, data: ForecastInputs, options: Dict[str, Any], start: int,
                  end: int) -> bytes:
    """Scenarios ``[start, end)`` of a forecast, in a worker: their outcomes as bytes."""
    pop, mod = inputs.core()
    tx, prior = data.core()
    return bytes(_core.forecast_shard(programme_core(programme), pop, mod, tx, options["as_of"], prior,
                                      options["scenarios"], options["seed"], options["threads"],
                                      options["confidence"], start, end, draws=inputs.draws_core()))


def forecast(executor: Any, programme: Any, population: Any, model: Any, actuals: Any, prior: Any,
             options: Dict[str, Any], progress: Optional[Callable[[int, int], Any]] = None,
             draws: Sequence[Any] = ()) -> Any:
    """A forecast on the executor: the conditioned run's scenario ranges on the workers, each
    scenario's outcome folded by the core in scenario order (the ``_core.ForecastResult`` a
    local run gives, bit for bit). ``options``: ``as_of``, ``scenarios``, ``seed``,
    ``threads``, ``confidence``."""
    scenarios = int(options["scenarios"])
    cut = ranges(scenarios, parts(executor, scenarios))
    inputs, data = Inputs(population, model, draws), ForecastInputs(actuals, prior)
    text = programme.to_json()
    tasks = [(forecast_task, (text, inputs, data, options, a, b)) for a, b in cut]
    shards = submit_all(executor, tasks, _scaled(progress, scenarios))
    return _core.forecast_merge(programme._spec, population._core, model._core, actuals, options["as_of"], prior,
                                scenarios, options["seed"], options["threads"], options["confidence"], shards,
                                draws=[d._core for d in draws] or None)
