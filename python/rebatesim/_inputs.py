"""The inputs of every run, in the form the core takes: a programme, a population, a
demand model, partner / transaction / prior-accrual tables and dates, each accepted as an
object, a dict, a DataFrame or a file path (whatever the public function documents) and
refused with a rebatesim error naming the argument otherwise.

The public modules (:mod:`~rebatesim.settlement`, :mod:`~rebatesim.simulation`,
:mod:`~rebatesim.comparison`, :mod:`~rebatesim.forecasting`,
:mod:`~rebatesim.sensitivities`, :mod:`~rebatesim.backtesting`) convert their arguments
here and never borrow a converter from one another.

>>> from rebatesim import _inputs
>>> _inputs.as_model(None) == _inputs.as_model({})
True
>>> _inputs.date_text(__import__("datetime").date(2027, 6, 30))
'2027-06-30'
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Mapping

from . import _checks, _core
from ._tables import arrow_stream, as_frame, frame_csv, is_frame, is_parquet
from .demand import Model, Population
from .exceptions import RequestError
from .programme import Programme

__all__ = ["as_programme", "as_population", "as_model", "load_partners", "load_transactions",
           "load_prior_accruals", "date_text"]


def as_programme(programme: Any) -> Programme:
    """A :class:`Programme` from a Programme, a programme dict or a file path."""
    if isinstance(programme, Programme):
        return programme
    if isinstance(programme, Mapping):
        return Programme.from_dict(programme)
    if isinstance(programme, (str, os.PathLike)):
        return Programme.from_file(programme)
    raise RequestError(
        f"expected a Programme, a programme dict or a file path, found {type(programme).__name__}"
    )


def as_population(population: Any) -> Population:
    """A :class:`Population` from a Population, a DataFrame or a CSV path."""
    if isinstance(population, Population):
        return population
    return Population.from_csv(population)


def as_model(model: Any) -> Model:
    """A demand :class:`Model` from a Model, a dict, a file path or None (the default model)."""
    if model is None:
        return Model.default()
    if isinstance(model, Model):
        return model
    if isinstance(model, Mapping):
        return Model.from_dict(model)
    if isinstance(model, (str, os.PathLike)):
        return Model.from_file(model)
    raise RequestError(f"model: expected a Model, a dict or a file path, found {type(model).__name__}")


def load_partners(partners: Any, programme: Any = None, strict: bool = False) -> "_core.PartnerTable":
    """A partner table for the core from a DataFrame, any Arrow table (an object with
    ``__arrow_c_stream__``: polars, pyarrow, DuckDB), or a CSV or Parquet path.

    Columns: ``partner_id`` (required), ``segment``, ``baseline_revenue``,
    ``baseline_units`` (optional; an empty cell, null or NaN means unknown). Float money is
    rounded to ``programme``'s minor unit with its rounding rule (see :func:`load_transactions`).
    """
    table: _core.PartnerTable = _load_table(
        partners, _core.PartnerTable, "partners", "", _core.partners_from_arrow,
        _core.partners_from_parquet, programme, strict)
    return table


def load_transactions(transactions: Any, programme: Any = None, strict: bool = False) -> "_core.TransactionTable":
    """A transaction table for the core from a DataFrame, any Arrow table (an object with
    ``__arrow_c_stream__``: polars, pyarrow, a DuckDB relation), or a CSV or Parquet path.

    Columns: ``partner_id``, ``date``, ``quantity``, ``revenue`` (required),
    ``category``, ``order_id`` (optional). Returns are negative lines. NaN or
    infinite numbers, nulls in required columns and timestamps with a timezone are errors
    naming the row and column. Decimal and integer columns are taken exactly; a float is
    read as the decimal Python prints for it and rounded to ``programme``'s minor unit with
    its rounding rule (to a millionth, half-even, without a programme); with ``strict`` a
    float that is not a whole number of minor units is an error naming the row instead.
    """
    table: _core.TransactionTable = _load_table(
        transactions, _core.TransactionTable, "transactions", "NaN", _core.transactions_from_arrow,
        _core.transactions_from_parquet, programme, strict)
    return table


def load_prior_accruals(prior: Any) -> "_core.PriorAccruals":
    """Prior accruals for the core from a DataFrame, an Arrow table or a CSV or Parquet path
    (Arrow and Parquet through pyarrow and pandas: the table is small): columns ``partner_id``,
    ``component`` and ``amount`` (cumulative amount accrued through the previous month end)."""
    table: _core.PriorAccruals = _load_table(prior, _core.PriorAccruals, "prior_accruals", "NaN")
    return table


def _load_table(value: Any, table_type: Any, name: str, numeric_nan: str, from_arrow: Any = None,
                from_parquet: Any = None, programme: Any = None, strict: bool = False) -> Any:
    """A core table (``table_type``, which reads ``from_csv_text`` / ``from_csv_path``) from
    itself, an Arrow stream (``from_arrow``), a DataFrame (as CSV text when it has no Arrow
    stream; missing numbers written ``numeric_nan``), a Parquet path (``from_parquet``) or a
    CSV path."""
    if isinstance(value, table_type):
        return value
    spec = None if programme is None else as_programme(programme)._spec
    if isinstance(value, (str, os.PathLike)):
        path = _checks.path(name, value)
        if is_parquet(path):
            if from_parquet is not None:
                return from_parquet(path, spec, strict)
            return table_type.from_csv_text(frame_csv(as_frame(path), numeric_nan), name)
        return table_type.from_csv_path(path)
    if from_arrow is not None:
        stream = arrow_stream(value)
        if stream is not None:
            return from_arrow(stream, name, spec, strict)
    value = as_frame(value)
    if is_frame(value):
        return table_type.from_csv_text(frame_csv(value, numeric_nan), name)
    raise RequestError(f"{name}: expected a pandas DataFrame, an Arrow table (polars, pyarrow, DuckDB), "
                       f"a CSV or Parquet path, found {type(value).__name__}")


def date_text(as_of: Any) -> str:
    """``as_of`` (a date, a datetime, a pandas Timestamp or a ``YYYY-MM-DD`` string) as the
    ``YYYY-MM-DD`` text the core reads."""
    if isinstance(as_of, str):
        return _checks.text("as_of", as_of)
    if isinstance(as_of, (_dt.date, _dt.datetime)):
        return as_of.strftime("%Y-%m-%d")
    if hasattr(as_of, "strftime"):  # pandas Timestamp, numpy datetime via pandas
        text: str = as_of.strftime("%Y-%m-%d")
        return text
    raise RequestError(f"as_of: expected a date or a YYYY-MM-DD string, found {type(as_of).__name__}")
