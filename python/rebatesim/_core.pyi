"""Type stubs of the compiled extension ``rebatesim._core`` (kept by hand;
``python -m mypy.stubtest rebatesim._core`` checks them against the module)."""

from typing import Any, Callable, Literal, Optional, Protocol, TypedDict, Union, final

import numpy as np
import os

__all__ = [
    "__version__",
    "ProgrammeSpec",
    "PartnerTable",
    "TransactionTable",
    "SettlementResult",
    "settle",
    "control_totals",
    "Population",
    "DemandModel",
    "SimResult",
    "ComparisonResult",
    "simulate",
    "compare",
    "outcomes",
    "sensitivity",
    "SensitivityResult",
    "sensitivity_parameters",
    "cumulative_bands",
    "Backtest",
    "backtest",
    "Chart",
    "payout_distribution_chart",
    "design_comparison_chart",
    "tier_attainment_chart",
    "accrual_fan_chart",
    "risk_return_chart",
    "tornado_chart",
    "PriorAccruals",
    "ForecastResult",
    "forecast",
    "CalibrationResult",
    "calibrate",
    "population_to_bytes",
    "population_from_bytes",
    "simulate_shard",
    "merge_shards",
    "merge_comparison",
    "shard_columns",
    "sensitivity_models",
    "sensitivity_draws",
    "sensitivity_merge",
    "backtest_years",
    "backtest_concat",
    "transactions_to_bytes",
    "transactions_from_bytes",
    "prior_accruals_to_bytes",
    "prior_accruals_from_bytes",
    "forecast_shard",
    "forecast_merge",
    "SearchSpace",
    "clopper_pearson_upper",
    "pareto_chart",
    "transactions_from_arrow",
    "partners_from_arrow",
    "transactions_from_parquet",
    "partners_from_parquet",
]

__version__: str

