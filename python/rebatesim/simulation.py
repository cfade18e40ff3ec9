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

import os
import warnings
from typing import TYPE_CHECKING, Any, Optional, Union


from . import _core, _draws, _executor
from ._demand_warning import warn_if_riskless
from ._inputs import as_model, as_population, as_programme
from ._run import run_options, with_progress
from ._simulation_result import SimulationResult
from .demand import Model, Population

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = ["simulate", "SimulationResult", "Model", "Population"]

# the class lives in a private module; it is documented, pickled and shown as this module's
SimulationResult.__module__ = __name__

PathLike = Union[str, "os.PathLike[str]"]



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
    executor: Any = None,
    parameter_uncertainty: Any = None,
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

    ``executor``: any ``concurrent.futures`` executor (a ProcessPoolExecutor, a Dask
    ``Client.get_executor()``) to run scenario ranges on (``docs/scale-out.md``); the
    result is bit-identical to a local run. Not with ``precision``.

    ``model`` may be a :class:`~rebatesim.Calibration`. ``parameter_uncertainty`` (input
    uncertainty): by default a calibrated model (a Calibration, or a model file with the
    ``draws/`` folder ``rebatesim calibrate`` writes beside it) runs each scenario under one
    of its parameter draws, picked by (seed, scenario), so that the spread of the payout
    includes the uncertainty of the estimates; ``False`` turns it off; a list of models or a
    folder of ``draw_*.toml`` files gives the draws. :meth:`SimulationResult.parameter_variance`
    then says how much of each outcome's variance comes from the parameters.
    """
    prog = as_programme(programme)
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
        core = with_progress(progress, prog.name, lambda callback: _core.merge_shards(
            prog._spec, pop._core, mod._core,
            _executor.simulate_shards(ex, prog, inputs, kw, int(kw["scenarios"]), True, callback)))
    else:
        core = with_progress(progress, prog.name, lambda callback: _core.simulate(
            prog._spec, pop._core, mod._core, kw, progress=callback, draws=[d._core for d in draws] or None))
    result = SimulationResult._from_core(core.meta(), core.summaries(), core.scenarios(), core.partners(),
                                         prog, model=mod, partner_segments=pop._core.partner_segments())
    result._parameter_variance = _draws.variance_table(core)
    result._inputs = {"programme": ("programme", programme), "partners": ("partners", population),
                      "model": ("model", model)}
    return result


def model_for_population(model: Model, population: Population) -> Model:
    """``model`` without its settings for segments the population does not have, each
    dropped with a :class:`UserWarning` naming it: a model written for the whole
    population then runs on a subset of it (one segment alone, say). A misspelt segment
    name warns the same way. The model is returned unchanged when every segment it names
    is in the population.

    >>> import warnings
    >>> import rebatesim as rs
    >>> from rebatesim.simulation import model_for_population
    >>> m = rs.Model.from_dict({"noise": {"sigma": 0.2, "segments": {"a": 0.1, "b": 0.3}}})
    >>> pop = rs.Population.synthetic({"a": {"count": 2, "median_baseline": 1_000}})
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     sub = model_for_population(m, pop)
    >>> sorted(sub.to_dict()["noise"]["segments"]), str(w[0].message)[:45]
    (['a'], "model: noise.segments.b: segment 'b' is not a")
    """
    known = set(population.segments)
    d = model.to_dict()
    dropped = []
    for section, value in d.items():
        segs = value.get("segments") if isinstance(value, dict) else None
        if not isinstance(segs, dict):
            continue
        for name in [k for k in segs if k not in known]:
            del segs[name]
            dropped.append(f"{section}.segments.{name}")
    if not dropped:
        return model
    for path in dropped:
        seg = path.rsplit(".", 1)[1]
        warnings.warn(f"model: {path}: segment '{seg}' is not a segment of the population "
                      f"(known: {', '.join(sorted(known))}); its settings are not used", UserWarning, stacklevel=3)
    return Model.from_dict(d)


def warn_missing_baselines(population: Population) -> None:
    """A :class:`UserWarning` naming the partners without a baseline (neither
    ``baseline_revenue`` nor ``baseline_units``): the simulation runs them at their
    ``demand_revenue`` when given, else their segment's median baseline, and rules that need a baseline (growth, per unit above
    baseline) do not apply to them, as in settlement."""
    missing = population.without_baseline()
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5:,} more" if len(missing) > 5 else "")
        cols = dict(population._core.columns())
        level = "their demand_revenue where given, else their segment's median baseline" \
            if "demand_revenue" in cols else "their segment's median baseline"
        warnings.warn(f"population: {len(missing):,} partner(s) without a baseline ({shown}) are simulated at "
                      f"{level}; growth and per-unit-above-baseline rules do not apply to them",
                      UserWarning, stacklevel=3)
