"""General-ledger export of a forecast's accrual: the account mapping and the balanced journal.

A :class:`GLMapping` says which accounts a component's accrual posts to: the rebate expense /
contra-revenue ``account`` debited, the refund ``liability_account`` credited, the
``company_code`` and ``cost_centre`` (per component, optionally per segment). It is read from
TOML or CSV (:func:`load_gl_mapping`) and checked against the forecast: a component without an
account, or a mapping for a component the programme does not have, is a
:class:`~rebatesim.DataError` naming it, and nothing is written.

:func:`gl_journal` turns the forecast's summary journal (:meth:`Forecast.journal_summary`)
into debit and credit lines that balance per company code and currency, in the generic
layout or in the column layout of Oracle Fusion's journal import (FBDI ``GL_INTERFACE``).
Layouts and the mapping format: ``docs/close.md``.

TOML::

    company_code = "1000"            # defaults for every component
    liability_account = "2480"
    cost_centre = "SALES"
    ledger_id = "300000046975971"    # Oracle layout only

    [components.vol]
    account = "4410"

    [components.vol.segments.retail] # optional: per segment
    account = "4411"
    cost_centre = "RETAIL"

CSV: columns ``component``, ``account``, ``liability_account``, ``company_code`` and optional
``segment`` (empty: every segment), ``cost_centre``, ``ledger_id``.
"""

from __future__ import annotations

import csv
import decimal
import hashlib
import io
import os
import pathlib
import sys
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from .exceptions import DataError, RequestError

if TYPE_CHECKING:
    from .forecasting import Forecast

__all__ = ["GLMapping", "load_gl_mapping", "gl_journal", "GENERIC_COLUMNS", "LAYOUTS"]

PathLike = Union[str, "os.PathLike[str]"]

_FIELDS = ("account", "liability_account", "company_code", "cost_centre", "ledger_id")
_REQUIRED = ("account", "liability_account", "company_code")

#: The columns of the generic layout, in order.
GENERIC_COLUMNS = ["reference", "line", "company_code", "posting_date", "account", "cost_centre", "currency",
                   "debit", "credit", "component", "segment", "text"]

#: The layouts :func:`gl_journal` writes.
LAYOUTS = ("generic", "oracle_fbdi")

# Oracle Fusion FBDI journal import (JournalImportTemplate.xlsm, sheet GL_INTERFACE): the
# columns up to REFERENCE10 in template order; the CSV the template generates has no header.
_FBDI_HEAD = ["Status Code", "Ledger ID", "Effective Date of Transaction", "Journal Source", "Journal Category",
              "Currency Code", "Journal Entry Creation Date", "Actual Flag"]
_FBDI_SEGMENTS = [f"Segment{i}" for i in range(1, 31)]
_FBDI_TAIL = ["Entered Debit Amount", "Entered Credit Amount", "Converted Debit Amount", "Converted Credit Amount",
              "REFERENCE1 (Batch Name)", "REFERENCE2 (Batch Description)", "REFERENCE3",
              "REFERENCE4 (Journal Entry Name)", "REFERENCE5 (Journal Entry Description)",
              "REFERENCE6 (Journal Entry Reference)", "REFERENCE7 (Journal Entry Reversal flag)",
              "REFERENCE8 (Journal Entry Reversal Period)", "REFERENCE9 (Journal Reversal Method)",
              "REFERENCE10 (Journal Entry Line Description)"]
#: The columns of the Oracle FBDI layout, in order.
FBDI_COLUMNS = _FBDI_HEAD + _FBDI_SEGMENTS + _FBDI_TAIL


