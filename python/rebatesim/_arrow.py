"""Tables the core hands over as Arrow (record batches built in Rust, any object with
``__arrow_c_stream__``) turned into pandas DataFrames the way the package always gave them:
exact money (decimal128) as :class:`decimal.Decimal` objects, float money as float64, dates
as pandas' datetime64, integers that may be missing as ``Int64``.

pyarrow does the conversion (a dependency of the package: it is the one maintained reader of
the Arrow C stream interface into pandas, and one conversion path keeps every table's dtypes
the same whatever produced it). It imports nothing of the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["frame", "table"]

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
