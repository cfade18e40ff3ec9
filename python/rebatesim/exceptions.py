"""Exceptions raised by rebatesim.

Every problem a caller can cause is a :class:`RebatesimError`, itself a
:class:`ValueError`, so ``except ValueError`` catches them all. Each subclass
carries the location of the problem as attributes, and its message names the
location and what was expected::

    >>> import rebatesim
    >>> try:
    ...     rebatesim.Programme.from_toml('name = "x"')
    ... except rebatesim.ProgrammeError as e:
    ...     print(e.path, "|", e.reason)
    ... # doctest: +ELLIPSIS
    | missing field `currency`

The Rust core maps its one error type to these classes in one exhaustive
``match`` (``src/python/errors.rs``); a cancelled run raises the built-in
:class:`KeyboardInterrupt`.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, NamedTuple, Optional

__all__ = [
    "RebatesimError",
    "ProgrammeError",
    "ModelError",
    "DataError",
    "RequestError",
    "SearchSpaceError",
    "FileError",
    "FieldProblem",
]


class RebatesimError(ValueError):
    """Base class of every rebatesim error (a :class:`ValueError`).

    ``str(error)`` is the full message; ``error.message`` holds it too.
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        for key, value in details.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Any:  # keep attributes through pickling (multiprocessing)
        details = {k: v for k, v in self.__dict__.items() if k != "message"}
        return (_rebuild, (type(self), self.message, details))


def _rebuild(cls: "type[RebatesimError]", message: str, details: Dict[str, Any]) -> "RebatesimError":
    return cls(message, **details)


class FieldProblem(NamedTuple):
    """One problem in a programme or demand model: where it is and what is wrong."""

    file: Optional[str]
    path: str
    line: Optional[int]
    column: Optional[int]
    reason: str


class _FieldError(RebatesimError):
    """An error at a field of a structured document (programme or demand model).

    The attributes locate the first problem; ``errors`` lists every problem found, the first
    included (a programme's components are each checked, so a mistake in each is reported
    at once; the message has a line for each).
    """

    file: Optional[str]
    path: str
    line: Optional[int]
    column: Optional[int]
    reason: str
    errors: list[FieldProblem]

    def __init__(
        self,
        message: str,
        *,
        file: Optional[str] = None,
        path: str = "",
        line: Optional[int] = None,
        column: Optional[int] = None,
        reason: Optional[str] = None,
        errors: Optional[Iterable[Iterable[Any]]] = None,
    ) -> None:
        reason = message if reason is None else reason
        problems = (
            [FieldProblem(*e) for e in errors]
            if errors is not None
            else [FieldProblem(file, path, line, column, reason)]
        )
        super().__init__(
            message,
            file=file,
            path=path,
            line=line,
            column=column,
            reason=reason,
            errors=problems,
        )


class ProgrammeError(_FieldError):
    """The programme definition is invalid.

    Attributes: ``file`` (source file or None), ``path`` (field path such as
    ``components[1].tiers[2].from``; empty for the document root), ``line`` and
    ``column`` (1-based position in the file, where known), ``reason`` (what is
    wrong and what was expected) for the first problem found; ``errors`` every problem
    found (:class:`FieldProblem`), one per component at most.
    """


class ModelError(_FieldError):
    """The demand model (or population parameters) is invalid.

    Same attributes as :class:`ProgrammeError`.
    """


class DataError(RebatesimError):
    """A table (partners, transactions) has a bad row, column or value.

    Attributes: ``table`` (table or file name), ``row`` (1-based data row, the
    header excluded, or None), ``column`` (column name or None), ``reason``.
    """

    table: str
    row: Optional[int]
    column: Optional[str]
    reason: str

    def __init__(
        self,
        message: str,
        *,
        table: str = "",
        row: Optional[int] = None,
        column: Optional[str] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(
            message, table=table, row=row, column=column, reason=message if reason is None else reason
        )


class RequestError(RebatesimError):
    """A request that cannot be honoured as asked (an unknown option, zero
    scenarios, outputs that would not fit in memory, an unknown partner id)."""


class SearchSpaceError(_FieldError, RequestError):
    """A design search's space is invalid (also a :class:`RequestError`).

    Same attributes as :class:`ProgrammeError`, about the space file: ``path`` is the
    field of the space (``parameter[0].step``), ``line`` and ``column`` its position in the
    file where known, ``reason`` what was expected.
    """


class FileError(RebatesimError, OSError):
    """Reading or writing a file failed. Also an :class:`OSError`.

    Attributes: ``path`` (and ``filename``, as on OSError).
    """

    path: Optional[str]

    def __init__(self, message: str, *, path: Optional[str] = None) -> None:
        super().__init__(message, path=path)
        self.filename = path
