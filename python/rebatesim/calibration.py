"""Calibration: a demand model estimated from the partners' own transaction history.

``calibrate(history, partners)`` returns a :class:`Calibration`: the calibrated
:class:`~rebatesim.Model`, every estimate with its standard error and 90% interval,
``K`` parameter draws (input uncertainty), per-partner estimates (category mix shrunk to
the segment's, unit price, last-12-months revenue) and diagnostic tables. The estimators
and what the engine does not use yet are documented in ``docs/calibration.md``.
"""

from __future__ import annotations

import os
import warnings as _warnings
from typing import Any, Dict, List, Union

from . import _core
from .exceptions import RequestError
from .settlement import load_partners, load_transactions
from .demand import Model

__all__ = ["calibrate", "Calibration"]

PathLike = Union[str, "os.PathLike[str]"]


def _count(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"{name}: expected a whole number from {lo} to {hi}, found {value!r}")
    if not lo <= value <= hi:
        raise RequestError(f"{name}: expected a whole number from {lo} to {hi}, found {value}")
    return value


class Calibration:
    """The result of :func:`calibrate`."""

    __slots__ = ("_core",)

    def __init__(self, core: "_core.CalibrationResult") -> None:
        self._core = core

    @property
    def model(self) -> Model:
        """The calibrated demand model."""
        return Model.from_toml(self._core.model_text())

    def model_text(self) -> str:
        """The model file (TOML) with every estimate as a comment above it."""
        return self._core.model_text()

    def save_model(self, path: PathLike) -> None:
        """Write :meth:`model_text` to ``path`` (a ``.toml`` file)."""
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            f.write(self._core.model_text())

    @property
    def draws(self) -> List[Model]:
        """The ``K`` parameter draws, each a :class:`~rebatesim.Model`."""
        return [Model.from_toml(t) for t in self._core.draw_texts()]

    @property
    def draw_incidence(self) -> List[Dict[str, float]]:
        """Per draw: the drawn probability of buying in a month, per segment."""
        return self._core.draw_incidence()

    @property
    def estimates(self) -> Any:
        """Every estimate: parameter, segment, value, se, lo90, hi90, dof, method (DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self._core.estimates())

    @property
    def partners(self) -> Any:
        """Per partner: segment, buying months, first/last purchase, churned, last-12-months
        revenue, unit price, ``mix_<category>`` shares shrunk to the segment's (DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self._core.partners())

    @property
    def diagnostics(self) -> Dict[str, Any]:
        """Observed against fitted tables (segment-month effects, market path, churn curves,
        residual sample)."""
        return self._core.diagnostics()

    @property
    def warnings(self) -> List[str]:
        """What the user should know (thin segments, partners without purchases, ...)."""
        return self._core.warnings()

    def __repr__(self) -> str:
        start, months = self._core.history()
        return f"Calibration({months} months from {start}, {len(self._core.partners()['partner_id'])} partners)"


def calibrate(
    history: Any,
    partners: Any = None,
    *,
    churn_silent_months: int = 6,
    min_segment_partners: int = 5,
    warn_segment_partners: int = 30,
    draws: int = 100,
    bootstrap: int = 400,
    seed: int = 1,
) -> Calibration:
    """Calibrate a demand model on a history of transaction lines (at least 13 months;
    DataFrame or CSV path, the settlement format) and, optionally, the partner table (for
    segments). Each warning is also issued as a ``UserWarning``.

    Raises :class:`~rebatesim.DataError` naming the table, row and column (a history
    shorter than 13 months, a month without purchases, an unknown partner, a segment with
    too few partners) or :class:`~rebatesim.RequestError` for a bad option.
    """
    tx = load_transactions(history)
    p = None if partners is None else load_partners(partners)
    core = _core.calibrate(
        tx,
        p,
        _count("churn_silent_months", churn_silent_months, 1, 120),
        _count("min_segment_partners", min_segment_partners, 1, 10**9),
        _count("warn_segment_partners", warn_segment_partners, 0, 10**9),
        _count("draws", draws, 0, 100_000),
        _count("bootstrap", bootstrap, 0, 100_000),
        _count("seed", seed, 0, 2**64 - 1),
    )
    for w in core.warnings():
        _warnings.warn(w, UserWarning, stacklevel=2)
    return Calibration(core)
