"""Checks of the public functions' arguments, shared by the Python API and the CLI.

Every check returns the value in the form the core takes (an ``int``, a ``float``, a
``str``) or raises a rebatesim error naming the argument and what was expected, so a
caller never meets a bare ``TypeError``, ``KeyError``, ``OverflowError``,
``RecursionError`` or ``UnicodeEncodeError`` from the binding. The core checks what it
knows better (a statistic's meaning, dates inside the programme, memory); these checks
are type, sign and range only.

Limits (documented in the README, "Quick start in Python", after the table of exceptions):

- a seed is a whole number with ``0 ≤ seed < 2**64`` (the core's 64-bit seed);
- a number of scenarios is a whole number from 1 to :data:`MAX_SCENARIOS` (10⁹; the
  core's memory guard refuses most counts far below this, see ``memory_limit``);
- threads from 1 to :data:`MAX_THREADS`; backtest years from 1 to :data:`MAX_YEARS`;
- a programme or model dict is nested at most :data:`MAX_DEPTH` (64) levels deep and holds
  at most :data:`MAX_VALUES` values; its text must be valid Unicode (no lone surrogates).

``bool`` is not a whole number here: ``scenarios=True`` is refused, as is ``1.5`` (never
truncated) or ``"100"``.

>>> from rebatesim import _checks
>>> _checks.seed(2**64 - 1) == 2**64 - 1
True
>>> _checks.scenarios(1.5)
Traceback (most recent call last):
...
rebatesim.exceptions.RequestError: scenarios: expected a whole number, found 1.5
>>> _checks.document({"a": [{"b": "\\ud800"}]}, "programme")
Traceback (most recent call last):
...
rebatesim.exceptions.ProgrammeError: a[0].b: expected valid Unicode text, found a lone surrogate U+D800 at character 1
"""

from __future__ import annotations

import math
import numbers
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple, Type

from .exceptions import FileError, ModelError, ProgrammeError, RebatesimError, RequestError

__all__ = [
    "MAX_SEED",
    "MAX_SCENARIOS",
    "MAX_THREADS",
    "MAX_YEARS",
    "MAX_DEPTH",
    "MAX_VALUES",
    "whole_number",
    "optional_whole_number",
    "seed",
    "scenarios",
    "threads",
    "real",
    "positive_real",
    "fraction",
    "statistic",
    "precision",
    "text",
    "path",
    "month_ends",
    "document",
    "document_text",
]

MAX_SEED = 2**64 - 1
MAX_SCENARIOS = 1_000_000_000
MAX_THREADS = 1024
MAX_YEARS = 1_000_000
MAX_MONTH = 1200
MAX_BYTES = 2**64 - 1
MAX_DEPTH = 64
MAX_VALUES = 10_000_000

SURROGATE = re.compile("[\ud800-\udfff]")


