"""Locating the bundled example (a distributor programme with partners and transactions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Set

from .exceptions import RequestError

__all__ = ["example_path", "examples", "example_population"]

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
    names: Set[str] = set()
    for root in _roots():
        if root.is_dir():
            names.update(p.name for p in root.iterdir() if (p / "programme.toml").is_file())
    return sorted(names)


def example_path(name: str = "programme.toml", example: str = "distributor") -> str:
    """Path of a file of a bundled example (``programme.toml``, ``partners.csv``,
    ``transactions.csv``).

    >>> import os
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


def example_population(example: str = "distributor", *, as_frame: bool = False) -> Any:
    """The example's partners with their actual year as the baseline (revenue,
    price per unit, category mix), i.e. the question "what would the programme pay
    next year?". ``as_frame=True`` returns the partner table (a DataFrame) instead of
    the :class:`~rebatesim.Population`, e.g. to select a segment.

    >>> import rebatesim as rs
    >>> len(rs.example_population()) > 2000
    True
    >>> table = rs.example_population(as_frame=True)
    >>> list(table.columns[:4])
    ['partner_id', 'segment', 'baseline_revenue', 'unit_price']
    >>> len(rs.Population.from_csv(table[table["segment"] == "online"])) < len(table)
    True
    """
    import pandas as pd

    from .demand import Population

    partners = pd.read_csv(example_path("partners.csv", example), dtype={"partner_id": str, "segment": str})
    tx = pd.read_csv(example_path("transactions.csv", example), dtype={"partner_id": str, "category": str})
    per = tx.groupby("partner_id").agg(revenue=("revenue", "sum"), quantity=("quantity", "sum"))
    per = per[(per["revenue"] > 0) & (per["quantity"] > 0)]
    cat = tx[tx["revenue"] > 0].pivot_table(index="partner_id", columns="category", values="revenue", aggfunc="sum", fill_value=0.0)
    shares = cat.div(cat.sum(axis=1), axis=0)
    shares.columns = [f"mix_{c}" for c in shares.columns]
    df = partners[["partner_id", "segment"]].merge(per, left_on="partner_id", right_index=True)
    df = df.merge(shares, left_on="partner_id", right_index=True)
    df["baseline_revenue"] = df.pop("revenue").round(2)
    df["unit_price"] = (df["baseline_revenue"] / df.pop("quantity")).round(4)
    mix = [c for c in df.columns if c.startswith("mix_")]
    # shares written with enough digits to sum to 1 within the engine's 1e-6
    df[mix] = df[mix].round(9)
    df = df[["partner_id", "segment", "baseline_revenue", "unit_price"] + mix].reset_index(drop=True)
    return df if as_frame else Population.from_csv(df)
