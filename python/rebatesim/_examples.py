"""Locating the bundled example (a distributor programme with partners and transactions)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List

from .exceptions import RequestError

__all__ = ["example_path", "examples"]

_HERE = Path(__file__).resolve().parent


def _roots() -> List[Path]:
    # Installed wheel: the examples ship inside the package (rebatesim/data/...).
    # Source checkout / editable install: the repository's examples/ folder.
    return [_HERE / "data", _HERE.parent.parent / "examples"]


def examples() -> List[str]:
    """Names of the bundled examples, e.g. ``['distributor']``.

    >>> import rebatesim as rs
    >>> "distributor" in rs.examples()
    True
    """
    names = set()
    for root in _roots():
        if root.is_dir():
            names.update(p.name for p in root.iterdir() if (p / "programme.toml").is_file())
    return sorted(names)


def example_path(name: str = "programme.toml", example: str = "distributor") -> str:
    """Path of a file of a bundled example (``programme.toml``, ``partners.csv``,
    ``transactions.csv``).

    >>> import rebatesim as rs
    >>> os.path.basename(rs.example_path("partners.csv"))
    'partners.csv'
    """
    for root in _roots():
        path = root / example / name
        if path.is_file():
            return str(path)
    raise RequestError(
        f"no bundled example file {example}/{name} (examples available: {', '.join(examples()) or 'none'})"
    )
