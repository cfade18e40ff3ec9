"""The audit manifest of a run, and re-performing it: ``manifest.json`` and ``rebatesim verify``.

Every ``settle``, ``simulate`` and ``forecast`` written with ``--out`` gets a
``manifest.json`` beside its outputs (and :meth:`Forecast.manifest`,
:meth:`Settlement.manifest` and :meth:`SimulationResult.manifest` give the same record in
Python): the rebatesim version, the command and its options (seed, scenarios, date,
confidence), and per input (programme, model, partner table, transactions or actuals, prior
accruals, GL mapping) its path, SHA-256, size, row count and control totals (the sums of
``revenue`` and ``quantity`` read, or of ``amount``), and the SHA-256 of every output file.

:func:`verify` (``rebatesim verify DIR``) refuses when an input's bytes changed since (one
byte is enough: the digest differs), re-runs the command from the manifest into a temporary
folder and compares every output: identical bytes, or tables equal to the cent (numbers
within half a minor unit), else it lists what differs (file, row, column, recorded and
re-performed value). Definitions: ``docs/close.md``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import decimal
import hashlib
import io
import json
import os
import pathlib
import re
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._version import __version__
from .exceptions import FileError, RequestError

__all__ = ["MANIFEST", "describe_input", "record", "write", "verify", "Verification"]

#: The manifest's file name in an output folder.
MANIFEST = "manifest.json"

# the inputs a command reads: attribute of the CLI's arguments → (option, kind)
_INPUTS: Dict[str, Tuple[str, str]] = {
    "programme": ("--programme", "programme"),
    "programmes": ("--programme", "programme"),
    "partners": ("--partners", "partners"),
    "model": ("--model", "model"),
    "transactions": ("--transactions", "transactions"),
    "actuals": ("--actuals", "actuals"),
    "prior_accruals": ("--prior-accruals", "prior_accruals"),
    "gl_mapping": ("--gl-mapping", "gl_mapping"),
}
# the options that decide the results (threads do not)
_OPTIONS: Dict[str, str] = {
    "as_of": "--as-of",
    "scenarios": "--scenarios",
    "seed": "--seed",
    "confidence": "--confidence",
    "tolerance": "--tolerance",
    "statistic": "--statistic",
    "max_scenarios": "--max-scenarios",
}
# the kinds of table whose rows and control totals are recorded, and the columns summed
_TOTALS: Dict[str, Sequence[str]] = {
    "transactions": ("revenue", "quantity"),
    "actuals": ("revenue", "quantity"),
    "partners": ("baseline_revenue",),
    "prior_accruals": ("amount",),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _table_totals(data: bytes, columns: Sequence[str]) -> Dict[str, Any]:
    """Rows and exact column sums of a CSV table (cells that are not numbers are skipped),
    summed by the core (exact decimals, GIL released); a sum beyond the core's decimals is
    summed here with Python's."""
    from . import _core

    rows, core_sums = _core.control_totals(data, list(columns))
    if all(v is not None for _, v in core_sums):
        out: Dict[str, Any] = {"rows": rows}
        out.update({f"sum_{c}": v for c, v in core_sums})
        return out
    return _table_totals_python(data.decode("utf-8", "replace"), columns)


def _table_totals_python(text: str, columns: Sequence[str]) -> Dict[str, Any]:
    """:func:`_table_totals` in Python's decimals (exact: the context's precision raised far
    beyond the 28 digits of its default, which would round a large sum)."""
    with decimal.localcontext() as ctx:
        ctx.prec = decimal.MAX_PREC
        return _sum_columns(text, columns)


def _sum_columns(text: str, columns: Sequence[str]) -> Dict[str, Any]:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lstrip("\ufeff").lower() for h in next(reader, [])]
    idx = {c: header.index(c) for c in columns if c in header}
    sums = {c: decimal.Decimal(0) for c in idx}
    rows = 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        for c, i in idx.items():
            try:
                sums[c] += decimal.Decimal(row[i].strip().replace("_", "")) if i < len(row) and row[i].strip() else 0
            except decimal.InvalidOperation:
                pass
    out: Dict[str, Any] = {"rows": rows}
    out.update({f"sum_{c}": format(v, "f") for c, v in sums.items()})
    return out


