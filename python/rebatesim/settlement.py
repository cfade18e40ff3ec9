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
from typing import TYPE_CHECKING, Any, Dict, Tuple, Union

from . import _arrow, _checks, _core, _format
from ._display import ADJUSTMENTS, settlement_html
from ._inputs import as_programme, load_partners, load_transactions
from .outputs import AtomicFolder
from .programme import Programme

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["settle", "Settlement", "load_partners", "load_transactions"]

PathLike = Union[str, "os.PathLike[str]"]

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
    result = Settlement(_core.settle(prog._spec, p, t), prog)
    result._inputs = {"programme": ("programme", programme), "partners": ("partners", partners),
                      "transactions": ("transactions", transactions)}
    return result


# --------------------------------------------------------------------- result
class SummaryDict(Dict[str, Any]):
    """A dict that may also be called (returning itself): :attr:`Settlement.summary` became
    a property and ``s.summary()`` keeps working."""

    def __call__(self) -> "SummaryDict":
        return self


class Settlement:
    """The result of :func:`settle`: one line per partner, component and
    period, with every adjustment as a signed column so that
    ``calculated + adjustments = payable`` on every line, and totals that are
    exact sums of the lines.

    The lines are held in the core as columns; tables come out as Arrow (built
    in Rust, money exact as decimal128) and as pandas DataFrames. A settlement is
    itself an Arrow table of its lines (``__arrow_c_stream__``): ``pa.table(s)``,
    ``pl.DataFrame(s)`` and DuckDB read the exact lines without a copy through text.
    Explanations are written when asked (:meth:`explain`,
    :meth:`lines_with_explanations`, the ``explanation`` column of ``lines.csv``),
    not for every line up front.

    Attributes and methods: :attr:`lines` (float money, for analysis),
    :attr:`lines_exact` (amounts as :class:`decimal.Decimal`),
    :meth:`lines_arrow`, :meth:`lines_with_explanations`,
    :meth:`by_partner`, :attr:`standings`, :attr:`total`, :attr:`totals`,
    :meth:`explain`, :meth:`to_csv`, :meth:`to_parquet`, :meth:`to_json`.
    """

    def __init__(self, core: "_core.SettlementResult", programme: Programme) -> None:
        self._core = core
        self.programme = programme
        # the inputs as given to rs.settle, for manifest(): name -> (kind, value)
        self._inputs: Dict[str, Tuple[str, Any]] = {}

    def manifest(self) -> Dict[str, Any]:
        """The audit record of this settlement (:mod:`rebatesim.manifest`, the same record as
        ``manifest.json`` of ``rebatesim settle --out``): rebatesim version and, per input
        (programme, partner table, transactions), its path, SHA-256, size, row count and
        control totals (sums of revenue and quantity read). Inputs given as DataFrames are
        recorded by the SHA-256 of their CSV text when this is called."""
        from . import manifest

        inputs = {name: manifest.describe_input(kind, value) for name, (kind, value) in self._inputs.items()}
        return manifest.record("settle", inputs, {})

    # ------------------------------------------------------------- tables
    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The lines (exact amounts as decimal128, no explanations) as an Arrow C stream."""
        return self.lines_arrow().__arrow_c_stream__(requested_schema)

    def lines_arrow(self, *, exact: bool = True, explanation: bool = False) -> Any:
        """The lines as an Arrow table (an object with ``__arrow_c_stream__``: pass it to
        ``pyarrow.table``, ``polars.DataFrame`` or DuckDB): money as exact decimal128
        (``exact=False``: float64); ``explanation=True`` adds each line's explanation (built
        now: slower for millions of lines)."""
        return self._core.lines_table(bool(exact), bool(explanation))

    @property
    def lines(self) -> "pd.DataFrame":
        """One row per partner, component and period: ``partner_id``,
        ``segment``, ``component``, ``kind``, ``period`` (1-based),
        ``period_label``, ``period_start``/``period_end``/``payment_date``
        (datetime64), ``basis``, ``volume_period``, ``volume_to_date``,
        ``tier``, ``tier_threshold``, ``reward``, ``calculated``, the
        adjustments ``adj_*`` and ``payable`` (float64). Use :attr:`lines_exact`
        for exact decimal amounts and :meth:`lines_with_explanations` for the
        explanation of every line."""
        return _arrow.frame(self._core.lines_table(False, False))

    @property
    def lines_exact(self) -> "pd.DataFrame":
        """:attr:`lines` with every amount and volume as :class:`decimal.Decimal`
        (exact; sums reconcile to the cent with :attr:`total`)."""
        return _arrow.frame(self._core.lines_table(True, False))

    def lines_with_explanations(self, exact: bool = False) -> "pd.DataFrame":
        """:attr:`lines` (``exact=True``: :attr:`lines_exact`) with an ``explanation``
        column: every line's explanation in words, built now."""
        return _arrow.frame(self._core.lines_table(bool(exact), True))

    def by_partner(self, exact: bool = False) -> "pd.DataFrame":
        """Totals per partner (sorted by id): ``calculated``, adjustments,
        ``payable``; ``exact=True`` gives :class:`decimal.Decimal` amounts."""
        return _arrow.frame(self._core.partners_table(bool(exact)))

    @property
    def standings(self) -> "pd.DataFrame":
        """Next-tier watch list: per partner and ladder component, the tier
        reached in the latest period, the volume, the next tier's threshold,
        the ``shortfall`` and the ``additional_payout`` reaching it would bring
        (NaN when there is no higher tier)."""
        return _arrow.frame(self._core.standings_table(False), integers=("next_tier",))

    @property
    def standings_exact(self) -> "pd.DataFrame":
        """:attr:`standings` with exact decimal amounts."""
        return _arrow.frame(self._core.standings_table(True), integers=("next_tier",))

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

    @property
    def summary(self) -> "SummaryDict":
        """Headline figures as a JSON-ready dict (amounts as exact strings). A property, as
        :attr:`SimulationResult.summary <rebatesim.SimulationResult.summary>` is; calling it
        (``s.summary()``, the spelling before) still works and returns the same dict."""
        return SummaryDict({
            "programme": self._core.programme,
            "currency": self.currency,
            "partners": self._core.partner_count,
            "lines": len(self._core),
            "budget_binding": self.budget_binding,
            "totals": {k: _format.money_text(v, self._core.decimals) for k, v in self.totals.items()},
        })

    def _csv_files(self) -> Dict[str, str]:
        """The files of :meth:`to_csv` as text (exact amounts at the currency's scale, text
        cells neutralised against spreadsheet formulas, as :mod:`rebatesim._format` writes
        every file): for small settlements (the demo's report); :meth:`to_csv` writes
        ``lines.csv`` straight from the core instead."""
        return {
            "lines.csv": self._core.lines_csv(),
            "partners.csv": self._core.partners_csv(),
            "standings.csv": self._core.standings_csv(),
            "summary.json": json.dumps(self.summary, indent=2) + "\n",
        }

    def _write(self, folder: PathLike, *, csv: bool, parquet: bool) -> None:
        """Write the settlement's files into ``folder`` (the temporary folder of an atomic
        output, renamed into place once complete): the lines as ``lines.csv`` and/or
        ``lines.parquet`` (straight from the core's columns, a batch of partners at a
        time, never the whole result twice), ``partners.csv``, ``standings.csv``,
        ``summary.json``."""
        d = os.fspath(folder)
        if parquet:
            self._core.write_lines_parquet(os.path.join(d, "lines.parquet"))
        if csv:
            self._core.write_lines_csv(os.path.join(d, "lines.csv"))
        for name, text in (("partners.csv", self._core.partners_csv()),
                           ("standings.csv", self._core.standings_csv()),
                           ("summary.json", json.dumps(self.summary, indent=2) + "\n")):
            with open(os.path.join(d, name), "w", encoding="utf-8", newline="") as f:
                f.write(text)

    def to_csv(self, directory: PathLike, *, force: bool = False) -> None:
        """Write ``lines.csv`` (with every line's explanation), ``partners.csv``,
        ``standings.csv`` and ``summary.json`` (exact amounts at the currency's scale;
        a text cell beginning with ``= + - @`` prefixed with ``'``, see
        :mod:`rebatesim._format`) into ``directory``, atomically: the
        files are written to a temporary folder beside it, which is then
        renamed, so a failure leaves nothing behind. An existing non-empty
        ``directory`` is refused unless ``force=True`` (then replaced).
        """
        with AtomicFolder(os.fspath(directory), force=force) as f:
            self._write(f.path("summary.json").parent, csv=True, parquet=False)

    def to_parquet(self, path: PathLike) -> None:
        """Write the lines (exact amounts as decimal128, no explanations) as one Parquet
        file at ``path``, atomically (a temporary file renamed into place)."""
        self._core.write_lines_parquet(os.fspath(path))

    # ------------------------------------------------------------- display
    def _fmt(self, v: Any) -> str:
        return _format.exact_amount(v, self._core.decimals)

    def __repr__(self) -> str:
        t = self.totals
        n_partners = self._core.partner_count
        adj = ", ".join(f"{label} {self._fmt(t[k])}" for k, label in ADJUSTMENTS if t[k] != 0)
        return (
            f"<Settlement of {self._core.programme!r}: {n_partners} partners, {len(self._core)} lines, "
            f"calculated {self._fmt(t['calculated'])}"
            + (f" ({adj})" if adj else "")
            + f", payable {self._fmt(t['payable'])} {self.currency}>"
        )

    def _repr_html_(self) -> str:
        return settlement_html(self)
