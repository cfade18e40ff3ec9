"""The backtest: does the payout forecast work?

:func:`backtest` draws many synthetic programme years from a demand model with known
parameters (the engine's own generative process), settles each year exactly to get what it
paid, and at every month end forecasts the year's final payout from the actuals to date with
rebatesim and with the methods rebate systems on the market use (current-tier accrual,
straight-line run rate, seasonal-naive). It reports how often the forecast's 80% and 90%
intervals contain the realised payout, and how far every method's expected-value estimate was
from it, month end by month end. Definitions: ``docs/backtest.md``.

>>> import rebatesim as rs
>>> bt = rs.backtest(rs.example_path("programme.toml", "backtest"),
...                  rs.example_path("partners.csv", "backtest"),
...                  rs.example_path("model.toml", "backtest"),
...                  years=4, scenarios=20, month_ends=[6], progress=False)
>>> list(bt.errors.columns)[:4]
['method', 'month_end', 'as_of', 'n']
>>> bt.methods
['forecast', 'current_tier', 'run_rate', 'seasonal_naive']
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, cast

import numpy as np
import pandas as pd

from . import _arrow, _checks, _core, _draws, _executor
from ._inputs import as_model, as_population, as_programme
from ._run import with_progress

__all__ = ["backtest", "BacktestResult"]


class BacktestResult:
    """What :func:`backtest` measured.

    Attributes
    ----------
    methods : list of str
        The forecasting methods, the rebatesim forecaster first.
    month_ends : list of int
        Programme months after which forecasts were made (1-based).
    as_of : list of str
        The month-end dates of the forecasts.
    realised : numpy.ndarray
        The payout each synthetic year realised (exact settlement).
    coverage : pandas.DataFrame
        Coverage of the 80% and 90% central intervals per method with intervals, per month end
        and pooled (``month_end`` = ``<NA>``, ``as_of`` = ``"all"``): ``coverage`` with its binomial
        standard error ``se``, the shares ``below`` (forecast too high) and ``above`` (too low),
        and ``se_years``, the standard error clustered by year (forecasts of one year are
        correlated).
    errors : pandas.DataFrame
        Error of every method's expected-value estimate relative to the realised payout, per
        month end and pooled: ``mae`` (mean of |estimate − realised| / realised) with ``mae_se``,
        ``rmse`` (root mean squared relative error), ``bias`` (mean relative error, > 0: too high)
        with ``bias_se``, and ``mae_amount`` (mean absolute error in currency).
    parameter_draws : int
        The number ``K`` of parameter draws of the model the rebatesim forecaster's scenarios
        ran under (input uncertainty; 0: the model alone).
    """

    def __init__(self, core: Any) -> None:
        self._core = core
        self._decimals = 2  # the currency's minor unit, for the files (set by backtest())
        meta = _arrow.row(core.meta())
        self.programme: str = meta["programme"]
        self.currency: str = meta["currency"]
        self.methods: List[str] = list(meta["methods"])
        self.month_ends: List[int] = list(meta["month_ends"])
        self.as_of: List[str] = list(meta["as_of"])
        self.seed: int = meta["seed"]
        self.forecast_seed: int = meta["forecast_seed"]
        self.years: int = meta["years"]
        self.has_intervals = dict(zip(self.methods, meta["has_intervals"]))
        self.parameter_draws: int = int(meta["parameter_draws"])
        self.realised: np.ndarray = _arrow.arrays(core.realised())["realised"]
        self.coverage: pd.DataFrame = self._frame(core.coverage())
        self.errors: pd.DataFrame = self._frame(core.errors())

    def _frame(self, rows: Any) -> pd.DataFrame:
        """A DataFrame of one of the core's row tables (coverage, errors, paired), with the
        as-of date of each row's month end ("all" for the pooled row)."""
        cols: Dict[str, Any] = _arrow.table(rows).to_pydict()
        df = pd.DataFrame(cols)
        dates = dict(zip(self.month_ends, self.as_of))
        df["month_end"] = pd.array(df["month_end"].tolist(), dtype="Int64")
        df.insert(cast(int, df.columns.get_loc("month_end")) + 1, "as_of",
                  [dates[m] if m is not pd.NA else "all" for m in df["month_end"]])
        return df

    def estimates(self, method: str) -> pd.DataFrame:
        """Expected-value estimates of ``method``: one row per year, one column per month end
        (labelled by its date)."""
        return pd.DataFrame(_arrow.arrays(self._core.estimates(method))["estimate"], columns=self.as_of)

    def intervals(self, method: str, level: float = 0.9) -> Optional[Tuple[pd.DataFrame, pd.DataFrame]]:
        """Lower and upper bounds of ``method``'s central interval at ``level`` (0.8 or 0.9),
        years × month ends; ``None`` for a method without intervals."""
        t = self._core.intervals(method, level)
        if t is None:
            return None
        r = _arrow.arrays(t)
        return (pd.DataFrame(r["lower"], columns=self.as_of), pd.DataFrame(r["upper"], columns=self.as_of))

    def paired(self, method: str, against: str) -> pd.DataFrame:
        """Paired comparison on the same years: per month end and pooled, the mean of
        ``|error(method)| − |error(against)|`` (relative errors; negative: ``method`` is more
        accurate) with its standard error over years, and the share of forecasts where
        ``method`` was closer (``wins``)."""
        return self._frame(self._core.paired(method, against))

    def table(self) -> pd.DataFrame:
        """The comparison table as a DataFrame: one row per month end (index ``as_of``, its date)
        and a last row pooling them (``as_of`` = ``"all"``, ``month_end`` = ``<NA>``). Columns, as
        fractions (0.052 is 5.2%):

        - ``month_end``: the programme month after which the forecasts were made (Int64);
        - ``<method>_mae``, ``<method>_mae_se``: every method's mean absolute error of the
          expected-value estimate, relative to the realised payout (:attr:`errors`' ``mae``),
          with its standard error;
        - ``<method>_cover_80``, ``<method>_cover_80_se``, ``<method>_cover_90``,
          ``<method>_cover_90_se``, for the methods with intervals: the share of years whose
          payout fell inside the 80% / 90% interval (:attr:`coverage`' ``coverage``), with the
          larger of its binomial and year-clustered standard errors.

        :meth:`to_markdown` renders it (percent, ± SE) as the CLI prints it and writes
        ``table.md``."""
        labels = list(self.as_of) + ["all"]
        out = pd.DataFrame(index=pd.Index(labels, name="as_of"))
        out["month_end"] = pd.array(list(self.month_ends) + [pd.NA], dtype="Int64")
        err, cov = self.errors, self.coverage
        for method in self.methods:
            e = err[err["method"] == method].set_index("as_of").reindex(labels)
            out[f"{method}_mae"] = e["mae"].to_numpy(dtype=float)
            out[f"{method}_mae_se"] = e["mae_se"].to_numpy(dtype=float)
            if not self.has_intervals[method]:
                continue
            for level in (0.8, 0.9):
                c = cov[(cov["method"] == method) & (cov["level"] == level)].set_index("as_of").reindex(labels)
                name = f"{method}_cover_{round(100 * level)}"
                out[name] = c["coverage"].to_numpy(dtype=float)
                # the larger standard error, a NaN one ignored (as the Markdown table takes it)
                out[f"{name}_se"] = np.fmax(c["se_years"].to_numpy(dtype=float), c["se"].to_numpy(dtype=float))
        return out

    def to_markdown(self) -> str:
        """:meth:`table` as a Markdown table, in percent with ± one standard error (as
        ``rebatesim backtest`` prints it and writes ``table.md``)."""
        table: str = self._core.table()
        return table

    def _repr_markdown_(self) -> str:
        return (f"**Backtest of {self.programme}**: {self.years} synthetic years, "
                f"forecasts at {len(self.month_ends)} month ends\n\n" + self.to_markdown())

    def __repr__(self) -> str:
        return (f"BacktestResult({self.programme!r}, years={self.years}, methods={self.methods}, "
                f"month_ends={self.month_ends})")