class GLMapping:
    """Accounts per component (and optionally per segment): ``entries`` maps ``(component,
    segment or None)`` to a dict of ``account``, ``liability_account``, ``company_code``,
    ``cost_centre``, ``ledger_id``; ``source`` names the file in errors."""

    def __init__(self, entries: Dict[Tuple[str, Optional[str]], Dict[str, str]], source: str = "mapping") -> None:
        self.entries = entries
        self.source = source

    @property
    def by_segment(self) -> bool:
        """Whether any account is given per segment."""
        return any(seg is not None for _, seg in self.entries)

    def lookup(self, component: str, segment: Optional[str]) -> Optional[Dict[str, str]]:
        """The accounts of a component (in a segment), or None."""
        if segment is not None and (component, segment) in self.entries:
            return self.entries[(component, segment)]
        return self.entries.get((component, None))

    def check(self, components: List[str], segments: List[str]) -> None:
        """Refuse a mapping that leaves a component (or a segment of it) without an account,
        or maps a component the programme does not have: :class:`~rebatesim.DataError`."""
        unknown = sorted({c for c, _ in self.entries if c not in components})
        if unknown:
            raise DataError(f"{self.source}: unknown component {unknown[0]!r} (the programme has: {', '.join(components)})")
        bad_segments = sorted({s for _, s in self.entries if s is not None and s not in segments})
        if bad_segments:
            raise DataError(f"{self.source}: unknown segment {bad_segments[0]!r} (the partners have: {', '.join(segments)})")
        for c in components:
            scopes: List[Optional[str]] = list(segments) if self.by_segment else [None]
            for s in scopes:
                e = self.lookup(c, s)
                where = f"component {c!r}" + (f" in segment {s!r}" if s is not None else "")
                if e is None:
                    raise DataError(f"{self.source}: no account for {where}: add it to the mapping")
                for f in _REQUIRED:
                    if not e.get(f):
                        raise DataError(f"{self.source}: no {f} for {where}")

    def __repr__(self) -> str:
        return f"<GLMapping {self.source!r}: {len(self.entries)} entries>"


def _text(v: Any, where: str) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise DataError(f"{where}: expected text or a whole number, found {v!r}")
    return str(v).strip()


def _from_toml(data: Dict[str, Any], source: str) -> GLMapping:
    defaults = {f: _text(data[f], f"{source}: {f}") for f in _FIELDS if f in data}
    extra = sorted(set(data) - set(_FIELDS) - {"components"})
    if extra:
        raise DataError(f"{source}: unknown key {extra[0]!r} (expected {', '.join(_FIELDS)}, components)")
    comps = data.get("components")
    if not isinstance(comps, dict) or not comps:
        raise DataError(f"{source}: components: expected a table of components ([components.<id>] with account = ...)")
    entries: Dict[Tuple[str, Optional[str]], Dict[str, str]] = {}
    for cid, spec in comps.items():
        where = f"{source}: components.{cid}"
        if not isinstance(spec, dict):
            raise DataError(f"{where}: expected a table (account = ...)")
        bad = sorted(set(spec) - set(_FIELDS) - {"segments"})
        if bad:
            raise DataError(f"{where}: unknown key {bad[0]!r} (expected {', '.join(_FIELDS)}, segments)")
        base = dict(defaults)
        base.update({f: _text(spec[f], f"{where}.{f}") for f in _FIELDS if f in spec})
        entries[(cid, None)] = base
        for seg, sspec in (spec.get("segments") or {}).items():
            if not isinstance(sspec, dict):
                raise DataError(f"{where}.segments.{seg}: expected a table (account = ...)")
            e = dict(base)
            e.update({f: _text(sspec[f], f"{where}.segments.{seg}.{f}") for f in _FIELDS if f in sspec})
            entries[(cid, seg)] = e
    return GLMapping(entries, source)


