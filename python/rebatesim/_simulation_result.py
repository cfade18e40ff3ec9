"""The result of a simulation: :class:`SimulationResult` (summaries with standard errors,
per scenario, per segment, component, tier and partner, the accrual and cash schedules) and
its files (JSON, CSV, Excel). Built from the core's tables by :func:`rebatesim.simulate`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

from . import _arrow, _core, _format, _tiers
from ._display import simulation_html
from ._format import num
from ._version import __version__
from .demand import Model
from .outputs import write_excel, write_folder
from .programme import Programme

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["SimulationResult"]

PathLike = Union[str, "os.PathLike[str]"]

#: The summarised distributions (rows of :attr:`SimulationResult.summary`), as the core lists them:
#: the per-scenario outcomes but the yes/no ones (budget binds is a probability).
_OUTCOMES = [str(o["name"]) for o in _core.outcomes()
             if o["shape"] == "scenario" and o["summarised"] and o["unit"] != "flag"]
#: The outcomes with one value per scenario, as the core lists them.
_PER_SCENARIO = frozenset(str(o["name"]) for o in _core.outcomes() if o["shape"] == "scenario")
_STATS = ["mean", "sd", "p5", "p50", "p90", "p95", "p99"]


def _summary_row(s: Optional[Mapping[str, Any]]) -> Dict[str, float]:
    row: Dict[str, float] = {}
    for stat in _STATS:
        e = (s or {}).get(stat) or {}
        row[stat] = num(e.get("value"))
        row[f"{stat}_se"] = num(e.get("se"))
    pe = (s or {}).get("p_exceed")
    row["p_exceed"] = num(pe.get("value")) if pe else float("nan")
    row["p_exceed_se"] = num(pe.get("se")) if pe else float("nan")
    return row


def _records(df: Any) -> List[Dict[str, Any]]:
    """A DataFrame as JSON-ready records (index as the first field, NaN as None)."""
    out = []
    name = df.index.name or "index"
    for idx, row in df.iterrows():
        rec: Dict[str, Any] = {name: idx}
        for k, v in row.items():
            f = float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v
            rec[str(k)] = None if isinstance(f, float) and f != f else f
        out.append(rec)
    return out


def _run_frame(r: "SimulationResult") -> "pd.DataFrame":
    import pandas as pd

    rows: List[Tuple[str, Any]] = [
        ("programme", r.meta["programme"]), ("currency", r.currency), ("scenarios", r.n_scenarios),
        ("seed", r.seed), ("budget", r.budget if r.budget is not None else "none"),
        ("precision_met", "no target" if r.precision_met is None else str(r.precision_met)),
        ("segments", ", ".join(r.meta["segments"])), ("components", ", ".join(r.meta["components"])),
        ("rebatesim", __version__),
    ]
    if r.programme is not None:
        rows.insert(1, ("start", r.programme.start.isoformat()))
        rows.insert(2, ("end", r.programme.end.isoformat()))
    df = pd.DataFrame(rows, columns=["setting", "value"]).set_index("setting")
    df["value"] = df["value"].astype(str)
    return df


# What each row of :attr:`SimulationResult.summary` measures (its generic columns mean, p95 … alike).
_UNIT_KINDS = {"money": _format.MONEY, "fraction": _format.RATIO, "count": _format.NUMBER}
_OUTCOME_KINDS = {str(o["name"]): _UNIT_KINDS[str(o["unit"])] for o in _core.outcomes() if str(o["name"]) in _OUTCOMES}


class SimulationResult:
    """The result of :func:`simulate`.

    - :attr:`summary`: mean, sd, P5/P50/P90/P95/P99 of every outcome, each with its
      Monte Carlo standard error (``*_se``), and P(payout before budget > budget);
    - :attr:`payout` (array per scenario), :attr:`per_scenario` (DataFrame);
    - :meth:`by_segment`, :meth:`by_component`, :attr:`tiers`, :attr:`accrual`,
      :attr:`partners` (expected payout and probability of reaching each tier);
    - :attr:`budget_binding` (probability, se), :attr:`tier_counts` (array
      scenarios × ladders × tiers).
    """

    def __init__(self, meta: Dict[str, Any], summaries: Dict[str, Any], per_scenario: Dict[str, Any],
                 matrices: Dict[str, Any], partner_ids: List[str], programme: Optional[Programme] = None, *,
                 model: Optional[Model] = None, partner_segments: Optional[List[str]] = None) -> None:
        self.meta: Dict[str, Any] = meta
        self._summaries: Dict[str, Any] = summaries
        self._per: Dict[str, np.ndarray] = per_scenario
        self._mat: Dict[str, np.ndarray] = matrices
        self._partner_ids = partner_ids
        self._programme = programme  # None for a result built by hand
        self._model = model
        self._partner_segments = partner_segments
        # the inputs as given to rs.simulate, for manifest(): name -> (kind, value)
        self._inputs: Dict[str, Tuple[str, Any]] = {}
        # with parameter draws: per outcome, the share of its variance they add
        self._parameter_variance: Optional["pd.DataFrame"] = None

    def parameter_variance(self) -> Optional["pd.DataFrame"]:
        """With parameter draws (input uncertainty, see :func:`~rebatesim.simulate`): per
        per-scenario outcome, how much of its variance over the scenarios comes from the
        parameters (law of total variance over the scenarios grouped by draw): ``n``,
        ``draws`` (used), ``total_variance``, ``within_variance`` (demand noise given the
        parameters), ``parameter_share`` = 1 − within / total and its jackknife standard
        error ``parameter_share_se``. None for a run without parameter draws."""
        return None if self._parameter_variance is None else self._parameter_variance.copy()

    @classmethod
    def _from_core(cls, meta: Any, summaries: Any, scenarios: Any, partners: Any,
                   programme: Optional[Programme] = None, *, model: Optional[Model] = None,
                   partner_segments: Optional[List[str]] = None) -> "SimulationResult":
        """A result of the core's Arrow tables (``_core.SimResult``: meta, summaries,
        scenarios, partners): the outcomes with one value per scenario (the core's list,
        ``_core.outcomes()``) apart, every other column of both tables a matrix."""
        per = _arrow.arrays(scenarios)
        mat = {name: per.pop(name) for name in list(per) if name not in _PER_SCENARIO}
        by_partner = _arrow.arrays(partners)
        ids = [str(x) for x in by_partner.pop("partner_id")]
        mat.update(by_partner)
        groups = _arrow.summaries(summaries)
        return cls(_arrow.sorted_keys(_arrow.row(meta)), _arrow.sorted_keys(groups[0][1] if groups else {}),
                   per, mat, ids, programme,
                   model=model, partner_segments=partner_segments)

    def manifest(self) -> Dict[str, Any]:
        """The audit record of this simulation (:mod:`rebatesim.manifest`, the same record as
        ``manifest.json`` of ``rebatesim simulate --out``): rebatesim version, scenarios and
        seed, and per input (programme, partner table, model) its path, SHA-256, size and
        row count. Inputs given as DataFrames or objects are recorded by the SHA-256 of their
        CSV or canonical text when this is called; a result built by hand has no inputs."""
        from . import manifest

        inputs = {name: manifest.describe_input(kind, value) for name, (kind, value) in self._inputs.items()}
        return manifest.record("simulate", inputs, {"scenarios": self.n_scenarios, "seed": self.seed})

    # ---------------------------------------------------------------- basics
    @property
    def n_scenarios(self) -> int:
        """Number of scenarios run."""
        return int(self.meta["scenarios"])

    @property
    def seed(self) -> int:
        """The random seed."""
        return int(self.meta["seed"])

    @property
    def currency(self) -> str:
        """Currency code."""
        return str(self.meta["currency"])

    @property
    def budget(self) -> Optional[float]:
        """Programme budget, or None."""
        budget: Optional[float] = self.meta["budget"]
        return budget

    @property
    def precision_met(self) -> Optional[bool]:
        """Whether the precision target was met (None without one)."""
        met: Optional[bool] = self.meta["precision_met"]
        return met

    @property
    def payout(self) -> np.ndarray:
        """Total payout (after the budget) per scenario."""
        return self._per["payout"].copy()

    @property
    def per_scenario(self) -> "pd.DataFrame":
        """One row per scenario: payout (before/after budget), budget_binds, revenue
        (with and without the programme), incremental revenue and margin, ROI,
        deadweight share, stretches."""
        import pandas as pd

        df = pd.DataFrame({k: v for k, v in self._per.items()})
        df.index.name = "scenario"
        return df

    @property
    def summary(self) -> "pd.DataFrame":
        """Summary statistics of every outcome with their standard errors."""
        import pandas as pd

        rows = {name: _summary_row(self._summaries.get(name)) for name in _OUTCOMES}
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "outcome"
        return df

    @property
    def budget_binding(self) -> Tuple[float, float]:
        """(probability that the budget binds, its standard error)."""
        b = self._summaries["budget_binding"]
        return (num(b["value"]), num(b["se"]))

    def _by(self, key: str, names: List[str]) -> "pd.DataFrame":
        import pandas as pd

        m = self._mat[key]
        n = max(self.n_scenarios, 1)
        sd = m.std(axis=0, ddof=1) if self.n_scenarios > 1 else np.full(len(names), np.nan)
        return pd.DataFrame({"mean": m.mean(axis=0), "se": sd / np.sqrt(n), "p95": np.percentile(m, 95, axis=0) if len(m) else np.nan}, index=pd.Index(names))

    def _by_finite(self, key: str, names: List[str]) -> "pd.DataFrame":
        """As :meth:`_by` over the finite values of each column only (a ratio is NaN in a
        scenario where its segment is paid nothing; the summaries of the totals leave such
        scenarios out the same way)."""
        import pandas as pd

        m = self._mat[key]
        rows = []
        for j in range(len(names)):
            x = m[:, j][np.isfinite(m[:, j])] if len(m) else np.zeros(0)
            n = len(x)
            rows.append({
                "mean": x.mean() if n else np.nan,
                "se": x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                "p95": np.percentile(x, 95) if n else np.nan,
            })
        return pd.DataFrame(rows, columns=["mean", "se", "p95"], index=pd.Index(names))

    def by_segment(self) -> "pd.DataFrame":
        """Per segment, mean (with standard error ``*_se``) and P95 over the scenarios of:
        payout (after the budget), revenue with the programme and without it
        (``revenue_counterfactual``), incremental revenue and margin, the payout the
        programme would make on the counterfactual purchases (``payout_counterfactual``),
        ROI and deadweight share. Each is defined on the segment's figures as the total
        is (ROI = (incremental margin − payout) / payout; deadweight share =
        min(payout counterfactual, payout) / payout, both before the budget cut); the additive ones add up to the
        totals. ROI and deadweight share are NaN in a scenario where the segment is paid
        nothing; such scenarios are left out of their mean.

        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "year", 1,
        ...                      [rs.volume("vol", [(50_000, "2%")])], segments=["a", "b"])
        >>> pop = rs.Population.from_csv(__import__("pandas").DataFrame({
        ...     "partner_id": ["A1", "B1"], "segment": ["a", "b"],
        ...     "baseline_revenue": [120_000.0, 60_000.0], "margin_rate": [0.3, 0.1]}))
        >>> seg = rs.simulate(p, pop, {"behaviour": {"uplift": {"elasticity": 5}}},
        ...                   scenarios=4, progress=False).by_segment()
        >>> seg[["payout_mean", "incremental_margin_mean", "roi_mean", "deadweight_share_mean"]].round(4)
                 payout_mean  incremental_margin_mean  roi_mean  deadweight_share_mean
        segment
        a             2640.0                   3600.0    0.3636                 0.9091
        b             1320.0                    600.0   -0.5455                 0.9091
        """
        segs = list(self.meta["segments"])
        parts: List[Any] = [
            self._by("segment_payout", segs).add_prefix("payout_"),
            self._by("segment_revenue", segs).add_prefix("revenue_"),
        ]
        for key in ("revenue_counterfactual", "incremental_revenue", "incremental_margin", "payout_counterfactual"):
            parts.append(self._by(f"segment_{key}", segs).add_prefix(f"{key}_"))
        for key in ("roi", "deadweight_share"):
            parts.append(self._by_finite(f"segment_{key}", segs).add_prefix(f"{key}_"))
        out: "pd.DataFrame" = parts[0].join(parts[1:])
        out.index.name = "segment"
        return out

    def by_component(self) -> "pd.DataFrame":
        """Mean payout per component (with standard error and P95)."""
        out = self._by("component_payout", list(self.meta["components"])).add_prefix("payout_")
        out.index.name = "component"
        return out

    @property
    def tier_counts(self) -> np.ndarray:
        """Partners per tier: array scenarios × ladders × (max tiers + 1); tier 0 is
        below the first threshold; ladders in :attr:`meta` ``["ladders"]`` order."""
        ladders = self.meta["ladders"]
        flat = self._mat["tier_counts"]
        width = max((ladder["tiers"] for ladder in ladders), default=0) + 1
        out = np.zeros((self.n_scenarios, len(ladders), width), dtype=np.int64)
        off = 0
        for j, ladder in enumerate(ladders):
            out[:, j, : ladder["tiers"] + 1] = flat[:, off : off + ladder["tiers"] + 1]
            off += ladder["tiers"] + 1
        return out

    @property
    def tiers(self) -> "pd.DataFrame":
        """Partners in each tier of each ladder (tier 0: below the first threshold):
        mean over scenarios with its standard error, P5 and P95, and ``label`` (the
        ladder's segment when it applies to one segment, else the component's name)."""
        import pandas as pd

        rows = []
        counts = self.tier_counts
        n = self.n_scenarios
        labels = _tiers.ladder_labels(self._programme, self.meta["ladders"])
        for j, ladder in enumerate(self.meta["ladders"]):
            for t in range(ladder["tiers"] + 1):
                x = counts[:, j, t].astype(np.float64)
                rows.append({
                    "component": ladder["component"], "tier": t,
                    "mean_partners": x.mean() if n else np.nan,
                    "mean_partners_se": x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                    "p5": np.percentile(x, 5) if n else np.nan,
                    "p95": np.percentile(x, 95) if n else np.nan,
                    "label": labels[j],
                })
        return pd.DataFrame(rows, columns=["component", "tier", "mean_partners", "mean_partners_se", "p5", "p95", "label"])

    def tiers_by_segment(self) -> "pd.DataFrame":
        """Tier attainment per ladder and segment: for each ladder, each segment in its
        scope and each tier (0: below tier 1), the expected number of the segment's
        partners whose highest tier reached is that tier (``partners``), their share of
        the segment's partners in the ladder (``share``) and the tier's threshold
        (``threshold``: the lower bound, as the programme writes it; growth in percent).
        A ladder shared by several segments gets one block of rows per segment.

        Computed from each partner's probability of reaching each tier
        (:attr:`partners`), so the expected counts are exact means over the scenarios and
        add up, over the segments, to :attr:`tiers`' ``mean_partners``; the engine keeps
        no per-scenario counts by segment, so there is no standard error or percentile
        here (:attr:`tiers` has them per ladder).

        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "year", 1,
        ...                      [rs.volume("vol", [(50_000, "1%"), (150_000, "2%")])], segments=["a", "b"])
        >>> pop = rs.Population.synthetic({"a": {"count": 40, "median_baseline": 60_000},
        ...                                "b": {"count": 40, "median_baseline": 160_000}}, seed=1)
        >>> t = rs.simulate(p, pop, {"noise": {"sigma": 0.2}}, scenarios=50, progress=False).tiers_by_segment()
        >>> list(t.columns)
        ['component', 'segment', 'tier', 'threshold', 'partners', 'share']
        >>> t.groupby("segment")["partners"].sum().round(6).tolist()
        [40.0, 40.0]
        """
        return _tiers.attainment_by_segment(self.meta, _tiers.ladder_info(self._programme, self.meta["ladders"]),
                                            self._partner_ids, self._partner_segments,
                                            self._mat["partner_tier_probability"])

    @property
    def accrual(self) -> "pd.DataFrame":
        """Mean accrual per programme month and mean cash paid per month."""
        import pandas as pd

        acc = self._mat["accrual"].mean(axis=0) if self.n_scenarios else np.zeros(0)
        cash = self._mat["cash"].mean(axis=0) if self.n_scenarios else np.zeros(0)
        n = max(len(acc), len(cash))
        a = np.full(n, np.nan)
        a[: len(acc)] = acc
        c = np.full(n, np.nan)
        c[: len(cash)] = cash
        df = pd.DataFrame({"month": np.arange(1, n + 1), "accrual": a, "cash": c})
        return df

    @property
    def programme(self) -> Optional[Programme]:
        """The programme simulated (None for a result built by hand); its name is
        :attr:`programme_name`."""
        return self._programme

    @property
    def programme_name(self) -> str:
        """The programme's name (as :attr:`Forecast.programme_name <rebatesim.Forecast.programme_name>`)."""
        return str(self.meta["programme"])

    @property
    def model(self) -> Optional[Model]:
        """The demand model simulated (None for a result built by hand), as run: without
        the settings of segments the population does not have."""
        return self._model

    def _month_labels(self, n: int) -> List[str]:
        """``YYYY-MM`` of the programme months from the start (``M1``… without a programme)."""
        if self._programme is None:
            return [f"M{i + 1}" for i in range(n)]
        start = self._programme.start
        out = []
        for i in range(n):
            y, m = divmod(start.month - 1 + i, 12)
            out.append(f"{start.year + y:04d}-{m + 1:02d}")
        return out

    def _schedule(self, key: str) -> "pd.DataFrame":
        import pandas as pd

        m = np.ascontiguousarray(self._mat[key], dtype=np.float64)
        b = _core.cumulative_bands(m)
        cols = ["month_mean", "month_mean_se", "mean", "mean_se", "p10", "p25", "p50", "p75", "p90",
                "p10_se", "p25_se", "p50_se", "p75_se", "p90_se"]
        df = pd.DataFrame({c: b[c] for c in cols}, index=pd.Index(self._month_labels(m.shape[1]), name="month"))
        return df.rename(columns={"month_mean": "in_month", "month_mean_se": "in_month_se"})

    def accrual_schedule(self) -> "pd.DataFrame":
        """The accrual profile before the year: per programme month (index ``YYYY-MM``),
        the expected liability accrued in the month (``in_month``) and to date at its end
        (``mean``), and the P10/P25/P50/P75/P90 of the amount to date across scenarios,
        each with its Monte Carlo standard error (``*_se``). Each period's payout (after
        the budget) is accrued over its months in proportion to their revenue.

        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
        ...                      [rs.volume("vol", [(20_000, "1%"), (40_000, "2%")])], segments=["s"])
        >>> pop = rs.Population.synthetic({"s": {"count": 50, "median_baseline": 100_000}}, seed=1)
        >>> a = rs.simulate(p, pop, {"noise": {"sigma": 0.2}}, scenarios=50, progress=False).accrual_schedule()
        >>> list(a.index[:2]), list(a.columns[:4])
        (['2027-01', '2027-02'], ['in_month', 'in_month_se', 'mean', 'mean_se'])
        >>> bool((a["p10"] <= a["p90"]).all())
        True
        """
        return self._schedule("accrual")

    def cash_schedule(self) -> "pd.DataFrame":
        """The cash schedule: per month from the programme start to the last payment
        date, the expected cash paid in the month (``in_month``) and to date (``mean``),
        and P10–P90 of the cash paid to date, each with its standard error (``*_se``).

        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
        ...                      [rs.volume("vol", [(20_000, "1%")])], segments=["s"])
        >>> pop = rs.Population.synthetic({"s": {"count": 50, "median_baseline": 100_000}}, seed=1)
        >>> r = rs.simulate(p, pop, None, scenarios=20, progress=False)
        >>> c = r.cash_schedule()
        >>> bool(abs(c["mean"].iloc[-1] - r.payout.mean()) < 1e-6 * r.payout.mean())
        True
        """
        return self._schedule("cash")

    @property
    def partners(self) -> "pd.DataFrame":
        """Per partner: expected payout (after and before the budget) and the
        probability of reaching each tier of each ladder (``p_<component>_t<k>``).

        The expected payouts are means over the scenarios, not amounts anyone pays, and
        are left unrounded here (the CSV and Excel files round them to the currency's minor
        unit, as every money column). Under a binding budget each scenario's cut is applied
        pro rata without settlement's allocation to the cent (largest remainder), so a
        partner's expected payout after the budget can differ from the mean of what
        settlement would pay in the same scenarios by up to about one minor unit."""
        import pandas as pd

        df = pd.DataFrame({
            "partner_id": self._partner_ids,
            "expected_payout": self._mat["partner_expected_payout"],
            "expected_payout_before_budget": self._mat["partner_expected_payout_before_budget"],
        })
        probs = self._mat["partner_tier_probability"]
        off = 0
        for ladder in self.meta["ladders"]:
            for t in range(1, ladder["tiers"] + 1):
                df[f"p_{ladder['component']}_t{t}"] = probs[:, off + t - 1]
            off += ladder["tiers"]
        return df

    def to_dict(self) -> Dict[str, Any]:
        """Metadata, summaries and the monthly accrual and cash schedules as a
        JSON-ready dict."""
        return {
            "meta": self.meta,
            "summary": self._summaries,
            "accrual_schedule": _records(self.accrual_schedule()),
            "cash_schedule": _records(self.cash_schedule()),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON: money rounded to the currency's minor unit, ratios and
        probabilities to 6 decimal places, NaN as null (:mod:`rebatesim._format`)."""
        return _format.json_text(self.to_dict(), self._decimals)

    @property
    def _decimals(self) -> int:
        """Decimal places of the currency's minor unit (the programme's ``decimals``)."""
        return self._programme.decimals if self._programme is not None else _format.DEFAULT_DECIMALS

    def _table_specs(self) -> Dict[str, Tuple[Any, Dict[str, Any]]]:
        """Every table of the CSV files and the workbook with how its numbers are written
        (:func:`rebatesim._format.csv_text`): name → (DataFrame, options)."""
        return {
            "summary": (self.summary, {"rows": _OUTCOME_KINDS.get}),
            "scenarios": (self.per_scenario, {}),
            "segments": (self.by_segment(), {}),
            "components": (self.by_component(), {}),
            "tiers": (self.tiers, {"default": _format.NUMBER, "index": False}),
            "accrual": (self.accrual, {"index": False}),
            "accrual_schedule": (self.accrual_schedule(), {"default": _format.MONEY}),
            "cash_schedule": (self.cash_schedule(), {"default": _format.MONEY}),
            "partners": (self.partners, {"index": False}),
        }

    def _csv_files(self) -> Dict[str, str]:
        files = {f"{name}.csv": _format.csv_text(df, self._decimals, **opts)
                 for name, (df, opts) in self._table_specs().items()}
        files["summary.json"] = self.to_json() + "\n"
        return files

    def to_csv(self, directory: PathLike, *, force: bool = False) -> None:
        """Write summary.csv, scenarios.csv, segments.csv, components.csv, tiers.csv,
        accrual.csv, accrual_schedule.csv, cash_schedule.csv, partners.csv and
        summary.json into ``directory``, atomically."""
        write_folder(directory, self._csv_files(), force=force)

    def excel_sheets(self) -> Dict[str, Any]:
        """The DataFrames of :meth:`to_excel`, by sheet name."""
        return {name: df for name, (df, _) in self._excel_specs().items()}

    def _excel_specs(self) -> Dict[str, Tuple[Any, Dict[str, Any]]]:
        t = self._table_specs()
        cur = self.currency

        def fan(what: str) -> Dict[str, Any]:
            return {"type": "line", "x": "month", "y": ["p10", "mean", "p90"], "title": f"{what} to date",
                    "y_title": cur}

        kw = {"summary": t["summary"][1],
              "accrual_schedule": {**t["accrual_schedule"][1], "chart": fan("Accrued liability")},
              "cash_schedule": {**t["cash_schedule"][1], "chart": fan("Cash paid")},
              "tiers": {"default": _format.NUMBER},
              "distribution": {"kinds": {"from": _format.MONEY, "to": _format.MONEY, "scenarios": _format.INTEGER,
                                         "share": _format.RATIO},
                               "chart": {"type": "column", "x": "payout", "y": ["share"],
                                         "title": "Payout distribution (share of scenarios)", "y_title": "share",
                                         "x_title": f"total payout ({cur})"}}}
        return {name: (df, kw.get(name, {})) for name, df in self._excel_frames().items()}

    def payout_histogram(self, bins: int = 20) -> "pd.DataFrame":
        """The payout distribution as a table: ``bins`` equal bins of the total payout
        (index ``payout``: the bin as text; ``from``, ``to``, ``scenarios``, ``share``),
        the payouts held at a binding budget in a row of their own (``held at the budget``),
        as the payout histogram chart draws them. The Excel sheet ``distribution``.

        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(20_000, "2%")])],
        ...                      segments=["s"], budget=30_000)
        >>> pop = rs.Population.synthetic({"s": {"count": 20, "median_baseline": 80_000}}, seed=1)
        >>> h = rs.simulate(p, pop, {"noise": {"sigma": 0.3}, "market": {"sigma": 0.2}}, scenarios=200,
        ...                 progress=False).payout_histogram()
        >>> round(float(h["share"].sum()), 9), h.index[-1]
        (1.0, 'held at the budget')
        """
        import pandas as pd

        x = self._per["payout"]
        n = len(x)
        held = np.zeros(n, dtype=bool)
        if self.budget is not None:
            held = self._per["payout_before_budget"] > self.budget
        rest = x[~held]
        rows = []
        if len(rest):
            counts, edges = np.histogram(rest, bins=max(int(bins), 1))
            for k, c in enumerate(counts):
                rows.append((f"{edges[k]:,.0f} – {edges[k + 1]:,.0f}", edges[k], edges[k + 1], int(c)))
        if held.any():
            rows.append(("held at the budget", float(self.budget or 0.0), float(self.budget or 0.0), int(held.sum())))
        df = pd.DataFrame([(lo, hi, c, c / n) for _, lo, hi, c in rows], columns=["from", "to", "scenarios", "share"],
                          index=pd.Index([r[0] for r in rows], name="payout"))
        return df

    def _excel_frames(self) -> Dict[str, Any]:
        return {
            "summary": self.summary,
            "distribution": self.payout_histogram(),
            "segments": self.by_segment(),
            "components": self.by_component(),
            "tiers": self.tiers.set_index(["component", "tier"]),
            "accrual_schedule": self.accrual_schedule(),
            "cash_schedule": self.cash_schedule(),
            "partners": self.partners.set_index("partner_id"),
            "scenarios": self.per_scenario,
            "run": _run_frame(self),
        }

    def to_excel(self, path: PathLike) -> None:
        """Write an Excel workbook (``.xlsx``, XlsxWriter) with the sheets summary,
        distribution (with a native chart; the schedules have one too), segments, components, tiers, accrual_schedule, cash_schedule, partners,
        scenarios and run (the run's settings), atomically (a temporary file in the same
        folder, then renamed). Numbers are written as the CSV files write them (money rounded
        to the currency's minor unit and shown as ``#,##0.00``, ratios to 6 places, see
        :mod:`rebatesim._format`), and every text cell as text, never as a formula.

        >>> import os, tempfile
        >>> import pandas as pd
        >>> import rebatesim as rs
        >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
        ...                      [rs.volume("vol", [(20_000, "1%")])], segments=["s"])
        >>> pop = rs.Population.synthetic({"s": {"count": 20, "median_baseline": 100_000}}, seed=1)
        >>> r = rs.simulate(p, pop, {"noise": {"sigma": 0.2}}, scenarios=20, progress=False)
        >>> path = os.path.join(tempfile.mkdtemp(), "forecast.xlsx")
        >>> r.to_excel(path)
        >>> back = pd.read_excel(path, sheet_name=None, index_col=0)
        >>> sorted(back)[:4]
        ['accrual_schedule', 'cash_schedule', 'components', 'distribution']
        >>> bool(back["summary"].loc["payout", "mean"] == round(r.summary.loc["payout", "mean"], 2))  # to the cent
        True
        """
        write_excel(path, self._excel_specs(), self._decimals)

    def _est(self, outcome: str, stat: str = "mean") -> str:
        e = (self._summaries.get(outcome) or {}).get(stat) or {}
        v, se = e.get("value"), e.get("se")
        if v is None:
            return "n/a"
        return f"{v:,.0f} ± {se:,.0f}" if se is not None else f"{v:,.0f}"

    def __repr__(self) -> str:
        return (
            f"<SimulationResult {self.meta['programme']!r}: {self.n_scenarios:,} scenarios, "
            f"mean payout {self._est('payout')} {self.currency}, P95 {self._est('payout', 'p95')}>"
        )

    def _repr_html_(self) -> str:
        return simulation_html(self)

