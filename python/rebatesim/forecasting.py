"""Liability forecasting from actuals to date: what the programme will pay, what to accrue now.

:func:`forecast` takes the actual transactions up to ``as_of``, updates what the demand
model believes about the market, the segments and every partner from them, simulates only the
rest of the programme (settled with the programme's exact rules on actual-to-date plus the
simulated remainder) and returns a :class:`Forecast`: the final payout distribution, the
IFRS 15 / ASC 606 estimates, journal-ready accrual lines with the cumulative catch-up, the
watch list, P(budget binds) and the cash-out timeline; and the month-end close: the
reconciliation, the liability roll-forward, the GL journal and the audit manifest.

>>> import pandas as pd
>>> import rebatesim as rs
>>> p = rs.Programme.new("Year", "EUR", "2027-01-01", "year", 1,
...                      [rs.volume("vol", [(100_000, "2%"), (200_000, "4%")])], segments=["s"])
>>> partners = pd.DataFrame({"partner_id": ["A"], "segment": ["s"], "baseline_revenue": [240_000]})
>>> actuals = pd.DataFrame({"partner_id": ["A"] * 6, "date": [f"2027-{m:02d}-15" for m in range(1, 7)],
...                         "quantity": [1] * 6, "revenue": [20_000] * 6})
>>> f = rs.forecast(p, partners, None, actuals, as_of="2027-06-30", scenarios=10, progress=False)
>>> round(f.estimates.expected_value, 2)
9600.0
>>> f.journal()[["partner_id", "component", "required", "prior", "movement", "catch_up"]].to_dict("records")
[{'partner_id': 'A', 'component': 'vol', 'required': 4800.0, 'prior': 0.0, 'movement': 4800.0, 'catch_up': 4000.0}]
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from . import _arrow, _checks, _core, _draws, _executor, _format
from ._demand_warning import warn_if_riskless
from ._display import forecast_html
from ._format import num
from ._inputs import as_model, as_population, as_programme, date_text, load_prior_accruals, load_transactions
from ._run import with_progress
from .exceptions import RequestError
from .outputs import write_excel, write_folder

__all__ = ["forecast", "Forecast", "Estimates", "load_prior_accruals"]

PathLike = Union[str, "os.PathLike[str]"]

_DIST = ["mean", "sd", "p5", "p50", "p90", "p95", "most_likely", "constrained"]

# the tables written with their index
_INDEXED = ("summary", "estimates", "partners", "segments", "components", "reconciliation", "rollforward")

# the reconciliation and roll-forward columns of the core's ledger rows
_LEDGER = ["settled_paid", "settled_payable", "closed_adjustment", "open_expected", "open_constrained", "open_accrued", "required",
           "required_liability", "booked_before", "movement", "run_rate", "catch_up", "change_in_estimate",
           "opening_liability", "paid_in_month", "closing_liability"]


def forecast(
    programme: Any,
    population: Any,
    model: Any,
    actuals: Any,
    *,
    as_of: Any,
    scenarios: int = 1000,
    seed: int = 0,
    confidence: float = 0.9,
    prior_accruals: Any = None,
    threads: Optional[int] = None,
    progress: Any = True,
    executor: Any = None,
    parameter_uncertainty: Any = None,
) -> "Forecast":
    """Forecast the programme's final payout from the ``actuals`` up to ``as_of``.

    ``programme``: Programme, dict or path; ``population``: Population, DataFrame or CSV
    path (the partner table); ``model``: Model, dict, path or None; ``actuals``: DataFrame or
    CSV path of transactions dated up to ``as_of`` (``partner_id``, ``date``, ``quantity``,
    ``revenue``, optional ``category``, ``order_id``; returns negative); ``as_of``: a date or
    ``"YYYY-MM-DD"`` inside the programme (a month end is exact; a mid-month date simulates
    the rest of that month pro rata by days); ``confidence``: of the constrained estimate (the
    amount not exceeded with that probability); ``prior_accruals``: DataFrame or CSV path
    (``partner_id``, ``component``, ``amount``) of what was accrued before.

    Results are bit-identical for any ``threads`` (default all cores). ``progress`` shows a
    tqdm bar (True), nothing (False) or calls ``progress(done, total)``. The GIL is released
    while simulating and Ctrl-C stops promptly with KeyboardInterrupt. Bad input raises
    :class:`~rebatesim.DataError` naming the table row (actuals after ``as_of``, unknown
    partners, negative cumulative volumes after returns, prior accruals for unknown partners or
    components) or :class:`~rebatesim.RequestError` (``as_of`` outside the programme).

    ``executor``: any ``concurrent.futures`` executor (a ProcessPoolExecutor, a Dask
    ``Client.get_executor()``): the conditioned run's scenarios are cut into ranges run on its
    workers (actuals and prior accruals shipped once as exact bytes) and folded in scenario
    order, bit-identical to a local run (``docs/scale-out.md``).

    ``model`` may be a :class:`~rebatesim.Calibration`; ``parameter_uncertainty`` as in
    :func:`~rebatesim.simulate` (by default a calibrated model's parameter draws): each
    scenario runs under one draw, conditioned on the actuals with that draw's parameters, so
    the forecast's intervals include what the calibration could not pin down.

    >>> import rebatesim as rs
    >>> f = rs.forecast(rs.example_path("programme.toml"), rs.example_path("partners.csv"),
    ...                 rs.example_path("model.toml"), rs.example_path("transactions.csv"),
    ...                 as_of="2027-12-31", scenarios=4, progress=False)
    >>> bool(f.payout.std() == 0)   # at the end of the year nothing is left to simulate
    True
    """
    prog = as_programme(programme)
    pop = as_population(population)
    given, draws = _draws.resolve(model, parameter_uncertainty)
    mod = as_model(given)
    warn_if_riskless(None if given is None else mod)
    tx = load_transactions(actuals, prog)
    prior = None if prior_accruals is None else load_prior_accruals(prior_accruals)
    n, sd, th = _checks.scenarios(scenarios), _checks.seed(seed), _checks.threads(threads)
    conf = _checks.fraction("confidence", confidence)
    day = date_text(as_of)
    ex = _executor.check(executor)
    if ex is not None:
        options = dict(as_of=day, scenarios=n, seed=sd, threads=th, confidence=conf)
        core = with_progress(progress, f"forecast {prog.name}", lambda callback: _executor.forecast(
            ex, prog, pop, mod, tx, prior, options, callback, draws))
    else:
        core = with_progress(progress, f"forecast {prog.name}", lambda callback: _core.forecast(
            prog._spec, pop._core, mod._core, tx, day, prior_accruals=prior,
            scenarios=n, seed=sd, threads=th, confidence=conf, progress=callback,
            draws=[d._core for d in draws] or None,
        ))
    result = Forecast(core, decimals=prog.decimals)
    result._inputs = {"programme": ("programme", programme), "partners": ("partners", population),
                      "model": ("model", model), "actuals": ("actuals", actuals),
                      "prior_accruals": ("prior_accruals", prior_accruals)}
    return result


class Estimates:
    """The three IFRS 15 / ASC 606 estimates of the programme's total payout: ``expected_value``,
    ``most_likely`` and ``constrained`` (at ``confidence``), each with its Monte Carlo standard
    error (``*_se``), and ``method``: how each is computed, in words, for the audit file."""

    def __init__(self, d: Dict[str, Any]) -> None:
        self.expected_value = num(d["expected_value"]["value"])
        self.expected_value_se = num(d["expected_value"]["se"])
        self.most_likely = num(d["most_likely"]["value"])
        self.most_likely_se = num(d["most_likely"]["se"])
        self.constrained = num(d["constrained"]["value"])
        self.constrained_se = num(d["constrained"]["se"])
        self.confidence = float(d["confidence"])
        self.method: str = d["method"]

    def to_frame(self) -> Any:
        """The estimates as a DataFrame (estimate, value, se, method)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "value": [self.expected_value, self.most_likely, self.constrained],
                "se": [self.expected_value_se, self.most_likely_se, self.constrained_se],
            },
            index=pd.Index(["expected_value", "most_likely", f"constrained_{self.confidence:g}"], name="estimate"),
        )

    def __repr__(self) -> str:
        return (
            f"<Estimates: expected value {self.expected_value:,.2f} ± {self.expected_value_se:,.2f}, "
            f"most likely {self.most_likely:,.2f}, constrained ({self.confidence:.0%}) "
            f"{self.constrained:,.2f} ± {self.constrained_se:,.2f}>"
        )


