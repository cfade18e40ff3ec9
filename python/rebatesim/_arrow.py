"""Tables the core hands over as Arrow (record batches built in Rust, any object with
``__arrow_c_stream__``; every result crosses the boundary this way) turned into the values
the package always gave:

- :func:`frame`: pandas DataFrames: exact money (decimal128) as :class:`decimal.Decimal`
  objects, float money as float64, dates as pandas' datetime64, integers that may be missing
  as ``Int64``;
- :func:`arrays`: NumPy arrays per column (a fixed-size list column as a 2-D array);
- :func:`row`: a one-row table (a result's metadata) as a dict;
- :func:`records`: a table of records (the core's ``rebatesim::records``: structs, lists)
  as the list of dicts its JSON gave (undefined numbers None);
- :func:`summaries`: a summaries table (outcome, statistic, value, se rows) as the nested
  dicts of statistics the package reports.

pyarrow does the conversion (a dependency of the package: it is the one maintained reader of
the Arrow C stream interface into pandas, and one conversion path keeps every table's dtypes
the same whatever produced it). It imports nothing of the package.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["arrays", "frame", "records", "row", "sorted_keys", "summaries", "table"]

_DATETIME: Any = None


def _datetime_dtype() -> Any:
    """The dtype pandas gives dates parsed from text (``datetime64[us]`` in pandas 3,
    ``[ns]`` before), so that date columns keep the dtype they always had."""
    global _DATETIME
    if _DATETIME is None:
        import pandas as pd

        _DATETIME = pd.to_datetime(pd.Series(["2000-01-01"]), format="%Y-%m-%d").dtype
    return _DATETIME


def table(source: Any) -> Any:
    """A ``pyarrow.Table`` of any object with ``__arrow_c_stream__``."""
    import pyarrow as pa

    return pa.table(source)


def frame(source: Any, *, integers: Iterable[str] = ()) -> "pd.DataFrame":
    """A pandas DataFrame of an Arrow table (any object with ``__arrow_c_stream__``):
    decimal128 columns as :class:`decimal.Decimal` objects (exact), date32 columns as
    datetime64, the columns in ``integers`` (integers that may be missing) as ``Int64``."""
    import pyarrow as pa

    t = table(source)
    df: "pd.DataFrame" = t.to_pandas(date_as_object=False)
    for field in t.schema:
        if pa.types.is_date(field.type):
            df[field.name] = df[field.name].astype(_datetime_dtype())
    for name in integers:
        if name in df:
            df[name] = df[name].astype("Int64")
    return df


def _column_array(column: Any) -> np.ndarray:
    """One column (a ChunkedArray) as a writable NumPy array: a fixed-size list as rows ×
    list size, anything else 1-D; the values as the core holds them (same dtype and bits)."""
    import pyarrow as pa

    a = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    out: np.ndarray
    if pa.types.is_fixed_size_list(a.type):
        values = a.values.slice(a.offset * a.type.list_size, len(a) * a.type.list_size)
        out = values.to_numpy(zero_copy_only=False).reshape(len(a), a.type.list_size)
    else:
        out = a.to_numpy(zero_copy_only=False)
    return out if out.flags.writeable else out.copy()


def arrays(source: Any) -> Dict[str, np.ndarray]:
    """Column name → NumPy array of an Arrow table, in column order."""
    t = table(source)
    return {name: _column_array(t.column(i)) for i, name in enumerate(t.column_names)}


def row(source: Any) -> Dict[str, Any]:
    """The one row of an Arrow table as a dict (lists as lists, structs as dicts, nulls as
    None), in column order."""
    rows: List[Dict[str, Any]] = table(source).to_pylist()
    if len(rows) != 1:
        raise ValueError(f"expected a one-row table, found {len(rows)} rows")
    return rows[0]


def _number(x: float) -> Optional[float]:
    """A statistic as the package reports it: None where it is undefined (NaN, infinite)."""
    return x if math.isfinite(x) else None


def _statistic(value: Optional[float], se: Optional[float]) -> Any:
    """One (value, se) row of a summaries table: None when absent (null value), the count
    when it has no standard error, else {"value", "se"}."""
    if value is None:
        return None
    if se is None:
        return int(value)
    return {"value": _number(value), "se": _number(se)}


def summaries(source: Any, keys: Tuple[str, ...] = ()) -> List[Tuple[Tuple[str, ...], Dict[str, Any]]]:
    """A summaries table (columns ``keys``, then outcome, statistic, value, se) as a list of
    (key values, {outcome: summary}) in row order, one entry per run of equal key values. A
    summary is {statistic: ...} (see :func:`_statistic`), or the {"value", "se"} of a
    probability (a row whose statistic is null)."""
    d = table(source).to_pydict()
    out: List[Tuple[Tuple[str, ...], Dict[str, Any]]] = []
    for i, outcome in enumerate(d["outcome"]):
        key = tuple(d[k][i] for k in keys)
        if not out or out[-1][0] != key:
            out.append((key, {}))
        group = out[-1][1]
        statistic = d["statistic"][i]
        entry = _statistic(d["value"][i], d["se"][i])
        if statistic is None:
            group[outcome] = entry
        else:
            group.setdefault(outcome, {})[statistic] = entry
    return out


def sorted_keys(value: Any) -> Any:
    """``value`` with every dict's keys in sorted order, recursively: the order the package's
    results always reported metadata and summaries in (the core's JSON, before results
    crossed as Arrow, wrote its objects sorted), so that written outputs stay identical."""
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def records(source: Any) -> List[Dict[str, Any]]:
    """The rows of a table of records (``rebatesim::records``: undefined numbers already null,
    as in JSON) as dicts: structs as dicts, lists as lists, fields in column order."""
    rows: List[Dict[str, Any]] = table(source).to_pylist()
    return rows