def _from_csv(text: str, source: str) -> GLMapping:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise DataError(f"{source}: empty file (expected columns component, account, liability_account, company_code)")
    header = [h.strip().lstrip("\ufeff").lower() for h in rows[0]]
    for need in ("component",) + _REQUIRED:
        if need not in header:
            raise DataError(f"{source}: column {need}: missing column (the table has: {', '.join(header)})")
    entries: Dict[Tuple[str, Optional[str]], Dict[str, str]] = {}
    for n, row in enumerate(rows[1:], start=1):
        if not any(cell.strip() for cell in row):
            continue
        rec = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        cid = rec["component"]
        if not cid:
            raise DataError(f"{source}: row {n}, column component: expected a component id, found an empty cell")
        seg = rec.get("segment") or None
        if (cid, seg) in entries:
            raise DataError(f"{source}: row {n}: component {cid!r}" + (f" segment {seg!r}" if seg else "") + " is given twice")
        for f in _REQUIRED:
            if not rec.get(f):
                raise DataError(f"{source}: row {n}, column {f}: no {f} for component {cid!r}")
        entries[(cid, seg)] = {f: rec[f] for f in _FIELDS if rec.get(f)}
    return GLMapping(entries, source)


def _toml(text: str, source: str) -> Dict[str, Any]:
    """TOML text as a dict (the standard library's tomllib from Python 3.11, else tomli)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9 and 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise DataError(f"{source}: reading a TOML GL mapping needs Python 3.11 or the tomli package; "
                            "or give the mapping as CSV") from None
    try:
        data: Dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DataError(f"{source}: {e}") from None
    return data


def load_gl_mapping(mapping: Any) -> GLMapping:
    """A :class:`GLMapping` from itself, a dict (the TOML form) or a ``.toml`` / ``.csv`` path;
    errors (:class:`~rebatesim.DataError`) name the file and the key or row."""
    if isinstance(mapping, GLMapping):
        return mapping
    if isinstance(mapping, dict):
        return _from_toml(mapping, "mapping")
    if not isinstance(mapping, (str, os.PathLike)):
        raise RequestError(f"mapping: expected a GLMapping, a dict or a .toml/.csv path, found {type(mapping).__name__}")
    path = pathlib.Path(mapping)
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{source}: cannot read the GL mapping: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{source}: expected UTF-8 text") from None
    if path.suffix.lower() == ".csv":
        return _from_csv(text, source)
    if path.suffix.lower() == ".toml":
        return _from_toml(_toml(text, source), source)
    raise DataError(f"{source}: expected a .toml or .csv GL mapping")


def default_run_id(f: "Forecast") -> str:
    """A reference for the journal: the programme's name, the date and a digest of the
    forecast's figures (the same run gives the same id)."""
    digest = hashlib.sha256(f.to_json().encode()).hexdigest()[:10]
    return f"RS-{f.as_of:%Y%m%d}-{digest}"


