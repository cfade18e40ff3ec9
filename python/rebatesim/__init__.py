"""rebatesim: design, simulate and budget B2B volume-incentive rebate programmes.

An exact settlement engine (to the cent, with explanations a partner would
accept) and a Monte Carlo engine of partner purchasing, in Rust, driven from
Python.

>>> import rebatesim as rs
>>> programme = rs.Programme.from_file(rs.example_path("programme.toml"))
>>> programme.currency
'EUR'
"""

# Re-exports only: every name below is defined in a module of its own (each module opens
# with what it is for). No ``from __future__ import annotations`` here: it would put the name
# ``annotations`` into the ``rebatesim`` namespace. The modules are named apart from the functions they hold
# (forecasting.forecast, sensitivities.sensitivity, backtesting.backtest), so that
# ``rebatesim.forecast`` is always the function and ``rebatesim.forecasting`` the module.
from . import charts, manifest, outputs, report
from ._examples import example_path, example_population, examples
from ._version import __version__
from .backtesting import BacktestResult, backtest
from .calibration import Calibration, calibrate
from .charts import Chart
from .comparison import Comparison, compare
from .demand import Model, Population
from .design_search import SearchResult, search
from .exceptions import (
    DataError,
    FieldProblem,
    FileError,
    ModelError,
    ProgrammeError,
    RebatesimError,
    RequestError,
    SearchSpaceError,
)
from .forecasting import Estimates, Forecast, forecast, load_prior_accruals
from .gl import GLMapping, load_gl_mapping
from .programme import Programme, bundle, growth, logistics, per_unit, tier, volume
from .report import Report, comparison_report, simulation_report
from .sensitivities import Sensitivity, sensitivity
from .sensitivities import parameters as sensitivity_parameters
from .settlement import Settlement, load_partners, load_transactions, settle
from .simulation import SimulationResult, simulate

__all__ = [
    "charts",
    "Chart",
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
    "simulate",
    "compare",
    "forecast",
    "Forecast",
    "Estimates",
    "load_prior_accruals",
    "GLMapping",
    "load_gl_mapping",
    "manifest",
    "sensitivity",
    "sensitivity_parameters",
    "search",
    "SearchResult",
    "backtest",
    "BacktestResult",
    "calibrate",
    "Calibration",
    "Sensitivity",
    "Model",
    "Population",
    "SimulationResult",
    "Comparison",
    "report",
    "outputs",
    "Report",
    "simulation_report",
    "comparison_report",
    "example_path",
    "examples",
    "example_population",
    "RebatesimError",
    "ProgrammeError",
    "ModelError",
    "DataError",
    "RequestError",
    "SearchSpaceError",
    "FileError",
    "FieldProblem",
]
