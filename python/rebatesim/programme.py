"""Rebate programmes: read, write, build and inspect them.

A programme is the one source of truth for an agreement: the same file is read
by the commercial team, finance and the partners. :class:`Programme` wraps a
programme parsed and validated by the Rust core; the builders
(:func:`volume`, :func:`growth`, :func:`per_unit`, :func:`bundle`,
:func:`logistics`) produce the same dicts as the file format, so a programme
built in a notebook can be saved and read back exactly.

>>> import rebatesim as rs
>>> p = rs.Programme.new(
...     "Distributor 2027", "EUR", start="2027-01-01", period="quarter", periods=4,
...     components=[rs.volume("volume", tiers=[(100_000, "1%"), (250_000, "2.5%")])],
... )
>>> p.period_labels
['2027-Q1', '2027-Q2', '2027-Q3', '2027-Q4']
>>> rs.Programme.from_toml(p.to_toml()) == p
True
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _checks, _core
from ._display import programme_html
from ._values import parse_percent, to_json_text
from .exceptions import ProgrammeError, RequestError

__all__ = ["Programme", "volume", "growth", "per_unit", "bundle", "logistics", "tier"]

PathLike = Union[str, "os.PathLike[str]"]

_FORMATS = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}


class Programme:
    """A validated rebate programme.

    Build one with :meth:`from_file`, :meth:`from_dict`, :meth:`from_toml`,
    :meth:`from_json`, :meth:`from_yaml` or :meth:`new`. Every constructor
    validates: an invalid programme raises :class:`~rebatesim.ProgrammeError`
    naming the field path (and file line) and what was expected, so a
    ``Programme`` object is always valid.

    >>> import rebatesim as rs
    >>> p = rs.Programme.from_dict({
    ...     "name": "Example", "currency": "EUR", "start": "2027-01-01",
    ...     "period": "year", "periods": 1,
    ...     "components": [{"id": "vol", "kind": "volume",
    ...                     "tiers": [{"from": 100000, "percent": 1}]}],
    ... })
    >>> p.name, p.currency, len(p.components)
    ('Example', 'EUR', 1)
    """

    __slots__ = ("_spec", "_describe")

    def __init__(self, spec: "_core.ProgrammeSpec") -> None:
        if not isinstance(spec, _core.ProgrammeSpec):
            raise TypeError(
                "use Programme.from_file, from_dict, from_toml, from_json, from_yaml or new"
            )
        self._spec = spec
        self._describe: Optional[Dict[str, Any]] = None

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_file(cls, path: PathLike) -> "Programme":
        """Read a programme file; the format comes from the extension
        (``.toml``, ``.json``, ``.yaml``/``.yml``).

        Raises :class:`~rebatesim.FileError` if the file cannot be read and
        :class:`~rebatesim.ProgrammeError` (with ``file``, ``line``, ``path``)
        if it is invalid.

        >>> import rebatesim as rs
        >>> rs.Programme.from_file(rs.example_path("programme.toml")).currency
        'EUR'
        """
        return cls(_core.ProgrammeSpec.from_file(_checks.path("programme", path)))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Programme":
        """Build a programme from a dict with the file format's keys.

        Numbers may be ``int``, ``float`` (read through their shortest decimal
        form, so ``0.035`` is exactly 0.035), :class:`decimal.Decimal` or
        strings; dates may be :class:`datetime.date` or ``"YYYY-MM-DD"``.

        >>> import rebatesim as rs
        >>> d = rs.Programme.from_file(rs.example_path("programme.toml")).to_dict()
        >>> rs.Programme.from_dict(d).to_dict() == d
        True
        """
        if not isinstance(d, Mapping):
            raise ProgrammeError(
                f"expected a dict describing a programme, found {type(d).__name__}",
                reason=f"expected a dict describing a programme, found {type(d).__name__}",
            )
        return cls(_core.ProgrammeSpec.from_text(to_json_text(dict(d)), "json", None, False))

    @classmethod
    def from_toml(cls, text: str, *, file: Optional[str] = None) -> "Programme":
        """Parse a programme written in TOML (``file`` names it in error messages).

        >>> import rebatesim as rs
        >>> p = rs.Programme.from_toml('''
        ... name = "T"
        ... currency = "USD"
        ... start = 2027-01-01
        ... period = "half"
        ... periods = 2
        ... [[components]]
        ... id = "pallets"
        ... kind = "logistics"
        ... min_quantity = 40
        ... per_order = 25
        ... ''')
        >>> p.period_labels
        ['2027-H1', '2027-H2']
        """
        return cls(_core.ProgrammeSpec.from_text(_checks.document_text(text, "programme", file), "toml", _file(file)))

    @classmethod
    def from_json(cls, text: str, *, file: Optional[str] = None) -> "Programme":
        """Parse a programme written in JSON."""
        return cls(_core.ProgrammeSpec.from_text(_checks.document_text(text, "programme", file), "json", _file(file)))

    @classmethod
    def from_yaml(cls, text: str, *, file: Optional[str] = None) -> "Programme":
        """Parse a programme written in YAML."""
        return cls(_core.ProgrammeSpec.from_text(_checks.document_text(text, "programme", file), "yaml", _file(file)))

    @classmethod
    def new(
        cls,
        name: str,
        currency: str,
        start: Union[str, _dt.date],
        period: str,
        periods: int,
        components: Sequence[Mapping[str, Any]],
        *,
        description: Optional[str] = None,
        decimals: Optional[int] = None,
        rounding: Optional[str] = None,
        segments: Optional[Iterable[str]] = None,
        categories: Optional[Iterable[str]] = None,
        budget: Any = None,
        partner_cap: Any = None,
        minimum_payout: Any = None,
        payment: Optional[str] = None,
        payment_lag_days: Optional[int] = None,
    ) -> "Programme":
        """Build a programme from keyword arguments and component builders.

        ``period`` is ``"month"``, ``"quarter"``, ``"half"`` or ``"year"``;
        ``rounding`` is ``"half_up"`` (default), ``"half_even"``, ``"down"`` or
        ``"up"``; ``payment`` is ``"period"`` (after each period, default) or
        ``"end"``, paid ``payment_lag_days`` after.

        >>> import rebatesim as rs
        >>> p = rs.Programme.new(
        ...     "Growth 2027", "GBP", "2027-01-01", "year", 1,
        ...     [rs.growth("growth", tiers=[(5, "1%"), (10, "2%")], applies_to="growth")],
        ...     budget=250_000, payment="end", payment_lag_days=45,
        ... )
        >>> p.budget
        Decimal('250000')
        """
        d: Dict[str, Any] = {"name": name}
        if description is not None:
            d["description"] = description
        d["currency"] = currency
        if decimals is not None:
            d["decimals"] = decimals
        if rounding is not None:
            d["rounding"] = rounding
        d.update(start=start, period=period, periods=periods)
        if segments is not None:
            d["segments"] = _names("segments", segments)
        if categories is not None:
            d["categories"] = _names("categories", categories)
        for key, value in (("budget", budget), ("partner_cap", partner_cap), ("minimum_payout", minimum_payout)):
            if value is not None:
                d[key] = value
        if payment is not None or payment_lag_days is not None:
            pay: Dict[str, Any] = {}
            if payment is not None:
                pay["when"] = payment
            if payment_lag_days is not None:
                pay["lag_days"] = payment_lag_days
            d["payment"] = pay
        if isinstance(components, (str, bytes, Mapping)) or not isinstance(components, Iterable):
            raise _bad("components", f"expected a list of components (volume(...), growth(...), ...), "
                                     f"found {type(components).__name__}")
        comps = list(components)
        for i, c in enumerate(comps):
            if not isinstance(c, Mapping):
                raise _bad(f"components[{i}]", f"expected a component (a dict such as volume(...) returns), "
                                               f"found {type(c).__name__}")
        d["components"] = [dict(c) for c in comps]
        return cls.from_dict(d)

    # ----------------------------------------------------------------- output
    def to_dict(self) -> Dict[str, Any]:
        """The programme as a dict with the file format's keys (absent optional
        fields stay absent). ``Programme.from_dict(p.to_dict()) == p``."""
        d: Dict[str, Any] = json.loads(self._spec.to_text("json"))
        return d

    def to_toml(self) -> str:
        """The programme as TOML text; reading it back gives an equal programme."""
        return self._spec.to_text("toml")

    def to_json(self) -> str:
        """The programme as JSON text."""
        return self._spec.to_text("json")

    def to_yaml(self) -> str:
        """The programme as YAML text."""
        return self._spec.to_text("yaml")

    def save(self, path: PathLike) -> None:
        """Write the programme to ``path`` in the format of its extension.

        >>> import rebatesim as rs, tempfile, pathlib
        >>> p = rs.Programme.from_file(rs.example_path("programme.toml"))
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "copy.yaml"
        >>> p.save(out)
        >>> rs.Programme.from_file(out) == p
        True
        """
        path = _checks.path("path", path)
        ext = os.path.splitext(path)[1].lower()
        fmt = _FORMATS.get(ext)
        if fmt is None:
            raise RequestError(
                f"{path}: cannot tell the file format from the extension "
                "(expected .toml, .json, .yaml or .yml)"
            )
        text = self._spec.to_text(fmt)
        from .outputs import Outputs

        outs = Outputs()  # the whole file or none: written beside it, then renamed
        target = outs.file(path)
        with outs:
            with open(target.path, "w", encoding="utf-8") as f:
                f.write(text)

    def validate(self) -> "Programme":
        """Check the programme's rules again; returns ``self`` (for chaining).

        Raises :class:`~rebatesim.ProgrammeError`. Every constructor already
        validates, so this only matters as an explicit assertion.
        """
        self._spec.validate()
        return self

    def describe(self) -> Dict[str, Any]:
        """The validated programme with defaults filled in: periods (label,
        start, end, payment date) and components (kind, scope, ladder with
        exact amounts as strings; percentages in percent)."""
        if self._describe is None:
            self._describe = json.loads(self._spec.describe())
        copy: Dict[str, Any] = json.loads(json.dumps(self._describe))  # a copy the caller may edit
        return copy

    def _d(self) -> Dict[str, Any]:
        if self._describe is None:
            self._describe = json.loads(self._spec.describe())
        return self._describe

    # ----------------------------------------------------------------- attributes
    @property
    def name(self) -> str:
        """Display name."""
        return self._spec.name

    @property
    def currency(self) -> str:
        """ISO 4217 currency code (upper case)."""
        return self._spec.currency

    @property
    def description(self) -> Optional[str]:
        """Free-text description, if any."""
        return self.to_dict().get("description")

    @property
    def decimals(self) -> int:
        """Decimal places of the currency's minor unit."""
        return int(self._d()["decimals"])

    @property
    def rounding(self) -> str:
        """Rounding rule: ``half_up``, ``half_even``, ``down`` or ``up``."""
        return str(self._d()["rounding"])

    @property
    def start(self) -> _dt.date:
        """First day of the programme."""
        return _dt.date.fromisoformat(self._d()["start"])

    @property
    def end(self) -> _dt.date:
        """Last day of the programme."""
        return _dt.date.fromisoformat(self._d()["end"])

    @property
    def period(self) -> str:
        """Period length: ``month``, ``quarter``, ``half`` or ``year``."""
        return str(self._d()["period"])

    @property
    def periods(self) -> int:
        """Number of periods."""
        return len(self._d()["periods"])

    @property
    def period_labels(self) -> List[str]:
        """Labels of the periods, e.g. ``['2027-Q1', ..., '2027-Q4']``."""
        return [p["label"] for p in self._d()["periods"]]

    @property
    def segments(self) -> List[str]:
        """Partner segments the programme declares."""
        return list(self._d()["segments"])

    @property
    def categories(self) -> List[str]:
        """Product categories the programme declares."""
        return list(self._d()["categories"])

    @property
    def budget(self) -> Optional[decimal.Decimal]:
        """Programme budget, or None."""
        return _dec(self._d()["budget"])

    @property
    def partner_cap(self) -> Optional[decimal.Decimal]:
        """Cap per partner over the programme, or None."""
        return _dec(self._d()["partner_cap"])

    @property
    def minimum_payout(self) -> Optional[decimal.Decimal]:
        """Minimum payout, or None."""
        return _dec(self._d()["minimum_payout"])

    @property
    def components(self) -> List[Dict[str, Any]]:
        """The components as written in the file (dicts, in file order)."""
        return list(self.to_dict()["components"])

    @property
    def component_ids(self) -> List[str]:
        """Component ids, sorted (the order of every output)."""
        return [c["id"] for c in self._d()["components"]]

    # ----------------------------------------------------------------- dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Programme):
            return NotImplemented
        return self._spec == other._spec

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __reduce__(self) -> Any:
        return (Programme.from_json, (self.to_json(),))

    def __repr__(self) -> str:
        d = self._d()
        n = len(d["periods"])
        return (
            f"<Programme {d['name']!r}: {d['currency']}, {n} {d['period']}"
            f"{'s' if n != 1 else ''} from {d['start']}, "
            f"{len(d['components'])} component{'s' if len(d['components']) != 1 else ''} "
            f"({', '.join(c['id'] for c in d['components'])})>"
        )

    def _repr_html_(self) -> str:
        return programme_html(self._d())


