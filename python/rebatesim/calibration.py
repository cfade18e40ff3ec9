"""Calibration: a demand model estimated from the partners' own transaction history.

``calibrate(history, partners, programme=None, as_of=None)`` returns a :class:`Calibration`:
the calibrated :class:`~rebatesim.Model`, every estimate with its standard error and 90%
interval, ``K`` parameter draws (input uncertainty), per-partner estimates (category mix
shrunk to the segment's, unit price, last-12-months revenue), diagnostic tables and, with
the programme that was in force over the history, the behaviour estimates (stretch from
bunching at its thresholds, pull-forward). :meth:`Calibration.report` writes the fit report
(HTML with charts), :meth:`Calibration.save` the whole folder that ``rebatesim calibrate
--out DIR`` writes. The estimators and what the engine does not use yet are documented in
``docs/calibration.md``.
"""

from __future__ import annotations

import os
import warnings as _warnings
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from . import _core
from ._calibration_report import notebook_html, output_files, report_html
from ._inputs import as_programme, date_text, load_partners, load_transactions
from .exceptions import RequestError
from .demand import Model

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["calibrate", "Calibration"]

PathLike = Union[str, "os.PathLike[str]"]


def _count(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"{name}: expected a whole number from {lo} to {hi}, found {value!r}")
    if not lo <= value <= hi:
        raise RequestError(f"{name}: expected a whole number from {lo} to {hi}, found {value}")
    return value