def _dist_cols(d: Dict[str, Any]) -> Dict[str, float]:
    row: Dict[str, float] = {}
    for k in _DIST:
        e = d.get(k) or {}
        row[k] = num(e.get("value"))
        row[f"{k}_se"] = num(e.get("se"))
    return row


class Forecast:
    """The result of :func:`forecast`.

    - :attr:`summary`: the final total payout's distribution (mean, P5..P95, most likely,
      constrained, each with its standard error), after and before the budget cut;
    - :attr:`estimates`: the IFRS 15 estimates with the method text;
    - :meth:`by_partner`, :meth:`by_segment`, :meth:`by_component`: breakdowns;
    - :meth:`journal`: journal-ready accrual lines (required − prior, run rate, catch-up);
    - :meth:`watch_list`: tiers, chances, shortfalls and what the next tier pays;
    - :attr:`budget_binding`: P(budget binds) = P(total before the budget cut > budget)
      with its standard error (``budget_exceedance``: its deprecated alias);
    - :meth:`reconciliation`, :meth:`rollforward`, :meth:`journal_summary`,
      :meth:`gl_journal`, :meth:`manifest`: the month-end close (``docs/close.md``);
    - :meth:`cash_schedule`: expected cash by payment date with bands;
    - :meth:`to_csv`, :meth:`to_excel`, :meth:`to_json`.
    """

    def __init__(self, core: "_core.ForecastResult", decimals: Optional[int] = None) -> None:
        self._core = core
        # the whole report as records (:attr:`_r`), built on first use: for 10⁵ partners it is
        # most of a forecast's fixed cost, and `payout`, `journal()`... do not need it
        self._report: Optional[Dict[str, Any]] = None
        # the currency's minor unit, for the files (money at that scale)
        self._decimals = _format.DEFAULT_DECIMALS if decimals is None else int(decimals)
        # the inputs as given (name → (kind, value)), for the manifest
        self._inputs: Dict[str, Tuple[str, Any]] = {}

    @property
    def _r(self) -> Dict[str, Any]:
        """The report (estimates, breakdowns, journal, watch list, cash schedule) as records,
        built by the core on first use and kept."""
        if self._report is None:
            [self._report] = _arrow.records(self._core.report())
        return self._report

    # ----------------------------------------------------------------- metadata
    @property
    def parameter_draws(self) -> int:
        """The number of parameter draws of the model the scenarios ran under (input
        uncertainty; 0: the model alone)."""
        return int(self._core.parameter_draws())

    @property
    def as_of(self) -> _dt.date:
        """The forecast date."""
        return _dt.date.fromisoformat(self._r["as_of"])

    @property
    def currency(self) -> str:
        """Currency code."""
        return str(self._r["currency"])

    @property
    def programme(self) -> str:
        """Programme name (kept as it was; :attr:`programme_name` is the same, the name
        :class:`~rebatesim.SimulationResult` uses, whose ``programme`` is the Programme)."""
        return str(self._r["programme"])

    @property
    def programme_name(self) -> str:
        """Programme name (as :attr:`SimulationResult.programme_name <rebatesim.SimulationResult.programme_name>`)."""
        return str(self._r["programme"])

    @property
    def n_scenarios(self) -> int:
        """Number of scenarios."""
        return int(self._r["scenarios"])

    @property
    def seed(self) -> int:
        """Seed."""
        return int(self._r["seed"])

    @property
    def confidence(self) -> float:
        """Confidence of the constrained estimates."""
        return float(self._r["confidence"])

    @property
    def budget(self) -> Optional[float]:
        """The programme budget, if any."""
        budget: Optional[float] = self._r["budget"]
        return budget

    @property
    def months_observed(self) -> int:
        """Complete programme months of actuals."""
        return int(self._r["months_observed"])

    @property
    def partial_month(self) -> float:
        """Share of the month after them that is simulated (1 when ``as_of`` is a month end)."""
        return float(self._r["partial_month"])

    # ----------------------------------------------------------------- results
    @property
    def payout(self) -> np.ndarray:
        """Final total payout per scenario (after caps, minimum payout and budget)."""
        return _arrow.arrays(self._core.totals())["total_payout"]

    @property
    def payout_before_budget(self) -> np.ndarray:
        """Final total payout per scenario before the budget cut."""
        return _arrow.arrays(self._core.totals())["total_payout_before_budget"]

    @property
    def summary(self) -> Any:
        """The total payout's distribution: rows ``payout`` (after the budget) and
        ``payout_before_budget``; columns mean, sd, p5, p50, p90, p95, most_likely,
        constrained, each with ``_se``."""
        import pandas as pd

        rows = {
            "payout": _dist_cols(self._r["total"]),
            "payout_before_budget": _dist_cols(self._r["total_before_budget"]),
        }
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "outcome"
        return df

    @property
    def estimates(self) -> Estimates:
        """The IFRS 15 / ASC 606 estimates of the total with the method stated."""
        return Estimates(self._r["estimates"])

    @property
    def budget_binding(self) -> Optional[Tuple[float, float]]:
        """P(budget binds) = P(total payout before the budget cut > budget) and its standard
        error (None without a budget): the name :attr:`SimulationResult.budget_binding` uses."""
        b = self._r["budget_binding"]
        return None if b is None else (float(b["value"]), float(b["se"]))

    @property
    def budget_exceedance(self) -> Optional[Tuple[float, float]]:
        """Deprecated alias of :attr:`budget_binding`."""
        import warnings

        warnings.warn("Forecast.budget_exceedance is deprecated: use Forecast.budget_binding (the same value)",
                      DeprecationWarning, stacklevel=2)
        return self.budget_binding

    def _rows(self, key: str, index: str) -> Any:
        import pandas as pd

        recs = []
        for r in self._r[key]:
            rec: Dict[str, Any] = {index: r["key"]}
            if r.get("segment") is not None:
                rec["segment"] = r["segment"]
            rec.update(_dist_cols(r))
            if r.get("churned") is not None:
                rec["churned"] = bool(r["churned"])
                rec["months_observed"] = int(r["months_observed"])
            recs.append(rec)
        df = pd.DataFrame.from_records(recs)
        if len(df):
            df = df.set_index(index)
        return df

    def by_partner(self) -> Any:
        """Per partner (table order): final payout distribution and estimates, whether it is
        treated as churned and how many months of actuals its own factor was updated from."""
        return self._rows("by_partner", "partner_id")

    def by_segment(self) -> Any:
        """Per segment: final payout distribution and estimates."""
        return self._rows("by_segment", "segment")

    def by_component(self) -> Any:
        """Per component: final payout distribution and estimates."""
        return self._rows("by_component", "component")

    def journal(self, include_zero: bool = False) -> Any:
        """Journal-ready accrual lines at ``as_of``, one per partner and component with
        something to book (every line with ``include_zero``): ``required`` = the settled
        closed periods + the open periods' expected amount × their volume to date / their
        expected volume; ``movement`` = required − ``prior`` (the entry to book; debit
        ``debit_account``, credit ``credit_account`` by ``amount``), of which ``run_rate``
        (the month's sales at their rate), ``catch_up`` (earlier sales of open periods
        re-rated) and ``change_in_estimate`` (earlier sales of closed periods trued up to
        their settlement); ``estimated_final`` and ``effective_rate`` (estimate ÷ expected
        final volume) for information. Definitions: ``docs/close.md``."""
        import pandas as pd

        cols = ["date", "partner_id", "segment", "component", "debit_account", "credit_account", "amount",
                "movement", "required", "prior", "run_rate", "catch_up", "change_in_estimate", "estimated_final",
                "effective_rate", "volume_to_date", "expected_final_volume", "description"]
        rows = self._r["journal"] if include_zero else [r for r in self._r["journal"] if r["movement"] != 0]
        df = pd.DataFrame.from_records(rows, columns=cols)
        df["date"] = pd.to_datetime(df["date"]).dt.date if len(df) else df["date"]
        return df

    # ----------------------------------------------------------------- the close
    @property
    def opening_date(self) -> _dt.date:
        """The roll-forward's opening date: the month end before ``as_of``'s month."""
        return _dt.date.fromisoformat(self._r["opening_date"])

    def _ledger(self, level: str, prior: Any = None) -> Any:
        import pandas as pd

        if level not in ("component", "segment", "partner"):
            raise RequestError(f"level: expected 'component', 'segment' or 'partner', found {level!r}")
        if prior is None and level == "component":
            rows = self._r["reconciliation"]
        elif prior is None:
            rows = _arrow.records(self._core.ledger(level))
        elif isinstance(prior, Forecast):
            rows = _arrow.records(self._core.ledger(level, previous=prior._core))
        else:
            rows = _arrow.records(self._core.ledger(level, prior_accruals=load_prior_accruals(prior)))
        keys = {"component": ["component"], "segment": ["segment", "component"],
                "partner": ["partner_id", "segment", "component"]}[level]
        recs = []
        for r in rows:
            rec: Dict[str, Any] = {k: r.get(k) for k in keys}
            for k in _LEDGER:
                v = r.get(k)
                rec[k] = float("nan") if v is None else float(v)
            recs.append(rec)
        df = pd.DataFrame.from_records(recs, columns=keys + _LEDGER)
        if level == "segment":
            df["segment"] = df["segment"].fillna("total")
            df.loc[df["component"] == "total", "component"] = "total"
        return df.set_index(keys)

    def reconciliation(self, level: str = "component", prior: Any = None) -> Any:
        """What the required liability at ``as_of`` is made of, per component and in total
        (``level="segment"`` or ``"partner"`` for finer rows): ``settled_paid`` (closed periods,
        paid), ``settled_payable`` (closed, not yet due), ``closed_adjustment`` (what the
        programme-level rules are still expected to move on the closed periods),
        ``open_expected`` and
        ``open_constrained`` (the open periods' expected value and constrained amount, at the
        forecast's confidence), ``open_accrued`` (the open periods' amount on sales to date),
        ``required`` (expense to date = settled + closed adjustment + open accrued),
        ``required_liability`` (= settled payable + closed adjustment + open accrued) and
        ``booked_before``. ``prior``: as in
        :meth:`rollforward`. Definitions: ``docs/close.md``."""
        df = self._ledger(level, prior)
        return df[["settled_paid", "settled_payable", "closed_adjustment", "open_expected", "open_constrained",
                   "open_accrued", "required", "required_liability", "booked_before"]]

    def rollforward(self, prior: Any = None, level: str = "component") -> Any:
        """The liability roll-forward from the opening date (:attr:`opening_date`) to
        ``as_of``, per component and in total: ``opening_liability`` + ``movement``
        (= ``run_rate`` + ``catch_up`` + ``change_in_estimate``) − ``paid_in_month`` =
        ``closing_liability``, with ``required`` and ``booked_before``.

        ``prior``: what was booked before — None (the forecast's own ``prior_accruals``), a
        prior accruals DataFrame or CSV path (``partner_id``, ``component``, ``amount``), or the
        previous month end's :class:`Forecast` (what it required is what was booked; it must
        be dated on :attr:`opening_date`). Unknown partners or components in a table raise
        :class:`~rebatesim.DataError` naming the row."""
        df = self._ledger(level, prior)
        return df[["opening_liability", "booked_before", "run_rate", "catch_up", "change_in_estimate", "movement",
                   "required", "paid_in_month", "closing_liability"]]

    def journal_summary(self, by_segment: bool = False, include_zero: bool = False) -> Any:
        """The summary journal entry per component (per segment and component with
        ``by_segment``): the sums of the partner lines of :meth:`journal`; entries with
        nothing to book are left out unless ``include_zero``."""
        import pandas as pd

        rows: Any = self._r["journal_summary"] if not by_segment else _arrow.records(self._core.journal_summary(True))
        cols = ["date", "segment", "component", "debit_account", "credit_account", "amount", "movement", "required",
                "prior", "run_rate", "catch_up", "change_in_estimate", "lines", "description"]
        recs = []
        for r in rows:
            rec = {k: r.get(k) for k in cols}
            for k in ("amount", "movement", "required", "prior", "run_rate", "catch_up", "change_in_estimate"):
                rec[k] = float(rec[k])
            if include_zero or rec["movement"] != 0:
                recs.append(rec)
        df = pd.DataFrame.from_records(recs, columns=cols)
        if not by_segment:
            df = df.drop(columns=["segment"])
        df["date"] = pd.to_datetime(df["date"]).dt.date if len(df) else df["date"]
        return df

    def gl_journal(self, mapping: Any, *, layout: str = "generic", run_id: Optional[str] = None) -> Any:
        """A balanced general-ledger journal of the month's accrual movement: per component
        (per segment and component when the mapping gives accounts per segment) a debit to
        the rebate expense / contra-revenue account and a credit to the refund liability
        account (reversed when the movement is negative), per company code, cost centre,
        currency and posting date (``as_of``); reference = ``run_id`` (default: a digest of
        the forecast), text = what the entry is. ``mapping``: :class:`~rebatesim.GLMapping`
        or a TOML/CSV path (:func:`~rebatesim.load_gl_mapping`); a component without an
        account raises :class:`~rebatesim.DataError` naming it. ``layout``: ``generic`` or
        ``oracle_fbdi`` (the columns of Oracle Fusion's FBDI ``GL_INTERFACE`` journal import
        template): ``docs/close.md``."""
        from .gl import gl_journal

        return gl_journal(self, mapping, layout=layout, run_id=run_id)

    def manifest(self) -> Dict[str, Any]:
        """The audit record of this forecast (:mod:`rebatesim.manifest`): rebatesim version,
        options and seed, and per input its path, SHA-256, size, row count and control totals
        (sums of revenue and quantity read, of the prior accruals' amounts). Inputs given as
        DataFrames are recorded by the SHA-256 of their CSV text when this is called."""
        from . import manifest

        inputs = {name: manifest.describe_input(kind, value) for name, (kind, value) in self._inputs.items()}
        options = {"as_of": self.as_of.isoformat(), "scenarios": self.n_scenarios, "seed": self.seed,
                   "confidence": self.confidence}
        return manifest.record("forecast", inputs, options)

    def watch_list(self) -> Any:
        """Per partner and ladder: current tier on the actuals to date, the shortfall to the
        next tier and what reaching it would pay, the probability of reaching it (with SE) and
        ``p_tier_<t>`` = P(tier ≥ t) at the end of the open period (``measure = period``) or of
        the programme (``measure = cumulative``)."""
        import pandas as pd

        recs = []
        for w in self._r["watch_list"]:
            rec = {k: w[k] for k in ("partner_id", "segment", "component", "measure", "period_label",
                                     "current_tier", "volume", "tiers", "next_tier", "next_threshold",
                                     "shortfall", "next_tier_pays", "churned")}
            nt = w.get("next_tier_probability")
            rec["next_tier_probability"] = num(nt["value"]) if nt else float("nan")
            rec["next_tier_probability_se"] = num(nt["se"]) if nt else float("nan")
            for t, p in enumerate(w["reach_probability"], start=1):
                rec[f"p_tier_{t}"] = p
            recs.append(rec)
        return pd.DataFrame.from_records(recs)

    def cash_schedule(self) -> Any:
        """Cash by payment date: the periods paid, status (``paid``, ``payable``: closed, not
        yet due, ``forecast``: open), expected amount with SE and the P5 / P50 / P95 band.
        The expected amounts sum to the expected total payout."""
        import pandas as pd

        recs = []
        for c in self._r["cash_schedule"]:
            rec = {"payment_date": _dt.date.fromisoformat(c["payment_date"]), "periods": c["periods"], "status": c["status"]}
            for k in ("mean", "p5", "p50", "p95"):
                rec[k] = num(c[k]["value"])
                rec[f"{k}_se"] = num(c[k]["se"])
            recs.append(rec)
        return pd.DataFrame.from_records(recs)

    # ----------------------------------------------------------------- output
    def to_dict(self) -> Dict[str, Any]:
        """Everything as a JSON-ready dict."""
        return self._r

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON: money rounded to the currency's minor unit, probabilities
        and rates to 6 decimal places, NaN as null (:mod:`rebatesim._format`)."""
        return _format.json_text(self._r, self._decimals)

    def _tables(self) -> Dict[str, Any]:
        return {
            "summary": self.summary,
            "estimates": self.estimates.to_frame(),
            "partners": self.by_partner(),
            "segments": self.by_segment(),
            "components": self.by_component(),
            "journal": self.journal(),
            "journal_summary": self.journal_summary(),
            "reconciliation": self.reconciliation(),
            "rollforward": self.rollforward(),
            "watch_list": self.watch_list(),
            "cash_schedule": self.cash_schedule(),
        }

    def to_csv(self, directory: PathLike, *, force: bool = False) -> None:
        """Write summary.csv, estimates.csv, partners.csv, segments.csv, components.csv,
        journal.csv, journal_summary.csv, reconciliation.csv, rollforward.csv, watch_list.csv,
        cash_schedule.csv and forecast.json into ``directory``, atomically (an existing
        non-empty folder only with ``force``)."""
        files: Dict[str, str] = {}
        for name, df in self._tables().items():
            keep_index = name in _INDEXED
            files[f"{name}.csv"] = _format.csv_text(df, self._decimals, index=keep_index, default=self._default(name))
        files["forecast.json"] = self.to_json() + "\n"
        write_folder(os.fspath(directory), files, force=force)

    def to_excel(self, path: PathLike) -> None:
        """Write one sheet per table (summary, estimates, partners, segments, components,
        journal, watch list, cash schedule) and the estimates' method to an ``.xlsx`` file,
        atomically, formatted as :meth:`SimulationResult.to_excel` formats its sheets
        (XlsxWriter)."""
        import pandas as pd

        sheets: Dict[str, Any] = {}
        for name, df in self._tables().items():
            if name not in _INDEXED:
                # a table without an index: its first column as the index (the same layout)
                df = df.set_index(df.columns[0]) if len(df.columns) else df
            sheets[name] = (df, {"default": self._default(name)})
        sheets["method"] = pd.DataFrame({"method": [self.estimates.method]}, index=pd.Index(["estimates"], name="table"))
        write_excel(path, sheets, self._decimals)

    @staticmethod
    def _default(table: str) -> Optional[str]:
        """The kind of a table's generic columns (mean, p95, value, se …): money, but in the
        watch list (volumes, tiers and probabilities, each known by name)."""
        return None if table == "watch_list" else _format.MONEY

    def __repr__(self) -> str:
        e = self.estimates
        return (
            f"<Forecast {self.programme!r} as of {self.as_of}: {self.n_scenarios:,} scenarios, "
            f"expected {e.expected_value:,.0f} ± {e.expected_value_se:,.0f} {self.currency}, "
            f"constrained ({e.confidence:.0%}) {e.constrained:,.0f}>"
        )

    def _repr_html_(self) -> str:
        return forecast_html(self)