def gl_journal(f: "Forecast", mapping: Any, *, layout: str = "generic", run_id: Optional[str] = None) -> Any:
    """The balanced GL journal of a forecast's accrual movement (see :meth:`Forecast.gl_journal`)
    as a DataFrame in ``layout`` (:data:`GENERIC_COLUMNS` or :data:`FBDI_COLUMNS`). Amounts are
    exact decimals at the currency's minor unit; lines per company code and currency balance."""
    import pandas as pd

    if layout not in LAYOUTS:
        raise RequestError(f"layout: expected one of {', '.join(LAYOUTS)}, found {layout!r}")
    m = load_gl_mapping(mapping)
    raw = f.to_dict()
    components = [r["key"] for r in raw["by_component"]]
    segments = [r["key"] for r in raw["by_segment"]]
    m.check(components, segments)
    if layout == "oracle_fbdi":
        for (c, s), e in m.entries.items():
            if not e.get("ledger_id"):
                raise DataError(f"{m.source}: no ledger_id for component {c!r}" + (f" in segment {s!r}" if s else "")
                                + " (the Oracle FBDI layout needs the ledger id)")
    ref = run_id or default_run_id(f)
    entries = json_summary(f, m.by_segment)
    q = decimal.Decimal(1).scaleb(-f._decimals)
    lines: List[Dict[str, Any]] = []
    for e in entries:
        amount = decimal.Decimal(e["movement"])
        if amount == 0:
            continue
        acc = m.lookup(e["component"], e.get("segment"))
        assert acc is not None  # checked above
        text = (f"Rebate accrual {e['component']}" + (f" {e['segment']}" if e.get("segment") else "")
                + f" {f.as_of}: run rate {e['run_rate']}, catch-up {e['catch_up']}, change in estimate {e['change_in_estimate']}")
        expense = (acc["account"], abs(amount).quantize(q), "debit" if amount > 0 else "credit")
        liability = (acc["liability_account"], abs(amount).quantize(q), "credit" if amount > 0 else "debit")
        for account, value, side in (expense, liability):
            lines.append({
                "reference": ref, "company_code": acc["company_code"], "posting_date": f.as_of,
                "account": account, "cost_centre": acc.get("cost_centre", ""), "currency": f.currency,
                "debit": value if side == "debit" else decimal.Decimal(0).quantize(q),
                "credit": value if side == "credit" else decimal.Decimal(0).quantize(q),
                "component": e["component"], "segment": e.get("segment") or "", "text": text,
                "ledger_id": acc.get("ledger_id", ""),
            })
    lines.sort(key=lambda x: (x["company_code"], x["currency"]))
    for i, line in enumerate(lines, start=1):
        line["line"] = i
    check_balanced(lines)
    if layout == "generic":
        return pd.DataFrame.from_records(lines, columns=GENERIC_COLUMNS)
    recs = []
    for line in lines:
        rec: Dict[str, Any] = {c: "" for c in FBDI_COLUMNS}
        rec.update({
            "Status Code": "NEW", "Ledger ID": line["ledger_id"],
            "Effective Date of Transaction": f"{f.as_of:%Y/%m/%d}", "Journal Source": "Rebatesim",
            "Journal Category": "Accrual", "Currency Code": f.currency,
            "Journal Entry Creation Date": f"{f.as_of:%Y/%m/%d}", "Actual Flag": "A",
            "Segment1": line["company_code"], "Segment2": line["account"], "Segment3": line["cost_centre"],
            "Entered Debit Amount": line["debit"] if line["debit"] else "",
            "Entered Credit Amount": line["credit"] if line["credit"] else "",
            "REFERENCE1 (Batch Name)": ref, "REFERENCE2 (Batch Description)": f"Rebate accrual {f.programme}",
            "REFERENCE4 (Journal Entry Name)": f"{ref} {line['company_code']}",
            "REFERENCE5 (Journal Entry Description)": f"Rebate accrual {f.programme} at {f.as_of}",
            "REFERENCE6 (Journal Entry Reference)": ref,
            "REFERENCE10 (Journal Entry Line Description)": line["text"],
        })
        recs.append(rec)
    return pd.DataFrame.from_records(recs, columns=FBDI_COLUMNS)


def json_summary(f: "Forecast", by_segment: bool) -> List[Dict[str, Any]]:
    """The core's summary entries with exact decimal amounts (text)."""
    from . import _arrow

    rows: List[Dict[str, Any]] = (f.to_dict()["journal_summary"] if not by_segment
                                  else _arrow.records(f._core.journal_summary(True)))
    return rows


def check_balanced(lines: List[Dict[str, Any]]) -> None:
    """Refuse a journal whose debits and credits differ for a company code and currency (a
    bug, never the input's fault)."""
    sums: Dict[Tuple[str, str], decimal.Decimal] = {}
    for line in lines:
        k = (line["company_code"], line["currency"])
        sums[k] = sums.get(k, decimal.Decimal(0)) + line["debit"] - line["credit"]
    for (company, currency), diff in sums.items():
        if diff != 0:
            raise RuntimeError(f"GL journal does not balance for company {company} {currency}: {diff}")


def gl_csv(df: Any, layout: str) -> str:
    """The journal as CSV text: the generic layout with a header, the Oracle FBDI layout
    without (the template's GlInterface.csv is positional)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if layout == "generic":
        w.writerow(list(df.columns))
    for row in df.itertuples(index=False):
        w.writerow(["" if v is None else (format(v, "f") if isinstance(v, decimal.Decimal) else v) for v in row])
    return out.getvalue()
