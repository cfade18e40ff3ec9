"""DataFrames as the core reads them: a pandas table written as the CSV text of the same
table in a file, so that a DataFrame and a file give the same values and the same row
numbers in errors (data row 1 is the first row).

The lowest layer of the inputs: :mod:`rebatesim._inputs` and the input classes
(:class:`~rebatesim.Population`) use it; it imports nothing of the package but the
exceptions and the text checks.
"""

from __future__ import annotations

import decimal
import importlib
import os
from typing import TYPE_CHECKING, Any

from ._checks import SURROGATE
from .exceptions import DataError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["is_frame", "frame_csv", "arrow_stream", "as_frame", "is_parquet"]

_PARQUET = (".parquet", ".parq", ".pq")

# Table columns the core reads with at most six decimal places (money::MAX_TABLE_DECIMALS).
_SIX_DECIMAL_COLUMNS = frozenset({"quantity", "revenue", "baseline_revenue", "baseline_units", "amount"}
                                 | {f"{b}_m{m:02d}" for b in ("baseline_revenue", "baseline_units")
                                    for m in range(1, 13)})


def is_frame(x: Any) -> bool:
    """Whether ``x`` is a pandas DataFrame (False when pandas is not installed)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        return False
    return isinstance(x, pd.DataFrame)


def arrow_stream(x: Any) -> Any:
    """The Arrow C stream (a PyCapsule) of ``x``: any object with ``__arrow_c_stream__``
    (pandas 2.2+ with pyarrow installed, polars, pyarrow tables and datasets, DuckDB
    relations), or an older pandas DataFrame through pyarrow when it is installed. ``None``
    when ``x`` has none or cannot give one (pandas without pyarrow, an object column pyarrow
    cannot type, a lone surrogate): a DataFrame then crosses as CSV text (:func:`frame_csv`),
    which reports such cells by row and column."""
    export = getattr(x, "__arrow_c_stream__", None)
    if is_frame(x):
        # pyarrow reads a Decimal('sNaN') cell as a missing value: refused by row and column
        _reject_signalling_nan(x)
    if export is None and is_frame(x):
        try:
            pa = importlib.import_module("pyarrow")
        except ImportError:
            return None
        try:
            export = pa.Table.from_pandas(x, preserve_index=False).__arrow_c_stream__
        except Exception:  # noqa: BLE001 - any conversion failure: the CSV path reports it
            return None
    if export is None:
        return None
    try:
        return export()
    except Exception:  # noqa: BLE001 - e.g. pandas without pyarrow: the CSV path for frames
        if is_frame(x):
            return None
        raise


def is_parquet(path: Any) -> bool:
    """Whether a path names a Parquet file (by its suffix)."""
    return str(path).lower().endswith(_PARQUET)


def as_frame(x: Any) -> Any:
    """A pandas DataFrame of a small table given as an Arrow object (``__arrow_c_stream__``)
    or a Parquet path, through pyarrow, for the inputs read as CSV text (populations, prior
    accruals); ``x`` itself otherwise."""
    if is_frame(x):
        return x
    arrow = hasattr(x, "__arrow_c_stream__")
    if not (arrow or (isinstance(x, (str, os.PathLike)) and is_parquet(x))):
        return x
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError as e:  # pragma: no cover - pyarrow is there whenever Arrow objects are
        raise DataError(f"reading {type(x).__name__} needs pyarrow: pip install pyarrow",
                        reason="pyarrow is not installed") from e
    return (pa.table(x) if arrow else pq.read_table(x)).to_pandas()


def frame_csv(df: "pd.DataFrame", numeric_nan: str) -> str:
    """CSV text of a DataFrame as the core reads it: the same row numbers as a file
    (data row 1 is the first row), missing text cells empty, missing numbers written
    ``numeric_nan`` (``"NaN"`` so that the core reports them, or ``""`` for optional
    columns)."""
    import numpy as np
    import pandas as pd

    out = df.reset_index(drop=True).copy()
    out.columns = [str(c) for c in out.columns]
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s) and col in ("partner_id", "order_id"):
            # ids read as floats because of missing values: write 1001, not 1001.0
            if s.dropna().apply(float.is_integer).all():
                out[col] = s.astype("Int64")
        elif col in _SIX_DECIMAL_COLUMNS and pd.api.types.is_float_dtype(s):
            # amounts and quantities computed in floats carry binary noise (36.900000000000006):
            # read to a millionth of a unit, the finest the core takes (docs/calculations.md);
            # a value too large to round (1e308) is left for the core to refuse by row
            with np.errstate(over="ignore", invalid="ignore"):
                out[col] = s.where(~(s.abs() < 1e15), s.round(6))
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d")
        elif not pd.api.types.is_numeric_dtype(s):
            if s.dtype == object:
                # pandas reads a Decimal('sNaN') as missing (or signals, by version): refused
                _signalling_nan(col, s)
            out[col] = s.astype(object).where(s.notna(), "")
    text: str = out.to_csv(index=False, na_rep=numeric_nan, lineterminator="\n")
    _valid_unicode(out, text)
    return text


def _reject_signalling_nan(df: "pd.DataFrame") -> None:
    """A DataError naming the row and column of the first ``Decimal('sNaN')`` cell in the
    object columns of ``df`` (typed columns cannot hold one)."""
    for col in df.columns:
        s = df[col]
        if s.dtype == object:
            _signalling_nan(str(col), s)


def _signalling_nan(col: str, s: "pd.Series[Any]") -> None:
    """A DataError naming the row and column of a ``Decimal('sNaN')`` cell."""
    for i, v in enumerate(s):
        if isinstance(v, decimal.Decimal) and v.is_snan():
            reason = f"expected a number, found a signalling NaN ({v!r})"
            raise DataError(f"row {i + 1}, column {col!r}: {reason}", row=i + 1, column=col, reason=reason)


def _valid_unicode(df: "pd.DataFrame", text: str) -> None:
    """A DataError naming the row and column of a cell (or the column name) holding a lone
    surrogate, which the core cannot take as text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return
    for col in df.columns:
        if SURROGATE.search(col):
            raise DataError(f"column {col!r}: expected valid Unicode text, found a lone surrogate",
                            column=col, reason="expected valid Unicode text, found a lone surrogate")
        for i, v in enumerate(df[col]):
            if isinstance(v, str) and SURROGATE.search(v):
                reason = f"expected valid Unicode text, found a lone surrogate in {v!r}"
                raise DataError(f"row {i + 1}, column {col!r}: {reason}", row=i + 1, column=col, reason=reason)
    raise DataError("the table holds a lone surrogate: expected valid Unicode text",
                    reason="expected valid Unicode text")
