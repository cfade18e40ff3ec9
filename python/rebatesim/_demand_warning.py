"""The warning a Monte Carlo run gives when its demand model has nothing random in it.

Without a demand model (or with one whose random parts are all off) every scenario draws
the same purchases: ``simulate``, ``compare`` and ``forecast`` then report a riskless
programme, ``± 0`` everywhere, which is almost never what the user meant (issue 17). The
public entry points call :func:`warn_if_riskless` once; the CLI turns the warning into a
stderr line (its ``warnings`` filter prints ``rebatesim: warning: ...``).

>>> from rebatesim import _demand_warning
>>> _demand_warning.riskless_reason(None) is not None
True
>>> _demand_warning.riskless_reason({"noise": {"sigma": 0.2}}) is None
True
>>> _demand_warning.riskless_reason({"incidence": {"probability": 0.8}}) is None
True
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Optional

__all__ = ["riskless_reason", "warn_if_riskless", "RANDOM_PARTS"]

#: The model sections (and their value field) that make demand random.
RANDOM_PARTS = (
    ("market", "sigma"),
    ("market", "monthly_sigma"),
    ("segment_factor", "sigma"),
    ("partner_factor", "sigma"),
    ("noise", "sigma"),
    ("churn", "monthly_hazard"),
)


def _positive(section: Mapping[str, Any], field: str) -> bool:
    values = [section.get(field, 0.0)]
    seg = section.get("segments")
    if isinstance(seg, Mapping):
        values += list(seg.values())
    return any(isinstance(v, (int, float)) and v > 0 for v in values)


def _below_one(section: Mapping[str, Any], field: str) -> bool:
    values = [section.get(field, 1.0)]
    seg = section.get("segments")
    if isinstance(seg, Mapping):
        values += list(seg.values())
    return any(isinstance(v, (int, float)) and v < 1 for v in values)


def riskless_reason(model: Any) -> Optional[str]:
    """Why a run with ``model`` has no demand uncertainty (None when it has some).

    ``model`` is None (no model given), a :class:`~rebatesim.Model` or a model dict."""
    if model is None:
        return ("no demand model given: every scenario buys exactly the baselines, so the results show no "
                "uncertainty (± 0); calibrate one on your history (rs.calibrate / rebatesim calibrate) "
                "or pass --model / model=")
    d = model.to_dict() if hasattr(model, "to_dict") else model
    if not isinstance(d, Mapping):
        return None
    for section, field in RANDOM_PARTS:
        s = d.get(section)
        if isinstance(s, Mapping) and _positive(s, field):
            return None
    incidence = d.get("incidence")
    if isinstance(incidence, Mapping) and _below_one(incidence, "probability"):
        return None
    stretch = (d.get("behaviour") or {}).get("stretch") or {}
    if isinstance(stretch, Mapping) and stretch.get("enabled"):
        return None
    return ("the demand model has every random part off (market, segment, partner and noise σ and churn "
            "are 0): every scenario buys the same, so the results show no demand uncertainty (± 0); "
            "calibrate the model on your history (rs.calibrate / rebatesim calibrate)")


def warn_if_riskless(model: Any, *, stacklevel: int = 3) -> None:
    """Issue a ``UserWarning`` when :func:`riskless_reason` gives one."""
    reason = riskless_reason(model)
    if reason is not None:
        warnings.warn(reason, UserWarning, stacklevel=stacklevel)