def describe_input(kind: str, value: Any) -> Dict[str, Any]:
    """The record of one input: a path (its bytes), a DataFrame (its CSV text), a programme or
    model object (its canonical text) or None."""
    rec: Dict[str, Any] = {"kind": kind}
    if value is None:
        rec["given"] = None
        return rec
    data: Optional[bytes] = None
    if isinstance(value, (str, os.PathLike)):
        path = pathlib.Path(value)
        rec["path"] = str(path.resolve())
        try:
            data = path.read_bytes()
        except OSError as e:
            raise FileError(f"{path}: cannot read the input for the manifest: {e.strerror or e}", path=str(path)) from None
    elif hasattr(value, "to_csv") and hasattr(value, "columns"):
        rec["path"] = None
        rec["source"] = "DataFrame"
        data = value.to_csv(index=False, lineterminator="\n").encode()
    elif hasattr(value, "to_toml"):  # Programme, Model: their canonical TOML
        rec["path"] = None
        rec["source"] = type(value).__name__
        data = value.to_toml().encode()
    elif hasattr(value, "partner_ids") and hasattr(value, "to_frame"):  # Population: ids and segments only
        rec["path"] = None
        rec["source"] = "Population (partner ids and segments)"
        data = value.to_frame().to_csv(index=False, lineterminator="\n").encode()
    elif isinstance(value, dict):
        rec["path"] = None
        rec["source"] = "dict"
        data = json.dumps(value, sort_keys=True, default=str).encode()
    else:
        rec["path"] = None
        rec["source"] = type(value).__name__
        text = getattr(value, "to_json", None)
        data = text().encode() if callable(text) else repr(value).encode()
    rec["sha256"] = sha256(data)
    rec["bytes"] = len(data)
    if kind in _TOTALS:
        rec.update(_table_totals(data, _TOTALS[kind]))
    return rec


def record(command: str, inputs: Dict[str, Any], options: Dict[str, Any],
           outputs: Optional[Dict[str, str]] = None, arguments: Optional[List[str]] = None) -> Dict[str, Any]:
    """A manifest: ``inputs`` maps a name to its record (:func:`describe_input`), ``options``
    the settings that decide the results, ``outputs`` a file name to its SHA-256,
    ``arguments`` the command line that re-performs it."""
    m: Dict[str, Any] = {
        "rebatesim_version": __version__,
        "command": command,
        "options": options,
        "inputs": inputs,
    }
    if arguments is not None:
        m["arguments"] = arguments
    if outputs is not None:
        m["outputs"] = outputs
    return m


def _cli_inputs(args: Any) -> Tuple[Dict[str, Any], List[str]]:
    inputs: Dict[str, Any] = {}
    argv: List[str] = [args.command]
    for attr, (option, kind) in _INPUTS.items():
        value = getattr(args, attr, None)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        for n, v in enumerate(values):
            name = attr if len(values) == 1 else f"{attr}[{n}]"
            rec = describe_input(kind, v)
            inputs[name] = rec
            argv += [option, rec["path"]]
    return inputs, argv


def _cli_options(args: Any) -> Tuple[Dict[str, Any], List[str]]:
    options: Dict[str, Any] = {}
    argv: List[str] = []
    for attr, option in _OPTIONS.items():
        value = getattr(args, attr, None)
        if value is None:
            continue
        text = value.isoformat() if isinstance(value, (_dt.date, _dt.datetime)) else str(value)
        options[attr] = value if isinstance(value, (int, float, str)) else text
        argv += [option, text]
    return options, argv


def write(args: Any, folder: Any) -> None:
    """Write ``manifest.json`` into an output ``folder`` of a CLI command (``args``: its parsed
    arguments) once its outputs are there: inputs, options, the command line that re-performs
    it, and the SHA-256 of every file in the folder."""
    folder = pathlib.Path(folder)
    inputs, argv = _cli_inputs(args)
    options, opt_argv = _cli_options(args)
    outputs = {p.relative_to(folder).as_posix(): sha256(p.read_bytes())
               for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}
    m = record(args.command, inputs, options, outputs, argv + opt_argv)
    (folder / MANIFEST).write_text(json.dumps(m, indent=2, default=str) + "\n", encoding="utf-8")


class Verification:
    """What :func:`verify` found: ``ok`` (every output re-performed to the cent),
    ``identical`` (files with the same bytes), ``equal_to_the_cent`` (files whose numbers
    agree within half a minor unit), ``differences`` (``(file, where, recorded, now)``)."""

    def __init__(self) -> None:
        self.identical: List[str] = []
        self.equal_to_the_cent: List[str] = []
        self.differences: List[Tuple[str, str, str, str]] = []
        self.notes: List[str] = []

    @property
    def ok(self) -> bool:
        return not self.differences

    def text(self) -> str:
        lines = [f"{len(self.identical)} output files identical, {len(self.equal_to_the_cent)} equal to the cent"]
        lines += [f"note: {n}" for n in self.notes]
        if self.ok:
            lines.append("OK: every output re-performed")
        else:
            lines.append(f"DIFFERENT: {len(self.differences)} differences")
            lines += [f"  {f}: {where}: recorded {a!r}, now {b!r}" for f, where, a, b in self.differences[:50]]
            if len(self.differences) > 50:
                lines.append(f"  … and {len(self.differences) - 50} more")
        return "\n".join(lines)


_CENT = 0.005 + 1e-9

# the time stamp in a report's footer ("Made with rebatesim … on 2027-01-05 10:42.")
_STAMP = re.compile(r" on \d{4}-\d{2}-\d{2} \d{2}:\d{2}\.")


