"""Conversions of Python values to the exact forms the Rust core reads."""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import numbers
from typing import Any, Type

from .exceptions import ModelError, ProgrammeError, RebatesimError


def parse_percent(value: Any, where: str) -> Any:
    """``"3.5%"`` → ``"3.5"``; a number stays a number (already in percent)."""
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        if text.endswith("%"):
            text = text[:-1].strip()
        try:
            decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise ProgrammeError(
                f"{where}: expected a percentage such as \"3.5%\", found {value!r}",
                path=where,
                reason=f"expected a percentage such as \"3.5%\", found {value!r}",
            ) from None
        return text
    return value


def _default(o: Any) -> Any:
    if isinstance(o, decimal.Decimal):
        if not o.is_finite():
            raise ValueError(f"expected a finite number, found {o}")
        return str(o)
    if isinstance(o, _dt.datetime):
        return o.date().isoformat()
    if isinstance(o, _dt.date):
        return o.isoformat()
    if isinstance(o, bool):
        return o
    if isinstance(o, numbers.Integral):
        return int(o)
    if isinstance(o, numbers.Real):
        return float(o)
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if hasattr(o, "tolist"):  # numpy arrays and scalars
        return o.tolist()
    raise TypeError(f"cannot write a {type(o).__name__} into a programme")


def _finite(o: Any) -> Any:
    """Replace non-finite floats by their text, so the core reports them with a field path."""
    if isinstance(o, float) and o != o or isinstance(o, float) and o in (float("inf"), float("-inf")):
        return repr(o)
    if isinstance(o, decimal.Decimal) and not o.is_finite():
        return str(o)
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def to_json_text(d: Any, error: Type[RebatesimError] = ProgrammeError) -> str:
    """JSON text of a programme dict (or a model dict, ``error=ModelError``); Decimals as
    strings (exact), dates as YYYY-MM-DD. The dict is checked first (nesting depth, size,
    valid Unicode: :func:`rebatesim._checks.document`), so the walk below is bounded."""
    from ._checks import document

    kind = "model" if error is ModelError else "programme"
    document(d, kind)
    try:
        return json.dumps(_finite(d), default=_default, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as e:
        raise error(f"cannot read the {kind} dict: {e}", reason=str(e)) from None