@final
class ProgrammeSpec:
    """A programme read from a file or text, always validated."""

    @staticmethod
    def from_text(text: str, format: str, file: Optional[str] = None, positions: bool = True) -> ProgrammeSpec: ...
    @staticmethod
    def from_file(path: Union[str, os.PathLike[str]]) -> ProgrammeSpec: ...
    def to_text(self, format: str) -> str: ...
    def validate(self) -> None: ...
    def describe(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def currency(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class PartnerTable:
    """A partner table (partner_id, segment, baseline_revenue, baseline_units)."""

    @staticmethod
    def from_csv_path(path: Union[str, os.PathLike[str]]) -> PartnerTable: ...
    @staticmethod
    def from_csv_text(text: str, table: str) -> PartnerTable: ...
    def __len__(self) -> int: ...

@final
class TransactionTable:
    """A transaction table (partner_id, date, quantity, revenue, category, order_id)."""

    @staticmethod
    def from_csv_path(path: Union[str, os.PathLike[str]]) -> TransactionTable: ...
    @staticmethod
    def from_csv_text(text: str, table: str) -> TransactionTable: ...
    def __len__(self) -> int: ...

class _ArrowTable(Protocol):
    """An Arrow table built in the core (an ``arro3`` Table): anything that reads the Arrow
    C stream interface takes it (``pyarrow.table``, ``polars.DataFrame``, DuckDB)."""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def __len__(self) -> int: ...
def control_totals(data: bytes, columns: list[str]) -> tuple[int, list[tuple[str, Optional[str]]]]: ...
def transactions_from_arrow(stream: object, table: str, programme: Optional[ProgrammeSpec] = None,
                            strict: bool = False) -> TransactionTable:
    """Transactions from an Arrow C stream capsule (``obj.__arrow_c_stream__()``)."""

def partners_from_arrow(stream: object, table: str, programme: Optional[ProgrammeSpec] = None,
                        strict: bool = False) -> PartnerTable:
    """A partner table from an Arrow C stream capsule."""

def transactions_from_parquet(path: Union[str, os.PathLike[str]], programme: Optional[ProgrammeSpec] = None,
                              strict: bool = False) -> TransactionTable:
    """Transactions from a Parquet file."""

def partners_from_parquet(path: Union[str, os.PathLike[str]], programme: Optional[ProgrammeSpec] = None,
                          strict: bool = False) -> PartnerTable:
    """A partner table from a Parquet file."""

@final
class SettlementResult:
    """The result of a settlement."""

    @property
    def programme(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def decimals(self) -> int: ...
    @property
    def budget_binding(self) -> bool: ...
    @property
    def partner_count(self) -> int: ...
    def __len__(self) -> int: ...
    def lines_table(self, exact: bool, explanation: bool = False) -> _ArrowTable: ...
    def partners_table(self, exact: bool) -> _ArrowTable: ...
    def standings_table(self, exact: bool) -> _ArrowTable: ...
    def totals(self) -> dict[str, str]: ...
    def by_component(self) -> list[tuple[str, str, int, str, str]]: ...
    def by_segment(self) -> list[tuple[str, int, int, str]]: ...
    def explain(self, partner_id: str) -> str: ...
    def explanations(self, rows: list[int]) -> list[str]: ...
    def lines_csv(self) -> str: ...
    def write_lines_csv(self, path: Union[str, os.PathLike[str]]) -> None: ...
    def write_lines_parquet(self, path: Union[str, os.PathLike[str]], explanation: bool = False) -> None: ...
    def partners_csv(self) -> str: ...
    def standings_csv(self) -> str: ...
    def to_json(self) -> str: ...

def settle(programme: ProgrammeSpec, partners: PartnerTable, transactions: TransactionTable) -> SettlementResult: ...

@final
class Population:
    """A partner population for simulation."""

    @staticmethod
    def from_csv_path(path: Union[str, os.PathLike[str]]) -> Population: ...
    @staticmethod
    def from_csv_text(text: str, table: str) -> Population: ...
    @staticmethod
    def synthetic(spec_json: str, seed: int) -> Population: ...
    def partner_ids(self) -> list[str]: ...
    def partner_segments(self) -> list[str]: ...
    def columns(self) -> list[tuple[str, list[Optional[float]]]]: ...
    @property
    def segments(self) -> list[str]: ...
    def __len__(self) -> int: ...

@final
class DemandModel:
    """A demand model (validated)."""

    @staticmethod
    def from_text(text: str, format: str, file: Optional[str] = None, positions: bool = True) -> DemandModel: ...
    @staticmethod
    def from_file(path: Union[str, os.PathLike[str]]) -> DemandModel: ...
    @staticmethod
    def default() -> DemandModel: ...
    def to_text(self, format: str) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...

# The outcomes and matrices of a simulation, as the core lists them
# (rebatesim::outcomes::OUTCOMES, src/outcomes.rs), in table order; tests/python/test_contract.py
# fails when these literals, the core's list, the binding's output and rebatesim's result
# tables drift apart.
_OutcomeName = Literal[
    # shape "scenario": one value per scenario (a plain column of SimResult.scenarios)
    "payout",  # money; summarised, with P(budget binds) when there is a budget
    "payout_before_budget",  # money; summarised, with P(exceeds the budget)
    "budget_binds",  # flag; summarised as the probability "budget_binding"
    "revenue",
    "revenue_counterfactual",
    "incremental_revenue",
    "incremental_margin",
    "roi",  # fraction
    "payout_counterfactual",
    "deadweight_share",  # fraction
    "stretches",  # count
    # the rest: fixed-size list columns of SimResult.scenarios, columns of SimResult.partners
    "segment_payout",  # scenarios × segments
    "segment_revenue",
    "segment_revenue_counterfactual",
    "segment_incremental_revenue",
    "segment_incremental_margin",
    "segment_payout_counterfactual",
    "segment_roi",
    "segment_deadweight_share",
    "component_payout",  # scenarios × components
    "accrual",  # scenarios × programme months
    "cash",  # scenarios × months to the last payment
    "tier_counts",  # scenarios × Σ (tiers + 1) over the ladders; count
    "partner_expected_payout",  # per partner
    "partner_expected_payout_before_budget",
    "partner_tier_probability",  # partners × Σ tiers; fraction
]
_Shape = Literal[
    "scenario",
    "scenario_by_segment",
    "scenario_by_component",
    "scenario_by_tier",
    "scenario_by_month",
    "scenario_by_cash_month",
    "partner",
    "partner_by_tier",
]
_Unit = Literal["money", "fraction", "count", "flag"]

class _Outcome(TypedDict):
    """One entry of :func:`outcomes`."""

    name: _OutcomeName
    shape: _Shape
    unit: _Unit
    summarised: bool
    description: str

def outcomes() -> list[_Outcome]:
    """Every outcome and matrix a simulation reports, as the core lists them, in table
    order: name, shape (rows are scenarios or partners; 2-D for ``*_by_*``), unit, whether
    it is summarised, description."""
    ...

@final
class SimResult:
    """The result of a simulation, as Arrow tables built in the core
    (``rebatesim::outcomes::arrow``)."""

    def meta(self) -> _ArrowTable:
        """One row: programme, currency, seed, scenarios, precision_met, budget, segments,
        components, ladders [{component, tiers}], months, cash_months."""
        ...
    def summaries(self) -> _ArrowTable:
        """(outcome, statistic, value, se) rows of the summarised outcomes."""
        ...
    def scenarios(self) -> _ArrowTable:
        """One row per scenario, a column per outcome whose shape starts with ``scenario``
        (see :func:`outcomes`), in list order; a matrix as a fixed-size list."""
        ...
    def partners(self) -> _ArrowTable:
        """One row per partner: ``partner_id``, then the outcomes of shape ``partner*``."""
        ...
    def parameter_variance(self) -> _ArrowTable:
        """Input uncertainty: per per-scenario outcome (``outcome``), ``parameter_draws`` (K),
        ``n``, ``draws``, ``total_variance``, ``within_variance``, ``parameter_share``,
        ``parameter_share_se`` (null where undefined); no rows without parameter draws."""
        ...

@final
class ComparisonResult:
    """The result of a comparison: each design's tables (as :class:`SimResult`'s) and the
    paired differences."""

    def names(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def meta(self, i: int) -> _ArrowTable: ...
    def summaries(self, i: int) -> _ArrowTable: ...
    def scenarios(self, i: int) -> _ArrowTable: ...
    def partners(self, i: int) -> _ArrowTable: ...
    def parameter_variance(self, i: int) -> _ArrowTable: ...
    def differences(self) -> _ArrowTable:
        """(reference, design, outcome, statistic, value, se) rows."""
        ...

class _RunArgs(TypedDict):
    """The run options of ``simulate``, ``compare`` and ``sensitivity``, every key present
    (``None`` for the engine's default); built by ``rebatesim.simulation._kwargs``."""

    scenarios: int
    seed: int
    threads: Optional[int]
    chunk_size: Optional[int]
    statistic: Optional[str]
    tolerance: Optional[float]
    max_scenarios: Optional[int]
    memory_limit: Optional[int]

def simulate(
    programme: ProgrammeSpec,
    population: Population,
    model: DemandModel,
    run: _RunArgs,
    progress: Optional[Callable[[int, int], Any]] = None,
    draws: Optional[list[DemandModel]] = None,
) -> SimResult: ...
def compare(
    names: list[str],
    programmes: list[ProgrammeSpec],
    population: Population,
    model: DemandModel,
    run: _RunArgs,
    progress: Optional[Callable[[int, int], Any]] = None,
    draws: Optional[list[DemandModel]] = None,
) -> ComparisonResult: ...

def sensitivity(
    programme: ProgrammeSpec,
    population: Population,
    model: DemandModel,
    assumptions: Optional[list[tuple[Any, ...]]],
    run: _RunArgs,
    progress: Optional[Callable[[int, int], Any]] = None,
    draws: Optional[list[DemandModel]] = None,
) -> SensitivityResult: ...

@final
class SensitivityResult:
    """A sensitivity analysis, as Arrow tables built in the core
    (``rebatesim::sensitivity::arrow``)."""

    def meta(self) -> _ArrowTable:
        """One row: programme, currency, seed, scenarios."""
        ...
    def assumptions(self) -> _ArrowTable:
        """One row per assumption: assumption, parameter, low_label, high_label, base_value,
        low_value, high_value."""
        ...
    def base(self) -> _ArrowTable:
        """The base run's (outcome, statistic, value, se) rows."""
        ...
    def summaries(self) -> _ArrowTable:
        """(assumption, run, outcome, statistic, value, se) rows; run is low, high,
        low_vs_base, high_vs_base or swing."""
        ...

def sensitivity_parameters() -> list[tuple[str, float, float, bool, bool, bool]]: ...
def cumulative_bands(monthly: np.ndarray) -> dict[str, np.ndarray]:
    """Bands of the cumulative sums of a scenarios × months matrix: month_mean, mean,
    p10, p25, p50, p75, p90, each with ``*_se``."""
    ...

# Charts (src/python/charts.rs); the public API is rebatesim.charts.

@final
class Chart:
    """A chart drawn by the Rust core (see ``rebatesim.charts.Chart``)."""

    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def size(self) -> tuple[int, int]: ...
    def to_svg(self) -> str: ...
    def to_png(self, scale: float = 1.0) -> bytes: ...
    def save(self, path: Union[str, os.PathLike[str]], scale: float = 1.0) -> None: ...

def payout_distribution_chart(
    title: str, currency: str, payouts: Any, budget: Optional[float] = None, subtitle: Optional[str] = None,
    width: int = 960, height: int = 540,
) -> Chart: ...
def design_comparison_chart(
    title: str, currency: str, names: list[str], payouts: list[Any], rois: list[Optional[float]],
    budget: Optional[float] = None, subtitle: Optional[str] = None, width: int = 960, height: int = 540,
) -> Chart: ...
def tier_attainment_chart(
    title: str, tiers: list[str], segments: list[str], expected: Any, low: Any = None, high: Any = None,
    interval_label: Optional[str] = None, subtitle: Optional[str] = None, width: int = 960, height: int = 540,
) -> Chart: ...
def accrual_fan_chart(
    title: str, currency: str, months: list[str], names: list[str], values: list[Any], layouts: list[str],
    budget: Optional[float] = None, subtitle: Optional[str] = None, width: int = 960, height: int = 540,
) -> Chart: ...
def risk_return_chart(
    title: str, currency: str, measure: str, designs: list[str], p95_payouts: list[float], values: list[float],
    budget: Optional[float] = None, subtitle: Optional[str] = None, width: int = 960, height: int = 540,
    before_budget: bool = False,
) -> Chart: ...
def tornado_chart(
    title: str, output: str, unit: str, unit_name: Optional[str], base: float, assumptions: list[str],
    low_labels: list[str], high_labels: list[str], lows: list[float], highs: list[float],
    low_se: Optional[list[Optional[float]]] = None, high_se: Optional[list[Optional[float]]] = None,
    subtitle: Optional[str] = None, width: int = 960, height: int = 540,
) -> Chart: ...

# Forecasts (src/python/forecast.rs); the public API is rebatesim.forecast.

@final
class PriorAccruals:
    """Accruals booked before a forecast date (partner_id, component, amount)."""

    @staticmethod
    def from_csv_path(path: Union[str, os.PathLike[str]]) -> PriorAccruals: ...
    @staticmethod
    def from_csv_text(text: str, table: str) -> PriorAccruals: ...
    def __len__(self) -> int: ...

@final
class ForecastResult:
    """The result of a forecast (see ``rebatesim.Forecast``), as Arrow tables built in the core
    (``rebatesim::forecast::arrow``, ``rebatesim::records``)."""

    def report(self) -> _ArrowTable:
        """One row, a column per part of the report (structs and lists of structs)."""
        ...
    def parameter_draws(self) -> int:
        """The number of parameter draws the scenarios ran under (0: the model alone)."""
        ...
    def ledger(
        self, level: str, prior_accruals: Optional[PriorAccruals] = None, previous: Optional[ForecastResult] = None
    ) -> _ArrowTable: ...
    def journal_summary(self, by_segment: bool) -> _ArrowTable: ...
    def totals(self) -> _ArrowTable:
        """A row per scenario: total_payout, total_payout_before_budget."""
        ...
    def partner_payout(self, i: int) -> _ArrowTable: ...
    def component_payout(self, c: int) -> _ArrowTable: ...
    def segment_payout(self, g: int) -> _ArrowTable: ...

def forecast(
    programme: ProgrammeSpec,
    population: Population,
    model: DemandModel,
    actuals: TransactionTable,
    as_of: str,
    prior_accruals: Optional[PriorAccruals] = None,
    scenarios: int = 1000,
    seed: int = 0,
    threads: Optional[int] = None,
    confidence: float = 0.9,
    progress: Optional[Callable[[int, int], Any]] = None,
    draws: Optional[list[DemandModel]] = None,
) -> ForecastResult: ...

# Backtest (src/python/backtest.rs); the public API is rebatesim.backtest.

@final
class Backtest:
    """The result of a backtest (see ``rebatesim.BacktestResult``), as Arrow tables built in
    the core (``rebatesim::backtest::arrow``)."""

    def meta(self) -> _ArrowTable:
        """One row: programme, currency, methods, month_ends, as_of, seed, forecast_seed,
        years, has_intervals."""
        ...
    def realised(self) -> _ArrowTable: ...
    def estimates(self, method: str) -> _ArrowTable:
        """One row per year: ``estimate``, a list with one value per month end."""
        ...
    def intervals(self, method: str, level: float) -> Optional[_ArrowTable]:
        """One row per year: ``lower``, ``upper`` (lists per month end); None for a point method."""
        ...
    def coverage(self) -> _ArrowTable: ...
    def errors(self) -> _ArrowTable: ...
    def paired(self, method: str, against: str) -> _ArrowTable: ...
    def table(self) -> str:
        """The comparison table rendered as Markdown (a report, not a result transport)."""
        ...

def backtest(
    programme: ProgrammeSpec,
    population: Population,
    model: DemandModel,
    years: int = 500,
    scenarios: int = 200,
    seed: int = 1,
    forecast_seed: Optional[int] = None,
    forecaster: str = "forecast",
    month_ends: Optional[list[int]] = None,
    threads: Optional[int] = None,
    progress: Optional[Callable[[int, int], Any]] = None,
    draws: Optional[list[DemandModel]] = None,
) -> Backtest: ...

@final
class CalibrationResult:
    """The result of a calibration."""

    def model_text(self) -> str: ...
    def draw_texts(self) -> list[str]: ...
    def draw_incidence(self) -> list[dict[str, float]]: ...
    def estimates(self) -> dict[str, list[Any]]: ...
    def baseline_months(self) -> list[str]: ...
    def partners(self) -> dict[str, list[Any]]: ...
    def diagnostics(self) -> dict[str, Any]: ...
    def warnings(self) -> list[str]: ...
    def behaviour(self) -> Optional[dict[str, Any]]: ...
    def chart_svgs(self) -> list[tuple[str, str]]: ...
    def chart_pngs(self, scale: float = 1.0) -> list[tuple[str, bytes]]: ...
    def history(self) -> tuple[str, int]: ...

def calibrate(
    history: TransactionTable,
    partners: Optional[PartnerTable] = None,
    churn_silent_months: int = 6,
    min_segment_partners: int = 5,
    warn_segment_partners: int = 30,
    draws: int = 100,
    bootstrap: int = 400,
    seed: int = 1,
    programme: Optional[ProgrammeSpec] = None,
    as_of: Optional[str] = None,
) -> CalibrationResult: ...

# ---------------------------------------------------------------- scale-out (src/python/shard.rs)
def population_to_bytes(population: Population) -> bytes: ...
def population_from_bytes(data: bytes) -> Population: ...
def simulate_shard(
    programme: ProgrammeSpec, population: Population, model: DemandModel, run: _RunArgs, start: int, end: int,
    partners: bool, progress: Optional[Callable[[int, int], Any]] = None,
    draws: Optional[list[DemandModel]] = None,
) -> bytes: ...
def merge_shards(programme: ProgrammeSpec, population: Population, model: DemandModel, shards: list[bytes]) -> SimResult: ...
def merge_comparison(
    names: list[str], programmes: list[ProgrammeSpec], population: Population, model: DemandModel,
    shards: list[list[bytes]],
) -> ComparisonResult: ...
def shard_columns(data: bytes) -> dict[str, Any]: ...
def sensitivity_models(model: DemandModel, assumptions: Optional[list[tuple[Any, ...]]]) -> list[str]: ...
def sensitivity_draws(
    model: DemandModel, assumptions: Optional[list[tuple[Any, ...]]], draws: list[DemandModel],
) -> list[list[str]]: ...
def sensitivity_merge(
    programme: ProgrammeSpec, population: Population, model: DemandModel,
    assumptions: Optional[list[tuple[Any, ...]]], runs: list[list[bytes]],
) -> SensitivityResult: ...
def backtest_years(
    programme: ProgrammeSpec, population: Population, model: DemandModel, years: int, scenarios: int, seed: int,
    forecast_seed: Optional[int], forecaster: str, month_ends: Optional[list[int]], start: int, end: int,
    threads: Optional[int] = None, progress: Optional[Callable[[int, int], Any]] = None,
    draws: Optional[list[DemandModel]] = None,
) -> bytes: ...
def backtest_concat(parts: list[bytes]) -> Backtest: ...
def transactions_to_bytes(table: TransactionTable) -> bytes: ...
def transactions_from_bytes(data: bytes) -> TransactionTable: ...
def prior_accruals_to_bytes(table: PriorAccruals) -> bytes: ...
def prior_accruals_from_bytes(data: bytes) -> PriorAccruals: ...
def forecast_shard(
    programme: ProgrammeSpec, population: Population, model: DemandModel, actuals: TransactionTable, as_of: str,
    prior_accruals: Optional[PriorAccruals], scenarios: int, seed: int, threads: Optional[int], confidence: float,
    start: int, end: int, progress: Optional[Callable[[int, int], Any]] = None,
    draws: Optional[list[DemandModel]] = None,
) -> bytes: ...
def forecast_merge(
    programme: ProgrammeSpec, population: Population, model: DemandModel, actuals: TransactionTable, as_of: str,
    prior_accruals: Optional[PriorAccruals], scenarios: int, seed: int, threads: Optional[int], confidence: float,
    shards: list[bytes], draws: Optional[list[DemandModel]] = None,
) -> ForecastResult: ...

# ---------------------------------------------------------------- design search (src/python/search.rs)
@final
class SearchSpace:
    """A search space checked against a programme template."""

    @staticmethod
    def from_text(text: str, format: str, template: ProgrammeSpec, file: Optional[str] = None) -> SearchSpace: ...
    def fields(self) -> list[str]: ...
    def levels(self) -> list[list[str]]: ...
    def current(self) -> list[Optional[int]]: ...
    @property
    def description(self) -> Optional[str]: ...
    def candidate(self, index: list[int]) -> tuple[Optional[ProgrammeSpec], Optional[str]]: ...

def clopper_pearson_upper(k: int, n: int, confidence: float) -> float: ...
def pareto_chart(
    title: str, currency: str, objective: str, money: bool, risk: list[float], value: list[float], front: list[bool],
    current: Optional[tuple[float, float]] = None, chosen: Optional[tuple[float, float]] = None,
    budget: Optional[float] = None, subtitle: Optional[str] = None, width: int = 960, height: int = 540,
) -> Chart: ...