def _workbook_parts(data: bytes) -> Dict[str, bytes]:
    """A workbook's parts without its document properties (creation time)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}
    except zipfile.BadZipFile:
        return {"": data}


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return abs(float(a) - float(b)) <= _CENT
    except ValueError:
        return False


def _compare_csv(name: str, old: str, new: str, out: Verification) -> bool:
    a, b = list(csv.reader(io.StringIO(old))), list(csv.reader(io.StringIO(new)))
    found = False
    if len(a) != len(b):
        out.differences.append((name, "rows", str(len(a) - 1), str(len(b) - 1)))
        return False
    header = a[0] if a else []
    for r, (ra, rb) in enumerate(zip(a, b)):
        for c in range(max(len(ra), len(rb))):
            x = ra[c] if c < len(ra) else ""
            y = rb[c] if c < len(rb) else ""
            if not _same(x, y):
                col = header[c] if c < len(header) else str(c + 1)
                out.differences.append((name, f"row {r}, column {col}", x, y))
                found = True
    return not found


def _compare_json(name: str, old: Any, new: Any, out: Verification, where: str = "") -> bool:
    if isinstance(old, dict) and isinstance(new, dict):
        ok = True
        for k in sorted(set(old) | set(new)):
            ok &= _compare_json(name, old.get(k), new.get(k), out, f"{where}.{k}" if where else k)
        return ok
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            out.differences.append((name, where or "/", f"{len(old)} items", f"{len(new)} items"))
            return False
        ok = True
        for i, (x, y) in enumerate(zip(old, new)):
            ok &= _compare_json(name, x, y, out, f"{where}[{i}]")
        return ok
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool):
        if abs(old - new) <= _CENT:
            return True
    elif old == new:
        return True
    out.differences.append((name, where or "/", str(old), str(new)))
    return False


def verify(directory: Any) -> Verification:
    """Re-perform the run recorded in ``directory``/manifest.json: refuse
    (:class:`~rebatesim.RequestError`) when an input's SHA-256 differs from the record or the
    manifest cannot be read; otherwise run the command again into a temporary folder and
    compare every recorded output."""
    folder = pathlib.Path(directory)
    path = folder / MANIFEST
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise FileError(f"{path}: cannot read the manifest: {e.strerror or e}", path=str(path)) from None
    except json.JSONDecodeError as e:
        raise RequestError(f"{path}: not a rebatesim manifest ({e})") from None
    if not isinstance(m, dict) or "arguments" not in m or "outputs" not in m:
        raise RequestError(f"{path}: not a rebatesim manifest of an output folder (no arguments or outputs)")
    for name, rec in m["inputs"].items():
        p = rec.get("path")
        if not p:
            continue
        try:
            data = pathlib.Path(p).read_bytes()
        except OSError as e:
            raise FileError(f"{p}: input {name} cannot be read: {e.strerror or e}", path=p) from None
        if sha256(data) != rec["sha256"]:
            raise RequestError(f"{p}: input {name} changed since the run (SHA-256 {sha256(data)[:12]}…, "
                               f"recorded {rec['sha256'][:12]}…): refusing to verify against different inputs")
    from .cli import main

    out = Verification()
    with tempfile.TemporaryDirectory(prefix="rebatesim-verify-") as tmp:
        target = pathlib.Path(tmp) / "out"
        argv = list(m["arguments"]) + ["--out", str(target)]
        with contextlib.redirect_stdout(io.StringIO()):
            status = main(argv)
        if status != 0:
            raise RequestError(f"re-running {' '.join(argv[:1])} from {path} failed (exit status {status})")
        for name, digest in sorted(m["outputs"].items()):
            new_path = target / name
            if not new_path.exists():
                out.differences.append((name, "file", "present", "missing"))
                continue
            new = new_path.read_bytes()
            if sha256(new) == digest:
                out.identical.append(name)
                continue
            old_path = folder / name
            old = old_path.read_bytes() if old_path.exists() else b""
            if sha256(old) != digest:
                out.differences.append((name, "file", "recorded digest", "the folder's file was changed since"))
                continue
            if name.endswith(".csv"):
                same = _compare_csv(name, old.decode("utf-8", "replace"), new.decode("utf-8", "replace"), out)
            elif name.endswith(".json"):
                try:
                    same = _compare_json(name, json.loads(old), json.loads(new), out)
                except json.JSONDecodeError:
                    same = False
                    out.differences.append((name, "file", "JSON", "not JSON"))
            elif name.endswith(".html"):
                same = _STAMP.sub("", old.decode("utf-8", "replace")) == _STAMP.sub("", new.decode("utf-8", "replace"))
                if not same:
                    out.differences.append((name, "text", digest[:12], sha256(new)[:12]))
            elif name.endswith((".xlsx", ".xlsm")):
                same = _workbook_parts(old) == _workbook_parts(new)
                if not same:
                    out.differences.append((name, "workbook", digest[:12], sha256(new)[:12]))
            else:
                same = False
                out.differences.append((name, "bytes", digest[:12], sha256(new)[:12]))
            if same:
                out.equal_to_the_cent.append(name)
    if m.get("rebatesim_version") != __version__:
        out.notes.append(f"recorded with rebatesim {m.get('rebatesim_version')}, re-performed with {__version__}")
    return out
