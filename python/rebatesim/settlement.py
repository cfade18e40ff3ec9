"""Exact settlement: what every partner is owed from actual purchases.

>>> import rebatesim as rs
>>> s = rs.settle(rs.example_path("programme.toml"),
...               rs.example_path("partners.csv"), rs.example_path("transactions.csv"))
>>> bool(s.lines["payable"].sum().round(2) == float(s.total))
True
"""

from __future__ import annotations

import decimal
import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Union

from . import _checks, _core, _format
from ._display import ADJUSTMENTS, settlement_html
from ._inputs import as_programme, load_partners, load_transactions
from .outputs import write_folder
from .programme import Programme

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["settle", "Settlement", "load_partners", "load_transactions"]

PathLike = Union[str, "os.PathLike[str]"]

_LINE_MONEY = [
    "calculated",
    "adj_component_cap",
    "adj_exclusive_group",
    "adj_partner_cap",
    "adj_minimum_payout",
    "adj_budget_cut",
    "payable",
]
_LINE_NUMBERS = ["volume_period", "volume_to_date", "tier_threshold"] + _LINE_MONEY
_LINE_DATES = ["period_start", "period_end", "payment_date"]
_STANDING_NUMBERS = ["volume", "next_threshold", "shortfall", "additional_payout"]


def settle(programme: Any, partners: Any, transactions: Any) -> "Settlement":
    """Settle a programme on actual transactions, exactly, to the cent.

    ``programme`` is a :class:`Programme`, a programme dict or a file path;
    ``partners`` and ``transactions`` are pandas DataFrames, Arrow tables (polars,
    pyarrow, a DuckDB relation: anything with ``__arrow_c_stream__``), or CSV or Parquet
    paths (errors name the same row numbers for all: data row 1 is the first row; float
    money is rounded to the programme's minor unit by its rounding rule, see
    :func:`load_transactions`).

    Raises :class:`~rebatesim.ProgrammeError`, :class:`~rebatesim.DataError`
    (with ``table``, ``row``, ``column``) or :class:`~rebatesim.FileError`.

    >>> import rebatesim as rs, pandas as pd
    >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "year", 1,
    ...                      [rs.volume("vol", [(1000, "1%"), (5000, "3%")])])
    >>> partners = pd.DataFrame({"partner_id": ["A", "B"]})
    >>> tx = pd.DataFrame({"partner_id": ["A", "B", "B"],
    ...                    "date": ["2027-02-01", "2027-03-01", "2027-05-01"],
    ...                    "quantity": [1, 1, 1], "revenue": [2000, 4000, 1500]})
    >>> s = rs.settle(p, partners, tx)  # B: 5,500 reaches tier 2, 3% of all = 165
    >>> s.total
    Decimal('185.00')
    >>> s.by_partner()[["partner_id", "payable"]].to_dict("records")
    [{'partner_id': 'A', 'payable': 20.0}, {'partner_id': 'B', 'payable': 165.0}]
    """
    prog = as_programme(programme)
    p = load_partners(partners, prog)
    t = load_transactions(transactions, prog)
    return Settlement(_core.settle(prog._spec, p, t), prog)


