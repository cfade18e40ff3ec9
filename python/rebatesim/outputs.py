"""Atomic output folders: everything a command writes appears at once, or not at all.

A folder is built in a temporary sibling (``.NAME.tmp-XXXX`` in the same parent, so the
final step is a rename on one file system) and renamed into place only when every file
is written. An error or Ctrl-C (KeyboardInterrupt) while writing removes the temporary
folder and leaves the target as it was. An existing non-empty folder is refused unless
``force`` is given; with ``force`` the old folder is moved aside, the new one renamed in,
and only then is the old one deleted, so the old folder survives any failure before the
swap.

Used by ``settle --out``, ``simulate --out``, ``compare --out``, ``demo`` and
``forecast --out``.

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

import os
import pathlib
import shutil
import tempfile
from types import TracebackType
from typing import Mapping, Optional, Type, Union

from .exceptions import FileError

__all__ = ["AtomicFolder", "write_folder", "check_target"]

PathLike = Union[str, "os.PathLike[str]"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_target(directory: PathLike, *, force: bool = False) -> pathlib.Path:
    """Check that ``directory`` may be written (absent, empty, or ``force``); return
    its absolute path. Raises :class:`~rebatesim.FileError` otherwise, before any
    long computation starts.

    >>> import tempfile
    >>> from rebatesim.outputs import check_target
    >>> d = tempfile.mkdtemp()
    >>> check_target(d) == __import__("pathlib").Path(d).absolute()
    True
    """
    p = pathlib.Path(os.path.abspath(os.fspath(directory)))
    if os.path.lexists(p):
        if not p.is_dir() or p.is_symlink():
            raise FileError(f"{p}: exists and is not a folder", path=str(p))
        if not force and any(p.iterdir()):
            raise FileError(
                f"{p}: the folder exists and is not empty (use --force / force=True to replace it)",
                path=str(p),
            )
    return p


class AtomicFolder:
    """A context manager that builds a folder in a temporary sibling and renames it
    into place when the ``with`` block ends without an exception.

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
        self.target = check_target(directory, force=force)
        self.force = force
        self.tmp: Optional[pathlib.Path] = None

    def __enter__(self) -> "AtomicFolder":
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-", dir=parent))
            os.chmod(self.tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a report folder is not
        except OSError as e:
            raise FileError(f"{parent}: {e.strerror or e}", path=str(parent)) from None
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
        tmp = self.tmp
        self.tmp = None
        if tmp is None:
            return
        if exc_type is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        try:
            self._commit(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _commit(self, tmp: pathlib.Path) -> None:
        target = self.target
        try:
            # Checked again: the folder may have appeared while we were computing.
            check_target(target, force=self.force)
            if not os.path.lexists(target):
                os.rename(tmp, target)
                return
            old = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rmdir(old)
            os.rename(target, old)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old, target)  # put the old folder back
                raise
            shutil.rmtree(old, ignore_errors=True)
        except OSError as e:
            raise FileError(f"{target}: {e.strerror or e}", path=str(target)) from None


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