def backtest(
    programme: Any,
    population: Any,
    model: Any = None,
    *,
    years: int = 500,
    scenarios: int = 200,
    seed: int = 1,
    forecast_seed: Optional[int] = None,
    forecaster: str = "forecast",
    month_ends: Optional[Sequence[int]] = None,
    threads: Optional[int] = None,
    progress: Any = True,
    executor: Any = None,
    parameter_uncertainty: Any = None,
) -> BacktestResult:
    """Backtest rebatesim's payout forecast against the market's methods on synthetic years.

    Year ``y`` is scenario ``y`` of the engine run with ``seed`` (the truth), settled exactly.
    After each month in ``month_ends`` (default: every month end but the last), each method
    estimates the year's final payout from the actuals to date:

    - ``forecaster``: ``"forecast"`` (default) is :func:`rebatesim.forecast` from the actuals to
      date; ``"prior"`` simulates the whole year before it starts, ignoring the actuals (its
      intervals cover at nominal rates by construction: a check of the harness). Either runs
      ``scenarios`` scenarios per forecast, seeded per year independently of the truth; the
      expected value is the mean and the intervals the P10–P90 and P5–P95 of the simulated
      final payouts;
    - ``current_tier``: each partner's tier reached to date applied to its expected full-year
      volume (actuals + last year's months × the growth goal for the rest), settled exactly;
    - ``run_rate``: actuals to date × months / months elapsed (each partner's mean month to date
      repeated), settled exactly;
    - ``seasonal_naive``: actuals to date + last year's months (baseline × seasonality share)
      × (1 + growth goal) for the remaining months, settled exactly.

    Results are bit-identical for any ``threads``. ``progress``: a tqdm bar (True), nothing
    (False) or ``progress(years_done, years)``. ``executor``: any ``concurrent.futures``
    executor (a ProcessPoolExecutor, a Dask ``Client.get_executor()``): the years are cut into
    ranges run on its workers and put back in year order, bit-identical to a local run
    (``docs/scale-out.md``).

    ``parameter_uncertainty`` (input uncertainty) as in :func:`~rebatesim.forecast`: by
    default a :class:`~rebatesim.Calibration`'s parameter draws (or the ``draws/`` folder
    beside a model file); ``False`` none; a list of models or a folder of ``draw_*.toml``
    files, those. The rebatesim forecaster (``forecast`` or ``prior``) then runs each
    forecast's scenarios under one draw each, picked by (the forecast's seed, scenario), so
    its intervals include what the history could not pin down; the synthetic years are
    still drawn from ``model`` alone (the truth does not change), and the market's methods
    do not use the draws. :attr:`BacktestResult.parameter_draws` says how many there were.

    ``programme``: Programme, dict or path; ``population``: Population, DataFrame or CSV path;
    ``model``: Model, dict, path, a :class:`~rebatesim.Calibration` or None.
    """
    prog = as_programme(programme)
    pop = as_population(population)
    given, draws = _draws.resolve(model, parameter_uncertainty)
    mod = as_model(given)
    n_years = _checks.whole_number("years", years, 1, _checks.MAX_YEARS)
    n_scenarios, truth_seed = _checks.scenarios(scenarios), _checks.seed(seed)
    seed_of_forecasts = None if forecast_seed is None else _checks.seed(forecast_seed, "forecast_seed")
    method = _checks.text("forecaster", forecaster)
    ends, n_threads = _checks.month_ends(month_ends), _checks.threads(threads)
    options: Dict[str, Any] = dict(years=n_years, scenarios=n_scenarios, seed=truth_seed,
                                   forecast_seed=seed_of_forecasts, forecaster=method, month_ends=ends,
                                   threads=n_threads)
    ex = _executor.check(executor)
    if ex is not None:
        core = with_progress(progress, f"backtest {prog.name}", lambda callback: _executor.backtest(
            ex, prog, pop, mod, options, callback, draws))
    else:
        core = with_progress(progress, f"backtest {prog.name}", lambda callback: _core.backtest(
            prog._spec, pop._core, mod._core, progress=callback, draws=[d._core for d in draws] or None,
            **options))
    out = BacktestResult(core)
    out._decimals = prog.decimals
    return out
