"""Atomic output folders: everything a command writes appears at once, or not at all.

A folder is built in a temporary sibling (``.NAME.tmp-XXXX`` in the same parent, so the
final step is a rename on one file system) and renamed into place only when every file
is written. An error or Ctrl-C (KeyboardInterrupt) while writing removes the temporary
folder and leaves the target as it was. An existing non-empty folder is refused unless
``force`` is given; with ``force`` the old folder is moved aside, the new one renamed in,
and only then is the old one deleted, so the old folder survives any failure before the
swap.

Several outputs of one command (``forecast --out DIR --excel FILE``) are one
:class:`Outputs` transaction: every target is checked when it is declared (before the
long computation), each is written into its own temporary, and they are renamed into
place together at the end; an error or Ctrl-C removes every temporary and puts back
anything already replaced, so the command writes all of its outputs or none.

A temporary's name says who owns it: ``.NAME.tmp-HOST-PID-START-XXXX`` (a hash of the
host name, the process id and its start time, so a reused process id is told apart; a
replaced folder waits as ``.NAME.old-...``). A process killed outright (``kill -9``)
cannot clean up, so the next write of the same target removes the temporaries whose
owner is dead (a ``.old-`` one is put back if the target is missing) and leaves a live
owner's alone, and those from another host too.

Used by ``settle --out``, ``simulate --out``, ``compare --out``, ``demo``,
``forecast --out``/``--excel`` and ``backtest --out``, and by every ``to_csv`` of the
results.

Excel workbooks (:func:`write_excel`, behind every ``to_excel``) are written here too, into
a temporary file beside the target that is then renamed over it, with numbers rounded and
formatted as the CSV files write them (:mod:`rebatesim._format`).

>>> import os, tempfile
>>> from rebatesim.outputs import AtomicFolder, write_folder
>>> base = tempfile.mkdtemp()
>>> target = os.path.join(base, "report")
>>> with AtomicFolder(target) as f:
...     f.write_text("summary.csv", "outcome,mean\\npayout,1\\n")
...     f.write_bytes("chart.png", b"\\x89PNG...")
...     _ = f.path("notes.txt").write_text("written through a path")
>>> sorted(os.listdir(target))
['chart.png', 'notes.txt', 'summary.csv']
>>> write_folder(target, {"a.txt": "new"}, force=True).name
'report'
>>> sorted(os.listdir(target))
['a.txt']
"""

from __future__ import annotations

import decimal
import hashlib
import math
import os
import pathlib
import re
import shutil
import socket
import tempfile
from types import TracebackType
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

from . import _checks
from ._format import INTEGER, MONEY, RATIO, RATIO_DECIMALS, KindSpec, column_kind, kind_of, rounded
from .exceptions import FileError, RequestError

__all__ = ["AtomicFolder", "Outputs", "write_folder", "check_target", "check_file_target", "remove_stale",
           "write_excel", "excel_format", "EXCEL_OPTIONS"]

