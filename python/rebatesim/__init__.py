"""rebatesim: design, simulate and budget B2B volume-incentive rebate programmes.

An exact settlement engine (to the cent, with explanations a partner would
accept) and a Monte Carlo engine of partner purchasing, in Rust, driven from
Python.

>>> import rebatesim as rs
>>> programme = rs.Programme.from_file(rs.example_path("programme.toml"))
>>> programme.currency
'EUR'
"""

from __future__ import annotations

from . import _core
from ._examples import example_path, examples
from .exceptions import (
    DataError,
    FileError,
    ModelError,
    ProgrammeError,
    RebatesimError,
    RequestError,
)
from .programme import Programme, bundle, growth, logistics, per_unit, tier, volume
from .settlement import Settlement, load_partners, load_transactions, settle

__version__: str = _core.__version__

__all__ = [
    "__version__",
    "Programme",
    "volume",
    "growth",
    "per_unit",
    "bundle",
    "logistics",
    "tier",
    "settle",
    "Settlement",
    "load_partners",
    "load_transactions",
    "example_path",
    "examples",
    "RebatesimError",
    "ProgrammeError",
    "ModelError",
    "DataError",
    "RequestError",
    "FileError",
]