def _is_whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _show(value: Any) -> str:
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()  # 20.0, not np.float64(20.0)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def whole_number(name: str, value: Any, minimum: Optional[int] = None, maximum: Optional[int] = None,
                 *, error: Type[RebatesimError] = RequestError) -> int:
    """``value`` as an ``int`` if it is a whole number (not a bool, not a float) within
    ``[minimum, maximum]``; else ``error`` naming ``name``.

    >>> whole_number("years", 3, 1, 10)
    3
    >>> whole_number("years", True, 1, 10)
    Traceback (most recent call last):
    ...
    rebatesim.exceptions.RequestError: years: expected a whole number, found True
    """
    if not _is_whole(value):
        raise error(f"{name}: expected a whole number, found {_show(value)}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise error(f"{name}: expected at least {minimum}, found {_big(v)}")
    if maximum is not None and v > maximum:
        raise error(f"{name}: expected at most {_big(maximum)}, found {_big(v)}")
    return v


def _big(v: int) -> str:
    if v == MAX_SEED:
        return "2**64 - 1"
    return f"{v:_}" if abs(v) >= 10**6 else str(v)


def optional_whole_number(name: str, value: Any, minimum: Optional[int] = None,
                          maximum: Optional[int] = None) -> Optional[int]:
    """None, or :func:`whole_number`."""
    return None if value is None else whole_number(name, value, minimum, maximum)


def seed(value: Any, name: str = "seed", *, error: Type[RebatesimError] = RequestError) -> int:
    """A seed: a whole number with ``0 ≤ seed < 2**64``."""
    if not _is_whole(value):
        raise error(f"{name}: expected a whole number from 0 to 2**64 - 1, found {_show(value)}")
    v = int(value)
    if v < 0 or v > MAX_SEED:
        raise error(f"{name}: expected a whole number from 0 to 2**64 - 1, found {_big(v)}")
    return v


def scenarios(value: Any, name: str = "scenarios", minimum: int = 1) -> int:
    """A number of scenarios: a whole number from ``minimum`` (1) to :data:`MAX_SCENARIOS`."""
    return whole_number(name, value, minimum, MAX_SCENARIOS)


def threads(value: Any, name: str = "threads") -> Optional[int]:
    """None (all cores) or a whole number from 1 to :data:`MAX_THREADS`."""
    return optional_whole_number(name, value, 1, MAX_THREADS)


def real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise RequestError(f"{name}: expected a number, found {_show(value)}")
    try:
        v = float(value)
    except (OverflowError, ValueError):
        raise RequestError(f"{name}: expected a finite number, found {_show(value)}") from None
    if not math.isfinite(v):
        raise RequestError(f"{name}: expected a finite number, found {_show(value)}")
    return v


def positive_real(name: str, value: Any) -> float:
    """A finite number above 0, as a float."""
    v = real(name, value)
    if not v > 0:
        raise RequestError(f"{name}: expected a number above 0, found {_show(value)}")
    return v


def fraction(name: str, value: Any) -> float:
    """A number strictly between 0 and 1, as a float (a confidence, a level)."""
    v = real(name, value)
    if not 0 < v < 1:
        raise RequestError(f"{name}: expected a number between 0 and 1 (e.g. 0.9), found {_show(value)}")
    return v


def text(name: str, value: Any, *, error: Type[RebatesimError] = RequestError) -> str:
    """A ``str`` that is valid Unicode (no lone surrogates, which no file or the core can hold)."""
    if not isinstance(value, str):
        raise error(f"{name}: expected text, found {type(value).__name__}")
    m = SURROGATE.search(value)
    if m is not None:
        raise error(f"{name}: expected valid Unicode text, found a lone surrogate "
                    f"U+{ord(m.group()):04X} at character {m.start() + 1}")
    return value


_STATISTIC = re.compile(r"^\s*(mean|p\d+(\.\d+)?)\s*$", re.IGNORECASE)


def statistic(value: Any, name: str = "statistic") -> str:
    """``"mean"`` or a percentile ``"pNN"`` (0 < NN < 100)."""
    t = text(name, value)
    m = _STATISTIC.match(t)
    ok = m is not None and (m.group(1).lower() == "mean" or 0 < float(m.group(1)[1:]) < 100)
    if not ok:
        raise RequestError(f"{name}: expected \"mean\" or a percentile such as \"p95\", found {_show(value)}")
    return t.strip().lower()


def precision(value: Any) -> Tuple[Optional[str], Optional[float]]:
    """``precision=`` of simulate, compare and sensitivity: None, a tolerance on the mean,
    ``(statistic, tolerance)`` or ``{"statistic": ..., "tolerance": ...}`` (statistic
    optional, default ``"mean"``). Returns ``(statistic, tolerance)``."""
    if value is None:
        return None, None
    expected = 'a tolerance, (statistic, tolerance) or {"statistic": ..., "tolerance": ...}'
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in ("statistic", "tolerance"))
        if unknown:
            raise RequestError(f"precision: unknown key {unknown[0]!r}: expected {expected}")
        if "tolerance" not in value:
            raise RequestError(f"precision: the dict has no 'tolerance': expected {expected}")
        return statistic(value.get("statistic", "mean"), "precision statistic"), \
            positive_real("precision tolerance", value["tolerance"])
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return "mean", positive_real("precision", value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return statistic(value[0], "precision statistic"), positive_real("precision tolerance", value[1])
    raise RequestError(f"precision: expected {expected}, found {_show(value)}")


def path(name: str, value: Any, *, error: Type[RebatesimError] = RequestError) -> str:
    """A file or folder path (``str`` or ``os.PathLike``), not empty, as text the core
    can take: a name that is not valid UTF-8 is a :class:`FileError`."""
    if not isinstance(value, (str, os.PathLike)):
        raise error(f"{name}: expected a file path, found {type(value).__name__}")
    try:
        p = os.fspath(value)
    except TypeError:
        raise error(f"{name}: expected a file path, found {type(value).__name__}") from None
    if isinstance(p, bytes):
        try:
            p = p.decode("utf-8")
        except UnicodeDecodeError:
            raise FileError(f"{name}: the path {p!r} is not valid UTF-8", path=repr(p)) from None
    if p == "":
        raise error(f"{name}: expected a file path, found an empty string")
    if "\0" in p:
        raise FileError(f"{name}: the path {p!r} contains a NUL character", path=p.replace("\0", "\\0"))
    if SURROGATE.search(p):
        shown = p.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") \
            if all("\udc80" <= c <= "\udcff" for c in SURROGATE.findall(p)) else repr(p)
        raise FileError(f"{name}: the path {shown} is not valid UTF-8 (rebatesim needs UTF-8 file names)",
                        path=shown)
    return p


def month_ends(value: Any, name: str = "month_ends") -> Optional[List[int]]:
    """None or a non-empty list of programme months (whole numbers from 1)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, set, frozenset)) \
            and not hasattr(value, "tolist"):
        raise RequestError(f"{name}: expected a list of months (whole numbers from 1), found {_show(value)}")
    items = value.tolist() if hasattr(value, "tolist") else list(value)
    if not isinstance(items, list) or not items:
        raise RequestError(f"{name}: expected a non-empty list of months (whole numbers from 1), found {_show(value)}")
    return [whole_number(f"{name}[{i}]", m, 1, MAX_MONTH) for i, m in enumerate(items)]


def _key(path: str, key: Any) -> str:
    k = str(key)
    return k if not path else f"{path}.{k}"


def document(d: Any, kind: str) -> None:
    """Check a programme (``kind="programme"``) or model dict before it is written as JSON:
    nested at most :data:`MAX_DEPTH` levels, at most :data:`MAX_VALUES` values once written
    out (a list included twice counts twice), not containing itself, no lone surrogate in a
    key or a string. Iterative (no recursion, so no RecursionError at any depth) and linear
    in the number of distinct lists and dicts; raises :class:`ProgrammeError` /
    :class:`ModelError` with ``path`` set to the field path (``components[0].tiers[1].from``)."""
    error: Type[RebatesimError] = ModelError if kind == "model" else ProgrammeError

    def fail(where: str, reason: str) -> None:
        raise error(f"{where}: {reason}" if where else reason, path=where, reason=reason)

    too_deep = f"nested more than {MAX_DEPTH} levels deep: expected a {kind} (at most {MAX_DEPTH} levels of tables and lists)"
    done: Dict[int, Tuple[int, int]] = {}  # id of a finished list or dict -> (its height in levels, its values)
    active: Set[int] = set()  # ids of the lists and dicts being walked (a dict inside itself)
    total = 0  # values once written out
    # a frame: [value, field path, iterator over its children or None, height so far]
    stack: List[List[Any]] = [[d, "", None, 0]]
    while stack:
        frame = stack[-1]
        value, where, children = frame[0], frame[1], frame[2]
        if children is None:
            total += 1
            if isinstance(value, str):
                m = SURROGATE.search(value)
                if m is not None:
                    fail(where, f"expected valid Unicode text, found a lone surrogate U+{ord(m.group()):04X} "
                                f"at character {m.start() + 1}")
            if not isinstance(value, (Mapping, list, tuple)):
                stack.pop()
                continue
            depth = len(stack) - 1
            key = id(value)
            if key in active:
                fail(where, f"the {kind} contains itself here: expected a tree of tables and lists")
            if key in done:
                height, size = done[key]
                if depth + height > MAX_DEPTH:
                    fail(where, too_deep)
                total += size - 1
                if total > MAX_VALUES:
                    fail("", f"the {kind} dict holds more than {MAX_VALUES:_} values: expected a {kind} "
                             "(is a list or dict included many times over?)")
                stack.pop()
                if stack:
                    stack[-1][3] = max(stack[-1][3], height)
                continue
            if depth >= MAX_DEPTH:
                fail(where, too_deep)
            if isinstance(value, Mapping):
                for k in value:
                    if isinstance(k, str) and SURROGATE.search(k):
                        fail(where, f"a key {k!r} is not valid Unicode text (a lone surrogate)")
                frame[2] = iter([(v, _key(where, k)) for k, v in value.items()])
            else:
                frame[2] = iter([(v, f"{where}[{i}]") for i, v in enumerate(value)])
            frame.append(total)  # the count before its children
            active.add(key)
            continue
        nxt = next(children, None)
        if nxt is not None:
            if total > MAX_VALUES:
                fail("", f"the {kind} dict holds more than {MAX_VALUES:_} values: expected a {kind} "
                         "(is a list or dict included many times over?)")
            stack.append([nxt[0], nxt[1], None, 0])
            continue
        height = frame[3] + 1
        done[id(value)] = (height, total - frame[4] + 1)
        active.discard(id(value))
        stack.pop()
        if stack:
            stack[-1][3] = max(stack[-1][3], height)


def document_text(value: Any, kind: str, file: Optional[str] = None) -> str:
    """Check the text of a programme or model (``from_toml``/``from_json``/``from_yaml``):
    a ``str`` without lone surrogates; the error names the line and column."""
    error: Type[RebatesimError] = ModelError if kind == "model" else ProgrammeError
    if not isinstance(value, str):
        reason = f"expected the {kind} as text (str), found {type(value).__name__}"
        raise error(reason, file=file, reason=reason)
    m = SURROGATE.search(value)
    if m is not None:
        line = value.count("\n", 0, m.start()) + 1
        column = m.start() - (value.rfind("\n", 0, m.start()) + 1) + 1
        reason = f"expected valid Unicode text, found a lone surrogate U+{ord(m.group()):04X}"
        where = f"{file + ', ' if file else ''}line {line}, column {column}"
        raise error(f"{where}: {reason}", file=file, line=line, column=column, reason=reason)
    return value