PathLike = Union[str, "os.PathLike[str]"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _file_error(path: PathLike, e: OSError) -> FileError:
    return FileError(f"{os.fspath(path)}: {e.strerror or e}", path=os.fspath(path))


# ------------------------------------------------------------------ owners
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_OWNER = re.compile(r"([0-9a-f]{8})-(\d+)-(\d+)-[A-Za-z0-9_]+")


def _start_time(pid: int) -> Optional[int]:
    """The start time of process ``pid`` (clock ticks after boot, Linux ``/proc``), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return int(stat[stat.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _owner(pid: Optional[int] = None) -> str:
    """``HOST-PID-START``: who owns a temporary (this process by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{_HOST}-{pid}-{_start_time(pid) or 0}"


def _alive(host: str, pid: int, start: int) -> bool:
    """Whether the owner of a temporary may still be running (True when it cannot be told)."""
    if host != _HOST or os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # it exists (owned by someone else)
    if start:
        now = _start_time(pid)
        if now is not None and now != start:
            return False  # the process id was reused
    return True


def _remove(path: PathLike) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass


def remove_stale(target: PathLike) -> List[pathlib.Path]:
    """Remove the temporaries of ``target`` (``.NAME.tmp-...`` beside it) left by owners
    that are no longer running, and put back a replaced ``.NAME.old-...`` if ``target`` is
    missing (its owner died between the two renames of a swap). A live owner's temporaries
    and those of another host are left alone. Returns what was removed or put back."""
    t = pathlib.Path(os.path.abspath(os.fspath(target)))
    done: List[pathlib.Path] = []
    try:
        entries = list(os.scandir(t.parent))
    except OSError:
        return done
    for kind in ("old", "tmp"):  # an old folder first: it may be the target's only copy
        prefix = f".{t.name}.{kind}-"
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            m = _OWNER.fullmatch(entry.name[len(prefix):])
            if m is None or _alive(m.group(1), int(m.group(2)), int(m.group(3))):
                continue
            if kind == "old" and not os.path.lexists(t):
                try:
                    os.rename(entry.path, t)
                except OSError:
                    continue
            else:
                _remove(entry.path)
            done.append(pathlib.Path(entry.path))
    return done


# ------------------------------------------------------------------ checks
def _writable_ancestor(p: pathlib.Path) -> None:
    """The nearest existing ancestor of ``p`` must be a folder we may write into (missing
    folders in between are created when the output is written)."""
    a = p.parent
    while not os.path.lexists(a) and a != a.parent:
        a = a.parent
    if not a.is_dir():
        raise FileError(f"{a}: exists and is not a folder (cannot write {p})", path=str(a))
    if os.name == "posix" and not os.access(a, os.W_OK | os.X_OK):
        raise FileError(f"{a}: permission denied (cannot write {p})", path=str(a))


def check_target(directory: PathLike, *, force: bool = False) -> pathlib.Path:
    """Check that ``directory`` may be written (absent, empty, or ``force``; its parent a
    folder we may write into, or creatable); return its absolute path. Raises
    :class:`~rebatesim.FileError` otherwise, before any long computation starts.

    >>> import tempfile
    >>> from rebatesim.outputs import check_target
    >>> d = tempfile.mkdtemp()
    >>> check_target(d) == __import__("pathlib").Path(d).absolute()
    True
    """
    p = pathlib.Path(os.path.abspath(_checks.path("directory", directory)))
    if os.path.lexists(p):
        if not p.is_dir() or p.is_symlink():
            raise FileError(f"{p}: exists and is not a folder", path=str(p))
        if not force and any(p.iterdir()):
            raise FileError(
                f"{p}: the folder exists and is not empty (use --force / force=True to replace it)",
                path=str(p),
            )
    _writable_ancestor(p)
    return p


def check_file_target(path: PathLike, *, suffixes: Optional[Sequence[str]] = None) -> pathlib.Path:
    """Check that the file ``path`` may be written (replaced if it exists); ``suffixes``:
    the name must end in one of them (``(".xlsx", ".xlsm")``). Returns its absolute path."""
    p = pathlib.Path(os.path.abspath(_checks.path("path", path)))
    if suffixes and not p.name.lower().endswith(tuple(suffixes)):
        raise RequestError(f"{p}: expected a file name ending in {' or '.join(suffixes)}")
    if p.is_dir():
        raise FileError(f"{p}: is a folder, expected a file name", path=str(p))
    _writable_ancestor(p)
    return p


# ------------------------------------------------------------------ transaction
class _Target:
    def __init__(self, target: pathlib.Path, folder: bool, force: bool, suffixes: Optional[Sequence[str]]) -> None:
        self.target = target
        self.folder = folder
        self.force = force
        self.suffixes = suffixes
        self.tmp: Optional[pathlib.Path] = None
        self.old: Optional[pathlib.Path] = None
        self.created: List[pathlib.Path] = []

    @property
    def path(self) -> pathlib.Path:
        """Where to write this output (inside its temporary folder; a folder output exists
        already, empty)."""
        if self.tmp is None:
            raise RuntimeError("an output's path is only valid inside the Outputs with block")
        return self.tmp / self.target.name

    def open(self) -> None:
        parent = self.target.parent
        missing = []
        a = parent
        while not os.path.lexists(a) and a != a.parent:
            missing.append(a)
            a = a.parent
        try:
            for d in reversed(missing):
                os.mkdir(d)
                self.created.append(d)
            self.tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-{_owner()}-", dir=parent))
            if self.folder:
                os.mkdir(self.path, 0o777 & ~_umask())
        except OSError as e:
            raise _file_error(parent, e) from None

    def recheck(self) -> None:
        if self.folder:
            check_target(self.target, force=self.force)  # it may have appeared meanwhile
        else:
            check_file_target(self.target, suffixes=self.suffixes)
        if not os.path.lexists(self.path):
            raise FileError(f"{self.target}: nothing was written", path=str(self.target))

    def discard(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        for d in reversed(self.created):
            try:
                os.rmdir(d)
            except OSError:
                pass
        self.created = []


class Outputs:
    """Several outputs written all together or not at all.

    Declare each output with :meth:`folder` or :meth:`file` (checked at once: call them
    before a long computation), then write each inside the ``with`` block at its
    ``.path`` (in its own temporary folder beside the target). When the block ends without
    an exception every output is renamed into place; on an exception (Ctrl-C included) or
    a failed rename every temporary is removed and anything already replaced is put back.

    >>> import os, tempfile
    >>> from rebatesim.outputs import Outputs
    >>> base = tempfile.mkdtemp()
    >>> outs = Outputs()
    >>> report = outs.folder(os.path.join(base, "report"))
    >>> book = outs.file(os.path.join(base, "book.txt"))
    >>> with outs:
    ...     _ = (report.path / "a.csv").write_text("x\\n")
    ...     _ = book.path.write_text("one file")
    >>> sorted(os.listdir(base)), os.listdir(os.path.join(base, "report"))
    (['book.txt', 'report'], ['a.csv'])
    """

    def __init__(self) -> None:
        self.targets: List[_Target] = []

    def folder(self, directory: PathLike, *, force: bool = False) -> _Target:
        """A folder output (refused if it exists and is not empty, unless ``force``)."""
        return self._add(_Target(check_target(directory, force=force), True, force, None))

    def file(self, path: PathLike, *, suffixes: Optional[Sequence[str]] = None) -> _Target:
        """A file output (an existing file is replaced)."""
        return self._add(_Target(check_file_target(path, suffixes=suffixes), False, True, suffixes))

    def _add(self, t: _Target) -> _Target:
        for u in self.targets:
            a, b = t.target, u.target
            if a == b or a in b.parents or b in a.parents:
                raise RequestError(f"{a} and {b}: two outputs of one command cannot be the same or one inside the other")
        self.targets.append(t)
        return t

    def __enter__(self) -> "Outputs":
        try:
            for t in self.targets:
                remove_stale(t.target)
                t.open()
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc_type is not None:
            self._discard()
            if isinstance(exc, OSError) and not isinstance(exc, FileError):
                # a writer's disk full, permission denied...: a FileError naming the file
                raise _file_error(exc.filename or self.targets[0].target if self.targets else "", exc) from None
            return
        try:
            self._commit()
        except FileError:
            raise
        except OSError as e:
            raise _file_error(getattr(e, "filename", None) or self.targets[0].target, e) from None

    def _discard(self) -> None:
        for t in reversed(self.targets):
            t.discard()

    def _commit(self) -> None:
        done: List[_Target] = []
        try:
            for t in self.targets:
                t.recheck()
            for t in self.targets:
                assert t.tmp is not None
                if os.path.lexists(t.target):
                    tag = t.tmp.name[len(f".{t.target.name}.tmp-"):]
                    old = t.tmp.with_name(f".{t.target.name}.old-{tag}")
                    os.rename(t.target, old)
                    t.old = old
                os.rename(t.path, t.target)
                done.append(t)
        except BaseException:
            for t in reversed(done):  # take the new outputs out again
                try:
                    os.rename(t.target, t.path)
                except OSError:
                    _remove(t.target)
            for t in self.targets:  # and put the old ones back
                if t.old is not None and not os.path.lexists(t.target):
                    try:
                        os.rename(t.old, t.target)
                        t.old = None
                    except OSError:
                        pass
            self._discard()
            raise
        for t in self.targets:
            if t.old is not None:
                _remove(t.old)
                t.old = None
            t.created = []  # they hold an output now
            t.discard()


class AtomicFolder:
    """A context manager that builds a folder in a temporary sibling and renames it
    into place when the ``with`` block ends without an exception (an :class:`Outputs`
    of one folder).

    Write with :meth:`write_text`, :meth:`write_bytes` or through :meth:`path`
    (a path inside the temporary folder, for writers that take a file name such as
    ``DataFrame.to_excel`` or ``Chart.save``). On any exception, including
    KeyboardInterrupt, the temporary folder is removed and the exception propagates;
    the target is untouched.

    >>> import os, tempfile
    >>> from rebatesim.outputs import AtomicFolder
    >>> target = os.path.join(tempfile.mkdtemp(), "out")
    >>> try:
    ...     with AtomicFolder(target) as f:
    ...         f.write_text("half.csv", "a,b\\n")
    ...         raise RuntimeError("failed half-way")
    ... except RuntimeError:
    ...     pass
    >>> os.path.exists(target)
    False
    """

    def __init__(self, directory: PathLike, *, force: bool = False) -> None:
        self._outputs = Outputs()
        self._folder = self._outputs.folder(directory, force=force)
        self.target = self._folder.target
        self.force = force
        self.tmp: Optional[pathlib.Path] = None

    def __enter__(self) -> "AtomicFolder":
        self._outputs.__enter__()
        self.tmp = self._folder.path
        return self

    def path(self, name: str) -> pathlib.Path:
        """Where to write the file ``name`` (inside the temporary folder)."""
        if self.tmp is None:
            raise RuntimeError("AtomicFolder.path is only valid inside the with block")
        if os.path.isabs(name) or ".." in pathlib.PurePath(name).parts:
            raise ValueError(f"{name!r}: expected a file name inside the folder")
        p = self.tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write_text(self, name: str, text: str) -> None:
        """Write ``text`` as UTF-8 (line endings kept as given)."""
        with open(self.path(name), "w", encoding="utf-8", newline="") as f:
            f.write(text)

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write ``data``."""
        with open(self.path(name), "wb") as f:
            f.write(data)

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.tmp = None
        self._outputs.__exit__(exc_type, exc, tb)


def write_folder(directory: PathLike, files: Mapping[str, Union[str, bytes]], *, force: bool = False) -> pathlib.Path:
    """Write ``files`` (name → text or bytes) as the folder ``directory``, atomically
    (see :class:`AtomicFolder`); returns the folder's absolute path.

    >>> import os, tempfile
    >>> from rebatesim.outputs import write_folder
    >>> d = write_folder(os.path.join(tempfile.mkdtemp(), "out"), {"a.csv": "x\\n1\\n"})
    >>> (d / "a.csv").read_text()
    'x\\n1\\n'
    """
    with AtomicFolder(directory, force=force) as f:
        for name, content in files.items():
            if isinstance(content, (bytes, bytearray)):
                f.write_bytes(name, bytes(content))
            else:
                f.write_text(name, content)
    return f.target


# ------------------------------------------------------------------ Excel
#: XlsxWriter workbook options for every workbook rebatesim writes: strings stay strings
#: (a partner id ``=HYPERLINK(...)`` is text, not a formula or a link).
EXCEL_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def excel_format(kind: Optional[str], decimals: int) -> Optional[str]:
    """The Excel number format of a kind: ``#,##0.00`` for money in a 2-decimal currency,
    ``0.0000`` for ratios, None (General) otherwise."""
    if kind == MONEY:
        return "#,##0" + ("." + "0" * int(decimals) if decimals else "")
    if kind == RATIO:
        return "0.0000"
    return None


# the exact rounding of :func:`rebatesim._format.rounded` for a plain float below 1e15, without
# its type tests and local context (a sheet of a demo holds ~50,000 cells): the shortest repr
# quantized half to even, at 40 digits (far above the 15 + decimals + 3 it needs)
_EXCEL_CONTEXT = decimal.Context(prec=40)
_EXCEL_UNITS: Dict[int, decimal.Decimal] = {}


def _excel_float(v: float, kind: Optional[str], decimals: int) -> Any:
    if v != v:
        return None
    if kind == INTEGER and v.is_integer():
        return int(v)
    places = int(decimals) if kind == MONEY else RATIO_DECIMALS
    unit = _EXCEL_UNITS.get(places)
    if unit is None:
        unit = _EXCEL_UNITS[places] = decimal.Decimal(1).scaleb(-places)
    d = decimal.Decimal(repr(v)).quantize(unit, rounding=decimal.ROUND_HALF_EVEN, context=_EXCEL_CONTEXT)
    return float(d)


def _excel_number(v: Any, kind: Optional[str], decimals: int) -> Any:
    if type(v) is float and -1e15 < v < 1e15 and 0 <= int(decimals) <= 12:
        return _excel_float(v, kind, decimals)
    if isinstance(v, str):
        return v
    r = rounded(v, kind, decimals)
    if r is None:
        return None
    if isinstance(r, decimal.Decimal):
        return float(r)
    return r


SheetSpec = Union[Any, Tuple[Any, Mapping[str, Any]]]


def write_excel(path: Any, sheets: Mapping[str, SheetSpec], decimals: int) -> None:
    """Write DataFrames as the sheets of one workbook (XlsxWriter), atomically: a temporary
    file in the same folder, then renamed. Header row frozen, columns sized to their content,
    numbers rounded by kind (as in CSV, :mod:`rebatesim._format`) and shown with :func:`excel_format`; every string
    written as a string (:data:`EXCEL_OPTIONS`). ``sheets``: name → DataFrame, or
    (DataFrame, {"kinds": …, "default": …, "rows": …}) as for :func:`rebatesim._format.csv_text`,
    with ``"chart"``: a native Excel chart beside the table (see :func:`_excel_chart`)."""
    import pandas as pd

    try:
        import xlsxwriter  # noqa: F401
    except ImportError:  # pragma: no cover
        raise RequestError("to_excel needs XlsxWriter: pip install XlsxWriter") from None
    target = os.path.abspath(os.fspath(path))
    if not target.lower().endswith((".xlsx", ".xlsm")):
        raise RequestError(f"{target}: an Excel workbook name must end in .xlsx")
    folder = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".xlsx", dir=folder)
        os.close(fd)
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes it private; a workbook is not
    except OSError as e:
        raise FileError(f"{folder}: {e.strerror or e}", path=folder) from None
    try:
        with pd.ExcelWriter(tmp, engine="xlsxwriter", engine_kwargs={"options": dict(EXCEL_OPTIONS)}) as xw:
            fmts: Dict[str, Any] = {}

            def fmt(kind: Optional[str]) -> Any:
                f = excel_format(kind, decimals)
                if f is None:
                    return None
                if f not in fmts:
                    fmts[f] = xw.book.add_format({"num_format": f})
                return fmts[f]

            for name, spec in sheets.items():
                df, opts = (spec if isinstance(spec, tuple) else (spec, {}))
                _excel_sheet(xw, name[:31], df, decimals, fmt, **opts)
        os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise FileError(f"{target}: {e.strerror or e}", path=target) from None
        raise


def _excel_chart(xw: Any, name: str, data: Any, nidx: int, spec: Mapping[str, Any], number_format: Optional[str]) -> None:
    """A native Excel chart of sheet ``name`` beside its table: ``spec`` = {"type": "line"
    or "column", "x": the category column (an index level or a column), "y": the columns
    drawn, "title", "y_title", "x_title" (optional)}. Series refer to the sheet's cells, so
    the chart follows edits of the numbers."""
    names = list(data.index.names) + [str(c) for c in data.columns]
    n = len(data)
    if n == 0:
        return
    chart = xw.book.add_chart({"type": spec["type"]})
    x = names.index(spec["x"])
    for col in spec["y"]:
        j = names.index(col)
        series: Dict[str, Any] = {"name": [name, 0, j], "categories": [name, 1, x, n, x],
                                  "values": [name, 1, j, n, j]}
        if spec["type"] == "column":
            series["gap"] = 10
        chart.add_series(series)
    chart.set_title({"name": spec.get("title", name)})
    y_axis: Dict[str, Any] = {"name": spec.get("y_title", ""), "major_gridlines": {"visible": True}}
    if number_format:
        y_axis["num_format"] = number_format
    chart.set_y_axis(y_axis)
    chart.set_x_axis({"name": spec.get("x_title", ""), "num_font": {"rotation": -45}})
    chart.set_legend({"position": "bottom"} if len(spec["y"]) > 1 else {"none": True})
    chart.set_size({"width": 760, "height": 400})
    xw.sheets[name].insert_chart(1, len(names) + 1, chart)


def _excel_sheet(xw: Any, name: str, df: Any, decimals: int, fmt: Callable[[Optional[str]], Any], *,
                 kinds: KindSpec = None, default: Optional[str] = None,
                 rows: Optional[Callable[[Any], Optional[str]]] = None,
                 chart: Optional[Mapping[str, Any]] = None) -> None:
    import pandas as pd

    nidx = df.index.nlevels
    data = df.copy()
    col_kinds: List[Optional[str]] = []
    per_cell: Dict[int, List[Optional[str]]] = {}
    for j, col in enumerate(data.columns):
        kind = column_kind(col, kinds, default)
        col_kinds.append(kind)
        s = data.iloc[:, j]
        if pd.api.types.is_float_dtype(s) or s.dtype == object:
            explicit = (kinds is not None and col in kinds) or kind_of(col) is not None
            if rows is not None and not explicit:
                per_cell[j] = [rows(lab) or kind for lab in data.index]
                vals = [_excel_number(v, k, decimals) for v, k in zip(s.tolist(), per_cell[j])]
            else:
                vals = [_excel_number(v, kind, decimals) for v in s.tolist()]
            if pd.api.types.is_float_dtype(s):
                data.isetitem(j, pd.Series([float("nan") if v is None else float(v) for v in vals],
                                           index=data.index, dtype="float64"))
            else:
                data.isetitem(j, pd.Series(vals, index=data.index, dtype=object))
    data.to_excel(xw, sheet_name=name, merge_cells=False)  # every row filterable
    ws = xw.sheets[name]
    ws.freeze_panes(1, nidx)
    for j, col in enumerate(list(data.index.names) + list(data.columns)):
        values = data.index.get_level_values(j) if j < nidx else data.iloc[:, j - nidx]
        numeric = j >= nidx and pd.api.types.is_float_dtype(values)
        kind = col_kinds[j - nidx] if j >= nidx else None
        shown = decimals if kind == MONEY else 4
        width = max([len(str(col))] + [len(f"{v:,.{shown}f}") if numeric and v == v else len(str(v))
                                        for v in values[:200]])
        # a column's format applies to the cells pandas writes without one (numbers)
        ws.set_column(j, j, min(max(width + 2, 8), 48), fmt(kind) if numeric and j - nidx not in per_cell else None)
    for jj, ks in per_cell.items():
        col = data.iloc[:, jj]
        for i, (v, k) in enumerate(zip(col.tolist(), ks)):
            f = fmt(k)
            if f is not None and isinstance(v, float) and math.isfinite(v):
                ws.write_number(i + 1, jj + nidx, v, f)
    if chart is not None:
        y_kind = column_kind(chart["y"][0], kinds, default)
        _excel_chart(xw, name, data, nidx, chart, excel_format(y_kind, 0) if y_kind == MONEY else
                     ("0%" if y_kind == RATIO else None))
