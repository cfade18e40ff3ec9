"""Input uncertainty: which parameter draws of the demand model a simulation runs under.

A calibrated model is an estimate. Its ``K`` parameter draws (:meth:`Calibration.draws`,
``draws/draw_NNNN.toml`` of a calibration folder) spread like the estimators' sampling
distributions; with them, each scenario runs under one draw picked by (seed, scenario), so
the payout's spread includes what the history could not pin down (``docs/simulation.md``,
"Input uncertainty"). This module decides the draws from what the user gave
(:func:`resolve`) and turns the core's variance split into a table (:func:`variance_table`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

import pandas as pd

from . import _arrow
from .demand import Model
from .exceptions import RequestError

__all__: List[str] = []

#: Columns of :func:`variance_table`.
VARIANCE_COLUMNS = ["n", "draws", "total_variance", "within_variance", "parameter_share", "parameter_share_se"]


def _is_calibration(x: Any) -> bool:
    from .calibration import Calibration

    return isinstance(x, Calibration)


def _draw_files(folder: Path) -> List[Path]:
    files = sorted(folder.glob("draw_*.toml"))
    return files or sorted(folder.glob("*.toml"))


def _beside(model: Any) -> List[Path]:
    """The draw files of a calibration folder holding the model file ``model`` (its
    ``draws/`` folder, as ``rebatesim calibrate --out`` writes it), if any."""
    if not isinstance(model, (str, os.PathLike)):
        return []
    folder = Path(os.fspath(model)).parent / "draws"
    return _draw_files(folder) if folder.is_dir() else []


def from_command_line(model: Optional[str], option: Optional[str]) -> Any:
    """The ``parameter_uncertainty`` of a command's ``--model`` and ``--parameter-draws``
    (``off``, a folder, or by default the draws beside the model file)."""
    if option is None:
        return _beside(model) or None
    if option.strip().lower() == "off":
        return False
    folder = Path(option)
    if not folder.is_dir() or not _draw_files(folder):
        raise RequestError(f"--parameter-draws: {option} is not a folder of draw_*.toml model files "
                           "(the draws/ folder `rebatesim calibrate --out` writes), nor 'off'")
    return option


def summary_line(table: Optional[pd.DataFrame]) -> Optional[str]:
    """One line for a report or the command line on a run's :func:`variance_table`."""
    if table is None or "payout" not in table.index:
        return None
    k = int(table.attrs.get("parameter_draws", 0))
    share, se = (float(x) for x in table.loc["payout", ["parameter_share", "parameter_share_se"]].to_numpy(float))
    if pd.isna(share):
        return (f"Input uncertainty: {k} parameter draws (too few scenarios, or too little variation, to split "
                "the payout's variance).")
    spread = "" if pd.isna(se) else f" ± {100 * se:.0f}"
    return (f"Input uncertainty: {k} parameter draws; {100 * share:.0f}%{spread} of the payout's variance comes "
            "from the parameters, the rest from demand given them.")


def _as_draw(k: int, d: Any) -> Model:
    if isinstance(d, Model):
        return d
    if isinstance(d, Mapping):
        return Model.from_dict(d)
    if isinstance(d, (str, os.PathLike)):
        return Model.from_file(d)
    raise RequestError(f"parameter_uncertainty[{k}]: expected a Model, a dict or a model file path, "
                       f"found {type(d).__name__}")


def resolve(model: Any, parameter_uncertainty: Any) -> Tuple[Any, List[Model]]:
    """``(model, draws)``: the model argument to run (a :class:`Calibration` becomes its
    model) and the parameter draws to run under.

    ``parameter_uncertainty``: ``None`` (the default) uses the draws that come with the model
    (a :class:`Calibration`, or a model file with a ``draws/`` folder beside it) and none
    otherwise; ``False`` none; ``True`` the model's draws (an error when it has none); a
    list of Models, dicts or model files, or a folder of ``draw_*.toml`` files, those.
    """
    own: Any = []
    if _is_calibration(model):
        own, model = model.draws, model.model
    else:
        own = _beside(model)
    if parameter_uncertainty is None or parameter_uncertainty is True:
        if parameter_uncertainty is True and not own:
            raise RequestError(
                "parameter_uncertainty=True: the model has no parameter draws; pass a Calibration as "
                "the model, a model file with the draws/ folder `rebatesim calibrate --out` writes beside "
                "it, or the draws themselves (a list of models or a folder of draw_*.toml files)")
        chosen: Sequence[Any] = own
    elif parameter_uncertainty is False:
        chosen = []
    elif isinstance(parameter_uncertainty, (str, os.PathLike)):
        folder = Path(os.fspath(parameter_uncertainty))
        if not folder.is_dir():
            raise RequestError(f"parameter_uncertainty: {folder} is not a folder of draw_*.toml model files")
        chosen = _draw_files(folder)
        if not chosen:
            raise RequestError(f"parameter_uncertainty: no .toml model file in {folder}")
    elif isinstance(parameter_uncertainty, Sequence):
        if len(parameter_uncertainty) == 0:
            raise RequestError("parameter_uncertainty: an empty list of draws (use False for none)")
        chosen = parameter_uncertainty
    else:
        raise RequestError("parameter_uncertainty: expected None, True, False, a list of models or a folder "
                           f"of draw files, found {type(parameter_uncertainty).__name__}")
    return model, [_as_draw(k, d) for k, d in enumerate(chosen)]


def for_population(draws: List[Model], population: Any, restrict: Callable[[Model, Any], Model]) -> List[Model]:
    """The draws without settings for segments the population lacks (``restrict``: the
    run's ``model_for_population``), quietly: the model itself has warned about each such
    setting once, and every draw has the same ones."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [restrict(d, population) for d in draws]


def variance_table(core: Any, design: Optional[int] = None) -> Optional[pd.DataFrame]:
    """Per per-scenario outcome, how much of its variance parameter uncertainty adds (the
    core's ``parameter_variance`` table of a ``_core.SimResult``, or of design ``design`` of a
    ``_core.ComparisonResult``; columns :data:`VARIANCE_COLUMNS`, the run's number of draws in
    ``attrs["parameter_draws"]``), or None for a run without parameter draws."""
    at = () if design is None else (design,)
    raw = _arrow.frame(core.parameter_variance(*at), integers=("n", "draws"))
    if raw.empty:
        return None
    table = raw.set_index("outcome")
    k = int(table.pop("parameter_draws").iloc[0])
    table = table[VARIANCE_COLUMNS].astype({"n": "Int64", "draws": "Int64"})
    table.attrs["parameter_draws"] = k
    return table