# --------------------------------------------------------------------- result
class Settlement:
    """The result of :func:`settle`: one line per partner, component and
    period, with every adjustment as a signed column so that
    ``calculated + adjustments = payable`` on every line, and totals that are
    exact sums of the lines.

    Attributes and methods: :attr:`lines` (float money, for analysis),
    :attr:`lines_exact` (amounts as :class:`decimal.Decimal`),
    :meth:`by_partner`, :attr:`standings`, :attr:`total`, :attr:`totals`,
    :meth:`explain`, :meth:`to_csv`, :meth:`to_json`.
    """

    def __init__(self, core: "_core.SettlementResult", programme: Programme) -> None:
        self._core = core
        self.programme = programme
        self._cache: Dict[str, Any] = {}

    # ------------------------------------------------------------- frames
    def _frame(self, key: str, columns: Dict[str, List[Any]], numbers: List[str], dates: List[str], exact: bool) -> "pd.DataFrame":
        import pandas as pd

        cache_key = f"{key}:{exact}"
        if cache_key not in self._cache:
            df = pd.DataFrame(columns)
            for col in numbers:
                if col not in df:
                    continue
                if exact:
                    df[col] = pd.Series(
                        [None if v is None else decimal.Decimal(v) for v in columns[col]], dtype=object
                    )
                else:
                    df[col] = pd.to_numeric(pd.Series(columns[col], dtype=object), errors="raise").astype("float64")
            for col in dates:
                df[col] = pd.to_datetime(df[col], format="%Y-%m-%d")
            for col in ("period", "tier"):
                if col in df:
                    df[col] = df[col].astype("int64")
            if "next_tier" in df:
                df["next_tier"] = df["next_tier"].astype("Int64")
            self._cache[cache_key] = df
        cached: "pd.DataFrame" = self._cache[cache_key]
        return cached.copy()

    @property
    def lines(self) -> "pd.DataFrame":
        """One row per partner, component and period: ``partner_id``,
        ``segment``, ``component``, ``kind``, ``period`` (1-based),
        ``period_label``, ``period_start``/``period_end``/``payment_date``
        (datetime64), ``basis``, ``volume_period``, ``volume_to_date``,
        ``tier``, ``tier_threshold``, ``reward``, ``calculated``, the
        adjustments ``adj_*``, ``payable`` (float64) and ``explanation``.
        Use :attr:`lines_exact` for exact decimal amounts."""
        return self._frame("lines", self._core.lines_columns(), _LINE_NUMBERS, _LINE_DATES, False)

    @property
    def lines_exact(self) -> "pd.DataFrame":
        """:attr:`lines` with every amount and volume as :class:`decimal.Decimal`
        (exact; sums reconcile to the cent with :attr:`total`)."""
        return self._frame("lines", self._core.lines_columns(), _LINE_NUMBERS, _LINE_DATES, True)

    def by_partner(self, exact: bool = False) -> "pd.DataFrame":
        """Totals per partner (sorted by id): ``calculated``, adjustments,
        ``payable``; ``exact=True`` gives :class:`decimal.Decimal` amounts."""
        return self._frame("partners", self._core.partners_columns(), _LINE_MONEY, [], exact)

    @property
    def standings(self) -> "pd.DataFrame":
        """Next-tier watch list: per partner and ladder component, the tier
        reached in the latest period, the volume, the next tier's threshold,
        the ``shortfall`` and the ``additional_payout`` reaching it would bring
        (NaN when there is no higher tier)."""
        return self._frame("standing", self._core.standing_columns(), _STANDING_NUMBERS, [], False)

    @property
    def standings_exact(self) -> "pd.DataFrame":
        """:attr:`standings` with exact decimal amounts."""
        return self._frame("standing", self._core.standing_columns(), _STANDING_NUMBERS, [], True)

    @property
    def totals(self) -> Dict[str, decimal.Decimal]:
        """Programme totals (exact): ``calculated``, each adjustment, ``payable``."""
        return {k: decimal.Decimal(v) for k, v in self._core.totals().items()}

    @property
    def total(self) -> decimal.Decimal:
        """Total payable over all partners, components and periods (exact)."""
        return self.totals["payable"]

    @property
    def currency(self) -> str:
        """Currency code."""
        return self._core.currency

    @property
    def budget_binding(self) -> bool:
        """Whether the programme budget cut payouts in any period."""
        return self._core.budget_binding

    # ------------------------------------------------------------- text
    def explain(self, partner_id: Any) -> str:
        """A statement for one partner: each line's explanation, the totals
        and the standing against the next tiers. Raises
        :class:`~rebatesim.RequestError` for a partner not in the table.

        >>> import rebatesim as rs
        >>> s = rs.settle(rs.example_path("programme.toml"),
        ...               rs.example_path("partners.csv"), rs.example_path("transactions.csv"))
        >>> pid = s.by_partner()["partner_id"].iloc[0]
        >>> "Total payable" in s.explain(pid)
        True
        """
        return self._core.explain(_checks.text("partner_id", str(partner_id)))

    def to_json(self) -> str:
        """The whole settlement as JSON (amounts as exact decimal strings at the currency's
        scale)."""
        return _format.json_text(json.loads(self._core.to_json(), parse_float=decimal.Decimal), self._core.decimals)

    def summary(self) -> Dict[str, Any]:
        """Headline figures as a JSON-ready dict (amounts as exact strings)."""
        lines = self._core.lines_columns()
        return {
            "programme": self._core.programme,
            "currency": self.currency,
            "partners": len(self._core.partners_columns()["partner_id"]),
            "lines": len(lines["partner_id"]),
            "budget_binding": self.budget_binding,
            "totals": {k: _format.money_text(v, self._core.decimals) for k, v in self.totals.items()},
        }

    def _csv_files(self) -> Dict[str, str]:
        """The files of :meth:`to_csv`: exact amounts at the currency's scale, text cells
        neutralised against spreadsheet formulas (:mod:`rebatesim._format`)."""
        dp = self._core.decimals
        return {
            "lines.csv": _format.rewrite_csv(self._core.lines_csv(), dp, numeric=_LINE_NUMBERS + _LINE_DATES + ["period", "tier"],
                                             money=_LINE_MONEY),
            "partners.csv": _format.csv_text(self.by_partner(exact=True), dp, index=False),
            "standings.csv": _format.csv_text(self.standings_exact, dp, index=False),
            "summary.json": json.dumps(self.summary(), indent=2) + "\n",
        }

    def to_csv(self, directory: PathLike, *, force: bool = False) -> None:
        """Write ``lines.csv``, ``partners.csv``, ``standings.csv`` and
        ``summary.json`` (exact amounts at the currency's scale; a text cell
        beginning with ``= + - @`` prefixed with ``'``, see
        :mod:`rebatesim._format`) into ``directory``, atomically: the
        files are written to a temporary folder beside it, which is then
        renamed, so a failure leaves nothing behind. An existing non-empty
        ``directory`` is refused unless ``force=True`` (then replaced).
        """
        write_folder(os.fspath(directory), self._csv_files(), force=force)

    # ------------------------------------------------------------- display
    def _fmt(self, v: Any) -> str:
        return _format.exact_amount(v, self._core.decimals)

    def __repr__(self) -> str:
        t = self.totals
        n_partners = len(self._core.partners_columns()["partner_id"])
        adj = ", ".join(f"{label} {self._fmt(t[k])}" for k, label in ADJUSTMENTS if t[k] != 0)
        return (
            f"<Settlement of {self._core.programme!r}: {n_partners} partners, {len(self._core)} lines, "
            f"calculated {self._fmt(t['calculated'])}"
            + (f" ({adj})" if adj else "")
            + f", payable {self._fmt(t['payable'])} {self.currency}>"
        )

    def _repr_html_(self) -> str:
        return settlement_html(self)