class Calibration:
    """The result of :func:`calibrate`."""

    __slots__ = ("_core",)

    def __init__(self, core: "_core.CalibrationResult") -> None:
        self._core = core

    @property
    def model(self) -> Model:
        """The calibrated demand model."""
        return Model.from_toml(self._core.model_text())

    def model_text(self) -> str:
        """The model file (TOML) with every estimate as a comment above it."""
        return self._core.model_text()

    def save_model(self, path: PathLike) -> None:
        """Write :meth:`model_text` to ``path`` (a ``.toml`` file)."""
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            f.write(self._core.model_text())

    @property
    def draws(self) -> List[Model]:
        """The ``K`` parameter draws, each a :class:`~rebatesim.Model`."""
        return [Model.from_toml(t) for t in self._core.draw_texts()]

    @property
    def draw_incidence(self) -> "pd.DataFrame":
        """The drawn probability of buying in a month: one row per parameter draw (index
        ``draw``, 0 to K − 1, in :attr:`draws` order), one column per segment."""
        import pandas as pd

        rows = self._core.draw_incidence()
        df = pd.DataFrame(rows, columns=sorted({s for r in rows for s in r}), dtype=float)
        df.index.name = "draw"
        return df

    @property
    def estimates(self) -> Any:
        """Every estimate: parameter, segment, value, se, lo90, hi90, dof, method (DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self._core.estimates())

    @property
    def partners(self) -> Any:
        """Per partner: segment, buying months, first/last purchase, churned, last-12-months
        revenue, the demand level ``demand_revenue`` (annual revenue rate: the last 12 months'
        revenue, or an entrant's purchases annualised over its active months), the per-period baselines ``baseline_revenue_m01`` … ``_m12`` and, when the
        history has quantities, ``baseline_units_m01`` … ``_m12`` (gross purchases and their
        units in the history months :attr:`baseline_months`: the history's last twelve months
        by calendar month from the programme's first month, docs/calculations.md §3), unit price,
        ``mix_<category>`` shares shrunk to the segment's (DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self._core.partners())

    def population(self, partners: Any, *, baselines: bool = False, demand: bool = True) -> Any:
        """The partner table to simulate with this calibration: ``partners`` (the programme
        year's table with its baselines: a DataFrame, or a CSV or Parquet path) with each
        partner's calibrated category mix as ``mix_<category>`` columns, which the engine uses
        instead of the model's ``economics.category_mix`` (docs/simulation.md). A partner the
        history does not have (a new partner) gets the mean calibrated mix of its segment, or
        of every partner when its segment has none. Mix columns already in ``partners`` are
        replaced, with a ``UserWarning``. Without categories in the history, the mix columns
        are left as they are.

        With ``baselines=True`` each partner of the history also gets its per-period baselines
        from the history's last twelve months (see :attr:`baseline_months`):
        ``baseline_revenue_m01`` … ``_m12`` and, when the history has quantities,
        ``baseline_units_m01`` … ``_m12``, with an empty ``baseline_revenue`` /
        ``baseline_units`` (its annual baseline is then the months' sum); a partner the
        history does not have keeps its annual baselines and no months. Monthly columns already
        in ``partners`` are replaced, and annual baselines that differ from the months' sum
        (by more than a cent, or 10⁻⁶ units) are reported, with a ``UserWarning``.

        With ``demand=True`` (the default) each partner of the history also gets its
        ``demand_revenue`` (:attr:`partners`: the annual revenue rate the engine simulates
        instead of its baseline; an entrant's purchases annualised over its active months,
        docs/calibration.md "Demand level"); the baselines, which the rules and settlement use,
        stay as given. A partner the history does not have gets none (simulated at its
        baseline). A ``demand_revenue`` column already in ``partners`` is replaced, with a
        ``UserWarning``."""
        import pandas as pd

        from ._tables import as_frame

        table = as_frame(partners)
        if isinstance(table, (str, os.PathLike)):
            table = pd.read_csv(table, dtype={"partner_id": str, "segment": str})
        if not isinstance(table, pd.DataFrame):
            raise RequestError(f"partners: expected a DataFrame, a CSV or Parquet path, found {type(partners).__name__}")
        for col in ("partner_id", "segment"):
            if col not in table.columns:
                raise RequestError(f"partners: expected a column {col!r}")
        cal = self.partners
        mix = [c for c in cal.columns if c.startswith("mix_") and c != "mix_weight"]
        out = table.copy()
        if baselines:
            out = self._with_monthly_baselines(out, cal)
        if demand:
            if "demand_revenue" in out.columns:
                _warnings.warn("partners: the demand_revenue column is replaced by the calibrated demand levels",
                               UserWarning, stacklevel=2)
            level = cal.set_index(cal["partner_id"].astype(str))["demand_revenue"]
            out["demand_revenue"] = level.reindex(out["partner_id"].astype(str)).to_numpy(dtype=float)
        if not mix:
            return out
        old = [c for c in out.columns if str(c).startswith("mix_")]
        if old:
            _warnings.warn(f"partners: the mix columns {', '.join(map(str, old))} are replaced by the calibrated "
                           "category mixes", UserWarning, stacklevel=2)
            out = out.drop(columns=old)
        shares = cal.set_index(cal["partner_id"].astype(str))[mix]
        by_segment = cal.groupby("segment")[mix].mean()
        overall = cal[mix].mean()
        rows = shares.reindex(out["partner_id"].astype(str)).to_numpy(dtype=float, copy=True)
        missing = pd.isna(rows).any(axis=1)
        for i in missing.nonzero()[0]:
            seg = str(out["segment"].iloc[i])
            rows[i] = (by_segment.loc[seg] if seg in by_segment.index else overall).to_numpy()
        rows = rows / rows.sum(axis=1, keepdims=True)
        for j, c in enumerate(mix):
            out[c] = rows[:, j]
        return out

    @staticmethod
    def _with_monthly_baselines(out: Any, cal: Any) -> Any:
        """``out`` with the calibration's monthly revenue and units baselines (see
        :meth:`population`)."""
        import numpy as np

        for basis, what in (("baseline_revenue", ""), ("baseline_units", "units ")):
            months = [f"{basis}_m{m:02d}" for m in range(1, 13)]
            if months[0] not in cal.columns:
                continue  # no quantities in the history: the units columns are left as they are
            old = [c for c in months if c in out.columns]
            if old:
                _warnings.warn(f"partners: the monthly {what}baseline columns are replaced by the history's last "
                               "twelve months", UserWarning, stacklevel=3)
            rows = cal.set_index(cal["partner_id"].astype(str))[months].reindex(out["partner_id"].astype(str))
            known = rows.notna().all(axis=1).to_numpy()
            if basis in out.columns:
                annual = out[basis].to_numpy(dtype=float, na_value=np.nan, copy=True)
                sums = rows.to_numpy(dtype=float).sum(axis=1)
                tol = 1e-6 if what else 0.01
                differ = known & ~np.isnan(annual) & (np.abs(annual - sums) > tol)
                if differ.any():
                    _warnings.warn(f"partners: {int(differ.sum())} annual {what}baselines differ from the last 12 "
                                   "months of the history; the months' sums replace them", UserWarning, stacklevel=3)
                annual[known] = np.nan
                out[basis] = annual
            for c in months:
                out[c] = rows[c].to_numpy(dtype=float)
        return out

    @property
    def baseline_months(self) -> List[str]:
        """The history month (``YYYY-MM``) behind each monthly baseline column, m01 … m12:
        the history's last twelve months by calendar month from the programme's first month
        (without a programme: the last twelve months, oldest first; docs/calibration.md,
        "Baselines")."""
        return list(self._core.baseline_months())

    @property
    def diagnostics(self) -> Dict[str, "pd.DataFrame"]:
        """The observed-against-fitted tables, by name (DataFrames):

        - ``segment_months``: :meth:`segment_months` (segment, month, effect, fitted,
          buying_partners, market);
        - ``churn``: :meth:`churn_curves` (segment, month, observed, fitted);
        - ``market``: per month (index ``month``, ``YYYY-MM``), the population's monthly residual
          after seasonality and trend, the market factor's path in logs (``market``);
        - ``churn_rule``: per segment (index ``segment``), the monthly hazard the silence rule
          alone gives, churned partners / months at risk (``k_rule_hazard``), next to the
          likelihood estimate of :attr:`estimates`;
        - ``residuals``: a sample of at most 20,000 log residuals of partner-months
          (``residual``, for a QQ plot);
        - ``annual``: per partner present over the whole last 12 months, its purchases over them
          (``observed``) and their fit (``fitted``: partner level, segment-month effects, noise,
          incidence)."""
        import pandas as pd

        d = self._core.diagnostics()
        return {
            "segment_months": self.segment_months(),
            "churn": self.churn_curves(),
            "market": pd.DataFrame({"market": d["market_path"]}, index=pd.Index(d["months"], name="month")),
            "churn_rule": pd.DataFrame({"k_rule_hazard": d["churn_k_rule"]}, index=pd.Index(d["segments"], name="segment")),
            "residuals": pd.DataFrame({"residual": d["residual_sample"]}, dtype=float),
            "annual": pd.DataFrame({"observed": d["annual_observed"], "fitted": d["annual_fitted"]}, dtype=float),
        }

    @property
    def warnings(self) -> List[str]:
        """What the user should know (thin segments, partners without purchases, ...)."""
        return self._core.warnings()

    #: The tables of the core's behaviour estimates, given as DataFrames by
    #: :meth:`bunching_histogram` and :meth:`bunching_sensitivity` rather than in :attr:`behaviour`.
    _BEHAVIOUR_TABLES = ("counts", "fitted", "sensitivity")

    @property
    def behaviour(self) -> Optional[Dict[str, Any]]:
        """The behaviour estimates from the past programme's thresholds as a summary of scalars
        (None without a programme, or when the history never approaches its thresholds):
        ``programme`` and its ``components``, ``notch`` (a retroactive tier), ``observations``
        (partner-periods within ``range`` of a threshold), the histogram's ``bin_width``, the
        excluded window ``below`` / ``above`` and polynomial ``degree``, the stretch ``share``
        in the window below the threshold with ``share_se``, the ``normalised`` excess mass
        with ``normalised_se``, the end-of-period ``spike`` and following ``dip`` and the
        ``pull_forward`` share with ``pull_forward_se``. The tables: :meth:`bunching_histogram`
        and :meth:`bunching_sensitivity`."""
        b = self._core.behaviour()
        if b is None:
            return None
        return {k: v for k, v in b.items() if k not in self._BEHAVIOUR_TABLES}

    def bunching_histogram(self) -> "pd.DataFrame":
        """The bunching histogram: per bin, its centre ``z`` (``volume / threshold − 1``), the
        observed partner-periods (``count``) and the fitted counterfactual
        (``counterfactual``); empty without behaviour."""
        import pandas as pd

        b = self._core.behaviour()
        if b is None:
            return pd.DataFrame({"z": [], "count": [], "counterfactual": []})
        z = [-b["range"] + (j + 0.5) * b["bin_width"] for j in range(len(b["counts"]))]
        return pd.DataFrame({"z": z, "count": b["counts"], "counterfactual": b["fitted"]})

    def bunching_sensitivity(self) -> "pd.DataFrame":
        """The stretch share at other excluded windows and polynomial degrees: per window
        (``below``, ``above``: fractions of the threshold) and ``degree``, the stretch
        ``share`` and the ``normalised`` excess mass; empty without behaviour."""
        import pandas as pd

        b = self._core.behaviour()
        return pd.DataFrame(b["sensitivity"] if b is not None else
                            {"below": [], "above": [], "degree": [], "share": [], "normalised": []})

    def segment_months(self) -> "pd.DataFrame":
        """Per segment and month: the observed segment-month effect, its seasonal + trend
        fit, buying partners, and the population's market path (DataFrame)."""
        import pandas as pd

        d = self._core.diagnostics()
        rows = []
        for g, seg in enumerate(d["segments"]):
            for t, month in enumerate(d["months"]):
                rows.append((seg, month, d["segment_effect"][g][t], d["segment_fitted"][g][t], d["buying"][g][t],
                             d["market_path"][t]))
        return pd.DataFrame(rows, columns=["segment", "month", "effect", "fitted", "buying_partners", "market"])

    def churn_curves(self) -> "pd.DataFrame":
        """Per segment and month: the share of partners present from the start still buying,
        observed and fitted (DataFrame)."""
        import pandas as pd

        d = self._core.diagnostics()
        rows = []
        for g, seg in enumerate(d["segments"]):
            for t, month in enumerate(d["months"]):
                rows.append((seg, month, d["churn_observed"][g][t], d["churn_fitted"][g][t]))
        return pd.DataFrame(rows, columns=["segment", "month", "observed", "fitted"])

    def report_html(self) -> str:
        """The fit report as one self-contained HTML page (inline SVG charts)."""
        return report_html(self)

    def report(self, path: PathLike) -> None:
        """Write the fit report (:meth:`report_html`) to ``path`` (an ``.html`` file)."""
        from .outputs import check_file_target

        target = check_file_target(path, suffixes=(".html", ".htm"))
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        try:
            tmp.write_text(report_html(self), encoding="utf-8")
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def save(self, directory: PathLike, *, force: bool = False) -> None:
        """Write the calibration folder atomically (all or nothing): ``model.toml`` (the
        estimates and SEs as comments), ``draws/draw_NNNN.toml``, ``estimates.csv``,
        ``partners_calibrated.csv``, ``diagnostics/*.csv``, ``charts/*.svg|png``,
        ``warnings.txt`` and ``report.html``. An existing non-empty folder is replaced only
        with ``force``."""
        from .outputs import write_folder

        write_folder(directory, output_files(self), force=force)

    def charts(self) -> Dict[str, str]:
        """The fit charts as SVG documents, by name."""
        return dict(self._core.chart_svgs())

    def _repr_html_(self) -> str:
        return notebook_html(self)

    def __repr__(self) -> str:
        start, months = self._core.history()
        return f"Calibration({months} months from {start}, {len(self._core.partners()['partner_id'])} partners)"


def _history_table(history: Any) -> Any:
    """The history for the core: a gzip-compressed CSV path (``.csv.gz``, as the bundled
    example's) is read here; everything else as every table input."""
    if isinstance(history, (str, os.PathLike)) and os.fspath(history).endswith(".gz"):
        import gzip

        path = os.fspath(history)
        try:
            with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
                text = f.read()
        except OSError as e:
            from .exceptions import FileError

            raise FileError(f"{path}: {e.strerror or e}", path=path) from None
        return _core.TransactionTable.from_csv_text(text, path)
    return load_transactions(history)


def calibrate(
    history: Any,
    partners: Any = None,
    *,
    churn_silent_months: int = 6,
    min_segment_partners: int = 5,
    warn_segment_partners: int = 30,
    draws: int = 100,
    bootstrap: int = 400,
    seed: int = 1,
    programme: Any = None,
    as_of: Any = None,
) -> Calibration:
    """Calibrate a demand model on a history of transaction lines (at least 13 months;
    DataFrame or CSV path, also gzip-compressed ``.csv.gz``; the settlement format) and, optionally, the partner table (for
    segments). Each warning is also issued as a ``UserWarning``.

    ``programme`` (a :class:`~rebatesim.Programme`, dict or file): the programme that was in
    force over the history; its tier thresholds give the behaviour estimates (stretch from
    bunching, pull-forward), with a warning when the history never approaches them. Its
    start also aligns the monthly baselines of :attr:`Calibration.partners` by calendar month
    (programme month 1 = the history's last month of the programme's first calendar month),
    with a warning when it starts before the history ends or more than 12 months after.
    ``as_of`` (a date or ``YYYY-MM-DD``): use the history up to that date only (whole
    months; a date inside a month drops that month, with a warning).

    Raises :class:`~rebatesim.DataError` naming the table, row and column (a history
    shorter than 13 months, a month without purchases, an unknown partner, a segment with
    too few partners) or :class:`~rebatesim.RequestError` for a bad option.
    """
    tx = _history_table(history)
    p = None if partners is None else load_partners(partners)
    prog = None if programme is None else as_programme(programme)._spec
    day = None if as_of is None else date_text(as_of)
    core = _core.calibrate(
        tx,
        p,
        _count("churn_silent_months", churn_silent_months, 1, 120),
        _count("min_segment_partners", min_segment_partners, 1, 10**9),
        _count("warn_segment_partners", warn_segment_partners, 0, 10**9),
        _count("draws", draws, 0, 100_000),
        _count("bootstrap", bootstrap, 0, 100_000),
        _count("seed", seed, 0, 2**64 - 1),
        prog,
        day,
    )
    for w in core.warnings():
        _warnings.warn(w, UserWarning, stacklevel=2)
    return Calibration(core)
