"""How a long run is driven from Python: its options checked into the form the core takes,
and its progress shown (a tqdm bar on terminals and in notebooks, a callback of yours, or
nothing).

Every public runner (:func:`~rebatesim.simulate`, :func:`~rebatesim.compare`,
:func:`~rebatesim.sensitivity`, :func:`~rebatesim.forecast`, :func:`~rebatesim.backtest`)
calls the core through :func:`with_progress`, so the bar is closed whatever happens
(an error, Ctrl-C).

>>> from rebatesim import _run
>>> seen = []
>>> _run.with_progress(lambda done, total: seen.append((done, total)), "demo",
...                    lambda callback: callback(3, 4) or "ran")
'ran'
>>> seen
[(3, 4)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

from . import _checks

if TYPE_CHECKING:  # pragma: no cover
    from ._core import _RunArgs

__all__ = ["Progress", "ProgressCallback", "run_options", "with_progress"]

#: What the core calls as a run advances: ``callback(done, total)``.
ProgressCallback = Callable[[int, int], Any]

T = TypeVar("T")


class Progress:
    """A tqdm bar fed by the engine's progress callback (shown on terminals and notebooks).

    ``progress``: True (a bar, when tqdm is installed), False/None (nothing) or a callable
    ``progress(done, total)`` called as the run advances."""

    def __init__(self, progress: Any, desc: str) -> None:
        self.bar: Any = None
        self.callback: Optional[ProgressCallback] = None
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
        """Close the bar, if one was shown."""
        if self.bar is not None:
            self.bar.close()


def with_progress(progress: Any, desc: str, run: Callable[[Optional[ProgressCallback]], T]) -> T:
    """``run(callback)`` with the progress ``progress`` asks for (see :class:`Progress`),
    the bar labelled ``desc`` and closed however the run ends."""
    bar = Progress(progress, desc)
    try:
        return run(bar.callback)
    finally:
        bar.close()


def run_options(scenarios: Any, seed: Any, threads: Any, chunk_size: Any, precision: Any,
                max_scenarios: Any, memory_limit: Any) -> "_RunArgs":
    """The run options of ``_core.simulate``, ``compare`` and ``sensitivity`` (``_core._RunArgs``:
    every key, ``None`` for the engine's default), checked (:mod:`rebatesim._checks`)."""
    stat, tol = _checks.precision(precision)
    return {
        "scenarios": _checks.scenarios(scenarios), "seed": _checks.seed(seed), "threads": _checks.threads(threads),
        "chunk_size": _checks.optional_whole_number("chunk_size", chunk_size, 1, _checks.MAX_SCENARIOS),
        "statistic": stat, "tolerance": tol,
        "max_scenarios": _checks.optional_whole_number("max_scenarios", max_scenarios, 1, _checks.MAX_SCENARIOS),
        "memory_limit": _checks.optional_whole_number("memory_limit", memory_limit, 1, _checks.MAX_BYTES),
    }