# --------------------------------------------------------------------- helpers
def _file(file: Any) -> Optional[str]:
    """The ``file=`` name of ``from_toml``/``from_json``/``from_yaml`` (for messages)."""
    return None if file is None else _checks.text("file", file, error=ProgrammeError)


def _bad(path: str, reason: str) -> ProgrammeError:
    return ProgrammeError(f"{path}: {reason}", path=path, reason=reason)


def _names(field: str, values: Any) -> List[Any]:
    """``segments=`` / ``categories=`` of :meth:`Programme.new`: a list of names."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise _bad(field, f"expected a list of names, found {type(values).__name__}")
    return list(values)


def _dec(v: Optional[str]) -> Optional[decimal.Decimal]:
    return None if v is None else decimal.Decimal(v)


# --------------------------------------------------------------------- builders
TierLike = Union[Tuple[Any, Any], Mapping[str, Any]]


def tier(threshold: Any, reward: Any) -> Dict[str, Any]:
    """One tier as a dict: ``reward`` is ``"3.5%"`` (percent of the basis),
    ``{"per_unit": 0.5}``, ``{"fixed": 1000}`` or ``{"percent": 3.5}``.

    >>> import rebatesim as rs
    >>> rs.tier(100_000, "2.5%")
    {'from': 100000, 'percent': '2.5'}
    >>> rs.tier(500, {"per_unit": 1.5})
    {'from': 500, 'per_unit': 1.5}
    """
    return _tier(threshold, reward, "tier")


def _tier(threshold: Any, reward: Any, where: str) -> Dict[str, Any]:
    t: Dict[str, Any] = {"from": threshold}
    if isinstance(reward, str):
        if not reward.strip().endswith("%"):
            raise ProgrammeError(
                f"{where}: a reward written as text must be a percentage such as \"3.5%\", found {reward!r}",
                path=where,
                reason=f"a reward written as text must be a percentage such as \"3.5%\", found {reward!r}",
            )
        t["percent"] = parse_percent(reward, where)
    elif isinstance(reward, Mapping):
        for key, value in reward.items():
            t[key] = parse_percent(value, where) if key == "percent" else value
    else:
        msg = (
            f"expected a reward \"3.5%\", {{'per_unit': x}} or {{'fixed': x}}, found {reward!r} "
            "(a bare number is ambiguous)"
        )
        raise ProgrammeError(f"{where}: {msg}", path=where, reason=msg)
    return t


def _tiers(tiers: Iterable[TierLike], where: str) -> List[Dict[str, Any]]:
    out = []
    for j, t in enumerate(tiers):
        w = f"{where}.tiers[{j}]"
        if isinstance(t, Mapping):
            out.append({k: (parse_percent(v, w) if k == "percent" else v) for k, v in t.items()})
        else:
            try:
                threshold, reward = t
            except (TypeError, ValueError):
                msg = f"expected a (threshold, reward) pair or a dict, found {t!r}"
                raise ProgrammeError(f"{w}: {msg}", path=w, reason=msg) from None
            out.append(_tier(threshold, reward, w))
    return out


def _common(d: Dict[str, Any], **kw: Any) -> Dict[str, Any]:
    for key, value in kw.items():
        if value is None:
            continue
        if key in ("segments", "categories", "partners"):
            value = [value] if isinstance(value, str) else list(value)
        d[key] = value
    return d


def volume(
    id: str,
    tiers: Iterable[TierLike],
    *,
    method: Optional[str] = None,
    basis: Optional[str] = None,
    basis_cap: Any = None,
    name: Optional[str] = None,
    description: Optional[str] = None,
    segments: Optional[Iterable[str]] = None,
    categories: Optional[Iterable[str]] = None,
    partners: Optional[Iterable[str]] = None,
    measure: Optional[str] = None,
    returns: Optional[str] = None,
    cap: Any = None,
    exclusive_group: Optional[str] = None,
) -> Dict[str, Any]:
    """A volume component: a tier ladder on the period's volume.

    ``tiers`` are ``(threshold, reward)`` pairs (see :func:`tier`);
    ``method`` is ``retroactive`` (default), ``incremental``, ``rolling`` or
    ``total``; ``basis`` is ``revenue`` (default) or ``units``; ``measure``
    is ``period`` (default) or ``cumulative``; ``returns`` is ``net``
    (default) or ``gross``; ``cap`` caps the component per partner over the
    programme.

    >>> import rebatesim as rs
    >>> rs.volume("vol", [(100_000, "1%"), (250_000, "2.5%")], method="incremental", cap=20_000)
    ... # doctest: +NORMALIZE_WHITESPACE
    {'id': 'vol', 'kind': 'volume', 'method': 'incremental',
     'tiers': [{'from': 100000, 'percent': '1'}, {'from': 250000, 'percent': '2.5'}], 'cap': 20000}
    """
    d: Dict[str, Any] = {"id": id, "kind": "volume"}
    _common(d, name=name, description=description, basis=basis, method=method)
    d["tiers"] = _tiers(tiers, id)
    return _common(
        d, basis_cap=basis_cap, segments=segments, categories=categories, partners=partners,
        measure=measure, returns=returns, cap=cap, exclusive_group=exclusive_group,
    )


def growth(
    id: str,
    tiers: Iterable[TierLike],
    *,
    applies_to: Optional[str] = None,
    basis: Optional[str] = None,
    name: Optional[str] = None,
    description: Optional[str] = None,
    segments: Optional[Iterable[str]] = None,
    categories: Optional[Iterable[str]] = None,
    partners: Optional[Iterable[str]] = None,
    measure: Optional[str] = None,
    returns: Optional[str] = None,
    cap: Any = None,
    exclusive_group: Optional[str] = None,
) -> Dict[str, Any]:
    """A growth component: tiers on growth (in percent) over the partner's
    baseline for the same window. ``applies_to`` is ``whole`` (default: the
    rate on the whole volume) or ``growth`` (only on volume above baseline).

    >>> import rebatesim as rs
    >>> rs.growth("grow", [(5, "1%"), (10, "2%")], applies_to="growth")["tiers"]
    [{'from': 5, 'percent': '1'}, {'from': 10, 'percent': '2'}]
    """
    d: Dict[str, Any] = {"id": id, "kind": "growth"}
    _common(d, name=name, description=description, basis=basis)
    d["tiers"] = _tiers(tiers, id)
    return _common(
        d, applies_to=applies_to, segments=segments, categories=categories, partners=partners,
        measure=measure, returns=returns, cap=cap, exclusive_group=exclusive_group,
    )


def per_unit(
    id: str,
    amount: Any,
    *,
    above: Any = None,
    name: Optional[str] = None,
    description: Optional[str] = None,
    segments: Optional[Iterable[str]] = None,
    categories: Optional[Iterable[str]] = None,
    partners: Optional[Iterable[str]] = None,
    measure: Optional[str] = None,
    returns: Optional[str] = None,
    cap: Any = None,
    exclusive_group: Optional[str] = None,
) -> Dict[str, Any]:
    """A per-unit (upsell) component: ``amount`` per unit bought in scope,
    optionally only ``above`` a quantity per period or ``above="baseline"``
    (the partner's baseline units for the period).

    >>> import rebatesim as rs
    >>> rs.per_unit("premium", 2.5, categories=["premium"], above="baseline")
    {'id': 'premium', 'kind': 'per_unit', 'amount': 2.5, 'above': 'baseline', 'categories': ['premium']}
    """
    d: Dict[str, Any] = {"id": id, "kind": "per_unit"}
    _common(d, name=name, description=description, amount=amount, above=above)
    return _common(
        d, segments=segments, categories=categories, partners=partners,
        measure=measure, returns=returns, cap=cap, exclusive_group=exclusive_group,
    )


def bundle(
    id: str,
    minimums: Mapping[str, Any],
    *,
    percent: Any = None,
    fixed: Any = None,
    basis: Optional[str] = None,
    name: Optional[str] = None,
    description: Optional[str] = None,
    segments: Optional[Iterable[str]] = None,
    partners: Optional[Iterable[str]] = None,
    measure: Optional[str] = None,
    returns: Optional[str] = None,
    cap: Any = None,
    exclusive_group: Optional[str] = None,
) -> Dict[str, Any]:
    """A bundle (cross-sell) component: qualifies in a period when every
    listed category reaches its minimum; pays ``percent`` of those
    categories' revenue (``"2%"`` or ``2``) or a ``fixed`` amount.

    >>> import rebatesim as rs
    >>> rs.bundle("cross", {"tools": 10_000, "parts": 5_000}, percent="1.5%")
    {'id': 'cross', 'kind': 'bundle', 'minimums': {'tools': 10000, 'parts': 5000}, 'percent': '1.5'}
    """
    d: Dict[str, Any] = {"id": id, "kind": "bundle"}
    _common(d, name=name, description=description, basis=basis)
    d["minimums"] = dict(minimums)
    _common(d, percent=None if percent is None else parse_percent(percent, f"{id}.percent"), fixed=fixed)
    return _common(
        d, segments=segments, partners=partners,
        measure=measure, returns=returns, cap=cap, exclusive_group=exclusive_group,
    )


def logistics(
    id: str,
    min_quantity: Any,
    *,
    per_order: Any = None,
    percent: Any = None,
    name: Optional[str] = None,
    description: Optional[str] = None,
    segments: Optional[Iterable[str]] = None,
    categories: Optional[Iterable[str]] = None,
    partners: Optional[Iterable[str]] = None,
    measure: Optional[str] = None,
    returns: Optional[str] = None,
    cap: Any = None,
    exclusive_group: Optional[str] = None,
) -> Dict[str, Any]:
    """A logistics component: a reward per order of at least
    ``min_quantity`` units (a full pallet): ``per_order`` amount or
    ``percent`` of the order's revenue.

    >>> import rebatesim as rs
    >>> rs.logistics("pallet", 40, per_order=25)
    {'id': 'pallet', 'kind': 'logistics', 'min_quantity': 40, 'per_order': 25}
    """
    d: Dict[str, Any] = {"id": id, "kind": "logistics"}
    _common(d, name=name, description=description, min_quantity=min_quantity, per_order=per_order)
    _common(d, percent=None if percent is None else parse_percent(percent, f"{id}.percent"))
    return _common(
        d, segments=segments, categories=categories, partners=partners,
        measure=measure, returns=returns, cap=cap, exclusive_group=exclusive_group,
    )
